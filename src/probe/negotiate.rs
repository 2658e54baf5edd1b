//! X.224 negotiation and the security-layer matrix (docs/protocol.md §4), in at most three
//! connections at standard depth. [`first`] reads the first CC (on the plan's first
//! connection); [`matrix`] reconnects to strip what was accepted; [`finish`] names the layer
//! the server insists on.

use tokio::net::TcpStream;

use super::host::{FIRST_REQUEST, HostCtx};
use super::options::Depth;
use crate::model::{NegAttempt, NegResult, RdpOutcome};
use crate::rdp::x224::{Protocols, selection_is_valid};

const SSL: u32 = Protocols::SSL.bits();
const HYBRID: u32 = Protocols::HYBRID.bits();
const HYBRID_EX: u32 = Protocols::HYBRID_EX.bits();
/// X.224 requests (connections) the standard-depth matrix may make, the first one included.
/// Connections the TLS phase opens for itself (legacy hello, OpenSSL CredSSP) do not count:
/// a TLS 1.0-only NLA host would otherwise never learn that NLA is required. The path-MTU
/// retry does (`HostCtx::budget_spent`).
const MAX_STANDARD_CONNECTIONS: u32 = 3;

/// Where the matrix stands after the first CC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Next {
    /// The layer TLS must start on, on the first connection (SSL, HYBRID or HYBRID_EX).
    pub tls_layer: Option<u32>,
    /// Bits still to ask for.
    req: u32,
    /// The first CC already explains everything: no more requests.
    stop: bool,
}

/// The first request's answer: what it proves, and what the rest of the plan asks next.
pub fn first(rdp: &mut RdpOutcome, first: NegResult) -> Next {
    let mut next = Next {
        tls_layer: None,
        req: FIRST_REQUEST,
        stop: false,
    };
    match &first {
        // A protocol never offered (or several at once): no client goes on from here, and
        // nothing it says about the layers can be trusted. diagnose names the violation.
        NegResult::Selected { protocol, .. } if !selection_is_valid(FIRST_REQUEST, *protocol) => {
            next.stop = true;
            next.req = 0;
        }
        NegResult::Selected { protocol, flags } => {
            rdp.flags |= flags;
            let p = *protocol;
            rdp.accept(Protocols::from_bits_retain(p));
            if p == HYBRID_EX {
                // HYBRID_EX is CredSSP plus the early-auth PDU: HYBRID works too.
                rdp.accept(Protocols::HYBRID);
                next.req &= !(HYBRID_EX | HYBRID);
            } else if p == 0 {
                // Standard RDP picked although TLS was offered: nothing requested is accepted.
                next.stop = true;
                next.req = 0;
            } else {
                next.req &= !p;
            }
            if p & (SSL | HYBRID | HYBRID_EX) != 0 && p.count_ones() == 1 {
                next.tls_layer = Some(p);
            }
        }
        NegResult::Failure { code } => {
            rdp.failures.push(*code);
            // F2 (RDP only) still needs the CR 0 probe; every other code explains what remains.
            next.stop = *code != 2;
            next.req = 0;
        }
        NegResult::Legacy => {
            rdp.legacy = true;
            rdp.accept(Protocols::RDP);
            next.stop = true;
        }
        _ => next.stop = true,
    }
    rdp.attempts.push(NegAttempt {
        requested: FIRST_REQUEST,
        result: first,
    });
    next
}

/// Standard depth: strip accepted bits on fresh connections until nothing is left or a failure
/// code explains the rest, then one CR 0 unless standard RDP security is already known.
///
/// Returns the first matrix connection whose CC selected a TLS-based layer, still open after
/// the CC: the plan sends a client profile's ClientHello on it instead of opening another.
pub async fn matrix(ctx: &mut HostCtx<'_>, rdp: &mut RdpOutcome, next: Next) -> Option<TcpStream> {
    let Next { mut req, stop, .. } = next;
    if ctx.prober.opts.depth == Depth::Quick || stop {
        return None;
    }
    let mut tls_stream: Option<TcpStream> = None;
    // The first CR was one matrix request, whatever the TLS phase spent afterwards; an MSS
    // retry (a second full handshake) takes one of the three.
    let mut matrix_requests: u32 = 1 + ctx.budget_spent;
    while req != 0 && matrix_requests < MAX_STANDARD_CONNECTIONS {
        matrix_requests += 1;
        let (r, s) = ctx.reconnect(req).await;
        rdp.attempts.push(NegAttempt {
            requested: req,
            result: r.clone(),
        });
        match r {
            // Something no client ever offers (unknown or several bits): stop, accept nothing.
            // A known layer outside this narrower request is tolerated as before (mstsc always
            // offers SSL, so it would not be refused for it).
            NegResult::Selected { protocol, .. }
                if !selection_is_valid(FIRST_REQUEST, protocol) =>
            {
                return tls_stream;
            }
            NegResult::Selected { protocol, flags } => {
                if tls_stream.is_none() && is_tls_layer(protocol) && protocol & req != 0 {
                    tls_stream = s;
                }
                rdp.flags |= flags;
                rdp.accept(Protocols::from_bits_retain(protocol));
                if protocol == 0 || protocol & req == 0 {
                    req = 0;
                } else if protocol == HYBRID_EX {
                    rdp.accept(Protocols::HYBRID);
                    req &= !(HYBRID_EX | HYBRID);
                } else {
                    req &= !protocol;
                }
            }
            NegResult::Failure { code } => {
                rdp.failures.push(code);
                req = 0;
            }
            // Anything else ends the matrix: the server stopped answering as RDP.
            _ => return tls_stream,
        }
    }
    let rdp_refused = rdp.failures.iter().any(|c| *c == 1 || *c == 5);
    if !rdp_refused && !accepts_rdp(rdp) && matrix_requests < MAX_STANDARD_CONNECTIONS {
        let (r, _) = ctx.reconnect(0).await;
        rdp.attempts.push(NegAttempt {
            requested: 0,
            result: r.clone(),
        });
        match r {
            NegResult::Selected { protocol: 0, flags } => {
                rdp.flags |= flags;
                rdp.accept(Protocols::RDP);
            }
            NegResult::Legacy => rdp.accept(Protocols::RDP),
            NegResult::Failure { code } => rdp.failures.push(code),
            _ => {}
        }
    }
    tls_stream
}

