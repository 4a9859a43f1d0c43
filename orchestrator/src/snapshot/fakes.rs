//! The built-in services' snapshot endpoints: `GET /_fake/snapshot` (the whole state as one
//! versioned document), `PUT /_fake/snapshot` (restore in place; answers with counts) and
//! `GET /_fake/snapshot/summary` (the counts `diff` compares).

use std::time::Duration;

use anyhow::{Context as _, bail};
use serde_json::Value;

/// Send `req` to `url` with `timeout`; the body of a 2xx answer, else the status and body as
/// the error.
async fn send(
    req: reqwest::RequestBuilder,
    url: &str,
    timeout: Duration,
) -> anyhow::Result<bytes::Bytes> {
    let res = req
        .timeout(timeout)
        .send()
        .await
        .with_context(|| format!("{url} did not answer"))?;
    let status = res.status();
    let body = res
        .bytes()
        .await
        .with_context(|| format!("reading {url}"))?;
    if !status.is_success() {
        bail!(
            "{url} answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    Ok(body)
}

fn json(url: &str, body: &[u8]) -> anyhow::Result<Value> {
    serde_json::from_slice(body)
        .with_context(|| format!("{url} answered {}", String::from_utf8_lossy(body)))
}

/// The service's whole state, as bytes to store unchanged.
pub async fn fetch(http: &reqwest::Client, base: &str) -> anyhow::Result<Vec<u8>> {
    let url = format!("{base}/_fake/snapshot");
    let body = send(http.get(&url), &url, Duration::from_secs(120)).await?;
    Ok(body.to_vec())
}

/// Restore `doc` (whose SHA-256 is `sha256`, when the manifest has it) in place; the service's
/// counts afterwards. A service whose summary names that document as the one it equals (it saved
/// or restored it and took no write since: fake-cell's `state_sha256`) is left alone, so the
/// document is neither sent nor parsed.
pub async fn restore(
    http: &reqwest::Client,
    base: &str,
    doc: &[u8],
    sha256: Option<&str>,
) -> anyhow::Result<Value> {
    if let Some(sha) = sha256 {
        let mut now = summary(http, base).await?;
        if now["state_sha256"].as_str() == Some(sha) {
            now["unchanged"] = true.into();
            return Ok(now);
        }
    }
    let url = format!("{base}/_fake/snapshot");
    let req = http
        .put(&url)
        .header("content-type", "application/json")
        .body(doc.to_vec());
    let v = json(&url, &send(req, &url, Duration::from_secs(300)).await?)?;
    Ok(v.get("summary").cloned().unwrap_or(v))
}

/// The webhook router's end of a restore: deliver on, past what the streams hold now.
pub async fn resume(http: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    let url = format!("{base}/_fake/snapshot/resume");
    send(http.post(&url), &url, Duration::from_secs(10)).await?;
    Ok(())
}

/// The live counts.
pub async fn summary(http: &reqwest::Client, base: &str) -> anyhow::Result<Value> {
    let url = format!("{base}/_fake/snapshot/summary");
    json(
        &url,
        &send(http.get(&url), &url, Duration::from_secs(30)).await?,
    )
}
