//! Restoring only what changed, when that is provably enough. moto's state is a function of the
//! state-changing calls since its last reset; when those are exactly the snapshot's calls
//! followed by a tail that only touched standalone DynamoDB tables (`tables.rs`) — and nothing
//! after the snapshot's last call received a message or took a task — every other resource is
//! already as the snapshot has it. So the restore deletes just those tables and replays the
//! snapshot's calls on them. An empty tail means there is nothing to do at all.

use std::collections::BTreeSet;

use serde_json::Value;

use super::recording::{Kept, path_of, touches};
use super::tables;

/// What a partial restore does.
#[derive(Debug, PartialEq, Eq)]
pub struct Partial {
    /// Tables to delete (those the tail wrote, created or deleted).
    pub tables: BTreeSet<String>,
    /// The snapshot's lines on those tables, in order.
    pub replay: String,
}

/// The partial restore of `recording` over moto's `live` recording, if one is enough.
pub fn plan(live: &str, recording: &str) -> Option<Partial> {
    let kept: Vec<&str> = recording.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut live_kept = Kept::default();
    let mut touched_after = false;
    for line in live.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(entry) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if path_of(&entry) == "/moto-api/reset" {
            touched_after = false;
        }
        if !live_kept.push(line, &entry)
            && touches(&entry)
            && live_kept.lines.len() >= kept.len()
            && path_of(&entry) != "/moto-api/reset"
        {
            touched_after = true;
        }
    }
    let mutating = live_kept.lines;
    if touched_after || mutating.len() < kept.len() || mutating[..kept.len()] != kept[..] {
        return None;
    }
    let tail = &mutating[kept.len()..];
    let all = tables::parse(&mutating.join("\n")).ok()?;
    let independent = tables::independent_tables(&all);
    let mut touched = BTreeSet::new();
    for (entry, body) in &all[kept.len()..] {
        let call = tables::table_call(entry, body)?;
        if !independent.contains(call.table()) {
            return None;
        }
        touched.insert(call.table().to_owned());
    }
    debug_assert_eq!(all.len() - kept.len(), tail.len());
    let replay: Vec<&str> = kept
        .iter()
        .zip(&all)
        .filter(|(_, (entry, body))| {
            tables::table_call(entry, body).is_some_and(|c| touched.contains(c.table()))
        })
        .map(|(line, _)| *line)
        .collect();
    Some(Partial {
        tables: touched,
        replay: replay.join("\n"),
    })
}

#[cfg(test)]
mod tests {
    use super::super::recording::tests::{ddb, line};
    use super::*;
    use serde_json::json;

    fn lines(l: &[String]) -> String {
        l.iter().map(|l| format!("{l}\n")).collect()
    }

    #[test]
    fn only_the_standalone_tables_written_since_are_rebuilt() {
        let snap = [
            ddb("CreateTable", json!({"TableName": "a"})),
            ddb("CreateTable", json!({"TableName": "b"})),
            line("PUT", "http://127.0.0.1:9003/bucket", None, ""),
            ddb("BatchWriteItem", json!({"RequestItems": {"a": []}})),
            ddb("PutItem", json!({"TableName": "b", "Item": {}})),
        ];
        let recording = lines(&snap);
        let read = ddb("Scan", json!({"TableName": "a"}));
        let write_a = ddb("DeleteItem", json!({"TableName": "a", "Key": {}}));
        let live = format!("{}{}", lines(std::slice::from_ref(&read)), lines(&snap))
            + &lines(&[read.clone(), write_a.clone()]);
        let p = plan(&live, &recording).unwrap();
        assert_eq!(p.tables, BTreeSet::from(["a".to_owned()]));
        assert_eq!(p.replay, [snap[0].clone(), snap[3].clone()].join("\n"));
        // Nothing since: nothing to do.
        let same = plan(&format!("{recording}{read}\n"), &recording).unwrap();
        assert!(same.tables.is_empty() && same.replay.is_empty());
    }

    #[test]
    fn anything_else_since_needs_the_whole_replay() {
        let snap = [
            ddb("CreateTable", json!({"TableName": "a"})),
            ddb(
                "CreateTable",
                json!({"TableName": "s", "StreamSpecification": {"StreamEnabled": true}}),
            ),
        ];
        let recording = lines(&snap);
        for later in [
            line("PUT", "http://127.0.0.1:9003/bucket/k", None, "x"),
            ddb("PutItem", json!({"TableName": "s", "Item": {}})),
            ddb("UpdateTimeToLive", json!({"TableName": "a"})),
            ddb(
                "TransactWriteItems",
                json!({"TransactItems": [{"Put": {"TableName": "a"}}]}),
            ),
            line(
                "POST",
                "http://127.0.0.1:9003/",
                Some("AmazonSQS.ReceiveMessage"),
                "{}",
            ),
            line("POST", "http://127.0.0.1:9014/moto-api/reset", None, ""),
        ] {
            let live = format!("{recording}{later}\n");
            assert_eq!(plan(&live, &recording), None, "{later}");
        }
        // Another history altogether (moto restarted, another snapshot).
        let other = lines(&[ddb("CreateTable", json!({"TableName": "x"}))]);
        assert_eq!(plan(&other, &recording), None);
    }
}
