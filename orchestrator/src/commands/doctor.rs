//! `doctor`: resolve the settings exactly as `up` would (same profile, cell, port offset, table
//! prefix, plan), run every check in [`crate::doctor`], print `ok`/`warn`/`fail` lines with fixes
//! (or JSON with `--json`), and exit 1 when anything failed.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cli::DoctorArgs;
use crate::doctor::{self, Inputs, Report};
use crate::runfile::RunFile;
use crate::settings;

pub async fn run(root: Option<&Path>, args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let inputs = inputs(root, &args);
    let mut checks = doctor::run_checks(&inputs).await;
    if let Some(target) = args.target {
        checks.extend(doctor::export_target::check(&inputs, target));
    }
    let report = Report::new(&inputs, checks);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        print!("{}", report.render(color));
    }
    Ok(if report.failed() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `up`'s settings and plan, plus what only the checks look at; nothing is written.
fn inputs(root: Option<&Path>, args: &DoctorArgs) -> Inputs {
    let s = settings::resolve(root, &args.stack);
    let self_exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("orchestrator"));
    let (plan, plan_error) = match s.plan(&self_exe) {
        Ok(p) => (p, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    let run = RunFile::read(&s.paths.run_file);
    let run_unreadable = run.is_none() && s.paths.run_file.exists();
    Inputs {
        ports: s.ports,
        profile: s.profile,
        cell: s.cell,
        enable_events: args.enable_events,
        table_prefix_flag: args.stack.table_prefix.clone(),
        run,
        run_unreadable,
        plan,
        plan_error,
        home: std::env::var_os("HOME").map(PathBuf::from),
        paths: s.paths,
        toml: s.toml,
        ctx: s.ctx,
    }
}
