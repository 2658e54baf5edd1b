//! Listeners and per-connection behaviour of the simulated hosts.
//!
//! Every read is bounded in bytes (a TPKT is at most 64 KiB, a TSRequest 64 KiB, a ClientHello
//! 64 KiB, drained bytes are discarded through a fixed buffer) and in time (`HOLD` at most), so a
//! client can neither make the lab allocate nor keep a connection forever.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use rand::RngCore;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::timeout;
use tokio_rustls::TlsAcceptor;

use super::certs::{LeafKey, Pki, WEAK_CERT_DER};
use super::wire::{self, Confirm};
use super::{
    Behavior, CertKind, Hostile, LabHost, NlaMode, RdpHost, RdpPolicy, Shared, TlsMode, UdpMode,
    udp,
};

/// How long a host waits for the client's X.224 CR, ClientHello or TSRequest.
const READ_WAIT: Duration = Duration::from_secs(30);
/// How long a host keeps a connection open after its last reply, waiting for the client to close
/// (a real server would be waiting for the next PDU).
const LINGER: Duration = Duration::from_secs(60);
/// Upper bound for "never answers" behaviours (tarpit, stall, trickles).
const HOLD: Duration = Duration::from_secs(600);
/// Interval of the trickling behaviours.
const TRICKLE: Duration = Duration::from_secs(2);
/// Cap for one TSRequest / ClientHello.
const MAX_MSG: usize = 64 * 1024;

/// Raise RLIMIT_NOFILE so that `needed` descriptors fit (soft limit up to the hard limit; the hard
/// limit too when allowed, i.e. as root).
pub fn raise_nofile(needed: usize) -> io::Result<()> {
    let want = needed as libc::rlim_t;
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass; no other memory is touched.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if r.rlim_cur >= want {
        return Ok(());
    }
    let new = if r.rlim_max >= want {
        libc::rlimit {
            rlim_cur: r.rlim_max,
            rlim_max: r.rlim_max,
        }
    } else {
        libc::rlimit {
            rlim_cur: want,
            rlim_max: want,
        }
    };
    // SAFETY: setrlimit only reads the struct we pass.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &new) } != 0 {
        return Err(io::Error::other(format!(
            "the lab needs about {needed} file descriptors but the limit is {} (hard {}): raise it with `ulimit -n` or start fewer hosts",
            r.rlim_cur, r.rlim_max
        )));
    }
    Ok(())
}

fn bind(addr: SocketAddr, backlog: u32) -> io::Result<TcpListener> {
    let ctx = |e: io::Error| io::Error::new(e.kind(), format!("lab cannot listen on {addr}: {e}"));
    let s = TcpSocket::new_v4().map_err(ctx)?;
    // Restarting a lab must not wait for TIME_WAIT of the previous one (no effect on exclusivity:
    // a second listener on the same address still fails).
    s.set_reuseaddr(true).map_err(ctx)?;
    s.bind(addr).map_err(ctx)?;
    s.listen(backlog).map_err(ctx)
}

/// The UDP socket a host needs on its RDP port: `None` for no socket at all.
pub(super) fn udp_mode(b: &Behavior) -> Option<UdpMode> {
    match b {
        Behavior::Rdp(h) if h.udp != UdpMode::Closed => Some(h.udp),
        _ => None,
    }
}

