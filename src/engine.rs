//! The scan engine: streams targets in, runs a bounded number of probes at once, streams
//! diagnosed rows out to the sinks, and drains cleanly on Ctrl-C / SIGTERM.
//!
//! It is generic over the target type and the probe function so it can be tested with
//! in-process fakes; `cmd/scan.rs` plugs in the real inventory and prober. Memory is bounded by
//! `concurrency` (permits) and the channel capacities, never by the number of targets.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;

use crate::model::{HostReport, Severity};
use crate::report::baseline::{self, Baseline, Change};
use crate::report::html::summary::Tally;
use crate::report::{Sink, Summary};

/// How long the target reader and the report writer pause to let work gather (see their loops).
/// Far below a host's own time; the channels (>= 64 entries) absorb what arrives meanwhile.
const BATCH_PAUSE: Duration = Duration::from_millis(5);
/// Rows the writer takes per wake-up.
const WRITE_BATCH: usize = 256;

#[derive(Clone)]
pub struct EngineOptions {
    pub concurrency: usize,
    /// How long in-flight hosts get to finish after an interrupt.
    pub grace: Duration,
    /// Show a progress bar (only when stderr is a terminal; cron stays silent).
    pub progress: bool,
    /// Known number of targets (for the progress bar), if counted beforehand.
    pub total: Option<u64>,
    pub started_at: String,
    /// Previous scan to diff against (`--baseline`).
    pub baseline: Option<Arc<Baseline>>,
    /// `--open-only`: write only rows whose RDP port accepted a TCP connection.
    pub open_only: bool,
}

/// What the scan produced, for the summary line and the exit code.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub targets: u64,
    pub rows: u64,
    pub interrupted: bool,
    pub worst: Option<Severity>,
    pub verdicts: Vec<(String, u64)>,
    pub duration: Duration,
    /// First sink error (disk full, ...): the scan result is then incomplete.
    pub sink_error: Option<String>,
    /// Rows that are new failures against the baseline.
    pub new_failures: u64,
    /// What the written rows add up to (the terminal summary's table).
    pub tally: Tally,
    /// Rows `--open-only` left out, by why the port did not accept.
    pub closed: Closed,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    Input(String),
}

/// Cancellation: the number of interrupts so far. The first (1) stops starting hosts and gives
/// those in flight the grace period; the second (2) stops them at once. Either way every
/// finished row is written and every output published.
pub type Cancel = watch::Receiver<u8>;

/// The interrupt count that ends in-flight hosts without waiting for the grace period.
pub const STOP_NOW: u8 = 2;

/// How long (in 10 ms steps) the end of a scan waits for the target reader before leaving it
/// behind: one that finished its input returns at once.
const READER_WAIT_STEPS: u32 = 50;

