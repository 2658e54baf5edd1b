//! The per-address probe plan: TCP, X.224 negotiation matrix, TLS (rustls, then the raw legacy
//! hello), certificate facts, CredSSP/NTLM. Each phase returns its outcome; a failing host is
//! data, never an error. Connections are counted, spaced per address, and rate-limited globally.
//!
//! Plan (fewest connections; each reconnect is an event-log line on the server):
//! 1. CR 0x0B (SSL|HYBRID|HYBRID_EX). If SSL/HYBRID selected: TLS, certificate; if HYBRID: one
//!    TSRequest with an NTLM NEGOTIATE, read the CHALLENGE, close. Never credentials.
//! 2. standard: strip the accepted bit and retry (HYBRID_EX implies HYBRID), then one CR 0 unless a
//!    failure code already proved standard RDP security is refused. At most 3 X.224
//!    requests (connections); the TLS fallback's own connections (legacy hello, OpenSSL) are extra.
//! 3. deep: MCS Connect-Initial for the standard-RDP encryption level/method and server version,
//!    and single-version TLS hellos (1.0-1.3).

pub mod credssp;
pub mod io;
pub mod negotiate;
pub mod tcp;
pub mod tls;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant as StdInstant};

use governor::{DefaultDirectRateLimiter, Jitter, Quota};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::cert::TrustStore;
use crate::cli::Depth;
use crate::config::ScanConfig;
use crate::diagnose::Policy;
use crate::model::{
    DnsOutcome, DnsStatus, HostReport, NegResult, ProbeRecord, RdpOutcome, TcpOutcome, TcpStatus,
    TlsStatus,
};
use crate::resolve::Resolver;
use crate::target::{Host, Target};
use crate::tls::danger::TlsConfigs;

/// Addresses of one name probed at once (each is one socket outside the --concurrency permits).
const MAX_ADDRESSES_IN_FLIGHT: usize = 8;

/// Everything shared by all probes of one scan; built once (TLS configs and trust store are
/// expensive and must never be rebuilt per connection).
pub struct Prober {
    pub depth: Depth,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub host_deadline: Duration,
    pub host_spacing: Duration,
    pub retries: u32,
    pub tls: TlsConfigs,
    pub trust: TrustStore,
    pub resolver: Resolver,
    pub policy: Policy,
    limiter: Option<DefaultDirectRateLimiter>,
    jitter: Jitter,
    /// Set once the scanner warned that it ran out of descriptors or ports (one warning a scan).
    exhaustion_warned: AtomicBool,
}

impl Prober {
    pub fn new(cfg: &ScanConfig, resolver: Resolver, trust: TrustStore) -> Prober {
        let limiter = new_limiter(cfg.rate);
        // Jitter spreads connection starts a little so hosts of one subnet are not hit in lockstep.
        let jitter_ms = if cfg.rate == 0 {
            0
        } else {
            (1000 / u64::from(cfg.rate.max(1))).min(50)
        };
        Prober {
            depth: cfg.depth,
            connect_timeout: cfg.connect_timeout,
            timeout: cfg.timeout,
            host_deadline: cfg.host_deadline,
            host_spacing: cfg.host_spacing,
            retries: cfg.retries,
            tls: TlsConfigs::new(),
            trust,
            resolver,
            policy: Policy {
                expiry_warn_days: cfg.expiry_warn_days,
                ..Policy::default()
            },
            limiter,
            jitter: Jitter::up_to(Duration::from_millis(jitter_ms)),
            exhaustion_warned: AtomicBool::new(false),
        }
    }

    /// Wait for the global new-connection quota.
    pub async fn rate_wait(&self) {
        if let Some(l) = &self.limiter {
            l.until_ready_with_jitter(self.jitter).await;
        }
    }

    /// One warning per scan when the scanner runs out of its own descriptors or ports.
    fn warn_exhaustion(&self, e: &std::io::Error) {
        if !self.exhaustion_warned.swap(true, Ordering::Relaxed) {
            let (_, what) = tcp::classify(e);
            eprintln!(
                "rdpsweep: warning: the scanner ran out of its own resources ({what}); pausing new connections and retrying (lower --concurrency or --rate, or raise `ulimit -n`)"
            );
        }
    }

