//! CSV sink: one row per target x address, columns in a stable documented order.
//!
//! Column order (README "CSV columns" documents each): the foundation's, then RDP/TLS/cert,
//! then NLA, then baseline, then the inventory's own columns (`owner` and pass-through extras).
//! Server-controlled and inventory text goes through `spreadsheet_safe`; numeric cells stay numeric.
//! `csv_cell` quotes a cell wherever `,`, `;` or tab could split it, whichever a spreadsheet uses.

use std::io;

use super::{Dest, Sink, Summary, csv_cell};
use crate::model::{HostReport, layer_label};
use crate::rdp::mcs::{encryption_level_name, encryption_method_name, rdp_version_name};
use crate::rdp::x224::{FailureCode, NegRspFlags, neg_flag_names};
use crate::report::Output;

pub const COLUMNS: &[&str] = &[
    "host",
    "port",
    "address",
    "site",
    "verdict",
    "severity",
    "findings",
    "remedy",
    "dns_status",
    "tcp_status",
    "rtt_ms",
    "srtt_ms",
    "rtt_var_ms",
    "retransmits",
    "handshake_ms",
    "error",
    "icmp_from",
    "alive",
    "udp",
    "scanned_at",
    "rdp_accepted",
    "rdp_required",
    "neg_failure",
    "neg_flags",
    "os_hint",
    "rdp_version",
    "rdp_encryption",
    "tls_version",
    "tls_cipher",
    "clients_failing",
    "cert_subject",
    "cert_issuer",
    "cert_sans",
    "cert_not_before",
    "cert_not_after",
    "cert_days_left",
    "cert_self_signed",
    "cert_name_match",
    "cert_trusted",
    "cert_key",
    "cert_sig_alg",
    "cert_sha1",
    "cert_sha256",
    "cert_eku",
    "cert_key_usage",
    "cert_template",
    "cert_revocation",
    "connections",
    "credssp_version",
    "credssp_error",
    "ntlm_target",
    "ntlm_nb_computer",
    "ntlm_nb_domain",
    "ntlm_dns_computer",
    "ntlm_dns_domain",
    "ntlm_dns_tree",
    "os_version",
    "os_name",
    "clock_skew_s",
    "change",
    "first_seen_failing",
    "owner",
];

/// Kept here for the report's other writers; the one implementation is in `clock`.
pub use crate::clock::unix_of;

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(|x| x.to_string()).unwrap_or_default()
}

fn yes_no(b: bool) -> String {
    if b { "yes".into() } else { "no".into() }
}

/// The `udp` column: the RDP-UDP probe's status, `not-probed` when it did not run.
fn udp_cell(net: Option<&crate::model::NetFacts>) -> &'static str {
    net.and_then(|n| n.udp.as_ref())
        .map(|u| u.status.as_str())
        .unwrap_or("not-probed")
}

/// The first error text along the path, for the `error` column.
fn first_error(r: &HostReport) -> String {
    let rec = &r.record;
    if let Some(e) = &rec.dns.error {
        return e.clone();
    }
    if let Some(e) = rec.tcp.as_ref().and_then(|t| t.error.clone()) {
        return e;
    }
    // A legacy server's handshake worked through the fallback: why rustls refused is not an error.
    let tls_failed = rec.tls.as_ref().filter(|t| {
        !matches!(
            t.status,
            crate::model::TlsStatus::Ok | crate::model::TlsStatus::LegacyHello
        )
    });
    if let Some(e) = tls_failed.and_then(|t| t.error.clone()) {
        return e;
    }
    if let Some(e) = rec.credssp.as_ref().and_then(|c| c.error.clone()) {
        return e;
    }
    match r.findings.first() {
        Some(f) if f.severity >= crate::model::Severity::Warn => f.detail.clone(),
        _ => String::new(),
    }
}

