//! Runs nmap's `rdp-enum-encryption` against a loopback address and parses what it says; plus a
//! hand-written per-candidate X.224 probe that reads the `selectedProtocol` nmap ignores.
//!
//! Use from a test file with `#[path = "support/nmap.rs"] mod nmap;`.
//! nmap runs `--unprivileged` (TCP connect scan: no raw sockets needed, CI containers may lack
//! them) and `-d`, so the script also lists the candidates that failed and nmap's stdout names
//! a script that threw an error. Its XML keeps the script output as one text attribute
//! (`<script id=.. output=..>`) with no structured elements, so that text is parsed.

#![allow(dead_code)] // each test file uses a different part of this helper

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian's nmap package puts the binary.
pub const NMAP: &str = "/usr/bin/nmap";

/// nmap's security-layer candidates (`rdp-enum-encryption.nse`, `PROTOCOLS`): the name it
/// prints, the requestedProtocols it sends, and the protocol the name stands for. "CredSSP
/// (NLA)" sends SSL|HYBRID (3) but names HYBRID (2).
pub const CANDIDATES: &[(&str, u32, u32)] = &[
    ("Native RDP", 0x00, 0x00),
    ("SSL", 0x01, 0x01),
    ("CredSSP (NLA)", 0x03, 0x02),
    ("RDSTLS", 0x04, 0x04),
    ("CredSSP with Early User Auth", 0x08, 0x08),
];

/// What nmap's `rdp-enum-encryption` reported for one host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnumEncryption {
    /// `open`, `closed`, ... for the scanned port (None: no port line).
    pub port_state: Option<String>,
    /// The script's output was present at all.
    pub script_ran: bool,
    /// "Security layer" items: candidate name and result (`SUCCESS`, `FAILED (...)`, `Unknown`).
    pub layers: Vec<(String, String)>,
    /// "RDP Encryption level: X".
    pub level: Option<String>,
    /// Its items: cipher name and result.
    pub ciphers: Vec<(String, String)>,
    /// "RDP Protocol Version: X".
    pub version: Option<String>,
    /// The Lua error when nmap's stdout says the script "threw an error!".
    pub script_error: Option<String>,
}

impl EnumEncryption {
    /// Candidates nmap calls SUCCESS.
    pub fn successes(&self) -> Vec<&str> {
        self.layers
            .iter()
            .filter(|(_, r)| r == "SUCCESS")
            .map(|(n, _)| n.as_str())
            .collect()
    }
}

