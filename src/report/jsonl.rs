//! JSON Lines sink: one `HostReport` object per line (schema: README "JSON Lines").
//! This is the record of truth that `--baseline` and `report --from` read back.

use std::io::{self, Write};

use super::{Dest, Sink, Summary};
use crate::model::HostReport;
use crate::report::Output;

pub struct JsonlSink {
    w: Dest,
    /// One line is built here, then written at once (one call into the buffered file).
    line: Vec<u8>,
}

impl JsonlSink {
    pub fn create(out: &Output) -> io::Result<JsonlSink> {
        Ok(JsonlSink {
            w: Dest::open(out)?,
            line: Vec::with_capacity(4096),
        })
    }
}

/// Appends `r` as one JSON line (with its newline) to `out`: byte for byte what
/// `serde_json::to_writer(out, r)` and `"\n"` write. `HostReport` flattens its record, and serde
/// serializes a flattened struct through a map adapter; the record serialized as the plain
/// struct it is, followed by the report's own fields, costs less and is the same text.
pub fn write_line(out: &mut Vec<u8>, r: &HostReport) -> io::Result<()> {
    let start = out.len();
    serde_json::to_writer(&mut *out, &r.record).map_err(io::Error::other)?;
    // The record is a JSON object: reopen it to append the report's fields.
    if out.last() != Some(&b'}') {
        return Err(io::Error::other("record did not serialize as an object"));
    }
    out.pop();
    let empty = out.len() == start + 1;
    out.extend_from_slice(if empty {
        b"\"verdict\":".as_slice()
    } else {
        b",\"verdict\":".as_slice()
    });
    serde_json::to_writer(&mut *out, &r.verdict).map_err(io::Error::other)?;
    out.extend_from_slice(b",\"severity\":");
    serde_json::to_writer(&mut *out, &r.severity).map_err(io::Error::other)?;
    out.extend_from_slice(b",\"findings\":");
    serde_json::to_writer(&mut *out, &r.findings).map_err(io::Error::other)?;
    // Optional fields, skipped when absent exactly as the derive does.
    if !r.clients.is_empty() {
        out.extend_from_slice(b",\"clients\":");
        serde_json::to_writer(&mut *out, &r.clients).map_err(io::Error::other)?;
    }
    if let Some(c) = &r.change {
        out.extend_from_slice(b",\"change\":");
        serde_json::to_writer(&mut *out, c).map_err(io::Error::other)?;
    }
    if let Some(f) = &r.first_seen_failing {
        out.extend_from_slice(b",\"first_seen_failing\":");
        serde_json::to_writer(&mut *out, f).map_err(io::Error::other)?;
    }
    if let Some(run) = &r.run {
        out.extend_from_slice(b",\"run\":");
        serde_json::to_writer(&mut *out, run).map_err(io::Error::other)?;
    }
    out.extend_from_slice(b"}\n");
    Ok(())
}

impl Sink for JsonlSink {
    fn write(&mut self, r: &HostReport) -> io::Result<()> {
        self.line.clear();
        write_line(&mut self.line, r)?;
        self.w.write_all(&self.line)
    }

    fn finish(self: Box<Self>, _summary: &Summary) -> io::Result<()> {
        self.w.commit()
    }
}

/// A saved scan that could not be read back; each message names the file (and line).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{}: {source}", path.display())]
    Open {
        path: std::path::PathBuf,
        source: io::Error,
    },
    #[error("{}:{line}: {source}", path.display())]
    Read {
        path: std::path::PathBuf,
        line: u64,
        source: io::Error,
    },
    #[error("{}:{line}: not an rdpsweep JSON Lines record: {source}", path.display())]
    Record {
        path: std::path::PathBuf,
        line: u64,
        source: serde_json::Error,
    },
}

/// Read a JSON Lines file written by this sink; errors name the line.
pub fn read_reports(path: &std::path::Path) -> Result<Vec<HostReport>, ReadError> {
    let mut out = Vec::new();
    for_each_report(path, |r| out.push(r))?;
    Ok(out)
}

