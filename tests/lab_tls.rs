//! The lab's TLS side seen from plain tokio/rustls clients (not the scanner): certificates as
//! planted, the CredSSP CHALLENGE, and the legacy (pre-1.2) TLS hosts answering hand-made
//! hellos. Each test uses its own 127.77.N.0/24 (shared with tests/lab.rs's numbering) so tests
//! can run in parallel. Loopback only.

use std::io;
use std::time::Duration;

use rdpsweep::lab::{Behavior, CertKind, Lab, NlaMode, RdpHost, RdpPolicy, TlsMode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout;

#[path = "support/lab_client.rs"]
mod lab_client;
use lab_client::*;

#[tokio::test]
async fn certificates_as_planted() {
    let nla = || RdpHost::new(RdpPolicy::WindowsNla);
    let lab = Lab::start(
        cfg(3, false),
        vec![
            (Some("valid"), Behavior::Rdp(nla()), ""),
            (
                Some("expired"),
                Behavior::Rdp(nla().cert(CertKind::Expired)),
                "",
            ),
            (
                Some("expiring"),
                Behavior::Rdp(nla().cert(CertKind::Expiring)),
                "",
            ),
            (
                Some("future"),
                Behavior::Rdp(nla().cert(CertKind::NotYetValid)),
                "",
            ),
            (
                Some("wrongname"),
                Behavior::Rdp(nla().cert(CertKind::WrongName)),
                "",
            ),
            (
                Some("selfsigned"),
                Behavior::Rdp(nla().cert(CertKind::SelfSigned)),
                "",
            ),
            (
                Some("tlsreset"),
                Behavior::Rdp(nla().tls(TlsMode::ResetAfterHello)),
                "",
            ),
            (
                Some("tlsstall"),
                Behavior::Rdp(nla().tls(TlsMode::Stall)),
                "",
            ),
            (
                Some("xrdp"),
                Behavior::Rdp(RdpHost::new(RdpPolicy::XrdpLike)),
                "",
            ),
        ],
    )
    .await
    .unwrap();

    // The valid certificate verifies against the lab CA for its name, and for its IP.
    let (s, _, sel) = negotiate(&lab, "valid", 0x01 | 0x02).await;
    assert_eq!(sel, 2);
    let t = tls(s, lab_ca_client(&lab), "valid.lab.test")
        .await
        .expect("trusted handshake");
    assert_eq!(
        t.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
    let ip = lab.by_name("valid").unwrap().addr.to_string();
    let (s, _, _) = negotiate(&lab, "valid", 0x03).await;
    tls(s, lab_ca_client(&lab), &ip).await.expect("IP SAN");
    // xrdp-like hosts also speak TLS 1.3.
    let (s, _, sel) = negotiate(&lab, "xrdp", 0x0B).await;
    assert_eq!(sel, 1);
    let t = tls(s, any_cert_client(), "xrdp.lab.test").await.unwrap();
    assert_eq!(
        t.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );

    let day = 86_400;
    for host in [
        "valid",
        "expired",
        "expiring",
        "future",
        "wrongname",
        "selfsigned",
    ] {
        let (s, _, _) = negotiate(&lab, host, 0x03).await;
        let t = tls(s, any_cert_client(), "x.lab.test").await.expect(host);
        let der = leaf(&t);
        let (_, c) = x509_parser::parse_x509_certificate(&der).unwrap();
        let nb = c.validity().not_before.timestamp();
        let na = c.validity().not_after.timestamp();
        let cn = c.subject().to_string();
        let self_signed = c.subject() == c.issuer();
        let n = now();
        match host {
            "expired" => assert!(na < n - 29 * day),
            "expiring" => assert!(na > n + 9 * day && na < n + 11 * day),
            "future" => assert!(nb > n + 29 * day),
            _ => assert!(nb < n && na > n + 150 * day, "{host}"),
        }
        if host == "wrongname" {
            assert_eq!(cn, "CN=other-server.lab.test");
        } else {
            assert_eq!(cn, format!("CN={host}.lab.test"));
        }
        assert_eq!(self_signed, host == "selfsigned", "{host}");
        assert_eq!(
            c.issuer().to_string().contains("rdpsweep lab CA"),
            host != "selfsigned"
        );
    }
    // The wrong-name certificate does not verify for the host's name.
    let (s, _, _) = negotiate(&lab, "wrongname", 0x03).await;
    assert!(
        tls(s, lab_ca_client(&lab), "wrongname.lab.test")
            .await
            .is_err()
    );

    // Reset right after the ClientHello.
    let (s, _, sel) = negotiate(&lab, "tlsreset", 0x0B).await;
    assert_eq!(sel, 8);
    let e = tls(s, any_cert_client(), "x.lab.test").await.unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "{e}");
    // Stall: CC arrives, no TLS byte ever does.
    let (mut s, _, _) = negotiate(&lab, "tlsstall", 0x0B).await;
    s.write_all(&[0x16, 0x03, 0x01, 0x00, 0x00]).await.unwrap();
    assert_eq!(
        read_once(&mut s, 64, Duration::from_millis(800)).await,
        Got::Timeout
    );
    lab.shutdown().await;
}

#[derive(Debug, Default)]
struct Challenge {
    ts_version: u8,
    error_code: Option<Vec<u8>>,
    names: Vec<(u16, String)>,
    timestamp: Option<u64>,
    os: (u8, u8, u16),
}

/// Test-side reading of the server's TSRequest: version, errorCode, and the CHALLENGE's AV pairs.
fn read_challenge(reply: &[u8]) -> Challenge {
    let mut c = Challenge::default();
    let hdr = if reply[1] < 0x80 {
        2
    } else {
        2 + (reply[1] & 0x7F) as usize
    };
    assert_eq!(
        &reply[hdr..hdr + 4],
        &[0xA0, 0x03, 0x02, 0x01],
        "version [0]"
    );
    c.ts_version = reply[hdr + 4];
    if reply[hdr + 5] == 0xA4 {
        let l = reply[hdr + 8] as usize;
        c.error_code = Some(reply[hdr + 9..hdr + 9 + l].to_vec());
        return c;
    }
    let at = reply
        .windows(8)
        .position(|w| w == b"NTLMSSP\0")
        .expect("NTLMSSP");
    let m = &reply[at..];
    assert_eq!(
        u32::from_le_bytes(m[8..12].try_into().unwrap()),
        2,
        "CHALLENGE"
    );
    let ti_len = u16::from_le_bytes([m[40], m[41]]) as usize;
    let ti_off = u32::from_le_bytes(m[44..48].try_into().unwrap()) as usize;
    c.os = (m[48], m[49], u16::from_le_bytes([m[50], m[51]]));
    let mut info = &m[ti_off..ti_off + ti_len];
    while info.len() >= 4 {
        let id = u16::from_le_bytes([info[0], info[1]]);
        let len = u16::from_le_bytes([info[2], info[3]]) as usize;
        let v = &info[4..4 + len];
        match id {
            0 => break,
            7 => c.timestamp = Some(u64::from_le_bytes(v.try_into().unwrap())),
            _ => {
                let u: Vec<u16> = v
                    .chunks(2)
                    .map(|p| u16::from_le_bytes([p[0], p[1]]))
                    .collect();
                c.names.push((id, String::from_utf16(&u).unwrap()));
            }
        }
        info = &info[4 + len..];
    }
    c
}

async fn credssp_round_trip(lab: &Lab, host: &str) -> (Result<Vec<u8>, io::Error>, ClientTls) {
    let (s, _, sel) = negotiate(lab, host, 0x0B).await;
    assert_eq!(sel, 8, "{host}: HYBRID_EX");
    let mut t = tls(s, any_cert_client(), "x.lab.test").await.expect(host);
    t.write_all(&negotiate_ts_request()).await.unwrap();
    t.flush().await.unwrap();
    let mut buf = vec![0u8; 4096];
    let r = match timeout(Duration::from_secs(5), t.read(&mut buf)).await {
        Ok(Ok(n)) => {
            buf.truncate(n);
            Ok(buf)
        }
        Ok(Err(e)) => Err(e),
        Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "no reply")),
    };
    (r, t)
}

