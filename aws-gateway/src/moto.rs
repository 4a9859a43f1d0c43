//! The official SDK clients the gateway itself uses against moto (straight to moto, never
//! through the gateway): Lambda for function configs and event source mappings, SQS and SNS for
//! polling queues and delivering failure records. Dummy credentials unless the environment
//! provides real ones; short timeouts, so a dead moto never stalls a poller for long.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};

#[derive(Clone)]
pub struct MotoClients {
    pub lambda: aws_sdk_lambda::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub sns: aws_sdk_sns::Client,
}

impl MotoClients {
    /// `long_poll` is the longest SQS wait the pollers use; calls may take that much longer.
    pub async fn new(moto_url: &str, region: &str, long_poll: Duration) -> MotoClients {
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .endpoint_url(moto_url)
            .credentials_provider(env_or_dummy_credentials())
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(2))
                    .operation_attempt_timeout(Duration::from_secs(10) + long_poll)
                    .build(),
            )
            .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(2))
            .load()
            .await;
        MotoClients {
            lambda: aws_sdk_lambda::Client::new(&sdk),
            sqs: aws_sdk_sqs::Client::new(&sdk),
            sns: aws_sdk_sns::Client::new(&sdk),
        }
    }
}

fn env_or_dummy_credentials() -> Credentials {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
        (Some(id), Some(secret)) => {
            Credentials::new(id, secret, var("AWS_SESSION_TOKEN"), None, "environment")
        }
        _ => Credentials::new("testing", "testing", None, None, "hippodrome-dummy"),
    }
}

/// One line for an SDK failure: the service's code and message, or the innermost transport cause.
pub fn sdk_error_text<E, R>(e: &SdkError<E, R>) -> String
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    match e {
        SdkError::ServiceError(_) => format!(
            "{}: {}",
            e.code().unwrap_or("service error"),
            e.message().unwrap_or("(no message)")
        ),
        other => {
            let mut msg = other.to_string();
            let mut cur = std::error::Error::source(other);
            while let Some(s) = cur {
                msg = s.to_string();
                cur = s.source();
            }
            msg
        }
    }
}

/// The service-side error code, if moto answered one.
pub fn error_code<E, R>(e: &SdkError<E, R>) -> Option<&str>
where
    E: ProvideErrorMetadata,
{
    match e {
        SdkError::ServiceError(s) => s.err().code(),
        _ => None,
    }
}

/// `arn:aws:sqs:REGION:ACCOUNT:NAME` → (account, name).
pub fn split_queue_arn(arn: &str) -> Option<(&str, &str)> {
    let mut it = arn.splitn(6, ':');
    let (Some("arn"), Some(_), Some("sqs"), Some(_), Some(account), Some(name)) = (
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
    ) else {
        return None;
    };
    Some((account, name))
}

/// The queue URL for a queue ARN (moto's GetQueueUrl, so any moto host name works).
pub async fn queue_url(sqs: &aws_sdk_sqs::Client, queue_arn: &str) -> Result<String, String> {
    let (account, name) =
        split_queue_arn(queue_arn).ok_or_else(|| format!("not an SQS queue ARN: {queue_arn}"))?;
    let out = sqs
        .get_queue_url()
        .queue_name(name)
        .queue_owner_aws_account_id(account)
        .send()
        .await
        .map_err(|e| format!("GetQueueUrl {name}: {}", sdk_error_text(&e)))?;
    out.queue_url()
        .map(str::to_owned)
        .ok_or_else(|| format!("GetQueueUrl {name}: no URL in the answer"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_arns() {
        assert_eq!(
            split_queue_arn("arn:aws:sqs:us-east-1:123456789012:q.fifo"),
            Some(("123456789012", "q.fifo"))
        );
        assert_eq!(split_queue_arn("arn:aws:sns:us-east-1:1:t"), None);
        assert_eq!(split_queue_arn("q"), None);
    }
}
