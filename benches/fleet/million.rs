//! A million targets (issue 18.5): the scanner over 10k to 1M loopback addresses at quick
//! depth, one run per size, to show hosts/s flat, time linear and peak RSS flat.
//!
//! ```sh
//! FLEET_MILLION=10000,100000,1000000 cargo bench --bench fleet
//! FLEET_MILLION=100000 FLEET_MILLION_HTML=1 FLEET_BINS=before=/path/old,after=target/release/rdpsweep \
//!     cargo bench --bench fleet      # peak RSS with CSV + JSONL + HTML, two builds side by side
//! ```
//!
//! A million `Lab::scale` hosts would need a million listening sockets (and descriptors). Here
//! one listener answers for every address instead: the harness first moves itself into a
//! network namespace of its own (`unshare(CLONE_NEWNET)`, root), where the only interface is
//! `lo`, so a listener bound to 0.0.0.0:3389 receives the connections to all of 127.0.0.0/8
//! and nothing outside the namespace can reach it or be reached. The namespace disappears with
//! the harness and its children. The listener (this binary with `FLEET_ROLE=million-lab`)
//! plays a Windows host with a self-signed certificate, as a subnet sweep meets them: X.224
//! CC selecting TLS, a rustls handshake with one self-signed ECDSA certificate, then waits for
//! the client to close. Its certificate names no address, so the scanner asks for each
//! address's PTR name; the listener also answers DNS on 127.0.0.1:53 (NXDOMAIN, at once), so
//! the figures measure the scanner, not a resolver's timeouts. `FLEET_MILLION_CERT=ip` serves a
//! certificate naming the dialed address instead (made per connection), so no PTR is asked.
//!
//! Targets: one range `127.16.0.0-…` of the requested size (`--max-targets` raised), so the
//! inventory is a few integers whatever the size. Scanner flags: `--depth quick --rate 0
//! --dns-rate 0 --concurrency FLEET_CONCURRENCY --dns-server 127.0.0.1`, CSV and JSONL written
//! (plus HTML with `FLEET_MILLION_HTML=1`), then deleted once counted (kept in
//! `FLEET_OUT/million/` with `FLEET_MILLION_KEEP=1`).

use super::*;

/// First target address: outside the lab's default 127.200/16 and the tests' usual addresses.
const FIRST: Ipv4Addr = Ipv4Addr::new(127, 16, 0, 0);

pub(crate) fn million_mode(sizes: &str) {
    // Before any thread exists: unshare affects only the calling thread's namespace.
    private_loopback();
    let sizes: Vec<usize> = sizes
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let concurrency: usize = env_num("FLEET_CONCURRENCY", 1024);
    let html = env_or("FLEET_MILLION_HTML", "0") == "1";
    let runs: usize = env_num("FLEET_RUNS", 1);
    let dir = PathBuf::from(env_or("FLEET_OUT", "target/fleet-bench")).join("million");
    std::fs::create_dir_all(&dir).expect("bench output folder");
    raise_nofile(1 << 20);

    let exe = std::env::current_exe().expect("own path");
    let mut lab = Command::new(exe)
        .env("FLEET_ROLE", "million-lab")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the listener");
    let mut ready = String::new();
    BufReader::new(lab.stdout.take().expect("listener stdout"))
        .read_line(&mut ready)
        .expect("listener ready line");
    assert_eq!(ready.trim(), "ready", "listener failed to start");

    println!(
        "million: sizes {sizes:?}, concurrency {concurrency}, HTML {html}, runs {runs}; {} ; load {}",
        cpu_model(),
        load_average()
    );
    println!(
        "| targets | tool | hosts/s | wall s | s per 100k | CPU s | CPU µs/host | peak RSS MiB | rows |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|");
    for &n in &sizes {
        for _ in 0..runs {
            // Interleaved per size: load drift on a shared machine hits each build alike.
            for (name, bin) in scanner_bins() {
                let r = run_million(&bin, n, concurrency, html, &dir);
                let tool = if name.is_empty() {
                    "quick".into()
                } else {
                    format!("quick@{name}")
                };
                println!(
                    "| {n} | {tool} | {:.0} | {:.1} | {:.1} | {:.1} | {:.0} | {:.1} | {} |",
                    n as f64 / r.wall.as_secs_f64().max(1e-9),
                    r.wall.as_secs_f64(),
                    r.wall.as_secs_f64() * 100_000.0 / n as f64,
                    r.cpu.as_secs_f64(),
                    r.cpu.as_secs_f64() * 1e6 / n as f64,
                    r.max_rss_kib as f64 / 1024.0,
                    r.rows,
                );
                println!("  verdicts: {:?}", r.verdicts);
            }
        }
    }
    let _ = lab.kill();
    let _ = lab.wait();
}

