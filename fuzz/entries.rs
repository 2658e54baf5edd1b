//! The fuzz entry points, one per parser family. Shared by the cargo-fuzz targets
//! (fuzz/fuzz_targets/*.rs) and the stable harness (tests/fuzz_props.rs), so both exercise
//! exactly the same code. Each one must return normally for every input: a panic is a finding.

#![allow(dead_code)]

use rdpsweep::cert::{TrustStore, cert_facts, ip_matches, is_weak_key, is_weak_sig, name_matches};
use rdpsweep::inventory::{InventoryOptions, Targets};
use rdpsweep::target::{parse_target_spec, spec_len};

/// X.224 CC/CR, TPKT, MCS Connect-Initial/Response with GCC blocks, TSRequest DER, NTLM
/// CHALLENGE/NEGOTIATE and AV pairs; `fuzz_all` also checks the parsers' `Incomplete` contract.
pub fn rdp(data: &[u8]) {
    rdpsweep::rdp::fuzz_all(data);
}

/// MS-RDPEUDP datagrams: the SYN+ACK reader the scanner runs on what comes back over UDP, the
/// lab's SYN reader, and that the lab's answer to any SYN it accepts parses back. The first
/// four bytes double as the ISN the reply must acknowledge.
pub fn rdpeudp(data: &[u8]) {
    rdpsweep::rdp::rdpeudp::fuzz_rdpeudp(data);
}

/// TLS records, ServerHello, Certificate, alerts (the raw legacy hello), and that the lab's
/// writers' output always parses back.
pub fn tls_legacy(data: &[u8]) {
    rdpsweep::tls::legacy::fuzz_legacy(data);
}

/// The legacy flight reader under record fragmentation: the input's handshake bytes re-split
/// into records of every size; one-shot and incremental parses must agree, the work stay
/// linear, and the outcome not change except at the record cap.
pub fn tls_reframe(data: &[u8]) {
    rdpsweep::tls::legacy::fuzz_reframed(data);
}

/// Certificate facts from arbitrary DER. The first two bytes (big-endian) say where to split the
/// rest into leaf and second certificate (0 or past the end: leaf only); the second one is also
/// tried as a trust anchor, so the chain verifier walks a real path.
pub fn cert(data: &[u8]) {
    let split = match data {
        [a, b, ..] => usize::from(u16::from_be_bytes([*a, *b])),
        _ => 0,
    };
    let rest = data.get(2..).unwrap_or_default();
    let chain: Vec<Vec<u8>> = if split == 0 || split >= rest.len() {
        vec![rest.to_vec()]
    } else {
        let (a, b) = rest.split_at(split);
        vec![a.to_vec(), b.to_vec()]
    };
    let mut trust = TrustStore::empty();
    if let Some(ca) = chain.get(1) {
        let _ = trust.add_der(ca);
    }
    let facts = cert_facts(&chain, &trust, 1_800_000_000);
    let _ = name_matches(&facts, "host.example.test");
    let _ = name_matches(&facts, "*.example.test");
    let _ = name_matches(&facts, "");
    let _ = ip_matches(&facts, std::net::IpAddr::from([127, 0, 0, 1]));
    let _ = ip_matches(&facts, std::net::IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]));
    let _ = is_weak_key(&facts);
    let _ = is_weak_sig(&facts);
    // The record must always serialise (it goes to JSON Lines).
    let _ = serde_json::to_string(&facts);
}

/// Read a whole inventory (CSV, plain list or nmap XML, sniffed from content) to its end.
fn read_inventory(name: &str, body: Vec<u8>, opts: &InventoryOptions) {
    let Ok(mut t) = Targets::from_reader(name, std::io::Cursor::new(body), opts) else {
        return;
    };
    let _ = t.extra_columns().len();
    // max_targets ends the stream with an error, so this stays bounded; `take` is a backstop.
    for item in t.by_ref().take(4096) {
        match item {
            Ok(target) => {
                let _ = serde_json::to_string(&target.info);
            }
            Err(_) if !opts.skip_bad_lines => break,
            Err(_) => {}
        }
    }
    let _ = t.take_warnings();
}

/// Whole inventories. The first byte picks --skip-bad-lines (bit 0) and a small --max-targets
/// (the other bits), so CIDR expansion stays cheap.
pub fn inventory(data: &[u8]) {
    let (flags, body) = match data.split_first() {
        Some((f, b)) => (*f, b),
        None => (0, data),
    };
    let opts = InventoryOptions {
        default_port: 3389,
        max_targets: 1 + u64::from(flags >> 1) * 4,
        skip_bad_lines: flags & 1 == 1,
    };
    read_inventory("fuzz.csv", body.to_vec(), &opts);
}

/// nmap -oX documents: the input always starts with `<` so the reader takes the XML path; the
/// first byte's low bit picks --skip-bad-lines.
pub fn nmap(data: &[u8]) {
    let skip = data.first().is_some_and(|b| b & 1 == 1);
    let mut doc = Vec::with_capacity(data.len() + 1);
    if data.first() != Some(&b'<') {
        doc.push(b'<');
    }
    doc.extend_from_slice(data);
    let opts = InventoryOptions {
        default_port: 3389,
        max_targets: 512,
        skip_bad_lines: skip,
    };
    read_inventory("fuzz.xml", doc, &opts);
}

/// One target spec (name, IP, host:port, [v6]:port, CIDR, range) and its expansion size.
pub fn target_spec(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(spec) = parse_target_spec(s) {
        let _ = spec_len(&spec);
        let _ = spec.port();
    }
}
