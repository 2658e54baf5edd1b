//! Fleet benchmark: the real `rdpsweep` binary scans a simulated fleet on loopback, next to a bare
//! client loop (TCP connect, X.224 CR/CC, rustls handshake, nothing else) at the same concurrency.
//!
//! ```sh
//! cargo bench --bench fleet                                  # 1k, 10k, 100k hosts; quick + standard
//! FLEET_SIZES=10000 FLEET_RUNS=5 cargo bench --bench fleet   # one size, more runs
//! FLEET_RATE=500 FLEET_RATE_SECS=60 cargo bench --bench fleet  # rate honesty instead
//! ```
//!
//! Processes: the lab runs in a child process (this binary re-executed with `FLEET_ROLE=lab`: the
//! library's `Lab::scale`, as `rdpsweep lab --hosts N` runs it, plus the lab CA written to a file so
//! the scanner checks trust as it would against an enterprise CA, and its own CPU time on request).
//! The scanner is `CARGO_BIN_EXE_rdpsweep`; the bare loop is this binary with `FLEET_ROLE=bare`.
//! Scanner and bare loop are reaped with `wait4`, whose rusage gives their exact CPU time and peak
//! RSS. Nothing leaves loopback.
//!
//! Settings (environment):
//! - `FLEET_SIZES` (1000,10000,100000), `FLEET_DEPTHS` (quick,standard), `FLEET_RUNS` (3),
//!   `FLEET_CONCURRENCY` (1024), `FLEET_BASE` (127.200.0.1), `FLEET_CONNECT_TIMEOUT` (1s),
//!   `FLEET_BARE` (1; 0 skips the bare loop), `FLEET_OUT` (target/fleet-bench),
//!   `FLEET_SCAN_ARGS` (extra scanner flags, space-separated), `FLEET_KEY` (ecdsa; rsa = the
//!   lab's TLS hosts hold RSA-2048 keys and sign every handshake with them, as Windows hosts do),
//!   `FLEET_CA` (rsa: the lab CA signs certificates with RSA-2048, as enterprise CAs and Windows'
//!   self-signed certificates do, so the scanner verifies what it verifies in the field; ecdsa:
//!   P-256 signatures, which cost a verifier about five times as much).
//! - `FLEET_MIX`: `responsive` (default) drops the lab's filtered hosts (2 %) from the scanned
//!   inventory, so figures measure work rather than the connect timeout's tail (a filtered host holds a
//!   slot for 2 x the connect timeout in the scanner, which retries); `realistic` keeps them.
//! - `FLEET_RATE` (unset): rate-honesty mode instead; `FLEET_RATE_SECS` (20), `FLEET_RATE_DEPTH`
//!   (standard), `FLEET_RATE_CONCURRENCY` (256). The lab runs in this process; the measure is
//!   every SYN to port 3389 on `lo`, timestamped by the kernel (an AF_PACKET socket, as root), with
//!   the lab's accept() times printed next to it; the scanner is interrupted after the duration.
//!
//! File descriptors: the lab needs one per host plus the open connections; this binary raises
//! `RLIMIT_NOFILE` (soft and, as root, hard) before starting it. See benches/RESULTS.md.
// Children are reaped with libc::wait4 (for their exact rusage), which clippy cannot see.
#![allow(clippy::zombie_processes)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The scanner: this build's, or `FLEET_BIN` (e.g. a saved binary of an earlier commit).
fn scanner_bin() -> PathBuf {
    std::env::var_os("FLEET_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_rdpsweep")))
}

/// `FLEET_BINS=name=path,name=path`: scanners to compare in one session (runs interleaved, so
/// load drift on a shared machine hits each alike); tools are then labelled `depth@name`.
fn scanner_bins() -> Vec<(String, PathBuf)> {
    match std::env::var("FLEET_BINS") {
        Ok(v) if !v.trim().is_empty() => v
            .split(',')
            .filter_map(|kv| {
                let (k, p) = kv.split_once('=')?;
                Some((k.trim().to_string(), PathBuf::from(p.trim())))
            })
            .collect(),
        _ => vec![(String::new(), scanner_bin())],
    }
}

fn main() {
    match std::env::var("FLEET_ROLE").as_deref() {
        Ok("lab") => lab_role(),
        Ok("bare") => bare_role(),
        _ => {
            // `cargo test --all-targets` runs bench binaries without `--bench`: do nothing then.
            if !std::env::args().any(|a| a == "--bench") {
                println!("fleet: a benchmark; run it with `cargo bench --bench fleet`");
                return;
            }
            let cfg = Cfg::from_env();
            if cfg.rate.is_some() {
                rate_mode(&cfg);
            } else {
                fleet_mode(&cfg);
            }
        }
    }
}

// ------------------------------------------------------------------------------------------
// Settings

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mix {
    Responsive,
    Realistic,
}

