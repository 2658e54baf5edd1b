//! Revocation checks, the pure half (`--check-revocation`): which certificate URLs may be
//! fetched, the leaf's issuer and serial, CRL and OCSP decoding and their signatures. No I/O:
//! `probe/revocation.rs` fetches the bytes and caches them. Everything here reads bytes a
//! server or a URL named in its certificate controls: nothing panics, every list is capped,
//! every text is cleaned of control characters.

use crate::clock::Timestamp;
use std::collections::HashMap;
use std::sync::Mutex;

use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_parser::asn1_rs::{Any, FromDer, Tag};
use x509_parser::certificate::X509Certificate;
use x509_parser::revocation_list::CertificateRevocationList;
use x509_parser::time::ASN1Time;

use crate::cert::clean_text;
use crate::model::RevocationStatus;

/// Longest URL accepted for fetching.
const MAX_URL: usize = 2048;
/// Revoked entries kept from one CRL (a 10 MiB CRL holds about 250,000).
const MAX_CRL_ENTRIES: usize = 1_000_000;
/// Issuer keys a cached CRL remembers its signature verdict for.
const MAX_VERDICTS: usize = 8;
/// Certificates looked at in an OCSP response's `certs` for a delegated responder.
const MAX_OCSP_CERTS: usize = 4;
/// Clock tolerance for thisUpdate/nextUpdate, as CryptoAPI allows for skew.
const SKEW_S: i64 = 300;

const OID_SHA1: &[u8] = &[0x2B, 0x0E, 0x03, 0x02, 0x1A];
const OID_SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
const OID_OCSP_BASIC: &[u8] = &[0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01];
const OID_OCSP_SIGNING: &str = "1.3.6.1.5.5.7.3.9";

/// A URL rdpsweep will fetch: `http://host[:port]/path`, printable ASCII only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    /// Lower-case name, IPv4 literal, or IPv6 literal without brackets.
    pub host: String,
    pub port: u16,
    /// Path and query, starting with '/'; the fragment is dropped.
    pub path: String,
}

impl HttpUrl {
    /// The `Host` header value.
    pub fn host_header(&self) -> String {
        let h = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == 80 {
            h
        } else {
            format!("{h}:{}", self.port)
        }
    }
}

/// Why a certificate URL is not fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// ldap://, file://, https://, javascript: ...: only plain HTTP is fetched.
    #[error("{0} URL not checked (only http:// is fetched)")]
    Scheme(String),
    #[error("URL with control, space or non-ASCII characters not fetched")]
    BadCharacters,
    #[error("malformed URL not fetched ({0})")]
    Malformed(&'static str),
}

/// Parses a certificate URL for fetching. Strict on purpose: anything a browser would have to
/// repair (spaces, backslashes, control bytes, user info) is refused, never "fixed".
pub fn parse_http_url(s: &str) -> Result<HttpUrl, UrlError> {
    let scheme_end = s.find(':').ok_or(UrlError::Malformed("no scheme"))?;
    let scheme = s.get(..scheme_end).unwrap_or_default();
    if !scheme.eq_ignore_ascii_case("http") {
        let shown: String = clean_text(scheme).chars().take(16).collect();
        return Err(UrlError::Scheme(shown.to_ascii_lowercase()));
    }
    if s.len() > MAX_URL {
        return Err(UrlError::Malformed("too long"));
    }
    let bad = |c: char| {
        !c.is_ascii_graphic() || matches!(c, '\\' | '"' | '<' | '>' | '{' | '}' | '|' | '^' | '`')
    };
    if s.chars().any(bad) {
        return Err(UrlError::BadCharacters);
    }
    let rest = s
        .get(scheme_end + 1..)
        .and_then(|r| r.strip_prefix("//"))
        .ok_or(UrlError::Malformed("no //"))?;
    let rest = rest.split('#').next().unwrap_or_default();
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (
            rest.get(..i).unwrap_or_default(),
            rest.get(i..).unwrap_or("/"),
        ),
        None => (rest, "/"),
    };
    let path = if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_string()
    };
    if authority.contains('@') {
        return Err(UrlError::Malformed("user info"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or(UrlError::Malformed("bracket"))?;
        if h.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(UrlError::Malformed("IPv6 literal"));
        }
        (h.to_string(), after)
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h.to_string(), authority.get(h.len()..).unwrap_or(p)),
            None => (authority.to_string(), ""),
        }
    };
    let port = match port {
        "" => 80,
        p => p
            .strip_prefix(':')
            .and_then(|n| n.parse::<u16>().ok())
            .filter(|n| *n != 0)
            .ok_or(UrlError::Malformed("port"))?,
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && (host.contains(':')
            || host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')));
    if !host_ok {
        return Err(UrlError::Malformed("host"));
    }
    Ok(HttpUrl {
        host: host.to_ascii_lowercase(),
        port,
        path,
    })
}

/// A public key as signature algorithms want it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spki {
    /// Contents of the AlgorithmIdentifier SEQUENCE.
    pub alg: Vec<u8>,
    /// The subjectPublicKey BIT STRING's bits.
    pub key: Vec<u8>,
}

