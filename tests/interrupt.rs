//! Interruption and output failures, through the real binary:
//!
//! - SIGTERM / SIGINT in the middle of a 10,000-host scan: exit 130, both report files complete
//!   and parseable under their final names, and every host the summary counts as finished is in
//!   both (the same rows in CSV and JSON Lines).
//! - A second signal while draining exits at once.
//! - Output unwritable (a read-only mount) or the disk filling up mid-scan (a 64 KiB tmpfs):
//!   a clear error, exit 2, and no half file under the final name. These need root and
//!   `unshare --mount` (a private mount namespace, so nothing leaks out); skipped loudly otherwise.
//!
//! Each test has its own 127.91.N.0 block; loopback only.

use std::collections::HashSet;
use std::fs::File;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdpsweep::lab::Lab;

const BIN: &str = env!("CARGO_BIN_EXE_rdpsweep");

/// One scan at a time: these tests time the scanner's reaction on a 2-core machine.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn scan_cmd(inv: &Path, ca: &Path, dir: &Path, timeout: &str) -> Command {
    let mut c = Command::new(BIN);
    c.args([
        "scan",
        "-i",
        inv.to_str().expect("utf-8"),
        "--ca-bundle",
        ca.to_str().expect("utf-8"),
        "--rate",
        "0",
        "--concurrency",
        "256",
        "--connect-timeout",
        "2s",
        "--timeout",
        timeout,
        "--host-deadline",
        "60s",
        "--retries",
        "0",
        "--host-spacing",
        "10ms",
        "--fail-on",
        "never",
        "--csv",
        dir.join("out.csv").to_str().expect("utf-8"),
        "--jsonl",
        dir.join("out.jsonl").to_str().expect("utf-8"),
    ])
    .stdin(Stdio::null())
    .stdout(File::create(dir.join("stdout.txt")).expect("stdout"))
    .stderr(File::create(dir.join("stderr.txt")).expect("stderr"));
    c
}

fn signal(child: &Child, sig: i32) {
    let pid = i32::try_from(child.id()).expect("pid");
    // SAFETY: kill(2) on our own child, which has not been reaped.
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0, "kill");
}

