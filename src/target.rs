//! Targets and the target syntax shared by the command line, plain lists and CSV `host` cells.
//!
//! Syntax (one spec):
//!
//! | form | example | port |
//! |---|---|---|
//! | name | `rdp01.corp.example`, `rdp01.corp.example.` | `name:3390` |
//! | IPv4 | `192.0.2.10` | `192.0.2.10:3390` |
//! | IPv6 | `2001:db8::10`, `::1` | only in brackets: `[2001:db8::10]:3390` |
//! | CIDR | `192.0.2.0/24`, `2001:db8::/120` | `192.0.2.0/24:3390`, `[2001:db8::/120]:3390` |
//! | range | `192.0.2.10-40`, `192.0.2.10-198.51.100.20`, `2001:db8::1-2001:db8::ff` | `192.0.2.10-40:3390` |
//!
//! A bare IPv6 address never takes a port: `::1:3389` is the address `::1:3389`, so a
//! port after an IPv6 address needs brackets. Names follow DNS rules: labels of 1-63
//! letters, digits, `-` or `_`, at most 253 characters, one trailing dot allowed; they are
//! compared lower-cased without the trailing dot.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

use ipnet::IpNet;

use crate::model::TargetInfo;

/// Longest DNS name (RFC 1035, without the trailing dot).
const MAX_NAME_LEN: usize = 253;
/// Longest DNS label.
const MAX_LABEL_LEN: usize = 63;
/// User input quoted in an error message is cut to this many characters.
const SHOW_MAX: usize = 80;

/// What to connect to: a DNS name (resolved later) or an address.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Host {
    /// Lower-cased, without the trailing dot.
    Name(String),
    Ip(IpAddr),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Name(n) => f.write_str(n),
            Host::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// One host and port to scan, with the inventory facts that travel with it.
#[derive(Clone, Debug)]
pub struct Target {
    pub host: Host,
    pub port: u16,
    /// `info.host` is the host as written (display form); for an address expanded from
    /// a CIDR or range it is that address. `info.source` is `file:line` or `cli`.
    pub info: TargetInfo,
}

/// One parsed spec, before CIDR/range expansion. The port is `None` when not written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetSpec {
    Single(Host, Option<u16>),
    /// Host bits are cleared (`192.0.2.7/24` means `192.0.2.0/24`).
    Net(IpNet, Option<u16>),
    /// Inclusive, same address family, start <= end.
    Range(IpAddr, IpAddr, Option<u16>),
}

impl TargetSpec {
    /// The port written in the spec, if any.
    pub fn port(&self) -> Option<u16> {
        match self {
            TargetSpec::Single(_, p) | TargetSpec::Net(_, p) | TargetSpec::Range(_, _, p) => *p,
        }
    }
}

