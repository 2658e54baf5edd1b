use super::*;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use time::macros::datetime;

const NOW: i64 = 1_795_300_000; // 2026-11-21

fn pem_der(pem: &str) -> Vec<u8> {
    let mut reader = pem.as_bytes();
    let mut certs = rustls_pemfile::certs(&mut reader);
    certs.next().expect("one cert").expect("pem").to_vec()
}

const RSA2048: &str = include_str!("../tests/fixtures/rsa2048.pem");
const RSA1024: &str = include_str!("../tests/fixtures/rsa1024.pem");
/// sha1WithRSAEncryption leaf issued by RSA2048 (which is a CA:TRUE self-signed cert).
const SHA1_LEAF: &str = include_str!("../tests/fixtures/sha1-leaf.pem");

fn dn(cn: &str) -> DistinguishedName {
    let mut d = DistinguishedName::new();
    d.push(DnType::OrganizationName, "rdpsweep test");
    d.push(DnType::CommonName, cn);
    d
}

fn leaf_params(cn: &str, sans: &[&str]) -> CertificateParams {
    let mut p = CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .expect("params");
    p.distinguished_name = dn(cn);
    p.not_before = datetime!(2025-01-01 0:00 UTC);
    p.not_after = datetime!(2027-01-01 0:00 UTC);
    p
}

struct Ca {
    params: CertificateParams,
    key: KeyPair,
    der: Vec<u8>,
}

fn ca(cn: &str) -> Ca {
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name = dn(cn);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = datetime!(2000-01-01 0:00 UTC);
    params.not_after = datetime!(2040-01-01 0:00 UTC);
    let der = params.self_signed(&key).expect("ca").der().to_vec();
    Ca { params, key, der }
}

fn sign(leaf: &CertificateParams, by: &Ca) -> Vec<u8> {
    let key = KeyPair::generate().expect("key");
    let issuer = Issuer::new(by.params.clone(), &by.key);
    leaf.signed_by(&key, &issuer)
        .expect("signed")
        .der()
        .to_vec()
}

fn store_with(der: &[u8]) -> TrustStore {
    let mut s = TrustStore::empty();
    s.add_der(der).expect("anchor");
    s
}

#[test]
fn self_signed_ec_leaf_facts() {
    let key = KeyPair::generate().expect("key");
    let params = leaf_params("srv01.corp.example", &["srv01.corp.example", "192.0.2.7"]);
    let der = params.self_signed(&key).expect("cert").der().to_vec();
    let f = cert_facts(std::slice::from_ref(&der), &TrustStore::empty(), NOW);
    assert_eq!(f.subject, "CN=srv01.corp.example,O=rdpsweep test");
    assert_eq!(f.issuer, f.subject);
    assert_eq!(f.sans, vec!["DNS:srv01.corp.example", "IP:192.0.2.7"]);
    assert_eq!(f.not_before, "2025-01-01T00:00:00Z");
    assert_eq!(f.not_after, "2027-01-01T00:00:00Z");
    assert_eq!(f.not_before_unix, 1_735_689_600);
    assert_eq!(f.not_after_unix, 1_798_761_600);
    assert_eq!((f.key.as_str(), f.key_bits), ("EC-P256", 256));
    assert_eq!(f.sig_alg, "ecdsa-with-SHA256");
    assert!(f.self_signed);
    assert!(!f.trusted);
    assert_eq!(f.trust_error.as_deref(), Some("unknown issuer"));
    assert_eq!(f.chain_len, 1);
    assert_eq!(f.parse_error, None);
    assert_eq!(f.sha256.len(), 64);
    assert!(
        f.sha256
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
    );
    assert_eq!((f.name_match, f.checked_name.as_deref()), (None, None));
    // The self-signed certificate is trusted once it is itself an anchor.
    assert!(cert_facts(std::slice::from_ref(&der), &store_with(&der), NOW).trusted);
}

