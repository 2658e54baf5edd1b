//! Outputs never replace what they point at (issue 13, defects 1 and 7), through the binary and
//! run as root as CI runs it: a character device (private `mknod` copies of /dev/null and
//! /dev/full in a temp dir, never the system's /dev entries), a FIFO, a symlink to a report file
//! or to /proc/self/fd/1. Regular files and symlinks to them are replaced atomically (the link
//! stays); anything else is written in place, and its write errors (ENOSPC, EPIPE) end the run
//! with exit 2 and a message. Also: `report --from` and `merge` outputs, the pre-scan check,
//! and CSV cells that a spreadsheet splitting on `;`, `,` or tab could turn into formulas.
//!
//! Scan targets are 127.93.0.N where nothing listens (`port-closed`, quickly); the formula test
//! starts one lab host on 127.93.1.1. Nothing leaves loopback.

use std::io::Read;
use std::net::Ipv4Addr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_rdpsweep");
/// Longest any run here may take: a hang (an output blocked forever) fails instead.
const RUN_LIMIT: Duration = Duration::from_secs(60);

fn cpath(p: &Path) -> std::ffi::CString {
    std::ffi::CString::new(p.as_os_str().as_bytes()).expect("no NUL in a temp path")
}

/// A private copy of a character device (major, minor) at `p`; None (and a loud skip) when
/// this process may not create one (not root, or a nodev mount).
fn mknod_char(p: &Path, major: u32, minor: u32, test: &str) -> Option<()> {
    let c = cpath(p);
    // SAFETY: a valid NUL-terminated path; mknod does not keep it.
    let r = unsafe {
        libc::mknod(
            c.as_ptr(),
            libc::S_IFCHR | 0o666,
            libc::makedev(major, minor),
        )
    };
    if r != 0 {
        eprintln!(
            "SKIPPED {test}: cannot mknod a device copy ({}); run as root as CI does",
            std::io::Error::last_os_error()
        );
        return None;
    }
    // A nodev mount lets the node exist but not be opened.
    if let Err(e) = std::fs::OpenOptions::new().write(true).open(p) {
        eprintln!("SKIPPED {test}: the device copy cannot be opened here ({e})");
        return None;
    }
    Some(())
}

fn mkfifo(p: &Path) {
    let c = cpath(p);
    // SAFETY: a valid NUL-terminated path.
    let r = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
    assert_eq!(r, 0, "mkfifo: {}", std::io::Error::last_os_error());
}

