//! ProbeRecord -> findings. A pure function: same record and clock, same findings.
//!
//! Every finding has a stable kebab-case code (documented in README.md; never renamed, since
//! nightly jobs diff on them), a severity, the phase it belongs to and a one-line remedy.
//! The verdict is the primary finding: the one most likely to make a default mstsc client fail
//! (0x904 / 0x7 and friends). Findings are ordered by severity, then by how early in the
//! connection they bite (a host whose DNS fails never reaches its certificate).

use std::net::IpAddr;

use crate::model::{
    CertFacts, CredSspOutcome, CredSspStatus, DnsStatus, Finding, HostReport, NegResult, Phase,
    ProbeRecord, Severity, TcpStatus, TlsOutcome, TlsStatus,
};

/// Static description of a finding code.
#[derive(Debug, Clone, Copy)]
pub struct CodeInfo {
    pub code: &'static str,
    pub severity: Severity,
    pub phase: Phase,
    pub summary: &'static str,
    pub remedy: &'static str,
}

macro_rules! codes {
    ($($name:ident = $code:literal, $sev:ident, $phase:ident, $summary:literal, $remedy:literal;)*) => {
        $(pub const $name: CodeInfo = CodeInfo {
            code: $code, severity: Severity::$sev, phase: Phase::$phase, summary: $summary, remedy: $remedy,
        };)*
        /// Every code, in ranking order within a severity (earlier = more primary).
        pub const ALL: &[CodeInfo] = &[$($name),*];
    };
}

