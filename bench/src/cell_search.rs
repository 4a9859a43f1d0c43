//! fake-cell's search alone, in this process: the cell's router called directly (no sockets,
//! no wrk on the same cores) with the distinct load-point queries on the bench corpus, timed
//! on one thread against the same searches on an empty index (the baseline: what a search
//! costs before any document is scored: parsing, checks, embedding the query, the answer).
//! Rounds alternate the methods so the host's drift reaches them alike; each figure is the
//! median round. A change to the engine shows here before it shows in the load points.
//! (The cell stays in this process, idle, until the bench exits: fake-cell has no call that
//! stops its index servers, and they cost nothing while no one calls them.)

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::body::Body;
use axum::http::Request;
use clap::Parser;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::Ctx;
use crate::report::Row;

const METHODS: [&str; 3] = ["LEXICAL", "TENSOR", "HYBRID"];

/// µs per search, by method: (10k documents, empty index).
type Figures = Vec<(&'static str, f64, f64)>;

pub async fn run(ctx: &mut Ctx, docs: u64) -> anyhow::Result<()> {
    let dir = ctx.dir("cell-search")?;
    let (rounds, per_round) = if ctx.quick { (3, 500) } else { (5, 2_000) };
    let figures =
        tokio::task::spawn_blocking(move || measure(&dir, docs, rounds, per_round)).await??;
    for (method, full, empty) in figures {
        ctx.report.push(
            Row::new(
                "cell",
                format!(
                    "{} search alone, in-process, {}k docs",
                    method.to_lowercase(),
                    docs / 1000
                ),
                full,
                "µs/search",
            )
            .vs("the same search on an empty index", empty)
            .note(format!(
                "the router called on one thread, {per_round} distinct load-point queries × \
                 {rounds} rounds (median); scoring {:.1} µs",
                full - empty
            )),
        );
    }
    Ok(())
}

fn measure(dir: &Path, docs: u64, rounds: usize, per_round: usize) -> anyhow::Result<Figures> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let app = start(dir)?;
        for name in ["bench-search", "empty"] {
            let settings = crate::cell::index_settings().to_string();
            call(&app, &format!("/api/v2/indexes/{name}"), &settings).await?;
        }
        for a in (0..docs).step_by(100) {
            let batch: Vec<Value> = (a..(a + 100).min(docs)).map(crate::cell::doc).collect();
            let body = json!({"tensorFields": ["title"], "documents": batch});
            let r = call(&app, "/indexes/bench-search/documents", &body.to_string()).await?;
            if r["errors"] == json!(true) {
                bail!("add documents: {r:.300}");
            }
        }
        // The graph is built on its own thread: searches measured while it catches up would
        // be exact scans.
        crate::cell_ann::wait_idle(std::process::id(), Duration::from_secs(300)).await?;
        let mut times: Vec<[Vec<f64>; 2]> = METHODS.iter().map(|_| [vec![], vec![]]).collect();
        let mut n = 0u64;
        for _ in 0..rounds {
            for (m, method) in METHODS.iter().enumerate() {
                for (i, index) in ["bench-search", "empty"].iter().enumerate() {
                    let path = format!("/indexes/{index}/search");
                    let start = Instant::now();
                    for _ in 0..per_round {
                        n += 1;
                        post(&app, &path, &body(method, n)).await?;
                    }
                    times[m][i].push(start.elapsed().as_secs_f64() * 1e6 / per_round as f64);
                }
            }
        }
        Ok(METHODS
            .iter()
            .zip(times)
            .map(|(m, [full, empty])| (*m, median(full), median(empty)))
            .collect())
    })
}

/// An open cell on a scratch state file and free index ports; its whole router.
fn start(dir: &Path) -> anyhow::Result<axum::Router> {
    let base = crate::proc::free_port()?.clamp(20_000, 60_000);
    let state = dir.join("cell.json");
    let config = fake_cell::Config::try_parse_from([
        "fake-cell",
        "--open",
        "--index-ports",
        &format!("{base}-{}", base + 4),
        "--state-file",
        &state.to_string_lossy(),
    ])?;
    let cell = fake_cell::restore(config, service_kit::HealthState::new("fake-cell", "bench"))?;
    cell.health.set_ready();
    Ok(fake_cell::router(cell))
}

/// The distinct load point's body (`cell::distinct_search_script`) for request `n`.
fn body(method: &str, n: u64) -> String {
    crate::cell::search_body_for(method, &format!("{} zq0x{n}", crate::cell::QUERY))
}

/// POSTs `body` to `path` through the router; the JSON answer of a 200.
async fn call(app: &axum::Router, path: &str, body: &str) -> anyhow::Result<Value> {
    let bytes = post(app, path, body).await?;
    serde_json::from_slice(&bytes).context("answer is not JSON")
}

/// POSTs `body` to `path` through the router; the answer's bytes if it is a 200 (a timed
/// search reads them as a client would, without parsing them).
async fn post(app: &axum::Router, path: &str, body: &str) -> anyhow::Result<axum::body::Bytes> {
    let req = Request::post(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))?;
    let res = app.clone().oneshot(req).await?;
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 24).await?;
    if !status.is_success() {
        bail!("POST {path}: {status} {}", String::from_utf8_lossy(&bytes));
    }
    Ok(bytes)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}