#[test]
fn ca_signed_leaf_trusted_only_with_its_ca() {
    let root = ca("Corp Root CA");
    let der = sign(
        &leaf_params("rdp1.corp.example", &["rdp1.corp.example"]),
        &root,
    );
    let chain = vec![der];
    let trusted = cert_facts(&chain, &store_with(&root.der), NOW);
    assert!(trusted.trusted, "{:?}", trusted.trust_error);
    assert_eq!(trusted.trust_error, None);
    assert!(!trusted.self_signed);
    assert_eq!(trusted.issuer, "CN=Corp Root CA,O=rdpsweep test");

    let untrusted = cert_facts(&chain, &TrustStore::empty(), NOW);
    assert!(!untrusted.trusted);
    assert_eq!(untrusted.trust_error.as_deref(), Some("unknown issuer"));
    let other = ca("Other Root");
    assert!(!cert_facts(&chain, &store_with(&other.der), NOW).trusted);
}

#[test]
fn intermediate_from_the_chain_is_used() {
    let root = ca("Root");
    let mut inter = ca("Issuing CA");
    inter.der = sign_ca(&inter, &root);
    let leaf = sign(&leaf_params("h.corp.example", &["h.corp.example"]), &inter);
    let store = store_with(&root.der);
    let with = cert_facts(&[leaf.clone(), inter.der.clone()], &store, NOW);
    assert!(with.trusted, "{:?}", with.trust_error);
    assert_eq!(with.chain_len, 2);
    let without = cert_facts(&[leaf], &store, NOW);
    assert_eq!(without.trust_error.as_deref(), Some("unknown issuer"));
}

/// Re-issues `child`'s CA certificate under `parent`, keeping `child`'s key.
fn sign_ca(child: &Ca, parent: &Ca) -> Vec<u8> {
    let issuer = Issuer::new(parent.params.clone(), &parent.key);
    child
        .params
        .signed_by(&child.key, &issuer)
        .expect("signed")
        .der()
        .to_vec()
}

#[test]
fn expired_leaf_is_still_trusted_and_dated() {
    let root = ca("Root");
    let mut p = leaf_params("old.corp.example", &["old.corp.example"]);
    p.not_before = datetime!(2010-01-01 0:00 UTC);
    p.not_after = datetime!(2011-01-01 0:00 UTC);
    let f = cert_facts(&[sign(&p, &root)], &store_with(&root.der), NOW);
    assert!(
        f.trusted,
        "expiry is judged by diagnose: {:?}",
        f.trust_error
    );
    assert_eq!(f.not_after, "2011-01-01T00:00:00Z");
    assert!(f.not_after_unix < NOW);
}

#[test]
fn rdp_authentication_eku_counts_as_server_auth() {
    let root = ca("Root");
    let mut p = leaf_params("t.corp.example", &["t.corp.example"]);
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::Other(vec![
        1, 3, 6, 1, 4, 1, 311, 54, 1, 2,
    ])];
    let f = cert_facts(&[sign(&p, &root)], &store_with(&root.der), NOW);
    assert!(f.trusted, "{:?}", f.trust_error);

    assert!(eku_allows_rdp(&f));
    assert_eq!(f.eku, Some(vec!["1.3.6.1.4.1.311.54.1.2".to_string()]));

    // clientAuth only: the chain is trusted (the CA is fine), the EKU is what is wrong.
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let f = cert_facts(&[sign(&p, &root)], &store_with(&root.der), NOW);
    assert!(f.trusted, "{:?}", f.trust_error);
    assert!(!eku_allows_rdp(&f));
    // ...and without the CA it is untrusted for the chain's own reason.
    let f = cert_facts(&[sign(&p, &root)], &TrustStore::empty(), NOW);
    assert_eq!(f.trust_error.as_deref(), Some("unknown issuer"));
    assert!(!eku_allows_rdp(&f));
}

#[test]
fn issuing_ca_eku_restriction_is_a_trust_error() {
    let root = ca("Root");
    let mut inter = ca("Issuing CA");
    inter.params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    inter.der = sign_ca(&inter, &root);
    let mut p = leaf_params("h.corp.example", &["h.corp.example"]);
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf = sign(&p, &inter);
    let f = cert_facts(&[leaf, inter.der.clone()], &store_with(&root.der), NOW);
    assert!(!f.trusted);
    assert!(
        f.trust_error
            .as_deref()
            .is_some_and(|e| e.contains("issuing CA")),
        "{:?}",
        f.trust_error
    );
}

