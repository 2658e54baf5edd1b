//! `Resolver::lookup` against a real dnsmasq: every `DnsStatus` from a real server's answers.
//!
//! The zone (lab.test) is defined on dnsmasq's command line; broken upstreams are tiny UDP
//! responders in this test that answer every query with one rcode. All on 127.53.x.y.
//!
//! What dnsmasq 2.90 does, observed while writing this test:
//! - a name under `--local=/lab.test/` without records: NXDOMAIN;
//! - a local name with other records (TXT) or only an A record, asked for a missing type:
//!   NOERROR with an empty answer (NODATA);
//! - a name outside every `--local`/`--server` domain with `--no-resolv`: REFUSED (no
//!   upstream for it);
//! - SERVFAIL, REFUSED and NOTIMP from an upstream: passed to the client as they are;
//! - an upstream that never answers (nothing listening on the port): dnsmasq never answers
//!   either (nothing after 25 s); the client sees a timeout.

#[path = "support/dnsmasq.rs"]
mod dnsmasq;

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, ResponseCode};
use rdpsweep::model::DnsStatus;
use rdpsweep::resolve::{Resolver, ResolverOptions, parse_pin};
use tokio::net::UdpSocket;

/// A UDP "upstream" that answers every query with `rcode` and no records.
async fn rcode_upstream(rcode: ResponseCode) -> SocketAddr {
    let sock = UdpSocket::bind(SocketAddr::new(dnsmasq::loopback_ip(), 0))
        .await
        .expect("bind upstream");
    let addr = sock.local_addr().expect("upstream addr");
    tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        while let Ok((len, peer)) = sock.recv_from(&mut buf).await {
            let Some(Ok(req)) = buf.get(..len).map(Message::from_vec) else {
                continue;
            };
            let mut resp = Message::error_msg(req.metadata.id, req.metadata.op_code, rcode);
            resp.metadata.recursion_desired = req.metadata.recursion_desired;
            resp.add_queries(req.queries.clone());
            if let Ok(bytes) = resp.to_vec() {
                let _ = sock.send_to(&bytes, peer).await;
            }
        }
    });
    addr
}

/// `IP#PORT`, dnsmasq's way to write an upstream.
fn upstream(addr: SocketAddr) -> String {
    format!("{}#{}", addr.ip(), addr.port())
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

#[tokio::test]
async fn every_status_from_dnsmasq() {
    let Some(bin) = dnsmasq::binary_or_skip("every_status_from_dnsmasq") else {
        return;
    };
    let servfail = rcode_upstream(ResponseCode::ServFail).await;
    let refused = rcode_upstream(ResponseCode::Refused).await;
    let notimp = rcode_upstream(ResponseCode::NotImp).await;
    // A port with nothing behind it.
    let dead_ip = dnsmasq::loopback_ip();
    let dead = SocketAddr::new(dead_ip, dnsmasq::free_port(dead_ip).expect("free port"));

    let zone: Vec<String> = [
        "--local=/lab.test/",
        "--host-record=multi.lab.test,10.53.0.1",
        "--host-record=multi.lab.test,10.53.0.2",
        "--host-record=dual.lab.test,10.53.0.3,fd53::3",
        "--host-record=v4only.lab.test,10.53.0.4",
        "--cname=alias.lab.test,dual.lab.test",
        "--txt-record=txtonly.lab.test,no addresses here",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        format!("--server=/broken.test/{}", upstream(servfail)),
        format!("--server=/refused.test/{}", upstream(refused)),
        format!("--server=/notimp.test/{}", upstream(notimp)),
        format!("--server=/dead.test/{}", upstream(dead)),
    ])
    .collect();
    let dns = dnsmasq::Dnsmasq::start(&bin, &zone).expect("start dnsmasq");

    let (pin_name, pin_ip) = parse_pin("pinned.lab.test=10.53.9.9").expect("pin");
    let opts = ResolverOptions {
        servers: vec![dns.addr()],
        pins: vec![(pin_name, vec![pin_ip])],
        timeout: Duration::from_secs(2),
        attempts: 2,
        rate: 0,
        ptr_rate: 0,
        ptr: true,
    };
    let r = Resolver::new(opts.clone()).expect("resolver");

    let out = r.lookup("multi.lab.test").await;
    assert_eq!(out.status, DnsStatus::Resolved, "{out:?}\n{}", dns.log());
    let mut got = out.addresses.clone();
    got.sort();
    assert_eq!(got, vec![ip("10.53.0.1"), ip("10.53.0.2")]);

    let out = r.lookup("dual.lab.test").await;
    assert_eq!(out.status, DnsStatus::Resolved);
    assert_eq!(
        out.addresses,
        vec![ip("10.53.0.3"), ip("fd53::3")],
        "A first"
    );

    let out = r.lookup("Alias.Lab.Test").await;
    assert_eq!(out.status, DnsStatus::Resolved, "{out:?}");
    assert_eq!(out.addresses, vec![ip("10.53.0.3"), ip("fd53::3")]);
    assert_eq!(out.canonical.as_deref(), Some("dual.lab.test"));

    // AAAA is NODATA, A answers: resolved.
    let out = r.lookup("v4only.lab.test").await;
    assert_eq!(out.status, DnsStatus::Resolved);
    assert_eq!(out.addresses, vec![ip("10.53.0.4")]);

    let cases = [
        ("missing.lab.test", DnsStatus::Nxdomain),
        ("txtonly.lab.test", DnsStatus::Nodata),
        ("host.broken.test", DnsStatus::Servfail),
        ("host.refused.test", DnsStatus::Refused),
        ("elsewhere.example", DnsStatus::Refused),
        ("host.notimp.test", DnsStatus::Error),
    ];
    for (name, status) in cases {
        let out = r.lookup(name).await;
        assert_eq!(out.status, status, "{name}: {out:?}\n{}", dns.log());
        assert!(out.addresses.is_empty(), "{name}");
        assert_eq!(
            out.error.is_some(),
            status == DnsStatus::Error,
            "{name}: {out:?}"
        );
    }

    let out = r.lookup("pinned.lab.test").await;
    assert_eq!(out.status, DnsStatus::Pinned);
    assert_eq!(out.addresses, vec![ip("10.53.9.9")]);
    assert!(
        !dns.log().contains("pinned.lab.test"),
        "a pinned name is never queried"
    );

    let out = r.lookup("10.53.0.7").await;
    assert_eq!(out.status, DnsStatus::Literal);
    assert_eq!(out.addresses, vec![ip("10.53.0.7")]);

    // --host-record also publishes the PTR.
    assert_eq!(
        r.ptr(ip("10.53.0.3")).await.as_deref(),
        Some("dual.lab.test")
    );
    assert_eq!(r.ptr(ip("10.53.0.99")).await, None);

    // Dead upstream: dnsmasq stays silent, so the lookup times out after timeout x attempts.
    let short = Resolver::new(ResolverOptions {
        timeout: Duration::from_millis(400),
        attempts: 2,
        ..opts
    })
    .expect("resolver");
    let start = Instant::now();
    let out = short.lookup("host.dead.test").await;
    let took = start.elapsed();
    assert_eq!(out.status, DnsStatus::Timeout, "{out:?}\n{}", dns.log());
    assert!(took >= Duration::from_millis(750), "gave up after {took:?}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert!(
        dns.log().contains("forwarded host.dead.test"),
        "dnsmasq did forward it:\n{}",
        dns.log()
    );
}
