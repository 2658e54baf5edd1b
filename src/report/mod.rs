//! Output sinks. JSON Lines is the record of truth (the serde form of `HostReport`); CSV and
//! HTML are views of it. Files are written under a temporary name and renamed when complete,
//! so a cron consumer never reads half a file; an interrupted scan still renames what it has.
//! FIFOs, devices and stdout are streamed in place instead (see [`dest`]).

pub mod baseline;
pub mod csv;
pub mod dest;
pub mod headline;
pub mod html;
pub mod jsonl;
pub mod merge;
pub mod metrics;
pub mod push;
pub mod terminal;

use std::io;
use std::path::{Path, PathBuf};

use crate::model::HostReport;

pub use dest::{AtomicFile, Dest};

/// Where a report goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Stdout,
    File(PathBuf),
}

impl Output {
    /// `-` means stdout, as for every output flag.
    pub fn from_path(p: &Path) -> Output {
        if p.as_os_str() == "-" {
            Output::Stdout
        } else {
            Output::File(p.to_path_buf())
        }
    }

    /// How messages name it.
    pub fn name(&self) -> String {
        match self {
            Output::Stdout => "stdout".to_string(),
            Output::File(p) => p.display().to_string(),
        }
    }
}

/// Scan-wide facts a sink may need when finishing (the HTML header, metrics).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    pub started_at: String,
    pub duration_s: f64,
    pub targets: u64,
    pub rows: u64,
    pub interrupted: bool,
    /// (verdict, count), most frequent first.
    pub verdicts: Vec<(String, u64)>,
}

pub trait Sink: Send {
    fn write(&mut self, r: &HostReport) -> io::Result<()>;
    /// Flush and publish (rename into place).
    fn finish(self: Box<Self>, summary: &Summary) -> io::Result<()>;
}

/// Where a spreadsheet (or a naive importer) may split a CSV line: the usual delimiters (`,`;
/// `;` in many European locales; tab) and line breaks (importers that ignore quotes).
const SPLIT_AT: &[u8] = b",;\t\r\n";

/// Whether a cell (or a piece of one) would be read as a formula: it starts with `=`, `+`, `-`,
/// `@`, tab or CR and is not a plain number (a negative days-left stays a number).
fn formula_like(s: &str, piece_end: usize) -> bool {
    matches!(
        s.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    ) && !s
        .get(..piece_end)
        .and_then(|p| p.parse::<f64>().ok())
        .is_some_and(f64::is_finite)
}

/// Spreadsheet formula-injection guard (OWASP "CSV injection"): a text cell starting with
/// `=`, `+`, `-`, `@`, tab or CR is prefixed with `'` so Excel/LibreOffice/Sheets show it as text.
/// Cells that are plain numbers (e.g. a negative days-left) stay numbers.
///
/// The same holds for every piece of the cell a spreadsheet could split off at `,`, `;`, tab or
/// a line break (`x;=1+1` -> `x;'=1+1`): [`csv_cell`] quotes such cells, and a spreadsheet keeps
/// a quoted cell whole, but a tool that splits without honouring quotes must not find a live
/// formula either. The `'` goes only where a piece would be a formula, so ordinary text with
/// separators (`ok;nla-required`, `O=lab,CN=CA`) is unchanged.
pub fn spreadsheet_safe(s: &str) -> std::borrow::Cow<'_, str> {
    let b = s.as_bytes();
    let mut out: Option<String> = None;
    // The whole cell: the number test takes all of it (as the spreadsheet reads it, quoted).
    if formula_like(s, s.len()) {
        out = Some(String::from("'"));
    }
    let mut copied = 0; // bytes of `s` already in `out`
    for (i, &c) in b.iter().enumerate() {
        if !SPLIT_AT.contains(&c) {
            continue;
        }
        // Separators are ASCII: i + 1 is a char boundary.
        let rest = s.get(i + 1..).unwrap_or("");
        let end = rest
            .bytes()
            .position(|c| SPLIT_AT.contains(&c))
            .unwrap_or(rest.len());
        if formula_like(rest, end) {
            let o = out.get_or_insert_with(|| String::with_capacity(s.len() + 4));
            o.push_str(s.get(copied..=i).unwrap_or(""));
            o.push('\'');
            copied = i + 1;
        }
    }
    match out {
        None => std::borrow::Cow::Borrowed(s),
        Some(mut o) => {
            o.push_str(s.get(copied..).unwrap_or(""));
            std::borrow::Cow::Owned(o)
        }
    }
}

