//! The fault suite (issue 11): each test brings up its own stack, injects one fault into a running
//! service while a write load runs, and checks that the orchestrator brings the service back and
//! that nothing acknowledged was lost.
//!
//! Short by default (a few seconds of load per test); `HIPPODROME_FAULTS_SECONDS=60 cargo test -p
//! tests --test faults -- --nocapture` runs the long form and prints the figures. Never asserts speed.
//!
//! Not here, because the orchestrator's own suite already covers them (orchestrator/tests/it):
//! crash-looping at start with the rest of the stack up, SIGTERM-ignoring groups with grandchildren,
//! `kill -9` of a `--detach`ed orchestrator followed by `orchestrator kill`, and services dying with
//! the orchestrator.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_cognitoidentityprovider as idp;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};
use test_support::wait_for_within;
use tests::Stack;

/// Writers per load.
const WRITERS: usize = 4;
/// How long a restarted service may take to be back (generous: a loaded 2-core CI box).
const RECOVERY_DEADLINE: Duration = Duration::from_secs(60);

/// Seconds of load on each side of the fault.
fn load_seconds() -> f64 {
    std::env::var("HIPPODROME_FAULTS_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .unwrap_or(3.0)
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(2))
        .no_proxy()
        .build()
        .expect("http client")
}

fn core_stack(seed: u64) -> Stack {
    Stack::up(seed, &["--profile", "core", "--health-interval-ms", "500"]).expect("stack up")
}

async fn service_status(stack: &Stack, service: &str) -> Option<Value> {
    let v: Value = http()
        .get(format!("{}/api/status", stack.dashboard_url()))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    Some(v[service].clone())
}

async fn current_pid(stack: &Stack, service: &str) -> i32 {
    wait_for_within(&format!("{service} to run"), RECOVERY_DEADLINE, || async {
        let s = service_status(stack, service).await.unwrap_or_default();
        let running = s["status"] == "running";
        s["pid"].as_i64().filter(|_| running).map(|pid| pid as i32)
    })
    .await
}

