//! Certificate facts (x509-parser) and chain trust (rustls-webpki) for the RDP leaf.
//!
//! Everything here reads server-controlled bytes: nothing panics, unparseable DER still
//! yields thumbprints, and names are kept as text for `diagnose` to judge. Expiry is not
//! judged here: trust is checked at the leaf's own validity midpoint so that "untrusted"
//! and "expired" stay separate findings.

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, TrustAnchor, UnixTime};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use webpki::{EndEntityCert, KeyUsage};
use x509_parser::asn1_rs::ToDer;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;
use x509_parser::public_key::RSAPublicKey;
use x509_parser::signature_algorithm::SignatureAlgorithm;
use x509_parser::x509::{
    AlgorithmIdentifier, AttributeTypeAndValue, SubjectPublicKeyInfo, X509Name,
};

use crate::model::CertFacts;

/// Cap on a --ca-bundle file: far above any real bundle, bounds a mistaken path.
const MAX_BUNDLE_BYTES: u64 = 16 * 1024 * 1024;

/// Remote Desktop Authentication EKU (1.3.6.1.4.1.311.54.1.2), DER value bytes: template
/// certificates may carry it instead of serverAuth, and mstsc accepts either.
const EKU_RDP_AUTH: &[u8] = &[0x2B, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x36, 0x01, 0x02];

/// Trust anchors: system roots plus an optional enterprise PEM bundle. Built once per scan.
#[derive(Clone, Default)]
pub struct TrustStore {
    anchors: Vec<TrustAnchor<'static>>,
}

impl std::fmt::Debug for TrustStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustStore")
            .field("anchors", &self.anchors.len())
            .finish()
    }
}

impl TrustStore {
    /// No anchors: every chain is "unknown issuer".
    pub fn empty() -> TrustStore {
        TrustStore::default()
    }

    /// The platform's roots (rustls-native-certs). A missing or partly unreadable system store
    /// is not an error: whatever loads is used, possibly nothing.
    pub fn system() -> TrustStore {
        let loaded = rustls_native_certs::load_native_certs();
        let anchors = loaded
            .certs
            .iter()
            .filter_map(|c| webpki::anchor_from_trusted_cert(c).ok())
            .map(|a| a.to_owned())
            .collect();
        TrustStore { anchors }
    }

    /// System roots plus every certificate in the PEM file at `path`.
    pub fn with_bundle(path: &Path) -> Result<TrustStore, String> {
        let mut store = TrustStore::system();
        store.add_pem_file(path)?;
        Ok(store)
    }

    /// Adds every certificate of a PEM file; returns how many were added.
    pub fn add_pem_file(&mut self, path: &Path) -> Result<usize, String> {
        use std::io::Read;
        let shown = path.display();
        let file =
            std::fs::File::open(path).map_err(|e| format!("cannot open CA bundle {shown}: {e}"))?;
        let mut text = Vec::new();
        file.take(MAX_BUNDLE_BYTES + 1)
            .read_to_end(&mut text)
            .map_err(|e| format!("cannot read CA bundle {shown}: {e}"))?;
        if text.len() as u64 > MAX_BUNDLE_BYTES {
            return Err(format!(
                "CA bundle {shown} is larger than {MAX_BUNDLE_BYTES} bytes; pass a PEM file of CA certificates"
            ));
        }
        let mut added = 0usize;
        for (n, item) in rustls_pemfile::certs(&mut text.as_slice()).enumerate() {
            let der = item.map_err(|e| {
                format!(
                    "CA bundle {shown}: certificate {} is not valid PEM: {e}",
                    n + 1
                )
            })?;
            let anchor = webpki::anchor_from_trusted_cert(&der).map_err(|e| {
                format!(
                    "CA bundle {shown}: certificate {} is not a usable CA: {e}",
                    n + 1
                )
            })?;
            self.anchors.push(anchor.to_owned());
            added += 1;
        }
        if added == 0 {
            return Err(format!(
                "CA bundle {shown} holds no PEM certificates; expected -----BEGIN CERTIFICATE----- blocks"
            ));
        }
        Ok(added)
    }

    /// Adds one DER certificate as a trust anchor.
    pub fn add_der(&mut self, der: &[u8]) -> Result<(), String> {
        let der = CertificateDer::from(der);
        let anchor = webpki::anchor_from_trusted_cert(&der)
            .map_err(|e| format!("not a usable CA certificate: {e}"))?;
        self.anchors.push(anchor.to_owned());
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }
}

