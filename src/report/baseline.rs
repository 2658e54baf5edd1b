//! Baseline diff: compare this scan's rows with a previous JSON Lines report.
//!
//! Rows are keyed by (host, port, address-or-empty); the host is compared case-insensitively
//! and without a trailing dot, since DNS names are. A row is *failing* when its severity is
//! `warn` or worse. The change vocabulary (stable, nightly jobs grep it):
//!
//! | change      | meaning                                                                  |
//! |-------------|--------------------------------------------------------------------------|
//! | `new`       | failing now; healthy before, or absent from the baseline                 |
//! | `fixed`     | failing in the baseline, not failing now                                 |
//! | `changed`   | failing in both, but the verdict or the set of finding codes differs     |
//! | `unchanged` | everything else (including a healthy row that the baseline did not have) |
//! | `gone`      | in the baseline, not scanned now                                         |
//!
//! A host whose DNS failed on one of the two days has an address-less row that day and
//! per-address rows on the other. Treating those as unrelated would call a host that stopped
//! resolving both `new` and `gone`, so the address-less row is matched to the host's other rows:
//! it is compared with the worst of them, and they are not reported `gone`.
//!
//! `first_seen_failing` (RFC 3339) is carried forward from the baseline while a row keeps
//! failing, starts at this row's `scanned_at` when it starts failing, and is empty otherwise.
//! A baseline written before that field existed gives its own `scanned_at` for failing rows
//! (the earliest time the failure is known to have existed).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Deserialize;

use super::jsonl::ReadError;

pub use crate::model::Change;
use crate::model::{Finding, FindingCode, HostReport, Severity};

/// Findings only the baseline comparison makes (recomputed whenever a baseline is applied).
pub const BASELINE_CODES: &[FindingCode] = &[
    FindingCode::CertFallbackSelfSigned,
    FindingCode::CertReplaced,
];

/// (host, port, address-or-empty); the host lower-cased without a trailing dot.
pub type Key = (String, u16, String);

/// The key a row is matched under.
pub fn key(r: &HostReport) -> Key {
    let t = &r.record.target;
    (
        norm_host(&t.host),
        t.port,
        r.record.address.map(|a| a.to_string()).unwrap_or_default(),
    )
}

