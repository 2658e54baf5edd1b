//! The socket error queue (`IP_RECVERR` / `IPV6_RECVERR`): which ICMP error ended a connect,
//! and which address sent it. Without it the kernel reports only an errno (EHOSTUNREACH for
//! "administratively prohibited" and "host unreachable" alike, ECONNREFUSED for an ICMP
//! port unreachable as for a RST), and never the router's address.
//!
//! The queue is read with `recvmsg(MSG_ERRQUEUE | MSG_DONTWAIT)`: never blocks, a bounded
//! number of reads, and the control bytes are parsed by [`parse_control`] (no pointer casts
//! on kernel data).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use crate::model::{IcmpProto, IcmpReport};

/// Queued errors read at most (the first ICMP one is the answer to our SYN).
const MAX_READS: usize = 4;

/// `sock_extended_err.ee_origin` values (linux/errqueue.h).
const SO_EE_ORIGIN_ICMP: u8 = 2;
const SO_EE_ORIGIN_ICMP6: u8 = 3;
/// `sizeof(struct sock_extended_err)`: errno u32, origin, type, code, pad, info u32, data u32.
const EE_LEN: usize = 16;

/// Turn the error queue on for `sock` and keep a second descriptor of it: `connect` consumes
/// (and on failure closes) the socket, and the queue is read through this one afterwards.
/// `None` when either step fails (e.g. out of descriptors): the errno alone then decides.
pub fn watch(sock: &impl AsFd, v6: bool) -> Option<OwnedFd> {
    let fd = sock.as_fd().try_clone_to_owned().ok()?;
    set_recverr(&fd, v6, true).then_some(fd)
}

/// Turn the queue off again on a connected socket: with it on, Linux turns ICMP errors on an
/// established connection into hard errors (and queues them), which would change how the
/// later phases end. Turning it off also empties the queue.
pub fn unwatch(fd: &OwnedFd, v6: bool) {
    let _ = set_recverr(fd, v6, false);
}

fn set_recverr(fd: &OwnedFd, v6: bool, on: bool) -> bool {
    let val: libc::c_int = on.into();
    let (level, opt) = if v6 {
        (libc::IPPROTO_IPV6, libc::IPV6_RECVERR)
    } else {
        (libc::IPPROTO_IP, libc::IP_RECVERR)
    };
    // SAFETY: a valid descriptor, and a pointer/length pair to a live c_int.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            opt,
            (&raw const val).cast::<libc::c_void>(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    r == 0
}

/// The first ICMP error queued on the socket, if any. Non-blocking.
pub fn read_icmp(fd: &OwnedFd) -> Option<IcmpReport> {
    for _ in 0..MAX_READS {
        // The payload (the offending packet's headers) is not needed; MSG_TRUNC drops the rest.
        let mut data = [0u8; 64];
        // u64 elements: cmsghdr needs size_t alignment.
        let mut control = [0u64; 32];
        let mut iov = libc::iovec {
            iov_base: data.as_mut_ptr().cast(),
            iov_len: data.len(),
        };
        // SAFETY: msghdr is plain data; all-zero is its empty value.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &raw mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control) as _;
        // SAFETY: msg points at live buffers of the stated sizes for the duration of the call.
        let n = unsafe {
            libc::recvmsg(
                fd.as_raw_fd(),
                &raw mut msg,
                libc::MSG_ERRQUEUE | libc::MSG_DONTWAIT,
            )
        };
        if n < 0 {
            return None;
        }
        let len = (msg.msg_controllen as usize).min(std::mem::size_of_val(&control));
        let bytes: Vec<u8> = control.iter().flat_map(|w| w.to_ne_bytes()).collect();
        if let Some(r) = parse_control(bytes.get(..len).unwrap_or_default()) {
            return Some(r);
        }
    }
    None
}

fn align(n: usize) -> usize {
    let a = std::mem::size_of::<usize>();
    n.div_ceil(a) * a
}

fn u16_ne(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn i32_ne(b: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn usize_ne(b: &[u8], at: usize) -> Option<usize> {
    const W: usize = std::mem::size_of::<usize>();
    Some(usize::from_ne_bytes(b.get(at..at + W)?.try_into().ok()?))
}

/// The first ICMP error in a control buffer as the kernel lays it out (native `cmsghdr`s:
/// `cmsg_len` size_t, `cmsg_level` int, `cmsg_type` int, data at the next size_t boundary).
/// Truncated or foreign messages are skipped; never panics.
pub fn parse_control(b: &[u8]) -> Option<IcmpReport> {
    const W: usize = std::mem::size_of::<usize>();
    let hdr = align(W + 8);
    let mut at = 0;
    while at + hdr <= b.len() {
        let len = usize_ne(b, at)?;
        let level = i32_ne(b, at + W)?;
        let kind = i32_ne(b, at + W + 4)?;
        if len < hdr {
            return None;
        }
        let data = b.get(at + hdr..(at + len).min(b.len()))?;
        let ours = (level == libc::IPPROTO_IP && kind == libc::IP_RECVERR)
            || (level == libc::IPPROTO_IPV6 && kind == libc::IPV6_RECVERR);
        if ours && let Some(r) = parse_extended_err(data) {
            return Some(r);
        }
        at = at.checked_add(align(len))?;
    }
    None
}

/// `struct sock_extended_err` and the offender `sockaddr` after it (`SO_EE_OFFENDER`).
fn parse_extended_err(d: &[u8]) -> Option<IcmpReport> {
    let origin = *d.get(4)?;
    let proto = match origin {
        SO_EE_ORIGIN_ICMP => IcmpProto::Icmp,
        SO_EE_ORIGIN_ICMP6 => IcmpProto::Icmpv6,
        _ => return None,
    };
    let icmp_type = *d.get(5)?;
    let code = *d.get(6)?;
    let from = d.get(EE_LEN..).and_then(parse_sockaddr);
    Some(IcmpReport {
        proto,
        icmp_type,
        code,
        from,
    })
}

/// sockaddr_in (family, port, 4 address bytes) or sockaddr_in6 (family, port, flowinfo,
/// 16 address bytes); AF_UNSPEC (no offender) or anything short is `None`.
fn parse_sockaddr(s: &[u8]) -> Option<IpAddr> {
    let family = i32::from(u16_ne(s, 0)?);
    match family {
        libc::AF_INET => {
            let a: [u8; 4] = s.get(4..8)?.try_into().ok()?;
            Some(IpAddr::V4(Ipv4Addr::from(a)))
        }
        libc::AF_INET6 => {
            let a: [u8; 16] = s.get(8..24)?.try_into().ok()?;
            Some(IpAddr::V6(Ipv6Addr::from(a)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
