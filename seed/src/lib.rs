//! Deterministic data for every Hippodrome service from one number (`HIPPODROME_RANDOM_SEED`).
//!
//! Layout:
//! - [`rng`]: the pinned ChaCha20 generator, one stream per purpose;
//! - [`fixtures`]: embedded word lists and DynamoDB table definitions (`fixtures/seed`, `fixtures/tables`);
//! - [`plan`]: everything the seed chooses, as a manifest with service-assigned values still empty;
//! - [`catalogue`]: the e-commerce documents; [`keys`]: encrypted API keys;
//! - [`moto`], [`cell`], [`cognito`]: one module per target, each a set of groups;
//! - [`manifest`]: `seed.json` and `.env.e2e`; [`wait`]: bounded readiness waits.
//!
//! [`run`] waits for each target, seeds the three targets concurrently (bounded concurrency inside
//! each group), reports one `ready: <group> …` or `failed: <group>: <resource>: <error>` line per
//! group through the callback, and writes the manifest and env file atomically only when every
//! group succeeded.

pub mod catalogue;
pub mod cell;
pub mod cognito;
pub mod fixtures;
pub mod keys;
pub mod manifest;
pub mod moto;
pub mod plan;
pub mod rng;
pub mod wait;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use manifest::Manifest;
pub use plan::Sizes;

/// Environment variable that fixes the seed.
pub const SEED_ENV: &str = "HIPPODROME_RANDOM_SEED";
/// Default API-key encryption secret (`HIPPODROME_ENCRYPTION_SECRET`).
pub const DEFAULT_ENCRYPTION_SECRET: &str = "1234567890ABCDEF";

/// What to seed and where. A `None` URL skips that target; the manifest lists it in `skipped`.
#[derive(Debug, Clone)]
pub struct SeedConfig {
    pub seed: Option<u64>,
    pub cell_url: Option<String>,
    pub cognito_url: Option<String>,
    pub moto_url: Option<String>,
    pub table_prefix: String,
    /// The project's `.hippodrome` directory: `seed.json` and `.env.e2e` go here.
    pub out_dir: PathBuf,
    pub sizes: Sizes,
    pub encryption_secret: String,
    pub region: String,
    pub cell_name: String,
    /// How long to wait for each target to become ready (and for each index to be READY).
    pub wait_timeout: Duration,
}

impl Default for SeedConfig {
    fn default() -> Self {
        Self {
            seed: None,
            cell_url: None,
            cognito_url: None,
            moto_url: None,
            table_prefix: "dev-local-".into(),
            out_dir: PathBuf::from(".hippodrome"),
            sizes: Sizes::default(),
            encryption_secret: DEFAULT_ENCRYPTION_SECRET.into(),
            region: "us-east-1".into(),
            cell_name: "local".into(),
            wait_timeout: Duration::from_secs(30),
        }
    }
}

/// A failure, naming the group and the resource.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{group}: {resource}: {message}")]
pub struct SeedError {
    pub group: String,
    pub resource: String,
    pub message: String,
}

impl SeedError {
    pub fn new(group: &str, resource: &str, message: String) -> Self {
        Self {
            group: group.to_owned(),
            resource: resource.to_owned(),
            message,
        }
    }
}

/// What a group did: resources created (or updated) and found already in place.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub created: usize,
    pub existing: usize,
}

impl Tally {
    pub fn from_flags(created: &[bool]) -> Self {
        let c = created.iter().filter(|x| **x).count();
        Self {
            created: c,
            existing: created.len() - c,
        }
    }
    pub fn count(&mut self, created: bool) {
        if created {
            self.created += 1;
        } else {
            self.existing += 1;
        }
    }
    pub fn add(&mut self, other: Tally) {
        self.created += other.created;
        self.existing += other.existing;
    }
}

/// How one group ended.
#[derive(Debug, Clone)]
pub enum GroupOutcome {
    Ready(Tally),
    Failed(SeedError),
    Skipped,
}

