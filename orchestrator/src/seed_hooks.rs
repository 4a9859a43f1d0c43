//! `[[seed.hooks]]`: the team's commands that run after Hippodrome's own seed, in order, with the
//! seed manifest's variables (those of `.hippodrome/.env.e2e`) in their environment, like
//! LocalStack's ready.d scripts. They run again on every seed (`up`, `orchestrator seed`), so they
//! must be safe to repeat.
//!
//! Each hook is spawned like a service (own process group, parent-death signal), writes its
//! output to `seed-hook-<name>.log` in the run's log folder, and is killed with its whole group
//! when it outlives `timeout_s` or when the seed is cancelled (Ctrl+C drops the future). A failing
//! hook is reported with its exit code and output tail; only a `blocking` one fails the seed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::Serialize;

use crate::config::hippodrome_toml::HookSection;
use crate::logs::{LogSink, RunLogs};
use crate::process::{signal, spawn};
use crate::services::{Health, ServiceSpec};

/// Output lines kept in a hook's report.
const TAIL: usize = 20;
/// SIGTERM → SIGKILL grace for a hook that timed out or was cancelled.
const GRACE: Duration = Duration::from_secs(2);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HookState {
    Pending,
    Running,
    Ok,
    Failed,
    TimedOut,
    Skipped,
}

/// One hook's outcome, as `/api/seed` and the dashboard's seed panel show it.
#[derive(Clone, Debug, Serialize)]
pub struct HookReport {
    pub name: String,
    pub command: Vec<String>,
    pub blocking: bool,
    pub state: HookState,
    pub exit_code: Option<i32>,
    pub elapsed_ms: Option<u64>,
    /// Why it failed or was skipped, in words.
    pub detail: Option<String>,
    /// The last lines of its output.
    pub tail: Vec<String>,
    pub log_file: Option<PathBuf>,
}

/// The hooks of one stack and their latest reports (shared with the dashboard).
pub struct SeedHooks {
    pub specs: Vec<HookSection>,
    pub reports: Mutex<Vec<HookReport>>,
}

impl SeedHooks {
    pub fn new(specs: Vec<HookSection>) -> Self {
        let reports = Mutex::new(specs.iter().map(pending).collect());
        Self { specs, reports }
    }

    pub fn snapshot(&self) -> Vec<HookReport> {
        self.reports.lock().clone()
    }

    /// Mark every hook skipped (the seed they follow failed).
    pub fn skip_all(&self, why: &str) {
        for r in self.reports.lock().iter_mut() {
            r.state = HookState::Skipped;
            r.detail = Some(why.to_owned());
        }
    }

    /// Run every hook in order. `env` is the manifest's variables. Err (with the reason) when a
    /// blocking hook failed; the hooks after it are skipped.
    pub async fn run(
        &self,
        project_root: &Path,
        env: &BTreeMap<String, String>,
        logs: &RunLogs,
        echo: bool,
    ) -> Result<(), String> {
        *self.reports.lock() = self.specs.iter().map(pending).collect();
        let width = self
            .specs
            .iter()
            .map(|h| h.name.len() + "seed-hook-".len())
            .max()
            .unwrap_or(8);
        for (i, hook) in self.specs.iter().enumerate() {
            let update = |f: &dyn Fn(&mut HookReport)| {
                if let Some(r) = self.reports.lock().get_mut(i) {
                    f(r)
                }
            };
            update(&|r| r.state = HookState::Running);
            let report = run_one(hook, project_root, env, logs, echo, width).await;
            let failed = report.state != HookState::Ok;
            let reason = report.detail.clone().unwrap_or_default();
            update(&|r| *r = report.clone());
            if failed && hook.blocking {
                let why = format!("blocking seed hook {} {reason}", hook.name);
                self.skip_rest(i + 1, &format!("skipped: {why}"));
                return Err(format!("{why} (see TROUBLESHOOTING.md#seed-hook-failed)"));
            }
        }
        Ok(())
    }

    fn skip_rest(&self, from: usize, why: &str) {
        for r in self.reports.lock().iter_mut().skip(from) {
            r.state = HookState::Skipped;
            r.detail = Some(why.to_owned());
        }
    }
}

/// One line for the terminal: `hook orders: ok in 0.3s`, `hook x failed with exit code 3 …`.
pub fn summary(r: &HookReport) -> String {
    let took = r
        .elapsed_ms
        .map(|ms| format!(" in {:.1}s", ms as f64 / 1000.0))
        .unwrap_or_default();
    match r.state {
        HookState::Ok => format!("hook {}: ok{took}", r.name),
        HookState::Pending | HookState::Running | HookState::Skipped => format!(
            "hook {}: {}",
            r.name,
            r.detail.as_deref().unwrap_or("not run")
        ),
        HookState::Failed | HookState::TimedOut => format!(
            "hook {} {}{took} ({}; see {}; last lines: {})",
            r.name,
            r.detail.as_deref().unwrap_or("failed"),
            if r.blocking {
                "blocking"
            } else {
                "not blocking: the stack keeps running"
            },
            r.log_file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            r.tail[r.tail.len().saturating_sub(3)..].join(" | ")
        ),
    }
}

