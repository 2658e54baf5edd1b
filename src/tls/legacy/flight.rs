//! The server's first flight, read incrementally.
//!
//! [`FlightReader`] keeps its place between calls: every record header is looked at once per
//! read that leaves it incomplete (a constant 5 bytes), every record body and handshake byte is
//! copied or decoded once. A flight fed one byte at a time therefore costs linear time, not the
//! quadratic re-parse from the start it used to. Records and warning alerts per flight are
//! capped as well, so a flood of tiny records ends as `Malformed` long before [`MAX_FLIGHT`].

use super::*;

/// Records one flight may take. A 256 KiB flight needs 16 full records; 256 leaves room for
/// stacks that fragment at 1 KiB, and stops a server that answers in 1-byte records.
pub const MAX_RECORDS: usize = 256;
/// Warning alerts skipped per flight before giving up; BoringSSL and rustls allow 4 too.
pub const MAX_WARNINGS: usize = 4;

/// What the server sent in its first flight (plaintext part).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerFlight {
    /// Negotiated version: supported_versions extension if present, else ServerHello.version.
    pub version: TlsVersion,
    pub cipher: u16,
    /// DER, leaf first; empty for TLS 1.3 (encrypted) or when the server sent none.
    pub certificates: Vec<Vec<u8>>,
    /// A Certificate message was seen (it may have carried an empty list).
    pub certificate_message: bool,
    /// ServerHelloDone seen (a complete TLS <= 1.2 flight).
    pub hello_done: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlightOutcome {
    Hello(ServerFlight),
    /// A fatal alert, or close_notify (up to [`MAX_WARNINGS`] warnings are skipped).
    Alert {
        level: u8,
        description: u8,
    },
    /// The first bytes are not a TLS record header.
    NotTls,
    Malformed(&'static str),
}

/// Parses the raw bytes received after sending [`client_hello`] in one go; see
/// [`FlightReader`] for the incremental form the probe uses (same outcomes).
///
/// Done at ServerHelloDone; right after ServerHello for TLS 1.3 (and HelloRetryRequest);
/// at a ChangeCipherSpec or application-data record after ServerHello (nothing more can be
/// read in plaintext); or at an alert. Input beyond [`MAX_FLIGHT`] bytes, a record over the
/// protocol limit or more than [`MAX_CHAIN`] certificates give `Malformed("too large")`; more
/// than [`MAX_RECORDS`] records or [`MAX_WARNINGS`] warning alerts are malformed too.
pub fn parse_server_flight(buf: &[u8]) -> Parse<FlightOutcome> {
    FlightReader::new().parse(buf)
}

/// Incremental server-flight parser. Call [`FlightReader::parse`] with the whole buffer so far
/// each time more bytes arrive; the buffer must only grow (earlier bytes unchanged), as
/// `probe::io::read_parsed` guarantees. Work done is proportional to the bytes added.
#[derive(Debug, Default)]
pub struct FlightReader {
    /// Offset of the first record not yet consumed.
    pos: usize,
    /// Handshake bytes reassembled from the records so far, and how far they were decoded.
    hs: Vec<u8>,
    hs_pos: usize,
    flight: Option<ServerFlight>,
    records: usize,
    warnings: usize,
    /// Set once the outcome is known; later calls return it again.
    done: Option<FlightOutcome>,
    /// Bytes looked at so far (headers and bodies): the linear-work bound tests check it.
    work: usize,
}

impl FlightReader {
    pub fn new() -> FlightReader {
        FlightReader::default()
    }

    /// Bytes examined so far, counting a re-examined header each time.
    pub fn work(&self) -> usize {
        self.work
    }

    pub fn parse(&mut self, buf: &[u8]) -> Parse<FlightOutcome> {
        if let Some(d) = &self.done {
            return Parse::Done(d.clone());
        }
        let view = buf.get(..MAX_FLIGHT).unwrap_or(buf);
        match self.step(view) {
            Parse::Incomplete { need } if need > MAX_FLIGHT => {
                self.finish(FlightOutcome::Malformed("too large"))
            }
            Parse::Done(d) => self.finish(d),
            other => other,
        }
    }

    fn finish(&mut self, d: FlightOutcome) -> Parse<FlightOutcome> {
        self.done = Some(d.clone());
        Parse::Done(d)
    }

    fn step(&mut self, buf: &[u8]) -> Parse<FlightOutcome> {
        loop {
            self.work = self.work.saturating_add(RECORD_HEADER);
            let first = self.pos == 0;
            let (content_type, body, next) = match next_record(buf, self.pos) {
                RecordStep::Record {
                    content_type,
                    body,
                    next,
                } => (content_type, body, next),
                RecordStep::Incomplete(need) => return Parse::Incomplete { need },
                RecordStep::BadHeader if first => return Parse::Done(FlightOutcome::NotTls),
                RecordStep::BadHeader => {
                    return Parse::Done(FlightOutcome::Malformed("bad record header"));
                }
                RecordStep::TooLong if first => return Parse::Done(FlightOutcome::NotTls),
                RecordStep::TooLong => return Parse::Done(FlightOutcome::Malformed("too large")),
            };
            self.pos = next;
            self.records += 1;
            if self.records > MAX_RECORDS {
                return Parse::Done(FlightOutcome::Malformed("too many records"));
            }
            self.work = self.work.saturating_add(body.len());
            let step = match content_type {
                CT_ALERT => self.on_alerts(body),
                CT_HANDSHAKE => self.on_handshake(body),
                CT_CHANGE_CIPHER_SPEC | CT_APPLICATION_DATA => {
                    // Nothing more is plaintext: what was read so far is the flight.
                    Step::Done(match self.flight.take() {
                        Some(f) => FlightOutcome::Hello(f),
                        None => FlightOutcome::Malformed("unexpected record before server_hello"),
                    })
                }
                _ => Step::Done(FlightOutcome::Malformed("bad record header")),
            };
            if let Step::Done(d) = step {
                return Parse::Done(d);
            }
        }
    }

    fn on_alerts(&mut self, body: &[u8]) -> Step {
        if body.is_empty() {
            return Step::Done(FlightOutcome::Malformed("short alert"));
        }
        for pair in body.chunks(2) {
            let [level, description] = *pair else {
                return Step::Done(FlightOutcome::Malformed("short alert"));
            };
            // A warning (other than close_notify) does not end the flight, a few of them.
            if level == ALERT_WARNING && description != ALERT_CLOSE_NOTIFY {
                self.warnings += 1;
                if self.warnings > MAX_WARNINGS {
                    return Step::Done(FlightOutcome::Malformed("too many alerts"));
                }
                continue;
            }
            return Step::Done(FlightOutcome::Alert { level, description });
        }
        Step::Continue
    }

    fn on_handshake(&mut self, body: &[u8]) -> Step {
        self.hs.extend_from_slice(body);
        loop {
            self.work = self.work.saturating_add(4);
            let mut r = Reader::new(self.hs.get(self.hs_pos..).unwrap_or_default());
            let (Some(msg_type), Some(len)) = (r.u8(), r.u24()) else {
                return Step::Continue;
            };
            if len > MAX_FLIGHT {
                return Step::Done(FlightOutcome::Malformed("too large"));
            }
            let Some(msg) = r.take(len) else {
                return Step::Continue;
            };
            self.hs_pos = self.hs_pos.saturating_add(4 + len);
            if let Step::Done(d) = on_server_message(&mut self.flight, msg_type, msg) {
                return Step::Done(d);
            }
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
            if f.certificate_message {
                return Step::Done(FlightOutcome::Malformed("duplicate certificate"));
            }
            match parse_certificate_list(msg) {
                Ok(chain) => {
                    f.certificates = chain;
                    f.certificate_message = true;
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
        certificate_message: false,
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