#[derive(Debug, Clone)]
struct Cfg {
    sizes: Vec<usize>,
    depths: Vec<String>,
    runs: usize,
    concurrency: usize,
    base: Ipv4Addr,
    connect_timeout: String,
    bare: bool,
    out: PathBuf,
    scan_args: Vec<String>,
    mix: Mix,
    key: String,
    ca: String,
    rate: Option<u32>,
    rate_secs: u64,
    rate_depth: String,
    rate_concurrency: usize,
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

impl Cfg {
    fn from_env() -> Cfg {
        let list = |name: &str, default: &str| -> Vec<String> {
            env_or(name, default)
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let sizes = list("FLEET_SIZES", "1000,10000,100000")
            .iter()
            .map(|s| s.replace('_', "").parse().expect("FLEET_SIZES: numbers"))
            .collect();
        let mix = match env_or("FLEET_MIX", "responsive").as_str() {
            "realistic" => Mix::Realistic,
            _ => Mix::Responsive,
        };
        Cfg {
            sizes,
            depths: list("FLEET_DEPTHS", "quick,standard"),
            runs: env_num("FLEET_RUNS", 3usize).max(1),
            concurrency: env_num("FLEET_CONCURRENCY", 1024usize).max(1),
            base: env_or("FLEET_BASE", "127.200.0.1")
                .parse()
                .expect("FLEET_BASE: an IPv4 address"),
            connect_timeout: env_or("FLEET_CONNECT_TIMEOUT", "1s"),
            bare: env_or("FLEET_BARE", "1") != "0",
            out: PathBuf::from(env_or(
                "FLEET_OUT",
                concat!(env!("CARGO_MANIFEST_DIR"), "/target/fleet-bench"),
            )),
            scan_args: env_or("FLEET_SCAN_ARGS", "")
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            mix,
            key: env_or("FLEET_KEY", "ecdsa"),
            ca: env_or("FLEET_CA", "rsa"),
            rate: std::env::var("FLEET_RATE").ok().map(|v| {
                v.trim()
                    .parse()
                    .expect("FLEET_RATE: new connections per second")
            }),
            rate_secs: env_num("FLEET_RATE_SECS", 20u64).max(1),
            rate_depth: env_or("FLEET_RATE_DEPTH", "standard"),
            rate_concurrency: env_num("FLEET_RATE_CONCURRENCY", 256usize).max(1),
        }
    }
}

/// Soft (and, when allowed, hard) RLIMIT_NOFILE to at least `n`; children inherit it.
fn raise_nofile(n: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 || lim.rlim_cur >= n {
            return;
        }
        let want = libc::rlimit {
            rlim_cur: n.max(lim.rlim_cur),
            rlim_max: n.max(lim.rlim_max),
        };
        if libc::setrlimit(libc::RLIMIT_NOFILE, &want) != 0 {
            // No CAP_SYS_RESOURCE: as far as the hard limit goes (the lab says if that is short).
            let soft = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            libc::setrlimit(libc::RLIMIT_NOFILE, &soft);
        }
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| {
            let f: Vec<&str> = s.split_whitespace().take(3).collect();
            (f.len() == 3).then(|| f.join(" "))
        })
        .unwrap_or_else(|| "?".into())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "?".into())
}

// ------------------------------------------------------------------------------------------
// Child processes and their rusage

/// What `wait4` says about a finished child.
#[derive(Debug, Clone, Copy)]
struct Usage {
    wall: Duration,
    cpu: Duration,
    max_rss_kib: u64,
    exit: i32,
}

fn tv(t: libc::timeval) -> Duration {
    Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
        + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
}

/// Reap `child` with wait4: its exact user+system CPU and peak RSS (not its siblings').
fn wait_usage(child: &Child, started: Instant) -> Usage {
    let pid = libc::pid_t::try_from(child.id()).expect("pid fits pid_t");
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it and `status`.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: pointers to live locals.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        assert_eq!(e.raw_os_error(), Some(libc::EINTR), "wait4: {e}");
    }
    let wall = started.elapsed();
    let exit = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    Usage {
        wall,
        cpu: tv(ru.ru_utime) + tv(ru.ru_stime),
        max_rss_kib: u64::try_from(ru.ru_maxrss).unwrap_or(0),
        exit,
    }
}

/// One lab child: `Lab::scale` in its own process and runtime.
struct LabProc {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    dir: PathBuf,
}

/// The simulated fleet: as many lab children as the descriptor limit calls for (one listener per
/// host; without CAP_SYS_RESOURCE the hard RLIMIT_NOFILE of each process caps its hosts).
struct Labs {
    procs: Vec<LabProc>,
    /// Every host in address order (the children's inventories, concatenated).
    inventory: Vec<InvRow>,
    /// Every child's CA, one PEM bundle (`--ca-bundle`).
    ca: PathBuf,
}

/// Hosts one lab process can serve: its hard descriptor limit, less the open connections
/// (up to two per host in flight) and slack, less the filtered hosts' queue fillers (2 % x 3).
fn hosts_per_lab(concurrency: usize) -> usize {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct passed.
    let hard = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 {
        usize::try_from(lim.rlim_max).unwrap_or(usize::MAX)
    } else {
        20_000
    };
    let room = hard.saturating_sub(2 * concurrency + 1_000);
    (room * 100 / 107).clamp(1_000, 200_000)
}

