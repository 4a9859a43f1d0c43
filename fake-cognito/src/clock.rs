//! fake-cognito's notion of now: the wall clock plus an offset that tests move with
//! `POST /_fake/clock` (see [`crate::clock_api`]), in the units Cognito's JSON and tokens use, and
//! the RFC 3339 text that route reads and writes.
//!
//! Everything that asks "has this expired?" (tokens, refresh tokens, codes, challenge sessions) or
//! stamps a time (iat, auth_time, creation dates) reads the one [`Clock`] of its `App`, so moving
//! it moves all of them together. The offset is kept in memory only: a restart runs on wall time.

use std::sync::atomic::{AtomicI64, Ordering};

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

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (`civil_from_days`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `2030-01-01T00:00:00.000Z` for unix milliseconds.
pub fn format_rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let tod = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        tod / 3600,
        tod / 60 % 60,
        tod % 60,
        ms.rem_euclid(1000)
    )
}

fn digits(s: &str, range: std::ops::Range<usize>) -> Option<i64> {
    let part = s.get(range)?;
    part.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| part.parse().ok())
        .flatten()
}

/// Unix milliseconds of an RFC 3339 date-time: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
/// The offset is required (a time without one names no instant).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (digits(s, 0..4)?, digits(s, 5..7)?, digits(s, 8..10)?);
    let (h, mi, sec) = (digits(s, 11..13)?, digits(s, 14..16)?, digits(s, 17..19)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let max_day = *month_days.get(usize::try_from(mo - 1).ok()?)?;
    if d < 1 || d > max_day || h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let mut rest = &s[19..];
    let mut frac_ms = 0;
    if let Some(f) = rest.strip_prefix('.') {
        let n = f.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        // Milliseconds are the clock's resolution; further digits are dropped.
        let ms_digits = format!("{:0<3}", &f[..n.min(3)]);
        frac_ms = ms_digits.parse::<i64>().ok()?;
        rest = &f[n..];
    }
    let offset_secs = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && rest.as_bytes()[3] == b':' => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (oh, om) = (digits(rest, 1..3)?, digits(rest, 4..6)?);
            if oh > 23 || om > 59 {
                return None;
            }
            sign * (oh * 3600 + om * 60)
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset_secs;
    Some(secs * 1000 + frac_ms)
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
