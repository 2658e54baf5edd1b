//! Criterion benches for the per-host pure work: the codecs a probe runs on every server reply,
//! certificate facts, and the findings function.
//!
//! `cargo bench --bench codecs` (all), `cargo bench --bench codecs -- cert_facts` (one group).
//! Inputs are built with the crate's own lab-side encoders and rcgen, so they are the bytes a
//! healthy Windows-like lab host sends; nothing here touches the network.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{Criterion, criterion_group, criterion_main};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

use rdpsweep::cert::{TrustStore, cert_facts};
use rdpsweep::diagnose::{Policy, diagnose};
use rdpsweep::model::{
    CertFacts, CredSspOutcome, DnsOutcome, DnsStatus, NegAttempt, NegResult, ProbeRecord,
    RdpOutcome, TargetInfo, TcpOutcome, TcpStatus, TlsOutcome, TlsStatus,
};
use rdpsweep::probe::credssp::from_ts_request;
use rdpsweep::rdp::credssp::{parse_ts_request, ts_request_with_token};
use rdpsweep::rdp::ntlm::{ChallengeSpec, NtlmVersion, challenge_message, find_challenge};
use rdpsweep::rdp::x224::{ConfirmSpec, NegRspFlags, Protocols, connection_confirm, parse_confirm};
use rdpsweep::tls::legacy::{TlsVersion, parse_server_flight, server_flight};

/// 2026-01-01T00:00:00Z: fixed so the findings do not drift with the calendar.
const NOW: i64 = 1_767_225_600;

/// A lab-like CA and a leaf for 127.1.0.7 (ECDSA P-256, IP SAN), both DER.
fn chain() -> (Vec<u8>, Vec<u8>) {
    let ca_key = KeyPair::generate().expect("ca key");
    let mut ca = CertificateParams::default();
    ca.distinguished_name.push(DnType::CommonName, "bench CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).expect("ca cert");
    let issuer = Issuer::new(ca, ca_key);

    let leaf_key = KeyPair::generate().expect("leaf key");
    let mut leaf = CertificateParams::default();
    leaf.distinguished_name
        .push(DnType::CommonName, "127.1.0.7");
    leaf.subject_alt_names = vec![SanType::IpAddress(IpAddr::V4(Ipv4Addr::new(127, 1, 0, 7)))];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.not_before = time::OffsetDateTime::from_unix_timestamp(NOW - 30 * 86_400).expect("nb");
    leaf.not_after = time::OffsetDateTime::from_unix_timestamp(NOW + 365 * 86_400).expect("na");
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).expect("leaf");
    (ca_cert.der().to_vec(), leaf_cert.der().to_vec())
}

/// The CHALLENGE a Server 2022 lab host sends.
fn challenge() -> Vec<u8> {
    challenge_message(&ChallengeSpec {
        target_name: "LAB".into(),
        nb_computer: "LAB-1-0-7".into(),
        nb_domain: "LAB".into(),
        dns_computer: "lab-1-0-7.lab.test".into(),
        dns_domain: "lab.test".into(),
        dns_tree: "lab.test".into(),
        timestamp: 134_116_992_000_000_000,
        version: NtlmVersion {
            major: 10,
            minor: 0,
            build: 20348,
        },
        flags: 0xE28A_8235,
    })
}

/// What the probe records for a healthy NLA host (the input of the findings function).
fn healthy_record(cert: CertFacts, credssp: CredSspOutcome) -> ProbeRecord {
    let ip = IpAddr::V4(Ipv4Addr::new(127, 1, 0, 7));
    ProbeRecord {
        target: TargetInfo {
            host: "127.1.0.7".into(),
            port: 3389,
            site: Some("lab".into()),
            owner: Some("identity".into()),
            ..Default::default()
        },
        address: Some(ip),
        dns: DnsOutcome {
            addresses: vec![ip],
            ..DnsOutcome::status(DnsStatus::Literal)
        },
        tcp: Some(TcpOutcome {
            status: TcpStatus::Open,
            rtt_ms: Some(0.1),
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
                        flags: 0x1B,
                    },
                },
                NegAttempt {
                    requested: 0x01,
                    result: NegResult::Failure { code: 5 },
                },
            ],
            accepted: vec![Protocols::HYBRID_EX, Protocols::HYBRID],
            required: Some(Protocols::HYBRID),
            failures: vec![5],
            flags: 0x1B,
            ..Default::default()
        }),
        tls: Some(TlsOutcome {
            status: TlsStatus::Ok,
            version: Some("TLSv1.2".into()),
            cipher: Some("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384".into()),
            alert: None,
            via: "rustls".into(),
            versions: vec![],
            suites: Vec::new(),
            error: None,
            legacy: false,
        }),
        cert: Some(cert),
        credssp: Some(credssp),
        profile_hellos: Vec::new(),
        net: None,
        connections: 2,
        attempts: 1,
        flaky: false,
        deadline_hit: false,
        scanned_at: "2026-01-01T00:00:00Z".into(),
        duration_ms: 1.5,
    }
}

