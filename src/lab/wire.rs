//! Server-side byte builders and the few parsers the lab needs (X.224 CR, TLS ClientHello,
//! TSRequest framing, NTLM NEGOTIATE detection).
//!
//! These are private to the lab on purpose: the scanner's codecs live in `src/rdp` and `src/tls`
//! and are written independently, so the lab does not test the scanner against itself. Every parser
//! takes untrusted bytes and never panics (only `get(..)` and checked arithmetic).

/// RDP_NEG_RSP / RDP_NEG_FAILURE / nothing, as the server puts it into its Connection Confirm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    /// RDP_NEG_RSP with selectedProtocol and flags.
    Selected { protocol: u32, flags: u8 },
    /// RDP_NEG_FAILURE with failureCode.
    Failure(u32),
    /// Bare 11-byte CC (servers that predate negotiation, or xrdp without an RDP_NEG_REQ).
    Legacy,
}

/// SRC-REF as Windows and xrdp send it (rdp-protocol.md 1.3).
const SRC_REF: [u8; 2] = [0x12, 0x34];

/// TPKT + X.224 Connection Confirm (MS-RDPBCGR 2.2.1.2).
pub fn connection_confirm(c: Confirm) -> Vec<u8> {
    let neg: Option<[u8; 8]> = match c {
        Confirm::Selected { protocol, flags } => Some(neg_block(0x02, flags, protocol)),
        Confirm::Failure(code) => Some(neg_block(0x03, 0, code)),
        Confirm::Legacy => None,
    };
    let total: u8 = if neg.is_some() { 19 } else { 11 };
    let mut out = Vec::with_capacity(usize::from(total));
    out.extend_from_slice(&[0x03, 0x00, 0x00, total]); // TPKT v3, reserved, length (BE)
    out.push(total - 5); // LI: bytes after the LI byte itself (0x0E or 0x06)
    out.push(0xD0); // CC TPDU, CDT 0
    out.extend_from_slice(&[0x00, 0x00]); // DST-REF
    out.extend_from_slice(&SRC_REF);
    out.push(0x00); // class 0
    if let Some(n) = neg {
        out.extend_from_slice(&n);
    }
    out
}

fn neg_block(kind: u8, flags: u8, value: u32) -> [u8; 8] {
    let v = value.to_le_bytes();
    // type, flags, length 8 (LE), value (LE)
    [kind, flags, 0x08, 0x00, v[0], v[1], v[2], v[3]]
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

/// Parse one complete TPKT holding an X.224 CR (MS-RDPBCGR 3.3.5.3.1 rules: at least 11 bytes,
/// lengths that agree, CR TPDU, class 0). Err means a real server would drop the connection.
pub fn parse_connection_request(pdu: &[u8]) -> Result<ConnectionRequest, &'static str> {
    let len = tpkt_len(pdu).ok_or("not TPKT")?;
    if len < 11 || len != pdu.len() {
        return Err("bad TPKT length");
    }
    let li = usize::from(*pdu.get(4).ok_or("short")?);
    if li.checked_add(5) != Some(len) {
        return Err("LI disagrees with TPKT length");
    }
    if pdu.get(5).map(|c| c & 0xF0) != Some(0xE0) {
        return Err("not a CR TPDU");
    }
    if pdu.get(10) != Some(&0) {
        return Err("class is not 0");
    }
    let mut rest = pdu.get(11..).unwrap_or_default();
    // Cookie or routing token: ASCII up to and including CR LF. Servers ignore the content.
    if rest.starts_with(b"Cookie:") {
        let end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("cookie without CR LF")?;
        rest = rest.get(end + 2..).unwrap_or_default();
    }
    match rest {
        [] => Ok(ConnectionRequest {
            requested: None,
            flags: 0,
        }),
        [0x01, flags, 0x08, 0x00, a, b, c, d, tail @ ..] => {
            // Only RDP_NEG_CORRELATION_INFO (36 bytes) may follow.
            if !(tail.is_empty() || (tail.len() == 36 && tail.first() == Some(&0x06))) {
                return Err("trailing bytes after RDP_NEG_REQ");
            }
            Ok(ConnectionRequest {
                requested: Some(u32::from_le_bytes([*a, *b, *c, *d])),
                flags: *flags,
            })
        }
        _ => Err("malformed RDP_NEG_REQ"),
    }
}

