//! The fleet's DNS server for `FLEET_CERTS=self-signed`: a UDP responder on loopback that answers
//! every PTR query for a lab address with the name the host announces (`lab-A-B-C.lab.test`,
//! what a healthy reverse zone says), anything else with NXDOMAIN, and counts the queries, so a
//! run can say what rate it put on its resolver. A thread of this process: its CPU is not the
//! scanner's.

use std::net::UdpSocket;
use std::sync::atomic::{AtomicU64, Ordering};

use super::*;

pub(crate) struct FleetDns {
    pub(crate) addr: SocketAddr,
    queries: Arc<AtomicU64>,
}

impl FleetDns {
    pub(crate) fn start() -> FleetDns {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind the fleet DNS");
        let addr = sock.local_addr().expect("fleet DNS address");
        let queries = Arc::new(AtomicU64::new(0));
        let count = queries.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 1500];
            while let Ok((len, peer)) = sock.recv_from(&mut buf) {
                count.fetch_add(1, Ordering::Relaxed);
                if let Some(reply) = buf.get(..len).and_then(answer) {
                    let _ = sock.send_to(&reply, peer);
                }
            }
        });
        FleetDns { addr, queries }
    }

    /// Queries received so far.
    pub(crate) fn queries(&self) -> u64 {
        self.queries.load(Ordering::Relaxed)
    }
}

/// The reply to one query: the PTR name of a lab address, else NXDOMAIN (no EDNS in replies).
fn answer(q: &[u8]) -> Option<Vec<u8>> {
    let header = q.get(..12)?;
    // The question: labels up to the root, then type and class.
    let mut labels: Vec<String> = Vec::new();
    let mut at = 12;
    loop {
        let len = usize::from(*q.get(at)?);
        at += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(q.get(at..at + len)?).to_ascii_lowercase());
        at += len;
    }
    let qtype = u16::from_be_bytes([*q.get(at)?, *q.get(at + 1)?]);
    let question = q.get(12..at + 4)?;
    let ptr = (qtype == 12).then(|| ptr_target(&labels)).flatten();

    let mut r = Vec::with_capacity(128);
    r.extend_from_slice(header.get(..2)?); // id
    let rd = header.get(2)? & 0x01;
    let rcode = if ptr.is_some() { 0 } else { 3 };
    r.extend_from_slice(&[0x80 | rd, 0x80 | rcode]); // QR, RD echoed; RA, rcode
    r.extend_from_slice(&[0, 1, 0, u8::from(ptr.is_some()), 0, 0, 0, 0]);
    r.extend_from_slice(question);
    if let Some(name) = ptr {
        let mut rdata = Vec::new();
        for l in name.split('.') {
            rdata.push(u8::try_from(l.len()).ok()?);
            rdata.extend_from_slice(l.as_bytes());
        }
        rdata.push(0);
        r.extend_from_slice(&[0xC0, 0x0C, 0, 12, 0, 1, 0, 0, 0x0E, 0x10]); // PTR IN, TTL 3600
        r.extend_from_slice(&u16::try_from(rdata.len()).ok()?.to_be_bytes());
        r.extend_from_slice(&rdata);
    }
    Some(r)
}

/// `D.C.B.A.in-addr.arpa` of a lab address: the name that host announces.
fn ptr_target(labels: &[String]) -> Option<String> {
    let [d, c, b, a, arpa1, arpa2] = labels else {
        return None;
    };
    if arpa1 != "in-addr" || arpa2 != "arpa" {
        return None;
    }
    let ip: Ipv4Addr = format!("{a}.{b}.{c}.{d}").parse().ok()?;
    Some(format!(
        "{}.{}",
        rdpsweep::lab::unnamed_label(IpAddr::V4(ip)),
        rdpsweep::lab::ZONE
    ))
}
