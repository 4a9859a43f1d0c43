//! Polling with a deadline instead of sleeping a fixed time. One patience setting for every
//! suite: `HIPPODROME_TEST_PATIENCE_MS` (default 30 s); raise it on slow machines.

use std::future::Future;
use std::time::{Duration, Instant};

/// How long a poll waits before it fails.
pub fn patience() -> Duration {
    let ms = std::env::var("HIPPODROME_TEST_PATIENCE_MS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(30_000);
    Duration::from_millis(ms)
}

/// The instant a poll starting now gives up (for loops that check more than one thing).
pub fn deadline() -> Instant {
    Instant::now() + patience()
}

/// Poll `f` every 50 ms until it returns `Some`, or panic naming `what` once the patience runs out.
pub async fn wait_for<T, F, Fut>(what: &str, f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    wait_for_within(what, patience(), f).await
}

/// [`wait_for`] with a limit of its own (never below the patience setting), for waits that are
/// known to be long, such as a service restarted by the supervisor on a loaded machine.
pub async fn wait_for_within<T, F, Fut>(what: &str, within: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within.max(patience());
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Wait until `GET url` answers 200 (a service's `/healthz`, moto's `/moto-api/`).
pub async fn wait_http_ok(what: &str, url: &str) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .no_proxy()
        .build()
        .expect("HTTP client");
    wait_for(what, || {
        let req = client.get(url).send();
        async move {
            match req.await {
                Ok(r) if r.status() == 200 => Some(()),
                _ => None,
            }
        }
    })
    .await;
}
