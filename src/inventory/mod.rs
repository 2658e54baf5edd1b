//! Inventories: command-line targets, plain lists, CSV files and nmap `-oX` XML, turned
//! into one lazy, deduplicated stream of [`Target`]s.
//!
//! - Files are opened (and their format and header checked) by [`Targets::open`]; lines
//!   are read as the stream is consumed, through a reader that caps each line at 64 KiB.
//! - Format is chosen by content: a file whose first non-blank character is `<` is nmap
//!   XML; otherwise the first content line (blank and `#` lines skipped) decides: a header
//!   with a `host` column (`,` `;` or tab separated) means CSV, another delimited line is
//!   an error naming the columns found, anything else is a plain list.
//! - CIDRs and ranges expand lazily in spread order (see `expand`), never burst one /24.
//! - The same (host, port) is yielded once; the first occurrence wins (its source and
//!   columns). Finished CIDRs and ranges are remembered as intervals, so a /8 costs
//!   one entry, not 16 M.
//! - `max_targets` counts yielded targets: the item after the Nth is an error and ends
//!   the stream. A single CIDR or range larger than `max_targets` is a bad line.
//!
//! Errors are `file:line: message` (line 0 for whole-file problems; `cli:N` for the Nth
//! command-line target). With `skip_bad_lines`, bad lines become warnings; what is still
//! returned as `Err` (read errors mid-file, too many targets) is fatal.

mod csv_file;
mod error;
mod expand;
mod lines;
mod nmap;

use std::collections::{HashSet, VecDeque};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;

use crate::model::TargetInfo;
use crate::target::{
    Host, Target, TargetSpec, ip_to_u128, parse_spec_written, spec_bounds, spec_len,
};
use csv_file::{Detect, Header};
use expand::{Covered, Spread};
use lines::{BoundedLines, Line};

pub use error::{CsvError, InventoryError, NmapError, Problem, ReadError};

/// nmap XML is parsed as a whole; larger scans should be split.
const MAX_XML: u64 = 64 * 1024 * 1024;
const READ_BUF: usize = 64 * 1024;
/// Warnings kept between two `take_warnings` calls; later ones are only counted.
const MAX_WARNINGS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryOptions {
    /// Port for targets that name none.
    pub default_port: u16,
    /// Refuse more targets than this (after dedupe).
    pub max_targets: u64,
    /// Bad lines become warnings instead of errors.
    pub skip_bad_lines: bool,
}

impl Default for InventoryOptions {
    fn default() -> Self {
        InventoryOptions {
            default_port: 3389,
            max_targets: 65_536,
            skip_bad_lines: false,
        }
    }
}

/// A problem with one line (or, when `fatal`, with the rest of the file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bad {
    pub(crate) line: u64,
    pub(crate) problem: Problem,
    pub(crate) fatal: bool,
}

impl Bad {
    pub(crate) fn line(line: u64, problem: Problem) -> Bad {
        Bad {
            line,
            problem,
            fatal: false,
        }
    }
    pub(crate) fn fatal(line: u64, problem: Problem) -> Bad {
        Bad {
            line,
            problem,
            fatal: true,
        }
    }
}

/// A spec ready to expand, with what its targets carry (`info.host` as written).
#[derive(Debug, Clone)]
struct Item {
    spec: TargetSpec,
    port: u16,
    info: TargetInfo,
    line: u64,
}

impl Item {
    fn new(spec: TargetSpec, written: &str, default_port: u16, source: String, line: u64) -> Item {
        let port = spec.port().unwrap_or(default_port);
        Item {
            spec,
            port,
            info: TargetInfo {
                host: written.to_string(),
                port,
                source,
                ..TargetInfo::default()
            },
            line,
        }
    }
}

type Reader = Box<dyn BufRead + Send>;

struct LineSource {
    lines: BoundedLines<Reader>,
    /// The content line read while detecting the format (plain lists).
    pending: Option<Line>,
}

enum Kind {
    Cli(VecDeque<Item>),
    Plain(LineSource),
    Csv(LineSource, Header),
    Nmap(VecDeque<Result<Item, Bad>>),
}

struct Source {
    name: String,
    kind: Kind,
    /// Items produced, to warn about files without targets.
    produced: u64,
}

