//! A small authoritative DNS server for `lab.test` (UDP and TCP), built on hickory-proto's Message
//! types. Besides every named host's A record it serves names that exercise each DNS failure:
//!
//! | name | answer |
//! |---|---|
//! | `nxdomain.lab.test`, any unknown name in the zone | NXDOMAIN (SOA in authority) |
//! | `nodata.lab.test` | exists with a TXT record only: NOERROR, empty, for A/AAAA |
//! | `servfail.lab.test` | SERVFAIL |
//! | `refused.lab.test` | REFUSED |
//! | `silent.lab.test` | never answered |
//! | `alias.lab.test` | CNAME to a healthy host (plus its A record) |
//! | `multi.lab.test` | two A records: a healthy host and a closed one |
//! | `wrongip.lab.test` | A record of a healthy host; the inventory's expect_ip names another |
//!
//! Names outside the zone are REFUSED (the lab is not a resolver). Hosts have no AAAA records:
//! AAAA queries for them get NOERROR with an empty answer.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{CNAME, SOA, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::timeout;

use super::{Behavior, DnsRow, LabHost, NlaMode, RdpPolicy, TlsMode, ZONE};
use crate::model::FindingCode;

const TTL: u32 = 60;

#[derive(Debug, Clone)]
enum Entry {
    A(Vec<Ipv4Addr>),
    Cname(String),
    TxtOnly,
    Rcode(ResponseCode),
    Silent,
}

/// The zone's contents: lower-case FQDN without the trailing dot -> entry.
#[derive(Debug, Clone)]
pub(super) struct Zone {
    entries: HashMap<String, Entry>,
}

fn healthy(b: &Behavior) -> bool {
    matches!(b, Behavior::Rdp(h) if h.policy == RdpPolicy::WindowsNla
        && h.cert == super::CertKind::Valid && h.tls == TlsMode::Normal && h.nla == NlaMode::Patched)
}

impl Zone {
    /// The zone for `hosts`; `spare` is an address with no listener (used when the fleet has no
    /// closed host). Also returns the inventory rows of the special names.
    pub(super) fn build(hosts: &[LabHost], spare: Ipv4Addr) -> (Zone, Vec<DnsRow>) {
        let v4 = |ip: IpAddr| match ip {
            IpAddr::V4(a) => Some(a),
            IpAddr::V6(_) => None,
        };
        let mut entries = HashMap::new();
        for h in hosts {
            if let (Some(n), Some(a)) = (&h.name, v4(h.addr)) {
                match entries.entry(n.clone()) {
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(Entry::A(vec![a]));
                    }
                    std::collections::hash_map::Entry::Occupied(mut e) => {
                        if let Entry::A(list) = e.get_mut() {
                            list.push(a);
                        }
                    }
                }
            }
        }
        let good = hosts
            .iter()
            .find(|h| healthy(&h.behavior))
            .or_else(|| {
                hosts
                    .iter()
                    .find(|h| matches!(h.behavior, Behavior::Rdp(_)))
            })
            .or(hosts.first());
        let closed = hosts
            .iter()
            .find(|h| h.behavior == Behavior::Closed)
            .and_then(|h| v4(h.addr))
            .unwrap_or(spare);
        let other = hosts
            .iter()
            .find(|h| Some(h.addr) != good.map(|g| g.addr) && h.behavior != Behavior::Closed)
            .map(|h| h.addr)
            .unwrap_or(IpAddr::V4(spare));
        let good_addr = good.and_then(|g| v4(g.addr));

