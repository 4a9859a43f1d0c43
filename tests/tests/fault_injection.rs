//! Fault injection against a real stack (issue 20), driven the way people drive it: the
//! `orchestrator fault add|list|clear` CLI, and real clients seeing the faults (reqwest for
//! fake-cell and the webhook router, the Rust AWS SDK for fake-cognito). The AWS services behind
//! the gateway are covered with boto3 in tests/e2e/test_faults.py. Never asserts speed.

use std::process::Output;
use std::time::Duration;

use aws_sdk_cognitoidentityprovider as idp;
use serde_json::Value;
use test_support::wait_for_within;
use tests::Stack;

fn http(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(2))
        .no_proxy()
        .build()
        .expect("http client")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `orchestrator fault ARGS…` against the stack; panics with its output unless it succeeded.
fn fault(stack: &Stack, args: &[&str]) -> String {
    let mut all = vec!["fault"];
    all.extend_from_slice(args);
    let out = stack.cmd(&all);
    assert!(out.status.success(), "fault {args:?}: {}", text(&out));
    text(&out)
}

struct Urls {
    cell: String,
    router: String,
    dashboard: String,
}

/// Each call's HTTP status, or 0 when the call failed without one.
async fn statuses(req: impl Fn() -> reqwest::RequestBuilder, n: usize) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(req().send().await.map_or(0, |r| r.status().as_u16()));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_added_with_the_cli_fire_exactly_as_specified_in_every_service() {
    let stack = Stack::up(2020, &["--profile", "core"]).expect("stack up");
    let m = stack.manifest().expect("seed manifest");
    let urls = Urls {
        cell: m["services"]["cell_url"]
            .as_str()
            .expect("cell_url")
            .to_owned(),
        router: format!("http://127.0.0.1:{}", 9009 + stack.offset),
        dashboard: stack.dashboard_url(),
    };
    cell_next_n_with_marqos_error(&stack, &urls).await;
    cognito_every_nth_through_the_sdk(&stack, &m).await;
    seeded_probability_replays(&stack, &urls).await;
    drop_timeout_latency_and_expiry(&stack, &urls).await;
    visible_in_list_healthz_and_status(&stack, &urls).await;
    bad_rules_are_refused_with_the_reason(&stack);
    persisted_rules_survive_a_restart(&stack, &urls).await;
    let cleared = fault(&stack, &["clear"]);
    assert!(cleared.contains("cleared"), "{cleared}");
    assert!(fault(&stack, &["list"]).contains("no fault rules"));
}

async fn cell_next_n_with_marqos_error(stack: &Stack, u: &Urls) {
    let added = fault(
        stack,
        &[
            "add",
            "--service",
            "marqo",
            "--operation",
            "search",
            "--resource",
            "shoes",
            "--error",
            "too_many_requests",
            "--next",
            "2",
        ],
    );
    assert!(added.contains("added rule f1 on fake_cell"), "{added}");
    let c = http(Duration::from_secs(10));
    let other = format!("{}/indexes/boots/search", u.cell);
    assert_ne!(
        statuses(|| c.post(&other).json(&serde_json::json!({"q": "x"})), 1).await,
        [429]
    );
    let res = c
        .post(format!("{}/indexes/shoes/search", u.cell))
        .json(&serde_json::json!({"q": "x"}))
        .send()
        .await
        .expect("search");
    assert_eq!(res.status().as_u16(), 429);
    let body: Value = res.json().await.expect("json error body");
    assert_eq!(body["code"], "too_many_requests");
    assert_eq!(body["type"], "invalid_request");
    let shoes = format!("{}/indexes/shoes/search", u.cell);
    let rest = statuses(|| c.post(&shoes).json(&serde_json::json!({"q": "x"})), 2).await;
    assert_eq!(rest[0], 429);
    assert_ne!(rest[1], 429, "a next-2 rule fired a third time");
}

