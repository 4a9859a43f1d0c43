//! fake-cell: accounts and their API keys (admin API), indexes (Marqo Cloud control plane, with
//! the owner's key) and the catalogue documents (128 per call, several calls in flight).
//!
//! Indexes are created one after another in plan order so a cell that hands out ports in order
//! gives the same endpoints every time; their readiness is awaited concurrently. An index that
//! already holds exactly the planned number of documents is left alone, so a second run uploads
//! nothing.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::catalogue;
use crate::fixtures::Fixtures;
use crate::manifest::{Account, Index, Manifest};
use crate::{GroupReport, Progress, SeedConfig, SeedError, Tally, bounded, timed};

/// Documents per add-documents call (Marqo's limit).
pub const DOC_BATCH: usize = 128;
const CONCURRENCY: usize = 8;

/// Index name → `marqoEndpoint`.
pub type Endpoints = BTreeMap<String, String>;

pub fn http_client() -> Result<Client, String> {
    Client::builder()
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(CONCURRENCY * 2)
        .build()
        .map_err(|e| e.to_string())
}

/// Send a JSON request; returns the status and the parsed body (`null` when empty or not JSON).
async fn call(
    http: &Client,
    method: Method,
    url: &str,
    key: Option<&str>,
    body: Option<&Value>,
) -> Result<(StatusCode, Value), String> {
    let mut req = http.request(method, url);
    if let Some(k) = key {
        req = req.header("x-api-key", k);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    let resp = req.send().await.map_err(|e| crate::moto::describe(&e))?;
    let status = resp.status();
    let bytes = resp.bytes().await.map_err(|e| e.to_string())?;
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok((status, value))
}

fn code_of(v: &Value) -> &str {
    v.get("code").and_then(Value::as_str).unwrap_or("")
}

fn unexpected(status: StatusCode, v: &Value) -> String {
    let msg = v.get("message").and_then(Value::as_str).unwrap_or("");
    format!("HTTP {status} {} {msg}", code_of(v))
        .trim()
        .to_owned()
}

/// Create (or find) `ok_created`; `Ok(false)` when the answer is the `exists_code` 409.
async fn create(
    http: &Client,
    url: &str,
    key: Option<&str>,
    body: &Value,
    exists_code: &str,
) -> Result<bool, String> {
    let (status, v) = call(http, Method::POST, url, key, Some(body)).await?;
    if status.is_success() {
        Ok(true)
    } else if status == StatusCode::CONFLICT && code_of(&v) == exists_code {
        Ok(false)
    } else {
        Err(unexpected(status, &v))
    }
}

/// The key an account manages its indexes with (the first key with `admin` or `write`).
fn manage_key(a: &Account) -> Option<&str> {
    a.api_keys
        .iter()
        .find(|k| k.scopes.iter().any(|s| s == "admin" || s == "write"))
        .map(|k| k.key.as_str())
}

/// Indexes in creation order: round-robin over accounts, as the plan dealt them.
fn creation_order(accounts: &[Account]) -> Vec<(&Account, &Index)> {
    let rounds = accounts.iter().map(|a| a.indexes.len()).max().unwrap_or(0);
    let mut out = Vec::new();
    for j in 0..rounds {
        for a in accounts {
            if let Some(ix) = a.indexes.get(j) {
                out.push((a, ix));
            }
        }
    }
    out
}

pub async fn seed(
    cfg: &SeedConfig,
    url: &str,
    f: &Fixtures,
    plan: &Manifest,
    progress: &Progress<'_>,
) -> (Vec<GroupReport>, Option<Endpoints>) {
    let base = url.trim_end_matches('/');
    let http = match http_client() {
        Ok(h) => h,
        Err(e) => {
            let e = SeedError::new("cell", "http client", e);
            progress.failed(&e);
            return (vec![GroupReport::failed("cell", e, Duration::ZERO)], None);
        }
    };
    let mut reports = Vec::new();
    let accounts = timed("cell-accounts", progress, accounts(&http, base, plan)).await;
    reports.push(accounts.0);
    if accounts.1.is_none() {
        return (reports, None);
    }
    let indexes = timed("cell-indexes", progress, indexes(&http, base, cfg, plan)).await;
    reports.push(indexes.0);
    let Some(endpoints) = indexes.1 else {
        return (reports, None);
    };
    let docs = timed("cell-documents", progress, documents(&http, base, f, plan)).await;
    reports.push(docs.0);
    (reports, docs.1.map(|()| endpoints))
}

async fn accounts(http: &Client, base: &str, plan: &Manifest) -> Result<(Tally, ()), SeedError> {
    let created: Vec<bool> = bounded(
        plan.accounts
            .iter()
            .map(|a| async move {
                let body = json!({
                    "account_id": a.account_id,
                    "system_account_id": a.system_account_id,
                    "name": a.name,
                });
                create(
                    http,
                    &format!("{base}/_fake/accounts"),
                    None,
                    &body,
                    "account_already_exists",
                )
                .await
                .map_err(|e| {
                    SeedError::new("cell-accounts", &format!("account {}", a.account_id), e)
                })
            })
            .collect(),
        CONCURRENCY * 2,
    )
    .await?;
    let keys = plan
        .accounts
        .iter()
        .flat_map(|a| a.api_keys.iter().map(move |k| (a, k)));
    let key_created: Vec<bool> = bounded(
        keys.into_iter()
            .map(|(a, k)| async move {
                let body = json!({
                    "key": k.key,
                    "key_id": k.key_id,
                    "name": k.name,
                    "scopes": k.scopes,
                });
                create(
                    http,
                    &format!("{base}/_fake/accounts/{}/keys", a.account_id),
                    None,
                    &body,
                    "api_key_already_exists",
                )
                .await
                .map_err(|e| SeedError::new("cell-accounts", &format!("api key {}", k.key_id), e))
            })
            .collect(),
        CONCURRENCY * 2,
    )
    .await?;
    let mut t = Tally::from_flags(&created);
    t.add(Tally::from_flags(&key_created));
    Ok((t, ()))
}

async fn indexes(
    http: &Client,
    base: &str,
    cfg: &SeedConfig,
    plan: &Manifest,
) -> Result<(Tally, Endpoints), SeedError> {
    let err = |name: &str, e: String| SeedError::new("cell-indexes", &format!("index {name}"), e);
    let order = creation_order(&plan.accounts);
    let mut flags = Vec::with_capacity(order.len());
    for (a, ix) in &order {
        let key =
            manage_key(a).ok_or_else(|| err(&ix.name, "its account has no write key".into()))?;
        let body = json!({"type": "unstructured", "model": ix.model});
        let created = create(
            http,
            &format!("{base}/api/v2/indexes/{}", ix.name),
            Some(key),
            &body,
            "index_already_exists",
        )
        .await
        .map_err(|e| err(&ix.name, e))?;
        flags.push(created);
    }
    bounded(
        order
            .iter()
            .map(|(a, ix)| async move {
                wait_ready(
                    http,
                    base,
                    manage_key(a).unwrap_or(""),
                    &ix.name,
                    cfg.wait_timeout,
                )
                .await
                .map_err(|e| err(&ix.name, e))
            })
            .collect(),
        CONCURRENCY,
    )
    .await?;

    let mut endpoints = Endpoints::new();
    for a in plan.accounts.iter().filter(|a| !a.indexes.is_empty()) {
        let key = manage_key(a).unwrap_or("");
        let (status, v) = call(
            http,
            Method::GET,
            &format!("{base}/api/v2/indexes"),
            Some(key),
            None,
        )
        .await
        .map_err(|e| err("list", e))?;
        if !status.is_success() {
            return Err(err("list", unexpected(status, &v)));
        }
        for entry in v
            .get("results")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let (Some(n), Some(e)) = (
                entry.get("indexName").and_then(Value::as_str),
                entry.get("marqoEndpoint").and_then(Value::as_str),
            ) {
                endpoints.insert(n.to_owned(), e.trim_end_matches('/').to_owned());
            }
        }
        if let Some(ix) = a
            .indexes
            .iter()
            .find(|ix| !endpoints.contains_key(&ix.name))
        {
            return Err(err(
                &ix.name,
                "not in GET /api/v2/indexes for its owner's key".into(),
            ));
        }
    }
    Ok((Tally::from_flags(&flags), endpoints))
}

