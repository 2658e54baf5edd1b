//! CSV inventories: header detection, record assembly over bounded lines, row -> item.
//!
//! Fields are split by the `csv` crate; records are assembled here from bounded lines so
//! that a quoted field may span lines (spreadsheet "notes" cells) without any record
//! growing past [`MAX_LINE`]. The delimiter is `,`, `;` (spreadsheets in many European
//! locales) or tab, whichever splits the header into a `host` column.

use std::io::BufRead;
use std::net::IpAddr;

use super::Bad;
use super::error::{CsvError, Problem};
use super::lines::{BoundedLines, MAX_LINE};
use crate::target::{TargetError, TargetSpec, parse_port, parse_spec_written};

const DELIMITERS: [u8; 3] = [b',', b';', b'\t'];

/// Column names that usually hold the targets, for the missing-`host` hint.
pub(crate) const HOST_ALIASES: [&str; 9] = [
    "hostname",
    "dnshostname",
    "name",
    "computer",
    "computername",
    "server",
    "fqdn",
    "ip",
    "address",
];

/// What the first content line of a text file says about its format.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Detect {
    Csv {
        delim: u8,
        fields: Vec<String>,
    },
    /// Delimited, but no `host` column: an error naming the columns found.
    NoHost {
        fields: Vec<String>,
    },
    Plain,
}

pub(crate) fn detect(line: &str) -> Detect {
    for delim in DELIMITERS {
        if let Ok(fields) = split_record(line.as_bytes(), delim)
            && fields.iter().any(|f| norm(f) == "host")
        {
            return Detect::Csv { delim, fields };
        }
    }
    // A plain list never holds these outside a comment, nor starts with a quote
    // (PowerShell's Export-Csv quotes every header: "Name").
    let content = line.split('#').next().unwrap_or_default().trim();
    if content.starts_with('"') {
        return Detect::NoHost {
            fields: split_record(line.as_bytes(), b',').unwrap_or_default(),
        };
    }
    let best = DELIMITERS
        .iter()
        .filter(|&&d| content.as_bytes().contains(&d))
        .filter_map(|&d| split_record(line.as_bytes(), d).ok())
        .max_by_key(Vec::len);
    match best {
        Some(fields) => Detect::NoHost { fields },
        None => Detect::Plain,
    }
}

pub(crate) fn norm(s: &str) -> String {
    s.trim().to_ascii_lowercase()
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Col {
    Host,
    Port,
    Site,
    Owner,
    ExpectIp,
    /// Pass-through, with the name as first seen across all inventories.
    Extra(String),
    /// Column without a name.
    Ignored,
}

#[derive(Debug, Clone)]
pub(crate) struct Header {
    pub(crate) delim: u8,
    cols: Vec<Col>,
}

/// Reads the header; new pass-through names are appended to `extra_union`.
pub(crate) fn parse_header(
    fields: &[String],
    delim: u8,
    extra_union: &mut Vec<String>,
) -> Result<Header, CsvError> {
    let mut seen: Vec<(String, usize)> = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        let n = norm(f);
        if n.is_empty() {
            continue;
        }
        if let Some((_, first)) = seen.iter().find(|(s, _)| *s == n) {
            return Err(CsvError::DuplicateColumn {
                name: f.trim().to_string(),
                first: first + 1,
                second: i + 1,
            });
        }
        seen.push((n, i));
    }
    let mut cols = Vec::with_capacity(fields.len());
    for f in fields {
        let name = f.trim();
        let col = match norm(name).as_str() {
            "" => Col::Ignored,
            "host" => Col::Host,
            "port" => Col::Port,
            "site" => Col::Site,
            "owner" => Col::Owner,
            "expect_ip" => Col::ExpectIp,
            n => {
                let union_name = match extra_union.iter().find(|u| u.eq_ignore_ascii_case(n)) {
                    Some(u) => u.clone(),
                    None => {
                        extra_union.push(name.to_string());
                        name.to_string()
                    }
                };
                Col::Extra(union_name)
            }
        };
        cols.push(col);
    }
    if !cols.contains(&Col::Host) {
        return Err(CsvError::NoHostColumn {
            fields: fields.to_vec(),
        });
    }
    Ok(Header { delim, cols })
}

