//! Command-line flags. The doc comments are the `--help` text: keep them enough to use the tool
//! without the README. Every scan flag can also come from an `RDPSWEEP_*` environment variable.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::model::Severity;

#[derive(Debug, Parser)]
#[command(
    name = "rdpsweep",
    version,
    about = "Find out, across a fleet of Windows servers, why Remote Desktop fails (mstsc 0x904 / 0x7) before users do",
    long_about = "Find out, across a fleet of Windows servers, why Remote Desktop fails (mstsc 0x904 / 0x7) before users do.\n\n\
        rdpsweep resolves each target, connects to its RDP port, negotiates the security layers, completes TLS, \
        reads the certificate and the NLA/CredSSP facts (never sending credentials), and writes one row per \
        host x address with a verdict, findings and remedies.\n\n\
        Quick start: `rdpsweep demo` scans a simulated fleet on loopback and writes a report folder.",
    after_help = "Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 usage/input/setup error, 130 interrupted."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan targets and write CSV / JSON Lines / HTML reports.
    Scan(Box<ScanArgs>),
    /// Start the built-in simulated fleet on loopback, scan it, and write every report into a folder.
    Demo(DemoArgs),
    /// Serve a simulated fleet on loopback (for benchmarks and experiments) until interrupted.
    Lab(LabArgs),
    /// Rebuild reports (CSV, HTML, metrics, JSON Lines) from a saved scan, without scanning again.
    Report(ReportArgs),
    /// Merge the JSON Lines of several scans (e.g. shards) into one fleet report.
    Merge(MergeArgs),
}

/// `--depth` belongs to the probe; re-exported here for the flags and the config file.
pub use crate::probe::Depth;

#[derive(Debug, Args)]
#[command(
    mut_arg("csv", |a| a.env("RDPSWEEP_CSV")),
    mut_arg("jsonl", |a| a.env("RDPSWEEP_JSONL")),
    mut_arg("html", |a| a.env("RDPSWEEP_HTML")),
    mut_arg("metrics", |a| a.env("RDPSWEEP_METRICS"))
)]
pub struct ScanArgs {
    /// Targets: NAME, IP, NAME:PORT, [V6]:PORT, CIDR (10.1.2.0/24) or range (10.1.2.10-40).
    #[arg(value_name = "TARGET", env = "RDPSWEEP_TARGETS", value_delimiter = ',')]
    pub targets: Vec<String>,

