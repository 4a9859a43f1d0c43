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
use crate::config::{Cell, HippodromeToml, Paths, Ports};
use crate::dashboard::{self, AppState, Aws, SeedStatus, StackInfo};
use crate::interrupt::{self, StopTokens};
use crate::logs::RunLogs;
use crate::process::preflight;
use crate::runfile::RunFile;
use crate::seed_run;
use crate::services::ServiceSpec;
use crate::settings::{self, Resolved};
use crate::stack_client::Dashboard;
use crate::supervisor::{Options, Status, Supervisor};

/// Set in the background child of `up --detach`.
const DETACHED_ENV: &str = "HIPPODROME_DETACHED";

pub async fn run(root: Option<&Path>, args: UpArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    // From here on no terminal write can block or fail the stack (see `term`).
    crate::term::init_lossy();
    service_kit::memory::spawn_trimmer();
    let detached = std::env::var_os(DETACHED_ENV).is_some();
    let mut settings = settings::resolve(root, &args.stack);
    // A bad hippodrome.toml stops `up` before anything else.
    settings.checked_toml()?;
    refuse_second_stack(&settings.paths, detached)?;
    let cell_url = settings.cell_url()?;
    if settings.cell == Cell::Prod && !args.yes && !detached {
        confirm_prod(cell_url)?;
    }
    if args.detach && !detached {
        return detach(&settings.paths, &args, settings.ports).await;
    }
    // Before anything is started, so a signal never meets the default action (death without a
    // stop) and reaches every step below, even a setup step or the seed.
    let shutdown = Shutdown::new();
    let stop = StopTokens::default();
    interrupt::watch(shutdown.clone(), stop.clone(), detached)
        .context("cannot install the signal handlers")?;
    prepare_state_dir(&settings.paths, args.fresh)?;
    if let Some(name) = &args.from_snapshot {
        // Refuse an unknown, damaged or incompatible snapshot before anything starts.
        crate::snapshot::store::load(&settings.paths.hippodrome_dir, name)?;
    }

    let seed_chosen = settings.choose_seed(None);
    let self_exe = std::env::current_exe().context("cannot find the orchestrator executable")?;
    let specs = settings.plan(&self_exe).map_err(anyhow::Error::msg)?;
    print_settings(&settings, seed_chosen);

    // The dashboard binds first: if :9000 is taken, nothing else should start.
    let listener = bind_dashboard(settings.ports.dashboard()).await?;
    let logs = RunLogs::create(&settings.paths.logs_dir).with_context(|| {
        format!(
            "cannot create logs under {}",
            settings.paths.logs_dir.display()
        )
    })?;
    let sup = supervisor(specs, &logs, &settings, &args, detached, stop)?;
    let watchers = crate::watch::start(&sup, settings.config(), &settings.paths.project_root);
    let state = app_state(sup.clone(), &settings, &args, shutdown.clone(), started);
    let dash = tokio::spawn(service_kit::serve(
        listener,
        dashboard::router(state.clone()),
        shutdown.wait(),
    ));

    let code = start_and_serve(&state, &settings, &args, &logs).await;
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

/// One stack per project: refuse while another orchestrator runs for it; a run file left by a
/// crashed run is replaced (the supervisor writes a new one).
fn refuse_second_stack(paths: &Paths, detached: bool) -> anyhow::Result<()> {
    let Some(run) = RunFile::read(&paths.run_file) else {
        return Ok(());
    };
    if run.orchestrator_alive() && run.orchestrator_pid != std::process::id() {
        bail!(
            "a stack is already running for {} (orchestrator pid {}, dashboard http://127.0.0.1:{}); use `orchestrator status` or `orchestrator stop`",
            paths.project_root.display(),
            run.orchestrator_pid,
            run.dashboard_port
        );
    }
    if !detached {
        println!(
            "note: removing a stale .hippodrome/run.json from a crashed run (pid {} is gone)",
            run.orchestrator_pid
        );
    }
    Ok(())
}

/// `.hippodrome/state`, emptied first with `--fresh`.
fn prepare_state_dir(paths: &Paths, fresh: bool) -> anyhow::Result<()> {
    if fresh && paths.state_dir.exists() {
        std::fs::remove_dir_all(&paths.state_dir)
            .with_context(|| format!("cannot delete {}", paths.state_dir.display()))?;
        println!("--fresh: deleted {}", paths.state_dir.display());
    }
    std::fs::create_dir_all(&paths.state_dir)
        .with_context(|| format!("cannot create {}", paths.state_dir.display()))
}

fn print_settings(settings: &Resolved, seed_chosen: bool) {
    println!(
        "Hippodrome: profile {}, cell {} ({}), table prefix {}, port offset {}",
        settings.profile.as_str(),
        settings.cell.as_str(),
        settings.ctx.cell_url,
        settings.table_prefix(),
        settings.ports.offset
    );
    if seed_chosen {
        let seed = settings.seed();
        println!(
            "seed {seed} chosen at random; reproduce this run with: export HIPPODROME_RANDOM_SEED={seed}"
        );
    }
}

async fn bind_dashboard(port: u16) -> anyhow::Result<tokio::net::TcpListener> {
    match service_kit::bind_listener("127.0.0.1".parse()?, port).await {
        Ok(l) => Ok(l),
        Err(service_kit::BindError::InUse { .. }) => {
            bail!("{}", preflight::port_in_use_message("dashboard", port))
        }
        Err(e) => Err(e.into()),
    }
}

/// The supervisor of the plan's services. It writes run.json at once, before the dashboard
/// serves, so whoever sees the stack there can find it from another shell.
fn supervisor(
    specs: Vec<ServiceSpec>,
    logs: &RunLogs,
    settings: &Resolved,
    args: &UpArgs,
    detached: bool,
    stop: StopTokens,
) -> anyhow::Result<Arc<Supervisor>> {
    let run_file = RunFile {
        orchestrator_pid: std::process::id(),
        started_at_ms: crate::probe::now_ms(),
        project_root: settings.paths.project_root.to_string_lossy().into_owned(),
        port_offset: settings.ports.offset,
        dashboard_port: settings.ports.dashboard(),
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
    let run_path = &settings.paths.run_file;
    Supervisor::new(specs, logs.clone(), options, run_file, run_path.clone())
        .with_context(|| format!("cannot write {}", run_path.display()))
}

/// What the dashboard serves from.
fn app_state(
    sup: Arc<Supervisor>,
    settings: &Resolved,
    args: &UpArgs,
    shutdown: Shutdown,
    started: Instant,
) -> AppState {
    let paths = &settings.paths;
    let no_seed = args.no_seed || args.from_snapshot.is_some();
    AppState {
        sup,
        info: Arc::new(StackInfo {
            profile: settings.profile,
            cell: settings.cell,
            cell_url: settings.ctx.cell_url.clone(),
            table_prefix: settings.table_prefix().to_owned(),
            seed: settings.seed(),
            seed_accounts: args.seed_accounts,
            seed_docs_per_index: args.seed_docs_per_index,
            project_root: paths.project_root.to_string_lossy().into_owned(),
            port_offset: settings.ports.offset,
            dashboard_port: settings.ports.dashboard(),
            router_url: settings.ctx.router_url.clone(),
            started_at_ms: crate::probe::now_ms(),
            manifest_path: paths
                .hippodrome_dir
                .join("seed.json")
                .to_string_lossy()
                .into_owned(),
        }),
        seed: Arc::new(Mutex::new(if no_seed {
            SeedStatus::Skipped
        } else {
            SeedStatus::Pending
        })),
        manifest: Arc::new(Mutex::new(None)),
        hooks: Arc::new(crate::seed_hooks::SeedHooks::new(
            settings.config().seed.hooks.clone(),
        )),
        shutdown,
        started,
        startup_ms: Arc::new(AtomicU64::new(0)),
        ready: Arc::new(AtomicBool::new(false)),
        http: reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap_or_default(),
        aws: Arc::new(Aws::new(
            settings.ctx.moto_url.clone(),
            settings.ctx.region.clone(),
        )),
    }
}

/// Start the layers (seeding after layer 0; stop early if Ctrl+C arrives meanwhile), then serve
/// until asked to stop. The exit code: failure when a blocking service never became healthy.
async fn start_and_serve(
    state: &AppState,
    settings: &Resolved,
    args: &UpArgs,
    logs: &RunLogs,
) -> ExitCode {
    let sizes = (args.seed_accounts, args.seed_docs_per_index);
    let start = state.sup.start_all(|layer| async move {
        if layer == 0
            && let Some(name) = &args.from_snapshot
        {
            crate::dashboard::snapshots::restore_after_layer0(state, name).await?;
        } else if layer == 0 && !args.no_seed {
            let toml = HippodromeToml::or_empty(&settings.toml);
            seed_run::run_after_layer0(state, &settings.ctx, &settings.paths, toml, sizes).await?;
        }
        Ok(())
    });
    let outcome = tokio::select! {
        r = start => Some(r),
        _ = state.shutdown.wait() => None,
    };
    match outcome {
        Some(Ok(())) => {
            state.set_ready();
            banner(state, logs);
            let events = if args.enable_events {
                enable_events(
                    &state.sup,
                    settings.ports.webhook_router(),
                    settings.table_prefix(),
                )
                .await
            } else {
                None
            };
            state.shutdown.wait().await;
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
            ExitCode::SUCCESS
        }
        Some(Err(reason)) => {
            eprintln!(
                "error: {reason}; stopping the stack (see TROUBLESHOOTING.md#blocking-service-failed)"
            );
            ExitCode::FAILURE
        }
        None => ExitCode::SUCCESS,
    }
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

fn banner(state: &AppState, logs: &RunLogs) {
    let mut lines = vec![format!(
        "\nHippodrome ready in {:.2} s — dashboard http://127.0.0.1:{}",
        state.started.elapsed().as_secs_f64(),
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
    let dashboard = Dashboard::new(&format!("http://127.0.0.1:{}", ports.dashboard()));
    let deadline = Instant::now() + Duration::from_secs(args.layer_timeout * 4 + 60);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            bail!(
                "the background orchestrator exited ({status}); see {}",
                log_path.display()
            );
        }
        if let Ok(stack) = dashboard.stack().await
            && stack.ready
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
