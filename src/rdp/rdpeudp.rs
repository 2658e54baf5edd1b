//! MS-RDPEUDP connection setup (docs/protocol.md §12): the client's SYN datagram and the
//! server's SYN+ACK, nothing of the data phase. All fields are big-endian (the spec's examples,
//! §4.1). The scanner sends one SYN to UDP 3389 after TCP RDP worked and reads the answer; the
//! lab answers with [`syn_ack_datagram`].
//!
//! ```text
//! RDPUDP_FEC_HEADER (2.2.2.1)        snSourceAck u32 | uReceiveWindowSize u16 | uFlags u16
//! RDPUDP_SYNDATA_PAYLOAD (2.2.2.5)   snInitialSequenceNumber u32 | uUpStreamMtu u16 | uDownStreamMtu u16
//! RDPUDP_CORRELATION_ID (2.2.2.8)    32 bytes, only with RDPUDP_FLAG_CORRELATION_ID
//! RDPUDP_SYNDATAEX_PAYLOAD (2.2.2.9) uSynExFlags u16 | uUdpVer u16 (| cookieHash 32, v3 only), with RDPUDP_FLAG_SYNEX
//! zero padding to 1232 bytes (3.1.5.1.1)
//! ```

use bitflags::bitflags;

use super::be_u16;

/// A SYN datagram is padded with zeros to this size (3.1.5.1.1); it is also the largest MTU a
/// SYN may announce.
pub const SYN_DATAGRAM_LEN: usize = 1232;
/// The MTU range both sides must announce (3.1.5.1.1, 3.1.5.1.3).
pub const MIN_MTU: u16 = 1132;
pub const MAX_MTU: u16 = 1232;
/// FEC header + SYNDATA payload: the shortest datagram that can be a SYN or SYN+ACK.
pub const MIN_SYN_LEN: usize = 16;
/// What the receiver reads of one datagram: a conforming SYN+ACK is 1232 bytes; anything past
/// this is cut by the kernel (never allocated), which cannot change the parse.
pub const MAX_READ: usize = 2048;

bitflags! {
    /// `uFlags` of RDPUDP_FEC_HEADER (2.2.2.1). Unknown bits are kept.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct UdpFlags: u16 {
        const SYN = 0x0001;
        const FIN = 0x0002;
        const ACK = 0x0004;
        const DATA = 0x0008;
        const FEC = 0x0010;
        const CN = 0x0020;
        const CWR = 0x0040;
        const SACK_OPTION = 0x0080;
        const ACK_OF_ACKS = 0x0100;
        const SYNLOSSY = 0x0200;
        const ACKDELAYED = 0x0400;
        const CORRELATION_ID = 0x0800;
        const SYNEX = 0x1000;
        const _ = !0;
    }
}

/// `uSynExFlags` RDPUDP_VERSION_INFO_VALID: `uUdpVer` carries a version (2.2.2.9).
pub const VERSION_INFO_VALID: u16 = 0x0001;
/// `uUdpVer` values (2.2.2.9).
pub const VERSION_1: u16 = 0x0001;
pub const VERSION_2: u16 = 0x0002;
pub const VERSION_3: u16 = 0x0101;

/// What the client's SYN announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Syn {
    /// snInitialSequenceNumber: random per probe; the SYN+ACK must echo it in snSourceAck.
    pub isn: u32,
    /// uReceiveWindowSize, in datagrams.
    pub receive_window: u16,
    /// uUpStreamMtu and uDownStreamMtu (clamped into 1132..=1232 when written).
    pub mtu: u16,
    /// With a version: RDPUDP_FLAG_SYNEX and a SYNDATAEX payload naming it. Version 3 would
    /// need the TCP connection's security cookie, so callers offer 1 or 2.
    pub version: Option<u16>,
}

/// The 1232-byte SYN datagram for `s` (3.1.5.1.1): snSourceAck -1, reliable mode (no SYNLOSSY),
/// no correlation ID.
pub fn syn_datagram(s: &Syn) -> Vec<u8> {
    let mut flags = UdpFlags::SYN;
    if s.version.is_some() {
        flags |= UdpFlags::SYNEX;
    }
    let mut v = Vec::with_capacity(SYN_DATAGRAM_LEN);
    v.extend_from_slice(&u32::MAX.to_be_bytes()); // snSourceAck -1: nothing to acknowledge yet
    v.extend_from_slice(&s.receive_window.to_be_bytes());
    v.extend_from_slice(&flags.bits().to_be_bytes());
    write_syndata(&mut v, s.isn, s.mtu, s.version);
    v.resize(SYN_DATAGRAM_LEN, 0);
    v
}

