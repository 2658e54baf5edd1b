//! Splitting one scan across N independent runs (`--shard K/N`, Kubernetes Indexed Jobs).
//!
//! Every run reads the same inventory and keeps only the targets of its shard, so the N runs
//! are disjoint and together complete, with no coordination. A target belongs to shard
//! `fnv1a64(key) % N`, where `key` is
//!
//! ```text
//! normalized host bytes  ':'  port in decimal        e.g. b"ts01.corp.example:3389"
//! ```
//!
//! and the host is normalized as the inventory compares hosts: surrounding ASCII whitespace
//! trimmed, `[` `]` around an IPv6 address dropped, an IP address in its canonical text form
//! (`2001:db8::1`, `10.1.2.3`), a name ASCII-lower-cased without one trailing dot. FNV-1a 64 is
//! the published function (offset basis 0xcbf29ce484222325, prime 0x100000001b3, xor then
//! multiply, wrapping, per byte). It is written out here because std's `Hasher`s are allowed to
//! change between Rust versions: a target must land in the same shard on every machine, release
//! and run, or a fleet split across versions would miss or double-scan hosts.
//!
//! A name's addresses all stay in its shard (the name is the key), while every address of a CIDR
//! or range is its own target and so spreads across shards.

use std::net::IpAddr;

/// FNV-1a 64 offset basis.
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
/// FNV-1a 64 prime.
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a 64 over `bytes`.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h = FNV_OFFSET;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// The host as the shard key sees it (see the module docs).
pub fn normalize_host(host: &str) -> String {
    let t = host.trim_matches(|c: char| c.is_ascii_whitespace());
    let unbracketed = t
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(t);
    if let Ok(ip) = unbracketed.parse::<IpAddr>() {
        return ip.to_string();
    }
    let name = t.strip_suffix('.').unwrap_or(t);
    name.to_ascii_lowercase()
}

/// The bytes hashed for a target: `normalized-host:port`.
pub fn shard_key(host: &str, port: u16) -> String {
    format!("{}:{port}", normalize_host(host))
}

/// Which of `n` shards a target belongs to (0 when `n` is 0, which `parse_shard` never yields).
pub fn shard_of(host: &str, port: u16, n: u32) -> u32 {
    if n == 0 {
        return 0;
    }
    let h = fnv1a64(shard_key(host, port).as_bytes()) % u64::from(n);
    // h < n <= u32::MAX, so the conversion cannot fail.
    u32::try_from(h).unwrap_or(0)
}

/// True when the target `host:port` belongs to shard `k` of `n`.
pub fn in_shard(host: &str, port: u16, k: u32, n: u32) -> bool {
    n > 0 && k < n && shard_of(host, port, n) == k
}

/// Why a shard setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    /// `--shard` without a `/`.
    #[error("--shard {0:?}: write K/N, e.g. 0/4 for the first of four shards")]
    NotKOfN(String),
    #[error("--shard {0:?}: N must be a whole number from 1")]
    BadTotal(String),
    #[error("--shard {0:?}: K must be a whole number from 0")]
    BadIndex(String),
    /// `--shard` with well-formed numbers that do not name a shard.
    #[error("--shard {spec:?}: {range}")]
    FlagRange { spec: String, range: ShardRange },
    #[error("JOB_COMPLETION_INDEX {0:?} is not a whole number")]
    JobIndex(String),
    #[error("shard total {0:?} is not a whole number")]
    JobTotal(String),
    /// From the Job's index and total: no shard K of N.
    #[error(transparent)]
    Range(#[from] ShardRange),
}

/// K of N where no such shard exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ShardRange {
    #[error("N must be at least 1")]
    NoShards,
    #[error("shard {k} does not exist: shards count from 0 to N-1 (0/{n} .. {}/{n})", .n.saturating_sub(1))]
    NoSuchShard { k: u32, n: u32 },
}

/// Parses `K/N`: shard K (counted from 0) of N, e.g. `0/4` .. `3/4`.
pub fn parse_shard(s: &str) -> Result<(u32, u32), ShardError> {
    let t = s.trim();
    let Some((k, n)) = t.split_once('/') else {
        return Err(ShardError::NotKOfN(t.to_string()));
    };
    let n = parse_count(n.trim()).ok_or_else(|| ShardError::BadTotal(t.to_string()))?;
    let k = parse_count(k.trim()).ok_or_else(|| ShardError::BadIndex(t.to_string()))?;
    check_range(k, n).map_err(|range| ShardError::FlagRange {
        spec: t.to_string(),
        range,
    })
}

/// The shard of an Indexed Job pod: `index` is `$JOB_COMPLETION_INDEX` (0-based, as Kubernetes
/// numbers completions) and `total` the job's completions.
pub fn from_job_index(index: &str, total: &str) -> Result<(u32, u32), ShardError> {
    let k =
        parse_count(index.trim()).ok_or_else(|| ShardError::JobIndex(index.trim().to_string()))?;
    let n =
        parse_count(total.trim()).ok_or_else(|| ShardError::JobTotal(total.trim().to_string()))?;
    Ok(check_range(k, n)?)
}

