//! Replaying a recording into moto from here instead of through moto's `replay-recording`
//! (which opens one `requests` connection per call inside moto's own Python process, competing
//! with the handlers for the interpreter): one pooled keep-alive client, each recorded request
//! sent unchanged (method, path and query, headers, body) to moto itself, past the gateway.
//!
//! Order is kept everywhere except in one case where it provably cannot matter. The rule:
//! consecutive DynamoDB item writes (`PutItem`, `UpdateItem`, `DeleteItem`, a one-table
//! `BatchWriteItem`) run as one chain per table, the chains concurrently, when each table is
//! standalone (`tables.rs`: created in this recording without a stream, and no other call —
//! `UpdateTable`, TTL, tags, transactions, Kinesis destinations… — names it). Within a table the order stays, because moto keeps items in
//! insertion order (a `Scan` would show a reordering) and conditions read earlier writes; across
//! such tables no write can see another (no stream, no trigger, no replica). Everything else —
//! creates, deletes, streamed tables, S3, SQS, Step Functions — replays one call at a time.

use std::collections::BTreeMap;

use anyhow::{Context as _, bail};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

use super::recording::{body_bytes, operation, path_and_query};
use super::tables::{self, TableCall, independent_tables};

/// At most this many table chains at once (moto is one Python process).
const CHAINS_AT_ONCE: usize = 4;

/// One recorded request, ready to send.
#[derive(Clone, Debug)]
pub struct Call {
    method: reqwest::Method,
    path_and_query: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// What the replay does, in order.
#[derive(Debug)]
pub enum Step {
    One(Call),
    /// Per-table chains that may run side by side.
    Chains(Vec<Vec<Call>>),
    /// A `StartExecution` left out: its tasks' calls are in the recording already.
    NotRerun,
}

/// Whether `entry` starts a Step Functions execution, which moto's engine would run again.
pub fn starts_execution(entry: &Value) -> bool {
    operation(entry)
        .is_some_and(|op| matches!(op.as_str(), "StartExecution" | "StartSyncExecution"))
}

/// How a replay went: calls sent, and those moto refused (as the original may have been).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Replayed {
    pub calls: usize,
    pub refused: usize,
    pub concurrent: usize,
    /// Executions not started again.
    pub executions: usize,
}

/// Headers that describe the recorded connection, not the request.
const DROPPED: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "expect",
];

fn call_of(entry: &Value) -> anyhow::Result<Call> {
    let method = entry["method"].as_str().unwrap_or("POST");
    let method = reqwest::Method::from_bytes(method.as_bytes())
        .with_context(|| format!("recorded method {method:?}"))?;
    let mut headers = HeaderMap::new();
    for (k, v) in entry["headers"].as_object().into_iter().flatten() {
        if DROPPED.iter().any(|d| k.eq_ignore_ascii_case(d)) {
            continue;
        }
        let (Ok(name), Some(Ok(value))) = (
            HeaderName::from_bytes(k.as_bytes()),
            v.as_str().map(HeaderValue::from_str),
        ) else {
            continue;
        };
        headers.append(name, value);
    }
    Ok(Call {
        method,
        path_and_query: path_and_query(entry).to_owned(),
        headers,
        body: body_bytes(entry),
    })
}

/// The recording as steps: see the module doc for when calls may run side by side.
pub fn plan(recording: &str) -> anyhow::Result<Vec<Step>> {
    let entries = tables::parse(recording)?;
    let independent = independent_tables(&entries);
    let mut steps = Vec::new();
    let mut chains: BTreeMap<String, Vec<Call>> = BTreeMap::new();
    for (entry, body) in &entries {
        if starts_execution(entry) {
            steps.push(Step::NotRerun);
            continue;
        }
        let call = call_of(entry)?;
        let item_write = match tables::table_call(entry, body) {
            Some(TableCall::ItemWrite(t)) if independent.contains(&t) => Some(t),
            _ => None,
        };
        match item_write {
            Some(table) => chains.entry(table).or_default().push(call),
            None => {
                flush(&mut chains, &mut steps);
                steps.push(Step::One(call));
            }
        }
    }
    flush(&mut chains, &mut steps);
    Ok(steps)
}

fn flush(chains: &mut BTreeMap<String, Vec<Call>>, steps: &mut Vec<Step>) {
    if chains.is_empty() {
        return;
    }
    let all: Vec<Vec<Call>> = std::mem::take(chains).into_values().collect();
    if all.len() == 1 {
        steps.extend(all.into_iter().flatten().map(Step::One));
    } else {
        steps.push(Step::Chains(all));
    }
}

/// A DynamoDB call of our own (the restore's `DeleteTable`): moto routes it by the credential
/// scope and does not check the signature.
pub fn dynamodb(op: &str, body: &Value) -> Call {
    let mut headers = HeaderMap::new();
    let pairs = [
        ("x-amz-target", format!("DynamoDB_20120810.{op}")),
        ("content-type", "application/x-amz-json-1.0".to_owned()),
        (
            "authorization",
            "AWS4-HMAC-SHA256 Credential=hippodrome/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0".to_owned(),
        ),
    ];
    for (k, v) in pairs {
        if let Ok(v) = HeaderValue::from_str(&v) {
            headers.insert(k, v);
        }
    }
    Call {
        method: reqwest::Method::POST,
        path_and_query: "/".into(),
        headers,
        body: body.to_string().into_bytes(),
    }
}