/// Run the binary with a hard time limit; stdout goes to `stdout` (piped when None).
fn run_with(args: &[&str], stdout: Option<Stdio>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout.unwrap_or_else(Stdio::piped))
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rdpsweep");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("collect output");
        }
        if start.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            let out = child.wait_with_output().expect("collect output");
            panic!(
                "rdpsweep {args:?} hung for {RUN_LIMIT:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn run(args: &[&str]) -> Output {
    run_with(args, None)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// Arguments of a quick scan of `n` closed loopback ports, plus `extra`.
fn scan_args(n: u8, extra: &[&str]) -> Vec<String> {
    // Targets first: `-q` takes an optional value and would swallow one after it.
    let mut a = vec!["scan".to_string()];
    a.extend((1..=n).map(|i| format!("127.93.0.{i}")));
    a.extend(
        [
            "--rate",
            "0",
            "--connect-timeout",
            "1s",
            "--timeout",
            "1s",
            "--host-deadline",
            "2s",
            "--fail-on",
            "never",
            "-q",
        ]
        .map(String::from),
    );
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn scan(n: u8, extra: &[&str]) -> Output {
    let a = scan_args(n, extra);
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    run(&refs)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn is_char_device(p: &Path, major: u32, minor: u32) -> bool {
    std::fs::symlink_metadata(p)
        .is_ok_and(|m| m.file_type().is_char_device() && m.rdev() == libc::makedev(major, minor))
}

fn is_fifo(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_fifo())
}

/// Names in `dir`, sorted: a temporary left behind shows up here.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A saved scan of two closed ports, for `report --from` and `merge`.
fn saved_scan(dir: &Path) -> PathBuf {
    let jsonl = dir.join("saved.jsonl");
    let out = scan(2, &["--jsonl", s(&jsonl)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    jsonl
}

#[test]
fn a_null_device_copy_stays_a_device() {
    let dir = tempfile::tempdir().expect("tempdir");
    let null = dir.path().join("null");
    if mknod_char(&null, 1, 3, "a_null_device_copy_stays_a_device").is_none() {
        return;
    }
    let jsonl = dir.path().join("r.jsonl");
    let out = scan(2, &["--csv", s(&null), "--jsonl", s(&jsonl)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(is_char_device(&null, 1, 3), "the device copy was replaced");
    assert_eq!(
        std::fs::read_to_string(&jsonl)
            .expect("jsonl")
            .lines()
            .count(),
        2
    );
    // Every output kind, and report/merge, go through the same destination code.
    let saved = saved_scan(dir.path());
    let jsonl_s = s(&saved).to_string();
    for args in [
        vec![
            "report",
            "--from",
            &jsonl_s,
            "--csv",
            s(&null),
            "--fail-on",
            "never",
        ],
        vec!["merge", &jsonl_s, "--html", s(&null), "--fail-on", "never"],
        vec![
            "merge",
            &jsonl_s,
            "--metrics",
            s(&null),
            "--fail-on",
            "never",
        ],
        vec![
            "report",
            "--from",
            &jsonl_s,
            "--jsonl",
            s(&null),
            "--fail-on",
            "never",
        ],
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(
            is_char_device(&null, 1, 3),
            "{args:?} replaced the device copy"
        );
    }
    assert_eq!(names(dir.path()), ["null", "r.jsonl", "saved.jsonl"]);
}

#[test]
fn a_full_device_ends_the_run_with_exit_2_and_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let full = dir.path().join("full");
    if mknod_char(&full, 1, 7, "a_full_device_ends_the_run_with_exit_2").is_none() {
        return;
    }
    let saved = saved_scan(dir.path());
    let jsonl_s = s(&saved).to_string();
    let scan_a = scan_args(2, &["--csv", s(&full)]);
    let scan_a: Vec<&str> = scan_a.iter().map(String::as_str).collect();
    let scan_m = scan_args(2, &["--metrics", s(&full)]);
    let scan_m: Vec<&str> = scan_m.iter().map(String::as_str).collect();
    for args in [
        scan_a,
        scan_m,
        vec![
            "report",
            "--from",
            &jsonl_s,
            "--html",
            s(&full),
            "--fail-on",
            "never",
        ],
        vec!["merge", &jsonl_s, "--jsonl", s(&full), "--fail-on", "never"],
    ] {
        let out = run(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("No space left on device") && err.contains(s(&full)),
            "{args:?}: {err}"
        );
        assert!(
            is_char_device(&full, 1, 7),
            "{args:?} replaced the device copy"
        );
    }
}

/// If the run never opened the FIFO, open it ourselves so that a reader thread blocked in its
/// open returns (and the test fails on its assertion instead of hanging).
fn release_reader(fifo: &Path) {
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(fifo);
}

/// Reads the FIFO to its end on a thread; its text is the join's result.
fn fifo_reader(p: PathBuf) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut f = std::fs::File::open(&p).expect("open fifo for reading");
        let mut text = String::new();
        f.read_to_string(&mut text).expect("read fifo");
        text
    })
}

#[test]
fn a_fifo_is_written_in_place_and_its_reader_gets_the_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("csv.fifo");
    mkfifo(&fifo);
    let reader = fifo_reader(fifo.clone());
    // The pre-scan check must not open the FIFO: that would hand the reader an end of file and
    // leave the real open waiting forever for a reader (the run limit catches that).
    let out = scan(3, &["--csv", s(&fifo)]);
    release_reader(&fifo);
    let text = reader.join().expect("reader");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let hosts: Vec<String> = r
        .records()
        .map(|x| x.expect("csv row").get(0).unwrap_or("").to_string())
        .collect();
    assert_eq!(hosts.len(), 3, "{text}");
    assert!(
        hosts.iter().all(|h| h.starts_with("127.93.0.")),
        "{hosts:?}"
    );
    assert!(is_fifo(&fifo), "the FIFO was replaced");

    // The same through `report --from`, JSON Lines this time, via a symlink to the FIFO.
    let saved = saved_scan(dir.path());
    let link = dir.path().join("to-fifo");
    symlink(&fifo, &link).expect("symlink");
    let reader = fifo_reader(fifo.clone());
    let out = run(&[
        "report",
        "--from",
        s(&saved),
        "--jsonl",
        s(&link),
        "--fail-on",
        "never",
    ]);
    release_reader(&fifo);
    let text = reader.join().expect("reader");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(text, std::fs::read_to_string(&saved).expect("saved"));
    assert!(is_fifo(&fifo) && std::fs::symlink_metadata(&link).is_ok_and(|m| m.is_symlink()));
}

#[test]
fn a_fifo_reader_that_leaves_early_gives_exit_2_not_a_hang() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("csv.fifo");
    mkfifo(&fifo);
    // Opens (so the writer's open returns) and closes at once: every later write is EPIPE.
    let p = fifo.clone();
    let reader = std::thread::spawn(move || drop(std::fs::File::open(&p).expect("open fifo")));
    let out = scan(3, &["--csv", s(&fifo)]);
    release_reader(&fifo);
    reader.join().expect("reader");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("Broken pipe") && err.contains(s(&fifo)) && err.contains("stopped"),
        "{err}"
    );
    assert!(is_fifo(&fifo), "the FIFO was replaced");
}

