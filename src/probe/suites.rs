//! Deep depth: which cipher suites each accepted TLS version accepts, in the server's order.
//!
//! nmap's ssl-enum-ciphers method, through the X.224 upgrade: every hello is a new TCP
//! connection, a CR asking for the TLS layer the server selected, the CC, then a raw
//! ClientHello for exactly one version offering a set of suites. The suite the ServerHello
//! picks is taken out of the set and the next connection offers the rest, until the server
//! refuses (alert or close). So the suites come out in the server's preference order (or in
//! the offer's order when the server follows the client's; one more hello tells which).
//!
//! Each suite costs one connection, so the whole host gets at most [`MAX_CONNECTIONS`]. The
//! weak suites are walked first for every version (a hello offering only them), so the budget
//! never runs out before them; then the full lists, newest version first. A list cut short
//! says so (`complete: false`).

use super::host::HostCtx;
use super::io::{HelloExchange, ReadEnd, hello_exchange};
use crate::model::{NegResult, SuiteList};
use crate::tls::legacy::{self, FlightOutcome, TlsVersion};
use crate::tls::suites::{enumeration_offer, is_weak, suite_label};

/// Connections the enumeration may make per address, all versions together.
pub const MAX_CONNECTIONS: u32 = 24;

/// What one hello got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A ServerHello: the version and suite it chose.
    Picked { version: TlsVersion, suite: u16 },
    /// A fatal alert, a close or a reset: nothing left in the offer is accepted.
    Refused,
    /// No answer before the phase deadline.
    Silent,
    /// No connection, or its CC did not select a TLS layer again.
    Lost,
    /// Bytes that are not a well-formed server flight.
    Malformed(&'static str),
}

/// One version's enumeration: what is still offered, what was accepted, how it ended. Pure,
/// so every ending is unit-tested; the loop below feeds it answers.
#[derive(Debug, Clone)]
pub struct Walk {
    version: TlsVersion,
    offer: Vec<u16>,
    accepted: Vec<u16>,
    end: Option<(bool, Option<String>)>,
}

impl Walk {
    pub fn new(version: TlsVersion, offer: Vec<u16>) -> Walk {
        let end = offer.is_empty().then_some((true, None));
        Walk {
            version,
            offer,
            accepted: Vec::new(),
            end,
        }
    }

    /// The suites the next hello offers; `None` once the walk has ended.
    pub fn next_offer(&self) -> Option<&[u16]> {
        match self.end {
            Some(_) => None,
            None => Some(&self.offer),
        }
    }

    /// Takes the answer to the hello that offered [`Walk::next_offer`]. Every answer either
    /// shrinks the offer or ends the walk, so the walk always ends.
    pub fn record(&mut self, answer: Answer) {
        if self.end.is_some() {
            return;
        }
        match answer {
            Answer::Picked { version, suite } if version != self.version => {
                self.end = Some((
                    false,
                    Some(format!(
                        "a {} hello was answered with {} ({})",
                        self.version,
                        version,
                        suite_label(suite)
                    )),
                ));
            }
            Answer::Picked { suite, .. } => match self.offer.iter().position(|s| *s == suite) {
                Some(i) => {
                    self.offer.remove(i);
                    self.accepted.push(suite);
                    if self.offer.is_empty() {
                        self.end = Some((true, None));
                    }
                }
                None => {
                    self.end = Some((
                        false,
                        Some(format!(
                            "the server picked {}, a suite the hello did not offer",
                            suite_label(suite)
                        )),
                    ));
                }
            },
            Answer::Refused => self.end = Some((true, None)),
            Answer::Silent => self.end = Some((false, Some("no answer to a hello".into()))),
            Answer::Lost => {
                self.end = Some((false, Some("the connection or its CC failed".into())));
            }
            Answer::Malformed(why) => {
                self.end = Some((false, Some(format!("malformed answer ({why})"))));
            }
        }
    }

