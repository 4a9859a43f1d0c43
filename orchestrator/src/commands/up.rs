//! `up`: resolve the configuration, build the plan, bind the dashboard, start the layers (seeding
//! after layer 0), print the ready banner, then supervise until Ctrl+C, SIGTERM, SIGHUP (not with
//! `--detach`) or a shutdown request, and stop everything in reverse layer order.

use std::io::IsTerminal;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use parking_lot::Mutex;
use service_kit::Shutdown;

use crate::cli::UpArgs;
use crate::config::env::Context;
use crate::config::{Cell, HippodromeToml, Paths, Ports, project};
use crate::dashboard::{self, AppState, SeedStatus, StackInfo};
use crate::interrupt::{self, StopTokens};
use crate::logs::RunLogs;
use crate::process::preflight;
use crate::runfile::RunFile;
use crate::services::{self, ServicesInput};
use crate::supervisor::{Options, Status, Supervisor};
use crate::{moto, seeding};

/// Set in the background child of `up --detach`.
const DETACHED_ENV: &str = "HIPPODROME_DETACHED";

pub async fn run(root: Option<&Path>, args: UpArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    // From here on no terminal write can block or fail the stack (see `term`).
    crate::term::init_lossy();
    service_kit::memory::spawn_trimmer();
    let paths = Paths::new(project::project_root(root));
    let toml = HippodromeToml::load(&paths.project_root).map_err(|e| {
        anyhow::anyhow!("bad hippodrome.toml: {e} (see TROUBLESHOOTING.md#bad-hippodrome-toml)")
    })?;

    if let Some(run) = RunFile::read(&paths.run_file) {
        if run.orchestrator_alive() && run.orchestrator_pid != std::process::id() {
            bail!(
                "a stack is already running for {} (orchestrator pid {}, dashboard http://127.0.0.1:{}); use `orchestrator status` or `orchestrator stop`",
                paths.project_root.display(),
                run.orchestrator_pid,
                run.dashboard_port
            );
        }
        if std::env::var_os(DETACHED_ENV).is_none() {
            println!(
                "note: removing a stale .hippodrome/run.json from a crashed run (pid {} is gone)",
                run.orchestrator_pid
            );
        }
    }

    let ports = Ports::new(args.port_offset);
    let cell_url = match args.cell {
        Cell::Local => format!("http://127.0.0.1:{}", ports.fake_cell()),
        other => match toml.cells.get(other.as_str()) {
            Some(c) => c.url.clone(),
            None => bail!(
                "--cell {} needs [cells.{}] url = \"...\" in hippodrome.toml",
                other.as_str(),
                other.as_str()
            ),
        },
    };
    if args.cell == Cell::Prod && !args.yes && std::env::var_os(DETACHED_ENV).is_none() {
        confirm_prod(&cell_url)?;
    }

    if args.detach && std::env::var_os(DETACHED_ENV).is_none() {
        return detach(&paths, &args, ports).await;
    }
    let detached = std::env::var_os(DETACHED_ENV).is_some();
    // Before anything is started, so a signal never meets the default action (death without a
    // stop) and reaches every step below, even a setup step or the seed.
    let shutdown = Shutdown::new();
    let stop = StopTokens::default();
    interrupt::watch(shutdown.clone(), stop.clone(), detached)
        .context("cannot install the signal handlers")?;

    if args.fresh && paths.state_dir.exists() {
        std::fs::remove_dir_all(&paths.state_dir)
            .with_context(|| format!("cannot delete {}", paths.state_dir.display()))?;
        println!("--fresh: deleted {}", paths.state_dir.display());
    }
    std::fs::create_dir_all(&paths.state_dir)
        .with_context(|| format!("cannot create {}", paths.state_dir.display()))?;

    let table_prefix = args
        .table_prefix
        .clone()
        .or_else(|| toml.project.table_prefix.clone())
        .unwrap_or_else(|| {
            project::default_table_prefix(project::git_branch(&paths.project_root).as_deref())
        });
    let (seed, chosen) = ::seed::resolve_seed(None);
    let ctx = Context {
        port: None,
        cell: args.cell.as_str().to_owned(),
        cell_url: cell_url.clone(),
        staging_cell_url: toml.cells.get("staging").map(|c| c.url.clone()),
        moto_url: format!("http://127.0.0.1:{}", ports.moto()),
        cognito_url: format!("http://127.0.0.1:{}", ports.fake_cognito()),
        router_url: format!("http://127.0.0.1:{}", ports.webhook_router()),
        dashboard_url: format!("http://127.0.0.1:{}", ports.dashboard()),
        search_proxy_url: format!("http://127.0.0.1:{}", ports.shift(9005)),
        table_prefix: table_prefix.clone(),
        project_root: paths.project_root.to_string_lossy().into_owned(),
        seed,
        encryption_secret: std::env::var("HIPPODROME_ENCRYPTION_SECRET")
            .unwrap_or_else(|_| "1234567890ABCDEF".into()),
        region: "us-east-1".into(),
        cognito_pool_id: None,
        cognito_client_id: None,
        tables: seeding::table_suffixes(),
    };
    let self_exe = std::env::current_exe().context("cannot find the orchestrator executable")?;
    let moto_argv = moto::server_argv();
    let specs = services::build(&ServicesInput {
        profile: args.profile,
        cell: args.cell,
        only: args.only.as_deref(),
        ports,
        paths: &paths,
        toml: &toml,
        ctx: &ctx,
        self_exe: &self_exe,
        moto_argv: &moto_argv,
        moto_setup: moto::setup(),
    })
    .map_err(anyhow::Error::msg)?;

    println!(
        "Hippodrome: profile {}, cell {} ({}), table prefix {table_prefix}, port offset {}",
        args.profile.as_str(),
        args.cell.as_str(),
        cell_url,
        args.port_offset
    );
    if chosen {
        println!(
            "seed {seed} chosen at random; reproduce this run with: export HIPPODROME_RANDOM_SEED={seed}"
        );
    }

    // The dashboard binds first: if :9000 is taken, nothing else should start.
    let dash_port = ports.dashboard();
    let listener = match service_kit::bind_listener("127.0.0.1".parse()?, dash_port).await {
        Ok(l) => l,
        Err(service_kit::BindError::InUse { .. }) => {
            bail!("{}", preflight::port_in_use_message("dashboard", dash_port))
        }
        Err(e) => return Err(e.into()),
    };

    let logs = RunLogs::create(&paths.logs_dir)
        .with_context(|| format!("cannot create logs under {}", paths.logs_dir.display()))?;
    let run_file = RunFile {
        orchestrator_pid: std::process::id(),
        started_at_ms: crate::probe::now_ms(),
        project_root: paths.project_root.to_string_lossy().into_owned(),
        port_offset: args.port_offset,
        dashboard_port: dash_port,
        detached,
        services: Default::default(),
    };
    let options = Options {
        die_with_parent: !detached,
        health_interval: Duration::from_millis(args.health_interval_ms.max(100)),
        layer_timeout: Duration::from_secs(args.layer_timeout.max(1)),
        echo: true,
        late_env: Default::default(),
        stop,
    };
    // Before the dashboard serves, so whoever sees the stack there can find it from another shell.
    let sup = Supervisor::new(
        specs,
        logs.clone(),
        options,
        run_file,
        paths.run_file.clone(),
    )
    .with_context(|| format!("cannot write {}", paths.run_file.display()))?;

    let watchers = crate::watch::start(&sup, &toml, &paths.project_root);
    let state = AppState {
        sup: sup.clone(),
        info: Arc::new(StackInfo {
            profile: args.profile.as_str().into(),
            cell: args.cell.as_str().into(),
            cell_url,
            table_prefix: table_prefix.clone(),
            seed,
            project_root: paths.project_root.to_string_lossy().into_owned(),
            port_offset: args.port_offset,
            dashboard_port: dash_port,
            router_url: ctx.router_url.clone(),
            started_at_ms: crate::probe::now_ms(),
            manifest_path: paths
                .hippodrome_dir
                .join("seed.json")
                .to_string_lossy()
                .into_owned(),
        }),
        seed: Arc::new(Mutex::new(if args.no_seed {
            SeedStatus::Skipped
        } else {
            SeedStatus::Pending
        })),
        manifest: Arc::new(Mutex::new(None)),
        hooks: Arc::new(crate::seed_hooks::SeedHooks::new(toml.seed.hooks.clone())),
        shutdown: shutdown.clone(),
        started,
        startup_ms: Arc::new(AtomicU64::new(0)),
        ready: Arc::new(AtomicBool::new(false)),
        http: reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap_or_default(),
    };
    let dash = tokio::spawn(service_kit::serve(
        listener,
        dashboard::router(state.clone()),
        shutdown.wait(),
    ));

    // Start the layers; stop early if Ctrl+C arrives meanwhile.
    let seed_state = state.clone();
    let seed_ctx = ctx.clone();
    let no_seed = args.no_seed;
    let sizes = (args.seed_accounts, args.seed_docs_per_index);
    let paths_for_seed = paths.clone();
    let start = sup.start_all(move |layer| {
        let st = seed_state.clone();
        let ctx = seed_ctx.clone();
        let paths = paths_for_seed.clone();
        async move {
            if layer == 0 && !no_seed {
                seeding::run_after_layer0(&st, &ctx, &paths, sizes).await?;
            }
            Ok(())
        }
    });
    let outcome = tokio::select! {
        r = start => Some(r),
        _ = shutdown.wait() => None,
    };
    let mut code = ExitCode::SUCCESS;
    match outcome {
        Some(Ok(())) => {
            state.set_ready();
            banner(&state, &logs, started);
            let events = if args.enable_events {
                enable_events(&sup, ports.webhook_router(), &table_prefix).await
            } else {
                None
            };
            shutdown.wait().await;
            if let Some(handle) = events {
                match handle.teardown().await {
                    Ok(()) => println!(
                        "events: removed the EventBridge connection, API destination, rule and target"
                    ),
                    Err(e) => eprintln!(
                        "events: teardown failed: {e} (remove the resources by hand; see TROUBLESHOOTING.md#events-never-arrive)"
                    ),
                }
            }
        }
        Some(Err(reason)) => {
            eprintln!(
                "error: {reason}; stopping the stack (see TROUBLESHOOTING.md#blocking-service-failed)"
            );
            code = ExitCode::FAILURE;
        }
        None => {}
    }
    // No file change may start a service again while the stack stops.
    drop(watchers);
    println!("stopping services in reverse layer order…");
    let stop_started = Instant::now();
    sup.stop_all().await;
    shutdown.trigger();
    let _ = tokio::time::timeout(Duration::from_secs(2), dash).await;
    sup.remove_run_file().await;
    println!(
        "stopped in {:.1}s; no service left running",
        stop_started.elapsed().as_secs_f64()
    );
    Ok(code)
}

