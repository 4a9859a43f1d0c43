//! One invocation: POST the payload to `{url}/2015-03-31/functions/function/invocations` (the
//! Lambda Runtime Interface Emulator's path) and classify the answer as AWS reports it.
//!
//! - 200 with a body: success, the body is the function's result (passed on unchanged, JSON or
//!   not: Lambda treats a payload as bytes, and a custom runtime may return plain text);
//! - the RIE's error object `{"errorMessage", "errorType", "stackTrace"?}`, an
//!   `X-Amz-Function-Error` header, or a non-2xx answer: a handler error ("Unhandled");
//! - no answer before the deadline: AWS's `Task timed out after N.00 seconds` payload;
//! - the connection dropped mid-call: AWS's `Runtime.ExitError` payload naming the process;
//! - nobody listening: [`InvokeOutcome::Unreachable`], fast, naming the function and URL.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use serde_json::json;
use service_kit::error::root_cause;

use crate::error::LambdaError;
use crate::table::LambdaTarget;

/// The RIE's invoke path.
pub const INVOKE_PATH: &str = "/2015-03-31/functions/function/invocations";
/// AWS's largest synchronous response; a bigger one is a function error.
pub const MAX_RESPONSE_BYTES: usize = 6_291_556;
/// How long connecting to a local process may take before it counts as down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq)]
pub enum InvokeOutcome {
    /// The function returned; `payload` is its result.
    Success { payload: Bytes },
    /// The handler raised (or the process answered an error); `payload` is the error object.
    HandlerError { payload: Bytes, error_type: String },
    /// The function ran past its timeout.
    TimedOut { payload: Bytes, timeout: Duration },
    /// The process dropped the connection mid-call, or its answer broke a limit.
    Crashed { payload: Bytes, cause: String },
    /// No process answered the connection: the function did not run.
    Unreachable { message: String },
}

impl InvokeOutcome {
    /// `X-Amz-Function-Error`: AWS says "Unhandled" for every failure of the function itself.
    pub fn function_error(&self) -> Option<&'static str> {
        match self {
            InvokeOutcome::Success { .. } | InvokeOutcome::Unreachable { .. } => None,
            _ => Some("Unhandled"),
        }
    }

    /// The response payload (`None` when the function did not run).
    pub fn payload(&self) -> Option<&Bytes> {
        match self {
            InvokeOutcome::Success { payload }
            | InvokeOutcome::HandlerError { payload, .. }
            | InvokeOutcome::TimedOut { payload, .. }
            | InvokeOutcome::Crashed { payload, .. } => Some(payload),
            InvokeOutcome::Unreachable { .. } => None,
        }
    }

    pub fn is_success(&self) -> bool {
        matches!(self, InvokeOutcome::Success { .. })
    }

    /// A short status word for logs and the dashboard.
    pub fn status(&self) -> &'static str {
        match self {
            InvokeOutcome::Success { .. } => "success",
            InvokeOutcome::HandlerError { .. } => "handler_error",
            InvokeOutcome::TimedOut { .. } => "timeout",
            InvokeOutcome::Crashed { .. } => "crashed",
            InvokeOutcome::Unreachable { .. } => "unreachable",
        }
    }

    /// One line saying what went wrong (`None` on success).
    pub fn error_summary(&self) -> Option<String> {
        match self {
            InvokeOutcome::Success { .. } => None,
            InvokeOutcome::HandlerError {
                payload,
                error_type,
            } => {
                let msg = error_message_of(payload).unwrap_or_default();
                Some(format!("{error_type}: {msg}"))
            }
            InvokeOutcome::TimedOut { timeout, .. } => Some(format!(
                "Task timed out after {:.2} seconds",
                timeout.as_secs_f64()
            )),
            InvokeOutcome::Crashed { cause, .. } => Some(cause.clone()),
            InvokeOutcome::Unreachable { message } => Some(message.clone()),
        }
    }

    /// The error's own message, as AWS puts it in a dead-letter message's `ErrorMessage`: the
    /// error object's `errorMessage` (`None` on success).
    pub fn error_message(&self) -> Option<String> {
        match self {
            InvokeOutcome::Success { .. } => None,
            InvokeOutcome::HandlerError { payload, .. }
            | InvokeOutcome::TimedOut { payload, .. }
            | InvokeOutcome::Crashed { payload, .. } => {
                error_message_of(payload).or_else(|| self.error_summary())
            }
            InvokeOutcome::Unreachable { message } => Some(message.clone()),
        }
    }
}

