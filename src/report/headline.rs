//! The counts a person reads first, shared by the HTML header, the terminal summary and the
//! metrics: endpoints (host, port) by the severity of their verdict. A host whose verdict is
//! `ok` is healthy whatever info notes it carries (`tls-required`, `nla-required`): counting by
//! the worst finding instead would call a fleet of healthy hosts "0 OK". A host with several
//! addresses takes its worst row; rows from the baseline that are gone are not counted.

use std::collections::HashMap;

use crate::model::{Change, FindingCode, HostReport, Severity, TargetInfo};

/// Host and port, normalised: a host counts once, whatever its addresses.
pub type HostKey = (String, u16);

pub fn host_key(t: &TargetInfo) -> HostKey {
    (
        t.host.trim().trim_end_matches('.').to_ascii_lowercase(),
        t.port,
    )
}

/// The severity of the row's verdict: `ok` for a healthy row, even with info notes.
pub fn verdict_severity(r: &HostReport) -> Severity {
    if r.verdict == FindingCode::Ok {
        Severity::Ok
    } else {
        r.severity
    }
}

/// Hosts by verdict severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub hosts: u64,
    pub fail: u64,
    pub warn: u64,
    pub healthy: u64,
    /// Healthy hosts that carry info notes (included in `healthy`).
    pub healthy_with_notes: u64,
}

/// Whether this row's host can have other rows: a name that resolved to several addresses
/// gets one row per address (`probe_target`); every other target gets exactly one row, and the
/// inventory gives each host key one target. Only such hosts are kept by key until the end, so
/// the tallies stay flat for a sweep of addresses (none of whose hosts has a second row).
pub fn multi_row(r: &HostReport) -> bool {
    let dns = &r.record.dns;
    dns.status.resolved() && dns.addresses.len() > 1
}

/// Hosts by verdict severity. Memory: the counts, plus one entry per host with several
/// addresses (see [`multi_row`]); a one-row host is counted as it arrives and forgotten.
#[derive(Debug, Clone, Default)]
pub struct Headline {
    /// Hosts counted as they arrived (one row each).
    done: Counts,
    /// Hosts with several rows -> (worst verdict severity, some row has info notes).
    multi: HashMap<HostKey, (Severity, bool)>,
}

impl Headline {
    pub fn add(&mut self, r: &HostReport) {
        if r.change == Some(Change::Gone) {
            return;
        }
        let (sev, notes) = (verdict_severity(r), r.severity == Severity::Info);
        // A one-row host joins a kept entry only when one exists (rows merged from scans whose
        // DNS answers differed): no key is built for the common case.
        let key = (multi_row(r) || !self.multi.is_empty()).then(|| host_key(&r.record.target));
        match key {
            Some(k) if multi_row(r) || self.multi.contains_key(&k) => {
                let e = self.multi.entry(k).or_insert((Severity::Ok, false));
                e.0 = e.0.max(sev);
                e.1 |= notes;
            }
            _ => fold(&mut self.done, sev, notes),
        }
    }

    pub fn counts(&self) -> Counts {
        let mut c = self.done;
        for (sev, notes) in self.multi.values() {
            fold(&mut c, *sev, *notes);
        }
        c
    }

    /// Distinct hosts (not rows) counted so far.
    pub fn hosts(&self) -> u64 {
        self.done.hosts + self.multi.len() as u64
    }
}

/// Count one host whose worst verdict severity is `sev`.
fn fold(c: &mut Counts, sev: Severity, notes: bool) {
    c.hosts += 1;
    match sev {
        Severity::Fail => c.fail += 1,
        Severity::Warn => c.warn += 1,
        // A verdict is never `info` (diagnose puts `ok` first then); count it healthy.
        Severity::Ok | Severity::Info => {
            c.healthy += 1;
            if notes {
                c.healthy_with_notes += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DnsOutcome, DnsStatus, ProbeRecord};

    fn rep(host: &str, verdict: FindingCode, sev: Severity, notes: bool) -> HostReport {
        let rec = ProbeRecord::new(
            TargetInfo {
                host: host.into(),
                port: 3389,
                ..Default::default()
            },
            DnsOutcome::status(DnsStatus::Resolved),
            "2026-03-01T00:00:00Z".into(),
        );
        HostReport {
            record: rec,
            verdict,
            // Info notes raise the row's worst severity, not its verdict.
            severity: if notes { sev.max(Severity::Info) } else { sev },
            findings: vec![],
            clients: Vec::new(),
            change: None,
            first_seen_failing: None,
            run: None,
        }
    }

    /// A row of a name that resolved to two addresses (so the host has two rows).
    fn two_addresses(mut r: HostReport) -> HostReport {
        r.record.dns.addresses = vec!["192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap()];
        r
    }

    #[test]
    fn healthy_hosts_with_notes_are_healthy_and_a_host_takes_its_worst_row() {
        let mut h = Headline::default();
        h.add(&rep("a.example", FindingCode::Ok, Severity::Ok, true));
        h.add(&rep("b.example", FindingCode::Ok, Severity::Ok, false));
        h.add(&two_addresses(rep(
            "c.example",
            FindingCode::TcpError,
            Severity::Fail,
            false,
        )));
        // Same host, second address, healthy: the host stays failing.
        h.add(&two_addresses(rep(
            "C.example.",
            FindingCode::Ok,
            Severity::Ok,
            true,
        )));
        h.add(&rep(
            "d.example",
            FindingCode::CertExpired,
            Severity::Warn,
            false,
        ));
        let mut gone = rep("e.example", FindingCode::TcpError, Severity::Fail, false);
        gone.change = Some(Change::Gone);
        h.add(&gone);
        assert_eq!(
            h.counts(),
            Counts {
                hosts: 4,
                fail: 1,
                warn: 1,
                healthy: 2,
                healthy_with_notes: 1
            }
        );
    }

    #[test]
    fn one_row_hosts_are_counted_at_once_and_merged_scans_still_count_a_host_once() {
        let mut h = Headline::default();
        for i in 0..1000 {
            h.add(&rep(
                &format!("10.0.{}.{}", i / 256, i % 256),
                FindingCode::Ok,
                Severity::Ok,
                false,
            ));
        }
        // Flat: nothing is kept by key for hosts with one row.
        assert!(h.multi.is_empty());
        assert_eq!(h.hosts(), 1000);
        // A merge of two scans whose answers differed: x has rows a, b from one and c (with
        // two addresses again) from the other; a one-row answer from a third joins too.
        h.add(&two_addresses(rep(
            "x.example",
            FindingCode::Ok,
            Severity::Ok,
            false,
        )));
        h.add(&two_addresses(rep(
            "x.example",
            FindingCode::Ok,
            Severity::Ok,
            false,
        )));
        h.add(&two_addresses(rep(
            "X.example",
            FindingCode::TcpError,
            Severity::Fail,
            false,
        )));
        h.add(&rep("x.example", FindingCode::Ok, Severity::Ok, true));
        let c = h.counts();
        assert_eq!((c.hosts, c.fail, c.healthy), (1001, 1, 1000));
    }
}
