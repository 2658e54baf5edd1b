//! Host down vs port filtered, and who rejected it, on real kernels' network stacks: network
//! namespaces this test creates (a client, a router, servers behind it), nftables rules in
//! them, and the scanner run inside the client namespace. Traffic goes only to addresses inside
//! these namespaces (10.211.x.y/30). Needs root, `ip` and `nft`: skipped loudly otherwise,
//! failed instead when CI is set. Everything is removed by a Drop guard, pass or fail.
//!
//!   client 10.211.0.1 -- 10.211.0.2 router 10.211.N.1 -- 10.211.N.2 server N
//!
//! - server 1: input policy drop (the host is "off")               -> host-down
//! - server 2: drops only 3389; 445/135 closed, so the kernel RSTs  -> port-filtered, alive up
//! - server 3: the router rejects 3389 with ICMP admin-prohibited  -> port-rejected, router address
//! - 10.211.8.2: an `unreachable` route in the router              -> host-unreachable, router address
//! - 10.211.9.2: no route in the router at all                     -> net-unreachable, router address

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_rdpsweep");

/// The namespaces of one test run; deleted (with their veths) on drop.
struct Netns {
    prefix: String,
    names: Vec<String>,
}

impl Netns {
    fn ns(&self, which: &str) -> String {
        format!("{}{which}", self.prefix)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        for n in &self.names {
            let _ = Command::new("ip").args(["netns", "del", n]).status();
        }
    }
}

fn sh(script: &str) -> Result<(), String> {
    let out = Command::new("sh")
        .args(["-c", script])
        .output()
        .map_err(|e| format!("sh: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{script}\n-> {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether this machine can run the test; `None` says why not (a skip, or a failure under CI).
fn prerequisites() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not root".into());
    }
    for tool in ["ip", "nft"] {
        if !have(tool) {
            return Some(format!("`{tool}` is missing"));
        }
    }
    None
}

fn setup() -> Result<Netns, String> {
    let prefix = format!("na{}", std::process::id());
    let mut guard = Netns {
        prefix: prefix.clone(),
        names: Vec::new(),
    };
    for which in ["c", "r", "s1", "s2", "s3"] {
        let n = guard.ns(which);
        sh(&format!("ip netns add {n}"))?;
        guard.names.push(n);
    }
    let (c, r) = (guard.ns("c"), guard.ns("r"));
    let mut script = format!(
        "set -e
ip -n {c} link set lo up
ip -n {r} link set lo up
ip netns exec {r} sysctl -qw net.ipv4.ip_forward=1
ip link add {prefix}c0 netns {c} type veth peer name {prefix}r0 netns {r}
ip -n {c} addr add 10.211.0.1/30 dev {prefix}c0
ip -n {r} addr add 10.211.0.2/30 dev {prefix}r0
ip -n {c} link set {prefix}c0 up
ip -n {r} link set {prefix}r0 up
ip -n {c} route add default via 10.211.0.2
ip -n {r} route add unreachable 10.211.8.0/30
"
    );
    for i in 1..=3 {
        let s = guard.ns(&format!("s{i}"));
        script.push_str(&format!(
            "ip -n {s} link set lo up
ip link add {prefix}r{i} netns {r} type veth peer name {prefix}s{i} netns {s}
ip -n {r} addr add 10.211.{i}.1/30 dev {prefix}r{i}
ip -n {s} addr add 10.211.{i}.2/30 dev {prefix}s{i}
ip -n {r} link set {prefix}r{i} up
ip -n {s} link set {prefix}s{i} up
ip -n {s} route add default via 10.211.{i}.1
"
        ));
    }
    let (s1, s2) = (guard.ns("s1"), guard.ns("s2"));
    script.push_str(&format!(
        "ip netns exec {s1} nft 'add table inet t; add chain inet t input_c {{ type filter hook input priority 0; policy drop; }}'
ip netns exec {s2} nft 'add table inet t; add chain inet t input_c {{ type filter hook input priority 0; }}; add rule inet t input_c tcp dport 3389 drop'
ip netns exec {r} nft 'add table inet t; add chain inet t fw_c {{ type filter hook forward priority 0; }}; add rule inet t fw_c ip daddr 10.211.3.2 tcp dport 3389 reject with icmp type admin-prohibited'
"
    ));
    sh(&script)?;
    Ok(guard)
}

/// Scan `targets` from the client namespace; the JSON Lines and CSV rows by address.
fn scan(
    net: &Netns,
    dir: &Path,
    tag: &str,
    targets: &[&str],
    extra: &[&str],
) -> (
    HashMap<String, Value>,
    HashMap<String, HashMap<String, String>>,
) {
    let jsonl = dir.join(format!("{tag}.jsonl"));
    let csv = dir.join(format!("{tag}.csv"));
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", &net.ns("c"), BIN, "scan"])
        .args(targets)
        .args([
            "--retries",
            "0",
            "--rate",
            "0",
            "--connect-timeout",
            "700ms",
            "--timeout",
            "1s",
            "--host-deadline",
            "10s",
            "--fail-on",
            "never",
            // Never asked (IP targets, no certificates), but kept inside the namespaces.
            "--dns-server",
            "10.211.0.2",
            "-q",
            "--jsonl",
        ])
        .arg(&jsonl)
        .arg("--csv")
        .arg(&csv)
        .args(extra);
    let out = cmd.output().expect("run the scanner");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "scan failed: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let text = std::fs::read_to_string(&jsonl).expect("jsonl");
    let rows: HashMap<String, Value> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("json line"))
        .map(|v| (v["address"].as_str().unwrap_or_default().to_string(), v))
        .collect();
    let mut rd = csv::Reader::from_path(&csv).expect("csv");
    let headers = rd.headers().expect("csv header").clone();
    let csv_rows = rd
        .records()
        .map(|r| {
            let r = r.expect("csv row");
            let m: HashMap<String, String> = headers
                .iter()
                .zip(r.iter())
                .map(|(h, c)| (h.to_string(), c.to_string()))
                .collect();
            (m["address"].clone(), m)
        })
        .collect();
    (rows, csv_rows)
}

