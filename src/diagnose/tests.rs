//! The rules, each from a constructed ProbeRecord.

use super::rdp::failure_finding;
use super::*;
use crate::model::*;
use crate::rdp::x224::Protocols;

fn base(host: &str) -> ProbeRecord {
    let target = TargetInfo {
        host: host.into(),
        port: 3389,
        ..Default::default()
    };
    let dns = DnsOutcome {
        addresses: vec!["192.0.2.10".parse().unwrap()],
        ..DnsOutcome::status(DnsStatus::Resolved)
    };
    ProbeRecord {
        address: Some("192.0.2.10".parse().unwrap()),
        tcp: Some(TcpOutcome {
            status: TcpStatus::Open,
            rtt_ms: Some(1.0),
            error: None,
            icmp: None,
            alive: None,
        }),
        connections: 1,
        duration_ms: 1.0,
        ..ProbeRecord::new(target, dns, "2026-01-01T00:00:00Z".into())
    }
}

fn codes(r: &ProbeRecord) -> Vec<C> {
    diagnose(r, 1_800_000_000, &Policy::default())
        .into_iter()
        .map(|f| f.code)
        .collect()
}

#[test]
fn a_protocol_never_offered_is_a_violation_not_ok() {
    for protocol in [0x04, 0x10, 0x03, 0x8000_0000, u32::MAX] {
        let mut r = base("odd.corp.example");
        r.rdp = Some(RdpOutcome {
            attempts: vec![NegAttempt {
                requested: 0x0B,
                result: NegResult::Selected { protocol, flags: 0 },
            }],
            ..Default::default()
        });
        let f = diagnose(&r, 1_800_000_000, &Policy::default());
        assert_eq!(f[0].code, C::RdpProtocolViolation, "{protocol:#x}");
        assert!(
            f[0].detail.contains(&format!("0x{protocol:08X}")),
            "{}",
            f[0].detail
        );
    }
    let mut r = base("li6.corp.example");
    r.rdp = Some(RdpOutcome {
        attempts: vec![NegAttempt {
            requested: 0x0B,
            result: NegResult::UncoveredNeg {
                selected: Some(1),
                failure: None,
            },
        }],
        ..Default::default()
    });
    let f = diagnose(&r, 1_800_000_000, &Policy::default());
    assert_eq!(f[0].code, C::RdpProtocolViolation);
    assert!(
        f[0].detail.contains("LI=6") && f[0].detail.contains("SSL"),
        "{}",
        f[0].detail
    );
}

#[test]
fn healthy_host_is_ok() {
    assert_eq!(codes(&base("srv01.corp.example")), vec![C::Ok]);
}

#[test]
fn dns_failures_are_primary() {
    let mut r = base("gone.corp.example");
    r.dns.status = DnsStatus::Nxdomain;
    r.address = None;
    r.tcp = None;
    assert_eq!(codes(&r), vec![C::DnsNxdomain]);
    r.dns.status = DnsStatus::Timeout;
    assert_eq!(codes(&r), vec![C::DnsTimeout]);
}

#[test]
fn dns_mismatch_against_expect_ip() {
    let mut r = base("srv.corp.example");
    r.target.expect_ip = vec!["192.0.2.99".parse().unwrap()];
    assert_eq!(codes(&r), vec![C::DnsMismatch]);
    r.target.expect_ip = vec!["192.0.2.10".parse().unwrap()];
    assert_eq!(codes(&r), vec![C::Ok]);
}

#[test]
fn tcp_verdicts() {
    for (st, code) in [
        (TcpStatus::Refused, C::PortClosed),
        (TcpStatus::Filtered, C::PortFiltered),
        (TcpStatus::Unreachable, C::HostUnreachable),
    ] {
        let mut r = base("h");
        r.tcp = Some(TcpOutcome {
            status: st,
            rtt_ms: None,
            error: None,
            icmp: None,
            alive: None,
        });
        assert_eq!(codes(&r)[0], code);
    }
}

fn filtered_with(probes: &[(u16, AliveAnswer, Option<IcmpReport>)]) -> ProbeRecord {
    let mut r = base("h");
    r.tcp = Some(TcpOutcome {
        alive: Some(AliveOutcome {
            probes: probes
                .iter()
                .map(|&(port, answer, icmp)| AliveProbe { port, answer, icmp })
                .collect(),
        }),
        ..TcpOutcome::status(TcpStatus::Filtered)
    });
    r
}

