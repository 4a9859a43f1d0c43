//! Cognito's Lambda triggers: a pool's `LambdaConfig` names functions by ARN; each resolves by
//! function name in the same table the AWS gateway uses (`lambda-invoke`, from `--lambda` /
//! `--lambdas-file`) and runs over the Runtime Interface Emulator's path. One module per trigger
//! family builds AWS's event, invokes, and turns the response into what the caller applies:
//! [`sign_up`] (PreSignUp, PostConfirmation), [`authentication`] (Pre/PostAuthentication),
//! [`token`] (PreTokenGeneration V1_0/V2_0/V3_0), [`message`] (CustomMessage), [`migration`]
//! (UserMigration), [`custom_auth`] (Define/Create/VerifyAuthChallenge for `CUSTOM_AUTH`).
//!
//! Callers never hold the store lock across an invoke: they clone what the event needs, release
//! the lock, invoke, and apply the response through `App::commit`, re-checking what they read.

pub mod authentication;
pub mod config;
pub mod custom_auth;
pub mod event;
pub mod message;
pub mod migration;
pub mod sign_up;
pub mod token;

use std::time::{Duration, Instant};

use bytes::Bytes;
use lambda_invoke::{FunctionTable, InvokeOutcome, Invoker};
use serde_json::Value;

use crate::Config;
use crate::app::App;
use crate::error::{CognitoError, Result};
use crate::model::PoolMeta;

/// Cognito waits at most this long for any trigger, whatever the function's own timeout.
pub const COGNITO_TIMEOUT: Duration = Duration::from_secs(5);

/// The triggers a pool can configure; the name is both the `LambdaConfig` member and the word
/// Cognito's error messages start with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    PreSignUp,
    PostConfirmation,
    PreAuthentication,
    PostAuthentication,
    PreTokenGeneration,
    CustomMessage,
    UserMigration,
    DefineAuthChallenge,
    CreateAuthChallenge,
    VerifyAuthChallengeResponse,
}

impl Trigger {
    pub fn config_key(self) -> &'static str {
        match self {
            Trigger::PreSignUp => "PreSignUp",
            Trigger::PostConfirmation => "PostConfirmation",
            Trigger::PreAuthentication => "PreAuthentication",
            Trigger::PostAuthentication => "PostAuthentication",
            Trigger::PreTokenGeneration => "PreTokenGeneration",
            Trigger::CustomMessage => "CustomMessage",
            Trigger::UserMigration => "UserMigration",
            Trigger::DefineAuthChallenge => "DefineAuthChallenge",
            Trigger::CreateAuthChallenge => "CreateAuthChallenge",
            Trigger::VerifyAuthChallengeResponse => "VerifyAuthChallengeResponse",
        }
    }
}

/// The function table and the HTTP client every trigger invokes through.
pub struct Runtime {
    pub table: FunctionTable,
    invoker: Invoker,
}

impl Runtime {
    pub fn from_config(config: &Config) -> anyhow::Result<Runtime> {
        let mut targets = config.lambdas.clone();
        if let Some(path) = &config.lambdas_file {
            targets.extend(FunctionTable::read_specs(path)?);
        }
        for t in &targets {
            tracing::info!(function = %t.name, url = %t.url, "lambda trigger target");
        }
        Ok(Runtime {
            table: FunctionTable::new(targets, &config.region, &config.account_id)?,
            invoker: Invoker::new()?,
        })
    }
}

/// Invoke `trigger` of `meta`'s pool with `event` when the pool configures it: `Ok(None)` when it
/// does not, the function's response object when it ran, and Cognito's error otherwise.
pub async fn run(
    app: &App,
    meta: &PoolMeta,
    trigger: Trigger,
    event: &Value,
) -> Result<Option<Value>> {
    let Some(arn) = config::arn(meta, trigger) else {
        return Ok(None);
    };
    invoke(app, trigger, &arn, event).await.map(Some)
}

/// One trigger invocation with Cognito's error mapping.
pub async fn invoke(app: &App, trigger: Trigger, arn: &str, event: &Value) -> Result<Value> {
    let name = trigger.config_key();
    let unexpected = |why: &str| {
        CognitoError::UnexpectedLambda(format!("{name} invocation failed due to error {why}."))
    };
    let resolved = app.triggers.table.resolve(arn, None).map_err(|e| {
        tracing::warn!(trigger = name, %arn, error = %e, "trigger function not in the table");
        unexpected(e.aws_code())
    })?;
    let target = resolved.target;
    let own_timeout = target.timeout < COGNITO_TIMEOUT;
    let deadline = Instant::now() + target.timeout.min(COGNITO_TIMEOUT);
    let payload = Bytes::from(event.to_string());
    let outcome = app
        .triggers
        .invoker
        .invoke(&target, payload, deadline)
        .await;
    tracing::info!(trigger = name, function = %target.name, status = outcome.status(), "trigger invoked");
    match outcome {
        InvokeOutcome::Success { payload } => match serde_json::from_slice::<Value>(&payload) {
            Ok(v @ Value::Object(_)) => Ok(v),
            _ => Err(CognitoError::InvalidLambdaResponse(
                "Unrecognizable lambda output".into(),
            )),
        },
        // Past Cognito's own 5 s the caller gets a socket timeout, not the function's error.
        InvokeOutcome::TimedOut { .. } if !own_timeout => {
            Err(unexpected("Socket timeout while invoking Lambda function"))
        }
        InvokeOutcome::Unreachable { message } => {
            tracing::warn!(trigger = name, %message, "trigger function unreachable");
            Err(unexpected("ServiceException"))
        }
        failed => {
            let message = failed.error_message().unwrap_or_default();
            Err(CognitoError::UserLambdaValidation(format!(
                "{name} failed with error {message}."
            )))
        }
    }
}

/// `response.<member>` of a trigger's answer, when it is an object.
pub fn response(answer: &Value) -> &Value {
    answer.get("response").unwrap_or(&Value::Null)
}

/// A boolean in a trigger response: absent or null is false, anything but a boolean is an
/// unusable answer.
pub fn flag(response: &Value, name: &str) -> Result<bool> {
    match response.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(CognitoError::InvalidLambdaResponse(
            "Unrecognizable lambda output".into(),
        )),
    }
}
