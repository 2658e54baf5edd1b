//! Big-endian writers for TLS wire structures, shared by the raw legacy hello, the lab's server
//! flight and the client-profile hellos.

/// What the writers put in one record (RFC 5246 6.2.1 plaintext limit).
pub(crate) const MAX_FRAGMENT: usize = 16384;

pub(crate) fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

pub(crate) fn put_u24(out: &mut Vec<u8>, v: usize) {
    // Callers keep v below 2^24; the mask only guards the encoding.
    let v = u32::try_from(v).unwrap_or(u32::MAX) & 0x00FF_FFFF;
    out.extend_from_slice(&v.to_be_bytes()[1..]);
}

/// Appends `body` behind a big-endian u16 length (saturating: our bodies are small).
pub(crate) fn put_vec16(out: &mut Vec<u8>, body: &[u8]) {
    put_u16(out, u16::try_from(body.len()).unwrap_or(u16::MAX));
    out.extend_from_slice(body);
}

pub(crate) fn put_ext(out: &mut Vec<u8>, ext_type: u16, data: &[u8]) {
    put_u16(out, ext_type);
    put_vec16(out, data);
}

pub(crate) fn u16_list(values: &[u16]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

/// Wraps handshake bytes into records of at most `MAX_FRAGMENT` bytes each.
pub(crate) fn put_records(
    out: &mut Vec<u8>,
    content_type: u8,
    record_version: u16,
    payload: &[u8],
) {
    for chunk in payload.chunks(MAX_FRAGMENT) {
        out.push(content_type);
        put_u16(out, record_version);
        put_vec16(out, chunk);
    }
}

pub(crate) fn handshake_message(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(body.len() + 4);
    m.push(msg_type);
    put_u24(&mut m, body.len());
    m.extend_from_slice(body);
    m
}
