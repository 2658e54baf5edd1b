//! Per-client verdicts and the deep findings against REAL xrdp listeners (127.95.x.y:3389,
//! loopback only; killed when the test ends): a cipher list Windows 11 does not offer but
//! rustls does (ChaCha20 only, TLS 1.2), a TLS 1.0-only listener, and FIPS / Low standard RDP
//! encryption. docs/clients.md says where each profile's facts come from.

#[path = "support/csv_rows.rs"]
mod csv_rows;
#[path = "support/xrdp.rs"]
mod xrdp;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use rdpsweep::model::{Connects, HelloStatus, HostReport};
use xrdp::{Xrdp, XrdpConfig};

const BIN: &str = env!("CARGO_BIN_EXE_rdpsweep");

fn host(label: &str) -> String {
    format!("xrdp-{label}.clients.rdpsweep.test")
}

struct Tools {
    xrdp: PathBuf,
    openssl: PathBuf,
}

fn tools(test: &str) -> Option<Tools> {
    xrdp::use_block(95);
    Some(Tools {
        xrdp: xrdp::tool_or_skip(test, xrdp::XRDP, "xrdp")?,
        openssl: xrdp::tool_or_skip(test, xrdp::OPENSSL, "openssl")?,
    })
}

struct Instance {
    label: &'static str,
    xrdp: Xrdp,
}

fn start(tools: &Tools, label: &'static str, cfg: XrdpConfig) -> Instance {
    let x = Xrdp::start(&tools.xrdp, &cfg).unwrap_or_else(|e| panic!("xrdp {label}: {e}"));
    Instance { label, xrdp: x }
}

/// A TLS-only listener with a fresh self-signed certificate and the given protocols/ciphers.
fn tls_cfg(tools: &Tools, dir: &Path, label: &str, protocols: &str, ciphers: &str) -> XrdpConfig {
    let key = dir.join(format!("{label}.key"));
    let cert = dir.join(format!("{label}.pem"));
    xrdp::rsa_key(&tools.openssl, &key).expect("RSA key");
    xrdp::self_signed(&tools.openssl, &key, &host(label), 365, &cert).expect("certificate");
    XrdpConfig {
        certificate: Some(cert),
        key_file: Some(key),
        ssl_protocols: Some(protocols.into()),
        tls_ciphers: Some(ciphers.into()),
        ..XrdpConfig::new("tls")
    }
}

type Row = HashMap<String, String>;

fn scan(
    instances: &[Instance],
    depth: &str,
) -> (HashMap<String, Row>, HashMap<String, HostReport>) {
    let (rows, reports, _) = scan_with(instances, depth, &[]);
    (rows, reports)
}

/// `scan` with extra flags, also returning the exit code (0 or 1).
fn scan_with(
    instances: &[Instance],
    depth: &str,
    extra: &[&str],
) -> (HashMap<String, Row>, HashMap<String, HostReport>, i32) {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv_path = dir.path().join("out.csv");
    let jsonl_path = dir.path().join("out.jsonl");
    let mut args: Vec<String> = vec!["scan".into()];
    for i in instances {
        args.push(host(i.label));
        args.push("--resolve".into());
        args.push(format!("{}={}", host(i.label), i.xrdp.ip()));
    }
    for a in [
        "--depth",
        depth,
        "--rate",
        "0",
        "--connect-timeout",
        "2s",
        "--timeout",
        "5s",
        "--host-spacing",
        "10ms",
        "--retries",
        "0",
        "-q",
    ] {
        args.push(a.into());
    }
    args.extend(["--csv".into(), csv_path.display().to_string()]);
    args.extend(["--jsonl".into(), jsonl_path.display().to_string()]);
    args.extend(extra.iter().map(|a| a.to_string()));
    let out = Command::new(BIN)
        .args(&args)
        .output()
        .expect("run rdpsweep");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "rdpsweep {args:?} exited {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let mut rows = HashMap::new();
    for row in csv_rows::read_csv(&csv_path).1 {
        rows.insert(row.get("host").cloned().unwrap_or_default(), row);
    }
    let mut reports = HashMap::new();
    for rep in rdpsweep::report::jsonl::read_reports(&jsonl_path).expect("jsonl") {
        reports.insert(rep.record.target.host.clone(), rep);
    }
    assert_eq!(rows.len(), instances.len());
    assert_eq!(reports.len(), instances.len());
    (rows, reports, out.status.code().unwrap_or(-1))
}

fn connects(rep: &HostReport, id: &str) -> Option<Connects> {
    rep.clients
        .iter()
        .find(|c| c.profile == id)
        .map(|c| c.connects)
}

