//! `seed`: seed a running stack on demand, with the same code `up` runs after layer 0.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use crate::cli::SeedArgs;
use crate::config::Paths;
use crate::settings::{self, PortOffsetArg, StackArgs};
use crate::stack_client;
use crate::supervisor::Status;

pub async fn run(root: Option<&Path>, args: SeedArgs) -> anyhow::Result<ExitCode> {
    let l = stack_client::locate(root, args.offset.port_offset);
    let dash = l.dashboard();
    let stack = match dash.stack().await {
        Ok(v) => v,
        Err(e) if stack_client::is_bad_answer(&e) => return Err(e),
        Err(_) => {
            eprintln!("{}", l.not_running());
            return Ok(ExitCode::FAILURE);
        }
    };
    let status = dash.status().await?;
    let info = stack.info;
    // The running stack's settings, as `up` resolved them.
    let mut settings = settings::resolve(
        root,
        &StackArgs {
            profile: info.profile,
            cell: info.cell,
            table_prefix: Some(info.table_prefix),
            offset: PortOffsetArg {
                port_offset: info.port_offset,
            },
            only: None,
        },
    );
    // The URL the stack runs with, even if hippodrome.toml has changed since.
    settings.ctx.cell_url = info.cell_url;
    settings.choose_seed(args.seed.or(Some(info.seed)));
    let seed = settings.seed();
    let running = |name: &str| {
        status
            .get(name)
            .is_some_and(|s| s.status == Status::Running)
    };
    // Checked before seeding: a bad hippodrome.toml should stop us before anything is written.
    let toml = settings.checked_toml()?;
    let mut cfg = crate::seed_run::config(
        &settings.ctx,
        &settings.paths,
        toml,
        running("moto"),
        running("fake_cell"),
        // The sizes `up` seeded with: another size plans other owners for the same index names.
        (info.seed_accounts, info.seed_docs_per_index),
    );
    if args.standard {
        cfg.sizes = ::seed::Sizes::standard();
    }
    let hooks = toml.seed.hooks.clone();
    let started = Instant::now();
    match ::seed::run(&cfg, |line| println!("[seed] {line}")).await {
        Ok(manifest) => {
            println!(
                "seeded in {:.2}s (HIPPODROME_RANDOM_SEED={seed}); manifest {}",
                started.elapsed().as_secs_f64(),
                settings.paths.hippodrome_dir.join("seed.json").display()
            );
            run_hooks(hooks, &manifest, &settings.paths).await
        }
        Err(e) => {
            eprintln!("seed failed: {e:#}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// The `[[seed.hooks]]` again, after the seed, as `up` runs them. Their output goes to the running
/// stack's log folder; the dashboard keeps showing the reports of `up`'s own seed.
async fn run_hooks(
    specs: Vec<crate::config::hippodrome_toml::HookSection>,
    manifest: &::seed::Manifest,
    paths: &Paths,
) -> anyhow::Result<ExitCode> {
    if specs.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let hooks = crate::seed_hooks::SeedHooks::new(specs);
    let env = crate::seed_hooks::manifest_env(manifest, &paths.hippodrome_dir);
    let latest = paths.logs_dir.join("latest");
    let logs = crate::logs::RunLogs {
        dir: if latest.is_dir() {
            latest
        } else {
            paths.logs_dir.clone()
        },
    };
    std::fs::create_dir_all(&logs.dir)?;
    let result = hooks.run(&paths.project_root, &env, &logs, true).await;
    for r in hooks.snapshot() {
        println!("[seed] {}", crate::seed_hooks::summary(&r));
    }
    Ok(match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("seed failed: {e}");
            ExitCode::FAILURE
        }
    })
}
