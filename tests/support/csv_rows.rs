//! A scan's CSV as rows of column name -> cell, for assertions by column.

use std::collections::HashMap;
use std::path::Path;

/// The header and every row of the CSV at `path`.
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<HashMap<String, String>>) {
    let mut r = csv::Reader::from_path(path).expect("csv");
    let headers: Vec<String> = r
        .headers()
        .expect("headers")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = r
        .records()
        .map(|rec| {
            let rec = rec.expect("csv record");
            headers
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_string))
                .collect()
        })
        .collect();
    (headers, rows)
}

/// The CSV's rows keyed by their `host` cell (one row per host in the scans that use it).
#[allow(dead_code)] // not every test file that includes this module keys rows by host
pub fn rows_by_host(path: &Path) -> HashMap<String, HashMap<String, String>> {
    read_csv(path)
        .1
        .into_iter()
        .map(|r| (r.get("host").cloned().unwrap_or_default(), r))
        .collect()
}

/// The JSON Lines reports keyed by target host.
#[allow(dead_code)]
pub fn reports_by_host(path: &Path) -> HashMap<String, rdpsweep::model::HostReport> {
    rdpsweep::report::jsonl::read_reports(path)
        .expect("jsonl")
        .into_iter()
        .map(|r| (r.record.target.host.clone(), r))
        .collect()
}
