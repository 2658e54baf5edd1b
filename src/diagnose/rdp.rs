//! The X.224 negotiation (security layers, failure codes, the matrix) and standard RDP
//! security's encryption level.

use super::Acc;
use crate::model::{FindingCode as C, NegResult, ProbeRecord};
use crate::rdp::x224::{FailureCode, Protocols, protocol_names, selection_is_valid};

/// Every protocol a client may request; a selection outside it is never valid.
pub(super) const FIRST_REQUEST_BITS: u32 = Protocols::all().bits();

/// `SSL|HYBRID (0x00000003)`: the codec's names and the raw value, which stays evidence.
pub(super) fn protocol_label(p: u32) -> String {
    let mut names = protocol_names(p).join("|");
    if p & !Protocols::all().bits() != 0 {
        names.push_str(if names.is_empty() {
            "unknown"
        } else {
            "|unknown"
        });
    }
    format!("{names} (0x{p:08X})")
}

pub(super) fn failure_finding(code: u32, acc: &mut Acc) {
    let failure = FailureCode(code);
    let finding = match failure {
        FailureCode::SSL_REQUIRED_BY_SERVER => C::TlsRequired,
        FailureCode::SSL_NOT_ALLOWED_BY_SERVER => C::RdpSecurityOnly,
        FailureCode::SSL_CERT_NOT_ON_SERVER => C::CertMissing,
        FailureCode::HYBRID_REQUIRED_BY_SERVER => C::NlaRequired,
        FailureCode::SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER => C::ClientCertRequired,
        _ => C::RdpNegFailure,
    };
    let detail = match failure.name() {
        Some(name) => format!("RDP_NEG_FAILURE {code} {name}"),
        None => format!("RDP_NEG_FAILURE code {code}"),
    };
    acc.add(finding, detail);
}

pub(super) fn rdp_findings(r: &ProbeRecord, acc: &mut Acc) {
    let Some(rdp) = &r.rdp else { return };
    let Some(first) = rdp.attempts.first() else {
        return;
    };
    match &first.result {
        NegResult::NotRdp { first_bytes, hint } => acc.add(
            C::NotRdp,
            format!("reply looks like {hint} (first bytes {first_bytes})"),
        ),
        NegResult::BadLength { length } => {
            acc.add(C::NotRdp, format!("TPKT length {length} is out of range"))
        }
        NegResult::NoReply => acc.add(
            C::RdpNoReply,
            "no X.224 connection confirm before the timeout",
        ),
        NegResult::Reset => acc.add(C::RdpReset, "connection reset after the X.224 request"),
        NegResult::Closed => acc.add(
            C::RdpReset,
            "connection closed (FIN) after the X.224 request",
        ),
        NegResult::Rejected => acc.add(
            C::RdpRequestRejected,
            "MCS Disconnect-Provider-Ultimatum instead of a connection confirm",
        ),
        NegResult::Legacy => acc.add(
            C::RdpLegacy,
            "bare connection confirm: TLS/NLA support unknown",
        ),
        NegResult::ConnectFailed { status } => {
            acc.add(C::TcpError, format!("connection {}", status.as_str()))
        }
        NegResult::UncoveredNeg { selected, failure } => {
            let hidden = match (selected, failure) {
                (Some(p), _) => format!("RDP_NEG_RSP selecting {}", protocol_label(*p)),
                (None, Some(code)) => format!("RDP_NEG_FAILURE {code}"),
                (None, None) => "negotiation data".to_string(),
            };
            acc.add(
                C::RdpProtocolViolation,
                format!(
                    "the connection confirm's length indicator (LI=6) leaves out the {hidden} \
                     sent after it: clients follow LI, miss the answer and fall back to \
                     standard RDP security"
                ),
            )
        }
        NegResult::Selected { protocol, .. } if !selection_is_valid(first.requested, *protocol) => {
            acc.add(
                C::RdpProtocolViolation,
                format!(
                    "asked for {}, the server selected {}, which the client never offered",
                    protocol_label(first.requested),
                    protocol_label(*protocol)
                ),
            )
        }
        NegResult::Selected { protocol, .. } => {
            if *protocol == 0 && first.requested != 0 {
                acc.add(
                    C::RdpSecurityOnly,
                    "the server picked standard RDP security although TLS was offered",
                );
            }
        }
        NegResult::Failure { .. } => {}
    }
    // Later matrix answers that no request could produce (unknown or several bits).
    let later = rdp.attempts.iter().skip(1).find_map(|a| match a.result {
        NegResult::Selected { protocol, .. }
            if !selection_is_valid(FIRST_REQUEST_BITS, protocol) =>
        {
            Some((a.requested, protocol))
        }
        _ => None,
    });
    if let Some((requested, protocol)) = later {
        acc.add(
            C::RdpProtocolViolation,
            format!(
                "asked for {}, the server selected {}, which no client offers",
                protocol_label(requested),
                protocol_label(protocol)
            ),
        );
    }
    for code in &rdp.failures {
        failure_finding(*code, acc);
    }
    let has = |l: Protocols| rdp.accepts(l);
    let nla = has(Protocols::HYBRID) || has(Protocols::HYBRID_EX);
    let enhanced = has(Protocols::SSL) || nla;
    let accepted = || format!("accepted: {}", rdp.accepted_names().join("|"));
    if has(Protocols::RDP) && enhanced {
        acc.add(C::DowngradePossible, accepted());
    }
    if nla && (has(Protocols::SSL) || has(Protocols::RDP)) {
        acc.add(C::NlaNotEnforced, accepted());
    }
}

/// Deep standard-RDP-security data (MCS/GCC server security): FIPS-only and weak levels.
pub(super) fn encryption_findings(rdp: &crate::model::RdpOutcome, acc: &mut Acc) {
    use crate::rdp::mcs::method;
    const LEVEL_LOW: u32 = 1;
    const LEVEL_FIPS: u32 = 4;
    if !rdp.accepts(Protocols::RDP) {
        return;
    }
    if rdp.encryption_level == Some(LEVEL_FIPS) {
        acc.add(C::RdpFipsOnly, "encryption level 4 (FIPS)");
    }
    let weak: Vec<&str> = rdp
        .encryption_methods
        .iter()
        .filter_map(|m| match *m {
            method::BIT40 => Some("40-bit"),
            method::BIT56 => Some("56-bit"),
            _ => None,
        })
        .collect();
    if rdp.encryption_level == Some(LEVEL_LOW) || !weak.is_empty() {
        let mut why = Vec::new();
        if rdp.encryption_level == Some(LEVEL_LOW) {
            why.push("level 1 (Low: client-to-server only)".to_string());
        }
        if !weak.is_empty() {
            why.push(format!("methods {}", weak.join(",")));
        }
        acc.add(C::RdpWeakEncryption, why.join("; "));
    }
}
