//! CredSSP TSRequest (MS-CSSP 2.2.1), DER; docs/protocol.md §7.
//!
//! Hand-written rather than built on a DER crate: an unpatched or broken server's reply
//! must come back as an outcome (which field was wrong, was it cut short, was it huge),
//! errorCode arrives both as a negative and as a 5-byte positive INTEGER, and we must
//! report `Incomplete` from a partial buffer without trusting the declared length.

use super::Parse;

/// Largest TSRequest we accept; a CHALLENGE reply is a few hundred bytes.
pub const MAX_TS_REQUEST: usize = 64 * 1024;

/// The TSRequest version we announce: the post-CVE-2018-0886 one, so a patched server
/// has no reason to refuse us, and the server's reply states its own version anyway.
pub const CLIENT_VERSION: u32 = 6;

const TAG_INTEGER: u8 = 0x02;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_SEQUENCE: u8 = 0x30;
/// Context-specific, constructed: `[n]` is `0xA0 | n`.
const CTX: u8 = 0xA0;

// ---------------------------------------------------------------------------------------------
// Encoding.

fn der_len(out: &mut Vec<u8>, n: usize) {
    if n < 0x80 {
        out.push(n as u8);
        return;
    }
    let bytes = (n as u64).to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    let sig = bytes.get(skip..).unwrap_or_default();
    out.push(0x80 | sig.len() as u8);
    out.extend_from_slice(sig);
}

fn der_tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    der_len(out, content.len());
    out.extend_from_slice(content);
}

/// Minimal two's-complement content of a signed value.
fn int_content(v: i64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut start = 0;
    // Drop a leading byte while the next byte still carries the same sign.
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
    bytes.get(start..).unwrap_or_default().to_vec()
}

fn der_int(out: &mut Vec<u8>, v: i64) {
    der_tlv(out, TAG_INTEGER, &int_content(v));
}

fn ctx(out: &mut Vec<u8>, n: u8, inner: &[u8]) {
    der_tlv(out, CTX | n, inner);
}

fn version_field(out: &mut Vec<u8>, version: u32) {
    let mut int = Vec::with_capacity(7);
    der_int(&mut int, i64::from(version));
    ctx(out, 0, &int);
}

/// DER TSRequest { version [0] INTEGER, negoTokens [1] SEQUENCE OF SEQUENCE { [0] OCTET STRING } }
/// with one token. Serves both the client (NEGOTIATE) and the lab server (CHALLENGE).
pub fn ts_request_with_token(version: u32, token: &[u8]) -> Vec<u8> {
    let mut octets = Vec::with_capacity(token.len() + 6);
    der_tlv(&mut octets, TAG_OCTET_STRING, token);
    let mut field = Vec::with_capacity(octets.len() + 6);
    ctx(&mut field, 0, &octets); // negoToken [0]
    let mut item = Vec::with_capacity(field.len() + 6);
    der_tlv(&mut item, TAG_SEQUENCE, &field); // NegoDataItem
    let mut nego_data = Vec::with_capacity(item.len() + 6);
    der_tlv(&mut nego_data, TAG_SEQUENCE, &item); // NegoData (SEQUENCE OF)

    let mut body = Vec::with_capacity(nego_data.len() + 16);
    version_field(&mut body, version);
    ctx(&mut body, 1, &nego_data);
    let mut out = Vec::with_capacity(body.len() + 6);
    der_tlv(&mut out, TAG_SEQUENCE, &body);
    out
}

/// DER TSRequest { version [0], errorCode [4] } (lab server side). The NTSTATUS is a signed
/// 32-bit value, so it is written as its i32 (0xC000006D becomes a negative INTEGER).
pub fn ts_request_error(version: u32, error_code: u32) -> Vec<u8> {
    let mut body = Vec::with_capacity(16);
    version_field(&mut body, version);
    let mut int = Vec::with_capacity(6);
    der_int(&mut int, i64::from(error_code as i32));
    ctx(&mut body, 4, &int);
    let mut out = Vec::with_capacity(body.len() + 2);
    der_tlv(&mut out, TAG_SEQUENCE, &body);
    out
}

// ---------------------------------------------------------------------------------------------
// Decoding.

