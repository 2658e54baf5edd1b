//! Flags -> a checked `ScanConfig`, before any I/O touches the network.
//!
//! Everything a user can get wrong is rejected here with a message that says what to do,
//! so that `main` maps it to exit code 2 and the scan never starts half-configured.
//!
//! The config is grouped by the layer that reads it: what to scan (`inventory`), how names
//! resolve (`resolver`), what each address is asked (`probe`, `ca_bundle`), how records are judged
//! (`policy`), the run itself, where reports go (`outputs`) and what makes the exit status 1
//! (`fail_on`). Each layer is handed its group only.

use std::io;
use std::net::IpAddr;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::{FailOn, OutputArgs, ScanArgs};
use crate::diagnose::Policy;
use crate::inventory::InventoryOptions;
use crate::probe::ProbeOptions;
use crate::report::Output;
use crate::resolve::{ResolverOptions, parse_dns_server, parse_pin};

/// A flag combination that cannot run. Each message names the flag and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "no targets: name hosts, IPs or CIDRs on the command line, or an inventory with -i FILE (see --help)"
    )]
    NoTargets,
    #[error("{flag} must be greater than zero (e.g. 3s, 500ms)")]
    ZeroDuration { flag: &'static str },
    #[error(
        "--host-deadline ({}) is shorter than --connect-timeout ({}); raise it",
        humantime::format_duration(*.deadline),
        humantime::format_duration(*.connect)
    )]
    DeadlineBelowConnect {
        deadline: Duration,
        connect: Duration,
    },
    #[error("--max-targets must be at least 1")]
    NoMaxTargets,
    /// `--dns-server` or `--resolve` (the message names the flag).
    #[error("{0}")]
    Resolver(String),
    #[error(
        "--ca-bundle {}: {source} (pass a PEM file of CA certificates)",
        path.display()
    )]
    CaBundle { path: PathBuf, source: io::Error },
    #[error(
        "--baseline {}: {source} (pass the previous run's --jsonl file)",
        path.display()
    )]
    Baseline { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error(transparent)]
    RunId(#[from] crate::shard::RunIdError),
    #[error(transparent)]
    Client(#[from] crate::clients::UnknownClient),
}

/// An output that cannot be written, or two outputs that would overwrite each other.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// From `report::dest::check_writable` (the message names the path and the cause).
    #[error("{0}")]
    Unwritable(String),
    #[error("only one of --csv, --jsonl, --html, --metrics can write to stdout (-)")]
    StdoutTwice,
    /// `--csv-dialect` / `--csv-delimiter` (the message names the flag).
    #[error("{0}")]
    CsvFormat(String),
    #[error(transparent)]
    Push(#[from] crate::report::push::PushUrlError),
    #[error(
        "{first} and {second} both write to {}: one report would replace the other; give each its own file",
        path.display()
    )]
    SameFile {
        first: &'static str,
        second: &'static str,
        path: PathBuf,
    },
    #[error(
        "{file_flag} {} is this process's stdout, where {stdout_flag} - already writes; give {file_flag} its own file",
        path.display()
    )]
    FileIsStdout {
        stdout_flag: &'static str,
        file_flag: &'static str,
        path: PathBuf,
    },
}

/// What to scan: targets named on the command line, inventories, and this run's shard.
#[derive(Debug, Clone)]
pub struct InventoryConfig {
    pub cli_targets: Vec<String>,
    pub inventories: Vec<PathBuf>,
    pub options: InventoryOptions,
    /// (K, N): scan only shard K of N.
    pub shard: Option<(u32, u32)>,
}

/// Where the reports go (each checked writable, no two the same file).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outputs {
    pub csv: Option<Output>,
    pub jsonl: Option<Output>,
    pub html: Option<Output>,
    pub metrics: Option<Output>,
    /// `--metrics-push`: the Pushgateway the metrics go to after the files are written.
    pub metrics_push: Option<crate::report::push::PushTarget>,
    /// `--csv-dialect`, `--csv-delimiter`.
    pub csv_format: crate::report::csv::CsvFormat,
}