fn write_syndata(v: &mut Vec<u8>, isn: u32, mtu: u16, version: Option<u16>) {
    let mtu = mtu.clamp(MIN_MTU, MAX_MTU);
    v.extend_from_slice(&isn.to_be_bytes());
    v.extend_from_slice(&mtu.to_be_bytes()); // uUpStreamMtu
    v.extend_from_slice(&mtu.to_be_bytes()); // uDownStreamMtu
    if let Some(ver) = version {
        v.extend_from_slice(&VERSION_INFO_VALID.to_be_bytes());
        v.extend_from_slice(&ver.to_be_bytes());
    }
}

/// A datagram that starts like a SYN (the lab's side): what the client announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedSyn {
    pub flags: UdpFlags,
    pub receive_window: u16,
    pub isn: u32,
    pub up_mtu: u16,
    pub down_mtu: u16,
    /// uUdpVer when a SYNDATAEX payload with RDPUDP_VERSION_INFO_VALID is present.
    pub version: Option<u16>,
    /// The datagram's length (a conforming SYN is at least 1232 bytes).
    pub len: usize,
}

/// The server's SYN+ACK, as far as the scanner reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynAck {
    pub flags: UdpFlags,
    pub receive_window: u16,
    /// The server's own snInitialSequenceNumber.
    pub server_isn: u32,
    pub up_mtu: u16,
    pub down_mtu: u16,
    /// uUdpVer the server chose, when it sent a SYNDATAEX payload with a valid version.
    pub version: Option<u16>,
    pub len: usize,
}

/// Why a datagram is not the SYN+ACK for our SYN. Data, never a panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadReply {
    /// Shorter than the FEC header and SYNDATA payload.
    Short { len: usize },
    /// uFlags lacks SYN or ACK (e.g. a bare ACK, a FIN, or a SYN echoed back).
    Flags { flags: u16 },
    /// snSourceAck is not our snInitialSequenceNumber: an answer to another SYN.
    WrongAck { expected: u32, got: u32 },
}

impl std::fmt::Display for BadReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadReply::Short { len } => write!(f, "{len}-byte datagram, too short for a SYN+ACK"),
            BadReply::Flags { flags } => write!(f, "uFlags 0x{flags:04X} is not SYN|ACK"),
            BadReply::WrongAck { expected, got } => {
                write!(
                    f,
                    "snSourceAck 0x{got:08X} does not acknowledge 0x{expected:08X}"
                )
            }
        }
    }
}

/// The fields every SYN-phase datagram shares: (flags, window, snSourceAck, ISN, up, down,
/// version).
fn parse_common(d: &[u8]) -> Result<(UdpFlags, u16, u32, ParsedSyn), BadReply> {
    let short = BadReply::Short { len: d.len() };
    let be_u32 = |off: usize| -> Option<u32> {
        let b: [u8; 4] = d.get(off..off + 4)?.try_into().ok()?;
        Some(u32::from_be_bytes(b))
    };
    let source_ack = be_u32(0).ok_or(short)?;
    let window = be_u16(d, 4).ok_or(short)?;
    let flags = UdpFlags::from_bits_retain(be_u16(d, 6).ok_or(short)?);
    let isn = be_u32(8).ok_or(short)?;
    let up = be_u16(d, 12).ok_or(short)?;
    let down = be_u16(d, 14).ok_or(short)?;
    let mut ex = MIN_SYN_LEN;
    if flags.contains(UdpFlags::CORRELATION_ID) {
        ex += 32;
    }
    // A SYNDATAEX cut short is no version, not an error: the handshake fields are all there.
    let version = if flags.contains(UdpFlags::SYNEX) {
        match (be_u16(d, ex), be_u16(d, ex + 2)) {
            (Some(exf), Some(ver)) if exf & VERSION_INFO_VALID != 0 => Some(ver),
            _ => None,
        }
    } else {
        None
    };
    Ok((
        flags,
        window,
        source_ack,
        ParsedSyn {
            flags,
            receive_window: window,
            isn,
            up_mtu: up,
            down_mtu: down,
            version,
            len: d.len(),
        },
    ))
}

/// Reads a datagram as a client SYN (SYN set, ACK clear).
pub fn parse_syn(d: &[u8]) -> Result<ParsedSyn, BadReply> {
    let (flags, _, _, syn) = parse_common(d)?;
    if !flags.contains(UdpFlags::SYN) || flags.contains(UdpFlags::ACK) {
        return Err(BadReply::Flags {
            flags: flags.bits(),
        });
    }
    Ok(syn)
}

