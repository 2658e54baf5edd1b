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
use webpki::{EndEntityCert, ExtendedKeyUsageValidator, KeyPurposeId, KeyPurposeIdIter};
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
/// serverAuth (1.3.6.1.5.5.7.3.1) and anyExtendedKeyUsage (2.5.29.37.0), DER value bytes.
const EKU_SERVER_AUTH: &[u8] = &[0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];
const EKU_ANY: &[u8] = &[0x55, 0x1D, 0x25, 0x00];

#[path = "cert_ext.rs"]
mod ext;
pub use ext::{EKU_MALFORMED, clean_text, eku_allows_rdp, eku_display, eku_name};

/// The EKU policy an RDP server certificate is judged by, at every level of the chain: no
/// EKU, serverAuth, Remote Desktop Authentication, or anyExtendedKeyUsage.
struct RdpUsage;

impl ExtendedKeyUsageValidator for RdpUsage {
    #[allow(deprecated)] // the context variant cannot be built outside webpki
    fn validate(&self, iter: KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        let mut empty = true;
        for id in iter {
            empty = false;
            let id = id?;
            if [EKU_SERVER_AUTH, EKU_RDP_AUTH, EKU_ANY]
                .iter()
                .any(|want| KeyPurposeId::new(want) == id)
            {
                return Ok(());
            }
        }
        if empty {
            Ok(())
        } else {
            Err(webpki::Error::RequiredEkuNotFound)
        }
    }
}

/// Accepts any EKU: tells "the chain is fine, the usage is wrong" apart from "no path".
struct AnyUsage;

impl ExtendedKeyUsageValidator for AnyUsage {
    fn validate(&self, _iter: KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        Ok(())
    }
}

/// Why a CA bundle (`--ca-bundle`) or anchor could not be used; `bundle` is the path as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    #[error("cannot open CA bundle {bundle}: {why}")]
    Open { bundle: String, why: String },
    #[error("cannot read CA bundle {bundle}: {why}")]
    Read { bundle: String, why: String },
    #[error(
        "CA bundle {bundle} is larger than {MAX_BUNDLE_BYTES} bytes; pass a PEM file of CA certificates"
    )]
    TooLarge { bundle: String },
    /// `index` counts certificates in the file from 1.
    #[error("CA bundle {bundle}: certificate {index} is not valid PEM: {why}")]
    Pem {
        bundle: String,
        index: usize,
        why: String,
    },
    #[error("CA bundle {bundle}: certificate {index} is not a usable CA: {why}")]
    NotACa {
        bundle: String,
        index: usize,
        why: String,
    },
    #[error(
        "CA bundle {bundle} holds no PEM certificates; expected -----BEGIN CERTIFICATE----- blocks"
    )]
    Empty { bundle: String },
    /// A single DER anchor (tests and benchmarks build their trust this way).
    #[error("not a usable CA certificate: {0}")]
    NotACaDer(String),
}