/// A CC's protocol that is exactly one TLS-based layer (TLS starts right after it).
pub fn is_tls_layer(protocol: u32) -> bool {
    protocol & (SSL | HYBRID | HYBRID_EX) != 0 && protocol.count_ones() == 1
}

/// Standard RDP security is known to work (the deep MCS probe needs it).
pub fn accepts_rdp(rdp: &RdpOutcome) -> bool {
    rdp.accepts(Protocols::RDP)
}

/// A TLS-based layer is known to work (the deep single-version hellos need one).
pub fn accepts_tls(rdp: &RdpOutcome) -> bool {
    [Protocols::SSL, Protocols::HYBRID, Protocols::HYBRID_EX]
        .into_iter()
        .any(|l| rdp.accepts(l))
}

/// The matrix is complete: drop repeated failure codes, name the required layer.
pub fn finish(rdp: &mut RdpOutcome) {
    rdp.failures.dedup();
    rdp.required = required_layer(rdp);
}

/// The one layer the server insists on, when the matrix proves it.
fn required_layer(rdp: &RdpOutcome) -> Option<Protocols> {
    if rdp.failures.contains(&5) {
        return Some(Protocols::HYBRID);
    }
    if rdp.failures.contains(&1) {
        return Some(Protocols::SSL);
    }
    let enhanced = rdp.accepted.iter().any(|l| *l != Protocols::RDP);
    if !enhanced && (rdp.failures.contains(&2) || accepts_rdp(rdp)) && !rdp.legacy {
        return Some(Protocols::RDP);
    }
    None
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
        assert_eq!(required_layer(&r), Some(Protocols::HYBRID));
        r.failures = vec![1];
        assert_eq!(required_layer(&r), Some(Protocols::SSL));
        r.failures = vec![];
        r.accepted = vec![Protocols::RDP];
        assert_eq!(required_layer(&r), Some(Protocols::RDP));
        r.accepted = vec![Protocols::SSL, Protocols::RDP];
        assert_eq!(required_layer(&r), None);
    }

    #[test]
    fn first_answer_decides_tls_and_what_is_left() {
        let sel = |protocol| NegResult::Selected { protocol, flags: 0 };
        let mut r = RdpOutcome::default();
        let n = first(&mut r, sel(HYBRID_EX));
        assert_eq!(n.tls_layer, Some(HYBRID_EX));
        assert_eq!((n.req, n.stop), (SSL, false));
        assert_eq!(r.accepted, [Protocols::HYBRID_EX, Protocols::HYBRID]);
        assert_eq!(r.attempts.len(), 1);

        let mut r = RdpOutcome::default();
        let n = first(&mut r, sel(0));
        assert_eq!((n.tls_layer, n.req, n.stop), (None, 0, true));
        assert_eq!(r.accepted, [Protocols::RDP]);

        // F2 (SSL not allowed) leaves the CR 0 probe to run; F5 explains everything.
        let mut r = RdpOutcome::default();
        let n = first(&mut r, NegResult::Failure { code: 2 });
        assert_eq!((n.tls_layer, n.req, n.stop), (None, 0, false));
        let n = first(&mut RdpOutcome::default(), NegResult::Failure { code: 5 });
        assert!(n.stop);

        let mut r = RdpOutcome::default();
        let n = first(&mut r, NegResult::Legacy);
        assert!(n.stop && r.legacy && accepts_rdp(&r));
        assert!(first(&mut RdpOutcome::default(), NegResult::NoReply).stop);
    }
}