/// Facts about the leaf (first DER in `chain`). Never panics; unparseable DER gives a
/// `CertFacts` with `parse_error` set and the thumbprints still computed over the raw bytes.
/// `name_match`/`checked_name` are left `None` (the probe fills them with [`name_matches`] /
/// [`ip_matches`]). `now_unix` is the trust-check time only when the leaf's validity has no
/// usable midpoint (notAfter before notBefore).
pub fn cert_facts(chain: &[Vec<u8>], trust: &TrustStore, now_unix: i64) -> CertFacts {
    let mut facts = CertFacts {
        chain_len: u32::try_from(chain.len()).unwrap_or(u32::MAX),
        ..CertFacts::default()
    };
    let Some(leaf) = chain.first() else {
        facts.parse_error = Some("no certificate in chain".to_string());
        facts.trust_error = Some("no certificate".to_string());
        return facts;
    };
    facts.sha1 = hex::encode_upper(Sha1::digest(leaf));
    facts.sha256 = hex::encode_upper(Sha256::digest(leaf));

    let cert = match X509Certificate::from_der(leaf) {
        Ok((_, cert)) => cert,
        Err(e) => {
            facts.parse_error = Some(format!("leaf certificate: {e}"));
            facts.trust_error = Some("unparseable certificate".to_string());
            return facts;
        }
    };

    facts.subject = rfc4514(cert.subject());
    facts.issuer = rfc4514(cert.issuer());
    match cert.subject_alternative_name() {
        Ok(Some(san)) => {
            facts.sans = san
                .value
                .general_names
                .iter()
                .filter_map(san_text)
                .collect()
        }
        Ok(None) => {}
        Err(e) => facts.parse_error = Some(format!("subjectAltName: {e}")),
    }

    let validity = cert.validity();
    facts.not_before_unix = validity.not_before.timestamp();
    facts.not_after_unix = validity.not_after.timestamp();
    facts.not_before = rfc3339(validity.not_before.to_datetime());
    facts.not_after = rfc3339(validity.not_after.to_datetime());

    let (key, key_bits) = describe_key(cert.public_key());
    facts.key = key;
    facts.key_bits = key_bits;
    facts.sig_alg = sig_alg_name(&cert.signature_algorithm);
    facts.self_signed = is_self_signed(&cert, leaf);

    let at = trust_time(facts.not_before_unix, facts.not_after_unix, now_unix);
    match verify_chain(chain, trust, at) {
        Ok(()) => facts.trusted = true,
        Err(reason) => facts.trust_error = Some(reason.to_string()),
    }
    facts
}

/// The leaf's validity midpoint (or `now` when the period is inverted), as webpki time.
fn trust_time(not_before: i64, not_after: i64, now: i64) -> UnixTime {
    let at = if not_after >= not_before {
        let mid = (i128::from(not_before) + i128::from(not_after)) / 2;
        i64::try_from(mid).unwrap_or(now)
    } else {
        now
    };
    // webpki time cannot be before 1970; such certificates are judged at the epoch.
    UnixTime::since_unix_epoch(Duration::from_secs(u64::try_from(at).unwrap_or(0)))
}

fn verify_chain(chain: &[Vec<u8>], trust: &TrustStore, at: UnixTime) -> Result<(), &'static str> {
    let Some((leaf, rest)) = chain.split_first() else {
        return Err("no certificate");
    };
    let leaf = CertificateDer::from(leaf.as_slice());
    // A certificate that is itself in the store is trusted as is, like a pinned certificate
    // in Windows' Root store: even a v1 or CA:TRUE self-signed one, which webpki's path
    // building would refuse as an end entity.
    if let Ok(own) = webpki::anchor_from_trusted_cert(&leaf)
        && trust.anchors.iter().any(|a| {
            a.subject == own.subject && a.subject_public_key_info == own.subject_public_key_info
        })
    {
        return Ok(());
    }
    let ee = EndEntityCert::try_from(&leaf).map_err(webpki_reason)?;
    let intermediates: Vec<CertificateDer<'_>> = rest
        .iter()
        .map(|c| CertificateDer::from(c.as_slice()))
        .collect();
    let verify = |usage: KeyUsage| {
        ee.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &trust.anchors,
            &intermediates,
            at,
            usage,
            None,
            None,
        )
        .map(|_| ())
    };
    match verify(KeyUsage::server_auth()) {
        Ok(()) => Ok(()),
        Err(webpki::Error::RequiredEkuNotFoundContext(_)) => {
            verify(KeyUsage::required(EKU_RDP_AUTH)).map_err(|e| match e {
                // Report the first failure: neither EKU is present.
                webpki::Error::RequiredEkuNotFoundContext(_) => {
                    "not valid for server authentication"
                }
                other => webpki_reason(other),
            })
        }
        Err(e) => Err(webpki_reason(e)),
    }
}

