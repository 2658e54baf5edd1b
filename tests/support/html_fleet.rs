//! The realistic fleet the HTML browser tests render (tests/html_browser.rs): HostReport
//! fixtures for every phase's failure, inventory columns, a baseline of yesterday's scan, and
//! hosts whose client profiles disagree (the client filter and matrix).

#![allow(dead_code)]

use rdpsweep::diagnose::{Policy, report};
use rdpsweep::model::*;
use rdpsweep::rdp::x224::Protocols;
use rdpsweep::report::Summary;
use rdpsweep::report::baseline::Baseline;
pub const NOW: &str = "2026-05-04T02:00:00Z";
pub const NOW_UNIX: i64 = 1_777_860_000;
pub const DAY: i64 = 86_400;

// ---------------------------------------------------------------------------------------------
// A realistic fleet

pub fn healthy(host: &str, addr: &str) -> ProbeRecord {
    let ip: std::net::IpAddr = addr.parse().unwrap();
    let short = host.split('.').next().unwrap_or(host).to_ascii_uppercase();
    ProbeRecord {
        target: TargetInfo {
            host: host.into(),
            port: 3389,
            site: Some("PAR".into()),
            owner: Some("infra".into()),
            expect_ip: vec![],
            extra: vec![("env".into(), "prod".into())],
            source: "servers.csv:2".into(),
            ..Default::default()
        },
        address: Some(ip),
        dns: DnsOutcome {
            addresses: vec![ip],
            ms: Some(2.0),
            ..DnsOutcome::status(DnsStatus::Resolved)
        },
        tcp: Some(TcpOutcome {
            status: TcpStatus::Open,
            rtt_ms: Some(0.8),
            error: None,
            icmp: None,
            alive: None,
        }),
        rdp: Some(RdpOutcome {
            attempts: vec![
                NegAttempt {
                    requested: 0x0B,
                    result: NegResult::Selected {
                        protocol: 8,
                        flags: 0x1F,
                    },
                },
                NegAttempt {
                    requested: 0x01,
                    result: NegResult::Failure { code: 5 },
                },
            ],
            accepted: vec![Protocols::HYBRID, Protocols::HYBRID_EX],
            required: Some(Protocols::HYBRID),
            failures: vec![5],
            flags: 0x1F,
            legacy: false,
            version: None,
            encryption_level: None,
            encryption_methods: vec![],
            os_hint: None,
        }),
        tls: Some(TlsOutcome {
            status: TlsStatus::Ok,
            version: Some("TLSv1.3".into()),
            cipher: Some("TLS13_AES_256_GCM_SHA384".into()),
            alert: None,
            via: "rustls".into(),
            versions: vec![],
            suites: Vec::new(),
            error: None,
            legacy: false,
        }),
        cert: Some(CertFacts {
            subject: format!("CN={host}"),
            issuer: "CN=Corp Issuing CA 02, DC=corp, DC=example".into(),
            sans: vec![host.into()],
            not_before: "2025-11-10T08:00:00Z".into(),
            not_after: "2027-02-15T08:00:00Z".into(),
            not_before_unix: NOW_UNIX - 175 * DAY,
            not_after_unix: NOW_UNIX + 287 * DAY,
            self_signed: false,
            key: "RSA-2048".into(),
            key_bits: 2048,
            sig_alg: "sha256WithRSAEncryption".into(),
            sha1: "3f1c2a9b0d4e5f60718293a4b5c6d7e8f9012345".into(),
            sha256: "9a8b7c6d5e4f30211f2e3d4c5b6a79880a1b2c3d4e5f60718293a4b5c6d7e8f9".into(),
            name_match: Some(true),
            checked_name: Some(host.into()),
            trusted: true,
            trust_error: None,
            chain_len: 2,
            parse_error: None,
            ..Default::default()
        }),
        credssp: Some(CredSspOutcome {
            status: CredSspStatus::Challenge,
            version: Some(6),
            error_code: None,
            ntlm: Some(NtlmInfo {
                target_name: Some("CORP".into()),
                nb_computer: Some(short.clone()),
                nb_domain: Some("CORP".into()),
                dns_computer: Some(host.into()),
                dns_domain: Some("corp.example".into()),
                dns_tree: Some("corp.example".into()),
                os_version: Some("10.0.20348".into()),
                os_name: Some("Windows Server 2022".into()),
                timestamp_unix: Some(NOW_UNIX + 1),
                clock_skew_s: Some(1),
                flags: 0xE28A_8215,
            }),
            error: None,
        }),
        profile_hellos: Vec::new(),
        net: None,
        connections: 2,
        attempts: 1,
        flaky: false,
        deadline_hit: false,
        scanned_at: NOW.into(),
        duration_ms: 180.0,
    }
}

