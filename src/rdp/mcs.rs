//! MCS Connect-Initial / Connect-Response (T.125, BER) carrying GCC Conference Create
//! Request / Response (T.124, PER) and the RDP client/server data blocks
//! (MS-RDPBCGR 2.2.1.3-2.2.1.4; docs/protocol.md §5). Used only by the deep probe to read
//! the server's RDP version and its Standard RDP Security method and level.
//!
//! BER and PER lengths are big-endian; the GCC user-data blocks are little-endian.

use super::x224::{self, TPKT_VERSION, read_tpkt, tpdu};
use super::{Parse, le_u16, le_u32};

/// GCC user-data block types.
pub mod block {
    pub const CS_CORE: u16 = 0xC001;
    pub const CS_SECURITY: u16 = 0xC002;
    pub const CS_NET: u16 = 0xC003;
    pub const SC_CORE: u16 = 0x0C01;
    pub const SC_SECURITY: u16 = 0x0C02;
    pub const SC_NET: u16 = 0x0C03;
    pub const SC_MCS_MSGCHANNEL: u16 = 0x0C04;
    pub const SC_MULTITRANSPORT: u16 = 0x0C08;
}

/// encryptionMethod(s) bits (2.2.1.3.3).
pub mod method {
    pub const NONE: u32 = 0x00;
    pub const BIT40: u32 = 0x01;
    pub const BIT128: u32 = 0x02;
    pub const BIT56: u32 = 0x08;
    pub const FIPS: u32 = 0x10;
    /// Every method: what the first cipher probe offers.
    pub const ALL: u32 = BIT40 | BIT128 | BIT56 | FIPS;
}

/// encryptionLevel values (2.2.1.4.3).
pub mod level {
    pub const NONE: u32 = 0;
    pub const LOW: u32 = 1;
    pub const CLIENT_COMPATIBLE: u32 = 2;
    pub const HIGH: u32 = 3;
    pub const FIPS: u32 = 4;
}

/// RDP version we claim in CS_CORE: RDP 5.0 and later, understood by every server.
pub const CLIENT_VERSION: u32 = 0x0008_0004;

/// T.124 object key that opens both the request's and the response's user data.
const T124_KEY: [u8; 7] = [0x00, 0x05, 0x00, 0x14, 0x7C, 0x00, 0x01];
/// ConnectGCCPDU conferenceCreateRequest header up to and including the "Duca" H.221 key.
const GCC_CCR_HEAD: [u8; 12] = [
    0x00, 0x08, 0x00, 0x10, 0x00, 0x01, 0xC0, 0x00, b'D', b'u', b'c', b'a',
];
/// ConnectGCCPDU conferenceCreateResponse header (nodeID, tag, result, user data count)
/// up to and including the "McDn" H.221 key.
const GCC_CCRSP_HEAD: [u8; 13] = [
    0x14, 0x76, 0x0A, 0x01, 0x01, 0x00, 0x01, 0xC0, 0x00, b'M', b'c', b'D', b'n',
];
/// The walk gives up after this many blocks; a real response has at most about six.
const MAX_BLOCKS: usize = 32;

/// BER tags used here.
const BER_BOOLEAN: u8 = 0x01;
const BER_INTEGER: u8 = 0x02;
const BER_OCTET_STRING: u8 = 0x04;
const BER_ENUMERATED: u8 = 0x0A;
const BER_SEQUENCE: u8 = 0x30;
/// [APPLICATION 101] / [APPLICATION 102] in BER's high-tag-number form.
const MCS_CONNECT_INITIAL: [u8; 2] = [0x7F, 0x65];
const MCS_CONNECT_RESPONSE: [u8; 2] = [0x7F, 0x66];

// ---------------------------------------------------------------------------------------------
// Encoding helpers. Every length here is built by us and stays far below 64 KiB.

