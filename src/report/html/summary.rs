//! What the page's header shows, tallied row by row: rows per severity and verdict, the
//! causes ranked by hosts hit, the certificate expiry horizon and the changes since the
//! baseline. Gone rows (from the baseline) count only as changes, never as scanned.
//! The terminal summary reads the same tally (`report::terminal`), so both rank alike.

use std::collections::HashMap;

use super::view::sev_idx;
use super::{HORIZON, LIST_CAP, clip};
use crate::model::{Change, FindingCode, HostReport, Severity};

pub use crate::report::headline::HostKey;
use crate::report::headline::{Headline, host_key, multi_row};

/// A cause (warn or fail finding code) and the hosts it hits.
#[derive(Debug, Clone, Copy)]
pub struct Cause {
    /// The severity of the first finding seen with this code.
    pub severity: Severity,
    pub hosts: u64,
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

/// Certificates expired or expiring within the horizon: the counts, and the `LIST_CAP` soonest
/// (by days left, then host; ties in arrival order), which is all the page lists.
#[derive(Debug, Clone, Default)]
pub struct Certs {
    pub total: u64,
    pub expired: u64,
    /// Valid and expiring within each of `HORIZON`'s day counts.
    pub within: [u64; 3],
    /// Sorted as listed.
    pub soonest: Vec<CertLine>,
}

impl Certs {
    fn add(&mut self, days: i64, host: &str, line: impl FnOnce() -> CertLine) {
        self.total += 1;
        if days < 0 {
            self.expired += 1;
        }
        for (n, h) in self.within.iter_mut().zip(HORIZON) {
            if days >= 0 && days <= h {
                *n += 1;
            }
        }
        // After every equal (days, host): a stable sort of every line would keep them so.
        let host = clip(host, 120);
        let at = self
            .soonest
            .partition_point(|c| (c.days, c.host.as_str()) <= (days, host.as_str()));
        if at < LIST_CAP {
            self.soonest.insert(at, line());
            self.soonest.truncate(LIST_CAP);
        }
    }
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

/// The header's numbers. Memory is flat in the number of rows: counters, one entry per
/// distinct code, at most `LIST_CAP` lines per list, plus the hosts that have several rows
/// (a name with several addresses), whose rows must be merged before they count as one host.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Hosts by verdict severity: the headline counts.
    pub headline: Headline,
    pub scanned_rows: u64,
    /// Rows per severity, indexed by `sev_idx`.
    pub sev_rows: [u64; 4],
    /// Verdict -> (rows, worst severity).
    pub verdicts: HashMap<FindingCode, (u64, Severity)>,
    /// Finding code (warn or fail) -> the one-row hosts it hits (see `multi`).
    causes: HashMap<FindingCode, Cause>,
    /// One-row hosts hit by a cause whose severity is warn.
    warn_hosts: u64,
    /// Hosts with several rows -> the codes (warn or fail) any of their rows has.
    multi: HashMap<HostKey, Vec<FindingCode>>,
    /// Certificates expired or expiring within the horizon.
    pub certs: Certs,
    pub changes: HashMap<Change, u64>,
    pub new_list: Vec<ChangeLine>,
    pub fixed_list: Vec<ChangeLine>,
    /// Rows with per-client verdicts, and per profile (in `clients::PROFILES` order) the rows
    /// it cannot connect to.
    pub client_rows: u64,
    pub client_fails: Vec<u64>,
}

impl Tally {
    /// Count one row as the writer sees it (the terminal summary's tally).
    pub fn add_row(&mut self, r: &HostReport) {
        let change = r.change.map(|c| (c, r.first_seen_failing.clone()));
        let (_, days) = cert_days(r, crate::clock::Timestamp::now().unix());
        let address = r.record.address.map(|a| a.to_string()).unwrap_or_default();
        self.add(r, change.as_ref(), days, &address);
    }

