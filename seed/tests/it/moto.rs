//! Against a real moto: two runs with the same seed write byte-identical manifests and the second
//! creates nothing; a moto that starts late is waited for.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use seed::Manifest;

use crate::support::{Moto, config, created, free_port, recorder};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeding_twice_is_identical_and_the_second_run_is_a_no_op() {
    let Some(moto) = Moto::spawn_on(free_port()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(4242, dir.path().join("a"));
    cfg.moto_url = Some(moto.url.clone());

    let (lines, progress) = recorder();
    let (m1, r1) = seed::run_with_report(&cfg, progress).await.unwrap();
    let lines = lines.lock().unwrap().clone();
    for group in [
        "moto-tables",
        "moto-records",
        "moto-buckets",
        "moto-queues",
        "moto-topics",
        "moto-secrets",
        "moto-state-machines",
    ] {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("ready: {group} "))),
            "{group} not ready in {lines:?}"
        );
    }
    assert!(
        lines.iter().any(|l| l == "skipped: cell (no URL given)"),
        "{lines:?}"
    );
    assert!(created(&r1) > 0);
    let first = std::fs::read(dir.path().join("a/seed.json")).unwrap();

    let mut cfg2 = cfg.clone();
    cfg2.out_dir = dir.path().join("b");
    let (m2, r2) = seed::run_with_report(&cfg2, |_| {}).await.unwrap();
    let second = std::fs::read(dir.path().join("b/seed.json")).unwrap();
    assert_eq!(m1, m2);
    assert_eq!(
        first, second,
        "seed.json differs between two runs with the same seed"
    );
    assert_eq!(
        created(&r2),
        0,
        "second run created something: {:?}",
        r2.groups
    );

    // The manifest on disk is the one returned, and the env file points at it.
    let on_disk: Manifest = serde_json::from_slice(&first).unwrap();
    assert_eq!(on_disk, m1);
    assert_eq!(m1.skipped, vec!["cell".to_owned(), "cognito".to_owned()]);
    let env = std::fs::read_to_string(dir.path().join("a/.env.e2e")).unwrap();
    assert!(env.contains(&format!("AWS_ENDPOINT_URL={}\n", moto.url)));
    assert!(env.contains("HIPPODROME_RANDOM_SEED=4242\n"));

    // What moto now holds matches the manifest.
    let sdk = seed::moto::sdk_config(&moto.url, "us-east-1");
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    for t in &m1.moto.tables {
        let d = ddb
            .describe_table()
            .table_name(&t.name)
            .send()
            .await
            .unwrap();
        let table = d.table.unwrap();
        let streaming = table.stream_specification.is_some_and(|s| s.stream_enabled);
        assert_eq!(streaming, t.stream_view_type.is_some(), "{}", t.name);
        let scanned = ddb.scan().table_name(&t.name).send().await.unwrap();
        assert_eq!(scanned.count as usize, t.items, "{}", t.name);
    }
    assert!(
        m1.moto
            .tables
            .iter()
            .any(|t| t.name == "dev-it-EcomIndexSettingsTable"
                && t.stream_view_type.as_deref() == Some("NEW_AND_OLD_IMAGES"))
    );
    let a0 = &m1.accounts[0];
    let got = ddb
        .get_item()
        .table_name("dev-it-AccountsTable")
        .key("account_id", AttributeValue::S(a0.account_id.clone()))
        .send()
        .await
        .unwrap();
    let item = got.item.unwrap();
    assert_eq!(
        item["system_account_id"],
        AttributeValue::S(a0.system_account_id.clone())
    );

    let sm = aws_sdk_secretsmanager::Client::new(&sdk);
    let secret = sm
        .get_secret_value()
        .secret_id("dev/api_key_encryption_key_secret")
        .send()
        .await
        .unwrap();
    assert_eq!(
        secret.secret_string.as_deref(),
        Some(seed::DEFAULT_ENCRYPTION_SECRET)
    );
    assert!(m1.moto.queues.iter().all(|q| q.url.is_some()));
    assert!(m1.moto.topics.iter().all(|t| {
        t.arn
            .as_deref()
            .is_some_and(|a| a.starts_with("arn:aws:sns:"))
    }));
    assert!(m1.moto.state_machines.iter().all(|t| t.arn.is_some()));

    // A different seed gives different ids against the same moto.
    let mut cfg3 = cfg.clone();
    cfg3.seed = Some(4243);
    cfg3.out_dir = dir.path().join("c");
    let m3 = seed::run(&cfg3, |_| {}).await.unwrap();
    assert_ne!(m3.accounts[0].account_id, m1.accounts[0].account_id);
    assert_ne!(
        m3.accounts[0].api_keys[0].key,
        m1.accounts[0].api_keys[0].key
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moto_that_starts_late_is_waited_for() {
    if !test_support::moto::available() {
        eprintln!("skipping: moto_server not found");
        return;
    }
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(7, dir.path().to_path_buf());
    cfg.moto_url = Some(format!("http://127.0.0.1:{port}"));
    cfg.sizes.docs_per_index = 0;
    let run = tokio::spawn(async move { seed::run(&cfg, |_| {}).await });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!run.is_finished(), "seed gave up before moto started");
    let _moto = Moto::spawn_on(port).unwrap();
    let m = run.await.unwrap().unwrap();
    assert_eq!(m.seed, 7);
    assert!(dir.path().join("seed.json").exists());
}

#[tokio::test]
async fn a_target_that_never_comes_up_fails_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(1, dir.path().to_path_buf());
    cfg.moto_url = Some(format!("http://127.0.0.1:{}", free_port()));
    cfg.wait_timeout = Duration::from_millis(300);
    let (lines, progress) = recorder();
    let err = seed::run(&cfg, progress).await.unwrap_err().to_string();
    assert!(err.contains("moto"), "{err}");
    assert!(err.contains("not ready"), "{err}");
    let lines = lines.lock().unwrap().clone();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("failed: moto: http://127.0.0.1:")),
        "{lines:?}"
    );
    assert!(
        !dir.path().join("seed.json").exists(),
        "a failed run must not write a manifest"
    );
}