impl Labs {
    fn start(hosts: usize, base: Ipv4Addr, keys: (&str, &str), dir: &Path, per: usize) -> Labs {
        let (key, ca_key) = keys;
        let exe = std::env::current_exe().expect("own path");
        let t0 = Instant::now();
        let mut procs = Vec::new();
        let mut left = hosts;
        let mut next = u32::from(base);
        while left > 0 {
            let n = left.min(per);
            let sub = dir.join(format!("lab-{}", procs.len()));
            std::fs::create_dir_all(&sub).expect("lab dir");
            // FLEET_LAB_WRAP: a command prefix for profiling the lab (`%i` = the child's index).
            let wrap: Vec<String> = env_or("FLEET_LAB_WRAP", "")
                .split_whitespace()
                .map(|w| w.replace("%i", &procs.len().to_string()))
                .collect();
            let mut cmd = match wrap.split_first() {
                Some((first, rest)) => {
                    let mut c = Command::new(first);
                    c.args(rest).arg(&exe);
                    c
                }
                None => Command::new(&exe),
            };
            let mut child = cmd
                .env("FLEET_ROLE", "lab")
                .env("FLEET_LAB_HOSTS", n.to_string())
                .env("FLEET_LAB_BASE", Ipv4Addr::from(next).to_string())
                .env("FLEET_LAB_DIR", &sub)
                .env("FLEET_KEY", key)
                .env("FLEET_CA", ca_key)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("start a lab child");
            let stdin = child.stdin.take().expect("lab stdin");
            let stdout = BufReader::new(child.stdout.take().expect("lab stdout"));
            procs.push(LabProc {
                child,
                stdin,
                stdout,
                dir: sub,
            });
            left -= n;
            next = next
                .checked_add(u32::try_from(n).expect("hosts fit u32"))
                .expect("addresses stay in 127/8");
        }
        let mut inventory = Vec::new();
        let mut bundle = String::new();
        for p in &mut procs {
            let mut line = String::new();
            p.stdout.read_line(&mut line).expect("lab says ready");
            assert!(line.starts_with("ready"), "a lab child failed: {line:?}");
            inventory.extend(read_inventory(&p.dir.join("lab-inventory.csv")));
            bundle.push_str(&std::fs::read_to_string(p.dir.join("lab-ca.pem")).expect("lab CA"));
        }
        let ca = dir.join("lab-ca-bundle.pem");
        std::fs::write(&ca, bundle).expect("write CA bundle");
        eprintln!(
            "fleet: lab of {hosts} hosts from {base} ({key} keys, {ca_key} CA, {} processes) up in {:.1}s",
            procs.len(),
            t0.elapsed().as_secs_f64()
        );
        Labs {
            procs,
            inventory,
            ca,
        }
    }

    /// The lab processes' own CPU time so far (user + system, all threads).
    fn cpu(&mut self) -> Duration {
        for p in &mut self.procs {
            writeln!(p.stdin, "cpu").expect("ask lab");
            p.stdin.flush().expect("ask lab");
        }
        let mut sum = Duration::ZERO;
        for p in &mut self.procs {
            let mut line = String::new();
            p.stdout.read_line(&mut line).expect("lab answers");
            let us: u64 = line
                .trim()
                .strip_prefix("cpu ")
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("lab answered {line:?}"));
            sum += Duration::from_micros(us);
        }
        sum
    }

    fn stop(self) {
        for mut p in self.procs {
            drop(p.stdin);
            let _ = p.child.wait();
        }
    }
}

fn lab_role() {
    let hosts: usize = env_num("FLEET_LAB_HOSTS", 1000usize);
    let base: Ipv4Addr = env_or("FLEET_LAB_BASE", "127.200.0.1")
        .parse()
        .expect("FLEET_LAB_BASE");
    let dir = PathBuf::from(env_or("FLEET_LAB_DIR", "."));
    let keys = lab_keys();
    // One descriptor per host, the filtered hosts' fillers, and room for every open connection.
    raise_nofile(u64::try_from(hosts).unwrap_or(u64::MAX) * 11 / 10 + 4_096);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let lab = rt
        .block_on(rdpsweep::lab::Lab::scale_with_keys(hosts, base, 3389, keys))
        .unwrap_or_else(|e| panic!("lab: {e}"));
    std::fs::write(dir.join("lab-inventory.csv"), lab.inventory_csv()).expect("write inventory");
    std::fs::write(dir.join("lab-ca.pem"), &lab.ca_pem).expect("write CA");
    println!("ready");
    // The runtime's workers serve the fleet; this thread answers the parent until stdin closes.
    let stdin = std::io::stdin();
    let mut out = std::io::stdout();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        if line.trim() == "cpu" {
            // SAFETY: rusage is plain data filled by getrusage.
            let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
            // SAFETY: pointer to a live local.
            unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
            let cpu = tv(ru.ru_utime) + tv(ru.ru_stime);
            let _ = writeln!(out, "cpu {}", cpu.as_micros());
            let _ = out.flush();
        }
    }
    drop(lab);
    rt.shutdown_timeout(Duration::from_secs(1));
}

/// `FLEET_KEY` (the hosts' key) and `FLEET_CA` (the signing CA's key), as the lab takes them.
fn lab_keys() -> rdpsweep::lab::LabKeys {
    let alg = |name: &str, default: &str| -> rdpsweep::lab::KeyAlg {
        env_or(name, default)
            .parse()
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    rdpsweep::lab::LabKeys {
        ca: alg("FLEET_CA", "rsa"),
        leaf: alg("FLEET_KEY", "ecdsa"),
    }
}

// ------------------------------------------------------------------------------------------
// Inventories

#[derive(Debug, Clone)]
struct InvRow {
    host: String,
    expected: String,
}

fn read_inventory(path: &Path) -> Vec<InvRow> {
    let mut r = csv::Reader::from_path(path).expect("lab inventory");
    let headers = r.headers().expect("header").clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no {name} column"))
    };
    let (h, e) = (col("host"), col("expected"));
    r.records()
        .map(|rec| {
            let rec = rec.expect("inventory row");
            InvRow {
                host: rec.get(h).unwrap_or_default().to_string(),
                expected: rec.get(e).unwrap_or_default().to_string(),
            }
        })
        .collect()
}

fn keep(row: &InvRow, mix: Mix) -> bool {
    mix == Mix::Realistic || row.expected != "port-filtered"
}

/// The scanner's inventory: CSV (`host,port,expected`, the default) or, with
/// `FLEET_INVENTORY=list`, a plain list of addresses (one per line).
fn write_inventory(rows: &[InvRow], path: &Path) {
    if env_or("FLEET_INVENTORY", "csv") == "list" {
        let mut text = String::with_capacity(rows.len() * 16);
        for r in rows {
            text.push_str(&r.host);
            text.push('\n');
        }
        std::fs::write(path, text).expect("write inventory");
        return;
    }
    let mut w = csv::Writer::from_path(path).expect("write inventory");
    w.write_record(["host", "port", "expected"])
        .expect("header");
    for r in rows {
        w.write_record([r.host.as_str(), "3389", r.expected.as_str()])
            .expect("row");
    }
    w.flush().expect("flush inventory");
}