    /// Inventory file (CSV with a `host` column, plain list, or nmap -oX XML); repeatable; `-` reads stdin.
    #[arg(
        short = 'i',
        long = "inventory",
        value_name = "FILE",
        env = "RDPSWEEP_INVENTORY",
        value_delimiter = ','
    )]
    pub inventory: Vec<PathBuf>,

    /// Default RDP port for targets that do not name one.
    #[arg(long, default_value_t = 3389, env = "RDPSWEEP_PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub port: u16,

    /// New connections per second across the whole scan (0 = unlimited). No initial burst.
    #[arg(
        long,
        default_value_t = 100,
        env = "RDPSWEEP_RATE",
        allow_negative_numbers = true
    )]
    pub rate: u32,

    /// Hosts in flight at once.
    #[arg(long, default_value_t = 256, env = "RDPSWEEP_CONCURRENCY", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub concurrency: u32,

    /// Time to wait for a TCP connection (SYN-ACK) before calling the port filtered, e.g. 3s, 500ms.
    #[arg(long, default_value = "3s", env = "RDPSWEEP_CONNECT_TIMEOUT", value_parser = parse_duration)]
    pub connect_timeout: std::time::Duration,

    /// Time allowed for each later phase (X.224 reply, TLS handshake, CredSSP reply), e.g. 5s.
    #[arg(long, default_value = "5s", env = "RDPSWEEP_TIMEOUT", value_parser = parse_duration)]
    pub timeout: std::time::Duration,

    /// Hard limit for everything done to one address, retries included, e.g. 30s, 2m.
    #[arg(long, default_value = "30s", env = "RDPSWEEP_HOST_DEADLINE", value_parser = parse_duration)]
    pub host_deadline: std::time::Duration,

    /// Extra attempts for hosts whose first attempt timed out; disagreeing attempts give a `flaky` finding.
    #[arg(long, default_value_t = 1, env = "RDPSWEEP_RETRIES", value_parser = clap::value_parser!(u32).range(0..=10))]
    pub retries: u32,

    /// How much to learn per address: quick (1 connection), standard (up to 3), deep (more).
    #[arg(long, value_enum, default_value_t = Depth::Standard, env = "RDPSWEEP_DEPTH")]
    pub depth: Depth,

    /// Pause between reconnects to the same address (other hosts proceed meanwhile).
    #[arg(long, default_value = "200ms", env = "RDPSWEEP_HOST_SPACING", value_parser = parse_duration)]
    pub host_spacing: std::time::Duration,

    /// When the RDP port gives no answer at all, one SYN to each of these ports (all at once,
    /// counted in --rate): a SYN-ACK or RST from any means the host is up and the RDP port is
    /// filtered; silence everywhere means `host-down`. Comma-separated, at most 8; "" turns it off.
    #[arg(long, value_name = "PORTS", default_value = "445,135", env = "RDPSWEEP_ALIVE_PORTS", value_parser = parse_alive_ports)]
    pub alive_ports: AlivePorts,

    /// After TCP RDP worked (X.224 confirm and TLS), send one MS-RDPEUDP SYN to the same port
    /// over UDP (counted in --rate) and wait for the SYN+ACK (eight TCP round trips, 0.5 s at
    /// least, --connect-timeout at most; beside the other phases): the `udp` column and the
    /// `udp-blocked` finding. Default: on at standard and deep depth, off at
    /// quick. `--udp` / `--udp on` / `--udp off`.
    #[arg(long, value_name = "on|off", env = "RDPSWEEP_UDP", value_parser = clap::builder::BoolishValueParser::new(), num_args = 0..=1, default_missing_value = "on")]
    pub udp: Option<bool>,

    /// DNS server IP[:PORT] to query instead of the system's resolv.conf; repeatable.
    #[arg(
        long = "dns-server",
        value_name = "IP[:PORT]",
        env = "RDPSWEEP_DNS_SERVER",
        value_delimiter = ','
    )]
    pub dns_servers: Vec<String>,

    /// Pin a name to an address without DNS, like curl: NAME=IP; repeatable.
    #[arg(long = "resolve", value_name = "NAME=IP", env = "RDPSWEEP_RESOLVE")]
    pub resolve: Vec<String>,

    /// DNS timeout per query.
    #[arg(long, default_value = "3s", env = "RDPSWEEP_DNS_TIMEOUT", value_parser = parse_duration)]
    pub dns_timeout: std::time::Duration,

    /// DNS queries per second for names (0 = unlimited). IP targets' PTR lookups (one per address,
    /// cached) get the larger of this and --rate (unlimited when either is 0).
    #[arg(
        long,
        default_value_t = 200,
        env = "RDPSWEEP_DNS_RATE",
        allow_negative_numbers = true
    )]
    pub dns_rate: u32,

    /// Refuse to scan more than this many targets (guards against a typo'd /8).
    #[arg(long, default_value_t = 65_536, env = "RDPSWEEP_MAX_TARGETS")]
    pub max_targets: u64,

    /// Report bad inventory lines as warnings and scan the rest (default: exit 2 on the first).
    #[arg(long, env = "RDPSWEEP_SKIP_BAD_LINES", value_parser = clap::builder::BoolishValueParser::new(), num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub skip_bad_lines: bool,

    /// Scan only shard K of N (0-based, e.g. 0/4): a stable hash of host and port picks each
    /// target's shard, so N machines (a Kubernetes Indexed Job) split one inventory.
    #[arg(long, value_name = "K/N", env = "RDPSWEEP_SHARD", value_parser = crate::shard::parse_shard)]
    pub shard: Option<(u32, u32)>,

    /// Read settings from a TOML file (flags and RDPSWEEP_* variables override it).
    #[arg(long, value_name = "FILE", env = "RDPSWEEP_CONFIG")]
    pub config: Option<PathBuf>,

    /// Days before expiry at which a certificate gets `cert-expiring`.
    #[arg(long, default_value_t = 30, env = "RDPSWEEP_EXPIRY_WARN")]
    pub expiry_warn: u32,

    /// PEM bundle of extra trusted CAs (enterprise PKI) for the certificate trust check.
    #[arg(long, value_name = "FILE", env = "RDPSWEEP_CA_BUNDLE")]
    pub ca_bundle: Option<PathBuf>,

    /// Check each certificate's revocation: the scanner then CONTACTS THE HTTP URLS NAMED IN
    /// THE SERVERS' CERTIFICATES (AIA OCSP responder, CRL distribution points), hosts other than
    /// the scanned ones. http:// only, no redirects or proxies, bounded in bytes and time,
    /// counted in --rate, each URL fetched once per scan. Off by default.
    #[arg(long, env = "RDPSWEEP_CHECK_REVOCATION", value_parser = clap::builder::BoolishValueParser::new(), num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub check_revocation: bool,

    #[command(flatten)]
    pub out: OutputArgs,

    /// Previous scan's JSON Lines: mark each row new, fixed, changed, unchanged or gone.
    #[arg(long, value_name = "PREVIOUS.jsonl", env = "RDPSWEEP_BASELINE")]
    pub baseline: Option<PathBuf>,

    /// Tag every JSON Lines row with this run id (and the --shard), so `merge --run-id` can
    /// refuse shards of another run. `{utc-date}` becomes today's UTC date: nightly-{utc-date}.
    #[arg(long, value_name = "ID", env = "RDPSWEEP_RUN_ID")]
    pub run_id: Option<String>,

    /// Exit 1 when any host has a finding at or above this severity (ok, info, warn, fail),
    /// or with `new`, only when a row is a new failure against --baseline.
    #[arg(long, value_enum, ignore_case = true, default_value_t = FailOn::Fail, env = "RDPSWEEP_FAIL_ON")]
    pub fail_on: FailOn,

    /// Client profile the verdict and --fail-on judge hosts for; repeatable (win11, win10, win7,
    /// macos, freerdp; default: win11 and win10, the supported Windows versions). Findings that only some
    /// clients hit (schannel-suites-mismatch, tls-legacy-only, rdp-fips-only, credssp-unpatched)
    /// drop to info when every selected client connects; a selected client that cannot connect
    /// makes the host fail (`client-fails`). clients_failing still lists every profile.
    #[arg(
        long = "client",
        value_name = "PROFILE",
        env = "RDPSWEEP_CLIENT",
        value_delimiter = ','
    )]
    pub clients: Vec<String>,

    /// Keep only addresses whose RDP port accepted a TCP connection (as nmap's `--open`); the
    /// summary still counts the rest by kind (refused, filtered, down).
    #[arg(long, env = "RDPSWEEP_OPEN_ONLY", value_parser = clap::builder::BoolishValueParser::new(), num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub open_only: bool,

    /// Only errors on stderr (no summary, no progress).
    #[arg(short, long, env = "RDPSWEEP_QUIET", value_parser = clap::builder::BoolishValueParser::new(), num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub quiet: bool,

    /// More detail on stderr (-v: per-host results, -vv: protocol debug).
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// The report outputs every subcommand that writes reports takes (`scan` adds an `RDPSWEEP_*`
/// variable to each).
#[derive(Debug, Clone, Default, Args)]
pub struct OutputArgs {
    /// Write the CSV report here (`-` = stdout). Written atomically: a temporary name, renamed when complete.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,