/// Start listeners for every host that has one; `tasks` receives every spawned task.
pub(super) async fn start_hosts(
    hosts: &[LabHost],
    shared: &Arc<Shared>,
    pki: &Arc<Pki>,
    lazy_certs: bool,
    tasks: &mut Vec<JoinHandle<()>>,
) -> io::Result<()> {
    let mut filtered = Vec::new();
    for (idx, h) in hosts.iter().enumerate() {
        let addr = SocketAddr::new(h.addr, h.port);
        match h.behavior {
            Behavior::Closed => {}
            Behavior::Filtered => filtered.push((addr, bind(addr, 0)?)),
            _ => {
                if let Some(mode) = udp_mode(&h.behavior) {
                    tasks.push(udp::serve(addr, mode).await?);
                }
                let listener = bind(addr, 1024)?;
                let ctx = Arc::new(HostCtx::new(idx, h, shared.clone(), pki.clone()));
                if !lazy_certs {
                    // Surface certificate problems at start, not on the first connection.
                    ctx.tls_asset()
                        .map_err(|e| io::Error::other(e.to_string()))?;
                }
                tasks.push(tokio::spawn(accept_loop(listener, ctx)));
            }
        }
    }
    let filled = futures::future::join_all(filtered.into_iter().map(|(addr, l)| async move {
        let fillers = fill_accept_queue(addr).await?;
        Ok::<_, io::Error>((l, fillers))
    }))
    .await;
    for f in filled {
        let (listener, fillers) = f?;
        tasks.push(tokio::spawn(async move {
            // Never accept: the queued connections keep the queue full until the lab stops.
            let _keep = (listener, fillers);
            std::future::pending::<()>().await;
        }));
    }
    Ok(())
}

/// Fill a backlog-0 listener's accept queue with our own connections until a further connect gets
/// no SYN-ACK. On Linux one queued connection fills a backlog of 0 (the queue is full when it holds
/// more than the backlog), after which SYNs are dropped; the loop checks instead of assuming.
async fn fill_accept_queue(addr: SocketAddr) -> io::Result<Vec<TcpStream>> {
    let mut fillers = Vec::new();
    for _ in 0..8 {
        match timeout(Duration::from_millis(250), TcpStream::connect(addr)).await {
            Ok(Ok(s)) => fillers.push(s),
            Ok(Err(e)) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!(
                        "filling the accept queue of {addr} failed: {e} (is net.ipv4.tcp_abort_on_overflow set?)"
                    ),
                ));
            }
            Err(_) => return Ok(fillers),
        }
    }
    Err(io::Error::other(format!(
        "the accept queue of {addr} does not fill up: this kernel does not drop SYNs on a full queue"
    )))
}

async fn accept_loop(listener: TcpListener, ctx: Arc<HostCtx>) {
    // Dropping the set (when the lab aborts this task) aborts every connection of the host.
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, _)) => {
                    ctx.shared.record_accept(ctx.idx);
                    let c = ctx.clone();
                    conns.spawn(serve(stream, c));
                }
                // Out of descriptors or similar: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

/// What a host's TLS side serves.
enum TlsAsset {
    Rustls(Arc<rustls::ServerConfig>),
    /// DER certificate for the raw responder.
    Raw(Vec<u8>),
    None,
}

struct NtlmIdentity {
    nb_computer: String,
    nb_domain: String,
    dns_computer: String,
    dns_domain: String,
    dns_tree: String,
}

pub(super) struct HostCtx {
    idx: usize,
    addr: IpAddr,
    name: Option<String>,
    behavior: Behavior,
    shared: Arc<Shared>,
    pki: Arc<Pki>,
    tls: OnceLock<Result<TlsAsset, String>>,
}

impl HostCtx {
    fn new(idx: usize, h: &LabHost, shared: Arc<Shared>, pki: Arc<Pki>) -> HostCtx {
        HostCtx {
            idx,
            addr: h.addr,
            name: h.name.clone(),
            behavior: h.behavior.clone(),
            shared,
            pki,
            tls: OnceLock::new(),
        }
    }