/// One TLV: (rest, tag, contents, whole encoding).
type Tlv<'a> = (&'a [u8], Tag, &'a [u8], &'a [u8]);

fn tlv(input: &[u8]) -> Option<Tlv<'_>> {
    let (rest, any) = Any::from_der(input).ok()?;
    let whole = input.get(..input.len().checked_sub(rest.len())?)?;
    Some((rest, any.tag(), any.data, whole))
}

fn tlv_of_class(input: &[u8]) -> Option<(&[u8], u8, &[u8])> {
    // Context-specific tags: the first identifier byte (class, constructed bit, number).
    let first = *input.first()?;
    let (rest, _, data, _) = tlv(input)?;
    Some((rest, first, data))
}

/// SPKI from either its whole encoding or the contents of its SEQUENCE (webpki anchors).
pub fn spki_from_der(der: &[u8]) -> Option<Spki> {
    let parts = |contents: &[u8]| -> Option<Spki> {
        let (rest, tag, alg, _) = tlv(contents)?;
        if tag != Tag::Sequence {
            return None;
        }
        let (_, tag, bits, _) = tlv(rest)?;
        if tag != Tag::BitString {
            return None;
        }
        let (unused, key) = bits.split_first()?;
        (*unused == 0).then(|| Spki {
            alg: alg.to_vec(),
            key: key.to_vec(),
        })
    };
    parts(der).or_else(|| {
        let (rest, tag, contents, _) = tlv(der)?;
        (tag == Tag::Sequence && rest.is_empty())
            .then(|| parts(contents))
            .flatten()
    })
}

/// The three parts every signed X.509 structure starts with (certificate, CRL, BasicOCSPResponse).
struct Signed<'a> {
    /// The whole to-be-signed encoding.
    tbs: &'a [u8],
    alg: &'a [u8],
    sig: &'a [u8],
    /// Whatever follows the signature (BasicOCSPResponse's certs).
    tail: &'a [u8],
}

fn signed_parts(der: &[u8]) -> Option<Signed<'_>> {
    let (_, tag, contents, _) = tlv(der)?;
    if tag != Tag::Sequence {
        return None;
    }
    let (rest, _, _, tbs) = tlv(contents)?;
    let (rest, tag, alg, _) = tlv(rest)?;
    if tag != Tag::Sequence {
        return None;
    }
    let (tail, tag, bits, _) = tlv(rest)?;
    if tag != Tag::BitString {
        return None;
    }
    let (unused, sig) = bits.split_first()?;
    (*unused == 0).then_some(Signed {
        tbs,
        alg,
        sig,
        tail,
    })
}

/// Does `sig` over `msg` verify with `key`? Every webpki algorithm whose signature OID and
/// key type fit is tried; unsupported algorithms (SHA-1 RSA, DSA...) do not verify.
fn verifies(alg: &[u8], msg: &[u8], sig: &[u8], key: &Spki) -> bool {
    let Some((_, tag, _, oid)) = tlv(alg) else {
        return false;
    };
    if tag != Tag::Oid {
        return false;
    }
    webpki::ALL_VERIFICATION_ALGS.iter().any(|a| {
        a.signature_alg_id().as_ref().starts_with(oid)
            && a.public_key_alg_id().as_ref() == key.alg.as_slice()
            && a.verify_signature(&key.key, msg, sig).is_ok()
    })
}

/// What a revocation check needs from the leaf and its issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    /// Serial number INTEGER contents, leading zero bytes dropped.
    pub serial: Vec<u8>,
    /// The issuer Name, whole encoding.
    pub issuer_name: Vec<u8>,
    pub issuer_key: Spki,
}