/// `errorMessage` of a runtime error object.
fn error_message_of(payload: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(payload).ok()?;
    Some(v.get("errorMessage")?.as_str()?.to_owned())
}

/// The shared HTTP client for invocations (one connection pool for every function).
#[derive(Clone)]
pub struct Invoker {
    client: reqwest::Client,
}

impl Invoker {
    pub fn new() -> Result<Invoker, LambdaError> {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            // Local processes only: a proxy from the environment would only get in the way.
            .no_proxy()
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(30))
            .user_agent(concat!(
                "hippodrome-lambda-invoke/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(|e| LambdaError::Client(e.to_string()))?;
        Ok(Invoker { client })
    }

    /// Invoke `target` with `payload`, giving up at `deadline` (normally now + its timeout).
    pub async fn invoke(
        &self,
        target: &LambdaTarget,
        payload: Bytes,
        deadline: Instant,
    ) -> InvokeOutcome {
        let request_id = uuid::Uuid::new_v4().to_string();
        self.invoke_with_id(target, payload, deadline, &request_id)
            .await
    }

    /// [`Invoker::invoke`] with the caller's request id (it appears in AWS's error payloads).
    pub async fn invoke_with_id(
        &self,
        target: &LambdaTarget,
        payload: Bytes,
        deadline: Instant,
        request_id: &str,
    ) -> InvokeOutcome {
        let started = Instant::now();
        let timeout = deadline.saturating_duration_since(started);
        let call = self.call(target, payload);
        match tokio::time::timeout_at(deadline.into(), call).await {
            Ok(Ok((status, function_error, body))) => classify(status, function_error, body),
            Ok(Err(e)) => transport_failure(target, request_id, &e),
            Err(_) => timed_out(request_id, timeout),
        }
    }

    async fn call(
        &self,
        target: &LambdaTarget,
        payload: Bytes,
    ) -> Result<(u16, Option<String>, Bytes), CallError> {
        let mut res = self
            .client
            .post(format!("{}{INVOKE_PATH}", target.url))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(payload)
            .send()
            .await
            .map_err(CallError::Http)?;
        let status = res.status().as_u16();
        let function_error = res
            .headers()
            .get("x-amz-function-error")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut body = BytesMut::new();
        while let Some(chunk) = res.chunk().await.map_err(CallError::Http)? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(CallError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, function_error, body.freeze()))
    }
}

enum CallError {
    Http(reqwest::Error),
    TooLarge,
}

fn classify(status: u16, function_error: Option<String>, body: Bytes) -> InvokeOutcome {
    // The RIE answers its own timeout with this text instead of the error object.
    if body.starts_with(b"Task timed out after") {
        let secs = std::str::from_utf8(&body)
            .ok()
            .and_then(|s| {
                s.trim_start_matches("Task timed out after ")
                    .split(' ')
                    .next()
            })
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0);
        let payload = json!({"errorMessage": String::from_utf8_lossy(&body)}).to_string();
        return InvokeOutcome::TimedOut {
            payload: Bytes::from(payload),
            timeout: Duration::from_secs_f64(secs.max(0.0)),
        };
    }
    let error_object = error_type_of(&body);
    if function_error.is_some() || !(200..300).contains(&status) || error_object.is_some() {
        let error_type = error_object.unwrap_or_else(|| "Runtime.Unknown".to_owned());
        let payload = if serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_ok() {
            body
        } else {
            Bytes::from(
                json!({
                    "errorType": error_type,
                    "errorMessage": format!("the function's process answered HTTP {status}: {}",
                        String::from_utf8_lossy(&body[..body.len().min(512)])),
                })
                .to_string(),
            )
        };
        return InvokeOutcome::HandlerError {
            payload,
            error_type,
        };
    }
    InvokeOutcome::Success { payload: body }
}