/// Reads a datagram as the SYN+ACK answering the SYN whose snInitialSequenceNumber was
/// `our_isn` (3.1.5.1.3: SYN and ACK set, snSourceAck = our ISN). MTUs outside 1132..=1232
/// are kept as sent: the datagram still proves an RDP-UDP listener answered.
pub fn parse_syn_ack(d: &[u8], our_isn: u32) -> Result<SynAck, BadReply> {
    let (flags, window, source_ack, s) = parse_common(d)?;
    if !flags.contains(UdpFlags::SYN | UdpFlags::ACK) {
        return Err(BadReply::Flags {
            flags: flags.bits(),
        });
    }
    if source_ack != our_isn {
        return Err(BadReply::WrongAck {
            expected: our_isn,
            got: source_ack,
        });
    }
    Ok(SynAck {
        flags,
        receive_window: window,
        server_isn: s.isn,
        up_mtu: s.up_mtu,
        down_mtu: s.down_mtu,
        version: s.version,
        len: d.len(),
    })
}

/// The server's SYN+ACK to `syn` (3.1.5.1.3), padded to 1232 bytes like a SYN: snSourceAck =
/// the client's ISN, SYN|ACK, the smaller of the two sides' MTUs, and a SYNDATAEX only when the
/// SYN had one, with the highest version both support (up to `max_version`).
pub fn syn_ack_datagram(
    syn: &ParsedSyn,
    server_isn: u32,
    receive_window: u16,
    max_version: u16,
) -> Vec<u8> {
    let mut flags = UdpFlags::SYN | UdpFlags::ACK;
    let version = syn.version.map(|v| v.min(max_version));
    if version.is_some() {
        flags |= UdpFlags::SYNEX;
    }
    let mtu = syn.up_mtu.min(syn.down_mtu).min(MAX_MTU);
    let mut v = Vec::with_capacity(SYN_DATAGRAM_LEN);
    v.extend_from_slice(&syn.isn.to_be_bytes()); // snSourceAck: the ISN being acknowledged
    v.extend_from_slice(&receive_window.to_be_bytes());
    v.extend_from_slice(&flags.bits().to_be_bytes());
    write_syndata(&mut v, server_isn, mtu, version);
    v.resize(SYN_DATAGRAM_LEN, 0);
    v
}

