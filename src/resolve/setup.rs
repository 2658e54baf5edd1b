//! Parsing of the resolver's command-line settings: `--dns-server` and `--resolve` pins.

use std::net::{IpAddr, SocketAddr};

use super::{normalize_name, parse_ip_literal};

/// Parses `--dns-server`: "IP", "IP:PORT", "[v6]:PORT", "[v6]" or a bare IPv6 address.
pub fn parse_dns_server(s: &str) -> Result<SocketAddr, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("empty --dns-server value: expected IP or IP:PORT".to_string());
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
        return Err(format!(
            "invalid --dns-server {t:?}: expected IP, IP:PORT or [IPv6]:PORT"
        ));
    };
    if addr.port() == 0 {
        return Err(format!("invalid --dns-server {t:?}: port 0"));
    }
    Ok(addr)
}

/// Parses `--resolve`: "NAME=IP", or curl's "NAME:PORT:IP" (the port is ignored). IPv6 may be
/// bracketed. The name comes back lower case without a trailing dot.
pub fn parse_pin(s: &str) -> Result<(String, IpAddr), String> {
    let t = s.trim();
    let (name, ip) = if let Some((name, ip)) = t.split_once('=') {
        (name, ip)
    } else if let Some((name, rest)) = t.split_once(':') {
        let (port, ip) = rest
            .split_once(':')
            .ok_or_else(|| format!("invalid --resolve {t:?}: expected NAME=IP or NAME:PORT:IP"))?;
        if port.parse::<u16>().is_err() {
            return Err(format!("invalid --resolve {t:?}: bad port {port:?}"));
        }
        (name, ip)
    } else {
        return Err(format!(
            "invalid --resolve {t:?}: expected NAME=IP or NAME:PORT:IP"
        ));
    };
    let name = normalize_name(name);
    check_pin_name(&name).map_err(|why| format!("invalid --resolve {t:?}: {why}"))?;
    let ip = parse_ip_literal(ip.trim()).ok_or_else(|| {
        format!(
            "invalid --resolve {t:?}: {:?} is not an IP address",
            ip.trim()
        )
    })?;
    Ok((name, ip))
}

/// A pin name must look like a host name (it is compared with inventory names).
fn check_pin_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("empty name".to_string());
    }
    if name.len() > 253 {
        return Err("name longer than 253 characters".to_string());
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err("empty label in name".to_string());
        }
        if label.len() > 63 {
            return Err("label longer than 63 characters".to_string());
        }
        if !label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!("unexpected character in {label:?}"));
        }
    }
    Ok(())
}
