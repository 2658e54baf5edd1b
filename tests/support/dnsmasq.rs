//! Starts and stops a real dnsmasq on a loopback address for tests.
//!
//! Use from a test file with `#[path = "support/dnsmasq.rs"] mod dnsmasq;`.
//! The process is started in the foreground (`-k`), with no config file, no resolv.conf and
//! no /etc/hosts, so only the arguments given by the test define its zone. It is killed when
//! the `Dnsmasq` value is dropped. Logs (with every query) go to a file, see `Dnsmasq::log`.

#![allow(dead_code)] // each test file uses a different part of this helper

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

/// Where Debian's dnsmasq-base puts the binary.
pub const DNSMASQ: &str = "/usr/sbin/dnsmasq";

/// The dnsmasq binary, or `None` after a loud message when it is missing and `CI` is unset.
///
/// # Panics
/// When dnsmasq is missing and the `CI` environment variable is set: CI must run this test.
pub fn binary_or_skip(test: &str) -> Option<PathBuf> {
    let path = Path::new(DNSMASQ);
    if path.exists() {
        return Some(path.to_path_buf());
    }
    if std::env::var_os("CI").is_some() {
        panic!("{test}: {DNSMASQ} is missing on CI; install the dnsmasq-base package");
    }
    eprintln!("\n*** SKIPPED {test}: {DNSMASQ} not found (apt-get install dnsmasq-base) ***\n");
    None
}

/// A fresh loopback address 127.53.P.N: P from the process id, N a per-process counter, so
/// parallel tests and test binaries rarely share an address (ports are free ones anyway).
pub fn loopback_ip() -> IpAddr {
    static NEXT: AtomicU8 = AtomicU8::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed).clamp(1, 254);
    let p = u8::try_from(std::process::id() % 250).unwrap_or(0) + 1;
    IpAddr::V4(Ipv4Addr::new(127, 53, p, n))
}

/// A port free for both UDP and TCP on `ip` right now.
pub fn free_port(ip: IpAddr) -> std::io::Result<u16> {
    for _ in 0..50 {
        let udp = UdpSocket::bind(SocketAddr::new(ip, 0))?;
        let port = udp.local_addr()?.port();
        if TcpListener::bind(SocketAddr::new(ip, port)).is_ok() {
            return Ok(port);
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AddrInUse,
        "no port free for both UDP and TCP",
    ))
}

/// A running dnsmasq.
pub struct Dnsmasq {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Dnsmasq {
    /// Starts dnsmasq on a fresh loopback address and free port, with `zone` arguments such as
    /// `--local=/lab.test/`, `--host-record=...`, `--cname=...`, `--server=/dom/IP#PORT`.
    /// Returns once it accepts TCP connections (it opens UDP and TCP together).
    pub fn start(binary: &Path, zone: &[String]) -> Result<Dnsmasq, String> {
        let mut last = String::new();
        // A free port can be taken between the check and dnsmasq's bind: try a few.
        for _ in 0..3 {
            match Self::start_once(binary, zone) {
                Ok(d) => return Ok(d),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn start_once(binary: &Path, zone: &[String]) -> Result<Dnsmasq, String> {
        let ip = loopback_ip();
        let port = free_port(ip).map_err(|e| format!("no free port on {ip}: {e}"))?;
        let addr = SocketAddr::new(ip, port);
        let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
        let log = dir.path().join("dnsmasq.log");
        let log_file = std::fs::File::create(&log).map_err(|e| format!("log file: {e}"))?;

        let mut cmd = Command::new(binary);
        cmd.arg("--keep-in-foreground")
            .arg("--conf-file=/dev/null")
            .arg("--no-resolv")
            .arg("--no-hosts")
            .arg("--no-poll")
            .arg(format!("--listen-address={ip}"))
            .arg("--bind-interfaces")
            .arg(format!("--port={port}"))
            .arg("--pid-file=") // no pid file
            .arg("--log-queries")
            .arg("--log-facility=-") // stderr, into `log`
            .args(zone)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log_file));
        // As root dnsmasq would switch to "nobody"; stay root so nothing depends on that user.
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } == 0 {
            cmd.arg("--user=root");
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let mut d = Dnsmasq {
            child,
            addr,
            log,
            _dir: dir,
        };

        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = d.child.try_wait() {
                return Err(format!("dnsmasq exited ({status}) at start:\n{}", d.log()));
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(d);
            }
            if Instant::now() > deadline {
                return Err(format!("dnsmasq not listening on {addr}:\n{}", d.log()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Address and port it answers on (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Everything dnsmasq logged so far (start-up, each query and forward).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        // Our own child, by its handle: never by name.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
