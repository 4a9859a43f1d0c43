//! Health probes: HTTP (`GET path`, 2xx = ok), TCP connect, or process-alive — each classified
//! as `connection_refused|timeout|http_error|parse_error` on failure, with the latency.

use std::time::{Duration, Instant};

use serde::{Deserialize, Deserializer, Serialize};

use crate::services::Health;

/// Every `error_type` a probe can report.
pub const ERROR_TYPES: [&str; 4] = ["connection_refused", "timeout", "http_error", "parse_error"];

/// One of [`ERROR_TYPES`]. Named, not spelled `&'static str` in the field, so that serde does not
/// take the field as borrowed from the input when a probe is read back.
pub type ErrorType = &'static str;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Probe {
    pub ok: bool,
    pub latency_ms: f64,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "known_error_type"
    )]
    pub error_type: Option<ErrorType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Unix milliseconds.
    pub at_ms: u64,
}

/// Reading a probe back (`/api/status`): one of [`ERROR_TYPES`], kept as the same static word.
fn known_error_type<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ErrorType>, D::Error> {
    let Some(word) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    match ERROR_TYPES.iter().find(|t| **t == word) {
        Some(t) => Ok(Some(t)),
        None => Err(serde::de::Error::custom(format!(
            "unknown probe error_type {word:?}"
        ))),
    }
}

/// One shared HTTP client for probes: short timeouts, no proxies, no connection reuse surprises.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .connect_timeout(Duration::from_millis(500))
        .no_proxy()
        .pool_max_idle_per_host(2)
        .build()
        .unwrap_or_default()
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Probe a service once.
pub async fn probe(
    client: &reqwest::Client,
    health: &Health,
    port: Option<u16>,
    process_alive: bool,
) -> Probe {
    let started = Instant::now();
    let done = |ok: bool,
                error_type: Option<&'static str>,
                status_code: Option<u16>,
                detail: Option<String>| Probe {
        ok,
        latency_ms: (started.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0,
        error_type,
        status_code,
        detail,
        at_ms: now_ms(),
    };
    if !process_alive {
        return done(
            false,
            Some("connection_refused"),
            None,
            Some("process is not running".into()),
        );
    }
    match (health, port) {
        (Health::Process, _) | (_, None) => done(true, None, None, None),
        (Health::Tcp, Some(port)) => {
            match tokio::time::timeout(
                Duration::from_secs(1),
                tokio::net::TcpStream::connect(("127.0.0.1", port)),
            )
            .await
            {
                Ok(Ok(_)) => done(true, None, None, None),
                Ok(Err(e)) => done(false, Some("connection_refused"), None, Some(e.to_string())),
                Err(_) => done(false, Some("timeout"), None, None),
            }
        }
        (Health::Http(path), Some(port)) => {
            let url = format!("http://127.0.0.1:{port}{path}");
            match client.get(&url).send().await {
                Ok(res) => {
                    let code = res.status().as_u16();
                    let body = res.bytes().await;
                    match body {
                        Err(e) if e.is_timeout() => done(false, Some("timeout"), Some(code), None),
                        Err(e) => done(false, Some("parse_error"), Some(code), Some(e.to_string())),
                        Ok(_) if (200..300).contains(&code) => done(true, None, Some(code), None),
                        Ok(b) => done(
                            false,
                            Some("http_error"),
                            Some(code),
                            Some(String::from_utf8_lossy(&b[..b.len().min(200)]).into_owned()),
                        ),
                    }
                }
                Err(e) if e.is_timeout() => done(false, Some("timeout"), None, None),
                Err(e) if e.is_connect() => done(false, Some("connection_refused"), None, None),
                Err(e) => done(false, Some("parse_error"), None, Some(e.to_string())),
            }
        }
    }
}