/// Run the scan. `targets` is read on a blocking thread (files, stdin) and may yield input
/// errors; the first one stops the scan (finished hosts are still written).
pub async fn run<T, I, E, F, Fut>(
    opts: EngineOptions,
    targets: I,
    probe: F,
    sinks: Vec<Box<dyn Sink>>,
    mut cancel: Cancel,
) -> Result<Outcome, EngineError>
where
    T: Send + 'static,
    E: std::fmt::Display + Send + 'static,
    I: Iterator<Item = Result<T, E>> + Send + 'static,
    F: Fn(T) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Vec<HostReport>> + Send + 'static,
{
    let start = Instant::now();
    let concurrency = opts.concurrency.max(1);

    // Targets come from a blocking reader so a slow stdin never stalls the runtime.
    let (tx_t, rx_t) = mpsc::channel::<Result<T, String>>(concurrency.clamp(64, 4096));
    let reader = std::thread::spawn(move || {
        for item in targets {
            let item = item.map_err(|e| e.to_string());
            let stop = item.is_err();
            // Waiting for room inside blocking_send would wake this thread once per target taken
            // (a futex wake and a context switch per host); pausing while the channel is full
            // refills it in batches instead. An item is still sent as soon as it is read.
            while tx_t.capacity() == 0 {
                if tx_t.is_closed() {
                    return;
                }
                std::thread::sleep(BATCH_PAUSE);
            }
            if tx_t.blocking_send(item).is_err() || stop {
                break;
            }
        }
    });

    // One writer thread owns every sink: no lock contention, and output order is completion order.
    let (tx_r, rx_r) = mpsc::channel::<WriterMsg>(concurrency.clamp(64, 4096));
    let bar = progress_bar(&opts);
    let writer_bar = bar.clone();
    let started_at = opts.started_at.clone();
    let row_writer = RowWriter::new(sinks, opts.baseline.clone()).open_only(opts.open_only);
    let writer =
        std::thread::spawn(move || write_all(rx_r, row_writer, writer_bar, started_at, start));

    // The dispatch loop runs as a task on the runtime, not on the caller's (block_on) thread:
    // every finished host releases a permit, and waking a task on a busy worker is a queue push
    // where waking the block_on thread is a futex call and a context switch.
    let grace = opts.grace;
    let dispatch =
        tokio::spawn(
            async move { dispatch(concurrency, grace, rx_t, tx_r, probe, &mut cancel).await },
        );
    let (targets_n, input_error, interrupted) = match dispatch.await {
        Ok(v) => v,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Only a runtime shutting down cancels the task: nothing was left to write.
        Err(_) => (0, None, true),
    };

    // A reader blocked on a full channel saw rx_t dropped above and returns. One blocked
    // reading its input (`-i -` on a terminal or an open pipe) may never return: after an
    // interrupt or a stop, leave it behind (process exit ends it) rather than wait for input.
    for _ in 0..READER_WAIT_STEPS {
        if reader.is_finished() {
            let _ = reader.join();
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let stats = tokio::task::spawn_blocking(move || writer.join())
        .await
        .ok()
        .and_then(|r| r.ok())
        .unwrap_or_default();
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let mut verdicts: Vec<(String, u64)> = stats.verdicts.into_iter().collect();
    verdicts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let outcome = Outcome {
        targets: targets_n,
        rows: stats.rows,
        interrupted,
        worst: stats.worst,
        verdicts,
        duration: start.elapsed(),
        sink_error: stats.error,
        new_failures: stats.new_failures,
        tally: stats.tally,
        closed: stats.closed,
    };
    match input_error {
        Some(e) => Err(EngineError::Input(e)),
        None => Ok(outcome),
    }
}

/// Start hosts while permits and targets last; then wait for them (or, after an interrupt, for
/// the grace period). Returns (targets started, input error, interrupted).
async fn dispatch<T, E, F, Fut>(
    concurrency: usize,
    grace: Duration,
    mut rx_t: mpsc::Receiver<Result<T, E>>,
    tx_r: mpsc::Sender<WriterMsg>,
    probe: F,
    cancel: &mut Cancel,
) -> (u64, Option<E>, bool)
where
    T: Send + 'static,
    F: Fn(T) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Vec<HostReport>> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(concurrency));
    let mut set: JoinSet<()> = JoinSet::new();
    let mut targets_n = 0u64;
    let mut input_error = None;
    let mut interrupted = *cancel.borrow() > 0;

    while !interrupted {
        // A fatal sink error (disk full...) closed the writer: scanning on would be for nothing.
        if tx_r.is_closed() {
            break;
        }
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = cancel.changed() => { interrupted = true; break; }
        };
        let next = tokio::select! {
            n = rx_t.recv() => n,
            _ = cancel.changed() => { interrupted = true; break; }
        };
        let target = match next {
            None => break,
            Some(Err(e)) => {
                input_error = Some(e);
                break;
            }
            Some(Ok(t)) => t,
        };
        targets_n += 1;
        let probe = probe.clone();
        let tx = tx_r.clone();
        set.spawn(async move {
            let reports = probe(target).await;
            for r in reports {
                // The writer only goes away on a fatal sink error; nothing more to do then.
                if tx.send(WriterMsg::Row(Box::new(r))).await.is_err() {
                    break;
                }
            }
            drop(permit);
        });
        // Reap finished tasks so the set stays bounded by the permits.
        while set.try_join_next().is_some() {}
    }
    interrupted = interrupted || *cancel.borrow() > 0;
    drop(rx_t);

    // Every target has started (or the loop stopped): wait for the hosts in flight, but keep
    // listening, since an interrupt now must still cut the wait short.
    if !interrupted {
        loop {
            tokio::select! {
                joined = set.join_next() => if joined.is_none() { break },
                changed = cancel.changed() => {
                    if changed.is_err() {
                        // The signal task is gone: no interrupt can come any more.
                        while set.join_next().await.is_some() {}
                    }
                    interrupted = true;
                    break;
                }
            }
        }
    }
    if interrupted {
        // Give in-flight hosts the grace period (none after a second interrupt); whatever is
        // still running then is dropped unwritten.
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            if *cancel.borrow() >= STOP_NOW {
                set.abort_all();
            }
            tokio::select! {
                joined = tokio::time::timeout_at(deadline, set.join_next()) => match joined {
                    Ok(Some(_)) => continue,
                    Ok(None) => break,
                    Err(_) => {
                        set.abort_all();
                        while set.join_next().await.is_some() {}
                        break;
                    }
                },
                // A second interrupt: abort at the top of the loop. An Err means the sender is
                // gone; the grace deadline still ends the wait.
                changed = cancel.changed() => if changed.is_err() {
                    let _ = tokio::time::timeout_at(deadline, async {
                        while set.join_next().await.is_some() {}
                    }).await;
                    set.abort_all();
                    while set.join_next().await.is_some() {}
                    break;
                },
            }
        }
    }
    let _ = tx_r
        .send(WriterMsg::Done {
            targets: targets_n,
            interrupted,
        })
        .await;
    drop(tx_r);
    (targets_n, input_error, interrupted)
}

