//! A small headless-Chromium driver for the report tests: launches the Debian `chromium`
//! with a throwaway profile and speaks the DevTools protocol over a WebSocket on loopback.
//!
//! Only what the tests need: pages (flattened target sessions), evaluate, navigate, events
//! (console, exceptions, dialogs), screenshots. Every wait is bounded; Drop ends the browser.

#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Longest any single wait may take (a loaded 2-core CI machine is slow, never this slow).
const WAIT: Duration = Duration::from_secs(120);
/// Biggest WebSocket message accepted (screenshots are a few MiB of base64).
const MAX_MESSAGE: u64 = 256 << 20;

pub fn chromium_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("RDPSWEEP_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// The browser to use, or None after a loud skip message. Under CI a missing browser fails.
pub fn require(test: &str) -> Option<PathBuf> {
    match chromium_path() {
        Some(p) => Some(p),
        None => {
            let msg = "chromium is not installed (apt-get install chromium); the HTML report's browser checks did not run";
            if std::env::var_os("CI").is_some() {
                panic!("{test}: {msg}");
            }
            eprintln!("\n********\n*** SKIPPED {test}: {msg}\n********\n");
            None
        }
    }
}

/// Client side of a WebSocket (RFC 6455): text frames, masked as a client must.
struct Ws {
    s: TcpStream,
}

impl Ws {
    fn connect(port: u16, path: &str) -> io::Result<Ws> {
        let mut s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(WAIT))?;
        s.set_nodelay(true)?;
        // The key is a fixed valid nonce: we do not need to verify the accept hash on loopback.
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )?;
        let mut head = Vec::new();
        let mut b = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if head.len() > 16 * 1024 {
                return Err(io::Error::other("oversized handshake reply"));
            }
            s.read_exact(&mut b)?;
            head.push(b[0]);
        }
        let head = String::from_utf8_lossy(&head);
        if !head.starts_with("HTTP/1.1 101") {
            return Err(io::Error::other(format!(
                "websocket upgrade refused: {head}"
            )));
        }
        Ok(Ws { s })
    }

    fn send_frame(&mut self, opcode: u8, payload: &[u8]) -> io::Result<()> {
        let mut f = Vec::with_capacity(payload.len() + 14);
        f.push(0x80 | opcode);
        let len = payload.len();
        if len < 126 {
            f.push(0x80 | len as u8);
        } else if len <= 0xFFFF {
            f.push(0x80 | 126);
            f.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            f.push(0x80 | 127);
            f.extend_from_slice(&(len as u64).to_be_bytes());
        }
        let mask = [0x3a, 0x91, 0x5c, 0x07];
        f.extend_from_slice(&mask);
        f.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
        self.s.write_all(&f)
    }

    fn send(&mut self, text: &str) -> io::Result<()> {
        self.send_frame(0x1, text.as_bytes())
    }

    fn recv(&mut self) -> io::Result<String> {
        let mut msg = Vec::new();
        loop {
            let mut h = [0u8; 2];
            self.s.read_exact(&mut h)?;
            let fin = h[0] & 0x80 != 0;
            let op = h[0] & 0x0F;
            let masked = h[1] & 0x80 != 0;
            let mut len = u64::from(h[1] & 0x7F);
            if len == 126 {
                let mut b = [0u8; 2];
                self.s.read_exact(&mut b)?;
                len = u64::from(u16::from_be_bytes(b));
            } else if len == 127 {
                let mut b = [0u8; 8];
                self.s.read_exact(&mut b)?;
                len = u64::from_be_bytes(b);
            }
            if len > MAX_MESSAGE || msg.len() as u64 + len > MAX_MESSAGE {
                return Err(io::Error::other("websocket message too large"));
            }
            let mut mask = [0u8; 4];
            if masked {
                self.s.read_exact(&mut mask)?;
            }
            let mut data = vec![0u8; len as usize];
            self.s.read_exact(&mut data)?;
            if masked {
                for (b, m) in data.iter_mut().zip(mask.iter().cycle()) {
                    *b ^= m;
                }
            }
            match op {
                0x9 => self.send_frame(0xA, &data)?,
                0xA => {}
                0x8 => return Err(io::Error::other("devtools closed the websocket")),
                _ => {
                    msg.extend_from_slice(&data);
                    if fin {
                        return String::from_utf8(msg).map_err(io::Error::other);
                    }
                }
            }
        }
    }
}