struct MillionRun {
    wall: Duration,
    cpu: Duration,
    max_rss_kib: u64,
    rows: usize,
    verdicts: BTreeMap<String, u64>,
}

fn run_million(bin: &Path, n: usize, concurrency: usize, html: bool, dir: &Path) -> MillionRun {
    let last = Ipv4Addr::from(u32::from(FIRST) + u32::try_from(n - 1).expect("size fits IPv4"));
    let csv = dir.join("scan.csv");
    let jsonl = dir.join("scan.jsonl");
    let page = dir.join("scan.html");
    let mut cmd = Command::new(bin);
    cmd.args(["scan", &format!("{FIRST}-{last}")])
        .args(["--depth", "quick", "--rate", "0", "--dns-rate", "0"])
        .args(["--concurrency", &concurrency.to_string()])
        .args(["--connect-timeout", "1s", "--dns-server", "127.0.0.1"])
        .args([
            "--max-targets",
            "100000000",
            "--fail-on",
            "never",
            "--quiet",
        ])
        .arg("--csv")
        .arg(&csv)
        .arg("--jsonl")
        .arg(&jsonl);
    if html {
        cmd.arg("--html").arg(&page);
    }
    let started = Instant::now();
    let child = cmd
        .stdin(Stdio::null())
        .spawn()
        .expect("start rdpsweep scan");
    let usage = wait_usage(&child, started);
    assert_eq!(usage.exit, 0, "rdpsweep scan exited {}", usage.exit);
    let f = std::fs::File::open(&jsonl).expect("scan wrote JSONL");
    let mut rows = 0;
    let mut verdicts = BTreeMap::new();
    for line in BufReader::new(f).lines() {
        let line = line.expect("read JSONL");
        let row: JsonlRow = serde_json::from_str(&line).expect("JSONL row");
        rows += 1;
        *verdicts.entry(row.verdict).or_insert(0) += 1;
    }
    assert_eq!(rows, n, "one row per target");
    // A million rows of JSON Lines is gigabytes: keep only the figures (unless asked).
    if env_or("FLEET_MILLION_KEEP", "0") != "1" {
        for p in [&csv, &jsonl, &page] {
            let _ = std::fs::remove_file(p);
        }
    }
    MillionRun {
        wall: usage.wall,
        cpu: usage.cpu,
        max_rss_kib: usage.max_rss_kib,
        rows,
        verdicts,
    }
}

/// Move this process into a new network namespace with `lo` up (see the module docs).
fn private_loopback() {
    // SAFETY: unshare takes flags only; it fails (EPERM) without CAP_SYS_ADMIN.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        panic!(
            "FLEET_MILLION needs its own network namespace (run as root): {}",
            std::io::Error::last_os_error()
        );
    }
    let st = Command::new("ip")
        .args(["link", "set", "lo", "up"])
        .status()
        .expect("run ip");
    assert!(st.success(), "ip link set lo up failed");
}

