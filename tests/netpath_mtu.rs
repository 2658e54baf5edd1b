//! The network path against a REAL xrdp in a network namespace this test creates, behind
//! nftables rules in that namespace (no netem on this kernel):
//! - an MTU blackhole: packets the server sends longer than 600 bytes are dropped, no ICMP. The
//!   first TLS flight stalls; the MSS-clamped retry gets it: `path-mtu-blackhole` with the
//!   certificate facts still reported.
//! - loss: every other data segment from the scanner dropped (deterministic), and a 20 % random
//!   drop both ways: `network-lossy` with a retransmission count.
//!
//! The scanner runs in the root namespace and talks only to 10.214.P.x addresses on a veth pair
//! into the namespace. Namespace, veth and xrdp are removed when the test ends, failed or not.
//! Needs root, `ip`, `nft` and xrdp: skipped loudly otherwise, failed on CI.

#[path = "support/csv_rows.rs"]
mod csv_rows;
#[path = "support/xrdp.rs"]
mod xrdp;

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdpsweep::model::{FindingCode, HostReport, TlsStatus};
use xrdp::XrdpConfig;

const BIN: &str = env!("CARGO_BIN_EXE_rdpsweep");
const IP: &str = "/usr/sbin/ip";
const NFT: &str = "/usr/sbin/nft";

/// Skip (loudly) or, on CI, fail when this test cannot build namespaces or start xrdp.
fn prerequisites(test: &str) -> Option<PathBuf> {
    let why = if unsafe_geteuid() != 0 {
        Some("not root (network namespaces need CAP_NET_ADMIN)".to_string())
    } else if !Path::new(IP).exists() || !Path::new(NFT).exists() {
        Some(format!(
            "{IP} or {NFT} missing (apt-get install iproute2 nftables)"
        ))
    } else {
        None
    };
    if let Some(why) = why {
        if std::env::var_os("CI").is_some() {
            panic!("{test}: {why}");
        }
        eprintln!("\n*** SKIPPED {test}: {why} ***\n");
        return None;
    }
    xrdp::tool_or_skip(test, xrdp::XRDP, "xrdp")?;
    xrdp::tool_or_skip(test, xrdp::OPENSSL, "openssl")
}

fn unsafe_geteuid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A namespace holding one end of a veth pair (10.214.P.4k+2), the other end in the root
/// namespace (.4k+1), and the xrdp started in it. Dropping it kills xrdp and deletes both.
struct Netns {
    name: String,
    host_if: String,
    server: Ipv4Addr,
    xrdp: Option<Child>,
    _dir: tempfile::TempDir,
    log: PathBuf,
}