impl Source {
    fn next_item(&mut self, default_port: u16) -> Option<Result<Item, Bad>> {
        let name = &self.name;
        match &mut self.kind {
            Kind::Cli(items) => items.pop_front().map(Ok),
            Kind::Nmap(items) => items.pop_front(),
            Kind::Plain(src) => loop {
                let line = match src.pending.take() {
                    Some(l) => l,
                    None => match src.lines.next_line()? {
                        Ok(l) => l,
                        Err(e) => {
                            return Some(Err(Bad::fatal(
                                src.lines.line_no() + 1,
                                Problem::from(&e),
                            )));
                        }
                    },
                };
                if line.too_long {
                    return Some(Err(Bad::line(line.no, Problem::LineTooLong)));
                }
                let Ok(text) = std::str::from_utf8(&line.bytes) else {
                    return Some(Err(Bad::line(line.no, Problem::NotUtf8)));
                };
                match plain_content(text).and_then(|c| {
                    c.map(|c| parse_spec_written(c).map_err(Problem::from))
                        .transpose()
                }) {
                    Ok(None) => continue,
                    Ok(Some((spec, written))) => {
                        let source = format!("{name}:{}", line.no);
                        return Some(Ok(Item::new(spec, written, default_port, source, line.no)));
                    }
                    Err(m) => return Some(Err(Bad::line(line.no, m))),
                }
            },
            Kind::Csv(src, header) => loop {
                let (line, fields) = match csv_file::next_record(&mut src.lines, header.delim)? {
                    Ok(r) => r,
                    Err(bad) => return Some(Err(bad)),
                };
                match csv_file::parse_row(header, &fields) {
                    Ok(None) => continue,
                    Ok(Some(row)) => {
                        let port = row.port.unwrap_or(default_port);
                        let info = TargetInfo {
                            host: row.written,
                            port,
                            site: row.site,
                            owner: row.owner,
                            expect_ip: row.expect_ip,
                            extra: row.extra,
                            source: format!("{name}:{line}"),
                            from_range: false,
                        };
                        return Some(Ok(Item {
                            spec: row.spec,
                            port,
                            info,
                            line,
                        }));
                    }
                    Err(m) => return Some(Err(Bad::line(line, m))),
                }
            },
        }
    }
}

/// The target on a plain-list line: `None` for blank and comment lines.
fn plain_content(text: &str) -> Result<Option<&str>, Problem> {
    // No target contains '#', so it always starts a comment.
    let content = text.split('#').next().unwrap_or_default().trim();
    if content.is_empty() {
        return Ok(None);
    }
    if content.contains(char::is_whitespace) {
        return Err(Problem::SeveralValues);
    }
    if content.contains([',', ';']) {
        return Err(Problem::CsvPunctuationInList);
    }
    Ok(Some(content))
}

/// A CIDR or range being expanded.
struct Expansion {
    spread: Spread,
    v6: bool,
    first: u128,
    last: u128,
    port: u16,
    template: TargetInfo,
    file: String,
    line: u64,
}

/// The lazy, deduplicated target stream (see the module docs).
pub struct Targets {
    opts: InventoryOptions,
    sources: VecDeque<Source>,
    current: Option<Expansion>,
    /// Names and single addresses yielded.
    singles: HashSet<(Host, u16)>,
    /// CIDRs and ranges fully yielded.
    covered: Covered,
    yielded: u64,
    duplicates: u64,
    warnings: Vec<String>,
    warnings_dropped: u64,
    extra_columns: Vec<String>,
    finished: bool,
}

impl Targets {
    fn new(opts: &InventoryOptions) -> Targets {
        Targets {
            opts: opts.clone(),
            sources: VecDeque::new(),
            current: None,
            singles: HashSet::new(),
            covered: Covered::default(),
            yielded: 0,
            duplicates: 0,
            warnings: Vec::new(),
            warnings_dropped: 0,
            extra_columns: Vec::new(),
            finished: false,
        }
    }

