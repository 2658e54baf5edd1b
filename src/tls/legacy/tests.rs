//! Unit tests of the legacy hello writers and readers (and cross-checks against openssl).

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

    // A valid hello followed by an endless stream of tiny handshake records: the record cap
    // stops it long before the byte cap.
    let mut stream = server_hello_record(TlsVersion::TLS12, 0x002F);
    while stream.len() <= MAX_FLIGHT {
        // HelloRequest messages (type 0, empty) are ignored, so only a cap stops this.
        stream.extend_from_slice(&[0x16, 0x03, 0x03, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00]);
    }
    assert_eq!(
        done(parse_server_flight(&stream)),
        FlightOutcome::Malformed("too many records")
    );
    // Full-size records of ignored messages: the byte cap (256 KiB) comes first.
    let mut stream = server_hello_record(TlsVersion::TLS12, 0x002F);
    let mut body = vec![0x00, 0x00, 0x3F, 0xFC]; // one 16,380-byte message type 0 (ignored)
    body.resize(16384, 0xAB);
    while stream.len() <= MAX_FLIGHT {
        stream.extend_from_slice(&[0x16, 0x03, 0x03, 0x40, 0x00]);
        stream.extend_from_slice(&body);
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

/// Feeds `bytes` to one reader `step` bytes at a time; the outcome and the reader.
fn feed(bytes: &[u8], step: usize) -> (Parse<FlightOutcome>, FlightReader) {
    let mut reader = FlightReader::new();
    let mut end = 0;
    let mut last = reader.parse(&[]);
    while end < bytes.len() && !matches!(last, Parse::Done(_)) {
        end = (end + step).min(bytes.len());
        last = reader.parse(&bytes[..end]);
    }
    (last, reader)
}

#[test]
fn incremental_reader_does_linear_work_byte_by_byte() {
    let chain = vec![vec![0x5A; 100_000], vec![0xA5; 3]]; // leaf spans seven records
    let bytes = server_flight(TlsVersion::TLS12, 0x009C, &chain);
    let (outcome, reader) = feed(&bytes, 1);
    let f = hello(done(outcome));
    assert_eq!(f.certificates, chain);
    // One call per byte: each call looks at one pending 5-byte header, each byte is copied once.
    // The old re-parse from the start looked at ~len^2/2 = 5e9 bytes here.
    assert!(
        reader.work() <= 8 * bytes.len(),
        "work {} for {} bytes",
        reader.work(),
        bytes.len()
    );
    // Same answer in any chunking, and a finished reader keeps answering the same.
    for step in [2, 3, 7, 4096, bytes.len()] {
        assert_eq!(
            feed(&bytes, step).0,
            Parse::Done(FlightOutcome::Hello(f.clone()))
        );
    }
    let mut reader = FlightReader::new();
    assert!(matches!(reader.parse(&bytes), Parse::Done(_)));
    assert!(matches!(
        reader.parse(b"anything"),
        Parse::Done(FlightOutcome::Hello(_))
    ));
}

#[test]
fn one_byte_records_hit_the_record_cap() {
    // A real-size flight (1 KiB certificate) in 1-byte records: over 1,000 records.
    let chain = vec![vec![0x30; 1024]];
    let bytes = reframe(&server_flight(TlsVersion::TLS12, 0x002F, &chain), 1);
    let (outcome, reader) = feed(&bytes, 1);
    assert_eq!(done(outcome), FlightOutcome::Malformed("too many records"));
    // It stopped at the cap: MAX_RECORDS records of 6 bytes, not the whole flight.
    assert!(
        reader.work() <= 12 * 6 * (MAX_RECORDS + 1),
        "{}",
        reader.work()
    );
    // Within the cap, 1-byte records are read correctly.
    let small = reframe(&server_flight(TlsVersion::TLS12, 0x002F, &[vec![0xC3]]), 1);
    assert!(small.len() / 6 <= MAX_RECORDS);
    assert_eq!(
        hello(done(feed(&small, 1).0)).certificates,
        vec![vec![0xC3]]
    );
}

#[test]
fn warning_alert_flood_is_capped() {
    let warning = [0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x70]; // warning unrecognized_name
    let flight = server_flight(TlsVersion::TLS12, 0x002F, &fake_chain());
    // MAX_WARNINGS warnings are skipped, the flight after them is read.
    let mut bytes = warning.repeat(MAX_WARNINGS);
    bytes.extend_from_slice(&flight);
    assert!(hello(done(parse_server_flight(&bytes))).hello_done);
    // One more ends it, whether the warnings come one per record or packed in one record.
    let mut flood = warning.repeat(10_000);
    flood.extend_from_slice(&flight);
    let (outcome, reader) = feed(&flood, 7);
    assert_eq!(done(outcome), FlightOutcome::Malformed("too many alerts"));
    assert!(reader.work() < 200, "{}", reader.work());
    let mut packed = vec![0x15, 0x03, 0x03, 0x00, 0x0C];
    packed.extend_from_slice(&[0x01, 0x70].repeat(6));
    assert_eq!(
        done(parse_server_flight(&packed)),
        FlightOutcome::Malformed("too many alerts")
    );
}

#[test]
fn flights_without_a_certificate() {
    // An empty Certificate message.
    let f = hello(done(parse_server_flight(&server_flight(
        TlsVersion::TLS12,
        0x002F,
        &[],
    ))));
    assert!(f.certificate_message && f.certificates.is_empty() && f.hello_done);
    // ServerHello straight followed by ChangeCipherSpec: no Certificate message at all.
    let mut bytes = server_hello_record(TlsVersion::TLS12, 0x002F);
    bytes.extend_from_slice(&[0x14, 0x03, 0x03, 0x00, 0x01, 0x01]);
    let f = hello(done(parse_server_flight(&bytes)));
    assert!(!f.certificate_message && f.certificates.is_empty() && !f.hello_done);
    // An empty Certificate message followed by a second one is still a duplicate.
    let mut dup = server_hello_record(TlsVersion::TLS12, 0x002F);
    for _ in 0..2 {
        // Certificate, 3 bytes: an empty certificate_list.
        dup.extend_from_slice(&[
            0x16, 0x03, 0x03, 0x00, 0x07, 0x0B, 0x00, 0x00, 0x03, 0, 0, 0,
        ]);
    }
    assert_eq!(
        done(parse_server_flight(&dup)),
        FlightOutcome::Malformed("duplicate certificate")
    );
}

#[test]
fn reframing_fuzz_entry_on_real_flights() {
    let chain = fake_chain();
    for bytes in [
        server_flight(TlsVersion::TLS12, 0xC02F, &chain),
        server_flight(TlsVersion::TLS10, 0x002F, &[]),
        server_flight(TlsVersion::TLS13, 0x1301, &[]),
        server_hello_record(TlsVersion::TLS12, 0x002F),
    ] {
        fuzz_reframed(&bytes);
        for cut in 0..bytes.len() {
            fuzz_reframed(&bytes[..cut]);
        }
    }
    let mut with_alerts = vec![0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x70];
    with_alerts.extend_from_slice(&server_flight(TlsVersion::TLS12, 0xC02F, &chain));
    fuzz_reframed(&with_alerts);
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
    let Some((outcome, cert)) = against_openssl(&["-tls1_2", "-cipher", "AES128-SHA"], &ch) else {
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
