//! Name resolution: hickory-resolver behind a per-scan cache, `--resolve` pins and a query rate.
//!
//! Each target name is resolved once per scan: the first caller runs the lookup, concurrent
//! callers for the same name await the same result, later callers get it from a bounded cache.
//! A and AAAA are asked concurrently; the outcome (`DnsOutcome`) is decided from hickory's typed
//! errors and response codes, never from message text:
//!
//! | status   | when |
//! |----------|------|
//! | resolved | at least one A/AAAA record (even if the other type failed) |
//! | nxdomain | NXDOMAIN for A or AAAA (it is about the name, not the type) |
//! | servfail / refused | that rcode, and no address from the other query |
//! | timeout  | no answer within timeout x attempts |
//! | error    | anything else (other rcodes, transport errors, invalid names), with a short text |
//! | nodata   | both queries answered NOERROR without an address |
//!
//! Rows are in precedence order: with A NODATA and AAAA timed out the name is `timeout`, since
//! it may well have AAAA records. At most 64 addresses are kept per name (A first), and only
//! records owned by the asked name or its CNAME chain count. IP literals come back as
//! `literal` and `--resolve` names as `pinned`, without a query; `localhost` and `*.invalid`
//! are answered by hickory itself (RFC 6761).
//!
//! Resolver settings, and why:
//! - `/etc/hosts` is not consulted: a hosts entry would hide a broken DNS record, which is
//!   what this scan is for; `--resolve NAME=IP` is the explicit override.
//! - A name with a dot is queried as an FQDN (no search domains appended, whatever `ndots`
//!   says); a single-label name may use the search list of resolv.conf.
//! - EDNS0 is always on with a 1232-byte payload (the DNS flag day 2020 size, no IP
//!   fragmentation); UDP first, TCP when the answer is truncated.
//! - hickory's own cache only keeps answers and negative answers (NXDOMAIN/NODATA) within the
//!   scan; it never caches timeouts or SERVFAIL, so those are retried for each new name.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::lookup::Lookup;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::rdata::{A, AAAA, CNAME, PTR};
use hickory_resolver::proto::rr::{Name, RData, RecordType};
use tokio::sync::OnceCell;

use crate::model::{DnsOutcome, DnsStatus};

/// Names (and PTR addresses) kept per scan; past this the oldest entries are forgotten.
const CACHE_CAPACITY: usize = 65_536;
/// Addresses kept per name: a fleet host has a handful; a huge answer must not fan out into
/// thousands of probes.
const MAX_ADDRESSES: usize = 64;
/// CNAME hops followed when reading an answer (hickory itself stops at 8).
const MAX_CNAME_HOPS: usize = 16;
/// EDNS0 UDP payload size: fits an unfragmented IPv6 packet (DNS flag day 2020).
const EDNS_PAYLOAD: u16 = 1232;
/// Error texts are server- or OS-provided; keep them short for CSV cells.
const MAX_ERROR_CHARS: usize = 160;
/// Room on top of timeout x attempts for hickory to report its own (typed) result first.
const DEADLINE_SLACK: Duration = Duration::from_millis(250);

/// How names are resolved during a scan (checked flags).
#[derive(Debug, Clone)]
pub struct ResolverOptions {
    /// `--dns-server IP[:PORT]` (port 53 default); empty = system resolv.conf.
    pub servers: Vec<SocketAddr>,
    /// `--resolve NAME=IP` (like curl); names lowercased.
    pub pins: Vec<(String, Vec<IpAddr>)>,
    /// Per query.
    pub timeout: Duration,
    /// Tries per query (0 is taken as 1).
    pub attempts: usize,
    /// Queries per second, 0 = unlimited (token bucket, no initial burst).
    pub rate: u32,
    /// PTR lookups for IP targets.
    pub ptr: bool,
}

/// The scan's resolver: cheap to clone, shared by every task.
#[derive(Clone)]
pub struct Resolver {
    inner: Arc<Inner>,
}

struct Inner {
    hickory: TokioResolver,
    pins: HashMap<String, Vec<IpAddr>>,
    limiter: Option<DefaultDirectRateLimiter>,
    /// Upper bound for one query: timeout x attempts (+ slack).
    deadline: Duration,
    ptr_enabled: bool,
    names: OnceMap<String, DnsOutcome>,
    ptrs: OnceMap<IpAddr, Option<String>>,
    /// Forward lookups actually sent to hickory (cache misses); lets tests prove coalescing.
    upstream_lookups: AtomicUsize,
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolver")
            .field("pins", &self.inner.pins.len())
            .field("deadline", &self.inner.deadline)
            .field("ptr", &self.inner.ptr_enabled)
            .finish_non_exhaustive()
    }
}

impl Resolver {
    /// Builds the resolver; fails (with what to do) when there is no usable DNS server.
    pub fn new(opts: ResolverOptions) -> Result<Resolver, String> {
        let (config, hopts) = if opts.servers.is_empty() {
            // Keeps resolv.conf's search list and ndots: they only apply to single-label names.
            system_config()?
        } else {
            (explicit_config(&opts.servers), ResolverOpts::default())
        };
        Self::build(opts, config, hopts)
    }

    /// Applies the scan's settings over a hickory configuration.
    fn build(
        opts: ResolverOptions,
        config: ResolverConfig,
        mut hopts: ResolverOpts,
    ) -> Result<Resolver, String> {
        if opts.timeout.is_zero() {
            return Err("dns timeout must be greater than zero".to_string());
        }
        let attempts = opts.attempts.max(1);
        hopts.timeout = opts.timeout;
        // hickory's `attempts` counts retries after the first try.
        hopts.attempts = attempts - 1;
        hopts.edns0 = true;
        hopts.edns_payload_len = EDNS_PAYLOAD;
        hopts.use_hosts_file = ResolveHosts::Never;
        hopts.preserve_intermediates = true; // keeps CNAMEs in answers, for `canonical`
        hopts.try_tcp_on_error = false; // TCP only on truncation
        hopts.recursion_desired = true;

        let hickory = hickory_resolver::Resolver::builder_with_config(
            config,
            TokioRuntimeProvider::default(),
        )
        .with_options(hopts)
        .build()
        .map_err(|e| format!("cannot set up the DNS resolver: {e}"))?;

        let mut pins: HashMap<String, Vec<IpAddr>> = HashMap::new();
        for (name, addrs) in opts.pins {
            let entry = pins.entry(normalize_name(&name)).or_default();
            for addr in addrs {
                if !entry.contains(&addr) {
                    entry.push(addr);
                }
            }
        }

        let limiter = NonZeroU32::new(opts.rate)
            .map(|rate| RateLimiter::direct(Quota::per_second(rate).allow_burst(NonZeroU32::MIN)));

        let tries = u32::try_from(attempts).unwrap_or(u32::MAX);
        let deadline = opts
            .timeout
            .checked_mul(tries)
            .and_then(|d| d.checked_add(DEADLINE_SLACK))
            .unwrap_or(Duration::from_secs(24 * 3600));

        Ok(Resolver {
            inner: Arc::new(Inner {
                hickory,
                pins,
                limiter,
                deadline,
                ptr_enabled: opts.ptr,
                names: OnceMap::new(CACHE_CAPACITY),
                ptrs: OnceMap::new(CACHE_CAPACITY),
                upstream_lookups: AtomicUsize::new(0),
            }),
        })
    }