impl Netns {
    /// `k` (0..63) picks the /30 and the names; `rules` is the nft ruleset loaded inside.
    fn new(k: u8, rules: &str) -> Result<Netns, String> {
        let pid = std::process::id();
        let p = u8::try_from(pid % 250).unwrap_or(0);
        // Interface names are at most 15 bytes.
        let tag = format!("{}{k}", pid % 100_000);
        let ns = Netns {
            name: format!("rswmtu{tag}"),
            host_if: format!("rswh{tag}"),
            server: Ipv4Addr::new(10, 214, p, 4 * k + 2),
            xrdp: None,
            _dir: tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?,
            log: PathBuf::new(),
        };
        let peer = format!("rsws{tag}");
        let host_ip = Ipv4Addr::new(10, 214, p, 4 * k + 1);
        run(Command::new(IP).args(["netns", "add", &ns.name]))?;
        run(Command::new(IP).args([
            "link",
            "add",
            &ns.host_if,
            "type",
            "veth",
            "peer",
            "name",
            &peer,
        ]))?;
        run(Command::new(IP).args(["link", "set", &peer, "netns", &ns.name]))?;
        run(Command::new(IP).args(["addr", "add", &format!("{host_ip}/30"), "dev", &ns.host_if]))?;
        run(Command::new(IP).args(["link", "set", &ns.host_if, "up"]))?;
        let inside = |args: &[&str]| {
            let mut c = Command::new(IP);
            c.args(["-n", &ns.name]).args(args);
            run(&mut c)
        };
        inside(&["addr", "add", &format!("{}/30", ns.server), "dev", &peer])?;
        // One segment per packet leaving the server: nftables' output hook sees a TCP
        // segmentation-offload packet before it is cut to MSS-sized segments, and `ip length`
        // must judge the packets the wire carries.
        inside(&["link", "set", &peer, "gso_max_segs", "1", "up"])?;
        inside(&["link", "set", "lo", "up"])?;
        let mut nft = Command::new(IP)
            .args(["netns", "exec", &ns.name, NFT, "-f", "-"])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("nft: {e}"))?;
        if let Some(mut stdin) = nft.stdin.take() {
            stdin
                .write_all(rules.as_bytes())
                .map_err(|e| format!("nft stdin: {e}"))?;
        }
        let out = nft.wait_with_output().map_err(|e| format!("nft: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "nft rules refused: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(ns)
    }

    /// xrdp (security negotiate, a self-signed certificate for `name`) on the namespace's
    /// address, port 3389; returns once it accepts connections from the root namespace.
    fn start_xrdp(&mut self, openssl: &Path, name: &str) -> Result<(), String> {
        let dir = self._dir.path().to_path_buf();
        let key = dir.join("key.pem");
        let cert = dir.join("cert.pem");
        xrdp::rsa_key(openssl, &key)?;
        xrdp::self_signed(openssl, &key, name, 365, &cert)?;
        let cfg = XrdpConfig {
            certificate: Some(cert),
            key_file: Some(key),
            ..XrdpConfig::new("negotiate")
        };
        let addr = self.addr();
        self.log = dir.join("xrdp.log");
        let ini = dir.join("xrdp.ini");
        std::fs::write(&ini, cfg.ini(addr, &self.log)).map_err(|e| format!("ini: {e}"))?;
        let child = Command::new(IP)
            .args([
                "netns",
                "exec",
                &self.name,
                xrdp::XRDP,
                "--nodaemon",
                "--config",
            ])
            .arg(&ini)
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("xrdp: {e}"))?;
        self.xrdp = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(Ok(Some(st))) = self.xrdp.as_mut().map(|c| c.try_wait()) {
                return Err(format!("xrdp exited ({st}):\n{}", self.output()));
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("xrdp not listening on {addr}:\n{}", self.output()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::new(IpAddr::V4(self.server), xrdp::PORT)
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Counters of the namespace's nft rules (for failure messages).
    fn ruleset(&self) -> String {
        run(Command::new(IP).args(["netns", "exec", &self.name, NFT, "list", "ruleset"]))
            .unwrap_or_else(|e| e)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        if let Some(mut c) = self.xrdp.take() {
            // Our own child (ip netns exec execs xrdp in place), by its handle.
            let _ = c.kill();
            let _ = c.wait();
        }
        // Deleting the namespace deletes the veth end in it, and with it the pair.
        let _ = run(Command::new(IP).args(["netns", "del", &self.name]));
        let _ = run(Command::new(IP).args(["link", "del", &self.host_if]));
    }
}

struct Scan {
    row: std::collections::HashMap<String, String>,
    report: HostReport,
}

/// The real binary against the namespace's xrdp, standard depth, one attempt.
fn scan(ns: &Netns) -> Scan {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("out.csv");
    let jsonl = dir.path().join("out.jsonl");
    let out = Command::new(BIN)
        .args(["scan", &ns.server.to_string()])
        .args(["--depth", "standard", "--rate", "0", "--retries", "0"])
        .args(["--connect-timeout", "5s", "--timeout", "4s"])
        .args(["--host-deadline", "40s", "--host-spacing", "10ms", "-q"])
        .arg("--csv")
        .arg(&csv)
        .arg("--jsonl")
        .arg(&jsonl)
        .output()
        .expect("run rdpsweep");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "rdpsweep exited {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let mut rows = csv_rows::read_csv(&csv).1;
    let mut reports = rdpsweep::report::jsonl::read_reports(&jsonl).expect("jsonl");
    assert_eq!((rows.len(), reports.len()), (1, 1));
    Scan {
        row: rows.remove(0),
        report: reports.remove(0),
    }
}

fn codes(r: &HostReport) -> Vec<FindingCode> {
    r.findings.iter().map(|f| f.code).collect()
}

#[test]
fn mtu_blackhole_is_found_and_the_certificate_still_read() {
    let Some(openssl) = prerequisites("mtu_blackhole_is_found_and_the_certificate_still_read")
    else {
        return;
    };
    // Everything the server sends over 600 bytes vanishes, and no ICMP says so.
    let rules = "table inet rswmtu {\n chain out {\n  type filter hook output priority 0; policy accept;\n  ip length > 600 counter drop\n }\n}\n";
    let mut ns = Netns::new(0, rules).expect("namespace");
    let name = "mtu.rdpsweep.test";
    ns.start_xrdp(&openssl, name)
        .expect("xrdp in the namespace");
    let s = scan(&ns);
    let r = &s.report;
    let ctx = || format!("{:#?}\n{}\n{}", r.findings, ns.ruleset(), ns.output());
    assert_eq!(r.verdict, FindingCode::PathMtuBlackhole, "{}", ctx());
    let f = r.findings.first().expect("a finding");
    assert!(f.detail.contains("clamped to 536"), "{}", f.detail);
    let net = r.record.net.as_ref().expect("network facts");
    assert_eq!(net.clamped_mss, Some(536));
    // The probe continued on the clamped connection: TLS and the certificate are there.
    assert_eq!(r.record.tls.as_ref().map(|t| t.status), Some(TlsStatus::Ok));
    let cert = r.record.cert.as_ref().expect("certificate facts");
    assert!(cert.subject.contains(name), "{}", cert.subject);
    assert!(s.row["cert_subject"].contains(name), "{:?}", s.row);
    assert!(!s.row["cert_sha256"].is_empty());
    assert!(!s.row["handshake_ms"].is_empty(), "{:?}", s.row);
    // Within the standard budget: first, the MSS retry, one matrix request.
    assert!(
        r.record.connections <= 3,
        "{} connections",
        r.record.connections
    );
    assert!(!codes(r).contains(&FindingCode::TlsStalled), "{}", ctx());
}

#[test]
fn dropped_data_segments_are_network_lossy() {
    let Some(openssl) = prerequisites("dropped_data_segments_are_network_lossy") else {
        return;
    };
    // Every other data segment the scanner sends (not SYN/FIN/RST, longer than a bare ACK with
    // timestamps) is dropped on its way in: each is retransmitted once.
    let rules = "table inet rswloss {\n chain in {\n  type filter hook input priority 0; policy accept;\n  tcp dport 3389 tcp flags & (syn | fin | rst) == 0 ip length > 52 numgen inc mod 2 == 0 counter drop\n }\n}\n";
    let mut ns = Netns::new(1, rules).expect("namespace");
    ns.start_xrdp(&openssl, "lossy.rdpsweep.test")
        .expect("xrdp in the namespace");
    let s = scan(&ns);
    let r = &s.report;
    let ctx = || format!("{:#?}\n{:#?}\n{}", r.findings, r.record.net, ns.ruleset());
    let net = r.record.net.as_ref().expect("network facts");
    assert!(net.retransmits >= 1, "{}", ctx());
    assert_eq!(s.row["retransmits"], net.retransmits.to_string());
    // xrdp also accepts standard RDP security (downgrade-possible), which outranks loss.
    assert!(codes(r).contains(&FindingCode::NetworkLossy), "{}", ctx());
    assert_ne!(r.verdict, FindingCode::Ok, "{}", ctx());
    assert!(r.record.cert.is_some(), "{}", ctx());
    assert!(!s.row["srtt_ms"].is_empty() && !s.row["rtt_var_ms"].is_empty());
}

#[test]
fn random_loss_is_network_lossy() {
    let Some(openssl) = prerequisites("random_loss_is_network_lossy") else {
        return;
    };
    // A fifth of the packets both ways, at random.
    let rules = "table inet rswrand {\n chain in {\n  type filter hook input priority 0; policy accept;\n  tcp dport 3389 numgen random mod 100 < 20 counter drop\n }\n chain out {\n  type filter hook output priority 0; policy accept;\n  tcp sport 3389 numgen random mod 100 < 20 counter drop\n }\n}\n";
    let mut ns = Netns::new(2, rules).expect("namespace");
    ns.start_xrdp(&openssl, "random.rdpsweep.test")
        .expect("xrdp in the namespace");
    // Random loss can spare a scan's few segments: up to three scans, one must see it.
    let mut seen = Vec::new();
    for _ in 0..3 {
        let s = scan(&ns);
        let n = s.report.record.net.clone().unwrap_or_default();
        seen.push((codes(&s.report), n.retransmits));
        if n.retransmits > 0 {
            assert!(
                codes(&s.report).contains(&FindingCode::NetworkLossy),
                "{seen:?}"
            );
            assert_eq!(s.row["retransmits"], n.retransmits.to_string());
            return;
        }
    }
    panic!(
        "three scans, no retransmission seen: {seen:?}\n{}",
        ns.ruleset()
    );
}
