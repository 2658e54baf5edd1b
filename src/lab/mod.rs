//! The lab: a simulated fleet of RDP servers on loopback, with planted faults.
//!
//! One process plays many hosts on 127.0.0.0/8: every host gets its own address (consecutive from
//! [`LabConfig::base`]) and its own listener, so behaviour is chosen by the address a connection was
//! accepted on, exactly as a scanner sees a real fleet. An optional authoritative DNS server
//! answers for the zone `lab.test`. Used by tests, benchmarks and `rdpsweep demo`.
//!
//! What each behaviour does on the wire is documented on [`Behavior`]; the verdict code each host
//! should get is [`Behavior::expected`] (also the `expected` column of [`Lab::inventory_csv`]).
//!
//! File descriptors: one per listening host, plus one or two per `Filtered` host (the connections
//! that fill its accept queue), two for DNS, and one per open connection (twice that when the
//! scanner runs in the same process). [`Lab::start`] raises `RLIMIT_NOFILE` to what the fleet needs
//! (root may raise the hard limit too, up to `fs.nr_open`) and fails with a clear message otherwise.
//!
//! Nothing here is meant for a network other than loopback: [`Lab::start`] refuses other bases.
//!
//! Network-path faults (issue 14) the lab plays, and those it leaves to the namespace tests:
//! a path-MTU blackhole ([`TlsMode::MtuBlackhole`], decided by the MSS the client's SYN
//! advertised), a filtered RDP port whose host is up ([`Behavior::Filtered`]: the companion
//! ports get RSTs), and RDP over UDP answered, closed or dropped ([`UdpMode`]). Not here, because
//! loopback cannot fake them honestly: a lossy path (needs packets really dropped:
//! tests/netpath_mtu.rs, nftables `numgen random` in a namespace), an ICMP
//! administratively-prohibited reject from a router (nftables `reject with icmp`:
//! tests/netpath_alive.rs), and a down host, which must be silent on 445 and 135 as well: on
//! loopback that means binding those privileged ports, so `rdpsweep demo` would need root
//! (tests/netpath_alive.rs uses a namespace whose input policy drops everything).

mod certs;
mod dns;
mod server;
mod udp;
mod wire;

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::task::JoinHandle;

use crate::model::FindingCode;

pub use certs::{KeyAlg, LabKeys, WEAK_CERT_DER};

/// The DNS zone the lab is authoritative for.
pub const ZONE: &str = "lab.test";

/// How a simulated host decides the reply to each X.224 Connection Request (docs/protocol.md §4).
/// Values are selectedProtocol, or "F n" for RDP_NEG_FAILURE n.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RdpPolicy {
    /// Windows with NLA required: 0x0B->8, 0x03->2, 0x01->F5, 0->F5.
    WindowsNla,
    /// Windows, NLA not required, SecurityLayer=SSL: 0x0B->8, 0x03->2, 0x01->1, 0->F1.
    WindowsTls,
    /// Windows, SecurityLayer=Negotiate, NLA off: as WindowsTls but 0->0.
    WindowsNegotiate,
    /// Standard RDP Security only: F2 to anything with a protocol bit, 0->0.
    RdpOnly,
    /// xrdp 0.9 `security_layer=negotiate`: never HYBRID (0x0B->1, 0x0A->0, 0->0), flags 0x01,
    /// bare CC without RDP_NEG_REQ, DPUm to requestedProtocols > 0x0B or unknown flags.
    XrdpLike,
    /// The certificate cannot be loaded: F3 to SSL/HYBRID, 0->0.
    CertMissing,
}

/// The certificate a TLS-speaking host serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertKind {
    /// Issued by the lab CA, CN/SAN = the host's name (and its IP), valid for a year.
    Valid,
    /// Issued by the lab CA, expired 30 days ago.
    Expired,
    /// Issued by the lab CA, expires in 10 days.
    Expiring,
    /// Issued by the lab CA, valid from 30 days from now.
    NotYetValid,
    /// Issued by the lab CA for `other-server.lab.test`.
    WrongName,
    /// Self-signed like Windows' own: CN = the host's name, no SAN, 6 months.
    SelfSigned,
    /// Valid, but carrying a 100 KiB extension (hostile: above every client's message cap).
    Huge,
    /// Valid (lab CA, SAN = the host's name), but the subject CN is `<script>alert(1)</script>`
    /// and the O is a spreadsheet formula: for the report-injection tests.
    HostileSubject,
}

/// What happens after a CC that selected SSL or HYBRID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlsMode {
    /// A rustls server completes the handshake.
    Normal,
    /// The ClientHello is answered with a TCP RST (unreadable private key on Windows).
    ResetAfterHello,
    /// The server never sends a TLS byte (hung service, or a path-MTU blackhole).
    Stall,
    /// A path-MTU blackhole in front of a healthy server: loopback cannot lose big packets, so
    /// the server stalls exactly when they would be lost, i.e. when the client's SYN advertised
    /// an MSS above what the emulated path carries (`server::PATH_MSS`), and serves TLS when a
    /// clamped MSS made every segment small.
    MtuBlackhole,
}

