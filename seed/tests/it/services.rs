//! The whole stack: fake-cell and fake-cognito in-process on 127.0.0.1:0 (fake-cell checking
//! keys), moto as a child process. Seeding twice gives byte-identical manifests and the second
//! run creates nothing; the seeded keys, indexes, documents and users work with real clients.

use std::path::Path;
use std::time::Duration;

use aws_sdk_cognitoidentityprovider::types::AuthFlowType;
use clap::Parser;
use seed::SeedConfig;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::support::{Moto, config, created, free_port, recorder};

/// A service running in this process; stops when dropped.
struct InProcess {
    url: String,
    _stop: oneshot::Sender<()>,
}

fn index_port_range() -> String {
    // fake-cell takes the first free port of its range for each index.
    let low = test_support::free_ports(31);
    format!("{low}-{}", low + 30)
}

async fn start_cell_on(listener: TcpListener, state_dir: &Path) -> InProcess {
    let state = state_dir.join("cell.json");
    let ports = index_port_range();
    let cfg = fake_cell::Config::parse_from([
        "fake-cell",
        "--state-file",
        state.to_str().unwrap(),
        "--index-ports",
        &ports,
        "--no-watchdog",
    ]);
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        if let Err(e) = fake_cell::run(cfg, listener, async move {
            let _ = rx.await;
        })
        .await
        {
            eprintln!("fake-cell stopped: {e:#}");
        }
    });
    InProcess { url, _stop: tx }
}

async fn start_cognito(state_dir: &Path) -> InProcess {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let state = state_dir.join("cognito.json");
    let cfg =
        fake_cognito::Config::parse_from(["fake-cognito", "--state-file", state.to_str().unwrap()]);
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        if let Err(e) = fake_cognito::run(cfg, listener, async move {
            let _ = rx.await;
        })
        .await
        {
            eprintln!("fake-cognito stopped: {e:#}");
        }
    });
    InProcess { url, _stop: tx }
}

async fn get(url: &str, key: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(url)
        .header("x-api-key", key)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeds_every_service_identically_twice_and_the_data_works() {
    let dir = tempfile::tempdir().unwrap();
    let cell = start_cell_on(TcpListener::bind("127.0.0.1:0").await.unwrap(), dir.path()).await;
    let cognito = start_cognito(dir.path()).await;
    let moto = Moto::spawn_on(free_port());

    let mut cfg: SeedConfig = config(2026, dir.path().join("one"));
    cfg.cell_url = Some(cell.url.clone());
    cfg.cognito_url = Some(cognito.url.clone());
    cfg.moto_url = moto.as_ref().map(|m| m.url.clone());
    cfg.sizes.docs_per_index = 300; // three add-documents calls per index, one partial

    let (lines, progress) = recorder();
    let (m1, r1) = seed::run_with_report(&cfg, progress).await.unwrap();
    let lines = lines.lock().unwrap().clone();
    for group in ["cell-accounts", "cell-indexes", "cell-documents", "cognito"] {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("ready: {group} "))),
            "{group} not ready: {lines:?}"
        );
    }
    assert!(created(&r1) > 0);

    let mut cfg2 = cfg.clone();
    cfg2.out_dir = dir.path().join("two");
    let (m2, r2) = seed::run_with_report(&cfg2, |_| {}).await.unwrap();
    assert_eq!(
        created(&r2),
        0,
        "second run created something: {:?}",
        r2.groups
    );
    assert_eq!(m1, m2);
    assert_eq!(
        std::fs::read(dir.path().join("one/seed.json")).unwrap(),
        std::fs::read(dir.path().join("two/seed.json")).unwrap()
    );

    // fake-cell: keys authenticate, indexes are listed with endpoints, documents are there.
    let account = &m1.accounts[0];
    let key = &account.api_keys[0].key;
    let (status, list) = get(&format!("{}/api/v2/indexes", cell.url), key).await;
    assert_eq!(status, 200, "{list}");
    for ix in &account.indexes {
        let endpoint = ix.endpoint.as_deref().expect("endpoint recorded");
        let entry = list["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["indexName"] == ix.name.as_str())
            .unwrap_or_else(|| panic!("{} not listed: {list}", ix.name));
        assert_eq!(entry["marqoEndpoint"], endpoint);
        assert_eq!(entry["indexStatus"], "READY");
        let (status, stats) = get(&format!("{}/indexes/{}/stats", cell.url, ix.name), key).await;
        assert_eq!(status, 200);
        assert_eq!(stats["numberOfDocuments"], 300);
        let (status, doc) = get(
            &format!(
                "{endpoint}/indexes/{}/documents/{}",
                ix.name, ix.sample_doc_ids[0]
            ),
            key,
        )
        .await;
        assert_eq!(status, 200, "{doc}");
        assert!(
            doc["title"].as_str().is_some_and(|t| !t.is_empty()),
            "{doc}"
        );
    }
    let (status, _) = get(&format!("{}/api/v2/indexes", cell.url), "not-a-key").await;
    assert!(status == 401 || status == 403, "a wrong key got {status}");

    // fake-cognito: the first user logs in with the public client; attributes link the account.
    let c = &m1.cognito;
    let pool_id = c.pool_id.as_deref().unwrap();
    assert!(c.clients.secret.client_secret.is_some());
    assert!(c.users.iter().all(|u| u.sub.is_some()));
    let sdk = seed::moto::sdk_config(&cognito.url, "us-east-1");
    let idp = aws_sdk_cognitoidentityprovider::Client::new(&sdk);
    let user = &c.users[0];
    let auth = idp
        .initiate_auth()
        .client_id(c.clients.public.client_id.as_deref().unwrap())
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", &user.username)
        .auth_parameters("PASSWORD", &user.password)
        .send()
        .await
        .unwrap();
    assert!(
        auth.authentication_result
            .and_then(|a| a.id_token)
            .is_some()
    );
    let got = idp
        .admin_get_user()
        .user_pool_id(pool_id)
        .username(&user.username)
        .send()
        .await
        .unwrap();
    let attr = |n: &str| {
        got.user_attributes()
            .iter()
            .find(|a| a.name == n)
            .and_then(|a| a.value.clone())
    };
    assert_eq!(
        attr("custom:account_id").as_deref(),
        Some(account.account_id.as_str())
    );
    assert_eq!(attr("sub"), user.sub);
    let groups = idp
        .admin_list_groups_for_user()
        .user_pool_id(pool_id)
        .username(&user.username)
        .send()
        .await
        .unwrap();
    let names: Vec<_> = groups
        .groups()
        .iter()
        .filter_map(|g| g.group_name.clone())
        .collect();
    assert_eq!(names, vec!["admin".to_owned()]);

    let env = std::fs::read_to_string(dir.path().join("one/.env.e2e")).unwrap();
    assert!(env.contains(&format!("HIPPODROME_COGNITO_POOL_ID={pool_id}\n")));
    assert!(env.contains(&format!("HIPPODROME_CELL_API_KEY={key}\n")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cell_that_starts_late_is_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut cfg = config(5, dir.path().join("out"));
    cfg.cell_url = Some(format!("http://127.0.0.1:{port}"));
    cfg.sizes.docs_per_index = 10;
    let run = tokio::spawn(async move { seed::run(&cfg, |_| {}).await });
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(!run.is_finished(), "seed gave up before the cell started");
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let _cell = start_cell_on(listener, dir.path()).await;
    let m = run.await.unwrap().unwrap();
    assert!(m.accounts[0].indexes[0].endpoint.is_some());
}