pub fn at(site: &str, owner: &str, env: &str, mut r: ProbeRecord) -> ProbeRecord {
    r.target.site = Some(site.into());
    r.target.owner = Some(owner.into());
    r.target.extra = vec![("env".into(), env.into())];
    r
}

pub fn self_signed(mut r: ProbeRecord) -> ProbeRecord {
    if let Some(c) = r.cert.as_mut() {
        c.issuer = c.subject.clone();
        c.self_signed = true;
        c.trusted = false;
        c.chain_len = 1;
    }
    r
}

pub fn cert_days(mut r: ProbeRecord, days: i64) -> ProbeRecord {
    if let Some(c) = r.cert.as_mut() {
        c.not_after_unix = NOW_UNIX + days * DAY;
        c.not_after = time::OffsetDateTime::from_unix_timestamp(c.not_after_unix)
            .unwrap()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
    }
    r
}

pub fn unreached_after_tcp(mut r: ProbeRecord, status: TcpStatus) -> ProbeRecord {
    r.tcp = Some(TcpOutcome {
        status,
        rtt_ms: None,
        error: None,
        icmp: None,
        alive: None,
    });
    r.rdp = None;
    r.tls = None;
    r.cert = None;
    r.credssp = None;
    r.connections = 1;
    r
}

pub fn dns_fail(mut r: ProbeRecord, status: DnsStatus, error: Option<&str>) -> ProbeRecord {
    r.address = None;
    r.dns = DnsOutcome {
        ms: Some(14.0),
        error: error.map(String::from),
        ..DnsOutcome::status(status)
    };
    r.tcp = None;
    r.rdp = None;
    r.tls = None;
    r.cert = None;
    r.credssp = None;
    r.connections = 0;
    r
}

pub fn legacy_tls(mut r: ProbeRecord) -> ProbeRecord {
    r.tls = Some(TlsOutcome {
        status: TlsStatus::LegacyHello,
        version: Some("TLSv1.0".into()),
        cipher: Some("TLS_RSA_WITH_AES_128_CBC_SHA".into()),
        alert: None,
        via: "legacy-hello".into(),
        versions: vec!["TLSv1.0".into()],
        suites: Vec::new(),
        error: None,
        legacy: true,
    });
    r.credssp = Some(CredSspOutcome {
        status: CredSspStatus::Challenge,
        version: Some(3),
        error_code: None,
        ntlm: Some(NtlmInfo {
            nb_computer: Some("OLD-ERP".into()),
            os_version: Some("6.1.7601".into()),
            ..Default::default()
        }),
        error: None,
    });
    if let Some(c) = r.cert.as_mut() {
        c.key = "RSA-2048".into();
        c.sig_alg = "sha1WithRSAEncryption".into();
    }
    r
}

pub fn credssp_version(mut r: ProbeRecord, v: u32, os: &str) -> ProbeRecord {
    if let Some(c) = r.credssp.as_mut() {
        c.version = Some(v);
        if let Some(n) = c.ntlm.as_mut() {
            n.os_version = Some(os.into());
        }
    }
    r
}

pub fn tls_status(mut r: ProbeRecord, status: TlsStatus) -> ProbeRecord {
    r.tls = Some(TlsOutcome {
        status,
        version: None,
        cipher: None,
        alert: None,
        via: "rustls".into(),
        versions: vec![],
        suites: Vec::new(),
        error: None,
        legacy: false,
    });
    r.cert = None;
    r.credssp = None;
    r
}

