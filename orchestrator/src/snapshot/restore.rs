//! `snapshot restore NAME`: the snapshot is loaded and checked whole (version, every checksum,
//! the seed manifest parses) before anything is touched; then every service restores in place at
//! once (each behind its own write gate), then the `[[snapshot.hooks]]` restore commands run.
//! A part whose service this stack does not run is skipped and named in the answer.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{Context as _, bail};
use serde::Serialize;
use serde_json::Value;

use super::{CELL, COGNITO, MOTO, MOTO_LIVE, ROUTER, SEED, Stack, fakes, format, hooks, moto};

#[derive(Debug, Serialize)]
pub struct Restored {
    pub name: String,
    /// Each restored part's counts afterwards.
    pub parts: BTreeMap<String, Value>,
    /// Parts of the snapshot this stack has no service for.
    pub skipped: Vec<String>,
    /// The seed manifest the snapshot carried, for the dashboard to serve again.
    #[serde(skip)]
    pub seed: Option<seed::Manifest>,
    pub ms: u64,
}

/// A part's answer with the milliseconds it took (`"ms"`), which the bench reports per part.
async fn timed(work: impl Future<Output = anyhow::Result<Value>>) -> anyhow::Result<Value> {
    let started = Instant::now();
    let mut v = work.await?;
    if let Some(o) = v.as_object_mut() {
        o.insert("ms".into(), (started.elapsed().as_millis() as u64).into());
    }
    Ok(v)
}

async fn one(
    stack: &Stack,
    base: &Option<String>,
    doc: Option<&[u8]>,
    sha256: Option<&str>,
) -> Option<anyhow::Result<Value>> {
    let (Some(base), Some(doc)) = (base, doc) else {
        return None;
    };
    Some(timed(fakes::restore(&stack.http, base, doc, sha256)).await)
}

async fn moto_one(
    stack: &Stack,
    recording: Option<&[u8]>,
    held: Option<&moto::live::Live>,
) -> Option<anyhow::Result<Value>> {
    let (Some(base), Some(rec)) = (&stack.moto, recording) else {
        return None;
    };
    let rec = String::from_utf8_lossy(rec);
    let r = moto::Recorder::new(base, stack.http.clone());
    Some(timed(r.restore(&rec, held, stack.gateway.as_deref())).await)
}

/// What the router is sent when the snapshot has no part of its own (taken without a router).
const ROUTER_DOC: &[u8] = br#"{"format": 1, "service": "webhook-router"}"#;

/// Restore snapshot `name`, already loaded and checked whole (`store::load`), in place.
pub async fn restore(
    stack: &Stack,
    name: &str,
    loaded: format::Loaded,
) -> anyhow::Result<Restored> {
    let started = Instant::now();
    let seed = match loaded.part(SEED) {
        Some(b) => Some(
            serde_json::from_slice::<seed::Manifest>(b)
                .with_context(|| format!("snapshot {name}: seed.json is not a seed manifest"))?,
        ),
        None => None,
    };
    // A snapshot taken before this part existed restores without it.
    let held: Option<moto::live::Live> = match loaded.part(MOTO_LIVE) {
        Some(b) => Some(serde_json::from_slice(b).with_context(|| {
            format!("snapshot {name}: moto-live.json is not what a save writes")
        })?),
        None => None,
    };
    // The router holds its pipe while moto replays (the replayed writes were delivered before
    // the snapshot was taken), then counts what the streams hold as delivered.
    let router_doc = loaded.part(ROUTER).unwrap_or(ROUTER_DOC);
    let sha = |part: &str| {
        loaded
            .manifest
            .services
            .get(part)
            .map(|p| p.sha256.as_str())
    };
    let router = one(stack, &stack.router, Some(router_doc), None).await;
    let (cell, cognito, moto) = tokio::join!(
        one(stack, &stack.cell, loaded.part(CELL), sha(CELL)),
        one(stack, &stack.cognito, loaded.part(COGNITO), sha(COGNITO)),
        moto_one(stack, loaded.part(MOTO), held.as_ref()),
    );
    if let Some(base) = &stack.router
        && let Err(e) = fakes::resume(&stack.http, base).await
    {
        tracing::warn!(error = %format!("{e:#}"), "the webhook router did not resume; it does by itself within 2 minutes");
    }
    let mut parts = BTreeMap::new();
    let mut failed = Vec::new();
    for (part, outcome) in [
        (CELL, cell),
        (COGNITO, cognito),
        (MOTO, moto),
        (ROUTER, router),
    ] {
        match outcome {
            Some(Ok(v)) => {
                parts.insert(part.to_owned(), v);
            }
            Some(Err(e)) => failed.push(format!("{part}: {e:#}")),
            None => {}
        }
    }
    if !failed.is_empty() {
        bail!(
            "snapshot {name} was not fully restored ({} restored: {}); {}",
            parts.len(),
            parts.keys().cloned().collect::<Vec<_>>().join(", "),
            failed.join("; ")
        );
    }
    hooks::run_all(stack, hooks::Phase::Restore, name, &loaded.dir).await?;
    let skipped = loaded
        .manifest
        .services
        .keys()
        .filter(|p| {
            !parts.contains_key(*p)
                && !matches!(p.as_str(), SEED | MOTO_LIVE)
                && !p.starts_with("hook:")
        })
        .cloned()
        .collect();
    Ok(Restored {
        name: name.to_owned(),
        parts,
        skipped,
        seed,
        ms: started.elapsed().as_millis() as u64,
    })
}
