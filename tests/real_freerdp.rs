//! The NLA/CredSSP probe against REAL FreeRDP NLA servers (`freerdp-shadow-cli /sec:nla +auth`,
//! FreeRDP 2.11 on OpenSSL 3), cross-checked with nmap's `rdp-ntlm-info`.
//!
//! Each test starts its own servers (tests/support/freerdp.rs): an Xvfb display, shadow
//! servers on 127.89.P.N:3389 with a chosen hostname (own UTS namespace), a SAM file with one
//! random account, and a certificate from a per-test CA. The scanner binary is run on them
//! by DNS names pinned with `--resolve` (no DNS traffic at all; `--dns-server` points at a
//! dead loopback port in case anything tried).
//!
//! What FreeRDP 2.11.7 reports, as observed here (and asserted):
//! - X.224: 0x0B -> HYBRID; 0x09 -> failure 5 (HYBRID_REQUIRED_BY_SERVER); RSP flags 0x03.
//! - TSRequest version 6 whatever the client sends; NTLM version 6.1.7601 (WinPR's fake).
//! - NTLM names: NetBIOS computer/domain = first label of the hostname upper-cased; DNS
//!   computer/domain = the first label as written (hostname "tsProbe01.lab.test" gives
//!   "TSPROBE01" and "tsProbe01").
//!
//! Legacy TLS: FreeRDP sets its own TLS bounds right after SSL_CTX_new (min TLS 1.0, max = the
//! library's highest), so OPENSSL_CONF cannot make it TLS 1.0-only; tests/support/shim/
//! tls10_only.c (LD_PRELOAD, built with gcc at test time) pins min = max = TLS 1.0 and security
//! level 0. rustls then gets alert 70, the scanner's raw legacy hello reads TLS 1.0, and the
//! OpenSSL fallback (`credssp_via_openssl`, feature legacy-tls) still gets the CHALLENGE.
//!
//! Packages (installed by `.ci/run`): freerdp2-shadow-x11, winpr-utils, xvfb, util-linux,
//! openssl, nmap, gcc + libssl-dev. Missing ones skip loudly, or fail when `CI` is set.
//! Runtime: a few seconds per test; tests run in parallel.

#[path = "support/csv_rows.rs"]
mod csv_rows;
#[path = "support/freerdp.rs"]
mod freerdp;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use freerdp::{Fleet, Mitm, RecordingProxy, ShadowSpec, tls_records};
use rdpsweep::model::{FindingCode, HostReport};

const BIN: &str = env!("CARGO_BIN_EXE_rdpsweep");

type Row = HashMap<String, String>;

struct Scan {
    rows: Vec<Row>,
    reports: Vec<HostReport>,
}

impl Scan {
    fn row(&self, host: &str) -> &Row {
        self.rows
            .iter()
            .find(|r| r["host"] == host)
            .unwrap_or_else(|| panic!("no CSV row for {host}: {:#?}", self.rows))
    }

    fn report(&self, host: &str) -> &HostReport {
        self.reports
            .iter()
            .find(|r| r.record.target.host == host)
            .unwrap_or_else(|| panic!("no JSONL record for {host}"))
    }
}

/// Runs `rdpsweep scan` on `targets` (NAME=IP pins) and reads back its CSV and JSON Lines.
fn scan(ca: &Path, targets: &[(&str, std::net::IpAddr)]) -> Scan {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("out.csv");
    let jsonl = dir.path().join("out.jsonl");
    let mut cmd = Command::new(BIN);
    cmd.arg("scan");
    for (name, ip) in targets {
        cmd.arg(name).arg("--resolve").arg(format!("{name}={ip}"));
    }
    cmd.arg("--ca-bundle")
        .arg(ca)
        // Every name is pinned; should anything still query DNS it goes to a dead loopback port.
        .args(["--dns-server", "127.0.0.1:9", "--dns-timeout", "1s"])
        .args(["--rate", "0", "--host-spacing", "20ms", "--retries", "0"])
        .args(["--connect-timeout", "2s", "--timeout", "5s", "-q"])
        .arg("--csv")
        .arg(&csv)
        .arg("--jsonl")
        .arg(&jsonl);
    let out = cmd.output().expect("run rdpsweep");
    // 0 or 1 (findings at or above --fail-on): anything else is a usage or setup error.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "rdpsweep failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, rows) = csv_rows::read_csv(&csv);
    let reports = rdpsweep::report::jsonl::read_reports(&jsonl).expect("jsonl");
    Scan { rows, reports }
}