fn icmp(proto: IcmpProto, icmp_type: u8, code: u8) -> IcmpReport {
    IcmpReport {
        proto,
        icmp_type,
        code,
        from: Some("198.51.100.1".parse().unwrap()),
    }
}

fn first(r: &ProbeRecord) -> Finding {
    diagnose(r, 1_800_000_000, &Policy::default())
        .into_iter()
        .next()
        .unwrap()
}

#[test]
fn companion_ports_tell_down_from_filtered() {
    use AliveAnswer::*;
    // One RST anywhere: the host is up, 3389 is filtered.
    let f = first(&filtered_with(&[(445, Silent, None), (135, Rst, None)]));
    assert_eq!(f.code, C::PortFiltered);
    assert!(
        f.detail
            .contains("host is up: port 135 answered with a RST"),
        "{}",
        f.detail
    );
    let f = first(&filtered_with(&[(445, SynAck, None)]));
    assert!(
        f.detail.contains("port 445 answered with a SYN-ACK"),
        "{}",
        f.detail
    );
    // Silence everywhere, or routers saying the host is unreachable: down.
    let f = first(&filtered_with(&[(445, Silent, None), (135, Silent, None)]));
    assert_eq!(f.code, C::HostDown);
    assert!(f.detail.contains("445 silent, 135 silent"), "{}", f.detail);
    assert!(f.remedy.contains("inventory"));
    let unreach = Some(icmp(IcmpProto::Icmp, 3, 1));
    assert_eq!(
        first(&filtered_with(&[(445, Icmp, unreach), (135, Silent, None)])).code,
        C::HostDown
    );
    // A filter rejecting a companion, or a companion never sent: no proof either way.
    let rejected = Some(icmp(IcmpProto::Icmp, 3, 13));
    let f = first(&filtered_with(&[
        (445, Icmp, rejected),
        (135, Silent, None),
    ]));
    assert_eq!(f.code, C::PortFiltered);
    assert!(f.detail.contains("unknown"), "{}", f.detail);
    assert_eq!(
        first(&filtered_with(&[(445, Error, None), (135, Silent, None)])).code,
        C::PortFiltered
    );
    // Not probed: as before.
    let mut r = base("h");
    r.tcp = Some(TcpOutcome::status(TcpStatus::Filtered));
    assert_eq!(first(&r).detail, "no SYN-ACK before the connect timeout");
}

#[test]
fn icmp_errors_name_who_rejected_and_why() {
    let unreachable = |icmp: Option<IcmpReport>, err: &str| {
        let mut r = base("h");
        r.tcp = Some(TcpOutcome {
            error: Some(err.into()),
            icmp,
            ..TcpOutcome::status(TcpStatus::Unreachable)
        });
        first(&r)
    };
    for (proto, t, c, code) in [
        (IcmpProto::Icmp, 3, 13, C::PortRejected),
        (IcmpProto::Icmp, 3, 9, C::PortRejected),
        (IcmpProto::Icmp, 3, 10, C::PortRejected),
        (IcmpProto::Icmp, 3, 3, C::PortRejected),
        (IcmpProto::Icmpv6, 1, 1, C::PortRejected),
        (IcmpProto::Icmpv6, 1, 4, C::PortRejected),
        (IcmpProto::Icmp, 3, 0, C::NetUnreachable),
        (IcmpProto::Icmpv6, 1, 0, C::NetUnreachable),
        (IcmpProto::Icmp, 3, 1, C::HostUnreachable),
        (IcmpProto::Icmpv6, 1, 3, C::HostUnreachable),
        (IcmpProto::Icmp, 11, 0, C::HostUnreachable),
    ] {
        let f = unreachable(Some(icmp(proto, t, c)), "EHOSTUNREACH");
        assert_eq!(f.code, code, "{proto:?} {t}/{c}");
        assert!(f.detail.contains("from 198.51.100.1"), "{}", f.detail);
        assert!(f.detail.starts_with("EHOSTUNREACH: "), "{}", f.detail);
    }
    let f = unreachable(Some(icmp(IcmpProto::Icmp, 3, 13)), "EHOSTUNREACH");
    assert!(
        f.detail
            .contains("type 3 code 13 (communication administratively prohibited)")
    );
    assert!(f.remedy.contains("firewall"));
    // Without ICMP: ENETUNREACH is the scanner's own routing table.
    let f = unreachable(None, "ENETUNREACH");
    assert_eq!(f.code, C::NetUnreachable);
    assert!(f.detail.contains("scanner has no route"));
    assert_eq!(unreachable(None, "EHOSTUNREACH").code, C::HostUnreachable);
}

