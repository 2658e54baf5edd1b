//! Client profiles' own ClientHellos (`clients::PROFILES`): the bytes a given client would
//! send after the X.224 exchange, and how the server answered (ServerHello version and suite,
//! an alert, a close). The broad legacy hello and rustls can succeed where, say, Schannel's
//! narrower offer is refused; this phase is what tells them apart.

use tokio::net::TcpStream;

use super::host::HostCtx;
use super::io::{HelloExchange, ReadEnd, hello_exchange};
use crate::clients::Profile;
use crate::model::{HelloStatus, NegResult, ProfileHello};
use crate::tls::hello;
use crate::tls::legacy::FlightOutcome;
use crate::tls::suites::suite_name;

fn outcome(p: &Profile, status: HelloStatus) -> ProfileHello {
    ProfileHello {
        profile: p.id.into(),
        status,
        version: None,
        cipher: None,
        alert: None,
        error: None,
    }
}

/// Sends `p`'s hello on a stream whose CC selected a TLS-based layer and reads the answer
/// (bounded by the phase deadline and `legacy::MAX_FLIGHT`). The stream is closed after.
pub async fn on_stream(ctx: &HostCtx<'_>, mut s: TcpStream, p: &Profile) -> ProfileHello {
    let random: [u8; 32] = rand::random();
    let bytes = hello::build(&p.hello, random);
    let end = match hello_exchange(&mut s, &bytes, ctx.phase_deadline()).await {
        HelloExchange::WriteTimeout => return outcome(p, HelloStatus::NoReply),
        HelloExchange::WriteFailed => return outcome(p, HelloStatus::Closed),
        HelloExchange::Read(end) => end,
    };
    match end {
        ReadEnd::Done(FlightOutcome::Hello(f)) => ProfileHello {
            version: Some(f.version.name()),
            cipher: Some(
                suite_name(f.cipher)
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("0x{:04X}", f.cipher)),
            ),
            ..outcome(p, HelloStatus::Hello)
        },
        ReadEnd::Done(FlightOutcome::Alert { description, .. }) => ProfileHello {
            alert: Some(description),
            ..outcome(p, HelloStatus::Alert)
        },
        // The bytes themselves are in the main TLS phase's error when they matter.
        ReadEnd::Done(FlightOutcome::NotTls) => ProfileHello {
            error: Some("not TLS".into()),
            ..outcome(p, HelloStatus::Malformed)
        },
        ReadEnd::Done(FlightOutcome::Malformed(why)) => ProfileHello {
            error: Some(why.into()),
            ..outcome(p, HelloStatus::Malformed)
        },
        ReadEnd::TooLarge => ProfileHello {
            error: Some("too large".into()),
            ..outcome(p, HelloStatus::Malformed)
        },
        ReadEnd::Timeout { .. } => outcome(p, HelloStatus::NoReply),
        ReadEnd::Reset { .. } | ReadEnd::Eof { .. } | ReadEnd::Io(_) => {
            outcome(p, HelloStatus::Closed)
        }
    }
}

/// A new connection requesting `requested`, then `p`'s hello. None when the CC did not select
/// a TLS-based layer (nothing to say about this client's TLS then).
pub async fn on_new_connection(
    ctx: &mut HostCtx<'_>,
    requested: u32,
    p: &Profile,
) -> Option<ProfileHello> {
    match ctx.reconnect(requested).await {
        (NegResult::Selected { protocol, .. }, Some(s)) if protocol != 0 => {
            Some(on_stream(ctx, s, p).await)
        }
        _ => None,
    }
}
