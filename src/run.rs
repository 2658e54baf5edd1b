//! Top-level dispatch: parsed flags -> subcommand -> exit code. Setup errors (bad flags,
//! unreadable inventory, unwritable output) end here with exit 2; host failures never do.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::cert::TrustStore;
use crate::cli::{Cli, Command, DemoArgs, Depth, LabArgs, ScanArgs};
use crate::config::{FailOn, Output, ScanConfig};
use crate::diagnose::Policy;
use crate::engine::{self, EngineOptions, Outcome};
use crate::inventory::{InventoryOptions, Targets};
use crate::model::{HostReport, Severity};
use crate::probe::Prober;
use crate::report::Sink;
use crate::resolve::{Resolver, ResolverOptions};
use crate::target::Target;

pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_SETUP: u8 = 2;
pub const EXIT_INTERRUPTED: u8 = 130;

pub fn main() -> ExitCode {
    use clap::{CommandFactory, FromArgMatches};
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    match cli.command {
        Command::Scan(mut args) => {
            // --config fills only what flags and RDPSWEEP_* variables left at their defaults.
            if let Some(path) = args.config.clone() {
                let file = match crate::configfile::load(&path) {
                    Ok(f) => f,
                    Err(e) => return setup_error(e),
                };
                if let Some(m) = matches.subcommand_matches("scan") {
                    crate::configfile::apply(&file, &mut args, crate::configfile::from_default(m));
                }
            }
            scan_cmd(&args)
        }
        Command::Demo(args) => demo_cmd(&args),
        Command::Lab(args) => lab_cmd(&args),
        Command::Report(args) => report_cmd(&args),
        Command::Merge(args) => merge_cmd(&args),
    }
}

fn init_tracing(quiet: bool, verbose: u8) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("RDPSWEEP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("rdpsweep={level},warn")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

fn setup_error(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("rdpsweep: error: {msg}");
    ExitCode::from(EXIT_SETUP)
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

fn scan_cmd(args: &ScanArgs) -> ExitCode {
    init_tracing(args.quiet, args.verbose);
    let cfg = match ScanConfig::from_args(args) {
        Ok(c) => c,
        Err(e) => return setup_error(e),
    };
    let rt = match runtime() {
        Ok(r) => r,
        Err(e) => return setup_error(e),
    };
    let code = rt.block_on(async {
        let cancel = install_signal_handlers();
        match scan(&cfg, cancel).await {
            Ok(out) => {
                if !cfg.quiet {
                    print_summary(&out);
                }
                exit_code(&cfg, &out)
            }
            Err(e) => setup_error(e),
        }
    });
    report_peak_rss();
    code
}

/// Exit status from the outcome and --fail-on.
pub fn exit_code(cfg: &ScanConfig, out: &Outcome) -> ExitCode {
    if let Some(e) = &out.sink_error {
        return setup_error(format!("writing the report failed: {e}"));
    }
    if out.interrupted {
        return ExitCode::from(EXIT_INTERRUPTED);
    }
    let failing = match cfg.fail_on {
        FailOn::Severity(s) => out.worst.is_some_and(|w| w >= s && w > Severity::Ok),
        FailOn::New => out.new_failures > 0,
        FailOn::Never => false,
    };
    if failing {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::SUCCESS
    }
}

fn print_summary(out: &Outcome) {
    let verdicts: Vec<String> = out
        .verdicts
        .iter()
        .map(|(v, n)| format!("{v} {n}"))
        .collect();
    eprintln!(
        "rdpsweep: {} targets, {} rows in {:.1}s{}: {}",
        out.targets,
        out.rows,
        out.duration.as_secs_f64(),
        if out.interrupted {
            " (interrupted)"
        } else {
            ""
        },
        if verdicts.is_empty() {
            "nothing scanned".to_string()
        } else {
            verdicts.join(", ")
        }
    );
}

/// First Ctrl-C / SIGTERM: stop starting hosts and drain. Second: exit at once.
pub fn install_signal_handlers() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let wait = |term: &mut Option<tokio::signal::unix::Signal>| {
            let t = term.take();
            async move {
                let mut t = t;
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = async { match t.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending::<()>().await } } => {}
                }
                t
            }
        };
        term = wait(&mut term).await;
        eprintln!("rdpsweep: interrupted; finishing in-flight hosts (interrupt again to quit now)");
        let _ = tx.send(true);
        let _ = wait(&mut term).await;
        std::process::exit(i32::from(EXIT_INTERRUPTED));
    });
    rx
}