/// One row's contents, before the port default and the source are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    pub(crate) spec: TargetSpec,
    /// The host cell as written (no port).
    pub(crate) written: String,
    /// From the host cell or the port column.
    pub(crate) port: Option<u16>,
    pub(crate) site: Option<String>,
    pub(crate) owner: Option<String>,
    pub(crate) expect_ip: Vec<IpAddr>,
    pub(crate) extra: Vec<(String, String)>,
}

/// `Ok(None)` for a row whose cells are all empty.
pub(crate) fn parse_row(h: &Header, fields: &[String]) -> Result<Option<Row>, Problem> {
    if fields.iter().all(|f| f.trim().is_empty()) {
        return Ok(None);
    }
    if fields.len() > h.cols.len() {
        // Trailing empty cells (a spreadsheet's stray separators) lose nothing.
        let surplus = fields.get(h.cols.len()..).unwrap_or_default();
        if surplus.iter().any(|f| !f.trim().is_empty()) {
            return Err(CsvError::TooManyFields {
                fields: fields.len(),
                columns: h.cols.len(),
                delim: h.delim,
            }
            .into());
        }
    }
    let mut host = "";
    let mut port_cell = "";
    let mut row_site = None;
    let mut row_owner = None;
    let mut expect_ip = Vec::new();
    let mut extra = Vec::new();
    for (i, col) in h.cols.iter().enumerate() {
        // Short rows: missing cells are empty.
        let v = fields.get(i).map_or("", |f| f.trim());
        match col {
            Col::Host => host = v,
            Col::Port => port_cell = v,
            Col::Site => row_site = Some(v).filter(|s| !s.is_empty()).map(str::to_string),
            Col::Owner => row_owner = Some(v).filter(|s| !s.is_empty()).map(str::to_string),
            Col::ExpectIp => expect_ip = parse_expect_ip(v)?,
            Col::Extra(name) => extra.push((name.clone(), v.to_string())),
            Col::Ignored => {}
        }
    }
    if host.is_empty() {
        return Err(TargetError::Empty.into());
    }
    let (spec, written) = parse_spec_written(host)?;
    let port = match (spec.port(), port_cell) {
        (p, "") => p,
        (None, cell) => Some(parse_port(cell).map_err(TargetError::from)?),
        (Some(p), cell) => {
            let q = parse_port(cell).map_err(TargetError::from)?;
            if p != q {
                return Err(CsvError::PortTwice { host: p, column: q }.into());
            }
            Some(p)
        }
    };
    Ok(Some(Row {
        written: written.to_string(),
        spec,
        port,
        site: row_site,
        owner: row_owner,
        expect_ip,
        extra,
    }))
}

/// One IP, or several separated by `;`, `,` or whitespace.
fn parse_expect_ip(v: &str) -> Result<Vec<IpAddr>, CsvError> {
    v.split(|c: char| c == ';' || c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpAddr>()
                .map_err(|_| CsvError::ExpectIp(s.to_string()))
        })
        .collect()
}

/// Splits one record (which may contain newlines inside quotes) into fields.
pub(crate) fn split_record(bytes: &[u8], delim: u8) -> Result<Vec<String>, Problem> {
    // Most inventory lines have no quotes: splitting on the delimiter is then exactly what the
    // csv crate does, without building its DFA per line (that was ~10 % of a quick scan's CPU).
    if !bytes.contains(&b'"') && !bytes.contains(&b'\n') {
        if bytes.is_empty() {
            return Ok(Vec::new());
        }
        let text = std::str::from_utf8(bytes).map_err(|_| Problem::NotUtf8)?;
        return Ok(text.split(char::from(delim)).map(str::to_string).collect());
    }
    split_record_csv(bytes, delim)
}

/// The general case: quoted fields, doubled quotes, newlines inside quotes.
fn split_record_csv(bytes: &[u8], delim: u8) -> Result<Vec<String>, Problem> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delim)
        // '\r' was stripped with the line ending; a stray one inside a line stays data.
        .terminator(csv::Terminator::Any(b'\n'))
        .buffer_capacity(bytes.len().clamp(64, MAX_LINE + 1))
        .from_reader(bytes);
    let mut rec = csv::StringRecord::new();
    match rdr.read_record(&mut rec) {
        Ok(_) => Ok(rec.iter().map(str::to_string).collect()),
        Err(e) => Err(match e.kind() {
            csv::ErrorKind::Utf8 { .. } => Problem::NotUtf8,
            _ => CsvError::Unreadable(e.to_string()).into(),
        }),
    }
}

