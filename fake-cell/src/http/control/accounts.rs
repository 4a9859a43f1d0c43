//! Accounts and API keys of the local admin API under `/_fake/` (no key needed): accounts with a
//! `system_account_id`, API keys with scopes (create, list, revoke, validate).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::error::{CellError, CellResult};
use crate::http::body::JsonBody;
use crate::persist::Record;
use crate::state::{Account, ApiKey, Cell, now_rfc3339};

const DEFAULT_SCOPES: &[&str] = &["read", "write", "admin"];

fn opt_str(body: &Value, key: &str) -> CellResult<Option<String>> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(_) => Err(CellError::InvalidArgument(format!(
            "{key} must be a non-empty string"
        ))),
    }
}

fn object_body(body: &Value) -> CellResult<()> {
    if body.is_object() || body.is_null() {
        Ok(())
    } else {
        Err(CellError::InvalidArgument(
            "body must be a JSON object".into(),
        ))
    }
}

pub async fn create_account(
    State(cell): State<Arc<Cell>>,
    JsonBody(body): JsonBody,
) -> CellResult<Response> {
    object_body(&body)?;
    cell.check_writable()?;
    let simple = || uuid::Uuid::new_v4().simple().to_string();
    let account_id =
        opt_str(&body, "account_id")?.unwrap_or_else(|| format!("acct_{}", &simple()[..12]));
    let account = Account {
        system_account_id: opt_str(&body, "system_account_id")?
            .unwrap_or_else(|| format!("sys_{}", &simple()[..12])),
        name: opt_str(&body, "name")?.unwrap_or_else(|| account_id.clone()),
        account_id: account_id.clone(),
        created_at: now_rfc3339(),
    };
    let ticket = {
        let mut dir = cell.dir.write();
        if dir.accounts.contains_key(&account_id) {
            return Err(CellError::Conflict {
                code: "account_already_exists",
                message: format!("account {account_id} already exists"),
            });
        }
        dir.accounts.insert(account_id.clone(), account.clone());
        cell.submit(&Record::Account { v: account.clone() })
    };
    cell.commit(ticket).await?;
    Ok((StatusCode::CREATED, Json(json!(account))).into_response())
}

pub async fn list_accounts(State(cell): State<Arc<Cell>>) -> Json<Value> {
    let accounts: Vec<Account> = cell.dir.read().accounts.values().cloned().collect();
    Json(json!({ "results": accounts }))
}

pub async fn get_account(
    State(cell): State<Arc<Cell>>,
    Path(id): Path<String>,
) -> CellResult<Json<Value>> {
    let dir = cell.dir.read();
    let a = dir
        .accounts
        .get(&id)
        .ok_or_else(|| CellError::NotFound(format!("account {id} not found")))?;
    Ok(Json(json!(a)))
}

pub async fn create_key(
    State(cell): State<Arc<Cell>>,
    Path(account_id): Path<String>,
    JsonBody(body): JsonBody,
) -> CellResult<Response> {
    object_body(&body)?;
    cell.check_writable()?;
    let scopes: Vec<String> = match body.get("scopes") {
        None | Some(Value::Null) => DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|s| match s.as_str() {
                Some(s @ ("read" | "write" | "admin")) => Ok(s.to_string()),
                _ => Err(CellError::InvalidArgument(
                    "scopes must be a list of read, write, admin".into(),
                )),
            })
            .collect::<CellResult<_>>()?,
        Some(_) => return Err(CellError::InvalidArgument("scopes must be a list".into())),
    };
    let simple = uuid::Uuid::new_v4().simple().to_string();
    let key = ApiKey {
        key_id: opt_str(&body, "key_id")?.unwrap_or_else(|| format!("key_{}", &simple[..16])),
        key: opt_str(&body, "key")?.unwrap_or_else(|| {
            format!(
                "mq_{}{}",
                simple,
                &uuid::Uuid::new_v4().simple().to_string()[..8]
            )
        }),
        account_id: account_id.clone(),
        name: opt_str(&body, "name")?.unwrap_or_default(),
        scopes,
        revoked: false,
        created_at: now_rfc3339(),
    };
    let ticket = {
        let mut dir = cell.dir.write();
        if !dir.accounts.contains_key(&account_id) {
            return Err(CellError::NotFound(format!(
                "account {account_id} not found"
            )));
        }
        if dir.by_secret.contains_key(&key.key) {
            return Err(CellError::Conflict {
                code: "api_key_already_exists",
                message: "this API key already exists".into(),
            });
        }
        if dir.keys.contains_key(&key.key_id) {
            return Err(CellError::Conflict {
                code: "api_key_already_exists",
                message: format!("key id {} already exists", key.key_id),
            });
        }
        dir.put_key(key.clone());
        cell.submit(&Record::Key { v: key.clone() })
    };
    cell.commit(ticket).await?;
    Ok((StatusCode::CREATED, Json(json!(key))).into_response())
}

pub async fn list_keys(
    State(cell): State<Arc<Cell>>,
    Path(account_id): Path<String>,
) -> CellResult<Json<Value>> {
    let dir = cell.dir.read();
    if !dir.accounts.contains_key(&account_id) {
        return Err(CellError::NotFound(format!(
            "account {account_id} not found"
        )));
    }
    let keys: Vec<&ApiKey> = dir
        .keys
        .values()
        .filter(|k| k.account_id == account_id)
        .collect();
    Ok(Json(json!({ "results": keys })))
}

pub async fn revoke_key(
    State(cell): State<Arc<Cell>>,
    Path(key_id): Path<String>,
) -> CellResult<Json<Value>> {
    cell.check_writable()?;
    let (key, ticket) = {
        let mut dir = cell.dir.write();
        let k = dir
            .keys
            .get_mut(&key_id)
            .ok_or_else(|| CellError::NotFound(format!("key {key_id} not found")))?;
        k.revoked = true;
        let k = k.clone();
        let t = cell.submit(&Record::Key { v: k.clone() });
        (k, t)
    };
    cell.commit(ticket).await?;
    Ok(Json(json!(key)))
}

pub async fn validate_key(
    State(cell): State<Arc<Cell>>,
    JsonBody(body): JsonBody,
) -> CellResult<Response> {
    let secret = body
        .get("key")
        .and_then(Value::as_str)
        .ok_or_else(|| CellError::InvalidArgument("body must be {\"key\": \"...\"}".into()))?;
    let dir = cell.dir.read();
    let resp = match dir.lookup(secret) {
        None => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"valid": false, "reason": "unknown"})),
        )
            .into_response(),
        Some(k) if k.revoked => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"valid": false, "reason": "revoked"})),
        )
            .into_response(),
        Some(k) => {
            let system = dir
                .accounts
                .get(&k.account_id)
                .map(|a| a.system_account_id.clone());
            Json(json!({
                "valid": true, "account_id": k.account_id, "system_account_id": system,
                "scopes": k.scopes, "key_id": k.key_id,
            }))
            .into_response()
        }
    };
    Ok(resp)
}
