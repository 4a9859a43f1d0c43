//! `kill`: frees every Hippodrome port and process group of this project's stack, even after the
//! orchestrator itself died: SIGKILL to every recorded process group and the orchestrator, then any
//! remaining holder of a stack port that is one of ours (an `orchestrator serve` or moto process).
//! A foreign process on one of our ports is named, not killed.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::config::Ports;
use crate::config::ports::DEFAULTS;
use crate::process::{preflight, signal};
use crate::settings::PortOffsetArg;
use crate::stack_client;

pub async fn run(root: Option<&Path>, offset: PortOffsetArg) -> anyhow::Result<ExitCode> {
    let l = stack_client::locate(root, offset.port_offset);
    let offset = l
        .run
        .as_ref()
        .map(|r| r.port_offset)
        .unwrap_or(offset.port_offset);
    let mut killed = 0;
    if let Some(run) = &l.run {
        if run.orchestrator_alive()
            && preflight::cmdline(run.orchestrator_pid).contains("orchestrator")
        {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(run.orchestrator_pid as i32),
                Signal::SIGKILL,
            );
            killed += 1;
        }
        for (name, s) in &run.services {
            if let Some(pgid) = s.pgid
                && signal::group_alive(pgid)
            {
                signal::signal_group(pgid, Signal::SIGKILL);
                println!("killed {name} (process group {pgid})");
                killed += 1;
            }
        }
    }
    let ports = Ports::new(offset);
    let (lo, hi) = ports.index_range();
    let mut foreign = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(3);
    for port in DEFAULTS.iter().map(|(_, p)| ports.shift(*p)).chain(lo..=hi) {
        while let Some(h) = preflight::port_holder(port) {
            let ours = h.cmdline.contains("orchestrator serve")
                || h.cmdline.contains("moto")
                || h.cmdline.contains("orchestrator up");
            if !ours {
                foreign.push(format!("port {port}: pid {} ({})", h.pid, h.cmdline));
                break;
            }
            let _ =
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(h.pid as i32), Signal::SIGKILL);
            killed += 1;
            if Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let stale = std::fs::remove_file(&l.paths.run_file).is_ok();
    let root = l.paths.project_root.display();
    if killed == 0 {
        println!(
            "no Hippodrome stack was running for {root} (its dashboard would be {}); nothing to kill{}",
            l.dashboard_url,
            if stale {
                "; removed the stale .hippodrome/run.json"
            } else {
                ""
            }
        );
    } else {
        println!(
            "killed {killed} process(es) of the stack for {root} (dashboard {})",
            l.dashboard_url
        );
    }
    if foreign.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "these ports are held by processes that are not Hippodrome's; stop them yourself:"
        );
        for f in foreign {
            eprintln!("  {f}");
        }
        Ok(ExitCode::FAILURE)
    }
}