    /// Opens every file now (so unreadable files / bad headers fail before scanning),
    /// reads lazily after that. `-` is stdin. Command-line targets come first, then the
    /// files in order. Format by content (see the module docs).
    pub fn open(
        cli: &[String],
        files: &[PathBuf],
        opts: &InventoryOptions,
    ) -> Result<Targets, InventoryError> {
        let mut t = Targets::new(opts);
        let mut items = VecDeque::new();
        for (i, s) in cli.iter().enumerate() {
            let line = u64::try_from(i).unwrap_or(u64::MAX).saturating_add(1);
            let item = parse_spec_written(s)
                .map_err(Problem::from)
                .and_then(|(spec, written)| {
                    let item = Item::new(spec, written, opts.default_port, "cli".to_string(), line);
                    check_size(&item, opts.max_targets)?;
                    Ok(item)
                });
            match item {
                Ok(item) => items.push_back(item),
                Err(problem) => {
                    let e = InventoryError {
                        file: "cli".to_string(),
                        line,
                        problem,
                    };
                    if opts.skip_bad_lines {
                        t.warn(e.to_string());
                    } else {
                        return Err(e);
                    }
                }
            }
        }
        if !items.is_empty() {
            t.sources.push_back(Source {
                name: "cli".to_string(),
                kind: Kind::Cli(items),
                produced: 0,
            });
        }
        if files.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
            return Err(InventoryError {
                file: "stdin".to_string(),
                line: 0,
                problem: Problem::StdinTwice,
            });
        }
        for path in files {
            if path.as_os_str() == "-" {
                let reader = BufReader::with_capacity(READ_BUF, io::stdin());
                t.add_reader("stdin".to_string(), Box::new(reader))?;
            } else {
                let name = path.display().to_string();
                let file = File::open(path).map_err(|e| InventoryError {
                    file: name.clone(),
                    line: 0,
                    problem: Problem::from(&e),
                })?;
                t.add_reader(name, Box::new(BufReader::with_capacity(READ_BUF, file)))?;
            }
        }
        Ok(t)
    }

    /// One inventory from a reader (in-memory inventories, tests); `name` is used in
    /// sources and errors like a file name.
    pub fn from_reader<R: BufRead + Send + 'static>(
        name: &str,
        reader: R,
        opts: &InventoryOptions,
    ) -> Result<Targets, InventoryError> {
        let mut t = Targets::new(opts);
        t.add_reader(name.to_string(), Box::new(reader))?;
        Ok(t)
    }

    /// Extra (pass-through) CSV column names, union across CSV inventories in first-seen
    /// order (known from headers at open). Compared case-insensitively; the first
    /// spelling is kept and used in every target's `info.extra`.
    pub fn extra_columns(&self) -> &[String] {
        &self.extra_columns
    }

    /// Warnings so far, each `file:line: message`: bad lines skipped with
    /// `skip_bad_lines`, and `file:0: no targets in this file` for empty inventories.
    pub fn take_warnings(&mut self) -> Vec<String> {
        let mut w = std::mem::take(&mut self.warnings);
        if self.warnings_dropped > 0 {
            w.push(format!(
                "{} more warnings not shown (at most {MAX_WARNINGS} are kept between reads)",
                self.warnings_dropped
            ));
            self.warnings_dropped = 0;
        }
        w
    }

    /// Number of targets yielded so far.
    pub fn yielded(&self) -> u64 {
        self.yielded
    }

    /// Number of (host, port) repeats skipped so far.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    fn warn(&mut self, w: String) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(w);
        } else {
            self.warnings_dropped += 1;
        }
    }

    fn add_reader(&mut self, name: String, mut reader: Reader) -> Result<(), InventoryError> {
        let whole_file = |problem: Problem| InventoryError {
            file: name.clone(),
            line: 0,
            problem,
        };
        let sniff = loop {
            match reader.fill_buf() {
                Ok(buf) => break sniff(buf),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(whole_file(Problem::from(&e))),
            }
        };
        let kind = match sniff {
            Sniff::Utf16 => {
                return Err(whole_file(Problem::Utf16));
            }
            Sniff::Binary => {
                return Err(whole_file(Problem::Binary));
            }
            Sniff::Xml => Kind::Nmap(self.read_nmap(&name, reader)?),
            Sniff::Text => self.detect_text(&name, reader)?,
        };
        self.sources.push_back(Source {
            name,
            kind,
            produced: 0,
        });
        Ok(())
    }

    fn read_nmap(
        &self,
        name: &str,
        reader: Reader,
    ) -> Result<VecDeque<Result<Item, Bad>>, InventoryError> {
        let err = |line: u64, problem: Problem| InventoryError {
            file: name.to_string(),
            line,
            problem,
        };
        let mut bytes = Vec::new();
        reader
            .take(MAX_XML + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| err(0, Problem::from(&e)))?;
        if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_XML {
            return Err(err(
                0,
                NmapError::TooLarge {
                    mib: MAX_XML / (1024 * 1024),
                }
                .into(),
            ));
        }
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                let bytes = e.as_bytes();
                let line = bytes
                    .get(..valid)
                    .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count());
                return Err(err(
                    u64::try_from(line).unwrap_or(u64::MAX).saturating_add(1),
                    Problem::NotUtf8,
                ));
            }
        };
        let entries =
            nmap::parse(&text, self.opts.default_port).map_err(|(line, e)| err(line, e.into()))?;
        let mut items = VecDeque::new();
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(bad) => {
                    items.push_back(Err(bad));
                    continue;
                }
            };
            let source = format!("{name}:{}", entry.line);
            match parse_spec_written(&entry.host) {
                Err(e) => items.push_back(Err(Bad::line(entry.line, e.into()))),
                Ok((spec, written)) => {
                    if entry.ports.is_empty() {
                        items.push_back(Ok(Item::new(
                            spec,
                            written,
                            self.opts.default_port,
                            source,
                            entry.line,
                        )));
                    } else {
                        for port in entry.ports {
                            items.push_back(Ok(Item::new(
                                spec.clone(),
                                written,
                                port,
                                source.clone(),
                                entry.line,
                            )));
                        }
                    }
                }
            }
        }
        Ok(items)
    }

    fn detect_text(&mut self, name: &str, reader: Reader) -> Result<Kind, InventoryError> {
        let err = |line: u64, problem: Problem| InventoryError {
            file: name.to_string(),
            line,
            problem,
        };
        let mut lines = BoundedLines::new(reader);
        loop {
            let line = match lines.next_line() {
                None => {
                    return Ok(Kind::Plain(LineSource {
                        lines,
                        pending: None,
                    }));
                }
                Some(Err(e)) => return Err(err(lines.line_no() + 1, Problem::from(&e))),
                Some(Ok(l)) => l,
            };
            if line.too_long {
                // Reported when read, like any other bad line.
                return Ok(Kind::Plain(LineSource {
                    lines,
                    pending: Some(line),
                }));
            }
            let text = String::from_utf8_lossy(&line.bytes);
            let t = text.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            match csv_file::detect(t) {
                Detect::Plain => {
                    return Ok(Kind::Plain(LineSource {
                        lines,
                        pending: Some(line),
                    }));
                }
                Detect::NoHost { fields } => {
                    return Err(err(line.no, CsvError::NoHostColumn { fields }.into()));
                }
                Detect::Csv { delim, fields } => {
                    if std::str::from_utf8(&line.bytes).is_err() {
                        return Err(err(line.no, Problem::NotUtf8));
                    }
                    let header = csv_file::parse_header(&fields, delim, &mut self.extra_columns)
                        .map_err(|e| err(line.no, e.into()))?;
                    return Ok(Kind::Csv(
                        LineSource {
                            lines,
                            pending: None,
                        },
                        header,
                    ));
                }
            }
        }
    }
}

