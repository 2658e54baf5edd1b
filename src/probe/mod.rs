//! The probe: for each address, the phases of [`plan`] (TCP, X.224 negotiation matrix, TLS
//! with the raw legacy hello for servers rustls cannot talk to, certificate facts, CredSSP/NTLM,
//! deep MCS and TLS-version probes), with retries. Each phase returns its outcome; a failing
//! host is data, never an error. Connections are counted, spaced per address, and rate-limited
//! globally. The probe records facts only: the pipeline diagnoses them.

pub mod alive;
pub mod cert;
pub mod credssp;
pub mod errqueue;
pub mod host;
pub mod io;
pub mod mcs;
pub mod negotiate;
pub mod netinfo;
pub mod options;
pub mod plan;
pub mod profile_hello;
pub mod revocation;
pub mod suites;
pub mod tcp;
pub mod tls;
pub mod udp;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant as StdInstant;

use tokio::time::Instant;

pub use host::HostCtx;
pub use options::{Depth, ProbeOptions};

use crate::cert::TrustStore;
use crate::clock::{Timestamp, ms_since};
use crate::model::{DnsOutcome, DnsStatus, NegResult, ProbeRecord, TcpStatus, TlsStatus};
use crate::pace::Pacer;
use crate::resolve::Resolver;
use crate::target::{Host, Target};
use crate::tls::danger::TlsConfigs;

/// Addresses of one name probed at once (each is one socket outside the --concurrency permits).
const MAX_ADDRESSES_IN_FLIGHT: usize = 8;

/// Everything shared by all probes of one scan; built once (TLS configs and trust store are
/// expensive and must never be rebuilt per connection).
pub struct Prober {
    pub opts: ProbeOptions,
    pub tls: TlsConfigs,
    pub trust: TrustStore,
    pub resolver: Resolver,
    /// `--check-revocation`: the scan's OCSP/CRL answers, shared by every host.
    pub revocation: Option<revocation::RevocationCache>,
    limiter: Option<Pacer>,
    /// Set once the scanner warned that it ran out of descriptors or ports (one warning a scan).
    exhaustion_warned: AtomicBool,
}

impl Prober {
    pub fn new(opts: ProbeOptions, resolver: Resolver, trust: TrustStore) -> Prober {
        let limiter = new_limiter(opts.rate);
        Prober {
            revocation: opts.check_revocation.then(revocation::RevocationCache::new),
            opts,
            tls: TlsConfigs::new(),
            trust,
            resolver,
            limiter,
            exhaustion_warned: AtomicBool::new(false),
        }
    }

    /// Wait for the global new-connection quota (a reserved slot: no CPU while waiting).
    pub async fn rate_wait(&self) {
        if let Some(l) = &self.limiter {
            l.wait().await;
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

    /// Resolve the target and probe every address: one record per address (or one
    /// address-less record when DNS failed).
    pub async fn probe_target(self: Arc<Self>, target: Target) -> Vec<ProbeRecord> {
        let started = Timestamp::now();
        let t0 = StdInstant::now();
        let dns = match &target.host {
            Host::Ip(ip) => DnsOutcome {
                addresses: vec![*ip],
                ..DnsOutcome::status(DnsStatus::Literal)
            },
            Host::Name(name) => self.resolver.lookup(name).await,
        };
        if !dns.status.resolved() || dns.addresses.is_empty() {
            return vec![empty_record(&target, dns, started, t0)];
        }
        if let [ip] = dns.addresses.as_slice() {
            // One address (every IP target, most names): no join_all, whose boxed slice of
            // probe futures (kilobytes each) is allocated and copied per host.
            let ip = *ip;
            // Boxed: the probe's state machine is kilobytes, and the host task (moved into the
            // runtime at spawn) then carries a pointer instead.
            return vec![Box::pin(self.probe_address(&target, dns, ip)).await];
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
        futures::stream::iter(futs)
            .buffered(MAX_ADDRESSES_IN_FLIGHT)
            .collect()
            .await
    }

    /// One address, with retries on timeouts; a host whose attempts disagree is flaky.
    async fn probe_address(&self, target: &Target, dns: DnsOutcome, ip: IpAddr) -> ProbeRecord {
        let t0 = StdInstant::now();
        let host_deadline = Instant::now() + self.opts.host_deadline;
        let started = Timestamp::now();
        let addr = SocketAddr::new(ip, target.port);
        let mut rec = self.attempt(target, &dns, addr, host_deadline, true).await;
        let mut attempts = 1;
        let mut flaky = false;
        while attempts <= self.opts.retries
            && timed_out(&rec)
            && Instant::now() + self.opts.connect_timeout < host_deadline
        {
            tokio::time::sleep(self.opts.host_spacing).await;
            // No companion SYNs again: the first attempt's evidence stands (the budget).
            let again = self.attempt(target, &dns, addr, host_deadline, false).await;
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
        rec.scanned_at = started.to_rfc3339();
        rec.duration_ms = ms_since(t0);
        if Instant::now() >= host_deadline {
            rec.deadline_hit = true;
        }
        if let Some(c) = rec.cert.as_mut() {
            cert::check_name(&self.resolver, &target.host, ip, c, &mut rec.dns).await;
        }
        // An IP target whose server names itself: its PTR name is compared with that name
        // (stale reverse DNS). The same cached lookup as the certificate check's, not a second.
        if matches!(target.host, Host::Ip(_)) && rec.dns.ptr.is_none() && announces_name(&rec) {
            rec.dns.ptr = self.resolver.ptr(ip).await;
        }
        rec
    }

    async fn attempt(
        &self,
        target: &Target,
        dns: &DnsOutcome,
        addr: SocketAddr,
        host_deadline: Instant,
        companions: bool,
    ) -> ProbeRecord {
        let mut rec = ProbeRecord::new(target.info.clone(), dns.clone(), String::new());
        rec.address = Some(addr.ip());
        let mut ctx = HostCtx::new(self, addr, host_deadline);
        ctx.companions = companions;
        plan::run(&mut ctx, &mut rec).await;
        rec.connections = ctx.connections;
        rec
    }
}

/// The `--rate` limiter: `rate` new connections per second, `None` for 0 (unlimited).
pub fn new_limiter(rate: u32) -> Option<Pacer> {
    // A burst of 10 ms worth keeps high rates smooth on a 1 ms timer without an initial flood.
    // No jitter: every connection has its own reserved slot, so hosts are never started in
    // lockstep, and a random delay after the slot could only push more connections into one
    // window than the rate and burst allow.
    Pacer::per_second(rate, (rate / 100).max(1))
}

/// Whether the server announced its computer name (NTLM CHALLENGE).
fn announces_name(r: &ProbeRecord) -> bool {
    r.credssp
        .as_ref()
        .and_then(|c| c.ntlm.as_ref())
        .is_some_and(|n| n.nb_computer.is_some() || n.dns_computer.is_some())
}

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

fn empty_record(
    target: &Target,
    dns: DnsOutcome,
    started: Timestamp,
    t0: StdInstant,
) -> ProbeRecord {
    ProbeRecord {
        duration_ms: ms_since(t0),
        ..ProbeRecord::new(target.info.clone(), dns, started.to_rfc3339())
    }
}
