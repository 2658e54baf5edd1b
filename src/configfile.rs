//! `--config rdpsweep.toml`: what a scheduled job keeps, in one reviewed file.
//!
//! Flat TOML, one key per scan flag, named as the flag with `_` for `-`:
//!
//! ```toml
//! inventories = ["fleet.csv", "dmz.txt"]   # or one string; paths relative to this file
//! rate = 50
//! connect_timeout = "3s"                   # durations as for the flags: 500ms, 5s, 2m
//! depth = "standard"
//! dns_servers = ["10.0.0.53"]
//! csv = "out/fleet.csv"
//! fail_on = "new"
//! ```
//!
//! Precedence: command-line flags, then `RDPSWEEP_*` environment variables, then this file, then
//! the built-in defaults. clap applies the first two; [`apply`] fills only the fields whose
//! value still is the default. Targets and inventories count as one setting: naming either on
//! the command line (or in the environment) replaces both of the file's, so `rdpsweep scan
//! --config nightly.toml ts09` scans ts09 alone.
//!
//! Every mistake is reported with its line (`rdpsweep.toml:7: unknown key "rat" (did you mean
//! "rate"?)`), all of them at once, before anything is scanned.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::ValueEnum;
use clap::parser::ValueSource;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::cli::{Depth, FailOn, ScanArgs, parse_duration};

/// Why a config file was not used. `Display` is the message printed to the user.
#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    #[error("--config {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("--config {path}: larger than {} KiB: not a config file", MAX_CONFIG_BYTES / 1024)]
    TooLarge { path: String },
    #[error("--config {path}: not UTF-8 text (save it as UTF-8)")]
    NotUtf8 { path: String },
    /// Every mistake in the file, in file order, one per line.
    #[error("{}", join_lines(.0))]
    Invalid(Vec<Problem>),
}

/// One mistake in the file: `file:line: what is wrong`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct Problem {
    pub file: String,
    /// 1-based.
    pub line: usize,
    pub message: String,
}

fn join_lines(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(Problem::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// A config file larger than this is certainly not one (and is not read further).
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// One `Option` per key: `None` when the file does not set it. Paths are absolute.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileConfig {
    pub targets: Option<Vec<String>>,
    pub inventories: Option<Vec<PathBuf>>,
    pub port: Option<u16>,
    pub rate: Option<u32>,
    pub concurrency: Option<u32>,
    pub connect_timeout: Option<Duration>,
    pub timeout: Option<Duration>,
    pub host_deadline: Option<Duration>,
    pub retries: Option<u32>,
    pub depth: Option<Depth>,
    pub host_spacing: Option<Duration>,
    pub dns_servers: Option<Vec<String>>,
    pub resolve: Option<Vec<String>>,
    pub dns_timeout: Option<Duration>,
    pub dns_rate: Option<u32>,
    pub max_targets: Option<u64>,
    pub skip_bad_lines: Option<bool>,
    pub expiry_warn: Option<u32>,
    pub ca_bundle: Option<PathBuf>,
    pub check_revocation: Option<bool>,
    pub csv: Option<PathBuf>,
    pub jsonl: Option<PathBuf>,
    pub html: Option<PathBuf>,
    pub metrics: Option<PathBuf>,
    pub baseline: Option<PathBuf>,
    pub fail_on: Option<FailOn>,
    pub quiet: Option<bool>,
    /// `--client` profile ids (checked against `clients::PROFILES`).
    pub clients: Option<Vec<String>>,
}

/// Every key the file may hold, in the order `--help` lists the flags.
pub const KEYS: &[&str] = &[
    "targets",
    "inventories",
    "port",
    "rate",
    "concurrency",
    "connect_timeout",
    "timeout",
    "host_deadline",
    "retries",
    "depth",
    "host_spacing",
    "dns_servers",
    "resolve",
    "dns_timeout",
    "dns_rate",
    "max_targets",
    "skip_bad_lines",
    "expiry_warn",
    "ca_bundle",
    "check_revocation",
    "csv",
    "jsonl",
    "html",
    "metrics",
    "baseline",
    "fail_on",
    "clients",
    "quiet",
];

/// Reads and checks a config file. Errors say `file:line: what is wrong`, one per line.
pub fn load(path: &Path) -> Result<FileConfig, ConfigFileError> {
    let shown = path.display().to_string();
    let read_err = |source| ConfigFileError::Read {
        path: shown.clone(),
        source,
    };
    let mut f = std::fs::File::open(path).map_err(read_err)?;
    let mut bytes = Vec::new();
    f.by_ref()
        .take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(ConfigFileError::TooLarge { path: shown });
    }
    let text = String::from_utf8(bytes).map_err(|_| ConfigFileError::NotUtf8 {
        path: shown.clone(),
    })?;
    // Relative paths in the file mean "next to the file", wherever the job runs from.
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let base = std::path::absolute(&dir).map_err(read_err)?;
    parse(&text, &shown, &base)
}

