//! Index lifecycle shared by the cloud control plane (`/api/v2/indexes...`) and the open-source
//! style data-plane routes (`POST/DELETE /indexes/{name}`, `GET /indexes`): create, list, describe,
//! status, update (cloud options), delete, fork.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde_json::{Map, Value, json};

use crate::auth::{Scope, authorize};
use crate::body::JsonBody;
use crate::error::{CellError, CellResult};
use crate::index_server::{self, store};
use crate::persist::Record;
use crate::settings::{self, CLOUD_KEYS};
use crate::state::{Caller, Cell, Index, IndexMeta, now_ms};

pub const MARQO_VERSION: &str = "2.23.1";

fn created_now() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// Create an index (optionally pre-filled with documents, for forks) and start its server.
pub async fn create_index(
    cell: &Arc<Cell>,
    caller: &Caller,
    name: &str,
    body: &Value,
    fill: Option<Vec<store::DocRecord>>,
) -> CellResult<Arc<Index>> {
    settings::validate_index_name(name)?;
    let (settings_json, cloud_given) = settings::normalize_create(body)?;
    let cloud = settings::normalize_cloud(&cloud_given, None)?;
    cell.check_writable()?;
    if cell.resolve(name).is_some() || cell.aliases.read().contains_key(name) {
        return Err(CellError::IndexExists(name.to_string()));
    }
    let (port, listener) = index_server::bind_port(cell, None, None)?;
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
    index_server::start(cell, name, port, listener)?;
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
        if !caller.open && idx.account_id() != caller.account_id {
            return Err(CellError::Forbidden(format!(
                "index {name} belongs to another account"
            )));
        }
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
    index_server::stop(cell, name);
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
        if !caller.open && idx.account_id() != caller.account_id {
            return Err(CellError::Forbidden(format!(
                "index {name} belongs to another account"
            )));
        }
        let status = idx.meta.read().status().to_string();
        return Ok(json!({"indexName": name, "indexStatus": status}));
    }
    if cell.is_tombstoned(name) {
        return Ok(json!({"indexName": name, "indexStatus": "DELETED"}));
    }
    Err(CellError::IndexNotFound(name.to_string()))
}

// ---- cloud control plane handlers ----

pub async fn cloud_list(
    State(cell): State<Arc<Cell>>,
    headers: HeaderMap,
) -> CellResult<Json<Value>> {
    let caller = authorize(&cell, &headers, Scope::Read)?;
    let results: Vec<Value> = visible(&cell, &caller)
        .iter()
        .map(|i| list_entry(&cell, i))
        .collect();
    Ok(Json(json!({ "results": results })))
}

pub async fn cloud_create(
    State(cell): State<Arc<Cell>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    JsonBody(body): JsonBody,
) -> CellResult<Json<Value>> {
    let caller = authorize(&cell, &headers, Scope::Admin)?;
    let idx = create_index(&cell, &caller, &name, &body, None).await?;
    let status = idx.meta.read().status().to_string();
    let port = idx.meta.read().port;
    Ok(Json(json!({
        "acknowledged": true, "index": name, "indexName": name,
        "indexStatus": status, "marqoEndpoint": cell.endpoint(port),
    })))
}

