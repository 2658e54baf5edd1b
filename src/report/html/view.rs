//! One report as its row of the data island: the six phase cells, the findings and every
//! detail, with repeated values interned. Also the matrix's column list, which the page's
//! `<th>`s and the script share.

use std::collections::HashMap;
use std::net::IpAddr;

use super::spill::Spill;
use super::{MAX_VALUE, clip, script_safe_json};
use crate::clock::Timestamp;
use crate::diagnose::{self, days_left};
use crate::model::{
    Change, Connects, CredSspStatus, DnsStatus, Finding, FindingCode, HostReport, NegResult, Phase,
    Severity, TcpStatus, TlsStatus, layer_label,
};
use crate::rdp::x224::{Protocols, protocol_names};
use crate::report::csv::{encryption_label, failure_label, neg_flags_label, rdp_version_label};

/// The tables the data island's rows index into (the rows themselves are spilled as they
/// are serialised: see `spill.rs`).
pub(super) struct Rows {
    pub(super) fields: Fields,
    pub(super) strings: Interner,
}

impl Rows {
    /// `strings` receives the shared-value table as it grows.
    pub(super) fn new(strings: Spill) -> Rows {
        Rows {
            fields: Fields::default(),
            strings: Interner {
                index: HashMap::new(),
                len: 0,
                out: strings,
                error: None,
            },
        }
    }

    /// Serialise one report's row, as the page carries it. `now` is the row's scan time, `days` its certificate's
    /// days left, `extras` the inventory columns shown.
    pub(super) fn add(
        &mut self,
        r: &HostReport,
        change: Option<&(Change, Option<String>)>,
        now: i64,
        days: Option<i64>,
        address: String,
        extras: &[String],
    ) -> String {
        let rec = &r.record;
        let t = &rec.target;
        let gone = matches!(change, Some((Change::Gone, _)));
        let cells = cells(r, now);
        let cell_json: Vec<serde_json::Value> = cells
            .iter()
            .map(|(s, text, title)| {
                let sev = s.map_or(-1, sev_idx);
                let text = self.strings.val(text, 120);
                if title.is_empty() {
                    serde_json::json!([sev, text])
                } else {
                    serde_json::json!([sev, text, self.strings.val(title, 400)])
                }
            })
            .collect();
        let findings: Vec<serde_json::Value> = r
            .findings
            .iter()
            .map(|f| {
                // The remedy travels once per code (in `codes`) unless this row's differs.
                let remedy = if f.code.remedy() == f.remedy {
                    String::new()
                } else {
                    clip(&f.remedy, MAX_VALUE)
                };
                let remedy = if remedy.is_empty() {
                    serde_json::Value::from("")
                } else {
                    self.strings.val(&remedy, MAX_VALUE)
                };
                serde_json::json!([
                    f.code.as_str(),
                    sev_idx(f.severity),
                    phase_str(f.phase),
                    self.strings.val(&f.detail, MAX_VALUE),
                    remedy
                ])
            })
            .collect();
        let extras: Vec<String> = extras
            .iter()
            .map(|name| {
                t.extra
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| clip(v, 200))
                    .unwrap_or_default()
            })
            .collect();
        let mut row = serde_json::json!({
            "h": clip(&t.host, 255),
            "p": t.port,
            "a": address,
            "ak": addr_key(rec.address),
            "v": r.verdict.as_str(),
            "s": sev_idx(r.severity),
            "c": cell_json,
            "f": findings,
            "d": details(r, &mut self.fields, &mut self.strings),
            "x": extras,
        });
        // The host x clients matrix of the details and the client filter: [id, 0 no / 1 yes /
        // 2 unknown, reason]. Ids are clipped: a saved file may carry anything there.
        let clients: Vec<serde_json::Value> = r
            .clients
            .iter()
            .map(|v| {
                let connects = match v.connects {
                    Connects::No => 0,
                    Connects::Yes => 1,
                    Connects::Unknown => 2,
                };
                serde_json::json!([
                    clip(&v.profile, 40),
                    connects,
                    self.strings.val(&v.reason, MAX_VALUE)
                ])
            })
            .collect();
        if let Some(obj) = row.as_object_mut() {
            if let Some(s) = &t.site {
                obj.insert("si".into(), clip(s, 120).into());
            }
            if let Some(o) = &t.owner {
                obj.insert("ow".into(), clip(o, 120).into());
            }
            if let Some(d) = days {
                obj.insert("e".into(), d.into());
            }
            if !clients.is_empty() {
                obj.insert("k".into(), clients.into());
            }
            if let Some((ch, since)) = change {
                obj.insert("ch".into(), ch.as_str().into());
                if let Some(s) = since {
                    obj.insert("fs".into(), clip(s, 40).into());
                }
                if gone {
                    obj.insert("g".into(), 1.into());
                }
            }
        }
        script_safe_json(&row.to_string())
    }
}

