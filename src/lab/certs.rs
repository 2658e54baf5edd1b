//! Lab PKI: a CA made at start, leaf certificates with chosen names and dates signed by it, and
//! one rustls `ServerConfig` per certificate. Keys are ECDSA P-256 by default (cheap to generate
//! and sign with, so the lab is never the bottleneck); either can be RSA-2048 ([`LabKeys`]) to
//! measure what real Windows fleets cost: their certificates are signed with RSA (self-signed or by
//! an enterprise CA), and their handshake key is RSA-2048.

use std::net::IpAddr;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, SanType, SignatureAlgorithm,
};
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::{CertifiedKey, SigningKey};
use time::{Duration, OffsetDateTime};

use super::CertKind;

/// RSA-1024 + sha1WithRSA, self-signed, 100 years: ring can neither make nor use such a key, so it
/// was generated once with the openssl CLI (tests/fixtures/README.md) and is served by the raw
/// TLS responder.
pub const WEAK_CERT_DER: &[u8] = include_bytes!("../../tests/fixtures/lab-weak-rsa1024-sha1.der");

/// PKCS#1 RSAPublicKey (2048 bit): the subject key of certificates the raw TLS responder serves for
/// the Windows 2008 R2 / 2012 R2 look-alikes (RSA key exchange needs an RSA certificate). No private
/// key exists: the raw responder stops before any key exchange.
const RSA2048_PUB: &[u8] = include_bytes!("../../tests/fixtures/lab-rsa2048.rsapub.der");

/// RSA-2048 private keys (PKCS#8), generated once with the openssl CLI: ring can sign with RSA but
/// not generate RSA keys. Lab-only; nothing outside a lab run trusts them.
const CA_RSA2048_KEY: &str = include_str!("../../tests/fixtures/lab-ca-rsa2048.key");
const LEAF_RSA2048_KEY: &str = include_str!("../../tests/fixtures/rsa2048.key");

/// Key algorithm of a lab key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyAlg {
    #[default]
    Ecdsa,
    Rsa,
}

impl std::str::FromStr for KeyAlg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "ecdsa" | "p256" | "ec" => Ok(KeyAlg::Ecdsa),
            "rsa" | "rsa2048" => Ok(KeyAlg::Rsa),
            _ => Err(format!("{s:?}: expected ecdsa or rsa")),
        }
    }
}

/// Which keys a lab uses: `ca` signs every certificate (and so decides what the scanner verifies),
/// `leaf` is the key the TLS hosts hold and sign their handshakes with (what the lab pays per
/// connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LabKeys {
    pub ca: KeyAlg,
    pub leaf: KeyAlg,
}

fn key_pair(alg: KeyAlg, rsa_pem: &str) -> std::io::Result<KeyPair> {
    match alg {
        KeyAlg::Ecdsa => KeyPair::generate().map_err(err),
        KeyAlg::Rsa => {
            KeyPair::from_pkcs8_pem_and_sign_algo(rsa_pem, &rcgen::PKCS_RSA_SHA256).map_err(err)
        }
    }
}

struct RsaPublic;

impl PublicKeyData for RsaPublic {
    fn der_bytes(&self) -> &[u8] {
        RSA2048_PUB
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &rcgen::PKCS_RSA_SHA256
    }
}

/// Serves one certificate to every client.
#[derive(Debug)]
struct FixedCert(Arc<CertifiedKey>);

impl ResolvesServerCert for FixedCert {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// Which key the leaf certifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeafKey {
    /// The lab's shared served key (ECDSA P-256 or RSA-2048, see [`LabKeys`]; served by rustls).
    Served,
    /// The fixture RSA-2048 public key (served by the raw responder only).
    Rsa,
}

/// Certificate material shared by all hosts of one lab.
pub struct Pki {
    pub ca_pem: String,
    issuer: Issuer<'static, KeyPair>,
    /// One key for every served leaf: certificates differ, keys need not (the scanner never
    /// compares keys across hosts), and it saves a key generation per host.
    leaf_key: KeyPair,
    /// `leaf_key` loaded once for rustls: parsing (for RSA, checking) a key per host is waste.
    signer: Arc<dyn SigningKey>,
    provider: Arc<CryptoProvider>,
    now: OffsetDateTime,
}

fn err(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!("lab certificate generation failed: {e}"))
}

