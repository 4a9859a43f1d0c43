//! Process behaviour: durability across `kill -9` under concurrent load, stable endpoints across
//! restarts (and a new port when the old one is taken), the watchdog exit, a corrupt state file,
//! the creation delay, concurrent index creation, and a failing journal (real EFBIG via ulimit).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::support::*;

#[tokio::test]
async fn acknowledged_writes_survive_kill_9_under_concurrent_load() {
    let dir = tempfile::tempdir().unwrap();
    // A tiny compaction threshold makes snapshots happen during the load too.
    let mut cell = CellProc::start(dir.path(), &["--open", "--compact-after-bytes", "20000"]).await;
    let created = create_index(
        &cell.url,
        "unused",
        "durable",
        json!({"model": "hf/e5-small-v2"}),
    )
    .await;
    let endpoint = created["marqoEndpoint"].as_str().unwrap().to_string();
    let acked: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for w in 0..6 {
        let acked = acked.clone();
        let base = if w % 2 == 0 {
            endpoint.clone()
        } else {
            cell.url.clone()
        };
        tasks.push(tokio::spawn(async move {
            for batch in 0..1000 {
                let docs = docs(&format!("w{w}-b{batch}"), 4);
                let res = client()
                    .post(format!("{base}/indexes/durable/documents"))
                    .timeout(Duration::from_secs(5))
                    .json(&json!({"documents": docs, "tensorFields": ["title"]}))
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status() == 200 => {
                        let ids: Vec<String> = docs
                            .iter()
                            .map(|d| d["_id"].as_str().unwrap().to_string())
                            .collect();
                        acked.lock().await.extend(ids);
                    }
                    _ => return,
                }
            }
        }));
    }
    // Let the writers run, then kill -9 in the middle of the load.
    let deadline = Instant::now() + Duration::from_secs(30);
    while acked.lock().await.len() < 600 {
        assert!(Instant::now() < deadline, "writers made no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cell.kill9();
    for t in tasks {
        let _ = t.await;
    }
    let acked = acked.lock().await.clone();
    let cell2 = cell.restart(dir.path()).await;
    let (_, list) = get(&format!("{}/api/v2/indexes", cell2.url), None).await;
    assert_eq!(
        list["results"][0]["marqoEndpoint"],
        endpoint.as_str(),
        "endpoint stable across restarts"
    );
    for chunk in acked.chunks(5000) {
        let (s, r) = call(
            Method::GET,
            &format!("{endpoint}/indexes/durable/documents"),
            None,
            Some(&json!(chunk)),
        )
        .await;
        assert_eq!(s, 200);
        let missing: Vec<&Value> = r["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["_found"] != true)
            .collect();
        assert!(
            missing.is_empty(),
            "{} acknowledged docs lost, e.g. {:?}",
            missing.len(),
            missing.first()
        );
    }
    // and search still works on the restored data
    let (s, r) = post(
        &format!("{endpoint}/indexes/durable/search"),
        None,
        json!({"q": "document about", "searchMethod": "LEXICAL", "limit": 5}),
    )
    .await;
    assert_eq!((s, r["hits"].as_array().unwrap().len()), (200, 5));
}

#[tokio::test]
async fn taken_port_at_restart_moves_the_index_and_sigterm_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let mut cell = CellProc::start(dir.path(), &["--open"]).await;
    let created = create_index(&cell.url, "x", "moving", json!({})).await;
    let old = created["marqoEndpoint"].as_str().unwrap().to_string();
    add_docs(&old, "x", "moving", &docs("m", 3)).await;
    // graceful stop: exit code 0, nothing lost (the journal holds it)
    nix_term(&cell);
    let status = cell.wait_exit(Duration::from_secs(10)).await;
    assert!(status.success(), "{status}");
    let old_port: u16 = old.rsplit(':').next().unwrap().parse().unwrap();
    let _squatter = std::net::TcpListener::bind(("127.0.0.1", old_port)).unwrap();
    let cell2 = CellProc::start_with(dir.path(), cell.args.clone(), None).await;
    let (_, list) = get(&format!("{}/api/v2/indexes", cell2.url), None).await;
    let new = list["results"][0]["marqoEndpoint"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new, old);
    let (s, st) = get(&format!("{new}/indexes/moving/stats"), None).await;
    assert_eq!((s, st["numberOfDocuments"].as_u64()), (200, Some(3)));
    assert!(cell2.log_text().contains("remembered index port is taken"));
}

fn nix_term(cell: &CellProc) {
    let pid = cell.child.id();
    let _ = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
}

/// The watchdog really probes: we stop one index server's listener through the fault-injection
/// admin route (the index stays registered), its probe then fails twice and the process exits 1
/// after saving a snapshot.
#[tokio::test]
async fn watchdog_exits_1_when_an_index_server_stops_answering() {
    let dir = tempfile::tempdir().unwrap();
    let mut cell = CellProc::start(
        dir.path(),
        &[
            "--open",
            "--watchdog-interval-ms",
            "150",
            "--watchdog-failures",
            "2",
        ],
    )
    .await;
    create_index(&cell.url, "x", "watched", json!({})).await;
    // healthy for a few rounds
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        cell.child.try_wait().unwrap().is_none(),
        "watchdog must not fire while healthy"
    );
    let (s, _) = post(
        &format!("{}/_fake/indexes/watched/stop-server", cell.url),
        None,
        json!({}),
    )
    .await;
    assert_eq!(s, 200);
    let status = cell.wait_exit(Duration::from_secs(15)).await;
    assert_eq!(status.code(), Some(1), "log:\n{}", cell.log_text());
    assert!(cell.state.exists(), "snapshot saved before exiting");
    // restarts cleanly with the index intact
    let cell2 = CellProc::start_with(
        dir.path(),
        vec![
            "--open".into(),
            "--no-watchdog".into(),
            "--index-ports".into(),
            index_range(),
        ],
        None,
    )
    .await;
    let (s, _) = get(&format!("{}/indexes/watched/stats", cell2.url), None).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn corrupt_state_file_is_moved_aside() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("state.json"), b"{ this is not json").unwrap();
    let cell = CellProc::start(dir.path(), &["--open"]).await;
    let aside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1);
    assert_eq!(
        std::fs::read(aside[0].path()).unwrap(),
        b"{ this is not json"
    );
    let (s, _) = get(&format!("{}/indexes", cell.url), None).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn creation_delay_reports_creating_then_ready() {
    let dir = tempfile::tempdir().unwrap();
    let cell = CellProc::start(dir.path(), &["--open", "--creation-delay-ms", "700"]).await;
    let c = create_index(&cell.url, "x", "slow", json!({})).await;
    assert_eq!(c["indexStatus"], "CREATING");
    let (_, st) = get(&format!("{}/api/v2/indexes/slow/status", cell.url), None).await;
    assert_eq!(st["indexStatus"], "CREATING");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, st) = get(&format!("{}/indexes/slow/status", cell.url), None).await;
        if st["indexStatus"] == "READY" {
            break;
        }
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn concurrent_index_creation_jobs_and_listing() {
    let dir = tempfile::tempdir().unwrap();
    let cell = CellProc::start(dir.path(), &["--open"]).await;
    let url = cell.url.clone();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            post(&format!("{url}/api/v2/indexes/c{}", i % 4), None, json!({}))
                .await
                .0
        }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap());
    }
    codes.sort();
    assert_eq!(codes, vec![200, 200, 200, 200, 409, 409, 409, 409]);
    let (_, list) = get(&format!("{url}/api/v2/indexes"), None).await;
    let endpoints: HashSet<String> = list["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["marqoEndpoint"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(endpoints.len(), 4, "every index has its own port");
    for e in &endpoints {
        let (s, _) = get(&format!("{e}/"), None).await;
        assert_eq!(s, 200);
    }
    add_docs(&url, "x", "c0", &docs("j", 10)).await;
    // many jobs created and listed concurrently; the list stays bounded (100)
    let mut tasks = Vec::new();
    for i in 0..110 {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            if i % 5 == 0 {
                get(&format!("{url}/api/v2/reindex"), None).await.0
            } else {
                post(
                    &format!("{url}/api/v2/reindex"),
                    None,
                    json!({"sourceIndexName": "c0", "targetIndexName": format!("c{}", 1 + i % 3)}),
                )
                .await
                .0
            }
        }));
    }
    for t in tasks {
        let code = t.await.unwrap();
        assert!(code == 200 || code == 202, "{code}");
    }
    let (_, jobs) = get(&format!("{url}/api/v2/reindex"), None).await;
    assert!(jobs["results"].as_array().unwrap().len() <= 100);
    assert_eq!(jobs["results"].as_array().unwrap().len(), 88);
}