    /// Built on first use and shared by every later connection of the host.
    fn tls_asset(&self) -> Result<&TlsAsset, &str> {
        self.tls
            .get_or_init(|| self.build_tls().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(String::as_str)
    }

    fn build_tls(&self) -> io::Result<TlsAsset> {
        let name = self.name.as_deref();
        Ok(match &self.behavior {
            Behavior::Rdp(h) => {
                let leaf = self.pki.leaf(h.cert, name, self.addr, LeafKey::Served)?;
                // xrdp's default ssl_protocols is "TLSv1.2, TLSv1.3"; Windows RDP speaks 1.2.
                let tls13 = h.policy == RdpPolicy::XrdpLike;
                TlsAsset::Rustls(self.pki.server_config(leaf, tls13)?)
            }
            Behavior::Hostile(Hostile::CcThenGarbage | Hostile::TlsRecordTrickle) => TlsAsset::None,
            Behavior::Tls10Only | Behavior::CbcOnlyTls12 => TlsAsset::Raw(
                self.pki
                    .leaf(CertKind::Valid, name, self.addr, LeafKey::Rsa)?
                    .to_vec(),
            ),
            Behavior::WeakCert => TlsAsset::Raw(WEAK_CERT_DER.to_vec()),
            _ => TlsAsset::None,
        })
    }

    fn ntlm_identity(&self, h: &RdpHost) -> NtlmIdentity {
        let label = match (h.nla, self.name.as_deref()) {
            (NlaMode::NameMismatch, _) => "oldsrv07".to_string(),
            (_, Some(n)) => n.split('.').next().unwrap_or(n).to_string(),
            (_, None) => super::unnamed_label(self.addr),
        };
        let nb: String = label.to_ascii_uppercase().chars().take(15).collect();
        let n = &h.names;
        NtlmIdentity {
            nb_computer: n.nb_computer.clone().unwrap_or(nb),
            nb_domain: n.nb_domain.clone().unwrap_or_else(|| "LAB".into()),
            dns_computer: n
                .dns_computer
                .clone()
                .unwrap_or_else(|| format!("{label}.{}", super::ZONE)),
            dns_domain: n.dns_domain.clone().unwrap_or_else(|| super::ZONE.into()),
            dns_tree: n.dns_tree.clone().unwrap_or_else(|| super::ZONE.into()),
        }
    }

    fn capture(&self, bytes: &[u8]) {
        self.shared.capture(self.idx, bytes);
    }
}

/// A TcpStream that counts the bytes it reads into the host's stats.
struct Counted {
    inner: TcpStream,
    ctx: Arc<HostCtx>,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len().saturating_sub(before);
        if n > 0 {
            self.ctx.shared.add_bytes(self.ctx.idx, n);
        }
        r
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    // A TLS flight is several buffers: one writev, one packet, as a real stack sends it.
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Close with RST: SO_LINGER 0, then drop.
fn reset(s: Counted) {
    let _ = s.inner.set_zero_linger();
    drop(s);
}

/// Read and discard until EOF, an error, or `limit` elapses.
async fn drain<S: AsyncRead + Unpin>(s: &mut S, limit: Duration, mut keep: impl FnMut(&[u8])) {
    let mut buf = [0u8; 4096];
    let _ = timeout(limit, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => keep(buf.get(..n).unwrap_or_default()),
            }
        }
    })
    .await;
}

/// Orderly close: FIN first, then drain what the client still sends so that closing does not turn
/// into an RST (Linux resets when unread data is discarded).
async fn close_fin(mut s: Counted) {
    let _ = s.shutdown().await;
    drain(&mut s, Duration::from_secs(10), |_| {}).await;
}

/// Wait for the client to close after our last reply, then close.
async fn linger_then_close(mut s: Counted) {
    drain(&mut s, LINGER, |_| {}).await;
    close_fin(s).await;
}

enum Cr {
    /// A complete TPKT (possibly not a valid CR).
    Pdu(Vec<u8>),
    /// The first byte is not a TPKT version 3.
    NotTpkt,
    /// EOF, error or timeout before a complete PDU.
    Gone,
}

async fn read_cr(s: &mut Counted) -> Cr {
    let mut buf: Vec<u8> = Vec::with_capacity(64);
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(first) = buf.first()
            && *first != 0x03
        {
            return Cr::NotTpkt;
        }
        if let Some(len) = wire::tpkt_len(&buf) {
            // len is at most 65535: the buffer is bounded by the TPKT format itself.
            if len < 4 || buf.len() >= len {
                buf.truncate(len.max(4));
                return Cr::Pdu(buf);
            }
        }
        // Never read past the announced PDU: what follows belongs to the next phase.
        let want = match wire::tpkt_len(&buf) {
            Some(len) => len.saturating_sub(buf.len()),
            None => 4usize.saturating_sub(buf.len()),
        }
        .clamp(1, chunk.len());
        let Some(dst) = chunk.get_mut(..want) else {
            return Cr::Gone;
        };
        match timeout(READ_WAIT, s.read(dst)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(dst.get(..n).unwrap_or_default()),
            _ => return Cr::Gone,
        }
    }
}