    /// Write JSON Lines (one object per host x address, every phase's facts) here (`-` = stdout).
    #[arg(long, value_name = "FILE")]
    pub jsonl: Option<PathBuf>,

    /// Write the self-contained HTML matrix here.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Write Prometheus metrics (node_exporter textfile collector format) here.
    #[arg(long, value_name = "FILE")]
    pub metrics: Option<PathBuf>,

    /// Push the metrics to this Prometheus Pushgateway (http://HOST:PORT) at the end, after the
    /// reports are written: PUT to /metrics/job/rdpsweep (/shard/K with `scan --shard`).
    #[arg(long, value_name = "URL", env = "RDPSWEEP_METRICS_PUSH")]
    pub metrics_push: Option<String>,

    #[command(flatten)]
    pub csv_format: CsvFormatArgs,
}

/// How the CSV is written (scan, report, merge, demo).
#[derive(Debug, Clone, Default, Args)]
pub struct CsvFormatArgs {
    /// `excel`: a UTF-8 byte-order mark and CRLF line ends, so Excel opened by double-click
    /// reads non-ASCII text as UTF-8. `plain` (default): no BOM, LF.
    #[arg(
        long,
        value_name = "plain|excel",
        default_value = "plain",
        env = "RDPSWEEP_CSV_DIALECT"
    )]
    pub csv_dialect: String,
    /// Cell separator: `,` (default), `;` (locales whose list separator is `;`) or `tab`.
    #[arg(
        long,
        value_name = "CHAR",
        default_value = ",",
        env = "RDPSWEEP_CSV_DELIMITER"
    )]
    pub csv_delimiter: String,
}