    /// Forward lookup: A and AAAA (both, concurrently), addresses A first then AAAA, deduped.
    ///
    /// A name is resolved once per scan: concurrent callers await the same lookup and later
    /// callers get the cached outcome (failures included; `ms` is the time of the lookup that
    /// produced it). An IP literal comes back as `Literal`, a pinned name as
    /// `Pinned`, both without a query.
    pub async fn lookup(&self, name: &str) -> DnsOutcome {
        let start = Instant::now();
        let key = normalize_name(name);
        if let Some(ip) = parse_ip_literal(&key) {
            return finished(DnsStatus::Literal, vec![ip], start);
        }
        if let Some(addrs) = self.inner.pins.get(&key) {
            return finished(DnsStatus::Pinned, addrs.clone(), start);
        }
        if key.is_empty() {
            let mut out = finished(DnsStatus::Error, Vec::new(), start);
            out.error = Some("empty host name".to_string());
            return out;
        }
        let cell = self.inner.names.cell(&key);
        cell.get_or_init(|| self.inner.resolve(key.clone()))
            .await
            .clone()
    }

    /// PTR name for an IP target (for certificate name checks). `None` when PTR lookups are
    /// off, or on any failure: a missing PTR is not a fault. Cached like forward lookups.
    pub async fn ptr(&self, ip: IpAddr) -> Option<String> {
        if !self.inner.ptr_enabled {
            return None;
        }
        let cell = self.inner.ptrs.cell(&ip);
        cell.get_or_init(|| self.inner.reverse(ip)).await.clone()
    }

    /// Forward lookups that missed the cache so far (for tests and stats).
    pub fn upstream_lookups(&self) -> usize {
        self.inner.upstream_lookups.load(Ordering::Relaxed)
    }
}

impl Inner {
    async fn resolve(&self, key: String) -> DnsOutcome {
        self.upstream_lookups.fetch_add(1, Ordering::Relaxed);
        let start = Instant::now();
        let mut name = match Name::from_str_relaxed(&key) {
            Ok(name) => name,
            Err(e) => {
                let mut out = finished(DnsStatus::Error, Vec::new(), start);
                out.error = Some(short(&format!("invalid host name: {e}")));
                return out;
            }
        };
        // A dotted name is meant as is: never append search domains to it.
        if key.contains('.') {
            name.set_fqdn(true);
        }
        let (a, aaaa) = futures::future::join(
            self.query(name.clone(), RecordType::A),
            self.query(name.clone(), RecordType::AAAA),
        )
        .await;
        let mut out = classify(&name, a, aaaa);
        out.ms = Some(crate::clock::ms_since(start));
        tracing::debug!(
            name = %key,
            status = out.status.as_str(),
            addresses = out.addresses.len(),
            "dns lookup"
        );
        out
    }

    /// One rate-limited query, bounded by timeout x attempts whatever hickory does inside.
    async fn query(&self, name: Name, rtype: RecordType) -> Result<Lookup, NetError> {
        if let Some(limiter) = &self.limiter {
            // Waiting for the rate limiter is not part of the DNS timeout.
            limiter.until_ready().await;
        }
        match tokio::time::timeout(self.deadline, self.hickory.lookup(name, rtype)).await {
            Ok(result) => result,
            Err(_) => Err(NetError::Timeout),
        }
    }

    async fn reverse(&self, ip: IpAddr) -> Option<String> {
        if let Some(limiter) = &self.limiter {
            limiter.until_ready().await;
        }
        let lookup = tokio::time::timeout(self.deadline, self.hickory.reverse_lookup(ip))
            .await
            .ok()?
            .ok()?;
        ptr_name(&lookup)
    }
}

/// `--dns-server` list: UDP first, TCP on the same port for truncated answers; no search list.
fn explicit_config(servers: &[SocketAddr]) -> ResolverConfig {
    let servers = servers.iter().map(|addr| {
        let mut udp = ConnectionConfig::udp();
        udp.port = addr.port();
        let mut tcp = ConnectionConfig::tcp();
        tcp.port = addr.port();
        NameServerConfig::new(addr.ip(), true, vec![udp, tcp])
    });
    ResolverConfig::from_name_servers(servers.collect())
}

/// The system's resolver configuration (servers, search list, ndots).
#[cfg(unix)]
fn system_config() -> Result<(ResolverConfig, ResolverOpts), String> {
    resolv_conf(std::path::Path::new("/etc/resolv.conf"))
}

#[cfg(not(unix))]
fn system_config() -> Result<(ResolverConfig, ResolverOpts), String> {
    hickory_resolver::system_conf::read_system_conf().map_err(|e| {
        format!(
            "cannot use the system DNS configuration: {e}; \
             give a server with --dns-server IP[:PORT]"
        )
    })
}

#[cfg(unix)]
fn resolv_conf(path: &std::path::Path) -> Result<(ResolverConfig, ResolverOpts), String> {
    let fail = |why: String| {
        format!(
            "cannot use {}: {why}; give a server with --dns-server IP[:PORT]",
            path.display()
        )
    };
    let data = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    hickory_resolver::system_conf::parse_resolv_conf(data).map_err(|e| fail(e.to_string()))
}

/// First PTR target of an answer, as lower-case ASCII without the root dot.
fn ptr_name(lookup: &Lookup) -> Option<String> {
    lookup.answers().iter().find_map(|r| match &r.data {
        RData::PTR(PTR(target)) => Some(name_text(target)).filter(|s| !s.is_empty()),
        _ => None,
    })
}

/// Which way one of the two queries ended (ordered: a later variant wins over an earlier one
/// when neither query produced an address).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum QueryEnd {
    Nodata,
    Error(String),
    Timeout,
    Refused,
    Servfail,
    Nxdomain,
}

impl QueryEnd {
    fn status(&self) -> DnsStatus {
        match self {
            QueryEnd::Nodata => DnsStatus::Nodata,
            QueryEnd::Error(_) => DnsStatus::Error,
            QueryEnd::Timeout => DnsStatus::Timeout,
            QueryEnd::Refused => DnsStatus::Refused,
            QueryEnd::Servfail => DnsStatus::Servfail,
            QueryEnd::Nxdomain => DnsStatus::Nxdomain,
        }
    }
}