// ------------------------------------------------------------------------------------------
// One measured run

#[derive(Debug, Clone, Default)]
struct RunStats {
    hosts: usize,
    wall: Duration,
    cpu: Duration,
    max_rss_kib: u64,
    lab_cpu: Duration,
    connections: u64,
    p50_ms: f64,
    p99_ms: f64,
    verdicts: BTreeMap<String, u64>,
    load: String,
}

impl RunStats {
    fn hosts_per_s(&self) -> f64 {
        self.hosts as f64 / self.wall.as_secs_f64().max(1e-9)
    }
    fn cpu_us_per_host(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.hosts.max(1) as f64
    }
    fn lab_us_per_host(&self) -> f64 {
        self.lab_cpu.as_secs_f64() * 1e6 / self.hosts.max(1) as f64
    }
    fn conn_per_host(&self) -> f64 {
        self.connections as f64 / self.hosts.max(1) as f64
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted.get(idx).copied().unwrap_or(0.0)
}

/// The JSONL fields the table needs (the rest of each line is skipped).
#[derive(serde::Deserialize)]
struct JsonlRow {
    connections: u64,
    duration_ms: f64,
    verdict: String,
}

fn run_scan(cfg: &Cfg, lab: &mut Labs, inv: &Path, n: usize, tool: &str, dir: &Path) -> RunStats {
    let (depth, bin) = match tool.split_once('@') {
        Some((d, name)) => (
            d,
            scanner_bins()
                .into_iter()
                .find(|(k, _)| k == name)
                .map(|(_, p)| p)
                .unwrap_or_else(scanner_bin),
        ),
        None => (tool, scanner_bin()),
    };
    let csv = dir.join(format!("scan-{n}-{}.csv", tool.replace('@', "-")));
    let jsonl = dir.join(format!("scan-{n}-{}.jsonl", tool.replace('@', "-")));
    let load = load_average();
    let lab0 = lab.cpu();
    // FLEET_WRAP: a command prefix for profiling, e.g. `perf record -e cpu-clock -g --`.
    let wrap: Vec<String> = env_or("FLEET_WRAP", "")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let mut cmd = match wrap.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(&bin);
            c
        }
        None => Command::new(&bin),
    };
    let started = Instant::now();
    let child = cmd
        .args(["scan", "-i"])
        .arg(inv)
        .args(["--depth", depth, "--rate", "0", "--concurrency"])
        .arg(cfg.concurrency.to_string())
        .args(["--connect-timeout", &cfg.connect_timeout])
        .args([
            "--max-targets",
            "100000000",
            "--fail-on",
            "never",
            "--quiet",
        ])
        .arg("--ca-bundle")
        .arg(&lab.ca)
        .arg("--csv")
        .arg(&csv)
        .arg("--jsonl")
        .arg(&jsonl)
        .args(&cfg.scan_args)
        .stdin(Stdio::null())
        .spawn()
        .expect("start rdpsweep scan");
    let usage = wait_usage(&child, started);
    let lab_cpu = lab.cpu().saturating_sub(lab0);
    assert_eq!(usage.exit, 0, "rdpsweep scan exited {}", usage.exit);

    let f = std::fs::File::open(&jsonl).expect("scan wrote JSONL");
    let mut durations = Vec::with_capacity(n);
    let mut connections = 0u64;
    let mut verdicts = BTreeMap::new();
    for line in BufReader::new(f).lines() {
        let line = line.expect("read JSONL");
        let row: JsonlRow = serde_json::from_str(&line).expect("JSONL row");
        connections += row.connections;
        durations.push(row.duration_ms);
        *verdicts.entry(row.verdict).or_insert(0) += 1;
    }
    assert_eq!(durations.len(), n, "one JSONL row per lab host");
    durations.sort_by(f64::total_cmp);
    RunStats {
        hosts: n,
        wall: usage.wall,
        cpu: usage.cpu,
        max_rss_kib: usage.max_rss_kib,
        lab_cpu,
        connections,
        p50_ms: percentile(&durations, 0.5),
        p99_ms: percentile(&durations, 0.99),
        verdicts,
        load,
    }
}

