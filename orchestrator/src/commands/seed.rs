//! `seed`: seed a running stack on demand, with the same code `up` runs after layer 0.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use crate::cli::SeedArgs;
use crate::config::Ports;
use crate::config::env::Context;

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
    let info = &stack["info"];
    let ports = Ports::new(info["port_offset"].as_u64().unwrap_or(0) as u16);
    let (seed, _) = ::seed::resolve_seed(args.seed.or(info["seed"].as_u64()));
    let ctx = Context {
        cell: info["cell"].as_str().unwrap_or("local").into(),
        cell_url: info["cell_url"].as_str().unwrap_or_default().into(),
        moto_url: format!("http://127.0.0.1:{}", ports.moto()),
        cognito_url: format!("http://127.0.0.1:{}", ports.fake_cognito()),
        table_prefix: info["table_prefix"].as_str().unwrap_or("dev-local-").into(),
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
    let started = Instant::now();
    match ::seed::run(&cfg, |line| println!("[seed] {line}")).await {
        Ok(_) => {
            println!(
                "seeded in {:.2}s (HIPPODROME_RANDOM_SEED={seed}); manifest {}",
                started.elapsed().as_secs_f64(),
                l.paths.hippodrome_dir.join("seed.json").display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("seed failed: {e:#}");
            Ok(ExitCode::FAILURE)
        }
    }
}
