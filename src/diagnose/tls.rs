//! TLS: handshake failures, versions, Schannel's hello, weak suites.

use super::{Acc, alert_name, with_error};
use crate::model::{FindingCode as C, HelloStatus, ProbeRecord, TlsOutcome, TlsStatus};

/// `clamp`: the MSS of the blackhole retry, when one ran.
pub(super) fn tls_findings(t: &TlsOutcome, has_cert: bool, clamp: Option<u32>, acc: &mut Acc) {
    let err = t.error.clone().unwrap_or_default();
    match t.status {
        TlsStatus::Ok | TlsStatus::LegacyHello => {
            if let Some(mss) = clamp {
                acc.add(
                    C::PathMtuBlackhole,
                    format!(
                        "the TLS flight stalled at the path's full MSS and arrived with the MSS \
                         clamped to {mss} (IP packets of {} bytes get through)",
                        mss + 40
                    ),
                );
            }
            let v = t.version.as_deref().unwrap_or("");
            // A TLS <= 1.2 flight shows its certificate in plaintext: none read means none sent.
            // (TLS 1.3 encrypts it, so its absence from the legacy hello means nothing.)
            if t.status == TlsStatus::LegacyHello && v != "TLSv1.3" && !has_cert {
                acc.add(
                    C::TlsNoCertificate,
                    with_error(&format!("{v} flight"), &err),
                );
            }
            if v == "TLSv1.3" {
                // Modern suites only: nothing legacy to report, whichever path read it.
            } else if matches!(v, "TLSv1.0" | "TLSv1.1" | "SSLv3") {
                acc.add(
                    C::TlsLegacyOnly,
                    format!("best version offered by the server: {v}"),
                );
            } else if t.legacy {
                let suite = t.cipher.as_deref().unwrap_or("?");
                acc.add(C::TlsLegacySuites, format!("{v} with {suite}"));
            }
        }
        TlsStatus::Alert => {
            let a = t
                .alert
                .map(|a| format!("alert {a} {}", alert_name(a)))
                .unwrap_or_default();
            acc.add(C::TlsHandshakeFailed, a);
        }
        TlsStatus::ResetAfterHello => acc.add(
            C::TlsResetAfterHello,
            "connection reset right after the ClientHello",
        ),
        TlsStatus::EofAfterHello => acc.add(
            C::TlsResetAfterHello,
            "connection closed right after the ClientHello",
        ),
        TlsStatus::Stalled => acc.add(
            C::TlsStalled,
            match clamp {
                Some(mss) => {
                    format!("no ServerHello before the timeout, also with the MSS clamped to {mss}")
                }
                None => "no ServerHello before the timeout".into(),
            },
        ),
        TlsStatus::NoCommon => acc.add(
            C::TlsHandshakeFailed,
            with_error("no common TLS version or cipher suite", &err),
        ),
        TlsStatus::NotTls => acc.add(
            C::TlsHandshakeFailed,
            with_error("the server's reply is not TLS", &err),
        ),
        TlsStatus::Error => acc.add(C::TlsHandshakeFailed, err),
    }
}

/// The Windows profile's own hello refused although another hello got a handshake
/// (`schannel-suites-mismatch`); TLS 1.0/1.1 accepted beside 1.2 (`tls-legacy-enabled`).
pub(super) fn schannel_findings(r: &ProbeRecord, t: &TlsOutcome, acc: &mut Acc) {
    let others_ok = matches!(t.status, TlsStatus::Ok | TlsStatus::LegacyHello);
    let version = t.version.as_deref().and_then(crate::clients::version_of);
    // A Windows hello refused although the server's version is one that client offers: the
    // suites are the difference (a version gap is `tls-legacy-only`'s business).
    let windows = r.profile_hellos.iter().find(|h| {
        crate::clients::profile(&h.profile)
            .is_some_and(|p| p.windows && version.is_some_and(|v| p.hello.offers_version(v)))
            && matches!(h.status, HelloStatus::Alert | HelloStatus::Closed)
    });
    if others_ok && let Some(h) = windows {
        let how = match h.alert {
            Some(a) => format!("alert {a} {}", alert_name(a)),
            None => "a close".into(),
        };
        acc.add(
            C::SchannelSuitesMismatch,
            format!(
                "{} ({}) got {how}; {} negotiated {} with {}",
                h.profile,
                crate::clients::profile(&h.profile).map_or("", |p| p.name),
                t.via,
                t.version.as_deref().unwrap_or("?"),
                t.cipher.as_deref().unwrap_or("?")
            ),
        );
    }
    weak_suite_findings(t, acc);
    let legacy: Vec<&str> = t
        .versions
        .iter()
        .map(String::as_str)
        .filter(|v| matches!(*v, "TLSv1.0" | "TLSv1.1"))
        .collect();
    let modern = t.versions.iter().any(|v| v == "TLSv1.2" || v == "TLSv1.3");
    if !legacy.is_empty() && modern {
        acc.add(
            C::TlsLegacyEnabled,
            format!("accepted: {}", t.versions.join(",")),
        );
    }
}

/// Deep suite enumeration: every weak suite accepted, with the versions that accept it.
pub(super) fn weak_suite_findings(t: &TlsOutcome, acc: &mut Acc) {
    let mut weak: Vec<(&str, Vec<&str>)> = Vec::new();
    for list in &t.suites {
        for name in list.suites.iter().chain(&list.weak) {
            if !crate::tls::suites::suite_id(name).is_some_and(crate::tls::suites::is_weak) {
                continue;
            }
            match weak.iter_mut().find(|(n, _)| n == name) {
                Some((_, versions)) if versions.contains(&list.version.as_str()) => {}
                Some((_, versions)) => versions.push(&list.version),
                None => weak.push((name, vec![&list.version])),
            }
        }
    }
    if !weak.is_empty() {
        let detail: Vec<String> = weak
            .iter()
            .map(|(n, v)| format!("{n} ({})", v.join(",")))
            .collect();
        acc.add(C::TlsWeakSuites, detail.join("; "));
    }
}