async fn cognito_every_nth_through_the_sdk(stack: &Stack, m: &Value) {
    fault(
        stack,
        &[
            "add",
            "--service",
            "cognito-idp",
            "--operation",
            "ListUserPools",
            "--error",
            "TooManyRequestsException",
            "--every",
            "2",
        ],
    );
    let url = m["services"]["cognito_url"].as_str().expect("cognito_url");
    let cfg = seed::moto::sdk_config(url, "us-east-1");
    let conf = idp::config::Builder::from(&cfg)
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .build();
    let client = idp::Client::from_conf(conf);
    let mut seen = Vec::new();
    for _ in 0..4 {
        let r = client.list_user_pools().max_results(10).send().await;
        seen.push(match r {
            Ok(_) => "ok".to_owned(),
            Err(e) => e
                .as_service_error()
                .and_then(|s| aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata::code(s))
                .unwrap_or("no code")
                .to_owned(),
        });
    }
    assert_eq!(
        seen,
        [
            "ok",
            "TooManyRequestsException",
            "ok",
            "TooManyRequestsException"
        ]
    );
}

async fn seeded_probability_replays(stack: &Stack, u: &Urls) {
    let c = http(Duration::from_secs(10));
    let routes = format!("{}/routes", u.router);
    let run = |seed: &'static str| {
        let c = c.clone();
        let routes = routes.clone();
        async move {
            fault(stack, &["clear", "--service", "webhook-router"]);
            fault(
                stack,
                &[
                    "add",
                    "--service",
                    "webhook-router",
                    "--operation",
                    "routes",
                    "--error",
                    "Unavailable",
                    "--probability",
                    "0.5",
                    "--seed",
                    seed,
                ],
            );
            statuses(|| c.get(&routes), 24).await
        }
    };
    let first = run("11").await;
    assert!(first.contains(&503) && first.contains(&200), "{first:?}");
    assert_eq!(run("11").await, first, "the same seed failed other calls");
    assert_ne!(run("12").await, first, "another seed failed the same calls");
    fault(stack, &["clear", "--service", "webhook-router"]);
}

/// `fault add --service webhook-router --operation events REST…`.
fn add_on_events(stack: &Stack, rest: &[&str]) {
    let mut args = vec![
        "add",
        "--service",
        "webhook-router",
        "--operation",
        "events",
    ];
    args.extend_from_slice(rest);
    fault(stack, &args);
}

/// The JSON at `url`, if it answers with some.
async fn json_at(url: String) -> Option<Value> {
    reqwest::get(url).await.ok()?.json().await.ok()
}

async fn drop_timeout_latency_and_expiry(stack: &Stack, u: &Urls) {
    let events = format!("{}/events", u.router);
    let patient = http(Duration::from_secs(10));
    add_on_events(stack, &["--drop", "--next", "1"]);
    let dropped = patient.get(&events).send().await;
    assert!(dropped.is_err(), "a dropped call was answered: {dropped:?}");
    add_on_events(
        stack,
        &["--timeout", "--timeout-after", "5s", "--next", "1"],
    );
    let held = http(Duration::from_millis(500)).get(&events).send().await;
    assert!(held.as_ref().is_err_and(|e| e.is_timeout()), "{held:?}");
    add_on_events(stack, &["--latency-ms", "20", "--next", "1"]);
    assert_eq!(statuses(|| patient.get(&events), 1).await, [200]);
    add_on_events(stack, &["--error", "Gone", "--expires-in", "1s"]);
    assert_eq!(statuses(|| patient.get(&events), 1).await, [503]);
    let faults = format!("{}/api/faults", u.dashboard);
    wait_for_within("the rule to expire", Duration::from_secs(15), || {
        let url = faults.clone();
        async move {
            let v = json_at(url).await?;
            let services = v["services"].as_array()?;
            let svc = services.iter().find(|s| s["service"] == "webhook_router")?;
            (svc["active"] == 0).then_some(())
        }
    })
    .await;
    assert_eq!(statuses(|| patient.get(&events), 1).await, [200]);
    fault(stack, &["clear", "--service", "webhook-router"]);
}

