//! The probe record: one per target x address, one `Option` per phase (`None` = not reached).
//!
//! This is the record of truth: JSON Lines is its serde form, every other output is a view.
//! Phases store facts only; `diagnose` turns them into findings.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

pub use crate::finding::{Finding, FindingCode, Phase, Severity};
use crate::rdp::x224::Protocols;

/// Inventory-supplied facts that travel with a target into every output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetInfo {
    /// The host as written in the inventory or on the command line (name or IP).
    pub host: String,
    pub port: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expect_ip: Vec<IpAddr>,
    /// Other inventory columns, in file order (name, value).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra: Vec<(String, String)>,
    /// `file:line` the target came from (`cli` for command-line targets).
    #[serde(default)]
    pub source: String,
    /// An address expanded from a CIDR or range, not a host the inventory names: nothing
    /// answering there is not a failure for the exit code.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub from_range: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DnsStatus {
    /// The target is an IP address; no forward lookup.
    Literal,
    /// Pinned with `--resolve NAME=IP`.
    Pinned,
    Resolved,
    Nxdomain,
    Nodata,
    Servfail,
    Refused,
    Timeout,
    Error,
}

impl DnsStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DnsStatus::Literal => "literal",
            DnsStatus::Pinned => "pinned",
            DnsStatus::Resolved => "resolved",
            DnsStatus::Nxdomain => "nxdomain",
            DnsStatus::Nodata => "nodata",
            DnsStatus::Servfail => "servfail",
            DnsStatus::Refused => "refused",
            DnsStatus::Timeout => "timeout",
            DnsStatus::Error => "error",
        }
    }

    pub fn resolved(self) -> bool {
        matches!(
            self,
            DnsStatus::Literal | DnsStatus::Pinned | DnsStatus::Resolved
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DnsOutcome {
    pub status: DnsStatus,
    /// Every address the name resolved to (A then AAAA).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<IpAddr>,
    /// CNAME chain target, when the answer went through one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical: Option<String>,
    /// PTR name for IP targets (used for certificate name checks); failure is not a fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ptr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TcpStatus {
    Open,
    Refused,
    Filtered,
    Unreachable,
    Error,
}

impl TcpStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TcpStatus::Open => "open",
            TcpStatus::Refused => "refused",
            TcpStatus::Filtered => "filtered",
            TcpStatus::Unreachable => "unreachable",
            TcpStatus::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TcpOutcome {
    pub status: TcpStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtt_ms: Option<f64>,
    /// io::ErrorKind / errno name for `Error` and `Unreachable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The ICMP error that ended the connect, read from the socket's error queue
    /// (`IP_RECVERR`): which message, and which router (or the host) sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icmp: Option<IcmpReport>,
    /// Companion SYNs to other ports when this port gave no answer: host down or port filtered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alive: Option<AliveOutcome>,
}

impl TcpOutcome {
    /// An outcome that is only its status: no time, error, ICMP or companion probes.
    pub fn status(status: TcpStatus) -> TcpOutcome {
        TcpOutcome {
            status,
            rtt_ms: None,
            error: None,
            icmp: None,
            alive: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IcmpProto {
    Icmp,
    Icmpv6,
}

/// One ICMP error about our SYN (`sock_extended_err`): type and code as sent, and the sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IcmpReport {
    pub proto: IcmpProto,
    #[serde(rename = "type")]
    pub icmp_type: u8,
    pub code: u8,
    /// The address the ICMP came from (a router, a firewall, or the host itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<IpAddr>,
}

/// What an ICMP error says about the path, in the terms the findings use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpMeaning {
    /// A filter rejected the packet: administratively prohibited (ICMP 3/9, 3/10, 3/13,
    /// ICMPv6 1/1) or port unreachable for TCP (a REJECT rule: TCP stacks answer with RST).
    Rejected,
    /// No route to the network (ICMP 3/0, 3/6, 3/11; ICMPv6 1/0, 1/6 reject route).
    NetUnreachable,
    /// Anything else: host unreachable, TTL exceeded, ...
    HostUnreachable,
}

impl IcmpReport {
    pub fn meaning(&self) -> IcmpMeaning {
        match (self.proto, self.icmp_type, self.code) {
            (IcmpProto::Icmp, 3, 3 | 9 | 10 | 13) | (IcmpProto::Icmpv6, 1, 1 | 4 | 5) => {
                IcmpMeaning::Rejected
            }
            (IcmpProto::Icmp, 3, 0 | 6 | 11) | (IcmpProto::Icmpv6, 1, 0 | 6) => {
                IcmpMeaning::NetUnreachable
            }
            _ => IcmpMeaning::HostUnreachable,
        }
    }

    /// e.g. "ICMP type 3 code 13 (communication administratively prohibited) from 10.200.0.1".
    pub fn describe(&self) -> String {
        let name = match (self.proto, self.icmp_type, self.code) {
            (IcmpProto::Icmp, 3, 0) => "net unreachable",
            (IcmpProto::Icmp, 3, 1) => "host unreachable",
            (IcmpProto::Icmp, 3, 3) => "port unreachable",
            (IcmpProto::Icmp, 3, 6) => "destination network unknown",
            (IcmpProto::Icmp, 3, 7) => "destination host unknown",
            (IcmpProto::Icmp, 3, 9) => "network administratively prohibited",
            (IcmpProto::Icmp, 3, 10) => "host administratively prohibited",
            (IcmpProto::Icmp, 3, 11) => "net unreachable for TOS",
            (IcmpProto::Icmp, 3, 12) => "host unreachable for TOS",
            (IcmpProto::Icmp, 3, 13) => "communication administratively prohibited",
            (IcmpProto::Icmp, 11, _) => "time exceeded",
            (IcmpProto::Icmpv6, 1, 0) => "no route to destination",
            (IcmpProto::Icmpv6, 1, 1) => "communication administratively prohibited",
            (IcmpProto::Icmpv6, 1, 3) => "address unreachable",
            (IcmpProto::Icmpv6, 1, 4) => "port unreachable",
            (IcmpProto::Icmpv6, 1, 5) => "source address failed ingress/egress policy",
            (IcmpProto::Icmpv6, 1, 6) => "reject route to destination",
            (IcmpProto::Icmpv6, 3, _) => "time exceeded",
            _ => "",
        };
        let proto = match self.proto {
            IcmpProto::Icmp => "ICMP",
            IcmpProto::Icmpv6 => "ICMPv6",
        };
        let mut s = format!("{proto} type {} code {}", self.icmp_type, self.code);
        if !name.is_empty() {
            s.push_str(&format!(" ({name})"));
        }
        if let Some(from) = self.from {
            s.push_str(&format!(" from {from}"));
        }
        s
    }
}

/// How one companion SYN ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AliveAnswer {
    /// The port accepted: the host is up.
    SynAck,
    /// The host's stack reset the SYN (nothing listens there): the host is up.
    Rst,
    /// Nothing before the deadline.
    Silent,
    /// An ICMP error came back instead (see `icmp`).
    Icmp,
    /// The scanner could not send it (its own error), or the deadline had passed.
    Error,
}

impl AliveAnswer {
    pub fn as_str(self) -> &'static str {
        match self {
            AliveAnswer::SynAck => "syn-ack",
            AliveAnswer::Rst => "rst",
            AliveAnswer::Silent => "silent",
            AliveAnswer::Icmp => "icmp",
            AliveAnswer::Error => "error",
        }
    }
}

/// One companion SYN: the port, the answer, and the ICMP error when one came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliveProbe {
    pub port: u16,
    pub answer: AliveAnswer,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icmp: Option<IcmpReport>,
}

