//! What the page's header shows, tallied row by row: rows per severity and verdict, the
//! causes ranked by hosts hit, the certificate expiry horizon and the changes since the
//! baseline. Gone rows (from the baseline) count only as changes, never as scanned.

use std::collections::{HashMap, HashSet};

use super::view::sev_idx;
use super::{HORIZON, LIST_CAP, clip};
use crate::model::{Change, FindingCode, HostReport, Severity};

/// Host and port, normalised: a cause counts each endpoint once, whatever its addresses.
pub(super) type HostKey = (String, u16);

pub(super) struct Cause {
    pub(super) severity: Severity,
    pub(super) hosts: HashSet<HostKey>,
}

pub(super) struct CertLine {
    pub(super) host: String,
    pub(super) port: u16,
    pub(super) address: String,
    pub(super) days: i64,
    pub(super) not_after: String,
    pub(super) subject: String,
}

pub(super) struct ChangeLine {
    pub(super) host: String,
    pub(super) port: u16,
    pub(super) address: String,
    pub(super) verdict: String,
    pub(super) severity: Severity,
    pub(super) since: String,
}

#[derive(Default)]
pub(super) struct Tally {
    pub(super) hosts: HashSet<HostKey>,
    pub(super) scanned_rows: u64,
    /// Rows per severity, indexed by `sev_idx`.
    pub(super) sev_rows: [u64; 4],
    /// Verdict -> (rows, worst severity).
    pub(super) verdicts: HashMap<FindingCode, (u64, Severity)>,
    /// Finding code (warn or fail) -> the hosts it hits.
    pub(super) causes: HashMap<FindingCode, Cause>,
    /// Certificates expired or expiring within the horizon.
    pub(super) certs: Vec<CertLine>,
    pub(super) changes: HashMap<Change, u64>,
    pub(super) new_list: Vec<ChangeLine>,
    pub(super) fixed_list: Vec<ChangeLine>,
}

impl Tally {
    /// Count one row. `days` is its certificate's days left, `address` its address as text.
    pub(super) fn add(
        &mut self,
        r: &HostReport,
        change: Option<&(Change, Option<String>)>,
        days: Option<i64>,
        address: &str,
    ) {
        let rec = &r.record;
        let t = &rec.target;
        let gone = matches!(change, Some((Change::Gone, _)));
        let host_key = (
            t.host.trim().trim_end_matches('.').to_ascii_lowercase(),
            t.port,
        );

        if !gone {
            self.scanned_rows += 1;
            self.hosts.insert(host_key.clone());
            if let Some(n) = self.sev_rows.get_mut(sev_idx(r.severity) as usize) {
                *n += 1;
            }
            let v = self.verdicts.entry(r.verdict).or_insert((0, r.severity));
            v.0 += 1;
            v.1 = v.1.max(r.severity);
            for f in r.findings.iter().filter(|f| f.severity >= Severity::Warn) {
                let c = self.causes.entry(f.code).or_insert_with(|| Cause {
                    severity: f.severity,
                    hosts: HashSet::new(),
                });
                c.hosts.insert(host_key.clone());
            }
            if let (Some(days), Some(c)) = (days, rec.cert.as_ref())
                && days <= HORIZON[2]
            {
                self.certs.push(CertLine {
                    host: clip(&t.host, 120),
                    port: t.port,
                    address: address.to_string(),
                    days,
                    not_after: clip(&c.not_after, 40),
                    subject: clip(&c.subject, 160),
                });
            }
        }
        if let Some((ch, since)) = change {
            *self.changes.entry(*ch).or_default() += 1;
            let line = || ChangeLine {
                host: clip(&t.host, 120),
                port: t.port,
                address: address.to_string(),
                verdict: r.verdict.to_string(),
                severity: r.severity,
                since: since.clone().unwrap_or_default(),
            };
            match ch {
                Change::New if self.new_list.len() < LIST_CAP => self.new_list.push(line()),
                Change::Fixed if self.fixed_list.len() < LIST_CAP => self.fixed_list.push(line()),
                _ => {}
            }
        }
    }
}