/// Wait for the child, at most `limit`; kills it and fails the test on overrun.
fn wait_for(child: &mut Child, limit: Duration) -> (Option<i32>, Duration) {
    let t0 = Instant::now();
    loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            return (st.code(), t0.elapsed());
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("rdpsweep did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn csv_hosts(path: &Path) -> Vec<String> {
    let mut r = csv::Reader::from_path(path).expect("CSV under its final name");
    let headers = r.headers().expect("CSV header").clone();
    let host = headers
        .iter()
        .position(|h| h == "host")
        .expect("host column");
    let verdict = headers
        .iter()
        .position(|h| h == "verdict")
        .expect("verdict column");
    r.records()
        .map(|rec| {
            let rec = rec.expect("every CSV record parses");
            assert_eq!(rec.len(), headers.len(), "complete CSV row");
            assert!(
                !rec.get(verdict).unwrap_or("").is_empty(),
                "row has a verdict"
            );
            rec.get(host).expect("host").to_string()
        })
        .collect()
}

fn jsonl_hosts(path: &Path) -> Vec<String> {
    rdpsweep::report::jsonl::read_reports(path)
        .expect("every JSON Lines record parses")
        .into_iter()
        .map(|r| r.record.target.host)
        .collect()
}

/// `rdpsweep: N targets, M rows in ...s (interrupted): ...` -> M.
fn summary_rows(stderr: &str) -> Option<usize> {
    let line = stderr.lines().find(|l| l.contains(" rows in "))?;
    let before = line.split(" rows in ").next()?;
    before.rsplit(' ').next()?.parse().ok()
}

async fn wait_accepted(lab: &Lab, n: u64, limit: Duration) {
    let t0 = Instant::now();
    while lab.stats().total_accepted < n {
        assert!(t0.elapsed() < limit, "scan did not get going");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Start a scale lab, scan it, signal once the scan is well under way, check the outputs.
async fn interrupted_mid_scan(third: u8, hosts: usize, sig: i32) {
    let _serial = SERIAL.lock().await;
    let lab = Lab::scale(hosts, Ipv4Addr::new(127, 91, third, 1), 3389)
        .await
        .expect("scale lab");
    let dir = tempfile::tempdir().expect("tempdir");
    let inv = dir.path().join("inv.csv");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&inv, lab.inventory_csv()).expect("inventory");
    std::fs::write(&ca, &lab.ca_pem).expect("ca");
    // The HTML page too: its rows wait in an unnamed file until the end (report/html/spill.rs).
    let mut child = scan_cmd(&inv, &ca, dir.path(), "3s")
        .arg("--html")
        .arg(dir.path().join("out.html"))
        .spawn()
        .expect("spawn");
    // Mid-scan: a few hundred hosts in, thousands to go.
    wait_accepted(&lab, 600, Duration::from_secs(60)).await;
    let t_sig = Instant::now();
    signal(&child, sig);
    let (code, _) = tokio::task::spawn_blocking(move || {
        let r = wait_for(&mut child, Duration::from_secs(30));
        (r, child)
    })
    .await
    .map(|(r, _)| r)
    .expect("join");
    let drained_in = t_sig.elapsed();
    lab.shutdown().await;

    let stderr = std::fs::read_to_string(dir.path().join("stderr.txt")).unwrap_or_default();
    assert_eq!(
        code,
        Some(130),
        "exit 130 after the signal; stderr: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    // 1 s grace for in-flight hosts, then writing the files.
    assert!(
        drained_in < Duration::from_secs(6),
        "drained in {drained_in:?}"
    );
    assert!(stderr.contains("interrupted"), "{stderr}");

    let csv = csv_hosts(&dir.path().join("out.csv"));
    let jsonl = jsonl_hosts(&dir.path().join("out.jsonl"));
    assert!(!csv.is_empty(), "finished hosts are written");
    assert!(csv.len() < hosts, "the scan was interrupted mid-way");
    assert_eq!(csv.len(), jsonl.len(), "same rows in CSV and JSON Lines");
    let a: HashSet<&String> = csv.iter().collect();
    let b: HashSet<&String> = jsonl.iter().collect();
    assert_eq!(a, b, "the same hosts in both files");
    assert_eq!(a.len(), csv.len(), "no host twice");
    assert_eq!(
        summary_rows(&stderr),
        Some(csv.len()),
        "every host the scan finished is in the files: {stderr}"
    );
    // The page carries the same finished rows, and says the scan was interrupted.
    let html = std::fs::read_to_string(dir.path().join("out.html")).expect("HTML page written");
    let island = html
        .split_once("<script type=\"application/json\" id=\"data\">")
        .and_then(|(_, rest)| rest.split_once("</script>"))
        .map(|(json, _)| json)
        .expect("data island");
    let doc: serde_json::Value = serde_json::from_str(island).expect("island is JSON");
    let page_hosts: HashSet<&str> = doc["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["h"].as_str())
        .collect();
    assert_eq!(doc["rows"].as_array().map(Vec::len), Some(csv.len()));
    assert_eq!(
        page_hosts,
        a.iter().map(|h| h.as_str()).collect::<HashSet<&str>>(),
        "the page has the CSV's hosts"
    );
    assert!(html.contains("Interrupted scan."), "interrupted banner");
    // No temporary left beside the reports.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    assert!(
        !names.iter().any(|n| n.ends_with(".tmp")),
        "temporaries left: {names:?}"
    );
    eprintln!(
        "signal {sig}: {} of {hosts} hosts written, exit 130 after {drained_in:?}",
        csv.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_scan_of_10000_hosts() {
    interrupted_mid_scan(0, 10_000, libc::SIGTERM).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_mid_scan() {
    interrupted_mid_scan(64, 3_000, libc::SIGINT).await;
}

/// The first signal starts the drain (1 s grace); a second one ends the process at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_signal_exits_at_once() {
    let _serial = SERIAL.lock().await;
    // Tarpits hold every in-flight host for the whole phase timeout, so the drain would take
    // the full grace period.
    let hosts: Vec<(Option<&str>, rdpsweep::lab::Behavior, &'static str)> = (0..400)
        .map(|_| (None, rdpsweep::lab::Behavior::Tarpit, "tarpit"))
        .collect();
    let lab = Lab::start(
        rdpsweep::lab::LabConfig {
            base: Ipv4Addr::new(127, 91, 100, 1),
            port: 3389,
            dns: false,
        },
        hosts,
    )
    .await
    .expect("lab");
    let dir = tempfile::tempdir().expect("tempdir");
    let inv = dir.path().join("inv.csv");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&inv, lab.inventory_csv()).expect("inventory");
    std::fs::write(&ca, &lab.ca_pem).expect("ca");
    let mut child = scan_cmd(&inv, &ca, dir.path(), "30s")
        .spawn()
        .expect("spawn");
    wait_accepted(&lab, 200, Duration::from_secs(30)).await;
    signal(&child, libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(100));
    let t_second = Instant::now();
    signal(&child, libc::SIGTERM);
    let (code, _) =
        tokio::task::spawn_blocking(move || wait_for(&mut child, Duration::from_secs(30)))
            .await
            .expect("join");
    let took = t_second.elapsed();
    lab.shutdown().await;
    let stderr = std::fs::read_to_string(dir.path().join("stderr.txt")).unwrap_or_default();
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        took < Duration::from_millis(700),
        "second signal took {took:?} (the grace period is 1 s)"
    );
    // Reports are unnamed (O_TMPFILE) until committed, so even this exit leaves no temporary.
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    if tmpfile_supported(dir.path()) {
        assert!(left.is_empty(), "temporaries left behind: {left:?}");
    } else if !left.is_empty() {
        eprintln!("NOTE: no O_TMPFILE here; named temporaries left: {left:?}");
    }
    // Whatever exists under a final name is complete (here: nothing was finished).
    for f in ["out.csv", "out.jsonl"] {
        let p = dir.path().join(f);
        if p.exists() {
            if f.ends_with(".csv") {
                csv_hosts(&p);
            } else {
                jsonl_hosts(&p);
            }
        }
    }
}

/// Whether `dir`'s filesystem gives unnamed files (O_TMPFILE), as the report writer uses.
fn tmpfile_supported(dir: &Path) -> bool {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_TMPFILE)
        .open(dir)
        .is_ok()
}

// ---------------------------------------------------------------------------------------------
// Output failures, in a private mount namespace.

/// Run `script` under `unshare --mount`; None (after a loud skip message) when that is not
/// possible here.
fn in_mount_ns(script: &str, what: &str) -> Option<std::process::Output> {
    let probe = Command::new("unshare").args(["--mount", "true"]).output();
    match probe {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            eprintln!(
                "SKIPPED {what}: unshare --mount refused (needs root): {}",
                String::from_utf8_lossy(&o.stderr)
            );
            return None;
        }
        Err(e) => {
            eprintln!("SKIPPED {what}: cannot run unshare: {e}");
            return None;
        }
    }
    Some(
        Command::new("unshare")
            .args(["--mount", "sh", "-c", script])
            .output()
            .expect("run unshare"),
    )
}

/// Markers the scripts print so the test can tell the scanner's status from the script's.
fn script_field<'a>(stdout: &'a str, key: &str) -> Option<&'a str> {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .map(str::trim)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_full_mid_scan_is_a_clear_error_and_leaves_no_file() {
    let _serial = SERIAL.lock().await;
    let lab = Lab::scale(400, Ipv4Addr::new(127, 91, 120, 1), 3389)
        .await
        .expect("lab");
    let dir = tempfile::tempdir().expect("tempdir");
    let inv = dir.path().join("inv.csv");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&inv, lab.inventory_csv()).expect("inventory");
    std::fs::write(&ca, &lab.ca_pem).expect("ca");
    let full = dir.path().join("full");
    std::fs::create_dir(&full).expect("mount point");
    let (inv_s, ca_s, full_s) = (
        inv.display().to_string(),
        ca.display().to_string(),
        full.display().to_string(),
    );
    // 64 KiB: the header fits, a few hundred JSON Lines records do not.
    let script = format!(
        r#"mount -t tmpfs -o size=64k tmpfs "{full_s}" || exit 99
"{BIN}" scan -i "{inv_s}" --ca-bundle "{ca_s}" --rate 0 --concurrency 128 --retries 0 \
  --connect-timeout 2s --timeout 3s --fail-on never -q \
  --csv "{full_s}/out.csv" --jsonl "{full_s}/out.jsonl" 2>"{full_s}/../scan.err"
echo "rc: $?"
echo "files: $(ls -A "{full_s}" | tr '\n' ' ')"
"#
    );
    let t0 = Instant::now();
    let out = tokio::task::spawn_blocking(move || in_mount_ns(&script, "disk full"))
        .await
        .expect("join");
    let took = t0.elapsed();
    lab.shutdown().await;
    let Some(out) = out else { return };
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.code() == Some(99) {
        eprintln!("SKIPPED disk full: cannot mount a tmpfs here");
        return;
    }
    let err = std::fs::read_to_string(dir.path().join("scan.err")).unwrap_or_default();
    assert_eq!(script_field(&stdout, "rc:"), Some("2"), "exit 2: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("No space left") && err.contains("out."),
        "the error names the file and the cause: {err}"
    );
    assert_eq!(
        script_field(&stdout, "files:"),
        Some(""),
        "no report and no temporary left on the full disk: {stdout}"
    );
    // It gave up when the disk filled instead of scanning the rest of the fleet for nothing.
    eprintln!("disk full: exit 2 after {took:?}: {}", err.trim());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_output_folder_is_refused_before_scanning() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).expect("mount point");
    let ro_s = ro.display().to_string();
    // Root ignores permission bits, so read-only has to be a read-only mount.
    let script = format!(
        r#"mount -t tmpfs -o ro,size=64k tmpfs "{ro_s}" || exit 99
"{BIN}" scan 127.91.130.1 --rate 0 -q --csv "{ro_s}/out.csv"
echo "rc: $?"
echo "files: $(ls -A "{ro_s}" | tr '\n' ' ')"
"#
    );
    let Some(out) = tokio::task::spawn_blocking(move || in_mount_ns(&script, "read-only output"))
        .await
        .expect("join")
    else {
        return;
    };
    if out.status.code() == Some(99) {
        eprintln!("SKIPPED read-only output: cannot mount a tmpfs here");
        return;
    }
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(script_field(&stdout, "rc:"), Some("2"), "{stderr}");
    assert!(
        stderr.contains("cannot write")
            && stderr.contains("out.csv")
            && stderr.contains("Read-only"),
        "{stderr}"
    );
    assert_eq!(script_field(&stdout, "files:"), Some(""), "{stdout}");
}

/// Keeps the helper used by both signal paths honest: the summary parser reads the real line.
#[test]
fn summary_line_is_parsed() {
    let line = "rdpsweep: 812 targets, 790 rows in 4.2s (interrupted): ok 500, port-closed 10";
    assert_eq!(summary_rows(line), Some(790));
    assert_eq!(summary_rows("nothing here"), None);
}
