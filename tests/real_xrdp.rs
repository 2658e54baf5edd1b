//! The real binary against REAL xrdp 0.9.21 listeners (Debian package), one per configuration
//! of docs/protocol.md §4.3/§11.1, with certificates made at test time; and nmap's
//! `rdp-enum-encryption` against the same kind of listeners, compared with the scanner and with
//! a hand-written per-candidate probe. tests/README.md says what each test covers and where
//! nmap is wrong.
//!
//! Every listener is on 127.88.x.y:3389 (loopback only) and killed when its test ends. Targets
//! are scanned by name, pinned with `--resolve`, so certificate name checks never depend on
//! this machine's DNS or PTR records.

#[path = "support/csv_rows.rs"]
mod csv_rows;
#[path = "support/nmap.rs"]
mod nmap;
#[path = "support/xrdp.rs"]
mod xrdp;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rdpsweep::model::{HostReport, NegResult, Phase, Severity, TlsStatus};
use xrdp::{Xrdp, XrdpConfig};

const BIN: &str = env!("CARGO_BIN_EXE_rdpsweep");

/// The pinned name of the instance labelled `label`.
fn host(label: &str) -> String {
    format!("xrdp-{label}.rdpsweep.test")
}

struct Tools {
    xrdp: PathBuf,
    openssl: PathBuf,
}

fn tools(test: &str) -> Option<Tools> {
    Some(Tools {
        xrdp: xrdp::tool_or_skip(test, xrdp::XRDP, "xrdp")?,
        openssl: xrdp::tool_or_skip(test, xrdp::OPENSSL, "openssl")?,
    })
}

/// Which certificate an instance serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cert {
    /// Self-signed RSA-2048 for the instance's own name, valid 365 days.
    Valid,
    /// Self-signed RSA-2048 for the instance's own name, January 2020 only.
    Expired,
    /// Valid, but for another name.
    OtherName,
    /// A valid certificate whose key file does not exist (unreadable: xrdp can't start TLS).
    MissingKey,
    /// The certificate file is readable PEM but no certificate (the key itself): xrdp finds
    /// both files, selects SSL, and only fails when it builds its TLS context at the hello.
    Corrupt,
}

/// One RSA key for every certificate (key generation is the slow part) and the certificates.
struct Pki {
    dir: tempfile::TempDir,
    key: PathBuf,
    openssl: PathBuf,
}

impl Pki {
    fn new(openssl: &Path) -> Pki {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = dir.path().join("key.pem");
        xrdp::rsa_key(openssl, &key).expect("RSA key");
        Pki {
            dir,
            key,
            openssl: openssl.to_path_buf(),
        }
    }

    /// (certificate, key file) for `label`'s instance.
    fn files(&self, label: &str, kind: Cert) -> (PathBuf, PathBuf) {
        let cert = self.dir.path().join(format!("{label}.pem"));
        let name = host(label);
        match kind {
            Cert::Valid | Cert::MissingKey => {
                xrdp::self_signed(&self.openssl, &self.key, &name, 365, &cert)
            }
            Cert::OtherName => {
                xrdp::self_signed(&self.openssl, &self.key, &host("elsewhere"), 365, &cert)
            }
            Cert::Expired => xrdp::expired_self_signed(&self.key, &name, &cert),
            Cert::Corrupt => std::fs::copy(&self.key, &cert)
                .map(drop)
                .map_err(|e| e.to_string()),
        }
        .expect("certificate");
        let key = if kind == Cert::MissingKey {
            // Root reads any mode, so "unreadable" is made certain by absence.
            self.dir.path().join("no-such-key.pem")
        } else {
            self.key.clone()
        };
        (cert, key)
    }
}

/// A listener under test: its label, its certificate file (if any), the process.
struct Instance {
    label: &'static str,
    cert: Option<PathBuf>,
    xrdp: Xrdp,
}

fn start(tools: &Tools, label: &'static str, cfg: XrdpConfig) -> Instance {
    let x = Xrdp::start(&tools.xrdp, &cfg).unwrap_or_else(|e| panic!("xrdp {label}: {e}"));
    Instance {
        label,
        cert: cfg.certificate.clone(),
        xrdp: x,
    }
}

fn with_cert(pki: &Pki, label: &str, layer: &'static str, kind: Cert) -> XrdpConfig {
    let (cert, key) = pki.files(label, kind);
    XrdpConfig {
        certificate: Some(cert),
        key_file: Some(key),
        ..XrdpConfig::new(layer)
    }
}

type Row = HashMap<String, String>;

struct ScanResult {
    rows: HashMap<String, Row>,
    reports: HashMap<String, HostReport>,
}

