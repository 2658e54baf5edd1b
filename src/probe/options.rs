//! What the probe needs to know, and nothing else: depth, timeouts, the per-address budget and
//! the global connection rate. Built once from the scan configuration
//! (the `probe` group of `ScanConfig`), so the probe never sees flags, files or output settings.

use std::time::Duration;

use clap::ValueEnum;

/// How much of the plan runs for each address (`--depth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Depth {
    /// One connection: request SSL|HYBRID|HYBRID_EX, TLS, certificate, CredSSP.
    Quick,
    /// The security-layer matrix in up to three connections (default).
    Standard,
    /// Standard plus standard-RDP encryption, server RDP version and single-version TLS hellos.
    Deep,
}

#[derive(Debug, Clone)]
pub struct ProbeOptions {
    pub depth: Depth,
    /// One TCP connect.
    pub connect_timeout: Duration,
    /// One phase's reply (CC, TLS handshake, TSRequest, ...).
    pub timeout: Duration,
    /// Everything for one address, retries included: the budget no phase may exceed.
    pub host_deadline: Duration,
    /// Pause between two connections to the same address.
    pub host_spacing: Duration,
    /// Extra attempts for an address whose attempt timed out.
    pub retries: u32,
    /// New connections per second across the scan; 0 = unlimited.
    pub rate: u32,
    /// Ports tried with one SYN each when the RDP port gives no answer (host down or port
    /// filtered); empty = not tried.
    pub alive_ports: Vec<u16>,
    /// `--check-revocation`: ask the OCSP responders and CRL distribution points the leaf
    /// names (hosts other than the scanned ones).
    pub check_revocation: bool,
    /// Send one MS-RDPEUDP SYN to the RDP port over UDP after TCP RDP worked (`--udp`).
    pub udp: bool,
}