#[derive(Debug, Clone)]
pub struct ScanConfig {
    pub inventory: InventoryConfig,
    pub resolver: ResolverOptions,
    pub probe: ProbeOptions,
    /// Extra trusted CAs (PEM), loaded into the certificate trust store before the scan.
    pub ca_bundle: Option<PathBuf>,
    /// The diagnosis' thresholds.
    pub policy: Policy,
    /// Hosts in flight at once (before the open-file limit is applied).
    pub concurrency: usize,
    /// `--run-id`, the date filled in: tags every row (with the shard).
    pub run_id: Option<String>,
    pub outputs: Outputs,
    /// Previous scan's JSON Lines to diff against.
    pub baseline: Option<PathBuf>,
    pub fail_on: FailOn,
    /// `--open-only`: write only addresses whose RDP port accepted.
    pub open_only: bool,
    pub quiet: bool,
    pub verbose: u8,
}

impl ScanConfig {
    pub fn from_args(a: &ScanArgs) -> Result<ScanConfig, ConfigError> {
        if a.targets.is_empty() && a.inventory.is_empty() {
            return Err(ConfigError::NoTargets);
        }
        for (flag, d) in [
            ("--connect-timeout", a.connect_timeout),
            ("--timeout", a.timeout),
            ("--host-deadline", a.host_deadline),
            ("--dns-timeout", a.dns_timeout),
        ] {
            if d.is_zero() {
                return Err(ConfigError::ZeroDuration { flag });
            }
        }
        if a.host_deadline < a.connect_timeout {
            return Err(ConfigError::DeadlineBelowConnect {
                deadline: a.host_deadline,
                connect: a.connect_timeout,
            });
        }
        if a.max_targets == 0 {
            return Err(ConfigError::NoMaxTargets);
        }
        let mut servers = Vec::new();
        for s in &a.dns_servers {
            servers.push(parse_dns_server(s).map_err(|e| ConfigError::Resolver(e.to_string()))?);
        }
        let mut pins: Vec<(String, Vec<IpAddr>)> = Vec::new();
        for s in &a.resolve {
            let (name, ip) = parse_pin(s).map_err(|e| ConfigError::Resolver(e.to_string()))?;
            match pins.iter_mut().find(|(n, _)| *n == name) {
                Some((_, ips)) => ips.push(ip),
                None => pins.push((name, vec![ip])),
            }
        }
        // Each shard pushes under its own grouping key, so the shards do not replace each other.
        let outputs = Outputs::from_args(&a.out, a.shard.map(|(k, _)| k))?;
        if let Some(b) = &a.ca_bundle
            && let Err(source) = std::fs::metadata(b)
        {
            return Err(ConfigError::CaBundle {
                path: b.clone(),
                source,
            });
        }
        if let Some(b) = &a.baseline
            && let Err(source) = std::fs::metadata(b)
        {
            return Err(ConfigError::Baseline {
                path: b.clone(),
                source,
            });
        }
        let clients = crate::clients::Selection::parse(&a.clients)?;
        let run_id = a
            .run_id
            .as_deref()
            .map(|r| crate::shard::run_id(r, &crate::shard::utc_date_now()))
            .transpose()?;

        Ok(ScanConfig {
            inventory: InventoryConfig {
                cli_targets: a.targets.clone(),
                inventories: a.inventory.clone(),
                options: InventoryOptions {
                    default_port: a.port,
                    max_targets: a.max_targets,
                    skip_bad_lines: a.skip_bad_lines,
                },
                shard: a.shard,
            },
            resolver: ResolverOptions {
                servers,
                pins,
                timeout: a.dns_timeout,
                attempts: 2,
                rate: a.dns_rate,
                ptr_rate: crate::resolve::ptr_rate(a.dns_rate, a.rate),
                ptr: true,
            },
            probe: ProbeOptions {
                depth: a.depth,
                connect_timeout: a.connect_timeout,
                timeout: a.timeout,
                host_deadline: a.host_deadline,
                host_spacing: a.host_spacing,
                retries: a.retries,
                rate: a.rate,
                alive_ports: a.alive_ports.0.clone(),
                check_revocation: a.check_revocation,
                // Default: on at standard and deep depth, off at quick (one connection, no extras).
                udp: a.udp.unwrap_or(a.depth != crate::probe::Depth::Quick),
            },
            ca_bundle: a.ca_bundle.clone(),
            policy: Policy {
                expiry_warn_days: a.expiry_warn,
                clients,
                ..Policy::default()
            },
            concurrency: a.concurrency as usize,
            run_id,
            outputs,
            baseline: a.baseline.clone(),
            fail_on: a.fail_on,
            open_only: a.open_only,
            quiet: a.quiet,
            verbose: a.verbose,
        })
    }
}

