//! TLS on the RDP stream (rustls, no SNI, accept-any verifier), the raw legacy hello for
//! servers rustls cannot talk to, and the deep-depth probes (single-version hellos, MCS).

use std::pin::Pin;
use std::task::{Context, Poll};

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::io::{ReadEnd, read_parsed};
use super::negotiate::{FIRST_REQUEST, exchange};
use super::{HostCtx, now_unix};
use crate::model::{NegResult, ProbeRecord, RdpOutcome, TlsOutcome, TlsStatus};
use crate::rdp::x224::{self, Confirm};
use crate::rdp::{Parse, mcs};
use crate::tls::danger::{
    TlsFailure, classify_io_error, suite_name, version_name, wants_legacy_fallback,
};
use crate::tls::legacy::{self, FlightOutcome, TlsVersion};

const HYBRID_BITS: u32 = 0x02 | 0x08;

fn outcome(status: TlsStatus, via: &str) -> TlsOutcome {
    TlsOutcome {
        status,
        version: None,
        cipher: None,
        alert: None,
        via: via.into(),
        versions: Vec::new(),
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

/// TLS right after a CC that selected `selected` (SSL, HYBRID or HYBRID_EX), on the same stream.
pub async fn tls_phase(
    ctx: &mut HostCtx<'_>,
    stream: TcpStream,
    selected: u32,
    rec: &mut ProbeRecord,
) {
    let connector = TlsConnector::from(ctx.prober.tls.any.clone());
    let name = ServerName::IpAddress(ctx.addr.ip().into());
    let deadline = ctx.phase_deadline();
    let stream = FirstBytes::new(stream);
    match tokio::time::timeout_at(deadline, connector.connect(name, stream).into_fallible()).await {
        Err(_) => {
            rec.tls = Some(outcome(TlsStatus::Stalled, "rustls"));
        }
        Ok(Ok(tls)) => {
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
            rec.tls = Some(o);
            if !chain.is_empty() {
                rec.cert = Some(crate::cert::cert_facts(
                    &chain,
                    &ctx.prober.trust,
                    now_unix(),
                ));
            }
            if selected & HYBRID_BITS != 0 {
                super::credssp::credssp_phase(ctx, tls, rec).await;
            }
        }
        Ok(Err((e, io))) => {
            let f = classify_io_error(&e);
            if f == TlsFailure::NotTls {
                // rustls only says "not TLS"; what the server did send names the failure.
                rec.tls = Some(not_tls_outcome(io.first()));
                return;
            }
            let mut o = failure_outcome(&f);
            if wants_legacy_fallback(&f)
                && let Some(legacy) =
                    legacy_hello(ctx, FIRST_REQUEST, TlsVersion::TLS10, TlsVersion::TLS12).await
            {
                match legacy {
                    FlightOutcome::Hello(flight) => {
                        let mut lo = outcome(TlsStatus::LegacyHello, "legacy-hello");
                        lo.version = Some(flight.version.name().to_string());
                        lo.cipher = Some(
                            crate::tls::suites::suite_name(flight.cipher)
                                .map(str::to_string)
                                .unwrap_or_else(|| format!("0x{:04X}", flight.cipher)),
                        );
                        lo.legacy = true;
                        lo.error = Some(format!("rustls: {}", describe(&f)));
                        if !flight.certificates.is_empty() {
                            rec.cert = Some(crate::cert::cert_facts(
                                &flight.certificates,
                                &ctx.prober.trust,
                                now_unix(),
                            ));
                        }
                        rec.tls = Some(lo);
                        #[cfg(feature = "legacy-tls")]
                        if selected & HYBRID_BITS != 0 {
                            super::credssp::credssp_via_openssl(ctx, rec).await;
                        }
                        return;
                    }
                    // The broad hello was refused too: report the server's own alert.
                    FlightOutcome::Alert { description, .. } if o.status != TlsStatus::Alert => {
                        o.error = Some(format!("legacy hello answered with alert {description}"));
                    }
                    _ => {}
                }
            }
            rec.tls = Some(o);
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

/// Keeps the first bytes the server sends on the TLS stream: rustls consumes them, and when
/// they are not TLS they are the only clue to what the server did.
struct FirstBytes<S> {
    inner: S,
    first: [u8; FIRST_BYTES],
    len: usize,
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
        }
    }

    fn first(&self) -> &[u8] {
        self.first.get(..self.len).unwrap_or_default()
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

fn describe(f: &TlsFailure) -> String {
    match f {
        TlsFailure::Alert(a) => format!("alert {a} {}", crate::diagnose::alert_name(*a)),
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
    let (stream, _) = ctx.connect().await;
    let mut s = stream?;
    match exchange(ctx, &mut s, requested).await {
        NegResult::Selected { protocol, .. } if protocol != 0 => {}
        _ => return None,
    }
    let random: [u8; 32] = rand::random();
    let hello = legacy::client_hello(min, max, random);
    let deadline = ctx.phase_deadline();
    if tokio::time::timeout_at(deadline, s.write_all(&hello))
        .await
        .ok()?
        .is_err()
    {
        return None;
    }
    let mut buf = Vec::with_capacity(4096);
    match read_parsed(
        &mut s,
        &mut buf,
        legacy::MAX_FLIGHT,
        deadline,
        legacy::parse_server_flight,
    )
    .await
    {
        ReadEnd::Done(o) => Some(o),
        _ => None,
    }
}

/// Deep: which single TLS versions the server accepts (a new CR/CC for each).
pub async fn deep_versions(ctx: &mut HostCtx<'_>, rec: &mut ProbeRecord) {
    let mut versions = Vec::new();
    for v in [
        TlsVersion::TLS10,
        TlsVersion::TLS11,
        TlsVersion::TLS12,
        TlsVersion::TLS13,
    ] {
        if tokio::time::Instant::now() >= ctx.host_deadline {
            break;
        }
        if let Some(FlightOutcome::Hello(f)) = legacy_hello(ctx, FIRST_REQUEST, v, v).await
            && f.version == v
        {
            versions.push(v.name().to_string());
        }
    }
    if let Some(t) = rec.tls.as_mut() {
        t.versions = versions;
    }
}

/// Deep: standard RDP security level, methods and the server's RDP version (MCS/GCC), on a
/// CR 0 connection. Methods counted as supported when the server returns exactly the one offered.
pub async fn deep_mcs(ctx: &mut HostCtx<'_>, rdp: &mut RdpOutcome) {
    if let Some(resp) = mcs_probe(ctx, 0x1B).await {
        rdp.version = resp.server_version;
        rdp.encryption_level = resp.encryption_level;
    } else {
        return;
    }
    let mut methods = Vec::new();
    for m in [0x01u32, 0x08, 0x02, 0x10] {
        if tokio::time::Instant::now() >= ctx.host_deadline {
            break;
        }
        if let Some(r) = mcs_probe(ctx, m).await
            && r.encryption_method == Some(m)
        {
            methods.push(m);
        }
    }
    rdp.encryption_methods = methods;
}

async fn mcs_probe(ctx: &mut HostCtx<'_>, methods: u32) -> Option<mcs::ConnectResponse> {
    let (stream, _) = ctx.connect().await;
    let mut s = stream?;
    match exchange(ctx, &mut s, 0).await {
        NegResult::Selected { protocol: 0, .. } | NegResult::Legacy => {}
        _ => return None,
    }
    let ci = mcs::connect_initial(methods, 0);
    let deadline = ctx.phase_deadline();
    tokio::time::timeout_at(deadline, s.write_all(&ci))
        .await
        .ok()?
        .ok()?;
    let mut buf = Vec::with_capacity(1024);
    match read_parsed(
        &mut s,
        &mut buf,
        64 * 1024,
        deadline,
        mcs::parse_connect_response,
    )
    .await
    {
        ReadEnd::Done(mcs::McsReply::Response(r)) => Some(r),
        _ => None,
    }
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