pub fn negotiation(
    mut r: ProbeRecord,
    result: NegResult,
    accepted: &[&str],
    failures: &[u32],
) -> ProbeRecord {
    r.rdp = Some(RdpOutcome {
        attempts: vec![NegAttempt {
            requested: 0x0B,
            result: result.clone(),
        }],
        accepted: accepted
            .iter()
            .map(|s| Protocols::from_layer_name(s).unwrap())
            .collect(),
        required: None,
        failures: failures.to_vec(),
        flags: 0,
        legacy: matches!(result, NegResult::Legacy),
        version: None,
        encryption_level: None,
        encryption_methods: vec![],
        os_hint: None,
    });
    r.tls = None;
    r.cert = None;
    r.credssp = None;
    r
}

/// The records of a plausible mid-size estate: mostly healthy, one of every classic fault.
pub fn fleet_records() -> Vec<ProbeRecord> {
    let h = healthy;
    let mut v = vec![
        at(
            "PAR",
            "web team",
            "prod",
            h("web01.corp.example", "10.20.1.11"),
        ),
        at(
            "PAR",
            "web team",
            "prod",
            h("web02.corp.example", "10.20.1.12"),
        ),
        at(
            "PAR",
            "web team",
            "staging",
            self_signed(h("web-stg01.corp.example", "10.20.9.11")),
        ),
        at(
            "PAR",
            "finance",
            "prod",
            cert_days(h("app03.corp.example", "10.20.2.13"), -42),
        ),
        at(
            "FRA",
            "finance",
            "prod",
            cert_days(h("app04.corp.example", "10.30.2.14"), 12),
        ),
        at(
            "FRA",
            "finance",
            "prod",
            cert_days(h("pay01.corp.example", "10.30.2.20"), 5),
        ),
        at(
            "FRA",
            "finance",
            "prod",
            cert_days(h("pay02.corp.example", "10.30.2.21"), 61),
        ),
        at(
            "FRA",
            "erp",
            "prod",
            legacy_tls(h("old-erp.corp.example", "10.30.5.40")),
        ),
        at(
            "FRA",
            "finance",
            "prod",
            credssp_version(h("fin-db01.corp.example", "10.30.3.31"), 3, "6.3.9600"),
        ),
        at(
            "PAR",
            "infra",
            "prod",
            dns_fail(
                h("fax-gw.corp.example", "10.20.0.1"),
                DnsStatus::Nxdomain,
                None,
            ),
        ),
        at(
            "NYC",
            "infra",
            "prod",
            dns_fail(
                h("sql02.us.corp.example", "10.40.0.1"),
                DnsStatus::Servfail,
                Some("SERVFAIL from 10.40.0.53"),
            ),
        ),
        at(
            "NYC",
            "infra",
            "dmz",
            unreached_after_tcp(
                h("dmz-gw01.corp.example", "192.0.2.10"),
                TcpStatus::Filtered,
            ),
        ),
        at(
            "NYC",
            "infra",
            "prod",
            unreached_after_tcp(
                h("print01.us.corp.example", "10.40.1.15"),
                TcpStatus::Refused,
            ),
        ),
        at(
            "PAR",
            "citrix",
            "prod",
            tls_status(
                h("rds-broker01.corp.example", "10.20.4.10"),
                TlsStatus::ResetAfterHello,
            ),
        ),
        at(
            "PAR",
            "hr",
            "prod",
            negotiation(
                h("hr-app01.corp.example", "10.20.6.21"),
                NegResult::Failure { code: 3 },
                &[],
                &[3],
            ),
        ),
        at(
            "NYC",
            "lab",
            "lab",
            negotiation(
                h("lab-xp.us.corp.example", "10.40.8.5"),
                NegResult::Legacy,
                &[],
                &[],
            ),
        ),
        at(
            "NYC",
            "vpn",
            "prod",
            tls_status(
                h("branch-srv.us.corp.example", "172.16.40.10"),
                TlsStatus::Stalled,
            ),
        ),
    ];
    // The DNS record points at another machine: NTLM names differ from the inventory name.
    let mut file02 = at(
        "PAR",
        "infra",
        "prod",
        h("file02.corp.example", "10.20.3.22"),
    );
    if let Some(n) = file02.credssp.as_mut().and_then(|c| c.ntlm.as_mut()) {
        n.nb_computer = Some("FILE07".into());
        n.dns_computer = Some("file07.corp.example".into());
    }
    v.push(file02);
    // Clock 2 h off.
    let mut build = at(
        "FRA",
        "devops",
        "ci",
        h("build-agent07.corp.example", "10.30.7.7"),
    );
    if let Some(n) = build.credssp.as_mut().and_then(|c| c.ntlm.as_mut()) {
        n.clock_skew_s = Some(7_260);
    }
    v.push(build);
    // NLA offered but not required; certificate issued for another name by an unknown CA.
    let mut kiosk = at(
        "NYC",
        "retail",
        "prod",
        h("kiosk12.us.corp.example", "10.40.12.12"),
    );
    if let Some(rdp) = kiosk.rdp.as_mut() {
        rdp.accepted = vec![Protocols::SSL, Protocols::HYBRID, Protocols::HYBRID_EX];
        rdp.required = None;
        rdp.failures = vec![];
    }
    if let Some(c) = kiosk.cert.as_mut() {
        c.name_match = Some(false);
        c.sans = vec!["kiosk-template.corp.example".into()];
        c.subject = "CN=kiosk-template.corp.example".into();
        c.trusted = false;
        c.trust_error = Some("UnknownIssuer".into());
        c.issuer = "CN=Retail Vendor CA".into();
    }
    v.push(kiosk);
    // Dual stack: one row per address.
    v.push(at(
        "PAR",
        "infra",
        "prod",
        h("jump01.corp.example", "10.20.0.50"),
    ));
    v.push(at(
        "PAR",
        "infra",
        "prod",
        h("jump01.corp.example", "2001:db8:20::50"),
    ));
    // IP-literal target on a non-default port.
    let mut lit = at("FRA", "devops", "ci", h("10.30.7.8", "10.30.7.8"));
    lit.target.port = 3390;
    lit.dns.status = DnsStatus::Literal;
    lit.dns.ptr = Some("build-agent08.corp.example".into());
    v.push(lit);
    for (i, site) in ["PAR", "FRA", "NYC", "PAR", "FRA", "NYC", "PAR", "FRA"]
        .iter()
        .enumerate()
    {
        let host = format!("ts{:02}.corp.example", i + 1);
        let addr = format!("10.50.{}.{}", i / 4, 10 + i);
        let mut r = at(site, "workplace", "prod", h(&host, &addr));
        if i % 3 == 1 {
            r = self_signed(r);
        }
        if i % 4 == 2 {
            r = credssp_version(r, 6, "10.0.17763");
        }
        v.push(r);
    }
    v
}

