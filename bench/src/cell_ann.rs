//! fake-cell's approximate (HNSW) tensor search in the bench: waiting until the graph has
//! caught up with a bulk load (the cell's CPU goes idle), and recall@10 of the approximate
//! path against `approximate: false` on the bench corpus.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::Ctx;
use crate::report::Row;

/// CPU seconds (user + system) the process has used, from /proc/<pid>/stat.
pub fn cpu_secs(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the `(comm)`; utime and stime are the 14th and 15th of the whole line.
    let rest = stat.rsplit_once(')').context("stat format")?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 =
        f.get(11).context("utime")?.parse::<f64>()? + f.get(12).context("stime")?.parse::<f64>()?;
    Ok(ticks / 100.0)
}

/// Waits (at most `limit`) until the cell uses under 5% of a core over half a second: the
/// graph's insert thread has drained what the fill queued. Returns how long it took.
pub async fn wait_idle(pid: u32, limit: Duration) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let mut last = cpu_secs(pid)?;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = cpu_secs(pid)?;
        if now - last < 0.025 {
            return Ok(start.elapsed());
        }
        last = now;
        if start.elapsed() > limit {
            bail!("fake-cell still busy after {limit:?}");
        }
    }
}

async fn hits(ctx: &Ctx, url: &str, body: Value) -> anyhow::Result<Vec<f64>> {
    let r = ctx.http.post(url).json(&body).send().await?;
    let status = r.status();
    let v: Value = r.json().await?;
    if !status.is_success() {
        bail!("search: {status} {v:.300}");
    }
    Ok(v["hits"]
        .as_array()
        .context("hits")?
        .iter()
        .filter_map(|h| h["_score"].as_f64())
        .collect())
}

/// The recall queries shaped like the load points': the bench's query plus one word no
/// document has, so every query is distinct but all ask for the same neighbourhood.
fn load_point_queries(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("{} zq{i}x{}", super::cell::QUERY, i * 7))
        .collect()
}

/// Queries of 1 to 5 corpus words drawn at random (a fixed seed), so recall is also measured
/// away from the load points' one neighbourhood.
fn diverse_queries(n: usize) -> Vec<String> {
    let words = super::cell::WORDS;
    let mut z: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        z ^= z << 13;
        z ^= z >> 7;
        z ^= z << 17;
        z
    };
    (0..n)
        .map(|_| {
            let k = 1 + (next() % 5) as usize;
            (0..k)
                .map(|_| words[(next() % words.len() as u64) as usize])
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// How many of the `approx` scores reach the exact search's 10th best: a hit scoring as well
/// as the 10th is right, so ties count.
pub fn found_of_best(approx: &[f64], tenth: f64) -> usize {
    approx.iter().filter(|s| **s >= tenth - 1e-6).count()
}

/// Recall@10 of approximate search (the load points' `efSearch`) against exact search over
/// `queries`. Ties count: an approximate hit is right if it scores at least the exact 10th hit
/// (scores are exact on both paths).
pub async fn recall(
    ctx: &Ctx,
    endpoint: &str,
    index: &str,
    queries: &[String],
) -> anyhow::Result<f64> {
    let url = format!("{endpoint}/indexes/{index}/search");
    let (mut right, mut total) = (0usize, 0usize);
    for q in queries {
        let exact = hits(
            ctx,
            &url,
            json!({"q": q, "limit": 10, "approximate": false}),
        )
        .await?;
        let approx = hits(
            ctx,
            &url,
            json!({"q": q, "limit": 10, "efSearch": super::cell::EF_SEARCH}),
        )
        .await?;
        let Some(tenth) = exact.last() else { continue };
        right += found_of_best(&approx, *tenth);
        total += exact.len();
    }
    Ok(if total == 0 {
        0.0
    } else {
        right as f64 / total as f64
    })
}

/// After a fill to `size` documents: wait for the graph, then report recall@10.
pub async fn after_fill(
    ctx: &mut Ctx,
    pid: u32,
    endpoint: &str,
    index: &str,
    size: u64,
) -> anyhow::Result<()> {
    let waited = wait_idle(pid, Duration::from_secs(900)).await?;
    ctx.report.push(
        Row::new(
            "cell",
            format!("HNSW graph caught up after the fill to {size} docs (idle wait)"),
            waited.as_secs_f64(),
            "s",
        )
        .note("efConstruction 128, m 16"),
    );
    let sets = [
        ("100 load-point queries", load_point_queries(100)),
        ("200 queries of 1-5 corpus words", diverse_queries(200)),
    ];
    for (what, queries) in sets {
        let r = recall(ctx, endpoint, index, &queries).await?;
        ctx.report.push(
            Row::new(
                "cell",
                format!(
                    "tensor recall@10, approximate (efSearch {}) vs exact, {}k docs ({what})",
                    super::cell::EF_SEARCH,
                    size / 1000
                ),
                r,
                "",
            )
            .goal("≥ 0.95"),
        );
        println!("fake-cell recall@10 at {size} docs, {what}: {r:.3}");
    }
    Ok(())
}