#[tokio::test]
async fn credssp_challenges() {
    let nla = || RdpHost::new(RdpPolicy::WindowsNla);
    let lab = Lab::start(
        cfg(4, false),
        vec![
            (Some("patched"), Behavior::Rdp(nla()), ""),
            (
                Some("unpatched"),
                Behavior::Rdp(nla().nla(NlaMode::Unpatched).os(10, 0, 14393)),
                "",
            ),
            (
                Some("mismatch"),
                Behavior::Rdp(nla().nla(NlaMode::NameMismatch)),
                "",
            ),
            (
                Some("skew"),
                Behavior::Rdp(nla().nla(NlaMode::ClockSkew)),
                "",
            ),
            (
                Some("reset"),
                Behavior::Rdp(nla().nla(NlaMode::ResetAfterRequest)),
                "",
            ),
            (
                Some("error"),
                Behavior::Rdp(nla().nla(NlaMode::ErrorCode(0xC000_006D))),
                "",
            ),
            (
                Some("baddier"),
                Behavior::Rdp(nla().nla(NlaMode::MalformedReply)),
                "",
            ),
            (
                Some("badntlm"),
                Behavior::Rdp(nla().nla(NlaMode::BadOffsets)),
                "",
            ),
        ],
    )
    .await
    .unwrap();
    let filetime_now = (now() as u64 + 11_644_473_600) * 10_000_000;
    let minute = 60 * 10_000_000u64;

    let (r, _t) = credssp_round_trip(&lab, "patched").await;
    let c = read_challenge(&r.unwrap());
    assert_eq!(c.ts_version, 6);
    assert_eq!(c.os, (10, 0, 20348));
    assert_eq!(
        c.names,
        [
            (2, "LAB".to_string()),
            (1, "PATCHED".to_string()),
            (4, "lab.test".to_string()),
            (3, "patched.lab.test".to_string()),
            (5, "lab.test".to_string()),
        ]
    );
    assert!(c.timestamp.unwrap().abs_diff(filetime_now) < minute);

    let (r, _t) = credssp_round_trip(&lab, "unpatched").await;
    let c = read_challenge(&r.unwrap());
    assert_eq!((c.ts_version, c.os), (3, (10, 0, 14393)));

    let (r, _t) = credssp_round_trip(&lab, "mismatch").await;
    let c = read_challenge(&r.unwrap());
    assert!(c.names.contains(&(1, "OLDSRV07".to_string())));
    assert!(c.names.contains(&(3, "oldsrv07.lab.test".to_string())));

    let (r, _t) = credssp_round_trip(&lab, "skew").await;
    let c = read_challenge(&r.unwrap());
    let two_hours = 7200 * 10_000_000u64;
    assert!(c.timestamp.unwrap().abs_diff(filetime_now + two_hours) < minute);

    let (r, _t) = credssp_round_trip(&lab, "reset").await;
    let e = r.unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "{e}");

    let (r, _t) = credssp_round_trip(&lab, "error").await;
    let c = read_challenge(&r.unwrap());
    assert_eq!(c.error_code, Some(vec![0xC0, 0x00, 0x00, 0x6D]));

    let (r, _t) = credssp_round_trip(&lab, "baddier").await;
    let b = r.unwrap();
    assert_eq!(
        &b[..9],
        &[0x30, 0x0B, 0xA0, 0x03, 0x02, 0x01, 0x06, 0xA1, 0x84]
    );

    let (r, _t) = credssp_round_trip(&lab, "badntlm").await;
    let b = r.unwrap();
    let at = b.windows(8).position(|w| w == b"NTLMSSP\0").unwrap();
    let off = u32::from_le_bytes(b[at + 44..at + 48].try_into().unwrap()) as usize;
    assert!(
        at + off > b.len(),
        "TargetInfo offset must point past the end"
    );

    // Stats kept every plaintext byte: the CR and the TSRequest, and no NTLM AUTHENTICATE.
    let st = lab.stats();
    let cap = &st.host(sock(&lab, "patched").ip()).unwrap().captured;
    let ts = negotiate_ts_request();
    assert!(cap.starts_with(&cr(Some(0x0B))));
    assert!(cap.windows(ts.len()).any(|w| w == ts.as_slice()));
    let authenticate = [b"NTLMSSP\0".as_slice(), &[3, 0, 0, 0]].concat();
    assert!(!cap.windows(12).any(|w| w == authenticate.as_slice()));
    lab.shutdown().await;
}