pub fn fleet() -> Vec<HostReport> {
    fleet_records()
        .into_iter()
        .map(|r| report(r, NOW_UNIX, &Policy::default()))
        .collect()
}

pub fn summary(rows: usize) -> Summary {
    Summary {
        started_at: NOW.into(),
        duration_s: 47.3,
        targets: rows as u64,
        rows: rows as u64,
        interrupted: false,
        verdicts: vec![],
    }
}

/// Yesterday's scan of the same fleet: a few hosts changed since.
pub fn yesterday(today: &[HostReport]) -> Baseline {
    let mut lines: Vec<(HostReport, Option<String>)> = Vec::new();
    for r in today {
        let host = r.record.target.host.as_str();
        let mut rec = r.record.clone();
        rec.scanned_at = "2026-05-03T02:00:00Z".into();
        let then = NOW_UNIX - DAY;
        let first_seen = match host {
            // Were fine yesterday: today's failures are new.
            "fin-db01.corp.example" => {
                if let Some(c) = rec.credssp.as_mut() {
                    c.version = Some(6);
                }
                None
            }
            "rds-broker01.corp.example" => {
                rec = healthy(host, "10.20.4.10");
                rec.scanned_at = "2026-05-03T02:00:00Z".into();
                None
            }
            // Expiring yesterday, expired today: still failing, differently.
            "app03.corp.example" => {
                if let Some(c) = rec.cert.as_mut() {
                    c.not_after_unix = then + 3 * DAY;
                }
                Some("2026-04-20T02:00:00Z".to_string())
            }
            "old-erp.corp.example" => Some("2026-03-02T02:00:00Z".to_string()),
            "dmz-gw01.corp.example" => Some("2026-04-28T02:00:00Z".to_string()),
            _ => None,
        };
        lines.push((report(rec, then, &Policy::default()), first_seen));
    }
    // Filtered yesterday, healthy today.
    let mut fixed = at(
        "NYC",
        "infra",
        "prod",
        healthy("web05.us.corp.example", "10.40.1.25"),
    );
    fixed = unreached_after_tcp(fixed, TcpStatus::Filtered);
    fixed.scanned_at = "2026-05-03T02:00:00Z".into();
    lines.push((report(fixed, NOW_UNIX - DAY, &Policy::default()), None));
    // Decommissioned since.
    let mut gone = at(
        "PAR",
        "infra",
        "prod",
        healthy("legacy-fax.corp.example", "10.20.0.99"),
    );
    gone.scanned_at = "2026-05-03T02:00:00Z".into();
    lines.push((report(gone, NOW_UNIX - DAY, &Policy::default()), None));
    Baseline::from_entries(lines)
}