pub struct Browser {
    child: Child,
    ws: Ws,
    next_id: u64,
    /// Every event received so far (each has "method", "params" and usually "sessionId").
    pub events: Vec<Value>,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub fn launch(exe: &Path, width: u32, height: u32) -> Result<Browser, String> {
        let profile = tempfile::tempdir().map_err(|e| e.to_string())?;
        let child = Command::new(exe)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-quic",
                "--disable-extensions",
                "--disable-default-apps",
                "--disable-domain-reliability",
                "--disable-client-side-phishing-detection",
                "--metrics-recording-only",
                "--mute-audio",
                "--hide-scrollbars",
                // Belt and braces: no name resolves, so nothing can leave the machine.
                "--host-resolver-rules=MAP * ~NOTFOUND",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                &format!("--window-size={width},{height}"),
                &format!("--user-data-dir={}", profile.path().display()),
                "about:blank",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
        let mut b = BrowserBoot { child: Some(child) };
        // Chromium writes "PORT\n/devtools/browser/ID" once its DevTools server listens.
        let port_file = profile.path().join("DevToolsActivePort");
        let deadline = Instant::now() + Duration::from_secs(60);
        let (port, path) = loop {
            if let Ok(text) = std::fs::read_to_string(&port_file) {
                let mut lines = text.lines();
                if let (Some(p), Some(path)) = (lines.next(), lines.next())
                    && let Ok(port) = p.trim().parse::<u16>()
                {
                    break (port, path.trim().to_string());
                }
            }
            if let Some(c) = b.child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                return Err(format!("chromium exited early: {status}"));
            }
            if Instant::now() > deadline {
                return Err("chromium did not open its DevTools port within 60 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let ws = Ws::connect(port, &path).map_err(|e| format!("devtools websocket: {e}"))?;
        Ok(Browser {
            child: b.child.take().ok_or("no child")?,
            ws,
            next_id: 0,
            events: Vec::new(),
            _profile: profile,
        })
    }

    /// Send one command and wait for its answer, keeping events that arrive meanwhile.
    pub fn call(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        self.ws
            .send(&msg.to_string())
            .map_err(|e| format!("{method}: {e}"))?;
        let deadline = Instant::now() + WAIT;
        loop {
            if Instant::now() > deadline {
                return Err(format!("{method}: no answer within {WAIT:?}"));
            }
            let v = self.recv_one().map_err(|e| format!("{method}: {e}"))?;
            if v.get("id").and_then(Value::as_u64) == Some(id) {
                if let Some(err) = v.get("error") {
                    return Err(format!("{method}: {err}"));
                }
                return Ok(v.get("result").cloned().unwrap_or(Value::Null));
            }
        }
    }

    fn recv_one(&mut self) -> Result<Value, String> {
        let text = self.ws.recv().map_err(|e| e.to_string())?;
        let v: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        if v.get("method").is_some() {
            // A dialog blocks the page until answered: record it, then dismiss it.
            if v["method"] == "Page.javascriptDialogOpening"
                && let Some(s) = v.get("sessionId").and_then(Value::as_str)
            {
                let mut m = json!({"id": 0, "method": "Page.handleJavaScriptDialog", "params": {"accept": false}});
                m["sessionId"] = json!(s);
                self.ws.send(&m.to_string()).map_err(|e| e.to_string())?;
            }
            self.events.push(v.clone());
        }
        Ok(v)
    }

    /// A new tab with Page/Runtime/Log events on; returns its session id.
    pub fn new_page(&mut self, width: u32, height: u32) -> Result<String, String> {
        let t = self.call(None, "Target.createTarget", json!({"url": "about:blank"}))?;
        let target = t["targetId"].as_str().ok_or("no targetId")?.to_string();
        let a = self.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target, "flatten": true}),
        )?;
        let s = a["sessionId"].as_str().ok_or("no sessionId")?.to_string();
        for m in ["Page.enable", "Runtime.enable", "Log.enable"] {
            self.call(Some(&s), m, json!({}))?;
        }
        self.call(
            Some(&s),
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
        )?;
        Ok(s)
    }

    /// Navigate and wait for the load event.
    pub fn goto(&mut self, s: &str, url: &str) -> Result<(), String> {
        let mark = self.events.len();
        let r = self.call(Some(s), "Page.navigate", json!({"url": url}))?;
        if let Some(e) = r.get("errorText").and_then(Value::as_str) {
            return Err(format!("navigate {url}: {e}"));
        }
        self.wait_event(s, "Page.loadEventFired", mark)
    }

    pub fn reload(&mut self, s: &str) -> Result<(), String> {
        let mark = self.events.len();
        self.call(Some(s), "Page.reload", json!({}))?;
        self.wait_event(s, "Page.loadEventFired", mark)
    }

    /// Wait for an event of this session received after `events[mark]`.
    pub fn wait_event(&mut self, s: &str, method: &str, mark: usize) -> Result<(), String> {
        let deadline = Instant::now() + WAIT;
        loop {
            let seen = self.events.iter().skip(mark).any(|e| {
                e["method"] == method && e.get("sessionId").and_then(Value::as_str) == Some(s)
            });
            if seen {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("no {method} within {WAIT:?}"));
            }
            self.recv_one()?;
        }
    }

    /// Evaluate an expression (promises awaited) and return its JSON value.
    pub fn eval(&mut self, s: &str, expr: &str) -> Result<Value, String> {
        let r = self.call(
            Some(s),
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true, "awaitPromise": true, "userGesture": true}),
        )?;
        if let Some(ex) = r.get("exceptionDetails") {
            return Err(format!("script error in {expr:?}: {ex}"));
        }
        Ok(r["result"].get("value").cloned().unwrap_or(Value::Null))
    }

    /// Poll until `expr` is truthy.
    pub fn wait_for(&mut self, s: &str, expr: &str, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            let v = self.eval(s, expr)?;
            if v.as_bool() == Some(true) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("timed out waiting for {expr}"));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    pub fn screenshot(&mut self, s: &str, full_page: bool) -> Result<Vec<u8>, String> {
        let mut params = json!({"format": "png"});
        if full_page {
            params["captureBeyondViewport"] = json!(true);
        }
        let r = self.call(Some(s), "Page.captureScreenshot", params)?;
        let data = r["data"].as_str().ok_or("no screenshot data")?;
        base64_decode(data).ok_or_else(|| "bad base64 in screenshot".into())
    }

    /// Console errors, uncaught exceptions and error log entries of a session.
    pub fn errors(&self, s: &str) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e.get("sessionId").and_then(Value::as_str) == Some(s))
            .filter_map(|e| {
                let p = &e["params"];
                match e["method"].as_str()? {
                    "Runtime.exceptionThrown" => {
                        Some(format!("exception: {}", p["exceptionDetails"]))
                    }
                    "Runtime.consoleAPICalled"
                        if matches!(p["type"].as_str(), Some("error" | "assert")) =>
                    {
                        Some(format!("console.{}: {}", p["type"], p["args"]))
                    }
                    "Log.entryAdded" if p["entry"]["level"] == "error" => {
                        Some(format!("log: {}", p["entry"]["text"]))
                    }
                    _ => None,
                }
            })
            .collect()
    }

    pub fn dialogs(&self, s: &str) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| {
                e["method"] == "Page.javascriptDialogOpening"
                    && e.get("sessionId").and_then(Value::as_str) == Some(s)
            })
            .map(|e| e["params"]["message"].to_string())
            .collect()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ask politely, then make sure: the child is ours (by pid), never a name match.
        let _ = self
            .ws
            .send(&json!({"id": 999_999, "method": "Browser.close"}).to_string());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Kills the child if launch fails half-way.
struct BrowserBoot {
    child: Option<Child>,
}

impl Drop for BrowserBoot {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let bytes: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for chunk in bytes.chunks(4) {
        let pad = chunk.iter().filter(|&&b| b == b'=').count();
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            let v = if c == b'=' { 0 } else { val(c)? };
            n |= v << (18 - 6 * i as u32);
        }
        let got = chunk.len().saturating_sub(1).saturating_sub(pad);
        for i in 0..got.min(3) {
            out.push((n >> (16 - 8 * i as u32)) as u8);
        }
    }
    Some(out)
}

/// file:// URL of a local path (tests write into temp dirs without odd characters).
pub fn file_url(p: &Path) -> String {
    format!("file://{}", p.display())
}
