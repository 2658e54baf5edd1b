//! TCP phase: open / refused / filtered / unreachable, decided from error kinds and errno,
//! never from message text, and from the ICMP error the socket's error queue holds when one
//! ended the connect (which message, which router sent it; see [`super::errqueue`]).

use std::net::SocketAddr;
use std::time::Instant as StdInstant;

use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;

use super::errqueue;
use crate::model::{TcpOutcome, TcpStatus};

/// Errors that are the scanner's own (out of file descriptors or ports), not the host's.
pub fn is_local_exhaustion(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::EADDRNOTAVAIL | libc::ENOBUFS | libc::ENOMEM)
    )
}

pub fn classify(e: &std::io::Error) -> (TcpStatus, String) {
    use std::io::ErrorKind as K;
    let errno = e.raw_os_error();
    let name = errno.map(errno_name).unwrap_or("").to_string();
    let detail = if name.is_empty() {
        format!("{:?}", e.kind())
    } else {
        name
    };
    let status = match (e.kind(), errno) {
        (K::ConnectionRefused, _) => TcpStatus::Refused,
        (_, Some(libc::ECONNREFUSED)) => TcpStatus::Refused,
        (K::TimedOut, _) | (_, Some(libc::ETIMEDOUT)) => TcpStatus::Filtered,
        (K::HostUnreachable | K::NetworkUnreachable, _) => TcpStatus::Unreachable,
        // ICMP "communication administratively prohibited" and "host unreachable" both surface
        // as EHOSTUNREACH (the error queue tells them apart); EACCES/EPERM come from a filter
        // on the scanner's own machine; no route as ENETUNREACH.
        (
            _,
            Some(
                libc::EHOSTUNREACH
                | libc::ENETUNREACH
                | libc::EACCES
                | libc::EPERM
                | libc::EHOSTDOWN
                | libc::ENETDOWN,
            ),
        ) => TcpStatus::Unreachable,
        _ => TcpStatus::Error,
    };
    (status, detail)
}

fn errno_name(n: i32) -> &'static str {
    match n {
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::ETIMEDOUT => "ETIMEDOUT",
        libc::EHOSTUNREACH => "EHOSTUNREACH",
        libc::ENETUNREACH => "ENETUNREACH",
        libc::EACCES => "EACCES (administratively prohibited)",
        libc::EPERM => "EPERM (administratively prohibited)",
        libc::EHOSTDOWN => "EHOSTDOWN",
        libc::ENETDOWN => "ENETDOWN",
        libc::ECONNRESET => "ECONNRESET",
        libc::EMFILE => "EMFILE (scanner out of file descriptors)",
        libc::ENFILE => "ENFILE (system out of file descriptors)",
        libc::EADDRNOTAVAIL => "EADDRNOTAVAIL (scanner out of local ports)",
        libc::ENOBUFS => "ENOBUFS",
        _ => "",
    }
}

/// How one connection attempt ended.
#[derive(Debug)]
pub enum Attempt {
    /// Connected: the stream and an `Open` outcome.
    Open(TcpStream, TcpOutcome),
    /// The handshake completed and the server reset the connection before the socket was
    /// handed over (SO_ERROR = ECONNRESET): an accept-then-RST server. The outcome is `Open`
    /// (the port answered) without a stream; callers record it as a reset at the RDP request,
    /// exactly what they would see had the RST arrived a moment later.
    ResetAfterAccept(TcpOutcome),
    /// The scanner itself ran out of file descriptors or local ports: no packet reached the
    /// host, so this says nothing about it. Callers pause and try again.
    Exhausted(std::io::Error),
    /// Refused, filtered, unreachable, or another error.
    Failed(TcpOutcome),
}

/// One connection attempt with a deadline.
pub async fn attempt(addr: SocketAddr, deadline: Instant) -> Attempt {
    attempt_with(addr, deadline, None).await
}

/// One connection attempt with a deadline, its SYN advertising `mss` when given.
pub async fn attempt_with(addr: SocketAddr, deadline: Instant, mss: Option<u32>) -> Attempt {
    let t0 = StdInstant::now();
    let v6 = addr.is_ipv6();
    let sock = match if v6 {
        TcpSocket::new_v6()
    } else {
        TcpSocket::new_v4()
    } {
        Ok(s) => s,
        Err(e) if is_local_exhaustion(&e) => return Attempt::Exhausted(e),
        Err(e) => return failed(&e, None),
    };
    if let Some(mss) = mss
        && let Err(e) = super::netinfo::clamp_mss(&sock, mss)
    {
        return failed(&e, None);
    }
    // Held until the attempt ends: the error queue of a failed connect is read through it.
    let errq = errqueue::watch(&sock, v6);
    match tokio::time::timeout_at(deadline, sock.connect(addr)).await {
        Err(_) => Attempt::Failed(TcpOutcome::status(TcpStatus::Filtered)),
        Ok(Ok(s)) => {
            if let Some(q) = &errq {
                errqueue::unwatch(q, v6);
            }
            let _ = s.set_nodelay(true);
            // The scanner closes only once it has the server's answer: an abortive close (RST)
            // then loses nothing, costs one packet instead of a FIN exchange, and leaves no
            // TIME_WAIT socket behind (a fleet scan would hold tens of thousands).
            let _ = s.set_zero_linger();
            let rtt = crate::clock::ms_since(t0);
            Attempt::Open(
                s,
                TcpOutcome {
                    rtt_ms: Some(rtt),
                    ..TcpOutcome::status(TcpStatus::Open)
                },
            )
        }
        Ok(Err(e)) if is_local_exhaustion(&e) => Attempt::Exhausted(e),
        // A RST to the SYN is ECONNREFUSED; ECONNRESET from connect means the handshake had
        // completed (tokio reads SO_ERROR once the socket is writable).
        Ok(Err(e)) if e.raw_os_error() == Some(libc::ECONNRESET) => {
            Attempt::ResetAfterAccept(TcpOutcome {
                rtt_ms: Some(crate::clock::ms_since(t0)),
                error: Some("ECONNRESET (reset right after the handshake)".into()),
                ..TcpOutcome::status(TcpStatus::Open)
            })
        }
        Ok(Err(e)) => failed(&e, errq.as_ref().and_then(errqueue::read_icmp)),
    }
}

