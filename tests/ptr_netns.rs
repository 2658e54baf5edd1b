//! Stale reverse DNS on IP rows (issue 15 item 6), end to end through a REAL dnsmasq.
//!
//! hickory answers PTR queries for 127/8 itself (`localhost`, RFC 6761) and never asks a server,
//! so the scanned addresses here are not on 127/8: the test makes its own network namespace with
//! 10.213.0.1-3 on its loopback, translated (nft DNAT, locally generated traffic only) to the
//! lab's 127.213.0.1-3 (the lab serves loopback only), and runs the lab (`rdpsweep lab`),
//! dnsmasq and the scanner inside it. The namespace, and every process in it, is removed on
//! drop (also on failure). Nothing leaves the namespace.

#[path = "support/dnsmasq.rs"]
mod dnsmasq;

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_rdpsweep");
const HOSTS: [&str; 3] = ["10.213.0.1", "10.213.0.2", "10.213.0.3"];

/// The namespace and the servers in it; killed and deleted on drop.
struct Ns {
    name: String,
    children: Vec<Child>,
}

impl Ns {
    fn exec(&self, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).args(args);
        c
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

fn ok(c: &mut Command) -> Result<(), String> {
    let out = c.output().map_err(|e| format!("{c:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{c:?} -> {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn arpa(ip: &str) -> String {
    let o: Vec<&str> = ip.split('.').rev().collect();
    format!("{}.in-addr.arpa", o.join("."))
}

#[test]
fn stale_ptr_on_ip_rows_is_name_mismatch() {
    let Some(dnsmasq) = dnsmasq::binary_or_skip("stale_ptr_on_ip_rows_is_name_mismatch") else {
        return;
    };
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0
        || !Command::new("nft")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success())
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run this as root, with nft"
        );
        eprintln!("\n*** SKIPPED stale_ptr_on_ip_rows_is_name_mismatch: not root, or no nft ***\n");
        return;
    }
    let mut ns = Ns {
        name: format!("ptr{}", std::process::id()),
        children: Vec::new(),
    };
    ok(Command::new("ip").args(["netns", "add", &ns.name])).expect("netns");
    ok(&mut ns.exec(&["ip", "link", "set", "lo", "up"])).expect("lo up");
    for h in HOSTS {
        ok(&mut ns.exec(&["ip", "addr", "add", &format!("{h}/32"), "dev", "lo"])).expect("address");
    }
    for (i, h) in HOSTS.iter().enumerate() {
        let rule = format!(
            "add rule ip t out ip daddr {h} tcp dport 3389 dnat to 127.213.0.{}",
            i + 1
        );
        if i == 0 {
            ok(&mut ns.exec(&[
                "nft",
                "add table ip t; add chain ip t out { type nat hook output priority -100; }",
            ]))
            .expect("nft table");
        }
        ok(&mut ns.exec(&["nft", &rule])).expect("nft rule");
    }
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");

    // Three healthy NLA hosts (the lab's mix starts with them), announcing LAB-213-0-1..3.
    let lab = ns
        .exec(&[
            BIN,
            "lab",
            "--hosts",
            "3",
            "--base",
            "127.213.0.1",
            "--ca-out",
        ])
        .arg(&ca)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("lab");
    ns.children.push(lab);
    // dnsmasq: .1's PTR names another machine, .2's names itself (other domain and case), .3 none.
    let dns = ns
        .exec(&[
            dnsmasq.to_str().unwrap(),
            "--keep-in-foreground",
            "--conf-file=/dev/null",
        ])
        .args([
            "--no-resolv",
            "--no-hosts",
            "--no-poll",
            "--bind-interfaces",
        ])
        .args([
            "--listen-address=127.0.0.1",
            "--port=53",
            "--pid-file=",
            "--user=root",
        ])
        .args([
            "--log-queries",
            "--log-facility=-",
            "--local=/in-addr.arpa/",
        ])
        .arg(format!(
            "--ptr-record={},oldsrv07.corp.test",
            arpa(HOSTS[0])
        ))
        .arg(format!(
            "--ptr-record={},LAB-213-0-2.other.test",
            arpa(HOSTS[1])
        ))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("dnsmasq");
    ns.children.push(dns);

    // Both listen once the lab wrote its CA and a TCP connect to DNS and RDP succeeds.
    let deadline = Instant::now() + Duration::from_secs(15);
    let probe = "exec 3<>/dev/tcp/10.213.0.3/3389 && exec 4<>/dev/tcp/127.0.0.1/53";
    while !(ca.exists()
        && ns
            .exec(&["bash", "-c", probe])
            .output()
            .is_ok_and(|o| o.status.success()))
    {
        assert!(Instant::now() < deadline, "lab or dnsmasq did not start");
        std::thread::sleep(Duration::from_millis(100));
    }

    let jsonl = dir.path().join("out.jsonl");
    let out = ns
        .exec(&[BIN, "scan"])
        .args(HOSTS)
        .args(["--dns-server", "127.0.0.1", "--ca-bundle"])
        .arg(&ca)
        .args([
            "--depth",
            "quick",
            "--retries",
            "0",
            "--fail-on",
            "never",
            "-q",
            "--jsonl",
        ])
        .arg(&jsonl)
        .output()
        .expect("scan");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let text = std::fs::read_to_string(&jsonl).unwrap();
    let rows: HashMap<String, serde_json::Value> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["target"]["host"].as_str().unwrap_or_default().to_string(),
                v,
            )
        })
        .collect();
    let codes = |ip: &str| -> Vec<String> {
        rows[ip]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let ptr = |ip: &str| rows[ip]["dns"]["ptr"].as_str().map(str::to_string);
    let mismatch = "name-mismatch".to_string();

    // Every host announced its NTLM name (the certificates name 127.213.0.N, so the certificate
    // check asks for the PTR too: the same cached lookup).
    for h in HOSTS {
        assert_eq!(
            rows[h]["credssp"]["status"], "challenge",
            "{h}: {}",
            rows[h]
        );
    }
    assert_eq!(ptr(HOSTS[0]).as_deref(), Some("oldsrv07.corp.test"));
    assert!(codes(HOSTS[0]).contains(&mismatch), "{:?}", codes(HOSTS[0]));
    let detail = rows[HOSTS[0]]["findings"].to_string();
    assert!(
        detail.contains("oldsrv07.corp.test") && detail.contains("LAB-213-0-1"),
        "{detail}"
    );

    assert_eq!(ptr(HOSTS[1]).as_deref(), Some("lab-213-0-2.other.test"));
    assert!(
        !codes(HOSTS[1]).contains(&mismatch),
        "{:?}",
        codes(HOSTS[1])
    );
    assert_eq!(ptr(HOSTS[2]), None);
    assert!(
        !codes(HOSTS[2]).contains(&mismatch),
        "{:?}",
        codes(HOSTS[2])
    );
}
