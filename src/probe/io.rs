//! Bounded reads: every read from a server is capped in bytes and in time.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use crate::rdp::Parse;
use crate::tls::legacy::{self, FlightOutcome};

/// How a bounded read ended.
#[derive(Debug)]
pub enum ReadEnd<T> {
    Done(T),
    /// Deadline passed; `got` bytes had arrived.
    Timeout {
        got: usize,
    },
    /// RST from the server.
    Reset {
        got: usize,
    },
    /// FIN before the message was complete.
    Eof {
        got: usize,
    },
    /// The message would exceed the cap.
    TooLarge,
    Io(io::Error),
}

/// How a hand-written ClientHello fared ([`hello_exchange`]).
#[derive(Debug)]
pub enum HelloExchange {
    /// The hello could not be written before the deadline.
    WriteTimeout,
    /// Writing it failed (reset or closed).
    WriteFailed,
    /// The server's flight as read.
    Read(ReadEnd<FlightOutcome>),
}

/// Writes a raw ClientHello and reads the server's flight with the incremental reader (a flight
/// in 1-byte records costs linear, not quadratic, time), bounded by `deadline` and
/// `legacy::MAX_FLIGHT`. Shared by the legacy hello, the client-profile hellos and the suite
/// enumeration.
pub async fn hello_exchange<S>(s: &mut S, hello: &[u8], deadline: Instant) -> HelloExchange
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match tokio::time::timeout_at(deadline, s.write_all(hello)).await {
        Err(_) => return HelloExchange::WriteTimeout,
        Ok(Err(_)) => return HelloExchange::WriteFailed,
        Ok(Ok(())) => {}
    }
    let mut buf = Vec::with_capacity(4096);
    let mut reader = legacy::FlightReader::new();
    HelloExchange::Read(
        read_parsed(s, &mut buf, legacy::MAX_FLIGHT, deadline, |b| {
            reader.parse(b)
        })
        .await,
    )
}

/// Read until `parse` says Done, the cap is reached, the peer closes, or the deadline passes.
/// Reads only what the parser asks for, so bytes after the message stay in the socket.
///
/// `parse` sees the whole buffer each time, which only grows; a stateful (incremental) parser
/// may keep its place between calls. The deadline is checked before every read: a socket that
/// always has a byte ready would otherwise win every race against the timer.
pub async fn read_parsed<S, T>(
    s: &mut S,
    buf: &mut Vec<u8>,
    cap: usize,
    deadline: Instant,
    mut parse: impl FnMut(&[u8]) -> Parse<T>,
) -> ReadEnd<T>
where
    S: AsyncRead + Unpin,
{
    loop {
        // Yield to the scheduler now and then even when every read is ready at once, so that
        // other hosts, the signal handler and the timers keep running.
        tokio::task::consume_budget().await;
        if Instant::now() >= deadline {
            return ReadEnd::Timeout { got: buf.len() };
        }
        let need = match parse(buf) {
            Parse::Done(t) => return ReadEnd::Done(t),
            Parse::Incomplete { need } => need,
        };
        if need > cap || buf.len() >= cap {
            return ReadEnd::TooLarge;
        }
        let want = need.saturating_sub(buf.len()).clamp(1, MAX_READ);
        // Read straight into the buffer's tail: a stack chunk would be part of every probe
        // future that awaits this (4 KiB each, copied whenever the future moves).
        let got = buf.len();
        buf.resize(got.saturating_add(want), 0);
        let read = match buf.get_mut(got..) {
            Some(dst) => tokio::time::timeout_at(deadline, s.read(dst)).await,
            None => Ok(Ok(0)),
        };
        let n = match &read {
            Ok(Ok(n)) => (*n).min(want),
            _ => 0,
        };
        buf.truncate(got + n);
        match read {
            Err(_) => return ReadEnd::Timeout { got },
            Ok(Ok(0)) => return ReadEnd::Eof { got },
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                return match e.kind() {
                    io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe => ReadEnd::Reset { got },
                    _ => ReadEnd::Io(e),
                };
            }
        }
    }
}

/// Most bytes asked of the socket in one read (what the old stack chunk held).
const MAX_READ: usize = 4096;

/// The earlier of a phase timeout and the host deadline.
pub fn phase_deadline(timeout: std::time::Duration, host_deadline: Instant) -> Instant {
    (Instant::now() + timeout).min(host_deadline)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use std::time::Duration;
    use tokio::io::ReadBuf;

    /// A peer with one byte always ready and no cooperative budget of its own: the worst case
    /// of a server flooding tiny records faster than they are parsed.
    struct AlwaysReady;

    impl AsyncRead for AlwaysReady {
        fn poll_read(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            if buf.remaining() > 0 {
                buf.put_slice(&[0x15]);
            }
            Poll::Ready(Ok(()))
        }
    }

    /// Never done, and asks for one byte more each time.
    fn endless(b: &[u8]) -> Parse<()> {
        Parse::Incomplete { need: b.len() + 1 }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn deadline_fires_although_every_read_is_ready() {
        let t0 = Instant::now();
        let deadline = t0 + Duration::from_millis(200);
        // Another task on the same (single) thread: it can only run if read_parsed yields.
        let ran_at = std::sync::Arc::new(std::sync::Mutex::new(None));
        let flag = ran_at.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            if let Ok(mut g) = flag.lock() {
                *g = Some(Instant::now());
            }
        });
        let mut buf = Vec::new();
        let end = read_parsed(&mut AlwaysReady, &mut buf, usize::MAX, deadline, endless).await;
        let took = t0.elapsed();
        assert!(matches!(end, ReadEnd::Timeout { got } if got == buf.len() && got > 0));
        assert!(took < Duration::from_millis(1500), "took {took:?}");
        let ran = ran_at.lock().ok().and_then(|g| *g);
        assert!(
            ran.is_some_and(|at| at < deadline),
            "the other task ran during the flood: {ran:?}"
        );
    }

    #[tokio::test]
    async fn stateful_parser_sees_a_growing_buffer() {
        // The incremental contract: each call's buffer starts with the previous one.
        let data: Vec<u8> = (0u8..=200).collect();
        let mut seen: Vec<u8> = Vec::new();
        let mut buf = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        let end = read_parsed(&mut &data[..], &mut buf, 4096, deadline, |b: &[u8]| {
            assert!(b.starts_with(&seen), "buffer rewritten");
            seen = b.to_vec();
            if b.len() >= 150 {
                Parse::Done(b.len())
            } else {
                Parse::Incomplete { need: b.len() + 7 }
            }
        })
        .await;
        assert!(matches!(end, ReadEnd::Done(n) if n >= 150));
    }

    #[tokio::test]
    async fn passed_deadline_reads_nothing() {
        let mut buf = Vec::new();
        let end = read_parsed(&mut AlwaysReady, &mut buf, 64, Instant::now(), endless).await;
        assert!(matches!(end, ReadEnd::Timeout { got: 0 }));
        assert!(buf.is_empty());
    }
}
