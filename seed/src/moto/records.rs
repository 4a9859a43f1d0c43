//! The DynamoDB records that tie accounts, users, keys and indexes together, and their upload.
//!
//! One list of items per table (see `fixtures/tables/` and the README for the attributes). The
//! upload scans each table first and writes only the items that are missing or differ, with
//! `BatchWriteItem` (25 per call, several calls in flight), so a second run writes nothing and
//! the streamed tables emit no records.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use sha2::{Digest, Sha256};

use crate::catalogue;
use crate::fixtures::Fixtures;
use crate::manifest::{Account, ApiKey, Index, User};
use crate::rng::Stream;
use crate::{SeedError, Tally, bounded};

pub type Item = HashMap<String, AttributeValue>;

/// Calls in flight at once; moto serialises requests, a few are enough to hide latency.
const CONCURRENCY: usize = 6;
const BATCH: usize = 25;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}
fn list<I: IntoIterator<Item = S>, S: Into<String>>(v: I) -> AttributeValue {
    AttributeValue::L(v.into_iter().map(|x| AttributeValue::S(x.into())).collect())
}

/// Items per table (base table name → items), in a fixed order.
pub fn items(
    f: &Fixtures,
    accounts: &[Account],
    users: &[User],
    cell: &str,
    seed: u64,
) -> Vec<(String, Vec<Item>)> {
    let mut acc = Vec::new();
    let mut members = Vec::new();
    let mut api_keys = Vec::new();
    let mut index_settings = Vec::new();
    let mut ecom = Vec::new();
    let mut merch = Vec::new();

    for a in accounts {
        let account_users: Vec<&User> = users
            .iter()
            .filter(|u| u.account_id == a.account_id)
            .collect();
        acc.push(account_item(a, account_users.first(), cell));
        members.extend(account_users.iter().map(|u| membership_item(a, u)));
        api_keys.extend(a.api_keys.iter().map(|k| api_key_item(a, k, cell)));
        for ix in &a.indexes {
            index_settings.push(index_settings_item(a, ix, cell));
            // One stream per index; the ecom settings draw from it first, then the rules.
            let mut r = Stream::new(seed, &format!("records/{}", ix.name));
            let pk = format!("{}#{}", a.system_account_id, ix.name);
            ecom.push(ecom_settings_item(a, ix, &pk, &mut r));
            merch.extend(merchandising_rules(f, ix, &pk, seed, &mut r));
        }
    }

    vec![
        ("AccountsTable".into(), acc),
        ("MembershipsTable".into(), members),
        ("ApiKeysTable".into(), api_keys),
        ("IndexSettingsTable".into(), index_settings),
        ("EcomIndexSettingsTable".into(), ecom),
        ("MerchandisingTable".into(), merch),
    ]
}

fn account_item(a: &Account, owner: Option<&&User>, cell: &str) -> Item {
    let mut item = Item::from([
        ("account_id".into(), s(&a.account_id)),
        ("system_account_id".into(), s(&a.system_account_id)),
        ("name".into(), s(&a.name)),
        ("plan".into(), s(&a.plan)),
        ("cell".into(), s(cell)),
        ("status".into(), s("active")),
        ("created_by".into(), s("hippodrome-seed")),
    ]);
    if let Some(owner) = owner {
        item.insert("owner_user_id".into(), s(&owner.user_id));
    }
    item
}

fn membership_item(a: &Account, u: &User) -> Item {
    Item::from([
        ("account_id".into(), s(&a.account_id)),
        ("user_id".into(), s(&u.user_id)),
        ("username".into(), s(&u.username)),
        ("email".into(), s(&u.email)),
        (
            "role".into(),
            s(u.groups.first().map_or("member", String::as_str)),
        ),
        ("groups".into(), list(u.groups.iter().cloned())),
    ])
}

/// A key as the control plane stores it: a hash and a short prefix, never the key itself.
fn api_key_item(a: &Account, k: &ApiKey, cell: &str) -> Item {
    Item::from([
        ("key_id".into(), s(&k.key_id)),
        ("account_id".into(), s(&a.account_id)),
        ("system_account_id".into(), s(&a.system_account_id)),
        ("cell".into(), s(cell)),
        ("name".into(), s(&k.name)),
        ("scopes".into(), list(k.scopes.iter().cloned())),
        ("key_hash".into(), s(hex_sha256(&k.key))),
        (
            "key_prefix".into(),
            s(k.key.chars().take(6).collect::<String>()),
        ),
        ("status".into(), s("active")),
    ])
}

fn index_settings_item(a: &Account, ix: &Index, cell: &str) -> Item {
    Item::from([
        ("account_id".into(), s(&a.account_id)),
        ("index_name".into(), s(&ix.name)),
        ("system_account_id".into(), s(&a.system_account_id)),
        ("cell".into(), s(cell)),
        ("type".into(), s("unstructured")),
        ("model".into(), s(&ix.model)),
        ("tensor_fields".into(), list(catalogue::TENSOR_FIELDS)),
        ("main_category".into(), s(&ix.category)),
        ("status".into(), s("READY")),
    ])
}