/// Send one call; whether moto accepted it.
async fn send(http: &reqwest::Client, base: &str, call: &Call) -> anyhow::Result<bool> {
    let url = format!("{base}{}", call.path_and_query);
    let res = http
        .request(call.method.clone(), &url)
        .headers(call.headers.clone())
        .body(call.body.clone())
        .timeout(std::time::Duration::from_secs(60))
        .send()
        .await
        .with_context(|| format!("replaying {} {url}: moto did not answer", call.method))?;
    let ok = res.status().is_success();
    // Drain the body so the connection goes back to the pool.
    let _ = res.bytes().await;
    Ok(ok)
}

async fn run_chain(http: reqwest::Client, base: String, chain: Vec<Call>) -> anyhow::Result<usize> {
    let mut refused = 0;
    for call in &chain {
        refused += usize::from(!send(&http, &base, call).await?);
    }
    Ok(refused)
}

/// Replay `steps` into moto at `base`.
pub async fn run(http: &reqwest::Client, base: &str, steps: Vec<Step>) -> anyhow::Result<Replayed> {
    let mut done = Replayed::default();
    for step in steps {
        match step {
            Step::One(call) => {
                done.calls += 1;
                done.refused += usize::from(!send(http, base, &call).await?);
            }
            Step::NotRerun => done.executions += 1,
            Step::Chains(chains) => {
                let mut pending = chains.into_iter();
                let mut running = tokio::task::JoinSet::new();
                loop {
                    while running.len() < CHAINS_AT_ONCE
                        && let Some(chain) = pending.next()
                    {
                        done.calls += chain.len();
                        done.concurrent += chain.len();
                        running.spawn(run_chain(http.clone(), base.to_owned(), chain));
                    }
                    let Some(joined) = running.join_next().await else {
                        break;
                    };
                    match joined {
                        Ok(r) => done.refused += r?,
                        Err(e) => bail!("a replay task failed: {e}"),
                    }
                }
            }
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::super::recording::tests::{ddb, line};
    use super::*;
    use serde_json::json;

    fn shape(steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .map(|s| match s {
                Step::One(_) => "1".to_owned(),
                Step::NotRerun => "-".to_owned(),
                Step::Chains(c) => c
                    .iter()
                    .map(|c| c.len().to_string())
                    .collect::<Vec<_>>()
                    .join("+"),
            })
            .collect()
    }

    #[test]
    fn executions_are_left_out_and_engine_settings_replay_in_order() {
        let sfn = |op: &str| {
            line(
                "POST",
                "http://127.0.0.1:9003/",
                Some(&format!("AWSStepFunctions.{op}")),
                "{}",
            )
        };
        let engine = line(
            "POST",
            "http://127.0.0.1:9003/moto-api/config",
            None,
            r#"{"stepfunctions": {"execute_state_machine": true}}"#,
        );
        let rec = [
            engine,
            sfn("CreateStateMachine"),
            sfn("StartExecution"),
            sfn("StartSyncExecution"),
            ddb("PutItem", json!({"TableName": "t", "Item": {}})),
        ]
        .join("\n");
        let steps = plan(&rec).unwrap();
        assert_eq!(shape(&steps), ["1", "1", "-", "-", "1"]);
        let Step::One(first) = &steps[0] else {
            panic!("{:?}", steps[0])
        };
        assert_eq!(first.path_and_query, "/moto-api/config");
    }

    #[test]
    fn only_item_writes_to_distinct_unstreamed_tables_run_side_by_side() {
        let put = |t: &str| ddb("PutItem", json!({"TableName": t, "Item": {}}));
        let batch = |t: &str| ddb("BatchWriteItem", json!({"RequestItems": {t: []}}));
        let rec = [
            ddb("CreateTable", json!({"TableName": "a"})),
            ddb("CreateTable", json!({"TableName": "b"})),
            ddb(
                "CreateTable",
                json!({"TableName": "s", "StreamSpecification": {"StreamEnabled": true}}),
            ),
            ddb("CreateTable", json!({"TableName": "t"})),
            ddb("UpdateTimeToLive", json!({"TableName": "t"})),
            put("a"),
            batch("b"),
            put("a"),
            put("s"),
            batch("a"),
            put("t"),
            put("b"),
            put("missing"),
            ddb(
                "BatchWriteItem",
                json!({"RequestItems": {"t": [], "missing": []}}),
            ),
            line("PUT", "http://127.0.0.1:9003/bucket", None, ""),
        ]
        .join("\n");
        let steps = plan(&rec).unwrap();
        assert_eq!(
            shape(&steps),
            // 5 creates/config; a,b side by side; s alone; a alone (one chain is just calls);
            // t (named by UpdateTimeToLive) alone; b alone; unknown table; two-table batch; S3.
            [
                "1", "1", "1", "1", "1", "2+1", "1", "1", "1", "1", "1", "1", "1"
            ]
        );
    }

    #[test]
    fn recorded_headers_go_out_unchanged_but_for_the_connection_ones() {
        let mut e: Value = serde_json::from_str(&ddb("PutItem", json!({}))).unwrap();
        e["headers"]["Content-Length"] = json!("2");
        e["headers"]["Authorization"] =
            json!("AWS4-HMAC-SHA256 Credential=x/y/us-east-1/dynamodb/aws4_request");
        let c = call_of(&e).unwrap();
        assert!(c.headers.get("content-length").is_none());
        assert!(c.headers.get("authorization").is_some());
        assert_eq!(c.headers["host"], "127.0.0.1:9003");
        assert_eq!(c.path_and_query, "/");
        assert_eq!(c.body, b"{}");
    }
}
