//! A ClientHello built from a client profile's parameters (versions, suites in order, groups,
//! signature algorithms and the extensions in order), so a server's answer to *that client's*
//! hello can be observed. The broad legacy hello (`legacy::client_hello`) offers everything
//! and so succeeds where a real client is refused; this one offers only what the client does.
//!
//! Pure: no I/O. The server's answer is read with `legacy::parse_server_flight`.

use super::wire::{handshake_message, put_records, put_u16, put_vec16, u16_list};
use sha2::{Digest, Sha256};

use super::legacy::TlsVersion;

/// One extension a profile sends, in the order the profile lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ext {
    /// status_request (5): OCSP stapling request, empty responder list and extensions.
    StatusRequest,
    /// supported_groups (10): the profile's groups.
    SupportedGroups,
    /// ec_point_formats (11): uncompressed only.
    EcPointFormats,
    /// signature_algorithms (13): the profile's schemes.
    SignatureAlgorithms,
    /// extended_master_secret (23), empty.
    ExtendedMasterSecret,
    /// session_ticket (35), empty: asks for a ticket, resumes nothing.
    SessionTicket,
    /// supported_versions (43): the profile's versions, newest first (TLS 1.3 profiles only).
    SupportedVersions,
    /// psk_key_exchange_modes (45): psk_dhe_ke.
    PskKeyExchangeModes,
    /// key_share (51): one x25519 share (TLS 1.3 profiles only).
    KeyShare,
    /// renegotiation_info (0xFF01), empty renegotiated_connection.
    RenegotiationInfo,
}

impl Ext {
    fn code(self) -> u16 {
        match self {
            Ext::StatusRequest => 5,
            Ext::SupportedGroups => 10,
            Ext::EcPointFormats => 11,
            Ext::SignatureAlgorithms => 13,
            Ext::ExtendedMasterSecret => 23,
            Ext::SessionTicket => 35,
            Ext::SupportedVersions => 43,
            Ext::PskKeyExchangeModes => 45,
            Ext::KeyShare => 51,
            Ext::RenegotiationInfo => 0xFF01,
        }
    }
}

/// What a client puts in its ClientHello.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HelloSpec {
    /// Lowest and highest version the client enables by default.
    pub min: TlsVersion,
    pub max: TlsVersion,
    /// Cipher suites in the client's order (TLS 1.3 suites included when `max` is 1.3).
    pub suites: &'static [u16],
    pub groups: &'static [u16],
    pub sig_algs: &'static [u16],
    pub extensions: &'static [Ext],
}

impl HelloSpec {
    /// Whether the client offers `v`.
    pub fn offers_version(&self, v: TlsVersion) -> bool {
        v >= self.min && v <= self.max
    }

    /// Whether the client offers the suite `s` (by IANA code).
    pub fn offers_suite(&self, s: u16) -> bool {
        self.suites.contains(&s)
    }
}

const GROUP_X25519: u16 = 0x001D;

fn ext_body(e: Ext, spec: &HelloSpec, random: &[u8; 32]) -> Vec<u8> {
    let mut b = Vec::new();
    match e {
        // status_type ocsp(1), empty responder_id_list, empty request_extensions.
        Ext::StatusRequest => b.extend_from_slice(&[1, 0, 0, 0, 0]),
        Ext::SupportedGroups => put_vec16(&mut b, &u16_list(spec.groups)),
        Ext::EcPointFormats => b.extend_from_slice(&[1, 0]),
        Ext::SignatureAlgorithms => put_vec16(&mut b, &u16_list(spec.sig_algs)),
        Ext::ExtendedMasterSecret | Ext::SessionTicket => {}
        Ext::SupportedVersions => {
            let versions: Vec<u16> = [
                TlsVersion::TLS13,
                TlsVersion::TLS12,
                TlsVersion::TLS11,
                TlsVersion::TLS10,
            ]
            .iter()
            .filter(|v| spec.offers_version(**v))
            .map(|v| v.0)
            .collect();
            let list = u16_list(&versions);
            b.push(u8::try_from(list.len()).unwrap_or(u8::MAX));
            b.extend_from_slice(&list);
        }
        // One mode: psk_dhe_ke (1).
        Ext::PskKeyExchangeModes => b.extend_from_slice(&[1, 1]),
        Ext::KeyShare => {
            // Any 32 bytes are a valid x25519 public key; the handshake is never completed.
            let mut h = Sha256::new();
            h.update(b"rdpsweep profile key_share");
            h.update(random);
            let public = h.finalize();
            let mut entry = Vec::with_capacity(36);
            put_u16(&mut entry, GROUP_X25519);
            put_vec16(&mut entry, &public);
            put_vec16(&mut b, &entry);
        }
        Ext::RenegotiationInfo => b.push(0),
    }
    b
}

/// The ClientHello record for `spec`: no SNI (the scanner connects by address, as mstsc does
/// to an IP), an empty session id (CredSSP forbids resumption), null compression only.
/// The record and legacy_version are `min(max, TLS 1.2)` as RFC 8446 asks; TLS 1.3 moves into
/// supported_versions.
pub fn build(spec: &HelloSpec, random: [u8; 32]) -> Vec<u8> {
    let legacy_version = spec.max.min(TlsVersion::TLS12);
    let mut exts = Vec::new();
    for e in spec.extensions {
        put_u16(&mut exts, e.code());
        put_vec16(&mut exts, &ext_body(*e, spec, &random));
    }
    let mut body = Vec::with_capacity(256);
    put_u16(&mut body, legacy_version.0);
    body.extend_from_slice(&random);
    body.push(0);
    put_vec16(&mut body, &u16_list(spec.suites));
    body.extend_from_slice(&[1, 0]);
    put_vec16(&mut body, &exts);

    let msg = handshake_message(1, &body); // client_hello
    let mut out = Vec::with_capacity(msg.len() + 5);
    put_records(&mut out, 22, legacy_version.0, &msg); // handshake record
    out
}

#[cfg(test)]
mod tests;
