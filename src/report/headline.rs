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

#[derive(Debug, Clone, Default)]
pub struct Headline {
    /// Host -> (worst verdict severity, some row has info notes).
    hosts: HashMap<HostKey, (Severity, bool)>,
}

impl Headline {
    pub fn add(&mut self, r: &HostReport) {
        if r.change == Some(Change::Gone) {
            return;
        }
        let e = self
            .hosts
            .entry(host_key(&r.record.target))
            .or_insert((Severity::Ok, false));
        e.0 = e.0.max(verdict_severity(r));
        e.1 |= r.severity == Severity::Info;
    }

    pub fn counts(&self) -> Counts {
        let mut c = Counts {
            hosts: self.hosts.len() as u64,
            ..Counts::default()
        };
        for (sev, notes) in self.hosts.values() {
            match sev {
                Severity::Fail => c.fail += 1,
                Severity::Warn => c.warn += 1,
                // A verdict is never `info` (diagnose puts `ok` first then); count it healthy.
                Severity::Ok | Severity::Info => {
                    c.healthy += 1;
                    if *notes {
                        c.healthy_with_notes += 1;
                    }
                }
            }
        }
        c
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

    #[test]
    fn healthy_hosts_with_notes_are_healthy_and_a_host_takes_its_worst_row() {
        let mut h = Headline::default();
        h.add(&rep("a.example", FindingCode::Ok, Severity::Ok, true));
        h.add(&rep("b.example", FindingCode::Ok, Severity::Ok, false));
        h.add(&rep(
            "c.example",
            FindingCode::TcpError,
            Severity::Fail,
            false,
        ));
        // Same host, second address, healthy: the host stays failing.
        h.add(&rep("C.example.", FindingCode::Ok, Severity::Ok, true));
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
}