/// Today's fleet as the sink sees it, with web05 back to healthy.
pub fn fleet_today() -> Vec<HostReport> {
    let mut v = fleet();
    v.push(report(
        at(
            "NYC",
            "infra",
            "prod",
            healthy("web05.us.corp.example", "10.40.1.25"),
        ),
        NOW_UNIX,
        &Policy::default(),
    ));
    v
}

/// A hostile client verdict (a saved file may carry anything): it must stay text.
pub const HOSTILE_PROFILE: &str = "<img src=x onerror=\"window.__pwned=1\">";
pub const HOSTILE_REASON: &str = "</script><script>window.__pwned=2</script>";

/// Hosts whose client profiles disagree (docs/clients.md), for the client filter and matrix:
/// a TLS 1.0-only host (Windows 11 and FreeRDP 3 fail), a TLS 1.2/1.3-only host with deep facts
/// (Windows 7 fails), a ChaCha20-only host whose Windows 11 hello was refused, and a healthy
/// host carrying one hostile verdict.
pub fn client_fleet() -> Vec<HostReport> {
    let tls = |status: TlsStatus, version: &str, cipher: &str, versions: &[&str]| TlsOutcome {
        status,
        version: Some(version.into()),
        cipher: Some(cipher.into()),
        alert: None,
        via: if status == TlsStatus::LegacyHello {
            "legacy-hello".into()
        } else {
            "rustls".into()
        },
        versions: versions.iter().map(|v| v.to_string()).collect(),
        suites: Vec::new(),
        error: None,
        legacy: status == TlsStatus::LegacyHello,
    };
    let mut old = healthy("old-tls.corp.example", "10.9.0.1");
    old.tls = Some(tls(
        TlsStatus::LegacyHello,
        "TLSv1.0",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        &[],
    ));
    let mut modern = healthy("modern.corp.example", "10.9.0.2");
    modern.tls = Some(tls(
        TlsStatus::Ok,
        "TLSv1.3",
        "TLS_AES_256_GCM_SHA384",
        &["TLSv1.2", "TLSv1.3"],
    ));
    let mut chacha = healthy("chacha.corp.example", "10.9.0.3");
    chacha.tls = Some(tls(
        TlsStatus::Ok,
        "TLSv1.2",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        &[],
    ));
    chacha.profile_hellos = vec![ProfileHello {
        profile: "win11".into(),
        status: HelloStatus::Alert,
        version: None,
        cipher: None,
        alert: Some(40),
        error: None,
    }];
    let plain = healthy("plain.corp.example", "10.9.0.4");
    let mut v: Vec<HostReport> = [old, modern, chacha, plain]
        .into_iter()
        .map(|r| report(r, NOW_UNIX, &Policy::default()))
        .collect();
    if let Some(last) = v.last_mut() {
        last.clients.push(ClientVerdict {
            profile: HOSTILE_PROFILE.into(),
            connects: Connects::No,
            reason: HOSTILE_REASON.into(),
        });
    }
    v
}
