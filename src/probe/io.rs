//! Bounded reads: every read from a server is capped in bytes and in time.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::Instant;

use crate::rdp::Parse;

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

/// Read until `parse` says Done, the cap is reached, the peer closes, or the deadline passes.
/// Reads only what the parser asks for, so bytes after the message stay in the socket.
pub async fn read_parsed<S, T>(
    s: &mut S,
    buf: &mut Vec<u8>,
    cap: usize,
    deadline: Instant,
    parse: impl Fn(&[u8]) -> Parse<T>,
) -> ReadEnd<T>
where
    S: AsyncRead + Unpin,
{
    let mut chunk = [0u8; 4096];
    loop {
        let need = match parse(buf) {
            Parse::Done(t) => return ReadEnd::Done(t),
            Parse::Incomplete { need } => need,
        };
        if need > cap || buf.len() >= cap {
            return ReadEnd::TooLarge;
        }
        let want = need.saturating_sub(buf.len()).clamp(1, chunk.len());
        let Some(dst) = chunk.get_mut(..want) else {
            return ReadEnd::TooLarge;
        };
        match tokio::time::timeout_at(deadline, s.read(dst)).await {
            Err(_) => return ReadEnd::Timeout { got: buf.len() },
            Ok(Ok(0)) => return ReadEnd::Eof { got: buf.len() },
            Ok(Ok(n)) => buf.extend_from_slice(dst.get(..n).unwrap_or_default()),
            Ok(Err(e)) => {
                return match e.kind() {
                    io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe => ReadEnd::Reset { got: buf.len() },
                    _ => ReadEnd::Io(e),
                };
            }
        }
    }
}

/// The earlier of a phase timeout and the host deadline.
pub fn phase_deadline(timeout: std::time::Duration, host_deadline: Instant) -> Instant {
    (Instant::now() + timeout).min(host_deadline)
}
