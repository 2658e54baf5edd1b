//! Issue 17, the three uses as their users meet them, through the binary: the terminal summary
//! (only under a pseudo-terminal, coloured unless NO_COLOR), `--open-only` on a loopback range
//! with listeners the test starts, the exit-code rule for swept addresses, and the Excel CSV
//! dialect (bytes, a Python `utf-8-sig` reader, a LibreOffice xlsx round trip).
//!
//! Addresses: 127.115.N.M only (nothing listens there unless this file starts it). Nothing
//! leaves loopback.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_rdpsweep");

/// Quick timeouts: closed loopback ports answer at once; listeners here never speak RDP.
const FAST: &[&str] = &[
    "--rate",
    "0",
    "--connect-timeout",
    "1s",
    "--timeout",
    "1s",
    "--host-deadline",
    "3s",
];

fn run(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut c = Command::new(BIN);
    c.args(args)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().expect("run rdpsweep")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn skip_or_fail(test: &str, why: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{test}: {why} (CI is set: this test must run)");
    }
    eprintln!("SKIP {test}: {why}");
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|f| f.is_file())
    })
}

/// Shell-quote for `script -c`.
fn sh(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Runs rdpsweep under a pseudo-terminal (`script`); returns what the terminal showed.
fn run_in_pty(args: &[&str], envs: &[(&str, &str)]) -> Option<String> {
    let script = which("script")?;
    let cmd: Vec<String> = std::iter::once(BIN)
        .chain(args.iter().copied())
        .map(sh)
        .collect();
    let mut c = Command::new(script);
    c.args(["-qec", &cmd.join(" "), "/dev/null"])
        .env_remove("NO_COLOR")
        .env("TERM", "xterm")
        .env("COLUMNS", "100")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        c.env(k, v);
    }
    let o = c.output().ok()?;
    Some(text(&o.stdout))
}

#[test]
fn terminal_table_only_on_a_terminal_and_coloured_unless_no_color() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("r.html");
    let html_s = html.to_str().unwrap();
    let mut args = vec!["scan", "127.115.1.1", "127.115.1.2", "127.115.1.3"];
    args.extend_from_slice(FAST);
    args.extend_from_slice(&["--fail-on", "never", "--html", html_s]);

    let Some(tty) = run_in_pty(&args, &[]) else {
        skip_or_fail("terminal_table", "`script` (util-linux) is not installed");
        return;
    };
    // The one line, then the table: cause, hosts, fix; the headline; the report path.
    assert!(tty.contains("rdpsweep: 3 targets, 3 rows"), "{tty}");
    assert!(tty.contains("Why connections fail (0x904 / 0x7)"), "{tty}");
    assert!(tty.contains("CAUSE"), "{tty}");
    assert!(tty.contains("port-closed"), "{tty}");
    assert!(tty.contains("Hosts:"), "{tty}");
    assert!(tty.contains("3 fail"), "{tty}");
    assert!(tty.contains("0 healthy"), "{tty}");
    assert!(tty.contains(html_s), "report path missing: {tty}");
    assert!(tty.contains("Certificates:"), "{tty}");
    // The port-closed remedy is what the HTML says for it.
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("port-closed"));
    assert!(tty.contains("\x1b[31m"), "no colour on a terminal: {tty:?}");

    // NO_COLOR: the same table, no colour sequences.
    let plain = run_in_pty(&args, &[("NO_COLOR", "1")]).unwrap();
    assert!(plain.contains("Why connections fail"), "{plain}");
    for sgr in ["\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[1m", "\x1b[2m"] {
        assert!(
            !plain.contains(sgr),
            "colour {sgr:?} despite NO_COLOR: {plain:?}"
        );
    }

    // No terminal (cron, pipes): exactly today's one line.
    let o = run(&args, &[]);
    let err = text(&o.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].starts_with("rdpsweep: 3 targets, 3 rows in "),
        "{err}"
    );
    assert!(!err.contains('\x1b'));

    // --quiet: nothing at all, even on a terminal.
    let mut quiet = args.clone();
    quiet.push("-q");
    let q = run_in_pty(&quiet, &[]).unwrap();
    assert!(!q.contains("rdpsweep:"), "{q}");
}

