use std::net::IpAddr;
use std::sync::Arc;

use super::page::{CSS, JS, b64, csp_hash, fmt_n, human_duration, short_time, started_label};
use super::*;
use crate::diagnose::{Policy, report};
use crate::engine::RowWriter;
use crate::model::*;
use crate::rdp::x224::Protocols;
use crate::report::baseline::Baseline;

const NOW: &str = "2026-05-04T02:00:00Z";
const NOW_UNIX: i64 = 1_777_860_000;
const DAY: i64 = 86_400;

/// The header's tallies against a per-host reference, and the spilled page.
mod flat;

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
            ..Default::default()
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
            icmp: None,
            alive: None,
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
            suites: Vec::new(),
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
        profile_hellos: Vec::new(),
        net: None,
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
        icmp: None,
        alive: None,
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
    assert!(
        html.contains(
            "<th scope=\"col\" data-col=\"x0\"><button type=\"button\" class=\"sort\">rack"
        )
    );
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
fn style_and_script_files_cannot_close_their_element() {
    // They are inlined verbatim: a closing tag inside would end the element early.
    assert!(!CSS.to_ascii_lowercase().contains("</style"));
    assert!(!JS.to_ascii_lowercase().contains("</script"));
    assert!(!JS.contains("<!--"));
    // The files are the whole text (not an empty include).
    assert!(CSS.contains("@media print") && JS.contains("'use strict'"));
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
    // One host with two addresses (both in each row's DNS answer), both filtered: one host
    // hit, two rows.
    let dual = |addr: &str| {
        let mut r = filtered(healthy("dual.example", addr));
        r.dns.addresses = vec![
            "192.0.2.10".parse().unwrap(),
            "2001:db8::10".parse().unwrap(),
        ];
        diag(r)
    };
    let mut reports = vec![
        dual("192.0.2.10"),
        dual("2001:db8::10"),
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
    // The cards count hosts by verdict: dual.example's two failing rows are one host, and a
    // host whose verdict is ok is healthy whatever its info notes.
    let card = |sevs: &str, name: &str, n: u64| {
        format!(
            "data-sev=\"{sevs}\" title=\"Show only the rows of {name} hosts\"><span class=\"ic\" aria-hidden=\"true\">{}</span><span class=\"num\">{n}</span>",
            match name {
                "fail" => "✖",
                "warn" => "⚠",
                _ => "✓",
            }
        )
    };
    assert!(html.contains(&card("fail", "fail", 3)), "fail card");
    assert!(html.contains(&card("warn", "warn", 3)), "warn card");
    assert!(html.contains(&card("ok,info", "ok", 2)), "healthy card");
    assert!(!html.contains("data-sev=\"info\""));
    assert!(html.contains("<dd>2026-05-04 02:00:00 UTC</dd>"));
    assert!(html.contains("<dd>4 min 12 s</dd>"));
    assert!(!html.contains("<i>x</i>"));
}

#[test]
fn sink_publishes_at_finish_and_shows_the_writers_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.html");
    let old = vec![
        diag(healthy("kept.example", "192.0.2.1")),
        diag(healthy("removed.example", "192.0.2.2")),
    ];
    // The real path: the writer diffs against the baseline and adds the gone rows.
    let base = Arc::new(Baseline::from_reports(old));
    let sink = HtmlSink::create(&Output::File(path.clone()), &[]).unwrap();
    let mut w = RowWriter::new(vec![Box::new(sink)], Some(base));
    w.write(diag(filtered(healthy("kept.example", "192.0.2.1"))));
    assert!(!path.exists());
    let stats = w.finish(summary(1));
    assert_eq!(stats.error, None);
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
fn rows_without_a_change_stay_unmarked() {
    let mut fixed = diag(healthy("a.example", "192.0.2.1"));
    fixed.change = Some(Change::Fixed);
    let plain = diag(healthy("b.example", "192.0.2.2"));
    let doc = island(&render(&[fixed, plain], &summary(2), &[]));
    assert_eq!(doc["baseline"], true);
    assert_eq!(doc["rows"][0]["ch"], "fixed");
    assert!(doc["rows"][1].get("ch").is_none());
    // Without any change the page has no Change column.
    let doc = island(&render(
        &[diag(healthy("b.example", "192.0.2.2"))],
        &summary(1),
        &[],
    ));
    assert_eq!(doc["baseline"], false);
    assert_ne!(doc["cols"][0]["id"], "change");
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

#[test]
fn client_verdicts_reach_the_details() {
    let mut r = tls10(healthy("old.example", "192.0.2.7"));
    if let Some(t) = r.tls.as_mut() {
        t.cipher = Some("TLS_RSA_WITH_AES_128_CBC_SHA".into());
    }
    let mut rep = diag(r);
    // A saved file may carry anything in a verdict: it stays data, never markup.
    let hostile = "</script><img src=x onerror=alert(1)>";
    rep.clients.push(crate::model::ClientVerdict {
        profile: "<b>odd</b>".into(),
        connects: crate::model::Connects::Unknown,
        reason: hostile.into(),
    });
    let html = render(&[rep], &summary(1), &[]);
    assert!(!html.contains(hostile) && !html.contains("<b>odd</b>"));
    let doc = island(&html);
    // The profile names travel once, in table order.
    assert_eq!(
        doc["clients"][0],
        serde_json::json!(["win11", "mstsc on Windows 11 24H2"])
    );
    assert_eq!(
        doc["clients"].as_array().map(Vec::len),
        Some(crate::clients::PROFILES.len())
    );
    let strings = doc["strings"].as_array().cloned().unwrap_or_default();
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::Number(n) => strings[n.as_u64().unwrap() as usize]
            .as_str()
            .unwrap()
            .to_string(),
        other => other.as_str().unwrap_or("").to_string(),
    };
    let k: Vec<(String, i64, String)> = doc["rows"][0]["k"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c[0].as_str().unwrap().to_string(),
                c[1].as_i64().unwrap(),
                text(&c[2]),
            )
        })
        .collect();
    let get = |id: &str| k.iter().find(|c| c.0 == id).cloned().unwrap();
    // Windows 11 fails on a TLS 1.0-only host (0 = no), Windows 7 connects (1 = yes).
    assert_eq!(get("win11").1, 0);
    assert!(
        get("win11").2.starts_with("TLS version: the server"),
        "{k:?}"
    );
    assert_eq!(get("win7").1, 1);
    assert!(get("win7").2.starts_with("TLS: TLSv1.0"), "{k:?}");
    assert_eq!(get("<b>odd</b>"), ("<b>odd</b>".into(), 2, hostile.into()));
    // The filter's select is in the toolbar; the script fills it.
    assert!(html.contains("<select id=\"f-client\">"));
}