/// A short reason for the report; by variant, never by message text.
#[allow(deprecated)] // the deprecated variants still have to be named
fn webpki_reason(e: webpki::Error) -> &'static str {
    use webpki::Error as E;
    match e {
        E::UnknownIssuer => "unknown issuer",
        E::CaUsedAsEndEntity => "CA certificate used as server certificate",
        E::InvalidSignatureForPublicKey => "bad signature",
        E::UnsupportedSignatureAlgorithm
        | E::UnsupportedSignatureAlgorithmContext(_)
        | E::UnsupportedSignatureAlgorithmForPublicKey
        | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
            "unsupported signature algorithm or key size"
        }
        E::RequiredEkuNotFound | E::RequiredEkuNotFoundContext(_) | E::EmptyEkuExtension => {
            "not valid for server authentication"
        }
        // The leaf is checked at its own midpoint, so these come from a CA certificate.
        E::CertExpired { .. } | E::CertNotValidYet { .. } => "issuer certificate out of validity",
        E::InvalidCertValidity => "invalid validity period",
        E::UnsupportedCertVersion => "unsupported certificate version",
        E::UnsupportedCriticalExtension => "unsupported critical extension",
        E::PathLenConstraintViolated | E::NameConstraintViolation => {
            "chain violates CA constraints"
        }
        E::EndEntityUsedAsCa => "server certificate used as CA",
        E::CertDistrusted => "distrusted key",
        E::MaximumPathBuildCallsExceeded
        | E::MaximumPathDepthExceeded
        | E::MaximumSignatureChecksExceeded
        | E::MaximumNameConstraintComparisonsExceeded => "chain too complex",
        E::BadDer | E::BadDerTime | E::TrailingData(_) | E::MalformedExtensions => {
            "malformed certificate"
        }
        _ => "untrusted chain",
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    // Years outside 0000-9999 cannot be written in RFC 3339; X.509 times never are.
    t.format(&Rfc3339).unwrap_or_default()
}

fn san_text(name: &GeneralName<'_>) -> Option<String> {
    match name {
        GeneralName::DNSName(d) => Some(format!("DNS:{d}")),
        GeneralName::IPAddress(bytes) => Some(match ip_from_bytes(bytes) {
            Some(ip) => format!("IP:{ip}"),
            None => format!("IP:#{}", hex::encode_upper(bytes)),
        }),
        _ => None,
    }
}

fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        return Some(IpAddr::from(v4));
    }
    <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from)
}

// ---------------------------------------------------------------------------------------------
// Names (RFC 4514)

/// Attribute type descriptors (RFC 4514 3 plus registered common ones); others are dotted.
fn attr_short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "STREET",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.12" => "title",
        "2.5.4.42" => "givenName",
        "2.5.4.17" => "postalCode",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        "1.2.840.113549.1.9.1" => "emailAddress",
        _ => return None,
    })
}

/// RFC 4514 string: RDNs in reverse order (most specific first), "," between RDNs, "+"
/// inside a multi-valued RDN.
fn rfc4514(name: &X509Name<'_>) -> String {
    let rdns: Vec<String> = name
        .iter_rdn()
        .map(|rdn| rdn.iter().map(attribute_text).collect::<Vec<_>>().join("+"))
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(",")
}

fn attribute_text(attr: &AttributeTypeAndValue<'_>) -> String {
    let oid = attr.attr_type().to_id_string();
    let short = attr_short_name(&oid);
    let value = short.and_then(|_| attribute_string(attr));
    match (short, value) {
        (Some(s), Some(v)) => format!("{s}={}", escape_value(&v)),
        // Unknown type or non-string value: dotted OID and '#' + hex of the BER encoding.
        (s, _) => {
            let ber = attr
                .attr_value()
                .to_der_vec()
                .unwrap_or_else(|_| attr.as_slice().to_vec());
            format!(
                "{}=#{}",
                s.map_or(oid.clone(), str::to_string),
                hex::encode(ber)
            )
        }
    }
}

