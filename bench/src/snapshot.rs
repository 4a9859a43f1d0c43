//! Snapshots (issue 20): restoring the standard seed set (50 accounts, 500 users, 5 × 2,000
//! documents and the moto resources) into a running stack, beside what it replaces — `up --fresh`
//! plus seeding from zero — both measured in the same run on the same project. Also the save.
//! Goal: restore ≤ 1 s. Restores are timed four ways: after a DynamoDB write (moto rebuilds that
//! table), after an SQS message (moto's full replay), after a document written to one fake-cell
//! index (what an e2e test leaves behind: that index is loaded again),
//! and with nothing changed since the last restore (every part left alone); each row notes the
//! parts' own times from the restore's answer.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use orchestrator::config::ports::Ports;
use serde_json::{Value, json};

use crate::Ctx;
use crate::aws_json::{DYNAMODB, SQS};
use crate::report::Row;
use crate::stack;

/// Runs `orchestrator --project-root ROOT ARGS…`; the wall time and stdout, or the output on
/// failure.
fn orchestrator(ctx: &Ctx, root: &Path, args: &[&str]) -> anyhow::Result<(Duration, String)> {
    let start = Instant::now();
    let out = Command::new(ctx.bin("orchestrator")?)
        .arg("--project-root")
        .arg(root)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .context("running orchestrator")?;
    let took = start.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!(
            "orchestrator {}: {stdout}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok((took, stdout))
}

/// One write through the gateway after the snapshot, so the next restore has moto to replay
/// (a restore with nothing changed since the last one leaves moto alone).
async fn change_moto(ctx: &Ctx, gateway: &str, n: usize) -> anyhow::Result<()> {
    let tables = DYNAMODB
        .call(&ctx.http, gateway, "ListTables", json!({}))
        .await?;
    let Some(table) = tables["TableNames"].as_array().and_then(|t| {
        t.iter()
            .find_map(|n| n.as_str().filter(|n| n.contains("Accounts")))
    }) else {
        bail!("no Accounts table to change: {tables}");
    };
    let item = json!({"account_id": {"S": format!("bench-after-snapshot-{n}")}});
    DYNAMODB
        .call(
            &ctx.http,
            gateway,
            "PutItem",
            json!({"TableName": table, "Item": item}),
        )
        .await?;
    Ok(())
}

/// `snapshot restore std` three times (each after `change` when asked); the wall times and the
/// last answer's per-part milliseconds.
/// One message sent to a seeded queue: a change only moto's full replay (reset, every call
/// again, then what ids leave wrong put right) undoes.
async fn send_message(ctx: &Ctx, gateway: &str, n: usize) -> anyhow::Result<()> {
    let queues = SQS
        .call(&ctx.http, gateway, "ListQueues", json!({}))
        .await?;
    let Some(url) = queues["QueueUrls"]
        .as_array()
        .and_then(|q| q.first())
        .and_then(Value::as_str)
    else {
        bail!("no queue to send to: {queues}");
    };
    let body = json!({"QueueUrl": url, "MessageBody": format!("bench-after-snapshot-{n}")});
    SQS.call(&ctx.http, gateway, "SendMessage", body).await?;
    Ok(())
}

/// A seeded index on fake-cell with a key that may write to it.
struct CellTarget {
    cell: String,
    index: String,
    key: String,
}

impl CellTarget {
    fn of(root: &Path, cell: String) -> anyhow::Result<Self> {
        let path = root.join(".hippodrome").join("seed.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let m: Value = serde_json::from_str(&text).context("seed.json")?;
        for a in m["accounts"].as_array().into_iter().flatten() {
            let key = a["api_keys"].as_array().into_iter().flatten().find(|k| {
                k["scopes"]
                    .as_array()
                    .is_some_and(|s| s.iter().any(|x| x == "write"))
            });
            let index = a["indexes"].as_array().and_then(|i| i.first());
            if let (Some(key), Some(index)) = (key, index) {
                return Ok(CellTarget {
                    cell,
                    index: index["name"].as_str().unwrap_or_default().to_owned(),
                    key: key["key"].as_str().unwrap_or_default().to_owned(),
                });
            }
        }
        bail!("the standard seed made no index with a write key")
    }
}

/// One document added to the target index, through its index server as py-marqo does.
async fn change_cell(ctx: &Ctx, t: &CellTarget, n: usize) -> anyhow::Result<()> {
    let info: Value = ctx
        .http
        .get(format!("{}/api/v2/indexes/{}", t.cell, t.index))
        .header("x-api-key", &t.key)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let Some(endpoint) = info["marqoEndpoint"].as_str() else {
        bail!("no marqoEndpoint for {}: {info}", t.index);
    };
    let doc =
        json!({"_id": format!("bench-after-snapshot-{n}"), "title": "written after the snapshot"});
    let v: Value = ctx
        .http
        .post(format!("{endpoint}/indexes/{}/documents", t.index))
        .header("x-api-key", &t.key)
        .json(&json!({"documents": [doc], "tensorFields": []}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    if v["errors"].as_bool() != Some(false) {
        bail!("adding a document failed: {v}");
    }
    Ok(())
}

/// What changes before each timed restore.
enum Since<'a> {
    Nothing,
    Moto(&'a str),
    Queue(&'a str),
    Cell(&'a CellTarget),
}

async fn restores(
    ctx: &Ctx,
    root: &Path,
    off: &str,
    since: Since<'_>,
) -> anyhow::Result<(Vec<Duration>, String)> {
    let mut took = Vec::new();
    let mut parts = String::new();
    for n in 0..3 {
        match since {
            Since::Nothing => {}
            Since::Moto(g) => change_moto(ctx, g, n).await?,
            Since::Queue(g) => send_message(ctx, g, n).await?,
            Since::Cell(t) => change_cell(ctx, t, n).await?,
        }
        let (t, out) = orchestrator(
            ctx,
            root,
            &["snapshot", "restore", "std", "--port-offset", off, "--json"],
        )?;
        took.push(t);
        parts = part_times(&out);
    }
    Ok((took, parts))
}

/// `fake-cell 420 ms, moto 380 ms (replayed 52)…` from a restore's JSON answer.
fn part_times(answer: &str) -> String {
    let v: Value = serde_json::from_str(answer).unwrap_or(Value::Null);
    v["parts"]
        .as_object()
        .map(|p| {
            p.iter()
                .map(|(name, part)| {
                    let extra = match (part["unchanged"].as_bool(), part["replayed"].as_u64()) {
                        (Some(true), _) => " (unchanged)".to_owned(),
                        (_, Some(n)) if part["tables"].is_array() => {
                            format!(" (tables rebuilt, {n} calls)")
                        }
                        (_, Some(n)) => format!(" (full replay, {n} calls)"),
                        _ => String::new(),
                    };
                    let phases = part["took_ms"]
                        .as_object()
                        .filter(|_| name == "moto")
                        .map(|t| {
                            let each: Vec<String> =
                                t.iter().map(|(k, v)| format!("{k} {v}")).collect();
                            format!(" [{}]", each.join(", "))
                        })
                        .unwrap_or_default();
                    format!("{name} {} ms{extra}{phases}", part["ms"])
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn spread(took: &[Duration]) -> (Duration, Duration) {
    let best = took.iter().min().copied().unwrap_or_default();
    let worst = took.iter().max().copied().unwrap_or_default();
    (best, worst)
}

pub async fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let root = ctx.dir("snapshot-project")?;
    let offset = stack::free_offset()?;
    let off = offset.to_string();
    // Baseline: a stack from empty state, then the standard seed from zero.
    let (up, up_took, _) =
        stack::up_profile(ctx, &root, offset, "full", &["--fresh", "--no-seed"]).await?;
    let (seed_took, _) = orchestrator(ctx, &root, &["seed", "--standard", "--port-offset", &off])?;
    let fresh = up_took + seed_took;
    let (save, _) = orchestrator(
        ctx,
        &root,
        &["snapshot", "save", "std", "--port-offset", &off],
    )?;
    let ports = Ports::new(offset);
    let gateway = format!("http://127.0.0.1:{}", ports.aws_gateway());
    let target = CellTarget::of(&root, format!("http://127.0.0.1:{}", ports.fake_cell()))?;
    // moto has a write to undo every time.
    let (changed, changed_parts) = restores(ctx, &root, &off, Since::Moto(&gateway)).await?;
    // A message to take back every time: moto replays in full.
    let (full, full_parts) = restores(ctx, &root, &off, Since::Queue(&gateway)).await?;
    // One index has a document to undo every time (loaded again from the carried chunks).
    let (written, written_parts) = restores(ctx, &root, &off, Since::Cell(&target)).await?;
    // Nothing changed since the last restore: every part is left as it is.
    let (same, same_parts) = restores(ctx, &root, &off, Since::Nothing).await?;
    drop(up);
    let baseline = format!(
        "up {:.1} s + seed {:.1} s; ",
        up_took.as_secs_f64(),
        seed_took.as_secs_f64()
    );
    for (what, took, parts, extra) in [
        (
            "a DynamoDB item written since: moto rebuilds that table",
            &changed,
            &changed_parts,
            baseline.as_str(),
        ),
        (
            "an SQS message sent since: moto's full replay",
            &full,
            &full_parts,
            "",
        ),
        (
            "a document written to one index since",
            &written,
            &written_parts,
            "",
        ),
        ("nothing changed since", &same, &same_parts, ""),
    ] {
        let (best, worst) = spread(took);
        ctx.report.push(
            Row::new(
                "snapshot",
                format!("restore standard set in place ({what})"),
                best.as_secs_f64(),
                "s",
            )
            .vs("up --fresh + seed from zero", fresh.as_secs_f64())
            .goal("≤ 1 s")
            .note(format!(
                "best of 3 (worst {:.2} s); {extra}{parts}",
                worst.as_secs_f64()
            )),
        );
    }
    ctx.report.push(Row::new(
        "snapshot",
        "save standard set",
        save.as_secs_f64(),
        "s",
    ));
    Ok(())
}
