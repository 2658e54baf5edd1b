//! rustls client configurations that accept any certificate chain.
//!
//! The scanner must complete the handshake with expired, self-signed and mismatched
//! certificates to *report* them: the verifier here records nothing and judges nothing, the
//! chain is read after the handshake with `conn.peer_certificates()` and judged by
//! `crate::cert` (facts) and `diagnose` (verdicts). Never use these configs to send secrets.

use std::io;
use std::sync::Arc;

use rustls::client::Resumption;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, ring};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    ClientConfig, DigitallySignedStruct, InvalidMessage, SignatureScheme, SupportedProtocolVersion,
};

use crate::model::TlsStatus;
use crate::tls::legacy::TlsVersion;
use crate::tls::suites;

/// Accepts every chain and every handshake signature, but advertises the signature schemes
/// the ring provider really supports so that servers pick a normal one.
#[derive(Debug)]
pub struct AcceptAnyServerCert {
    schemes: Vec<SignatureScheme>,
}

impl AcceptAnyServerCert {
    pub fn new(provider: &CryptoProvider) -> AcceptAnyServerCert {
        AcceptAnyServerCert {
            schemes: provider
                .signature_verification_algorithms
                .supported_schemes(),
        }
    }
}

impl ServerCertVerifier for AcceptAnyServerCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.schemes.clone()
    }
}

/// Client configs for the probes. Built once per scan and shared (`Arc`), never per
/// connection. No SNI (RDP does not use it): connect with `ServerName::IpAddress(..)`.
/// No session resumption (CredSSP forbids it; and each probe must see a full handshake).
#[derive(Debug, Clone)]
pub struct TlsConfigs {
    /// TLS 1.3 and 1.2.
    pub any: Arc<ClientConfig>,
    pub tls12_only: Arc<ClientConfig>,
    pub tls13_only: Arc<ClientConfig>,
}

impl TlsConfigs {
    /// Infallible form of [`TlsConfigs::try_new`]: the ring provider always supports both
    /// versions, so the error path is unreachable (a unit test builds the configs).
    pub fn new() -> TlsConfigs {
        Self::try_new().expect("ring provider supports TLS 1.2 and 1.3")
    }

    pub fn try_new() -> Result<TlsConfigs, rustls::Error> {
        let provider = Arc::new(ring::default_provider());
        let verifier = Arc::new(AcceptAnyServerCert::new(&provider));
        let build = |versions: &[&'static SupportedProtocolVersion]| {
            let mut config = ClientConfig::builder_with_provider(provider.clone())
                .with_protocol_versions(versions)?
                .dangerous()
                .with_custom_certificate_verifier(verifier.clone())
                .with_no_client_auth();
            config.enable_sni = false;
            config.resumption = Resumption::disabled();
            Ok::<_, rustls::Error>(Arc::new(config))
        };
        Ok(TlsConfigs {
            any: build(&[&rustls::version::TLS13, &rustls::version::TLS12])?,
            tls12_only: build(&[&rustls::version::TLS12])?,
            tls13_only: build(&[&rustls::version::TLS13])?,
        })
    }
}

impl Default for TlsConfigs {
    fn default() -> Self {
        TlsConfigs::new()
    }
}

/// Why a rustls handshake failed, in the scanner's vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsFailure {
    /// The server sent an alert (AlertDescription code, e.g. 70 protocol_version, 40
    /// handshake_failure, 80 internal_error). Kept as received, so the report can name it.
    Alert(u8),
    /// rustls itself found no common ground (`PeerIncompatible`): e.g. the server picked
    /// TLS 1.0/1.1 or a suite rustls does not implement.
    NoCommon,
    /// Connection reset (RST) during the handshake.
    Reset,
    /// Orderly close (FIN) during the handshake.
    Eof,
    /// The reply is not TLS records.
    NotTls,
    Other(String),
}

/// Alert codes that mean "no common version or cipher" (RFC 8446 6.2).
const ALERT_HANDSHAKE_FAILURE: u8 = 40;
const ALERT_PROTOCOL_VERSION: u8 = 70;
const ALERT_INSUFFICIENT_SECURITY: u8 = 71;

impl TlsFailure {
    /// No common version or suite, whether rustls or the server said so.
    pub fn is_no_common(&self) -> bool {
        match self {
            TlsFailure::NoCommon => true,
            TlsFailure::Alert(code) => matches!(
                *code,
                ALERT_HANDSHAKE_FAILURE | ALERT_PROTOCOL_VERSION | ALERT_INSUFFICIENT_SECURITY
            ),
            _ => false,
        }
    }