/// What the server's TSRequest says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TsRequest {
    /// The sender's own CredSSP version (<= 4: CVE-2018-0886 unpatched).
    pub version: u32,
    /// negoToken OCTET STRINGs, in order.
    pub nego_tokens: Vec<Vec<u8>>,
    /// errorCode (NTSTATUS) as u32, e.g. 0xC000006D.
    pub error_code: Option<u32>,
    pub has_pub_key_auth: bool,
    pub has_auth_info: bool,
    pub client_nonce: Option<Vec<u8>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum TsParseError {
    /// First byte is not a SEQUENCE tag.
    #[error("not der: the reply does not start with a sequence")]
    NotDer,
    /// Indefinite, over-long, or past-its-container length.
    #[error("bad der length")]
    BadLength,
    /// An element's header is cut off by its container.
    #[error("der element cut short")]
    Truncated,
    #[error("tsrequest without a version field")]
    MissingVersion,
    #[error("tsrequest larger than 64 KiB")]
    TooLarge,
    #[error("malformed tsrequest: {0}")]
    Malformed(&'static str),
}

/// Decode a DER length starting at `buf[pos]`. `Ok(None)` when the bytes stop before it ends.
/// Returns (value, bytes used).
fn read_len(buf: &[u8], pos: usize) -> Result<Option<(usize, usize)>, TsParseError> {
    let Some(&first) = buf.get(pos) else {
        return Ok(None);
    };
    if first < 0x80 {
        return Ok(Some((usize::from(first), 1)));
    }
    let n = usize::from(first & 0x7F);
    // 0x80 is BER's indefinite form, forbidden in DER; more than 4 bytes is over 4 GiB.
    if n == 0 || n > 4 {
        return Err(TsParseError::BadLength);
    }
    let Some(bytes) = buf.get(pos + 1..pos + 1 + n) else {
        return Ok(None);
    };
    let v = bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    // On 32-bit targets a 4-byte length may not fit usize: it is too large either way.
    let v = usize::try_from(v).map_err(|_| TsParseError::TooLarge)?;
    Ok(Some((v, 1 + n)))
}

/// Sequential reader over the content of one constructed element.
struct Der<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Der<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Der { buf, pos: 0 }
    }

    /// Next (tag, content), or `None` at the end. The content must fit inside this container.
    fn next(&mut self) -> Result<Option<(u8, &'a [u8])>, TsParseError> {
        let Some(&tag) = self.buf.get(self.pos) else {
            return Ok(None);
        };
        if tag & 0x1F == 0x1F {
            return Err(TsParseError::Malformed("multi-byte tag"));
        }
        let (len, used) = read_len(self.buf, self.pos + 1)?.ok_or(TsParseError::Truncated)?;
        let start = self.pos + 1 + used;
        let end = start.checked_add(len).ok_or(TsParseError::BadLength)?;
        let content = self.buf.get(start..end).ok_or(TsParseError::BadLength)?;
        self.pos = end;
        Ok(Some((tag, content)))
    }

    /// The single element an EXPLICIT `[n]` wraps; it must carry `tag`.
    fn only(buf: &'a [u8], tag: u8, what: &'static str) -> Result<&'a [u8], TsParseError> {
        match Der::new(buf).next()? {
            Some((t, content)) if t == tag => Ok(content),
            Some(_) => Err(TsParseError::Malformed(what)),
            None => Err(TsParseError::Truncated),
        }
    }
}

/// Signed value of a DER INTEGER's content (up to 8 bytes).
fn int_value(content: &[u8]) -> Option<i64> {
    if content.is_empty() || content.len() > 8 {
        return None;
    }
    let negative = content.first().is_some_and(|b| b & 0x80 != 0);
    let init: i64 = if negative { -1 } else { 0 };
    Some(
        content
            .iter()
            .fold(init, |acc, &b| (acc << 8) | i64::from(b)),
    )
}

