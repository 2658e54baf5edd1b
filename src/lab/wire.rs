//! The lab's side of the wire: thin adapters over the shared codecs (`crate::rdp`, `crate::tls::legacy`,
//! whose server-side builders exist for the lab) plus the few things only a (sometimes hostile)
//! server needs: the DPUm, alerts, a deliberately broken CHALLENGE, incremental framing helpers.
//!
//! Tests in tests/lab.rs read the lab's bytes with their own test-side parsers, so a codec bug
//! shared by the lab and the scanner still shows up there.

use crate::rdp::Parse;
use crate::rdp::credssp;
use crate::rdp::ntlm::{self, NtlmVersion};
use crate::rdp::x224::{self, ConfirmSpec, FailureCode, NegRspFlags};
use crate::tls::legacy::{self, TlsVersion};

/// The reply decided for a CR (Copy, unlike the codec's spec type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    /// RDP_NEG_RSP with selectedProtocol and flags.
    Selected { protocol: u32, flags: u8 },
    /// RDP_NEG_FAILURE with failureCode.
    Failure(u32),
    /// Bare 11-byte CC (servers that predate negotiation, or xrdp without an RDP_NEG_REQ).
    Legacy,
}

/// TPKT + X.224 Connection Confirm (MS-RDPBCGR 2.2.1.2), SRC-REF 0x1234 as Windows sends it.
pub fn connection_confirm(c: Confirm) -> Vec<u8> {
    x224::connection_confirm(&match c {
        Confirm::Selected { protocol, flags } => ConfirmSpec::Selected {
            protocol,
            flags: NegRspFlags::from_bits_retain(flags),
        },
        Confirm::Failure(code) => ConfirmSpec::Failure(FailureCode(code)),
        Confirm::Legacy => ConfirmSpec::Legacy,
    })
}

/// xrdp's answer to a request it rejects: X.224 Data TPDU + MCS Disconnect-Provider-Ultimatum.
pub const DPUM: [u8; 9] = [0x03, 0x00, 0x00, 0x09, 0x02, 0xF0, 0x80, 0x21, 0x80];

/// What the lab needs from a client's Connection Request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRequest {
    /// requestedProtocols, None when no RDP_NEG_REQ was present.
    pub requested: Option<u32>,
    /// RDP_NEG_REQ flags (0 without one).
    pub flags: u8,
}

/// Total TPKT length announced by a 4-byte header, if the first byte says TPKT v3.
pub fn tpkt_len(head: &[u8]) -> Option<usize> {
    match head {
        [0x03, _, hi, lo, ..] => Some(usize::from(u16::from_be_bytes([*hi, *lo]))),
        _ => None,
    }
}

/// Parse one complete TPKT holding an X.224 CR. Err means a real server would drop the
/// connection (MS-RDPBCGR 3.3.5.3.1), including a PDU the codec still finds incomplete.
pub fn parse_connection_request(pdu: &[u8]) -> Result<ConnectionRequest, &'static str> {
    match x224::parse_connection_request(pdu) {
        Parse::Done(Ok(cr)) => Ok(ConnectionRequest {
            requested: cr.requested,
            flags: cr.flags,
        }),
        Parse::Done(Err(e)) => Err(e),
        Parse::Incomplete { .. } => Err("truncated CR"),
    }
}

/// Where reading a client TSRequest stands.
pub enum TsRead {
    /// Read until the buffer holds this many bytes.
    Need(usize),
    /// Complete: the NTLM message type of its first token, if any.
    Done(Option<u32>),
    /// Not a TSRequest the server could answer.
    Bad,
}

/// Incremental read of the client's TSRequest (bounded by the codec's MAX_TS_REQUEST).
pub fn read_ts_request(buf: &[u8]) -> TsRead {
    match credssp::parse_ts_request(buf) {
        Parse::Incomplete { need } => TsRead::Need(need),
        Parse::Done(Ok(ts)) => {
            TsRead::Done(ts.nego_tokens.first().and_then(|t| ntlm_message_type(t)))
        }
        Parse::Done(Err(_)) => TsRead::Bad,
    }
}

pub use credssp::{ts_request_error, ts_request_with_token};

pub const NTLMSSP: &[u8; 8] = b"NTLMSSP\0";

/// The NTLM message type found in `buf` (searching for the signature, raw or SPNEGO-wrapped).
pub fn ntlm_message_type(buf: &[u8]) -> Option<u32> {
    let at = buf.windows(8).position(|w| w == NTLMSSP)?;
    let t = buf.get(at + 8..at + 12)?;
    Some(u32::from_le_bytes([
        *t.first()?,
        *t.get(1)?,
        *t.get(2)?,
        *t.get(3)?,
    ]))
}