fn run_bare(cfg: &Cfg, lab: &mut Labs, inv: &Path, n: usize) -> RunStats {
    let exe = std::env::current_exe().expect("own path");
    let load = load_average();
    let lab0 = lab.cpu();
    let started = Instant::now();
    let mut child = Command::new(exe)
        .env("FLEET_ROLE", "bare")
        .env("FLEET_BARE_INVENTORY", inv)
        .env("FLEET_CONCURRENCY", cfg.concurrency.to_string())
        .env("FLEET_CONNECT_TIMEOUT", &cfg.connect_timeout)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the bare loop");
    // The child writes one short line at its end: reading it before wait4 cannot block it.
    let mut out = String::new();
    if let Some(s) = child.stdout.as_mut() {
        let mut r = BufReader::new(s);
        let _ = r.read_line(&mut out);
    }
    let usage = wait_usage(&child, started);
    let lab_cpu = lab.cpu().saturating_sub(lab0);
    assert_eq!(usage.exit, 0, "bare loop exited {}", usage.exit);
    let field = |k: &str| -> f64 {
        out.split_whitespace()
            .find_map(|kv| kv.strip_prefix(k).and_then(|v| v.strip_prefix('=')))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    let mut verdicts = BTreeMap::new();
    for k in ["tls", "cc", "refused", "timeout", "error"] {
        verdicts.insert(k.to_string(), field(k) as u64);
    }
    RunStats {
        hosts: n,
        wall: usage.wall,
        cpu: usage.cpu,
        max_rss_kib: usage.max_rss_kib,
        lab_cpu,
        connections: field("connections") as u64,
        p50_ms: field("p50"),
        p99_ms: field("p99"),
        verdicts,
        load,
    }
}

// ------------------------------------------------------------------------------------------
// The bare loop (child)

fn parse_duration(s: &str) -> Duration {
    rdpsweep::cli::parse_duration(s).unwrap_or_else(|e| panic!("{e}"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bare {
    Tls,
    Cc,
    Refused,
    Timeout,
    Error,
}

async fn bare_host(
    addr: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
    connect_timeout: Duration,
) -> Bare {
    use rdpsweep::rdp::x224::{Confirm, connection_request, parse_confirm};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let phase = Duration::from_secs(5);
    let mut s = match tokio::time::timeout(connect_timeout, tokio::net::TcpStream::connect(addr))
        .await
    {
        Err(_) => return Bare::Timeout,
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => return Bare::Refused,
        Ok(Err(_)) => return Bare::Error,
        Ok(Ok(s)) => s,
    };
    let _ = s.set_nodelay(true);
    let cr = connection_request(0x0B, None);
    let cc = tokio::time::timeout(phase, async {
        s.write_all(&cr).await?;
        let mut buf = Vec::with_capacity(64);
        let mut chunk = [0u8; 256];
        loop {
            if let rdpsweep::rdp::Parse::Done(c) = parse_confirm(&buf) {
                return Ok::<_, std::io::Error>(Some(c));
            }
            if buf.len() > 4096 {
                return Ok(None);
            }
            let k = s.read(&mut chunk).await?;
            if k == 0 {
                return Ok(None);
            }
            buf.extend_from_slice(chunk.get(..k).unwrap_or_default());
        }
    })
    .await;
    let protocol = match cc {
        Ok(Ok(Some(Confirm::Selected { protocol, .. }))) => protocol,
        Ok(Ok(Some(_))) => return Bare::Cc,
        _ => return Bare::Error,
    };
    if protocol & 0x0B == 0 {
        return Bare::Cc;
    }
    let name = rustls::pki_types::ServerName::IpAddress(addr.ip().into());
    let connector = tokio_rustls::TlsConnector::from(tls);
    match tokio::time::timeout(phase, connector.connect(name, s)).await {
        Ok(Ok(_tls)) => Bare::Tls,
        // The TLS 1.0-only hosts: rustls refuses them, as it does in the scanner.
        _ => Bare::Cc,
    }
}

fn bare_role() {
    let inv = PathBuf::from(env_or("FLEET_BARE_INVENTORY", "inventory.csv"));
    let concurrency = env_num("FLEET_CONCURRENCY", 1024usize).max(1);
    let connect_timeout = parse_duration(&env_or("FLEET_CONNECT_TIMEOUT", "1s"));
    // Either inventory format: the first field of every line that is an address.
    let addrs: Vec<SocketAddr> = std::fs::read_to_string(&inv)
        .expect("read the inventory")
        .lines()
        .filter_map(|l| l.split(',').next()?.trim().parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 3389))
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (counts, mut times) = rt.block_on(async move {
        // Same shape as the engine: a permit per host in flight, one task per host.
        let tls = rdpsweep::tls::danger::TlsConfigs::new().any;
        let permits = Arc::new(tokio::sync::Semaphore::new(concurrency));
        let mut set = tokio::task::JoinSet::new();
        let mut counts = BTreeMap::<&'static str, u64>::new();
        let mut times = Vec::with_capacity(addrs.len());
        let mut tally = |r: (Bare, f64), counts: &mut BTreeMap<&'static str, u64>| {
            let k = match r.0 {
                Bare::Tls => "tls",
                Bare::Cc => "cc",
                Bare::Refused => "refused",
                Bare::Timeout => "timeout",
                Bare::Error => "error",
            };
            *counts.entry(k).or_insert(0) += 1;
            times.push(r.1);
        };
        for addr in addrs {
            let permit = permits.clone().acquire_owned().await.expect("semaphore");
            let tls = tls.clone();
            set.spawn(async move {
                let t0 = Instant::now();
                let r = bare_host(addr, tls, connect_timeout).await;
                drop(permit);
                (r, t0.elapsed().as_secs_f64() * 1000.0)
            });
            while let Some(done) = set.try_join_next() {
                tally(done.expect("bare task"), &mut counts);
            }
        }
        while let Some(done) = set.join_next().await {
            tally(done.expect("bare task"), &mut counts);
        }
        (counts, times)
    });
    times.sort_by(f64::total_cmp);
    // One connection attempt per host, refused and timed-out ones included (as the scanner counts).
    let connections: u64 = counts.values().sum();
    let mut line = format!(
        "connections={connections} p50={:.3} p99={:.3}",
        percentile(&times, 0.5),
        percentile(&times, 0.99)
    );
    for (k, v) in &counts {
        line.push_str(&format!(" {k}={v}"));
    }
    println!("{line}");
}

// ------------------------------------------------------------------------------------------
// Fleet mode: the table

fn fleet_mode(cfg: &Cfg) {
    let max = cfg.sizes.iter().copied().max().unwrap_or(1000);
    // Enough lab hosts that the largest size still has `max` after the mix filter (2 % filtered).
    let lab_hosts = max + max / 40 + 16;
    std::fs::create_dir_all(&cfg.out).expect("create FLEET_OUT");
    println!(
        "fleet: {} x {} (nproc {}), load {}; sizes {:?}, depths {:?}, concurrency {}, runs {}, mix {:?}, key {}, CA {}, connect timeout {}",
        cpu_model(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average(),
        cfg.sizes,
        cfg.depths,
        cfg.concurrency,
        cfg.runs,
        cfg.mix,
        cfg.key,
        cfg.ca,
        cfg.connect_timeout
    );
    let per = env_num(
        "FLEET_LAB_HOSTS_PER_PROCESS",
        hosts_per_lab(cfg.concurrency),
    );
    let mut lab = Labs::start(lab_hosts, cfg.base, (&cfg.key, &cfg.ca), &cfg.out, per);
    let all: Vec<InvRow> = lab
        .inventory
        .iter()
        .filter(|r| keep(r, cfg.mix))
        .cloned()
        .collect();

    // Warm-up: the lab makes each host's certificate on its first TLS connection.
    let warm_inv = cfg.out.join("inv-warm.csv");
    write_inventory(all.get(..max.min(all.len())).unwrap_or(&all), &warm_inv);
    let warm = run_bare(cfg, &mut lab, &warm_inv, max.min(all.len()));
    println!(
        "fleet: warm-up (bare loop, lab certificates made on first use) over {} hosts: {:.0} hosts/s, lab CPU {:.0} us/host",
        warm.hosts,
        warm.hosts_per_s(),
        warm.lab_us_per_host()
    );

    let mut results: BTreeMap<(usize, String), Vec<RunStats>> = BTreeMap::new();
    for run in 1..=cfg.runs {
        for &n in &cfg.sizes {
            let rows = all.get(..n.min(all.len())).unwrap_or(&all);
            let n = rows.len();
            let inv = cfg.out.join(format!("inv-{n}.csv"));
            write_inventory(rows, &inv);
            let mut tools: Vec<String> = Vec::new();
            if cfg.bare {
                tools.push("bare".into());
            }
            let bins = scanner_bins();
            for d in &cfg.depths {
                for (name, _) in &bins {
                    tools.push(if name.is_empty() {
                        d.clone()
                    } else {
                        format!("{d}@{name}")
                    });
                }
            }
            for tool in tools {
                let st = if tool == "bare" {
                    run_bare(cfg, &mut lab, &inv, n)
                } else {
                    run_scan(cfg, &mut lab, &inv, n, &tool, &cfg.out)
                };
                eprintln!(
                    "fleet: run {run} {n:>6} {tool:<8} {:>7.0} hosts/s  {:>6.0} us CPU/host  RSS {:>5.1} MiB  lab {:>4.0} us/host  (load {})",
                    st.hosts_per_s(),
                    st.cpu_us_per_host(),
                    st.max_rss_kib as f64 / 1024.0,
                    st.lab_us_per_host(),
                    st.load
                );
                results.entry((n, tool)).or_default().push(st);
            }
        }
    }
    lab.stop();
    print_table(cfg, &results);
}

fn print_table(cfg: &Cfg, results: &BTreeMap<(usize, String), Vec<RunStats>>) {
    println!();
    println!(
        "| hosts | tool | hosts/s best [min-max] | % of bare | conn/host | p50 / p99 ms | peak RSS MiB | CPU s / 1k hosts (best) | lab CPU s / 1k hosts | load at start |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for ((n, tool), runs) in results {
        let best = runs
            .iter()
            .max_by(|a, b| a.hosts_per_s().total_cmp(&b.hosts_per_s()))
            .expect("at least one run");
        let lo = runs
            .iter()
            .map(RunStats::hosts_per_s)
            .fold(f64::MAX, f64::min);
        let hi = runs.iter().map(RunStats::hosts_per_s).fold(0.0, f64::max);
        let cpu = runs
            .iter()
            .map(RunStats::cpu_us_per_host)
            .fold(f64::MAX, f64::min);
        let rss = runs.iter().map(|r| r.max_rss_kib).max().unwrap_or(0);
        let lab = runs
            .iter()
            .map(RunStats::lab_us_per_host)
            .fold(f64::MAX, f64::min);
        let vs_bare = results
            .get(&(*n, "bare".to_string()))
            .and_then(|b| b.iter().map(RunStats::hosts_per_s).reduce(f64::max))
            .map(|b| format!("{:.0} %", 100.0 * hi / b.max(1e-9)))
            .unwrap_or_else(|| "-".into());
        println!(
            "| {n} | {tool} | {:.0} [{lo:.0}-{hi:.0}] | {vs_bare} | {:.2} | {:.1} / {:.1} | {:.1} | {:.3} | {:.3} | {} |",
            best.hosts_per_s(),
            best.conn_per_host(),
            best.p50_ms,
            best.p99_ms,
            rss as f64 / 1024.0,
            cpu / 1000.0,
            lab / 1000.0,
            best.load
        );
    }
    println!();
    for ((n, tool), runs) in results {
        if let Some(r) = runs.first() {
            let v: Vec<String> = r.verdicts.iter().map(|(k, c)| format!("{k} {c}")).collect();
            println!("outcomes {n} {tool}: {}", v.join(", "));
        }
    }
    println!(
        "\n(hosts/s = hosts / wall time of the whole process, start-up included; CPU = user+system of the \
         scanner or bare-loop process from wait4; lab CPU = the lab process over the same run; mix {:?})",
        cfg.mix
    );
}

// ------------------------------------------------------------------------------------------
// Rate honesty

fn rate_mode(cfg: &Cfg) {
    let rate = cfg.rate.unwrap_or(500);
    let secs = cfg.rate_secs;
    // Hosts enough that the scanner is still busy when it is interrupted (about two connections
    // per host at standard depth), within what one process's descriptors allow.
    let per_host = if cfg.rate_depth == "quick" { 1 } else { 2 };
    let wanted =
        usize::try_from(u64::from(rate) * secs * 11 / 10 / per_host + 1_000).unwrap_or(usize::MAX);
    let hosts = wanted.min(hosts_per_lab(cfg.rate_concurrency));
    raise_nofile(u64::try_from(hosts).unwrap_or(u64::MAX) * 11 / 10 + 4_096);
    std::fs::create_dir_all(&cfg.out).expect("create FLEET_OUT");
    let base: Ipv4Addr = env_or("FLEET_RATE_BASE", "127.210.0.1")
        .parse()
        .expect("FLEET_RATE_BASE");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let lab = rt
        .block_on(rdpsweep::lab::Lab::scale_with_keys(
            hosts,
            base,
            3389,
            lab_keys(),
        ))
        .expect("lab starts");
    // Only hosts that accept: closed and filtered ports use the quota but never reach accept().
    let inv = cfg.out.join("inv-rate.csv");
    let ca = cfg.out.join("lab-ca-rate.pem");
    std::fs::write(&ca, &lab.ca_pem).expect("write CA");
    let rows: Vec<InvRow> = lab
        .hosts
        .iter()
        .filter(|h| {
            !matches!(
                h.behavior,
                rdpsweep::lab::Behavior::Closed | rdpsweep::lab::Behavior::Filtered
            )
        })
        .map(|h| InvRow {
            host: h.addr.to_string(),
            expected: h.behavior.expected().to_string(),
        })
        .collect();
    write_inventory(&rows, &inv);
    println!(
        "fleet rate: --rate {rate} for {secs} s, depth {}, concurrency {}, {} accepting lab hosts; load {}",
        cfg.rate_depth,
        cfg.rate_concurrency,
        rows.len(),
        load_average()
    );
    let syn_capture = SynCapture::start(3389);
    let mut child = Command::new(scanner_bin())
        .args(["scan", "-i"])
        .arg(&inv)
        .args(["--rate", &rate.to_string(), "--depth", &cfg.rate_depth])
        .args(["--concurrency", &cfg.rate_concurrency.to_string()])
        .args([
            "--max-targets",
            "100000000",
            "--fail-on",
            "never",
            "--quiet",
        ])
        .arg("--ca-bundle")
        .arg(&ca)
        .arg("--jsonl")
        .arg(cfg.out.join("rate.jsonl"))
        .args(&cfg.scan_args)
        .stdin(Stdio::null())
        .spawn()
        .expect("start rdpsweep scan");

    // Collect accept timestamps from the lab's ring (8192 deep) often enough to miss none.
    let mut accepts: Vec<Instant> = Vec::new();
    let mut last: Option<Instant> = None;
    let mut first: Option<Instant> = None;
    let mut interrupted = false;
    loop {
        std::thread::sleep(Duration::from_millis(250));
        let snap = lab.stats().accepts;
        for (_, t) in snap {
            if last.is_none_or(|l| t > l) {
                accepts.push(t);
                last = Some(t);
            }
        }
        if first.is_none() {
            first = accepts.first().copied();
        }
        if let Some(f) = first
            && !interrupted
            && f.elapsed() >= Duration::from_secs(secs) + Duration::from_millis(500)
        {
            // SAFETY: signalling our own child by pid.
            unsafe { libc::kill(libc::pid_t::try_from(child.id()).unwrap_or(0), libc::SIGINT) };
            interrupted = true;
        }
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
    }
    let snap = lab.stats().accepts;
    for (_, t) in snap {
        if last.is_none_or(|l| t > l) {
            accepts.push(t);
            last = Some(t);
        }
    }
    let _ = child.wait();
    drop(lab);
    rt.shutdown_timeout(Duration::from_secs(1));

    let syns = syn_capture.map(SynCapture::finish).unwrap_or_default();

    let Some(t0) = accepts.first().copied() else {
        println!("fleet rate: no accepts seen");
        return;
    };
    let burst = (rate / 100).max(1);
    println!(
        "| measured at | asked /s | window s | connections | achieved /s | deviation | max in any 100 ms (allowed = rate x 0.1 + burst {burst}) | max in any 1 s | first 100 ms |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let rel: Vec<Duration> = accepts.iter().map(|t| t.duration_since(t0)).collect();
    rate_row("lab accept()", &rel, rate, secs);
    if let Some(&s0) = syns.first() {
        let rel: Vec<Duration> = syns
            .iter()
            .map(|t| Duration::from_nanos(u64::try_from(t - s0).unwrap_or(0)))
            .collect();
        rate_row("SYN on lo (kernel timestamp)", &rel, rate, secs);
    }
    println!(
        "(accept() times carry the lab's own scheduling delay, several ms when it is busy; the SYN capture's kernel timestamps do not)"
    );
}

/// One row of the rate table from connection times relative to the first.
fn rate_row(what: &str, times: &[Duration], rate: u32, secs: u64) {
    // A scan that ran out of hosts early is measured over the time it really ran.
    let span = times.last().copied().unwrap_or_default();
    let window = Duration::from_secs(secs).min(span.max(Duration::from_millis(1)));
    if window < Duration::from_secs(secs) {
        println!(
            "fleet rate: the scan ran out of hosts after {:.1} s: measured over that",
            window.as_secs_f64()
        );
    }
    let inside: Vec<Duration> = times.iter().copied().filter(|d| *d < window).collect();
    let achieved = inside.len() as f64 / window.as_secs_f64();
    let burst = (rate / 100).max(1);
    let allowed_100ms = f64::from(rate) * 0.1 + f64::from(burst);
    let max_in = |w: Duration| -> usize {
        let mut best = 0;
        let mut j = 0;
        for (i, start) in inside.iter().enumerate() {
            while inside.get(j).is_some_and(|d| *d < *start + w) {
                j += 1;
            }
            best = best.max(j - i);
        }
        best
    };
    let first_100ms = inside
        .iter()
        .filter(|d| **d < Duration::from_millis(100))
        .count();
    println!(
        "| {what} | {rate} | {:.1} | {} | {achieved:.1} | {:+.2} % | {} (allowed {allowed_100ms:.0}) | {} | {first_100ms} |",
        window.as_secs_f64(),
        inside.len(),
        100.0 * (achieved - f64::from(rate)) / f64::from(rate),
        max_in(Duration::from_millis(100)),
        max_in(Duration::from_secs(1)),
    );
}

/// Every SYN to `port` arriving on the loopback interface, with the kernel's receive timestamp:
/// an AF_PACKET socket (root) on `lo`. Timestamps are taken where the packet enters the stack,
/// so the lab's own scheduling delays do not blur them.
struct SynCapture {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<Vec<i128>>,
}

impl SynCapture {
    fn start(port: u16) -> Option<SynCapture> {
        let proto = (libc::ETH_P_IP as u16).to_be();
        // SAFETY: plain socket calls on a descriptor this function owns; every pointer passed is
        // to a live local of the size given.
        let fd = unsafe {
            let fd = libc::socket(libc::AF_PACKET, libc::SOCK_RAW, i32::from(proto));
            if fd < 0 {
                eprintln!(
                    "fleet rate: no SYN capture (AF_PACKET needs root): {}",
                    std::io::Error::last_os_error()
                );
                return None;
            }
            let mut sll: libc::sockaddr_ll = std::mem::zeroed();
            sll.sll_family = libc::AF_PACKET as u16;
            sll.sll_protocol = proto;
            sll.sll_ifindex = libc::if_nametoindex(c"lo".as_ptr()) as i32;
            let on: libc::c_int = 1;
            let rcvbuf: libc::c_int = 64 << 20;
            let tv = libc::timeval {
                tv_sec: 0,
                tv_usec: 200_000,
            };
            let int = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
            if libc::bind(
                fd,
                (&raw const sll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            ) != 0
                || libc::setsockopt(
                    fd,
                    libc::SOL_SOCKET,
                    libc::SO_TIMESTAMPNS,
                    (&raw const on).cast(),
                    int,
                ) != 0
            {
                eprintln!(
                    "fleet rate: no SYN capture: {}",
                    std::io::Error::last_os_error()
                );
                libc::close(fd);
                return None;
            }
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVBUFFORCE,
                (&raw const rcvbuf).cast(),
                int,
            );
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&raw const tv).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            );
            fd
        };
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut out = Vec::new();
            let mut pkt = [0u8; 128];
            let mut ctl = [0u64; 16];
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                // SAFETY: recvmsg into local buffers of the sizes given; fd stays open until the
                // loop ends.
                let (n, from, stamp) = unsafe {
                    let mut from: libc::sockaddr_ll = std::mem::zeroed();
                    let mut iov = libc::iovec {
                        iov_base: pkt.as_mut_ptr().cast(),
                        iov_len: pkt.len(),
                    };
                    let mut msg: libc::msghdr = std::mem::zeroed();
                    msg.msg_name = (&raw mut from).cast();
                    msg.msg_namelen = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
                    msg.msg_iov = &raw mut iov;
                    msg.msg_iovlen = 1;
                    msg.msg_control = ctl.as_mut_ptr().cast();
                    msg.msg_controllen = std::mem::size_of_val(&ctl);
                    let n = libc::recvmsg(fd, &raw mut msg, 0);
                    let mut stamp = None;
                    let mut c = libc::CMSG_FIRSTHDR(&raw const msg);
                    while !c.is_null() {
                        if (*c).cmsg_level == libc::SOL_SOCKET
                            && (*c).cmsg_type == libc::SO_TIMESTAMPNS
                        {
                            let ts: libc::timespec =
                                std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                            stamp = Some(
                                i128::from(ts.tv_sec) * 1_000_000_000 + i128::from(ts.tv_nsec),
                            );
                        }
                        c = libc::CMSG_NXTHDR(&raw const msg, c);
                    }
                    (n, from, stamp)
                };
                let Ok(n) = usize::try_from(n) else { continue };
                // Loopback shows each packet twice (out and in): keep the incoming copy.
                if from.sll_pkttype != libc::PACKET_HOST {
                    continue;
                }
                if let (Some(t), Some(p)) = (stamp, pkt.get(..n))
                    && is_syn_to(p, port)
                {
                    out.push(t);
                }
            }
            // SAFETY: the descriptor is ours and no longer used.
            unsafe { libc::close(fd) };
            out
        });
        Some(SynCapture { stop, thread })
    }

    fn finish(self) -> Vec<i128> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut v = self.thread.join().unwrap_or_default();
        v.sort_unstable();
        v
    }
}

/// An Ethernet-framed (lo) IPv4 TCP segment with SYN set, ACK clear, to `port`.
fn is_syn_to(p: &[u8], port: u16) -> bool {
    let Some(ip) = p.get(14..) else { return false };
    if p.get(12..14) != Some(&[0x08, 0x00]) || ip.get(9) != Some(&6) {
        return false;
    }
    let ihl = usize::from(ip.first().copied().unwrap_or(0) & 0x0F) * 4;
    let Some(tcp) = ip.get(ihl..) else {
        return false;
    };
    let dport = tcp.get(2..4).map(|b| u16::from_be_bytes([b[0], b[1]]));
    dport == Some(port) && tcp.get(13).is_some_and(|f| f & 0x12 == 0x02)
}