/// [`load`] on text already in memory: `name` prefixes messages, `base` resolves relative paths.
pub fn parse(text: &str, name: &str, base: &Path) -> Result<FileConfig, ConfigFileError> {
    let table = DeTable::parse(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
        ConfigFileError::Invalid(vec![Problem {
            file: name.to_string(),
            line,
            message: e.message().trim_end().to_string(),
        }])
    })?;
    let mut entries: Vec<(&Spanned<std::borrow::Cow<'_, str>>, &Spanned<DeValue<'_>>)> =
        table.get_ref().iter().collect();
    // The map iterates in key order; report in file order.
    entries.sort_by_key(|(k, _)| k.span().start);

    let mut cfg = FileConfig::default();
    let mut errors = Vec::new();
    for (key, value) in entries {
        let ctx = Ctx {
            text,
            name,
            base,
            key: key.get_ref(),
        };
        if let Err(e) = set_key(&mut cfg, &ctx, value) {
            errors.push(e);
        }
        if !KEYS.contains(&key.get_ref().as_ref()) {
            let line = line_of(text, key.span().start);
            let k = key.get_ref();
            let hint = if value.get_ref().is_table() {
                " (keys go at the top level, without [sections])".to_string()
            } else {
                suggest(k)
                    .map(|s| format!(" (did you mean \"{s}\"?)"))
                    .unwrap_or_default()
            };
            errors.push(Problem {
                file: name.to_string(),
                line,
                message: format!("unknown key \"{k}\"{hint}"),
            });
        }
    }
    if errors.is_empty() {
        Ok(cfg)
    } else {
        Err(ConfigFileError::Invalid(errors))
    }
}

/// Where a value came from, for messages and relative paths.
struct Ctx<'a> {
    text: &'a str,
    name: &'a str,
    base: &'a Path,
    key: &'a str,
}

