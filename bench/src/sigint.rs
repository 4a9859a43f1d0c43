//! Ctrl+C with the terminal gone (issue 22): the default stack (profile full, moto, the seed on)
//! under `orchestrator up` whose stdout and stderr pipes were closed, then SIGINT; measured until
//! every port the stack held is free (the figure) and every service pid is gone (the note: moto's
//! own SIGTERM handler exits through Python's shutdown, after its port is closed).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

use orchestrator::config::ports::Ports;

use crate::Ctx;
use crate::report::Row;

pub async fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let root = ctx.dir("stack-sigint")?;
    let offset = crate::stack::free_offset()?;
    let dashboard = Ports::new(offset).dashboard();
    let mut child = Command::new(ctx.bin("orchestrator")?)
        .arg("--project-root")
        .arg(&root)
        .args(["up", "--port-offset", &offset.to_string()])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting orchestrator up")?;
    let get = |path: &'static str| {
        let http = ctx.http.clone();
        async move {
            http.get(format!("http://127.0.0.1:{dashboard}{path}"))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .ok()?
                .json::<Value>()
                .await
                .ok()
        }
    };
    let start = Instant::now();
    while get("/api/stack").await.is_none_or(|v| v["ready"] != true) {
        if let Some(status) = child.try_wait()? {
            bail!("orchestrator up exited ({status}) before the stack was ready");
        }
        if start.elapsed() > Duration::from_secs(180) {
            let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
            bail!("the default stack was not ready after 180 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = get("/api/status").await.context("no /api/status")?;
    let mut pids = Vec::new();
    let mut ports = vec![dashboard];
    for s in status.as_object().into_iter().flat_map(|m| m.values()) {
        pids.extend(s["pid"].as_u64().map(|p| p as u32));
        if s["status"] != "skipped" {
            ports.extend(s["port"].as_u64().map(|p| p as u16));
        }
    }
    // The reader of the terminal is gone (`up | tee` and Ctrl+C killed tee).
    drop(child.stdout.take());
    drop(child.stderr.take());
    tokio::time::sleep(Duration::from_millis(300)).await;

    let t = Instant::now();
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT)?;
    let mut ports_free_after = None;
    let left = loop {
        let alive: Vec<u32> = pids.iter().copied().filter(|p| alive(*p)).collect();
        let held: Vec<u16> = ports.iter().copied().filter(|p| !port_free(*p)).collect();
        if held.is_empty() && ports_free_after.is_none() {
            ports_free_after = Some(t.elapsed());
        }
        if alive.is_empty() && held.is_empty() {
            break None;
        }
        if t.elapsed() > Duration::from_secs(30) {
            break Some((alive, held));
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    let gone_after = t.elapsed();
    if let Some((alive, held)) = left {
        let _ = child.kill();
        for p in &alive {
            let _ = kill(Pid::from_raw(*p as i32), Signal::SIGKILL);
        }
        bail!(
            "30 s after SIGINT with the terminal closed: pids {alive:?} alive, ports {held:?} held"
        );
    }
    let _ = child.wait();
    ctx.report.push(
        Row::new(
            "stack",
            "Ctrl+C → every port free (default stack, seed on, terminal closed)",
            ports_free_after.unwrap_or(gone_after).as_secs_f64(),
            "s",
        )
        .goal("≤ 1 s")
        .note(format!(
            "{} ports; every service process gone after {:.2} s",
            ports.len(),
            gone_after.as_secs_f64()
        )),
    );
    Ok(())
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

fn port_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}
