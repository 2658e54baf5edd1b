//! Client profiles as data, and which of them can connect to a host.
//!
//! A server is ok for some clients and fails for others: each client offers its own TLS
//! versions and suites, speaks its own CredSSP version and does or does not do NLA and standard
//! RDP security. [`PROFILES`] is the one table of those facts, each row citing its sources
//! (docs/clients.md explains them); [`verdicts`] judges every profile against what the probe
//! gathered, and says "unknown" rather than guess when the facts do not decide.

use crate::model::{ClientVerdict, Connects, HelloStatus, ProbeRecord, ProfileHello, TlsStatus};
use crate::rdp::x224::Protocols;
use crate::tls::TlsVersion;
use crate::tls::hello::{Ext, HelloSpec};
use crate::tls::suites::suite_id;

mod select;
pub use select::{CLIENT_SPECIFIC, Selection, UnknownClient, judge, valid_ids};

/// One client as the server sees it.
#[derive(Debug, Clone, Copy)]
pub struct Profile {
    /// Short id used in `clients_failing`, JSON Lines and `--client`.
    pub id: &'static str,
    pub name: &'static str,
    /// mstsc on Windows (Schannel); counts for the Windows-only findings.
    pub windows: bool,
    /// In the default `--client` selection. Windows 7 is not: it is out of support since
    /// January 2020 and speaks only TLS 1.0 by default, which every hardening guide turns off,
    /// so selecting it by default would fail exactly the servers that were hardened right.
    pub default_selected: bool,
    pub hello: HelloSpec,
    /// TSRequest version the client sends.
    pub credssp_version: u32,
    /// Refuses servers without the CVE-2018-0886 CredSSP update (TSRequest version <= 4):
    /// Windows' "Encryption Oracle Remediation" defaults to Mitigated since May 2018.
    pub requires_patched_credssp: bool,
    pub nla: bool,
    /// Standard RDP security (no TLS); `None` when no source says.
    pub standard_rdp: Option<bool>,
    /// Where each fact comes from.
    pub sources: &'static [&'static str],
}

// Cipher suite ids (IANA).
const AES256_GCM13: u16 = 0x1302;
const AES128_GCM13: u16 = 0x1301;
const CHACHA13: u16 = 0x1303;

/// Windows 11 22H2 and later, default priority order ("TLS Cipher Suites in Windows 11 v22H2
/// and later"): TLS 1.3 AES-GCM, then ECDHE-ECDSA/RSA GCM, ECDHE CBC-SHA2, ECDHE CBC-SHA1,
/// RSA key exchange. No ChaCha20, no DHE, no 3DES.
const WIN11_SUITES: &[u16] = &[
    AES256_GCM13,
    AES128_GCM13,
    0xC02C,
    0xC02B,
    0xC030,
    0xC02F, // ECDHE-ECDSA/RSA AES-GCM
    0xC024,
    0xC023,
    0xC028,
    0xC027, // ECDHE-ECDSA/RSA AES-CBC SHA-2
    0xC00A,
    0xC009,
    0xC014,
    0xC013, // ECDHE-ECDSA/RSA AES-CBC SHA-1
    0x009D,
    0x009C,
    0x003D,
    0x003C,
    0x0035,
    0x002F, // RSA key exchange
];

/// Windows 10 22H2 ("TLS Cipher Suites in Windows 10 v22H2"): the same TLS 1.2 order, no 1.3.
const WIN10_SUITES: &[u16] = &[
    0xC02C, 0xC02B, 0xC030, 0xC02F, 0xC024, 0xC023, 0xC028, 0xC027, 0xC00A, 0xC009, 0xC014, 0xC013,
    0x009D, 0x009C, 0x003D, 0x003C, 0x0035, 0x002F,
];

/// Windows 7 SP1 Schannel's order (testssl.sh client-simulation "IE 11 Win 7", a Schannel
/// capture) reduced to the suites TLS 1.0 can use: mstsc on 7 speaks TLS 1.0 by default.
const WIN7_SUITES: &[u16] = &[
    0xC014, 0xC013, 0x0035, 0x002F, 0xC00A, 0xC009, 0x0038, 0x0032, 0x000A, 0x0013,
];