impl CsvFormatArgs {
    pub fn format(&self) -> Result<crate::report::csv::CsvFormat, String> {
        crate::report::csv::CsvFormat::parse(&self.csv_dialect, &self.csv_delimiter)
    }
}

/// What makes the exit status 1 (`--fail-on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Any finding above ok.
    Ok,
    /// A finding at info or above.
    Info,
    /// A finding at warn or above.
    #[value(alias = "warning")]
    Warn,
    /// A host that fails (default).
    #[value(alias = "error")]
    Fail,
    /// Only rows that are new failures against --baseline.
    New,
    /// Never (report only).
    #[value(alias = "none")]
    Never,
}

impl FailOn {
    /// Whether a run whose worst finding is `worst`, with `new_failures` rows newly failing
    /// against the baseline, exits 1.
    pub fn is_failing(self, worst: Option<Severity>, new_failures: u64) -> bool {
        let at_least = |s: Severity| worst.is_some_and(|w| w >= s && w > Severity::Ok);
        match self {
            FailOn::Ok => at_least(Severity::Ok),
            FailOn::Info => at_least(Severity::Info),
            FailOn::Warn => at_least(Severity::Warn),
            FailOn::Fail => at_least(Severity::Fail),
            FailOn::New => new_failures > 0,
            FailOn::Never => false,
        }
    }
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The saved scan (JSON Lines written by `scan --jsonl`).
    #[arg(long, value_name = "SCAN.jsonl")]
    pub from: PathBuf,
    /// Previous scan to diff against.
    #[arg(long, value_name = "PREVIOUS.jsonl")]
    pub baseline: Option<PathBuf>,
    #[command(flatten)]
    pub out: OutputArgs,
    /// Exit status threshold, as for `scan`.
    #[arg(long, value_enum, ignore_case = true, default_value_t = FailOn::Fail)]
    pub fail_on: FailOn,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// JSON Lines files to merge (rows deduplicated by host, port and address; newest wins).
    #[arg(value_name = "SCAN.jsonl", required = true)]
    pub inputs: Vec<PathBuf>,
    /// Previous merged scan to diff against.
    #[arg(long, value_name = "PREVIOUS.jsonl")]
    pub baseline: Option<PathBuf>,
    #[command(flatten)]
    pub out: OutputArgs,
    /// Exit status threshold, as for `scan`.
    #[arg(long, value_enum, ignore_case = true, default_value_t = FailOn::Fail)]
    pub fail_on: FailOn,
    /// Refuse (exit 2) rows not tagged with this run id by `scan --run-id` (`{utc-date}` is
    /// today's UTC date, as for scan): a stale shard never slips into the fleet report.
    #[arg(long, value_name = "ID", env = "RDPSWEEP_RUN_ID")]
    pub run_id: Option<String>,
    /// The scan ran as N shards (`--shard K/N`): refuse (exit 2) when a shard has no rows in
    /// the inputs, naming it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub shards: Option<u32>,
    /// With --baseline: a baseline file that does not exist yet (the first run) counts as
    /// empty instead of an error, so every failing row is new.
    #[arg(long)]
    pub allow_missing_baseline: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder to write the demo reports into (created if missing).
    #[arg(long, default_value = "rdpsweep-demo")]
    pub out: PathBuf,

    /// First loopback address of the simulated fleet.
    #[arg(long, default_value = "127.77.0.1")]
    pub base: std::net::Ipv4Addr,

    #[command(flatten)]
    pub csv_format: CsvFormatArgs,

    /// Only errors on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct LabArgs {
    /// Number of simulated hosts (realistic mix); 0 = the demo fleet (one host per behaviour).
    #[arg(long, default_value_t = 0)]
    pub hosts: usize,

    /// First loopback address; hosts get consecutive addresses.
    #[arg(long, default_value = "127.1.0.1")]
    pub base: std::net::Ipv4Addr,

    /// Port every simulated host listens on.
    #[arg(long, default_value_t = 3389)]
    pub port: u16,

    /// Write the fleet's inventory (CSV) here.
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,

    /// Write the lab CA's certificate (PEM) here: pass it to `scan --ca-bundle` to scan the lab as
    /// a fleet with an enterprise CA.
    #[arg(long, value_name = "FILE")]
    pub ca_out: Option<PathBuf>,

