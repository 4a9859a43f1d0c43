//! Resource servers: the custom OAuth scopes (`identifier/scope`) a pool defines and its clients
//! may be allowed; `client_credentials` tokens carry only scopes that still exist here.
//! Stored in the pool's meta, so they persist with every other pool setting.

use serde_json::{Value, json};

use crate::app::AppState;
use crate::constraints::{self, length, pattern};
use crate::error::{CognitoError, Result};
use crate::model::PoolMeta;
use crate::paging::{answer, page};
use crate::params::Params;
use crate::persist::Record;

/// botocore: `ResourceServerScopeListType` max 100.
const MAX_SCOPES: usize = 100;

/// `ResourceServerIdentifierType`: `[\x21\x23-\x5B\x5D-\x7E]+` (printable ASCII but space, `"`, `\`).
fn identifier_char(c: char) -> bool {
    matches!(c, '\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')
}

/// `ResourceServerNameType`: `[\w\s+=,.@-]+`.
fn name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c.is_whitespace() || "+=,.@-".contains(c)
}

/// `ResourceServerScopeNameType`: `[\x21\x23-\x2E\x30-\x5B\x5D-\x7E]+` (no space, `"`, `/`, `\`).
fn scope_char(c: char) -> bool {
    matches!(c, '\x21' | '\x23'..='\x2E' | '\x30'..='\x5B' | '\x5D'..='\x7E')
}

fn check_identifier(id: &str) -> Result<()> {
    length(id, "identifier", 1, 256)?;
    pattern(
        id,
        "identifier",
        r"[\x21\x23-\x5B\x5D-\x7E]+",
        identifier_char,
    )
}

fn check_name(name: &str) -> Result<()> {
    length(name, "name", 1, 256)?;
    pattern(name, "name", r"[\w\s+=,.@-]+", name_char)
}

/// The `Scopes` member: each `{ScopeName, ScopeDescription}` checked, names unique.
fn scopes_from(v: Option<&Value>) -> Result<Vec<Value>> {
    let Some(v) = v else {
        return Ok(Vec::new());
    };
    let list = constraints::list(v, "Scopes", "scopes", 0, MAX_SCOPES)?;
    let mut out: Vec<Value> = Vec::new();
    for (i, s) in list.iter().enumerate() {
        let n = i + 1;
        let name =
            constraints::string(s.get("ScopeName"), &format!("scopes.{n}.member.scopeName"))?;
        length(name, &format!("scopes.{n}.member.scopeName"), 1, 256)?;
        pattern(
            name,
            &format!("scopes.{n}.member.scopeName"),
            r"[\x21\x23-\x2E\x30-\x5B\x5D-\x7E]+",
            scope_char,
        )?;
        let path = format!("scopes.{n}.member.scopeDescription");
        let desc = constraints::string(s.get("ScopeDescription"), &path)?;
        length(desc, &path, 1, 256)?;
        if out.iter().any(|o| o["ScopeName"] == name) {
            return Err(CognitoError::InvalidParameter(format!(
                "Duplicate scope names are not allowed: {name}"
            )));
        }
        out.push(json!({"ScopeName": name, "ScopeDescription": desc}));
    }
    Ok(out)
}

/// The server as AWS returns it (`Scopes` omitted when there are none).
fn server_json(pool_id: &str, identifier: &str, name: &str, scopes: Vec<Value>) -> Value {
    let mut out = json!({"UserPoolId": pool_id, "Identifier": identifier, "Name": name});
    if !scopes.is_empty() {
        out["Scopes"] = Value::Array(scopes);
    }
    out
}

fn not_found(identifier: &str, pool_id: &str) -> CognitoError {
    CognitoError::ResourceNotFound(format!(
        "Resource server {identifier} does not exist in pool {pool_id}."
    ))
}