#[test]
fn windows_style_self_signed_is_not_wrong_eku() {
    // Like Windows' RDP certificate: KU keyEncipherment + dataEncipherment, EKU serverAuth.
    let mut p = leaf_params("WIN-HOST", &[]);
    p.key_usages = vec![
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::DataEncipherment,
    ];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate().expect("key");
    let der = p.self_signed(&key).expect("cert").der().to_vec();
    let f = cert_facts(&[der], &TrustStore::empty(), NOW);
    assert!(f.self_signed);
    assert!(eku_allows_rdp(&f));
    assert_eq!(f.key_usage, vec!["keyEncipherment", "dataEncipherment"]);
    assert_eq!(f.eku, Some(vec!["1.3.6.1.5.5.7.3.1".to_string()]));
    assert!(!f.serial.is_empty());
    assert_eq!(
        eku_display("1.3.6.1.5.5.7.3.1"),
        "serverAuth(1.3.6.1.5.5.7.3.1)"
    );
}

/// DER of a custom extension value.
fn custom_ext(oid: &[u64], value: Vec<u8>) -> rcgen::CustomExtension {
    rcgen::CustomExtension::from_oid_content(oid, value)
}

#[test]
fn template_cdp_aia_are_read_capped_and_cleaned() {
    let root = ca("Root");
    let mut p = leaf_params("t.corp.example", &["t.corp.example"]);
    // Template name "RDP" as BMPString; template OID 1.3.6.1.4.1.311.21.8.1 v100.3.
    p.custom_extensions.push(custom_ext(
        &[1, 3, 6, 1, 4, 1, 311, 20, 2],
        vec![0x1E, 0x06, 0, b'R', 0, b'D', 0, b'P'],
    ));
    let oid = [0x2B, 6, 1, 4, 1, 0x82, 0x37, 0x15, 0x08, 0x01];
    let mut info = vec![0x06, oid.len() as u8];
    info.extend_from_slice(&oid);
    info.extend_from_slice(&[0x02, 0x01, 100, 0x02, 0x01, 3]);
    let mut seq = vec![0x30, info.len() as u8];
    seq.extend(info);
    p.custom_extensions
        .push(custom_ext(&[1, 3, 6, 1, 4, 1, 311, 21, 7], seq));
    // A CDP with 10,000 URIs, one with control characters: capped, escaped.
    let mut names = Vec::new();
    let bad = b"http://x/\x07\n\x1b[31mjavascript:alert(1)";
    names.push(0x86);
    names.push(bad.len() as u8);
    names.extend_from_slice(bad);
    for i in 0..10_000u32 {
        let u = format!("http://crl{i}.example/c.crl");
        names.push(0x86);
        names.push(u.len() as u8);
        names.extend_from_slice(u.as_bytes());
    }
    // DistributionPoint { [0] { [0] GeneralNames } } inside SEQUENCE OF.
    let der_len = |n: usize| -> Vec<u8> {
        if n < 0x80 {
            vec![n as u8]
        } else {
            let b = (n as u32).to_be_bytes();
            let skip = b.iter().take_while(|x| **x == 0).count();
            let mut v = vec![0x80 | (4 - skip) as u8];
            v.extend_from_slice(&b[skip..]);
            v
        }
    };
    let wrap = |tag: u8, inner: Vec<u8>| {
        let mut v = vec![tag];
        v.extend(der_len(inner.len()));
        v.extend(inner);
        v
    };
    let cdp = wrap(0x30, wrap(0x30, wrap(0xA0, wrap(0xA0, names))));
    p.custom_extensions.push(custom_ext(&[2, 5, 29, 31], cdp));
    let f = cert_facts(&[sign(&p, &root)], &store_with(&root.der), NOW);
    assert_eq!(
        f.template.as_deref(),
        Some("RDP 1.3.6.1.4.1.311.21.8.1 v100.3")
    );
    assert_eq!(
        f.crl_urls.len(),
        ext::MAX_LIST + 1,
        "capped plus the overflow note"
    );
    assert!(f.crl_urls.iter().all(|u| !u.chars().any(char::is_control)));
    assert_eq!(
        f.crl_urls.first().map(String::as_str),
        Some(r"http://x/\x07\x0A\x1B[31mjavascript:alert(1)")
    );
    assert_eq!(
        f.crl_urls.last().map(String::as_str),
        Some(format!("(+{} more)", 10_001 - ext::MAX_LIST).as_str())
    );
}