        let mut rows = Vec::new();
        let mut special = |label: &str, e: Entry, expected: FindingCode, expect_ip| {
            let name = format!("{label}.{ZONE}");
            rows.push(DnsRow {
                name: name.clone(),
                expected,
                expect_ip,
            });
            entries.insert(name, e);
        };
        special(
            "nxdomain",
            Entry::Rcode(ResponseCode::NXDomain),
            FindingCode::DnsNxdomain,
            None,
        );
        special("nodata", Entry::TxtOnly, FindingCode::DnsNodata, None);
        special(
            "servfail",
            Entry::Rcode(ResponseCode::ServFail),
            FindingCode::DnsServfail,
            None,
        );
        special(
            "refused",
            Entry::Rcode(ResponseCode::Refused),
            FindingCode::DnsRefused,
            None,
        );
        special("silent", Entry::Silent, FindingCode::DnsTimeout, None);
        if let (Some(g), Some(_)) = (good.and_then(|g| g.name.clone()), good_addr) {
            // The certificate names the target, not the alias users typed: mstsc warns.
            special(
                "alias",
                Entry::Cname(g),
                FindingCode::CertNameMismatch,
                None,
            );
        }
        if let Some(a) = good_addr {
            special(
                "multi",
                Entry::A(vec![a, closed]),
                FindingCode::PortClosed,
                None,
            );
            special(
                "wrongip",
                Entry::A(vec![a]),
                FindingCode::DnsMismatch,
                Some(other),
            );
        }
        (Zone { entries }, rows)
    }

    /// Does any record of the zone point at `ip`?
    pub(super) fn uses(&self, ip: IpAddr) -> bool {
        self.entries
            .values()
            .any(|e| matches!(e, Entry::A(list) if list.iter().any(|a| IpAddr::V4(*a) == ip)))
    }

    fn soa() -> Option<Record> {
        let zone = Name::from_ascii(format!("{ZONE}.")).ok()?;
        let mname = Name::from_ascii(format!("ns.{ZONE}.")).ok()?;
        let rname = Name::from_ascii(format!("hostmaster.{ZONE}.")).ok()?;
        Some(Record::from_rdata(
            zone,
            TTL,
            RData::SOA(SOA::new(mname, rname, 1, 3600, 600, 86400, TTL)),
        ))
    }

    /// The response to one request, or None to stay silent.
    fn answer(&self, req: &Message) -> Option<Message> {
        let mut resp = Message::response(req.metadata.id, req.metadata.op_code);
        resp.metadata.recursion_desired = req.metadata.recursion_desired;
        resp.metadata.authoritative = true;
        let q = match (
            req.metadata.message_type,
            req.metadata.op_code,
            req.queries.as_slice(),
        ) {
            (MessageType::Query, OpCode::Query, [q]) => q.clone(),
            _ => {
                resp.metadata.authoritative = false;
                resp.metadata.response_code = ResponseCode::FormErr;
                return Some(resp);
            }
        };
        resp.add_query(q.clone());
        let qname = q.name().to_ascii().to_ascii_lowercase();
        let qname = qname.trim_end_matches('.');
        let in_zone = qname == ZONE || qname.ends_with(&format!(".{ZONE}"));
        if !in_zone {
            resp.metadata.authoritative = false;
            resp.metadata.response_code = ResponseCode::Refused;
            return Some(resp);
        }
        let soa = Zone::soa();
        let nodata = |resp: &mut Message| {
            if let Some(s) = soa.clone() {
                resp.add_authority(s);
            }
        };
        match self.entries.get(qname) {
            None if qname == ZONE => {
                if q.query_type() == RecordType::SOA {
                    if let Some(s) = soa.clone() {
                        resp.add_answer(s);
                    }
                } else {
                    nodata(&mut resp);
                }
            }
            None => {
                resp.metadata.response_code = ResponseCode::NXDomain;
                nodata(&mut resp);
            }
            Some(Entry::Silent) => return None,
            Some(Entry::Rcode(rc)) => {
                resp.metadata.response_code = *rc;
                if *rc == ResponseCode::NXDomain {
                    nodata(&mut resp);
                }
            }
            Some(Entry::TxtOnly) => {
                if q.query_type() == RecordType::TXT {
                    resp.add_answer(Record::from_rdata(
                        q.name().clone(),
                        TTL,
                        RData::TXT(TXT::new(vec!["this name has no address".into()])),
                    ));
                } else {
                    nodata(&mut resp);
                }
            }
            Some(Entry::A(list)) => {
                if q.query_type() == RecordType::A {
                    for a in list {
                        resp.add_answer(Record::from_rdata(
                            q.name().clone(),
                            TTL,
                            RData::A((*a).into()),
                        ));
                    }
                } else {
                    nodata(&mut resp);
                }
            }
            Some(Entry::Cname(target)) => {
                let tname = Name::from_ascii(format!("{target}.")).ok()?;
                resp.add_answer(Record::from_rdata(
                    q.name().clone(),
                    TTL,
                    RData::CNAME(CNAME(tname.clone())),
                ));
                match (q.query_type(), self.entries.get(target.as_str())) {
                    (RecordType::A, Some(Entry::A(list))) => {
                        for a in list {
                            resp.add_answer(Record::from_rdata(
                                tname.clone(),
                                TTL,
                                RData::A((*a).into()),
                            ));
                        }
                    }
                    (RecordType::CNAME, _) => {}
                    _ => nodata(&mut resp),
                }
            }
        }
        Some(resp)
    }

    fn answer_bytes(&self, query: &[u8]) -> Option<Vec<u8>> {
        match Message::from_vec(query) {
            Ok(req) if req.metadata.message_type == MessageType::Query => {
                self.answer(&req)?.to_vec().ok()
            }
            Ok(_) => None,
            Err(_) => {
                // Unparseable: FORMERR with the id, when there is one.
                let id = u16::from_be_bytes([*query.first()?, *query.get(1)?]);
                Message::error_msg(id, OpCode::Query, ResponseCode::FormErr)
                    .to_vec()
                    .ok()
            }
        }
    }
}