/// The attribute as text, including the BMPString/UniversalString/T61String that old
/// Windows CAs emit (x509-parser's `as_str` covers only the ASCII/UTF-8 types).
fn attribute_string(attr: &AttributeTypeAndValue<'_>) -> Option<String> {
    if let Ok(s) = attr.as_str() {
        return Some(s.to_string());
    }
    let bytes = attr.as_slice();
    match attr.attr_value().tag().0 {
        // BMPString: UTF-16BE
        30 => {
            if bytes.len() % 2 != 0 {
                return None;
            }
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        // UniversalString: UTF-32BE
        28 => {
            if bytes.len() % 4 != 0 {
                return None;
            }
            bytes
                .chunks_exact(4)
                .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                .collect()
        }
        // T61String: in practice Latin-1
        20 => Some(bytes.iter().map(|b| char::from(*b)).collect()),
        _ => None,
    }
}

/// RFC 4514 2.4 escaping; control characters are hex-escaped too, so that server-controlled
/// names cannot carry raw control bytes into reports.
fn escape_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let last = v.chars().count().saturating_sub(1);
    for (i, c) in v.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            '#' if i == 0 => out.push_str("\\#"),
            c if c.is_control() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\{b:02X}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Values of attribute `attr` (e.g. "CN") in an RFC 4514 string written by [`rfc4514`].
fn dn_values(dn: &str, attr: &str) -> Vec<String> {
    let mut values = Vec::new();
    let mut chars = dn.chars().peekable();
    let mut component = String::new();
    let mut raw: Vec<u8> = Vec::new();
    let mut in_value = false;
    // A value starting with an unescaped '#' is hex of BER (a non-string value): skipped.
    let mut hex_form = false;
    loop {
        let c = chars.next();
        match c {
            None | Some(',' | '+') => {
                if component.eq_ignore_ascii_case(attr) && !hex_form {
                    values.push(String::from_utf8_lossy(&raw).into_owned());
                }
                component.clear();
                raw.clear();
                in_value = false;
                hex_form = false;
                if c.is_none() {
                    break;
                }
            }
            Some('=') if !in_value => in_value = true,
            Some('#') if in_value && raw.is_empty() => hex_form = true,
            Some('\\') if in_value => {
                let Some(n) = chars.next() else { continue };
                let hi = n.to_digit(16);
                let lo = chars.peek().and_then(|p| p.to_digit(16));
                match (hi, lo) {
                    (Some(h), Some(l)) => {
                        chars.next();
                        raw.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                    }
                    _ => {
                        let mut buf = [0u8; 4];
                        raw.extend_from_slice(n.encode_utf8(&mut buf).as_bytes());
                    }
                }
            }
            Some(c) if in_value => {
                let mut buf = [0u8; 4];
                raw.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            Some(c) => component.push(c),
        }
    }
    values
}

// ---------------------------------------------------------------------------------------------
// Keys and signatures

/// Significant bits of a big-endian unsigned integer.
fn bit_len(bytes: &[u8]) -> u32 {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    let Some((top, rest)) = bytes.get(start..).and_then(<[u8]>::split_first) else {
        return 0;
    };
    let rest_bits = u32::try_from(rest.len())
        .unwrap_or(u32::MAX)
        .saturating_mul(8);
    rest_bits.saturating_add(8 - top.leading_zeros())
}

fn describe_key(spki: &SubjectPublicKeyInfo<'_>) -> (String, u32) {
    let alg = spki.algorithm.algorithm.to_id_string();
    match alg.as_str() {
        // rsaEncryption and RSASSA-PSS keys share the RSAPublicKey encoding.
        "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10" => {
            let bits = RSAPublicKey::from_der(&spki.subject_public_key.data)
                .map_or(0, |(_, rsa)| bit_len(rsa.modulus));
            (format!("RSA-{bits}"), bits)
        }
        "1.2.840.10045.2.1" => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string());
            match curve.as_deref() {
                Some("1.2.840.10045.3.1.7") => ("EC-P256".to_string(), 256),
                Some("1.3.132.0.34") => ("EC-P384".to_string(), 384),
                Some("1.3.132.0.35") => ("EC-P521".to_string(), 521),
                Some("1.3.132.0.10") => ("EC-secp256k1".to_string(), 256),
                Some("1.2.840.10045.3.1.1") => ("EC-P192".to_string(), 192),
                Some("1.3.132.0.33") => ("EC-P224".to_string(), 224),
                Some(other) => (format!("EC-{other}"), 0),
                None => ("EC".to_string(), 0),
            }
        }
        "1.3.101.112" => ("Ed25519".to_string(), 256),
        "1.3.101.113" => ("Ed448".to_string(), 456),
        "1.2.840.10040.4.1" => {
            // The public value y is just below the prime p: its byte length gives p's size.
            let bits = match spki.parsed() {
                Ok(x509_parser::public_key::PublicKey::DSA(y)) => {
                    bit_len(y).div_ceil(64).saturating_mul(64)
                }
                _ => 0,
            };
            (format!("DSA-{bits}"), bits)
        }
        other => (other.to_string(), 0),
    }
}