#[test]
fn os_hint_and_enumerated_suites_reach_the_details() {
    let mut r = healthy("suites.example", "192.0.2.8");
    if let Some(t) = r.tls.as_mut() {
        t.suites = vec![crate::model::SuiteList {
            version: "TLSv1.2".into(),
            suites: vec![
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384".into(),
                "TLS_RSA_WITH_3DES_EDE_CBC_SHA".into(),
            ],
            weak: vec![
                "TLS_RSA_WITH_3DES_EDE_CBC_SHA".into(),
                "TLS_RSA_WITH_RC4_128_SHA".into(),
            ],
            server_order: Some(true),
            complete: false,
            error: Some("connection budget spent".into()),
        }];
    }
    let rep = diag(r);
    // The healthy host's flags (0x1F, HYBRID_EX selected) carry Remote Credential Guard.
    let hint = rep.record.rdp.as_ref().and_then(|x| x.os_hint.clone());
    assert_eq!(
        hint.as_deref(),
        Some("Windows 10 1607/Server 2016 or later")
    );
    let html = render(&[rep], &summary(1), &[]);
    assert!(
        html.contains("OS hint (from the flags, not proof)"),
        "label"
    );
    assert!(
        html.contains("Windows 10 1607/Server 2016 or later"),
        "hint"
    );
    assert!(html.contains("Suites TLSv1.2"), "per-version label");
    assert!(
        html.contains(
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_RSA_WITH_3DES_EDE_CBC_SHA (incomplete); \
             weak suites accepted: TLS_RSA_WITH_3DES_EDE_CBC_SHA, TLS_RSA_WITH_RC4_128_SHA"
        ),
        "suites in order, cut short"
    );
    assert!(html.contains("tls-weak-suites"), "the finding");
}
