//! Refresh-token rotation: the client's `RefreshTokenRotation` setting and
//! `GetTokensFromRefreshToken`.
//!
//! Refresh tokens stay sealed, self-contained blobs; each carries a generation number within its
//! family (`origin_jti`). Rotation stores one small record per rotated family: the current
//! generation, until when the previous one is still accepted (the client's retry grace period) and
//! the family's expiry (so the map can be pruned). A token is valid while its generation is the
//! current one, or the previous one inside the grace period. A family that never rotated has no
//! record and generation 0 is current, so tokens minted before this feature stay valid.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::app::AppState;
use crate::error::{CognitoError, Result};
use crate::model::{MAX_REVOCATIONS, Store};
use crate::params::Params;
use crate::persist::Record;
use crate::tokens::{self, RefreshPayload};

/// `RefreshTokenRotationType` as a client keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationSetting {
    pub enabled: bool,
    pub grace_seconds: i64,
}

/// Where a rotated family stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotation {
    pub current: u32,
    /// Unix seconds until which generation `current - 1` is still accepted.
    pub previous_until: i64,
    /// The family's expiry (unix seconds); the record is useless after it.
    pub exp: i64,
}

fn invalid(msg: &str) -> CognitoError {
    CognitoError::InvalidParameter(format!("1 validation error detected: {msg}"))
}

/// The `RefreshTokenRotation` member of Create/UpdateUserPoolClient, checked as botocore does.
pub fn setting_from(p: &Params) -> Result<Option<RotationSetting>> {
    let Some(r) = p.get("RefreshTokenRotation") else {
        return Ok(None);
    };
    let enabled = match r.get("Feature").and_then(Value::as_str) {
        Some("ENABLED") => true,
        Some("DISABLED") => false,
        Some(other) => {
            return Err(invalid(&format!(
                "Value '{other}' at 'refreshTokenRotation.feature' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]"
            )));
        }
        None => {
            return Err(invalid(
                "Value null at 'refreshTokenRotation.feature' failed to satisfy constraint: Member must not be null",
            ));
        }
    };
    let grace = match r.get("RetryGracePeriodSeconds").filter(|v| !v.is_null()) {
        None => 0,
        Some(v) => v.as_i64().ok_or_else(|| {
            CognitoError::Serialization("Expected an integer for RetryGracePeriodSeconds".into())
        })?,
    };
    if !(0..=60).contains(&grace) {
        return Err(invalid(&format!(
            "Value '{grace}' at 'refreshTokenRotation.retryGracePeriodSeconds' failed to satisfy constraint: Member must have value between 0 and 60"
        )));
    }
    Ok(Some(RotationSetting {
        enabled,
        grace_seconds: grace,
    }))
}

pub fn setting_json(s: &RotationSetting) -> Value {
    json!({
        "Feature": if s.enabled { "ENABLED" } else { "DISABLED" },
        "RetryGracePeriodSeconds": s.grace_seconds,
    })
}

pub fn is_enabled(s: &Option<RotationSetting>) -> bool {
    s.as_ref().is_some_and(|s| s.enabled)
}

/// Whether `payload`'s generation is still accepted at `now` (unix seconds).
pub fn generation_valid(store: &Store, payload: &RefreshPayload, now: i64) -> bool {
    match store.rotations.get(&payload.origin_jti) {
        None => payload.generation == 0,
        Some(r) => {
            payload.generation == r.current
                || (payload.generation.checked_add(1) == Some(r.current) && now < r.previous_until)
        }
    }
}

/// Record a rotation, pruning expired records once the map is large (as revocations are).
pub fn remember(store: &mut Store, origin_jti: &str, r: Rotation, now: i64) {
    store.rotations.insert(origin_jti.to_owned(), r);
    if store.rotations.len() > MAX_REVOCATIONS {
        store.rotations.retain(|_, r| r.exp > now);
    }
}

pub async fn get_tokens_from_refresh_token(app: &AppState, p: &Params) -> Result<Value> {
    let token = p.str("RefreshToken")?;
    let client_id = p.str("ClientId")?;
    let client = {
        let store = app.store.read();
        store.client(client_id)?.1.clone()
    };
    if let Some(secret) = &client.secret
        && p.opt_str("ClientSecret") != Some(secret.as_str())
    {
        return Err(CognitoError::NotAuthorized(format!(
            "Client {client_id} is configured with secret but SECRET_HASH was not received"
        )));
    }
    let (payload, meta, user) = super::refresh::check_refresh(app, &client, token)?;
    let Some(grace) = client
        .refresh_token_rotation
        .as_ref()
        .filter(|s| s.enabled)
        .map(|s| s.grace_seconds)
    else {
        let source = crate::triggers::token::REFRESH;
        let result =
            tokens::issue_user_tokens(app, &meta, &client, &user, &payload, false, source).await?;
        return Ok(json!({ "AuthenticationResult": result }));
    };
    let now = app.clock.now_secs();
    let next = app
        .commit(|store, recs| {
            // Re-read under the write lock: a concurrent rotation may have moved the family on.
            if !generation_valid(store, &payload, now) {
                return Err(CognitoError::NotAuthorized("Invalid Refresh Token".into()));
            }
            let current = store
                .rotations
                .get(&payload.origin_jti)
                .map_or(0, |r| r.current);
            if payload.generation != current {
                // A retry with the previous token inside the grace period: no second rotation.
                return Ok(current);
            }
            let r = Rotation {
                current: current + 1,
                previous_until: now + grace,
                exp: payload.exp,
            };
            remember(store, &payload.origin_jti, r, now);
            recs.push(Record::Rotate {
                origin_jti: payload.origin_jti.clone(),
                rotation: r,
            });
            Ok(r.current)
        })
        .await?;
    let session = RefreshPayload {
        generation: next,
        ..payload
    };
    let source = crate::triggers::token::REFRESH;
    let result =
        tokens::issue_user_tokens(app, &meta, &client, &user, &session, true, source).await?;
    Ok(json!({ "AuthenticationResult": result }))
}