/// What the CredSSP side answers to the client's first TSRequest (NTLM NEGOTIATE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NlaMode {
    /// TSRequest version 6 (CVE-2018-0886 fixed) with an NTLM CHALLENGE.
    Patched,
    /// TSRequest version 3 (before the 2018 updates) with an NTLM CHALLENGE.
    Unpatched,
    /// CHALLENGE whose computer names belong to another machine (`OLDSRV07`): stale DNS.
    NameMismatch,
    /// CHALLENGE whose timestamp is two hours ahead of the lab's clock.
    ClockSkew,
    /// TCP RST right after the client's TSRequest.
    ResetAfterRequest,
    /// TSRequest carrying this errorCode (NTSTATUS, e.g. 0xC000006D) instead of a CHALLENGE.
    ErrorCode(u32),
    /// Hostile: a reply whose inner DER length runs far past the end.
    MalformedReply,
    /// Hostile: CHALLENGE whose TargetInfo offset points past the end of the message.
    BadOffsets,
}

/// What a host does on its RDP port over UDP (MS-RDPEUDP, docs/protocol.md §12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UdpMode {
    /// A UDP socket that answers every SYN with the spec's SYN+ACK (Windows' default).
    Answer,
    /// No UDP socket: loopback answers the SYN with ICMP port unreachable (`refused`).
    Closed,
    /// A UDP socket that reads and never answers, as behind a filter that drops UDP
    /// (`no-answer`).
    Silent,
}

/// NTLM identity a host claims in its CHALLENGE (None fields: derived from the host's DNS name).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct NtlmNames {
    pub nb_computer: Option<String>,
    pub nb_domain: Option<String>,
    pub dns_computer: Option<String>,
    pub dns_domain: Option<String>,
    pub dns_tree: Option<String>,
}

/// An RDP server: negotiation policy, certificate, TLS behaviour and CredSSP behaviour.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RdpHost {
    pub policy: RdpPolicy,
    pub cert: CertKind,
    pub tls: TlsMode,
    pub nla: NlaMode,
    /// NTLM Version (major, minor, build), e.g. (10, 0, 20348) = Server 2022.
    pub os_version: (u8, u8, u16),
    pub names: NtlmNames,
    /// RDP over UDP: Windows policies answer (as Windows does by default), the others
    /// (xrdp, RDP-only, certificate missing) have no UDP socket.
    pub udp: UdpMode,
}

impl RdpHost {
    /// A healthy host with `policy`: valid certificate, normal TLS, patched CredSSP, Server 2022.
    pub fn new(policy: RdpPolicy) -> RdpHost {
        RdpHost {
            policy,
            cert: CertKind::Valid,
            tls: TlsMode::Normal,
            nla: NlaMode::Patched,
            os_version: (10, 0, 20348),
            names: NtlmNames::default(),
            udp: match policy {
                RdpPolicy::WindowsNla | RdpPolicy::WindowsTls | RdpPolicy::WindowsNegotiate => {
                    UdpMode::Answer
                }
                _ => UdpMode::Closed,
            },
        }
    }
    pub fn udp(mut self, udp: UdpMode) -> RdpHost {
        self.udp = udp;
        self
    }
    pub fn cert(mut self, cert: CertKind) -> RdpHost {
        self.cert = cert;
        self
    }
    pub fn tls(mut self, tls: TlsMode) -> RdpHost {
        self.tls = tls;
        self
    }
    pub fn nla(mut self, nla: NlaMode) -> RdpHost {
        self.nla = nla;
        self
    }
    pub fn os(mut self, major: u8, minor: u8, build: u16) -> RdpHost {
        self.os_version = (major, minor, build);
        self
    }
}

/// Stream-level hostile behaviours (robustness tests for the scanner).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hostile {
    /// After the CR: random bytes, forever (as fast as the client reads).
    EndlessBytes,
    /// After the CR: a TPKT header announcing 0xFFFF bytes, then one byte every 2 s.
    TpktTrickle,
    /// A valid CC selecting SSL, then random bytes instead of TLS.
    CcThenGarbage,
    /// CC selecting SSL; after the ClientHello a record header announcing 16 KiB, then one byte
    /// every 2 s.
    TlsRecordTrickle,
    /// After the CR: FIN (half-close), while still reading whatever the client sends.
    HalfOpenFin,
}

