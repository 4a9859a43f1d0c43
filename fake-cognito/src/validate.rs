//! Admin routes for services and tests (no auth, local only): `GET /_fake/validate` checks a
//! bearer token exactly as fake-cognito's own APIs do; `/_fake/codes` shows verification codes
//! (no mail is sent); `/_fake/state` dumps state without private keys or password material;
//! `POST /_fake/reset` forgets every pool (signing keys stay, so `kid`s remain stable).

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::app::AppState;
use crate::error::Result;
use crate::persist::Record;
use crate::tokens::{self, Expect};

pub async fn validate(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let reject = |reason: &str| {
        (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"valid": false, "reason": reason})),
        )
            .into_response()
    };
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
    else {
        return reject("missing_token");
    };
    let expect = Expect {
        token_use: q.get("token_use").map(String::as_str),
        client_id: q.get("client_id").map(String::as_str),
        pool_id: q.get("pool_id").map(String::as_str),
    };
    match tokens::verify(&app, token, &expect) {
        Ok(v) => axum::Json(json!({"valid": true, "claims": v.claims})).into_response(),
        Err(r) => reject(r.reason()),
    }
}

pub async fn codes(
    State(app): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let store = app.store.read();
    let mut results = Vec::new();
    for pool in store.pools.values() {
        if q.get("pool_id").is_some_and(|p| *p != pool.meta.id) {
            continue;
        }
        for user in pool.users.values() {
            if let Some(want) = q.get("username") {
                let matches = user.username == *want
                    || pool.find_user_key(want).as_deref()
                        == Some(&pool.meta.user_key(&user.username));
                if !matches {
                    continue;
                }
            }
            for c in &user.codes {
                results.push(json!({
                    "pool_id": pool.meta.id,
                    "username": user.username,
                    "kind": c.kind,
                    "code": c.code,
                    "created_at": c.created_at,
                    // Where it went (`email`, `phone_number`), null when no message could be.
                    "attribute": c.attribute,
                    // A CustomMessage trigger's text for it, when the pool has one.
                    "message": c.message,
                }));
            }
        }
    }
    axum::Json(json!({ "results": results })).into_response()
}

pub async fn state(State(app): State<AppState>) -> Response {
    let mut v = serde_json::to_value(&*app.store.read()).unwrap_or(Value::Null);
    if let Some(pools) = v.get_mut("pools").and_then(Value::as_object_mut) {
        for pool in pools.values_mut() {
            if let Some(users) = pool.get_mut("users").and_then(Value::as_object_mut) {
                for u in users.values_mut() {
                    if let Some(u) = u.as_object_mut() {
                        u.remove("password");
                        u.remove("srp");
                        // A TOTP secret signs the user in as surely as a password.
                        if let Some(m) = u.get_mut("mfa").and_then(Value::as_object_mut) {
                            m.remove("secret");
                            m.remove("pending_secret");
                        }
                    }
                }
            }
        }
    }
    let kids = json!([app.keys.id.kid, app.keys.access.kid]);
    axum::Json(json!({ "state": v, "kids": kids })).into_response()
}

pub async fn reset(State(app): State<AppState>) -> Result<Response> {
    app.commit(|store, recs| {
        *store = Default::default();
        recs.push(Record::Reset);
        Ok(())
    })
    .await?;
    app.sessions.clear();
    Ok(axum::Json(json!({"reset": true})).into_response())
}
