//! Child processes and their rusage; the lab children.

use super::*;

/// What `wait4` says about a finished child.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Usage {
    pub(crate) wall: Duration,
    pub(crate) cpu: Duration,
    pub(crate) max_rss_kib: u64,
    pub(crate) exit: i32,
}

pub(crate) fn tv(t: libc::timeval) -> Duration {
    Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
        + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
}

/// Reap `child` with wait4: its exact user+system CPU and peak RSS (not its siblings').
pub(crate) fn wait_usage(child: &Child, started: Instant) -> Usage {
    let pid = libc::pid_t::try_from(child.id()).expect("pid fits pid_t");
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it and `status`.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: pointers to live locals.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        assert_eq!(e.raw_os_error(), Some(libc::EINTR), "wait4: {e}");
    }
    let wall = started.elapsed();
    let exit = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    Usage {
        wall,
        cpu: tv(ru.ru_utime) + tv(ru.ru_stime),
        max_rss_kib: u64::try_from(ru.ru_maxrss).unwrap_or(0),
        exit,
    }
}

/// One lab child: `Lab::scale` in its own process and runtime.
pub(crate) struct LabProc {
    pub(crate) child: Child,
    pub(crate) stdin: ChildStdin,
    pub(crate) stdout: BufReader<ChildStdout>,
    pub(crate) dir: PathBuf,
}

/// The simulated fleet: as many lab children as the descriptor limit calls for (one listener per
/// host; without CAP_SYS_RESOURCE the hard RLIMIT_NOFILE of each process caps its hosts).
pub(crate) struct Labs {
    pub(crate) procs: Vec<LabProc>,
    /// Every host in address order (the children's inventories, concatenated).
    pub(crate) inventory: Vec<InvRow>,
    /// Every child's CA, one PEM bundle (`--ca-bundle`).
    pub(crate) ca: PathBuf,
    /// The fleet's DNS server (`FLEET_CERTS=self-signed`).
    pub(crate) dns: Option<FleetDns>,
}

/// Hosts one lab process can serve: its hard descriptor limit, less the open connections
/// (up to two per host in flight) and slack, less the filtered hosts' queue fillers (2 % x 3)
/// and the RDP-UDP sockets of the Windows hosts (83 %).
pub(crate) fn hosts_per_lab(concurrency: usize) -> usize {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct passed.
    let hard = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 {
        usize::try_from(lim.rlim_max).unwrap_or(usize::MAX)
    } else {
        20_000
    };
    let room = hard.saturating_sub(2 * concurrency + 1_000);
    (room * 100 / 190).clamp(1_000, 200_000)
}

impl Labs {
    pub(crate) fn start(
        hosts: usize,
        base: Ipv4Addr,
        keys: (&str, &str),
        dir: &Path,
        per: usize,
    ) -> Labs {
        let (key, ca_key) = keys;
        let exe = std::env::current_exe().expect("own path");
        let t0 = Instant::now();
        let mut procs = Vec::new();
        let mut left = hosts;
        let mut next = u32::from(base);
        while left > 0 {
            let n = left.min(per);
            let sub = dir.join(format!("lab-{}", procs.len()));
            std::fs::create_dir_all(&sub).expect("lab dir");
            // FLEET_LAB_WRAP: a command prefix for profiling the lab (`%i` = the child's index).
            let wrap: Vec<String> = env_or("FLEET_LAB_WRAP", "")
                .split_whitespace()
                .map(|w| w.replace("%i", &procs.len().to_string()))
                .collect();
            let mut cmd = match wrap.split_first() {
                Some((first, rest)) => {
                    let mut c = Command::new(first);
                    c.args(rest).arg(&exe);
                    c
                }
                None => Command::new(&exe),
            };
            let mut child = cmd
                .env("FLEET_ROLE", "lab")
                .env("FLEET_LAB_HOSTS", n.to_string())
                .env("FLEET_LAB_BASE", Ipv4Addr::from(next).to_string())
                .env("FLEET_LAB_DIR", &sub)
                .env("FLEET_KEY", key)
                .env("FLEET_CA", ca_key)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("start a lab child");
            let stdin = child.stdin.take().expect("lab stdin");
            let stdout = BufReader::new(child.stdout.take().expect("lab stdout"));
            procs.push(LabProc {
                child,
                stdin,
                stdout,
                dir: sub,
            });
            left -= n;
            next = next
                .checked_add(u32::try_from(n).expect("hosts fit u32"))
                .expect("addresses stay in 127/8");
        }
        let mut inventory = Vec::new();
        let mut bundle = String::new();
        for p in &mut procs {
            let mut line = String::new();
            p.stdout.read_line(&mut line).expect("lab says ready");
            assert!(line.starts_with("ready"), "a lab child failed: {line:?}");
            inventory.extend(read_inventory(&p.dir.join("lab-inventory.csv")));
            bundle.push_str(&std::fs::read_to_string(p.dir.join("lab-ca.pem")).expect("lab CA"));
        }
        let ca = dir.join("lab-ca-bundle.pem");
        std::fs::write(&ca, bundle).expect("write CA bundle");
        eprintln!(
            "fleet: lab of {hosts} hosts from {base} ({key} keys, {ca_key} CA, {} processes) up in {:.1}s",
            procs.len(),
            t0.elapsed().as_secs_f64()
        );
        Labs {
            procs,
            inventory,
            ca,
            dns: self_signed().then(FleetDns::start),
        }
    }

