//! TPKT (RFC 1006) + X.224 class 0 CR/CC/DT + RDP_NEG_REQ/RSP/FAILURE
//! (MS-RDPBCGR 2.2.1.1-2.2.1.2; docs/protocol.md §2-3).
//!
//! TPKT lengths and X.224 references are big-endian; every RDP_NEG_* field is little-endian.

use bitflags::bitflags;

use super::{Parse, be_u16, le_u16, le_u32};

/// Largest TPKT we accept (the 16-bit length field cannot exceed it anyway).
pub const MAX_TPKT: usize = 64 * 1024;

/// TPKT version byte; anything else first means "not RDP".
pub const TPKT_VERSION: u8 = 0x03;
const TPKT_HEADER: usize = 4;
/// TPKT (4) + LI, code, DST-REF (2), SRC-REF (2), class: the fixed part of a CR or CC.
const CR_CC_FIXED: usize = 11;
/// Every RDP_NEG_* structure is 8 bytes.
const NEG_LEN: u16 = 8;
/// The 9 bytes of TPKT (4) + X.224 DT (3) + a 2-byte MCS Disconnect-Provider-Ultimatum.
const DT_DPUM_LEN: usize = 9;
/// Longest cookie value we put on the wire; keeps LI (one byte) far from overflowing
/// and is well above Windows' 20-character account names.
const MAX_COOKIE: usize = 64;

/// X.224 TPDU codes (upper nibble; the lower one carries the credit, CDT).
pub mod tpdu {
    pub const CR: u8 = 0xE0;
    pub const CC: u8 = 0xD0;
    pub const DT: u8 = 0xF0;
}

/// RDP_NEG_* type bytes.
pub mod neg_type {
    pub const REQ: u8 = 0x01;
    pub const RSP: u8 = 0x02;
    pub const FAILURE: u8 = 0x03;
}

bitflags! {
    /// requestedProtocols / selectedProtocol bits. PROTOCOL_RDP is 0, i.e. `Protocols::empty()`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Protocols: u32 {
        const SSL = 0x01;
        const HYBRID = 0x02;
        const RDSTLS = 0x04;
        const HYBRID_EX = 0x08;
        const RDSAAD = 0x10;
    }
}

impl Protocols {
    /// PROTOCOL_RDP: standard RDP security is the absence of every bit.
    pub const RDP: Protocols = Protocols::empty();

    /// The name of one layer (a selectedProtocol value): "RDP" for no bit, the flag's name for
    /// a single known bit; `None` for several bits or unknown ones. The flag names above are
    /// the one table of protocol names.
    pub fn layer_name(self) -> Option<&'static str> {
        if self.is_empty() {
            return Some("RDP");
        }
        <Protocols as bitflags::Flags>::FLAGS
            .iter()
            .find(|f| f.value().bits() == self.bits())
            .map(|f| f.name())
    }

    /// The inverse of [`Protocols::layer_name`].
    pub fn from_layer_name(name: &str) -> Option<Protocols> {
        if name == "RDP" {
            return Some(Protocols::RDP);
        }
        Protocols::from_name(name)
    }
}

/// Names of the known bits of a protocol mask; 0 is "RDP" (standard RDP security has no bit).
/// Unknown bits are left for the caller to list as numbers.
pub fn protocol_names(p: u32) -> Vec<&'static str> {
    if p == 0 {
        return vec!["RDP"];
    }
    Protocols::from_bits_truncate(p)
        .iter_names()
        .map(|(name, _)| name)
        .collect()
}

/// Name of a single selectedProtocol value ("UNKNOWN" when it is not one known layer).
pub fn protocol_name(single: u32) -> &'static str {
    Protocols::from_bits_retain(single)
        .layer_name()
        .unwrap_or("UNKNOWN")
}

bitflags! {
    /// RDP_NEG_RSP flags; parse with `from_bits_retain` so unknown bits survive as a fingerprint.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct NegRspFlags: u8 {
        const EXTENDED_CLIENT_DATA_SUPPORTED = 0x01;
        const DYNVC_GFX_PROTOCOL_SUPPORTED = 0x02;
        const NEGRSP_FLAG_RESERVED = 0x04;
        const RESTRICTED_ADMIN_MODE_SUPPORTED = 0x08;
        const REDIRECTED_AUTHENTICATION_MODE_SUPPORTED = 0x10;
    }
}

/// Short names of the meaningful RDP_NEG_RSP flags (the reserved bit and unknown bits are omitted).
pub fn neg_flag_names(flags: u8) -> Vec<&'static str> {
    const NAMES: [(u8, &str); 4] = [
        (0x01, "EXTENDED_CLIENT_DATA"),
        (0x02, "GFX"),
        (0x08, "RESTRICTED_ADMIN"),
        (0x10, "REDIRECTED_AUTH"),
    ];
    NAMES
        .iter()
        .filter(|(bit, _)| flags & bit != 0)
        .map(|(_, name)| *name)
        .collect()
}

/// RDP_NEG_FAILURE failureCode; a newtype so codes outside the spec survive as numbers.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct FailureCode(pub u32);

impl FailureCode {
    pub const SSL_REQUIRED_BY_SERVER: FailureCode = FailureCode(1);
    pub const SSL_NOT_ALLOWED_BY_SERVER: FailureCode = FailureCode(2);
    pub const SSL_CERT_NOT_ON_SERVER: FailureCode = FailureCode(3);
    pub const INCONSISTENT_FLAGS: FailureCode = FailureCode(4);
    pub const HYBRID_REQUIRED_BY_SERVER: FailureCode = FailureCode(5);
    pub const SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER: FailureCode = FailureCode(6);

