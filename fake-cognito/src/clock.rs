//! Wall-clock time in the units Cognito's JSON and tokens use.

/// Seconds since the epoch with a millisecond fraction, as Cognito puts in JSON.
pub fn now_f64() -> f64 {
    (now_ms() as f64) / 1000.0
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub fn now_secs() -> i64 {
    now_ms() / 1000
}
