//! The OAuth 2.0 JSON endpoints of the hosted UI: `/oauth2/token` ([`grants`]: authorization_code
//! with PKCE, refresh_token with rotation, client_credentials), the authorization codes the login
//! page hands out ([`codes`]), `/oauth2/userInfo` ([`userinfo`]) and `/oauth2/revoke`
//! ([`revoke`]). Errors use RFC 6749's `{"error": ...}` shape; the HTML pages live in
//! `crate::hosted_ui`.

pub mod codes;
pub mod grants;
pub mod revoke;
pub mod userinfo;

use std::collections::HashMap;

use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

pub use grants::token;
pub use revoke::revoke;
pub use userinfo::user_info;

use crate::app::AppState;
use crate::error::{CognitoError, Result};
use crate::model::Client;

pub const OPENID: &str = "openid";

/// Client credentials from `Authorization: Basic` or the form body (`client_secret_post`).
pub fn client_credentials(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> (Option<String>, Option<String>) {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.split_once(':').map(|(a, b)| (a.to_owned(), b.to_owned())));
    match basic {
        Some((id, secret)) => (Some(id), Some(secret).filter(|s| !s.is_empty())),
        None => (
            form.get("client_id").cloned(),
            form.get("client_secret").cloned(),
        ),
    }
}

/// The client a token request names, its secret checked when it has one.
pub fn authenticate(
    app: &AppState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<Client> {
    let (id, secret) = client_credentials(headers, form);
    let id = id.ok_or_else(|| CognitoError::oauth("invalid_client"))?;
    let client = {
        let store = app.store.read();
        store
            .client(&id)
            .map_err(|_| CognitoError::oauth("invalid_client"))?
            .1
            .clone()
    };
    if let Some(s) = &client.secret {
        let ok = secret.as_deref().is_some_and(|given| {
            aws_lc_rs::constant_time::verify_slices_are_equal(given.as_bytes(), s.as_bytes())
                .is_ok()
        });
        if !ok {
            return Err(CognitoError::oauth("invalid_client"));
        }
    }
    Ok(client)
}

/// A space-separated scope list.
pub fn scope_list(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}