/// Kills the child unless it was waited for: a hung nmap never outlives the test.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        // Our own child, by its handle: never by name.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `nmap -Pn -n --unprivileged -d -p PORT --script rdp-enum-encryption -oX FILE IP`, within
/// `limit`. Loopback addresses only: tests never send traffic anywhere else.
pub fn rdp_enum_encryption(
    binary: &Path,
    ip: IpAddr,
    port: u16,
    limit: Duration,
) -> Result<EnumEncryption, String> {
    if !ip.is_loopback() {
        return Err(format!(
            "{ip} is not a loopback address: refusing to scan it"
        ));
    }
    let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    let xml: PathBuf = dir.path().join("nmap.xml");
    let stdout = dir.path().join("stdout.txt");
    let out = std::fs::File::create(&stdout).map_err(|e| format!("stdout file: {e}"))?;
    let err = out.try_clone().map_err(|e| format!("stdout file: {e}"))?;
    let child = Command::new(binary)
        .args(["-Pn", "-n", "--unprivileged", "-d", "-p"])
        .arg(port.to_string())
        .args(["--script", "rdp-enum-encryption", "-oX"])
        .arg(&xml)
        .arg(ip.to_string())
        .stdin(Stdio::null())
        // Files, not pipes: -d output is never large enough to matter, but a pipe nobody reads
        // while we poll would block nmap once full.
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let mut child = KillOnDrop(child);
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.0.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() > deadline => {
                return Err(format!("nmap did not finish within {limit:?}"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(format!("waiting for nmap: {e}")),
        }
    };
    let text = std::fs::read_to_string(&stdout).unwrap_or_default();
    if !status.success() {
        return Err(format!("nmap exited with {status}:\n{text}"));
    }
    let xml_text = std::fs::read_to_string(&xml).map_err(|e| format!("nmap XML: {e}"))?;
    let mut r = parse_xml(&xml_text, ip, port)?;
    r.script_error = script_error(&text);
    Ok(r)
}

/// The port state and the script's parsed output for `ip`:`port` from nmap's `-oX` document.
pub fn parse_xml(xml: &str, ip: IpAddr, port: u16) -> Result<EnumEncryption, String> {
    let opts = roxmltree::ParsingOptions {
        // nmap writes `<!DOCTYPE nmaprun>`.
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    let doc =
        roxmltree::Document::parse_with_options(xml, opts).map_err(|e| format!("nmap XML: {e}"))?;
    let ip_s = ip.to_string();
    let port_s = port.to_string();
    let host = doc
        .descendants()
        .filter(|n| n.has_tag_name("host"))
        .find(|h| {
            h.children()
                .any(|a| a.has_tag_name("address") && a.attribute("addr") == Some(ip_s.as_str()))
        })
        .ok_or_else(|| format!("no <host> for {ip} in nmap's XML"))?;
    let Some(p) = host
        .descendants()
        .find(|n| n.has_tag_name("port") && n.attribute("portid") == Some(port_s.as_str()))
    else {
        return Ok(EnumEncryption::default());
    };
    let state = p
        .children()
        .find(|n| n.has_tag_name("state"))
        .and_then(|s| s.attribute("state"))
        .map(str::to_string);
    let script = p
        .children()
        .find(|n| n.has_tag_name("script") && n.attribute("id") == Some("rdp-enum-encryption"))
        .and_then(|s| s.attribute("output"));
    let mut r = match script {
        Some(out) => parse_script_output(out),
        None => EnumEncryption::default(),
    };
    r.port_state = state;
    Ok(r)
}

/// Parses the script's text: two-space lines are sections, four-space lines their items.
pub fn parse_script_output(out: &str) -> EnumEncryption {
    #[derive(PartialEq)]
    enum Section {
        None,
        Layers,
        Ciphers,
    }
    let mut r = EnumEncryption {
        script_ran: true,
        ..Default::default()
    };
    let mut section = Section::None;
    for line in out.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let item = line.starts_with("    ");
        let text = line.trim();
        if !item {
            section = Section::None;
            if text == "Security layer" {
                section = Section::Layers;
            } else if let Some(l) = text.strip_prefix("RDP Encryption level:") {
                r.level = Some(l.trim().to_string());
                section = Section::Ciphers;
            } else if let Some(v) = text.strip_prefix("RDP Protocol Version:") {
                r.version = Some(v.trim().to_string());
            }
            continue;
        }
        // "Name: SUCCESS" or "Name: FAILED (CODE)": names never hold ": ".
        let Some((name, result)) = text.split_once(": ") else {
            continue;
        };
        let pair = (name.trim().to_string(), result.trim().to_string());
        match section {
            Section::Layers => r.layers.push(pair),
            Section::Ciphers => r.ciphers.push(pair),
            Section::None => {}
        }
    }
    r
}

/// The Lua error line after nmap's "... threw an error!" in its `-d` stdout.
pub fn script_error(stdout: &str) -> Option<String> {
    let mut lines = stdout.lines();
    while let Some(l) = lines.next() {
        if l.contains("rdp-enum-encryption") && l.contains("threw an error!") {
            return Some(lines.next().unwrap_or("").trim().to_string());
        }
    }
    None
}

/// What a Connection Confirm said (docs/protocol.md §2.3-2.5, §3.2-3.3), read independently of the
/// scanner's codec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CcReply {
    /// RDP_NEG_RSP (type 0x02): what nmap counts as SUCCESS, whatever was selected.
    Selected { protocol: u32, flags: u8 },
    /// RDP_NEG_FAILURE (type 0x03) with its code.
    Failure(u32),
    /// A bare CC (LI 6): no negotiation data.
    NoNegData,
    /// Anything else, hex.
    Other(String),
}

