//! Deterministic data for every Hippodrome service from one number (`HIPPODROME_RANDOM_SEED`).
//! Thin entry point over the `seed` library: flags, progress lines, a summary with timings.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use seed::{GroupOutcome, SeedConfig, Sizes};

/// Seed fake-cell, fake-cognito and moto with the same data set, from one number.
#[derive(Debug, Parser)]
#[command(name = "seed", version)]
struct Cli {
    /// The seed (default: HIPPODROME_RANDOM_SEED, else a fresh one that is printed).
    #[arg(long)]
    seed: Option<u64>,
    /// fake-cell base URL (omit to skip the cell).
    #[arg(long, env = "HIPPODROME_CELL_URL")]
    cell_url: Option<String>,
    /// fake-cognito base URL (omit to skip Cognito).
    #[arg(long, env = "HIPPODROME_COGNITO_URL")]
    cognito_url: Option<String>,
    /// moto base URL (omit to skip moto).
    #[arg(long, env = "HIPPODROME_MOTO_URL")]
    moto_url: Option<String>,
    /// Prefix of every table (and of the other moto resources).
    #[arg(long, env = "HIPPODROME_TABLE_PREFIX", default_value = "dev-local-")]
    table_prefix: String,
    /// Where seed.json and .env.e2e go.
    #[arg(long, default_value = ".hippodrome")]
    out_dir: PathBuf,
    /// The benchmark data set: 50 accounts, 10 users each, 5 indexes × 2,000 documents
    /// (explicit size flags still win).
    #[arg(long)]
    standard: bool,
    #[arg(long)]
    accounts: Option<usize>,
    #[arg(long)]
    users_per_account: Option<usize>,
    /// Indexes in total, dealt round-robin to the accounts.
    #[arg(long)]
    indexes: Option<usize>,
    #[arg(long)]
    docs_per_index: Option<usize>,
    /// Secret that encrypts the API keys.
    #[arg(long, env = "HIPPODROME_ENCRYPTION_SECRET", default_value = seed::DEFAULT_ENCRYPTION_SECRET, hide_env_values = true)]
    encryption_secret: String,
    #[arg(long, env = "AWS_DEFAULT_REGION", default_value = "us-east-1")]
    region: String,
    /// Cell name carried by encrypted keys.
    #[arg(long, default_value = "local")]
    cell: String,
    /// Seconds to wait for each service to become ready.
    #[arg(long, default_value_t = 30)]
    wait_secs: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut sizes = if cli.standard {
        Sizes::standard()
    } else {
        Sizes::default()
    };
    sizes.accounts = cli.accounts.unwrap_or(sizes.accounts);
    sizes.users_per_account = cli.users_per_account.unwrap_or(sizes.users_per_account);
    sizes.indexes = cli.indexes.unwrap_or(sizes.indexes);
    sizes.docs_per_index = cli.docs_per_index.unwrap_or(sizes.docs_per_index);
    let (seed, chosen) = seed::resolve_seed(cli.seed);
    if chosen {
        println!("no seed given; using {seed}. To reproduce this data:");
        println!("export {}={seed}", seed::SEED_ENV);
    }
    let cfg = SeedConfig {
        seed: Some(seed),
        cell_url: cli.cell_url,
        cognito_url: cli.cognito_url,
        moto_url: cli.moto_url,
        table_prefix: cli.table_prefix,
        out_dir: cli.out_dir,
        sizes,
        encryption_secret: cli.encryption_secret,
        region: cli.region,
        cell_name: cli.cell,
        wait_timeout: Duration::from_secs(cli.wait_secs),
        // The team's functions and machines come from hippodrome.toml: `orchestrator seed`.
        lambdas: Vec::new(),
        state_machines: Vec::new(),
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("seed: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(seed::run_with_report(&cfg, |line| println!("{line}"))) {
        Ok((manifest, report)) => {
            println!("summary (seed {}):", report.seed);
            for (name, waited) in &report.waits {
                println!("  wait {name:<20} {:>8.3}s", waited.as_secs_f64());
            }
            for g in &report.groups {
                let what = match &g.outcome {
                    GroupOutcome::Ready(t) => {
                        format!("{} created, {} already there", t.created, t.existing)
                    }
                    GroupOutcome::Skipped => "skipped".to_owned(),
                    GroupOutcome::Failed(e) => format!("failed: {e}"),
                };
                println!(
                    "  {:<25} {:>8.3}s  {what}",
                    g.group,
                    g.elapsed.as_secs_f64()
                );
            }
            let (m, e) = seed::output_paths(&cfg.out_dir);
            println!(
                "  total {:.3}s; {} accounts, {} users, {} indexes; wrote {} and {}",
                report.total.as_secs_f64(),
                manifest.accounts.len(),
                manifest.cognito.users.len(),
                manifest
                    .accounts
                    .iter()
                    .map(|a| a.indexes.len())
                    .sum::<usize>(),
                m.display(),
                e.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("seed: {e:#}");
            ExitCode::FAILURE
        }
    }
}