    /// Per-client verdicts of one row: the profiles proven unable to connect.
    fn add_clients(&mut self, r: &HostReport) {
        use crate::clients::PROFILES;
        if r.clients.is_empty() {
            return;
        }
        self.client_rows += 1;
        self.client_fails.resize(PROFILES.len(), 0);
        for v in &r.clients {
            if v.connects == crate::model::Connects::No
                && let Some(i) = PROFILES.iter().position(|p| p.id == v.profile)
                && let Some(n) = self.client_fails.get_mut(i)
            {
                *n += 1;
            }
        }
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
        self.headline.add(r);

        if !gone {
            self.scanned_rows += 1;
            if let Some(n) = self.sev_rows.get_mut(sev_idx(r.severity) as usize) {
                *n += 1;
            }
            let v = self.verdicts.entry(r.verdict).or_insert((0, r.severity));
            v.0 += 1;
            v.1 = v.1.max(r.severity);
            self.add_causes(r);
            self.add_clients(r);
            if let (Some(days), Some(c)) = (days, rec.cert.as_ref())
                && days <= HORIZON[2]
            {
                self.certs.add(days, &t.host, || CertLine {
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

    /// The row's warn and fail codes: counted now for a one-row host, kept under the host's key
    /// for one with several rows (a host counts once per cause, however many rows have it).
    fn add_causes(&mut self, r: &HostReport) {
        let mut codes: Vec<FindingCode> = Vec::new();
        for f in r.findings.iter().filter(|f| f.severity >= Severity::Warn) {
            // The first finding seen with a code sets the cause's severity, as it always did.
            self.causes.entry(f.code).or_insert(Cause {
                severity: f.severity,
                hosts: 0,
            });
            if !codes.contains(&f.code) {
                codes.push(f.code);
            }
        }
        let key = (multi_row(r) || !self.multi.is_empty()).then(|| host_key(&r.record.target));
        match key {
            Some(k) if multi_row(r) || self.multi.contains_key(&k) => {
                let kept = self.multi.entry(k).or_default();
                for c in codes {
                    if !kept.contains(&c) {
                        kept.push(c);
                    }
                }
            }
            _ => {
                let mut warn = false;
                for c in codes {
                    if let Some(cause) = self.causes.get_mut(&c) {
                        cause.hosts += 1;
                        warn |= cause.severity == Severity::Warn;
                    }
                }
                self.warn_hosts += u64::from(warn);
            }
        }
    }

    /// Distinct hosts scanned (gone rows from the baseline are not).
    pub fn hosts(&self) -> u64 {
        self.headline.hosts()
    }

    /// Hosts hit by at least one warning cause.
    pub fn warn_hosts(&self) -> u64 {
        let is_warn = |c: &FindingCode| {
            self.causes
                .get(c)
                .is_some_and(|c| c.severity == Severity::Warn)
        };
        self.warn_hosts
            + self
                .multi
                .values()
                .filter(|codes| codes.iter().any(is_warn))
                .count() as u64
    }

    /// Causes (warn and fail findings) as both the page and the terminal rank them: failures
    /// first, then by hosts hit, then by code.
    pub fn ranked_causes(&self) -> Vec<(FindingCode, Cause)> {
        let mut all = self.causes.clone();
        for codes in self.multi.values() {
            for c in codes {
                if let Some(cause) = all.get_mut(c) {
                    cause.hosts += 1;
                }
            }
        }
        let mut causes: Vec<(FindingCode, Cause)> = all.into_iter().collect();
        causes.sort_by(|a, b| {
            b.1.severity
                .cmp(&a.1.severity)
                .then(b.1.hosts.cmp(&a.1.hosts))
                .then(a.0.as_str().cmp(b.0.as_str()))
        });
        causes
    }

    /// Certificates expired, and valid but expiring within each of `HORIZON`'s day counts.
    pub fn horizon(&self) -> (u64, [(i64, u64); 3]) {
        let w = self.certs.within;
        (
            self.certs.expired,
            [(HORIZON[0], w[0]), (HORIZON[1], w[1]), (HORIZON[2], w[2])],
        )
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