/// X.224 Connection Request carrying RDP_NEG_REQ with `requested` (docs/protocol.md §2.2),
/// written out here so the cross-check does not depend on the scanner's encoder.
pub fn connection_request(requested: u32) -> Vec<u8> {
    let cookie = b"Cookie: mstshash=probe\r\n";
    // LI counts what follows it: code 1 + DST-REF 2 + SRC-REF 2 + class 1 + cookie + NEG_REQ 8.
    let li = 6 + cookie.len() + 8;
    let total = 4 + 1 + li;
    let mut v = Vec::with_capacity(total);
    v.extend_from_slice(&[0x03, 0x00]); // TPKT version 3, reserved
    v.extend_from_slice(&u16::try_from(total).unwrap_or(0).to_be_bytes()); // TPKT length (BE)
    v.push(u8::try_from(li).unwrap_or(0)); // X.224 LI
    v.push(0xE0); // CR TPDU
    v.extend_from_slice(&[0x00, 0x00]); // DST-REF
    v.extend_from_slice(&[0x00, 0x00]); // SRC-REF
    v.push(0x00); // class 0
    v.extend_from_slice(cookie);
    v.extend_from_slice(&[0x01, 0x00]); // TYPE_RDP_NEG_REQ, flags 0
    v.extend_from_slice(&8u16.to_le_bytes()); // length 8 (LE)
    v.extend_from_slice(&requested.to_le_bytes()); // requestedProtocols (LE)
    v
}

/// Parses a complete CC PDU (`buf` holds exactly the TPKT length's bytes).
pub fn parse_cc(buf: &[u8]) -> CcReply {
    let other = || CcReply::Other(hex::encode(buf));
    let (Some(li), Some(code)) = (buf.get(4), buf.get(5)) else {
        return other();
    };
    if *code != 0xD0 {
        return other();
    }
    match (*li, buf.len()) {
        (6, 11) => CcReply::NoNegData,
        (14, 19) => {
            let Some(neg) = buf.get(11..19) else {
                return other();
            };
            let value = u32::from_le_bytes([neg[4], neg[5], neg[6], neg[7]]);
            match neg[0] {
                0x02 => CcReply::Selected {
                    protocol: value,
                    flags: neg[1],
                },
                0x03 => CcReply::Failure(value),
                _ => other(),
            }
        }
        _ => other(),
    }
}