// ---------------------------------------------------------------------------------------------
// DER (CredSSP TSRequest, MS-CSSP 2.2.1)

/// DER length octets (definite form).
fn der_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else if len <= 0xFF {
        out.extend_from_slice(&[0x81, len as u8]);
    } else if len <= 0xFFFF {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    } else {
        // The lab never builds anything this large; clamp via 3 bytes for completeness.
        out.extend_from_slice(&[0x83, (len >> 16) as u8, (len >> 8) as u8, len as u8]);
    }
}

fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    der_len(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

/// Minimal two's-complement DER INTEGER content for a signed value.
fn der_int(v: i64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut start = 0;
    // Drop leading bytes that only repeat the sign.
    while start < 7 {
        let (Some(&b), Some(&next)) = (bytes.get(start), bytes.get(start + 1)) else {
            break;
        };
        let redundant = (b == 0x00 && next & 0x80 == 0) || (b == 0xFF && next & 0x80 != 0);
        if !redundant {
            break;
        }
        start += 1;
    }
    der_tlv(0x02, bytes.get(start..).unwrap_or_default())
}

/// TSRequest { version [0], negoTokens [1] { { negoToken [0] OCTET STRING } } }.
pub fn ts_request_with_token(version: u32, token: &[u8]) -> Vec<u8> {
    let mut body = der_tlv(0xA0, &der_int(i64::from(version)));
    let nego_data = der_tlv(0x30, &der_tlv(0x30, &der_tlv(0xA0, &der_tlv(0x04, token))));
    body.extend_from_slice(&der_tlv(0xA1, &nego_data));
    der_tlv(0x30, &body)
}

/// TSRequest { version [0], errorCode [4] } — the NTSTATUS is encoded as a signed 32-bit INTEGER,
/// so 0xC000006D becomes the 4-byte negative form `C0 00 00 6D`.
pub fn ts_request_error(version: u32, error_code: u32) -> Vec<u8> {
    let mut body = der_tlv(0xA0, &der_int(i64::from(version)));
    body.extend_from_slice(&der_tlv(0xA4, &der_int(i64::from(error_code as i32))));
    der_tlv(0x30, &body)
}

/// Total size of a DER element from its first bytes: Ok(Some(n)) when known, Ok(None) when more
/// header bytes are needed, Err when it is not a definite-length SEQUENCE of sane size.
pub fn der_total_len(buf: &[u8], max: usize) -> Result<Option<usize>, &'static str> {
    let Some(&tag) = buf.first() else {
        return Ok(None);
    };
    if tag != 0x30 {
        return Err("not a DER SEQUENCE");
    }
    let Some(&l0) = buf.get(1) else {
        return Ok(None);
    };
    let (header, content) = if l0 < 0x80 {
        (2usize, usize::from(l0))
    } else {
        let n = usize::from(l0 & 0x7F);
        if n == 0 || n > 3 {
            return Err("unsupported DER length form");
        }
        let Some(octets) = buf.get(2..2 + n) else {
            return Ok(None);
        };
        let len = octets
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (2 + n, len)
    };
    let total = header.checked_add(content).ok_or("length overflow")?;
    if total > max {
        return Err("TSRequest too large");
    }
    Ok(Some(total))
}

