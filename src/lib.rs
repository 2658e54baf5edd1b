//! rdpsweep: find out why Remote Desktop fails across a fleet, before users do.
//!
//! Pipeline: targets -> resolve -> probe (tcp, x224, tls, cert, credssp) -> ProbeRecord
//! -> diagnose (pure) -> sinks (CSV, JSONL, HTML). See docs in README.md.

pub mod cert;
pub mod cli;
pub mod clients;
pub mod clock;
pub mod cmd;
pub mod config;
pub mod configfile;
pub mod diagnose;
pub mod engine;
pub mod finding;
pub mod inventory;
#[cfg(feature = "lab")]
pub mod lab;
pub mod model;
pub mod os_hint;
pub mod pace;
pub mod probe;
pub mod rdp;
pub mod report;
pub mod resolve;
pub mod revocation;
pub mod shard;
pub mod target;
pub mod tls;
