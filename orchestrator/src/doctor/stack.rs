//! A running stack of this project, seen through its dashboard: each service's status and last
//! probe (`/api/status`), and the seed's result (`/api/stack`, `/api/seed`) — a stack whose
//! services are all running but whose seed failed is not usable, and `wait` says so too.

use super::{Check, Inputs};
use crate::dashboard::{SeedStatus, ServiceView};
use crate::probe::Probe;
use crate::stack_client::{self, Dashboard};
use crate::supervisor::Status;

/// A running stack's health per service, from the dashboard's `/api/status`, then its seed.
pub async fn health(i: &Inputs) -> Vec<Check> {
    let Some(run) = i.run.as_ref().filter(|r| r.orchestrator_alive()) else {
        return vec![Check::ok(
            "stack",
            "no stack is running for this project; health not checked",
        )];
    };
    let dash = Dashboard::new(&format!("http://127.0.0.1:{}", run.dashboard_port));
    let services = match dash.status().await {
        Ok(v) => v,
        Err(e) if stack_client::is_bad_answer(&e) => {
            return vec![Check::fail(
                "stack",
                format!("{e:#}"),
                "update the orchestrator and restart the stack",
            )];
        }
        Err(e) => {
            return vec![Check::fail(
                "stack",
                format!(
                    "the orchestrator (pid {}) runs but its dashboard {} does not answer: {e}",
                    run.orchestrator_pid,
                    dash.url("/api/status")
                ),
                "`cargo run -p orchestrator -- stop` (or `kill`), then `up` again",
            )];
        }
    };
    // By layer, then by name (the map's order; the sort is stable).
    let mut rows: Vec<(&String, &ServiceView)> = services.iter().collect();
    rows.sort_by_key(|(_, s)| s.layer);
    let mut out: Vec<Check> = rows.into_iter().map(|(name, s)| service(name, s)).collect();
    out.extend(seed(&dash).await);
    out
}

/// One service's line: ok, worth waiting for, or broken (a warning when it is not blocking).
fn service(name: &str, s: &ServiceView) -> Check {
    let reason = s.reason().map(|r| format!(": {r}")).unwrap_or_default();
    let probe = match s.last_probe() {
        Some(Probe {
            ok: false,
            error_type: Some(t),
            status_code,
            ..
        }) => {
            let code = status_code.map(|c| format!(" {c}")).unwrap_or_default();
            format!(" (last probe: {t}{code})")
        }
        _ => String::new(),
    };
    let line = format!("{name} is {}{probe}{reason}", s.status.as_str());
    let logs = format!(
        "`cargo run -p orchestrator -- logs {name}`; then `cargo run -p orchestrator -- control restart {name}`"
    );
    match s.status {
        Status::Running | Status::Skipped | Status::Stopped => Check::ok("stack", line),
        Status::Pending | Status::Starting | Status::Restarting => Check::warn(
            "stack",
            line,
            format!("wait (`cargo run -p orchestrator -- wait`), or read {logs}"),
        ),
        _ if !s.blocking => Check::warn("stack", format!("{line} (non-blocking)"), logs),
        _ => Check::fail("stack", line, logs),
    }
}

/// The seed's state; a failed seed names each failed group with its message, one line each.
async fn seed(dash: &Dashboard) -> Vec<Check> {
    let status = match dash.stack().await {
        Ok(v) => v.seed,
        Err(e) if stack_client::is_bad_answer(&e) => {
            return vec![Check::warn(
                "seed",
                format!("{e:#}"),
                "update the orchestrator and restart the stack",
            )];
        }
        Err(e) => {
            return vec![Check::warn(
                "seed",
                format!(
                    "cannot read the seed's state from {}: {e}",
                    dash.url("/api/stack")
                ),
                "`cargo run -p orchestrator -- status`",
            )];
        }
    };
    let rerun = "`cargo run -p orchestrator -- seed` (it is idempotent; see TROUBLESHOOTING.md#seed-failed)";
    match status {
        SeedStatus::Done => {
            let manifest = dash.seed_manifest().await.ok();
            let counts = match manifest {
                Some(m) => format!(
                    ": {} accounts, {} users",
                    m.accounts.len(),
                    m.cognito.users.len()
                ),
                None => String::new(),
            };
            vec![Check::ok("seed", format!("the seed is done{counts}"))]
        }
        SeedStatus::Skipped => vec![Check::ok(
            "seed",
            "the seed was skipped (--no-seed); `cargo run -p orchestrator -- seed` seeds on demand",
        )],
        SeedStatus::Pending | SeedStatus::Running => vec![Check::warn(
            "seed",
            format!(
                "the seed is {}",
                if status == SeedStatus::Pending {
                    "pending"
                } else {
                    "running"
                }
            ),
            "wait (`cargo run -p orchestrator -- wait` returns when it is done)",
        )],
        SeedStatus::Failed(detail) => {
            let lines: Vec<&str> = detail
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            if lines.is_empty() {
                return vec![Check::fail("seed", "the seed failed", rerun)];
            }
            lines
                .into_iter()
                .map(|l| {
                    Check::fail(
                        "seed",
                        format!("the seed failed: {l}"),
                        format!("fix what it names, then {rerun}"),
                    )
                })
                .collect()
        }
    }
}
