//! Prometheus text exposition (format 0.0.4) for node_exporter's textfile collector.
//!
//! Families (all gauges; no sample timestamps, which the textfile collector rejects):
//!
//! | metric | labels | value |
//! |---|---|---|
//! | `rdpsweep_hosts` | `verdict` | rows (host x address) whose verdict is this code |
//! | `rdpsweep_hosts_by_severity` | `severity` (ok, info, warn, fail; all four always present) | rows at this worst severity |
//! | `rdpsweep_endpoints_by_status` | `status` (healthy, warn, fail; all three always present) | hosts (host, port) by verdict severity: the HTML header's and terminal's headline counts |
//! | `rdpsweep_scan_duration_seconds` | | wall time of the scan |
//! | `rdpsweep_last_run_timestamp_seconds` | | unix time the scan finished (start + duration) |
//! | `rdpsweep_scan_interrupted` | | 1 when the scan was cut short |
//! | `rdpsweep_certificates_expiring` | `within_days` ("7", "30") | endpoints whose certificate is valid now and expires within that many days |
//! | `rdpsweep_certificates_expired` | | endpoints presenting an expired certificate |
//! | `rdpsweep_certificate_expiry_timestamp_seconds` | `host`, `address`, `port` | the certificate's notAfter (unix) |
//! | `rdpsweep_host_up` | `host`, `address`, `port` | 1 when the TCP port was open |
//!
//! `address` is empty for rows without one (DNS failed). Each (host, address, port) series
//! appears once: a duplicate row would make the whole file invalid for Prometheus.
//! Certificate times are judged against each row's own `scanned_at`.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::io::{self, Write};

use super::headline::Headline;
use super::{Dest, Sink, Summary};
use crate::clock::unix_of;
use crate::model::{FindingCode, HostReport, Severity, TcpStatus};
use crate::report::Output;

/// What the metrics need from one row (the sink keeps only this).
#[derive(Debug, Clone)]
struct Row {
    host: String,
    address: String,
    port: u16,
    verdict: FindingCode,
    severity: Severity,
    up: bool,
    /// (notAfter, scanned_at), unix seconds.
    cert: Option<(i64, i64)>,
}

impl Row {
    fn of(r: &HostReport) -> Row {
        let rec = &r.record;
        Row {
            host: rec.target.host.clone(),
            address: rec.address.map(|a| a.to_string()).unwrap_or_default(),
            port: rec.target.port,
            verdict: r.verdict,
            severity: r.severity,
            up: matches!(&rec.tcp, Some(t) if t.status == TcpStatus::Open),
            cert: rec
                .cert
                .as_ref()
                .filter(|c| c.not_after_unix != 0)
                .map(|c| (c.not_after_unix, unix_of(&rec.scanned_at))),
        }
    }
}

