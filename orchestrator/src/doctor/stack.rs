//! A running stack of this project, seen through its dashboard: each service's status and last
//! probe (`/api/status`), and the seed's result (`/api/stack`, `/api/seed`) — a stack whose
//! services are all running but whose seed failed is not usable, and `wait` says so too.

use serde_json::Value;

use super::{Check, Inputs};
use crate::dashboard::SeedStatus;

/// A running stack's health per service, from the dashboard's `/api/status`, then its seed.
pub async fn health(i: &Inputs) -> Vec<Check> {
    let Some(run) = i.run.as_ref().filter(|r| r.orchestrator_alive()) else {
        return vec![Check::ok(
            "stack",
            "no stack is running for this project; health not checked",
        )];
    };
    let url = format!("http://127.0.0.1:{}/api/status", run.dashboard_port);
    let v = match crate::commands::stack::get_json(&url).await {
        Ok(v) => v,
        Err(e) => {
            return vec![Check::fail(
                "stack",
                format!(
                    "the orchestrator (pid {}) runs but its dashboard {url} does not answer: {e}",
                    run.orchestrator_pid
                ),
                "`cargo run -p orchestrator -- stop` (or `kill`), then `up` again",
            )];
        }
    };
    let Some(map) = v.as_object() else {
        return vec![Check::fail(
            "stack",
            format!("unexpected /api/status answer: {v}"),
            "update the orchestrator and restart the stack",
        )];
    };
    let mut rows: Vec<(&String, &Value)> = map.iter().collect();
    rows.sort_by_key(|(name, s)| (s["layer"].as_u64().unwrap_or(9), (*name).clone()));
    let mut out = Vec::new();
    for (name, s) in rows {
        let status = s["status"].as_str().unwrap_or("?");
        let reason = s["reason"]
            .as_str()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        let probe = match (
            s["last_probe"]["ok"].as_bool(),
            s["last_probe"]["error_type"].as_str(),
        ) {
            (Some(false), Some(t)) => {
                let code = s["last_probe"]["status_code"]
                    .as_u64()
                    .map(|c| format!(" {c}"))
                    .unwrap_or_default();
                format!(" (last probe: {t}{code})")
            }
            _ => String::new(),
        };
        let blocking = s["blocking"].as_bool().unwrap_or(true);
        let line = format!("{name} is {status}{probe}{reason}");
        let logs = format!(
            "`cargo run -p orchestrator -- logs {name}`; then `cargo run -p orchestrator -- control restart {name}`"
        );
        out.push(match status {
            "running" | "skipped" | "stopped" => Check::ok("stack", line),
            "pending" | "starting" | "restarting" => Check::warn(
                "stack",
                line,
                format!("wait (`cargo run -p orchestrator -- wait`), or read {logs}"),
            ),
            _ if !blocking => Check::warn("stack", format!("{line} (non-blocking)"), logs),
            _ => Check::fail("stack", line, logs),
        });
    }
    out.extend(seed(run.dashboard_port).await);
    out
}

/// The seed's state; a failed seed names each failed group with its message, one line each.
async fn seed(dashboard_port: u16) -> Vec<Check> {
    let base = format!("http://127.0.0.1:{dashboard_port}");
    let stack = match crate::commands::stack::get_json(&format!("{base}/api/stack")).await {
        Ok(v) => v,
        Err(e) => {
            return vec![Check::warn(
                "seed",
                format!("cannot read the seed's state from {base}/api/stack: {e}"),
                "`cargo run -p orchestrator -- status`",
            )];
        }
    };
    let Ok(status) = serde_json::from_value::<SeedStatus>(stack["seed"].clone()) else {
        let other = stack["seed"]["state"].as_str().unwrap_or("?");
        return vec![Check::warn(
            "seed",
            format!("unknown seed state {other:?} in /api/stack"),
            "update the orchestrator and restart the stack",
        )];
    };
    let rerun = "`cargo run -p orchestrator -- seed` (it is idempotent; see TROUBLESHOOTING.md#seed-failed)";
    match status {
        SeedStatus::Done => {
            let manifest = crate::commands::stack::get_json(&format!("{base}/api/seed"))
                .await
                .ok()
                .and_then(|v| serde_json::from_value::<seed::Manifest>(v).ok());
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
