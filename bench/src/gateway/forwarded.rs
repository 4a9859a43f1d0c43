//! The two paths the issue gives goals for: a moto call forwarded by the gateway (DynamoDB
//! GetItem) and a Lambda Invoke the gateway owns, each against the same call made directly.

use serde_json::json;

use super::compare::{self, Pair};
use super::{FUNCTION, Stack, TABLE};
use crate::aws_json::{DYNAMODB, authorization};
use crate::{Ctx, wrk};

/// GetItem of one small item, straight to moto and through the gateway, at 1 and 16 connections.
pub async fn get_item(ctx: &mut Ctx, stack: &Stack) -> anyhow::Result<()> {
    let body = json!({"TableName": TABLE, "Key": {"id": {"S": "k1"}}});
    let script = ctx.script("gateway-getitem", &DYNAMODB.script("GetItem", &body))?;
    for conns in [1, 16] {
        let pair = Pair {
            what: "DynamoDB GetItem",
            direct_url: &stack.moto_url,
            direct_script: &script,
            gateway_url: &stack.gateway_url,
            gateway_script: &script,
            added_p50_goal: None,
            added_p99_goal: (conns == 1).then_some("≤ 1 ms"),
            throughput_goal: (conns == 16).then_some("≥ 0.9×"),
        };
        compare::measure(ctx, &pair, conns).await?;
    }
    Ok(())
}

/// A RequestResponse Invoke through the gateway against the same payload POSTed to the fixture
/// process's RIE path.
pub async fn invoke(ctx: &mut Ctx, stack: &Stack) -> anyhow::Result<()> {
    let payload = json!({"bench": true, "n": 1}).to_string();
    let direct = ctx.script("lambda-direct", &wrk::post_script(&payload, &[]))?;
    let auth = authorization("lambda");
    let through = ctx.script(
        "lambda-invoke",
        &wrk::post_script(
            &payload,
            &[("X-Amz-Date", "20260101T000000Z"), ("Authorization", &auth)],
        ),
    )?;
    let gateway_url = format!(
        "{}/2015-03-31/functions/{FUNCTION}/invocations",
        stack.gateway_url
    );
    // One call by hand, so a broken route fails here rather than as a page of wrk errors.
    let answer = ctx
        .http
        .post(&gateway_url)
        .body(payload.clone())
        .send()
        .await?;
    let status = answer.status();
    let text = answer.text().await?;
    anyhow::ensure!(
        status.is_success() && text.contains("echo"),
        "Invoke through the gateway: {status} {text:.300}"
    );
    for conns in [1, 16] {
        let pair = Pair {
            what: "Lambda Invoke",
            direct_url: &stack.lambda_invoke_url,
            direct_script: &direct,
            gateway_url: &gateway_url,
            gateway_script: &through,
            added_p50_goal: (conns == 1).then_some("≤ 0.5 ms"),
            added_p99_goal: None,
            throughput_goal: None,
        };
        compare::measure(ctx, &pair, conns).await?;
    }
    Ok(())
}