/// Addresses whose RDP port did not accept a TCP connection, by kind (what `--open-only`
/// leaves out of the outputs; the summary still counts them).
#[derive(Default, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed {
    /// A RST: the machine is there, nothing listens on the port.
    pub refused: u64,
    /// No answer within the timeout (a firewall drops, or nothing is there).
    pub filtered: u64,
    /// ICMP unreachable or no route: down or not there.
    pub down: u64,
    /// No address to try (DNS failed) or another connect error.
    pub other: u64,
    /// `--open-only` was on: these rows are not in the outputs.
    pub left_out: bool,
}

impl Closed {
    pub fn total(&self) -> u64 {
        self.refused + self.filtered + self.down + self.other
    }

    fn count(&mut self, r: &HostReport) {
        use crate::model::TcpStatus as T;
        match r.record.tcp.as_ref().map(|t| t.status) {
            Some(T::Refused) => self.refused += 1,
            Some(T::Filtered) => self.filtered += 1,
            Some(T::Unreachable) => self.down += 1,
            _ => self.other += 1,
        }
    }
}

/// Whether the row's RDP port accepted a TCP connection.
fn port_open(r: &HostReport) -> bool {
    matches!(&r.record.tcp, Some(t) if t.status == crate::model::TcpStatus::Open)
}

#[derive(Default, Debug, Clone)]
pub struct WriterStats {
    pub rows: u64,
    /// Worst severity that decides the default exit code: addresses swept from a CIDR or
    /// range where nothing accepted the connection do not count (a named host always does).
    pub worst: Option<Severity>,
    pub verdicts: HashMap<String, u64>,
    /// Rows marked `new` against the baseline.
    pub new_failures: u64,
    pub error: Option<String>,
    pub tally: Tally,
    pub closed: Closed,
}

/// Owns every sink: applies the baseline diff, counts, and publishes the files at the end.
/// Used by the scan and by `report --from` / `merge`, so both write identical outputs.
pub struct RowWriter {
    sinks: Vec<Box<dyn Sink>>,
    baseline: Option<Arc<Baseline>>,
    seen: HashSet<baseline::Key>,
    open_only: bool,
    pub stats: WriterStats,
}

impl RowWriter {
    pub fn new(sinks: Vec<Box<dyn Sink>>, baseline: Option<Arc<Baseline>>) -> RowWriter {
        RowWriter {
            sinks,
            baseline,
            seen: HashSet::new(),
            open_only: false,
            stats: WriterStats::default(),
        }
    }