fn findings(row: &Row) -> Vec<&str> {
    row["findings"].split(';').collect()
}

fn spec(hostname: &str, cert_name: &str) -> ShadowSpec {
    ShadowSpec {
        hostname: hostname.into(),
        cert_name: cert_name.into(),
        preload: None,
    }
}

fn start(test: &str, specs: &[ShadowSpec], extra_tools: &[(&str, &str)]) -> Option<Fleet> {
    let mut tools = freerdp::FLEET_TOOLS.to_vec();
    tools.extend_from_slice(extra_tools);
    if !freerdp::tools_or_skip(test, &tools) {
        return None;
    }
    Some(Fleet::start(specs).unwrap_or_else(|e| panic!("{test}: servers did not start: {e}")))
}

/// The NTLM facts every FreeRDP instance must report for `hostname` (first label, no dots).
fn assert_ntlm_facts(row: &Row, hostname: &str) {
    let upper = hostname.to_ascii_uppercase();
    assert_eq!(row["credssp_version"], "6", "{row:#?}");
    assert_eq!(row["credssp_error"], "", "{row:#?}");
    assert_eq!(row["ntlm_target"], upper, "{row:#?}");
    assert_eq!(row["ntlm_nb_computer"], upper, "{row:#?}");
    assert_eq!(row["ntlm_nb_domain"], upper, "{row:#?}");
    assert_eq!(row["ntlm_dns_computer"], hostname, "{row:#?}");
    assert_eq!(row["ntlm_dns_domain"], hostname, "{row:#?}");
    assert_eq!(row["os_version"], "6.1.7601", "{row:#?}");
    assert_eq!(row["os_name"], "Windows 7 / Server 2008 R2", "{row:#?}");
    let skew: i64 = row["clock_skew_s"]
        .parse()
        .expect("clock_skew_s is a number");
    assert!(skew.abs() <= 5, "same machine, same clock: skew {skew}");
}

// ---------------------------------------------------------------------------------------------

