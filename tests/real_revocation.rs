//! `--check-revocation` against real parts: a CA run with `openssl ca` (issue, `-revoke`,
//! `-gencrl`), real xrdp listeners serving its leaves, the CRL served over HTTP on loopback by
//! this test's own small server, and OCSP answers made by `openssl ocsp` (responder mode, one
//! request file at a time: `openssl ocsp -port` binds every interface, so the test's loopback
//! server hands each POST to it instead).
//!
//! Cases: a revoked leaf (CRL) and a good one sharing one CRL URL (fetched once); a CDP on a
//! loopback port nothing listens on; a CRL signed by another CA with the same name; a CRL that
//! never ends (byte cap) and one that trickles (time cap); a leaf revoked by OCSP; a good OCSP
//! answer beside a dead CDP; only ldap:// and javascript: URLs. Listeners are on
//! 127.96.x.y:3389, the HTTP server on 127.0.0.1: loopback only.

#[path = "support/csv_rows.rs"]
mod csv_rows;
#[path = "support/xrdp.rs"]
mod xrdp;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdpsweep::model::{FindingCode, HostReport, RevocationMethod, RevocationStatus};
use xrdp::{Xrdp, XrdpConfig};

const BIN: &str = env!("CARGO_BIN_EXE_rdpsweep");

fn host(label: &str) -> String {
    format!("xrdp-{label}.revocation.rdpsweep.test")
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// A CA directory `openssl ca` works in.
struct Ca {
    dir: PathBuf,
    cnf: PathBuf,
    key: PathBuf,
    pem: PathBuf,
}

impl Ca {
    fn new(openssl: &Path, root: &Path, name: &str, cn: &str) -> Ca {
        let dir = root.join(name);
        std::fs::create_dir_all(dir.join("newcerts")).expect("ca dir");
        std::fs::write(dir.join("index.txt"), "").expect("index");
        std::fs::write(dir.join("serial"), "1000\n").expect("serial");
        std::fs::write(dir.join("crlnumber"), "01\n").expect("crlnumber");
        let cnf = dir.join("ca.cnf");
        let d = p(&dir);
        std::fs::write(
            &cnf,
            format!(
                "[ca]\ndefault_ca=CA_default\n[CA_default]\ndir={d}\ndatabase=$dir/index.txt\n\
                 new_certs_dir=$dir/newcerts\ncertificate=$dir/ca.pem\nprivate_key=$dir/ca.key\n\
                 serial=$dir/serial\ncrlnumber=$dir/crlnumber\ndefault_md=sha256\n\
                 default_days=365\ndefault_crl_days=7\npolicy=policy_any\nunique_subject=no\n\
                 [policy_any]\ncommonName=supplied\n[req]\ndistinguished_name=dn\nprompt=no\n\
                 [dn]\nCN={cn}\n[v3ca]\nbasicConstraints=critical,CA:TRUE\n\
                 keyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n"
            ),
        )
        .expect("cnf");
        let ca = Ca {
            key: dir.join("ca.key"),
            pem: dir.join("ca.pem"),
            cnf,
            dir,
        };
        xrdp::rsa_key(openssl, &ca.key).expect("CA key");
        run(
            openssl,
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                p(&ca.key),
                "-config",
                p(&ca.cnf),
                "-extensions",
                "v3ca",
                "-days",
                "30",
                "-out",
                p(&ca.pem),
            ],
        );
        ca
    }

    /// A leaf for `label` (key `key`) with the extension lines `ext`.
    fn issue(&self, openssl: &Path, label: &str, key: &Path, ext: &str) -> PathBuf {
        let csr = self.dir.join(format!("{label}.csr"));
        let extfile = self.dir.join(format!("{label}.ext"));
        let out = self.dir.join(format!("{label}.pem"));
        let name = host(label);
        std::fs::write(
            &extfile,
            format!("subjectAltName=DNS:{name}\nextendedKeyUsage=serverAuth\n{ext}"),
        )
        .expect("ext");
        run(
            openssl,
            &[
                "req",
                "-new",
                "-key",
                p(key),
                "-subj",
                &format!("/CN={name}"),
                "-out",
                p(&csr),
            ],
        );
        run(
            openssl,
            &[
                "ca",
                "-batch",
                "-config",
                p(&self.cnf),
                "-in",
                p(&csr),
                "-out",
                p(&out),
                "-extfile",
                p(&extfile),
                "-notext",
            ],
        );
        out
    }

    fn revoke(&self, openssl: &Path, cert: &Path) {
        run(
            openssl,
            &[
                "ca",
                "-config",
                p(&self.cnf),
                "-revoke",
                p(cert),
                "-crl_reason",
                "keyCompromise",
            ],
        );
    }

    /// The CA's current CRL, DER.
    fn crl(&self, openssl: &Path) -> Vec<u8> {
        let pem = self.dir.join("crl.pem");
        let der = self.dir.join("crl.der");
        run(
            openssl,
            &["ca", "-config", p(&self.cnf), "-gencrl", "-out", p(&pem)],
        );
        run(
            openssl,
            &["crl", "-in", p(&pem), "-outform", "DER", "-out", p(&der)],
        );
        std::fs::read(der).expect("crl")
    }
}