#[test]
fn garbage_eku_is_malformed_and_wrong() {
    let root = ca("Root");
    let mut p = leaf_params("t.corp.example", &["t.corp.example"]);
    // SEQUENCE { INTEGER 5 } where OIDs belong.
    p.custom_extensions.push(custom_ext(
        &[2, 5, 29, 37],
        vec![0x30, 0x03, 0x02, 0x01, 0x05],
    ));
    let f = cert_facts(&[sign(&p, &root)], &store_with(&root.der), NOW);
    assert_eq!(f.eku, Some(vec![EKU_MALFORMED.to_string()]));
    assert!(!eku_allows_rdp(&f));
}

#[test]
fn missing_intermediate_is_told_apart() {
    let root = ca("Root");
    let mut inter = ca("Issuing CA");
    inter.der = sign_ca(&inter, &root);
    let leaf = sign(&leaf_params("h.corp.example", &["h.corp.example"]), &inter);
    // The store holds the intermediate (and the root): trusted, but the server should send it.
    let mut store = store_with(&root.der);
    store.add_der(&inter.der).expect("intermediate");
    let f = cert_facts(std::slice::from_ref(&leaf), &store, NOW);
    assert!(f.trusted, "{:?}", f.trust_error);
    assert!(
        f.missing_issuer
            .as_deref()
            .is_some_and(|m| m.contains("trust store"))
    );
    // Sent: complete.
    let f = cert_facts(&[leaf.clone(), inter.der.clone()], &store, NOW);
    assert_eq!(f.missing_issuer, None);
    // Neither stored nor named by AIA: plain unknown issuer.
    let f = cert_facts(std::slice::from_ref(&leaf), &store_with(&root.der), NOW);
    assert_eq!(f.missing_issuer, None);
    assert_eq!(f.trust_error.as_deref(), Some("unknown issuer"));
}

#[test]
fn same_name_signed_by_another_key_is_not_self_signed() {
    let root = ca("SRV09");
    let mut p = leaf_params("SRV09", &[]);
    p.distinguished_name = root.params.distinguished_name.clone();
    let f = cert_facts(&[sign(&p, &root)], &TrustStore::empty(), NOW);
    assert_eq!(f.subject, f.issuer);
    assert!(!f.self_signed);
}