/// Bind UDP and TCP on the same port at `ip` (53 when possible, else a free port) and serve.
pub(super) async fn serve(
    ip: Ipv4Addr,
    zone: Zone,
    tasks: &mut Vec<JoinHandle<()>>,
) -> io::Result<SocketAddr> {
    let zone = Arc::new(zone);
    let mut last_err = None;
    for port in [53u16, 0, 0, 0, 0, 0] {
        let udp = match UdpSocket::bind(SocketAddr::new(IpAddr::V4(ip), port)).await {
            Ok(u) => u,
            Err(e) => {
                last_err = Some(e);
                continue;
            }
        };
        let addr = udp.local_addr()?;
        let tcp = match TcpListener::bind(addr).await {
            Ok(t) => t,
            Err(e) => {
                last_err = Some(e);
                continue;
            }
        };
        tasks.push(tokio::spawn(udp_loop(udp, zone.clone())));
        tasks.push(tokio::spawn(tcp_loop(tcp, zone)));
        return Ok(addr);
    }
    Err(io::Error::other(format!(
        "lab DNS cannot listen on {ip}: {}",
        last_err.map(|e| e.to_string()).unwrap_or_default()
    )))
}

async fn udp_loop(sock: UdpSocket, zone: Arc<Zone>) {
    let mut buf = [0u8; 4096];
    loop {
        let Ok((n, peer)) = sock.recv_from(&mut buf).await else {
            // Never spin on a persistent error.
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        if let Some(out) = buf.get(..n).and_then(|q| zone.answer_bytes(q)) {
            let _ = sock.send_to(&out, peer).await;
        }
    }
}

async fn tcp_loop(listener: TcpListener, zone: Arc<Zone>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => { conns.spawn(tcp_conn(s, zone.clone())); }
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

/// RFC 1035 4.2.2: two-byte length prefix per message; idle connections close after 10 s.
async fn tcp_conn(mut s: TcpStream, zone: Arc<Zone>) {
    let mut buf = vec![0u8; 65_535];
    loop {
        let mut len = [0u8; 2];
        if !matches!(
            timeout(Duration::from_secs(10), s.read_exact(&mut len)).await,
            Ok(Ok(_))
        ) {
            return;
        }
        let n = usize::from(u16::from_be_bytes(len));
        let Some(dst) = buf.get_mut(..n) else { return };
        if !matches!(
            timeout(Duration::from_secs(10), s.read_exact(dst)).await,
            Ok(Ok(_))
        ) {
            return;
        }
        if let Some(out) = zone.answer_bytes(dst) {
            let Ok(l) = u16::try_from(out.len()) else {
                return;
            };
            let mut framed = Vec::with_capacity(out.len() + 2);
            framed.extend_from_slice(&l.to_be_bytes());
            framed.extend_from_slice(&out);
            if s.write_all(&framed).await.is_err() {
                return;
            }
        }
    }
}
