//! Which pool a hosted-UI request belongs to. AWS serves the hosted UI at
//! `https://<prefix>.auth.<region>.amazoncognito.com`; fake-cognito serves it on its main port
//! three ways: under `/domain/<prefix>/...` for a domain made with `CreateUserPoolDomain`, at the
//! root with a `Host: <prefix>.auth.<region>.amazoncognito.com` (or custom-domain) header, and at
//! the root with no domain at all, where the `client_id` alone names the pool.

use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::{StatusCode, header, request::Parts};
use axum::response::Response;

use super::page;
use crate::app::AppState;
use crate::model::Store;

/// Where the hosted UI was reached.
#[derive(Debug, Clone, Default)]
pub struct Site {
    /// The domain's pool; `None` at the root without a domain host.
    pub pool_id: Option<String>,
    /// The path prefix links and form actions need (`""` or `/domain/<prefix>`).
    pub base: String,
}

/// The pool owning `domain` (a prefix or a custom domain).
pub fn domain_pool(store: &Store, domain: &str) -> Option<String> {
    store
        .pools
        .values()
        .find(|p| {
            p.meta.domain.as_deref() == Some(domain)
                || p.meta.custom_domain.as_deref() == Some(domain)
        })
        .map(|p| p.meta.id.clone())
}

/// The domain a `Host` header names: the prefix of `<prefix>.auth.<region>.amazoncognito.com`, or
/// the whole name for anything else that is not an IP address or `localhost`.
fn host_domain(host: &str) -> Option<&str> {
    let host = host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    if let Some((prefix, rest)) = host.split_once(".auth.")
        && rest.ends_with(".amazoncognito.com")
    {
        return Some(prefix);
    }
    let plain =
        host == "localhost" || host.parse::<std::net::IpAddr>().is_ok() || !host.contains('.');
    (!plain).then_some(host)
}

fn unknown_domain(domain: &str) -> Response {
    page::error(
        StatusCode::NOT_FOUND,
        "invalid_request",
        &format!("No user pool has the domain {domain}."),
    )
}

impl FromRequestParts<AppState> for Site {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Response> {
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.path().to_owned(), |u| u.path().to_owned());
        if let Some(rest) = path.strip_prefix("/domain/") {
            let prefix = rest.split('/').next().unwrap_or_default();
            let pool_id = domain_pool(&app.store.read(), prefix);
            return match pool_id {
                Some(id) => Ok(Site {
                    pool_id: Some(id),
                    base: format!("/domain/{prefix}"),
                }),
                None => Err(unknown_domain(prefix)),
            };
        }
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .and_then(host_domain);
        let Some(domain) = host else {
            return Ok(Site::default());
        };
        let pool_id = domain_pool(&app.store.read(), domain);
        match pool_id {
            Some(id) => Ok(Site {
                pool_id: Some(id),
                base: String::new(),
            }),
            // A proxy's own name is not a Cognito domain: only AWS-shaped hosts must match.
            None if domain.contains('.') => Ok(Site::default()),
            None => Err(unknown_domain(domain)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::host_domain;

    #[test]
    fn hosts() {
        assert_eq!(
            host_domain("myapp.auth.eu-west-1.amazoncognito.com"),
            Some("myapp")
        );
        assert_eq!(
            host_domain("myapp.auth.us-east-1.amazoncognito.com:9006"),
            Some("myapp")
        );
        assert_eq!(host_domain("127.0.0.1:9006"), None);
        assert_eq!(host_domain("localhost:9006"), None);
        assert_eq!(host_domain("auth.example.com"), Some("auth.example.com"));
    }
}
