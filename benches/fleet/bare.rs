//! The bare loop (child): TCP connect, X.224 CR/CC, rustls handshake, nothing else.

use super::*;

pub(crate) fn parse_duration(s: &str) -> Duration {
    rdpsweep::cli::parse_duration(s).unwrap_or_else(|e| panic!("{e}"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bare {
    Tls,
    Cc,
    Refused,
    Timeout,
    Error,
}

pub(crate) async fn bare_host(
    addr: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
    connect_timeout: Duration,
) -> Bare {
    use rdpsweep::rdp::x224::{Confirm, connection_request, parse_confirm};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let phase = Duration::from_secs(5);
    let mut s = match tokio::time::timeout(connect_timeout, tokio::net::TcpStream::connect(addr))
        .await
    {
        Err(_) => return Bare::Timeout,
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => return Bare::Refused,
        Ok(Err(_)) => return Bare::Error,
        Ok(Ok(s)) => s,
    };
    let _ = s.set_nodelay(true);
    let cr = connection_request(0x0B, None);
    let cc = tokio::time::timeout(phase, async {
        s.write_all(&cr).await?;
        let mut buf = Vec::with_capacity(64);
        let mut chunk = [0u8; 256];
        loop {
            if let rdpsweep::rdp::Parse::Done(c) = parse_confirm(&buf) {
                return Ok::<_, std::io::Error>(Some(c));
            }
            if buf.len() > 4096 {
                return Ok(None);
            }
            let k = s.read(&mut chunk).await?;
            if k == 0 {
                return Ok(None);
            }
            buf.extend_from_slice(chunk.get(..k).unwrap_or_default());
        }
    })
    .await;
    let protocol = match cc {
        Ok(Ok(Some(Confirm::Selected { protocol, .. }))) => protocol,
        Ok(Ok(Some(_))) => return Bare::Cc,
        _ => return Bare::Error,
    };
    if protocol & 0x0B == 0 {
        return Bare::Cc;
    }
    let name = rustls::pki_types::ServerName::IpAddress(addr.ip().into());
    let connector = tokio_rustls::TlsConnector::from(tls);
    match tokio::time::timeout(phase, connector.connect(name, s)).await {
        Ok(Ok(_tls)) => Bare::Tls,
        // The TLS 1.0-only hosts: rustls refuses them, as it does in the scanner.
        _ => Bare::Cc,
    }
}

pub(crate) fn bare_role() {
    let inv = PathBuf::from(env_or("FLEET_BARE_INVENTORY", "inventory.csv"));
    let concurrency = env_num("FLEET_CONCURRENCY", 1024usize).max(1);
    let connect_timeout = parse_duration(&env_or("FLEET_CONNECT_TIMEOUT", "1s"));
    // Either inventory format: the first field of every line that is an address.
    let addrs: Vec<SocketAddr> = std::fs::read_to_string(&inv)
        .expect("read the inventory")
        .lines()
        .filter_map(|l| l.split(',').next()?.trim().parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 3389))
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (counts, mut times) = rt.block_on(async move {
        // Same shape as the engine: a permit per host in flight, one task per host.
        let tls = rdpsweep::tls::danger::TlsConfigs::new().any;
        let permits = Arc::new(tokio::sync::Semaphore::new(concurrency));
        let mut set = tokio::task::JoinSet::new();
        let mut counts = BTreeMap::<&'static str, u64>::new();
        let mut times = Vec::with_capacity(addrs.len());
        let mut tally = |r: (Bare, f64), counts: &mut BTreeMap<&'static str, u64>| {
            let k = match r.0 {
                Bare::Tls => "tls",
                Bare::Cc => "cc",
                Bare::Refused => "refused",
                Bare::Timeout => "timeout",
                Bare::Error => "error",
            };
            *counts.entry(k).or_insert(0) += 1;
            times.push(r.1);
        };
        for addr in addrs {
            let permit = permits.clone().acquire_owned().await.expect("semaphore");
            let tls = tls.clone();
            set.spawn(async move {
                let t0 = Instant::now();
                let r = bare_host(addr, tls, connect_timeout).await;
                drop(permit);
                (r, t0.elapsed().as_secs_f64() * 1000.0)
            });
            while let Some(done) = set.try_join_next() {
                tally(done.expect("bare task"), &mut counts);
            }
        }
        while let Some(done) = set.join_next().await {
            tally(done.expect("bare task"), &mut counts);
        }
        (counts, times)
    });
    times.sort_by(f64::total_cmp);
    // One connection attempt per host, refused and timed-out ones included (as the scanner counts).
    let connections: u64 = counts.values().sum();
    let mut line = format!(
        "connections={connections} p50={:.3} p99={:.3}",
        percentile(&times, 0.5),
        percentile(&times, 0.99)
    );
    for (k, v) in &counts {
        line.push_str(&format!(" {k}={v}"));
    }
    println!("{line}");
}
