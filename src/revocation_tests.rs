//! Revocation decoding against certificates and CRLs made by rcgen, and hostile bytes.

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CertifiedIssuer,
    DistinguishedName, DnType, IsCa, KeyIdMethod, KeyPair, KeyUsagePurpose, RevocationReason,
    RevokedCertParams, SerialNumber, SigningKey,
};
use time::OffsetDateTime;

use super::*;

const NOW: i64 = 1_800_000_000;

fn at(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap()
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = at(NOW - 86_400 * 30);
    p.not_after = at(NOW + 86_400 * 365);
    p
}

fn ca(cn: &str) -> CertifiedIssuer<'static, KeyPair> {
    CertifiedIssuer::self_signed(ca_params(cn), KeyPair::generate().unwrap()).unwrap()
}

fn leaf(ca: &CertifiedIssuer<'static, KeyPair>, serial: u64) -> Vec<u8> {
    let mut p = CertificateParams::new(vec!["rdp.example.test".to_string()]).unwrap();
    p.serial_number = Some(SerialNumber::from(serial));
    p.not_before = at(NOW - 86_400);
    p.not_after = at(NOW + 86_400 * 90);
    p.signed_by(&KeyPair::generate().unwrap(), ca)
        .unwrap()
        .der()
        .to_vec()
}