/// Why a target spec was refused. The messages are what users see (inventory errors carry
/// them after `file:line:`); quoted input goes through `show` and is cut to a readable length.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("empty host")]
    Empty,
    #[error("{} looks like a URL; give host or host:port", show(.0))]
    Url(String),
    #[error("missing ']' in {}", show(.0))]
    MissingBracket(String),
    #[error("unexpected {} after ']'; write [address]:port", show(.0))]
    AfterBracket(String),
    /// `[192.0.2.1]`: the fix is the address without brackets.
    #[error("brackets are for IPv6 addresses; write {addr}{}", .port.map(|p| format!(":{p}")).unwrap_or_default())]
    BracketedIpv4 { addr: String, port: Option<u16> },
    #[error("empty host before {}", show(.0))]
    EmptyHostBeforePort(String),
    #[error(transparent)]
    Port(#[from] PortError),
    #[error("IPv6 zone ids (%{}) are not supported; give a global or unique-local address", cut(.0))]
    ZoneId(String),
    #[error("{} is not an IPv6 CIDR", show(.0))]
    NotIpv6Cidr(String),
    #[error("invalid IPv6 address {} in range {}", show(.addr), show(.range))]
    RangeIpv6Start { addr: String, range: String },
    /// `bare`: written without brackets, where a port suffix is the likely mistake.
    #[error("invalid IPv6 address {}{}", show(.addr), if *.bare { " (a port after an IPv6 address needs brackets: [2001:db8::1]:3389)" } else { "" })]
    Ipv6 { addr: String, bare: bool },
    #[error("invalid CIDR {}", show(.0))]
    Cidr(String),
    #[error("invalid address {} in CIDR {}", show(.addr), show(.cidr))]
    CidrAddress { addr: String, cidr: String },
    #[error("invalid prefix length /{} in {} ({family} allows 0-{max})", cut(.prefix), show(.cidr))]
    Prefix {
        prefix: String,
        cidr: String,
        family: &'static str,
        max: u8,
    },
    #[error("range end .{end} is not an octet (0-255) in {}", show(.range))]
    RangeOctet { end: String, range: String },
    #[error("invalid range end {} in {}; write 192.0.2.10-40 or 192.0.2.10-192.0.3.20", show(.end), show(.range))]
    RangeEnd { end: String, range: String },
    #[error("range {} mixes IPv4 and IPv6", show(.0))]
    RangeMixed(String),
    #[error("range {} runs backwards ({start} is after {end})", show(.range))]
    RangeBackwards {
        range: String,
        start: IpAddr,
        end: IpAddr,
    },
    #[error(transparent)]
    Name(#[from] NameError),
}

/// Why a port was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    #[error("missing port after ':'")]
    Missing,
    #[error("invalid port {}: not a number", show(.0))]
    NotANumber(String),
    /// The digits without leading zeros.
    #[error("port {} out of range (1-65535)", cut(.0))]
    OutOfRange(String),
}

/// Why a host name was refused (DNS rules, see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("empty host name {}", show(.0))]
    Empty(String),
    #[error("non-ASCII host name {}; give its punycode (xn--) form", show(.0))]
    NonAscii(String),
    #[error("invalid character {ch:?} in host name {}", show(.name))]
    Character { ch: char, name: String },
    #[error("host name is {0} characters long (max {MAX_NAME_LEN})")]
    TooLong(usize),
    #[error("empty label in host name {}", show(.0))]
    EmptyLabel(String),
    #[error("label {} in host name is {len} characters long (max {MAX_LABEL_LEN})", show(.label))]
    LabelTooLong { label: String, len: usize },
    /// A numeric last label: resolvers would read it as an IPv4 address.
    #[error("invalid IPv4 address {}", show(.0))]
    NumericLast(String),
}

/// Parses one target spec (see the module docs); the message says what is wrong.
pub fn parse_target_spec(s: &str) -> Result<TargetSpec, TargetError> {
    parse_spec_written(s).map(|(spec, _)| spec)
}

/// Number of targets a spec expands to (saturating at `u128::MAX` for an IPv6 `/0`).
///
/// IPv4 prefixes up to /30 leave out the network and broadcast addresses; /31, /32 and
/// every IPv6 prefix keep all addresses. Ranges count every address written.
pub fn spec_len(spec: &TargetSpec) -> u128 {
    match spec_bounds(spec) {
        None => 1,
        Some((_, first, last)) => last.checked_sub(first).map_or(0, |d| d.saturating_add(1)),
    }
}

/// First and last address (as integers) a CIDR or range expands to, and whether it is
/// IPv6; `None` for a single host.
pub(crate) fn spec_bounds(spec: &TargetSpec) -> Option<(bool, u128, u128)> {
    match spec {
        TargetSpec::Single(..) => None,
        TargetSpec::Net(IpNet::V4(n), _) => {
            let first = u128::from(u32::from(n.network()));
            let last = u128::from(u32::from(n.broadcast()));
            if n.prefix_len() <= 30 {
                // Network and broadcast addresses are not hosts.
                Some((false, first.saturating_add(1), last.saturating_sub(1)))
            } else {
                Some((false, first, last))
            }
        }
        TargetSpec::Net(IpNet::V6(n), _) => {
            Some((true, u128::from(n.network()), u128::from(n.broadcast())))
        }
        TargetSpec::Range(a, b, _) => Some((a.is_ipv6(), ip_to_u128(*a), ip_to_u128(*b))),
    }
}