fn codecs(c: &mut Criterion) {
    // X.224 CC selecting HYBRID_EX with Windows 10+ flags: the reply to every first request.
    let cc = connection_confirm(&ConfirmSpec::Selected {
        protocol: 8,
        flags: NegRspFlags::from_bits_retain(0x1B),
    });
    assert!(parse_confirm(&cc).done().is_some(), "cc parses");
    c.bench_function("x224::parse_confirm", |b| {
        b.iter(|| parse_confirm(black_box(&cc)))
    });

    let ch = challenge();
    assert!(find_challenge(&ch).is_ok(), "challenge parses");
    c.bench_function("ntlm::find_challenge", |b| {
        b.iter(|| find_challenge(black_box(&ch)))
    });

    let ts = ts_request_with_token(6, &ch);
    assert!(
        matches!(parse_ts_request(&ts).done(), Some(Ok(_))),
        "ts request parses"
    );
    c.bench_function("credssp::parse_ts_request", |b| {
        b.iter(|| parse_ts_request(black_box(&ts)))
    });

    let (_ca, leaf) = chain();
    let flight = server_flight(TlsVersion::TLS10, 0x002F, std::slice::from_ref(&leaf));
    assert!(
        parse_server_flight(&flight).done().is_some(),
        "flight parses"
    );
    c.bench_function("tls::legacy::parse_server_flight", |b| {
        b.iter(|| parse_server_flight(black_box(&flight)))
    });
}

fn certs(c: &mut Criterion) {
    let (ca, leaf) = chain();
    let chain = vec![leaf.clone()];
    let mut g = c.benchmark_group("cert::cert_facts");
    // What a scan sees for an enterprise certificate: system roots plus the issuing CA.
    let mut trusted = TrustStore::system();
    trusted.add_der(&ca).expect("ca anchor");
    assert!(
        cert_facts(&chain, &trusted, NOW).trusted,
        "chain is trusted"
    );
    g.bench_function("trusted (system roots + CA, ECDSA P-256)", |b| {
        b.iter(|| cert_facts(black_box(&chain), &trusted, NOW))
    });
    // Unknown issuer: path building stops before any signature check.
    let untrusted = TrustStore::system();
    g.bench_function("unknown issuer", |b| {
        b.iter(|| cert_facts(black_box(&chain), &untrusted, NOW))
    });
    g.finish();

    let facts = cert_facts(&chain, &trusted, NOW);
    let ts = ts_request_with_token(6, &challenge());
    let credssp = from_ts_request(parse_ts_request(&ts).done().expect("done"), NOW);
    let rec = healthy_record(facts, credssp);
    let policy = Policy::default();
    let findings = diagnose(&rec, NOW, &policy);
    assert!(!findings.is_empty(), "at least one finding");
    c.bench_function("diagnose::diagnose (healthy NLA host)", |b| {
        b.iter(|| diagnose(black_box(&rec), NOW, &policy))
    });
    // The whole per-host tail: findings plus the JSON line the JSONL sink writes.
    let report = rdpsweep::diagnose::report(rec.clone(), NOW, &policy);
    let mut line = Vec::with_capacity(4096);
    let mut g = c.benchmark_group("JSON line of a healthy host");
    g.bench_function("serde_json::to_writer(HostReport)", |b| {
        b.iter(|| {
            line.clear();
            serde_json::to_writer(&mut line, black_box(&report)).expect("json");
        })
    });
    g.bench_function("report::jsonl::write_line", |b| {
        b.iter(|| {
            line.clear();
            rdpsweep::report::jsonl::write_line(&mut line, black_box(&report)).expect("json");
        })
    });
    g.finish();
    let extras: Vec<String> = Vec::new();
    c.bench_function("report::csv::row (healthy host)", |b| {
        b.iter(|| rdpsweep::report::csv::row(black_box(&report), &extras))
    });
}

criterion_group!(benches, codecs, certs);
criterion_main!(benches);
