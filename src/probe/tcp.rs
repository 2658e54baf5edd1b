//! TCP phase: open / refused / filtered / unreachable, decided from error kinds and errno,
//! never from message text.

use std::net::SocketAddr;
use std::time::Instant as StdInstant;

use tokio::net::TcpStream;
use tokio::time::Instant;

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
        // ICMP admin-prohibited surfaces as EACCES/EPERM on Linux; no route as ENETUNREACH.
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
    match tokio::time::timeout_at(deadline, super::netinfo::connect(addr, mss)).await {
        Err(_) => Attempt::Failed(TcpOutcome {
            status: TcpStatus::Filtered,
            rtt_ms: None,
            error: None,
        }),
        Ok(Ok(s)) => {
            let _ = s.set_nodelay(true);
            // The scanner closes only once it has the server's answer: an abortive close (RST)
            // then loses nothing, costs one packet instead of a FIN exchange, and leaves no
            // TIME_WAIT socket behind (a fleet scan would hold tens of thousands).
            let _ = s.set_zero_linger();
            let rtt = crate::clock::ms_since(t0);
            Attempt::Open(
                s,
                TcpOutcome {
                    status: TcpStatus::Open,
                    rtt_ms: Some(rtt),
                    error: None,
                },
            )
        }
        Ok(Err(e)) if is_local_exhaustion(&e) => Attempt::Exhausted(e),
        // A RST to the SYN is ECONNREFUSED; ECONNRESET from connect means the handshake had
        // completed (tokio reads SO_ERROR once the socket is writable).
        Ok(Err(e)) if e.raw_os_error() == Some(libc::ECONNRESET) => {
            Attempt::ResetAfterAccept(TcpOutcome {
                status: TcpStatus::Open,
                rtt_ms: Some(crate::clock::ms_since(t0)),
                error: Some("ECONNRESET (reset right after the handshake)".into()),
            })
        }
        Ok(Err(e)) => {
            let (status, detail) = classify(&e);
            Attempt::Failed(TcpOutcome {
                status,
                rtt_ms: None,
                error: Some(detail),
            })
        }
    }
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
                    status,
                    rtt_ms: None,
                    error: Some(detail),
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