    /// The lab processes' own CPU time so far (user + system, all threads).
    pub(crate) fn cpu(&mut self) -> Duration {
        for p in &mut self.procs {
            writeln!(p.stdin, "cpu").expect("ask lab");
            p.stdin.flush().expect("ask lab");
        }
        let mut sum = Duration::ZERO;
        for p in &mut self.procs {
            let mut line = String::new();
            p.stdout.read_line(&mut line).expect("lab answers");
            let us: u64 = line
                .trim()
                .strip_prefix("cpu ")
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("lab answered {line:?}"));
            sum += Duration::from_micros(us);
        }
        sum
    }

    pub(crate) fn stop(self) {
        for mut p in self.procs {
            drop(p.stdin);
            let _ = p.child.wait();
        }
    }
}

pub(crate) fn lab_role() {
    let hosts: usize = env_num("FLEET_LAB_HOSTS", 1000usize);
    let base: Ipv4Addr = env_or("FLEET_LAB_BASE", "127.200.0.1")
        .parse()
        .expect("FLEET_LAB_BASE");
    let dir = PathBuf::from(env_or("FLEET_LAB_DIR", "."));
    let keys = lab_keys();
    // One descriptor per host, the filtered hosts' fillers, and room for every open connection.
    raise_nofile(u64::try_from(hosts).unwrap_or(u64::MAX) * 11 / 10 + 4_096);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let lab = rt
        .block_on(async {
            if self_signed() {
                rdpsweep::lab::Lab::scale_self_signed(hosts, base, 3389, keys).await
            } else {
                rdpsweep::lab::Lab::scale_with_keys(hosts, base, 3389, keys).await
            }
        })
        .unwrap_or_else(|e| panic!("lab: {e}"));
    std::fs::write(dir.join("lab-inventory.csv"), lab.inventory_csv()).expect("write inventory");
    std::fs::write(dir.join("lab-ca.pem"), &lab.ca_pem).expect("write CA");
    println!("ready");
    // The runtime's workers serve the fleet; this thread answers the parent until stdin closes.
    let stdin = std::io::stdin();
    let mut out = std::io::stdout();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        if line.trim() == "cpu" {
            // SAFETY: rusage is plain data filled by getrusage.
            let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
            // SAFETY: pointer to a live local.
            unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
            let cpu = tv(ru.ru_utime) + tv(ru.ru_stime);
            let _ = writeln!(out, "cpu {}", cpu.as_micros());
            let _ = out.flush();
        }
    }
    drop(lab);
    rt.shutdown_timeout(Duration::from_secs(1));
}

/// `FLEET_KEY` (the hosts' key) and `FLEET_CA` (the signing CA's key), as the lab takes them.
pub(crate) fn lab_keys() -> rdpsweep::lab::LabKeys {
    let alg = |name: &str, default: &str| -> rdpsweep::lab::KeyAlg {
        env_or(name, default)
            .parse()
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    rdpsweep::lab::LabKeys {
        ca: alg("FLEET_CA", "rsa"),
        leaf: alg("FLEET_KEY", "ecdsa"),
    }
}
