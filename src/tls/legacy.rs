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

use sha2::{Digest, Sha256};

/// Incremental parse result: the caller reads more bytes until `Done`.
///
/// Local copy of `crate::rdp::Parse` (identical definition) until that module lands;
/// the integrator can replace this with `pub use crate::rdp::Parse;`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parse<T> {
    /// `need` is the total buffer length required to make progress; always more than
    /// the length of the buffer that was passed in, and never more than the parser's cap.
    Incomplete {
        need: usize,
    },
    Done(T),
}

impl<T> Parse<T> {
    /// The finished value, if any.
    pub fn done(self) -> Option<T> {
        match self {
            Parse::Done(v) => Some(v),
            Parse::Incomplete { .. } => None,
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Parse<U> {
        match self {
            Parse::Done(v) => Parse::Done(f(v)),
            Parse::Incomplete { need } => Parse::Incomplete { need },
        }
    }
}

/// Cap on the bytes the flight parsers look at; a longer flight is `Malformed("too large")`.
pub const MAX_FLIGHT: usize = 256 * 1024;
/// Cap on certificates in one Certificate message.
pub const MAX_CHAIN: usize = 16;

const RECORD_HEADER: usize = 5;
/// TLSCiphertext limit (RFC 5246 6.2.3); plaintext records are smaller still.
const MAX_RECORD: usize = 16384 + 2048;
/// What the writers put in one record (RFC 5246 6.2.1 plaintext limit).
const MAX_FRAGMENT: usize = 16384;

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
// Writers

fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn put_u24(out: &mut Vec<u8>, v: usize) {
    // Callers keep v below 2^24; the mask only guards the encoding.
    let v = u32::try_from(v).unwrap_or(u32::MAX) & 0x00FF_FFFF;
    out.extend_from_slice(&v.to_be_bytes()[1..]);
}

/// Appends `body` behind a big-endian u16 length (saturating: our bodies are small).
fn put_vec16(out: &mut Vec<u8>, body: &[u8]) {
    put_u16(out, u16::try_from(body.len()).unwrap_or(u16::MAX));
    out.extend_from_slice(body);
}

fn put_ext(out: &mut Vec<u8>, ext_type: u16, data: &[u8]) {
    put_u16(out, ext_type);
    put_vec16(out, data);
}

fn u16_list(values: &[u16]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

/// Wraps handshake bytes into records of at most `MAX_FRAGMENT` bytes each.
fn put_records(out: &mut Vec<u8>, content_type: u8, record_version: u16, payload: &[u8]) {
    for chunk in payload.chunks(MAX_FRAGMENT) {
        out.push(content_type);
        put_u16(out, record_version);
        put_vec16(out, chunk);
    }
}

fn handshake_message(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(body.len() + 4);
    m.push(msg_type);
    put_u24(&mut m, body.len());
    m.extend_from_slice(body);
    m
}

/// A ClientHello record offering every version in `[min, max]` (order of the two does not
/// matter) and a broad list of suites; no SNI, no session id, no session ticket.
///
/// For TLS <= 1.2 the server picks `min(client_version, its max)`, so a server whose best
/// version is below `min` may still answer with it: the caller checks the negotiated version
/// against the range. When the range reaches TLS 1.3 the hello carries supported_versions and
/// an x25519 key_share (32 bytes derived from `random`; the handshake is never completed).
pub fn client_hello(min: TlsVersion, max: TlsVersion, random: [u8; 32]) -> Vec<u8> {
    let (lo, hi) = if min <= max { (min, max) } else { (max, min) };
    let legacy_version = hi.min(TlsVersion::TLS12);

    let mut suites: Vec<u16> = Vec::new();
    if hi >= TlsVersion::TLS13 {
        suites.extend_from_slice(TLS13_SUITES);
    }
    if lo <= TlsVersion::TLS12 {
        suites.extend_from_slice(OFFERED_SUITES);
    }

    let mut exts = Vec::new();
    let mut groups = Vec::new();
    put_vec16(&mut groups, &u16_list(OFFERED_GROUPS));
    put_ext(&mut exts, EXT_SUPPORTED_GROUPS, &groups);
    // One format: uncompressed (0).
    put_ext(&mut exts, EXT_EC_POINT_FORMATS, &[1, 0]);
    let mut sig_algs = Vec::new();
    put_vec16(&mut sig_algs, &u16_list(OFFERED_SIG_ALGS));
    put_ext(&mut exts, EXT_SIGNATURE_ALGORITHMS, &sig_algs);
    // Empty renegotiated_connection: tells RFC 5746 servers we are a patched client.
    put_ext(&mut exts, EXT_RENEGOTIATION_INFO, &[0]);
    if hi >= TlsVersion::TLS13 {
        let versions: Vec<u16> = [
            TlsVersion::TLS13,
            TlsVersion::TLS12,
            TlsVersion::TLS11,
            TlsVersion::TLS10,
        ]
        .iter()
        .filter(|v| **v >= lo && **v <= hi)
        .map(|v| v.0)
        .collect();
        let list = u16_list(&versions);
        let mut sv = vec![u8::try_from(list.len()).unwrap_or(u8::MAX)];
        sv.extend_from_slice(&list);
        put_ext(&mut exts, EXT_SUPPORTED_VERSIONS, &sv);

        // Any 32 bytes are a syntactically valid x25519 public key; we never finish the handshake.
        let mut h = Sha256::new();
        h.update(b"rdpsweep key_share");
        h.update(random);
        let public = h.finalize();
        let mut entry = Vec::with_capacity(36);
        put_u16(&mut entry, GROUP_X25519);
        put_vec16(&mut entry, &public);
        let mut ks = Vec::new();
        put_vec16(&mut ks, &entry);
        put_ext(&mut exts, EXT_KEY_SHARE, &ks);
    }

    let mut body = Vec::with_capacity(512);
    put_u16(&mut body, legacy_version.0);
    body.extend_from_slice(&random);
    body.push(0); // empty session id: no resumption (CredSSP forbids it)
    put_vec16(&mut body, &u16_list(&suites));
    body.extend_from_slice(&[1, 0]); // compression methods: null only

    // Some load balancers hang on hellos of 256..=511 bytes; RFC 7685 padding steps over that.
    let hs_len = 4 + body.len() + 2 + exts.len();
    if (256..512).contains(&hs_len) {
        let pad = 512usize.saturating_sub(hs_len + 4);
        put_ext(&mut exts, EXT_PADDING, &vec![0u8; pad]);
    }
    put_vec16(&mut body, &exts);

    let msg = handshake_message(HT_CLIENT_HELLO, &body);
    let mut out = Vec::with_capacity(msg.len() + RECORD_HEADER);
    // Record version 1.0 for the first flight: the most tolerated value (RFC 8446 5.1).
    put_records(&mut out, CT_HANDSHAKE, TlsVersion::TLS10.0, &msg);
    out
}

/// Lab side: ServerHello + Certificate + ServerHelloDone records for TLS <= 1.2.
///
/// For TLS 1.3 and above only a ServerHello carrying supported_versions is written (the rest
/// of a 1.3 flight is encrypted). Certificates that cannot be encoded (over 2^24 bytes in
/// total) are left out; real certificates are far smaller.
pub fn server_flight(version: TlsVersion, cipher: u16, chain: &[Vec<u8>]) -> Vec<u8> {
    let is13 = version >= TlsVersion::TLS13;
    let legacy_version = if is13 { TlsVersion::TLS12 } else { version };

    let mut hello = Vec::with_capacity(80);
    put_u16(&mut hello, legacy_version.0);
    // Fixed random: the lab needs no secrecy, and a constant keeps flights reproducible.
    let mut random = [0u8; 32];
    for (i, b) in random.iter_mut().enumerate() {
        *b = u8::try_from(i)
            .unwrap_or(0)
            .wrapping_mul(7)
            .wrapping_add(0x11);
    }
    hello.extend_from_slice(&random);
    hello.push(0); // empty session id
    put_u16(&mut hello, cipher);
    hello.push(0); // compression: null
    let mut exts = Vec::new();
    if is13 {
        put_ext(&mut exts, EXT_SUPPORTED_VERSIONS, &version.0.to_be_bytes());
    } else {
        put_ext(&mut exts, EXT_RENEGOTIATION_INFO, &[0]);
    }
    put_vec16(&mut hello, &exts);

    let mut handshake = handshake_message(HT_SERVER_HELLO, &hello);
    if !is13 {
        const U24_MAX: usize = 0x00FF_FFFF;
        let mut list = Vec::new();
        for cert in chain {
            let grown = list.len().saturating_add(3).saturating_add(cert.len());
            // The list and the message around it (4 more bytes) must both fit in a u24.
            if cert.len() > U24_MAX || grown > U24_MAX - 4 {
                continue;
            }
            put_u24(&mut list, cert.len());
            list.extend_from_slice(cert);
        }
        let mut body = Vec::with_capacity(list.len() + 3);
        put_u24(&mut body, list.len());
        body.extend_from_slice(&list);
        handshake.extend_from_slice(&handshake_message(HT_CERTIFICATE, &body));
        handshake.extend_from_slice(&handshake_message(HT_SERVER_HELLO_DONE, &[]));
    }

    let mut out = Vec::with_capacity(handshake.len() + 16);
    put_records(&mut out, CT_HANDSHAKE, legacy_version.0, &handshake);
    out
}

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

/// What the server sent in its first flight (plaintext part).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerFlight {
    /// Negotiated version: supported_versions extension if present, else ServerHello.version.
    pub version: TlsVersion,
    pub cipher: u16,
    /// DER, leaf first; empty for TLS 1.3 (encrypted) or when the server sent none.
    pub certificates: Vec<Vec<u8>>,
    /// ServerHelloDone seen (a complete TLS <= 1.2 flight).
    pub hello_done: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlightOutcome {
    Hello(ServerFlight),
    /// A fatal alert, or close_notify (warnings are skipped).
    Alert {
        level: u8,
        description: u8,
    },
    /// The first bytes are not a TLS record header.
    NotTls,
    Malformed(&'static str),
}

/// Parses the raw bytes received after sending [`client_hello`]; call again with more bytes
/// while it returns `Incomplete`. Handles handshake messages split across records and several
/// messages per record.
///
/// Done at ServerHelloDone; right after ServerHello for TLS 1.3 (and HelloRetryRequest);
/// at a ChangeCipherSpec or application-data record after ServerHello (nothing more can be
/// read in plaintext); or at an alert. Input beyond [`MAX_FLIGHT`] bytes, a record over the
/// protocol limit or more than [`MAX_CHAIN`] certificates give `Malformed("too large")`.
pub fn parse_server_flight(buf: &[u8]) -> Parse<FlightOutcome> {
    let view = buf.get(..MAX_FLIGHT).unwrap_or(buf);
    match parse_server_flight_capped(view) {
        Parse::Incomplete { need } if need > MAX_FLIGHT => {
            Parse::Done(FlightOutcome::Malformed("too large"))
        }
        other => other,
    }
}

fn parse_server_flight_capped(buf: &[u8]) -> Parse<FlightOutcome> {
    let mut pos = 0usize;
    let mut hs: Vec<u8> = Vec::new();
    let mut hs_pos = 0usize;
    let mut flight: Option<ServerFlight> = None;
    loop {
        let (content_type, body, next) = match next_record(buf, pos) {
            RecordStep::Record {
                content_type,
                body,
                next,
            } => (content_type, body, next),
            RecordStep::Incomplete(need) => return Parse::Incomplete { need },
            RecordStep::BadHeader if pos == 0 => return Parse::Done(FlightOutcome::NotTls),
            RecordStep::BadHeader => {
                return Parse::Done(FlightOutcome::Malformed("bad record header"));
            }
            RecordStep::TooLong if pos == 0 => return Parse::Done(FlightOutcome::NotTls),
            RecordStep::TooLong => return Parse::Done(FlightOutcome::Malformed("too large")),
        };
        pos = next;
        match content_type {
            CT_ALERT => {
                let mut r = Reader::new(body);
                loop {
                    match (r.u8(), r.u8()) {
                        (Some(level), Some(description)) => {
                            // A warning (other than close_notify) does not end the flight.
                            if level == ALERT_WARNING && description != ALERT_CLOSE_NOTIFY {
                                continue;
                            }
                            return Parse::Done(FlightOutcome::Alert { level, description });
                        }
                        (None, _) if r.is_empty() && !body.is_empty() => break,
                        _ => return Parse::Done(FlightOutcome::Malformed("short alert")),
                    }
                }
            }
            CT_HANDSHAKE => {
                hs.extend_from_slice(body);
                loop {
                    let mut r = Reader::new(hs.get(hs_pos..).unwrap_or_default());
                    let (Some(msg_type), Some(len)) = (r.u8(), r.u24()) else {
                        break;
                    };
                    if len > MAX_FLIGHT {
                        return Parse::Done(FlightOutcome::Malformed("too large"));
                    }
                    let Some(msg) = r.take(len) else {
                        break;
                    };
                    hs_pos = hs_pos.saturating_add(4 + len);
                    match on_server_message(&mut flight, msg_type, msg) {
                        Step::Continue => {}
                        Step::Done(outcome) => return Parse::Done(outcome),
                    }
                }
            }
            CT_CHANGE_CIPHER_SPEC | CT_APPLICATION_DATA => {
                return Parse::Done(match flight {
                    Some(f) => FlightOutcome::Hello(f),
                    None => FlightOutcome::Malformed("unexpected record before server_hello"),
                });
            }
            _ => return Parse::Done(FlightOutcome::Malformed("bad record header")),
        }
    }
}

enum Step {
    Continue,
    Done(FlightOutcome),
}

fn on_server_message(flight: &mut Option<ServerFlight>, msg_type: u8, msg: &[u8]) -> Step {
    let Some(f) = flight.as_mut() else {
        if msg_type != HT_SERVER_HELLO {
            return Step::Done(FlightOutcome::Malformed("expected server_hello"));
        }
        return match parse_server_hello(msg) {
            Ok(f) if f.version >= TlsVersion::TLS13 => Step::Done(FlightOutcome::Hello(f)),
            Ok(f) => {
                *flight = Some(f);
                Step::Continue
            }
            Err(e) => Step::Done(FlightOutcome::Malformed(e)),
        };
    };
    match msg_type {
        HT_SERVER_HELLO => Step::Done(FlightOutcome::Malformed("duplicate server_hello")),
        HT_CERTIFICATE => {
            if !f.certificates.is_empty() {
                return Step::Done(FlightOutcome::Malformed("duplicate certificate"));
            }
            match parse_certificate_list(msg) {
                Ok(chain) => {
                    f.certificates = chain;
                    Step::Continue
                }
                Err(e) => Step::Done(FlightOutcome::Malformed(e)),
            }
        }
        HT_SERVER_HELLO_DONE => {
            f.hello_done = true;
            Step::Done(FlightOutcome::Hello(f.clone()))
        }
        // ServerKeyExchange, CertificateRequest, CertificateStatus, HelloRequest...: not needed.
        _ => Step::Continue,
    }
}

fn parse_server_hello(msg: &[u8]) -> Result<ServerFlight, &'static str> {
    const BAD: &str = "bad server_hello";
    let mut r = Reader::new(msg);
    let legacy_version = r.u16().ok_or(BAD)?;
    let random = r.take(32).ok_or(BAD)?;
    let session_id = r.vec8().ok_or(BAD)?;
    if session_id.len() > 32 {
        return Err(BAD);
    }
    let cipher = r.u16().ok_or(BAD)?;
    let _compression = r.u8().ok_or(BAD)?;
    let mut version = TlsVersion(legacy_version);
    // Extensions are optional in TLS <= 1.2 ServerHellos (Windows 2003/2008 omit them).
    if !r.is_empty() {
        let exts = r.vec16().ok_or(BAD)?;
        let mut e = Reader::new(exts);
        while !e.is_empty() {
            let ext_type = e.u16().ok_or(BAD)?;
            let data = e.vec16().ok_or(BAD)?;
            if ext_type == EXT_SUPPORTED_VERSIONS {
                let mut d = Reader::new(data);
                version = TlsVersion(d.u16().ok_or(BAD)?);
            }
        }
    }
    // A HelloRetryRequest without supported_versions is malformed (RFC 8446 4.1.4).
    if random == HRR_RANDOM && version < TlsVersion::TLS13 {
        return Err(BAD);
    }
    Ok(ServerFlight {
        version,
        cipher,
        certificates: Vec::new(),
        hello_done: false,
    })
}

fn parse_certificate_list(msg: &[u8]) -> Result<Vec<Vec<u8>>, &'static str> {
    const BAD: &str = "bad certificate message";
    let mut r = Reader::new(msg);
    let total = r.u24().ok_or(BAD)?;
    let list = r.take(total).ok_or(BAD)?;
    if !r.is_empty() {
        return Err(BAD);
    }
    let mut l = Reader::new(list);
    let mut chain = Vec::new();
    while !l.is_empty() {
        if chain.len() >= MAX_CHAIN {
            return Err("too large");
        }
        let len = l.u24().ok_or(BAD)?;
        chain.push(l.take(len).ok_or(BAD)?.to_vec());
    }
    Ok(chain)
}

/// What a ClientHello offered (lab side: the responder decides on it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHelloInfo {
    pub legacy_version: TlsVersion,
    /// From the supported_versions extension; empty when absent.
    pub supported_versions: Vec<TlsVersion>,
    pub suites: Vec<u16>,
    pub has_sni: bool,
}

impl ClientHelloInfo {
    /// Highest version offered: supported_versions when present, else legacy_version.
    pub fn max_version(&self) -> TlsVersion {
        self.supported_versions
            .iter()
            .copied()
            .max()
            .unwrap_or(self.legacy_version)
    }
}

/// Lab side: reads the first ClientHello (possibly split across records).
pub fn parse_client_hello(buf: &[u8]) -> Parse<Result<ClientHelloInfo, &'static str>> {
    let view = buf.get(..MAX_FLIGHT).unwrap_or(buf);
    match parse_client_hello_capped(view) {
        Parse::Incomplete { need } if need > MAX_FLIGHT => Parse::Done(Err("too large")),
        other => other,
    }
}

