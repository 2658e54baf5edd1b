//! Hostile TLS servers (issue 13, defects 2 and 5), scanned by the real binary on loopback:
//! flights in 1-byte records, floods of warning alerts, flights without a certificate, and a
//! TLS 1.3 ServerHello where a TLS 1.0-1.2 answer belongs. Each host must end within its
//! deadline without burning a core, with the right finding.
//!
//! The servers are written here, not in the lab: each answers the X.224 request, then tells
//! the scanner's two hellos apart by their supported_versions extension (rustls offers
//! TLS 1.3, the raw legacy hello for TLS 1.0-1.2 does not) and misbehaves on one of them.
//!
//! Each test has its own 127.93.N.0/24 block; loopback only.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rdpsweep::model::HostReport;
use rdpsweep::rdp::{Parse, x224};
use rdpsweep::tls::legacy::{self, TlsVersion};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const BIN: &str = env!("CARGO_BIN_EXE_rdpsweep");

/// The figures: a 4 s host deadline (phase timeout 2 s).
const TIMEOUT: &str = "2s";
const DEADLINE_S: u64 = 4;
/// Process start-up, trust store and output on a loaded 2-core machine.
const SLACK: Duration = Duration::from_secs(5);

/// One scan at a time: the tests measure wall and CPU time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[derive(Clone, Copy, Debug)]
enum Mode {
    /// Legacy hello: a TLS 1.2 flight with a real certificate in 1-byte records, then 1-byte
    /// HelloRequest records for as long as anyone reads.
    OneByteRecords,
    /// Legacy hello: 7-byte warning alerts (unrecognized_name), endlessly.
    AlertFlood,
    /// Legacy hello: ServerHello, a Certificate message with no certificate, ServerHelloDone.
    ZeroCertificates,
    /// Legacy hello: ServerHello, then ChangeCipherSpec (no Certificate message).
    HelloThenCcs,
    /// Legacy hello: a TLS 1.3 ServerHello (supported_versions 0x0304, TLS_AES_128_GCM_SHA256).
    Tls13OnLegacy,
    /// Legacy hello: a flight for the hello's version picking its first suite, every time.
    TakesAnySuite,
    /// rustls hello: a TLS 1.2 ServerHello and then a 65,000-byte Certificate message, all in
    /// 1-byte records, this many every 5 ms (the socket is never idle for long).
    RustlsOneByteRecords(usize),
}

/// Loads the fixture certificate a real server would present.
fn fixture_cert() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/lab-weak-rsa1024-sha1.der"
    ))
    .expect("fixture")
}

/// Reads one X.224 Connection Request (bounded: 64 KiB, 5 s); its requested protocols.
async fn read_cr(s: &mut TcpStream) -> Option<u32> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 512];
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until && buf.len() < 64 * 1024 {
        if let Parse::Done(r) = x224::parse_connection_request(&buf) {
            return r.ok().map(|cr| cr.requested.unwrap_or(0));
        }
        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => return None,
        }
    }
    None
}

/// Reads one ClientHello (bounded); whether it offers TLS 1.3 (supported_versions present).
async fn read_client_hello(s: &mut TcpStream) -> Option<legacy::ClientHelloInfo> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 2048];
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until && buf.len() < 64 * 1024 {
        if let Parse::Done(r) = legacy::parse_client_hello(&buf) {
            return r.ok();
        }
        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => return None,
        }
    }
    None
}

/// Handshake bytes of `flight` (records stripped) re-split into 1-byte handshake records.
fn one_byte_records(flight: &[u8]) -> Vec<u8> {
    let mut hs = Vec::new();
    let mut pos = 0;
    while pos + 5 <= flight.len() {
        let len = usize::from(u16::from_be_bytes([flight[pos + 3], flight[pos + 4]]));
        hs.extend_from_slice(&flight[pos + 5..pos + 5 + len]);
        pos += 5 + len;
    }
    hs.iter()
        .flat_map(|b| [0x16, 0x03, 0x03, 0x00, 0x01, *b])
        .collect()
}

/// Writes `chunk` over and over until the peer goes away (or 60 s, a backstop). Blocks when
/// the peer stops reading, so an abandoned flood costs this process nothing.
async fn flood(s: &mut TcpStream, chunk: &[u8]) {
    let until = Instant::now() + Duration::from_secs(60);
    while Instant::now() < until {
        if s.write_all(chunk).await.is_err() {
            return;
        }
    }
}