codes! {
    OK = "ok", Ok, Host, "RDP is reachable and healthy", "nothing to do";
    DNS_NXDOMAIN = "dns-nxdomain", Fail, Dns, "the name does not exist (NXDOMAIN)", "fix or create the DNS record (check the name and the DNS suffix); connect by IP meanwhile";
    DNS_NODATA = "dns-nodata", Fail, Dns, "the name exists but has no A/AAAA record", "add the host's A/AAAA record; connect by IP meanwhile";
    DNS_SERVFAIL = "dns-servfail", Fail, Dns, "the DNS server failed to answer (SERVFAIL)", "check the DNS server and its forwarders/zone delegation";
    DNS_REFUSED = "dns-refused", Fail, Dns, "the DNS server refused the query", "query a DNS server that serves this zone (check --dns-server / resolv.conf)";
    DNS_TIMEOUT = "dns-timeout", Fail, Dns, "no DNS answer in time", "check that the DNS server is reachable (UDP/TCP 53) and answering";
    DNS_ERROR = "dns-error", Fail, Dns, "DNS lookup failed", "check the resolver configuration";
    PORT_CLOSED = "port-closed", Fail, Tcp, "the RDP port refused the connection (RST)", "start the Remote Desktop Services (TermService) service, enable Remote Desktop, or check the listener port";
    PORT_FILTERED = "port-filtered", Fail, Tcp, "no answer to the connection attempt (filtered)", "open TCP 3389 in the host and network firewalls (Windows Defender Firewall rule 'Remote Desktop - User Mode (TCP-In)')";
    HOST_UNREACHABLE = "host-unreachable", Fail, Tcp, "the network reported the host unreachable", "check routing/VPN to the host and that the host is up";
    TCP_ERROR = "tcp-error", Fail, Tcp, "the TCP connection failed", "check the network path to the host";
    NOT_RDP = "not-rdp", Fail, Rdp, "something other than RDP answers on this port", "check what listens on the port (netstat -abno); point clients at the RDP listener";
    RDP_NO_REPLY = "rdp-no-reply", Fail, Rdp, "the port accepts connections but never answers the RDP request", "restart TermService; check for a hung service, a middlebox, or connection limits";
    RDP_RESET = "rdp-reset", Fail, Rdp, "the server dropped the connection at the RDP request", "check connection limits (MaxOutstandingConnections), third-party filters/IPS and TermService health";
    RDP_REQUEST_REJECTED = "rdp-request-rejected", Fail, Rdp, "the server rejected the negotiation request (MCS disconnect)", "the server does not accept standard negotiation fields; update the RDP server";
    CERT_MISSING = "cert-missing", Fail, Rdp, "the server has no usable TLS certificate (SSL_CERT_NOT_ON_SERVER)", "delete the RDP certificate in certlm.msc (Remote Desktop store) and restart TermService to re-create it; check MachineKeys permissions";
    CLIENT_CERT_REQUIRED = "client-cert-required", Fail, Rdp, "the server requires TLS client certificates (SSL_WITH_USER_AUTH_REQUIRED)", "use smart-card/certificate logon clients, or relax the server's security policy";
    RDP_NEG_FAILURE = "rdp-neg-failure", Fail, Rdp, "the server refused the negotiation with an unusual failure code", "check the server's RDP security settings (SecurityLayer, UserAuthentication)";
    TLS_RESET_AFTER_HELLO = "tls-reset-after-hello", Fail, Tls, "TLS was accepted, then the connection closed at the ClientHello (classic 0x904/0x7)", "the RDP certificate's private key is unreadable: grant NETWORK SERVICE read on MachineKeys, or delete the certificate in certlm.msc and restart TermService";
    TLS_STALLED = "tls-stalled", Fail, Tls, "the negotiation answered but the server's TLS flight never arrived", "restart TermService; on VPN paths check the MTU (full-size packets are lost)";
    TLS_LEGACY_ONLY = "tls-legacy-only", Fail, Tls, "the server speaks only TLS 1.0/1.1", "enable TLS 1.2 (KB3080079 on 2008 R2, Schannel TLS 1.2 server keys)";
    TLS_HANDSHAKE_FAILED = "tls-handshake-failed", Fail, Tls, "the TLS handshake failed", "check the server's Schannel protocols and cipher suites and the RDP certificate";
    CREDSSP_UNPATCHED = "credssp-unpatched", Fail, Nla, "CredSSP is not patched for CVE-2018-0886 (TSRequest version <= 4)", "install the CredSSP updates (May 2018 or later) on the server; patched clients refuse it";
    DNS_MISMATCH = "dns-mismatch", Warn, Dns, "the name resolves to a different address than the inventory expects", "update the DNS record or the inventory's expect_ip";
    FLAKY = "flaky", Warn, Host, "repeated attempts gave different results", "intermittent: check load, connection limits and the network path";
    RDP_LEGACY = "rdp-legacy-no-negotiation", Warn, Rdp, "the server predates security negotiation (bare connection confirm)", "upgrade the server; only standard RDP security is available";
    RDP_SECURITY_ONLY = "rdp-security-only", Warn, Rdp, "the server offers only standard RDP security (no TLS)", "set the security layer to Negotiate or SSL (TLS) in the RDP-Tcp settings / group policy";
    CREDSSP_ERROR = "credssp-error", Warn, Nla, "the server answered CredSSP with an error code", "see the NTSTATUS in the details (e.g. account or policy problems)";
    CREDSSP_FAILED = "credssp-failed", Warn, Nla, "NLA was selected but the CredSSP exchange did not complete", "check the server's CredSSP/NLA configuration and event log (TerminalServices-RemoteConnectionManager)";
    NAME_MISMATCH = "name-mismatch", Warn, Nla, "the server's own computer name differs from the inventory name", "the DNS record probably points at another machine: fix the A record (works by IP, fails by name)";
    CLOCK_SKEW = "clock-skew", Warn, Nla, "the server's clock is off by more than 5 minutes", "fix time synchronisation (w32tm /resync); Kerberos and NLA break with skew";
    CERT_EXPIRED = "cert-expired", Warn, Cert, "the RDP certificate has expired", "delete the expired certificate in certlm.msc (Remote Desktop store) and restart TermService, or renew the template certificate";
    CERT_NOT_YET_VALID = "cert-not-yet-valid", Warn, Cert, "the RDP certificate is not valid yet", "check the server and CA clocks; re-issue the certificate";
    CERT_EXPIRING = "cert-expiring", Warn, Cert, "the RDP certificate expires soon", "renew the certificate before it expires";
    CERT_NAME_MISMATCH = "cert-name-mismatch", Warn, Cert, "the certificate does not name this host", "issue a certificate whose SAN carries the name users connect to";
    CERT_WEAK = "cert-weak", Warn, Cert, "weak certificate key or signature", "issue a certificate with RSA >= 2048 or ECDSA and a SHA-256 signature";
    CERT_UNTRUSTED = "cert-untrusted", Warn, Cert, "the certificate chain does not lead to a trusted root", "deploy the issuing CA to clients, or pass it with --ca-bundle";
    DOWNGRADE_POSSIBLE = "downgrade-possible", Warn, Rdp, "standard RDP security is still accepted next to TLS", "set the security layer to SSL (TLS) and require NLA";
    TLS_REQUIRED = "tls-required", Info, Rdp, "the server refuses standard RDP security (TLS required)", "nothing to do: clients must support TLS";
    NLA_REQUIRED = "nla-required", Info, Rdp, "the server requires NLA (CredSSP)", "use a client with NLA, or relax 'Require user authentication...(NLA)' if old clients must connect";
    NLA_NOT_ENFORCED = "nla-not-enforced", Info, Nla, "NLA is accepted but not required", "require NLA ('Require user authentication for remote connections by using NLA')";
    TLS_LEGACY_SUITES = "tls-legacy-suites", Info, Tls, "TLS 1.2 with older (CBC/RSA key exchange) cipher suites", "works with mstsc; prefer ECDHE-GCM suites when convenient";
    CERT_SELF_SIGNED = "cert-self-signed", Info, Cert, "the certificate is self-signed (Windows' default)", "issue a certificate from your CA to drop the identity warning";
}

