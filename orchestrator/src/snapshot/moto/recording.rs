//! Reading moto's recording (one JSON line per request: `headers`, `method`, `url`, `body`,
//! `body_encoded`): which calls change state, the part a snapshot keeps, per-operation counts
//! for `diff`, and whether moto is still exactly as a restore left it.

use base64::Engine as _;
use serde_json::Value;

/// Operations named like these only read.
const READ_PREFIXES: &[&str] = &[
    "Get", "Describe", "List", "Query", "Scan", "Head", "BatchGet", "Search", "Lookup", "Receive",
    "Validate", "Test", "Estimate", "Preview", "Simulate", "Check",
];

/// Reads that still change what a later read sees: a received SQS message is invisible (and its
/// receive count up) until its visibility timeout; a taken activity task is gone.
const TOUCHING_READS: &[&str] = &["ReceiveMessage", "GetActivityTask"];

/// The operation a recorded request names: `X-Amz-Target`'s last part, or the query protocol's
/// `Action` (query string or form body).
pub fn operation(entry: &Value) -> Option<String> {
    if let Some(target) = header(entry, "x-amz-target") {
        return target.rsplit('.').next().map(str::to_owned);
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

/// A recorded header, by case-insensitive name.
pub fn header<'a>(entry: &'a Value, name: &str) -> Option<&'a str> {
    entry["headers"]
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
}

/// The request body as moto received it.
pub fn body_bytes(entry: &Value) -> Vec<u8> {
    let body = entry["body"].as_str().unwrap_or_default();
    if entry["body_encoded"].as_bool() == Some(true) {
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap_or_default()
    } else {
        body.as_bytes().to_vec()
    }
}

fn body_text(entry: &Value) -> String {
    String::from_utf8_lossy(&body_bytes(entry)).into_owned()
}

/// The recorded URL's path and query (`/bucket/key?x-id=PutObject`).
pub fn path_and_query(entry: &Value) -> &str {
    let url = entry["url"].as_str().unwrap_or_default();
    let after_scheme = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    after_scheme
        .find('/')
        .map(|i| &after_scheme[i..])
        .unwrap_or("/")
}

pub fn path_of(entry: &Value) -> &str {
    let pq = path_and_query(entry);
    pq.split('?').next().unwrap_or(pq)
}

fn is_read(entry: &Value) -> bool {
    let method = entry["method"].as_str().unwrap_or_default();
    matches!(method, "GET" | "HEAD" | "OPTIONS")
}

/// Whether replaying `entry` changes moto's state.
pub fn mutates(entry: &Value) -> bool {
    if is_read(entry) || path_of(entry).starts_with("/moto-api/") {
        return false;
    }
    match operation(entry) {
        Some(op) => !READ_PREFIXES.iter().any(|p| reads(&op, p)),
        None => true,
    }
}

/// Whether `entry` may have changed anything a client can see: a mutating call, a read that
/// still changes state, or a write to moto's own API (its config, reset, seed…).
pub fn touches(entry: &Value) -> bool {
    if mutates(entry) {
        return true;
    }
    if path_of(entry).starts_with("/moto-api/") {
        return !is_read(entry);
    }
    operation(entry).is_some_and(|op| TOUCHING_READS.contains(&op.as_str()))
}

/// `op` is `prefix` or `prefix` followed by a capitalised word (`GetItem`, not `Getaway`).
fn reads(op: &str, prefix: &str) -> bool {
    op.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(char::is_uppercase))
}

/// The lines a snapshot keeps, as a recording is read in order.
#[derive(Default)]
pub struct Kept<'a> {
    pub lines: Vec<&'a str>,
    setting: Option<&'a str>,
}

impl<'a> Kept<'a> {
    /// Read one more line; whether it was kept. A reset empties moto but leaves its config, so
    /// the last engine setting survives it.
    pub fn push(&mut self, line: &'a str, entry: &Value) -> bool {
        if path_of(entry) == "/moto-api/reset" {
            self.lines.clear();
            self.lines.extend(self.setting);
            return false;
        }
        if engine_setting(entry).is_some() {
            self.setting = Some(line);
        }
        let keep = kept(entry);
        if keep {
            self.lines.push(line);
        }
        keep
    }
}

/// A `POST /moto-api/config` setting moto's Step Functions engine, and to what. A snapshot keeps
/// it, since it decides whether a later `StartExecution` runs, but a restore never replays it:
/// it sets the engine itself (off while replaying, then as [`engine_after`] says).
pub fn engine_setting(entry: &Value) -> Option<bool> {
    if entry["method"].as_str() != Some("POST") || path_of(entry) != "/moto-api/config" {
        return None;
    }
    let body: Value = serde_json::from_slice(&body_bytes(entry)).ok()?;
    body["stepfunctions"]["execute_state_machine"].as_bool()
}

/// Whether a snapshot keeps `entry`: a state-changing call or an engine setting.
pub fn kept(entry: &Value) -> bool {
    mutates(entry) || engine_setting(entry).is_some()
}

