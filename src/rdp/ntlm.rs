//! NTLM NEGOTIATE and CHALLENGE messages (MS-NLMP 2.2.1.1, 2.2.1.2, 2.2.2.1); docs/protocol.md §8.
//!
//! The CHALLENGE is the one unauthenticated thing a CredSSP server tells about itself: its
//! NetBIOS and DNS names, its claimed OS version and its clock. No credentials are involved.
//! All fields are little-endian; names are UTF-16LE (decoded lossily, never panicking).
//! A pure codec: [`Challenge`] is what the message says; the probe turns it into the model's
//! view and compares the server's clock with its own.

use std::fmt;

use super::{le_u16, le_u32, le_u64};

/// "NTLMSSP\0".
pub const SIGNATURE: [u8; 8] = *b"NTLMSSP\0";

/// NegotiateFlags bits (MS-NLMP 2.2.2.5).
pub mod flags {
    pub const UNICODE: u32 = 0x0000_0001;
    pub const OEM: u32 = 0x0000_0002;
    pub const REQUEST_TARGET: u32 = 0x0000_0004;
    pub const SIGN: u32 = 0x0000_0010;
    pub const SEAL: u32 = 0x0000_0020;
    pub const LM_KEY: u32 = 0x0000_0080;
    pub const NTLM: u32 = 0x0000_0200;
    pub const ALWAYS_SIGN: u32 = 0x0000_8000;
    pub const TARGET_TYPE_DOMAIN: u32 = 0x0001_0000;
    pub const TARGET_TYPE_SERVER: u32 = 0x0002_0000;
    pub const EXTENDED_SESSIONSECURITY: u32 = 0x0008_0000;
    pub const TARGET_INFO: u32 = 0x0080_0000;
    pub const VERSION: u32 = 0x0200_0000;
    pub const NEGOTIATE_128: u32 = 0x2000_0000;
    pub const KEY_EXCH: u32 = 0x4000_0000;
    pub const NEGOTIATE_56: u32 = 0x8000_0000;
}

/// The flags our NEGOTIATE carries: 0xE2088297, the set seen working against live servers.
/// - UNICODE: names come back as UTF-16 (OEM is offered too, as real clients do).
/// - REQUEST_TARGET: the server must fill TargetName (its NetBIOS domain or host name).
/// - VERSION: the server then returns its Version field (the OS claim).
/// - NTLM, EXTENDED_SESSIONSECURITY, SIGN, ALWAYS_SIGN, LM_KEY, 128, 56, KEY_EXCH: the usual
///   capability mix of a Windows client, so the server answers as it would answer mstsc and
///   no server refuses for lack of a capability (ESS takes precedence over LM_KEY). SEAL is
///   left out: no session is ever set up.
pub const NEGOTIATE_FLAGS: u32 = flags::UNICODE
    | flags::OEM
    | flags::REQUEST_TARGET
    | flags::SIGN
    | flags::LM_KEY
    | flags::NTLM
    | flags::ALWAYS_SIGN
    | flags::EXTENDED_SESSIONSECURITY
    | flags::VERSION
    | flags::NEGOTIATE_128
    | flags::KEY_EXCH
    | flags::NEGOTIATE_56;

/// NTLMRevisionCurrent (MS-NLMP 2.2.2.10).
const NTLM_REVISION: u8 = 0x0F;
/// The Version we claim in NEGOTIATE: Windows 10 1809 / Server 2019, a common client.
const CLIENT_VERSION: NtlmVersion = NtlmVersion {
    major: 10,
    minor: 0,
    build: 17763,
};
/// TargetInfo AvIds.
mod av {
    pub const EOL: u16 = 0;
    pub const NB_COMPUTER: u16 = 1;
    pub const NB_DOMAIN: u16 = 2;
    pub const DNS_COMPUTER: u16 = 3;
    pub const DNS_DOMAIN: u16 = 4;
    pub const DNS_TREE: u16 = 5;
    pub const FLAGS: u16 = 6;
    pub const TIMESTAMP: u16 = 7;
}
/// The AV_PAIR walk stops after this many pairs; Windows sends about eight.
const MAX_AV_PAIRS: usize = 64;
/// Only the first few "NTLMSSP\0" occurrences in a token are tried.
const MAX_SIGNATURE_TRIES: usize = 4;
/// CHALLENGE header with Version: everything before the payload.
const CHALLENGE_HEADER: usize = 56;
/// The lab's names are cut to this many UTF-16 bytes, keeping every length in a u16.
const MAX_NAME_BYTES: usize = 512;