/// Records saved before these facts existed read back unchanged, and rows without them
/// serialise exactly as before.
#[test]
fn tcp_facts_are_optional_in_json() {
    let old = r#"{"status":"filtered"}"#;
    let t: TcpOutcome = serde_json::from_str(old).unwrap();
    assert_eq!(t, TcpOutcome::status(TcpStatus::Filtered));
    assert_eq!(serde_json::to_string(&t).unwrap(), old);
    let mut t = filtered_with(&[(445, AliveAnswer::Rst, None)]).tcp.unwrap();
    t.icmp = Some(icmp(IcmpProto::Icmpv6, 1, 1));
    let json = serde_json::to_string(&t).unwrap();
    assert!(
        json.contains(r#""icmp":{"proto":"icmpv6","type":1,"code":1,"from":"198.51.100.1"}"#),
        "{json}"
    );
    assert!(
        json.contains(r#""alive":{"probes":[{"port":445,"answer":"rst"}]}"#),
        "{json}"
    );
    assert_eq!(serde_json::from_str::<TcpOutcome>(&json).unwrap(), t);
}

#[test]
fn tls_reset_outranks_certificate_hygiene() {
    let mut r = base("h");
    r.tls = Some(TlsOutcome {
        status: TlsStatus::ResetAfterHello,
        version: None,
        cipher: None,
        alert: None,
        via: "rustls".into(),
        versions: vec![],
        suites: Vec::new(),
        error: None,
        legacy: false,
    });
    r.cert = Some(CertFacts {
        not_after_unix: 1,
        not_before_unix: 0,
        self_signed: true,
        key: "EC-P256".into(),
        key_bits: 256,
        sig_alg: "ecdsa-with-SHA256".into(),
        ..Default::default()
    });
    let c = codes(&r);
    assert_eq!(c[0], C::TlsResetAfterHello);
    assert!(c.contains(&C::CertExpired));
    assert!(c.contains(&C::CertSelfSigned));
}

fn trusted_cert(now: i64) -> CertFacts {
    CertFacts {
        not_before_unix: now - 86_400,
        not_after_unix: now + 365 * 86_400,
        key: "RSA-2048".into(),
        key_bits: 2048,
        sig_alg: "sha256WithRSAEncryption".into(),
        trusted: true,
        ..Default::default()
    }
}

#[test]
fn eku_and_incomplete_chain_findings() {
    let now = 1_800_000_000;
    let mut r = base("h");
    // clientAuth only, trusted chain: wrong EKU, not untrusted.
    r.cert = Some(CertFacts {
        eku: Some(vec!["1.3.6.1.5.5.7.3.2".into()]),
        ..trusted_cert(now)
    });
    let f = diagnose(&r, now, &Policy::default());
    assert_eq!(f[0].code, C::CertWrongEku);
    assert_eq!(f[0].severity, Severity::Warn);
    assert!(f[0].detail.contains("clientAuth"), "{}", f[0].detail);
    assert!(f.iter().all(|x| x.code != C::CertUntrusted));
    // serverAuth, RDA, or no EKU at all: fine. Windows' self-signed: info only.
    for eku in [
        Some(vec!["1.3.6.1.5.5.7.3.1".to_string()]),
        Some(vec!["1.3.6.1.4.1.311.54.1.2".to_string()]),
        None,
    ] {
        r.cert = Some(CertFacts {
            eku,
            ..trusted_cert(now)
        });
        assert_eq!(codes(&r), vec![C::Ok]);
    }
    r.cert = Some(CertFacts {
        eku: Some(vec!["1.3.6.1.5.5.7.3.1".into()]),
        key_usage: vec!["keyEncipherment".into(), "dataEncipherment".into()],
        self_signed: true,
        trusted: false,
        ..trusted_cert(now)
    });
    assert_eq!(codes(&r), vec![C::Ok, C::CertSelfSigned]);
    // The issuer was not sent but is known: incomplete chain, not untrusted.
    r.cert = Some(CertFacts {
        trusted: false,
        trust_error: Some("unknown issuer".into()),
        missing_issuer: Some("the server did not send its issuer CN=CA".into()),
        ..trusted_cert(now)
    });
    assert_eq!(codes(&r), vec![C::CertChainIncomplete]);
    r.cert = Some(CertFacts {
        trusted: false,
        trust_error: Some("unknown issuer".into()),
        ..trusted_cert(now)
    });
    assert_eq!(codes(&r), vec![C::CertUntrusted]);
}

#[test]
fn replaced_findings_rerank_the_row() {
    let now = 1_800_000_000;
    let mut r = base("h");
    r.address = Some("192.0.2.1".parse().unwrap());
    r.cert = Some(trusted_cert(now));
    let mut rep = report(r, now, &Policy::default());
    assert_eq!(rep.verdict, C::Ok);
    let fb = finding_for(C::CertFallbackSelfSigned, "x".into());
    replace_findings(&mut rep, &[C::CertFallbackSelfSigned], vec![fb]);
    assert_eq!(rep.verdict, C::CertFallbackSelfSigned);
    assert_eq!(rep.severity, Severity::Warn);
    assert!(rep.findings.iter().all(|f| f.code != C::Ok));
    // Removed again: back to ok.
    replace_findings(&mut rep, &[C::CertFallbackSelfSigned], Vec::new());
    assert_eq!(rep.verdict, C::Ok);
    assert_eq!(rep.severity, Severity::Ok);
    assert_eq!(rep.findings.len(), 1);
}

#[test]
fn certificate_dates() {
    let now = 1_800_000_000;
    let mut r = base("h");
    let mut c = CertFacts {
        not_before_unix: now - 86_400,
        not_after_unix: now + 10 * 86_400 + 5,
        key: "RSA-2048".into(),
        key_bits: 2048,
        sig_alg: "sha256WithRSAEncryption".into(),
        trusted: true,
        ..Default::default()
    };
    r.cert = Some(c.clone());
    let f = diagnose(&r, now, &Policy::default());
    assert_eq!(f[0].code, C::CertExpiring);
    assert!(f[0].detail.contains("10 d"), "{}", f[0].detail);
    c.not_before_unix = now + 100;
    r.cert = Some(c.clone());
    assert_eq!(codes(&r)[0], C::CertNotYetValid);
    c.not_before_unix = now - 100;
    c.key_bits = 1024;
    c.key = "RSA-1024".into();
    c.not_after_unix = now + 400 * 86_400;
    r.cert = Some(c);
    assert_eq!(codes(&r)[0], C::CertWeak);
}

#[test]
fn failure_codes_name_their_finding_and_spec_name() {
    for (code, want, detail) in [
        (
            1,
            C::TlsRequired,
            "RDP_NEG_FAILURE 1 SSL_REQUIRED_BY_SERVER",
        ),
        (
            2,
            C::RdpSecurityOnly,
            "RDP_NEG_FAILURE 2 SSL_NOT_ALLOWED_BY_SERVER",
        ),
        (
            3,
            C::CertMissing,
            "RDP_NEG_FAILURE 3 SSL_CERT_NOT_ON_SERVER",
        ),
        (4, C::RdpNegFailure, "RDP_NEG_FAILURE 4 INCONSISTENT_FLAGS"),
        (
            5,
            C::NlaRequired,
            "RDP_NEG_FAILURE 5 HYBRID_REQUIRED_BY_SERVER",
        ),
        (
            6,
            C::ClientCertRequired,
            "RDP_NEG_FAILURE 6 SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER",
        ),
        (9, C::RdpNegFailure, "RDP_NEG_FAILURE code 9"),
    ] {
        let mut acc = Acc(Vec::new());
        failure_finding(code, &mut acc);
        let f = acc.0.first().unwrap();
        assert_eq!((f.code, f.detail.as_str()), (want, detail), "{code}");
    }
}

/// The weak-certificate rule is `cert::is_weak_*`: DSA-1024 and MD4 are weak, a key whose
/// size could not be read is not judged.
#[test]
fn weak_certificates_follow_the_cert_rules() {
    let now = 1_800_000_000;
    let mut r = base("h");
    let good = CertFacts {
        not_before_unix: now - 86_400,
        not_after_unix: now + 400 * 86_400,
        key: "RSA-2048".into(),
        key_bits: 2048,
        sig_alg: "sha256WithRSAEncryption".into(),
        trusted: true,
        ..Default::default()
    };
    let weak = |c: CertFacts, r: &mut ProbeRecord| {
        r.cert = Some(c);
        diagnose(r, now, &Policy::default())
            .into_iter()
            .find(|f| f.code == C::CertWeak)
            .map(|f| f.detail)
    };
    assert_eq!(weak(good.clone(), &mut r), None);
    let dsa = CertFacts {
        key: "DSA-1024".into(),
        key_bits: 1024,
        sig_alg: "dsa-with-sha256".into(),
        ..good.clone()
    };
    assert_eq!(weak(dsa, &mut r).as_deref(), Some("DSA-1024"));
    let md4 = CertFacts {
        sig_alg: "md4WithRSAEncryption".into(),
        ..good.clone()
    };
    assert_eq!(weak(md4, &mut r).as_deref(), Some("md4WithRSAEncryption"));
    let unknown_size = CertFacts {
        key: "RSA-0".into(),
        key_bits: 0,
        ..good.clone()
    };
    assert_eq!(weak(unknown_size, &mut r), None);
    // Both at once: key first, then signature.
    let both = CertFacts {
        key: "RSA-1024".into(),
        key_bits: 1024,
        sig_alg: "sha1WithRSAEncryption".into(),
        ..good
    };
    assert_eq!(
        weak(both, &mut r).as_deref(),
        Some("RSA-1024, sha1WithRSAEncryption")
    );
}

#[test]
fn nla_facts() {
    let mut r = base("web01.corp.example");
    r.credssp = Some(CredSspOutcome {
        status: CredSspStatus::Challenge,
        version: Some(3),
        error_code: None,
        ntlm: Some(NtlmInfo {
            nb_computer: Some("DB07".into()),
            clock_skew_s: Some(7200),
            ..Default::default()
        }),
        error: None,
    });
    let c = codes(&r);
    assert_eq!(c[0], C::CredsspUnpatched);
    assert!(c.contains(&C::NameMismatch));
    assert!(c.contains(&C::ClockSkew));
    // Same name, other case: no mismatch. IP targets are never compared.
    if let Some(n) = r.credssp.as_mut().and_then(|c| c.ntlm.as_mut()) {
        n.nb_computer = Some("WEB01".into());
    }
    assert!(!codes(&r).contains(&C::NameMismatch));
}

#[test]
fn stale_ptr_on_ip_rows() {
    let mut r = base("192.0.2.10");
    r.dns.status = DnsStatus::Literal;
    let ntlm = |nb: &str, dns: Option<&str>| CredSspOutcome {
        status: CredSspStatus::Challenge,
        version: Some(6),
        error_code: None,
        ntlm: Some(NtlmInfo {
            nb_computer: Some(nb.into()),
            dns_computer: dns.map(str::to_string),
            ..Default::default()
        }),
        error: None,
    };
    r.credssp = Some(ntlm("TS01", Some("ts01.corp.example")));
    // No PTR name known: nothing to compare.
    assert!(!codes(&r).contains(&C::NameMismatch));
    // The PTR names the same machine, in another case and domain.
    r.dns.ptr = Some("TS01.other.example".into());
    assert!(!codes(&r).contains(&C::NameMismatch));
    // The PTR names another machine: stale reverse DNS.
    r.dns.ptr = Some("oldsrv07.corp.example".into());
    let rep = report(r.clone(), 0, &Policy::default());
    let f = rep
        .findings
        .iter()
        .find(|f| f.code == C::NameMismatch)
        .expect("name-mismatch");
    assert!(f.detail.contains("oldsrv07.corp.example"), "{}", f.detail);
    assert!(f.detail.contains("TS01"), "{}", f.detail);
    // NetBIOS names are cut to 15 characters: a longer host label still matches.
    r.credssp = Some(ntlm("VERYLONGSERVERN", None));
    r.dns.ptr = Some("verylongservername01.corp.example".into());
    assert!(!codes(&r).contains(&C::NameMismatch));
    r.dns.ptr = Some("verylongserverx.corp.example".into());
    assert!(codes(&r).contains(&C::NameMismatch));
}

#[test]
fn matrix_findings() {
    let mut r = base("h");
    r.rdp = Some(RdpOutcome {
        attempts: vec![NegAttempt {
            requested: 0x0B,
            result: NegResult::Selected {
                protocol: 1,
                flags: 1,
            },
        }],
        accepted: vec![Protocols::SSL, Protocols::RDP],
        ..Default::default()
    });
    assert_eq!(codes(&r)[0], C::DowngradePossible);
    r.rdp = Some(RdpOutcome {
        attempts: vec![NegAttempt {
            requested: 0x0B,
            result: NegResult::Failure { code: 3 },
        }],
        failures: vec![3],
        ..Default::default()
    });
    assert_eq!(codes(&r)[0], C::CertMissing);
    r.rdp = Some(RdpOutcome {
        attempts: vec![NegAttempt {
            requested: 0x0B,
            result: NegResult::Selected {
                protocol: 8,
                flags: 3,
            },
        }],
        accepted: vec![Protocols::HYBRID_EX, Protocols::HYBRID],
        required: Some(Protocols::HYBRID),
        failures: vec![5],
        ..Default::default()
    });
    let f = diagnose(&r, 0, &Policy::default());
    assert_eq!(f[0].code, C::Ok);
    assert_eq!(f[1].code, C::NlaRequired);
}

fn legacy_hello(version: &str, cipher: &str) -> TlsOutcome {
    TlsOutcome {
        status: TlsStatus::LegacyHello,
        version: Some(version.into()),
        cipher: Some(cipher.into()),
        alert: None,
        via: "legacy-hello".into(),
        versions: vec![],
        suites: Vec::new(),
        error: Some("rustls: closed".into()),
        legacy: true,
    }
}

#[test]
fn legacy_flight_without_a_certificate() {
    let mut r = base("h");
    r.tls = Some(legacy_hello("TLSv1.2", "TLS_RSA_WITH_AES_128_CBC_SHA"));
    let c = codes(&r);
    assert_eq!(c[0], C::TlsNoCertificate, "{c:?}");
    // With the certificate read, the same flight is only the legacy-suites note.
    r.cert = Some(CertFacts {
        not_after_unix: i64::MAX,
        key: "RSA-2048".into(),
        key_bits: 2048,
        sig_alg: "sha256WithRSAEncryption".into(),
        ..Default::default()
    });
    let c = codes(&r);
    assert!(!c.contains(&C::TlsNoCertificate), "{c:?}");
    assert!(c.contains(&C::TlsLegacySuites), "{c:?}");
    // TLS 1.0 without a certificate: both failures, the missing certificate first.
    r.cert = None;
    r.tls = Some(legacy_hello("TLSv1.0", "TLS_RSA_WITH_AES_128_CBC_SHA"));
    let c = codes(&r);
    assert_eq!(c[..2], [C::TlsNoCertificate, C::TlsLegacyOnly], "{c:?}");
}

#[test]
fn tls13_is_never_legacy_suites() {
    let mut r = base("h");
    // A saved record from before the probe stopped reporting this as a legacy hello.
    r.tls = Some(legacy_hello("TLSv1.3", "TLS_AES_128_GCM_SHA256"));
    let c = codes(&r);
    assert!(!c.contains(&C::TlsLegacySuites), "{c:?}");
    // TLS 1.3 encrypts the certificate: not reading it is no finding.
    assert!(!c.contains(&C::TlsNoCertificate), "{c:?}");
}

#[test]
fn client_and_deep_findings() {
    let ok_tls = TlsOutcome {
        status: TlsStatus::Ok,
        version: Some("TLSv1.2".into()),
        cipher: Some("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256".into()),
        alert: None,
        via: "rustls".into(),
        versions: Vec::new(),
        suites: Vec::new(),
        error: None,
        legacy: false,
    };
    let refused = ProfileHello {
        profile: "win11".into(),
        status: HelloStatus::Alert,
        version: None,
        cipher: None,
        alert: Some(40),
        error: None,
    };
    let mut r = base("h");
    r.tls = Some(ok_tls.clone());
    r.profile_hellos = vec![refused.clone()];
    let f = diagnose(&r, 1_800_000_000, &Policy::default());
    assert_eq!(f.first().map(|f| f.code), Some(C::SchannelSuitesMismatch));
    let d = f.first().map(|f| f.detail.clone()).unwrap_or_default();
    assert!(
        d.contains("alert 40 handshake_failure") && d.contains("CHACHA20"),
        "{d}"
    );
    // The server's version is one Windows 11 does not offer: a version gap, not suites.
    r.tls = Some(TlsOutcome {
        status: TlsStatus::LegacyHello,
        version: Some("TLSv1.0".into()),
        ..ok_tls.clone()
    });
    assert!(!codes(&r).contains(&C::SchannelSuitesMismatch));
    r.tls = Some(ok_tls.clone());
    // The Windows hello accepted: no mismatch. rustls refused too: the plain TLS failure.
    r.profile_hellos[0].status = HelloStatus::Hello;
    assert!(!codes(&r).contains(&C::SchannelSuitesMismatch));
    r.profile_hellos = vec![refused];
    r.tls = Some(TlsOutcome {
        status: TlsStatus::Alert,
        alert: Some(40),
        ..ok_tls.clone()
    });
    assert!(!codes(&r).contains(&C::SchannelSuitesMismatch));

    // Deep single-version hellos: 1.0 beside 1.2 is info; 1.0 alone is not "enabled beside".
    let mut r = base("v");
    r.tls = Some(TlsOutcome {
        versions: vec!["TLSv1.0".into(), "TLSv1.2".into()],
        suites: Vec::new(),
        ..ok_tls.clone()
    });
    assert!(codes(&r).contains(&C::TlsLegacyEnabled));
    r.tls = Some(TlsOutcome {
        versions: vec!["TLSv1.2".into(), "TLSv1.3".into()],
        suites: Vec::new(),
        ..ok_tls.clone()
    });
    assert!(!codes(&r).contains(&C::TlsLegacyEnabled));

    // Deep suite enumeration: RC4/3DES/NULL/anonymous named with their versions; an
    // unknown id or AES-CBC is not weak.
    let list = |version: &str, suites: &[&str]| crate::model::SuiteList {
        version: version.into(),
        suites: suites.iter().map(|s| s.to_string()).collect(),
        complete: true,
        ..Default::default()
    };
    r.tls = Some(TlsOutcome {
        suites: vec![
            list(
                "TLSv1.2",
                &[
                    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                    "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
                    "TLS_RSA_WITH_NULL_SHA256",
                ],
            ),
            // The full walk was cut short before RC4; the weak-only walk found it.
            crate::model::SuiteList {
                weak: vec![
                    "TLS_RSA_WITH_3DES_EDE_CBC_SHA".into(),
                    "TLS_RSA_WITH_RC4_128_SHA".into(),
                ],
                complete: false,
                ..list(
                    "TLSv1.0",
                    &[
                        "TLS_RSA_WITH_AES_128_CBC_SHA",
                        "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
                    ],
                )
            },
        ],
        ..ok_tls.clone()
    });
    let weak = diagnose(&r, 1_800_000_000, &Policy::default());
    let f = weak.iter().find(|f| f.code == C::TlsWeakSuites);
    assert_eq!(
        f.map(|f| f.detail.as_str()),
        Some(
            "TLS_RSA_WITH_3DES_EDE_CBC_SHA (TLSv1.2,TLSv1.0); TLS_RSA_WITH_NULL_SHA256 \
             (TLSv1.2); TLS_RSA_WITH_RC4_128_SHA (TLSv1.0)"
        )
    );
    r.tls = Some(TlsOutcome {
        suites: vec![list("TLSv1.2", &["TLS_RSA_WITH_AES_128_CBC_SHA", "0xABCD"])],
        ..ok_tls
    });
    assert!(!codes(&r).contains(&C::TlsWeakSuites));

    // MCS server security data, only when standard RDP security is accepted.
    let mut r = base("e");
    let mut rdp = RdpOutcome {
        encryption_level: Some(4),
        encryption_methods: vec![0x10],
        ..RdpOutcome::default()
    };
    rdp.accept(crate::rdp::x224::Protocols::RDP);
    r.rdp = Some(rdp.clone());
    let c = codes(&r);
    assert!(
        c.contains(&C::RdpFipsOnly) && !c.contains(&C::RdpWeakEncryption),
        "{c:?}"
    );
    rdp.encryption_level = Some(1);
    rdp.encryption_methods = vec![0x01, 0x02];
    r.rdp = Some(rdp.clone());
    let f = diagnose(&r, 1_800_000_000, &Policy::default());
    let weak = f.iter().find(|f| f.code == C::RdpWeakEncryption);
    assert_eq!(
        weak.map(|f| f.detail.as_str()),
        Some("level 1 (Low: client-to-server only); methods 40-bit")
    );
    rdp.encryption_level = Some(3);
    rdp.encryption_methods = vec![0x02];
    r.rdp = Some(rdp);
    let c = codes(&r);
    assert!(!c.contains(&C::RdpWeakEncryption) && !c.contains(&C::RdpFipsOnly));
}

#[test]
fn network_path_findings() {
    let ok_tls = TlsOutcome {
        status: TlsStatus::Ok,
        version: Some("TLSv1.2".into()),
        cipher: None,
        alert: None,
        via: "rustls".into(),
        versions: vec![],
        suites: Vec::new(),
        error: None,
        legacy: false,
    };
    let mut r = base("h");
    r.tls = Some(ok_tls.clone());
    let clean = NetFacts {
        measured: 3,
        srtt_ms: Some(20.0),
        rtt_var_ms: Some(5.0),
        handshake_ms: Some(80.0),
        ..Default::default()
    };
    r.net = Some(clean.clone());
    assert_eq!(codes(&r), vec![C::Ok]);

    // A host that answers correctly over a lossy path is not ok.
    r.net = Some(NetFacts {
        retransmits: 2,
        ..clean.clone()
    });
    let f = diagnose(&r, 0, &Policy::default());
    assert_eq!(f[0].code, C::NetworkLossy);
    assert_eq!(
        f[0].detail,
        "2 segment(s) retransmitted over 3 connection(s)"
    );
    // ...but a configuration fault on the same host stays the verdict.
    r.flaky = true;
    r.attempts = 2;
    assert_eq!(codes(&r), vec![C::Flaky, C::NetworkLossy]);
    r.flaky = false;

    // Slow: RTT over 150 ms or a handshake over 1 s; exactly at the limit is not slow.
    r.net = Some(NetFacts {
        srtt_ms: Some(150.0),
        handshake_ms: Some(1000.0),
        ..clean.clone()
    });
    assert_eq!(codes(&r), vec![C::Ok]);
    r.net = Some(NetFacts {
        srtt_ms: Some(212.4),
        handshake_ms: Some(1500.0),
        ..clean.clone()
    });
    let f = diagnose(&r, 0, &Policy::default());
    assert_eq!(f[0].code, C::NetworkSlow);
    assert_eq!(
        f[0].detail,
        "smoothed RTT 212 ms (> 150 ms), TLS handshake 1500 ms (> 1000 ms)"
    );

    // The TLS flight arrived only with a clamped MSS: a blackhole, a failure.
    r.net = Some(NetFacts {
        clamped_mss: Some(536),
        ..clean.clone()
    });
    let f = diagnose(&r, 0, &Policy::default());
    assert_eq!(f[0].code, C::PathMtuBlackhole);
    assert_eq!(f[0].severity, Severity::Fail);
    assert!(f[0].detail.contains("clamped to 536"), "{}", f[0].detail);
    assert!(f[0].remedy.contains("MSS"), "{}", f[0].remedy);
    // It stalled with the clamp too: still tls-stalled, saying so; no blackhole claimed.
    r.tls = Some(TlsOutcome {
        status: TlsStatus::Stalled,
        version: None,
        ..ok_tls
    });
    let f = diagnose(&r, 0, &Policy::default());
    assert_eq!(f[0].code, C::TlsStalled);
    assert!(f[0].detail.ends_with("also with the MSS clamped to 536"));
    assert!(!f.iter().any(|x| x.code == C::PathMtuBlackhole));
}
