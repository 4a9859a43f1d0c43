//! The built-in services' snapshot endpoints: `GET /_fake/snapshot` (the whole state as one
//! versioned document), `PUT /_fake/snapshot` (restore in place; answers with counts) and
//! `GET /_fake/snapshot/summary` (the counts `diff` compares).

use std::time::Duration;

use anyhow::{Context as _, bail};
use serde_json::Value;

/// The service's whole state, as bytes to store unchanged.
pub async fn fetch(http: &reqwest::Client, base: &str) -> anyhow::Result<Vec<u8>> {
    let url = format!("{base}/_fake/snapshot");
    let res = http
        .get(&url)
        .timeout(Duration::from_secs(120))
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
    Ok(body.to_vec())
}

/// Restore `doc` in place; the service's counts afterwards.
pub async fn restore(http: &reqwest::Client, base: &str, doc: &[u8]) -> anyhow::Result<Value> {
    let url = format!("{base}/_fake/snapshot");
    let res = http
        .put(&url)
        .header("content-type", "application/json")
        .body(doc.to_vec())
        .timeout(Duration::from_secs(300))
        .send()
        .await
        .with_context(|| format!("{url} did not answer"))?;
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    if !status.is_success() {
        bail!("{url} answered {status}: {text}");
    }
    let v: Value = serde_json::from_str(&text).with_context(|| format!("{url} answered {text}"))?;
    Ok(v.get("summary").cloned().unwrap_or(v))
}

/// The webhook router's end of a restore: deliver on, past what the streams hold now.
pub async fn resume(http: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    let url = format!("{base}/_fake/snapshot/resume");
    let res = http
        .post(&url)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .with_context(|| format!("{url} did not answer"))?;
    if !res.status().is_success() {
        bail!("{url} answered {}", res.status());
    }
    Ok(())
}

/// The live counts.
pub async fn summary(http: &reqwest::Client, base: &str) -> anyhow::Result<Value> {
    let url = format!("{base}/_fake/snapshot/summary");
    let res = http
        .get(&url)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .with_context(|| format!("{url} did not answer"))?;
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    if !status.is_success() {
        bail!("{url} answered {status}: {text}");
    }
    serde_json::from_str(&text).with_context(|| format!("{url} answered {text}"))
}