/// Poll until `service` runs under a pid other than `old` and its `/healthz` answers 200; the
/// time from `since` to then, and the new pid.
async fn wait_back(
    stack: &Stack,
    service: &str,
    base_url: &str,
    old: i32,
    since: Instant,
) -> (Duration, i32) {
    let client = http();
    loop {
        if let Some(s) = service_status(stack, service).await {
            let pid = s["pid"].as_i64().map(|p| p as i32);
            if s["status"] == "running" && pid.is_some_and(|p| p != old) {
                let healthy = client
                    .get(format!("{base_url}/healthz"))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if healthy {
                    return (since.elapsed(), pid.unwrap_or_default());
                }
            }
        }
        assert!(
            since.elapsed() < RECOVERY_DEADLINE,
            "{service} was not back within {RECOVERY_DEADLINE:?}: {:?}",
            service_status(stack, service).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The shared state of a write load: every acknowledged id, and the stop flag.
#[derive(Default)]
struct Load {
    acked: Mutex<Vec<String>>,
    failed: std::sync::atomic::AtomicUsize,
    stop: AtomicBool,
}

impl Load {
    fn acked(&self) -> usize {
        self.acked.lock().map(|a| a.len()).unwrap_or(0)
    }
}

/// Sleep while the load runs, `secs` seconds.
async fn run_for(secs: f64) {
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
}

/// Wait until the load has acknowledged more than `n` writes (proof that writes work again).
async fn wait_acked_beyond(load: &Load, n: usize, what: &str) {
    wait_for_within(
        &format!("a write acknowledged {what}"),
        RECOVERY_DEADLINE,
        || async { (load.acked() > n).then_some(()) },
    )
    .await;
}

// ------------------------------------------------------------------------------------------------
// fake-cell

struct Cell {
    url: String,
    key: String,
}

async fn cell_with_index(stack: &Stack, index: &str) -> Cell {
    let m = stack.manifest().expect("seed manifest");
    let url = m["services"]["cell_url"]
        .as_str()
        .expect("cell_url in the manifest")
        .trim_end_matches('/')
        .to_owned();
    let key = m["accounts"][0]["api_keys"][0]["key"]
        .as_str()
        .expect("an API key in the manifest")
        .to_owned();
    let client = http();
    let r = client
        .post(format!("{url}/api/v2/indexes/{index}"))
        .header("x-api-key", &key)
        .json(&json!({}))
        .send()
        .await
        .expect("create index");
    assert!(r.status().is_success(), "create index: {}", r.status());
    wait_for_within("the index to be READY", RECOVERY_DEADLINE, || async {
        let st: Value = client
            .get(format!("{url}/api/v2/indexes/{index}/status"))
            .header("x-api-key", &key)
            .send()
            .await
            .expect("index status")
            .json()
            .await
            .unwrap_or_default();
        (st["indexStatus"] == "READY").then_some(())
    })
    .await;
    Cell { url, key }
}

/// `WRITERS` tasks adding one small batch of documents after another; an id counts as
/// acknowledged when the add answered 200 and its item answered 200.
fn cell_load(cell: &Cell, index: &str, load: &Arc<Load>) -> Vec<tokio::task::JoinHandle<()>> {
    (0..WRITERS)
        .map(|w| {
            let load = load.clone();
            let url = format!("{}/indexes/{index}/documents", cell.url);
            let key = cell.key.clone();
            tokio::spawn(async move {
                let client = http();
                let mut n = 0u64;
                while !load.stop.load(Ordering::SeqCst) {
                    let ids: Vec<String> = (0..4).map(|i| format!("w{w}-{n}-{i}")).collect();
                    n += 1;
                    let docs: Vec<Value> = ids
                        .iter()
                        .map(|id| json!({"_id": id, "title": format!("fault load {id}")}))
                        .collect();
                    let answer = client
                        .post(&url)
                        .header("x-api-key", &key)
                        .json(&json!({"documents": docs, "tensorFields": ["title"]}))
                        .send()
                        .await;
                    let body: Option<Value> = match answer {
                        Ok(r) if r.status().as_u16() == 200 => r.json().await.ok(),
                        _ => None,
                    };
                    let ok: Vec<String> = body
                        .iter()
                        .flat_map(|b| b["items"].as_array().cloned().unwrap_or_default())
                        .filter(|it| it["status"] == 200)
                        .filter_map(|it| it["_id"].as_str().map(str::to_owned))
                        .collect();
                    if ok.is_empty() {
                        load.failed.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    } else if let Ok(mut a) = load.acked.lock() {
                        a.extend(ok);
                    }
                }
            })
        })
        .collect()
}

/// How many of `ids` `GET …/documents/{id}` finds (8 readers in parallel).
async fn cell_count_present(cell: &Cell, index: &str, ids: Vec<String>) -> (usize, Vec<String>) {
    let chunks: Vec<Vec<String>> = ids.chunks(ids.len() / 8 + 1).map(<[_]>::to_vec).collect();
    let mut tasks = Vec::new();
    for chunk in chunks {
        let base = format!("{}/indexes/{index}/documents", cell.url);
        let key = cell.key.clone();
        tasks.push(tokio::spawn(async move {
            let client = http();
            let mut found = 0;
            let mut missing = Vec::new();
            for id in chunk {
                let mut tries = 0;
                loop {
                    tries += 1;
                    match client
                        .get(format!("{base}/{id}"))
                        .header("x-api-key", &key)
                        .send()
                        .await
                    {
                        Ok(r) if r.status().as_u16() == 200 => {
                            found += 1;
                            break;
                        }
                        Ok(r) if r.status().as_u16() == 404 => {
                            missing.push(id);
                            break;
                        }
                        // A transport error or an unexpected status: retry a few times.
                        _ if tries < 5 => tokio::time::sleep(Duration::from_millis(200)).await,
                        other => panic!("GET document {id}: {other:?}"),
                    }
                }
            }
            (found, missing)
        }));
    }
    let mut found = 0;
    let mut missing = Vec::new();
    for t in tasks {
        let (f, m) = t.await.expect("reader task");
        found += f;
        missing.extend(m);
    }
    (found, missing)
}

/// Let the writers run, `kill -9` `service` halfway, wait until the orchestrator has it back at
/// `url` and writes are acknowledged again, run as long again, then stop and join the writers.
/// Returns the recovery time and the old and new pids.
async fn kill_9_under_load(
    stack: &Stack,
    service: &str,
    url: &str,
    load: &Load,
    writers: Vec<tokio::task::JoinHandle<()>>,
) -> Killed {
    run_for(load_seconds() / 2.0).await;
    wait_acked_beyond(load, 0, "before the kill").await;
    let old = current_pid(stack, service).await;
    kill(Pid::from_raw(old), Signal::SIGKILL).unwrap_or_else(|e| panic!("kill -9 {service}: {e}"));
    let killed_at = Instant::now();
    let at_kill = load.acked();
    let (recovery, new) = wait_back(stack, service, url, old, killed_at).await;
    wait_acked_beyond(load, at_kill, "after the restart").await;
    run_for(load_seconds() / 2.0).await;
    load.stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.await.expect("writer task");
    }
    Killed {
        service: service.to_owned(),
        recovery,
        old,
        new,
    }
}

/// What a `kill -9` cost: how long until the service answered again, and its pids.
struct Killed {
    service: String,
    recovery: Duration,
    old: i32,
    new: i32,
}

impl Killed {
    /// Print the acknowledged / recovered / lost figures and fail if anything acknowledged is gone.
    fn assert_nothing_lost(
        &self,
        writes: &str,
        records: &str,
        load: &Load,
        acked: usize,
        recovered: usize,
        missing: &[String],
    ) {
        let lost = acked - recovered;
        println!(
            "{}: acknowledged {acked}, recovered {recovered}, lost {lost}, recovery {} ms \
             (pid {} -> {}; {} failed {writes} during the gap)",
            self.service,
            self.recovery.as_millis(),
            self.old,
            self.new,
            load.failed.load(Ordering::SeqCst)
        );
        assert_eq!(
            lost,
            0,
            "acknowledged {records} lost: {:?}",
            &missing[..missing.len().min(20)]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_fake_cell_under_write_load_loses_no_acknowledged_write() {
    let stack = core_stack(1101);
    let index = "faults-kill";
    let cell = cell_with_index(&stack, index).await;
    let load = Arc::new(Load::default());
    let writers = cell_load(&cell, index, &load);

    let killed = kill_9_under_load(&stack, "fake_cell", &cell.url, &load, writers).await;

    let ids = load.acked.lock().map(|a| a.clone()).unwrap_or_default();
    let acked = ids.len();
    let (recovered, missing) = cell_count_present(&cell, index, ids).await;
    killed.assert_nothing_lost("adds", "documents", &load, acked, recovered, &missing);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigstop_fake_cell_is_restarted_by_the_health_monitor() {
    let stack = core_stack(1103);
    let m = stack.manifest().expect("seed manifest");
    let url = m["services"]["cell_url"]
        .as_str()
        .expect("cell_url")
        .trim_end_matches('/')
        .to_owned();
    let old = current_pid(&stack, "fake_cell").await;
    kill(Pid::from_raw(old), Signal::SIGSTOP).expect("SIGSTOP fake_cell");
    let stopped_at = Instant::now();
    let (recovery, new) = wait_back(&stack, "fake_cell", &url, old, stopped_at).await;
    // The hung process is gone (continued and killed, then reaped), not left stopped.
    wait_for_within(
        &format!("the stopped fake_cell {old} to be gone"),
        RECOVERY_DEADLINE,
        || async { kill(Pid::from_raw(old), None).is_err().then_some(()) },
    )
    .await;
    let status = service_status(&stack, "fake_cell")
        .await
        .unwrap_or_default();
    println!(
        "fake_cell SIGSTOP: recovery {} ms (pid {old} -> {new}, restarts {})",
        recovery.as_millis(),
        status["restarts"]
    );
    assert_eq!(status["status"], "running", "{status}");
    assert!(status["restarts"].as_u64().unwrap_or(0) >= 1, "{status}");
}

// ------------------------------------------------------------------------------------------------
// fake-cognito

fn cognito_client(url: &str, region: &str) -> idp::Client {
    let cfg = seed::moto::sdk_config(url, region);
    let conf = idp::config::Builder::from(&cfg)
        // A failed write is a failed write: no retries hiding the gap.
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(10))
                .connect_timeout(Duration::from_secs(2))
                .build(),
        )
        .build();
    idp::Client::from_conf(conf)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_fake_cognito_under_write_load_loses_no_acknowledged_user() {
    let stack = core_stack(1102);
    let m = stack.manifest().expect("seed manifest");
    let url = m["services"]["cognito_url"]
        .as_str()
        .expect("cognito_url")
        .trim_end_matches('/')
        .to_owned();
    let pool = m["cognito"]["pool_id"]
        .as_str()
        .expect("pool id")
        .to_owned();
    let region = m["cognito"]["region"]
        .as_str()
        .unwrap_or("us-east-1")
        .to_owned();
    let load = Arc::new(Load::default());
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let load = load.clone();
            let (url, pool, region) = (url.clone(), pool.clone(), region.clone());
            tokio::spawn(async move {
                let client = cognito_client(&url, &region);
                let mut n = 0u64;
                while !load.stop.load(Ordering::SeqCst) {
                    let name = format!("fault-w{w}-{n}");
                    n += 1;
                    let r = client
                        .admin_create_user()
                        .user_pool_id(&pool)
                        .username(&name)
                        .temporary_password("Fault-Passw0rd!")
                        .message_action(idp::types::MessageActionType::Suppress)
                        .send()
                        .await;
                    match r {
                        Ok(_) => {
                            if let Ok(mut a) = load.acked.lock() {
                                a.push(name);
                            }
                        }
                        Err(_) => {
                            load.failed.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                }
            })
        })
        .collect();

    let killed = kill_9_under_load(&stack, "fake_cognito", &url, &load, writers).await;

    let names = load.acked.lock().map(|a| a.clone()).unwrap_or_default();
    let acked = names.len();
    let client = cognito_client(&url, &region);
    let mut recovered = 0;
    let mut missing = Vec::new();
    for name in &names {
        let mut tries = 0;
        loop {
            tries += 1;
            match client
                .admin_get_user()
                .user_pool_id(&pool)
                .username(name)
                .send()
                .await
            {
                Ok(_) => {
                    recovered += 1;
                    break;
                }
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_user_not_found_exception()) =>
                {
                    missing.push(name.clone());
                    break;
                }
                Err(_) if tries < 5 => tokio::time::sleep(Duration::from_millis(200)).await,
                Err(e) => panic!("AdminGetUser {name}: {e:?}"),
            }
        }
    }
    killed.assert_nothing_lost("creates", "users", &load, acked, recovered, &missing);
}

// ------------------------------------------------------------------------------------------------
// moto under the local event pipe

/// A minimal HTTP sink standing in for the settings exporter: answers every request 200 `{}` and
/// keeps each request body.
async fn start_sink(port: u16) -> Arc<Mutex<Vec<String>>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind the exporter's port");
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let seen = bodies.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                loop {
                    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n");
                    if let Some(end) = head_end {
                        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                        let len = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + len {
                            let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + len]);
                            if let Ok(mut s) = seen.lock() {
                                s.push(body.into_owned());
                            }
                            let _ = sock
                                .write_all(
                                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                                      content-length: 2\r\nconnection: close\r\n\r\n{}",
                                )
                                .await;
                            return;
                        }
                    }
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
            });
        }
    });
    bodies
}

