//! StartExecution → SUCCEEDED on moto's Step Functions engine behind the gateway: a 5-state
//! machine that calls the fixture Lambda and DynamoDB, against a 1-state Pass machine measured in
//! alternation with it (what the engine itself costs per execution).

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::compare::median;
use super::{FUNCTION, Stack, TABLE};
use crate::Ctx;
use crate::aws_json::{DYNAMODB, STATES};
use crate::report::Row;

/// Pass → Lambda invoke → Choice → DynamoDB putItem → Succeed: every kind of step a team's
/// workflow takes, and both kinds of service call the gateway carries (owned and forwarded).
fn five_states() -> Value {
    json!({
        "StartAt": "Prepare",
        "States": {
            "Prepare": {"Type": "Pass", "Parameters": {"id.$": "$$.Execution.Name", "n": 1}, "Next": "Call"},
            "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                     "Parameters": {"FunctionName": FUNCTION, "Payload.$": "$"},
                     "ResultSelector": {"echo.$": "$.Payload.echo"}, "ResultPath": "$.lambda", "Next": "Check"},
            "Check": {"Type": "Choice", "Choices": [{"Variable": "$.lambda.echo.n", "NumericEquals": 1, "Next": "Save"}]},
            "Save": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
                     "Parameters": {"TableName": TABLE, "Item": {"id": {"S.$": "$.id"}}},
                     "ResultPath": null, "Next": "Done"},
            "Done": {"Type": "Succeed"}
        }
    })
}

fn one_pass_state() -> Value {
    json!({"StartAt": "Only", "States": {"Only": {"Type": "Pass", "End": true}}})
}

pub async fn run(ctx: &mut Ctx, stack: &Stack) -> anyhow::Result<()> {
    let r = ctx
        .http
        .post(format!("{}/moto-api/config", stack.moto_url))
        .json(&json!({"stepfunctions": {"execute_state_machine": true}}))
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("turning on moto's execution engine: {}", r.status());
    }
    let pass = create(ctx, stack, "bench-pass", one_pass_state()).await?;
    let five = create(ctx, stack, "bench-five", five_states()).await?;
    let runs = if ctx.quick { 10 } else { 30 };
    let (mut pass_ms, mut five_ms) = (Vec::new(), Vec::new());
    for i in 0..runs {
        pass_ms.push(execute(ctx, stack, &pass, &format!("pass-{i}")).await?);
        five_ms.push(execute(ctx, stack, &five, &format!("five-{i}")).await?);
    }
    check_written(ctx, stack, &format!("five-{}", runs - 1)).await?;
    let pass_p50 = median(&pass_ms);
    ctx.report.push(
        Row::new(
            "gateway",
            "StartExecution → SUCCEEDED, 1-state Pass machine (p50)",
            pass_p50,
            "ms",
        )
        .note(spread(&pass_ms)),
    );
    ctx.report.push(
        Row::new(
            "gateway",
            "StartExecution → SUCCEEDED, 5 states: Pass, Lambda invoke, Choice, DynamoDB putItem, Succeed (p50)",
            median(&five_ms),
            "ms",
        )
        .vs("1-state Pass p50", pass_p50)
        .note(spread(&five_ms)),
    );
    Ok(())
}

/// Creates `name` through the gateway; returns its ARN.
async fn create(ctx: &Ctx, stack: &Stack, name: &str, definition: Value) -> anyhow::Result<String> {
    let answer = STATES
        .call(
            &ctx.http,
            &stack.gateway_url,
            "CreateStateMachine",
            json!({"name": name, "definition": definition.to_string(),
                   "roleArn": "arn:aws:iam::123456789012:role/bench"}),
        )
        .await?;
    Ok(answer["stateMachineArn"]
        .as_str()
        .context("CreateStateMachine returned no ARN")?
        .to_owned())
}

/// Starts one execution and polls it every 5 ms; returns the milliseconds until SUCCEEDED.
async fn execute(ctx: &Ctx, stack: &Stack, machine: &str, name: &str) -> anyhow::Result<f64> {
    let start = Instant::now();
    let started = STATES
        .call(
            &ctx.http,
            &stack.gateway_url,
            "StartExecution",
            json!({"stateMachineArn": machine, "name": name, "input": "{}"}),
        )
        .await?;
    let arn = started["executionArn"]
        .as_str()
        .context("StartExecution returned no ARN")?
        .to_owned();
    loop {
        let described = STATES
            .call(
                &ctx.http,
                &stack.gateway_url,
                "DescribeExecution",
                json!({"executionArn": arn}),
            )
            .await?;
        match described["status"].as_str() {
            Some("RUNNING") => {}
            Some("SUCCEEDED") => return Ok(start.elapsed().as_secs_f64() * 1000.0),
            _ => bail!(
                "execution {name} ended {}: {} {}",
                described["status"],
                described["error"],
                described["cause"]
            ),
        }
        if start.elapsed() > Duration::from_secs(30) {
            bail!("execution {name} still RUNNING after 30 s");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The last 5-state execution's putItem landed in moto: the figure is of a machine that did its work.
async fn check_written(ctx: &Ctx, stack: &Stack, id: &str) -> anyhow::Result<()> {
    let item = DYNAMODB
        .call(
            &ctx.http,
            &stack.moto_url,
            "GetItem",
            json!({"TableName": TABLE, "Key": {"id": {"S": id}}}),
        )
        .await?;
    if item["Item"].is_null() {
        bail!("the 5-state machine SUCCEEDED but wrote no item {id}");
    }
    Ok(())
}

fn spread(ms: &[f64]) -> String {
    let mut v = ms.to_vec();
    v.sort_by(f64::total_cmp);
    let p90 = v.get(v.len() * 9 / 10).or(v.last()).copied().unwrap_or(0.0);
    let max = v.last().copied().unwrap_or(0.0);
    format!(
        "{} executions, alternating with the other machine; p90 {p90:.1} ms, max {max:.1} ms; polled every 5 ms",
        v.len()
    )
}
