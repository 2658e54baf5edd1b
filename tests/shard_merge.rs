//! Scale-out: N shards of a real target list are disjoint and complete, the assignment is a
//! fixed function (known answers), and merging their JSON Lines is idempotent and
//! order-independent.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rdpsweep::inventory::{InventoryOptions, Targets};
use rdpsweep::model::{
    DnsOutcome, DnsStatus, FindingCode, HostReport, ProbeRecord, Severity, TargetInfo,
};
use rdpsweep::report::Output;
use rdpsweep::report::jsonl::JsonlSink;
use rdpsweep::report::merge::{merge, merge_reports, row_key, summary};
use rdpsweep::report::{Sink, Summary};
use rdpsweep::shard::{fnv1a64, in_shard, parse_shard, shard_key, shard_of};

/// (host as the scanner shows it, port) for every target of a realistic mixed list, expanded by
/// the real inventory code: names, IPs, a /22, an IPv6 range, odd ports.
fn target_list() -> Vec<(String, u16)> {
    let cli: Vec<String> = [
        "ts01.corp.example",
        "TS02.corp.example.",
        "ts03.corp.example:3390",
        "10.20.0.0/22",
        "2001:db8::1-2001:db8::40",
        "[2001:db8::99]:3391",
        "192.0.2.7",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut names: Vec<String> = (0..300).map(|i| format!("rdp{i:03}.dc1.example")).collect();
    names.extend(cli);
    let targets = Targets::open(&names, &[], &InventoryOptions::default()).expect("targets");
    targets
        .map(|t| {
            let t = t.expect("valid target");
            (t.host.to_string(), t.port)
        })
        .collect()
}

#[test]
fn shards_are_disjoint_and_complete() {
    let all = target_list();
    let unique: BTreeSet<_> = all.iter().cloned().collect();
    assert_eq!(unique.len(), all.len(), "the inventory dedupes");
    assert!(all.len() > 1300, "{}", all.len());
    for n in [1u32, 2, 3, 4, 7, 16] {
        let mut seen: BTreeMap<(String, u16), u32> = BTreeMap::new();
        let mut sizes = vec![0usize; n as usize];
        for k in 0..n {
            for (h, p) in &all {
                if in_shard(h, *p, k, n) {
                    assert!(
                        seen.insert((h.clone(), *p), k).is_none(),
                        "{h}:{p} in two shards of {n}"
                    );
                    sizes[k as usize] += 1;
                }
            }
        }
        assert_eq!(seen.len(), all.len(), "every target in some shard of {n}");
        // Roughly even: no shard more than 30% off the mean (1,400 targets, so noise is small).
        let mean = all.len() as f64 / f64::from(n);
        for (k, s) in sizes.iter().enumerate() {
            assert!(
                (*s as f64 - mean).abs() <= 0.3 * mean,
                "shard {k}/{n} has {s} targets, mean {mean:.0}: {sizes:?}"
            );
        }
    }
}

#[test]
fn a_subnet_spreads_across_shards() {
    let all = target_list();
    let subnet: Vec<_> = all
        .iter()
        .filter(|(h, _)| h.starts_with("10.20."))
        .collect();
    // Network and broadcast addresses are not scanned.
    assert_eq!(subnet.len(), 1022);
    let shards: BTreeSet<u32> = subnet.iter().map(|(h, p)| shard_of(h, *p, 8)).collect();
    assert_eq!(shards.len(), 8, "a /22 reaches every one of 8 shards");
}

#[test]
fn assignment_is_a_fixed_function() {
    // Computed independently (FNV-1a 64 of "host:port", modulo N); these must never change,
    // or shards of one scan run by different versions would overlap and leave gaps.
    assert_eq!(fnv1a64(b"ts01.corp.example:3389"), 0x9617_d4d4_b3e2_6aea);
    let known: &[(&str, u16, u32, u32)] = &[
        ("ts01.corp.example", 3389, 4, 2),
        ("ts02.corp.example", 3389, 4, 3),
        ("10.1.2.3", 3389, 4, 1),
        ("10.1.2.4", 3389, 4, 2),
        ("2001:db8::1", 3389, 4, 2),
        ("ts01.corp.example", 3390, 4, 0),
        ("ts01.corp.example", 3389, 7, 6),
        ("ts02.corp.example", 3389, 7, 4),
        ("10.1.2.3", 3389, 7, 0),
        ("10.1.2.4", 3389, 16, 14),
        ("2001:db8::1", 3389, 16, 2),
        ("a", 1, 3, 2),
    ];
    for (h, p, n, k) in known {
        assert_eq!(shard_of(h, *p, *n), *k, "{h}:{p} of {n}");
        assert!(in_shard(h, *p, *k, *n));
    }
    // Spellings of one target share its shard.
    assert_eq!(
        shard_key("TS01.Corp.Example.", 3389),
        "ts01.corp.example:3389"
    );
    assert_eq!(shard_key("[2001:DB8:0::1]", 3389), "2001:db8::1:3389");
    for n in 2..20 {
        assert_eq!(
            shard_of("TS01.CORP.EXAMPLE.", 3389, n),
            shard_of("ts01.corp.example", 3389, n)
        );
    }
    assert_eq!(parse_shard("2/4"), Ok((2, 4)));
}

fn report(host: &str, port: u16, addr: Option<&str>, at: &str, verdict: &str) -> HostReport {
    HostReport {
        record: ProbeRecord {
            address: addr.map(|a| a.parse::<IpAddr>().unwrap()),
            net: None,
            connections: 1,
            duration_ms: 812.5,
            ..ProbeRecord::new(
                TargetInfo {
                    host: host.into(),
                    port,
                    site: Some("dc1".into()),
                    source: "fleet.csv:2".into(),
                    ..Default::default()
                },
                DnsOutcome {
                    addresses: addr.iter().map(|a| a.parse().unwrap()).collect(),
                    ms: Some(1.25),
                    ..DnsOutcome::status(if addr.is_some() {
                        DnsStatus::Resolved
                    } else {
                        DnsStatus::Nxdomain
                    })
                },
                at.into(),
            )
        },
        verdict: verdict.parse().unwrap(),
        severity: if verdict == "ok" {
            Severity::Ok
        } else {
            Severity::Fail
        },
        findings: vec![],
        clients: Vec::new(),
        change: None,
        first_seen_failing: None,
        run: None,
    }
}

/// A scan of the synthetic fleet: names with one or two addresses, one NXDOMAIN, IPs.
fn fleet(at: &str) -> Vec<HostReport> {
    let mut v = Vec::new();
    for i in 0..40u8 {
        let host = format!("rdp{i:02}.dc1.example");
        v.push(report(&host, 3389, Some(&format!("10.0.0.{i}")), at, "ok"));
        if i % 5 == 0 {
            v.push(report(
                &host,
                3389,
                Some(&format!("10.0.1.{i}")),
                at,
                "port-closed",
            ));
        }
    }
    v.push(report("gone.dc1.example", 3389, None, at, "dns-nxdomain"));
    for i in 0..20u8 {
        let ip = format!("192.0.2.{i}");
        v.push(report(&ip, 3390, Some(&ip), at, "port-filtered"));
    }
    v
}

fn write_jsonl(path: &Path, rows: &[HostReport]) {
    let mut sink = Box::new(JsonlSink::create(&Output::File(path.to_path_buf())).unwrap());
    for r in rows {
        sink.write(r).unwrap();
    }
    sink.finish(&Summary::default()).unwrap();
}

/// Splits the fleet the way N pods would and writes one JSONL per shard.
fn shard_files(dir: &Path, rows: &[HostReport], n: u32) -> Vec<PathBuf> {
    (0..n)
        .map(|k| {
            let part: Vec<HostReport> = rows
                .iter()
                .filter(|r| in_shard(&r.record.target.host, r.record.target.port, k, n))
                .cloned()
                .collect();
            let p = dir.join(format!("shard-{k}.jsonl"));
            write_jsonl(&p, &part);
            p
        })
        .collect()
}

fn sorted(mut rows: Vec<HostReport>) -> Vec<HostReport> {
    rows.sort_by_key(row_key);
    rows
}

#[test]
fn merging_the_shards_gives_back_the_whole_scan() {
    let dir = tempfile::tempdir().unwrap();
    let rows = fleet("2026-03-01T02:00:00Z");
    let files = shard_files(dir.path(), &rows, 4);
    // Every shard got something: the split is real.
    for f in &files {
        assert!(std::fs::metadata(f).unwrap().len() > 0, "{}", f.display());
    }
    let merged = merge(&files).unwrap();
    assert_eq!(merged, sorted(rows.clone()));
    // A name's addresses stayed together in one shard.
    let whole = dir.path().join("whole.jsonl");
    write_jsonl(&whole, &rows);
    assert_eq!(merge(std::slice::from_ref(&whole)).unwrap(), merged);
    let s = summary(&merged);
    assert_eq!(s.rows, rows.len() as u64);
    assert_eq!(s.targets, 61);
    assert_eq!(s.verdicts.first(), Some(&("ok".to_string(), 40)));
}

#[test]
fn merge_is_idempotent_and_order_independent() {
    let dir = tempfile::tempdir().unwrap();
    let rows = fleet("2026-03-01T02:00:00Z");
    let files = shard_files(dir.path(), &rows, 3);
    let (a, b, c) = (&files[0], &files[1], &files[2]);
    let ab = merge(&[a.clone(), b.clone()]).unwrap();
    let m = dir.path().join("ab.jsonl");
    write_jsonl(&m, &ab);
    // merge(merge(a, b)) == merge(a, b), also with a part merged in again.
    assert_eq!(merge(std::slice::from_ref(&m)).unwrap(), ab);
    assert_eq!(merge(&[m.clone(), a.clone()]).unwrap(), ab);
    assert_eq!(merge(&[b.clone(), m.clone(), a.clone()]).unwrap(), ab);
    // Every order of three inputs gives the same rows.
    let want = merge(&[a.clone(), b.clone(), c.clone()]).unwrap();
    for order in [[a, c, b], [b, a, c], [b, c, a], [c, a, b], [c, b, a]] {
        let v: Vec<PathBuf> = order.iter().map(|p| (*p).clone()).collect();
        assert_eq!(merge(&v).unwrap(), want);
    }
}

#[test]
fn a_rescan_replaces_older_rows() {
    let dir = tempfile::tempdir().unwrap();
    let old = fleet("2026-03-01T02:00:00Z");
    // The rescan of one shard a day later finds rdp00's second address fixed.
    let mut new: Vec<HostReport> = fleet("2026-03-02T02:00:00Z")
        .into_iter()
        .filter(|r| in_shard(&r.record.target.host, r.record.target.port, 0, 2))
        .collect();
    for r in &mut new {
        r.verdict = FindingCode::Ok;
    }
    let f_old = dir.path().join("old.jsonl");
    let f_new = dir.path().join("new.jsonl");
    write_jsonl(&f_old, &old);
    write_jsonl(&f_new, &new);
    let m1 = merge(&[f_old.clone(), f_new.clone()]).unwrap();
    let m2 = merge(&[f_new, f_old]).unwrap();
    assert_eq!(m1, m2);
    assert_eq!(m1.len(), old.len(), "a rescan adds no rows");
    for r in &m1 {
        let in_new = in_shard(&r.record.target.host, r.record.target.port, 0, 2);
        let want = if in_new {
            "2026-03-02T02:00:00Z"
        } else {
            "2026-03-01T02:00:00Z"
        };
        assert_eq!(r.record.scanned_at, want, "{}", r.record.target.host);
    }
    // Offsets are compared as instants, not text: 03:00+01:00 is 02:00Z.
    let a = report("x", 1, None, "2026-03-01T03:00:00+01:00", "dns-nxdomain");
    let b = report("x", 1, None, "2026-03-01T02:30:00Z", "dns-timeout");
    assert_eq!(
        merge_reports(vec![a.clone(), b.clone()])[0].verdict,
        FindingCode::DnsTimeout
    );
    assert_eq!(
        merge_reports(vec![b, a])[0].verdict,
        FindingCode::DnsTimeout
    );
}

#[test]
fn bad_inputs_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        merge(&[]),
        Err(rdpsweep::report::merge::MergeError::NoInputs)
    ));
    let missing = dir.path().join("nope.jsonl");
    let e = merge(std::slice::from_ref(&missing)).unwrap_err();
    assert!(e.to_string().contains("nope.jsonl"), "{e}");
    let bad = dir.path().join("bad.jsonl");
    let good_line = serde_json::to_string(&fleet("2026-03-01T02:00:00Z")[0]).unwrap();
    std::fs::write(&bad, format!("{good_line}\n\n{{\"not\": \"a report\"}}\n")).unwrap();
    let e = merge(&[bad]).unwrap_err();
    assert!(e.to_string().contains("bad.jsonl:3:"), "{e}");
    // Empty files are valid: a shard with no targets.
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    assert_eq!(merge(&[empty]).unwrap(), vec![]);
}
