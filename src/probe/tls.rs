//! TLS on the RDP stream (rustls, no SNI, accept-any verifier), the raw legacy hello for
//! servers rustls cannot talk to, and the deep-depth probes (single-version hellos, MCS).

use rustls::pki_types::ServerName;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::io::{ReadEnd, read_parsed};
use super::negotiate::{FIRST_REQUEST, exchange};
use super::{HostCtx, now_unix};
use crate::model::{NegResult, ProbeRecord, RdpOutcome, TlsOutcome, TlsStatus};
use crate::rdp::mcs;
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
    match tokio::time::timeout_at(deadline, connector.connect(name, stream)).await {
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
        Ok(Err(e)) => {
            let f = classify_io_error(&e);
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