/// A CSV cell exactly as written: text cells guarded, then quoted (`"` doubled) whenever a
/// spreadsheet could split or break it (`,`, `;`, tab, `"`, CR, LF), so that it stays one cell
/// whichever of those delimiters the spreadsheet uses, and whichever the writer uses. The CSV
/// writer itself never quotes (its own rule would leave `;` and tab bare).
pub fn csv_cell(s: &str, text: bool) -> std::borrow::Cow<'_, str> {
    let s = if text {
        spreadsheet_safe(s)
    } else {
        std::borrow::Cow::Borrowed(s)
    };
    if !s.bytes().any(|c| SPLIT_AT.contains(&c) || c == b'"') {
        return s;
    }
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for ch in s.chars() {
        if ch == '"' {
            q.push('"');
        }
        q.push(ch);
    }
    q.push('"');
    std::borrow::Cow::Owned(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_guard() {
        assert_eq!(spreadsheet_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(spreadsheet_safe("+1+1"), "'+1+1");
        assert_eq!(spreadsheet_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(spreadsheet_safe("\tx"), "'\tx");
        assert_eq!(spreadsheet_safe("\rx"), "'\rx");
        assert_eq!(
            spreadsheet_safe("-cmd|' /C calc'!A0"),
            "'-cmd|' /C calc'!A0"
        );
        assert_eq!(spreadsheet_safe("-42"), "-42");
        assert_eq!(spreadsheet_safe("-3.5"), "-3.5");
        assert_eq!(spreadsheet_safe("CN=host"), "CN=host");
        assert_eq!(spreadsheet_safe(""), "");
        // "-inf"/"NaN" parse as floats but are not plain numbers to a spreadsheet.
        assert_eq!(spreadsheet_safe("-inf"), "'-inf");
    }

    #[test]
    fn formula_guard_covers_every_piece_a_spreadsheet_splits_off() {
        assert_eq!(spreadsheet_safe("x;=1+1"), "x;'=1+1");
        assert_eq!(spreadsheet_safe("x\t@SUM(A1)"), "x\t'@SUM(A1)");
        assert_eq!(spreadsheet_safe("a,+cmd"), "a,'+cmd");
        assert_eq!(spreadsheet_safe("a\n=1"), "a\n'=1");
        assert_eq!(spreadsheet_safe("=a;=b"), "'=a;'=b");
        // Ordinary text with separators, and numeric pieces, are left alone.
        assert_eq!(spreadsheet_safe("ok;nla-required"), "ok;nla-required");
        assert_eq!(spreadsheet_safe("O=lab,CN=CA"), "O=lab,CN=CA");
        assert_eq!(spreadsheet_safe("a;-1;b"), "a;-1;b");
        assert_eq!(spreadsheet_safe("a; =1"), "a; =1");
        assert_eq!(spreadsheet_safe("é;=1"), "é;'=1");
    }

    /// What a spreadsheet does with a written cell: splits it at `delim` outside quotes, or
    /// (a naive importer) everywhere; no piece may then start as a formula.
    fn pieces(cell: &str, delim: char, honour_quotes: bool) -> Vec<String> {
        let unquoted = if honour_quotes && cell.starts_with('"') {
            return vec![cell[1..cell.len() - 1].replace("\"\"", "\"")];
        } else {
            cell
        };
        unquoted.split(delim).map(str::to_string).collect()
    }

    #[test]
    fn no_split_of_a_written_cell_starts_a_formula() {
        let nasty = [
            "x;=1+1",
            "=1+1",
            "a,=b",
            "a\t-c",
            "\"q\";@x",
            "p;\t=1",
            "-2;+3",
            "x;;=1",
            "a\r\n=HYPERLINK(\"h\")",
            "ok;nla-required",
        ];
        for raw in nasty {
            let cell = csv_cell(raw, true);
            for delim in [',', ';', '\t', '\n', '\r'] {
                for honour in [true, false] {
                    for p in pieces(&cell, delim, honour) {
                        let p = p.trim_matches('"');
                        // A quote-ignoring split leaves the quotes on; a number stays a number.
                        let live = matches!(p.bytes().next(), Some(b'=' | b'+' | b'-' | b'@'))
                            && p.parse::<f64>().is_err();
                        assert!(!live, "{raw:?} -> {cell:?}: piece {p:?} at {delim:?}");
                    }
                }
            }
        }
        // Quoted whenever any common delimiter could split it; `"` doubled.
        assert_eq!(csv_cell("x;=1+1", true), "\"x;'=1+1\"");
        assert_eq!(csv_cell("a\tb", true), "\"a\tb\"");
        assert_eq!(csv_cell("say \"hi\"", true), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("plain", true), "plain");
        assert_eq!(csv_cell("-42", false), "-42");
        assert_eq!(csv_cell("=x", false), "=x");
    }
}
