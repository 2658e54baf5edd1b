//! The lab seen from plain tokio clients (not the scanner): each behaviour's raw wire behaviour
//! up to X.224, the hostile hosts, the DNS zone and the fleets. Certificates, CredSSP and legacy
//! TLS are in tests/lab_tls.rs. Each test uses its own 127.77.N.0/24 so tests can run in
//! parallel. Loopback only.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use rdpsweep::lab::{Behavior, CertKind, Hostile, Lab, RdpHost, RdpPolicy, UdpMode};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::timeout;

#[path = "support/lab_client.rs"]
mod lab_client;
use lab_client::*;

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn tcp_behaviours() {
    let lab = Lab::start(
        cfg(1, false),
        vec![
            (Some("closed"), Behavior::Closed, ""),
            (Some("filtered"), Behavior::Filtered, ""),
            (Some("tarpit"), Behavior::Tarpit, ""),
            (Some("accept-close"), Behavior::AcceptClose, ""),
            (Some("reset-on-accept"), Behavior::ResetOnAccept, ""),
        ],
    )
    .await
    .unwrap();

    // Closed: RST to the SYN.
    let e = TcpStream::connect(sock(&lab, "closed")).await.unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);

    // Filtered: no SYN-ACK, so connect neither succeeds nor fails within 1.5 s (twice: the queue
    // stays full).
    for _ in 0..2 {
        let r = timeout(
            Duration::from_millis(1500),
            TcpStream::connect(sock(&lab, "filtered")),
        )
        .await;
        assert!(
            r.is_err(),
            "connect to a filtered host must time out, got {r:?}"
        );
    }

    // Tarpit: accepts, reads, never answers.
    let mut s = connect(&lab, "tarpit").await;
    s.write_all(&cr(Some(0x0B))).await.unwrap();
    assert_eq!(
        read_once(&mut s, 64, Duration::from_millis(800)).await,
        Got::Timeout
    );

    // AcceptClose: FIN, even though the client sent its CR meanwhile.
    let mut s = connect(&lab, "accept-close").await;
    let _ = s.write_all(&cr(Some(0x0B))).await;
    assert_eq!(
        read_once(&mut s, 64, Duration::from_secs(3)).await,
        Got::Eof
    );

    // ResetOnAccept: RST.
    let mut s = connect(&lab, "reset-on-accept").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        read_once(&mut s, 64, Duration::from_secs(3)).await,
        Got::Reset
    );

    let st = lab.stats();
    assert_eq!(st.host(sock(&lab, "tarpit").ip()).unwrap().accepted, 1);
    assert_eq!(
        st.host(sock(&lab, "tarpit").ip()).unwrap().bytes_received,
        cr(Some(0x0B)).len() as u64
    );
    assert_eq!(st.host(sock(&lab, "filtered").ip()).unwrap().accepted, 0);
    assert_eq!(st.total_accepted, 3);
    assert_eq!(st.accepts.len(), 3);
    lab.shutdown().await;
}

