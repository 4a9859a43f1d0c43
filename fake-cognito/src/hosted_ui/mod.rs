//! The hosted UI: Cognito's sign-in pages for people and its OAuth 2.0 endpoints, served on the
//! main port at the root (the `client_id` names the pool), under `/domain/<prefix>/` for a domain
//! made with `CreateUserPoolDomain`, and for `Host: <prefix>.auth.<region>.amazoncognito.com`
//! ([`site`]).
//!
//! - [`authorize`]: `/oauth2/authorize`, checked by [`request`]; silent sign-in from the session
//!   [`cookie`];
//! - [`login`]: `/login`, the password form, then the challenge pages of [`steps`] (MFA_SETUP's
//!   authenticator registration in [`setup`]);
//! - [`federated`]: the local stand-in for a federated IdP and `/oauth2/idpresponse`;
//! - [`finish`]: the redirect with a code or (implicit flow) tokens; [`logout`]: `/logout`;
//! - [`page`]: the HTML. The JSON endpoints (`/oauth2/token`, `userInfo`, `revoke`) are in
//!   `crate::oauth`.

pub mod authorize;
pub mod cookie;
pub mod federated;
pub mod finish;
pub mod login;
pub mod logout;
pub mod page;
pub mod request;
pub mod setup;
pub mod site;
pub mod steps;

use std::collections::HashMap;

use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use crate::app::AppState;
use crate::oauth;

/// AWS's `/error` page (where its hosted UI sends the user with `?error=`).
async fn error_page(Query(q): Query<HashMap<String, String>>) -> Response {
    let code = q.get("error").map_or("invalid_request", String::as_str);
    let desc = q.get("error_description").map_or("", String::as_str);
    page::error(StatusCode::BAD_REQUEST, code, desc)
}

/// Every hosted-UI route, mounted at the root and under `/domain/{prefix}`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/oauth2/authorize", get(authorize::authorize))
        .route("/login", get(login::page).post(login::submit))
        .route("/logout", get(logout::logout))
        .route("/error", get(error_page))
        .route("/fake-idp/{provider}", get(federated::page))
        .route("/oauth2/idpresponse", post(federated::submit))
        .route("/oauth2/token", post(oauth::token))
        .route(
            "/oauth2/userInfo",
            get(oauth::user_info).post(oauth::user_info),
        )
        .route("/oauth2/revoke", post(oauth::revoke))
}