    /// The two suites the order check offers reversed: the first two accepted.
    pub fn order_probe(&self) -> Option<[u16; 2]> {
        match self.accepted.as_slice() {
            [a, b, ..] => Some([*b, *a]),
            _ => None,
        }
    }

    /// The list as recorded; `stopped` when the budget or the deadline ended it first.
    pub fn finish(self, server_order: Option<bool>, stopped: Option<&str>) -> SuiteList {
        let (complete, error) = match (self.end, stopped) {
            (Some((complete, error)), _) => (complete, error),
            (None, why) => (false, why.map(str::to_string)),
        };
        SuiteList {
            version: self.version.name(),
            suites: self.accepted.iter().map(|s| suite_label(*s)).collect(),
            weak: Vec::new(),
            server_order,
            complete,
            error,
        }
    }
}

/// What the order check's answer says: the server kept its first choice (its own order), or
/// took the first suite offered (the client's order). Anything else decides nothing.
pub fn server_order(probe: [u16; 2], answer: &Answer) -> Option<bool> {
    match answer {
        Answer::Picked { suite, .. } if *suite == probe[1] => Some(true),
        Answer::Picked { suite, .. } if *suite == probe[0] => Some(false),
        _ => None,
    }
}

/// "TLSv1.2" (as `TlsOutcome::versions` writes it) back to the wire value.
fn parse_version(name: &str) -> Option<TlsVersion> {
    [
        TlsVersion::TLS10,
        TlsVersion::TLS11,
        TlsVersion::TLS12,
        TlsVersion::TLS13,
    ]
    .into_iter()
    .find(|v| v.name() == name)
}

/// Enumerates the suites of every version in `versions` (the deep single-version hellos'
/// result), newest first, each hello on a new connection requesting `requested`.
pub async fn deep_suites(
    ctx: &mut HostCtx<'_>,
    requested: u32,
    versions: &[String],
) -> Vec<SuiteList> {
    let mut order: Vec<TlsVersion> = versions.iter().filter_map(|v| parse_version(v)).collect();
    order.sort_by(|a, b| b.cmp(a));
    let mut used = 0u32;
    // The weak suites first, every version: they decide `tls-weak-suites`, and a long list
    // (Windows Server 2016 accepts some 30 suites at TLS 1.2, 3DES last) would spend the
    // budget before reaching them. Usually one or two connections per version.
    let mut weak = Vec::with_capacity(order.len());
    for version in &order {
        let offer: Vec<u16> = enumeration_offer(*version)
            .into_iter()
            .filter(|s| is_weak(*s))
            .collect();
        let (walk, stopped) = walk(ctx, requested, Walk::new(*version, offer), &mut used).await;
        weak.push(walk.finish(None, stopped));
    }
    let mut out = Vec::with_capacity(order.len());
    for (version, weak) in order.into_iter().zip(weak) {
        let full = Walk::new(version, enumeration_offer(version));
        let (full, stopped) = walk(ctx, requested, full, &mut used).await;
        let mut checked = None;
        if let Some(probe) = full.order_probe()
            && stop_reason(ctx, used).is_none()
        {
            used += 1;
            checked = server_order(probe, &offer_once(ctx, requested, version, &probe).await);
        }
        let mut list = full.finish(checked, stopped);
        list.weak = weak.suites;
        if !weak.complete {
            list.complete = false;
            list.error = list.error.or(weak.error);
        }
        out.push(list);
    }
    out
}

/// Runs `walk` to its end, or until the budget or the deadline stops it (then says which).
async fn walk(
    ctx: &mut HostCtx<'_>,
    requested: u32,
    mut walk: Walk,
    used: &mut u32,
) -> (Walk, Option<&'static str>) {
    let version = walk.version;
    while let Some(offer) = walk.next_offer() {
        if let Some(why) = stop_reason(ctx, *used) {
            return (walk, Some(why));
        }
        let offer = offer.to_vec();
        *used += 1;
        walk.record(offer_once(ctx, requested, version, &offer).await);
    }
    (walk, None)
}