/// The matrix's columns (id, label), in order; ids match the page's CSS and script.
pub(super) fn columns(extras: &[String], with_changes: bool) -> Vec<(String, String)> {
    let mut cols: Vec<(String, String)> = Vec::new();
    if with_changes {
        cols.push(("change".into(), "Change".into()));
    }
    for (id, label) in [
        ("host", "Host"),
        ("addr", "Address"),
        ("dns", "DNS"),
        ("tcp", "TCP"),
        ("rdp", "RDP layers"),
        ("tls", "TLS"),
        ("cert", "Certificate"),
        ("nla", "NLA / CredSSP"),
        ("verdict", "Verdict"),
        ("site", "Site"),
        ("owner", "Owner"),
    ] {
        cols.push((id.into(), label.into()));
    }
    for (i, e) in extras.iter().enumerate() {
        cols.push((format!("x{i}"), clip(e, 60)));
    }
    cols
}

/// Detail field labels, interned so each row carries only (index, value) pairs.
#[derive(Default)]
pub(super) struct Fields {
    index: HashMap<(&'static str, &'static str), usize>,
    pub(super) list: Vec<(&'static str, &'static str)>,
}

/// Values that repeat across rows (issuers, suites, OS names, cell facts, finding details) are
/// stored once; a row carries their index. This roughly halves a large fleet's page.
///
/// Memory: the values themselves go to `out` (the page's `strings` array, element by element,
/// written at the end) and only a digest per value stays here. The digest is 128 bits of
/// SHA-256, so no server can make its text take another value's index.
pub(super) struct Interner {
    index: HashMap<[u8; 16], usize>,
    len: usize,
    out: Spill,
    /// The first failed write to `out` (reported after the row).
    error: Option<std::io::Error>,
}

/// Distinct shared values kept; past this, values are written inline (bounds memory).
const MAX_SHARED: usize = 200_000;

fn digest(s: &str) -> [u8; 16] {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(s.as_bytes());
    let mut k = [0u8; 16];
    k.copy_from_slice(d.get(..16).unwrap_or(&[0u8; 16]));
    k
}

impl Interner {
    /// The value as a table index (a JSON number), or inline text once the table is full.
    fn val(&mut self, s: &str, max: usize) -> serde_json::Value {
        let s: std::borrow::Cow<'_, str> = if s.len() <= max {
            s.into()
        } else {
            clip(s, max).into()
        };
        let key = digest(&s);
        if let Some(&i) = self.index.get(&key) {
            return i.into();
        }
        if self.len >= MAX_SHARED {
            return s.into_owned().into();
        }
        let i = self.len;
        // One element of the page's JSON array, as serialising the whole list would write it.
        let json = script_safe_json(&serde_json::Value::from(s.as_ref()).to_string());
        let written = if i > 0 {
            self.out.write_all(b",")
        } else {
            Ok(())
        }
        .and_then(|()| self.out.write_all(json.as_bytes()));
        if let Err(e) = written {
            self.error.get_or_insert(e);
        }
        self.len += 1;
        self.index.insert(key, i);
        i.into()
    }

    /// A write to the table's file failed since the last call.
    pub(super) fn take_error(&mut self) -> Option<std::io::Error> {
        self.error.take()
    }

    /// The table's elements, comma-separated, into `w`.
    pub(super) fn copy_to<W: std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.out.copy_to(w)
    }
}

struct Details<'a> {
    fields: &'a mut Fields,
    strings: &'a mut Interner,
    out: Vec<serde_json::Value>,
}