/// What the hostile server does after the CC, given which hello arrived.
async fn misbehave(mut s: TcpStream, mode: Mode, hello: legacy::ClientHelloInfo, cert: Vec<u8>) {
    let rustls = !hello.supported_versions.is_empty();
    match mode {
        Mode::RustlsOneByteRecords(per_burst) if rustls => {
            // ServerHello for TLS 1.2 with a suite rustls offered, then a Certificate message
            // claiming 65,000 bytes, one byte per record, `per_burst` records every 5 ms.
            let sh = legacy::server_flight(TlsVersion::TLS12, 0xC02F, &[]);
            let sh_only = {
                let len = 4 + usize::from(u16::from_be_bytes([sh[7], sh[8]]));
                let mut r = vec![0x16, 0x03, 0x03];
                r.extend_from_slice(&u16::try_from(len).expect("small").to_be_bytes());
                r.extend_from_slice(&sh[5..5 + len]);
                r
            };
            let mut hs = one_byte_records(&sh_only);
            hs.extend(one_byte_records(&[
                0x16, 0x03, 0x03, 0x00, 0x07, 0x0B, 0x00, 0xFD, 0xE8, 0x00, 0xFD, 0xE5,
            ]));
            if s.write_all(&hs).await.is_err() {
                return;
            }
            let burst: Vec<u8> = [0x16, 0x03, 0x03, 0x00, 0x01, 0x30].repeat(per_burst);
            let until = Instant::now() + Duration::from_secs(60);
            while Instant::now() < until {
                if s.write_all(&burst).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        Mode::RustlsOneByteRecords(_) => {
            // The legacy hello (after rustls gave up) gets a plain, valid TLS 1.2 flight.
            let f = legacy::server_flight(TlsVersion::TLS12, 0x002F, &[cert]);
            let _ = s.write_all(&f).await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        // Every other mode drops the rustls hello (FIN), so the scanner falls back to the
        // legacy hello, which gets the hostile answer.
        _ if rustls => {}
        Mode::OneByteRecords => {
            let flight = legacy::server_flight(TlsVersion::TLS12, 0x002F, &[cert]);
            if s.write_all(&one_byte_records(&flight)).await.is_err() {
                return;
            }
            // HelloRequest (type 0, empty), one byte per record, 4 KiB per write.
            let tail = one_byte_records(&[0x16, 0x03, 0x03, 0x00, 0x04, 0, 0, 0, 0]).repeat(170);
            flood(&mut s, &tail).await;
        }
        Mode::AlertFlood => {
            let alerts = [0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x70].repeat(600);
            flood(&mut s, &alerts).await;
        }
        Mode::ZeroCertificates => {
            let f = legacy::server_flight(TlsVersion::TLS12, 0x002F, &[]);
            let _ = s.write_all(&f).await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        Mode::HelloThenCcs => {
            // server_flight(.., &[]) starts with the ServerHello; keep only that message.
            let f = legacy::server_flight(TlsVersion::TLS12, 0x002F, &[]);
            let sh_len = 4 + usize::from(u16::from_be_bytes([f[7], f[8]]));
            let mut out = vec![0x16, 0x03, 0x03];
            out.extend_from_slice(&u16::try_from(sh_len).expect("small").to_be_bytes());
            out.extend_from_slice(&f[5..5 + sh_len]);
            out.extend_from_slice(&[0x14, 0x03, 0x03, 0x00, 0x01, 0x01]);
            let _ = s.write_all(&out).await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        Mode::TakesAnySuite => {
            // The hello's own version and its first suite, whatever they are: every suite
            // offered is "accepted", so the enumeration only ends at its budget.
            let version = hello.legacy_version.min(TlsVersion::TLS12);
            let suite = hello.suites.first().copied().unwrap_or(0x002F);
            let f = legacy::server_flight(version, suite, &[cert]);
            let _ = s.write_all(&f).await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        Mode::Tls13OnLegacy => {
            let f = legacy::server_flight(TlsVersion::TLS13, 0x1301, &[]);
            let _ = s.write_all(&f).await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }
}

/// Serves `mode` on every address of `listeners` until aborted. A request that offers SSL gets
/// SSL selected; one that does not gets SSL_REQUIRED_BY_SERVER (a TLS-only server).
fn serve(listeners: Vec<TcpListener>, mode: Mode) -> Vec<tokio::task::JoinHandle<()>> {
    let cert = fixture_cert();
    listeners
        .into_iter()
        .map(|l| {
            let cert = cert.clone();
            tokio::spawn(async move {
                while let Ok((mut s, _)) = l.accept().await {
                    let cert = cert.clone();
                    tokio::spawn(async move {
                        let Some(requested) = read_cr(&mut s).await else {
                            return;
                        };
                        let spec = if requested & 1 != 0 {
                            x224::ConfirmSpec::Selected {
                                protocol: 1,
                                flags: x224::NegRspFlags::from_bits_retain(0x1F),
                            }
                        } else {
                            x224::ConfirmSpec::Failure(x224::FailureCode(1))
                        };
                        let cc = x224::connection_confirm(&spec);
                        if s.write_all(&cc).await.is_err() || requested & 1 == 0 {
                            return;
                        }
                        let Some(hello) = read_client_hello(&mut s).await else {
                            return;
                        };
                        misbehave(s, mode, hello, cert).await;
                    });
                }
            })
        })
        .collect()
}

struct Run {
    code: Option<i32>,
    stderr: String,
    elapsed: Duration,
    /// User + system CPU time of the scanner.
    cpu: Duration,
    reports: Vec<HostReport>,
}

/// Runs the scanner on `targets`, killing it if it outlives `limit`; wall and CPU time.
#[allow(clippy::zombie_processes)] // reaped by wait4 below, which std's Child cannot see
fn run_scan(targets: &[String], dir: &Path, extra: &[&str], limit: Duration) -> Run {
    let jsonl = dir.join("out.jsonl");
    let err_path = dir.join("stderr.txt");
    let mut cmd = Command::new(BIN);
    cmd.arg("scan")
        .args(targets)
        .args([
            "--rate",
            "0",
            "--connect-timeout",
            "1s",
            "--timeout",
            TIMEOUT,
        ])
        .args(["--host-deadline", &format!("{DEADLINE_S}s")])
        .args(["--retries", "0", "--fail-on", "never", "-q"])
        .args(["--jsonl", jsonl.to_str().expect("utf-8")])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err_path).expect("stderr file"));
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
    let tv = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    Run {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
        elapsed: t0.elapsed(),
        cpu: tv(ru.ru_utime) + tv(ru.ru_stime),
        reports: rdpsweep::report::jsonl::read_reports(&jsonl).unwrap_or_default(),
    }
}

fn codes(r: &HostReport) -> Vec<&str> {
    r.findings.iter().map(|f| f.code.as_str()).collect()
}

/// Scans one `mode` host at 127.93.`n`.1: exit 0, no panic, done within the deadline (+ slack),
/// the per-address record within the deadline (+ 0.5 s), and far less CPU than wall time.
async fn scan_one(n: u8, mode: Mode, extra: &[&str]) -> HostReport {
    let _serial = SERIAL.lock().await;
    let ip = Ipv4Addr::new(127, 93, n, 1);
    let l = TcpListener::bind(SocketAddr::from((ip, 3389)))
        .await
        .expect("bind");
    let servers = serve(vec![l], mode);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    let run = tokio::task::spawn_blocking(move || {
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        run_scan(&[ip.to_string()], &path, &extra, Duration::from_secs(90))
    })
    .await
    .expect("join");
    servers.iter().for_each(|s| s.abort());
    let what = format!("{mode:?} at {ip}");
    assert!(!run.stderr.contains("panicked"), "{what}: {}", run.stderr);
    assert_eq!(run.code, Some(0), "{what}: stderr {}", run.stderr);
    assert!(
        run.elapsed <= Duration::from_secs(DEADLINE_S) + SLACK,
        "{what}: took {:?} against a {DEADLINE_S} s deadline",
        run.elapsed
    );
    // Before the fix the flood held a core for the whole (overrun) deadline.
    assert!(
        run.cpu < Duration::from_secs(2),
        "{what}: {:?} CPU in {:?}",
        run.cpu,
        run.elapsed
    );
    assert_eq!(run.reports.len(), 1, "{what}: one row");
    let r = run.reports.into_iter().next().expect("row");
    assert!(
        r.record.duration_ms <= (DEADLINE_S * 1000 + 500) as f64,
        "{what}: record took {} ms",
        r.record.duration_ms
    );
    eprintln!(
        "{what}: verdict {} findings {:?} in {:?} ({:?} CPU); tls {:?}",
        r.verdict,
        codes(&r),
        run.elapsed,
        run.cpu,
        r.record.tls
    );
    r
}

fn tls_error(r: &HostReport) -> String {
    r.record
        .tls
        .as_ref()
        .and_then(|t| t.error.clone())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flight_in_one_byte_records_is_capped_within_the_deadline() {
    let r = scan_one(1, Mode::OneByteRecords, &[]).await;
    // rustls saw a close at its hello; the legacy answer was cut at the record cap.
    assert_eq!(
        r.verdict.as_str(),
        "tls-reset-after-hello",
        "{:?}",
        codes(&r)
    );
    assert!(
        tls_error(&r).contains("too many records"),
        "{}",
        tls_error(&r)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warning_alert_flood_is_capped_within_the_deadline() {
    let r = scan_one(2, Mode::AlertFlood, &[]).await;
    assert_eq!(
        r.verdict.as_str(),
        "tls-reset-after-hello",
        "{:?}",
        codes(&r)
    );
    assert!(
        tls_error(&r).contains("too many alerts"),
        "{}",
        tls_error(&r)
    );
}

/// `--depth deep` sends four more legacy hellos (one per version): all of them capped, the
/// host still within its deadline (38 s against 30 s before the fix).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_depth_floods_stay_within_the_deadline() {
    for (n, mode) in [(3, Mode::OneByteRecords), (4, Mode::AlertFlood)] {
        let r = scan_one(n, mode, &["--depth", "deep"]).await;
        assert_eq!(
            r.verdict.as_str(),
            "tls-reset-after-hello",
            "{mode:?}: {:?}",
            codes(&r)
        );
        let tls = r.record.tls.as_ref().expect("tls");
        assert!(tls.versions.is_empty(), "{mode:?}: no version confirmed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_certificate_message_is_a_missing_certificate() {
    let r = scan_one(5, Mode::ZeroCertificates, &[]).await;
    assert_eq!(r.verdict.as_str(), "tls-no-certificate", "{:?}", codes(&r));
    assert_eq!(r.severity, rdpsweep::model::Severity::Fail);
    let tls = r.record.tls.as_ref().expect("tls");
    assert_eq!(tls.version.as_deref(), Some("TLSv1.2"));
    assert!(r.record.cert.is_none());
    assert!(
        tls_error(&r).contains("empty Certificate message"),
        "{}",
        tls_error(&r)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_hello_then_change_cipher_spec_is_a_missing_certificate() {
    let r = scan_one(6, Mode::HelloThenCcs, &[]).await;
    assert_eq!(r.verdict.as_str(), "tls-no-certificate", "{:?}", codes(&r));
    assert!(
        tls_error(&r).contains("no Certificate message"),
        "{}",
        tls_error(&r)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls13_server_hello_on_the_legacy_path_is_tls13_not_legacy_suites() {
    let r = scan_one(7, Mode::Tls13OnLegacy, &[]).await;
    let c = codes(&r);
    assert!(!c.contains(&"tls-legacy-suites"), "{c:?}");
    assert!(!c.contains(&"tls-no-certificate"), "{c:?}");
    // The rustls failure stands (the legacy answer explains nothing), TLS 1.3 is named.
    assert_eq!(r.verdict.as_str(), "tls-reset-after-hello", "{c:?}");
    let tls = r.record.tls.as_ref().expect("tls");
    assert_eq!(tls.version.as_deref(), Some("TLSv1.3"));
    assert_eq!(tls.cipher.as_deref(), Some("TLS_AES_128_GCM_SHA256"));
    assert!(!tls.legacy);
    assert!(tls_error(&r).contains("did not offer"), "{}", tls_error(&r));
}

/// The rustls path fed 1-byte records is bounded both ways: fast, rustls' own buffer cap ends
/// it ("message buffer full"); slow enough to stay under that cap, the phase deadline does
/// (tokio's timeout around the handshake), and the scanner reports a stalled flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rustls_fed_one_byte_records_is_bounded() {
    let r = scan_one(8, Mode::RustlsOneByteRecords(64), &[]).await;
    assert_eq!(
        r.verdict.as_str(),
        "tls-handshake-failed",
        "{:?}",
        codes(&r)
    );
    assert!(tls_error(&r).contains("buffer full"), "{}", tls_error(&r));
    let r = scan_one(9, Mode::RustlsOneByteRecords(8), &[]).await;
    assert_eq!(r.verdict.as_str(), "tls-stalled", "{:?}", codes(&r));
}

/// Many flooding hosts at once (the 2,000-listener scan ran for over ten minutes):
/// the whole scan ends within one host deadline plus slack, every host with its verdict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_flooding_hosts_finish_within_one_deadline() {
    let _serial = SERIAL.lock().await;
    // Even hosts send 1-byte records, odd ones alert floods.
    let (mut ones, mut alerts, mut targets) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..200u8 {
        let ip = Ipv4Addr::new(127, 93, 20 + i % 2, 1 + i / 2);
        let l = TcpListener::bind(SocketAddr::from((ip, 3389)))
            .await
            .expect("bind");
        if i % 2 == 0 {
            ones.push(l);
        } else {
            alerts.push(l);
        }
        targets.push(ip.to_string());
    }
    let mut servers = serve(ones, Mode::OneByteRecords);
    servers.extend(serve(alerts, Mode::AlertFlood));
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    let run = tokio::task::spawn_blocking(move || {
        run_scan(
            &targets,
            &path,
            &["--concurrency", "200"],
            Duration::from_secs(120),
        )
    })
    .await
    .expect("join");
    servers.iter().for_each(|s| s.abort());
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.reports.len(), 200);
    assert!(
        run.elapsed <= Duration::from_secs(DEADLINE_S) + SLACK * 2,
        "200 hosts took {:?} ({:?} CPU)",
        run.elapsed,
        run.cpu
    );
    let wrong: Vec<String> = run
        .reports
        .iter()
        .filter(|r| r.verdict.as_str() != "tls-reset-after-hello")
        .map(|r| format!("{}: {} {}", r.record.target.host, r.verdict, tls_error(r)))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    eprintln!(
        "200 flooding hosts: {:?} wall, {:?} CPU",
        run.elapsed, run.cpu
    );
}

/// Deep suite enumeration against a server that answers every hello with the same suite: the
/// second hello no longer offers it, so the answer is the server's fault, recorded once (no
/// loop, no panic), and the list is marked incomplete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enumeration_records_a_suite_never_offered() {
    let r = scan_one(10, Mode::ZeroCertificates, &["--depth", "deep"]).await;
    let tls = r.record.tls.as_ref().expect("tls");
    assert_eq!(tls.versions, ["TLSv1.2"], "{tls:?}");
    let [list] = tls.suites.as_slice() else {
        panic!("one version's list: {:?}", tls.suites);
    };
    assert_eq!(list.version, "TLSv1.2");
    assert_eq!(list.suites, ["TLS_RSA_WITH_AES_128_CBC_SHA"]);
    assert!(!list.complete);
    assert_eq!(
        list.error.as_deref(),
        Some("the server picked TLS_RSA_WITH_AES_128_CBC_SHA, a suite the hello did not offer")
    );
    assert!(!codes(&r).contains(&"tls-weak-suites"), "{:?}", codes(&r));
}

/// Deep suite enumeration against a server that accepts every suite offered (TLS 1.0-1.2):
/// the walks stop at the budget, weak suites first, and the lists say they are incomplete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enumeration_stops_at_its_connection_budget() {
    let r = scan_one(
        11,
        Mode::TakesAnySuite,
        &["--depth", "deep", "--host-spacing", "10ms"],
    )
    .await;
    let tls = r.record.tls.as_ref().expect("tls");
    assert_eq!(tls.versions, ["TLSv1.0", "TLSv1.1", "TLSv1.2"], "{tls:?}");
    let accepted: usize = tls
        .suites
        .iter()
        .map(|l| l.suites.len() + l.weak.len())
        .sum();
    // Each accepted suite was one connection, out of 24 for the whole enumeration.
    assert!(
        (20..=24).contains(&accepted),
        "{accepted} suites accepted: {:?}",
        tls.suites
    );
    assert!(tls.suites.iter().all(|l| !l.complete), "{:?}", tls.suites);
    assert!(
        tls.suites
            .iter()
            .any(|l| l.error.as_deref() == Some("connection budget spent")),
        "{:?}",
        tls.suites
    );
    // The weak walk came first: TLS 1.2's weak suites are all there, in the offer's order.
    let v12 = tls
        .suites
        .iter()
        .find(|l| l.version == "TLSv1.2")
        .expect("1.2");
    assert_eq!(
        v12.weak.first().map(String::as_str),
        Some("TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA")
    );
    assert!(codes(&r).contains(&"tls-weak-suites"), "{:?}", codes(&r));
}