/// Escape a label value: backslash, double quote and line feed (exposition format).
pub fn escape_label(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for ch in v.chars() {
        match ch {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

/// Prometheus float text: finite numbers as Rust prints them, else NaN / +Inf / -Inf.
fn num(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{v}")
    }
}

fn family(out: &mut String, name: &str, help: &str) {
    // HELP text escapes only backslash and line feed; ours has neither.
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
}

fn endpoint_labels(r: &Row) -> String {
    format!(
        "host=\"{}\",address=\"{}\",port=\"{}\"",
        escape_label(&r.host),
        escape_label(&r.address),
        r.port
    )
}

/// The whole exposition for one scan.
pub fn render_metrics(reports: &[HostReport], summary: &Summary) -> String {
    let rows: Vec<Row> = reports.iter().map(Row::of).collect();
    let mut headline = Headline::default();
    reports.iter().for_each(|r| headline.add(r));
    render_rows(&rows, &headline, summary)
}

fn render_rows(rows: &[Row], headline: &Headline, summary: &Summary) -> String {
    let mut out = String::with_capacity(512 + rows.len() * 160);

    let mut verdicts: BTreeMap<&str, u64> = BTreeMap::new();
    let mut severities = [0u64; 4];
    for r in rows {
        *verdicts.entry(r.verdict.as_str()).or_default() += 1;
        if let Some(n) = severities.get_mut(r.severity as usize) {
            *n += 1;
        }
    }
    family(
        &mut out,
        "rdpsweep_hosts",
        "Rows (host x address) of the last scan by verdict (primary finding code).",
    );
    for (v, n) in &verdicts {
        let _ = writeln!(out, "rdpsweep_hosts{{verdict=\"{}\"}} {n}", escape_label(v));
    }
    family(
        &mut out,
        "rdpsweep_hosts_by_severity",
        "Rows (host x address) of the last scan by worst finding severity.",
    );
    for s in [Severity::Ok, Severity::Info, Severity::Warn, Severity::Fail] {
        let n = severities.get(s as usize).copied().unwrap_or(0);
        let _ = writeln!(
            out,
            "rdpsweep_hosts_by_severity{{severity=\"{}\"}} {n}",
            s.as_str()
        );
    }

    // The same numbers as the HTML header and the terminal summary (see `headline`).
    family(
        &mut out,
        "rdpsweep_endpoints_by_status",
        "Hosts (host, port) of the last scan by verdict severity; a healthy host may carry info notes.",
    );
    let c = headline.counts();
    for (status, n) in [("healthy", c.healthy), ("warn", c.warn), ("fail", c.fail)] {
        let _ = writeln!(
            out,
            "rdpsweep_endpoints_by_status{{status=\"{status}\"}} {n}"
        );
    }

    family(
        &mut out,
        "rdpsweep_scan_duration_seconds",
        "Wall-clock duration of the last scan.",
    );
    let _ = writeln!(
        out,
        "rdpsweep_scan_duration_seconds {}",
        num(summary.duration_s)
    );
    family(
        &mut out,
        "rdpsweep_last_run_timestamp_seconds",
        "Unix time the last scan finished.",
    );
    let started = unix_of(&summary.started_at) as f64;
    let finished = if summary.duration_s.is_finite() && summary.duration_s > 0.0 {
        (started + summary.duration_s).floor()
    } else {
        started
    };
    let _ = writeln!(out, "rdpsweep_last_run_timestamp_seconds {}", num(finished));
    family(
        &mut out,
        "rdpsweep_scan_interrupted",
        "1 when the last scan was interrupted before every target was probed.",
    );
    let _ = writeln!(
        out,
        "rdpsweep_scan_interrupted {}",
        u8::from(summary.interrupted)
    );

    // Certificates: judged at each row's own scan time.
    let (mut within7, mut within30, mut expired) = (0u64, 0u64, 0u64);
    for (not_after, now) in rows.iter().filter_map(|r| r.cert) {
        let left = not_after.saturating_sub(now);
        if left < 0 {
            expired += 1;
        } else {
            if left <= 7 * 86_400 {
                within7 += 1;
            }
            if left <= 30 * 86_400 {
                within30 += 1;
            }
        }
    }
    family(
        &mut out,
        "rdpsweep_certificates_expiring",
        "Endpoints whose RDP certificate is still valid and expires within the given days.",
    );
    let _ = writeln!(
        out,
        "rdpsweep_certificates_expiring{{within_days=\"7\"}} {within7}"
    );
    let _ = writeln!(
        out,
        "rdpsweep_certificates_expiring{{within_days=\"30\"}} {within30}"
    );
    family(
        &mut out,
        "rdpsweep_certificates_expired",
        "Endpoints presenting an expired RDP certificate.",
    );
    let _ = writeln!(out, "rdpsweep_certificates_expired {expired}");

    // Per-endpoint series, each label set once.
    let mut seen: HashSet<(&str, &str, u16)> = HashSet::with_capacity(rows.len());
    let unique: Vec<&Row> = rows
        .iter()
        .filter(|r| seen.insert((r.host.as_str(), r.address.as_str(), r.port)))
        .collect();
    family(
        &mut out,
        "rdpsweep_certificate_expiry_timestamp_seconds",
        "notAfter of the RDP certificate (unix seconds).",
    );
    for r in &unique {
        if let Some((not_after, _)) = r.cert {
            let _ = writeln!(
                out,
                "rdpsweep_certificate_expiry_timestamp_seconds{{{}}} {not_after}",
                endpoint_labels(r)
            );
        }
    }
    family(
        &mut out,
        "rdpsweep_host_up",
        "1 when the RDP port accepted a TCP connection in the last scan, else 0.",
    );
    for r in &unique {
        let _ = writeln!(
            out,
            "rdpsweep_host_up{{{}}} {}",
            endpoint_labels(r),
            u8::from(r.up)
        );
    }
    out
}

/// Writes the exposition at finish (atomically when to a file, as the textfile collector needs),
/// or pushes it to a Pushgateway (`--metrics-push`).
pub struct MetricsSink {
    to: MetricsTo,
    rows: Vec<Row>,
    headline: Headline,
}

enum MetricsTo {
    Dest(Dest),
    Push(super::push::PushTarget),
}

impl MetricsSink {
    pub fn create(out: &Output) -> io::Result<MetricsSink> {
        Ok(MetricsSink {
            to: MetricsTo::Dest(Dest::open(out)?),
            rows: Vec::new(),
            headline: Headline::default(),
        })
    }

    /// A sink that pushes at finish: put it after the file sinks, so a failed push comes after
    /// the reports are published.
    pub fn push(target: super::push::PushTarget) -> MetricsSink {
        MetricsSink {
            to: MetricsTo::Push(target),
            rows: Vec::new(),
            headline: Headline::default(),
        }
    }
}

impl Sink for MetricsSink {
    fn write(&mut self, r: &HostReport) -> io::Result<()> {
        self.rows.push(Row::of(r));
        self.headline.add(r);
        Ok(())
    }

    fn finish(self: Box<Self>, summary: &Summary) -> io::Result<()> {
        let text = render_rows(&self.rows, &self.headline, summary);
        match self.to {
            MetricsTo::Dest(mut w) => {
                w.write_all(text.as_bytes())?;
                w.commit()
            }
            MetricsTo::Push(t) => t.push(&text).map_err(io::Error::other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;

    const NOW: &str = "2026-03-01T02:00:00Z";
    const NOW_UNIX: i64 = 1_772_330_400;

    fn rep(
        host: &str,
        addr: Option<&str>,
        tcp: Option<TcpStatus>,
        verdict: FindingCode,
        sev: Severity,
    ) -> HostReport {
        HostReport {
            record: ProbeRecord {
                address: addr.map(|a| a.parse().unwrap()),
                tcp: tcp.map(|status| TcpOutcome {
                    status,
                    rtt_ms: None,
                    error: None,
                    icmp: None,
                    alive: None,
                }),
                connections: 1,
                duration_ms: 1.0,
                ..ProbeRecord::new(
                    TargetInfo {
                        host: host.into(),
                        port: 3389,
                        ..Default::default()
                    },
                    DnsOutcome::status(DnsStatus::Resolved),
                    NOW.into(),
                )
            },
            verdict,
            severity: sev,
            findings: vec![],
            clients: Vec::new(),
            change: None,
            first_seen_failing: None,
            run: None,
        }
    }

    fn with_cert(mut r: HostReport, days: i64) -> HostReport {
        r.record.cert = Some(CertFacts {
            not_after_unix: NOW_UNIX + days * 86_400,
            ..Default::default()
        });
        r
    }

    fn fleet() -> Vec<HostReport> {
        vec![
            with_cert(
                rep(
                    "web01",
                    Some("192.0.2.1"),
                    Some(TcpStatus::Open),
                    FindingCode::Ok,
                    Severity::Ok,
                ),
                200,
            ),
            with_cert(
                rep(
                    "web02",
                    Some("192.0.2.2"),
                    Some(TcpStatus::Open),
                    FindingCode::CertExpiring,
                    Severity::Warn,
                ),
                5,
            ),
            with_cert(
                rep(
                    "web03",
                    Some("2001:db8::3"),
                    Some(TcpStatus::Open),
                    FindingCode::CertExpiring,
                    Severity::Warn,
                ),
                20,
            ),
            with_cert(
                rep(
                    "web04",
                    Some("192.0.2.4"),
                    Some(TcpStatus::Open),
                    FindingCode::CertExpired,
                    Severity::Warn,
                ),
                -3,
            ),
            rep(
                "db01",
                Some("192.0.2.5"),
                Some(TcpStatus::Filtered),
                FindingCode::PortFiltered,
                Severity::Fail,
            ),
            rep("gone", None, None, FindingCode::DnsNxdomain, Severity::Fail),
            // Hostile inventory text in a label value.
            rep(
                "we\"ird\\host\nx",
                Some("192.0.2.7"),
                Some(TcpStatus::Refused),
                FindingCode::PortClosed,
                Severity::Fail,
            ),
        ]
    }

    fn summary() -> Summary {
        Summary {
            started_at: NOW.into(),
            duration_s: 12.5,
            targets: 7,
            rows: 7,
            interrupted: false,
            verdicts: vec![],
        }
    }

    #[test]
    fn exposition_lines() {
        let text = render_metrics(&fleet(), &summary());
        let has = |l: &str| assert!(text.lines().any(|x| x == l), "missing {l:?} in\n{text}");
        has("# TYPE rdpsweep_hosts gauge");
        has("rdpsweep_hosts{verdict=\"cert-expiring\"} 2");
        has("rdpsweep_hosts{verdict=\"port-filtered\"} 1");
        has("rdpsweep_hosts_by_severity{severity=\"fail\"} 3");
        has("rdpsweep_hosts_by_severity{severity=\"info\"} 0");
        // Headline counts: hosts by verdict severity, the HTML header's numbers.
        let c = {
            let mut h = Headline::default();
            fleet().iter().for_each(|r| h.add(r));
            h.counts()
        };
        assert!(c.hosts > 0);
        has(&format!(
            "rdpsweep_endpoints_by_status{{status=\"fail\"}} {}",
            c.fail
        ));
        has(&format!(
            "rdpsweep_endpoints_by_status{{status=\"healthy\"}} {}",
            c.healthy
        ));
        has("rdpsweep_scan_duration_seconds 12.5");
        has(&format!(
            "rdpsweep_last_run_timestamp_seconds {}",
            NOW_UNIX + 12
        ));
        has("rdpsweep_certificates_expiring{within_days=\"7\"} 1");
        has("rdpsweep_certificates_expiring{within_days=\"30\"} 2");
        has("rdpsweep_certificates_expired 1");
        has(&format!(
            "rdpsweep_certificate_expiry_timestamp_seconds{{host=\"web02\",address=\"192.0.2.2\",port=\"3389\"}} {}",
            NOW_UNIX + 5 * 86_400
        ));
        has("rdpsweep_host_up{host=\"db01\",address=\"192.0.2.5\",port=\"3389\"} 0");
        has("rdpsweep_host_up{host=\"gone\",address=\"\",port=\"3389\"} 0");
        has("rdpsweep_host_up{host=\"web03\",address=\"2001:db8::3\",port=\"3389\"} 1");
        has(
            "rdpsweep_host_up{host=\"we\\\"ird\\\\host\\nx\",address=\"192.0.2.7\",port=\"3389\"} 0",
        );
        // No sample carries a timestamp (a third field): the textfile collector rejects them.
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let value = l.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "{l}");
        }
    }

    #[test]
    fn duplicate_endpoints_appear_once() {
        let mut f = fleet();
        f.push(f[0].clone());
        let text = render_metrics(&f, &summary());
        let n = text
            .lines()
            .filter(|l| l.starts_with("rdpsweep_host_up{host=\"web01\""))
            .count();
        assert_eq!(n, 1);
        // Counts still count rows.
        assert!(text.contains("rdpsweep_hosts{verdict=\"ok\"} 2\n"));
    }

    #[test]
    fn empty_scan_is_valid() {
        let text = render_metrics(&[], &Summary::default());
        assert!(text.contains("rdpsweep_hosts_by_severity{severity=\"ok\"} 0\n"));
        assert!(text.contains("rdpsweep_last_run_timestamp_seconds 0\n"));
        assert_eq!(num(f64::NAN), "NaN");
        assert_eq!(num(f64::INFINITY), "+Inf");
    }

    /// Parse the exposition with the Prometheus Python client's own parser
    /// (`prometheus_client.parser`), which checks escaping and structure independently of us.
    #[test]
    fn parses_with_prometheus_client() {
        let ci = std::env::var_os("CI").is_some();
        let probe = std::process::Command::new("python3")
            .args(["-c", "import prometheus_client.parser"])
            .output();
        if !matches!(&probe, Ok(o) if o.status.success()) {
            let msg = "python3 with prometheus_client is missing (pip install prometheus-client)";
            assert!(!ci, "{msg}");
            eprintln!("\n*** SKIPPED parses_with_prometheus_client: {msg} ***\n");
            return;
        }
        let text = render_metrics(&fleet(), &summary());
        let script = r#"
import sys, json
from prometheus_client.parser import text_string_to_metric_families
out = []
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        out.append([fam.name, fam.type, s.name, s.labels, s.value])
print(json.dumps(out))
"#;
        let mut child = std::process::Command::new("python3")
            .args(["-c", script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "parser rejected:\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // (family, type, sample name, labels, value)
        type Sample = (String, String, String, BTreeMap<String, String>, f64);
        let samples: Vec<Sample> = serde_json::from_slice(&out.stdout).unwrap();
        let find = |name: &str, labels: &[(&str, &str)]| -> Option<f64> {
            samples
                .iter()
                .find(|s| {
                    s.2 == name
                        && labels.len() == s.3.len()
                        && labels
                            .iter()
                            .all(|(k, v)| s.3.get(*k).map(String::as_str) == Some(*v))
                })
                .map(|s| s.4)
        };
        assert!(samples.iter().all(|s| s.1 == "gauge"));
        assert_eq!(
            find("rdpsweep_hosts", &[("verdict", "cert-expiring")]),
            Some(2.0)
        );
        assert_eq!(
            find("rdpsweep_hosts_by_severity", &[("severity", "warn")]),
            Some(3.0)
        );
        assert_eq!(find("rdpsweep_scan_duration_seconds", &[]), Some(12.5));
        assert_eq!(
            find("rdpsweep_certificates_expiring", &[("within_days", "30")]),
            Some(2.0)
        );
        // The escaped host comes back byte for byte.
        assert_eq!(
            find(
                "rdpsweep_host_up",
                &[
                    ("host", "we\"ird\\host\nx"),
                    ("address", "192.0.2.7"),
                    ("port", "3389")
                ]
            ),
            Some(0.0)
        );
        assert_eq!(
            find(
                "rdpsweep_certificate_expiry_timestamp_seconds",
                &[
                    ("host", "web04"),
                    ("address", "192.0.2.4"),
                    ("port", "3389")
                ]
            ),
            Some((NOW_UNIX - 3 * 86_400) as f64)
        );
        // Every row has a host_up series (7 rows, 7 distinct endpoints).
        assert_eq!(
            samples.iter().filter(|s| s.2 == "rdpsweep_host_up").count(),
            7
        );
    }

    #[test]
    fn sink_writes_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rdpsweep.prom");
        let mut s: Box<dyn Sink> =
            Box::new(MetricsSink::create(&Output::File(path.clone())).unwrap());
        for r in fleet() {
            s.write(&r).unwrap();
        }
        assert!(!path.exists());
        s.finish(&summary()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, render_metrics(&fleet(), &summary()));
    }
}
