//! The network path: DNS, no answer on the RDP port (host down or port filtered), ICMP
//! rejects, loss and latency, RDP over UDP.

use super::{Acc, Policy};
use crate::model::{
    AliveAnswer, DnsStatus, FindingCode as C, IcmpMeaning, Liveness, NetFacts, ProbeRecord,
    TcpOutcome, UdpOutcome, UdpStatus,
};
use std::net::IpAddr;

/// No answer on the RDP port: the companion SYNs (when they ran) tell a down host from a
/// filtered port.
pub(super) fn filtered_findings(tcp: &TcpOutcome, port: u16, acc: &mut Acc) {
    const NO_ANSWER: &str = "no SYN-ACK before the connect timeout";
    let Some(alive) = &tcp.alive else {
        acc.add(C::PortFiltered, NO_ANSWER);
        return;
    };
    match alive.liveness() {
        Liveness::Up(p) => {
            let how = match p.answer {
                AliveAnswer::SynAck => "a SYN-ACK",
                _ => "a RST",
            };
            acc.add(
                C::PortFiltered,
                format!(
                    "{NO_ANSWER}; the host is up: port {} answered with {how} ({})",
                    p.port,
                    alive.details()
                ),
            );
        }
        Liveness::Down => acc.add(
            C::HostDown,
            format!(
                "no answer on port {port} nor on the other ports tried ({})",
                alive.details()
            ),
        ),
        Liveness::Unknown => acc.add(
            C::PortFiltered,
            format!(
                "{NO_ANSWER}; whether the host is up is unknown ({})",
                alive.details()
            ),
        ),
    }
}

/// An ICMP error (or a local routing failure) ended the connect: who rejected it and why.
pub(super) fn unreachable_findings(tcp: &TcpOutcome, err: String, acc: &mut Acc) {
    match &tcp.icmp {
        Some(i) => {
            let code = match i.meaning() {
                IcmpMeaning::Rejected => C::PortRejected,
                IcmpMeaning::NetUnreachable => C::NetUnreachable,
                IcmpMeaning::HostUnreachable => C::HostUnreachable,
            };
            let detail = if err.is_empty() {
                i.describe()
            } else {
                format!("{err}: {}", i.describe())
            };
            acc.add(code, detail);
        }
        // No ICMP behind it: the scanner's own routing table has no route (the errno name is
        // the recorded fact, in old saved scans too).
        None if err == "ENETUNREACH" => acc.add(
            C::NetUnreachable,
            "ENETUNREACH: the scanner has no route to this network",
        ),
        None => acc.add(C::HostUnreachable, err),
    }
}

pub(super) fn dns_findings(r: &ProbeRecord, acc: &mut Acc) {
    let d = &r.dns;
    let err = d.error.clone().unwrap_or_default();
    match d.status {
        DnsStatus::Nxdomain => acc.add(C::DnsNxdomain, format!("{} does not exist", r.target.host)),
        DnsStatus::Nodata => acc.add(
            C::DnsNodata,
            format!("{} has no A/AAAA records", r.target.host),
        ),
        DnsStatus::Servfail => acc.add(C::DnsServfail, err),
        DnsStatus::Refused => acc.add(C::DnsRefused, err),
        DnsStatus::Timeout => acc.add(C::DnsTimeout, err),
        DnsStatus::Error => acc.add(C::DnsError, err),
        DnsStatus::Resolved | DnsStatus::Pinned => {
            let expect = &r.target.expect_ip;
            if !expect.is_empty() {
                let got: Vec<IpAddr> = d.addresses.clone();
                let same = got.iter().all(|a| expect.contains(a))
                    && expect.iter().all(|e| got.contains(e));
                if !same {
                    acc.add(
                        C::DnsMismatch,
                        format!(
                            "resolves to {} but the inventory expects {}",
                            join_ips(&got),
                            join_ips(expect)
                        ),
                    );
                }
            }
        }
        DnsStatus::Literal => {}
    }
}

pub(super) fn join_ips(v: &[IpAddr]) -> String {
    v.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Loss and latency the kernel measured on the probe's own connections.
pub(super) fn net_findings(n: &NetFacts, policy: &Policy, acc: &mut Acc) {
    if n.retransmits > 0 {
        acc.add(
            C::NetworkLossy,
            format!(
                "{} segment(s) retransmitted over {} connection(s)",
                n.retransmits, n.measured
            ),
        );
    }
    let mut slow = Vec::new();
    if let Some(rtt) = n.srtt_ms.filter(|v| *v > policy.slow_rtt_ms) {
        slow.push(format!(
            "smoothed RTT {rtt:.0} ms (> {:.0} ms)",
            policy.slow_rtt_ms
        ));
    }
    if let Some(h) = n.handshake_ms.filter(|v| *v > policy.slow_handshake_ms) {
        slow.push(format!(
            "TLS handshake {h:.0} ms (> {:.0} ms)",
            policy.slow_handshake_ms
        ));
    }
    if !slow.is_empty() {
        acc.add(C::NetworkSlow, slow.join(", "));
    }
}

/// The RDP-UDP probe ran (so TCP RDP got as far as TLS) and UDP did not come up.
pub(super) fn udp_findings(u: &UdpOutcome, port: u16, acc: &mut Acc) {
    let detail = match (u.status, u.detail.as_deref()) {
        (UdpStatus::NoAnswer, _) => format!(
            "no answer to the RDP-UDP SYN on UDP {port}: a firewall drops it, or the server does not offer UDP"
        ),
        (UdpStatus::Refused, Some("ECONNREFUSED") | None) => format!(
            "ICMP port unreachable for UDP {port}: nothing listens there (UDP transport off or unsupported), or a firewall rejects it"
        ),
        (UdpStatus::Refused, Some(e)) => {
            format!("{e}: a router or firewall rejected the RDP-UDP SYN to UDP {port}")
        }
        // Open: nothing to say; a scanner-side error or a stray answer proves nothing blocked.
        _ => return,
    };
    acc.add(C::UdpBlocked, detail);
}
