//! The hosted UI's sign-in session: after a sign-in, a cookie (one per pool, HttpOnly,
//! SameSite=Lax, one hour as AWS's) lets the next `/oauth2/authorize` sign the user in without
//! the form; `/logout` clears it. The session behind the cookie lives in the app's bounded,
//! expiring session map (movable clock), in memory only, and dies with the user: deleted,
//! disabled, or globally signed out after it began.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, header};

use crate::app::{AppState, Session};
use crate::model::User;

/// AWS's hosted-UI session lasts an hour.
pub const TTL: Duration = Duration::from_secs(3600);

const PREFIX: &str = "hosted-ui:";

/// Who a cookie signs in.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub pool_id: String,
    pub user_key: String,
    pub sub: String,
    /// When the user typed the password (unix seconds): the `auth_time` of later sign-ins.
    pub auth_time: i64,
    /// When the session began (unix ms), against the user's global sign-out time.
    pub started_ms: i64,
}

pub fn name(pool_id: &str) -> String {
    format!("cognito-{pool_id}")
}

/// The value of cookie `name` in the request.
fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The live session of `pool_id` the request's cookie names, with its user as it is now.
pub fn current(app: &AppState, headers: &HeaderMap, pool_id: &str) -> Option<(SignedIn, User)> {
    let id = cookie_value(headers, &name(pool_id))?;
    let Some(Session::HostedUi(s)) = app.sessions.peek(&format!("{PREFIX}{id}")) else {
        return None;
    };
    if s.pool_id != pool_id {
        return None;
    }
    let store = app.store.read();
    let user = store.pools.get(pool_id)?.users.get(&s.user_key)?;
    let alive = user.sub == s.sub && user.enabled && user.signed_out_ms < s.started_ms;
    alive.then(|| (s.clone(), user.clone()))
}

/// Start a session for `user`; the `Set-Cookie` value.
pub fn start(
    app: &AppState,
    pool_id: &str,
    user_key: &str,
    user: &User,
    auth_time: i64,
) -> Option<HeaderValue> {
    let id = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    app.sessions.insert(
        format!("{PREFIX}{id}"),
        TTL,
        Session::HostedUi(SignedIn {
            pool_id: pool_id.to_owned(),
            user_key: user_key.to_owned(),
            sub: user.sub.clone(),
            auth_time,
            started_ms: app.clock.now_ms(),
        }),
    );
    HeaderValue::from_str(&format!(
        "{}={id}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax",
        name(pool_id),
        TTL.as_secs()
    ))
    .ok()
}

/// End the request's session of `pool_id` (if any); the `Set-Cookie` value that clears it.
pub fn clear(app: &AppState, headers: &HeaderMap, pool_id: &str) -> Option<HeaderValue> {
    if let Some(id) = cookie_value(headers, &name(pool_id)) {
        app.sessions.take(&format!("{PREFIX}{id}"));
    }
    HeaderValue::from_str(&format!(
        "{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax",
        name(pool_id)
    ))
    .ok()
}
