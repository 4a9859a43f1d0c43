//! Snapshots against real stacks (issue 20): save → change everything through real clients (the
//! Marqo HTTP API, the AWS SDK for Cognito and DynamoDB) → restore in place → every read equals
//! the snapshot, also after a restart; a snapshot copied into another project with another seed
//! starts that stack already restored (`up --from-snapshot`); a restore racing writers never
//! shows a half-restored cell or a half-replayed moto (the AWS gateway holds calls back meanwhile)
//! and loses no write acknowledged after it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use aws_sdk_cognitoidentityprovider as idp;
use aws_sdk_dynamodb as ddb;
use serde_json::{Value, json};
use tests::Stack;

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .no_proxy()
        .build()
        .unwrap()
}

fn ok(out: std::process::Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    text
}

/// Every account's indexes (name → (its account's key, endpoint)) and the Cognito pool of a
/// stack.
struct Seeded {
    indexes: BTreeMap<String, (String, String)>,
    pool: String,
    region: String,
    cell: String,
    cognito: String,
    aws: String,
}

fn seeded(stack: &Stack) -> Seeded {
    let m = stack.manifest().unwrap();
    let s = |k: &str| m["services"][k].as_str().unwrap_or_default().to_owned();
    Seeded {
        indexes: m["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|a| {
                let key = a["api_keys"][0]["key"].as_str().unwrap().to_owned();
                a["indexes"].as_array().unwrap().iter().map(move |i| {
                    let name = i["name"].as_str().unwrap().to_owned();
                    (
                        name,
                        (key.clone(), i["endpoint"].as_str().unwrap().to_owned()),
                    )
                })
            })
            .collect(),
        pool: m["cognito"]["pool_id"].as_str().unwrap().to_owned(),
        region: m["region"].as_str().unwrap_or("us-east-1").to_owned(),
        cell: s("cell_url"),
        cognito: s("cognito_url"),
        aws: s("moto_url"),
    }
}