/// One line of the summary.
#[derive(Debug, Clone)]
pub struct GroupReport {
    pub group: String,
    pub outcome: GroupOutcome,
    pub elapsed: Duration,
}

impl GroupReport {
    pub fn failed(group: &str, e: SeedError, elapsed: Duration) -> Self {
        Self {
            group: group.to_owned(),
            outcome: GroupOutcome::Failed(e),
            elapsed,
        }
    }
}

/// Everything a run did, for summaries and benchmarks (`run` returns only the manifest).
#[derive(Debug, Clone)]
pub struct Report {
    pub seed: u64,
    pub groups: Vec<GroupReport>,
    /// Time spent waiting for targets to become ready.
    pub waits: Vec<(String, Duration)>,
    pub total: Duration,
}

/// The progress callback, with the line formats in one place.
pub struct Progress<'a>(&'a (dyn Fn(&str) + Send + Sync));

impl Progress<'_> {
    pub fn line(&self, s: &str) {
        (self.0)(s)
    }
    pub fn ready(&self, group: &str, t: Tally, elapsed: Duration) {
        self.line(&format!(
            "ready: {group} ({} created, {} already there, {:.2}s)",
            t.created,
            t.existing,
            elapsed.as_secs_f64()
        ));
    }
    pub fn failed(&self, e: &SeedError) {
        self.line(&format!(
            "failed: {}: {}: {}",
            e.group, e.resource, e.message
        ));
    }
}

/// Run already-built futures with at most `limit` in flight; results in input order, first error
/// wins. Taking futures rather than a closure keeps the caller's future `Send`, so `run` can be
/// spawned (a closure over borrowed items inside a stream adapter trips rust-lang/rust#102211).
pub(crate) async fn bounded<T, E, F>(futures: Vec<F>, limit: usize) -> Result<Vec<T>, E>
where
    F: Future<Output = Result<T, E>>,
{
    use futures::stream::{self, StreamExt, TryStreamExt};
    stream::iter(futures)
        .buffered(limit.max(1))
        .try_collect()
        .await
}

/// Run one group, time it, report it; returns its report and its value on success.
pub(crate) async fn timed<T>(
    group: &str,
    progress: &Progress<'_>,
    fut: impl Future<Output = Result<(Tally, T), SeedError>>,
) -> (GroupReport, Option<T>) {
    let start = Instant::now();
    let result = fut.await;
    let elapsed = start.elapsed();
    match result {
        Ok((tally, value)) => {
            progress.ready(group, tally, elapsed);
            (
                GroupReport {
                    group: group.to_owned(),
                    outcome: GroupOutcome::Ready(tally),
                    elapsed,
                },
                Some(value),
            )
        }
        Err(e) => {
            progress.failed(&e);
            (GroupReport::failed(group, e, elapsed), None)
        }
    }
}

/// The seed to use: `explicit`, else `HIPPODROME_RANDOM_SEED`, else a fresh one (`chosen = true`;
/// the caller prints `export HIPPODROME_RANDOM_SEED=<n>`). An unparsable variable is ignored with a
/// warning, and a fresh seed is chosen.
pub fn resolve_seed(explicit: Option<u64>) -> (u64, bool) {
    if let Some(s) = explicit {
        return (s, false);
    }
    if let Ok(v) = std::env::var(SEED_ENV) {
        match v.trim().parse::<u64>() {
            Ok(s) => return (s, false),
            Err(_) => {
                tracing::warn!(value = %v, "{SEED_ENV} is not an unsigned integer; choosing a seed")
            }
        }
    }
    // Short enough to type; the seed space only needs to make collisions between runs unlikely.
    let s = rand::random::<u64>() % 1_000_000_000;
    (s, true)
}

