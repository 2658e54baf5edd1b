//! What every phase shares for one address: new connections (counted, spaced, rate-limited),
//! the phase deadline, and the X.224 request/confirm exchange that opens every RDP connection.
//! Phases reconnect through [`HostCtx::reconnect`], never through each other.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::io::{ReadEnd, read_parsed};
use super::netinfo::{self, NetSlot};
use super::{Prober, tcp};
use crate::model::{AliveAnswer, AliveProbe, NegResult, TcpOutcome, TcpStatus};
use crate::rdp::x224::{self, Confirm, NotRdpHint, Protocols};

/// SSL|HYBRID|HYBRID_EX: never more (xrdp rejects requests above 0x0B).
pub const FIRST_REQUEST: u32 =
    Protocols::SSL.bits() | Protocols::HYBRID.bits() | Protocols::HYBRID_EX.bits();

/// First and longest pause before retrying a connection the scanner could not open itself.
const EXHAUSTION_PAUSE: Duration = Duration::from_millis(50);
const EXHAUSTION_PAUSE_MAX: Duration = Duration::from_secs(1);

/// Per-address state for one attempt: connection count and spacing between reconnects.
pub struct HostCtx<'a> {
    pub prober: &'a Prober,
    pub addr: SocketAddr,
    pub host_deadline: Instant,
    pub connections: u32,
    /// Whether the alive phase may send its companion SYNs (the first attempt only).
    pub companions: bool,
    /// The MSS every new connection's SYN advertises, once the blackhole retry found that a
    /// clamped one gets through (`None`: the kernel's own).
    pub mss: Option<u32>,
    /// Connections a phase other than the matrix spent out of the standard-depth budget of
    /// three (the MSS retry): the matrix makes that many fewer.
    pub budget_spent: u32,
    /// `TCP_INFO` of the connections made, recorded as each is done with.
    pub net: NetSlot,
    last_connect: Option<Instant>,
}

impl<'a> HostCtx<'a> {
    pub fn new(prober: &'a Prober, addr: SocketAddr, host_deadline: Instant) -> HostCtx<'a> {
        HostCtx {
            prober,
            addr,
            host_deadline,
            connections: 0,
            companions: true,
            mss: None,
            budget_spent: 0,
            net: NetSlot::default(),
            last_connect: None,
        }
    }
}

impl HostCtx<'_> {
    pub fn phase_deadline(&self) -> Instant {
        super::io::phase_deadline(self.prober.opts.timeout, self.host_deadline)
    }

    /// Whether the address's whole budget is spent (phases stop adding connections then).
    pub fn out_of_time(&self) -> bool {
        Instant::now() >= self.host_deadline
    }

