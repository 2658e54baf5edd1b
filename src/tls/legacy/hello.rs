//! The hand-written ClientHello, the lab's server flight, and the lab's ClientHello reader.

use sha2::{Digest, Sha256};

use super::*;
use crate::tls::wire::{
    handshake_message, put_ext, put_records, put_u16, put_u24, put_vec16, u16_list,
};

/// A ClientHello record offering every version in `[min, max]` (order of the two does not
/// matter) and a broad list of suites; no SNI, no session id, no session ticket.
///
/// For TLS <= 1.2 the server picks `min(client_version, its max)`, so a server whose best
/// version is below `min` may still answer with it: the caller checks the negotiated version
/// against the range. When the range reaches TLS 1.3 the hello carries supported_versions and
/// an x25519 key_share (32 bytes derived from `random`; the handshake is never completed).
pub fn client_hello(min: TlsVersion, max: TlsVersion, random: [u8; 32]) -> Vec<u8> {
    let (lo, hi) = if min <= max { (min, max) } else { (max, min) };
    let mut suites: Vec<u16> = Vec::new();
    if hi >= TlsVersion::TLS13 {
        suites.extend_from_slice(TLS13_SUITES);
    }
    if lo <= TlsVersion::TLS12 {
        suites.extend_from_slice(OFFERED_SUITES);
    }
    client_hello_offering(lo, hi, &suites, random)
}

/// [`client_hello`] with the caller's suites, in the caller's order (the deep suite
/// enumeration offers what is left of its list each time); everything else is the same.
pub fn client_hello_offering(
    min: TlsVersion,
    max: TlsVersion,
    suites: &[u16],
    random: [u8; 32],
) -> Vec<u8> {
    let (lo, hi) = if min <= max { (min, max) } else { (max, min) };
    let legacy_version = hi.min(TlsVersion::TLS12);

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
    put_vec16(&mut body, &u16_list(suites));
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
