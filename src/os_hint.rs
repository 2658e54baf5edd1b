//! A hint at the server's OS from the X.224 negotiation alone: the RDP_NEG_RSP flags byte and
//! the protocol selected for the first request (SSL|HYBRID|HYBRID_EX). It is there even when
//! TLS dies before NTLM could name the build, and it is only a hint: each flag says a feature
//! is supported, and which Windows release brought the feature is the narrowing.
//!
//! Sources (docs/protocol.md §3.4 has the table):
//! - [S1] MS-RDPBCGR 2.2.1.2.1: the flags' meanings (0x01 extended client data blocks, 0x02
//!   MS-RDPEGFX graphics pipeline, 0x04 reserved, 0x08 Restricted Admin, 0x10 redirected
//!   authentication "Remote Credential Guard").
//! - [S2] Microsoft, "Protect Remote Desktop credentials with Remote Credential Guard":
//!   introduced in Windows 10 version 1607 / Windows Server 2016.
//! - [S3] MS-RDPEGFX (RDP 8.0 graphics pipeline): Windows 8 / Server 2012 and later.
//! - [S4] Restricted Admin mode: Windows 8.1 / 2012 R2, back-ported to 7 / 2008 R2 / 8 / 2012
//!   by KB2871997 (2014); MS-RDPBCGR Appendix A <2>: RDP 4.0-7.0 clients lack it (the server
//!   side's note <3> was not available to us verbatim).
//! - [F] fingerprintx `pkg/plugins/services/rdp` signatures for the same first request (0x0B):
//!   2008 flags 0x00 + HYBRID; 2008 R2 DC 0x01 + HYBRID; 7 / 2008 R2 0x09; 8 / 2012 0x0F;
//!   10 0x1F; 2016/2019 0x1F + HYBRID_EX. Observations, agreeing with [S1]-[S4].
//! - [L] observed here: xrdp 0.9 answers 0x01 + SSL (it has no CredSSP), FreeRDP's shadow
//!   server 0x03 (docs/protocol.md §11).

use crate::model::{NegResult, RdpOutcome};
use crate::rdp::x224::{NegRspFlags, Protocols};

/// How the first request (SSL|HYBRID|HYBRID_EX) was answered, as far as the hint cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum First {
    /// A bare CC: the server predates security negotiation.
    Legacy,
    /// An RDP_NEG_RSP selecting this protocol.
    Selected(u32),
    /// Anything else (failure code, no answer, not RDP): says nothing about the OS.
    Other,
}

const EXT: u8 = NegRspFlags::EXTENDED_CLIENT_DATA_SUPPORTED.bits();
const GFX: u8 = NegRspFlags::DYNVC_GFX_PROTOCOL_SUPPORTED.bits();
const RESTRICTED_ADMIN: u8 = NegRspFlags::RESTRICTED_ADMIN_MODE_SUPPORTED.bits();
const REDIRECTED_AUTH: u8 = NegRspFlags::REDIRECTED_AUTHENTICATION_MODE_SUPPORTED.bits();
/// Bits no spec version defines: a server setting them is unknown, and the hint says nothing.
const UNDEFINED: u8 =
    !(EXT | GFX | NegRspFlags::NEGRSP_FLAG_RESERVED.bits() | RESTRICTED_ADMIN | REDIRECTED_AUTH);

/// The hint for `first` and the OR of every RDP_NEG_RSP's flags (`RdpOutcome::flags`); `None`
/// where the data does not narrow it. First matching row wins; each row's test cites it.
pub fn hint(first: First, flags: u8) -> Option<&'static str> {
    if first == First::Legacy {
        return Some("Windows XP/2003 or older (no security negotiation), or a non-Windows server");
    }
    if flags & UNDEFINED != 0 {
        return None;
    }
    let has = |bit: u8| flags & bit != 0;
    if has(REDIRECTED_AUTH) {
        return Some("Windows 10 1607/Server 2016 or later");
    }
    if has(RESTRICTED_ADMIN) && has(GFX) {
        return Some("Windows 8/2012 or later");
    }
    if has(RESTRICTED_ADMIN) {
        return Some("Windows 7/2008 R2 or later");
    }
    if has(GFX) {
        // Every Windows with the graphics pipeline also advertises Restricted Admin [F].
        return Some("not Windows (FreeRDP-like flags)");
    }
    let nla = Protocols::HYBRID.bits() | Protocols::HYBRID_EX.bits();
    match first {
        First::Selected(p) if flags == EXT && p & nla != 0 => Some("Windows 7/2008 R2 or later"),
        // Windows selects CredSSP whenever it is offered and TLS is allowed at all.
        First::Selected(p) if flags == EXT && p == Protocols::SSL.bits() => {
            Some("not Windows (xrdp-like: TLS without CredSSP)")
        }
        First::Selected(p) if flags == 0 && p & nla != 0 => Some("Windows Vista/2008"),
        _ => None,
    }
}

