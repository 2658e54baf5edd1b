//! Certificate policy facts: EKU, key usage, the Microsoft template extensions, CRL
//! distribution points, AIA URLs. Server-controlled bytes: every list is capped, every text
//! is cleaned of control characters, and a malformed extension is a note, never a panic.

use x509_parser::asn1_rs::{Any, FromDer, Oid, Tag};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};

use crate::model::CertFacts;

pub const OID_SERVER_AUTH: &str = "1.3.6.1.5.5.7.3.1";
/// Remote Desktop Authentication: template certificates may carry it instead of serverAuth.
pub const OID_RDP_AUTH: &str = "1.3.6.1.4.1.311.54.1.2";
pub const OID_ANY_EKU: &str = "2.5.29.37.0";
const OID_EKU: &str = "2.5.29.37";
const OID_TEMPLATE_INFO: &str = "1.3.6.1.4.1.311.21.7";
const OID_TEMPLATE_NAME: &str = "1.3.6.1.4.1.311.20.2";
const OID_AIA_OCSP: &str = "1.3.6.1.5.5.7.48.1";
const OID_AIA_CA_ISSUERS: &str = "1.3.6.1.5.5.7.48.2";

/// Entries kept per list: real certificates carry a handful; a hostile one may carry 10,000.
pub const MAX_LIST: usize = 16;
/// Characters kept per URL or name.
pub const MAX_TEXT: usize = 256;
/// Marker entry in the EKU list for an extension that does not decode.
pub const EKU_MALFORMED: &str = "malformed";

/// Readable name of an EKU OID.
pub fn eku_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        OID_SERVER_AUTH => "serverAuth",
        "1.3.6.1.5.5.7.3.2" => "clientAuth",
        "1.3.6.1.5.5.7.3.3" => "codeSigning",
        "1.3.6.1.5.5.7.3.4" => "emailProtection",
        "1.3.6.1.5.5.7.3.8" => "timeStamping",
        "1.3.6.1.5.5.7.3.9" => "OCSPSigning",
        OID_ANY_EKU => "anyExtendedKeyUsage",
        OID_RDP_AUTH => "remoteDesktopAuthentication",
        "1.3.6.1.4.1.311.20.2.2" => "smartcardLogon",
        "1.3.6.1.4.1.311.10.3.4" => "encryptingFileSystem",
        "1.3.6.1.5.2.3.5" => "kdcAuthentication",
        _ => return None,
    })
}

/// "serverAuth(1.3.6.1.5.5.7.3.1)" for known OIDs, the dotted OID otherwise.
pub fn eku_display(oid: &str) -> String {
    match eku_name(oid) {
        Some(n) => format!("{n}({oid})"),
        None => oid.to_string(),
    }
}

/// Does the EKU let the certificate serve RDP? Absent EKU = any usage. serverAuth or Remote
/// Desktop Authentication qualify; anyExtendedKeyUsage is not judged (RFC 5280 allows it).
pub fn eku_allows_rdp(facts: &CertFacts) -> bool {
    match &facts.eku {
        None => true,
        Some(list) => list
            .iter()
            .any(|o| matches!(o.as_str(), OID_SERVER_AUTH | OID_RDP_AUTH | OID_ANY_EKU)),
    }
}

/// Control characters become `\xNN`; length capped at [`MAX_TEXT`] characters (then "…").
pub fn clean_text(s: &str) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n >= MAX_TEXT {
            out.push('…');
            break;
        }
        if c.is_control() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn push_capped(list: &mut Vec<String>, total: &mut usize, s: String) {
    *total += 1;
    if list.len() < MAX_LIST {
        list.push(s);
    }
}

fn note_overflow(list: &mut Vec<String>, total: usize) {
    if total > list.len() {
        list.push(format!("(+{} more)", total - list.len()));
    }
}

/// Fills the policy facts of `facts` from `cert`. Returns a note for the first extension
/// that did not decode (the caller keeps it as `parse_error` when there is none yet).
pub fn fill(cert: &X509Certificate<'_>, facts: &mut CertFacts) -> Option<String> {
    let mut note = None;
    facts.serial = hex::encode_upper(cert.raw_serial());
    let (mut crl_n, mut ocsp_n, mut ca_n) = (0usize, 0usize, 0usize);
    let mut name = None;
    let mut info = None;
    for ext in cert.extensions() {
        let oid = ext.oid.to_id_string();
        match oid.as_str() {
            OID_EKU => facts.eku = Some(eku_list(ext.value)),
            OID_TEMPLATE_NAME => name = template_name(ext.value),
            OID_TEMPLATE_INFO => info = template_info(ext.value),
            _ => {}
        }
        match ext.parsed_extension() {
            ParsedExtension::KeyUsage(ku) => {
                facts.key_usage = KU_NAMES
                    .iter()
                    .enumerate()
                    .filter(|(bit, _)| ku.flags & (1u16 << bit) != 0)
                    .map(|(_, n)| (*n).to_string())
                    .collect();
            }
            ParsedExtension::CRLDistributionPoints(points) => {
                for p in points.iter() {
                    if let Some(DistributionPointName::FullName(names)) = &p.distribution_point {
                        for n in names {
                            if let GeneralName::URI(u) = n {
                                push_capped(&mut facts.crl_urls, &mut crl_n, clean_text(u));
                            }
                        }
                    }
                }
            }
            ParsedExtension::AuthorityInfoAccess(aia) => {
                for d in &aia.accessdescs {
                    let GeneralName::URI(u) = &d.access_location else {
                        continue;
                    };
                    match d.access_method.to_id_string().as_str() {
                        OID_AIA_OCSP => {
                            push_capped(&mut facts.ocsp_urls, &mut ocsp_n, clean_text(u))
                        }
                        OID_AIA_CA_ISSUERS => {
                            push_capped(&mut facts.ca_issuers_urls, &mut ca_n, clean_text(u))
                        }
                        _ => {}
                    }
                }
            }
            ParsedExtension::ParseError { error } if note.is_none() => {
                note = Some(format!("extension {oid}: {error}"));
            }
            _ => {}
        }
    }
    note_overflow(&mut facts.crl_urls, crl_n);
    note_overflow(&mut facts.ocsp_urls, ocsp_n);
    note_overflow(&mut facts.ca_issuers_urls, ca_n);
    facts.template = match (name, info) {
        (Some(n), Some(i)) => Some(format!("{n} {i}")),
        (Some(n), None) => Some(n),
        (None, Some(i)) => Some(i),
        (None, None) => None,
    };
    note
}

