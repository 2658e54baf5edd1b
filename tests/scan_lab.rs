//! End to end: the real binary scans the simulated fleet (in this process, on its own loopback
//! block) and every host must get the verdict the lab planted, in CSV and JSON Lines alike.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;

use rdpsweep::lab::{Lab, LabConfig};

#[path = "support/csv_rows.rs"]
mod csv_rows;
use csv_rows::read_csv;
use rdpsweep::model::HostReport;

const BIN: &str = env!("CARGO_BIN_EXE_rdpsweep");

fn read_jsonl(path: &Path) -> Vec<HostReport> {
    rdpsweep::report::jsonl::read_reports(path).expect("jsonl")
}

async fn start_lab(base: Ipv4Addr) -> Lab {
    Lab::start(
        LabConfig {
            base,
            port: 3389,
            dns: true,
        },
        Lab::demo_fleet(),
    )
    .await
    .expect("lab starts")
}

fn scan_args(lab: &Lab, dir: &Path) -> Vec<String> {
    let inv = dir.join("inv.csv");
    let ca = dir.join("ca.pem");
    std::fs::write(&inv, lab.inventory_csv()).unwrap();
    std::fs::write(&ca, &lab.ca_pem).unwrap();
    let dns = lab.dns_addr.expect("lab dns").to_string();
    [
        "scan",
        "-i",
        inv.to_str().unwrap(),
        "--dns-server",
        &dns,
        "--ca-bundle",
        ca.to_str().unwrap(),
        "--rate",
        "0",
        "--connect-timeout",
        "1s",
        "--timeout",
        "2s",
        "--host-spacing",
        "10ms",
        "--dns-timeout",
        "1s",
        "--retries",
        "0",
        "--csv",
        dir.join("out.csv").to_str().unwrap(),
        "--jsonl",
        dir.join("out.jsonl").to_str().unwrap(),
        "-q",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

async fn run_bin(args: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args(&args)
            .output()
            .expect("run rdpsweep")
    })
    .await
    .expect("join")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_lab_host_gets_its_planted_verdict() {
    let lab = start_lab(Ipv4Addr::new(127, 77, 101, 1)).await;
    let dir = tempfile::tempdir().unwrap();
    let out = run_bin(scan_args(&lab, dir.path())).await;
    // The fleet has failing hosts, so the default --fail-on fail exits 1.
    assert_eq!(
        out.status.code(),
        Some(1),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let (headers, rows) = read_csv(&dir.path().join("out.csv"));
    let expected_header: Vec<&str> = rdpsweep::report::csv::COLUMNS.to_vec();
    assert_eq!(&headers[..expected_header.len()], &expected_header[..]);
    // Inventory pass-through columns come after ours, in file order.
    assert_eq!(&headers[expected_header.len()..], &["expected".to_string()]);

    let reports = read_jsonl(&dir.path().join("out.jsonl"));
    assert_eq!(
        reports.len(),
        rows.len(),
        "CSV and JSONL have the same rows"
    );

    let mut wrong = Vec::new();
    for row in &rows {
        let host = &row["host"];
        let expected = &row["expected"];
        let verdict = &row["verdict"];
        // A multi-address name plants one behaviour per address: its row is checked below.
        if host.starts_with("multi.") {
            continue;
        }
        if verdict != expected {
            wrong.push(format!(
                "{host} ({}): expected {expected}, got {verdict} [{}]",
                row["address"], row["findings"]
            ));
        }
        let rep = reports
            .iter()
            .find(|r| {
                &r.record.target.host == host
                    && r.record.address.map(|a| a.to_string()).unwrap_or_default() == row["address"]
            })
            .unwrap_or_else(|| panic!("{host} missing from JSONL"));
        assert_eq!(rep.verdict.as_str(), verdict, "{host}: JSONL and CSV agree");
    }
    assert!(wrong.is_empty(), "wrong verdicts:\n{}", wrong.join("\n"));

    // Every address of a multi-address name has its own row.
    let multi: Vec<_> = rows
        .iter()
        .filter(|r| r["host"].starts_with("multi."))
        .collect();
    assert_eq!(multi.len(), 2, "multi.lab.test has two A records");
    assert!(multi.iter().any(|r| r["tcp_status"] == "refused"));
    assert!(multi.iter().any(|r| r["tcp_status"] == "open"));

    // Spot-check columns on a healthy NLA host.
    let good = rows
        .iter()
        .find(|r| r["host"].starts_with("good-nla."))
        .expect("good-nla row");
    assert_eq!(good["dns_status"], "resolved");
    assert_eq!(good["tcp_status"], "open");
    assert!(good["rdp_accepted"].contains("HYBRID"), "{good:?}");
    assert_eq!(good["rdp_required"], "HYBRID");
    assert!(good["tls_version"].starts_with("TLSv1."), "{good:?}");
    assert_eq!(good["cert_trusted"], "yes");
    assert_eq!(good["cert_name_match"], "yes");
    assert_eq!(good["cert_sha1"].len(), 40);
    assert_eq!(good["cert_sha256"].len(), 64);
    assert_eq!(good["credssp_version"], "6");
    assert!(!good["ntlm_nb_computer"].is_empty());
    let conns: u32 = good["connections"].parse().unwrap();
    assert!(
        (1..=3).contains(&conns),
        "standard depth uses at most 3 connections, got {conns}"
    );

    // Certificate days-left is a number cell, negative once expired.
    let expired = rows
        .iter()
        .find(|r| r["host"].starts_with("cert-expired."))
        .expect("expired row");
    assert!(expired["cert_days_left"].parse::<i64>().unwrap() < 0);
    lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_depth_uses_one_connection_per_address() {
    let lab = start_lab(Ipv4Addr::new(127, 77, 102, 1)).await;
    let dir = tempfile::tempdir().unwrap();
    let mut args = scan_args(&lab, dir.path());
    args.extend(["--depth".to_string(), "quick".to_string()]);
    let _ = run_bin(args).await;
    let (_, rows) = read_csv(&dir.path().join("out.csv"));
    let good = rows
        .iter()
        .find(|r| r["host"].starts_with("good-nla."))
        .expect("good-nla row");
    assert_eq!(good["connections"], "1");
    assert_eq!(good["verdict"], "ok");
    assert_eq!(good["credssp_version"], "6");
    lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_on_controls_the_exit_code() {
    let lab = start_lab(Ipv4Addr::new(127, 77, 103, 1)).await;
    let good = lab
        .hosts
        .iter()
        .find(|h| h.name.as_deref() == Some("good-nla.lab.test"))
        .unwrap()
        .addr;
    let closed = lab
        .hosts
        .iter()
        .find(|h| h.name.as_deref() == Some("closed.lab.test"))
        .unwrap()
        .addr;
    let base = |t: &str, fail_on: &str| -> Vec<String> {
        [
            "scan",
            t,
            "--rate",
            "0",
            "--connect-timeout",
            "1s",
            "--fail-on",
            fail_on,
            "-q",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    assert_eq!(
        run_bin(base(&good.to_string(), "fail")).await.status.code(),
        Some(0)
    );
    // The healthy host's worst finding is info (NLA required, self-signed...).
    assert_eq!(
        run_bin(base(&good.to_string(), "info")).await.status.code(),
        Some(1)
    );
    assert_eq!(
        run_bin(base(&closed.to_string(), "fail"))
            .await
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        run_bin(base(&closed.to_string(), "never"))
            .await
            .status
            .code(),
        Some(0)
    );
    lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_to_stdout_and_inventory_columns_are_formula_safe() {
    let lab = start_lab(Ipv4Addr::new(127, 77, 104, 1)).await;
    let good = lab
        .hosts
        .iter()
        .find(|h| h.name.as_deref() == Some("good-nla.lab.test"))
        .unwrap()
        .addr;
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.csv");
    std::fs::write(
        &inv,
        format!("host,owner,ticket\n{good},=cmd|' /C calc'!A0,@SUM(1+1)\n"),
    )
    .unwrap();
    let out = run_bin(
        [
            "scan",
            "-i",
            inv.to_str().unwrap(),
            "--rate",
            "0",
            "--csv",
            "-",
            "-q",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
    )
    .await;
    let text = String::from_utf8(out.stdout).unwrap();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let headers = r.headers().unwrap().clone();
    let rec = r.records().next().unwrap().unwrap();
    let get = |name: &str| {
        rec.get(headers.iter().position(|h| h == name).unwrap())
            .unwrap()
            .to_string()
    };
    assert_eq!(get("owner"), "'=cmd|' /C calc'!A0");
    assert_eq!(get("ticket"), "'@SUM(1+1)");
    assert_eq!(get("address"), good.to_string());
    lab.shutdown().await;
}

/// The README's first set-up command (`rdpsweep demo`) works and writes what it promises.
#[test]
fn readme_demo_command_writes_reports() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("demo");
    let out = Command::new(BIN)
        .args([
            "demo",
            "--out",
            out_dir.to_str().unwrap(),
            "--base",
            "127.77.105.1",
            "-q",
        ])
        .output()
        .expect("run demo");
    assert!(
        out.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in [
        "rdpsweep.html",
        "rdpsweep.csv",
        "rdpsweep.jsonl",
        "lab-inventory.csv",
    ] {
        let p = out_dir.join(f);
        assert!(
            p.metadata().map(|m| m.len() > 100).unwrap_or(false),
            "{f} missing or empty"
        );
    }
    let (_, rows) = read_csv(&out_dir.join("rdpsweep.csv"));
    assert!(rows.len() >= 40, "demo fleet rows: {}", rows.len());
    let verdicts: std::collections::HashSet<&str> =
        rows.iter().map(|r| r["verdict"].as_str()).collect();
    for v in [
        "ok",
        "dns-nxdomain",
        "port-closed",
        "port-filtered",
        "cert-expired",
        "nla-required",
        "tls-legacy-only",
    ] {
        if v == "nla-required" {
            continue; // info finding: listed in findings, not a verdict
        }
        assert!(verdicts.contains(v), "demo shows {v}: {verdicts:?}");
    }
    // And the README says so.
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(readme.contains("cargo run --release -- demo"));
    assert!(readme.contains(".ci/run"));
}

/// Every finding code is documented in the README with its remedy.
#[test]
fn readme_lists_every_finding_code() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for c in rdpsweep::model::FindingCode::ALL.iter().map(|c| c.info()) {
        assert!(
            readme.contains(&format!("`{}`", c.code)),
            "README misses {}",
            c.code
        );
        assert!(
            readme.contains(c.remedy),
            "README misses the remedy of {}",
            c.code
        );
    }
}

/// A scale lab with RSA-2048 keys throughout (what a Windows fleet serves): the TLS hosts hand
/// out RSA certificates signed with sha256WithRSAEncryption, the scanner verifies the chain against
/// the lab CA, and the verdicts are still the planted ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsa_keyed_scale_lab_scans_as_planted() {
    use rdpsweep::lab::{KeyAlg, LabKeys};
    let keys = LabKeys {
        ca: KeyAlg::Rsa,
        leaf: KeyAlg::Rsa,
    };
    let lab = Lab::scale_with_keys(40, Ipv4Addr::new(127, 77, 110, 1), 3389, keys)
        .await
        .expect("lab starts");
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.csv");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&inv, lab.inventory_csv()).unwrap();
    std::fs::write(&ca, &lab.ca_pem).unwrap();
    let out_csv = dir.path().join("out.csv");
    let args: Vec<String> = [
        "scan",
        "-i",
        inv.to_str().unwrap(),
        "--ca-bundle",
        ca.to_str().unwrap(),
        "--rate",
        "0",
        "--connect-timeout",
        "500ms",
        "--retries",
        "0",
        "--host-spacing",
        "10ms",
        "--fail-on",
        "never",
        "--csv",
        out_csv.to_str().unwrap(),
        "-q",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let out = run_bin(args).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, rows) = read_csv(&out_csv);
    let planted: HashMap<String, String> = read_csv(&inv)
        .1
        .into_iter()
        .map(|r| (r["host"].clone(), r["expected"].clone()))
        .collect();
    assert_eq!(rows.len(), 40);
    let mut healthy = 0;
    for r in &rows {
        assert_eq!(r["verdict"], planted[&r["host"]], "{r:?}");
        if r["verdict"] == "ok" {
            healthy += 1;
            assert_eq!(r["cert_key"], "RSA-2048", "{r:?}");
            assert_eq!(r["cert_sig_alg"], "sha256WithRSAEncryption", "{r:?}");
            assert_eq!(r["cert_trusted"], "yes", "{r:?}");
            assert_eq!(r["credssp_version"], "6", "{r:?}");
        }
    }
    assert!(
        healthy >= 25,
        "the mix is mostly healthy NLA hosts: {healthy}"
    );
    lab.shutdown().await;
}