    /// Resolve the target, probe every address, diagnose: one report per address (or one
    /// address-less row when DNS failed).
    pub async fn probe_target(self: Arc<Self>, target: Target) -> Vec<HostReport> {
        let started = now_rfc3339();
        let t0 = StdInstant::now();
        let dns = match &target.host {
            Host::Ip(ip) => DnsOutcome {
                addresses: vec![*ip],
                ..DnsOutcome::status(DnsStatus::Literal)
            },
            Host::Name(name) => self.resolver.lookup(name).await,
        };
        if !dns.status.resolved() || dns.addresses.is_empty() {
            let rec = empty_record(&target, dns, started, t0);
            return vec![self.finish(rec)];
        }
        if let [ip] = dns.addresses.as_slice() {
            // One address (every IP target, most names): no join_all, whose boxed slice of
            // probe futures (kilobytes each) is allocated and copied per host.
            let ip = *ip;
            // Boxed: the probe's state machine is kilobytes, and the host task (moved into the
            // runtime at spawn) then carries a pointer instead.
            let rec = Box::pin(self.probe_address(&target, dns, ip)).await;
            return vec![self.finish(rec)];
        }
        let addrs = dns.addresses.clone();
        let futs = addrs.into_iter().map(|ip| {
            let me = self.clone();
            let target = target.clone();
            let dns = dns.clone();
            async move { me.probe_address(&target, dns, ip).await }
        });
        // A name with many addresses must not escape --concurrency: at most 8 probes at once.
        use futures::StreamExt;
        let records: Vec<ProbeRecord> = futures::stream::iter(futs)
            .buffered(MAX_ADDRESSES_IN_FLIGHT)
            .collect()
            .await;
        records.into_iter().map(|r| self.finish(r)).collect()
    }

    fn finish(&self, rec: ProbeRecord) -> HostReport {
        let now = crate::report::csv::unix_of(&rec.scanned_at);
        crate::diagnose::report(rec, now, &self.policy)
    }

    /// One address, with retries on timeouts; a host whose attempts disagree is flaky.
    async fn probe_address(&self, target: &Target, dns: DnsOutcome, ip: IpAddr) -> ProbeRecord {
        let t0 = StdInstant::now();
        let host_deadline = Instant::now() + self.host_deadline;
        let started = now_rfc3339();
        let addr = SocketAddr::new(ip, target.port);
        let mut rec = self.attempt(target, &dns, addr, host_deadline).await;
        let mut attempts = 1;
        let mut flaky = false;
        while attempts <= self.retries
            && timed_out(&rec)
            && Instant::now() + self.connect_timeout < host_deadline
        {
            tokio::time::sleep(self.host_spacing).await;
            let again = self.attempt(target, &dns, addr, host_deadline).await;
            attempts += 1;
            let connections = rec.connections + again.connections;
            if signature(&again) != signature(&rec) {
                flaky = true;
                // Keep the more informative attempt: the one that got further.
                if !timed_out(&again) {
                    rec = again;
                }
            }
            rec.connections = connections;
        }
        rec.attempts = attempts;
        rec.flaky = flaky;
        rec.scanned_at = started;
        rec.duration_ms = ms_since(t0);
        if Instant::now() >= host_deadline {
            rec.deadline_hit = true;
        }
        self.fill_ptr_and_name_match(target, &mut rec, ip).await;
        rec
    }

    async fn attempt(
        &self,
        target: &Target,
        dns: &DnsOutcome,
        addr: SocketAddr,
        host_deadline: Instant,
    ) -> ProbeRecord {
        let mut rec = empty_record(target, dns.clone(), String::new(), StdInstant::now());
        rec.address = Some(addr.ip());
        let mut ctx = HostCtx {
            prober: self,
            addr,
            host_deadline,
            connections: 0,
            last_connect: None,
        };
        let (stream, tcp) = ctx.connect().await;
        let reset_after_accept = stream.is_none() && tcp.status == TcpStatus::Open;
        rec.tcp = Some(tcp);
        if let Some(stream) = stream {
            negotiate::run_plan(&mut ctx, stream, &mut rec).await;
        } else if reset_after_accept {
            // The server reset before our CR could be sent: the same fact as a reset at the CR.
            rec.rdp = Some(RdpOutcome {
                attempts: vec![crate::model::NegAttempt {
                    requested: negotiate::FIRST_REQUEST,
                    result: NegResult::Reset,
                }],
                ..RdpOutcome::default()
            });
        }
        rec.connections = ctx.connections;
        rec
    }

    /// Certificate name check: inventory name, or (for IP targets) IP SANs then the PTR name.
    async fn fill_ptr_and_name_match(&self, target: &Target, rec: &mut ProbeRecord, ip: IpAddr) {
        let Some(cert) = rec.cert.as_mut() else {
            return;
        };
        if cert.parse_error.is_some() && cert.not_after_unix == 0 {
            return;
        }
        match &target.host {
            Host::Name(name) => {
                cert.name_match = Some(crate::cert::name_matches(cert, name));
                cert.checked_name = Some(name.clone());
            }
            Host::Ip(_) => {
                if crate::cert::ip_matches(cert, ip) {
                    cert.name_match = Some(true);
                    cert.checked_name = Some(ip.to_string());
                    return;
                }
                // PTR only when it can change the answer: it costs a DNS query per host.
                if let Some(ptr) = self.resolver.ptr(ip).await {
                    cert.name_match = Some(crate::cert::name_matches(cert, &ptr));
                    cert.checked_name = Some(ptr.clone());
                    rec.dns.ptr = Some(ptr);
                }
            }
        }
    }
}

