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
    loop {
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