fn ber_len(out: &mut Vec<u8>, n: usize) {
    if n < 0x80 {
        out.push(n as u8);
    } else if n <= 0xFF {
        out.extend_from_slice(&[0x81, n as u8]);
    } else {
        let n = u16::try_from(n).unwrap_or(u16::MAX);
        out.push(0x82);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn ber_tlv(out: &mut Vec<u8>, tag: &[u8], content: &[u8]) {
    out.extend_from_slice(tag);
    ber_len(out, content.len());
    out.extend_from_slice(content);
}

/// Unsigned big-endian in the fewest bytes, as mstsc writes MCS integers (MS-RDPBCGR 4.1.3
/// shows 65535 as `02 02 FF FF`); strict DER would add a sign byte, but servers are written
/// against mstsc, so we say it the way mstsc does.
fn ber_uint(out: &mut Vec<u8>, v: u32) {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take(3).take_while(|&&b| b == 0).count();
    ber_tlv(out, &[BER_INTEGER], bytes.get(skip..).unwrap_or(&bytes));
}

fn domain_parameters(out: &mut Vec<u8>, p: [u32; 8]) {
    let mut seq = Vec::with_capacity(32);
    for v in p {
        ber_uint(&mut seq, v);
    }
    ber_tlv(out, &[BER_SEQUENCE], &seq);
}

/// PER length determinant: 1 byte below 128, else 2 bytes with the top bit set.
fn per_len(out: &mut Vec<u8>, n: usize) {
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let n = u16::try_from(n.min(0x3FFF)).unwrap_or(0x3FFF) | 0x8000;
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn gcc_block(out: &mut Vec<u8>, ty: u16, data: &[u8]) {
    let len = u16::try_from(data.len() + 4).unwrap_or(u16::MAX);
    out.extend_from_slice(&ty.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(data);
}

/// TPKT + X.224 DT (LI 2, DT, EOT) around an MCS PDU.
fn tpkt_dt(mcs: &[u8]) -> Vec<u8> {
    let total = 7 + mcs.len();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&[TPKT_VERSION, 0x00]);
    out.extend_from_slice(&u16::try_from(total).unwrap_or(u16::MAX).to_be_bytes());
    out.extend_from_slice(&[0x02, tpdu::DT, 0x80]);
    out.extend_from_slice(mcs);
    out
}

/// CS_CORE (2.2.1.3.2) up to serverSelectedProtocol: 212 bytes of data.
fn cs_core(selected_protocol: u32) -> Vec<u8> {
    let mut d = Vec::with_capacity(212);
    d.extend_from_slice(&CLIENT_VERSION.to_le_bytes()); // version
    d.extend_from_slice(&1024u16.to_le_bytes()); // desktopWidth
    d.extend_from_slice(&768u16.to_le_bytes()); // desktopHeight
    d.extend_from_slice(&0xCA01u16.to_le_bytes()); // colorDepth RNS_UD_COLOR_8BPP
    d.extend_from_slice(&0xAA03u16.to_le_bytes()); // SASSequence RNS_UD_SAS_DEL
    d.extend_from_slice(&0x0409u32.to_le_bytes()); // keyboardLayout en-US
    d.extend_from_slice(&2600u32.to_le_bytes()); // clientBuild
    let mut name = [0u8; 32]; // clientName, UTF-16LE, zero-padded
    for (slot, ch) in name.chunks_exact_mut(2).zip("RDPSWEEP".encode_utf16()) {
        slot.copy_from_slice(&ch.to_le_bytes());
    }
    d.extend_from_slice(&name);
    d.extend_from_slice(&4u32.to_le_bytes()); // keyboardType IBM enhanced
    d.extend_from_slice(&0u32.to_le_bytes()); // keyboardSubType
    d.extend_from_slice(&12u32.to_le_bytes()); // keyboardFunctionKey
    d.extend_from_slice(&[0u8; 64]); // imeFileName
    d.extend_from_slice(&0xCA01u16.to_le_bytes()); // postBeta2ColorDepth
    d.extend_from_slice(&1u16.to_le_bytes()); // clientProductId
    d.extend_from_slice(&0u32.to_le_bytes()); // serialNumber
    d.extend_from_slice(&24u16.to_le_bytes()); // highColorDepth
    d.extend_from_slice(&0x0007u16.to_le_bytes()); // supportedColorDepths 24/16/15 bpp
    d.extend_from_slice(&0x0001u16.to_le_bytes()); // earlyCapabilityFlags SUPPORT_ERRINFO_PDU
    d.extend_from_slice(&[0u8; 64]); // clientDigProductId
    d.push(0); // connectionType
    d.push(0); // pad1octet
    // Must echo the CC's selectedProtocol: Windows disconnects on a mismatch.
    d.extend_from_slice(&selected_protocol.to_le_bytes()); // serverSelectedProtocol
    d
}

/// TPKT + X.224 DT + MCS Connect-Initial with a GCC Conference Create Request carrying
/// CS_CORE (version 0x00080004, 1024x768, serverSelectedProtocol = `selected_protocol`),
/// CS_SECURITY(`encryption_methods`) and CS_NET (no channels).
pub fn connect_initial(encryption_methods: u32, selected_protocol: u32) -> Vec<u8> {
    let mut blocks = Vec::with_capacity(236);
    gcc_block(&mut blocks, block::CS_CORE, &cs_core(selected_protocol));
    let mut sec = Vec::with_capacity(8);
    sec.extend_from_slice(&encryption_methods.to_le_bytes()); // encryptionMethods
    sec.extend_from_slice(&0u32.to_le_bytes()); // extEncryptionMethods (French locale only)
    gcc_block(&mut blocks, block::CS_SECURITY, &sec);
    gcc_block(&mut blocks, block::CS_NET, &0u32.to_le_bytes()); // channelCount 0

    let mut pdu = Vec::with_capacity(blocks.len() + 16);
    pdu.extend_from_slice(&GCC_CCR_HEAD);
    per_len(&mut pdu, blocks.len());
    pdu.extend_from_slice(&blocks);

    let mut user_data = Vec::with_capacity(pdu.len() + 10);
    user_data.extend_from_slice(&T124_KEY);
    per_len(&mut user_data, pdu.len());
    user_data.extend_from_slice(&pdu);

    let mut body = Vec::with_capacity(user_data.len() + 100);
    ber_tlv(&mut body, &[BER_OCTET_STRING], &[0x01]); // callingDomainSelector
    ber_tlv(&mut body, &[BER_OCTET_STRING], &[0x01]); // calledDomainSelector
    ber_tlv(&mut body, &[BER_BOOLEAN], &[0xFF]); // upwardFlag TRUE
    // maxChannelIds, maxUserIds, maxTokenIds, numPriorities, minThroughput, maxHeight,
    // maxMCSPDUsize, protocolVersion: mstsc's target / minimum / maximum sets.
    domain_parameters(&mut body, [34, 2, 0, 1, 0, 1, 65535, 2]);
    domain_parameters(&mut body, [1, 1, 1, 1, 0, 1, 1056, 2]);
    domain_parameters(&mut body, [65535, 64535, 65535, 1, 0, 1, 65535, 2]);
    ber_tlv(&mut body, &[BER_OCTET_STRING], &user_data);

    let mut mcs = Vec::with_capacity(body.len() + 4);
    ber_tlv(&mut mcs, &MCS_CONNECT_INITIAL, &body);
    tpkt_dt(&mcs)
}

/// What the lab server puts in a Connect-Response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseSpec {
    pub result: u8,
    pub server_version: u32,
    pub client_requested_protocols: u32,
    pub encryption_method: u32,
    pub encryption_level: u32,
}

/// TPKT + X.224 DT + MCS Connect-Response with SC_CORE, SC_SECURITY and SC_NET (lab side).
/// SC_SECURITY carries no server random or certificate even when the level is not NONE:
/// enough for this scanner, which closes after the response, not for a real client.
pub fn connect_response(spec: &ResponseSpec) -> Vec<u8> {
    let mut blocks = Vec::with_capacity(32);
    let mut core = Vec::with_capacity(8);
    core.extend_from_slice(&spec.server_version.to_le_bytes()); // version
    core.extend_from_slice(&spec.client_requested_protocols.to_le_bytes()); // clientRequestedProtocols
    gcc_block(&mut blocks, block::SC_CORE, &core);
    let mut sec = Vec::with_capacity(8);
    sec.extend_from_slice(&spec.encryption_method.to_le_bytes()); // encryptionMethod
    sec.extend_from_slice(&spec.encryption_level.to_le_bytes()); // encryptionLevel
    gcc_block(&mut blocks, block::SC_SECURITY, &sec);
    let mut net = Vec::with_capacity(4);
    net.extend_from_slice(&0x03EBu16.to_le_bytes()); // MCSChannelId (I/O channel 1003)
    net.extend_from_slice(&0u16.to_le_bytes()); // channelCount
    gcc_block(&mut blocks, block::SC_NET, &net);

    let mut pdu = Vec::with_capacity(blocks.len() + 16);
    pdu.extend_from_slice(&GCC_CCRSP_HEAD);
    per_len(&mut pdu, blocks.len());
    pdu.extend_from_slice(&blocks);

    let mut user_data = Vec::with_capacity(pdu.len() + 10);
    user_data.extend_from_slice(&T124_KEY);
    per_len(&mut user_data, pdu.len());
    user_data.extend_from_slice(&pdu);

    let mut body = Vec::with_capacity(user_data.len() + 40);
    ber_tlv(&mut body, &[BER_ENUMERATED], &[spec.result]); // result
    ber_uint(&mut body, 0); // calledConnectId
    domain_parameters(&mut body, [34, 3, 0, 1, 0, 1, 65528, 2]);
    ber_tlv(&mut body, &[BER_OCTET_STRING], &user_data);

    let mut mcs = Vec::with_capacity(body.len() + 4);
    ber_tlv(&mut mcs, &MCS_CONNECT_RESPONSE, &body);
    tpkt_dt(&mcs)
}

// ---------------------------------------------------------------------------------------------
// Decoding.

/// Read one BER length at `buf[*pos..]`; definite form only, at most 4 length bytes.
fn read_ber_len(buf: &[u8], pos: &mut usize) -> Option<usize> {
    let first = *buf.get(*pos)?;
    *pos += 1;
    if first < 0x80 {
        return Some(usize::from(first));
    }
    let n = usize::from(first & 0x7F);
    if n == 0 || n > 4 {
        return None; // indefinite or absurd
    }
    let bytes = buf.get(*pos..pos.checked_add(n)?)?;
    *pos += n;
    Some(
        bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b)),
    )
}

