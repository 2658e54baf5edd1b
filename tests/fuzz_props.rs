//! Stable fuzz harness: every parser entry point (fuzz/entries.rs, shared with the cargo-fuzz
//! targets) is fed its seed corpus, every prefix of each seed, and deterministic mutations of the
//! seeds (bit flips, boundary values in length fields, truncation, insertion, splicing, text
//! tokens). A panic is a finding: the input is written to `target/fuzz-findings/` and the test
//! fails naming it.
//!
//! In `cargo test` each target runs a brief smoke (a few hundred inputs). Long runs:
//!
//! ```sh
//! RDPSWEEP_FUZZ_SECS=600 nice -n 19 cargo test --release --test fuzz_props -- --nocapture
//! ```
//!
//! (`RDPSWEEP_FUZZ_ITERS=N` fixes the count instead; `RDPSWEEP_FUZZ_SEED=N` changes the stream.)
//! The seed corpus for `cargo fuzz` is written by the ignored test `write_seed_corpus`
//! (`RDPSWEEP_FUZZ_CORPUS=fuzz/corpus cargo test --test fuzz_props -- --ignored write_seed_corpus`).
//! Crashes found by either harness are kept as regression inputs in
//! `tests/fixtures/fuzz-seeds/<target>/`, which every run replays.

#[path = "../fuzz/entries.rs"]
mod entries;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rdpsweep::rdp::{credssp, mcs, ntlm, x224};
use rdpsweep::tls::legacy::{self, TlsVersion};

type Entry = fn(&[u8]);

const MANIFEST: &str = env!("CARGO_MANIFEST_DIR");

/// Smoke iterations per target in a normal `cargo test` (keeps the whole file to seconds).
const SMOKE_ITERS: u64 = 400;

// ---------------------------------------------------------------------------------------------
// Seeds: valid messages of every kind, built with the crate's own writers and the fixtures.

fn challenge(spec_name: &str) -> Vec<u8> {
    ntlm::challenge_message(&ntlm::ChallengeSpec {
        target_name: spec_name.into(),
        nb_computer: spec_name.into(),
        nb_domain: "CORP".into(),
        dns_computer: format!("{}.corp.example", spec_name.to_lowercase()),
        dns_domain: "corp.example".into(),
        dns_tree: "corp.example".into(),
        timestamp: 133_000_000_000_000_000,
        version: ntlm::NtlmVersion {
            major: 10,
            minor: 0,
            build: 20348,
        },
        flags: 0xE288_8297,
    })
}

/// A Connect-Response whose GCC blocks are replaced by `blocks` (and the PER length fixed up).
fn response_with_blocks(blocks: &[u8]) -> Vec<u8> {
    let base = mcs::connect_response(&mcs::ResponseSpec {
        result: 0,
        server_version: 0x0008_0004,
        client_requested_protocols: 0,
        encryption_method: 0,
        encryption_level: 0,
    });
    let at = base
        .windows(4)
        .position(|w| w == b"McDn")
        .expect("McDn in our own response")
        + 4;
    let mut out = base[..at].to_vec();
    out.push(u8::try_from(blocks.len()).expect("small test blocks")); // PER length, short form
    out.extend_from_slice(blocks);
    // TPKT length (bytes 2..4) must cover the new frame.
    let len = u16::try_from(out.len()).expect("small frame");
    out[2..4].copy_from_slice(&len.to_be_bytes());
    out
}

