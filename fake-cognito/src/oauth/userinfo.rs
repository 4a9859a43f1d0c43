//! `/oauth2/userInfo`: the user's attributes for an access token that carries the `openid` scope
//! (AWS refuses the scope-less tokens of API sign-ins). The scopes bound the answer as AWS
//! documents: `openid` alone gives every attribute the client may read; `profile`, `email` and
//! `phone` each add their group (custom attributes come with `profile`); `sub` and `username`
//! are always there. `aws.cognito.signin.user.admin` changes nothing.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::OPENID;
use crate::app::AppState;
use crate::tokens::{self, Expect};

const PROFILE: &[&str] = &[
    "name",
    "family_name",
    "given_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "updated_at",
];
const EMAIL: &[&str] = &["email", "email_verified"];
const PHONE: &[&str] = &["phone_number", "phone_number_verified"];

fn refuse(status: StatusCode, error: &str) -> Response {
    let challenge = format!("Bearer error=\"{error}\"");
    (
        status,
        [(header::WWW_AUTHENTICATE, challenge)],
        axum::Json(json!({ "error": error })),
    )
        .into_response()
}

/// Whether the scopes let `name` through.
fn in_scope(scopes: &[&str], name: &str) -> bool {
    let groups = ["profile", "email", "phone"];
    if !scopes.iter().any(|s| groups.contains(s)) {
        return true;
    }
    (scopes.contains(&"profile") && (PROFILE.contains(&name) || name.starts_with("custom:")))
        || (scopes.contains(&"email") && EMAIL.contains(&name))
        || (scopes.contains(&"phone") && PHONE.contains(&name))
}

pub async fn user_info(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|t| !t.trim().is_empty())
    else {
        return refuse(StatusCode::BAD_REQUEST, "invalid_request");
    };
    let invalid = || refuse(StatusCode::UNAUTHORIZED, "invalid_token");
    let expect = Expect {
        token_use: Some("access"),
        ..Default::default()
    };
    let Ok(v) = tokens::verify(&app, token, &expect) else {
        return invalid();
    };
    let scope = v
        .claims
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let scopes: Vec<&str> = scope.split(' ').collect();
    let client_id = v.claims.get("client_id").and_then(Value::as_str);
    let (Some(username), true, Some(client_id)) = (v.username, scopes.contains(&OPENID), client_id)
    else {
        return invalid();
    };
    let store = app.store.read();
    let Some(pool) = store.pools.get(&v.pool_id) else {
        return invalid();
    };
    let (Ok(user), Some(client)) = (pool.user(&username), pool.clients.get(client_id)) else {
        return invalid();
    };
    let mut out = Map::new();
    out.insert("sub".into(), Value::from(user.sub.clone()));
    for (k, val) in &user.attributes {
        let readable = client.read_attributes.is_empty() || client.read_attributes.contains(k);
        if k != "sub" && readable && in_scope(&scopes, k) {
            out.insert(k.clone(), Value::from(val.clone()));
        }
    }
    out.insert("username".into(), Value::from(user.username.clone()));
    axum::Json(Value::Object(out)).into_response()
}

#[cfg(test)]
mod tests {
    use super::in_scope;

    #[test]
    fn scopes_bound_the_attributes() {
        assert!(in_scope(&["openid"], "email"));
        assert!(in_scope(&["openid"], "custom:tier"));
        assert!(in_scope(&["openid", "email"], "email_verified"));
        assert!(!in_scope(&["openid", "email"], "phone_number"));
        assert!(!in_scope(&["openid", "email"], "given_name"));
        assert!(in_scope(&["openid", "profile"], "custom:tier"));
        assert!(!in_scope(&["openid", "profile"], "email"));
    }
}