pub(crate) fn ip_to_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// Parses a spec and also returns the host part as written (no port, no brackets), which
/// becomes `TargetInfo::host`.
pub(crate) fn parse_spec_written(s: &str) -> Result<(TargetSpec, &str), TargetError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(TargetError::Empty);
    }
    if s.contains("://") {
        return Err(TargetError::Url(s.to_string()));
    }
    if let Some(rest) = s.strip_prefix('[') {
        let Some((inner, after)) = rest.split_once(']') else {
            return Err(TargetError::MissingBracket(s.to_string()));
        };
        let inner = inner.trim();
        let port = if after.is_empty() {
            None
        } else if let Some(p) = after.strip_prefix(':') {
            Some(parse_port(p)?)
        } else {
            return Err(TargetError::AfterBracket(after.to_string()));
        };
        if inner.parse::<std::net::Ipv4Addr>().is_ok() {
            return Err(TargetError::BracketedIpv4 {
                addr: inner.to_string(),
                port,
            });
        }
        return Ok((parse_v6_part(inner, port, false)?, inner));
    }
    if s.bytes().filter(|&b| b == b':').count() >= 2 {
        // More than one colon: an IPv6 address, which never takes a bare port.
        return Ok((parse_v6_part(s, None, true)?, s));
    }
    let (host, port) = match s.split_once(':') {
        Some((h, p)) => (h.trim(), Some(parse_port(p)?)),
        None => (s, None),
    };
    if host.is_empty() {
        // Only ":port" is left after trimming.
        return Err(TargetError::EmptyHostBeforePort(s.to_string()));
    }
    Ok((parse_host_part(host, port)?, host))
}

/// A port: decimal 1-65535.
pub(crate) fn parse_port(p: &str) -> Result<u16, PortError> {
    let p = p.trim();
    if p.is_empty() {
        return Err(PortError::Missing);
    }
    if !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PortError::NotANumber(p.to_string()));
    }
    match p.parse::<u32>() {
        Ok(v) if (1..=65535).contains(&v) => u16::try_from(v).map_err(|_| out_of_range(p)),
        _ => Err(out_of_range(p)),
    }
}

fn out_of_range(p: &str) -> PortError {
    let digits = p.trim_start_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    PortError::OutOfRange(digits.to_string())
}

/// IPv4 forms after the port was split off: CIDR, range, address or name.
fn parse_host_part(h: &str, port: Option<u16>) -> Result<TargetSpec, TargetError> {
    if h.contains('/') {
        return Ok(TargetSpec::Net(parse_cidr(h)?, port));
    }
    if let Some((a, b)) = h.split_once('-')
        && let Ok(start) = a.trim().parse::<IpAddr>()
    {
        let (start, end) = parse_range(start, b.trim(), h)?;
        return Ok(TargetSpec::Range(start, end, port));
    }
    if let Ok(ip) = h.parse::<IpAddr>() {
        return Ok(TargetSpec::Single(Host::Ip(ip), port));
    }
    Ok(TargetSpec::Single(Host::Name(parse_name(h)?), port))
}

/// IPv6 address, CIDR or range (inside brackets, or bare).
fn parse_v6_part(s: &str, port: Option<u16>, bare: bool) -> Result<TargetSpec, TargetError> {
    if let Some((_, zone)) = s.split_once('%') {
        return Err(TargetError::ZoneId(zone.to_string()));
    }
    if s.contains('/') {
        let net = parse_cidr(s)?;
        if !matches!(net, IpNet::V6(_)) {
            return Err(TargetError::NotIpv6Cidr(s.to_string()));
        }
        return Ok(TargetSpec::Net(net, port));
    }
    if let Some((a, b)) = s.split_once('-') {
        let start = a
            .trim()
            .parse::<Ipv6Addr>()
            .map_err(|_| TargetError::RangeIpv6Start {
                addr: a.trim().to_string(),
                range: s.to_string(),
            })?;
        let (start, end) = parse_range(IpAddr::V6(start), b.trim(), s)?;
        return Ok(TargetSpec::Range(start, end, port));
    }
    match s.parse::<Ipv6Addr>() {
        Ok(v6) => Ok(TargetSpec::Single(Host::Ip(IpAddr::V6(v6)), port)),
        Err(_) => Err(TargetError::Ipv6 {
            addr: s.to_string(),
            bare,
        }),
    }
}

