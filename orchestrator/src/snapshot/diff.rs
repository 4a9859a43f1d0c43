//! `snapshot diff NAME`: what changed since the snapshot, per service, as counts (accounts,
//! indexes and documents per index; pools, users, clients, groups per pool; moto's state-changing
//! calls per operation). The snapshot's side is computed from its files in the same shape the
//! services' `/_fake/snapshot/summary` answers, so both flatten to one `key → count` map.

use std::collections::BTreeMap;

use anyhow::Context as _;
use serde_json::{Value, json};

use super::{CELL, COGNITO, MOTO, Stack, fakes, format, moto};

/// `{"accounts": 3, "per_index": {"a": {"documents": 5}}}` → `accounts = 3`, `index a documents = 5`.
pub fn flatten(summary: &Value) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let Some(obj) = summary.as_object() else {
        return out;
    };
    for (k, v) in obj {
        if let Some(n) = v.as_u64() {
            out.insert(k.clone(), n);
        } else if let Some(group) = v.as_object() {
            let kind = k.strip_prefix("per_").unwrap_or(k);
            for (name, fields) in group {
                match fields {
                    Value::Object(f) => {
                        for (field, n) in f {
                            if let (Some(n), false) = (n.as_u64(), field == "port") {
                                out.insert(format!("{kind} {name} {field}"), n);
                            }
                        }
                    }
                    other => {
                        if let Some(n) = other.as_u64() {
                            out.insert(format!("{kind} {name}"), n);
                        }
                    }
                }
            }
        }
    }
    out
}

/// fake-cell's summary of a snapshot document.
fn cell_summary(doc: &Value) -> Value {
    let s = &doc["state"];
    let len = |k: &str| s[k].as_array().map_or(0, Vec::len);
    let mut per_index = serde_json::Map::new();
    let mut documents = 0;
    for i in s["indexes"].as_array().into_iter().flatten() {
        let n = i["docs"].as_array().map_or(0, Vec::len);
        documents += n;
        if let Some(name) = i["meta"]["name"].as_str() {
            per_index.insert(name.into(), json!({ "documents": n }));
        }
    }
    json!({
        "accounts": len("accounts"), "keys": len("keys"),
        "aliases": s["aliases"].as_object().map_or(0, |a| a.len()),
        "indexes": per_index.len(), "documents": documents, "per_index": per_index,
    })
}

/// fake-cognito's summary of a snapshot document.
fn cognito_summary(doc: &Value) -> Value {
    let pools = doc["store"]["pools"].as_object();
    let mut per_pool = serde_json::Map::new();
    let (mut clients, mut users, mut groups) = (0, 0, 0);
    let len = |v: &Value| v.as_object().map_or(0, |o| o.len());
    for p in pools.into_iter().flat_map(|p| p.values()) {
        let (c, u, g) = (len(&p["clients"]), len(&p["users"]), len(&p["groups"]));
        clients += c;
        users += u;
        groups += g;
        let name = p["meta"]["name"].as_str().unwrap_or_default();
        per_pool.insert(
            name.into(),
            json!({ "clients": c, "users": u, "groups": g }),
        );
    }
    json!({
        // Pool names need not be unique (as in Cognito): count pools, not names, as the live
        // summary does.
        "pools": pools.map_or(0, |p| p.len()), "clients": clients, "users": users, "groups": groups,
        "per_pool": per_pool,
    })
}

/// One service's comparison: both sides and the keys whose counts differ.
fn compare(then: &Value, now: &Value) -> Value {
    let (a, b) = (flatten(then), flatten(now));
    let mut changed = serde_json::Map::new();
    for k in a.keys().chain(b.keys()) {
        let (x, y) = (
            a.get(k).copied().unwrap_or(0),
            b.get(k).copied().unwrap_or(0),
        );
        if x != y {
            changed.insert(k.clone(), json!({ "snapshot": x, "now": y }));
        }
    }
    json!({ "changed": changed, "snapshot": a, "now": b })
}

/// Per service: `{"changed": {key: {"snapshot", "now"}}, "snapshot": {...}, "now": {...}}`.
pub async fn diff(stack: &Stack, name: &str, loaded: &format::Loaded) -> anyhow::Result<Value> {
    let doc = |part: &str| -> anyhow::Result<Option<Value>> {
        loaded
            .part(part)
            .map(|b| serde_json::from_slice(b).with_context(|| format!("{part} in {name}")))
            .transpose()
    };
    let mut out = serde_json::Map::new();
    if let (Some(base), Some(d)) = (&stack.cell, doc(CELL)?) {
        let now = fakes::summary(&stack.http, base).await?;
        out.insert(CELL.into(), compare(&cell_summary(&d), &now));
    }
    if let (Some(base), Some(d)) = (&stack.cognito, doc(COGNITO)?) {
        let now = fakes::summary(&stack.http, base).await?;
        out.insert(COGNITO.into(), compare(&cognito_summary(&d), &now));
    }
    if let (Some(base), Some(rec)) = (&stack.moto, loaded.part(MOTO)) {
        let then = moto::summarise(&String::from_utf8_lossy(rec));
        let now = moto::Recorder::new(base, stack.http.clone())
            .summary()
            .await?;
        out.insert(MOTO.into(), compare(&then, &now));
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_and_a_live_summary_compare_key_by_key() {
        let doc = json!({"format": 1, "service": "fake-cell", "state": {
            "accounts": [{}], "keys": [{}, {}], "aliases": {},
            "indexes": [{"meta": {"name": "a"}, "docs": [{}, {}]}, {"meta": {"name": "b"}, "docs": []}],
        }});
        let live = json!({"service": "fake-cell", "accounts": 1, "keys": 2, "aliases": 0,
            "indexes": 2, "documents": 3,
            "per_index": {"a": {"documents": 3, "port": 9100}, "b": {"documents": 0, "port": 9101}}});
        let d = compare(&cell_summary(&doc), &live);
        let changed = d["changed"].as_object().unwrap();
        assert_eq!(changed.len(), 2, "{d}");
        assert_eq!(changed["documents"], json!({"snapshot": 2, "now": 3}));
        assert_eq!(
            changed["index a documents"],
            json!({"snapshot": 2, "now": 3})
        );
    }

    #[test]
    fn cognito_counts_come_per_pool_name() {
        let doc = json!({"store": {"pools": {"us-east-1_x": {"meta": {"name": "main"},
            "clients": {"c": {}}, "users": {"u1": {}, "u2": {}}, "groups": {}}}}});
        let f = flatten(&cognito_summary(&doc));
        assert_eq!(f["users"], 2);
        assert_eq!(f["pool main users"], 2);
        assert_eq!(f["pool main clients"], 1);
    }

    #[test]
    fn cognito_pools_with_one_name_count_as_two() {
        let pool = json!({"meta": {"name": "same"}, "clients": {}, "users": {}, "groups": {}});
        let doc = json!({"store": {"pools": {"us-east-1_a": pool.clone(), "us-east-1_b": pool}}});
        assert_eq!(flatten(&cognito_summary(&doc))["pools"], 2);
    }
}
