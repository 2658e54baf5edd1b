//! One measured run.

use super::*;

#[derive(Debug, Clone, Default)]
pub(crate) struct RunStats {
    pub(crate) hosts: usize,
    pub(crate) wall: Duration,
    pub(crate) cpu: Duration,
    pub(crate) max_rss_kib: u64,
    pub(crate) lab_cpu: Duration,
    pub(crate) connections: u64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) verdicts: BTreeMap<String, u64>,
    pub(crate) load: String,
    /// Queries the fleet's DNS server received during the run.
    pub(crate) dns_queries: u64,
}

impl RunStats {
    pub(crate) fn hosts_per_s(&self) -> f64 {
        self.hosts as f64 / self.wall.as_secs_f64().max(1e-9)
    }
    pub(crate) fn cpu_us_per_host(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.hosts.max(1) as f64
    }
    pub(crate) fn lab_us_per_host(&self) -> f64 {
        self.lab_cpu.as_secs_f64() * 1e6 / self.hosts.max(1) as f64
    }
    pub(crate) fn dns_per_s(&self) -> f64 {
        self.dns_queries as f64 / self.wall.as_secs_f64().max(1e-9)
    }
    pub(crate) fn conn_per_host(&self) -> f64 {
        self.connections as f64 / self.hosts.max(1) as f64
    }
}

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted.get(idx).copied().unwrap_or(0.0)
}

/// The JSONL fields the table needs (the rest of each line is skipped).
#[derive(serde::Deserialize)]
pub(crate) struct JsonlRow {
    pub(crate) connections: u64,
    pub(crate) duration_ms: f64,
    pub(crate) verdict: String,
}

pub(crate) fn run_scan(
    cfg: &Cfg,
    lab: &mut Labs,
    inv: &Path,
    n: usize,
    tool: &str,
    dir: &Path,
) -> RunStats {
    let (depth, bin) = match tool.split_once('@') {
        Some((d, name)) => (
            d,
            scanner_bins()
                .into_iter()
                .find(|(k, _)| k == name)
                .map(|(_, p)| p)
                .unwrap_or_else(scanner_bin),
        ),
        None => (tool, scanner_bin()),
    };
    // `quick+dns0`: the same scan without the DNS limit.
    let (depth, variant) = depth.split_once('+').unwrap_or((depth, ""));
    let mut extra: Vec<String> = match variant {
        "dns0" => vec!["--dns-rate".into(), "0".into()],
        "" => Vec::new(),
        // `+rate600`: a binding connection limit instead of none, to price the waiting.
        v if v.starts_with("rate") && v[4..].parse::<u32>().is_ok() => Vec::new(),
        other => panic!("unknown scan variant +{other} (known: +dns0, +rateN)"),
    };
    match &lab.dns {
        Some(dns) => extra.extend(["--dns-server".into(), dns.addr.to_string()]),
        None => extra.extend(["--ca-bundle".into(), lab.ca.display().to_string()]),
    }
    let file = tool.replace(['@', '+'], "-");
    let csv = dir.join(format!("scan-{n}-{file}.csv"));
    let jsonl = dir.join(format!("scan-{n}-{file}.jsonl"));
    let dns0 = lab.dns.as_ref().map_or(0, FleetDns::queries);
    let load = load_average();
    let lab0 = lab.cpu();
    // FLEET_WRAP: a command prefix for profiling, e.g. `perf record -e cpu-clock -g --`.
    let wrap: Vec<String> = env_or("FLEET_WRAP", "")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let mut cmd = match wrap.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(&bin);
            c
        }
        None => Command::new(&bin),
    };
    let started = Instant::now();
    let child = cmd
        .args(["scan", "-i"])
        .arg(inv)
        .args([
            "--depth",
            depth,
            "--rate",
            variant.strip_prefix("rate").unwrap_or("0"),
        ])
        .arg("--concurrency")
        .arg(cfg.concurrency.to_string())
        .args(["--connect-timeout", &cfg.connect_timeout])
        .args([
            "--max-targets",
            "100000000",
            "--fail-on",
            "never",
            "--quiet",
        ])
        .args(&extra)
        .arg("--csv")
        .arg(&csv)
        .arg("--jsonl")
        .arg(&jsonl)
        .args(&cfg.scan_args)
        .stdin(Stdio::null())
        .spawn()
        .expect("start rdpsweep scan");
    let usage = wait_usage(&child, started);
    let lab_cpu = lab.cpu().saturating_sub(lab0);
    let dns_queries = lab.dns.as_ref().map_or(0, FleetDns::queries) - dns0;
    assert_eq!(usage.exit, 0, "rdpsweep scan exited {}", usage.exit);

    let f = std::fs::File::open(&jsonl).expect("scan wrote JSONL");
    let mut durations = Vec::with_capacity(n);
    let mut connections = 0u64;
    let mut verdicts = BTreeMap::new();
    for line in BufReader::new(f).lines() {
        let line = line.expect("read JSONL");
        let row: JsonlRow = serde_json::from_str(&line).expect("JSONL row");
        connections += row.connections;
        durations.push(row.duration_ms);
        *verdicts.entry(row.verdict).or_insert(0) += 1;
    }
    assert_eq!(durations.len(), n, "one JSONL row per lab host");
    durations.sort_by(f64::total_cmp);
    RunStats {
        hosts: n,
        wall: usage.wall,
        cpu: usage.cpu,
        max_rss_kib: usage.max_rss_kib,
        lab_cpu,
        connections,
        p50_ms: percentile(&durations, 0.5),
        p99_ms: percentile(&durations, 0.99),
        verdicts,
        load,
        dns_queries,
    }
}

pub(crate) fn run_bare(cfg: &Cfg, lab: &mut Labs, inv: &Path, n: usize) -> RunStats {
    let exe = std::env::current_exe().expect("own path");
    let load = load_average();
    let lab0 = lab.cpu();
    let started = Instant::now();
    let mut child = Command::new(exe)
        .env("FLEET_ROLE", "bare")
        .env("FLEET_BARE_INVENTORY", inv)
        .env("FLEET_CONCURRENCY", cfg.concurrency.to_string())
        .env("FLEET_CONNECT_TIMEOUT", &cfg.connect_timeout)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the bare loop");
    // The child writes one short line at its end: reading it before wait4 cannot block it.
    let mut out = String::new();
    if let Some(s) = child.stdout.as_mut() {
        let mut r = BufReader::new(s);
        let _ = r.read_line(&mut out);
    }
    let usage = wait_usage(&child, started);
    let lab_cpu = lab.cpu().saturating_sub(lab0);
    assert_eq!(usage.exit, 0, "bare loop exited {}", usage.exit);
    let field = |k: &str| -> f64 {
        out.split_whitespace()
            .find_map(|kv| kv.strip_prefix(k).and_then(|v| v.strip_prefix('=')))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    let mut verdicts = BTreeMap::new();
    for k in ["tls", "cc", "refused", "timeout", "error"] {
        verdicts.insert(k.to_string(), field(k) as u64);
    }
    RunStats {
        hosts: n,
        wall: usage.wall,
        cpu: usage.cpu,
        max_rss_kib: usage.max_rss_kib,
        lab_cpu,
        connections: field("connections") as u64,
        p50_ms: field("p50"),
        p99_ms: field("p99"),
        verdicts,
        load,
        dns_queries: 0,
    }
}
