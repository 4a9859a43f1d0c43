//! The team's part of the moto seed, from hippodrome.toml through `SeedConfig`: `[[lambdas]]`
//! functions created in moto (with the IAM role moto requires) and `[[state_machines]]` files
//! with their placeholders filled; an edited file updates the machine, a broken one fails the
//! group naming the file.

use seed::moto::functions::Wanted as Function;
use seed::moto::state_machines::FromFile;

use crate::support::{Moto, config, created, free_port};

const FLOW: &str = r#"{
  "StartAt": "Call",
  "States": {
    "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
             "Parameters": {"FunctionName": "${lambda:team_fn}", "Payload": {"table": "${table:Orders}"}},
             "End": true}
  }
}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_functions_and_state_machines_are_created_then_kept_current() {
    let Some(moto) = Moto::spawn_on(free_port()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("flow.asl.json");
    std::fs::write(&file, FLOW).unwrap();
    let mut cfg = config(7, dir.path().join("out"));
    cfg.moto_url = Some(moto.url.clone());
    cfg.lambdas = vec![Function {
        name: "team_fn".into(),
        timeout_s: 7,
        target: "http://127.0.0.1:9301".into(),
    }];
    cfg.state_machines = vec![FromFile {
        name: "TeamFlow".into(),
        definition: file.clone(),
        role_arn: None,
    }];

    let (m1, _) = seed::run_with_report(&cfg, |_| {}).await.unwrap();
    let fn_arn = "arn:aws:lambda:us-east-1:123456789012:function:team_fn";
    assert_eq!(m1.moto.functions.len(), 1);
    assert_eq!(m1.moto.functions[0].arn.as_deref(), Some(fn_arn));
    let team = m1.moto.state_machines.last().unwrap();
    assert_eq!(team.name, "TeamFlow");

    let sdk = seed::moto::sdk_config(&moto.url, "us-east-1");
    let lambda = aws_sdk_lambda::Client::new(&sdk);
    let team_fn = || async {
        lambda
            .get_function_configuration()
            .function_name("team_fn")
            .send()
            .await
            .unwrap()
    };
    let got = team_fn().await;
    assert_eq!(got.timeout, Some(7));
    assert!(got.description.unwrap().contains("http://127.0.0.1:9301"));

    let sfn = aws_sdk_sfn::Client::new(&sdk);
    let arn = team.arn.clone().unwrap();
    let definition = |sfn: aws_sdk_sfn::Client, arn: String| async move {
        let d = sfn
            .describe_state_machine()
            .state_machine_arn(arn)
            .send()
            .await
            .unwrap();
        serde_json::from_str::<serde_json::Value>(&d.definition).unwrap()
    };
    let d = definition(sfn.clone(), arn.clone()).await;
    assert_eq!(d["States"]["Call"]["Parameters"]["FunctionName"], fn_arn);
    assert_eq!(
        d["States"]["Call"]["Parameters"]["Payload"]["table"],
        "dev-it-Orders"
    );

    // Second run: nothing new; the edited file and timeout are applied in place.
    std::fs::write(&file, FLOW.replace("${table:Orders}", "${table:Invoices}")).unwrap();
    cfg.lambdas[0].timeout_s = 9;
    let (m2, r2) = seed::run_with_report(&cfg, |_| {}).await.unwrap();
    assert_eq!(created(&r2), 0, "{:?}", r2.groups);
    assert_eq!(
        m2.moto.state_machines.last().unwrap().arn,
        Some(arn.clone())
    );
    let d = definition(sfn, arn).await;
    assert_eq!(
        d["States"]["Call"]["Parameters"]["Payload"]["table"],
        "dev-it-Invoices"
    );
    let got = team_fn().await;
    assert_eq!(got.timeout, Some(9));

    // A broken file fails the run, naming the machine, the file and the problem.
    std::fs::write(&file, FLOW.replace("${lambda:team_fn}", "${lambda:ghost}")).unwrap();
    let e = seed::run_with_report(&cfg, |_| {}).await.unwrap_err();
    let msg = format!("{e:#}");
    assert!(msg.contains("TeamFlow"), "{msg}");
    assert!(msg.contains("flow.asl.json"), "{msg}");
    assert!(
        msg.contains("\"ghost\" is not a [[lambdas]] entry"),
        "{msg}"
    );
}