    /// The spec name, or `None` for a code the spec does not define.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "SSL_REQUIRED_BY_SERVER",
            2 => "SSL_NOT_ALLOWED_BY_SERVER",
            3 => "SSL_CERT_NOT_ON_SERVER",
            4 => "INCONSISTENT_FLAGS",
            5 => "HYBRID_REQUIRED_BY_SERVER",
            6 => "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER",
            _ => return None,
        })
    }
}

/// TPKT + X.224 CR + optional cookie `Cookie: mstshash=<cookie>\r\n` + RDP_NEG_REQ(flags 0, requested).
pub fn connection_request(requested: u32, cookie: Option<&str>) -> Vec<u8> {
    connection_request_with(Some(requested), 0, cookie)
}

/// General CR builder: `requested = None` omits RDP_NEG_REQ (old-client behaviour, which
/// xrdp answers with a bare CC). `flags` go into RDP_NEG_REQ as given; no
/// RDP_NEG_CORRELATION_INFO is appended, so do not set CORRELATION_INFO_PRESENT (0x08).
///
/// The cookie is reduced to printable ASCII without spaces and cut to 64 bytes: a CR or LF
/// would end the cookie early and shift every later field; an empty cookie is omitted.
pub fn connection_request_with(requested: Option<u32>, flags: u8, cookie: Option<&str>) -> Vec<u8> {
    let cookie: Option<String> = cookie
        .map(|c| {
            c.chars()
                .filter(|ch| ch.is_ascii_graphic())
                .take(MAX_COOKIE)
                .collect::<String>()
        })
        .filter(|c| !c.is_empty());

    let mut var = Vec::new();
    if let Some(c) = cookie {
        var.extend_from_slice(b"Cookie: mstshash=");
        var.extend_from_slice(c.as_bytes());
        var.extend_from_slice(b"\r\n");
    }
    if let Some(req) = requested {
        var.push(neg_type::REQ);
        var.push(flags);
        var.extend_from_slice(&NEG_LEN.to_le_bytes());
        var.extend_from_slice(&req.to_le_bytes());
    }
    build_cr_cc(tpdu::CR, [0x00, 0x00], &var)
}

/// TPKT header + LI + code + DST-REF 0 + SRC-REF + class 0 + variable part.
/// The variable part is at most 64 + 19 + 8 bytes (CR) or 8 bytes (CC), so LI fits a byte.
fn build_cr_cc(code: u8, src_ref: [u8; 2], var: &[u8]) -> Vec<u8> {
    let total = CR_CC_FIXED + var.len();
    let li = u8::try_from(total - TPKT_HEADER - 1).unwrap_or(u8::MAX);
    let tpkt_len = u16::try_from(total).unwrap_or(u16::MAX);
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&[TPKT_VERSION, 0x00]); // TPKT version 3, reserved
    out.extend_from_slice(&tpkt_len.to_be_bytes()); // TPKT length, whole PDU
    out.push(li); // LI: bytes after this one
    out.push(code); // CR or CC, CDT 0
    out.extend_from_slice(&[0x00, 0x00]); // DST-REF
    out.extend_from_slice(&src_ref); // SRC-REF
    out.push(0x00); // class 0, no options
    out.extend_from_slice(var);
    out
}

/// What a server may answer to a CR (lab side).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfirmSpec {
    Selected {
        protocol: u32,
        flags: NegRspFlags,
    },
    Failure(FailureCode),
    /// The bare 11-byte CC of servers that predate negotiation.
    Legacy,
}

/// Server X.224 CC with SRC-REF 0x1234 (as Windows and xrdp send it).
pub fn connection_confirm(resp: &ConfirmSpec) -> Vec<u8> {
    let mut var = Vec::new();
    match resp {
        ConfirmSpec::Selected { protocol, flags } => {
            var.push(neg_type::RSP);
            var.push(flags.bits());
            var.extend_from_slice(&NEG_LEN.to_le_bytes());
            var.extend_from_slice(&protocol.to_le_bytes());
        }
        ConfirmSpec::Failure(code) => {
            var.push(neg_type::FAILURE);
            var.push(0x00);
            var.extend_from_slice(&NEG_LEN.to_le_bytes());
            var.extend_from_slice(&code.0.to_le_bytes());
        }
        ConfirmSpec::Legacy => {}
    }
    build_cr_cc(tpdu::CC, [0x12, 0x34], &var)
}

/// Split one TPKT off the front of `buf`; trailing bytes are not part of the frame.
/// Errors: first byte is not 3, or a length too short to hold any X.224 TPDU.
pub fn read_tpkt(buf: &[u8]) -> Parse<Result<&[u8], &'static str>> {
    match buf.first() {
        None => return Parse::Incomplete { need: TPKT_HEADER },
        Some(&b) if b != TPKT_VERSION => {
            return Parse::Done(Err("not a tpkt: first byte is not 3"));
        }
        Some(_) => {}
    }
    let Some(len) = be_u16(buf, 2) else {
        return Parse::Incomplete { need: TPKT_HEADER };
    };
    let len = usize::from(len);
    // TPKT header plus the 3-byte DT header is the shortest frame that carries anything.
    if len < TPKT_HEADER + 3 {
        return Parse::Done(Err("tpkt length too short"));
    }
    match buf.get(..len) {
        Some(frame) => Parse::Done(Ok(frame)),
        None => Parse::Incomplete { need: len },
    }
}