// ---------------------------------------------------------------------------------------------
// NTLM (MS-NLMP 2.2.1.2)

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
pub struct ChallengeSpec {
    pub nb_computer: String,
    pub nb_domain: String,
    pub dns_computer: String,
    pub dns_domain: String,
    pub dns_tree: String,
    /// FILETIME: 100 ns intervals since 1601-01-01.
    pub timestamp: u64,
    pub version: (u8, u8, u16),
    pub server_challenge: [u8; 8],
    /// Deliberately broken: TargetInfo offset points past the end of the message.
    pub bad_offsets: bool,
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn av_pair(out: &mut Vec<u8>, id: u16, value: &[u8]) {
    out.extend_from_slice(&id.to_le_bytes());
    // Names are short lab strings; saturate rather than wrap if someone passes a huge one.
    out.extend_from_slice(&u16::try_from(value.len()).unwrap_or(u16::MAX).to_le_bytes());
    out.extend_from_slice(value);
}

/// CHALLENGE_MESSAGE with TargetName = NetBIOS domain and the AV pairs in Windows' order.
pub fn challenge_message(spec: &ChallengeSpec) -> Vec<u8> {
    let target_name = utf16le(&spec.nb_domain);
    let mut info = Vec::with_capacity(160);
    av_pair(&mut info, 2, &utf16le(&spec.nb_domain)); // MsvAvNbDomainName
    av_pair(&mut info, 1, &utf16le(&spec.nb_computer)); // MsvAvNbComputerName
    av_pair(&mut info, 4, &utf16le(&spec.dns_domain)); // MsvAvDnsDomainName
    av_pair(&mut info, 3, &utf16le(&spec.dns_computer)); // MsvAvDnsComputerName
    av_pair(&mut info, 5, &utf16le(&spec.dns_tree)); // MsvAvDnsTreeName
    av_pair(&mut info, 7, &spec.timestamp.to_le_bytes()); // MsvAvTimestamp
    av_pair(&mut info, 0, &[]); // MsvAvEOL

    let tn_len = u16::try_from(target_name.len()).unwrap_or(u16::MAX);
    let ti_len = u16::try_from(info.len()).unwrap_or(u16::MAX);
    let tn_off: u32 = 56;
    let ti_off: u32 = if spec.bad_offsets {
        0xFFF0 // far past the end: a parser must bounds-check before slicing
    } else {
        tn_off + u32::from(tn_len)
    };
    let mut m = Vec::with_capacity(56 + target_name.len() + info.len());
    m.extend_from_slice(NTLMSSP);
    m.extend_from_slice(&2u32.to_le_bytes()); // MessageType CHALLENGE
    m.extend_from_slice(&tn_len.to_le_bytes()); // TargetNameLen
    m.extend_from_slice(&tn_len.to_le_bytes()); // TargetNameMaxLen
    m.extend_from_slice(&tn_off.to_le_bytes()); // TargetNameBufferOffset
    m.extend_from_slice(&CHALLENGE_FLAGS.to_le_bytes());
    m.extend_from_slice(&spec.server_challenge);
    m.extend_from_slice(&[0; 8]); // Reserved
    m.extend_from_slice(&ti_len.to_le_bytes()); // TargetInfoLen
    m.extend_from_slice(&ti_len.to_le_bytes()); // TargetInfoMaxLen
    m.extend_from_slice(&ti_off.to_le_bytes()); // TargetInfoBufferOffset
    let (major, minor, build) = spec.version;
    m.extend_from_slice(&[major, minor]);
    m.extend_from_slice(&build.to_le_bytes());
    m.extend_from_slice(&[0, 0, 0, 0x0F]); // Reserved, NTLMRevisionCurrent 15
    m.extend_from_slice(&target_name);
    m.extend_from_slice(&info);
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

pub const TLS10: u16 = 0x0301;
pub const TLS11: u16 = 0x0302;
pub const TLS12: u16 = 0x0303;

/// Facts from a ClientHello that decide the lab's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    pub legacy_version: u16,
    /// From the supported_versions extension, if present.
    pub supported_versions: Option<Vec<u16>>,
    pub suites: Vec<u16>,
    pub extensions: Vec<u16>,
}

impl ClientHello {
    /// Would the client accept `v`? Without supported_versions, every version up to
    /// legacy_version is acceptable as far as the server can tell (the client decides later).
    pub fn offers_version(&self, v: u16) -> bool {
        match &self.supported_versions {
            Some(list) => list.contains(&v),
            None => v <= self.legacy_version,
        }
    }
}

/// Incremental ClientHello reader over the raw bytes: Ok(None) = need more bytes.
/// Handles a ClientHello split across several handshake records; caps at `max` bytes.
pub fn parse_client_hello(buf: &[u8], max: usize) -> Result<Option<ClientHello>, &'static str> {
    // Reassemble the handshake byte stream from records.
    let mut hs = Vec::new();
    let mut pos = 0usize;
    while let Some(hdr) = buf.get(pos..pos + 5) {
        if hdr.first() != Some(&0x16) {
            return Err("not a TLS handshake record");
        }
        let rec_len = usize::from(u16::from_be_bytes([
            *hdr.get(3).unwrap_or(&0),
            *hdr.get(4).unwrap_or(&0),
        ]));
        if rec_len == 0 || rec_len > 16_384 + 2048 {
            return Err("bad record length");
        }
        let Some(body) = buf.get(pos + 5..pos + 5 + rec_len) else {
            break;
        };
        hs.extend_from_slice(body);
        pos += 5 + rec_len;
        if let Some(done) = hello_from_handshake(&hs)? {
            return Ok(Some(done));
        }
    }
    if buf.len() > max {
        return Err("ClientHello too large");
    }
    Ok(None)
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn hello_from_handshake(hs: &[u8]) -> Result<Option<ClientHello>, &'static str> {
    let Some(&[kind, a, b, c]) = hs.get(..4) else {
        return Ok(None);
    };
    if kind != 0x01 {
        return Err("first handshake message is not ClientHello");
    }
    let len = (usize::from(a) << 16) | (usize::from(b) << 8) | usize::from(c);
    let Some(body) = hs.get(4..4 + len) else {
        return Ok(None);
    };
    let legacy_version = be16(body, 0).ok_or("truncated")?;
    let mut p = 2 + 32; // version, random
    let sid_len = usize::from(*body.get(p).ok_or("truncated")?);
    p += 1 + sid_len;
    let suites_len = usize::from(be16(body, p).ok_or("truncated")?);
    let suites_bytes = body.get(p + 2..p + 2 + suites_len).ok_or("truncated")?;
    let suites = suites_bytes
        .chunks_exact(2)
        .map(|s| {
            u16::from_be_bytes([
                s.first().copied().unwrap_or(0),
                s.get(1).copied().unwrap_or(0),
            ])
        })
        .collect();
    p += 2 + suites_len;
    let comp_len = usize::from(*body.get(p).ok_or("truncated")?);
    p += 1 + comp_len;
    let mut extensions = Vec::new();
    let mut supported_versions = None;
    if let Some(ext_total) = be16(body, p) {
        let exts = body
            .get(p + 2..p + 2 + usize::from(ext_total))
            .ok_or("truncated extensions")?;
        let mut q = 0usize;
        while let (Some(id), Some(elen)) = (be16(exts, q), be16(exts, q + 2)) {
            let data = exts
                .get(q + 4..q + 4 + usize::from(elen))
                .ok_or("truncated extension")?;
            extensions.push(id);
            if id == 0x002B {
                // supported_versions: u8 list length, then u16 versions.
                let n = usize::from(*data.first().unwrap_or(&0));
                let list = data.get(1..1 + n).unwrap_or_default();
                supported_versions = Some(
                    list.chunks_exact(2)
                        .filter_map(|v| be16(v, 0))
                        .collect::<Vec<u16>>(),
                );
            }
            q += 4 + usize::from(elen);
        }
    }
    Ok(Some(ClientHello {
        legacy_version,
        supported_versions,
        suites,
        extensions,
    }))
}