/// A failed connect's outcome. An ICMP error means no RST came from the host, whatever the
/// errno says (Linux maps ICMP port unreachable and host/net prohibited to ECONNREFUSED).
fn failed(e: &std::io::Error, icmp: Option<crate::model::IcmpReport>) -> Attempt {
    let (mut status, detail) = classify(e);
    if icmp.is_some() && status == TcpStatus::Refused {
        status = TcpStatus::Unreachable;
    }
    Attempt::Failed(TcpOutcome {
        error: Some(detail),
        icmp,
        ..TcpOutcome::status(status)
    })
}

/// Connect with a deadline. Returns the stream (when open) and the outcome; `Open` without a
/// stream is a reset right after the handshake. Local exhaustion is reported as an `Error`
/// outcome here; [`crate::probe::HostCtx::connect`] retries it instead.
pub async fn connect(addr: SocketAddr, deadline: Instant) -> (Option<TcpStream>, TcpOutcome) {
    match attempt(addr, deadline).await {
        Attempt::Open(s, o) => (Some(s), o),
        Attempt::ResetAfterAccept(o) | Attempt::Failed(o) => (None, o),
        Attempt::Exhausted(e) => {
            let (status, detail) = classify(&e);
            (
                None,
                TcpOutcome {
                    error: Some(detail),
                    ..TcpOutcome::status(status)
                },
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Error;

    #[test]
    fn errno_classification() {
        assert_eq!(
            classify(&Error::from_raw_os_error(libc::ECONNREFUSED)).0,
            TcpStatus::Refused
        );
        assert_eq!(
            classify(&Error::from_raw_os_error(libc::EHOSTUNREACH)).0,
            TcpStatus::Unreachable
        );
        assert_eq!(
            classify(&Error::from_raw_os_error(libc::ENETUNREACH)).0,
            TcpStatus::Unreachable
        );
        assert_eq!(
            classify(&Error::from_raw_os_error(libc::EACCES)).0,
            TcpStatus::Unreachable
        );
        assert_eq!(
            classify(&Error::from_raw_os_error(libc::ETIMEDOUT)).0,
            TcpStatus::Filtered
        );
        assert_eq!(
            classify(&Error::from_raw_os_error(libc::EMFILE)).0,
            TcpStatus::Error
        );
        assert!(is_local_exhaustion(&Error::from_raw_os_error(libc::EMFILE)));
        assert!(!is_local_exhaustion(&Error::from_raw_os_error(
            libc::ECONNREFUSED
        )));
    }

    /// An ICMP error behind ECONNREFUSED (port unreachable, host prohibited) is no RST.
    #[test]
    fn icmp_refusal_is_not_a_closed_port() {
        use crate::model::{IcmpProto, IcmpReport};
        let icmp = IcmpReport {
            proto: IcmpProto::Icmp,
            icmp_type: 3,
            code: 10,
            from: Some("10.201.0.1".parse().unwrap()),
        };
        let refused = Error::from_raw_os_error(libc::ECONNREFUSED);
        let Attempt::Failed(o) = failed(&refused, Some(icmp)) else {
            panic!("not failed");
        };
        assert_eq!(o.status, TcpStatus::Unreachable);
        assert_eq!(o.icmp, Some(icmp));
        let Attempt::Failed(o) = failed(&refused, None) else {
            panic!("not failed");
        };
        assert_eq!((o.status, o.icmp), (TcpStatus::Refused, None));
    }

    #[tokio::test]
    async fn refused_and_open_on_loopback() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let deadline = Instant::now() + std::time::Duration::from_secs(2);
        let (s, o) = connect(addr, deadline).await;
        assert!(s.is_some());
        assert_eq!(o.status, TcpStatus::Open);
        assert!(o.rtt_ms.is_some());
        drop(l);
        let (s, o) = connect(addr, deadline).await;
        assert!(s.is_none());
        assert_eq!(o.status, TcpStatus::Refused);
    }
}
