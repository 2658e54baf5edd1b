//! `udp-blocked`: the RDP-UDP probe's outcome on a host whose TCP RDP works.

use super::*;
use crate::model::*;

fn healthy() -> ProbeRecord {
    let target = TargetInfo {
        host: "ts01.corp.example".into(),
        port: 3390,
        ..Default::default()
    };
    let dns = DnsOutcome {
        addresses: vec!["192.0.2.10".parse().unwrap()],
        ..DnsOutcome::status(DnsStatus::Resolved)
    };
    ProbeRecord {
        address: Some("192.0.2.10".parse().unwrap()),
        tcp: Some(TcpOutcome::status(TcpStatus::Open)),
        ..ProbeRecord::new(target, dns, "2026-01-01T00:00:00Z".into())
    }
}

fn with_udp(status: UdpStatus, detail: Option<&str>) -> ProbeRecord {
    let mut r = healthy();
    r.net = Some(NetFacts {
        measured: 1,
        udp: Some(UdpOutcome {
            status,
            rtt_ms: None,
            version: None,
            mtu: None,
            detail: detail.map(str::to_string),
        }),
        ..Default::default()
    });
    r
}

fn udp_finding(r: &ProbeRecord) -> Option<Finding> {
    diagnose(r, 0, &Policy::default())
        .into_iter()
        .find(|f| f.code == C::UdpBlocked)
}

#[test]
fn blocked_udp_is_info_and_keeps_the_verdict_ok() {
    let r = with_udp(UdpStatus::NoAnswer, None);
    let f = diagnose(&r, 0, &Policy::default());
    let codes: Vec<C> = f.iter().map(|f| f.code).collect();
    assert_eq!(codes, [C::Ok, C::UdpBlocked]);
    let u = &f[1];
    assert_eq!(u.severity, Severity::Info);
    assert!(u.detail.contains("UDP 3390"), "{}", u.detail);
    // The remedy names both causes: a firewall, and a server that does not offer UDP.
    assert!(u.remedy.contains("firewall"), "{}", u.remedy);
    assert!(u.remedy.contains("Use only TCP"), "{}", u.remedy);
}

#[test]
fn refused_says_who_and_why() {
    let f = udp_finding(&with_udp(UdpStatus::Refused, Some("ECONNREFUSED"))).unwrap();
    assert!(
        f.detail.starts_with("ICMP port unreachable"),
        "{}",
        f.detail
    );
    let f = udp_finding(&with_udp(UdpStatus::Refused, Some("EHOSTUNREACH"))).unwrap();
    assert!(
        f.detail.starts_with("EHOSTUNREACH: a router"),
        "{}",
        f.detail
    );
}

#[test]
fn open_error_stray_and_not_probed_give_no_finding() {
    for s in [UdpStatus::Open, UdpStatus::Error, UdpStatus::NotRdpUdp] {
        assert_eq!(udp_finding(&with_udp(s, None)), None, "{s:?}");
    }
    let mut r = healthy();
    r.net = Some(NetFacts::default());
    assert_eq!(udp_finding(&r), None);
    assert_eq!(udp_finding(&healthy()), None);
}