/// One alert record: fatal `description`.
pub fn alert(version: u16, description: u8) -> [u8; 7] {
    let v = version.to_be_bytes();
    // ContentType alert, version, length 2, level fatal, description
    [0x15, v[0], v[1], 0x00, 0x02, 0x02, description]
}

pub const ALERT_HANDSHAKE_FAILURE: u8 = 40;
pub const ALERT_PROTOCOL_VERSION: u8 = 70;

fn push_u24(out: &mut Vec<u8>, n: usize) {
    let n = n.min(0xFF_FFFF);
    out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
}

/// ServerHello + Certificate + ServerHelloDone (what Schannel sends for an RSA key-exchange suite),
/// fragmented into records of at most 16 KiB.
pub fn server_flight(
    version: u16,
    suite: u16,
    chain: &[&[u8]],
    random: [u8; 32],
    session_id: [u8; 32],
    renegotiation_info: bool,
) -> Vec<u8> {
    let mut hs = Vec::with_capacity(128 + chain.iter().map(|c| c.len() + 3).sum::<usize>());
    // ServerHello
    let mut sh = Vec::with_capacity(80);
    sh.extend_from_slice(&version.to_be_bytes());
    sh.extend_from_slice(&random);
    sh.push(32);
    sh.extend_from_slice(&session_id);
    sh.extend_from_slice(&suite.to_be_bytes());
    sh.push(0); // compression null
    if renegotiation_info {
        // extensions length 5: renegotiation_info (0xFF01), length 1, empty renegotiated_connection
        sh.extend_from_slice(&[0x00, 0x05, 0xFF, 0x01, 0x00, 0x01, 0x00]);
    }
    hs.push(0x02);
    push_u24(&mut hs, sh.len());
    hs.extend_from_slice(&sh);
    // Certificate
    let list_len: usize = chain.iter().map(|c| c.len() + 3).sum();
    hs.push(0x0B);
    push_u24(&mut hs, list_len + 3);
    push_u24(&mut hs, list_len);
    for c in chain {
        push_u24(&mut hs, c.len());
        hs.extend_from_slice(c);
    }
    // ServerHelloDone
    hs.extend_from_slice(&[0x0E, 0x00, 0x00, 0x00]);
    records(0x16, version, &hs)
}

