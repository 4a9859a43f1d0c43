//! `cargo run -p bench --release -- [--quick] [--only NAME,...] [--out FILE]`: every figure of
//! Hippodrome beside its baseline, measured in one run on this machine. See README.md.

mod aws_json;
mod cell;
mod cell_ann;
mod cell_search;
mod cell_walk;
mod cognito;
mod cognito_mfa;
mod gateway;
mod limit;
mod memory;
mod proc;
mod report;
mod router;
mod seed;
mod sigint;
mod snapshot;
mod stack;
mod totp;
mod wrk;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;

use crate::report::Report;
use crate::wrk::WrkResult;

/// Sections in the order they run.
const SECTIONS: &[&str] = &[
    "limit",
    "walk",
    "cell",
    "cognito",
    "cognito-mfa",
    "router",
    "gateway",
    "stack",
    "seed",
    "snapshot",
    "memory",
];

#[derive(Parser, Debug)]
#[command(about = "Hippodrome benchmarks: every figure beside its baseline from the same run")]
struct Args {
    /// Short run: 2 s per load point, 3 s load section, smaller data sets.
    #[arg(long)]
    quick: bool,
    /// Run only these sections (comma-separated): limit, walk, cell, cognito, cognito-mfa,
    /// router, gateway, stack, seed, snapshot, memory.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Where to write the JSON results.
    #[arg(long, default_value = "bench-results.json")]
    out: PathBuf,
    /// Seconds per load point (default 10, 2 with --quick).
    #[arg(long)]
    duration: Option<u64>,
    /// Seconds of the 256-connection load section (default 60, 3 with --quick).
    #[arg(long)]
    load_duration: Option<u64>,
    /// Do not run `cargo build --release` for the measured binaries first.
    #[arg(long)]
    no_build: bool,
    /// Where the measured binaries are (default: beside the bench executable).
    #[arg(long)]
    bin_dir: Option<PathBuf>,
}

/// What every section gets: settings, the binaries, scratch space and the report.
pub struct Ctx {
    pub quick: bool,
    /// Length of one load point.
    pub dur: Duration,
    /// Length of the sustained load of the memory/load section.
    pub load_dur: Duration,
    pub bin_dir: PathBuf,
    pub scratch: tempfile::TempDir,
    pub http: reqwest::Client,
    pub report: Report,
    hello_url: Option<String>,
    limits: HashMap<u32, WrkResult>,
}

impl Ctx {
    pub fn bin(&self, name: &str) -> anyhow::Result<PathBuf> {
        let path = self.bin_dir.join(name);
        if !path.is_file() {
            bail!(
                "{} not found (build it: cargo build --release -p {name})",
                path.display()
            );
        }
        Ok(path)
    }

    /// A fresh directory inside the run's scratch dir.
    pub fn dir(&self, name: &str) -> anyhow::Result<PathBuf> {
        let d = self.scratch.path().join(name);
        std::fs::create_dir_all(&d)?;
        Ok(d)
    }

    pub fn logs(&self) -> PathBuf {
        self.scratch.path().to_path_buf()
    }

    /// The limit at `conns` connections, measured once per run.
    pub async fn limit(&mut self, conns: u32) -> anyhow::Result<WrkResult> {
        if let Some(r) = self.limits.get(&conns) {
            return Ok(r.clone());
        }
        self.fresh_limit(conns).await
    }

    /// The limit at `conns` connections measured now, for a point measured right after it: on a
    /// shared machine the load from other work drifts within minutes, and a baseline taken
    /// seconds before a point shares its conditions.
    pub async fn fresh_limit(&mut self, conns: u32) -> anyhow::Result<WrkResult> {
        if self.hello_url.is_none() {
            self.hello_url = Some(limit::start_hello()?);
        }
        let url = self.hello_url.clone().unwrap_or_default();
        let r = wrk::run(&url, conns, self.dur, None).await?;
        self.limits.insert(conns, r.clone());
        Ok(r)
    }

