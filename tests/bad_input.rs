//! Bad input everywhere, through the binary, table-driven: broken inventories (binary, 1 MB
//! lines, UTF-16, Latin-1, duplicate headers, no `host` column, truncated nmap XML), flags out of
//! range, unwritable outputs, unreadable or malformed `--ca-bundle`. Each must exit 2 with one
//! clear message that names the problem and what to do, before any packet is sent; no panic.
//! Valid but unusual inventories (BOM, CRLF) must scan (exit 0/1).
//!
//! Targets are 127.92.0.N, where nothing listens: a scan that does start gets `port-closed`
//! quickly and never leaves loopback. Rows for flags the integrator adds later (`--config`,
//! `--baseline`) run only once `scan --help` lists them.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_rdpsweep");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// Usage/input/setup error.
    Exit2,
    /// A valid input that scans: 0 or 1 (with `--fail-on never`: 0).
    Scans,
}

struct Case {
    name: &'static str,
    /// Files to create in the temp dir: (name, contents).
    files: Vec<(&'static str, Vec<u8>)>,
    /// Arguments after `scan`; `{d}` is replaced by the temp dir.
    args: &'static [&'static str],
    stdin: Option<Vec<u8>>,
    want: Want,
    /// Each must appear in stderr (case-insensitive): what is wrong, where, what to do.
    says: &'static [&'static str],
}

fn case(
    name: &'static str,
    files: Vec<(&'static str, Vec<u8>)>,
    args: &'static [&'static str],
    want: Want,
    says: &'static [&'static str],
) -> Case {
    Case {
        name,
        files,
        args,
        stdin: None,
        want,
        says,
    }
}

fn run(c: &Case) -> (Option<i32>, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, body) in &c.files {
        std::fs::write(dir.path().join(name), body).expect("write input");
    }
    let d = dir.path().to_str().expect("utf-8");
    let mut args: Vec<String> = vec!["scan".into()];
    args.extend(c.args.iter().map(|a| a.replace("{d}", d)));
    let mut cmd = Command::new(BIN);
    cmd.args(&args)
        .stdin(if c.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // The environment must not inject flags into the table.
        .env_remove("RDPSWEEP_RATE")
        .env_remove("RDPSWEEP_INVENTORY");
    let mut child = cmd.spawn().expect("spawn");
    if let Some(input) = &c.stdin {
        let mut sin = child.stdin.take().expect("stdin");
        // The scanner may stop reading early (binary input): a broken pipe is fine.
        let _ = sin.write_all(input);
    }
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        dir,
    )
}

fn long_line() -> Vec<u8> {
    let mut v = b"host\n".to_vec();
    v.extend(std::iter::repeat_n(b'a', 1024 * 1024));
    v.push(b'\n');
    v
}

fn pem(body: &str) -> Vec<u8> {
    format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n").into_bytes()
}

