//! moto's part of a snapshot, through what moto itself offers: its recorder. moto runs with
//! `MOTO_ENABLE_RECORDING` and `MOTO_RECORDER_FILEPATH` in the stack's state dir (truncated at
//! every moto start, since moto's state dies with its process), so the recording is every request
//! since moto started. Save downloads it and keeps only the calls that change something
//! (`recording.rs`). Restore, with the AWS gateway's gate closed (`gate.rs`) so no client sees a
//! half-replayed moto:
//! 1. nothing at all when moto is provably still as the snapshot has it (the live recording is
//!    the snapshot's followed only by reads: `unchanged_since_restore`, `partial.rs`);
//! 2. only the standalone DynamoDB tables written since, deleted and replayed, when nothing
//!    else changed (`partial.rs`);
//! 3. else `POST /moto-api/reset` and the replay (`replay.rs`: one keep-alive client, calls in
//!    order but for item writes to independent tables). moto's Step Functions engine settings
//!    replay in order too (the engine decides which of moto's two backends a state machine
//!    lands in), but `StartExecution` does not: its tasks' own calls are in the recording, and a
//!    re-run would invoke the team's Lambdas and write everything a second time;
//!    then what the replay cannot bring back put right from the part saved beside the recording
//!    (`live.rs`: SQS messages consumed and mappings deleted before the snapshot);
//! 4. the recording uploaded as moto's file, so later calls append to it and a later save covers
//!    the restored state too.
//!
//! Known limits: `ReceiveMessage` is not replayed (a message in flight at save time comes back
//! visible); a kept event source mapping has a new UUID; replayed executions stay as moto
//! records an execution it does not run.

pub mod gate;
pub mod live;
pub mod partial;
pub mod recording;
pub mod replay;
pub mod tables;

use std::time::Duration;

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use crate::services::ServiceSpec;
pub use recording::{filter_recording, summarise};

/// The recording's file name in the state dir.
pub const RECORDING: &str = "moto-recording.jsonl";

/// Record moto's requests into `path`, emptied whenever moto (re)starts.
pub fn record_into(moto: &mut ServiceSpec, path: &str) {
    moto.env
        .insert("MOTO_ENABLE_RECORDING".into(), "True".into());
    moto.env
        .insert("MOTO_RECORDER_FILEPATH".into(), path.into());
    let mut argv = vec![
        "sh".to_string(),
        "-c".into(),
        r#"mkdir -p "$(dirname "$MOTO_RECORDER_FILEPATH")" && : > "$MOTO_RECORDER_FILEPATH" && exec "$@""#
            .into(),
        "moto".into(),
    ];
    argv.append(&mut moto.argv);
    moto.argv = argv;
}

/// moto's recorder API at `base` (moto itself, not the gateway: the replay goes there directly).
pub struct Recorder {
    base: String,
    http: reqwest::Client,
}