/// The companion probes, in port order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliveOutcome {
    pub probes: Vec<AliveProbe>,
}

/// What the companion probes prove about the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness<'a> {
    /// This port answered (SYN-ACK or RST): the host is up.
    Up(&'a AliveProbe),
    /// Every companion was silent or reported the host unreachable.
    Down,
    /// No proof either way (a filter rejected a companion, or one could not be sent).
    Unknown,
}

impl AliveOutcome {
    pub fn liveness(&self) -> Liveness<'_> {
        if let Some(p) = self
            .probes
            .iter()
            .find(|p| matches!(p.answer, AliveAnswer::SynAck | AliveAnswer::Rst))
        {
            return Liveness::Up(p);
        }
        let down = |p: &AliveProbe| match p.answer {
            AliveAnswer::Silent => true,
            AliveAnswer::Icmp => p.icmp.is_some_and(|i| i.meaning() != IcmpMeaning::Rejected),
            _ => false,
        };
        if !self.probes.is_empty() && self.probes.iter().all(down) {
            Liveness::Down
        } else {
            Liveness::Unknown
        }
    }

    /// The `alive` column: `up (445 rst)`, `down`, `unknown`.
    pub fn summary(&self) -> String {
        match self.liveness() {
            Liveness::Up(p) => format!("up ({} {})", p.port, p.answer.as_str()),
            Liveness::Down => "down".into(),
            Liveness::Unknown => "unknown".into(),
        }
    }

    /// Every probe, e.g. "445 rst, 135 silent".
    pub fn details(&self) -> String {
        self.probes
            .iter()
            .map(|p| match &p.icmp {
                Some(i) => format!("{} {}", p.port, i.describe()),
                None => format!("{} {}", p.port, p.answer.as_str()),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What one X.224 exchange produced (closed set; see docs/protocol.md §2.3-2.5, §3.2-3.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum NegResult {
    /// RDP_NEG_RSP: selectedProtocol and flags.
    Selected { protocol: u32, flags: u8 },
    /// RDP_NEG_FAILURE with its code (unknown codes kept as numbers).
    Failure { code: u32 },
    /// Bare 11-byte CC: the server predates negotiation.
    Legacy,
    /// A CC with LI=6 that still carries negotiation data after the header, which clients
    /// ignore (they follow LI): `selected` or `failure` is what the hidden data said.
    UncoveredNeg {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        selected: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        failure: Option<u32>,
    },
    /// MCS Disconnect-Provider-Ultimatum instead of a CC.
    Rejected,
    /// Bytes that are not an X.224 CC (first bytes kept, hex).
    NotRdp { first_bytes: String, hint: String },
    /// TPKT length out of range (under 11 or over 64 KiB).
    BadLength { length: u32 },
    /// Connected, but no CC before the phase timeout.
    NoReply,
    /// Connection reset before a CC.
    Reset,
    /// Orderly close (FIN) before a CC.
    Closed,
    /// The reconnect itself failed (refused, timed out, ...).
    ConnectFailed { status: TcpStatus },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NegAttempt {
    /// requestedProtocols sent (u32 bitmask).
    pub requested: u32,
    pub result: NegResult,
}

/// Security-layer negotiation summary for one address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RdpOutcome {
    pub attempts: Vec<NegAttempt>,
    /// Layers the server accepted, in the order the matrix found them; each is one layer
    /// (`Protocols::RDP` is standard RDP security). Written by name: RDP, SSL, HYBRID, ...
    #[serde(with = "layer_names")]
    pub accepted: Vec<Protocols>,
    /// The single layer the server insists on, when the matrix proves one.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "layer_names::option"
    )]
    pub required: Option<Protocols>,
    /// Every RDP_NEG_FAILURE code seen.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<u32>,
    /// RDP_NEG_RSP flags (OR of every response).
    pub flags: u8,
    /// Only a bare CC was ever seen: layers are unknown.
    pub legacy: bool,
    /// Deep depth: SC_CORE version and SC_SECURITY level/method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_level: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub encryption_methods: Vec<u32>,
    /// A hint at the OS from the flags and the first selection (`os_hint`), set by
    /// `diagnose::report`; only a hint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_hint: Option<String>,
}

/// How a layer that is not one known protocol is written (a server selecting several bits or
/// an undefined one); every such value is kept as [`UNKNOWN_LAYER`], so it is listed once.
pub const UNKNOWN_LAYER_NAME: &str = "UNKNOWN";
/// The stand-in for such a layer: every bit the codec does not know.
pub const UNKNOWN_LAYER: Protocols = Protocols::from_bits_retain(!Protocols::all().bits());

/// The name a layer is written under: the codec's name, else "UNKNOWN".
pub fn layer_label(layer: Protocols) -> &'static str {
    layer.layer_name().unwrap_or(UNKNOWN_LAYER_NAME)
}

impl RdpOutcome {
    /// Mark a layer accepted (once; discovery order is kept). `layer` is a selectedProtocol
    /// value: anything but one known layer is recorded as [`UNKNOWN_LAYER`].
    pub fn accept(&mut self, layer: Protocols) {
        let layer = if layer.layer_name().is_some() {
            layer
        } else {
            UNKNOWN_LAYER
        };
        if !self.accepted.contains(&layer) {
            self.accepted.push(layer);
        }
    }

    /// Whether the server accepted `layer`.
    pub fn accepts(&self, layer: Protocols) -> bool {
        self.accepted.contains(&layer)
    }

    /// The accepted layers' names, in discovery order.
    pub fn accepted_names(&self) -> Vec<&'static str> {
        self.accepted.iter().map(|l| layer_label(*l)).collect()
    }
}