/// What a simulated host does. Hosts without a listener or with odd answers model the causes of
/// mstsc 0x904/0x7 (docs/protocol.md §10).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Behavior {
    /// No listener at the address: the kernel answers the SYN with RST (port-closed).
    Closed,
    /// A listener with backlog 0 whose accept queue the lab fills itself and never accepts: on
    /// Linux (tcp_abort_on_overflow = 0, the default) further SYNs are dropped, so connects time
    /// out as behind a firewall (port-filtered). With tcp_abort_on_overflow = 1 they get RST.
    Filtered,
    /// Accepts, reads, never answers.
    Tarpit,
    /// Accepts, then closes with FIN (and drains what the client sends, so no RST follows).
    AcceptClose,
    /// Accepts, then closes with SO_LINGER 0: RST.
    ResetOnAccept,
    /// A real-looking RDP server.
    Rdp(RdpHost),
    /// Random bytes in reply to the CR.
    Garbage,
    /// "HTTP/1.1 400 Bad Request" in reply to the CR.
    Http,
    /// The bare 11-byte CC of servers that predate negotiation (XP/2003).
    LegacyCc,
    /// xrdp's MCS Disconnect-Provider-Ultimatum `03 00 00 09 02 F0 80 21 80`, then close.
    Dpum,
    /// RST right after the CR.
    RdpReset,
    /// Server 2008 R2 without KB3080079: CC selecting SSL, then a hand-written TLS 1.0 ServerHello +
    /// Certificate (RSA-2048, lab CA) + ServerHelloDone; alert 70 to a hello without TLS 1.0.
    Tls10Only,
    /// Server 2012 R2 with an RSA certificate: TLS 1.2 (or the client's highest <= 1.2) with
    /// TLS_RSA_WITH_AES_128_CBC_SHA to a hello offering it, alert 40 otherwise.
    CbcOnlyTls12,
    /// As CbcOnlyTls12, serving the RSA-1024 / sha1WithRSA self-signed fixture certificate.
    WeakCert,
    Hostile(Hostile),
}

impl Behavior {
    /// The verdict code a scanner should give this host: the primary finding's code from
    /// diagnose/, or "ok" when nothing is at warn or above.
    pub fn expected(&self) -> FindingCode {
        match self {
            Behavior::Closed => FindingCode::PortClosed,
            Behavior::Filtered => FindingCode::PortFiltered,
            Behavior::Tarpit => FindingCode::RdpNoReply,
            Behavior::AcceptClose | Behavior::ResetOnAccept | Behavior::RdpReset => {
                FindingCode::RdpReset
            }
            Behavior::Garbage | Behavior::Http => FindingCode::NotRdp,
            Behavior::LegacyCc => FindingCode::RdpLegacy,
            Behavior::Dpum => FindingCode::RdpRequestRejected,
            Behavior::Tls10Only => FindingCode::TlsLegacyOnly,
            // TLS 1.2 with CBC suites is fine for mstsc (info); the raw responder also accepts
            // standard RDP security, which is the warning that remains.
            Behavior::CbcOnlyTls12 => FindingCode::DowngradePossible,
            Behavior::WeakCert => FindingCode::CertWeak,
            Behavior::Hostile(h) => match h {
                Hostile::EndlessBytes => FindingCode::NotRdp,
                Hostile::TpktTrickle => FindingCode::RdpNoReply,
                Hostile::CcThenGarbage => FindingCode::TlsHandshakeFailed,
                Hostile::TlsRecordTrickle => FindingCode::TlsStalled,
                Hostile::HalfOpenFin => FindingCode::RdpReset,
            },
            Behavior::Rdp(h) => match h.policy {
                RdpPolicy::RdpOnly => FindingCode::RdpSecurityOnly,
                RdpPolicy::CertMissing => FindingCode::CertMissing,
                _ => match h.tls {
                    TlsMode::ResetAfterHello => FindingCode::TlsResetAfterHello,
                    TlsMode::Stall => FindingCode::TlsStalled,
                    TlsMode::MtuBlackhole => FindingCode::PathMtuBlackhole,
                    TlsMode::Normal => match h.cert {
                        CertKind::Expired => FindingCode::CertExpired,
                        CertKind::NotYetValid => FindingCode::CertNotYetValid,
                        CertKind::Huge => FindingCode::TlsHandshakeFailed,
                        CertKind::WrongName => FindingCode::CertNameMismatch,
                        // Windows' default: an info finding, so the verdict stays ok.
                        CertKind::SelfSigned => FindingCode::Ok,
                        CertKind::Expiring => FindingCode::CertExpiring,
                        // Standard RDP security still accepted next to TLS.
                        CertKind::Valid
                            if matches!(
                                h.policy,
                                RdpPolicy::XrdpLike | RdpPolicy::WindowsNegotiate
                            ) =>
                        {
                            FindingCode::DowngradePossible
                        }
                        CertKind::Valid | CertKind::HostileSubject => match h.nla {
                            NlaMode::Patched => FindingCode::Ok,
                            NlaMode::Unpatched => FindingCode::CredsspUnpatched,
                            NlaMode::NameMismatch => FindingCode::NameMismatch,
                            NlaMode::ClockSkew => FindingCode::ClockSkew,
                            NlaMode::ResetAfterRequest => FindingCode::CredsspFailed,
                            NlaMode::ErrorCode(_) => FindingCode::CredsspError,
                            NlaMode::MalformedReply | NlaMode::BadOffsets => {
                                FindingCode::CredsspFailed
                            }
                        },
                    },
                },
            },
        }
    }

