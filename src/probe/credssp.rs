//! CredSSP: one TSRequest carrying a raw NTLM NEGOTIATE, then read the server's TSRequest
//! (its own version, errorCode, NTLM CHALLENGE) and close. Never credentials, never anything
//! after the server's answer.

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::host::HostCtx;
use super::io::{ReadEnd, read_parsed};
use crate::clock::Timestamp;
use crate::model::{CredSspOutcome, CredSspStatus, NtlmInfo};
use crate::rdp::credssp::{self, TsParseError, TsRequest};
use crate::rdp::ntlm;

/// The TSRequest version we announce (the server answers with its own).
pub const CLIENT_TS_VERSION: u32 = 6;

/// The exact bytes the probe sends after TLS (tests record the wire and compare).
pub fn negotiate_request() -> Vec<u8> {
    credssp::ts_request_with_token(CLIENT_TS_VERSION, &ntlm::negotiate_message())
}

fn outcome(status: CredSspStatus) -> CredSspOutcome {
    CredSspOutcome {
        status,
        version: None,
        error_code: None,
        ntlm: None,
        error: None,
    }
}

/// On an established TLS stream: our NEGOTIATE out, the server's TSRequest in, close.
pub async fn credssp_phase<S>(ctx: &HostCtx<'_>, mut s: S) -> CredSspOutcome
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let deadline = ctx.phase_deadline();
    let req = negotiate_request();
    match tokio::time::timeout_at(deadline, async {
        s.write_all(&req).await?;
        s.flush().await
    })
    .await
    {
        Err(_) => return outcome(CredSspStatus::Timeout),
        Ok(Err(e)) => {
            return CredSspOutcome {
                error: Some(e.kind().to_string()),
                ..outcome(CredSspStatus::Reset)
            };
        }
        Ok(Ok(())) => {}
    }
    let mut buf = Vec::with_capacity(1024);
    let end = read_parsed(
        &mut s,
        &mut buf,
        credssp::MAX_TS_REQUEST,
        deadline,
        credssp::parse_ts_request,
    )
    .await;
    let o = match end {
        ReadEnd::Done(r) => from_ts_request(r, Timestamp::now().unix()),
        ReadEnd::Timeout { .. } => outcome(CredSspStatus::Timeout),
        ReadEnd::Reset { .. } => outcome(CredSspStatus::Reset),
        ReadEnd::Eof { .. } => outcome(CredSspStatus::Closed),
        ReadEnd::TooLarge => CredSspOutcome {
            error: Some("reply too large".into()),
            ..outcome(CredSspStatus::Malformed)
        },
        ReadEnd::Io(e) => CredSspOutcome {
            error: Some(e.kind().to_string()),
            ..outcome(CredSspStatus::Reset)
        },
    };
    // The probe ends at the CHALLENGE: dropping `s` closes the socket (FIN) without a
    // close_notify, which would cost both sides an encrypted record and a wake-up for nothing.
    drop(s);
    o
}

/// Interpret the server's TSRequest; `now_unix` (the scanner's clock) gives the clock skew.
pub fn from_ts_request(r: Result<TsRequest, TsParseError>, now_unix: i64) -> CredSspOutcome {
    let ts = match r {
        Ok(ts) => ts,
        Err(e) => {
            return CredSspOutcome {
                error: Some(format!("{e:?}")),
                ..outcome(CredSspStatus::Malformed)
            };
        }
    };
    let mut o = outcome(CredSspStatus::NoChallenge);
    o.version = Some(ts.version);
    o.error_code = ts.error_code;
    if ts.error_code.is_some() {
        o.status = CredSspStatus::ErrorCode;
    }
    for token in &ts.nego_tokens {
        match ntlm::find_challenge(token) {
            Ok(ch) => {
                o.status = if ts.error_code.is_some() {
                    CredSspStatus::ErrorCode
                } else {
                    CredSspStatus::Challenge
                };
                o.ntlm = Some(ntlm_info(&ch, now_unix));
                break;
            }
            Err(e) => o.error = Some(format!("NTLM: {e:?}")),
        }
    }
    o
}