#[test]
fn nla_server_facts_match_freerdp_and_nmap() {
    const T: &str = "nla_server_facts_match_freerdp_and_nmap";
    let name = "tsprobe01.corp.test";
    let Some(fleet) = start(T, &[spec("tsProbe01.lab.test", name)], &[]) else {
        return;
    };
    let srv = &fleet.servers[0];
    let s = scan(&fleet.ca_pem(), &[(name, srv.addr.ip())]);
    let row = s.row(name);

    // A healthy NLA-only host: trusted certificate for the scanned name, patched CredSSP, the
    // name matches. The verdict (what stops a default mstsc) is ok; that NLA is required is
    // the one (info) finding.
    assert_eq!(row["verdict"], "ok", "{row:#?}\n{}", srv.log());
    assert_eq!(
        findings(row),
        ["ok", "nla-required", "udp-blocked"],
        "{row:#?}"
    );
    assert_eq!(row["severity"], "info");
    assert_eq!(row["dns_status"], "pinned");
    assert_eq!(row["tcp_status"], "open");
    assert_eq!(row["rdp_accepted"], "HYBRID");
    assert_eq!(row["rdp_required"], "HYBRID");
    assert_eq!(row["neg_failure"], "5:HYBRID_REQUIRED_BY_SERVER");
    assert_eq!(row["neg_flags"], "EXTENDED_CLIENT_DATA|GFX");
    // GFX without Restricted Admin: no Windows release sends that (docs/protocol.md §3.4), and
    // the hint must not believe the 6.1.7601 FreeRDP claims in NTLM.
    assert_eq!(row["os_hint"], "not Windows (FreeRDP-like flags)");
    assert_eq!(row["tls_version"], "TLSv1.3");
    assert_eq!(row["cert_subject"], format!("CN={name}"));
    assert_eq!(row["cert_name_match"], "yes");
    assert_eq!(row["cert_trusted"], "yes");
    assert_eq!(row["cert_key"], "RSA-2048");
    // First CR selects HYBRID (TLS + CredSSP on it), the second (0x09) gets failure 5, which
    // already proves standard RDP is refused: two connections.
    assert_eq!(row["connections"], "2", "{row:#?}");
    assert_ntlm_facts(row, "tsProbe01");
    let rep = s.report(name);
    let attempts: Vec<(u32, String)> = rep
        .record
        .rdp
        .as_ref()
        .expect("rdp outcome")
        .attempts
        .iter()
        .map(|a| (a.requested, format!("{:?}", a.result)))
        .collect();
    assert_eq!(
        attempts,
        [
            (0x0B, "Selected { protocol: 2, flags: 3 }".to_string()),
            (0x09, "Failure { code: 5 }".to_string()),
        ]
    );

    // nmap's rdp-ntlm-info (an independent NTLM parser) on the same server must agree.
    if !freerdp::tools_or_skip(&format!("{T} (nmap part)"), &[("nmap", "nmap")]) {
        return;
    }
    let out = Command::new("nmap")
        .args([
            "-n",
            "-Pn",
            "-sT",
            "-p",
            "3389",
            "--script",
            "rdp-ntlm-info",
        ])
        .args(["--script-timeout", "20s", "-oX", "-"])
        .arg(srv.addr.ip().to_string())
        .output()
        .expect("run nmap");
    assert!(
        out.status.success(),
        "nmap: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let xml = String::from_utf8_lossy(&out.stdout).to_string();
    let nmap = nmap_ntlm_info(&xml);
    let want = [
        ("Target_Name", "ntlm_target"),
        ("NetBIOS_Computer_Name", "ntlm_nb_computer"),
        ("NetBIOS_Domain_Name", "ntlm_nb_domain"),
        ("DNS_Computer_Name", "ntlm_dns_computer"),
        ("DNS_Domain_Name", "ntlm_dns_domain"),
        ("Product_Version", "os_version"),
    ];
    for (nmap_key, column) in want {
        assert_eq!(
            nmap.get(nmap_key).map(String::as_str),
            Some(row[column].as_str()),
            "nmap {nmap_key} vs rdpsweep {column}; nmap said {nmap:#?}"
        );
    }
    // System_Time is the CHALLENGE timestamp: the same clock the scanner's skew came from.
    let sys = nmap.get("System_Time").expect("nmap System_Time");
    let t = time::OffsetDateTime::parse(sys, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("nmap System_Time {sys:?}: {e}"));
    let now = time::OffsetDateTime::now_utc();
    assert!((now - t).whole_seconds().abs() < 60, "System_Time {sys}");
}

/// `<script id="rdp-ntlm-info"><elem key="K">V</elem>...` from `nmap -oX`.
fn nmap_ntlm_info(xml: &str) -> HashMap<String, String> {
    // nmap's XML starts with <!DOCTYPE nmaprun> (no entities).
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(xml, opts)
        .unwrap_or_else(|e| panic!("nmap XML: {e}\n{xml}"));
    let script = doc
        .descendants()
        .find(|n| n.has_tag_name("script") && n.attribute("id") == Some("rdp-ntlm-info"))
        .unwrap_or_else(|| panic!("no rdp-ntlm-info output in nmap XML:\n{xml}"));
    script
        .children()
        .filter(|n| n.has_tag_name("elem"))
        .filter_map(|n| Some((n.attribute("key")?.to_string(), n.text()?.to_string())))
        .collect()
}

#[test]
fn ntlm_name_differing_from_the_dns_name_is_name_mismatch() {
    const T: &str = "ntlm_name_differing_from_the_dns_name_is_name_mismatch";
    // The machine is tsProbe02; a stale record "othername" points at it too.
    let Some(fleet) = start(T, &[spec("tsProbe02", "tsprobe02.corp.test")], &[]) else {
        return;
    };
    let ip = fleet.servers[0].addr.ip();
    let s = scan(
        &fleet.ca_pem(),
        &[("othername.corp.test", ip), ("tsprobe02.corp.test", ip)],
    );

    let stale = s.row("othername.corp.test");
    assert!(findings(stale).contains(&"name-mismatch"), "{stale:#?}");
    assert!(findings(stale).contains(&"nla-required"), "{stale:#?}");
    assert_eq!(stale["ntlm_nb_computer"], "TSPROBE02");
    let f = s
        .report("othername.corp.test")
        .findings
        .iter()
        .find(|f| f.code == FindingCode::NameMismatch)
        .expect("name-mismatch finding");
    assert!(f.detail.contains("othername.corp.test") && f.detail.contains("TSPROBE02"));

    // The control: by its own name (different case, FQDN) the same server is no mismatch.
    let own = s.row("tsprobe02.corp.test");
    assert!(!findings(own).contains(&"name-mismatch"), "{own:#?}");
    assert_eq!(
        findings(own),
        ["ok", "nla-required", "udp-blocked"],
        "{own:#?}"
    );
    assert_ntlm_facts(own, "tsProbe02");
}

// ---------------------------------------------------------------------------------------------
// No credentials ever leave the scanner.
//
// The argument, in three layers:
// 1. The scanner is never given a user name or password (no flag exists), so it cannot send
//    them; the test still searches every captured byte, both directions, for the SAM
//    account's user name, password and NT hash in ASCII, UTF-16LE (NTLM's encoding) and
//    upper case, and the hash as raw bytes, so a future credential option or a leak through
//    a cookie ("Cookie: mstshash=<user>") would be caught.
// 2. What matters more is that no NTLM AUTHENTICATE (not even an anonymous one) and no
//    TSRequest with authInfo/pubKeyAuth is ever sent. On the transparent capture, the
//    scanner's bytes on each connection must be exactly: one X.224 CR equal to
//    `x224::connection_request(req, None)`, then (only where the server selected HYBRID) TLS
//    records: handshake records, then application-data records whose sizes are fixed by TLS
//    1.3 framing (ciphertext = plaintext + 1 content-type byte + 16-byte AEAD tag; rustls
//    adds no padding): the Finished message (4 + 32 or 48 bytes), ONE record carrying exactly
//    `negotiate_request().len()` bytes, and optionally a 2-byte close_notify alert, and then
//    nothing. An AUTHENTICATE inside a TSRequest is far larger than any of these and would
//    need a record of its own after the server's CHALLENGE: there is none.
// 3. The size argument cannot tell which bytes those are, so the same scan is repeated through
//    a TLS-terminating relay (the scanner accepts any certificate by design): the plaintext
//    it sends is compared byte for byte with `negotiate_request()`, and the relay hands it the
//    real server's CHALLENGE, so the scanner had its chance to answer and did not (it only
//    closed).

const CLOSE_NOTIFY_RECORD: usize = 2 + 17;

#[test]
fn scanner_sends_no_credentials_only_the_negotiate() {
    const T: &str = "scanner_sends_no_credentials_only_the_negotiate";
    let name = "tsprobe03.corp.test";
    let Some(fleet) = start(T, &[spec("tsProbe03", name)], &[]) else {
        return;
    };
    let srv = &fleet.servers[0];

    // Layers 1 and 2: transparent capture.
    let proxy = RecordingProxy::start(srv.addr).expect("proxy");
    let s = scan(&fleet.ca_pem(), &[(name, proxy.addr.ip())]);
    let conns = proxy.finish();
    let row = s.row(name);
    assert_ntlm_facts(row, "tsProbe03");
    assert_eq!(
        row["tls_version"], "TLSv1.3",
        "the record arithmetic below is TLS 1.3's"
    );
    assert_eq!(conns.len(), 2, "CR 0x0B with TLS+CredSSP, then CR 0x09");
    assert_no_secrets(srv, conns.iter().flat_map(|c| [&c.c2s, &c.s2c]));

    let negotiate = rdpsweep::probe::credssp::negotiate_request();
    let with_tls = &conns[0];
    let cr = rdpsweep::rdp::x224::connection_request(0x0B, None);
    assert_eq!(with_tls.c2s.get(..cr.len()), Some(cr.as_slice()));
    let records = tls_records(&with_tls.c2s[cr.len()..]).expect("clean TLS records");
    // Handshake (22) and change_cipher_spec (20) come first, then application data (23) only.
    let first_app = records
        .iter()
        .position(|r| r.content_type == 23)
        .expect("application data");
    assert!(
        records[..first_app]
            .iter()
            .all(|r| r.content_type == 22 || r.content_type == 20),
        "{records:?}"
    );
    let app: Vec<usize> = records[first_app..]
        .iter()
        .map(|r| {
            assert_eq!(r.content_type, 23, "{records:?}");
            r.len
        })
        .collect();
    // Finished: handshake header 4 + verify_data (SHA-256 or SHA-384), + 17.
    assert!(
        app.first()
            .is_some_and(|&l| l == 4 + 32 + 17 || l == 4 + 48 + 17),
        "Finished record: {app:?}"
    );
    assert_eq!(
        app.get(1),
        Some(&(negotiate.len() + 17)),
        "one TSRequest of the NEGOTIATE's size: {app:?}"
    );
    assert!(
        app.len() == 2 || (app.len() == 3 && app[2] == CLOSE_NOTIFY_RECORD),
        "after the TSRequest only a close_notify may follow: {app:?}"
    );
    // The server did answer (its CHALLENGE), so "nothing after" is after the reply.
    assert!(with_tls.s2c.len() > 1000, "server flight + CHALLENGE");
    // The second connection: the CR 0x09 and not a byte more (failure 5 ends it).
    assert_eq!(
        conns[1].c2s,
        rdpsweep::rdp::x224::connection_request(0x09, None)
    );

    // Layer 3: the plaintext itself.
    let mitm = Mitm::start(srv.addr).expect("mitm");
    let s = scan(&fleet.ca_pem(), &[(name, mitm.addr.ip())]);
    let logs = mitm.finish();
    let row = s.row(name);
    // Through the relay the scanner still got the real CHALLENGE...
    assert_ntlm_facts(row, "tsProbe03");
    let hybrid: Vec<_> = logs.iter().filter(|l| l.reply_len > 0).collect();
    assert_eq!(hybrid.len(), 1, "{logs:#?}");
    // ...and all it ever said inside TLS is the NEGOTIATE, then it closed.
    assert_eq!(hybrid[0].plaintext, negotiate, "{logs:#?}");
    assert!(
        ["close_notify", "eof", "reset"].contains(&hybrid[0].ended.as_str()),
        "{logs:#?}"
    );
    for l in logs.iter().filter(|l| l.reply_len == 0) {
        // Connections refused at X.224 (failure 5): nothing after the CR.
        assert_eq!(l.ended, "no TLS", "{logs:#?}");
        assert!(l.plaintext.is_empty(), "{logs:#?}");
    }
    for l in &logs {
        assert_eq!(
            l.x224,
            rdpsweep::rdp::x224::connection_request(
                u32::from_le_bytes(l.x224[15..19].try_into().unwrap()),
                None
            ),
            "every CR is the plain builder's, no cookie"
        );
    }
    assert_no_secrets(srv, logs.iter().map(|l| &l.plaintext));
}

/// None of the account's secrets, in any encoding NTLM or a cookie would use.
fn assert_no_secrets<'a>(srv: &freerdp::Shadow, captured: impl Iterator<Item = &'a Vec<u8>>) {
    let utf16 = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_le_bytes).collect() };
    let mut needles: Vec<(String, Vec<u8>)> = Vec::new();
    for (what, s) in [
        ("user", srv.user.clone()),
        ("USER", srv.user.to_ascii_uppercase()),
        ("password", srv.password.clone()),
        ("nt hash hex", srv.nt_hash.clone()),
    ] {
        needles.push((format!("{what} ascii"), s.as_bytes().to_vec()));
        needles.push((format!("{what} utf-16le"), utf16(&s)));
    }
    needles.push((
        "nt hash bytes".into(),
        hex::decode(&srv.nt_hash).expect("hash hex"),
    ));
    let mut total = 0;
    for bytes in captured {
        total += bytes.len();
        for (what, n) in &needles {
            assert!(
                !bytes.windows(n.len()).any(|w| w == n.as_slice()),
                "{what} found in the captured bytes"
            );
        }
    }
    assert!(total > 0, "nothing captured");
}