#[test]
fn rsa_fixtures() {
    let der = pem_der(RSA2048);
    let f = cert_facts(std::slice::from_ref(&der), &TrustStore::empty(), NOW);
    assert_eq!((f.key.as_str(), f.key_bits), ("RSA-2048", 2048));
    assert_eq!(f.sig_alg, "sha256WithRSAEncryption");
    assert_eq!(f.subject, "CN=legacy-lab,O=rdpsweep test");
    assert_eq!(f.sans, vec!["DNS:legacy-lab", "IP:127.0.0.1"]);
    assert!(f.self_signed);
    // Thumbprints as `openssl x509 -fingerprint` printed them for this file.
    assert_eq!(f.sha1, "8A5572ED870A51DF958C5837273663BEFAAB4FAA");
    assert_eq!(
        f.sha256,
        "27D6AF1C19FD83C3238CDB33DC10200AD63BF0E55172304A0CD7C295B3A5C52B"
    );
    assert!(!is_weak_key(&f) && !is_weak_sig(&f));
    // openssl req -x509 makes a CA:TRUE certificate: trusted only because it is pinned.
    assert!(cert_facts(std::slice::from_ref(&der), &store_with(&der), NOW).trusted);
    let other = ca("Other Root");
    assert_eq!(
        cert_facts(std::slice::from_ref(&der), &store_with(&other.der), NOW)
            .trust_error
            .as_deref(),
        Some("CA certificate used as server certificate")
    );

    let weak = cert_facts(&[pem_der(RSA1024)], &TrustStore::empty(), NOW);
    assert_eq!((weak.key.as_str(), weak.key_bits), ("RSA-1024", 1024));
    assert!(is_weak_key(&weak));
    assert!(!is_weak_sig(&weak));
    assert!(
        weak.self_signed,
        "decided by names when webpki cannot verify"
    );
    assert_eq!(weak.sha1, "A09E5AE41227F3A76418599B0ADE51E5F831ABDC");

    let sha1_der = pem_der(SHA1_LEAF);
    let sha1 = cert_facts(std::slice::from_ref(&sha1_der), &store_with(&der), NOW);
    assert_eq!(sha1.sig_alg, "sha1WithRSAEncryption");
    assert_eq!(sha1.issuer, "CN=legacy-lab,O=rdpsweep test");
    assert!(is_weak_sig(&sha1));
    assert!(!is_weak_key(&sha1));
    assert!(!sha1.self_signed);
    assert!(!sha1.trusted);
    assert_eq!(
        sha1.trust_error.as_deref(),
        Some("unsupported signature algorithm or key size")
    );
    assert_eq!(sha1.sha1, "96983A2081C7338093D5C411E5800DBD2593C874");
    // Pinned: the leaf itself in the store is trusted whatever its signature.
    assert!(cert_facts(std::slice::from_ref(&sha1_der), &store_with(&sha1_der), NOW).trusted);
}

#[test]
fn garbage_and_empty_chains() {
    let junk = vec![0x30, 0x82, 0xFF, 0xFF, 0x01];
    let f = cert_facts(std::slice::from_ref(&junk), &TrustStore::empty(), NOW);
    assert!(
        f.parse_error
            .as_deref()
            .is_some_and(|e| e.starts_with("leaf certificate"))
    );
    assert_eq!(f.sha256, hex::encode_upper(Sha256::digest(&junk)));
    assert_eq!(f.sha1.len(), 40);
    assert!(!f.trusted && !f.self_signed);
    assert_eq!(f.chain_len, 1);

    let none = cert_facts(&[], &TrustStore::empty(), NOW);
    assert!(none.parse_error.is_some());
    assert_eq!(none.chain_len, 0);

    // Truncations of a real certificate never panic and never parse as trusted.
    let der = pem_der(RSA2048);
    for n in 0..der.len() {
        let f = cert_facts(&[der[..n].to_vec()], &store_with(&der), NOW);
        assert!(!f.trusted);
    }
    // Single-byte corruptions never panic.
    for i in (0..der.len()).step_by(7) {
        let mut bad = der.clone();
        bad[i] ^= 0x5A;
        let _ = cert_facts(&[bad, vec![0xFF; 3]], &store_with(&der), NOW);
    }
}

fn facts_with(subject: &str, sans: &[&str]) -> CertFacts {
    CertFacts {
        subject: subject.to_string(),
        sans: sans.iter().map(|s| s.to_string()).collect(),
        ..CertFacts::default()
    }
}

#[test]
fn wildcards_follow_rfc6125() {
    let f = facts_with("CN=ignored.example", &["DNS:*.corp.example"]);
    assert!(name_matches(&f, "srv1.corp.example"));
    assert!(name_matches(&f, "SRV1.Corp.Example.")); // case and trailing dot
    assert!(!name_matches(&f, "a.b.corp.example")); // one label only
    assert!(!name_matches(&f, "corp.example"));
    assert!(!name_matches(&f, "ignored.example")); // CN unused when DNS SANs exist
    assert!(!name_matches(
        &facts_with("", &["DNS:*.com"]),
        "example.com"
    ));
    assert!(!name_matches(
        &facts_with("", &["DNS:srv*.corp.example"]),
        "srv1.corp.example"
    ));
    assert!(!name_matches(
        &facts_with("", &["DNS:a.*.example"]),
        "a.b.example"
    ));
}