/// The manifest a seed would produce with no service contacted (service-assigned values `null`).
pub fn plan(cfg: &SeedConfig, seed: u64) -> anyhow::Result<Manifest> {
    let f = fixtures::get()?;
    Ok(plan::build(
        f,
        &plan::PlanInput {
            seed,
            sizes: cfg.sizes,
            table_prefix: &cfg.table_prefix,
            cell: &cfg.cell_name,
            region: &cfg.region,
            encryption_secret: &cfg.encryption_secret,
            services: manifest::Services {
                cell_url: cfg
                    .cell_url
                    .as_ref()
                    .map(|u| u.trim_end_matches('/').to_owned()),
                cognito_url: cfg
                    .cognito_url
                    .as_ref()
                    .map(|u| u.trim_end_matches('/').to_owned()),
                moto_url: cfg
                    .moto_url
                    .as_ref()
                    .map(|u| u.trim_end_matches('/').to_owned()),
            },
        },
    ))
}

/// Seed every target, write `<out_dir>/seed.json` and `<out_dir>/.env.e2e`, return the manifest.
pub async fn run(
    cfg: &SeedConfig,
    progress: impl Fn(&str) + Send + Sync,
) -> anyhow::Result<Manifest> {
    run_with_report(cfg, progress).await.map(|(m, _)| m)
}

/// [`run`], also returning per-group timings and counts.
pub async fn run_with_report(
    cfg: &SeedConfig,
    progress: impl Fn(&str) + Send + Sync,
) -> anyhow::Result<(Manifest, Report)> {
    let started = Instant::now();
    let progress = Progress(&progress);
    let (seed, _) = resolve_seed(cfg.seed);
    let f = fixtures::get()?;
    let mut manifest = plan(cfg, seed)?;
    let http = cell::http_client().map_err(|e| anyhow::anyhow!("http client: {e}"))?;

    let services = manifest.services.clone();
    let moto_fut = async {
        let Some(url) = services.moto_url.as_deref() else {
            return (Vec::new(), None, None);
        };
        let t = Instant::now();
        if let Err(e) = wait::until_ok(&http, &format!("{url}/moto-api/"), cfg.wait_timeout).await {
            let e = SeedError::new("moto", url, e);
            progress.failed(&e);
            return (
                vec![GroupReport::failed("moto", e, t.elapsed())],
                None,
                Some(t.elapsed()),
            );
        }
        let waited = t.elapsed();
        let (reports, assigned) = moto::seed(cfg, url, f, &manifest, &progress).await;
        (reports, Some(assigned), Some(waited))
    };
    let cell_fut = async {
        let Some(url) = services.cell_url.as_deref() else {
            return (Vec::new(), None, None);
        };
        let t = Instant::now();
        if let Err(e) = wait::until_ok(&http, &format!("{url}/healthz"), cfg.wait_timeout).await {
            let e = SeedError::new("cell", url, e);
            progress.failed(&e);
            return (
                vec![GroupReport::failed("cell", e, t.elapsed())],
                None,
                Some(t.elapsed()),
            );
        }
        let waited = t.elapsed();
        let (reports, endpoints) = cell::seed(cfg, url, f, &manifest, &progress).await;
        (reports, endpoints, Some(waited))
    };
    let cognito_fut = async {
        let Some(url) = services.cognito_url.as_deref() else {
            return (Vec::new(), None, None);
        };
        let t = Instant::now();
        if let Err(e) = wait::until_ok(&http, &format!("{url}/healthz"), cfg.wait_timeout).await {
            let e = SeedError::new("cognito", url, e);
            progress.failed(&e);
            return (
                vec![GroupReport::failed("cognito", e, t.elapsed())],
                None,
                Some(t.elapsed()),
            );
        }
        let waited = t.elapsed();
        let (reports, assigned) = cognito::seed(cfg, url, &manifest, &progress).await;
        (reports, assigned, Some(waited))
    };
    let (
        (moto_reports, moto_assigned, moto_wait),
        (cell_reports, endpoints, cell_wait),
        (cog_reports, cog_assigned, cog_wait),
    ) = tokio::join!(moto_fut, cell_fut, cognito_fut);

    let mut groups = Vec::new();
    for (name, skipped) in [
        ("moto", services.moto_url.is_none()),
        ("cell", services.cell_url.is_none()),
        ("cognito", services.cognito_url.is_none()),
    ] {
        if skipped {
            progress.line(&format!("skipped: {name} (no URL given)"));
            groups.push(GroupReport {
                group: name.to_owned(),
                outcome: GroupOutcome::Skipped,
                elapsed: Duration::ZERO,
            });
        }
    }
    groups.extend(moto_reports);
    groups.extend(cell_reports);
    groups.extend(cog_reports);
    let waits = [
        ("moto", moto_wait),
        ("cell", cell_wait),
        ("cognito", cog_wait),
    ]
    .into_iter()
    .filter_map(|(n, w)| w.map(|w| (n.to_owned(), w)))
    .collect();
    let report = Report {
        seed,
        groups,
        waits,
        total: started.elapsed(),
    };
    let failures: Vec<&SeedError> = report
        .groups
        .iter()
        .filter_map(|g| match &g.outcome {
            GroupOutcome::Failed(e) => Some(e),
            _ => None,
        })
        .collect();
    if let Some(first) = failures.first() {
        let more = if failures.len() > 1 {
            format!(" (and {} more failed groups)", failures.len() - 1)
        } else {
            String::new()
        };
        anyhow::bail!("seeding failed: {first}{more}");
    }

    if let Some(a) = moto_assigned {
        fill_moto(&mut manifest, a);
    }
    if let Some(endpoints) = endpoints {
        for ix in manifest
            .accounts
            .iter_mut()
            .flat_map(|a| a.indexes.iter_mut())
        {
            ix.endpoint = endpoints.get(&ix.name).cloned();
        }
    }
    if let Some(a) = cog_assigned {
        let c = &mut manifest.cognito;
        c.pool_id = Some(a.pool_id);
        c.clients.public.client_id = Some(a.public_client_id);
        c.clients.secret.client_id = Some(a.secret_client_id);
        c.clients.secret.client_secret = a.client_secret;
        for (u, sub) in c.users.iter_mut().zip(a.subs) {
            u.sub = Some(sub);
        }
    }
    write_outputs(&manifest, &cfg.out_dir)?;
    Ok((manifest, report))
}