fn hash_name(oid: &str) -> &'static str {
    match oid {
        "1.3.14.3.2.26" => "SHA1",
        "2.16.840.1.101.3.4.2.1" => "SHA256",
        "2.16.840.1.101.3.4.2.2" => "SHA384",
        "2.16.840.1.101.3.4.2.3" => "SHA512",
        "2.16.840.1.101.3.4.2.4" => "SHA224",
        _ => "unknown-hash",
    }
}

/// Readable signature algorithm (OpenSSL's long names); unknown ones as dotted OIDs.
fn sig_alg_name(alg: &AlgorithmIdentifier<'_>) -> String {
    let oid = alg.algorithm.to_id_string();
    let name = match oid.as_str() {
        "1.2.840.113549.1.1.2" => "md2WithRSAEncryption",
        "1.2.840.113549.1.1.3" => "md4WithRSAEncryption",
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.14" => "sha224WithRSAEncryption",
        "1.3.14.3.2.29" => "sha1WithRSA",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.1" => "ecdsa-with-SHA224",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.2.840.10040.4.3" => "dsa-with-SHA1",
        "2.16.840.1.101.3.4.3.2" => "dsa-with-SHA256",
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        "1.2.840.113549.1.1.10" => {
            // RSASSA-PSS: the hash lives in the parameters (absent = SHA-1, RFC 4055).
            return match SignatureAlgorithm::try_from(alg) {
                Ok(SignatureAlgorithm::RSASSA_PSS(params)) => {
                    format!(
                        "rsassaPss-{}",
                        hash_name(&params.hash_algorithm_oid().to_id_string())
                    )
                }
                _ => "rsassaPss".to_string(),
            };
        }
        _ => return oid,
    };
    name.to_string()
}

/// issuer == subject, and the signature verifies with the certificate's own key when webpki
/// can check that algorithm; otherwise the key identifiers decide (AKI == SKI when both are
/// present), else the names alone.
fn is_self_signed(cert: &X509Certificate<'_>, der: &[u8]) -> bool {
    let same_name = cert.subject().as_raw() == cert.issuer().as_raw()
        || rfc4514(cert.subject()) == rfc4514(cert.issuer());
    if !same_name {
        return false;
    }
    match own_signature_verifies(cert, der) {
        Some(verdict) => verdict,
        None => key_ids_match(cert).unwrap_or(true),
    }
}

/// `None` when webpki cannot check this algorithm or key size (SHA-1, MD5, RSA < 2048...).
fn own_signature_verifies(cert: &X509Certificate<'_>, der: &[u8]) -> Option<bool> {
    let (key, bits) = describe_key(cert.public_key());
    if key.starts_with("RSA") && !(2048..=8192).contains(&bits) {
        return None;
    }
    // DER of the signature OID; webpki's algorithm ids start with exactly these bytes.
    let oid = cert.signature_algorithm.algorithm.as_bytes();
    let mut oid_der = vec![0x06, u8::try_from(oid.len()).ok().filter(|l| *l < 0x80)?];
    oid_der.extend_from_slice(oid);
    let candidates: Vec<_> = webpki::ALL_VERIFICATION_ALGS
        .iter()
        .filter(|a| a.signature_alg_id().as_ref().starts_with(&oid_der))
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let cder = CertificateDer::from(der);
    let ee = EndEntityCert::try_from(&cder).ok()?;
    let tbs = cert.tbs_certificate.as_ref();
    let signature = cert.signature_value.data.as_ref();
    Some(
        candidates
            .iter()
            .any(|alg| ee.verify_signature(**alg, tbs, signature).is_ok()),
    )
}

