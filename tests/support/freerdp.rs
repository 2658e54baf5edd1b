//! Real FreeRDP NLA servers for tests, and the two proxies that watch what the scanner sends.
//!
//! Use from a test file with `#[path = "support/freerdp.rs"] mod freerdp;`.
//!
//! - [`Fleet::start`] runs one `Xvfb` (display picked by Xvfb itself through `-displayfd`) and
//!   any number of `freerdp-shadow-cli /sec:nla +auth` instances on it, each on its own
//!   127.89.P.N:3389, each in its own UTS namespace (`unshare --uts`) with a chosen hostname,
//!   so the NTLM CHALLENGE names are known; a SAM file from `winpr-hash` per instance, and a
//!   certificate issued by a per-fleet test CA (openssl CLI) placed where the shadow server
//!   looks for it (`$XDG_CONFIG_HOME/freerdp/shadow/shadow.crt|key`). Instances start in
//!   parallel. Everything is killed on drop (and by PR_SET_PDEATHSIG if the test process dies).
//! - [`build_tls10_shim`] compiles `shim/tls10_only.c` (LD_PRELOAD) with gcc.
//! - [`RecordingProxy`]: a transparent TCP relay recording every byte, both directions.
//! - [`Mitm`]: relays the X.224 exchange, then terminates TLS on both sides and records the
//!   scanner's plaintext (the scanner accepts any certificate by design, so it talks to us).
//!
//! Only 127.0.0.0/8 is ever used.

#![allow(dead_code)] // each test uses a different part of this helper

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Loopback block reserved for these tests.
const BLOCK: [u8; 2] = [127, 89];
/// Every read by the proxies is bounded: nothing legitimate here comes near it.
const MAX_RECORD_BYTES: usize = 1 << 20;

// ---------------------------------------------------------------------------------------------
// Tools

/// `name` found on PATH (or in the sbin directories, which a non-root PATH may lack).
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].iter().map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// True when every tool is installed. Otherwise panics when `CI` is set (CI must run these
/// tests: `.ci/run` installs the packages), or prints a loud SKIPPED line and returns false.
pub fn tools_or_skip(test: &str, tools: &[(&str, &str)]) -> bool {
    let missing: Vec<String> = tools
        .iter()
        .filter(|(bin, _)| {
            if bin.starts_with('/') {
                !Path::new(bin).exists()
            } else {
                which(bin).is_none()
            }
        })
        .map(|(bin, pkg)| format!("{bin} (package {pkg})"))
        .collect();
    if missing.is_empty() {
        return true;
    }
    let list = missing.join(", ");
    if std::env::var_os("CI").is_some() {
        panic!("{test}: missing on CI: {list}; run .ci/run as root to install them");
    }
    // Straight to the stderr handle: eprintln! would be swallowed by the harness's capture of
    // a passing test, and a skip must be seen.
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIPPED {test}: missing {list} ***\n"
    );
    false
}

/// What every FreeRDP fleet needs.
pub const FLEET_TOOLS: &[(&str, &str)] = &[
    ("Xvfb", "xvfb"),
    ("freerdp-shadow-cli", "freerdp2-shadow-x11"),
    ("winpr-hash", "winpr-utils"),
    ("unshare", "util-linux"),
    ("hostname", "hostname"),
    ("openssl", "openssl"),
];

/// A fresh loopback address 127.89.P.N (P from the process id, N a per-process counter), so
/// parallel tests and a second run of the test binary rarely share an address.
pub fn loopback_ip() -> Ipv4Addr {
    static NEXT: AtomicU8 = AtomicU8::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed).clamp(1, 254);
    let p = u8::try_from(std::process::id() % 250).unwrap_or(0) + 1;
    Ipv4Addr::new(BLOCK[0], BLOCK[1], p, n)
}

/// A loopback address whose port 3389 is free right now.
fn free_3389() -> Result<SocketAddr, String> {
    for _ in 0..20 {
        let addr = SocketAddr::new(IpAddr::V4(loopback_ip()), 3389);
        if TcpListener::bind(addr).is_ok() {
            return Ok(addr);
        }
    }
    Err("no 127.89.x.y:3389 free".into())
}

fn run(cmd: &mut Command) -> Result<Vec<u8>, String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?}: {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(out.stdout)
}