#[tokio::test]
async fn selection_tables_on_the_wire() {
    let lab = Lab::start(
        cfg(2, false),
        vec![
            (
                Some("nla"),
                Behavior::Rdp(RdpHost::new(RdpPolicy::WindowsNla)),
                "",
            ),
            (
                Some("tls"),
                Behavior::Rdp(RdpHost::new(RdpPolicy::WindowsTls)),
                "",
            ),
            (
                Some("neg"),
                Behavior::Rdp(RdpHost::new(RdpPolicy::WindowsNegotiate)),
                "",
            ),
            (
                Some("rdponly"),
                Behavior::Rdp(RdpHost::new(RdpPolicy::RdpOnly)),
                "",
            ),
            (
                Some("xrdp"),
                Behavior::Rdp(RdpHost::new(RdpPolicy::XrdpLike)),
                "",
            ),
            (
                Some("certmissing"),
                Behavior::Rdp(RdpHost::new(RdpPolicy::CertMissing)),
                "",
            ),
        ],
    )
    .await
    .unwrap();
    // (host, requested, RDP_NEG type (2 = RSP, 3 = FAILURE), value)
    let cases = [
        ("nla", 0x0B, 2, 8),
        ("nla", 0x03, 2, 2),
        ("nla", 0x01, 3, 5),
        ("nla", 0x00, 3, 5),
        ("tls", 0x0B, 2, 8),
        ("tls", 0x03, 2, 2),
        ("tls", 0x01, 2, 1),
        ("tls", 0x00, 3, 1),
        ("neg", 0x01, 2, 1),
        ("neg", 0x00, 2, 0),
        ("rdponly", 0x0B, 3, 2),
        ("rdponly", 0x01, 3, 2),
        ("rdponly", 0x00, 2, 0),
        ("xrdp", 0x0B, 2, 1),
        ("xrdp", 0x0A, 2, 0),
        ("xrdp", 0x00, 2, 0),
        ("certmissing", 0x0B, 3, 3),
        ("certmissing", 0x01, 3, 3),
        ("certmissing", 0x00, 2, 0),
    ];
    for (host, req, kind, value) in cases {
        let (mut s, k, v) = negotiate(&lab, host, req).await;
        assert_eq!((k, v), (kind, value), "{host} asked {req:#x}");
        if kind == 3 {
            // After a failure the server closes.
            assert_eq!(
                read_once(&mut s, 64, Duration::from_secs(3)).await,
                Got::Eof,
                "{host} {req:#x}"
            );
        }
    }
    // xrdp: flags 0x01 in its RSP.
    let mut s = connect(&lab, "xrdp").await;
    s.write_all(&cr(Some(0x01))).await.unwrap();
    assert_eq!(read_n(&mut s, 19).await[12], 0x01);
    // xrdp: bare CC without RDP_NEG_REQ; DPUm to requestedProtocols above 0x0B.
    let mut s = connect(&lab, "xrdp").await;
    s.write_all(&cr(None)).await.unwrap();
    assert_eq!(
        read_n(&mut s, 11).await,
        [
            0x03, 0x00, 0x00, 0x0B, 0x06, 0xD0, 0x00, 0x00, 0x12, 0x34, 0x00
        ]
    );
    let mut s = connect(&lab, "xrdp").await;
    s.write_all(&cr(Some(0x1F))).await.unwrap();
    let (bytes, end) = read_all(&mut s, 64, Duration::from_secs(3)).await;
    assert_eq!(
        bytes,
        [0x03, 0x00, 0x00, 0x09, 0x02, 0xF0, 0x80, 0x21, 0x80]
    );
    assert_eq!(end, Got::Eof);
    // Windows: a malformed CR (LI disagreeing with the TPKT length) is dropped without a reply.
    let mut s = connect(&lab, "nla").await;
    s.write_all(&[0x03, 0x00, 0x00, 0x0B, 0x07, 0xE0, 0, 0, 0, 0, 0])
        .await
        .unwrap();
    assert_eq!(
        read_once(&mut s, 64, Duration::from_secs(3)).await,
        Got::Eof
    );
    lab.shutdown().await;
}