/// Listeners that accept and close at once (never RDP), until dropped.
struct Listeners {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Listeners {
    fn start(addrs: &[&str]) -> Listeners {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = addrs
            .iter()
            .map(|a| {
                let l = TcpListener::bind(a).unwrap_or_else(|e| panic!("bind {a}: {e}"));
                l.set_nonblocking(true).unwrap();
                let stop = stop.clone();
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        match l.accept() {
                            Ok((s, _)) => drop(s),
                            Err(_) => std::thread::sleep(Duration::from_millis(10)),
                        }
                    }
                })
            })
            .collect();
        Listeners { stop, threads }
    }
}

impl Drop for Listeners {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

#[test]
fn open_only_keeps_the_listening_addresses_and_counts_the_rest() {
    let live = ["127.115.2.3:3389", "127.115.2.7:3389", "127.115.2.12:3389"];
    let _l = Listeners::start(&live);
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("o.csv");
    let jsonl = dir.path().join("o.jsonl");
    let mut args = vec!["scan", "127.115.2.0/28"];
    args.extend_from_slice(FAST);
    args.extend_from_slice(&[
        "--fail-on",
        "never",
        "--open-only",
        "--csv",
        csv.to_str().unwrap(),
        "--jsonl",
        jsonl.to_str().unwrap(),
    ]);
    let o = run(&args, &[]);
    let err = text(&o.stderr);
    assert!(o.status.success(), "{err}");
    let body = std::fs::read_to_string(&jsonl).unwrap();
    let mut got: Vec<String> = body
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert_eq!(v["tcp"]["status"], "open", "{l}");
            v["address"].as_str().unwrap().to_string()
        })
        .collect();
    got.sort();
    assert_eq!(got, ["127.115.2.12", "127.115.2.3", "127.115.2.7"]);
    let csv_rows = std::fs::read_to_string(&csv).unwrap().lines().count();
    assert_eq!(csv_rows, 1 + 3);
    // The rest still counted by kind: the /28's other 11 hosts refuse (RST from loopback).
    assert!(err.contains("rdpsweep: 14 targets, 3 rows"), "{err}");
    assert!(
        err.contains("--open-only left out 11: 11 refused, 0 filtered, 0 down"),
        "{err}"
    );

    // The terminal table says the same.
    if let Some(tty) = run_in_pty(&args, &[("NO_COLOR", "1")]) {
        assert!(
            tty.contains("Port not open: 11 refused · 0 filtered · 0 down"),
            "{tty}"
        );
        assert!(tty.contains("Hosts: 3 — "), "{tty}");
    }
}