    /// The inventory `owner` column: which team would fix this (groups the demo report).
    fn owner(&self) -> &'static str {
        match self {
            Behavior::Closed | Behavior::Filtered => "network",
            Behavior::Hostile(_) => "hostile",
            Behavior::Rdp(h) => match (h.policy, h.tls, h.cert, h.nla) {
                (RdpPolicy::CertMissing, ..) => "pki",
                (_, TlsMode::ResetAfterHello | TlsMode::Stall, ..) => "servers",
                (_, TlsMode::MtuBlackhole, ..) => "network",
                (_, _, CertKind::Valid, NlaMode::Patched) => "servers",
                (_, _, CertKind::Valid, _) => "identity",
                _ => "pki",
            },
            Behavior::WeakCert => "pki",
            _ => "servers",
        }
    }

    /// Hosts that may select HYBRID: every plaintext byte a client sends them is kept (stats).
    fn captures(&self) -> bool {
        matches!(self, Behavior::Rdp(h) if matches!(h.policy, RdpPolicy::WindowsNla | RdpPolicy::WindowsTls | RdpPolicy::WindowsNegotiate))
    }
}

/// One simulated host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabHost {
    /// DNS name in the lab zone, e.g. "good-tls.lab.test".
    pub name: Option<String>,
    pub addr: IpAddr,
    pub port: u16,
    pub behavior: Behavior,
    /// What this host demonstrates.
    pub note: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabConfig {
    /// First address, e.g. 127.77.0.1; hosts get consecutive addresses.
    pub base: Ipv4Addr,
    /// Port every host listens on (3389).
    pub port: u16,
    /// Also run the authoritative DNS server for `lab.test`.
    pub dns: bool,
}

/// Accept timestamps kept (most recent).
pub const ACCEPT_RING: usize = 8192;
/// Plaintext bytes kept per capturing host.
pub const CAPTURE_CAP: usize = 64 * 1024;

/// A snapshot of what clients did to the lab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabStats {
    pub total_accepted: u64,
    /// One entry per host, in `Lab::hosts` order.
    pub hosts: Vec<HostStats>,
    /// The most recent accepts (at most [`ACCEPT_RING`]), oldest first.
    pub accepts: Vec<(IpAddr, Instant)>,
}

impl LabStats {
    pub fn host(&self, addr: IpAddr) -> Option<&HostStats> {
        self.hosts.iter().find(|h| h.addr == addr)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostStats {
    pub addr: IpAddr,
    pub accepted: u64,
    /// Raw TCP bytes received (before TLS decryption).
    pub bytes_received: u64,
    /// On hosts that may select HYBRID: the client's bytes in plaintext (the X.224 CR and everything
    /// sent inside TLS), at most [`CAPTURE_CAP`]; used to prove that no credentials were sent.
    pub captured: Vec<u8>,
}

/// Per-host counters, shared by the host's connections.
struct HostState {
    addr: IpAddr,
    accepted: AtomicU64,
    bytes: AtomicU64,
    capture: Option<Mutex<Vec<u8>>>,
}

struct Shared {
    hosts: Vec<HostState>,
    total: AtomicU64,
    accepts: Mutex<VecDeque<(IpAddr, Instant)>>,
}

impl Shared {
    fn record_accept(&self, idx: usize) {
        self.total.fetch_add(1, Ordering::Relaxed);
        if let Some(h) = self.hosts.get(idx) {
            h.accepted.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut ring) = self.accepts.lock() {
                if ring.len() >= ACCEPT_RING {
                    ring.pop_front();
                }
                ring.push_back((h.addr, Instant::now()));
            }
        }
    }

    fn add_bytes(&self, idx: usize, n: usize) {
        if let Some(h) = self.hosts.get(idx) {
            h.bytes.fetch_add(n as u64, Ordering::Relaxed);
        }
    }

    fn capture(&self, idx: usize, bytes: &[u8]) {
        let Some(Some(cap)) = self.hosts.get(idx).map(|h| h.capture.as_ref()) else {
            return;
        };
        if let Ok(mut c) = cap.lock() {
            let room = CAPTURE_CAP.saturating_sub(c.len());
            c.extend_from_slice(bytes.get(..room.min(bytes.len())).unwrap_or_default());
        }
    }
}

/// A special DNS name of the lab zone, as it appears in the inventory.
#[derive(Debug, Clone)]
struct DnsRow {
    name: String,
    expected: FindingCode,
    expect_ip: Option<IpAddr>,
}

/// A running lab. Dropping it stops every listener and connection; [`Lab::shutdown`] also waits.
pub struct Lab {
    pub hosts: Vec<LabHost>,
    pub dns_addr: Option<SocketAddr>,
    /// The lab CA certificate (PEM), for `--ca-bundle`.
    pub ca_pem: String,
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
    dns_rows: Vec<DnsRow>,
}

impl std::fmt::Debug for Lab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lab")
            .field("hosts", &self.hosts.len())
            .field("dns_addr", &self.dns_addr)
            .finish()
    }
}

