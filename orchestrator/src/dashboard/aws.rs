//! The dashboard's way to the stack's AWS endpoint (the AWS gateway, moto behind it): one Step
//! Functions client built on first use, a 503 without any call when the stack runs no gateway,
//! and every upstream failure as JSON 502/503/504 (a missing execution as 404), never a 500.

use aws_sdk_sfn::error::{ProvideErrorMetadata, SdkError};
use axum::http::StatusCode;
use axum::response::Response;
use service_kit::json_error;

use super::AppState;

/// The gateway's service name in the plan (`services.rs`).
const GATEWAY: &str = "aws_gateway";

/// The stack's AWS endpoint and the clients the dashboard reads it with.
pub struct Aws {
    /// The gateway's URL (what services get as `AWS_ENDPOINT_URL`).
    pub url: String,
    region: String,
    sfn: tokio::sync::OnceCell<aws_sdk_sfn::Client>,
}

impl Aws {
    pub fn new(url: impl Into<String>, region: impl Into<String>) -> Aws {
        Aws {
            url: url.into(),
            region: region.into(),
            sfn: tokio::sync::OnceCell::new(),
        }
    }

    /// The Step Functions client (short timeouts, two attempts: a page refresh must not hang on
    /// a moto that went away).
    pub async fn sfn(&self) -> &aws_sdk_sfn::Client {
        self.sfn
            .get_or_init(|| async {
                let config = webhook_router::pipe::moto_sdk_config(&self.url, &self.region).await;
                aws_sdk_sfn::Client::new(&config)
            })
            .await
    }
}

/// A 503 when this stack runs no AWS gateway (moto is not in the profile, `--only`, or skipped),
/// so the page says why instead of waiting on a port nobody listens on.
pub fn unavailable(st: &AppState) -> Option<Response> {
    let why = match st.sup.get(GATEWAY) {
        None => {
            "this stack runs no AWS gateway (moto runs in the ecom and full profiles)".to_owned()
        }
        Some(s) => format!("the AWS gateway is skipped: {}", s.spec.skip.as_deref()?),
    };
    Some(json_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "aws_unavailable",
        why,
    ))
}

/// An SDK failure as the dashboard answers it: the resource missing → 404 `not_found_code`;
/// nothing answering → 503; too slow → 504; anything else the gateway or moto said → 502 (503
/// and 504 from the gateway itself, moto down behind it, pass through).
pub fn sdk_error<E>(what: &str, not_found_code: &str, e: &SdkError<E>) -> Response
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let detail = aws_sdk_sfn::error::DisplayErrorContext(e).to_string();
    match e {
        SdkError::TimeoutError(_) => timeout(what, &detail),
        SdkError::DispatchFailure(d) if d.is_timeout() => timeout(what, &detail),
        SdkError::DispatchFailure(_) => json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "aws_unavailable",
            format!("{what}: the AWS gateway does not answer: {detail}"),
        ),
        SdkError::ServiceError(s) => {
            let code = s.err().code().unwrap_or_default();
            let status = s.raw().status().as_u16();
            if is_not_found(code) {
                let message = s.err().message().unwrap_or(code);
                return json_error(StatusCode::NOT_FOUND, not_found_code, message.to_owned());
            }
            let status = match status {
                503 => StatusCode::SERVICE_UNAVAILABLE,
                504 => StatusCode::GATEWAY_TIMEOUT,
                _ => StatusCode::BAD_GATEWAY,
            };
            json_error(
                status,
                "aws_error",
                format!("{what}: AWS answered {code}: {detail}"),
            )
        }
        _ => json_error(
            StatusCode::BAD_GATEWAY,
            "aws_error",
            format!("{what}: {detail}"),
        ),
    }
}

/// Codes that mean "no such thing": an ARN that is not an execution's is one nobody has.
fn is_not_found(code: &str) -> bool {
    matches!(
        code,
        "ExecutionDoesNotExist" | "StateMachineDoesNotExist" | "InvalidArn"
    )
}

fn timeout(what: &str, detail: &str) -> Response {
    json_error(
        StatusCode::GATEWAY_TIMEOUT,
        "aws_timeout",
        format!("{what}: the AWS gateway timed out: {detail}"),
    )
}
