//! Bad input against a real stack (issue 11): oversized bodies, deep JSON nesting, invalid UTF-8,
//! wrong content types and unknown `X-Amz-Target`s each get a clear 4xx with a JSON body and leave
//! the service up; fake-cell's data and control routes turn away missing, unknown, revoked and
//! other-account API keys; and no service log holds a seeded password, API key or token.
//!
//! fake-cell's own suite (fake-cell/tests/it/auth.rs) covers every route × key case in process;
//! here is a spot check through the orchestrated stack.

use std::time::Duration;

use serde_json::{Value, json};
use tests::Stack;

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(2))
        .no_proxy()
        .build()
        .expect("http client")
}

struct Urls {
    cell: String,
    cognito: String,
    router: String,
    dashboard: String,
}

async fn urls(stack: &Stack) -> Urls {
    let m = stack.manifest().expect("seed manifest");
    let info: Value = http()
        .get(format!("{}/api/stack", stack.dashboard_url()))
        .send()
        .await
        .expect("GET /api/stack")
        .json()
        .await
        .expect("stack JSON");
    let s = |v: &Value| {
        v.as_str()
            .unwrap_or_default()
            .trim_end_matches('/')
            .to_owned()
    };
    Urls {
        cell: s(&m["services"]["cell_url"]),
        cognito: s(&m["services"]["cognito_url"]),
        router: s(&info["info"]["router_url"]),
        dashboard: stack.dashboard_url(),
    }
}

/// The answer to `req`: status and body, with the body required to be JSON.
/// A Cognito JSON 1.1 call of `target` (e.g. `InitiateAuth`) to fake-cognito at `url`.
fn cognito_call(c: &reqwest::Client, url: &str, target: &str) -> reqwest::RequestBuilder {
    c.post(format!("{url}/"))
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "x-amz-target",
            format!("AWSCognitoIdentityProviderService.{target}"),
        )
}

async fn send_json(req: reqwest::RequestBuilder, what: &str) -> (u16, Value) {
    let r = req.send().await.unwrap_or_else(|e| panic!("{what}: {e}"));
    let status = r.status().as_u16();
    let ctype = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = r.bytes().await.unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
        panic!(
            "{what}: {status} with a non-JSON body ({ctype}): {}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
        )
    });
    assert!(
        ctype.contains("json"),
        "{what}: {status} as {ctype}: {body}"
    );
    (status, body)
}

/// `req` answers a 4xx (in `allowed`, when given) with a JSON body.
async fn expect_4xx(req: reqwest::RequestBuilder, allowed: &[u16], what: &str) -> Value {
    let (status, body) = send_json(req, what).await;
    assert!(
        (400..500).contains(&status) && (allowed.is_empty() || allowed.contains(&status)),
        "{what}: expected a 4xx {allowed:?}, got {status}: {body}"
    );
    body
}

