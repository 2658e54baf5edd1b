//! The hostile-server suite: the real binary scans lab hosts that misbehave on purpose (endless
//! bytes, trickles, garbage after a valid CC, silence, resets at every phase, a 100 KiB
//! certificate, malformed DER, NTLM offsets past the end, half-open FIN). Every one must give
//! its finding within `--host-deadline`, in bounded memory (the scanner child's peak RSS, from
//! `wait4`'s rusage), without a panic; and a 1,000-host fleet of nothing but hostile hosts must
//! finish within the deadline plus slack.
//!
//! Zero-length and overlapping GCC blocks are tested on the MCS parser directly: the lab does not
//! answer an MCS Connect-Initial with hostile blocks (its deep-probe server side is well-behaved).
//!
//! Each test has its own 127.88.N.0/24 block; loopback only.

use std::fs::File;
use std::net::Ipv4Addr;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rdpsweep::lab::{
    Behavior, CertKind, Hostile, Lab, LabConfig, NlaMode, RdpHost, RdpPolicy, TlsMode,
};
use rdpsweep::model::{FindingCode, HostReport};
use rdpsweep::rdp::mcs::{self, McsReply};
use rdpsweep::rdp::{Parse, x224};

const BIN: &str = env!("CARGO_BIN_EXE_rdpsweep");

/// Per-phase timeout and host deadline the suite scans with.
const TIMEOUT_S: u64 = 2;
const DEADLINE_S: u64 = 8;
/// Process start, trust store, DNS-free setup and output: generous for a loaded 2-core machine.
const SLACK: Duration = Duration::from_secs(6);
/// Peak RSS a one-host scan may reach, whatever the host sends (the baseline is ~20-30 MiB).
const MAX_RSS_KIB: i64 = 128 * 1024;

struct Measured {
    code: Option<i32>,
    stderr: String,
    elapsed: Duration,
    max_rss_kib: i64,
}

/// Run the scanner, reap it with `wait4` for its peak RSS, kill it if it outlives `limit`.
///
/// Linux carries `ru_maxrss` across `execve`, so the figure also covers this test process's
/// memory at spawn time: an upper bound on the scanner's own peak, never an under-estimate.
fn run_measured(args: &[String], dir: &Path, limit: Duration) -> Measured {
    run_measured_cmd(Command::new(BIN), args, dir, limit)
}