#[test]
fn swept_addresses_with_nothing_listening_do_not_fail_the_exit_code() {
    // A range where nothing listens: nothing to report, exit 0 with the default --fail-on.
    let mut args = vec!["scan", "127.115.3.1-4"];
    args.extend_from_slice(FAST);
    let o = run(&args, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    // The same address named on its own is a host someone expects: it fails.
    let mut args = vec!["scan", "127.115.3.1"];
    args.extend_from_slice(FAST);
    let o = run(&args, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    // And a listener in the range that is not healthy RDP still fails the run.
    let _l = Listeners::start(&["127.115.3.2:3389"]);
    let mut args = vec!["scan", "127.115.3.1-4"];
    args.extend_from_slice(FAST);
    let o = run(&args, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
}

/// An inventory with non-ASCII sites and owners (the cells Excel would mangle without a BOM).
const SITES: [(&str, &str, &str); 3] = [
    ("127.115.4.1", "Zürich Süd", "Équipe réseau"),
    ("127.115.4.2", "Łódź", "東京 チーム"),
    ("127.115.4.3", "São Paulo; sala 2", "=cmd"),
];

fn excel_scan(dir: &Path) -> (PathBuf, PathBuf) {
    let inv = dir.join("inv.csv");
    let mut s = String::from("host,site,owner\n");
    for (h, site, owner) in SITES {
        s.push_str(&format!("{h},\"{site}\",\"{owner}\"\n"));
    }
    std::fs::write(&inv, s).unwrap();
    let csv = dir.join("x.csv");
    let jsonl = dir.join("x.jsonl");
    let mut args = vec!["scan", "--inventory", inv.to_str().unwrap()];
    args.extend_from_slice(FAST);
    args.extend_from_slice(&[
        "--fail-on",
        "never",
        "--csv-dialect",
        "excel",
        "--csv-delimiter",
        ";",
        "--csv",
        csv.to_str().unwrap(),
        "--jsonl",
        jsonl.to_str().unwrap(),
    ]);
    let o = run(&args, &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    (csv, jsonl)
}

/// Checks the excel dialect's bytes and returns the rows (BOM stripped).
fn check_excel_bytes(bytes: &[u8]) {
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "no BOM");
    let body = &bytes[3..];
    assert!(!body.starts_with(b"\xEF\xBB\xBF"), "two BOMs");
    assert!(body.ends_with(b"\r\n"));
    // Every line feed ends a CRLF (no cell here holds a line break).
    for (i, b) in body.iter().enumerate() {
        if *b == b'\n' {
            assert_eq!(body.get(i.wrapping_sub(1)), Some(&b'\r'), "bare LF at {i}");
        }
    }
    let s = std::str::from_utf8(body).unwrap();
    assert!(s.starts_with("host;port;address;site;"), "{s}");
}

#[test]
fn excel_dialect_bytes_python_reader_and_report_from() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, jsonl) = excel_scan(dir.path());
    let bytes = std::fs::read(&csv).unwrap();
    check_excel_bytes(&bytes);
    let s = String::from_utf8_lossy(&bytes);
    // The formula guard is unchanged; a cell with `;` is quoted whole.
    assert!(s.contains(";'=cmd"), "{s}");
    assert!(s.contains("\"São Paulo; sala 2\""), "{s}");

    // An independent reader: Python's csv with utf-8-sig gets the same cells.
    if which("python3").is_some() {
        let py = r#"
import csv, json, sys
with open(sys.argv[1], newline='', encoding='utf-8-sig') as f:
    rows = list(csv.DictReader(f, delimiter=';'))
print(json.dumps([[r['host'], r['site'], r['owner']] for r in rows]))
"#;
        let o = Command::new("python3")
            .args(["-c", py, csv.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o.stderr));
        let mut rows: Vec<Vec<String>> = serde_json::from_slice(&o.stdout).unwrap();
        rows.sort();
        let want: Vec<Vec<String>> = SITES
            .iter()
            .map(|(h, site, owner)| {
                let owner = if owner.starts_with('=') {
                    format!("'{owner}")
                } else {
                    owner.to_string()
                };
                vec![h.to_string(), site.to_string(), owner]
            })
            .collect();
        assert_eq!(rows, want);
    } else {
        skip_or_fail("python reader", "python3 is not installed");
    }

    // `report --from` and `merge` write the same dialect.
    for sub in ["report", "merge"] {
        let out = dir.path().join(format!("{sub}.csv"));
        let mut args = vec![sub];
        if sub == "report" {
            args.extend_from_slice(&["--from", jsonl.to_str().unwrap()]);
        } else {
            args.push(jsonl.to_str().unwrap());
        }
        args.extend_from_slice(&[
            "--csv-dialect",
            "excel",
            "--csv-delimiter",
            ";",
            "--fail-on",
            "never",
            "--csv",
            out.to_str().unwrap(),
        ]);
        let o = run(&args, &[]);
        assert!(o.status.success(), "{sub}: {}", text(&o.stderr));
        let b = std::fs::read(&out).unwrap();
        check_excel_bytes(&b);
        assert!(String::from_utf8_lossy(&b).contains("Łódź"));
    }

    // rdpsweep reads its own excel CSV back as an inventory (BOM, `;`, CRLF).
    let mut args = vec!["scan", "--inventory", csv.to_str().unwrap()];
    args.extend_from_slice(FAST);
    args.extend_from_slice(&["--fail-on", "never", "--jsonl", "-"]);
    let o = run(&args, &[]);
    let out = text(&o.stdout);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(out.lines().count(), 3, "{out}");
    for (h, site, _) in SITES {
        assert!(out.contains(&format!("\"host\":\"{h}\"")), "{out}");
        assert!(
            out.contains(&format!("\"site\":\"{site}\"")),
            "{site}: {out}"
        );
    }

    // A bad dialect or delimiter is a usage error.
    let o = run(&["scan", "127.115.4.9", "--csv-dialect", "lotus"], &[]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&["scan", "127.115.4.9", "--csv-delimiter", "|"], &[]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn libreoffice_round_trip_keeps_every_non_ascii_cell() {
    let Some(soffice) = which("soffice").or_else(|| which("libreoffice")) else {
        skip_or_fail(
            "libreoffice_round_trip",
            "soffice is not installed (apt-get install libreoffice-calc-nogui)",
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (csv, _) = excel_scan(dir.path());
    let profile = format!(
        "-env:UserInstallation=file://{}/lo-profile",
        dir.path().display()
    );
    let conv = |args: &[&str]| {
        let mut c = Command::new(&soffice);
        c.arg(&profile)
            .args(["--headless", "--norestore"])
            .args(args)
            .arg("--outdir")
            .arg(dir.path().join("out"))
            .env("HOME", dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(180);
        loop {
            if let Some(st) = child.try_wait().unwrap() {
                let mut e = String::new();
                let _ = child.stderr.take().unwrap().read_to_string(&mut e);
                assert!(st.success(), "soffice {args:?}: {e}");
                break;
            }
            assert!(std::time::Instant::now() < deadline, "soffice hung");
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    // CSV import options: `;` (59), `"` (34), UTF-8 (76), from line 1.
    conv(&[
        "--infilter=CSV:59,34,76,1",
        "--convert-to",
        "xlsx",
        csv.to_str().unwrap(),
    ]);
    let xlsx = dir.path().join("out/x.xlsx");
    assert!(xlsx.is_file(), "no xlsx written");
    let back_dir = dir.path().join("back");
    std::fs::create_dir_all(&back_dir).unwrap();
    let xlsx_copy = back_dir.join("x.xlsx");
    std::fs::copy(&xlsx, &xlsx_copy).unwrap();
    // Export: `,` (44), `"` (34), UTF-8 (76).
    conv(&[
        "--convert-to",
        "csv:Text - txt - csv (StarCalc):44,34,76,1",
        xlsx_copy.to_str().unwrap(),
    ]);
    let back = std::fs::read(dir.path().join("out/x.csv")).unwrap();
    let back = String::from_utf8(back).expect("LibreOffice wrote UTF-8");
    for (h, site, owner) in SITES {
        assert!(back.contains(h), "{h} missing:\n{back}");
        assert!(back.contains(site), "{site} mangled:\n{back}");
        if !owner.starts_with('=') {
            assert!(back.contains(owner), "{owner} mangled:\n{back}");
        }
    }
    // The guarded cell stays text: LibreOffice shows `=cmd` (or `'=cmd`), never a formula
    // result (an error value such as #NAME?).
    assert!(!back.contains("#NAME"), "{back}");
    assert!(back.contains("=cmd"), "{back}");
}
