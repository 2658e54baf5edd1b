//! X.224 negotiation and the security-layer matrix (rdp-protocol.md 2.2), in at most three
//! connections at standard depth.

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::io::{ReadEnd, read_parsed};
use super::{HostCtx, add_accepted};
use crate::cli::Depth;
use crate::model::{NegAttempt, NegResult, ProbeRecord, RdpOutcome, TcpStatus};
use crate::rdp::x224::{self, Confirm, NotRdpHint};

const SSL: u32 = 0x01;
const HYBRID: u32 = 0x02;
const HYBRID_EX: u32 = 0x08;
/// SSL|HYBRID|HYBRID_EX: never more (xrdp rejects requests above 0x0B).
pub const FIRST_REQUEST: u32 = 0x0B;
/// X.224 requests (connections) the standard-depth matrix may make, the first one included.
/// Connections the TLS phase opens for itself (legacy hello, OpenSSL CredSSP) do not count:
/// a TLS 1.0-only NLA host would otherwise never learn that NLA is required.
const MAX_STANDARD_CONNECTIONS: u32 = 3;

/// Send a CR and read the CC. The stream stays open for TLS when a layer was selected.
pub async fn exchange(ctx: &HostCtx<'_>, stream: &mut TcpStream, requested: u32) -> NegResult {
    let cr = x224::connection_request(requested, None);
    let deadline = ctx.phase_deadline();
    match tokio::time::timeout_at(deadline, stream.write_all(&cr)).await {
        Err(_) => return NegResult::NoReply,
        Ok(Err(e)) => {
            return match e.kind() {
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe => {
                    NegResult::Reset
                }
                _ => NegResult::Closed,
            };
        }
        Ok(Ok(())) => {}
    }
    let mut buf = Vec::with_capacity(32);
    match read_parsed(
        stream,
        &mut buf,
        x224::MAX_TPKT,
        deadline,
        x224::parse_confirm,
    )
    .await
    {
        ReadEnd::Done(c) => confirm_to_result(c, &buf),
        ReadEnd::Timeout { got: 0 } => NegResult::NoReply,
        // A TPKT header and then nothing (or a trickle) is an RDP stack that stopped answering.
        ReadEnd::Timeout { .. } if buf.first() == Some(&0x03) => NegResult::NoReply,
        ReadEnd::Timeout { .. } => NegResult::NotRdp {
            first_bytes: first_hex(&buf),
            hint: "incomplete reply".into(),
        },
        ReadEnd::Reset { got: 0 } => NegResult::Reset,
        ReadEnd::Eof { got: 0 } => NegResult::Closed,
        ReadEnd::Reset { .. } | ReadEnd::Eof { .. } => NegResult::NotRdp {
            first_bytes: first_hex(&buf),
            hint: "truncated reply".into(),
        },
        ReadEnd::TooLarge => NegResult::BadLength {
            length: buf.len() as u32,
        },
        ReadEnd::Io(_) => NegResult::Reset,
    }
}

fn first_hex(buf: &[u8]) -> String {
    hex::encode(buf.get(..buf.len().min(16)).unwrap_or_default())
}

fn confirm_to_result(c: Confirm, buf: &[u8]) -> NegResult {
    match c {
        Confirm::Selected { protocol, flags } => NegResult::Selected {
            protocol,
            flags: flags.bits(),
        },
        Confirm::Failure(code) => NegResult::Failure { code: code.0 },
        Confirm::Legacy => NegResult::Legacy,
        Confirm::Rejected => NegResult::Rejected,
        Confirm::BadLength(length) => NegResult::BadLength { length },
        Confirm::NotRdp(hint) => {
            let hint = match hint {
                NotRdpHint::TlsRecord => "a TLS-only listener",
                NotRdpHint::Http => "an HTTP server",
                NotRdpHint::Ssh => "an SSH server",
                _ => "not RDP",
            };
            NegResult::NotRdp {
                first_bytes: first_hex(buf),
                hint: hint.into(),
            }
        }
    }
}

fn layer_name(p: u32) -> &'static str {
    match p {
        0 => "RDP",
        SSL => "SSL",
        HYBRID => "HYBRID",
        0x04 => "RDSTLS",
        HYBRID_EX => "HYBRID_EX",
        0x10 => "RDSAAD",
        _ => "UNKNOWN",
    }
}

