//! The finding vocabulary: severities, phases and the closed table of finding codes.
//!
//! Every finding has a stable kebab-case code (documented in README.md; never renamed, since
//! nightly jobs diff on them), a severity, the phase it belongs to and a one-line remedy. The
//! table below is the only place a code is spelled; everything else names a [`FindingCode`].
//! This module sits under both `model` (which stores findings) and `diagnose` (which makes them).

use serde::{Deserialize, Serialize};

/// Severity of a finding; ordered so that `max()` is the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Ok,
    Info,
    Warn,
    Fail,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Ok => "ok",
            Severity::Info => "info",
            Severity::Warn => "warn",
            Severity::Fail => "fail",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s.to_ascii_lowercase().as_str() {
            "ok" => Some(Severity::Ok),
            "info" => Some(Severity::Info),
            "warn" | "warning" => Some(Severity::Warn),
            "fail" | "error" => Some(Severity::Fail),
            _ => None,
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The phase a finding belongs to (the HTML matrix column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Dns,
    Tcp,
    Rdp,
    Tls,
    Cert,
    Nla,
    Host,
}

/// One diagnosis: stable code, severity, remedy; `detail` is the host-specific fact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub code: FindingCode,
    pub severity: Severity,
    pub phase: Phase,
    pub detail: String,
    pub remedy: String,
}

/// Static description of a finding code: one row of the table.
#[derive(Debug, Clone, Copy)]
pub struct CodeInfo {
    /// The kebab-case code as written in every output.
    pub code: &'static str,
    pub severity: Severity,
    pub phase: Phase,
    pub summary: &'static str,
    pub remedy: &'static str,
}

macro_rules! codes {
    ($($name:ident = $code:literal, $sev:ident, $phase:ident, $summary:literal, $remedy:literal;)*) => {
        /// A finding code. Serialised as its kebab-case string; reading an unknown string is
        /// an error, like any other unknown value in a saved record.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum FindingCode {
            $($name,)*
        }

        impl FindingCode {
            /// Every code, in ranking order within a severity (earlier = more primary).
            pub const ALL: &'static [FindingCode] = &[$(FindingCode::$name),*];

            /// This code's row of the table.
            pub fn info(self) -> &'static CodeInfo {
                match self {
                    $(FindingCode::$name => &CodeInfo {
                        code: $code,
                        severity: Severity::$sev,
                        phase: Phase::$phase,
                        summary: $summary,
                        remedy: $remedy,
                    },)*
                }
            }
        }
    };
}

