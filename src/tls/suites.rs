//! IANA names and weakness classes for TLS cipher suite ids, and the suites the deep
//! enumeration offers per version.
//!
//! The table covers every suite the legacy ClientHello offers (`legacy::OFFERED_SUITES`), the
//! TLS 1.3 suites, and the historic weak suites (export, NULL, DES, anonymous) so that a server
//! picking one of them is still named. Ids not in the table stay numbers at the call site.

use super::legacy::TlsVersion;

/// (id, IANA name). Grouped by key exchange; order has no meaning.
const SUITES: &[(u16, &str)] = &[
    // TLS 1.3 (RFC 8446)
    (0x1301, "TLS_AES_128_GCM_SHA256"),
    (0x1302, "TLS_AES_256_GCM_SHA384"),
    (0x1303, "TLS_CHACHA20_POLY1305_SHA256"),
    (0x1304, "TLS_AES_128_CCM_SHA256"),
    (0x1305, "TLS_AES_128_CCM_8_SHA256"),
    // ECDHE-ECDSA
    (0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
    (0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
    (0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
    (0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"),
    (0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"),
    (0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"),
    (0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"),
    (0xC008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA"),
    (0xC007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA"),
    (0xC006, "TLS_ECDHE_ECDSA_WITH_NULL_SHA"),
    // ECDHE-RSA
    (0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
    (0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
    (0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
    (0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"),
    (0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"),
    (0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"),
    (0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
    (0xC012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"),
    (0xC011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA"),
    (0xC010, "TLS_ECDHE_RSA_WITH_NULL_SHA"),
    // DHE-RSA
    (0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"),
    (0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"),
    (0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
    (0x006B, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256"),
    (0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256"),
    (0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"),
    (0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"),
    (0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA"),
    (0x0015, "TLS_DHE_RSA_WITH_DES_CBC_SHA"),
    (0x0014, "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA"),
    // DHE-DSS (Windows 2008-era Schannel still lists these)
    (0x00A3, "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384"),
    (0x00A2, "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256"),
    (0x006A, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256"),
    (0x0040, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256"),
    (0x0038, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA"),
    (0x0032, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA"),
    (0x0013, "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA"),
    (0x0012, "TLS_DHE_DSS_WITH_DES_CBC_SHA"),
    (0x0011, "TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA"),
    (0x0066, "TLS_DHE_DSS_WITH_RC4_128_SHA"),
    (0x0063, "TLS_DHE_DSS_EXPORT1024_WITH_DES_CBC_SHA"),
    (0x0065, "TLS_DHE_DSS_EXPORT1024_WITH_RC4_56_SHA"),
    // RSA key exchange
    (0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384"),
    (0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256"),
    (0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256"),
    (0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256"),
    (0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"),
    (0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA"),
    (0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
    (0x0009, "TLS_RSA_WITH_DES_CBC_SHA"),
    (0x0008, "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA"),
    (0x0007, "TLS_RSA_WITH_IDEA_CBC_SHA"),
    (0x0006, "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5"),
    (0x0005, "TLS_RSA_WITH_RC4_128_SHA"),
    (0x0004, "TLS_RSA_WITH_RC4_128_MD5"),
    (0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5"),
    (0x0062, "TLS_RSA_EXPORT1024_WITH_DES_CBC_SHA"),
    (0x0064, "TLS_RSA_EXPORT1024_WITH_RC4_56_SHA"),
    (0x003B, "TLS_RSA_WITH_NULL_SHA256"),
    (0x0002, "TLS_RSA_WITH_NULL_SHA"),
    (0x0001, "TLS_RSA_WITH_NULL_MD5"),
    (0x0000, "TLS_NULL_WITH_NULL_NULL"),
    // Anonymous (no server authentication at all)
    (0x0018, "TLS_DH_anon_WITH_RC4_128_MD5"),
    (0x001B, "TLS_DH_anon_WITH_3DES_EDE_CBC_SHA"),
    (0x0034, "TLS_DH_anon_WITH_AES_128_CBC_SHA"),
    (0x003A, "TLS_DH_anon_WITH_AES_256_CBC_SHA"),
    (0xC018, "TLS_ECDH_anon_WITH_AES_128_CBC_SHA"),
    (0xC019, "TLS_ECDH_anon_WITH_AES_256_CBC_SHA"),
    // Signalling values (never selected by a correct server, named for logs)
    (0x00FF, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"),
    (0x5600, "TLS_FALLBACK_SCSV"),
];

/// IANA name of a cipher suite, `None` for ids outside the table.
pub fn suite_name(id: u16) -> Option<&'static str> {
    SUITES.iter().find(|(i, _)| *i == id).map(|(_, n)| *n)
}

/// The id of an IANA suite name (as [`suite_name`] and the probes write it), or of "0xC02F".
pub fn suite_id(name: &str) -> Option<u16> {
    if let Some(hex) = name.strip_prefix("0x") {
        return u16::from_str_radix(hex, 16).ok();
    }
    SUITES.iter().find(|(_, n)| *n == name).map(|(i, _)| *i)
}

/// The IANA name, or "0xC0FF" for an id outside the table (how every output writes a suite).
pub fn suite_label(id: u16) -> String {
    suite_name(id)
        .map(str::to_string)
        .unwrap_or_else(|| format!("0x{id:04X}"))
}

/// Suites a hello for exactly `version` may offer when enumerating what a server accepts:
/// the broad hello's list first (its order, strongest first), then every other suite of the
/// table that `version` can negotiate. TLS 1.3 has its own five suites; below 1.2 the AEAD and
/// SHA-2 suites are left out (they exist only from TLS 1.2, RFC 5246 appendix A.5). Signalling
/// values and TLS_NULL_WITH_NULL_NULL are never offered.
pub fn enumeration_offer(version: TlsVersion) -> Vec<u16> {
    let fits = |id: u16| -> bool {
        let Some(name) = suite_name(id) else {
            return false;
        };
        let tls13 = id >> 8 == 0x13;
        if version >= TlsVersion::TLS13 {
            return tls13;
        }
        if tls13 || id == 0x0000 || name.ends_with("_SCSV") {
            return false;
        }
        version >= TlsVersion::TLS12 || !is_tls12_only(name)
    };
    let mut out: Vec<u16> = Vec::new();
    let table = SUITES.iter().map(|(id, _)| *id);
    for id in crate::tls::legacy::OFFERED_SUITES
        .iter()
        .copied()
        .chain(table)
    {
        if fits(id) && !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// AEAD and SHA-2 MAC suites: defined for TLS 1.2 only.
fn is_tls12_only(name: &str) -> bool {
    ["_GCM_", "_CCM", "CHACHA20", "_SHA256", "_SHA384"]
        .iter()
        .any(|p| name.contains(p))
}

/// RC4, 3DES, single DES, IDEA/RC2, export, NULL encryption or anonymous key exchange.
/// Unknown ids are not judged (false): the caller reports them as numbers.
pub fn is_weak(id: u16) -> bool {
    let Some(name) = suite_name(id) else {
        return false;
    };
    if name.ends_with("_SCSV") {
        return false;
    }
    const WEAK_PARTS: [&str; 8] = [
        "_RC4_", "_3DES_", "_DES_", "_DES40_", "_RC2_", "_IDEA_", "EXPORT", "_anon_",
    ];
    WEAK_PARTS.iter().any(|p| name.contains(p)) || name.contains("_NULL")
}

/// Block cipher in CBC mode (MAC-then-encrypt: Lucky13/BEAST-class exposure, no AEAD).
pub fn is_cbc(id: u16) -> bool {
    suite_name(id).is_some_and(|n| n.contains("_CBC"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_common_suites() {
        assert_eq!(suite_name(0x002F), Some("TLS_RSA_WITH_AES_128_CBC_SHA"));
        assert_eq!(
            suite_name(0xC030),
            Some("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")
        );
        assert_eq!(suite_name(0x1302), Some("TLS_AES_256_GCM_SHA384"));
        assert_eq!(suite_id("TLS_AES_256_GCM_SHA384"), Some(0x1302));
        assert_eq!(suite_id("0xC02F"), Some(0xC02F));
        assert_eq!(suite_id("TLS_NOT_A_SUITE"), None);
        assert_eq!(suite_name(0xABCD), None);
    }

    #[test]
    fn table_has_no_duplicate_ids() {
        for (n, (id, _)) in SUITES.iter().enumerate() {
            assert!(
                !SUITES.iter().skip(n + 1).any(|(other, _)| other == id),
                "duplicate id {id:#06x}"
            );
        }
    }

    #[test]
    fn weakness_classes() {
        assert!(is_weak(0x0005)); // RC4-SHA
        assert!(is_weak(0x0004)); // RC4-MD5
        assert!(is_weak(0x000A)); // 3DES
        assert!(is_weak(0x0003)); // export RC4 40
        assert!(is_weak(0x0002)); // NULL-SHA
        assert!(is_weak(0x0000)); // NULL-NULL-NULL
        assert!(is_weak(0xC010)); // ECDHE NULL
        assert!(is_weak(0x0034)); // anonymous DH
        assert!(!is_weak(0x002F)); // AES-128-CBC-SHA: old but not broken
        assert!(!is_weak(0xC02F)); // ECDHE AES-GCM
        assert!(!is_weak(0x1301));
        assert!(!is_weak(0x00FF)); // SCSV is not a suite
        assert!(!is_weak(0xFFFF)); // unknown: not judged
    }

    #[test]
    fn enumeration_offers_per_version() {
        let v13 = enumeration_offer(TlsVersion::TLS13);
        assert_eq!(v13, [0x1301, 0x1302, 0x1303, 0x1304, 0x1305]);
        let v12 = enumeration_offer(TlsVersion::TLS12);
        // The broad hello's order comes first, then the rest of the table.
        assert_eq!(
            v12.get(..crate::tls::legacy::OFFERED_SUITES.len()),
            Some(crate::tls::legacy::OFFERED_SUITES)
        );
        assert!(v12.contains(&0x003B)); // NULL_SHA256: weak, offered so it can be found
        assert!(v12.contains(&0x0003)); // export RC4 40
        assert!(v12.contains(&0xC018)); // anonymous ECDH
        for never in [0x0000, 0x00FF, 0x5600, 0x1301] {
            assert!(!v12.contains(&never), "{never:#06x}");
        }
        let v10 = enumeration_offer(TlsVersion::TLS10);
        assert!(v10.contains(&0x002F) && v10.contains(&0xC013) && v10.contains(&0x000A));
        for tls12_only in [0xC02F, 0x009C, 0x003C, 0x003B, 0xCCA8, 0xC028] {
            assert!(!v10.contains(&tls12_only), "{tls12_only:#06x}");
        }
        assert_eq!(v10, enumeration_offer(TlsVersion::TLS11));
        // No id twice, and every one has a name.
        for (n, id) in v12.iter().enumerate() {
            assert!(!v12.iter().skip(n + 1).any(|o| o == id), "{id:#06x}");
            assert!(suite_name(*id).is_some());
        }
        assert_eq!(suite_label(0x002F), "TLS_RSA_WITH_AES_128_CBC_SHA");
        assert_eq!(suite_label(0xABCD), "0xABCD");
    }

    #[test]
    fn cbc_classes() {
        assert!(is_cbc(0x002F));
        assert!(is_cbc(0xC028));
        assert!(is_cbc(0x000A)); // 3DES_EDE_CBC
        assert!(!is_cbc(0x0005)); // RC4 is a stream cipher
        assert!(!is_cbc(0xC02F)); // GCM
        assert!(!is_cbc(0xCCA8)); // ChaCha20-Poly1305
        assert!(!is_cbc(0x1301));
        assert!(!is_cbc(0xFFFF));
    }
}