/// Maps a hickory error to how the query ended, from variants and response codes only.
fn classify_error(err: &NetError) -> QueryEnd {
    match err {
        NetError::Dns(DnsError::NoRecordsFound(no)) => rcode_end(no.response_code),
        NetError::Dns(DnsError::ResponseCode(code)) => rcode_end(*code),
        NetError::Timeout => QueryEnd::Timeout,
        NetError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => QueryEnd::Timeout,
        other => QueryEnd::Error(short(&other.to_string())),
    }
}

fn rcode_end(code: ResponseCode) -> QueryEnd {
    match code {
        ResponseCode::NXDomain => QueryEnd::Nxdomain,
        // NOERROR without the asked type: the name exists (NODATA).
        ResponseCode::NoError => QueryEnd::Nodata,
        ResponseCode::ServFail => QueryEnd::Servfail,
        ResponseCode::Refused => QueryEnd::Refused,
        other => QueryEnd::Error(format!(
            "server answered rcode {} ({})",
            u16::from(other),
            other.to_str()
        )),
    }
}

/// Combines the A and AAAA results into one outcome (`ms` left to the caller).
fn classify(
    name: &Name,
    a: Result<Lookup, NetError>,
    aaaa: Result<Lookup, NetError>,
) -> DnsOutcome {
    let mut addresses: Vec<IpAddr> = Vec::new();
    let mut seen: HashSet<IpAddr> = HashSet::new();
    let mut canonical: Option<String> = None;
    let mut worst: Option<QueryEnd> = None;

    for (result, rtype) in [(a, RecordType::A), (aaaa, RecordType::AAAA)] {
        let end = match result {
            Ok(lookup) => {
                let (addrs, canon) = read_answer(name, &lookup, rtype);
                if canonical.is_none() {
                    canonical = canon;
                }
                let empty = addrs.is_empty();
                for addr in addrs {
                    if addresses.len() < MAX_ADDRESSES && seen.insert(addr) {
                        addresses.push(addr);
                    }
                }
                if empty { Some(QueryEnd::Nodata) } else { None }
            }
            Err(err) => Some(classify_error(&err)),
        };
        if let Some(end) = end {
            worst = Some(match worst {
                Some(prev) if prev >= end => prev,
                _ => end,
            });
        }
    }

    if !addresses.is_empty() {
        return DnsOutcome {
            status: DnsStatus::Resolved,
            addresses,
            canonical,
            ptr: None,
            ms: None,
            error: None,
        };
    }
    let end = worst.unwrap_or(QueryEnd::Nodata);
    let error = match &end {
        QueryEnd::Error(text) => Some(text.clone()),
        _ => None,
    };
    DnsOutcome {
        status: end.status(),
        addresses: Vec::new(),
        // A CNAME to a name without addresses is still worth showing.
        canonical,
        ptr: None,
        ms: None,
        error,
    }
}

/// Addresses of type `rtype` that belong to the asked name or its CNAME chain, and the chain's
/// end. Records for unrelated names (a confused or hostile server) are ignored.
fn read_answer(name: &Name, lookup: &Lookup, rtype: RecordType) -> (Vec<IpAddr>, Option<String>) {
    let answers = lookup.answers();
    let key = |n: &Name| name_text(n);
    let cnames: Vec<(String, String)> = answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::CNAME(CNAME(target)) => Some((key(&r.name), key(target))),
            _ => None,
        })
        .collect();

    let asked = key(name);
    let queried = key(&lookup.query().name);
    let mut allowed: HashSet<String> = HashSet::new();
    allowed.insert(asked.clone());
    allowed.insert(queried.clone());

    // The chain starts at the asked name, at the name actually queried (search list), or at
    // the one CNAME owner nobody points to.
    let head = [asked.clone(), queried.clone()]
        .into_iter()
        .find(|n| cnames.iter().any(|(owner, _)| owner == n))
        .or_else(|| {
            cnames
                .iter()
                .find(|(owner, _)| !cnames.iter().any(|(_, t)| t == owner))
                .map(|(owner, _)| owner.clone())
        });

    let mut canonical = None;
    if let Some(mut current) = head {
        allowed.insert(current.clone());
        for _ in 0..MAX_CNAME_HOPS {
            let Some((_, target)) = cnames.iter().find(|(owner, _)| *owner == current) else {
                break;
            };
            canonical = Some(target.clone());
            if !allowed.insert(target.clone()) {
                break; // loop
            }
            current = target.clone();
        }
    }

    // hickory answers a CNAME target from its cache without the CNAME records: the lookup's
    // query name then is the chain's end. (For a single-label name, `name.<search domain>` is
    // a search-list expansion, not a CNAME.)
    let expanded = !name.is_fqdn() && queried.starts_with(&format!("{asked}."));
    if canonical.is_none() && queried != asked && !expanded {
        canonical = Some(queried);
    }

    let addrs = answers
        .iter()
        .filter(|r| allowed.contains(&key(&r.name)))
        .filter_map(|r| match (&r.data, rtype) {
            (RData::A(A(v4)), RecordType::A) => Some(IpAddr::V4(*v4)),
            (RData::AAAA(AAAA(v6)), RecordType::AAAA) => Some(IpAddr::V6(*v6)),
            _ => None,
        })
        .collect();
    (addrs, canonical.filter(|c| !c.is_empty()))
}

/// A DNS name as lower-case ASCII (IDNA as `xn--`, odd bytes escaped), without the root dot.
fn name_text(name: &Name) -> String {
    let mut s = name.to_ascii();
    if s.ends_with('.') {
        s.pop();
    }
    s.make_ascii_lowercase();
    s
}

/// Cache key for a target name: trimmed, lower case, without the root dot.
fn normalize_name(name: &str) -> String {
    let name = name.trim();
    let name = name.strip_suffix('.').unwrap_or(name);
    name.to_ascii_lowercase()
}

/// An IP target written as a name ("10.0.0.1", "::1", "[::1]").
fn parse_ip_literal(s: &str) -> Option<IpAddr> {
    let inner = s
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(s);
    inner.parse().ok()
}

fn finished(status: DnsStatus, addresses: Vec<IpAddr>, start: Instant) -> DnsOutcome {
    DnsOutcome {
        status,
        addresses,
        canonical: None,
        ptr: None,
        ms: Some(crate::clock::ms_since(start)),
        error: None,
    }
}

/// Keeps error texts to one short line.
fn short(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    let mut out: String = line.chars().take(MAX_ERROR_CHARS).collect();
    if line.chars().nth(MAX_ERROR_CHARS).is_some() {
        out.push_str("...");
    }
    out
}