codes! {
    Ok = "ok", Ok, Host, "RDP is reachable and healthy", "nothing to do";
    DnsNxdomain = "dns-nxdomain", Fail, Dns, "the name does not exist (NXDOMAIN)", "fix or create the DNS record (check the name and the DNS suffix); connect by IP meanwhile";
    DnsNodata = "dns-nodata", Fail, Dns, "the name exists but has no A/AAAA record", "add the host's A/AAAA record; connect by IP meanwhile";
    DnsServfail = "dns-servfail", Fail, Dns, "the DNS server failed to answer (SERVFAIL)", "check the DNS server and its forwarders/zone delegation";
    DnsRefused = "dns-refused", Fail, Dns, "the DNS server refused the query", "query a DNS server that serves this zone (check --dns-server / resolv.conf)";
    DnsTimeout = "dns-timeout", Fail, Dns, "no DNS answer in time", "check that the DNS server is reachable (UDP/TCP 53) and answering";
    DnsError = "dns-error", Fail, Dns, "DNS lookup failed", "check the resolver configuration";
    PortClosed = "port-closed", Fail, Tcp, "the RDP port refused the connection (RST)", "start the Remote Desktop Services (TermService) service, enable Remote Desktop, or check the listener port";
    PortFiltered = "port-filtered", Fail, Tcp, "no answer to the connection attempt (filtered)", "open TCP 3389 in the host and network firewalls (Windows Defender Firewall rule 'Remote Desktop - User Mode (TCP-In)')";
    PortRejected = "port-rejected", Fail, Tcp, "a firewall rejected the connection (ICMP administratively prohibited or port unreachable)", "a firewall rule rejects TCP 3389 at the address in the details (a router or firewall on the path, or the host itself): allow TCP 3389 from the clients there";
    HostDown = "host-down", Fail, Tcp, "no answer on the RDP port nor on any other port tried: the host is down", "the host is off or the inventory entry is stale: check that the VM/server is running and that its DNS record and inventory address are current";
    HostUnreachable = "host-unreachable", Fail, Tcp, "the network reported the host unreachable", "check routing/VPN to the host and that the host is up";
    NetUnreachable = "net-unreachable", Fail, Tcp, "the network reported no route to the host's network", "check routing/VPN to the host's network: the router named in the details (or, when none is named, the scanner itself) has no route to it";
    TcpError = "tcp-error", Fail, Tcp, "the TCP connection failed", "check the network path to the host";
    NotRdp = "not-rdp", Fail, Rdp, "something other than RDP answers on this port", "check what listens on the port (netstat -abno); point clients at the RDP listener";
    RdpNoReply = "rdp-no-reply", Fail, Rdp, "the port accepts connections but never answers the RDP request", "restart TermService; check for a hung service, a middlebox, or connection limits";
    RdpReset = "rdp-reset", Fail, Rdp, "the server dropped the connection at the RDP request", "check connection limits (MaxOutstandingConnections), third-party filters/IPS and TermService health";
    RdpRequestRejected = "rdp-request-rejected", Fail, Rdp, "the server rejected the negotiation request (MCS disconnect)", "the server does not accept standard negotiation fields; update the RDP server";
    CertMissing = "cert-missing", Fail, Rdp, "the server has no usable TLS certificate (SSL_CERT_NOT_ON_SERVER)", "delete the RDP certificate in certlm.msc (Remote Desktop store) and restart TermService to re-create it; check MachineKeys permissions";
    ClientCertRequired = "client-cert-required", Fail, Rdp, "the server requires TLS client certificates (SSL_WITH_USER_AUTH_REQUIRED)", "use smart-card/certificate logon clients, or relax the server's security policy";
    RdpProtocolViolation = "rdp-protocol-violation", Fail, Rdp, "the server's negotiation answer breaks the RDP protocol (a protocol never offered, or negotiation data outside the confirm's length)", "mstsc drops such a connection: check what listens on the port (netstat -abno) and update or replace that RDP server, gateway or proxy";
    RdpNegFailure = "rdp-neg-failure", Fail, Rdp, "the server refused the negotiation with an unusual failure code", "check the server's RDP security settings (SecurityLayer, UserAuthentication)";
    TlsResetAfterHello = "tls-reset-after-hello", Fail, Tls, "TLS was accepted, then the connection closed at the ClientHello (classic 0x904/0x7)", "the RDP certificate's private key is unreadable: grant NETWORK SERVICE read on MachineKeys, or delete the certificate in certlm.msc and restart TermService";
    PathMtuBlackhole = "path-mtu-blackhole", Fail, Tcp, "full-size packets are lost on the path (path-MTU blackhole): the TLS flight arrived only with a clamped MSS", "clamp the TCP MSS on the VPN/firewall (e.g. 'ip tcp adjust-mss' / 'set tcp-mss'), let ICMP 'fragmentation needed' (type 3 code 4) and ICMPv6 'packet too big' through, or lower the MTU of the VPN adapter";
    TlsStalled = "tls-stalled", Fail, Tls, "the negotiation answered but the server's TLS flight never arrived", "restart TermService; on VPN paths check the MTU (full-size packets are lost)";
    TlsNoCertificate = "tls-no-certificate", Fail, Tls, "the server's TLS flight carries no certificate (empty Certificate message, or none before ChangeCipherSpec)", "give the RDP listener a certificate (xrdp: certificate/key_file in xrdp.ini; a TLS proxy in front: its certificate); clients cannot authenticate the server and abort";
    TlsLegacyOnly = "tls-legacy-only", Fail, Tls, "the server speaks only TLS 1.0/1.1", "enable TLS 1.2 (KB3080079 on 2008 R2, Schannel TLS 1.2 server keys)";
    TlsHandshakeFailed = "tls-handshake-failed", Fail, Tls, "the TLS handshake failed", "check the server's Schannel protocols and cipher suites and the RDP certificate";
    SchannelSuitesMismatch = "schannel-suites-mismatch", Fail, Tls, "TLS works for other clients, but the server refuses Windows' (Schannel's) ClientHello: every mstsc fails with 0x904/0x7", "enable the TLS 1.2 ECDHE-GCM suites Windows offers (TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 / _128_GCM_SHA256) in the server's cipher-suite list or order policy (IIS Crypto template, 'SSL Cipher Suite Order' GPO; tls_ciphers on xrdp)";
    CredsspUnpatched = "credssp-unpatched", Fail, Nla, "CredSSP is not patched for CVE-2018-0886 (TSRequest version <= 4)", "install the CredSSP updates (May 2018 or later) on the server; patched clients refuse it";
    ClientFails = "client-fails", Fail, Host, "a client profile selected with --client cannot connect, and no other failing finding says why", "the details name the client and the step that refuses it (TLS version or suites, CredSSP, security layer): make the server accept what that client offers, or update the client; if nobody uses that client, leave its profile out with --client";
    DnsMismatch = "dns-mismatch", Warn, Dns, "the name resolves to a different address than the inventory expects", "update the DNS record or the inventory's expect_ip";
    Flaky = "flaky", Warn, Host, "repeated attempts gave different results", "intermittent: check load, connection limits and the network path";
    RdpLegacy = "rdp-legacy-no-negotiation", Warn, Rdp, "the server predates security negotiation (bare connection confirm)", "upgrade the server; only standard RDP security is available";
    RdpSecurityOnly = "rdp-security-only", Warn, Rdp, "the server offers only standard RDP security (no TLS)", "set the security layer to Negotiate or SSL (TLS) in the RDP-Tcp settings / group policy";
    CredsspError = "credssp-error", Warn, Nla, "the server answered CredSSP with an error code", "see the NTSTATUS in the details (e.g. account or policy problems)";
    CredsspFailed = "credssp-failed", Warn, Nla, "NLA was selected but the CredSSP exchange did not complete", "check the server's CredSSP/NLA configuration and event log (TerminalServices-RemoteConnectionManager)";
    NameMismatch = "name-mismatch", Warn, Nla, "the server's own computer name differs from the inventory name (for an IP target: from its reverse DNS name)", "a DNS record probably points at another machine: fix the A record (works by IP, fails by name), or for an IP target the stale PTR record";
    ClockSkew = "clock-skew", Warn, Nla, "the server's clock is off by more than 5 minutes", "fix time synchronisation (w32tm /resync); Kerberos and NLA break with skew";
    CertExpired = "cert-expired", Warn, Cert, "the RDP certificate has expired", "delete the expired certificate in certlm.msc (Remote Desktop store) and restart TermService, or renew the template certificate";
    CertNotYetValid = "cert-not-yet-valid", Warn, Cert, "the RDP certificate is not valid yet", "check the server and CA clocks; re-issue the certificate";
    CertExpiring = "cert-expiring", Warn, Cert, "the RDP certificate expires soon", "renew the certificate before it expires";
    CertNameMismatch = "cert-name-mismatch", Warn, Cert, "the certificate does not name this host", "issue a certificate whose SAN carries the name users connect to";
    CertWeak = "cert-weak", Warn, Cert, "weak certificate key or signature", "issue a certificate with RSA >= 2048 or ECDSA and a SHA-256 signature";
    CertFallbackSelfSigned = "cert-fallback-self-signed", Warn, Cert, "a CA-issued certificate was replaced by a self-signed one since the baseline (TermService fell back)", "the configured certificate is unusable (private key permissions on MachineKeys, expired, or deleted): check the TerminalServices-RemoteConnectionManager event log, fix the key or renew, and re-bind the certificate (SSLCertificateSHA1Hash / template)";
    CertRevoked = "cert-revoked", Fail, Cert, "the certificate's issuer revoked it (OCSP or CRL)", "the server presents a revoked certificate: issue a new one and bind it (RDP-Tcp SSLCertificateSHA1Hash, or the RDS deployment's certificate); clients that check revocation refuse it";
    RevocationUnreachable = "revocation-unreachable", Warn, Cert, "the certificate's CRL/OCSP URLs give no usable answer: clients that check revocation fail or wait (slow or failing logons)", "publish a current CRL (and OCSP) signed by the issuing CA at the certificate's http:// URLs where clients reach them, or fix the CDP/AIA URLs in the issuing CA's extensions and reissue";
    CertWrongEku = "cert-wrong-eku", Warn, Cert, "the certificate's extended key usage has neither Server Authentication nor Remote Desktop Authentication", "issue the certificate from a template with the Server Authentication (or Remote Desktop Authentication) EKU; clients report it as not valid for this use";
    CertChainIncomplete = "cert-chain-incomplete", Warn, Cert, "the server does not send the intermediate CA certificate that links its certificate to a trusted root", "import the intermediate CA certificate into the server's Intermediate Certification Authorities store (certlm.msc) so the full chain is sent";
    CertUntrusted = "cert-untrusted", Warn, Cert, "the certificate chain does not lead to a trusted root", "deploy the issuing CA to clients, or pass it with --ca-bundle";
    RdpFipsOnly = "rdp-fips-only", Warn, Rdp, "standard RDP security is set to FIPS encryption only (level FIPS)", "clients without the FIPS policy fail on standard RDP security: set 'Set client connection encryption level' to High, or require TLS (security layer SSL) so the level does not apply";
    RdpWeakEncryption = "rdp-weak-encryption", Warn, Rdp, "standard RDP security accepts 40/56-bit encryption or level Low", "set 'Set client connection encryption level' to High (128-bit both ways), or require TLS (security layer SSL)";
    TlsWeakSuites = "tls-weak-suites", Warn, Tls, "the server accepts weak cipher suites (RC4, 3DES, DES, export, NULL or anonymous)", "remove the suites named in the details from the server's cipher-suite order: Group Policy 'SSL Cipher Suite Order' (Network > SSL Configuration Settings), IIS Crypto's Best Practices template, or Disable-TlsCipherSuite; on xrdp, tls_ciphers";
    DowngradePossible = "downgrade-possible", Warn, Rdp, "standard RDP security is still accepted next to TLS", "set the security layer to SSL (TLS) and require NLA";
    NetworkLossy = "network-lossy", Warn, Tcp, "packets were lost on the path: the scanner had to retransmit", "find the lossy hop (Wi-Fi, VPN, saturated or erroring link: check interface error counters, mtr/pathping); RDP over a lossy path freezes and drops sessions";
    NetworkSlow = "network-slow", Warn, Tcp, "the path's round-trip time or the TLS handshake is beyond what a usable RDP session tolerates", "move the session host closer or route around the slow hop (check the VPN/proxy path); enable RDP over UDP where allowed";
    TlsRequired = "tls-required", Info, Rdp, "the server refuses standard RDP security (TLS required)", "nothing to do: clients must support TLS";
    NlaRequired = "nla-required", Info, Rdp, "the server requires NLA (CredSSP)", "use a client with NLA, or relax 'Require user authentication...(NLA)' if old clients must connect";
    NlaNotEnforced = "nla-not-enforced", Info, Nla, "NLA is accepted but not required", "require NLA ('Require user authentication for remote connections by using NLA')";
    TlsLegacyEnabled = "tls-legacy-enabled", Info, Tls, "TLS 1.0/1.1 are still accepted beside TLS 1.2", "disable TLS 1.0 and 1.1 on the server (the Schannel 'TLS 1.0' and 'TLS 1.1' Server keys, Enabled=0) once no Windows 7/2008 R2 client needs them";
    TlsLegacySuites = "tls-legacy-suites", Info, Tls, "TLS 1.2 with older (CBC/RSA key exchange) cipher suites", "works with mstsc; prefer ECDHE-GCM suites when convenient";
    CertReplaced = "cert-replaced", Info, Cert, "the certificate changed since the baseline (new thumbprint)", "nothing to do if the renewal was planned; otherwise check who replaced it";
    UdpBlocked = "udp-blocked", Info, Tcp, "RDP over TCP works but RDP over UDP does not: users get the slower TCP-only transport", "if users should get RDP over UDP: allow UDP on the RDP port (3389) in the host firewall (rule 'Remote Desktop - User Mode (UDP-In)') and on every firewall/NAT/VPN on the path; if nothing there blocks it, the server does not offer UDP: check its 'Select RDP transport protocols' policy ('Use only TCP' also leaves UDP unanswered); xrdp has no UDP transport";
    CertSelfSigned = "cert-self-signed", Info, Cert, "the certificate is self-signed (Windows' default)", "issue a certificate from your CA to drop the identity warning";
}