fn table() -> Vec<Case> {
    use Want::*;
    vec![
        // Inventories.
        case(
            "binary inventory",
            vec![("inv.txt", b"host\n127.92.0.1\n\0\0\x01\x02binary".to_vec())],
            &["-i", "{d}/inv.txt"],
            Exit2,
            &["inv.txt", "binary", "give a csv"],
        ),
        Case {
            stdin: Some(vec![0, 0, 0, 0xFF, 0xFE]),
            ..case(
                "binary on stdin",
                vec![],
                &["-i", "-"],
                Exit2,
                &["stdin", "binary"],
            )
        },
        case(
            "1 MB line",
            vec![("inv.txt", long_line())],
            &["-i", "{d}/inv.txt"],
            Exit2,
            &["inv.txt:2", "longer than", "one target each"],
        ),
        case(
            "UTF-16 inventory",
            vec![("inv.txt", b"\xFF\xFEh\0o\0s\0t\0\n\0".to_vec())],
            &["-i", "{d}/inv.txt"],
            Exit2,
            &["utf-16", "save it as utf-8"],
        ),
        case(
            "Latin-1 bytes",
            vec![("inv.csv", b"host,owner\n127.92.0.3,Jos\xE9\n".to_vec())],
            &["-i", "{d}/inv.csv"],
            Exit2,
            &["inv.csv:2", "utf-8"],
        ),
        case(
            "duplicate headers",
            vec![("inv.csv", b"host,owner,owner\n127.92.0.4,a,b\n".to_vec())],
            &["-i", "{d}/inv.csv"],
            Exit2,
            &["inv.csv:1", "duplicate column", "rename or remove"],
        ),
        case(
            "duplicate host header",
            vec![("inv.csv", b"host,HOST\n127.92.0.4,127.92.0.5\n".to_vec())],
            &["-i", "{d}/inv.csv"],
            Exit2,
            &["inv.csv:1", "duplicate column"],
        ),
        case(
            "missing host column",
            vec![("inv.csv", b"name,port\nts01,3389\n".to_vec())],
            &["-i", "{d}/inv.csv"],
            Exit2,
            &["inv.csv:1", "no \"host\" column", "rename"],
        ),
        case(
            "bad line names file and line",
            vec![(
                "inv.csv",
                b"host,port\n127.92.0.6,3389\n127.92.0.7,99999\n".to_vec(),
            )],
            &["-i", "{d}/inv.csv"],
            Exit2,
            &["inv.csv:3"],
        ),
        case(
            "truncated nmap XML",
            vec![(
                "scan.xml",
                b"<?xml version=\"1.0\"?><nmaprun><host><address addr=\"127.92.0.8\"".to_vec(),
            )],
            &["-i", "{d}/scan.xml"],
            Exit2,
            &["scan.xml", "not well-formed xml", "run it again"],
        ),
        case(
            "inventory is a directory",
            vec![],
            &["-i", "{d}"],
            Exit2,
            &["directory", "give a file"],
        ),
        case(
            "inventory missing",
            vec![],
            &["-i", "{d}/nope.csv"],
            Exit2,
            &["nope.csv", "not found", "check the path"],
        ),
        case(
            "BOM and CRLF CSV scans",
            vec![(
                "inv.csv",
                b"\xEF\xBB\xBFhost,port,owner\r\n127.92.0.1,3389,ops\r\n".to_vec(),
            )],
            &["-i", "{d}/inv.csv", "--csv", "{d}/out.csv"],
            Scans,
            &[],
        ),
        case(
            "CRLF plain list scans",
            vec![("inv.txt", b"# hosts\r\n127.92.0.2\r\n\r\n".to_vec())],
            &["-i", "{d}/inv.txt", "--csv", "{d}/out.csv"],
            Scans,
            &[],
        ),
        // Flags out of range.
        case(
            "--port 0",
            vec![],
            &["127.92.0.9", "--port", "0"],
            Exit2,
            &["--port", "1..=65535"],
        ),
        case(
            "--port 65536",
            vec![],
            &["127.92.0.9", "--port", "65536"],
            Exit2,
            &["--port"],
        ),
        case(
            "--concurrency 0",
            vec![],
            &["127.92.0.9", "--concurrency", "0"],
            Exit2,
            &["--concurrency", "1..="],
        ),
        case(
            "--rate -1",
            vec![],
            &["127.92.0.9", "--rate", "-1"],
            Exit2,
            &["-1"],
        ),
        case(
            "--rate huge",
            vec![],
            &["127.92.0.9", "--rate", "99999999999"],
            Exit2,
            &["--rate"],
        ),
        case(
            "--timeout fast",
            vec![],
            &["127.92.0.9", "--timeout", "fast"],
            Exit2,
            &["--timeout", "write e.g. 5s"],
        ),
        case(
            "--timeout 0",
            vec![],
            &["127.92.0.9", "--timeout", "0"],
            Exit2,
            &["greater than zero"],
        ),
        case(
            "--connect-timeout 1e99",
            vec![],
            &["127.92.0.9", "--connect-timeout", "1e99"],
            Exit2,
            &["--connect-timeout", "out of range"],
        ),
        case(
            "--host-deadline below connect timeout",
            vec![],
            &["127.92.0.9", "--host-deadline", "1ms"],
            Exit2,
            &["--host-deadline", "raise it"],
        ),
        case(
            "--retries 99",
            vec![],
            &["127.92.0.9", "--retries", "99"],
            Exit2,
            &["--retries", "0..=10"],
        ),
        case(
            "--fail-on bogus",
            vec![],
            &["127.92.0.9", "--fail-on", "bogus"],
            Exit2,
            &["--fail-on", "ok, info, warn, fail"],
        ),
        case(
            "--client names no profile",
            vec![],
            &["127.92.0.9", "--client", "win11", "--client", "win95"],
            Exit2,
            &["--client \"win95\"", "win11, win10, win7, macos, freerdp"],
        ),
        case(
            "--client ids are case-insensitive",
            vec![],
            &[
                "127.92.0.4",
                "--client",
                "FreeRDP",
                "--client",
                "win7",
                "--csv",
                "{d}/out.csv",
            ],
            Scans,
            &[],
        ),
        case(
            "--max-targets 0",
            vec![],
            &["127.92.0.9", "--max-targets", "0"],
            Exit2,
            &["--max-targets", "at least 1"],
        ),
        case(
            "--depth deeper",
            vec![],
            &["127.92.0.9", "--depth", "deeper"],
            Exit2,
            &["--depth", "quick, standard, deep"],
        ),
        case(
            "--dns-server bogus",
            vec![],
            &["127.92.0.9", "--dns-server", "bogus"],
            Exit2,
            &["--dns-server", "expected ip"],
        ),
        case(
            "--resolve without =",
            vec![],
            &["127.92.0.9", "--resolve", "x"],
            Exit2,
            &["--resolve", "name=ip"],
        ),
        case(
            "a /8 above --max-targets",
            vec![],
            &["10.0.0.0/8"],
            Exit2,
            &["max-targets"],
        ),
        case("no targets", vec![], &[], Exit2, &["no targets", "-i file"]),
        // Outputs.
        case(
            "output folder missing",
            vec![],
            &["127.92.0.9", "--csv", "{d}/missing/out.csv"],
            Exit2,
            &["cannot write", "missing"],
        ),
        case(
            "output is a directory",
            vec![],
            &["127.92.0.9", "--jsonl", "{d}"],
            Exit2,
            &["is a directory", "name a file"],
        ),
        case(
            "output under a file",
            vec![("file", b"x".to_vec())],
            &["127.92.0.9", "--csv", "{d}/file/out.csv"],
            Exit2,
            &["cannot write", "not a folder"],
        ),
        case(
            "two outputs on stdout",
            vec![],
            &["127.92.0.9", "--csv", "-", "--jsonl", "-"],
            Exit2,
            &["only one of", "stdout"],
        ),
        // Two outputs naming one file: the later commit would silently replace the other.
        case(
            "--csv and --jsonl on one file",
            vec![],
            &["127.92.0.9", "--csv", "{d}/r.out", "--jsonl", "{d}/r.out"],
            Exit2,
            &["--csv", "--jsonl", "r.out", "own file"],
        ),
        case(
            "--csv and --html on one file spelled twice",
            vec![],
            &["127.92.0.9", "--csv", "{d}/r.out", "--html", "{d}/./r.out"],
            Exit2,
            &["--csv", "--html", "r.out"],
        ),
        case(
            "--csv to stdout and --jsonl to /dev/stdout",
            vec![],
            &["127.92.0.9", "--csv", "-", "--jsonl", "/dev/stdout"],
            Exit2,
            &["--jsonl", "--csv", "stdout"],
        ),
        // --ca-bundle.
        case(
            "--ca-bundle missing",
            vec![],
            &["127.92.0.9", "--ca-bundle", "{d}/nope.pem"],
            Exit2,
            &["--ca-bundle", "nope.pem"],
        ),
        case(
            "--ca-bundle is a directory",
            vec![],
            &["127.92.0.9", "--ca-bundle", "{d}"],
            Exit2,
            &["ca bundle", "directory"],
        ),
        case(
            "--ca-bundle not PEM",
            vec![("ca.pem", b"garbage\n".to_vec())],
            &["127.92.0.9", "--ca-bundle", "{d}/ca.pem"],
            Exit2,
            &[
                "ca.pem",
                "no pem certificates",
                "-----begin certificate-----",
            ],
        ),
        case(
            "--ca-bundle empty",
            vec![("ca.pem", Vec::new())],
            &["127.92.0.9", "--ca-bundle", "{d}/ca.pem"],
            Exit2,
            &["ca.pem", "no pem certificates"],
        ),
        case(
            "--ca-bundle bad base64",
            vec![("ca.pem", pem("MIIB!!!notbase64"))],
            &["127.92.0.9", "--ca-bundle", "{d}/ca.pem"],
            Exit2,
            &["ca.pem", "certificate 1", "not valid pem"],
        ),
        case(
            "--ca-bundle PEM of garbage DER",
            vec![("ca.pem", pem("AAAA"))],
            &["127.92.0.9", "--ca-bundle", "{d}/ca.pem"],
            Exit2,
            &["ca.pem", "certificate 1", "not a usable ca"],
        ),
        case(
            "--ca-bundle of 1 MB binary",
            vec![("ca.pem", vec![0xA5; 1024 * 1024])],
            &["127.92.0.9", "--ca-bundle", "{d}/ca.pem"],
            Exit2,
            &["ca.pem"],
        ),
    ]
}