async fn wait_ready(
    http: &Client,
    base: &str,
    key: &str,
    name: &str,
    timeout: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    let url = format!("{base}/api/v2/indexes/{name}/status");
    let mut delay = Duration::from_millis(10);
    loop {
        let (status, v) = call(http, Method::GET, &url, Some(key), None).await?;
        if !status.is_success() {
            return Err(unexpected(status, &v));
        }
        let state = v.get("indexStatus").and_then(Value::as_str).unwrap_or("");
        match state {
            "READY" => return Ok(()),
            "FAILED" | "DELETING" | "DELETED" => return Err(format!("index status is {state}")),
            _ => {}
        }
        if Instant::now() >= deadline {
            return Err(format!("still {state} after {:.1}s", timeout.as_secs_f64()));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_millis(250));
    }
}

async fn documents(
    http: &Client,
    base: &str,
    f: &Fixtures,
    plan: &Manifest,
) -> Result<(Tally, ()), SeedError> {
    let err = |name: &str, e: String| SeedError::new("cell-documents", &format!("index {name}"), e);
    let order = creation_order(&plan.accounts);
    let mut tally = Tally::default();
    let mut batches: Vec<(&str, &str, Vec<Value>)> = Vec::new();
    for (a, ix) in order {
        let key = manage_key(a).unwrap_or("");
        let (status, v) = call(
            http,
            Method::GET,
            &format!("{base}/indexes/{}/stats", ix.name),
            Some(key),
            None,
        )
        .await
        .map_err(|e| err(&ix.name, e))?;
        if !status.is_success() {
            return Err(err(&ix.name, format!("stats: {}", unexpected(status, &v))));
        }
        let have = v
            .get("numberOfDocuments")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        if have == ix.documents as u64 {
            tally.existing += ix.documents;
            continue;
        }
        tally.created += ix.documents;
        let ids = catalogue::doc_ids(plan.seed, &ix.name, ix.documents);
        let docs = catalogue::documents(&f.catalogue, plan.seed, &ix.name, &ix.category, &ids);
        let mut docs = docs.into_iter().peekable();
        while docs.peek().is_some() {
            let chunk: Vec<Value> = docs.by_ref().take(DOC_BATCH).collect();
            batches.push((ix.name.as_str(), key, chunk));
        }
    }
    bounded(
        batches
            .into_iter()
            .map(|(name, key, chunk)| async move {
                let body = json!({"documents": chunk, "tensorFields": catalogue::TENSOR_FIELDS});
                let (status, v) = call(
                    http,
                    Method::POST,
                    &format!("{base}/indexes/{name}/documents"),
                    Some(key),
                    Some(&body),
                )
                .await
                .map_err(|e| err(name, e))?;
                if !status.is_success() {
                    return Err(err(name, unexpected(status, &v)));
                }
                if v.get("errors").and_then(Value::as_bool) != Some(false) {
                    let first = v
                        .get("items")
                        .and_then(Value::as_array)
                        .and_then(|items| {
                            items.iter().find(|i| {
                                i.get("status")
                                    .and_then(Value::as_u64)
                                    .is_some_and(|s| s >= 300)
                            })
                        })
                        .map(|i| i.to_string())
                        .unwrap_or_else(|| v.to_string().chars().take(300).collect());
                    return Err(err(name, format!("a document was rejected: {first}")));
                }
                Ok(())
            })
            .collect(),
        CONCURRENCY,
    )
    .await?;
    Ok((tally, ()))
}