/// Keep the state-changing requests (and engine settings) after the last reset, one JSON line
/// each.
pub fn filter_recording(raw: &str) -> String {
    let mut lines = Kept::default();
    for line in raw.lines().filter(|l| !l.trim().is_empty()) {
        if let Ok(entry) = serde_json::from_str::<Value>(line) {
            lines.push(line, &entry);
        }
    }
    let mut out = lines.lines.join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// Whether moto still holds exactly what restoring `recording` left: its live recording is the
/// uploaded one (a restore leaves the file as exactly those bytes) followed only by calls that
/// touch nothing. moto restarting empties the file, and any write, received message or reset
/// since shows in the tail, so a `true` is never a guess.
pub fn unchanged_since_restore(live: &str, recording: &str) -> bool {
    if recording.is_empty() {
        return false;
    }
    let Some(tail) = live.strip_prefix(recording) else {
        return false;
    };
    tail.lines()
        .filter(|l| !l.trim().is_empty())
        .all(|line| serde_json::from_str::<Value>(line).is_ok_and(|entry| !touches(&entry)))
}

/// Per operation, how many state-changing calls the recording holds (`CreateTable: 3`,
/// `PutItem: 120`, `PUT object` for REST calls).
pub fn summarise(recording: &str) -> Value {
    let mut ops = std::collections::BTreeMap::<String, u64>::new();
    for line in recording.lines() {
        let Ok(entry) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if engine_setting(&entry).is_some() {
            continue;
        }
        let op = operation(&entry).unwrap_or_else(|| {
            let path = path_of(&entry);
            let depth = if path.trim_end_matches('/').matches('/').count() > 1 {
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
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    pub fn line(method: &str, url: &str, target: Option<&str>, body: &str) -> String {
        let mut headers = json!({"Host": "127.0.0.1:9003"});
        if let Some(t) = target {
            headers["X-Amz-Target"] = json!(t);
        }
        let b64 = base64::engine::general_purpose::STANDARD.encode(body);
        json!({"headers": headers, "method": method, "url": url, "body": b64, "body_encoded": true})
            .to_string()
    }

    #[test]
    fn the_engine_setting_is_kept_and_outlives_a_reset_but_counts_as_no_call() {
        let engine = |on: bool| {
            line(
                "POST",
                "http://127.0.0.1:9003/moto-api/config",
                None,
                &json!({"stepfunctions": {"execute_state_machine": on}}).to_string(),
            )
        };
        let batch = line(
            "POST",
            "http://127.0.0.1:9003/moto-api/config",
            None,
            r#"{"batch": {"use_docker": false}}"#,
        );
        let reset = line("POST", "http://127.0.0.1:9003/moto-api/reset", None, "");
        let put = ddb("PutItem", json!({"TableName": "t", "Item": {}}));
        let raw = [
            engine(false),
            engine(true),
            batch,
            put.clone(),
            reset,
            put.clone(),
        ]
        .join("\n");
        let kept = filter_recording(&raw);
        assert_eq!(kept, format!("{}\n{put}\n", engine(true)));
        assert_eq!(summarise(&kept)["calls"], 1);
    }

    /// A recorded DynamoDB call.
    pub fn ddb(op: &str, body: Value) -> String {
        line(
            "POST",
            "http://127.0.0.1:9003/",
            Some(&format!("DynamoDB_20120810.{op}")),
            &body.to_string(),
        )
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
    fn moto_is_unchanged_only_while_nothing_but_pure_reads_follow_the_restored_recording() {
        let u = "http://127.0.0.1:9003/";
        let restored = format!(
            "{}\n",
            line("POST", u, Some("DynamoDB_20120810.PutItem"), "{}")
        );
        let read = line("POST", u, Some("DynamoDB_20120810.GetItem"), "{}");
        let probe = line("GET", "http://127.0.0.1:9014/moto-api/", None, "");
        let live = format!("{restored}{read}\n{probe}\n");
        assert!(unchanged_since_restore(&live, &restored));
        for later in [
            line("POST", u, Some("DynamoDB_20120810.DeleteItem"), "{}"),
            line("POST", u, Some("AmazonSQS.ReceiveMessage"), "{}"),
            line("POST", u, None, "Action=ReceiveMessage&QueueUrl=q"),
            line("POST", "http://127.0.0.1:9014/moto-api/reset", None, ""),
            line("POST", "http://127.0.0.1:9014/moto-api/config", None, "{}"),
        ] {
            let live = format!("{restored}{read}\n{later}\n");
            assert!(!unchanged_since_restore(&live, &restored), "{later}");
        }
        // moto restarted (the file was emptied) or another recording was restored since.
        assert!(!unchanged_since_restore(&format!("{read}\n"), &restored));
        assert!(!unchanged_since_restore("", &restored));
        assert!(!unchanged_since_restore("", ""));
    }
}