#[allow(clippy::zombie_processes)] // reaped by wait4 below, which std's Child cannot see
fn run_measured_cmd(mut cmd: Command, args: &[String], dir: &Path, limit: Duration) -> Measured {
    let err_path = dir.join("stderr.txt");
    // The scanner reports its own VmHWM (its address space only) at exit; ru_maxrss below is the
    // fallback, which also counts this test process's memory at spawn time.
    cmd.env("RDPSWEEP_REPORT_PEAK_RSS", "1");
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(File::create(dir.join("stdout.txt")).expect("stdout file"))
        .stderr(File::create(&err_path).expect("stderr file"));
    let t0 = Instant::now();
    let child = cmd.spawn().expect("spawn rdpsweep");
    let pid = i32::try_from(child.id()).expect("pid");
    let done = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let done = done.clone();
        std::thread::spawn(move || {
            while t0.elapsed() < limit {
                if done.load(Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            if !done.load(Ordering::SeqCst) {
                // SAFETY: plain kill(2) on our own child, which has not been reaped yet.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        })
    };
    let mut status = 0i32;
    // SAFETY: rusage is plain old data; wait4 fills it for our own child.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: waits for our child only; both out-pointers are valid for the call.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        assert_eq!(e.kind(), std::io::ErrorKind::Interrupted, "wait4: {e}");
    }
    done.store(true, Ordering::SeqCst);
    let _ = watchdog.join();
    let elapsed = t0.elapsed();
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    let own_peak = stderr
        .lines()
        .find_map(|l| l.strip_prefix("rdpsweep: peak RSS "))
        .and_then(|v| v.trim_end_matches(" kB").trim().parse::<i64>().ok());
    Measured {
        code,
        elapsed,
        max_rss_kib: own_peak.unwrap_or(ru.ru_maxrss),
        stderr,
    }
}

/// One scan at a time: each test measures time and memory, and the machine has two cores.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn scan_args(targets: &[String], dir: &Path, extra: &[&str]) -> Vec<String> {
    scan_args_with(
        targets,
        dir,
        &format!("{TIMEOUT_S}s"),
        &format!("{DEADLINE_S}s"),
        extra,
    )
}

fn scan_args_with(
    targets: &[String],
    dir: &Path,
    timeout: &str,
    deadline: &str,
    extra: &[&str],
) -> Vec<String> {
    let mut a: Vec<String> = vec!["scan".into()];
    a.extend(targets.iter().cloned());
    for s in [
        "--rate",
        "0",
        "--connect-timeout",
        "1s",
        "--timeout",
        timeout,
        "--host-deadline",
        deadline,
        "--host-spacing",
        "10ms",
        "--fail-on",
        "never",
        "-q",
        "--jsonl",
        dir.join("out.jsonl").to_str().expect("utf-8 path"),
        "--csv",
        dir.join("out.csv").to_str().expect("utf-8 path"),
    ] {
        a.push(s.to_string());
    }
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn lab_cfg(n: u8) -> LabConfig {
    LabConfig {
        base: Ipv4Addr::new(127, 88, n, 1),
        port: 3389,
        dns: false,
    }
}

fn nla() -> RdpHost {
    RdpHost::new(RdpPolicy::WindowsNla)
}

/// Scan one host of `behavior` and check: exit 0 (--fail-on never), the planted verdict (when
/// given), within the deadline, bounded memory, no panic. Returns the report.
async fn scan_one(n: u8, behavior: Behavior, expected: Option<&str>) -> HostReport {
    let _serial = SERIAL.lock().await;
    let lab = Lab::start(lab_cfg(n), vec![(None, behavior.clone(), "hostile")])
        .await
        .expect("lab starts");
    let addr = lab.hosts[0].addr.to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let args = scan_args(std::slice::from_ref(&addr), dir.path(), &[]);
    let path = dir.path().to_path_buf();
    let limit = Duration::from_secs(DEADLINE_S) + SLACK * 4;
    let m = tokio::task::spawn_blocking(move || run_measured(&args, &path, limit))
        .await
        .expect("join");
    lab.shutdown().await;

    let what = format!("{behavior:?} at {addr}");
    assert!(
        !m.stderr.contains("panicked"),
        "{what}: panic: {}",
        m.stderr
    );
    assert_eq!(m.code, Some(0), "{what}: exit code; stderr: {}", m.stderr);
    assert!(
        m.elapsed <= Duration::from_secs(DEADLINE_S) + SLACK,
        "{what}: took {:?}, deadline {DEADLINE_S}s",
        m.elapsed
    );
    assert!(
        m.max_rss_kib < MAX_RSS_KIB,
        "{what}: peak RSS {} KiB",
        m.max_rss_kib
    );
    let reports =
        rdpsweep::report::jsonl::read_reports(&dir.path().join("out.jsonl")).expect("jsonl");
    assert_eq!(reports.len(), 1, "{what}: one row");
    let r = reports.into_iter().next().expect("row");
    if let Some(e) = expected {
        assert_eq!(
            r.verdict.as_str(),
            e,
            "{what}: findings {:?}",
            r.findings.iter().map(|f| &f.code).collect::<Vec<_>>()
        );
    }
    // The per-address record respects the deadline too.
    assert!(
        r.record.duration_ms <= (DEADLINE_S * 1000 + 500) as f64,
        "{what}: record took {} ms",
        r.record.duration_ms
    );
    eprintln!(
        "{what}: verdict {} in {:?}, peak RSS {} KiB",
        r.verdict, m.elapsed, m.max_rss_kib
    );
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_bytes_after_the_request() {
    let r = scan_one(1, Behavior::Hostile(Hostile::EndlessBytes), Some("not-rdp")).await;
    // Only the few bytes the parser asked for were read, and they are shown.
    let rdp = r.record.rdp.expect("rdp phase");
    assert!(!rdp.attempts.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tpkt_ffff_then_one_byte_every_2s() {
    scan_one(
        2,
        Behavior::Hostile(Hostile::TpktTrickle),
        Some("rdp-no-reply"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_cc_selecting_ssl_then_garbage() {
    scan_one(
        3,
        Behavior::Hostile(Hostile::CcThenGarbage),
        Some("tls-handshake-failed"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_cc_then_silence() {
    scan_one(
        4,
        Behavior::Rdp(nla().tls(TlsMode::Stall)),
        Some("tls-stalled"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_record_of_16k_then_a_trickle() {
    scan_one(
        5,
        Behavior::Hostile(Hostile::TlsRecordTrickle),
        Some("tls-stalled"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_of_100_kib() {
    scan_one(
        6,
        Behavior::Rdp(nla().cert(CertKind::Huge)),
        Some("tls-handshake-failed"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_der_tsrequest() {
    let r = scan_one(
        7,
        Behavior::Rdp(nla().nla(NlaMode::MalformedReply)),
        Some("credssp-failed"),
    )
    .await;
    assert!(r.record.credssp.is_some(), "CredSSP phase recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn challenge_offsets_past_the_end() {
    let r = scan_one(
        8,
        Behavior::Rdp(nla().nla(NlaMode::BadOffsets)),
        Some("credssp-failed"),
    )
    .await;
    let c = r.record.credssp.expect("credssp phase");
    assert!(c.ntlm.is_none(), "no NTLM facts from a broken CHALLENGE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_at_every_phase() {
    // (behaviour, verdict): at accept, after the CR, at the ClientHello, after the TSRequest.
    let cases = [
        (Behavior::ResetOnAccept, "rdp-reset"),
        (Behavior::RdpReset, "rdp-reset"),
        (
            Behavior::Rdp(nla().tls(TlsMode::ResetAfterHello)),
            "tls-reset-after-hello",
        ),
        (
            Behavior::Rdp(nla().nla(NlaMode::ResetAfterRequest)),
            "credssp-failed",
        ),
        (Behavior::AcceptClose, "rdp-reset"),
    ];
    for (i, (b, v)) in cases.into_iter().enumerate() {
        scan_one(20 + u8::try_from(i).expect("few"), b, Some(v)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_fin_after_the_request() {
    scan_one(
        9,
        Behavior::Hostile(Hostile::HalfOpenFin),
        Some("rdp-reset"),
    )
    .await;
}

/// A deadline shorter than one phase timeout still bounds the host: the trickle would hold a
/// phase for `--timeout`, the host deadline cuts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_deadline_cuts_a_trickle_short() {
    let _serial = SERIAL.lock().await;
    let lab = Lab::start(
        lab_cfg(10),
        vec![(None, Behavior::Hostile(Hostile::TpktTrickle), "trickle")],
    )
    .await
    .expect("lab");
    let addr = lab.hosts[0].addr.to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    // A 20 s phase timeout under a 3 s host deadline, with retries that must not extend it.
    let args = scan_args_with(&[addr], dir.path(), "20s", "3s", &["--retries", "3"]);
    let path = dir.path().to_path_buf();
    let m =
        tokio::task::spawn_blocking(move || run_measured(&args, &path, Duration::from_secs(60)))
            .await
            .expect("join");
    lab.shutdown().await;
    assert_eq!(m.code, Some(0), "{}", m.stderr);
    assert!(
        m.elapsed < Duration::from_secs(3) + SLACK,
        "took {:?} with a 3 s host deadline",
        m.elapsed
    );
    let reports =
        rdpsweep::report::jsonl::read_reports(&dir.path().join("out.jsonl")).expect("jsonl");
    assert_eq!(reports[0].verdict.as_str(), "rdp-no-reply");
    assert!(reports[0].record.deadline_hit);
}

/// Every hostile kind, cycled over 1,000 hosts, scanned at once: the scan as a whole finishes
/// within one host deadline plus slack, every host gets its planted verdict, memory stays
/// bounded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_hostile_hosts() {
    let _serial = SERIAL.lock().await;
    let kinds: Vec<Behavior> = vec![
        Behavior::Hostile(Hostile::EndlessBytes),
        Behavior::Hostile(Hostile::TpktTrickle),
        Behavior::Hostile(Hostile::CcThenGarbage),
        Behavior::Hostile(Hostile::TlsRecordTrickle),
        Behavior::Hostile(Hostile::HalfOpenFin),
        Behavior::Rdp(nla().cert(CertKind::Huge)),
        Behavior::Rdp(nla().nla(NlaMode::MalformedReply)),
        Behavior::Rdp(nla().nla(NlaMode::BadOffsets)),
        Behavior::Rdp(nla().tls(TlsMode::Stall)),
        Behavior::Rdp(nla().tls(TlsMode::ResetAfterHello)),
        Behavior::Rdp(nla().nla(NlaMode::ResetAfterRequest)),
        Behavior::ResetOnAccept,
        Behavior::RdpReset,
        Behavior::Tarpit,
        Behavior::Garbage,
    ];
    let hosts: Vec<(Option<&str>, Behavior, &'static str)> = (0..1000)
        .map(|i| (None, kinds[i % kinds.len()].clone(), "hostile"))
        .collect();
    let lab = Lab::start(
        LabConfig {
            base: Ipv4Addr::new(127, 89, 0, 1),
            port: 3389,
            dns: false,
        },
        hosts,
    )
    .await
    .expect("lab of 1000 hostile hosts");
    let dir = tempfile::tempdir().expect("tempdir");
    let inv = dir.path().join("inv.csv");
    std::fs::write(&inv, lab.inventory_csv()).expect("inventory");
    let args = scan_args(
        &[],
        dir.path(),
        &[
            "-i",
            inv.to_str().expect("utf-8"),
            "--concurrency",
            "1000",
            "--retries",
            "0",
        ],
    );
    let path = dir.path().to_path_buf();
    let m =
        tokio::task::spawn_blocking(move || run_measured(&args, &path, Duration::from_secs(180)))
            .await
            .expect("join");
    let expected: std::collections::HashMap<String, FindingCode> = lab
        .hosts
        .iter()
        .map(|h| (h.addr.to_string(), h.behavior.expected()))
        .collect();
    lab.shutdown().await;

    assert!(!m.stderr.contains("panicked"), "panic: {}", m.stderr);
    assert_eq!(m.code, Some(0), "stderr: {}", m.stderr);
    // All hosts are in flight at once, so the whole scan is one deadline; the slack covers
    // 1,000 TLS handshakes on two shared cores.
    let bound = Duration::from_secs(DEADLINE_S) + Duration::from_secs(30);
    assert!(
        m.elapsed <= bound,
        "1,000 hostile hosts took {:?}",
        m.elapsed
    );
    assert!(
        m.max_rss_kib < 512 * 1024,
        "peak RSS {} KiB for 1,000 hostile hosts",
        m.max_rss_kib
    );
    let reports =
        rdpsweep::report::jsonl::read_reports(&dir.path().join("out.jsonl")).expect("jsonl");
    assert_eq!(reports.len(), 1000);
    let mut wrong = Vec::new();
    for r in &reports {
        let addr = r.record.target.host.clone();
        let want = expected.get(&addr).copied();
        if Some(r.verdict) != want {
            wrong.push(format!("{addr}: expected {want:?}, got {}", r.verdict));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong verdicts, e.g.:\n{}",
        wrong.len(),
        wrong[..wrong.len().min(20)].join("\n")
    );
    eprintln!(
        "1,000 hostile hosts in {:?}, peak RSS {} KiB",
        m.elapsed, m.max_rss_kib
    );
}

// ---------------------------------------------------------------------------------------------
// GCC blocks, on the parser (the lab's MCS side does not send hostile blocks).

/// A Connect-Response (our own writer's framing) whose GCC user data is exactly `blocks`.
fn response_with_blocks(blocks: &[u8]) -> Vec<u8> {
    let base = mcs::connect_response(&mcs::ResponseSpec {
        result: 0,
        server_version: 0x0008_0004,
        client_requested_protocols: 0,
        encryption_method: 2,
        encryption_level: 2,
    });
    let at = base.windows(4).position(|w| w == b"McDn").expect("McDn") + 4;
    let mut out = base[..at].to_vec();
    let n = u16::try_from(blocks.len()).expect("small");
    if n < 0x80 {
        out.push(n as u8); // PER length, one byte
    } else {
        out.extend_from_slice(&(0x8000 | n).to_be_bytes()); // PER length, two bytes
    }
    out.extend_from_slice(blocks);
    let len = u16::try_from(out.len()).expect("small frame");
    out[2..4].copy_from_slice(&len.to_be_bytes()); // TPKT length
    out
}

fn parse(buf: &[u8]) -> mcs::ConnectResponse {
    let t0 = Instant::now();
    let p = mcs::parse_connect_response(buf);
    assert!(
        t0.elapsed() < Duration::from_millis(200),
        "walk must not spin"
    );
    match p {
        Parse::Done(McsReply::Response(r)) => r,
        other => panic!("expected a response, got {other:?}"),
    }
}

#[test]
fn gcc_zero_length_block_stops_the_walk() {
    let blocks = [
        0x01, 0x0C, // SC_CORE
        0x00, 0x00, // length 0: shorter than its own header
        0x02, 0x0C, // SC_SECURITY (never reached)
        0x0C, 0x00, // length 12
        0x02, 0x00, 0x00, 0x00, // encryptionMethod 128-bit
        0x02, 0x00, 0x00, 0x00, // encryptionLevel client compatible
    ];
    let r = parse(&response_with_blocks(&blocks));
    assert_eq!(r.result, 0);
    assert_eq!(r.server_version, None);
    assert_eq!(r.encryption_method, None);
}

#[test]
fn gcc_length_4_block_advances_and_the_next_is_read() {
    let blocks = [
        0x03, 0x0C, // SC_NET
        0x04, 0x00, // length 4: header only, no data
        0x02, 0x0C, // SC_SECURITY
        0x0C, 0x00, // length 12
        0x01, 0x00, 0x00, 0x00, // encryptionMethod 40-bit
        0x03, 0x00, 0x00, 0x00, // encryptionLevel high
    ];
    let r = parse(&response_with_blocks(&blocks));
    assert_eq!(r.encryption_method, Some(1));
    assert_eq!(r.encryption_level, Some(3));
}

#[test]
fn gcc_overlapping_blocks_are_not_read_twice() {
    let blocks = [
        0x01, 0x0C, // SC_CORE
        0x14, 0x00, // length 20: swallows the SC_SECURITY header that follows
        0x04, 0x00, 0x08, 0x00, // version 0x00080004
        0x02, 0x0C, // (inside SC_CORE) "SC_SECURITY"
        0x0C, 0x00, // (inside SC_CORE) length 12
        0x02, 0x00, 0x00, 0x00, // (inside SC_CORE)
        0x02, 0x00, 0x00, 0x00, // (inside SC_CORE)
    ];
    let r = parse(&response_with_blocks(&blocks));
    assert_eq!(r.server_version, Some(0x0008_0004));
    // clientRequestedProtocols is read from the swallowed bytes: they belong to SC_CORE.
    assert_eq!(r.client_requested_protocols, Some(0x000C_0C02));
    assert_eq!(
        r.encryption_method, None,
        "a block inside another is not a block"
    );
}

#[test]
fn gcc_block_running_past_the_end_is_ignored() {
    let blocks = [
        0x02, 0x0C, // SC_SECURITY
        0xFF, 0xFF, // length 65535: far past the end
        0x02, 0x00, 0x00, 0x00, // encryptionMethod
    ];
    let r = parse(&response_with_blocks(&blocks));
    assert_eq!(r.encryption_method, None);
}

#[test]
fn gcc_thousands_of_tiny_blocks_are_bounded() {
    // 2,000 header-only blocks: the walk gives up after its block cap, quickly.
    let mut blocks = Vec::new();
    for _ in 0..2000 {
        blocks.extend_from_slice(&[0x03, 0x0C, 0x04, 0x00]); // SC_NET, length 4
    }
    blocks.extend_from_slice(&[0x01, 0x0C, 0x0C, 0x00, 1, 0, 8, 0, 0, 0, 0, 0]); // SC_CORE at the end
    let r = parse(&response_with_blocks(&blocks));
    assert_eq!(r.server_version, None, "past the block cap");
}

#[test]
fn gcc_per_length_longer_than_the_frame() {
    let mut buf = response_with_blocks(&[0x01, 0x0C, 0x0C, 0x00, 4, 0, 8, 0, 0, 0, 0, 0]);
    let at = buf.windows(4).position(|w| w == b"McDn").expect("McDn") + 4;
    buf[at] = 0x7F; // PER length 127, while 12 bytes follow
    let r = parse(&buf);
    assert_eq!(r.server_version, Some(0x0008_0004));
}

#[test]
fn connect_initial_with_zero_length_block() {
    let mut ci = mcs::connect_initial(0x1B, 0);
    let at = ci.windows(4).position(|w| w == b"Duca").expect("Duca") + 4;
    // Skip the PER length (2 bytes for a real Connect-Initial) to the first block's length.
    let first = at + if ci[at] & 0x80 != 0 { 2 } else { 1 };
    ci[first + 2] = 0; // CS_CORE length low byte
    ci[first + 3] = 0; // CS_CORE length high byte
    match mcs::parse_connect_initial(&ci) {
        Parse::Done(Ok(c)) => assert_eq!(c.client_version, None),
        other => panic!("{other:?}"),
    }
    // And the frame is still a well-formed TPKT for the framing parser.
    assert!(matches!(x224::read_tpkt(&ci), Parse::Done(Ok(_))));
}

// ---------------------------------------------------------------------------------------------
// Resource exhaustion: the scanner's own limits must never turn into host verdicts.

fn csv_rows(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).expect("csv");
    let headers = r.headers().expect("headers").clone();
    r.records()
        .map(|rec| {
            let rec = rec.expect("record");
            headers
                .iter()
                .map(str::to_string)
                .zip(rec.iter().map(str::to_string))
                .collect()
        })
        .collect()
}

/// `--concurrency 5000` with RLIMIT_NOFILE 256 (soft and hard, so it cannot be raised): one
/// clear warning, concurrency capped, and no host gets a TCP error from EMFILE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_above_the_open_file_limit() {
    let _serial = SERIAL.lock().await;
    let hosts: Vec<(Option<&str>, Behavior, &'static str)> = (0..300)
        .map(|i| {
            let b = match i % 3 {
                0 => Behavior::Rdp(RdpHost::new(RdpPolicy::WindowsTls)),
                1 => Behavior::Tarpit,
                _ => Behavior::Rdp(nla()),
            };
            (None, b, "fd test")
        })
        .collect();
    let lab = Lab::start(
        LabConfig {
            base: Ipv4Addr::new(127, 88, 100, 1),
            port: 3389,
            dns: false,
        },
        hosts,
    )
    .await
    .expect("lab");
    let dir = tempfile::tempdir().expect("tempdir");
    let inv = dir.path().join("inv.csv");
    std::fs::write(&inv, lab.inventory_csv()).expect("inventory");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &lab.ca_pem).expect("ca");
    let mut args = scan_args(
        &[],
        dir.path(),
        &[
            "-i",
            inv.to_str().expect("utf-8"),
            "--ca-bundle",
            ca.to_str().expect("utf-8"),
            "--concurrency",
            "5000",
            "--retries",
            "0",
        ],
    );
    // Not quiet: the warning is what this test is about.
    args.retain(|a| a != "-q");
    let mut cmd = Command::new(BIN);
    // SAFETY: the closure only calls setrlimit(2), which is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 256,
                rlim_max: 256,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let path = dir.path().to_path_buf();
    let m = tokio::task::spawn_blocking(move || {
        run_measured_cmd(cmd, &args, &path, Duration::from_secs(180))
    })
    .await
    .expect("join");
    let expected: std::collections::HashMap<String, FindingCode> = lab
        .hosts
        .iter()
        .map(|h| (h.addr.to_string(), h.behavior.expected()))
        .collect();
    lab.shutdown().await;

    assert!(!m.stderr.contains("panicked"), "{}", m.stderr);
    assert_eq!(m.code, Some(0), "stderr: {}", m.stderr);
    let warnings: Vec<&str> = m
        .stderr
        .lines()
        .filter(|l| l.to_lowercase().contains("warn"))
        .collect();
    assert_eq!(warnings.len(), 1, "exactly one warning: {warnings:?}");
    assert!(
        warnings[0].contains("open-file limit") && warnings[0].contains("ulimit -n"),
        "the warning says what is wrong and what to do: {}",
        warnings[0]
    );
    let rows = csv_rows(&dir.path().join("out.csv"));
    assert_eq!(rows.len(), 300);
    let mut wrong = Vec::new();
    for r in &rows {
        if r["tcp_status"] == "error"
            || r["verdict"] == "tcp-error"
            || r["error"].contains("EMFILE")
        {
            wrong.push(format!(
                "{}: tcp {} {}",
                r["host"], r["tcp_status"], r["error"]
            ));
        } else if r["verdict"] != expected[&r["host"]].as_str() {
            wrong.push(format!(
                "{}: expected {}, got {}",
                r["host"], expected[&r["host"]], r["verdict"]
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Ephemeral-port exhaustion, for real: in a network namespace of its own (root + `unshare`,
/// skipped loudly otherwise) the local port range is cut to 50000-50001 and both ports are held
/// by two lab listeners for the first 2 s of the scan, so every connect fails with
/// EADDRNOTAVAIL. The scanner must pause and retry (one warning), and every host must end up
/// scanned normally, none with a TCP error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ephemeral_port_exhaustion_is_retried_not_blamed_on_hosts() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().to_str().expect("utf-8").to_string();
    let script = format!(
        r#"set -e
ip link set lo up
echo "50000 50001" > /proc/sys/net/ipv4/ip_local_port_range
"{BIN}" lab --hosts 1 --base 127.0.2.1 --port 50000 --inventory {d}/b1.csv 2>{d}/b1.log & B1=$!
"{BIN}" lab --hosts 1 --base 127.0.2.2 --port 50001 --inventory {d}/b2.csv 2>{d}/b2.log & B2=$!
"{BIN}" lab --hosts 20 --base 127.0.1.1 --inventory {d}/inv.csv 2>{d}/lab.log & L=$!
for f in b1 b2 inv; do
  n=0; while [ ! -s {d}/$f.csv ]; do sleep 0.05; n=$((n+1)); [ $n -lt 400 ] || exit 97; done
done
(sleep 2; kill $B1 $B2) &
set +e
"{BIN}" scan -i {d}/inv.csv --rate 0 --concurrency 50 --retries 0 --connect-timeout 1s \
  --timeout 2s --host-deadline 20s --fail-on never --csv {d}/out.csv 2>{d}/scan.err
rc=$?
kill $L 2>/dev/null
wait
exit $rc
"#
    );
    let out = tokio::task::spawn_blocking(move || {
        Command::new("unshare")
            .args(["--net", "sh", "-c", &script])
            .output()
    })
    .await
    .expect("join");
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            eprintln!("SKIPPED ephemeral_port_exhaustion: cannot run unshare: {e}");
            return;
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && !dir.path().join("inv.csv").exists() {
        eprintln!(
            "SKIPPED ephemeral_port_exhaustion: no private network namespace here (needs root): {stderr}"
        );
        return;
    }
    let scan_err = std::fs::read_to_string(dir.path().join("scan.err")).unwrap_or_default();
    assert_eq!(
        out.status.code(),
        Some(0),
        "script: {stderr}\nscan: {scan_err}"
    );
    assert!(!scan_err.contains("panicked"), "{scan_err}");
    let warnings: Vec<&str> = scan_err.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(warnings.len(), 1, "one warning: {scan_err}");
    assert!(
        warnings[0].contains("EADDRNOTAVAIL") && warnings[0].contains("--concurrency"),
        "{}",
        warnings[0]
    );
    let rows = csv_rows(&dir.path().join("out.csv"));
    assert_eq!(rows.len(), 20);
    for r in &rows {
        assert_eq!(
            r["tcp_status"], "open",
            "{}: tcp {} error {:?}",
            r["host"], r["tcp_status"], r["error"]
        );
        assert!(!r["error"].contains("EADDRNOTAVAIL"), "{r:?}");
        assert!(
            !r["rdp_accepted"].is_empty() || !r["neg_failure"].is_empty(),
            "{r:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// A legacy-TLS host that trickles under OpenSSL (not a lab behaviour: a server of its own here).

/// Read one X.224 Connection Request (bounded: 64 KiB, 5 s).
async fn read_cr(s: &mut tokio::net::TcpStream) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 512];
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until && buf.len() < 64 * 1024 {
        if let Parse::Done(_) = x224::parse_connection_request(&buf) {
            return true;
        }
        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => return false,
        }
    }
    false
}

/// Connection 1: CC HYBRID, then close at the rustls ClientHello (-> legacy fallback).
/// Connection 2: the raw legacy hello gets a TLS 1.0 ServerHello + Certificate.
/// Connection 3: OpenSSL's hello gets a record header for 16 KiB, then a byte a second for 40 s.
/// Later connections (the security-layer matrix): failure 5, HYBRID required.
async fn legacy_trickle_server(l: tokio::net::TcpListener, cert: Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut n = 0u32;
    loop {
        let Ok((mut s, _)) = l.accept().await else {
            return;
        };
        n += 1;
        let conn = n;
        let cert = cert.clone();
        tokio::spawn(async move {
            if !read_cr(&mut s).await {
                return;
            }
            let cc = if conn <= 3 {
                x224::connection_confirm(&x224::ConfirmSpec::Selected {
                    protocol: 2,
                    flags: x224::NegRspFlags::from_bits_retain(0x1F),
                })
            } else {
                x224::connection_confirm(&x224::ConfirmSpec::Failure(x224::FailureCode(5)))
            };
            if s.write_all(&cc).await.is_err() || conn > 3 {
                return;
            }
            let mut hello = [0u8; 4096];
            let _ = tokio::time::timeout(Duration::from_secs(5), s.read(&mut hello)).await;
            match conn {
                1 => {}
                2 => {
                    let flight = rdpsweep::tls::legacy::server_flight(
                        rdpsweep::tls::legacy::TlsVersion::TLS10,
                        0x002F, // TLS_RSA_WITH_AES_128_CBC_SHA
                        &[cert],
                    );
                    let _ = s.write_all(&flight).await;
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
                _ => {
                    // Handshake record, TLS 1.0, 16384 bytes announced.
                    if s.write_all(&[0x16, 0x03, 0x01, 0x40, 0x00]).await.is_err() {
                        return;
                    }
                    for _ in 0..40 {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        if s.write_all(&[0x0B]).await.is_err() {
                            return;
                        }
                    }
                }
            }
        });
    }
}

/// The OpenSSL CredSSP fallback for legacy-TLS hosts is bounded by the deadline even when the
/// server keeps each read alive with a trickle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_tls_host_trickling_under_openssl() {
    let _serial = SERIAL.lock().await;
    let l = tokio::net::TcpListener::bind("127.88.40.1:3389")
        .await
        .expect("bind");
    let addr = l.local_addr().expect("addr");
    let cert = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/lab-weak-rsa1024-sha1.der"
    ))
    .expect("fixture");
    let server = tokio::spawn(legacy_trickle_server(l, cert));
    let dir = tempfile::tempdir().expect("tempdir");
    let args = scan_args(&[addr.ip().to_string()], dir.path(), &["--retries", "0"]);
    let path = dir.path().to_path_buf();
    let m =
        tokio::task::spawn_blocking(move || run_measured(&args, &path, Duration::from_secs(90)))
            .await
            .expect("join");
    server.abort();
    assert!(!m.stderr.contains("panicked"), "{}", m.stderr);
    assert_eq!(m.code, Some(0), "{}", m.stderr);
    assert!(
        m.elapsed <= Duration::from_secs(DEADLINE_S) + SLACK,
        "took {:?} (deadline {DEADLINE_S}s)",
        m.elapsed
    );
    let reports =
        rdpsweep::report::jsonl::read_reports(&dir.path().join("out.jsonl")).expect("jsonl");
    let r = &reports[0];
    let tls = r.record.tls.as_ref().expect("tls");
    assert!(
        tls.legacy,
        "the legacy hello got the server's facts: {tls:?}"
    );
    assert_eq!(tls.version.as_deref(), Some("TLSv1.0"));
    if cfg!(feature = "legacy-tls") {
        let c = r.record.credssp.as_ref().expect("credssp via openssl");
        assert_eq!(c.status, rdpsweep::model::CredSspStatus::Timeout, "{c:?}");
    }
}

/// EMFILE for real: one name pinned to 300 addresses is probed on all of them at once, past an
/// RLIMIT_NOFILE of 128. The connects that find no descriptor pause and retry (one warning for
/// it, besides the open-file-limit one), and every address is scanned, none with a TCP error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_descriptors_mid_scan_is_retried() {
    let _serial = SERIAL.lock().await;
    let hosts: Vec<(Option<&str>, Behavior, &'static str)> = (0..300)
        .map(|_| {
            (
                None,
                Behavior::Rdp(RdpHost::new(RdpPolicy::WindowsTls)),
                "fd",
            )
        })
        .collect();
    let lab = Lab::start(
        LabConfig {
            base: Ipv4Addr::new(127, 88, 110, 1),
            port: 3389,
            dns: false,
        },
        hosts,
    )
    .await
    .expect("lab");
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &lab.ca_pem).expect("ca");
    let mut extra: Vec<String> = vec![
        "--ca-bundle".into(),
        ca.to_str().expect("utf-8").into(),
        "--retries".into(),
        "0".into(),
    ];
    for h in &lab.hosts {
        extra.push("--resolve".into());
        extra.push(format!("many.lab.test={}", h.addr));
    }
    let extra_refs: Vec<&str> = extra.iter().map(String::as_str).collect();
    let mut args = scan_args(&["many.lab.test".to_string()], dir.path(), &extra_refs);
    args.retain(|a| a != "-q");
    let mut cmd = Command::new(BIN);
    // SAFETY: the closure only calls setrlimit(2), which is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 128,
                rlim_max: 128,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let path = dir.path().to_path_buf();
    let m = tokio::task::spawn_blocking(move || {
        run_measured_cmd(cmd, &args, &path, Duration::from_secs(120))
    })
    .await
    .expect("join");
    lab.shutdown().await;
    assert!(!m.stderr.contains("panicked"), "{}", m.stderr);
    assert_eq!(m.code, Some(0), "{}", m.stderr);
    let rows = csv_rows(&dir.path().join("out.csv"));
    assert_eq!(rows.len(), 300, "one row per address");
    let bad: Vec<String> = rows
        .iter()
        .filter(|r| r["tcp_status"] != "open")
        .map(|r| format!("{} {} {}", r["address"], r["tcp_status"], r["error"]))
        .collect();
    assert!(
        bad.is_empty(),
        "{} addresses failed: {:?}",
        bad.len(),
        &bad[..bad.len().min(10)]
    );
    let warnings: Vec<&str> = m.stderr.lines().filter(|l| l.contains("warning")).collect();
    // The scanner probes at most 8 addresses of a name at once, so the limit may never be hit;
    // if it is, the retries say so once.
    assert!(
        warnings.iter().filter(|w| w.contains("EMFILE")).count() <= 1,
        "at most one warning for the retries: {warnings:?}"
    );
}
