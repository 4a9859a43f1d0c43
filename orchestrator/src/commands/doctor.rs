//! `doctor`: resolve the configuration like `up` would (same profile, cell, port offset, table
//! prefix), run every check in [`crate::doctor`], print `ok`/`warn`/`fail` lines with fixes (or
//! JSON with `--json`), and exit 1 when anything failed.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cli::DoctorArgs;
use crate::config::env::Context;
use crate::config::{Cell, HippodromeToml, Paths, Ports, project};
use crate::doctor::{self, Inputs, Report};
use crate::runfile::RunFile;
use crate::services::{self, ServicesInput};

pub async fn run(root: Option<&Path>, args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let inputs = resolve(root, &args);
    let checks = doctor::run_checks(&inputs).await;
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

/// The same resolution `up` does, without side effects.
fn resolve(root: Option<&Path>, args: &DoctorArgs) -> Inputs {
    let paths = Paths::new(project::project_root(root));
    let toml = HippodromeToml::load(&paths.project_root);
    let run = RunFile::read(&paths.run_file);
    let run_unreadable = run.is_none() && paths.run_file.exists();
    let ports = Ports::new(args.port_offset);
    let empty = HippodromeToml::default();
    let cfg = toml.as_ref().unwrap_or(&empty);
    let cell_url = match args.cell {
        Cell::Local => format!("http://127.0.0.1:{}", ports.fake_cell()),
        other => cfg
            .cells
            .get(other.as_str())
            .map(|c| c.url.clone())
            .unwrap_or_default(),
    };
    let table_prefix = args
        .table_prefix
        .clone()
        .or_else(|| cfg.project.table_prefix.clone())
        .unwrap_or_else(|| {
            project::default_table_prefix(project::git_branch(&paths.project_root).as_deref())
        });
    let ctx = Context {
        port: None,
        cell: args.cell.as_str().to_owned(),
        cell_url,
        staging_cell_url: cfg.cells.get("staging").map(|c| c.url.clone()),
        moto_url: format!("http://127.0.0.1:{}", ports.moto()),
        cognito_url: format!("http://127.0.0.1:{}", ports.fake_cognito()),
        router_url: format!("http://127.0.0.1:{}", ports.webhook_router()),
        dashboard_url: format!("http://127.0.0.1:{}", ports.dashboard()),
        search_proxy_url: format!("http://127.0.0.1:{}", ports.shift(9005)),
        table_prefix,
        project_root: paths.project_root.to_string_lossy().into_owned(),
        seed: 0,
        encryption_secret: String::new(),
        region: "us-east-1".into(),
        cognito_pool_id: None,
        cognito_client_id: None,
        tables: Vec::new(),
    };
    let self_exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("orchestrator"));
    let moto_argv = crate::moto::server_argv();
    let built = services::build(&ServicesInput {
        profile: args.profile,
        cell: args.cell,
        only: args.only.as_deref(),
        ports,
        paths: &paths,
        toml: cfg,
        ctx: &ctx,
        self_exe: &self_exe,
        moto_argv: &moto_argv,
        moto_setup: crate::moto::setup(),
    });
    let (plan, plan_error) = match built {
        Ok(p) => (p, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    Inputs {
        paths,
        ports,
        profile: args.profile,
        cell: args.cell,
        enable_events: args.enable_events,
        table_prefix_flag: args.table_prefix.clone(),
        toml,
        run,
        run_unreadable,
        ctx,
        plan,
        plan_error,
        home: std::env::var_os("HOME").map(PathBuf::from),
    }
}