/// Serde for layers as their names (`["SSL","RDP"]`), the form every saved report has.
mod layer_names {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::{Protocols, UNKNOWN_LAYER, UNKNOWN_LAYER_NAME, layer_label};

    fn parse<E: serde::de::Error>(name: &str) -> Result<Protocols, E> {
        if name == UNKNOWN_LAYER_NAME {
            return Ok(UNKNOWN_LAYER);
        }
        Protocols::from_layer_name(name)
            .ok_or_else(|| E::custom(format!("unknown security layer {name:?}")))
    }

    pub fn serialize<S: Serializer>(v: &[Protocols], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|l| layer_label(*l)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Protocols>, D::Error> {
        let names: Vec<String> = Vec::deserialize(d)?;
        names.iter().map(|n| parse(n)).collect()
    }

    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(v: &Option<Protocols>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(l) => s.serialize_some(layer_label(*l)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Protocols>, D::Error> {
            let name: Option<String> = Option::deserialize(d)?;
            name.map(|n| parse(&n)).transpose()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsStatus {
    /// Handshake completed (rustls, or OpenSSL for legacy hosts).
    Ok,
    /// Handshake only seen via the raw legacy ClientHello (ServerHello + Certificate read).
    LegacyHello,
    /// The server sent a TLS alert.
    Alert,
    /// RST right after our ClientHello.
    ResetAfterHello,
    /// FIN right after our ClientHello.
    EofAfterHello,
    /// CC arrived but the server's TLS flight never did.
    Stalled,
    /// No common version or cipher suite.
    NoCommon,
    /// Bytes that are not TLS.
    NotTls,
    Error,
}

impl TlsStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TlsStatus::Ok => "ok",
            TlsStatus::LegacyHello => "legacy-hello",
            TlsStatus::Alert => "alert",
            TlsStatus::ResetAfterHello => "reset-after-hello",
            TlsStatus::EofAfterHello => "eof-after-hello",
            TlsStatus::Stalled => "stalled",
            TlsStatus::NoCommon => "no-common",
            TlsStatus::NotTls => "not-tls",
            TlsStatus::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsOutcome {
    pub status: TlsStatus,
    /// e.g. "TLSv1.2".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// IANA suite name, e.g. "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cipher: Option<String>,
    /// Alert description code (e.g. 70 protocol_version) when status = alert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<u8>,
    /// Which client got the facts: "rustls", "legacy-hello", "openssl".
    pub via: String,
    /// Deep depth: versions accepted by single-version hellos ("TLSv1.0", ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// Deep depth: the suites each accepted version accepts (`probe::suites`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suites: Vec<SuiteList>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The server spoke only TLS < 1.2 (or suites rustls refuses) and legacy paths were used.
    pub legacy: bool,
}

/// The cipher suites one TLS version accepts, enumerated one connection per suite.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteList {
    /// "TLSv1.2", as in `TlsOutcome::versions`.
    pub version: String,
    /// IANA names (or "0xC0FF"), in the order the server picked them: its preference order
    /// when `server_order` is true, else the order of the scanner's offer.
    pub suites: Vec<String>,
    /// The weak suites (RC4, 3DES, DES, export, NULL, anonymous) accepted, from hellos offering
    /// only those, walked before the full list so the budget never cuts them off.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weak: Vec<String>,
    /// Whether the server chose by its own order (one more hello offering two accepted suites
    /// reversed); `None` when not checked (fewer than two suites, or no budget left).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_order: Option<bool>,
    /// The enumeration ran to the server's refusal; false when the connection budget, the
    /// deadline or a silent server cut it short (more suites may be accepted).
    pub complete: bool,
    /// What went wrong, server faults included (a suite never offered, another version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Certificate facts (leaf), computed by cert.rs; names are server-controlled text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertFacts {
    pub subject: String,
    pub issuer: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sans: Vec<String>,
    /// RFC 3339 UTC.
    pub not_before: String,
    pub not_after: String,
    /// Unix seconds (for arithmetic without reparsing).
    pub not_before_unix: i64,
    pub not_after_unix: i64,
    pub self_signed: bool,
    /// e.g. "RSA-2048", "EC-P256".
    pub key: String,
    pub key_bits: u32,
    /// e.g. "sha256WithRSAEncryption".
    pub sig_alg: String,
    pub sha1: String,
    pub sha256: String,
    /// Name check against the inventory name / PTR / IP; None when there was nothing to check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_match: Option<bool>,
    /// The name the certificate was checked against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_name: Option<String>,
    /// Chain builds to a system root or --ca-bundle (ignoring names, dates and EKU).
    pub trusted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_error: Option<String>,
    pub chain_len: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parse_error: Option<String>,
    /// Serial number, upper-case hex as encoded.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub serial: String,
    /// Extended key usage OIDs (dotted, capped); `None` = no EKU extension (any usage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eku: Option<Vec<String>>,
    /// Key usage bit names (RFC 5280 spelling, e.g. "keyEncipherment").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_usage: Vec<String>,
    /// Microsoft certificate template: name and/or OID with version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// CRL distribution point URLs (capped, control characters escaped).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crl_urls: Vec<String>,
    /// AIA OCSP responder URLs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ocsp_urls: Vec<String>,
    /// AIA caIssuers URLs (where the issuer's certificate can be fetched).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ca_issuers_urls: Vec<String>,
    /// The server did not send the leaf's issuer, but it is known (trust store / AIA): how
    /// the chain would be completed. Distinct from an untrusted root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_issuer: Option<String>,
    /// `--check-revocation`: the leaf's status by its OCSP responder / CRL (`None`: not asked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation: Option<Revocation>,
}

/// Revocation status of a certificate, overall or by one source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RevocationStatus {
    Good,
    Revoked,
    /// No source answered (refused, timed out, DNS, HTTP error, redirect).
    Unreachable,
    /// An answer came but cannot be believed or read: not DER, expired, signed by someone else.
    Unusable,
    /// Nothing to ask (no http:// URL, issuer unknown, self-signed, over a cap, out of time).
    NotChecked,
}

impl RevocationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RevocationStatus::Good => "good",
            RevocationStatus::Revoked => "revoked",
            RevocationStatus::Unreachable => "unreachable",
            RevocationStatus::Unusable => "unusable",
            RevocationStatus::NotChecked => "not-checked",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RevocationMethod {
    Ocsp,
    Crl,
}

/// One URL asked (or refused) for the leaf's revocation status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationCheck {
    pub method: RevocationMethod,
    /// As the certificate names it (control characters escaped).
    pub url: String,
    pub status: RevocationStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// RFC 3339, when this source says revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The leaf's revocation status: OCSP first, then the CRLs, as CryptoAPI asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    pub status: RevocationStatus,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<RevocationCheck>,
    /// Why nothing was checked, when nothing was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CredSspStatus {
    /// Server answered with a TSRequest carrying an NTLM CHALLENGE.
    Challenge,
    /// Server answered with a TSRequest errorCode.
    ErrorCode,
    /// A TSRequest without a usable CHALLENGE.
    NoChallenge,
    /// Reply was not DER TSRequest.
    Malformed,
    Reset,
    Closed,
    Timeout,
    /// TLS could not be completed on this build (legacy host without the legacy-tls feature).
    Unavailable,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NtlmInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nb_computer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nb_domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_computer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_tree: Option<String>,
    /// "major.minor.build", a claim (FreeRDP fakes 6.1.7601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_name: Option<String>,
    /// Server clock (unix seconds) from MsvAvTimestamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_unix: Option<i64>,
    /// Server minus scanner, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_skew_s: Option<i64>,
    pub flags: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredSspOutcome {
    pub status: CredSspStatus,
    /// The server's own TSRequest version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// TSRequest errorCode (NTSTATUS), when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ntlm: Option<NtlmInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How the server answered one client profile's ClientHello.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HelloStatus {
    /// A ServerHello (version and suite recorded).
    Hello,
    /// A fatal alert.
    Alert,
    /// Reset or closed at the hello.
    Closed,
    /// Nothing before the timeout.
    NoReply,
    /// Not TLS, or a flight that does not parse.
    Malformed,
}

/// One client profile's ClientHello sent to the server (`clients::PROFILES`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileHello {
    /// Profile id ("win11", ...).
    pub profile: String,
    pub status: HelloStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cipher: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Whether a client profile can connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Connects {
    Yes,
    No,
    /// The gathered facts do not decide.
    Unknown,
}

/// One client profile's verdict for a host, with the deciding fact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientVerdict {
    pub profile: String,
    pub connects: Connects,
    pub reason: String,
}

/// What the kernel measured on the probe's connections to one address (`TCP_INFO`), and the
/// MSS clamp the path needed. Read when each connection is done with: the main connection (the
/// one TLS ran on, else the first) at its close, the matrix's after their X.224 exchange.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NetFacts {
    /// Segments the scanner retransmitted, summed over the connections measured.
    pub retransmits: u32,
    /// Connections whose `TCP_INFO` was read.
    pub measured: u32,
    /// The main connection's smoothed RTT (the kernel's `tcpi_rtt`), ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub srtt_ms: Option<f64>,
    /// Its RTT mean deviation (`tcpi_rttvar`), ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtt_var_ms: Option<f64>,
    /// The TLS handshake on the main connection, ClientHello to Finished, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handshake_ms: Option<f64>,
    /// The MSS the scanner clamped its SYN to after the TLS flight stalled. With TLS then
    /// completing, full-size packets are lost on the path (a path-MTU blackhole).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clamped_mss: Option<u32>,
    /// The RDP-UDP probe (one MS-RDPEUDP SYN to the RDP port over UDP) after TCP RDP worked;
    /// `None`: not probed (`--udp off`, quick depth, or TCP never got that far).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub udp: Option<UdpOutcome>,
}

/// How the RDP-UDP SYN ended (the `udp` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UdpStatus {
    /// A SYN+ACK acknowledging our SYN came back: clients can use the UDP transport.
    Open,
    /// Nothing before the deadline (a filter drops it, or nothing answers and no ICMP is sent).
    NoAnswer,
    /// An ICMP error came back (port unreachable: no UDP listener; or unreachable/prohibited).
    Refused,
    /// Datagrams came back, none of them the SYN+ACK for our SYN.
    NotRdpUdp,
    /// The scanner could not send it (its own error).
    Error,
}