fn rdp_seeds() -> Vec<Vec<u8>> {
    let chal = challenge("SRV01");
    // CHALLENGE with TargetInfo's offset (bytes 44..48) pointing far past the end.
    let mut bad_offsets = chal.clone();
    bad_offsets[44..48].copy_from_slice(&0xFFFF_FF00u32.to_le_bytes());
    vec![
        x224::connection_request(0x0B, None),
        x224::connection_request(0x00, Some("probe")),
        x224::connection_confirm(&x224::ConfirmSpec::Selected {
            protocol: 2,
            flags: x224::NegRspFlags::from_bits_retain(0x1F),
        }),
        x224::connection_confirm(&x224::ConfirmSpec::Selected {
            protocol: 8,
            flags: x224::NegRspFlags::from_bits_retain(0),
        }),
        x224::connection_confirm(&x224::ConfirmSpec::Failure(x224::FailureCode(5))),
        x224::connection_confirm(&x224::ConfirmSpec::Legacy),
        // xrdp's MCS Disconnect-Provider-Ultimatum in an X.224 DT.
        vec![0x03, 0x00, 0x00, 0x09, 0x02, 0xF0, 0x80, 0x21, 0x80],
        b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec(),
        b"SSH-2.0-OpenSSH_9.2\r\n".to_vec(),
        mcs::connect_initial(0x1B, 0),
        mcs::connect_response(&mcs::ResponseSpec {
            result: 0,
            server_version: 0x0008_000C,
            client_requested_protocols: 0,
            encryption_method: 2,
            encryption_level: 2,
        }),
        // SC_CORE with length 0, then SC_SECURITY: the walk must stop, not spin.
        response_with_blocks(&[
            0x01, 0x0C, 0x00, 0x00, 0x02, 0x0C, 0x0C, 0x00, 1, 0, 0, 0, 2, 0, 0, 0,
        ]),
        credssp::ts_request_with_token(6, &ntlm::negotiate_message()),
        credssp::ts_request_with_token(6, &chal),
        credssp::ts_request_with_token(3, &bad_offsets),
        credssp::ts_request_error(6, 0xC000_006D),
        chal,
        bad_offsets,
        ntlm::negotiate_message().to_vec(),
    ]
}

fn pem_ders(file: &str) -> Vec<Vec<u8>> {
    let text = std::fs::read(Path::new(MANIFEST).join("tests/fixtures").join(file))
        .expect("fixture readable");
    rustls_pemfile::certs(&mut text.as_slice())
        .filter_map(Result::ok)
        .map(|c| c.as_ref().to_vec())
        .collect()
}

/// Certificates: the committed fixtures, and rcgen-made ones (CA + leaf with DNS and IP SANs,
/// ECDSA self-signed) so the chain path has a real issuer.
fn cert_ders() -> Vec<Vec<u8>> {
    let mut out = vec![
        std::fs::read(Path::new(MANIFEST).join("tests/fixtures/lab-weak-rsa1024-sha1.der"))
            .expect("fixture"),
    ];
    for f in ["rsa1024.pem", "rsa2048.pem", "sha1-leaf.pem"] {
        out.extend(pem_ders(f));
    }
    let ca_key = rcgen::KeyPair::generate().expect("key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Fuzz CA");
    let ca = ca_params.self_signed(&ca_key).expect("ca");
    let leaf_key = rcgen::KeyPair::generate().expect("key");
    let mut leaf_params = rcgen::CertificateParams::new(vec![
        "host.example.test".to_string(),
        "*.example.test".to_string(),
        "127.0.0.1".to_string(),
    ])
    .expect("params");
    leaf_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "host.example.test");
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).expect("leaf");
    out.push(leaf.der().to_vec());
    out.push(ca.der().to_vec());
    out
}

/// Cert entry inputs: a two-byte split point, then leaf (and CA).
fn cert_seeds() -> Vec<Vec<u8>> {
    let ders = cert_ders();
    let mut out: Vec<Vec<u8>> = ders
        .iter()
        .map(|d| {
            let mut v = vec![0, 0]; // split 0: leaf only
            v.extend_from_slice(d);
            v
        })
        .collect();
    // The rcgen leaf and its CA as a chain (the last two).
    if let [.., leaf, ca] = ders.as_slice() {
        let split = u16::try_from(leaf.len()).expect("small cert");
        let mut v = split.to_be_bytes().to_vec();
        v.extend_from_slice(leaf);
        v.extend_from_slice(ca);
        out.push(v);
    }
    out
}