/// RFC 5280 key usage bits in x509-parser's flag order (bit 0 = digitalSignature).
const KU_NAMES: [&str; 9] = [
    "digitalSignature",
    "nonRepudiation",
    "keyEncipherment",
    "dataEncipherment",
    "keyAgreement",
    "keyCertSign",
    "cRLSign",
    "encipherOnly",
    "decipherOnly",
];

/// EKU OIDs in certificate order. serverAuth/RDA/any are always kept even past the cap, so a
/// long list cannot hide the usage that matters; garbage gives the [`EKU_MALFORMED`] marker.
fn eku_list(value: &[u8]) -> Vec<String> {
    let Ok((_, seq)) = Any::from_der(value) else {
        return vec![EKU_MALFORMED.to_string()];
    };
    if seq.tag() != Tag::Sequence {
        return vec![EKU_MALFORMED.to_string()];
    }
    let mut out = Vec::new();
    let mut total = 0usize;
    let mut rest = seq.data;
    while !rest.is_empty() {
        let Some((r, oid)) = oid_from_der(rest) else {
            out.push(EKU_MALFORMED.to_string());
            break;
        };
        rest = r;
        total += 1;
        let s = oid.to_id_string();
        let key = matches!(s.as_str(), OID_SERVER_AUTH | OID_RDP_AUTH | OID_ANY_EKU);
        if key || out.len() < MAX_LIST {
            out.push(clean_text(&s));
        }
    }
    let kept = out.iter().filter(|s| *s != EKU_MALFORMED).count();
    if total > kept {
        out.push(format!("(+{} more)", total - kept));
    }
    out
}

/// One OBJECT IDENTIFIER TLV (asn1-rs' `Oid::from_der` does not insist on the tag).
fn oid_from_der(bytes: &[u8]) -> Option<(&[u8], Oid<'_>)> {
    let (rest, any) = Any::from_der(bytes).ok()?;
    if any.tag() != Tag::Oid || any.data.is_empty() {
        return None;
    }
    Some((rest, Oid::new(std::borrow::Cow::Borrowed(any.data))))
}

/// szOID_ENROLL_CERTTYPE_EXTENSION (1.3.6.1.4.1.311.20.2): the template name, usually a
/// BMPString.
fn template_name(value: &[u8]) -> Option<String> {
    let (_, any) = Any::from_der(value).ok()?;
    let data = any.data;
    let text = match any.tag() {
        Tag::BmpString => {
            if data.len() % 2 != 0 {
                return None;
            }
            let units: Vec<u16> = data
                .chunks_exact(2)
                .filter_map(|c| <[u8; 2]>::try_from(c).ok().map(u16::from_be_bytes))
                .collect();
            String::from_utf16(&units).ok()?
        }
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String => {
            std::str::from_utf8(data).ok()?.to_string()
        }
        _ => return None,
    };
    Some(clean_text(&text))
}

/// szOID_CERTIFICATE_TEMPLATE (1.3.6.1.4.1.311.21.7): SEQUENCE { templateID OID,
/// majorVersion INTEGER OPTIONAL, minorVersion INTEGER OPTIONAL } -> "OID v100.3".
fn template_info(value: &[u8]) -> Option<String> {
    let (_, seq) = Any::from_der(value).ok()?;
    if seq.tag() != Tag::Sequence {
        return None;
    }
    let (rest, oid) = oid_from_der(seq.data)?;
    let oid = clean_text(&oid.to_id_string());
    let major = u32::from_der(rest).ok();
    let minor = major
        .and_then(|(r, _)| u32::from_der(r).ok())
        .map(|(_, v)| v);
    Some(match (major.map(|(_, v)| v), minor) {
        (Some(a), Some(b)) => format!("{oid} v{a}.{b}"),
        (Some(a), None) => format!("{oid} v{a}"),
        _ => oid,
    })
}
