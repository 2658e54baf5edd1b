//! UDP phase: after TCP RDP worked, can clients also use the RDP-UDP transport? One MS-RDPEUDP
//! SYN (docs/protocol.md §12) to the RDP port over UDP, from a connected socket, and a wait for
//! the SYN+ACK ([`wait_for`]: eight TCP round trips, 0.5 s at least, the connect timeout at
//! most, within the phase and host deadlines), run beside the TCP phases that follow TLS. The
//! datagram is not a TCP connection (not in the connection budget) but takes a token of the
//! scan's rate limit like every packet that opens something. A connected UDP socket gets the
//! ICMP port unreachable as ECONNREFUSED on its next receive: that is `refused`.

use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::time::Instant;

use super::host::HostCtx;
use super::tcp;
use crate::model::{UdpOutcome, UdpStatus};
use crate::rdp::rdpeudp::{self, MAX_READ, Syn};

/// Datagrams read before giving up on a peer that sends only things that are not our
/// SYN+ACK (the deadline bounds it too).
const MAX_DATAGRAMS: usize = 8;
/// The receive window the SYN announces (datagrams; Windows clients announce 64).
const RECEIVE_WINDOW: u16 = 64;

/// The shortest wait for the SYN+ACK: a server answers from TermService in user mode, so a
/// busy one may take a few hundred milliseconds beyond the round trip.
const MIN_WAIT: Duration = Duration::from_millis(500);
/// The wait in round trips of the TCP connect (the path's own RTT, measured a moment ago).
const WAIT_RTTS: u32 = 8;

/// How long to wait for the SYN+ACK: `WAIT_RTTS` TCP round trips, at least `MIN_WAIT`, at most
/// the connect timeout. Most fleets block UDP somewhere, and a silent port costs the whole wait,
/// so it follows the path instead of always taking the connect timeout.
pub fn wait_for(tcp_rtt_ms: Option<f64>, connect_timeout: Duration) -> Duration {
    let rtt = tcp_rtt_ms
        .filter(|v| v.is_finite() && *v > 0.0)
        .map_or(Duration::ZERO, |v| Duration::from_secs_f64(v / 1000.0));
    (rtt * WAIT_RTTS).max(MIN_WAIT).min(connect_timeout)
}

/// The probe for `ctx`'s address as a future that does not borrow `ctx`, so the plan runs it
/// beside the remaining TCP phases (its wait overlaps theirs); `None` when `--udp` is off or no
/// time is left.
pub fn start<'a>(
    ctx: &HostCtx<'a>,
    tcp_rtt_ms: Option<f64>,
) -> Option<impl std::future::Future<Output = UdpOutcome> + 'a> {
    if !ctx.prober.opts.udp || ctx.out_of_time() {
        return None;
    }
    let prober = ctx.prober;
    let addr = ctx.addr;
    let phase_deadline = ctx.phase_deadline();
    let wait = wait_for(tcp_rtt_ms, prober.opts.connect_timeout);
    Some(async move {
        prober.rate_wait().await;
        let deadline = phase_deadline.min(Instant::now() + wait);
        probe(addr, deadline).await
    })
}

/// One SYN to `addr` over UDP and the wait for its SYN+ACK until `deadline`.
pub async fn probe(addr: std::net::SocketAddr, deadline: Instant) -> UdpOutcome {
    let outcome = |status, detail: Option<String>| UdpOutcome {
        status,
        rtt_ms: None,
        version: None,
        mtu: None,
        detail,
    };
    let local: std::net::SocketAddr = if addr.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let sock = match UdpSocket::bind(local).await {
        Ok(s) => s,
        Err(e) => return outcome(UdpStatus::Error, Some(tcp::classify(&e).1)),
    };
    if let Err(e) = sock.connect(addr).await {
        return io_outcome(&e, None);
    }
    let isn: u32 = rand::random();
    let syn = rdpeudp::syn_datagram(&Syn {
        isn,
        receive_window: RECEIVE_WINDOW,
        mtu: rdpeudp::MAX_MTU,
        version: Some(rdpeudp::VERSION_2),
    });
    let sent = Instant::now();
    match tokio::time::timeout_at(deadline, sock.send(&syn)).await {
        Err(_) => return outcome(UdpStatus::NoAnswer, None),
        Ok(Err(e)) => return io_outcome(&e, None),
        Ok(Ok(_)) => {}
    }
    let mut buf = vec![0u8; MAX_READ];
    let mut bad = None;
    for _ in 0..MAX_DATAGRAMS {
        let n = match tokio::time::timeout_at(deadline, sock.recv(&mut buf)).await {
            Err(_) => break,
            Ok(Err(e)) => return io_outcome(&e, Some(ms(sent.elapsed()))),
            Ok(Ok(n)) => n,
        };
        match rdpeudp::parse_syn_ack(buf.get(..n).unwrap_or_default(), isn) {
            Ok(s) => {
                return UdpOutcome {
                    status: UdpStatus::Open,
                    rtt_ms: Some(ms(sent.elapsed())),
                    version: s.version,
                    mtu: Some(s.up_mtu.min(s.down_mtu)),
                    detail: None,
                };
            }
            // Keep listening: the SYN+ACK may still come; remember the first stray's reason.
            Err(e) => {
                bad.get_or_insert(e.to_string());
            }
        }
    }
    match bad {
        Some(why) => outcome(UdpStatus::NotRdpUdp, Some(why)),
        None => outcome(UdpStatus::NoAnswer, None),
    }
}