/// Why the leaf cannot be checked at all (no fetch is made).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeafError {
    #[error("unparseable certificate")]
    Unparseable,
    #[error("self-signed certificate: no revocation to check")]
    SelfSigned,
    #[error(
        "the issuer's certificate is unknown (not sent by the server, not in the trust store): revocation not checked"
    )]
    IssuerUnknown,
}

fn strip_zeros(b: &[u8]) -> Vec<u8> {
    let start = b
        .iter()
        .position(|x| *x != 0)
        .unwrap_or(b.len().saturating_sub(1));
    b.get(start..).unwrap_or_default().to_vec()
}

/// The leaf's serial and its issuer's key: the served chain first, then `anchors` (SPKIs of
/// trust-store certificates named like the leaf's issuer). A candidate counts only when its
/// key verifies the leaf's signature, so a look-alike name cannot stand in for the issuer.
pub fn leaf_info(
    chain: &[Vec<u8>],
    anchors: &dyn Fn(&[u8]) -> Vec<Vec<u8>>,
) -> Result<Leaf, LeafError> {
    let der = chain.first().ok_or(LeafError::Unparseable)?;
    let (_, cert) = X509Certificate::from_der(der).map_err(|_| LeafError::Unparseable)?;
    let signed = signed_parts(der).ok_or(LeafError::Unparseable)?;
    let issuer_name = cert.issuer().as_raw().to_vec();
    // Self-signed: the name repeats and the certificate's own key signed it (a same-name leaf
    // from a CA is still checked).
    if cert.subject().as_raw() == issuer_name.as_slice()
        && spki_from_der(cert.public_key().raw)
            .is_some_and(|k| verifies(signed.alg, signed.tbs, signed.sig, &k))
    {
        return Err(LeafError::SelfSigned);
    }
    let from_chain = chain.iter().skip(1).take(16).filter_map(|c| {
        let (_, ic) = X509Certificate::from_der(c).ok()?;
        (ic.subject().as_raw() == issuer_name.as_slice())
            .then(|| spki_from_der(ic.public_key().raw))
            .flatten()
    });
    let name_contents = tlv(&issuer_name).map(|(_, _, c, _)| c).unwrap_or_default();
    let from_store = anchors(name_contents)
        .into_iter()
        .filter_map(|s| spki_from_der(&s));
    let issuer_key = from_chain
        .chain(from_store)
        .find(|k| verifies(signed.alg, signed.tbs, signed.sig, k))
        .ok_or(LeafError::IssuerUnknown)?;
    Ok(Leaf {
        serial: strip_zeros(cert.raw_serial()),
        issuer_name,
        issuer_key,
    })
}

/// The outcome of one source (a CRL or an OCSP answer) for the leaf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub status: RevocationStatus,
    pub error: Option<String>,
    /// RFC 3339, when revoked.
    pub revoked_at: Option<String>,
    pub reason: Option<String>,
}

impl Verdict {
    fn good() -> Verdict {
        Verdict {
            status: RevocationStatus::Good,
            error: None,
            revoked_at: None,
            reason: None,
        }
    }

    pub fn unusable(why: impl Into<String>) -> Verdict {
        Verdict {
            status: RevocationStatus::Unusable,
            error: Some(why.into()),
            revoked_at: None,
            reason: None,
        }
    }

    fn revoked(at: i64, reason: Option<u8>) -> Verdict {
        Verdict {
            status: RevocationStatus::Revoked,
            error: None,
            revoked_at: Some(Timestamp::from_unix(at).to_rfc3339()),
            reason: reason.map(reason_name),
        }
    }
}

/// RFC 5280 5.3.1 CRLReason names.
pub fn reason_name(code: u8) -> String {
    match code {
        0 => "unspecified",
        1 => "keyCompromise",
        2 => "cACompromise",
        3 => "affiliationChanged",
        4 => "superseded",
        5 => "cessationOfOperation",
        6 => "certificateHold",
        8 => "removeFromCRL",
        9 => "privilegeWithdrawn",
        10 => "aACompromise",
        n => return format!("reason {n}"),
    }
    .to_string()
}

/// Why a CRL could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrlError {
    #[error("not a DER CRL ({0})")]
    NotDer(String),
    #[error("CRL holds more than {MAX_CRL_ENTRIES} entries")]
    TooManyEntries,
}

/// A CRL digested once per scan and shared by every host that names its URL.
#[derive(Debug)]
pub struct ParsedCrl {
    issuer: Vec<u8>,
    this_update: i64,
    next_update: Option<i64>,
    tbs: Vec<u8>,
    alg: Vec<u8>,
    sig: Vec<u8>,
    /// Serial (leading zeros dropped) -> (revocation date, reason code).
    revoked: HashMap<Vec<u8>, (i64, Option<u8>)>,
    /// Signature verdicts already computed, per issuer key bits.
    verdicts: Mutex<Vec<(Vec<u8>, bool)>>,
}