/// Runs the real binary against `instances` by pinned name; one CSV row and one JSONL record
/// per host (each resolves to exactly one address).
fn scan(instances: &[Instance], depth: &str) -> ScanResult {
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
    args.push("--csv".into());
    args.push(csv_path.display().to_string());
    args.push("--jsonl".into());
    args.push(jsonl_path.display().to_string());
    let out = Command::new(BIN)
        .args(&args)
        .output()
        .expect("run rdpsweep");
    // Exit 0 or 1 (findings); 2 would be a usage/setup error.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "rdpsweep {args:?} exited {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );

    let mut rows = HashMap::new();
    for row in csv_rows::read_csv(&csv_path).1 {
        let h = row.get("host").cloned().unwrap_or_default();
        assert!(rows.insert(h.clone(), row).is_none(), "two rows for {h}");
    }
    let mut reports = HashMap::new();
    for rep in rdpsweep::report::jsonl::read_reports(&jsonl_path).expect("jsonl") {
        let h = rep.record.target.host.clone();
        assert!(
            reports.insert(h.clone(), rep).is_none(),
            "two records for {h}"
        );
    }
    assert_eq!(rows.len(), instances.len(), "one CSV row per instance");
    assert_eq!(
        reports.len(),
        instances.len(),
        "one JSONL record per instance"
    );
    ScanResult { rows, reports }
}

/// Collects every mismatch, so one run shows all of them (with the xrdp log of the instance).
#[derive(Default)]
struct Check {
    errors: Vec<String>,
}

impl Check {
    fn eq<T: PartialEq + std::fmt::Debug>(&mut self, what: &str, got: T, want: T) {
        if got != want {
            self.errors
                .push(format!("{what}: got {got:?}, want {want:?}"));
        }
    }

    fn truth(&mut self, what: &str, ok: bool) {
        if !ok {
            self.errors.push(what.to_string());
        }
    }

    fn cols(&mut self, label: &str, row: &Row, want: &[(&str, &str)]) {
        for (col, w) in want {
            let got = row
                .get(*col)
                .map(String::as_str)
                .unwrap_or("<missing column>");
            self.eq(&format!("{label} CSV {col}"), got, *w);
        }
    }

    /// Fails with every mismatch and the logs `context` picks for them.
    fn finish(self, context: impl FnOnce(&[String]) -> String) {
        if self.errors.is_empty() {
            return;
        }
        panic!(
            "{} mismatches:\n  {}\n{}",
            self.errors.len(),
            self.errors.join("\n  "),
            context(&self.errors)
        );
    }
}

