//! Revocation findings (`--check-revocation`): `cert-revoked` when a source the issuer signed
//! says so; `revocation-unreachable` when no source gave a usable answer, which is what a
//! client that checks revocation meets too (it waits for the URLs, then fails or warns).

use super::{Acc, C};
use crate::model::{CertFacts, RevocationCheck, RevocationMethod, RevocationStatus};

fn method(m: RevocationMethod) -> &'static str {
    match m {
        RevocationMethod::Ocsp => "OCSP",
        RevocationMethod::Crl => "CRL",
    }
}

fn one(c: &RevocationCheck) -> String {
    let what = format!("{} {}", method(c.method), c.url);
    match &c.error {
        Some(e) => format!("{what}: {e}"),
        None => what,
    }
}

pub(super) fn revocation_findings(c: &CertFacts, acc: &mut Acc) {
    let Some(r) = &c.revocation else {
        return;
    };
    match r.status {
        RevocationStatus::Revoked => {
            let Some(by) = r
                .checks
                .iter()
                .find(|x| x.status == RevocationStatus::Revoked)
            else {
                return;
            };
            let mut detail = format!(
                "serial {} revoked by {} {}",
                c.serial,
                method(by.method),
                by.url
            );
            if let Some(at) = &by.revoked_at {
                detail.push_str(&format!(" at {at}"));
            }
            if let Some(reason) = &by.reason {
                detail.push_str(&format!(" ({reason})"));
            }
            acc.add(C::CertRevoked, detail);
        }
        RevocationStatus::Unreachable | RevocationStatus::Unusable => {
            let detail: Vec<String> = r
                .checks
                .iter()
                .filter(|x| x.status != RevocationStatus::Good)
                .map(one)
                .collect();
            acc.add(C::RevocationUnreachable, detail.join("; "));
        }
        RevocationStatus::Good | RevocationStatus::NotChecked => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Policy, diagnose};
    use crate::model::*;

    fn record(status: RevocationStatus, checks: Vec<RevocationCheck>) -> ProbeRecord {
        let target = TargetInfo {
            host: "rdp.corp.example".into(),
            port: 3389,
            ..Default::default()
        };
        let mut r = ProbeRecord::new(
            target,
            DnsOutcome::status(DnsStatus::Resolved),
            String::new(),
        );
        r.address = Some("192.0.2.7".parse().unwrap());
        r.cert = Some(CertFacts {
            subject: "CN=rdp.corp.example".into(),
            issuer: "CN=Corp CA".into(),
            not_before_unix: 1_700_000_000,
            not_after_unix: 1_900_000_000,
            trusted: true,
            key: "RSA-2048".into(),
            key_bits: 2048,
            sig_alg: "sha256WithRSAEncryption".into(),
            serial: "1A2B".into(),
            name_match: Some(true),
            revocation: Some(Revocation {
                status,
                checks,
                note: None,
            }),
            ..CertFacts::default()
        });
        r
    }

    fn check(method: RevocationMethod, url: &str, status: RevocationStatus) -> RevocationCheck {
        RevocationCheck {
            method,
            url: url.into(),
            status,
            error: None,
            revoked_at: None,
            reason: None,
        }
    }

    #[test]
    fn revoked_is_a_failure_naming_its_source() {
        let mut c = check(
            RevocationMethod::Crl,
            "http://pki.corp.example/ca.crl",
            RevocationStatus::Revoked,
        );
        c.revoked_at = Some("2026-11-30T10:00:00Z".into());
        c.reason = Some("keyCompromise".into());
        let f = diagnose(
            &record(RevocationStatus::Revoked, vec![c]),
            1_800_000_000,
            &Policy::default(),
        );
        assert_eq!(f[0].code, FindingCode::CertRevoked);
        assert_eq!(f[0].severity, Severity::Fail);
        assert!(
            f[0].detail
                .contains("serial 1A2B revoked by CRL http://pki.corp.example/ca.crl")
        );
        assert!(f[0].detail.contains("(keyCompromise)"), "{}", f[0].detail);
        assert!(f[0].remedy.contains("SSLCertificateSHA1Hash"));
    }

    #[test]
    fn no_usable_answer_warns_with_every_url() {
        let mut a = check(
            RevocationMethod::Ocsp,
            "http://ocsp.corp.example/",
            RevocationStatus::Unreachable,
        );
        a.error = Some("connection refused".into());
        let mut b = check(
            RevocationMethod::Crl,
            "http://pki.corp.example/ca.crl",
            RevocationStatus::Unusable,
        );
        b.error = Some("CRL expired".into());
        for status in [RevocationStatus::Unreachable, RevocationStatus::Unusable] {
            let f = diagnose(
                &record(status, vec![a.clone(), b.clone()]),
                1_800_000_000,
                &Policy::default(),
            );
            assert_eq!(f[0].code, FindingCode::RevocationUnreachable, "{f:?}");
            assert_eq!(f[0].severity, Severity::Warn);
            assert!(
                f[0].detail
                    .contains("OCSP http://ocsp.corp.example/: connection refused")
            );
            assert!(
                f[0].detail
                    .contains("CRL http://pki.corp.example/ca.crl: CRL expired")
            );
        }
    }

    #[test]
    fn good_and_not_checked_say_nothing() {
        for status in [RevocationStatus::Good, RevocationStatus::NotChecked] {
            let f = diagnose(&record(status, vec![]), 1_800_000_000, &Policy::default());
            assert_eq!(f[0].code, FindingCode::Ok, "{status:?}: {f:?}");
            assert!(
                f.iter()
                    .all(|x| x.code != FindingCode::RevocationUnreachable
                        && x.code != FindingCode::CertRevoked)
            );
        }
    }
}