/// Raise RLIMIT_NOFILE for the requested concurrency; cap concurrency (one warning) if the hard
/// limit is too low, so the scan never turns EMFILE into a storm of false host failures.
pub fn fit_concurrency(wanted: usize) -> usize {
    // One socket per host in flight (connections are sequential per address), plus DNS, outputs and slack.
    let need = (wanted as u64).saturating_add(64);
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read/write the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return wanted;
    }
    if lim.rlim_cur >= need {
        return wanted;
    }
    let target = need.min(lim.rlim_max);
    let new = libc::rlimit {
        rlim_cur: target,
        rlim_max: lim.rlim_max,
    };
    // SAFETY: as above.
    let ok = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &new) } == 0;
    let have = if ok { target } else { lim.rlim_cur };
    if have >= need {
        return wanted;
    }
    let capped = have.saturating_sub(64).max(1) as usize;
    eprintln!(
        "rdpsweep: warning: open-file limit {have} is too low for --concurrency {wanted}; using {capped} (raise `ulimit -n`)"
    );
    capped
}

/// Run a scan with a checked config. Errors are setup errors (exit 2).
pub async fn scan(cfg: &ScanConfig, cancel: watch::Receiver<bool>) -> Result<Outcome, String> {
    let inv_opts = InventoryOptions {
        default_port: cfg.port,
        max_targets: cfg.max_targets,
        skip_bad_lines: cfg.skip_bad_lines,
    };
    // Validate every inventory line before the first packet, when the input can be read twice.
    let total = if cfg.inventories.iter().any(|p| p.as_os_str() == "-") {
        None
    } else {
        let c = cfg.clone();
        let opts = inv_opts.clone();
        tokio::task::spawn_blocking(move || prevalidate(&c, &opts))
            .await
            .map_err(|e| e.to_string())??
            .into()
    };
    let mut targets =
        Targets::open(&cfg.cli_targets, &cfg.inventories, &inv_opts).map_err(|e| e.to_string())?;
    for w in targets.take_warnings() {
        tracing::warn!("{w}");
    }
    let extras = targets.extra_columns().to_vec();
    let trust = match &cfg.ca_bundle {
        Some(p) => TrustStore::with_bundle(p)?,
        None => TrustStore::system(),
    };
    let resolver = Resolver::new(ResolverOptions {
        servers: cfg.dns_servers.clone(),
        pins: cfg.pins.clone(),
        timeout: cfg.dns_timeout,
        attempts: 2,
        rate: cfg.dns_rate,
        ptr: true,
    })?;
    let baseline = match &cfg.baseline {
        Some(p) => Some(Arc::new(crate::report::baseline::Baseline::load(p)?)),
        None => None,
    };
    let sinks = open_sinks(cfg, &extras)?;
    let concurrency = fit_concurrency(cfg.concurrency);
    let prober = Arc::new(Prober::new(cfg.probe_options(), resolver, trust));
    let policy = Policy {
        expiry_warn_days: cfg.expiry_warn_days,
        ..Policy::default()
    };
    let opts = EngineOptions {
        concurrency,
        grace: Duration::from_secs(1),
        progress: !cfg.quiet,
        total,
        started_at: crate::clock::now_rfc3339(),
        baseline,
    };
    let stream = WarnOnSkip {
        inner: targets,
        shard: cfg.shard,
    };
    engine::run(
        opts,
        stream,
        move |t| probe_and_diagnose(prober.clone(), policy, t),
        sinks,
        cancel,
    )
    .await
    .map_err(|e| e.to_string())
}

/// The engine's per-target work: probe every address, then diagnose each record as of the
/// moment its probe started (certificate expiry and clock skew are judged at that time).
async fn probe_and_diagnose(prober: Arc<Prober>, policy: Policy, t: Target) -> Vec<HostReport> {
    prober
        .probe_target(t)
        .await
        .into_iter()
        .map(|rec| {
            let now = crate::clock::unix_of(&rec.scanned_at);
            crate::diagnose::report(rec, now, &policy)
        })
        .collect()
}