pub fn code_info(code: &str) -> Option<&'static CodeInfo> {
    ALL.iter().find(|c| c.code == code)
}

fn rank(code: &str) -> usize {
    ALL.iter()
        .position(|c| c.code == code)
        .unwrap_or(usize::MAX)
}

/// Thresholds the diagnosis depends on (from flags).
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub expiry_warn_days: u32,
    /// Seconds of clock skew that count (Kerberos tolerates 5 minutes).
    pub max_skew_s: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            expiry_warn_days: 30,
            max_skew_s: 300,
        }
    }
}

struct Acc(Vec<Finding>);

impl Acc {
    fn add(&mut self, info: CodeInfo, detail: impl Into<String>) {
        if self.0.iter().any(|f| f.code == info.code) {
            return;
        }
        self.0.push(Finding {
            code: info.code.to_string(),
            severity: info.severity,
            phase: info.phase,
            detail: detail.into(),
            remedy: info.remedy.to_string(),
        });
    }
}

/// The findings for one record, primary first. Never empty: a clean host gets `ok`.
pub fn diagnose(r: &ProbeRecord, now_unix: i64, policy: &Policy) -> Vec<Finding> {
    let mut acc = Acc(Vec::new());
    dns_findings(r, &mut acc);
    if let Some(tcp) = &r.tcp {
        let err = tcp.error.clone().unwrap_or_default();
        match tcp.status {
            TcpStatus::Open => {}
            TcpStatus::Refused => acc.add(PORT_CLOSED, "connection refused"),
            TcpStatus::Filtered => acc.add(PORT_FILTERED, "no SYN-ACK before the connect timeout"),
            TcpStatus::Unreachable => acc.add(HOST_UNREACHABLE, err),
            TcpStatus::Error => acc.add(TCP_ERROR, err),
        }
    }
    if r.flaky {
        acc.add(FLAKY, format!("{} attempts disagreed", r.attempts));
    }
    rdp_findings(r, &mut acc);
    if let Some(tls) = &r.tls {
        tls_findings(tls, &mut acc);
    }
    if let Some(cert) = &r.cert {
        cert_findings(cert, now_unix, policy, &mut acc);
    }
    if let Some(c) = &r.credssp {
        credssp_findings(r, c, policy, &mut acc);
    }
    let mut v = acc.0;
    v.sort_by_key(|f| (std::cmp::Reverse(f.severity), rank(&f.code)));
    if v.iter().all(|f| f.severity <= Severity::Info) {
        // The verdict of a healthy host is `ok`; info findings stay listed after it.
        let detail = if r.address.is_some() {
            ""
        } else {
            "no address"
        };
        v.insert(
            0,
            Finding {
                code: OK.code.into(),
                severity: Severity::Ok,
                phase: Phase::Host,
                detail: detail.into(),
                remedy: OK.remedy.into(),
            },
        );
    }
    v
}