/// A real write error from the kernel: the cell runs under `ulimit -f` (SIGXFSZ ignored), so the
/// journal's writes fail with EFBIG once the file limit is reached, like a full disk.
#[tokio::test]
async fn journal_failure_degrades_health_and_refuses_writes_but_reads_work() {
    let dir = tempfile::tempdir().unwrap();
    let args = vec![
        "--open".to_string(),
        "--no-watchdog".into(),
        "--index-ports".into(),
        index_range(),
    ];
    let cell = CellProc::start_with(dir.path(), args, Some("trap '' XFSZ; ulimit -f 128")).await;
    let url = &cell.url;
    post(&format!("{url}/indexes/full"), None, json!({})).await;
    let mut refused = None;
    for b in 0..2000 {
        let big: Vec<Value> = (0..8)
            .map(|i| json!({"_id": format!("{b}-{i}"), "t": "z".repeat(1000)}))
            .collect();
        let (s, e) = post(
            &format!("{url}/indexes/full/documents"),
            None,
            json!({"documents": big, "tensorFields": []}),
        )
        .await;
        if s != 200 {
            refused = Some((s, e));
            break;
        }
    }
    let (s, e) = refused.expect("the journal never failed");
    assert_eq!(
        (s, e["code"].as_str()),
        (503, Some("persistence_unavailable")),
        "{e}"
    );
    let (s, h) = get(&format!("{url}/healthz"), None).await;
    assert_eq!((s, h["status"].as_str()), (200, Some("degraded")));
    assert_eq!(h["checks"]["persistence"]["ok"], false);
    let (s, e) = post(
        &format!("{url}/indexes/full/documents"),
        None,
        json!({"documents": [{"a": "b"}], "tensorFields": []}),
    )
    .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (503, Some("persistence_unavailable"))
    );
    let (s, _) = get(&format!("{url}/indexes/full/documents/0-0"), None).await;
    assert_eq!(s, 200, "reads keep working");
    let (s, _) = post(
        &format!("{url}/indexes/full/search"),
        None,
        json!({"q": "z", "searchMethod": "LEXICAL"}),
    )
    .await;
    assert_eq!(s, 200);
}
