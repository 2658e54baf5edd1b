//! Flags -> a checked `ScanConfig`, before any I/O touches the network.
//!
//! Everything a user can get wrong is rejected here with a message that says what to do,
//! so that `main` maps it to exit code 2 and the scan never starts half-configured.

use std::net::{IpAddr, SocketAddr};

use crate::resolve::{parse_dns_server, parse_pin};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::{Depth, ScanArgs};
use crate::model::Severity;
use crate::probe::ProbeOptions;

/// Where a report goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Stdout,
    File(PathBuf),
}

impl Output {
    fn from_path(p: &Path) -> Output {
        if p.as_os_str() == "-" {
            Output::Stdout
        } else {
            Output::File(p.to_path_buf())
        }
    }
}

/// What makes the exit code 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    /// Any host whose worst finding is at or above this severity.
    Severity(Severity),
    /// Only hosts that are new failures against the --baseline.
    New,
    /// Never (report only).
    Never,
}

impl FailOn {
    pub fn parse(s: &str) -> Result<FailOn, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "new" => Ok(FailOn::New),
            "never" | "none" => Ok(FailOn::Never),
            other => Severity::parse(other).map(FailOn::Severity).ok_or_else(|| {
                format!("--fail-on {s:?} is not one of ok, info, warn, fail, new, never")
            }),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ScanConfig {
    pub cli_targets: Vec<String>,
    pub inventories: Vec<PathBuf>,
    pub port: u16,
    /// New connections per second; 0 = unlimited.
    pub rate: u32,
    pub concurrency: usize,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub host_deadline: Duration,
    pub retries: u32,
    pub depth: Depth,
    pub host_spacing: Duration,
    pub dns_servers: Vec<SocketAddr>,
    pub pins: Vec<(String, Vec<IpAddr>)>,
    pub dns_timeout: Duration,
    pub dns_rate: u32,
    pub max_targets: u64,
    pub skip_bad_lines: bool,
    /// (K, N): scan only shard K of N.
    pub shard: Option<(u32, u32)>,
    pub expiry_warn_days: u32,
    pub ca_bundle: Option<PathBuf>,
    pub csv: Option<Output>,
    pub jsonl: Option<Output>,
    pub html: Option<Output>,
    pub metrics: Option<Output>,
    pub baseline: Option<PathBuf>,
    pub fail_on: FailOn,
    pub quiet: bool,
    pub verbose: u8,
}

impl ScanConfig {
    pub fn from_args(a: &ScanArgs) -> Result<ScanConfig, String> {
        if a.targets.is_empty() && a.inventory.is_empty() {
            return Err(
                "no targets: name hosts, IPs or CIDRs on the command line, or an inventory with -i FILE (see --help)"
                    .into(),
            );
        }
        for (flag, d) in [
            ("--connect-timeout", a.connect_timeout),
            ("--timeout", a.timeout),
            ("--host-deadline", a.host_deadline),
            ("--dns-timeout", a.dns_timeout),
        ] {
            if d.is_zero() {
                return Err(format!("{flag} must be greater than zero (e.g. 3s, 500ms)"));
            }
        }
        if a.host_deadline < a.connect_timeout {
            return Err(format!(
                "--host-deadline ({}) is shorter than --connect-timeout ({}); raise it",
                humantime::format_duration(a.host_deadline),
                humantime::format_duration(a.connect_timeout)
            ));
        }
        if a.max_targets == 0 {
            return Err("--max-targets must be at least 1".into());
        }
        let mut dns_servers = Vec::new();
        for s in &a.dns_servers {
            dns_servers.push(parse_dns_server(s)?);
        }
        let mut pins: Vec<(String, Vec<IpAddr>)> = Vec::new();
        for s in &a.resolve {
            let (name, ip) = parse_pin(s)?;
            match pins.iter_mut().find(|(n, _)| *n == name) {
                Some((_, ips)) => ips.push(ip),
                None => pins.push((name, vec![ip])),
            }
        }
        let fail_on = FailOn::parse(&a.fail_on)?;
        let stdout_outputs = [&a.csv, &a.jsonl, &a.html, &a.metrics]
            .iter()
            .filter(|o| o.as_deref().is_some_and(|p| p.as_os_str() == "-"))
            .count();
        if stdout_outputs > 1 {
            return Err(
                "only one of --csv, --jsonl, --html, --metrics can write to stdout (-)".into(),
            );
        }
        let csv = a.csv.as_deref().map(Output::from_path);
        let jsonl = a.jsonl.as_deref().map(Output::from_path);
        let html = a.html.as_deref().map(Output::from_path);
        let metrics = a.metrics.as_deref().map(Output::from_path);
        for out in [&csv, &jsonl, &html, &metrics].into_iter().flatten() {
            check_writable(out)?;
        }
        if let Some(b) = &a.ca_bundle
            && let Err(e) = std::fs::metadata(b)
        {
            return Err(format!(
                "--ca-bundle {}: {e} (pass a PEM file of CA certificates)",
                b.display()
            ));
        }
        if let Some(b) = &a.baseline
            && let Err(e) = std::fs::metadata(b)
        {
            return Err(format!(
                "--baseline {}: {e} (pass the previous run's --jsonl file)",
                b.display()
            ));
        }

        Ok(ScanConfig {
            cli_targets: a.targets.clone(),
            inventories: a.inventory.clone(),
            port: a.port,
            rate: a.rate,
            concurrency: a.concurrency as usize,
            connect_timeout: a.connect_timeout,
            timeout: a.timeout,
            host_deadline: a.host_deadline,
            retries: a.retries,
            depth: a.depth,
            host_spacing: a.host_spacing,
            dns_servers,
            pins,
            dns_timeout: a.dns_timeout,
            dns_rate: a.dns_rate,
            max_targets: a.max_targets,
            skip_bad_lines: a.skip_bad_lines,
            shard: a.shard,
            expiry_warn_days: a.expiry_warn,
            ca_bundle: a.ca_bundle.clone(),
            csv,
            jsonl,
            html,
            metrics,
            baseline: a.baseline.clone(),
            fail_on,
            quiet: a.quiet,
            verbose: a.verbose,
        })
    }