/// Every parser here on `data` (fuzz targets and the property test): must return for any input.
pub fn fuzz_rdpeudp(data: &[u8]) {
    let isn = match data {
        [a, b, c, d, ..] => u32::from_be_bytes([*a, *b, *c, *d]),
        _ => 0,
    };
    let _ = parse_syn_ack(data, isn).map(|s| s.version);
    let _ = parse_syn_ack(data, isn.wrapping_add(1));
    if let Ok(syn) = parse_syn(data) {
        // What the lab would answer must parse as the SYN+ACK for that SYN.
        let reply = syn_ack_datagram(&syn, isn, 64, VERSION_2);
        let got = parse_syn_ack(&reply, syn.isn);
        assert!(got.is_ok(), "lab reply does not parse: {got:?}");
    }
    if let Err(e) = parse_syn_ack(data, isn) {
        let _ = e.to_string();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 3.1.5.1.1: the first 20 bytes of the SYN the scanner sends (ISN 0x11223344, version 2).
    const SYN_HEAD: [u8; 20] = [
        0xFF, 0xFF, 0xFF, 0xFF, // snSourceAck -1
        0x00, 0x40, // uReceiveWindowSize 64
        0x10, 0x01, // uFlags SYNEX | SYN
        0x11, 0x22, 0x33, 0x44, // snInitialSequenceNumber
        0x04, 0xD0, // uUpStreamMtu 1232
        0x04, 0xD0, // uDownStreamMtu 1232
        0x00, 0x01, // uSynExFlags RDPUDP_VERSION_INFO_VALID
        0x00, 0x02, // uUdpVer RDPUDP_PROTOCOL_VERSION_2
    ];

    fn syn() -> Syn {
        Syn {
            isn: 0x1122_3344,
            receive_window: 64,
            mtu: 1232,
            version: Some(VERSION_2),
        }
    }

    #[test]
    fn syn_is_the_spec_layout_padded_to_1232() {
        let d = syn_datagram(&syn());
        assert_eq!(d.len(), SYN_DATAGRAM_LEN);
        assert_eq!(d[..20], SYN_HEAD);
        assert!(d[20..].iter().all(|b| *b == 0), "zero padding");
        // Without a version: no SYNEX flag, no SYNDATAEX payload.
        let d = syn_datagram(&Syn {
            version: None,
            mtu: 9000, // clamped to the spec's range
            ..syn()
        });
        assert_eq!(d[6..8], [0x00, 0x01]); // uFlags SYN
        assert_eq!(d[12..16], [0x04, 0xD0, 0x04, 0xD0]);
        assert_eq!(d[16..20], [0, 0, 0, 0]);
        assert_eq!(parse_syn(&d).unwrap().version, None);
    }

    /// 4.1.2: the spec's SYN+ACK example (ISN 0x42, window 1024, MTUs 1232), padded.
    #[test]
    fn spec_example_syn_ack_parses() {
        let mut d = vec![
            0x00, 0x00, 0x00, 0x42, // snSourceAck = the client's ISN
            0x04, 0x00, // uReceiveWindowSize 1024
            0x00, 0x05, // uFlags SYN | ACK
            0x00, 0x00, 0x00, 0x42, // the server's snInitialSequenceNumber
            0x04, 0xD0, // uUpStreamMtu 1232
            0x04, 0xD0, // uDownStreamMtu 1232
        ];
        d.resize(SYN_DATAGRAM_LEN, 0);
        let s = parse_syn_ack(&d, 0x42).unwrap();
        assert_eq!(s.flags, UdpFlags::SYN | UdpFlags::ACK);
        assert_eq!((s.receive_window, s.server_isn), (1024, 0x42));
        assert_eq!((s.up_mtu, s.down_mtu, s.version), (1232, 1232, None));
        assert_eq!(
            parse_syn_ack(&d, 0x43),
            Err(BadReply::WrongAck {
                expected: 0x43,
                got: 0x42
            })
        );
    }

    #[test]
    fn lab_answer_round_trips_and_negotiates_the_version() {
        let parsed = parse_syn(&syn_datagram(&syn())).unwrap();
        assert_eq!(parsed.isn, 0x1122_3344);
        assert_eq!(parsed.len, 1232);
        let reply = syn_ack_datagram(&parsed, 0xCAFE_0001, 32, VERSION_1);
        assert_eq!(
            reply[..20],
            [
                0x11, 0x22, 0x33, 0x44, // snSourceAck = our ISN
                0x00, 0x20, // uReceiveWindowSize 32
                0x10, 0x05, // SYNEX | ACK | SYN
                0xCA, 0xFE, 0x00, 0x01, // server ISN
                0x04, 0xD0, 0x04, 0xD0, // MTUs
                0x00, 0x01, 0x00, 0x01, // VERSION_INFO_VALID, version 1 (the lower one)
            ]
        );
        let s = parse_syn_ack(&reply, 0x1122_3344).unwrap();
        assert_eq!(
            (s.server_isn, s.version, s.len),
            (0xCAFE_0001, Some(1), 1232)
        );
    }

    #[test]
    fn hostile_datagrams_are_errors_not_panics() {
        // Short: every length below 16.
        for n in 0..MIN_SYN_LEN {
            assert_eq!(
                parse_syn_ack(&[0xFF; 15][..n], 0),
                Err(BadReply::Short { len: n })
            );
        }
        // Wrong flags: our own SYN reflected back, a bare ACK, a FIN.
        let d = syn_datagram(&syn());
        assert_eq!(
            parse_syn_ack(&d, 0x1122_3344),
            Err(BadReply::Flags { flags: 0x1001 })
        );
        let mut ack = d.clone();
        ack[6..8].copy_from_slice(&[0x00, 0x04]);
        assert_eq!(
            parse_syn_ack(&ack, 0),
            Err(BadReply::Flags { flags: 0x0004 })
        );
        // A SYN+ACK is not a SYN either.
        let mut sa = d.clone();
        sa[6..8].copy_from_slice(&[0x00, 0x05]);
        assert!(matches!(parse_syn(&sa), Err(BadReply::Flags { .. })));
        // SYNEX and CORRELATION_ID announced in a bare 16-byte datagram: no version, no panic.
        let mut cut = d[..16].to_vec();
        cut[0..4].copy_from_slice(&[0, 0, 0, 7]);
        cut[6..8].copy_from_slice(&[0x18, 0x05]);
        assert_eq!(parse_syn_ack(&cut, 7).unwrap().version, None);
        // Huge: only the length is kept.
        let mut big = syn_ack_datagram(&parse_syn(&d).unwrap(), 1, 64, VERSION_2);
        big.resize(65_507, 0xAB);
        assert_eq!(parse_syn_ack(&big, 0x1122_3344).unwrap().len, 65_507);
        assert_eq!(
            BadReply::Flags { flags: 4 }.to_string(),
            "uFlags 0x0004 is not SYN|ACK"
        );
    }

    #[test]
    fn fuzz_entry_on_prefixes() {
        let d = syn_datagram(&syn());
        for end in 0..=40 {
            fuzz_rdpeudp(&d[..end]);
        }
        fuzz_rdpeudp(&d);
    }
}
