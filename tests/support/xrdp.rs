//! Starts and stops real xrdp listeners on loopback, and makes their certificates.
//!
//! Use from a test file with `#[path = "support/xrdp.rs"] mod xrdp;`.
//! Each instance runs `xrdp --nodaemon --config INI` (one listener, no sesman: the handshake
//! needs none) with its own ini in a tempdir, listening on `tcp://127.88.P.N:3389` so instances
//! never collide on the port. It is killed when the `Xrdp` value is dropped.
//!
//! What xrdp 0.9.21 touches, observed with strace: it reads the ini, appends to the `LogFile`
//! the ini names (here inside the tempdir), reads `/etc/xrdp/rsakeys.ini` (standard RDP
//! security), checks `/run/xrdp/sockdir`, and refuses to start when `/var/run/xrdp/xrdp.pid`
//! exists ("already running") even with `--nodaemon`, which writes no pid file. So a running
//! system xrdp service breaks these tests: `start` reports that case by name.

#![allow(dead_code)] // each test file uses a different part of this helper

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

/// Where Debian's xrdp package puts the binary.
pub const XRDP: &str = "/usr/sbin/xrdp";
/// The openssl CLI (certificates and thumbprints).
pub const OPENSSL: &str = "/usr/bin/openssl";
/// Port every instance listens on: the RDP default, so nmap's portrule (3389) matches.
pub const PORT: u16 = 3389;
/// The pid file whose mere existence makes xrdp exit at start.
const SYSTEM_PID_FILE: &str = "/var/run/xrdp/xrdp.pid";

/// `path` when it exists; otherwise `None` after a loud message, or a panic when `CI` is set
/// (CI must run these tests; `.ci/run` installs the package).
pub fn tool_or_skip(test: &str, path: &str, package: &str) -> Option<PathBuf> {
    let p = Path::new(path);
    if p.exists() {
        return Some(p.to_path_buf());
    }
    if std::env::var_os("CI").is_some() {
        panic!("{test}: {path} is missing on CI; install the {package} package");
    }
    eprintln!("\n*** SKIPPED {test}: {path} not found (apt-get install {package}) ***\n");
    None
}

/// A fresh loopback address 127.88.P.N: P from the process id, N a per-process counter, so
/// parallel tests and test binaries rarely share an address (and `start` checks anyway).
pub fn loopback_ip() -> Ipv4Addr {
    let p = u8::try_from(std::process::id() % 250).unwrap_or(0) + 1;
    Ipv4Addr::new(
        127,
        BLOCK.load(Ordering::Relaxed),
        p,
        NEXT.fetch_add(1, Ordering::Relaxed).clamp(1, 254),
    )
}

static NEXT: AtomicU8 = AtomicU8::new(1);
/// The second octet of every instance's address: 88 unless a test file picks its own block
/// ([`use_block`]), so test binaries running side by side never share addresses.
static BLOCK: AtomicU8 = AtomicU8::new(88);

/// Puts this test binary's instances in 127.`block`.x.y.
pub fn use_block(block: u8) {
    BLOCK.store(block, Ordering::Relaxed);
}

/// One instance's `[Globals]` settings (docs/protocol.md §11.1).
#[derive(Debug, Clone)]
pub struct XrdpConfig {
    /// `rdp`, `tls`, `hybrid` or `negotiate`.
    pub security_layer: &'static str,
    /// `none`, `low`, `medium`, `high` or `fips`.
    pub crypt_level: &'static str,
    pub certificate: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    /// e.g. `TLSv1.2, TLSv1.3` (xrdp's default) or `TLSv1`.
    pub ssl_protocols: Option<String>,
    /// OpenSSL cipher string, e.g. `AES128-SHA` or `DEFAULT:@SECLEVEL=0`.
    pub tls_ciphers: Option<String>,
}

impl XrdpConfig {
    pub fn new(security_layer: &'static str) -> XrdpConfig {
        XrdpConfig {
            security_layer,
            crypt_level: "high",
            certificate: None,
            key_file: None,
            ssl_protocols: None,
            tls_ciphers: None,
        }
    }