/// A socket error: an ICMP error reported on the connected socket, or the scanner's own.
fn io_outcome(e: &std::io::Error, rtt_ms: Option<f64>) -> UdpOutcome {
    let (tcp_status, detail) = tcp::classify(e);
    let status = match tcp_status {
        crate::model::TcpStatus::Refused | crate::model::TcpStatus::Unreachable => {
            UdpStatus::Refused
        }
        _ => UdpStatus::Error,
    };
    UdpOutcome {
        status,
        rtt_ms: rtt_ms.filter(|_| status == UdpStatus::Refused),
        version: None,
        mtu: None,
        detail: Some(detail),
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdp::rdpeudp::{parse_syn, syn_ack_datagram};

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(2)
    }

    /// A loopback UDP socket answering each datagram with `answer(datagram)`.
    async fn responder(answer: fn(&[u8]) -> Vec<Vec<u8>>) -> std::net::SocketAddr {
        let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = s.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            while let Ok((n, from)) = s.recv_from(&mut buf).await {
                for d in answer(&buf[..n]) {
                    let _ = s.send_to(&d, from).await;
                }
            }
        });
        addr
    }

    #[test]
    fn the_wait_follows_the_path() {
        let ct = Duration::from_secs(3);
        // No RTT known, or a LAN: the floor.
        assert_eq!(wait_for(None, ct), MIN_WAIT);
        assert_eq!(wait_for(Some(0.4), ct), MIN_WAIT);
        assert_eq!(wait_for(Some(f64::NAN), ct), MIN_WAIT);
        // A VPN path: eight round trips.
        assert_eq!(wait_for(Some(150.0), ct), Duration::from_millis(1200));
        // Never past the connect timeout, even below the floor.
        assert_eq!(wait_for(Some(900.0), ct), ct);
        assert_eq!(
            wait_for(None, Duration::from_millis(200)),
            Duration::from_millis(200)
        );
    }

    #[tokio::test]
    async fn open_refused_silent_and_stray() {
        // A spec server: the SYN+ACK for the SYN it got.
        let addr = responder(|d| {
            let syn = parse_syn(d).unwrap();
            assert_eq!(d.len(), 1232, "the SYN is padded to 1232 bytes");
            vec![syn_ack_datagram(&syn, 7, 32, 2)]
        })
        .await;
        let o = probe(addr, soon()).await;
        assert_eq!(o.status, UdpStatus::Open, "{o:?}");
        assert_eq!((o.version, o.mtu), (Some(2), Some(1232)));
        assert!(o.rtt_ms.is_some());

        // Nothing bound: loopback answers ICMP port unreachable.
        let closed = std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let o = probe(closed, soon()).await;
        assert_eq!(o.status, UdpStatus::Refused, "{o:?}");
        assert_eq!(o.detail.as_deref(), Some("ECONNREFUSED"));

        // Bound but silent: no answer by the deadline.
        let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let o = probe(
            silent.local_addr().unwrap(),
            Instant::now() + Duration::from_millis(200),
        )
        .await;
        assert_eq!(o.status, UdpStatus::NoAnswer, "{o:?}");

        // Strays first (our SYN echoed, a short datagram), then the real SYN+ACK: open.
        let addr = responder(|d| {
            let syn = parse_syn(d).unwrap();
            vec![d.to_vec(), vec![1, 2, 3], syn_ack_datagram(&syn, 9, 64, 1)]
        })
        .await;
        assert_eq!(probe(addr, soon()).await.status, UdpStatus::Open);

        // Only strays, one of them a SYN+ACK for another ISN: not RDP-UDP, with the reason.
        let addr = responder(|d| {
            let mut syn = parse_syn(d).unwrap();
            syn.isn = syn.isn.wrapping_add(1);
            vec![vec![0x00; 5000], syn_ack_datagram(&syn, 9, 64, 1)]
        })
        .await;
        let o = probe(addr, Instant::now() + Duration::from_millis(300)).await;
        assert_eq!(o.status, UdpStatus::NotRdpUdp, "{o:?}");
        assert!(
            o.detail.as_deref().unwrap_or("").contains("not SYN|ACK"),
            "{o:?}"
        );
    }
}