fn crl(
    ca: &CertifiedIssuer<'static, KeyPair>,
    revoked: &[u64],
    this_update: i64,
    next_update: i64,
) -> Vec<u8> {
    CertificateRevocationListParams {
        this_update: at(this_update),
        next_update: at(next_update),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: revoked
            .iter()
            .map(|s| RevokedCertParams {
                serial_number: SerialNumber::from(*s),
                revocation_time: at(NOW - 3600),
                reason_code: Some(RevocationReason::KeyCompromise),
                invalidity_date: None,
            })
            .collect(),
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(ca)
    .unwrap()
    .der()
    .to_vec()
}

fn no_anchors(_: &[u8]) -> Vec<Vec<u8>> {
    Vec::new()
}

fn leaf_of(ca: &CertifiedIssuer<'static, KeyPair>, serial: u64) -> Leaf {
    let chain = vec![leaf(ca, serial), ca.der().to_vec()];
    leaf_info(&chain, &no_anchors).unwrap()
}

#[test]
fn only_plain_http_urls_are_fetched() {
    let u = parse_http_url("http://PKI.Corp.Example/CertEnroll/ca.crl").unwrap();
    assert_eq!(
        (u.host.as_str(), u.port, u.path.as_str()),
        ("pki.corp.example", 80, "/CertEnroll/ca.crl")
    );
    assert_eq!(u.host_header(), "pki.corp.example");
    let u = parse_http_url("HTTP://127.0.0.1:8080?x=1#frag").unwrap();
    assert_eq!((u.port, u.path.as_str()), (8080, "/?x=1"));
    assert_eq!(u.host_header(), "127.0.0.1:8080");
    let u = parse_http_url("http://[::1]:81/ocsp").unwrap();
    assert_eq!((u.host.as_str(), u.port), ("::1", 81));
    assert_eq!(u.host_header(), "[::1]:81");
    for (url, want) in [
        (
            "ldap:///CN=CA,CN=CDP,DC=corp?certificateRevocationList",
            UrlError::Scheme("ldap".into()),
        ),
        ("javascript:alert(1)", UrlError::Scheme("javascript".into())),
        ("https://pki/ca.crl", UrlError::Scheme("https".into())),
        ("file:///etc/passwd", UrlError::Scheme("file".into())),
        ("http://pki/ca\u{7}.crl", UrlError::BadCharacters),
        ("http://pki/a b.crl", UrlError::BadCharacters),
        // What clean_text makes of a control character is never fetched either.
        ("http://pki/ca\\x07.crl", UrlError::BadCharacters),
        ("http://pki/é.crl", UrlError::BadCharacters),
        (
            "http://user:pw@pki/ca.crl",
            UrlError::Malformed("user info"),
        ),
        ("http://pki:0/", UrlError::Malformed("port")),
        ("http://pki:99999/", UrlError::Malformed("port")),
        ("http://pki:80:81/", UrlError::Malformed("port")),
        ("http:pki/ca.crl", UrlError::Malformed("no //")),
        ("http:///ca.crl", UrlError::Malformed("host")),
        ("http://[zz]/", UrlError::Malformed("IPv6 literal")),
        ("(+9984 more)", UrlError::Malformed("no scheme")),
    ] {
        assert_eq!(parse_http_url(url), Err(want), "{url}");
    }
    let long = format!("http://pki/{}", "a".repeat(3000));
    assert_eq!(parse_http_url(&long), Err(UrlError::Malformed("too long")));
    // The scheme shown in the note is cleaned and short.
    let e = parse_http_url("java\u{1b}[31mscript:x")
        .unwrap_err()
        .to_string();
    assert!(!e.contains('\u{1b}'), "{e}");
}

#[test]
fn the_issuer_comes_from_the_chain_or_the_store_and_must_have_signed() {
    let ca1 = ca("rdpsweep Revocation CA");
    let leaf_der = leaf(&ca1, 0x1234);
    let l = leaf_info(&[leaf_der.clone(), ca1.der().to_vec()], &no_anchors).unwrap();
    assert_eq!(l.serial, vec![0x12, 0x34]);
    // Not sent: the trust store's key for that name.
    let ca_spki = {
        let (_, c) = X509Certificate::from_der(ca1.der()).unwrap();
        c.public_key().raw.to_vec()
    };
    let store = |_: &[u8]| vec![ca_spki.clone()];
    assert_eq!(leaf_info(std::slice::from_ref(&leaf_der), &store), Ok(l));
    assert_eq!(
        leaf_info(std::slice::from_ref(&leaf_der), &no_anchors),
        Err(LeafError::IssuerUnknown)
    );
    // Same name, other key: not the issuer.
    let twin = ca("rdpsweep Revocation CA");
    assert_eq!(
        leaf_info(&[leaf_der.clone(), twin.der().to_vec()], &no_anchors),
        Err(LeafError::IssuerUnknown)
    );
    assert_eq!(
        leaf_info(&[ca1.der().to_vec()], &no_anchors),
        Err(LeafError::SelfSigned)
    );
    assert_eq!(
        leaf_info(&[vec![0x30, 0x03, 0x02, 0x01, 0x01]], &no_anchors),
        Err(LeafError::Unparseable)
    );
    assert_eq!(leaf_info(&[], &no_anchors), Err(LeafError::Unparseable));
}

#[test]
fn crl_verdicts() {
    let ca1 = ca("rdpsweep Revocation CA");
    let l = leaf_of(&ca1, 0x1234);
    let fresh = |revoked: &[u64]| parse_crl(&crl(&ca1, revoked, NOW - 3600, NOW + 86_400)).unwrap();

    let v = fresh(&[7, 0x1234, 99]).check(&l, NOW);
    assert_eq!(v.status, RevocationStatus::Revoked, "{v:?}");
    assert_eq!(v.reason.as_deref(), Some("keyCompromise"));
    assert_eq!(
        v.revoked_at,
        Some(crate::clock::Timestamp::from_unix(NOW - 3600).to_rfc3339())
    );
    assert_eq!(
        fresh(&[7, 99]).check(&l, NOW).status,
        RevocationStatus::Good
    );
    assert_eq!(fresh(&[]).check(&l, NOW).status, RevocationStatus::Good);

    // Expired, and not yet valid.
    let old = parse_crl(&crl(&ca1, &[], NOW - 86_400 * 10, NOW - 86_400)).unwrap();
    let v = old.check(&l, NOW);
    assert_eq!(v.status, RevocationStatus::Unusable);
    assert!(v.error.unwrap_or_default().contains("expired"));
    let future = parse_crl(&crl(&ca1, &[], NOW + 86_400, NOW + 86_400 * 2)).unwrap();
    assert!(
        future
            .check(&l, NOW)
            .error
            .unwrap_or_default()
            .contains("not valid yet")
    );

    // Same issuer name, another key: signed by someone else, even when it lists the serial.
    let twin = ca("rdpsweep Revocation CA");
    let forged = parse_crl(&crl(&twin, &[0x1234], NOW - 3600, NOW + 86_400)).unwrap();
    let v = forged.check(&l, NOW);
    assert_eq!(v.status, RevocationStatus::Unusable);
    assert!(
        v.error
            .unwrap_or_default()
            .contains("signed by someone else")
    );
    // Twice: the memoised verdict agrees.
    assert_eq!(forged.check(&l, NOW).status, RevocationStatus::Unusable);
    let other = ca("Another CA");
    let v = parse_crl(&crl(&other, &[0x1234], NOW - 3600, NOW + 86_400))
        .unwrap()
        .check(&l, NOW);
    assert!(v.error.unwrap_or_default().contains("another CA"));
}

#[test]
fn hostile_crl_bytes_are_errors() {
    let ca1 = ca("rdpsweep Revocation CA");
    let good = crl(&ca1, &[1, 2, 3], NOW - 3600, NOW + 86_400);
    let pem = format!(
        "-----BEGIN X509 CRL-----\n{}\n-----END X509 CRL-----\n",
        hex::encode(&good)
    );
    for bad in [
        Vec::new(),
        b"<html>404</html>".to_vec(),
        pem.into_bytes(),
        vec![0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF, 0x30],
        vec![0x30; 4096],
    ] {
        assert!(
            matches!(parse_crl(&bad), Err(CrlError::NotDer(_))),
            "{bad:?}"
        );
    }
    for cut in [1, good.len() / 2, good.len() - 1] {
        assert!(parse_crl(&good[..cut]).is_err(), "cut at {cut}");
    }
    // Every single-byte corruption: an error or a CRL whose signature fails, never a panic.
    let l = leaf_of(&ca1, 2);
    for i in 0..good.len() {
        let mut b = good.clone();
        b[i] ^= 0x55;
        if let Ok(c) = parse_crl(&b) {
            assert_ne!(
                c.check(&l, NOW).status,
                RevocationStatus::Revoked,
                "byte {i}"
            );
        }
    }
}

/// A BasicOCSPResponse for `leaf` with `status` (the CertStatus TLV), signed by `key`.
fn ocsp_response(leaf: &Leaf, status: Vec<u8>, next_update: Option<i64>, key: &KeyPair) -> Vec<u8> {
    let gt = gt_raw;
    let (name_hash, key_hash) = cert_id_hashes(leaf, false);
    let cert_id = der(
        0x30,
        &[
            der(0x30, &[der(0x06, OID_SHA1), vec![0x05, 0x00]].concat()),
            der(0x04, &name_hash),
            der(0x04, &key_hash),
            serial_der(&leaf.serial),
        ]
        .concat(),
    );
    let mut single = [cert_id, status, gt(NOW - 60)].concat();
    if let Some(n) = next_update {
        single.extend(der(0xA0, &gt(n)));
    }
    let data = der(
        0x30,
        &[
            der(0xA2, &der(0x04, &key_hash)),
            gt(NOW - 60),
            der(0x30, &der(0x30, &single)),
        ]
        .concat(),
    );
    // ecdsa-with-SHA256 (rcgen's default key is P-256).
    let alg = der(
        0x30,
        &der(0x06, &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02]),
    );
    let sig = key.sign(&data).unwrap();
    let basic = der(
        0x30,
        &[data, alg, der(0x03, &[&[0u8][..], &sig].concat())].concat(),
    );
    let bytes = der(
        0x30,
        &[der(0x06, OID_OCSP_BASIC), der(0x04, &basic)].concat(),
    );
    der(0x30, &[vec![0x0A, 0x01, 0x00], der(0xA0, &bytes)].concat())
}

