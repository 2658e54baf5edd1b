use super::*;
use crate::model::{
    CredSspOutcome, CredSspStatus, DnsOutcome, DnsStatus, RdpOutcome, TargetInfo, TlsOutcome,
};

fn record(accepted: &[Protocols], tls: Option<TlsOutcome>) -> ProbeRecord {
    let mut rdp = RdpOutcome::default();
    for l in accepted {
        rdp.accept(*l);
    }
    ProbeRecord {
        rdp: Some(rdp),
        tls,
        ..ProbeRecord::new(
            TargetInfo::default(),
            DnsOutcome::status(DnsStatus::Resolved),
            "2026-01-01T00:00:00Z".into(),
        )
    }
}

fn tls(status: TlsStatus, version: &str, cipher: &str) -> TlsOutcome {
    TlsOutcome {
        status,
        version: Some(version.into()),
        cipher: Some(cipher.into()),
        alert: None,
        via: "rustls".into(),
        versions: Vec::new(),
        error: None,
        legacy: status == TlsStatus::LegacyHello,
    }
}

fn get(v: &[ClientVerdict], id: &str) -> Connects {
    v.iter()
        .find(|c| c.profile == id)
        .map_or(Connects::Unknown, |c| c.connects)
}

#[test]
fn table_is_consistent() {
    let mut ids: Vec<&str> = PROFILES.iter().map(|p| p.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), PROFILES.len(), "ids are unique");
    assert_eq!(
        PROFILES.first().map(|p| p.id),
        Some("win11"),
        "the plan sends the first"
    );
    for p in PROFILES {
        assert!(!p.sources.is_empty(), "{} cites a source", p.id);
        assert!(p.hello.min <= p.hello.max);
        // TLS 1.3 suites only for TLS 1.3 profiles.
        let has13 = p.hello.suites.iter().any(|s| (0x1301..=0x1305).contains(s));
        assert_eq!(has13, p.hello.max >= TlsVersion::TLS13, "{}", p.id);
    }
    // Windows 11 offers no ChaCha20 (a suite rustls and OpenSSL do offer).
    let win11 = profile("win11").map(|p| p.hello);
    assert_eq!(win11.map(|h| h.offers_suite(0xCCA8)), Some(false));
    assert_eq!(
        profile("freerdp").map(|p| p.hello.offers_suite(0xCCA8)),
        Some(true)
    );
}

#[test]
fn refused_windows_hello_fails_windows_only() {
    let mut r = record(
        &[Protocols::SSL],
        Some(tls(
            TlsStatus::Ok,
            "TLSv1.2",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        )),
    );
    r.profile_hellos = vec![ProfileHello {
        profile: "win11".into(),
        status: HelloStatus::Alert,
        version: None,
        cipher: None,
        alert: Some(40),
        error: None,
    }];
    let v = verdicts(&r);
    assert_eq!(get(&v, "win11"), Connects::No);
    // Win10 offers no ChaCha20 either, but its own hello was not sent: no guess.
    assert_eq!(get(&v, "win10"), Connects::Unknown);
    // FreeRDP offers the very version and suite the server chose.
    assert_eq!(get(&v, "freerdp"), Connects::Yes);
    assert_eq!(get(&v, "macos"), Connects::Yes);
    assert_eq!(failing(&v), "win11");
    let reason = v.first().map(|c| c.reason.clone()).unwrap_or_default();
    assert!(reason.contains("alert 40"), "{reason}");
}

#[test]
fn tls10_only_server_passes_windows_7_only() {
    let r = record(
        &[Protocols::SSL],
        Some(tls(
            TlsStatus::LegacyHello,
            "TLSv1.0",
            "TLS_RSA_WITH_AES_128_CBC_SHA",
        )),
    );
    let v = verdicts(&r);
    assert_eq!(get(&v, "win7"), Connects::Yes);
    // Windows 10 22H2 still offers TLS 1.0, and the suite: it connects.
    assert_eq!(get(&v, "win10"), Connects::Yes);
    // Apple's stack still offers TLS 1.0 (deprecated).
    assert_eq!(get(&v, "macos"), Connects::Yes);
    for id in ["win11", "freerdp"] {
        assert_eq!(get(&v, id), Connects::No, "{id}");
    }
    assert_eq!(failing(&v), "win11;freerdp");
}

#[test]
fn deep_versions_and_credssp_and_layers() {
    let mut t = tls(TlsStatus::Ok, "TLSv1.3", "TLS_AES_256_GCM_SHA384");
    t.versions = vec!["TLSv1.2".into(), "TLSv1.3".into()];
    let mut r = record(&[Protocols::HYBRID], Some(t));
    let v = verdicts(&r);
    assert_eq!(get(&v, "win7"), Connects::No, "TLS 1.0 not accepted");
    assert_eq!(get(&v, "win11"), Connects::Yes);

    // An unpatched CredSSP server: Windows refuses, FreeRDP adapts.
    r.credssp = Some(CredSspOutcome {
        status: CredSspStatus::Challenge,
        version: Some(3),
        error_code: None,
        ntlm: None,
        error: None,
    });
    let v = verdicts(&r);
    assert_eq!(get(&v, "win11"), Connects::No);
    assert!(v.iter().any(|c| c.reason.contains("encryption-oracle")));
    assert_eq!(get(&v, "freerdp"), Connects::Yes);

    // Standard RDP security only: mstsc yes, the Windows App undocumented.
    let v = verdicts(&record(&[Protocols::RDP], None));
    assert_eq!(get(&v, "win11"), Connects::Yes);
    assert_eq!(get(&v, "macos"), Connects::Unknown);
    // Nothing accepted: no verdicts at all.
    assert!(verdicts(&record(&[], None)).is_empty());
}

#[test]
fn a_suite_the_client_never_offered_is_the_servers_fault() {
    let mut r = record(
        &[Protocols::SSL],
        Some(tls(TlsStatus::Ok, "TLSv1.2", "0xC02F")),
    );
    r.profile_hellos = vec![ProfileHello {
        profile: "win11".into(),
        status: HelloStatus::Hello,
        version: Some("TLSv1.2".into()),
        cipher: Some("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256".into()),
        alert: None,
        error: None,
    }];
    let v = verdicts(&r);
    assert_eq!(get(&v, "win11"), Connects::No);
    assert!(v.iter().any(|c| c.reason.contains("did not offer")));
}