/// One CSV row as (cell, is_text) pairs; text cells get the spreadsheet guard when written.
pub fn row(r: &HostReport, extras: &[String]) -> Vec<(String, bool)> {
    let rec = &r.record;
    let t = &rec.target;
    let now = unix_of(&rec.scanned_at);
    let mut v: Vec<(String, bool)> = Vec::with_capacity(COLUMNS.len() + extras.len());
    let mut text = |s: String| v.push((s, true));
    text(t.host.clone());
    v.push((t.port.to_string(), false));
    v.push((opt(&rec.address), true));
    v.push((t.site.clone().unwrap_or_default(), true));
    v.push((r.verdict.to_string(), true));
    v.push((r.severity.as_str().into(), true));
    v.push((
        r.findings
            .iter()
            .map(|f| f.code.as_str())
            .collect::<Vec<_>>()
            .join(";"),
        true,
    ));
    v.push((
        r.findings
            .first()
            .map(|f| f.remedy.clone())
            .unwrap_or_default(),
        true,
    ));
    v.push((rec.dns.status.as_str().into(), true));
    v.push((
        rec.tcp
            .as_ref()
            .map(|t| t.status.as_str().to_string())
            .unwrap_or_default(),
        true,
    ));
    v.push((
        rec.tcp
            .as_ref()
            .and_then(|t| t.rtt_ms)
            .map(|ms| format!("{ms:.2}"))
            .unwrap_or_default(),
        false,
    ));
    // Path: what the kernel measured (TCP_INFO) and the TLS handshake's time.
    let net = rec.net.as_ref();
    let ms = |v: Option<f64>| v.map(|ms| format!("{ms:.2}")).unwrap_or_default();
    v.push((ms(net.and_then(|n| n.srtt_ms)), false));
    v.push((ms(net.and_then(|n| n.rtt_var_ms)), false));
    v.push((
        net.map(|n| n.retransmits.to_string()).unwrap_or_default(),
        false,
    ));
    v.push((ms(net.and_then(|n| n.handshake_ms)), false));
    v.push((first_error(r), true));
    let tcp = rec.tcp.as_ref();
    v.push((opt(&tcp.and_then(|t| t.icmp).and_then(|i| i.from)), true));
    v.push((
        tcp.and_then(|t| t.alive.as_ref())
            .map(|a| a.summary())
            .unwrap_or_default(),
        true,
    ));
    v.push((udp_cell(rec.net.as_ref()).into(), true));
    v.push((rec.scanned_at.clone(), true));
    // RDP
    let rdp = rec.rdp.as_ref();
    v.push((
        rdp.map(|x| x.accepted_names().join("|"))
            .unwrap_or_default(),
        true,
    ));
    v.push((
        rdp.and_then(|x| x.required)
            .map(|l| layer_label(l).to_string())
            .unwrap_or_default(),
        true,
    ));
    v.push((
        rdp.map(|x| {
            x.failures
                .iter()
                .map(|c| failure_label(*c))
                .collect::<Vec<_>>()
                .join("|")
        })
        .unwrap_or_default(),
        true,
    ));
    v.push((
        rdp.filter(|x| x.flags != 0)
            .map(|x| neg_flags_label(x.flags))
            .unwrap_or_default(),
        true,
    ));
    v.push((
        rdp.and_then(|x| x.os_hint.clone()).unwrap_or_default(),
        true,
    ));
    v.push((
        rdp.and_then(|x| x.version)
            .map(rdp_version_label)
            .unwrap_or_default(),
        true,
    ));
    v.push((
        rdp.filter(|x| x.encryption_level.is_some() || !x.encryption_methods.is_empty())
            .map(|x| encryption_label(x.encryption_level, &x.encryption_methods))
            .unwrap_or_default(),
        true,
    ));
    // TLS
    let tls = rec.tls.as_ref();
    v.push((
        tls.and_then(|x| x.version.clone()).unwrap_or_default(),
        true,
    ));
    v.push((tls.and_then(|x| x.cipher.clone()).unwrap_or_default(), true));
    v.push((crate::clients::failing(&r.clients), true));
    // Certificate
    let c = rec.cert.as_ref();
    v.push((c.map(|c| c.subject.clone()).unwrap_or_default(), true));
    v.push((c.map(|c| c.issuer.clone()).unwrap_or_default(), true));
    v.push((c.map(|c| c.sans.join(" ")).unwrap_or_default(), true));
    v.push((c.map(|c| c.not_before.clone()).unwrap_or_default(), true));
    v.push((c.map(|c| c.not_after.clone()).unwrap_or_default(), true));
    v.push((
        c.filter(|c| c.not_after_unix != 0)
            .map(|c| crate::diagnose::days_left(c, now).to_string())
            .unwrap_or_default(),
        false,
    ));
    v.push((c.map(|c| yes_no(c.self_signed)).unwrap_or_default(), true));
    v.push((
        c.and_then(|c| c.name_match).map(yes_no).unwrap_or_default(),
        true,
    ));
    v.push((c.map(|c| yes_no(c.trusted)).unwrap_or_default(), true));
    v.push((c.map(|c| c.key.clone()).unwrap_or_default(), true));
    v.push((c.map(|c| c.sig_alg.clone()).unwrap_or_default(), true));
    v.push((c.map(|c| c.sha1.clone()).unwrap_or_default(), true));
    v.push((c.map(|c| c.sha256.clone()).unwrap_or_default(), true));
    // EKU: names with OIDs; "any" when there is no EKU extension, empty without a certificate.
    let eku = |c: &crate::model::CertFacts| match &c.eku {
        None => "any".to_string(),
        Some(list) => list
            .iter()
            .map(|o| crate::cert::eku_display(o))
            .collect::<Vec<_>>()
            .join(" "),
    };
    v.push((c.map(eku).unwrap_or_default(), true));
    v.push((c.map(|c| c.key_usage.join(" ")).unwrap_or_default(), true));
    v.push((c.and_then(|c| c.template.clone()).unwrap_or_default(), true));
    // Empty when --check-revocation was off.
    let revocation = c.and_then(|c| c.revocation.as_ref());
    v.push((
        revocation
            .map(|r| r.status.as_str())
            .unwrap_or_default()
            .into(),
        true,
    ));
    v.push((rec.connections.to_string(), false));
    // NLA / CredSSP
    let cs = rec.credssp.as_ref();
    v.push((
        cs.and_then(|c| c.version)
            .map(|x| x.to_string())
            .unwrap_or_default(),
        false,
    ));
    v.push((
        cs.and_then(|c| c.error_code)
            .map(|x| format!("0x{x:08X}"))
            .unwrap_or_default(),
        true,
    ));
    let n = cs.and_then(|c| c.ntlm.as_ref());
    v.push((
        n.and_then(|n| n.target_name.clone()).unwrap_or_default(),
        true,
    ));
    v.push((
        n.and_then(|n| n.nb_computer.clone()).unwrap_or_default(),
        true,
    ));
    v.push((
        n.and_then(|n| n.nb_domain.clone()).unwrap_or_default(),
        true,
    ));
    v.push((
        n.and_then(|n| n.dns_computer.clone()).unwrap_or_default(),
        true,
    ));
    v.push((
        n.and_then(|n| n.dns_domain.clone()).unwrap_or_default(),
        true,
    ));
    v.push((n.and_then(|n| n.dns_tree.clone()).unwrap_or_default(), true));
    v.push((
        n.and_then(|n| n.os_version.clone()).unwrap_or_default(),
        true,
    ));
    v.push((n.and_then(|n| n.os_name.clone()).unwrap_or_default(), true));
    v.push((
        n.and_then(|n| n.clock_skew_s)
            .map(|s| s.to_string())
            .unwrap_or_default(),
        false,
    ));
    v.push((
        r.change.map(|c| c.as_str().to_string()).unwrap_or_default(),
        true,
    ));
    v.push((r.first_seen_failing.clone().unwrap_or_default(), true));
    v.push((t.owner.clone().unwrap_or_default(), true));
    for name in extras {
        let val = t
            .extra
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        v.push((val, true));
    }
    v
}