fn confirm_prod(cell_url: &str) -> anyhow::Result<()> {
    eprintln!(
        "\x1b[31mWARNING: --cell prod points every service at the PRODUCTION cell {cell_url}.\x1b[0m"
    );
    if !std::io::stdin().is_terminal() {
        bail!(
            "refusing --cell prod without a terminal to confirm; pass --yes if you really mean it"
        );
    }
    eprint!("Type 'prod' to continue: ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    if answer.trim() != "prod" {
        bail!("not confirmed; nothing was started");
    }
    Ok(())
}

fn banner(state: &AppState, logs: &RunLogs, started: Instant) {
    let mut lines = vec![format!(
        "\nHippodrome ready in {:.2} s — dashboard http://127.0.0.1:{}",
        started.elapsed().as_secs_f64(),
        state.info.dashboard_port
    )];
    let mut skipped = Vec::new();
    for s in &state.sup.services {
        let snap = s.snapshot();
        if snap.status == Status::Skipped {
            skipped.push(format!(
                "{} ({})",
                s.spec.name,
                snap.reason.unwrap_or_default()
            ));
            continue;
        }
        let url = s
            .spec
            .port
            .map(|p| format!("http://127.0.0.1:{p}"))
            .unwrap_or_else(|| "-".into());
        let mut line = format!("  {:<24} {:<28} {:?}", s.spec.name, url, snap.status);
        if let Some(r) = snap.reason {
            line.push_str(&format!(" — {r}"));
        }
        lines.push(line);
    }
    if !skipped.is_empty() {
        lines.push(format!("  skipped: {}", skipped.join("; ")));
    }
    lines.push(format!(
        "  logs: {}   stop: Ctrl+C or `cargo run -p orchestrator -- stop`\n",
        logs.dir.display()
    ));
    println!("{}", lines.join("\n"));
}