/// Children die with the thread that spawned them if the test process is killed before Drop
/// runs (SIGKILL, abort). PR_SET_PDEATHSIG follows the spawning *thread*, so fleets are started
/// and dropped on the test's own thread.
fn die_with_parent(cmd: &mut Command) {
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Kill our own child by its handle (never by name): SIGTERM first so Xvfb removes its lock
/// file and socket, SIGKILL when it does not go within `grace`.
fn stop(child: &mut Child, grace: Duration) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) on the pid of a child we have not reaped yet.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
    let until = Instant::now() + grace;
    while Instant::now() < until {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

// ---------------------------------------------------------------------------------------------
// The LD_PRELOAD shim

/// Compiles `tests/support/shim/tls10_only.c` into `dir`; returns the .so path.
pub fn build_tls10_shim(dir: &Path) -> Result<PathBuf, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/shim/tls10_only.c");
    let so = dir.join("tls10_only.so");
    run(Command::new("gcc")
        .args([
            "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror", "-o",
        ])
        .arg(&so)
        .arg(&src)
        .arg("-ldl"))?;
    Ok(so)
}

// ---------------------------------------------------------------------------------------------
// Certificates (openssl CLI)

/// A per-fleet CA (PEM, for `--ca-bundle`) and the leaves it signs.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Result<Pki, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
        run(Command::new("openssl")
            .current_dir(dir.path())
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes"])
            .args(["-keyout", "ca.key", "-out", "ca.pem", "-days", "365"])
            .args(["-subj", "/CN=rdpsweep FreeRDP test CA"])
            .args(["-addext", "basicConstraints=critical,CA:TRUE"])
            .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]))?;
        Ok(Pki { dir })
    }

    fn ca_pem(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// RSA leaf (FreeRDP 2 reads only RSA keys) for `dns_name`, written as shadow.crt/key.
    fn issue(&self, dns_name: &str, out: &Path) -> Result<(), String> {
        let ext = out.join("leaf.ext");
        std::fs::write(
            &ext,
            format!(
                "subjectAltName=DNS:{dns_name}\nbasicConstraints=critical,CA:FALSE\n\
                 keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
            ),
        )
        .map_err(|e| format!("write {}: {e}", ext.display()))?;
        let key = out.join("shadow.key");
        let csr = out.join("leaf.csr");
        run(Command::new("openssl")
            .args(["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&csr)
            .args(["-subj", &format!("/CN={dns_name}")]))?;
        run(Command::new("openssl")
            .current_dir(self.dir.path())
            .args(["x509", "-req", "-CA", "ca.pem", "-CAkey", "ca.key"])
            .args(["-CAcreateserial", "-days", "365", "-in"])
            .arg(&csr)
            .arg("-out")
            .arg(out.join("shadow.crt"))
            .arg("-extfile")
            .arg(&ext))?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Xvfb

struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    fn spawn(log: &Path) -> Result<Child, String> {
        let log = std::fs::File::create(log).map_err(|e| format!("xvfb log: {e}"))?;
        let mut cmd = Command::new("Xvfb");
        // -displayfd 1: Xvfb picks a free display itself and writes its number to stdout
        // when it accepts clients (no guessing, no race with other agents' displays).
        cmd.args(["-displayfd", "1", "-screen", "0", "640x480x24"])
            .args(["-nolisten", "tcp", "-noreset"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        die_with_parent(&mut cmd);
        cmd.spawn().map_err(|e| format!("cannot start Xvfb: {e}"))
    }

    /// Waits for the display number Xvfb writes once it accepts clients.
    fn ready(mut child: Child, log: &Path) -> Result<Xvfb, String> {
        let Some(stdout) = child.stdout.take() else {
            stop(&mut child, Duration::ZERO);
            return Err("Xvfb stdout not piped".into());
        };
        // A reader thread, so a silent Xvfb cannot block the test forever.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let r = BufReader::new(stdout.take(64)).read_line(&mut line);
            let _ = tx.send(r.map(|_| line));
        });
        match rx.recv_timeout(Duration::from_secs(15)) {
            Ok(Ok(line)) if line.trim().parse::<u32>().is_ok() => Ok(Xvfb {
                child,
                display: format!(":{}", line.trim()),
            }),
            other => {
                stop(&mut child, Duration::from_millis(500));
                Err(format!(
                    "Xvfb gave no display number ({other:?}):\n{}",
                    std::fs::read_to_string(log).unwrap_or_default()
                ))
            }
        }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        stop(&mut self.child, Duration::from_secs(2));
    }
}

// ---------------------------------------------------------------------------------------------
// FreeRDP shadow servers

/// One NLA server to start.
#[derive(Clone, Debug)]
pub struct ShadowSpec {
    /// Hostname inside the server's UTS namespace: what NTLM reports (NetBIOS upper-cased,
    /// DNS name as given, first label only).
    pub hostname: String,
    /// The certificate's CN and only DNS SAN.
    pub cert_name: String,
    /// An LD_PRELOAD library for the server process (the TLS 1.0 shim).
    pub preload: Option<PathBuf>,
}

/// A running `freerdp-shadow-cli /sec:nla +auth`.
pub struct Shadow {
    child: Child,
    pub addr: SocketAddr,
    pub spec: ShadowSpec,
    /// The only account in its SAM file. The scanner is never given it.
    pub user: String,
    pub password: String,
    /// NT hash (hex, as in the SAM file).
    pub nt_hash: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Shadow {
    /// Everything the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn prepare(spec: &ShadowSpec, pki: &Pki) -> Result<Prepared, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
        let config = dir.path().join("config");
        let shadow_dir = config.join("freerdp/shadow");
        std::fs::create_dir_all(&shadow_dir).map_err(|e| format!("mkdir: {e}"))?;
        pki.issue(&spec.cert_name, &shadow_dir)?;

        // Distinct, unguessable strings: a match in the captured bytes cannot be a coincidence.
        let tag: u64 = rand::random();
        let user = format!("probeuser{:06x}", tag & 0xFF_FFFF);
        let password = format!("Pw-{:016x}!", rand::random::<u64>());
        let sam =
            run(Command::new("winpr-hash").args(["-u", &user, "-p", &password, "-f", "sam"]))?;
        let sam = String::from_utf8_lossy(&sam).to_string();
        // "user:::<32 hex>:::" is the line WinPR's NTLM reads.
        let nt_hash = sam
            .trim()
            .strip_prefix(&format!("{user}:::"))
            .and_then(|rest| rest.strip_suffix(":::"))
            .filter(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| format!("unexpected winpr-hash output {sam:?}"))?
            .to_string();
        let sam_file = dir.path().join("sam");
        std::fs::write(&sam_file, sam.as_bytes()).map_err(|e| format!("write sam: {e}"))?;
        Ok(Prepared {
            dir,
            config,
            sam_file,
            user,
            password,
            nt_hash,
        })
    }

    fn spawn(spec: &ShadowSpec, p: Prepared, display: &str) -> Result<Shadow, String> {
        let addr = free_3389()?;
        let log = p.dir.path().join("shadow.log");
        let log_file = std::fs::File::create(&log).map_err(|e| format!("log: {e}"))?;
        let log_err = log_file.try_clone().map_err(|e| format!("log: {e}"))?;

        let mut cmd = Command::new("unshare");
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            // A user namespace gives an unprivileged user the right to a UTS namespace.
            cmd.args(["--user", "--map-root-user"]);
        }
        // The hostname and the argv go in as positional parameters: nothing is re-parsed by sh.
        cmd.args([
            "--uts",
            "sh",
            "-c",
            r#"hostname "$1" || exit 97; shift; exec "$@""#,
        ])
        .arg("rdpsweep-shadow")
        .arg(&spec.hostname)
        .arg("freerdp-shadow-cli")
        .arg(format!("/bind-address:{}", addr.ip()))
        .arg(format!("/port:{}", addr.port()))
        .arg("/sec:nla")
        .arg(format!("/sam-file:{}", p.sam_file.display()))
        .arg("+auth")
        .env("HOME", p.dir.path())
        .env("XDG_CONFIG_HOME", &p.config)
        .env("DISPLAY", display)
        .env_remove("LD_PRELOAD")
        .stdin(Stdio::null())
        .stdout(Stdio::from(log_file))
        .stderr(Stdio::from(log_err));
        if let Some(so) = &spec.preload {
            cmd.env("LD_PRELOAD", so);
        }
        die_with_parent(&mut cmd);
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start freerdp-shadow-cli: {e}"))?;
        Ok(Shadow {
            child,
            addr,
            spec: spec.clone(),
            user: p.user,
            password: p.password,
            nt_hash: p.nt_hash,
            log,
            _dir: p.dir,
        })
    }

    /// Ready once the port accepts a connection (the server logs that probe as a failed peer).
    fn ready(&mut self, deadline: Instant) -> Result<(), String> {
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "freerdp-shadow-cli for {} exited ({status}):\n{}",
                    self.spec.hostname,
                    self.log()
                ));
            }
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "freerdp-shadow-cli not listening on {}:\n{}",
                    self.addr,
                    self.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Shadow {
    fn drop(&mut self) {
        // Nothing to clean up on its side: no grace needed.
        stop(&mut self.child, Duration::ZERO);
    }
}

struct Prepared {
    dir: tempfile::TempDir,
    config: PathBuf,
    sam_file: PathBuf,
    user: String,
    password: String,
    nt_hash: String,
}

/// Shadow servers sharing one Xvfb. Field order is drop order: servers before their display.
pub struct Fleet {
    pub servers: Vec<Shadow>,
    xvfb: Xvfb,
    pki: Pki,
    _dir: tempfile::TempDir,
}

impl Fleet {
    /// Starts every spec in parallel: Xvfb boots while the keys and SAM files are made, then all
    /// servers are spawned at once and waited for together. Call on the test's own thread.
    pub fn start(specs: &[ShadowSpec]) -> Result<Fleet, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
        let xlog = dir.path().join("xvfb.log");
        // Xvfb is spawned first and its display number read last: it starts meanwhile.
        let xchild = Xvfb::spawn(&xlog)?;
        let prepared = (|| {
            let pki = Pki::new()?;
            let p = specs
                .iter()
                .map(|s| Shadow::prepare(s, &pki))
                .collect::<Result<Vec<_>, String>>()?;
            Ok::<_, String>((pki, p))
        })();
        let xvfb = Xvfb::ready(xchild, &xlog)?;
        let (pki, prepared) = prepared?;
        let mut servers = Vec::new();
        for (spec, p) in specs.iter().zip(prepared) {
            servers.push(Shadow::spawn(spec, p, &xvfb.display)?);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        for s in &mut servers {
            s.ready(deadline)?;
        }
        Ok(Fleet {
            servers,
            xvfb,
            pki,
            _dir: dir,
        })
    }

    /// The test CA that issued every server certificate (for `--ca-bundle`).
    pub fn ca_pem(&self) -> PathBuf {
        self.pki.ca_pem()
    }

    pub fn display(&self) -> &str {
        &self.xvfb.display
    }
}

// ---------------------------------------------------------------------------------------------
// Recording proxy

/// Bytes seen on one proxied connection.
#[derive(Clone, Debug, Default)]
pub struct ConnLog {
    /// Scanner -> server, every byte in order.
    pub c2s: Vec<u8>,
    /// Server -> scanner.
    pub s2c: Vec<u8>,
}

/// A transparent TCP relay on its own loopback address that records every byte.
pub struct RecordingProxy {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    logs: Arc<Mutex<Vec<Arc<Mutex<ConnLog>>>>>,
    workers: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: Option<JoinHandle<()>>,
}

impl RecordingProxy {
    /// Listens on a fresh 127.89.x.y:3389 and forwards each connection to `upstream`.
    pub fn start(upstream: SocketAddr) -> Result<RecordingProxy, String> {
        let (listener, addr) = bind_3389()?;
        let stop = Arc::new(AtomicBool::new(false));
        let logs: Arc<Mutex<Vec<Arc<Mutex<ConnLog>>>>> = Arc::default();
        let workers: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let accept = {
            let (stop, logs, workers) = (stop.clone(), logs.clone(), workers.clone());
            std::thread::spawn(move || {
                accept_loop(&listener, &stop, |client| {
                    let log = Arc::new(Mutex::new(ConnLog::default()));
                    if let Ok(mut l) = logs.lock() {
                        l.push(log.clone());
                    }
                    let h = std::thread::spawn(move || relay(client, upstream, &log));
                    if let Ok(mut w) = workers.lock() {
                        w.push(h);
                    }
                })
            })
        };
        Ok(RecordingProxy {
            addr,
            stop,
            logs,
            workers,
            accept: Some(accept),
        })
    }

    /// Stops accepting, waits for every relayed connection to end, returns the logs in
    /// accept order.
    pub fn finish(mut self) -> Vec<ConnLog> {
        self.shutdown();
        let logs = self.logs.lock().map(|l| l.clone()).unwrap_or_default();
        logs.iter()
            .map(|l| l.lock().map(|c| c.clone()).unwrap_or_default())
            .collect()
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(a) = self.accept.take() {
            let _ = a.join();
        }
        let workers = self
            .workers
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default();
        for w in workers {
            let _ = w.join();
        }
    }
}

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn bind_3389() -> Result<(TcpListener, SocketAddr), String> {
    for _ in 0..20 {
        let addr = SocketAddr::new(IpAddr::V4(loopback_ip()), 3389);
        if let Ok(l) = TcpListener::bind(addr) {
            l.set_nonblocking(true)
                .map_err(|e| format!("nonblocking: {e}"))?;
            return Ok((l, addr));
        }
    }
    Err("no 127.89.x.y:3389 free for a proxy".into())
}

/// Polls a non-blocking listener until `stop`; each accepted socket is made blocking.
fn accept_loop(listener: &TcpListener, stop: &AtomicBool, mut on_conn: impl FnMut(TcpStream)) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((s, _)) => {
                if s.set_nonblocking(false).is_ok() {
                    on_conn(s);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// Both directions until each side has closed (or 20 s of silence: a relay must never hang
/// the test).
fn relay(client: TcpStream, upstream: SocketAddr, log: &Arc<Mutex<ConnLog>>) {
    let Ok(server) = TcpStream::connect_timeout(&upstream, Duration::from_secs(5)) else {
        return;
    };
    let idle = Some(Duration::from_secs(20));
    for s in [&client, &server] {
        let _ = s.set_read_timeout(idle);
        let _ = s.set_nodelay(true);
    }
    let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let up = {
        let log = log.clone();
        std::thread::spawn(move || pump(c2, s2, &log, true))
    };
    pump(server, client, log, false);
    let _ = up.join();
}

fn pump(mut from: TcpStream, mut to: TcpStream, log: &Mutex<ConnLog>, c2s: bool) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let chunk = buf.get(..n).unwrap_or_default();
        if let Ok(mut l) = log.lock() {
            let side = if c2s { &mut l.c2s } else { &mut l.s2c };
            if side.len() + chunk.len() <= MAX_RECORD_BYTES {
                side.extend_from_slice(chunk);
            }
        }
        if to.write_all(chunk).is_err() {
            break;
        }
    }
    // Pass the half-close on, so the other side sees the same ending.
    let _ = to.shutdown(Shutdown::Write);
}

// ---------------------------------------------------------------------------------------------
// TLS-terminating relay

/// What the scanner sent on one connection through the [`Mitm`].
#[derive(Clone, Debug, Default)]
pub struct MitmLog {
    /// The X.224 request, as sent.
    pub x224: Vec<u8>,
    /// The server's X.224 reply.
    pub confirm: Vec<u8>,
    /// Every plaintext byte the scanner sent inside TLS, in order, up to its close.
    pub plaintext: Vec<u8>,
    /// Length of the server's TSRequest relayed back to the scanner (0: none).
    pub reply_len: usize,
    /// How the scanner's side ended after the reply: "close_notify", "eof", "reset", "timeout", ...
    pub ended: String,
}

/// Relays the X.224 exchange untouched; when the server selects HYBRID it terminates TLS with
/// the scanner (own throwaway certificate) and with the server (accept-any client), relays the
/// scanner's TSRequest and the server's answer, and keeps recording the scanner's plaintext
/// until it closes.
pub struct Mitm {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    logs: Arc<Mutex<Vec<Arc<Mutex<MitmLog>>>>>,
    workers: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: Option<JoinHandle<()>>,
}

impl Mitm {
    pub fn start(upstream: SocketAddr) -> Result<Mitm, String> {
        let server_cfg = mitm_server_config()?;
        let client_cfg = rdpsweep::tls::danger::TlsConfigs::new().any;
        let (listener, addr) = bind_3389()?;
        let stop = Arc::new(AtomicBool::new(false));
        let logs: Arc<Mutex<Vec<Arc<Mutex<MitmLog>>>>> = Arc::default();
        let workers: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let accept = {
            let (stop, logs, workers) = (stop.clone(), logs.clone(), workers.clone());
            std::thread::spawn(move || {
                accept_loop(&listener, &stop, |client| {
                    let log = Arc::new(Mutex::new(MitmLog::default()));
                    if let Ok(mut l) = logs.lock() {
                        l.push(log.clone());
                    }
                    let (sc, cc) = (server_cfg.clone(), client_cfg.clone());
                    let h = std::thread::spawn(move || {
                        let r = mitm_conn(client, upstream, sc, cc, &log);
                        if let (Err(e), Ok(mut l)) = (r, log.lock())
                            && l.ended.is_empty()
                        {
                            l.ended = format!("error: {e}");
                        }
                    });
                    if let Ok(mut w) = workers.lock() {
                        w.push(h);
                    }
                })
            })
        };
        Ok(Mitm {
            addr,
            stop,
            logs,
            workers,
            accept: Some(accept),
        })
    }

    pub fn finish(mut self) -> Vec<MitmLog> {
        self.shutdown();
        let logs = self.logs.lock().map(|l| l.clone()).unwrap_or_default();
        logs.iter()
            .map(|l| l.lock().map(|c| c.clone()).unwrap_or_default())
            .collect()
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(a) = self.accept.take() {
            let _ = a.join();
        }
        let workers = self
            .workers
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default();
        for w in workers {
            let _ = w.join();
        }
    }
}

impl Drop for Mitm {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn mitm_server_config() -> Result<Arc<rustls::ServerConfig>, String> {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let ck = rcgen::generate_simple_self_signed(vec!["mitm.test".to_string()])
        .map_err(|e| format!("rcgen: {e}"))?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("versions: {e}"))?
    .with_no_client_auth()
    .with_single_cert(vec![CertificateDer::from(ck.cert.der().to_vec())], key)
    .map_err(|e| format!("server config: {e}"))?;
    Ok(Arc::new(cfg))
}

/// One TPKT (4-byte header, big-endian length), bounded.
fn read_tpkt(s: &mut TcpStream) -> Result<Vec<u8>, String> {
    let mut head = [0u8; 4];
    s.read_exact(&mut head).map_err(|e| format!("tpkt: {e}"))?;
    let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
    if head[0] != 3 || !(4..=4096).contains(&len) {
        return Err(format!("not a TPKT: {head:02x?}"));
    }
    let mut pdu = head.to_vec();
    pdu.resize(len, 0);
    s.read_exact(pdu.get_mut(4..).unwrap_or_default())
        .map_err(|e| format!("tpkt body: {e}"))?;
    Ok(pdu)
}

/// Reads plaintext until `buf` holds one complete TSRequest (DER), or the peer stops.
fn read_ts_request(r: &mut impl Read, buf: &mut Vec<u8>) -> Result<(), String> {
    let mut chunk = [0u8; 4096];
    loop {
        if let rdpsweep::rdp::Parse::Done(_) = rdpsweep::rdp::credssp::parse_ts_request(buf) {
            return Ok(());
        }
        if buf.len() > rdpsweep::rdp::credssp::MAX_TS_REQUEST {
            return Err("TSRequest too large".into());
        }
        match r.read(&mut chunk) {
            Ok(0) => return Err("closed before a whole TSRequest".into()),
            Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            Err(e) => return Err(format!("read: {e}")),
        }
    }
}

fn mitm_conn(
    mut client: TcpStream,
    upstream: SocketAddr,
    server_cfg: Arc<rustls::ServerConfig>,
    client_cfg: Arc<rustls::ClientConfig>,
    log: &Mutex<MitmLog>,
) -> Result<(), String> {
    let set = |f: &dyn Fn(&mut MitmLog)| {
        if let Ok(mut l) = log.lock() {
            f(&mut l);
        }
    };
    let timeout = Some(Duration::from_secs(10));
    client
        .set_read_timeout(timeout)
        .map_err(|e| e.to_string())?;
    let mut server = TcpStream::connect_timeout(&upstream, Duration::from_secs(5))
        .map_err(|e| format!("upstream: {e}"))?;
    server
        .set_read_timeout(timeout)
        .map_err(|e| e.to_string())?;

    let cr = read_tpkt(&mut client)?;
    set(&|l| l.x224 = cr.clone());
    server.write_all(&cr).map_err(|e| e.to_string())?;
    let cc = read_tpkt(&mut server)?;
    set(&|l| l.confirm = cc.clone());
    client.write_all(&cc).map_err(|e| e.to_string())?;
    // RDP_NEG_RSP (type 2) at offset 11 with selectedProtocol (LE u32) at 15: TLS follows only
    // for SSL/HYBRID/HYBRID_EX. Anything else (a failure code) ends the connection here.
    let selected = match (cc.get(11), cc.get(15..19)) {
        (Some(2), Some(p)) => u32::from_le_bytes([p[0], p[1], p[2], p[3]]),
        _ => {
            let mut rest = Vec::new();
            let _ = client.read_to_end(&mut rest);
            set(&|l| {
                l.plaintext = rest.clone();
                l.ended = "no TLS".into();
            });
            return Ok(());
        }
    };
    if selected & 0x0A == 0 {
        return Err(format!("server selected {selected}, not HYBRID"));
    }

    let sconn = rustls::ServerConnection::new(server_cfg).map_err(|e| e.to_string())?;
    let mut to_scanner = rustls::StreamOwned::new(sconn, client);
    let name = rustls::pki_types::ServerName::IpAddress(upstream.ip().into());
    let cconn = rustls::ClientConnection::new(client_cfg, name).map_err(|e| e.to_string())?;
    let mut to_server = rustls::StreamOwned::new(cconn, server);

    let mut req = Vec::new();
    let r = read_ts_request(&mut to_scanner, &mut req);
    set(&|l| l.plaintext = req.clone());
    r?;
    to_server.write_all(&req).map_err(|e| e.to_string())?;
    to_server.flush().map_err(|e| e.to_string())?;
    let mut reply = Vec::new();
    read_ts_request(&mut to_server, &mut reply)?;
    to_scanner.write_all(&reply).map_err(|e| e.to_string())?;
    to_scanner.flush().map_err(|e| e.to_string())?;
    set(&|l| l.reply_len = reply.len());

    // Everything the scanner sends from now on is recorded; it should send nothing but its
    // close (rustls reports a close_notify as Ok(0)).
    let mut chunk = [0u8; 4096];
    let ended = loop {
        match to_scanner.read(&mut chunk) {
            Ok(0) => break "close_notify".to_string(),
            Ok(n) => set(&|l| {
                if l.plaintext.len() + n <= MAX_RECORD_BYTES {
                    l.plaintext
                        .extend_from_slice(chunk.get(..n).unwrap_or_default());
                }
            }),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break "eof".to_string(),
            // The scanner closes abortively (SO_LINGER 0) once it has its answer.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                break "reset".to_string();
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break "timeout".to_string(),
            Err(e) => break format!("error: {e}"),
        }
    };
    set(&|l| l.ended = ended.clone());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// TLS record view of a byte stream

/// One TLS record header as seen on the wire: content type and payload length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    pub content_type: u8,
    pub version: u16,
    pub len: usize,
}

/// Splits `bytes` into TLS records. Err when the stream is not a clean record sequence (a
/// trailing partial record, or a header that is not TLS).
pub fn tls_records(bytes: &[u8]) -> Result<Vec<Record>, String> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let (Some(&ct), Some(v), Some(l)) = (rest.first(), rest.get(1..3), rest.get(3..5)) else {
            return Err(format!("partial record header at the end: {rest:02x?}"));
        };
        if !(20..=24).contains(&ct) || v[0] != 3 {
            return Err(format!("not a TLS record header: {:02x?}", rest.get(..5)));
        }
        let len = usize::from(u16::from_be_bytes([l[0], l[1]]));
        let Some(next) = rest.get(5 + len..) else {
            return Err(format!("partial record: header says {len} bytes"));
        };
        out.push(Record {
            content_type: ct,
            version: u16::from_be_bytes([v[0], v[1]]),
            len,
        });
        rest = next;
    }
    Ok(out)
}
