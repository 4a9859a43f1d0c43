//! moto's part of a snapshot, through what moto itself offers: its recorder. moto runs with
//! `MOTO_ENABLE_RECORDING` and `MOTO_RECORDER_FILEPATH` in the stack's state dir (truncated at
//! every moto start, since moto's state dies with its process), so the recording is every request
//! since moto started. Save downloads it and keeps only the calls that change something (reads
//! such as `Get*`/`Describe*`/`List*`/`Query`/`Scan`, any `GET`/`HEAD`, and everything before the
//! last `/moto-api/reset` are dropped, so a replay stays short). Restore is `POST /moto-api/reset`,
//! `upload-recording`, `replay-recording` (moto re-sends each request to the host the replay was
//! asked on, with recording off); the uploaded file stays the recording, so later calls append to
//! it and a later save covers the restored state too.
//!
//! Known limit: SQS receipt handles are random in moto, so a `DeleteMessage` replays against no
//! message; `ReceiveMessage` is not replayed (messages come back visible).

use std::time::Duration;

use anyhow::{Context as _, bail};
use base64::Engine as _;
use serde_json::Value;

use crate::services::ServiceSpec;

/// The recording's file name in the state dir.
pub const RECORDING: &str = "moto-recording.jsonl";

/// Operations named like these only read.
const READ_PREFIXES: &[&str] = &[
    "Get", "Describe", "List", "Query", "Scan", "Head", "BatchGet", "Search", "Lookup", "Receive",
    "Validate", "Test", "Estimate", "Preview", "Simulate", "Check",
];

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

/// The operation a recorded request names: `X-Amz-Target`'s last part, or the query protocol's
/// `Action` (query string or form body).
fn operation(entry: &Value) -> Option<String> {
    if let Some(headers) = entry["headers"].as_object() {
        for (k, v) in headers {
            if k.eq_ignore_ascii_case("x-amz-target") {
                return v.as_str()?.rsplit('.').next().map(str::to_owned);
            }
        }
    }
    let url = entry["url"].as_str().unwrap_or_default();
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let body = body_text(entry);
    [query, body.as_str()]
        .iter()
        .flat_map(|s| s.split('&'))
        .find_map(|kv| kv.strip_prefix("Action="))
        .map(str::to_owned)
}

fn body_text(entry: &Value) -> String {
    let body = entry["body"].as_str().unwrap_or_default();
    if entry["body_encoded"].as_bool() == Some(true) {
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    } else {
        body.to_owned()
    }
}

fn path_of(entry: &Value) -> &str {
    let url = entry["url"].as_str().unwrap_or_default();
    let after_scheme = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let path = after_scheme
        .find('/')
        .map(|i| &after_scheme[i..])
        .unwrap_or("/");
    path.split('?').next().unwrap_or(path)
}

/// Whether replaying `entry` changes moto's state.
fn mutates(entry: &Value) -> bool {
    let method = entry["method"].as_str().unwrap_or_default();
    if matches!(method, "GET" | "HEAD" | "OPTIONS") || path_of(entry).starts_with("/moto-api/") {
        return false;
    }
    match operation(entry) {
        Some(op) => !READ_PREFIXES.iter().any(|p| reads(&op, p)),
        None => true,
    }
}

/// `op` is `prefix` or `prefix` followed by a capitalised word (`GetItem`, not `Getaway`).
fn reads(op: &str, prefix: &str) -> bool {
    op.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(char::is_uppercase))
}

/// Keep the state-changing requests after the last reset, one JSON line each.
pub fn filter_recording(raw: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for line in raw.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(entry) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if path_of(&entry) == "/moto-api/reset" {
            kept.clear();
        } else if mutates(&entry) {
            kept.push(line);
        }
    }
    let mut out = kept.join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// moto's recorder API at `base` (moto itself, not the gateway: the replay goes where it is asked).
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
        path: &str,
        body: Option<String>,
        timeout: Duration,
    ) -> anyhow::Result<String> {
        let url = format!("{}{path}", self.base);
        let mut req = self.http.post(&url).timeout(timeout);
        if path.ends_with("download-recording") {
            req = self.http.get(&url).timeout(timeout);
        }
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

    /// The state-changing part of the recording.
    pub async fn save(&self) -> anyhow::Result<String> {
        let raw = self
            .call(
                "/moto-api/recorder/download-recording",
                None,
                Duration::from_secs(60),
            )
            .await?;
        Ok(filter_recording(&raw))
    }

    /// Reset moto and replay `recording`; the number of requests replayed.
    pub async fn restore(&self, recording: &str) -> anyhow::Result<usize> {
        self.call("/moto-api/reset", None, Duration::from_secs(30))
            .await?;
        self.call(
            "/moto-api/recorder/upload-recording",
            Some(recording.to_owned()),
            Duration::from_secs(60),
        )
        .await?;
        if !recording.is_empty() {
            self.call(
                "/moto-api/recorder/replay-recording",
                None,
                Duration::from_secs(600),
            )
            .await?;
        }
        Ok(recording.lines().count())
    }

    /// Tables, queues, buckets… as counts for `snapshot diff`: the recording's creates.
    pub async fn summary(&self) -> anyhow::Result<Value> {
        let raw = self
            .call(
                "/moto-api/recorder/download-recording",
                None,
                Duration::from_secs(60),
            )
            .await?;
        Ok(summarise(&filter_recording(&raw)))
    }
}