/// Why a reply is not RDP, guessed from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NotRdpHint {
    /// 0x15 (alert) or 0x16 (handshake): a TLS-only listener.
    TlsRecord,
    /// "HTTP/": a web server on the RDP port.
    Http,
    /// "SSH-": an SSH server on the RDP port.
    Ssh,
    Other,
}

impl NotRdpHint {
    /// Classify from whatever bytes are at hand (call again with more bytes for a better hint).
    pub fn from_bytes(buf: &[u8]) -> NotRdpHint {
        match buf.first() {
            Some(0x15 | 0x16) => NotRdpHint::TlsRecord,
            _ if buf.starts_with(b"HTTP/") => NotRdpHint::Http,
            _ if buf.starts_with(b"SSH-") => NotRdpHint::Ssh,
            _ => NotRdpHint::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            NotRdpHint::TlsRecord => "tls-record",
            NotRdpHint::Http => "http",
            NotRdpHint::Ssh => "ssh",
            NotRdpHint::Other => "other",
        }
    }
}

/// The server's answer to a CR.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Confirm {
    /// RDP_NEG_RSP.
    Selected { protocol: u32, flags: NegRspFlags },
    /// RDP_NEG_FAILURE.
    Failure(FailureCode),
    /// Bare 11-byte CC (LI=6): the server predates negotiation.
    Legacy,
    /// A CC whose LI (6) says "no negotiation data" although the TPKT carries an RDP_NEG_RSP or
    /// RDP_NEG_FAILURE after the header. Clients go by LI (MS-RDPBCGR 2.2.1.2: rdpNegData is
    /// part of the TPDU the LI measures; FreeRDP reads it only when LI > 6), so they never see
    /// the answer and continue as with a pre-negotiation server.
    UncoveredNeg(Box<Confirm>),
    /// X.224 DT + MCS Disconnect-Provider-Ultimatum instead of a CC (xrdp refusing the request).
    Rejected,
    /// First byte is not 3, the TPDU is not a CC, or the negotiation data is malformed.
    NotRdp(NotRdpHint),
    /// TPKT length too short for a CC (and not the 9-byte DT + DPUm).
    BadLength(u32),
}

/// True when `mcs` starts with a PER DomainMCSPDU whose CHOICE index (top 6 bits) is 8,
/// disconnectProviderUltimatum (T.125).
pub(crate) fn is_dpum(mcs: &[u8]) -> bool {
    mcs.first().is_some_and(|b| b >> 2 == 8)
}

/// Parse what the server sent after our CR.
///
/// Decides as early as the bytes allow: a first byte other than 3 is `NotRdp` at once, a
/// TPDU code that is neither CC nor DT is `NotRdp` after 6 bytes, and a DT is judged after
/// its 9th byte, so a liar declaring 64 KiB cannot make the caller wait. Needs only the
/// TPKT-declared length; trailing bytes are ignored.
pub fn parse_confirm(buf: &[u8]) -> Parse<Confirm> {
    match buf.first() {
        None => return Parse::Incomplete { need: TPKT_HEADER },
        Some(&b) if b != TPKT_VERSION => {
            return Parse::Done(Confirm::NotRdp(NotRdpHint::from_bytes(buf)));
        }
        Some(_) => {}
    }
    // The TPKT reserved byte is not checked: nothing else on 3389 starts with 0x03.
    let Some(len16) = be_u16(buf, 2) else {
        return Parse::Incomplete { need: TPKT_HEADER };
    };
    let len = usize::from(len16);
    if !(DT_DPUM_LEN..=MAX_TPKT).contains(&len) {
        return Parse::Done(Confirm::BadLength(u32::from(len16)));
    }
    let (Some(&li), Some(&code)) = (buf.get(4), buf.get(5)) else {
        return Parse::Incomplete { need: 6 };
    };
    match code & 0xF0 {
        tpdu::DT => {
            // DT header is LI=2, code, EOT; the MCS PDU follows at offset 7.
            let Some(head) = buf.get(..DT_DPUM_LEN) else {
                return Parse::Incomplete { need: DT_DPUM_LEN };
            };
            let mcs = head.get(7..).unwrap_or_default();
            if li == 2 && is_dpum(mcs) {
                Parse::Done(Confirm::Rejected)
            } else {
                Parse::Done(Confirm::NotRdp(NotRdpHint::Other))
            }
        }
        tpdu::CC => {
            if len < CR_CC_FIXED {
                return Parse::Done(Confirm::BadLength(u32::from(len16)));
            }
            // LI 6 = no negotiation data, LI 14 = 8 bytes of it; FreeRDP and the spec allow
            // nothing else. LI must also fit inside the TPKT.
            let li = usize::from(li);
            if (li != 6 && li != 14) || li + TPKT_HEADER + 1 > len {
                return Parse::Done(Confirm::NotRdp(NotRdpHint::Other));
            }
            let Some(frame) = buf.get(..len) else {
                return Parse::Incomplete { need: len };
            };
            if li == 6 {
                let extra = frame.get(CR_CC_FIXED..).unwrap_or_default();
                if extra.len() == usize::from(NEG_LEN) {
                    let hidden = parse_neg_data(extra);
                    if matches!(hidden, Confirm::Selected { .. } | Confirm::Failure(_)) {
                        return Parse::Done(Confirm::UncoveredNeg(Box::new(hidden)));
                    }
                }
                return Parse::Done(Confirm::Legacy);
            }
            Parse::Done(parse_neg_data(frame.get(CR_CC_FIXED..).unwrap_or_default()))
        }
        _ => Parse::Done(Confirm::NotRdp(NotRdpHint::Other)),
    }
}