/// Apple's platform TLS (testssl.sh "Safari 18.4 (iOS 18.4)" capture).
const APPLE_SUITES: &[u16] = &[
    AES128_GCM13,
    AES256_GCM13,
    CHACHA13,
    0xC02C,
    0xC02B,
    0xCCA9,
    0xC030,
    0xC02F,
    0xCCA8,
    0xC00A,
    0xC009,
    0xC014,
    0xC013,
    0x009D,
    0x009C,
    0x0035,
    0x002F,
    0xC008,
    0xC012,
    0x000A,
];

/// OpenSSL 3 default client list (what FreeRDP 3 offers with its default cipher string).
const OPENSSL3_SUITES: &[u16] = &[
    AES256_GCM13,
    CHACHA13,
    AES128_GCM13,
    0xC02C,
    0xC030,
    0x009F,
    0xCCA9,
    0xCCA8,
    0xCCAA,
    0xC02B,
    0xC02F,
    0x009E,
    0xC024,
    0xC028,
    0x006B,
    0xC023,
    0xC027,
    0x0067,
    0xC00A,
    0xC014,
    0x0039,
    0xC009,
    0xC013,
    0x0033,
    0x009D,
    0x009C,
    0x003D,
    0x003C,
    0x0035,
    0x002F,
];

/// x25519, P-256, P-384: Schannel's default curve order since Windows 10 1607 ("TLS Elliptic
/// Curves in Windows 10 1607 and later").
const SCHANNEL_GROUPS: &[u16] = &[0x001D, 0x0017, 0x0018];
/// Windows 7: P-256, P-384 (testssl.sh "IE 11 Win 7": prime256v1:secp384r1).
const WIN7_GROUPS: &[u16] = &[0x0017, 0x0018];
const APPLE_GROUPS: &[u16] = &[0x001D, 0x0017, 0x0018, 0x0019];
/// x25519, P-256, x448, P-521, P-384 (OpenSSL 3 default).
const OPENSSL3_GROUPS: &[u16] = &[0x001D, 0x0017, 0x001E, 0x0019, 0x0018];

/// Windows 10 Schannel's TLS 1.2 schemes in order (testssl.sh "IE 11 Win 10" capture).
const WIN10_SIGS: &[u16] = &[
    0x0401, 0x0501, 0x0201, 0x0403, 0x0503, 0x0203, 0x0202, 0x0601, 0x0603,
];
/// Windows 11: RSA-PSS first (TLS 1.3 needs it for RSA certificates), then Windows 10's list.
const WIN11_SIGS: &[u16] = &[
    0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0201, 0x0403, 0x0503, 0x0203, 0x0202, 0x0601, 0x0603,
];
const APPLE_SIGS: &[u16] = &[
    0x0403, 0x0804, 0x0401, 0x0503, 0x0203, 0x0805, 0x0501, 0x0806, 0x0601, 0x0201,
];
const OPENSSL3_SIGS: &[u16] = &[
    0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0303,
    0x0301, 0x0302, 0x0402, 0x0502, 0x0602,
];

/// Schannel's extension order (testssl.sh "IE 11 Win 10": status_request, supported_groups,
/// ec_point_formats, signature_algorithms, session_ticket, extended_master_secret,
/// renegotiation_info; SNI, ALPN and token binding left out: mstsc to an address sends none),
/// with the TLS 1.3 extensions before renegotiation_info.
const WIN11_EXTS: &[Ext] = &[
    Ext::StatusRequest,
    Ext::SupportedGroups,
    Ext::EcPointFormats,
    Ext::SignatureAlgorithms,
    Ext::SessionTicket,
    Ext::ExtendedMasterSecret,
    Ext::SupportedVersions,
    Ext::PskKeyExchangeModes,
    Ext::KeyShare,
    Ext::RenegotiationInfo,
];
const WIN10_EXTS: &[Ext] = &[
    Ext::StatusRequest,
    Ext::SupportedGroups,
    Ext::EcPointFormats,
    Ext::SignatureAlgorithms,
    Ext::SessionTicket,
    Ext::ExtendedMasterSecret,
    Ext::RenegotiationInfo,
];
/// TLS 1.0 has no signature_algorithms extension.
const WIN7_EXTS: &[Ext] = &[
    Ext::StatusRequest,
    Ext::SupportedGroups,
    Ext::EcPointFormats,
    Ext::ExtendedMasterSecret,
    Ext::RenegotiationInfo,
];
const TLS13_EXTS: &[Ext] = &[
    Ext::RenegotiationInfo,
    Ext::SupportedGroups,
    Ext::EcPointFormats,
    Ext::SessionTicket,
    Ext::ExtendedMasterSecret,
    Ext::SignatureAlgorithms,
    Ext::SupportedVersions,
    Ext::PskKeyExchangeModes,
    Ext::KeyShare,
];