pub fn new_limiter(rate: u32) -> Option<DefaultDirectRateLimiter> {
    let per_sec = std::num::NonZeroU32::new(rate)?;
    // A burst of 10 ms worth keeps high rates smooth on a 1 ms timer without an initial flood.
    let burst = std::num::NonZeroU32::new((rate / 100).max(1)).unwrap_or(std::num::NonZeroU32::MIN);
    Some(governor::RateLimiter::direct(
        Quota::per_second(per_sec).allow_burst(burst),
    ))
}

/// Per-address state for one attempt: connection count and spacing between reconnects.
pub struct HostCtx<'a> {
    pub prober: &'a Prober,
    pub addr: SocketAddr,
    pub host_deadline: Instant,
    pub connections: u32,
    last_connect: Option<Instant>,
}

impl HostCtx<'_> {
    pub fn phase_deadline(&self) -> Instant {
        io::phase_deadline(self.prober.timeout, self.host_deadline)
    }

    /// A new TCP connection to this address: spaced from the previous one, rate-limited.
    /// When the scanner itself is out of file descriptors or local ports (EMFILE, ENFILE,
    /// EADDRNOTAVAIL, ENOBUFS), no packet left: pause with backoff and try again until the host
    /// deadline, so the scanner's own limits never become a host's `tcp-error`.
    pub async fn connect(&mut self) -> (Option<TcpStream>, TcpOutcome) {
        if let Some(last) = self.last_connect {
            let next = last + self.prober.host_spacing;
            if next >= self.host_deadline {
                return (
                    None,
                    TcpOutcome {
                        status: TcpStatus::Error,
                        rtt_ms: None,
                        error: Some("host deadline".into()),
                    },
                );
            }
            tokio::time::sleep_until(next).await;
        }
        let mut pause = EXHAUSTION_PAUSE;
        loop {
            self.prober.rate_wait().await;
            self.last_connect = Some(Instant::now());
            let deadline = (Instant::now() + self.prober.connect_timeout).min(self.host_deadline);
            match tcp::attempt(self.addr, deadline).await {
                tcp::Attempt::Open(s, o) => {
                    self.connections += 1;
                    return (Some(s), o);
                }
                tcp::Attempt::ResetAfterAccept(o) | tcp::Attempt::Failed(o) => {
                    self.connections += 1;
                    return (None, o);
                }
                tcp::Attempt::Exhausted(e) => {
                    self.prober.warn_exhaustion(&e);
                    // Jitter keeps the waiting hosts from retrying in lockstep.
                    let wait = pause + Duration::from_millis(rand::random::<u64>() % 50);
                    if Instant::now() + wait >= self.host_deadline {
                        let (status, detail) = tcp::classify(&e);
                        return (
                            None,
                            TcpOutcome {
                                status,
                                rtt_ms: None,
                                error: Some(detail),
                            },
                        );
                    }
                    tokio::time::sleep(wait).await;
                    pause = (pause * 2).min(EXHAUSTION_PAUSE_MAX);
                }
            }
        }
    }
}

/// First and longest pause before retrying a connection the scanner could not open itself.
const EXHAUSTION_PAUSE: Duration = Duration::from_millis(50);
const EXHAUSTION_PAUSE_MAX: Duration = Duration::from_secs(1);

/// Attempts that ended in a timeout are retried (`--retries`).
fn timed_out(r: &ProbeRecord) -> bool {
    if r.tcp
        .as_ref()
        .is_some_and(|t| t.status == TcpStatus::Filtered)
    {
        return true;
    }
    if let Some(rdp) = &r.rdp
        && rdp
            .attempts
            .first()
            .is_some_and(|a| a.result == NegResult::NoReply)
    {
        return true;
    }
    r.tls
        .as_ref()
        .is_some_and(|t| t.status == TlsStatus::Stalled)
}

/// What two attempts are compared on for `flaky`.
fn signature(r: &ProbeRecord) -> (Option<TcpStatus>, Option<NegResult>, Option<TlsStatus>) {
    (
        r.tcp.as_ref().map(|t| t.status),
        r.rdp
            .as_ref()
            .and_then(|x| x.attempts.first())
            .map(|a| a.result.clone()),
        r.tls.as_ref().map(|t| t.status),
    )
}

fn empty_record(target: &Target, dns: DnsOutcome, started: String, t0: StdInstant) -> ProbeRecord {
    ProbeRecord {
        duration_ms: ms_since(t0),
        ..ProbeRecord::new(target.info.clone(), dns, started)
    }
}

pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    // Second precision: enough for a scan log, and stable in spreadsheets.
    now.replace_nanosecond(0)
        .unwrap_or(now)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Helper for phases: mark the RDP outcome's accepted layer once.
pub fn add_accepted(rdp: &mut RdpOutcome, name: &str) {
    if !rdp.accepted.iter().any(|a| a == name) {
        rdp.accepted.push(name.to_string());
    }
}

/// Milliseconds since `t0`, to the microsecond: shorter JSON, and it reads back identically.
pub fn ms_since(t0: StdInstant) -> f64 {
    (t0.elapsed().as_secs_f64() * 1_000_000.0).round() / 1000.0
}
