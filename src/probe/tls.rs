//! TLS on the RDP stream (rustls, no SNI, accept-any verifier), the raw legacy hello for
//! servers rustls cannot talk to, and the deep-depth single-version hellos.

use std::pin::Pin;
use std::task::{Context, Poll};

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::host::{FIRST_REQUEST, HostCtx};
use super::io::{HelloExchange, ReadEnd, hello_exchange};
use super::netinfo::{self, NetSlot};
use crate::model::{NegResult, TlsOutcome, TlsStatus};
use crate::rdp::Parse;
use crate::rdp::x224::{self, Confirm};
use crate::tls::danger::{
    TlsFailure, classify_io_error, suite_name, version_name, wants_legacy_fallback,
};
use crate::tls::legacy::{self, FlightOutcome, TlsVersion};

fn outcome(status: TlsStatus, via: &str) -> TlsOutcome {
    TlsOutcome {
        status,
        version: None,
        cipher: None,
        alert: None,
        via: via.into(),
        versions: Vec::new(),
        suites: Vec::new(),
        error: None,
        legacy: false,
    }
}

fn failure_outcome(f: &TlsFailure) -> TlsOutcome {
    match f {
        TlsFailure::Alert(a) => TlsOutcome {
            alert: Some(*a),
            ..outcome(TlsStatus::Alert, "rustls")
        },
        TlsFailure::NoCommon => outcome(TlsStatus::NoCommon, "rustls"),
        TlsFailure::Reset => outcome(TlsStatus::ResetAfterHello, "rustls"),
        TlsFailure::Eof => outcome(TlsStatus::EofAfterHello, "rustls"),
        TlsFailure::NotTls => outcome(TlsStatus::NotTls, "rustls"),
        TlsFailure::Other(e) => TlsOutcome {
            error: Some(e.clone()),
            ..outcome(TlsStatus::Error, "rustls")
        },
    }
}

/// How the TLS phase left the first connection.
pub enum TlsEnd {
    /// Handshake done: the stream CredSSP runs on.
    Established(Box<TlsStream<FirstBytes<TcpStream>>>),
    /// rustls failed and the legacy hello got the server's flight. The refused connection is
    /// held open until the plan is done with TLS (CredSSP may still go through OpenSSL).
    Legacy(FirstBytes<TcpStream>),
    /// Nothing more can run on TLS.
    Done,
}

/// What the TLS phase learnt: its outcome, the chain the server presented (empty when none),
/// and how the connection was left.
pub struct TlsPhase {
    pub outcome: TlsOutcome,
    pub chain: Vec<Vec<u8>>,
    pub end: TlsEnd,
    /// How long the rustls handshake took, when it completed.
    pub handshake_ms: Option<f64>,
}

