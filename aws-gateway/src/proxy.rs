//! The proxy path: every request the gateway does not own goes to moto unchanged — method,
//! path and query, every end-to-end header (Host and the SigV4 Authorization included) — with
//! both bodies streamed, never buffered (except the few small calls the gateway looks into, read
//! with [`collect`]). One pooled hyper client; only hop-by-hop headers are dropped, because they
//! describe our connection, not moto's.

use std::time::Duration;

use axum::body::Body;
use axum::http::uri::{Authority, Scheme};
use axum::http::{HeaderMap, Request, Response, Uri, Version, header};
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use service_kit::error::root_cause;

use crate::error::GatewayError;

/// Headers that belong to one connection (RFC 9110 §7.6.1), plus `Expect`: our server already
/// answered `100 Continue` to the client, moto must not be asked again.
const HOP_BY_HOP: [header::HeaderName; 6] = [
    header::CONNECTION,
    header::TRANSFER_ENCODING,
    header::TE,
    header::TRAILER,
    header::UPGRADE,
    header::EXPECT,
];

pub struct Proxy {
    client: Client<HttpConnector, Body>,
    scheme: Scheme,
    authority: Authority,
    url: String,
    timeout: Duration,
}

impl Proxy {
    pub fn new(moto_url: &str, timeout: Duration) -> anyhow::Result<Proxy> {
        let uri: Uri = moto_url
            .trim_end_matches('/')
            .parse()
            .map_err(|e| anyhow::anyhow!("--moto-url {moto_url:?}: {e}"))?;
        let (Some(scheme), Some(authority)) = (uri.scheme().cloned(), uri.authority().cloned())
        else {
            anyhow::bail!("--moto-url {moto_url:?} must look like http://127.0.0.1:9014");
        };
        if scheme != Scheme::HTTP {
            anyhow::bail!("--moto-url {moto_url:?} must be http:// (moto is a local process)");
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(2)));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Ok(Proxy {
            client,
            scheme,
            authority,
            url: moto_url.trim_end_matches('/').to_owned(),
            timeout,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Send `req` to moto and hand back its answer with the body still streaming.
    pub async fn forward(&self, req: Request<Body>) -> Result<Response<Body>, GatewayError> {
        let (mut parts, body) = req.into_parts();
        let path_and_query = parts
            .uri
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| axum::http::uri::PathAndQuery::from_static("/"));
        parts.uri = Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(path_and_query)
            .build()
            .map_err(|e| self.bad_gateway(e.to_string()))?;
        parts.version = Version::HTTP_11;
        strip_hop_by_hop(&mut parts.headers);
        let sent = self.client.request(Request::from_parts(parts, body));
        let res = match tokio::time::timeout(self.timeout, sent).await {
            Ok(Ok(res)) => res,
            Ok(Err(e)) if e.is_connect() => {
                return Err(GatewayError::MotoUnavailable {
                    url: self.url.clone(),
                    why: root_cause(&e),
                });
            }
            Ok(Err(e)) => return Err(self.bad_gateway(root_cause(&e))),
            Err(_) => {
                return Err(GatewayError::MotoTimeout {
                    url: self.url.clone(),
                    timeout_s: self.timeout.as_secs(),
                });
            }
        };
        let (mut parts, incoming) = res.into_parts();
        strip_hop_by_hop(&mut parts.headers);
        Ok(Response::from_parts(parts, Body::new(incoming)))
    }

    fn bad_gateway(&self, why: String) -> GatewayError {
        GatewayError::MotoBadGateway {
            url: self.url.clone(),
            why,
        }
    }
}

/// Whether a message with these headers may be read whole within `limit`: its `Content-Length`
/// is at most that (no length: [`collect`] enforces the limit as it reads).
pub fn fits(headers: &HeaderMap, limit: usize) -> bool {
    headers.get(header::CONTENT_LENGTH).is_none_or(|v| {
        v.to_str()
            .ok()
            .and_then(|s| s.parse::<usize>().ok())
            .is_some_and(|n| n <= limit)
    })
}

/// Read a body the gateway must look into (a few small calls on the proxy path), up to `limit`.
pub async fn collect(body: Body, limit: usize) -> Result<Bytes, GatewayError> {
    Limited::new(body, limit)
        .collect()
        .await
        .map(|c| c.to_bytes())
        .map_err(|e| GatewayError::BodyRead(e.to_string()))
}

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    for h in &HOP_BY_HOP {
        headers.remove(h);
    }
    headers.remove("keep-alive");
    headers.remove("proxy-connection");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_go_end_to_end_ones_stay() {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("connection", "keep-alive"),
            ("keep-alive", "timeout=5"),
            ("transfer-encoding", "chunked"),
            ("expect", "100-continue"),
            ("host", "127.0.0.1:9003"),
            ("authorization", "AWS4-HMAC-SHA256 Credential=x"),
            ("x-amz-target", "DynamoDB_20120810.PutItem"),
        ] {
            h.insert(k, v.parse().unwrap());
        }
        strip_hop_by_hop(&mut h);
        let mut left: Vec<_> = h.keys().map(|k| k.as_str()).collect();
        left.sort();
        assert_eq!(left, ["authorization", "host", "x-amz-target"]);
    }

    #[test]
    fn moto_url_must_be_plain_http() {
        assert!(Proxy::new("http://127.0.0.1:9014/", Duration::from_secs(1)).is_ok());
        assert!(Proxy::new("https://x", Duration::from_secs(1)).is_err());
        assert!(Proxy::new("127.0.0.1:9014", Duration::from_secs(1)).is_err());
    }
}
