//! Snapshots (issue 20): restoring the standard seed set (50 accounts, 500 users, 5 × 2,000
//! documents and the moto resources) into a running stack, beside what it replaces — `up --fresh`
//! plus seeding from zero — both measured in the same run on the same project. Also the save.
//! Goal: restore ≤ 1 s.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::Ctx;
use crate::report::Row;
use crate::stack;

/// Runs `orchestrator --project-root ROOT ARGS…`; the wall time, or the output on failure.
fn orchestrator(ctx: &Ctx, root: &Path, args: &[&str]) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let out = Command::new(ctx.bin("orchestrator")?)
        .arg("--project-root")
        .arg(root)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .context("running orchestrator")?;
    let took = start.elapsed();
    if !out.status.success() {
        bail!(
            "orchestrator {}: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(took)
}

pub async fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let root = ctx.dir("snapshot-project")?;
    let offset = stack::free_offset()?;
    let off = offset.to_string();
    // Baseline: a stack from empty state, then the standard seed from zero.
    let (up, up_took, _) =
        stack::up_profile(ctx, &root, offset, "full", &["--fresh", "--no-seed"]).await?;
    let seed_took = orchestrator(ctx, &root, &["seed", "--standard", "--port-offset", &off])?;
    let fresh = up_took + seed_took;
    let save = orchestrator(
        ctx,
        &root,
        &["snapshot", "save", "std", "--port-offset", &off],
    )?;
    // The best of three restores: each replaces the whole state in place.
    let mut restores = Vec::new();
    for _ in 0..3 {
        restores.push(orchestrator(
            ctx,
            &root,
            &["snapshot", "restore", "std", "--port-offset", &off],
        )?);
    }
    drop(up);
    let best = restores.iter().min().copied().unwrap_or_default();
    let worst = restores.iter().max().copied().unwrap_or_default();
    ctx.report.push(
        Row::new(
            "snapshot",
            "restore standard set in place",
            best.as_secs_f64(),
            "s",
        )
        .vs("up --fresh + seed from zero", fresh.as_secs_f64())
        .goal("≤ 1 s")
        .note(format!(
            "best of 3 (worst {:.2} s); up {:.1} s + seed {:.1} s",
            worst.as_secs_f64(),
            up_took.as_secs_f64(),
            seed_took.as_secs_f64()
        )),
    );
    ctx.report.push(Row::new(
        "snapshot",
        "save standard set",
        save.as_secs_f64(),
        "s",
    ));
    Ok(())
}