fn finding_detail<'a>(row: &'a Value, code: &str) -> &'a str {
    row["findings"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["code"] == code))
        .and_then(|f| f["detail"].as_str())
        .unwrap_or_else(|| panic!("no {code} finding in {row}"))
}

#[test]
fn host_down_filtered_and_who_rejected() {
    if let Some(why) = prerequisites() {
        if std::env::var_os("CI").is_some() {
            panic!("netpath_alive needs root, ip and nft under CI: {why}");
        }
        eprintln!("SKIPPED netpath_alive: {why}");
        return;
    }
    let net = match setup() {
        Ok(n) => n,
        Err(e) => {
            if std::env::var_os("CI").is_some() {
                panic!("netpath_alive: namespace setup failed: {e}");
            }
            eprintln!("SKIPPED netpath_alive: cannot build the namespaces: {e}");
            return;
        }
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let targets = [
        "10.211.1.2",
        "10.211.2.2",
        "10.211.3.2",
        "10.211.8.2",
        "10.211.9.2",
    ];
    let t0 = std::time::Instant::now();
    let (rows, csv) = scan(&net, dir.path(), "default", &targets, &[]);
    let took = t0.elapsed();
    assert_eq!(rows.len(), targets.len(), "{rows:?}");

    // Down: 3389 and both companions silent.
    let down = &rows["10.211.1.2"];
    assert_eq!(down["verdict"], "host-down", "{down}");
    assert_eq!(down["tcp"]["status"], "filtered");
    let probes = down["tcp"]["alive"]["probes"].as_array().expect("probes");
    let ports: Vec<u64> = probes.iter().filter_map(|p| p["port"].as_u64()).collect();
    assert_eq!(ports, [445, 135]);
    assert!(probes.iter().all(|p| p["answer"] == "silent"), "{down}");
    assert_eq!(down["connections"], 3, "one RDP SYN and two companions");
    assert_eq!(csv["10.211.1.2"]["alive"], "down");
    assert!(finding_detail(down, "host-down").contains("445"));

    // Filtered: 3389 silent, 445 answered by the kernel's RST.
    let filtered = &rows["10.211.2.2"];
    assert_eq!(filtered["verdict"], "port-filtered", "{filtered}");
    assert_eq!(filtered["tcp"]["alive"]["probes"][0]["answer"], "rst");
    assert_eq!(csv["10.211.2.2"]["alive"], "up (445 rst)");
    let d = finding_detail(filtered, "port-filtered");
    assert!(d.contains("host is up") && d.contains("445"), "{d}");

    // Rejected by the router, which names itself in the ICMP.
    let rejected = &rows["10.211.3.2"];
    assert_eq!(rejected["verdict"], "port-rejected", "{rejected}");
    let icmp = &rejected["tcp"]["icmp"];
    assert_eq!(
        (icmp["type"].as_u64(), icmp["code"].as_u64()),
        (Some(3), Some(13))
    );
    let from = icmp["from"].as_str().expect("ICMP sender");
    assert!(
        from == "10.211.0.2" || from == "10.211.3.1",
        "the router, not the server: {from}"
    );
    assert_eq!(csv["10.211.3.2"]["icmp_from"], from);
    assert!(finding_detail(rejected, "port-rejected").contains(from));
    assert!(
        rejected["tcp"].get("alive").is_none(),
        "an answer: no companions"
    );

    // Routing failures, reported by the router.
    let host_unr = &rows["10.211.8.2"];
    assert_eq!(host_unr["verdict"], "host-unreachable", "{host_unr}");
    assert_eq!(host_unr["tcp"]["icmp"]["from"], "10.211.0.2");
    let net_unr = &rows["10.211.9.2"];
    assert_eq!(net_unr["verdict"], "net-unreachable", "{net_unr}");
    assert_eq!(net_unr["tcp"]["icmp"]["code"], 0);
    assert_eq!(csv["10.211.9.2"]["icmp_from"], "10.211.0.2");
    // Companions run at once and within the connect timeout: the whole scan stays short.
    assert!(took.as_secs_f64() < 8.0, "took {took:?}");

    // Companions off: the silent host is only "filtered" again, and nothing else is sent.
    let (rows, csv) = scan(
        &net,
        dir.path(),
        "off",
        &["10.211.1.2"],
        &["--alive-ports", ""],
    );
    let r = &rows["10.211.1.2"];
    assert_eq!(r["verdict"], "port-filtered", "{r}");
    assert!(r["tcp"].get("alive").is_none());
    assert_eq!(r["connections"], 1);
    assert_eq!(csv["10.211.1.2"]["alive"], "");

    // Other companion ports: 22 on the filtered host is closed too (RST).
    let (rows, _) = scan(
        &net,
        dir.path(),
        "ports",
        &["10.211.2.2"],
        &["--alive-ports", "22"],
    );
    let r = &rows["10.211.2.2"];
    assert_eq!(r["tcp"]["alive"]["probes"][0]["port"], 22, "{r}");
    assert_eq!(r["tcp"]["alive"]["probes"][0]["answer"], "rst", "{r}");
}
