//! Rate honesty.

use super::*;

pub(crate) fn rate_mode(cfg: &Cfg) {
    let rate = cfg.rate.unwrap_or(500);
    let secs = cfg.rate_secs;
    // Hosts enough that the scanner is still busy when it is interrupted (about two connections
    // per host at standard depth), within what one process's descriptors allow.
    let per_host = if cfg.rate_depth == "quick" { 1 } else { 2 };
    let wanted =
        usize::try_from(u64::from(rate) * secs * 11 / 10 / per_host + 1_000).unwrap_or(usize::MAX);
    let hosts = wanted.min(hosts_per_lab(cfg.rate_concurrency));
    raise_nofile(u64::try_from(hosts).unwrap_or(u64::MAX) * 11 / 10 + 4_096);
    std::fs::create_dir_all(&cfg.out).expect("create FLEET_OUT");
    let base: Ipv4Addr = env_or("FLEET_RATE_BASE", "127.210.0.1")
        .parse()
        .expect("FLEET_RATE_BASE");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let lab = rt
        .block_on(rdpsweep::lab::Lab::scale_with_keys(
            hosts,
            base,
            3389,
            lab_keys(),
        ))
        .expect("lab starts");
    // Only hosts that accept: closed and filtered ports use the quota but never reach accept().
    let inv = cfg.out.join("inv-rate.csv");
    let ca = cfg.out.join("lab-ca-rate.pem");
    std::fs::write(&ca, &lab.ca_pem).expect("write CA");
    let rows: Vec<InvRow> = lab
        .hosts
        .iter()
        .filter(|h| {
            !matches!(
                h.behavior,
                rdpsweep::lab::Behavior::Closed | rdpsweep::lab::Behavior::Filtered
            )
        })
        .map(|h| InvRow {
            host: h.addr.to_string(),
            expected: h.behavior.expected().to_string(),
        })
        .collect();
    write_inventory(&rows, &inv);
    println!(
        "fleet rate: --rate {rate} for {secs} s, depth {}, concurrency {}, {} accepting lab hosts; load {}",
        cfg.rate_depth,
        cfg.rate_concurrency,
        rows.len(),
        load_average()
    );
    let syn_capture = SynCapture::start(3389);
    let mut child = Command::new(scanner_bin())
        .args(["scan", "-i"])
        .arg(&inv)
        .args(["--rate", &rate.to_string(), "--depth", &cfg.rate_depth])
        .args(["--concurrency", &cfg.rate_concurrency.to_string()])
        .args([
            "--max-targets",
            "100000000",
            "--fail-on",
            "never",
            "--quiet",
        ])
        .arg("--ca-bundle")
        .arg(&ca)
        .arg("--jsonl")
        .arg(cfg.out.join("rate.jsonl"))
        .args(&cfg.scan_args)
        .stdin(Stdio::null())
        .spawn()
        .expect("start rdpsweep scan");

    // Collect accept timestamps from the lab's ring (8192 deep) often enough to miss none.
    let mut accepts: Vec<Instant> = Vec::new();
    let mut last: Option<Instant> = None;
    let mut first: Option<Instant> = None;
    let mut interrupted = false;
    loop {
        std::thread::sleep(Duration::from_millis(250));
        let snap = lab.stats().accepts;
        for (_, t) in snap {
            if last.is_none_or(|l| t > l) {
                accepts.push(t);
                last = Some(t);
            }
        }
        if first.is_none() {
            first = accepts.first().copied();
        }
        if let Some(f) = first
            && !interrupted
            && f.elapsed() >= Duration::from_secs(secs) + Duration::from_millis(500)
        {
            // SAFETY: signalling our own child by pid.
            unsafe { libc::kill(libc::pid_t::try_from(child.id()).unwrap_or(0), libc::SIGINT) };
            interrupted = true;
        }
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
    }
    let snap = lab.stats().accepts;
    for (_, t) in snap {
        if last.is_none_or(|l| t > l) {
            accepts.push(t);
            last = Some(t);
        }
    }
    let _ = child.wait();
    drop(lab);
    rt.shutdown_timeout(Duration::from_secs(1));

    let syns = syn_capture.map(SynCapture::finish).unwrap_or_default();

    let Some(t0) = accepts.first().copied() else {
        println!("fleet rate: no accepts seen");
        return;
    };
    let burst = (rate / 100).max(1);
    println!(
        "| measured at | asked /s | window s | connections | achieved /s | deviation | max in any 100 ms (allowed = rate x 0.1 + burst {burst}) | max in any 1 s | first 100 ms |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let rel: Vec<Duration> = accepts.iter().map(|t| t.duration_since(t0)).collect();
    rate_row("lab accept()", &rel, rate, secs);
    if let Some(&s0) = syns.first() {
        let rel: Vec<Duration> = syns
            .iter()
            .map(|t| Duration::from_nanos(u64::try_from(t - s0).unwrap_or(0)))
            .collect();
        rate_row("SYN on lo (kernel timestamp)", &rel, rate, secs);
    }
    println!(
        "(accept() times carry the lab's own scheduling delay, several ms when it is busy; the SYN capture's kernel timestamps do not)"
    );
}

/// One row of the rate table from connection times relative to the first.
pub(crate) fn rate_row(what: &str, times: &[Duration], rate: u32, secs: u64) {
    // A scan that ran out of hosts early is measured over the time it really ran.
    let span = times.last().copied().unwrap_or_default();
    let window = Duration::from_secs(secs).min(span.max(Duration::from_millis(1)));
    if window < Duration::from_secs(secs) {
        println!(
            "fleet rate: the scan ran out of hosts after {:.1} s: measured over that",
            window.as_secs_f64()
        );
    }
    let inside: Vec<Duration> = times.iter().copied().filter(|d| *d < window).collect();
    let achieved = inside.len() as f64 / window.as_secs_f64();
    let burst = (rate / 100).max(1);
    let allowed_100ms = f64::from(rate) * 0.1 + f64::from(burst);
    let max_in = |w: Duration| -> usize {
        let mut best = 0;
        let mut j = 0;
        for (i, start) in inside.iter().enumerate() {
            while inside.get(j).is_some_and(|d| *d < *start + w) {
                j += 1;
            }
            best = best.max(j - i);
        }
        best
    };
    let first_100ms = inside
        .iter()
        .filter(|d| **d < Duration::from_millis(100))
        .count();
    println!(
        "| {what} | {rate} | {:.1} | {} | {achieved:.1} | {:+.2} % | {} (allowed {allowed_100ms:.0}) | {} | {first_100ms} |",
        window.as_secs_f64(),
        inside.len(),
        100.0 * (achieved - f64::from(rate)) / f64::from(rate),
        max_in(Duration::from_millis(100)),
        max_in(Duration::from_secs(1)),
    );
}

/// Every SYN to `port` arriving on the loopback interface, with the kernel's receive timestamp:
/// an AF_PACKET socket (root) on `lo`. Timestamps are taken where the packet enters the stack,
/// so the lab's own scheduling delays do not blur them.
pub(crate) struct SynCapture {
    pub(crate) stop: Arc<std::sync::atomic::AtomicBool>,
    pub(crate) thread: std::thread::JoinHandle<Vec<i128>>,
}

impl SynCapture {
    pub(crate) fn start(port: u16) -> Option<SynCapture> {
        let proto = (libc::ETH_P_IP as u16).to_be();
        // SAFETY: plain socket calls on a descriptor this function owns; every pointer passed is
        // to a live local of the size given.
        let fd = unsafe {
            let fd = libc::socket(libc::AF_PACKET, libc::SOCK_RAW, i32::from(proto));
            if fd < 0 {
                eprintln!(
                    "fleet rate: no SYN capture (AF_PACKET needs root): {}",
                    std::io::Error::last_os_error()
                );
                return None;
            }
            let mut sll: libc::sockaddr_ll = std::mem::zeroed();
            sll.sll_family = libc::AF_PACKET as u16;
            sll.sll_protocol = proto;
            sll.sll_ifindex = libc::if_nametoindex(c"lo".as_ptr()) as i32;
            let on: libc::c_int = 1;
            let rcvbuf: libc::c_int = 64 << 20;
            let tv = libc::timeval {
                tv_sec: 0,
                tv_usec: 200_000,
            };
            let int = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
            if libc::bind(
                fd,
                (&raw const sll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            ) != 0
                || libc::setsockopt(
                    fd,
                    libc::SOL_SOCKET,
                    libc::SO_TIMESTAMPNS,
                    (&raw const on).cast(),
                    int,
                ) != 0
            {
                eprintln!(
                    "fleet rate: no SYN capture: {}",
                    std::io::Error::last_os_error()
                );
                libc::close(fd);
                return None;
            }
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVBUFFORCE,
                (&raw const rcvbuf).cast(),
                int,
            );
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&raw const tv).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            );
            fd
        };
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut out = Vec::new();
            let mut pkt = [0u8; 128];
            let mut ctl = [0u64; 16];
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                // SAFETY: recvmsg into local buffers of the sizes given; fd stays open until the
                // loop ends.
                let (n, from, stamp) = unsafe {
                    let mut from: libc::sockaddr_ll = std::mem::zeroed();
                    let mut iov = libc::iovec {
                        iov_base: pkt.as_mut_ptr().cast(),
                        iov_len: pkt.len(),
                    };
                    let mut msg: libc::msghdr = std::mem::zeroed();
                    msg.msg_name = (&raw mut from).cast();
                    msg.msg_namelen = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
                    msg.msg_iov = &raw mut iov;
                    msg.msg_iovlen = 1;
                    msg.msg_control = ctl.as_mut_ptr().cast();
                    msg.msg_controllen = std::mem::size_of_val(&ctl);
                    let n = libc::recvmsg(fd, &raw mut msg, 0);
                    let mut stamp = None;
                    let mut c = libc::CMSG_FIRSTHDR(&raw const msg);
                    while !c.is_null() {
                        if (*c).cmsg_level == libc::SOL_SOCKET
                            && (*c).cmsg_type == libc::SO_TIMESTAMPNS
                        {
                            let ts: libc::timespec =
                                std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                            stamp = Some(
                                i128::from(ts.tv_sec) * 1_000_000_000 + i128::from(ts.tv_nsec),
                            );
                        }
                        c = libc::CMSG_NXTHDR(&raw const msg, c);
                    }
                    (n, from, stamp)
                };
                let Ok(n) = usize::try_from(n) else { continue };
                // Loopback shows each packet twice (out and in): keep the incoming copy.
                if from.sll_pkttype != libc::PACKET_HOST {
                    continue;
                }
                if let (Some(t), Some(p)) = (stamp, pkt.get(..n))
                    && is_syn_to(p, port)
                {
                    out.push(t);
                }
            }
            // SAFETY: the descriptor is ours and no longer used.
            unsafe { libc::close(fd) };
            out
        });
        Some(SynCapture { stop, thread })
    }

    pub(crate) fn finish(self) -> Vec<i128> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut v = self.thread.join().unwrap_or_default();
        v.sort_unstable();
        v
    }
}

/// An Ethernet-framed (lo) IPv4 TCP segment with SYN set, ACK clear, to `port`.
pub(crate) fn is_syn_to(p: &[u8], port: u16) -> bool {
    let Some(ip) = p.get(14..) else { return false };
    if p.get(12..14) != Some(&[0x08, 0x00]) || ip.get(9) != Some(&6) {
        return false;
    }
    let ihl = usize::from(ip.first().copied().unwrap_or(0) & 0x0F) * 4;
    let Some(tcp) = ip.get(ihl..) else {
        return false;
    };
    let dport = tcp.get(2..4).map(|b| u16::from_be_bytes([b[0], b[1]]));
    dport == Some(port) && tcp.get(13).is_some_and(|f| f & 0x12 == 0x02)
}