impl FindingCode {
    /// The kebab-case code.
    pub fn as_str(self) -> &'static str {
        self.info().code
    }

    pub fn severity(self) -> Severity {
        self.info().severity
    }

    pub fn phase(self) -> Phase {
        self.info().phase
    }

    pub fn summary(self) -> &'static str {
        self.info().summary
    }

    pub fn remedy(self) -> &'static str {
        self.info().remedy
    }

    /// Position in the table: the tie-break between findings of one severity.
    pub fn rank(self) -> usize {
        self as usize
    }

    /// The code written as `s`, if the table has it.
    pub fn parse(s: &str) -> Option<FindingCode> {
        FindingCode::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

impl std::fmt::Display for FindingCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not a finding code (e.g. a report from a newer rdpsweep).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCode(pub String);

impl std::fmt::Display for UnknownCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown finding code {:?}", self.0)
    }
}

impl std::error::Error for UnknownCode {}

impl std::str::FromStr for FindingCode {
    type Err = UnknownCode;

    fn from_str(s: &str) -> Result<FindingCode, UnknownCode> {
        FindingCode::parse(s).ok_or_else(|| UnknownCode(s.to_string()))
    }
}

impl Serialize for FindingCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FindingCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<FindingCode, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = FindingCode;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a finding code string")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<FindingCode, E> {
                s.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_unique_kebab_and_round_trips() {
        for (i, a) in FindingCode::ALL.iter().enumerate() {
            let s = a.as_str();
            assert!(s.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{s}");
            assert!(
                FindingCode::ALL[i + 1..].iter().all(|b| b.as_str() != s),
                "duplicate {s}"
            );
            assert!(!a.remedy().is_empty());
            assert_eq!(a.rank(), i);
            assert_eq!(s.parse::<FindingCode>(), Ok(*a));
            let json = serde_json::to_string(a).unwrap();
            assert_eq!(json, format!("\"{s}\""));
            assert_eq!(serde_json::from_str::<FindingCode>(&json).unwrap(), *a);
        }
    }

    #[test]
    fn unknown_code_is_a_named_error() {
        assert_eq!(
            "cert-fine".parse::<FindingCode>(),
            Err(UnknownCode("cert-fine".into()))
        );
        let e = serde_json::from_str::<Finding>(
            r#"{"code":"cert-fine","severity":"warn","phase":"cert","detail":"","remedy":""}"#,
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("unknown finding code \"cert-fine\""),
            "{e}"
        );
    }

    #[test]
    fn table_facts_reach_the_enum() {
        assert_eq!(FindingCode::CertWeak.as_str(), "cert-weak");
        assert_eq!(FindingCode::CertWeak.severity(), Severity::Warn);
        assert_eq!(FindingCode::CertWeak.phase(), Phase::Cert);
        assert_eq!(FindingCode::RdpLegacy.as_str(), "rdp-legacy-no-negotiation");
        assert_eq!(FindingCode::Ok.severity(), Severity::Ok);
    }
}