/// Bounded map of once-cells: the first caller for a key runs the computation, concurrent
/// callers await it, later callers read it. Full: the oldest key is forgotten (its current
/// holders still finish together; a later caller computes again).
struct OnceMap<K, V> {
    capacity: usize,
    state: Mutex<OnceMapState<K, V>>,
}

struct OnceMapState<K, V> {
    cells: HashMap<K, Arc<OnceCell<V>>>,
    order: VecDeque<K>,
}

impl<K: Eq + Hash + Clone, V> OnceMap<K, V> {
    fn new(capacity: usize) -> Self {
        OnceMap {
            capacity: capacity.max(1),
            state: Mutex::new(OnceMapState {
                cells: HashMap::new(),
                order: VecDeque::new(),
            }),
        }
    }

    fn cell(&self, key: &K) -> Arc<OnceCell<V>> {
        // A poisoned lock only means another task panicked mid-insert; the map is still valid.
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(cell) = state.cells.get(key) {
            return cell.clone();
        }
        while state.cells.len() >= self.capacity {
            match state.order.pop_front() {
                Some(old) => {
                    state.cells.remove(&old);
                }
                None => break,
            }
        }
        let cell = Arc::new(OnceCell::new());
        state.cells.insert(key.clone(), cell.clone());
        state.order.push_back(key.clone());
        cell
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.state.lock().map(|s| s.cells.len()).unwrap_or(0)
    }
}

/// Parses `--dns-server`: "IP", "IP:PORT", "[v6]:PORT", "[v6]" or a bare IPv6 address.
pub fn parse_dns_server(s: &str) -> Result<SocketAddr, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("empty --dns-server value: expected IP or IP:PORT".to_string());
    }
    let addr = if let Ok(ip) = t.parse::<IpAddr>() {
        SocketAddr::new(ip, 53)
    } else if let Ok(sa) = t.parse::<SocketAddr>() {
        sa
    } else if let Some(ip) = t
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .and_then(|r| r.parse::<std::net::Ipv6Addr>().ok())
    {
        SocketAddr::new(IpAddr::V6(ip), 53)
    } else {
        return Err(format!(
            "invalid --dns-server {t:?}: expected IP, IP:PORT or [IPv6]:PORT"
        ));
    };
    if addr.port() == 0 {
        return Err(format!("invalid --dns-server {t:?}: port 0"));
    }
    Ok(addr)
}

/// Parses `--resolve`: "NAME=IP", or curl's "NAME:PORT:IP" (the port is ignored). IPv6 may be
/// bracketed. The name comes back lower case without a trailing dot.
pub fn parse_pin(s: &str) -> Result<(String, IpAddr), String> {
    let t = s.trim();
    let (name, ip) = if let Some((name, ip)) = t.split_once('=') {
        (name, ip)
    } else if let Some((name, rest)) = t.split_once(':') {
        let (port, ip) = rest
            .split_once(':')
            .ok_or_else(|| format!("invalid --resolve {t:?}: expected NAME=IP or NAME:PORT:IP"))?;
        if port.parse::<u16>().is_err() {
            return Err(format!("invalid --resolve {t:?}: bad port {port:?}"));
        }
        (name, ip)
    } else {
        return Err(format!(
            "invalid --resolve {t:?}: expected NAME=IP or NAME:PORT:IP"
        ));
    };
    let name = normalize_name(name);
    check_pin_name(&name).map_err(|why| format!("invalid --resolve {t:?}: {why}"))?;
    let ip = parse_ip_literal(ip.trim()).ok_or_else(|| {
        format!(
            "invalid --resolve {t:?}: {:?} is not an IP address",
            ip.trim()
        )
    })?;
    Ok((name, ip))
}

