//! `rdpsweep merge`: the JSON Lines of several scans (shards, re-runs) -> one fleet report.

use std::process::ExitCode;

use super::report::{Saved, rewrite_saved};
use super::setup_error;
use crate::cli::MergeArgs;
use crate::report::merge::{RunCheck, merge_checked};
use crate::shard::{run_id, utc_date_now};

pub fn run(args: &MergeArgs) -> ExitCode {
    let check = match args
        .run_id
        .as_deref()
        .map(|r| run_id(r, &utc_date_now()))
        .transpose()
    {
        Ok(run_id) => RunCheck {
            run_id,
            shards: args.shards,
        },
        Err(e) => return setup_error(e),
    };
    // A cluster job's first run has no previous merged report to diff against yet.
    let baseline = match &args.baseline {
        Some(p) if args.allow_missing_baseline && !p.exists() => {
            eprintln!(
                "rdpsweep: no baseline at {} yet (first run): every failing row counts as new",
                p.display()
            );
            None
        }
        b => b.clone(),
    };
    rewrite_saved(&args.out, &baseline, args.fail_on, || {
        merge_checked(&args.inputs, &check).map(Saved::Rows)
    })
}
