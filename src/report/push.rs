//! `--metrics-push URL`: the metrics exposition sent to a Prometheus Pushgateway, for jobs that
//! end before anything could scrape them (a Kubernetes CronJob).
//!
//! The Pushgateway API: `PUT /metrics/job/<job>{/<label>/<value>}` with the text format (0.0.4)
//! as the body replaces every metric of that grouping key; success is 200 (202 when the gateway
//! skips its consistency check), and a 400 carries the reason in the body. Samples must carry no
//! timestamps, which ours never do.
//!
//! A plain HTTP/1.1 request over a std `TcpStream` is all this needs: one request, the
//! connection closed after it, every step bounded in time and the reply in bytes.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// Whole push: resolve, connect, send, read the status.
const PUSH_DEADLINE: Duration = Duration::from_secs(30);
/// One connection attempt (per address).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The most of the reply read: the status line and the start of an error body.
const MAX_REPLY: usize = 64 * 1024;

/// Where the push goes, checked before any scanning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushTarget {
    /// The URL as pushed to (for messages).
    pub url: String,
    /// `host[:port]` as written, for the Host header.
    authority: String,
    /// The host to connect to (IPv6 without brackets).
    host: String,
    port: u16,
    /// Absolute path: `/metrics/job/...`.
    pub path: String,
}

/// The job name in the grouping key (the `job` label Prometheus sees on every pushed series).
pub const JOB: &str = "rdpsweep";

/// A `--metrics-push` URL this client cannot push to (checked before any scanning).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--metrics-push {url:?}: {why} (e.g. http://pushgateway:9091)")]
pub struct PushUrlError {
    pub url: String,
    pub why: &'static str,
}

/// A push that did not reach the gateway, or that it refused (`cause` says which and, for a
/// refusal, what the gateway answered).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("metrics push to {url} failed: {cause}")]
pub struct PushError {
    pub url: String,
    pub cause: String,
}

/// Parses `http://HOST[:PORT][/PREFIX]`. Without a path, the push goes to
/// `/metrics/job/rdpsweep`, plus `/shard/K` for shard K, so the shards of one run do not replace
/// each other's metrics; a path ending in a route prefix keeps it in front. A URL whose path
/// already contains `/metrics/job/` is used as written (your own job name and labels).
pub fn parse(url: &str, shard: Option<u32>) -> Result<PushTarget, PushUrlError> {
    let bad = |why: &'static str| PushUrlError {
        url: url.to_string(),
        why,
    };
    let rest = if let Some(r) = url.strip_prefix("http://") {
        r
    } else if url.starts_with("https://") {
        return Err(bad(
            "https is not supported; push over http (inside the cluster, or through a TLS proxy)",
        ));
    } else {
        return Err(bad("write the Pushgateway's http:// address"));
    };
    if !rest.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad(
            "spaces and non-ASCII characters must be percent-encoded",
        ));
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if path.contains(['?', '#']) {
        return Err(bad("no query or fragment"));
    }
    if authority.contains('@') {
        return Err(bad("credentials in the URL are not supported"));
    }
    let (host, port) = split_host_port(authority).ok_or_else(|| bad("bad host or port"))?;
    let path = if path.contains("/metrics/job/") {
        path.to_string()
    } else {
        let mut p = format!("{}/metrics/job/{JOB}", path.trim_end_matches('/'));
        if let Some(k) = shard {
            p.push_str(&format!("/shard/{k}"));
        }
        p
    };
    Ok(PushTarget {
        url: format!("http://{authority}{path}"),
        authority: authority.to_string(),
        host,
        port,
        path,
    })
}

/// `host`, `host:port`, `[v6]`, `[v6]:port`; port 80 when absent.
fn split_host_port(a: &str) -> Option<(String, u16)> {
    let (host, port) = if let Some(r) = a.strip_prefix('[') {
        let (h, tail) = r.split_once(']')?;
        let port = match tail {
            "" => None,
            t => Some(t.strip_prefix(':')?),
        };
        (h, port)
    } else {
        match a.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (a, None),
        }
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        None => 80,
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok()?,
        Some(_) => return None,
    };
    (port != 0).then(|| (host.to_string(), port))
}

impl PushTarget {
    /// PUTs `body` (text exposition); Ok on a 2xx reply. Errors say what failed and, for a
    /// refusal, what the gateway answered.
    pub fn push(&self, body: &str) -> Result<(), PushError> {
        self.try_push(body).map_err(|cause| PushError {
            url: self.url.clone(),
            cause,
        })
    }

    fn try_push(&self, body: &str) -> Result<(), String> {
        let deadline = Instant::now() + PUSH_DEADLINE;
        let left = || {
            deadline
                .checked_duration_since(Instant::now())
                .filter(|d| !d.is_zero())
                .ok_or_else(|| format!("no answer within {}s", PUSH_DEADLINE.as_secs()))
        };
        let addrs: Vec<_> = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {}: {e}", self.host))?
            .collect();
        let mut last = format!("{} has no address", self.host);
        let mut stream = None;
        for a in addrs {
            match TcpStream::connect_timeout(&a, CONNECT_TIMEOUT.min(left()?)) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = format!("cannot connect to {a}: {e}"),
            }
        }
        let mut s = stream.ok_or(last)?;
        s.set_write_timeout(Some(left()?))
            .map_err(|e| e.to_string())?;
        let head = format!(
            "PUT {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: rdpsweep/{}\r\n\
             Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.path,
            self.authority,
            env!("CARGO_PKG_VERSION"),
            body.len()
        );
        s.write_all(head.as_bytes())
            .and_then(|_| s.write_all(body.as_bytes()))
            .and_then(|_| s.flush())
            .map_err(|e| format!("sending: {e}"))?;
        let reply = read_reply(&mut s, &left)?;
        let (code, text) = status(&reply)?;
        if (200..300).contains(&code) {
            Ok(())
        } else {
            Err(format!("the gateway answered {code}: {text}"))
        }
    }
}