const MS_TLS10_OFF: &str = "Microsoft, 'TLS 1.0 and TLS 1.1 soon to be disabled in Windows' \
    (Windows IT Pro blog, 2023-08-01): off by default from Windows 11 Insider builds of \
    September 2023 on, in-market versions unchanged";
const MS_CREDSSP: &str = "Microsoft, CVE-2018-0886 / KB4093492 'CredSSP updates': patched \
    clients speak TSRequest 6 and default to Encryption Oracle Remediation = Mitigated, which \
    refuses unpatched servers";

/// The profiles, Windows first. Ids are stable (they appear in outputs).
pub const PROFILES: &[Profile] = &[
    Profile {
        id: "win11",
        name: "mstsc on Windows 11 24H2",
        windows: true,
        default_selected: true,
        hello: HelloSpec {
            min: TlsVersion::TLS12,
            max: TlsVersion::TLS13,
            suites: WIN11_SUITES,
            groups: SCHANNEL_GROUPS,
            sig_algs: WIN11_SIGS,
            extensions: WIN11_EXTS,
        },
        credssp_version: 6,
        requires_patched_credssp: true,
        nla: true,
        standard_rdp: Some(true),
        sources: &[
            "Microsoft, 'TLS Cipher Suites in Windows 11 v22H2 and later'",
            MS_TLS10_OFF,
            MS_CREDSSP,
            "testssl.sh etc/client-simulation.txt, 'IE 11 Win 10' (Schannel extension order)",
        ],
    },
    Profile {
        id: "win10",
        name: "mstsc on Windows 10 22H2",
        windows: true,
        default_selected: true,
        hello: HelloSpec {
            min: TlsVersion::TLS10,
            max: TlsVersion::TLS12,
            suites: WIN10_SUITES,
            groups: SCHANNEL_GROUPS,
            sig_algs: WIN10_SIGS,
            extensions: WIN10_EXTS,
        },
        credssp_version: 6,
        requires_patched_credssp: true,
        nla: true,
        standard_rdp: Some(true),
        sources: &[
            "Microsoft, 'TLS Cipher Suites in Windows 10 v22H2'",
            "testssl.sh etc/client-simulation.txt, 'IE 11 Win 10' (Schannel hello)",
            MS_CREDSSP,
        ],
    },
    Profile {
        id: "win7",
        name: "mstsc on Windows 7 SP1 / 2008 R2",
        windows: true,
        default_selected: false,
        hello: HelloSpec {
            min: TlsVersion::TLS10,
            max: TlsVersion::TLS10,
            suites: WIN7_SUITES,
            groups: WIN7_GROUPS,
            sig_algs: &[],
            extensions: WIN7_EXTS,
        },
        credssp_version: 6,
        requires_patched_credssp: true,
        nla: true,
        standard_rdp: Some(true),
        sources: &[
            "Microsoft KB3080079 (TLS 1.1/1.2 for RDS on 7/2008 R2, off by default) and \
             KB3140245 (TLS 1.1/1.2 client defaults): TLS 1.0 only by default",
            "testssl.sh etc/client-simulation.txt, 'IE 11 Win 7' (Schannel suites and groups)",
            MS_CREDSSP,
        ],
    },
    Profile {
        id: "macos",
        name: "Windows App on macOS/iOS",
        windows: false,
        default_selected: false,
        hello: HelloSpec {
            // The capture's lowest_protocol is 0x0301: deprecated, still offered.
            min: TlsVersion::TLS10,
            max: TlsVersion::TLS13,
            suites: APPLE_SUITES,
            groups: APPLE_GROUPS,
            sig_algs: APPLE_SIGS,
            extensions: TLS13_EXTS,
        },
        credssp_version: 6,
        requires_patched_credssp: false,
        nla: true,
        standard_rdp: None,
        sources: &[
            "testssl.sh etc/client-simulation.txt, 'Safari 18.4 (iOS 18.4)': Apple's platform \
             TLS; Microsoft does not document the Windows App's own TLS stack",
            "Microsoft Learn, 'Windows App' supported features: NLA supported",
        ],
    },
    Profile {
        id: "freerdp",
        name: "FreeRDP 3 (Remmina, xfreerdp)",
        windows: false,
        default_selected: false,
        hello: HelloSpec {
            min: TlsVersion::TLS12,
            max: TlsVersion::TLS13,
            suites: OPENSSL3_SUITES,
            groups: OPENSSL3_GROUPS,
            sig_algs: OPENSSL3_SIGS,
            extensions: TLS13_EXTS,
        },
        credssp_version: 6,
        requires_patched_credssp: false,
        nla: true,
        standard_rdp: Some(true),
        sources: &[
            "FreeRDP 3 libfreerdp/crypto/tls.c and settings (OpenSSL default cipher list, \
             TlsSecLevel 1; OpenSSL 3 permits TLS 1.0/1.1 only at security level 0)",
            "FreeRDP libfreerdp/core/nla.c: TSRequest version 6, adapts to older servers",
        ],
    },
];