/// Whether `selected` is a valid answer to `requested` (MS-RDPBCGR 2.2.1.2.1: selectedProtocol
/// is 0 for standard RDP security, or exactly one of the protocols the client asked for).
/// Anything else — a protocol never offered, several bits, an unknown bit — is a server the
/// client cannot follow: mstsc drops the connection.
pub fn selection_is_valid(requested: u32, selected: u32) -> bool {
    selected == 0 || (selected.count_ones() == 1 && selected & !requested == 0)
}

/// RDP_NEG_RSP or RDP_NEG_FAILURE (8 bytes, little-endian).
fn parse_neg_data(neg: &[u8]) -> Confirm {
    let (Some(&ty), Some(&flags), Some(nlen), Some(value)) =
        (neg.first(), neg.get(1), le_u16(neg, 2), le_u32(neg, 4))
    else {
        return Confirm::NotRdp(NotRdpHint::Other);
    };
    if nlen != NEG_LEN {
        return Confirm::NotRdp(NotRdpHint::Other);
    }
    match ty {
        neg_type::RSP => Confirm::Selected {
            protocol: value,
            flags: NegRspFlags::from_bits_retain(flags),
        },
        neg_type::FAILURE => Confirm::Failure(FailureCode(value)),
        _ => Confirm::NotRdp(NotRdpHint::Other),
    }
}

/// A client's CR as the lab server sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionRequest {
    /// requestedProtocols; `None` when the CR carries no RDP_NEG_REQ.
    pub requested: Option<u32>,
    /// RDP_NEG_REQ flags (0 without RDP_NEG_REQ).
    pub flags: u8,
    /// The `mstshash=` value; for a routing token, the text after `Cookie: ` (e.g. `msts=...`).
    pub cookie: Option<String>,
}

/// Parse a client CR (lab server side). Strict where a Windows server is strict:
/// class 0 only, LI must agree with the TPKT length, RDP_NEG_REQ length must be 8.
pub fn parse_connection_request(buf: &[u8]) -> Parse<Result<ConnectionRequest, &'static str>> {
    let frame = match read_tpkt(buf) {
        Parse::Incomplete { need } => return Parse::Incomplete { need },
        Parse::Done(Err(e)) => return Parse::Done(Err(e)),
        Parse::Done(Ok(f)) => f,
    };
    Parse::Done(parse_cr_frame(frame))
}