/// Split `payload` into records of content type `ct`.
pub fn records(ct: u8, version: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 5 * (payload.len() / 16_384 + 1));
    for chunk in payload.chunks(16_384) {
        out.push(ct);
        out.extend_from_slice(&version.to_be_bytes());
        out.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
        out.extend_from_slice(chunk);
    }
    out
}

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
                flags: 0x1F
            }),
            [
                0x03, 0x00, 0x00, 0x13, // TPKT, length 19
                0x0E, 0xD0, 0x00, 0x00, 0x12, 0x34, 0x00, // LI 14, CC, refs, class
                0x02, 0x1F, 0x08, 0x00, // RDP_NEG_RSP, flags, length 8
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
        // Bare CR: TPKT 11, LI 6, no negotiation
        let bare = [0x03, 0x00, 0x00, 0x0B, 0x06, 0xE0, 0, 0, 0, 0, 0];
        assert_eq!(
            parse_connection_request(&bare).map(|c| c.requested),
            Ok(None)
        );
        // LI disagreeing with the TPKT length is dropped
        let bad = [0x03, 0x00, 0x00, 0x0B, 0x07, 0xE0, 0, 0, 0, 0, 0];
        assert!(parse_connection_request(&bad).is_err());
        // Class 2 is dropped
        let class2 = [0x03, 0x00, 0x00, 0x0B, 0x06, 0xE0, 0, 0, 0, 0, 0x20];
        assert!(parse_connection_request(&class2).is_err());
        // Truncated garbage never panics
        for n in 0..cr.len() {
            let _ = parse_connection_request(cr.get(..n).unwrap_or_default());
        }
    }

    #[test]
    fn der_builders() {
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
        assert_eq!(der_total_len(&t, 1000), Ok(Some(t.len())));
        let e = ts_request_error(6, 0xC000_006D);
        assert_eq!(
            e,
            [
                0x30, 0x0D, // SEQUENCE
                0xA0, 0x03, 0x02, 0x01, 0x06, // [0] version 6
                0xA4, 0x06, 0x02, 0x04, 0xC0, 0x00, 0x00, 0x6D, // [4] INTEGER -0x3FFFFF93
            ]
        );
        assert_eq!(der_int(128), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(der_total_len(&[0x30, 0x82, 0x01], 100), Ok(None));
        assert!(der_total_len(&[0x30, 0x82, 0xFF, 0xFF], 100).is_err());
        assert!(der_total_len(&[0x31], 100).is_err());
    }

    #[test]
    fn challenge_layout() {
        let spec = ChallengeSpec {
            nb_computer: "HOST".into(),
            nb_domain: "LAB".into(),
            dns_computer: "host.lab.test".into(),
            dns_domain: "lab.test".into(),
            dns_tree: "lab.test".into(),
            timestamp: 0x01DC_0000_0000_0000,
            version: (10, 0, 20348),
            server_challenge: [1, 2, 3, 4, 5, 6, 7, 8],
            bad_offsets: false,
        };
        let m = challenge_message(&spec);
        assert_eq!(m.get(..8), Some(&NTLMSSP[..]));
        assert_eq!(m.get(8..12), Some(&[2, 0, 0, 0][..])); // CHALLENGE
        assert_eq!(m.get(12..20), Some(&[6, 0, 6, 0, 56, 0, 0, 0][..])); // "LAB" UTF-16, offset 56
        assert_eq!(m.get(48..56), Some(&[10, 0, 0x7C, 0x4F, 0, 0, 0, 0x0F][..])); // 10.0.20348 rev 15
        assert_eq!(m.get(56..62), Some(&b"L\0A\0B\0"[..]));
        let ti_len = usize::from(u16::from_le_bytes([m[40], m[41]]));
        assert_eq!(56 + 6 + ti_len, m.len());
        assert_eq!(m.get(62..64), Some(&[2, 0][..])); // first AV pair: NbDomainName
        assert_eq!(m.get(m.len() - 4..), Some(&[0, 0, 0, 0][..])); // MsvAvEOL
        assert_eq!(ntlm_message_type(&m), Some(2));
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
        let mut hs = vec![0x01];
        push_u24(&mut hs, body.len());
        hs.extend_from_slice(&body);
        hs
    }

    #[test]
    fn client_hello_parse() {
        let hs = hello(TLS12, &[0x002F, 0xC02B], Some(&[0x0304, 0x0303]));
        let rec = records(0x16, TLS10, &hs);
        let h = parse_client_hello(&rec, 1 << 16).unwrap().unwrap();
        assert_eq!(h.legacy_version, TLS12);
        assert_eq!(h.suites, [0x002F, 0xC02B]);
        assert!(!h.offers_version(TLS10));
        assert!(h.offers_version(TLS12));
        // Split over two records, and fed incrementally.
        let (a, b) = hs.split_at(10);
        let mut two = records(0x16, TLS10, a);
        two.extend_from_slice(&records(0x16, TLS10, b));
        for n in 0..two.len() {
            assert_eq!(
                parse_client_hello(two.get(..n).unwrap_or_default(), 1 << 16),
                Ok(None)
            );
        }
        assert!(parse_client_hello(&two, 1 << 16).unwrap().is_some());
        let old = hello(TLS10, &[0x002F], None);
        let h = parse_client_hello(&records(0x16, TLS10, &old), 1 << 16)
            .unwrap()
            .unwrap();
        assert!(h.offers_version(TLS10) && !h.offers_version(TLS12));
        assert!(parse_client_hello(b"GET / HTTP/1.1\r\n", 1 << 16).is_err());
    }

    #[test]
    fn flight_layout() {
        let cert = [0x30, 0x03, 1, 2, 3];
        let f = server_flight(TLS10, 0x002F, &[&cert], [9; 32], [8; 32], true);
        assert_eq!(f.get(..3), Some(&[0x16, 0x03, 0x01][..])); // handshake record, TLS 1.0
        assert_eq!(f.get(5), Some(&0x02)); // ServerHello
        assert_eq!(f.get(9..11), Some(&[0x03, 0x01][..])); // server_version
        assert_eq!(f.get(f.len() - 4..), Some(&[0x0E, 0, 0, 0][..])); // ServerHelloDone
        assert!(f.windows(5).any(|w| w == cert));
    }
}