fn norm_host(h: &str) -> String {
    h.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// Failing = what an admin must act on: a warning or worse.
pub fn is_failing(s: Severity) -> bool {
    s >= Severity::Warn
}

struct Entry {
    key: Key,
    report: HostReport,
    failing: bool,
    codes: Vec<FindingCode>,
    /// Only meaningful when `failing`.
    first_seen: String,
}

/// A previous scan, indexed for `classify` and `gone`.
pub struct Baseline {
    entries: Vec<Entry>,
    by_key: HashMap<Key, usize>,
    /// (host, port) -> indexes into `entries`, file order.
    by_host: HashMap<(String, u16), Vec<usize>>,
}

/// A baseline line: the report plus the carried-forward field, which the model does not have yet.
#[derive(Deserialize)]
struct Line {
    #[serde(flatten)]
    report: HostReport,
    #[serde(default)]
    first_seen_failing: Option<String>,
}

fn code_set(r: &HostReport) -> Vec<FindingCode> {
    let mut v: Vec<FindingCode> = r.findings.iter().map(|f| f.code).collect();
    v.sort_by_key(|c| c.rank());
    v.dedup();
    v
}

impl Baseline {
    /// Read a JSON Lines report written by `JsonlSink`; errors name the file and line.
    ///
    /// Parses like `jsonl::read_reports` but also keeps each line's `first_seen_failing`,
    /// which `HostReport` does not carry (yet) and would otherwise be lost.
    pub fn load(path: &Path) -> Result<Baseline, ReadError> {
        use std::io::BufRead;
        let file = std::fs::File::open(path).map_err(|source| ReadError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let mut lines = Vec::new();
        let reader = std::io::BufReader::with_capacity(64 * 1024, file);
        for (i, line) in reader.lines().enumerate() {
            let at = i as u64 + 1;
            let line = line.map_err(|source| ReadError::Read {
                path: path.to_path_buf(),
                line: at,
                source,
            })?;
            if line.trim().is_empty() {
                continue;
            }
            let l: Line = serde_json::from_str(&line).map_err(|source| ReadError::Record {
                path: path.to_path_buf(),
                line: at,
                source,
            })?;
            lines.push((l.report, l.first_seen_failing));
        }
        Ok(Baseline::from_entries(lines))
    }

    /// A baseline from reports without a carried `first_seen_failing`.
    pub fn from_reports(reports: Vec<HostReport>) -> Baseline {
        Baseline::from_entries(reports.into_iter().map(|r| (r, None)).collect())
    }

    /// Reports with their `first_seen_failing` (None or empty = unknown).
    pub fn from_entries(lines: Vec<(HostReport, Option<String>)>) -> Baseline {
        let mut b = Baseline {
            entries: Vec::with_capacity(lines.len()),
            by_key: HashMap::with_capacity(lines.len()),
            by_host: HashMap::new(),
        };
        for (report, first_seen) in lines {
            let k = key(&report);
            let failing = is_failing(report.severity);
            let first_seen = match first_seen {
                Some(s) if failing && !s.is_empty() => s,
                _ if failing => report.record.scanned_at.clone(),
                _ => String::new(),
            };
            let e = Entry {
                key: k.clone(),
                codes: code_set(&report),
                report,
                failing,
                first_seen,
            };
            if let Some(&i) = b.by_key.get(&k) {
                // A duplicate key (two inventories naming one host): keep the worse row.
                if let Some(old) = b.entries.get_mut(i)
                    && e.report.severity > old.report.severity
                {
                    *old = e;
                }
                continue;
            }
            let i = b.entries.len();
            b.by_key.insert(k.clone(), i);
            b.by_host.entry((k.0, k.1)).or_default().push(i);
            b.entries.push(e);
        }
        b
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The baseline row this row is compared with (see the module doc for the DNS fallback).
    fn lookup(&self, k: &Key) -> Option<&Entry> {
        if let Some(&i) = self.by_key.get(k) {
            return self.entries.get(i);
        }
        let siblings = self.by_host.get(&(k.0.clone(), k.1))?;
        let rows = siblings.iter().filter_map(|&i| self.entries.get(i));
        if k.2.is_empty() {
            // No address now: the host as a whole is compared with its worst row then.
            rows.max_by_key(|e| e.report.severity)
        } else {
            // An address now, none then: compare with the address-less row.
            rows.into_iter().find(|e| e.key.2.is_empty())
        }
    }

    /// This row's change and `first_seen_failing` (None when it is not failing).
    pub fn classify(&self, r: &HostReport) -> (Change, Option<String>) {
        let now_failing = is_failing(r.severity);
        let since_now = || Some(r.record.scanned_at.clone());
        match self.lookup(&key(r)) {
            None if now_failing => (Change::New, since_now()),
            None => (Change::Unchanged, None),
            Some(b) if now_failing && !b.failing => (Change::New, since_now()),
            Some(b) if now_failing => {
                let same = b.report.verdict == r.verdict && b.codes == code_set(r);
                let change = if same {
                    Change::Unchanged
                } else {
                    Change::Changed
                };
                (change, Some(b.first_seen.clone()))
            }
            Some(b) if b.failing => (Change::Fixed, None),
            Some(_) => (Change::Unchanged, None),
        }
    }

    /// The certificate findings of this row against its baseline row: `cert-fallback-self-signed`
    /// when a CA-issued certificate became self-signed, else `cert-replaced` when the SHA-256
    /// thumbprint or the issuer changed. Nothing when either side has no certificate.
    pub fn cert_changes(&self, r: &HostReport) -> Vec<Finding> {
        let Some(now) = r.record.cert.as_ref().filter(|c| !c.sha256.is_empty()) else {
            return Vec::new();
        };
        let Some(then) = self
            .lookup(&key(r))
            .and_then(|b| b.report.record.cert.as_ref())
            .filter(|c| !c.sha256.is_empty())
        else {
            return Vec::new();
        };
        if now.sha256 == then.sha256 && now.issuer == then.issuer {
            return Vec::new();
        }
        let short = |t: &str| t.chars().take(16).collect::<String>();
        let detail = format!(
            "SHA-256 {}… (issuer {}) was {}… (issuer {})",
            short(&now.sha256),
            now.issuer,
            short(&then.sha256),
            then.issuer
        );
        let code = if now.self_signed && !then.self_signed {
            FindingCode::CertFallbackSelfSigned
        } else {
            FindingCode::CertReplaced
        };
        vec![crate::diagnose::finding_for(code, detail)]
    }

    /// Applies the baseline to one row: adds the certificate-change findings (they come from
    /// the comparison, not from `diagnose`), then sets `change` and `first_seen_failing`.
    /// A certificate change makes an otherwise unchanged row `changed`, and a fallback to
    /// self-signed is that (not `new`) even when the row was healthy before. Returns whether
    /// the row counts as a new failure (`--fail-on new`): `new`, or a fallback.
    pub fn apply(&self, r: &mut HostReport) -> bool {
        // A row read back from a report may carry another baseline's findings: drop them,
        // then judge the row as diagnosed, so the cert findings decide only the label below.
        crate::diagnose::replace_findings(r, BASELINE_CODES, Vec::new());
        let (before, _) = self.classify(r);
        let extra = self.cert_changes(r);
        let fallback = extra
            .iter()
            .any(|f| f.code == FindingCode::CertFallbackSelfSigned);
        let cert_changed = !extra.is_empty();
        crate::diagnose::replace_findings(r, &[], extra);
        let (after, since) = self.classify(r);
        let change = match (cert_changed, before) {
            (false, _) => after,
            (true, Change::New) => Change::New,
            (true, Change::Fixed) if !fallback => Change::Fixed,
            (true, _) => Change::Changed,
        };
        r.change = Some(change);
        r.first_seen_failing = since;
        change == Change::New || fallback
    }

    /// Baseline rows that this scan did not produce (`seen` = the keys of every row written),
    /// in baseline order. Rows explained by the DNS fallback are not gone.
    pub fn gone(&self, seen: &HashSet<Key>) -> Vec<HostReport> {
        let mut hosts_seen: HashSet<(&str, u16)> = HashSet::new();
        let mut hosts_without_address: HashSet<(&str, u16)> = HashSet::new();
        for k in seen {
            hosts_seen.insert((k.0.as_str(), k.1));
            if k.2.is_empty() {
                hosts_without_address.insert((k.0.as_str(), k.1));
            }
        }
        self.entries
            .iter()
            .filter(|e| {
                let hk = (e.key.0.as_str(), e.key.1);
                let matched = seen.contains(&e.key)
                    || hosts_without_address.contains(&hk)
                    || (e.key.2.is_empty() && hosts_seen.contains(&hk));
                !matched
            })
            .map(|e| e.report.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;

    fn finding(code: FindingCode, sev: Severity) -> Finding {
        Finding {
            code,
            severity: sev,
            phase: Phase::Host,
            detail: String::new(),
            remedy: String::new(),
        }
    }

    fn rep(
        host: &str,
        addr: Option<&str>,
        at: &str,
        findings: &[(FindingCode, Severity)],
    ) -> HostReport {
        let findings: Vec<Finding> = findings.iter().map(|(c, s)| finding(*c, *s)).collect();
        HostReport {
            record: ProbeRecord {
                address: addr.map(|a| a.parse().unwrap()),
                connections: 1,
                duration_ms: 1.0,
                ..ProbeRecord::new(
                    TargetInfo {
                        host: host.into(),
                        port: 3389,
                        ..Default::default()
                    },
                    DnsOutcome::status(DnsStatus::Resolved),
                    at.into(),
                )
            },
            verdict: findings[0].code,
            severity: findings.iter().map(|f| f.severity).max().unwrap(),
            findings,
            clients: Vec::new(),
            change: None,
            first_seen_failing: None,
            run: None,
        }
    }

    const OK: (FindingCode, Severity) = (FindingCode::Ok, Severity::Ok);
    const EXPIRED: (FindingCode, Severity) = (FindingCode::CertExpired, Severity::Warn);
    const FILTERED: (FindingCode, Severity) = (FindingCode::PortFiltered, Severity::Fail);
    const SELF_SIGNED: (FindingCode, Severity) = (FindingCode::CertSelfSigned, Severity::Info);
    const T0: &str = "2026-01-01T02:00:00Z";
    const T1: &str = "2026-01-02T02:00:00Z";

    #[test]
    fn every_change_kind() {
        let base = Baseline::from_reports(vec![
            rep("healthy", Some("192.0.2.1"), T0, &[OK]),
            rep("breaks", Some("192.0.2.2"), T0, &[OK]),
            rep("heals", Some("192.0.2.3"), T0, &[FILTERED]),
            rep("still", Some("192.0.2.4"), T0, &[EXPIRED]),
            rep("worse", Some("192.0.2.5"), T0, &[EXPIRED]),
            rep("removed", Some("192.0.2.6"), T0, &[FILTERED]),
        ]);
        let b = &base;
        let c = |r: &HostReport| b.classify(r);
        assert_eq!(
            c(&rep("healthy", Some("192.0.2.1"), T1, &[OK])),
            (Change::Unchanged, None)
        );
        assert_eq!(
            c(&rep("breaks", Some("192.0.2.2"), T1, &[EXPIRED])),
            (Change::New, Some(T1.into()))
        );
        assert_eq!(
            c(&rep("heals", Some("192.0.2.3"), T1, &[OK, SELF_SIGNED])),
            (Change::Fixed, None)
        );
        // Still failing the same way: first seen is the baseline's scan, not today's.
        assert_eq!(
            c(&rep("still", Some("192.0.2.4"), T1, &[EXPIRED])),
            (Change::Unchanged, Some(T0.into()))
        );
        // Same verdict, one more finding: changed, first seen carried.
        assert_eq!(
            c(&rep(
                "worse",
                Some("192.0.2.5"),
                T1,
                &[EXPIRED, SELF_SIGNED]
            )),
            (Change::Changed, Some(T0.into()))
        );
        // Absent from the baseline: new when failing, unchanged when healthy.
        assert_eq!(
            c(&rep("added", Some("192.0.2.7"), T1, &[FILTERED])),
            (Change::New, Some(T1.into()))
        );
        assert_eq!(
            c(&rep("added-ok", Some("192.0.2.8"), T1, &[OK])),
            (Change::Unchanged, None)
        );
        // Info findings alone are not failing.
        assert_eq!(
            c(&rep("breaks", Some("192.0.2.2"), T1, &[OK, SELF_SIGNED])),
            (Change::Unchanged, None)
        );

        let seen: HashSet<Key> = ["healthy", "breaks", "heals", "still", "worse"]
            .iter()
            .enumerate()
            .map(|(i, h)| (h.to_string(), 3389, format!("192.0.2.{}", i + 1)))
            .collect();
        let gone = base.gone(&seen);
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].record.target.host, "removed");
    }

    #[test]
    fn verdict_change_alone_is_changed() {
        let b = Baseline::from_reports(vec![rep("h", Some("192.0.2.1"), T0, &[EXPIRED, FILTERED])]);
        // Same code set, other primary finding.
        let (c, first) = b.classify(&rep("h", Some("192.0.2.1"), T1, &[FILTERED, EXPIRED]));
        assert_eq!(c, Change::Changed);
        assert_eq!(first.as_deref(), Some(T0));
    }

    #[test]
    fn key_ignores_host_case_and_trailing_dot() {
        let b =
            Baseline::from_reports(vec![rep("Web01.Corp.", Some("192.0.2.1"), T0, &[FILTERED])]);
        let (c, _) = b.classify(&rep("web01.corp", Some("192.0.2.1"), T1, &[FILTERED]));
        assert_eq!(c, Change::Unchanged);
        // Another port is another row.
        let mut other = rep("web01.corp", Some("192.0.2.1"), T1, &[FILTERED]);
        other.record.target.port = 3390;
        assert_eq!(b.classify(&other).0, Change::New);
    }

    #[test]
    fn dns_failure_matches_the_hosts_addresses() {
        let b = Baseline::from_reports(vec![
            rep("h", Some("192.0.2.1"), T0, &[OK]),
            rep("h", Some("2001:db8::1"), T0, &[OK]),
        ]);
        // Today the name does not resolve: one address-less row, newly failing.
        let today = rep("h", None, T1, &[(FindingCode::DnsNxdomain, Severity::Fail)]);
        assert_eq!(b.classify(&today), (Change::New, Some(T1.into())));
        let seen: HashSet<Key> = [key(&today)].into_iter().collect();
        assert!(b.gone(&seen).is_empty(), "not gone: it stopped resolving");

        // The reverse: failing yesterday without an address, resolving and healthy today.
        let b = Baseline::from_reports(vec![rep(
            "h",
            None,
            T0,
            &[(FindingCode::DnsServfail, Severity::Fail)],
        )]);
        let today = rep("h", Some("192.0.2.1"), T1, &[OK]);
        assert_eq!(b.classify(&today), (Change::Fixed, None));
        let seen: HashSet<Key> = [key(&today)].into_iter().collect();
        assert!(b.gone(&seen).is_empty());
        // An address that disappeared while others remain is gone.
        let b = Baseline::from_reports(vec![
            rep("h", Some("192.0.2.1"), T0, &[OK]),
            rep("h", Some("192.0.2.2"), T0, &[OK]),
        ]);
        let seen: HashSet<Key> = [("h".to_string(), 3389, "192.0.2.1".to_string())]
            .into_iter()
            .collect();
        let gone = b.gone(&seen);
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].record.address.unwrap().to_string(), "192.0.2.2");
    }

    #[test]
    fn load_carries_first_seen_failing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("base.jsonl");
        let mut v = serde_json::to_value(rep("h", Some("192.0.2.1"), T1, &[FILTERED])).unwrap();
        v["first_seen_failing"] = "2025-12-24T02:00:00Z".into();
        let healthy = serde_json::to_string(&rep("ok", Some("192.0.2.9"), T1, &[OK])).unwrap();
        std::fs::write(&path, format!("{v}\n\n{healthy}\n")).unwrap();
        let b = Baseline::load(&path).unwrap();
        assert_eq!(b.len(), 2);
        let (c, first) = b.classify(&rep("h", Some("192.0.2.1"), T1, &[FILTERED]));
        assert_eq!(c, Change::Unchanged);
        assert_eq!(first.as_deref(), Some("2025-12-24T02:00:00Z"));

        std::fs::write(&path, "{\"not\": \"a report\"}\n").unwrap();
        let err = Baseline::load(&path).err().unwrap();
        assert!(matches!(err, ReadError::Record { line: 1, .. }), "{err:?}");
        assert!(err.to_string().contains("base.jsonl:1:"), "{err}");
        let missing = Baseline::load(&dir.path().join("none.jsonl"))
            .err()
            .unwrap();
        assert!(matches!(missing, ReadError::Open { .. }), "{missing:?}");
    }

    #[test]
    fn duplicate_baseline_keys_keep_the_worse_row() {
        let b = Baseline::from_reports(vec![
            rep("h", Some("192.0.2.1"), T0, &[OK]),
            rep("h", Some("192.0.2.1"), T0, &[FILTERED]),
        ]);
        assert_eq!(b.len(), 1);
        let (c, _) = b.classify(&rep("h", Some("192.0.2.1"), T1, &[OK]));
        assert_eq!(c, Change::Fixed);
    }

    fn with_cert(mut r: HostReport, sha: &str, issuer: &str, self_signed: bool) -> HostReport {
        r.record.cert = Some(CertFacts {
            sha256: sha.into(),
            issuer: issuer.into(),
            self_signed,
            ..Default::default()
        });
        r
    }

    #[test]
    fn certificate_changes_against_the_baseline() {
        let ca = |sha, at| with_cert(rep("h", Some("192.0.2.1"), at, &[OK]), sha, "CN=CA", false);
        let b = Baseline::from_reports(vec![ca("AA", T0)]);
        // Same certificate: nothing added, unchanged.
        let mut same = ca("AA", T1);
        assert!(!b.apply(&mut same));
        assert_eq!(same.change, Some(Change::Unchanged));
        assert_eq!(same.verdict, FindingCode::Ok);
        // Renewed by the CA: info, row changed, not a new failure.
        let mut renewed = ca("BB", T1);
        assert!(!b.apply(&mut renewed));
        assert_eq!(renewed.change, Some(Change::Changed));
        assert_eq!(renewed.verdict, FindingCode::Ok);
        assert!(
            renewed
                .findings
                .iter()
                .any(|f| f.code == FindingCode::CertReplaced)
        );
        // Fell back to self-signed: warn, changed, and counted as new for --fail-on new.
        let mut fell = with_cert(
            rep("h", Some("192.0.2.1"), T1, &[OK, SELF_SIGNED]),
            "CC",
            "CN=h",
            true,
        );
        assert!(b.apply(&mut fell));
        assert_eq!(fell.change, Some(Change::Changed));
        assert_eq!(fell.verdict, FindingCode::CertFallbackSelfSigned);
        assert_eq!(fell.severity, Severity::Warn);
        assert_eq!(fell.first_seen_failing.as_deref(), Some(T1));
        assert!(
            fell.findings
                .iter()
                .all(|f| f.code != FindingCode::CertReplaced)
        );
        // Applied again against a baseline that already has it: the old finding goes.
        let b2 = Baseline::from_reports(vec![fell.clone()]);
        let mut again = fell.clone();
        assert!(!b2.apply(&mut again));
        assert!(
            again
                .findings
                .iter()
                .all(|f| f.code != FindingCode::CertFallbackSelfSigned)
        );
        // No certificate today (port closed): no certificate finding.
        let mut down = rep("h", Some("192.0.2.1"), T1, &[FILTERED]);
        assert!(b.apply(&mut down));
        assert_eq!(down.change, Some(Change::New));
        assert_eq!(down.findings.len(), 1);
    }

    #[test]
    fn change_serialises_lowercase() {
        assert_eq!(serde_json::to_string(&Change::New).unwrap(), "\"new\"");
        assert_eq!(Change::Gone.to_string(), "gone");
        assert!(Change::New.rank() < Change::Unchanged.rank());
    }
}
