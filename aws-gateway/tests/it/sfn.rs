//! moto's Step Functions engine with `MOTO_PORT` pointing at the gateway: a `lambda:invoke`
//! task reaches the local process, a `dynamodb:putItem` task reaches moto through the gateway.

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sfn::types::ExecutionStatus;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::support::{Fixture, Gateway, Moto, client, create_table, sdk, wait_for};

const DEFINITION: &str = r#"{
  "StartAt": "Call",
  "States": {
    "Call": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke",
      "Parameters": {"FunctionName": "echo", "Payload.$": "$"},
      "ResultPath": "$.lambda",
      "Next": "Save"
    },
    "Save": {
      "Type": "Task",
      "Resource": "arn:aws:states:::dynamodb:putItem",
      "Parameters": {
        "TableName": "Results",
        "Item": {"pk": {"S.$": "$.lambda.Payload.echo.order"}}
      },
      "ResultPath": null,
      "End": true
    }
  }
}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_machine_calls_the_local_lambda_then_dynamodb() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let Some(moto) = Moto::start_with_env(&[("MOTO_PORT", &port)]).await else {
        return;
    };
    let fixture = Fixture::start().await;
    let gateway = Gateway::start_on(
        listener,
        &[
            "--moto-url".into(),
            moto.url.clone(),
            "--lambda".into(),
            format!("echo={}", fixture.url),
        ],
    )
    .await;
    let res = client()
        .post(format!("{}/moto-api/config", moto.url))
        .json(&json!({"stepfunctions": {"execute_state_machine": true}}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let config = sdk(&gateway.url).await;
    let ddb = aws_sdk_dynamodb::Client::new(&config);
    create_table(&ddb, "Results").await;
    let sfn = aws_sdk_sfn::Client::new(&config);
    let machine = sfn
        .create_state_machine()
        .name("orders")
        .definition(DEFINITION)
        .role_arn("arn:aws:iam::123456789012:role/sfn")
        .send()
        .await
        .expect("CreateStateMachine");
    let exec = sfn
        .start_execution()
        .state_machine_arn(machine.state_machine_arn())
        .input(r#"{"order":"o-42"}"#)
        .send()
        .await
        .expect("StartExecution");
    let done = wait_for("the execution to finish", || async {
        let d = sfn
            .describe_execution()
            .execution_arn(exec.execution_arn())
            .send()
            .await
            .ok()?;
        (d.status() != &ExecutionStatus::Running).then_some(d)
    })
    .await;
    assert_eq!(done.status(), &ExecutionStatus::Succeeded, "{done:?}");
    let output: Value = serde_json::from_str(done.output().unwrap()).unwrap();
    assert_eq!(output["order"], "o-42");
    assert_eq!(
        output["lambda"]["Payload"]["echo"]["order"], "o-42",
        "{output}"
    );
    let item = ddb
        .get_item()
        .table_name("Results")
        .key("pk", AttributeValue::S("o-42".into()))
        .send()
        .await
        .unwrap();
    assert!(
        item.item().is_some(),
        "the putItem task wrote through the gateway to moto"
    );
    assert_eq!(fixture.received().await, vec![json!({"order": "o-42"})]);
}