/// Decodes a CRL. Bytes that are not DER (PEM, HTML error pages, garbage) are an error.
pub fn parse_crl(der: &[u8]) -> Result<ParsedCrl, CrlError> {
    let (_, crl) =
        CertificateRevocationList::from_der(der).map_err(|e| CrlError::NotDer(e.to_string()))?;
    let signed = signed_parts(der).ok_or_else(|| CrlError::NotDer("structure".into()))?;
    let list = &crl.tbs_cert_list.revoked_certificates;
    if list.len() > MAX_CRL_ENTRIES {
        return Err(CrlError::TooManyEntries);
    }
    let revoked = list
        .iter()
        .map(|r| {
            let reason = r.reason_code().map(|(_, c)| c.0);
            (
                strip_zeros(r.raw_serial()),
                (r.revocation_date.timestamp(), reason),
            )
        })
        .collect();
    Ok(ParsedCrl {
        issuer: crl.issuer().as_raw().to_vec(),
        this_update: crl.last_update().timestamp(),
        next_update: crl.next_update().map(|t| t.timestamp()),
        tbs: signed.tbs.to_vec(),
        alg: signed.alg.to_vec(),
        sig: signed.sig.to_vec(),
        revoked,
        verdicts: Mutex::new(Vec::new()),
    })
}

impl ParsedCrl {
    /// Bytes this digest holds (for the scan's cache budget).
    pub fn weight(&self) -> usize {
        self.tbs.len() + self.revoked.len() * 64
    }

    fn signed_by(&self, key: &Spki) -> bool {
        if let Ok(v) = self.verdicts.lock()
            && let Some((_, ok)) = v.iter().find(|(k, _)| *k == key.key)
        {
            return *ok;
        }
        let ok = verifies(&self.alg, &self.tbs, &self.sig, key);
        if let Ok(mut v) = self.verdicts.lock()
            && v.len() < MAX_VERDICTS
        {
            v.push((key.key.clone(), ok));
        }
        ok
    }

