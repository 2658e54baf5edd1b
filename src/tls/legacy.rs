//! Raw TLS ClientHello builder and server-flight parser (no crypto).
//!
//! rustls speaks neither TLS 1.0/1.1 nor the CBC/DHE/RSA-kx suites that Windows 2008 R2 and
//! 2012 R2 offer. A hand-written hello that offers them still makes such a server reveal its
//! version, its suite and (TLS <= 1.2) its plaintext certificate chain, which is all the
//! scanner needs. Hand-written rather than built on tls-parser because the parser must turn
//! every malformed or truncated flight into an outcome, decide from partial buffers, and the
//! lab needs the mirror image (a server flight writer and a ClientHello reader) anyway.
//!
//! Parsers are pure and never panic: every length is checked before use, total input is
//! capped at [`MAX_FLIGHT`], and allocation only follows bytes actually present.
//!
//! Split by job: `hello` writes hellos and flights (and reads the lab's ClientHello), `flight`
//! reads the server's flight incrementally, `fuzz` holds the fuzz entry points.

mod flight;
mod fuzz;
mod hello;
#[cfg(test)]
mod tests;

pub use flight::{
    FlightOutcome, FlightReader, MAX_RECORDS, MAX_WARNINGS, ServerFlight, parse_server_flight,
};
pub use fuzz::{fuzz_legacy, fuzz_reframed};
pub use hello::{
    ClientHelloInfo, client_hello, client_hello_offering, parse_client_hello, server_flight,
};

pub use crate::rdp::Parse;

/// Cap on the bytes the flight parsers look at; a longer flight is `Malformed("too large")`.
pub const MAX_FLIGHT: usize = 256 * 1024;
/// Cap on certificates in one Certificate message.
pub const MAX_CHAIN: usize = 16;

const RECORD_HEADER: usize = 5;
/// TLSCiphertext limit (RFC 5246 6.2.3); plaintext records are smaller still.
const MAX_RECORD: usize = 16384 + 2048;
use super::wire::MAX_FRAGMENT;

const CT_CHANGE_CIPHER_SPEC: u8 = 20;
const CT_ALERT: u8 = 21;
const CT_HANDSHAKE: u8 = 22;
const CT_APPLICATION_DATA: u8 = 23;

const HT_CLIENT_HELLO: u8 = 1;
const HT_SERVER_HELLO: u8 = 2;
const HT_CERTIFICATE: u8 = 11;
const HT_SERVER_HELLO_DONE: u8 = 14;

const EXT_SERVER_NAME: u16 = 0;
const EXT_SUPPORTED_GROUPS: u16 = 10;
const EXT_EC_POINT_FORMATS: u16 = 11;
const EXT_SIGNATURE_ALGORITHMS: u16 = 13;
const EXT_PADDING: u16 = 21;
const EXT_SUPPORTED_VERSIONS: u16 = 43;
const EXT_KEY_SHARE: u16 = 51;
const EXT_RENEGOTIATION_INFO: u16 = 0xFF01;

const ALERT_WARNING: u8 = 1;
const ALERT_CLOSE_NOTIFY: u8 = 0;

const GROUP_X25519: u16 = 0x001D;

/// A TLS protocol version as it appears on the wire; unknown values survive.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Hash)]
pub struct TlsVersion(pub u16);

impl TlsVersion {
    pub const SSL30: TlsVersion = TlsVersion(0x0300);
    pub const TLS10: TlsVersion = TlsVersion(0x0301);
    pub const TLS11: TlsVersion = TlsVersion(0x0302);
    pub const TLS12: TlsVersion = TlsVersion(0x0303);
    pub const TLS13: TlsVersion = TlsVersion(0x0304);

    /// "TLSv1.0" ... "TLSv1.3" (OpenSSL spelling); other values as "0x0305".
    pub fn name(self) -> String {
        match self {
            TlsVersion::SSL30 => "SSLv3".to_string(),
            TlsVersion::TLS10 => "TLSv1.0".to_string(),
            TlsVersion::TLS11 => "TLSv1.1".to_string(),
            TlsVersion::TLS12 => "TLSv1.2".to_string(),
            TlsVersion::TLS13 => "TLSv1.3".to_string(),
            TlsVersion(other) => format!("0x{other:04X}"),
        }
    }
}

impl std::fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

/// TLS 1.3 suites, offered only when the hello's range reaches TLS 1.3.
const TLS13_SUITES: &[u16] = &[0x1301, 0x1302, 0x1303];