/// The xrdp logs of the instances the errors name (errors start with the instance's label).
fn logs(instances: &[Instance], errors: &[String]) -> String {
    instances
        .iter()
        .filter(|i| {
            errors.iter().any(|e| {
                e.strip_prefix(i.label)
                    .is_some_and(|rest| rest.starts_with([' ', ':']))
            })
        })
        .map(|i| format!("--- xrdp {} log ---\n{}", i.label, i.xrdp.output()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The certificate columns must be what the openssl CLI says about the file xrdp serves.
fn check_cert(c: &mut Check, pki: &Pki, i: &Instance, row: &Row, name_in_cert: &str) {
    let Some(path) = &i.cert else { return };
    let view = xrdp::openssl_view(&pki.openssl, path).expect("openssl view");
    let l = i.label;
    let cn = format!("CN={name_in_cert}");
    let san = format!("DNS:{name_in_cert}");
    c.cols(
        l,
        row,
        &[
            ("cert_subject", &cn),
            ("cert_issuer", &cn),
            ("cert_sans", &san),
            ("cert_self_signed", "yes"),
            ("cert_trusted", "no"),
            ("cert_key", "RSA-2048"),
            ("cert_sig_alg", "sha256WithRSAEncryption"),
            ("cert_sha1", &view.sha1),
            ("cert_sha256", &view.sha256),
        ],
    );
    // openssl prints "Jan 31 00:00:00 2020 GMT"; the CSV has RFC 3339. Compare as instants.
    let fmt = time::macros::format_description!(
        "[month repr:short] [day padding:space] [hour]:[minute]:[second] [year] GMT"
    );
    let want = time::PrimitiveDateTime::parse(&view.not_after, &fmt)
        .map(|t| t.assume_utc().unix_timestamp())
        .unwrap_or_else(|e| panic!("openssl notAfter {:?}: {e}", view.not_after));
    let got = rdpsweep::clock::unix_of(row.get("cert_not_after").map_or("", |s| s));
    c.eq(&format!("{l} cert_not_after (unix)"), got, want);
}

/// Days left as the scanner must compute them: whole days from `scanned_at` to notAfter.
fn days_left(rep: &HostReport) -> Option<i64> {
    let cert = rep.record.cert.as_ref()?;
    let now = rdpsweep::clock::unix_of(&rep.record.scanned_at);
    Some((cert.not_after_unix - now).div_euclid(86_400))
}

fn attempts(rep: &HostReport) -> Vec<(u32, NegResult)> {
    rep.record
        .rdp
        .as_ref()
        .map(|r| {
            r.attempts
                .iter()
                .map(|a| (a.requested, a.result.clone()))
                .collect()
        })
        .unwrap_or_default()
}

fn selected(protocol: u32) -> NegResult {
    NegResult::Selected { protocol, flags: 1 }
}

#[test]
fn standard_scan_of_real_xrdp_configurations() {
    let test = "standard_scan_of_real_xrdp_configurations";
    let Some(tools) = tools(test) else { return };
    let pki = Pki::new(&tools.openssl);

    let instances = vec![
        start(&tools, "rdp", with_cert(&pki, "rdp", "rdp", Cert::Valid)),
        start(&tools, "tls", with_cert(&pki, "tls", "tls", Cert::Valid)),
        start(
            &tools,
            "negotiate",
            with_cert(&pki, "negotiate", "negotiate", Cert::Valid),
        ),
        start(
            &tools,
            "expired",
            with_cert(&pki, "expired", "tls", Cert::Expired),
        ),
        start(
            &tools,
            "mismatch",
            with_cert(&pki, "mismatch", "tls", Cert::OtherName),
        ),
        start(
            &tools,
            "tls10",
            XrdpConfig {
                // Debian's OpenSSL 3 refuses TLS 1.0 at the default security level.
                ssl_protocols: Some("TLSv1".into()),
                tls_ciphers: Some("DEFAULT:@SECLEVEL=0".into()),
                ..with_cert(&pki, "tls10", "tls", Cert::Valid)
            },
        ),
        start(
            &tools,
            "cbc",
            XrdpConfig {
                // Windows Server 2012 R2 with an RSA certificate: TLS 1.2, no AEAD suite, RSA
                // key exchange. rustls refuses it; the legacy hello must still read it.
                ssl_protocols: Some("TLSv1.2".into()),
                tls_ciphers: Some("AES128-SHA".into()),
                ..with_cert(&pki, "cbc", "tls", Cert::Valid)
            },
        ),
        start(
            &tools,
            "nokey",
            with_cert(&pki, "nokey", "tls", Cert::MissingKey),
        ),
        start(
            &tools,
            "badcert",
            with_cert(&pki, "badcert", "tls", Cert::Corrupt),
        ),
    ];
    let res = scan(&instances, "standard");
    let mut c = Check::default();
    let by = |label: &str| {
        let h = host(label);
        (
            res.rows.get(&h).unwrap_or_else(|| panic!("no row for {h}")),
            res.reports
                .get(&h)
                .unwrap_or_else(|| panic!("no record for {h}")),
        )
    };
    let inst = |label: &str| {
        instances
            .iter()
            .find(|i| i.label == label)
            .unwrap_or_else(|| panic!("no instance {label}"))
    };

    for i in &instances {
        let (row, rep) = by(i.label);
        let n: u32 = row
            .get("connections")
            .and_then(|s| s.parse().ok())
            .unwrap_or(u32::MAX);
        c.truth(
            &format!("{}: {n} connections at standard depth (max 3)", i.label),
            n <= 3,
        );
        c.eq(
            &format!("{} JSONL connections", i.label),
            rep.record.connections,
            n,
        );
        c.eq(
            &format!("{} JSONL verdict", i.label),
            rep.verdict.as_str(),
            row["verdict"].as_str(),
        );
        c.cols(
            i.label,
            row,
            &[
                ("dns_status", "pinned"),
                ("tcp_status", "open"),
                ("address", &i.xrdp.ip().to_string()),
            ],
        );
    }

    // security_layer=rdp: xrdp picks standard RDP although TLS was offered (no failure 2).
    {
        let (row, rep) = by("rdp");
        c.cols(
            "rdp",
            row,
            &[
                ("verdict", "rdp-security-only"),
                ("severity", "warn"),
                ("findings", "rdp-security-only"),
                ("rdp_accepted", "RDP"),
                ("rdp_required", "RDP"),
                ("neg_failure", ""),
                ("neg_flags", "EXTENDED_CLIENT_DATA"),
                ("tls_version", ""),
                ("cert_subject", ""),
                ("connections", "1"),
            ],
        );
        c.eq("rdp attempts", attempts(rep), vec![(0x0B, selected(0))]);
        c.truth("rdp: no TLS phase", rep.record.tls.is_none());
    }

    // security_layer=tls: SSL to 0x0B, failure 1 once SSL is stripped.
    {
        let (row, rep) = by("tls");
        c.cols(
            "tls",
            row,
            &[
                ("verdict", "ok"),
                ("severity", "info"),
                ("findings", "ok;tls-required;udp-blocked;cert-self-signed"),
                ("rdp_accepted", "SSL"),
                ("rdp_required", "SSL"),
                ("neg_failure", "1:SSL_REQUIRED_BY_SERVER"),
                ("neg_flags", "EXTENDED_CLIENT_DATA"),
                ("tls_version", "TLSv1.3"),
                ("cert_name_match", "yes"),
                ("connections", "2"),
            ],
        );
        c.truth(
            "tls: a TLS 1.3 AEAD suite",
            row["tls_cipher"].starts_with("TLS_AES_")
                || row["tls_cipher"].starts_with("TLS_CHACHA20"),
        );
        c.eq(
            "tls attempts",
            attempts(rep),
            vec![(0x0B, selected(1)), (0x0A, NegResult::Failure { code: 1 })],
        );
        let tls = rep.record.tls.as_ref();
        c.eq("tls via", tls.map(|t| t.via.as_str()), Some("rustls"));
        c.eq("tls status", tls.map(|t| t.status), Some(TlsStatus::Ok));
        let d = days_left(rep);
        c.eq("tls cert_days_left", row["cert_days_left"].parse().ok(), d);
        c.truth(
            "tls: a 365-day certificate has 364 or 365 days left",
            matches!(d, Some(364 | 365)),
        );
        check_cert(&mut c, &pki, inst("tls"), row, &host("tls"));
    }

    // security_layer=negotiate: SSL to 0x0B, standard RDP to 0x0A: both accepted.
    {
        let (row, rep) = by("negotiate");
        c.cols(
            "negotiate",
            row,
            &[
                ("verdict", "downgrade-possible"),
                ("severity", "warn"),
                (
                    "findings",
                    "downgrade-possible;udp-blocked;cert-self-signed",
                ),
                ("rdp_accepted", "SSL|RDP"),
                ("rdp_required", ""),
                ("neg_failure", ""),
                ("tls_version", "TLSv1.3"),
                ("cert_name_match", "yes"),
                ("connections", "2"),
            ],
        );
        c.eq(
            "negotiate attempts",
            attempts(rep),
            vec![(0x0B, selected(1)), (0x0A, selected(0))],
        );
        check_cert(&mut c, &pki, inst("negotiate"), row, &host("negotiate"));
    }

    // Expired certificate: the handshake completes; expiry is the client's decision.
    {
        let (row, rep) = by("expired");
        c.cols(
            "expired",
            row,
            &[
                ("verdict", "cert-expired"),
                ("severity", "warn"),
                (
                    "findings",
                    "cert-expired;tls-required;udp-blocked;cert-self-signed",
                ),
                ("rdp_accepted", "SSL"),
                ("rdp_required", "SSL"),
                ("tls_version", "TLSv1.3"),
                ("cert_not_before", "2020-01-01T00:00:00Z"),
                ("cert_not_after", "2020-01-31T00:00:00Z"),
                ("cert_name_match", "yes"),
            ],
        );
        let d = days_left(rep);
        c.eq(
            "expired cert_days_left",
            row["cert_days_left"].parse::<i64>().ok(),
            d,
        );
        c.truth(
            &format!("expired: days left {d:?} must be negative"),
            d.is_some_and(|d| d < -365),
        );
        check_cert(&mut c, &pki, inst("expired"), row, &host("expired"));
    }

    // A certificate for another name, scanned by the pinned name.
    {
        let (row, rep) = by("mismatch");
        c.cols(
            "mismatch",
            row,
            &[
                ("verdict", "cert-name-mismatch"),
                ("severity", "warn"),
                (
                    "findings",
                    "cert-name-mismatch;tls-required;udp-blocked;cert-self-signed",
                ),
                ("cert_name_match", "no"),
                ("rdp_accepted", "SSL"),
            ],
        );
        c.eq(
            "mismatch checked name",
            rep.record
                .cert
                .as_ref()
                .and_then(|c| c.checked_name.clone()),
            Some(host("mismatch")),
        );
        check_cert(&mut c, &pki, inst("mismatch"), row, &host("elsewhere"));
    }

    // TLS 1.0 only: rustls gets alert 70; the legacy hello reads version, suite and certificate.
    {
        let (row, rep) = by("tls10");
        c.cols(
            "tls10",
            row,
            &[
                ("verdict", "tls-legacy-only"),
                ("severity", "fail"),
                (
                    "findings",
                    "tls-legacy-only;tls-required;udp-blocked;cert-self-signed",
                ),
                ("rdp_accepted", "SSL"),
                ("rdp_required", "SSL"),
                ("tls_version", "TLSv1.0"),
                ("cert_name_match", "yes"),
                ("connections", "3"),
            ],
        );
        let tls = rep.record.tls.as_ref();
        c.eq(
            "tls10 via",
            tls.map(|t| t.via.as_str()),
            Some("legacy-hello"),
        );
        c.eq(
            "tls10 status",
            tls.map(|t| t.status),
            Some(TlsStatus::LegacyHello),
        );
        c.eq("tls10 legacy", tls.map(|t| t.legacy), Some(true));
        c.truth(
            &format!("tls10: a CBC suite, got {:?}", row["tls_cipher"]),
            row["tls_cipher"].contains("_CBC_"),
        );
        check_cert(&mut c, &pki, inst("tls10"), row, &host("tls10"));
    }

    // TLS 1.2 with only TLS_RSA_WITH_AES_128_CBC_SHA: information, not a TLS failure.
    {
        let (row, rep) = by("cbc");
        c.cols(
            "cbc",
            row,
            &[
                ("verdict", "ok"),
                ("severity", "info"),
                (
                    "findings",
                    "ok;tls-required;tls-legacy-suites;udp-blocked;cert-self-signed",
                ),
                ("rdp_accepted", "SSL"),
                ("rdp_required", "SSL"),
                ("tls_version", "TLSv1.2"),
                ("tls_cipher", "TLS_RSA_WITH_AES_128_CBC_SHA"),
                ("cert_name_match", "yes"),
                ("connections", "3"),
            ],
        );
        let tls = rep.record.tls.as_ref();
        c.eq("cbc via", tls.map(|t| t.via.as_str()), Some("legacy-hello"));
        c.truth(
            "cbc: no failing TLS finding",
            !rep.findings
                .iter()
                .any(|f| f.phase == Phase::Tls && f.severity >= Severity::Warn),
        );
        check_cert(&mut c, &pki, inst("cbc"), row, &host("cbc"));
    }

    // security_layer=tls with an unreadable key: failure 3 to the first request, nothing more.
    {
        let (row, rep) = by("nokey");
        c.cols(
            "nokey",
            row,
            &[
                ("verdict", "cert-missing"),
                ("severity", "fail"),
                ("findings", "cert-missing"),
                ("rdp_accepted", ""),
                ("neg_failure", "3:SSL_CERT_NOT_ON_SERVER"),
                ("tls_version", ""),
                ("cert_subject", ""),
                ("connections", "1"),
            ],
        );
        c.eq(
            "nokey attempts",
            attempts(rep),
            vec![(0x0B, NegResult::Failure { code: 3 })],
        );
    }

    // An unusable certificate: SSL selected, then the ClientHello is answered with an MCS
    // Disconnect-Provider-Ultimatum and a close. The 0x904/0x7 pattern, not "not TLS".
    {
        let (row, rep) = by("badcert");
        c.cols(
            "badcert",
            row,
            &[
                ("verdict", "tls-reset-after-hello"),
                ("severity", "fail"),
                ("findings", "tls-reset-after-hello;tls-required"),
                (
                    "error",
                    "the server answered the ClientHello with an RDP disconnect \
                     (MCS Disconnect-Provider-Ultimatum) instead of TLS",
                ),
                ("rdp_accepted", "SSL"),
                ("rdp_required", "SSL"),
                ("tls_version", ""),
                ("cert_subject", ""),
                ("connections", "2"),
            ],
        );
        c.eq(
            "badcert tls status",
            rep.record.tls.as_ref().map(|t| t.status),
            Some(TlsStatus::EofAfterHello),
        );
    }

    c.finish(|e| logs(&instances, e));
}

#[test]
fn deep_scan_reads_xrdp_standard_rdp_security() {
    let test = "deep_scan_reads_xrdp_standard_rdp_security";
    let Some(tools) = tools(test) else { return };
    // xrdp answers every offer with its configured method (brief 2.3): each level shows as the
    // one method whose offer comes back unchanged.
    // `none` (also what an ini without crypt_level gets) means no encryption at all: level 0,
    // method 0, which no single-method offer comes back as.
    let levels: [(&'static str, &'static str, &str, u32, &[u32]); 5] = [
        ("rdp-none", "none", "NONE", 0, &[]),
        ("rdp-low", "low", "LOW:40BIT", 1, &[0x01]),
        (
            "rdp-medium",
            "medium",
            "CLIENT_COMPATIBLE:40BIT",
            2,
            &[0x01],
        ),
        ("rdp-high", "high", "HIGH:128BIT", 3, &[0x02]),
        ("rdp-fips", "fips", "FIPS:FIPS", 4, &[0x10]),
    ];
    let instances: Vec<Instance> = levels
        .iter()
        .map(|(label, crypt, ..)| {
            start(
                &tools,
                label,
                XrdpConfig {
                    crypt_level: crypt,
                    ..XrdpConfig::new("rdp")
                },
            )
        })
        .collect();
    let res = scan(&instances, "deep");
    let mut c = Check::default();
    for (label, _, label_col, level, methods) in levels {
        let h = host(label);
        let (Some(row), Some(rep)) = (res.rows.get(&h), res.reports.get(&h)) else {
            panic!("no result for {h}");
        };
        c.cols(
            label,
            row,
            &[
                ("verdict", "rdp-security-only"),
                ("rdp_accepted", "RDP"),
                ("rdp_required", "RDP"),
                ("rdp_version", "RDP 5.0-8.1"),
                ("rdp_encryption", label_col),
                // 1 negotiation + 1 MCS probe offering all methods + 4 single-method probes.
                ("connections", "6"),
            ],
        );
        let rdp = rep.record.rdp.as_ref();
        c.eq(
            &format!("{label} version"),
            rdp.and_then(|r| r.version),
            Some(0x0008_0004),
        );
        c.eq(
            &format!("{label} level"),
            rdp.and_then(|r| r.encryption_level),
            Some(level),
        );
        c.eq(
            &format!("{label} methods"),
            rdp.map(|r| r.encryption_methods.clone()),
            Some(methods.to_vec()),
        );
    }
    c.finish(|e| logs(&instances, e));
}

#[test]
fn deep_scan_lists_xrdp_tls_versions() {
    let test = "deep_scan_lists_xrdp_tls_versions";
    let Some(tools) = tools(test) else { return };
    let pki = Pki::new(&tools.openssl);
    let old = |label: &str, protocols: &str| XrdpConfig {
        ssl_protocols: Some(protocols.into()),
        tls_ciphers: Some("DEFAULT:@SECLEVEL=0".into()),
        ..with_cert(&pki, label, "tls", Cert::Valid)
    };
    // (label, best version, every version a single-version hello gets, via)
    let cases: [(&'static str, &str, &[&str], &str); 3] = [
        ("tls", "TLSv1.3", &["TLSv1.2", "TLSv1.3"], "rustls"),
        (
            "tls-old",
            "TLSv1.2",
            &["TLSv1.0", "TLSv1.1", "TLSv1.2"],
            "rustls",
        ),
        ("tls10", "TLSv1.0", &["TLSv1.0"], "legacy-hello"),
    ];
    let instances = vec![
        start(&tools, "tls", with_cert(&pki, "tls", "tls", Cert::Valid)),
        start(&tools, "tls-old", old("tls-old", "TLSv1, TLSv1.1, TLSv1.2")),
        start(&tools, "tls10", old("tls10", "TLSv1")),
    ];
    let res = scan(&instances, "deep");
    let mut c = Check::default();
    for (label, best, versions, via) in cases {
        let h = host(label);
        let (Some(row), Some(rep)) = (res.rows.get(&h), res.reports.get(&h)) else {
            panic!("no result for {h}");
        };
        c.cols(
            label,
            row,
            &[
                ("tls_version", best),
                ("rdp_accepted", "SSL"),
                // Standard RDP security is refused (failure 1): no MCS probe to report.
                ("rdp_encryption", ""),
            ],
        );
        let tls = rep.record.tls.as_ref();
        c.eq(
            &format!("{label} versions"),
            tls.map(|t| t.versions.clone()),
            Some(versions.iter().map(|v| v.to_string()).collect()),
        );
        c.eq(
            &format!("{label} via"),
            tls.map(|t| t.via.as_str()),
            Some(via),
        );
    }
    c.finish(|e| logs(&instances, e));
}

/// What the per-candidate probe must read from each configuration (docs/protocol.md §4.3, observed
/// table, plus RDSTLS 0x04, which xrdp treats like any other unsupported bit).
fn truth_table(label: &str) -> Vec<nmap::CcReply> {
    use nmap::CcReply::{Failure, Selected};
    let s = |protocol| Selected { protocol, flags: 1 };
    // Order of nmap::CANDIDATES: 0, 1, 3, 4, 8.
    match label {
        "negotiate" => vec![s(0), s(1), s(1), s(0), s(0)],
        "tls" => vec![Failure(1), s(1), s(1), Failure(1), Failure(1)],
        "rdp" | "rdp-none" => vec![s(0), s(0), s(0), s(0), s(0)],
        "nokey" => vec![Failure(3); 5],
        other => panic!("no truth table for {other}"),
    }
}

/// Candidates nmap gets wrong on each configuration (tests/README.md): it counts any
/// RDP_NEG_RSP as SUCCESS without reading selectedProtocol.
fn nmap_wrong(label: &str) -> Vec<&'static str> {
    match label {
        "negotiate" => vec!["CredSSP (NLA)", "RDSTLS", "CredSSP with Early User Auth"],
        "tls" => vec!["CredSSP (NLA)"],
        "rdp" | "rdp-none" => vec![
            "SSL",
            "CredSSP (NLA)",
            "RDSTLS",
            "CredSSP with Early User Auth",
        ],
        _ => vec![],
    }
}

#[test]
fn nmap_cross_check_on_real_xrdp() {
    let test = "nmap_cross_check_on_real_xrdp";
    let Some(tools) = tools(test) else { return };
    let Some(nmap_bin) = xrdp::tool_or_skip(test, nmap::NMAP, "nmap") else {
        return;
    };
    let pki = Pki::new(&tools.openssl);
    let instances = vec![
        start(&tools, "rdp", with_cert(&pki, "rdp", "rdp", Cert::Valid)),
        start(&tools, "tls", with_cert(&pki, "tls", "tls", Cert::Valid)),
        start(
            &tools,
            "negotiate",
            with_cert(&pki, "negotiate", "negotiate", Cert::Valid),
        ),
        start(
            &tools,
            "nokey",
            with_cert(&pki, "nokey", "tls", Cert::MissingKey),
        ),
        start(
            &tools,
            "rdp-none",
            XrdpConfig {
                crypt_level: "none",
                ..XrdpConfig::new("rdp")
            },
        ),
    ];

    // Deep: the security layers plus the standard-RDP level/method nmap also enumerates.
    let res = scan(&instances, "deep");
    // nmap paces itself (0.2 s between its 9 connections): run them in parallel.
    let nmap_results: Vec<nmap::EnumEncryption> = std::thread::scope(|s| {
        let handles: Vec<_> = instances
            .iter()
            .map(|i| {
                let bin = nmap_bin.clone();
                let ip = i.xrdp.ip();
                s.spawn(move || {
                    nmap::rdp_enum_encryption(&bin, ip, xrdp::PORT, Duration::from_secs(60))
                })
            })
            .collect();
        handles
            .into_iter()
            .zip(&instances)
            .map(|(h, i)| {
                h.join()
                    .expect("nmap thread")
                    .unwrap_or_else(|e| panic!("nmap against {}: {e}", i.label))
            })
            .collect()
    });

    let mut c = Check::default();
    let mut report = Vec::new();
    for (i, nm) in instances.iter().zip(&nmap_results) {
        let l = i.label;
        let h = host(l);
        let row = res.rows.get(&h).unwrap_or_else(|| panic!("no row for {h}"));
        let accepted: Vec<&str> = row["rdp_accepted"]
            .split('|')
            .filter(|s| !s.is_empty())
            .collect();
        c.eq(
            &format!("{l} nmap port state"),
            nm.port_state.as_deref(),
            Some("open"),
        );

        // Ground truth: what xrdp answers to each of nmap's candidates.
        let truth: Vec<nmap::CcReply> = nmap::CANDIDATES
            .iter()
            .map(|(_, req, _)| {
                nmap::negotiate(i.xrdp.addr(), *req)
                    .unwrap_or_else(|e| panic!("{l}: probe 0x{req:02X}: {e}"))
            })
            .collect();
        c.eq(
            &format!("{l} per-candidate replies"),
            &truth,
            &truth_table(l),
        );

        // The scanner agrees with the truth: a layer is accepted iff some request selected it.
        for (name, bit) in [("RDP", 0u32), ("SSL", 1), ("HYBRID", 2), ("HYBRID_EX", 8)] {
            let picked = truth.iter().any(|t| {
                *t == nmap::CcReply::Selected {
                    protocol: bit,
                    flags: 1,
                }
            });
            c.eq(
                &format!("{l}: rdpsweep lists {name} iff xrdp selected it"),
                accepted.contains(&name),
                picked,
            );
        }

        if !nm.script_ran {
            // nmap 7.93 on a TLS-only xrdp: its cipher pass (CR without negotiation, then an MCS
            // Connect-Initial) gets a Disconnect-Provider-Ultimatum, rdp.lua's BER decoder
            // throws, and the whole script's output is lost, security layers included.
            c.truth(
                &format!("{l}: nmap printed nothing, so its script must have thrown an error"),
                nm.script_error.is_some(),
            );
            c.truth(
                &format!("{l}: only TLS-only configurations make nmap's script fail"),
                matches!(l, "tls" | "nokey"),
            );
            report.push(format!(
                "{l}: nmap: no output (script error: {}); rdpsweep: accepted [{}] required [{}] failure [{}]",
                nm.script_error.as_deref().unwrap_or("?"),
                row["rdp_accepted"],
                row["rdp_required"],
                row["neg_failure"],
            ));
            continue;
        }

        // nmap's rule, reproduced: SUCCESS exactly where the reply was an RDP_NEG_RSP.
        let mut wrong = Vec::new();
        for ((name, req, names), t) in nmap::CANDIDATES.iter().zip(&truth) {
            let nmap_success = nm.successes().contains(name);
            let is_rsp = matches!(t, nmap::CcReply::Selected { .. });
            c.eq(
                &format!("{l}: nmap {name} (0x{req:02X}) SUCCESS iff the reply was a RSP"),
                nmap_success,
                is_rsp,
            );
            let really = *t
                == nmap::CcReply::Selected {
                    protocol: *names,
                    flags: 1,
                };
            if nmap_success != really {
                wrong.push(*name);
            } else if let Some(layer) = match *names {
                0 => Some("RDP"),
                1 => Some("SSL"),
                _ => None,
            } {
                // Where nmap is right, the scanner says the same.
                c.eq(
                    &format!("{l}: nmap and rdpsweep agree on {layer}"),
                    accepted.contains(&layer),
                    nmap_success,
                );
            }
        }
        wrong.sort_unstable();
        let mut want_wrong = nmap_wrong(l);
        want_wrong.sort_unstable();
        c.eq(
            &format!("{l}: candidates nmap gets wrong"),
            &wrong,
            &want_wrong,
        );

        // Standard RDP security: nmap's cipher pass and rdpsweep's deep MCS probes agree where
        // the server encrypts; at level NONE nmap prints neither level nor version (its level
        // line only shows with a successful cipher under it) while rdpsweep reports NONE.
        if accepted.contains(&"RDP") {
            let ok_ciphers: Vec<&str> = nm
                .ciphers
                .iter()
                .filter(|(_, r)| r == "SUCCESS")
                .map(|(n, _)| n.as_str())
                .collect();
            let (level, ciphers, version, ours) = if l == "rdp-none" {
                (None, vec![], None, "NONE")
            } else {
                (
                    Some("High"),
                    vec!["128-bit RC4"],
                    Some("RDP 5.x, 6.x, 7.x, or 8.x server"),
                    "HIGH:128BIT",
                )
            };
            c.eq(&format!("{l}: nmap level"), nm.level.as_deref(), level);
            c.eq(&format!("{l}: nmap ciphers"), ok_ciphers, ciphers);
            c.eq(
                &format!("{l}: nmap version"),
                nm.version.as_deref(),
                version,
            );
            c.eq(
                &format!("{l}: rdpsweep encryption"),
                row["rdp_encryption"].as_str(),
                ours,
            );
            c.eq(
                &format!("{l}: rdpsweep version"),
                row["rdp_version"].as_str(),
                "RDP 5.0-8.1",
            );
        }
        report.push(format!(
            "{l}: nmap SUCCESS [{}], wrong on [{}]; rdpsweep accepted [{}]",
            nm.successes().join(", "),
            wrong.join(", "),
            row["rdp_accepted"],
        ));
    }
    eprintln!("nmap vs rdpsweep on real xrdp:\n  {}", report.join("\n  "));
    c.finish(|e| format!("{}\n{}", report.join("\n"), logs(&instances, e)));
}

#[test]
fn loopback_guard_refuses_other_addresses() {
    // The helpers never send anything off loopback, whatever a test passes them.
    let off: IpAddr = "192.0.2.1".parse().expect("address");
    let err = nmap::rdp_enum_encryption(
        Path::new("/nonexistent/nmap"),
        off,
        3389,
        Duration::from_secs(1),
    )
    .expect_err("non-loopback refused");
    assert!(err.contains("not a loopback"), "{err}");
    let err = nmap::negotiate(std::net::SocketAddr::new(off, 3389), 0).expect_err("refused");
    assert!(err.contains("not loopback"), "{err}");
}