    /// Starts one of our services (`bin` with `args`, plus `--port` on a free port) and returns it
    /// with its URL once `/healthz` answers 2xx.
    pub async fn start_service(
        &self,
        name: &str,
        bin: &str,
        args: &[std::ffi::OsString],
    ) -> anyhow::Result<(proc::Proc, String)> {
        let port = proc::free_port()?;
        let p = proc::Proc::spawn(
            name,
            std::process::Command::new(self.bin(bin)?)
                .args(["--port", &port.to_string()])
                .args(args),
            &self.logs(),
        )?;
        let url = format!("http://127.0.0.1:{port}");
        proc::wait_ok(
            &self.http,
            &format!("{url}/healthz"),
            Duration::from_secs(20),
        )
        .await?;
        Ok((p, url))
    }

    /// Writes a wrk Lua script into the scratch dir and returns its path.
    pub fn script(&self, name: &str, text: &str) -> anyhow::Result<PathBuf> {
        let p = self.scratch.path().join(format!("{name}.lua"));
        std::fs::write(&p, text)?;
        Ok(p)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    for name in &args.only {
        if !SECTIONS.contains(&name.as_str()) {
            bail!("unknown section {name}; known: {}", SECTIONS.join(", "));
        }
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("workspace root")?
        .to_path_buf();
    let bin_dir = match args.bin_dir.clone() {
        Some(d) => d,
        None => std::env::current_exe()?
            .parent()
            .context("bench executable has no directory")?
            .to_path_buf(),
    };
    wrk::ensure_installed()?;
    if !args.no_build {
        build(&workspace)?;
    }
    let dur = Duration::from_secs(args.duration.unwrap_or(if args.quick { 2 } else { 10 }));
    let load_dur =
        Duration::from_secs(
            args.load_duration
                .unwrap_or(if args.quick { 3 } else { 60 }),
        );
    let mut ctx = Ctx {
        quick: args.quick,
        dur,
        load_dur,
        bin_dir,
        scratch: tempfile::Builder::new()
            .prefix("hippodrome-bench-")
            .tempdir()?,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()?,
        report: Report {
            date: now_utc(),
            command: std::env::args().collect::<Vec<_>>().join(" "),
            quick: args.quick,
            load_seconds: dur.as_secs(),
            cores: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(0),
            ..Report::default()
        },
        hello_url: None,
        limits: HashMap::new(),
    };
    println!(
        "Hippodrome bench: {} s per load point, {} cores, binaries from {}, scratch {}",
        dur.as_secs(),
        ctx.report.cores,
        ctx.bin_dir.display(),
        ctx.scratch.path().display()
    );
    for &name in SECTIONS {
        if !args.only.is_empty() && !args.only.iter().any(|o| o == name) {
            continue;
        }
        println!("\n== {name}");
        let result = match name {
            "limit" => limit::run(&mut ctx).await,
            "walk" => match cell_walk::run(&mut ctx, 10_000).await {
                Ok(()) => cell_search::run(&mut ctx, 10_000).await,
                Err(e) => Err(e),
            },
            "cell" => cell::run(&mut ctx).await,
            "cognito" => cognito::run(&mut ctx).await,
            "cognito-mfa" => cognito_mfa::run(&mut ctx).await,
            "router" => router::run(&mut ctx).await,
            "gateway" => gateway::run(&mut ctx).await,
            "stack" => stack::run(&mut ctx).await,
            "seed" => seed::run(&mut ctx).await,
            "snapshot" => snapshot::run(&mut ctx).await,
            _ => memory::run(&mut ctx).await,
        };
        if let Err(e) = result {
            ctx.report.fail(name, format!("{e:#}"));
        }
    }
    println!("\n{}", ctx.report.table());
    ctx.report.write_json(&args.out)?;
    println!("JSON written to {}", args.out.display());
    Ok(())
}

/// Builds the release binaries the sections start; a package that fails to build is reported and
/// the sections that need it fail on their own.
fn build(workspace: &Path) -> anyhow::Result<()> {
    for package in [
        "fake-cell",
        "fake-cognito",
        "webhook-router",
        "aws-gateway",
        "orchestrator",
        "seed",
    ] {
        println!("building {package} (release)…");
        let status =
            std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args(["build", "--release", "-q", "-p", package])
                .current_dir(workspace)
                .status()
                .context("running cargo")?;
        if !status.success() {
            eprintln!(
                "warning: `cargo build --release -p {package}` failed; its sections will fail"
            );
        }
    }
    Ok(())
}

/// The current UTC time as `YYYY-MM-DD HH:MM UTC`, from the system clock.
fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let (h, m) = (secs % 86_400 / 3600, secs % 3600 / 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{m:02} UTC")
}
