//! `rdpsweep scan`: targets -> resolve -> probe -> diagnose -> reports.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::{
    OpenError, init_tracing, install_signal_handlers, print_summary, report_peak_rss,
    runtime_or_exit, setup_error,
};
use crate::cert::TrustStore;
use crate::cli::ScanArgs;
use crate::config::{InventoryConfig, ScanConfig};
use crate::diagnose::Policy;
use crate::engine::{self, EngineOptions, Outcome};
use crate::inventory::{InventoryError, Targets};
use crate::model::{HostReport, RunTag};
use crate::probe::Prober;
use crate::resolve::Resolver;
use crate::target::Target;

/// Why a scan could not start (or its engine failed). Exit 2; the text is the user's message.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("{0}")]
    Inventory(#[from] InventoryError),
    #[error("{0}")]
    CaBundle(#[from] crate::cert::TrustError),
    #[error("{0}")]
    Resolver(#[from] crate::resolve::ResolverError),
    #[error("{0}")]
    Baseline(#[from] crate::report::jsonl::ReadError),
    #[error(transparent)]
    Output(#[from] OpenError),
    /// The inventory check ran on a thread that did not come back.
    #[error("{0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("{0}")]
    Engine(String),
}

pub fn run(args: &ScanArgs) -> ExitCode {
    init_tracing(args.quiet, args.verbose);
    let cfg = match ScanConfig::from_args(args) {
        Ok(c) => c,
        Err(e) => return setup_error(e),
    };
    let rt = match runtime_or_exit() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let code = rt.block_on(async {
        let cancel = install_signal_handlers();
        match scan(&cfg, cancel).await {
            Ok(out) => {
                if !cfg.quiet {
                    print_summary(&out, &report_paths(&cfg.outputs));
                }
                super::exit_code(cfg.fail_on, &out)
            }
            Err(e) => setup_error(e),
        }
    });
    report_peak_rss();
    code
}

/// Run a scan with a checked config. Errors are setup errors (exit 2).
pub async fn scan(cfg: &ScanConfig, cancel: watch::Receiver<u8>) -> Result<Outcome, ScanError> {
    let inv = &cfg.inventory;
    // Validate every inventory line before the first packet, when the input can be read twice.
    let total = if inv.inventories.iter().any(|p| p.as_os_str() == "-") {
        None
    } else {
        let c = inv.clone();
        Some(tokio::task::spawn_blocking(move || prevalidate(&c)).await??)
    };
    let mut targets = Targets::open(&inv.cli_targets, &inv.inventories, &inv.options)?;
    for w in targets.take_warnings() {
        tracing::warn!("{w}");
    }
    let extras = targets.extra_columns().to_vec();
    let trust = match &cfg.ca_bundle {
        Some(p) => TrustStore::with_bundle(p)?,
        None => TrustStore::system(),
    };
    let resolver = Resolver::new(cfg.resolver.clone())?;
    let baseline = match &cfg.baseline {
        Some(p) => Some(Arc::new(crate::report::baseline::Baseline::load(p)?)),
        None => None,
    };
    let sinks = super::open_sinks(&cfg.outputs, &extras)?;
    let concurrency = fit_concurrency(cfg.concurrency, sockets_per_host(&cfg.probe));
    let prober = Arc::new(Prober::new(cfg.probe.clone(), resolver, trust));
    let policy = cfg.policy;
    let opts = EngineOptions {
        concurrency,
        grace: Duration::from_secs(1),
        progress: !cfg.quiet,
        open_only: cfg.open_only,
        total,
        started_at: crate::clock::now_rfc3339(),
        baseline,
    };
    let stream = WarnOnSkip {
        inner: targets,
        shard: inv.shard,
    };
    // --run-id: every row says which run (and shard) wrote it, for `merge --run-id/--shards`.
    let run = cfg.run_id.as_ref().map(|id| RunTag {
        id: Some(id.clone()),
        shard: inv.shard.map(|(k, n)| format!("{k}/{n}")),
    });
    let probe = move |t| {
        let rows = probe_and_diagnose(prober.clone(), policy, t);
        let run = run.clone();
        async move {
            let mut rows = rows.await;
            if let Some(run) = run {
                rows.iter_mut().for_each(|r| r.run = Some(run.clone()));
            }
            rows
        }
    };
    engine::run(opts, stream, probe, sinks, cancel)
        .await
        .map_err(|e| ScanError::Engine(e.to_string()))
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

/// Sockets one host in flight can hold at once: the matrix keeps the connection that got a TLS
/// layer selected (for the Windows hello) while it asks once more, the RDP-UDP probe's socket
/// runs beside them, and the alive phase sends its companion SYNs together.
fn sockets_per_host(p: &crate::probe::ProbeOptions) -> u64 {
    (p.alive_ports.len() as u64).max(2 + u64::from(p.udp))
}

/// Raise RLIMIT_NOFILE for the requested concurrency; cap concurrency (one warning) if the hard
/// limit is too low, so the scan never turns EMFILE into a storm of false host failures.
pub fn fit_concurrency(wanted: usize, per_host: u64) -> usize {
    // Every host's sockets, plus DNS, outputs and slack.
    let need = (wanted as u64).saturating_mul(per_host).saturating_add(64);
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
    let capped = (have.saturating_sub(64) / per_host).max(1) as usize;
    eprintln!(
        "rdpsweep: warning: open-file limit {have} is too low for --concurrency {wanted}; using {capped} (raise `ulimit -n`)"
    );
    capped
}

/// Surfaces --skip-bad-lines warnings as they happen.
struct WarnOnSkip {
    inner: Targets,
    shard: Option<(u32, u32)>,
}

/// Whether a target belongs to this run's shard (always, without --shard).
fn in_my_shard(shard: Option<(u32, u32)>, t: &Target) -> bool {
    shard.is_none_or(|(k, n)| crate::shard::in_shard(&t.host.to_string(), t.port, k, n))
}

impl Iterator for WarnOnSkip {
    type Item = Result<Target, InventoryError>;
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

/// Reads every target once (without scanning) and counts this shard's: the first bad line is
/// an error before any packet is sent, and the count drives the progress bar.
fn prevalidate(inv: &InventoryConfig) -> Result<u64, InventoryError> {
    let mut t = Targets::open(&inv.cli_targets, &inv.inventories, &inv.options)?;
    let mut n = 0u64;
    for item in t.by_ref() {
        if in_my_shard(inv.shard, &item?) {
            n += 1;
        }
    }
    Ok(n)
}

/// The report files a scan wrote, for the terminal summary (stdout is not a place to look).
fn report_paths(outs: &crate::config::Outputs) -> Vec<String> {
    [&outs.html, &outs.csv, &outs.jsonl, &outs.metrics]
        .into_iter()
        .flatten()
        .filter_map(|o| match o {
            crate::report::Output::File(p) => Some(p.display().to_string()),
            crate::report::Output::Stdout => None,
        })
        .collect()
}
