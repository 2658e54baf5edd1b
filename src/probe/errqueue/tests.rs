use super::*;

const W: usize = std::mem::size_of::<usize>();

/// One native cmsghdr (cmsg_len, cmsg_level, cmsg_type, padded to size_t) and its data.
fn cmsg(level: i32, kind: i32, data: &[u8]) -> Vec<u8> {
    let hdr = align(W + 8);
    let mut v = Vec::new();
    v.extend_from_slice(&(hdr + data.len()).to_ne_bytes()); // cmsg_len: header + data
    v.extend_from_slice(&level.to_ne_bytes()); // cmsg_level
    v.extend_from_slice(&kind.to_ne_bytes()); // cmsg_type
    v.resize(hdr, 0); // padding to the data's alignment
    v.extend_from_slice(data);
    v.resize(align(v.len()), 0); // CMSG_ALIGN before the next header
    v
}

/// sock_extended_err for an ICMP (origin 2) or ICMPv6 (origin 3) error.
fn ee(origin: u8, icmp_type: u8, code: u8, errno: i32) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&(errno as u32).to_ne_bytes()); // ee_errno
    v.push(origin); // ee_origin
    v.push(icmp_type); // ee_type
    v.push(code); // ee_code
    v.push(0); // ee_pad
    v.extend_from_slice(&0u32.to_ne_bytes()); // ee_info (MTU for "frag needed")
    v.extend_from_slice(&0u32.to_ne_bytes()); // ee_data
    v
}

fn sockaddr_in(a: [u8; 4]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&(libc::AF_INET as u16).to_ne_bytes()); // sin_family
    v.extend_from_slice(&[0, 0]); // sin_port (0: the ICMP sender has none)
    v.extend_from_slice(&a); // sin_addr, network order
    v.extend_from_slice(&[0; 8]); // sin_zero
    v
}

fn sockaddr_in6(a: [u8; 16]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes()); // sin6_family
    v.extend_from_slice(&[0, 0]); // sin6_port
    v.extend_from_slice(&[0; 4]); // sin6_flowinfo
    v.extend_from_slice(&a); // sin6_addr
    v.extend_from_slice(&[0; 4]); // sin6_scope_id
    v
}

#[test]
fn icmp_admin_prohibited_with_router_address() {
    let mut data = ee(2, 3, 13, libc::EHOSTUNREACH);
    data.extend(sockaddr_in([10, 201, 0, 1]));
    let buf = cmsg(libc::IPPROTO_IP, libc::IP_RECVERR, &data);
    let r = parse_control(&buf).unwrap();
    assert_eq!(r.proto, IcmpProto::Icmp);
    assert_eq!((r.icmp_type, r.code), (3, 13));
    assert_eq!(r.from, Some("10.201.0.1".parse().unwrap()));
    assert_eq!(r.meaning(), crate::model::IcmpMeaning::Rejected);
    assert_eq!(
        r.describe(),
        "ICMP type 3 code 13 (communication administratively prohibited) from 10.201.0.1"
    );
}

#[test]
fn icmpv6_after_a_foreign_message() {
    let mut data = ee(3, 1, 0, libc::ENETUNREACH);
    let from: std::net::Ipv6Addr = "fd00::1".parse().unwrap();
    data.extend(sockaddr_in6(from.octets()));
    // A SOL_SOCKET message first (e.g. a timestamp): skipped, not misread.
    let mut buf = cmsg(libc::SOL_SOCKET, libc::SO_TIMESTAMP, &[7; 16]);
    buf.extend(cmsg(libc::IPPROTO_IPV6, libc::IPV6_RECVERR, &data));
    let r = parse_control(&buf).unwrap();
    assert_eq!(r.proto, IcmpProto::Icmpv6);
    assert_eq!((r.icmp_type, r.code), (1, 0));
    assert_eq!(r.from, Some(IpAddr::V6(from)));
    assert_eq!(r.meaning(), crate::model::IcmpMeaning::NetUnreachable);
}

#[test]
fn local_errors_and_missing_offender() {
    // Origin 1 (SO_EE_ORIGIN_LOCAL): not an ICMP error.
    let buf = cmsg(
        libc::IPPROTO_IP,
        libc::IP_RECVERR,
        &ee(1, 0, 0, libc::EMSGSIZE),
    );
    assert_eq!(parse_control(&buf), None);
    // AF_UNSPEC offender: the ICMP facts without an address.
    let mut data = ee(2, 3, 1, libc::EHOSTUNREACH);
    data.extend_from_slice(&[0; 16]);
    let r = parse_control(&cmsg(libc::IPPROTO_IP, libc::IP_RECVERR, &data)).unwrap();
    assert_eq!((r.icmp_type, r.code, r.from), (3, 1, None));
    assert_eq!(r.meaning(), crate::model::IcmpMeaning::HostUnreachable);
}

#[test]
fn every_truncation_and_garbage_is_safe() {
    let mut data = ee(2, 3, 13, libc::EHOSTUNREACH);
    data.extend(sockaddr_in([10, 201, 0, 1]));
    let buf = cmsg(libc::IPPROTO_IP, libc::IP_RECVERR, &data);
    for n in 0..buf.len() {
        let r = parse_control(&buf[..n]);
        // Short of the ICMP bytes: nothing; short of the address: no address, never a wrong one.
        if let Some(r) = r {
            assert_eq!((r.icmp_type, r.code), (3, 13));
            assert!(r.from.is_none() || r.from == Some("10.201.0.1".parse().unwrap()));
        }
    }
    // A cmsg_len smaller than its header, and one that claims more than the buffer.
    let mut bad = buf.clone();
    bad[..W].copy_from_slice(&3usize.to_ne_bytes());
    assert_eq!(parse_control(&bad), None);
    let mut long = buf.clone();
    long[..W].copy_from_slice(&usize::MAX.to_ne_bytes());
    let _ = parse_control(&long);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..2000 {
        let junk: Vec<u8> = (0..(x % 97) as usize)
            .map(|i| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (x >> 33) as u8 ^ i as u8
            })
            .collect();
        let _ = parse_control(&junk);
    }
}

/// A real error queue on loopback: a UDP datagram to a closed port comes back as ICMP port
/// unreachable from 127.0.0.1, read through a second descriptor like the TCP phase does.
#[test]
fn real_queue_on_loopback() {
    let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let fd = watch(&s, false).expect("IP_RECVERR on a UDP socket");
    s.connect(("127.0.0.1", port)).unwrap();
    s.send(b"x").unwrap();
    let mut got = None;
    for _ in 0..100 {
        got = read_icmp(&fd);
        if got.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let r = got.expect("ICMP port unreachable queued");
    assert_eq!((r.proto, r.icmp_type, r.code), (IcmpProto::Icmp, 3, 3));
    assert_eq!(r.from, Some("127.0.0.1".parse().unwrap()));
    // Read once: the queue is empty now.
    assert_eq!(read_icmp(&fd), None);
}
