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
//!    order but for item writes to independent tables), with moto's Step Functions engine held
//!    off meanwhile so a replayed `StartExecution` does not run its Lambdas and writes again
//!    (their own calls are in the recording);
//! 4. the recording uploaded as moto's file, so later calls append to it and a later save covers
//!    the restored state too.
//!
//! Known limits: SQS receipt handles are random in moto, so a `DeleteMessage` replays against no
//! message; `ReceiveMessage` is not replayed (messages come back visible); replayed executions
//! stay as moto records an execution it does not run.

pub mod gate;
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

    /// Restore `recording` (see the module doc), with the gateway at `gateway` gated meanwhile;
    /// what was done, for the answer.
    pub async fn restore(&self, recording: &str, gateway: Option<&str>) -> anyhow::Result<Value> {
        let closed = match gateway {
            Some(g) => Some(gate::close(&self.http, g).await?),
            None => None,
        };
        let outcome = self.restore_gated(recording).await;
        if let Some(c) = closed
            && let Err(e) = c.open().await
        {
            tracing::warn!(error = %format!("{e:#}"), "the AWS gateway's restore gate opens by itself when its lease ends");
        }
        outcome
    }

    async fn restore_gated(&self, recording: &str) -> anyhow::Result<Value> {
        let calls = recording.lines().filter(|l| !l.trim().is_empty()).count();
        let live = self.live().await?;
        let partial = partial::plan(&live, recording);
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
        let engine = runs_executions(recording) && self.engine(None).await?;
        if engine {
            self.engine(Some(false)).await?;
        }
        self.post("/moto-api/reset", None).await?;
        let replayed = replay::run(&self.http, &self.base, steps).await;
        // The engine first: moto records the config call, and the upload must come last so the
        // file is exactly `recording` (what `unchanged_since_restore` looks for).
        let engine_back = match engine {
            true => self.engine(Some(true)).await.map(drop),
            false => Ok(()),
        };
        let uploaded = self
            .post(
                "/moto-api/recorder/upload-recording",
                Some(recording.to_owned()),
            )
            .await;
        let done = replayed?;
        engine_back?;
        uploaded?;
        Ok(json!({
            "calls": calls, "replayed": done.calls, "refused": done.refused,
            "concurrent": done.concurrent,
        }))
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

    /// moto's Step Functions engine: set it on or off, or (`None`) whether it is on.
    async fn engine(&self, set: Option<bool>) -> anyhow::Result<bool> {
        let (method, body) = match set {
            Some(on) => (
                reqwest::Method::POST,
                Some(json!({"stepfunctions": {"execute_state_machine": on}}).to_string()),
            ),
            None => (reqwest::Method::GET, None),
        };
        let text = self
            .call(method, "/moto-api/config", body, Duration::from_secs(10))
            .await?;
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(v["stepfunctions"]["execute_state_machine"].as_bool() == Some(true))
    }

    /// Tables, queues, buckets… as counts for `snapshot diff`: the recording's creates.
    pub async fn summary(&self) -> anyhow::Result<Value> {
        Ok(summarise(&self.save().await?))
    }
}

/// Whether replaying `recording` would start Step Functions executions.
fn runs_executions(recording: &str) -> bool {
    recording.contains("AWSStepFunctions.StartExecution")
        || recording.contains("AWSStepFunctions.StartSyncExecution")
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
