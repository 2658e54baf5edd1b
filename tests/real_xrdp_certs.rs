//! Certificates as Windows judges them, against REAL xrdp listeners serving certificates made
//! by `openssl` at test time: EKU (clientAuth only, serverAuth, Remote Desktop Authentication
//! only), a Windows-style self-signed certificate (key usage 0x30, EKU serverAuth), a leaf from
//! an intermediate CA with and without the intermediate in the served chain, and the nightly
//! diff of a listener restarted with a self-signed certificate.
//!
//! Listeners are on 127.94.x.y:3389 (loopback only), scanned by pinned name; the test root CA
//! reaches the scanner with --ca-bundle.

#[path = "support/csv_rows.rs"]
mod csv_rows;
#[path = "support/xrdp.rs"]
mod xrdp;

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU8, Ordering};

use rdpsweep::model::{Change, FindingCode, HostReport};
use xrdp::{Xrdp, XrdpConfig};

const BIN: &str = env!("CARGO_BIN_EXE_rdpsweep");

fn host(label: &str) -> String {
    format!("xrdp-{label}.certs.rdpsweep.test")
}

/// This file's own loopback block, 127.94.P.N.
fn next_ip() -> Ipv4Addr {
    static NEXT: AtomicU8 = AtomicU8::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed).clamp(1, 254);
    let p = u8::try_from(std::process::id() % 250).unwrap_or(0) + 1;
    Ipv4Addr::new(127, 94, p, n)
}

struct Pki {
    dir: tempfile::TempDir,
    openssl: PathBuf,
    root_key: PathBuf,
    root: PathBuf,
    int_key: PathBuf,
    int: PathBuf,
    leaf_key: PathBuf,
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

impl Pki {
    fn new(openssl: &Path) -> Pki {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        let key = |n: &str| {
            let k = d.join(n);
            xrdp::rsa_key(openssl, &k).expect("RSA key");
            k
        };
        let pki = Pki {
            openssl: openssl.to_path_buf(),
            root_key: key("root.key"),
            root: d.join("root.pem"),
            int_key: key("int.key"),
            int: d.join("int.pem"),
            leaf_key: key("leaf.key"),
            dir,
        };
        pki.self_signed(
            "rdpsweep Test Root",
            "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n\
             subjectKeyIdentifier=hash\n",
            &pki.root_key,
            &pki.root,
        );
        pki.issue(
            "int",
            "/CN=rdpsweep Test Issuing CA",
            &pki.int_key,
            (&pki.root, &pki.root_key),
            "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n\
             subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
            &pki.int,
        );
        pki
    }

    fn run(&self, args: &[&str]) {
        xrdp::openssl(&self.openssl, args).expect("openssl");
    }

    /// A self-signed certificate with exactly the extensions `ext` (config-file lines).
    fn self_signed(&self, cn: &str, ext: &str, key: &Path, out: &Path) {
        let cnf = self.dir.path().join(format!("{cn}.cnf").replace(' ', "_"));
        let text = format!(
            "[req]\ndistinguished_name=dn\nx509_extensions=v3\nprompt=no\n[dn]\nCN={cn}\n[v3]\n{ext}"
        );
        std::fs::write(&cnf, text).expect("cnf");
        self.run(&[
            "req",
            "-x509",
            "-new",
            "-key",
            p(key),
            "-config",
            p(&cnf),
            "-days",
            "365",
            "-sha256",
            "-out",
            p(out),
        ]);
    }

