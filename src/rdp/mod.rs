//! Pure RDP codecs: TPKT + X.224 + RDP_NEG_* (`x224`), MCS/GCC (`mcs`),
//! CredSSP TSRequest (`credssp`), NTLM (`ntlm`) and the MS-RDPEUDP SYN/SYN+ACK (`rdpeudp`).
//!
//! No I/O, no async. Every parser takes `&[u8]`, never panics, and allocates only in
//! proportion to bytes actually present (never to a length the peer declares).
//! These are hand-written rather than built on a PDU crate because a scanner must keep
//! malformed or unknown replies as outcomes (a strict decoder would only say "error"),
//! and must decide as early as possible from a partial buffer.

pub mod credssp;
pub mod mcs;
pub mod ntlm;
pub mod rdpeudp;
pub mod x224;

/// Incremental parse result: the caller reads more bytes until `Done`.
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

// Checked little helpers for fixed-width fields: `None` when the field is not fully present.

pub(crate) fn be_u16(buf: &[u8], off: usize) -> Option<u16> {
    let b: [u8; 2] = buf.get(off..off.checked_add(2)?)?.try_into().ok()?;
    Some(u16::from_be_bytes(b))
}

pub(crate) fn le_u16(buf: &[u8], off: usize) -> Option<u16> {
    let b: [u8; 2] = buf.get(off..off.checked_add(2)?)?.try_into().ok()?;
    Some(u16::from_le_bytes(b))
}

pub(crate) fn le_u32(buf: &[u8], off: usize) -> Option<u32> {
    let b: [u8; 4] = buf.get(off..off.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(b))
}

pub(crate) fn le_u64(buf: &[u8], off: usize) -> Option<u64> {
    let b: [u8; 8] = buf.get(off..off.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(b))
}