/// Every `identifier/scope` the pool's resource servers define: the custom scopes a client may hold.
pub fn custom_scopes(meta: &PoolMeta) -> Vec<String> {
    meta.resource_servers
        .iter()
        .flat_map(|(id, s)| {
            s.get("Scopes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|sc| sc.get("ScopeName").and_then(Value::as_str))
                .map(move |n| format!("{id}/{n}"))
        })
        .collect()
}

/// The scopes every pool has besides its resource servers' (`AllowedOAuthScopes` of a client).
const STANDARD_SCOPES: &[&str] = &[
    "phone",
    "email",
    "openid",
    "profile",
    "aws.cognito.signin.user.admin",
];

/// A client's `AllowedOAuthScopes` must be standard or defined by a resource server of its pool.
pub fn check_client_scopes(meta: &PoolMeta, scopes: &[String]) -> Result<()> {
    let defined = custom_scopes(meta);
    match scopes
        .iter()
        .find(|s| !STANDARD_SCOPES.contains(&s.as_str()) && !defined.contains(s))
    {
        Some(s) => Err(CognitoError::ScopeDoesNotExist(format!(
            "Invalid scope requested: {s}"
        ))),
        None => Ok(()),
    }
}

/// Create (`update == false`) or replace one server; the members are checked before any lock.
async fn put(app: &AppState, p: &Params, update: bool) -> Result<Value> {
    let pool_id = p.str("UserPoolId")?.to_owned();
    let identifier = p.str("Identifier")?.to_owned();
    check_identifier(&identifier)?;
    let name = p.str("Name")?.to_owned();
    check_name(&name)?;
    let server = server_json(&pool_id, &identifier, &name, scopes_from(p.get("Scopes"))?);
    app.commit(|store, recs| {
        let m = &mut store.pool_mut(&pool_id)?.meta;
        let exists = m.resource_servers.contains_key(&identifier);
        if update && !exists {
            return Err(not_found(&identifier, &pool_id));
        }
        if !update && exists {
            return Err(CognitoError::InvalidParameter(format!(
                "{identifier} already exists in pool {pool_id}."
            )));
        }
        m.resource_servers.insert(identifier, server.clone());
        recs.push(Record::PutPool { meta: m.clone() });
        Ok(json!({ "ResourceServer": server }))
    })
    .await
}

pub async fn create(app: &AppState, p: &Params) -> Result<Value> {
    put(app, p, false).await
}

pub async fn update(app: &AppState, p: &Params) -> Result<Value> {
    put(app, p, true).await
}

pub fn describe(app: &AppState, p: &Params) -> Result<Value> {
    let pool_id = p.str("UserPoolId")?;
    let identifier = p.str("Identifier")?;
    let store = app.store.read();
    let server = store
        .pool(pool_id)?
        .meta
        .resource_servers
        .get(identifier)
        .ok_or_else(|| not_found(identifier, pool_id))?;
    Ok(json!({ "ResourceServer": server }))
}

/// `ListResourceServers`: `MaxResults` 1–50 (required by the model), `NextToken` paging.
pub fn list(app: &AppState, p: &Params) -> Result<Value> {
    let pool_id = p.str("UserPoolId")?;
    let max = constraints::max_results(p.i64("MaxResults"), 50, true)?;
    let store = app.store.read();
    let pool = store.pool(pool_id)?;
    let (items, next) = page(
        pool.meta.resource_servers.iter(),
        p.opt_str("NextToken"),
        max,
    );
    Ok(answer("ResourceServers", items, next, "NextToken"))
}

pub async fn delete(app: &AppState, p: &Params) -> Result<Value> {
    let pool_id = p.str("UserPoolId")?.to_owned();
    let identifier = p.str("Identifier")?.to_owned();
    app.commit(|store, recs| {
        let m = &mut store.pool_mut(&pool_id)?.meta;
        if m.resource_servers.remove(&identifier).is_none() {
            return Err(not_found(&identifier, &pool_id));
        }
        recs.push(Record::PutPool { meta: m.clone() });
        Ok(json!({}))
    })
    .await
}