fn run(openssl: &Path, args: &[&str]) {
    xrdp::openssl(openssl, args).unwrap_or_else(|e| panic!("openssl {args:?}: {e}"));
}

/// What the HTTP server answers on a path.
#[derive(Clone)]
enum Serve {
    Bytes(Vec<u8>),
    /// Body without length, written until the client hangs up (a CRL that never ends).
    Endless,
    /// One byte every 100 ms (a CRL server too slow to finish).
    Trickle,
    /// Hand the POST body to `openssl ocsp` as a responder for this CA.
    Ocsp {
        ca_dir: PathBuf,
        openssl: PathBuf,
    },
}

/// A small HTTP/1.1 server on 127.0.0.1 that counts requests per path; stops on drop.
struct Http {
    hits: Arc<Mutex<HashMap<String, usize>>>,
    stop: Arc<AtomicBool>,
}

impl Http {
    /// Serves `routes` on 127.0.0.1:`port`.
    fn start_on(port: u16, routes: HashMap<String, Serve>) -> Http {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the HTTP port");
        listener.set_nonblocking(true).expect("nonblocking");
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, s) = (hits.clone(), stop.clone());
        let routes = Arc::new(routes);
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let (h, s, routes) = (h.clone(), s.clone(), routes.clone());
                        std::thread::spawn(move || serve(conn, &routes, &h, &s));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Http { hits, stop }
    }

    fn hits(&self, path: &str) -> usize {
        self.hits
            .lock()
            .expect("hits")
            .get(path)
            .copied()
            .unwrap_or(0)
    }
}

