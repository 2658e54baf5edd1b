//! RDP over UDP end to end: the real binary scans lab hosts (in this process, loopback
//! 127.79.0.x) whose RDP port over UDP answers the MS-RDPEUDP SYN (`open`), has no socket
//! (ICMP port unreachable: `refused`) or drops it (`no-answer`); `--udp off` and quick depth
//! leave it `not-probed`. Then a REAL xrdp (no RDP-UDP server side) on 127.79.P.N: TCP RDP
//! works, UDP does not, and the scan says so.

#[path = "support/csv_rows.rs"]
mod csv_rows;
#[path = "support/xrdp.rs"]
mod xrdp;

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;

use rdpsweep::lab::{Behavior, Lab, LabConfig, RdpHost, RdpPolicy, UdpMode};
use rdpsweep::model::{HostReport, UdpStatus};

const BIN: &str = env!("CARGO_BIN_EXE_rdpsweep");

type Row = HashMap<String, String>;

/// Scans `targets` with `extra` flags; rows and reports by address.
fn scan(
    dir: &Path,
    targets: &[String],
    extra: &[&str],
) -> (HashMap<String, Row>, HashMap<String, HostReport>) {
    let csv = dir.join("out.csv");
    let jsonl = dir.join("out.jsonl");
    // Targets first: `-q` and `--udp` take an optional value and would swallow one after them.
    let mut args: Vec<String> = vec!["scan".to_string()];
    args.extend(targets.iter().cloned());
    args.extend(
        [
            "--rate",
            "0",
            "--connect-timeout",
            "1s",
            "--timeout",
            "2s",
            "--host-spacing",
            "10ms",
            "--retries",
            "0",
            "--csv",
            csv.to_str().unwrap(),
            "--jsonl",
            jsonl.to_str().unwrap(),
            "-q",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = Command::new(BIN)
        .args(&args)
        .output()
        .expect("run rdpsweep");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "rdpsweep {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, rows) = csv_rows::read_csv(&csv);
    let rows = rows
        .into_iter()
        .map(|r| (r["address"].clone(), r))
        .collect();
    let reports = rdpsweep::report::jsonl::read_reports(&jsonl)
        .expect("jsonl")
        .into_iter()
        .map(|r| {
            (
                r.record.address.map(|a| a.to_string()).unwrap_or_default(),
                r,
            )
        })
        .collect();
    (rows, reports)
}

fn udp_status(r: &HostReport) -> Option<UdpStatus> {
    r.record.net.as_ref()?.udp.as_ref().map(|u| u.status)
}

fn has_udp_blocked(row: &Row) -> bool {
    row["findings"].split(';').any(|f| f == "udp-blocked")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lab_udp_open_closed_silent() {
    let nla = || RdpHost::new(RdpPolicy::WindowsNla);
    let lab = Lab::start(
        LabConfig {
            base: Ipv4Addr::new(127, 79, 0, 1),
            port: 3389,
            dns: false,
        },
        vec![
            (None, Behavior::Rdp(nla()), "answers RDP-UDP"),
            (
                None,
                Behavior::Rdp(nla().udp(UdpMode::Closed)),
                "no UDP socket",
            ),
            (
                None,
                Behavior::Rdp(nla().udp(UdpMode::Silent)),
                "UDP dropped",
            ),
            // TCP never gets to TLS: the UDP probe is not sent.
            (None, Behavior::Closed, "closed"),
        ],
    )
    .await
    .expect("lab starts");
    let ip = |i: usize| lab.hosts[i].addr.to_string();
    let targets: Vec<String> = (0..4).map(ip).collect();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &lab.ca_pem).unwrap();
    let ca_arg = ["--ca-bundle", ca.to_str().unwrap()];

    let (rows, reports) = tokio::task::block_in_place(|| scan(dir.path(), &targets, &ca_arg));
    let expect = [
        ("open", false, Some(UdpStatus::Open)),
        ("refused", true, Some(UdpStatus::Refused)),
        ("no-answer", true, Some(UdpStatus::NoAnswer)),
        ("not-probed", false, None),
    ];
    for (i, (col, blocked, status)) in expect.iter().enumerate() {
        let row = &rows[&ip(i)];
        assert_eq!(row["udp"], *col, "{}: {row:#?}", lab.hosts[i].note);
        assert_eq!(has_udp_blocked(row), *blocked, "{row:#?}");
        assert_eq!(udp_status(&reports[&ip(i)]), *status);
    }
    // The healthy host's verdict stays ok with UDP blocked: the finding is information.
    assert_eq!(rows[&ip(1)]["verdict"], "ok", "{:#?}", rows[&ip(1)]);
    let open = reports[&ip(0)]
        .record
        .net
        .as_ref()
        .unwrap()
        .udp
        .clone()
        .unwrap();
    assert_eq!((open.version, open.mtu), (Some(2), Some(1232)), "{open:?}");
    // A UDP datagram is not a TCP connection: the count is the standard plan's.
    assert_eq!(rows[&ip(0)]["connections"], rows[&ip(1)]["connections"]);

    // Off by flag, and off at quick depth.
    for extra in [&["--udp", "off"][..], &["--depth", "quick"][..]] {
        let mut args = ca_arg.to_vec();
        args.extend_from_slice(extra);
        let (rows, reports) = tokio::task::block_in_place(|| scan(dir.path(), &targets, &args));
        for i in 0..4 {
            assert_eq!(rows[&ip(i)]["udp"], "not-probed", "{extra:?}");
            assert!(!has_udp_blocked(&rows[&ip(i)]));
            assert_eq!(udp_status(&reports[&ip(i)]), None);
        }
    }
    // Quick depth with --udp on asks for it explicitly.
    let mut args = ca_arg.to_vec();
    args.extend_from_slice(&["--depth", "quick", "--udp"]);
    let (rows, _) = tokio::task::block_in_place(|| scan(dir.path(), &targets[..2], &args));
    assert_eq!(rows[&ip(0)]["udp"], "open");
    assert_eq!(rows[&ip(1)]["udp"], "refused");
}

/// xrdp has no RDP-UDP server side: its TCP RDP works (TLS), its UDP port never answers a
/// SYN+ACK. On loopback nothing is bound there, so the kernel's ICMP makes it `refused`.
#[test]
fn real_xrdp_has_no_rdp_udp() {
    let test = "real_xrdp_has_no_rdp_udp";
    let Some(bin) = xrdp::tool_or_skip(test, xrdp::XRDP, "xrdp") else {
        return;
    };
    let Some(openssl) = xrdp::tool_or_skip(test, xrdp::OPENSSL, "openssl") else {
        return;
    };
    xrdp::use_block(79);
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.pem");
    let cert = dir.path().join("cert.pem");
    xrdp::rsa_key(&openssl, &key).expect("key");
    xrdp::self_signed(&openssl, &key, "xrdp-udp.rdpsweep.test", 30, &cert).expect("cert");
    let cfg = xrdp::XrdpConfig {
        certificate: Some(cert),
        key_file: Some(key),
        ..xrdp::XrdpConfig::new("tls")
    };
    let x = xrdp::Xrdp::start(&bin, &cfg).unwrap_or_else(|e| panic!("xrdp: {e}"));
    let target = x.ip().to_string();
    let (rows, reports) = scan(dir.path(), std::slice::from_ref(&target), &[]);
    let row = &rows[&target];
    assert_eq!(row["tcp_status"], "open", "{row:#?}");
    assert!(
        row["tls_version"].starts_with("TLSv1."),
        "TLS worked: {row:#?}"
    );
    assert!(
        matches!(row["udp"].as_str(), "refused" | "no-answer"),
        "{row:#?}"
    );
    assert!(has_udp_blocked(row), "{row:#?}");
    let u = reports[&target]
        .record
        .net
        .as_ref()
        .unwrap()
        .udp
        .clone()
        .unwrap();
    assert!(u.version.is_none() && u.mtu.is_none(), "{u:?}");
    drop(x);
}