fn check_range(k: u32, n: u32) -> Result<(u32, u32), ShardRange> {
    if n == 0 {
        return Err(ShardRange::NoShards);
    }
    if k >= n {
        return Err(ShardRange::NoSuchShard { k, n });
    }
    Ok((k, n))
}

/// ASCII digits only: no sign, no spaces inside, no overflow.
fn parse_count(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The placeholder in `--run-id` replaced by the UTC date (`YYYY-MM-DD`) when rdpsweep starts.
pub const RUN_ID_DATE: &str = "{utc-date}";

/// Checks a `--run-id` and fills in [`RUN_ID_DATE`] with `utc_date`. The shard pods of one run
/// and the merge that follows must compute the same text, so a run id is plain: 1 to 128 of
/// `A-Z a-z 0-9 . _ : + -` once the date is in.
pub fn run_id(raw: &str, utc_date: &str) -> Result<String, RunIdError> {
    let id = raw.trim().replace(RUN_ID_DATE, utc_date);
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '+' | '-');
    if id.is_empty() || id.len() > 128 || !id.chars().all(ok) {
        return Err(RunIdError(raw.to_string()));
    }
    Ok(id)
}

/// A `--run-id` that is empty, too long, or has characters outside the allowed set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "--run-id {0:?}: use 1 to 128 of A-Z a-z 0-9 . _ : + - (and {{utc-date}} for today's UTC date), e.g. nightly-{{utc-date}}"
)]
pub struct RunIdError(pub String);

/// Today's UTC date as `YYYY-MM-DD`, for [`run_id`].
pub fn utc_date_now() -> String {
    let d = time::OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_known_answers() {
        // The published FNV-1a 64 test vectors (empty input = the offset basis).
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn normalization() {
        assert_eq!(normalize_host(" TS01.Corp.Example. "), "ts01.corp.example");
        assert_eq!(normalize_host("[2001:DB8::0:1]"), "2001:db8::1");
        assert_eq!(normalize_host("2001:db8:0::1"), "2001:db8::1");
        assert_eq!(normalize_host("10.1.2.3"), "10.1.2.3");
        assert_eq!(shard_key("TS01.corp.", 3389), "ts01.corp:3389");
        // Non-ASCII bytes are kept as they are (only ASCII is case-folded).
        assert_eq!(normalize_host("ÄB"), "Äb");
    }

    #[test]
    fn parse_forms() {
        assert_eq!(parse_shard("0/4"), Ok((0, 4)));
        assert_eq!(parse_shard(" 3 / 4 "), Ok((3, 4)));
        assert_eq!(parse_shard("0/1"), Ok((0, 1)));
        for bad in [
            "4/4",
            "1/0",
            "0/0",
            "-1/4",
            "+1/4",
            "1",
            "",
            "a/b",
            "1/4/5",
            "99999999999/4",
        ] {
            assert!(parse_shard(bad).is_err(), "{bad:?} accepted");
        }
        let e = parse_shard("4/4").unwrap_err();
        assert_eq!(
            e.to_string(),
            "--shard \"4/4\": shard 4 does not exist: shards count from 0 to N-1 (0/4 .. 3/4)"
        );
        assert!(matches!(
            parse_shard("0/0"),
            Err(ShardError::FlagRange {
                range: ShardRange::NoShards,
                ..
            })
        ));
        assert_eq!(from_job_index("2", "5"), Ok((2, 5)));
        assert_eq!(
            from_job_index("5", "5"),
            Err(ShardError::Range(ShardRange::NoSuchShard { k: 5, n: 5 }))
        );
        assert!(from_job_index("", "5").is_err());
        assert!(from_job_index("1", "x").is_err());
    }

    #[test]
    fn run_ids() {
        assert_eq!(
            run_id("nightly-{utc-date}", "2026-03-14").unwrap(),
            "nightly-2026-03-14"
        );
        assert_eq!(run_id(" r1 ", "x").unwrap(), "r1");
        assert_eq!(
            run_id("2026-03-14T02:00:00Z", "x").unwrap(),
            "2026-03-14T02:00:00Z"
        );
        for bad in ["", "a b", "a/b", "{date}", "é", &"x".repeat(129)] {
            let e = run_id(bad, "2026-03-14").unwrap_err().to_string();
            assert!(e.contains("--run-id"), "{e}");
        }
        let today = utc_date_now();
        assert_eq!(today.len(), 10);
        assert_eq!(today.as_bytes().get(4), Some(&b'-'));
    }

    #[test]
    fn degenerate_shard_counts_never_panic() {
        assert!(!in_shard("a", 1, 0, 0));
        assert!(!in_shard("a", 1, 5, 3));
        assert!(in_shard("anything", 3389, 0, 1));
        assert_eq!(shard_of("a", 1, 0), 0);
    }
}