    /// The probe's part of the configuration (the one place it is taken from the flags).
    pub fn probe_options(&self) -> ProbeOptions {
        ProbeOptions {
            depth: self.depth,
            connect_timeout: self.connect_timeout,
            timeout: self.timeout,
            host_deadline: self.host_deadline,
            host_spacing: self.host_spacing,
            retries: self.retries,
            rate: self.rate,
        }
    }
}

/// The output's folder must exist and be writable now, not after an hour of scanning; a FIFO
/// or device is checked without being opened (see `report::dest`).
pub fn check_writable(out: &Output) -> Result<(), String> {
    match out {
        Output::Stdout => Ok(()),
        Output::File(path) => crate::report::dest::check_writable(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_on_values() {
        assert_eq!(
            FailOn::parse("warn").unwrap(),
            FailOn::Severity(Severity::Warn)
        );
        assert_eq!(
            FailOn::parse("FAIL").unwrap(),
            FailOn::Severity(Severity::Fail)
        );
        assert_eq!(FailOn::parse("new").unwrap(), FailOn::New);
        assert!(FailOn::parse("sometimes").is_err());
    }

    #[test]
    fn unwritable_output_is_rejected() {
        let err = check_writable(&Output::File("/nonexistent-dir/x.csv".into())).unwrap_err();
        assert!(err.contains("/nonexistent-dir"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        assert!(check_writable(&Output::File(dir.path().join("ok.csv"))).is_ok());
        assert!(check_writable(&Output::File(dir.path().to_path_buf())).is_err());
    }
}