fn logs(instances: &[Instance]) -> String {
    instances
        .iter()
        .map(|i| format!("--- xrdp {} log ---\n{}", i.label, i.xrdp.output()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn client_profiles_against_real_xrdp() {
    let test = "client_profiles_against_real_xrdp";
    let Some(tools) = tools(test) else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let instances = vec![
        // ChaCha20 only on TLS 1.2: rustls, OpenSSL and Apple offer it, Schannel does not.
        start(
            &tools,
            "chacha",
            tls_cfg(
                &tools,
                dir.path(),
                "chacha",
                "TLSv1.2",
                "ECDHE-RSA-CHACHA20-POLY1305",
            ),
        ),
        start(
            &tools,
            "tls10",
            tls_cfg(&tools, dir.path(), "tls10", "TLSv1", "DEFAULT:@SECLEVEL=0"),
        ),
        start(
            &tools,
            "fips",
            XrdpConfig {
                crypt_level: "fips",
                ..XrdpConfig::new("rdp")
            },
        ),
        start(
            &tools,
            "low",
            XrdpConfig {
                crypt_level: "low",
                ..XrdpConfig::new("rdp")
            },
        ),
    ];
    let (rows, reps) = scan(&instances, "deep");
    let by = |label: &str| {
        let h = host(label);
        match (rows.get(&h), reps.get(&h)) {
            (Some(r), Some(p)) => (r.clone(), p.clone()),
            _ => panic!("no result for {h}\n{}", logs(&instances)),
        }
    };
    let mut errors: Vec<String> = Vec::new();
    let mut eq = |what: &str, got: String, want: &str| {
        if got != want {
            errors.push(format!("{what}: got {got:?}, want {want:?}"));
        }
    };

    let (row, rep) = by("chacha");
    eq(
        "chacha verdict",
        row["verdict"].clone(),
        "schannel-suites-mismatch",
    );
    eq(
        "chacha rustls suite",
        row["tls_cipher"].clone(),
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    );
    eq(
        "chacha clients_failing",
        row["clients_failing"].clone(),
        "win11;win10;win7",
    );
    let win11 = rep
        .record
        .profile_hellos
        .iter()
        .find(|h| h.profile == "win11");
    eq(
        "chacha win11 hello",
        format!("{:?}", win11.map(|h| (h.status, h.alert))),
        &format!("{:?}", Some((HelloStatus::Alert, Some(40u8)))),
    );
    for id in ["freerdp", "macos"] {
        eq(
            &format!("chacha {id}"),
            format!("{:?}", connects(&rep, id)),
            "Some(Yes)",
        );
    }

    let (row, rep) = by("tls10");
    // Windows 11 and FreeRDP 3 have TLS 1.0 off by default; 7, 10 and Apple's stack offer it.
    eq(
        "tls10 clients_failing",
        row["clients_failing"].clone(),
        "win11;freerdp",
    );
    eq(
        "tls10 win7",
        format!("{:?}", connects(&rep, "win7")),
        "Some(Yes)",
    );
    let win7 = rep
        .record
        .profile_hellos
        .iter()
        .find(|h| h.profile == "win7");
    eq(
        "tls10 win7 version",
        format!("{:?}", win7.and_then(|h| h.version.clone())),
        "Some(\"TLSv1.0\")",
    );

    let (row, _) = by("fips");
    eq(
        "fips findings",
        row["findings"].contains("rdp-fips-only").to_string(),
        "true",
    );
    let (row, _) = by("low");
    eq(
        "low findings",
        row["findings"].contains("rdp-weak-encryption").to_string(),
        "true",
    );
    eq(
        "low: fips-only absent",
        row["findings"].contains("rdp-fips-only").to_string(),
        "false",
    );

    // --client: the TLS 1.0-only listener fails the run for the default (Windows) profiles, and
    // not for Windows 10 and 7, which connect; clients_failing stays the same fact.
    let tls10 = std::slice::from_ref(&instances[1]);
    let h = host("tls10");
    let (rows, _, code) = scan_with(tls10, "deep", &["--fail-on", "fail"]);
    eq("tls10 default exit", code.to_string(), "1");
    eq(
        "tls10 default verdict",
        rows[&h]["verdict"].clone(),
        "tls-legacy-only",
    );
    let (rows, reps, code) = scan_with(
        tls10,
        "deep",
        &["--fail-on", "fail", "--client", "win10,win7"],
    );
    eq("tls10 win10+win7 exit", code.to_string(), "0");
    eq(
        "tls10 win10+win7 severity",
        rows[&h]["severity"].clone(),
        "info",
    );
    eq(
        "tls10 win10+win7 clients_failing",
        rows[&h]["clients_failing"].clone(),
        "win11;freerdp",
    );
    let legacy = reps[&h]
        .findings
        .iter()
        .find(|f| f.code.as_str() == "tls-legacy-only")
        .map(|f| f.severity.as_str());
    eq(
        "tls10 win10+win7 tls-legacy-only",
        format!("{legacy:?}"),
        "Some(\"info\")",
    );
    // Only FreeRDP, which cannot connect: the finding keeps failing the run.
    let (_, _, code) = scan_with(tls10, "deep", &["--fail-on", "fail", "--client", "freerdp"]);
    eq("tls10 freerdp exit", code.to_string(), "1");

    // Standard depth: xrdp's matrix never gets SSL selected on a stripped request, so no
    // profile hello and no extra connection (still 2, as before this feature).
    let (rows, reps) = scan(&instances[..1], "standard");
    let h = host("chacha");
    eq("standard connections", rows[&h]["connections"].clone(), "2");
    eq(
        "standard hellos",
        reps[&h].record.profile_hellos.len().to_string(),
        "0",
    );

    assert!(
        errors.is_empty(),
        "{}\n{}",
        errors.join("\n"),
        logs(&instances)
    );
}