fn pending(h: &HookSection) -> HookReport {
    HookReport {
        name: h.name.clone(),
        command: h.command.clone(),
        blocking: h.blocking,
        state: HookState::Pending,
        exit_code: None,
        elapsed_ms: None,
        detail: None,
        tail: Vec::new(),
        log_file: None,
    }
}

/// The environment hooks get: the manifest's variables (`.env.e2e`) plus where that file is.
pub fn manifest_env(manifest: &seed::Manifest, out_dir: &Path) -> BTreeMap<String, String> {
    let (manifest_path, env_path) = seed::output_paths(out_dir);
    let absolute = |p: PathBuf| std::path::absolute(&p).unwrap_or(p);
    let mut env: BTreeMap<String, String> = manifest
        .env_vars(&absolute(manifest_path))
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
        .collect();
    env.insert(
        "HIPPODROME_ENV_FILE".into(),
        absolute(env_path).display().to_string(),
    );
    env
}

/// Kills the hook's process group if the future running it is dropped (Ctrl+C during the seed).
struct GroupGuard(Option<u32>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pgid) = self.0.take() {
            signal::signal_group(pgid, nix::sys::signal::Signal::SIGTERM);
            signal::signal_group(pgid, nix::sys::signal::Signal::SIGCONT);
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    signal::terminate_group(pgid, GRACE).await;
                });
            }
        }
    }
}

async fn run_one(
    hook: &HookSection,
    project_root: &Path,
    env: &BTreeMap<String, String>,
    logs: &RunLogs,
    echo: bool,
    width: usize,
) -> HookReport {
    let mut report = pending(hook);
    let tag = format!("seed-hook-{}", hook.name);
    let log_file = logs.file_of(&tag);
    report.log_file = Some(log_file.clone());
    let sink = LogSink::new(&tag, log_file, echo, width);
    let mut vars = env.clone();
    vars.insert("HIPPODROME_SEED_HOOK".into(), hook.name.clone());
    vars.extend(hook.env.clone());
    // Spawned exactly like a service: own process group, parent-death signal, piped output.
    let spec = ServiceSpec {
        name: tag.clone(),
        port: None,
        layer: 0,
        argv: hook.command.clone(),
        cwd: Some(
            hook.cwd
                .as_ref()
                .map(|c| project_root.join(c))
                .unwrap_or_else(|| project_root.to_path_buf()),
        ),
        env: vars,
        health: Health::Process,
        blocking: hook.blocking,
        auto_restart: false,
        setup: None,
        skip: None,
        builtin: false,
    };
    let started = Instant::now();
    sink.line(&format!(
        "[hippodrome] seed hook: {}",
        hook.command.join(" ")
    ));
    let mut child = match spawn::spawn(&spec, &BTreeMap::new(), true) {
        Ok(c) => c,
        Err(e) => {
            let program = hook.command.first().cloned().unwrap_or_default();
            report.state = HookState::Failed;
            report.detail = Some(format!("could not start `{program}`: {e}"));
            sink.line(&format!(
                "[hippodrome] {}",
                report.detail.as_deref().unwrap_or("")
            ));
            report.tail = sink.tail(TAIL);
            return report;
        }
    };
    let mut guard = GroupGuard(child.id());
    let pumps: Vec<_> = [
        child.stdout.take().map(|o| sink.pump(o)),
        child.stderr.take().map(|e| sink.pump(e)),
    ]
    .into_iter()
    .flatten()
    .collect();
    let timeout = Duration::from_secs(hook.timeout_s);
    let waited = tokio::time::timeout(timeout, child.wait()).await;
    // Anything the hook left behind in its group goes with it.
    if let Some(pgid) = guard.0.take() {
        signal::terminate_group(pgid, GRACE).await;
    }
    if waited.is_err() {
        let _ = child.wait().await;
    }
    // A grandchild that escaped the group could hold the pipes open: don't wait for it forever.
    for p in pumps {
        let _ = tokio::time::timeout(Duration::from_secs(1), p).await;
    }
    report.elapsed_ms = Some(started.elapsed().as_millis() as u64);
    match waited {
        Err(_) => {
            report.state = HookState::TimedOut;
            report.detail = Some(format!("timed out after {}s; killed", hook.timeout_s));
        }
        Ok(Err(e)) => {
            report.state = HookState::Failed;
            report.detail = Some(format!("could not be waited for: {e}"));
        }
        Ok(Ok(status)) => {
            let code = crate::supervisor::exit_code(status);
            report.exit_code = Some(code);
            if code == 0 {
                report.state = HookState::Ok;
            } else {
                report.state = HookState::Failed;
                report.detail = Some(format!("failed with exit code {code}"));
            }
        }
    }
    let outcome = report.detail.as_deref().unwrap_or("finished");
    sink.line(&format!(
        "[hippodrome] seed hook {} {outcome} in {:.1}s",
        hook.name,
        started.elapsed().as_secs_f64()
    ));
    let lines: Vec<String> = sink
        .tail(TAIL + 2)
        .into_iter()
        .filter(|l| !l.starts_with("[hippodrome] seed hook"))
        .collect();
    report.tail = lines[lines.len().saturating_sub(TAIL)..].to_vec();
    report
}