fn fill_moto(m: &mut Manifest, a: moto::Assigned) {
    if let Some(urls) = a.queue_urls {
        for (q, url) in m.moto.queues.iter_mut().zip(urls) {
            q.url = Some(url);
        }
    }
    if let Some(arns) = a.topic_arns {
        for (t, arn) in m.moto.topics.iter_mut().zip(arns) {
            t.arn = Some(arn);
        }
    }
    if let Some(arns) = a.state_machine_arns {
        for (s, arn) in m.moto.state_machines.iter_mut().zip(arns) {
            s.arn = Some(arn);
        }
    }
}

/// Paths of the two output files under `out_dir`.
pub fn output_paths(out_dir: &Path) -> (PathBuf, PathBuf) {
    (out_dir.join("seed.json"), out_dir.join(".env.e2e"))
}

fn write_outputs(m: &Manifest, out_dir: &Path) -> anyhow::Result<()> {
    let (manifest_path, env_path) = output_paths(out_dir);
    let absolute = std::path::absolute(&manifest_path).unwrap_or(manifest_path.clone());
    service_kit::state_file::write_atomic(&manifest_path, m.to_json().as_bytes())
        .map_err(|e| anyhow::anyhow!("writing {}: {e}", manifest_path.display()))?;
    service_kit::state_file::write_atomic(&env_path, m.env_file(&absolute).as_bytes())
        .map_err(|e| anyhow::anyhow!("writing {}: {e}", env_path.display()))?;
    Ok(())
}