/// Reads until the peer closes, the cap, or the deadline; a reply cut short by the cap is still
/// enough for the status and the start of the reason.
fn read_reply(
    s: &mut TcpStream,
    left: &dyn Fn() -> Result<Duration, String>,
) -> Result<Vec<u8>, String> {
    let mut reply = Vec::with_capacity(1024);
    let mut buf = [0u8; 4096];
    loop {
        s.set_read_timeout(Some(left()?))
            .map_err(|e| e.to_string())?;
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let take = n.min(MAX_REPLY - reply.len());
                reply.extend_from_slice(buf.get(..take).unwrap_or_default());
                if reply.len() >= MAX_REPLY {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // A reset after a complete reply (the gateway closing first) still counts.
            Err(_) if has_head(&reply) => break,
            Err(e) => return Err(format!("reading the reply: {e}")),
        }
    }
    Ok(reply)
}

fn has_head(r: &[u8]) -> bool {
    r.windows(4).any(|w| w == b"\r\n\r\n")
}

/// The status code and a one-line, printable start of the body.
fn status(reply: &[u8]) -> Result<(u16, String), String> {
    let text = String::from_utf8_lossy(reply);
    let line = text.lines().next().unwrap_or_default();
    let mut parts = line.split_whitespace();
    let code = match (parts.next(), parts.next()) {
        (Some(v), Some(c)) if v.starts_with("HTTP/1.") => c.parse::<u16>().ok(),
        _ => None,
    };
    let Some(code) = code else {
        let shown: String = line.chars().take(80).collect();
        return Err(format!("not an HTTP reply: {shown:?}"));
    };
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    let snippet: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    Ok((code, snippet.trim().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn urls() {
        let t = parse("http://pg:9091", None).unwrap();
        assert_eq!(t.url, "http://pg:9091/metrics/job/rdpsweep");
        assert_eq!((t.host.as_str(), t.port), ("pg", 9091));
        let t = parse("http://pg:9091/", Some(3)).unwrap();
        assert_eq!(t.path, "/metrics/job/rdpsweep/shard/3");
        let t = parse("http://[::1]:9091/gw/", None).unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 9091));
        assert_eq!(t.path, "/gw/metrics/job/rdpsweep");
        assert_eq!(t.authority, "[::1]:9091");
        let t = parse("http://pg/metrics/job/fleet/site/hq", Some(1)).unwrap();
        assert_eq!(
            (t.port, t.path.as_str()),
            (80, "/metrics/job/fleet/site/hq")
        );
        for (bad, why) in [
            ("pg:9091", "http://"),
            ("https://pg", "https"),
            ("http://u:p@pg", "credentials"),
            ("http://pg:0", "port"),
            ("http://pg:x", "port"),
            ("http://:9091", "host"),
            ("http://pg/a b", "percent"),
            ("http://pg/?x=1", "query"),
            ("http://[::1/", "host"),
        ] {
            let e = parse(bad, None).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    /// A one-shot server on loopback answering `reply`; returns the request it read.
    fn serve(reply: &'static [u8]) -> (String, std::thread::JoinHandle<Vec<u8>>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let h = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut req = Vec::new();
            let mut buf = [0u8; 4096];
            // Head, then Content-Length bytes of body.
            while !has_head(&req) {
                let n = s.read(&mut buf).unwrap();
                assert!(n > 0);
                req.extend_from_slice(&buf[..n]);
            }
            let text = String::from_utf8_lossy(&req).to_string();
            let len: usize = text
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            let head_len = text.find("\r\n\r\n").unwrap() + 4;
            while req.len() < head_len + len {
                let n = s.read(&mut buf).unwrap();
                assert!(n > 0);
                req.extend_from_slice(&buf[..n]);
            }
            s.write_all(reply).unwrap();
            req
        });
        (format!("http://{addr}"), h)
    }

    #[test]
    fn pushes_and_reads_the_status() {
        let (url, h) = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        let t = parse(&url, Some(2)).unwrap();
        t.push("a_metric 1\n").unwrap();
        let req = String::from_utf8(h.join().unwrap()).unwrap();
        assert!(
            req.starts_with("PUT /metrics/job/rdpsweep/shard/2 HTTP/1.1\r\n"),
            "{req}"
        );
        assert!(
            req.contains("Content-Type: text/plain; version=0.0.4"),
            "{req}"
        );
        assert!(req.ends_with("\r\n\r\na_metric 1\n"), "{req}");
    }

    #[test]
    fn a_refusal_names_the_status_and_the_reason() {
        let (url, h) =
            serve(b"HTTP/1.1 400 Bad Request\r\n\r\npushed metrics are invalid or inconsistent\n");
        let e = parse(&url, None)
            .unwrap()
            .push("x 1\n")
            .unwrap_err()
            .to_string();
        h.join().unwrap();
        assert!(e.contains("400"), "{e}");
        assert!(e.contains("inconsistent"), "{e}");
        assert!(e.contains(&url), "{e}");
    }

    #[test]
    fn garbage_and_closed_ports_are_errors() {
        let (url, h) = serve(b"SSH-2.0-OpenSSH\r\n");
        let e = parse(&url, None)
            .unwrap()
            .push("x 1\n")
            .unwrap_err()
            .to_string();
        h.join().unwrap();
        assert!(e.contains("not an HTTP reply"), "{e}");
        // A port nothing listens on (bound, then closed).
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let e = parse(&format!("http://127.0.0.1:{port}"), None)
            .unwrap()
            .push("x 1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot connect"), "{e}");
    }
}