/// One single-byte-tag BER element at `buf[*pos..]`; its content must lie within `buf`.
fn read_ber<'a>(buf: &'a [u8], pos: &mut usize, tag: u8) -> Option<&'a [u8]> {
    if *buf.get(*pos)? != tag {
        return None;
    }
    *pos += 1;
    let len = read_ber_len(buf, pos)?;
    let content = buf.get(*pos..pos.checked_add(len)?)?;
    *pos += len;
    Some(content)
}

/// Read a PER length determinant at `buf[*pos..]`.
fn read_per_len(buf: &[u8], pos: &mut usize) -> Option<usize> {
    let first = *buf.get(*pos)?;
    *pos += 1;
    if first & 0x80 == 0 {
        return Some(usize::from(first));
    }
    let second = *buf.get(*pos)?;
    *pos += 1;
    Some((usize::from(first & 0x3F) << 8) | usize::from(second))
}

/// The GCC user-data blocks that follow an H.221 key ("Duca" or "McDn") somewhere in `buf`,
/// bounded by the PER length when it is smaller than what is present.
fn blocks_after_key<'a>(buf: &'a [u8], key: &[u8; 4]) -> Option<&'a [u8]> {
    let at = buf.windows(4).position(|w| w == key)?;
    let mut pos = at + 4;
    let declared = read_per_len(buf, &mut pos)?;
    let rest = buf.get(pos..)?;
    Some(rest.get(..declared).unwrap_or(rest))
}