impl Pki {
    pub fn with_keys(keys: LabKeys) -> std::io::Result<Pki> {
        let now = OffsetDateTime::now_utc();
        let ca_key = key_pair(keys.ca, CA_RSA2048_KEY)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, "rdpsweep lab CA");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "rdpsweep lab");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = now - Duration::days(3650);
        params.not_after = now + Duration::days(3650);
        let ca = params.self_signed(&ca_key).map_err(err)?;
        let issuer = Issuer::new(params, ca_key);
        let leaf_key = key_pair(keys.leaf, LEAF_RSA2048_KEY)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let signer = provider.key_provider.load_private_key(key).map_err(err)?;
        Ok(Pki {
            ca_pem: ca.pem(),
            issuer,
            leaf_key,
            signer,
            provider,
            now,
        })
    }

    /// DER of a leaf for `name` (DNS name, or None for an IP-only host) and `ip`, with the dates
    /// and issuer that `kind` calls for.
    pub fn leaf(
        &self,
        kind: CertKind,
        name: Option<&str>,
        ip: IpAddr,
        key: LeafKey,
    ) -> std::io::Result<CertificateDer<'static>> {
        let now = self.now;
        let mut params = CertificateParams::default();
        let ip_text = ip.to_string();
        let subject = match kind {
            // A name that belongs to another machine (a certificate copied between servers).
            CertKind::WrongName => "other-server.lab.test".to_string(),
            CertKind::HostileSubject => "<script>alert(1)</script>".to_string(),
            // Windows names its self-signed certificate after the machine, never after an IP.
            CertKind::SelfSigned if name.is_none() => {
                format!("{}.{}", super::unnamed_label(ip), super::ZONE)
            }
            _ => name.unwrap_or(&ip_text).to_string(),
        };
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, subject.clone());
        if kind == CertKind::HostileSubject {
            params
                .distinguished_name
                .push(DnType::OrganizationName, "=HYPERLINK(\"http://x\",\"y\")");
        }
        let mut sans = Vec::new();
        match kind {
            CertKind::WrongName => {
                sans.push(SanType::DnsName(subject.clone().try_into().map_err(err)?));
            }
            // Windows' own self-signed RDP certificate carries the FQDN as CN and no SAN.
            CertKind::SelfSigned => {}
            _ => {
                if let Some(n) = name {
                    sans.push(SanType::DnsName(n.to_string().try_into().map_err(err)?));
                }
                sans.push(SanType::IpAddress(ip));
            }
        }
        params.subject_alt_names = sans;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        let (nb, na) = match kind {
            CertKind::Expired => (now - Duration::days(400), now - Duration::days(30)),
            CertKind::Expiring => (now - Duration::days(355), now + Duration::days(10)),
            CertKind::NotYetValid => (now + Duration::days(30), now + Duration::days(395)),
            // Windows regenerates its self-signed certificate with a 6-month lifetime.
            CertKind::SelfSigned => (now - Duration::days(20), now + Duration::days(162)),
            _ => (now - Duration::days(30), now + Duration::days(365)),
        };
        params.not_before = nb;
        params.not_after = na;
        if kind == CertKind::Huge {
            // 100 KiB of opaque extension: more than any TLS client's handshake-message cap.
            let mut content = vec![0x04, 0x83, 0x01, 0x90, 0x00]; // OCTET STRING, length 102400
            content.resize(5 + 102_400, 0x5A);
            params.custom_extensions = vec![CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 4, 1, 99999, 1],
                content,
            )];
        }
        let cert = match (kind, key) {
            (CertKind::SelfSigned, LeafKey::Served) => params.self_signed(&self.leaf_key),
            (_, LeafKey::Served) => params.signed_by(&self.leaf_key, &self.issuer),
            // The RSA key has no private half: even "self-signed" is issued by the lab CA here.
            (_, LeafKey::Rsa) => params.signed_by(&RsaPublic, &self.issuer),
        }
        .map_err(err)?;
        Ok(cert.der().clone())
    }

    /// A rustls server config serving `leaf` with the shared key, for the given versions.
    pub fn server_config(
        &self,
        leaf: CertificateDer<'static>,
        tls13: bool,
    ) -> std::io::Result<Arc<ServerConfig>> {
        let versions: &[&'static rustls::SupportedProtocolVersion] = if tls13 {
            &[&rustls::version::TLS13, &rustls::version::TLS12]
        } else {
            // Windows' RDP listener negotiates TLS 1.2 (1.3 support for RDP is unverified).
            &[&rustls::version::TLS12]
        };
        // A fixed resolver instead of with_single_cert: that one parses the certificate and
        // refuses the hostile 100 KiB one, which the lab must serve anyway.
        let certified = Arc::new(CertifiedKey::new(vec![leaf], self.signer.clone()));
        let mut cfg = ServerConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(versions)
            .map_err(err)?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(FixedCert(certified)));
        // CredSSP forbids resumption and RDP does not use it: no tickets, no session cache.
        cfg.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
        cfg.send_tls13_tickets = 0;
        Ok(Arc::new(cfg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn leaves_have_intended_dates_and_names() {
        let pki = Pki::with_keys(LabKeys::default()).unwrap();
        let ip = IpAddr::V4(Ipv4Addr::new(127, 77, 200, 1));
        for kind in [
            CertKind::Valid,
            CertKind::Expired,
            CertKind::Expiring,
            CertKind::NotYetValid,
            CertKind::WrongName,
            CertKind::SelfSigned,
        ] {
            let der = pki
                .leaf(kind, Some("h.lab.test"), ip, LeafKey::Served)
                .unwrap();
            let (_, c) = x509_parser::parse_x509_certificate(&der).unwrap();
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            let nb = c.validity().not_before.timestamp();
            let na = c.validity().not_after.timestamp();
            match kind {
                CertKind::Expired => assert!(na < now),
                CertKind::Expiring => assert!(na > now && na - now < 11 * 86_400),
                CertKind::NotYetValid => assert!(nb > now),
                _ => assert!(nb < now && na > now + 100 * 86_400),
            }
            let cn = c.subject().to_string();
            if kind == CertKind::WrongName {
                assert_eq!(cn, "CN=other-server.lab.test");
            } else {
                assert_eq!(cn, "CN=h.lab.test");
            }
            assert_eq!(c.subject() == c.issuer(), kind == CertKind::SelfSigned);
            pki.server_config(der, false).unwrap();
        }
        let rsa = pki.leaf(CertKind::Valid, None, ip, LeafKey::Rsa).unwrap();
        let (_, c) = x509_parser::parse_x509_certificate(&rsa).unwrap();
        assert_eq!(c.public_key().parsed().unwrap().key_size(), 2048);
        let (_, weak) = x509_parser::parse_x509_certificate(WEAK_CERT_DER).unwrap();
        assert_eq!(weak.public_key().parsed().unwrap().key_size(), 1024);
    }

    #[test]
    fn rsa_keys_sign_certificates_and_serve_handshakes() {
        let ip = IpAddr::V4(Ipv4Addr::new(127, 77, 200, 2));
        let sha256_rsa = x509_parser::oid_registry::OID_PKCS1_SHA256WITHRSA;
        let ecdsa_sha256 = x509_parser::oid_registry::OID_SIG_ECDSA_WITH_SHA256;
        for (ca, leaf) in [
            (KeyAlg::Rsa, KeyAlg::Ecdsa),
            (KeyAlg::Rsa, KeyAlg::Rsa),
            (KeyAlg::Ecdsa, KeyAlg::Rsa),
        ] {
            let pki = Pki::with_keys(LabKeys { ca, leaf }).unwrap();
            let der = pki
                .leaf(CertKind::Valid, Some("h.lab.test"), ip, LeafKey::Served)
                .unwrap();
            let (_, c) = x509_parser::parse_x509_certificate(&der).unwrap();
            let want = if ca == KeyAlg::Rsa {
                &sha256_rsa
            } else {
                &ecdsa_sha256
            };
            assert_eq!(&c.signature_algorithm.algorithm, want, "{ca:?}/{leaf:?}");
            let bits = c.public_key().parsed().unwrap().key_size();
            assert_eq!(bits, if leaf == KeyAlg::Rsa { 2048 } else { 256 });
            // Windows' own certificate: self-signed with the host's key.
            let own = pki
                .leaf(
                    CertKind::SelfSigned,
                    Some("h.lab.test"),
                    ip,
                    LeafKey::Served,
                )
                .unwrap();
            let (_, c) = x509_parser::parse_x509_certificate(&own).unwrap();
            let want = if leaf == KeyAlg::Rsa {
                &sha256_rsa
            } else {
                &ecdsa_sha256
            };
            assert_eq!(&c.signature_algorithm.algorithm, want);
            pki.server_config(der, false).unwrap();
        }
        assert_eq!("RSA".parse::<KeyAlg>(), Ok(KeyAlg::Rsa));
        assert!("dsa".parse::<KeyAlg>().is_err());
    }
}