/// The listener child: every address's RDP host, and the DNS server that says NXDOMAIN.
pub(crate) fn million_lab_role() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(env_num("FLEET_MILLION_LAB_THREADS", 1))
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params =
            rcgen::CertificateParams::new(vec!["rdp-host".to_string()]).expect("params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "rdp-host");
        let cert = params.self_signed(&key).expect("self-signed");
        let der = rustls::pki_types::PrivateKeyDer::Pkcs8(
            rustls::pki_types::PrivatePkcs8KeyDer::from(key.serialize_der()),
        );
        let mut cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_protocol_versions(&[&rustls::version::TLS12])
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], der)
        .expect("server config");
        cfg.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
        // FLEET_MILLION_CERT=ip: a certificate naming the dialed address, made per connection
        // (the key is shared), so the scanner has no PTR name to ask for; isolates the
        // resolver's share of the scanner's memory.
        let per_ip = (env_or("FLEET_MILLION_CERT", "self") == "ip").then(|| Arc::new(key));
        let sock = tokio::net::TcpSocket::new_v4().expect("socket");
        sock.set_reuseaddr(true).expect("reuseaddr");
        sock.bind(SocketAddr::from(([0, 0, 0, 0], 3389)))
            .expect("bind 0.0.0.0:3389 in the private namespace");
        let listener = sock.listen(65_535).expect("listen");
        let udp = tokio::net::UdpSocket::bind("127.0.0.1:53")
            .await
            .expect("bind 127.0.0.1:53");
        tokio::spawn(dns_nxdomain(udp));
        println!("ready");
        let _ = std::io::stdout().flush();
        loop {
            let Ok((s, _)) = listener.accept().await else {
                continue;
            };
            let acc = match (&per_ip, s.local_addr()) {
                (Some(key), Ok(local)) => ip_acceptor(key, local.ip()),
                _ => acceptor.clone(),
            };
            tokio::spawn(async move {
                let _ = tokio::time::timeout(Duration::from_secs(10), serve(s, acc)).await;
            });
        }
    });
}

/// A TLS acceptor whose certificate names `ip` (self-signed with the shared key).
fn ip_acceptor(key: &rcgen::KeyPair, ip: IpAddr) -> tokio_rustls::TlsAcceptor {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params.subject_alt_names = vec![rcgen::SanType::IpAddress(ip)];
    let cert = params.self_signed(key).expect("self-signed");
    let der = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        key.serialize_der(),
    ));
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS12])
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(vec![cert.der().clone()], der)
    .expect("server config");
    tokio_rustls::TlsAcceptor::from(Arc::new(cfg))
}

/// One connection: read the CR, confirm TLS, handshake, wait for the client to close.
async fn serve(mut s: tokio::net::TcpStream, acc: tokio_rustls::TlsAcceptor) {
    use rdpsweep::rdp::x224::{ConfirmSpec, NegRspFlags, connection_confirm};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut head = [0u8; 4];
    if s.read_exact(&mut head).await.is_err() {
        return;
    }
    let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
    if !(11..=1024).contains(&len) {
        return;
    }
    let mut rest = vec![0u8; len - 4];
    if s.read_exact(&mut rest).await.is_err() {
        return;
    }
    let cc = connection_confirm(&ConfirmSpec::Selected {
        protocol: 1,
        flags: NegRspFlags::from_bits_retain(0x1F),
    });
    if s.write_all(&cc).await.is_err() {
        return;
    }
    let Ok(mut tls) = acc.accept(s).await else {
        return;
    };
    let mut buf = [0u8; 512];
    while matches!(tls.read(&mut buf).await, Ok(n) if n > 0) {}
}

/// NXDOMAIN for every query, echoing its question.
async fn dns_nxdomain(udp: tokio::net::UdpSocket) {
    let mut buf = [0u8; 512];
    loop {
        let Ok((n, from)) = udp.recv_from(&mut buf).await else {
            continue;
        };
        let q = &buf[..n];
        if q.len() < 12 {
            continue;
        }
        // The question: labels up to the root, then type and class.
        let mut i = 12;
        while let Some(&l) = q.get(i) {
            if l == 0 {
                break;
            }
            i += 1 + usize::from(l);
        }
        let end = i + 5;
        if end > q.len() {
            continue;
        }
        let mut r = Vec::with_capacity(end);
        r.extend_from_slice(&q[..2]);
        r.push(0x80 | (q[2] & 0x79)); // QR, opcode and RD as asked
        r.push(0x80 | 3); // RA, NXDOMAIN
        r.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
        r.extend_from_slice(&q[12..end]);
        let _ = udp.send_to(&r, from).await;
    }
}
