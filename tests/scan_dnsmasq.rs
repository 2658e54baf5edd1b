//! End to end through a REAL DNS server: dnsmasq serves a zone whose names point at lab hosts;
//! the binary scans an inventory mixing names, IPs and a CIDR, and every row must carry the right
//! DNS and TCP verdict in CSV and JSON Lines.

#[path = "support/dnsmasq.rs"]
mod dnsmasq;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::Command;

use hickory_proto::op::{Message, ResponseCode};
use rdpsweep::lab::{Behavior, Lab, LabConfig, RdpHost, RdpPolicy};
use tokio::net::UdpSocket;

const BIN: &str = env!("CARGO_BIN_EXE_rdpsweep");

/// An upstream that answers every query with SERVFAIL (dnsmasq passes it through).
async fn servfail_upstream() -> SocketAddr {
    let sock = UdpSocket::bind(SocketAddr::new(dnsmasq::loopback_ip(), 0))
        .await
        .expect("bind");
    let addr = sock.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        while let Ok((len, peer)) = sock.recv_from(&mut buf).await {
            let Some(Ok(req)) = buf.get(..len).map(Message::from_vec) else {
                continue;
            };
            let mut resp = Message::error_msg(
                req.metadata.id,
                req.metadata.op_code,
                ResponseCode::ServFail,
            );
            resp.add_queries(req.queries.clone());
            if let Ok(bytes) = resp.to_vec() {
                let _ = sock.send_to(&bytes, peer).await;
            }
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_ips_and_a_cidr_through_dnsmasq() {
    let Some(bin) = dnsmasq::binary_or_skip("names_ips_and_a_cidr_through_dnsmasq") else {
        return;
    };
    // The lab plays the hosts (no lab DNS: dnsmasq is the DNS here). Addresses 127.77.120.1..4.
    let hosts = vec![
        (
            Some("ts01.corp.test"),
            Behavior::Rdp(RdpHost::new(RdpPolicy::WindowsNla)),
            "healthy",
        ),
        (Some("closed"), Behavior::Closed, "closed"),
        (Some("filtered"), Behavior::Filtered, "filtered"),
        (Some("tarpit"), Behavior::Tarpit, "tarpit"),
    ];
    let lab = Lab::start(
        LabConfig {
            base: Ipv4Addr::new(127, 77, 120, 1),
            port: 3389,
            dns: false,
        },
        hosts,
    )
    .await
    .expect("lab");
    let addr = |n: &str| {
        lab.hosts
            .iter()
            .find(|h| h.name.as_deref() == Some(n))
            .unwrap()
            .addr
    };
    // ts01 carries a certificate and NTLM name of its own name, so it is healthy when scanned by it.
    let good = addr("ts01.corp.test");
    let (closed, filtered, tarpit) = (
        addr("closed.lab.test"),
        addr("filtered.lab.test"),
        addr("tarpit.lab.test"),
    );

    let upstream = servfail_upstream().await;
    let zone = vec![
        "--local=/corp.test/".to_string(),
        format!("--host-record=ts01.corp.test,{good}"),
        format!("--host-record=ts02.corp.test,{closed}"),
        format!("--host-record=ts03.corp.test,{filtered}"),
        format!("--host-record=farm.corp.test,{good}"),
        format!("--host-record=farm.corp.test,{closed}"),
        "--cname=rdp.corp.test,ts01.corp.test".to_string(),
        "--txt-record=noaddr.corp.test,only text".to_string(),
        format!(
            "--server=/broken.test/{}#{}",
            upstream.ip(),
            upstream.port()
        ),
    ];
    let dns = dnsmasq::Dnsmasq::start(&bin, &zone).expect("dnsmasq");

    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("fleet.csv");
    // A /31 keeps both addresses: good (.1) and closed (.2) are not /31-aligned, so use .2/31 = .2,.3
    // (closed and filtered).
    let cidr = format!("{closed}/31");
    std::fs::write(
        &inv,
        format!(
            "host,port,site,owner,expect_ip,rack\n\
             ts01.corp.test,3389,hq,ops,{good},r1\n\
             ts02.corp.test,,hq,ops,,r2\n\
             ts03.corp.test,,branch,ops,,r3\n\
             farm.corp.test,,hq,apps,,r4\n\
             rdp.corp.test,,hq,apps,,r5\n\
             noaddr.corp.test,,hq,apps,,r6\n\
             gone.corp.test,,hq,apps,,r7\n\
             host.broken.test,,dmz,sec,,r8\n\
             ts01.corp.test:3389,,dup,dup,,dup\n\
             {tarpit},,lab,ops,,r9\n\
             {cidr},,lab,net,,r10\n\
             wrongip.corp.test,,hq,ops,{tarpit},r11\n"
        ),
    )
    .unwrap();
    // wrongip.corp.test does not exist in the zone: NXDOMAIN (expect_ip only matters once it resolves).
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &lab.ca_pem).unwrap();
    let csv_path = dir.path().join("out.csv");
    let jsonl_path = dir.path().join("out.jsonl");
    let args: Vec<String> = [
        "scan",
        "-i",
        inv.to_str().unwrap(),
        "--dns-server",
        &dns.addr().to_string(),
        "--ca-bundle",
        ca.to_str().unwrap(),
        "--rate",
        "0",
        "--connect-timeout",
        "1s",
        "--timeout",
        "1500ms",
        "--dns-timeout",
        "1s",
        "--retries",
        "0",
        "--csv",
        csv_path.to_str().unwrap(),
        "--jsonl",
        jsonl_path.to_str().unwrap(),
        "-q",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let out = tokio::task::spawn_blocking(move || Command::new(BIN).args(&args).output().unwrap())
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        dns.log()
    );

    let mut rdr = csv::Reader::from_path(&csv_path).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let rows: Vec<HashMap<String, String>> = rdr
        .records()
        .map(|r| {
            headers
                .iter()
                .map(str::to_string)
                .zip(r.unwrap().iter().map(str::to_string))
                .collect()
        })
        .collect();
    // (host, address) -> (dns_status, tcp_status, verdict)
    let got: HashMap<(String, String), (String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                (r["host"].clone(), r["address"].clone()),
                (
                    r["dns_status"].clone(),
                    r["tcp_status"].clone(),
                    r["verdict"].clone(),
                ),
            )
        })
        .collect();
    let s = |ip: IpAddr| ip.to_string();
    let (tarpit_s, closed_s, filtered_s) = (s(tarpit), s(closed), s(filtered));
    type Row<'a> = ((&'a str, String), (&'a str, &'a str, &'a str));
    let expect: Vec<Row> = vec![
        (("ts01.corp.test", s(good)), ("resolved", "open", "ok")),
        (
            ("ts02.corp.test", s(closed)),
            ("resolved", "refused", "port-closed"),
        ),
        (
            ("ts03.corp.test", s(filtered)),
            ("resolved", "filtered", "port-filtered"),
        ),
        (
            ("farm.corp.test", s(good)),
            ("resolved", "open", "name-mismatch"),
        ),
        (
            ("farm.corp.test", s(closed)),
            ("resolved", "refused", "port-closed"),
        ),
        (
            ("rdp.corp.test", s(good)),
            ("resolved", "open", "cert-name-mismatch"),
        ),
        (
            ("noaddr.corp.test", String::new()),
            ("nodata", "", "dns-nodata"),
        ),
        (
            ("gone.corp.test", String::new()),
            ("nxdomain", "", "dns-nxdomain"),
        ),
        (
            ("host.broken.test", String::new()),
            ("servfail", "", "dns-servfail"),
        ),
        (
            (tarpit_s.as_str(), s(tarpit)),
            ("literal", "open", "rdp-no-reply"),
        ),
        (
            (closed_s.as_str(), s(closed)),
            ("literal", "refused", "port-closed"),
        ),
        (
            (filtered_s.as_str(), s(filtered)),
            ("literal", "filtered", "port-filtered"),
        ),
        (
            ("wrongip.corp.test", String::new()),
            ("nxdomain", "", "dns-nxdomain"),
        ),
    ];
    for ((host, address), (dns_s, tcp_s, verdict)) in &expect {
        let key = (host.to_string(), address.clone());
        let g = got
            .get(&key)
            .unwrap_or_else(|| panic!("no row for {key:?}; rows: {:?}", got.keys()));
        assert_eq!(
            (g.0.as_str(), g.1.as_str(), g.2.as_str()),
            (*dns_s, *tcp_s, *verdict),
            "{key:?}"
        );
    }
    assert_eq!(
        rows.len(),
        expect.len(),
        "duplicate ts01.corp.test:3389 scanned once; {:?}",
        got.keys()
    );
    // The inventory's own columns pass through, and expect_ip matched.
    let ts01 = rows.iter().find(|r| r["host"] == "ts01.corp.test").unwrap();
    assert_eq!(
        (
            ts01["site"].as_str(),
            ts01["owner"].as_str(),
            ts01["rack"].as_str()
        ),
        ("hq", "ops", "r1")
    );
    assert!(!ts01["findings"].contains("dns-mismatch"));
    // CNAME: the canonical name is recorded in JSONL.
    let reports = rdpsweep::report::jsonl::read_reports(&jsonl_path).unwrap();
    assert_eq!(reports.len(), rows.len());
    let alias = reports
        .iter()
        .find(|r| r.record.target.host == "rdp.corp.test")
        .unwrap();
    assert_eq!(
        alias.record.dns.canonical.as_deref(),
        Some("ts01.corp.test")
    );
    for r in &reports {
        let row = rows
            .iter()
            .find(|x| {
                x["host"] == r.record.target.host
                    && x["address"] == r.record.address.map(|a| a.to_string()).unwrap_or_default()
            })
            .expect("JSONL row in CSV");
        assert_eq!(row["verdict"], r.verdict.as_str());
        assert_eq!(row["dns_status"], r.record.dns.status.as_str());
    }
    lab.shutdown().await;
}
