//! Fuzz entry points for the legacy hello code (shared by cargo-fuzz and tests/fuzz_props.rs).

use super::*;

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
/// Record sizes tried one by one; beyond this, powers of two up to the flight's length.
const EVERY_SIZE_UP_TO: usize = 96;

/// Fuzz entry point for record fragmentation: the input's handshake bytes are re-split into
/// records of every size (1, 2, 3, ... then powers of two), alerts and other records kept in
/// place, and for every framing
/// - the one-shot parse agrees with the incremental [`FlightReader`] fed in uneven chunks,
/// - the reader's work stays linear in the bytes fed,
/// - the outcome is the coarsest framing's, or `Malformed("too many records")` (the record cap
///   is the only thing framing may change; still-incomplete flights stay incomplete).
pub fn fuzz_reframed(data: &[u8]) {
    let (segments, rest) = split_records(data);
    let hs_len: usize = segments
        .iter()
        .filter(|s| s.content_type == CT_HANDSHAKE)
        .map(|s| s.body.len())
        .sum();
    let reference = parse_server_flight(&reframe(&segments, rest, MAX_FRAGMENT));
    let mut sizes: Vec<usize> = (1..=hs_len.min(EVERY_SIZE_UP_TO)).collect();
    let mut s = EVERY_SIZE_UP_TO.saturating_add(1).next_power_of_two();
    while s < hs_len {
        sizes.push(s);
        s = s.saturating_mul(2);
    }
    sizes.push(hs_len.max(1));
    for size in sizes {
        let framed = reframe(&segments, rest, size);
        if framed.len() + RECORD_HEADER + MAX_RECORD > MAX_FLIGHT {
            continue; // the byte cap, not the framing, could decide
        }
        let whole = parse_server_flight(&framed);
        let fed = feed_in_chunks(&framed, size);
        assert_eq!(
            whole, fed,
            "one-shot and incremental disagree at record size {size}"
        );
        match (&reference, &whole) {
            (Parse::Done(a), Parse::Done(b)) if a == b => {}
            (_, Parse::Done(FlightOutcome::Malformed("too many records"))) => {}
            (Parse::Incomplete { .. }, Parse::Incomplete { .. }) => {}
            (a, b) => panic!("record size {size} changed the outcome: {a:?} -> {b:?}"),
        }
    }
}

/// Feeds `bytes` to one reader in chunks of 1, 2, 3, ... (cycling, offset by `salt`), checking
/// the work bound; returns the final answer.
fn feed_in_chunks(bytes: &[u8], salt: usize) -> Parse<FlightOutcome> {
    let mut reader = FlightReader::new();
    let mut end = 0usize;
    let mut step = salt % 7;
    let mut last = reader.parse(&[]);
    while end < bytes.len() {
        step = step % 7 + 1;
        end = end.saturating_add(step).min(bytes.len());
        last = reader.parse(bytes.get(..end).unwrap_or(bytes));
        // Each byte is looked at a bounded number of times: no re-parse from the start.
        assert!(
            reader.work() <= 12 * end + 64,
            "work {} for {end} bytes",
            reader.work()
        );
        if matches!(last, Parse::Done(_)) {
            break;
        }
    }
    last
}

struct Segment<'a> {
    content_type: u8,
    version: [u8; 2],
    body: &'a [u8],
}

/// The complete records at the start of `data`, and what follows them (kept verbatim).
fn split_records(data: &[u8]) -> (Vec<Segment<'_>>, &[u8]) {
    let mut segments = Vec::new();
    let mut pos = 0usize;
    while let RecordStep::Record {
        content_type,
        body,
        next,
    } = next_record(data, pos)
    {
        let version = match data.get(pos + 1..pos + 3) {
            Some([a, b]) => [*a, *b],
            _ => [3, 3],
        };
        segments.push(Segment {
            content_type,
            version,
            body,
        });
        pos = next;
    }
    (segments, data.get(pos..).unwrap_or_default())
}

/// Runs of non-empty handshake records re-split into records of `size` bytes; every other
/// record (alerts, CCS, empty handshake records) and the unparsed rest kept as they were.
fn reframe(segments: &[Segment<'_>], rest: &[u8], size: usize) -> Vec<u8> {
    fn record(out: &mut Vec<u8>, ct: u8, version: [u8; 2], body: &[u8]) {
        out.push(ct);
        out.extend_from_slice(&version);
        out.extend_from_slice(&u16::try_from(body.len()).unwrap_or(u16::MAX).to_be_bytes());
        out.extend_from_slice(body);
    }
    let size = size.clamp(1, MAX_FRAGMENT);
    let mut out = Vec::new();
    let mut run: Vec<u8> = Vec::new();
    let mut run_version = [3, 3];
    let flush = |out: &mut Vec<u8>, run: &mut Vec<u8>, version: [u8; 2]| {
        for chunk in run.chunks(size) {
            record(out, CT_HANDSHAKE, version, chunk);
        }
        run.clear();
    };
    for s in segments {
        if s.content_type == CT_HANDSHAKE && !s.body.is_empty() {
            if run.is_empty() {
                run_version = s.version;
            }
            run.extend_from_slice(s.body);
        } else {
            flush(&mut out, &mut run, run_version);
            record(&mut out, s.content_type, s.version, s.body);
        }
    }
    flush(&mut out, &mut run, run_version);
    out.extend_from_slice(rest);
    out
}