fn parse_client_hello_capped(buf: &[u8]) -> Parse<Result<ClientHelloInfo, &'static str>> {
    let mut pos = 0usize;
    let mut hs: Vec<u8> = Vec::new();
    loop {
        let body = match next_record(buf, pos) {
            RecordStep::Record {
                content_type: CT_HANDSHAKE,
                body,
                next,
            } => {
                pos = next;
                body
            }
            RecordStep::Record { .. } if pos == 0 => {
                return Parse::Done(Err("not a TLS handshake"));
            }
            RecordStep::Record { .. } => return Parse::Done(Err("unexpected record")),
            RecordStep::Incomplete(need) => return Parse::Incomplete { need },
            RecordStep::BadHeader | RecordStep::TooLong if pos == 0 => {
                return Parse::Done(Err("not TLS"));
            }
            RecordStep::BadHeader => return Parse::Done(Err("bad record header")),
            RecordStep::TooLong => return Parse::Done(Err("too large")),
        };
        hs.extend_from_slice(body);
        let mut r = Reader::new(&hs);
        let (Some(msg_type), Some(len)) = (r.u8(), r.u24()) else {
            continue;
        };
        if msg_type != HT_CLIENT_HELLO {
            return Parse::Done(Err("expected client_hello"));
        }
        if len > MAX_FLIGHT {
            return Parse::Done(Err("too large"));
        }
        if let Some(msg) = r.take(len) {
            return Parse::Done(parse_client_hello_body(msg));
        }
    }
}