impl UdpStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UdpStatus::Open => "open",
            UdpStatus::NoAnswer => "no-answer",
            UdpStatus::Refused => "refused",
            UdpStatus::NotRdpUdp => "not-rdp-udp",
            UdpStatus::Error => "error",
        }
    }
}

/// The RDP-UDP probe's outcome: status and what the SYN+ACK announced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UdpOutcome {
    pub status: UdpStatus,
    /// SYN to SYN+ACK (or to the ICMP error), ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtt_ms: Option<f64>,
    /// uUdpVer the server chose (MS-RDPEUDP 2.2.2.9), when it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u16>,
    /// The smaller of the MTUs the SYN+ACK announced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u16>,
    /// errno name, or why the datagrams that came back were not the SYN+ACK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Everything learned about one target x address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeRecord {
    pub target: TargetInfo,
    /// None when DNS gave no address (the row still exists).
    pub address: Option<IpAddr>,
    pub dns: DnsOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<TcpOutcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rdp: Option<RdpOutcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsOutcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert: Option<CertFacts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credssp: Option<CredSspOutcome>,
    /// Client profiles' own ClientHellos and the server's answers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profile_hellos: Vec<ProfileHello>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net: Option<NetFacts>,
    /// TCP connections made to this address.
    pub connections: u32,
    /// Attempts made (retries on timeouts); `flaky` when they disagreed.
    pub attempts: u32,
    pub flaky: bool,
    /// Per-host deadline hit: later phases were cut short.
    pub deadline_hit: bool,
    /// RFC 3339 UTC start of the probe.
    pub scanned_at: String,
    pub duration_ms: f64,
}