/// Flags a Windows server typically answers with: UNICODE, REQUEST_TARGET, SIGN, NTLM, ALWAYS_SIGN,
/// TARGET_TYPE_DOMAIN, EXTENDED_SESSIONSECURITY, TARGET_INFO, VERSION, 128, KEY_EXCH, 56.
pub const CHALLENGE_FLAGS: u32 = 0xE28A_8215;

/// What goes into the lab's CHALLENGE_MESSAGE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeSpec<'a> {
    pub nb_computer: &'a str,
    pub nb_domain: &'a str,
    pub dns_computer: &'a str,
    pub dns_domain: &'a str,
    pub dns_tree: &'a str,
    /// FILETIME: 100 ns intervals since 1601-01-01.
    pub timestamp: u64,
    pub version: (u8, u8, u16),
    /// Deliberately broken: TargetInfo offset points past the end of the message.
    pub bad_offsets: bool,
}

/// CHALLENGE_MESSAGE with TargetName = NetBIOS domain (a domain member's answer).
pub fn challenge_message(spec: &ChallengeSpec<'_>) -> Vec<u8> {
    let (major, minor, build) = spec.version;
    let mut m = ntlm::challenge_message(&ntlm::ChallengeSpec {
        target_name: spec.nb_domain.to_string(),
        nb_computer: spec.nb_computer.to_string(),
        nb_domain: spec.nb_domain.to_string(),
        dns_computer: spec.dns_computer.to_string(),
        dns_domain: spec.dns_domain.to_string(),
        dns_tree: spec.dns_tree.to_string(),
        timestamp: spec.timestamp,
        version: NtlmVersion {
            major,
            minor,
            build,
        },
        flags: CHALLENGE_FLAGS,
    });
    if spec.bad_offsets {
        // TargetInfoBufferOffset (bytes 44..48) far past the end: a parser must bounds-check.
        if let Some(off) = m.get_mut(44..48) {
            off.copy_from_slice(&0xFFF0u32.to_le_bytes());
        }
    }
    m
}

/// Unix seconds to FILETIME (saturating for dates before 1601, which the lab never uses).
pub fn unix_to_filetime(unix_secs: i64, nanos: u32) -> u64 {
    let secs = unix_secs.saturating_add(11_644_473_600).max(0) as u64;
    secs.saturating_mul(10_000_000)
        .saturating_add(u64::from(nanos / 100))
}

// ---------------------------------------------------------------------------------------------
// Raw TLS (RFC 2246 / 5246) for the servers rustls cannot play: TLS 1.0, CBC + RSA key exchange.

pub const TLS10: u16 = TlsVersion::TLS10.0;
pub const TLS11: u16 = TlsVersion::TLS11.0;
pub const TLS12: u16 = TlsVersion::TLS12.0;

/// Facts from a ClientHello that decide the lab's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    pub legacy_version: u16,
    /// From the supported_versions extension (empty when absent).
    pub supported_versions: Vec<u16>,
    pub suites: Vec<u16>,
}

impl ClientHello {
    /// Would the client accept `v`? Without supported_versions, every version up to
    /// legacy_version is acceptable as far as the server can tell (the client decides later).
    pub fn offers_version(&self, v: u16) -> bool {
        if self.supported_versions.is_empty() {
            v <= self.legacy_version
        } else {
            self.supported_versions.contains(&v)
        }
    }
}

/// Incremental ClientHello reader: Ok(None) = need more bytes.
pub fn parse_client_hello(buf: &[u8]) -> Result<Option<ClientHello>, &'static str> {
    match legacy::parse_client_hello(buf) {
        legacy::Parse::Incomplete { .. } => Ok(None),
        legacy::Parse::Done(Err(e)) => Err(e),
        legacy::Parse::Done(Ok(h)) => Ok(Some(ClientHello {
            legacy_version: h.legacy_version.0,
            supported_versions: h.supported_versions.iter().map(|v| v.0).collect(),
            suites: h.suites,
        })),
    }
}

/// ServerHello + Certificate + ServerHelloDone (what Schannel sends for an RSA key-exchange suite).
pub fn server_flight(version: u16, suite: u16, chain: &[Vec<u8>]) -> Vec<u8> {
    legacy::server_flight(TlsVersion(version), suite, chain)
}

/// One alert record: fatal `description`.
pub fn alert(version: u16, description: u8) -> [u8; 7] {
    let v = version.to_be_bytes();
    // ContentType alert, version, length 2, level fatal, description
    [0x15, v[0], v[1], 0x00, 0x02, 0x02, description]
}