/// The model's view of the server's CHALLENGE, with its clock against ours.
fn ntlm_info(ch: &ntlm::Challenge, now_unix: i64) -> NtlmInfo {
    let ts = ch.timestamp.and_then(ntlm::filetime_to_unix);
    NtlmInfo {
        target_name: ch.target_name.clone(),
        nb_computer: ch.nb_computer.clone(),
        nb_domain: ch.nb_domain.clone(),
        dns_computer: ch.dns_computer.clone(),
        dns_domain: ch.dns_domain.clone(),
        dns_tree: ch.dns_tree.clone(),
        os_version: ch.version.map(|v| v.to_string()),
        os_name: ch.version.and_then(|v| v.os_name()).map(str::to_string),
        timestamp_unix: ts,
        clock_skew_s: ts.map(|t| t.saturating_sub(now_unix)),
        flags: ch.flags,
    }
}

/// Legacy-TLS hosts (TLS 1.0/1.1, CBC/DHE-only): finish TLS with the system OpenSSL at security
/// level 0 (this fallback only) and run the same CredSSP probe, so the old hosts most likely to be
/// unpatched still report their CredSSP version and NTLM facts. None when no TLS was attempted
/// (no connection, or the CC selected no CredSSP layer).
#[cfg(feature = "legacy-tls")]
pub async fn credssp_via_openssl(ctx: &mut HostCtx<'_>) -> Option<CredSspOutcome> {
    use super::host::FIRST_REQUEST;
    use crate::model::NegResult;

    let s = match ctx.reconnect(FIRST_REQUEST).await {
        (NegResult::Selected { protocol, .. }, Some(s)) if protocol & 0x0A != 0 => s,
        _ => return None,
    };
    let deadline = ctx.phase_deadline();
    let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
    let std_stream = s.into_std().ok()?;
    // OpenSSL's socket timeouts bound each read, not the handshake: a server trickling one byte
    // per read timeout would hold the blocking thread for hours. A second handle on the socket
    // lets the deadline shut it down, which ends every blocked read at once.
    let killer = std_stream.try_clone().ok()?;
    let task = tokio::task::spawn_blocking(move || openssl_exchange(std_stream, remaining));
    let res = match tokio::time::timeout_at(deadline, task).await {
        Ok(r) => r,
        Err(_) => {
            let _ = killer.shutdown(std::net::Shutdown::Both);
            return Some(CredSspOutcome {
                error: Some("openssl handshake did not finish in time".into()),
                ..outcome(CredSspStatus::Timeout)
            });
        }
    };
    let o = match res {
        Ok(Ok(bytes)) => {
            let parsed = match credssp::parse_ts_request(&bytes) {
                crate::rdp::Parse::Done(r) => r,
                crate::rdp::Parse::Incomplete { .. } => Err(TsParseError::Truncated),
            };
            from_ts_request(parsed, Timestamp::now().unix())
        }
        Ok(Err(e)) => CredSspOutcome {
            error: Some(e),
            ..outcome(CredSspStatus::Reset)
        },
        Err(_) => outcome(CredSspStatus::Reset),
    };
    Some(o)
}