/// Per operation, how many state-changing calls the recording holds (`CreateTable: 3`,
/// `PutItem: 120`, `PUT /bucket/key` for REST calls).
pub fn summarise(recording: &str) -> Value {
    let mut ops = std::collections::BTreeMap::<String, u64>::new();
    for line in recording.lines() {
        let Ok(entry) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let op = operation(&entry).unwrap_or_else(|| {
            let path = path_of(&entry);
            let depth = if path.matches('/').count() > 1 {
                "object"
            } else {
                "bucket"
            };
            format!("{} {depth}", entry["method"].as_str().unwrap_or("?"))
        });
        *ops.entry(op).or_default() += 1;
    }
    serde_json::json!({ "calls": ops.values().sum::<u64>(), "operations": ops })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn line(method: &str, url: &str, target: Option<&str>, body: &str) -> String {
        let mut headers = json!({"Host": "127.0.0.1:9003"});
        if let Some(t) = target {
            headers["X-Amz-Target"] = json!(t);
        }
        let b64 = base64::engine::general_purpose::STANDARD.encode(body);
        json!({"headers": headers, "method": method, "url": url, "body": b64, "body_encoded": true})
            .to_string()
    }

    #[test]
    fn only_state_changing_calls_after_the_last_reset_are_kept() {
        let u = "http://127.0.0.1:9003/";
        let raw = [
            line("POST", u, Some("DynamoDB_20120810.CreateTable"), "{}"),
            line("POST", "http://127.0.0.1:9003/moto-api/reset", None, ""),
            line("POST", u, Some("DynamoDB_20120810.CreateTable"), "{}"),
            line("POST", u, Some("DynamoDB_20120810.PutItem"), "{}"),
            line("POST", u, Some("DynamoDB_20120810.GetItem"), "{}"),
            line("POST", u, Some("DynamoDB_20120810.Query"), "{}"),
            line("POST", u, Some("DynamoDB_20120810.Scan"), "{}"),
            line("POST", u, None, "Action=CreateQueue&QueueName=q"),
            line("POST", u, None, "Action=GetQueueUrl&QueueName=q"),
            line("POST", u, None, "Action=ReceiveMessage"),
            line("PUT", "http://127.0.0.1:9003/bucket", None, ""),
            line(
                "PUT",
                "http://127.0.0.1:9003/bucket/key?x-id=PutObject",
                None,
                "data",
            ),
            line("GET", "http://127.0.0.1:9003/bucket/key", None, ""),
            line("HEAD", "http://127.0.0.1:9003/bucket", None, ""),
            line("GET", "http://127.0.0.1:9003/moto-api/data.json", None, ""),
        ]
        .join("\n");
        let kept = filter_recording(&raw);
        let s = summarise(&kept);
        assert_eq!(s["calls"], 5, "{s}");
        assert_eq!(s["operations"]["CreateTable"], 1);
        assert_eq!(s["operations"]["PutItem"], 1);
        assert_eq!(s["operations"]["CreateQueue"], 1);
        assert_eq!(s["operations"]["PUT bucket"], 1);
        assert_eq!(s["operations"]["PUT object"], 1);
    }

    #[test]
    fn operation_names_that_merely_start_like_a_read_are_kept() {
        let u = "http://127.0.0.1:9003/";
        // "Tag…" and "Update…" change state; "Get" must be a whole word at the start.
        for op in ["TagResource", "UpdateItem", "Getaway", "ListenerCreate"] {
            let raw = line("POST", u, Some(&format!("X.{op}")), "{}");
            assert_eq!(filter_recording(&raw).lines().count(), 1, "{op}");
        }
    }

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