/// Surfaces --skip-bad-lines warnings as they happen.
struct WarnOnSkip {
    inner: Targets,
    shard: Option<(u32, u32)>,
}

/// Whether a target belongs to this run's shard (always, without --shard).
fn in_my_shard(shard: Option<(u32, u32)>, t: &crate::target::Target) -> bool {
    shard.is_none_or(|(k, n)| crate::shard::in_shard(&t.host.to_string(), t.port, k, n))
}

impl Iterator for WarnOnSkip {
    type Item = Result<crate::target::Target, crate::inventory::InventoryError>;
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let item = self.inner.next();
            // Drained whatever --skip-bad-lines says: an empty inventory warns too.
            for w in self.inner.take_warnings() {
                eprintln!("rdpsweep: warning: {w}");
            }
            match &item {
                Some(Ok(t)) if !in_my_shard(self.shard, t) => continue,
                _ => return item,
            }
        }
    }
}

fn prevalidate(cfg: &ScanConfig, opts: &InventoryOptions) -> Result<u64, String> {
    let mut t =
        Targets::open(&cfg.cli_targets, &cfg.inventories, opts).map_err(|e| e.to_string())?;
    let mut n = 0u64;
    for item in t.by_ref() {
        let t = item.map_err(|e| e.to_string())?;
        if in_my_shard(cfg.shard, &t) {
            n += 1;
        }
    }
    Ok(n)
}

fn open_sinks(cfg: &ScanConfig, extras: &[String]) -> Result<Vec<Box<dyn Sink>>, String> {
    open_sinks_for(&cfg.csv, &cfg.jsonl, &cfg.html, &cfg.metrics, extras)
}

/// One sink per requested output; every file is created (as a temporary) before any work.
pub fn open_sinks_for(
    csv: &Option<Output>,
    jsonl: &Option<Output>,
    html: &Option<Output>,
    metrics: &Option<Output>,
    extras: &[String],
) -> Result<Vec<Box<dyn Sink>>, String> {
    let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
    let name = |o: &Output| match o {
        Output::Stdout => "stdout".to_string(),
        Output::File(p) => p.display().to_string(),
    };
    if let Some(o) = csv {
        let s = crate::report::csv::CsvSink::create(o, extras)
            .map_err(|e| format!("cannot write {}: {e}", name(o)))?;
        sinks.push(Box::new(s));
    }
    if let Some(o) = jsonl {
        let s = crate::report::jsonl::JsonlSink::create(o)
            .map_err(|e| format!("cannot write {}: {e}", name(o)))?;
        sinks.push(Box::new(s));
    }
    if let Some(o) = html {
        let s = crate::report::html::HtmlSink::create(o, extras)
            .map_err(|e| format!("cannot write {}: {e}", name(o)))?;
        sinks.push(Box::new(s));
    }
    if let Some(o) = metrics {
        let s = crate::report::metrics::MetricsSink::create(o)
            .map_err(|e| format!("cannot write {}: {e}", name(o)))?;
        sinks.push(Box::new(s));
    }
    Ok(sinks)
}

/// A config for scanning the lab (demo and tests): fast timeouts, lab DNS and CA.
pub fn lab_scan_config(
    lab: &crate::lab::Lab,
    inventory: &Path,
    ca: &Path,
    out: &Path,
) -> ScanConfig {
    ScanConfig {
        cli_targets: vec![],
        inventories: vec![inventory.to_path_buf()],
        port: 3389,
        rate: 0,
        concurrency: 64,
        connect_timeout: Duration::from_millis(1500),
        timeout: Duration::from_secs(2),
        host_deadline: Duration::from_secs(15),
        retries: 0,
        depth: Depth::Standard,
        host_spacing: Duration::from_millis(20),
        dns_servers: lab.dns_addr.into_iter().collect(),
        pins: vec![],
        dns_timeout: Duration::from_secs(1),
        dns_rate: 0,
        max_targets: 65_536,
        skip_bad_lines: false,
        shard: None,
        expiry_warn_days: 30,
        ca_bundle: Some(ca.to_path_buf()),
        csv: Some(Output::File(out.join("rdpsweep.csv"))),
        jsonl: Some(Output::File(out.join("rdpsweep.jsonl"))),
        html: Some(Output::File(out.join("rdpsweep.html"))),
        metrics: None,
        baseline: None,
        fail_on: FailOn::Never,
        quiet: true,
        verbose: 0,
    }
}