/// A pin name must look like a host name (it is compared with inventory names).
fn check_pin_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("empty name".to_string());
    }
    if name.len() > 253 {
        return Err("name longer than 253 characters".to_string());
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err("empty label in name".to_string());
        }
        if label.len() > 63 {
            return Err("label longer than 63 characters".to_string());
        }
        if !label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!("unexpected character in {label:?}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use hickory_resolver::net::NoRecords;
    use hickory_resolver::proto::op::{Message, Query};
    use hickory_resolver::proto::rr::Record;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, UdpSocket};

    use super::*;

    fn n(s: &str) -> Name {
        Name::from_ascii(s).expect("test name")
    }
    fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(a, b, c, d))
    }
    fn rec_a(owner: &str, ip: [u8; 4]) -> Record {
        Record::from_rdata(n(owner), 60, RData::A(A(Ipv4Addr::from(ip))))
    }
    fn rec_aaaa(owner: &str, ip: Ipv6Addr) -> Record {
        Record::from_rdata(n(owner), 60, RData::AAAA(AAAA(ip)))
    }
    fn rec_cname(owner: &str, target: &str) -> Record {
        Record::from_rdata(n(owner), 60, RData::CNAME(CNAME(n(target))))
    }

    // ---- flag parsing -------------------------------------------------------------------

    #[test]
    fn dns_server_forms() {
        let cases = [
            ("10.0.0.53", "10.0.0.53:53"),
            (" 10.0.0.53:5353 ", "10.0.0.53:5353"),
            ("[fd00::53]:5353", "[fd00::53]:5353"),
            ("[fd00::53]", "[fd00::53]:53"),
            ("fd00::53", "[fd00::53]:53"),
            ("::1", "[::1]:53"),
        ];
        for (input, want) in cases {
            let got = parse_dns_server(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(got, want.parse::<SocketAddr>().expect("want"), "{input}");
        }
        for bad in [
            "",
            "dns.example",
            "10.0.0.53:",
            "10.0.0.53:99999",
            "10.0.0.53:0",
            "[fd00::53",
            "fd00::53:53:zz",
            "1.2.3.4.5",
        ] {
            assert!(parse_dns_server(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn pin_forms() {
        assert_eq!(
            parse_pin("RDS01.Corp.Example=10.1.2.3").expect("plain"),
            ("rds01.corp.example".to_string(), v4(10, 1, 2, 3))
        );
        assert_eq!(
            parse_pin("rds01.corp.example.=fd00::3").expect("v6, trailing dot"),
            (
                "rds01.corp.example".to_string(),
                "fd00::3".parse().expect("ip")
            )
        );
        // curl's NAME:PORT:IP, port ignored, IPv6 bracketed or not.
        assert_eq!(
            parse_pin("rds01:3389:10.1.2.3").expect("curl"),
            ("rds01".to_string(), v4(10, 1, 2, 3))
        );
        assert_eq!(
            parse_pin("rds01:3389:[fd00::3]").expect("curl v6"),
            ("rds01".to_string(), "fd00::3".parse().expect("ip"))
        );
        assert_eq!(
            parse_pin("rds01:3389:fd00::3").expect("curl bare v6").1,
            "fd00::3".parse::<IpAddr>().expect("ip")
        );
        for bad in [
            "",
            "rds01",
            "rds01=",
            "=10.1.2.3",
            "rds01=rds02",
            "rds01:x:10.1.2.3",
            "rds01:3389",
            "bad name=10.1.2.3",
            "a..b=10.1.2.3",
            "rds01=10.1.2.3.4",
        ] {
            assert!(parse_pin(bad).is_err(), "{bad:?} accepted");
        }
        let long = format!("{}.example=10.0.0.1", "a".repeat(64));
        assert!(parse_pin(&long).is_err(), "64-char label accepted");
    }

    // ---- classification from constructed hickory values --------------------------------

    fn no_records(code: ResponseCode) -> NetError {
        NoRecords::new(Query::query(n("x.test."), RecordType::A), code).into()
    }

    #[test]
    fn errors_map_by_variant_and_rcode() {
        assert_eq!(
            classify_error(&no_records(ResponseCode::NXDomain)),
            QueryEnd::Nxdomain
        );
        assert_eq!(
            classify_error(&no_records(ResponseCode::NoError)),
            QueryEnd::Nodata
        );
        assert_eq!(
            classify_error(&NetError::Dns(DnsError::ResponseCode(
                ResponseCode::ServFail
            ))),
            QueryEnd::Servfail
        );
        assert_eq!(
            classify_error(&NetError::Dns(DnsError::ResponseCode(
                ResponseCode::Refused
            ))),
            QueryEnd::Refused
        );
        assert_eq!(classify_error(&NetError::Timeout), QueryEnd::Timeout);
        match classify_error(&NetError::Dns(DnsError::ResponseCode(ResponseCode::NotImp))) {
            QueryEnd::Error(text) => assert!(text.contains("rcode 4"), "{text}"),
            other => panic!("NOTIMP gave {other:?}"),
        }
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(matches!(
            classify_error(&NetError::from(io)),
            QueryEnd::Error(_)
        ));
        // An error whose text says "timed out" is still an error: text is never parsed.
        assert!(matches!(
            classify_error(&NetError::Msg("request timed out".into())),
            QueryEnd::Error(_)
        ));
    }

    fn lookup(qname: &str, rtype: RecordType, records: Vec<Record>) -> Result<Lookup, NetError> {
        Ok(Lookup::new_with_max_ttl(
            Query::query(n(qname), rtype),
            records,
        ))
    }

    #[test]
    fn combining_a_and_aaaa() {
        let name = n("h.test.");
        let six: Ipv6Addr = "fd00::1".parse().expect("ip");
        // Both families, A first, duplicates dropped.
        let out = classify(
            &name,
            lookup(
                "h.test.",
                RecordType::A,
                vec![
                    rec_a("h.test.", [10, 0, 0, 2]),
                    rec_a("h.test.", [10, 0, 0, 1]),
                    rec_a("h.test.", [10, 0, 0, 2]),
                ],
            ),
            lookup("h.test.", RecordType::AAAA, vec![rec_aaaa("h.test.", six)]),
        );
        assert_eq!(out.status, DnsStatus::Resolved);
        assert_eq!(
            out.addresses,
            vec![v4(10, 0, 0, 2), v4(10, 0, 0, 1), IpAddr::V6(six)]
        );
        assert_eq!(out.canonical, None);

        // One family answering is enough, whatever the other did.
        let out = classify(
            &name,
            lookup(
                "h.test.",
                RecordType::A,
                vec![rec_a("h.test.", [10, 0, 0, 1])],
            ),
            Err(NetError::Dns(DnsError::ResponseCode(
                ResponseCode::ServFail,
            ))),
        );
        assert_eq!(out.status, DnsStatus::Resolved);
        assert_eq!(out.error, None);

        // NXDOMAIN on either side is about the name.
        let out = classify(
            &name,
            Err(NetError::Timeout),
            Err(no_records(ResponseCode::NXDomain)),
        );
        assert_eq!(out.status, DnsStatus::Nxdomain);

        // NODATA needs both sides to say so; otherwise the failure wins.
        let out = classify(
            &name,
            Err(no_records(ResponseCode::NoError)),
            Err(no_records(ResponseCode::NoError)),
        );
        assert_eq!(out.status, DnsStatus::Nodata);
        let out = classify(
            &name,
            Err(no_records(ResponseCode::NoError)),
            Err(NetError::Timeout),
        );
        assert_eq!(out.status, DnsStatus::Timeout);
        let out = classify(
            &name,
            Err(NetError::Dns(DnsError::ResponseCode(ResponseCode::Refused))),
            Err(NetError::Dns(DnsError::ResponseCode(
                ResponseCode::ServFail,
            ))),
        );
        assert_eq!(out.status, DnsStatus::Servfail);
        let out = classify(
            &name,
            Err(NetError::Dns(DnsError::ResponseCode(ResponseCode::NotImp))),
            Err(no_records(ResponseCode::NoError)),
        );
        assert_eq!(out.status, DnsStatus::Error);
        assert!(out.error.is_some_and(|e| e.contains("Not Implemented")));
    }

    #[test]
    fn answers_for_other_names_are_ignored() {
        let name = n("h.test.");
        let (addrs, canon) = read_answer(
            &name,
            &lookup(
                "h.test.",
                RecordType::A,
                vec![
                    rec_a("evil.test.", [6, 6, 6, 6]),
                    rec_a("H.TEST.", [10, 0, 0, 1]),
                ],
            )
            .expect("lookup"),
            RecordType::A,
        );
        assert_eq!(addrs, vec![v4(10, 0, 0, 1)], "case-insensitive owner match");
        assert_eq!(canon, None);

        // Only stray records: NODATA, not a resolved name.
        let out = classify(
            &name,
            lookup(
                "h.test.",
                RecordType::A,
                vec![rec_a("evil.test.", [6, 6, 6, 6])],
            ),
            Err(no_records(ResponseCode::NoError)),
        );
        assert_eq!(out.status, DnsStatus::Nodata);
        assert!(out.addresses.is_empty());
    }

    #[test]
    fn cname_chain_gives_canonical() {
        let name = n("alias.test.");
        let records = vec![
            rec_cname("alias.test.", "mid.test."),
            rec_cname("mid.test.", "Real.Test."),
            rec_a("real.test.", [10, 0, 0, 9]),
            rec_a("elsewhere.test.", [6, 6, 6, 6]),
        ];
        let (addrs, canon) = read_answer(
            &name,
            &lookup("alias.test.", RecordType::A, records.clone()).expect("lookup"),
            RecordType::A,
        );
        assert_eq!(addrs, vec![v4(10, 0, 0, 9)]);
        assert_eq!(canon.as_deref(), Some("real.test"));

        // hickory chased the CNAME itself: its query is the target's.
        let (addrs, canon) = read_answer(
            &name,
            &lookup("real.test.", RecordType::A, records).expect("lookup"),
            RecordType::A,
        );
        assert_eq!(addrs, vec![v4(10, 0, 0, 9)]);
        assert_eq!(canon.as_deref(), Some("real.test"));

        // hickory served the target from its cache: no CNAME records, the query is the target's.
        let (addrs, canon) = read_answer(
            &name,
            &lookup(
                "real.test.",
                RecordType::A,
                vec![rec_a("real.test.", [10, 0, 0, 9])],
            )
            .expect("lookup"),
            RecordType::A,
        );
        assert_eq!(addrs, vec![v4(10, 0, 0, 9)]);
        assert_eq!(canon.as_deref(), Some("real.test"));

        // A search-list expansion of a single-label name is not a CNAME.
        let (addrs, canon) = read_answer(
            &n("rds01"),
            &lookup(
                "rds01.corp.test.",
                RecordType::A,
                vec![rec_a("rds01.corp.test.", [10, 0, 0, 4])],
            )
            .expect("lookup"),
            RecordType::A,
        );
        assert_eq!(addrs, vec![v4(10, 0, 0, 4)]);
        assert_eq!(canon, None);

        // A CNAME loop ends without hanging and without addresses.
        let (addrs, _) = read_answer(
            &name,
            &lookup(
                "alias.test.",
                RecordType::A,
                vec![
                    rec_cname("alias.test.", "loop.test."),
                    rec_cname("loop.test.", "alias.test."),
                ],
            )
            .expect("lookup"),
            RecordType::A,
        );
        assert!(addrs.is_empty());
    }

    #[test]
    fn short_error_text() {
        let long = "x".repeat(500);
        let s = short(&long);
        assert_eq!(s.chars().count(), MAX_ERROR_CHARS + 3);
        assert_eq!(short("first\nsecond"), "first");
        // Multi-byte characters are cut on a character boundary.
        let wide = "é".repeat(300);
        assert!(short(&wide).starts_with("éé"));
    }

    #[test]
    fn once_map_is_bounded() {
        let map: OnceMap<u32, u32> = OnceMap::new(3);
        let first = map.cell(&1);
        assert!(Arc::ptr_eq(&first, &map.cell(&1)), "same key, same cell");
        for k in 2..=10 {
            map.cell(&k);
        }
        assert_eq!(map.len(), 3);
        assert!(
            !Arc::ptr_eq(&first, &map.cell(&1)),
            "oldest key was evicted"
        );
    }

    // ---- an in-test DNS server on 127.0.0.1 ---------------------------------------------

    /// Answers by query name (see `answer`); counts queries per "name type".
    struct TestServer {
        addr: SocketAddr,
        hits: Arc<Mutex<HashMap<String, usize>>>,
    }

    impl TestServer {
        fn hits(&self, key: &str) -> usize {
            self.hits
                .lock()
                .map(|h| h.get(key).copied().unwrap_or(0))
                .unwrap_or(0)
        }
    }

    fn answer(req: &Message, tcp: bool) -> Option<Message> {
        let q = req.queries.first()?;
        let mut resp = Message::response(req.metadata.id, req.metadata.op_code);
        resp.metadata.recursion_desired = req.metadata.recursion_desired;
        resp.metadata.recursion_available = true;
        resp.add_query(q.clone());
        let owner = q.name.clone();
        let a = |ip: [u8; 4]| Record::from_rdata(owner.clone(), 60, RData::A(A(ip.into())));
        let six = |ip: &str| {
            let ip: Ipv6Addr = ip.parse().unwrap_or(Ipv6Addr::LOCALHOST);
            Record::from_rdata(owner.clone(), 60, RData::AAAA(AAAA(ip)))
        };
        let is_a = q.query_type == RecordType::A;
        let is_aaaa = q.query_type == RecordType::AAAA;
        match name_text(&q.name).as_str() {
            "multi.test" | "shared.test" if is_a => {
                resp.add_answer(a([10, 0, 0, 1]));
                resp.add_answer(a([10, 0, 0, 2]));
                resp.add_answer(a([10, 0, 0, 1]));
            }
            "v6.test" if is_aaaa => {
                resp.add_answer(six("fd00::6"));
            }
            "dual.test" if is_a => {
                resp.add_answer(a([10, 0, 0, 3]));
            }
            "dual.test" if is_aaaa => {
                resp.add_answer(six("fd00::3"));
            }
            // A recursive server's answer: CNAME plus the target's records.
            "alias.test" if is_a => {
                resp.add_answer(rec_cname("alias.test.", "dual.test."));
                resp.add_answer(rec_a("dual.test.", [10, 0, 0, 3]));
            }
            "alias.test" if is_aaaa => {
                resp.add_answer(rec_cname("alias.test.", "dual.test."));
                resp.add_answer(rec_aaaa("dual.test.", "fd00::3".parse().ok()?));
            }
            // Only the CNAME: the client must ask again for the target.
            "chase.test" => {
                resp.add_answer(rec_cname("chase.test.", "dual.test."));
            }
            "chase2.test" => {
                resp.add_answer(rec_cname("chase2.test.", "fresh.test."));
            }
            "fresh.test" if is_a => {
                resp.add_answer(a([10, 0, 0, 8]));
            }
            "rds01.corp.test" if is_a => {
                resp.add_answer(a([10, 0, 0, 4]));
            }
            "nx.test" => resp.metadata.response_code = ResponseCode::NXDomain,
            "fail.test" => resp.metadata.response_code = ResponseCode::ServFail,
            "refuse.test" => resp.metadata.response_code = ResponseCode::Refused,
            "notimp.test" => resp.metadata.response_code = ResponseCode::NotImp,
            "silent.test" => return None,
            "half.test" if is_a => {
                resp.add_answer(a([10, 0, 0, 5]));
            }
            "half.test" => resp.metadata.response_code = ResponseCode::ServFail,
            "nxhalf.test" if is_a => resp.metadata.response_code = ResponseCode::NXDomain,
            "stray.test" if is_a => {
                resp.add_answer(rec_a("other.test.", [6, 6, 6, 6]));
            }
            "tc.test" if !tcp => resp.metadata.truncation = true,
            "tc.test" if is_a => {
                resp.add_answer(a([10, 0, 0, 7]));
            }
            "4.3.2.10.in-addr.arpa" if q.query_type == RecordType::PTR => {
                resp.add_answer(Record::from_rdata(
                    owner.clone(),
                    60,
                    RData::PTR(PTR(n("RDS01.Corp.Test."))),
                ));
            }
            // Known names without the asked type: NOERROR, empty (NODATA).
            "multi.test" | "shared.test" | "v6.test" | "empty.test" | "fresh.test"
            | "rds01.corp.test" | "nxhalf.test" | "stray.test" | "tc.test" => {}
            _ => resp.metadata.response_code = ResponseCode::NXDomain,
        }
        Some(resp)
    }

    fn count(hits: &Mutex<HashMap<String, usize>>, req: &Message) {
        if let (Some(q), Ok(mut h)) = (req.queries.first(), hits.lock()) {
            *h.entry(format!("{} {}", name_text(&q.name), q.query_type))
                .or_default() += 1;
        }
    }

    async fn spawn_server() -> TestServer {
        // UDP and TCP on the same port; retry if TCP's port happens to be taken.
        let (udp, tcp) = loop {
            let udp = UdpSocket::bind("127.0.0.1:0").await.expect("udp bind");
            let addr = udp.local_addr().expect("udp addr");
            if let Ok(tcp) = TcpListener::bind(addr).await {
                break (udp, tcp);
            }
        };
        let addr = udp.local_addr().expect("udp addr");
        let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();

        let udp_hits = hits.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            while let Ok((len, peer)) = udp.recv_from(&mut buf).await {
                let Some(Ok(req)) = buf.get(..len).map(Message::from_vec) else {
                    continue;
                };
                count(&udp_hits, &req);
                if let Some(bytes) = answer(&req, false).and_then(|m| m.to_vec().ok()) {
                    let _ = udp.send_to(&bytes, peer).await;
                }
            }
        });
        let tcp_hits = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = tcp.accept().await {
                let hits = tcp_hits.clone();
                tokio::spawn(async move {
                    loop {
                        let mut len = [0u8; 2];
                        if stream.read_exact(&mut len).await.is_err() {
                            return;
                        }
                        let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
                        if stream.read_exact(&mut msg).await.is_err() {
                            return;
                        }
                        let Ok(req) = Message::from_vec(&msg) else {
                            return;
                        };
                        count(&hits, &req);
                        let Some(bytes) = answer(&req, true).and_then(|m| m.to_vec().ok()) else {
                            continue;
                        };
                        let Ok(len) = u16::try_from(bytes.len()) else {
                            return;
                        };
                        if stream.write_all(&len.to_be_bytes()).await.is_err()
                            || stream.write_all(&bytes).await.is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        TestServer { addr, hits }
    }

    fn options(server: SocketAddr) -> ResolverOptions {
        ResolverOptions {
            servers: vec![server],
            pins: Vec::new(),
            timeout: Duration::from_millis(400),
            attempts: 1,
            rate: 0,
            ptr: true,
        }
    }

    #[tokio::test]
    async fn statuses_against_test_server() {
        let server = spawn_server().await;
        let r = Resolver::new(options(server.addr)).expect("resolver");

        let out = r.lookup("multi.test").await;
        assert_eq!(out.status, DnsStatus::Resolved);
        assert_eq!(out.addresses, vec![v4(10, 0, 0, 1), v4(10, 0, 0, 2)]);
        assert!(out.ms.is_some_and(|ms| ms >= 0.0));

        let out = r.lookup("v6.test").await;
        assert_eq!(out.status, DnsStatus::Resolved);
        assert_eq!(
            out.addresses,
            vec!["fd00::6".parse::<IpAddr>().expect("ip")]
        );

        let out = r.lookup("DUAL.test.").await;
        assert_eq!(out.status, DnsStatus::Resolved);
        assert_eq!(
            out.addresses,
            vec![v4(10, 0, 0, 3), "fd00::3".parse().expect("ip")],
            "A first, then AAAA"
        );
        assert_eq!(out.canonical, None);

        for alias in ["alias.test", "chase.test"] {
            let out = r.lookup(alias).await;
            assert_eq!(out.status, DnsStatus::Resolved, "{alias}");
            assert_eq!(
                out.addresses,
                vec![v4(10, 0, 0, 3), "fd00::3".parse().expect("ip")],
                "{alias}"
            );
            assert_eq!(out.canonical.as_deref(), Some("dual.test"), "{alias}");
        }

        // CNAME chased by hickory, target not cached yet.
        let out = r.lookup("chase2.test").await;
        assert_eq!(out.status, DnsStatus::Resolved);
        assert_eq!(out.addresses, vec![v4(10, 0, 0, 8)]);
        assert_eq!(out.canonical.as_deref(), Some("fresh.test"));

        let expect = [
            ("nx.test", DnsStatus::Nxdomain),
            ("unknown.test", DnsStatus::Nxdomain),
            ("nxhalf.test", DnsStatus::Nxdomain),
            ("empty.test", DnsStatus::Nodata),
            ("stray.test", DnsStatus::Nodata),
            ("fail.test", DnsStatus::Servfail),
            ("refuse.test", DnsStatus::Refused),
            ("notimp.test", DnsStatus::Error),
            ("silent.test", DnsStatus::Timeout),
        ];
        for (name, status) in expect {
            let out = r.lookup(name).await;
            assert_eq!(out.status, status, "{name}: {out:?}");
            assert!(out.addresses.is_empty(), "{name}");
            assert_eq!(
                out.error.is_some(),
                status == DnsStatus::Error,
                "{name}: {out:?}"
            );
        }

        let out = r.lookup("half.test").await;
        assert_eq!(out.status, DnsStatus::Resolved, "A answered, AAAA SERVFAIL");
        assert_eq!(out.addresses, vec![v4(10, 0, 0, 5)]);

        // Truncated over UDP: asked again over TCP.
        let out = r.lookup("tc.test").await;
        assert_eq!(out.status, DnsStatus::Resolved, "{out:?}");
        assert_eq!(out.addresses, vec![v4(10, 0, 0, 7)]);
        assert!(server.hits("tc.test A") >= 2, "UDP then TCP");

        // Names that never reach the server.
        let out = r.lookup("10.9.8.7").await;
        assert_eq!(out.status, DnsStatus::Literal);
        assert_eq!(out.addresses, vec![v4(10, 9, 8, 7)]);
        let out = r.lookup("[fd00::9]").await;
        assert_eq!(out.status, DnsStatus::Literal);
        let out = r.lookup("  ").await;
        assert_eq!(out.status, DnsStatus::Error);
        let out = r.lookup(&format!("{}.test", "a".repeat(70))).await;
        assert_eq!(out.status, DnsStatus::Error, "label over 63 bytes");
        assert!(
            out.error
                .is_some_and(|e| e.starts_with("invalid host name"))
        );
    }

    /// A resolver as if resolv.conf said "search corp.test" (and ndots:5, like Kubernetes).
    fn with_search(server: SocketAddr) -> Resolver {
        let mut config = explicit_config(&[server]);
        config.add_search(n("corp.test."));
        let mut hopts = ResolverOpts::default();
        hopts.ndots = 5;
        Resolver::build(options(server), config, hopts).expect("resolver")
    }

    #[tokio::test]
    async fn search_list_only_for_single_labels() {
        let server = spawn_server().await;
        let r = with_search(server.addr);

        // A dotted name goes out as is, whatever ndots says.
        let out = r.lookup("nx.test").await;
        assert_eq!(out.status, DnsStatus::Nxdomain);
        let hits = server.hits.lock().map(|h| h.clone()).unwrap_or_default();
        assert!(hits.keys().all(|k| k.starts_with("nx.test ")), "{hits:?}");

        // A single label is tried with the search domain.
        let out = r.lookup("RDS01").await;
        assert_eq!(out.status, DnsStatus::Resolved, "{out:?}");
        assert_eq!(out.addresses, vec![v4(10, 0, 0, 4)]);
        assert_eq!(out.canonical, None, "a search expansion is not a CNAME");
        assert_eq!(server.hits("rds01.corp.test A"), 1);
    }

    #[tokio::test]
    async fn one_lookup_per_name_per_scan() {
        let server = spawn_server().await;
        let r = Resolver::new(options(server.addr)).expect("resolver");
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let r = r.clone();
                // Same name in different spellings.
                let name = if i % 2 == 0 {
                    "shared.test"
                } else {
                    "Shared.Test."
                };
                tokio::spawn(async move { r.lookup(name).await })
            })
            .collect();
        for task in tasks {
            let out = task.await.expect("task");
            assert_eq!(out.status, DnsStatus::Resolved);
            assert_eq!(out.addresses, vec![v4(10, 0, 0, 1), v4(10, 0, 0, 2)]);
        }
        assert_eq!(
            r.upstream_lookups(),
            1,
            "concurrent callers shared one lookup"
        );
        // Later callers hit the cache; failures are cached too (one scan, one answer).
        r.lookup("shared.test").await;
        r.lookup("nx.test").await;
        r.lookup("nx.test").await;
        assert_eq!(r.upstream_lookups(), 2);
        assert_eq!(server.hits("nx.test A"), 1);
    }

    #[tokio::test]
    async fn pins_answer_without_a_query() {
        let server = spawn_server().await;
        let mut opts = options(server.addr);
        let (name, ip) = parse_pin("NX.test=10.1.1.1").expect("pin");
        opts.pins = vec![(name.clone(), vec![ip]), (name, vec![v4(10, 1, 1, 2), ip])];
        let r = Resolver::new(opts).expect("resolver");
        let out = r.lookup("nx.TEST.").await;
        assert_eq!(out.status, DnsStatus::Pinned);
        assert_eq!(out.addresses, vec![v4(10, 1, 1, 1), v4(10, 1, 1, 2)]);
        assert_eq!(server.hits("nx.test A"), 0);
        assert_eq!(r.upstream_lookups(), 0);
    }

    #[tokio::test]
    async fn ptr_lookups() {
        let server = spawn_server().await;
        let r = Resolver::new(options(server.addr)).expect("resolver");
        assert_eq!(
            r.ptr(v4(10, 2, 3, 4)).await.as_deref(),
            Some("rds01.corp.test")
        );
        assert_eq!(
            r.ptr(v4(10, 2, 3, 4)).await.as_deref(),
            Some("rds01.corp.test")
        );
        assert_eq!(server.hits("4.3.2.10.in-addr.arpa PTR"), 1, "cached");
        assert_eq!(r.ptr(v4(10, 9, 9, 9)).await, None, "NXDOMAIN is just None");

        let mut opts = options(server.addr);
        opts.ptr = false;
        let r = Resolver::new(opts).expect("resolver");
        assert_eq!(r.ptr(v4(10, 2, 3, 4)).await, None);
        assert_eq!(
            server.hits("4.3.2.10.in-addr.arpa PTR"),
            1,
            "no query when off"
        );
    }

    #[tokio::test]
    async fn timeout_honours_attempts() {
        let server = spawn_server().await;
        let mut opts = options(server.addr);
        opts.timeout = Duration::from_millis(300);
        for attempts in [1usize, 3] {
            opts.attempts = attempts;
            let r = Resolver::new(opts.clone()).expect("resolver");
            let start = Instant::now();
            let out = r.lookup("silent.test").await;
            let took = start.elapsed();
            assert_eq!(out.status, DnsStatus::Timeout);
            let budget = opts.timeout * u32::try_from(attempts).expect("small");
            assert!(
                took >= budget.saturating_sub(Duration::from_millis(50)),
                "{attempts} attempts gave up after {took:?}"
            );
            assert!(
                took <= budget + Duration::from_millis(1500),
                "{attempts} attempts took {took:?}"
            );
        }
    }

    #[tokio::test]
    async fn rate_limit_spaces_queries() {
        let server = spawn_server().await;
        let mut opts = options(server.addr);
        opts.rate = 20; // one query per 50 ms, no initial burst
        let r = Resolver::new(opts).expect("resolver");
        let start = Instant::now();
        for name in [
            "nx.test",
            "empty.test",
            "dual.test",
            "v6.test",
            "multi.test",
        ] {
            r.lookup(name).await;
        }
        // 10 queries: the first is free, nine more wait 50 ms each.
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(420), "took {took:?}");
    }

    #[cfg(unix)]
    #[test]
    fn resolv_conf_errors_say_what_to_do() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("missing.conf");
        let err = resolv_conf(&missing).expect_err("missing file");
        assert!(
            err.contains("missing.conf") && err.contains("--dns-server"),
            "{err}"
        );

        let empty = dir.path().join("empty.conf");
        std::fs::write(&empty, "# no nameserver line\nsearch corp.test\n").expect("write");
        let err = resolv_conf(&empty).expect_err("no nameserver");
        assert!(err.contains("--dns-server"), "{err}");

        let good = dir.path().join("good.conf");
        std::fs::write(
            &good,
            "nameserver 127.0.0.53\nsearch corp.test\noptions ndots:2\n",
        )
        .expect("write");
        let (config, opts) = resolv_conf(&good).expect("valid file");
        assert_eq!(config.name_servers().len(), 1);
        assert_eq!(config.search().len(), 1);
        assert_eq!(opts.ndots, 2);
    }

    #[test]
    fn resolver_is_shareable_and_built_outside_a_runtime() {
        fn shareable<T: Send + Sync + Clone + 'static>() {}
        shareable::<Resolver>();
        // No tokio runtime here: config checking happens before any I/O.
        let r = Resolver::new(options("127.0.0.1:53".parse().expect("addr")));
        assert!(r.is_ok());
    }

    #[test]
    fn rejects_zero_timeout() {
        let mut opts = options("127.0.0.1:53".parse().expect("addr"));
        opts.timeout = Duration::ZERO;
        assert!(Resolver::new(opts).is_err());
    }
}