/// (version, suite, certificate DER) from a ServerHello + Certificate flight.
fn read_flight(b: &[u8]) -> (u16, u16, Vec<u8>) {
    let mut hs = Vec::new();
    let mut p = 0;
    while p + 5 <= b.len() {
        assert_eq!(b[p], 0x16, "handshake record");
        let l = u16::from_be_bytes([b[p + 3], b[p + 4]]) as usize;
        hs.extend_from_slice(&b[p + 5..p + 5 + l]);
        p += 5 + l;
    }
    assert_eq!(hs[0], 0x02, "ServerHello");
    let sh_len = u32::from_be_bytes([0, hs[1], hs[2], hs[3]]) as usize;
    let version = u16::from_be_bytes([hs[4], hs[5]]);
    let sid = hs[4 + 34] as usize;
    let suite = u16::from_be_bytes([hs[4 + 35 + sid], hs[4 + 36 + sid]]);
    let c = &hs[4 + sh_len..];
    assert_eq!(c[0], 0x0B, "Certificate");
    let first = u32::from_be_bytes([0, c[7], c[8], c[9]]) as usize;
    let cert = c[10..10 + first].to_vec();
    assert!(hs.ends_with(&[0x0E, 0, 0, 0]), "ServerHelloDone");
    (version, suite, cert)
}