fn check(c: &Case) {
    let (code, stderr, dir) = run(c);
    let what = c.name;
    assert!(!stderr.contains("panicked"), "{what}: panic: {stderr}");
    match c.want {
        Want::Exit2 => {
            assert_eq!(code, Some(2), "{what}: exit code; stderr: {stderr}");
            let lower = stderr.to_lowercase();
            assert!(
                lower.contains("error"),
                "{what}: an error message: {stderr}"
            );
            for s in c.says {
                assert!(
                    lower.contains(&s.to_lowercase()),
                    "{what}: message should mention {s:?}: {stderr}"
                );
            }
            // One message, not a cascade (clap adds a usage line and a hint).
            assert!(
                stderr.lines().filter(|l| !l.trim().is_empty()).count() <= 6,
                "{what}: short message: {stderr}"
            );
            // Nothing half-written under a final name.
            assert!(
                !dir.path().join("out.csv").exists(),
                "{what}: no output on a setup error"
            );
        }
        Want::Scans => {
            assert!(
                matches!(code, Some(0 | 1)),
                "{what}: exit {code:?}; stderr: {stderr}"
            );
            let out = dir.path().join("out.csv");
            let mut r = csv::Reader::from_path(&out).expect("scan wrote its CSV");
            let headers = r.headers().expect("headers").clone();
            let rows: Vec<csv::StringRecord> = r.records().map(|x| x.expect("row")).collect();
            assert_eq!(rows.len(), 1, "{what}: one host scanned");
            let col = |n: &str| headers.iter().position(|h| h == n).expect("column");
            assert!(
                rows[0][col("host")].starts_with("127.92.0."),
                "{what}: host cell is clean (no BOM, no CR): {:?}",
                &rows[0][col("host")]
            );
            assert_eq!(&rows[0][col("verdict")], "port-closed", "{what}");
            if let Some(i) = headers.iter().position(|h| h == "owner") {
                assert!(!rows[0][i].contains('\r'), "{what}: no CR in cells");
            }
        }
    }
}

