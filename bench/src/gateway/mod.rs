//! aws-gateway: what it adds over calling moto and a Lambda process directly (issue 17's goals),
//! and how long a Step Functions execution takes on moto's engine behind it.
//!
//! One small stack per run: moto (with `MOTO_PORT` pointing at the gateway, as `up` starts it),
//! the gateway in front of it, and the fixture Lambda process from `fixtures/lambdas/`.

mod compare;
mod forwarded;
mod sfn;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::Context;
use serde_json::json;

use crate::Ctx;
use crate::aws_json::DYNAMODB;
use crate::proc::{Proc, free_port, wait_ok};

/// The function name the gateway routes to the fixture process.
pub const FUNCTION: &str = "bench_fn";
/// The DynamoDB table the forwarded calls read and the state machine writes.
pub const TABLE: &str = "bench";

/// The processes of the section; dropping it stops them.
pub struct Stack {
    pub moto_url: String,
    pub gateway_url: String,
    /// The fixture process's invoke URL (the RIE path).
    pub lambda_invoke_url: String,
    _procs: Vec<Proc>,
}

impl Stack {
    async fn start(ctx: &Ctx) -> anyhow::Result<Stack> {
        let lambda_port = free_port()?;
        let fixture =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/lambdas/fixture_lambda.py");
        let lambda = Proc::spawn(
            "fixture-lambda",
            Command::new("python3")
                .arg(&fixture)
                .arg(lambda_port.to_string()),
            &ctx.logs(),
        )?;
        let lambda_url = format!("http://127.0.0.1:{lambda_port}");
        wait_ok(
            &ctx.http,
            &format!("{lambda_url}/_received"),
            Duration::from_secs(20),
        )
        .await
        .context("the fixture Lambda process")?;

        let moto_port = free_port()?;
        let (gateway, gateway_url) = ctx
            .start_service(
                "aws-gateway",
                "aws-gateway",
                &[
                    "--moto-url".into(),
                    format!("http://127.0.0.1:{moto_port}").into(),
                    "--lambda".into(),
                    format!("{FUNCTION}={lambda_url},10").into(),
                ],
            )
            .await?;
        let gateway_port = gateway_url
            .rsplit(':')
            .next()
            .unwrap_or_default()
            .to_owned();
        let (moto, moto_url, _) =
            crate::cognito::start_moto_at(ctx, moto_port, &[("MOTO_PORT", gateway_port)]).await?;

        DYNAMODB
            .call(
                &ctx.http,
                &moto_url,
                "CreateTable",
                json!({"TableName": TABLE, "BillingMode": "PAY_PER_REQUEST",
                       "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                       "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}),
            )
            .await?;
        DYNAMODB
            .call(
                &ctx.http,
                &moto_url,
                "PutItem",
                json!({"TableName": TABLE, "Item": {"id": {"S": "k1"}, "v": {"S": "one small item"}}}),
            )
            .await?;
        Ok(Stack {
            moto_url,
            gateway_url,
            lambda_invoke_url: format!("{lambda_url}/2015-03-31/functions/function/invocations"),
            _procs: vec![moto, gateway, lambda],
        })
    }
}

pub async fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let stack = Stack::start(ctx).await?;
    forwarded::get_item(ctx, &stack).await?;
    forwarded::invoke(ctx, &stack).await?;
    sfn::run(ctx, &stack).await
}