fn parse_client_hello_body(msg: &[u8]) -> Result<ClientHelloInfo, &'static str> {
    const BAD: &str = "bad client_hello";
    let mut r = Reader::new(msg);
    let legacy_version = TlsVersion(r.u16().ok_or(BAD)?);
    r.take(32).ok_or(BAD)?; // random
    if r.vec8().ok_or(BAD)?.len() > 32 {
        return Err(BAD);
    }
    let suite_bytes = r.vec16().ok_or(BAD)?;
    if suite_bytes.len() % 2 != 0 {
        return Err(BAD);
    }
    let suites: Vec<u16> = suite_bytes
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    r.vec8().ok_or(BAD)?; // compression methods
    let mut info = ClientHelloInfo {
        legacy_version,
        supported_versions: Vec::new(),
        suites,
        has_sni: false,
    };
    if r.is_empty() {
        return Ok(info);
    }
    let exts = r.vec16().ok_or(BAD)?;
    let mut e = Reader::new(exts);
    while !e.is_empty() {
        let ext_type = e.u16().ok_or(BAD)?;
        let data = e.vec16().ok_or(BAD)?;
        match ext_type {
            EXT_SERVER_NAME => info.has_sni = true,
            EXT_SUPPORTED_VERSIONS => {
                let list = Reader::new(data).vec8().ok_or(BAD)?;
                if list.len() % 2 != 0 {
                    return Err(BAD);
                }
                info.supported_versions = list
                    .chunks_exact(2)
                    .map(|c| TlsVersion(u16::from_be_bytes([c[0], c[1]])))
                    .collect();
            }
            _ => {}
        }
    }
    Ok(info)
}