    /// The leaf's status by this CRL at `now`: only a CRL from the leaf's issuer, signed with
    /// the issuer's key and current, is believed.
    pub fn check(&self, leaf: &Leaf, now: i64) -> Verdict {
        if self.issuer != leaf.issuer_name {
            return Verdict::unusable(
                "CRL issued by another CA (issuer name differs): not trusted",
            );
        }
        if !self.signed_by(&leaf.issuer_key) {
            return Verdict::unusable(
                "CRL signature does not verify with the issuer's key (signed by someone else): not trusted",
            );
        }
        if let Some(next) = self.next_update
            && next + SKEW_S < now
        {
            return Verdict::unusable(format!(
                "CRL expired (nextUpdate {})",
                Timestamp::from_unix(next)
            ));
        }
        if self.this_update > now + SKEW_S {
            return Verdict::unusable(format!(
                "CRL not valid yet (thisUpdate {})",
                Timestamp::from_unix(self.this_update)
            ));
        }
        match self.revoked.get(&leaf.serial) {
            Some((at, reason)) => Verdict::revoked(*at, *reason),
            None => Verdict::good(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// OCSP (RFC 6960)

fn der(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = contents.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        let used = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | used.len() as u8);
        out.extend_from_slice(used);
    }
    out.extend_from_slice(contents);
    out
}

/// The CertID fields for `leaf` with one hash: (name hash, key hash).
fn cert_id_hashes(leaf: &Leaf, sha256: bool) -> (Vec<u8>, Vec<u8>) {
    if sha256 {
        (
            Sha256::digest(&leaf.issuer_name).to_vec(),
            Sha256::digest(&leaf.issuer_key.key).to_vec(),
        )
    } else {
        (
            Sha1::digest(&leaf.issuer_name).to_vec(),
            Sha1::digest(&leaf.issuer_key.key).to_vec(),
        )
    }
}

fn serial_der(serial: &[u8]) -> Vec<u8> {
    // INTEGER: positive, so a leading 0x00 when the top bit is set.
    let mut v = Vec::with_capacity(serial.len() + 1);
    if serial.first().is_none_or(|b| b & 0x80 != 0) {
        v.push(0);
    }
    v.extend_from_slice(serial);
    der(0x02, &v)
}

/// An OCSPRequest for the leaf (SHA-1 CertID, as Windows and most responders use; no nonce,
/// so responders may answer from their cache).
pub fn ocsp_request(leaf: &Leaf) -> Vec<u8> {
    let (name_hash, key_hash) = cert_id_hashes(leaf, false);
    let alg = der(0x30, &[der(0x06, OID_SHA1), vec![0x05, 0x00]].concat());
    let cert_id = der(
        0x30,
        &[
            alg,
            der(0x04, &name_hash),
            der(0x04, &key_hash),
            serial_der(&leaf.serial),
        ]
        .concat(),
    );
    let request = der(0x30, &cert_id);
    let request_list = der(0x30, &request);
    let tbs = der(0x30, &request_list);
    der(0x30, &tbs)
}

/// The leaf's status from an OCSP response: a successful basic response signed by the issuer
/// (or by a responder certificate the issuer signed for OCSPSigning) with a current answer
/// for this CertID.
pub fn ocsp_check(resp: &[u8], leaf: &Leaf, now: i64) -> Verdict {
    match ocsp_parse(resp, leaf, now) {
        Ok(v) => v,
        Err(why) => Verdict::unusable(why),
    }
}

fn ocsp_parse(resp: &[u8], leaf: &Leaf, now: i64) -> Result<Verdict, String> {
    let not_der = || "not a DER OCSP response".to_string();
    let (_, tag, body, _) = tlv(resp).ok_or_else(not_der)?;
    if tag != Tag::Sequence {
        return Err(not_der());
    }
    let (rest, tag, status, _) = tlv(body).ok_or_else(not_der)?;
    if tag != Tag::Enumerated {
        return Err(not_der());
    }
    match status {
        [0] => {}
        [code] => {
            let name = match code {
                1 => "malformedRequest",
                2 => "internalError",
                3 => "tryLater",
                5 => "sigRequired",
                6 => "unauthorized (the responder does not answer for this CA)",
                _ => "unknown status",
            };
            return Err(format!("OCSP responder answered {name}"));
        }
        _ => return Err(not_der()),
    }
    // responseBytes [0] EXPLICIT SEQUENCE { responseType OID, response OCTET STRING }
    let (_, class, explicit) = tlv_of_class(rest).ok_or_else(not_der)?;
    if class != 0xA0 {
        return Err(not_der());
    }
    let (_, _, rb, _) = tlv(explicit).ok_or_else(not_der)?;
    let (rb, tag, oid, _) = tlv(rb).ok_or_else(not_der)?;
    if tag != Tag::Oid || oid != OID_OCSP_BASIC {
        return Err("OCSP response of an unknown type".into());
    }
    let (_, tag, basic, _) = tlv(rb).ok_or_else(not_der)?;
    if tag != Tag::OctetString {
        return Err(not_der());
    }
    let signed = signed_parts(basic).ok_or_else(not_der)?;
    if !ocsp_signed_by_issuer(&signed, leaf) {
        return Err(
            "OCSP response not signed by the issuer or a responder it authorised: not trusted"
                .into(),
        );
    }
    // ResponseData: [0] version?, responderID, producedAt, responses, [1] extensions?
    let (_, _, data, _) = tlv(signed.tbs).ok_or_else(not_der)?;
    let mut rest = data;
    if rest.first() == Some(&0xA0) {
        rest = tlv(rest).ok_or_else(not_der)?.0;
    }
    let (rest, _, _, _) = tlv(rest).ok_or_else(not_der)?; // responderID
    let (rest, _, _, _) = tlv(rest).ok_or_else(not_der)?; // producedAt
    let (_, tag, mut responses, _) = tlv(rest).ok_or_else(not_der)?;
    if tag != Tag::Sequence {
        return Err(not_der());
    }
    for _ in 0..64 {
        if responses.is_empty() {
            break;
        }
        let (next, _, single, _) = tlv(responses).ok_or_else(not_der)?;
        responses = next;
        if let Some(v) = single_response(single, leaf, now)? {
            return Ok(v);
        }
    }
    Err("OCSP response does not answer for this certificate".into())
}

/// One SingleResponse: `None` when it is about another certificate.
fn single_response(single: &[u8], leaf: &Leaf, now: i64) -> Result<Option<Verdict>, String> {
    let bad = || "malformed OCSP SingleResponse".to_string();
    let (rest, _, cert_id, _) = tlv(single).ok_or_else(bad)?;
    if !cert_id_matches(cert_id, leaf) {
        return Ok(None);
    }
    let (rest, class, status) = tlv_of_class(rest).ok_or_else(bad)?;
    let (rest, this_update) = ASN1Time::from_der(rest).map_err(|_| bad())?;
    let next_update = match tlv_of_class(rest) {
        Some((_, 0xA0, inner)) => Some(ASN1Time::from_der(inner).map_err(|_| bad())?.1),
        _ => None,
    };
    if this_update.timestamp() > now + SKEW_S {
        return Err(format!(
            "OCSP answer not valid yet (thisUpdate {})",
            Timestamp::from_unix(this_update.timestamp())
        ));
    }
    if let Some(n) = next_update
        && n.timestamp() + SKEW_S < now
    {
        return Err(format!(
            "OCSP answer expired (nextUpdate {})",
            Timestamp::from_unix(n.timestamp())
        ));
    }
    Ok(Some(match class {
        0x80 => Verdict::good(),
        0xA1 => {
            let (after, at) = ASN1Time::from_der(status).map_err(|_| bad())?;
            let reason = match tlv_of_class(after) {
                Some((_, 0xA0, inner)) => tlv(inner).and_then(|(_, tag, v, _)| {
                    (tag == Tag::Enumerated && v.len() == 1)
                        .then(|| v.first().copied())
                        .flatten()
                }),
                _ => None,
            };
            Verdict::revoked(at.timestamp(), reason)
        }
        0x82 => Verdict {
            status: RevocationStatus::Unusable,
            error: Some("OCSP responder does not know this certificate (unknown)".into()),
            revoked_at: None,
            reason: None,
        },
        _ => return Err(bad()),
    }))
}

fn cert_id_matches(cert_id: &[u8], leaf: &Leaf) -> bool {
    type CertId<'a> = (bool, &'a [u8], &'a [u8], &'a [u8]);
    let parse = || -> Option<CertId<'_>> {
        let (rest, _, alg, _) = tlv(cert_id)?;
        let (_, tag, oid, _) = tlv(alg)?;
        if tag != Tag::Oid {
            return None;
        }
        let sha256 = match oid {
            OID_SHA1 => false,
            OID_SHA256 => true,
            _ => return None,
        };
        let (rest, _, name_hash, _) = tlv(rest)?;
        let (rest, _, key_hash, _) = tlv(rest)?;
        let (_, tag, serial, _) = tlv(rest)?;
        (tag == Tag::Integer).then_some((sha256, name_hash, key_hash, serial))
    };
    let Some((sha256, name_hash, key_hash, serial)) = parse() else {
        return false;
    };
    let (n, k) = cert_id_hashes(leaf, sha256);
    n == name_hash && k == key_hash && strip_zeros(serial) == leaf.serial
}