impl Ctx<'_> {
    fn err(&self, v: &Spanned<DeValue<'_>>, what: impl std::fmt::Display) -> Problem {
        self.err_at(v.span().start, what)
    }

    /// A problem at a byte offset, prefixed with the key.
    fn err_at(&self, at: usize, what: impl std::fmt::Display) -> Problem {
        Problem {
            file: self.name.to_string(),
            line: line_of(self.text, at),
            message: format!("{}: {what}", self.key),
        }
    }

    fn want(&self, v: &Spanned<DeValue<'_>>, expected: &str) -> Problem {
        self.err(
            v,
            format!("expected {expected}, found {}", v.get_ref().type_str()),
        )
    }

    fn string(&self, v: &Spanned<DeValue<'_>>) -> Result<String, Problem> {
        match v.get_ref() {
            DeValue::String(s) => Ok(s.to_string()),
            _ => Err(self.want(v, "a string")),
        }
    }

    /// A list of strings; a single string counts as a list of one.
    fn strings(&self, v: &Spanned<DeValue<'_>>) -> Result<Vec<(String, usize)>, Problem> {
        match v.get_ref() {
            DeValue::String(s) => Ok(vec![(s.to_string(), v.span().start)]),
            DeValue::Array(items) => items
                .iter()
                .map(|item| match item.get_ref() {
                    DeValue::String(s) => Ok((s.to_string(), item.span().start)),
                    _ => Err(self.want(item, "a string in the list")),
                })
                .collect(),
            _ => Err(self.want(v, "a list of strings")),
        }
    }

    fn int(&self, v: &Spanned<DeValue<'_>>, min: i128, max: i128) -> Result<i128, Problem> {
        let DeValue::Integer(i) = v.get_ref() else {
            return Err(self.want(v, "a whole number"));
        };
        match i128::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(self.err(v, format!("{i} is out of range ({min}..={max})"))),
        }
    }

    fn bool(&self, v: &Spanned<DeValue<'_>>) -> Result<bool, Problem> {
        v.get_ref()
            .as_bool()
            .ok_or_else(|| self.want(v, "true or false"))
    }

    fn duration(&self, v: &Spanned<DeValue<'_>>) -> Result<Duration, Problem> {
        let text = match v.get_ref() {
            DeValue::String(s) => s.to_string(),
            // A bare number is seconds, as on the command line.
            DeValue::Integer(i) if i.radix() == 10 => i.as_str().to_string(),
            DeValue::Float(f) => f.as_str().to_string(),
            _ => return Err(self.want(v, "a duration such as \"5s\" or \"250ms\"")),
        };
        parse_duration(&text).map_err(|e| self.err(v, e))
    }

    /// A path relative to the config file's folder; `-` (stdin/stdout) when `dash` allows it.
    fn path_at(&self, s: &str, at: usize, dash: bool) -> Result<PathBuf, Problem> {
        if s.trim().is_empty() {
            return Err(self.err_at(at, "empty path"));
        }
        if dash && s == "-" {
            return Ok(PathBuf::from("-"));
        }
        Ok(self.base.join(s))
    }

    fn path(&self, v: &Spanned<DeValue<'_>>, dash: bool) -> Result<PathBuf, Problem> {
        let s = self.string(v)?;
        self.path_at(&s, v.span().start, dash)
    }
}