    /// A certificate for `key` with subject `subj`, signed by `ca`, with extensions `ext`.
    fn issue(&self, name: &str, subj: &str, key: &Path, ca: (&Path, &Path), ext: &str, out: &Path) {
        let d = self.dir.path();
        let csr = d.join(format!("{name}.csr"));
        let extfile = d.join(format!("{name}.ext"));
        std::fs::write(&extfile, ext).expect("ext");
        self.run(&[
            "req",
            "-new",
            "-key",
            p(key),
            "-subj",
            subj,
            "-out",
            p(&csr),
        ]);
        static SERIAL: AtomicU8 = AtomicU8::new(10);
        let serial = SERIAL.fetch_add(1, Ordering::Relaxed).to_string();
        self.run(&[
            "x509",
            "-req",
            "-in",
            p(&csr),
            "-CA",
            p(ca.0),
            "-CAkey",
            p(ca.1),
            "-set_serial",
            &serial,
            "-days",
            "365",
            "-sha256",
            "-extfile",
            p(&extfile),
            "-out",
            p(out),
        ]);
    }

    /// A leaf for `label` from the root with the extra extension lines `ext`.
    fn leaf_from_root(&self, label: &str, ext: &str) -> PathBuf {
        let out = self.dir.path().join(format!("{label}.pem"));
        let name = host(label);
        self.issue(
            label,
            &format!("/CN={name}"),
            &self.leaf_key,
            (&self.root, &self.root_key),
            &format!("subjectAltName=DNS:{name}\n{ext}"),
            &out,
        );
        out
    }

    /// A leaf from the intermediate; with `send_chain` the file also holds the intermediate
    /// (xrdp serves the file's chain).
    fn leaf_from_int(&self, label: &str, send_chain: bool) -> PathBuf {
        let out = self.dir.path().join(format!("{label}.pem"));
        let name = host(label);
        self.issue(
            label,
            &format!("/CN={name}"),
            &self.leaf_key,
            (&self.int, &self.int_key),
            &format!(
                "subjectAltName=DNS:{name}\nextendedKeyUsage=serverAuth\n\
                 authorityInfoAccess=caIssuers;URI:http://127.0.0.1/int.crt\n\
                 crlDistributionPoints=URI:http://127.0.0.1/int.crl\n"
            ),
            &out,
        );
        if send_chain {
            let mut pem = std::fs::read_to_string(&out).expect("leaf");
            pem.push_str(&std::fs::read_to_string(&self.int).expect("int"));
            std::fs::write(&out, pem).expect("chain");
        }
        out
    }