/// Signed by the issuer's key, or by a certificate in `certs` that the issuer signed, that
/// names the issuer as its issuer and carries the OCSPSigning EKU (RFC 6960 4.2.2.2).
fn ocsp_signed_by_issuer(signed: &Signed<'_>, leaf: &Leaf) -> bool {
    if verifies(signed.alg, signed.tbs, signed.sig, &leaf.issuer_key) {
        return true;
    }
    let Some((_, 0xA0, explicit)) = tlv_of_class(signed.tail) else {
        return false;
    };
    let Some((_, _, mut certs, _)) = tlv(explicit) else {
        return false;
    };
    for _ in 0..MAX_OCSP_CERTS {
        let Some((next, _, _, whole)) = tlv(certs) else {
            return false;
        };
        certs = next;
        let Ok((_, c)) = X509Certificate::from_der(whole) else {
            continue;
        };
        let Some(parts) = signed_parts(whole) else {
            continue;
        };
        let delegated = c.issuer().as_raw() == leaf.issuer_name.as_slice()
            && verifies(parts.alg, parts.tbs, parts.sig, &leaf.issuer_key)
            && c.extended_key_usage().ok().flatten().is_some_and(|e| {
                e.value
                    .other
                    .iter()
                    .any(|o| o.to_id_string() == OID_OCSP_SIGNING)
                    || e.value.ocsp_signing
            });
        if delegated
            && let Some(key) = spki_from_der(c.public_key().raw)
            && verifies(signed.alg, signed.tbs, signed.sig, &key)
        {
            return true;
        }
    }
    false
}

#[cfg(test)]
#[path = "revocation_tests.rs"]
mod tests;