/// Parses one known key into `cfg`; unknown keys are left to the caller.
fn set_key(cfg: &mut FileConfig, c: &Ctx<'_>, v: &Spanned<DeValue<'_>>) -> Result<(), Problem> {
    let u32max = i128::from(u32::MAX);
    match c.key {
        "targets" => {
            let list = c.strings(v)?;
            cfg.targets = Some(list.into_iter().map(|(s, _)| s).collect());
        }
        "inventories" => {
            let mut out = Vec::new();
            for (s, at) in c.strings(v)? {
                out.push(c.path_at(&s, at, true)?);
            }
            cfg.inventories = Some(out);
        }
        "port" => cfg.port = Some(to_num(c.int(v, 1, 65_535)?)),
        "rate" => cfg.rate = Some(to_num(c.int(v, 0, u32max)?)),
        "concurrency" => cfg.concurrency = Some(to_num(c.int(v, 1, 100_000)?)),
        "connect_timeout" => cfg.connect_timeout = Some(c.duration(v)?),
        "timeout" => cfg.timeout = Some(c.duration(v)?),
        "host_deadline" => cfg.host_deadline = Some(c.duration(v)?),
        "retries" => cfg.retries = Some(to_num(c.int(v, 0, 10)?)),
        "depth" => {
            let s = c.string(v)?;
            let d = Depth::from_str(s.trim(), true)
                .map_err(|_| c.err(v, format!("{s:?} is not one of quick, standard, deep")))?;
            cfg.depth = Some(d);
        }
        "host_spacing" => cfg.host_spacing = Some(c.duration(v)?),
        "dns_servers" => {
            let mut out = Vec::new();
            for (s, at) in c.strings(v)? {
                crate::resolve::parse_dns_server(&s).map_err(|e| c.err_at(at, e))?;
                out.push(s);
            }
            cfg.dns_servers = Some(out);
        }
        "resolve" => {
            let mut out = Vec::new();
            for (s, at) in c.strings(v)? {
                crate::resolve::parse_pin(&s).map_err(|e| c.err_at(at, e))?;
                out.push(s);
            }
            cfg.resolve = Some(out);
        }
        "dns_timeout" => cfg.dns_timeout = Some(c.duration(v)?),
        "dns_rate" => cfg.dns_rate = Some(to_num(c.int(v, 0, u32max)?)),
        "max_targets" => cfg.max_targets = Some(to_num(c.int(v, 1, i128::from(u64::MAX))?)),
        "skip_bad_lines" => cfg.skip_bad_lines = Some(c.bool(v)?),
        "expiry_warn" => cfg.expiry_warn = Some(to_num(c.int(v, 0, u32max)?)),
        "ca_bundle" => cfg.ca_bundle = Some(c.path(v, false)?),
        "check_revocation" => cfg.check_revocation = Some(c.bool(v)?),
        "csv" => cfg.csv = Some(c.path(v, true)?),
        "jsonl" => cfg.jsonl = Some(c.path(v, true)?),
        "html" => cfg.html = Some(c.path(v, true)?),
        "metrics" => cfg.metrics = Some(c.path(v, true)?),
        "baseline" => cfg.baseline = Some(c.path(v, false)?),
        "fail_on" => {
            let s = c.string(v)?;
            let f = FailOn::from_str(s.trim(), true).map_err(|_| {
                c.err(
                    v,
                    format!("--fail-on {s:?} is not one of ok, info, warn, fail, new, never"),
                )
            })?;
            cfg.fail_on = Some(f);
        }
        "quiet" => cfg.quiet = Some(c.bool(v)?),
        "clients" => {
            let mut out = Vec::new();
            for (s, at) in c.strings(v)? {
                crate::clients::Selection::parse(&[&s]).map_err(|e| c.err_at(at, e))?;
                out.push(s);
            }
            cfg.clients = Some(out);
        }
        _ => {}
    }
    Ok(())
}

/// Narrows a range-checked integer; the range check makes the fallback unreachable.
fn to_num<T: TryFrom<i128> + Default>(n: i128) -> T {
    T::try_from(n).unwrap_or_default()
}

/// 1-based line of a byte offset (offsets past the end count as the last line).
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()
        .get(..end)
        .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
        + 1
}

/// The known key closest to a misspelt one: same letters with `-` for `_`, a known key that
/// starts with it, or one at most two edits away.
fn suggest(unknown: &str) -> Option<&'static str> {
    let norm = unknown.trim().to_ascii_lowercase().replace('-', "_");
    if let Some(k) = KEYS.iter().find(|k| **k == norm) {
        return Some(k);
    }
    // Common singular/flag spellings.
    let alias = match norm.as_str() {
        "inventory" => Some("inventories"),
        "target" => Some("targets"),
        "dns_server" => Some("dns_servers"),
        _ => None,
    };
    if alias.is_some() {
        return alias;
    }
    let best = KEYS
        .iter()
        .map(|k| (edit_distance(&norm, k), *k))
        .min_by_key(|(d, _)| *d)?;
    if best.0 <= 2 {
        return Some(best.1);
    }
    if norm.len() >= 3 {
        return KEYS.iter().find(|k| k.starts_with(&norm)).copied();
    }
    None
}

/// Levenshtein distance over chars (keys are short; inputs are capped at 64 chars).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().take(64).collect();
    let b: Vec<char> = b.chars().take(64).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        if let Some(first) = cur.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            if let Some(c) = cur.get_mut(j + 1) {
                *c = sub.min(del).min(ins);
            }
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev.last().copied().unwrap_or(0)
}

