//! What the kernel knows about a connection's path: `TCP_INFO` (retransmissions, smoothed RTT
//! and its variance) read from a socket, and `TCP_MAXSEG` set before `connect` so the SYN
//! advertises a small MSS (the path-MTU blackhole retry). Linux only; elsewhere every read is
//! `None` and the clamp is refused, so the probe simply has no such facts.

use std::io;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpSocket, TcpStream};

/// The MSS the blackhole retry advertises: IPv4's minimum datagram (576, RFC 791/1122) minus
/// 40 bytes of IP and TCP headers, which every IPv4 path must carry unfragmented.
pub const CLAMP_MSS: u32 = 536;

/// The few `TCP_INFO` fields the diagnosis uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpInfo {
    /// Segments this side retransmitted over the connection's life that were lost
    /// (`tcpi_total_retrans` less `tcpi_dsack_dups`): a retransmission the peer reports as a
    /// duplicate (D-SACK, RFC 2883) was spurious — the original arrived, only its ACK came
    /// late, as when a busy scanner host delays its own ACK processing — so it is not loss.
    pub total_retrans: u32,
    /// Smoothed RTT, microseconds (`tcpi_rtt`).
    pub srtt_us: u32,
    /// RTT mean deviation, microseconds (`tcpi_rttvar`).
    pub rttvar_us: u32,
    /// The MSS this side sends with (`tcpi_snd_mss`).
    pub snd_mss: u32,
}

/// `TCP_INFO` of a connected socket; `None` when the kernel does not give it.
#[cfg(target_os = "linux")]
pub fn tcp_info(fd: std::os::fd::BorrowedFd<'_>) -> Option<TcpInfo> {
    use std::os::fd::AsRawFd;
    // SAFETY: tcp_info is plain integers, so all-zero is a valid value; getsockopt writes at most
    // `len` bytes into it (older kernels fewer, newer ones truncate to our size).
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: a live descriptor (borrowed), a buffer of `len` bytes and its length.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&raw mut info).cast(),
            &mut len,
        )
    };
    // A kernel too old to fill tcpi_total_retrans (before 2.6.x) returns fewer bytes: no facts.
    let needed = std::mem::offset_of!(libc::tcp_info, tcpi_total_retrans) + 4;
    if rc != 0 || (len as usize) < needed {
        return None;
    }
    // Kernels before 5.3 do not fill tcpi_dsack_dups: every retransmission then counts.
    let dsack_end = std::mem::offset_of!(libc::tcp_info, tcpi_dsack_dups) + 4;
    let spurious = if (len as usize) >= dsack_end {
        info.tcpi_dsack_dups
    } else {
        0
    };
    Some(TcpInfo {
        total_retrans: info.tcpi_total_retrans.saturating_sub(spurious),
        srtt_us: info.tcpi_rtt,
        rttvar_us: info.tcpi_rttvar,
        snd_mss: info.tcpi_snd_mss,
    })
}

#[cfg(not(target_os = "linux"))]
pub fn tcp_info(_fd: std::os::fd::BorrowedFd<'_>) -> Option<TcpInfo> {
    None
}

/// `TCP_INFO` of a stream.
pub fn stream_info(s: &TcpStream) -> Option<TcpInfo> {
    use std::os::fd::AsFd;
    tcp_info(s.as_fd())
}

/// Set `TCP_MAXSEG` (before `connect`, so the SYN advertises it).
#[cfg(target_os = "linux")]
fn set_mss(fd: std::os::fd::BorrowedFd<'_>, mss: u32) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let v = libc::c_int::try_from(mss).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: a live descriptor and a c_int option value of the size given.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_MAXSEG,
            (&raw const v).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn set_mss(_fd: std::os::fd::BorrowedFd<'_>, _mss: u32) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// `TCP_MAXSEG` of a socket (after connect: the MSS it sends with).
#[cfg(target_os = "linux")]
pub fn mss_of(fd: std::os::fd::BorrowedFd<'_>) -> Option<u32> {
    use std::os::fd::AsRawFd;
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: a live descriptor and a c_int buffer of the size given.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_MAXSEG,
            (&raw mut v).cast(),
            &mut len,
        )
    };
    if rc == 0 { u32::try_from(v).ok() } else { None }
}