async fn visible_in_list_healthz_and_status(stack: &Stack, u: &Urls) {
    let list = fault(stack, &["list"]);
    assert!(
        list.contains("fake_cell") && list.contains("too_many_requests"),
        "{list}"
    );
    assert!(
        list.contains("fake_cognito") && list.contains("every 2 calls"),
        "{list}"
    );
    let health: Value = reqwest::get(format!("{}/healthz", u.cell))
        .await
        .expect("healthz")
        .json()
        .await
        .expect("json");
    assert_eq!(
        health["faults"], 0,
        "the next-2 rule on the cell has ended: {health}"
    );
    let dashboard = u.dashboard.clone();
    wait_for_within(
        "/api/status to show the cognito rule",
        Duration::from_secs(15),
        || {
            let url = format!("{dashboard}/api/status");
            async move {
                let v = json_at(url).await?;
                (v["fake_cognito"]["faults"] == 1 && v["fake_cell"]["faults"] == 0).then_some(())
            }
        },
    )
    .await;
    let status = text(&stack.cmd(&["status"]));
    let cognito = status.lines().find(|l| l.starts_with("fake_cognito"));
    assert!(
        cognito.is_some_and(|l| l.contains("1 fault rule active")),
        "{status}"
    );
    let json: Value =
        serde_json::from_str(&fault(stack, &["list", "--json"])).expect("list --json");
    assert_eq!(json["active"], 1, "{json}");
    let cleared = fault(stack, &["clear", "--service", "marqo", "--id", "f1"]);
    assert!(cleared.contains("cleared 1"), "{cleared}");
}

fn bad_rules_are_refused_with_the_reason(stack: &Stack) {
    let no_action = stack.cmd(&["fault", "add", "--service", "marqo"]);
    assert_eq!(no_action.status.code(), Some(2), "{}", text(&no_action));
    let no_gateway = stack.cmd(&["fault", "add", "--service", "dynamodb", "--error", "X"]);
    assert_eq!(no_gateway.status.code(), Some(1));
    assert!(
        text(&no_gateway).contains("not running"),
        "{}",
        text(&no_gateway)
    );
    let bad = stack.cmd(&[
        "fault",
        "add",
        "--service",
        "marqo",
        "--error",
        "X",
        "--probability",
        "2",
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad).contains("probability"), "{}", text(&bad));
}

async fn persisted_rules_survive_a_restart(stack: &Stack, u: &Urls) {
    fault(stack, &["clear"]);
    let kept = fault(
        stack,
        &[
            "add",
            "--service",
            "marqo",
            "--operation",
            "get_models",
            "--error",
            "service_unavailable",
            "--persist",
        ],
    );
    fault(
        stack,
        &[
            "add",
            "--service",
            "marqo",
            "--operation",
            "index_health",
            "--error",
            "x",
        ],
    );
    let id = kept.split_whitespace().nth(2).expect("rule id").to_owned();
    let restarted = stack.cmd(&["control", "restart", "fake_cell"]);
    assert!(restarted.status.success(), "{}", text(&restarted));
    let cell = u.cell.clone();
    let rules = wait_for_within(
        "the cell back with its rules",
        Duration::from_secs(60),
        || {
            let url = format!("{cell}/_fake/faults");
            async move {
                let v = json_at(url).await?;
                let rules = v["rules"].as_array()?.clone();
                (rules.len() == 1).then_some(rules)
            }
        },
    )
    .await;
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert_eq!(rules[0]["id"], id.as_str());
    let models = statuses(
        || http(Duration::from_secs(10)).get(format!("{}/models", u.cell)),
        1,
    )
    .await;
    assert_eq!(models, [503]);
}