fn key_ids_match(cert: &X509Certificate<'_>) -> Option<bool> {
    let mut aki = None;
    let mut ski = None;
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(a) => {
                aki = a.key_identifier.as_ref().map(|k| k.0);
            }
            ParsedExtension::SubjectKeyIdentifier(k) => ski = Some(k.0),
            _ => {}
        }
    }
    Some(aki? == ski?)
}

// ---------------------------------------------------------------------------------------------
// Name checks

fn normalize(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// RFC 6125 6.4.3: exact, or a wildcard that is the whole left-most label and stands for
/// exactly one non-empty label, over at least two further labels ("*.com" matches nothing).
fn dns_pattern_matches(pattern: &str, name: &str) -> bool {
    if pattern.is_empty() || name.is_empty() {
        return false;
    }
    if !pattern.contains('*') {
        return pattern == name;
    }
    let Some(suffix) = pattern.strip_prefix("*.") else {
        return false;
    };
    if suffix.contains('*') || !suffix.contains('.') {
        return false;
    }
    match name.split_once('.') {
        Some((first, rest)) => !first.is_empty() && rest == suffix,
        None => false,
    }
}

/// Windows' default RDP certificate has CN = computer name (NetBIOS name off-domain, FQDN in
/// a domain), while inventories list short names or FQDNs: a single-label side matching the
/// other side's first label counts as a match.
fn short_name_matches(cn: &str, name: &str) -> bool {
    if cn.contains('*') {
        return false;
    }
    match (cn.split_once('.'), name.split_once('.')) {
        (None, Some((first, _))) => !cn.is_empty() && first == cn,
        (Some((first, _)), None) => !name.is_empty() && first == name,
        _ => false,
    }
}

/// Does the certificate name `name` (an inventory host name or PTR)? DNS SANs first; the
/// subject CN only when there are no DNS SANs (RFC 6125), with the short-name rule above.
/// An IP literal is checked with [`ip_matches`].
pub fn name_matches(facts: &CertFacts, name: &str) -> bool {
    let name = normalize(name);
    if let Ok(ip) = name.parse::<IpAddr>() {
        return ip_matches(facts, ip);
    }
    let dns: Vec<String> = facts
        .sans
        .iter()
        .filter_map(|s| s.strip_prefix("DNS:"))
        .map(normalize)
        .collect();
    if !dns.is_empty() {
        return dns.iter().any(|p| dns_pattern_matches(p, &name));
    }
    dn_values(&facts.subject, "CN")
        .iter()
        .map(|cn| normalize(cn))
        .any(|cn| dns_pattern_matches(&cn, &name) || short_name_matches(&cn, &name))
}

/// Does the certificate name this IP? IP SANs; a CN holding the IP counts only when the
/// certificate has no SANs at all (old self-made certificates).
pub fn ip_matches(facts: &CertFacts, ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    let mut any_san = false;
    for san in &facts.sans {
        any_san = true;
        if let Some(Ok(candidate)) = san.strip_prefix("IP:").map(str::parse::<IpAddr>)
            && candidate.to_canonical() == ip
        {
            return true;
        }
    }
    !any_san
        && dn_values(&facts.subject, "CN").iter().any(|cn| {
            cn.trim()
                .parse::<IpAddr>()
                .is_ok_and(|c| c.to_canonical() == ip)
        })
}

/// RSA or DSA under 2048 bits, EC under 256 bits. Unknown sizes (0) are not judged.
pub fn is_weak_key(facts: &CertFacts) -> bool {
    let bits = facts.key_bits;
    if bits == 0 {
        return false;
    }
    if facts.key.starts_with("RSA") || facts.key.starts_with("DSA") {
        bits < 2048
    } else if facts.key.starts_with("EC") {
        bits < 256
    } else {
        false
    }
}

/// Signature over SHA-1, MD5, MD4 or MD2.
pub fn is_weak_sig(facts: &CertFacts) -> bool {
    let s = facts.sig_alg.to_ascii_lowercase();
    ["sha1", "md5", "md4", "md2"].iter().any(|w| s.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
        IsCa, Issuer, KeyPair, KeyUsagePurpose,
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

        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let f = cert_facts(&[sign(&p, &root)], &store_with(&root.der), NOW);
        assert_eq!(
            f.trust_error.as_deref(),
            Some("not valid for server authentication")
        );
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
        assert!(e.contains("nope.pem"), "{e}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a pem\n").expect("write");
        let e = TrustStore::empty()
            .add_pem_file(&empty)
            .expect_err("no certs");
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
}
