//! Seed time for the standard data set (50 accounts, 500 users, 5 indexes × 2,000 documents)
//! against fresh services: fake-cell + fake-cognito in one run, moto's resources in another.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::Ctx;
use crate::report::Row;

/// Runs the seed binary with `targets` (pairs of flag and URL); returns the wall time and stdout.
fn run_seed(ctx: &Ctx, name: &str, targets: &[(&str, &str)]) -> anyhow::Result<(Duration, String)> {
    let out_dir = ctx.dir(name)?;
    let mut cmd = Command::new(ctx.bin("seed")?);
    cmd.args(["--standard", "--seed", "42"])
        .arg("--out-dir")
        .arg(&out_dir);
    for (flag, url) in targets {
        cmd.args([flag, url]);
    }
    let start = Instant::now();
    let out = cmd.output().context("running seed")?;
    let took = start.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!(
            "seed failed: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok((took, stdout))
}

/// Rows for the `ready: <group> (…, <t>s)` lines the seed prints.
fn group_rows(ctx: &mut Ctx, stdout: &str) {
    for line in stdout.lines() {
        let Some(rest) = line.trim().strip_prefix("ready: ") else {
            continue;
        };
        let group = rest.split_whitespace().next().unwrap_or("?");
        let secs = rest
            .trim_end_matches(')')
            .rsplit([' ', ','])
            .next()
            .and_then(|t| t.trim_end_matches('s').parse::<f64>().ok());
        if let Some(secs) = secs {
            ctx.report
                .push(Row::new("seed", format!("  group {group}"), secs, "s"));
        }
    }
}

pub async fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let cell = crate::cell::start(ctx, "seed-cell", false).await?;
    let (_cognito, cognito_url) = crate::cognito::start_fake(ctx, "seed-cognito").await?;
    let (took, stdout) = run_seed(
        ctx,
        "seed-fakes",
        &[("--cell-url", &cell.url), ("--cognito-url", &cognito_url)],
    )?;
    ctx.report.push(
        Row::new(
            "seed",
            "standard set into fake-cell + fake-cognito (seed binary, wall)",
            took.as_secs_f64(),
            "s",
        )
        .goal("≤ 3 s"),
    );
    group_rows(ctx, &stdout);
    drop(cell);

    let (_moto, moto_url, _) = crate::cognito::start_moto(ctx).await?;
    let (took, stdout) = run_seed(ctx, "seed-moto", &[("--moto-url", &moto_url)])?;
    ctx.report.push(Row::new(
        "seed",
        "moto resources of the standard set (seed binary, wall)",
        took.as_secs_f64(),
        "s",
    ));
    group_rows(ctx, &stdout);
    Ok(())
}
