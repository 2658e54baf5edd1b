//! Deep depth, standard RDP security: MCS Connect-Initial on CR 0 connections for the server's
//! encryption level, the methods it accepts and its RDP version (from the GCC server data).

use tokio::io::AsyncWriteExt;

use super::host::HostCtx;
use super::io::{ReadEnd, read_parsed};
use crate::model::{NegResult, RdpOutcome};
use crate::rdp::mcs::{self, method};

/// Encryption methods probed one at a time, in this order.
const METHODS: [u32; 4] = [method::BIT40, method::BIT56, method::BIT128, method::FIPS];
/// Largest MCS Connect-Response read (the server's certificate rides in it).
const MAX_RESPONSE: usize = 64 * 1024;

/// Level, methods and version into `rdp`. Methods count as supported when the server returns
/// exactly the one offered.
pub async fn deep_mcs(ctx: &mut HostCtx<'_>, rdp: &mut RdpOutcome) {
    if let Some(resp) = mcs_probe(ctx, method::ALL).await {
        rdp.version = resp.server_version;
        rdp.encryption_level = resp.encryption_level;
    } else {
        return;
    }
    let mut methods = Vec::new();
    for m in METHODS {
        if ctx.out_of_time() {
            break;
        }
        if let Some(r) = mcs_probe(ctx, m).await
            && r.encryption_method == Some(m)
        {
            methods.push(m);
        }
    }
    rdp.encryption_methods = methods;
}

async fn mcs_probe(ctx: &mut HostCtx<'_>, methods: u32) -> Option<mcs::ConnectResponse> {
    let mut s = match ctx.reconnect(0).await {
        (NegResult::Selected { protocol: 0, .. } | NegResult::Legacy, Some(s)) => s,
        _ => return None,
    };
    let ci = mcs::connect_initial(methods, 0);
    let deadline = ctx.phase_deadline();
    tokio::time::timeout_at(deadline, s.write_all(&ci))
        .await
        .ok()?
        .ok()?;
    let mut buf = Vec::with_capacity(1024);
    match read_parsed(
        &mut s,
        &mut buf,
        MAX_RESPONSE,
        deadline,
        mcs::parse_connect_response,
    )
    .await
    {
        ReadEnd::Done(mcs::McsReply::Response(r)) => Some(r),
        _ => None,
    }
}