// ---------------------------------------------------------------------------------------------

#[test]
fn tls10_only_nla_server_still_reports_credssp_via_openssl() {
    const T: &str = "tls10_only_nla_server_still_reports_credssp_via_openssl";
    if !freerdp::tools_or_skip(
        T,
        &[("gcc", "gcc"), ("/usr/include/openssl/ssl.h", "libssl-dev")],
    ) {
        return;
    }
    let shim_dir = tempfile::tempdir().expect("tempdir");
    let shim = freerdp::build_tls10_shim(shim_dir.path()).expect("build the TLS 1.0 shim");
    let name = "legacy08.corp.test";
    let legacy = ShadowSpec {
        preload: Some(shim),
        ..spec("LEGACY08", name)
    };
    let Some(fleet) = start(T, &[legacy], &[]) else {
        return;
    };
    let srv = &fleet.servers[0];
    let proxy = RecordingProxy::start(srv.addr).expect("proxy");
    let s = scan(&fleet.ca_pem(), &[(name, proxy.addr.ip())]);
    let conns = proxy.finish();
    let row = s.row(name);

    assert_eq!(row["verdict"], "tls-legacy-only", "{row:#?}\n{}", srv.log());
    assert_eq!(row["tls_version"], "TLSv1.0", "{row:#?}");
    let rep = s.report(name);
    let tls = rep.record.tls.as_ref().expect("tls outcome");
    // rustls (TLS 1.2/1.3 only) was refused with protocol_version: the shim works. (The JSONL
    // keeps why rustls failed; the CSV error column does not, since the fallback succeeded.)
    let why = tls.error.as_deref().unwrap_or_default();
    assert!(why.contains("alert 70"), "{why}");
    assert!(tls.legacy);
    assert_eq!(tls.via, "legacy-hello+openssl");
    // The certificate came from the plaintext TLS 1.0 Certificate message.
    assert_eq!(row["cert_subject"], format!("CN={name}"));
    assert_eq!(row["cert_trusted"], "yes");
    // ...and the OpenSSL fallback still reached the CHALLENGE.
    assert_ntlm_facts(row, "LEGACY08");
    // The matrix still ran after the fallback's extra connections.
    assert_eq!(row["rdp_required"], "HYBRID", "{row:#?}");
    assert!(findings(row).contains(&"nla-required"), "{row:#?}");
    // 0x0B (rustls refused), raw legacy hello, OpenSSL + CredSSP, then 0x09 -> failure 5.
    assert_eq!(conns.len(), 4, "{row:#?}");
    assert_no_secrets(srv, conns.iter().flat_map(|c| [&c.c2s, &c.s2c]));
    // The OpenSSL connection: CR, then TLS 1.0 records only; its application data is the one
    // NEGOTIATE plus OpenSSL's optional empty first fragment (against BEAST). CBC sizes are
    // fixed by the plaintext length: HMAC-SHA1 (20) and at least one padding byte, padded to
    // the 16-byte block, MAC inside (classic) or outside (encrypt_then_mac, which OpenSSL
    // negotiates on both ends). 57 bytes of NEGOTIATE give 80 or 84; no AUTHENTICATE fits.
    let openssl = &conns[2];
    let cr = rdpsweep::rdp::x224::connection_request(0x0B, None);
    assert_eq!(openssl.c2s.get(..cr.len()), Some(cr.as_slice()));
    let records = tls_records(&openssl.c2s[cr.len()..]).expect("clean TLS records");
    assert!(
        records
            .iter()
            .all(|r| r.version == 0x0301 || r.content_type == 22)
    );
    let app: Vec<usize> = records
        .iter()
        .filter(|r| r.content_type == 23)
        .map(|r| r.len)
        .collect();
    let negotiate = rdpsweep::probe::credssp::negotiate_request();
    let mac_then_encrypt = |plain: usize| (plain + 20 + 1).div_ceil(16) * 16;
    let encrypt_then_mac = |plain: usize| (plain + 1).div_ceil(16) * 16 + 20;
    let n = negotiate.len();
    assert!(
        [mac_then_encrypt, encrypt_then_mac]
            .iter()
            .any(|size| { app == [size(n)] || app == [size(0), size(n)] }),
        "application data records {app:?}"
    );
}