fn demo_cmd(args: &DemoArgs) -> ExitCode {
    init_tracing(args.quiet, 0);
    let rt = match runtime() {
        Ok(r) => r,
        Err(e) => return setup_error(e),
    };
    rt.block_on(async {
        if let Err(e) = std::fs::create_dir_all(&args.out) {
            return setup_error(format!("cannot create {}: {e}", args.out.display()));
        }
        let cfg = crate::lab::LabConfig {
            base: args.base,
            port: 3389,
            dns: true,
        };
        let lab = match crate::lab::Lab::start(cfg, crate::lab::Lab::demo_fleet()).await {
            Ok(l) => l,
            Err(e) => {
                return setup_error(format!(
                    "cannot start the simulated fleet on {}: {e}",
                    args.base
                ));
            }
        };
        let inv = args.out.join("lab-inventory.csv");
        let ca = args.out.join("lab-ca.pem");
        if let Err(e) =
            std::fs::write(&inv, lab.inventory_csv()).and_then(|_| std::fs::write(&ca, &lab.ca_pem))
        {
            return setup_error(format!("cannot write into {}: {e}", args.out.display()));
        }
        let cfg = lab_scan_config(&lab, &inv, &ca, &args.out);
        let cancel = install_signal_handlers();
        let res = scan(&cfg, cancel).await;
        lab.shutdown().await;
        match res {
            Ok(out) => {
                if !args.quiet {
                    print_summary(&out);
                    eprintln!("rdpsweep: demo reports in {}:", args.out.display());
                    for f in [
                        "rdpsweep.html",
                        "rdpsweep.csv",
                        "rdpsweep.jsonl",
                        "lab-inventory.csv",
                    ] {
                        eprintln!("  {}", args.out.join(f).display());
                    }
                }
                if out.sink_error.is_some() || out.interrupted {
                    exit_code(&cfg, &out)
                } else {
                    ExitCode::SUCCESS
                }
            }
            Err(e) => setup_error(e),
        }
    })
}

fn lab_cmd(args: &LabArgs) -> ExitCode {
    init_tracing(false, 0);
    let rt = match runtime() {
        Ok(r) => r,
        Err(e) => return setup_error(e),
    };
    rt.block_on(async {
        let lab = if args.hosts == 0 {
            let cfg = crate::lab::LabConfig {
                base: args.base,
                port: args.port,
                dns: true,
            };
            crate::lab::Lab::start(cfg, crate::lab::Lab::demo_fleet()).await
        } else {
            let keys = crate::lab::LabKeys {
                ca: args.ca_key,
                leaf: args.leaf_key,
            };
            crate::lab::Lab::scale_with_keys(args.hosts, args.base, args.port, keys).await
        };
        let lab = match lab {
            Ok(l) => l,
            Err(e) => return setup_error(format!("cannot start the simulated fleet: {e}")),
        };
        let inv: PathBuf = args
            .inventory
            .clone()
            .unwrap_or_else(|| PathBuf::from("lab-inventory.csv"));
        if let Err(e) = std::fs::write(&inv, lab.inventory_csv()) {
            return setup_error(format!("cannot write {}: {e}", inv.display()));
        }
        if let Some(ca) = &args.ca_out
            && let Err(e) = std::fs::write(ca, &lab.ca_pem)
        {
            return setup_error(format!("cannot write {}: {e}", ca.display()));
        }
        eprintln!(
            "rdpsweep lab: {} hosts from {} port {}; DNS {}; inventory {}; Ctrl-C to stop",
            lab.hosts.len(),
            args.base,
            args.port,
            lab.dns_addr
                .map(|a| a.to_string())
                .unwrap_or_else(|| "off".into()),
            inv.display()
        );
        let _ = tokio::signal::ctrl_c().await;
        lab.shutdown().await;
        ExitCode::SUCCESS
    })
}

