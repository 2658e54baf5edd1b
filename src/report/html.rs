//! The HTML matrix: one self-contained file (inline CSS and JS, no fetch of any kind) that
//! opens from disk or as an e-mail attachment and prints cleanly.
//!
//! Layout: a server-rendered header (scan facts, changes since the baseline, counts per
//! severity and verdict, the 0x904 causes ranked by hosts hit with their remedies, the
//! certificate expiry horizon), then the host matrix, which the page's script builds from the
//! JSON in `<script type="application/json" id="data">` with DOM APIs only (`textContent`,
//! never `innerHTML`), rendering just the rows in view so 20,000 rows stay responsive.
//!
//! Injection: every server- or inventory-controlled string reaches the page either through
//! `esc` (HTML text/attribute context) or inside the JSON island, where `<`, `>`, `&`, U+2028
//! and U+2029 are `\u` escapes so no value can close the script element. A Content-Security-
//! Policy allows only this file's own script and style (by hash) and no network at all, as a
//! second line of defence.
//!
//! Data island schema (`v` = 1): `cols` [{id,label}] matching the static `<th>`s; `extras`
//! (inventory column names); `baseline` (bool); `codes` {code: [severity 0-3, phase, summary,
//! remedy]}; `fields` [[section, label]]; `rows`, each
//! `{h host, p port, a address, ak address sort key, si site, ow owner, x [extras],
//!   v verdict, s severity 0-3, c [[severity or -1 = not reached, short fact] x 6 phases],
//!   f [[code, severity, phase, detail, remedy or "" = as in codes]],
//!   d [[field index, value]], e cert days left or null, ch change, fs first seen failing,
//!   g 1 = gone (baseline row)}`.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::net::IpAddr;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::baseline::{self, Baseline, Change, Key};
use super::csv::{encryption_label, failure_label, neg_flags_label, rdp_version_label, unix_of};
use super::{Dest, Sink, Summary};
use crate::clock::Timestamp;
use crate::config::Output;
use crate::diagnose::{self, days_left};
use crate::model::{
    CredSspStatus, DnsStatus, Finding, FindingCode, HostReport, NegResult, Phase, Severity,
    TcpStatus, TlsStatus, layer_label,
};
use crate::rdp::x224::{Protocols, protocol_names};

/// Longest value shown for one field: a hostile server cannot bloat the report without bound.
const MAX_VALUE: usize = 2_000;
/// Entries listed per header list (the matrix has them all).
const LIST_CAP: usize = 200;
/// Certificate horizon in days.
const HORIZON: [i64; 3] = [7, 30, 90];

/// Keeps one compact JSON row per report and writes the page at finish.
pub struct HtmlSink {
    w: Dest,
    acc: Collector,
    baseline: Option<Arc<Baseline>>,
    seen: HashSet<Key>,
}

impl HtmlSink {
    /// Opens the destination now, so an unwritable path fails before the scan starts.
    pub fn create(out: &Output, extras: &[String]) -> io::Result<HtmlSink> {
        Ok(HtmlSink {
            w: Dest::open(out)?,
            acc: Collector::new(extras, false),
            baseline: None,
            seen: HashSet::new(),
        })
    }

    /// Classify every row against `b`: a Change column, changes sorted first, gone rows added.
    pub fn with_baseline(mut self, b: Arc<Baseline>) -> HtmlSink {
        self.acc.with_changes = true;
        self.baseline = Some(b);
        self
    }
}

impl Sink for HtmlSink {
    fn write(&mut self, r: &HostReport) -> io::Result<()> {
        let change = match &self.baseline {
            Some(b) => {
                self.seen.insert(baseline::key(r));
                Some(b.classify(r))
            }
            // Rows already diffed by the writer (scan --baseline, report --from) carry their change.
            None => r.change.map(|c| {
                self.acc.with_changes = true;
                (c, r.first_seen_failing.clone())
            }),
        };
        self.acc.add(r, change);
        Ok(())
    }

    fn finish(mut self: Box<Self>, summary: &Summary) -> io::Result<()> {
        if let Some(b) = self.baseline.take() {
            for g in b.gone(&self.seen) {
                self.acc.add(&g, Some((Change::Gone, None)));
            }
        }
        self.acc.write_html(&mut self.w, summary)?;
        self.w.commit()
    }
}

/// The whole page for these reports (no baseline).
pub fn render(reports: &[HostReport], summary: &Summary, extras: &[String]) -> String {
    render_with_changes(reports, None, summary, extras)
}