/// One connection: CR with `requested`, read the CC (bounded: 64 bytes, 5 s), close.
pub fn negotiate(addr: SocketAddr, requested: u32) -> Result<CcReply, String> {
    if !addr.ip().is_loopback() {
        return Err(format!("{addr} is not loopback: refusing to connect"));
    }
    let t = Duration::from_secs(5);
    let mut s = TcpStream::connect_timeout(&addr, t).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(t)).map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(t)).map_err(|e| e.to_string())?;
    s.write_all(&connection_request(requested))
        .map_err(|e| format!("write: {e}"))?;
    let mut buf = [0u8; 64];
    let mut got = 0;
    loop {
        let want = match buf.get(2..4) {
            Some(l) if got >= 4 => usize::from(u16::from_be_bytes([l[0], l[1]])),
            _ => 4,
        };
        if want > buf.len() || (got >= 4 && want < 4) {
            return Ok(CcReply::Other(hex::encode(&buf[..got])));
        }
        if got >= want && got >= 4 {
            return Ok(parse_cc(&buf[..want]));
        }
        let Some(space) = buf.get_mut(got..want.max(4)) else {
            return Ok(CcReply::Other(hex::encode(&buf[..got])));
        };
        match s.read(space) {
            Ok(0) => return Ok(CcReply::Other(hex::encode(&buf[..got]))),
            Ok(n) => got += n,
            Err(e) => return Err(format!("read: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_bytes_match_the_brief() {
        // docs/protocol.md §2.2, the 43-byte request with cookie "probe", requestedProtocols 0x0B.
        let mut want = vec![
            0x03, 0x00, // TPKT version 3, reserved
            0x00, 0x2B, // TPKT length 43
            0x26, // LI 38
            0xE0, // CR
            0x00, 0x00, // DST-REF
            0x00, 0x00, // SRC-REF
            0x00, // class 0
        ];
        want.extend_from_slice(b"Cookie: mstshash=probe\r\n");
        want.extend_from_slice(&[
            0x01, 0x00, // TYPE_RDP_NEG_REQ, flags
            0x08, 0x00, // length 8
            0x0B, 0x00, 0x00, 0x00, // SSL|HYBRID|HYBRID_EX
        ]);
        assert_eq!(connection_request(0x0B), want);
    }

    #[test]
    fn confirm_kinds() {
        let rsp = [
            0x03, 0x00, 0x00, 0x13, // TPKT, length 19
            0x0E, 0xD0, // LI 14, CC
            0x00, 0x00, 0x12, 0x34, 0x00, // DST-REF, SRC-REF, class
            0x02, 0x01, // RDP_NEG_RSP, flags EXTENDED_CLIENT_DATA
            0x08, 0x00, // length 8
            0x00, 0x00, 0x00, 0x00, // selectedProtocol 0 (standard RDP)
        ];
        assert_eq!(
            parse_cc(&rsp),
            CcReply::Selected {
                protocol: 0,
                flags: 1
            }
        );
        let fail = [
            0x03, 0x00, 0x00, 0x13, // TPKT, length 19
            0x0E, 0xD0, // LI 14, CC
            0x00, 0x00, 0x12, 0x34, 0x00, // DST-REF, SRC-REF, class
            0x03, 0x00, // RDP_NEG_FAILURE, flags
            0x08, 0x00, // length 8
            0x03, 0x00, 0x00, 0x00, // SSL_CERT_NOT_ON_SERVER
        ];
        assert_eq!(parse_cc(&fail), CcReply::Failure(3));
        let bare = [
            0x03, 0x00, 0x00, 0x0B, // TPKT, length 11
            0x06, 0xD0, // LI 6, CC
            0x00, 0x00, 0x12, 0x34, 0x00, // DST-REF, SRC-REF, class
        ];
        assert_eq!(parse_cc(&bare), CcReply::NoNegData);
        let dpum = [
            0x03, 0x00, 0x00, 0x09, // TPKT, length 9
            0x02, 0xF0, 0x80, // X.224 Data
            0x21, 0x80, // MCS Disconnect-Provider-Ultimatum
        ];
        assert_eq!(parse_cc(&dpum), CcReply::Other("0300000902f0802180".into()));
        // Truncated negotiation data is never indexed past its end.
        assert!(matches!(parse_cc(&rsp[..15]), CcReply::Other(_)));
    }

    #[test]
    fn script_text() {
        // As nmap 7.93 -d prints it for xrdp security_layer=negotiate (two-space sections).
        let out = "\n  Security layer\n    CredSSP (NLA): SUCCESS\n    Native RDP: SUCCESS\n    \
                   SSL: FAILED (SSL_REQUIRED_BY_SERVER)\n  RDP Encryption level: High\n    \
                   128-bit RC4: SUCCESS\n  RDP Protocol Version:  RDP 5.x, 6.x, 7.x, or 8.x server\n";
        let r = parse_script_output(out);
        assert!(r.script_ran);
        assert_eq!(
            r.layers,
            vec![
                ("CredSSP (NLA)".to_string(), "SUCCESS".to_string()),
                ("Native RDP".to_string(), "SUCCESS".to_string()),
                (
                    "SSL".to_string(),
                    "FAILED (SSL_REQUIRED_BY_SERVER)".to_string()
                ),
            ]
        );
        assert_eq!(r.successes(), vec!["CredSSP (NLA)", "Native RDP"]);
        assert_eq!(r.level.as_deref(), Some("High"));
        assert_eq!(
            r.ciphers,
            vec![("128-bit RC4".to_string(), "SUCCESS".to_string())]
        );
        assert_eq!(
            r.version.as_deref(),
            Some("RDP 5.x, 6.x, 7.x, or 8.x server")
        );
        let stdout = "NSE: Starting rdp-enum-encryption against 127.88.1.3:3389.\n\
                      NSE: rdp-enum-encryption against 127.88.1.3:3389 threw an error!\n\
                      /usr/share/nmap/nselib/asn1.lua:153: bad argument #2 to 'unpack'\n";
        assert_eq!(
            script_error(stdout).as_deref(),
            Some("/usr/share/nmap/nselib/asn1.lua:153: bad argument #2 to 'unpack'")
        );
        assert_eq!(script_error("NSE: Script Post-scanning.\n"), None);
    }
}