#[tokio::test]
async fn odd_replies() {
    let lab = Lab::start(
        cfg(6, false),
        vec![
            (Some("garbage"), Behavior::Garbage, ""),
            (Some("http"), Behavior::Http, ""),
            (Some("legacy"), Behavior::LegacyCc, ""),
            (Some("dpum"), Behavior::Dpum, ""),
            (Some("rdpreset"), Behavior::RdpReset, ""),
        ],
    )
    .await
    .unwrap();
    let mut s = connect(&lab, "garbage").await;
    s.write_all(&cr(Some(0x0B))).await.unwrap();
    let (b, end) = read_all(&mut s, 4096, Duration::from_secs(3)).await;
    assert!(
        b.len() >= 64 && b[0] >= 0x80,
        "random bytes, not TPKT/TLS: {:02x?}",
        &b[..4]
    );
    assert_eq!(end, Got::Eof);

    let mut s = connect(&lab, "http").await;
    s.write_all(&cr(Some(0x0B))).await.unwrap();
    let (b, _) = read_all(&mut s, 4096, Duration::from_secs(3)).await;
    assert!(b.starts_with(b"HTTP/1.1 400 Bad Request\r\n"));

    let mut s = connect(&lab, "legacy").await;
    s.write_all(&cr(Some(0x0B))).await.unwrap();
    assert_eq!(
        read_n(&mut s, 11).await,
        [
            0x03, 0x00, 0x00, 0x0B, 0x06, 0xD0, 0x00, 0x00, 0x12, 0x34, 0x00
        ]
    );
    assert_eq!(
        read_once(&mut s, 64, Duration::from_millis(300)).await,
        Got::Timeout,
        "then waits for MCS"
    );

    let mut s = connect(&lab, "dpum").await;
    s.write_all(&cr(Some(0x0B))).await.unwrap();
    let (b, end) = read_all(&mut s, 64, Duration::from_secs(3)).await;
    assert_eq!(b, [0x03, 0x00, 0x00, 0x09, 0x02, 0xF0, 0x80, 0x21, 0x80]);
    assert_eq!(end, Got::Eof);

    let mut s = connect(&lab, "rdpreset").await;
    s.write_all(&cr(Some(0x0B))).await.unwrap();
    assert_eq!(
        read_once(&mut s, 64, Duration::from_secs(3)).await,
        Got::Reset
    );
    lab.shutdown().await;
}

#[tokio::test]
async fn hostile_hosts() {
    let nla = || RdpHost::new(RdpPolicy::WindowsNla);
    let lab = Lab::start(
        cfg(7, false),
        vec![
            (
                Some("endless"),
                Behavior::Hostile(Hostile::EndlessBytes),
                "",
            ),
            (Some("tpkt"), Behavior::Hostile(Hostile::TpktTrickle), ""),
            (
                Some("ccgarbage"),
                Behavior::Hostile(Hostile::CcThenGarbage),
                "",
            ),
            (
                Some("tlstrickle"),
                Behavior::Hostile(Hostile::TlsRecordTrickle),
                "",
            ),
            (
                Some("halfopen"),
                Behavior::Hostile(Hostile::HalfOpenFin),
                "",
            ),
            (
                Some("hugecert"),
                Behavior::Rdp(nla().cert(CertKind::Huge)),
                "",
            ),
        ],
    )
    .await
    .unwrap();
    let mut s = connect(&lab, "endless").await;
    s.write_all(&cr(Some(0x0B))).await.unwrap();
    let (b, end) = read_all(&mut s, 1 << 20, Duration::from_secs(2)).await;
    assert!(
        b.len() >= 1 << 20 && matches!(end, Got::Data(_)),
        "a MiB and still going"
    );
    drop(s);

    let mut s = connect(&lab, "tpkt").await;
    s.write_all(&cr(Some(0x0B))).await.unwrap();
    assert_eq!(read_n(&mut s, 4).await, [0x03, 0x00, 0xFF, 0xFF]);
    assert_eq!(
        read_once(&mut s, 64, Duration::from_millis(1000)).await,
        Got::Timeout
    );
    assert!(
        matches!(read_once(&mut s, 64, Duration::from_millis(2500)).await, Got::Data(d) if d.len() == 1)
    );

    let (mut s, _, sel) = negotiate(&lab, "ccgarbage", 0x0B).await;
    assert_eq!(sel, 1);
    let g = read_n(&mut s, 512).await;
    assert!(g[0] >= 0x80);

    let (mut s, _, _) = negotiate(&lab, "tlstrickle", 0x0B).await;
    s.write_all(&raw_hello(0x0303, &[0x002F])).await.unwrap();
    assert_eq!(read_n(&mut s, 5).await, [0x16, 0x03, 0x03, 0x40, 0x00]);

    let mut s = connect(&lab, "halfopen").await;
    s.write_all(&cr(Some(0x0B))).await.unwrap();
    assert_eq!(
        read_once(&mut s, 64, Duration::from_secs(3)).await,
        Got::Eof
    );
    // Half-open: the server still reads.
    s.write_all(b"still there?").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let st = lab.stats();
    let got = st.host(sock(&lab, "halfopen").ip()).unwrap().bytes_received;
    assert_eq!(got, (cr(Some(0x0B)).len() + 12) as u64);

    // A 100 KiB certificate: over rustls' 64 KiB handshake-message cap.
    let (s, _, _) = negotiate(&lab, "hugecert", 0x0B).await;
    assert!(tls(s, any_cert_client(), "x.lab.test").await.is_err());
    let (mut s, _, _) = negotiate(&lab, "hugecert", 0x0B).await;
    let hello = {
        // rustls' own ClientHello via a throwaway connection object.
        let mut c =
            rustls::ClientConnection::new(any_cert_client(), ServerName::try_from("x").unwrap())
                .unwrap();
        let mut out = Vec::new();
        c.write_tls(&mut out).unwrap();
        out
    };
    s.write_all(&hello).await.unwrap();
    let (b, _) = read_all(&mut s, 1 << 20, Duration::from_millis(500)).await;
    assert!(b.len() > 100 * 1024, "server flight of {} bytes", b.len());
    lab.shutdown().await;
}