/// `Some(errorType)` when `body` is the runtime's error object (`errorMessage` + `errorType`).
fn error_type_of(body: &[u8]) -> Option<String> {
    // Cheap test first: most results are not error objects.
    if body.first() != Some(&b'{') || !contains(body, b"\"errorType\"") {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let obj = v.as_object()?;
    if !obj.contains_key("errorMessage") {
        return None;
    }
    Some(obj.get("errorType")?.as_str()?.to_owned())
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// AWS's timeout payload: `{"errorMessage":"<date> <request id> Task timed out after N.00 seconds"}`.
fn timed_out(request_id: &str, timeout: Duration) -> InvokeOutcome {
    let now = time::OffsetDateTime::now_utc();
    let stamp = now
        .format(&time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ))
        .unwrap_or_default();
    let message = format!(
        "{stamp} {request_id} Task timed out after {:.2} seconds",
        timeout.as_secs_f64()
    );
    InvokeOutcome::TimedOut {
        payload: Bytes::from(json!({ "errorMessage": message }).to_string()),
        timeout,
    }
}

fn transport_failure(target: &LambdaTarget, request_id: &str, e: &CallError) -> InvokeOutcome {
    let e = match e {
        CallError::TooLarge => {
            return InvokeOutcome::Crashed {
                payload: Bytes::from(
                    json!({
                        "errorMessage": format!(
                            "Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."
                        ),
                        "errorType": "Function.ResponseSizeTooLarge",
                    })
                    .to_string(),
                ),
                cause: format!("{}: response larger than {MAX_RESPONSE_BYTES} bytes", target.describe()),
            };
        }
        CallError::Http(e) => e,
    };
    let cause = root_cause(e);
    if e.is_connect() {
        return InvokeOutcome::Unreachable {
            message: format!(
                "Lambda {} is not reachable ({cause}): is its process running?",
                target.describe()
            ),
        };
    }
    let cause = format!(
        "the process of {} closed the connection mid-call: {cause}",
        target.describe()
    );
    InvokeOutcome::Crashed {
        payload: Bytes::from(
            json!({
                "errorType": "Runtime.ExitError",
                "errorMessage": format!(
                    "RequestId: {request_id} Error: Runtime exited without providing a reason ({cause})"
                ),
            })
            .to_string(),
        ),
        cause,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        let ok = classify(200, None, Bytes::from_static(b"{\"a\":1}"));
        assert_eq!(ok.status(), "success");
        let text = classify(200, None, Bytes::from_static(b"plain text"));
        assert!(
            text.is_success(),
            "non-JSON results pass through as AWS does"
        );
        let err = classify(
            200,
            None,
            Bytes::from_static(
                br#"{"errorMessage":"boom","errorType":"ValueError","stackTrace":[]}"#,
            ),
        );
        assert_eq!(err.function_error(), Some("Unhandled"));
        assert_eq!(err.error_summary().unwrap(), "ValueError: boom");
        assert_eq!(err.error_message().unwrap(), "boom");
        assert_eq!(ok.error_message(), None);
        let header = classify(200, Some("Unhandled".into()), Bytes::from_static(b"{}"));
        assert_eq!(header.status(), "handler_error");
        let e500 = classify(500, None, Bytes::from_static(b"<html>"));
        assert_eq!(e500.status(), "handler_error");
        let v: serde_json::Value = serde_json::from_slice(e500.payload().unwrap()).unwrap();
        assert!(v["errorMessage"].as_str().unwrap().contains("HTTP 500"));
        let rie = classify(
            200,
            None,
            Bytes::from_static(b"Task timed out after 3.00 seconds"),
        );
        assert_eq!(rie.status(), "timeout");
        // A result that merely mentions errorType is still a result.
        assert!(classify(200, None, Bytes::from_static(br#"{"errorType":"x"}"#)).is_success());
    }

    #[test]
    fn timeout_payload_is_aws_shaped() {
        let t = timed_out("abc", Duration::from_secs(3));
        let v: serde_json::Value = serde_json::from_slice(t.payload().unwrap()).unwrap();
        let m = v["errorMessage"].as_str().unwrap();
        assert!(m.ends_with(" abc Task timed out after 3.00 seconds"), "{m}");
        assert_eq!(t.error_message().as_deref(), Some(m));
        assert!(
            m.contains('T') && m.split(' ').next().unwrap().ends_with('Z'),
            "{m}"
        );
    }
}
