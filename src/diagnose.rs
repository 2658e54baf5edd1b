//! ProbeRecord -> findings. A pure function: same record and clock, same findings.
//!
//! Every finding has a stable code from the table in `finding.rs` (severity, phase, remedy).
//! The verdict is the primary finding: the one most likely to make a default mstsc client fail
//! (0x904 / 0x7 and friends). Findings are ordered by severity, then by how early in the
//! connection they bite (a host whose DNS fails never reaches its certificate).

use std::net::IpAddr;

use crate::cert;
use crate::model::{
    AliveAnswer, CertFacts, CredSspOutcome, CredSspStatus, DnsStatus, Finding, FindingCode as C,
    HelloStatus, HostReport, IcmpMeaning, Liveness, NegResult, NetFacts, NtlmInfo, ProbeRecord,
    Severity, TcpOutcome, TcpStatus, TlsOutcome, TlsStatus, UdpOutcome, UdpStatus,
};
use crate::rdp::x224::{FailureCode, Protocols, protocol_names, selection_is_valid};

/// Thresholds the diagnosis depends on (from flags).
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub expiry_warn_days: u32,
    /// Seconds of clock skew that count (Kerberos tolerates 5 minutes).
    pub max_skew_s: i64,
    /// Smoothed RTT beyond which the path is `network-slow`: RDP guidance (Microsoft's Azure
    /// Virtual Desktop network guidelines, RDS troubleshooting guides) puts a good session
    /// under 120-150 ms and a deteriorating one above 150 ms.
    pub slow_rtt_ms: f64,
    /// TLS handshake time beyond which the connection is `network-slow`: a TLS 1.2 handshake
    /// is two round trips, so at the 150 ms RTT limit it takes about 300 ms plus the server's
    /// key operation; a second means the user waits through several such round trips.
    pub slow_handshake_ms: f64,
    /// `--client`: the profiles client-specific findings are judged for (`clients::judge`).
    pub clients: crate::clients::Selection,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            expiry_warn_days: 30,
            max_skew_s: 300,
            slow_rtt_ms: 150.0,
            slow_handshake_ms: 1000.0,
            clients: crate::clients::Selection::default(),
        }
    }
}

/// The finding for `code` with the table's severity, phase and remedy.
fn finding(code: C, detail: String) -> Finding {
    Finding {
        code,
        severity: code.severity(),
        phase: code.phase(),
        detail,
        remedy: code.remedy().to_string(),
    }
}

struct Acc(Vec<Finding>);

impl Acc {
    fn add(&mut self, code: C, detail: impl Into<String>) {
        if self.0.iter().any(|f| f.code == code) {
            return;
        }
        self.0.push(finding(code, detail.into()));
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
            TcpStatus::Refused => acc.add(C::PortClosed, "connection refused"),
            TcpStatus::Filtered => filtered_findings(tcp, r.target.port, &mut acc),
            TcpStatus::Unreachable => unreachable_findings(tcp, err, &mut acc),
            TcpStatus::Error => acc.add(C::TcpError, err),
        }
    }
    if r.flaky {
        acc.add(C::Flaky, format!("{} attempts disagreed", r.attempts));
    }
    rdp_findings(r, &mut acc);
    if let Some(rdp) = &r.rdp {
        encryption_findings(rdp, &mut acc);
    }
    let clamp = r.net.as_ref().and_then(|n| n.clamped_mss);
    if let Some(tls) = &r.tls {
        tls_findings(tls, r.cert.is_some(), clamp, &mut acc);
        schannel_findings(r, tls, &mut acc);
    }
    if let Some(net) = &r.net {
        net_findings(net, policy, &mut acc);
        if let Some(u) = &net.udp {
            udp_findings(u, r.target.port, &mut acc);
        }
    }
    if let Some(cert) = &r.cert {
        cert_findings(cert, now_unix, policy, &mut acc);
    }
    if let Some(c) = &r.credssp {
        credssp_findings(r, c, policy, &mut acc);
    }
    let mut v = acc.0;
    crate::clients::judge(r, policy.clients, &mut v);
    v.sort_by_key(|f| (std::cmp::Reverse(f.severity), f.code.rank()));
    if v.iter().all(|f| f.severity <= Severity::Info) {
        // The verdict of a healthy host is `ok`; info findings stay listed after it.
        let detail = if r.address.is_some() {
            ""
        } else {
            "no address"
        };
        v.insert(0, finding(C::Ok, detail.into()));
    }
    v
}

/// Diagnose and wrap into the envelope every sink writes.
pub fn report(mut record: ProbeRecord, now_unix: i64, policy: &Policy) -> HostReport {
    if let Some(rdp) = record.rdp.as_mut() {
        rdp.os_hint = crate::os_hint::of(rdp).map(str::to_string);
    }
    let findings = diagnose(&record, now_unix, policy);
    let clients = crate::clients::verdicts(&record);
    let severity = findings
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::Ok);
    let verdict = findings.first().map(|f| f.code).unwrap_or(C::Ok);
    HostReport {
        record,
        verdict,
        severity,
        findings,
        clients,
        change: None,
        first_seen_failing: None,
        run: None,
    }
}

/// No answer on the RDP port: the companion SYNs (when they ran) tell a down host from a
/// filtered port.
fn filtered_findings(tcp: &TcpOutcome, port: u16, acc: &mut Acc) {
    const NO_ANSWER: &str = "no SYN-ACK before the connect timeout";
    let Some(alive) = &tcp.alive else {
        acc.add(C::PortFiltered, NO_ANSWER);
        return;
    };
    match alive.liveness() {
        Liveness::Up(p) => {
            let how = match p.answer {
                AliveAnswer::SynAck => "a SYN-ACK",
                _ => "a RST",
            };
            acc.add(
                C::PortFiltered,
                format!(
                    "{NO_ANSWER}; the host is up: port {} answered with {how} ({})",
                    p.port,
                    alive.details()
                ),
            );
        }
        Liveness::Down => acc.add(
            C::HostDown,
            format!(
                "no answer on port {port} nor on the other ports tried ({})",
                alive.details()
            ),
        ),
        Liveness::Unknown => acc.add(
            C::PortFiltered,
            format!(
                "{NO_ANSWER}; whether the host is up is unknown ({})",
                alive.details()
            ),
        ),
    }
}

/// An ICMP error (or a local routing failure) ended the connect: who rejected it and why.
fn unreachable_findings(tcp: &TcpOutcome, err: String, acc: &mut Acc) {
    match &tcp.icmp {
        Some(i) => {
            let code = match i.meaning() {
                IcmpMeaning::Rejected => C::PortRejected,
                IcmpMeaning::NetUnreachable => C::NetUnreachable,
                IcmpMeaning::HostUnreachable => C::HostUnreachable,
            };
            let detail = if err.is_empty() {
                i.describe()
            } else {
                format!("{err}: {}", i.describe())
            };
            acc.add(code, detail);
        }
        // No ICMP behind it: the scanner's own routing table has no route (the errno name is
        // the recorded fact, in old saved scans too).
        None if err == "ENETUNREACH" => acc.add(
            C::NetUnreachable,
            "ENETUNREACH: the scanner has no route to this network",
        ),
        None => acc.add(C::HostUnreachable, err),
    }
}

/// A finding for `code` with the table's severity, phase and remedy (for findings made
/// outside the pure diagnosis, e.g. the baseline comparison).
pub fn finding_for(code: C, detail: String) -> Finding {
    finding(code, detail)
}

