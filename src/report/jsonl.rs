//! JSON Lines sink: one `HostReport` object per line (schema: README "JSON Lines").
//! This is the record of truth that `--baseline` and `report --from` read back.

use std::io::{self, Write};

use super::{Dest, Sink, Summary};
use crate::config::Output;
use crate::model::HostReport;

pub struct JsonlSink {
    w: Dest,
}

impl JsonlSink {
    pub fn create(out: &Output) -> io::Result<JsonlSink> {
        Ok(JsonlSink {
            w: Dest::open(out)?,
        })
    }
}

impl Sink for JsonlSink {
    fn write(&mut self, r: &HostReport) -> io::Result<()> {
        serde_json::to_writer(&mut self.w, r).map_err(io::Error::other)?;
        self.w.write_all(b"\n")
    }

    fn finish(self: Box<Self>, _summary: &Summary) -> io::Result<()> {
        self.w.commit()
    }
}

/// Read a JSON Lines file written by this sink; errors name the line.
pub fn read_reports(path: &std::path::Path) -> Result<Vec<HostReport>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let r: HostReport = serde_json::from_str(line).map_err(|e| {
            format!(
                "{}:{}: not an rdpsweep JSON Lines record: {e}",
                path.display(),
                i + 1
            )
        })?;
        out.push(r);
    }
    Ok(out)
}