impl Drop for Http {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(
    mut conn: TcpStream,
    routes: &HashMap<String, Serve>,
    hits: &Mutex<HashMap<String, usize>>,
    stop: &AtomicBool,
) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let path = head.split(' ').nth(1).unwrap_or("").to_string();
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    *hits.lock().expect("hits").entry(path.clone()).or_default() += 1;
    let ok = |conn: &mut TcpStream, data: &[u8]| {
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            data.len()
        );
        let _ = conn.write_all(head.as_bytes());
        let _ = conn.write_all(data);
    };
    match routes.get(&path) {
        None => {
            let _ = conn.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        }
        Some(Serve::Bytes(b)) => ok(&mut conn, b),
        Some(Serve::Endless) => {
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
            let block = vec![0x30u8; 64 * 1024];
            // At most 64 MiB: the scanner must stop reading long before.
            for _ in 0..1024 {
                if stop.load(Ordering::Relaxed) || conn.write_all(&block).is_err() {
                    break;
                }
            }
        }
        Some(Serve::Trickle) => {
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
            let end = Instant::now() + Duration::from_secs(30);
            while Instant::now() < end && !stop.load(Ordering::Relaxed) {
                if conn.write_all(&[0x30]).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Some(Serve::Ocsp { ca_dir, openssl }) => {
            let n = hits.lock().expect("hits").values().sum::<usize>();
            let req = ca_dir.join(format!("req{n}.der"));
            let resp = ca_dir.join(format!("resp{n}.der"));
            if std::fs::write(&req, &body).is_err() {
                return;
            }
            let pem = ca_dir.join("ca.pem");
            let key = ca_dir.join("ca.key");
            let out = Command::new(openssl)
                .args([
                    "ocsp",
                    "-index",
                    p(&ca_dir.join("index.txt")),
                    "-CA",
                    p(&pem),
                    "-rsigner",
                    p(&pem),
                    "-rkey",
                    p(&key),
                    "-reqin",
                    p(&req),
                    "-respout",
                    p(&resp),
                    "-ndays",
                    "1",
                ])
                .output();
            match (out, std::fs::read(&resp)) {
                (Ok(o), Ok(der)) if o.status.success() => ok(&mut conn, &der),
                _ => {
                    let _ = conn.write_all(b"HTTP/1.1 500 Error\r\nContent-Length: 0\r\n\r\n");
                }
            }
        }
    }
}

/// A loopback port nothing listens on (bound, then released).
fn dead_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

struct Scan {
    rows: HashMap<String, HashMap<String, String>>,
    reports: HashMap<String, HostReport>,
    html: String,
}

fn scan(targets: &[(&str, &Xrdp)], ca: &Path, extra: &[&str]) -> Scan {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("out.csv");
    let jsonl = dir.path().join("out.jsonl");
    let html = dir.path().join("out.html");
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
        "3s",
        "--retries",
        "0",
        "--depth",
        "quick",
        "-q",
    ] {
        args.push(a.into());
    }
    args.extend(["--ca-bundle".into(), p(ca).to_string()]);
    args.extend(["--csv".into(), p(&csv).to_string()]);
    args.extend(["--jsonl".into(), p(&jsonl).to_string()]);
    args.extend(["--html".into(), p(&html).to_string()]);
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
        html: std::fs::read_to_string(&html).expect("html"),
    }
}

fn codes(r: &HostReport) -> Vec<FindingCode> {
    r.findings.iter().map(|f| f.code).collect()
}