/// Walk `[type u16][len u16][data]` blocks, `len` counting the 4-byte header. A block shorter
/// than its header (zero length would never advance: the loop that hangs nmap) or running past
/// the end stops the walk, as does `MAX_BLOCKS`; each block starts where the previous one ended,
/// so blocks cannot overlap.
fn walk_blocks<'a>(data: &'a [u8], mut visit: impl FnMut(u16, &'a [u8])) {
    let mut pos = 0usize;
    for _ in 0..MAX_BLOCKS {
        let (Some(ty), Some(len)) = (le_u16(data, pos), le_u16(data, pos + 2)) else {
            return;
        };
        let len = usize::from(len);
        if len < 4 {
            return;
        }
        let Some(body) = data.get(pos + 4..pos + len) else {
            return;
        };
        visit(ty, body);
        pos += len;
    }
}

/// Frame checks shared by both MCS parsers: TPKT, then X.224 DT (LI 2); returns the MCS PDU.
fn dt_payload(buf: &[u8]) -> Parse<Result<&[u8], &'static str>> {
    let frame = match read_tpkt(buf) {
        Parse::Incomplete { need } => return Parse::Incomplete { need },
        Parse::Done(Err(e)) => return Parse::Done(Err(e)),
        Parse::Done(Ok(f)) => f,
    };
    let (Some(&li), Some(&code)) = (frame.get(4), frame.get(5)) else {
        return Parse::Done(Err("tpkt length too short"));
    };
    if li != 2 || code & 0xF0 != tpdu::DT {
        return Parse::Done(Err("not an x.224 data tpdu"));
    }
    Parse::Done(Ok(frame.get(7..).unwrap_or_default()))
}

/// What the server's Connect-Response told us.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectResponse {
    /// T.125 Result: 0 = rt-successful.
    pub result: u8,
    /// SC_CORE version.
    pub server_version: Option<u32>,
    /// SC_CORE clientRequestedProtocols (the server's echo of the CR).
    pub client_requested_protocols: Option<u32>,
    /// SC_SECURITY encryptionMethod.
    pub encryption_method: Option<u32>,
    /// SC_SECURITY encryptionLevel.
    pub encryption_level: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum McsReply {
    Response(ConnectResponse),
    /// MCS Disconnect-Provider-Ultimatum: the server refused the Connect-Initial.
    Disconnect,
    Malformed(&'static str),
}

/// Parse TPKT + X.224 DT + MCS Connect-Response. The GCC user data is located via "McDn"
/// and then walked block by block. A failure result without user data is still a
/// `Response`; a success result without any "McDn" is `Malformed`.
pub fn parse_connect_response(buf: &[u8]) -> Parse<McsReply> {
    let mcs = match dt_payload(buf) {
        Parse::Incomplete { need } => return Parse::Incomplete { need },
        Parse::Done(Err(e)) => return Parse::Done(McsReply::Malformed(e)),
        Parse::Done(Ok(m)) => m,
    };
    if x224::is_dpum(mcs) {
        return Parse::Done(McsReply::Disconnect);
    }
    Parse::Done(parse_response_pdu(mcs))
}

fn parse_response_pdu(mcs: &[u8]) -> McsReply {
    if !mcs.starts_with(&MCS_CONNECT_RESPONSE) {
        return McsReply::Malformed("not an mcs connect-response");
    }
    let mut pos = MCS_CONNECT_RESPONSE.len();
    let Some(len) = read_ber_len(mcs, &mut pos) else {
        return McsReply::Malformed("bad connect-response length");
    };
    // A declared length past the frame is cut to what is present: the fields we want are
    // at the front, and the frame itself is complete.
    let body = mcs.get(pos..).unwrap_or_default();
    let body = body.get(..len).unwrap_or(body);

    let mut pos = 0;
    let result = match read_ber(body, &mut pos, BER_ENUMERATED) {
        Some([r]) => *r,
        _ => return McsReply::Malformed("bad connect-response result"),
    };
    let mut resp = ConnectResponse {
        result,
        server_version: None,
        client_requested_protocols: None,
        encryption_method: None,
        encryption_level: None,
    };
    // Search after the result rather than decoding connectId and domainParameters: their
    // encodings vary and nothing in them is needed.
    let Some(blocks) = blocks_after_key(body.get(pos..).unwrap_or_default(), b"McDn") else {
        return if result == 0 {
            McsReply::Malformed("connect-response without gcc user data")
        } else {
            McsReply::Response(resp)
        };
    };
    // The first block of each type wins.
    walk_blocks(blocks, |ty, data| match ty {
        block::SC_CORE if resp.server_version.is_none() => {
            resp.server_version = le_u32(data, 0);
            resp.client_requested_protocols = le_u32(data, 4);
        }
        block::SC_SECURITY if resp.encryption_method.is_none() => {
            resp.encryption_method = le_u32(data, 0);
            resp.encryption_level = le_u32(data, 4);
        }
        _ => {}
    });
    McsReply::Response(resp)
}

/// A client's Connect-Initial as the lab server sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectInitial {
    /// CS_CORE version.
    pub client_version: Option<u32>,
    /// CS_CORE serverSelectedProtocol (absent in pre-RDP 5.1 clients).
    pub server_selected_protocol: Option<u32>,
    /// CS_SECURITY encryptionMethods.
    pub encryption_methods: Option<u32>,
}

