//! The deep cipher-suite enumeration and the OS hint against ONE real xrdp listener
//! (127.96.x.y:3389, loopback only; killed when the test ends) with a known `tls_ciphers`
//! list on TLS 1.0, 1.2 and 1.3, a NULL suite among them (this Debian OpenSSL has no 3DES or
//! RC4 at any security level; NULL-SHA256 at level 0 is the weak suite it still has).
//!
//! Two independent checks, neither using the scanner's code:
//! - `openssl ciphers -V -s -tls1|-tls1_2|-tls1_3 LIST` says which configured suites each
//!   version can use; intersected with what the scanner's hello offers, that is the set the
//!   enumeration must find, exactly.
//! - `openssl s_client -cipher X` per suite, through a small relay that does the X.224
//!   exchange first (s_client cannot), says whether xrdp accepts it: it must agree with the
//!   enumeration for every configured suite and for one suite not configured per version.

#[path = "support/csv_rows.rs"]
mod csv_rows;
#[path = "support/nmap.rs"]
mod nmap;
#[path = "support/xrdp.rs"]
mod xrdp;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rdpsweep::model::HostReport;
use rdpsweep::tls::TlsVersion;
use rdpsweep::tls::suites::{enumeration_offer, suite_label};
use xrdp::{Xrdp, XrdpConfig};

const BIN: &str = env!("CARGO_BIN_EXE_rdpsweep");
const HOST: &str = "xrdp-enum.rdpsweep.test";
/// Configured order; OpenSSL's own names. NULL-SHA256 needs security level 0.
const CIPHERS: &str = "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-SHA:AES256-SHA256:\
                       AES128-SHA:NULL-SHA256:@SECLEVEL=0";
/// (version, `openssl ciphers`/`s_client` version flag, a suite the list leaves out).
const VERSIONS: &[(&str, &str, &str)] = &[
    ("TLSv1.0", "-tls1", "AES256-SHA"),
    ("TLSv1.2", "-tls1_2", "ECDHE-RSA-AES128-GCM-SHA256"),
    ("TLSv1.3", "-tls1_3", ""),
];

fn version(name: &str) -> TlsVersion {
    match name {
        "TLSv1.0" => TlsVersion::TLS10,
        "TLSv1.2" => TlsVersion::TLS12,
        _ => TlsVersion::TLS13,
    }
}

/// `openssl ciphers -V -s FLAG LIST`: (IANA id, OpenSSL name) in OpenSSL's preference order.
fn openssl_ciphers(openssl: &Path, flag: &str) -> Vec<(u16, String)> {
    let out = Command::new(openssl)
        .args(["ciphers", "-V", "-s", flag, CIPHERS])
        .output()
        .expect("openssl ciphers");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut v = Vec::new();
    for line in text.lines() {
        // "          0xC0,0x30 - ECDHE-RSA-AES256-GCM-SHA384 TLSv1.2 Kx=ECDH ..."
        let mut words = line.split_whitespace();
        let (Some(hex), Some("-"), Some(name)) = (words.next(), words.next(), words.next()) else {
            continue;
        };
        let bytes: Vec<u8> = hex
            .split(',')
            .filter_map(|b| u8::from_str_radix(b.trim_start_matches("0x"), 16).ok())
            .collect();
        if let [hi, lo] = bytes[..] {
            v.push((u16::from_be_bytes([hi, lo]), name.to_string()));
        }
    }
    assert!(
        !v.is_empty(),
        "openssl ciphers {flag}: nothing parsed from {text}"
    );
    v
}

/// A relay on loopback: for each client, a new connection to xrdp, a CR asking for SSL and the
/// CC, then bytes copied both ways. Stops accepting when dropped.
struct Relay {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Relay {
    fn start(upstream: SocketAddr) -> Relay {
        let listener = TcpListener::bind((upstream.ip(), 0)).expect("relay bind");
        let addr = listener.local_addr().expect("relay addr");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if flag.load(Ordering::Relaxed) {
                    break;
                }
                if let Ok(c) = client {
                    std::thread::spawn(move || relay_one(c, upstream));
                }
            }
        });
        Relay { addr, stop }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