enum Sniff {
    Utf16,
    Binary,
    Xml,
    Text,
}

/// Classifies a file by its first buffer.
fn sniff(buf: &[u8]) -> Sniff {
    if buf.starts_with(b"\xFF\xFE") || buf.starts_with(b"\xFE\xFF") {
        return Sniff::Utf16;
    }
    if buf.contains(&0) {
        return Sniff::Binary;
    }
    let body = buf.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(buf);
    // No target starts with '<': XML (nmap -oX, or an XML file that is not nmap's).
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'<') => Sniff::Xml,
        _ => Sniff::Text,
    }
}

/// A single CIDR or range larger than `max` is a bad line.
fn check_size(item: &Item, max: u64) -> Result<(), Problem> {
    let n = spec_len(&item.spec);
    // A single host is never "too large": the running count catches it.
    if n <= u128::from(max) || matches!(item.spec, TargetSpec::Single(..)) {
        return Ok(());
    }
    let written = item.info.host.clone();
    Err(match &item.spec {
        TargetSpec::Net(ipnet::IpNet::V6(net), _) => Problem::Ipv6PrefixTooLarge {
            written,
            bits: 128 - u32::from(net.prefix_len()),
            max,
        },
        _ => Problem::SpecTooLarge {
            written,
            count: n,
            max,
        },
    })
}