/// Adds `r`'s extra inventory columns not yet in `out`: first-seen order, as the scan's CSV
/// header had them.
fn add_extra_columns(out: &mut Vec<String>, r: &crate::model::HostReport) {
    for (k, _) in &r.record.target.extra {
        if !out.iter().any(|e| e == k) {
            out.push(k.clone());
        }
    }
}

/// Write saved rows, which `feed` produces one at a time, through the same writer as a scan
/// (baseline diff, every sink). An error from `feed` abandons the outputs unpublished.
fn write_saved(
    feed: impl FnOnce(&mut dyn FnMut(crate::model::HostReport)) -> Result<(), String>,
    started_at: String,
    targets: u64,
    sinks: Vec<Box<dyn Sink>>,
    baseline: Option<Arc<crate::report::baseline::Baseline>>,
) -> Result<Outcome, String> {
    let mut w = engine::RowWriter::new(sinks, baseline);
    let rediff = w.has_baseline();
    feed(&mut |mut r| {
        // Rows are re-diffed against the given baseline, or kept as saved without one.
        if rediff {
            r.change = None;
            r.first_seen_failing = None;
        }
        w.write(r);
    })?;
    let stats = w.finish(crate::report::Summary {
        started_at,
        targets,
        ..Default::default()
    });
    let mut verdicts: Vec<(String, u64)> = stats.verdicts.into_iter().collect();
    verdicts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(Outcome {
        targets,
        rows: stats.rows,
        interrupted: false,
        worst: stats.worst,
        verdicts,
        duration: Duration::ZERO,
        sink_error: stats.error,
        new_failures: stats.new_failures,
    })
}

fn report_cmd(args: &crate::cli::ReportArgs) -> ExitCode {
    let outs = SavedOutputs {
        baseline: &args.baseline,
        csv: &args.csv,
        jsonl: &args.jsonl,
        html: &args.html,
        metrics: &args.metrics,
        fail_on: &args.fail_on,
    };
    rewrite_saved(&outs, || Ok(Saved::File(args.from.clone())))
}

fn merge_cmd(args: &crate::cli::MergeArgs) -> ExitCode {
    let outs = SavedOutputs {
        baseline: &args.baseline,
        csv: &args.csv,
        jsonl: &args.jsonl,
        html: &args.html,
        metrics: &args.metrics,
        fail_on: &args.fail_on,
    };
    rewrite_saved(&outs, || {
        crate::report::merge::merge(&args.inputs).map(Saved::Rows)
    })
}

/// Saved rows to rewrite: in memory (`merge` deduplicates across files), or one JSON Lines file
/// streamed twice (`report`: the first pass checks every line and finds the inventory columns
/// before any output is opened, the second writes; memory stays flat in the file's size).
enum Saved {
    Rows(Vec<crate::model::HostReport>),
    File(PathBuf),
}

impl Saved {
    /// Looks at every row in order; returns how many there are.
    fn visit(&self, f: &mut dyn FnMut(&crate::model::HostReport)) -> Result<u64, String> {
        match self {
            Saved::Rows(rows) => {
                rows.iter().for_each(f);
                Ok(rows.len() as u64)
            }
            Saved::File(path) => crate::report::jsonl::for_each_report(path, |r| f(&r)),
        }
    }

    /// Hands every row over, in order.
    fn feed(self, f: &mut dyn FnMut(crate::model::HostReport)) -> Result<(), String> {
        match self {
            Saved::Rows(rows) => rows.into_iter().for_each(f),
            Saved::File(path) => {
                crate::report::jsonl::for_each_report(&path, f)?;
            }
        }
        Ok(())
    }
}

/// The output flags `report` and `merge` share.
struct SavedOutputs<'a> {
    baseline: &'a Option<PathBuf>,
    csv: &'a Option<PathBuf>,
    jsonl: &'a Option<PathBuf>,
    html: &'a Option<PathBuf>,
    metrics: &'a Option<PathBuf>,
    fail_on: &'a str,
}