/// Diagnose and wrap into the envelope every sink writes.
pub fn report(record: ProbeRecord, now_unix: i64, policy: &Policy) -> HostReport {
    let findings = diagnose(&record, now_unix, policy);
    let severity = findings
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::Ok);
    let verdict = findings
        .first()
        .map(|f| f.code.clone())
        .unwrap_or_else(|| OK.code.into());
    HostReport {
        record,
        verdict,
        severity,
        findings,
        change: None,
        first_seen_failing: None,
    }
}

fn dns_findings(r: &ProbeRecord, acc: &mut Acc) {
    let d = &r.dns;
    let err = d.error.clone().unwrap_or_default();
    match d.status {
        DnsStatus::Nxdomain => acc.add(DNS_NXDOMAIN, format!("{} does not exist", r.target.host)),
        DnsStatus::Nodata => acc.add(
            DNS_NODATA,
            format!("{} has no A/AAAA records", r.target.host),
        ),
        DnsStatus::Servfail => acc.add(DNS_SERVFAIL, err),
        DnsStatus::Refused => acc.add(DNS_REFUSED, err),
        DnsStatus::Timeout => acc.add(DNS_TIMEOUT, err),
        DnsStatus::Error => acc.add(DNS_ERROR, err),
        DnsStatus::Resolved | DnsStatus::Pinned => {
            let expect = &r.target.expect_ip;
            if !expect.is_empty() {
                let got: Vec<IpAddr> = d.addresses.clone();
                let same = got.iter().all(|a| expect.contains(a))
                    && expect.iter().all(|e| got.contains(e));
                if !same {
                    acc.add(
                        DNS_MISMATCH,
                        format!(
                            "resolves to {} but the inventory expects {}",
                            join_ips(&got),
                            join_ips(expect)
                        ),
                    );
                }
            }
        }
        DnsStatus::Literal => {}
    }
}