fn ecom_settings_item(a: &Account, ix: &Index, pk: &str, r: &mut Stream) -> Item {
    Item::from([
        ("pk".into(), s(pk)),
        ("account_id".into(), s(&a.account_id)),
        ("system_account_id".into(), s(&a.system_account_id)),
        ("index_name".into(), s(&ix.name)),
        ("enabled".into(), AttributeValue::Bool(true)),
        ("boost".into(), n(r.range(1, 5))),
        ("results_per_page".into(), n(*r.pick(&[12u64, 24, 48]))),
        (
            "default_sort".into(),
            s(*r.pick(&["relevance", "price_asc", "newest"])),
        ),
        (
            "facets".into(),
            list(["category", "brand", "color", "price"]),
        ),
        ("currency".into(), s("USD")),
    ])
}

/// Three rules per index pinning, boosting or burying some of its first documents.
fn merchandising_rules(f: &Fixtures, ix: &Index, pk: &str, seed: u64, r: &mut Stream) -> Vec<Item> {
    let doc_pool = catalogue::doc_ids(seed, &ix.name, ix.documents.min(20));
    (1..=3u32)
        .map(|rule| {
            let picked: Vec<String> = if doc_pool.is_empty() {
                Vec::new()
            } else {
                (0..r.range(1, 3))
                    .map(|_| r.pick(&doc_pool).clone())
                    .collect()
            };
            Item::from([
                ("pk".into(), s(pk)),
                ("sk".into(), s(format!("rule#{rule:02}"))),
                ("index_name".into(), s(&ix.name)),
                ("rule_type".into(), s(*r.pick(&["pin", "boost", "bury"]))),
                (
                    "query".into(),
                    s(r.pick(&f.catalogue.merchandising_queries)),
                ),
                ("doc_ids".into(), list(picked)),
                ("weight".into(), n(r.range(1, 10))),
                ("active".into(), AttributeValue::Bool(r.chance(4, 5))),
            ])
        })
        .collect()
}

fn hex_sha256(v: &str) -> String {
    Sha256::digest(v.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Write the items that are not already there, table by table (full table names given).
pub async fn upload(client: &Client, tables: Vec<(String, Vec<Item>)>) -> Result<Tally, SeedError> {
    let err = |resource: &str, message: String| SeedError::new("moto-records", resource, message);
    // Find what is missing per table (scans run concurrently).
    let missing: Vec<(String, Vec<Item>, usize)> = bounded(
        tables
            .into_iter()
            .map(|(table, wanted)| async move {
                let present = scan(client, &table).await.map_err(|e| err(&table, e))?;
                let total = wanted.len();
                let todo: Vec<Item> = wanted
                    .into_iter()
                    .filter(|w| !present.contains(w))
                    .collect();
                Ok::<_, SeedError>((table, todo, total))
            })
            .collect(),
        CONCURRENCY,
    )
    .await?;

    let mut tally = Tally::default();
    let mut batches = Vec::new();
    for (table, todo, total) in missing {
        tally.created += todo.len();
        tally.existing += total - todo.len();
        for chunk in todo.chunks(BATCH) {
            batches.push((table.clone(), chunk.to_vec()));
        }
    }
    bounded(
        batches
            .into_iter()
            .map(|(table, chunk)| async move {
                write_batch(client, &table, chunk)
                    .await
                    .map_err(|e| err(&table, e))
            })
            .collect(),
        CONCURRENCY,
    )
    .await?;
    Ok(tally)
}

async fn scan(client: &Client, table: &str) -> Result<Vec<Item>, String> {
    let mut out = Vec::new();
    let mut start: Option<Item> = None;
    loop {
        let resp = client
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| super::describe(&e))?;
        out.extend(resp.items.unwrap_or_default());
        match resp.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return Ok(out),
        }
    }
}

async fn write_batch(client: &Client, table: &str, items: Vec<Item>) -> Result<(), String> {
    let mut requests: Vec<WriteRequest> = items
        .into_iter()
        .map(|item| {
            PutRequest::builder()
                .set_item(Some(item))
                .build()
                .map(|p| WriteRequest::builder().put_request(p).build())
                .map_err(|e| e.to_string())
        })
        .collect::<Result<_, _>>()?;
    for attempt in 0..8u32 {
        let resp = client
            .batch_write_item()
            .request_items(table, requests)
            .send()
            .await
            .map_err(|e| super::describe(&e))?;
        requests = resp
            .unprocessed_items
            .and_then(|mut m| m.remove(table))
            .unwrap_or_default();
        if requests.is_empty() {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
    }
    Err(format!(
        "{} items stayed unprocessed after 8 attempts",
        requests.len()
    ))
}