/// Write saved rows (one scan, or several merged) to the requested outputs.
fn rewrite_saved(
    args: &SavedOutputs<'_>,
    load: impl FnOnce() -> Result<Saved, String>,
) -> ExitCode {
    init_tracing(false, 0);
    let fail_on = match FailOn::parse(args.fail_on) {
        Ok(f) => f,
        Err(e) => return setup_error(e),
    };
    let out = |p: &Option<PathBuf>| {
        p.as_deref().map(|p| {
            if p.as_os_str() == "-" {
                Output::Stdout
            } else {
                Output::File(p.to_path_buf())
            }
        })
    };
    let (csv, jsonl, html, metrics) = (
        out(args.csv),
        out(args.jsonl),
        out(args.html),
        out(args.metrics),
    );
    if csv.is_none() && jsonl.is_none() && html.is_none() && metrics.is_none() {
        return setup_error(
            "nothing to write: name at least one of --csv, --jsonl, --html, --metrics",
        );
    }
    for o in [&csv, &jsonl, &html, &metrics].into_iter().flatten() {
        if let Err(e) = crate::config::check_writable(o) {
            return setup_error(e);
        }
    }
    let saved = match load() {
        Ok(r) => r,
        Err(e) => return setup_error(e),
    };
    // Extra inventory columns (first-seen order), the earliest scan time and the row count.
    let mut extras: Vec<String> = Vec::new();
    let mut started_at: Option<String> = None;
    let targets = match saved.visit(&mut |r| {
        add_extra_columns(&mut extras, r);
        if started_at.as_ref().is_none_or(|s| r.record.scanned_at < *s) {
            started_at = Some(r.record.scanned_at.clone());
        }
    }) {
        Ok(n) => n,
        Err(e) => return setup_error(e),
    };
    let baseline = match args.baseline {
        Some(p) => match crate::report::baseline::Baseline::load(p) {
            Ok(b) => Some(Arc::new(b)),
            Err(e) => return setup_error(e),
        },
        None => None,
    };
    let sinks = match open_sinks_for(&csv, &jsonl, &html, &metrics, &extras) {
        Ok(s) => s,
        Err(e) => return setup_error(e),
    };
    let outcome = write_saved(
        |w| saved.feed(w),
        started_at.unwrap_or_default(),
        targets,
        sinks,
        baseline,
    );
    let outcome = match outcome {
        Ok(o) => o,
        // The file changed between the passes: nothing is published (outputs are atomic).
        Err(e) => return setup_error(e),
    };
    let cfg_fail = ScanConfig {
        fail_on,
        ..lab_free_config()
    };
    exit_code(&cfg_fail, &outcome)
}

/// A neutral config used only for its exit-code policy.
fn lab_free_config() -> ScanConfig {
    ScanConfig {
        cli_targets: vec![],
        inventories: vec![],
        port: 3389,
        rate: 0,
        concurrency: 1,
        connect_timeout: Duration::from_secs(1),
        timeout: Duration::from_secs(1),
        host_deadline: Duration::from_secs(1),
        retries: 0,
        depth: Depth::Standard,
        host_spacing: Duration::ZERO,
        dns_servers: vec![],
        pins: vec![],
        dns_timeout: Duration::from_secs(1),
        dns_rate: 0,
        max_targets: 1,
        skip_bad_lines: false,
        shard: None,
        expiry_warn_days: 30,
        ca_bundle: None,
        csv: None,
        jsonl: None,
        html: None,
        metrics: None,
        baseline: None,
        fail_on: FailOn::Never,
        quiet: true,
        verbose: 0,
    }
}

/// With RDPSWEEP_REPORT_PEAK_RSS set, print this process's own peak RSS (VmHWM) on stderr:
/// tests and benchmarks measure the scanner without counting the process that spawned it.
fn report_peak_rss() {
    if std::env::var_os("RDPSWEEP_REPORT_PEAK_RSS").is_none() {
        return;
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if let Some(v) = status.lines().find_map(|l| l.strip_prefix("VmHWM:")) {
        eprintln!("rdpsweep: peak RSS {}", v.trim());
    }
}
