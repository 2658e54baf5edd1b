//! The subcommands: parsed flags -> a checked config -> the work -> an exit code. One file per
//! subcommand; this module holds what they share (exit codes, logging, the runtime, signals,
//! opening the report sinks). Setup errors (bad flags, unreadable inventory, unwritable output)
//! end here with exit 2; host failures never do.

pub mod demo;
pub mod lab;
pub mod merge;
pub mod report;
pub mod scan;

use std::process::ExitCode;

use tokio::sync::watch;

use crate::cli::{Cli, Command, FailOn};
use crate::config::Outputs;
use crate::engine::Outcome;
use crate::report::{Output, Sink};

pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_SETUP: u8 = 2;
pub const EXIT_INTERRUPTED: u8 = 130;

/// Parse the flags and run the subcommand they name.
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
            scan::run(&args)
        }
        Command::Demo(args) => demo::run(&args),
        Command::Lab(args) => lab::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Merge(args) => merge::run(&args),
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

/// The async runtime every subcommand that touches the network runs on.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

/// [`runtime`], or the setup error that says it could not start.
fn runtime_or_exit() -> Result<tokio::runtime::Runtime, ExitCode> {
    runtime().map_err(|e| setup_error(format!("cannot start the async runtime: {e}")))
}

/// Exit status from the outcome and --fail-on.
pub fn exit_code(fail_on: FailOn, out: &Outcome) -> ExitCode {
    if let Some(e) = &out.sink_error {
        return setup_error(format!("writing the report failed: {e}"));
    }
    if out.interrupted {
        return ExitCode::from(EXIT_INTERRUPTED);
    }
    if fail_on.is_failing(out.worst, out.new_failures) {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::SUCCESS
    }
}

fn print_summary(out: &Outcome, reports: &[String]) {
    crate::report::terminal::print(out, reports);
}

/// First Ctrl-C / SIGTERM: stop starting hosts and drain (the grace period). Second: stop the
/// hosts in flight at once; the engine still writes and publishes every finished row, and a
/// third signal (or a writer that cannot finish in [`LAST_WORDS`]) exits on the spot.
pub fn install_signal_handlers() -> watch::Receiver<u8> {
    let (tx, rx) = watch::channel(0u8);
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
        let _ = tx.send(1);
        term = wait(&mut term).await;
        eprintln!("rdpsweep: interrupted again; writing the finished hosts and stopping");
        let _ = tx.send(crate::engine::STOP_NOW);
        tokio::select! {
            _ = wait(&mut term) => {}
            _ = tokio::time::sleep(LAST_WORDS) => {}
        }
        std::process::exit(i32::from(EXIT_INTERRUPTED));
    });
    rx
}

/// After a second signal, how long the finished rows may take to reach the outputs before the
/// process exits regardless (a writer stuck on a dead NFS mount must not hold it forever).
const LAST_WORDS: std::time::Duration = std::time::Duration::from_secs(5);

/// A report output that could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {name}: {source}")]
pub struct OpenError {
    /// The path as given, or `stdout`.
    pub name: String,
    pub source: std::io::Error,
}

/// One sink per requested output; every file is created (as a temporary) before any work.
pub fn open_sinks(outs: &Outputs, extras: &[String]) -> Result<Vec<Box<dyn Sink>>, OpenError> {
    use crate::report::{csv::CsvSink, html::HtmlSink, jsonl::JsonlSink, metrics::MetricsSink};
    fn open<S: Sink + 'static>(
        o: &Output,
        make: impl FnOnce(&Output) -> std::io::Result<S>,
    ) -> Result<Box<dyn Sink>, OpenError> {
        match make(o) {
            Ok(s) => Ok(Box::new(s)),
            Err(source) => Err(OpenError {
                name: o.name(),
                source,
            }),
        }
    }
    let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
    if let Some(o) = &outs.csv {
        sinks.push(open(o, |o| {
            CsvSink::create_with(o, extras, outs.csv_format)
        })?);
    }
    if let Some(o) = &outs.jsonl {
        sinks.push(open(o, JsonlSink::create)?);
    }
    if let Some(o) = &outs.html {
        sinks.push(open(o, |o| HtmlSink::create(o, extras))?);
    }
    if let Some(o) = &outs.metrics {
        sinks.push(open(o, MetricsSink::create)?);
    }
    // The Pushgateway sink goes last: the writer publishes sinks in order, so the files are in
    // place before the push, and a failed push (exit 2) leaves them written.
    if let Some(t) = &outs.metrics_push {
        sinks.push(Box::new(MetricsSink::push(t.clone())));
    }
    Ok(sinks)
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