/// Every record of a saved scan, one at a time, without holding the file or the rows: what
/// `report --from` needs to rebuild the outputs of a 100,000-host scan in bounded memory.
/// Returns the number of records; the first bad line is an error with its file:line.
pub fn for_each_report(
    path: &std::path::Path,
    mut f: impl FnMut(HostReport),
) -> Result<u64, ReadError> {
    use std::io::BufRead;
    let file = std::fs::File::open(path).map_err(|source| ReadError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = std::io::BufReader::with_capacity(64 * 1024, file);
    let mut line = String::new();
    let mut n = 0u64;
    let mut lineno = 0u64;
    loop {
        line.clear();
        lineno += 1;
        let read = reader
            .read_line(&mut line)
            .map_err(|source| ReadError::Read {
                path: path.to_path_buf(),
                line: lineno,
                source,
            })?;
        if read == 0 {
            return Ok(n);
        }
        if line.trim().is_empty() {
            continue;
        }
        let r: HostReport = serde_json::from_str(&line).map_err(|source| ReadError::Record {
            path: path.to_path_buf(),
            line: lineno,
            source,
        })?;
        n += 1;
        f(r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;
    use crate::rdp::x224::Protocols;
    use std::net::{IpAddr, Ipv4Addr};

    fn minimal() -> ProbeRecord {
        let target = TargetInfo {
            host: "ts01.corp.example".into(),
            port: 3389,
            ..Default::default()
        };
        let dns = DnsOutcome {
            ms: Some(1.25),
            ..DnsOutcome::status(DnsStatus::Nxdomain)
        };
        ProbeRecord {
            duration_ms: 0.5,
            ..ProbeRecord::new(target, dns, "2026-01-01T00:00:00Z".into())
        }
    }

    fn full() -> ProbeRecord {
        let ip = IpAddr::V4(Ipv4Addr::new(127, 1, 0, 7));
        let mut r = minimal();
        r.target.site = Some("lab \"quoted\" \u{e9}".into());
        r.target.owner = Some("=cmd".into());
        r.target.expect_ip = vec![ip];
        r.target.extra = vec![("rack".into(), "b\n7".into())];
        r.address = Some(ip);
        r.dns.status = DnsStatus::Resolved;
        r.dns.addresses = vec![ip];
        r.dns.canonical = Some("h.corp.example".into());
        r.tcp = Some(TcpOutcome {
            status: TcpStatus::Open,
            rtt_ms: Some(0.125),
            error: None,
            icmp: None,
            alive: None,
        });
        r.net = Some(crate::model::NetFacts {
            retransmits: 2,
            measured: 3,
            srtt_ms: Some(0.25),
            rtt_var_ms: Some(0.125),
            handshake_ms: Some(4.5),
            clamped_mss: Some(536),
            udp: None,
        });
        r.rdp = Some(RdpOutcome {
            attempts: vec![
                NegAttempt {
                    requested: 0x0B,
                    result: NegResult::Selected {
                        protocol: 8,
                        flags: 0x1F,
                    },
                },
                NegAttempt {
                    requested: 1,
                    result: NegResult::NotRdp {
                        first_bytes: "4854".into(),
                        hint: "an HTTP server".into(),
                    },
                },
            ],
            accepted: vec![Protocols::HYBRID_EX, Protocols::HYBRID],
            required: Some(Protocols::HYBRID),
            failures: vec![5],
            flags: 0x1F,
            legacy: false,
            version: Some(0x0008_0004),
            encryption_level: Some(2),
            encryption_methods: vec![1, 2],
            os_hint: Some("Windows 10 1607/Server 2016 or later".into()),
        });
        r.tls = Some(TlsOutcome {
            status: TlsStatus::Ok,
            version: Some("TLSv1.2".into()),
            cipher: Some("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384".into()),
            alert: None,
            via: "rustls".into(),
            versions: vec!["TLSv1.2".into()],
            suites: Vec::new(),
            error: None,
            legacy: false,
        });
        r.cert = Some(CertFacts {
            subject: "CN=h.corp.example".into(),
            sans: vec!["DNS:h.corp.example".into(), "IP:127.1.0.7".into()],
            not_after_unix: -5,
            name_match: Some(false),
            trust_error: Some("unknown issuer".into()),
            ..Default::default()
        });
        r.credssp = Some(CredSspOutcome {
            status: CredSspStatus::Challenge,
            version: Some(6),
            error_code: None,
            ntlm: Some(NtlmInfo {
                nb_computer: Some("H".into()),
                clock_skew_s: Some(-3),
                flags: 0xE28A_8235,
                ..Default::default()
            }),
            error: None,
        });
        r.connections = 2;
        r.flaky = true;
        r.duration_ms = 12.000_000_1;
        r
    }

    #[test]
    fn line_is_what_serde_writes_for_the_report() {
        for (i, rec) in [minimal(), full(), full(), minimal()]
            .into_iter()
            .enumerate()
        {
            let mut report = crate::diagnose::report(rec, 1_767_225_600, &Default::default());
            if i == 2 {
                // Baseline fields, present only with --baseline.
                report.change = Some(Change::New);
                report.first_seen_failing = Some("2026-01-01T00:00:00Z".into());
            }
            if i >= 2 {
                // The run tag (scan --run-id): whole, and with the id alone.
                report.run = Some(crate::model::RunTag {
                    id: Some("nightly-2026-03-14".into()),
                    shard: (i == 2).then(|| "2/4".into()),
                });
            }
            let mut want = serde_json::to_vec(&report).unwrap();
            want.push(b'\n');
            let mut got = b"previous line\n".to_vec();
            write_line(&mut got, &report).unwrap();
            assert_eq!(
                String::from_utf8_lossy(got.strip_prefix(b"previous line\n".as_slice()).unwrap()),
                String::from_utf8_lossy(&want)
            );
            // And it reads back as the same report.
            let back: HostReport = serde_json::from_slice(&want).unwrap();
            assert_eq!(back, report);
        }
    }

    #[test]
    fn saved_scans_stream_record_by_record_and_name_the_bad_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scan.jsonl");
        let mut text = Vec::new();
        for rec in [minimal(), full()] {
            let report = crate::diagnose::report(rec, 1_767_225_600, &Default::default());
            write_line(&mut text, &report).unwrap();
            text.extend_from_slice(b"\n"); // a blank line is skipped
        }
        std::fs::write(&path, &text).unwrap();
        let mut hosts = Vec::new();
        let n = for_each_report(&path, |r| hosts.push(r.record.target.host)).unwrap();
        assert_eq!(n, 2);
        assert_eq!(hosts.len(), 2);
        assert_eq!(read_reports(&path).unwrap().len(), 2);

        text.extend_from_slice(b"{\"not\": \"a report\"}\n");
        std::fs::write(&path, &text).unwrap();
        let e = for_each_report(&path, |_| {}).unwrap_err();
        assert!(matches!(e, ReadError::Record { line: 5, .. }), "{e}");
        assert!(e.to_string().contains("scan.jsonl:5:"), "{e}");
        let missing = for_each_report(&dir.path().join("none.jsonl"), |_| {}).unwrap_err();
        assert!(matches!(missing, ReadError::Open { .. }), "{missing}");
        assert!(missing.to_string().contains("none.jsonl"), "{missing}");
    }
}