#[test]
fn a_symlink_keeps_pointing_at_its_file_which_is_replaced_atomically() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::create_dir(d.join("archive")).expect("mkdir");
    let target = d.join("archive/2026-12-03.csv");
    std::fs::write(&target, "old contents\n").expect("write");
    let ino_before = std::fs::metadata(&target).expect("meta").ino();
    let link = d.join("latest.csv");
    symlink("archive/2026-12-03.csv", &link).expect("symlink");
    let out = scan(2, &["--csv", s(&link)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_link(&link).expect("still a link"),
        Path::new("archive/2026-12-03.csv")
    );
    let text = std::fs::read_to_string(&target).expect("target");
    assert!(
        text.starts_with("host,port,") && text.lines().count() == 3,
        "{text}"
    );
    // A new inode: written under a temporary name and renamed over the target.
    assert_ne!(std::fs::metadata(&target).expect("meta").ino(), ino_before);
    assert_eq!(names(d), ["archive", "latest.csv"]);
    assert_eq!(names(&d.join("archive")), ["2026-12-03.csv"]);

    // A dangling link: the file it names is created, the link kept; merge output this time.
    let saved = saved_scan(d);
    let next = d.join("next.html");
    symlink("archive/2026-12-04.html", &next).expect("symlink");
    let out = run(&["merge", s(&saved), "--html", s(&next), "--fail-on", "never"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(std::fs::symlink_metadata(&next).is_ok_and(|m| m.is_symlink()));
    let page = std::fs::read_to_string(d.join("archive/2026-12-04.html")).expect("html");
    assert!(page.contains("127.93.0.1"), "html without the rows");
}

#[test]
fn a_link_to_our_own_stdout_writes_through_it_and_keeps_what_it_holds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // What /dev/stdout is, made privately: a link to /proc/self/fd/1 (the system's own
    // /dev/stdout is never touched by this test).
    let link = d.join("stdout");
    symlink("/proc/self/fd/1", &link).expect("symlink");
    // stdout is a file opened for appending that already holds a line (a `>>` redirection):
    // replacing it, or writing from its start, would lose that line.
    let log = d.join("log.txt");
    std::fs::write(&log, "kept line\n").expect("write");
    let f = std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .expect("open log");
    let a = scan_args(2, &["--csv", s(&link)]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let out = run_with(&a, Some(Stdio::from(f)));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_link(&link).expect("link"),
        Path::new("/proc/self/fd/1")
    );
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(text.starts_with("kept line\nhost,port,"), "{text}");
    assert_eq!(text.lines().count(), 4, "{text}");

    // stdout a pipe: the report arrives on it.
    let out = run(&a);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("host,port,") && text.lines().count() == 3,
        "{text}"
    );
    assert_eq!(names(d), ["log.txt", "stdout"]);
}

#[test]
fn stdout_closed_early_is_exit_2_with_a_message() {
    // `rdpsweep ... --jsonl - | head -c0`: the reader is gone before the report is written.
    use std::os::fd::{FromRawFd, OwnedFd};
    let mut fds = [0i32; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both descriptors were just created and are owned here only.
    let (read_end, write_end) =
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read_end);
    let a = scan_args(2, &["--jsonl", "-"]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let out = run_with(&a, Some(Stdio::from(write_end)));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("stdout") && err.contains("Broken pipe"),
        "{err}"
    );
}

/// Every piece of every line a spreadsheet (or a naive importer) could split off at `;`, `,` or
/// tab, quotes trimmed as a quote-ignoring split leaves them: none may start a formula.
fn live_formula_pieces(text: &str) -> Vec<String> {
    let mut bad = Vec::new();
    for line in text.lines() {
        for delim in [';', ',', '\t'] {
            for piece in line.split(delim) {
                let p = piece.trim_matches('"');
                let formula = matches!(p.bytes().next(), Some(b'=' | b'+' | b'-' | b'@'));
                if formula && p.parse::<f64>().is_err() {
                    bad.push(format!("{p:?} (split at {delim:?})"));
                }
            }
        }
    }
    bad
}