    /// The ini text for a listener on `addr`, logging into `log`.
    pub fn ini(&self, addr: SocketAddr, log: &Path) -> String {
        let path = |p: &Option<PathBuf>| {
            p.as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        };
        let mut s = String::new();
        s.push_str("[Globals]\nini_version=1\n");
        // One process, a thread per connection: nothing outlives the child we kill.
        s.push_str("fork=false\n");
        s.push_str(&format!("port=tcp://{}:{}\n", addr.ip(), addr.port()));
        s.push_str("tcp_nodelay=true\n");
        s.push_str(&format!("security_layer={}\n", self.security_layer));
        s.push_str(&format!("crypt_level={}\n", self.crypt_level));
        // Empty means /etc/xrdp/{cert,key}.pem: never wanted here, tests name their own files.
        s.push_str(&format!("certificate={}\n", path(&self.certificate)));
        s.push_str(&format!("key_file={}\n", path(&self.key_file)));
        if let Some(p) = &self.ssl_protocols {
            s.push_str(&format!("ssl_protocols={p}\n"));
        }
        if let Some(c) = &self.tls_ciphers {
            s.push_str(&format!("tls_ciphers={c}\n"));
        }
        s.push_str("[Logging]\n");
        s.push_str(&format!("LogFile={}\n", log.display()));
        s.push_str("LogLevel=DEBUG\nEnableSyslog=false\nEnableConsole=false\n");
        s.push_str("[Channels]\n");
        s
    }
}

/// A running xrdp listener.
pub struct Xrdp {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Xrdp {
    /// Starts xrdp with `cfg` on a fresh 127.88.x.y address (or the [`use_block`] block), port 3389. Returns once it accepts
    /// TCP connections.
    pub fn start(binary: &Path, cfg: &XrdpConfig) -> Result<Xrdp, String> {
        if Path::new(SYSTEM_PID_FILE).exists() {
            return Err(format!(
                "{SYSTEM_PID_FILE} exists: xrdp refuses to start while it does (stop the system \
                 xrdp service, or remove a stale pid file)"
            ));
        }
        Self::start_with(binary, cfg, loopback_ip)
    }

