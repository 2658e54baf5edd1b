//! `rdpsweep merge`: the union of JSON Lines reports (shards of one scan, or re-runs).
//!
//! Rows are keyed by (host as written, port, address); an absent address (DNS gave none) is its
//! own key. When the same key appears more than once, the row with the latest `scanned_at` wins;
//! equal times are broken by the row's JSON text (the larger wins), so the choice never depends
//! on file order. The result is sorted by (host, port, address, with no-address first), so
//! `merge` is order-independent and idempotent: merging its own output again changes nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::PathBuf;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Summary;
use crate::model::HostReport;

/// The identity of a row.
pub type RowKey = (String, u16, Option<IpAddr>);

pub fn row_key(r: &HostReport) -> RowKey {
    (
        r.record.target.host.clone(),
        r.record.target.port,
        r.record.address,
    )
}

/// Why `merge` produced nothing.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("merge: name at least one JSON Lines file")]
    NoInputs,
    #[error(transparent)]
    Read(#[from] super::jsonl::ReadError),
    /// `--run-id`/`--shards`: inputs from another run, or shards missing; one line per problem.
    #[error("merge refused, nothing written:\n  {}", .0.join("\n  "))]
    Refused(Vec<String>),
}

/// Reads every file (JSON Lines written by `--jsonl`) and merges them; errors name file:line.
pub fn merge(inputs: &[PathBuf]) -> Result<Vec<HostReport>, MergeError> {
    if inputs.is_empty() {
        return Err(MergeError::NoInputs);
    }
    let mut all = Vec::new();
    for p in inputs {
        all.extend(super::jsonl::read_reports(p)?);
    }
    Ok(merge_reports(all))
}

/// What `merge --run-id/--shards` insists on: every row from this run, every shard present.
#[derive(Debug, Clone, Default)]
pub struct RunCheck {
    /// Every row must carry this run id (`scan --run-id`).
    pub run_id: Option<String>,
    /// The scan ran as this many shards: each must have rows, tagged `K/N` with this N.
    pub shards: Option<u32>,
}

impl RunCheck {
    fn active(&self) -> bool {
        self.run_id.is_some() || self.shards.is_some()
    }

    /// What is wrong with one input file (one line per problem); adds the shards it holds.
    /// `gone` rows are the baseline's, not this run's, and are not judged.
    fn check_file(
        &self,
        path: &std::path::Path,
        rows: &[HostReport],
        shards_seen: &mut BTreeSet<u32>,
    ) -> Vec<String> {
        let mut problems = Vec::new();
        let judged: Vec<&HostReport> = rows
            .iter()
            .filter(|r| r.change != Some(crate::model::Change::Gone))
            .collect();
        let name = path.display();
        if let Some(want) = &self.run_id {
            let mut other: BTreeMap<String, u64> = BTreeMap::new();
            for r in &judged {
                let id = r.run.as_ref().and_then(|t| t.id.as_deref());
                if id != Some(want.as_str()) {
                    let label = id.map_or_else(|| "no run id".to_string(), |i| format!("run {i}"));
                    *other.entry(label).or_default() += 1;
                }
            }
            if !other.is_empty() {
                let found: Vec<String> = other
                    .iter()
                    .take(3)
                    .map(|(id, n)| format!("{n} from {id}"))
                    .collect();
                problems.push(format!(
                    "{name}: rows from another run ({} of {} rows: {}; expected run {want})",
                    other.values().sum::<u64>(),
                    judged.len(),
                    found.join(", ")
                ));
            }
        }
        if let Some(n) = self.shards {
            let (mut untagged, mut other_split) = (0u64, BTreeSet::new());
            // A row of another run proves nothing about this run's shards.
            let this_run = |r: &&&HostReport| {
                self.run_id
                    .as_deref()
                    .is_none_or(|want| r.run.as_ref().and_then(|t| t.id.as_deref()) == Some(want))
            };
            for r in judged.iter().filter(this_run) {
                match r
                    .run
                    .as_ref()
                    .and_then(|t| t.shard.as_deref())
                    .and_then(|s| crate::shard::parse_shard(s).ok())
                {
                    Some((k, m)) if m == n => {
                        shards_seen.insert(k);
                    }
                    Some((_, m)) => {
                        other_split.insert(m);
                    }
                    None => untagged += 1,
                }
            }
            if untagged > 0 {
                problems.push(format!(
                    "{name}: {untagged} rows carry no shard (scan them with --shard K/{n} --run-id ID)"
                ));
            }
            if !other_split.is_empty() {
                let m: Vec<String> = other_split.iter().map(u32::to_string).collect();
                problems.push(format!(
                    "{name}: rows from a split into {} shards, not {n}",
                    m.join(", ")
                ));
            }
        }
        if judged.is_empty() && self.active() {
            tracing::warn!("{name} has no rows: nothing in it shows which run or shard wrote it");
        }
        problems
    }
}