/// Trust anchors: system roots plus an optional enterprise PEM bundle. Built once per scan.
#[derive(Clone, Default)]
pub struct TrustStore {
    anchors: Vec<TrustAnchor<'static>>,
    /// Bundle certificates that are not self-issued (intermediate CAs). They stay anchors, as
    /// before; kept apart too so that a server that omits one can be told apart.
    intermediates: Vec<CertificateDer<'static>>,
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
        TrustStore {
            anchors,
            intermediates: Vec::new(),
        }
    }

    /// System roots plus every certificate in the PEM file at `path`.
    pub fn with_bundle(path: &Path) -> Result<TrustStore, TrustError> {
        let mut store = TrustStore::system();
        store.add_pem_file(path)?;
        Ok(store)
    }

    /// Adds every certificate of a PEM file; returns how many were added.
    pub fn add_pem_file(&mut self, path: &Path) -> Result<usize, TrustError> {
        use std::io::Read;
        let bundle = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|e| TrustError::Open {
            bundle: bundle.clone(),
            why: e.to_string(),
        })?;
        let mut text = Vec::new();
        file.take(MAX_BUNDLE_BYTES + 1)
            .read_to_end(&mut text)
            .map_err(|e| TrustError::Read {
                bundle: bundle.clone(),
                why: e.to_string(),
            })?;
        if text.len() as u64 > MAX_BUNDLE_BYTES {
            return Err(TrustError::TooLarge { bundle });
        }
        let mut added = 0usize;
        for (n, item) in rustls_pemfile::certs(&mut text.as_slice()).enumerate() {
            let der = item.map_err(|e| TrustError::Pem {
                bundle: bundle.clone(),
                index: n + 1,
                why: e.to_string(),
            })?;
            let anchor =
                webpki::anchor_from_trusted_cert(&der).map_err(|e| TrustError::NotACa {
                    bundle: bundle.clone(),
                    index: n + 1,
                    why: e.to_string(),
                })?;
            self.anchors.push(anchor.to_owned());
            if !self_issued(&der) {
                self.intermediates.push(der.clone().into_owned());
            }
            added += 1;
        }
        if added == 0 {
            return Err(TrustError::Empty { bundle });
        }
        Ok(added)
    }

    /// Adds one DER certificate as a trust anchor.
    pub fn add_der(&mut self, der: &[u8]) -> Result<(), TrustError> {
        let der = CertificateDer::from(der);
        let anchor = webpki::anchor_from_trusted_cert(&der)
            .map_err(|e| TrustError::NotACaDer(e.to_string()))?;
        self.anchors.push(anchor.to_owned());
        if !self_issued(&der) {
            self.intermediates.push(der.into_owned());
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    /// Public keys (SPKI contents) of the anchors whose subject is `subject` (the contents of
    /// a Name SEQUENCE): the candidates for a leaf's issuer when the server did not send it.
    pub fn keys_named(&self, subject: &[u8]) -> Vec<Vec<u8>> {
        self.anchors
            .iter()
            .filter(|a| a.subject.as_ref() == subject)
            .map(|a| a.subject_public_key_info.as_ref().to_vec())
            .collect()
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
    if let Some(note) = ext::fill(&cert, &mut facts) {
        facts.parse_error.get_or_insert(note);
    }

    let at = trust_time(facts.not_before_unix, facts.not_after_unix, now_unix);
    let issuer_sent = issuer_sent(&cert, chain);
    match verify_chain(chain, trust, at, ext::eku_allows_rdp(&facts)) {
        Ok(path) => {
            facts.trusted = true;
            if path.via_bundle_intermediate && !issuer_sent {
                facts.missing_issuer = Some(format!(
                    "the server did not send its issuer {}; the trust store holds it",
                    facts.issuer
                ));
            }
        }
        Err(reason) => {
            facts.trust_error = Some(reason.to_string());
            if reason == UNKNOWN_ISSUER
                && !issuer_sent
                && !facts.self_signed
                && let Some(url) = facts.ca_issuers_urls.first()
            {
                facts.missing_issuer = Some(format!(
                    "the server did not send its issuer {}; AIA caIssuers names {url}",
                    facts.issuer
                ));
            }
        }
    }
    facts
}

const UNKNOWN_ISSUER: &str = "unknown issuer";
/// How many served certificates are looked at for the leaf's issuer.
const MAX_CHAIN_LOOK: usize = 16;

/// subject == issuer (a root or a self-signed leaf), by raw name bytes.
fn self_issued(der: &[u8]) -> bool {
    X509Certificate::from_der(der).is_ok_and(|(_, c)| c.subject().as_raw() == c.issuer().as_raw())
}

/// Did the server send a certificate whose subject is the leaf's issuer?
fn issuer_sent(leaf: &X509Certificate<'_>, chain: &[Vec<u8>]) -> bool {
    let issuer = leaf.issuer().as_raw();
    chain.iter().skip(1).take(MAX_CHAIN_LOOK).any(|der| {
        X509Certificate::from_der(der).is_ok_and(|(_, c)| c.subject().as_raw() == issuer)
    })
}

/// What a successful chain check learned.
struct Verified {
    /// The path ended at a bundle intermediate that the server did not send itself.
    via_bundle_intermediate: bool,
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

fn verify_chain(
    chain: &[Vec<u8>],
    trust: &TrustStore,
    at: UnixTime,
    leaf_eku_ok: bool,
) -> Result<Verified, &'static str> {
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
        return Ok(Verified {
            via_bundle_intermediate: false,
        });
    }
    let ee = EndEntityCert::try_from(&leaf).map_err(webpki_reason)?;
    let intermediates: Vec<CertificateDer<'_>> = rest
        .iter()
        .map(|c| CertificateDer::from(c.as_slice()))
        .collect();
    let run = |any: bool| {
        let done = |path: webpki::VerifiedPath<'_>| {
            // Only the anchor, no intermediate: did it end at a bundle intermediate?
            path.intermediate_certificates().next().is_none()
                && trust.intermediates.iter().any(|i| {
                    webpki::anchor_from_trusted_cert(i).is_ok_and(|a| {
                        a.subject_public_key_info == path.anchor().subject_public_key_info
                    })
                })
        };
        let (algs, anchors) = (webpki::ALL_VERIFICATION_ALGS, &trust.anchors);
        if any {
            ee.verify_for_usage(algs, anchors, &intermediates, at, AnyUsage, None, None)
                .map(done)
        } else {
            ee.verify_for_usage(algs, anchors, &intermediates, at, RdpUsage, None, None)
                .map(done)
        }
    };
    let verified = |via| Verified {
        via_bundle_intermediate: via,
    };
    #[allow(deprecated)]
    match run(false) {
        Ok(via) => Ok(verified(via)),
        Err(webpki::Error::RequiredEkuNotFound | webpki::Error::RequiredEkuNotFoundContext(_)) => {
            match run(true) {
                // The chain is fine and the leaf's own EKU is wrong: trusted, and `diagnose`
                // judges the usage from the leaf's EKU (`cert-wrong-eku`).
                Ok(via) if !leaf_eku_ok => Ok(verified(via)),
                // The leaf's EKU is fine: an issuing CA's EKU is what excludes server use.
                Ok(_) => Err(ISSUER_EKU),
                Err(e) => Err(webpki_reason(e)),
            }
        }
        Err(e) => Err(webpki_reason(e)),
    }
}

const ISSUER_EKU: &str = "an issuing CA's extended key usage excludes server authentication";

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
#[path = "cert_tests.rs"]
mod tests;