fn parse_cidr(s: &str) -> Result<IpNet, TargetError> {
    let Some((a, p)) = s.split_once('/') else {
        return Err(TargetError::Cidr(s.to_string()));
    };
    let addr = a
        .trim()
        .parse::<IpAddr>()
        .map_err(|_| TargetError::CidrAddress {
            addr: a.trim().to_string(),
            cidr: s.to_string(),
        })?;
    let p = p.trim();
    let max: u8 = if addr.is_ipv4() { 32 } else { 128 };
    let family = if addr.is_ipv4() { "IPv4" } else { "IPv6" };
    let plen = if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) {
        p.parse::<u8>().ok().filter(|&v| v <= max)
    } else {
        None
    };
    let Some(plen) = plen else {
        return Err(TargetError::Prefix {
            prefix: p.to_string(),
            cidr: s.to_string(),
            family,
            max,
        });
    };
    IpNet::new(addr, plen)
        .map(|n| n.trunc())
        .map_err(|_| TargetError::Cidr(s.to_string()))
}

/// `b` is the text after '-': a full address, or (IPv4) the last octet.
fn parse_range(start: IpAddr, b: &str, whole: &str) -> Result<(IpAddr, IpAddr), TargetError> {
    let end = if let Ok(ip) = b.parse::<IpAddr>() {
        ip
    } else if let IpAddr::V4(v4) = start
        && !b.is_empty()
        && b.len() <= 3
        && b.bytes().all(|c| c.is_ascii_digit())
    {
        let Ok(last) = b.parse::<u8>() else {
            return Err(TargetError::RangeOctet {
                end: b.to_string(),
                range: whole.to_string(),
            });
        };
        let [o1, o2, o3, _] = v4.octets();
        IpAddr::from([o1, o2, o3, last])
    } else {
        return Err(TargetError::RangeEnd {
            end: b.to_string(),
            range: whole.to_string(),
        });
    };
    if start.is_ipv4() != end.is_ipv4() {
        return Err(TargetError::RangeMixed(whole.to_string()));
    }
    if ip_to_u128(end) < ip_to_u128(start) {
        return Err(TargetError::RangeBackwards {
            range: whole.to_string(),
            start,
            end,
        });
    }
    Ok((start, end))
}

/// Validates a DNS name; returns it lower-cased without the trailing dot.
pub(crate) fn parse_name(h: &str) -> Result<String, NameError> {
    let name = h.strip_suffix('.').unwrap_or(h);
    if name.is_empty() {
        return Err(NameError::Empty(h.to_string()));
    }
    if !name.is_ascii() {
        return Err(NameError::NonAscii(h.to_string()));
    }
    if let Some(c) = name
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
    {
        return Err(NameError::Character {
            ch: c,
            name: h.to_string(),
        });
    }
    if name.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong(name.len()));
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err(NameError::EmptyLabel(h.to_string()));
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(NameError::LabelTooLong {
                label: label.to_string(),
                len: label.len(),
            });
        }
    }
    // A numeric last label makes resolvers read the name as an IPv4 address
    // (inet_aton forms like 10.1.2 or 010.1.2.3), so it is neither a name nor an address.
    if name
        .rsplit('.')
        .next()
        .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(NameError::NumericLast(h.to_string()));
    }
    Ok(name.to_ascii_lowercase())
}

/// Quotes user text for an error message, cut to a readable length.
pub(crate) fn show(s: &str) -> String {
    format!("\"{}\"", cut(s).escape_debug())
}

