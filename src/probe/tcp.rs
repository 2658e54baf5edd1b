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

/// Connect with a deadline. Returns the stream (when open) and the outcome.
pub async fn connect(addr: SocketAddr, deadline: Instant) -> (Option<TcpStream>, TcpOutcome) {
    let t0 = StdInstant::now();
    match tokio::time::timeout_at(deadline, TcpStream::connect(addr)).await {
        Err(_) => (
            None,
            TcpOutcome {
                status: TcpStatus::Filtered,
                rtt_ms: None,
                error: None,
            },
        ),
        Ok(Ok(s)) => {
            let _ = s.set_nodelay(true);
            let rtt = super::ms_since(t0);
            (
                Some(s),
                TcpOutcome {
                    status: TcpStatus::Open,
                    rtt_ms: Some(rtt),
                    error: None,
                },
            )
        }
        // The handshake completed and the server reset at once (accept-then-RST): the port is
        // open; the reset belongs to the RDP phase.
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => (
            None,
            TcpOutcome {
                status: TcpStatus::Open,
                rtt_ms: Some(super::ms_since(t0)),
                error: Some("ECONNRESET".into()),
            },
        ),
        Ok(Err(e)) => {
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
