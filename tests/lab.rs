//! The lab seen from plain tokio clients (not the scanner): every behaviour's raw wire behaviour.
//! Each test uses its own 127.77.N.0/24 so tests can run in parallel. Loopback only.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use rdpsweep::lab::{
    Behavior, CertKind, Hostile, Lab, LabConfig, NlaMode, RdpHost, RdpPolicy, TlsMode,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::timeout;

const PORT: u16 = 3389;

fn cfg(n: u8, dns: bool) -> LabConfig {
    LabConfig {
        base: Ipv4Addr::new(127, 77, n, 1),
        port: PORT,
        dns,
    }
}

/// X.224 CR with cookie "test" and, when `req` is Some, an RDP_NEG_REQ.
fn cr(req: Option<u32>) -> Vec<u8> {
    let cookie = b"Cookie: mstshash=test\r\n";
    let neg = req.map(|r| {
        let v = r.to_le_bytes();
        [0x01, 0x00, 0x08, 0x00, v[0], v[1], v[2], v[3]] // RDP_NEG_REQ, flags 0, length 8, requested
    });
    let len = 11 + cookie.len() + if neg.is_some() { 8 } else { 0 };
    let mut out = vec![0x03, 0x00, 0x00, len as u8]; // TPKT v3, length
    out.extend_from_slice(&[(len - 5) as u8, 0xE0, 0, 0, 0, 0, 0]); // LI, CR, DST-REF, SRC-REF, class 0
    out.extend_from_slice(cookie);
    if let Some(n) = neg {
        out.extend_from_slice(&n);
    }
    out
}

#[derive(Debug, PartialEq, Eq)]
enum Got {
    Data(Vec<u8>),
    Eof,
    Reset,
    Timeout,
    Other(io::ErrorKind),
}

/// One read of up to `max` bytes.
async fn read_once(s: &mut TcpStream, max: usize, wait: Duration) -> Got {
    let mut buf = vec![0u8; max];
    match timeout(wait, s.read(&mut buf)).await {
        Err(_) => Got::Timeout,
        Ok(Ok(0)) => Got::Eof,
        Ok(Ok(n)) => {
            buf.truncate(n);
            Got::Data(buf)
        }
        Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionReset => Got::Reset,
        Ok(Err(e)) => Got::Other(e.kind()),
    }
}

/// Read exactly `n` bytes (or fail).
async fn read_n(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    timeout(Duration::from_secs(5), s.read_exact(&mut buf))
        .await
        .expect("reply in time")
        .expect("reply bytes");
    buf
}

/// Read until EOF/reset/timeout, collecting at most `cap` bytes.
async fn read_all(s: &mut TcpStream, cap: usize, wait: Duration) -> (Vec<u8>, Got) {
    let mut all = Vec::new();
    loop {
        match read_once(s, 65536, wait).await {
            Got::Data(d) => {
                all.extend_from_slice(&d);
                if all.len() >= cap {
                    return (all, Got::Data(Vec::new()));
                }
            }
            end => return (all, end),
        }
    }
}

fn sock(lab: &Lab, name: &str) -> SocketAddr {
    let h = lab
        .by_name(name)
        .unwrap_or_else(|| panic!("no host {name}"));
    SocketAddr::new(h.addr, h.port)
}

async fn connect(lab: &Lab, name: &str) -> TcpStream {
    timeout(Duration::from_secs(3), TcpStream::connect(sock(lab, name)))
        .await
        .expect("connect in time")
        .expect("connect")
}

/// Send a CR and read the 19-byte CC; returns the RDP_NEG_* part (type, value).
async fn negotiate(lab: &Lab, name: &str, req: u32) -> (TcpStream, u8, u32) {
    let mut s = connect(lab, name).await;
    s.write_all(&cr(Some(req))).await.unwrap();
    let cc = read_n(&mut s, 19).await;
    assert_eq!(
        &cc[..4],
        &[0x03, 0x00, 0x00, 0x13],
        "TPKT of a CC with negData"
    );
    assert_eq!(&cc[4..6], &[0x0E, 0xD0], "LI 14, CC TPDU");
    let value = u32::from_le_bytes([cc[15], cc[16], cc[17], cc[18]]);
    (s, cc[11], value)
}

#[derive(Debug)]
struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn any_cert_client() -> Arc<ClientConfig> {
    let p = provider();
    let mut c = ClientConfig::builder_with_provider(p.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAny(p)))
        .with_no_client_auth();
    c.enable_sni = false;
    Arc::new(c)
}

fn lab_ca_client(lab: &Lab) -> Arc<ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut lab.ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let c = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(c)
}

type ClientTls = tokio_rustls::client::TlsStream<TcpStream>;

async fn tls(s: TcpStream, cfg: Arc<ClientConfig>, name: &str) -> Result<ClientTls, io::Error> {
    let server = ServerName::try_from(name.to_string()).unwrap();
    timeout(
        Duration::from_secs(5),
        tokio_rustls::TlsConnector::from(cfg).connect(server, s),
    )
    .await
    .unwrap_or_else(|_| Err(io::Error::new(io::ErrorKind::TimedOut, "tls timeout")))
}

fn leaf(t: &ClientTls) -> Vec<u8> {
    t.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

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

/// TSRequest v6 carrying a raw NTLM NEGOTIATE (rdp-protocol.md 3.2).
fn negotiate_ts_request() -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&[0x30, 0x37, 0xA0, 0x03, 0x02, 0x01, 0x06]); // TSRequest, version 6
    m.extend_from_slice(&[0xA1, 0x30, 0x30, 0x2E, 0x30, 0x2C, 0xA0, 0x2A, 0x04, 0x28]); // negoTokens
    m.extend_from_slice(b"NTLMSSP\0"); // signature
    m.extend_from_slice(&1u32.to_le_bytes()); // NEGOTIATE
    m.extend_from_slice(&0xE208_8297u32.to_le_bytes()); // flags
    m.extend_from_slice(&[0; 16]); // domain and workstation fields
    m.extend_from_slice(&[10, 0, 0x7C, 0x4F, 0, 0, 0, 0x0F]); // version 10.0.20348, rev 15
    m
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

/// A hand-made ClientHello (legacy_version `max`, no supported_versions) offering `suites`.
fn raw_hello(max: u16, suites: &[u16]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&max.to_be_bytes()); // client_version
    body.extend_from_slice(&[0x11; 32]); // random
    body.push(0); // no session id
    body.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes()); // cipher_suites length
    for s in suites {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]); // compression methods: null
    body.extend_from_slice(&[0x00, 0x05, 0xFF, 0x01, 0x00, 0x01, 0x00]); // renegotiation_info
    let mut hs = vec![0x01, 0, (body.len() >> 8) as u8, body.len() as u8]; // ClientHello, u24 length
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 0x03, 0x01, (hs.len() >> 8) as u8, hs.len() as u8]; // handshake record
    rec.extend_from_slice(&hs);
    rec
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
    let codes: std::collections::HashSet<&str> =
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
    let first: std::collections::HashSet<&str> = lab.hosts[..20]
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