fn stop_reason(ctx: &HostCtx<'_>, used: u32) -> Option<&'static str> {
    if used >= MAX_CONNECTIONS {
        Some("connection budget spent")
    } else if ctx.out_of_time()
        || tokio::time::Instant::now() + ctx.prober.opts.host_spacing >= ctx.host_deadline
    {
        // The next connection would start (after the spacing) past the deadline.
        Some("host deadline")
    } else {
        None
    }
}

/// One connection: CR for `requested`, CC, a hello for exactly `version` offering `suites`,
/// and the server's answer (bounded by the phase deadline and `legacy::MAX_FLIGHT`).
async fn offer_once(
    ctx: &mut HostCtx<'_>,
    requested: u32,
    version: TlsVersion,
    suites: &[u16],
) -> Answer {
    let mut s = match ctx.reconnect(requested).await {
        (NegResult::Selected { protocol, .. }, Some(s)) if protocol != 0 => s,
        _ => return Answer::Lost,
    };
    let hello = legacy::client_hello_offering(version, version, suites, rand::random());
    let end = match hello_exchange(&mut s, &hello, ctx.phase_deadline()).await {
        HelloExchange::WriteTimeout => return Answer::Silent,
        HelloExchange::WriteFailed => return Answer::Refused,
        HelloExchange::Read(end) => end,
    };
    match end {
        ReadEnd::Done(FlightOutcome::Hello(f)) => Answer::Picked {
            version: f.version,
            suite: f.cipher,
        },
        ReadEnd::Done(FlightOutcome::Alert { .. }) => Answer::Refused,
        ReadEnd::Done(FlightOutcome::NotTls) => Answer::Malformed("not TLS"),
        ReadEnd::Done(FlightOutcome::Malformed(why)) => Answer::Malformed(why),
        ReadEnd::TooLarge => Answer::Malformed("too large"),
        ReadEnd::Timeout { .. } => Answer::Silent,
        // Schannel closes without an alert when nothing in the offer is enabled.
        ReadEnd::Reset { .. } | ReadEnd::Eof { .. } | ReadEnd::Io(_) => Answer::Refused,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V12: TlsVersion = TlsVersion::TLS12;

    fn picked(suite: u16) -> Answer {
        Answer::Picked {
            version: V12,
            suite,
        }
    }

    #[test]
    fn walk_takes_out_each_pick_until_refused() {
        let mut w = Walk::new(V12, vec![0xC030, 0x002F, 0x000A, 0x0005]);
        assert_eq!(w.next_offer(), Some(&[0xC030, 0x002F, 0x000A, 0x0005][..]));
        w.record(picked(0x000A)); // the server prefers 3DES
        assert_eq!(w.next_offer(), Some(&[0xC030, 0x002F, 0x0005][..]));
        w.record(picked(0xC030));
        assert_eq!(w.next_offer(), Some(&[0x002F, 0x0005][..]));
        w.record(Answer::Refused);
        assert_eq!(w.next_offer(), None);
        assert_eq!(w.order_probe(), Some([0xC030, 0x000A]));
        let l = w.finish(Some(true), None);
        assert_eq!(l.version, "TLSv1.2");
        assert_eq!(
            l.suites,
            [
                "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
            ]
        );
        assert!(l.complete);
        assert_eq!(l.server_order, Some(true));
        assert_eq!(l.error, None);
    }

    #[test]
    fn walk_ends_when_every_offered_suite_was_accepted() {
        let mut w = Walk::new(V12, vec![0x002F]);
        w.record(picked(0x002F));
        assert_eq!(w.next_offer(), None);
        let l = w.finish(None, None);
        assert!(l.complete);
        assert_eq!(l.suites, ["TLS_RSA_WITH_AES_128_CBC_SHA"]);
        // Nothing to offer at all: done before the first hello.
        assert_eq!(Walk::new(V12, Vec::new()).next_offer(), None);
    }

    #[test]
    fn server_faults_end_the_walk_incomplete() {
        // A suite the hello never offered: the server's fault, and no loop.
        let mut w = Walk::new(V12, vec![0xC030, 0x002F]);
        w.record(picked(0xC030));
        w.record(picked(0xC030));
        assert_eq!(w.next_offer(), None);
        let l = w.finish(None, None);
        assert!(!l.complete);
        assert_eq!(l.suites, ["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"]);
        assert_eq!(
            l.error.as_deref(),
            Some(
                "the server picked TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, a suite the hello \
                 did not offer"
            )
        );
        // Another version than the one asked for.
        let mut w = Walk::new(TlsVersion::TLS10, vec![0x002F]);
        w.record(picked(0x002F));
        let l = w.finish(None, None);
        assert!(!l.complete && l.suites.is_empty());
        assert_eq!(
            l.error.as_deref(),
            Some("a TLSv1.0 hello was answered with TLSv1.2 (TLS_RSA_WITH_AES_128_CBC_SHA)")
        );
        for (a, why) in [
            (Answer::Silent, "no answer to a hello"),
            (Answer::Lost, "the connection or its CC failed"),
            (
                Answer::Malformed("too large"),
                "malformed answer (too large)",
            ),
        ] {
            let mut w = Walk::new(V12, vec![0x002F]);
            w.record(a);
            assert_eq!(w.next_offer(), None);
            let l = w.finish(None, None);
            assert!(!l.complete);
            assert_eq!(l.error.as_deref(), Some(why));
        }
    }

    #[test]
    fn a_walk_cut_short_says_why() {
        let mut w = Walk::new(V12, vec![0xC030, 0x002F]);
        w.record(picked(0xC030));
        let l = w.finish(None, Some("connection budget spent"));
        assert!(!l.complete);
        assert_eq!(l.error.as_deref(), Some("connection budget spent"));
        assert_eq!(l.suites.len(), 1);
    }

    #[test]
    fn order_check_reads_which_suite_won() {
        let probe = [0x002F, 0xC030]; // accepted [C030, 002F], offered reversed
        assert_eq!(server_order(probe, &picked(0xC030)), Some(true));
        assert_eq!(server_order(probe, &picked(0x002F)), Some(false));
        assert_eq!(server_order(probe, &picked(0x000A)), None);
        assert_eq!(server_order(probe, &Answer::Refused), None);
        assert_eq!(Walk::new(V12, vec![0x002F]).order_probe(), None);
    }

    #[test]
    fn any_answer_sequence_ends_within_one_hello_per_suite() {
        // Whatever the server says (picks offered or not, other versions, refusals), the walk
        // ends after at most offer + 1 hellos, and accepts only offered suites, each once.
        let offer: Vec<u16> = vec![0xC030, 0xC02F, 0x002F, 0x0035, 0x000A, 0x0005];
        let mut state = 0x2545_F491_u32;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        for _ in 0..2000 {
            let mut w = Walk::new(V12, offer.clone());
            let mut hellos = 0;
            while w.next_offer().is_some() {
                hellos += 1;
                assert!(hellos <= offer.len() + 1, "walk did not end");
                let r = next();
                let answer = match r % 10 {
                    0 => Answer::Refused,
                    1 => Answer::Silent,
                    2 => Answer::Picked {
                        version: TlsVersion::TLS11,
                        suite: 0x002F,
                    },
                    3 => picked(0xABCD),
                    _ => picked(offer[(r as usize / 10) % offer.len()]),
                };
                w.record(answer);
            }
            let l = w.finish(None, None);
            for (n, name) in l.suites.iter().enumerate() {
                assert!(
                    !l.suites.iter().skip(n + 1).any(|o| o == name),
                    "{name} twice"
                );
                let id = crate::tls::suites::suite_id(name);
                assert!(
                    id.is_some_and(|id| offer.contains(&id)),
                    "{name} not offered"
                );
            }
        }
    }

    #[test]
    fn version_names_round_trip() {
        for v in ["TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"] {
            assert_eq!(parse_version(v).map(TlsVersion::name).as_deref(), Some(v));
        }
        assert_eq!(parse_version("SSLv3"), None);
    }
}