/// Replaces the findings with `codes` by `extra` (findings made outside the pure diagnosis:
/// the baseline comparison) and re-ranks, with the verdict and severity as [`report`] sets
/// them.
pub fn replace_findings(r: &mut HostReport, codes: &[C], extra: Vec<Finding>) {
    let had = r.findings.iter().any(|f| codes.contains(&f.code));
    if !had && extra.is_empty() {
        return;
    }
    let mut v = std::mem::take(&mut r.findings);
    v.retain(|f| f.code != C::Ok && !codes.contains(&f.code));
    v.extend(extra);
    v.sort_by_key(|f| (std::cmp::Reverse(f.severity), f.code.rank()));
    if v.iter().all(|f| f.severity <= Severity::Info) {
        let detail = if r.record.address.is_some() {
            ""
        } else {
            "no address"
        };
        v.insert(0, finding(C::Ok, detail.into()));
    }
    r.severity = v.iter().map(|f| f.severity).max().unwrap_or(Severity::Ok);
    r.verdict = v.first().map(|f| f.code).unwrap_or(C::Ok);
    r.findings = v;
}

fn dns_findings(r: &ProbeRecord, acc: &mut Acc) {
    let d = &r.dns;
    let err = d.error.clone().unwrap_or_default();
    match d.status {
        DnsStatus::Nxdomain => acc.add(C::DnsNxdomain, format!("{} does not exist", r.target.host)),
        DnsStatus::Nodata => acc.add(
            C::DnsNodata,
            format!("{} has no A/AAAA records", r.target.host),
        ),
        DnsStatus::Servfail => acc.add(C::DnsServfail, err),
        DnsStatus::Refused => acc.add(C::DnsRefused, err),
        DnsStatus::Timeout => acc.add(C::DnsTimeout, err),
        DnsStatus::Error => acc.add(C::DnsError, err),
        DnsStatus::Resolved | DnsStatus::Pinned => {
            let expect = &r.target.expect_ip;
            if !expect.is_empty() {
                let got: Vec<IpAddr> = d.addresses.clone();
                let same = got.iter().all(|a| expect.contains(a))
                    && expect.iter().all(|e| got.contains(e));
                if !same {
                    acc.add(
                        C::DnsMismatch,
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

/// Every protocol a client may request; a selection outside it is never valid.
const FIRST_REQUEST_BITS: u32 = Protocols::all().bits();

/// `SSL|HYBRID (0x00000003)`: the codec's names and the raw value, which stays evidence.
fn protocol_label(p: u32) -> String {
    let mut names = protocol_names(p).join("|");
    if p & !Protocols::all().bits() != 0 {
        names.push_str(if names.is_empty() {
            "unknown"
        } else {
            "|unknown"
        });
    }
    format!("{names} (0x{p:08X})")
}

fn failure_finding(code: u32, acc: &mut Acc) {
    let failure = FailureCode(code);
    let finding = match failure {
        FailureCode::SSL_REQUIRED_BY_SERVER => C::TlsRequired,
        FailureCode::SSL_NOT_ALLOWED_BY_SERVER => C::RdpSecurityOnly,
        FailureCode::SSL_CERT_NOT_ON_SERVER => C::CertMissing,
        FailureCode::HYBRID_REQUIRED_BY_SERVER => C::NlaRequired,
        FailureCode::SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER => C::ClientCertRequired,
        _ => C::RdpNegFailure,
    };
    let detail = match failure.name() {
        Some(name) => format!("RDP_NEG_FAILURE {code} {name}"),
        None => format!("RDP_NEG_FAILURE code {code}"),
    };
    acc.add(finding, detail);
}

fn rdp_findings(r: &ProbeRecord, acc: &mut Acc) {
    let Some(rdp) = &r.rdp else { return };
    let Some(first) = rdp.attempts.first() else {
        return;
    };
    match &first.result {
        NegResult::NotRdp { first_bytes, hint } => acc.add(
            C::NotRdp,
            format!("reply looks like {hint} (first bytes {first_bytes})"),
        ),
        NegResult::BadLength { length } => {
            acc.add(C::NotRdp, format!("TPKT length {length} is out of range"))
        }
        NegResult::NoReply => acc.add(
            C::RdpNoReply,
            "no X.224 connection confirm before the timeout",
        ),
        NegResult::Reset => acc.add(C::RdpReset, "connection reset after the X.224 request"),
        NegResult::Closed => acc.add(
            C::RdpReset,
            "connection closed (FIN) after the X.224 request",
        ),
        NegResult::Rejected => acc.add(
            C::RdpRequestRejected,
            "MCS Disconnect-Provider-Ultimatum instead of a connection confirm",
        ),
        NegResult::Legacy => acc.add(
            C::RdpLegacy,
            "bare connection confirm: TLS/NLA support unknown",
        ),
        NegResult::ConnectFailed { status } => {
            acc.add(C::TcpError, format!("connection {}", status.as_str()))
        }
        NegResult::UncoveredNeg { selected, failure } => {
            let hidden = match (selected, failure) {
                (Some(p), _) => format!("RDP_NEG_RSP selecting {}", protocol_label(*p)),
                (None, Some(code)) => format!("RDP_NEG_FAILURE {code}"),
                (None, None) => "negotiation data".to_string(),
            };
            acc.add(
                C::RdpProtocolViolation,
                format!(
                    "the connection confirm's length indicator (LI=6) leaves out the {hidden} \
                     sent after it: clients follow LI, miss the answer and fall back to \
                     standard RDP security"
                ),
            )
        }
        NegResult::Selected { protocol, .. } if !selection_is_valid(first.requested, *protocol) => {
            acc.add(
                C::RdpProtocolViolation,
                format!(
                    "asked for {}, the server selected {}, which the client never offered",
                    protocol_label(first.requested),
                    protocol_label(*protocol)
                ),
            )
        }
        NegResult::Selected { protocol, .. } => {
            if *protocol == 0 && first.requested != 0 {
                acc.add(
                    C::RdpSecurityOnly,
                    "the server picked standard RDP security although TLS was offered",
                );
            }
        }
        NegResult::Failure { .. } => {}
    }
    // Later matrix answers that no request could produce (unknown or several bits).
    let later = rdp.attempts.iter().skip(1).find_map(|a| match a.result {
        NegResult::Selected { protocol, .. }
            if !selection_is_valid(FIRST_REQUEST_BITS, protocol) =>
        {
            Some((a.requested, protocol))
        }
        _ => None,
    });
    if let Some((requested, protocol)) = later {
        acc.add(
            C::RdpProtocolViolation,
            format!(
                "asked for {}, the server selected {}, which no client offers",
                protocol_label(requested),
                protocol_label(protocol)
            ),
        );
    }
    for code in &rdp.failures {
        failure_finding(*code, acc);
    }
    let has = |l: Protocols| rdp.accepts(l);
    let nla = has(Protocols::HYBRID) || has(Protocols::HYBRID_EX);
    let enhanced = has(Protocols::SSL) || nla;
    let accepted = || format!("accepted: {}", rdp.accepted_names().join("|"));
    if has(Protocols::RDP) && enhanced {
        acc.add(C::DowngradePossible, accepted());
    }
    if nla && (has(Protocols::SSL) || has(Protocols::RDP)) {
        acc.add(C::NlaNotEnforced, accepted());
    }
}

/// `clamp`: the MSS of the blackhole retry, when one ran.
fn tls_findings(t: &TlsOutcome, has_cert: bool, clamp: Option<u32>, acc: &mut Acc) {
    let err = t.error.clone().unwrap_or_default();
    match t.status {
        TlsStatus::Ok | TlsStatus::LegacyHello => {
            if let Some(mss) = clamp {
                acc.add(
                    C::PathMtuBlackhole,
                    format!(
                        "the TLS flight stalled at the path's full MSS and arrived with the MSS \
                         clamped to {mss} (IP packets of {} bytes get through)",
                        mss + 40
                    ),
                );
            }
            let v = t.version.as_deref().unwrap_or("");
            // A TLS <= 1.2 flight shows its certificate in plaintext: none read means none sent.
            // (TLS 1.3 encrypts it, so its absence from the legacy hello means nothing.)
            if t.status == TlsStatus::LegacyHello && v != "TLSv1.3" && !has_cert {
                acc.add(
                    C::TlsNoCertificate,
                    with_error(&format!("{v} flight"), &err),
                );
            }
            if v == "TLSv1.3" {
                // Modern suites only: nothing legacy to report, whichever path read it.
            } else if matches!(v, "TLSv1.0" | "TLSv1.1" | "SSLv3") {
                acc.add(
                    C::TlsLegacyOnly,
                    format!("best version offered by the server: {v}"),
                );
            } else if t.legacy {
                let suite = t.cipher.as_deref().unwrap_or("?");
                acc.add(C::TlsLegacySuites, format!("{v} with {suite}"));
            }
        }
        TlsStatus::Alert => {
            let a = t
                .alert
                .map(|a| format!("alert {a} {}", alert_name(a)))
                .unwrap_or_default();
            acc.add(C::TlsHandshakeFailed, a);
        }
        TlsStatus::ResetAfterHello => acc.add(
            C::TlsResetAfterHello,
            "connection reset right after the ClientHello",
        ),
        TlsStatus::EofAfterHello => acc.add(
            C::TlsResetAfterHello,
            "connection closed right after the ClientHello",
        ),
        TlsStatus::Stalled => acc.add(
            C::TlsStalled,
            match clamp {
                Some(mss) => {
                    format!("no ServerHello before the timeout, also with the MSS clamped to {mss}")
                }
                None => "no ServerHello before the timeout".into(),
            },
        ),
        TlsStatus::NoCommon => acc.add(
            C::TlsHandshakeFailed,
            with_error("no common TLS version or cipher suite", &err),
        ),
        TlsStatus::NotTls => acc.add(
            C::TlsHandshakeFailed,
            with_error("the server's reply is not TLS", &err),
        ),
        TlsStatus::Error => acc.add(C::TlsHandshakeFailed, err),
    }
}

/// The Windows profile's own hello refused although another hello got a handshake
/// (`schannel-suites-mismatch`); TLS 1.0/1.1 accepted beside 1.2 (`tls-legacy-enabled`).
fn schannel_findings(r: &ProbeRecord, t: &TlsOutcome, acc: &mut Acc) {
    let others_ok = matches!(t.status, TlsStatus::Ok | TlsStatus::LegacyHello);
    let version = t.version.as_deref().and_then(crate::clients::version_of);
    // A Windows hello refused although the server's version is one that client offers: the
    // suites are the difference (a version gap is `tls-legacy-only`'s business).
    let windows = r.profile_hellos.iter().find(|h| {
        crate::clients::profile(&h.profile)
            .is_some_and(|p| p.windows && version.is_some_and(|v| p.hello.offers_version(v)))
            && matches!(h.status, HelloStatus::Alert | HelloStatus::Closed)
    });
    if others_ok && let Some(h) = windows {
        let how = match h.alert {
            Some(a) => format!("alert {a} {}", alert_name(a)),
            None => "a close".into(),
        };
        acc.add(
            C::SchannelSuitesMismatch,
            format!(
                "{} ({}) got {how}; {} negotiated {} with {}",
                h.profile,
                crate::clients::profile(&h.profile).map_or("", |p| p.name),
                t.via,
                t.version.as_deref().unwrap_or("?"),
                t.cipher.as_deref().unwrap_or("?")
            ),
        );
    }
    weak_suite_findings(t, acc);
    let legacy: Vec<&str> = t
        .versions
        .iter()
        .map(String::as_str)
        .filter(|v| matches!(*v, "TLSv1.0" | "TLSv1.1"))
        .collect();
    let modern = t.versions.iter().any(|v| v == "TLSv1.2" || v == "TLSv1.3");
    if !legacy.is_empty() && modern {
        acc.add(
            C::TlsLegacyEnabled,
            format!("accepted: {}", t.versions.join(",")),
        );
    }
}

/// Deep suite enumeration: every weak suite accepted, with the versions that accept it.
fn weak_suite_findings(t: &TlsOutcome, acc: &mut Acc) {
    let mut weak: Vec<(&str, Vec<&str>)> = Vec::new();
    for list in &t.suites {
        for name in list.suites.iter().chain(&list.weak) {
            if !crate::tls::suites::suite_id(name).is_some_and(crate::tls::suites::is_weak) {
                continue;
            }
            match weak.iter_mut().find(|(n, _)| n == name) {
                Some((_, versions)) if versions.contains(&list.version.as_str()) => {}
                Some((_, versions)) => versions.push(&list.version),
                None => weak.push((name, vec![&list.version])),
            }
        }
    }
    if !weak.is_empty() {
        let detail: Vec<String> = weak
            .iter()
            .map(|(n, v)| format!("{n} ({})", v.join(",")))
            .collect();
        acc.add(C::TlsWeakSuites, detail.join("; "));
    }
}

/// Deep standard-RDP-security data (MCS/GCC server security): FIPS-only and weak levels.
fn encryption_findings(rdp: &crate::model::RdpOutcome, acc: &mut Acc) {
    use crate::rdp::mcs::method;
    const LEVEL_LOW: u32 = 1;
    const LEVEL_FIPS: u32 = 4;
    if !rdp.accepts(Protocols::RDP) {
        return;
    }
    if rdp.encryption_level == Some(LEVEL_FIPS) {
        acc.add(C::RdpFipsOnly, "encryption level 4 (FIPS)");
    }
    let weak: Vec<&str> = rdp
        .encryption_methods
        .iter()
        .filter_map(|m| match *m {
            method::BIT40 => Some("40-bit"),
            method::BIT56 => Some("56-bit"),
            _ => None,
        })
        .collect();
    if rdp.encryption_level == Some(LEVEL_LOW) || !weak.is_empty() {
        let mut why = Vec::new();
        if rdp.encryption_level == Some(LEVEL_LOW) {
            why.push("level 1 (Low: client-to-server only)".to_string());
        }
        if !weak.is_empty() {
            why.push(format!("methods {}", weak.join(",")));
        }
        acc.add(C::RdpWeakEncryption, why.join("; "));
    }
}

/// Loss and latency the kernel measured on the probe's own connections.
fn net_findings(n: &NetFacts, policy: &Policy, acc: &mut Acc) {
    if n.retransmits > 0 {
        acc.add(
            C::NetworkLossy,
            format!(
                "{} segment(s) retransmitted over {} connection(s)",
                n.retransmits, n.measured
            ),
        );
    }
    let mut slow = Vec::new();
    if let Some(rtt) = n.srtt_ms.filter(|v| *v > policy.slow_rtt_ms) {
        slow.push(format!(
            "smoothed RTT {rtt:.0} ms (> {:.0} ms)",
            policy.slow_rtt_ms
        ));
    }
    if let Some(h) = n.handshake_ms.filter(|v| *v > policy.slow_handshake_ms) {
        slow.push(format!(
            "TLS handshake {h:.0} ms (> {:.0} ms)",
            policy.slow_handshake_ms
        ));
    }
    if !slow.is_empty() {
        acc.add(C::NetworkSlow, slow.join(", "));
    }
}

/// The RDP-UDP probe ran (so TCP RDP got as far as TLS) and UDP did not come up.
fn udp_findings(u: &UdpOutcome, port: u16, acc: &mut Acc) {
    let detail = match (u.status, u.detail.as_deref()) {
        (UdpStatus::NoAnswer, _) => format!(
            "no answer to the RDP-UDP SYN on UDP {port}: a firewall drops it, or the server does not offer UDP"
        ),
        (UdpStatus::Refused, Some("ECONNREFUSED") | None) => format!(
            "ICMP port unreachable for UDP {port}: nothing listens there (UDP transport off or unsupported), or a firewall rejects it"
        ),
        (UdpStatus::Refused, Some(e)) => {
            format!("{e}: a router or firewall rejected the RDP-UDP SYN to UDP {port}")
        }
        // Open: nothing to say; a scanner-side error or a stray answer proves nothing blocked.
        _ => return,
    };
    acc.add(C::UdpBlocked, detail);
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
            C::TlsHandshakeFailed,
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
            C::CertExpired,
            format!("expired {} d ago ({})", -days_left, c.not_after),
        );
    } else if now < c.not_before_unix {
        acc.add(C::CertNotYetValid, format!("valid from {}", c.not_before));
    } else if days_left <= i64::from(policy.expiry_warn_days) {
        acc.add(
            C::CertExpiring,
            format!("expires in {days_left} d ({})", c.not_after),
        );
    }
    if c.name_match == Some(false) {
        let name = c.checked_name.clone().unwrap_or_default();
        acc.add(
            C::CertNameMismatch,
            format!(
                "{name} is not in subject {:?} / SANs {:?}",
                c.subject, c.sans
            ),
        );
    }
    let weak_key = cert::is_weak_key(c);
    let weak_sig = cert::is_weak_sig(c);
    if weak_key || weak_sig {
        let mut why = Vec::new();
        if weak_key {
            why.push(c.key.clone());
        }
        if weak_sig {
            why.push(c.sig_alg.clone());
        }
        acc.add(C::CertWeak, why.join(", "));
    }
    if !cert::eku_allows_rdp(c) {
        let eku: Vec<String> = c
            .eku
            .iter()
            .flatten()
            .map(|o| cert::eku_display(o))
            .collect();
        acc.add(C::CertWrongEku, format!("EKU: {}", eku.join(", ")));
    }
    if c.self_signed {
        acc.add(
            C::CertSelfSigned,
            format!("issuer = subject = {}", c.subject),
        );
    } else if let Some(missing) = &c.missing_issuer {
        // Not "untrusted": a trusted root completes the chain once the server sends it.
        acc.add(C::CertChainIncomplete, missing.clone());
    } else if !c.trusted {
        let why = c
            .trust_error
            .clone()
            .unwrap_or_else(|| "unknown issuer".into());
        acc.add(C::CertUntrusted, format!("{why} (issuer {})", c.issuer));
    }
    revocation::revocation_findings(c, acc);
}

#[path = "diagnose_revocation.rs"]
mod revocation;

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
            acc.add(C::CredsspFailed, msg.trim().to_string());
        }
        CredSspStatus::Unavailable => return,
        CredSspStatus::Malformed
        | CredSspStatus::Reset
        | CredSspStatus::Closed
        | CredSspStatus::Timeout => {
            let err = c.error.clone().unwrap_or_default();
            acc.add(
                C::CredsspFailed,
                format!("{:?} {err}", c.status).trim().to_string(),
            );
        }
    }
    if let Some(v) = c.version
        && v <= 4
    {
        acc.add(C::CredsspUnpatched, format!("server TSRequest version {v}"));
    }
    if let Some(code) = c.error_code {
        acc.add(C::CredsspError, format!("errorCode 0x{code:08X}"));
    }
    let Some(ntlm) = &c.ntlm else { return };
    if let Some(skew) = ntlm.clock_skew_s
        && skew.abs() > policy.max_skew_s
    {
        acc.add(C::ClockSkew, format!("server clock differs by {skew} s"));
    }
    let Some(announced) = ntlm.nb_computer.as_deref().or(ntlm.dns_computer.as_deref()) else {
        return;
    };
    if r.target.host.parse::<IpAddr>().is_err() {
        // A CNAME to the machine's own name is not a stale record.
        let names = [Some(r.target.host.as_str()), r.dns.canonical.as_deref()];
        if !names.iter().flatten().any(|n| names_machine(n, ntlm)) {
            acc.add(
                C::NameMismatch,
                format!(
                    "inventory name {} but the server calls itself {announced}",
                    r.target.host
                ),
            );
        }
    } else if let Some(ptr) = r.dns.ptr.as_deref()
        && !names_machine(ptr, ntlm)
    {
        // An IP target: its reverse DNS names another machine (a stale PTR record).
        acc.add(
            C::NameMismatch,
            format!(
                "reverse DNS of {} names {ptr} but the server calls itself {announced}",
                r.target.host
            ),
        );
    }
}

/// Whether a DNS name's first label is the machine NTLM announces (case-insensitive, domain
/// ignored): its DNS computer name's first label, or its NetBIOS name, which Windows cuts to
/// 15 characters. A server announcing no usable name is never called a mismatch.
fn names_machine(name: &str, ntlm: &NtlmInfo) -> bool {
    let first = |s: &str| s.split('.').next().unwrap_or("").to_ascii_lowercase();
    let label = first(name);
    let dns = ntlm.dns_computer.as_deref().map(first).unwrap_or_default();
    let nb = ntlm.nb_computer.as_deref().map(first).unwrap_or_default();
    if dns.is_empty() && nb.is_empty() {
        return true;
    }
    (!dns.is_empty() && label == dns) || (!nb.is_empty() && label.chars().take(15).eq(nb.chars()))
}

#[cfg(test)]
mod udp_tests;

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
                icmp: None,
                alive: None,
            }),
            connections: 1,
            duration_ms: 1.0,
            ..ProbeRecord::new(target, dns, "2026-01-01T00:00:00Z".into())
        }
    }

    fn codes(r: &ProbeRecord) -> Vec<C> {
        diagnose(r, 1_800_000_000, &Policy::default())
            .into_iter()
            .map(|f| f.code)
            .collect()
    }

    #[test]
    fn a_protocol_never_offered_is_a_violation_not_ok() {
        for protocol in [0x04, 0x10, 0x03, 0x8000_0000, u32::MAX] {
            let mut r = base("odd.corp.example");
            r.rdp = Some(RdpOutcome {
                attempts: vec![NegAttempt {
                    requested: 0x0B,
                    result: NegResult::Selected { protocol, flags: 0 },
                }],
                ..Default::default()
            });
            let f = diagnose(&r, 1_800_000_000, &Policy::default());
            assert_eq!(f[0].code, C::RdpProtocolViolation, "{protocol:#x}");
            assert!(
                f[0].detail.contains(&format!("0x{protocol:08X}")),
                "{}",
                f[0].detail
            );
        }
        let mut r = base("li6.corp.example");
        r.rdp = Some(RdpOutcome {
            attempts: vec![NegAttempt {
                requested: 0x0B,
                result: NegResult::UncoveredNeg {
                    selected: Some(1),
                    failure: None,
                },
            }],
            ..Default::default()
        });
        let f = diagnose(&r, 1_800_000_000, &Policy::default());
        assert_eq!(f[0].code, C::RdpProtocolViolation);
        assert!(
            f[0].detail.contains("LI=6") && f[0].detail.contains("SSL"),
            "{}",
            f[0].detail
        );
    }

    #[test]
    fn healthy_host_is_ok() {
        assert_eq!(codes(&base("srv01.corp.example")), vec![C::Ok]);
    }

    #[test]
    fn dns_failures_are_primary() {
        let mut r = base("gone.corp.example");
        r.dns.status = DnsStatus::Nxdomain;
        r.address = None;
        r.tcp = None;
        assert_eq!(codes(&r), vec![C::DnsNxdomain]);
        r.dns.status = DnsStatus::Timeout;
        assert_eq!(codes(&r), vec![C::DnsTimeout]);
    }

    #[test]
    fn dns_mismatch_against_expect_ip() {
        let mut r = base("srv.corp.example");
        r.target.expect_ip = vec!["192.0.2.99".parse().unwrap()];
        assert_eq!(codes(&r), vec![C::DnsMismatch]);
        r.target.expect_ip = vec!["192.0.2.10".parse().unwrap()];
        assert_eq!(codes(&r), vec![C::Ok]);
    }

    #[test]
    fn tcp_verdicts() {
        for (st, code) in [
            (TcpStatus::Refused, C::PortClosed),
            (TcpStatus::Filtered, C::PortFiltered),
            (TcpStatus::Unreachable, C::HostUnreachable),
        ] {
            let mut r = base("h");
            r.tcp = Some(TcpOutcome {
                status: st,
                rtt_ms: None,
                error: None,
                icmp: None,
                alive: None,
            });
            assert_eq!(codes(&r)[0], code);
        }
    }

    fn filtered_with(probes: &[(u16, AliveAnswer, Option<IcmpReport>)]) -> ProbeRecord {
        let mut r = base("h");
        r.tcp = Some(TcpOutcome {
            alive: Some(AliveOutcome {
                probes: probes
                    .iter()
                    .map(|&(port, answer, icmp)| AliveProbe { port, answer, icmp })
                    .collect(),
            }),
            ..TcpOutcome::status(TcpStatus::Filtered)
        });
        r
    }

    fn icmp(proto: IcmpProto, icmp_type: u8, code: u8) -> IcmpReport {
        IcmpReport {
            proto,
            icmp_type,
            code,
            from: Some("198.51.100.1".parse().unwrap()),
        }
    }

    fn first(r: &ProbeRecord) -> Finding {
        diagnose(r, 1_800_000_000, &Policy::default())
            .into_iter()
            .next()
            .unwrap()
    }

    #[test]
    fn companion_ports_tell_down_from_filtered() {
        use AliveAnswer::*;
        // One RST anywhere: the host is up, 3389 is filtered.
        let f = first(&filtered_with(&[(445, Silent, None), (135, Rst, None)]));
        assert_eq!(f.code, C::PortFiltered);
        assert!(
            f.detail
                .contains("host is up: port 135 answered with a RST"),
            "{}",
            f.detail
        );
        let f = first(&filtered_with(&[(445, SynAck, None)]));
        assert!(
            f.detail.contains("port 445 answered with a SYN-ACK"),
            "{}",
            f.detail
        );
        // Silence everywhere, or routers saying the host is unreachable: down.
        let f = first(&filtered_with(&[(445, Silent, None), (135, Silent, None)]));
        assert_eq!(f.code, C::HostDown);
        assert!(f.detail.contains("445 silent, 135 silent"), "{}", f.detail);
        assert!(f.remedy.contains("inventory"));
        let unreach = Some(icmp(IcmpProto::Icmp, 3, 1));
        assert_eq!(
            first(&filtered_with(&[(445, Icmp, unreach), (135, Silent, None)])).code,
            C::HostDown
        );
        // A filter rejecting a companion, or a companion never sent: no proof either way.
        let rejected = Some(icmp(IcmpProto::Icmp, 3, 13));
        let f = first(&filtered_with(&[
            (445, Icmp, rejected),
            (135, Silent, None),
        ]));
        assert_eq!(f.code, C::PortFiltered);
        assert!(f.detail.contains("unknown"), "{}", f.detail);
        assert_eq!(
            first(&filtered_with(&[(445, Error, None), (135, Silent, None)])).code,
            C::PortFiltered
        );
        // Not probed: as before.
        let mut r = base("h");
        r.tcp = Some(TcpOutcome::status(TcpStatus::Filtered));
        assert_eq!(first(&r).detail, "no SYN-ACK before the connect timeout");
    }

    #[test]
    fn icmp_errors_name_who_rejected_and_why() {
        let unreachable = |icmp: Option<IcmpReport>, err: &str| {
            let mut r = base("h");
            r.tcp = Some(TcpOutcome {
                error: Some(err.into()),
                icmp,
                ..TcpOutcome::status(TcpStatus::Unreachable)
            });
            first(&r)
        };
        for (proto, t, c, code) in [
            (IcmpProto::Icmp, 3, 13, C::PortRejected),
            (IcmpProto::Icmp, 3, 9, C::PortRejected),
            (IcmpProto::Icmp, 3, 10, C::PortRejected),
            (IcmpProto::Icmp, 3, 3, C::PortRejected),
            (IcmpProto::Icmpv6, 1, 1, C::PortRejected),
            (IcmpProto::Icmpv6, 1, 4, C::PortRejected),
            (IcmpProto::Icmp, 3, 0, C::NetUnreachable),
            (IcmpProto::Icmpv6, 1, 0, C::NetUnreachable),
            (IcmpProto::Icmp, 3, 1, C::HostUnreachable),
            (IcmpProto::Icmpv6, 1, 3, C::HostUnreachable),
            (IcmpProto::Icmp, 11, 0, C::HostUnreachable),
        ] {
            let f = unreachable(Some(icmp(proto, t, c)), "EHOSTUNREACH");
            assert_eq!(f.code, code, "{proto:?} {t}/{c}");
            assert!(f.detail.contains("from 198.51.100.1"), "{}", f.detail);
            assert!(f.detail.starts_with("EHOSTUNREACH: "), "{}", f.detail);
        }
        let f = unreachable(Some(icmp(IcmpProto::Icmp, 3, 13)), "EHOSTUNREACH");
        assert!(
            f.detail
                .contains("type 3 code 13 (communication administratively prohibited)")
        );
        assert!(f.remedy.contains("firewall"));
        // Without ICMP: ENETUNREACH is the scanner's own routing table.
        let f = unreachable(None, "ENETUNREACH");
        assert_eq!(f.code, C::NetUnreachable);
        assert!(f.detail.contains("scanner has no route"));
        assert_eq!(unreachable(None, "EHOSTUNREACH").code, C::HostUnreachable);
    }

    /// Records saved before these facts existed read back unchanged, and rows without them
    /// serialise exactly as before.
    #[test]
    fn tcp_facts_are_optional_in_json() {
        let old = r#"{"status":"filtered"}"#;
        let t: TcpOutcome = serde_json::from_str(old).unwrap();
        assert_eq!(t, TcpOutcome::status(TcpStatus::Filtered));
        assert_eq!(serde_json::to_string(&t).unwrap(), old);
        let mut t = filtered_with(&[(445, AliveAnswer::Rst, None)]).tcp.unwrap();
        t.icmp = Some(icmp(IcmpProto::Icmpv6, 1, 1));
        let json = serde_json::to_string(&t).unwrap();
        assert!(
            json.contains(r#""icmp":{"proto":"icmpv6","type":1,"code":1,"from":"198.51.100.1"}"#),
            "{json}"
        );
        assert!(
            json.contains(r#""alive":{"probes":[{"port":445,"answer":"rst"}]}"#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<TcpOutcome>(&json).unwrap(), t);
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
            suites: Vec::new(),
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
        assert_eq!(c[0], C::TlsResetAfterHello);
        assert!(c.contains(&C::CertExpired));
        assert!(c.contains(&C::CertSelfSigned));
    }

    fn trusted_cert(now: i64) -> CertFacts {
        CertFacts {
            not_before_unix: now - 86_400,
            not_after_unix: now + 365 * 86_400,
            key: "RSA-2048".into(),
            key_bits: 2048,
            sig_alg: "sha256WithRSAEncryption".into(),
            trusted: true,
            ..Default::default()
        }
    }

    #[test]
    fn eku_and_incomplete_chain_findings() {
        let now = 1_800_000_000;
        let mut r = base("h");
        // clientAuth only, trusted chain: wrong EKU, not untrusted.
        r.cert = Some(CertFacts {
            eku: Some(vec!["1.3.6.1.5.5.7.3.2".into()]),
            ..trusted_cert(now)
        });
        let f = diagnose(&r, now, &Policy::default());
        assert_eq!(f[0].code, C::CertWrongEku);
        assert_eq!(f[0].severity, Severity::Warn);
        assert!(f[0].detail.contains("clientAuth"), "{}", f[0].detail);
        assert!(f.iter().all(|x| x.code != C::CertUntrusted));
        // serverAuth, RDA, or no EKU at all: fine. Windows' self-signed: info only.
        for eku in [
            Some(vec!["1.3.6.1.5.5.7.3.1".to_string()]),
            Some(vec!["1.3.6.1.4.1.311.54.1.2".to_string()]),
            None,
        ] {
            r.cert = Some(CertFacts {
                eku,
                ..trusted_cert(now)
            });
            assert_eq!(codes(&r), vec![C::Ok]);
        }
        r.cert = Some(CertFacts {
            eku: Some(vec!["1.3.6.1.5.5.7.3.1".into()]),
            key_usage: vec!["keyEncipherment".into(), "dataEncipherment".into()],
            self_signed: true,
            trusted: false,
            ..trusted_cert(now)
        });
        assert_eq!(codes(&r), vec![C::Ok, C::CertSelfSigned]);
        // The issuer was not sent but is known: incomplete chain, not untrusted.
        r.cert = Some(CertFacts {
            trusted: false,
            trust_error: Some("unknown issuer".into()),
            missing_issuer: Some("the server did not send its issuer CN=CA".into()),
            ..trusted_cert(now)
        });
        assert_eq!(codes(&r), vec![C::CertChainIncomplete]);
        r.cert = Some(CertFacts {
            trusted: false,
            trust_error: Some("unknown issuer".into()),
            ..trusted_cert(now)
        });
        assert_eq!(codes(&r), vec![C::CertUntrusted]);
    }

    #[test]
    fn replaced_findings_rerank_the_row() {
        let now = 1_800_000_000;
        let mut r = base("h");
        r.address = Some("192.0.2.1".parse().unwrap());
        r.cert = Some(trusted_cert(now));
        let mut rep = report(r, now, &Policy::default());
        assert_eq!(rep.verdict, C::Ok);
        let fb = finding_for(C::CertFallbackSelfSigned, "x".into());
        replace_findings(&mut rep, &[C::CertFallbackSelfSigned], vec![fb]);
        assert_eq!(rep.verdict, C::CertFallbackSelfSigned);
        assert_eq!(rep.severity, Severity::Warn);
        assert!(rep.findings.iter().all(|f| f.code != C::Ok));
        // Removed again: back to ok.
        replace_findings(&mut rep, &[C::CertFallbackSelfSigned], Vec::new());
        assert_eq!(rep.verdict, C::Ok);
        assert_eq!(rep.severity, Severity::Ok);
        assert_eq!(rep.findings.len(), 1);
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
        assert_eq!(f[0].code, C::CertExpiring);
        assert!(f[0].detail.contains("10 d"), "{}", f[0].detail);
        c.not_before_unix = now + 100;
        r.cert = Some(c.clone());
        assert_eq!(codes(&r)[0], C::CertNotYetValid);
        c.not_before_unix = now - 100;
        c.key_bits = 1024;
        c.key = "RSA-1024".into();
        c.not_after_unix = now + 400 * 86_400;
        r.cert = Some(c);
        assert_eq!(codes(&r)[0], C::CertWeak);
    }

    #[test]
    fn failure_codes_name_their_finding_and_spec_name() {
        for (code, want, detail) in [
            (
                1,
                C::TlsRequired,
                "RDP_NEG_FAILURE 1 SSL_REQUIRED_BY_SERVER",
            ),
            (
                2,
                C::RdpSecurityOnly,
                "RDP_NEG_FAILURE 2 SSL_NOT_ALLOWED_BY_SERVER",
            ),
            (
                3,
                C::CertMissing,
                "RDP_NEG_FAILURE 3 SSL_CERT_NOT_ON_SERVER",
            ),
            (4, C::RdpNegFailure, "RDP_NEG_FAILURE 4 INCONSISTENT_FLAGS"),
            (
                5,
                C::NlaRequired,
                "RDP_NEG_FAILURE 5 HYBRID_REQUIRED_BY_SERVER",
            ),
            (
                6,
                C::ClientCertRequired,
                "RDP_NEG_FAILURE 6 SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER",
            ),
            (9, C::RdpNegFailure, "RDP_NEG_FAILURE code 9"),
        ] {
            let mut acc = Acc(Vec::new());
            failure_finding(code, &mut acc);
            let f = acc.0.first().unwrap();
            assert_eq!((f.code, f.detail.as_str()), (want, detail), "{code}");
        }
    }

    /// The weak-certificate rule is `cert::is_weak_*`: DSA-1024 and MD4 are weak, a key whose
    /// size could not be read is not judged.
    #[test]
    fn weak_certificates_follow_the_cert_rules() {
        let now = 1_800_000_000;
        let mut r = base("h");
        let good = CertFacts {
            not_before_unix: now - 86_400,
            not_after_unix: now + 400 * 86_400,
            key: "RSA-2048".into(),
            key_bits: 2048,
            sig_alg: "sha256WithRSAEncryption".into(),
            trusted: true,
            ..Default::default()
        };
        let weak = |c: CertFacts, r: &mut ProbeRecord| {
            r.cert = Some(c);
            diagnose(r, now, &Policy::default())
                .into_iter()
                .find(|f| f.code == C::CertWeak)
                .map(|f| f.detail)
        };
        assert_eq!(weak(good.clone(), &mut r), None);
        let dsa = CertFacts {
            key: "DSA-1024".into(),
            key_bits: 1024,
            sig_alg: "dsa-with-sha256".into(),
            ..good.clone()
        };
        assert_eq!(weak(dsa, &mut r).as_deref(), Some("DSA-1024"));
        let md4 = CertFacts {
            sig_alg: "md4WithRSAEncryption".into(),
            ..good.clone()
        };
        assert_eq!(weak(md4, &mut r).as_deref(), Some("md4WithRSAEncryption"));
        let unknown_size = CertFacts {
            key: "RSA-0".into(),
            key_bits: 0,
            ..good.clone()
        };
        assert_eq!(weak(unknown_size, &mut r), None);
        // Both at once: key first, then signature.
        let both = CertFacts {
            key: "RSA-1024".into(),
            key_bits: 1024,
            sig_alg: "sha1WithRSAEncryption".into(),
            ..good
        };
        assert_eq!(
            weak(both, &mut r).as_deref(),
            Some("RSA-1024, sha1WithRSAEncryption")
        );
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
        assert_eq!(c[0], C::CredsspUnpatched);
        assert!(c.contains(&C::NameMismatch));
        assert!(c.contains(&C::ClockSkew));
        // Same name, other case: no mismatch. IP targets are never compared.
        if let Some(n) = r.credssp.as_mut().and_then(|c| c.ntlm.as_mut()) {
            n.nb_computer = Some("WEB01".into());
        }
        assert!(!codes(&r).contains(&C::NameMismatch));
    }

    #[test]
    fn stale_ptr_on_ip_rows() {
        let mut r = base("192.0.2.10");
        r.dns.status = DnsStatus::Literal;
        let ntlm = |nb: &str, dns: Option<&str>| CredSspOutcome {
            status: CredSspStatus::Challenge,
            version: Some(6),
            error_code: None,
            ntlm: Some(NtlmInfo {
                nb_computer: Some(nb.into()),
                dns_computer: dns.map(str::to_string),
                ..Default::default()
            }),
            error: None,
        };
        r.credssp = Some(ntlm("TS01", Some("ts01.corp.example")));
        // No PTR name known: nothing to compare.
        assert!(!codes(&r).contains(&C::NameMismatch));
        // The PTR names the same machine, in another case and domain.
        r.dns.ptr = Some("TS01.other.example".into());
        assert!(!codes(&r).contains(&C::NameMismatch));
        // The PTR names another machine: stale reverse DNS.
        r.dns.ptr = Some("oldsrv07.corp.example".into());
        let rep = report(r.clone(), 0, &Policy::default());
        let f = rep
            .findings
            .iter()
            .find(|f| f.code == C::NameMismatch)
            .expect("name-mismatch");
        assert!(f.detail.contains("oldsrv07.corp.example"), "{}", f.detail);
        assert!(f.detail.contains("TS01"), "{}", f.detail);
        // NetBIOS names are cut to 15 characters: a longer host label still matches.
        r.credssp = Some(ntlm("VERYLONGSERVERN", None));
        r.dns.ptr = Some("verylongservername01.corp.example".into());
        assert!(!codes(&r).contains(&C::NameMismatch));
        r.dns.ptr = Some("verylongserverx.corp.example".into());
        assert!(codes(&r).contains(&C::NameMismatch));
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
            accepted: vec![Protocols::SSL, Protocols::RDP],
            ..Default::default()
        });
        assert_eq!(codes(&r)[0], C::DowngradePossible);
        r.rdp = Some(RdpOutcome {
            attempts: vec![NegAttempt {
                requested: 0x0B,
                result: NegResult::Failure { code: 3 },
            }],
            failures: vec![3],
            ..Default::default()
        });
        assert_eq!(codes(&r)[0], C::CertMissing);
        r.rdp = Some(RdpOutcome {
            attempts: vec![NegAttempt {
                requested: 0x0B,
                result: NegResult::Selected {
                    protocol: 8,
                    flags: 3,
                },
            }],
            accepted: vec![Protocols::HYBRID_EX, Protocols::HYBRID],
            required: Some(Protocols::HYBRID),
            failures: vec![5],
            ..Default::default()
        });
        let f = diagnose(&r, 0, &Policy::default());
        assert_eq!(f[0].code, C::Ok);
        assert_eq!(f[1].code, C::NlaRequired);
    }

    fn legacy_hello(version: &str, cipher: &str) -> TlsOutcome {
        TlsOutcome {
            status: TlsStatus::LegacyHello,
            version: Some(version.into()),
            cipher: Some(cipher.into()),
            alert: None,
            via: "legacy-hello".into(),
            versions: vec![],
            suites: Vec::new(),
            error: Some("rustls: closed".into()),
            legacy: true,
        }
    }

    #[test]
    fn legacy_flight_without_a_certificate() {
        let mut r = base("h");
        r.tls = Some(legacy_hello("TLSv1.2", "TLS_RSA_WITH_AES_128_CBC_SHA"));
        let c = codes(&r);
        assert_eq!(c[0], C::TlsNoCertificate, "{c:?}");
        // With the certificate read, the same flight is only the legacy-suites note.
        r.cert = Some(CertFacts {
            not_after_unix: i64::MAX,
            key: "RSA-2048".into(),
            key_bits: 2048,
            sig_alg: "sha256WithRSAEncryption".into(),
            ..Default::default()
        });
        let c = codes(&r);
        assert!(!c.contains(&C::TlsNoCertificate), "{c:?}");
        assert!(c.contains(&C::TlsLegacySuites), "{c:?}");
        // TLS 1.0 without a certificate: both failures, the missing certificate first.
        r.cert = None;
        r.tls = Some(legacy_hello("TLSv1.0", "TLS_RSA_WITH_AES_128_CBC_SHA"));
        let c = codes(&r);
        assert_eq!(c[..2], [C::TlsNoCertificate, C::TlsLegacyOnly], "{c:?}");
    }

    #[test]
    fn tls13_is_never_legacy_suites() {
        let mut r = base("h");
        // A saved record from before the probe stopped reporting this as a legacy hello.
        r.tls = Some(legacy_hello("TLSv1.3", "TLS_AES_128_GCM_SHA256"));
        let c = codes(&r);
        assert!(!c.contains(&C::TlsLegacySuites), "{c:?}");
        // TLS 1.3 encrypts the certificate: not reading it is no finding.
        assert!(!c.contains(&C::TlsNoCertificate), "{c:?}");
    }

    #[test]
    fn client_and_deep_findings() {
        let ok_tls = TlsOutcome {
            status: TlsStatus::Ok,
            version: Some("TLSv1.2".into()),
            cipher: Some("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256".into()),
            alert: None,
            via: "rustls".into(),
            versions: Vec::new(),
            suites: Vec::new(),
            error: None,
            legacy: false,
        };
        let refused = ProfileHello {
            profile: "win11".into(),
            status: HelloStatus::Alert,
            version: None,
            cipher: None,
            alert: Some(40),
            error: None,
        };
        let mut r = base("h");
        r.tls = Some(ok_tls.clone());
        r.profile_hellos = vec![refused.clone()];
        let f = diagnose(&r, 1_800_000_000, &Policy::default());
        assert_eq!(f.first().map(|f| f.code), Some(C::SchannelSuitesMismatch));
        let d = f.first().map(|f| f.detail.clone()).unwrap_or_default();
        assert!(
            d.contains("alert 40 handshake_failure") && d.contains("CHACHA20"),
            "{d}"
        );
        // The server's version is one Windows 11 does not offer: a version gap, not suites.
        r.tls = Some(TlsOutcome {
            status: TlsStatus::LegacyHello,
            version: Some("TLSv1.0".into()),
            ..ok_tls.clone()
        });
        assert!(!codes(&r).contains(&C::SchannelSuitesMismatch));
        r.tls = Some(ok_tls.clone());
        // The Windows hello accepted: no mismatch. rustls refused too: the plain TLS failure.
        r.profile_hellos[0].status = HelloStatus::Hello;
        assert!(!codes(&r).contains(&C::SchannelSuitesMismatch));
        r.profile_hellos = vec![refused];
        r.tls = Some(TlsOutcome {
            status: TlsStatus::Alert,
            alert: Some(40),
            ..ok_tls.clone()
        });
        assert!(!codes(&r).contains(&C::SchannelSuitesMismatch));

        // Deep single-version hellos: 1.0 beside 1.2 is info; 1.0 alone is not "enabled beside".
        let mut r = base("v");
        r.tls = Some(TlsOutcome {
            versions: vec!["TLSv1.0".into(), "TLSv1.2".into()],
            suites: Vec::new(),
            ..ok_tls.clone()
        });
        assert!(codes(&r).contains(&C::TlsLegacyEnabled));
        r.tls = Some(TlsOutcome {
            versions: vec!["TLSv1.2".into(), "TLSv1.3".into()],
            suites: Vec::new(),
            ..ok_tls.clone()
        });
        assert!(!codes(&r).contains(&C::TlsLegacyEnabled));

        // Deep suite enumeration: RC4/3DES/NULL/anonymous named with their versions; an
        // unknown id or AES-CBC is not weak.
        let list = |version: &str, suites: &[&str]| crate::model::SuiteList {
            version: version.into(),
            suites: suites.iter().map(|s| s.to_string()).collect(),
            complete: true,
            ..Default::default()
        };
        r.tls = Some(TlsOutcome {
            suites: vec![
                list(
                    "TLSv1.2",
                    &[
                        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                        "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
                        "TLS_RSA_WITH_NULL_SHA256",
                    ],
                ),
                // The full walk was cut short before RC4; the weak-only walk found it.
                crate::model::SuiteList {
                    weak: vec![
                        "TLS_RSA_WITH_3DES_EDE_CBC_SHA".into(),
                        "TLS_RSA_WITH_RC4_128_SHA".into(),
                    ],
                    complete: false,
                    ..list(
                        "TLSv1.0",
                        &[
                            "TLS_RSA_WITH_AES_128_CBC_SHA",
                            "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
                        ],
                    )
                },
            ],
            ..ok_tls.clone()
        });
        let weak = diagnose(&r, 1_800_000_000, &Policy::default());
        let f = weak.iter().find(|f| f.code == C::TlsWeakSuites);
        assert_eq!(
            f.map(|f| f.detail.as_str()),
            Some(
                "TLS_RSA_WITH_3DES_EDE_CBC_SHA (TLSv1.2,TLSv1.0); TLS_RSA_WITH_NULL_SHA256 \
                 (TLSv1.2); TLS_RSA_WITH_RC4_128_SHA (TLSv1.0)"
            )
        );
        r.tls = Some(TlsOutcome {
            suites: vec![list("TLSv1.2", &["TLS_RSA_WITH_AES_128_CBC_SHA", "0xABCD"])],
            ..ok_tls
        });
        assert!(!codes(&r).contains(&C::TlsWeakSuites));

        // MCS server security data, only when standard RDP security is accepted.
        let mut r = base("e");
        let mut rdp = RdpOutcome {
            encryption_level: Some(4),
            encryption_methods: vec![0x10],
            ..RdpOutcome::default()
        };
        rdp.accept(crate::rdp::x224::Protocols::RDP);
        r.rdp = Some(rdp.clone());
        let c = codes(&r);
        assert!(
            c.contains(&C::RdpFipsOnly) && !c.contains(&C::RdpWeakEncryption),
            "{c:?}"
        );
        rdp.encryption_level = Some(1);
        rdp.encryption_methods = vec![0x01, 0x02];
        r.rdp = Some(rdp.clone());
        let f = diagnose(&r, 1_800_000_000, &Policy::default());
        let weak = f.iter().find(|f| f.code == C::RdpWeakEncryption);
        assert_eq!(
            weak.map(|f| f.detail.as_str()),
            Some("level 1 (Low: client-to-server only); methods 40-bit")
        );
        rdp.encryption_level = Some(3);
        rdp.encryption_methods = vec![0x02];
        r.rdp = Some(rdp);
        let c = codes(&r);
        assert!(!c.contains(&C::RdpWeakEncryption) && !c.contains(&C::RdpFipsOnly));
    }

    #[test]
    fn network_path_findings() {
        let ok_tls = TlsOutcome {
            status: TlsStatus::Ok,
            version: Some("TLSv1.2".into()),
            cipher: None,
            alert: None,
            via: "rustls".into(),
            versions: vec![],
            suites: Vec::new(),
            error: None,
            legacy: false,
        };
        let mut r = base("h");
        r.tls = Some(ok_tls.clone());
        let clean = NetFacts {
            measured: 3,
            srtt_ms: Some(20.0),
            rtt_var_ms: Some(5.0),
            handshake_ms: Some(80.0),
            ..Default::default()
        };
        r.net = Some(clean.clone());
        assert_eq!(codes(&r), vec![C::Ok]);

        // A host that answers correctly over a lossy path is not ok.
        r.net = Some(NetFacts {
            retransmits: 2,
            ..clean.clone()
        });
        let f = diagnose(&r, 0, &Policy::default());
        assert_eq!(f[0].code, C::NetworkLossy);
        assert_eq!(
            f[0].detail,
            "2 segment(s) retransmitted over 3 connection(s)"
        );
        // ...but a configuration fault on the same host stays the verdict.
        r.flaky = true;
        r.attempts = 2;
        assert_eq!(codes(&r), vec![C::Flaky, C::NetworkLossy]);
        r.flaky = false;

        // Slow: RTT over 150 ms or a handshake over 1 s; exactly at the limit is not slow.
        r.net = Some(NetFacts {
            srtt_ms: Some(150.0),
            handshake_ms: Some(1000.0),
            ..clean.clone()
        });
        assert_eq!(codes(&r), vec![C::Ok]);
        r.net = Some(NetFacts {
            srtt_ms: Some(212.4),
            handshake_ms: Some(1500.0),
            ..clean.clone()
        });
        let f = diagnose(&r, 0, &Policy::default());
        assert_eq!(f[0].code, C::NetworkSlow);
        assert_eq!(
            f[0].detail,
            "smoothed RTT 212 ms (> 150 ms), TLS handshake 1500 ms (> 1000 ms)"
        );

        // The TLS flight arrived only with a clamped MSS: a blackhole, a failure.
        r.net = Some(NetFacts {
            clamped_mss: Some(536),
            ..clean.clone()
        });
        let f = diagnose(&r, 0, &Policy::default());
        assert_eq!(f[0].code, C::PathMtuBlackhole);
        assert_eq!(f[0].severity, Severity::Fail);
        assert!(f[0].detail.contains("clamped to 536"), "{}", f[0].detail);
        assert!(f[0].remedy.contains("MSS"), "{}", f[0].remedy);
        // It stalled with the clamp too: still tls-stalled, saying so; no blackhole claimed.
        r.tls = Some(TlsOutcome {
            status: TlsStatus::Stalled,
            version: None,
            ..ok_tls
        });
        let f = diagnose(&r, 0, &Policy::default());
        assert_eq!(f[0].code, C::TlsStalled);
        assert!(f[0].detail.ends_with("also with the MSS clamped to 536"));
        assert!(!f.iter().any(|x| x.code == C::PathMtuBlackhole));
    }
}