/// The whole plan for one address, starting on an open connection.
pub async fn run_plan(ctx: &mut HostCtx<'_>, mut stream: TcpStream, rec: &mut ProbeRecord) {
    let mut rdp = RdpOutcome::default();
    let first = exchange(ctx, &mut stream, FIRST_REQUEST).await;
    rdp.attempts.push(NegAttempt {
        requested: FIRST_REQUEST,
        result: first.clone(),
    });
    let mut req = FIRST_REQUEST;
    let mut stop = false;
    match &first {
        NegResult::Selected { protocol, flags } => {
            rdp.flags |= flags;
            let p = *protocol;
            add_accepted(&mut rdp, layer_name(p));
            if p == HYBRID_EX {
                // HYBRID_EX is CredSSP plus the early-auth PDU: HYBRID works too.
                add_accepted(&mut rdp, "HYBRID");
                req &= !(HYBRID_EX | HYBRID);
            } else if p == 0 {
                // Standard RDP picked although TLS was offered: nothing requested is accepted.
                stop = true;
                req = 0;
            } else {
                req &= !p;
            }
            if p & (SSL | HYBRID | HYBRID_EX) != 0 && p.count_ones() == 1 {
                super::tls::tls_phase(ctx, stream, p, rec).await;
            } else {
                drop(stream);
            }
        }
        NegResult::Failure { code } => {
            rdp.failures.push(*code);
            drop(stream);
            // F2 (RDP only) still needs the CR 0 probe; every other code explains what remains.
            stop = *code != 2;
            req = 0;
        }
        NegResult::Legacy => {
            rdp.legacy = true;
            add_accepted(&mut rdp, "RDP");
            stop = true;
        }
        _ => stop = true,
    }

    // The first CR was one matrix request, whatever the TLS phase spent afterwards.
    let mut matrix_requests: u32 = 1;
    if ctx.prober.depth != Depth::Quick && !stop {
        // Strip accepted bits until nothing is left or a failure code explains the rest.
        while req != 0 && matrix_requests < MAX_STANDARD_CONNECTIONS {
            matrix_requests += 1;
            let r = reconnect_exchange(ctx, req).await;
            rdp.attempts.push(NegAttempt {
                requested: req,
                result: r.clone(),
            });
            match r {
                NegResult::Selected { protocol, flags } => {
                    rdp.flags |= flags;
                    add_accepted(&mut rdp, layer_name(protocol));
                    if protocol == 0 || protocol & req == 0 {
                        req = 0;
                    } else if protocol == HYBRID_EX {
                        add_accepted(&mut rdp, "HYBRID");
                        req &= !(HYBRID_EX | HYBRID);
                    } else {
                        req &= !protocol;
                    }
                }
                NegResult::Failure { code } => {
                    rdp.failures.push(code);
                    req = 0;
                }
                _ => {
                    stop = true;
                    break;
                }
            }
        }
        let rdp_refused = rdp.failures.iter().any(|c| *c == 1 || *c == 5);
        let rdp_known = rdp.accepted.iter().any(|a| a == "RDP");
        if !stop && !rdp_refused && !rdp_known && matrix_requests < MAX_STANDARD_CONNECTIONS {
            let r = reconnect_exchange(ctx, 0).await;
            rdp.attempts.push(NegAttempt {
                requested: 0,
                result: r.clone(),
            });
            match r {
                NegResult::Selected { protocol: 0, flags } => {
                    rdp.flags |= flags;
                    add_accepted(&mut rdp, "RDP");
                }
                NegResult::Legacy => add_accepted(&mut rdp, "RDP"),
                NegResult::Failure { code } => rdp.failures.push(code),
                _ => {}
            }
        }
    }
    if ctx.prober.depth == Depth::Deep && rdp.accepted.iter().any(|a| a == "RDP") {
        super::tls::deep_mcs(ctx, &mut rdp).await;
    }
    if ctx.prober.depth == Depth::Deep
        && rdp
            .accepted
            .iter()
            .any(|a| a == "SSL" || a == "HYBRID" || a == "HYBRID_EX")
    {
        super::tls::deep_versions(ctx, rec).await;
    }
    rdp.failures.dedup();
    rdp.required = required_layer(&rdp);
    rec.rdp = Some(rdp);
}

/// The one layer the server insists on, when the matrix proves it.
fn required_layer(rdp: &RdpOutcome) -> Option<String> {
    if rdp.failures.contains(&5) {
        return Some("HYBRID".into());
    }
    if rdp.failures.contains(&1) {
        return Some("SSL".into());
    }
    let enhanced = rdp.accepted.iter().any(|a| a != "RDP");
    if !enhanced
        && (rdp.failures.contains(&2) || rdp.accepted.iter().any(|a| a == "RDP"))
        && !rdp.legacy
    {
        return Some("RDP".into());
    }
    None
}

/// A fresh connection for one more matrix probe; the CC is all we read from it.
pub async fn reconnect_exchange(ctx: &mut HostCtx<'_>, requested: u32) -> NegResult {
    let (stream, tcp) = ctx.connect().await;
    match stream {
        Some(mut s) => exchange(ctx, &mut s, requested).await,
        // Open without a stream: the server reset right after the handshake.
        None if tcp.status == TcpStatus::Open && tcp.rtt_ms.is_some() => NegResult::Reset,
        None => NegResult::ConnectFailed {
            status: if tcp.status == TcpStatus::Open {
                TcpStatus::Error
            } else {
                tcp.status
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_layer_from_matrix() {
        let mut r = RdpOutcome {
            failures: vec![5],
            ..Default::default()
        };
        assert_eq!(required_layer(&r).as_deref(), Some("HYBRID"));
        r.failures = vec![1];
        assert_eq!(required_layer(&r).as_deref(), Some("SSL"));
        r.failures = vec![];
        r.accepted = vec!["RDP".into()];
        assert_eq!(required_layer(&r).as_deref(), Some("RDP"));
        r.accepted = vec!["SSL".into(), "RDP".into()];
        assert_eq!(required_layer(&r), None);
    }
}