/// TLS right after a CC that selected a TLS-based layer, on the same stream; when rustls
/// cannot talk to the server, the raw legacy hello on a new connection.
pub async fn tls_phase(ctx: &mut HostCtx<'_>, stream: TcpStream) -> TlsPhase {
    let connector = TlsConnector::from(ctx.prober.tls.any.clone());
    let name = ServerName::IpAddress(ctx.addr.ip().into());
    let deadline = ctx.phase_deadline();
    let stream = FirstBytes::new(stream).metered(ctx.net.clone());
    let done = |outcome| TlsPhase {
        outcome,
        chain: Vec::new(),
        end: TlsEnd::Done,
        handshake_ms: None,
    };
    let t0 = std::time::Instant::now();
    match tokio::time::timeout_at(deadline, connector.connect(name, stream).into_fallible()).await {
        Err(_) => done(outcome(TlsStatus::Stalled, "rustls")),
        Ok(Ok(tls)) => {
            let handshake_ms = Some(crate::clock::ms_since(t0));
            let (_, conn) = tls.get_ref();
            let mut o = outcome(TlsStatus::Ok, "rustls");
            o.version = conn.protocol_version().map(version_name);
            o.cipher = conn
                .negotiated_cipher_suite()
                .map(|s| suite_name(s.suite()));
            let chain: Vec<Vec<u8>> = conn
                .peer_certificates()
                .map(|c| c.iter().map(|d| d.as_ref().to_vec()).collect())
                .unwrap_or_default();
            TlsPhase {
                outcome: o,
                chain,
                end: TlsEnd::Established(Box::new(tls)),
                handshake_ms,
            }
        }
        Ok(Err((e, io))) => {
            let f = classify_io_error(&e);
            if f == TlsFailure::NotTls {
                // rustls only says "not TLS"; what the server did send names the failure.
                return done(not_tls_outcome(io.first()));
            }
            let mut o = failure_outcome(&f);
            if wants_legacy_fallback(&f)
                && let Some(legacy) =
                    legacy_hello(ctx, FIRST_REQUEST, TlsVersion::TLS10, TlsVersion::TLS12).await
            {
                let suite = |id: u16| {
                    crate::tls::suites::suite_name(id)
                        .map(str::to_string)
                        .unwrap_or_else(|| format!("0x{id:04X}"))
                };
                match legacy {
                    // TLS 1.3 (or newer) to a hello offering at most 1.2: not the legacy server
                    // the fallback is for, and no client accepts it. rustls' failure stands.
                    FlightOutcome::Hello(flight) if flight.version > TlsVersion::TLS12 => {
                        let v = flight.version.name();
                        let c = suite(flight.cipher);
                        o.error = Some(join_error(
                            o.error.take(),
                            format!(
                                "the TLS 1.0-1.2 legacy hello was answered with {v} ({c}), \
                                 a version it did not offer"
                            ),
                        ));
                        o.version = Some(v);
                        o.cipher = Some(c);
                    }
                    FlightOutcome::Hello(flight) => {
                        let mut lo = outcome(TlsStatus::LegacyHello, "legacy-hello");
                        lo.version = Some(flight.version.name().to_string());
                        lo.cipher = Some(suite(flight.cipher));
                        lo.legacy = true;
                        lo.error = Some(format!("rustls: {}", describe(&f)));
                        if flight.certificates.is_empty() {
                            // diagnose reads the missing certificate from `cert`; this says how.
                            let how = if flight.certificate_message {
                                "an empty Certificate message"
                            } else {
                                "no Certificate message"
                            };
                            lo.error = Some(join_error(
                                lo.error.take(),
                                format!("the server presented no certificate ({how})"),
                            ));
                        }
                        return TlsPhase {
                            outcome: lo,
                            chain: flight.certificates,
                            end: TlsEnd::Legacy(io),
                            handshake_ms: None,
                        };
                    }
                    // The broad hello was refused too: report the server's own alert.
                    FlightOutcome::Alert { description, .. } if o.status != TlsStatus::Alert => {
                        o.error = Some(format!("legacy hello answered with alert {description}"));
                    }
                    FlightOutcome::Malformed(why) => {
                        o.error = Some(join_error(
                            o.error.take(),
                            format!("legacy hello: malformed flight ({why})"),
                        ));
                    }
                    _ => {}
                }
            }
            done(o)
        }
    }
}

/// The outcome when the server's answer to the ClientHello is not TLS records. xrdp whose TLS
/// cannot start (unusable certificate or key, bad cipher list) answers with an X.224 Data MCS
/// Disconnect-Provider-Ultimatum and closes: the server gave up at the ClientHello, the same
/// failure as a close there (0x904/0x7), not a foreign protocol on the port.
fn not_tls_outcome(first: &[u8]) -> TlsOutcome {
    if let Parse::Done(Confirm::Rejected) = x224::parse_confirm(first) {
        return TlsOutcome {
            error: Some(
                "the server answered the ClientHello with an RDP disconnect \
                 (MCS Disconnect-Provider-Ultimatum) instead of TLS"
                    .into(),
            ),
            ..outcome(TlsStatus::EofAfterHello, "rustls")
        };
    }
    TlsOutcome {
        error: Some(format!("first bytes {}", hex::encode(first))),
        ..outcome(TlsStatus::NotTls, "rustls")
    }
}

