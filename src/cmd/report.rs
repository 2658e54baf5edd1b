//! `rdpsweep report --from SCAN.jsonl`: rebuild reports from a saved scan without scanning.
//! Also the writer `merge` uses: saved rows -> baseline diff -> every requested output.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use super::{exit_code, init_tracing, open_sinks, setup_error};
use crate::cli::{FailOn, OutputArgs, ReportArgs};
use crate::config::Outputs;
use crate::engine::{Outcome, RowWriter};
use crate::model::HostReport;
use crate::report::Sink;
use crate::report::baseline::Baseline;
use crate::report::jsonl::{ReadError, for_each_report};

pub fn run(args: &ReportArgs) -> ExitCode {
    rewrite_saved(&args.out, &args.baseline, args.fail_on, || {
        Ok::<_, std::convert::Infallible>(Saved::File(args.from.clone()))
    })
}

/// Saved rows to rewrite: in memory (`merge` deduplicates across files), or one JSON Lines file
/// streamed twice (`report`: the first pass checks every line and finds the inventory columns
/// before any output is opened, the second writes; memory stays flat in the file's size).
pub(super) enum Saved {
    Rows(Vec<HostReport>),
    File(PathBuf),
}

impl Saved {
    /// Looks at every row in order; returns how many there are.
    fn visit(&self, f: &mut dyn FnMut(&HostReport)) -> Result<u64, ReadError> {
        match self {
            Saved::Rows(rows) => {
                rows.iter().for_each(f);
                Ok(rows.len() as u64)
            }
            Saved::File(path) => for_each_report(path, |r| f(&r)),
        }
    }

    /// Hands every row over, in order.
    fn feed(self, f: &mut dyn FnMut(HostReport)) -> Result<(), ReadError> {
        match self {
            Saved::Rows(rows) => rows.into_iter().for_each(f),
            Saved::File(path) => {
                for_each_report(&path, f)?;
            }
        }
        Ok(())
    }
}

/// Write saved rows (one scan, or several merged) to the requested outputs. `load` runs after
/// the outputs are checked, so a bad flag is reported before a large input is read.
pub(super) fn rewrite_saved<E: std::fmt::Display>(
    out: &OutputArgs,
    baseline: &Option<PathBuf>,
    fail_on: FailOn,
    load: impl FnOnce() -> Result<Saved, E>,
) -> ExitCode {
    init_tracing(false, 0);
    let outputs = match Outputs::from_args(out, None) {
        Ok(o) => o,
        Err(e) => return setup_error(e),
    };
    if outputs.is_empty() {
        return setup_error(
            "nothing to write: name at least one of --csv, --jsonl, --html, --metrics, --metrics-push",
        );
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
    let baseline = match baseline {
        Some(p) => match Baseline::load(p) {
            Ok(b) => Some(Arc::new(b)),
            Err(e) => return setup_error(e),
        },
        None => None,
    };
    let sinks = match open_sinks(&outputs, &extras) {
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
    match outcome {
        Ok(o) => exit_code(fail_on, &o),
        // The file changed between the passes: nothing is published (outputs are atomic).
        Err(e) => setup_error(e),
    }
}

/// Adds `r`'s extra inventory columns not yet in `out`: first-seen order, as the scan's CSV
/// header had them.
fn add_extra_columns(out: &mut Vec<String>, r: &HostReport) {
    for (k, _) in &r.record.target.extra {
        if !out.iter().any(|e| e == k) {
            out.push(k.clone());
        }
    }
}

/// Write saved rows, which `feed` produces one at a time, through the same writer as a scan
/// (baseline diff, every sink). An error from `feed` abandons the outputs unpublished.
fn write_saved(
    feed: impl FnOnce(&mut dyn FnMut(HostReport)) -> Result<(), ReadError>,
    started_at: String,
    targets: u64,
    sinks: Vec<Box<dyn Sink>>,
    baseline: Option<Arc<Baseline>>,
) -> Result<Outcome, ReadError> {
    let mut w = RowWriter::new(sinks, baseline);
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
        tally: stats.tally,
        closed: stats.closed,
    })
}
