//! The disk fills up under a running server: a real `EFBIG` from the kernel (the server runs under
//! `ulimit -S -f`, with SIGXFSZ ignored), then the limit is lifted with `prlimit` while it runs.
//! Writes that cannot be made durable are answered 503 and never acknowledged, `/healthz` says
//! `degraded` with the OS error, the log has an ERROR naming the state file, reads keep working,
//! the service recovers once the disk accepts writes, and everything acknowledged is there after
//! a `kill -9` and restart.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

const TARGET: &str = "AWSCognitoIdentityProviderService";

/// One AWS JSON 1.1 call over plain HTTP (no SDK retries, so every 503 is seen as sent).
async fn call(s: &Server, op: &str, body: Value) -> (u16, Value) {
    let r = s
        .http()
        .post(&s.url)
        .header("X-Amz-Target", format!("{TARGET}.{op}"))
        .header("Content-Type", "application/x-amz-json-1.1")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let bytes = r.bytes().await.unwrap();
    let v = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{op}: non-JSON answer ({e}): {bytes:?}"));
    (status, v)
}

fn new_user(pool_id: &str, name: &str) -> Value {
    json!({
        "UserPoolId": pool_id,
        "Username": name,
        "MessageAction": "SUPPRESS",
        // Padding makes each record large enough to reach the file limit quickly.
        "UserAttributes": [
            {"Name": "email", "Value": format!("{name}@example.com")},
            {"Name": "custom:account_id", "Value": "x".repeat(1500)},
        ],
    })
}

async fn health(s: &Server) -> Value {
    s.get_json("/healthz").await
}

#[tokio::test]
async fn disk_full_degrades_refuses_writes_serves_reads_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");

    // 1. Persist a pool, a client and a user with no limit, then restart so they sit in the
    //    snapshot (the startup compaction), and remember the bytes on disk.
    let mut s = Server::start_at(&state, &[], &[]);
    let c = s.sdk().await;
    let f = fixture(&c).await;
    s.kill9();
    let s = Server::start_at(&state, &[], &[]);
    drop(s);

    // 2. Run under a soft file-size limit: 256 blocks (128 KiB in dash's 512-byte blocks).
    let mut s = Server::start_wrapped(&state, &[], &[], Some("trap '' XFSZ; ulimit -S -f 256"));
    let snapshot_before = std::fs::read(&state).unwrap();
    let pool = json!({"UserPoolId": f.pool_id});

    let mut acknowledged = Vec::new();
    let mut refused = None;
    for i in 0..400 {
        let name = format!("u{i}");
        let (status, body) = call(&s, "AdminCreateUser", new_user(&f.pool_id, &name)).await;
        if status == 200 {
            acknowledged.push(name);
        } else {
            refused = Some((status, body));
            break;
        }
    }
    let (status, body) = refused.expect("the journal never hit the file limit");
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["__type"], "InternalErrorException", "{body}");
    assert!(!acknowledged.is_empty());

    // Health: degraded, with the OS error.
    let h = health(&s).await;
    assert_eq!(h["status"], "degraded", "{h}");
    let err = h["checks"]["persistence"]["error"]
        .as_str()
        .unwrap_or_default();
    assert!(err.contains("File too large"), "{h}");
    assert!(err.contains(&state.display().to_string()), "{h}");

    // The log: one ERROR line naming the state file and the OS error.
    let log = s.log_text();
    assert!(
        log.lines().any(|l| l.contains("ERROR")
            && l.contains(&state.display().to_string())
            && l.contains("File too large")),
        "no clear ERROR line in the log:\n{log}"
    );

    // Further writes are refused up front, cleanly.
    let (status, body) = call(&s, "AdminCreateUser", new_user(&f.pool_id, "refused")).await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (503, Some("InternalErrorException"))
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("refused"),
        "{body}"
    );

    // Reads keep working: DescribeUserPool, ListUsers, JWKS, and a password login.
    let (status, body) = call(&s, "DescribeUserPool", pool.clone()).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(
        &s,
        "ListUsers",
        json!({"UserPoolId": f.pool_id, "Limit": 60}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let jwks = s
        .get_json(&format!("/{}/.well-known/jwks.json", f.pool_id))
        .await;
    assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(2), "{jwks}");
    let (status, body) = call(
        &s,
        "InitiateAuth",
        json!({
            "ClientId": f.client_id,
            "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": "alice", "PASSWORD": PASSWORD},
        }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["AuthenticationResult"]["AccessToken"].is_string());

    // Nothing already persisted was touched.
    assert_eq!(std::fs::read(&state).unwrap(), snapshot_before);

    // 3. The disk accepts writes again: lift the limit on the running process.
    let out = Command::new("prlimit")
        .args(["--pid", &s.pid().to_string(), "--fsize=unlimited"])
        .output()
        .expect("run prlimit");
    assert!(out.status.success(), "prlimit: {out:?}");
    let lifted = Instant::now();
    let deadline = test_support::deadline();
    loop {
        if health(&s).await["status"] == "ok" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never recovered: {}",
            health(&s).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let recovery = lifted.elapsed();
    let (status, body) = call(&s, "AdminCreateUser", new_user(&f.pool_id, "after")).await;
    assert_eq!(status, 200, "{body}");
    acknowledged.push("after".into());
    assert!(s.log_text().contains("writable again"));

    // 4. kill -9 and restart: every acknowledged write is there, the refused one is not.
    s.kill9();
    let s = Server::start_at(&state, &[], &[]);
    for name in acknowledged.iter().chain(["alice".to_string()].iter()) {
        let (status, body) = call(
            &s,
            "AdminGetUser",
            json!({"UserPoolId": f.pool_id, "Username": name}),
        )
        .await;
        assert_eq!(status, 200, "{name} lost: {body}");
    }
    let (status, _) = call(
        &s,
        "AdminGetUser",
        json!({"UserPoolId": f.pool_id, "Username": "refused"}),
    )
    .await;
    assert_eq!(status, 400, "a refused write must not appear");
    assert_eq!(health(&s).await["status"], "ok");
    println!(
        "fake_cognito disk full: acknowledged {}, recovered {}, lost 0; writes refused with 503 \
         while full, reads served; recovery {} ms after the disk accepted writes again",
        acknowledged.len(),
        acknowledged.len(),
        recovery.as_millis()
    );
}
