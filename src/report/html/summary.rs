//! What the page's header shows, tallied row by row: rows per severity and verdict, the
//! causes ranked by hosts hit, the certificate expiry horizon and the changes since the
//! baseline. Gone rows (from the baseline) count only as changes, never as scanned.
//! The terminal summary reads the same tally (`report::terminal`), so both rank alike.

use std::collections::{HashMap, HashSet};

use super::view::sev_idx;
use super::{HORIZON, LIST_CAP, clip};
use crate::model::{Change, FindingCode, HostReport, Severity};

pub use crate::report::headline::HostKey;
use crate::report::headline::{Headline, host_key};

#[derive(Debug, Clone)]
pub struct Cause {
    pub severity: Severity,
    pub hosts: HashSet<HostKey>,
}

#[derive(Debug, Clone)]
pub struct CertLine {
    pub host: String,
    pub port: u16,
    pub address: String,
    pub days: i64,
    pub not_after: String,
    pub subject: String,
}

#[derive(Debug, Clone)]
pub struct ChangeLine {
    pub host: String,
    pub port: u16,
    pub address: String,
    pub verdict: String,
    pub severity: Severity,
    pub since: String,
}

#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Hosts by verdict severity: the headline counts.
    pub headline: Headline,
    pub hosts: HashSet<HostKey>,
    pub scanned_rows: u64,
    /// Rows per severity, indexed by `sev_idx`.
    pub sev_rows: [u64; 4],
    /// Verdict -> (rows, worst severity).
    pub verdicts: HashMap<FindingCode, (u64, Severity)>,
    /// Finding code (warn or fail) -> the hosts it hits.
    pub causes: HashMap<FindingCode, Cause>,
    /// Certificates expired or expiring within the horizon.
    pub certs: Vec<CertLine>,
    pub changes: HashMap<Change, u64>,
    pub new_list: Vec<ChangeLine>,
    pub fixed_list: Vec<ChangeLine>,
}

impl Tally {
    /// Count one row as the writer sees it (the terminal summary's tally).
    pub fn add_row(&mut self, r: &HostReport) {
        let change = r.change.map(|c| (c, r.first_seen_failing.clone()));
        let (_, days) = cert_days(r, crate::clock::Timestamp::now().unix());
        let address = r.record.address.map(|a| a.to_string()).unwrap_or_default();
        self.add(r, change.as_ref(), days, &address);
    }

    /// Count one row. `days` is its certificate's days left, `address` its address as text.
    pub fn add(
        &mut self,
        r: &HostReport,
        change: Option<&(Change, Option<String>)>,
        days: Option<i64>,
        address: &str,
    ) {
        let rec = &r.record;
        let t = &rec.target;
        let gone = matches!(change, Some((Change::Gone, _)));
        let host_key = host_key(t);
        self.headline.add(r);

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

    /// Causes (warn and fail findings) as both the page and the terminal rank them: failures
    /// first, then by hosts hit, then by code.
    pub fn ranked_causes(&self) -> Vec<(FindingCode, &Cause)> {
        let mut causes: Vec<(FindingCode, &Cause)> =
            self.causes.iter().map(|(c, v)| (*c, v)).collect();
        causes.sort_by(|a, b| {
            b.1.severity
                .cmp(&a.1.severity)
                .then(b.1.hosts.len().cmp(&a.1.hosts.len()))
                .then(a.0.as_str().cmp(b.0.as_str()))
        });
        causes
    }

    /// Certificates expired, and valid but expiring within each of `HORIZON`'s day counts.
    pub fn horizon(&self) -> (u64, [(i64, u64); 3]) {
        let expired = self.certs.iter().filter(|c| c.days < 0).count() as u64;
        let within = |n: i64| {
            self.certs
                .iter()
                .filter(|c| c.days >= 0 && c.days <= n)
                .count() as u64
        };
        (expired, HORIZON.map(|n| (n, within(n))))
    }
}

/// A row's certificate days left, judged at the row's own scan time (`fallback_now` when that
/// does not parse), so a rebuilt report agrees with the scan's.
pub fn cert_days(r: &HostReport, fallback_now: i64) -> (i64, Option<i64>) {
    let rec = &r.record;
    let now = match crate::clock::unix_of(&rec.scanned_at) {
        0 => fallback_now,
        n => n,
    };
    let days = rec
        .cert
        .as_ref()
        .filter(|c| c.not_after_unix != 0)
        .map(|c| crate::diagnose::days_left(c, now));
    (now, days)
}