/// A `from_default` for [`apply`] from the `scan` subcommand's matches: true when the value is
/// clap's default or absent, false when it came from the command line or an `RDPSWEEP_*` variable.
pub fn from_default(scan_matches: &clap::ArgMatches) -> impl Fn(&str) -> bool + '_ {
    move |id| {
        matches!(
            scan_matches.value_source(id),
            None | Some(ValueSource::DefaultValue)
        )
    }
}

/// Fills `args` from the file where `from_default(arg id)` says the flag was not given (arg ids
/// are the field names of `ScanArgs` and of its flattened `OutputArgs`).
pub fn apply(file: &FileConfig, args: &mut ScanArgs, from_default: impl Fn(&str) -> bool) {
    // What to scan is one decision: targets or inventories given elsewhere replace both.
    if from_default("targets") && from_default("inventory") {
        if let Some(t) = &file.targets {
            args.targets = t.clone();
        }
        if let Some(i) = &file.inventories {
            args.inventory = i.clone();
        }
    }
    macro_rules! fill {
        ($($field:ident),* $(,)?) => {$(
            if let Some(v) = &file.$field {
                if from_default(stringify!($field)) {
                    args.$field = v.clone();
                }
            }
        )*};
    }
    macro_rules! fill_some {
        ($($field:ident),* $(,)?) => {$(
            if let Some(v) = &file.$field {
                if from_default(stringify!($field)) {
                    args.$field = Some(v.clone());
                }
            }
        )*};
    }
    fill!(
        port,
        rate,
        concurrency,
        connect_timeout,
        timeout,
        host_deadline,
        retries,
        depth,
        host_spacing,
        dns_servers,
        resolve,
        dns_timeout,
        dns_rate,
        max_targets,
        skip_bad_lines,
        expiry_warn,
        check_revocation,
        fail_on,
        quiet,
        clients,
    );
    fill_some!(ca_bundle, baseline);
    // The output flags live in the flattened `OutputArgs` (arg ids are still the field names).
    macro_rules! fill_out {
        ($($field:ident),* $(,)?) => {$(
            if let Some(v) = &file.$field {
                if from_default(stringify!($field)) {
                    args.out.$field = Some(v.clone());
                }
            }
        )*};
    }
    fill_out!(csv, jsonl, html, metrics);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<FileConfig, String> {
        parse(text, "rdpsweep.toml", Path::new("/etc/rdpsweep")).map_err(|e| e.to_string())
    }

    #[test]
    fn line_numbers() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 4), 3);
        assert_eq!(line_of("a\nb\nc", 999), 3);
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest("rat"), Some("rate"));
        assert_eq!(suggest("connect-timeout"), Some("connect_timeout"));
        assert_eq!(suggest("inventory"), Some("inventories"));
        assert_eq!(suggest("dns_server"), Some("dns_servers"));
        assert_eq!(suggest("conc"), Some("concurrency"));
        assert_eq!(suggest("zzzzzzzz"), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn unknown_key_names_its_line_and_a_suggestion() {
        let e = p("port = 3389\n\n# comment\nrat = 5\n").unwrap_err();
        assert_eq!(
            e,
            "rdpsweep.toml:4: unknown key \"rat\" (did you mean \"rate\"?)"
        );
        let e = p("[scan]\nrate = 5\n").unwrap_err();
        assert!(
            e.starts_with("rdpsweep.toml:1: unknown key \"scan\""),
            "{e}"
        );
        assert!(e.contains("top level"), "{e}");
    }

    #[test]
    fn integer_edge_values() {
        assert_eq!(p("port = 0x0D3D").unwrap().port, Some(3389));
        assert_eq!(p("rate = 1_000").unwrap().rate, Some(1000));
        assert!(p("port = 65536").unwrap_err().contains("out of range"));
        assert!(p("rate = -1").unwrap_err().contains("out of range"));
        assert!(p("max_targets = 0").is_err());
        assert_eq!(p("max_targets = 65536").unwrap().max_targets, Some(65_536));
        // Past i64 (TOML's integer range): an error or a value, never a panic.
        let _ = p("max_targets = 99999999999999999999999999999999999999999");
    }
}