/// Entry point of every accepted connection.
async fn serve(stream: TcpStream, ctx: Arc<HostCtx>) {
    let _ = stream.set_nodelay(true);
    let mut s = Counted {
        inner: stream,
        ctx: ctx.clone(),
    };
    // Borrowed, not cloned: nothing per connection beyond buffers.
    let behavior = &ctx.behavior;
    match behavior {
        // These have no accept loop.
        Behavior::Closed | Behavior::Filtered => {}
        Behavior::Tarpit => drain(&mut s, HOLD, |_| {}).await,
        Behavior::AcceptClose => close_fin(s).await,
        Behavior::ResetOnAccept => reset(s),
        Behavior::Rdp(h) => serve_rdp(s, &ctx, h).await,
        Behavior::Garbage => {
            if let Cr::Pdu(_) | Cr::NotTpkt = read_cr(&mut s).await {
                let mut junk = vec![0u8; 64 + (rand::random::<u8>() as usize)];
                rand::rng().fill_bytes(&mut junk);
                // Never a TPKT or TLS first byte: it must not look like any protocol.
                if let Some(b) = junk.first_mut() {
                    *b |= 0x80;
                }
                let _ = s.write_all(&junk).await;
                close_fin(s).await;
            }
        }
        Behavior::Http => {
            if let Cr::Pdu(_) | Cr::NotTpkt = read_cr(&mut s).await {
                let _ = s.write_all(HTTP_400).await;
                close_fin(s).await;
            }
        }
        Behavior::LegacyCc => {
            if let Cr::Pdu(_) = read_cr(&mut s).await {
                let _ = s
                    .write_all(&wire::connection_confirm(Confirm::Legacy))
                    .await;
                linger_then_close(s).await;
            }
        }
        Behavior::Dpum => {
            if let Cr::Pdu(_) = read_cr(&mut s).await {
                let _ = s.write_all(&wire::DPUM).await;
                close_fin(s).await;
            }
        }
        Behavior::RdpReset => {
            if let Cr::Pdu(_) = read_cr(&mut s).await {
                reset(s);
            }
        }
        Behavior::Tls10Only | Behavior::CbcOnlyTls12 | Behavior::WeakCert => {
            serve_raw_tls(s, &ctx, behavior).await
        }
        Behavior::Hostile(h) => serve_hostile(s, *h).await,
    }
}

const HTTP_400: &[u8] = b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/html; charset=us-ascii\r\nServer: Microsoft-HTTPAPI/2.0\r\nConnection: close\r\nContent-Length: 39\r\n\r\n<h1>Bad Request (Invalid Verb)</h1>\r\n\r\n";

/// The reply a server gives to a CR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reply {
    Cc(Confirm),
    Dpum,
}

/// RDP_NEG_RSP flags by claimed OS: 0x01 on everything, GFX (0x02) from 8/2012, Restricted Admin
/// (0x08) from 8.1/2012 R2, Remote Credential Guard (0x10) from 10/2016. Unverified against
/// live Windows (docs/protocol.md §3.2); the reserved bit is left clear.
fn windows_flags(os: (u8, u8, u16)) -> u8 {
    match os {
        (10.., _, _) => 0x1B,
        (6, 3.., _) => 0x0B,
        (6, 2, _) => 0x03,
        _ => 0x01,
    }
}