/// After the server's TLS flight stalled on the first connection: once more on a new connection
/// whose SYN advertises a clamped MSS ([`netinfo::CLAMP_MSS`]), so the server's segments fit a
/// path that silently drops full-size packets. The retry is one of the standard depth's three
/// connections. When its handshake completes, every later connection of this address keeps the
/// clamp. `None` when the retry got no CC selecting `layer` again (nothing more is learnt).
pub async fn clamped_retry(ctx: &mut HostCtx<'_>, layer: u32) -> Option<TlsPhase> {
    ctx.budget_spent = ctx.budget_spent.saturating_add(1);
    ctx.mss = Some(netinfo::CLAMP_MSS);
    let phase = match ctx.connect().await {
        (Some(mut s), _) => match ctx.exchange(&mut s, FIRST_REQUEST).await {
            NegResult::Selected { protocol, .. } if protocol == layer => {
                Some(tls_phase(ctx, s).await)
            }
            _ => {
                ctx.net.record(netinfo::stream_info(&s), false);
                None
            }
        },
        (None, _) => None,
    };
    let worked = phase
        .as_ref()
        .is_some_and(|p| !matches!(p.outcome.status, TlsStatus::Stalled));
    if !worked {
        ctx.mss = None;
    }
    phase
}

/// Keeps the first bytes the server sends on the TLS stream: rustls consumes them, and when
/// they are not TLS they are the only clue to what the server did. When metered, the
/// connection's `TCP_INFO` is recorded as it closes, wherever that happens (a timeout drops it
/// inside rustls' handshake future; CredSSP drops it after its reply).
pub struct FirstBytes<S> {
    inner: S,
    first: [u8; FIRST_BYTES],
    len: usize,
    meter: Option<(std::os::fd::RawFd, NetSlot)>,
}

/// Enough for a TPKT + X.224 Data + MCS Disconnect-Provider-Ultimatum (9 bytes) or a protocol
/// banner's start.
const FIRST_BYTES: usize = 16;

impl<S> FirstBytes<S> {
    fn new(inner: S) -> Self {
        FirstBytes {
            inner,
            first: [0; FIRST_BYTES],
            len: 0,
            meter: None,
        }
    }

    fn first(&self) -> &[u8] {
        self.first.get(..self.len).unwrap_or_default()
    }
}

impl FirstBytes<TcpStream> {
    /// Record the connection's `TCP_INFO` into `slot` as the main connection when it closes.
    fn metered(mut self, slot: NetSlot) -> Self {
        use std::os::fd::AsRawFd;
        self.meter = Some((self.inner.as_raw_fd(), slot));
        self
    }
}

