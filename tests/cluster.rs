//! The cluster recipe through the binary: shards tagged with `--run-id`, `merge --run-id
//! --shards` refusing a stale or a missing shard, `merge --baseline --fail-on new` failing only
//! on what is new (with the merged file as its own baseline, as the CronJob keeps it), and
//! `--metrics-push` received by a real Prometheus Pushgateway (Debian `prometheus-pushgateway`,
//! started here on loopback; skipped loudly without it, a failure under CI).
//!
//! Targets are loopback addresses on a port nothing listens on: every row is a real,
//! fast `port-closed` failure.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_rdpsweep");
/// 127.108.20.1 .. .12: this file's own slice of loopback.
const TARGETS: &str = "127.108.20.1-12";
const HALF: &str = "127.108.20.1-6";

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The RDP port scanned: nothing listens on it, and being fixed, it keeps each target in the
/// same shard on every run (the shard hash covers host:port), so every shard has rows.
const SCAN_PORT: u16 = 47;

/// A TCP port on 127.0.0.1 that nothing listens on (bound, then released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn rdpsweep(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("RDPSWEEP_RUN_ID")
        .env_remove("RDPSWEEP_METRICS_PUSH")
        .output()
        .unwrap()
}

/// One shard pod: scans `targets` as shard `shard` with `run_id` into `out`.
fn scan_shard(targets: &str, port: u16, shard: &str, run_id: Option<&str>, out: &Path) {
    let port = port.to_string();
    let mut args = vec![
        "scan",
        targets,
        "--port",
        &port,
        "--rate",
        "0",
        "--connect-timeout",
        "1s",
        "--shard",
        shard,
        "--fail-on",
        "never",
        "-q",
        "--jsonl",
        out.to_str().unwrap(),
    ];
    if let Some(r) = run_id {
        args.extend(["--run-id", r]);
    }
    let o = rdpsweep(&args);
    assert!(o.status.success(), "{}", text(&o));
}

