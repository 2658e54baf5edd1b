//! Settings from the environment, and facts about the machine.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mix {
    Responsive,
    Realistic,
}

#[derive(Debug, Clone)]
pub(crate) struct Cfg {
    pub(crate) sizes: Vec<usize>,
    pub(crate) depths: Vec<String>,
    pub(crate) runs: usize,
    pub(crate) concurrency: usize,
    pub(crate) base: Ipv4Addr,
    pub(crate) connect_timeout: String,
    pub(crate) bare: bool,
    pub(crate) out: PathBuf,
    pub(crate) scan_args: Vec<String>,
    pub(crate) mix: Mix,
    pub(crate) key: String,
    pub(crate) ca: String,
    /// `FLEET_CERTS=self-signed`: the Windows-like fleet (see main.rs).
    pub(crate) self_signed: bool,
    pub(crate) rate: Option<u32>,
    pub(crate) rate_secs: u64,
    pub(crate) rate_depth: String,
    pub(crate) rate_concurrency: usize,
}

pub(crate) fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

pub(crate) fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

impl Cfg {
    pub(crate) fn from_env() -> Cfg {
        let list = |name: &str, default: &str| -> Vec<String> {
            env_or(name, default)
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let sizes = list("FLEET_SIZES", "1000,10000,100000")
            .iter()
            .map(|s| s.replace('_', "").parse().expect("FLEET_SIZES: numbers"))
            .collect();
        let mix = match env_or("FLEET_MIX", "responsive").as_str() {
            "realistic" => Mix::Realistic,
            _ => Mix::Responsive,
        };
        Cfg {
            sizes,
            depths: list("FLEET_DEPTHS", "quick,standard"),
            runs: env_num("FLEET_RUNS", 3usize).max(1),
            concurrency: env_num("FLEET_CONCURRENCY", 1024usize).max(1),
            base: env_or("FLEET_BASE", "127.200.0.1")
                .parse()
                .expect("FLEET_BASE: an IPv4 address"),
            connect_timeout: env_or("FLEET_CONNECT_TIMEOUT", "1s"),
            bare: env_or("FLEET_BARE", "1") != "0",
            out: PathBuf::from(env_or(
                "FLEET_OUT",
                concat!(env!("CARGO_MANIFEST_DIR"), "/target/fleet-bench"),
            )),
            scan_args: env_or("FLEET_SCAN_ARGS", "")
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            mix,
            key: env_or("FLEET_KEY", "ecdsa"),
            ca: env_or("FLEET_CA", "rsa"),
            self_signed: self_signed(),
            rate: std::env::var("FLEET_RATE").ok().map(|v| {
                v.trim()
                    .parse()
                    .expect("FLEET_RATE: new connections per second")
            }),
            rate_secs: env_num("FLEET_RATE_SECS", 20u64).max(1),
            rate_depth: env_or("FLEET_RATE_DEPTH", "standard"),
            rate_concurrency: env_num("FLEET_RATE_CONCURRENCY", 256usize).max(1),
        }
    }
}

/// Soft (and, when allowed, hard) RLIMIT_NOFILE to at least `n`; children inherit it.
pub(crate) fn raise_nofile(n: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 || lim.rlim_cur >= n {
            return;
        }
        let want = libc::rlimit {
            rlim_cur: n.max(lim.rlim_cur),
            rlim_max: n.max(lim.rlim_max),
        };
        if libc::setrlimit(libc::RLIMIT_NOFILE, &want) != 0 {
            // No CAP_SYS_RESOURCE: as far as the hard limit goes (the lab says if that is short).
            let soft = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            libc::setrlimit(libc::RLIMIT_NOFILE, &soft);
        }
    }
}

pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| {
            let f: Vec<&str> = s.split_whitespace().take(3).collect();
            (f.len() == 3).then(|| f.join(" "))
        })
        .unwrap_or_else(|| "?".into())
}

pub(crate) fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "?".into())
}

/// `FLEET_CERTS`: `ca` (default: certificates from the lab CA, passed with --ca-bundle) or
/// `self-signed` (Windows' own certificates, default DNS settings against the fleet's DNS).
pub(crate) fn self_signed() -> bool {
    env_or("FLEET_CERTS", "ca") == "self-signed"
}