impl Details<'_> {
    fn field(&mut self, section: &'static str, label: &'static str) -> usize {
        let list = &mut self.fields.list;
        *self
            .fields
            .index
            .entry((section, label))
            .or_insert_with(|| {
                list.push((section, label));
                list.len() - 1
            })
    }

    /// A value likely shared by other rows (interned).
    fn put(&mut self, section: &'static str, label: &'static str, value: impl Into<String>) {
        let v: String = value.into();
        if v.is_empty() {
            return;
        }
        let i = self.field(section, label);
        let v = self.strings.val(&v, MAX_VALUE);
        self.out.push(serde_json::json!([i, v]));
    }

    /// A value particular to this row (names, thumbprints): written inline.
    fn own(&mut self, section: &'static str, label: &'static str, value: impl Into<String>) {
        let v: String = value.into();
        if v.is_empty() {
            return;
        }
        let i = self.field(section, label);
        self.out.push(serde_json::json!([i, clip(&v, MAX_VALUE)]));
    }
}

pub(super) fn sev_idx(s: Severity) -> i64 {
    match s {
        Severity::Ok => 0,
        Severity::Info => 1,
        Severity::Warn => 2,
        Severity::Fail => 3,
    }
}

pub(super) fn phase_str(p: Phase) -> &'static str {
    match p {
        Phase::Dns => "dns",
        Phase::Tcp => "tcp",
        Phase::Rdp => "rdp",
        Phase::Tls => "tls",
        Phase::Cert => "cert",
        Phase::Nla => "nla",
        Phase::Host => "host",
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn proto_name(p: u32) -> String {
    match Protocols::from_bits_retain(p).layer_name() {
        Some(name) => name.into(),
        None => format!("0x{p:X}"),
    }
}

fn requested_label(mask: u32) -> String {
    let mut v: Vec<String> = protocol_names(mask)
        .into_iter()
        .map(str::to_string)
        .collect();
    let unknown = mask & !Protocols::all().bits();
    if unknown != 0 {
        v.push(format!("0x{unknown:X}"));
    }
    v.join("|")
}

fn neg_result_label(r: &NegResult) -> String {
    match r {
        NegResult::Selected { protocol, flags } => {
            let f = neg_flags_label(*flags);
            if f.is_empty() {
                format!("selected {}", proto_name(*protocol))
            } else {
                format!("selected {} ({f})", proto_name(*protocol))
            }
        }
        NegResult::Failure { code } => format!("failure {}", failure_label(*code)),
        NegResult::Legacy => "bare connection confirm (no negotiation)".into(),
        NegResult::UncoveredNeg { selected, failure } => match (selected, failure) {
            (Some(p), _) => format!("LI=6 confirm hiding selected {}", proto_name(*p)),
            (None, Some(c)) => format!("LI=6 confirm hiding failure {}", failure_label(*c)),
            (None, None) => "LI=6 confirm with hidden negotiation data".into(),
        },
        NegResult::Rejected => "MCS disconnect (rejected)".into(),
        NegResult::NotRdp { first_bytes, hint } => format!("not RDP: {hint} ({first_bytes})"),
        NegResult::BadLength { length } => format!("bad TPKT length {length}"),
        NegResult::NoReply => "no reply".into(),
        NegResult::Reset => "reset".into(),
        NegResult::Closed => "closed".into(),
        NegResult::ConnectFailed { status } => format!("connect {}", status.as_str()),
    }
}

/// "TLSv1.0" -> "TLS 1.0".
fn tls_pretty(v: &str) -> String {
    match v.strip_prefix("TLSv") {
        Some(n) => format!("TLS {n}"),
        None => v.to_string(),
    }
}

/// The worst finding of a phase (findings come primary first, so the first hit is the worst).
fn worst(findings: &[Finding], phase: Phase) -> Option<&Finding> {
    let top = findings
        .iter()
        .filter(|f| f.phase == phase)
        .map(|f| f.severity)
        .max()?;
    findings
        .iter()
        .find(|f| f.phase == phase && f.severity == top)
}

/// Severity (None = not reached), short fact, longer tooltip (empty = the fact).
type Cell = (Option<Severity>, String, String);

/// Severity of a reached phase: its worst finding, else ok.
fn reached(findings: &[Finding], phase: Phase, text: String) -> Cell {
    (
        Some(worst(findings, phase).map_or(Severity::Ok, |f| f.severity)),
        text,
        String::new(),
    )
}

/// A phase that was not reached but still has findings (e.g. decided from the negotiation).
fn unreached(findings: &[Finding], phase: Phase) -> Cell {
    match worst(findings, phase) {
        Some(f) => (Some(f.severity), f.code.to_string(), f.detail.clone()),
        None => (None, String::new(), String::new()),
    }
}

fn titled(mut c: Cell, title: String) -> Cell {
    c.2 = title;
    c
}

fn has(findings: &[Finding], code: FindingCode) -> bool {
    findings.iter().any(|f| f.code == code)
}

/// The six phase cells: severity (None = not reached) and a short fact.
fn cells(r: &HostReport, now: i64) -> [Cell; 6] {
    let rec = &r.record;
    let f = &r.findings;
    let dns = {
        let d = &rec.dns;
        let ms = d.ms.map(|m| format!(" in {m:.0} ms")).unwrap_or_default();
        let text = match d.status {
            DnsStatus::Literal => match &d.ptr {
                Some(p) => format!("IP · PTR {p}"),
                None => "IP literal".into(),
            },
            DnsStatus::Pinned => "pinned".into(),
            DnsStatus::Resolved if has(f, FindingCode::DnsMismatch) => "≠ inventory IP".into(),
            DnsStatus::Resolved if d.addresses.len() > 1 => {
                format!("resolved ×{}", d.addresses.len())
            }
            DnsStatus::Resolved => "resolved".into(),
            DnsStatus::Nxdomain => "NXDOMAIN".into(),
            DnsStatus::Nodata => "NODATA".into(),
            DnsStatus::Servfail => "SERVFAIL".into(),
            DnsStatus::Refused => "REFUSED".into(),
            DnsStatus::Timeout => "timeout".into(),
            DnsStatus::Error => "error".into(),
        };
        let mut title = format!("{}{ms}", d.status.as_str());
        if !d.addresses.is_empty() {
            title.push_str(": ");
            title.push_str(&clip(&join(&d.addresses), 200));
        }
        if let Some(e) = &d.error {
            title.push_str(": ");
            title.push_str(&clip(e, 200));
        }
        titled(reached(f, Phase::Dns, text), title)
    };
    let tcp = match &rec.tcp {
        None => unreached(f, Phase::Tcp),
        Some(t) => {
            let text = match t.status {
                TcpStatus::Open => "open".into(),
                TcpStatus::Refused => "refused".into(),
                TcpStatus::Filtered => "filtered".into(),
                TcpStatus::Unreachable => "unreachable".into(),
                TcpStatus::Error => match &t.error {
                    Some(e) => format!("error: {}", clip(e, 40)),
                    None => "error".into(),
                },
            };
            let title = match (t.rtt_ms, &t.error) {
                (_, Some(e)) => format!("{}: {}", t.status.as_str(), clip(e, 200)),
                (Some(ms), None) => format!("{} · connect {ms:.1} ms", t.status.as_str()),
                (None, None) => String::new(),
            };
            titled(reached(f, Phase::Tcp, text), title)
        }
    };
    let rdp = match &rec.rdp {
        None => unreached(f, Phase::Rdp),
        Some(x) => {
            let layers = if x.legacy {
                "legacy (no negotiation)".to_string()
            } else if !x.accepted.is_empty() {
                x.accepted_names().join("|")
            } else {
                match x.attempts.first().map(|a| &a.result) {
                    Some(NegResult::Failure { code }) => match code {
                        1 => "TLS required".into(),
                        2 => "TLS refused".into(),
                        3 => "no certificate".into(),
                        4 => "inconsistent flags".into(),
                        5 => "NLA required".into(),
                        6 => "client cert required".into(),
                        other => format!("failure {other}"),
                    },
                    Some(NegResult::NotRdp { hint, .. }) => format!("not RDP ({})", clip(hint, 30)),
                    Some(NegResult::BadLength { .. }) => "not RDP (bad length)".into(),
                    Some(NegResult::Selected { protocol, .. }) => proto_name(*protocol),
                    Some(other) => neg_result_label(other),
                    None => "no attempt".into(),
                }
            };
            // What the server insists on says more than the list; the tooltip has both.
            let required = x.required.map(|l| {
                if l == Protocols::HYBRID || l == Protocols::HYBRID_EX {
                    "NLA required".to_string()
                } else if l == Protocols::SSL {
                    "TLS required".to_string()
                } else if l == Protocols::RDP {
                    "RDP security only".to_string()
                } else {
                    format!("{} required", layer_label(l))
                }
            });
            let title = match &required {
                Some(r) => format!("{r} · accepted: {layers}"),
                None => format!("accepted: {layers}"),
            };
            let text = required.unwrap_or(layers);
            titled(reached(f, Phase::Rdp, text), title)
        }
    };
    let tls = match &rec.tls {
        None => unreached(f, Phase::Tls),
        Some(t) => {
            let v = t.version.clone().unwrap_or_default();
            let text = match t.status {
                TlsStatus::Ok | TlsStatus::LegacyHello if has(f, FindingCode::TlsLegacyOnly) => {
                    format!("{} only", tls_pretty(&v))
                }
                TlsStatus::Ok | TlsStatus::LegacyHello if has(f, FindingCode::TlsLegacySuites) => {
                    format!("{v} · legacy suites")
                }
                TlsStatus::Ok | TlsStatus::LegacyHello if v.is_empty() => "ok".into(),
                TlsStatus::Ok | TlsStatus::LegacyHello => v,
                TlsStatus::Alert => match t.alert {
                    Some(a) => format!("alert {}", diagnose::alert_name(a)),
                    None => "alert".into(),
                },
                TlsStatus::ResetAfterHello => "reset after hello".into(),
                TlsStatus::EofAfterHello => "closed after hello".into(),
                TlsStatus::Stalled => "stalled".into(),
                TlsStatus::NoCommon => "no common version/suite".into(),
                TlsStatus::NotTls => "not TLS".into(),
                TlsStatus::Error => "error".into(),
            };
            reached(f, Phase::Tls, text)
        }
    };
    let cert = match &rec.cert {
        None => unreached(f, Phase::Cert),
        Some(c) if c.not_after_unix == 0 && c.parse_error.is_some() => {
            reached(f, Phase::Cert, "unparseable".into())
        }
        Some(c) => {
            let d = days_left(c, now);
            let text = match worst(f, Phase::Cert).map(|x| x.code) {
                Some(FindingCode::CertExpired) => {
                    format!("expired {} d ago", d.saturating_neg().max(0))
                }
                Some(FindingCode::CertNotYetValid) => "not yet valid".into(),
                Some(FindingCode::CertExpiring) => format!("expires in {d} d"),
                Some(FindingCode::CertNameMismatch) => format!("name mismatch · {d} d"),
                Some(FindingCode::CertWeak) => format!("weak {} · {d} d", clip(&c.key, 16)),
                Some(FindingCode::CertUntrusted) => format!("untrusted · {d} d"),
                Some(FindingCode::CertSelfSigned) => format!("self-signed · {d} d"),
                _ if d < 0 => format!("expired {} d ago", d.saturating_neg()),
                _ => format!("valid · {d} d"),
            };
            reached(f, Phase::Cert, text)
        }
    };
    let nla = match &rec.credssp {
        None => unreached(f, Phase::Nla),
        Some(c) => {
            let mut parts: Vec<String> = Vec::new();
            if let Some(v) = c.version {
                if v <= 4 {
                    parts.push(format!("v{v} unpatched"));
                } else {
                    parts.push(format!("v{v}"));
                }
            }
            match c.status {
                CredSspStatus::Challenge => {}
                CredSspStatus::ErrorCode => {
                    if let Some(e) = c.error_code {
                        parts.push(format!("error 0x{e:08X}"));
                    } else {
                        parts.push("error".into());
                    }
                }
                CredSspStatus::NoChallenge => parts.push("no challenge".into()),
                CredSspStatus::Malformed => parts.push("malformed reply".into()),
                CredSspStatus::Reset => parts.push("reset".into()),
                CredSspStatus::Closed => parts.push("closed".into()),
                CredSspStatus::Timeout => parts.push("timeout".into()),
                CredSspStatus::Unavailable => parts.push("not probed (legacy TLS)".into()),
            }
            if let Some(n) = &c.ntlm {
                if let Some(name) = n.nb_computer.as_ref().or(n.dns_computer.as_ref()) {
                    parts.push(clip(name, 40));
                }
                if let Some(os) = &n.os_version {
                    parts.push(clip(os, 20));
                }
            }
            if parts.is_empty() {
                parts.push("answered".into());
            }
            reached(f, Phase::Nla, parts.join(" · "))
        }
    };
    [dns, tcp, rdp, tls, cert, nla]
}

/// Every fact of a row for the expanded view, as [field index, value or string index] pairs.
/// Host, port, address, site and owner travel in the row itself (the page adds them).
fn details(r: &HostReport, fields: &mut Fields, strings: &mut Interner) -> Vec<serde_json::Value> {
    let rec = &r.record;
    let t = &rec.target;
    let mut d = Details {
        fields,
        strings,
        out: Vec::with_capacity(40),
    };
    const TG: &str = "Target";
    d.own(TG, "Expected IPs", join(&t.expect_ip));
    d.own(TG, "Source", t.source.clone());

    const DN: &str = "DNS";
    let dns = &rec.dns;
    d.put(DN, "Status", dns.status.as_str());
    d.own(DN, "Addresses", join(&dns.addresses));
    d.own(
        DN,
        "Canonical name",
        dns.canonical.clone().unwrap_or_default(),
    );
    d.own(DN, "PTR", dns.ptr.clone().unwrap_or_default());
    d.put(
        DN,
        "Lookup time",
        dns.ms.map(|m| format!("{m:.1} ms")).unwrap_or_default(),
    );
    d.put(DN, "Error", dns.error.clone().unwrap_or_default());

    if let Some(tcp) = &rec.tcp {
        const TC: &str = "TCP";
        d.put(TC, "Status", tcp.status.as_str());
        d.put(
            TC,
            "Round trip",
            tcp.rtt_ms.map(|m| format!("{m:.2} ms")).unwrap_or_default(),
        );
        d.put(TC, "Error", tcp.error.clone().unwrap_or_default());
        d.put(
            TC,
            "ICMP",
            tcp.icmp.map(|i| i.describe()).unwrap_or_default(),
        );
        d.put(
            TC,
            "Host alive",
            tcp.alive
                .as_ref()
                .map(|a| format!("{}: {}", a.summary(), a.details()))
                .unwrap_or_default(),
        );
    }

    if let Some(n) = &rec.net {
        const NP: &str = "Network path";
        let ms = |v: Option<f64>| v.map(|m| format!("{m:.2} ms")).unwrap_or_default();
        d.put(NP, "Smoothed RTT", ms(n.srtt_ms));
        d.put(NP, "RTT variance", ms(n.rtt_var_ms));
        d.put(
            NP,
            "Retransmissions",
            format!("{} over {} connection(s)", n.retransmits, n.measured),
        );
        d.put(NP, "TLS handshake", ms(n.handshake_ms));
        d.put(
            NP,
            "MSS clamp",
            n.clamped_mss
                .map(|m| format!("{m} (retry after the TLS flight stalled)"))
                .unwrap_or_default(),
        );
        if let Some(u) = &n.udp {
            // e.g. "open (12.00 ms, version 2, MTU 1232)", "refused (ECONNREFUSED)".
            let mut facts: Vec<String> = Vec::new();
            facts.extend(u.rtt_ms.map(|m| format!("{m:.2} ms")));
            facts.extend(u.version.map(|v| format!("version {v}")));
            facts.extend(u.mtu.map(|m| format!("MTU {m}")));
            facts.extend(u.detail.clone());
            let s = u.status.as_str();
            let text = if facts.is_empty() {
                s.to_string()
            } else {
                format!("{s} ({})", facts.join(", "))
            };
            d.put(NP, "RDP over UDP", text);
        }
    }

    if let Some(x) = &rec.rdp {
        const RD: &str = "RDP negotiation";
        // One line per connection: what was asked, what came back (flags listed once below).
        let attempts: Vec<String> = x
            .attempts
            .iter()
            .map(|a| {
                let got = match &a.result {
                    NegResult::Selected { protocol, .. } => {
                        format!("selected {}", proto_name(*protocol))
                    }
                    other => neg_result_label(other),
                };
                format!("asked {} → {got}", requested_label(a.requested))
            })
            .collect();
        d.put(RD, "Attempts", attempts.join("\n"));
        d.put(RD, "Accepted layers", x.accepted_names().join(", "));
        d.put(
            RD,
            "Required layer",
            x.required.map(layer_label).unwrap_or_default(),
        );
        let in_attempts = |c: &u32| {
            x.attempts
                .iter()
                .any(|a| a.result == NegResult::Failure { code: *c })
        };
        if !x.failures.iter().all(in_attempts) {
            d.put(
                RD,
                "Failure codes",
                x.failures
                    .iter()
                    .map(|c| failure_label(*c))
                    .collect::<Vec<_>>()
                    .join(", "),
            );
        }
        if x.flags != 0 {
            d.put(RD, "Response flags", neg_flags_label(x.flags));
        }
        if let Some(h) = &x.os_hint {
            d.put(RD, "OS hint (from the flags, not proof)", h.clone());
        }
        if x.legacy {
            d.put(RD, "Negotiation", "none (legacy server)");
        }
        d.put(
            RD,
            "Server version",
            x.version.map(rdp_version_label).unwrap_or_default(),
        );
        if x.encryption_level.is_some() || !x.encryption_methods.is_empty() {
            d.put(
                RD,
                "Standard RDP encryption",
                encryption_label(x.encryption_level, &x.encryption_methods),
            );
        }
    }

    if let Some(tls) = &rec.tls {
        const TL: &str = "TLS";
        d.put(TL, "Status", tls.status.as_str());
        d.put(TL, "Version", tls.version.clone().unwrap_or_default());
        d.put(TL, "Cipher suite", tls.cipher.clone().unwrap_or_default());
        d.put(TL, "Versions accepted", tls.versions.join(", "));
        for l in &tls.suites {
            let mut v = l.suites.join(", ");
            if !l.complete {
                v.push_str(" (incomplete)");
            }
            if !l.weak.is_empty() {
                v.push_str("; weak suites accepted: ");
                v.push_str(&l.weak.join(", "));
            }
            // Labels are interned per page: one per version, never the server's text.
            let label = match l.version.as_str() {
                "TLSv1.3" => "Suites TLSv1.3",
                "TLSv1.2" => "Suites TLSv1.2",
                "TLSv1.1" => "Suites TLSv1.1",
                "TLSv1.0" => "Suites TLSv1.0",
                _ => "Suites, other version",
            };
            d.put(TL, label, v);
        }
        d.put(
            TL,
            "Alert",
            tls.alert
                .map(|a| format!("{a} {}", diagnose::alert_name(a)))
                .unwrap_or_default(),
        );
        d.put(TL, "Via", tls.via.clone());
        if tls.legacy {
            d.put(
                TL,
                "Legacy path",
                "yes (TLS < 1.2 or suites rustls refuses)",
            );
        }
        d.put(TL, "Error", tls.error.clone().unwrap_or_default());
    }

    if let Some(c) = &rec.cert {
        const CE: &str = "Certificate";
        d.own(CE, "Subject", c.subject.clone());
        d.put(CE, "Issuer", c.issuer.clone());
        d.own(CE, "SANs", c.sans.join(", "));
        d.put(CE, "Not before", c.not_before.clone());
        d.put(CE, "Not after", c.not_after.clone());
        d.put(CE, "Key", c.key.clone());
        d.put(CE, "Signature", c.sig_alg.clone());
        d.put(CE, "Self-signed", yes_no(c.self_signed));
        d.put(CE, "Trusted chain", yes_no(c.trusted));
        d.put(CE, "Trust error", c.trust_error.clone().unwrap_or_default());
        d.own(
            CE,
            "Name checked",
            c.checked_name.clone().unwrap_or_default(),
        );
        d.put(
            CE,
            "Name matches",
            c.name_match.map(yes_no).unwrap_or_default(),
        );
        if c.chain_len != 0 {
            d.put(CE, "Chain length", c.chain_len.to_string());
        }
        d.own(CE, "SHA-1 thumbprint", c.sha1.clone());
        d.own(CE, "SHA-256 thumbprint", c.sha256.clone());
        d.put(CE, "Parse error", c.parse_error.clone().unwrap_or_default());
        d.put(CE, "Serial", c.serial.clone());
        if let Some(list) = &c.eku {
            let names: Vec<String> = list.iter().map(|o| crate::cert::eku_display(o)).collect();
            d.put(CE, "Extended key usage", names.join(", "));
        }
        d.put(CE, "Key usage", c.key_usage.join(", "));
        d.put(CE, "Template", c.template.clone().unwrap_or_default());
        d.put(CE, "CRL distribution points", c.crl_urls.join(" "));
        d.put(CE, "OCSP", c.ocsp_urls.join(" "));
        d.put(CE, "CA issuers (AIA)", c.ca_issuers_urls.join(" "));
        d.put(
            CE,
            "Missing issuer",
            c.missing_issuer.clone().unwrap_or_default(),
        );
        if let Some(r) = &c.revocation {
            d.put(CE, "Revocation", r.status.as_str());
            d.put(CE, "Revocation note", r.note.clone().unwrap_or_default());
            // One line per URL asked: method, URL, answer, why (server-controlled, escaped
            // by the page like every value).
            let asked: Vec<String> = r
                .checks
                .iter()
                .map(|x| {
                    let mut s = format!("{:?} {} {}", x.method, x.url, x.status.as_str());
                    if let Some(at) = &x.revoked_at {
                        s.push_str(&format!(" at {at}"));
                    }
                    if let Some(why) = x.reason.as_ref().or(x.error.as_ref()) {
                        s.push_str(&format!(" ({why})"));
                    }
                    s
                })
                .collect();
            d.own(CE, "Revocation checks", asked.join(" · "));
        }
    }

    if let Some(c) = &rec.credssp {
        const NL: &str = "NLA / CredSSP";
        d.put(NL, "Status", format!("{:?}", c.status).to_ascii_lowercase());
        d.put(
            NL,
            "TSRequest version",
            c.version.map(|v| v.to_string()).unwrap_or_default(),
        );
        d.put(
            NL,
            "Error code",
            c.error_code
                .map(|e| format!("0x{e:08X}"))
                .unwrap_or_default(),
        );
        d.put(NL, "Error", c.error.clone().unwrap_or_default());
        if let Some(n) = &c.ntlm {
            let s = |o: &Option<String>| o.clone().unwrap_or_default();
            d.put(NL, "NTLM target name", s(&n.target_name));
            d.own(NL, "NetBIOS computer", s(&n.nb_computer));
            d.put(NL, "NetBIOS domain", s(&n.nb_domain));
            d.own(NL, "DNS computer", s(&n.dns_computer));
            d.put(NL, "DNS domain", s(&n.dns_domain));
            d.put(NL, "DNS tree", s(&n.dns_tree));
            d.put(NL, "OS version", s(&n.os_version));
            d.put(NL, "OS name", s(&n.os_name));
            d.own(
                NL,
                "Server time",
                n.timestamp_unix
                    .map(|t| Timestamp::from_unix(t).to_rfc3339())
                    .unwrap_or_default(),
            );
            d.put(
                NL,
                "Clock skew",
                n.clock_skew_s.map(|s| format!("{s} s")).unwrap_or_default(),
            );
        }
    }

    const SC: &str = "Scan";
    d.put(SC, "Scanned at", rec.scanned_at.clone());
    d.put(SC, "Duration", format!("{:.0} ms", rec.duration_ms));
    d.put(SC, "Connections", rec.connections.to_string());
    d.put(SC, "Attempts", rec.attempts.to_string());
    if rec.flaky {
        d.put(SC, "Flaky", "yes: attempts disagreed");
    }
    if rec.deadline_hit {
        d.put(SC, "Deadline hit", "yes: later phases were cut short");
    }
    d.out
}

fn join(v: &[IpAddr]) -> String {
    v.iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Sortable address key: family, then the address as fixed-width hex.
fn addr_key(a: Option<IpAddr>) -> String {
    match a {
        Some(IpAddr::V4(v)) => format!("4{:08x}", u32::from(v)),
        Some(IpAddr::V6(v)) => format!("6{:032x}", u128::from(v)),
        None => "9".into(),
    }
}
