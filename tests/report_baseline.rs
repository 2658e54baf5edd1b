//! The nightly job's loop: scan, scan again against the previous JSON Lines (`--baseline`),
//! alert only on new failures (`--fail-on new`), and rebuild reports from a saved scan
//! (`report --from`) byte for byte.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;

use rdpsweep::lab::{Behavior, Lab, LabConfig, RdpHost, RdpPolicy};
use rdpsweep::model::{FindingCode, HostReport, Severity};

const BIN: &str = env!("CARGO_BIN_EXE_rdpsweep");

async fn run(args: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || Command::new(BIN).args(&args).output().expect("run"))
        .await
        .expect("join")
}

fn scan_args(inv: &Path, extra: &[&str]) -> Vec<String> {
    let ca = inv.with_file_name("ca.pem");
    let mut v: Vec<String> = [
        "scan",
        "-i",
        inv.to_str().unwrap(),
        "--ca-bundle",
        ca.to_str().unwrap(),
        "--rate",
        "0",
        "--connect-timeout",
        "1s",
        "--timeout",
        "2s",
        "-q",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn changes(path: &Path) -> HashMap<String, (String, String)> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let h = r.headers().unwrap().clone();
    let idx = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (host, change, since) = (idx("host"), idx("change"), idx("first_seen_failing"));
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            (
                rec[host].to_string(),
                (rec[change].to_string(), rec[since].to_string()),
            )
        })
        .collect()
}

