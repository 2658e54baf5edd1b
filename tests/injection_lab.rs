//! Injection, end to end: the real binary scans lab hosts whose certificate subject is
//! `<script>alert(1)</script>` and whose NTLM names carry script and spreadsheet formulas, with an
//! inventory row carrying `"><img src=x onerror=alert(1)>`. The HTML report is opened in headless
//! Chromium (no script may run, the text must show literally) and the CSV is checked for the
//! formula guard.

#[path = "support/chromium.rs"]
mod chromium;

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::process::Command;
use std::time::Duration;

use chromium::{Browser, file_url};
use rdpsweep::lab::{Behavior, CertKind, Lab, LabConfig, NtlmNames, RdpHost, RdpPolicy};

const BIN: &str = env!("CARGO_BIN_EXE_rdpsweep");
/// The certificate's CN is `<script>alert(1)</script>`; RFC 4514 writes it with `\<` and `\>`.
const SUBJECT_CN: &str = r"\<script\>alert(1)\</script\>";
const NTLM_NAME: &str = "</script><script>alert(2)</script>";
const NTLM_FORMULA: &str = "=HYPERLINK(\"http://x\",\"y\")";
const INVENTORY_VALUE: &str = "\"><img src=x onerror=alert(1)>";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_server_and_inventory_text_stays_text() {
    let Some(exe) = chromium::require("hostile_server_and_inventory_text_stays_text") else {
        return;
    };
    let evil = RdpHost {
        names: NtlmNames {
            nb_computer: Some(NTLM_NAME.into()),
            nb_domain: Some(NTLM_FORMULA.into()),
            ..Default::default()
        },
        ..RdpHost::new(RdpPolicy::WindowsNla).cert(CertKind::HostileSubject)
    };
    let hosts = vec![(Some("evil"), Behavior::Rdp(evil), "hostile names")];
    let lab = Lab::start(
        LabConfig {
            base: Ipv4Addr::new(127, 77, 140, 1),
            port: 3389,
            dns: false,
        },
        hosts,
    )
    .await
    .expect("lab");
    let ip = lab.hosts[0].addr;
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.csv");
    let mut w = csv::Writer::from_path(&inv).unwrap();
    w.write_record(["host", "owner", "rack"]).unwrap();
    w.write_record([ip.to_string().as_str(), INVENTORY_VALUE, "-1+2"])
        .unwrap();
    w.flush().unwrap();
    let html = dir.path().join("r.html");
    let csv_path = dir.path().join("r.csv");
    let args: Vec<String> = [
        "scan",
        "-i",
        inv.to_str().unwrap(),
        "--rate",
        "0",
        "--html",
        html.to_str().unwrap(),
        "--csv",
        csv_path.to_str().unwrap(),
        "--fail-on",
        "never",
        "-q",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let out = tokio::task::spawn_blocking(move || Command::new(BIN).args(&args).output().unwrap())
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    lab.shutdown().await;

    // The scanner really saw the hostile values.
    let mut r = csv::Reader::from_path(&csv_path).unwrap();
    let h = r.headers().unwrap().clone();
    let row: HashMap<String, String> = h
        .iter()
        .map(str::to_string)
        .zip(
            r.records()
                .next()
                .unwrap()
                .unwrap()
                .iter()
                .map(str::to_string),
        )
        .collect();
    assert!(row["cert_subject"].contains(SUBJECT_CN), "{row:?}");
    assert_eq!(row["ntlm_nb_computer"], NTLM_NAME);
    // Spreadsheet guard: server-controlled formula neutralised; inventory text too.
    assert_eq!(row["ntlm_nb_domain"], format!("'{NTLM_FORMULA}"));
    assert_eq!(row["rack"], "'-1+2");
    assert_eq!(row["owner"], INVENTORY_VALUE);

    let page = std::fs::read_to_string(&html).unwrap();
    for bad in ["<script>alert", "</script><script>", "<img src=x"] {
        assert!(!page.contains(bad), "raw {bad:?} in the page");
    }

    let mut b = Browser::launch(&exe, 1400, 900).unwrap();
    let s = b.new_page(1400, 900).unwrap();
    b.call(
        Some(&s),
        "Page.addScriptToEvaluateOnNewDocument",
        serde_json::json!({"source": "window.__pwned = []; \
            for (const k of ['alert', 'confirm', 'prompt']) window[k] = (m) => { window.__pwned.push(k + ':' + m); };"}),
    )
    .unwrap();
    // Without the page's CSP: escaping alone must hold.
    b.call(
        Some(&s),
        "Page.setBypassCSP",
        serde_json::json!({"enabled": true}),
    )
    .unwrap();
    b.goto(&s, &file_url(&html)).unwrap();
    b.wait_for(
        &s,
        "document.documentElement.dataset.ready === '1'",
        Duration::from_secs(60),
    )
    .unwrap();
    assert_eq!(b.eval(&s, "window.__pwned").unwrap(), serde_json::json!([]));
    assert!(b.dialogs(&s).is_empty());
    assert_eq!(b.eval(&s, "document.images.length").unwrap(), 0);
    assert_eq!(
        b.eval(&s, "document.querySelectorAll('[onerror]').length")
            .unwrap(),
        0
    );
    // Expand the row: the subject and NTLM name appear as literal text.
    b.eval(
        &s,
        "document.querySelector('#rows tr.r button.x').click(); true",
    )
    .unwrap();
    let text = b.eval(&s, "document.body.textContent").unwrap();
    let text = text.as_str().unwrap();
    assert!(text.contains(SUBJECT_CN), "subject shown literally");
    assert!(text.contains(NTLM_NAME), "NTLM name shown literally");
    assert!(
        text.contains(INVENTORY_VALUE),
        "inventory value shown literally"
    );
    assert!(
        b.errors(&s).is_empty(),
        "console errors: {:?}",
        b.errors(&s)
    );
}
