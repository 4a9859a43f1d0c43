//! `reset`: deletes the stack's saved state (`.hippodrome/state`), asking first. Refuses while the
//! stack runs, because the services would write it back.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use crate::cli::ResetArgs;
use crate::stack_client;

pub async fn run(root: Option<&Path>, args: ResetArgs) -> anyhow::Result<ExitCode> {
    // Only run.json matters here (is the stack running?), so the port offset does not.
    let l = stack_client::locate(root, 0);
    if l.run.as_ref().is_some_and(|r| r.orchestrator_alive()) {
        eprintln!(
            "the stack is running; stop it first (`orchestrator stop`), or start it with `up --fresh`"
        );
        return Ok(ExitCode::FAILURE);
    }
    let dir = &l.paths.state_dir;
    if !dir.exists() {
        println!("nothing to reset ({} does not exist)", dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            eprintln!("refusing to delete {} without --yes", dir.display());
            return Ok(ExitCode::FAILURE);
        }
        eprint!(
            "Delete every fake service's saved state in {}? [y/N] ",
            dir.display()
        );
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            println!("kept");
            return Ok(ExitCode::SUCCESS);
        }
    }
    std::fs::remove_dir_all(dir)?;
    println!("deleted {}", dir.display());
    Ok(ExitCode::SUCCESS)
}