/// The selection tables of docs/protocol.md §4.3 for the lab's policies.
pub(super) fn decide(policy: RdpPolicy, os: (u8, u8, u16), req: &wire::ConnectionRequest) -> Reply {
    const SSL: u32 = 0x01;
    const HYBRID: u32 = 0x02;
    const HYBRID_EX: u32 = 0x08;
    let r = req.requested.unwrap_or(0);
    let flags = windows_flags(os);
    let sel = |protocol| Reply::Cc(Confirm::Selected { protocol, flags });
    let fail = |code| Reply::Cc(Confirm::Failure(code));
    // Standard RDP Security chosen: without an RDP_NEG_REQ there is nothing to answer with.
    let rdp = |flags| {
        if req.requested.is_none() {
            Reply::Cc(Confirm::Legacy)
        } else {
            Reply::Cc(Confirm::Selected { protocol: 0, flags })
        }
    };
    let best = if r & HYBRID_EX != 0 {
        Some(HYBRID_EX)
    } else if r & HYBRID != 0 {
        Some(HYBRID)
    } else if r & SSL != 0 {
        Some(SSL)
    } else {
        None
    };
    match policy {
        RdpPolicy::WindowsNla => match best {
            Some(SSL) | None => fail(5),
            Some(p) => sel(p),
        },
        RdpPolicy::WindowsTls => best.map_or(fail(1), sel),
        RdpPolicy::WindowsNegotiate => best.map_or(rdp(flags), sel),
        RdpPolicy::RdpOnly => {
            if r != 0 {
                fail(2)
            } else {
                rdp(flags)
            }
        }
        RdpPolicy::XrdpLike => {
            if req.requested.is_none() {
                Reply::Cc(Confirm::Legacy)
            } else if r > 0x0B || !matches!(req.flags, 0x00 | 0x01 | 0x08) {
                Reply::Dpum
            } else if r & SSL != 0 {
                Reply::Cc(Confirm::Selected {
                    protocol: SSL,
                    flags: 0x01,
                })
            } else {
                rdp(0x01)
            }
        }
        RdpPolicy::CertMissing => {
            if r & (SSL | HYBRID | HYBRID_EX) != 0 {
                fail(3)
            } else {
                rdp(flags)
            }
        }
    }
}

async fn serve_rdp(mut s: Counted, ctx: &Arc<HostCtx>, h: &RdpHost) {
    let Cr::Pdu(pdu) = read_cr(&mut s).await else {
        return;
    };
    ctx.capture(&pdu);
    let Ok(req) = wire::parse_connection_request(&pdu) else {
        // MS-RDPBCGR 3.3.5.3.1: a malformed CR is dropped.
        return close_fin(s).await;
    };
    let reply = decide(h.policy, h.os_version, &req);
    let bytes = match reply {
        Reply::Dpum => wire::DPUM.to_vec(),
        Reply::Cc(c) => wire::connection_confirm(c),
    };
    if s.write_all(&bytes).await.is_err() {
        return;
    }
    let protocol = match reply {
        Reply::Cc(Confirm::Selected { protocol, .. }) => protocol,
        // Standard RDP: the client would send MCS Connect-Initial next (not answered by the lab).
        Reply::Cc(Confirm::Legacy) => return linger_then_close(s).await,
        Reply::Cc(Confirm::Failure(_)) | Reply::Dpum => return close_fin(s).await,
    };
    if protocol == 0 {
        return linger_then_close(s).await;
    }
    let tls = match h.tls {
        TlsMode::MtuBlackhole if path_drops_full_size(&s.inner) => TlsMode::Stall,
        TlsMode::MtuBlackhole => TlsMode::Normal,
        other => other,
    };
    match tls {
        TlsMode::MtuBlackhole => {}
        TlsMode::ResetAfterHello => {
            let mut b = [0u8; 1024];
            if let Ok(Ok(n)) = timeout(READ_WAIT, s.read(&mut b)).await
                && n > 0
            {
                reset(s);
            }
        }
        TlsMode::Stall => drain(&mut s, HOLD, |_| {}).await,
        TlsMode::Normal => {
            let Ok(TlsAsset::Rustls(cfg)) = ctx.tls_asset() else {
                return;
            };
            let acceptor = TlsAcceptor::from(cfg.clone());
            let Ok(Ok(mut tls)) = timeout(READ_WAIT, acceptor.accept(s)).await else {
                return;
            };
            if protocol & 0x0A != 0 {
                serve_credssp(&mut tls, ctx, h).await;
            } else {
                drain(&mut tls, LINGER, |b| ctx.capture(b)).await;
                let _ = tls.shutdown().await;
            }
        }
    }
}