fn deliveries(sink: &Mutex<Vec<String>>, marker: &str) -> usize {
    sink.lock()
        .map(|s| s.iter().filter(|b| b.contains(marker)).count())
        .unwrap_or(0)
}

async fn wait_delivered(sink: &Mutex<Vec<String>>, marker: &str) {
    wait_for_within(
        &format!("the pipe to deliver {marker}"),
        RECOVERY_DEADLINE,
        || async { (deliveries(sink, marker) > 0).then_some(()) },
    )
    .await;
}

/// Put one item whose every key attribute carries `marker`.
async fn put_marked(ddb: &aws_sdk_dynamodb::Client, table: &str, marker: &str) {
    use aws_sdk_dynamodb::types::{AttributeValue, ScalarAttributeType};
    let d = ddb
        .describe_table()
        .table_name(table)
        .send()
        .await
        .expect("DescribeTable");
    let t = d.table.expect("table description");
    let mut put = ddb.put_item().table_name(table);
    for k in t.key_schema() {
        let name = k.attribute_name();
        let kind = t
            .attribute_definitions()
            .iter()
            .find(|a| a.attribute_name() == name)
            .map(|a| a.attribute_type().clone());
        let v = match kind {
            Some(ScalarAttributeType::N) => AttributeValue::N(
                marker
                    .chars()
                    .filter(char::is_ascii_digit)
                    .collect::<String>(),
            ),
            _ => AttributeValue::S(marker.to_owned()),
        };
        put = put.item(name, v);
    }
    put = put.item("fault_marker", AttributeValue::S(marker.to_owned()));
    put.send().await.expect("PutItem");
}

