//! The end of a hosted-UI sign-in: a single-use authorization code (code flow) or tokens in the
//! URL fragment (implicit flow) sent to the redirect_uri with the `state` echoed, and the
//! session cookie that lets the next `/oauth2/authorize` skip the form. Also the redirects that
//! carry an `error=` back to the client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::cookie;
use super::page;
use super::request::AuthorizeRequest;
use crate::app::AppState;
use crate::model::User;
use crate::oauth::codes::{self, Grant};
use crate::oauth::grants::{mint, oauth_body};

/// Percent-encode a query component (RFC 3986 unreserved characters kept).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A 302 to `location`, never cached; `cookie` set on the way when given.
pub fn found(location: &str, cookie: Option<HeaderValue>) -> Response {
    let Ok(loc) = HeaderValue::from_str(location) else {
        return page::error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The redirect URL is not a valid header value.",
        );
    };
    let mut res = (StatusCode::FOUND, [(header::CACHE_CONTROL, "no-store")]).into_response();
    res.headers_mut().insert(header::LOCATION, loc);
    if let Some(c) = cookie {
        res.headers_mut().insert(header::SET_COOKIE, c);
    }
    res
}

/// `uri` with `params` added to its query, or as its fragment (implicit flow).
pub fn with_params(uri: &str, fragment: bool, params: &[(&str, &str)]) -> String {
    let encoded = params
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    if fragment {
        let base = uri.split('#').next().unwrap_or(uri);
        return format!("{base}#{encoded}");
    }
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}{encoded}")
}

/// An OAuth error sent back to the client's redirect_uri.
pub fn redirect_error(
    uri: &str,
    fragment: bool,
    error: &str,
    description: &str,
    state: Option<&str>,
) -> Response {
    let mut params = vec![("error", error), ("error_description", description)];
    if let Some(s) = state {
        params.push(("state", s));
    }
    found(&with_params(uri, fragment, &params), None)
}

/// A sign-in refused after the password (a trigger said no): back to the client as AWS's
/// hosted UI does, or the error page for our own failures.
fn refused(req: &AuthorizeRequest, e: &crate::error::CognitoError) -> Response {
    use crate::error::CognitoError::{Internal, Persistence};
    match e {
        Persistence(_) | Internal(_) => page::from_error(e),
        _ => req.refuse("access_denied", &e.to_string()),
    }
}

/// The user is signed in: a fresh sign-in (`auth_time` = now) starts a cookie session, a
/// cookie sign-in (`cookie_auth_time` given) keeps the first one's `auth_time`.
pub async fn signed_in(
    app: &AppState,
    req: &AuthorizeRequest,
    user_key: &str,
    user: &User,
    cookie_auth_time: Option<i64>,
) -> Response {
    let (auth_time, set_cookie) = match cookie_auth_time {
        Some(t) => (t, None),
        None => {
            let now = app.clock.now_secs();
            (now, cookie::start(app, &req.meta.id, user_key, user, now))
        }
    };
    let grant = Grant {
        pool_id: req.meta.id.clone(),
        client_id: req.client.id.clone(),
        user_key: user_key.to_owned(),
        sub: user.sub.clone(),
        redirect_uri: req.redirect_uri.clone(),
        pkce: req.pkce.clone(),
        scope: req.scope(),
        nonce: req.nonce.clone(),
        auth_time,
    };
    let mut params: Vec<(String, String)> = Vec::new();
    if req.implicit {
        let result = match mint(app, &req.meta, &req.client, user, &grant, false).await {
            Ok(r) => r,
            Err(e) => return refused(req, &e),
        };
        let openid = req.scopes.iter().any(|s| s == crate::oauth::OPENID);
        if let Value::Object(m) = oauth_body(&result, openid) {
            for (k, v) in m {
                let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                params.push((k, v));
            }
        }
    } else {
        params.push(("code".into(), codes::issue(app, grant)));
    }
    if let Some(s) = &req.state {
        params.push(("state".into(), s.clone()));
    }
    let refs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    found(
        &with_params(&req.redirect_uri, req.implicit, &refs),
        set_cookie,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_join_the_query_or_replace_the_fragment() {
        assert_eq!(
            with_params(
                "https://app/cb",
                false,
                &[("code", "a b"), ("state", "x&y")]
            ),
            "https://app/cb?code=a%20b&state=x%26y"
        );
        assert_eq!(
            with_params("https://app/cb?x=1", false, &[("code", "c")]),
            "https://app/cb?x=1&code=c"
        );
        assert_eq!(
            with_params("https://app/cb#old", true, &[("access_token", "t")]),
            "https://app/cb#access_token=t"
        );
    }
}