fn join_ips(v: &[IpAddr]) -> String {
    v.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

fn failure_finding(code: u32, acc: &mut Acc) {
    match code {
        1 => acc.add(TLS_REQUIRED, "RDP_NEG_FAILURE 1 SSL_REQUIRED_BY_SERVER"),
        2 => acc.add(
            RDP_SECURITY_ONLY,
            "RDP_NEG_FAILURE 2 SSL_NOT_ALLOWED_BY_SERVER",
        ),
        3 => acc.add(CERT_MISSING, "RDP_NEG_FAILURE 3 SSL_CERT_NOT_ON_SERVER"),
        5 => acc.add(NLA_REQUIRED, "RDP_NEG_FAILURE 5 HYBRID_REQUIRED_BY_SERVER"),
        6 => acc.add(
            CLIENT_CERT_REQUIRED,
            "RDP_NEG_FAILURE 6 SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER",
        ),
        4 => acc.add(RDP_NEG_FAILURE, "RDP_NEG_FAILURE 4 INCONSISTENT_FLAGS"),
        other => acc.add(RDP_NEG_FAILURE, format!("RDP_NEG_FAILURE code {other}")),
    }
}

fn rdp_findings(r: &ProbeRecord, acc: &mut Acc) {
    let Some(rdp) = &r.rdp else { return };
    let Some(first) = rdp.attempts.first() else {
        return;
    };
    match &first.result {
        NegResult::NotRdp { first_bytes, hint } => acc.add(
            NOT_RDP,
            format!("reply looks like {hint} (first bytes {first_bytes})"),
        ),
        NegResult::BadLength { length } => {
            acc.add(NOT_RDP, format!("TPKT length {length} is out of range"))
        }
        NegResult::NoReply => acc.add(
            RDP_NO_REPLY,
            "no X.224 connection confirm before the timeout",
        ),
        NegResult::Reset => acc.add(RDP_RESET, "connection reset after the X.224 request"),
        NegResult::Closed => acc.add(RDP_RESET, "connection closed (FIN) after the X.224 request"),
        NegResult::Rejected => acc.add(
            RDP_REQUEST_REJECTED,
            "MCS Disconnect-Provider-Ultimatum instead of a connection confirm",
        ),
        NegResult::Legacy => acc.add(
            RDP_LEGACY,
            "bare connection confirm: TLS/NLA support unknown",
        ),
        NegResult::ConnectFailed { status } => {
            acc.add(TCP_ERROR, format!("connection {}", status.as_str()))
        }
        NegResult::Selected { protocol, .. } => {
            if *protocol == 0 && first.requested != 0 {
                acc.add(
                    RDP_SECURITY_ONLY,
                    "the server picked standard RDP security although TLS was offered",
                );
            }
        }
        NegResult::Failure { .. } => {}
    }
    for code in &rdp.failures {
        failure_finding(*code, acc);
    }
    let has = |n: &str| rdp.accepted.iter().any(|a| a == n);
    let enhanced = has("SSL") || has("HYBRID") || has("HYBRID_EX");
    if has("RDP") && enhanced {
        acc.add(
            DOWNGRADE_POSSIBLE,
            format!("accepted: {}", rdp.accepted.join("|")),
        );
    }
    if (has("HYBRID") || has("HYBRID_EX")) && (has("SSL") || has("RDP")) {
        acc.add(
            NLA_NOT_ENFORCED,
            format!("accepted: {}", rdp.accepted.join("|")),
        );
    }
}

fn tls_findings(t: &TlsOutcome, acc: &mut Acc) {
    let err = t.error.clone().unwrap_or_default();
    match t.status {
        TlsStatus::Ok | TlsStatus::LegacyHello => {
            let v = t.version.as_deref().unwrap_or("");
            if matches!(v, "TLSv1.0" | "TLSv1.1" | "SSLv3") {
                acc.add(
                    TLS_LEGACY_ONLY,
                    format!("best version offered by the server: {v}"),
                );
            } else if t.legacy {
                let suite = t.cipher.as_deref().unwrap_or("?");
                acc.add(TLS_LEGACY_SUITES, format!("{v} with {suite}"));
            }
        }
        TlsStatus::Alert => {
            let a = t
                .alert
                .map(|a| format!("alert {a} {}", alert_name(a)))
                .unwrap_or_default();
            acc.add(TLS_HANDSHAKE_FAILED, a);
        }
        TlsStatus::ResetAfterHello => acc.add(
            TLS_RESET_AFTER_HELLO,
            "connection reset right after the ClientHello",
        ),
        TlsStatus::EofAfterHello => acc.add(
            TLS_RESET_AFTER_HELLO,
            "connection closed right after the ClientHello",
        ),
        TlsStatus::Stalled => acc.add(TLS_STALLED, "no ServerHello before the timeout"),
        TlsStatus::NoCommon => acc.add(
            TLS_HANDSHAKE_FAILED,
            with_error("no common TLS version or cipher suite", &err),
        ),
        TlsStatus::NotTls => acc.add(
            TLS_HANDSHAKE_FAILED,
            with_error("the server's reply is not TLS", &err),
        ),
        TlsStatus::Error => acc.add(TLS_HANDSHAKE_FAILED, err),
    }
}

/// `what (err)`, or just `what` when there is no error text.
fn with_error(what: &str, err: &str) -> String {
    if err.is_empty() {
        what.to_string()
    } else {
        format!("{what} ({err})")
    }
}

/// TLS alert names moved to the TLS layer (the probe names alerts too).
pub use crate::tls::alert::alert_name;

fn cert_findings(c: &CertFacts, now: i64, policy: &Policy, acc: &mut Acc) {
    if c.parse_error.is_some() && c.not_after_unix == 0 {
        acc.add(
            TLS_HANDSHAKE_FAILED,
            format!(
                "unparseable certificate: {}",
                c.parse_error.clone().unwrap_or_default()
            ),
        );
        return;
    }
    let days_left = days_left(c, now);
    if now > c.not_after_unix {
        acc.add(
            CERT_EXPIRED,
            format!("expired {} d ago ({})", -days_left, c.not_after),
        );
    } else if now < c.not_before_unix {
        acc.add(CERT_NOT_YET_VALID, format!("valid from {}", c.not_before));
    } else if days_left <= i64::from(policy.expiry_warn_days) {
        acc.add(
            CERT_EXPIRING,
            format!("expires in {days_left} d ({})", c.not_after),
        );
    }
    if c.name_match == Some(false) {
        let name = c.checked_name.clone().unwrap_or_default();
        acc.add(
            CERT_NAME_MISMATCH,
            format!(
                "{name} is not in subject {:?} / SANs {:?}",
                c.subject, c.sans
            ),
        );
    }
    let weak_key = (c.key.starts_with("RSA") && c.key_bits < 2048)
        || (c.key.starts_with("EC") && c.key_bits < 256);
    let sig = c.sig_alg.to_ascii_lowercase();
    let weak_sig = sig.contains("sha1") || sig.contains("md5") || sig.contains("md2");
    if weak_key || weak_sig {
        let mut why = Vec::new();
        if weak_key {
            why.push(c.key.clone());
        }
        if weak_sig {
            why.push(c.sig_alg.clone());
        }
        acc.add(CERT_WEAK, why.join(", "));
    }
    if c.self_signed {
        acc.add(
            CERT_SELF_SIGNED,
            format!("issuer = subject = {}", c.subject),
        );
    } else if !c.trusted {
        let why = c
            .trust_error
            .clone()
            .unwrap_or_else(|| "unknown issuer".into());
        acc.add(CERT_UNTRUSTED, format!("{why} (issuer {})", c.issuer));
    }
}

/// Whole days until expiry, rounded down; negative once expired.
pub fn days_left(c: &CertFacts, now: i64) -> i64 {
    (c.not_after_unix - now).div_euclid(86_400)
}

fn credssp_findings(r: &ProbeRecord, c: &CredSspOutcome, policy: &Policy, acc: &mut Acc) {
    match c.status {
        CredSspStatus::Challenge | CredSspStatus::ErrorCode => {}
        CredSspStatus::NoChallenge => {
            let err = c.error.clone().unwrap_or_default();
            let msg = format!("no usable NTLM CHALLENGE in the server's TSRequest {err}");
            acc.add(CREDSSP_FAILED, msg.trim().to_string());
        }
        CredSspStatus::Unavailable => return,
        CredSspStatus::Malformed
        | CredSspStatus::Reset
        | CredSspStatus::Closed
        | CredSspStatus::Timeout => {
            let err = c.error.clone().unwrap_or_default();
            acc.add(
                CREDSSP_FAILED,
                format!("{:?} {err}", c.status).trim().to_string(),
            );
        }
    }
    if let Some(v) = c.version
        && v <= 4
    {
        acc.add(CREDSSP_UNPATCHED, format!("server TSRequest version {v}"));
    }
    if let Some(code) = c.error_code {
        acc.add(CREDSSP_ERROR, format!("errorCode 0x{code:08X}"));
    }
    let Some(ntlm) = &c.ntlm else { return };
    if let Some(skew) = ntlm.clock_skew_s
        && skew.abs() > policy.max_skew_s
    {
        acc.add(CLOCK_SKEW, format!("server clock differs by {skew} s"));
    }
    // Only meaningful for name targets: compare the first label, case-insensitively.
    if r.target.host.parse::<IpAddr>().is_err()
        && let Some(nb) = ntlm.nb_computer.as_deref().or(ntlm.dns_computer.as_deref())
    {
        let first = |s: &str| s.split('.').next().unwrap_or("").to_ascii_lowercase();
        let got = first(nb);
        // A CNAME to the machine's own name is not a stale record.
        let names = [Some(r.target.host.as_str()), r.dns.canonical.as_deref()];
        let matches = names.iter().flatten().any(|n| first(n) == got);
        if !got.is_empty() && !matches {
            acc.add(
                NAME_MISMATCH,
                format!(
                    "inventory name {} but the server calls itself {nb}",
                    r.target.host
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;

    fn base(host: &str) -> ProbeRecord {
        let target = TargetInfo {
            host: host.into(),
            port: 3389,
            ..Default::default()
        };
        let dns = DnsOutcome {
            addresses: vec!["192.0.2.10".parse().unwrap()],
            ..DnsOutcome::status(DnsStatus::Resolved)
        };
        ProbeRecord {
            address: Some("192.0.2.10".parse().unwrap()),
            tcp: Some(TcpOutcome {
                status: TcpStatus::Open,
                rtt_ms: Some(1.0),
                error: None,
            }),
            connections: 1,
            duration_ms: 1.0,
            ..ProbeRecord::new(target, dns, "2026-01-01T00:00:00Z".into())
        }
    }

    fn codes(r: &ProbeRecord) -> Vec<String> {
        diagnose(r, 1_800_000_000, &Policy::default())
            .into_iter()
            .map(|f| f.code)
            .collect()
    }

    #[test]
    fn every_code_is_unique_and_kebab() {
        for (i, a) in ALL.iter().enumerate() {
            assert!(
                a.code.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                a.code
            );
            assert!(
                ALL[i + 1..].iter().all(|b| b.code != a.code),
                "duplicate {}",
                a.code
            );
            assert!(!a.remedy.is_empty());
        }
    }

    #[test]
    fn healthy_host_is_ok() {
        assert_eq!(codes(&base("srv01.corp.example")), vec!["ok"]);
    }

    #[test]
    fn dns_failures_are_primary() {
        let mut r = base("gone.corp.example");
        r.dns.status = DnsStatus::Nxdomain;
        r.address = None;
        r.tcp = None;
        assert_eq!(codes(&r), vec!["dns-nxdomain"]);
        r.dns.status = DnsStatus::Timeout;
        assert_eq!(codes(&r), vec!["dns-timeout"]);
    }

    #[test]
    fn dns_mismatch_against_expect_ip() {
        let mut r = base("srv.corp.example");
        r.target.expect_ip = vec!["192.0.2.99".parse().unwrap()];
        assert_eq!(codes(&r), vec!["dns-mismatch"]);
        r.target.expect_ip = vec!["192.0.2.10".parse().unwrap()];
        assert_eq!(codes(&r), vec!["ok"]);
    }

    #[test]
    fn tcp_verdicts() {
        for (st, code) in [
            (TcpStatus::Refused, "port-closed"),
            (TcpStatus::Filtered, "port-filtered"),
            (TcpStatus::Unreachable, "host-unreachable"),
        ] {
            let mut r = base("h");
            r.tcp = Some(TcpOutcome {
                status: st,
                rtt_ms: None,
                error: None,
            });
            assert_eq!(codes(&r)[0], code);
        }
    }

    #[test]
    fn tls_reset_outranks_certificate_hygiene() {
        let mut r = base("h");
        r.tls = Some(TlsOutcome {
            status: TlsStatus::ResetAfterHello,
            version: None,
            cipher: None,
            alert: None,
            via: "rustls".into(),
            versions: vec![],
            error: None,
            legacy: false,
        });
        r.cert = Some(CertFacts {
            not_after_unix: 1,
            not_before_unix: 0,
            self_signed: true,
            key: "EC-P256".into(),
            key_bits: 256,
            sig_alg: "ecdsa-with-SHA256".into(),
            ..Default::default()
        });
        let c = codes(&r);
        assert_eq!(c[0], "tls-reset-after-hello");
        assert!(c.contains(&"cert-expired".to_string()));
        assert!(c.contains(&"cert-self-signed".to_string()));
    }

    #[test]
    fn certificate_dates() {
        let now = 1_800_000_000;
        let mut r = base("h");
        let mut c = CertFacts {
            not_before_unix: now - 86_400,
            not_after_unix: now + 10 * 86_400 + 5,
            key: "RSA-2048".into(),
            key_bits: 2048,
            sig_alg: "sha256WithRSAEncryption".into(),
            trusted: true,
            ..Default::default()
        };
        r.cert = Some(c.clone());
        let f = diagnose(&r, now, &Policy::default());
        assert_eq!(f[0].code, "cert-expiring");
        assert!(f[0].detail.contains("10 d"), "{}", f[0].detail);
        c.not_before_unix = now + 100;
        r.cert = Some(c.clone());
        assert_eq!(codes(&r)[0], "cert-not-yet-valid");
        c.not_before_unix = now - 100;
        c.key_bits = 1024;
        c.key = "RSA-1024".into();
        c.not_after_unix = now + 400 * 86_400;
        r.cert = Some(c);
        assert_eq!(codes(&r)[0], "cert-weak");
    }

    #[test]
    fn nla_facts() {
        let mut r = base("web01.corp.example");
        r.credssp = Some(CredSspOutcome {
            status: CredSspStatus::Challenge,
            version: Some(3),
            error_code: None,
            ntlm: Some(NtlmInfo {
                nb_computer: Some("DB07".into()),
                clock_skew_s: Some(7200),
                ..Default::default()
            }),
            error: None,
        });
        let c = codes(&r);
        assert_eq!(c[0], "credssp-unpatched");
        assert!(c.contains(&"name-mismatch".to_string()));
        assert!(c.contains(&"clock-skew".to_string()));
        // Same name, other case: no mismatch. IP targets are never compared.
        if let Some(n) = r.credssp.as_mut().and_then(|c| c.ntlm.as_mut()) {
            n.nb_computer = Some("WEB01".into());
        }
        assert!(!codes(&r).contains(&"name-mismatch".to_string()));
    }

    #[test]
    fn matrix_findings() {
        let mut r = base("h");
        r.rdp = Some(RdpOutcome {
            attempts: vec![NegAttempt {
                requested: 0x0B,
                result: NegResult::Selected {
                    protocol: 1,
                    flags: 1,
                },
            }],
            accepted: vec!["SSL".into(), "RDP".into()],
            ..Default::default()
        });
        assert_eq!(codes(&r)[0], "downgrade-possible");
        r.rdp = Some(RdpOutcome {
            attempts: vec![NegAttempt {
                requested: 0x0B,
                result: NegResult::Failure { code: 3 },
            }],
            failures: vec![3],
            ..Default::default()
        });
        assert_eq!(codes(&r)[0], "cert-missing");
        r.rdp = Some(RdpOutcome {
            attempts: vec![NegAttempt {
                requested: 0x0B,
                result: NegResult::Selected {
                    protocol: 8,
                    flags: 3,
                },
            }],
            accepted: vec!["HYBRID_EX".into(), "HYBRID".into()],
            required: Some("HYBRID".into()),
            failures: vec![5],
            ..Default::default()
        });
        let f = diagnose(&r, 0, &Policy::default());
        assert_eq!(f[0].code, "ok");
        assert_eq!(f[1].code, "nla-required");
    }
}
