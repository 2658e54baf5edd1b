//! `--client`: which profiles the host's verdict and `--fail-on` consider.
//!
//! The verdicts of every profile are facts and are always written (`clients` in JSON Lines,
//! `clients_failing` in CSV). The selection changes only how the findings that depend on the
//! client are judged ([`judge`]):
//!
//! - a client-specific finding ([`CLIENT_SPECIFIC`]) whose every selected profile is proven to
//!   connect (verdict `yes`) is lowered to `info`: it hurts only clients nobody selected;
//! - a selected profile whose verdict is `no`, on a host with no failing finding that already
//!   says so, gives `client-fails`, so a host that fails only Windows 7 passes by default and
//!   fails the run with `--client win7` added.
//!
//! `unknown` never lowers a finding: only a proven `yes` does.

use super::{PROFILES, verdicts};
use crate::finding::{Finding, FindingCode as C, Severity};
use crate::model::{ClientVerdict, Connects, ProbeRecord};

// One bit per PROFILES row.
const _: () = assert!(PROFILES.len() <= 32);

/// A set of profiles (bits in `PROFILES` order). `Default` is mstsc on Windows 11 and 10.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selection(u32);

/// A `--client` value that names no profile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "--client {given:?} is not a client profile; use one of {} (repeat --client, or comma-separate RDPSWEEP_CLIENT; docs/clients.md)",
    valid_ids()
)]
pub struct UnknownClient {
    pub given: String,
}

/// The valid ids, comma-separated, in table order.
pub fn valid_ids() -> String {
    PROFILES.iter().map(|p| p.id).collect::<Vec<_>>().join(", ")
}

impl Default for Selection {
    fn default() -> Self {
        Selection::windows()
    }
}

impl Selection {
    /// The profiles marked `default_selected` in the table: mstsc on the supported Windows
    /// versions (11 and 10).
    pub fn windows() -> Selection {
        Selection::from_fn(|i| PROFILES.get(i).is_some_and(|p| p.default_selected))
    }

    fn from_fn(f: impl Fn(usize) -> bool) -> Selection {
        Selection(
            (0..PROFILES.len())
                .filter(|i| f(*i))
                .fold(0, |m, i| m | (1 << i)),
        )
    }

    /// The `--client` values (ids, case-insensitive); none given: [`Selection::default`].
    pub fn parse<S: AsRef<str>>(ids: &[S]) -> Result<Selection, UnknownClient> {
        if ids.is_empty() {
            return Ok(Selection::default());
        }
        let mut m = 0u32;
        for given in ids {
            let id = given.as_ref().trim();
            let i = PROFILES
                .iter()
                .position(|p| p.id.eq_ignore_ascii_case(id))
                .ok_or_else(|| UnknownClient {
                    given: given.as_ref().to_string(),
                })?;
            m |= 1 << i;
        }
        Ok(Selection(m))
    }

    pub fn contains(self, id: &str) -> bool {
        PROFILES
            .iter()
            .position(|p| p.id == id)
            .is_some_and(|i| self.0 & (1 << i) != 0)
    }

    /// The selected ids in table order.
    pub fn ids(self) -> Vec<&'static str> {
        PROFILES
            .iter()
            .filter(|p| self.contains(p.id))
            .map(|p| p.id)
            .collect()
    }
}

/// Findings that hold only for some clients: a TLS suite list Schannel misses, TLS 1.0/1.1
/// only, FIPS-only standard RDP security, and an unpatched CredSSP (the encryption oracle
/// remediation only patched Windows clients enforce).
pub const CLIENT_SPECIFIC: &[C] = &[
    C::SchannelSuitesMismatch,
    C::TlsLegacyOnly,
    C::RdpFipsOnly,
    C::CredsspUnpatched,
];

/// Adjusts `findings` (before ranking) to the selected profiles; see the module comment.
pub fn judge(r: &ProbeRecord, sel: Selection, findings: &mut Vec<Finding>) {
    let all = verdicts(r);
    let chosen: Vec<&ClientVerdict> = all.iter().filter(|v| sel.contains(&v.profile)).collect();
    if chosen.is_empty() {
        // Nothing known about the selected clients: the findings stand as the probe made them.
        return;
    }
    let names = chosen
        .iter()
        .map(|v| v.profile.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    if chosen.iter().all(|v| v.connects == Connects::Yes) {
        for f in findings
            .iter_mut()
            .filter(|f| CLIENT_SPECIFIC.contains(&f.code) && f.severity > Severity::Info)
        {
            f.severity = Severity::Info;
            f.detail = format!(
                "{} (info only: every selected client connects: {names})",
                f.detail
            );
        }
    }
    let failing: Vec<String> = chosen
        .iter()
        .filter(|v| v.connects == Connects::No)
        .map(|v| format!("{}: {}", v.profile, v.reason))
        .collect();
    let explained = findings.iter().any(|f| f.severity == Severity::Fail);
    if !failing.is_empty() && !explained {
        findings.push(crate::diagnose::finding_for(
            C::ClientFails,
            failing.join("; "),
        ));
    }
}