/// Parse a complete TSRequest. `Incomplete` while the outer DER length says more bytes are
/// coming; a declared length over `MAX_TS_REQUEST` is `TooLarge` at once, never an
/// allocation. Bytes after the outer element are ignored.
pub fn parse_ts_request(buf: &[u8]) -> Parse<Result<TsRequest, TsParseError>> {
    match buf.first() {
        None => return Parse::Incomplete { need: 2 },
        Some(&TAG_SEQUENCE) => {}
        Some(_) => return Parse::Done(Err(TsParseError::NotDer)),
    }
    let (len, used) = match read_len(buf, 1) {
        Err(e) => return Parse::Done(Err(e)),
        Ok(None) => {
            // Need the length byte, then the long form's bytes.
            let need = match buf.get(1) {
                Some(&b) => 2 + usize::from(b & 0x7F),
                None => 2,
            };
            return Parse::Incomplete { need };
        }
        Ok(Some(v)) => v,
    };
    let total = match (1 + used).checked_add(len) {
        Some(t) if t <= MAX_TS_REQUEST => t,
        _ => return Parse::Done(Err(TsParseError::TooLarge)),
    };
    match buf.get(1 + used..total) {
        None => Parse::Incomplete { need: total },
        Some(body) => Parse::Done(parse_body(body)),
    }
}

fn parse_body(body: &[u8]) -> Result<TsRequest, TsParseError> {
    let mut req = TsRequest::default();
    let mut version = None;
    let mut seen = 0u8;
    let mut fields = Der::new(body);
    while let Some((tag, content)) = fields.next()? {
        if tag & 0xE0 != CTX {
            return Err(TsParseError::Malformed("unexpected element in tsrequest"));
        }
        let n = tag & 0x1F;
        // Fields [0]..[5] are read once; a repeat is ignored, as are fields a later
        // revision might add.
        let bit = 1u8.checked_shl(u32::from(n)).unwrap_or(0);
        if n > 5 || seen & bit != 0 {
            continue;
        }
        seen |= bit;
        match n {
            0 => {
                let v = int_value(Der::only(
                    content,
                    TAG_INTEGER,
                    "version is not an integer",
                )?);
                let v = v.and_then(|v| u32::try_from(v).ok());
                version = Some(v.ok_or(TsParseError::Malformed("version out of range"))?);
            }
            1 => req.nego_tokens = parse_nego_data(content)?,
            2 => {
                Der::only(content, TAG_OCTET_STRING, "authInfo is not an octet string")?;
                req.has_auth_info = true;
            }
            3 => {
                Der::only(
                    content,
                    TAG_OCTET_STRING,
                    "pubKeyAuth is not an octet string",
                )?;
                req.has_pub_key_auth = true;
            }
            4 => {
                let v = int_value(Der::only(
                    content,
                    TAG_INTEGER,
                    "errorCode is not an integer",
                )?);
                req.error_code = Some(
                    v.and_then(ntstatus)
                        .ok_or(TsParseError::Malformed("errorCode out of range"))?,
                );
            }
            _ => {
                let nonce = Der::only(
                    content,
                    TAG_OCTET_STRING,
                    "clientNonce is not an octet string",
                )?;
                req.client_nonce = Some(nonce.to_vec());
            }
        }
    }
    req.version = version.ok_or(TsParseError::MissingVersion)?;
    Ok(req)
}

/// NTSTATUS from an INTEGER: negative i32 values (0xC000006D written as -1073741715) and
/// positive values up to 0xFFFFFFFF (written with a leading 0x00) both map to the same u32.
fn ntstatus(v: i64) -> Option<u32> {
    if let Ok(u) = u32::try_from(v) {
        return Some(u);
    }
    i32::try_from(v).ok().map(|i| i as u32)
}

