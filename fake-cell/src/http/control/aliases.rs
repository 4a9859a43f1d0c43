//! Index aliases: `PUT /api/v2/aliases/{alias}` `{"indexName": target}`; data-plane requests to
//! an alias reach its index. Alias names share the namespace with index names.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use crate::engine::settings::validate_index_name;
use crate::error::{CellError, CellResult};
use crate::http::auth::{Admin, Auth, AuthJson, Read};
use crate::persist::Record;
use crate::state::{Caller, Cell};

fn visible(cell: &Cell, caller: &Caller) -> Vec<Value> {
    let aliases = cell.aliases.read().clone();
    aliases
        .into_iter()
        .filter(|(_, target)| {
            caller.open
                || cell
                    .indexes
                    .read()
                    .get(target)
                    .is_some_and(|i| i.account_id() == caller.account_id)
        })
        .map(|(alias, target)| json!({"alias": alias, "indexName": target}))
        .collect()
}

pub async fn list(
    State(cell): State<Arc<Cell>>,
    Auth(caller, _): Auth<Read>,
) -> CellResult<Json<Value>> {
    Ok(Json(json!({ "results": visible(&cell, &caller) })))
}

pub async fn get_one(
    State(cell): State<Arc<Cell>>,
    Path(alias): Path<String>,
    Auth(caller, _): Auth<Read>,
) -> CellResult<Json<Value>> {
    let target = cell
        .aliases
        .read()
        .get(&alias)
        .cloned()
        .ok_or_else(|| CellError::NotFound(format!("alias {alias} not found")))?;
    cell.index_for(&caller, &target)?;
    Ok(Json(json!({"alias": alias, "indexName": target})))
}

pub async fn put(
    State(cell): State<Arc<Cell>>,
    Path(alias): Path<String>,
    AuthJson(caller, body, _): AuthJson<Admin>,
) -> CellResult<Json<Value>> {
    validate_index_name(&alias)?;
    let target = body
        .get("indexName")
        .and_then(Value::as_str)
        .ok_or_else(|| CellError::unprocessable(&["body", "indexName"], "field required"))?
        .to_string();
    cell.check_writable()?;
    let ticket = {
        let indexes = cell.indexes.read();
        let idx = indexes
            .get(&target)
            .ok_or_else(|| CellError::IndexNotFound(target.clone()))?;
        caller.check_owns(idx, &target)?;
        if indexes.contains_key(&alias) {
            return Err(CellError::Conflict {
                code: "alias_conflicts_with_index",
                message: format!("{alias} is already an index name"),
            });
        }
        let mut aliases = cell.aliases.write();
        if let Some(old) = aliases.get(&alias)
            && !caller.open
            && indexes
                .get(old)
                .is_some_and(|i| i.account_id() != caller.account_id)
        {
            return Err(CellError::Forbidden(format!(
                "alias {alias} belongs to another account"
            )));
        }
        aliases.insert(alias.clone(), target.clone());
        cell.submit(&Record::Alias {
            name: alias.clone(),
            target: Some(target.clone()),
        })
    };
    cell.commit(ticket).await?;
    Ok(Json(
        json!({"acknowledged": true, "alias": alias, "indexName": target}),
    ))
}

pub async fn remove(
    State(cell): State<Arc<Cell>>,
    Path(alias): Path<String>,
    Auth(caller, _): Auth<Admin>,
) -> CellResult<Json<Value>> {
    cell.check_writable()?;
    let ticket = {
        let indexes = cell.indexes.read();
        let mut aliases = cell.aliases.write();
        let target = aliases
            .get(&alias)
            .cloned()
            .ok_or_else(|| CellError::NotFound(format!("alias {alias} not found")))?;
        if !caller.open
            && indexes
                .get(&target)
                .is_some_and(|i| i.account_id() != caller.account_id)
        {
            return Err(CellError::Forbidden(format!(
                "alias {alias} belongs to another account"
            )));
        }
        aliases.remove(&alias);
        cell.submit(&Record::Alias {
            name: alias.clone(),
            target: None,
        })
    };
    cell.commit(ticket).await?;
    Ok(Json(json!({"acknowledged": true, "alias": alias})))
}