#[test]
fn cn_is_used_without_dns_sans_and_short_names_match() {
    // Off-domain Windows default certificate: CN = NetBIOS name.
    let netbios = facts_with("CN=SRV01", &[]);
    assert!(name_matches(&netbios, "srv01"));
    assert!(name_matches(&netbios, "srv01.corp.example"));
    assert!(!name_matches(&netbios, "srv02.corp.example"));
    assert!(!name_matches(&netbios, "srv011.corp.example"));
    // Domain member: CN = FQDN, inventory lists the short name.
    let fqdn = facts_with("CN=srv01.corp.example", &["IP:10.0.0.1"]);
    assert!(name_matches(&fqdn, "SRV01"));
    assert!(name_matches(&fqdn, "srv01.corp.example"));
    assert!(!name_matches(&fqdn, "srv01.other.example"));
    assert!(!name_matches(&fqdn, "srv02"));
    // The short-name rule is for CNs only, not for SANs.
    assert!(!name_matches(
        &facts_with("", &["DNS:srv01"]),
        "srv01.corp.example"
    ));
    assert!(!name_matches(&facts_with("CN=", &[]), "x.example"));
    assert!(!name_matches(&netbios, ""));
}

#[test]
fn ip_names() {
    let f = facts_with(
        "CN=host",
        &["DNS:host.example", "IP:192.0.2.7", "IP:2001:db8::1"],
    );
    assert!(ip_matches(&f, "192.0.2.7".parse().expect("ip")));
    assert!(ip_matches(&f, "::ffff:192.0.2.7".parse().expect("ip")));
    assert!(ip_matches(&f, "2001:db8::1".parse().expect("ip")));
    assert!(!ip_matches(&f, "192.0.2.8".parse().expect("ip")));
    assert!(name_matches(&f, "192.0.2.7"));
    assert!(!name_matches(&f, "10.0.0.1"));
    // Legacy: IP in the CN counts only when there are no SANs at all.
    let cn_ip = facts_with("CN=10.1.2.3", &[]);
    assert!(ip_matches(&cn_ip, "10.1.2.3".parse().expect("ip")));
    assert!(!ip_matches(
        &facts_with("CN=10.1.2.3", &["DNS:x"]),
        "10.1.2.3".parse().expect("ip")
    ));
}

