//! The lab's RDP-UDP side (docs/protocol.md §12), written from MS-RDPEUDP 3.1.5.1: a UDP
//! socket on a host's RDP port that answers each SYN with the SYN+ACK, or one that never
//! answers. Hosts without one get the kernel's ICMP port unreachable.

use std::io;
use std::net::SocketAddr;

use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

use super::UdpMode;
use crate::rdp::rdpeudp::{self, MAX_READ};

/// The receive window and highest version the lab's SYN+ACK announces (a Windows server
/// answering a version-2 client).
const RECEIVE_WINDOW: u16 = 64;
const MAX_VERSION: u16 = rdpeudp::VERSION_2;

/// Binds `addr` over UDP and serves it in `mode` until the task is aborted.
pub(super) async fn serve(addr: SocketAddr, mode: UdpMode) -> io::Result<JoinHandle<()>> {
    let sock = UdpSocket::bind(addr)
        .await
        .map_err(|e| io::Error::new(e.kind(), format!("lab cannot bind UDP {addr}: {e}")))?;
    Ok(tokio::spawn(async move {
        let mut buf = vec![0u8; MAX_READ];
        loop {
            let Ok((n, from)) = sock.recv_from(&mut buf).await else {
                // An ICMP error for an earlier answer: the socket itself is fine.
                continue;
            };
            if mode != UdpMode::Answer {
                continue;
            }
            let Some(reply) = answer(buf.get(..n).unwrap_or_default()) else {
                continue;
            };
            let _ = sock.send_to(&reply, from).await;
        }
    }))
}

/// The SYN+ACK for a conforming SYN (SYN set, ACK clear, padded to 1232 bytes as 3.1.5.1.1
/// requires); anything else is ignored, as a server ignores stray datagrams before a
/// connection exists.
fn answer(datagram: &[u8]) -> Option<Vec<u8>> {
    let syn = rdpeudp::parse_syn(datagram).ok()?;
    if syn.len < rdpeudp::SYN_DATAGRAM_LEN {
        return None;
    }
    Some(rdpeudp::syn_ack_datagram(
        &syn,
        rand::random(),
        RECEIVE_WINDOW,
        MAX_VERSION,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdp::rdpeudp::{Syn, parse_syn_ack, syn_datagram};

    #[test]
    fn answers_only_padded_syns() {
        let syn = syn_datagram(&Syn {
            isn: 5,
            receive_window: 8,
            mtu: 1200,
            version: Some(rdpeudp::VERSION_3),
        });
        let reply = answer(&syn).expect("a SYN+ACK");
        let s = parse_syn_ack(&reply, 5).expect("acknowledges ISN 5");
        // The client's MTU, and the lower of the two versions.
        assert_eq!((s.up_mtu, s.version), (1200, Some(rdpeudp::VERSION_2)));
        // An unpadded SYN (3.1.5.1.1 requires 1232 bytes) and a SYN+ACK get nothing.
        assert_eq!(answer(&syn[..100]), None);
        assert_eq!(answer(&reply), None);
        assert_eq!(answer(&[]), None);
    }
}