async fn raw_tls_exchange(lab: &Lab, host: &str, hello: &[u8]) -> Vec<u8> {
    let (mut s, _, sel) = negotiate(lab, host, 0x0B).await;
    assert_eq!(sel, 1, "{host} selects SSL");
    s.write_all(hello).await.unwrap();
    let (bytes, _) = read_all(&mut s, 1 << 20, Duration::from_millis(500)).await;
    bytes
}

#[tokio::test]
async fn legacy_tls_servers() {
    let lab = Lab::start(
        cfg(5, false),
        vec![
            (Some("tls10"), Behavior::Tls10Only, ""),
            (Some("cbc"), Behavior::CbcOnlyTls12, ""),
            (Some("weak"), Behavior::WeakCert, ""),
        ],
    )
    .await
    .unwrap();
    // TLS 1.0 only: answers a 1.0-1.2 hello at 1.0 with an RSA-2048 certificate for its name.
    let b = raw_tls_exchange(&lab, "tls10", &raw_hello(0x0303, &[0xC02F, 0x002F, 0x0035])).await;
    let (v, suite, cert) = read_flight(&b);
    assert_eq!((v, suite), (0x0301, 0x002F));
    let (_, c) = x509_parser::parse_x509_certificate(&cert).unwrap();
    assert_eq!(c.public_key().parsed().unwrap().key_size(), 2048);
    assert_eq!(c.subject().to_string(), "CN=tls10.lab.test");
    // ... and alert 70 to rustls (TLS 1.2/1.3 only).
    let (s, _, _) = negotiate(&lab, "tls10", 0x0B).await;
    let e = tls(s, any_cert_client(), "x.lab.test").await.unwrap_err();
    let alert = e
        .get_ref()
        .and_then(|i| i.downcast_ref::<rustls::Error>())
        .cloned();
    assert_eq!(
        alert,
        Some(rustls::Error::AlertReceived(
            rustls::AlertDescription::ProtocolVersion
        ))
    );
    let b = raw_tls_exchange(&lab, "tls10", &raw_hello(0x0303, &[0xC02F])).await;
    assert_eq!(
        b,
        [0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 40],
        "handshake_failure without a common suite"
    );

    // CBC only: TLS 1.2 + 0x002F to a hello offering it; alert 40 to rustls (AEAD only).
    let b = raw_tls_exchange(&lab, "cbc", &raw_hello(0x0303, &[0xC02F, 0x002F])).await;
    let (v, suite, _) = read_flight(&b);
    assert_eq!((v, suite), (0x0303, 0x002F));
    let b = raw_tls_exchange(&lab, "cbc", &raw_hello(0x0301, &[0x002F])).await;
    assert_eq!(read_flight(&b).0, 0x0301, "a 1.0-only client gets 1.0");
    let (s, _, _) = negotiate(&lab, "cbc", 0x0B).await;
    let e = tls(s, any_cert_client(), "x.lab.test").await.unwrap_err();
    let alert = e
        .get_ref()
        .and_then(|i| i.downcast_ref::<rustls::Error>())
        .cloned();
    assert_eq!(
        alert,
        Some(rustls::Error::AlertReceived(
            rustls::AlertDescription::HandshakeFailure
        ))
    );

    // Weak certificate: the committed RSA-1024 / SHA-1 fixture.
    let b = raw_tls_exchange(&lab, "weak", &raw_hello(0x0303, &[0x002F])).await;
    let (_, _, cert) = read_flight(&b);
    assert_eq!(cert, rdpsweep::lab::WEAK_CERT_DER);
    let (_, c) = x509_parser::parse_x509_certificate(&cert).unwrap();
    assert_eq!(c.public_key().parsed().unwrap().key_size(), 1024);
    assert_eq!(
        c.signature_algorithm.algorithm.to_id_string(),
        "1.2.840.113549.1.1.5"
    );
    lab.shutdown().await;
}