/// The profile with this id.
pub fn profile(id: &str) -> Option<&'static Profile> {
    PROFILES.iter().find(|p| p.id == id)
}

/// Every profile's verdict for the record, in table order.
pub fn verdicts(r: &ProbeRecord) -> Vec<ClientVerdict> {
    if r.rdp.as_ref().is_none_or(|rdp| rdp.accepted.is_empty()) {
        // Nothing the server accepts is known: the host-level findings say why.
        return Vec::new();
    }
    PROFILES.iter().map(|p| verdict(p, r)).collect()
}

fn yes(p: &Profile, reason: String) -> ClientVerdict {
    ClientVerdict {
        profile: p.id.into(),
        connects: Connects::Yes,
        reason,
    }
}

fn no(p: &Profile, reason: String) -> ClientVerdict {
    ClientVerdict {
        profile: p.id.into(),
        connects: Connects::No,
        reason,
    }
}

fn unknown(p: &Profile, reason: String) -> ClientVerdict {
    ClientVerdict {
        profile: p.id.into(),
        connects: Connects::Unknown,
        reason,
    }
}

/// The version named "TLSv1.2" etc. (as the probes write it).
pub fn version_of(name: &str) -> Option<TlsVersion> {
    [
        TlsVersion::SSL30,
        TlsVersion::TLS10,
        TlsVersion::TLS11,
        TlsVersion::TLS12,
        TlsVersion::TLS13,
    ]
    .into_iter()
    .find(|v| v.name() == name)
}

/// One profile against the record: NLA and CredSSP first (they refuse before any TLS
/// question matters), then the security layer and TLS.
fn verdict(p: &Profile, r: &ProbeRecord) -> ClientVerdict {
    let Some(rdp) = r.rdp.as_ref() else {
        return unknown(p, "no RDP facts".into());
    };
    let tls_layers = rdp.accepts(Protocols::SSL)
        || rdp.accepts(Protocols::HYBRID)
        || rdp.accepts(Protocols::HYBRID_EX);
    let nla_required = rdp.required == Some(Protocols::HYBRID);
    if nla_required && !p.nla {
        return no(
            p,
            "NLA: the server requires NLA, the client has none".into(),
        );
    }
    if p.requires_patched_credssp
        && let Some(v) = r.credssp.as_ref().and_then(|c| c.version)
        && v <= 4
    {
        return no(
            p,
            format!(
                "CredSSP/encryption-oracle: the server speaks TSRequest {v} (unpatched, \
                 CVE-2018-0886); the client's Mitigated default refuses it"
            ),
        );
    }
    // FIPS level: whether a client meets it depends on its own FIPS policy, which no profile
    // records, so the answer is not a guess.
    const LEVEL_FIPS: u32 = 4;
    if !tls_layers && rdp.encryption_level == Some(LEVEL_FIPS) && p.standard_rdp != Some(false) {
        return unknown(
            p,
            "security layer: standard RDP security at encryption level FIPS; whether the client \
             meets it depends on its FIPS policy"
                .into(),
        );
    }
    if !tls_layers {
        return match p.standard_rdp {
            Some(true) => yes(p, "security layer: standard RDP security".into()),
            Some(false) => no(
                p,
                "security layer: the server offers only standard RDP security".into(),
            ),
            None => unknown(
                p,
                "security layer: only standard RDP security; the client's support is undocumented"
                    .into(),
            ),
        };
    }
    tls_verdict(p, r)
}

