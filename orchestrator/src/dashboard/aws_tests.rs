//! In-process tests of the Workflows and Lambdas routes: against a real moto (its Step Functions
//! engine on) behind a real AWS gateway (run in this process) with the fixture Lambda process,
//! and the JSON answers when there is no gateway or nothing answers.

use std::process::{Child, Command, Stdio};

use aws_sdk_sfn::Client;
use axum::http::StatusCode;
use clap::Parser;
use serde_json::{Value, json};
use test_support::{Moto, free_port, wait_for, wait_http_ok};
use tokio::net::TcpListener;
use tower::ServiceExt;

use super::router;
use super::tests::{get, json_of, spec, state_with};

const AWS_ROUTES: [&str; 3] = [
    "/api/workflows",
    "/api/workflows/executions/arn:aws:states:us-east-1:123456789012:execution:m:x",
    "/api/lambdas",
];

async fn call(app: &axum::Router, uri: &str) -> (StatusCode, Value) {
    let res = app.clone().oneshot(get(uri)).await.unwrap();
    let (status, ctype, v) = json_of(res).await;
    assert!(ctype.contains("json"), "{uri}: {ctype}");
    (status, v)
}

#[tokio::test]
async fn without_a_gateway_the_aws_routes_say_why_in_a_json_503() {
    let dir = tempfile::tempdir().unwrap();
    let none = router(state_with(
        dir.path(),
        vec![spec("alpha", None)],
        "http://127.0.0.1:1",
    ));
    let skipped = router(state_with(
        dir.path(),
        vec![spec("aws_gateway", Some("not in profile core"))],
        "http://127.0.0.1:1",
    ));
    for uri in AWS_ROUTES {
        let (status, v) = call(&none, uri).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{uri}: {v}");
        assert_eq!(v["code"], "aws_unavailable", "{uri}: {v}");
        let (status, v) = call(&skipped, uri).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{uri}: {v}");
        assert!(
            v["error"].as_str().unwrap().contains("not in profile core"),
            "{uri}: {v}"
        );
    }
    let (status, v) = call(&none, "/api/workflows?limit=many").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
}

#[tokio::test]
async fn a_gateway_that_does_not_answer_is_a_json_503_not_a_500() {
    let dir = tempfile::tempdir().unwrap();
    let nobody = format!("http://127.0.0.1:{}", free_port());
    let app = router(state_with(
        dir.path(),
        vec![spec("aws_gateway", None)],
        &nobody,
    ));
    for uri in AWS_ROUTES {
        let (status, v) = call(&app, uri).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{uri}: {v}");
        assert!(v["error"].is_string() && v["status"] == 503, "{uri}: {v}");
    }
}

/// The fixture Lambda process (and its port), killed on drop.
struct Fixture(Child, u16);

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// moto with `MOTO_PORT` at the gateway, the gateway in this process declaring `fx` → the
/// fixture process. `None` (skip) without moto.
async fn aws_stack() -> Option<(Moto, Fixture, String, tokio::sync::oneshot::Sender<()>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let moto = Moto::start_with_env(&[("MOTO_PORT", &port.to_string())]).await?;
    let fixture_port = free_port();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/lambdas/fixture_lambda.py"
    );
    let child = Command::new("python3")
        .args([script, &fixture_port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 fixture_lambda.py");
    let fixture = Fixture(child, fixture_port);
    let fixture_url = format!("http://127.0.0.1:{fixture_port}");
    wait_http_ok("fixture lambda", &format!("{fixture_url}/_received")).await;
    let config = aws_gateway::Config::try_parse_from([
        "aws-gateway".to_owned(),
        "--port".into(),
        port.to_string(),
        "--moto-url".into(),
        moto.url.clone(),
        "--lambda".into(),
        format!("fx={fixture_url},5"),
    ])
    .unwrap();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(aws_gateway::run(config, listener, async move {
        let _ = rx.await;
    }));
    let url = format!("http://127.0.0.1:{port}");
    wait_http_ok("gateway", &format!("{url}/healthz")).await;
    reqwest::Client::new()
        .post(format!("{}/moto-api/config", moto.url))
        .json(&json!({"stepfunctions": {"execute_state_machine": true}}))
        .send()
        .await
        .unwrap();
    Some((moto, fixture, url, stop))
}

/// Create `name` from `definition` and start an execution called `run` with `input`.
async fn start(sfn: &Client, name: &str, definition: Value, run: &str, input: Value) -> String {
    let arn = sfn
        .create_state_machine()
        .name(name)
        .role_arn("arn:aws:iam::123456789012:role/sfn")
        .definition(definition.to_string())
        .send()
        .await
        .unwrap()
        .state_machine_arn;
    sfn.start_execution()
        .state_machine_arn(arn)
        .name(run)
        .input(input.to_string())
        .send()
        .await
        .unwrap()
        .execution_arn
}

fn invoke(payload: Value) -> Value {
    json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
           "Parameters": {"FunctionName": "fx", "Payload": payload}})
}

