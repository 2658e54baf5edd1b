//! The page in flat memory (issue 18): the tallies keep counters and short lists instead of
//! every host, and the rows wait in an unnamed file. Checked against a reference that keeps
//! every host, as the tallies did before, on a demo-like fleet with names of several addresses.

use std::collections::{HashMap, HashSet};

use super::*;
use crate::report::headline::{HostKey, host_key, verdict_severity};

/// A demo-like fleet: one-address hosts of every kind, with more expiring certificates than
/// the page lists (and ties in days), and names with two or three addresses whose rows arrive
/// interleaved with other hosts' rows, as a concurrent scan writes them.
fn fleet() -> Vec<HostReport> {
    let mut one = Vec::new();
    for i in 0..700u32 {
        let host = format!("h{i}.example");
        let addr = format!("10.0.{}.{}", i / 250, i % 250);
        let mut r = healthy(&host, &addr);
        let r = match i % 10 {
            // One name on many ports (one host each), all expiring the same day: ties on
            // (days, host), which keep their arrival order.
            _ if i % 50 == 5 => {
                r.target.host = "SAME.example".into();
                r.target.port = 4000 + i as u16;
                expired(r, 7)
            }
            0 => filtered(r),
            1 => nxdomain(r),
            2 => tls10(r),
            3 => unpatched(r),
            // Many certificates within 90 days, with equal days and equal hosts.
            4..=6 => expired(r, i64::from(i % 97) - 10),
            _ => r,
        };
        one.push(diag(r));
    }
    let mut multi = Vec::new();
    for i in 0..40u32 {
        let addrs: Vec<IpAddr> = (0..2 + i % 2)
            .map(|k| format!("10.9.{i}.{k}").parse().unwrap())
            .collect();
        for (k, a) in addrs.iter().enumerate() {
            let mut r = healthy(&format!("multi{i}.example"), &a.to_string());
            r.dns.addresses = addrs.clone();
            // Each address its own trouble: the host takes the worst, each cause counts it once.
            let r = match (i + k as u32) % 4 {
                0 => filtered(r),
                1 => expired(r, 3),
                2 => tls10(r),
                _ => r,
            };
            multi.push(diag(r));
        }
    }
    // Interleave: a multi-address row every 17 one-address rows.
    let mut out = Vec::new();
    let mut m = multi.into_iter();
    for (i, r) in one.into_iter().enumerate() {
        out.push(r);
        if i % 17 == 0
            && let Some(x) = m.next()
        {
            out.push(x);
        }
    }
    out.extend(m);
    out
}

/// What the tallies were before: every host kept by key.
#[derive(Default)]
struct Reference {
    hosts: HashMap<HostKey, (Severity, bool)>,
    causes: HashMap<FindingCode, (Severity, HashSet<HostKey>)>,
    /// (days, host) in arrival order.
    certs: Vec<(i64, String)>,
}

impl Reference {
    fn add(&mut self, r: &HostReport) {
        let k = host_key(&r.record.target);
        let e = self.hosts.entry(k.clone()).or_insert((Severity::Ok, false));
        e.0 = e.0.max(verdict_severity(r));
        e.1 |= r.severity == Severity::Info;
        for f in r.findings.iter().filter(|f| f.severity >= Severity::Warn) {
            self.causes
                .entry(f.code)
                .or_insert((f.severity, HashSet::new()))
                .1
                .insert(k.clone());
        }
        let (_, days) = summary::cert_days(r, 0);
        if let (Some(d), Some(_)) = (days, r.record.cert.as_ref())
            && d <= HORIZON[2]
        {
            self.certs.push((d, clip(&r.record.target.host, 120)));
        }
    }
}

#[test]
fn tallies_match_a_reference_that_keeps_every_host() {
    let rows = fleet();
    let mut t = summary::Tally::default();
    let mut reference = Reference::default();
    for r in &rows {
        t.add_row(r);
        reference.add(r);
    }
    // Hosts and the headline.
    assert_eq!(t.hosts(), reference.hosts.len() as u64);
    assert_eq!(
        t.hosts(),
        700 + 40,
        "one per (name, port); a name of several addresses once"
    );
    let c = t.headline.counts();
    let count = |s: &[Severity]| {
        reference
            .hosts
            .values()
            .filter(|(v, _)| s.contains(v))
            .count() as u64
    };
    assert_eq!(c.fail, count(&[Severity::Fail]));
    assert_eq!(c.warn, count(&[Severity::Warn]));
    assert_eq!(c.healthy, count(&[Severity::Ok, Severity::Info]));
    assert!(c.fail > 0 && c.warn > 0 && c.healthy > 0);
    // Causes: hosts hit, severity, and the warn union.
    let ranked = t.ranked_causes();
    assert_eq!(ranked.len(), reference.causes.len());
    for (code, cause) in &ranked {
        let (sev, hosts) = &reference.causes[code];
        assert_eq!(
            (cause.severity, cause.hosts),
            (*sev, hosts.len() as u64),
            "{code}"
        );
    }
    let warn_union: HashSet<&HostKey> = reference
        .causes
        .values()
        .filter(|(s, _)| *s == Severity::Warn)
        .flat_map(|(_, h)| h.iter())
        .collect();
    assert_eq!(t.warn_hosts(), warn_union.len() as u64);
    assert!(t.warn_hosts() > 0);
    // Certificates: counts, and the soonest LIST_CAP in a stable sort's order.
    let mut certs = reference.certs.clone();
    certs.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    assert!(certs.len() > LIST_CAP, "the fleet must overflow the list");
    assert_eq!(t.certs.total, certs.len() as u64);
    assert_eq!(
        t.certs.expired,
        certs.iter().filter(|c| c.0 < 0).count() as u64
    );
    let kept: Vec<(i64, String)> = t
        .certs
        .soonest
        .iter()
        .map(|c| (c.days, c.host.clone()))
        .collect();
    assert_eq!(kept, certs[..LIST_CAP].to_vec());
    // Flat: only the names with several addresses are kept by key.
    assert_eq!(t.headline.counts().hosts, t.hosts());
}

#[test]
fn spilled_page_is_the_in_memory_page_byte_for_byte_and_leaves_no_file() {
    let rows = fleet();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.html");
    let mut sink: Box<dyn Sink> =
        Box::new(HtmlSink::create(&Output::File(path.clone()), &[]).unwrap());
    for r in &rows {
        sink.write(r).unwrap();
    }
    // While the scan runs, nothing named is in the folder (the page and the rows have no name).
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let s = summary(rows.len() as u64);
    sink.finish(&s).unwrap();
    let page = std::fs::read_to_string(&path).unwrap();
    assert_eq!(page, render(&rows, &s, &[]));
    assert_eq!(island(&page)["rows"].as_array().unwrap().len(), rows.len());
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("r.html")]);
}

#[test]
fn a_failed_scan_publishes_nothing_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.html");
    let sink = HtmlSink::create(&Output::File(path.clone()), &[]).unwrap();
    let mut sink: Box<dyn Sink> = Box::new(sink);
    sink.write(&diag(healthy("a.example", "192.0.2.1")))
        .unwrap();
    // The writer drops a sink without finishing it after another sink's error.
    drop(sink);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
