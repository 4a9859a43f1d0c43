//! DynamoDB tables in a recording: which table a call writes, creates or deletes, and which
//! tables stand alone — created without a stream and named by no other call (no `UpdateTable`,
//! TTL, tags, transactions, multi-table batches, Kinesis destinations, nor any other service's
//! call). What happens to a standalone table's items can be seen through that table only, which
//! is what lets the replay run such tables side by side and a restore rebuild just them.

use std::collections::BTreeSet;

use serde_json::Value;

use super::recording::{body_bytes, header, mutates, operation};

/// A call confined to one table.
#[derive(Debug, PartialEq, Eq)]
pub enum TableCall {
    ItemWrite(String),
    Create { table: String, streamed: bool },
    Delete(String),
}

impl TableCall {
    pub fn table(&self) -> &str {
        match self {
            TableCall::ItemWrite(t) | TableCall::Delete(t) => t,
            TableCall::Create { table, .. } => table,
        }
    }
}

/// What `entry` (with its parsed JSON `body`) does to one table, if that is all it does.
pub fn table_call(entry: &Value, body: &Value) -> Option<TableCall> {
    let target = header(entry, "x-amz-target")?;
    if !target.starts_with("DynamoDB_") {
        return None;
    }
    let named = || body["TableName"].as_str().map(str::to_owned);
    match operation(entry)?.as_str() {
        "PutItem" | "UpdateItem" | "DeleteItem" => named().map(TableCall::ItemWrite),
        "BatchWriteItem" => {
            let tables = body["RequestItems"].as_object()?;
            (tables.len() == 1)
                .then(|| tables.keys().next().cloned().map(TableCall::ItemWrite))
                .flatten()
        }
        "CreateTable" => named().map(|table| TableCall::Create {
            table,
            streamed: body["StreamSpecification"]["StreamEnabled"].as_bool() == Some(true),
        }),
        "DeleteTable" => named().map(TableCall::Delete),
        _ => None,
    }
}

/// The standalone tables of `entries` (see the module doc).
pub fn independent_tables(entries: &[(Value, Value)]) -> BTreeSet<String> {
    let mut created = BTreeSet::new();
    let mut excluded = BTreeSet::new();
    let mut others = Vec::new();
    for (entry, body) in entries {
        match table_call(entry, body) {
            Some(TableCall::Create {
                table,
                streamed: false,
            }) => {
                created.insert(table);
            }
            Some(TableCall::Create { table, .. }) => {
                excluded.insert(table);
            }
            Some(_) => {}
            None if mutates(entry) => {
                others.push(String::from_utf8_lossy(&body_bytes(entry)).into_owned())
            }
            None => {}
        }
    }
    let named = |t: &str| {
        let (quoted, arn) = (format!("\"{t}\""), format!("table/{t}"));
        others
            .iter()
            .any(|b| b.contains(&quoted) || b.contains(&arn))
    };
    created.retain(|t| !excluded.contains(t) && !named(t));
    created
}

/// A recording's lines with their parsed bodies (an unparsable line is an error).
pub fn parse(recording: &str) -> anyhow::Result<Vec<(Value, Value)>> {
    use anyhow::Context as _;
    let mut entries = Vec::new();
    for (i, line) in recording.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let entry: Value = serde_json::from_str(line)
            .with_context(|| format!("line {} of the recording is not JSON", i + 1))?;
        let body = serde_json::from_slice(&body_bytes(&entry)).unwrap_or(Value::Null);
        entries.push((entry, body));
    }
    Ok(entries)
}
