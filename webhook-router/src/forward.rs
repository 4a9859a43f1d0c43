//! Forwarding one event to its target: one shared reqwest client (connection pool, no per-request
//! setup), an explicit timeout, and the mapping of transport failures to 503/504/502.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use bytes::Bytes;
use service_kit::error::root_cause;

use crate::error::RouterError;
use crate::routes::Route;

/// What EventBridge sends as the body type; targets see the same header from us.
const EVENT_CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// The target's answer, passed back to the caller as is.
#[derive(Debug)]
pub struct Forwarded {
    pub status: StatusCode,
    pub content_type: Option<HeaderValue>,
    pub body: Bytes,
}

#[derive(Clone)]
pub struct Forwarder {
    client: reqwest::Client,
    timeout: Duration,
}

impl Forwarder {
    pub fn new(timeout: Duration) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // Targets are local services: a proxy from the environment would only get in the way.
            .no_proxy()
            .tcp_nodelay(true)
            // A burst of 256 connections leaves 256 pooled sockets and their buffers behind: let
            // them go within seconds. Shorter than node's 5 s keep-alive, so a socket the target
            // is about to close is never reused.
            .pool_idle_timeout(Duration::from_secs(3))
            .user_agent(concat!(
                "hippodrome-webhook-router/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()?;
        Ok(Forwarder { client, timeout })
    }

    pub fn timeout_ms(&self) -> u64 {
        self.timeout.as_millis() as u64
    }

    /// POST `body` unchanged to the route's URL and read the whole answer.
    pub async fn forward(&self, route: &Route, body: Bytes) -> Result<Forwarded, RouterError> {
        let res = self
            .client
            .post(route.url.clone())
            .header(header::CONTENT_TYPE, EVENT_CONTENT_TYPE)
            .body(body)
            .send()
            .await
            .map_err(|e| self.classify(route, &e))?;
        let status = res.status();
        let content_type = res.headers().get(header::CONTENT_TYPE).cloned();
        let body = res.bytes().await.map_err(|e| self.classify(route, &e))?;
        if is_json(content_type.as_ref())
            && !body.is_empty()
            && serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_err()
        {
            return Err(RouterError::BadGateway {
                target: route.target.clone(),
                why: format!(
                    "answered {} with a body that is not valid JSON although its content type says JSON",
                    status.as_u16()
                ),
            });
        }
        Ok(Forwarded {
            status,
            content_type,
            body,
        })
    }

    fn classify(&self, route: &Route, e: &reqwest::Error) -> RouterError {
        let target = route.target.clone();
        if e.is_timeout() {
            RouterError::Timeout {
                target,
                timeout_ms: self.timeout_ms(),
            }
        } else if e.is_connect() {
            RouterError::Unavailable {
                target,
                why: root_cause(e),
            }
        } else {
            RouterError::BadGateway {
                target,
                why: root_cause(e),
            }
        }
    }
}

/// The innermost error message ("Connection refused (os error 111)"), which says more than
/// reqwest's "error sending request for url".
fn is_json(ct: Option<&HeaderValue>) -> bool {
    let Some(ct) = ct.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mime = ct.split(';').next().unwrap_or("").trim();
    mime.eq_ignore_ascii_case("application/json") || mime.to_ascii_lowercase().ends_with("+json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types() {
        let h = |s: &'static str| HeaderValue::from_static(s);
        assert!(is_json(Some(&h("application/json"))));
        assert!(is_json(Some(&h("Application/JSON; charset=utf-8"))));
        assert!(is_json(Some(&h("application/problem+json"))));
        assert!(!is_json(Some(&h("text/plain"))));
        assert!(!is_json(None));
    }
}
