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
pub use service_kit::cli::SEED_ENV;
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
    /// `[[lambdas]]` in hippodrome.toml: functions created in moto (the AWS gateway runs their Invoke).
    pub lambdas: Vec<moto::functions::Wanted>,
    /// `[[state_machines]]` in hippodrome.toml: created after the seed's own, from their files.
    pub state_machines: Vec<moto::state_machines::FromFile>,
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
            lambdas: Vec::new(),
            state_machines: Vec::new(),
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
    /// The tally of `(created, value)` results, and the values in order (queue URLs, ARNs).
    pub fn split<T>(results: Vec<(bool, T)>) -> (Self, Vec<T>) {
        let flags: Vec<bool> = results.iter().map(|(c, _)| *c).collect();
        (
            Self::from_flags(&flags),
            results.into_iter().map(|(_, v)| v).collect(),
        )
    }

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
/// the caller prints `export HIPPODROME_RANDOM_SEED=<n>`). The variable is read by
/// [`service_kit::cli::RandomSeed`], the one parser every reader shares; a value it refuses is
/// ignored with a warning here (fake-cognito refuses to start on it), and a fresh seed is chosen.
pub fn resolve_seed(explicit: Option<u64>) -> (u64, bool) {
    if let Some(s) = explicit {
        return (s, false);
    }
    match service_kit::cli::RandomSeed::from_env() {
        Ok(service_kit::cli::RandomSeed(Some(s))) => return (s, false),
        Ok(service_kit::cli::RandomSeed(None)) => {}
        Err(e) => tracing::warn!("{e}; choosing a seed"),
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
    let progress = &Progress(&progress);
    let (seed, _) = resolve_seed(cfg.seed);
    let f = fixtures::get()?;
    let mut manifest = plan(cfg, seed)?;
    let http = cell::http_client().map_err(|e| anyhow::anyhow!("http client: {e}"))?;

    // The three targets are independent: wait for each and seed it concurrently.
    let services = manifest.services.clone();
    let target = |name, url, ready_path| Target {
        name,
        url,
        ready_path,
        http: &http,
        cfg,
        progress,
    };
    let plan = &manifest;
    let (moto, cell, cognito) = tokio::join!(
        target("moto", services.moto_url.as_deref(), "/moto-api/").seed(|url| async move {
            let (reports, assigned) = moto::seed(cfg, url, f, plan, progress).await;
            (reports, Some(assigned))
        }),
        target("cell", services.cell_url.as_deref(), "/healthz")
            .seed(|url| cell::seed(cfg, url, f, plan, progress)),
        target("cognito", services.cognito_url.as_deref(), "/healthz")
            .seed(|url| cognito::seed(cfg, url, plan, progress)),
    );

    let mut groups = skipped_groups(&services, progress);
    groups.extend(moto.reports);
    groups.extend(cell.reports);
    groups.extend(cognito.reports);
    let waits = [
        ("moto", moto.waited),
        ("cell", cell.waited),
        ("cognito", cognito.waited),
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
    fail_on_any_failed_group(&report)?;

    if let Some(a) = moto.assigned {
        fill_moto(&mut manifest, a);
    }
    if let Some(endpoints) = cell.assigned {
        fill_endpoints(&mut manifest, &endpoints);
    }
    if let Some(a) = cognito.assigned {
        fill_cognito(&mut manifest, a);
    }
    write_outputs(&manifest, &cfg.out_dir)?;
    Ok((manifest, report))
}

/// One target of a run: where it is and what its readiness probe is.
struct Target<'a> {
    name: &'static str,
    url: Option<&'a str>,
    ready_path: &'static str,
    http: &'a reqwest::Client,
    cfg: &'a SeedConfig,
    progress: &'a Progress<'a>,
}

/// What seeding one target gave: its groups' reports, what the service assigned, and how long
/// the run waited for it to answer (`None` when it had no URL).
struct TargetOutcome<A> {
    reports: Vec<GroupReport>,
    assigned: Option<A>,
    waited: Option<Duration>,
}

impl<'a> Target<'a> {
    /// Wait until the target answers, then run `seed_it` on its URL. A target that never answers
    /// is one failed group.
    async fn seed<A, Fut>(self, seed_it: impl FnOnce(&'a str) -> Fut) -> TargetOutcome<A>
    where
        Fut: Future<Output = (Vec<GroupReport>, Option<A>)>,
    {
        let Some(url) = self.url else {
            return TargetOutcome {
                reports: Vec::new(),
                assigned: None,
                waited: None,
            };
        };
        let t = Instant::now();
        let probe = format!("{url}{}", self.ready_path);
        if let Err(e) = wait::until_ok(self.http, &probe, self.cfg.wait_timeout).await {
            let e = SeedError::new(self.name, url, e);
            self.progress.failed(&e);
            return TargetOutcome {
                reports: vec![GroupReport::failed(self.name, e, t.elapsed())],
                assigned: None,
                waited: Some(t.elapsed()),
            };
        }
        let waited = t.elapsed();
        let (reports, assigned) = seed_it(url).await;
        TargetOutcome {
            reports,
            assigned,
            waited: Some(waited),
        }
    }
}

/// A `Skipped` group (and a progress line) for every target without a URL.
fn skipped_groups(services: &manifest::Services, progress: &Progress<'_>) -> Vec<GroupReport> {
    [
        ("moto", services.moto_url.is_none()),
        ("cell", services.cell_url.is_none()),
        ("cognito", services.cognito_url.is_none()),
    ]
    .into_iter()
    .filter(|(_, skipped)| *skipped)
    .map(|(name, _)| {
        progress.line(&format!("skipped: {name} (no URL given)"));
        GroupReport {
            group: name.to_owned(),
            outcome: GroupOutcome::Skipped,
            elapsed: Duration::ZERO,
        }
    })
    .collect()
}

/// The run fails, naming the first failed group, when any group failed.
fn fail_on_any_failed_group(report: &Report) -> anyhow::Result<()> {
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
    Ok(())
}

fn fill_endpoints(m: &mut Manifest, endpoints: &cell::Endpoints) {
    for ix in m.accounts.iter_mut().flat_map(|a| a.indexes.iter_mut()) {
        ix.endpoint = endpoints.get(&ix.name).cloned();
    }
}

fn fill_cognito(m: &mut Manifest, a: cognito::Assigned) {
    let c = &mut m.cognito;
    c.pool_id = Some(a.pool_id);
    c.clients.public.client_id = Some(a.public_client_id);
    c.clients.secret.client_id = Some(a.secret_client_id);
    c.clients.secret.client_secret = a.client_secret;
    for (u, sub) in c.users.iter_mut().zip(a.subs) {
        u.sub = Some(sub);
    }
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
    m.moto.state_machines.extend(a.team_state_machines);
    m.moto.functions = a.functions;
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