fn rows(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Three shard files of one run (`run_id`), each non-empty.
fn night(dir: &Path, targets: &str, port: u16, run_id: &str) -> Vec<PathBuf> {
    (0..3)
        .map(|k| {
            let p = dir.join(format!("shard-{k}.jsonl"));
            scan_shard(targets, port, &format!("{k}/3"), Some(run_id), &p);
            assert!(!rows(&p).is_empty(), "shard {k} of {targets} is empty");
            p
        })
        .collect()
}

fn merge(files: &[PathBuf], extra: &[&str]) -> Output {
    let mut args: Vec<&str> = vec!["merge"];
    args.extend(files.iter().map(|p| p.to_str().unwrap()));
    args.extend(extra);
    rdpsweep(&args)
}

#[test]
fn merge_refuses_a_stale_and_a_missing_shard() {
    let dir = tempfile::tempdir().unwrap();
    let port = SCAN_PORT;
    let shards = night(dir.path(), TARGETS, port, "nightly-2026-03-14");
    for p in &shards {
        for r in rows(p) {
            assert_eq!(r["run"]["id"], "nightly-2026-03-14", "{r}");
        }
    }
    // Shard 2's pod died tonight: its file is yesterday's.
    let stale = dir.path().join("stale-shard-2.jsonl");
    scan_shard(TARGETS, port, "2/3", Some("nightly-2026-03-13"), &stale);
    let out = dir.path().join("fleet.jsonl");
    let outs = ["--jsonl", out.to_str().unwrap()];
    let check = ["--run-id", "nightly-2026-03-14", "--shards", "3"];

    let mixed = [shards[0].clone(), shards[1].clone(), stale.clone()];
    let o = merge(&mixed, &[&outs[..], &check[..]].concat());
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(
        t.contains(stale.to_str().unwrap()),
        "names the stale file: {t}"
    );
    assert!(t.contains("run nightly-2026-03-13"), "{t}");
    assert!(t.contains("missing shard 2/3"), "{t}");
    assert!(!out.exists(), "nothing is written on refusal");

    // A shard not there at all.
    let o = merge(&shards[..2], &[&outs[..], &check[..]].concat());
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("missing shard 2/3"), "{t}");
    assert!(!t.contains("shard 0/3") && !t.contains("shard 1/3"), "{t}");
    assert!(!out.exists());

    // Every shard of tonight: merged, tags kept.
    let o = merge(
        &shards,
        &[&outs[..], &check[..], &["--fail-on", "never"]].concat(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let merged = rows(&out);
    assert_eq!(merged.len(), 12);
    assert!(
        merged
            .iter()
            .all(|r| r["run"]["id"] == "nightly-2026-03-14")
    );

    // Files written without --run-id still merge as before, and are refused under --run-id.
    let old = dir.path().join("old.jsonl");
    scan_shard(TARGETS, port, "0/1", None, &old);
    assert!(rows(&old).iter().all(|r| r.get("run").is_none()));
    let o = merge(
        std::slice::from_ref(&old),
        &[&outs[..], &["--fail-on", "never"]].concat(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = merge(
        std::slice::from_ref(&old),
        &[&outs[..], &["--run-id", "nightly-2026-03-14"]].concat(),
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("no run id"), "{t}");
    // Rows of an unsharded run are no shard of 3.
    let o = merge(
        std::slice::from_ref(&old),
        &[&outs[..], &["--shards", "3"]].concat(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));

    // `{utc-date}` is filled in the same way by scan and merge.
    let today = dir.path().join("today.jsonl");
    scan_shard(HALF, port, "0/1", Some("nightly-{utc-date}"), &today);
    let id = rows(&today)[0]["run"]["id"].as_str().unwrap().to_string();
    assert!(
        id.starts_with("nightly-20") && id.len() == "nightly-2026-03-14".len(),
        "{id}"
    );
    let o = merge(
        std::slice::from_ref(&today),
        &[
            &outs[..],
            &["--run-id", "nightly-{utc-date}", "--fail-on", "never"],
        ]
        .concat(),
    );
    assert!(o.status.success(), "{}", text(&o));
}

fn change_by_host(path: &Path) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = rows(path)
        .iter()
        .map(|r| {
            (
                r["target"]["host"].as_str().unwrap().to_string(),
                r["change"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn merge_with_its_own_output_as_baseline_fails_only_on_new_rows() {
    let dir = tempfile::tempdir().unwrap();
    let port = SCAN_PORT;
    // The CronJob's file: read as the baseline, then replaced by tonight's merge.
    let fleet = dir.path().join("rdpsweep.jsonl");
    let fleet_s = fleet.to_str().unwrap();
    let csv = dir.path().join("rdpsweep.csv");
    let job = [
        "--baseline",
        fleet_s,
        "--jsonl",
        fleet_s,
        "--csv",
        csv.to_str().unwrap(),
        "--fail-on",
        "new",
        "--run-id",
        "run-1",
        "--shards",
        "3",
    ];

    // Night 1: no previous file. Without --allow-missing-baseline that is a setup error...
    let n1 = dir.path().join("n1");
    std::fs::create_dir(&n1).unwrap();
    let shards = night(&n1, HALF, port, "run-1");
    let o = merge(&shards, &job);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains(fleet_s), "{t}");
    // ...with it, the first run: every failing row is new, so the job fails once.
    let first = [&job[..], &["--allow-missing-baseline"]].concat();
    let o = merge(&shards, &first);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("first run"), "{t}");
    assert_eq!(rows(&fleet).len(), 6);

    // Night 2: six more hosts fail. Only they are new; the job fails.
    let n2 = dir.path().join("n2");
    std::fs::create_dir(&n2).unwrap();
    let job2: Vec<&str> = job
        .iter()
        .map(|a| if *a == "run-1" { "run-2" } else { a })
        .collect();
    let shards = night(&n2, TARGETS, port, "run-2");
    let o = merge(
        &shards,
        &[&job2[..], &["--allow-missing-baseline"]].concat(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let changes = change_by_host(&fleet);
    assert_eq!(changes.len(), 12);
    for (host, change) in &changes {
        let last: u8 = host.rsplit('.').next().unwrap().parse().unwrap();
        let want = if last <= 6 { "unchanged" } else { "new" };
        assert_eq!(change, want, "{host}: {changes:?}");
    }
    let csv_text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(csv_text.matches(",new,").count(), 6, "{csv_text}");

    // Night 3, the same fleet: nothing new, the job succeeds.
    let o = merge(&shards, &job2);
    assert!(o.status.success(), "{}", text(&o));
    assert!(change_by_host(&fleet).iter().all(|(_, c)| c == "unchanged"));
}

// ---------------------------------------------------------------------------------- Pushgateway

/// A Pushgateway on loopback, stopped on drop.
struct Gateway {
    child: Child,
    port: u16,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.0 GET on loopback (1.0: the body comes whole, never chunked); (status, body).
fn get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n")?;
    let mut reply = Vec::new();
    s.take(16 << 20).read_to_end(&mut reply)?;
    let t = String::from_utf8_lossy(&reply).to_string();
    let code = t
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = t
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((code, body))
}

fn start_gateway() -> Option<Gateway> {
    let exe = "prometheus-pushgateway";
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {exe}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        let msg = format!("{exe} is not installed (apt-get install prometheus-pushgateway)");
        if std::env::var_os("CI").is_some() {
            panic!("{msg}: CI must run this test");
        }
        eprintln!("\n*** SKIPPED: {msg} ***\n");
        return None;
    }
    let port = free_port();
    let child = Command::new(exe)
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--persistence.file=")
        .arg("--log.level=warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let gw = Gateway { child, port };
    let until = Instant::now() + Duration::from_secs(15);
    while Instant::now() < until {
        if matches!(get(port, "/-/ready"), Ok((200, _))) {
            return Some(gw);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the Pushgateway on 127.0.0.1:{port} did not become ready");
}

/// The sample lines of `metric` whose labels include every one of `labels`.
fn samples<'a>(exposition: &'a str, metric: &str, labels: &[&str]) -> Vec<&'a str> {
    exposition
        .lines()
        .filter(|l| l.starts_with(&format!("{metric}{{")))
        .filter(|l| labels.iter().all(|x| l.contains(x)))
        .collect()
}

#[test]
fn pushgateway_receives_the_metrics() {
    let Some(gw) = start_gateway() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = SCAN_PORT;
    let url = format!("http://127.0.0.1:{}", gw.port);

    // A shard pod pushes its own group (job="rdpsweep", shard="1").
    let shard1 = dir.path().join("shard-1.jsonl");
    let p = port.to_string();
    let o = rdpsweep(&[
        "scan",
        TARGETS,
        "--port",
        &p,
        "--rate",
        "0",
        "--shard",
        "1/3",
        "--run-id",
        "r",
        "-q",
        "--fail-on",
        "never",
        "--jsonl",
        shard1.to_str().unwrap(),
        "--metrics-push",
        &url,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let shard_rows = rows(&shard1).len();
    assert!(shard_rows > 0);

    // The merge pushes the fleet's (job="rdpsweep", no shard label).
    let shards = night(dir.path(), TARGETS, port, "r");
    let o = merge(
        &shards,
        &[
            "--metrics-push",
            &url,
            "--run-id",
            "r",
            "--shards",
            "3",
            "--fail-on",
            "never",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));

    let (code, body) = get(gw.port, "/metrics").unwrap();
    assert_eq!(code, 200, "{body}");
    let fleet = samples(
        &body,
        "rdpsweep_hosts",
        &["job=\"rdpsweep\"", "verdict=\"port-closed\""],
    );
    let (with_shard, without): (Vec<&str>, Vec<&str>) =
        fleet.iter().partition(|l| l.contains("shard=\"1\""));
    assert_eq!(without.len(), 1, "{fleet:?}");
    assert!(without[0].ends_with(" 12"), "{fleet:?}");
    let pushed: Vec<&str> = body
        .lines()
        .filter(|l| l.starts_with("rdpsweep_hosts{") || l.starts_with("push_"))
        .collect();
    assert_eq!(with_shard.len(), 1, "{pushed:#?}");
    assert!(
        with_shard[0].ends_with(&format!(" {shard_rows}")),
        "{fleet:?}"
    );
    // Per-host series arrive too: one per address in the merged group.
    let up = samples(&body, "rdpsweep_host_up", &["job=\"rdpsweep\""]);
    assert_eq!(
        up.iter().filter(|l| !l.contains("shard=")).count(),
        12,
        "{up:?}"
    );
    // The gateway records a successful push for both groups.
    assert_eq!(
        samples(&body, "push_time_seconds", &["job=\"rdpsweep\""]).len(),
        2
    );

    // A push that fails: exit 2 naming the URL, the reports written all the same.
    let dead = format!("http://127.0.0.1:{}", free_port());
    let out = dir.path().join("fleet.jsonl");
    let o = merge(
        &shards,
        &[
            "--metrics-push",
            &dead,
            "--jsonl",
            out.to_str().unwrap(),
            "--fail-on",
            "never",
        ],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains(&format!("{dead}/metrics/job/rdpsweep")), "{t}");
    assert_eq!(rows(&out).len(), 12, "the reports come before the push");
}
