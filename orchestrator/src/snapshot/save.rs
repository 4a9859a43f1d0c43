//! `snapshot save NAME`: every running built-in's `/_fake/snapshot` document, moto's filtered
//! recording and the seed manifest fetched at once, then the `[[snapshot.hooks]]` save commands
//! writing into the same (still temporary) directory, committed as one snapshot.

use std::time::Instant;

use anyhow::Context as _;
use serde::Serialize;

use super::{
    CELL, COGNITO, MOTO, MOTO_LIVE, ROUTER, SEED, Stack, fakes, format, hooks, moto, store,
};

#[derive(Debug, Serialize)]
pub struct Saved {
    pub name: String,
    pub manifest: format::Manifest,
    pub ms: u64,
}

async fn fetch_opt(stack: &Stack, base: &Option<String>) -> anyhow::Result<Option<Vec<u8>>> {
    match base {
        Some(b) => fakes::fetch(&stack.http, b).await.map(Some),
        None => Ok(None),
    }
}

async fn moto_opt(stack: &Stack) -> anyhow::Result<Option<(String, moto::live::Live)>> {
    match &stack.moto {
        Some(b) => moto::Recorder::new(b, stack.http.clone())
            .save_with_live()
            .await
            .map(Some),
        None => Ok(None),
    }
}

/// Take snapshot `name` (replacing one of that name only once the new one is whole).
pub async fn save(
    stack: &Stack,
    name: &str,
    seed_manifest: Option<&seed::Manifest>,
) -> anyhow::Result<Saved> {
    let started = Instant::now();
    let dest = store::dir_of(&stack.hippodrome_dir, name)?;
    let mut w = format::Writer::new(&stack.root(), stack.random_seed)?;
    let (cell, cognito, recording, router) = tokio::join!(
        fetch_opt(stack, &stack.cell),
        fetch_opt(stack, &stack.cognito),
        moto_opt(stack),
        fetch_opt(stack, &stack.router),
    );
    let (recording, held) = match recording.context("moto")? {
        Some((r, h)) => (Some(r.into_bytes()), Some(serde_json::to_vec(&h)?)),
        None => (None, None),
    };
    let parts = [
        (CELL, "fake-cell.json", cell.context("fake-cell")?),
        (
            COGNITO,
            "fake-cognito.json",
            cognito.context("fake-cognito")?,
        ),
        (MOTO, "moto.jsonl", recording),
        (MOTO_LIVE, "moto-live.json", held),
        (
            ROUTER,
            "webhook-router.json",
            router.context("webhook-router")?,
        ),
        (
            SEED,
            "seed.json",
            seed_manifest.map(|m| m.to_json().into_bytes()),
        ),
    ];
    for (part, file, bytes) in parts {
        if let Some(bytes) = bytes {
            w.add(part, file, &bytes)?;
        }
    }
    hooks::run_all(stack, hooks::Phase::Save, name, w.dir()).await?;
    for file in hooks::new_files(w.dir(), |f| w.holds(f))? {
        w.adopt(&format!("hook:{file}"), &file)?;
    }
    let manifest = w.commit(&dest)?;
    Ok(Saved {
        name: name.to_owned(),
        manifest,
        ms: started.elapsed().as_millis() as u64,
    })
}