/// The MSS an emulated VPN path carries (a 1400-byte tunnel MTU minus IP and TCP headers).
pub const PATH_MSS: u32 = 1360;

/// Whether this connection's segments would be too big for the emulated path: the MSS it
/// sends with is the client's advertised one (loopback's own is 65483).
fn path_drops_full_size(s: &TcpStream) -> bool {
    use std::os::fd::AsFd;
    crate::probe::netinfo::mss_of(s.as_fd()).is_none_or(|mss| mss > PATH_MSS)
}

type Tls = tokio_rustls::server::TlsStream<Counted>;

/// Read one DER TSRequest (bounded by the codec's 64 KiB cap); returns it with the NTLM message
/// type of its first token.
async fn read_ts_request(tls: &mut Tls) -> Option<(Vec<u8>, Option<u32>)> {
    let mut buf = Vec::with_capacity(256);
    let mut chunk = [0u8; 4096];
    loop {
        match wire::read_ts_request(&buf) {
            wire::TsRead::Done(t) => return Some((buf, t)),
            wire::TsRead::Bad => return Some((buf, None)),
            wire::TsRead::Need(n) if n > MAX_MSG => return Some((buf, None)),
            wire::TsRead::Need(_) => {}
        }
        match timeout(READ_WAIT, tls.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            _ => return None,
        }
        if buf.len() > MAX_MSG {
            return Some((buf, None));
        }
    }
}

async fn serve_credssp(tls: &mut Tls, ctx: &Arc<HostCtx>, h: &RdpHost) {
    let Some((req, ntlm_type)) = read_ts_request(tls).await else {
        return;
    };
    ctx.capture(&req);
    let version = if h.nla == NlaMode::Unpatched { 3 } else { 6 };
    let reply = match (h.nla, ntlm_type) {
        (NlaMode::ResetAfterRequest, _) => {
            let _ = tls.get_ref().0.inner.set_zero_linger();
            return;
        }
        (NlaMode::ErrorCode(code), _) => wire::ts_request_error(version, code),
        // Outer length complete, inner [1] claims 2 GiB.
        (NlaMode::MalformedReply, _) => vec![
            0x30, 0x0B, // SEQUENCE, 11 bytes
            0xA0, 0x03, 0x02, 0x01, 0x06, // [0] version 6
            0xA1, 0x84, 0x7F, 0xFF, 0xFF, 0xFF, // [1] length 0x7FFFFFFF, no content
        ],
        (_, Some(1)) => {
            let id = ctx.ntlm_identity(h);
            let skew = if h.nla == NlaMode::ClockSkew { 7200 } else { 0 };
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            let spec = wire::ChallengeSpec {
                nb_computer: &id.nb_computer,
                nb_domain: &id.nb_domain,
                dns_computer: &id.dns_computer,
                dns_domain: &id.dns_domain,
                dns_tree: &id.dns_tree,
                timestamp: wire::unix_to_filetime(
                    i64::try_from(now.as_secs())
                        .unwrap_or(0)
                        .saturating_add(skew),
                    now.subsec_nanos(),
                ),
                version: h.os_version,
                bad_offsets: h.nla == NlaMode::BadOffsets,
            };
            wire::ts_request_with_token(version, &wire::challenge_message(&spec))
        }
        // An AUTHENTICATE (credentials!) or anything else: what Windows says to a failed logon.
        (_, Some(3)) => wire::ts_request_error(version, 0xC000_006D),
        _ => return,
    };
    if tls.write_all(&reply).await.is_err() || tls.flush().await.is_err() {
        return;
    }
    // Keep reading (and capturing) so a client that went on to authenticate is caught in stats.
    drain(tls, Duration::from_secs(10), |b| ctx.capture(b)).await;
    let _ = tls.shutdown().await;
}

