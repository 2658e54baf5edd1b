//! Inventories for the scanner and the bare loop.

use super::*;

#[derive(Debug, Clone)]
pub(crate) struct InvRow {
    pub(crate) host: String,
    pub(crate) expected: String,
}

pub(crate) fn read_inventory(path: &Path) -> Vec<InvRow> {
    let mut r = csv::Reader::from_path(path).expect("lab inventory");
    let headers = r.headers().expect("header").clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no {name} column"))
    };
    let (h, e) = (col("host"), col("expected"));
    r.records()
        .map(|rec| {
            let rec = rec.expect("inventory row");
            InvRow {
                host: rec.get(h).unwrap_or_default().to_string(),
                expected: rec.get(e).unwrap_or_default().to_string(),
            }
        })
        .collect()
}

pub(crate) fn keep(row: &InvRow, mix: Mix) -> bool {
    mix == Mix::Realistic || row.expected != "port-filtered"
}

/// The scanner's inventory: CSV (`host,port,expected`, the default) or, with
/// `FLEET_INVENTORY=list`, a plain list of addresses (one per line).
pub(crate) fn write_inventory(rows: &[InvRow], path: &Path) {
    if env_or("FLEET_INVENTORY", "csv") == "list" {
        let mut text = String::with_capacity(rows.len() * 16);
        for r in rows {
            text.push_str(&r.host);
            text.push('\n');
        }
        std::fs::write(path, text).expect("write inventory");
        return;
    }
    let mut w = csv::Writer::from_path(path).expect("write inventory");
    w.write_record(["host", "port", "expected"])
        .expect("header");
    for r in rows {
        w.write_record([r.host.as_str(), "3389", r.expected.as_str()])
            .expect("row");
    }
    w.flush().expect("flush inventory");
}