/// Offset of serverSelectedProtocol inside the CS_CORE data (after the 4-byte header).
const CS_CORE_SELECTED_OFF: usize = 208;

/// Parse TPKT + X.224 DT + MCS Connect-Initial (lab server side); blocks located via "Duca".
pub fn parse_connect_initial(buf: &[u8]) -> Parse<Result<ConnectInitial, &'static str>> {
    let mcs = match dt_payload(buf) {
        Parse::Incomplete { need } => return Parse::Incomplete { need },
        Parse::Done(Err(e)) => return Parse::Done(Err(e)),
        Parse::Done(Ok(m)) => m,
    };
    if !mcs.starts_with(&MCS_CONNECT_INITIAL) {
        return Parse::Done(Err("not an mcs connect-initial"));
    }
    let Some(blocks) = blocks_after_key(mcs, b"Duca") else {
        return Parse::Done(Err("connect-initial without gcc user data"));
    };
    let mut ci = ConnectInitial {
        client_version: None,
        server_selected_protocol: None,
        encryption_methods: None,
    };
    walk_blocks(blocks, |ty, data| match ty {
        block::CS_CORE if ci.client_version.is_none() => {
            ci.client_version = le_u32(data, 0);
            ci.server_selected_protocol = le_u32(data, CS_CORE_SELECTED_OFF);
        }
        block::CS_SECURITY if ci.encryption_methods.is_none() => {
            ci.encryption_methods = le_u32(data, 0);
        }
        _ => {}
    });
    Parse::Done(Ok(ci))
}

/// SC_SECURITY encryptionMethod name; `None` for a value that is not one known method.
pub fn encryption_method_name(m: u32) -> Option<&'static str> {
    Some(match m {
        method::NONE => "NONE",
        method::BIT40 => "40BIT",
        method::BIT128 => "128BIT",
        method::BIT56 => "56BIT",
        method::FIPS => "FIPS",
        _ => return None,
    })
}

/// SC_SECURITY encryptionLevel name; `None` for a level the spec does not define.
pub fn encryption_level_name(l: u32) -> Option<&'static str> {
    Some(match l {
        level::NONE => "NONE",
        level::LOW => "LOW",
        level::CLIENT_COMPATIBLE => "CLIENT_COMPATIBLE",
        level::HIGH => "HIGH",
        level::FIPS => "FIPS",
        _ => return None,
    })
}