/// `3:SSL_CERT_NOT_ON_SERVER`; a code the spec does not define stays a bare number.
pub fn failure_label(code: u32) -> String {
    match FailureCode(code).name() {
        Some(name) => format!("{code}:{name}"),
        None => code.to_string(),
    }
}

/// The RDP_NEG_RSP flags by name, then any bit the codec does not know in hex.
pub fn neg_flags_label(flags: u8) -> String {
    let mut v: Vec<String> = neg_flag_names(flags)
        .into_iter()
        .map(str::to_string)
        .collect();
    let unknown = flags & !NegRspFlags::all().bits();
    if unknown != 0 {
        v.push(format!("0x{unknown:02X}"));
    }
    v.join("|")
}

/// `RDP 10.7` from the SC_CORE version; a value no release uses in hex.
pub fn rdp_version_label(v: u32) -> String {
    match rdp_version_name(v) {
        Some(name) => format!("RDP {name}"),
        None => format!("0x{v:08X}"),
    }
}

/// `HIGH:128BIT` (level, then the methods offered); unknown values as numbers.
pub fn encryption_label(level: Option<u32>, methods: &[u32]) -> String {
    let lvl = level.map(|l| match encryption_level_name(l) {
        Some(name) => name.to_string(),
        None => l.to_string(),
    });
    let m: Vec<String> = methods
        .iter()
        .map(|m| match encryption_method_name(*m) {
            Some(name) => name.to_string(),
            None => format!("0x{m:X}"),
        })
        .collect();
    match lvl {
        Some(l) if m.is_empty() => l,
        Some(l) => format!("{l}:{}", m.join("|")),
        None => m.join("|"),
    }
}