async fn healthy(url: &str) -> bool {
    http()
        .get(format!("{url}/healthz"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

fn deep_json(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}

const INVALID_UTF8: &[u8] = b"{\"documents\": [{\"_id\": \"a\", \"title\": \"\xff\xfe\xc3\x28\"}]}";

#[tokio::test(flavor = "multi_thread")]
async fn bad_bodies_get_a_clear_json_4xx_and_leave_every_service_up() {
    let stack = Stack::up(1111, &["--profile", "core"]).expect("stack up");
    let u = urls(&stack).await;
    let m = stack.manifest().expect("manifest");
    let key = m["accounts"][0]["api_keys"][0]["key"]
        .as_str()
        .expect("API key")
        .to_owned();
    let c = http();
    let cell_add = format!("{}/indexes/bad-input/documents", u.cell);
    let router_post = format!("{}/webhook/eventbridge", u.router);
    let amz = |target: &str| cognito_call(&c, &u.cognito, target);

    // Oversized bodies: 413 JSON (fake-cell 32 MiB, router 2 MiB).
    let big = vec![b' '; 32 * 1024 * 1024 + 4096];
    expect_4xx(
        c.post(&cell_add)
            .header("x-api-key", &key)
            .header("content-type", "application/json")
            .body(big),
        &[413],
        "fake_cell 32 MiB + 4 KiB",
    )
    .await;
    let big = vec![b' '; 2 * 1024 * 1024 + 4096];
    expect_4xx(
        c.post(&router_post)
            .header("content-type", "application/json")
            .body(big),
        &[413],
        "webhook_router 2 MiB + 4 KiB",
    )
    .await;

    // Deep nesting: a 4xx, no stack overflow.
    let deep = deep_json(100_000);
    expect_4xx(
        c.post(&cell_add)
            .header("x-api-key", &key)
            .header("content-type", "application/json")
            .body(deep.clone()),
        &[400, 422],
        "fake_cell deep JSON",
    )
    .await;
    expect_4xx(
        c.post(format!("{}/api/v2/indexes/bad-input", u.cell))
            .header("x-api-key", &key)
            .header("content-type", "application/json")
            .body(deep.clone()),
        &[400, 422],
        "fake_cell control plane deep JSON",
    )
    .await;
    expect_4xx(
        c.post(&router_post)
            .header("content-type", "application/json")
            .body(deep.clone()),
        &[400],
        "webhook_router deep JSON",
    )
    .await;
    expect_4xx(
        amz("ListUserPools").body(deep.clone()),
        &[400],
        "fake_cognito deep JSON",
    )
    .await;

    // Invalid UTF-8.
    expect_4xx(
        c.post(&cell_add)
            .header("x-api-key", &key)
            .header("content-type", "application/json")
            .body(INVALID_UTF8),
        &[400, 422],
        "fake_cell invalid UTF-8",
    )
    .await;
    expect_4xx(
        c.post(&router_post)
            .header("content-type", "application/json")
            .body(b"{\"detail-type\": \"\xff\xfe\"}".as_slice()),
        &[400],
        "webhook_router invalid UTF-8",
    )
    .await;
    expect_4xx(
        amz("ListUserPools").body(b"{\"MaxResults\": \"\xff\xfe\"}".as_slice()),
        &[400],
        "fake_cognito invalid UTF-8",
    )
    .await;

    // Not JSON at all, under a wrong content type.
    expect_4xx(
        c.post(&cell_add)
            .header("x-api-key", &key)
            .header("content-type", "text/plain")
            .body("hello"),
        &[400, 422],
        "fake_cell text/plain",
    )
    .await;
    expect_4xx(
        c.post(&router_post)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("a=b"),
        &[400, 415],
        "webhook_router form body",
    )
    .await;
    expect_4xx(
        amz("ListUserPools")
            .header("content-type", "text/plain")
            .body("hello"),
        &[400, 415],
        "fake_cognito text/plain",
    )
    .await;

    // Unknown X-Amz-Target values.
    let body = expect_4xx(
        amz("NoSuchOperation").body("{}"),
        &[400],
        "unknown X-Amz-Target",
    )
    .await;
    assert!(
        body["__type"]
            .as_str()
            .is_some_and(|t| t.contains("UnknownOperationException")),
        "{body}"
    );
    let body = expect_4xx(
        c.post(format!("{}/", u.cognito))
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", "SomethingElse.ListUserPools")
            .body("{}"),
        &[400],
        "foreign X-Amz-Target",
    )
    .await;
    assert!(
        body["__type"]
            .as_str()
            .is_some_and(|t| t.contains("UnknownOperationException")),
        "{body}"
    );
    expect_4xx(
        c.post(format!("{}/", u.cognito))
            .header("content-type", "application/x-amz-json-1.1")
            .body("{}"),
        &[400],
        "missing X-Amz-Target",
    )
    .await;

    // Unknown routes and methods are JSON 404/405 everywhere, the dashboard included.
    for base in [&u.cell, &u.cognito, &u.router, &u.dashboard] {
        expect_4xx(
            c.get(format!("{base}/no/such/route")),
            &[404],
            &format!("{base} unknown route"),
        )
        .await;
    }

    // Every service still answers.
    for base in [&u.cell, &u.cognito, &u.router, &u.dashboard] {
        assert!(healthy(base).await, "{base} is not healthy after bad input");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn fake_cell_turns_away_missing_unknown_revoked_and_other_account_keys() {
    let stack = Stack::up(1112, &["--profile", "core"]).expect("stack up");
    let u = urls(&stack).await;
    let m = stack.manifest().expect("manifest");
    let acct = &m["accounts"][0];
    let account_id = acct["account_id"].as_str().expect("account id");
    let key = acct["api_keys"][0]["key"].as_str().expect("key").to_owned();
    let index = acct["indexes"][0]["name"]
        .as_str()
        .expect("a seeded index")
        .to_owned();
    let c = http();

    // A revoked key of the same account.
    let (s, k) = send_json(
        c.post(format!("{}/_fake/accounts/{account_id}/keys", u.cell))
            .json(&json!({"name": "to-revoke"})),
        "create key",
    )
    .await;
    assert_eq!(s, 201, "{k}");
    let revoked = k["key"].as_str().expect("new key").to_owned();
    let key_id = k["key_id"].as_str().expect("key id").to_owned();
    let (s, r) = send_json(
        c.post(format!("{}/_fake/keys/{key_id}/revoke", u.cell)),
        "revoke key",
    )
    .await;
    assert_eq!(s, 200, "{r}");

    // A valid key of another account.
    let (s, a) = send_json(
        c.post(format!("{}/_fake/accounts", u.cell))
            .json(&json!({"account_id": "bad-input-other"})),
        "create account",
    )
    .await;
    assert!(s == 201 || s == 409, "{a}");
    let (s, k) = send_json(
        c.post(format!("{}/_fake/accounts/bad-input-other/keys", u.cell))
            .json(&json!({"name": "other"})),
        "create other key",
    )
    .await;
    assert_eq!(s, 201, "{k}");
    let other = k["key"].as_str().expect("other key").to_owned();

    let routes = [
        ("data", format!("{}/indexes/{index}/stats", u.cell)),
        ("data search", format!("{}/indexes/{index}/search", u.cell)),
        ("control", format!("{}/api/v2/indexes/{index}", u.cell)),
    ];
    for (kind, url) in &routes {
        let req = |k: Option<&str>| {
            let r = if kind.contains("search") {
                c.post(url).json(&json!({"q": "anything"}))
            } else {
                c.get(url)
            };
            match k {
                Some(k) => r.header("x-api-key", k),
                None => r,
            }
        };
        // The good key works, so the refusals below are about the key.
        let (s, body) = send_json(req(Some(&key)), &format!("{kind} with the seeded key")).await;
        assert_eq!(s, 200, "{kind} {url}: {body}");
        expect_4xx(req(None), &[401], &format!("{kind}: missing key")).await;
        expect_4xx(
            req(Some("hk_no_such_key_0000000000")),
            &[401],
            &format!("{kind}: unknown key"),
        )
        .await;
        expect_4xx(req(Some(&revoked)), &[401], &format!("{kind}: revoked key")).await;
        expect_4xx(
            req(Some(&other)),
            &[403],
            &format!("{kind}: other account's key"),
        )
        .await;
    }
    // The control-plane listing never shows another account's indexes.
    let (s, list) = send_json(
        c.get(format!("{}/api/v2/indexes", u.cell))
            .header("x-api-key", &other),
        "list as the other account",
    )
    .await;
    assert_eq!(s, 200, "{list}");
    assert!(
        !list.to_string().contains(&index),
        "another account sees {index}: {list}"
    );
}

/// Every file under the stack's `.hippodrome/logs/`, as text.
fn all_logs(stack: &Stack) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut dirs = vec![stack.root.path().join(".hippodrome/logs")];
    while let Some(d) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            // `latest` is a link to one of the run folders: each file is read once.
            if p.is_symlink() {
                continue;
            }
            if p.is_dir() {
                dirs.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                out.push((
                    p.display().to_string(),
                    String::from_utf8_lossy(&bytes).into_owned(),
                ));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn no_log_holds_a_password_an_api_key_or_a_token() {
    let stack = Stack::up(1113, &["--profile", "core"]).expect("stack up");
    let u = urls(&stack).await;
    let m = stack.manifest().expect("manifest");
    let c = http();
    let cog = &m["cognito"];
    let pool = cog["pool_id"].as_str().expect("pool id");
    let client_id = cog["clients"]["public"]["client_id"]
        .as_str()
        .expect("public client id");
    let mut secrets: Vec<String> = Vec::new();

    // Logins: every seeded user, and one wrong password.
    for user in cog["users"].as_array().into_iter().flatten() {
        let name = user["username"].as_str().unwrap_or_default();
        let password = user["password"].as_str().unwrap_or_default();
        secrets.push(password.to_owned());
        let (s, auth) = send_json(
            cognito_call(&c, &u.cognito, "InitiateAuth").json(&json!({
                "AuthFlow": "USER_PASSWORD_AUTH",
                "ClientId": client_id,
                "AuthParameters": {"USERNAME": name, "PASSWORD": password},
            })),
            "InitiateAuth",
        )
        .await;
        assert_eq!(s, 200, "login {name}: {auth}");
        let r = &auth["AuthenticationResult"];
        for t in ["IdToken", "AccessToken", "RefreshToken"] {
            if let Some(tok) = r[t].as_str() {
                secrets.push(tok.to_owned());
            }
        }
        if let Some(access) = r["AccessToken"].as_str() {
            let (s, body) = send_json(
                cognito_call(&c, &u.cognito, "GetUser").json(&json!({"AccessToken": access})),
                "GetUser",
            )
            .await;
            assert_eq!(s, 200, "{body}");
            let _ = c
                .get(format!("{}/oauth2/userInfo", u.cognito))
                .bearer_auth(access)
                .send()
                .await;
        }
    }
    let wrong = "Wrong-Passw0rd-For-Log-Check!";
    secrets.push(wrong.to_owned());
    let name = cog["users"][0]["username"].as_str().unwrap_or_default();
    let (s, body) = send_json(
        cognito_call(&c, &u.cognito, "InitiateAuth").json(&json!({
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": client_id,
            "AuthParameters": {"USERNAME": name, "PASSWORD": wrong},
        })),
        "InitiateAuth with a wrong password",
    )
    .await;
    assert_eq!(s, 400, "{body}");
    if let Some(secret) = cog["clients"]["secret"]["client_secret"].as_str() {
        secrets.push(secret.to_owned());
    }

    // API keys, good and bad, on data and control routes.
    for acct in m["accounts"].as_array().into_iter().flatten() {
        for k in acct["api_keys"].as_array().into_iter().flatten() {
            let Some(key) = k["key"].as_str() else {
                continue;
            };
            secrets.push(key.to_owned());
            let _ = c
                .get(format!("{}/api/v2/indexes", u.cell))
                .header("x-api-key", key)
                .send()
                .await;
            if let Some(index) = acct["indexes"][0]["name"].as_str() {
                let _ = c
                    .post(format!("{}/indexes/{index}/search", u.cell))
                    .header("x-api-key", key)
                    .json(&json!({"q": "log check"}))
                    .send()
                    .await;
            }
        }
    }
    let bogus = "hk_log_check_unknown_key_123456";
    secrets.push(bogus.to_owned());
    let _ = c
        .get(format!("{}/api/v2/indexes", u.cell))
        .header("x-api-key", bogus)
        .send()
        .await;
    let _ = (pool, &u.router);

    // Give the services' log sinks a moment to reach the files: poll until the cognito log has
    // the login lines' neighbourhood (its file grows), then read everything.
    let logs = {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let mut last = all_logs(&stack);
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let now = all_logs(&stack);
            let size = |l: &[(String, String)]| l.iter().map(|(_, t)| t.len()).sum::<usize>();
            if size(&now) == size(&last) || std::time::Instant::now() > deadline {
                break now;
            }
            last = now;
        }
    };
    assert!(
        logs.iter().any(|(p, _)| p.contains("fake_cognito")),
        "no fake_cognito log found: {:?}",
        logs.iter().map(|(p, _)| p).collect::<Vec<_>>()
    );
    secrets.retain(|s| s.len() >= 6);
    assert!(secrets.len() >= 4, "too few secrets to check: {secrets:?}");
    let mut leaks = Vec::new();
    for (path, text) in &logs {
        for s in &secrets {
            if text.contains(s.as_str()) {
                leaks.push(format!("{path}: {}…", &s[..s.len().min(12)]));
            }
        }
    }
    println!(
        "log check: {} secrets, {} log files, {} leaks",
        secrets.len(),
        logs.len(),
        leaks.len()
    );
    assert!(
        leaks.is_empty(),
        "secrets found in logs:\n{}",
        leaks.join("\n")
    );
}

/// Found by tests/fuzz/run.sh (now fixed): fake-cognito maps axum's `FormRejection` on
/// `/oauth2/token` and `/oauth2/revoke` to a JSON OAuth error, and the webhook router's
/// `/healthz` (service-kit's health router) has a JSON `method_not_allowed_fallback`.
#[tokio::test(flavor = "multi_thread")]
async fn form_routes_and_wrong_methods_answer_json() {
    let stack = Stack::up(1114, &["--profile", "core"]).expect("stack up");
    let u = urls(&stack).await;
    let c = http();
    for route in ["oauth2/token", "oauth2/revoke"] {
        expect_4xx(
            c.post(format!("{}/{route}", u.cognito)),
            &[400, 415],
            &format!("{route} without a content type"),
        )
        .await;
        expect_4xx(
            c.post(format!("{}/{route}", u.cognito))
                .header("content-type", "text/plain")
                .body("grant_type=client_credentials"),
            &[400, 415],
            &format!("{route} as text/plain"),
        )
        .await;
    }
    for base in [&u.cell, &u.cognito, &u.router, &u.dashboard] {
        expect_4xx(
            c.delete(format!("{base}/healthz")),
            &[405],
            &format!("{base} DELETE /healthz"),
        )
        .await;
    }
}