/// NTLM Version structure (MS-NLMP 2.2.2.10): a claim, not a proof (WinPR fakes 6.1.7601).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct NtlmVersion {
    pub major: u8,
    pub minor: u8,
    pub build: u16,
}

impl NtlmVersion {
    /// The most useful OS label for this version, `None` when it matches no Windows release.
    pub fn os_name(&self) -> Option<&'static str> {
        Some(match (self.major, self.minor) {
            (5, 1) => "Windows XP",
            (5, 2) => "Windows Server 2003 / XP x64",
            (6, 0) => "Windows Vista / Server 2008",
            (6, 1) => "Windows 7 / Server 2008 R2",
            (6, 2) => "Windows 8 / Server 2012",
            (6, 3) => "Windows 8.1 / Server 2012 R2",
            (10, 0) => match self.build {
                14393 => "Windows Server 2016 / Windows 10 1607",
                17763 => "Windows Server 2019 / Windows 10 1809",
                20348 => "Windows Server 2022",
                26100 => "Windows Server 2025 / Windows 11 24H2",
                22000..=22631 => "Windows 11",
                10240..=19045 => "Windows 10",
                _ => "Windows 10/11 or Server 2016+",
            },
            _ => return None,
        })
    }
}

impl fmt::Display for NtlmVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.build)
    }
}

/// What a CHALLENGE_MESSAGE tells. Names are server-controlled text; empty names are `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Challenge {
    pub flags: u32,
    pub target_name: Option<String>,
    pub nb_computer: Option<String>,
    pub nb_domain: Option<String>,
    pub dns_computer: Option<String>,
    pub dns_domain: Option<String>,
    pub dns_tree: Option<String>,
    /// MsvAvTimestamp, FILETIME (100 ns since 1601).
    pub timestamp: Option<u64>,
    /// Present when the VERSION flag is set and the header has room for it.
    pub version: Option<NtlmVersion>,
    /// MsvAvFlags.
    pub av_flags: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum NtlmError {
    #[error("no ntlmssp signature in the token")]
    NotFound,
    #[error("ntlm message cut short")]
    Truncated,
    #[error("ntlm signature mismatch")]
    BadSignature,
    #[error("unexpected ntlm message type {0}")]
    WrongType(u32),
    #[error("ntlm field points outside the message")]
    BadOffset,
}

/// NEGOTIATE_MESSAGE: no domain, no workstation, Version set.
pub fn negotiate_message() -> [u8; 40] {
    let mut m = Vec::with_capacity(40);
    m.extend_from_slice(&SIGNATURE); // Signature
    m.extend_from_slice(&1u32.to_le_bytes()); // MessageType NEGOTIATE
    m.extend_from_slice(&NEGOTIATE_FLAGS.to_le_bytes()); // NegotiateFlags
    m.extend_from_slice(&[0; 8]); // DomainNameFields: len, maxlen, offset all 0
    m.extend_from_slice(&[0; 8]); // WorkstationFields: all 0
    m.extend_from_slice(&version_bytes(CLIENT_VERSION)); // Version
    // Always exactly 40 bytes (see the fixture test); the fallback is unreachable.
    m.try_into().unwrap_or([0; 40])
}

fn version_bytes(v: NtlmVersion) -> [u8; 8] {
    let [b0, b1] = v.build.to_le_bytes();
    [v.major, v.minor, b0, b1, 0, 0, 0, NTLM_REVISION]
}