fn tls_seeds() -> Vec<Vec<u8>> {
    let ders = cert_ders();
    let weak = ders.first().cloned().unwrap_or_default();
    vec![
        legacy::server_flight(TlsVersion::TLS10, 0x002F, std::slice::from_ref(&weak)),
        legacy::server_flight(TlsVersion::TLS12, 0xC02F, &ders[ders.len() - 2..]),
        legacy::client_hello(TlsVersion::TLS10, TlsVersion::TLS12, [7; 32]),
        legacy::client_hello(TlsVersion::TLS13, TlsVersion::TLS13, [0; 32]),
        // Alert record: handshake_failure (40), fatal.
        vec![0x16 - 1, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28],
        // A record header announcing 16 KiB of handshake, nothing after it.
        vec![0x16, 0x03, 0x03, 0x40, 0x00],
        // No certificate: an empty Certificate message; ServerHello then ChangeCipherSpec.
        legacy::server_flight(TlsVersion::TLS12, 0x002F, &[]),
        {
            let f = legacy::server_flight(TlsVersion::TLS12, 0x002F, &[]);
            let sh = 4 + usize::from(u16::from_be_bytes([f[7], f[8]]));
            let mut v = vec![0x16, 0x03, 0x03, 0x00, sh as u8];
            v.extend_from_slice(&f[5..5 + sh]);
            v.extend_from_slice(&[0x14, 0x03, 0x03, 0x00, 0x01, 0x01]);
            v
        },
        // TLS 1.3 ServerHello (supported_versions 0x0304).
        legacy::server_flight(TlsVersion::TLS13, 0x1301, &[]),
        // Warning alerts (unrecognized_name) ahead of a flight, and in 1-byte records.
        {
            let mut v = [0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x70].repeat(5);
            v.extend(legacy::server_flight(
                TlsVersion::TLS12,
                0x002F,
                &[vec![0xC3]],
            ));
            v
        },
        reframe_handshake(
            &legacy::server_flight(TlsVersion::TLS12, 0x002F, &[vec![0x30; 40]]),
            1,
        ),
    ]
}

/// The record-fragmenting mutation: handshake records' bytes (up to the first record of
/// another type or the first unparsable header) re-split into records of `size`; the rest kept.
fn reframe_handshake(v: &[u8], size: usize) -> Vec<u8> {
    let mut hs = Vec::new();
    let mut pos = 0;
    let mut version = [3, 3];
    while let Some(h) = v.get(pos..pos + 5) {
        let len = usize::from(u16::from_be_bytes([h[3], h[4]]));
        if h[0] != 0x16 || pos + 5 + len > v.len() {
            break;
        }
        version = [h[1], h[2]];
        hs.extend_from_slice(&v[pos + 5..pos + 5 + len]);
        pos += 5 + len;
    }
    let mut out = Vec::new();
    for chunk in hs.chunks(size.max(1)) {
        out.extend_from_slice(&[0x16, version[0], version[1]]);
        out.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&v[pos..]);
    out
}

fn read_fixture(rel: &str) -> Vec<u8> {
    std::fs::read(Path::new(MANIFEST).join(rel)).expect("fixture readable")
}

/// Inventory bodies (without the option byte).
fn inventory_bodies() -> Vec<Vec<u8>> {
    vec![
        read_fixture("inventories/fleet.csv"),
        read_fixture("inventories/subnets.txt"),
        read_fixture("inventories/nmap-discovery.xml"),
        b"\xEF\xBB\xBFhost,port,site\r\nts01.corp.example,3390,lon\r\n10.0.0.1,,par\r\n".to_vec(),
        b"Host;Port;Owner;Ticket\n\"ts02\";3389;\"a;b\";=1+1\n".to_vec(),
        b"host\towner\nts03\tops\n[2001:db8::1]:3390\tops\n".to_vec(),
        b"# fleet\n\n10.1.2.0/30\n10.1.3.10-12\n192.0.2.1:3390\nts04.corp.example\n::1\n".to_vec(),
        b"name,port\nts05,3389\n".to_vec(),
        b"host,host\na,b\n".to_vec(),
        b"\xFF\xFEh\x00o\x00s\x00t\x00".to_vec(),
    ]
}

fn inventory_seeds() -> Vec<Vec<u8>> {
    inventory_bodies()
        .into_iter()
        .flat_map(|b| {
            // Option byte: 0x40 = max 129 targets, strict; 0x41 = the same with skip-bad-lines.
            [0x40u8, 0x41].map(|f| {
                let mut v = vec![f];
                v.extend_from_slice(&b);
                v
            })
        })
        .collect()
}

fn nmap_seeds() -> Vec<Vec<u8>> {
    vec![
        read_fixture("inventories/nmap-discovery.xml"),
        br#"<?xml version="1.0"?><!DOCTYPE nmaprun><nmaprun><host><status state="up"/><address addr="192.0.2.9" addrtype="ipv4"/><hostnames><hostname name="ts09.corp.example" type="user"/></hostnames><ports><port protocol="tcp" portid="3390"><state state="open"/><service name="ms-wbt-server"/></port></ports></host></nmaprun>"#.to_vec(),
        br#"<nmaprun><host><address addr="2001:db8::9" addrtype="ipv6"/></host><host><status state="down"/></host></nmaprun>"#.to_vec(),
    ]
}

