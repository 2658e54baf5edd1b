//! NLA/CredSSP: the TSRequest version, the NTLM CHALLENGE's names and clock.

use super::{Acc, Policy};
use crate::model::{CredSspOutcome, CredSspStatus, FindingCode as C, NtlmInfo, ProbeRecord};
use std::net::IpAddr;

pub(super) fn credssp_findings(
    r: &ProbeRecord,
    c: &CredSspOutcome,
    policy: &Policy,
    acc: &mut Acc,
) {
    match c.status {
        CredSspStatus::Challenge | CredSspStatus::ErrorCode => {}
        CredSspStatus::NoChallenge => {
            let err = c.error.clone().unwrap_or_default();
            let msg = format!("no usable NTLM CHALLENGE in the server's TSRequest {err}");
            acc.add(C::CredsspFailed, msg.trim().to_string());
        }
        CredSspStatus::Unavailable => return,
        CredSspStatus::Malformed
        | CredSspStatus::Reset
        | CredSspStatus::Closed
        | CredSspStatus::Timeout => {
            let err = c.error.clone().unwrap_or_default();
            acc.add(
                C::CredsspFailed,
                format!("{:?} {err}", c.status).trim().to_string(),
            );
        }
    }
    if let Some(v) = c.version
        && v <= 4
    {
        acc.add(C::CredsspUnpatched, format!("server TSRequest version {v}"));
    }
    if let Some(code) = c.error_code {
        acc.add(C::CredsspError, format!("errorCode 0x{code:08X}"));
    }
    let Some(ntlm) = &c.ntlm else { return };
    if let Some(skew) = ntlm.clock_skew_s
        && skew.abs() > policy.max_skew_s
    {
        acc.add(C::ClockSkew, format!("server clock differs by {skew} s"));
    }
    let Some(announced) = ntlm.nb_computer.as_deref().or(ntlm.dns_computer.as_deref()) else {
        return;
    };
    if r.target.host.parse::<IpAddr>().is_err() {
        // A CNAME to the machine's own name is not a stale record.
        let names = [Some(r.target.host.as_str()), r.dns.canonical.as_deref()];
        if !names.iter().flatten().any(|n| names_machine(n, ntlm)) {
            acc.add(
                C::NameMismatch,
                format!(
                    "inventory name {} but the server calls itself {announced}",
                    r.target.host
                ),
            );
        }
    } else if let Some(ptr) = r.dns.ptr.as_deref()
        && !names_machine(ptr, ntlm)
    {
        // An IP target: its reverse DNS names another machine (a stale PTR record).
        acc.add(
            C::NameMismatch,
            format!(
                "reverse DNS of {} names {ptr} but the server calls itself {announced}",
                r.target.host
            ),
        );
    }
}

/// Whether a DNS name's first label is the machine NTLM announces (case-insensitive, domain
/// ignored): its DNS computer name's first label, or its NetBIOS name, which Windows cuts to
/// 15 characters. A server announcing no usable name is never called a mismatch.
pub(super) fn names_machine(name: &str, ntlm: &NtlmInfo) -> bool {
    let first = |s: &str| s.split('.').next().unwrap_or("").to_ascii_lowercase();
    let label = first(name);
    let dns = ntlm.dns_computer.as_deref().map(first).unwrap_or_default();
    let nb = ntlm.nb_computer.as_deref().map(first).unwrap_or_default();
    if dns.is_empty() && nb.is_empty() {
        return true;
    }
    (!dns.is_empty() && label == dns) || (!nb.is_empty() && label.chars().take(15).eq(nb.chars()))
}