    /// Like [`Xrdp::start`], with addresses from `next_ip` (a test file's own loopback block,
    /// or one fixed address to restart a listener where it was).
    pub fn start_with(
        binary: &Path,
        cfg: &XrdpConfig,
        next_ip: impl Fn() -> Ipv4Addr,
    ) -> Result<Xrdp, String> {
        if Path::new(SYSTEM_PID_FILE).exists() {
            return Err(format!(
                "{SYSTEM_PID_FILE} exists: stop the system xrdp service"
            ));
        }
        let mut last = String::new();
        // An address can be taken between the check and xrdp's bind: try a few.
        for _ in 0..3 {
            match Self::start_once(binary, cfg, next_ip()) {
                Ok(x) => return Ok(x),
                Err(e) => {
                    last = e;
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
        }
        Err(last)
    }

    fn start_once(binary: &Path, cfg: &XrdpConfig, ip: Ipv4Addr) -> Result<Xrdp, String> {
        let addr = SocketAddr::new(IpAddr::V4(ip), PORT);
        // Skip addresses something already listens on (another test run, a leftover).
        drop(TcpListener::bind(addr).map_err(|e| format!("{addr} is taken: {e}"))?);
        let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
        let log = dir.path().join("xrdp.log");
        let ini = dir.path().join("xrdp.ini");
        std::fs::write(&ini, cfg.ini(addr, &log)).map_err(|e| format!("write ini: {e}"))?;
        let out = std::fs::File::create(dir.path().join("stdout.txt"))
            .map_err(|e| format!("stdout file: {e}"))?;
        let err = out.try_clone().map_err(|e| format!("stdout file: {e}"))?;
        let child = Command::new(binary)
            .arg("--nodaemon")
            .arg("--config")
            .arg(&ini)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let mut x = Xrdp {
            child,
            addr,
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = x.child.try_wait() {
                return Err(format!("xrdp exited ({status}) at start:\n{}", x.output()));
            }
            // One plain connect: xrdp logs it as a client that left, nothing more.
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(x);
            }
            if Instant::now() > deadline {
                return Err(format!("xrdp not listening on {addr}:\n{}", x.output()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Address and port it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn ip(&self) -> IpAddr {
        self.addr.ip()
    }

    /// Everything xrdp logged so far, plus its stdout/stderr (for failure messages).
    pub fn output(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let out = self
            .log
            .parent()
            .map(|d| std::fs::read_to_string(d.join("stdout.txt")).unwrap_or_default())
            .unwrap_or_default();
        format!("{log}{out}")
    }
}

impl Drop for Xrdp {
    fn drop(&mut self) {
        // Our own child, by its handle: never by name.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `openssl` with `args`; stdout on success, stderr in the error.
pub fn openssl(binary: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new(binary)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    if !out.status.success() {
        return Err(format!(
            "openssl {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn path_str(p: &Path) -> Result<&str, String> {
    p.to_str()
        .ok_or_else(|| format!("{} is not UTF-8", p.display()))
}

/// A new RSA-2048 private key (PKCS#8 PEM) at `out`.
pub fn rsa_key(binary: &Path, out: &Path) -> Result<(), String> {
    openssl(
        binary,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            path_str(out)?,
        ],
    )
    .map(drop)
}

/// A self-signed certificate for `key` with CN and DNS SAN `name`, valid from now for `days`
/// days, SHA-256 signature (what Windows makes for RDP, in shape).
pub fn self_signed(
    binary: &Path,
    key: &Path,
    name: &str,
    days: u32,
    out: &Path,
) -> Result<(), String> {
    openssl(
        binary,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            path_str(key)?,
            "-sha256",
            "-subj",
            &format!("/CN={name}"),
            "-addext",
            &format!("subjectAltName=DNS:{name}"),
            "-days",
            &days.to_string(),
            "-out",
            path_str(out)?,
        ],
    )
    .map(drop)
}

/// A self-signed certificate for `key` (PKCS#8 PEM, RSA) with CN and DNS SAN `name`, valid only
/// in January 2020: expired. rcgen rather than `openssl req`, which cannot backdate without
/// faketime (not a CI package).
pub fn expired_self_signed(key: &Path, name: &str, out: &Path) -> Result<(), String> {
    let pem = std::fs::read_to_string(key).map_err(|e| format!("{}: {e}", key.display()))?;
    let kp = rcgen::KeyPair::from_pem(&pem).map_err(|e| format!("key: {e}"))?;
    let mut params =
        rcgen::CertificateParams::new(vec![name.to_string()]).map_err(|e| format!("{e}"))?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2020, 1, 31);
    let cert = params
        .self_signed(&kp)
        .map_err(|e| format!("self-sign: {e}"))?;
    std::fs::write(out, cert.pem()).map_err(|e| format!("{}: {e}", out.display()))
}

/// Facts about a PEM certificate as the openssl CLI reports them: an independent view to
/// compare the scanner's certificate columns with.
#[derive(Debug, Clone)]
pub struct OpensslView {
    /// Upper-case hex, no colons (certlm.msc style).
    pub sha1: String,
    pub sha256: String,
    /// `notAfter` as openssl prints it, e.g. `Jan 31 00:00:00 2020 GMT`.
    pub not_after: String,
}

pub fn openssl_view(binary: &Path, cert: &Path) -> Result<OpensslView, String> {
    let c = path_str(cert)?;
    let fp = |alg: &str| -> Result<String, String> {
        let out = openssl(binary, &["x509", "-noout", "-fingerprint", alg, "-in", c])?;
        // "sha1 Fingerprint=AA:BB:..." (the prefix's case varies between versions)
        let hex = out
            .trim()
            .split_once('=')
            .map(|(_, v)| v.replace(':', ""))
            .ok_or_else(|| format!("unexpected fingerprint output {out:?}"))?;
        Ok(hex.to_ascii_uppercase())
    };
    let end = openssl(binary, &["x509", "-noout", "-enddate", "-in", c])?;
    Ok(OpensslView {
        sha1: fp("-sha1")?,
        sha256: fp("-sha256")?,
        not_after: end
            .trim()
            .strip_prefix("notAfter=")
            .unwrap_or(end.trim())
            .to_string(),
    })
}
