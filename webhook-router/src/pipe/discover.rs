//! Finding a table's current stream: `DescribeTable` → `LatestStreamArn`. Run on start, after any
//! stream error (moto restarted, table re-created) and every few seconds while following, so a
//! new stream ARN is picked up even when the old iterator still answers.

/// Re-exported for the orchestrator's `events`, which reads SDK failures the same way.
pub use aws_local::sdk_error_text;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use super::TableState;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Discovery {
    NoTable,
    NoStream,
    Stream(String),
}

/// An SDK failure, classified for the status page.
#[derive(Debug, Clone)]
pub struct CallError {
    pub state: TableState,
    pub message: String,
}

impl CallError {
    pub fn from_sdk<E, R>(what: &str, e: &SdkError<E, R>) -> Self
    where
        E: std::error::Error + ProvideErrorMetadata + 'static,
        R: std::fmt::Debug,
    {
        let state = match e {
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => TableState::MotoUnreachable,
            _ => TableState::Error,
        };
        CallError {
            state,
            message: format!("{what}: {}", sdk_error_text(e)),
        }
    }
}

pub async fn latest_stream_arn(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<Discovery, CallError> {
    match ddb.describe_table().table_name(table).send().await {
        Ok(out) => {
            let Some(t) = out.table() else {
                return Ok(Discovery::NoTable);
            };
            let enabled = t
                .stream_specification()
                .map(|s| s.stream_enabled())
                .unwrap_or(true);
            match t.latest_stream_arn() {
                Some(arn) if enabled => Ok(Discovery::Stream(arn.to_owned())),
                _ => Ok(Discovery::NoStream),
            }
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(Discovery::NoTable)
        }
        Err(e) => Err(CallError::from_sdk("DescribeTable", &e)),
    }
}
