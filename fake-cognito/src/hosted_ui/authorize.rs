//! `GET /oauth2/authorize`: check the request, then sign in silently from the session cookie,
//! go straight to the federated stand-in for `identity_provider` / `idp_identifier`, or send the
//! user to the login page (`/login` with the same parameters, as AWS does). `prompt=login`
//! forces the form; `prompt=none` answers `error=login_required` instead of showing it.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::finish::{found, signed_in};
use super::request::{self, AuthorizeRequest};
use super::site::Site;
use super::{cookie, federated};
use crate::app::AppState;

pub async fn authorize(
    State(app): State<AppState>,
    site: Site,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let req = match request::parse(&app, &site, &q) {
        Ok(r) => r,
        Err(refusal) => return refusal.into_response(),
    };
    if let Some(res) = from_cookie(&app, &req, &headers).await {
        return res;
    }
    if req
        .prompt
        .as_deref()
        .is_some_and(|p| p.split(' ').any(|x| x == "none"))
    {
        return req.refuse("login_required", "The user is not signed in.");
    }
    match &req.provider {
        Some(p) => found(&federated::stand_in_url(&site, p, &req), None),
        None => found(&format!("{}/login?{}", site.base, req.query()), None),
    }
}

/// A silent sign-in from the session cookie, unless `prompt=login` or another IdP is asked for.
pub async fn from_cookie(
    app: &AppState,
    req: &AuthorizeRequest,
    headers: &HeaderMap,
) -> Option<Response> {
    if req
        .prompt
        .as_deref()
        .is_some_and(|p| p.split(' ').any(|x| x == "login"))
    {
        return None;
    }
    let (session, user) = cookie::current(app, headers, &req.meta.id)?;
    let same_idp = req
        .provider
        .as_ref()
        .is_none_or(|p| user.username.starts_with(&format!("{p}_")));
    if !same_idp {
        return None;
    }
    Some(signed_in(app, req, &session.user_key, &user, Some(session.auth_time)).await)
}
