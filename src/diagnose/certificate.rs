//! The certificate as a client judges it: expiry, name, trust, chain, EKU, key.

use super::{Acc, Policy, days_left};
use crate::cert;
use crate::model::{CertFacts, FindingCode as C};

pub(super) fn cert_findings(c: &CertFacts, now: i64, policy: &Policy, acc: &mut Acc) {
    if c.parse_error.is_some() && c.not_after_unix == 0 {
        acc.add(
            C::TlsHandshakeFailed,
            format!(
                "unparseable certificate: {}",
                c.parse_error.clone().unwrap_or_default()
            ),
        );
        return;
    }
    let days_left = days_left(c, now);
    if now > c.not_after_unix {
        acc.add(
            C::CertExpired,
            format!("expired {} d ago ({})", -days_left, c.not_after),
        );
    } else if now < c.not_before_unix {
        acc.add(C::CertNotYetValid, format!("valid from {}", c.not_before));
    } else if days_left <= i64::from(policy.expiry_warn_days) {
        acc.add(
            C::CertExpiring,
            format!("expires in {days_left} d ({})", c.not_after),
        );
    }
    if c.name_match == Some(false) {
        let name = c.checked_name.clone().unwrap_or_default();
        acc.add(
            C::CertNameMismatch,
            format!(
                "{name} is not in subject {:?} / SANs {:?}",
                c.subject, c.sans
            ),
        );
    }
    let weak_key = cert::is_weak_key(c);
    let weak_sig = cert::is_weak_sig(c);
    if weak_key || weak_sig {
        let mut why = Vec::new();
        if weak_key {
            why.push(c.key.clone());
        }
        if weak_sig {
            why.push(c.sig_alg.clone());
        }
        acc.add(C::CertWeak, why.join(", "));
    }
    if !cert::eku_allows_rdp(c) {
        let eku: Vec<String> = c
            .eku
            .iter()
            .flatten()
            .map(|o| cert::eku_display(o))
            .collect();
        acc.add(C::CertWrongEku, format!("EKU: {}", eku.join(", ")));
    }
    if c.self_signed {
        acc.add(
            C::CertSelfSigned,
            format!("issuer = subject = {}", c.subject),
        );
    } else if let Some(missing) = &c.missing_issuer {
        // Not "untrusted": a trusted root completes the chain once the server sends it.
        acc.add(C::CertChainIncomplete, missing.clone());
    } else if !c.trusted {
        let why = c
            .trust_error
            .clone()
            .unwrap_or_else(|| "unknown issuer".into());
        acc.add(C::CertUntrusted, format!("{why} (issuer {})", c.issuer));
    }
    super::revocation::revocation_findings(c, acc);
}