/// Fuzz entry point: feeds every parser in this module, and checks that the writers'
/// output always parses back (versions, suite and chain taken from the input).
pub fn fuzz_legacy(data: &[u8]) {
    let _ = parse_server_flight(data);
    let _ = parse_client_hello(data);

    let mut r = Reader::new(data);
    let (Some(a), Some(b)) = (r.u16(), r.u16()) else {
        return;
    };
    let mut random = [0u8; 32];
    for (dst, src) in random.iter_mut().zip(data.iter()) {
        *dst = *src;
    }
    // Clamp into the range the builder is meant for; unknown values are the lab's business.
    let clamp = |v: u16| TlsVersion(v.clamp(TlsVersion::TLS10.0, TlsVersion::TLS13.0));
    let hello = client_hello(clamp(a), clamp(b), random);
    match parse_client_hello(&hello) {
        Parse::Done(Ok(info)) => assert!(!info.has_sni && !info.suites.is_empty()),
        other => panic!("own client_hello did not parse: {other:?}"),
    }

    let version = TlsVersion(clamp(a).0.min(TlsVersion::TLS12.0));
    let cipher = b;
    let chain: Vec<Vec<u8>> = data
        .chunks(97)
        .take(MAX_CHAIN)
        .map(<[u8]>::to_vec)
        .collect();
    match parse_server_flight(&server_flight(version, cipher, &chain)) {
        Parse::Done(FlightOutcome::Hello(f)) => {
            assert_eq!((f.version, f.cipher), (version, cipher));
            assert_eq!(f.certificates, chain);
            assert!(f.hello_done);
        }
        other => panic!("own server_flight did not parse: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done<T: std::fmt::Debug>(p: Parse<T>) -> T {
        match p {
            Parse::Done(v) => v,
            Parse::Incomplete { need } => panic!("incomplete, need {need}"),
        }
    }

    fn hello(f: FlightOutcome) -> ServerFlight {
        match f {
            FlightOutcome::Hello(f) => f,
            other => panic!("not a hello: {other:?}"),
        }
    }

    /// Just the ServerHello of `server_flight`, in a record of its own.
    fn server_hello_record(version: TlsVersion, cipher: u16) -> Vec<u8> {
        let full = server_flight(version, cipher, &[]);
        // full[5] is the ServerHello type, full[6..9] its u24 length.
        let sh_len = 4 + usize::from(u16::from_be_bytes([full[7], full[8]]));
        let mut out = vec![0x16, full[1], full[2]];
        out.extend_from_slice(&(sh_len as u16).to_be_bytes());
        out.extend_from_slice(&full[5..5 + sh_len]);
        out
    }

    fn fake_chain() -> Vec<Vec<u8>> {
        vec![
            vec![0x30, 0x82, 0x01, 0x00, 0xAA],
            vec![0x30, 0x03, 0x02, 0x01, 0x05],
        ]
    }

    #[test]
    fn version_names() {
        assert_eq!(TlsVersion::TLS10.name(), "TLSv1.0");
        assert_eq!(TlsVersion::TLS11.name(), "TLSv1.1");
        assert_eq!(TlsVersion::TLS12.name(), "TLSv1.2");
        assert_eq!(TlsVersion::TLS13.name(), "TLSv1.3");
        assert_eq!(TlsVersion(0x7F1C).to_string(), "0x7F1C");
        assert!(TlsVersion::TLS10 < TlsVersion::TLS13);
    }

    #[test]
    fn client_hello_round_trip_tls10_to_12() {
        let ch = client_hello(TlsVersion::TLS10, TlsVersion::TLS12, [7; 32]);
        assert_eq!(ch[0], CT_HANDSHAKE);
        assert_eq!(&ch[1..3], &[0x03, 0x01]); // record version TLS 1.0
        let info = done(parse_client_hello(&ch)).expect("parses");
        assert_eq!(info.legacy_version, TlsVersion::TLS12);
        assert!(info.supported_versions.is_empty());
        assert_eq!(info.suites, OFFERED_SUITES);
        assert!(!info.has_sni);
        assert_eq!(info.max_version(), TlsVersion::TLS12);
    }

    #[test]
    fn client_hello_round_trip_single_versions() {
        for v in [TlsVersion::TLS10, TlsVersion::TLS11, TlsVersion::TLS12] {
            let info = done(parse_client_hello(&client_hello(v, v, [1; 32]))).expect("parses");
            assert_eq!(info.legacy_version, v);
            assert_eq!(info.max_version(), v);
            assert!(!info.suites.iter().any(|s| TLS13_SUITES.contains(s)));
        }
        let info = done(parse_client_hello(&client_hello(
            TlsVersion::TLS13,
            TlsVersion::TLS13,
            [1; 32],
        )))
        .expect("parses");
        assert_eq!(info.legacy_version, TlsVersion::TLS12);
        assert_eq!(info.supported_versions, vec![TlsVersion::TLS13]);
        assert_eq!(info.suites, TLS13_SUITES);
    }

    #[test]
    fn client_hello_full_range_lists_versions_high_to_low() {
        // Arguments in either order mean the same range.
        let ch = client_hello(TlsVersion::TLS13, TlsVersion::TLS10, [2; 32]);
        let info = done(parse_client_hello(&ch)).expect("parses");
        assert_eq!(
            info.supported_versions,
            vec![
                TlsVersion::TLS13,
                TlsVersion::TLS12,
                TlsVersion::TLS11,
                TlsVersion::TLS10
            ]
        );
        assert!(info.suites.starts_with(TLS13_SUITES));
        assert!(info.suites.contains(&0x002F));
        assert!(info.suites.contains(&0x0005));
    }

    #[test]
    fn client_hello_avoids_the_256_to_511_byte_window() {
        for (lo, hi) in [
            (TlsVersion::TLS10, TlsVersion::TLS12),
            (TlsVersion::TLS13, TlsVersion::TLS13),
            (TlsVersion::TLS10, TlsVersion::TLS13),
            (TlsVersion::TLS12, TlsVersion::TLS12),
        ] {
            let ch = client_hello(lo, hi, [3; 32]);
            let hs_len = ch.len() - RECORD_HEADER;
            assert!(!(256..512).contains(&hs_len), "{lo}-{hi}: {hs_len}");
            // The record length field agrees with the bytes that follow.
            assert_eq!(usize::from(u16::from_be_bytes([ch[3], ch[4]])), hs_len);
        }
    }

    #[test]
    fn client_hello_key_share_depends_on_random() {
        let a = client_hello(TlsVersion::TLS13, TlsVersion::TLS13, [1; 32]);
        let b = client_hello(TlsVersion::TLS13, TlsVersion::TLS13, [2; 32]);
        assert_ne!(a, b);
        let find = |ch: &[u8]| {
            let needle = [0x00, 0x1D, 0x00, 0x20]; // x25519 group, 32-byte key
            ch.windows(4)
                .position(|w| w == needle)
                .map(|p| ch[p + 4..p + 36].to_vec())
        };
        let (ka, kb) = (find(&a).expect("key share"), find(&b).expect("key share"));
        assert_ne!(ka, kb);
        assert_eq!(ka.len(), 32);
    }

    #[test]
    fn server_flight_round_trip() {
        let chain = fake_chain();
        let bytes = server_flight(TlsVersion::TLS10, 0x002F, &chain);
        let f = hello(done(parse_server_flight(&bytes)));
        assert_eq!(f.version, TlsVersion::TLS10);
        assert_eq!(f.cipher, 0x002F);
        assert_eq!(f.certificates, chain);
        assert!(f.hello_done);
    }

    #[test]
    fn server_flight_tls13_stops_after_server_hello() {
        let bytes = server_flight(TlsVersion::TLS13, 0x1301, &fake_chain());
        let f = hello(done(parse_server_flight(&bytes)));
        assert_eq!(f.version, TlsVersion::TLS13);
        assert_eq!(f.cipher, 0x1301);
        assert!(f.certificates.is_empty());
        assert!(!f.hello_done);
    }

    #[test]
    fn every_prefix_is_incomplete_with_growing_need() {
        let bytes = server_flight(TlsVersion::TLS12, 0xC030, &fake_chain());
        for n in 0..bytes.len() {
            match parse_server_flight(&bytes[..n]) {
                Parse::Incomplete { need } => {
                    assert!(need > n && need <= bytes.len(), "prefix {n}: need {need}");
                }
                Parse::Done(d) => panic!("prefix {n} finished early: {d:?}"),
            }
        }
        assert!(hello(done(parse_server_flight(&bytes))).hello_done);
    }

    #[test]
    fn byte_by_byte_feeding_reaches_the_same_result() {
        let chain = vec![vec![0x5A; 40_000], vec![0xA5; 3]]; // leaf spans three records
        let bytes = server_flight(TlsVersion::TLS12, 0x009C, &chain);
        assert!(bytes.len() > 2 * MAX_FRAGMENT);
        let mut fed = Vec::new();
        let mut result = None;
        for b in &bytes {
            fed.push(*b);
            if let Parse::Done(d) = parse_server_flight(&fed) {
                result = Some(d);
                break;
            }
        }
        assert_eq!(fed.len(), bytes.len());
        let f = hello(result.expect("finished"));
        assert_eq!(f.certificates, chain);
    }

    /// Re-frames handshake bytes into records of `size` bytes each.
    fn reframe(flight: &[u8], size: usize) -> Vec<u8> {
        let mut hs = Vec::new();
        let mut pos = 0;
        while pos < flight.len() {
            let len = usize::from(u16::from_be_bytes([flight[pos + 3], flight[pos + 4]]));
            hs.extend_from_slice(&flight[pos + 5..pos + 5 + len]);
            pos += 5 + len;
        }
        let mut out = Vec::new();
        for chunk in hs.chunks(size) {
            out.extend_from_slice(&[0x16, 0x03, 0x03]); // handshake, TLS 1.2
            out.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
            out.extend_from_slice(chunk);
        }
        out
    }

    #[test]
    fn handshake_messages_split_across_many_small_records() {
        let chain = fake_chain();
        let bytes = server_flight(TlsVersion::TLS12, 0xC02F, &chain);
        for size in [1, 2, 3, 5, 7, 64] {
            let f = hello(done(parse_server_flight(&reframe(&bytes, size))));
            assert_eq!(f.certificates, chain, "record size {size}");
            assert!(f.hello_done);
        }
    }

    #[test]
    fn windows_2008_style_flight_byte_array() {
        #[rustfmt::skip]
        let bytes: Vec<u8> = vec![
            0x16, 0x03, 0x01, 0x00, 0x2A,       // record: handshake, TLS 1.0, 42 bytes
            0x02, 0x00, 0x00, 0x26,             // ServerHello, 38 bytes
            0x03, 0x01,                         // server_version TLS 1.0
            0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, // random (32 bytes)
            0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
            0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
            0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
            0x00,                               // session id: empty
            0x00, 0x05,                         // cipher TLS_RSA_WITH_RC4_128_SHA
            0x00,                               // compression null; no extensions at all
            0x16, 0x03, 0x01, 0x00, 0x0F,       // record: handshake, TLS 1.0, 15 bytes
            0x0B, 0x00, 0x00, 0x07,             // Certificate, 7 bytes
            0x00, 0x00, 0x04,                   // certificate_list: 4 bytes
            0x00, 0x00, 0x01, 0xC3,             // one 1-byte "certificate"
            0x0E, 0x00, 0x00, 0x00,             // ServerHelloDone, empty (same record)
        ];
        let f = hello(done(parse_server_flight(&bytes)));
        assert_eq!(f.version, TlsVersion::TLS10);
        assert_eq!(f.cipher, 0x0005);
        assert_eq!(f.certificates, vec![vec![0xC3]]);
        assert!(f.hello_done);
    }

    #[test]
    fn alert_record_byte_array() {
        #[rustfmt::skip]
        let bytes = [
            0x15, 0x03, 0x03, 0x00, 0x02, // record: alert, TLS 1.2, 2 bytes
            0x02,                         // level fatal
            0x46,                         // protocol_version (70)
        ];
        assert_eq!(
            done(parse_server_flight(&bytes)),
            FlightOutcome::Alert {
                level: 2,
                description: 70
            }
        );
        // Truncated alert: wait for the rest.
        assert_eq!(
            parse_server_flight(&bytes[..6]),
            Parse::Incomplete { need: 7 }
        );
    }

    #[test]
    fn warning_alert_is_skipped_but_close_notify_is_not() {
        #[rustfmt::skip]
        let mut bytes = vec![
            0x15, 0x03, 0x01, 0x00, 0x02, // record: alert, 2 bytes
            0x01, 0x70,                   // warning, unrecognized_name (112)
        ];
        assert!(matches!(
            parse_server_flight(&bytes),
            Parse::Incomplete { .. }
        ));
        let mut flight = bytes.clone();
        flight.extend_from_slice(&server_flight(TlsVersion::TLS12, 0x002F, &fake_chain()));
        assert!(hello(done(parse_server_flight(&flight))).hello_done);

        bytes.extend_from_slice(&[
            0x15, 0x03, 0x01, 0x00, 0x02, // record: alert, 2 bytes
            0x01, 0x00, // warning, close_notify
        ]);
        assert_eq!(
            done(parse_server_flight(&bytes)),
            FlightOutcome::Alert {
                level: 1,
                description: 0
            }
        );
    }

    #[test]
    fn short_or_empty_alert_is_malformed() {
        let one = [0x15, 0x03, 0x03, 0x00, 0x01, 0x02]; // alert record with 1 byte
        assert_eq!(
            done(parse_server_flight(&one)),
            FlightOutcome::Malformed("short alert")
        );
        let empty = [0x15, 0x03, 0x03, 0x00, 0x00]; // alert record with 0 bytes
        assert_eq!(
            done(parse_server_flight(&empty)),
            FlightOutcome::Malformed("short alert")
        );
    }

    #[test]
    fn garbage_is_not_tls() {
        assert_eq!(
            done(parse_server_flight(b"HTTP/1.1 400")),
            FlightOutcome::NotTls
        );
        // TPKT from an RDP server: first byte 0x03 is no content type.
        assert_eq!(done(parse_server_flight(&[0x03])), FlightOutcome::NotTls);
        // Content type fine, version major wrong (SSLv2-ish / random bytes).
        assert_eq!(
            done(parse_server_flight(&[0x16, 0x80])),
            FlightOutcome::NotTls
        );
        assert_eq!(parse_server_flight(&[]), Parse::Incomplete { need: 5 });
        assert_eq!(parse_server_flight(&[0x16]), Parse::Incomplete { need: 5 });
    }

    #[test]
    fn huge_lengths_are_bounded() {
        // Record length over the protocol limit.
        let big_record = [0x16, 0x03, 0x03, 0xFF, 0xFF];
        assert_eq!(
            done(parse_server_flight(&big_record)),
            FlightOutcome::NotTls
        );
        #[rustfmt::skip]
        let big_msg = [
            0x16, 0x03, 0x03, 0x00, 0x04, // record: handshake, 4 bytes
            0x02, 0xFF, 0xFF, 0xFF,       // ServerHello claiming 16 MiB
        ];
        assert_eq!(
            done(parse_server_flight(&big_msg)),
            FlightOutcome::Malformed("too large")
        );

        // A valid hello followed by an endless stream of tiny handshake records.
        let mut stream = server_hello_record(TlsVersion::TLS12, 0x002F);
        while stream.len() <= MAX_FLIGHT {
            // HelloRequest messages (type 0, empty) are ignored, so only the cap stops this.
            stream.extend_from_slice(&[0x16, 0x03, 0x03, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00]);
        }
        assert_eq!(
            done(parse_server_flight(&stream)),
            FlightOutcome::Malformed("too large")
        );
    }

    #[test]
    fn seventeen_certificates_are_too_many() {
        let chain: Vec<Vec<u8>> = (0..17u8).map(|i| vec![i]).collect();
        let bytes = server_flight(TlsVersion::TLS12, 0x002F, &chain);
        assert_eq!(
            done(parse_server_flight(&bytes)),
            FlightOutcome::Malformed("too large")
        );
        let ok = server_flight(TlsVersion::TLS12, 0x002F, &chain[..16]);
        assert_eq!(hello(done(parse_server_flight(&ok))).certificates.len(), 16);
    }

    #[test]
    fn inconsistent_certificate_lengths_are_malformed() {
        #[rustfmt::skip]
        let mut bytes = vec![
            0x16, 0x03, 0x03, 0x00, 0x0A, // record: handshake, 10 bytes
            0x0B, 0x00, 0x00, 0x06,       // Certificate, 6 bytes
            0x00, 0x00, 0x03,             // certificate_list: 3 bytes
            0x00, 0x00, 0x09,             // a certificate claiming 9 bytes: overruns the list
        ];
        let mut flight = server_hello_record(TlsVersion::TLS12, 0x002F);
        flight.append(&mut bytes);
        assert_eq!(
            done(parse_server_flight(&flight)),
            FlightOutcome::Malformed("bad certificate message")
        );
    }

    #[test]
    fn first_message_must_be_server_hello() {
        #[rustfmt::skip]
        let bytes = [
            0x16, 0x03, 0x03, 0x00, 0x04, // record: handshake, 4 bytes
            0x0E, 0x00, 0x00, 0x00,       // ServerHelloDone with no ServerHello
        ];
        assert_eq!(
            done(parse_server_flight(&bytes)),
            FlightOutcome::Malformed("expected server_hello")
        );
        let ccs = [0x14, 0x03, 0x03, 0x00, 0x01, 0x01]; // ChangeCipherSpec first
        assert!(matches!(
            done(parse_server_flight(&ccs)),
            FlightOutcome::Malformed(_)
        ));
    }

    #[test]
    fn hello_retry_request_counts_as_tls13() {
        #[rustfmt::skip]
        let mut sh = vec![
            0x03, 0x03,                   // legacy_version TLS 1.2
        ];
        sh.extend_from_slice(&HRR_RANDOM); // HelloRetryRequest magic random
        #[rustfmt::skip]
        sh.extend_from_slice(&[
            0x00,                         // session id: empty
            0x13, 0x02,                   // TLS_AES_256_GCM_SHA384
            0x00,                         // compression null
            0x00, 0x0C,                   // extensions: 12 bytes
            0x00, 0x2B, 0x00, 0x02, 0x03, 0x04, // supported_versions: TLS 1.3
            0x00, 0x33, 0x00, 0x02, 0x00, 0x17, // key_share: please use P-256
        ]);
        let mut bytes = vec![0x16, 0x03, 0x03]; // record: handshake, TLS 1.2
        bytes.extend_from_slice(&((sh.len() + 4) as u16).to_be_bytes());
        bytes.extend_from_slice(&[0x02, 0x00]); // ServerHello, length (u24) follows
        bytes.extend_from_slice(&(sh.len() as u16).to_be_bytes());
        bytes.extend_from_slice(&sh);
        let f = hello(done(parse_server_flight(&bytes)));
        assert_eq!((f.version, f.cipher), (TlsVersion::TLS13, 0x1302));
    }

    #[test]
    fn ccs_after_server_hello_ends_the_plaintext_flight() {
        let mut bytes = server_hello_record(TlsVersion::TLS12, 0x002F);
        bytes.extend_from_slice(&[0x14, 0x03, 0x03, 0x00, 0x01, 0x01]); // ChangeCipherSpec
        let f = hello(done(parse_server_flight(&bytes)));
        assert!(!f.hello_done);
        assert_eq!(f.cipher, 0x002F);
    }

    #[test]
    fn client_hello_parser_rejects_garbage() {
        assert_eq!(
            done(parse_client_hello(b"GET / HTTP/1.1\r\n")),
            Err("not TLS")
        );
        assert_eq!(
            done(parse_client_hello(&[
                0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28
            ])),
            Err("not a TLS handshake")
        );
        #[rustfmt::skip]
        let wrong_type = [
            0x16, 0x03, 0x01, 0x00, 0x04, // record: handshake
            0x02, 0x00, 0x00, 0x00,       // a ServerHello where a ClientHello belongs
        ];
        assert_eq!(
            done(parse_client_hello(&wrong_type)),
            Err("expected client_hello")
        );
        #[rustfmt::skip]
        let odd_suites = [
            0x16, 0x03, 0x01, 0x00, 0x2C, // record: handshake, 44 bytes
            0x01, 0x00, 0x00, 0x28,       // ClientHello, 40 bytes
            0x03, 0x03,                   // client_version TLS 1.2
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // random
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0x00,                         // session id: empty
            0x00, 0x01, 0x2F,             // cipher_suites: 1 byte (odd)
            0x01, 0x00,                   // compression
        ];
        assert_eq!(
            done(parse_client_hello(&odd_suites)),
            Err("bad client_hello")
        );
    }

    #[test]
    fn client_hello_split_across_records_and_with_sni() {
        // Take our own hello, add an SNI extension by hand, re-frame it into 10-byte records.
        #[rustfmt::skip]
        let body: Vec<u8> = [
            &[0x03, 0x03][..],            // client_version TLS 1.2
            &[0x42; 32],                  // random
            &[0x00],                      // session id: empty
            &[0x00, 0x02, 0xC0, 0x2F],    // one suite
            &[0x01, 0x00],                // compression null
            &[0x00, 0x0D],                // extensions: 13 bytes
            &[0x00, 0x00, 0x00, 0x09],    // server_name, 9 bytes
            &[0x00, 0x07, 0x00, 0x00, 0x04, b'h', b'o', b's', b't'], // list: host_name "host"
        ]
        .concat();
        let mut msg = vec![0x01, 0x00]; // ClientHello, length (u24) follows
        msg.extend_from_slice(&(body.len() as u16).to_be_bytes());
        msg.extend_from_slice(&body);
        let mut bytes = Vec::new();
        for chunk in msg.chunks(10) {
            bytes.extend_from_slice(&[0x16, 0x03, 0x01, 0x00, chunk.len() as u8]);
            bytes.extend_from_slice(chunk);
        }
        for n in 0..bytes.len() {
            assert!(matches!(
                parse_client_hello(&bytes[..n]),
                Parse::Incomplete { .. }
            ));
        }
        let info = done(parse_client_hello(&bytes)).expect("parses");
        assert!(info.has_sni);
        assert_eq!(info.suites, vec![0xC02F]);
        assert_eq!(info.legacy_version, TlsVersion::TLS12);
    }

    /// Kills the `openssl s_server` child (by its own handle) even when a test panics.
    struct ChildGuard(std::process::Child);

    impl Drop for ChildGuard {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    /// Runs `openssl s_server` on 127.0.0.1 with the fixture certificate and `args`, sends
    /// `hello`, and parses the reply. `None` (with a loud message) when openssl is missing.
    fn against_openssl(args: &[&str], hello: &[u8]) -> Option<(FlightOutcome, Vec<u8>)> {
        use std::io::{Read, Write};
        use std::time::{Duration, Instant};
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
        let cert_pem = std::fs::read_to_string(format!("{dir}/rsa2048.pem")).expect("fixture");
        let cert_der = rustls_pemfile::certs(&mut cert_pem.as_bytes())
            .next()
            .expect("one cert")
            .expect("pem")
            .to_vec();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = std::process::Command::new("openssl")
            .arg("s_server")
            .args(["-accept", &format!("127.0.0.1:{port}")])
            .args(["-cert", &format!("{dir}/rsa2048.pem")])
            .args(["-key", &format!("{dir}/rsa2048.key")])
            .args(["-naccept", "1", "-quiet"])
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        let child = match child {
            Ok(c) => ChildGuard(c),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                eprintln!("!!! SKIPPED: openssl binary not found; legacy hello not cross-checked");
                return None;
            }
            Err(e) => panic!("cannot start openssl: {e}"),
        };
        // The first successful connect is the one and only accepted connection.
        let start = Instant::now();
        let mut tcp = loop {
            match std::net::TcpStream::connect(("127.0.0.1", port)) {
                Ok(t) => break t,
                Err(_) if start.elapsed() < Duration::from_secs(10) => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => panic!("openssl s_server did not start: {e}"),
            }
        };
        tcp.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        tcp.write_all(hello).expect("send hello");
        let mut buf = Vec::new();
        let outcome = loop {
            let mut chunk = [0u8; 4096];
            let n = tcp.read(&mut chunk).expect("read flight");
            assert!(n > 0, "s_server closed after {} bytes", buf.len());
            buf.extend_from_slice(&chunk[..n]);
            if let Parse::Done(o) = parse_server_flight(&buf) {
                break o;
            }
        };
        drop(child);
        Some((outcome, cert_der))
    }

    #[test]
    fn openssl_tls12_cbc_rsa_kx_server() {
        let ch = client_hello(TlsVersion::TLS10, TlsVersion::TLS12, [0x3C; 32]);
        let Some((outcome, cert)) = against_openssl(&["-tls1_2", "-cipher", "AES128-SHA"], &ch)
        else {
            return;
        };
        let f = hello(outcome);
        assert_eq!(f.version.name(), "TLSv1.2");
        assert_eq!(f.cipher, 0x002F);
        assert_eq!(f.certificates, vec![cert]);
        assert!(f.hello_done);
    }

    #[test]
    fn openssl_tls10_only_server() {
        // Debian's OpenSSL 3 needs security level 0 for TLS 1.0, as the xrdp lab notes say.
        let ch = client_hello(TlsVersion::TLS10, TlsVersion::TLS12, [0x3D; 32]);
        let Some((outcome, cert)) =
            against_openssl(&["-tls1", "-cipher", "AES256-SHA:@SECLEVEL=0"], &ch)
        else {
            return;
        };
        let f = hello(outcome);
        assert_eq!(f.version, TlsVersion::TLS10);
        assert_eq!(f.cipher, 0x0035);
        assert_eq!(f.certificates, vec![cert]);
    }

    #[test]
    fn openssl_default_server_picks_tls13_from_full_range() {
        let ch = client_hello(TlsVersion::TLS10, TlsVersion::TLS13, [0x3F; 32]);
        let Some((outcome, _)) = against_openssl(&[], &ch) else {
            return;
        };
        let f = hello(outcome);
        assert_eq!(f.version, TlsVersion::TLS13);
        assert!(TLS13_SUITES.contains(&f.cipher), "{:#06x}", f.cipher);
        assert!(f.certificates.is_empty());
    }

    #[test]
    fn openssl_refuses_tls13_only_hello_with_an_alert() {
        let ch = client_hello(TlsVersion::TLS13, TlsVersion::TLS13, [0x3E; 32]);
        let Some((outcome, _)) = against_openssl(&["-tls1_2"], &ch) else {
            return;
        };
        assert!(
            matches!(
                outcome,
                FlightOutcome::Alert {
                    level: 2,
                    description: 70 | 40
                }
            ),
            "{outcome:?}"
        );
    }

    #[test]
    fn fuzz_entry_survives_odd_inputs() {
        fuzz_legacy(&[]);
        fuzz_legacy(&[0x16]);
        fuzz_legacy(&[0xFF; 300]);
        fuzz_legacy(&[0x00, 0x00, 0x00, 0x00]);
        fuzz_legacy(&server_flight(TlsVersion::TLS12, 0x002F, &fake_chain()));
        fuzz_legacy(&client_hello(TlsVersion::TLS10, TlsVersion::TLS13, [9; 32]));
        // Deterministic pseudo-random inputs (xorshift), including TLS-looking prefixes.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for round in 0..500 {
            let mut data = Vec::new();
            if round % 2 == 0 {
                data.extend_from_slice(&[0x16, 0x03, 0x03]);
            }
            for _ in 0..(round % 97) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                data.push(x as u8);
            }
            fuzz_legacy(&data);
        }
    }
}