const NTLM_SPLIT: &str = "x;=1234+4321";
const INVENTORY_SPLIT: &str = "rack 4;=CONCATENATE(\"pw\",\"ned\")\t@SUM(1)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_cells_split_on_semicolon_or_tab_never_start_a_formula() {
    use rdpsweep::lab::{Behavior, Lab, LabConfig, NtlmNames, RdpHost, RdpPolicy};
    let evil = RdpHost {
        names: NtlmNames {
            nb_domain: Some(NTLM_SPLIT.into()),
            ..Default::default()
        },
        ..RdpHost::new(RdpPolicy::WindowsNla)
    };
    let lab = Lab::start(
        LabConfig {
            base: Ipv4Addr::new(127, 93, 1, 1),
            port: 3389,
            dns: false,
        },
        vec![(Some("split"), Behavior::Rdp(evil), "names split by ;")],
    )
    .await
    .expect("lab");
    let ip = lab.hosts.first().expect("one host").addr;
    let dir = tempfile::tempdir().expect("tempdir");
    let inv = dir.path().join("inv.csv");
    let mut w = csv::Writer::from_path(&inv).expect("inventory");
    w.write_record(["host", "rack"]).expect("row");
    w.write_record([ip.to_string().as_str(), INVENTORY_SPLIT])
        .expect("row");
    w.flush().expect("flush");
    let csv_path = dir.path().join("r.csv");
    let args: Vec<String> = ["scan", "-i", s(&inv), "--rate", "0", "--csv", s(&csv_path)]
        .iter()
        .chain(&["--fail-on", "never", "-q"])
        .map(|s| s.to_string())
        .collect();
    let out = tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&refs)
    })
    .await
    .expect("join");
    lab.shutdown().await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let text = std::fs::read_to_string(&csv_path).expect("csv");
    // The scanner saw the values, and a quote-honouring reader gets them back whole.
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let head = r.headers().expect("header").clone();
    let row = r.records().next().expect("a row").expect("csv");
    let cell = |name: &str| {
        head.iter()
            .position(|h| h == name)
            .and_then(|i| row.get(i))
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(cell("ntlm_nb_domain"), "x;'=1234+4321");
    assert_eq!(
        cell("rack"),
        "rack 4;'=CONCATENATE(\"pw\",\"ned\")\t'@SUM(1)"
    );
    // Quoted in the file, so a spreadsheet splitting on `;` or tab keeps each one cell.
    assert!(text.contains("\"x;'=1234+4321\""), "{text}");
    let bad = live_formula_pieces(&text);
    assert!(bad.is_empty(), "live formula pieces: {bad:?}\n{text}");

    libreoffice_reads_no_formula(&csv_path);
}

/// LibreOffice, told to split on `;` and to evaluate formulas, must show no computed value.
fn libreoffice_reads_no_formula(csv_path: &Path) {
    let Some(soffice) = ["soffice", "libreoffice"].into_iter().find(|b| {
        Command::new(b)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }) else {
        eprintln!(
            "SKIPPED csv_cells_split_on_semicolon_or_tab_never_start_a_formula (LibreOffice part): \
             no soffice on PATH; the split checks above still ran"
        );
        return;
    };
    let out_dir = tempfile::tempdir().expect("tempdir");
    let profile = tempfile::tempdir().expect("profile");
    // Import: `;` separator, `"` quotes, UTF-8, from line 1, evaluate formulas (token 13).
    // Export: comma-separated, values as shown, not formulas.
    let status = Command::new(soffice)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.path().display()
        ))
        .args([
            "--headless",
            "--infilter=CSV:59,34,76,1,,1033,false,false,false,false,false,-1,true",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,1033,true,true,true,false",
            "--outdir",
            s(out_dir.path()),
            s(csv_path),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("run soffice");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let name = csv_path.file_name().expect("name");
    let shown = std::fs::read_to_string(out_dir.path().join(name)).expect("converted csv");
    assert!(
        !shown.contains("5555") && !shown.contains("pwned"),
        "LibreOffice evaluated a formula: {shown}"
    );
    assert!(shown.contains("=1234+4321"), "the text is missing: {shown}");
}

#[test]
fn a_directory_or_missing_folder_is_still_refused_up_front() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::create_dir(d.join("sub")).expect("mkdir");
    symlink("sub", d.join("to-sub")).expect("symlink");
    for (out, says) in [
        (d.join("to-sub"), "is a directory"),
        (d.join("missing/x.csv"), "missing"),
    ] {
        let o = scan(1, &["--csv", s(&out)]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(says), "{err}");
    }
    // Nothing created or replaced on the way.
    assert_eq!(names(d), ["sub", "to-sub"]);
    assert!(names(&d.join("sub")).is_empty());
}
