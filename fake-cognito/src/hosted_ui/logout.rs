//! `GET /logout`: end the hosted-UI session (the cookie) and redirect. With `logout_uri`, it must
//! be one of the client's LogoutURLs and the user lands there; with `redirect_uri` +
//! `response_type` (one of the client's CallbackURLs) the user is sent to sign in again. Anything
//! else is AWS's error page, and the session is left alone.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::finish::found;
use super::page;
use super::site::Site;
use crate::app::AppState;

pub async fn logout(
    State(app): State<AppState>,
    site: Site,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let bad = |code: &str, msg: &str| page::error(StatusCode::BAD_REQUEST, code, msg);
    let get = |n: &str| q.get(n).filter(|s| !s.is_empty());
    let Some(client_id) = get("client_id") else {
        return bad("invalid_request", "client_id is missing.");
    };
    let client = {
        let store = app.store.read();
        store
            .client(client_id)
            .ok()
            .filter(|(p, _)| site.pool_id.as_deref().is_none_or(|id| id == p.meta.id))
            .map(|(_, c)| c.clone())
    };
    let Some(client) = client else {
        return bad(
            "invalid_request",
            &format!("Client {client_id} does not exist."),
        );
    };
    let target = match (get("logout_uri"), get("redirect_uri")) {
        (Some(uri), _) => {
            if !client.logout_urls.contains(uri) {
                return bad(
                    "redirect_mismatch",
                    "The logout_uri is not one of the client's sign-out URLs.",
                );
            }
            uri.clone()
        }
        (None, Some(uri)) => {
            if !client.callback_urls.contains(uri) {
                return bad(
                    "redirect_mismatch",
                    "The redirect_uri is not one of the client's callback URLs.",
                );
            }
            if get("response_type").is_none() {
                return bad("invalid_request", "response_type is missing.");
            }
            let keep = [
                "client_id",
                "redirect_uri",
                "response_type",
                "scope",
                "state",
            ];
            let query: Vec<String> = keep
                .iter()
                .filter_map(|k| get(k).map(|v| format!("{k}={}", super::finish::encode(v))))
                .collect();
            format!("{}/login?{}", site.base, query.join("&"))
        }
        (None, None) => return bad("invalid_request", "logout_uri or redirect_uri is required."),
    };
    let cleared = super::cookie::clear(&app, &headers, &client.pool_id);
    found(&target, cleared)
}