/// [`merge`], refusing inputs from another run and missing shards: the error names every stale
/// file and every absent shard (the caller exits 2, writing nothing).
pub fn merge_checked(inputs: &[PathBuf], check: &RunCheck) -> Result<Vec<HostReport>, MergeError> {
    if !check.active() {
        return merge(inputs);
    }
    if inputs.is_empty() {
        return Err(MergeError::NoInputs);
    }
    let mut all = Vec::new();
    let mut problems = Vec::new();
    let mut shards_seen = BTreeSet::new();
    for p in inputs {
        let rows = super::jsonl::read_reports(p)?;
        problems.extend(check.check_file(p, &rows, &mut shards_seen));
        all.extend(rows);
    }
    if let Some(n) = check.shards {
        let missing: Vec<String> = (0..n)
            .filter(|k| !shards_seen.contains(k))
            .map(|k| format!("{k}/{n}"))
            .collect();
        if !missing.is_empty() {
            problems.push(format!(
                "missing shard{} {}: no row of this run comes from {} (a shard pod failed \
                 or has not finished; a shard without targets writes no rows, so keep N well \
                 below the number of targets)",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", "),
                if missing.len() == 1 { "it" } else { "them" },
            ));
        }
    }
    if problems.is_empty() {
        Ok(merge_reports(all))
    } else {
        Err(MergeError::Refused(problems))
    }
}

/// The pure part of [`merge`]: dedupe by [`row_key`], keep the newest, sort by key.
pub fn merge_reports(reports: impl IntoIterator<Item = HostReport>) -> Vec<HostReport> {
    let mut by_key: BTreeMap<RowKey, (HostReport, Stamp)> = BTreeMap::new();
    for r in reports {
        let stamp = Stamp::of(&r);
        match by_key.entry(row_key(&r)) {
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert((r, stamp));
            }
            std::collections::btree_map::Entry::Occupied(mut o) => {
                if stamp > o.get().1 {
                    o.insert((r, stamp));
                }
            }
        }
    }
    by_key.into_values().map(|(r, _)| r).collect()
}

/// Orders rows of one key: scan time first (unparseable times are older than any real one),
/// then the serialized row, so ties are broken the same way whatever the input order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Stamp {
    /// Unix time in nanoseconds; None when `scanned_at` is not RFC 3339.
    at: Option<i128>,
    /// The raw text, for rows whose time does not parse.
    raw_at: String,
    json: String,
}

impl Stamp {
    fn of(r: &HostReport) -> Stamp {
        Stamp {
            at: parse_time(&r.record.scanned_at).map(|t| t.unix_timestamp_nanos()),
            raw_at: r.record.scanned_at.clone(),
            // Serializing a HostReport cannot fail (no maps with non-string keys); an empty
            // string would only make the tie-break weaker, never panic.
            json: serde_json::to_string(r).unwrap_or_default(),
        }
    }
}

fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// Scan-wide facts for the merged rows (HTML header, metrics): the earliest start, the span
/// from it to the end of the last probe, distinct (host, port) targets, verdict counts.
pub fn summary(reports: &[HostReport]) -> Summary {
    let mut first: Option<OffsetDateTime> = None;
    let mut last_end: Option<OffsetDateTime> = None;
    let mut targets = std::collections::BTreeSet::new();
    let mut verdicts: BTreeMap<&str, u64> = BTreeMap::new();
    for r in reports {
        targets.insert((&r.record.target.host, r.record.target.port));
        *verdicts.entry(r.verdict.as_str()).or_insert(0) += 1;
        if let Some(t) = parse_time(&r.record.scanned_at) {
            first = Some(first.map_or(t, |f| f.min(t)));
            let dur = if r.record.duration_ms.is_finite() && r.record.duration_ms > 0.0 {
                time::Duration::seconds_f64(r.record.duration_ms / 1000.0)
            } else {
                time::Duration::ZERO
            };
            let end = t.checked_add(dur).unwrap_or(t);
            last_end = Some(last_end.map_or(end, |l| l.max(end)));
        }
    }
    let mut verdicts: Vec<(String, u64)> = verdicts
        .into_iter()
        .map(|(v, n)| (v.to_string(), n))
        .collect();
    // Most frequent first; equal counts by code, so the order is stable.
    verdicts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let started_at = first
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default();
    let duration_s = match (first, last_end) {
        (Some(f), Some(l)) if l > f => (l - f).as_seconds_f64(),
        _ => 0.0,
    };
    Summary {
        started_at,
        duration_s,
        targets: targets.len() as u64,
        rows: reports.len() as u64,
        interrupted: false,
        verdicts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DnsOutcome, DnsStatus, FindingCode, ProbeRecord, Severity, TargetInfo};

    fn report(host: &str, addr: Option<&str>, at: &str, verdict: FindingCode) -> HostReport {
        HostReport {
            record: ProbeRecord {
                address: addr.map(|a| a.parse().unwrap()),
                duration_ms: 1500.0,
                ..ProbeRecord::new(
                    TargetInfo {
                        host: host.into(),
                        port: 3389,
                        source: "cli".into(),
                        ..Default::default()
                    },
                    DnsOutcome::status(DnsStatus::Literal),
                    at.into(),
                )
            },
            verdict,
            severity: Severity::Fail,
            findings: vec![],
            clients: Vec::new(),
            change: None,
            first_seen_failing: None,
            run: None,
        }
    }

    #[test]
    fn latest_scan_wins_whatever_the_order() {
        let old = report(
            "a",
            Some("10.0.0.1"),
            "2026-01-01T00:00:00Z",
            FindingCode::PortClosed,
        );
        let new = report(
            "a",
            Some("10.0.0.1"),
            "2026-01-02T00:00:00Z",
            FindingCode::Ok,
        );
        let m1 = merge_reports(vec![old.clone(), new.clone()]);
        let m2 = merge_reports(vec![new.clone(), old.clone()]);
        assert_eq!(m1, m2);
        assert_eq!(m1.len(), 1);
        assert_eq!(m1[0].verdict, FindingCode::Ok);
        // A time that does not parse loses to any real one.
        let junk = report("a", Some("10.0.0.1"), "yesterday", FindingCode::TcpError);
        assert_eq!(
            merge_reports(vec![junk, old.clone()])[0].verdict,
            FindingCode::PortClosed
        );
    }

    #[test]
    fn equal_times_break_ties_deterministically() {
        let x = report("a", None, "2026-01-01T00:00:00Z", FindingCode::DnsNxdomain);
        let y = report("a", None, "2026-01-01T00:00:00Z", FindingCode::DnsTimeout);
        let m1 = merge_reports(vec![x.clone(), y.clone()]);
        let m2 = merge_reports(vec![y, x]);
        assert_eq!(m1, m2);
        assert_eq!(m1.len(), 1);
    }

    #[test]
    fn run_check_judges_this_runs_rows_and_skips_gone_ones() {
        let tag = |id: Option<&str>, shard: &str| {
            Some(crate::model::RunTag {
                id: id.map(Into::into),
                shard: Some(shard.into()),
            })
        };
        let mut a = report("a", None, "2026-01-01T00:00:00Z", FindingCode::Ok);
        a.run = tag(Some("r2"), "0/2");
        let mut b = report("b", None, "2026-01-01T00:00:00Z", FindingCode::Ok);
        b.run = tag(Some("r2"), "1/2");
        // A baseline's `gone` row keeps the old run's tag: not this run's, and not judged.
        let mut gone = report("c", None, "2025-12-31T00:00:00Z", FindingCode::Ok);
        gone.run = tag(Some("r1"), "1/2");
        gone.change = Some(crate::model::Change::Gone);
        let check = RunCheck {
            run_id: Some("r2".into()),
            shards: Some(2),
        };
        let mut seen = BTreeSet::new();
        let p = std::path::Path::new("x.jsonl");
        assert!(
            check
                .check_file(p, &[a.clone(), b.clone(), gone], &mut seen)
                .is_empty()
        );
        assert_eq!(seen, BTreeSet::from([0, 1]));
        // A stale row: named, and its shard not counted.
        let mut stale = b.clone();
        stale.run = tag(Some("r1"), "1/2");
        let mut seen = BTreeSet::new();
        let problems = check.check_file(p, &[a, stale], &mut seen);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("1 from run r1"), "{problems:?}");
        assert_eq!(seen, BTreeSet::from([0]));
    }

    #[test]
    fn summary_spans_the_rows() {
        let rows = vec![
            report(
                "a",
                Some("10.0.0.1"),
                "2026-01-01T00:00:00Z",
                FindingCode::Ok,
            ),
            report(
                "a",
                Some("10.0.0.2"),
                "2026-01-01T00:00:10Z",
                FindingCode::Ok,
            ),
            report("b", None, "2026-01-01T00:00:05Z", FindingCode::DnsNxdomain),
        ];
        let s = summary(&rows);
        assert_eq!(s.started_at, "2026-01-01T00:00:00Z");
        // Last probe starts at 10 s and lasts 1.5 s.
        assert!((s.duration_s - 11.5).abs() < 1e-9, "{}", s.duration_s);
        assert_eq!(s.targets, 2);
        assert_eq!(s.rows, 3);
        assert_eq!(
            s.verdicts,
            vec![("ok".to_string(), 2), ("dns-nxdomain".to_string(), 1)]
        );
    }
}