    /// Key of the lab CA that signs every certificate (with --hosts): ecdsa or rsa (RSA-2048,
    /// as enterprise CAs and Windows' self-signed certificates use).
    #[cfg(feature = "lab")]
    #[arg(long, default_value = "ecdsa", value_name = "ALG")]
    pub ca_key: crate::lab::KeyAlg,

    /// Key the TLS hosts hold and sign handshakes with (with --hosts): ecdsa (cheap, the lab is
    /// never the bottleneck) or rsa (RSA-2048, what a Windows host pays per connection).
    #[cfg(feature = "lab")]
    #[arg(long, default_value = "ecdsa", value_name = "ALG")]
    pub leaf_key: crate::lab::KeyAlg,
}

/// Durations like `5s`, `250ms`, `2m`, `1m30s`; a bare number means seconds.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("empty duration (write e.g. 5s, 250ms, 2m)".into());
    }
    if let Ok(secs) = t.parse::<f64>() {
        if secs.is_finite() && (0.0..1e9).contains(&secs) {
            return Ok(std::time::Duration::from_secs_f64(secs));
        }
        return Err(format!("duration {t:?} out of range"));
    }
    humantime::parse_duration(t)
        .map_err(|e| format!("bad duration {t:?}: {e} (write e.g. 5s, 250ms, 2m)"))
}

/// `--alive-ports`: the companion ports, in order, without duplicates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlivePorts(pub Vec<u16>);

/// At most this many companion ports: each is a SYN to a host that may be down.
pub const MAX_ALIVE_PORTS: usize = 8;

pub fn parse_alive_ports(s: &str) -> Result<AlivePorts, String> {
    let mut ports = Vec::new();
    for p in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let n: u16 = p
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("bad port {p:?} in --alive-ports (write e.g. 445,135)"))?;
        if !ports.contains(&n) {
            ports.push(n);
        }
    }
    if ports.len() > MAX_ALIVE_PORTS {
        return Err(format!(
            "--alive-ports lists {} ports; at most {MAX_ALIVE_PORTS}",
            ports.len()
        ));
    }
    Ok(AlivePorts(ports))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn alive_ports() {
        assert_eq!(parse_alive_ports("445,135").unwrap().0, [445, 135]);
        assert_eq!(parse_alive_ports(" 22 , 22,80,").unwrap().0, [22, 80]);
        assert!(parse_alive_ports("").unwrap().0.is_empty());
        assert!(parse_alive_ports("0").is_err());
        assert!(parse_alive_ports("65536").is_err());
        assert!(parse_alive_ports("smb").is_err());
        assert!(parse_alive_ports("1,2,3,4,5,6,7,8,9").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("-1").is_err());
    }

    #[test]
    fn fail_on_thresholds() {
        use clap::ValueEnum;
        let parse = |s: &str| FailOn::from_str(s, true);
        assert_eq!(parse("WARN"), Ok(FailOn::Warn));
        assert_eq!(parse("warning"), Ok(FailOn::Warn));
        assert_eq!(parse("none"), Ok(FailOn::Never));
        assert!(parse("sometimes").is_err());
        let warn = Some(Severity::Warn);
        assert!(FailOn::Warn.is_failing(warn, 0));
        assert!(!FailOn::Fail.is_failing(warn, 0));
        assert!(FailOn::Ok.is_failing(Some(Severity::Info), 0));
        assert!(!FailOn::Ok.is_failing(Some(Severity::Ok), 0));
        assert!(!FailOn::New.is_failing(Some(Severity::Fail), 0));
        assert!(FailOn::New.is_failing(None, 1));
        assert!(!FailOn::Never.is_failing(Some(Severity::Fail), 3));
    }

    #[test]
    fn output_flags_take_the_environment_only_in_scan() {
        use clap::CommandFactory;
        let cmd = Cli::command();
        for (sub, env) in [("scan", true), ("report", false), ("merge", false)] {
            let Some(s) = cmd.find_subcommand(sub) else {
                panic!("no {sub} subcommand");
            };
            for flag in ["csv", "jsonl", "html", "metrics"] {
                let a = s.get_arguments().find(|a| a.get_long() == Some(flag));
                let Some(a) = a else {
                    panic!("{sub} has no --{flag}");
                };
                assert_eq!(a.get_env().is_some(), env, "{sub} --{flag}");
            }
        }
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