fn cut(s: &str) -> String {
    if s.chars().count() <= SHOW_MAX {
        s.to_string()
    } else {
        let head: String = s.chars().take(SHOW_MAX - 3).collect();
        format!("{head}...")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }
    fn name(s: &str) -> Host {
        Host::Name(s.to_string())
    }
    fn err(s: &str) -> String {
        parse_target_spec(s).unwrap_err().to_string()
    }

    #[test]
    fn names() {
        assert_eq!(
            parse_target_spec("RDP01.Corp.Example").unwrap(),
            TargetSpec::Single(name("rdp01.corp.example"), None)
        );
        // Trailing dot dropped, port kept.
        assert_eq!(
            parse_target_spec("rdp01.corp.example.:3390").unwrap(),
            TargetSpec::Single(name("rdp01.corp.example"), Some(3390))
        );
        assert_eq!(
            parse_target_spec("  ts_01  ").unwrap(),
            TargetSpec::Single(name("ts_01"), None)
        );
        assert_eq!(
            parse_target_spec("localhost").unwrap(),
            TargetSpec::Single(name("localhost"), None)
        );
        let l63 = "a".repeat(63);
        assert!(parse_target_spec(&format!("{l63}.example")).is_ok());
        // 4 x 63 + 3 dots = 255 > 253.
        let long = [l63.as_str(); 4].join(".");
        assert_eq!(
            parse_target_spec(&long).unwrap_err(),
            TargetError::Name(NameError::TooLong(255))
        );
        assert_eq!(err(&long), "host name is 255 characters long (max 253)");
        // Exactly 253 is fine, with or without the trailing dot.
        let ok253 = format!("{}.{}.{}.{}", l63, l63, l63, "a".repeat(61));
        assert_eq!(ok253.len(), 253);
        assert!(parse_target_spec(&ok253).is_ok());
        assert!(parse_target_spec(&format!("{ok253}.")).is_ok());
    }

    #[test]
    fn name_errors() {
        assert_eq!(err(""), "empty host");
        assert_eq!(err("   "), "empty host");
        assert_eq!(err(":3389"), "empty host before \":3389\"");
        assert_eq!(err("a..b"), "empty label in host name \"a..b\"");
        assert_eq!(err("."), "empty host name \".\"");
        assert_eq!(
            err("rdp 01"),
            "invalid character ' ' in host name \"rdp 01\""
        );
        assert_eq!(
            err("rdp01!.corp.example"),
            "invalid character '!' in host name \"rdp01!.corp.example\""
        );
        assert_eq!(
            err(&format!("{}.example", "b".repeat(64))),
            format!(
                "label \"{}\" in host name is 64 characters long (max 63)",
                "b".repeat(64)
            )
        );
        assert_eq!(
            err("büro.corp.example"),
            "non-ASCII host name \"büro.corp.example\"; give its punycode (xn--) form"
        );
        assert_eq!(err("10.1.2.300"), "invalid IPv4 address \"10.1.2.300\"");
        assert_eq!(err("10.1.2"), "invalid IPv4 address \"10.1.2\"");
        assert_eq!(err("010.1.2.3"), "invalid IPv4 address \"010.1.2.3\"");
        assert!(err("rdp://host:3389").contains("looks like a URL"));
    }

    #[test]
    fn ipv4_and_ports() {
        assert_eq!(
            parse_target_spec("192.0.2.10").unwrap(),
            TargetSpec::Single(Host::Ip(ip("192.0.2.10")), None)
        );
        assert_eq!(
            parse_target_spec("192.0.2.10:3390").unwrap(),
            TargetSpec::Single(Host::Ip(ip("192.0.2.10")), Some(3390))
        );
        assert_eq!(
            parse_target_spec("rdp01:65535").unwrap().port(),
            Some(65535)
        );
        assert_eq!(parse_target_spec("rdp01:00001").unwrap().port(), Some(1));
        assert_eq!(err("rdp01:70000"), "port 70000 out of range (1-65535)");
        assert_eq!(err("rdp01:0"), "port 0 out of range (1-65535)");
        assert_eq!(err("rdp01:000"), "port 0 out of range (1-65535)");
        assert_eq!(
            err("rdp01:99999999999999999999999"),
            "port 99999999999999999999999 out of range (1-65535)"
        );
        assert_eq!(err("rdp01:"), "missing port after ':'");
        assert_eq!(err("rdp01:rdp"), "invalid port \"rdp\": not a number");
        assert_eq!(err("rdp01:+5"), "invalid port \"+5\": not a number");
        assert_eq!(err("rdp01:-5"), "invalid port \"-5\": not a number");
    }

    #[test]
    fn ipv6() {
        let v6 = |s: &str| Host::Ip(IpAddr::V6(s.parse::<Ipv6Addr>().unwrap()));
        assert_eq!(
            parse_target_spec("::1").unwrap(),
            TargetSpec::Single(v6("::1"), None)
        );
        assert_eq!(
            parse_target_spec("fe80::1").unwrap(),
            TargetSpec::Single(v6("fe80::1"), None)
        );
        // A bare IPv6 address never takes a port: this is one address.
        assert_eq!(
            parse_target_spec("::1:3389").unwrap(),
            TargetSpec::Single(v6("::1:3389"), None)
        );
        assert_eq!(
            parse_target_spec("[2001:db8::10]:3390").unwrap(),
            TargetSpec::Single(v6("2001:db8::10"), Some(3390))
        );
        assert_eq!(
            parse_target_spec("[::1]").unwrap(),
            TargetSpec::Single(v6("::1"), None)
        );
        assert!(err("2001:db8::zz").starts_with("invalid IPv6 address \"2001:db8::zz\" (a port"));
        assert_eq!(
            err("[2001:db8::zz]"),
            "invalid IPv6 address \"2001:db8::zz\""
        );
        assert_eq!(err("[::1"), "missing ']' in \"[::1\"");
        assert_eq!(
            err("[::1]3389"),
            "unexpected \"3389\" after ']'; write [address]:port"
        );
        assert_eq!(err("[::1]:0"), "port 0 out of range (1-65535)");
        assert_eq!(
            err("[192.0.2.1]:3389"),
            "brackets are for IPv6 addresses; write 192.0.2.1:3389"
        );
        assert_eq!(
            err("fe80::1%eth0"),
            "IPv6 zone ids (%eth0) are not supported; give a global or unique-local address"
        );
    }

    #[test]
    fn cidrs() {
        assert_eq!(
            parse_target_spec("192.0.2.0/24").unwrap(),
            TargetSpec::Net("192.0.2.0/24".parse().unwrap(), None)
        );
        // Host bits are cleared; the port follows the prefix.
        assert_eq!(
            parse_target_spec("192.0.2.77/24:3390").unwrap(),
            TargetSpec::Net("192.0.2.0/24".parse().unwrap(), Some(3390))
        );
        assert_eq!(
            parse_target_spec("2001:db8::/120").unwrap(),
            TargetSpec::Net("2001:db8::/120".parse().unwrap(), None)
        );
        assert_eq!(
            parse_target_spec("[2001:db8::/120]:3390").unwrap(),
            TargetSpec::Net("2001:db8::/120".parse().unwrap(), Some(3390))
        );
        assert_eq!(
            err("192.0.2.0/33"),
            "invalid prefix length /33 in \"192.0.2.0/33\" (IPv4 allows 0-32)"
        );
        assert_eq!(
            err("2001:db8::/129"),
            "invalid prefix length /129 in \"2001:db8::/129\" (IPv6 allows 0-128)"
        );
        assert_eq!(
            err("192.0.2.0/"),
            "invalid prefix length / in \"192.0.2.0/\" (IPv4 allows 0-32)"
        );
        assert_eq!(
            err("192.0.2.0/x"),
            "invalid prefix length /x in \"192.0.2.0/x\" (IPv4 allows 0-32)"
        );
        assert_eq!(
            err("192.0.2.300/24"),
            "invalid address \"192.0.2.300\" in CIDR \"192.0.2.300/24\""
        );
        assert_eq!(
            err("rdp01.corp.example/24"),
            "invalid address \"rdp01.corp.example\" in CIDR \"rdp01.corp.example/24\""
        );
    }

    #[test]
    fn ranges() {
        assert_eq!(
            parse_target_spec("10.1.2.10-40").unwrap(),
            TargetSpec::Range(ip("10.1.2.10"), ip("10.1.2.40"), None)
        );
        assert_eq!(
            parse_target_spec("10.1.2.10-10.1.3.20:3390").unwrap(),
            TargetSpec::Range(ip("10.1.2.10"), ip("10.1.3.20"), Some(3390))
        );
        assert_eq!(
            parse_target_spec("2001:db8::1-2001:db8::ff").unwrap(),
            TargetSpec::Range(ip("2001:db8::1"), ip("2001:db8::ff"), None)
        );
        assert_eq!(
            parse_target_spec("[2001:db8::1-2001:db8::ff]:3390").unwrap(),
            TargetSpec::Range(ip("2001:db8::1"), ip("2001:db8::ff"), Some(3390))
        );
        // Same start and end is one address.
        assert_eq!(spec_len(&parse_target_spec("10.1.2.10-10").unwrap()), 1);
        // A name with a hyphen is still a name.
        assert_eq!(
            parse_target_spec("rdp-01.corp.example").unwrap(),
            TargetSpec::Single(name("rdp-01.corp.example"), None)
        );
        assert_eq!(
            err("10.1.2.40-10"),
            "range \"10.1.2.40-10\" runs backwards (10.1.2.40 is after 10.1.2.10)"
        );
        assert_eq!(
            err("10.1.2.10-256"),
            "range end .256 is not an octet (0-255) in \"10.1.2.10-256\""
        );
        assert_eq!(
            err("10.1.2.10-x"),
            "invalid range end \"x\" in \"10.1.2.10-x\"; write 192.0.2.10-40 or 192.0.2.10-192.0.3.20"
        );
        assert_eq!(
            err("10.1.2.10-"),
            "invalid range end \"\" in \"10.1.2.10-\"; write 192.0.2.10-40 or 192.0.2.10-192.0.3.20"
        );
        assert_eq!(
            err("[2001:db8::1-10.0.0.1]"),
            "range \"2001:db8::1-10.0.0.1\" mixes IPv4 and IPv6"
        );
        // Last-octet form is IPv4 only.
        assert!(err("2001:db8::1-ff").starts_with("invalid range end \"ff\""));
    }

    #[test]
    fn lengths() {
        let len = |s: &str| spec_len(&parse_target_spec(s).unwrap());
        assert_eq!(len("rdp01"), 1);
        assert_eq!(len("10.0.0.0/8"), (1 << 24) - 2);
        assert_eq!(len("192.0.2.0/24"), 254);
        assert_eq!(len("192.0.2.0/30"), 2);
        assert_eq!(len("192.0.2.0/31"), 2);
        assert_eq!(len("192.0.2.1/32"), 1);
        assert_eq!(len("0.0.0.0/0"), (1u128 << 32) - 2);
        assert_eq!(len("2001:db8::/64"), 1 << 64);
        assert_eq!(len("2001:db8::/128"), 1);
        assert_eq!(len("::/0"), u128::MAX);
        assert_eq!(len("10.1.2.10-40"), 31);
        assert_eq!(len("10.1.2.10-10.1.3.20"), 246 + 21);
        assert_eq!(len("::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), u128::MAX);
    }

    #[test]
    fn written_form() {
        assert_eq!(parse_spec_written(" RDP01:3390 ").unwrap().1, "RDP01");
        assert_eq!(parse_spec_written("[::1]:3390").unwrap().1, "::1");
        assert_eq!(parse_spec_written("10.1.2.0/24").unwrap().1, "10.1.2.0/24");
        assert_eq!(
            parse_spec_written("192.0.2.5").unwrap().0,
            TargetSpec::Single(Host::Ip(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 5))), None)
        );
    }

    #[test]
    fn long_input_is_cut_in_messages() {
        let junk = "x!".repeat(10_000);
        let m = err(&junk);
        assert!(m.len() < 200, "{m}");
        assert!(m.contains("..."));
    }
}
