//! The official AWS SDK for Rust pointed at a local AWS endpoint (moto, or the gateway in front
//! of it), shared by the services that call it themselves (aws-gateway, webhook-router's pipe):
//! one [`SdkConfig`] recipe (the environment's credentials when both keys are set, dummy ones
//! otherwise; short connect and per-attempt timeouts, two attempts) and one line of text for an
//! SDK failure. No service types here: each caller builds its own clients from the config.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// How long connecting to the local endpoint may take before a call fails.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// A call's per-attempt budget unless the caller needs longer (SQS long polls do).
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// SDK configuration for `endpoint` in `region`: [`credentials`], a 2 s connect timeout,
/// `attempt_timeout` per attempt and two attempts, so a dead endpoint never stalls a caller long.
pub async fn sdk_config(endpoint: &str, region: &str, attempt_timeout: Duration) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(credentials())
        .timeout_config(timeouts(attempt_timeout))
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(2))
        .load()
        .await
}

/// The same recipe built without the async provider chain, for callers that have no runtime at
/// hand or want a config per call (the seed, smoke checks). Clients fill in the default HTTP
/// client and sleep when they are built from it.
pub fn sdk_config_now(endpoint: &str, region: &str, attempt_timeout: Duration) -> SdkConfig {
    SdkConfig::builder()
        .endpoint_url(endpoint)
        .region(Region::new(region.to_owned()))
        .credentials_provider(SharedCredentialsProvider::new(credentials()))
        .behavior_version(BehaviorVersion::latest())
        .timeout_config(timeouts(attempt_timeout))
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(2))
        .build()
}

fn timeouts(attempt_timeout: Duration) -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(attempt_timeout)
        .build()
}

/// The environment's credentials when both `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` are
/// set (with `AWS_SESSION_TOKEN` if any), dummy `testing`/`testing` otherwise: a local endpoint
/// accepts any, and the default chain would go looking for a profile or instance metadata.
pub fn credentials() -> Credentials {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
        (Some(id), Some(secret)) => {
            Credentials::new(id, secret, var("AWS_SESSION_TOKEN"), None, "environment")
        }
        _ => Credentials::new("testing", "testing", None, None, "hippodrome-dummy"),
    }
}

/// One line for an SDK failure: the service's code and message, "timed out", or the innermost
/// transport cause ("Connection refused (os error 111)") instead of the whole debug chain.
pub fn sdk_error_text<E, R>(e: &SdkError<E, R>) -> String
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    match e {
        SdkError::ServiceError(s) => format!(
            "{}: {}",
            s.err().code().unwrap_or("service error"),
            s.err().message().unwrap_or("(no message)")
        ),
        SdkError::TimeoutError(_) => "timed out".to_owned(),
        other => {
            let innermost =
                std::iter::successors(std::error::Error::source(other), |cur| cur.source())
                    .last()
                    .map_or_else(|| other.to_string(), ToString::to_string);
            match other {
                SdkError::DispatchFailure(_) => {
                    format!("cannot reach the AWS endpoint: {innermost}")
                }
                _ => innermost,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_types::error::ErrorMetadata;

    #[derive(Debug)]
    struct ServiceFailure(ErrorMetadata);

    impl std::fmt::Display for ServiceFailure {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("service failure")
        }
    }
    impl std::error::Error for ServiceFailure {}
    impl ProvideErrorMetadata for ServiceFailure {
        fn meta(&self) -> &ErrorMetadata {
            &self.0
        }
    }

    #[test]
    fn service_errors_read_code_and_message() {
        let meta = ErrorMetadata::builder()
            .code("QueueDoesNotExist")
            .message("no such queue")
            .build();
        let e: SdkError<ServiceFailure, ()> = SdkError::service_error(ServiceFailure(meta), ());
        assert_eq!(sdk_error_text(&e), "QueueDoesNotExist: no such queue");
        let bare: SdkError<ServiceFailure, ()> =
            SdkError::service_error(ServiceFailure(ErrorMetadata::builder().build()), ());
        assert_eq!(sdk_error_text(&bare), "service error: (no message)");
    }

    #[test]
    fn transport_errors_name_the_innermost_cause() {
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused here");
        let e: SdkError<ServiceFailure, ()> = SdkError::construction_failure(refused);
        assert_eq!(sdk_error_text(&e), "refused here");
        let t: SdkError<ServiceFailure, ()> =
            SdkError::timeout_error(std::io::Error::other("slow"));
        assert_eq!(sdk_error_text(&t), "timed out");
    }

    #[tokio::test]
    async fn config_points_at_the_endpoint_with_dummy_or_env_credentials() {
        let c = sdk_config("http://127.0.0.1:9", "eu-west-1", DEFAULT_ATTEMPT_TIMEOUT).await;
        assert_eq!(c.endpoint_url(), Some("http://127.0.0.1:9"));
        assert_eq!(c.region().map(|r| r.as_ref()), Some("eu-west-1"));
        let t = c.timeout_config().expect("timeouts");
        assert_eq!(t.connect_timeout(), Some(CONNECT_TIMEOUT));
        assert_eq!(t.operation_attempt_timeout(), Some(DEFAULT_ATTEMPT_TIMEOUT));
        assert!(c.credentials_provider().is_some());
    }
}
