use std::net::{Ipv4Addr, Ipv6Addr};

use hickory_resolver::net::NoRecords;
use hickory_resolver::proto::op::{Message, Query};
use hickory_resolver::proto::rr::Record;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

use super::*;

fn n(s: &str) -> Name {
    Name::from_ascii(s).expect("test name")
}
fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}
fn rec_a(owner: &str, ip: [u8; 4]) -> Record {
    Record::from_rdata(n(owner), 60, RData::A(A(Ipv4Addr::from(ip))))
}
fn rec_aaaa(owner: &str, ip: Ipv6Addr) -> Record {
    Record::from_rdata(n(owner), 60, RData::AAAA(AAAA(ip)))
}
fn rec_cname(owner: &str, target: &str) -> Record {
    Record::from_rdata(n(owner), 60, RData::CNAME(CNAME(n(target))))
}

// ---- flag parsing -------------------------------------------------------------------

#[test]
fn dns_server_forms() {
    let cases = [
        ("10.0.0.53", "10.0.0.53:53"),
        (" 10.0.0.53:5353 ", "10.0.0.53:5353"),
        ("[fd00::53]:5353", "[fd00::53]:5353"),
        ("[fd00::53]", "[fd00::53]:53"),
        ("fd00::53", "[fd00::53]:53"),
        ("::1", "[::1]:53"),
    ];
    for (input, want) in cases {
        let got = parse_dns_server(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(got, want.parse::<SocketAddr>().expect("want"), "{input}");
    }
    for bad in [
        "",
        "dns.example",
        "10.0.0.53:",
        "10.0.0.53:99999",
        "10.0.0.53:0",
        "[fd00::53",
        "fd00::53:53:zz",
        "1.2.3.4.5",
    ] {
        assert!(parse_dns_server(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn pin_forms() {
    assert_eq!(
        parse_pin("RDS01.Corp.Example=10.1.2.3").expect("plain"),
        ("rds01.corp.example".to_string(), v4(10, 1, 2, 3))
    );
    assert_eq!(
        parse_pin("rds01.corp.example.=fd00::3").expect("v6, trailing dot"),
        (
            "rds01.corp.example".to_string(),
            "fd00::3".parse().expect("ip")
        )
    );
    // curl's NAME:PORT:IP, port ignored, IPv6 bracketed or not.
    assert_eq!(
        parse_pin("rds01:3389:10.1.2.3").expect("curl"),
        ("rds01".to_string(), v4(10, 1, 2, 3))
    );
    assert_eq!(
        parse_pin("rds01:3389:[fd00::3]").expect("curl v6"),
        ("rds01".to_string(), "fd00::3".parse().expect("ip"))
    );
    assert_eq!(
        parse_pin("rds01:3389:fd00::3").expect("curl bare v6").1,
        "fd00::3".parse::<IpAddr>().expect("ip")
    );
    for bad in [
        "",
        "rds01",
        "rds01=",
        "=10.1.2.3",
        "rds01=rds02",
        "rds01:x:10.1.2.3",
        "rds01:3389",
        "bad name=10.1.2.3",
        "a..b=10.1.2.3",
        "rds01=10.1.2.3.4",
    ] {
        assert!(parse_pin(bad).is_err(), "{bad:?} accepted");
    }
    let long = format!("{}.example=10.0.0.1", "a".repeat(64));
    assert!(parse_pin(&long).is_err(), "64-char label accepted");
}

// ---- classification from constructed hickory values --------------------------------

fn no_records(code: ResponseCode) -> NetError {
    NoRecords::new(Query::query(n("x.test."), RecordType::A), code).into()
}

#[test]
fn errors_map_by_variant_and_rcode() {
    assert_eq!(
        classify_error(&no_records(ResponseCode::NXDomain)),
        QueryEnd::Nxdomain
    );
    assert_eq!(
        classify_error(&no_records(ResponseCode::NoError)),
        QueryEnd::Nodata
    );
    assert_eq!(
        classify_error(&NetError::Dns(DnsError::ResponseCode(
            ResponseCode::ServFail
        ))),
        QueryEnd::Servfail
    );
    assert_eq!(
        classify_error(&NetError::Dns(DnsError::ResponseCode(
            ResponseCode::Refused
        ))),
        QueryEnd::Refused
    );
    assert_eq!(classify_error(&NetError::Timeout), QueryEnd::Timeout);
    match classify_error(&NetError::Dns(DnsError::ResponseCode(ResponseCode::NotImp))) {
        QueryEnd::Error(text) => assert!(text.contains("rcode 4"), "{text}"),
        other => panic!("NOTIMP gave {other:?}"),
    }
    let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    assert!(matches!(
        classify_error(&NetError::from(io)),
        QueryEnd::Error(_)
    ));
    // An error whose text says "timed out" is still an error: text is never parsed.
    assert!(matches!(
        classify_error(&NetError::Msg("request timed out".into())),
        QueryEnd::Error(_)
    ));
}

fn lookup(qname: &str, rtype: RecordType, records: Vec<Record>) -> Result<Lookup, NetError> {
    Ok(Lookup::new_with_max_ttl(
        Query::query(n(qname), rtype),
        records,
    ))
}

#[test]
fn combining_a_and_aaaa() {
    let name = n("h.test.");
    let six: Ipv6Addr = "fd00::1".parse().expect("ip");
    // Both families, A first, duplicates dropped.
    let out = classify(
        &name,
        lookup(
            "h.test.",
            RecordType::A,
            vec![
                rec_a("h.test.", [10, 0, 0, 2]),
                rec_a("h.test.", [10, 0, 0, 1]),
                rec_a("h.test.", [10, 0, 0, 2]),
            ],
        ),
        lookup("h.test.", RecordType::AAAA, vec![rec_aaaa("h.test.", six)]),
    );
    assert_eq!(out.status, DnsStatus::Resolved);
    assert_eq!(
        out.addresses,
        vec![v4(10, 0, 0, 2), v4(10, 0, 0, 1), IpAddr::V6(six)]
    );
    assert_eq!(out.canonical, None);

    // One family answering is enough, whatever the other did.
    let out = classify(
        &name,
        lookup(
            "h.test.",
            RecordType::A,
            vec![rec_a("h.test.", [10, 0, 0, 1])],
        ),
        Err(NetError::Dns(DnsError::ResponseCode(
            ResponseCode::ServFail,
        ))),
    );
    assert_eq!(out.status, DnsStatus::Resolved);
    assert_eq!(out.error, None);

    // NXDOMAIN on either side is about the name.
    let out = classify(
        &name,
        Err(NetError::Timeout),
        Err(no_records(ResponseCode::NXDomain)),
    );
    assert_eq!(out.status, DnsStatus::Nxdomain);

    // NODATA needs both sides to say so; otherwise the failure wins.
    let out = classify(
        &name,
        Err(no_records(ResponseCode::NoError)),
        Err(no_records(ResponseCode::NoError)),
    );
    assert_eq!(out.status, DnsStatus::Nodata);
    let out = classify(
        &name,
        Err(no_records(ResponseCode::NoError)),
        Err(NetError::Timeout),
    );
    assert_eq!(out.status, DnsStatus::Timeout);
    let out = classify(
        &name,
        Err(NetError::Dns(DnsError::ResponseCode(ResponseCode::Refused))),
        Err(NetError::Dns(DnsError::ResponseCode(
            ResponseCode::ServFail,
        ))),
    );
    assert_eq!(out.status, DnsStatus::Servfail);
    let out = classify(
        &name,
        Err(NetError::Dns(DnsError::ResponseCode(ResponseCode::NotImp))),
        Err(no_records(ResponseCode::NoError)),
    );
    assert_eq!(out.status, DnsStatus::Error);
    assert!(out.error.is_some_and(|e| e.contains("Not Implemented")));
}

#[test]
fn answers_for_other_names_are_ignored() {
    let name = n("h.test.");
    let (addrs, canon) = read_answer(
        &name,
        &lookup(
            "h.test.",
            RecordType::A,
            vec![
                rec_a("evil.test.", [6, 6, 6, 6]),
                rec_a("H.TEST.", [10, 0, 0, 1]),
            ],
        )
        .expect("lookup"),
        RecordType::A,
    );
    assert_eq!(addrs, vec![v4(10, 0, 0, 1)], "case-insensitive owner match");
    assert_eq!(canon, None);

    // Only stray records: NODATA, not a resolved name.
    let out = classify(
        &name,
        lookup(
            "h.test.",
            RecordType::A,
            vec![rec_a("evil.test.", [6, 6, 6, 6])],
        ),
        Err(no_records(ResponseCode::NoError)),
    );
    assert_eq!(out.status, DnsStatus::Nodata);
    assert!(out.addresses.is_empty());
}

#[test]
fn cname_chain_gives_canonical() {
    let name = n("alias.test.");
    let records = vec![
        rec_cname("alias.test.", "mid.test."),
        rec_cname("mid.test.", "Real.Test."),
        rec_a("real.test.", [10, 0, 0, 9]),
        rec_a("elsewhere.test.", [6, 6, 6, 6]),
    ];
    let (addrs, canon) = read_answer(
        &name,
        &lookup("alias.test.", RecordType::A, records.clone()).expect("lookup"),
        RecordType::A,
    );
    assert_eq!(addrs, vec![v4(10, 0, 0, 9)]);
    assert_eq!(canon.as_deref(), Some("real.test"));

    // hickory chased the CNAME itself: its query is the target's.
    let (addrs, canon) = read_answer(
        &name,
        &lookup("real.test.", RecordType::A, records).expect("lookup"),
        RecordType::A,
    );
    assert_eq!(addrs, vec![v4(10, 0, 0, 9)]);
    assert_eq!(canon.as_deref(), Some("real.test"));

    // hickory served the target from its cache: no CNAME records, the query is the target's.
    let (addrs, canon) = read_answer(
        &name,
        &lookup(
            "real.test.",
            RecordType::A,
            vec![rec_a("real.test.", [10, 0, 0, 9])],
        )
        .expect("lookup"),
        RecordType::A,
    );
    assert_eq!(addrs, vec![v4(10, 0, 0, 9)]);
    assert_eq!(canon.as_deref(), Some("real.test"));

    // A search-list expansion of a single-label name is not a CNAME.
    let (addrs, canon) = read_answer(
        &n("rds01"),
        &lookup(
            "rds01.corp.test.",
            RecordType::A,
            vec![rec_a("rds01.corp.test.", [10, 0, 0, 4])],
        )
        .expect("lookup"),
        RecordType::A,
    );
    assert_eq!(addrs, vec![v4(10, 0, 0, 4)]);
    assert_eq!(canon, None);

    // A CNAME loop ends without hanging and without addresses.
    let (addrs, _) = read_answer(
        &name,
        &lookup(
            "alias.test.",
            RecordType::A,
            vec![
                rec_cname("alias.test.", "loop.test."),
                rec_cname("loop.test.", "alias.test."),
            ],
        )
        .expect("lookup"),
        RecordType::A,
    );
    assert!(addrs.is_empty());
}

#[test]
fn short_error_text() {
    let long = "x".repeat(500);
    let s = short(&long);
    assert_eq!(s.chars().count(), MAX_ERROR_CHARS + 3);
    assert_eq!(short("first\nsecond"), "first");
    // Multi-byte characters are cut on a character boundary.
    let wide = "é".repeat(300);
    assert!(short(&wide).starts_with("éé"));
}

#[test]
fn once_map_is_bounded() {
    let map: OnceMap<u32, u32> = OnceMap::new(3);
    let first = map.cell(&1);
    assert!(Arc::ptr_eq(&first, &map.cell(&1)), "same key, same cell");
    for k in 2..=10 {
        map.cell(&k);
    }
    assert_eq!(map.len(), 3);
    assert!(
        !Arc::ptr_eq(&first, &map.cell(&1)),
        "oldest key was evicted"
    );
}

// ---- an in-test DNS server on 127.0.0.1 ---------------------------------------------

/// Answers by query name (see `answer`); counts queries per "name type".
struct TestServer {
    addr: SocketAddr,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl TestServer {
    fn hits(&self, key: &str) -> usize {
        self.hits
            .lock()
            .map(|h| h.get(key).copied().unwrap_or(0))
            .unwrap_or(0)
    }
}

fn answer(req: &Message, tcp: bool) -> Option<Message> {
    let q = req.queries.first()?;
    let mut resp = Message::response(req.metadata.id, req.metadata.op_code);
    resp.metadata.recursion_desired = req.metadata.recursion_desired;
    resp.metadata.recursion_available = true;
    resp.add_query(q.clone());
    let owner = q.name.clone();
    let a = |ip: [u8; 4]| Record::from_rdata(owner.clone(), 60, RData::A(A(ip.into())));
    let six = |ip: &str| {
        let ip: Ipv6Addr = ip.parse().unwrap_or(Ipv6Addr::LOCALHOST);
        Record::from_rdata(owner.clone(), 60, RData::AAAA(AAAA(ip)))
    };
    let is_a = q.query_type == RecordType::A;
    let is_aaaa = q.query_type == RecordType::AAAA;
    match name_text(&q.name).as_str() {
        "multi.test" | "shared.test" if is_a => {
            resp.add_answer(a([10, 0, 0, 1]));
            resp.add_answer(a([10, 0, 0, 2]));
            resp.add_answer(a([10, 0, 0, 1]));
        }
        "v6.test" if is_aaaa => {
            resp.add_answer(six("fd00::6"));
        }
        "dual.test" if is_a => {
            resp.add_answer(a([10, 0, 0, 3]));
        }
        "dual.test" if is_aaaa => {
            resp.add_answer(six("fd00::3"));
        }
        // A recursive server's answer: CNAME plus the target's records.
        "alias.test" if is_a => {
            resp.add_answer(rec_cname("alias.test.", "dual.test."));
            resp.add_answer(rec_a("dual.test.", [10, 0, 0, 3]));
        }
        "alias.test" if is_aaaa => {
            resp.add_answer(rec_cname("alias.test.", "dual.test."));
            resp.add_answer(rec_aaaa("dual.test.", "fd00::3".parse().ok()?));
        }
        // Only the CNAME: the client must ask again for the target.
        "chase.test" => {
            resp.add_answer(rec_cname("chase.test.", "dual.test."));
        }
        "chase2.test" => {
            resp.add_answer(rec_cname("chase2.test.", "fresh.test."));
        }
        "fresh.test" if is_a => {
            resp.add_answer(a([10, 0, 0, 8]));
        }
        "rds01.corp.test" if is_a => {
            resp.add_answer(a([10, 0, 0, 4]));
        }
        "nx.test" => resp.metadata.response_code = ResponseCode::NXDomain,
        "fail.test" => resp.metadata.response_code = ResponseCode::ServFail,
        "refuse.test" => resp.metadata.response_code = ResponseCode::Refused,
        "notimp.test" => resp.metadata.response_code = ResponseCode::NotImp,
        "silent.test" => return None,
        "half.test" if is_a => {
            resp.add_answer(a([10, 0, 0, 5]));
        }
        "half.test" => resp.metadata.response_code = ResponseCode::ServFail,
        "nxhalf.test" if is_a => resp.metadata.response_code = ResponseCode::NXDomain,
        "stray.test" if is_a => {
            resp.add_answer(rec_a("other.test.", [6, 6, 6, 6]));
        }
        "tc.test" if !tcp => resp.metadata.truncation = true,
        "tc.test" if is_a => {
            resp.add_answer(a([10, 0, 0, 7]));
        }
        "4.3.2.10.in-addr.arpa" if q.query_type == RecordType::PTR => {
            resp.add_answer(Record::from_rdata(
                owner.clone(),
                60,
                RData::PTR(PTR(n("RDS01.Corp.Test."))),
            ));
        }
        // Known names without the asked type: NOERROR, empty (NODATA).
        "multi.test" | "shared.test" | "v6.test" | "empty.test" | "fresh.test"
        | "rds01.corp.test" | "nxhalf.test" | "stray.test" | "tc.test" => {}
        _ => resp.metadata.response_code = ResponseCode::NXDomain,
    }
    Some(resp)
}

fn count(hits: &Mutex<HashMap<String, usize>>, req: &Message) {
    if let (Some(q), Ok(mut h)) = (req.queries.first(), hits.lock()) {
        *h.entry(format!("{} {}", name_text(&q.name), q.query_type))
            .or_default() += 1;
    }
}

async fn spawn_server() -> TestServer {
    // UDP and TCP on the same port; retry if TCP's port happens to be taken.
    let (udp, tcp) = loop {
        let udp = UdpSocket::bind("127.0.0.1:0").await.expect("udp bind");
        let addr = udp.local_addr().expect("udp addr");
        if let Ok(tcp) = TcpListener::bind(addr).await {
            break (udp, tcp);
        }
    };
    let addr = udp.local_addr().expect("udp addr");
    let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();

    let udp_hits = hits.clone();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        while let Ok((len, peer)) = udp.recv_from(&mut buf).await {
            let Some(Ok(req)) = buf.get(..len).map(Message::from_vec) else {
                continue;
            };
            count(&udp_hits, &req);
            if let Some(bytes) = answer(&req, false).and_then(|m| m.to_vec().ok()) {
                let _ = udp.send_to(&bytes, peer).await;
            }
        }
    });
    let tcp_hits = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = tcp.accept().await {
            let hits = tcp_hits.clone();
            tokio::spawn(async move {
                loop {
                    let mut len = [0u8; 2];
                    if stream.read_exact(&mut len).await.is_err() {
                        return;
                    }
                    let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
                    if stream.read_exact(&mut msg).await.is_err() {
                        return;
                    }
                    let Ok(req) = Message::from_vec(&msg) else {
                        return;
                    };
                    count(&hits, &req);
                    let Some(bytes) = answer(&req, true).and_then(|m| m.to_vec().ok()) else {
                        continue;
                    };
                    let Ok(len) = u16::try_from(bytes.len()) else {
                        return;
                    };
                    if stream.write_all(&len.to_be_bytes()).await.is_err()
                        || stream.write_all(&bytes).await.is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    TestServer { addr, hits }
}

fn options(server: SocketAddr) -> ResolverOptions {
    ResolverOptions {
        servers: vec![server],
        pins: Vec::new(),
        timeout: Duration::from_millis(400),
        attempts: 1,
        rate: 0,
        ptr_rate: 0,
        ptr: true,
    }
}

#[tokio::test]
async fn statuses_against_test_server() {
    let server = spawn_server().await;
    let r = Resolver::new(options(server.addr)).expect("resolver");

    let out = r.lookup("multi.test").await;
    assert_eq!(out.status, DnsStatus::Resolved);
    assert_eq!(out.addresses, vec![v4(10, 0, 0, 1), v4(10, 0, 0, 2)]);
    assert!(out.ms.is_some_and(|ms| ms >= 0.0));

    let out = r.lookup("v6.test").await;
    assert_eq!(out.status, DnsStatus::Resolved);
    assert_eq!(
        out.addresses,
        vec!["fd00::6".parse::<IpAddr>().expect("ip")]
    );

    let out = r.lookup("DUAL.test.").await;
    assert_eq!(out.status, DnsStatus::Resolved);
    assert_eq!(
        out.addresses,
        vec![v4(10, 0, 0, 3), "fd00::3".parse().expect("ip")],
        "A first, then AAAA"
    );
    assert_eq!(out.canonical, None);

    for alias in ["alias.test", "chase.test"] {
        let out = r.lookup(alias).await;
        assert_eq!(out.status, DnsStatus::Resolved, "{alias}");
        assert_eq!(
            out.addresses,
            vec![v4(10, 0, 0, 3), "fd00::3".parse().expect("ip")],
            "{alias}"
        );
        assert_eq!(out.canonical.as_deref(), Some("dual.test"), "{alias}");
    }

    // CNAME chased by hickory, target not cached yet.
    let out = r.lookup("chase2.test").await;
    assert_eq!(out.status, DnsStatus::Resolved);
    assert_eq!(out.addresses, vec![v4(10, 0, 0, 8)]);
    assert_eq!(out.canonical.as_deref(), Some("fresh.test"));

    let expect = [
        ("nx.test", DnsStatus::Nxdomain),
        ("unknown.test", DnsStatus::Nxdomain),
        ("nxhalf.test", DnsStatus::Nxdomain),
        ("empty.test", DnsStatus::Nodata),
        ("stray.test", DnsStatus::Nodata),
        ("fail.test", DnsStatus::Servfail),
        ("refuse.test", DnsStatus::Refused),
        ("notimp.test", DnsStatus::Error),
        ("silent.test", DnsStatus::Timeout),
    ];
    for (name, status) in expect {
        let out = r.lookup(name).await;
        assert_eq!(out.status, status, "{name}: {out:?}");
        assert!(out.addresses.is_empty(), "{name}");
        assert_eq!(
            out.error.is_some(),
            status == DnsStatus::Error,
            "{name}: {out:?}"
        );
    }

    let out = r.lookup("half.test").await;
    assert_eq!(out.status, DnsStatus::Resolved, "A answered, AAAA SERVFAIL");
    assert_eq!(out.addresses, vec![v4(10, 0, 0, 5)]);

    // Truncated over UDP: asked again over TCP.
    let out = r.lookup("tc.test").await;
    assert_eq!(out.status, DnsStatus::Resolved, "{out:?}");
    assert_eq!(out.addresses, vec![v4(10, 0, 0, 7)]);
    assert!(server.hits("tc.test A") >= 2, "UDP then TCP");

    // Names that never reach the server.
    let out = r.lookup("10.9.8.7").await;
    assert_eq!(out.status, DnsStatus::Literal);
    assert_eq!(out.addresses, vec![v4(10, 9, 8, 7)]);
    let out = r.lookup("[fd00::9]").await;
    assert_eq!(out.status, DnsStatus::Literal);
    let out = r.lookup("  ").await;
    assert_eq!(out.status, DnsStatus::Error);
    let out = r.lookup(&format!("{}.test", "a".repeat(70))).await;
    assert_eq!(out.status, DnsStatus::Error, "label over 63 bytes");
    assert!(
        out.error
            .is_some_and(|e| e.starts_with("invalid host name"))
    );
}

/// A resolver as if resolv.conf said "search corp.test" (and ndots:5, like Kubernetes).
fn with_search(server: SocketAddr) -> Resolver {
    let mut config = explicit_config(&[server]);
    config.add_search(n("corp.test."));
    let mut hopts = ResolverOpts::default();
    hopts.ndots = 5;
    Resolver::build(options(server), config, hopts).expect("resolver")
}

#[tokio::test]
async fn search_list_only_for_single_labels() {
    let server = spawn_server().await;
    let r = with_search(server.addr);

    // A dotted name goes out as is, whatever ndots says.
    let out = r.lookup("nx.test").await;
    assert_eq!(out.status, DnsStatus::Nxdomain);
    let hits = server.hits.lock().map(|h| h.clone()).unwrap_or_default();
    assert!(hits.keys().all(|k| k.starts_with("nx.test ")), "{hits:?}");

    // A single label is tried with the search domain.
    let out = r.lookup("RDS01").await;
    assert_eq!(out.status, DnsStatus::Resolved, "{out:?}");
    assert_eq!(out.addresses, vec![v4(10, 0, 0, 4)]);
    assert_eq!(out.canonical, None, "a search expansion is not a CNAME");
    assert_eq!(server.hits("rds01.corp.test A"), 1);
}

#[tokio::test]
async fn one_lookup_per_name_per_scan() {
    let server = spawn_server().await;
    let r = Resolver::new(options(server.addr)).expect("resolver");
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let r = r.clone();
            // Same name in different spellings.
            let name = if i % 2 == 0 {
                "shared.test"
            } else {
                "Shared.Test."
            };
            tokio::spawn(async move { r.lookup(name).await })
        })
        .collect();
    for task in tasks {
        let out = task.await.expect("task");
        assert_eq!(out.status, DnsStatus::Resolved);
        assert_eq!(out.addresses, vec![v4(10, 0, 0, 1), v4(10, 0, 0, 2)]);
    }
    assert_eq!(
        r.upstream_lookups(),
        1,
        "concurrent callers shared one lookup"
    );
    // Later callers hit the cache; failures are cached too (one scan, one answer).
    r.lookup("shared.test").await;
    r.lookup("nx.test").await;
    r.lookup("nx.test").await;
    assert_eq!(r.upstream_lookups(), 2);
    assert_eq!(server.hits("nx.test A"), 1);
}

#[tokio::test]
async fn pins_answer_without_a_query() {
    let server = spawn_server().await;
    let mut opts = options(server.addr);
    let (name, ip) = parse_pin("NX.test=10.1.1.1").expect("pin");
    opts.pins = vec![(name.clone(), vec![ip]), (name, vec![v4(10, 1, 1, 2), ip])];
    let r = Resolver::new(opts).expect("resolver");
    let out = r.lookup("nx.TEST.").await;
    assert_eq!(out.status, DnsStatus::Pinned);
    assert_eq!(out.addresses, vec![v4(10, 1, 1, 1), v4(10, 1, 1, 2)]);
    assert_eq!(server.hits("nx.test A"), 0);
    assert_eq!(r.upstream_lookups(), 0);
}

#[tokio::test]
async fn ptr_lookups() {
    let server = spawn_server().await;
    let r = Resolver::new(options(server.addr)).expect("resolver");
    assert_eq!(
        r.ptr(v4(10, 2, 3, 4)).await.as_deref(),
        Some("rds01.corp.test")
    );
    assert_eq!(
        r.ptr(v4(10, 2, 3, 4)).await.as_deref(),
        Some("rds01.corp.test")
    );
    assert_eq!(server.hits("4.3.2.10.in-addr.arpa PTR"), 1, "cached");
    assert_eq!(r.ptr(v4(10, 9, 9, 9)).await, None, "NXDOMAIN is just None");

    let mut opts = options(server.addr);
    opts.ptr = false;
    let r = Resolver::new(opts).expect("resolver");
    assert_eq!(r.ptr(v4(10, 2, 3, 4)).await, None);
    assert_eq!(
        server.hits("4.3.2.10.in-addr.arpa PTR"),
        1,
        "no query when off"
    );
}

#[tokio::test]
async fn timeout_honours_attempts() {
    let server = spawn_server().await;
    let mut opts = options(server.addr);
    opts.timeout = Duration::from_millis(300);
    for attempts in [1usize, 3] {
        opts.attempts = attempts;
        let r = Resolver::new(opts.clone()).expect("resolver");
        let start = Instant::now();
        let out = r.lookup("silent.test").await;
        let took = start.elapsed();
        assert_eq!(out.status, DnsStatus::Timeout);
        let budget = opts.timeout * u32::try_from(attempts).expect("small");
        assert!(
            took >= budget.saturating_sub(Duration::from_millis(50)),
            "{attempts} attempts gave up after {took:?}"
        );
        assert!(
            took <= budget + Duration::from_millis(1500),
            "{attempts} attempts took {took:?}"
        );
    }
}

#[tokio::test]
async fn rate_limit_spaces_queries() {
    let server = spawn_server().await;
    let mut opts = options(server.addr);
    opts.rate = 20; // one query per 50 ms, no initial burst
    let r = Resolver::new(opts).expect("resolver");
    let start = Instant::now();
    for name in [
        "nx.test",
        "empty.test",
        "dual.test",
        "v6.test",
        "multi.test",
    ] {
        r.lookup(name).await;
    }
    // 10 queries: the first is free, nine more wait 50 ms each.
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(420), "took {took:?}");
}

#[cfg(unix)]
#[test]
fn resolv_conf_errors_say_what_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing.conf");
    let err = resolv_conf(&missing).expect_err("missing file");
    assert!(
        matches!(&err, ResolverError::SystemConfig { path, .. } if path.ends_with("missing.conf")),
        "{err:?}"
    );
    let err = err.to_string();
    assert!(
        err.contains("missing.conf") && err.contains("--dns-server"),
        "{err}"
    );

    let empty = dir.path().join("empty.conf");
    std::fs::write(&empty, "# no nameserver line\nsearch corp.test\n").expect("write");
    let err = resolv_conf(&empty).expect_err("no nameserver").to_string();
    assert!(err.contains("--dns-server"), "{err}");

    let good = dir.path().join("good.conf");
    std::fs::write(
        &good,
        "nameserver 127.0.0.53\nsearch corp.test\noptions ndots:2\n",
    )
    .expect("write");
    let (config, opts) = resolv_conf(&good).expect("valid file");
    assert_eq!(config.name_servers().len(), 1);
    assert_eq!(config.search().len(), 1);
    assert_eq!(opts.ndots, 2);
}

#[test]
fn resolver_is_shareable_and_built_outside_a_runtime() {
    fn shareable<T: Send + Sync + Clone + 'static>() {}
    shareable::<Resolver>();
    // No tokio runtime here: config checking happens before any I/O.
    let r = Resolver::new(options("127.0.0.1:53".parse().expect("addr")));
    assert!(r.is_ok());
}

#[test]
fn rejects_zero_timeout() {
    let mut opts = options("127.0.0.1:53".parse().expect("addr"));
    opts.timeout = Duration::ZERO;
    assert!(matches!(
        Resolver::new(opts),
        Err(ResolverError::ZeroTimeout)
    ));
}

#[test]
fn ptr_budget_follows_the_connection_rate() {
    // Defaults (--dns-rate 200, --rate 100): PTR keeps the larger budget.
    assert_eq!(ptr_rate(200, 100), 200);
    // A faster scan: PTR follows --rate, so it never sets the pace.
    assert_eq!(ptr_rate(200, 5_000), 5_000);
    // Either limit lifted on purpose: unlimited (one query per address, at most --concurrency in flight).
    assert_eq!(ptr_rate(200, 0), 0);
    assert_eq!(ptr_rate(0, 100), 0);
}

#[tokio::test]
async fn loopback_ptr_is_no_machine_name() {
    // hickory answers 127/8 and ::1 with `localhost` without a query: not a name to compare.
    let server = spawn_server().await;
    let r = Resolver::new(options(server.addr)).expect("resolver");
    assert_eq!(r.ptr("127.200.0.1".parse().unwrap()).await, None);
    assert_eq!(r.ptr("::1".parse().unwrap()).await, None);
}