#[test]
fn rfc4514_escaping_round_trips() {
    let key = KeyPair::generate().expect("key");
    let mut p = leaf_params("x", &[]);
    let mut d = DistinguishedName::new();
    d.push(DnType::CountryName, "DE");
    d.push(DnType::CommonName, " Doe, John+Jr <srv> ");
    p.distinguished_name = d;
    let der = p.self_signed(&key).expect("cert").der().to_vec();
    let f = cert_facts(&[der], &TrustStore::empty(), NOW);
    assert_eq!(f.subject, r"CN=\ Doe\, John\+Jr \<srv\>\ ,C=DE");
    assert_eq!(dn_values(&f.subject, "CN"), vec![" Doe, John+Jr <srv> "]);
    assert_eq!(dn_values(&f.subject, "c"), vec!["DE"]);
    assert_eq!(escape_value("a\u{1}b"), r"a\01b");
    assert_eq!(escape_value("#x"), r"\#x");
    assert_eq!(dn_values(r"CN=a\01b", "CN"), vec!["a\u{1}b"]);
    assert_eq!(dn_values("1.2.3=#0403616263,CN=z", "CN"), vec!["z"]);
    assert_eq!(dn_values("CN=#0403616263", "CN"), Vec::<String>::new());
    assert_eq!(dn_values(r"CN=\#1+CN=b,O=c", "cn"), vec!["#1", "b"]);
    assert_eq!(dn_values(r"CN=trailing\", "CN"), vec!["trailing"]);
    assert_eq!(dn_values("", "CN"), Vec::<String>::new());
}

#[test]
fn weak_classes() {
    let mut f = CertFacts {
        key: "EC-P256".into(),
        key_bits: 256,
        ..CertFacts::default()
    };
    assert!(!is_weak_key(&f));
    f.key = "EC-P192".into();
    f.key_bits = 192;
    assert!(is_weak_key(&f));
    f.key = "Ed25519".into();
    f.key_bits = 256;
    assert!(!is_weak_key(&f));
    f.key = "RSA-0".into();
    f.key_bits = 0;
    assert!(!is_weak_key(&f));
    for (alg, weak) in [
        ("md5WithRSAEncryption", true),
        ("md2WithRSAEncryption", true),
        ("ecdsa-with-SHA1", true),
        ("rsassaPss-SHA1", true),
        ("sha256WithRSAEncryption", false),
        ("ecdsa-with-SHA384", false),
    ] {
        f.sig_alg = alg.into();
        assert_eq!(is_weak_sig(&f), weak, "{alg}");
    }
}

#[test]
fn bit_lengths() {
    assert_eq!(bit_len(&[]), 0);
    assert_eq!(bit_len(&[0, 0]), 0);
    assert_eq!(bit_len(&[0x00, 0x80, 0x00]), 16); // DER sign byte skipped
    assert_eq!(bit_len(&[0x01, 0xFF]), 9);
}

#[test]
fn trust_store_bundle_errors_name_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope.pem");
    let e = TrustStore::empty()
        .add_pem_file(&missing)
        .expect_err("missing");
    assert!(matches!(e, TrustError::Open { .. }), "{e:?}");
    assert!(e.to_string().contains("nope.pem"), "{e}");
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a pem\n").expect("write");
    let e = TrustStore::empty()
        .add_pem_file(&empty)
        .expect_err("no certs");
    assert!(matches!(e, TrustError::Empty { .. }), "{e:?}");
    let e = e.to_string();
    assert!(
        e.contains("empty.pem") && e.contains("no PEM certificates"),
        "{e}"
    );

    let bundle = dir.path().join("bundle.pem");
    std::fs::write(&bundle, format!("{RSA2048}{RSA1024}")).expect("write");
    let mut s = TrustStore::empty();
    assert_eq!(s.add_pem_file(&bundle), Ok(2));
    assert_eq!(s.len(), 2);
    let with = TrustStore::with_bundle(&bundle).expect("bundle");
    assert!(with.len() >= 2);
    assert!(TrustStore::with_bundle(&missing).is_err());
}

#[test]
fn pss_and_unknown_signature_names() {
    // AlgorithmIdentifier for RSASSA-PSS with SHA-256 parameters.
    #[rustfmt::skip]
    let pss: &[u8] = &[
        0x30, 0x41,                                     // AlgorithmIdentifier, 65 bytes
        0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0A, // rsassaPss
        0x30, 0x34,                                     // RSASSA-PSS-params, 52 bytes
        0xA0, 0x0F, 0x30, 0x0D,                         // [0] hashAlgorithm
        0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, //   sha256
        0x05, 0x00,                                     //   NULL
        0xA1, 0x1C, 0x30, 0x1A,                         // [1] maskGenAlgorithm
        0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x08, //   mgf1
        0x30, 0x0D,                                     //   its hash:
        0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, //   sha256
        0x05, 0x00,                                     //   NULL
        0xA2, 0x03, 0x02, 0x01, 0x20,                   // [2] saltLength 32
    ];
    let (_, alg) = AlgorithmIdentifier::from_der(pss).expect("parses");
    assert_eq!(sig_alg_name(&alg), "rsassaPss-SHA256");
    #[rustfmt::skip]
    let unknown: &[u8] = &[
        0x30, 0x05,                   // AlgorithmIdentifier
        0x06, 0x03, 0x2A, 0x03, 0x04, // OID 1.2.3.4
    ];
    let (_, alg) = AlgorithmIdentifier::from_der(unknown).expect("parses");
    assert_eq!(sig_alg_name(&alg), "1.2.3.4");
}
