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
        suites: Vec::new(),
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

fn judged(r: &ProbeRecord, ids: &[&str]) -> Vec<crate::model::Finding> {
    let policy = crate::diagnose::Policy {
        clients: Selection::parse(ids).expect("valid ids"),
        ..crate::diagnose::Policy::default()
    };
    let now = 1_800_000_000;
    // A healthy certificate, so that only the client-specific findings speak.
    let mut r = r.clone();
    r.cert.get_or_insert(crate::model::CertFacts {
        not_before_unix: now - 86_400,
        not_after_unix: now + 365 * 86_400,
        key: "RSA-2048".into(),
        key_bits: 2048,
        sig_alg: "sha256WithRSAEncryption".into(),
        trusted: true,
        ..Default::default()
    });
    crate::diagnose::diagnose(&r, now, &policy)
}

fn sev_of(f: &[crate::model::Finding], code: crate::model::FindingCode) -> Option<Severity> {
    f.iter().find(|f| f.code == code).map(|f| f.severity)
}

use crate::model::{FindingCode as C, Severity};

#[test]
fn selection_parses_ids_and_defaults_to_windows() {
    assert_eq!(
        Selection::parse::<&str>(&[]).map(Selection::ids),
        Ok(vec!["win11", "win10"])
    );
    assert_eq!(Selection::default().ids(), vec!["win11", "win10"]);
    assert_eq!(
        Selection::parse(&["FreeRDP", " macos"]).map(Selection::ids),
        Ok(vec!["macos", "freerdp"])
    );
    let err = Selection::parse(&["win11", "win95"]).unwrap_err();
    assert_eq!(err.given, "win95");
    let msg = err.to_string();
    assert!(
        msg.contains("\"win95\"") && msg.contains("win11, win10, win7, macos, freerdp"),
        "{msg}"
    );
    assert!(Selection::parse(&[""]).is_err());
}

/// A TLS 1.2/1.3-only server (deep facts): Windows 11 and 10 connect, Windows 7 (TLS 1.0) does
/// not. Nothing else is wrong with it.
#[test]
fn a_host_failing_only_windows_7_fails_only_with_win7_selected() {
    let mut t = tls(TlsStatus::Ok, "TLSv1.3", "TLS_AES_256_GCM_SHA384");
    t.versions = vec!["TLSv1.2".into(), "TLSv1.3".into()];
    let mut r = record(&[Protocols::SSL], Some(t));
    r.profile_hellos = vec![ProfileHello {
        profile: "win10".into(),
        status: HelloStatus::Hello,
        version: Some("TLSv1.2".into()),
        cipher: Some("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384".into()),
        alert: None,
        error: None,
    }];
    let v = verdicts(&r);
    assert_eq!(
        ["win11", "win10", "win7"].map(|id| get(&v, id)),
        [Connects::Yes, Connects::Yes, Connects::No]
    );

    // Default (Windows 11 and 10): the host is ok, and the failing win7 is still a fact.
    let f = judged(&r, &[]);
    assert_eq!(f.first().map(|f| f.code), Some(C::Ok), "{f:?}");
    assert_eq!(sev_of(&f, C::ClientFails), None);
    assert_eq!(failing(&v), "win7");

    // With win7 selected it is judged, and nothing else explains its failure.
    let f = judged(&r, &["win11", "win10", "win7"]);
    assert_eq!(f.first().map(|f| f.code), Some(C::ClientFails), "{f:?}");
    let d = f.first().map(|f| f.detail.as_str()).unwrap_or("");
    assert!(d.starts_with("win7: TLS version"), "{d}");
    assert!(!d.contains("win11") && !d.contains("win10"), "{d}");

    // A failing finding already present explains the failure: no second one.
    let mut r2 = r.clone();
    r2.credssp = Some(CredSspOutcome {
        status: CredSspStatus::Challenge,
        version: Some(3),
        error_code: None,
        ntlm: None,
        error: None,
    });
    let f = judged(&r2, &["win7"]);
    assert_eq!(sev_of(&f, C::CredsspUnpatched), Some(Severity::Fail));
    assert_eq!(sev_of(&f, C::ClientFails), None, "{f:?}");
}

/// TLS 1.0 only: Windows 10 and 7 still connect, Windows 11 and FreeRDP 3 do not.
#[test]
fn client_specific_findings_are_judged_for_the_selected_profiles() {
    let r = record(
        &[Protocols::SSL],
        Some(tls(
            TlsStatus::LegacyHello,
            "TLSv1.0",
            "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        )),
    );
    // Default: win11 cannot connect, so tls-legacy-only fails the host.
    let f = judged(&r, &[]);
    assert_eq!(f.first().map(|f| f.code), Some(C::TlsLegacyOnly));
    assert_eq!(sev_of(&f, C::TlsLegacyOnly), Some(Severity::Fail));

    // Only clients proven to connect: lowered to info (still listed), the host is ok.
    let f = judged(&r, &["win10", "win7"]);
    assert_eq!(f.first().map(|f| f.code), Some(C::Ok), "{f:?}");
    assert_eq!(sev_of(&f, C::TlsLegacyOnly), Some(Severity::Info));
    let d = f
        .iter()
        .find(|f| f.code == C::TlsLegacyOnly)
        .map(|f| f.detail.as_str())
        .unwrap_or("");
    assert!(
        d.contains("every selected client connects: win10, win7"),
        "{d}"
    );

    // One selected client that fails keeps the finding at fail.
    for ids in [&["win7", "freerdp"][..], &["win11"][..]] {
        let f = judged(&r, ids);
        assert_eq!(
            sev_of(&f, C::TlsLegacyOnly),
            Some(Severity::Fail),
            "{ids:?}"
        );
        assert_eq!(
            sev_of(&f, C::ClientFails),
            None,
            "{ids:?}: explained already"
        );
    }

    // `unknown` never lowers a finding: a suite Windows 7 does not offer leaves its verdict open.
    let r = record(
        &[Protocols::SSL],
        Some(tls(
            TlsStatus::LegacyHello,
            "TLSv1.0",
            "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
        )),
    );
    assert_ne!(get(&verdicts(&r), "win7"), Connects::Yes);
    assert_eq!(
        sev_of(&judged(&r, &["win7"]), C::TlsLegacyOnly),
        Some(Severity::Fail)
    );
}

/// Unpatched CredSSP: patched Windows clients refuse it, the macOS Windows App does not.
#[test]
fn unpatched_credssp_matters_only_to_clients_that_enforce_the_remediation() {
    let mut r = record(
        &[Protocols::HYBRID],
        Some(tls(
            TlsStatus::Ok,
            "TLSv1.2",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        )),
    );
    r.credssp = Some(CredSspOutcome {
        status: CredSspStatus::Challenge,
        version: Some(4),
        error_code: None,
        ntlm: None,
        error: None,
    });
    assert_eq!(
        sev_of(&judged(&r, &[]), C::CredsspUnpatched),
        Some(Severity::Fail)
    );
    let f = judged(&r, &["macos"]);
    assert_eq!(sev_of(&f, C::CredsspUnpatched), Some(Severity::Info));
    assert_eq!(f.first().map(|f| f.code), Some(C::Ok), "{f:?}");
}
