//! The whole stack: `orchestrator up` to every built-in service healthy, `stop` with a service
//! that ignores SIGTERM, moto's own start-to-ready time, and Ctrl+C with the terminal closed
//! (`sigint.rs`).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::Value;

use orchestrator::config::ports::{self, Ports};

use crate::Ctx;
use crate::proc::Proc;
use crate::report::Row;

/// A port offset under which every port a stack uses is free now.
pub fn free_offset() -> anyhow::Result<u16> {
    ports::free_offset().context("no free port offset found")
}

/// Starts `orchestrator up` in `root`; returns it once `/api/stack` says ready, with the wall time.
pub async fn up(
    ctx: &Ctx,
    root: &Path,
    offset: u16,
    extra: &[&str],
) -> anyhow::Result<(Proc, Duration, Value)> {
    up_profile(ctx, root, offset, "core", extra).await
}

/// The same with another profile (`full` brings moto).
pub async fn up_profile(
    ctx: &Ctx,
    root: &Path,
    offset: u16,
    profile: &str,
    extra: &[&str],
) -> anyhow::Result<(Proc, Duration, Value)> {
    let start = Instant::now();
    let mut proc = Proc::spawn(
        &format!("orchestrator-up-{offset}"),
        Command::new(ctx.bin("orchestrator")?)
            .arg("--project-root")
            .arg(root)
            .args([
                "up",
                "--profile",
                profile,
                "--port-offset",
                &offset.to_string(),
            ])
            .args(extra),
        &ctx.logs(),
    )?;
    let url = format!(
        "http://127.0.0.1:{}/api/stack",
        Ports::new(offset).dashboard()
    );
    loop {
        if let Ok(r) = ctx
            .http
            .get(&url)
            .timeout(Duration::from_secs(2))
            .send()
            .await
            && let Ok(v) = r.json::<Value>().await
            && v["ready"] == Value::Bool(true)
        {
            return Ok((proc, start.elapsed(), v));
        }
        proc.check_alive()?;
        if start.elapsed() > Duration::from_secs(60) {
            bail!(
                "stack not ready after 60 s (log: {})",
                ctx.logs()
                    .join(format!("orchestrator-up-{offset}.log"))
                    .display()
            );
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Pids whose command line contains `marker`.
fn pids_with(marker: &str) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(marker))
                .unwrap_or(false)
        })
        .collect()
}

pub async fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    // 1. Time to healthy, built-in services only (moto excluded by the core profile).
    let root = ctx.dir("stack-up")?;
    let offset = free_offset()?;
    let (proc, took, stack) = up(ctx, &root, offset, &["--no-seed"]).await?;
    let mut row = Row::new(
        "stack",
        "`up` → built-in services healthy (core, no seed)",
        took.as_secs_f64(),
        "s",
    )
    .goal("≤ 1 s");
    if let Some(ms) = stack["startup_ms"].as_u64() {
        row = row.note(format!("orchestrator's own startup_ms {ms}"));
    }
    ctx.report.push(row);
    stop(ctx, &root)?;
    drop(proc);

    // 2. `stop` with a service that ignores SIGTERM.
    let root = ctx.dir("stack-stop")?;
    let marker = format!("{}.{}", 4000 + offset % 1000, std::process::id());
    std::fs::write(
        root.join("hippodrome.toml"),
        format!(
            "[[services]]\nname = \"stubborn\"\ncommand = [\"sh\", \"-c\", \"trap '' TERM; sleep {marker}\"]\nlayer = 1\n"
        ),
    )?;
    let offset = free_offset()?;
    let (mut proc, _, _) = up(ctx, &root, offset, &["--no-seed"]).await?;
    let before = pids_with(&marker);
    if before.is_empty() {
        bail!("the stubborn service is not running");
    }
    let start = Instant::now();
    stop(ctx, &root)?;
    let left = loop {
        let alive = proc.check_alive().is_ok();
        let left = pids_with(&marker);
        if !alive && left.is_empty() {
            break None;
        }
        if start.elapsed() > Duration::from_secs(30) {
            break Some(left);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let took = start.elapsed();
    drop(proc);
    if let Some(left) = left {
        for pid in &left {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(*pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        bail!("processes left 30 s after `stop`: {left:?}");
    }
    ctx.report.push(
        Row::new(
            "stack",
            "`stop` → no process left, one service ignores SIGTERM",
            took.as_secs_f64(),
            "s",
        )
        .goal("≤ 6 s"),
    );

    // 3. moto on its own (the core profile leaves it out).
    let (moto, _, took) = crate::cognito::start_moto(ctx).await?;
    ctx.report.push(Row::new(
        "stack",
        "moto start → GET /moto-api/ answers",
        took.as_secs_f64(),
        "s",
    ));
    drop(moto);

    // 4. Ctrl+C with the terminal closed, default stack, seed on.
    crate::sigint::run(ctx).await
}

/// `orchestrator stop` for the stack in `root`.
pub fn stop(ctx: &Ctx, root: &Path) -> anyhow::Result<()> {
    let out = Command::new(ctx.bin("orchestrator")?)
        .arg("--project-root")
        .arg(root)
        .arg("stop")
        .output()
        .context("running orchestrator stop")?;
    if !out.status.success() {
        bail!(
            "orchestrator stop failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}