/// Suites for TLS <= 1.2, strongest first: what old Schannel (2008 R2, 2012 R2) and OpenSSL
/// builds can pick, down to 3DES and RC4 so that even a badly configured server answers.
pub const OFFERED_SUITES: &[u16] = &[
    0xC02C, 0xC030, 0xC02B, 0xC02F, // ECDHE AES-GCM (ECDSA, RSA)
    0xCCA9, 0xCCA8, // ECDHE ChaCha20-Poly1305
    0x009F, 0x009E, // DHE-RSA AES-GCM
    0x009D, 0x009C, // RSA kx AES-GCM
    0xC024, 0xC028, 0xC023, 0xC027, // ECDHE AES-CBC SHA-2
    0xC00A, 0xC014, 0xC009, 0xC013, // ECDHE AES-CBC SHA-1
    0x006B, 0x0067, 0x0039, 0x0033, // DHE-RSA AES-CBC
    0x0038, 0x0032, // DHE-DSS AES-CBC (Windows 2008)
    0x003D, 0x003C, 0x0035, 0x002F, // RSA kx AES-CBC
    0xC012, 0x0016, 0x0013, 0x000A, // 3DES
    0x0005, 0x0004, // RC4 (pre-2013 Schannel defaults)
];

/// x25519, P-256, P-384, P-521 (Schannel supports the NIST curves since 2008).
const OFFERED_GROUPS: &[u16] = &[0x001D, 0x0017, 0x0018, 0x0019];

/// Signature schemes, SHA-1 and DSA ones included for TLS 1.0/1.1-era servers.
const OFFERED_SIG_ALGS: &[u16] = &[
    0x0403, 0x0503, 0x0603, // ecdsa_secp256r1_sha256 .. secp521r1_sha512
    0x0804, 0x0805, 0x0806, // rsa_pss_rsae_sha256 .. sha512
    0x0807, // ed25519
    0x0401, 0x0501, 0x0601, // rsa_pkcs1_sha256 .. sha512
    0x0203, 0x0201, 0x0202, // ecdsa_sha1, rsa_pkcs1_sha1, dsa_sha1
    0x0402, // dsa_sha256
];

/// Server random that a HelloRetryRequest carries (RFC 8446 4.1.3).
const HRR_RANDOM: [u8; 32] = [
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
];

// ---------------------------------------------------------------------------------------------
// Readers

/// Bounds-checked big-endian cursor: every read returns `None` instead of running past the end.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }

    fn u16(&mut self) -> Option<u16> {
        let b: [u8; 2] = self.take(2)?.try_into().ok()?;
        Some(u16::from_be_bytes(b))
    }

    fn u24(&mut self) -> Option<usize> {
        let b = self.take(3)?;
        let v = b.iter().fold(0usize, |acc, x| (acc << 8) | usize::from(*x));
        Some(v)
    }

    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }

    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }

    fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }
}

/// One step of the record layer over `buf` at `pos`.
enum RecordStep<'a> {
    Record {
        content_type: u8,
        body: &'a [u8],
        next: usize,
    },
    /// Total buffer length needed for this record.
    Incomplete(usize),
    BadHeader,
    TooLong,
}

fn next_record(buf: &[u8], pos: usize) -> RecordStep<'_> {
    let Some(header) = buf.get(pos..).filter(|h| !h.is_empty()) else {
        return RecordStep::Incomplete(pos.saturating_add(RECORD_HEADER));
    };
    // Judge each header byte as soon as it is present, so garbage is recognised early.
    if let Some(ct) = header.first()
        && !(CT_CHANGE_CIPHER_SPEC..=CT_APPLICATION_DATA).contains(ct)
    {
        return RecordStep::BadHeader;
    }
    if let Some(major) = header.get(1)
        && *major != 3
    {
        return RecordStep::BadHeader;
    }
    let mut r = Reader::new(header);
    let (Some(content_type), Some(_version), Some(len)) = (r.u8(), r.u16(), r.u16()) else {
        return RecordStep::Incomplete(pos.saturating_add(RECORD_HEADER));
    };
    let len = usize::from(len);
    if len > MAX_RECORD {
        return RecordStep::TooLong;
    }
    match r.take(len) {
        Some(body) => RecordStep::Record {
            content_type,
            body,
            next: pos + RECORD_HEADER + len,
        },
        None => RecordStep::Incomplete(pos + RECORD_HEADER + len),
    }
}