fn parse_cr_frame(frame: &[u8]) -> Result<ConnectionRequest, &'static str> {
    if frame.len() < CR_CC_FIXED {
        return Err("tpkt length under 11");
    }
    let (Some(&li), Some(&code), Some(&class)) = (frame.get(4), frame.get(5), frame.get(10)) else {
        return Err("tpkt length under 11");
    };
    if code & 0xF0 != tpdu::CR {
        return Err("not an x.224 connection request");
    }
    if usize::from(li) + TPKT_HEADER + 1 != frame.len() {
        return Err("x.224 length indicator disagrees with the tpkt length");
    }
    if class != 0 {
        return Err("x.224 class other than 0");
    }
    let mut rest = frame.get(CR_CC_FIXED..).unwrap_or_default();

    let mut cookie = None;
    if let Some(line) = rest.strip_prefix(b"Cookie: ") {
        let end = line
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("cookie not terminated by crlf")?;
        let value = line.get(..end).unwrap_or_default();
        let value = value.strip_prefix(b"mstshash=").unwrap_or(value);
        cookie = Some(String::from_utf8_lossy(value).into_owned());
        rest = line.get(end + 2..).unwrap_or_default();
    }

    let (requested, flags) = match rest.first() {
        None => (None, 0),
        Some(&neg_type::REQ) => {
            let (Some(&flags), Some(nlen), Some(req)) =
                (rest.get(1), le_u16(rest, 2), le_u32(rest, 4))
            else {
                return Err("truncated rdp_neg_req");
            };
            if nlen != NEG_LEN {
                return Err("rdp_neg_req length is not 8");
            }
            // Anything after (RDP_NEG_CORRELATION_INFO) is accepted and ignored.
            (Some(req), flags)
        }
        Some(_) => return Err("unexpected data in connection request"),
    };
    Ok(ConnectionRequest {
        requested,
        flags,
        cookie,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn li6_confirm_with_negotiation_after_it_is_kept_apart_from_legacy() {
        let cc = [
            0x03, 0x00, 0x00, 0x13, // TPKT: version 3, length 19
            0x06, // LI 6: "no negotiation data" (a conforming CC with data says 14)
            0xD0, // CC
            0x00, 0x00, 0x12, 0x34, 0x00, // DST-REF, SRC-REF, class 0
            0x02, 0x00, 0x08, 0x00, // RDP_NEG_RSP, flags 0, length 8
            0x01, 0x00, 0x00, 0x00, // selectedProtocol SSL
        ];
        assert_eq!(
            parse_confirm(&cc),
            Parse::Done(Confirm::UncoveredNeg(Box::new(Confirm::Selected {
                protocol: 1,
                flags: NegRspFlags::empty(),
            })))
        );
        // Trailing bytes that are not negotiation data leave a plain legacy confirm.
        let mut junk = cc;
        junk[11] = 0x7F; // not an RDP_NEG_* type
        assert_eq!(parse_confirm(&junk), Parse::Done(Confirm::Legacy));
    }

    #[test]
    fn a_selection_is_valid_only_as_one_offered_protocol_or_none() {
        let offered = (Protocols::SSL | Protocols::HYBRID | Protocols::HYBRID_EX).bits();
        assert!(selection_is_valid(offered, 0)); // standard RDP security
        assert!(selection_is_valid(offered, 1) && selection_is_valid(offered, 8));
        assert!(!selection_is_valid(offered, 0x04)); // RDSTLS, never offered
        assert!(!selection_is_valid(offered, 0x10)); // RDSAAD, never offered
        assert!(!selection_is_valid(offered, 0x03)); // two at once
        assert!(!selection_is_valid(offered, 0x8000_0000));
        assert!(!selection_is_valid(u32::MAX, u32::MAX));
    }

    use super::*;

    /// docs/protocol.md §2.2: the 43-byte request with cookie "probe" and requestedProtocols 0x0B.
    const CR_PROBE_0B: [u8; 43] = [
        0x03, 0x00, // TPKT version 3, reserved
        0x00, 0x2B, // TPKT length 43
        0x26, // LI 38
        0xE0, // CR, CDT 0
        0x00, 0x00, // DST-REF
        0x00, 0x00, // SRC-REF
        0x00, // class 0
        b'C', b'o', b'o', b'k', b'i', b'e', b':', b' ', b'm', b's', b't', b's', b'h', b'a', b's',
        b'h', b'=', b'p', b'r', b'o', b'b', b'e', 0x0D, 0x0A, // "Cookie: mstshash=probe\r\n"
        0x01, // RDP_NEG_REQ
        0x00, // flags
        0x08, 0x00, // length 8
        0x0B, 0x00, 0x00, 0x00, // requestedProtocols SSL|HYBRID|HYBRID_EX
    ];

    /// xrdp: SSL selected, flags EXTENDED_CLIENT_DATA.
    const CC_XRDP_SSL: [u8; 19] = [
        0x03, 0x00, // TPKT version, reserved
        0x00, 0x13, // TPKT length 19
        0x0E, // LI 14
        0xD0, // CC
        0x00, 0x00, // DST-REF
        0x12, 0x34, // SRC-REF 0x1234
        0x00, // class 0
        0x02, // RDP_NEG_RSP
        0x01, // flags EXTENDED_CLIENT_DATA_SUPPORTED
        0x08, 0x00, // length 8
        0x01, 0x00, 0x00, 0x00, // selectedProtocol SSL
    ];

    /// FreeRDP 2.11 shadow: SRC-REF 0, flags 0x03, HYBRID selected.
    const CC_FREERDP_HYBRID: [u8; 19] = [
        0x03, 0x00, // TPKT
        0x00, 0x13, // length 19
        0x0E, // LI 14
        0xD0, // CC
        0x00, 0x00, // DST-REF
        0x00, 0x00, // SRC-REF 0 (FreeRDP; not validated)
        0x00, // class 0
        0x02, // RDP_NEG_RSP
        0x03, // flags EXTENDED_CLIENT_DATA | GFX
        0x08, 0x00, // length 8
        0x02, 0x00, 0x00, 0x00, // selectedProtocol HYBRID
    ];

    /// FreeRDP /sec:nla answering an SSL-only request: failure 5.
    const CC_FAILURE_5: [u8; 19] = [
        0x03, 0x00, // TPKT
        0x00, 0x13, // length 19
        0x0E, // LI 14
        0xD0, // CC
        0x00, 0x00, // DST-REF
        0x12, 0x34, // SRC-REF
        0x00, // class 0
        0x03, // RDP_NEG_FAILURE
        0x00, // flags
        0x08, 0x00, // length 8
        0x05, 0x00, 0x00, 0x00, // HYBRID_REQUIRED_BY_SERVER
    ];

    /// Windows XP / xrdp without RDP_NEG_REQ: bare CC.
    const CC_BARE: [u8; 11] = [
        0x03, 0x00, // TPKT
        0x00, 0x0B, // length 11
        0x06, // LI 6
        0xD0, // CC
        0x00, 0x00, // DST-REF
        0x12, 0x34, // SRC-REF
        0x00, // class 0
    ];

    /// xrdp rejecting requestedProtocols > 0x0B.
    const DT_DPUM: [u8; 9] = [
        0x03, 0x00, // TPKT
        0x00, 0x09, // length 9
        0x02, // LI 2
        0xF0, // DT
        0x80, // EOT
        0x21, 0x80, // MCS Disconnect-Provider-Ultimatum, reason user-requested
    ];

    #[test]
    fn request_fixture_with_cookie() {
        assert_eq!(connection_request(0x0B, Some("probe")), CR_PROBE_0B);
    }

    #[test]
    fn request_without_cookie() {
        let expected = [
            0x03, 0x00, // TPKT
            0x00, 0x13, // length 19
            0x0E, // LI 14
            0xE0, // CR
            0x00, 0x00, 0x00, 0x00, // DST-REF, SRC-REF
            0x00, // class 0
            0x01, 0x00, 0x08, 0x00, // RDP_NEG_REQ, flags 0, length 8
            0x03, 0x00, 0x00, 0x00, // SSL|HYBRID
        ];
        assert_eq!(connection_request(3, None), expected);
        // An empty (or all-filtered) cookie is omitted rather than sent as "mstshash=".
        assert_eq!(connection_request(3, Some("")), expected);
        assert_eq!(connection_request(3, Some("\r\n ")), expected);
    }

    #[test]
    fn request_without_neg_req() {
        let cr = connection_request_with(None, 0, None);
        assert_eq!(
            cr,
            [
                0x03, 0x00, 0x00, 0x0B, // TPKT length 11
                0x06, 0xE0, // LI 6, CR
                0x00, 0x00, 0x00, 0x00, 0x00, // refs, class
            ]
        );
    }

    #[test]
    fn request_cookie_is_sanitized_and_bounded() {
        let cr = connection_request(1, Some("ev il\r\nCookie: x"));
        let req = parse_connection_request(&cr).done().and_then(Result::ok);
        let req = req.expect("own request parses");
        assert_eq!(req.cookie.as_deref(), Some("evilCookie:x"));
        assert_eq!(req.requested, Some(1));

        let long = "a".repeat(1000);
        let cr = connection_request(1, Some(&long));
        assert_eq!(cr.len(), 11 + 17 + MAX_COOKIE + 2 + 8);
        assert_eq!(usize::from(cr[4]) + 5, cr.len(), "LI agrees with length");
        assert_eq!(usize::from(u16::from_be_bytes([cr[2], cr[3]])), cr.len());
    }

    #[test]
    fn request_round_trip() {
        for req in [0u32, 1, 3, 0x0B, 0x1F] {
            for cookie in [None, Some("probe")] {
                let cr = connection_request(req, cookie);
                let parsed = parse_connection_request(&cr);
                assert_eq!(
                    parsed,
                    Parse::Done(Ok(ConnectionRequest {
                        requested: Some(req),
                        flags: 0,
                        cookie: cookie.map(String::from),
                    }))
                );
            }
        }
        let cr = connection_request_with(None, 0, Some("bob"));
        let parsed = parse_connection_request(&cr).done();
        assert_eq!(
            parsed,
            Some(Ok(ConnectionRequest {
                requested: None,
                flags: 0,
                cookie: Some("bob".into())
            }))
        );
        let cr = connection_request_with(Some(3), 0x01, None);
        let parsed = parse_connection_request(&cr).done().and_then(Result::ok);
        assert_eq!(parsed.map(|r| r.flags), Some(0x01));
    }

    #[test]
    fn request_with_routing_token_and_correlation_info() {
        let mut cr = vec![
            0x03, 0x00, 0x00, 0x00, // TPKT, length patched below
            0x00, // LI patched below
            0xE0, 0x00, 0x00, 0x00, 0x00, 0x00, // CR, refs, class
        ];
        cr.extend_from_slice(b"Cookie: msts=3640205228.15629.0000\r\n"); // routing token
        cr.extend_from_slice(&[0x01, 0x08, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00]); // NEG_REQ flags CORRELATION_INFO
        cr.extend_from_slice(&[0x06, 0x00, 0x24, 0x00]); // RDP_NEG_CORRELATION_INFO type, flags, length 36
        cr.extend_from_slice(&[0x11; 16]); // correlationId
        cr.extend_from_slice(&[0x00; 16]); // reserved
        let len = cr.len();
        cr[2..4].copy_from_slice(&u16::try_from(len).unwrap().to_be_bytes());
        cr[4] = u8::try_from(len - 5).unwrap();
        let parsed = parse_connection_request(&cr).done();
        assert_eq!(
            parsed,
            Some(Ok(ConnectionRequest {
                requested: Some(3),
                flags: 0x08,
                cookie: Some("msts=3640205228.15629.0000".into()),
            }))
        );
    }

    #[test]
    fn request_errors() {
        // Incomplete until the TPKT length is there.
        assert_eq!(parse_connection_request(&[]), Parse::Incomplete { need: 4 });
        assert_eq!(
            parse_connection_request(&CR_PROBE_0B[..3]),
            Parse::Incomplete { need: 4 }
        );
        assert_eq!(
            parse_connection_request(&CR_PROBE_0B[..20]),
            Parse::Incomplete { need: 43 }
        );
        // Not TPKT.
        assert!(matches!(
            parse_connection_request(b"GET / HTTP/1.1"),
            Parse::Done(Err(_))
        ));
        // TPKT length 8: too short for a CR.
        let short = [0x03, 0x00, 0x00, 0x08, 0x03, 0xE0, 0x00, 0x00];
        assert_eq!(
            parse_connection_request(&short),
            Parse::Done(Err("tpkt length under 11"))
        );
        // Class 2.
        let mut c = CR_PROBE_0B;
        c[10] = 0x20;
        assert_eq!(
            parse_connection_request(&c),
            Parse::Done(Err("x.224 class other than 0"))
        );
        // LI disagreeing with TPKT length.
        let mut c = CR_PROBE_0B;
        c[4] = 0x25;
        assert!(matches!(parse_connection_request(&c), Parse::Done(Err(_))));
        // Cookie without CR LF.
        let mut c = CR_PROBE_0B;
        c[33] = b'X';
        assert_eq!(
            parse_connection_request(&c),
            Parse::Done(Err("cookie not terminated by crlf"))
        );
        // RDP_NEG_REQ length 9.
        let mut c = CR_PROBE_0B;
        c[37] = 0x09;
        assert_eq!(
            parse_connection_request(&c),
            Parse::Done(Err("rdp_neg_req length is not 8"))
        );
        // Truncated RDP_NEG_REQ (frame ends inside it).
        let mut c = CR_PROBE_0B[..40].to_vec();
        c[3] = 40;
        c[4] = 35;
        assert_eq!(
            parse_connection_request(&c),
            Parse::Done(Err("truncated rdp_neg_req"))
        );
        // Unknown structure where RDP_NEG_REQ belongs.
        let mut c = CR_PROBE_0B;
        c[35] = 0x07;
        assert!(matches!(parse_connection_request(&c), Parse::Done(Err(_))));
        // A CC is not a CR.
        assert!(matches!(
            parse_connection_request(&CC_BARE),
            Parse::Done(Err(_))
        ));
    }

    #[test]
    fn confirm_fixtures() {
        assert_eq!(
            parse_confirm(&CC_XRDP_SSL),
            Parse::Done(Confirm::Selected {
                protocol: 1,
                flags: NegRspFlags::EXTENDED_CLIENT_DATA_SUPPORTED
            })
        );
        assert_eq!(
            parse_confirm(&CC_FREERDP_HYBRID),
            Parse::Done(Confirm::Selected {
                protocol: 2,
                flags: NegRspFlags::EXTENDED_CLIENT_DATA_SUPPORTED
                    | NegRspFlags::DYNVC_GFX_PROTOCOL_SUPPORTED
            })
        );
        assert_eq!(
            parse_confirm(&CC_FAILURE_5),
            Parse::Done(Confirm::Failure(FailureCode::HYBRID_REQUIRED_BY_SERVER))
        );
        assert_eq!(parse_confirm(&CC_BARE), Parse::Done(Confirm::Legacy));
        assert_eq!(parse_confirm(&DT_DPUM), Parse::Done(Confirm::Rejected));
    }

    #[test]
    fn confirm_builder_matches_fixtures() {
        assert_eq!(
            connection_confirm(&ConfirmSpec::Selected {
                protocol: 1,
                flags: NegRspFlags::EXTENDED_CLIENT_DATA_SUPPORTED
            }),
            CC_XRDP_SSL
        );
        assert_eq!(
            connection_confirm(&ConfirmSpec::Failure(FailureCode(5))),
            CC_FAILURE_5
        );
        assert_eq!(connection_confirm(&ConfirmSpec::Legacy), CC_BARE);
    }

    #[test]
    fn confirm_round_trip_keeps_unknown_values() {
        let specs = [
            ConfirmSpec::Selected {
                protocol: 0,
                flags: NegRspFlags::empty(),
            },
            ConfirmSpec::Selected {
                protocol: 0x8000_0008,
                flags: NegRspFlags::from_bits_retain(0xFF),
            },
            ConfirmSpec::Failure(FailureCode(0xDEAD_BEEF)),
            ConfirmSpec::Legacy,
        ];
        for spec in specs {
            let got = parse_confirm(&connection_confirm(&spec)).done();
            let want = match spec {
                ConfirmSpec::Selected { protocol, flags } => Confirm::Selected { protocol, flags },
                ConfirmSpec::Failure(c) => Confirm::Failure(c),
                ConfirmSpec::Legacy => Confirm::Legacy,
            };
            assert_eq!(got, Some(want));
        }
        let got = parse_confirm(&connection_confirm(&ConfirmSpec::Selected {
            protocol: 1,
            flags: NegRspFlags::from_bits_retain(0xE5),
        }));
        match got {
            Parse::Done(Confirm::Selected { flags, .. }) => assert_eq!(flags.bits(), 0xE5),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn confirm_incremental() {
        for end in 0..CC_XRDP_SSL.len() {
            match parse_confirm(&CC_XRDP_SSL[..end]) {
                Parse::Incomplete { need } => {
                    assert!(
                        need > end && need <= CC_XRDP_SSL.len(),
                        "end {end} need {need}"
                    )
                }
                Parse::Done(c) => panic!("decided at {end} bytes: {c:?}"),
            }
        }
        assert_eq!(
            parse_confirm(&CC_XRDP_SSL[..4]),
            Parse::Incomplete { need: 6 }
        );
        assert_eq!(
            parse_confirm(&CC_XRDP_SSL[..6]),
            Parse::Incomplete { need: 19 }
        );
        for end in 0..DT_DPUM.len() {
            assert!(matches!(
                parse_confirm(&DT_DPUM[..end]),
                Parse::Incomplete { .. }
            ));
        }
    }

    #[test]
    fn confirm_trailing_bytes_ignored() {
        let mut b = CC_XRDP_SSL.to_vec();
        b.extend_from_slice(&[0x16, 0x03, 0x03, 0x00]); // start of a TLS record
        assert!(matches!(
            parse_confirm(&b),
            Parse::Done(Confirm::Selected { protocol: 1, .. })
        ));
    }

    #[test]
    fn confirm_not_rdp_decided_on_first_byte() {
        // TLS alert: decided from 1 byte.
        assert_eq!(
            parse_confirm(&[0x15]),
            Parse::Done(Confirm::NotRdp(NotRdpHint::TlsRecord))
        );
        assert_eq!(
            parse_confirm(&[0x16, 0x03, 0x01]),
            Parse::Done(Confirm::NotRdp(NotRdpHint::TlsRecord))
        );
        assert_eq!(
            parse_confirm(b"HTTP/1.1 400 Bad Request\r\n"),
            Parse::Done(Confirm::NotRdp(NotRdpHint::Http))
        );
        assert_eq!(
            parse_confirm(b"SSH-2.0-OpenSSH_9.2p1\r\n"),
            Parse::Done(Confirm::NotRdp(NotRdpHint::Ssh))
        );
        // Only "H" so far: not enough to tell HTTP, but already not RDP.
        assert_eq!(
            parse_confirm(b"H"),
            Parse::Done(Confirm::NotRdp(NotRdpHint::Other))
        );
        assert_eq!(NotRdpHint::from_bytes(b"HTTP/1.0 200"), NotRdpHint::Http);
        assert_eq!(
            parse_confirm(&[0x00]),
            Parse::Done(Confirm::NotRdp(NotRdpHint::Other))
        );
        assert_eq!(NotRdpHint::Http.as_str(), "http");
        assert_eq!(NotRdpHint::TlsRecord.as_str(), "tls-record");
    }

    #[test]
    fn confirm_bad_lengths() {
        // TPKT length 5: decided after 4 bytes.
        assert_eq!(
            parse_confirm(&[0x03, 0x00, 0x00, 0x05]),
            Parse::Done(Confirm::BadLength(5))
        );
        assert_eq!(
            parse_confirm(&[0x03, 0x00, 0x00, 0x00]),
            Parse::Done(Confirm::BadLength(0))
        );
        // TPKT length 10 with a CC code: too short for a CC.
        assert_eq!(
            parse_confirm(&[0x03, 0x00, 0x00, 0x0A, 0x06, 0xD0]),
            Parse::Done(Confirm::BadLength(10))
        );
        // 9-byte TPKT that is a CC, not DT+DPUm.
        assert_eq!(
            parse_confirm(&[0x03, 0x00, 0x00, 0x09, 0x04, 0xD0, 0x00, 0x00, 0x12]),
            Parse::Done(Confirm::BadLength(9))
        );
    }

    #[test]
    fn confirm_malformed_is_not_rdp() {
        let other = Parse::Done(Confirm::NotRdp(NotRdpHint::Other));
        // LI 10: neither 6 nor 14.
        let mut b = CC_XRDP_SSL;
        b[4] = 0x0A;
        assert_eq!(parse_confirm(&b), other);
        // LI 14 inside an 11-byte TPKT.
        let b = [
            0x03, 0x00, 0x00, 0x0B, 0x0E, 0xD0, 0x00, 0x00, 0x12, 0x34, 0x00,
        ];
        assert_eq!(parse_confirm(&b), other);
        // Unknown neg type 7.
        let mut b = CC_XRDP_SSL;
        b[11] = 0x07;
        assert_eq!(parse_confirm(&b), other);
        // Neg length 9.
        let mut b = CC_XRDP_SSL;
        b[13] = 0x09;
        assert_eq!(parse_confirm(&b), other);
        // TPDU code DR (0x80): decided after 6 bytes even though the TPKT claims more.
        assert_eq!(parse_confirm(&[0x03, 0x00, 0x00, 0x13, 0x0E, 0x80]), other);
        // DT carrying an MCS Connect-Response instead of DPUm.
        assert_eq!(
            parse_confirm(&[0x03, 0x00, 0x00, 0x0C, 0x02, 0xF0, 0x80, 0x7F, 0x66, 0x00]),
            other
        );
    }

    #[test]
    fn confirm_dpum_decided_before_huge_tpkt_completes() {
        let b = [
            0x03, 0x00, // TPKT
            0xFF, 0xFF, // length 65535
            0x02, 0xF0, 0x80, // DT, EOT
            0x20, 0x00, // DPUm, reason domain-disconnected
        ];
        assert_eq!(parse_confirm(&b), Parse::Done(Confirm::Rejected));
    }

    #[test]
    fn names() {
        assert_eq!(protocol_names(0), vec!["RDP"]);
        assert_eq!(protocol_names(0x3), vec!["SSL", "HYBRID"]);
        assert_eq!(protocol_names(0x0B), vec!["SSL", "HYBRID", "HYBRID_EX"]);
        assert_eq!(protocol_names(0x40), Vec::<&str>::new());
        assert_eq!(protocol_names(0x14), vec!["RDSTLS", "RDSAAD"]);
        assert_eq!(protocol_name(8), "HYBRID_EX");
        assert_eq!(protocol_name(3), "UNKNOWN");
        assert_eq!(protocol_name(0x40), "UNKNOWN");
        assert_eq!(protocol_name(0), "RDP");
        assert_eq!(protocol_name(0x10), "RDSAAD");
        for p in [0u32, 1, 2, 4, 8, 0x10] {
            let layer = Protocols::from_bits_retain(p);
            let name = layer.layer_name().unwrap();
            assert_eq!(Protocols::from_layer_name(name), Some(layer), "{name}");
        }
        assert_eq!(Protocols::from_bits_retain(3).layer_name(), None);
        assert_eq!(Protocols::from_layer_name("UNKNOWN"), None);
        assert_eq!(
            neg_flag_names(0x1F),
            vec![
                "EXTENDED_CLIENT_DATA",
                "GFX",
                "RESTRICTED_ADMIN",
                "REDIRECTED_AUTH"
            ]
        );
        assert_eq!(neg_flag_names(0x04 | 0x80), Vec::<&str>::new());
        assert_eq!(FailureCode(3).name(), Some("SSL_CERT_NOT_ON_SERVER"));
        assert_eq!(
            FailureCode::SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER.name(),
            Some("SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER")
        );
        assert_eq!(FailureCode(0).name(), None);
        assert_eq!(FailureCode(7).name(), None);
    }

    #[test]
    fn read_tpkt_frames() {
        assert_eq!(read_tpkt(&DT_DPUM), Parse::Done(Ok(&DT_DPUM[..])));
        let mut b = DT_DPUM.to_vec();
        b.push(0xAA);
        assert_eq!(read_tpkt(&b), Parse::Done(Ok(&DT_DPUM[..])));
        assert_eq!(read_tpkt(&DT_DPUM[..8]), Parse::Incomplete { need: 9 });
        assert!(matches!(
            read_tpkt(&[0x03, 0x00, 0x00, 0x06]),
            Parse::Done(Err(_))
        ));
        assert!(matches!(read_tpkt(&[0x30]), Parse::Done(Err(_))));
    }
}
