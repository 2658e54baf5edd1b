//! The per-address plan: the phases in order, each a function from a connection (or a
//! reconnect on the [`HostCtx`]) to its outcome. No phase calls another; this file is the only
//! place that knows their order.
//!
//! 1. **tcp**: connect (`HostCtx::connect`). No answer at all: **alive**, one SYN to each
//!    `--alive-ports` port at once (host down or port filtered), and the plan ends.
//! 2. **negotiate**: CR 0x0B (SSL|HYBRID|HYBRID_EX) on that connection (`negotiate::first`).
//! 3. **tls**: if one TLS-based layer was selected, TLS on the same connection; when rustls
//!    cannot talk to the server, the raw legacy hello on a new one. When the server's flight
//!    stalls, once more on a new connection with a clamped MSS (path-MTU blackhole); the rest
//!    of the plan then runs on that connection and keeps the clamp.
//! 4. **cert**: facts about the chain the TLS phase saw.
//! 5. **credssp**: if HYBRID or HYBRID_EX, one TSRequest with an NTLM NEGOTIATE, read the
//!    CHALLENGE, close (through OpenSSL on a new connection for legacy-TLS hosts). Never
//!    credentials.
//! 6. **negotiate, the matrix** (standard depth): strip the accepted bit and retry, then one CR 0
//!    unless a failure code already proved standard RDP security is refused.
//! 7. **client hellos** (standard depth): the Windows 11 profile's ClientHello on the matrix's
//!    connection that got a TLS layer selected, when there is one (a server that accepts NLA
//!    and plain TLS). Deep depth sends every profile's hello not sent yet, one connection each.
//! 8. **deep** (deep depth): MCS Connect-Initials for standard RDP security (`mcs`),
//!    single-version TLS hellos (1.0-1.3), then the cipher suites of each accepted version
//!    (`suites`: one connection per accepted suite; weak suites first for every version,
//!    then the full lists newest version first).
//! 9. **udp** (`--udp`, on at standard and deep depth): when TLS on the RDP port worked, one
//!    MS-RDPEUDP SYN to the same port over UDP and a short wait for the SYN+ACK, started right
//!    after TLS and run beside phases 6-8 (`udp::start`).
//! 10. **revocation** (`--check-revocation`): the leaf's OCSP responder, then its CRLs, over HTTP
//!     to the hosts the certificate names (`revocation`); no connection to the scanned address.
//!
//! Connection budget: every reconnect is an event-log line on the server, so the plan spends
//! as few as it can. Quick depth uses one connection (plus the TLS fallback's); the matrix makes
//! at most 3 X.224 requests in all, the first and the MSS retry's included; the TLS fallback's
//! connections (legacy hello, OpenSSL) are extra, and deep depth adds up to 5 MCS, 4 TLS-version
//! and 5 client-profile connections, plus at most 24 for the suite enumeration
//! (`suites::MAX_CONNECTIONS`: one per accepted suite and one refusal per version, weak
//! suites first, plus one order check per version; a list the budget cuts short is marked
//! incomplete). A host that never answered gets the alive phase's SYNs (one per
//! `--alive-ports` port, 2 by default) instead of any of those. The revocation phase's HTTP
//! connections go elsewhere (at most 3 OCSP + 3 CRL URLs, each once per scan) and wait for
//! `--rate` tokens too, as does the UDP phase's datagram (no TCP connection, outside the budget).
//! Connections are spaced per
//! address (`--host-spacing`), rate-limited across the scan (`--rate`), and no phase starts one
//! past the address's deadline (`--host-deadline`).

use tokio::net::TcpStream;

use super::host::{FIRST_REQUEST, HostCtx};
use super::netinfo::{self, us_to_ms};
use super::options::Depth;
use super::tls::TlsEnd;
use super::{alive, cert, credssp, mcs, negotiate, profile_hello, revocation, suites, tls, udp};
use crate::clients;
use crate::model::{
    NegAttempt, NegResult, NetFacts, ProbeRecord, ProfileHello, RdpOutcome, TcpStatus, TlsStatus,
};
use crate::rdp::x224::Protocols;

/// The layers CredSSP runs on.
const NLA_LAYERS: u32 = Protocols::HYBRID.bits() | Protocols::HYBRID_EX.bits();

