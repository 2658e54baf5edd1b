//! Revocation phase (`--check-revocation`, off by default): asks the leaf's OCSP responder
//! (AIA) and then its CRL distribution points, as CryptoAPI does, over plain HTTP only. These
//! are hosts the *certificate* names, not the scanned server: the admin opts in.
//!
//! Bounds: a CRL is read up to [`MAX_CRL_BYTES`], an OCSP answer up to [`MAX_OCSP_BYTES`];
//! each fetch has the scan's `--timeout` and each host waits no longer than its own deadline.
//! Every HTTP connection waits for a `--rate` token. Answers are cached per URL for the whole
//! scan: hosts that need a URL already in flight wait for that one fetch. No redirects, no
//! proxies, only the URL's own host and port.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::OnceCell;
use tokio::time::{Instant, timeout_at};

use super::Prober;
use crate::cert::clean_text;
use crate::model::{CertFacts, Revocation, RevocationCheck, RevocationMethod, RevocationStatus};
use crate::revocation::{self as rv, CrlError, HttpUrl, Leaf, ParsedCrl, Verdict, parse_http_url};

/// Largest CRL read (big enterprise CRLs are a few MiB).
pub const MAX_CRL_BYTES: usize = 10 * 1024 * 1024;
/// Largest OCSP response read (a signed answer with a responder certificate is ~2 KiB).
pub const MAX_OCSP_BYTES: usize = 64 * 1024;
/// Response header bytes read before giving up on finding their end.
const MAX_HEADER_BYTES: usize = 16 * 1024;
/// URLs of each kind tried per certificate, in certificate order.
const MAX_URLS: usize = 3;
/// Bytes of answers kept in the scan's cache; past it, answers are not kept.
const MAX_CACHE_BYTES: usize = 64 * 1024 * 1024;
/// URLs the cache remembers; past it, fetches are not shared.
const MAX_SLOTS: usize = 8192;

/// Why one fetch gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("DNS lookup of {0} failed")]
    Dns(String),
    #[error("connection to {0} failed ({1})")]
    Connect(String, String),
    #[error("no complete answer within {0:?}")]
    Timeout(Duration),
    #[error("connection error ({0})")]
    Io(String),
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("HTTP redirect to {0} not followed (rdpsweep only fetches the URL itself)")]
    Redirect(String),
    #[error("malformed HTTP response ({0})")]
    BadHttp(&'static str),
    #[error("larger than the {0}-byte cap: not read further, not checked")]
    TooBig(usize),
    #[error("more than {MAX_CACHE_BYTES} bytes of answers this scan: not kept, not checked")]
    CacheFull,
    #[error("{0}")]
    Crl(#[from] CrlError),
}

impl FetchError {
    fn status(&self) -> RevocationStatus {
        match self {
            FetchError::TooBig(_) | FetchError::CacheFull => RevocationStatus::NotChecked,
            FetchError::Crl(_) => RevocationStatus::Unusable,
            _ => RevocationStatus::Unreachable,
        }
    }
}

enum Body {
    Crl(ParsedCrl),
    Ocsp(Vec<u8>),
}

type Answer = Arc<Result<Body, FetchError>>;

/// The scan's answers, per URL (CRLs) or per URL and request (OCSP).
#[derive(Default)]
pub struct RevocationCache {
    slots: Mutex<HashMap<String, Arc<OnceCell<Answer>>>>,
    bytes: AtomicUsize,
    /// HTTP fetches made (tests and metrics: one per URL per scan).
    fetches: AtomicUsize,
}

impl RevocationCache {
    pub fn new() -> RevocationCache {
        RevocationCache::default()
    }

    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::Relaxed)
    }

    fn slot(&self, key: &str) -> Arc<OnceCell<Answer>> {
        let Ok(mut slots) = self.slots.lock() else {
            return Arc::new(OnceCell::new());
        };
        if let Some(s) = slots.get(key) {
            return s.clone();
        }
        let s = Arc::new(OnceCell::new());
        if slots.len() < MAX_SLOTS {
            slots.insert(key.to_string(), s.clone());
        }
        s
    }

    fn keep(&self, weight: usize) -> bool {
        let before = self.bytes.fetch_add(weight, Ordering::Relaxed);
        before.saturating_add(weight) <= MAX_CACHE_BYTES
    }
}