#[cfg(feature = "legacy-tls")]
fn openssl_exchange(
    s: std::net::TcpStream,
    budget: std::time::Duration,
) -> Result<Vec<u8>, String> {
    use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode, SslVersion};
    use std::io::{Read, Write};

    let budget = budget.max(std::time::Duration::from_millis(100));
    let start = std::time::Instant::now();
    s.set_nonblocking(false).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(budget))
        .map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(budget))
        .map_err(|e| e.to_string())?;
    let mut b = SslConnector::builder(SslMethod::tls_client()).map_err(|e| e.to_string())?;
    b.set_verify(SslVerifyMode::NONE);
    b.set_min_proto_version(Some(SslVersion::TLS1))
        .map_err(|e| e.to_string())?;
    b.set_max_proto_version(Some(SslVersion::TLS1_2))
        .map_err(|e| e.to_string())?;
    // Security level 0 is what lets OpenSSL 3 speak TLS 1.0/SHA-1 at all; trust is judged elsewhere.
    b.set_cipher_list("ALL:@SECLEVEL=0")
        .map_err(|e| e.to_string())?;
    let mut cfg = b.build().configure().map_err(|e| e.to_string())?;
    cfg.set_use_server_name_indication(false);
    cfg.set_verify_hostname(false);
    let mut tls = cfg
        .connect("rdp", s)
        .map_err(|e| format!("openssl handshake: {e}"))?;
    tls.write_all(&negotiate_request())
        .map_err(|e| e.to_string())?;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        if let crate::rdp::Parse::Done(_) = credssp::parse_ts_request(&buf) {
            return Ok(buf);
        }
        // Each read gets only what is left of the budget: a server that trickles its reply
        // must not hold this thread for a whole budget per read.
        let left = budget.saturating_sub(start.elapsed());
        if buf.len() >= credssp::MAX_TS_REQUEST || left.is_zero() {
            return Ok(buf);
        }
        tls.get_ref()
            .set_read_timeout(Some(left))
            .map_err(|e| e.to_string())?;
        match tls.read(&mut chunk) {
            Ok(0) => return Ok(buf),
            Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            Err(e) => {
                return if buf.is_empty() {
                    Err(e.to_string())
                } else {
                    Ok(buf)
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdp::ntlm::{Challenge, NtlmVersion};

    /// 2026-11-21T00:00:00Z as a FILETIME (100 ns ticks since 1601).
    const FILETIME: u64 = 134_397_360_000_000_000;
    const UNIX: i64 = 1_795_262_400;

    fn challenge() -> Challenge {
        Challenge {
            flags: 0xE288_8297,
            target_name: Some("VM".into()),
            dns_computer: Some("vm.lab.test".into()),
            timestamp: Some(FILETIME),
            version: Some(NtlmVersion {
                major: 6,
                minor: 1,
                build: 7601,
            }),
            ..Challenge::default()
        }
    }

    #[test]
    fn ntlm_view_with_clock_skew_against_the_scanner() {
        let i = ntlm_info(&challenge(), UNIX - 90);
        assert_eq!(i.os_version.as_deref(), Some("6.1.7601"));
        assert_eq!(i.os_name.as_deref(), Some("Windows 7 / Server 2008 R2"));
        assert_eq!(i.timestamp_unix, Some(UNIX));
        // The server is 90 s ahead of us.
        assert_eq!(i.clock_skew_s, Some(90));
        assert_eq!(i.target_name.as_deref(), Some("VM"));
        assert_eq!(i.dns_computer.as_deref(), Some("vm.lab.test"));
        assert_eq!(i.flags, 0xE288_8297);
        assert_eq!(ntlm_info(&challenge(), UNIX + 30).clock_skew_s, Some(-30));
        // No timestamp (or FILETIME 0): no skew, never a skew against 1601.
        for timestamp in [None, Some(0)] {
            let c = Challenge {
                timestamp,
                ..challenge()
            };
            let i = ntlm_info(&c, UNIX);
            assert_eq!((i.timestamp_unix, i.clock_skew_s), (None, None));
        }
        // An unknown OS version keeps the numbers and names no OS.
        let c = Challenge {
            version: Some(NtlmVersion {
                major: 7,
                minor: 0,
                build: 1,
            }),
            ..challenge()
        };
        let i = ntlm_info(&c, UNIX);
        assert_eq!((i.os_version.as_deref(), i.os_name), (Some("7.0.1"), None));
    }

    #[test]
    fn ts_request_statuses() {
        let ts = |error_code, nego_tokens| TsRequest {
            version: 6,
            error_code,
            nego_tokens,
            ..TsRequest::default()
        };
        let o = from_ts_request(Ok(ts(None, vec![])), UNIX);
        assert_eq!((o.status, o.version), (CredSspStatus::NoChallenge, Some(6)));
        let o = from_ts_request(Ok(ts(Some(0xC000_006D), vec![])), UNIX);
        assert_eq!(o.status, CredSspStatus::ErrorCode);
        assert_eq!(o.error_code, Some(0xC000_006D));
        let o = from_ts_request(Ok(ts(None, vec![b"not ntlm".to_vec()])), UNIX);
        assert_eq!(o.status, CredSspStatus::NoChallenge);
        assert!(o.error.as_deref().unwrap_or("").starts_with("NTLM: "));
        let o = from_ts_request(Err(TsParseError::Truncated), UNIX);
        assert_eq!(o.status, CredSspStatus::Malformed);
        assert_eq!(o.ntlm, None);
    }
}