#[test]
fn ocsp_request_carries_the_cert_id() {
    let ca1 = ca("rdpsweep Revocation CA");
    let l = leaf_of(&ca1, 0x80_01);
    let req = ocsp_request(&l);
    // OCSPRequest > TBSRequest > requestList > Request > CertID
    let mut inner: &[u8] = &req;
    for _ in 0..5 {
        let (_, tag, contents, _) = tlv(inner).unwrap();
        assert_eq!(tag, Tag::Sequence);
        inner = contents;
    }
    let whole = der(0x30, inner);
    assert!(cert_id_matches(tlv(&whole).unwrap().2, &l));
    // The serial's top bit is set: encoded with a leading zero, read back without it.
    assert!(req.ends_with(&[0x02, 0x03, 0x00, 0x80, 0x01]));
}

#[test]
fn ocsp_verdicts() {
    let issuer = ca("rdpsweep OCSP CA");
    let l = leaf_of(&issuer, 42);
    let key: &KeyPair = issuer.key();
    let good = ocsp_response(&l, vec![0x80, 0x00], Some(NOW + 3600), key);
    assert_eq!(ocsp_check(&good, &l, NOW).status, RevocationStatus::Good);

    let revoked_info = [gt_raw(NOW - 7200), der(0xA0, &[0x0A, 0x01, 0x01])].concat();
    let revoked = ocsp_response(&l, der(0xA1, &revoked_info), None, key);
    let v = ocsp_check(&revoked, &l, NOW);
    assert_eq!(v.status, RevocationStatus::Revoked, "{v:?}");
    assert_eq!(v.reason.as_deref(), Some("keyCompromise"));
    assert_eq!(
        v.revoked_at,
        Some(crate::clock::Timestamp::from_unix(NOW - 7200).to_rfc3339())
    );

    let unknown = ocsp_response(&l, vec![0x82, 0x00], None, key);
    assert!(
        ocsp_check(&unknown, &l, NOW)
            .error
            .unwrap_or_default()
            .contains("unknown")
    );
    let stale = ocsp_response(&l, vec![0x80, 0x00], Some(NOW - 86_400), key);
    assert!(
        ocsp_check(&stale, &l, NOW)
            .error
            .unwrap_or_default()
            .contains("expired")
    );

    // Signed by a stranger: not trusted, whatever it says.
    let stranger = KeyPair::generate().unwrap();
    let forged = ocsp_response(&l, der(0xA1, &gt_raw(NOW)), None, &stranger);
    let v = ocsp_check(&forged, &l, NOW);
    assert_eq!(v.status, RevocationStatus::Unusable);
    assert!(v.error.unwrap_or_default().contains("not trusted"));

    // An answer about another certificate of the same CA.
    let other = leaf_of(&issuer, 43);
    let v = ocsp_check(&good, &other, NOW);
    assert!(
        v.error
            .clone()
            .unwrap_or_default()
            .contains("does not answer"),
        "{v:?}"
    );

    // Error statuses and garbage.
    let try_later = der(0x30, &[0x0A, 0x01, 0x03]);
    assert!(
        ocsp_check(&try_later, &l, NOW)
            .error
            .unwrap_or_default()
            .contains("tryLater")
    );
    for bad in [
        Vec::new(),
        b"HTTP/1.1 200 OK".to_vec(),
        vec![0x30, 0x80, 0x0A, 0x01, 0x00, 0x00, 0x00],
        vec![0x30, 0x03, 0x0A, 0x01, 0x00],
        good[..good.len() - 3].to_vec(),
    ] {
        assert_eq!(
            ocsp_check(&bad, &l, NOW).status,
            RevocationStatus::Unusable,
            "{bad:?}"
        );
    }
    for i in 0..good.len() {
        let mut b = good.clone();
        b[i] ^= 0xA5;
        let v = ocsp_check(&b, &l, NOW);
        assert_ne!(v.status, RevocationStatus::Revoked, "byte {i}");
    }
}

fn gt_raw(t: i64) -> Vec<u8> {
    let s = OffsetDateTime::from_unix_timestamp(t).unwrap();
    let text = format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}Z",
        s.year(),
        u8::from(s.month()),
        s.day(),
        s.hour(),
        s.minute(),
        s.second()
    );
    der(0x18, text.as_bytes())
}

#[test]
fn spki_in_both_encodings() {
    let ca1 = ca("x");
    let (_, c) = X509Certificate::from_der(ca1.der()).unwrap();
    let whole = c.public_key().raw;
    let a = spki_from_der(whole).unwrap();
    let (_, _, contents, _) = tlv(whole).unwrap();
    assert_eq!(spki_from_der(contents), Some(a));
    assert_eq!(spki_from_der(&[0x30, 0x00]), None);
    assert_eq!(spki_from_der(&[]), None);
}