/// NegoData ::= SEQUENCE OF SEQUENCE { negoToken [0] OCTET STRING }.
fn parse_nego_data(content: &[u8]) -> Result<Vec<Vec<u8>>, TsParseError> {
    let items = Der::only(content, TAG_SEQUENCE, "negoTokens is not a sequence")?;
    let mut tokens = Vec::new();
    let mut it = Der::new(items);
    while let Some((tag, item)) = it.next()? {
        if tag != TAG_SEQUENCE {
            return Err(TsParseError::Malformed("negoTokens item is not a sequence"));
        }
        let wrapped = Der::only(item, CTX, "negoTokens item without [0]")?;
        let token = Der::only(
            wrapped,
            TAG_OCTET_STRING,
            "negoToken is not an octet string",
        )?;
        tokens.push(token.to_vec());
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(b: &[u8]) -> Result<TsRequest, TsParseError> {
        match parse_ts_request(b) {
            Parse::Done(r) => r,
            Parse::Incomplete { need } => panic!("incomplete, need {need}"),
        }
    }

    #[test]
    fn client_request_fixture() {
        let token = [0x4Eu8; 40];
        let b = ts_request_with_token(6, &token);
        #[rustfmt::skip]
        let head = [
            0x30, 0x37, // TSRequest SEQUENCE, 55 bytes
            0xA0, 0x03, 0x02, 0x01, 0x06, // version [0] INTEGER 6
            0xA1, 0x30, // negoTokens [1], 48 bytes
            0x30, 0x2E, // NegoData SEQUENCE OF
            0x30, 0x2C, // NegoDataItem SEQUENCE
            0xA0, 0x2A, // negoToken [0]
            0x04, 0x28, // OCTET STRING, 40 bytes
        ];
        assert_eq!(b[..head.len()], head);
        assert_eq!(b.len(), head.len() + 40);
        assert_eq!(b[head.len()..], token);
    }

    #[test]
    fn round_trip_versions_and_sizes() {
        for version in [2u32, 3, 4, 5, 6, 0x60, 0x80, 0xFFFF, 0xFFFF_FFFF] {
            for size in [0usize, 1, 40, 127, 128, 255, 256, 300, 5000] {
                let token: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
                let b = ts_request_with_token(version, &token);
                let r = done(&b).expect("own encoding parses");
                assert_eq!(r.version, version);
                assert_eq!(r.nego_tokens, vec![token]);
                assert_eq!(r.error_code, None);
                assert!(!r.has_pub_key_auth && !r.has_auth_info && r.client_nonce.is_none());
            }
        }
    }

    #[test]
    fn version_encodings() {
        // 0x80 needs a sign byte; 0xFFFFFFFF needs five bytes.
        assert_eq!(
            ts_request_with_token(0x80, &[])[2..8],
            [0xA0, 0x04, 0x02, 0x02, 0x00, 0x80]
        );
        assert_eq!(
            ts_request_with_token(u32::MAX, &[])[2..11],
            [0xA0, 0x07, 0x02, 0x05, 0x00, 0xFF, 0xFF, 0xFF, 0xFF]
        );
    }

    #[test]
    fn error_code_negative_form() {
        let b = ts_request_error(6, 0xC000_006D);
        let expected = [
            0x30, 0x0D, // TSRequest, 13 bytes
            0xA0, 0x03, 0x02, 0x01, 0x06, // version 6
            0xA4, 0x06, // errorCode [4]
            0x02, 0x04, 0xC0, 0x00, 0x00, 0x6D, // INTEGER -1073741715 (STATUS_LOGON_FAILURE)
        ];
        assert_eq!(b, expected);
        let r = done(&b).unwrap();
        assert_eq!(r.version, 6);
        assert_eq!(r.error_code, Some(0xC000_006D));
        assert!(r.nego_tokens.is_empty());
    }

    #[test]
    fn error_code_positive_five_byte_form() {
        let b = [
            0x30, 0x0E, // TSRequest, 14 bytes
            0xA0, 0x03, 0x02, 0x01, 0x03, // version 3
            0xA4, 0x07, // errorCode [4]
            0x02, 0x05, 0x00, 0xC0, 0x00, 0x00, 0x71, // INTEGER 0xC0000071 (password expired)
        ];
        assert_eq!(done(&b).unwrap().error_code, Some(0xC000_0071));
        // Small positive and a too-wide value.
        let small = [
            0x30, 0x0A, 0xA0, 0x03, 0x02, 0x01, 0x06, 0xA4, 0x03, 0x02, 0x01, 0x05,
        ];
        assert_eq!(done(&small).unwrap().error_code, Some(5));
        let wide = [
            0x30, 0x0F, 0xA0, 0x03, 0x02, 0x01, 0x06, // version 6
            0xA4, 0x08, 0x02, 0x06, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, // 2^40
        ];
        assert_eq!(
            done(&wide),
            Err(TsParseError::Malformed("errorCode out of range"))
        );
    }

    #[test]
    fn all_fields() {
        #[rustfmt::skip]
        let b = [
            0x30, 0x37, // TSRequest, 55 bytes
            0xA0, 0x03, 0x02, 0x01, 0x05, // version 5
            0xA1, 0x0B, 0x30, 0x09, 0x30, 0x07, 0xA0, 0x05, 0x04, 0x03, 0x01, 0x02, 0x03, // one token 01 02 03
            0xA2, 0x04, 0x04, 0x02, 0xAA, 0xBB, // authInfo
            0xA3, 0x04, 0x04, 0x02, 0xCC, 0xDD, // pubKeyAuth
            0xA4, 0x03, 0x02, 0x01, 0x00, // errorCode 0
            0xA5, 0x12, 0x04, 0x10, // clientNonce, 16 bytes (real ones are 32)
                0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F,
        ];
        let r = done(&b).unwrap();
        assert_eq!(
            r,
            TsRequest {
                version: 5,
                nego_tokens: vec![vec![1, 2, 3]],
                error_code: Some(0),
                has_pub_key_auth: true,
                has_auth_info: true,
                client_nonce: Some((0..16).collect()),
            }
        );
    }

    #[test]
    fn several_tokens_and_unknown_fields() {
        let b = [
            0x30, 0x1A, // TSRequest, 26 bytes
            0xA7, 0x02, 0x05, 0x00, // unknown [7] NULL: skipped
            0xA1, 0x0F, 0x30, 0x0D, // negoTokens
            0x30, 0x05, 0xA0, 0x03, 0x04, 0x01, 0x11, // token 11
            0x30, 0x04, 0xA0, 0x02, 0x04, 0x00, // empty token
            0xA0, 0x03, 0x02, 0x01, 0x02, // version 2, last
        ];
        let r = done(&b).unwrap();
        assert_eq!(r.version, 2);
        assert_eq!(r.nego_tokens, vec![vec![0x11], vec![]]);
    }

    #[test]
    fn incremental() {
        let b = ts_request_with_token(6, &[0xAB; 300]);
        assert_eq!(b[1], 0x82); // long-form length
        for end in 0..b.len() {
            match parse_ts_request(&b[..end]) {
                Parse::Incomplete { need } => {
                    assert!(need > end && need <= b.len(), "end {end} need {need}")
                }
                Parse::Done(r) => panic!("decided at {end}: {r:?}"),
            }
        }
        assert_eq!(parse_ts_request(&b[..1]), Parse::Incomplete { need: 2 });
        assert_eq!(parse_ts_request(&b[..2]), Parse::Incomplete { need: 4 });
        assert_eq!(
            parse_ts_request(&b[..4]),
            Parse::Incomplete { need: b.len() }
        );
        // Trailing bytes after the element are ignored.
        let mut t = b.clone();
        t.extend_from_slice(&[0x30, 0x00]);
        assert_eq!(done(&t).unwrap().nego_tokens[0].len(), 300);
    }

    #[test]
    fn outer_errors() {
        // A TLS alert record instead of DER.
        assert_eq!(
            parse_ts_request(&[0x15]),
            Parse::Done(Err(TsParseError::NotDer))
        );
        // Indefinite length.
        assert_eq!(
            parse_ts_request(&[0x30, 0x80]),
            Parse::Done(Err(TsParseError::BadLength))
        );
        // Five length bytes.
        assert_eq!(
            parse_ts_request(&[0x30, 0x85, 0, 0, 0, 0, 1]),
            Parse::Done(Err(TsParseError::BadLength))
        );
        // 65536 declared: over the cap, refused before waiting or allocating.
        assert_eq!(
            parse_ts_request(&[0x30, 0x83, 0x01, 0x00, 0x00]),
            Parse::Done(Err(TsParseError::TooLarge))
        );
        assert_eq!(
            parse_ts_request(&[0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF]),
            Parse::Done(Err(TsParseError::TooLarge))
        );
        // Exactly at the cap is still waited for.
        let at_cap = (MAX_TS_REQUEST - 4) as u16;
        let [hi, lo] = at_cap.to_be_bytes();
        assert_eq!(
            parse_ts_request(&[0x30, 0x82, hi, lo]),
            Parse::Incomplete {
                need: MAX_TS_REQUEST
            }
        );
    }

    #[test]
    fn inner_errors() {
        // No version.
        let b = [0x30, 0x06, 0xA3, 0x04, 0x04, 0x02, 0xAA, 0xBB];
        assert_eq!(done(&b), Err(TsParseError::MissingVersion));
        let b = [0x30, 0x00];
        assert_eq!(done(&b), Err(TsParseError::MissingVersion));
        // INTEGER claims 5 bytes inside a 3-byte [0].
        let b = [0x30, 0x05, 0xA0, 0x03, 0x02, 0x05, 0x06];
        assert_eq!(done(&b), Err(TsParseError::BadLength));
        // [0] claims 9 bytes inside a 5-byte sequence.
        let b = [0x30, 0x05, 0xA0, 0x09, 0x02, 0x01, 0x06];
        assert_eq!(done(&b), Err(TsParseError::BadLength));
        // Element header cut: tag with no length byte.
        let b = [0x30, 0x03, 0xA0, 0x01, 0x02];
        assert_eq!(done(&b), Err(TsParseError::Truncated));
        // Empty [0].
        let b = [0x30, 0x02, 0xA0, 0x00];
        assert_eq!(done(&b), Err(TsParseError::Truncated));
        // Version as OCTET STRING.
        let b = [0x30, 0x05, 0xA0, 0x03, 0x04, 0x01, 0x06];
        assert_eq!(
            done(&b),
            Err(TsParseError::Malformed("version is not an integer"))
        );
        // Negative version.
        let b = [0x30, 0x05, 0xA0, 0x03, 0x02, 0x01, 0xFF];
        assert_eq!(
            done(&b),
            Err(TsParseError::Malformed("version out of range"))
        );
        // Empty INTEGER.
        let b = [0x30, 0x04, 0xA0, 0x02, 0x02, 0x00];
        assert_eq!(
            done(&b),
            Err(TsParseError::Malformed("version out of range"))
        );
        // A universal INTEGER directly in the sequence.
        let b = [0x30, 0x03, 0x02, 0x01, 0x06];
        assert_eq!(
            done(&b),
            Err(TsParseError::Malformed("unexpected element in tsrequest"))
        );
        // Multi-byte tag.
        let b = [0x30, 0x03, 0xBF, 0x81, 0x00];
        assert_eq!(done(&b), Err(TsParseError::Malformed("multi-byte tag")));
        // negoTokens item without [0].
        let b = [
            0x30, 0x0F, 0xA0, 0x03, 0x02, 0x01, 0x06, // version
            0xA1, 0x08, 0x30, 0x06, 0x30, 0x04, 0x04, 0x02, 0x01,
            0x02, // item holds a bare OCTET STRING
        ];
        assert_eq!(
            done(&b),
            Err(TsParseError::Malformed("negoTokens item without [0]"))
        );
    }

    #[test]
    fn int_helpers() {
        assert_eq!(int_content(0), [0x00]);
        assert_eq!(int_content(127), [0x7F]);
        assert_eq!(int_content(128), [0x00, 0x80]);
        assert_eq!(int_content(-1), [0xFF]);
        assert_eq!(int_content(-129), [0xFF, 0x7F]);
        assert_eq!(
            int_content(i64::from(0xC000_006Du32 as i32)),
            [0xC0, 0x00, 0x00, 0x6D]
        );
        assert_eq!(int_value(&[0xFF, 0x7F]), Some(-129));
        assert_eq!(
            int_value(&[0x00, 0xC0, 0x00, 0x00, 0x6D]),
            Some(0xC000_006D)
        );
        assert_eq!(int_value(&[]), None);
        assert_eq!(int_value(&[1; 9]), None);
        assert_eq!(ntstatus(-1), Some(0xFFFF_FFFF));
        assert_eq!(ntstatus(1 << 40), None);
        assert_eq!(ntstatus(-(1 << 40)), None);
    }
}