async fn dns_query(server: SocketAddr, name: &str, rt: RecordType) -> Option<Message> {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut q = Message::new(0x1234, MessageType::Query, OpCode::Query);
    q.metadata.recursion_desired = true;
    q.add_query(Query::query(Name::from_ascii(name).unwrap(), rt));
    sock.send_to(&q.to_vec().unwrap(), server).await.unwrap();
    let mut buf = [0u8; 4096];
    let (n, _) = timeout(Duration::from_millis(700), sock.recv_from(&mut buf))
        .await
        .ok()?
        .unwrap();
    let m = Message::from_vec(&buf[..n]).unwrap();
    assert_eq!(m.metadata.id, 0x1234);
    Some(m)
}

fn a_records(m: &Message) -> Vec<IpAddr> {
    m.answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(IpAddr::V4(a.0)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn dns_zone() {
    let lab = Lab::start(
        cfg(8, true),
        vec![
            (
                Some("good-nla"),
                Behavior::Rdp(RdpHost::new(RdpPolicy::WindowsNla)),
                "",
            ),
            (
                Some("good-tls"),
                Behavior::Rdp(RdpHost::new(RdpPolicy::WindowsTls)),
                "",
            ),
            (Some("closed"), Behavior::Closed, ""),
        ],
    )
    .await
    .unwrap();
    let d = lab.dns_addr.expect("dns runs");
    assert_eq!(d.ip(), IpAddr::V4(Ipv4Addr::new(127, 77, 255, 53)));
    let good = lab.by_name("good-nla").unwrap().addr;
    let closed = lab.by_name("closed").unwrap().addr;

    let m = dns_query(d, "good-nla.lab.test.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(
        (m.metadata.response_code, a_records(&m)),
        (ResponseCode::NoError, vec![good])
    );
    assert!(m.metadata.authoritative);
    let m = dns_query(d, "GOOD-TLS.lab.test.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(a_records(&m), vec![lab.by_name("good-tls").unwrap().addr]);
    let m = dns_query(d, "good-nla.lab.test.", RecordType::AAAA)
        .await
        .unwrap();
    assert_eq!(
        (m.metadata.response_code, m.answers.len()),
        (ResponseCode::NoError, 0)
    );

    for name in ["nxdomain.lab.test.", "whatever.lab.test."] {
        let m = dns_query(d, name, RecordType::A).await.unwrap();
        assert_eq!(m.metadata.response_code, ResponseCode::NXDomain, "{name}");
        assert_eq!(m.authorities.len(), 1, "SOA for negative caching");
    }
    let m = dns_query(d, "nodata.lab.test.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(
        (m.metadata.response_code, m.answers.len()),
        (ResponseCode::NoError, 0)
    );
    let m = dns_query(d, "nodata.lab.test.", RecordType::TXT)
        .await
        .unwrap();
    assert_eq!(m.answers.len(), 1);
    let m = dns_query(d, "servfail.lab.test.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::ServFail);
    let m = dns_query(d, "refused.lab.test.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::Refused);
    assert!(
        dns_query(d, "silent.lab.test.", RecordType::A)
            .await
            .is_none()
    );
    let m = dns_query(d, "alias.lab.test.", RecordType::A)
        .await
        .unwrap();
    assert!(
        matches!(&m.answers[0].data, RData::CNAME(c) if c.0.to_ascii() == "good-nla.lab.test.")
    );
    assert_eq!(a_records(&m), vec![good]);
    let m = dns_query(d, "multi.lab.test.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(a_records(&m), vec![good, closed]);
    let m = dns_query(d, "wrongip.lab.test.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(a_records(&m), vec![good]);
    let m = dns_query(d, "example.com.", RecordType::A).await.unwrap();
    assert_eq!(
        m.metadata.response_code,
        ResponseCode::Refused,
        "not a resolver"
    );

    // TCP, length-prefixed.
    let mut s = TcpStream::connect(d).await.unwrap();
    let mut q = Message::new(7, MessageType::Query, OpCode::Query);
    q.add_query(Query::query(
        Name::from_ascii("multi.lab.test.").unwrap(),
        RecordType::A,
    ));
    let bytes = q.to_vec().unwrap();
    s.write_all(&(bytes.len() as u16).to_be_bytes())
        .await
        .unwrap();
    s.write_all(&bytes).await.unwrap();
    let mut len = [0u8; 2];
    s.read_exact(&mut len).await.unwrap();
    let mut body = vec![0u8; u16::from_be_bytes(len) as usize];
    s.read_exact(&mut body).await.unwrap();
    assert_eq!(a_records(&Message::from_vec(&body).unwrap()).len(), 2);

    // The inventory lists hosts and special names; wrongip expects another host's address.
    let inv = lab.inventory_csv();
    let lines: Vec<&str> = inv.lines().collect();
    assert_eq!(lines[0], "host,port,site,owner,expected,expect_ip");
    assert!(lines.contains(&"good-nla.lab.test,3389,lab,servers,ok,"));
    assert!(lines.contains(&"closed.lab.test,3389,lab,network,port-closed,"));
    assert!(lines.contains(&"nxdomain.lab.test,3389,lab,dns,dns-nxdomain,"));
    let wrong = lines.iter().find(|l| l.starts_with("wrongip.")).unwrap();
    let expect_ip: IpAddr = wrong.rsplit(',').next().unwrap().parse().unwrap();
    assert_ne!(expect_ip, good);
    lab.shutdown().await;
}

#[tokio::test]
async fn demo_fleet_starts_and_is_documented() {
    let fleet = Lab::demo_fleet();
    let lab = Lab::start(cfg(9, true), fleet.clone()).await.unwrap();
    assert_eq!(lab.hosts.len(), fleet.len());
    for h in &lab.hosts {
        assert!(h.name.as_deref().unwrap().ends_with(".lab.test"));
        assert!(!h.note.is_empty());
    }
    // Every behaviour kind appears.
    let has = |f: &dyn Fn(&Behavior) -> bool| lab.hosts.iter().any(|h| f(&h.behavior));
    for p in [
        RdpPolicy::WindowsNla,
        RdpPolicy::WindowsTls,
        RdpPolicy::WindowsNegotiate,
        RdpPolicy::RdpOnly,
        RdpPolicy::XrdpLike,
        RdpPolicy::CertMissing,
    ] {
        assert!(
            has(&|b| matches!(b, Behavior::Rdp(h) if h.policy == p)),
            "{p:?}"
        );
    }
    // RDP over UDP: answered, no socket, dropped.
    for m in [UdpMode::Answer, UdpMode::Closed, UdpMode::Silent] {
        assert!(
            has(&|b| matches!(b, Behavior::Rdp(h) if h.udp == m)),
            "{m:?}"
        );
    }
    let codes: std::collections::HashSet<rdpsweep::model::FindingCode> =
        lab.hosts.iter().map(|h| h.behavior.expected()).collect();
    assert!(codes.len() >= 25, "distinct verdicts: {}", codes.len());
    // Inventory: header + hosts + 8 DNS names.
    let inv = lab.inventory_csv();
    assert_eq!(inv.lines().count(), 1 + fleet.len() + 8);
    // The scanner's first connection to the healthy host works.
    let (_s, _, sel) = negotiate(&lab, "good-nla", 0x0B).await;
    assert_eq!(sel, 8);
    lab.shutdown().await;
}

#[tokio::test]
async fn scale_mix() {
    let lab = Lab::scale(400, Ipv4Addr::new(127, 78, 0, 1), PORT)
        .await
        .unwrap();
    assert_eq!(lab.hosts.len(), 400);
    assert!(lab.dns_addr.is_none());
    let count = |f: &dyn Fn(&Behavior) -> bool| lab.hosts.iter().filter(|h| f(&h.behavior)).count();
    let healthy = count(&|b| *b == Behavior::Rdp(RdpHost::new(RdpPolicy::WindowsNla)));
    assert_eq!(healthy, 300);
    assert_eq!(count(&|b| *b == Behavior::Closed), 12);
    assert_eq!(count(&|b| *b == Behavior::Filtered), 8);
    assert_eq!(count(&|b| *b == Behavior::Tls10Only), 12);
    // Not in blocks: the first 20 hosts already mix behaviours.
    let first: std::collections::HashSet<rdpsweep::model::FindingCode> = lab.hosts[..20]
        .iter()
        .map(|h| h.behavior.expected())
        .collect();
    assert!(first.len() >= 3);
    // Lazily made certificates carry the host's IP and verify against the lab CA.
    let h = lab
        .hosts
        .iter()
        .find(|h| h.behavior == Behavior::Rdp(RdpHost::new(RdpPolicy::WindowsNla)))
        .unwrap();
    let addr = SocketAddr::new(h.addr, h.port);
    for _ in 0..2 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(&cr(Some(0x03))).await.unwrap();
        let _ = read_n(&mut s, 19).await;
        tls(s, lab_ca_client(&lab), &h.addr.to_string())
            .await
            .expect("trusted by IP");
    }
    assert_eq!(lab.stats().host(h.addr).unwrap().accepted, 2);
    // Inventory rows use IPs.
    let inv = lab.inventory_csv();
    assert!(inv.lines().nth(1).unwrap().starts_with("127.78.0.1,3389,"));
    lab.shutdown().await;
}

/// Throughput smoke test (run with `--ignored --nocapture`): start time of a 5000-host lab and the
/// rate of complete first connections (CR, CC, TLS, CredSSP CHALLENGE) it serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn scale_throughput() {
    let t0 = std::time::Instant::now();
    let lab = Lab::scale(5000, Ipv4Addr::new(127, 79, 0, 1), PORT)
        .await
        .unwrap();
    eprintln!("started 5000 hosts in {:?}", t0.elapsed());
    let healthy: Vec<SocketAddr> = lab
        .hosts
        .iter()
        .filter(|h| h.behavior == Behavior::Rdp(RdpHost::new(RdpPolicy::WindowsNla)))
        .map(|h| SocketAddr::new(h.addr, h.port))
        .take(2000)
        .collect();
    let client = any_cert_client();
    let t1 = std::time::Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(64));
    let mut set = tokio::task::JoinSet::new();
    for a in healthy.clone() {
        let permit = sem.clone().acquire_owned().await.unwrap();
        let client = client.clone();
        set.spawn(async move {
            let _p = permit;
            let mut s = TcpStream::connect(a).await.unwrap();
            s.write_all(&cr(Some(0x0B))).await.unwrap();
            let _ = read_n(&mut s, 19).await;
            let mut t = tls(s, client, "x").await.unwrap();
            t.write_all(&negotiate_ts_request()).await.unwrap();
            let mut buf = [0u8; 2048];
            let n = t.read(&mut buf).await.unwrap();
            assert!(n > 100);
        });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    let el = t1.elapsed();
    eprintln!(
        "{} full NLA probes in {el:?}: {:.0}/s (client and lab share 2 cores)",
        healthy.len(),
        healthy.len() as f64 / el.as_secs_f64()
    );
    lab.shutdown().await;
}