/// Servers rustls cannot play: answer the ClientHello with a hand-written flight or an alert.
async fn serve_raw_tls(mut s: Counted, ctx: &Arc<HostCtx>, behavior: &Behavior) {
    let Cr::Pdu(pdu) = read_cr(&mut s).await else {
        return;
    };
    let Ok(req) = wire::parse_connection_request(&pdu) else {
        return close_fin(s).await;
    };
    // 2008 R2 / 2012 R2 with SecurityLayer=Negotiate and NLA off: SSL when asked, else RDP.
    let os = if *behavior == Behavior::Tls10Only {
        (6, 1, 7601)
    } else {
        (6, 3, 9600)
    };
    let flags = windows_flags(os);
    let r = req.requested.unwrap_or(0);
    let confirm = match req.requested {
        None => Confirm::Legacy,
        Some(_) if r & 1 != 0 => Confirm::Selected { protocol: 1, flags },
        Some(_) => Confirm::Selected { protocol: 0, flags },
    };
    if s.write_all(&wire::connection_confirm(confirm))
        .await
        .is_err()
    {
        return;
    }
    if confirm != (Confirm::Selected { protocol: 1, flags }) {
        return linger_then_close(s).await;
    }
    let Some(hello) = read_client_hello(&mut s).await else {
        return close_fin(s).await;
    };
    let Ok(TlsAsset::Raw(cert)) = ctx.tls_asset() else {
        return;
    };
    let tls10 = *behavior == Behavior::Tls10Only;
    let version = if tls10 {
        hello.offers_version(wire::TLS10).then_some(wire::TLS10)
    } else {
        [wire::TLS12, wire::TLS11, wire::TLS10]
            .into_iter()
            .find(|v| hello.offers_version(*v))
    };
    // Server preference order: Schannel of that era prefers AES-128 with RSA key exchange.
    let acceptable: &[u16] = if tls10 {
        &[0x002F, 0x0035, 0x0005, 0x000A]
    } else {
        &[0x002F]
    };
    let suite = acceptable
        .iter()
        .copied()
        .find(|c| hello.suites.contains(c));
    let out = match (version, suite) {
        (None, _) => wire::alert(
            if tls10 { wire::TLS10 } else { wire::TLS12 },
            wire::ALERT_PROTOCOL_VERSION,
        )
        .to_vec(),
        (Some(v), None) => wire::alert(v, wire::ALERT_HANDSHAKE_FAILURE).to_vec(),
        (Some(v), Some(c)) => wire::server_flight(v, c, std::slice::from_ref(cert)),
    };
    if s.write_all(&out).await.is_err() {
        return;
    }
    if version.is_some() && suite.is_some() {
        // The client's key exchange would come next; the lab cannot finish, so it waits.
        linger_then_close(s).await;
    } else {
        close_fin(s).await;
    }
}

async fn read_client_hello(s: &mut Counted) -> Option<wire::ClientHello> {
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 4096];
    loop {
        match wire::parse_client_hello(&buf) {
            Ok(Some(h)) => return Some(h),
            Err(_) => return None,
            Ok(None) => {}
        }
        match timeout(READ_WAIT, s.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            _ => return None,
        }
        if buf.len() > MAX_MSG {
            return None;
        }
    }
}

async fn trickle(s: &mut Counted) {
    let _ = timeout(HOLD, async {
        loop {
            tokio::time::sleep(TRICKLE).await;
            if s.write_all(&[rand::random::<u8>()]).await.is_err() {
                break;
            }
        }
    })
    .await;
}