/// Three machines, one execution each: `ok-1` succeeds through the Lambda, `fail-1` fails with
/// its error, `hold-1` waits (RUNNING in `Hold`). Returns the first two ARNs.
async fn three_executions(sfn: &Client) -> (String, String) {
    let mut call_state = invoke(json!({"order.$": "$.order"}));
    call_state["ResultSelector"] = json!({"echo.$": "$.Payload.echo"});
    call_state["Next"] = json!("Done");
    let ok = json!({"StartAt": "Call", "States": {"Call": call_state, "Done": {"Type": "Pass", "End": true}}});
    let mut explode = invoke(json!({"action": "fail"}));
    explode["End"] = json!(true);
    let fail = json!({"StartAt": "Explode", "States": {"Explode": explode}});
    let hold = json!({"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 600, "End": true}}});
    let ok_arn = start(sfn, "dash-ok", ok, "ok-1", json!({"order": 7})).await;
    let fail_arn = start(sfn, "dash-fail", fail, "fail-1", json!({})).await;
    start(sfn, "dash-hold", hold, "hold-1", json!({})).await;
    (ok_arn, fail_arn)
}

fn find<'a>(list: &'a Value, key: &str, value: &str) -> Option<&'a Value> {
    list.as_array()?.iter().find(|e| e[key] == value)
}

/// The list once all three have settled: statuses, machines, the running one's state, `limit`.
async fn check_list(app: &axum::Router) {
    let list = wait_for("the three executions, settled", || {
        let app = app.clone();
        async move {
            let (status, v) = call(&app, "/api/workflows").await;
            assert_eq!(status, StatusCode::OK, "{v}");
            let ex = &v["executions"];
            let settled = find(ex, "name", "ok-1")?["status"] == "SUCCEEDED"
                && find(ex, "name", "fail-1")?["status"] == "FAILED"
                && find(ex, "name", "hold-1")?["current_state"] == "Hold";
            settled.then_some(v)
        }
    })
    .await;
    assert_eq!(list["state_machines"], 3, "{list}");
    let hold = find(&list["executions"], "name", "hold-1").unwrap();
    assert_eq!(hold["status"], "RUNNING", "{list}");
    assert_eq!(hold["state_machine"], "dash-hold", "{list}");
    let uri = format!(
        "/api/workflows/executions/{}",
        hold["execution_arn"].as_str().unwrap()
    );
    let (_, d) = call(app, &uri).await;
    assert_eq!(d["current_state"], "Hold", "{d}");
    assert_eq!(d["states"][0]["status"], "entered", "{d}");
    let (_, one) = call(app, "/api/workflows?limit=1").await;
    assert_eq!(one["executions"].as_array().map(Vec::len), Some(1), "{one}");
}