#[cfg(not(target_os = "linux"))]
pub fn mss_of(_fd: std::os::fd::BorrowedFd<'_>) -> Option<u32> {
    None
}

/// Clamps the MSS a socket's SYN will advertise (set before `connect`).
pub fn clamp_mss(socket: &TcpSocket, mss: u32) -> io::Result<()> {
    use std::os::fd::AsFd;
    set_mss(socket.as_fd(), mss)
}

/// What the plan's connections to one address measured, in milliseconds where timed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    /// Retransmissions summed over every connection measured.
    pub retransmits: u32,
    /// Connections whose `TCP_INFO` was read.
    pub measured: u32,
    /// The main connection's (the one TLS ran on) smoothed RTT and its variance.
    pub main: Option<TcpInfo>,
}

/// Shared by the probe's connections of one attempt: the TLS stream's wrapper records into it
/// when the connection closes, wherever that happens.
#[derive(Debug, Clone, Default)]
pub struct NetSlot(Arc<Mutex<Tally>>);

impl NetSlot {
    /// Add one connection's facts; `main` marks the connection TLS ran on (the last one wins:
    /// after a stall, the MSS retry's connection).
    pub fn record(&self, info: Option<TcpInfo>, main: bool) {
        let Some(info) = info else { return };
        // A poisoned lock only means another recorder panicked: the numbers are still usable.
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        t.retransmits = t.retransmits.saturating_add(info.total_retrans);
        t.measured = t.measured.saturating_add(1);
        if main {
            t.main = Some(info);
        }
    }

    pub fn tally(&self) -> Tally {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Microseconds to milliseconds, two decimals (what the CSV shows).
pub fn us_to_ms(us: u32) -> f64 {
    (f64::from(us) / 10.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn connect(addr: std::net::SocketAddr, mss: Option<u32>) -> io::Result<TcpStream> {
        let s = TcpSocket::new_v4()?;
        if let Some(m) = mss {
            clamp_mss(&s, m)?;
        }
        s.connect(addr).await
    }

    #[tokio::test]
    async fn tcp_info_on_loopback_counts_nothing_lost() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut b = [0u8; 4];
            s.read_exact(&mut b).await.unwrap();
            s.write_all(&b).await.unwrap();
        });
        let mut c = connect(addr, None).await.unwrap();
        c.write_all(b"ping").await.unwrap();
        let mut b = [0u8; 4];
        c.read_exact(&mut b).await.unwrap();
        server.await.unwrap();
        let info = stream_info(&c).expect("TCP_INFO on Linux");
        // Loopback loses nothing; the RTT was measured (the kernel never reports 0 once an
        // ACK was timed) and stays far under a second.
        assert_eq!(info.total_retrans, 0);
        assert!(info.srtt_us > 0 && info.srtt_us < 1_000_000, "{info:?}");
        assert!(info.snd_mss > 1000, "loopback MSS {info:?}");
        let slot = NetSlot::default();
        slot.record(Some(info), true);
        slot.record(
            Some(TcpInfo {
                total_retrans: 3,
                ..info
            }),
            false,
        );
        slot.record(None, true);
        let t = slot.tally();
        assert_eq!((t.retransmits, t.measured), (3, 2));
        assert_eq!(t.main, Some(info));
    }

    #[tokio::test]
    async fn clamped_mss_is_what_the_connection_sends_with() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let accept = tokio::spawn(async move { l.accept().await.map(|(s, _)| s) });
        let c = connect(addr, Some(CLAMP_MSS)).await.unwrap();
        let peer = accept.await.unwrap().unwrap();
        let mine = mss_of(c.as_fd()).unwrap();
        assert!(mine <= CLAMP_MSS, "clamped socket sends with {mine}");
        // The SYN advertised it: the server's segments are clamped too.
        let theirs = mss_of(peer.as_fd()).unwrap();
        assert!(theirs <= CLAMP_MSS, "server sends with {theirs}");
        assert_eq!(stream_info(&c).map(|i| i.snd_mss), Some(mine));
        // Unclamped, loopback's MTU (65536) gives a far larger MSS.
        let l2 = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let c2 = connect(l2.local_addr().unwrap(), None).await.unwrap();
        assert!(mss_of(c2.as_fd()).unwrap() > 10 * CLAMP_MSS);
        assert_eq!(us_to_ms(12_345), 12.35);
    }
}
