//! The AWS gateway's restore gate (`/_fake/restore-gate`), closed around moto's reset and
//! replay so no client call through the gateway sees a half-replayed moto: calls wait, or get a
//! 503 `ServiceUnavailable` after 5 s. The lease makes the gateway reopen by itself if this
//! process dies mid-restore.

use std::time::Duration;

use anyhow::{Context as _, bail};

/// Longer than any restore should take; the gateway opens the gate by itself after it.
const LEASE: Duration = Duration::from_secs(120);

/// The gateway at `base`, its gate closed until [`Closed::open`].
pub struct Closed {
    url: String,
    http: reqwest::Client,
}

/// Close the gate (the gateway answers once the calls in flight are done).
pub async fn close(http: &reqwest::Client, base: &str) -> anyhow::Result<Closed> {
    let url = format!(
        "{}{}",
        base.trim_end_matches('/'),
        aws_gateway::restore_gate::PATH
    );
    let res = http
        .post(&url)
        .json(&serde_json::json!({ "lease_ms": LEASE.as_millis() as u64 }))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .with_context(|| format!("the AWS gateway at {url} did not answer"))?;
    if !res.status().is_success() {
        bail!(
            "the AWS gateway answered {} to closing its restore gate: {}",
            res.status(),
            res.text().await.unwrap_or_default()
        );
    }
    Ok(Closed {
        url,
        http: http.clone(),
    })
}

impl Closed {
    /// Let the calls through again.
    pub async fn open(self) -> anyhow::Result<()> {
        let res = self
            .http
            .delete(&self.url)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .with_context(|| format!("the AWS gateway at {} did not answer", self.url))?;
        if !res.status().is_success() {
            bail!(
                "the AWS gateway answered {} to opening its restore gate",
                res.status()
            );
        }
        Ok(())
    }
}