/// The page with an optional per-row change (`changes[i]` belongs to `reports[i]`; a missing
/// entry counts as unchanged). Gone rows are passed as reports with `Change::Gone`.
pub fn render_with_changes(
    reports: &[HostReport],
    changes: Option<&[(Change, Option<String>)]>,
    summary: &Summary,
    extras: &[String],
) -> String {
    let mut acc = Collector::new(extras, changes.is_some());
    for (i, r) in reports.iter().enumerate() {
        let ch = changes.map(|c| c.get(i).cloned().unwrap_or((Change::Unchanged, None)));
        acc.add(r, ch);
    }
    let mut out = Vec::with_capacity(64 * 1024 + acc.rows_bytes);
    // Writing into a Vec cannot fail.
    let _ = acc.write_html(&mut out, summary);
    String::from_utf8(out).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Escaping

/// HTML text and attribute context.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// serde_json text made safe inside `<script type="application/json">`. These characters can
/// only occur inside JSON strings, where the `\u` form means the same thing.
pub fn script_safe_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + 16);
    for ch in json.chars() {
        match ch {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters (on a char boundary), with an ellipsis when cut.
fn clip(s: &str, max: usize) -> String {
    // Fast path: no more bytes than the limit means no more characters either.
    if s.len() <= max {
        return s.to_string();
    }
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", s.get(..i).unwrap_or("")),
        None => s.to_string(),
    }
}

fn b64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(A[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// CSP source for an inline element's exact text.
fn csp_hash(text: &str) -> String {
    format!("'sha256-{}'", b64(&Sha256::digest(text.as_bytes())))
}

// ---------------------------------------------------------------------------------------------
// Per-row data

/// Detail field labels, interned so each row carries only (index, value) pairs.
#[derive(Default)]
struct Fields {
    index: HashMap<(&'static str, &'static str), usize>,
    list: Vec<(&'static str, &'static str)>,
}

/// Values that repeat across rows (issuers, suites, OS names, cell facts, finding details) are
/// stored once; a row carries their index. This roughly halves a large fleet's page.
#[derive(Default)]
struct Interner {
    index: HashMap<String, usize>,
    list: Vec<String>,
}

/// Distinct shared values kept; past this, values are written inline (bounds memory).
const MAX_SHARED: usize = 200_000;

impl Interner {
    /// The value as a table index (a JSON number), or inline text once the table is full.
    fn val(&mut self, s: &str, max: usize) -> serde_json::Value {
        if s.len() <= max
            && let Some(&i) = self.index.get(s)
        {
            return i.into();
        }
        let s = clip(s, max);
        if let Some(&i) = self.index.get(&s) {
            return i.into();
        }
        if self.list.len() >= MAX_SHARED {
            return s.into();
        }
        let i = self.list.len();
        self.list.push(s.clone());
        self.index.insert(s, i);
        i.into()
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

fn sev_idx(s: Severity) -> i64 {
    match s {
        Severity::Ok => 0,
        Severity::Info => 1,
        Severity::Warn => 2,
        Severity::Fail => 3,
    }
}

fn phase_str(p: Phase) -> &'static str {
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

// ---------------------------------------------------------------------------------------------
// Aggregates for the header

struct Cause {
    severity: Severity,
    hosts: HashSet<(String, u16)>,
}

struct CertLine {
    host: String,
    port: u16,
    address: String,
    days: i64,
    not_after: String,
    subject: String,
}

struct ChangeLine {
    host: String,
    port: u16,
    address: String,
    verdict: String,
    severity: Severity,
    since: String,
}

struct Collector {
    extras: Vec<String>,
    with_changes: bool,
    fields: Fields,
    strings: Interner,
    rows: Vec<String>,
    rows_bytes: usize,
    fallback_now: i64,
    hosts: HashSet<(String, u16)>,
    scanned_rows: u64,
    sev_rows: [u64; 4],
    verdicts: HashMap<FindingCode, (u64, Severity)>,
    causes: HashMap<FindingCode, Cause>,
    certs: Vec<CertLine>,
    changes: HashMap<Change, u64>,
    new_list: Vec<ChangeLine>,
    fixed_list: Vec<ChangeLine>,
}

impl Collector {
    fn new(extras: &[String], with_changes: bool) -> Collector {
        Collector {
            extras: extras.to_vec(),
            with_changes,
            fields: Fields::default(),
            strings: Interner::default(),
            rows: Vec::new(),
            rows_bytes: 0,
            fallback_now: Timestamp::now().unix(),
            hosts: HashSet::new(),
            scanned_rows: 0,
            sev_rows: [0; 4],
            verdicts: HashMap::new(),
            causes: HashMap::new(),
            certs: Vec::new(),
            changes: HashMap::new(),
            new_list: Vec::new(),
            fixed_list: Vec::new(),
        }
    }

    fn add(&mut self, r: &HostReport, change: Option<(Change, Option<String>)>) {
        let rec = &r.record;
        let t = &rec.target;
        let now = match unix_of(&rec.scanned_at) {
            0 => self.fallback_now,
            n => n,
        };
        let gone = matches!(change, Some((Change::Gone, _)));
        let address = rec.address.map(|a| a.to_string()).unwrap_or_default();
        let host_key = (
            t.host.trim().trim_end_matches('.').to_ascii_lowercase(),
            t.port,
        );
        let days = rec
            .cert
            .as_ref()
            .filter(|c| c.not_after_unix != 0)
            .map(|c| days_left(c, now));

        if !gone {
            self.scanned_rows += 1;
            self.hosts.insert(host_key.clone());
            if let Some(n) = self.sev_rows.get_mut(sev_idx(r.severity) as usize) {
                *n += 1;
            }
            let v = self.verdicts.entry(r.verdict).or_insert((0, r.severity));
            v.0 += 1;
            v.1 = v.1.max(r.severity);
            for f in r.findings.iter().filter(|f| f.severity >= Severity::Warn) {
                let c = self.causes.entry(f.code).or_insert_with(|| Cause {
                    severity: f.severity,
                    hosts: HashSet::new(),
                });
                c.hosts.insert(host_key.clone());
            }
            if let (Some(days), Some(c)) = (days, rec.cert.as_ref())
                && days <= HORIZON[2]
            {
                self.certs.push(CertLine {
                    host: clip(&t.host, 120),
                    port: t.port,
                    address: address.clone(),
                    days,
                    not_after: clip(&c.not_after, 40),
                    subject: clip(&c.subject, 160),
                });
            }
        }
        if let Some((ch, since)) = &change {
            *self.changes.entry(*ch).or_default() += 1;
            let line = || ChangeLine {
                host: clip(&t.host, 120),
                port: t.port,
                address: address.clone(),
                verdict: r.verdict.to_string(),
                severity: r.severity,
                since: since.clone().unwrap_or_default(),
            };
            match ch {
                Change::New if self.new_list.len() < LIST_CAP => self.new_list.push(line()),
                Change::Fixed if self.fixed_list.len() < LIST_CAP => self.fixed_list.push(line()),
                _ => {}
            }
        }

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
        let extras: Vec<String> = self
            .extras
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
            if let Some((ch, since)) = &change {
                obj.insert("ch".into(), ch.as_str().into());
                if let Some(s) = since {
                    obj.insert("fs".into(), clip(s, 40).into());
                }
                if gone {
                    obj.insert("g".into(), 1.into());
                }
            }
        }
        let json = script_safe_json(&row.to_string());
        self.rows_bytes += json.len() + 1;
        self.rows.push(json);
    }

    fn columns(&self) -> Vec<(String, String)> {
        let mut cols: Vec<(String, String)> = Vec::new();
        if self.with_changes {
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
        for (i, e) in self.extras.iter().enumerate() {
            cols.push((format!("x{i}"), clip(e, 60)));
        }
        cols
    }

    fn write_html<W: Write>(&self, w: &mut W, summary: &Summary) -> io::Result<()> {
        let cols = self.columns();
        let css = format!("{CSS}{}", col_css(&cols));
        let css = css.as_str();
        let js = JS;
        let csp = format!(
            "default-src 'none'; script-src {}; style-src {}; img-src data:; base-uri 'none'; form-action 'none'",
            csp_hash(js),
            csp_hash(css)
        );
        let fails = self.sev_rows[3];
        let title = format!(
            "rdpsweep · {} · {} fail / {} rows",
            started_label(&summary.started_at),
            fmt_n(fails),
            fmt_n(self.scanned_rows)
        );
        write!(
            w,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n\
             <meta name=\"referrer\" content=\"no-referrer\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta name=\"color-scheme\" content=\"light dark\">\n\
             <meta name=\"generator\" content=\"rdpsweep {}\">\n\
             <title>{}</title>\n<link rel=\"icon\" href=\"{}\">\n<style>{}</style>\n</head>\n<body>\n",
            esc(&csp),
            esc(env!("CARGO_PKG_VERSION")),
            esc(&title),
            FAVICON,
            css
        )?;
        self.write_header(w, summary)?;
        self.write_matrix(w, &cols)?;
        writeln!(
            w,
            "<footer><p><span class=\"legend\"><span class=\"pill s-fail\"><span aria-hidden=\"true\">✖</span> fail</span> \
             <span class=\"pill s-warn\"><span aria-hidden=\"true\">⚠</span> warn</span> \
             <span class=\"pill s-info\"><span aria-hidden=\"true\">ℹ</span> info</span> \
             <span class=\"pill s-ok\"><span aria-hidden=\"true\">✓</span> ok</span> \
             <span class=\"pill s-na\">— not reached</span></span> \
             Each cell shows the worst finding of its phase. Generated by rdpsweep {}; this file needs no network.</p></footer>",
            esc(env!("CARGO_PKG_VERSION"))
        )?;
        // The data island: every value is JSON with <, >, & escaped (see script_safe_json).
        let codes: serde_json::Map<String, serde_json::Value> = FindingCode::ALL
            .iter()
            .map(|c| c.info())
            .map(|c| {
                (
                    c.code.to_string(),
                    serde_json::json!([
                        sev_idx(c.severity),
                        phase_str(c.phase),
                        c.summary,
                        c.remedy
                    ]),
                )
            })
            .collect();
        let head = serde_json::json!({
            "v": 1,
            "cols": cols.iter().map(|(id, label)| serde_json::json!({"id": id, "label": label})).collect::<Vec<_>>(),
            "extras": self.extras.iter().map(|e| clip(e, 60)).collect::<Vec<_>>(),
            "baseline": self.with_changes,
            "codes": codes,
            "fields": self.fields.list.iter().map(|(s, l)| [*s, *l]).collect::<Vec<_>>(),
        });
        let head = script_safe_json(&head.to_string());
        // `head` is a JSON object; splice "rows" in before its closing brace.
        let head = head.strip_suffix('}').unwrap_or(&head);
        write!(
            w,
            "<script type=\"application/json\" id=\"data\">{head},\"rows\":["
        )?;
        for (i, row) in self.rows.iter().enumerate() {
            if i > 0 {
                w.write_all(b",\n")?;
            }
            w.write_all(row.as_bytes())?;
        }
        // The shared-value table last: it is complete only after every row.
        let strings =
            script_safe_json(&serde_json::Value::from(self.strings.list.clone()).to_string());
        write!(
            w,
            "],\n\"strings\":{strings}}}</script>\n<script>{js}</script>\n</body>\n</html>\n"
        )?;
        Ok(())
    }

    fn write_header<W: Write>(&self, w: &mut W, summary: &Summary) -> io::Result<()> {
        let hosts = self.hosts.len() as u64;
        let targets = if summary.targets > 0 {
            summary.targets
        } else {
            hosts
        };
        write!(
            w,
            "<header class=\"top\">\n<div class=\"brand\">{LOGO}<div><h1>RDP fleet report</h1>\
             <p class=\"sub\">Why Remote Desktop fails (mstsc 0x904 / 0x7), host by host</p></div></div>\n\
             <dl class=\"facts\">\
             <div><dt>Started</dt><dd>{}</dd></div>\
             <div><dt>Took</dt><dd>{}</dd></div>\
             <div><dt>Targets</dt><dd>{}</dd></div>\
             <div><dt>Rows</dt><dd>{} <span class=\"muted\">host × address</span></dd></div>\
             </dl>\n</header>\n<main>\n",
            esc(&started_label(&summary.started_at)),
            esc(&human_duration(summary.duration_s)),
            fmt_n(targets),
            fmt_n(self.scanned_rows),
        )?;
        if summary.interrupted {
            w.write_all(
                b"<p class=\"banner\" role=\"alert\"><strong>Interrupted scan.</strong> \
                  Not every target was probed: the counts below cover only the rows written.</p>\n",
            )?;
        }
        if self.with_changes {
            self.write_changes(w)?;
        }
        // Severity cards (buttons: the script turns them into filters).
        w.write_all(b"<section class=\"cards\" aria-label=\"Rows by severity\">\n")?;
        for (i, (name, icon, label)) in [
            ("fail", "✖", "Fail: RDP connections fail"),
            ("warn", "⚠", "Warn: works, needs attention"),
            ("info", "ℹ", "Info: healthy, with notes"),
            ("ok", "✓", "OK: healthy"),
        ]
        .iter()
        .enumerate()
        {
            let n = self.sev_rows.get(3 - i).copied().unwrap_or(0);
            writeln!(
                w,
                "<button type=\"button\" class=\"card s-{name}\" data-sev=\"{name}\" title=\"Show only {name} rows\">\
                 <span class=\"ic\" aria-hidden=\"true\">{icon}</span><span class=\"num\">{}</span>\
                 <span class=\"lbl\">{label}</span></button>",
                fmt_n(n)
            )?;
        }
        w.write_all(b"</section>\n<div class=\"panels\">\n")?;
        self.write_causes(w)?;
        w.write_all(b"<div class=\"col\">\n")?;
        self.write_horizon(w)?;
        self.write_verdicts(w)?;
        w.write_all(b"</div>\n</div>\n")?;
        Ok(())
    }

    fn write_changes<W: Write>(&self, w: &mut W) -> io::Result<()> {
        let n = |c: Change| self.changes.get(&c).copied().unwrap_or(0);
        w.write_all(
            b"<section class=\"panel changes\" aria-labelledby=\"h-changes\">\n\
              <div class=\"chg-head\"><h2 id=\"h-changes\">Since the baseline</h2><div class=\"chg-counts\">",
        )?;
        for (c, icon, label) in [
            (Change::New, "▲", "new failures"),
            (Change::Changed, "↻", "changed"),
            (Change::Fixed, "✓", "fixed"),
            (Change::Gone, "∅", "gone"),
            (Change::Unchanged, "·", "unchanged"),
        ] {
            write!(
                w,
                "<button type=\"button\" class=\"chg c-{0}\" data-ch=\"{0}\" title=\"Show only {0} rows\">\
                 <span aria-hidden=\"true\">{icon}</span> <strong>{1}</strong> {label}</button>",
                c.as_str(),
                fmt_n(n(c))
            )?;
        }
        w.write_all(b"</div></div>\n")?;
        for (title, list, total, since) in [
            ("New failures", &self.new_list, n(Change::New), true),
            (
                "Fixed since the baseline",
                &self.fixed_list,
                n(Change::Fixed),
                false,
            ),
        ] {
            if list.is_empty() {
                continue;
            }
            write!(
                w,
                "<details{}><summary>{title} ({})</summary>\n<table class=\"mini\"><thead><tr>\
                 <th scope=\"col\">Host</th><th scope=\"col\">Address</th><th scope=\"col\">Verdict now</th>{}</tr></thead><tbody>\n",
                if since && list.len() <= 10 {
                    " open"
                } else {
                    ""
                },
                fmt_n(total),
                if since {
                    "<th scope=\"col\">Failing since</th>"
                } else {
                    ""
                }
            )?;
            for l in list.iter() {
                writeln!(
                    w,
                    "<tr><td>{}</td><td class=\"mono\">{}</td><td>{}</td>{}</tr>",
                    host_port(&l.host, l.port),
                    esc(&l.address),
                    sev_pill(l.severity, &l.verdict),
                    if since {
                        format!("<td>{}</td>", esc(&short_time(&l.since)))
                    } else {
                        String::new()
                    }
                )?;
            }
            w.write_all(b"</tbody></table>\n")?;
            if total as usize > list.len() {
                writeln!(
                    w,
                    "<p class=\"muted\">… and {} more in the matrix below.</p>",
                    fmt_n(total - list.len() as u64)
                )?;
            }
            w.write_all(b"</details>\n")?;
        }
        w.write_all(b"</section>\n")
    }

    fn write_causes<W: Write>(&self, w: &mut W) -> io::Result<()> {
        let mut causes: Vec<(&FindingCode, &Cause)> = self.causes.iter().collect();
        causes.sort_by(|a, b| {
            b.1.severity
                .cmp(&a.1.severity)
                .then(b.1.hosts.len().cmp(&a.1.hosts.len()))
                .then(a.0.as_str().cmp(b.0.as_str()))
        });
        let total_hosts = self.hosts.len().max(1);
        w.write_all(
            b"<section class=\"panel causes\" aria-labelledby=\"h-causes\">\n\
              <h2 id=\"h-causes\">Why connections fail (0x904 / 0x7), by hosts hit</h2>\n",
        )?;
        let fails: Vec<(&FindingCode, &Cause)> = causes
            .iter()
            .filter(|c| c.1.severity == Severity::Fail)
            .copied()
            .collect();
        let warns: Vec<(&FindingCode, &Cause)> = causes
            .iter()
            .filter(|c| c.1.severity == Severity::Warn)
            .copied()
            .collect();
        if fails.is_empty() {
            w.write_all(
                "<p class=\"good\"><span aria-hidden=\"true\">✓</span> No host has a finding that makes mstsc fail.</p>\n"
                    .as_bytes(),
            )?;
        } else {
            self.write_cause_table(w, &fails, total_hosts)?;
        }
        if !warns.is_empty() {
            let hit: HashSet<&(String, u16)> =
                warns.iter().flat_map(|c| c.1.hosts.iter()).collect();
            writeln!(
                w,
                "<details class=\"warns\"><summary>Warnings: {} cause{}, {} host{} \
                 <span class=\"muted\">(connections work; users see prompts, or it will break)</span></summary>",
                warns.len(),
                if warns.len() == 1 { "" } else { "s" },
                fmt_n(hit.len() as u64),
                if hit.len() == 1 { "" } else { "s" },
            )?;
            self.write_cause_table(w, &warns, total_hosts)?;
            w.write_all(b"</details>\n")?;
        }
        w.write_all(b"</section>\n")
    }

    fn write_cause_table<W: Write>(
        &self,
        w: &mut W,
        list: &[(&FindingCode, &Cause)],
        total: usize,
    ) -> io::Result<()> {
        w.write_all(
            b"<table class=\"mini rank\"><thead><tr><th scope=\"col\">Cause</th><th scope=\"col\">Hosts</th>\
              <th scope=\"col\">What it means and the fix</th></tr></thead><tbody>\n",
        )?;
        for (code, c) in list {
            let (summary, remedy) = (code.summary(), code.remedy());
            let hits = c.hosts.len();
            // Bar width in 5 % steps via classes: the CSP allows no inline style attributes.
            let step = (hits * 20).div_ceil(total).min(20);
            writeln!(
                w,
                "<tr class=\"s-{sev}\"><td><button type=\"button\" class=\"plain\" data-code=\"{code_attr}\" \
                 title=\"Show the hosts with this finding\">{pill}</button></td>\
                 <td class=\"hits\"><span class=\"cnt\">{n}</span><span class=\"bar\" aria-hidden=\"true\"><span class=\"w{step}\"></span></span></td>\
                 <td><span class=\"what\">{summary}</span><br><span class=\"fix\"><span class=\"fixlbl\">Fix:</span> {remedy}</span></td></tr>",
                sev = c.severity.as_str(),
                pill = sev_pill(c.severity, code.as_str()),
                n = fmt_n(hits as u64),
                summary = esc(summary),
                remedy = esc(remedy),
                code_attr = esc(code.as_str()),
            )?;
        }
        w.write_all(b"</tbody></table>\n")
    }

    fn write_horizon<W: Write>(&self, w: &mut W) -> io::Result<()> {
        let mut certs: Vec<&CertLine> = self.certs.iter().collect();
        certs.sort_by(|a, b| a.days.cmp(&b.days).then(a.host.cmp(&b.host)));
        let expired = certs.iter().filter(|c| c.days < 0).count() as u64;
        let within = |n: i64| certs.iter().filter(|c| c.days >= 0 && c.days <= n).count() as u64;
        w.write_all(
            b"<section class=\"panel horizon\" aria-labelledby=\"h-horizon\">\n\
              <h2 id=\"h-horizon\">Certificate expiry</h2>\n<div class=\"tiles\">",
        )?;
        let tiles = [
            ("expired", "expired".to_string(), expired, "fail"),
            (
                "7",
                format!("within {} days", HORIZON[0]),
                within(HORIZON[0]),
                "warn",
            ),
            (
                "30",
                format!("within {} days", HORIZON[1]),
                within(HORIZON[1]),
                "warn",
            ),
            (
                "90",
                format!("within {} days", HORIZON[2]),
                within(HORIZON[2]),
                "info",
            ),
        ];
        for (key, label, n, sev) in tiles {
            let cls = if n == 0 { "ok" } else { sev };
            write!(
                w,
                "<button type=\"button\" class=\"tile s-{cls}\" data-exp=\"{key}\" title=\"Show these endpoints in the matrix\">\
                 <span class=\"num\">{}</span><span class=\"lbl\">{}</span></button>",
                fmt_n(n),
                esc(&label)
            )?;
        }
        w.write_all(b"</div>\n")?;
        if certs.is_empty() {
            w.write_all(
                "<p class=\"good\"><span aria-hidden=\"true\">✓</span> No certificate has expired or expires within 90 days.</p>\n"
                    .as_bytes(),
            )?;
        } else {
            write!(
                w,
                "<details{}><summary>{} endpoint{} expired or expiring within {} days</summary>\n\
                 <table class=\"mini\"><thead><tr><th scope=\"col\">Host</th><th scope=\"col\">Address</th>\
                 <th scope=\"col\">Expiry</th><th scope=\"col\">Not after</th></tr></thead><tbody>\n",
                if certs.len() <= 8 { " open" } else { "" },
                fmt_n(certs.len() as u64),
                if certs.len() == 1 { "" } else { "s" },
                HORIZON[2]
            )?;
            for c in certs.iter().take(LIST_CAP) {
                let (sev, when) = if c.days < 0 {
                    (Severity::Fail, format!("{} d ago", c.days.saturating_neg()))
                } else if c.days <= HORIZON[1] {
                    (Severity::Warn, format!("in {} d", c.days))
                } else {
                    (Severity::Info, format!("in {} d", c.days))
                };
                writeln!(
                    w,
                    "<tr><td title=\"{subj}\">{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td></tr>",
                    host_port(&c.host, c.port),
                    esc(&c.address),
                    sev_pill(sev, &when),
                    esc(c.not_after.get(..10).unwrap_or(&c.not_after)),
                    subj = esc(&c.subject)
                )?;
            }
            w.write_all(b"</tbody></table>\n")?;
            if certs.len() > LIST_CAP {
                writeln!(
                    w,
                    "<p class=\"muted\">… and {} more: use the tiles above to filter the matrix.</p>",
                    fmt_n((certs.len() - LIST_CAP) as u64)
                )?;
            }
            w.write_all(b"</details>\n")?;
        }
        w.write_all(b"</section>\n")
    }

    fn write_verdicts<W: Write>(&self, w: &mut W) -> io::Result<()> {
        let mut v: Vec<(&FindingCode, &(u64, Severity))> = self.verdicts.iter().collect();
        v.sort_by(|a, b| {
            b.1.1
                .cmp(&a.1.1)
                .then(b.1.0.cmp(&a.1.0))
                .then(a.0.as_str().cmp(b.0.as_str()))
        });
        w.write_all(
            b"<section class=\"panel verdicts\" aria-labelledby=\"h-verdicts\">\n\
              <h2 id=\"h-verdicts\">Rows by verdict</h2>\n<ul class=\"vlist\">\n",
        )?;
        for (code, (n, sev)) in v {
            let summary = code.summary();
            writeln!(
                w,
                "<li><button type=\"button\" class=\"plain\" data-verdict=\"{code_attr}\" title=\"{summary}\">{pill}\
                 <span class=\"vn\">{n}</span></button></li>",
                code_attr = esc(code.as_str()),
                summary = esc(summary),
                pill = sev_pill(*sev, code.as_str()),
                n = fmt_n(*n),
            )?;
        }
        w.write_all(b"</ul>\n</section>\n")
    }

    fn write_matrix<W: Write>(&self, w: &mut W, cols: &[(String, String)]) -> io::Result<()> {
        let total = self.rows.len();
        write!(
            w,
            "<section class=\"matrix\" aria-labelledby=\"h-matrix\">\n<h2 id=\"h-matrix\">Hosts</h2>\n\
             <div class=\"toolbar\" id=\"toolbar\" role=\"search\">\n\
             <label class=\"search\"><span class=\"sr\">Search</span><input type=\"search\" id=\"q\" \
             placeholder=\"Search host, address, code, certificate, NTLM name…\" autocomplete=\"off\" spellcheck=\"false\"></label>\n\
             <div class=\"chips\" role=\"group\" aria-label=\"Severity\" id=\"f-sev\"></div>\n\
             <label>Verdict <select id=\"f-verdict\"><option value=\"\">all</option></select></label>\n\
             <label>Site <select id=\"f-site\"><option value=\"\">all</option></select></label>\n\
             <label>Owner <select id=\"f-owner\"><option value=\"\">all</option></select></label>\n\
             <label>Certificate <select id=\"f-exp\"><option value=\"\">any</option>\
             <option value=\"expired\">expired</option><option value=\"7\">expires ≤ 7 d</option>\
             <option value=\"30\">expires ≤ 30 d</option><option value=\"90\">expires ≤ 90 d</option></select></label>\n\
             {}\
             <button type=\"button\" id=\"reset\">Clear filters</button>\n\
             <span id=\"count\" class=\"count\" role=\"status\" aria-live=\"polite\">{} rows</span>\n\
             </div>\n<p class=\"printnote\" id=\"printnote\"></p>\n\
             <table id=\"matrix\" class=\"grid\" aria-rowcount=\"{}\" data-total=\"{}\">\n\
             <caption class=\"sr\">One row per host and address; click a row or its ▸ button for every finding and fact.</caption>\n<colgroup>",
            if self.with_changes {
                "<div class=\"chips\" role=\"group\" aria-label=\"Change\" id=\"f-ch\"></div>\n"
            } else {
                ""
            },
            fmt_n(total as u64),
            total + 1,
            total
        )?;
        for (id, _) in cols {
            write!(w, "<col class=\"c-{}\">", esc(id))?;
        }
        w.write_all(b"</colgroup>\n<thead><tr aria-rowindex=\"1\">")?;
        for (id, label) in cols {
            write!(
                w,
                "<th scope=\"col\" data-col=\"{}\"><button type=\"button\" class=\"sort\">{}<span class=\"arrow\" aria-hidden=\"true\"></span></button></th>",
                esc(id),
                esc(label)
            )?;
        }
        write!(
            w,
            "</tr></thead>\n<tbody id=\"rows\"><tr><td colspan=\"{}\" class=\"loading\">Building the matrix of {} rows… \
             (this needs JavaScript; the CSV and JSON Lines reports carry the same rows)</td></tr></tbody>\n</table>\n\
             <noscript><p class=\"banner\">JavaScript is off: the summary above is complete, but the host matrix is \
             built by the page's script. The CSV and JSON Lines reports carry the same rows.</p></noscript>\n\
             </section>\n</main>\n",
            cols.len(),
            fmt_n(total as u64)
        )?;
        Ok(())
    }
}

/// Column widths as shares of the table, so it fits the window; a floor keeps cells legible.
fn col_css(cols: &[(String, String)]) -> String {
    let weight = |id: &str| -> f64 {
        match id {
            // Roughly the pixels each column's usual content needs at the table's font size.
            "change" => 92.0,
            "host" => 176.0,
            "addr" => 92.0,
            "dns" => 96.0,
            "tcp" => 80.0,
            "rdp" => 122.0,
            "tls" => 96.0,
            "cert" => 135.0,
            "nla" => 175.0,
            "verdict" => 150.0,
            "site" => 46.0,
            "owner" => 62.0,
            _ => 54.0,
        }
    };
    let total: f64 = cols.iter().map(|(id, _)| weight(id)).sum::<f64>().max(1.0);
    let mut css = String::new();
    for (id, _) in cols {
        // Ids are ours (ascii letters and digits): safe in a selector.
        css.push_str(&format!(
            "col.c-{}{{width:{:.3}%}}",
            id,
            weight(id) * 100.0 / total
        ));
    }
    css.push_str(&format!("\ntable.grid{{min-width:{:.0}px}}\n", total * 0.9));
    css
}

fn sev_icon(s: Severity) -> &'static str {
    match s {
        Severity::Ok => "✓",
        Severity::Info => "ℹ",
        Severity::Warn => "⚠",
        Severity::Fail => "✖",
    }
}

/// A coloured label that also carries an icon and the severity as text.
fn sev_pill(s: Severity, text: &str) -> String {
    format!(
        "<span class=\"pill s-{0}\"><span aria-hidden=\"true\">{1}</span><span class=\"sr\">{0}: </span> {2}</span>",
        s.as_str(),
        sev_icon(s),
        esc(text)
    )
}

fn host_port(host: &str, port: u16) -> String {
    if port == 3389 {
        esc(host)
    } else {
        format!("{}<span class=\"muted\">:{port}</span>", esc(host))
    }
}

/// RFC 3339 -> "2026-05-04 02:00" (the raw text when it does not parse).
fn short_time(s: &str) -> String {
    match time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        Ok(t) => {
            let t = t.to_offset(time::UtcOffset::UTC);
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        }
        Err(_) => clip(s, 40),
    }
}

fn started_label(s: &str) -> String {
    match time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        Ok(t) => {
            let t = t.to_offset(time::UtcOffset::UTC);
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        }
        Err(_) if s.is_empty() => "—".into(),
        Err(_) => clip(s, 40),
    }
}

fn human_duration(s: f64) -> String {
    if !s.is_finite() || s < 0.0 {
        return "—".into();
    }
    if s < 60.0 {
        return format!("{s:.1} s");
    }
    let total = s.round() as u64;
    let (h, m, sec) = (total / 3600, (total % 3600) / 60, total % 60);
    if h > 0 {
        format!("{h} h {m:02} min")
    } else {
        format!("{m} min {sec:02} s")
    }
}

/// 20000 -> "20,000".
fn fmt_n(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

const FAVICON: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect x='1' y='2' width='14' height='9' rx='1.5' fill='%232458b3'/%3E%3Crect x='6' y='12' width='4' height='2' fill='%232458b3'/%3E%3C/svg%3E";

const LOGO: &str = "<svg class=\"logo\" viewBox=\"0 0 32 32\" aria-hidden=\"true\" focusable=\"false\"><rect x=\"2\" y=\"4\" width=\"28\" height=\"18\" rx=\"3\" fill=\"currentColor\"/><rect class=\"screen\" x=\"5\" y=\"7\" width=\"22\" height=\"12\" rx=\"1.5\"/><path d=\"M9 16l4-4 3 3 6-6\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"2\" stroke-linecap=\"round\" stroke-linejoin=\"round\"/><rect x=\"12\" y=\"24\" width=\"8\" height=\"3\" rx=\"1\" fill=\"currentColor\"/></svg>";

/// The page's only stylesheet (allowed by its hash in the CSP).
const CSS: &str = r###"
:root{color-scheme:light dark;font-size:14px;
--bg:#f3f5f8;--card:#fff;--fg:#1a2330;--muted:#5a6676;--line:#d9dfe6;--line2:#eceff3;--head:#f7f9fb;--hover:rgba(36,88,179,.06);
--accent:#2458b3;--focus:#2f6fed;
--ok-bg:#e3f3e8;--ok-fg:#17602e;--ok-bd:#9fd3b0;--ok-cell:#f1f9f3;
--info-bg:#e5eefa;--info-fg:#1c4a85;--info-bd:#a9c6ea;--info-cell:#eef4fc;
--warn-bg:#fff0cc;--warn-fg:#6f4400;--warn-bd:#eac66b;--warn-cell:#fff6de;
--fail-bg:#fde2e1;--fail-fg:#9b1c1c;--fail-bd:#f0a8a8;--fail-cell:#fdeceb;
--na-fg:#8893a1;--new:#b42318;--fixed:#17602e;--changed:#8a5a00;--gone:#5a6676}
@media (prefers-color-scheme:dark){:root{
--bg:#0e1217;--card:#161b22;--fg:#e3e8ee;--muted:#9aa5b3;--line:#2a313b;--line2:#1f252d;--head:#1b2129;--hover:rgba(127,168,255,.08);
--accent:#86acff;--focus:#8fb3ff;
--ok-bg:#12321f;--ok-fg:#8fdca6;--ok-bd:#285a3b;--ok-cell:#13241a;
--info-bg:#14294a;--info-fg:#a9c8f5;--info-bd:#2d4c7a;--info-cell:#142034;
--warn-bg:#3a2b08;--warn-fg:#f4cf78;--warn-bd:#6e5417;--warn-cell:#2c230f;
--fail-bg:#441718;--fail-fg:#ffaba8;--fail-bd:#7d2b2b;--fail-cell:#321617;
--na-fg:#6d7886;--new:#ff8f85;--fixed:#8fdca6;--changed:#f4cf78;--gone:#9aa5b3}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans",sans-serif;overflow-anchor:none}
button{font:inherit;color:inherit}
:focus-visible{outline:2px solid var(--focus);outline-offset:2px}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);clip-path:inset(50%);white-space:nowrap}
.muted{color:var(--muted);font-weight:400}
header.top{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:center;gap:12px 32px;padding:14px 24px;background:var(--card);border-bottom:1px solid var(--line)}
.brand{display:flex;align-items:center;gap:12px}
.logo{width:38px;height:38px;color:var(--accent);flex:none}
.logo .screen{fill:var(--card)}
h1{font-size:20px;margin:0;letter-spacing:-.01em}
.sub{margin:1px 0 0;color:var(--muted);font-size:13px}
.facts{display:flex;gap:8px 28px;margin:0;flex-wrap:wrap}
.facts dt{font-size:11px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted)}
.facts dd{margin:0;font-size:15px;font-weight:600;font-variant-numeric:tabular-nums}
main{padding:16px 24px 8px}
.banner{background:var(--warn-bg);color:var(--warn-fg);border:1px solid var(--warn-bd);padding:10px 14px;border-radius:8px;margin:0 0 14px}
.cards{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:12px;margin:0 0 16px}
.card{display:grid;grid-template-columns:auto 1fr;column-gap:12px;align-items:center;text-align:left;padding:10px 14px;border-radius:10px;border:1px solid var(--line);border-left-width:5px;background:var(--card);cursor:pointer}
.card .ic{grid-row:span 2;font-size:20px;width:40px;height:40px;border-radius:50%;display:grid;place-items:center;font-weight:700}
.card .num{font-size:24px;font-weight:700;line-height:1.15;font-variant-numeric:tabular-nums}
.card .lbl{color:var(--muted);font-size:12.5px}
.card:hover{background:var(--head)}
.card.s-fail{border-left-color:var(--fail-fg)}.card.s-fail .ic{background:var(--fail-bg);color:var(--fail-fg)}
.card.s-warn{border-left-color:var(--warn-fg)}.card.s-warn .ic{background:var(--warn-bg);color:var(--warn-fg)}
.card.s-info{border-left-color:var(--info-fg)}.card.s-info .ic{background:var(--info-bg);color:var(--info-fg)}
.card.s-ok{border-left-color:var(--ok-fg)}.card.s-ok .ic{background:var(--ok-bg);color:var(--ok-fg)}
.panels{display:grid;grid-template-columns:minmax(0,1.55fr) minmax(0,1fr);gap:16px;align-items:start;margin-bottom:20px}
.col{display:grid;gap:16px;min-width:0}
.panel{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 18px;min-width:0}
.panel h2{font-size:15px;margin:0 0 10px}
.panel h3{font-size:13.5px;margin:16px 0 8px}
.changes{margin-bottom:16px}
.chg-counts{display:flex;flex-wrap:wrap;gap:8px;margin-bottom:6px}
.chg{border:1px solid var(--line);background:var(--head);padding:6px 12px;border-radius:8px;cursor:pointer}
.chg strong{font-variant-numeric:tabular-nums}
.c-new{color:var(--new)}.c-fixed{color:var(--fixed)}.c-changed{color:var(--changed)}.c-gone,.c-unchanged{color:var(--gone)}
.chg.c-new,.chg.c-fixed,.chg.c-changed,.chg.c-gone,.chg.c-unchanged{color:var(--fg)}
.chg.c-new span,.chg.c-new strong{color:var(--new)}.chg.c-fixed span,.chg.c-fixed strong{color:var(--fixed)}.chg.c-changed span,.chg.c-changed strong{color:var(--changed)}
.chg-head{display:flex;flex-wrap:wrap;align-items:center;gap:8px 20px}
.chg-head h2{margin:0}
.rank td{padding:6px 6px}
.rank td:first-child{white-space:nowrap;width:1%}
.rank td.hits{width:8.5em;white-space:nowrap}
.rank .what{color:var(--fg)}
.cnt{display:inline-block;min-width:2.2em;font-weight:700;font-variant-numeric:tabular-nums}
.bar{display:inline-block;vertical-align:middle;width:5em;height:6px;background:var(--line2);border-radius:3px;overflow:hidden}
.warns{margin-top:10px}
.warns>summary{font-weight:600}
.plain{background:none;border:0;padding:0;margin:0;cursor:pointer;text-align:left}
.plain:hover .pill{filter:brightness(.96);text-decoration:underline;text-underline-offset:2px}
.vlist{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:6px 8px}
.vlist .vn{margin-left:5px;font-weight:700;font-variant-numeric:tabular-nums}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.bar>span{display:block;height:100%;background:var(--muted);border-radius:3px}
.s-fail .bar>span{background:var(--fail-fg)}.s-warn .bar>span{background:var(--warn-fg)}
.w0{width:0}.w1{width:5%}.w2{width:10%}.w3{width:15%}.w4{width:20%}.w5{width:25%}.w6{width:30%}.w7{width:35%}.w8{width:40%}.w9{width:45%}.w10{width:50%}
.w11{width:55%}.w12{width:60%}.w13{width:65%}.w14{width:70%}.w15{width:75%}.w16{width:80%}.w17{width:85%}.w18{width:90%}.w19{width:95%}.w20{width:100%}
.fix{color:var(--muted);font-size:12.5px}
.fixlbl{font-weight:600;color:var(--fg)}
.linkish{background:none;border:0;padding:0;color:var(--accent);cursor:pointer;font-size:12.5px;text-decoration:underline;text-underline-offset:2px}
.pill{display:inline-flex;align-items:center;gap:4px;padding:0 8px;border-radius:999px;font-size:12.5px;font-weight:600;white-space:nowrap;border:1px solid transparent;line-height:1.6}
.pill.s-ok{background:var(--ok-bg);color:var(--ok-fg);border-color:var(--ok-bd)}
.pill.s-info{background:var(--info-bg);color:var(--info-fg);border-color:var(--info-bd)}
.pill.s-warn{background:var(--warn-bg);color:var(--warn-fg);border-color:var(--warn-bd)}
.pill.s-fail{background:var(--fail-bg);color:var(--fail-fg);border-color:var(--fail-bd)}
.pill.s-na{color:var(--na-fg);border-color:var(--line)}
.tiles{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:8px;margin-bottom:8px}
.tile{text-align:left;border-radius:8px;padding:6px 10px;cursor:pointer;border:1px solid}
.tile .num{display:block;font-size:20px;font-weight:700;font-variant-numeric:tabular-nums}
.tile .lbl{font-size:12px}
.tile.s-ok{background:var(--ok-cell);color:var(--ok-fg);border-color:var(--ok-bd)}
.tile.s-info{background:var(--info-bg);color:var(--info-fg);border-color:var(--info-bd)}
.tile.s-warn{background:var(--warn-bg);color:var(--warn-fg);border-color:var(--warn-bd)}
.tile.s-fail{background:var(--fail-bg);color:var(--fail-fg);border-color:var(--fail-bd)}
details>summary{cursor:pointer;font-weight:600;margin:6px 0}
table.mini{width:100%;border-collapse:collapse;font-size:13px}
table.mini th{text-align:left;font-size:11px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);font-weight:600;border-bottom:1px solid var(--line);padding:4px 6px}
table.mini td{border-bottom:1px solid var(--line2);padding:4px 6px;vertical-align:top}
table.mini .r{text-align:right;font-variant-numeric:tabular-nums}
.horizon table{table-layout:fixed}
.horizon th:nth-child(1){width:38%}.horizon th:nth-child(2){width:20%}.horizon th:nth-child(3){width:24%}
.horizon td{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.horizon td:last-child{overflow:visible}
.good{color:var(--ok-fg);margin:0 0 6px}
.matrix>h2{font-size:16px;margin:4px 0 8px}
.toolbar{position:sticky;top:0;z-index:3;display:flex;flex-wrap:wrap;align-items:center;gap:8px 12px;padding:8px 12px;background:var(--card);border:1px solid var(--line);border-radius:10px 10px 0 0}
.toolbar label{display:flex;align-items:center;gap:6px;font-size:12.5px;color:var(--muted)}
.toolbar input[type=search]{width:20em;max-width:60vw;padding:5px 10px;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg);font:inherit}
.toolbar select{padding:4px 6px;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg);font:inherit;max-width:11em}
.chips{display:flex;gap:4px;flex-wrap:wrap}
.chip{font-size:12.5px;padding:3px 10px;border-radius:999px;border:1px solid var(--line);background:var(--bg);cursor:pointer;white-space:nowrap}
.chip .n{color:var(--muted);font-variant-numeric:tabular-nums}
.chip[aria-pressed=true]{font-weight:700;border-width:2px;padding:2px 9px}
.chip.s-fail[aria-pressed=true]{background:var(--fail-bg);color:var(--fail-fg);border-color:var(--fail-fg)}
.chip.s-warn[aria-pressed=true]{background:var(--warn-bg);color:var(--warn-fg);border-color:var(--warn-fg)}
.chip.s-info[aria-pressed=true]{background:var(--info-bg);color:var(--info-fg);border-color:var(--info-fg)}
.chip.s-ok[aria-pressed=true]{background:var(--ok-bg);color:var(--ok-fg);border-color:var(--ok-fg)}
.chip.c-any[aria-pressed=true]{background:var(--head);border-color:var(--accent)}
#reset{border:1px solid var(--line);background:var(--bg);border-radius:6px;padding:4px 10px;cursor:pointer;font-size:12.5px}
.count{margin-left:auto;color:var(--muted);font-size:12.5px;font-variant-numeric:tabular-nums}
table.grid{width:100%;table-layout:fixed;border-collapse:separate;border-spacing:0;background:var(--card);border:1px solid var(--line);border-top:0;font-size:12.5px;margin-bottom:8px}
.grid th{position:sticky;top:var(--toolbar-h,0px);z-index:2;background:var(--head);text-align:left;border-bottom:1px solid var(--line);padding:0}
.grid th .sort{display:flex;align-items:center;gap:4px;width:100%;padding:7px 6px;border:0;background:none;font-size:11px;text-transform:uppercase;letter-spacing:.05em;font-weight:700;color:var(--muted);cursor:pointer;text-align:left;white-space:nowrap;overflow:hidden}
.grid th .sort:focus-visible{outline:2px solid var(--focus);outline-offset:-2px}
.grid th[aria-sort] .sort{color:var(--fg)}
.arrow::after{content:"\2195";opacity:.35}
.grid th[aria-sort=ascending] .arrow::after{content:"\25B2";opacity:1;font-size:9px}
.grid th[aria-sort=descending] .arrow::after{content:"\25BC";opacity:1;font-size:9px}
.grid td{padding:0 6px;height:30px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;border-bottom:1px solid var(--line2);vertical-align:middle}
.grid tr.r{cursor:pointer}
.grid tr.r:hover>td{box-shadow:inset 0 0 0 999px var(--hover)}
.grid td.s-ok{background:var(--ok-cell);color:var(--ok-fg)}
.grid td.s-info{background:var(--info-cell);color:var(--info-fg)}
.grid td.s-warn{background:var(--warn-bg);color:var(--warn-fg)}
.grid td.s-fail{background:var(--fail-bg);color:var(--fail-fg);font-weight:600}
.grid td.s-na{color:var(--na-fg)}
.grid td.ph,.grid td.verdict{border-left:1px solid var(--card)}
.grid td .ic{display:inline-block;width:1.25em;text-align:center;margin-right:2px;font-weight:700}
.grid td.verdict{font-weight:600}
.grid td.host{font-weight:600}
.grid td.addr{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.grid td.chg-cell{font-weight:700}
.grid td.chg-cell.c-unchanged{font-weight:400;color:var(--muted);font-size:11.5px}
.grid tr.gone>td{opacity:.62;font-style:italic}
.x{display:inline-grid;place-items:center;width:20px;height:20px;margin:0 4px 0 -4px;padding:0;border:0;border-radius:4px;background:none;color:var(--muted);cursor:pointer;vertical-align:middle}
.x span{transition:transform .12s}
.x[aria-expanded=true] span{display:inline-block;transform:rotate(90deg)}
.x:hover{background:var(--line2);color:var(--fg)}
.grid tr.dt>td{padding:12px 16px 16px 28px;white-space:normal;height:auto;background:var(--bg);border-bottom:1px solid var(--line);cursor:auto}
.details{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:12px 24px}
.details section{min-width:0}
.details h4{margin:0 0 6px;font-size:11px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted)}
.details .findings{grid-column:1/-1}
.details ul{list-style:none;margin:0;padding:0;display:grid;gap:6px}
.details li{padding:6px 10px;border-radius:0 6px 6px 0;border-left:4px solid var(--line);background:var(--card)}
.details li.s-fail{border-left-color:var(--fail-fg)}.details li.s-warn{border-left-color:var(--warn-fg)}.details li.s-info{border-left-color:var(--info-fg)}.details li.s-ok{border-left-color:var(--ok-fg)}
.details li .ic{font-weight:700;margin-right:4px}
.details li.s-fail .ic{color:var(--fail-fg)}.details li.s-warn .ic{color:var(--warn-fg)}.details li.s-info .ic{color:var(--info-fg)}.details li.s-ok .ic{color:var(--ok-fg)}
.details li .code{font-weight:700}
.details li .ph{color:var(--muted);font-size:11px;text-transform:uppercase;letter-spacing:.05em;margin-left:8px}
.details li .sum{color:var(--muted)}
.details li .det{margin-top:2px;white-space:pre-wrap;word-break:break-word}
.details li .rem{margin-top:2px;color:var(--muted)}
.details dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:2px 12px;margin:0;font-size:12.5px}
.details dt{color:var(--muted)}
.details dd{margin:0;white-space:pre-wrap;word-break:break-word}
.details dd.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:11.5px;word-break:break-all}
.grid td.loading,.grid td.empty{padding:28px;text-align:center;color:var(--muted);height:auto;white-space:normal;cursor:auto}
.grid tr.spacer>td{padding:0;border:0;height:0}
footer{padding:4px 24px 24px;color:var(--muted);font-size:12.5px}
footer .pill{margin-right:2px}
.printnote{display:none}
@media (max-width:900px){.cards,.tiles{grid-template-columns:repeat(2,minmax(0,1fr))}.panels{grid-template-columns:minmax(0,1fr)}}
@media print{
:root{color-scheme:light;--bg:#fff;--card:#fff;--fg:#000;--muted:#444;--line:#bbb;--line2:#ddd;--head:#f2f2f2;
--ok-bg:#e3f3e8;--ok-fg:#17602e;--ok-bd:#9fd3b0;--ok-cell:#f1f9f3;--info-bg:#e5eefa;--info-fg:#1c4a85;--info-bd:#a9c6ea;--info-cell:#eef4fc;
--warn-bg:#fff0cc;--warn-fg:#6f4400;--warn-bd:#eac66b;--fail-bg:#fde2e1;--fail-fg:#9b1c1c;--fail-bd:#f0a8a8;--na-fg:#666;
--new:#b42318;--fixed:#17602e;--changed:#8a5a00;--gone:#444}
@page{size:landscape;margin:10mm}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{font-size:10px}
main,header.top{padding:6px 0}
.toolbar,.x,.linkish,#reset,.arrow{display:none}
.printnote{display:block;color:var(--muted);margin:0 0 4px}
.card,.tile,.chg{cursor:auto}
.card,.rank tr,.grid tr{break-inside:avoid}
.grid th{position:static}
.grid td{height:auto;padding:3px 5px;white-space:normal;word-break:break-word}
table.grid{font-size:9.5px}
.grid tr.dt>td{padding:6px 10px}
}
"###;

/// The page's only script (allowed by its hash in the CSP). Every value from the data island
/// reaches the DOM through `textContent`, `title`, `value` or `setAttribute`: never as markup.
const JS: &str = r###"
(() => {
'use strict';
const t0 = performance.now();
const $ = (id) => document.getElementById(id);
const tbody = $('rows');
const table = $('matrix');
const countEl = $('count');
const toolbar = $('toolbar');
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
function hidden(e) { e.setAttribute('aria-hidden', 'true'); return e; }
let D;
try {
  D = JSON.parse($('data').textContent);
} catch (e) {
  const td = tbody.querySelector('td');
  if (td) td.textContent = 'The embedded data could not be read: ' + e.message;
  return;
}
const tJson = performance.now();
const SEV = ['ok', 'info', 'warn', 'fail'];
const ICON = ['\u2713', '\u2139', '\u26A0', '\u2716'];
const CH = ['new', 'changed', 'fixed', 'gone', 'unchanged'];
const CH_ICON = { new: '\u25B2', changed: '\u21BB', fixed: '\u2713', gone: '\u2205', unchanged: '\u00B7' };
const CH_RANK = { new: 0, changed: 1, fixed: 2, gone: 3, unchanged: 4 };
const PHASE = { dns: 0, tcp: 1, rdp: 2, tls: 3, cert: 4, nla: 5 };
const PHASE_NAME = { dns: 'DNS', tcp: 'TCP', rdp: 'RDP', tls: 'TLS', cert: 'certificate', nla: 'NLA', host: 'host' };
const EXP = ['expired', '7', '30', '90'];
const rows = Array.isArray(D.rows) ? D.rows : [];
const cols = Array.isArray(D.cols) ? D.cols : [];
const codes = D.codes || {};
const fields = D.fields || [];
const extras = D.extras || [];
const nCols = Math.max(1, cols.length);
const S = Array.isArray(D.strings) ? D.strings : [];
// Shared values arrive as indexes into D.strings (see html.rs); resolve them once.
const sv = (v) => (typeof v === 'number' ? (S[v] ?? '') : (v ?? ''));
const OVERSCAN = 12;
const fmt = (n) => n.toLocaleString('en-US');

// What the first paint needs, per row: resolved cells and a natural-order host key.
const natKey = (s) => String(s).toLowerCase().replace(/\d+/g, (m) => m.padStart(12, '0'));
for (const r of rows) {
  r.x = Array.isArray(r.x) ? r.x : [];
  r.c = Array.isArray(r.c) ? r.c : [];
  r.f = Array.isArray(r.f) ? r.f : [];
  r.d = Array.isArray(r.d) ? r.d : [];
  for (const c of r.c) { c[1] = sv(c[1]); if (c.length > 2) c[2] = sv(c[2]); }
  r.hk = natKey(r.h);
}
const tParsed = performance.now();
// The rest (details, one lower-case search string) is built in idle slices after the first
// paint, or at once when a search or an expanded row needs it first.
function indexRow(r) {
  if (r.q !== undefined) return;
  for (const f of r.f) { f[3] = sv(f[3]); f[4] = sv(f[4]); }
  for (const d of r.d) d[1] = sv(d[1]);
  const parts = [r.h, r.a, r.si || '', r.ow || '', r.v, r.ch || '', r.fs || ''];
  for (const x of r.x) parts.push(x);
  for (const c of r.c) parts.push(c[1]);
  for (const f of r.f) parts.push(f[0], f[3]);
  for (const d of r.d) parts.push(d[1]);
  r.q = parts.join('\n').toLowerCase();
}
let indexed = 0;
function indexAll() { for (; indexed < rows.length; indexed++) indexRow(rows[indexed]); }
function indexSlice() {
  const end = performance.now() + 8;
  for (; indexed < rows.length && performance.now() < end; indexed++) indexRow(rows[indexed]);
  if (indexed < rows.length) setTimeout(indexSlice, 0);
  else window.rdpsweep.timings.indexedMs = performance.now() - t0;
}

// Sorting: `cmp` is the column's order (flipped by direction), `then` breaks ties in a fixed way.
const str = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
const lower = (v) => String(v || '').toLowerCase();
const SORTS = {
  change: { first: 1, cmp: (a, b) => (CH_RANK[a.ch] ?? 9) - (CH_RANK[b.ch] ?? 9) },
  host: { first: 1, cmp: (a, b) => str(a.hk, b.hk) },
  addr: { first: 1, cmp: (a, b) => str(a.ak, b.ak) },
  verdict: { first: -1, cmp: (a, b) => a.s - b.s, then: (a, b) => str(a.v, b.v) },
  site: { first: 1, cmp: (a, b) => str(lower(a.si), lower(b.si)) },
  owner: { first: 1, cmp: (a, b) => str(lower(a.ow), lower(b.ow)) },
};
for (const [id, k] of Object.entries(PHASE)) {
  SORTS[id] = {
    first: -1,
    cmp: (a, b) => ((a.c[k] || [-1])[0] - (b.c[k] || [-1])[0]),
    then: (a, b) => str((a.c[k] || [0, ''])[1], (b.c[k] || [0, ''])[1]),
  };
}
extras.forEach((_, j) => { SORTS['x' + j] = { first: 1, cmp: (a, b) => str(lower(a.x[j]), lower(b.x[j])) }; });
const tiebreak = (a, b) => (b.s - a.s) || str(a.hk, b.hk) || str(a.ak, b.ak) || (a.p - b.p);
const DEFAULT_SORT = D.baseline ? 'change' : 'verdict';

const state = { q: '', sev: new Set(), ch: new Set(), verdict: '', code: '', site: '', owner: '', exp: '',
  sort: DEFAULT_SORT, dir: SORTS[DEFAULT_SORT].first };

// ---- URL fragment <-> state, so a reload (or a shared link) keeps the view
function readHash() {
  let p;
  try { p = new URLSearchParams(location.hash.replace(/^#/, '')); } catch (e) { p = new URLSearchParams(); }
  state.q = p.get('q') || '';
  state.sev = new Set((p.get('sev') || '').split(',').filter((s) => SEV.includes(s)));
  state.ch = new Set((p.get('change') || '').split(',').filter((s) => CH.includes(s)));
  state.verdict = p.get('verdict') || '';
  state.code = p.get('code') || '';
  state.site = p.get('site') || '';
  state.owner = p.get('owner') || '';
  state.exp = EXP.includes(p.get('exp')) ? p.get('exp') : '';
  const s = p.get('sort');
  state.sort = s && Object.prototype.hasOwnProperty.call(SORTS, s) ? s : DEFAULT_SORT;
  const dir = p.get('dir');
  state.dir = dir === 'asc' ? 1 : dir === 'desc' ? -1 : SORTS[state.sort].first;
}
function hashOf() {
  const p = new URLSearchParams();
  if (state.q) p.set('q', state.q);
  if (state.sev.size) p.set('sev', SEV.filter((s) => state.sev.has(s)).reverse().join(','));
  if (state.ch.size) p.set('change', CH.filter((s) => state.ch.has(s)).join(','));
  if (state.verdict) p.set('verdict', state.verdict);
  if (state.code) p.set('code', state.code);
  if (state.site) p.set('site', state.site);
  if (state.owner) p.set('owner', state.owner);
  if (state.exp) p.set('exp', state.exp);
  if (state.sort !== DEFAULT_SORT || state.dir !== SORTS[DEFAULT_SORT].first) {
    p.set('sort', state.sort);
    p.set('dir', state.dir > 0 ? 'asc' : 'desc');
  }
  const h = p.toString();
  return h ? '#' + h : '';
}
let ownHash = null;
function writeHash() {
  const want = hashOf();
  if ((location.hash || '') === want) return;
  ownHash = want;
  try {
    history.replaceState(null, '', location.href.split('#')[0] + want);
  } catch (e) {
    try { location.replace(want || '#'); } catch (e2) { /* the view still works without it */ }
  }
}
window.addEventListener('hashchange', () => {
  if ((location.hash || '') === ownHash) return;
  readHash();
  syncControls();
  apply(true);
});

// ---- controls
const qEl = $('q'), verdictEl = $('f-verdict'), siteEl = $('f-site'), ownerEl = $('f-owner'), expEl = $('f-exp');
const sevBox = $('f-sev'), chBox = $('f-ch');
function countBy(get) {
  const m = new Map();
  for (const r of rows) { const v = get(r); if (v) m.set(v, (m.get(v) || 0) + 1); }
  return m;
}
function fillSelect(sel, counts, order) {
  if (!sel) return;
  const keys = [...counts.keys()].sort(order || ((a, b) => str(lower(a), lower(b))));
  for (const k of keys) {
    const o = el('option', null, k + ' (' + fmt(counts.get(k)) + ')');
    o.value = k;
    sel.append(o);
  }
  if (!keys.length) sel.closest('label').hidden = true;
}
const verdictSev = new Map();
for (const r of rows) verdictSev.set(r.v, Math.max(verdictSev.get(r.v) ?? -1, r.s));
fillSelect(verdictEl, countBy((r) => r.v), (a, b) => (verdictSev.get(b) - verdictSev.get(a)) || str(a, b));
fillSelect(siteEl, countBy((r) => r.si));
fillSelect(ownerEl, countBy((r) => r.ow));
function chip(box, cls, value, icon, label, n, key) {
  const b = el('button', 'chip ' + cls);
  b.type = 'button';
  b.dataset.value = value;
  b.setAttribute('aria-pressed', 'false');
  b.append(hidden(el('span', 'ic', icon)), ' ' + label + ' ', el('span', 'n', fmt(n)));
  b.addEventListener('click', () => {
    const set = state[key];
    if (set.has(value)) set.delete(value); else set.add(value);
    syncControls();
    apply(false);
  });
  box.append(b);
}
const sevCounts = [0, 0, 0, 0];
for (const r of rows) if (!r.g && sevCounts[r.s] !== undefined) sevCounts[r.s]++;
if (sevBox) for (const s of [3, 2, 1, 0]) chip(sevBox, 's-' + SEV[s], SEV[s], ICON[s], SEV[s], sevCounts[s], 'sev');
if (chBox) {
  const cc = countBy((r) => r.ch);
  for (const c of CH) chip(chBox, 'c-any c-' + c, c, CH_ICON[c], c, cc.get(c) || 0, 'ch');
}
// The code filter ("show hosts" in the causes panel) is shown as a removable chip.
const codeChip = el('button', 'chip c-any');
codeChip.type = 'button';
codeChip.hidden = true;
codeChip.setAttribute('aria-pressed', 'true');
codeChip.addEventListener('click', () => { state.code = ''; syncControls(); apply(false); });
toolbar.insertBefore(codeChip, $('reset'));

function ensureOption(sel, v) {
  if (!sel || !v) return;
  if (![...sel.options].some((o) => o.value === v)) { const o = el('option', null, v); o.value = v; sel.append(o); }
}
function syncControls() {
  if (qEl && qEl.value !== state.q) qEl.value = state.q;
  ensureOption(verdictEl, state.verdict); ensureOption(siteEl, state.site); ensureOption(ownerEl, state.owner);
  if (verdictEl) verdictEl.value = state.verdict;
  if (siteEl) siteEl.value = state.site;
  if (ownerEl) ownerEl.value = state.owner;
  if (expEl) expEl.value = state.exp;
  for (const b of sevBox ? sevBox.querySelectorAll('button') : []) b.setAttribute('aria-pressed', String(state.sev.has(b.dataset.value)));
  for (const b of chBox ? chBox.querySelectorAll('button') : []) b.setAttribute('aria-pressed', String(state.ch.has(b.dataset.value)));
  codeChip.hidden = !state.code;
  codeChip.textContent = state.code ? 'finding: ' + state.code + ' \u2715' : '';
  codeChip.setAttribute('aria-label', 'Remove the filter on finding ' + state.code);
}
let qTimer = 0;
if (qEl) {
  qEl.addEventListener('input', () => {
    clearTimeout(qTimer);
    qTimer = setTimeout(() => { state.q = qEl.value; apply(false); }, 150);
  });
  qEl.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') { clearTimeout(qTimer); state.q = qEl.value; apply(false); }
    if (ev.key === 'Escape' && qEl.value) { qEl.value = ''; clearTimeout(qTimer); state.q = ''; apply(false); }
  });
}
for (const [sel, key] of [[verdictEl, 'verdict'], [siteEl, 'site'], [ownerEl, 'owner'], [expEl, 'exp']]) {
  if (sel) sel.addEventListener('change', () => { state[key] = sel.value; apply(false); });
}
$('reset').addEventListener('click', () => {
  state.q = ''; state.sev.clear(); state.ch.clear(); state.verdict = ''; state.code = '';
  state.site = ''; state.owner = ''; state.exp = '';
  syncControls();
  apply(false);
});
document.addEventListener('keydown', (ev) => {
  if (ev.key === '/' && qEl && document.activeElement !== qEl && !/^(INPUT|SELECT|TEXTAREA)$/.test(ev.target.tagName)) {
    ev.preventDefault();
    qEl.focus();
  }
});
// Header shortcuts: severity cards, change counts, expiry tiles, verdicts and causes.
function focusMatrix() {
  syncControls();
  apply(false);
  $('h-matrix').scrollIntoView({ block: 'start' });
}
function only(set, v) { const was = set.size === 1 && set.has(v); set.clear(); if (!was) set.add(v); }
for (const b of document.querySelectorAll('.card[data-sev]')) b.addEventListener('click', () => { only(state.sev, b.dataset.sev); focusMatrix(); });
for (const b of document.querySelectorAll('.chg[data-ch]')) b.addEventListener('click', () => { only(state.ch, b.dataset.ch); focusMatrix(); });
for (const b of document.querySelectorAll('.tile[data-exp]')) b.addEventListener('click', () => { state.exp = state.exp === b.dataset.exp ? '' : b.dataset.exp; focusMatrix(); });
for (const b of document.querySelectorAll('[data-verdict]')) b.addEventListener('click', () => { state.verdict = b.dataset.verdict; focusMatrix(); });
for (const b of document.querySelectorAll('[data-code]')) b.addEventListener('click', () => { state.code = b.dataset.code; focusMatrix(); });

// ---- filter + sort
let sortedAll = null, sortedBy = '';
function sortAll() {
  const key = state.sort + ':' + state.dir;
  if (sortedAll && sortedBy === key) return;
  const spec = SORTS[state.sort] || SORTS[DEFAULT_SORT];
  const dir = state.dir;
  const idx = rows.map((_, i) => i);
  idx.sort((i, j) => {
    const a = rows[i], b = rows[j];
    return dir * spec.cmp(a, b) || (spec.then ? spec.then(a, b) : 0) || tiebreak(a, b);
  });
  sortedAll = idx;
  sortedBy = key;
}
function pass(r, terms) {
  if (state.sev.size && !state.sev.has(SEV[r.s])) return false;
  if (state.ch.size && !state.ch.has(r.ch)) return false;
  if (state.verdict && r.v !== state.verdict) return false;
  if (state.code && !r.f.some((f) => f[0] === state.code)) return false;
  if (state.site && (r.si || '') !== state.site) return false;
  if (state.owner && (r.ow || '') !== state.owner) return false;
  if (state.exp) {
    if (typeof r.e !== 'number') return false;
    if (state.exp === 'expired' ? r.e >= 0 : (r.e < 0 || r.e > Number(state.exp))) return false;
  }
  for (const t of terms) if (!r.q.includes(t)) return false;
  return true;
}
let view = [];
const expanded = new Set();
const extraH = new Map();
let expPos = [];
let H = 30;
function reindex() {
  expPos = [];
  if (!expanded.size) return;
  for (let p = 0; p < view.length; p++) if (expanded.has(view[p])) expPos.push(p);
}
function apply(fromHash) {
  const t = performance.now();
  sortAll();
  const terms = state.q.toLowerCase().split(/\s+/).filter(Boolean);
  if (terms.length) indexAll();
  const out = [];
  for (const i of sortedAll) if (pass(rows[i], terms)) out.push(i);
  view = out;
  reindex();
  countEl.textContent = view.length === rows.length
    ? fmt(rows.length) + ' rows'
    : 'Showing ' + fmt(view.length) + ' of ' + fmt(rows.length) + ' rows';
  for (const th of table.tHead.rows[0].cells) {
    if (th.dataset.col === state.sort) th.setAttribute('aria-sort', state.dir > 0 ? 'ascending' : 'descending');
    else th.removeAttribute('aria-sort');
  }
  if (!fromHash) writeHash();
  render(true);
  const ms = performance.now() - t;
  window.rdpsweep.lastApplyMs = ms;
  document.dispatchEvent(new CustomEvent('rdpsweep:applied', { detail: { shown: view.length, ms } }));
}
for (const th of table.tHead.rows[0].cells) {
  const id = th.dataset.col;
  const b = th.querySelector('button');
  if (!b || !SORTS[id]) continue;
  b.addEventListener('click', () => {
    if (state.sort === id) state.dir = -state.dir;
    else { state.sort = id; state.dir = SORTS[id].first; }
    apply(false);
  });
}

// ---- windowed rendering: only rows near the viewport exist in the DOM
const heightOf = (p) => extraH.get(view[p]) || 260;
function offset(pos) {
  let y = pos * H;
  for (const p of expPos) { if (p >= pos) break; y += heightOf(p); }
  return y;
}
function posAt(y) {
  let lo = 0, hi = Math.max(0, view.length - 1);
  while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (offset(mid) <= y) lo = mid; else hi = mid - 1; }
  return lo;
}
function spacer(h) {
  const tr = el('tr', 'spacer');
  hidden(tr);
  const td = el('td');
  td.colSpan = nCols;
  td.style.height = h + 'px';
  tr.append(td);
  return tr;
}
function textCell(v, cls) {
  const td = el('td', cls, v || '');
  if (v) td.title = v;
  return td;
}
function sevCell(cls, sev, text, title) {
  const ok = sev >= 0 && sev <= 3;
  const td = el('td', cls + (ok ? ' s-' + SEV[sev] : ' s-na'));
  if (ok) td.append(hidden(el('span', 'ic', ICON[sev])), el('span', 'sr', SEV[sev] + ': '));
  td.append(text || (ok ? '' : '\u2014'));
  td.title = title || text || (ok ? SEV[sev] : 'not reached');
  return td;
}
function cell(id, r, i) {
  switch (id) {
    case 'change': {
      const td = el('td', 'chg-cell c-' + (CH.includes(r.ch) ? r.ch : 'unchanged'));
      // Unchanged rows stay quiet so the changes stand out; the word is still there for readers.
      if (r.ch === 'unchanged') td.append(hidden(el('span', 'ic', CH_ICON.unchanged)), el('span', 'sr', 'unchanged'));
      else td.append(hidden(el('span', 'ic', CH_ICON[r.ch] || '')), r.ch || '');
      td.title = r.fs ? (r.ch || '') + ' \u2014 failing since ' + r.fs : (r.ch || '');
      return td;
    }
    case 'host': {
      const td = el('td', 'host');
      const b = el('button', 'x');
      b.type = 'button';
      b.setAttribute('aria-expanded', expanded.has(i) ? 'true' : 'false');
      b.setAttribute('aria-label', 'Details for ' + r.h + (r.a ? ' ' + r.a : ''));
      b.append(hidden(el('span', null, '\u25B8')));
      td.append(b, r.h);
      if (r.p !== 3389) td.append(el('span', 'muted', ':' + r.p));
      td.title = r.h + (r.p !== 3389 ? ':' + r.p : '');
      return td;
    }
    case 'addr': return sevlessAddr(r);
    case 'verdict': {
      const info = codes[r.v];
      const first = r.f[0];
      const detail = first ? sv(first[3]) : '';
      return sevCell('verdict', r.s, r.v, (info ? info[2] : r.v) + (detail ? ' \u2014 ' + detail : ''));
    }
    case 'site': return textCell(r.si);
    case 'owner': return textCell(r.ow);
    default:
      if (Object.prototype.hasOwnProperty.call(PHASE, id)) {
        const c = r.c[PHASE[id]] || [-1, ''];
        return sevCell('ph', c[0], c[1], c[2]);
      }
      if (id.charAt(0) === 'x') return textCell(r.x[Number(id.slice(1))]);
      return el('td');
  }
}
function sevlessAddr(r) {
  const td = el('td', 'addr', r.a || '\u2014');
  td.title = r.a || 'no address';
  return td;
}
function rowEl(i, p) {
  const r = rows[i];
  const tr = el('tr', r.g ? 'r gone' : 'r');
  tr.dataset.i = String(i);
  tr.setAttribute('aria-rowindex', String(p + 2));
  for (const c of cols) tr.append(cell(c.id, r, i));
  return tr;
}
function detailEl(i) {
  const r = rows[i];
  indexRow(r);
  const tr = el('tr', 'dt');
  tr.dataset.i = String(i);
  const td = el('td');
  td.colSpan = nCols;
  const box = el('div', 'details');
  const fs = el('section', 'findings');
  fs.append(el('h4', null, 'Findings'));
  const ul = el('ul');
  for (const f of r.f) {
    const sev = SEV[f[1]] ? f[1] : 0;
    const info = codes[f[0]];
    const li = el('li', 's-' + SEV[sev]);
    const head = el('div');
    head.append(hidden(el('span', 'ic', ICON[sev])), el('span', 'sr', SEV[sev] + ': '), el('span', 'code', f[0]),
      el('span', 'ph', PHASE_NAME[f[2]] || f[2]));
    if (info && f[0] !== 'ok') head.append(el('span', 'sum', ' \u2014 ' + info[2]));
    li.append(head);
    if (f[3]) li.append(el('div', 'det', f[3]));
    const rem = f[4] || (info ? info[3] : '');
    if (rem && f[0] !== 'ok') { const d = el('div', 'rem'); d.append(el('span', 'fixlbl', 'Fix: '), rem); li.append(d); }
    ul.append(li);
  }
  fs.append(ul);
  box.append(fs);
  const section = (title, pairs) => {
    const s = el('section');
    s.append(el('h4', null, title));
    const dl = el('dl');
    for (const [k, v] of pairs) dl.append(el('dt', null, k), el('dd', /thumbprint/i.test(k) ? 'mono' : null, v));
    s.append(dl);
    box.append(s);
  };
  if (r.ch) {
    const pairs = [['Change', r.ch]];
    if (r.fs) pairs.push(['Failing since', r.fs]);
    if (r.g) pairs.push(['Note', 'in the baseline but not scanned now; facts are from the baseline']);
    section('Since the baseline', pairs);
  }
  // Sections in first-seen order; the target's own fields come from the row itself.
  const order = ['Target'];
  const bySec = { Target: [['Host', r.h], ['Port', String(r.p)], ['Address', r.a || '\u2014']] };
  if (r.si) bySec.Target.push(['Site', r.si]);
  if (r.ow) bySec.Target.push(['Owner', r.ow]);
  for (const d of r.d) {
    const f = fields[d[0]] || ['Other', '?'];
    if (!bySec[f[0]]) { bySec[f[0]] = []; order.push(f[0]); }
    bySec[f[0]].push([f[1], d[1]]);
  }
  for (const name of order) section(name, bySec[name]);
  if (extras.length) section('Inventory', extras.map((name, j) => [name, r.x[j] || '']).filter((p) => p[1]));
  td.append(box);
  tr.append(td);
  return tr;
}
let printing = false, curFirst = -1, curLast = -1, pending = false;
function render(force) {
  const n = view.length;
  let first = 0, last = n - 1;
  if (!printing && n > 0) {
    const top = tbody.getBoundingClientRect().top;
    const sticky = toolbar.offsetHeight + table.tHead.offsetHeight;
    const visTop = Math.max(0, sticky - top);
    const visBot = Math.max(0, window.innerHeight - top);
    first = Math.max(0, posAt(visTop) - OVERSCAN);
    last = Math.min(n - 1, posAt(visBot) + OVERSCAN);
  }
  if (!force && first === curFirst && last === curLast) return;
  curFirst = first;
  curLast = last;
  // Keep keyboard focus on the same row's control across re-renders.
  const active = document.activeElement;
  let focusRow = null;
  if (active && active !== document.body && tbody.contains(active)) {
    const tr = active.closest('tr');
    if (tr) focusRow = tr.dataset.i;
  }
  const frag = document.createDocumentFragment();
  if (n === 0) {
    const tr = el('tr');
    const td = el('td', 'empty', rows.length ? 'No row matches these filters.' : 'No rows: nothing was scanned.');
    td.colSpan = nCols;
    tr.append(td);
    frag.append(tr);
  } else {
    if (first > 0) frag.append(spacer(offset(first)));
    for (let p = first; p <= last; p++) {
      const i = view[p];
      frag.append(rowEl(i, p));
      if (expanded.has(i)) frag.append(detailEl(i));
    }
    const rest = offset(n) - offset(last + 1);
    if (rest > 0) frag.append(spacer(rest));
  }
  tbody.replaceChildren(frag);
  table.setAttribute('aria-rowcount', String(n + 1));
  table.dataset.shown = String(n);
  if (focusRow !== null) {
    const b = tbody.querySelector('tr.r[data-i="' + Number(focusRow) + '"] button.x');
    if (b) b.focus({ preventScroll: true });
  }
  if (!printing) measure();
}
function measure() {
  let changed = false;
  const r = tbody.querySelector('tr.r');
  if (r) {
    const h = r.getBoundingClientRect().height;
    if (h > 0 && Math.abs(h - H) > 0.5) { H = h; changed = true; }
  }
  for (const d of tbody.querySelectorAll('tr.dt')) {
    const h = d.getBoundingClientRect().height;
    const i = Number(d.dataset.i);
    if (h > 0 && Math.abs((extraH.get(i) || 0) - h) > 0.5) { extraH.set(i, h); changed = true; }
  }
  if (changed) schedule(true);
}
let forceNext = false;
function schedule(force) {
  forceNext = forceNext || !!force;
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => { pending = false; const f = forceNext; forceNext = false; render(f); });
}
function toggle(i) {
  if (expanded.has(i)) expanded.delete(i); else expanded.add(i);
  reindex();
  render(true);
}
tbody.addEventListener('click', (ev) => {
  const t = ev.target;
  const tr = t.closest && t.closest('tr');
  if (!tr || !tr.classList.contains('r')) return;
  // A click that ends a text selection is for copying, not for expanding.
  if (!t.closest('button.x') && String(window.getSelection() || '').length) return;
  toggle(Number(tr.dataset.i));
});
function syncToolbarHeight() {
  document.documentElement.style.setProperty('--toolbar-h', toolbar.offsetHeight + 'px');
}
window.addEventListener('scroll', () => schedule(false), { passive: true });
window.addEventListener('resize', () => { syncToolbarHeight(); schedule(true); });
if (window.ResizeObserver) new ResizeObserver(syncToolbarHeight).observe(toolbar);
window.addEventListener('beforeprint', () => {
  printing = true;
  const parts = [];
  if (state.sev.size) parts.push('severity ' + [...state.sev].join('/'));
  if (state.ch.size) parts.push('change ' + [...state.ch].join('/'));
  for (const k of ['verdict', 'code', 'site', 'owner', 'exp']) if (state[k]) parts.push(k + ' ' + state[k]);
  if (state.q) parts.push('search \u201C' + state.q + '\u201D');
  $('printnote').textContent = fmt(view.length) + ' of ' + fmt(rows.length) + ' rows' + (parts.length ? '; filtered by ' + parts.join(', ') : '');
  render(true);
});
window.addEventListener('afterprint', () => { printing = false; render(true); });

window.rdpsweep = { total: rows.length, get shown() { return view.length; }, timings: {} };
readHash();
syncControls();
syncToolbarHeight();
apply(true);
const tReady = performance.now();
window.rdpsweep.timings = { jsonMs: tJson - t0, indexMs: tParsed - tJson, firstRenderMs: tReady - tParsed, scriptMs: tReady - t0 };
setTimeout(indexSlice, 0);
performance.mark('rdpsweep-ready');
document.documentElement.dataset.ready = '1';
})();
"###;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::{Policy, report};
    use crate::model::*;

    const NOW: &str = "2026-05-04T02:00:00Z";
    const NOW_UNIX: i64 = 1_777_860_000;
    const DAY: i64 = 86_400;

    fn healthy(host: &str, addr: &str) -> ProbeRecord {
        let ip: IpAddr = addr.parse().unwrap();
        ProbeRecord {
            target: TargetInfo {
                host: host.into(),
                port: 3389,
                site: Some("PAR".into()),
                owner: Some("infra".into()),
                expect_ip: vec![],
                extra: vec![("rack".into(), "R12".into())],
                source: "servers.csv:2".into(),
            },
            address: Some(ip),
            dns: DnsOutcome {
                addresses: vec![ip],
                ms: Some(2.0),
                ..DnsOutcome::status(DnsStatus::Resolved)
            },
            tcp: Some(TcpOutcome {
                status: TcpStatus::Open,
                rtt_ms: Some(0.8),
                error: None,
            }),
            rdp: Some(RdpOutcome {
                attempts: vec![
                    NegAttempt {
                        requested: 0x0B,
                        result: NegResult::Selected {
                            protocol: 8,
                            flags: 0x1F,
                        },
                    },
                    NegAttempt {
                        requested: 0x01,
                        result: NegResult::Failure { code: 5 },
                    },
                ],
                accepted: vec![Protocols::HYBRID, Protocols::HYBRID_EX],
                required: Some(Protocols::HYBRID),
                failures: vec![5],
                flags: 0x1F,
                ..Default::default()
            }),
            tls: Some(TlsOutcome {
                status: TlsStatus::Ok,
                version: Some("TLSv1.3".into()),
                cipher: Some("TLS13_AES_256_GCM_SHA384".into()),
                alert: None,
                via: "rustls".into(),
                versions: vec![],
                error: None,
                legacy: false,
            }),
            cert: Some(CertFacts {
                subject: format!("CN={host}"),
                issuer: "CN=Corp CA".into(),
                sans: vec![host.into()],
                not_before: "2025-11-10T08:00:00Z".into(),
                not_after: "2027-02-15T08:00:00Z".into(),
                not_before_unix: NOW_UNIX - 100 * DAY,
                not_after_unix: NOW_UNIX + 287 * DAY,
                key: "RSA-2048".into(),
                key_bits: 2048,
                sig_alg: "sha256WithRSAEncryption".into(),
                sha1: "aa".repeat(20),
                sha256: "bb".repeat(32),
                name_match: Some(true),
                checked_name: Some(host.into()),
                trusted: true,
                chain_len: 2,
                ..Default::default()
            }),
            credssp: Some(CredSspOutcome {
                status: CredSspStatus::Challenge,
                version: Some(6),
                error_code: None,
                ntlm: Some(NtlmInfo {
                    // The server's own name matches the inventory's (no name-mismatch).
                    nb_computer: Some(host.split('.').next().unwrap_or("").to_ascii_uppercase()),
                    os_version: Some("10.0.20348".into()),
                    ..Default::default()
                }),
                error: None,
            }),
            connections: 2,
            attempts: 1,
            flaky: false,
            deadline_hit: false,
            scanned_at: NOW.into(),
            duration_ms: 120.0,
        }
    }

    fn diag(r: ProbeRecord) -> HostReport {
        report(r, NOW_UNIX, &Policy::default())
    }

    fn expired(mut r: ProbeRecord, days: i64) -> ProbeRecord {
        if let Some(c) = r.cert.as_mut() {
            c.not_after_unix = NOW_UNIX + days * DAY;
        }
        r
    }

    fn nxdomain(mut r: ProbeRecord) -> ProbeRecord {
        r.address = None;
        r.dns.status = DnsStatus::Nxdomain;
        r.dns.addresses.clear();
        r.tcp = None;
        r.rdp = None;
        r.tls = None;
        r.cert = None;
        r.credssp = None;
        r
    }

    fn filtered(mut r: ProbeRecord) -> ProbeRecord {
        r.tcp = Some(TcpOutcome {
            status: TcpStatus::Filtered,
            rtt_ms: None,
            error: None,
        });
        r.rdp = None;
        r.tls = None;
        r.cert = None;
        r.credssp = None;
        r
    }

    fn tls10(mut r: ProbeRecord) -> ProbeRecord {
        if let Some(t) = r.tls.as_mut() {
            t.status = TlsStatus::LegacyHello;
            t.version = Some("TLSv1.0".into());
            t.legacy = true;
        }
        r
    }

    fn unpatched(mut r: ProbeRecord) -> ProbeRecord {
        if let Some(c) = r.credssp.as_mut() {
            c.version = Some(3);
        }
        r
    }

    fn summary(rows: u64) -> Summary {
        Summary {
            started_at: NOW.into(),
            duration_s: 252.0,
            targets: rows,
            rows,
            interrupted: false,
            verdicts: vec![],
        }
    }

    /// The JSON island of a rendered page, parsed.
    fn island(html: &str) -> serde_json::Value {
        let start = html
            .find("<script type=\"application/json\" id=\"data\">")
            .unwrap();
        let body = &html[start..];
        let body = &body[body.find('>').unwrap() + 1..];
        let end = body.find("</script>").unwrap();
        serde_json::from_str(&body[..end]).unwrap()
    }

    /// A row's cells with shared values resolved: [(severity, text)].
    fn row_cells(doc: &serde_json::Value, i: usize) -> Vec<(i64, String)> {
        let strings = doc["strings"].as_array().unwrap();
        let s = |v: &serde_json::Value| match v {
            serde_json::Value::Number(n) => strings[n.as_u64().unwrap() as usize]
                .as_str()
                .unwrap()
                .to_string(),
            other => other.as_str().unwrap().to_string(),
        };
        doc["rows"][i]["c"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c[0].as_i64().unwrap(), s(&c[1])))
            .collect()
    }

    #[test]
    fn escaping_helpers() {
        assert_eq!(
            esc("<a href=\"x\" title='y'>&</a>"),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
        let hostile = "</script><!--<script>\u{2028}\u{2029}&amp;";
        let json = serde_json::to_string(&hostile).unwrap();
        let safe = script_safe_json(&json);
        for bad in ['<', '>', '&', '\u{2028}', '\u{2029}'] {
            assert!(!safe.contains(bad), "{bad:?} left in {safe}");
        }
        // Same value once parsed.
        let back: String = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, hostile);
        // Cut on a character boundary, never inside one.
        assert_eq!(clip("ééé", 2), "éé…");
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("", 0), "");
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(b64(i.as_bytes()), o);
        }
    }

    #[test]
    fn short_facts_per_phase() {
        let reports = vec![
            diag(healthy("web01.corp.example", "192.0.2.1")),
            diag(expired(healthy("app03.corp.example", "192.0.2.3"), -42)),
            diag(nxdomain(healthy("gone.corp.example", "192.0.2.4"))),
            diag(filtered(healthy("dmz.corp.example", "192.0.2.5"))),
            diag(tls10(healthy("old.corp.example", "192.0.2.6"))),
            diag(unpatched(healthy("fin.corp.example", "2001:db8::7"))),
        ];
        let doc = island(&render(&reports, &summary(6), &[]));
        let c = |i| row_cells(&doc, i);
        let ok = 0;
        let info = 1;
        let warn = 2;
        let fail = 3;
        let na = -1;
        assert_eq!(
            c(0),
            vec![
                (ok, "resolved".into()),
                (ok, "open".into()),
                (info, "NLA required".into()),
                (ok, "TLSv1.3".into()),
                (ok, "valid · 287 d".into()),
                (ok, "v6 · WEB01 · 10.0.20348".into()),
            ]
        );
        assert_eq!(c(1)[4], (warn, "expired 42 d ago".into()));
        assert_eq!(c(2)[0], (fail, "NXDOMAIN".into()));
        assert_eq!(c(2)[1], (na, String::new()));
        assert_eq!(c(3)[1], (fail, "filtered".into()));
        assert_eq!(c(3)[2].0, na);
        assert_eq!(c(4)[3], (fail, "TLS 1.0 only".into()));
        assert_eq!(c(5)[5], (fail, "v3 unpatched · FIN · 10.0.20348".into()));
        // Row facts travel too: verdict, severity, address sort key, cert days.
        let rows = doc["rows"].as_array().unwrap();
        assert_eq!(rows[1]["v"], "cert-expired");
        assert_eq!(rows[1]["e"], -42);
        assert_eq!(rows[2]["a"], "");
        assert_eq!(
            rows[5]["ak"],
            format!("6{:032x}", 0x2001_0db8_u128 << 96 | 7)
        );
        assert_eq!(rows[0]["x"], serde_json::json!([] as [&str; 0]));
    }

    #[test]
    fn page_is_self_contained_with_real_table_markup() {
        let reports = vec![
            diag(healthy("web01.corp.example", "192.0.2.1")),
            diag(nxdomain(healthy("gone.corp.example", "192.0.2.4"))),
        ];
        let extras = vec!["rack".to_string()];
        let html = render(&reports, &summary(2), &extras);
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<table id=\"matrix\""));
        assert!(html.contains("<thead>"));
        // Host .. Verdict, site, owner, one extra: 12 columns, each a keyboard-usable button.
        assert_eq!(html.matches("<th scope=\"col\" data-col=").count(), 12);
        assert!(html.contains(
            "<th scope=\"col\" data-col=\"x0\"><button type=\"button\" class=\"sort\">rack"
        ));
        assert!(html.contains("aria-rowcount=\"3\""));
        // Nothing to fetch: no external resources of any kind.
        for bad in [
            "src=\"http",
            "href=\"http",
            "@import",
            "url(",
            "<link rel=\"stylesheet\"",
            "<iframe",
            "fetch(",
        ] {
            assert!(!html.contains(bad), "{bad} in page");
        }
        assert!(html.contains("@media print"));
        assert!(html.contains("prefers-color-scheme:dark"));
        assert!(html.contains("<noscript>"));
        // No markup is ever built from data in the script.
        assert!(
            !JS.contains("innerHTML")
                && !JS.contains("outerHTML")
                && !JS.contains("insertAdjacentHTML")
        );
        assert!(!JS.contains("eval(") && !JS.contains("document.write"));
    }

    #[test]
    fn csp_hashes_match_the_inline_script_and_style() {
        let html = render(&[diag(healthy("h.example", "192.0.2.1"))], &summary(1), &[]);
        let between = |a: &str, b: &str| -> String {
            let i = html.find(a).unwrap() + a.len();
            let j = html[i..].find(b).unwrap();
            html[i..i + j].to_string()
        };
        let style = between("<style>", "</style>");
        let script = between("<script>", "</script>");
        let csp = between("http-equiv=\"Content-Security-Policy\" content=\"", "\"");
        let csp = csp.replace("&#39;", "'");
        assert!(csp.starts_with("default-src 'none';"), "{csp}");
        assert!(
            csp.contains(&format!("script-src {};", csp_hash(&script))),
            "{csp}"
        );
        assert!(
            csp.contains(&format!("style-src {};", csp_hash(&style))),
            "{csp}"
        );
        assert!(!csp.contains("unsafe-inline"));
    }

    #[test]
    fn header_ranks_causes_by_hosts_and_counts_expiry() {
        let mut reports = vec![
            // One host with two addresses, both filtered: one host hit, two rows.
            diag(filtered(healthy("dual.example", "192.0.2.10"))),
            diag(filtered(healthy("dual.example", "2001:db8::10"))),
            diag(filtered(healthy("fw2.example", "192.0.2.11"))),
            diag(nxdomain(healthy("gone.example", "192.0.2.12"))),
            diag(expired(healthy("exp.example", "192.0.2.13"), -3)),
            diag(expired(healthy("soon.example", "192.0.2.14"), 5)),
            diag(expired(healthy("later.example", "192.0.2.15"), 20)),
            diag(expired(healthy("q.example", "192.0.2.16"), 80)),
            diag(healthy("fine.example", "192.0.2.17")),
        ];
        reports[0].record.target.site = Some("<i>x</i>".into());
        let html = render(&reports, &summary(9), &[]);
        let causes =
            &html[html.find("id=\"h-causes\"").unwrap()..html.find("id=\"h-horizon\"").unwrap()];
        let filtered_at = causes.find("port-filtered").unwrap();
        let nx_at = causes.find("dns-nxdomain").unwrap();
        assert!(filtered_at < nx_at, "most hosts first");
        // Two hosts (dual.example counted once), with the remedy alongside.
        assert!(causes.contains("<span class=\"cnt\">2</span>"));
        assert!(causes.contains(&esc(FindingCode::PortFiltered.remedy())));
        // Warnings follow in their own list, after every failure.
        let warn_at = causes.find("cert-expired").unwrap();
        assert!(warn_at > nx_at);
        let tiles = &html[html.find("class=\"tiles\"").unwrap()..];
        for (key, n) in [("expired", 1), ("7", 1), ("30", 2), ("90", 3)] {
            assert!(
                tiles.contains(&format!("data-exp=\"{key}\" title=\"Show these endpoints in the matrix\"><span class=\"num\">{n}</span>")),
                "{key} != {n}"
            );
        }
        // Severity cards count rows.
        assert!(html.contains("data-sev=\"fail\" title=\"Show only fail rows\"><span class=\"ic\" aria-hidden=\"true\">✖</span><span class=\"num\">4</span>"));
        assert!(html.contains("<dd>2026-05-04 02:00:00 UTC</dd>"));
        assert!(html.contains("<dd>4 min 12 s</dd>"));
        assert!(!html.contains("<i>x</i>"));
    }

    #[test]
    fn sink_publishes_at_finish_and_adds_gone_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.html");
        let old = vec![
            diag(healthy("kept.example", "192.0.2.1")),
            diag(healthy("removed.example", "192.0.2.2")),
        ];
        let base = Arc::new(Baseline::from_reports(old));
        let mut sink: Box<dyn Sink> = Box::new(
            HtmlSink::create(&Output::File(path.clone()), &[])
                .unwrap()
                .with_baseline(base),
        );
        sink.write(&diag(filtered(healthy("kept.example", "192.0.2.1"))))
            .unwrap();
        assert!(!path.exists());
        sink.finish(&summary(1)).unwrap();
        let html = std::fs::read_to_string(&path).unwrap();
        let doc = island(&html);
        let rows = doc["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["ch"], "new");
        assert_eq!(rows[0]["fs"], NOW);
        assert_eq!(rows[1]["ch"], "gone");
        assert_eq!(rows[1]["g"], 1);
        assert_eq!(doc["baseline"], true);
        assert!(html.contains("<th scope=\"col\" data-col=\"change\">"));
        // Gone rows are not counted as scanned.
        assert!(html.contains("<dt>Rows</dt><dd>1 "));
    }

    #[test]
    fn mismatched_change_list_does_not_panic() {
        let reports = vec![
            diag(healthy("a.example", "192.0.2.1")),
            diag(healthy("b.example", "192.0.2.2")),
        ];
        let changes = vec![(Change::Fixed, None)];
        let doc = island(&render_with_changes(
            &reports,
            Some(&changes),
            &summary(2),
            &[],
        ));
        assert_eq!(doc["rows"][0]["ch"], "fixed");
        assert_eq!(doc["rows"][1]["ch"], "unchanged");
    }

    #[test]
    fn oversized_server_text_is_clipped() {
        let mut r = healthy("big.example", "192.0.2.1");
        if let Some(c) = r.cert.as_mut() {
            c.subject = "A".repeat(1_000_000);
        }
        let html = render(&[diag(r)], &summary(1), &[]);
        assert!(html.len() < 200_000, "{} bytes", html.len());
    }

    #[test]
    fn empty_scan_renders() {
        let html = render(&[], &Summary::default(), &[]);
        let doc = island(&html);
        assert_eq!(doc["rows"].as_array().unwrap().len(), 0);
        assert!(html.contains("<dd>—</dd>"));
        assert!(html.contains("No host has a finding that makes mstsc fail."));
    }

    #[test]
    fn number_and_time_formats() {
        assert_eq!(fmt_n(0), "0");
        assert_eq!(fmt_n(999), "999");
        assert_eq!(fmt_n(20_000), "20,000");
        assert_eq!(fmt_n(1_234_567), "1,234,567");
        assert_eq!(human_duration(0.42), "0.4 s");
        assert_eq!(human_duration(3_725.0), "1 h 02 min");
        assert_eq!(human_duration(f64::NAN), "—");
        assert_eq!(short_time("2026-05-04T02:00:09+02:00"), "2026-05-04 00:00");
        assert_eq!(short_time("yesterday"), "yesterday");
        assert_eq!(started_label(""), "—");
    }
}
