//! The AWS gateway in a real stack: it owns the well-known AWS port with moto behind it, a
//! `[[lambdas]]` entry sends Invoke to the team's local process, every other call reaches moto,
//! moto's Step Functions engine is turned on by the seed, and the dashboard shows the execution
//! and the invocations.

use crate::doctor::{doctor, lines};
use crate::harness::*;

fn toml(lambda: &std::path::Path) -> String {
    format!(
        r#"
[[services]]
name = "echo_fn"
port = 9040                    # inside the stack's port span, so no other test stack's range meets it
command = ["python3", "{}", "{{port}}"]

[[lambdas]]
name = "admin_lambda"
service = "echo_fn"
timeout_s = 5
"#,
        lambda.display()
    )
}

fn fixture_lambda() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/lambdas/fixture_lambda.py")
}

#[test]
fn a_declared_lambda_is_invoked_through_the_gateway_and_moto_sits_behind_it() {
    if !test_support::moto::available() {
        eprintln!("moto is not installed; skipping");
        return;
    }
    let mut stack = Stack::up(
        Some(&toml(&fixture_lambda())),
        &["--profile", "ecom", "--only", "moto,echo_fn"],
    );
    let status = stack.wait_status("moto, the gateway and the lambda process running", |v| {
        ["moto", "aws_gateway", "echo_fn"]
            .iter()
            .all(|s| v[s]["status"] == "running")
    });
    // The gateway has the AWS port; moto moved behind it.
    assert_eq!(status["aws_gateway"]["port"], stack.port(9003));
    assert_eq!(status["moto"]["port"], stack.port(9014));

    let gateway = format!("http://127.0.0.1:{}", stack.port(9003));
    let (code, body) = http_with_body(
        &format!("{gateway}/2015-03-31/functions/admin_lambda/invocations"),
        "POST",
        r#"{"hello": "gateway"}"#,
    )
    .expect("invoke answers");
    assert_eq!(code, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("JSON payload");
    assert_eq!(v["echo"]["hello"], "gateway", "{v}");

    // An undeclared function is AWS's ResourceNotFoundException, not a hang or a 500.
    let (code, body) = http_with_body(
        &format!("{gateway}/2015-03-31/functions/nobody/invocations"),
        "POST",
        "{}",
    )
    .expect("invoke answers");
    assert_eq!(code, 404, "{body}");
    assert!(body.contains("Function not found"), "{body}");

    // doctor sees the same target answering.
    let (_, report, _) = doctor(
        stack.root(),
        stack.offset,
        &["--profile", "ecom", "--only", "moto,echo_fn"],
        &[],
    );
    let ok = lines(&report, "lambdas", "ok").join("\n");
    assert!(
        ok.contains(&format!(
            "admin_lambda → http://127.0.0.1:{} answers",
            stack.port(9040)
        )),
        "{report}"
    );

    // Everything else is moto's, through the gateway, and the seed turned moto's Step Functions
    // engine on: a state machine's Lambda task reaches the same local process (moto calls back
    // on MOTO_PORT, the gateway).
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let output = rt.block_on(run_state_machine(&gateway));
    assert_eq!(
        output["Payload"]["echo"]["from"], "a state machine",
        "{output}"
    );

    // The dashboard shows both: the execution (read from the gateway with the SDK) and the
    // Lambda's invocations (the gateway's own table, passed through).
    let workflows = get_json(&stack.url("/api/workflows")).expect("/api/workflows answers JSON");
    let execution = workflows["executions"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["state_machine"] == "gateway-check"));
    assert_eq!(
        execution.map(|e| e["status"].clone()),
        Some("SUCCEEDED".into()),
        "{workflows}"
    );
    let lambdas = get_json(&stack.url("/api/lambdas")).expect("/api/lambdas answers JSON");
    let admin = &lambdas["functions"][0];
    assert_eq!(admin["name"], "admin_lambda", "{lambdas}");
    assert_eq!(admin["service"], "echo_fn", "{lambdas}");
    assert!(admin["invocations"].as_u64() >= Some(2), "{lambdas}");
}