pub async fn cloud_describe(
    State(cell): State<Arc<Cell>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> CellResult<Json<Value>> {
    let caller = authorize(&cell, &headers, Scope::Read)?;
    let idx = cell.index_for(&caller, &name)?;
    Ok(Json(list_entry(&cell, &idx)))
}

pub async fn cloud_status(
    State(cell): State<Arc<Cell>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> CellResult<Json<Value>> {
    let caller = authorize(&cell, &headers, Scope::Read)?;
    Ok(Json(status_of(&cell, &caller, &name)?))
}

pub async fn cloud_update(
    State(cell): State<Arc<Cell>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    JsonBody(body): JsonBody,
) -> CellResult<Json<Value>> {
    let caller = authorize(&cell, &headers, Scope::Admin)?;
    let obj = body
        .as_object()
        .ok_or_else(|| CellError::unprocessable(&["body"], "body must be a JSON object"))?;
    for k in obj.keys() {
        if !CLOUD_KEYS.contains(&k.as_str()) {
            return Err(CellError::InvalidArgument(format!(
                "{k} cannot be updated; updatable settings are {}",
                CLOUD_KEYS.join(", ")
            )));
        }
    }
    cell.check_writable()?;
    let idx = cell
        .indexes
        .read()
        .get(&name)
        .cloned()
        .ok_or_else(|| CellError::IndexNotFound(name.clone()))?;
    if !caller.open && idx.account_id() != caller.account_id {
        return Err(CellError::Forbidden(format!(
            "index {name} belongs to another account"
        )));
    }
    let ticket = {
        let mut meta = idx.meta.write();
        let cloud = settings::normalize_cloud(obj, Some(&meta.cloud))?;
        meta.cloud = cloud;
        let delay = cell.cfg.creation_delay_ms;
        meta.pending = (delay > 0).then(|| "MODIFYING".to_string());
        meta.ready_at_ms = now_ms() + delay;
        cell.submit(&Record::Index { v: meta.clone() })
    };
    cell.commit(ticket).await?;
    Ok(Json(json!({"acknowledged": true, "index": name})))
}

pub async fn cloud_delete(
    State(cell): State<Arc<Cell>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> CellResult<Json<Value>> {
    let caller = authorize(&cell, &headers, Scope::Admin)?;
    delete_index(&cell, &caller, &name).await?;
    Ok(Json(
        json!({"acknowledged": true, "index": name, "indexStatus": "DELETED"}),
    ))
}

/// `POST /api/v2/indexes/{name}/fork` `{"targetIndexName": …}`: a new index with the source's
/// settings, cloud options and documents.
pub async fn cloud_fork(
    State(cell): State<Arc<Cell>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    JsonBody(body): JsonBody,
) -> CellResult<Json<Value>> {
    let caller = authorize(&cell, &headers, Scope::Admin)?;
    let target = body
        .get("targetIndexName")
        .and_then(Value::as_str)
        .ok_or_else(|| CellError::unprocessable(&["body", "targetIndexName"], "field required"))?
        .to_string();
    let src = cell.index_for(&caller, &name)?;
    let (mut settings_body, docs) = {
        let meta = src.meta.read();
        let mut s = meta.settings.clone();
        if let Some(o) = s.as_object_mut() {
            o.extend(meta.cloud.clone());
        }
        (s, src.data.read().records())
    };
    if let Some(o) = settings_body.as_object_mut()
        && o.get("imagePreprocessing") == Some(&json!({}))
    {
        o.remove("imagePreprocessing");
    }
    let n = docs.len();
    create_index(&cell, &caller, &target, &settings_body, Some(docs)).await?;
    Ok(Json(json!({
        "acknowledged": true, "sourceIndexName": name, "index": target,
        "indexName": target, "documentsCopied": n,
    })))
}

// ---- open-source style routes on the data plane ----

pub async fn data_list(
    State(cell): State<Arc<Cell>>,
    headers: HeaderMap,
) -> CellResult<Json<Value>> {
    let caller = authorize(&cell, &headers, Scope::Read)?;
    let results: Vec<Value> = visible(&cell, &caller)
        .iter()
        .map(|i| json!({"indexName": i.name}))
        .collect();
    Ok(Json(json!({ "results": results })))
}

pub async fn data_create(
    State(cell): State<Arc<Cell>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    JsonBody(body): JsonBody,
) -> CellResult<Json<Value>> {
    let caller = authorize(&cell, &headers, Scope::Admin)?;
    create_index(&cell, &caller, &name, &body, None).await?;
    Ok(Json(json!({"acknowledged": true, "index": name})))
}

pub async fn data_delete(
    State(cell): State<Arc<Cell>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> CellResult<Json<Value>> {
    let caller = authorize(&cell, &headers, Scope::Admin)?;
    delete_index(&cell, &caller, &name).await?;
    Ok(Json(json!({"acknowledged": true})))
}

pub async fn data_status(
    State(cell): State<Arc<Cell>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> CellResult<Json<Value>> {
    cloud_status(State(cell), headers, Path(name)).await
}

/// `POST /batch/indexes/create`: a JSON array of settings objects with `indexName`.
pub async fn batch_create(
    State(cell): State<Arc<Cell>>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> CellResult<Json<Value>> {
    let caller = authorize(&cell, &headers, Scope::Admin)?;
    let arr = body
        .as_array()
        .ok_or_else(|| CellError::unprocessable(&["body"], "expected a list of index settings"))?;
    let mut names = Vec::new();
    for item in arr {
        let mut item = item.clone();
        let name = item
            .as_object_mut()
            .and_then(|o| o.remove("indexName"))
            .and_then(|v| v.as_str().map(str::to_string))
            .ok_or_else(|| CellError::unprocessable(&["body", "indexName"], "field required"))?;
        create_index(&cell, &caller, &name, &item, None).await?;
        names.push(name);
    }
    Ok(Json(json!({"acknowledged": true, "index_names": names})))
}

/// `POST /batch/indexes/delete`: a JSON array of names.
pub async fn batch_delete(
    State(cell): State<Arc<Cell>>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> CellResult<Json<Value>> {
    let caller = authorize(&cell, &headers, Scope::Admin)?;
    let arr = body
        .as_array()
        .ok_or_else(|| CellError::unprocessable(&["body"], "expected a list of index names"))?;
    let mut names = Vec::new();
    for n in arr {
        let name = n
            .as_str()
            .ok_or_else(|| CellError::unprocessable(&["body"], "index names must be strings"))?;
        delete_index(&cell, &caller, name).await?;
        names.push(name.to_string());
    }
    Ok(Json(json!({"acknowledged": true, "index_names": names})))
}