/// Whether a record is still inside a quoted field at the end of `bytes`, following the
/// csv crate's rules: a quote opens a field only as its first byte, `""` is a quote.
fn ends_in_quotes(bytes: &[u8], delim: u8, in_quotes: bool) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum S {
        Start,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let mut s = if in_quotes { S::Quoted } else { S::Start };
    for &b in bytes {
        s = match (s, b) {
            (S::Start, b'"') => S::Quoted,
            (S::Start | S::Unquoted, d) if d == delim => S::Start,
            (S::Start | S::Unquoted, _) => S::Unquoted,
            (S::Quoted, b'"') => S::QuoteInQuoted,
            (S::Quoted, _) => S::Quoted,
            (S::QuoteInQuoted, b'"') => S::Quoted,
            (S::QuoteInQuoted, d) if d == delim => S::Start,
            (S::QuoteInQuoted, _) => S::Unquoted,
        };
    }
    s == S::Quoted
}

/// The next data record: (line of its start, fields). Blank lines and lines starting
/// with `#` are skipped. Errors name the line; I/O errors are fatal.
pub(crate) fn next_record<R: BufRead>(
    lines: &mut BoundedLines<R>,
    delim: u8,
) -> Option<Result<(u64, Vec<String>), Bad>> {
    let first = loop {
        let line = match lines.next_line()? {
            Ok(l) => l,
            Err(e) => return Some(Err(Bad::fatal(lines.line_no() + 1, Problem::from(&e)))),
        };
        if line.too_long {
            return Some(Err(Bad::line(line.no, Problem::LineTooLong)));
        }
        let Ok(text) = std::str::from_utf8(&line.bytes) else {
            return Some(Err(Bad::line(line.no, Problem::NotUtf8)));
        };
        let t = text.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        break line;
    };
    let start = first.no;
    let mut rec = first.bytes;
    let mut open = ends_in_quotes(&rec, delim, false);
    while open {
        let line = match lines.next_line() {
            None => {
                let end = lines.line_no();
                return Some(Err(Bad::line(
                    start,
                    CsvError::UnterminatedQuote { start, end }.into(),
                )));
            }
            Some(Err(e)) => return Some(Err(Bad::fatal(lines.line_no() + 1, Problem::from(&e)))),
            Some(Ok(l)) => l,
        };
        if line.too_long || rec.len() + 1 + line.bytes.len() > MAX_LINE {
            return Some(Err(Bad::line(
                start,
                CsvError::QuotedFieldTooLong {
                    start,
                    end: line.no,
                }
                .into(),
            )));
        }
        if std::str::from_utf8(&line.bytes).is_err() {
            return Some(Err(Bad::line(line.no, Problem::NotUtf8)));
        }
        open = ends_in_quotes(&line.bytes, delim, true);
        rec.push(b'\n');
        rec.extend_from_slice(&line.bytes);
    }
    Some(
        split_record(&rec, delim)
            .map(|f| (start, f))
            .map_err(|m| Bad::line(start, m)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Host;
    use std::io::Cursor;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }
    fn header(line: &str) -> Header {
        let Detect::Csv { delim, fields } = detect(line) else {
            panic!("not csv: {line}")
        };
        parse_header(&fields, delim, &mut Vec::new()).unwrap()
    }
    type Rec = Result<(u64, Vec<String>), (u64, String)>;

    #[test]
    fn fast_split_agrees_with_the_csv_crate() {
        use rand::{Rng, SeedableRng};
        // Bytes that matter to CSV (delimiters, spaces, CR, quote-free) plus invalid UTF-8.
        const ALPHABET: &[u8] = b"ab ,;\t\r\xff\xc3\xa9x1.";
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..6_000 {
            let len = rng.random_range(0..12);
            let bytes: Vec<u8> = (0..len)
                .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())])
                .collect();
            for delim in [b',', b';', b'\t'] {
                assert_eq!(
                    split_record(&bytes, delim),
                    split_record_csv(&bytes, delim),
                    "{bytes:?} split on {delim}"
                );
            }
        }
    }

    fn records(input: &str) -> Vec<Rec> {
        let mut lines = BoundedLines::new(Cursor::new(input.as_bytes().to_vec()));
        let mut out = Vec::new();
        while let Some(r) = next_record(&mut lines, b',') {
            out.push(r.map_err(|b| (b.line, b.problem.to_string())));
        }
        out
    }

    #[test]
    fn detection() {
        assert_eq!(
            detect("Host,Port"),
            Detect::Csv {
                delim: b',',
                fields: strings(&["Host", "Port"])
            }
        );
        assert_eq!(
            detect("\"host\";\"site\""),
            Detect::Csv {
                delim: b';',
                fields: strings(&["host", "site"])
            }
        );
        assert_eq!(
            detect("site\t HOST "),
            Detect::Csv {
                delim: b'\t',
                fields: strings(&["site", " HOST "])
            }
        );
        // A single `host` column is a CSV too.
        assert!(matches!(detect("host"), Detect::Csv { .. }));
        assert_eq!(
            detect("hostname,port"),
            Detect::NoHost {
                fields: strings(&["hostname", "port"])
            }
        );
        assert_eq!(detect("rdp01.corp.example"), Detect::Plain);
        assert_eq!(
            detect("\"Name\""),
            Detect::NoHost {
                fields: strings(&["Name"])
            }
        );
        assert_eq!(detect("192.0.2.0/24   # lab, floor 2"), Detect::Plain);
        assert_eq!(detect("[::1]:3389"), Detect::Plain);
    }

    #[test]
    fn header_rules() {
        let mut union = strings(&["Tag"]);
        let fields = strings(&[" Host ", "PORT", "tag", "os", "", "Site"]);
        let h = parse_header(&fields, b',', &mut union).unwrap();
        assert_eq!(
            h.cols,
            vec![
                Col::Host,
                Col::Port,
                Col::Extra("Tag".into()),
                Col::Extra("os".into()),
                Col::Ignored,
                Col::Site
            ]
        );
        // Case-insensitive union keeps the first spelling.
        assert_eq!(union, strings(&["Tag", "os"]));
        assert_eq!(
            parse_header(&strings(&["host", "site", "Site"]), b',', &mut Vec::new())
                .unwrap_err()
                .to_string(),
            "duplicate column \"Site\" (columns 2 and 3); rename or remove one"
        );
        assert_eq!(
            parse_header(&strings(&["DNSHostName", "site"]), b',', &mut Vec::new())
                .unwrap_err()
                .to_string(),
            "no \"host\" column in the header (found: DNSHostName, site); rename column \"DNSHostName\" to \"host\""
        );
        assert_eq!(
            CsvError::NoHostColumn {
                fields: strings(&["a", " b "])
            }
            .to_string(),
            "no \"host\" column in the header (found: a, b); name the column that holds the targets \"host\""
        );
    }

    #[test]
    fn rows() {
        let h = header("host,port,site,owner,expect_ip,tag");
        let row = |v: &[&str]| parse_row(&h, &strings(v));
        let err = |v: &[&str]| row(v).unwrap_err().to_string();
        let r = row(&[
            "RDP01.corp.example",
            "3390",
            "fra",
            "ops",
            "192.0.2.1; 192.0.2.2",
            "gold",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(
            r.spec,
            TargetSpec::Single(Host::Name("rdp01.corp.example".into()), None)
        );
        assert_eq!(r.written, "RDP01.corp.example");
        assert_eq!(r.port, Some(3390));
        assert_eq!(r.site.as_deref(), Some("fra"));
        assert_eq!(r.owner.as_deref(), Some("ops"));
        assert_eq!(
            r.expect_ip,
            vec![
                "192.0.2.1".parse::<IpAddr>().unwrap(),
                "192.0.2.2".parse().unwrap()
            ]
        );
        assert_eq!(r.extra, vec![("tag".to_string(), "gold".to_string())]);
        // Short row: missing cells are empty; extra columns still present (empty).
        let r = row(&["192.0.2.0/30"]).unwrap().unwrap();
        assert!(matches!(r.spec, TargetSpec::Net(..)));
        assert_eq!((r.port, r.site, r.owner), (None, None, None));
        assert_eq!(r.extra, vec![("tag".to_string(), String::new())]);
        // Port in the host cell agrees with the column, or stands alone.
        assert_eq!(row(&["h:3390", "3390"]).unwrap().unwrap().port, Some(3390));
        assert_eq!(row(&["h:3390", ""]).unwrap().unwrap().port, Some(3390));
        assert_eq!(
            err(&["h:3390", "3391"]),
            "port given twice: 3390 in the host cell, 3391 in the port column; keep one"
        );
        assert_eq!(err(&["h", "70000"]), "port 70000 out of range (1-65535)");
        assert_eq!(err(&["h", "0"]), "port 0 out of range (1-65535)");
        assert_eq!(err(&["", "3389", "fra"]), "empty host");
        assert_eq!(
            row(&["h:3390", "3391"]).unwrap_err(),
            Problem::Csv(CsvError::PortTwice {
                host: 3390,
                column: 3391
            })
        );
        assert_eq!(
            err(&["h", "", "", "", "192.0.2.1;nope"]),
            "expect_ip: invalid IP address \"nope\""
        );
        assert_eq!(row(&["", " ", ""]).unwrap(), None);
        // Surplus cells: empty ones are dropped, data is an error.
        assert!(row(&["h", "", "", "", "", "", "", " "]).unwrap().is_some());
        assert_eq!(
            err(&["h", "", "", "", "", "", "oops"]),
            "7 fields but the header has 6 columns; quote values that contain ','"
        );
    }

    #[test]
    fn quotes_across_lines() {
        let got = records("a,\"multi\nline, with comma\",c\n\n# comment\nd,\"x\"\"y\",z\n");
        assert_eq!(
            got,
            vec![
                Ok((1, strings(&["a", "multi\nline, with comma", "c"]))),
                Ok((5, strings(&["d", "x\"y", "z"]))),
            ]
        );
        // A quote inside an unquoted field is data and opens nothing.
        assert_eq!(
            records("rdp01,5\" screen\nrdp02,x\n"),
            vec![
                Ok((1, strings(&["rdp01", "5\" screen"]))),
                Ok((2, strings(&["rdp02", "x"]))),
            ]
        );
        assert_eq!(
            records("ok,1\nbad,\"open\nmore\n"),
            vec![
                Ok((1, strings(&["ok", "1"]))),
                Err((
                    2,
                    "unterminated quote: a '\"' opens a field that never closes (lines 2-3 skipped)"
                        .to_string()
                )),
            ]
        );
    }

    #[test]
    fn quote_state_machine() {
        assert!(ends_in_quotes(b"a,\"b", b',', false));
        assert!(!ends_in_quotes(b"a,\"b\"", b',', false));
        assert!(
            ends_in_quotes(b"a,\"b\"\"", b',', false),
            "escaped quote keeps it open"
        );
        assert!(!ends_in_quotes(b"x\",y", b',', true), "continuation closes");
        assert!(
            ends_in_quotes(b"", b',', true),
            "empty continuation stays open"
        );
        assert!(
            !ends_in_quotes(b"a, \"b", b',', false),
            "quote after a space is data"
        );
        assert!(ends_in_quotes(b"a;\"b", b';', false));
    }

    #[test]
    fn bad_lines() {
        let mut input = b"a,b\n".to_vec();
        input.extend_from_slice(b"caf\xE9,1\n");
        input.extend(std::iter::repeat_n(b'z', MAX_LINE + 10));
        input.extend_from_slice(b"\nlast,2\n");
        let mut lines = BoundedLines::new(Cursor::new(input));
        let mut got = Vec::new();
        while let Some(r) = next_record(&mut lines, b',') {
            got.push(r.map_err(|b| (b.line, b.problem, b.fatal)));
        }
        assert_eq!(got.len(), 4);
        assert_eq!(got[1], Err((2, Problem::NotUtf8, false)));
        assert_eq!(got[2], Err((3, Problem::LineTooLong, false)));
        assert_eq!(got[3], Ok((4, strings(&["last", "2"]))));
    }
}