impl Outputs {
    /// Checks the output flags: at most one on stdout, no two on the same file, every folder
    /// writable now (not after an hour of scanning), the Pushgateway URL one this client can
    /// push to. `shard` (K of `scan --shard K/N`) goes into the push's grouping key.
    pub fn from_args(a: &OutputArgs, shard: Option<u32>) -> Result<Outputs, OutputError> {
        let o = |p: &Option<PathBuf>| p.as_deref().map(Output::from_path);
        let metrics_push = a
            .metrics_push
            .as_deref()
            .map(|u| crate::report::push::parse(u, shard))
            .transpose()?;
        let outs = Outputs {
            csv: o(&a.csv),
            jsonl: o(&a.jsonl),
            html: o(&a.html),
            metrics: o(&a.metrics),
            metrics_push,
            csv_format: a.csv_format.format().map_err(OutputError::CsvFormat)?,
        };
        let named: Vec<(&'static str, &Output)> = outs.named().collect();
        if named
            .iter()
            .filter(|(_, o)| matches!(o, Output::Stdout))
            .count()
            > 1
        {
            return Err(OutputError::StdoutTwice);
        }
        check_distinct(&named)?;
        for (_, out) in &named {
            check_writable(out)?;
        }
        Ok(outs)
    }

    /// Nothing to write and nothing to push.
    pub fn is_empty(&self) -> bool {
        self.named().next().is_none() && self.metrics_push.is_none()
    }

    /// The requested outputs with the flag that names each, in flag order.
    pub fn named(&self) -> impl Iterator<Item = (&'static str, &Output)> {
        [
            ("--csv", &self.csv),
            ("--jsonl", &self.jsonl),
            ("--html", &self.html),
            ("--metrics", &self.metrics),
        ]
        .into_iter()
        .filter_map(|(flag, o)| o.as_ref().map(|o| (flag, o)))
    }
}

/// What an output path ends up writing to, so that two spellings of one file compare equal.
#[derive(Debug, PartialEq, Eq)]
enum Identity {
    /// An existing file (links followed): device and inode.
    Inode(u64, u64),
    /// A file not created yet: its canonical folder and its name.
    Path(PathBuf),
    /// Nothing comparable (the folder is missing: `check_writable` reports that).
    Unknown,
}

/// Links followed by hand for a path whose target does not exist yet (as the kernel's limit).
const MAX_LINK_HOPS: usize = 40;

fn identity(path: &Path) -> Identity {
    if let Ok(m) = std::fs::metadata(path) {
        // /dev/null takes any number of reports: discarding twice loses nothing.
        if m.file_type().is_char_device() && m.rdev() == libc::makedev(1, 3) {
            return Identity::Unknown;
        }
        return Identity::Inode(m.dev(), m.ino());
    }
    // Not there yet: a dangling link still names its future target.
    let mut p = path.to_path_buf();
    for _ in 0..MAX_LINK_HOPS {
        match std::fs::read_link(&p) {
            Ok(target) => p = parent_of(&p).join(target),
            Err(_) => break,
        }
    }
    let (Some(name), Ok(dir)) = (p.file_name(), std::fs::canonicalize(parent_of(&p))) else {
        return Identity::Unknown;
    };
    Identity::Path(dir.join(name))
}

/// The folder a relative or bare file name lives in.
fn parent_of(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// This process's stdout as a file identity (a file or pipe it was redirected to).
fn stdout_identity() -> Identity {
    // /proc/self/fd/1 follows to the open file itself, whatever its name (or none: a pipe).
    match std::fs::metadata("/proc/self/fd/1") {
        Ok(m) if !(m.file_type().is_char_device() && m.rdev() == libc::makedev(1, 3)) => {
            Identity::Inode(m.dev(), m.ino())
        }
        _ => Identity::Unknown,
    }
}

/// No two outputs may land in one file: the last to commit would silently replace the other.
fn check_distinct(named: &[(&'static str, &Output)]) -> Result<(), OutputError> {
    let stdout_flag = named
        .iter()
        .find(|(_, o)| matches!(o, Output::Stdout))
        .map(|(f, _)| *f);
    let mut seen: Vec<(&'static str, &Path, Identity)> = Vec::new();
    for (flag, out) in named {
        let Output::File(path) = out else {
            continue;
        };
        let id = identity(path);
        if id == Identity::Unknown {
            continue;
        }
        if let Some(stdout_flag) = stdout_flag
            && stdout_identity() == id
        {
            return Err(OutputError::FileIsStdout {
                stdout_flag,
                file_flag: flag,
                path: path.clone(),
            });
        }
        if let Some((first, _, _)) = seen.iter().find(|(_, _, i)| *i == id) {
            return Err(OutputError::SameFile {
                first,
                second: flag,
                path: path.clone(),
            });
        }
        seen.push((flag, path, id));
    }
    Ok(())
}

/// The output's folder must exist and be writable now, not after an hour of scanning; a FIFO
/// or device is checked without being opened (see `report::dest`).
pub fn check_writable(out: &Output) -> Result<(), OutputError> {
    match out {
        Output::Stdout => Ok(()),
        Output::File(path) => crate::report::dest::check_writable(path)
            .map_err(|e| OutputError::Unwritable(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outputs(csv: &Path, other: &Path) -> Result<Outputs, OutputError> {
        Outputs::from_args(
            &OutputArgs {
                csv: Some(csv.to_path_buf()),
                jsonl: None,
                html: Some(other.to_path_buf()),
                metrics: None,
                metrics_push: None,
                csv_format: Default::default(),
            },
            None,
        )
    }

    #[test]
    fn unwritable_output_is_rejected() {
        let err = check_writable(&Output::File("/nonexistent-dir/x.csv".into())).unwrap_err();
        assert!(err.to_string().contains("/nonexistent-dir"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        assert!(check_writable(&Output::File(dir.path().join("ok.csv"))).is_ok());
        let err = check_writable(&Output::File(dir.path().to_path_buf())).unwrap_err();
        assert!(err.to_string().contains("directory"), "{err}");
    }

    #[test]
    fn one_file_for_two_outputs_is_rejected_however_spelled() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("sub")).unwrap();
        // Not created yet, spelled through `sub/..`.
        let err = outputs(&d.join("r.csv"), &d.join("sub/../r.csv")).unwrap_err();
        assert!(
            matches!(
                err,
                OutputError::SameFile {
                    first: "--csv",
                    second: "--html",
                    ..
                }
            ),
            "{err}"
        );
        // An existing file and a symlink to it.
        std::fs::write(d.join("real.csv"), b"old").unwrap();
        std::os::unix::fs::symlink(d.join("real.csv"), d.join("latest.csv")).unwrap();
        assert!(outputs(&d.join("real.csv"), &d.join("latest.csv")).is_err());
        // A dangling link names its future target.
        std::os::unix::fs::symlink("future.csv", d.join("next.csv")).unwrap();
        assert!(outputs(&d.join("future.csv"), &d.join("next.csv")).is_err());
        // Different files are fine, and so is /dev/null twice.
        assert!(outputs(&d.join("a.csv"), &d.join("a.html")).is_ok());
        assert!(outputs(Path::new("/dev/null"), Path::new("/dev/null")).is_ok());
        // The message names both flags.
        let msg = outputs(&d.join("x"), &d.join("x")).unwrap_err().to_string();
        assert!(msg.contains("--csv") && msg.contains("--html"), "{msg}");
    }
}