async fn run_state_machine(gateway: &str) -> serde_json::Value {
    let sfn = aws_sdk_sfn::Client::new(&seed::moto::sdk_config(gateway, "us-east-1"));
    let definition = serde_json::json!({
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "admin_lambda", "Payload": {"from": "a state machine"}},
                "End": true
            }
        }
    });
    let arn = sfn
        .create_state_machine()
        .name("gateway-check")
        .role_arn("arn:aws:iam::123456789012:role/StepFunctionsRole")
        .definition(definition.to_string())
        .send()
        .await
        .expect("CreateStateMachine through the gateway")
        .state_machine_arn;
    let execution = sfn
        .start_execution()
        .state_machine_arn(arn)
        .input("{}")
        .send()
        .await
        .expect("StartExecution")
        .execution_arn;
    let deadline = test_support::deadline();
    loop {
        let d = sfn
            .describe_execution()
            .execution_arn(&execution)
            .send()
            .await
            .expect("DescribeExecution");
        match d.status.as_str() {
            "RUNNING" if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            "SUCCEEDED" => {
                return serde_json::from_str(d.output.as_deref().unwrap_or("null"))
                    .expect("output JSON");
            }
            other => panic!("execution {other}: {:?} {:?}", d.error, d.cause),
        }
    }
}

#[test]
fn doctor_warns_when_a_lambda_service_is_skipped_and_names_each_target() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(
        root.path().join("hippodrome.toml"),
        r#"
[[services]]
name = "gone_fn"
port = 9041
cwd = "no-such-dir"
command = ["python3", "x.py"]

[[lambdas]]
name = "skipped_one"
service = "gone_fn"

[[lambdas]]
name = "elsewhere"
url = "http://127.0.0.1:9"
"#,
    )
    .unwrap();
    let (_, report, _) = doctor(root.path(), free_offset(), &["--profile", "ecom"], &[]);
    let warn = lines(&report, "lambdas", "warn").join("\n");
    assert!(
        warn.contains("skipped_one: its service gone_fn is skipped"),
        "{report}"
    );
    let ok = lines(&report, "lambdas", "ok").join("\n");
    assert!(
        ok.contains("elsewhere → http://127.0.0.1:9 (reachability checked while the stack runs)"),
        "{report}"
    );
}

#[test]
fn doctor_checks_each_state_machine_file_as_the_seed_would() {
    let root = tempfile::tempdir().unwrap();
    let good = r#"{"StartAt": "Call", "States": {"Call": {"Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "${lambda:known_fn}"}, "End": true}}}"#;
    std::fs::write(root.path().join("good.asl.json"), good).unwrap();
    std::fs::write(
        root.path().join("typo.asl.json"),
        good.replace("known_fn", "unknown_fn"),
    )
    .unwrap();
    std::fs::write(root.path().join("broken.asl.json"), "{\"StartAt\": ").unwrap();
    std::fs::write(
        root.path().join("hippodrome.toml"),
        r#"
[[lambdas]]
name = "known_fn"
url = "http://127.0.0.1:9"

[[state_machines]]
name = "Good"
definition = "good.asl.json"

[[state_machines]]
name = "Typo"
definition = "typo.asl.json"

[[state_machines]]
name = "Broken"
definition = "broken.asl.json"

[[state_machines]]
name = "Missing"
definition = "nowhere/missing.asl.json"
"#,
    )
    .unwrap();
    let (_, report, _) = doctor(root.path(), free_offset(), &["--profile", "ecom"], &[]);
    let ok = lines(&report, "state_machines", "ok").join("\n");
    assert!(ok.contains("Good: good.asl.json parses"), "{report}");
    let fail = lines(&report, "state_machines", "fail").join("\n");
    assert!(
        fail.contains("Typo: ") && fail.contains("\"unknown_fn\" is not a [[lambdas]] entry"),
        "{report}"
    );
    assert!(
        fail.contains("Broken: ") && fail.contains("not JSON"),
        "{report}"
    );
    assert!(
        fail.contains("Missing: ") && fail.contains("missing.asl.json"),
        "{report}"
    );
}
