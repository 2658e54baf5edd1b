//! Signals that arrive after the last target has started (issue 13, defect 3), through the real
//! binary against lab hosts on 127.98.N.x (loopback only):
//!
//! - one SIGTERM while the only host left is a tarpit: exit 130 within the grace period, the
//!   finished host written to CSV and JSON Lines, the interruption said on stderr;
//! - two SIGTERMs: exit 130 at once, and the finished host still in both files;
//! - `-i -` with stdin left open: one SIGINT ends the scan (no second signal needed).

use std::io::Write;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdpsweep::lab::{Behavior, Lab, LabConfig};

const BIN: &str = env!("CARGO_BIN_EXE_rdpsweep");

/// One scan at a time: these tests time the scanner's reaction on a 2-core machine.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A refused port (finishes at once) and a tarpit (holds its host for the 60 s timeout).
async fn lab(third: u8) -> Lab {
    let p = (std::process::id() % 50) as u8 * 4 + third;
    Lab::start(
        LabConfig {
            base: Ipv4Addr::new(127, 98, p, 1),
            port: 3389,
            dns: false,
        },
        vec![
            (None, Behavior::Closed, "port-closed"),
            (None, Behavior::Tarpit, "rdp-no-reply"),
        ],
    )
    .await
    .expect("lab")
}

fn scan(dir: &Path, inventory: &str) -> Command {
    let mut c = Command::new(BIN);
    c.args(["scan", "-i", inventory])
        .args(["--rate", "0", "--connect-timeout", "2s", "--timeout", "60s"])
        .args([
            "--host-deadline",
            "90s",
            "--retries",
            "0",
            "--fail-on",
            "never",
        ])
        .arg("--csv")
        .arg(dir.join("out.csv"))
        .arg("--jsonl")
        .arg(dir.join("out.jsonl"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("stderr.txt")).expect("stderr"));
    c
}

fn signal(child: &Child, sig: i32) {
    let pid = i32::try_from(child.id()).expect("pid");
    // SAFETY: kill(2) on our own child, which has not been reaped.
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0, "kill");
}

fn wait_for(child: &mut Child, limit: Duration) -> Option<i32> {
    let t0 = Instant::now();
    loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            return st.code();
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("rdpsweep did not exit within {limit:?} of the signal");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Both hosts have been contacted (the refused one is finished by then, the tarpit holds).
async fn both_started(lab: &Lab) {
    let t0 = Instant::now();
    while lab.stats().total_accepted < 1 {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "scan did not reach the tarpit"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The refused host needs no accept: give its row a moment to reach the writer.
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// The finished (refused) host is in both outputs, complete and parseable; the tarpit is not.
fn finished_host_written(dir: &Path, lab: &Lab) {
    let closed = lab.hosts[0].addr.to_string();
    let csv = std::fs::read_to_string(dir.join("out.csv")).expect("out.csv published");
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.expect("csv row")).collect();
    assert_eq!(rows.len(), 1, "only the finished host: {csv}");
    assert!(
        csv.contains(&closed) && csv.contains("port-closed"),
        "{csv}"
    );
    let jsonl = std::fs::read_to_string(dir.join("out.jsonl")).expect("out.jsonl published");
    let lines: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).expect("a complete JSON line"))
        .collect();
    assert_eq!(lines.len(), 1, "{jsonl}");
    assert_eq!(lines[0]["verdict"], "port-closed");
}

fn inventory(dir: &Path, lab: &Lab) -> String {
    let p = dir.join("inv.csv");
    std::fs::write(&p, lab.inventory_csv()).expect("inventory");
    p.to_str().expect("utf-8").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_signal_after_the_last_target_started_stops_in_flight_hosts() {
    let _serial = SERIAL.lock().await;
    let lab = lab(0).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let inv = inventory(dir.path(), &lab);
    let mut child = scan(dir.path(), &inv).spawn().expect("spawn");
    both_started(&lab).await;
    let t = Instant::now();
    signal(&child, libc::SIGTERM);
    let code = tokio::task::spawn_blocking(move || wait_for(&mut child, Duration::from_secs(20)))
        .await
        .expect("join");
    let took = t.elapsed();
    let stderr = std::fs::read_to_string(dir.path().join("stderr.txt")).unwrap_or_default();
    assert_eq!(code, Some(130), "{stderr}");
    // 1 s grace for the tarpit, then the files: far less than its 60 s timeout.
    assert!(took < Duration::from_secs(6), "took {took:?}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    finished_host_written(dir.path(), &lab);
    lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_signal_still_writes_finished_hosts() {
    let _serial = SERIAL.lock().await;
    let lab = lab(1).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let inv = inventory(dir.path(), &lab);
    let mut child = scan(dir.path(), &inv).spawn().expect("spawn");
    both_started(&lab).await;
    signal(&child, libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(100));
    let t = Instant::now();
    signal(&child, libc::SIGTERM);
    let code = tokio::task::spawn_blocking(move || wait_for(&mut child, Duration::from_secs(20)))
        .await
        .expect("join");
    let took = t.elapsed();
    let stderr = std::fs::read_to_string(dir.path().join("stderr.txt")).unwrap_or_default();
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        took < Duration::from_millis(900),
        "second signal took {took:?}"
    );
    finished_host_written(dir.path(), &lab);
    lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_with_stdin_left_open_needs_no_second_signal() {
    let _serial = SERIAL.lock().await;
    let lab = lab(2).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = scan(dir.path(), "-")
        .stdin(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Both targets, and then the pipe stays open: the reader is blocked on stdin.
    let mut stdin = child.stdin.take().expect("stdin");
    for h in &lab.hosts {
        writeln!(stdin, "{}", h.addr).expect("write target");
    }
    stdin.flush().expect("flush");
    both_started(&lab).await;
    let t = Instant::now();
    signal(&child, libc::SIGINT);
    let code = tokio::task::spawn_blocking(move || wait_for(&mut child, Duration::from_secs(20)))
        .await
        .expect("join");
    let took = t.elapsed();
    drop(stdin);
    let stderr = std::fs::read_to_string(dir.path().join("stderr.txt")).unwrap_or_default();
    assert_eq!(code, Some(130), "{stderr}");
    assert!(took < Duration::from_secs(6), "took {took:?}");
    finished_host_written(dir.path(), &lab);
    lab.shutdown().await;
}
