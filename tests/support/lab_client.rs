//! Plain tokio/rustls clients for talking to the lab in tests/lab.rs and tests/lab_tls.rs:
//! X.224 requests, bounded reads, and TLS clients that accept any certificate or the lab CA.
#![allow(dead_code)] // each test file uses a different part of this helper

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rdpsweep::lab::{Lab, LabConfig};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

pub const PORT: u16 = 3389;

pub fn cfg(n: u8, dns: bool) -> LabConfig {
    LabConfig {
        base: Ipv4Addr::new(127, 77, n, 1),
        port: PORT,
        dns,
    }
}

/// X.224 CR with cookie "test" and, when `req` is Some, an RDP_NEG_REQ.
pub fn cr(req: Option<u32>) -> Vec<u8> {
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
pub enum Got {
    Data(Vec<u8>),
    Eof,
    Reset,
    Timeout,
    Other(io::ErrorKind),
}

/// One read of up to `max` bytes.
pub async fn read_once(s: &mut TcpStream, max: usize, wait: Duration) -> Got {
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
pub async fn read_n(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    timeout(Duration::from_secs(5), s.read_exact(&mut buf))
        .await
        .expect("reply in time")
        .expect("reply bytes");
    buf
}

/// Read until EOF/reset/timeout, collecting at most `cap` bytes.
pub async fn read_all(s: &mut TcpStream, cap: usize, wait: Duration) -> (Vec<u8>, Got) {
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

pub fn sock(lab: &Lab, name: &str) -> SocketAddr {
    let h = lab
        .by_name(name)
        .unwrap_or_else(|| panic!("no host {name}"));
    SocketAddr::new(h.addr, h.port)
}

pub async fn connect(lab: &Lab, name: &str) -> TcpStream {
    timeout(Duration::from_secs(3), TcpStream::connect(sock(lab, name)))
        .await
        .expect("connect in time")
        .expect("connect")
}

/// Send a CR and read the 19-byte CC; returns the RDP_NEG_* part (type, value).
pub async fn negotiate(lab: &Lab, name: &str, req: u32) -> (TcpStream, u8, u32) {
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
pub struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);

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

pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

pub fn any_cert_client() -> Arc<ClientConfig> {
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

pub fn lab_ca_client(lab: &Lab) -> Arc<ClientConfig> {
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

pub type ClientTls = tokio_rustls::client::TlsStream<TcpStream>;

pub async fn tls(s: TcpStream, cfg: Arc<ClientConfig>, name: &str) -> Result<ClientTls, io::Error> {
    let server = ServerName::try_from(name.to_string()).unwrap();
    timeout(
        Duration::from_secs(5),
        tokio_rustls::TlsConnector::from(cfg).connect(server, s),
    )
    .await
    .unwrap_or_else(|_| Err(io::Error::new(io::ErrorKind::TimedOut, "tls timeout")))
}

pub fn leaf(t: &ClientTls) -> Vec<u8> {
    t.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A hand-made ClientHello (legacy_version `max`, no supported_versions) offering `suites`.
pub fn raw_hello(max: u16, suites: &[u16]) -> Vec<u8> {
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

/// TSRequest v6 carrying a raw NTLM NEGOTIATE (docs/protocol.md §7.2).
pub fn negotiate_ts_request() -> Vec<u8> {
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