async fn moto_status_ok(stack: &Stack, old: i32) -> bool {
    service_status(stack, "moto").await.is_some_and(|s| {
        s["status"] == "running" && s["pid"].as_i64().is_some_and(|p| p as i32 != old)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn moto_restart_under_the_event_pipe_delivers_once() {
    let stack =
        Stack::up(1104, &["--profile", "full", "--health-interval-ms", "500"]).expect("stack up");
    let m = stack.manifest().expect("seed manifest");
    let info: Value = http()
        .get(format!("{}/api/stack", stack.dashboard_url()))
        .send()
        .await
        .expect("GET /api/stack")
        .json()
        .await
        .expect("stack JSON");
    let router = info["info"]["router_url"]
        .as_str()
        .expect("router_url")
        .trim_end_matches('/')
        .to_owned();
    let routes: Value = http()
        .get(format!("{router}/routes"))
        .send()
        .await
        .expect("GET /routes")
        .json()
        .await
        .expect("routes JSON");
    let target = routes["routes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["prefix"] == "EcomIndexSettings.")
        .and_then(|r| r["url"].as_str())
        .expect("a route for EcomIndexSettings.")
        .to_owned();
    let port: u16 = target
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .and_then(|p| p.split('/').next())
        .and_then(|p| p.parse().ok())
        .expect("the route's port");
    let sink = start_sink(port).await;
    let table = m["moto"]["tables"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str())
        .find(|n| n.ends_with("EcomIndexSettingsTable"))
        .expect("the settings table in the manifest")
        .to_owned();
    let moto = m["services"]["moto_url"].as_str().expect("moto_url");
    let cfg = seed::moto::sdk_config(moto, m["region"].as_str().unwrap_or("us-east-1"));
    let ddb = aws_sdk_dynamodb::Client::new(&cfg);

    // The pipe works before the fault.
    put_marked(&ddb, &table, "faultmark-1101").await;
    wait_delivered(&sink, "faultmark-1101").await;

    // Restart moto (in-memory: every table is gone), then re-seed.
    let old = current_pid(&stack, "moto").await;
    let restarted_at = Instant::now();
    let out = stack.cmd(&["control", "restart", "moto"]);
    assert!(
        out.status.success(),
        "control restart moto: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    wait_for_within("moto to come back", RECOVERY_DEADLINE, || async {
        moto_status_ok(&stack, old).await.then_some(())
    })
    .await;
    let moto_back = restarted_at.elapsed();
    let out = stack.cmd(&["seed"]);
    assert!(
        out.status.success(),
        "seed after the restart: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // New writes flow again, once each, and nothing from before the restart comes back.
    put_marked(&ddb, &table, "faultmark-2202").await;
    wait_delivered(&sink, "faultmark-2202").await;
    let resumed = restarted_at.elapsed();
    put_marked(&ddb, &table, "faultmark-3303").await;
    wait_delivered(&sink, "faultmark-3303").await;
    // Past one of the pipe's 3 s stream re-checks: a re-read would show up by then.
    let watch_until = Instant::now() + Duration::from_secs(4);
    while Instant::now() < watch_until {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let counts: Vec<usize> = ["faultmark-1101", "faultmark-2202", "faultmark-3303"]
        .iter()
        .map(|k| deliveries(&sink, k))
        .collect();
    let events: Value = http()
        .get(format!("{router}/events?limit=1"))
        .send()
        .await
        .expect("GET /events")
        .json()
        .await
        .unwrap_or_default();
    println!(
        "moto restart: back in {} ms, pipe resumed {} ms after the restart; deliveries \
         before/after/after = {counts:?}; pipe duplicates_skipped {}",
        moto_back.as_millis(),
        resumed.as_millis(),
        events["pipe"]["duplicates_skipped"]
    );
    assert_eq!(
        counts,
        vec![1, 1, 1],
        "each record must be delivered exactly once"
    );
}