/// SC_CORE version to RDP release; `None` for values no release uses.
pub fn rdp_version_name(v: u32) -> Option<&'static str> {
    Some(match v {
        0x0008_0001 => "4.0",
        0x0008_0004 => "5.0-8.1",
        0x0008_0005 => "10.0",
        0x0008_0006 => "10.1",
        0x0008_0007 => "10.2",
        0x0008_0008 => "10.3",
        0x0008_0009 => "10.4",
        0x0008_000A => "10.5",
        0x0008_000B => "10.6",
        0x0008_000C => "10.7",
        0x0008_000D..=0x0008_FFFF => "10.x+",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Connect-Response as xrdp (crypt_level=high) shapes it, written out by hand.
    #[rustfmt::skip]
    const RESPONSE: [u8; 100] = [
        0x03, 0x00, 0x00, 0x64, // TPKT, length 100
        0x02, 0xF0, 0x80, // X.224 DT, EOT
        0x7F, 0x66, 0x5A, // MCS Connect-Response, BER length 90
        0x0A, 0x01, 0x00, // result rt-successful
        0x02, 0x01, 0x00, // calledConnectId 0
        0x30, 0x1A, // domainParameters, 26 bytes
            0x02, 0x01, 0x22, // maxChannelIds 34
            0x02, 0x01, 0x03, // maxUserIds 3
            0x02, 0x01, 0x00, // maxTokenIds 0
            0x02, 0x01, 0x01, // numPriorities 1
            0x02, 0x01, 0x00, // minThroughput 0
            0x02, 0x01, 0x01, // maxHeight 1
            0x02, 0x03, 0x00, 0xFF, 0xF8, // maxMCSPDUsize 65528
            0x02, 0x01, 0x02, // protocolVersion 2
        0x04, 0x36, // userData OCTET STRING, 54 bytes
            0x00, 0x05, 0x00, 0x14, 0x7C, 0x00, 0x01, // T.124 object key
            0x2E, // PER length 46
            0x14, 0x76, 0x0A, 0x01, 0x01, 0x00, 0x01, 0xC0, 0x00, // conferenceCreateResponse header
            0x4D, 0x63, 0x44, 0x6E, // "McDn"
            0x20, // PER length of the blocks, 32
            0x01, 0x0C, 0x0C, 0x00, // SC_CORE, length 12
                0x04, 0x00, 0x08, 0x00, // version 0x00080004
                0x0B, 0x00, 0x00, 0x00, // clientRequestedProtocols 0x0B
            0x02, 0x0C, 0x0C, 0x00, // SC_SECURITY, length 12
                0x02, 0x00, 0x00, 0x00, // encryptionMethod 128BIT
                0x03, 0x00, 0x00, 0x00, // encryptionLevel HIGH
            0x03, 0x0C, 0x08, 0x00, // SC_NET, length 8
                0xEB, 0x03, 0x00, 0x00, // MCSChannelId 1003, channelCount 0
    ];

    /// Offset of the first GCC block in RESPONSE.
    const FIRST_BLOCK: usize = 68;

    fn expect_response(b: &[u8]) -> ConnectResponse {
        match parse_connect_response(b) {
            Parse::Done(McsReply::Response(r)) => r,
            other => panic!("expected a response, got {other:?}"),
        }
    }

    #[test]
    fn response_fixture() {
        assert_eq!(RESPONSE[FIRST_BLOCK..FIRST_BLOCK + 2], [0x01, 0x0C]);
        assert_eq!(
            expect_response(&RESPONSE),
            ConnectResponse {
                result: 0,
                server_version: Some(0x0008_0004),
                client_requested_protocols: Some(0x0B),
                encryption_method: Some(method::BIT128),
                encryption_level: Some(level::HIGH),
            }
        );
    }

    #[test]
    fn response_builder_round_trip() {
        let spec = ResponseSpec {
            result: 0,
            server_version: 0x0008_000C,
            client_requested_protocols: 0,
            encryption_method: method::FIPS,
            encryption_level: level::FIPS,
        };
        let b = connect_response(&spec);
        assert_eq!(usize::from(u16::from_be_bytes([b[2], b[3]])), b.len());
        assert_eq!(
            expect_response(&b),
            ConnectResponse {
                result: 0,
                server_version: Some(0x0008_000C),
                client_requested_protocols: Some(0),
                encryption_method: Some(method::FIPS),
                encryption_level: Some(level::FIPS),
            }
        );
    }

    #[test]
    fn response_incremental_and_trailing() {
        for end in 0..RESPONSE.len() {
            match parse_connect_response(&RESPONSE[..end]) {
                Parse::Incomplete { need } => assert!(need > end && need <= RESPONSE.len()),
                Parse::Done(r) => panic!("decided at {end}: {r:?}"),
            }
        }
        let mut b = RESPONSE.to_vec();
        b.extend_from_slice(&[0x03, 0x00, 0x00, 0x0B]); // next PDU begins
        assert_eq!(expect_response(&b).encryption_level, Some(3));
    }

    #[test]
    fn response_disconnect_and_garbage() {
        let dpum = [
            0x03, 0x00, 0x00, 0x09, // TPKT length 9
            0x02, 0xF0, 0x80, // DT
            0x21, 0x80, // DPUm
        ];
        assert_eq!(
            parse_connect_response(&dpum),
            Parse::Done(McsReply::Disconnect)
        );
        // TLS alert instead of TPKT: decided on the first byte.
        assert!(matches!(
            parse_connect_response(&[0x15]),
            Parse::Done(McsReply::Malformed(_))
        ));
        // X.224 CC where a DT belongs.
        let cc = [
            0x03, 0x00, 0x00, 0x0B, 0x06, 0xD0, 0x00, 0x00, 0x12, 0x34, 0x00,
        ];
        assert_eq!(
            parse_connect_response(&cc),
            Parse::Done(McsReply::Malformed("not an x.224 data tpdu"))
        );
        // DT carrying an MCS Connect-Initial.
        let ci = connect_initial(3, 0);
        assert_eq!(
            parse_connect_response(&ci),
            Parse::Done(McsReply::Malformed("not an mcs connect-response"))
        );
        // Result field of the wrong type.
        let b = [
            0x03, 0x00, 0x00, 0x0D, // TPKT 13
            0x02, 0xF0, 0x80, // DT
            0x7F, 0x66, 0x03, // Connect-Response, 3 bytes
            0x02, 0x01, 0x00, // INTEGER where ENUMERATED belongs
        ];
        assert_eq!(
            parse_connect_response(&b),
            Parse::Done(McsReply::Malformed("bad connect-response result"))
        );
        // Indefinite BER length.
        let b = [
            0x03, 0x00, 0x00, 0x0D, 0x02, 0xF0, 0x80, 0x7F, 0x66, 0x80, 0x0A, 0x01, 0x00,
        ];
        assert!(matches!(
            parse_connect_response(&b),
            Parse::Done(McsReply::Malformed(_))
        ));
    }

    #[test]
    fn response_failure_result_without_user_data() {
        let b = [
            0x03, 0x00, 0x00, 0x0D, // TPKT 13
            0x02, 0xF0, 0x80, // DT
            0x7F, 0x66, 0x03, // Connect-Response, 3 bytes
            0x0A, 0x01, 0x0E, // result rt-unspecified-failure (14)
        ];
        assert_eq!(
            expect_response(&b),
            ConnectResponse {
                result: 14,
                server_version: None,
                client_requested_protocols: None,
                encryption_method: None,
                encryption_level: None,
            }
        );
        // Same with result 0: a success without user data is malformed.
        let mut b = b;
        b[12] = 0;
        assert_eq!(
            parse_connect_response(&b),
            Parse::Done(McsReply::Malformed(
                "connect-response without gcc user data"
            ))
        );
    }

    #[test]
    fn zero_length_block_stops_the_walk() {
        let mut b = RESPONSE;
        b[FIRST_BLOCK + 2] = 0x00; // SC_CORE length 0
        let r = expect_response(&b);
        assert_eq!(r.server_version, None);
        assert_eq!(r.encryption_method, None);
        b[FIRST_BLOCK + 2] = 0x03; // length 3: shorter than the header
        assert_eq!(expect_response(&b).server_version, None);
        // The walk visits nothing: a zero-length block is not revisited until the cap.
        let mut visited = 0;
        walk_blocks(&[0x01, 0x0C, 0x00, 0x00, 0x02, 0x0C, 0x04, 0x00], |_, _| {
            visited += 1
        });
        assert_eq!(visited, 0);
        let mut visited = Vec::new();
        #[rustfmt::skip]
        let two = [
            0x01, 0x0C, 0x04, 0x00, // empty SC_CORE
            0x02, 0x0C, 0x05, 0x00, 0xAA, // SC_SECURITY with one byte
        ];
        walk_blocks(&two, |ty, data| visited.push((ty, data.len())));
        assert_eq!(visited, [(block::SC_CORE, 0), (block::SC_SECURITY, 1)]);
    }

    #[test]
    fn overrunning_block_stops_the_walk() {
        let mut b = RESPONSE;
        b[FIRST_BLOCK + 12 + 2] = 0xFF; // SC_SECURITY length 255, past the end
        let r = expect_response(&b);
        assert_eq!(r.server_version, Some(0x0008_0004));
        assert_eq!(r.encryption_method, None);
        assert_eq!(r.encryption_level, None);
    }

    #[test]
    fn short_blocks_give_partial_fields() {
        let mut b = RESPONSE;
        b[FIRST_BLOCK + 2] = 0x08; // SC_CORE of 8: version only; the next "block" starts inside it
        let r = expect_response(&b);
        assert_eq!(r.server_version, Some(0x0008_0004));
        assert_eq!(r.client_requested_protocols, None);
    }

    #[test]
    fn many_tiny_blocks_are_capped() {
        // 4000 header-only blocks: the walk ends after MAX_BLOCKS, without hanging.
        let mut blocks = Vec::new();
        for _ in 0..4000 {
            blocks.extend_from_slice(&[0x99, 0x0C, 0x04, 0x00]); // unknown type, length 4
        }
        blocks.extend_from_slice(&[0x01, 0x0C, 0x08, 0x00, 0x04, 0x00, 0x08, 0x00]); // SC_CORE
        let mut visited = 0;
        walk_blocks(&blocks, |_, _| visited += 1);
        assert_eq!(visited, MAX_BLOCKS);
    }

    #[test]
    fn per_length_past_the_data_uses_what_is_present() {
        let mut b = RESPONSE;
        b[FIRST_BLOCK - 1] = 0x7F; // PER length 127, only 32 present
        assert_eq!(expect_response(&b).encryption_level, Some(3));
        b[FIRST_BLOCK - 1] = 0x0C; // PER length 12: only SC_CORE is inside
        let r = expect_response(&b);
        assert_eq!(r.server_version, Some(0x0008_0004));
        assert_eq!(r.encryption_method, None);
    }

    #[test]
    fn connect_initial_layout() {
        let b = connect_initial(method::ALL, 1);
        // TPKT length agrees; X.224 DT; MCS Connect-Initial with a 2-byte BER length.
        assert_eq!(usize::from(u16::from_be_bytes([b[2], b[3]])), b.len());
        #[rustfmt::skip]
        let head = [
            0x03, 0x00, // TPKT
            0x01, 0x70, // length 368
            0x02, 0xF0, 0x80, // X.224 DT, EOT
            0x7F, 0x65, 0x82, 0x01, 0x64, // Connect-Initial, BER length 356
            0x04, 0x01, 0x01, // callingDomainSelector
            0x04, 0x01, 0x01, // calledDomainSelector
            0x01, 0x01, 0xFF, // upwardFlag TRUE
            0x30, 0x19, // targetParameters, 25 bytes
                0x02, 0x01, 0x22, // maxChannelIds 34
                0x02, 0x01, 0x02, // maxUserIds 2
                0x02, 0x01, 0x00, // maxTokenIds 0
                0x02, 0x01, 0x01, // numPriorities 1
                0x02, 0x01, 0x00, // minThroughput 0
                0x02, 0x01, 0x01, // maxHeight 1
                0x02, 0x02, 0xFF, 0xFF, // maxMCSPDUsize 65535 (mstsc's encoding)
                0x02, 0x01, 0x02, // protocolVersion 2
            0x30, 0x19, // minimumParameters
                0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01,
                0x02, 0x01, 0x00, 0x02, 0x01, 0x01,
                0x02, 0x02, 0x04, 0x20, // maxMCSPDUsize 1056
                0x02, 0x01, 0x02,
            0x30, 0x1C, // maximumParameters, 28 bytes
                0x02, 0x02, 0xFF, 0xFF, // maxChannelIds 65535
                0x02, 0x02, 0xFC, 0x17, // maxUserIds 64535
                0x02, 0x02, 0xFF, 0xFF, // maxTokenIds 65535
                0x02, 0x01, 0x01, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01,
                0x02, 0x02, 0xFF, 0xFF, // maxMCSPDUsize 65535
                0x02, 0x01, 0x02,
            0x04, 0x82, 0x01, 0x03, // userData, 259 bytes
                0x00, 0x05, 0x00, 0x14, 0x7C, 0x00, 0x01, // T.124 object key
                0x80, 0xFA, // PER length 250
                0x00, 0x08, 0x00, 0x10, 0x00, 0x01, 0xC0, 0x00, // conferenceCreateRequest header
                0x44, 0x75, 0x63, 0x61, // "Duca"
                0x80, 0xEC, // PER length of the blocks, 236
                0x01, 0xC0, 0xD8, 0x00, // CS_CORE, length 216
                0x04, 0x00, 0x08, 0x00, // version 0x00080004
                0x00, 0x04, 0x00, 0x03, // 1024 x 768
        ];
        assert_eq!(&b[..head.len()], head);
        // serverSelectedProtocol ends CS_CORE; then CS_SECURITY and CS_NET close the PDU.
        #[rustfmt::skip]
        let tail = [
            0x01, 0x00, 0x00, 0x00, // serverSelectedProtocol SSL
            0x02, 0xC0, 0x0C, 0x00, // CS_SECURITY, length 12
                0x1B, 0x00, 0x00, 0x00, // encryptionMethods 40|128|56|FIPS
                0x00, 0x00, 0x00, 0x00, // extEncryptionMethods
            0x03, 0xC0, 0x08, 0x00, // CS_NET, length 8
                0x00, 0x00, 0x00, 0x00, // channelCount 0
        ];
        assert_eq!(&b[b.len() - tail.len()..], tail);
    }

    #[test]
    fn connect_initial_round_trip() {
        for (m, p) in [
            (method::ALL, 0),
            (method::BIT40, 1),
            (0, 2),
            (0xFFFF_FFFF, 0x0B),
        ] {
            let got = parse_connect_initial(&connect_initial(m, p)).done();
            assert_eq!(
                got,
                Some(Ok(ConnectInitial {
                    client_version: Some(CLIENT_VERSION),
                    server_selected_protocol: Some(p),
                    encryption_methods: Some(m),
                }))
            );
        }
        assert!(matches!(
            parse_connect_initial(&RESPONSE),
            Parse::Done(Err(_))
        ));
    }

    #[test]
    fn ber_helpers() {
        let mut v = Vec::new();
        ber_len(&mut v, 0x7F);
        ber_len(&mut v, 0x80);
        ber_len(&mut v, 0x1234);
        assert_eq!(v, [0x7F, 0x81, 0x80, 0x82, 0x12, 0x34]);
        let mut pos = 0;
        assert_eq!(read_ber_len(&v, &mut pos), Some(0x7F));
        assert_eq!(read_ber_len(&v, &mut pos), Some(0x80));
        assert_eq!(read_ber_len(&v, &mut pos), Some(0x1234));
        assert_eq!(read_ber_len(&v, &mut pos), None);
        let mut pos = 0;
        assert_eq!(read_ber_len(&[0x85, 1, 2, 3, 4, 5], &mut pos), None);
        let mut pos = 0;
        assert_eq!(read_ber_len(&[0x82, 0x01], &mut pos), None);
        let mut v = Vec::new();
        ber_uint(&mut v, 0);
        ber_uint(&mut v, 0x1_0000);
        assert_eq!(v, [0x02, 0x01, 0x00, 0x02, 0x03, 0x01, 0x00, 0x00]);
        let mut v = Vec::new();
        per_len(&mut v, 5);
        per_len(&mut v, 300);
        assert_eq!(v, [0x05, 0x81, 0x2C]);
        let mut pos = 0;
        assert_eq!(read_per_len(&v, &mut pos), Some(5));
        assert_eq!(read_per_len(&v, &mut pos), Some(300));
        assert_eq!(read_per_len(&v, &mut pos), None);
    }

    #[test]
    fn names() {
        assert_eq!(encryption_method_name(0), Some("NONE"));
        assert_eq!(encryption_method_name(0x08), Some("56BIT"));
        assert_eq!(encryption_method_name(0x10), Some("FIPS"));
        assert_eq!(encryption_method_name(0x03), None);
        assert_eq!(encryption_level_name(2), Some("CLIENT_COMPATIBLE"));
        assert_eq!(encryption_level_name(5), None);
        assert_eq!(rdp_version_name(0x0008_0001), Some("4.0"));
        assert_eq!(rdp_version_name(0x0008_0004), Some("5.0-8.1"));
        assert_eq!(rdp_version_name(0x0008_0005), Some("10.0"));
        assert_eq!(rdp_version_name(0x0008_000C), Some("10.7"));
        assert_eq!(rdp_version_name(0x0008_0011), Some("10.x+"));
        assert_eq!(rdp_version_name(0x0008_0002), None);
        assert_eq!(rdp_version_name(0x0009_0000), None);
        assert_eq!(rdp_version_name(0), None);
    }
}
