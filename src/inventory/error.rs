//! What can be wrong with an inventory, as values callers can match on. The texts are what
//! users see after `file:line:` (tests/inventory.rs and tests/bad_input.rs hold them to it).

use std::io;

use crate::target::{TargetError, show};

use super::csv_file::{HOST_ALIASES, norm};
use super::lines::MAX_LINE;

/// One inventory problem, where it is: `file` is the path as given, `stdin` or `cli`; `line` is
/// 1-based, 0 for whole-file problems.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {problem}")]
pub struct InventoryError {
    pub file: String,
    pub line: u64,
    pub problem: Problem,
}

/// What is wrong (see [`InventoryError`] for where).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The host (or port) of one line.
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("not UTF-8 (save the file as UTF-8)")]
    NotUtf8,
    #[error(
        "line longer than {} KiB; inventory lines hold one target each (is this the right file?)",
        MAX_LINE / 1024
    )]
    LineTooLong,
    #[error("the file is UTF-16 text; save it as UTF-8 (PowerShell: Out-File -Encoding utf8)")]
    Utf16,
    #[error(
        "binary data (NUL bytes), not an inventory; give a CSV, a plain list or nmap -oX XML (UTF-16 text: save it as UTF-8)"
    )]
    Binary,
    #[error("stdin (-) given twice; give it once")]
    StdinTwice,
    #[error(
        "several values on one line; a plain list takes one target per line (use a CSV with a host column for more fields)"
    )]
    SeveralValues,
    #[error(
        "',' or ';' in a plain list; put one target per line, or give a CSV whose header has a host column"
    )]
    CsvPunctuationInList,
    /// The running count passed `--max-targets`.
    #[error("more than {max} targets; raise --max-targets")]
    TooManyTargets { max: u64 },
    /// One CIDR or range larger than `--max-targets`; `written` is the host as written.
    #[error("{} has {count} addresses, more than --max-targets {max}; raise --max-targets or split it", show(.written))]
    SpecTooLarge {
        written: String,
        count: u128,
        max: u64,
    },
    /// An IPv6 prefix of `2^bits` addresses: too large to sweep whatever the limit.
    #[error("{} spans 2^{bits} addresses, more than --max-targets {max}; an IPv6 prefix this large cannot be swept, list the hosts instead", show(.written))]
    Ipv6PrefixTooLarge {
        written: String,
        bits: u32,
        max: u64,
    },
    #[error(transparent)]
    Csv(#[from] CsvError),
    #[error(transparent)]
    Nmap(#[from] NmapError),
}

/// Opening or reading failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("file not found; check the path")]
    NotFound,
    #[error("permission denied; check the file's permissions")]
    PermissionDenied,
    #[error("is a directory; give a file")]
    IsADirectory,
    /// Any other I/O error, as the OS describes it.
    #[error("read error ({0}); check the file")]
    Other(String),
}

impl From<&io::Error> for ReadError {
    fn from(e: &io::Error) -> ReadError {
        match e.kind() {
            io::ErrorKind::NotFound => ReadError::NotFound,
            io::ErrorKind::PermissionDenied => ReadError::PermissionDenied,
            io::ErrorKind::IsADirectory => ReadError::IsADirectory,
            _ => ReadError::Other(e.to_string()),
        }
    }
}

impl From<&io::Error> for Problem {
    fn from(e: &io::Error) -> Problem {
        Problem::Read(ReadError::from(e))
    }
}

/// A CSV header or row that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    /// A header line without a host column: `fields` as found (trimmed, non-empty).
    #[error("no \"host\" column in the header (found: {}); {}", found_text(.fields), no_host_hint(.fields))]
    NoHostColumn { fields: Vec<String> },
    /// Columns are 1-based.
    #[error("duplicate column {} (columns {first} and {second}); rename or remove one", show(.name))]
    DuplicateColumn {
        name: String,
        first: usize,
        second: usize,
    },
    #[error("{fields} fields but the header has {columns} columns; quote values that contain {}", delim_name(*.delim))]
    TooManyFields {
        fields: usize,
        columns: usize,
        delim: u8,
    },
    #[error("expect_ip: invalid IP address {}", show(.0))]
    ExpectIp(String),
    #[error("port given twice: {host} in the host cell, {column} in the port column; keep one")]
    PortTwice { host: u16, column: u16 },
    /// The csv crate's description.
    #[error("unreadable CSV record: {0}")]
    Unreadable(String),
    #[error(
        "unterminated quote: a '\"' opens a field that never closes (lines {start}-{end} skipped)"
    )]
    UnterminatedQuote { start: u64, end: u64 },
    #[error(
        "quoted field runs past 64 KiB (lines {start}-{end}); a closing '\"' is probably missing"
    )]
    QuotedFieldTooLong { start: u64, end: u64 },
}

/// nmap XML that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NmapError {
    /// The XML parser's description.
    #[error("not well-formed XML ({0}); if the nmap scan was interrupted, run it again")]
    NotWellFormed(String),
    #[error("XML root is <{0}>, not <nmaprun>; give nmap -oX output")]
    NotNmap(String),
    #[error("nmap XML larger than {mib} MiB; split the scan into smaller -oX files")]
    TooLarge { mib: u64 },
    #[error("nmap <host> without an IPv4/IPv6 address or hostname")]
    HostWithoutAddress,
}

fn found_text(fields: &[String]) -> String {
    let found: Vec<&str> = fields
        .iter()
        .map(|f| f.trim())
        .filter(|f| !f.is_empty())
        .collect();
    if found.is_empty() {
        "none".to_string()
    } else {
        found.join(", ")
    }
}

/// Names the column to rename when one is a known alias of `host`.
fn no_host_hint(fields: &[String]) -> String {
    fields
        .iter()
        .find(|f| HOST_ALIASES.contains(&norm(f).as_str()))
        .map(|f| format!("rename column {} to \"host\"", show(f.trim())))
        .unwrap_or_else(|| "name the column that holds the targets \"host\"".to_string())
}

fn delim_name(d: u8) -> &'static str {
    match d {
        b',' => "','",
        b';' => "';'",
        _ => "a tab",
    }
}