    /// A new TCP connection to this address: spaced from the previous one, rate-limited.
    /// When the scanner itself is out of file descriptors or local ports (EMFILE, ENFILE,
    /// EADDRNOTAVAIL, ENOBUFS), no packet left: pause with backoff and try again until the host
    /// deadline, so the scanner's own limits never become a host's `tcp-error`.
    pub async fn connect(&mut self) -> (Option<TcpStream>, TcpOutcome) {
        if let Some(last) = self.last_connect {
            let next = last + self.prober.opts.host_spacing;
            if next >= self.host_deadline {
                return (
                    None,
                    TcpOutcome {
                        error: Some("host deadline".into()),
                        ..TcpOutcome::status(TcpStatus::Error)
                    },
                );
            }
            tokio::time::sleep_until(next).await;
        }
        let mut pause = EXHAUSTION_PAUSE;
        loop {
            self.prober.rate_wait().await;
            self.last_connect = Some(Instant::now());
            let deadline =
                (Instant::now() + self.prober.opts.connect_timeout).min(self.host_deadline);
            match tcp::attempt_with(self.addr, deadline, self.mss).await {
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
                                error: Some(detail),
                                ..TcpOutcome::status(status)
                            },
                        );
                    }
                    tokio::time::sleep(wait).await;
                    pause = (pause * 2).min(EXHAUSTION_PAUSE_MAX);
                }
            }
        }
    }

    /// One SYN to another port of this address (the alive phase): rate-limited like every
    /// connection, not spaced (the RDP port's connection limits are not involved), never
    /// retried. A completed handshake is closed at once (abortive close, as everywhere).
    pub async fn companion_syn(&self, port: u16, deadline: Instant) -> AliveProbe {
        let probe = |answer, icmp| AliveProbe { port, answer, icmp };
        self.prober.rate_wait().await;
        if Instant::now() >= deadline {
            return probe(AliveAnswer::Error, None);
        }
        let addr = SocketAddr::new(self.addr.ip(), port);
        match tcp::attempt(addr, deadline).await {
            tcp::Attempt::Open(..) | tcp::Attempt::ResetAfterAccept(_) => {
                probe(AliveAnswer::SynAck, None)
            }
            tcp::Attempt::Failed(o) => match (o.status, o.icmp) {
                (TcpStatus::Refused, _) => probe(AliveAnswer::Rst, None),
                (TcpStatus::Filtered, _) => probe(AliveAnswer::Silent, None),
                (_, Some(i)) => probe(AliveAnswer::Icmp, Some(i)),
                _ => probe(AliveAnswer::Error, None),
            },
            tcp::Attempt::Exhausted(_) => probe(AliveAnswer::Error, None),
        }
    }

    /// A fresh connection and one CR for `requested`: the CC's result, and the stream when the
    /// exchange happened (open, positioned after the CC, for TLS or MCS on it). Its `TCP_INFO`
    /// is read after the exchange: most callers (the matrix) close it right there.
    pub async fn reconnect(&mut self, requested: u32) -> (NegResult, Option<TcpStream>) {
        let (stream, tcp) = self.connect().await;
        match stream {
            Some(mut s) => {
                let r = self.exchange(&mut s, requested).await;
                self.net.record(netinfo::stream_info(&s), false);
                (r, Some(s))
            }
            // Open without a stream: the server reset right after the handshake.
            None if tcp.status == TcpStatus::Open && tcp.rtt_ms.is_some() => {
                (NegResult::Reset, None)
            }
            None => (
                NegResult::ConnectFailed {
                    status: if tcp.status == TcpStatus::Open {
                        TcpStatus::Error
                    } else {
                        tcp.status
                    },
                },
                None,
            ),
        }
    }

    /// Send a CR and read the CC. The stream stays open for TLS when a layer was selected.
    pub async fn exchange(&self, stream: &mut TcpStream, requested: u32) -> NegResult {
        let cr = x224::connection_request(requested, None);
        let deadline = self.phase_deadline();
        match tokio::time::timeout_at(deadline, stream.write_all(&cr)).await {
            Err(_) => return NegResult::NoReply,
            Ok(Err(e)) => {
                return match e.kind() {
                    std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe => {
                        NegResult::Reset
                    }
                    _ => NegResult::Closed,
                };
            }
            Ok(Ok(())) => {}
        }
        let mut buf = Vec::with_capacity(32);
        match read_parsed(
            stream,
            &mut buf,
            x224::MAX_TPKT,
            deadline,
            x224::parse_confirm,
        )
        .await
        {
            ReadEnd::Done(c) => confirm_to_result(c, &buf),
            ReadEnd::Timeout { got: 0 } => NegResult::NoReply,
            // A TPKT header and then nothing (or a trickle) is an RDP stack that stopped answering.
            ReadEnd::Timeout { .. } if buf.first() == Some(&0x03) => NegResult::NoReply,
            ReadEnd::Timeout { .. } => NegResult::NotRdp {
                first_bytes: first_hex(&buf),
                hint: "incomplete reply".into(),
            },
            ReadEnd::Reset { got: 0 } => NegResult::Reset,
            ReadEnd::Eof { got: 0 } => NegResult::Closed,
            ReadEnd::Reset { .. } | ReadEnd::Eof { .. } => NegResult::NotRdp {
                first_bytes: first_hex(&buf),
                hint: "truncated reply".into(),
            },
            ReadEnd::TooLarge => NegResult::BadLength {
                length: buf.len() as u32,
            },
            ReadEnd::Io(_) => NegResult::Reset,
        }
    }
}

fn first_hex(buf: &[u8]) -> String {
    hex::encode(buf.get(..buf.len().min(16)).unwrap_or_default())
}

fn confirm_to_result(c: Confirm, buf: &[u8]) -> NegResult {
    match c {
        Confirm::Selected { protocol, flags } => NegResult::Selected {
            protocol,
            flags: flags.bits(),
        },
        Confirm::Failure(code) => NegResult::Failure { code: code.0 },
        Confirm::Legacy => NegResult::Legacy,
        Confirm::UncoveredNeg(hidden) => match *hidden {
            Confirm::Selected { protocol, .. } => NegResult::UncoveredNeg {
                selected: Some(protocol),
                failure: None,
            },
            Confirm::Failure(code) => NegResult::UncoveredNeg {
                selected: None,
                failure: Some(code.0),
            },
            _ => NegResult::Legacy,
        },
        Confirm::Rejected => NegResult::Rejected,
        Confirm::BadLength(length) => NegResult::BadLength { length },
        Confirm::NotRdp(hint) => {
            let hint = match hint {
                NotRdpHint::TlsRecord => "a TLS-only listener",
                NotRdpHint::Http => "an HTTP server",
                NotRdpHint::Ssh => "an SSH server",
                _ => "not RDP",
            };
            NegResult::NotRdp {
                first_bytes: first_hex(buf),
                hint: hint.into(),
            }
        }
    }
}