fn write_jsonl(path: &Path, rows: &[HostReport]) {
    let text: String = rows
        .iter()
        .map(|r| serde_json::to_string(r).unwrap() + "\n")
        .collect();
    std::fs::write(path, text).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baseline_marks_changes_and_fail_on_new_alerts_only_on_regressions() {
    let hosts = vec![
        (
            Some("good"),
            Behavior::Rdp(RdpHost::new(RdpPolicy::WindowsNla)),
            "healthy",
        ),
        (
            Some("good2"),
            Behavior::Rdp(RdpHost::new(RdpPolicy::WindowsNla)),
            "healthy",
        ),
        (Some("closed"), Behavior::Closed, "closed"),
        (Some("reset"), Behavior::RdpReset, "reset"),
    ];
    let lab = Lab::start(
        LabConfig {
            base: Ipv4Addr::new(127, 77, 130, 1),
            port: 3389,
            dns: false,
        },
        hosts,
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let inv = d.join("inv.txt");
    std::fs::write(d.join("ca.pem"), &lab.ca_pem).unwrap();
    std::fs::write(
        &inv,
        lab.hosts
            .iter()
            .map(|h| format!("{}\n", h.addr))
            .collect::<String>(),
    )
    .unwrap();
    let addr = |n: &str| {
        lab.hosts
            .iter()
            .find(|h| h.name.as_deref() == Some(&format!("{n}.lab.test")))
            .unwrap()
            .addr
            .to_string()
    };

    // Night 1.
    let day1 = d.join("day1.jsonl");
    let out = run(scan_args(&inv, &["--jsonl", day1.to_str().unwrap()])).await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Night 2, nothing changed: every row unchanged, and --fail-on new stays quiet.
    let day2_csv = d.join("day2.csv");
    let day2 = d.join("day2.jsonl");
    let out = run(scan_args(
        &inv,
        &[
            "--baseline",
            day1.to_str().unwrap(),
            "--fail-on",
            "new",
            "--csv",
            day2_csv.to_str().unwrap(),
            "--jsonl",
            day2.to_str().unwrap(),
        ],
    ))
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c = changes(&day2_csv);
    assert!(c.values().all(|(ch, _)| ch == "unchanged"), "{c:?}");
    // Failing rows carry first_seen_failing from night 1.
    let day1_rows = rdpsweep::report::jsonl::read_reports(&day1).unwrap();
    let closed_day1 = day1_rows
        .iter()
        .find(|r| r.record.target.host == addr("closed"))
        .unwrap();
    assert_eq!(c[&addr("closed")].1, closed_day1.record.scanned_at);
    assert_eq!(
        c[&addr("good")].1,
        "",
        "healthy rows have no first_seen_failing"
    );

    // A doctored night 1: `closed` was healthy (so it is new now), `good2` was failing (fixed now),
    // `reset` failed differently (changed), and a host no longer in the inventory (gone).
    let mut doctored = day1_rows.clone();
    for r in doctored.iter_mut() {
        let h = r.record.target.host.clone();
        if h == addr("closed") {
            r.severity = Severity::Ok;
            r.verdict = FindingCode::Ok;
            r.findings.retain(|_| false);
        } else if h == addr("good2") {
            r.severity = Severity::Fail;
            r.verdict = FindingCode::PortClosed;
            r.findings = rdpsweep::diagnose::diagnose(
                &{
                    let mut rec = r.record.clone();
                    rec.tcp = Some(rdpsweep::model::TcpOutcome {
                        status: rdpsweep::model::TcpStatus::Refused,
                        rtt_ms: None,
                        error: None,
                        icmp: None,
                        alive: None,
                    });
                    rec.rdp = None;
                    rec.tls = None;
                    rec.cert = None;
                    rec.credssp = None;
                    rec
                },
                0,
                &Default::default(),
            );
        } else if h == addr("reset") {
            r.verdict = FindingCode::RdpNoReply;
            if let Some(f) = r.findings.first_mut() {
                f.code = FindingCode::RdpNoReply;
            }
        }
    }
    let mut gone = day1_rows[0].clone();
    gone.record.target.host = "127.77.130.200".into();
    gone.record.address = Some("127.77.130.200".parse().unwrap());
    doctored.push(gone);
    let base = d.join("doctored.jsonl");
    write_jsonl(&base, &doctored);

    let day3_csv = d.join("day3.csv");
    let day3 = d.join("day3.jsonl");
    let out = run(scan_args(
        &inv,
        &[
            "--baseline",
            base.to_str().unwrap(),
            "--fail-on",
            "new",
            "--csv",
            day3_csv.to_str().unwrap(),
            "--jsonl",
            day3.to_str().unwrap(),
        ],
    ))
    .await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "a new failure alerts: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c = changes(&day3_csv);
    assert_eq!(c[&addr("closed")].0, "new");
    assert!(
        !c[&addr("closed")].1.is_empty(),
        "a new failure starts its first_seen_failing"
    );
    assert_eq!(c[&addr("good2")].0, "fixed");
    assert_eq!(c[&addr("reset")].0, "changed");
    assert_eq!(c[&addr("good")].0, "unchanged");
    assert_eq!(c["127.77.130.200"].0, "gone");

    // `report --from` rebuilds the CSV and JSON Lines identically from the saved scan.
    let re_csv = d.join("re.csv");
    let re_jsonl = d.join("re.jsonl");
    let out = run([
        "report",
        "--from",
        day3.to_str().unwrap(),
        "--csv",
        re_csv.to_str().unwrap(),
        "--jsonl",
        re_jsonl.to_str().unwrap(),
        "--fail-on",
        "never",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect())
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(&re_csv).unwrap(),
        std::fs::read(&day3_csv).unwrap(),
        "CSV rebuilt byte for byte"
    );
    assert_eq!(
        std::fs::read(&re_jsonl).unwrap(),
        std::fs::read(&day3).unwrap(),
        "JSONL rebuilt byte for byte"
    );
    // And the saved changes still drive --fail-on new without a baseline.
    let out = run([
        "report",
        "--from",
        day3.to_str().unwrap(),
        "--csv",
        re_csv.to_str().unwrap(),
        "--fail-on",
        "new",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect())
    .await;
    assert_eq!(out.status.code(), Some(1));
    lab.shutdown().await;
}

#[test]
fn bad_baseline_is_a_clear_setup_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("old.jsonl");
    std::fs::write(&bad, "{\"not\": \"a report\"}\n").unwrap();
    let out = Command::new(BIN)
        .args([
            "scan",
            "127.0.0.1",
            "--baseline",
            bad.to_str().unwrap(),
            "--rate",
            "0",
            "-q",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("old.jsonl:1"), "{err}");
}