/// The phase: fills `cert.revocation` when the scan has a revocation cache.
pub async fn revocation_phase(
    prober: &Prober,
    chain: &[Vec<u8>],
    cert: &mut CertFacts,
    host_deadline: Instant,
) {
    let Some(cache) = prober.revocation.as_ref() else {
        return;
    };
    let leaf = match rv::leaf_info(chain, &|name| prober.trust.keys_named(name)) {
        Ok(l) => l,
        Err(e) => {
            cert.revocation = Some(Revocation {
                status: RevocationStatus::NotChecked,
                checks: Vec::new(),
                note: Some(e.to_string()),
            });
            return;
        }
    };
    let ctx = Ask {
        prober,
        cache,
        leaf: &leaf,
        host_deadline,
    };
    let mut checks = Vec::new();
    // OCSP first: CryptoAPI asks the responder and reads the CRL only when it gives no answer.
    for url in urls(&cert.ocsp_urls) {
        let c = ctx.one(RevocationMethod::Ocsp, url).await;
        let decisive = decisive(c.status);
        checks.push(c);
        if decisive {
            break;
        }
    }
    if !checks.iter().any(|c| decisive(c.status)) {
        for url in urls(&cert.crl_urls) {
            let c = ctx.one(RevocationMethod::Crl, url).await;
            let decisive = decisive(c.status);
            checks.push(c);
            if decisive {
                break;
            }
        }
    }
    let note = checks
        .is_empty()
        .then(|| "the certificate names no OCSP responder and no CRL distribution point".into());
    cert.revocation = Some(Revocation {
        status: overall(&checks),
        checks,
        note,
    });
}

/// The certificate's URLs to try: the "(+N more)" marker is not one.
fn urls(list: &[String]) -> impl Iterator<Item = &String> {
    list.iter().filter(|u| !u.starts_with("(+")).take(MAX_URLS)
}

fn decisive(s: RevocationStatus) -> bool {
    matches!(s, RevocationStatus::Good | RevocationStatus::Revoked)
}

/// Revoked by any trusted source, else good by any, else the most telling failure.
pub fn overall(checks: &[RevocationCheck]) -> RevocationStatus {
    use RevocationStatus as S;
    for s in [S::Revoked, S::Good, S::Unusable, S::Unreachable] {
        if checks.iter().any(|c| c.status == s) {
            return s;
        }
    }
    S::NotChecked
}

struct Ask<'a> {
    prober: &'a Prober,
    cache: &'a RevocationCache,
    leaf: &'a Leaf,
    host_deadline: Instant,
}

