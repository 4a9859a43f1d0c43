//! `smoke`: the smoke checks against an already running stack (one line per check, exit 0/1) —
//! for a person who wants to know whether a failing test is the stack's fault.

use std::path::Path;
use std::process::ExitCode;

use crate::settings::PortOffsetArg;
use crate::stack_client;

pub async fn run(root: Option<&Path>, offset: PortOffsetArg) -> anyhow::Result<ExitCode> {
    let l = stack_client::locate(root, offset.port_offset);
    let checks = crate::smoke::run(&l.dashboard_url).await;
    for c in &checks {
        println!("{c}");
    }
    let failed = checks.iter().filter(|c| !c.ok).count();
    if checks.len() <= 1 && failed > 0 {
        eprintln!("{}", l.not_running());
    }
    println!("{} passed, {failed} failed", checks.len() - failed);
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