/// One account's indexes as its key lists them, each with its document count and ids.
async fn read_account(
    h: &reqwest::Client,
    cell: &str,
    key: &str,
    out: &mut BTreeMap<String, Value>,
) {
    let listed: Value = h
        .get(format!("{cell}/api/v2/indexes"))
        .header("x-api-key", key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for i in listed["results"].as_array().unwrap() {
        let name = i["indexName"].as_str().unwrap().to_owned();
        let endpoint = i["marqoEndpoint"].as_str().unwrap();
        let docs: Value = h
            .post(format!("{endpoint}/indexes/{name}/search"))
            .header("x-api-key", key)
            .json(&json!({"q": "*", "limit": 1000, "searchMethod": "LEXICAL"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut ids: Vec<String> = docs["hits"]
            .as_array()
            .map(|a| a.iter().map(|d| d["_id"].to_string()).collect())
            .unwrap_or_default();
        ids.sort();
        out.insert(name, json!({ "docs.count": i["docs.count"], "ids": ids }));
    }
}

/// Everything a client can read, in a canonical form: the account's indexes with their document
/// counts and every document, the pool's users with their attributes and groups, every table's
/// items.
async fn reads(s: &Seeded) -> Value {
    let h = http();
    let mut cell = BTreeMap::new();
    let keys: std::collections::BTreeSet<&String> = s.indexes.values().map(|(k, _)| k).collect();
    for key in keys {
        read_account(&h, &s.cell, key, &mut cell).await;
    }
    let cog = idp::Client::new(&seed::moto::sdk_config(&s.cognito, &s.region));
    let mut users = BTreeMap::new();
    let mut page = None;
    loop {
        let out = cog
            .list_users()
            .user_pool_id(&s.pool)
            .set_pagination_token(page.take())
            .send()
            .await
            .unwrap();
        for u in out.users() {
            let mut attrs: Vec<String> = u
                .attributes()
                .iter()
                .map(|a| format!("{}={}", a.name(), a.value().unwrap_or_default()))
                .collect();
            attrs.sort();
            users.insert(u.username().unwrap_or_default().to_owned(), attrs);
        }
        match out.pagination_token() {
            Some(t) => page = Some(t.to_owned()),
            None => break,
        }
    }
    let dynamo = ddb::Client::new(&seed::moto::sdk_config(&s.aws, &s.region));
    let mut tables = BTreeMap::new();
    for t in dynamo.list_tables().send().await.unwrap().table_names() {
        let scan = dynamo.scan().table_name(t).send().await.unwrap();
        let mut items: Vec<String> = scan
            .items()
            .iter()
            .map(|i| format!("{:?}", i.iter().collect::<BTreeMap<_, _>>()))
            .collect();
        items.sort();
        tables.insert(t.clone(), items);
    }
    json!({ "cell": cell, "users": users, "tables": tables })
}

/// How many webhook events the router has seen (`/api/events`).
async fn webhooks(stack: &Stack) -> usize {
    let v: Value = http()
        .get(format!("{}/api/events?limit=500", stack.dashboard_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["events"].as_array().map_or(0, Vec::len)
}

/// Change every service through its real client: documents added and an index deleted on the
/// cell, a user created and one deleted in Cognito, an item written and a table created in moto.
async fn mutate(s: &Seeded) {
    let h = http();
    let (first, (key, endpoint)) = s.indexes.iter().next().unwrap();
    let added = h
        .post(format!("{endpoint}/indexes/{first}/documents"))
        .header("x-api-key", key)
        .json(
            &json!({"documents": [{"_id": "after-snapshot", "title": "new"}], "tensorFields": []}),
        )
        .send()
        .await
        .unwrap();
    assert!(added.status().is_success(), "{:?}", added.text().await);
    let (last, (key, _)) = s.indexes.iter().next_back().unwrap();
    let gone = h
        .delete(format!("{}/api/v2/indexes/{last}", s.cell))
        .header("x-api-key", key)
        .send()
        .await
        .unwrap();
    assert!(gone.status().is_success(), "{:?}", gone.text().await);
    let cog = idp::Client::new(&seed::moto::sdk_config(&s.cognito, &s.region));
    // Two in, one out: the user count (what `diff` compares) moves too.
    for name in ["created-after-snapshot", "created-after-snapshot-2"] {
        cog.admin_create_user()
            .user_pool_id(&s.pool)
            .username(name)
            .send()
            .await
            .unwrap();
    }
    let victim = cog
        .list_users()
        .user_pool_id(&s.pool)
        .limit(1)
        .send()
        .await
        .unwrap();
    let victim = victim.users()[0].username().unwrap().to_owned();
    cog.admin_delete_user()
        .user_pool_id(&s.pool)
        .username(victim)
        .send()
        .await
        .unwrap();
    let dynamo = ddb::Client::new(&seed::moto::sdk_config(&s.aws, &s.region));
    let table = dynamo.list_tables().send().await.unwrap().table_names()[0].clone();
    let key = dynamo
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .unwrap();
    // Every key attribute, of its declared type.
    let desc = key.table().unwrap();
    let mut put = dynamo.put_item().table_name(&table);
    for k in desc.key_schema() {
        let name = k.attribute_name();
        let def = desc
            .attribute_definitions()
            .iter()
            .find(|d| d.attribute_name() == name)
            .unwrap();
        let value = match def.attribute_type() {
            ddb::types::ScalarAttributeType::N => ddb::types::AttributeValue::N("7".into()),
            _ => ddb::types::AttributeValue::S("after-snapshot".into()),
        };
        put = put.item(name, value);
    }
    put.send().await.unwrap();
    dynamo
        .create_table()
        .table_name("created-after-snapshot")
        .attribute_definitions(
            ddb::types::AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ddb::types::ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            ddb::types::KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(ddb::types::KeyType::Hash)
                .build()
                .unwrap(),
        )
        .billing_mode(ddb::types::BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn restore_brings_every_read_back_in_place_and_across_restarts_and_machines() {
    let stack = Stack::up(2020, &["--profile", "full"]).expect("stack up");
    let s = seeded(&stack);
    let offset = stack.offset.to_string();
    let before = reads(&s).await;
    assert!(!before["cell"].as_object().unwrap().is_empty(), "{before}");
    let text = ok(stack.cmd(&["snapshot", "save", "base", "--port-offset", &offset]));
    assert!(
        text.contains("fake-cell") && text.contains("moto"),
        "{text}"
    );

    mutate(&s).await;
    let changed = reads(&s).await;
    assert_ne!(changed, before, "the mutations changed nothing");
    let diff = ok(stack.cmd(&[
        "snapshot",
        "diff",
        "base",
        "--port-offset",
        &offset,
        "--json",
    ]));
    let diff: Value = serde_json::from_str(&diff).unwrap();
    for service in ["fake-cell", "fake-cognito", "moto"] {
        let c = diff["services"][service]["changed"].as_object().unwrap();
        assert!(!c.is_empty(), "{service} shows no change: {diff}");
    }

    // In place: the same ports, no restart, and the old data back.
    let pids_before = ok(stack.cmd(&["status", "--json"]));
    let webhooks_before = webhooks(&stack).await;
    ok(stack.cmd(&["snapshot", "restore", "base", "--port-offset", &offset]));
    assert_eq!(reads(&s).await, before);
    // moto's replay writes the seeded stream records again; the pipe must not deliver them twice
    // (it polls every few hundred ms: give it time to have done so if it were going to).
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(
        webhooks(&stack).await,
        webhooks_before,
        "replayed writes were delivered again"
    );
    let pids_after = ok(stack.cmd(&["status", "--json"]));
    let pid = |t: &str, svc: &str| serde_json::from_str::<Value>(t).unwrap()[svc]["pid"].clone();
    for svc in ["fake_cell", "fake_cognito", "moto"] {
        assert_eq!(
            pid(&pids_before, svc),
            pid(&pids_after, svc),
            "{svc} restarted"
        );
    }
    let diff = ok(stack.cmd(&["snapshot", "diff", "base", "--port-offset", &offset]));
    assert_eq!(diff.matches("unchanged").count(), 3, "{diff}");

    // The restored state is what the services persisted: a restart keeps it (moto is in memory
    // and comes back from the seed, which is what the snapshot holds for it).
    ok(stack.cmd(&["stop"]));
    let up = ok(std::process::Command::new(tests::orchestrator_bin())
        .args([
            "up",
            "--detach",
            "--table-prefix",
            "smoke-",
            "--profile",
            "full",
        ])
        .args(["--port-offset", &offset, "--project-root"])
        .arg(stack.root.path())
        .env("HIPPODROME_RANDOM_SEED", "2020")
        .output()
        .unwrap());
    assert!(up.contains("running"), "{up}");
    assert_eq!(reads(&s).await, before, "after a restart");

    // Portable: the snapshot copied into another project starts a stack with another seed
    // already restored, ports and ids as the snapshot has them.
    let other = tempfile::tempdir().unwrap();
    let dest = other.path().join(".hippodrome/snapshots/base");
    std::fs::create_dir_all(&dest).unwrap();
    for f in std::fs::read_dir(stack.root.path().join(".hippodrome/snapshots/base")).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), dest.join(f.file_name())).unwrap();
    }
    let copy = Stack::up_in(other, 7, &["--profile", "full", "--from-snapshot", "base"])
        .expect("up --from-snapshot");
    // Its seed.json is the snapshot's, naming the first stack's ports: reach this one's.
    let mut there = seeded(&copy);
    let port = |base: u16| format!("http://127.0.0.1:{}", base + copy.offset);
    (there.cell, there.aws, there.cognito) = (port(9001), port(9003), port(9006));
    assert_eq!(
        there.pool, s.pool,
        "the snapshot's seed manifest is served again"
    );
    assert_eq!(
        reads(&there).await,
        before,
        "restored from a copied snapshot with another seed"
    );
}

/// A seeded table with several items (the memberships).
async fn memberships(dynamo: &ddb::Client) -> String {
    let tables = dynamo.list_tables().send().await.unwrap();
    tables
        .table_names()
        .iter()
        .find(|t| t.contains("Memberships"))
        .expect("a memberships table")
        .clone()
}

/// Delete every other item of `table`: (items before, items after).
async fn delete_half(dynamo: &ddb::Client, table: &str) -> (i32, i32) {
    let desc = dynamo
        .describe_table()
        .table_name(table)
        .send()
        .await
        .unwrap();
    let keys: Vec<String> = desc
        .table()
        .unwrap()
        .key_schema()
        .iter()
        .map(|k| k.attribute_name().to_owned())
        .collect();
    let items = dynamo.scan().table_name(table).send().await.unwrap();
    let before = items.items().len() as i32;
    assert!(before >= 2, "{table} has {before} items");
    for item in items.items().iter().step_by(2) {
        let key = keys.iter().map(|k| (k.clone(), item[k].clone())).collect();
        dynamo
            .delete_item()
            .table_name(table)
            .set_key(Some(key))
            .send()
            .await
            .unwrap();
    }
    (before, before - (before + 1) / 2)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restore_racing_writers_shows_old_or_new_never_a_mix_and_keeps_later_writes() {
    let stack = Stack::up(3030, &["--profile", "full"]).expect("stack up");
    let s = seeded(&stack);
    let offset = stack.offset.to_string();
    ok(stack.cmd(&["snapshot", "save", "base", "--port-offset", &offset]));
    // After the snapshot: one index gone, so the snapshot's set (as its account lists it) and
    // the live set differ; the writer writes into another index.
    let (gone, (gkey, _)) = s.indexes.iter().next_back().unwrap();
    let (gone, gkey) = (gone.clone(), gkey.clone());
    let old_names: Vec<String> = s
        .indexes
        .iter()
        .filter(|(_, (k, _))| *k == gkey)
        .map(|(n, _)| n.clone())
        .collect();
    let res = http()
        .delete(format!("{}/api/v2/indexes/{gone}", s.cell))
        .header("x-api-key", &gkey)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let live_names: Vec<String> = old_names.iter().filter(|n| **n != gone).cloned().collect();
    // moto too: half of a seeded table's items gone after the snapshot.
    let dynamo = ddb::Client::new(&seed::moto::sdk_config(&s.aws, &s.region));
    let table = memberships(&dynamo).await;
    let (snapped_items, live_items) = delete_half(&dynamo, &table).await;

    let stop = Arc::new(AtomicBool::new(false));
    let (first, (wkey, endpoint)) = s.indexes.iter().find(|(n, _)| **n != gone).unwrap();
    let (first, wkey, endpoint) = (first.clone(), wkey.clone(), endpoint.clone());
    let writer = {
        let (stop, key, endpoint, index) =
            (stop.clone(), wkey.clone(), endpoint.clone(), first.clone());
        tokio::spawn(async move {
            let h = http();
            let mut acked = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) && n < 2000 {
                n += 1;
                let id = format!("racer-{n}");
                let r = h
                    .post(format!("{endpoint}/indexes/{index}/documents"))
                    .header("x-api-key", &key)
                    .json(&json!({"documents": [{"_id": id, "title": "r"}], "tensorFields": []}))
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let body: Value = r.json().await.unwrap_or(Value::Null);
                match status {
                    200 => acked.push((id, std::time::Instant::now())),
                    503 => assert!(body.to_string().contains("restore"), "{body}"),
                    other => panic!("a write during a restore answered {other}: {body}"),
                }
            }
            acked
        })
    };
    let reader = {
        let (stop, key, cell) = (stop.clone(), gkey.clone(), s.cell.clone());
        tokio::spawn(async move {
            let h = http();
            let mut seen = std::collections::BTreeSet::new();
            while !stop.load(Ordering::SeqCst) {
                let r = h
                    .get(format!("{cell}/api/v2/indexes"))
                    .header("x-api-key", &key)
                    .send()
                    .await
                    .unwrap();
                if r.status().as_u16() == 503 {
                    continue;
                }
                let v: Value = r.json().await.unwrap();
                let mut names: Vec<String> = v["results"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["indexName"].as_str().unwrap().to_owned())
                    .collect();
                names.sort();
                seen.insert(names);
            }
            seen
        })
    };
    let counter = {
        let (stop, dynamo, table) = (stop.clone(), dynamo.clone(), table.clone());
        tokio::spawn(async move {
            let mut seen = std::collections::BTreeSet::new();
            while !stop.load(Ordering::SeqCst) {
                match dynamo
                    .scan()
                    .table_name(&table)
                    .select(ddb::types::Select::Count)
                    .send()
                    .await
                {
                    Ok(out) => {
                        seen.insert(out.count());
                    }
                    // Past the gate's wait: AWS's 503, naming the restore.
                    Err(e) => assert!(format!("{e:?}").contains("restore"), "{e:?}"),
                }
            }
            seen
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    ok(stack.cmd(&["snapshot", "restore", "base", "--port-offset", &offset]));
    let restored_at = std::time::Instant::now();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    let acked = writer.await.unwrap();
    let seen = reader.await.unwrap();
    let counts = counter.await.unwrap();
    assert!(
        counts
            .iter()
            .all(|c| *c == live_items || *c == snapped_items),
        "a half-replayed moto: {counts:?}, expected {live_items} or {snapped_items}"
    );
    assert!(
        counts.contains(&snapped_items),
        "moto's restore never showed: {counts:?}"
    );

    // Every listing was the live set or the snapshot's, never something in between.
    for names in &seen {
        assert!(
            *names == live_names || *names == old_names,
            "a half-restored view: {names:?}"
        );
    }
    assert!(
        seen.contains(&old_names),
        "the restore never became visible: {seen:?}"
    );
    // Writes acknowledged after the restore answered are all there.
    let h = http();
    let later: Vec<_> = acked.iter().filter(|(_, at)| *at > restored_at).collect();
    assert!(!later.is_empty(), "no write landed after the restore");
    for (id, _) in later {
        let r = h
            .get(format!("{endpoint}/indexes/{first}/documents/{id}"))
            .header("x-api-key", &wkey)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status().as_u16(),
            200,
            "{id} acknowledged after the restore is missing"
        );
    }
}