/// The TLS part: the profile's own hello when the probe sent it, else what the other hellos
/// prove about versions and suites.
fn tls_verdict(p: &Profile, r: &ProbeRecord) -> ClientVerdict {
    if let Some(h) = r.profile_hellos.iter().find(|h| h.profile == p.id) {
        return from_own_hello(p, h);
    }
    let Some(t) = r.tls.as_ref() else {
        return unknown(p, "TLS: no handshake facts".into());
    };
    let server_version = t.version.as_deref().and_then(version_of);
    let server_suite = t.cipher.as_deref().and_then(suite_id);
    // Deep depth: the versions single-version hellos proved.
    let versions: Vec<TlsVersion> = t.versions.iter().filter_map(|v| version_of(v)).collect();
    if !versions.is_empty() && !versions.iter().any(|v| p.hello.offers_version(*v)) {
        return no(
            p,
            format!(
                "TLS version: the server accepts {}; the client offers {}-{}",
                t.versions.join(","),
                p.hello.min,
                p.hello.max
            ),
        );
    }
    match t.status {
        TlsStatus::Ok | TlsStatus::LegacyHello => {}
        _ => {
            return no(
                p,
                format!("TLS: the server's handshake failed ({})", t.status.as_str()),
            );
        }
    }
    let Some(sv) = server_version else {
        return unknown(p, "TLS: the server's version is unknown".into());
    };
    // The broad legacy hello offers 1.0-1.2: its answer is the server's best up to 1.2. A server
    // whose best is below the client's lowest cannot meet it.
    if t.status == TlsStatus::LegacyHello && sv < p.hello.min {
        return no(
            p,
            format!(
                "TLS version: the server's best is {sv}; the client offers {}-{}",
                p.hello.min, p.hello.max
            ),
        );
    }
    if p.hello.offers_version(sv)
        && let Some(s) = server_suite
        && p.hello.offers_suite(s)
    {
        return yes(
            p,
            format!(
                "TLS: {sv} with {} is common to both",
                t.cipher.as_deref().unwrap_or("?")
            ),
        );
    }
    unknown(
        p,
        format!(
            "TLS: the server chose {sv} with {} for another client; this client's hello was not sent",
            t.cipher.as_deref().unwrap_or("?")
        ),
    )
}

fn from_own_hello(p: &Profile, h: &ProfileHello) -> ClientVerdict {
    let v = h.version.as_deref().unwrap_or("?");
    let s = h.cipher.as_deref().unwrap_or("?");
    match h.status {
        HelloStatus::Hello => {
            let offered = h
                .version
                .as_deref()
                .and_then(version_of)
                .is_some_and(|x| p.hello.offers_version(x))
                && h.cipher
                    .as_deref()
                    .and_then(suite_id)
                    .is_some_and(|x| p.hello.offers_suite(x));
            if offered {
                yes(p, format!("TLS: {v} with {s}"))
            } else {
                // The server's fault: it answered with something this client never offered.
                no(
                    p,
                    format!(
                        "TLS: the server answered with {v} / {s}, which the client did not offer"
                    ),
                )
            }
        }
        HelloStatus::Alert => no(
            p,
            format!(
                "TLS suites/version: the server refused the client's hello with alert {}",
                h.alert
                    .map(|a| format!("{a} {}", crate::tls::alert::alert_name(a)))
                    .unwrap_or_default()
            ),
        ),
        HelloStatus::Closed => no(
            p,
            "TLS suites/version: the server closed the connection at the client's hello".into(),
        ),
        // The client gives up as the probe did.
        HelloStatus::NoReply => no(
            p,
            "TLS: no answer to the client's hello before the timeout".into(),
        ),
        HelloStatus::Malformed => no(
            p,
            format!(
                "TLS: the server's answer to the client's hello is malformed ({})",
                h.error.as_deref().unwrap_or("")
            ),
        ),
    }
}

/// The failing profiles' ids joined with `;` (the `clients_failing` cell).
pub fn failing(verdicts: &[ClientVerdict]) -> String {
    verdicts
        .iter()
        .filter(|v| v.connects == Connects::No)
        .map(|v| v.profile.as_str())
        .collect::<Vec<_>>()
        .join(";")
}

#[cfg(test)]
mod tests;
