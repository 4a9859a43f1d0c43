//! The local pipe: moto's DynamoDB streams → EventBridge envelopes → the same routing as a
//! webhook post. Production does this with EventBridge Pipes; moto stores pipe definitions but
//! never runs them, so we poll the streams ourselves (one task per followed table).
//!
//! - [`discover`]: a table's `LatestStreamArn` (tables may appear late or vanish with moto);
//! - [`follow`]: shard iterators and `GetRecords`, re-discovering on any error;
//! - [`cursor`]: at-most-once delivery per (stream ARN, shard, sequence number);
//! - [`to_event`]: the envelope.
//!
//! Also home of [`moto_sdk_config`], the SDK configuration the followers use (and the
//! orchestrator's `events` against an endpoint), a name for [`aws_local::sdk_config`].

pub mod cursor;
pub mod discover;
pub mod follow;
pub mod to_event;

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::SdkConfig;
use parking_lot::Mutex;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::AppState;
use crate::config::Config;

/// SDK configuration pointing at `endpoint` (moto): [`aws_local::sdk_config`] with its default
/// per-attempt timeout. Kept here because the orchestrator's `events` calls it by this name.
pub async fn moto_sdk_config(endpoint: &str, region: &str) -> SdkConfig {
    aws_local::sdk_config(endpoint, region, aws_local::DEFAULT_ATTEMPT_TIMEOUT).await
}

/// Where one followed table stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TableState {
    Starting,
    /// moto answers but the table does not exist (yet).
    WaitingForTable,
    /// The table exists without a stream.
    NoStream,
    Following,
    /// moto does not answer.
    MotoUnreachable,
    /// Any other error; the task re-discovers after a pause.
    Error,
}

/// Counters and status of one followed table.
#[derive(Debug, Clone, Serialize)]
pub struct TableStats {
    pub table: String,
    pub detail_name: String,
    pub status: TableState,
    pub stream_arn: Option<String>,
    pub records_seen: u64,
    pub delivered: u64,
    pub failed: u64,
    pub ignored: u64,
    pub duplicates_skipped: u64,
    /// Age of the newest record handled when it was handled; 0 once caught up.
    pub lag_ms: Option<f64>,
    pub streams_seen: u64,
    pub last_error: Option<String>,
}

/// Shared pipe status, read by `/events` and `/healthz`.
pub struct PipeStats {
    enabled: bool,
    moto_url: Option<String>,
    tables: Mutex<BTreeMap<String, TableStats>>,
}

impl PipeStats {
    pub fn new(config: &Config) -> Self {
        let enabled = config.moto_url.is_some();
        let mut tables = BTreeMap::new();
        if enabled {
            for p in config.effective_pipes() {
                let table = format!("{}{}", config.table_prefix, p.table_suffix);
                tables.insert(
                    table.clone(),
                    TableStats {
                        table,
                        detail_name: p.detail_name.clone(),
                        status: TableState::Starting,
                        stream_arn: None,
                        records_seen: 0,
                        delivered: 0,
                        failed: 0,
                        ignored: 0,
                        duplicates_skipped: 0,
                        lag_ms: None,
                        streams_seen: 0,
                        last_error: None,
                    },
                );
            }
        }
        PipeStats {
            enabled,
            moto_url: config.moto_url.clone(),
            tables: Mutex::new(tables),
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Apply `f` to one table's stats (a short lock, never held across I/O).
    pub fn update(&self, table: &str, f: impl FnOnce(&mut TableStats)) {
        if let Some(t) = self.tables.lock().get_mut(table) {
            f(t);
        }
    }

    pub fn tables(&self) -> Vec<TableStats> {
        self.tables.lock().values().cloned().collect()
    }

    /// The JSON shown under `"pipe"` in `/events` and in the `/healthz` check.
    pub fn snapshot(&self) -> Value {
        let tables = self.tables();
        if !self.enabled {
            return json!({"enabled": false, "status": "off", "tables": []});
        }
        let sum = |f: fn(&TableStats) -> u64| tables.iter().map(f).sum::<u64>();
        let lag = tables
            .iter()
            .filter_map(|t| t.lag_ms)
            .fold(None, |acc: Option<f64>, l| {
                Some(acc.map_or(l, |a| a.max(l)))
            });
        let status = if tables.iter().all(|t| t.status == TableState::Following) {
            "following"
        } else if tables
            .iter()
            .any(|t| matches!(t.status, TableState::MotoUnreachable | TableState::Error))
        {
            "error"
        } else {
            "waiting"
        };
        json!({
            "enabled": true,
            "status": status,
            "moto_url": self.moto_url,
            "records_seen": sum(|t| t.records_seen),
            "delivered": sum(|t| t.delivered),
            "failed": sum(|t| t.failed),
            "ignored": sum(|t| t.ignored),
            "duplicates_skipped": sum(|t| t.duplicates_skipped),
            "lag_ms": lag,
            "tables": tables,
        })
    }

    /// Publish into `/healthz`: degraded while moto is unreachable, `ok` otherwise.
    pub fn publish_health(&self, health: &service_kit::HealthState) {
        let snap = self.snapshot();
        let unreachable: Vec<String> = self
            .tables()
            .into_iter()
            .filter(|t| t.status == TableState::MotoUnreachable)
            .map(|t| {
                format!(
                    "{}: {}",
                    t.table,
                    t.last_error.unwrap_or_else(|| "unreachable".into())
                )
            })
            .collect();
        if unreachable.is_empty() {
            health.check_ok("pipe", snap);
        } else {
            health.check_failed(
                "pipe",
                format!(
                    "moto at {} unreachable ({}); records_seen={} delivered={} failed={}",
                    self.moto_url.as_deref().unwrap_or("?"),
                    unreachable.join("; "),
                    snap["records_seen"],
                    snap["delivered"],
                    snap["failed"],
                ),
            );
        }
    }
}

/// Start one follower per table plus the health publisher. Dropping the set stops them all.
pub async fn spawn(config: &Config, state: AppState) -> anyhow::Result<JoinSet<()>> {
    let mut set = JoinSet::new();
    {
        let state = state.clone();
        set.spawn(async move {
            loop {
                state.pipe().publish_health(state.health());
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
    }
    let Some(moto_url) = config.moto_url.clone() else {
        return Ok(set);
    };
    let sdk = moto_sdk_config(&moto_url, &config.region).await;
    let clients = follow::Clients::new(&sdk);
    for p in config.effective_pipes() {
        let table = follow::Followed {
            table: format!("{}{}", config.table_prefix, p.table_suffix),
            detail_name: p.detail_name,
            region: config.region.clone(),
            poll: config.pipe_poll(),
        };
        tracing::info!(table = %table.table, detail = %table.detail_name, %moto_url, "local pipe following table");
        set.spawn(follow::follow_table(clients.clone(), state.clone(), table));
    }
    Ok(set)
}