#[test]
fn bad_input_table() {
    let mut failures = Vec::new();
    for c in table() {
        // Collect every failing row, not just the first.
        if let Err(e) = std::panic::catch_unwind(|| check(&c)) {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("[{}] {msg}", c.name));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

#[test]
fn owner_column_of_a_bom_csv_is_passed_through() {
    let c = case(
        "BOM owner",
        vec![(
            "inv.csv",
            b"\xEF\xBB\xBFhost,owner\r\n127.92.0.11,ops\r\n".to_vec(),
        )],
        &[
            "-i",
            "{d}/inv.csv",
            "--csv",
            "{d}/out.csv",
            "--fail-on",
            "never",
        ],
        Want::Scans,
        &[],
    );
    let (code, stderr, dir) = run(&c);
    assert_eq!(code, Some(0), "{stderr}");
    let text = std::fs::read_to_string(dir.path().join("out.csv")).expect("csv");
    assert!(
        !text.contains('\u{FEFF}'),
        "BOM does not leak into the report"
    );
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let headers = r.headers().expect("headers").clone();
    let row = r.records().next().expect("row").expect("record");
    let owner = headers.iter().position(|h| h == "owner").expect("owner");
    assert_eq!(&row[owner], "ops");
}

/// A symlink and the file it points at are one output, whatever the spelling; `report` checks
/// its outputs the same way as `scan`.
#[test]
fn outputs_through_a_symlink_to_one_file_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("2026-12-03.csv"), b"old report\n").expect("write");
    std::os::unix::fs::symlink("2026-12-03.csv", d.join("latest.csv")).expect("symlink");
    std::fs::write(d.join("scan.jsonl"), b"").expect("write");
    let real = d.join("2026-12-03.csv");
    let link = d.join("latest.csv");
    let scan = Command::new(BIN)
        .args(["scan", "127.92.0.9", "--csv"])
        .arg(&link)
        .arg("--metrics")
        .arg(&real)
        .stdin(Stdio::null())
        .output()
        .expect("scan");
    let from = d.join("scan.jsonl");
    let report = Command::new(BIN)
        .args(["report", "--from"])
        .arg(&from)
        .arg("--html")
        .arg(&real)
        .arg("--jsonl")
        .arg(&link)
        .stdin(Stdio::null())
        .output()
        .expect("report");
    for (what, out, flags) in [
        ("scan", scan, ["--csv", "--metrics"]),
        ("report", report, ["--jsonl", "--html"]),
    ] {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
        for f in flags {
            assert!(stderr.contains(f), "{what}: names {f}: {stderr}");
        }
    }
    // Neither run touched the file.
    assert_eq!(
        std::fs::read(d.join("2026-12-03.csv")).expect("read"),
        b"old report\n"
    );
}