#[test]
fn revocation_against_openssl_ca_crl_and_ocsp() {
    let test = "revocation_against_openssl_ca_crl_and_ocsp";
    let Some(xrdp_bin) = xrdp::tool_or_skip(test, xrdp::XRDP, "xrdp") else {
        return;
    };
    let Some(openssl) = xrdp::tool_or_skip(test, xrdp::OPENSSL, "openssl") else {
        return;
    };
    xrdp::use_block(96);
    let tmp = tempfile::tempdir().expect("tempdir");
    let ca = Ca::new(&openssl, tmp.path(), "ca", "rdpsweep Revocation Test CA");
    // Same name, its own key: a CRL from it is "signed by someone else".
    let twin = Ca::new(&openssl, tmp.path(), "twin", "rdpsweep Revocation Test CA");
    let leaf_key = tmp.path().join("leaf.key");
    xrdp::rsa_key(&openssl, &leaf_key).expect("leaf key");

    let dead = dead_port();
    // The certificates name the HTTP server's port before it serves (its CRL comes after
    // them): the port is held until then.
    let http_port_holder = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = http_port_holder.local_addr().expect("addr").port();
    let url = |path: &str| format!("http://127.0.0.1:{port}{path}");
    let dead_url = format!("http://127.0.0.1:{dead}/ca.crl");

    let cdp = |u: &str| format!("crlDistributionPoints=URI:{u}\n");
    let ocsp = |u: &str| format!("authorityInfoAccess=OCSP;URI:{u}\n");
    let leaves: Vec<(&str, String)> = vec![
        ("crl-revoked", cdp(&url("/ca.crl"))),
        ("crl-good", cdp(&url("/ca.crl"))),
        ("cdp-dead", cdp(&dead_url)),
        ("crl-forged", cdp(&url("/twin.crl"))),
        ("crl-endless", cdp(&url("/endless.crl"))),
        ("crl-trickle", cdp(&url("/trickle.crl"))),
        ("ocsp-revoked", format!("{}{}", ocsp(&url("/ocsp")), cdp(&dead_url))),
        ("ocsp-good", format!("{}{}", ocsp(&url("/ocsp")), cdp(&dead_url))),
        (
            "not-http",
            "crlDistributionPoints=URI:ldap:///CN=CA?certificateRevocationList,URI:javascript:alert(1)\n"
                .to_string(),
        ),
    ];
    let mut pems = HashMap::new();
    for (label, ext) in &leaves {
        pems.insert(*label, ca.issue(&openssl, label, &leaf_key, ext));
    }
    ca.revoke(&openssl, &pems["crl-revoked"]);
    ca.revoke(&openssl, &pems["ocsp-revoked"]);
    let crl = ca.crl(&openssl);
    // The twin's CRL lists nothing: were it believed, crl-forged would be "good".
    let twin_crl = twin.crl(&openssl);

    drop(http_port_holder);
    let mut table = HashMap::new();
    table.insert("/ca.crl".to_string(), Serve::Bytes(crl));
    table.insert("/twin.crl".to_string(), Serve::Bytes(twin_crl));
    table.insert("/endless.crl".to_string(), Serve::Endless);
    table.insert("/trickle.crl".to_string(), Serve::Trickle);
    table.insert(
        "/ocsp".to_string(),
        Serve::Ocsp {
            ca_dir: ca.dir.clone(),
            openssl: openssl.clone(),
        },
    );
    let http = Http::start_on(port, table);

    let servers: Vec<(&str, Xrdp)> = leaves
        .iter()
        .map(|(label, _)| {
            let cfg = XrdpConfig {
                certificate: Some(pems[label].clone()),
                key_file: Some(leaf_key.clone()),
                ..XrdpConfig::new("tls")
            };
            let x = Xrdp::start(&xrdp_bin, &cfg).unwrap_or_else(|e| panic!("xrdp {label}: {e}"));
            (*label, x)
        })
        .collect();
    let targets: Vec<(&str, &Xrdp)> = servers.iter().map(|(l, x)| (*l, x)).collect();

    // Without the flag: not one request to the certificates' URLs, an empty column.
    let off = scan(&targets[..1], &ca.pem, &[]);
    assert_eq!(http.hits("/ca.crl"), 0);
    let row = &off.rows[&host("crl-revoked")];
    assert_eq!(row.get("cert_revocation").map(String::as_str), Some(""));
    assert!(
        off.reports[&host("crl-revoked")]
            .record
            .cert
            .as_ref()
            .expect("cert")
            .revocation
            .is_none()
    );

    let s = scan(&targets, &ca.pem, &["--check-revocation"]);
    let rep = |l: &str| s.reports.get(&host(l)).unwrap_or_else(|| panic!("{l} row"));
    let col = |l: &str| {
        s.rows
            .get(&host(l))
            .and_then(|r| r.get("cert_revocation"))
            .cloned()
            .unwrap_or_default()
    };
    let rev = |l: &str| {
        rep(l)
            .record
            .cert
            .as_ref()
            .and_then(|c| c.revocation.clone())
            .unwrap_or_else(|| panic!("{l}: no revocation facts"))
    };
    let finding = |l: &str, code: FindingCode| {
        rep(l)
            .findings
            .iter()
            .find(|f| f.code == code)
            .unwrap_or_else(|| panic!("{l}: no {code}: {:?}", codes(rep(l))))
            .clone()
    };

    // Revoked by the CRL: a failure naming the URL and the reason.
    assert_eq!(
        rep("crl-revoked").verdict,
        FindingCode::CertRevoked,
        "{:?}",
        codes(rep("crl-revoked"))
    );
    let f = finding("crl-revoked", FindingCode::CertRevoked);
    assert!(f.detail.contains(&url("/ca.crl")), "{}", f.detail);
    assert!(f.detail.contains("keyCompromise"), "{}", f.detail);
    assert_eq!(col("crl-revoked"), "revoked");

    // The same CRL says the other leaf is good: no finding; one fetch served both hosts.
    assert_eq!(
        rep("crl-good").verdict,
        FindingCode::Ok,
        "{:?}",
        codes(rep("crl-good"))
    );
    assert_eq!(col("crl-good"), "good");
    assert_eq!(http.hits("/ca.crl"), 1, "the CRL is fetched once per scan");

    // Nothing listens: unreachable, a warning with the URL.
    let f = finding("cdp-dead", FindingCode::RevocationUnreachable);
    assert!(f.detail.contains(&dead_url), "{}", f.detail);
    assert_eq!(col("cdp-dead"), "unreachable");

    // Signed by the twin: not believed, and said so.
    let f = finding("crl-forged", FindingCode::RevocationUnreachable);
    assert!(f.detail.contains("signed by someone else"), "{}", f.detail);
    assert_eq!(col("crl-forged"), "unusable");

    // Endless: stopped at the byte cap. Trickling: stopped at --timeout. Both end.
    let r = rev("crl-endless");
    assert_eq!(r.status, RevocationStatus::NotChecked);
    assert!(
        r.checks[0].error.as_deref().unwrap_or("").contains("cap"),
        "{r:?}"
    );
    assert_eq!(col("crl-endless"), "not-checked");
    let r = rev("crl-trickle");
    assert_eq!(r.status, RevocationStatus::Unreachable, "{r:?}");
    assert!(
        r.checks[0]
            .error
            .as_deref()
            .unwrap_or("")
            .contains("no complete answer"),
        "{r:?}"
    );

    // OCSP from `openssl ocsp`: revoked, and good (the dead CDP is then not asked).
    let r = rev("ocsp-revoked");
    assert_eq!(r.status, RevocationStatus::Revoked, "{r:?}");
    assert_eq!(r.checks[0].method, RevocationMethod::Ocsp);
    assert_eq!(r.checks[0].reason.as_deref(), Some("keyCompromise"));
    assert_eq!(rep("ocsp-revoked").verdict, FindingCode::CertRevoked);
    let r = rev("ocsp-good");
    assert_eq!(r.status, RevocationStatus::Good, "{r:?}");
    assert_eq!(r.checks.len(), 1, "OCSP answered: no CRL fetch: {r:?}");
    assert_eq!(
        rep("ocsp-good").verdict,
        FindingCode::Ok,
        "{:?}",
        codes(rep("ocsp-good"))
    );
    assert_eq!(http.hits("/ocsp"), 2);

    // ldap:// and javascript: are never fetched; noted, no finding.
    let r = rev("not-http");
    assert_eq!(r.status, RevocationStatus::NotChecked);
    assert_eq!(r.checks.len(), 2, "{r:?}");
    assert!(
        r.checks
            .iter()
            .all(|c| c.error.as_deref().unwrap_or("").contains("not checked"))
    );
    assert!(r.checks[1].url.starts_with("javascript:"));
    assert_eq!(rep("not-http").verdict, FindingCode::Ok);
    // The javascript: URL reaches the page only as data, never as markup or a link.
    assert!(
        !s.html.contains("href=\"javascript:"),
        "javascript: link in the HTML"
    );
}
