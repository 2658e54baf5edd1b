//! Alive phase: when the RDP port gave no answer at all, is the host down or is the port
//! filtered? One SYN to each of a few ports a Windows host answers (`--alive-ports`, default
//! 445 and 135), all at once, within the phase deadline. A SYN-ACK or a RST from any of them
//! proves the host is up (so the RDP port is filtered); silence everywhere (or ICMP "host
//! unreachable") means the host is down. Each SYN takes a token from the scan's rate limit.

use futures::future::join_all;
use tokio::time::Instant;

use super::host::HostCtx;
use crate::model::{AliveAnswer, AliveOutcome};

/// The companion SYNs for `ctx`'s address; `None` when there are no ports to try, no time, or
/// this is a retry (`--retries`: the first attempt's SYNs already answered the question).
pub async fn alive_phase(ctx: &mut HostCtx<'_>) -> Option<AliveOutcome> {
    let ports = &ctx.prober.opts.alive_ports;
    if ports.is_empty() || !ctx.companions || ctx.out_of_time() {
        return None;
    }
    // A live host answers a SYN within a round trip: the connect timeout is ample, and the
    // phase deadline (which the host deadline bounds) is the hard limit.
    let deadline = ctx
        .phase_deadline()
        .min(Instant::now() + ctx.prober.opts.connect_timeout);
    let probes = {
        let shared: &HostCtx<'_> = ctx;
        join_all(ports.iter().map(|&p| shared.companion_syn(p, deadline))).await
    };
    // Every SYN that left counts as a connection to this address.
    let sent = probes
        .iter()
        .filter(|p| p.answer != AliveAnswer::Error)
        .count();
    ctx.connections += u32::try_from(sent).unwrap_or(u32::MAX);
    Some(AliveOutcome { probes })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::cert::TrustStore;
    use crate::model::Liveness;
    use crate::probe::{Depth, ProbeOptions, Prober};
    use crate::resolve::{Resolver, ResolverOptions};

    fn prober(ports: Vec<u16>, rate: u32) -> Prober {
        let opts = ProbeOptions {
            depth: Depth::Quick,
            connect_timeout: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            host_deadline: Duration::from_secs(5),
            host_spacing: Duration::ZERO,
            retries: 0,
            rate,
            alive_ports: ports,
            check_revocation: false,
            udp: false,
        };
        // Never queried: the phase connects to an address, it resolves nothing.
        let resolver = Resolver::new(ResolverOptions {
            servers: vec!["127.0.0.1:9".parse().unwrap()],
            pins: vec![],
            timeout: Duration::from_secs(1),
            attempts: 1,
            rate: 0,
            ptr_rate: 0,
            ptr: false,
        })
        .unwrap();
        Prober::new(opts, resolver, TrustStore::empty())
    }

    /// A listening port answers SYN-ACK, a closed one RST; both prove the host up, both are
    /// counted, and each took a token of the scan's rate limit (5/s: the second waits ~200 ms).
    #[tokio::test]
    async fn companions_on_loopback() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let open = listener.local_addr().unwrap().port();
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let p = prober(vec![closed, open], 5);
        let addr = "127.0.0.1:3389".parse().unwrap();
        let mut ctx = HostCtx::new(&p, addr, Instant::now() + Duration::from_secs(5));
        ctx.connections = 1;
        let t0 = Instant::now();
        let a = alive_phase(&mut ctx).await.expect("probed");
        let took = t0.elapsed();
        let answers: Vec<(u16, AliveAnswer)> =
            a.probes.iter().map(|p| (p.port, p.answer)).collect();
        assert_eq!(
            answers,
            [(closed, AliveAnswer::Rst), (open, AliveAnswer::SynAck)]
        );
        assert!(matches!(a.liveness(), Liveness::Up(p) if p.port == closed));
        assert_eq!(ctx.connections, 3);
        assert!(
            took >= Duration::from_millis(150),
            "rate limit skipped: {took:?}"
        );
    }

    #[tokio::test]
    async fn nothing_to_try_or_no_time() {
        let p = prober(vec![], 0);
        let addr = "127.0.0.1:3389".parse().unwrap();
        let mut ctx = HostCtx::new(&p, addr, Instant::now() + Duration::from_secs(5));
        assert_eq!(alive_phase(&mut ctx).await, None);
        let p = prober(vec![445], 0);
        let mut ctx = HostCtx::new(&p, addr, Instant::now());
        assert_eq!(alive_phase(&mut ctx).await, None);
        // A retry sends none: the first attempt's evidence stands.
        let mut ctx = HostCtx::new(&p, addr, Instant::now() + Duration::from_secs(5));
        ctx.companions = false;
        assert_eq!(alive_phase(&mut ctx).await, None);
        assert_eq!(ctx.connections, 0);
    }
}