/// UTF-16LE to String: an odd trailing byte and unpaired surrogates become U+FFFD.
pub fn utf16le_lossy(bytes: &[u8]) -> String {
    let units = bytes.chunks_exact(2).map(|c| {
        u16::from_le_bytes([
            c.first().copied().unwrap_or(0),
            c.get(1).copied().unwrap_or(0),
        ])
    });
    let mut s: String = char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    if bytes.len() % 2 == 1 {
        s.push(char::REPLACEMENT_CHARACTER);
    }
    s
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// A (len u16, maxlen u16, offset u32) field at `at`: the referenced bytes, `None` when empty.
fn field(msg: &[u8], at: usize) -> Result<Option<(usize, &[u8])>, NtlmError> {
    let (Some(len), Some(off)) = (le_u16(msg, at), le_u32(msg, at + 4)) else {
        return Err(NtlmError::Truncated);
    };
    if len == 0 {
        return Ok(None);
    }
    let off = usize::try_from(off).map_err(|_| NtlmError::BadOffset)?;
    let end = off
        .checked_add(usize::from(len))
        .ok_or(NtlmError::BadOffset)?;
    let bytes = msg.get(off..end).ok_or(NtlmError::BadOffset)?;
    Ok(Some((off, bytes)))
}

fn check_signature(msg: &[u8], want_type: u32) -> Result<(), NtlmError> {
    match msg.get(..SIGNATURE.len()) {
        Some(sig) if sig != SIGNATURE => return Err(NtlmError::BadSignature),
        Some(_) => {}
        None if SIGNATURE.starts_with(msg) => return Err(NtlmError::Truncated),
        None => return Err(NtlmError::BadSignature),
    }
    match le_u32(msg, 8) {
        None => Err(NtlmError::Truncated),
        Some(t) if t != want_type => Err(NtlmError::WrongType(t)),
        Some(_) => Ok(()),
    }
}

/// Parse a CHALLENGE_MESSAGE that starts at `msg[0]`; every offset is relative to that.
pub fn parse_challenge(msg: &[u8]) -> Result<Challenge, NtlmError> {
    check_signature(msg, 2)?;
    // Through ServerChallenge (offset 24..32) is the least any CHALLENGE has.
    let Some(flags) = le_u32(msg, 20).filter(|_| msg.len() >= 32) else {
        return Err(NtlmError::Truncated);
    };
    let mut ch = Challenge {
        flags,
        ..Challenge::default()
    };

    // The payload starts at the lowest field offset; header parts at or past it are payload
    // (old servers end the header at 32 or 48 bytes).
    let mut header_end = msg.len();
    if let Some((off, bytes)) = field(msg, 12)? {
        header_end = header_end.min(off);
        ch.target_name = non_empty(if flags & flags::UNICODE != 0 {
            utf16le_lossy(bytes)
        } else {
            String::from_utf8_lossy(bytes).into_owned()
        });
    }
    if header_end >= 48 {
        if let Some((off, info)) = field(msg, 40)? {
            header_end = header_end.min(off);
            read_target_info(info, &mut ch);
        }
    }
    if flags & flags::VERSION != 0 && header_end >= CHALLENGE_HEADER {
        if let (Some(&major), Some(&minor), Some(build)) =
            (msg.get(48), msg.get(49), le_u16(msg, 50))
        {
            ch.version = Some(NtlmVersion {
                major,
                minor,
                build,
            });
        }
    }
    Ok(ch)
}

/// Walk AV_PAIRs: stop at MsvAvEOL, at a pair running past the end, or after MAX_AV_PAIRS.
/// The first usable occurrence of each AvId wins.
fn read_target_info(info: &[u8], ch: &mut Challenge) {
    fn set_name(slot: &mut Option<String>, value: &[u8]) {
        if slot.is_none() {
            *slot = non_empty(utf16le_lossy(value));
        }
    }
    let mut pos = 0usize;
    for _ in 0..MAX_AV_PAIRS {
        let (Some(id), Some(len)) = (le_u16(info, pos), le_u16(info, pos + 2)) else {
            return;
        };
        if id == av::EOL {
            return;
        }
        let start = pos + 4;
        let end = start + usize::from(len);
        let Some(value) = info.get(start..end) else {
            return;
        };
        match id {
            av::NB_COMPUTER => set_name(&mut ch.nb_computer, value),
            av::NB_DOMAIN => set_name(&mut ch.nb_domain, value),
            av::DNS_COMPUTER => set_name(&mut ch.dns_computer, value),
            av::DNS_DOMAIN => set_name(&mut ch.dns_domain, value),
            av::DNS_TREE => set_name(&mut ch.dns_tree, value),
            av::FLAGS if ch.av_flags.is_none() => ch.av_flags = le_u32(value, 0),
            av::TIMESTAMP if ch.timestamp.is_none() => ch.timestamp = le_u64(value, 0),
            _ => {}
        }
        pos = end;
    }
}

/// Locate "NTLMSSP\0" inside a token (raw NTLM or SPNEGO-wrapped) and parse the CHALLENGE
/// there. The first few occurrences are tried in order; the first that parses wins.
pub fn find_challenge(token: &[u8]) -> Result<Challenge, NtlmError> {
    let mut first_err = None;
    let starts = token
        .windows(SIGNATURE.len())
        .enumerate()
        .filter(|(_, w)| *w == SIGNATURE)
        .map(|(i, _)| i)
        .take(MAX_SIGNATURE_TRIES);
    for at in starts {
        match parse_challenge(token.get(at..).unwrap_or_default()) {
            Ok(c) => return Ok(c),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    Err(first_err.unwrap_or(NtlmError::NotFound))
}

/// FILETIME (100 ns ticks since 1601-01-01) to Unix seconds; `None` for 0 (no timestamp).
pub fn filetime_to_unix(ft: u64) -> Option<i64> {
    const EPOCH_DIFF_S: i64 = 11_644_473_600;
    if ft == 0 {
        return None;
    }
    i64::try_from(ft / 10_000_000)
        .ok()?
        .checked_sub(EPOCH_DIFF_S)
}

/// What the lab server puts in its CHALLENGE. Empty names are left out of TargetInfo.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChallengeSpec {
    pub target_name: String,
    pub nb_computer: String,
    pub nb_domain: String,
    pub dns_computer: String,
    pub dns_domain: String,
    pub dns_tree: String,
    /// FILETIME.
    pub timestamp: u64,
    pub version: NtlmVersion,
    pub flags: u32,
}

/// UTF-16LE, cut at a character boundary to at most MAX_NAME_BYTES.
fn utf16le(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() * 2);
    for ch in s.chars() {
        let mut units = [0u16; 2];
        let units = ch.encode_utf16(&mut units);
        if out.len() + units.len() * 2 > MAX_NAME_BYTES {
            break;
        }
        for u in units.iter() {
            out.extend_from_slice(&u.to_le_bytes());
        }
    }
    out
}

fn fields_bytes(len: usize, offset: usize) -> [u8; 8] {
    let [l0, l1] = u16::try_from(len).unwrap_or(u16::MAX).to_le_bytes();
    let [o0, o1, o2, o3] = u32::try_from(offset).unwrap_or(u32::MAX).to_le_bytes();
    // len, maxlen (the same), offset
    [l0, l1, l0, l1, o0, o1, o2, o3]
}

/// CHALLENGE_MESSAGE for the lab (Windows' AV_PAIR order). The server challenge is a fixed
/// value: the lab never completes an authentication.
pub fn challenge_message(spec: &ChallengeSpec) -> Vec<u8> {
    let target_name = utf16le(&spec.target_name);
    let mut info = Vec::with_capacity(128);
    for (id, value) in [
        (av::NB_DOMAIN, &spec.nb_domain),
        (av::NB_COMPUTER, &spec.nb_computer),
        (av::DNS_DOMAIN, &spec.dns_domain),
        (av::DNS_COMPUTER, &spec.dns_computer),
        (av::DNS_TREE, &spec.dns_tree),
    ] {
        let v = utf16le(value);
        if v.is_empty() {
            continue;
        }
        info.extend_from_slice(&id.to_le_bytes());
        info.extend_from_slice(&u16::try_from(v.len()).unwrap_or(0).to_le_bytes());
        info.extend_from_slice(&v);
    }
    info.extend_from_slice(&av::TIMESTAMP.to_le_bytes());
    info.extend_from_slice(&8u16.to_le_bytes());
    info.extend_from_slice(&spec.timestamp.to_le_bytes());
    info.extend_from_slice(&[0, 0, 0, 0]); // MsvAvEOL

    let tn_off = CHALLENGE_HEADER;
    let ti_off = tn_off + target_name.len();
    let mut m = Vec::with_capacity(ti_off + info.len());
    m.extend_from_slice(&SIGNATURE); // Signature
    m.extend_from_slice(&2u32.to_le_bytes()); // MessageType CHALLENGE
    m.extend_from_slice(&fields_bytes(target_name.len(), tn_off)); // TargetNameFields
    m.extend_from_slice(&spec.flags.to_le_bytes()); // NegotiateFlags
    m.extend_from_slice(&[0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF]); // ServerChallenge
    m.extend_from_slice(&[0; 8]); // Reserved
    m.extend_from_slice(&fields_bytes(info.len(), ti_off)); // TargetInfoFields
    m.extend_from_slice(&version_bytes(spec.version)); // Version
    m.extend_from_slice(&target_name);
    m.extend_from_slice(&info);
    m
}

/// Parse a NEGOTIATE_MESSAGE (lab server side); returns its NegotiateFlags.
pub fn parse_negotiate(msg: &[u8]) -> Result<u32, NtlmError> {
    check_signature(msg, 1)?;
    let flags = le_u32(msg, 12).ok_or(NtlmError::Truncated)?;
    // Domain and workstation fields exist from 32 bytes on; when set they must be in bounds.
    if msg.len() >= 32 {
        field(msg, 16)?;
        field(msg, 24)?;
    }
    Ok(flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shaped after the live FreeRDP shadow CHALLENGE (docs/protocol.md §8.4): TargetName "VM",
    /// flags 0xE2888297, names VM/vm, WinPR's fake 6.1.7601; timestamp 2026-11-21T12:00:00Z.
    #[rustfmt::skip]
    const SHADOW_CHALLENGE: [u8; 108] = [
        0x4E, 0x54, 0x4C, 0x4D, 0x53, 0x53, 0x50, 0x00, // "NTLMSSP\0"
        0x02, 0x00, 0x00, 0x00, // MessageType CHALLENGE
        0x04, 0x00, 0x04, 0x00, 0x38, 0x00, 0x00, 0x00, // TargetNameFields: len 4, max 4, offset 56
        0x97, 0x82, 0x88, 0xE2, // NegotiateFlags 0xE2888297
        0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, // ServerChallenge
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // Reserved
        0x30, 0x00, 0x30, 0x00, 0x3C, 0x00, 0x00, 0x00, // TargetInfoFields: len 48, max 48, offset 60
        0x06, 0x01, 0xB1, 0x1D, 0x00, 0x00, 0x00, 0x0F, // Version 6.1 build 7601, revision 15
        0x56, 0x00, 0x4D, 0x00, // TargetName "VM"
        0x02, 0x00, 0x04, 0x00, 0x56, 0x00, 0x4D, 0x00, // MsvAvNbDomainName "VM"
        0x01, 0x00, 0x04, 0x00, 0x56, 0x00, 0x4D, 0x00, // MsvAvNbComputerName "VM"
        0x04, 0x00, 0x04, 0x00, 0x76, 0x00, 0x6D, 0x00, // MsvAvDnsDomainName "vm"
        0x03, 0x00, 0x04, 0x00, 0x76, 0x00, 0x6D, 0x00, // MsvAvDnsComputerName "vm"
        0x07, 0x00, 0x08, 0x00, // MsvAvTimestamp, 8 bytes
            0x00, 0xE0, 0x8C, 0xD5, 0xAF, 0x79, 0xDD, 0x01, // FILETIME 134397360000000000
        0x00, 0x00, 0x00, 0x00, // MsvAvEOL
    ];
    const SHADOW_UNIX: i64 = 1_795_262_400;

    fn shadow_spec() -> ChallengeSpec {
        ChallengeSpec {
            target_name: "VM".into(),
            nb_computer: "VM".into(),
            nb_domain: "VM".into(),
            dns_computer: "vm".into(),
            dns_domain: "vm".into(),
            dns_tree: String::new(),
            timestamp: 134_397_360_000_000_000,
            version: NtlmVersion {
                major: 6,
                minor: 1,
                build: 7601,
            },
            flags: 0xE288_8297,
        }
    }

    fn shadow_expected() -> Challenge {
        Challenge {
            flags: 0xE288_8297,
            target_name: Some("VM".into()),
            nb_computer: Some("VM".into()),
            nb_domain: Some("VM".into()),
            dns_computer: Some("vm".into()),
            dns_domain: Some("vm".into()),
            dns_tree: None,
            timestamp: Some(134_397_360_000_000_000),
            version: Some(NtlmVersion {
                major: 6,
                minor: 1,
                build: 7601,
            }),
            av_flags: None,
        }
    }

    #[test]
    fn negotiate_flags_composition() {
        assert_eq!(NEGOTIATE_FLAGS, 0xE208_8297);
        // The server's reply adds only TARGET_INFO to what we asked for.
        assert_eq!(0xE288_8297 & !NEGOTIATE_FLAGS, flags::TARGET_INFO);
    }

    #[test]
    fn negotiate_fixture() {
        #[rustfmt::skip]
        let expected = [
            0x4E, 0x54, 0x4C, 0x4D, 0x53, 0x53, 0x50, 0x00, // "NTLMSSP\0"
            0x01, 0x00, 0x00, 0x00, // MessageType NEGOTIATE
            0x97, 0x82, 0x08, 0xE2, // NegotiateFlags 0xE2088297
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // DomainNameFields
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // WorkstationFields
            0x0A, 0x00, 0x63, 0x45, 0x00, 0x00, 0x00, 0x0F, // Version 10.0.17763, revision 15
        ];
        assert_eq!(negotiate_message(), expected);
        assert_eq!(parse_negotiate(&expected), Ok(NEGOTIATE_FLAGS));
    }

    #[test]
    fn negotiate_errors() {
        let m = negotiate_message();
        assert_eq!(parse_negotiate(&m[..14]), Err(NtlmError::Truncated));
        assert_eq!(parse_negotiate(&m[..5]), Err(NtlmError::Truncated));
        assert_eq!(
            parse_negotiate(&SHADOW_CHALLENGE),
            Err(NtlmError::WrongType(2))
        );
        assert_eq!(
            parse_negotiate(b"NTLMSSQ\0\x01\0\0\0\0\0\0\0"),
            Err(NtlmError::BadSignature)
        );
        assert_eq!(parse_negotiate(b"GET"), Err(NtlmError::BadSignature));
        let mut bad = m;
        bad[16] = 0x10; // DomainName len 16, offset 0 ... fine (inside 40 bytes)
        assert_eq!(parse_negotiate(&bad), Ok(NEGOTIATE_FLAGS));
        bad[20] = 0xF0; // DomainName offset 240: outside
        assert_eq!(parse_negotiate(&bad), Err(NtlmError::BadOffset));
    }

    #[test]
    fn shadow_challenge_fixture() {
        assert_eq!(parse_challenge(&SHADOW_CHALLENGE), Ok(shadow_expected()));
        assert_eq!(find_challenge(&SHADOW_CHALLENGE), Ok(shadow_expected()));
    }

    #[test]
    fn builder_matches_fixture() {
        assert_eq!(challenge_message(&shadow_spec()), SHADOW_CHALLENGE);
    }

    #[test]
    fn builder_round_trip_with_tree_and_unicode() {
        let spec = ChallengeSpec {
            target_name: "CONTOSO".into(),
            nb_computer: "RDS-01".into(),
            nb_domain: "CONTOSO".into(),
            dns_computer: "rds-01.contoso.example".into(),
            dns_domain: "contoso.example".into(),
            dns_tree: "example".into(),
            timestamp: 1,
            version: NtlmVersion {
                major: 10,
                minor: 0,
                build: 20348,
            },
            flags: NEGOTIATE_FLAGS | flags::TARGET_INFO,
        };
        let c = parse_challenge(&challenge_message(&spec)).unwrap();
        assert_eq!(c.dns_tree.as_deref(), Some("example"));
        assert_eq!(c.dns_computer.as_deref(), Some("rds-01.contoso.example"));
        assert_eq!(
            c.version.and_then(|v| v.os_name()),
            Some("Windows Server 2022")
        );
        // Non-ASCII survives; over-long names are cut to 512 bytes (256 UTF-16 units).
        let spec = ChallengeSpec {
            nb_computer: "SRV-ÄÖ-😀".into(),
            dns_computer: "x".repeat(1000),
            ..shadow_spec()
        };
        let c = parse_challenge(&challenge_message(&spec)).unwrap();
        assert_eq!(c.nb_computer.as_deref(), Some("SRV-ÄÖ-😀"));
        assert_eq!(c.dns_computer.map(|s| s.len()), Some(256));
    }

    #[test]
    fn find_inside_spnego_and_tsrequest() {
        // SPNEGO negTokenResp wrapping (abridged): the message sits inside an OCTET STRING.
        #[rustfmt::skip]
        let mut token = vec![
            0xA1, 0x81, 0x8A, // negTokenResp, 138 bytes
            0x30, 0x81, 0x87, // SEQUENCE, 135 bytes
            0xA0, 0x03, 0x0A, 0x01, 0x01, // negState accept-incomplete
            0xA1, 0x0C, 0x06, 0x0A, 0x2B, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0A, // NTLMSSP OID
            0xA2, 0x6E, 0x04, 0x6C, // responseToken OCTET STRING, 108 bytes
        ];
        token.extend_from_slice(&SHADOW_CHALLENGE);
        token.extend_from_slice(&[0xA3, 0x02, 0x04, 0x00]); // trailing mechListMIC
        assert_eq!(find_challenge(&token), Ok(shadow_expected()));

        let ts = crate::rdp::credssp::ts_request_with_token(6, &SHADOW_CHALLENGE);
        assert_eq!(find_challenge(&ts), Ok(shadow_expected()));
    }

    #[test]
    fn find_skips_a_bad_first_occurrence() {
        let mut token = negotiate_message().to_vec(); // "NTLMSSP\0" of type 1 first
        token.extend_from_slice(&SHADOW_CHALLENGE);
        assert_eq!(find_challenge(&token), Ok(shadow_expected()));
        // Only the NEGOTIATE: its error is reported.
        assert_eq!(
            find_challenge(&negotiate_message()),
            Err(NtlmError::WrongType(1))
        );
        assert_eq!(
            find_challenge(b"no signature here"),
            Err(NtlmError::NotFound)
        );
        assert_eq!(find_challenge(&[]), Err(NtlmError::NotFound));
    }

    #[test]
    fn challenge_truncated_and_bad() {
        for end in 0..32 {
            let r = parse_challenge(&SHADOW_CHALLENGE[..end]);
            assert_eq!(r, Err(NtlmError::Truncated), "end {end}");
        }
        // Cut inside the payload: the target name's bytes are gone.
        assert_eq!(
            parse_challenge(&SHADOW_CHALLENGE[..57]),
            Err(NtlmError::BadOffset)
        );
        let mut m = SHADOW_CHALLENGE;
        m[0] = b'n';
        assert_eq!(parse_challenge(&m), Err(NtlmError::BadSignature));
        let mut m = SHADOW_CHALLENGE;
        m[8] = 3;
        assert_eq!(parse_challenge(&m), Err(NtlmError::WrongType(3)));
        // TargetInfo offset 0xFFFFFFFF: no overflow, BadOffset.
        let mut m = SHADOW_CHALLENGE;
        m[44..48].copy_from_slice(&[0xFF; 4]);
        assert_eq!(parse_challenge(&m), Err(NtlmError::BadOffset));
        // TargetName length past the end.
        let mut m = SHADOW_CHALLENGE;
        m[12] = 0xFF;
        assert_eq!(parse_challenge(&m), Err(NtlmError::BadOffset));
    }

    #[test]
    fn av_walk_stops_on_overrun_and_keeps_earlier_pairs() {
        let mut m = SHADOW_CHALLENGE;
        m[78] = 0xFF; // MsvAvDnsDomainName length 255: past the end
        let c = parse_challenge(&m).unwrap();
        assert_eq!(c.nb_domain.as_deref(), Some("VM"));
        assert_eq!(c.nb_computer.as_deref(), Some("VM"));
        assert_eq!(c.dns_domain, None);
        assert_eq!(c.timestamp, None);
    }

    #[test]
    fn av_walk_stops_at_eol() {
        let mut m = SHADOW_CHALLENGE;
        m[68..70].copy_from_slice(&[0x00, 0x00]); // second pair becomes MsvAvEOL
        let c = parse_challenge(&m).unwrap();
        assert_eq!(c.nb_domain.as_deref(), Some("VM"));
        assert_eq!(c.nb_computer, None);
        assert_eq!(c.timestamp, None);
    }

    #[test]
    fn av_walk_is_capped() {
        // 200 empty unknown pairs, then a name that the cap keeps us from reaching.
        let mut info = Vec::new();
        for _ in 0..200 {
            info.extend_from_slice(&[0x0B, 0x00, 0x00, 0x00]); // AvId 11, length 0
        }
        info.extend_from_slice(&[0x01, 0x00, 0x02, 0x00, 0x41, 0x00]); // NbComputerName "A"
        let mut c = Challenge::default();
        read_target_info(&info, &mut c);
        assert_eq!(c.nb_computer, None);
        let mut c = Challenge::default();
        read_target_info(&info[info.len() - 6..], &mut c);
        assert_eq!(c.nb_computer.as_deref(), Some("A"));
    }

    #[test]
    fn av_values_odd_and_short() {
        #[rustfmt::skip]
        let info = [
            0x01, 0x00, 0x03, 0x00, 0x41, 0x00, 0x42, // NbComputerName, odd length 3: "A" + U+FFFD
            0x02, 0x00, 0x02, 0x00, 0x00, 0xD8, // NbDomainName: lone high surrogate
            0x06, 0x00, 0x02, 0x00, 0x01, 0x00, // MsvAvFlags of 2 bytes: too short, ignored
            0x07, 0x00, 0x04, 0x00, 0x01, 0x02, 0x03, 0x04, // MsvAvTimestamp of 4 bytes: ignored
            0x01, 0x00, 0x02, 0x00, 0x5A, 0x00, // second NbComputerName "Z": first wins
            0x06, 0x00, 0x04, 0x00, 0x02, 0x00, 0x00, 0x00, // MsvAvFlags 2
            0x00, 0x00, 0x00, 0x00, // EOL
        ];
        let mut c = Challenge::default();
        read_target_info(&info, &mut c);
        assert_eq!(c.nb_computer.as_deref(), Some("A\u{FFFD}"));
        assert_eq!(c.nb_domain.as_deref(), Some("\u{FFFD}"));
        assert_eq!(c.timestamp, None);
        // A too-short first MsvAvFlags leaves the slot empty, so the later one is taken.
        assert_eq!(c.av_flags, Some(2));
    }

    #[test]
    fn version_only_when_flagged_and_in_header() {
        let mut m = SHADOW_CHALLENGE;
        m[23] &= !0x02; // clear VERSION (0x02000000)
        assert_eq!(parse_challenge(&m).unwrap().version, None);
        // Old layout: TargetName at offset 48, where Version would be.
        let mut m = SHADOW_CHALLENGE;
        m[16] = 48;
        let c = parse_challenge(&m).unwrap();
        assert_eq!(c.version, None);
        assert!(c.target_name.is_some());
        // A 32-byte CHALLENGE (no TargetInfo fields at all) still gives flags.
        let mut m = SHADOW_CHALLENGE[..32].to_vec();
        m[12..20].copy_from_slice(&[0; 8]); // no TargetName
        let c = parse_challenge(&m).unwrap();
        assert_eq!(c.flags, 0xE288_8297);
        assert_eq!(c.version, None);
        assert_eq!(c.nb_computer, None);
    }

    #[test]
    fn oem_target_name() {
        let mut m = SHADOW_CHALLENGE;
        m[20] &= !0x01; // clear UNICODE: TargetName read as 8-bit text
        let c = parse_challenge(&m).unwrap();
        assert_eq!(c.target_name.as_deref(), Some("V\0M\0"));
    }

    #[test]
    fn utf16_lossy() {
        assert_eq!(utf16le_lossy(&[]), "");
        assert_eq!(utf16le_lossy(&[0x41]), "\u{FFFD}");
        assert_eq!(utf16le_lossy(&[0x3D, 0xD8, 0x00, 0xDE]), "😀");
        assert_eq!(utf16le_lossy(&[0x00, 0xDE, 0x41, 0x00]), "\u{FFFD}A");
    }

    #[test]
    fn filetime() {
        assert_eq!(filetime_to_unix(116_444_736_000_000_000), Some(0));
        assert_eq!(filetime_to_unix(134_397_360_000_000_000), Some(SHADOW_UNIX));
        assert_eq!(filetime_to_unix(1), Some(-11_644_473_600));
        assert_eq!(filetime_to_unix(0), None);
        assert_eq!(
            filetime_to_unix(u64::MAX),
            Some(1_844_674_407_370 - 11_644_473_600)
        );
    }

    #[test]
    fn os_names() {
        let v = |major, minor, build| {
            NtlmVersion {
                major,
                minor,
                build,
            }
            .os_name()
        };
        assert_eq!(v(5, 1, 2600), Some("Windows XP"));
        assert_eq!(v(5, 2, 3790), Some("Windows Server 2003 / XP x64"));
        assert_eq!(v(6, 0, 6002), Some("Windows Vista / Server 2008"));
        assert_eq!(v(6, 2, 9200), Some("Windows 8 / Server 2012"));
        assert_eq!(v(6, 3, 9600), Some("Windows 8.1 / Server 2012 R2"));
        assert_eq!(
            v(10, 0, 14393),
            Some("Windows Server 2016 / Windows 10 1607")
        );
        assert_eq!(
            v(10, 0, 17763),
            Some("Windows Server 2019 / Windows 10 1809")
        );
        assert_eq!(v(10, 0, 19045), Some("Windows 10"));
        assert_eq!(v(10, 0, 10240), Some("Windows 10"));
        assert_eq!(v(10, 0, 22631), Some("Windows 11"));
        assert_eq!(
            v(10, 0, 26100),
            Some("Windows Server 2025 / Windows 11 24H2")
        );
        assert_eq!(v(10, 0, 26200), Some("Windows 10/11 or Server 2016+"));
        assert_eq!(v(10, 0, 9999), Some("Windows 10/11 or Server 2016+"));
        assert_eq!(v(7, 0, 1), None);
        assert_eq!(v(0, 0, 0), None);
        assert_eq!(
            NtlmVersion {
                major: 10,
                minor: 0,
                build: 20348
            }
            .to_string(),
            "10.0.20348"
        );
    }
}
