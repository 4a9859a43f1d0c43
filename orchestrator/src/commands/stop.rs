//! `stop`: asks the running orchestrator to shut down (so it stops services in reverse layer order)
//! and waits until it is gone; if the orchestrator is already dead, falls back to `kill`. When no
//! stack runs it names the dashboard URL this project's stack would have (from run.json, else
//! `--port-offset`), so a wrong offset or directory is visible at once.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::process::signal::pid_alive;
use crate::settings::PortOffsetArg;
use crate::stack_client;

pub async fn run(root: Option<&Path>, offset: PortOffsetArg) -> anyhow::Result<ExitCode> {
    let l = stack_client::locate(root, offset.port_offset);
    let Some(run) = l.run.clone() else {
        eprintln!("{}", l.not_running());
        return Ok(ExitCode::FAILURE);
    };
    if !run.orchestrator_alive() {
        println!(
            "no Hippodrome stack is running for {} (dashboard {}): its orchestrator (pid {}) is gone; cleaning up what is left",
            l.paths.project_root.display(),
            l.dashboard_url,
            run.orchestrator_pid
        );
        return super::kill::run(root, offset).await;
    }
    if let Err(e) = l.dashboard().control("shutdown", None).await {
        eprintln!(
            "dashboard unreachable ({e}); sending SIGTERM to the orchestrator (pid {})",
            run.orchestrator_pid
        );
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(run.orchestrator_pid as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
    // Services get 5 s each to stop, layer by layer; allow for that.
    let deadline = Instant::now() + Duration::from_secs(60);
    while pid_alive(run.orchestrator_pid) {
        if Instant::now() > deadline {
            eprintln!("the orchestrator did not stop within 60 s; use `orchestrator kill`");
            return Ok(ExitCode::FAILURE);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!("stopped the stack for {}", l.paths.project_root.display());
    Ok(ExitCode::SUCCESS)
}