impl DnsOutcome {
    /// An outcome that is only its status: no addresses, names, time or error.
    pub fn status(status: DnsStatus) -> DnsOutcome {
        DnsOutcome {
            status,
            addresses: Vec::new(),
            canonical: None,
            ptr: None,
            ms: None,
            error: None,
        }
    }
}

impl ProbeRecord {
    /// A record for `target` before any probe: nothing learned, no connection, one attempt. The
    /// probes fill it in; a DNS failure's address-less row stays like this.
    pub fn new(target: TargetInfo, dns: DnsOutcome, scanned_at: String) -> ProbeRecord {
        ProbeRecord {
            target,
            address: None,
            dns,
            tcp: None,
            rdp: None,
            tls: None,
            cert: None,
            credssp: None,
            profile_hellos: Vec::new(),
            net: None,
            connections: 0,
            attempts: 1,
            flaky: false,
            deadline_hit: false,
            scanned_at,
            duration_ms: 0.0,
        }
    }
}

/// A row's change against `--baseline`. The vocabulary is stable (nightly jobs grep it); see
/// `report::baseline` for what each means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    New,
    Fixed,
    Changed,
    Unchanged,
    Gone,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::New => "new",
            Change::Fixed => "fixed",
            Change::Changed => "changed",
            Change::Unchanged => "unchanged",
            Change::Gone => "gone",
        }
    }

    /// The inverse of `as_str`.
    pub fn parse(s: &str) -> Option<Change> {
        [
            Change::New,
            Change::Fixed,
            Change::Changed,
            Change::Unchanged,
            Change::Gone,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }

    /// Display order: what needs attention first.
    pub fn rank(self) -> u8 {
        match self {
            Change::New => 0,
            Change::Changed => 1,
            Change::Fixed => 2,
            Change::Gone => 3,
            Change::Unchanged => 4,
        }
    }
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A diagnosed record: what every sink writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostReport {
    #[serde(flatten)]
    pub record: ProbeRecord,
    /// Primary finding's code.
    pub verdict: FindingCode,
    pub severity: Severity,
    /// Primary first.
    pub findings: Vec<Finding>,
    /// One verdict per client profile (`clients::PROFILES`); empty when nothing is accepted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<ClientVerdict>,
    /// Against `--baseline`: new, fixed, changed, unchanged or gone (absent without a baseline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
    /// RFC 3339: when this row was first seen failing (carried forward from the baseline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen_failing: Option<String>,
    /// Which run wrote the row (`scan --run-id`, with `--shard`); absent in files written without
    /// one, so older files read as before. `merge --run-id/--shards` checks it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<RunTag>,
}

/// The run a row belongs to: what lets `merge` refuse a stale or missing shard.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunTag {
    /// The run id all shards of one run share (`--run-id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `K/N` when the scan was shard K of N.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Layers travel as names in discovery order, exactly as when they were strings.
    #[test]
    fn layers_serialise_by_name_in_discovery_order() {
        let mut rdp = RdpOutcome::default();
        for layer in [
            Protocols::HYBRID_EX,
            Protocols::HYBRID,
            Protocols::from_bits_retain(0x40),
            Protocols::SSL,
            Protocols::HYBRID,
            Protocols::from_bits_retain(0x03),
            Protocols::RDP,
        ] {
            rdp.accept(layer);
        }
        rdp.required = Some(Protocols::HYBRID);
        let json = serde_json::to_string(&rdp).unwrap();
        assert!(
            json.contains(
                r#""accepted":["HYBRID_EX","HYBRID","UNKNOWN","SSL","RDP"],"required":"HYBRID""#
            ),
            "{json}"
        );
        assert_eq!(
            rdp.accepted_names().join("|"),
            "HYBRID_EX|HYBRID|UNKNOWN|SSL|RDP"
        );
        let back: RdpOutcome = serde_json::from_str(&json).unwrap();
        assert_eq!(back, rdp);
        assert!(back.accepts(Protocols::RDP) && !back.accepts(Protocols::RDSTLS));

        let bad = json.replace(r#""SSL""#, r#""TLS""#);
        let e = serde_json::from_str::<RdpOutcome>(&bad).unwrap_err();
        assert!(
            e.to_string().contains("unknown security layer \"TLS\""),
            "{e}"
        );
    }

    #[test]
    fn change_round_trips() {
        for c in [
            Change::New,
            Change::Fixed,
            Change::Changed,
            Change::Unchanged,
            Change::Gone,
        ] {
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
            assert_eq!(Change::parse(c.as_str()), Some(c));
            assert_eq!(serde_json::from_str::<Change>(&json).unwrap(), c);
        }
        assert_eq!(Change::parse("New"), None);
    }
}