async fn serve_hostile(mut s: Counted, h: Hostile) {
    let Cr::Pdu(_) = read_cr(&mut s).await else {
        return;
    };
    let ssl = wire::connection_confirm(Confirm::Selected {
        protocol: 1,
        flags: 0x1B,
    });
    match h {
        Hostile::EndlessBytes => {
            let mut junk = vec![0u8; 16 * 1024];
            rand::rng().fill_bytes(&mut junk);
            let _ = timeout(HOLD, async {
                // Back-pressure paces this: writes wait while the client does not read.
                while s.write_all(&junk).await.is_ok() {}
            })
            .await;
            reset(s);
        }
        Hostile::TpktTrickle => {
            if s.write_all(&[0x03, 0x00, 0xFF, 0xFF]).await.is_ok() {
                trickle(&mut s).await;
            }
        }
        Hostile::CcThenGarbage => {
            let mut junk = vec![0u8; 512];
            rand::rng().fill_bytes(&mut junk);
            if let Some(b) = junk.first_mut() {
                *b |= 0x80; // not a TLS content type
            }
            let mut out = ssl;
            out.extend_from_slice(&junk);
            if s.write_all(&out).await.is_ok() {
                linger_then_close(s).await;
            }
        }
        Hostile::TlsRecordTrickle => {
            if s.write_all(&ssl).await.is_err() {
                return;
            }
            let mut b = [0u8; 4096];
            if !matches!(timeout(READ_WAIT, s.read(&mut b)).await, Ok(Ok(n)) if n > 0) {
                return;
            }
            // Handshake record, TLS 1.2, length 16384 — then almost nothing of it.
            if s.write_all(&[0x16, 0x03, 0x03, 0x40, 0x00]).await.is_ok() {
                trickle(&mut s).await;
            }
        }
        Hostile::HalfOpenFin => {
            let _ = s.inner.shutdown().await;
            drain(&mut s, HOLD, |_| {}).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(r: Option<u32>) -> wire::ConnectionRequest {
        wire::ConnectionRequest {
            requested: r,
            flags: 0,
        }
    }

    fn table(p: RdpPolicy) -> Vec<String> {
        [
            None,
            Some(0),
            Some(1),
            Some(2),
            Some(3),
            Some(8),
            Some(0x0A),
            Some(0x0B),
        ]
        .into_iter()
        .map(|r| match decide(p, (10, 0, 20348), &req(r)) {
            Reply::Cc(Confirm::Selected { protocol, .. }) => protocol.to_string(),
            Reply::Cc(Confirm::Failure(c)) => format!("F{c}"),
            Reply::Cc(Confirm::Legacy) => "bare".into(),
            Reply::Dpum => "dpum".into(),
        })
        .collect()
    }

    #[test]
    fn selection_tables() {
        // columns: none, 0, 1, 2, 3, 8, 0x0A, 0x0B
        assert_eq!(
            table(RdpPolicy::WindowsNla),
            ["F5", "F5", "F5", "2", "2", "8", "8", "8"]
        );
        assert_eq!(
            table(RdpPolicy::WindowsTls),
            ["F1", "F1", "1", "2", "2", "8", "8", "8"]
        );
        assert_eq!(
            table(RdpPolicy::WindowsNegotiate),
            ["bare", "0", "1", "2", "2", "8", "8", "8"]
        );
        assert_eq!(
            table(RdpPolicy::RdpOnly),
            ["bare", "0", "F2", "F2", "F2", "F2", "F2", "F2"]
        );
        // xrdp negotiate row of the [LIVE] table: bare, 0, 1, 0, 1, 0, -, 1
        assert_eq!(
            table(RdpPolicy::XrdpLike),
            ["bare", "0", "1", "0", "1", "0", "0", "1"]
        );
        assert_eq!(
            table(RdpPolicy::CertMissing),
            ["bare", "0", "F3", "F3", "F3", "F3", "F3", "F3"]
        );
        assert_eq!(
            decide(RdpPolicy::XrdpLike, (0, 0, 0), &req(Some(0x10))),
            Reply::Dpum
        );
        let odd_flags = wire::ConnectionRequest {
            requested: Some(1),
            flags: 0x02,
        };
        assert_eq!(
            decide(RdpPolicy::XrdpLike, (0, 0, 0), &odd_flags),
            Reply::Dpum
        );
    }
}