/// One attempt at one address: every phase's outcome into `rec`.
pub async fn run(ctx: &mut HostCtx<'_>, rec: &mut ProbeRecord) {
    let (stream, mut tcp) = ctx.connect().await;
    let reset_after_accept = stream.is_none() && tcp.status == TcpStatus::Open;
    if tcp.status == TcpStatus::Filtered {
        tcp.alive = alive::alive_phase(ctx).await;
    }
    rec.tcp = Some(tcp);
    let Some(mut stream) = stream else {
        if reset_after_accept {
            // The server reset before our CR could be sent: the same fact as a reset at the CR.
            rec.rdp = Some(RdpOutcome {
                attempts: vec![NegAttempt {
                    requested: FIRST_REQUEST,
                    result: NegResult::Reset,
                }],
                ..RdpOutcome::default()
            });
        }
        return;
    };

    let mut rdp = RdpOutcome::default();
    let first = ctx.exchange(&mut stream, FIRST_REQUEST).await;
    let next = negotiate::first(&mut rdp, first);
    // A pre-negotiation (legacy) server's first connection stays open until the plan ends, as
    // it always has: the deep MCS probes run beside it. Every other first connection is closed
    // before the next one opens.
    let mut held: Option<TcpStream> = None;
    let mut net = NetFacts::default();
    let mut chain = Vec::new();
    match next.tls_layer {
        Some(layer) => chain = tls_cert_credssp(ctx, stream, layer, rec, &mut net).await,
        None if rdp.legacy => held = Some(stream),
        None => {
            ctx.net.record(netinfo::stream_info(&stream), true);
            drop(stream);
        }
    }

    // RDP over UDP (once RDP over TCP got as far as TLS) runs beside the remaining TCP phases:
    // a port that never answers costs its wait only once.
    let tls_ok = rec
        .tls
        .as_ref()
        .is_some_and(|t| matches!(t.status, TlsStatus::Ok | TlsStatus::LegacyHello));
    let tcp_rtt = rec.tcp.as_ref().and_then(|t| t.rtt_ms);
    let udp_probe = if tls_ok {
        udp::start(ctx, tcp_rtt)
    } else {
        None
    };
    let udp_wait = async {
        match udp_probe {
            Some(f) => Some(f.await),
            None => None,
        }
    };
    let tcp_phases = async {
        let matrix_tls = negotiate::matrix(ctx, &mut rdp, next).await;
        if ctx.prober.opts.depth != Depth::Quick && negotiate::accepts_tls(&rdp) {
            rec.profile_hellos = profile_hellos(ctx, &rdp, matrix_tls).await;
        }

        if ctx.prober.opts.depth == Depth::Deep {
            if negotiate::accepts_rdp(&rdp) {
                mcs::deep_mcs(ctx, &mut rdp).await;
            }
            if negotiate::accepts_tls(&rdp) {
                let versions = tls::deep_versions(ctx).await;
                // No TLS outcome to hold the lists: no connections spent on them.
                if let Some(t) = rec.tls.as_mut() {
                    t.suites = suites::deep_suites(ctx, tls_layer(&rdp), &versions).await;
                    t.versions = versions;
                }
            }
        }
        negotiate::finish(&mut rdp);
        rec.rdp = Some(rdp);
        if let Some(s) = held {
            ctx.net.record(netinfo::stream_info(&s), true);
            drop(s);
        }
    };
    let ((), udp) = tokio::join!(tcp_phases, udp_wait);
    net.udp = udp;
    // Last: it talks to other hosts (the certificate's URLs), and the RDP phases come first.
    if let Some(c) = rec.cert.as_mut() {
        revocation::revocation_phase(ctx.prober, &chain, c, ctx.host_deadline).await;
    }
    let tally = ctx.net.tally();
    if tally.measured > 0 || net.clamped_mss.is_some() || net.udp.is_some() {
        net.retransmits = tally.retransmits;
        net.measured = tally.measured;
        net.srtt_ms = tally.main.map(|i| us_to_ms(i.srtt_us));
        net.rtt_var_ms = tally.main.map(|i| us_to_ms(i.rttvar_us));
        rec.net = Some(net);
    }
}

/// Phase 7: the Windows 11 hello on the matrix's connection that got a TLS layer selected (no
/// connection of its own at standard depth); at deep depth every profile's hello not sent yet,
/// one new connection each.
async fn profile_hellos(
    ctx: &mut HostCtx<'_>,
    rdp: &RdpOutcome,
    matrix_tls: Option<TcpStream>,
) -> Vec<ProfileHello> {
    let mut out = Vec::new();
    if let (Some(s), Some(first)) = (matrix_tls, clients::PROFILES.first()) {
        out.push(profile_hello::on_stream(ctx, s, first).await);
    }
    if ctx.prober.opts.depth != Depth::Deep {
        return out;
    }
    let layer = tls_layer(rdp);
    for p in clients::PROFILES {
        if ctx.out_of_time() {
            break;
        }
        if out.iter().any(|h| h.profile == p.id) {
            continue;
        }
        out.extend(profile_hello::on_new_connection(ctx, layer, p).await);
    }
    out
}

/// The TLS-based layer the server already selected, to ask for on a new connection so its CC
/// selects it again (the first request when none was recorded).
fn tls_layer(rdp: &RdpOutcome) -> u32 {
    rdp.accepted
        .iter()
        .map(|l| l.bits())
        .find(|b| negotiate::is_tls_layer(*b))
        .unwrap_or(FIRST_REQUEST)
}

/// Phases 3-5 on the first connection, after a CC that selected `layer` (on the MSS retry's
/// connection when the first one's TLS flight stalled). Returns the chain the server sent.
async fn tls_cert_credssp(
    ctx: &mut HostCtx<'_>,
    stream: TcpStream,
    layer: u32,
    rec: &mut ProbeRecord,
    net: &mut NetFacts,
) -> Vec<Vec<u8>> {
    let mut t = tls::tls_phase(ctx, stream).await;
    if t.outcome.status == TlsStatus::Stalled
        && !ctx.out_of_time()
        && let Some(retry) = tls::clamped_retry(ctx, layer).await
    {
        net.clamped_mss = Some(netinfo::CLAMP_MSS);
        // A stall at every MSS stays a stall; anything else is what the server says once
        // its packets get through.
        t = retry;
    }
    net.handshake_ms = t.handshake_ms;
    rec.tls = Some(t.outcome);
    if !t.chain.is_empty() {
        rec.cert = Some(cert::cert_phase(&t.chain, &ctx.prober.trust));
    }
    let nla = layer & NLA_LAYERS != 0;
    match t.end {
        TlsEnd::Established(s) if nla => {
            rec.credssp = Some(credssp::credssp_phase(ctx, s).await);
        }
        #[cfg(feature = "legacy-tls")]
        TlsEnd::Legacy(refused) if nla => {
            if let Some(c) = credssp::credssp_via_openssl(ctx).await {
                if let Some(t) = rec.tls.as_mut() {
                    t.via = "legacy-hello+openssl".into();
                }
                rec.credssp = Some(c);
            }
            drop(refused);
        }
        // A TLS stream CredSSP does not need closes here, before the matrix reconnects.
        _ => {}
    }
    t.chain
}