    pub fn alert_code(&self) -> Option<u8> {
        match self {
            TlsFailure::Alert(code) => Some(*code),
            _ => None,
        }
    }

    /// The model's status for a failed handshake (Reset/Eof are "after hello" because the
    /// hello is the first thing the client sends).
    pub fn status(&self) -> TlsStatus {
        match self {
            TlsFailure::Alert(_) => TlsStatus::Alert,
            TlsFailure::NoCommon => TlsStatus::NoCommon,
            TlsFailure::Reset => TlsStatus::ResetAfterHello,
            TlsFailure::Eof => TlsStatus::EofAfterHello,
            TlsFailure::NotTls => TlsStatus::NotTls,
            TlsFailure::Other(_) => TlsStatus::Error,
        }
    }
}

/// Classifies by error variant, never by message text.
pub fn classify_rustls_error(e: &rustls::Error) -> TlsFailure {
    match e {
        rustls::Error::AlertReceived(description) => TlsFailure::Alert(u8::from(*description)),
        rustls::Error::PeerIncompatible(_) => TlsFailure::NoCommon,
        // What rustls' record layer says about bytes that are not TLS records.
        rustls::Error::InvalidMessage(
            InvalidMessage::InvalidContentType
            | InvalidMessage::UnknownProtocolVersion
            | InvalidMessage::MessageTooLarge,
        )
        | rustls::Error::PeerSentOversizedRecord => TlsFailure::NotTls,
        other => TlsFailure::Other(other.to_string()),
    }
}

/// Classifies an I/O error from a tokio-rustls handshake: a wrapped `rustls::Error` (kind
/// `InvalidData`) is classified by variant; otherwise by `io::ErrorKind`.
pub fn classify_io_error(e: &io::Error) -> TlsFailure {
    if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        return classify_rustls_error(inner);
    }
    match e.kind() {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => TlsFailure::Reset,
        io::ErrorKind::UnexpectedEof => TlsFailure::Eof,
        _ => TlsFailure::Other(e.to_string()),
    }
}

/// Should the raw legacy hello (TLS 1.0-1.2, CBC/DHE/RSA suites) be tried after this
/// rustls handshake failure? Yes for "no common version/suite" in any form, and for a reset
/// or close during the handshake, because Schannel often just drops a hello it cannot serve.
/// Only meaningful for failures of the handshake itself (the caller's context).
pub fn wants_legacy_fallback(f: &TlsFailure) -> bool {
    f.is_no_common() || matches!(f, TlsFailure::Reset | TlsFailure::Eof)
}

/// "TLSv1.2", "TLSv1.3", ...; unknown values as "0x0305".
pub fn version_name(v: rustls::ProtocolVersion) -> String {
    TlsVersion(u16::from(v)).name()
}