    /// `--open-only`: rows whose port did not accept are counted, not written.
    pub fn open_only(mut self, on: bool) -> RowWriter {
        self.open_only = on;
        self.stats.closed.left_out = on;
        self
    }

    pub fn has_baseline(&self) -> bool {
        self.baseline.is_some()
    }

    pub fn write(&mut self, mut r: HostReport) {
        if !port_open(&r) {
            self.stats.closed.count(&r);
            if self.open_only {
                return;
            }
        }
        // The baseline adds its own findings (certificate changes) and the change label.
        let new = match &self.baseline {
            Some(b) => {
                let new = b.apply(&mut r);
                self.seen.insert(baseline::key(&r));
                new
            }
            // Without any baseline (a first run) every failing row is new.
            None => baseline::is_failing(r.severity),
        };
        if new {
            self.stats.new_failures += 1;
        }
        self.emit(&r);
    }

    fn emit(&mut self, r: &HostReport) {
        let st = &mut self.stats;
        st.rows += 1;
        // Nothing answering at a swept address is the normal case in a subnet, not a finding.
        if !r.record.target.from_range || port_open(r) {
            st.worst = st.worst.max(Some(r.severity));
        }
        st.tally.add_row(r);
        *st.verdicts.entry(r.verdict.to_string()).or_default() += 1;
        if st.error.is_none() {
            for s in self.sinks.iter_mut() {
                if let Err(e) = s.write(r) {
                    st.error = Some(e.to_string());
                    break;
                }
            }
        }
    }

    /// Write the baseline's `gone` rows (not after an interrupt: unscanned is not gone), then
    /// publish every sink.
    pub fn finish(mut self, mut summary: Summary) -> WriterStats {
        if let Some(b) = self.baseline.take()
            && !summary.interrupted
        {
            for mut g in b.gone(&self.seen) {
                g.change = Some(Change::Gone);
                g.first_seen_failing = None;
                self.emit(&g);
            }
        }
        let mut verdicts: Vec<(String, u64)> = self
            .stats
            .verdicts
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        verdicts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        summary.rows = self.stats.rows;
        summary.verdicts = verdicts;
        for s in self.sinks.drain(..) {
            if self.stats.error.is_some() {
                // A failed sink must not publish a partial file; dropping it removes its temporary.
                drop(s);
                continue;
            }
            if let Err(e) = s.finish(&summary) {
                self.stats.error = Some(e.to_string());
            }
        }
        self.stats
    }
}

enum WriterMsg {
    Row(Box<HostReport>),
    Done { targets: u64, interrupted: bool },
}

fn write_all(
    mut rx: mpsc::Receiver<WriterMsg>,
    mut w: RowWriter,
    bar: Option<indicatif::ProgressBar>,
    started_at: String,
    start: Instant,
) -> WriterStats {
    let mut summary = Summary {
        started_at,
        ..Summary::default()
    };
    let mut batch = Vec::with_capacity(WRITE_BATCH);
    // Everything queued at once, then a short pause so that more rows gather: the writer wakes
    // once per batch, not once per row (each wake is a futex call and a context switch).
    'recv: while rx.blocking_recv_many(&mut batch, WRITE_BATCH) > 0 {
        for msg in batch.drain(..) {
            match msg {
                WriterMsg::Row(r) => {
                    w.write(*r);
                    if let Some(b) = &bar {
                        b.inc(1);
                    }
                    if w.stats.error.is_some() {
                        // Closing the channel tells the engine to stop starting hosts.
                        rx.close();
                        break 'recv;
                    }
                }
                WriterMsg::Done {
                    targets,
                    interrupted,
                } => {
                    summary.targets = targets;
                    summary.interrupted = interrupted;
                }
            }
        }
        std::thread::sleep(BATCH_PAUSE);
    }
    summary.duration_s = start.elapsed().as_secs_f64();
    w.finish(summary)
}