fn too_many(file: &str, line: u64, max: u64) -> InventoryError {
    InventoryError {
        file: file.to_string(),
        line,
        problem: Problem::TooManyTargets { max },
    }
}

fn is_dup(singles: &HashSet<(Host, u16)>, covered: &Covered, host: &Host, port: u16) -> bool {
    if singles.contains(&(host.clone(), port)) {
        return true;
    }
    match host {
        Host::Ip(ip) => covered.contains(ip.is_ipv6(), port, ip_to_u128(*ip)),
        Host::Name(_) => false,
    }
}

impl Iterator for Targets {
    type Item = Result<Target, InventoryError>;

    fn next(&mut self) -> Option<Self::Item> {
        let max = self.opts.max_targets;
        loop {
            if self.finished {
                return None;
            }
            if let Some(exp) = self.current.as_mut() {
                if let Some(ip) = exp.spread.next() {
                    let host = Host::Ip(ip);
                    if is_dup(&self.singles, &self.covered, &host, exp.port) {
                        self.duplicates += 1;
                        continue;
                    }
                    if self.yielded >= max {
                        self.finished = true;
                        return Some(Err(too_many(&exp.file, exp.line, max)));
                    }
                    self.yielded += 1;
                    let mut info = exp.template.clone();
                    info.host = ip.to_string();
                    info.from_range = true;
                    return Some(Ok(Target {
                        host,
                        port: exp.port,
                        info,
                    }));
                }
                // Exhausted: later specs dedupe against it as one interval.
                if let Some(done) = self.current.take() {
                    self.covered
                        .insert(done.v6, done.port, done.first, done.last);
                }
                continue;
            }
            let Some(src) = self.sources.front_mut() else {
                self.finished = true;
                return None;
            };
            let next = src.next_item(self.opts.default_port);
            let item = match next {
                None => {
                    if let Some(done) = self.sources.pop_front()
                        && done.produced == 0
                        && !matches!(done.kind, Kind::Cli(_))
                    {
                        self.warn(format!("{}:0: no targets in this file", done.name));
                    }
                    continue;
                }
                Some(Err(bad)) => {
                    let e = InventoryError {
                        file: src.name.clone(),
                        line: bad.line,
                        problem: bad.problem,
                    };
                    if bad.fatal {
                        self.sources.pop_front();
                        return Some(Err(e));
                    }
                    if self.opts.skip_bad_lines {
                        self.warn(e.to_string());
                        continue;
                    }
                    return Some(Err(e));
                }
                Some(Ok(item)) => item,
            };
            src.produced += 1;
            if let Err(problem) = check_size(&item, max) {
                let e = InventoryError {
                    file: src.name.clone(),
                    line: item.line,
                    problem,
                };
                if self.opts.skip_bad_lines {
                    self.warn(e.to_string());
                    continue;
                }
                return Some(Err(e));
            }
            let Item {
                spec,
                port,
                info,
                line,
            } = item;
            match spec {
                TargetSpec::Single(host, _) => {
                    if is_dup(&self.singles, &self.covered, &host, port) {
                        self.duplicates += 1;
                        continue;
                    }
                    if self.yielded >= max {
                        self.finished = true;
                        return Some(Err(too_many(&src.name, line, max)));
                    }
                    self.yielded += 1;
                    self.singles.insert((host.clone(), port));
                    return Some(Ok(Target { host, port, info }));
                }
                spec @ (TargetSpec::Net(..) | TargetSpec::Range(..)) => {
                    let Some((v6, first, last)) = spec_bounds(&spec) else {
                        continue;
                    };
                    self.current = Some(Expansion {
                        spread: Spread::new(v6, first, last),
                        v6,
                        first,
                        last,
                        port,
                        template: info,
                        file: src.name.clone(),
                        line,
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
