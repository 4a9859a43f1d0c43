//! `seed`: seed a running stack on demand, with the same code `up` runs after layer 0.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use crate::cli::SeedArgs;
use crate::config::env::Context;
use crate::config::{HippodromeToml, Paths, Ports};
use crate::dashboard::StackInfo;

pub async fn run(root: Option<&Path>, args: SeedArgs) -> anyhow::Result<ExitCode> {
    let l = super::stack::locate(root, &args.find);
    let stack = match super::stack::get_json(&format!("{}/api/stack", l.dashboard_url)).await {
        Ok(v) => v,
        Err(_) => {
            eprintln!("{}", super::stack::not_running(&l));
            return Ok(ExitCode::FAILURE);
        }
    };
    let status = super::stack::get_json(&format!("{}/api/status", l.dashboard_url)).await?;
    let info: StackInfo = serde_json::from_value(stack["info"].clone())
        .map_err(|e| anyhow::anyhow!("{}/api/stack: bad `info`: {e}", l.dashboard_url))?;
    let ports = Ports::new(info.port_offset);
    let (seed, _) = ::seed::resolve_seed(args.seed.or(Some(info.seed)));
    let ctx = Context {
        cell: info.cell,
        cell_url: info.cell_url,
        moto_url: format!("http://127.0.0.1:{}", ports.moto()),
        cognito_url: format!("http://127.0.0.1:{}", ports.fake_cognito()),
        table_prefix: info.table_prefix,
        seed,
        encryption_secret: std::env::var("HIPPODROME_ENCRYPTION_SECRET")
            .unwrap_or_else(|_| "1234567890ABCDEF".into()),
        region: "us-east-1".into(),
        ..Default::default()
    };
    let running = |name: &str| status[name]["status"] == "running";
    let mut cfg = crate::seeding::config(
        &ctx,
        &l.paths,
        running("moto"),
        running("fake_cell"),
        (None, None),
    );
    if args.standard {
        cfg.sizes = ::seed::Sizes::standard();
    }
    // Read before seeding: a bad hippodrome.toml should stop us before anything is written.
    let toml = HippodromeToml::load(&l.paths.project_root).map_err(|e| {
        anyhow::anyhow!("bad hippodrome.toml: {e} (see TROUBLESHOOTING.md#bad-hippodrome-toml)")
    })?;
    let started = Instant::now();
    match ::seed::run(&cfg, |line| println!("[seed] {line}")).await {
        Ok(manifest) => {
            println!(
                "seeded in {:.2}s (HIPPODROME_RANDOM_SEED={seed}); manifest {}",
                started.elapsed().as_secs_f64(),
                l.paths.hippodrome_dir.join("seed.json").display()
            );
            run_hooks(toml.seed.hooks, &manifest, &l.paths).await
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
