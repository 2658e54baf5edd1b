//! `rdpsweep merge`: the JSON Lines of several scans (shards, re-runs) -> one fleet report.

use std::process::ExitCode;

use super::report::{Saved, rewrite_saved};
use crate::cli::MergeArgs;

pub fn run(args: &MergeArgs) -> ExitCode {
    rewrite_saved(&args.out, &args.baseline, args.fail_on, || {
        crate::report::merge::merge(&args.inputs).map(Saved::Rows)
    })
}
