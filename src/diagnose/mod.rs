//! ProbeRecord -> findings. A pure function: same record and clock, same findings.
//!
//! Every finding has a stable code from the table in `finding.rs` (severity, phase, remedy).
//! The verdict is the primary finding: the one most likely to make a default mstsc client fail
//! (0x904 / 0x7 and friends). Findings are ordered by severity, then by how early in the
//! connection they bite (a host whose DNS fails never reaches its certificate).

use crate::model::{
    CertFacts, Finding, FindingCode as C, HostReport, ProbeRecord, Severity, TcpStatus,
};

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

/// Whole days until expiry, rounded down; negative once expired.
pub fn days_left(c: &CertFacts, now: i64) -> i64 {
    (c.not_after_unix - now).div_euclid(86_400)
}

mod certificate;
mod credssp;
mod path;
mod rdp;
mod revocation;
mod tls;

use certificate::cert_findings;
use credssp::credssp_findings;
use path::{dns_findings, filtered_findings, net_findings, udp_findings, unreachable_findings};
use rdp::{encryption_findings, rdp_findings};
use tls::{schannel_findings, tls_findings};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod udp_tests;
