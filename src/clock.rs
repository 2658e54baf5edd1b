//! Wall-clock time for the whole crate: one typed timestamp (Unix seconds, UTC) written as
//! RFC 3339 at second precision, and the elapsed-milliseconds figure the records carry.
//!
//! Records keep `scanned_at` as the RFC 3339 text they were written with (saved scans and merged
//! files may hold other offsets or fractions, and must read back byte-identical); code that
//! needs the number parses it here, in one place.

use std::fmt;
use std::time::Instant;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A point in time, Unix seconds (UTC).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// Now, truncated to the second: enough for a scan log, and stable in spreadsheets.
    pub fn now() -> Timestamp {
        Timestamp(OffsetDateTime::now_utc().unix_timestamp())
    }

    pub const fn from_unix(secs: i64) -> Timestamp {
        Timestamp(secs)
    }

    pub const fn unix(self) -> i64 {
        self.0
    }

    /// An RFC 3339 timestamp, any offset or fraction (the fraction is dropped).
    pub fn parse(text: &str) -> Option<Timestamp> {
        OffsetDateTime::parse(text, &Rfc3339)
            .ok()
            .map(|t| Timestamp(t.unix_timestamp()))
    }

    /// `2026-01-01T00:00:00Z`; empty when the year cannot be written in RFC 3339 (0000-9999).
    pub fn to_rfc3339(self) -> String {
        OffsetDateTime::from_unix_timestamp(self.0)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_default()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// Now as RFC 3339 text (what records and summaries store).
pub fn now_rfc3339() -> String {
    Timestamp::now().to_rfc3339()
}

/// Unix seconds of an RFC 3339 timestamp, 0 when it is not one (a row without a usable time
/// is judged as of 1970 rather than rejected: saved files are read as they are).
pub fn unix_of(rfc3339: &str) -> i64 {
    Timestamp::parse(rfc3339).map_or(0, Timestamp::unix)
}

/// Milliseconds since `t0`, to the microsecond: shorter JSON, and it reads back identically.
pub fn ms_since(t0: Instant) -> f64 {
    (t0.elapsed().as_secs_f64() * 1_000_000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip_at_second_precision() {
        let t = Timestamp::from_unix(1_767_225_600);
        assert_eq!(t.to_rfc3339(), "2026-01-01T00:00:00Z");
        assert_eq!(t.to_string(), "2026-01-01T00:00:00Z");
        assert_eq!(Timestamp::parse("2026-01-01T00:00:00Z"), Some(t));
        // Other offsets and fractions name the same second.
        assert_eq!(Timestamp::parse("2026-01-01T01:00:00.75+01:00"), Some(t));
        assert_eq!(Timestamp::from_unix(0).to_rfc3339(), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn bad_text_and_unwritable_years() {
        assert_eq!(Timestamp::parse(""), None);
        assert_eq!(Timestamp::parse("2026-01-01"), None);
        assert_eq!(unix_of("yesterday"), 0);
        assert_eq!(unix_of("1970-01-01T00:01:40Z"), 100);
        assert_eq!(Timestamp::from_unix(i64::MAX).to_rfc3339(), "");
        assert_eq!(Timestamp::from_unix(-70_000_000_000).to_rfc3339(), "");
    }

    #[test]
    fn now_is_whole_seconds_and_parses_back() {
        let s = now_rfc3339();
        assert!(s.ends_with('Z') && !s.contains('.'), "{s}");
        let t = Timestamp::parse(&s).map_or(0, Timestamp::unix);
        assert!((Timestamp::now().unix() - t).abs() <= 1);
    }

    #[test]
    fn elapsed_is_rounded_to_microseconds() {
        let ms = ms_since(Instant::now());
        assert!((0.0..1000.0).contains(&ms));
        assert_eq!((ms * 1000.0).round() / 1000.0, ms);
    }
}