impl Ask<'_> {
    async fn one(&self, method: RevocationMethod, shown: &str) -> RevocationCheck {
        let mut check = RevocationCheck {
            method,
            url: shown.to_string(),
            status: RevocationStatus::NotChecked,
            error: None,
            revoked_at: None,
            reason: None,
        };
        let url = match parse_http_url(shown) {
            Ok(u) => u,
            Err(e) => {
                check.error = Some(e.to_string());
                return check;
            }
        };
        let request = match method {
            RevocationMethod::Ocsp => Some(rv::ocsp_request(self.leaf)),
            RevocationMethod::Crl => None,
        };
        let key = match &request {
            Some(r) => format!("ocsp {shown} {}", hex::encode(Sha256::digest(r))),
            None => format!("crl {shown}"),
        };
        let slot = self.cache.slot(&key);
        let answer = timeout_at(
            self.host_deadline,
            slot.get_or_init(|| self.fetch(url, request)),
        )
        .await;
        let now = crate::clock::Timestamp::now().unix();
        let verdict = match answer.as_ref().map(|a| a.as_ref()) {
            Err(_) => {
                check.error = Some("the host's deadline passed before the answer".into());
                return check;
            }
            Ok(Err(e)) => {
                check.status = e.status();
                check.error = Some(e.to_string());
                return check;
            }
            Ok(Ok(Body::Crl(crl))) => crl.check(self.leaf, now),
            Ok(Ok(Body::Ocsp(bytes))) => rv::ocsp_check(bytes, self.leaf, now),
        };
        let Verdict {
            status,
            error,
            revoked_at,
            reason,
        } = verdict;
        check.status = status;
        check.error = error;
        check.revoked_at = revoked_at;
        check.reason = reason;
        check
    }

    /// One fetch, bounded by the scan's `--timeout` (not by this host's deadline: the answer
    /// serves every host that names the URL).
    async fn fetch(&self, url: HttpUrl, request: Option<Vec<u8>>) -> Answer {
        let deadline = Instant::now() + self.prober.opts.timeout;
        let cap = if request.is_some() {
            MAX_OCSP_BYTES
        } else {
            MAX_CRL_BYTES
        };
        self.cache.fetches.fetch_add(1, Ordering::Relaxed);
        let got = http(self.prober, &url, request.as_deref(), cap, deadline).await;
        let body = match (got, request.is_some()) {
            (Err(e), _) => Err(e),
            (Ok(b), true) => Ok(Body::Ocsp(b)),
            (Ok(b), false) => match tokio::task::spawn_blocking(move || rv::parse_crl(&b)).await {
                Ok(Ok(crl)) => Ok(Body::Crl(crl)),
                Ok(Err(e)) => Err(FetchError::Crl(e)),
                Err(_) => Err(FetchError::BadHttp("CRL decoder stopped")),
            },
        };
        let weight = match &body {
            Ok(Body::Crl(c)) => c.weight(),
            Ok(Body::Ocsp(b)) => b.len(),
            Err(_) => 0,
        };
        if !self.cache.keep(weight) {
            return Arc::new(Err(FetchError::CacheFull));
        }
        Arc::new(body)
    }
}

