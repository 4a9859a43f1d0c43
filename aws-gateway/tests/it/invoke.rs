//! Lambda Invoke owned by the gateway: RequestResponse and DryRun against the fixture process,
//! and every error AWS would answer (handler error, timeout, non-JSON result, oversized or
//! malformed payload, unknown function, process down, process crashing mid-call).

use std::time::{Duration, Instant};

use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::types::InvocationType;
use aws_smithy_types::Blob;
use serde_json::{Value, json};

use crate::support::{Fixture, Gateway, Stack, client, free_port, sdk};

fn payload_json(out: &aws_sdk_lambda::operation::invoke::InvokeOutput) -> Value {
    serde_json::from_slice(out.payload().expect("payload").as_ref()).expect("JSON payload")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_response_runs_the_local_process_under_every_name_form() {
    let Some(stack) = Stack::start("echo", &[]).await else {
        return;
    };
    let lambda = stack.lambda();
    for name in [
        "echo",
        "echo:$LATEST",
        "123456789012:function:echo",
        "arn:aws:lambda:us-east-1:123456789012:function:echo",
    ] {
        let out = lambda
            .invoke()
            .function_name(name)
            .payload(Blob::new(r#"{"n":1}"#))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(out.status_code(), 200, "{name}");
        assert_eq!(out.function_error(), None, "{name}");
        assert_eq!(out.executed_version(), Some("$LATEST"));
        assert_eq!(payload_json(&out), json!({"echo": {"n": 1}}), "{name}");
    }
    let versioned = lambda
        .invoke()
        .function_name("echo")
        .qualifier("3")
        .send()
        .await
        .unwrap();
    assert_eq!(versioned.executed_version(), Some("3"));
    let mismatch = lambda
        .invoke()
        .function_name("echo:1")
        .qualifier("2")
        .send()
        .await
        .unwrap_err();
    assert_eq!(mismatch.code(), Some("InvalidParameterValueException"));
    let dry = lambda
        .invoke()
        .function_name("echo")
        .invocation_type(InvocationType::DryRun)
        .send()
        .await
        .unwrap();
    assert_eq!(dry.status_code(), 204);
    let status = stack.gateway.lambdas().await;
    let f = &status["functions"][0];
    assert_eq!(f["name"], "echo");
    assert_eq!(f["recent"][0]["status"], "success");
    assert_eq!(f["recent"][0]["invocation_type"], "RequestResponse");
    assert!(f["invocations"].as_u64().unwrap() >= 5, "{f}");
    // Only the RequestResponse calls ran the process; DryRun did not.
    assert_eq!(stack.fixture.received().await.len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_errors_timeouts_and_non_json_results_are_answered_as_aws_does() {
    let Some(moto) = test_support::Moto::start().await else {
        return;
    };
    let fixture = Fixture::start().await;
    let gateway = Gateway::start(&[
        "--moto-url".into(),
        moto.url.clone(),
        "--lambda".into(),
        format!("f={},1", fixture.url),
    ])
    .await;
    let lambda = aws_sdk_lambda::Client::new(&sdk(&gateway.url).await);
    let call = |body: &'static str| {
        lambda
            .invoke()
            .function_name("f")
            .payload(Blob::new(body))
            .send()
    };

    let failed = call(r#"{"action":"fail"}"#).await.unwrap();
    assert_eq!(failed.status_code(), 200);
    assert_eq!(failed.function_error(), Some("Unhandled"));
    let p = payload_json(&failed);
    assert_eq!(p["errorType"], "ValueError");
    assert_eq!(p["errorMessage"], "fixture was told to fail");

    let started = Instant::now();
    let slow = call(r#"{"action":"sleep","s":3}"#).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(slow.function_error(), Some("Unhandled"));
    let msg = payload_json(&slow)["errorMessage"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(msg.ends_with("Task timed out after 1.00 seconds"), "{msg}");

    // Lambda treats a result as bytes: a runtime that answers text gets text back.
    let text = call(r#"{"action":"text"}"#).await.unwrap();
    assert_eq!(text.function_error(), None);
    assert_eq!(text.payload().unwrap().as_ref(), b"plain text, not JSON");

    let status = gateway.lambdas().await;
    let recent = &status["functions"][0]["recent"];
    assert_eq!(recent[1]["status"], "timeout");
    assert_eq!(recent[2]["status"], "handler_error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_aws_errors() {
    let Some(stack) = Stack::start("echo", &[]).await else {
        return;
    };
    let lambda = stack.lambda();

    let unknown = lambda
        .invoke()
        .function_name("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Some("ResourceNotFoundException"));
    assert_eq!(
        unknown.message(),
        Some("Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope")
    );
    assert_eq!(
        unknown.raw_response().map(|r| r.status().as_u16()),
        Some(404)
    );

    let malformed = lambda
        .invoke()
        .function_name("echo")
        .payload(Blob::new("{nope"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(malformed.code(), Some("InvalidRequestContentException"));
    assert!(
        malformed
            .message()
            .unwrap()
            .starts_with("Could not parse request body into json")
    );

    let mut big = vec![b' '; 6_291_457];
    big[0] = b'1';
    let too_big = lambda
        .invoke()
        .function_name("echo")
        .payload(Blob::new(big))
        .send()
        .await
        .unwrap_err();
    assert_eq!(too_big.code(), Some("RequestEntityTooLargeException"));
    assert_eq!(
        too_big.message(),
        Some("Request must be smaller than 6291456 bytes for the InvokeFunction operation")
    );
    assert_eq!(
        too_big.raw_response().map(|r| r.status().as_u16()),
        Some(413)
    );

    let mut event = vec![b' '; 1_048_577];
    event[0] = b'1';
    let event_too_big = lambda
        .invoke()
        .function_name("echo")
        .invocation_type(InvocationType::Event)
        .payload(Blob::new(event))
        .send()
        .await
        .unwrap_err();
    assert_eq!(event_too_big.code(), Some("RequestEntityTooLargeException"));
    assert!(
        event_too_big
            .message()
            .unwrap()
            .contains("Event invocation type (limit 1048576 bytes)")
    );

    let bad_name = lambda
        .invoke()
        .function_name("not a name")
        .send()
        .await
        .unwrap_err();
    assert_eq!(bad_name.code(), Some("ValidationException"));
    // Raw: Lambda's error body shape.
    let res = client()
        .post(format!(
            "{}/2015-03-31/functions/nope/invocations",
            stack.gateway.url
        ))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["x-amzn-errortype"],
        "ResourceNotFoundException"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["Type"], "User");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Function not found: arn:aws:lambda:")
    );
    // A qualifier outside AWS's pattern: AWS's JSON shape, not plain text.
    let res = client()
        .post(format!(
            "{}/2015-03-31/functions/echo/invocations?Qualifier=%ff",
            stack.gateway.url
        ))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.headers()["x-amzn-errortype"], "ValidationException");
    assert!(res.json::<Value>().await.unwrap()["message"].is_string());
    assert!(stack.fixture.received().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_that_is_down_or_crashes_gets_a_fast_clear_error() {
    let Some(moto) = test_support::Moto::start().await else {
        return;
    };
    let mut fixture = Fixture::start().await;
    let down_url = format!("http://127.0.0.1:{}", free_port());
    let gateway = Gateway::start(&[
        "--moto-url".into(),
        moto.url.clone(),
        "--lambda".into(),
        format!("down={down_url}"),
        "--lambda".into(),
        format!("crashy={}", fixture.url),
    ])
    .await;
    let lambda = aws_sdk_lambda::Client::new(&sdk(&gateway.url).await);

    let started = Instant::now();
    let down = lambda
        .invoke()
        .function_name("down")
        .send()
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(down.code(), Some("ResourceNotReadyException"));
    assert_eq!(down.raw_response().map(|r| r.status().as_u16()), Some(502));
    let msg = down.message().unwrap();
    assert!(msg.contains("down") && msg.contains(&down_url), "{msg}");

    let crashed = lambda
        .invoke()
        .function_name("crashy")
        .payload(Blob::new(r#"{"action":"crash"}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(crashed.function_error(), Some("Unhandled"));
    let p = payload_json(&crashed);
    assert_eq!(p["errorType"], "Runtime.ExitError");
    assert!(
        p["errorMessage"].as_str().unwrap().contains(&fixture.url),
        "{p}"
    );
    test_support::wait_for("the fixture to exit", || {
        let exited = fixture.exited();
        async move { exited.then_some(()) }
    })
    .await;
    // Now nobody listens there: the next call is the fast "not reachable" error.
    let after = lambda
        .invoke()
        .function_name("crashy")
        .send()
        .await
        .unwrap_err();
    assert_eq!(after.code(), Some("ResourceNotReadyException"));
}