impl<S> Drop for FirstBytes<S> {
    fn drop(&mut self) {
        if let Some((fd, slot)) = self.meter.take() {
            // SAFETY: `fd` belongs to `inner`, which is dropped only after this returns, so the
            // descriptor is still open and still this socket.
            let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
            slot.record(netinfo::tcp_info(fd), true);
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for FirstBytes<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let me = &mut *self;
        let r = Pin::new(&mut me.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = r {
            let new = buf.filled().get(before..).unwrap_or_default();
            let take = new.len().min(FIRST_BYTES.saturating_sub(me.len));
            if let (Some(dst), Some(src)) =
                (me.first.get_mut(me.len..me.len + take), new.get(..take))
            {
                dst.copy_from_slice(src);
                me.len += take;
            }
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for FirstBytes<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    // rustls queues ClientKeyExchange, ChangeCipherSpec and Finished as separate buffers: without
    // these, each went out in its own sendto and its own loopback packet (3 instead of 1).
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// `a; b`, or just `b` when there is no `a`.
fn join_error(a: Option<String>, b: String) -> String {
    match a {
        Some(a) if !a.is_empty() => format!("{a}; {b}"),
        _ => b,
    }
}

fn describe(f: &TlsFailure) -> String {
    match f {
        TlsFailure::Alert(a) => format!("alert {a} {}", crate::tls::alert::alert_name(*a)),
        TlsFailure::NoCommon => "no common version or suite".into(),
        TlsFailure::Reset => "reset".into(),
        TlsFailure::Eof => "closed".into(),
        TlsFailure::NotTls => "not TLS".into(),
        TlsFailure::Other(e) => e.clone(),
    }
}

/// New connection, CR, then a hand-written ClientHello for [min, max]; reads ServerHello and the
/// plaintext Certificate (TLS <= 1.2). None when the connection or the CR did not get that far.
pub async fn legacy_hello(
    ctx: &mut HostCtx<'_>,
    requested: u32,
    min: TlsVersion,
    max: TlsVersion,
) -> Option<FlightOutcome> {
    let mut s = match ctx.reconnect(requested).await {
        (NegResult::Selected { protocol, .. }, Some(s)) if protocol != 0 => s,
        _ => return None,
    };
    let hello = legacy::client_hello(min, max, rand::random());
    match hello_exchange(&mut s, &hello, ctx.phase_deadline()).await {
        HelloExchange::Read(ReadEnd::Done(o)) => Some(o),
        _ => None,
    }
}

/// Deep: which single TLS versions the server accepts (a new CR/CC for each).
pub async fn deep_versions(ctx: &mut HostCtx<'_>) -> Vec<String> {
    let mut versions = Vec::new();
    for v in [
        TlsVersion::TLS10,
        TlsVersion::TLS11,
        TlsVersion::TLS12,
        TlsVersion::TLS13,
    ] {
        if ctx.out_of_time() {
            break;
        }
        if let Some(FlightOutcome::Hello(f)) = legacy_hello(ctx, FIRST_REQUEST, v, v).await
            && f.version == v
        {
            versions.push(v.name().to_string());
        }
    }
    versions
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[test]
    fn xrdp_disconnect_at_the_hello_is_a_close_not_a_foreign_protocol() {
        // What xrdp sends when its TLS cannot start, in place of a ServerHello.
        let dpum = [
            0x03, 0x00, 0x00, 0x09, // TPKT version 3, length 9
            0x02, 0xF0, 0x80, // X.224 Data TPDU, EOT
            0x21, 0x80, // MCS Disconnect-Provider-Ultimatum, reason rn-user-requested
        ];
        let o = not_tls_outcome(&dpum);
        assert_eq!(o.status, TlsStatus::EofAfterHello);
        assert!(
            o.error
                .as_deref()
                .unwrap_or("")
                .contains("Disconnect-Provider-Ultimatum")
        );
        // Only the TPKT header arrived: unknown, so plain "not TLS" with the bytes.
        let o = not_tls_outcome(dpum.get(..4).unwrap_or_default());
        assert_eq!(o.status, TlsStatus::NotTls);
        assert_eq!(o.error.as_deref(), Some("first bytes 03000009"));
        // An HTTP server behind the CC stays "not TLS".
        let o = not_tls_outcome(b"HTTP/1.1 400 Bad");
        assert_eq!(o.status, TlsStatus::NotTls);
        assert_eq!(
            o.error.as_deref(),
            Some("first bytes 485454502f312e312034303020426164")
        );
        assert_eq!(not_tls_outcome(&[]).status, TlsStatus::NotTls);
    }

    #[tokio::test]
    async fn first_bytes_keeps_only_the_start_across_reads() {
        let data: Vec<u8> = (0u8..40).collect();
        let mut r = FirstBytes::new(&data[..]);
        let mut small = [0u8; 5];
        // Several short reads, then the rest: the record spans reads and stops at 16 bytes.
        for _ in 0..3 {
            let n = r.read(&mut small).await.expect("read");
            assert_eq!(n, 5);
        }
        let mut rest = Vec::new();
        r.read_to_end(&mut rest).await.expect("read");
        assert_eq!(rest.len(), 25);
        assert_eq!(r.first(), data.get(..FIRST_BYTES).unwrap_or_default());
    }
}