/// Rows for flags the integrator adds (`--config`, `--baseline`): run once `scan --help` lists
/// them, reported as skipped until then.
#[test]
fn later_flags_config_and_baseline() {
    let help = Command::new(BIN)
        .args(["scan", "--help"])
        .output()
        .expect("help");
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    let mut rows: Vec<Case> = Vec::new();
    if help.contains("--config") {
        rows.push(case(
            "--config missing",
            vec![],
            &["127.92.0.9", "--config", "{d}/nope.toml"],
            Want::Exit2,
            &["nope.toml"],
        ));
        rows.push(case(
            "--config malformed TOML",
            vec![("c.toml", b"rate = [unclosed\n\0".to_vec())],
            &["127.92.0.9", "--config", "{d}/c.toml"],
            Want::Exit2,
            &["c.toml"],
        ));
        rows.push(case(
            "--config binary",
            vec![("c.toml", vec![0xFF, 0xFE, 0, 1, 2])],
            &["127.92.0.9", "--config", "{d}/c.toml"],
            Want::Exit2,
            &["c.toml"],
        ));
    } else {
        eprintln!("SKIPPED --config rows: `scan --help` does not list --config yet");
    }
    if help.contains("--baseline") {
        rows.push(case(
            "--baseline missing",
            vec![],
            &["127.92.0.9", "--baseline", "{d}/nope.jsonl"],
            Want::Exit2,
            &["nope.jsonl"],
        ));
        rows.push(case(
            "--baseline malformed",
            vec![("b.jsonl", b"{\"not\": \"a report\"}\n{{{\n".to_vec())],
            &["127.92.0.9", "--baseline", "{d}/b.jsonl"],
            Want::Exit2,
            &["b.jsonl:1"],
        ));
        rows.push(case(
            "--baseline binary",
            vec![("b.jsonl", vec![0, 1, 2, 0xFF])],
            &["127.92.0.9", "--baseline", "{d}/b.jsonl"],
            Want::Exit2,
            &["b.jsonl"],
        ));
    } else {
        eprintln!("SKIPPED --baseline rows: `scan --help` does not list --baseline yet");
    }
    for c in &rows {
        check(c);
    }
}

/// Environment variables are input too: a bad RDPSWEEP_* value is the same clear error.
#[test]
fn bad_environment_values() {
    for (var, val, says) in [
        ("RDPSWEEP_PORT", "0", "--port"),
        ("RDPSWEEP_TIMEOUT", "soon", "--timeout"),
        ("RDPSWEEP_FAIL_ON", "sometimes", "--fail-on"),
        ("RDPSWEEP_CONCURRENCY", "-5", "--concurrency"),
        ("RDPSWEEP_CLIENT", "win10,macOS,bogus", "\"bogus\""),
    ] {
        let out = Command::new(BIN)
            .args(["scan", "127.92.0.9", "-q"])
            .env(var, val)
            .stdin(Stdio::null())
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{var}={val}: {stderr}");
        assert!(stderr.contains(says), "{var}={val}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn table_inputs_are_written_where_the_args_point() {
    // Guard for the harness itself: {d} expands, files land in the temp dir.
    let c = case(
        "harness",
        vec![("x.txt", b"127.92.0.12\n".to_vec())],
        &[
            "-i",
            "{d}/x.txt",
            "--csv",
            "{d}/out.csv",
            "--fail-on",
            "never",
        ],
        Want::Scans,
        &[],
    );
    let (code, _, dir) = run(&c);
    assert_eq!(code, Some(0));
    assert!(Path::new(&dir.path().join("out.csv")).exists());
}