/// How the CSV is laid out. The cells (guard, quoting) are the same in every format: `csv_cell`
/// quotes any cell holding `,`, `;` or tab, so every delimiter is safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvFormat {
    /// UTF-8 byte-order mark and CRLF line ends (`--csv-dialect excel`): Excel opened by
    /// double-click reads the file as UTF-8 only with the mark.
    pub excel: bool,
    pub delimiter: u8,
}

impl Default for CsvFormat {
    fn default() -> CsvFormat {
        CsvFormat {
            excel: false,
            delimiter: b',',
        }
    }
}

impl CsvFormat {
    pub fn parse(dialect: &str, delimiter: &str) -> Result<CsvFormat, String> {
        let excel = match dialect.trim().to_ascii_lowercase().as_str() {
            "plain" | "" => false,
            "excel" => true,
            other => return Err(format!("--csv-dialect {other:?}: expected plain or excel")),
        };
        let delimiter = match delimiter {
            "," | "" => b',',
            ";" => b';',
            "tab" | "\\t" | "\t" => b'\t',
            other => {
                return Err(format!(
                    "--csv-delimiter {other:?}: expected ',', ';' or tab"
                ));
            }
        };
        Ok(CsvFormat { excel, delimiter })
    }
}

/// The UTF-8 byte-order mark the excel dialect starts with.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

pub struct CsvSink {
    w: ::csv::Writer<Dest>,
    extras: Vec<String>,
}

impl CsvSink {
    pub fn create(out: &Output, extras: &[String]) -> io::Result<CsvSink> {
        CsvSink::create_with(out, extras, CsvFormat::default())
    }

    pub fn create_with(out: &Output, extras: &[String], fmt: CsvFormat) -> io::Result<CsvSink> {
        let mut dest = Dest::open(out)?;
        if fmt.excel {
            io::Write::write_all(&mut dest, BOM)?;
        }
        let term = if fmt.excel {
            ::csv::Terminator::CRLF
        } else {
            ::csv::Terminator::Any(b'\n')
        };
        // Cells arrive quoted by `csv_cell`, which also quotes `;` and tab.
        let mut w = ::csv::WriterBuilder::new()
            .quote_style(::csv::QuoteStyle::Never)
            .delimiter(fmt.delimiter)
            .terminator(term)
            .from_writer(dest);
        let mut header: Vec<String> = COLUMNS.iter().map(|s| s.to_string()).collect();
        for e in extras {
            // An inventory column that collides with ours keeps its data under a distinct name.
            if COLUMNS.contains(&e.as_str()) {
                header.push(format!("inventory_{e}"));
            } else {
                header.push(e.clone());
            }
        }
        w.write_record(header.iter().map(|h| csv_cell(h, true).into_owned()))?;
        Ok(CsvSink {
            w,
            extras: extras.to_vec(),
        })
    }
}

impl Sink for CsvSink {
    fn write(&mut self, r: &HostReport) -> io::Result<()> {
        // Field by field, borrowing: no second copy of every cell per row.
        for (s, text) in row(r, &self.extras) {
            self.w.write_field(csv_cell(&s, text).as_bytes())?;
        }
        self.w.write_record(None::<&[u8]>)?;
        Ok(())
    }

    fn finish(self: Box<Self>, _summary: &Summary) -> io::Result<()> {
        let dest = self
            .w
            .into_inner()
            .map_err(|e| io::Error::other(e.to_string()))?;
        dest.commit()
    }
}