/// The succeeded one: each state's input and output.
async fn check_succeeded(app: &axum::Router, arn: &str) {
    let (status, d) = call(app, &format!("/api/workflows/executions/{arn}")).await;
    assert_eq!(status, StatusCode::OK, "{d}");
    assert_eq!(
        (d["state_machine"].as_str(), d["name"].as_str()),
        (Some("dash-ok"), Some("ok-1"))
    );
    let call_state = find(&d["states"], "name", "Call").unwrap();
    assert_eq!(call_state["status"], "exited", "{d}");
    let parse = |k: &str| serde_json::from_str::<Value>(call_state[k].as_str().unwrap()).unwrap();
    assert_eq!(
        (parse("input"), parse("output")),
        (json!({"order": 7}), json!({"echo": {"order": 7}})),
        "{d}"
    );
    assert!(find(&d["states"], "name", "Done").is_some(), "{d}");
    assert!(
        d["current_state"].is_null(),
        "stopped: no current state: {d}"
    );
    assert!(
        find(&d["events"], "type", "ExecutionSucceeded").is_some(),
        "{d}"
    );
}

/// The failed one: the Lambda's error and cause on the execution, its state and its history.
async fn check_failed(app: &axum::Router, arn: &str) {
    let (status, d) = call(app, &format!("/api/workflows/executions/{arn}")).await;
    assert_eq!(status, StatusCode::OK, "{d}");
    assert_eq!(d["error"], "ValueError", "{d}");
    assert!(
        d["cause"]
            .as_str()
            .unwrap()
            .contains("fixture was told to fail"),
        "{d}"
    );
    let explode = find(&d["states"], "name", "Explode").unwrap();
    assert_eq!(
        (explode["status"].as_str(), explode["error"].as_str()),
        (Some("failed"), Some("ValueError")),
        "{d}"
    );
    let task_failed = find(&d["events"], "type", "TaskFailed").unwrap();
    assert!(
        task_failed["cause"]
            .as_str()
            .unwrap_or("")
            .contains("told to fail"),
        "{d}"
    );
    for unknown in [
        "arn:aws:states:us-east-1:123456789012:execution:dash-ok:nope",
        "garbage",
    ] {
        let (status, v) = call(app, &format!("/api/workflows/executions/{unknown}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{unknown}: {v}");
        assert_eq!(v["code"], "execution_not_found", "{unknown}: {v}");
    }
}

#[tokio::test]
async fn workflows_show_states_failures_and_running_ones_and_lambdas_their_invocations() {
    let Some((mut moto, fixture, gateway, _stop)) = aws_stack().await else {
        return;
    };
    let sfn = Client::new(&seed::moto::sdk_config(&gateway, "us-east-1"));
    let (ok_arn, fail_arn) = three_executions(&sfn).await;
    let dir = tempfile::tempdir().unwrap();
    // The fixture as the stack would run it: a service on the function's port.
    let mut fx_service = spec("fx_service", None);
    fx_service.port = Some(fixture.1);
    let app = router(state_with(
        dir.path(),
        vec![spec("aws_gateway", None), fx_service],
        &gateway,
    ));
    check_list(&app).await;
    check_succeeded(&app, &ok_arn).await;
    check_failed(&app, &fail_arn).await;

    let (status, l) = call(&app, "/api/lambdas").await;
    assert_eq!(status, StatusCode::OK, "{l}");
    let fx = find(&l["functions"], "name", "fx").unwrap();
    assert_eq!(fx["service"], "fx_service", "{l}");
    assert!(
        fx["invocations"].as_u64() >= Some(2) && fx["errors"].as_u64() >= Some(1),
        "{l}"
    );
    assert!(find(&fx["recent"], "status", "success").is_some(), "{l}");
    assert!(
        find(&fx["recent"], "status", "handler_error").is_some(),
        "{l}"
    );

    // moto gone behind the gateway: still JSON, 503, never a 500 (and never a hang).
    moto.stop();
    let (status, v) = call(&app, "/api/workflows").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{v}");
}