/// The hint for a negotiation outcome: its first attempt and the flags of all of them.
pub fn of(rdp: &RdpOutcome) -> Option<&'static str> {
    let first = match rdp.attempts.first().map(|a| &a.result) {
        Some(NegResult::Legacy) => First::Legacy,
        Some(NegResult::Selected { protocol, .. }) => First::Selected(*protocol),
        _ => First::Other,
    };
    if first == First::Other && rdp.flags == 0 {
        return None;
    }
    hint(first, rdp.flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SSL: u32 = 0x01;
    const HYBRID: u32 = 0x02;
    const HYBRID_EX: u32 = 0x08;

    #[test]
    fn bare_confirm_is_pre_negotiation() {
        // [F] Windows 2000; docs/protocol.md §2.4 XP/2003 (RDP 5.x) answer without RDP_NEG_RSP.
        assert_eq!(
            hint(First::Legacy, 0),
            Some("Windows XP/2003 or older (no security negotiation), or a non-Windows server")
        );
    }

    #[test]
    fn redirected_authentication_is_windows_10_1607_or_later() {
        // [S1] 0x10 = Remote Credential Guard, [S2] new in 10 1607 / 2016; [F] 10 and
        // 2016/2019 send 0x1F, the latter selecting HYBRID_EX.
        for (first, flags) in [
            (First::Selected(HYBRID), 0x1F),
            (First::Selected(HYBRID_EX), 0x1F),
            (First::Selected(HYBRID_EX), 0x1B),
            (First::Other, 0x11),
        ] {
            assert_eq!(
                hint(first, flags),
                Some("Windows 10 1607/Server 2016 or later"),
                "{flags:#04x}"
            );
        }
    }

    #[test]
    fn restricted_admin_with_gfx_is_windows_8_or_later() {
        // [S3] GFX from 8 / 2012, [S4] Restricted Admin; [F] 8 / 2012 send 0x0F.
        assert_eq!(
            hint(First::Selected(HYBRID), 0x0F),
            Some("Windows 8/2012 or later")
        );
        assert_eq!(
            hint(First::Selected(HYBRID), 0x0B),
            Some("Windows 8/2012 or later")
        );
    }

    #[test]
    fn restricted_admin_alone_is_windows_7_or_later() {
        // [S4] back-ported to 7 / 2008 R2; [F] 7 / 2008 R2 send 0x09.
        assert_eq!(
            hint(First::Selected(HYBRID), 0x09),
            Some("Windows 7/2008 R2 or later")
        );
    }

    #[test]
    fn gfx_without_restricted_admin_is_not_windows() {
        // [L] FreeRDP shadow sends 0x03; [F] no Windows sends GFX without 0x08.
        assert_eq!(
            hint(First::Selected(HYBRID), 0x03),
            Some("not Windows (FreeRDP-like flags)")
        );
    }

    #[test]
    fn extended_data_only_depends_on_the_selection() {
        // [F] 2008 R2 DC: 0x01 and HYBRID for the 0x0B request.
        assert_eq!(
            hint(First::Selected(HYBRID), 0x01),
            Some("Windows 7/2008 R2 or later")
        );
        // [L] xrdp: 0x01 and SSL although CredSSP was offered.
        assert_eq!(
            hint(First::Selected(SSL), 0x01),
            Some("not Windows (xrdp-like: TLS without CredSSP)")
        );
        // The flags of a later attempt but no selection on the first: not decided.
        assert_eq!(hint(First::Other, 0x01), None);
    }

    #[test]
    fn no_flags_with_credssp_is_vista_or_2008() {
        // [F] Server 2008: flags 0x00, HYBRID.
        assert_eq!(
            hint(First::Selected(HYBRID), 0x00),
            Some("Windows Vista/2008")
        );
        // TLS without flags, or standard RDP security: nothing to go on.
        assert_eq!(hint(First::Selected(SSL), 0x00), None);
        assert_eq!(hint(First::Selected(0), 0x00), None);
    }

    #[test]
    fn undefined_bits_and_the_reserved_bit() {
        // Bits [S1] does not define: an unknown stack, no hint.
        assert_eq!(hint(First::Selected(HYBRID), 0x21), None);
        assert_eq!(hint(First::Selected(HYBRID), 0xFF), None);
        // The reserved bit is ignored ([S1]: "SHOULD be ignored"); [F] 8 / 2012 set it.
        assert_eq!(
            hint(First::Selected(HYBRID), 0x0D),
            hint(First::Selected(HYBRID), 0x09)
        );
    }

    #[test]
    fn outcome_reads_the_first_attempt() {
        use crate::model::NegAttempt;
        let mut rdp = RdpOutcome::default();
        assert_eq!(of(&rdp), None);
        rdp.attempts.push(NegAttempt {
            requested: 0x0B,
            result: NegResult::Selected {
                protocol: SSL,
                flags: 0x01,
            },
        });
        rdp.flags = 0x01;
        assert_eq!(
            of(&rdp),
            Some("not Windows (xrdp-like: TLS without CredSSP)")
        );
        rdp.attempts[0].result = NegResult::Legacy;
        rdp.flags = 0;
        assert_eq!(
            of(&rdp),
            Some("Windows XP/2003 or older (no security negotiation), or a non-Windows server")
        );
        rdp.attempts[0].result = NegResult::Failure { code: 2 };
        assert_eq!(of(&rdp), None);
        // A failure first, but a later response carried Remote Credential Guard.
        rdp.flags = 0x1F;
        assert_eq!(of(&rdp), Some("Windows 10 1607/Server 2016 or later"));
    }
}