pub const ALERT_HANDSHAKE_FAILURE: u8 = 40;
pub const ALERT_PROTOCOL_VERSION: u8 = 70;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cc_layouts() {
        assert_eq!(
            connection_confirm(Confirm::Legacy),
            // TPKT len 11, LI 6, CC, DST-REF 0, SRC-REF 0x1234, class 0
            [
                0x03, 0x00, 0x00, 0x0B, 0x06, 0xD0, 0x00, 0x00, 0x12, 0x34, 0x00
            ]
        );
        assert_eq!(
            connection_confirm(Confirm::Selected {
                protocol: 8,
                flags: 0x1B
            }),
            [
                0x03, 0x00, 0x00, 0x13, // TPKT, length 19
                0x0E, 0xD0, 0x00, 0x00, 0x12, 0x34, 0x00, // LI 14, CC, refs, class
                0x02, 0x1B, 0x08, 0x00, // RDP_NEG_RSP, flags, length 8
                0x08, 0x00, 0x00, 0x00, // selectedProtocol HYBRID_EX
            ]
        );
        assert_eq!(
            connection_confirm(Confirm::Failure(5)).get(11..),
            // RDP_NEG_FAILURE, flags 0, length 8, HYBRID_REQUIRED_BY_SERVER
            Some(&[0x03, 0x00, 0x08, 0x00, 0x05, 0x00, 0x00, 0x00][..])
        );
    }

    #[test]
    fn cr_parse() {
        let mut cr = vec![0x03, 0x00, 0x00, 0x2B, 0x26, 0xE0, 0, 0, 0, 0, 0]; // TPKT 43, LI 38, CR, refs, class
        cr.extend_from_slice(b"Cookie: mstshash=probe\r\n"); // cookie (24 bytes)
        cr.extend_from_slice(&[0x01, 0x00, 0x08, 0x00, 0x0B, 0x00, 0x00, 0x00]); // NEG_REQ 0x0B
        assert_eq!(
            parse_connection_request(&cr),
            Ok(ConnectionRequest {
                requested: Some(0x0B),
                flags: 0
            })
        );
        assert_eq!(tpkt_len(&cr), Some(43));
        // Bare CR: TPKT 11, LI 6, no negotiation
        let bare = [0x03, 0x00, 0x00, 0x0B, 0x06, 0xE0, 0, 0, 0, 0, 0];
        assert_eq!(
            parse_connection_request(&bare).map(|c| c.requested),
            Ok(None)
        );
        // LI disagreeing with the TPKT length is dropped
        let bad = [0x03, 0x00, 0x00, 0x0B, 0x07, 0xE0, 0, 0, 0, 0, 0];
        assert!(parse_connection_request(&bad).is_err());
        // Truncated input is an error here (the lab only parses complete TPKTs), never a panic
        for n in 0..cr.len() {
            assert!(parse_connection_request(cr.get(..n).unwrap_or_default()).is_err());
        }
    }

    #[test]
    fn ts_requests() {
        let t = ts_request_with_token(6, &[0xAA, 0xBB]);
        assert_eq!(
            t,
            [
                0x30, 0x11, // SEQUENCE
                0xA0, 0x03, 0x02, 0x01, 0x06, // [0] version 6
                0xA1, 0x0A, 0x30, 0x08, 0x30, 0x06, // [1] NegoData, SEQUENCE OF, SEQUENCE
                0xA0, 0x04, 0x04, 0x02, 0xAA, 0xBB, // [0] OCTET STRING token
            ]
        );
        // A NEGOTIATE inside: complete, type 1; every prefix asks for more.
        let neg = ts_request_with_token(6, &crate::rdp::ntlm::negotiate_message());
        assert!(matches!(read_ts_request(&neg), TsRead::Done(Some(1))));
        for n in 0..neg.len() {
            assert!(
                matches!(read_ts_request(neg.get(..n).unwrap_or_default()), TsRead::Need(k) if k > n)
            );
        }
        assert!(matches!(read_ts_request(b"GET / HTTP/1.1"), TsRead::Bad));
        let e = ts_request_error(6, 0xC000_006D);
        assert!(e.windows(4).any(|w| w == [0xC0, 0x00, 0x00, 0x6D]));
    }

    #[test]
    fn challenge_layout() {
        let spec = ChallengeSpec {
            nb_computer: "HOST",
            nb_domain: "LAB",
            dns_computer: "host.lab.test",
            dns_domain: "lab.test",
            dns_tree: "lab.test",
            timestamp: 0x01DC_0000_0000_0000,
            version: (10, 0, 20348),
            bad_offsets: false,
        };
        let m = challenge_message(&spec);
        assert_eq!(m.get(..8), Some(&NTLMSSP[..]));
        assert_eq!(m.get(8..12), Some(&[2, 0, 0, 0][..])); // CHALLENGE
        assert_eq!(m.get(12..20), Some(&[6, 0, 6, 0, 56, 0, 0, 0][..])); // "LAB" UTF-16, offset 56
        assert_eq!(m.get(20..24), Some(&CHALLENGE_FLAGS.to_le_bytes()[..]));
        assert_eq!(m.get(48..56), Some(&[10, 0, 0x7C, 0x4F, 0, 0, 0, 0x0F][..])); // 10.0.20348 rev 15
        assert_eq!(m.get(56..62), Some(&b"L\0A\0B\0"[..]));
        assert_eq!(m.get(62..64), Some(&[2, 0][..])); // first AV pair: NbDomainName
        assert_eq!(m.get(m.len() - 4..), Some(&[0, 0, 0, 0][..])); // MsvAvEOL
        assert_eq!(ntlm_message_type(&m), Some(2));
        let c = crate::rdp::ntlm::parse_challenge(&m).unwrap();
        assert_eq!(c.nb_computer.as_deref(), Some("HOST"));
        let bad = challenge_message(&ChallengeSpec {
            bad_offsets: true,
            ..spec
        });
        let off = u32::from_le_bytes([bad[44], bad[45], bad[46], bad[47]]) as usize;
        assert!(off > bad.len());
        assert_eq!(unix_to_filetime(0, 0), 116_444_736_000_000_000);
    }

    fn hello(legacy: u16, suites: &[u16], versions: Option<&[u16]>) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&legacy.to_be_bytes()); // client_version
        body.extend_from_slice(&[7; 32]); // random
        body.push(0); // session id length
        body.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
        for s in suites {
            body.extend_from_slice(&s.to_be_bytes());
        }
        body.extend_from_slice(&[1, 0]); // compression: null
        let mut exts = Vec::new();
        if let Some(vs) = versions {
            exts.extend_from_slice(&[0x00, 0x2B]); // supported_versions
            exts.extend_from_slice(&((vs.len() * 2 + 1) as u16).to_be_bytes());
            exts.push((vs.len() * 2) as u8);
            for v in vs {
                exts.extend_from_slice(&v.to_be_bytes());
            }
        }
        body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        body.extend_from_slice(&exts);
        let mut hs = vec![0x01, 0, (body.len() >> 8) as u8, body.len() as u8]; // ClientHello, u24
        hs.extend_from_slice(&body);
        hs
    }

    fn record(payload: &[u8]) -> Vec<u8> {
        // handshake record, TLS 1.0, length
        let mut r = vec![
            0x16,
            0x03,
            0x01,
            (payload.len() >> 8) as u8,
            payload.len() as u8,
        ];
        r.extend_from_slice(payload);
        r
    }

    #[test]
    fn client_hello_parse() {
        let hs = hello(TLS12, &[0x002F, 0xC02B], Some(&[0x0304, 0x0303]));
        let h = parse_client_hello(&record(&hs)).unwrap().unwrap();
        assert_eq!(h.legacy_version, TLS12);
        assert_eq!(h.suites, [0x002F, 0xC02B]);
        assert!(!h.offers_version(TLS10));
        assert!(h.offers_version(TLS12));
        // Split over two records, and fed incrementally.
        let (a, b) = hs.split_at(10);
        let mut two = record(a);
        two.extend_from_slice(&record(b));
        for n in 0..two.len() {
            assert_eq!(
                parse_client_hello(two.get(..n).unwrap_or_default()),
                Ok(None)
            );
        }
        assert!(parse_client_hello(&two).unwrap().is_some());
        let old = hello(TLS10, &[0x002F], None);
        let h = parse_client_hello(&record(&old)).unwrap().unwrap();
        assert!(h.offers_version(TLS10) && !h.offers_version(TLS12));
        assert!(parse_client_hello(b"GET / HTTP/1.1\r\n").is_err());
    }

    #[test]
    fn flight_and_alerts() {
        let cert = vec![0x30, 0x03, 1, 2, 3];
        let f = server_flight(TLS10, 0x002F, std::slice::from_ref(&cert));
        assert_eq!(f.get(..3), Some(&[0x16, 0x03, 0x01][..])); // handshake record, TLS 1.0
        assert_eq!(f.get(5), Some(&0x02)); // ServerHello
        assert_eq!(f.get(9..11), Some(&[0x03, 0x01][..])); // server_version
        assert_eq!(f.get(f.len() - 4..), Some(&[0x0E, 0, 0, 0][..])); // ServerHelloDone
        assert!(f.windows(5).any(|w| w == cert.as_slice()));
        // alert record, TLS 1.2, length 2, fatal, protocol_version
        assert_eq!(
            alert(TLS12, ALERT_PROTOCOL_VERSION),
            [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 70]
        );
    }
}