fn target_spec_seeds() -> Vec<Vec<u8>> {
    [
        "ts01.corp.example",
        "ts01.corp.example:3390",
        "10.1.2.3",
        "10.1.2.3:3389",
        "10.1.2.0/24",
        "10.1.2.7/31:3390",
        "10.1.2.10-40",
        "10.1.2.10-10.1.3.20",
        "[2001:db8::1]:3390",
        "2001:db8::/126",
        "2001:db8::1-2001:db8::ff",
        "::1",
        "0.0.0.0/0",
        "::/0",
        "rdp://host",
        "host:99999",
        "xn--bcher-kva.example",
        "a..b",
        "-host",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

/// RDP-UDP datagrams: the SYN the scanner sends, SYN+ACKs (the spec's example, the lab's,
/// with a version and a correlation ID), and short or odd-flagged ones.
fn rdpeudp_seeds() -> Vec<Vec<u8>> {
    use rdpsweep::rdp::rdpeudp::{self, Syn};
    let syn = rdpeudp::syn_datagram(&Syn {
        isn: 0x1122_3344,
        receive_window: 64,
        mtu: 1232,
        version: Some(rdpeudp::VERSION_2),
    });
    let parsed = rdpeudp::parse_syn(&syn).expect("own SYN parses");
    let lab = rdpeudp::syn_ack_datagram(&parsed, 0x5566_7788, 64, rdpeudp::VERSION_2);
    let mut spec = vec![
        0x00, 0x00, 0x00, 0x42, 0x04, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x42, 0x04, 0xD0, 0x04,
        0xD0,
    ];
    spec.resize(1232, 0);
    // SYN|ACK|CORRELATION_ID|SYNEX, with the 32-byte correlation payload before SYNDATAEX.
    let mut corr = lab.clone();
    corr[6..8].copy_from_slice(&[0x18, 0x05]);
    corr[16..48].fill(0x5A);
    corr[48..52].copy_from_slice(&[0x00, 0x01, 0x01, 0x01]);
    vec![
        syn.clone(),
        syn[..20].to_vec(),
        lab.clone(),
        lab[..16].to_vec(),
        spec,
        corr,
        vec![0xFF; 16],
    ]
}

struct Target {
    name: &'static str,
    entry: Entry,
    seeds: fn() -> Vec<Vec<u8>>,
    /// Text formats get text tokens in mutations.
    text: bool,
    /// Max input length the mutator grows to.
    max_len: usize,
}

const TARGETS: &[Target] = &[
    Target {
        name: "rdp",
        entry: entries::rdp,
        seeds: rdp_seeds,
        text: false,
        max_len: 4096,
    },
    Target {
        name: "rdpeudp",
        entry: entries::rdpeudp,
        seeds: rdpeudp_seeds,
        text: false,
        max_len: 2048,
    },
    Target {
        name: "tls_legacy",
        entry: entries::tls_legacy,
        seeds: tls_seeds,
        text: false,
        max_len: 8192,
    },
    Target {
        name: "tls_reframe",
        entry: entries::tls_reframe,
        seeds: tls_seeds,
        text: false,
        // Every record size up to 96 is tried per input: keep inputs to flight-sized.
        max_len: 4096,
    },
    Target {
        name: "cert",
        entry: entries::cert,
        seeds: cert_seeds,
        text: false,
        max_len: 8192,
    },
    Target {
        name: "inventory",
        entry: entries::inventory,
        seeds: inventory_seeds,
        text: true,
        max_len: 8192,
    },
    Target {
        name: "nmap",
        entry: entries::nmap,
        seeds: nmap_seeds,
        text: true,
        max_len: 16384,
    },
    Target {
        name: "target_spec",
        entry: entries::target_spec,
        seeds: target_spec_seeds,
        text: true,
        max_len: 256,
    },
];

fn target(name: &str) -> &'static Target {
    TARGETS
        .iter()
        .find(|t| t.name == name)
        .expect("known target")
}

// ---------------------------------------------------------------------------------------------
// Mutation.

const TEXT_TOKENS: &[&[u8]] = &[
    b",",
    b";",
    b"\t",
    b"\n",
    b"\r\n",
    b"\"",
    b"\"\"",
    b"#",
    b":",
    b"/",
    b"-",
    b".",
    b"[",
    b"]",
    b"::",
    b"%",
    b"\xEF\xBB\xBF",
    b"\xE9",
    b"\0",
    b"/0",
    b"/32",
    b"/128",
    b"-255.255.255.255",
    b"0.0.0.0",
    b"ffff::",
    b":65535",
    b":0",
    b"host",
    b"port",
    b"expect_ip",
    b"<host>",
    b"</host>",
    b"<address addr=\"",
    b"\"/>",
    b"<port portid=\"",
    b"<!ENTITY a \"aaaa\">",
    b"&a;",
    b"<![CDATA[",
    b"]]>",
];

/// Values that sit on parser boundaries: DER/BER length forms, TPKT version, tags, maxima.
const BOUNDARY_BYTES: &[u8] = &[
    0x00, 0x01, 0x02, 0x03, 0x04, 0x30, 0x7F, 0x80, 0x81, 0x82, 0x83, 0x84, 0xA0, 0xFE, 0xFF,
];

fn mutate(rng: &mut StdRng, pool: &[Vec<u8>], t: &Target) -> Vec<u8> {
    let mut v = pool[rng.random_range(0..pool.len())].clone();
    let rounds = 1 + rng.random_range(0..8u32);
    for _ in 0..rounds {
        if t.name.starts_with("tls") && rng.random_ratio(1, 6) {
            // Same bytes, other record boundaries: 1..=64, weighted to the tiny sizes.
            let size = 1 + rng.random_range(0..64usize) % (1 + rng.random_range(0..64usize));
            v = reframe_handshake(&v, size);
            continue;
        }
        if v.is_empty() {
            v.push(rng.random());
            continue;
        }
        let at = rng.random_range(0..v.len());
        match rng.random_range(0..11u32) {
            0 => v[at] ^= 1 << rng.random_range(0..8u32),
            1 => v[at] = BOUNDARY_BYTES[rng.random_range(0..BOUNDARY_BYTES.len())],
            2 => v.truncate(at),
            3 => v.insert(at, rng.random()),
            4 => {
                v.remove(at);
            }
            5 => {
                // A 16- or 32-bit field set to a boundary value, either byte order.
                let val: u32 = [0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0xFFFF, 0xFFFF_FFFF]
                    [rng.random_range(0..9usize)];
                let width = if rng.random() { 2 } else { 4 };
                let bytes = if rng.random() {
                    val.to_be_bytes()
                } else {
                    val.to_le_bytes()
                };
                let src = if rng.random() && width == 2 {
                    &bytes[2..]
                } else {
                    &bytes[4 - width..]
                };
                for (i, b) in src.iter().enumerate() {
                    if let Some(d) = v.get_mut(at + i) {
                        *d = *b;
                    }
                }
            }
            6 => {
                // Duplicate a chunk (repeated blocks, overlapping structures).
                let end = (at + 1 + rng.random_range(0..64usize)).min(v.len());
                let chunk = v[at..end].to_vec();
                let to = rng.random_range(0..=v.len());
                v.splice(to..to, chunk);
            }
            7 => {
                // Splice the tail of another seed.
                let other = &pool[rng.random_range(0..pool.len())];
                if !other.is_empty() {
                    let from = rng.random_range(0..other.len());
                    v.truncate(at);
                    v.extend_from_slice(&other[from..]);
                }
            }
            8 if t.text => {
                let tok = TEXT_TOKENS[rng.random_range(0..TEXT_TOKENS.len())];
                v.splice(at..at, tok.iter().copied());
            }
            9 => {
                let n = rng.random_range(1..32usize);
                v.splice(at..at, (0..n).map(|_| rng.random::<u8>()));
            }
            _ => {
                // Overwrite a run with one byte (long lines, zero fields).
                let b = if t.text { b'a' } else { rng.random() };
                let end = (at + rng.random_range(1..256usize)).min(v.len());
                v[at..end].fill(b);
            }
        }
    }
    v.truncate(t.max_len);
    v
}

// ---------------------------------------------------------------------------------------------
// Running.

fn findings_dir() -> PathBuf {
    Path::new(MANIFEST).join("target/fuzz-findings")
}

/// Run one input; on panic, save it and fail with its file name and a hex excerpt.
fn run_one(t: &Target, data: &[u8]) {
    let entry = t.entry;
    let result = std::panic::catch_unwind(|| entry(data));
    if result.is_err() {
        let dir = findings_dir().join(t.name);
        let _ = std::fs::create_dir_all(&dir);
        let name = format!("crash-{}", hex::encode(sha_prefix(data)));
        let path = dir.join(&name);
        let _ = std::fs::write(&path, data);
        let shown = hex::encode(&data[..data.len().min(64)]);
        panic!(
            "{}: input of {} bytes panicked; saved to {} (starts {shown})",
            t.name,
            data.len(),
            path.display()
        );
    }
}

fn sha_prefix(data: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(data)[..8].to_vec()
}

/// Regression inputs kept in tests/fixtures/fuzz-seeds/<target>/.
fn regression_inputs(name: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(MANIFEST)
        .join("tests/fixtures/fuzz-seeds")
        .join(name);
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    files.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

enum Budget {
    Iters(u64),
    Time(Duration),
}

fn budget() -> Budget {
    if let Some(s) = std::env::var("RDPSWEEP_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        return Budget::Time(Duration::from_secs(s));
    }
    let n = std::env::var("RDPSWEEP_FUZZ_ITERS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(SMOKE_ITERS);
    Budget::Iters(n)
}

fn fuzz(name: &str) {
    let t = target(name);
    let mut pool = (t.seeds)();
    pool.extend(regression_inputs(name));
    assert!(!pool.is_empty());
    let start = Instant::now();
    let mut execs = 0u64;
    let mut slowest = (Duration::ZERO, 0usize);
    // Seeds and their prefixes: the incremental parsers see each cut point.
    for s in &pool {
        run_one(t, s);
        execs += 1;
        // Every cut in the first 256 bytes, then every 13th (big text seeds stay cheap).
        for end in (0..s.len().min(256)).chain((256..s.len()).step_by(13)) {
            run_one(t, &s[..end]);
            execs += 1;
        }
    }
    let seed: u64 = std::env::var("RDPSWEEP_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x0904_0007);
    // Each target gets its own stream, independent of test order.
    let mut rng = StdRng::seed_from_u64(
        seed ^ u64::from(
            name.bytes()
                .fold(0u32, |a, b| a.wrapping_mul(31).wrapping_add(u32::from(b))),
        ),
    );
    let budget = budget();
    let mut i = 0u64;
    loop {
        match budget {
            Budget::Iters(n) if i >= n => break,
            Budget::Time(d) if i % 64 == 0 && start.elapsed() >= d => break,
            _ => {}
        }
        let input = mutate(&mut rng, &pool, t);
        let t0 = Instant::now();
        run_one(t, &input);
        let took = t0.elapsed();
        if took > slowest.0 {
            slowest = (took, input.len());
        }
        execs += 1;
        i += 1;
    }
    eprintln!(
        "fuzz {name}: {execs} executions in {:.1}s, slowest {:?} ({} bytes), no panic",
        start.elapsed().as_secs_f64(),
        slowest.0,
        slowest.1
    );
}

#[test]
fn fuzz_rdp() {
    fuzz("rdp");
}

#[test]
fn fuzz_rdpeudp() {
    fuzz("rdpeudp");
}

#[test]
fn fuzz_tls_legacy() {
    fuzz("tls_legacy");
}

#[test]
fn fuzz_tls_reframe() {
    fuzz("tls_reframe");
}

#[test]
fn fuzz_cert() {
    fuzz("cert");
}

#[test]
fn fuzz_inventory() {
    fuzz("inventory");
}

#[test]
fn fuzz_nmap() {
    fuzz("nmap");
}

#[test]
fn fuzz_target_spec() {
    fuzz("target_spec");
}

/// The seed corpus for `cargo fuzz run <target> fuzz/corpus/<target>`.
#[test]
#[ignore = "writes files; run by hand before a cargo-fuzz session"]
fn write_seed_corpus() {
    let root = std::env::var("RDPSWEEP_FUZZ_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(MANIFEST).join("fuzz/corpus"));
    for t in TARGETS {
        let dir = root.join(t.name);
        std::fs::create_dir_all(&dir).expect("corpus dir");
        for s in (t.seeds)() {
            std::fs::write(
                dir.join(format!("seed-{}", hex::encode(sha_prefix(&s)))),
                &s,
            )
            .expect("write seed");
        }
    }
}