fn progress_bar(opts: &EngineOptions) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !opts.progress || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = match opts.total {
        Some(n) => indicatif::ProgressBar::new(n),
        None => indicatif::ProgressBar::new_spinner(),
    };
    let style = indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} rows  {per_sec}",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(bar)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct MemSink(Arc<Mutex<Vec<String>>>);
    impl Sink for MemSink {
        fn write(&mut self, r: &HostReport) -> std::io::Result<()> {
            self.0.lock().unwrap().push(r.record.target.host.clone());
            Ok(())
        }
        fn finish(self: Box<Self>, _s: &Summary) -> std::io::Result<()> {
            self.0.lock().unwrap().push("<finished>".into());
            Ok(())
        }
    }

    fn fake_report(host: &str) -> HostReport {
        let target = TargetInfo {
            host: host.into(),
            port: 3389,
            ..Default::default()
        };
        let dns = DnsOutcome::status(DnsStatus::Literal);
        let rec = ProbeRecord::new(target, dns, "2026-01-01T00:00:00Z".into());
        crate::diagnose::report(rec, 0, &Default::default())
    }

    fn opts(c: usize) -> EngineOptions {
        EngineOptions {
            concurrency: c,
            grace: Duration::from_millis(200),
            progress: false,
            total: None,
            started_at: String::new(),
            baseline: None,
            open_only: false,
        }
    }

    #[tokio::test]
    async fn bounded_concurrency_and_every_row_written() {
        let rows = Arc::new(Mutex::new(Vec::new()));
        let inflight = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let (_tx, rx) = watch::channel(0u8);
        let targets = (0..500).map(|i| Ok::<_, String>(format!("h{i}")));
        let (inf, pk) = (inflight.clone(), peak.clone());
        let out = run(
            opts(8),
            targets,
            move |h: String| {
                let (inf, pk) = (inf.clone(), pk.clone());
                async move {
                    let n = inf.fetch_add(1, Ordering::SeqCst) + 1;
                    pk.fetch_max(n, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    inf.fetch_sub(1, Ordering::SeqCst);
                    vec![fake_report(&h)]
                }
            },
            vec![Box::new(MemSink(rows.clone()))],
            rx,
        )
        .await
        .unwrap();
        assert_eq!(out.rows, 500);
        assert_eq!(out.targets, 500);
        assert!(
            peak.load(Ordering::SeqCst) <= 8,
            "peak {}",
            peak.load(Ordering::SeqCst)
        );
        let rows = rows.lock().unwrap();
        assert_eq!(rows.len(), 501);
        assert_eq!(rows.last().unwrap(), "<finished>");
    }

    #[tokio::test]
    async fn input_error_stops_the_scan_but_keeps_finished_rows() {
        let rows = Arc::new(Mutex::new(Vec::new()));
        let (_tx, rx) = watch::channel(0u8);
        let targets = vec![
            Ok("a".to_string()),
            Ok("b".to_string()),
            Err("inv.csv:3: bad port".to_string()),
        ]
        .into_iter();
        let err = run(
            opts(1),
            targets,
            |h: String| async move { vec![fake_report(&h)] },
            vec![Box::new(MemSink(rows.clone()))],
            rx,
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("inv.csv:3"));
        assert_eq!(rows.lock().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn interrupt_writes_finished_hosts_and_stops_starting_new_ones() {
        let rows = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = watch::channel(0u8);
        let started = Arc::new(AtomicUsize::new(0));
        let st = started.clone();
        let targets = (0..10_000).map(|i| Ok::<_, String>(format!("h{i}")));
        let handle = tokio::spawn(run(
            opts(4),
            targets,
            move |h: String| {
                let st = st.clone();
                async move {
                    st.fetch_add(1, Ordering::SeqCst);
                    // Some hosts are slower than the grace period and must be dropped.
                    let slow = h.ends_with('7');
                    tokio::time::sleep(Duration::from_millis(if slow { 5_000 } else { 2 })).await;
                    vec![fake_report(&h)]
                }
            },
            vec![Box::new(MemSink(rows.clone()))],
            rx,
        ));
        tokio::time::sleep(Duration::from_millis(100)).await;
        tx.send(1).unwrap();
        let out = handle.await.unwrap().unwrap();
        assert!(out.interrupted);
        assert!(out.targets < 10_000);
        let rows = rows.lock().unwrap();
        assert_eq!(rows.last().unwrap(), "<finished>");
        assert_eq!(rows.len() as u64, out.rows + 1);
        assert!(out.rows > 0);
    }
}
