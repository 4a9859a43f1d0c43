//! `seed-job` (hidden): the seed as the exports run it, once, in a container after layer 0 —
//! the same `seed::run` as `up`, with the services found through the environment every exported
//! service gets (AWS_ENDPOINT_URL, MARQO_URL, COGNITO_URL, TABLE_PREFIX,
//! HIPPODROME_RANDOM_SEED) instead of a running dashboard. The team's `[[lambdas]]` and
//! `[[state_machines]]` come from the files the export mounts where `HIPPODROME_SEED_TEAM`
//! points ([`crate::export::team`]): the container has no hippodrome.toml nor the host's files.

use std::path::Path;
use std::process::ExitCode;

use crate::cli::SeedJobArgs;
use crate::settings::{self, PortOffsetArg, StackArgs};

pub async fn run(root: Option<&Path>, args: SeedJobArgs) -> anyhow::Result<ExitCode> {
    let mut s = settings::resolve(
        root,
        &StackArgs {
            profile: crate::config::Profile::Full,
            cell: crate::config::Cell::Local,
            table_prefix: None,
            offset: PortOffsetArg::default(),
            only: None,
        },
    );
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let need = |k: &str| {
        var(k).ok_or_else(|| anyhow::anyhow!("{k} is not set (the export's ConfigMap sets it)"))
    };
    s.ctx.cognito_url = need("COGNITO_URL")?;
    s.ctx.table_prefix = need("TABLE_PREFIX")?;
    if !args.no_aws {
        s.ctx.moto_url = need("AWS_ENDPOINT_URL")?;
    }
    if !args.no_cell {
        s.ctx.cell_url = need("MARQO_URL")?;
    }
    if let Some(region) = var("AWS_REGION") {
        s.ctx.region = region;
    }
    s.choose_seed(None);
    s.paths.hippodrome_dir = args.out.clone();
    let toml = s.checked_toml()?;
    let mut cfg = crate::seed_run::config(
        &s.ctx,
        &s.paths,
        toml,
        !args.no_aws,
        !args.no_cell,
        (None, None),
    );
    if let Some(dir) = var(crate::export::team::ENV) {
        // Set by the export only when it shipped the files: a missing one is an error, not
        // a seed without the team's functions and machines.
        let (lambdas, machines) =
            crate::export::team::load(Path::new(&dir)).map_err(|e| anyhow::anyhow!(e))?;
        println!(
            "[seed] team: {} function(s), {} state machine(s) from {dir}",
            lambdas.len(),
            machines.len()
        );
        cfg.lambdas = lambdas;
        cfg.state_machines = machines;
    }
    match ::seed::run(&cfg, |line| println!("[seed] {line}")).await {
        Ok(_) => {
            println!(
                "seeded (HIPPODROME_RANDOM_SEED={}); manifest in {}",
                s.seed(),
                args.out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("seed failed: {e:#}");
            Ok(ExitCode::FAILURE)
        }
    }
}
