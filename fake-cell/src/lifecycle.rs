//! Index lifecycle shared by the cloud control plane (`/api/v2/indexes...`) and the open-source
//! style data-plane routes (`POST/DELETE /indexes/{name}`, `GET /indexes`): create (choose a port,
//! register, journal, start the index's server), delete, which indexes a caller sees, status, and
//! the control-plane list entry. No HTTP types: handlers in `http/` call these.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::{Map, Value, json};

use crate::engine::settings;
use crate::engine::store;
use crate::error::{CellError, CellResult};
use crate::persist::Record;
use crate::servers;
use crate::state::{Caller, Cell, Index, IndexMeta, now_ms, now_rfc3339};

pub const MARQO_VERSION: &str = "2.23.1";

/// `Created` as the control plane shows it: RFC 3339 with microseconds, without the zone.
fn created_now() -> String {
    let mut t = now_rfc3339();
    t.pop();
    t
}

/// Create an index (optionally pre-filled with documents, for forks) and start its server.
pub async fn create_index(
    cell: &Arc<Cell>,
    caller: &Caller,
    name: &str,
    body: &Value,
    fill: Option<Vec<store::DocRecord>>,
) -> CellResult<Arc<Index>> {
    // The name is checked with the core's request model, after the body's (Marqo's order).
    let (settings_json, cloud_given) = settings::normalize_create(name, body)?;
    let cloud = settings::normalize_cloud(&cloud_given, None)?;
    cell.check_writable()?;
    if cell.resolve(name).is_some() || cell.aliases.read().contains_key(name) {
        return Err(CellError::IndexExists(name.to_string()));
    }
    let (port, listener) = servers::bind_port(cell, None, None)?;
    let delay = cell.cfg.creation_delay_ms;
    let meta = IndexMeta {
        name: name.to_string(),
        account_id: caller.account_id.clone(),
        settings: settings_json,
        cloud,
        created_at: created_now(),
        port,
        pending: (delay > 0).then(|| "CREATING".to_string()),
        ready_at_ms: now_ms() + delay,
    };
    let index = Arc::new(Index::new(meta.clone()));
    let prepared: Vec<_> = fill
        .unwrap_or_default()
        .into_iter()
        .map(|d| store::prepare(d, &index.settings))
        .collect();
    let tickets = {
        let mut map = cell.indexes.write();
        if map.contains_key(name) || cell.aliases.read().contains_key(name) {
            return Err(CellError::IndexExists(name.to_string()));
        }
        let mut tickets = vec![cell.submit(&Record::Index { v: meta })];
        if !prepared.is_empty() {
            let mut data = index.data.write();
            let put: Vec<_> = prepared.iter().map(|p| p.rec.clone()).collect();
            for p in prepared {
                data.put(p);
            }
            tickets.push(cell.submit(&Record::Docs {
                index: name.to_string(),
                put,
                del: Vec::new(),
            }));
        }
        map.insert(name.to_string(), index.clone());
        tickets
    };
    cell.tombstones.lock().retain(|n| n != name);
    servers::start(cell, name, port, listener)?;
    for t in tickets {
        cell.commit(t).await?;
    }
    tracing::info!(index = name, port, account = %caller.account_id, "index created");
    Ok(index)
}

/// Delete an index the caller owns.
pub async fn delete_index(cell: &Arc<Cell>, caller: &Caller, name: &str) -> CellResult<()> {
    cell.check_writable()?;
    let mut tickets = Vec::new();
    {
        let mut map = cell.indexes.write();
        let idx = map
            .get(name)
            .cloned()
            .ok_or_else(|| CellError::IndexNotFound(name.to_string()))?;
        caller.check_owns(&idx, name)?;
        map.remove(name);
        let _data = idx.data.write();
        idx.deleted.store(true, Ordering::SeqCst);
        tickets.push(cell.submit(&Record::IndexDelete {
            name: name.to_string(),
        }));
        let mut aliases = cell.aliases.write();
        let stale: Vec<String> = aliases
            .iter()
            .filter(|(_, t)| t.as_str() == name)
            .map(|(a, _)| a.clone())
            .collect();
        for a in stale {
            aliases.remove(&a);
            tickets.push(cell.submit(&Record::Alias {
                name: a,
                target: None,
            }));
        }
    }
    cell.add_tombstone(name);
    servers::stop(cell, name);
    for t in tickets {
        cell.commit(t).await?;
    }
    tracing::info!(index = name, "index deleted");
    Ok(())
}

/// The control-plane list entry; passes the client's strict nested models (§9.2).
pub fn list_entry(cell: &Cell, idx: &Index) -> Value {
    let meta = idx.meta.read().clone();
    let (count, vectors) = {
        let d = idx.data.read();
        (d.len(), d.n_vectors)
    };
    let mut e = Map::new();
    e.insert("indexName".into(), json!(meta.name));
    e.insert("indexStatus".into(), json!(meta.status()));
    e.insert("marqoEndpoint".into(), json!(cell.endpoint(meta.port)));
    e.insert("Created".into(), json!(meta.created_at));
    e.insert("marqoVersion".into(), json!(MARQO_VERSION));
    e.extend(settings::list_entry_settings(&meta.settings));
    e.extend(meta.cloud.clone());
    e.insert("docs.count".into(), json!(count.to_string()));
    e.insert("docs.deleted".into(), json!("0"));
    e.insert("numberOfVectors".into(), json!(vectors));
    e.insert("store.size".into(), json!(format!("{}b", count * 1024)));
    e.insert(
        "search.queryTotal".into(),
        json!(idx.searches.load(Ordering::Relaxed).to_string()),
    );
    e.insert("errorMsg".into(), Value::Null);
    Value::Object(e)
}

/// Indexes visible to the caller (all of them with `--open`), sorted by name.
pub fn visible(cell: &Cell, caller: &Caller) -> Vec<Arc<Index>> {
    let mut v: Vec<Arc<Index>> = cell
        .indexes
        .read()
        .values()
        .filter(|i| caller.open || i.account_id() == caller.account_id)
        .cloned()
        .collect();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    v
}

pub fn status_of(cell: &Cell, caller: &Caller, name: &str) -> CellResult<Value> {
    if let Some(idx) = cell.indexes.read().get(name).cloned() {
        caller.check_owns(&idx, name)?;
        let status = idx.meta.read().status().to_string();
        return Ok(json!({"indexName": name, "indexStatus": status}));
    }
    if cell.is_tombstoned(name) {
        return Ok(json!({"indexName": name, "indexStatus": "DELETED"}));
    }
    Err(CellError::IndexNotFound(name.to_string()))
}
