//! Fleet benchmark: the real `rdpsweep` binary scans a simulated fleet on loopback, next to a bare
//! client loop (TCP connect, X.224 CR/CC, rustls handshake, nothing else) at the same concurrency.
//!
//! ```sh
//! cargo bench --bench fleet                                  # 1k, 10k, 100k hosts; quick + standard
//! FLEET_SIZES=10000 FLEET_RUNS=5 cargo bench --bench fleet   # one size, more runs
//! FLEET_RATE=500 FLEET_RATE_SECS=60 cargo bench --bench fleet  # rate honesty instead
//! ```
//!
//! Processes: the lab runs in a child process (this binary re-executed with `FLEET_ROLE=lab`: the
//! library's `Lab::scale`, as `rdpsweep lab --hosts N` runs it, plus the lab CA written to a file so
//! the scanner checks trust as it would against an enterprise CA, and its own CPU time on request).
//! The scanner is `CARGO_BIN_EXE_rdpsweep`; the bare loop is this binary with `FLEET_ROLE=bare`.
//! Scanner and bare loop are reaped with `wait4`, whose rusage gives their exact CPU time and peak
//! RSS. Nothing leaves loopback.
//!
//! Settings (environment):
//! - `FLEET_SIZES` (1000,10000,100000), `FLEET_DEPTHS` (quick,standard), `FLEET_RUNS` (3),
//!   `FLEET_CONCURRENCY` (1024), `FLEET_BASE` (127.200.0.1), `FLEET_CONNECT_TIMEOUT` (1s),
//!   `FLEET_BARE` (1; 0 skips the bare loop), `FLEET_OUT` (target/fleet-bench),
//!   `FLEET_SCAN_ARGS` (extra scanner flags, space-separated), `FLEET_KEY` (ecdsa; rsa = the
//!   lab's TLS hosts hold RSA-2048 keys and sign every handshake with them, as Windows hosts do),
//!   `FLEET_CA` (rsa: the lab CA signs certificates with RSA-2048, as enterprise CAs and Windows'
//!   self-signed certificates do, so the scanner verifies what it verifies in the field; ecdsa:
//!   P-256 signatures, which cost a verifier about five times as much).
//! - `FLEET_CERTS` (ca): `self-signed` is the fleet an admin meets, scanned as an admin scans it:
//!   IP targets, every valid certificate the host's own self-signed one (CN = its machine name, no
//!   SAN), no `--ca-bundle`, default DNS settings (`--dns-rate` 200) against a loopback DNS server
//!   of this process that answers each address's PTR with that machine name (so every host makes
//!   a PTR lookup, as in the field). The table's last column is then the PTR queries per second
//!   the scan put on that resolver. A depth written `quick+dns0` or `standard+dns0` adds
//!   `--dns-rate 0` (the same scan without the DNS limit, to compare); `+rate600` replaces
//!   `--rate 0` with a binding `--rate 600`, to price the hosts' waiting on a limiter.
//! - `FLEET_MIX`: `responsive` (default) drops the lab's filtered hosts (2 %) from the scanned
//!   inventory, so figures measure work rather than the connect timeout's tail (a filtered host holds a
//!   slot for 2 x the connect timeout in the scanner, which retries); `realistic` keeps them.
//! - `FLEET_RATE` (unset): rate-honesty mode instead; `FLEET_RATE_SECS` (20), `FLEET_RATE_DEPTH`
//!   (standard), `FLEET_RATE_CONCURRENCY` (256). The lab runs in this process; the measure is
//!   every SYN to port 3389 on `lo`, timestamped by the kernel (an AF_PACKET socket, as root), with
//!   the lab's accept() times printed next to it; the scanner is interrupted after the duration.
//!
//! File descriptors: the lab needs one per host plus the open connections; this binary raises
//! `RLIMIT_NOFILE` (soft and, as root, hard) before starting it. See benches/RESULTS.md.
// Children are reaped with libc::wait4 (for their exact rusage), which clippy cannot see.
#![allow(clippy::zombie_processes)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The scanner: this build's, or `FLEET_BIN` (e.g. a saved binary of an earlier commit).
fn scanner_bin() -> PathBuf {
    std::env::var_os("FLEET_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_rdpsweep")))
}

/// `FLEET_BINS=name=path,name=path`: scanners to compare in one session (runs interleaved, so
/// load drift on a shared machine hits each alike); tools are then labelled `depth@name`.
fn scanner_bins() -> Vec<(String, PathBuf)> {
    match std::env::var("FLEET_BINS") {
        Ok(v) if !v.trim().is_empty() => v
            .split(',')
            .filter_map(|kv| {
                let (k, p) = kv.split_once('=')?;
                Some((k.trim().to_string(), PathBuf::from(p.trim())))
            })
            .collect(),
        _ => vec![(String::new(), scanner_bin())],
    }
}

mod bare;
mod dns;
mod inventory;
mod measure;
mod million;
mod procs;
mod rate;
mod settings;
mod table;

use bare::*;
use dns::*;
use inventory::*;
use measure::*;
use procs::*;
use rate::*;
use settings::*;
use table::*;

fn main() {
    match std::env::var("FLEET_ROLE").as_deref() {
        Ok("lab") => lab_role(),
        Ok("bare") => bare_role(),
        Ok("million-lab") => million::million_lab_role(),
        _ => {
            // `cargo test --all-targets` runs bench binaries without `--bench`: do nothing then.
            if !std::env::args().any(|a| a == "--bench") {
                println!("fleet: a benchmark; run it with `cargo bench --bench fleet`");
                return;
            }
            // The million-target mode (benches/fleet/million.rs) first leaves the host's network.
            if let Ok(sizes) = std::env::var("FLEET_MILLION") {
                million::million_mode(&sizes);
                return;
            }
            let cfg = Cfg::from_env();
            if cfg.rate.is_some() {
                rate_mode(&cfg);
            } else {
                fleet_mode(&cfg);
            }
        }
    }
}
