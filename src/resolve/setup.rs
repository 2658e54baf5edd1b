//! Parsing of the resolver's command-line settings: `--dns-server` and `--resolve` pins.

use std::net::{IpAddr, SocketAddr};

use super::{normalize_name, parse_ip_literal};

/// Why a `--dns-server` value was refused (the value as written, trimmed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsServerError {
    #[error("empty --dns-server value: expected IP or IP:PORT")]
    Empty,
    #[error("invalid --dns-server {0:?}: expected IP, IP:PORT or [IPv6]:PORT")]
    Syntax(String),
    #[error("invalid --dns-server {0:?}: port 0")]
    PortZero(String),
}

/// Why a `--resolve` pin was refused (`pin` is the value as written, trimmed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    #[error("invalid --resolve {0:?}: expected NAME=IP or NAME:PORT:IP")]
    Syntax(String),
    #[error("invalid --resolve {pin:?}: bad port {port:?}")]
    Port { pin: String, port: String },
    #[error("invalid --resolve {pin:?}: {why}")]
    Name { pin: String, why: PinNameError },
    #[error("invalid --resolve {pin:?}: {ip:?} is not an IP address")]
    Ip { pin: String, ip: String },
}

/// What is wrong with a pin's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinNameError {
    #[error("empty name")]
    Empty,
    #[error("name longer than 253 characters")]
    TooLong,
    #[error("empty label in name")]
    EmptyLabel,
    #[error("label longer than 63 characters")]
    LabelTooLong,
    /// The label holding it.
    #[error("unexpected character in {0:?}")]
    Character(String),
}

// Callers that still gather their errors as text (the configuration checks) keep using `?`.
impl From<DnsServerError> for String {
    fn from(e: DnsServerError) -> String {
        e.to_string()
    }
}

impl From<PinError> for String {
    fn from(e: PinError) -> String {
        e.to_string()
    }
}

/// Parses `--dns-server`: "IP", "IP:PORT", "[v6]:PORT", "[v6]" or a bare IPv6 address.
pub fn parse_dns_server(s: &str) -> Result<SocketAddr, DnsServerError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(DnsServerError::Empty);
    }
    let addr = if let Ok(ip) = t.parse::<IpAddr>() {
        SocketAddr::new(ip, 53)
    } else if let Ok(sa) = t.parse::<SocketAddr>() {
        sa
    } else if let Some(ip) = t
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .and_then(|r| r.parse::<std::net::Ipv6Addr>().ok())
    {
        SocketAddr::new(IpAddr::V6(ip), 53)
    } else {
        return Err(DnsServerError::Syntax(t.to_string()));
    };
    if addr.port() == 0 {
        return Err(DnsServerError::PortZero(t.to_string()));
    }
    Ok(addr)
}

/// Parses `--resolve`: "NAME=IP", or curl's "NAME:PORT:IP" (the port is ignored). IPv6 may be
/// bracketed. The name comes back lower case without a trailing dot.
pub fn parse_pin(s: &str) -> Result<(String, IpAddr), PinError> {
    let t = s.trim();
    let (name, ip) = if let Some((name, ip)) = t.split_once('=') {
        (name, ip)
    } else if let Some((name, rest)) = t.split_once(':') {
        let (port, ip) = rest
            .split_once(':')
            .ok_or_else(|| PinError::Syntax(t.to_string()))?;
        if port.parse::<u16>().is_err() {
            return Err(PinError::Port {
                pin: t.to_string(),
                port: port.to_string(),
            });
        }
        (name, ip)
    } else {
        return Err(PinError::Syntax(t.to_string()));
    };
    let name = normalize_name(name);
    check_pin_name(&name).map_err(|why| PinError::Name {
        pin: t.to_string(),
        why,
    })?;
    let ip = parse_ip_literal(ip.trim()).ok_or_else(|| PinError::Ip {
        pin: t.to_string(),
        ip: ip.trim().to_string(),
    })?;
    Ok((name, ip))
}

/// A pin name must look like a host name (it is compared with inventory names).
fn check_pin_name(name: &str) -> Result<(), PinNameError> {
    if name.is_empty() {
        return Err(PinNameError::Empty);
    }
    if name.len() > 253 {
        return Err(PinNameError::TooLong);
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err(PinNameError::EmptyLabel);
        }
        if label.len() > 63 {
            return Err(PinNameError::LabelTooLong);
        }
        if !label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(PinNameError::Character(label.to_string()));
        }
    }
    Ok(())
}