    /// Made like Windows makes its RDP certificate: self-signed, key usage keyEncipherment +
    /// dataEncipherment (0x30, no digitalSignature), EKU serverAuth.
    fn windows_self_signed(&self, label: &str, file: &str) -> PathBuf {
        let out = self.dir.path().join(format!("{file}.pem"));
        self.self_signed(
            &host(label),
            "keyUsage=keyEncipherment,dataEncipherment\nextendedKeyUsage=serverAuth\n",
            &self.leaf_key,
            &out,
        );
        out
    }
}

fn config(pki: &Pki, cert: PathBuf) -> XrdpConfig {
    XrdpConfig {
        certificate: Some(cert),
        key_file: Some(pki.leaf_key.clone()),
        ..XrdpConfig::new("tls")
    }
}

struct Scan {
    rows: HashMap<String, HashMap<String, String>>,
    reports: HashMap<String, HostReport>,
    jsonl: PathBuf,
    code: Option<i32>,
    _dir: tempfile::TempDir,
}

fn scan(targets: &[(&str, &Xrdp)], pki: &Pki, extra: &[&str]) -> Scan {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("out.csv");
    let jsonl = dir.path().join("out.jsonl");
    let mut args: Vec<String> = vec!["scan".into()];
    for (label, x) in targets {
        args.push(host(label));
        args.push("--resolve".into());
        args.push(format!("{}={}", host(label), x.ip()));
    }
    for a in [
        "--rate",
        "0",
        "--connect-timeout",
        "2s",
        "--timeout",
        "5s",
        "--retries",
        "0",
        "-q",
    ] {
        args.push(a.into());
    }
    args.extend(["--ca-bundle".into(), p(&pki.root).to_string()]);
    args.extend(["--csv".into(), p(&csv).to_string()]);
    args.extend(["--jsonl".into(), p(&jsonl).to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = Command::new(BIN).args(&args).output().expect("rdpsweep");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "rdpsweep {args:?}: {:?} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = csv_rows::rows_by_host(&csv);
    let reports = csv_rows::reports_by_host(&jsonl);
    Scan {
        rows,
        reports,
        jsonl,
        code: out.status.code(),
        _dir: dir,
    }
}

fn codes(r: &HostReport) -> Vec<FindingCode> {
    r.findings.iter().map(|f| f.code).collect()
}

#[test]
fn eku_key_usage_and_chains_on_real_xrdp() {
    let test = "eku_key_usage_and_chains_on_real_xrdp";
    let Some(xrdp_bin) = xrdp::tool_or_skip(test, xrdp::XRDP, "xrdp") else {
        return;
    };
    let Some(openssl) = xrdp::tool_or_skip(test, xrdp::OPENSSL, "openssl") else {
        return;
    };
    let pki = Pki::new(&openssl);
    let certs: Vec<(&str, PathBuf)> = vec![
        (
            "eku-client",
            pki.leaf_from_root("eku-client", "extendedKeyUsage=clientAuth\n"),
        ),
        (
            "eku-server",
            pki.leaf_from_root(
                "eku-server",
                "extendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n\
                 1.3.6.1.4.1.311.20.2=ASN1:BMPSTRING:WebServer\n",
            ),
        ),
        (
            "eku-rda",
            pki.leaf_from_root("eku-rda", "extendedKeyUsage=1.3.6.1.4.1.311.54.1.2\n"),
        ),
        ("win-self", pki.windows_self_signed("win-self", "win-self")),
        ("chain-full", pki.leaf_from_int("chain-full", true)),
        ("chain-missing", pki.leaf_from_int("chain-missing", false)),
    ];
    let servers: Vec<(&str, Xrdp)> = certs
        .into_iter()
        .map(|(label, cert)| {
            let x = Xrdp::start_with(&xrdp_bin, &config(&pki, cert), next_ip)
                .unwrap_or_else(|e| panic!("xrdp {label}: {e}"));
            (label, x)
        })
        .collect();
    let targets: Vec<(&str, &Xrdp)> = servers.iter().map(|(l, x)| (*l, x)).collect();
    let s = scan(&targets, &pki, &[]);
    let rep = |l: &str| s.reports.get(&host(l)).unwrap_or_else(|| panic!("{l} row"));
    let row = |l: &str| s.rows.get(&host(l)).unwrap_or_else(|| panic!("{l} CSV"));
    let col = |l: &str, c: &str| row(l).get(c).cloned().unwrap_or_default();

    // clientAuth only, CA-signed, CA trusted: the EKU is wrong, the chain is not untrusted.
    let c = codes(rep("eku-client"));
    assert!(c.contains(&FindingCode::CertWrongEku), "{c:?}");
    assert!(!c.contains(&FindingCode::CertUntrusted), "{c:?}");
    assert_eq!(rep("eku-client").verdict, FindingCode::CertWrongEku);
    assert_eq!(
        col("eku-client", "cert_eku"),
        "clientAuth(1.3.6.1.5.5.7.3.2)"
    );
    assert_eq!(col("eku-client", "cert_trusted"), "yes");

    // serverAuth: healthy; key usage and the template name are read.
    assert_eq!(
        rep("eku-server").verdict,
        FindingCode::Ok,
        "{:?}",
        codes(rep("eku-server"))
    );
    assert_eq!(
        col("eku-server", "cert_eku"),
        "serverAuth(1.3.6.1.5.5.7.3.1)"
    );
    assert_eq!(
        col("eku-server", "cert_key_usage"),
        "digitalSignature keyEncipherment"
    );
    assert_eq!(col("eku-server", "cert_template"), "WebServer");

    // Remote Desktop Authentication alone is enough.
    let c = codes(rep("eku-rda"));
    assert_eq!(rep("eku-rda").verdict, FindingCode::Ok, "{c:?}");
    assert!(col("eku-rda", "cert_eku").starts_with("remoteDesktopAuthentication("));

    // Windows' own self-signed certificate: only the info finding, no EKU complaint.
    let c = codes(rep("win-self"));
    assert_eq!(rep("win-self").verdict, FindingCode::Ok, "{c:?}");
    assert!(c.contains(&FindingCode::CertSelfSigned), "{c:?}");
    assert!(!c.contains(&FindingCode::CertWrongEku), "{c:?}");
    assert_eq!(
        col("win-self", "cert_key_usage"),
        "keyEncipherment dataEncipherment"
    );

    // The intermediate sent: trusted, complete. Not sent: incomplete, not untrusted.
    let full = rep("chain-full");
    assert_eq!(full.verdict, FindingCode::Ok, "{:?}", codes(full));
    let cert = full.record.cert.as_ref().expect("cert");
    assert_eq!(cert.chain_len, 2);
    assert_eq!(cert.crl_urls, vec!["http://127.0.0.1/int.crl".to_string()]);
    assert_eq!(
        cert.ca_issuers_urls,
        vec!["http://127.0.0.1/int.crt".to_string()]
    );
    let missing = rep("chain-missing");
    let c = codes(missing);
    assert_eq!(missing.verdict, FindingCode::CertChainIncomplete, "{c:?}");
    assert!(!c.contains(&FindingCode::CertUntrusted), "{c:?}");
    assert_eq!(missing.record.cert.as_ref().map(|c| c.chain_len), Some(1));
}

#[test]
fn nightly_diff_reports_fallback_to_self_signed() {
    let test = "nightly_diff_reports_fallback_to_self_signed";
    let Some(xrdp_bin) = xrdp::tool_or_skip(test, xrdp::XRDP, "xrdp") else {
        return;
    };
    let Some(openssl) = xrdp::tool_or_skip(test, xrdp::OPENSSL, "openssl") else {
        return;
    };
    let pki = Pki::new(&openssl);
    let label = "fallback";
    let ca_issued = pki.leaf_from_root(label, "extendedKeyUsage=serverAuth\n");
    let first = Xrdp::start_with(&xrdp_bin, &config(&pki, ca_issued), next_ip).expect("xrdp");
    let ip = match first.ip() {
        std::net::IpAddr::V4(v4) => v4,
        other => panic!("not IPv4: {other}"),
    };
    let day1 = scan(&[(label, &first)], &pki, &[]);
    let r1 = day1.reports.get(&host(label)).expect("row");
    assert_eq!(r1.verdict, FindingCode::Ok, "{:?}", codes(r1));
    drop(first);

    // TermService lost its configured certificate: the same address now serves a self-signed one.
    let fallback = pki.windows_self_signed(label, "fallback-self");
    let second = Xrdp::start_with(&xrdp_bin, &config(&pki, fallback), || ip).expect("restart");
    let day2 = scan(
        &[(label, &second)],
        &pki,
        &["--baseline", p(&day1.jsonl), "--fail-on", "new"],
    );
    let r2 = day2.reports.get(&host(label)).expect("row");
    let c = codes(r2);
    assert_eq!(r2.verdict, FindingCode::CertFallbackSelfSigned, "{c:?}");
    assert_eq!(r2.change, Some(Change::Changed));
    assert!(!c.contains(&FindingCode::CertReplaced), "{c:?}");
    let row = day2.rows.get(&host(label)).expect("csv");
    assert_eq!(row.get("change").map(String::as_str), Some("changed"));
    // --fail-on new counts the fallback as a new failure: exit 1.
    assert_eq!(day2.code, Some(1));

    // Scanned again against day 2: the same certificate, no change finding.
    let day3 = scan(&[(label, &second)], &pki, &["--baseline", p(&day2.jsonl)]);
    let r3 = day3.reports.get(&host(label)).expect("row");
    let c = codes(r3);
    assert!(!c.contains(&FindingCode::CertFallbackSelfSigned), "{c:?}");
    assert!(!c.contains(&FindingCode::CertReplaced), "{c:?}");
}