/// Fully qualified lab name: a bare label gets `.lab.test`.
fn qualify(name: &str) -> String {
    let n = name.trim().trim_end_matches('.').to_ascii_lowercase();
    if n.contains('.') {
        n
    } else {
        format!("{n}.{ZONE}")
    }
}

fn nth_addr(base: Ipv4Addr, i: usize) -> std::io::Result<Ipv4Addr> {
    let a = u32::from(base)
        .checked_add(u32::try_from(i).unwrap_or(u32::MAX))
        .filter(|a| *a < u32::from(Ipv4Addr::new(127, 255, 255, 255)))
        .ok_or_else(|| {
            std::io::Error::other(
                "lab addresses run past 127.255.255.254: lower --base or use fewer hosts",
            )
        })?;
    Ok(Ipv4Addr::from(a))
}

impl Lab {
    /// Start every host (and the DNS server when `cfg.dns`). Names without a dot get `.lab.test`.
    pub async fn start(
        cfg: LabConfig,
        hosts: Vec<(Option<&str>, Behavior, &'static str)>,
    ) -> std::io::Result<Lab> {
        Lab::start_inner(cfg, hosts, false, LabKeys::default()).await
    }

    async fn start_inner(
        cfg: LabConfig,
        hosts: Vec<(Option<&str>, Behavior, &'static str)>,
        lazy_certs: bool,
        keys: LabKeys,
    ) -> std::io::Result<Lab> {
        if cfg.base.octets()[0] != 127 || cfg.base.octets() == [127, 0, 0, 0] {
            return Err(std::io::Error::other(format!(
                "lab base {} is not a loopback host address: use 127.x.y.z",
                cfg.base
            )));
        }
        let mut lab_hosts = Vec::with_capacity(hosts.len());
        for (i, (name, behavior, note)) in hosts.into_iter().enumerate() {
            lab_hosts.push(LabHost {
                name: name.map(qualify),
                addr: IpAddr::V4(nth_addr(cfg.base, i)?),
                port: cfg.port,
                behavior,
                note,
            });
        }
        let filtered = lab_hosts
            .iter()
            .filter(|h| h.behavior == Behavior::Filtered)
            .count();
        let udp = lab_hosts
            .iter()
            .filter(|h| server::udp_mode(&h.behavior).is_some())
            .count();
        server::raise_nofile(lab_hosts.len() + 3 * filtered + udp + 256)?;

        let shared = Arc::new(Shared {
            hosts: lab_hosts
                .iter()
                .map(|h| HostState {
                    addr: h.addr,
                    accepted: AtomicU64::new(0),
                    bytes: AtomicU64::new(0),
                    capture: h.behavior.captures().then(|| Mutex::new(Vec::new())),
                })
                .collect(),
            total: AtomicU64::new(0),
            accepts: Mutex::new(VecDeque::new()),
        });
        let pki = Arc::new(certs::Pki::with_keys(keys)?);
        let mut tasks = Vec::new();
        let started = server::start_hosts(&lab_hosts, &shared, &pki, lazy_certs, &mut tasks).await;
        if let Err(e) = started {
            for t in &tasks {
                t.abort();
            }
            return Err(e);
        }

        let mut dns_addr = None;
        let mut dns_rows = Vec::new();
        if cfg.dns {
            let last = nth_addr(cfg.base, lab_hosts.len())?;
            let (zone, rows) = dns::Zone::build(&lab_hosts, last);
            dns_rows = rows;
            let preferred = {
                let o = cfg.base.octets();
                Ipv4Addr::new(o[0], o[1], 255, 53)
            };
            let in_use = lab_hosts.iter().any(|h| h.addr == IpAddr::V4(preferred))
                || zone.uses(IpAddr::V4(preferred));
            let ip = if in_use {
                nth_addr(cfg.base, lab_hosts.len() + 1)?
            } else {
                preferred
            };
            match dns::serve(ip, zone, &mut tasks).await {
                Ok(a) => dns_addr = Some(a),
                Err(e) => {
                    for t in &tasks {
                        t.abort();
                    }
                    return Err(e);
                }
            }
        }
        Ok(Lab {
            hosts: lab_hosts,
            dns_addr,
            ca_pem: pki.ca_pem.clone(),
            shared,
            tasks,
            dns_rows,
        })
    }

    /// Every behaviour once, with names (the `rdpsweep demo` fleet).
    pub fn demo_fleet() -> Vec<(Option<&'static str>, Behavior, &'static str)> {
        use Behavior as B;
        let rdp = |p| B::Rdp(RdpHost::new(p));
        let nla = || RdpHost::new(RdpPolicy::WindowsNla);
        vec![
            (
                Some("good-nla"),
                rdp(RdpPolicy::WindowsNla),
                "healthy Server 2022: NLA required, valid certificate, patched CredSSP",
            ),
            (
                Some("good-tls"),
                rdp(RdpPolicy::WindowsTls),
                "TLS security layer, NLA offered but not required",
            ),
            (
                Some("negotiate"),
                rdp(RdpPolicy::WindowsNegotiate),
                "Negotiate security layer: also accepts Standard RDP Security",
            ),
            (
                Some("rdp-only"),
                rdp(RdpPolicy::RdpOnly),
                "SecurityLayer=RDP: refuses TLS and NLA (failure 2)",
            ),
            (
                Some("xrdp"),
                rdp(RdpPolicy::XrdpLike),
                "xrdp 0.9: TLS but never NLA, flags 0x01",
            ),
            (
                Some("cert-missing"),
                rdp(RdpPolicy::CertMissing),
                "no usable certificate: failure 3",
            ),
            (
                Some("cert-expired"),
                B::Rdp(nla().cert(CertKind::Expired)),
                "certificate expired 30 days ago",
            ),
            (
                Some("cert-expiring"),
                B::Rdp(nla().cert(CertKind::Expiring)),
                "certificate expires in 10 days",
            ),
            (
                Some("cert-future"),
                B::Rdp(nla().cert(CertKind::NotYetValid)),
                "certificate not valid for another 30 days (clock or issuance error)",
            ),
            (
                Some("cert-wrongname"),
                B::Rdp(nla().cert(CertKind::WrongName)),
                "certificate issued to another server",
            ),
            (
                Some("cert-selfsigned"),
                B::Rdp(nla().cert(CertKind::SelfSigned)),
                "Windows' default self-signed certificate",
            ),
            (
                Some("tls-reset"),
                B::Rdp(nla().tls(TlsMode::ResetAfterHello)),
                "accepts TLS, resets on the ClientHello: unreadable private key (classic 0x904/0x7)",
            ),
            (
                Some("tls-stall"),
                B::Rdp(nla().tls(TlsMode::Stall)),
                "CC arrives, TLS flight never does: hung service or MTU blackhole",
            ),
            (
                Some("mtu-blackhole"),
                B::Rdp(nla().tls(TlsMode::MtuBlackhole)),
                "VPN path drops full-size packets, no ICMP: TLS arrives only with a clamped MSS",
            ),
            (
                Some("nla-unpatched"),
                B::Rdp(nla().nla(NlaMode::Unpatched).os(10, 0, 14393)),
                "Server 2016 without the 2018 CredSSP updates (TSRequest v3)",
            ),
            (
                Some("ntlm-mismatch"),
                B::Rdp(nla().nla(NlaMode::NameMismatch)),
                "DNS name points at a machine that calls itself OLDSRV07: stale record",
            ),
            (
                Some("clock-skew"),
                B::Rdp(nla().nla(NlaMode::ClockSkew)),
                "server clock two hours ahead (Kerberos breaks at 5 minutes)",
            ),
            (
                Some("nla-reset"),
                B::Rdp(nla().nla(NlaMode::ResetAfterRequest)),
                "resets the connection on the CredSSP request",
            ),
            (
                Some("nla-error"),
                B::Rdp(nla().nla(NlaMode::ErrorCode(0xC000_006D))),
                "CredSSP answers errorCode 0xC000006D (logon failure)",
            ),
            (
                Some("udp-closed"),
                B::Rdp(nla().udp(UdpMode::Closed)),
                "RDP over TCP works, no UDP listener (transport set to TCP only): ICMP port unreachable",
            ),
            (
                Some("udp-silent"),
                B::Rdp(nla().udp(UdpMode::Silent)),
                "RDP over TCP works, UDP 3389 dropped on the way: the RDP-UDP SYN gets no answer",
            ),
            (Some("closed"), B::Closed, "nothing listens: RST to SYN"),
            (
                Some("filtered"),
                B::Filtered,
                "SYN dropped: connect times out as behind a firewall",
            ),
            (Some("tarpit"), B::Tarpit, "accepts, never answers the CR"),
            (
                Some("accept-close"),
                B::AcceptClose,
                "accepts, then closes (FIN)",
            ),
            (
                Some("reset-on-accept"),
                B::ResetOnAccept,
                "accepts, then resets (RST)",
            ),
            (
                Some("garbage"),
                B::Garbage,
                "answers the CR with random bytes",
            ),
            (Some("http"), B::Http, "an HTTP server on the RDP port"),
            (
                Some("legacy"),
                B::LegacyCc,
                "Windows 2003/XP: bare CC, no negotiation",
            ),
            (
                Some("dpum"),
                B::Dpum,
                "xrdp rejecting the request (MCS Disconnect-Provider-Ultimatum)",
            ),
            (
                Some("rdp-reset"),
                B::RdpReset,
                "RST right after the CR (connection limit, IPS)",
            ),
            (
                Some("tls10"),
                B::Tls10Only,
                "Server 2008 R2 without KB3080079: TLS 1.0 only",
            ),
            (
                Some("cbc-only"),
                B::CbcOnlyTls12,
                "Server 2012 R2 with an RSA certificate: TLS 1.2 with CBC suites only",
            ),
            (
                Some("weak-cert"),
                B::WeakCert,
                "RSA-1024 / SHA-1 self-signed certificate",
            ),
            (
                Some("h-endless"),
                B::Hostile(Hostile::EndlessBytes),
                "hostile: endless bytes after the CR",
            ),
            (
                Some("h-tpkt-trickle"),
                B::Hostile(Hostile::TpktTrickle),
                "hostile: TPKT length 0xFFFF, then one byte every 2 s",
            ),
            (
                Some("h-cc-garbage"),
                B::Hostile(Hostile::CcThenGarbage),
                "hostile: CC selecting SSL, then garbage",
            ),
            (
                Some("h-tls-trickle"),
                B::Hostile(Hostile::TlsRecordTrickle),
                "hostile: TLS record header for 16 KiB, then a trickle",
            ),
            (
                Some("h-huge-cert"),
                B::Rdp(nla().cert(CertKind::Huge)),
                "hostile: a 100 KiB certificate",
            ),
            (
                Some("h-bad-der"),
                B::Rdp(nla().nla(NlaMode::MalformedReply)),
                "hostile: malformed DER TSRequest reply",
            ),
            (
                Some("h-bad-ntlm"),
                B::Rdp(nla().nla(NlaMode::BadOffsets)),
                "hostile: CHALLENGE with offsets past the end",
            ),
            (
                Some("h-half-open"),
                B::Hostile(Hostile::HalfOpenFin),
                "hostile: FIN after the CR, still reading",
            ),
        ]
    }

    /// A realistic mix of `n` unnamed hosts for benchmarks, deterministic by index: 75% healthy
    /// NLA, 8% TLS without NLA, 4% expired certificate, 3% closed, 2% filtered, 3% RDP-only,
    /// 3% TLS 1.0 only, 2% unpatched CredSSP. No DNS. Certificates (IP SAN) are made on a host's
    /// first TLS connection and shared by all later ones, so starting 65k hosts stays fast.
    /// Needs about n + 0.06 n file descriptors plus the open connections (see the module docs).
    pub async fn scale(n: usize, base: Ipv4Addr, port: u16) -> std::io::Result<Lab> {
        Lab::scale_with_keys(n, base, port, LabKeys::default()).await
    }

    /// [`Lab::scale`] with chosen key algorithms (RSA-2048 = what a Windows fleet costs).
    pub async fn scale_with_keys(
        n: usize,
        base: Ipv4Addr,
        port: u16,
        keys: LabKeys,
    ) -> std::io::Result<Lab> {
        Lab::scale_fleet(n, base, port, keys, false).await
    }

    /// [`Lab::scale_with_keys`] as an untouched Windows fleet looks: every valid certificate is
    /// the machine's own self-signed one (CN = `lab-A-B-C.lab.test`, the name its NTLM
    /// CHALLENGE announces, no SAN), so an IP scan needs each host's PTR name to judge it.
    pub async fn scale_self_signed(
        n: usize,
        base: Ipv4Addr,
        port: u16,
        keys: LabKeys,
    ) -> std::io::Result<Lab> {
        Lab::scale_fleet(n, base, port, keys, true).await
    }

    async fn scale_fleet(
        n: usize,
        base: Ipv4Addr,
        port: u16,
        keys: LabKeys,
        self_signed: bool,
    ) -> std::io::Result<Lab> {
        let hosts = (0..n)
            .map(|i| {
                let mut b = scale_behavior(i);
                if let Behavior::Rdp(h) = &mut b
                    && self_signed
                    && h.cert == CertKind::Valid
                {
                    h.cert = CertKind::SelfSigned;
                }
                (None, b, scale_note(i))
            })
            .collect();
        Lab::start_inner(
            LabConfig {
                base,
                port,
                dns: false,
            },
            hosts,
            true,
            keys,
        )
        .await
    }

    /// Inventory for this fleet: `host,port,site,owner,expected,expect_ip`, one row per host (its
    /// name, else its IP), plus the special DNS names when DNS runs. `expected` is the verdict code
    /// ([`Behavior::expected`]; for DNS names, dns-nxdomain / dns-nodata / dns-servfail /
    /// dns-refused / dns-timeout / dns-mismatch, or the worst verdict of the addresses).
    /// `expect_ip` is only set where a row tests it (wrongip.lab.test).
    pub fn inventory_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut rows: Vec<[String; 6]> = Vec::with_capacity(self.hosts.len() + self.dns_rows.len());
        for h in &self.hosts {
            rows.push([
                h.name.clone().unwrap_or_else(|| h.addr.to_string()),
                h.port.to_string(),
                "lab".into(),
                h.behavior.owner().into(),
                h.behavior.expected().to_string(),
                String::new(),
            ]);
        }
        let port = self.hosts.first().map(|h| h.port).unwrap_or(3389);
        for r in &self.dns_rows {
            rows.push([
                r.name.clone(),
                port.to_string(),
                "lab".into(),
                "dns".into(),
                r.expected.to_string(),
                r.expect_ip.map(|i| i.to_string()).unwrap_or_default(),
            ]);
        }
        let header = ["host", "port", "site", "owner", "expected", "expect_ip"];
        let _ = w.write_record(header);
        for r in &rows {
            let _ = w.write_record(r);
        }
        let bytes = w.into_inner().unwrap_or_default();
        String::from_utf8(bytes).unwrap_or_default()
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> LabStats {
        LabStats {
            total_accepted: self.shared.total.load(Ordering::Relaxed),
            hosts: self
                .shared
                .hosts
                .iter()
                .map(|h| HostStats {
                    addr: h.addr,
                    accepted: h.accepted.load(Ordering::Relaxed),
                    bytes_received: h.bytes.load(Ordering::Relaxed),
                    captured: h
                        .capture
                        .as_ref()
                        .and_then(|c| c.lock().ok().map(|c| c.clone()))
                        .unwrap_or_default(),
                })
                .collect(),
            accepts: self
                .shared
                .accepts
                .lock()
                .map(|r| r.iter().copied().collect())
                .unwrap_or_default(),
        }
    }

    /// The host listening on `addr`.
    pub fn host(&self, addr: IpAddr) -> Option<&LabHost> {
        self.hosts.iter().find(|h| h.addr == addr)
    }

    /// The host named `name` (with or without `.lab.test`).
    pub fn by_name(&self, name: &str) -> Option<&LabHost> {
        let q = qualify(name);
        self.hosts
            .iter()
            .find(|h| h.name.as_deref() == Some(q.as_str()))
    }

    /// Stop every listener, connection and the DNS server, and wait until they are gone.
    pub async fn shutdown(mut self) {
        let tasks = std::mem::take(&mut self.tasks);
        for t in &tasks {
            t.abort();
        }
        for t in tasks {
            let _ = t.await;
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// The machine name of a host without a DNS name (NTLM, self-signed certificate):
/// `lab-A-B-C` from the last three octets of its address.
pub fn unnamed_label(addr: IpAddr) -> String {
    match addr {
        IpAddr::V4(a) => {
            let o = a.octets();
            format!("lab-{}-{}-{}", o[1], o[2], o[3])
        }
        IpAddr::V6(_) => "lab-host".to_string(),
    }
}

fn scale_bucket(i: usize) -> usize {
    // 37 is coprime with 100: buckets are spread over the index range instead of in blocks.
    (i % 100 * 37) % 100
}

fn scale_behavior(i: usize) -> Behavior {
    let nla = RdpHost::new(RdpPolicy::WindowsNla);
    match scale_bucket(i) {
        0..75 => Behavior::Rdp(nla),
        75..83 => Behavior::Rdp(RdpHost::new(RdpPolicy::WindowsTls)),
        83..87 => Behavior::Rdp(nla.cert(CertKind::Expired)),
        87..90 => Behavior::Closed,
        90..92 => Behavior::Filtered,
        92..95 => Behavior::Rdp(RdpHost::new(RdpPolicy::RdpOnly)),
        95..98 => Behavior::Tls10Only,
        _ => Behavior::Rdp(nla.nla(NlaMode::Unpatched).os(10, 0, 14393)),
    }
}

fn scale_note(i: usize) -> &'static str {
    match scale_bucket(i) {
        0..75 => "healthy, NLA required",
        75..83 => "TLS, NLA not required",
        83..87 => "expired certificate",
        87..90 => "closed port",
        90..92 => "filtered port",
        92..95 => "Standard RDP Security only",
        95..98 => "TLS 1.0 only",
        _ => "CredSSP unpatched",
    }
}