/// GET (or POST `body` as an OCSP request) over plain HTTP/1.1 to the URL's own host and
/// port; the answer's body when the status is 200, at most `cap` bytes, by `deadline`.
pub async fn http(
    prober: &Prober,
    url: &HttpUrl,
    body: Option<&[u8]>,
    cap: usize,
    deadline: Instant,
) -> Result<Vec<u8>, FetchError> {
    let addrs: Vec<IpAddr> = match url.host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => {
            let dns = timeout_at(deadline, prober.resolver.lookup(&url.host))
                .await
                .map_err(|_| FetchError::Dns(url.host.clone()))?;
            if !dns.status.resolved() || dns.addresses.is_empty() {
                return Err(FetchError::Dns(url.host.clone()));
            }
            dns.addresses
        }
    };
    let timeout = |_| FetchError::Timeout(prober.opts.timeout);
    let mut last = FetchError::Dns(url.host.clone());
    let mut stream = None;
    for ip in addrs.into_iter().take(2) {
        prober.rate_wait().await;
        let addr = SocketAddr::new(ip, url.port);
        match timeout_at(deadline, TcpStream::connect(addr)).await {
            Err(e) => return Err(timeout(e)),
            Ok(Ok(s)) => {
                stream = Some(s);
                break;
            }
            Ok(Err(e)) => last = FetchError::Connect(addr.to_string(), e.kind().to_string()),
        }
    }
    let mut s = stream.ok_or(last)?;
    let mut req = match body {
        Some(b) => format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: rdpsweep/{}\r\nAccept: application/ocsp-response\r\nContent-Type: application/ocsp-request\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            url.path,
            url.host_header(),
            env!("CARGO_PKG_VERSION"),
            b.len()
        ),
        None => format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: rdpsweep/{}\r\nAccept: */*\r\nConnection: close\r\n\r\n",
            url.path,
            url.host_header(),
            env!("CARGO_PKG_VERSION")
        ),
    }
    .into_bytes();
    req.extend_from_slice(body.unwrap_or_default());
    timeout_at(deadline, s.write_all(&req))
        .await
        .map_err(timeout)?
        .map_err(|e| FetchError::Io(e.kind().to_string()))?;
    read_response(&mut s, cap, deadline)
        .await
        .map_err(|e| match e {
            FetchError::Timeout(_) => FetchError::Timeout(prober.opts.timeout),
            other => other,
        })
}

async fn read_some<R: AsyncReadExt + Unpin>(
    r: &mut R,
    buf: &mut Vec<u8>,
    deadline: Instant,
) -> Result<usize, FetchError> {
    let mut chunk = [0u8; 16 * 1024];
    let n = timeout_at(deadline, r.read(&mut chunk))
        .await
        .map_err(|_| FetchError::Timeout(Duration::ZERO))?
        .map_err(|e| FetchError::Io(e.kind().to_string()))?;
    buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
    Ok(n)
}

/// Reads an HTTP/1.x response: headers (capped), then a Content-Length, chunked or
/// read-to-close body of at most `cap` bytes.
pub async fn read_response<R: AsyncReadExt + Unpin>(
    r: &mut R,
    cap: usize,
    deadline: Instant,
) -> Result<Vec<u8>, FetchError> {
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEADER_BYTES {
            return Err(FetchError::BadHttp("headers too long"));
        }
        if read_some(r, &mut buf, deadline).await? == 0 {
            return Err(FetchError::BadHttp("closed before the headers ended"));
        }
    };
    let head = Head::parse(buf.get(..head_end).unwrap_or_default())?;
    let mut body = buf.split_off(head_end + 4);
    match head.status {
        200 => {}
        300..=399 => {
            return Err(FetchError::Redirect(
                head.location.unwrap_or_else(|| "(no Location)".into()),
            ));
        }
        s => return Err(FetchError::Status(s)),
    }
    if let Some(len) = head.content_length {
        if len > cap {
            return Err(FetchError::TooBig(cap));
        }
        while body.len() < len {
            if read_some(r, &mut body, deadline).await? == 0 {
                return Err(FetchError::BadHttp("closed before Content-Length bytes"));
            }
        }
        body.truncate(len);
        return Ok(body);
    }
    // Chunked or read-to-close: read until the peer closes, allowing for chunk headers.
    let raw_cap = cap + cap / 8 + 1024;
    loop {
        if body.len() > raw_cap {
            return Err(FetchError::TooBig(cap));
        }
        if head.chunked && dechunk(&body, cap)?.is_some() {
            break;
        }
        if read_some(r, &mut body, deadline).await? == 0 {
            break;
        }
    }
    if head.chunked {
        return dechunk(&body, cap)?.ok_or(FetchError::BadHttp("truncated chunked body"));
    }
    if body.len() > cap {
        return Err(FetchError::TooBig(cap));
    }
    Ok(body)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

struct Head {
    status: u16,
    content_length: Option<usize>,
    chunked: bool,
    location: Option<String>,
}

impl Head {
    fn parse(head: &[u8]) -> Result<Head, FetchError> {
        let text = String::from_utf8_lossy(head);
        let mut lines = text.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let mut parts = status_line.split(' ');
        let version = parts.next().unwrap_or_default();
        if !version.starts_with("HTTP/1.") {
            return Err(FetchError::BadHttp("not HTTP/1.x"));
        }
        let status = parts
            .next()
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or(FetchError::BadHttp("status line"))?;
        let mut h = Head {
            status,
            content_length: None,
            chunked: false,
            location: None,
        };
        for line in lines.take(100) {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => {
                    h.content_length = Some(
                        value
                            .parse()
                            .map_err(|_| FetchError::BadHttp("Content-Length"))?,
                    );
                }
                "transfer-encoding" => h.chunked = value.to_ascii_lowercase().contains("chunked"),
                "location" => h.location = Some(clean_text(value)),
                _ => {}
            }
        }
        if h.chunked {
            h.content_length = None;
        }
        Ok(h)
    }
}

/// A complete chunked body decoded, `None` while it is incomplete.
fn dechunk(raw: &[u8], cap: usize) -> Result<Option<Vec<u8>>, FetchError> {
    let mut out = Vec::new();
    let mut rest = raw;
    loop {
        let Some(eol) = find(rest, b"\r\n") else {
            return Ok(None);
        };
        let size_text = String::from_utf8_lossy(rest.get(..eol).unwrap_or_default());
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size =
            usize::from_str_radix(size_text, 16).map_err(|_| FetchError::BadHttp("chunk size"))?;
        if size == 0 {
            return Ok(Some(out));
        }
        if out.len().saturating_add(size) > cap {
            return Err(FetchError::TooBig(cap));
        }
        let start = eol + 2;
        let Some(end) = start.checked_add(size) else {
            return Err(FetchError::BadHttp("chunk size"));
        };
        let Some(data) = rest.get(start..end) else {
            return Ok(None);
        };
        out.extend_from_slice(data);
        match rest.get(end..end + 2) {
            Some(b"\r\n") => rest = rest.get(end + 2..).unwrap_or_default(),
            Some(_) => return Err(FetchError::BadHttp("chunk end")),
            None => return Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deadline() -> Instant {
        Instant::now() + Duration::from_secs(5)
    }

    async fn read(bytes: &[u8], cap: usize) -> Result<Vec<u8>, FetchError> {
        let mut r: &[u8] = bytes;
        read_response(&mut r, cap, deadline()).await
    }

    #[tokio::test]
    async fn http_bodies_by_length_chunks_and_close() {
        let ok = read(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef", 10).await;
        assert_eq!(ok, Ok(b"abc".to_vec()));
        let chunked = read(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
            10,
        )
        .await;
        assert_eq!(chunked, Ok(b"abcde".to_vec()));
        let close = read(b"HTTP/1.0 200 OK\r\n\r\nxyz", 10).await;
        assert_eq!(close, Ok(b"xyz".to_vec()));
    }

    #[tokio::test]
    async fn http_refusals_are_typed() {
        let big = read(b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", 10).await;
        assert_eq!(big, Err(FetchError::TooBig(10)));
        let long_close = read(
            &[b"HTTP/1.1 200 OK\r\n\r\n".as_slice(), &[7u8; 40]].concat(),
            10,
        )
        .await;
        assert_eq!(long_close, Err(FetchError::TooBig(10)));
        let chunk_big = read(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFF\r\n",
            10,
        )
        .await;
        assert_eq!(chunk_big, Err(FetchError::TooBig(10)));
        let redirect = read(
            b"HTTP/1.1 302 Found\r\nLocation: ldap://evil/\x07x\r\n\r\n",
            10,
        )
        .await;
        assert_eq!(
            redirect,
            Err(FetchError::Redirect("ldap://evil/\\x07x".into()))
        );
        assert_eq!(
            read(b"HTTP/1.1 404 Not Found\r\n\r\n", 10).await,
            Err(FetchError::Status(404))
        );
        assert!(matches!(
            read(b"SSH-2.0-OpenSSH\r\n\r\n", 10).await,
            Err(FetchError::BadHttp(_))
        ));
        assert!(matches!(
            read(&[b'a'; 20_000], 10).await,
            Err(FetchError::BadHttp(_))
        ));
        assert!(matches!(
            read(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab", 10).await,
            Err(FetchError::BadHttp(_))
        ));
        assert!(matches!(
            read(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                10
            )
            .await,
            Err(FetchError::BadHttp(_))
        ));
    }

    /// A certificate naming 10,000 CDP URLs costs at most three fetch attempts.
    #[test]
    fn a_huge_cdp_list_is_capped() {
        let list: Vec<String> = (0..10_000)
            .map(|i| format!("http://127.0.0.1:9/{i}.crl"))
            .chain(std::iter::once("(+9984 more)".to_string()))
            .collect();
        let tried: Vec<&String> = urls(&list).collect();
        assert_eq!(tried.len(), MAX_URLS);
        assert_eq!(tried[0], "http://127.0.0.1:9/0.crl");
        let marker_only = vec!["(+3 more)".to_string()];
        assert_eq!(urls(&marker_only).count(), 0);
    }

    /// Twenty hosts naming one CRL URL at once, the server slow to answer: one HTTP request,
    /// every host gets the verdict.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_hosts_share_one_in_flight_fetch() {
        use rcgen::{
            BasicConstraints, CertificateParams, CertificateRevocationListParams, CertifiedIssuer,
            IsCa, KeyIdMethod, KeyPair, KeyUsagePurpose, SerialNumber,
        };
        use std::sync::atomic::AtomicUsize;

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
        let mut lp = CertificateParams::new(vec!["rdp.example.test".to_string()]).unwrap();
        lp.serial_number = Some(SerialNumber::from(5u64));
        let leaf = lp
            .signed_by(&KeyPair::generate().unwrap(), &ca)
            .unwrap()
            .der()
            .to_vec();
        let now = time::OffsetDateTime::now_utc();
        let crl = CertificateRevocationListParams {
            this_update: now - time::Duration::hours(1),
            next_update: now + time::Duration::days(1),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: vec![],
            key_identifier_method: KeyIdMethod::Sha256,
        }
        .signed_by(&ca)
        .unwrap()
        .der()
        .to_vec();
        let hits = Arc::new(AtomicUsize::new(0));
        let served = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                served.fetch_add(1, Ordering::SeqCst);
                let body = crl.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 2048];
                    let _ = s.read(&mut buf).await;
                    // Slow enough that every host asks while the fetch is in flight.
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
                    let _ = s.write_all(head.as_bytes()).await;
                    let _ = s.write_all(&body).await;
                });
            }
        });

        let opts = crate::probe::ProbeOptions {
            depth: crate::probe::Depth::Quick,
            connect_timeout: Duration::from_secs(2),
            timeout: Duration::from_secs(5),
            host_deadline: Duration::from_secs(10),
            host_spacing: Duration::ZERO,
            retries: 0,
            rate: 0,
            alive_ports: vec![],
            check_revocation: true,
            udp: false,
        };
        let resolver = crate::resolve::Resolver::new(crate::resolve::ResolverOptions {
            servers: vec!["127.0.0.1:9".parse().unwrap()],
            pins: vec![],
            timeout: Duration::from_secs(1),
            attempts: 1,
            rate: 0,
            ptr_rate: 0,
            ptr: false,
        })
        .unwrap();
        let prober = Arc::new(Prober::new(
            opts,
            resolver,
            crate::cert::TrustStore::empty(),
        ));
        let chain = vec![leaf, ca.der().to_vec()];
        let url = format!("http://127.0.0.1:{port}/ca.crl");
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (prober, chain, url) = (prober.clone(), chain.clone(), url.clone());
                tokio::spawn(async move {
                    let mut facts = CertFacts {
                        crl_urls: vec![url],
                        ..CertFacts::default()
                    };
                    let deadline = Instant::now() + Duration::from_secs(10);
                    revocation_phase(&prober, &chain, &mut facts, deadline).await;
                    facts.revocation
                })
            })
            .collect();
        for t in tasks {
            let r = t.await.unwrap().expect("revocation facts");
            assert_eq!(r.status, RevocationStatus::Good, "{r:?}");
        }
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        assert_eq!(prober.revocation.as_ref().map(|c| c.fetches()), Some(1));
    }

    #[test]
    fn overall_prefers_revoked_then_good() {
        let c = |status| RevocationCheck {
            method: RevocationMethod::Crl,
            url: String::new(),
            status,
            error: None,
            revoked_at: None,
            reason: None,
        };
        use RevocationStatus as S;
        assert_eq!(overall(&[c(S::Unreachable), c(S::Good)]), S::Good);
        assert_eq!(overall(&[c(S::Good), c(S::Revoked)]), S::Revoked);
        assert_eq!(overall(&[c(S::Unreachable), c(S::Unusable)]), S::Unusable);
        assert_eq!(
            overall(&[c(S::NotChecked), c(S::Unreachable)]),
            S::Unreachable
        );
        assert_eq!(overall(&[c(S::NotChecked)]), S::NotChecked);
        assert_eq!(overall(&[]), S::NotChecked);
    }
}
