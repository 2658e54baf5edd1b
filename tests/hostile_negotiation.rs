//! Servers whose X.224 answer breaks the negotiation rules (issue 13, defects 4 and 8): a
//! selectedProtocol the client never offered (RDSTLS, RDSAAD, SSL|HYBRID, unknown bits), and a
//! connection confirm whose LI (6) leaves out the RDP_NEG_RSP sent after it. Each must give the
//! `rdp-protocol-violation` finding with the raw value in the JSON Lines, never `ok`.
//!
//! The servers are plain sockets in this test on 127.97.P.N (loopback only), answering every CR
//! with the same crafted bytes; the real binary scans them.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use rdpsweep::model::{FindingCode, HostReport, NegResult};
use rdpsweep::rdp::{Parse, x224};

const BIN: &str = env!("CARGO_BIN_EXE_rdpsweep");

/// A CC with RDP_NEG_RSP selecting `protocol` (LI 14, 19 bytes).
fn cc_selecting(protocol: u32) -> Vec<u8> {
    let mut v = vec![
        0x03, 0x00, 0x00, 0x13, // TPKT: version 3, length 19
        0x0E, // LI 14: the 6 fixed header bytes + 8 of negotiation data
        0xD0, // CC
        0x00, 0x00, // DST-REF
        0x12, 0x34, // SRC-REF
        0x00, // class 0
        0x02, // RDP_NEG_RSP
        0x00, // flags
        0x08, 0x00, // length 8
    ];
    v.extend_from_slice(&protocol.to_le_bytes()); // selectedProtocol
    v
}

/// The same 19 bytes, but LI says 6: the negotiation data lies outside the TPDU header.
fn cc_li6_hiding(protocol: u32) -> Vec<u8> {
    let mut v = cc_selecting(protocol);
    v[4] = 0x06;
    v
}

/// Answer every CR with `reply`, then hold the connection until the client closes it.
async fn serve(listener: TcpListener, reply: Vec<u8>) {
    loop {
        let Ok((mut s, _)) = listener.accept().await else {
            return;
        };
        let reply = reply.clone();
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 512];
            while !matches!(x224::parse_connection_request(&buf), Parse::Done(_)) {
                match tokio::time::timeout(Duration::from_secs(5), s.read(&mut chunk)).await {
                    Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                    _ => return,
                }
            }
            let _ = s.write_all(&reply).await;
            // Whatever follows (a ClientHello, an MCS PDU) is read and dropped until EOF.
            while let Ok(Ok(n)) =
                tokio::time::timeout(Duration::from_secs(5), s.read(&mut chunk)).await
            {
                if n == 0 {
                    break;
                }
            }
        });
    }
}

fn scan(targets: &[String], dir: &Path) -> Vec<HostReport> {
    let jsonl = dir.join("out.jsonl");
    let out = Command::new(BIN)
        .arg("scan")
        .args(targets)
        .args(["--rate", "0", "--timeout", "2s", "--connect-timeout", "1s"])
        .args(["--host-deadline", "8s", "--host-spacing", "0ms"])
        .args(["--fail-on", "never", "-q", "--jsonl"])
        .arg(&jsonl)
        .output()
        .expect("run rdpsweep");
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(&jsonl)
        .expect("jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a HostReport"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocols_never_offered_and_hidden_negotiation_are_violations() {
    let p = (std::process::id() % 200) as u8 + 1;
    // (reply, what the JSONL's first attempt must keep)
    let cases: Vec<(Vec<u8>, NegResult)> = vec![
        (cc_selecting(0x04), sel(0x04)), // RDSTLS: never offered
        (cc_selecting(0x10), sel(0x10)), // RDSAAD: never offered
        (cc_selecting(0x03), sel(0x03)), // SSL|HYBRID: two at once
        (cc_selecting(0x8000_0000), sel(0x8000_0000)), // an unknown bit
        (cc_selecting(0xFFFF_FFFF), sel(0xFFFF_FFFF)), // every bit
        (
            cc_li6_hiding(0x01),
            NegResult::UncoveredNeg {
                selected: Some(1),
                failure: None,
            },
        ),
    ];
    let mut targets = Vec::new();
    for (i, (reply, _)) in cases.iter().enumerate() {
        let ip = Ipv4Addr::new(127, 97, p, i as u8 + 1);
        let listener = TcpListener::bind(SocketAddr::from((ip, 3389)))
            .await
            .expect("bind 127.97.P.N:3389");
        tokio::spawn(serve(listener, reply.clone()));
        targets.push(ip.to_string());
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let rows = tokio::task::spawn_blocking({
        let targets = targets.clone();
        let dir = dir.path().to_path_buf();
        move || scan(&targets, &dir)
    })
    .await
    .expect("scan");
    assert_eq!(rows.len(), cases.len());
    for (target, (_, kept)) in targets.iter().zip(&cases) {
        let r = rows
            .iter()
            .find(|r| r.record.target.host == *target)
            .unwrap_or_else(|| panic!("no row for {target}"));
        assert_eq!(
            r.verdict,
            FindingCode::RdpProtocolViolation,
            "{target}: {r:?}"
        );
        let rdp = r.record.rdp.as_ref().expect("rdp phase");
        assert_eq!(&rdp.attempts[0].result, kept, "{target}: raw answer kept");
        assert!(
            rdp.accepted.is_empty(),
            "{target}: nothing accepted from a violation"
        );
        assert!(r.record.tls.is_none(), "{target}: no TLS on a violation");
        let detail = &r.findings[0].detail;
        assert!(
            detail.contains("0x") && (detail.contains("never offered") || detail.contains("LI=6")),
            "{target}: {detail}"
        );
    }
}

fn sel(protocol: u32) -> NegResult {
    NegResult::Selected { protocol, flags: 0 }
}