/// Feed `data` to every parser in this module (fuzz targets and the property test).
///
/// Panics only when a parser breaks its own contract (an `Incomplete` that asks for no
/// more bytes than were given, or more than the cap), which is what a fuzzer should catch.
pub fn fuzz_all(data: &[u8]) {
    fn check<T>(p: &Parse<T>, len: usize, cap: usize, what: &str) {
        if let Parse::Incomplete { need } = p {
            assert!(*need > len, "{what}: need {need} <= input {len}");
            assert!(*need <= cap, "{what}: need {need} > cap {cap}");
        }
    }
    let n = data.len();

    let p = x224::parse_confirm(data);
    check(&p, n, x224::MAX_TPKT, "parse_confirm");
    if let Parse::Done(x224::Confirm::NotRdp(h)) = &p {
        let _ = h.as_str();
    }
    let _ = x224::NotRdpHint::from_bytes(data).as_str();
    check(
        &x224::parse_connection_request(data),
        n,
        x224::MAX_TPKT,
        "parse_connection_request",
    );
    check(&x224::read_tpkt(data), n, x224::MAX_TPKT, "read_tpkt");

    check(
        &mcs::parse_connect_response(data),
        n,
        x224::MAX_TPKT,
        "parse_connect_response",
    );
    check(
        &mcs::parse_connect_initial(data),
        n,
        x224::MAX_TPKT,
        "parse_connect_initial",
    );

    let ts = credssp::parse_ts_request(data);
    check(&ts, n, credssp::MAX_TS_REQUEST, "parse_ts_request");
    if let Parse::Done(Ok(req)) = &ts {
        for tok in &req.nego_tokens {
            let _ = ntlm::find_challenge(tok);
        }
    }

    if let Ok(c) = ntlm::find_challenge(data) {
        let _ = c.version.map(|v| v.os_name());
        let _ = c.timestamp.map(ntlm::filetime_to_unix);
    }
    let _ = ntlm::parse_challenge(data);
    let _ = ntlm::parse_negotiate(data);

    // Interpret the first bytes as the numeric codes the name tables accept.
    let w = le_u32(data, 0).unwrap_or(0);
    let _ = x224::protocol_names(w);
    let _ = x224::protocol_name(w);
    let _ = x224::neg_flag_names(data.first().copied().unwrap_or(0));
    let _ = x224::FailureCode(w).name();
    let _ = mcs::encryption_method_name(w);
    let _ = mcs::encryption_level_name(w);
    let _ = mcs::rdp_version_name(w);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    #[test]
    fn helpers_bounds() {
        let b = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08];
        assert_eq!(be_u16(&b, 0), Some(0x0102));
        assert_eq!(le_u16(&b, 6), Some(0x0807));
        assert_eq!(le_u16(&b, 7), None);
        assert_eq!(le_u32(&b, 4), Some(0x0807_0605));
        assert_eq!(le_u32(&b, 5), None);
        assert_eq!(le_u64(&b, 0), Some(0x0807_0605_0403_0201));
        assert_eq!(le_u64(&b, 1), None);
        assert_eq!(le_u32(&b, usize::MAX), None);
        assert_eq!(be_u16(&b, usize::MAX - 1), None);
    }

    /// Valid messages of every kind, to be mutated.
    fn fixtures() -> Vec<Vec<u8>> {
        let spec = ntlm::ChallengeSpec {
            target_name: "VM".into(),
            nb_computer: "VM".into(),
            nb_domain: "VM".into(),
            dns_computer: "vm".into(),
            dns_domain: "vm".into(),
            dns_tree: String::new(),
            timestamp: 133_000_000_000_000_000,
            version: ntlm::NtlmVersion {
                major: 6,
                minor: 1,
                build: 7601,
            },
            flags: 0xE288_8297,
        };
        let chal = ntlm::challenge_message(&spec);
        vec![
            x224::connection_request(0x0B, Some("probe")),
            x224::connection_confirm(&x224::ConfirmSpec::Selected {
                protocol: 2,
                flags: x224::NegRspFlags::from_bits_retain(3),
            }),
            x224::connection_confirm(&x224::ConfirmSpec::Failure(x224::FailureCode(5))),
            x224::connection_confirm(&x224::ConfirmSpec::Legacy),
            vec![0x03, 0x00, 0x00, 0x09, 0x02, 0xF0, 0x80, 0x21, 0x80],
            mcs::connect_initial(0x1B, 0),
            mcs::connect_response(&mcs::ResponseSpec {
                result: 0,
                server_version: 0x0008_000C,
                client_requested_protocols: 0,
                encryption_method: 2,
                encryption_level: 2,
            }),
            credssp::ts_request_with_token(6, &ntlm::negotiate_message()),
            credssp::ts_request_with_token(6, &chal),
            credssp::ts_request_error(6, 0xC000_006D),
            chal,
            ntlm::negotiate_message().to_vec(),
        ]
    }

    #[test]
    fn fuzz_all_on_fixtures_and_their_prefixes() {
        for f in fixtures() {
            for end in 0..=f.len() {
                fuzz_all(f.get(..end).unwrap_or_default());
            }
        }
    }

    #[test]
    fn fuzz_all_random_and_mutated() {
        let mut rng = StdRng::seed_from_u64(0x5eed_0904_0007);
        let fixtures = fixtures();
        for round in 0..4000u32 {
            let data: Vec<u8> = if round % 4 == 0 {
                // Pure noise, sometimes starting with a plausible first byte.
                let len = rng.random_range(0..300usize);
                let mut v: Vec<u8> = (0..len).map(|_| rng.random()).collect();
                if let Some(b) = v.first_mut() {
                    *b = [0x03, 0x30, 0x4E, 0x16, *b][rng.random_range(0..5usize)];
                }
                v
            } else {
                let base = &fixtures[rng.random_range(0..fixtures.len())];
                let mut v = base.clone();
                for _ in 0..rng.random_range(1..6u32) {
                    if v.is_empty() {
                        v.push(rng.random());
                        continue;
                    }
                    let at = rng.random_range(0..v.len());
                    match rng.random_range(0..6u32) {
                        // Flip one bit.
                        0 => v[at] ^= 1 << rng.random_range(0..8u32),
                        // Replace a byte with a boundary value (lengths, tags).
                        1 => {
                            v[at] = [0x00, 0x7F, 0x80, 0x81, 0x82, 0x84, 0xFF]
                                [rng.random_range(0..7usize)]
                        }
                        // Truncate.
                        2 => v.truncate(at),
                        // Insert a random byte.
                        3 => v.insert(at, rng.random()),
                        // Delete a byte.
                        4 => {
                            v.remove(at);
                        }
                        // Append noise.
                        _ => {
                            v.extend((0..rng.random_range(1..40usize)).map(|_| rng.random::<u8>()))
                        }
                    }
                }
                v
            };
            fuzz_all(&data);
        }
    }

    #[test]
    fn fuzz_all_survives_huge_declared_lengths() {
        // TPKT declaring 0xFFFF bytes, DER declaring 4 GiB, NTLM fields pointing far away.
        fuzz_all(&[0x03, 0x00, 0xFF, 0xFF, 0x02, 0xF0, 0x80, 0x7F, 0x66, 0x84]);
        fuzz_all(&[0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF, 0xA0]);
        let mut ntlm = b"NTLMSSP\0\x02\0\0\0".to_vec();
        ntlm.extend([0xFF; 60]);
        fuzz_all(&ntlm);
    }
}
