//! Bounded readiness waits: poll a URL until it answers 200, instead of failing while a service is
//! still starting.

use std::time::{Duration, Instant};

/// Poll `url` with GET until it answers 200 or `timeout` passes. The error says what was last seen.
pub async fn until_ok(
    client: &reqwest::Client,
    url: &str,
    timeout: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    let mut delay = Duration::from_millis(20);
    loop {
        let last = match client.get(url).timeout(Duration::from_secs(2)).send().await {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) => format!("answered {}", r.status()),
            Err(e) if e.is_connect() => "connection refused".to_owned(),
            Err(e) => e.to_string(),
        };
        let now = Instant::now();
        if now >= deadline {
            return Err(format!(
                "{url} not ready after {:.1}s (last: {last})",
                timeout.as_secs_f64()
            ));
        }
        tokio::time::sleep(delay.min(deadline - now)).await;
        delay = (delay * 2).min(Duration::from_millis(250));
    }
}