/// `up --detach`: run the same command in the background (own session, output to a log file),
/// wait until it is ready, print where it is, and return.
async fn detach(paths: &Paths, args: &UpArgs, ports: Ports) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&paths.logs_dir)?;
    let log_path = paths.logs_dir.join("orchestrator-detached.log");
    let log = std::fs::File::create(&log_path)?;
    let exe = std::env::current_exe()?;
    let mut argv: Vec<std::ffi::OsString> = std::env::args_os()
        .skip(1)
        .filter(|a| a != "--detach")
        .collect();
    let has = |argv: &[std::ffi::OsString], flag: &str| {
        argv.iter()
            .any(|a| a == flag || a.to_string_lossy().starts_with(&format!("{flag}=")))
    };
    if !has(&argv, "--project-root") {
        argv.push("--project-root".into());
        argv.push(paths.project_root.clone().into_os_string());
    }
    if !has(&argv, "--yes") {
        argv.push("--yes".into());
    }
    let mut child = std::process::Command::new(exe)
        .args(argv)
        .env(DETACHED_ENV, "1")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0)
        .spawn()
        .context("cannot start the background orchestrator")?;
    let url = format!("http://127.0.0.1:{}/api/stack", ports.dashboard());
    let deadline = Instant::now() + Duration::from_secs(args.layer_timeout * 4 + 60);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            bail!(
                "the background orchestrator exited ({status}); see {}",
                log_path.display()
            );
        }
        if let Ok(v) = super::stack::get_json(&url).await
            && v["ready"].as_bool() == Some(true)
        {
            println!(
                "Hippodrome is running in the background (pid {}), dashboard http://127.0.0.1:{}; log {}; stop it with `cargo run -p orchestrator -- stop`",
                child.id(),
                ports.dashboard(),
                log_path.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        if Instant::now() > deadline {
            bail!(
                "the stack did not become ready in time; it is still running — see `orchestrator status` and {}",
                log_path.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `--enable-events`: tunnel (recorded in run.json like the services) + EventBridge resources in
/// the account of the usual credential chain. A failure is reported and the local stack keeps running.
async fn enable_events(
    sup: &Arc<Supervisor>,
    router_port: u16,
    table_prefix: &str,
) -> Option<crate::events::AwsModeHandle> {
    let sdk = crate::events::sdk_config(
        std::env::var("HIPPODROME_EVENTS_ENDPOINT_URL")
            .ok()
            .as_deref(),
        "us-east-1",
    )
    .await;
    let mut cfg = crate::events::AwsModeConfig::new(sdk, router_port, table_prefix);
    cfg.tunnel_process = crate::events::TunnelProcess::supervised(sup);
    match crate::events::setup(cfg).await {
        Ok(h) => {
            println!(
                "events: EventBridge delivers to {} through {}",
                h.endpoint, h.public_url
            );
            Some(h)
        }
        Err(e) => {
            eprintln!(
                "events: AWS mode not enabled: {e} (see TROUBLESHOOTING.md#events-never-arrive)"
            );
            None
        }
    }
}