impl Recorder {
    pub fn new(base: &str, http: reqwest::Client) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            http,
        }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<String>,
        timeout: Duration,
    ) -> anyhow::Result<String> {
        let url = format!("{}{path}", self.base);
        let mut req = self.http.request(method, &url).timeout(timeout);
        if let Some(b) = body {
            req = req.body(b);
        }
        let res = req
            .send()
            .await
            .with_context(|| format!("moto at {url} did not answer"))?;
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        if !status.is_success() {
            bail!(
                "moto answered {status} to {path}: {}",
                text.chars().take(300).collect::<String>()
            );
        }
        Ok(text)
    }

    async fn post(&self, path: &str, body: Option<String>) -> anyhow::Result<String> {
        self.call(reqwest::Method::POST, path, body, Duration::from_secs(60))
            .await
    }

    /// Every request moto recorded since it started or since the last restore.
    async fn live(&self) -> anyhow::Result<String> {
        self.call(
            reqwest::Method::GET,
            "/moto-api/recorder/download-recording",
            None,
            Duration::from_secs(60),
        )
        .await
    }

    /// The state-changing part of the recording.
    pub async fn save(&self) -> anyhow::Result<String> {
        Ok(filter_recording(&self.live().await?))
    }

    /// The recording and what a replay of it cannot bring back (`live.rs`).
    pub async fn save_with_live(&self) -> anyhow::Result<(String, live::Live)> {
        let recording = self.save().await?;
        let held = live::read(&self.base, &recording).await?;
        Ok((recording, held))
    }

    /// Restore `recording` (see the module doc) and, after a full replay, `held`, with the
    /// gateway at `gateway` gated meanwhile; what was done, for the answer.
    pub async fn restore(
        &self,
        recording: &str,
        held: Option<&live::Live>,
        gateway: Option<&str>,
    ) -> anyhow::Result<Value> {
        let closing = std::time::Instant::now();
        let closed = match gateway {
            Some(g) => Some(gate::close(&self.http, g).await?),
            None => None,
        };
        let gate_ms = closing.elapsed().as_millis() as u64;
        let mut outcome = self.restore_gated(recording, held).await;
        if let Ok(Value::Object(answer)) = &mut outcome
            && let Some(Value::Object(took)) = answer.get_mut("took_ms")
        {
            took.insert("gate".into(), gate_ms.into());
        }
        if let Some(c) = closed
            && let Err(e) = c.open().await
        {
            tracing::warn!(error = %format!("{e:#}"), "the AWS gateway's restore gate opens by itself when its lease ends");
        }
        outcome
    }

    async fn restore_gated(
        &self,
        recording: &str,
        held: Option<&live::Live>,
    ) -> anyhow::Result<Value> {
        let calls = recording.lines().filter(|l| !l.trim().is_empty()).count();
        let mut took = Phases::start();
        let live = self.live().await?;
        let partial = partial::plan(&live, recording);
        took.mark("plan");
        if recording::unchanged_since_restore(&live, recording)
            || partial.as_ref().is_some_and(|p| p.tables.is_empty())
        {
            return Ok(json!({ "calls": calls, "replayed": 0, "unchanged": true }));
        }
        if let Some(p) = partial {
            return self.rebuild_tables(recording, p, calls).await;
        }
        // A damaged recording fails here, before moto is touched.
        let steps = replay::plan(recording)?;
        // moto as it started (a reset leaves its config): the recording's own engine settings
        // replay in order, so every state machine lands in the backend it was created in.
        self.set_engine(false).await?;
        self.post("/moto-api/reset", None).await?;
        took.mark("reset");
        let replayed = replay::run(&self.http, &self.base, steps).await;
        took.mark("replay");
        let put_right = match (held, &replayed) {
            (Some(h), Ok(_)) => Some(live::put_right(&self.base, h).await),
            _ => None,
        };
        took.mark("put_right");
        // Last, so the file is exactly `recording` (what `unchanged_since_restore` looks for).
        let uploaded = self
            .post(
                "/moto-api/recorder/upload-recording",
                Some(recording.to_owned()),
            )
            .await;
        took.mark("upload");
        let done = replayed?;
        uploaded?;
        let mut answer = json!({
            "calls": calls, "replayed": done.calls, "refused": done.refused,
            "concurrent": done.concurrent, "executions_not_rerun": done.executions,
            "took_ms": took.into_json(),
        });
        if let Some(p) = put_right {
            answer["put_right"] = p.context("putting right what the replay cannot")?.to_json();
        }
        Ok(answer)
    }

    /// The partial restore: delete the tables changed since, replay the snapshot's calls on them.
    async fn rebuild_tables(
        &self,
        recording: &str,
        p: partial::Partial,
        calls: usize,
    ) -> anyhow::Result<Value> {
        let mut steps: Vec<replay::Step> = p
            .tables
            .iter()
            .map(|t| replay::Step::One(replay::dynamodb("DeleteTable", &json!({"TableName": t}))))
            .collect();
        steps.extend(replay::plan(&p.replay)?);
        let replayed = replay::run(&self.http, &self.base, steps).await;
        let uploaded = self
            .post(
                "/moto-api/recorder/upload-recording",
                Some(recording.to_owned()),
            )
            .await;
        let done = replayed?;
        uploaded?;
        Ok(json!({
            "calls": calls, "replayed": done.calls, "refused": done.refused,
            "concurrent": done.concurrent, "tables": p.tables,
        }))
    }

    /// Switch moto's Step Functions engine on or off.
    async fn set_engine(&self, on: bool) -> anyhow::Result<()> {
        let body = json!({"stepfunctions": {"execute_state_machine": on}}).to_string();
        self.call(
            reqwest::Method::POST,
            "/moto-api/config",
            Some(body),
            Duration::from_secs(10),
        )
        .await
        .map(drop)
    }

    /// Tables, queues, buckets… as counts for `snapshot diff`: the recording's creates.
    pub async fn summary(&self) -> anyhow::Result<Value> {
        Ok(summarise(&self.save().await?))
    }
}

/// Milliseconds per phase of a restore, for its answer (the bench prints them).
struct Phases {
    at: std::time::Instant,
    out: serde_json::Map<String, Value>,
}

impl Phases {
    fn start() -> Self {
        Phases {
            at: std::time::Instant::now(),
            out: serde_json::Map::new(),
        }
    }

    fn mark(&mut self, phase: &str) {
        let now = std::time::Instant::now();
        let ms = now.duration_since(self.at).as_millis() as u64;
        self.out.insert(phase.into(), ms.into());
        self.at = now;
    }

    fn into_json(self) -> Value {
        Value::Object(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moto_is_wrapped_so_each_start_begins_an_empty_recording() {
        let mut spec = ServiceSpec {
            name: "moto".into(),
            port: Some(1),
            layer: 0,
            argv: vec!["python".into()],
            cwd: None,
            env: Default::default(),
            health: crate::services::Health::Process,
            blocking: true,
            auto_restart: true,
            setup: None,
            skip: None,
            builtin: true,
        };
        record_into(&mut spec, "/tmp/x/moto-recording.jsonl");
        assert_eq!(spec.argv[0], "sh");
        assert_eq!(spec.argv.last().map(String::as_str), Some("python"));
        assert_eq!(spec.env["MOTO_ENABLE_RECORDING"], "True");
    }
}
