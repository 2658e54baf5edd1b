//! The HTML matrix: one self-contained file (inline CSS and JS, no fetch of any kind) that
//! opens from disk or as an e-mail attachment and prints cleanly.
//!
//! Layout: a server-rendered header (scan facts, changes since the baseline, counts per
//! severity and verdict, the 0x904 causes ranked by hosts hit with their remedies, the
//! certificate expiry horizon), then the host matrix, which the page's script builds from the
//! JSON in `<script type="application/json" id="data">` with DOM APIs only (`textContent`,
//! never `innerHTML`), rendering just the rows in view so 20,000 rows stay responsive.
//!
//! Injection: every server- or inventory-controlled string reaches the page either through
//! `esc` (HTML text/attribute context) or inside the JSON island, where `<`, `>`, `&`, U+2028
//! and U+2029 are `\u` escapes so no value can close the script element. A Content-Security-
//! Policy allows only this file's own script and style (by hash) and no network at all, as a
//! second line of defence.
//!
//! Data island schema (`v` = 1): `cols` [{id,label}] matching the static `<th>`s; `extras`
//! (inventory column names); `baseline` (bool); `codes` {code: [severity 0-3, phase, summary,
//! remedy]}; `fields` [[section, label]]; `rows`, each
//! `{h host, p port, a address, ak address sort key, si site, ow owner, x [extras],
//!   v verdict, s severity 0-3, c [[severity or -1 = not reached, short fact] x 6 phases],
//!   f [[code, severity, phase, detail, remedy or "" = as in codes]],
//!   d [[field index, value]], e cert days left or null, ch change, fs first seen failing,
//!   g 1 = gone (baseline row)}`.
//!
//! Files: this one is the sink (and the escaping every part shares); `view.rs` turns a report
//! into its row of the data island (cells, findings, details); `spill.rs` keeps those rows and
//! the shared-value table in unnamed temporary files until the page is written; `summary.rs`
//! tallies what the header shows (flat in the number of rows); `page.rs` writes the markup;
//! `report.css` and `report.js` are the page's only style and script, inlined and allowed by
//! their hashes.
//!
//! Baseline: the sink does not diff. The writer (`engine::RowWriter`, used by scan, report
//! --from and merge) classifies each row against the baseline and adds the gone rows; the sink
//! shows the `change` each row carries.

mod page;
mod spill;
pub mod summary;
mod view;

#[cfg(test)]
mod tests;

use std::io;

use super::{Dest, Sink, Summary};
use crate::clock::Timestamp;
use crate::model::HostReport;
use crate::report::Output;
use spill::Spill;

/// Longest value shown for one field: a hostile server cannot bloat the report without bound.
const MAX_VALUE: usize = 2_000;
/// Entries listed per header list (the matrix has them all).
const LIST_CAP: usize = 200;
/// Certificate horizon in days.
pub const HORIZON: [i64; 3] = [7, 30, 90];

/// Spills one compact JSON row per report and writes the page at finish.
pub struct HtmlSink {
    w: Dest,
    acc: Collector,
}

impl HtmlSink {
    /// Opens the destination and the row spill now, so an unwritable path fails before the
    /// scan starts.
    pub fn create(out: &Output, extras: &[String]) -> io::Result<HtmlSink> {
        Ok(HtmlSink {
            w: Dest::open(out)?,
            acc: Collector::new(extras, Spill::for_output(out)?, Spill::for_output(out)?),
        })
    }
}

impl Sink for HtmlSink {
    fn write(&mut self, r: &HostReport) -> io::Result<()> {
        self.acc.add(r)
    }

    fn finish(mut self: Box<Self>, summary: &Summary) -> io::Result<()> {
        self.acc.write_html(&mut self.w, summary)?;
        self.w.commit()
    }
}

/// The whole page for these reports, exactly as the sink writes it: rows that carry a
/// `change` (set by the writer's baseline diff) get the Change column.
pub fn render(reports: &[HostReport], summary: &Summary, extras: &[String]) -> String {
    let mut acc = Collector::new(extras, Spill::Mem(Vec::new()), Spill::Mem(Vec::new()));
    for r in reports {
        // Spilling into memory cannot fail.
        let _ = acc.add(r);
    }
    let mut out = Vec::with_capacity(64 * 1024);
    // Writing into a Vec cannot fail.
    let _ = acc.write_html(&mut out, summary);
    String::from_utf8(out).unwrap_or_default()
}

/// Everything the page needs, gathered row by row: the rows (serialised by view, spilled
/// until the end) and the header's tallies (summary).
struct Collector {
    extras: Vec<String>,
    /// Some row carried a change: the page gets the Change column and the changes panel.
    with_changes: bool,
    /// "Now" for rows whose scan time does not parse.
    fallback_now: i64,
    rows: view::Rows,
    /// Rows spilled so far.
    rows_n: usize,
    spill: Spill,
    tally: summary::Tally,
}

impl Collector {
    /// `spill` takes the rows, `strings` the shared-value table.
    fn new(extras: &[String], spill: Spill, strings: Spill) -> Collector {
        Collector {
            extras: extras.to_vec(),
            with_changes: false,
            fallback_now: Timestamp::now().unix(),
            rows: view::Rows::new(strings),
            rows_n: 0,
            spill,
            tally: summary::Tally::default(),
        }
    }

    fn add(&mut self, r: &HostReport) -> io::Result<()> {
        let rec = &r.record;
        let change = r.change.map(|c| (c, r.first_seen_failing.clone()));
        if change.is_some() {
            self.with_changes = true;
        }
        // Certificate days are counted from the row's own scan time, so a rebuilt page agrees.
        let (now, days) = summary::cert_days(r, self.fallback_now);
        let address = rec.address.map(|a| a.to_string()).unwrap_or_default();
        self.tally.add(r, change.as_ref(), days, &address);
        let row = self
            .rows
            .add(r, change.as_ref(), now, days, address, &self.extras);
        // Spilled exactly as the page's row list carries it: copied verbatim at the end.
        if let Some(e) = self.rows.strings.take_error() {
            return Err(e);
        }
        if self.rows_n > 0 {
            self.spill.write_all(b",\n")?;
        }
        self.spill.write_all(row.as_bytes())?;
        self.rows_n += 1;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Escaping

/// HTML text and attribute context.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// serde_json text made safe inside `<script type="application/json">`. These characters can
/// only occur inside JSON strings, where the `\u` form means the same thing.
pub fn script_safe_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + 16);
    for ch in json.chars() {
        match ch {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters (on a char boundary), with an ellipsis when cut.
pub fn clip(s: &str, max: usize) -> String {
    // Fast path: no more bytes than the limit means no more characters either.
    if s.len() <= max {
        return s.to_string();
    }
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", s.get(..i).unwrap_or("")),
        None => s.to_string(),
    }
}