fn relay_one(client: TcpStream, upstream: SocketAddr) {
    let t = Some(Duration::from_secs(5));
    let Ok(mut server) = TcpStream::connect_timeout(&upstream, Duration::from_secs(5)) else {
        return;
    };
    let _ = server.set_read_timeout(t);
    let _ = client.set_read_timeout(t);
    if server.write_all(&nmap::connection_request(0x01)).is_err() {
        return;
    }
    let mut cc = [0u8; 19];
    if server.read_exact(&mut cc).is_err() {
        return;
    }
    if !matches!(
        nmap::parse_cc(&cc),
        nmap::CcReply::Selected { protocol: 1, .. }
    ) {
        return;
    }
    let (Ok(mut c2), Ok(mut s2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let up = std::thread::spawn(move || {
        let mut c = client;
        let _ = std::io::copy(&mut c, &mut s2);
        let _ = s2.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut server, &mut c2);
    let _ = c2.shutdown(Shutdown::Write);
    let _ = up.join();
}

/// Whether `openssl s_client` completes a handshake with exactly `suite` at `flag`'s version.
fn s_client_accepts(openssl: &Path, relay: SocketAddr, flag: &str, suite: &str) -> bool {
    let mut args = vec![
        "s_client".to_string(),
        "-connect".into(),
        relay.to_string(),
        flag.into(),
    ];
    if flag == "-tls1_3" {
        args.extend(["-ciphersuites".into(), suite.into()]);
    } else {
        args.extend(["-cipher".into(), format!("{suite}:@SECLEVEL=0")]);
    }
    let out = Command::new(openssl)
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .expect("openssl s_client");
    let text = String::from_utf8_lossy(&out.stdout);
    out.status.success() && text.contains(&format!("Cipher is {suite}"))
}

fn scan(addr: SocketAddr) -> (HashMap<String, String>, HostReport) {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv_path = dir.path().join("out.csv");
    let jsonl_path = dir.path().join("out.jsonl");
    let resolve = format!("{HOST}={}", addr.ip());
    let csv = csv_path.display().to_string();
    let jsonl = jsonl_path.display().to_string();
    let args = [
        "scan",
        HOST,
        "--resolve",
        &resolve,
        "--depth",
        "deep",
        "--rate",
        "0",
        "--connect-timeout",
        "2s",
        "--timeout",
        "5s",
        "--host-spacing",
        "5ms",
        "--retries",
        "0",
        "-q",
        "--csv",
        &csv,
        "--jsonl",
        &jsonl,
    ];
    let out = Command::new(BIN).args(args).output().expect("run rdpsweep");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "rdpsweep exited {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let row = csv_rows::read_csv(&csv_path)
        .1
        .into_iter()
        .next()
        .expect("one row");
    let rep = rdpsweep::report::jsonl::read_reports(&jsonl_path)
        .expect("jsonl")
        .into_iter()
        .next()
        .expect("one report");
    (row, rep)
}

#[test]
fn suite_enumeration_and_os_hint_against_real_xrdp() {
    let test = "suite_enumeration_and_os_hint_against_real_xrdp";
    xrdp::use_block(96);
    let Some(bin) = xrdp::tool_or_skip(test, xrdp::XRDP, "xrdp") else {
        return;
    };
    let Some(openssl) = xrdp::tool_or_skip(test, xrdp::OPENSSL, "openssl") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("enum.key");
    let cert = dir.path().join("enum.pem");
    xrdp::rsa_key(&openssl, &key).expect("RSA key");
    xrdp::self_signed(&openssl, &key, HOST, 365, &cert).expect("certificate");
    let cfg = XrdpConfig {
        certificate: Some(cert),
        key_file: Some(key),
        ssl_protocols: Some("TLSv1, TLSv1.2, TLSv1.3".into()),
        tls_ciphers: Some(CIPHERS.into()),
        ..XrdpConfig::new("tls")
    };
    let x = Xrdp::start(&bin, &cfg).unwrap_or_else(|e| panic!("xrdp: {e}"));
    let (row, rep) = scan(x.addr());
    let relay = Relay::start(x.addr());

    let mut errors: Vec<String> = Vec::new();
    let tls = rep
        .record
        .tls
        .clone()
        .unwrap_or_else(|| panic!("no TLS facts\n{}", x.output()));
    eprintln!("enumerated: {:#?}", tls.suites);
    let got_versions: Vec<&str> = tls.suites.iter().map(|l| l.version.as_str()).collect();
    // Newest first, one list per version the single-version hellos found.
    if got_versions != ["TLSv1.3", "TLSv1.2", "TLSv1.0"] {
        errors.push(format!("enumerated versions {got_versions:?}"));
    }
    for (name, flag, left_out) in VERSIONS {
        let Some(list) = tls.suites.iter().find(|l| l.version == *name) else {
            continue;
        };
        let offered = enumeration_offer(version(name));
        let configured = openssl_ciphers(&openssl, flag);
        // Check 1: the configured list (as OpenSSL filters it for this version) within what
        // our hello offers, exactly, in the server's order or in our offer's.
        let want_server: Vec<String> = configured
            .iter()
            .filter(|(id, _)| offered.contains(id))
            .map(|(id, _)| suite_label(*id))
            .collect();
        let want_client: Vec<String> = offered
            .iter()
            .filter(|id| configured.iter().any(|(c, _)| c == *id))
            .map(|id| suite_label(*id))
            .collect();
        let want = match list.server_order {
            Some(false) => &want_client,
            _ => &want_server,
        };
        if &list.suites != want {
            errors.push(format!(
                "{name}: enumerated {:?} (server order {:?}), want {want:?}",
                list.suites, list.server_order
            ));
        }
        // The weak-only walk: NULL-SHA256 exists at TLS 1.2 only.
        let want_weak: &[&str] = if *name == "TLSv1.2" {
            &["TLS_RSA_WITH_NULL_SHA256"]
        } else {
            &[]
        };
        if list.weak != want_weak {
            errors.push(format!(
                "{name}: weak walk {:?}, want {want_weak:?}",
                list.weak
            ));
        }
        if !list.complete || list.error.is_some() {
            errors.push(format!("{name}: incomplete ({:?})", list.error));
        }
        if want.len() >= 2 && list.server_order.is_none() {
            errors.push(format!("{name}: server order not checked"));
        }
        // Check 2: s_client per configured suite, and one left out, through the relay.
        let mut cases: Vec<(String, String)> = configured
            .iter()
            .map(|(id, n)| (suite_label(*id), n.clone()))
            .collect();
        if !left_out.is_empty() {
            cases.push(("left out".into(), left_out.to_string()));
        }
        for (iana, openssl_name) in cases {
            let accepted = s_client_accepts(&openssl, relay.addr, flag, &openssl_name);
            let listed = list.suites.contains(&iana);
            if accepted != listed {
                errors.push(format!(
                    "{name} {openssl_name}: s_client accepted={accepted}, enumerated={listed}"
                ));
            }
        }
    }

    // The NULL suite is weak, named with its version; nothing else configured is.
    let weak = rep
        .findings
        .iter()
        .find(|f| f.code.as_str() == "tls-weak-suites")
        .map(|f| f.detail.clone());
    if weak.as_deref() != Some("TLS_RSA_WITH_NULL_SHA256 (TLSv1.2)") {
        errors.push(format!("tls-weak-suites detail {weak:?}"));
    }
    if !row["findings"].split(';').any(|c| c == "tls-weak-suites") {
        errors.push(format!("findings column {:?}", row["findings"]));
    }

    // The OS hint: what the mapping says for xrdp's own flags and selection, never Windows.
    let rdp = rep.record.rdp.clone().unwrap_or_default();
    let mapped = rdpsweep::os_hint::of(&rdp).unwrap_or_default();
    if row["os_hint"] != mapped || rdp.os_hint.as_deref().unwrap_or_default() != mapped {
        errors.push(format!(
            "os_hint column {:?}, JSON {:?}, mapping {mapped:?}",
            row["os_hint"], rdp.os_hint
        ));
    }
    if row["neg_flags"] != "EXTENDED_CLIENT_DATA" || row["os_hint"].starts_with("Windows") {
        errors.push(format!(
            "xrdp flags {:?} gave hint {:?}",
            row["neg_flags"], row["os_hint"]
        ));
    }
    if !row["os_hint"].starts_with("not Windows") {
        errors.push(format!("xrdp hint {:?}", row["os_hint"]));
    }

    drop(relay);
    assert!(errors.is_empty(), "{}\n{}", errors.join("\n"), x.output());
}
