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
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
use crate::pace::Pacer;

mod setup;
pub use setup::{DnsServerError, PinError, PinNameError, parse_dns_server, parse_pin};

/// Why the resolver could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolverError {
    #[error("dns timeout must be greater than zero")]
    ZeroTimeout,
    /// hickory refused the configuration.
    #[error("cannot set up the DNS resolver: {0}")]
    Build(String),
    /// resolv.conf could not be read or parsed; `why` is the OS's or hickory's text.
    #[error("cannot use {path}: {why}; give a server with --dns-server IP[:PORT]")]
    SystemConfig { path: String, why: String },
    /// Where there is no resolv.conf: the platform's configuration could not be read.
    #[error(
        "cannot use the system DNS configuration: {0}; give a server with --dns-server IP[:PORT]"
    )]
    PlatformConfig(String),
}

/// Names kept per scan; past this the oldest entries are forgotten.
const CACHE_CAPACITY: usize = 65_536;
/// PTR answers kept per scan. An IP sweep asks each address once, so a big cache only holds
/// what is never asked again (25 MiB of a 100k-target scan's peak); this covers the hosts in
/// flight that share an address.
const PTR_CACHE_CAPACITY: usize = 4_096;
/// hickory's own answer cache, in responses. Ours above already keeps every outcome per name
/// and address, so hickory's only has to cover the CNAME targets names share.
const HICKORY_CACHE_SIZE: u64 = 1_024;
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
    /// Forward queries per second, 0 = unlimited (evenly spaced, no burst).
    pub rate: u32,
    /// PTR queries per second, 0 = unlimited. The scan gives PTR lookups a budget of their own
    /// ([`ptr_rate`]): at most one per address, so they cannot outpace the connections.
    pub ptr_rate: u32,
    /// PTR lookups for IP targets.
    pub ptr: bool,
}

/// The PTR budget of a scan: PTR lookups never set the pace of an IP scan (each IP target may
/// need one, for the certificate's name and the NTLM computer name), yet stay bounded.
///
/// A PTR query is asked at most once per address (cached), and every address costs at least
/// one connection, so at `--rate R` the resolver sees at most max(R, `--dns-rate`) PTR queries
/// per second; that is the budget. With `--rate 0` or `--dns-rate 0` (either limit lifted on
/// purpose) it is unlimited: the host rate bounds it, and `--concurrency` bounds the queries in
/// flight. Forward lookups of names keep `--dns-rate` alone.
pub fn ptr_rate(dns_rate: u32, conn_rate: u32) -> u32 {
    if dns_rate == 0 || conn_rate == 0 {
        0
    } else {
        dns_rate.max(conn_rate)
    }
}

/// The scan's resolver: cheap to clone, shared by every task.
#[derive(Clone)]
pub struct Resolver {
    inner: Arc<Inner>,
}

struct Inner {
    hickory: TokioResolver,
    pins: HashMap<String, Vec<IpAddr>>,
    /// Forward queries (`--dns-rate`).
    limiter: Option<Pacer>,
    /// PTR queries: their own budget (see [`ResolverOptions::ptr_rate`]).
    ptr_limiter: Option<Pacer>,
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
    pub fn new(opts: ResolverOptions) -> Result<Resolver, ResolverError> {
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
    ) -> Result<Resolver, ResolverError> {
        if opts.timeout.is_zero() {
            return Err(ResolverError::ZeroTimeout);
        }
        let attempts = opts.attempts.max(1);
        hopts.timeout = opts.timeout;
        // hickory's `attempts` counts retries after the first try.
        hopts.attempts = attempts - 1;
        hopts.edns0 = true;
        hopts.cache_size = HICKORY_CACHE_SIZE;
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
        .map_err(|e| ResolverError::Build(e.to_string()))?;

        let mut pins: HashMap<String, Vec<IpAddr>> = HashMap::new();
        for (name, addrs) in opts.pins {
            let entry = pins.entry(normalize_name(&name)).or_default();
            for addr in addrs {
                if !entry.contains(&addr) {
                    entry.push(addr);
                }
            }
        }

        // No burst: a resolver sees an even stream from the first query on.
        let limiter = Pacer::per_second(opts.rate, 1);
        let ptr_limiter = Pacer::per_second(opts.ptr_rate, 1);

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
                ptr_limiter,
                deadline,
                ptr_enabled: opts.ptr,
                names: OnceMap::new(CACHE_CAPACITY),
                ptrs: OnceMap::new(PTR_CACHE_CAPACITY),
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
            limiter.wait().await;
        }
        match tokio::time::timeout(self.deadline, self.hickory.lookup(name, rtype)).await {
            Ok(result) => result,
            Err(_) => Err(NetError::Timeout),
        }
    }

    async fn reverse(&self, ip: IpAddr) -> Option<String> {
        if let Some(limiter) = &self.ptr_limiter {
            limiter.wait().await;
        }
        let lookup = tokio::time::timeout(self.deadline, self.hickory.reverse_lookup(ip))
            .await
            .ok()?
            .ok()?;
        // hickory answers 127/8 and ::1 itself with `localhost` (RFC 6761), never asking the
        // server: that is no machine's name to compare with a certificate or an NTLM name.
        ptr_name(&lookup).filter(|name| !(ip.is_loopback() && name == "localhost"))
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
fn system_config() -> Result<(ResolverConfig, ResolverOpts), ResolverError> {
    resolv_conf(std::path::Path::new("/etc/resolv.conf"))
}

#[cfg(not(unix))]
fn system_config() -> Result<(ResolverConfig, ResolverOpts), ResolverError> {
    hickory_resolver::system_conf::read_system_conf()
        .map_err(|e| ResolverError::PlatformConfig(e.to_string()))
}

#[cfg(unix)]
fn resolv_conf(path: &std::path::Path) -> Result<(ResolverConfig, ResolverOpts), ResolverError> {
    let fail = |why: String| ResolverError::SystemConfig {
        path: path.display().to_string(),
        why,
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

#[cfg(test)]
mod tests;