/// IANA name, e.g. "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"; unknown ids as "0xC0FF".
pub fn suite_name(s: rustls::CipherSuite) -> String {
    let id = u16::from(s);
    suites::suite_name(id).map_or_else(|| format!("0x{id:04X}"), str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    use rustls::{AlertDescription, PeerIncompatible, ServerConfig};
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio_rustls::{TlsAcceptor, TlsConnector};

    use crate::tls::legacy::{self, FlightOutcome, Parse};

    fn server_config(
        versions: &[&'static SupportedProtocolVersion],
    ) -> (Arc<ServerConfig>, Vec<u8>) {
        let key = rcgen::KeyPair::generate().expect("key");
        let params = rcgen::CertificateParams::new(vec!["lab-host".to_string()]).expect("params");
        let cert = params.self_signed(&key).expect("cert");
        let der = cert.der().to_vec();
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_protocol_versions(versions)
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(vec![CertificateDer::from(der.clone())], key_der)
            .expect("server config");
        (Arc::new(config), der)
    }

    /// Serves one TLS handshake on loopback; returns the address and whether SNI was seen.
    async fn serve_once(
        config: Arc<ServerConfig>,
    ) -> (std::net::SocketAddr, tokio::task::JoinHandle<Option<bool>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.ok()?;
            let tls = TlsAcceptor::from(config).accept(tcp).await.ok()?;
            Some(tls.get_ref().1.server_name().is_some())
        });
        (addr, task)
    }

    async fn connect(
        config: &Arc<ClientConfig>,
        addr: std::net::SocketAddr,
    ) -> io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
        let tcp = TcpStream::connect(addr).await?;
        let name = ServerName::IpAddress(addr.ip().into());
        let fut = TlsConnector::from(config.clone()).connect(name, tcp);
        tokio::time::timeout(Duration::from_secs(10), fut)
            .await
            .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))?
    }

    #[test]
    fn configs_build_without_sni_or_resumption() {
        let c = TlsConfigs::try_new().expect("configs");
        for config in [&c.any, &c.tls12_only, &c.tls13_only] {
            assert!(!config.enable_sni);
        }
    }

    #[tokio::test]
    async fn handshake_records_chain_and_sends_no_sni() {
        let configs = TlsConfigs::new();
        let (server, cert) = server_config(&[&rustls::version::TLS13, &rustls::version::TLS12]);

        let (addr, task) = serve_once(server.clone()).await;
        let tls = connect(&configs.any, addr).await.expect("handshake");
        let (_, conn) = tls.get_ref();
        assert_eq!(
            conn.protocol_version().map(version_name).as_deref(),
            Some("TLSv1.3")
        );
        let chain = conn.peer_certificates().expect("chain");
        assert_eq!(chain[0].as_ref(), cert.as_slice());
        assert_eq!(task.await.expect("join"), Some(false)); // no SNI reached the server

        let (addr, task) = serve_once(server).await;
        let tls = connect(&configs.tls12_only, addr).await.expect("handshake");
        let (_, conn) = tls.get_ref();
        assert_eq!(
            conn.protocol_version().map(version_name).as_deref(),
            Some("TLSv1.2")
        );
        let suite = conn.negotiated_cipher_suite().expect("suite").suite();
        assert!(
            suite_name(suite).starts_with("TLS_ECDHE_ECDSA_WITH_"),
            "{suite:?}"
        );
        drop(tls);
        let _ = task.await;
    }

    #[tokio::test]
    async fn version_mismatch_is_an_alert_that_wants_legacy() {
        let (server, _) = server_config(&[&rustls::version::TLS12]);
        let (addr, _task) = serve_once(server).await;
        let err = connect(&TlsConfigs::new().tls13_only, addr)
            .await
            .expect_err("must fail");
        let failure = classify_io_error(&err);
        assert_eq!(failure, TlsFailure::Alert(70));
        assert!(failure.is_no_common());
        assert!(wants_legacy_fallback(&failure));
        assert_eq!(failure.status(), TlsStatus::Alert);
    }

    /// Accepts, reads the ClientHello, then does `then` to the connection.
    async fn misbehaving_server(then: fn(TcpStream) -> ()) -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            if let Ok((mut tcp, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let _ = tcp.read(&mut buf).await;
                then(tcp);
            }
        });
        addr
    }

    #[tokio::test]
    async fn close_after_hello_is_eof() {
        let addr = misbehaving_server(drop).await;
        let err = connect(&TlsConfigs::new().any, addr)
            .await
            .expect_err("must fail");
        let failure = classify_io_error(&err);
        assert_eq!(failure, TlsFailure::Eof);
        assert!(wants_legacy_fallback(&failure));
        assert_eq!(failure.status(), TlsStatus::EofAfterHello);
    }

    #[tokio::test]
    async fn reset_after_hello_is_reset() {
        let addr = misbehaving_server(|tcp| {
            // Zero linger turns close into RST, as Schannel does with an unusable key.
            #[allow(deprecated)]
            let _ = tcp.set_linger(Some(Duration::ZERO));
            drop(tcp);
        })
        .await;
        let err = connect(&TlsConfigs::new().any, addr)
            .await
            .expect_err("must fail");
        let failure = classify_io_error(&err);
        assert_eq!(failure, TlsFailure::Reset);
        assert!(wants_legacy_fallback(&failure));
    }

    #[tokio::test]
    async fn http_reply_is_not_tls() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            if let Ok((mut tcp, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let _ = tcp.read(&mut buf).await;
                let _ = tcp.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        let err = connect(&TlsConfigs::new().any, addr)
            .await
            .expect_err("must fail");
        let failure = classify_io_error(&err);
        assert_eq!(failure, TlsFailure::NotTls);
        assert!(!wants_legacy_fallback(&failure));
    }

    #[tokio::test]
    async fn legacy_hello_against_rustls_server() {
        // The raw hello reads a real TLS 1.2 flight (and stops at a TLS 1.3 ServerHello).
        for (versions, lo, want) in [
            (
                &[&rustls::version::TLS12][..],
                legacy::TlsVersion::TLS10,
                legacy::TlsVersion::TLS12,
            ),
            (
                &[&rustls::version::TLS13, &rustls::version::TLS12][..],
                legacy::TlsVersion::TLS12,
                legacy::TlsVersion::TLS13,
            ),
        ] {
            let (server, cert) = server_config(versions);
            let (addr, _task) = serve_once(server).await;
            let mut tcp = TcpStream::connect(addr).await.expect("connect");
            let hello = legacy::client_hello(lo, legacy::TlsVersion::TLS13, [0x5C; 32]);
            tcp.write_all(&hello).await.expect("write");
            let mut buf = Vec::new();
            let outcome = loop {
                let mut chunk = [0u8; 4096];
                let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut chunk))
                    .await
                    .expect("timely")
                    .expect("read");
                assert!(n > 0, "server closed");
                buf.extend_from_slice(&chunk[..n]);
                if let Parse::Done(o) = legacy::parse_server_flight(&buf) {
                    break o;
                }
            };
            let FlightOutcome::Hello(f) = outcome else {
                panic!("not a hello: {outcome:?}");
            };
            assert_eq!(f.version, want);
            if want == legacy::TlsVersion::TLS12 {
                assert_eq!(f.certificates, vec![cert]);
                assert!(f.hello_done);
                assert!(suites::suite_name(f.cipher).is_some());
            } else {
                assert!(f.certificates.is_empty());
            }
        }
    }

    #[test]
    fn classify_by_variant() {
        use rustls::Error as E;
        let cases = [
            (
                E::AlertReceived(AlertDescription::HandshakeFailure),
                TlsFailure::Alert(40),
            ),
            (
                E::AlertReceived(AlertDescription::InternalError),
                TlsFailure::Alert(80),
            ),
            (
                E::PeerIncompatible(PeerIncompatible::ServerDoesNotSupportTls12Or13),
                TlsFailure::NoCommon,
            ),
            (
                E::InvalidMessage(InvalidMessage::InvalidContentType),
                TlsFailure::NotTls,
            ),
        ];
        for (e, want) in cases {
            assert_eq!(classify_rustls_error(&e), want, "{e:?}");
            // The same error wrapped as tokio-rustls does.
            let wrapped = io::Error::new(io::ErrorKind::InvalidData, e);
            assert_eq!(classify_io_error(&wrapped), want);
        }
        assert!(matches!(
            classify_rustls_error(&E::DecryptError),
            TlsFailure::Other(_)
        ));
        assert_eq!(
            classify_io_error(&io::ErrorKind::ConnectionReset.into()),
            TlsFailure::Reset
        );
        assert_eq!(
            classify_io_error(&io::ErrorKind::BrokenPipe.into()),
            TlsFailure::Reset
        );
        assert_eq!(
            classify_io_error(&io::ErrorKind::UnexpectedEof.into()),
            TlsFailure::Eof
        );
        assert!(matches!(
            classify_io_error(&io::ErrorKind::TimedOut.into()),
            TlsFailure::Other(_)
        ));
    }

    #[test]
    fn fallback_policy() {
        for yes in [
            TlsFailure::Alert(40),
            TlsFailure::Alert(70),
            TlsFailure::Alert(71),
            TlsFailure::NoCommon,
            TlsFailure::Reset,
            TlsFailure::Eof,
        ] {
            assert!(wants_legacy_fallback(&yes), "{yes:?}");
        }
        for no in [
            TlsFailure::Alert(80),
            TlsFailure::Alert(42),
            TlsFailure::NotTls,
            TlsFailure::Other("x".into()),
        ] {
            assert!(!wants_legacy_fallback(&no), "{no:?}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(version_name(rustls::ProtocolVersion::TLSv1_2), "TLSv1.2");
        assert_eq!(version_name(rustls::ProtocolVersion::TLSv1_0), "TLSv1.0");
        assert_eq!(
            version_name(rustls::ProtocolVersion::Unknown(0x7F1C)),
            "0x7F1C"
        );
        assert_eq!(
            suite_name(rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384),
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
        );
        assert_eq!(
            suite_name(rustls::CipherSuite::TLS13_AES_128_GCM_SHA256),
            "TLS_AES_128_GCM_SHA256"
        );
        assert_eq!(suite_name(rustls::CipherSuite::Unknown(0xC0FF)), "0xC0FF");
    }
}
