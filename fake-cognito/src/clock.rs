//! fake-cognito's notion of now: the wall clock plus an offset that tests move with
//! `POST /_fake/clock` (see [`crate::clock_api`]), in the units Cognito's JSON and tokens use, and
//! the RFC 3339 text that route reads and writes.
//!
//! Everything that asks "has this expired?" (tokens, refresh tokens, codes, challenge sessions) or
//! stamps a time (iat, auth_time, creation dates) reads the one [`Clock`] of its `App`, so moving
//! it moves all of them together. The offset is kept in memory only: a restart runs on wall time.

use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;
use time::format_description::FormatItem;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// What `/_fake/clock` and `/healthz` print: always milliseconds, always UTC.
const MILLIS_Z: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// Earliest and latest instants the clock may be moved to (unix ms): 1970-01-01 and the last
/// millisecond of 9999, the range RFC 3339 text can name.
pub const MIN_MS: i64 = 0;
pub const MAX_MS: i64 = 253_402_300_799_999;

/// The wall clock in unix milliseconds.
pub fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The wall clock in unix seconds (replaying the journal at startup, before any offset is set).
pub fn wall_secs() -> i64 {
    wall_ms().div_euclid(1000)
}

/// Wall time plus a movable offset. Lock-free: read on every login.
#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    pub fn now_ms(&self) -> i64 {
        wall_ms().saturating_add(self.offset_ms.load(Ordering::Relaxed))
    }

    pub fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// Seconds since the epoch with a millisecond fraction, as Cognito puts in JSON.
    pub fn now_f64(&self) -> f64 {
        (self.now_ms() as f64) / 1000.0
    }

    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    /// Move now by `delta_ms` (negative moves back). Refused if now would leave
    /// [`MIN_MS`]..=[`MAX_MS`].
    pub fn advance(&self, delta_ms: i64) -> Result<(), String> {
        let target = self
            .now_ms()
            .checked_add(delta_ms)
            .ok_or_else(|| "the clock would overflow".to_owned())?;
        self.set(target)
    }

    /// Make now `target_ms` (it keeps running from there at wall-clock speed).
    pub fn set(&self, target_ms: i64) -> Result<(), String> {
        if !(MIN_MS..=MAX_MS).contains(&target_ms) {
            return Err(format!(
                "the clock can be moved only between {} and {}",
                format_rfc3339(MIN_MS),
                format_rfc3339(MAX_MS)
            ));
        }
        self.offset_ms
            .store(target_ms - wall_ms(), Ordering::Relaxed);
        Ok(())
    }

    /// Back to wall time.
    pub fn reset(&self) {
        self.offset_ms.store(0, Ordering::Relaxed);
    }
}

/// `2030-01-01T00:00:00.000Z` for unix milliseconds (clamped to the clock's range).
pub fn format_rfc3339(ms: i64) -> String {
    let ms = ms.clamp(MIN_MS, MAX_MS);
    let at = OffsetDateTime::UNIX_EPOCH + time::Duration::milliseconds(ms);
    at.format(MILLIS_Z).unwrap_or_default()
}

/// Unix milliseconds of an RFC 3339 date-time: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
/// The offset is required (a time without one names no instant); digits past milliseconds,
/// the clock's resolution, are dropped.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let at = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    i64::try_from(at.unix_timestamp_nanos().div_euclid(1_000_000)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_and_honours_offsets_and_fractions() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2030-01-01T00:00:00Z"),
            Some(1_893_456_000_000)
        );
        assert_eq!(
            parse_rfc3339("2030-01-01T02:00:00.5+02:00"),
            Some(1_893_456_000_500)
        );
        assert_eq!(
            parse_rfc3339("2024-02-29T23:59:59.123456-00:30"),
            Some(1_709_251_199_123 + 1_800_000)
        );
        for ms in [0, 951_782_400_000, 1_709_251_199_999, MAX_MS] {
            assert_eq!(parse_rfc3339(&format_rfc3339(ms)), Some(ms));
        }
        assert_eq!(format_rfc3339(MAX_MS), "9999-12-31T23:59:59.999Z");
    }

    #[test]
    fn malformed_or_impossible_times_are_refused() {
        for bad in [
            "",
            "2030-01-01",
            "2030-01-01T00:00:00",
            "2030-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2030-01-01T24:00:00Z",
            "2030-01-01T00:00:00.Z",
            "2030-01-01T00:00:00+0200",
            "2030-01-01T00:00:00Zjunk",
            "2030-01-01T00:00:00é",
            "+030-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_clock_moves_sets_and_resets_within_range() {
        let c = Clock::default();
        let before = c.now_ms();
        c.advance(3_600_000).unwrap();
        assert!(c.now_ms() - before >= 3_600_000);
        c.set(1_893_456_000_000).unwrap();
        assert!((c.now_ms() - 1_893_456_000_000).abs() < 5_000);
        assert!(c.set(-1).is_err());
        assert!(c.set(MAX_MS + 1).is_err());
        assert!(c.advance(i64::MAX).is_err());
        c.reset();
        assert_eq!(c.offset_ms(), 0);
    }
}
