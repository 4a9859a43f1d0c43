//! UserMigration (`UserMigration_Authentication`, `UserMigration_ForgotPassword`): a sign-in with
//! a password or a forgot-password request for a user the pool does not have asks the function;
//! when it answers with `userAttributes`, the user is created (`finalUserStatus` CONFIRMED or
//! RESET_REQUIRED; the sign-in's password becomes theirs) and the call goes on as for any user.
//! `messageAction` SUPPRESS is accepted (no welcome message is sent either way: none ever is).

use serde_json::{Value, json};

use super::{Trigger, config, event, run};
use crate::app::AppState;
use crate::error::{CognitoError, Result};
use crate::model::{Client, PoolMeta, User};
use crate::users::{NewPassword, alias_taken, check_attributes, new_identity, user_record};

fn bad() -> CognitoError {
    CognitoError::InvalidLambdaResponse("Unrecognizable lambda output".into())
}

/// A sign-in of an unknown `username` with `password`: the migrated user and its key, or `None`
/// when the pool has no UserMigration trigger.
pub async fn on_sign_in(
    app: &AppState,
    meta: &PoolMeta,
    client: &Client,
    username: &str,
    password: &str,
) -> Result<Option<(String, User)>> {
    if config::arn(meta, Trigger::UserMigration).is_none() {
        return Ok(None);
    }
    let request = json!({
        "password": password,
        "validationData": event::client_metadata_or_empty(),
    });
    migrate(app, meta, &client.id, username, request, Some(password)).await
}

/// A forgot-password request for an unknown `username`.
pub async fn on_forgot_password(
    app: &AppState,
    meta: &PoolMeta,
    client_id: &str,
    username: &str,
) -> Result<Option<(String, User)>> {
    if config::arn(meta, Trigger::UserMigration).is_none() {
        return Ok(None);
    }
    let request = json!({
        "validationData": null,
        "clientMetadata": event::client_metadata_or_empty(),
    });
    migrate(app, meta, client_id, username, request, None).await
}

async fn migrate(
    app: &AppState,
    meta: &PoolMeta,
    client_id: &str,
    username: &str,
    request: Value,
    password: Option<&str>,
) -> Result<Option<(String, User)>> {
    let source = if password.is_some() {
        "UserMigration_Authentication"
    } else {
        "UserMigration_ForgotPassword"
    };
    let ev = event::envelope(
        meta,
        source,
        Some(username),
        client_id,
        request,
        json!({
            "userAttributes": null, "finalUserStatus": null, "messageAction": null,
            "desiredDeliveryMediums": null, "forceAliasCreation": null, "enableSMSMFA": null,
        }),
    );
    let Some(answer) = run(app, meta, Trigger::UserMigration, &ev).await? else {
        return Ok(None);
    };
    let response = super::response(&answer);
    let attrs: Vec<(String, String)> = response
        .get("userAttributes")
        .and_then(Value::as_object)
        .ok_or_else(bad)?
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "sub" | "username"))
        .map(|(k, v)| {
            v.as_str()
                .map(|s| (k.clone(), s.to_owned()))
                .ok_or_else(bad)
        })
        .collect::<Result<_>>()?;
    let status = match response.get("finalUserStatus") {
        None | Some(Value::Null) if password.is_some() => "CONFIRMED",
        None | Some(Value::Null) => "RESET_REQUIRED",
        Some(Value::String(s)) if s == "CONFIRMED" || s == "RESET_REQUIRED" => s.as_str(),
        Some(_) => return Err(bad()),
    };
    match response.get("messageAction") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s == "SUPPRESS" => {}
        Some(_) => return Err(bad()),
    }
    check_attributes(meta, &attrs)?;
    let (internal, sub, attributes) = new_identity(&app.ids, meta, username, &attrs)?;
    let secret = match password {
        Some(pw) => Some(NewPassword::compute(meta.srp_pool_name(), &internal, pw)?),
        None => None,
    };
    let pool_id = meta.id.clone();
    let created = app
        .commit(|store, recs| {
            let pool = store.pool_mut(&pool_id)?;
            let key = pool.meta.user_key(&internal);
            // Re-checked under the lock: a concurrent sign-in may have migrated the user already.
            if let Some(existing) = pool.users.get(&key) {
                return Ok((key, existing.clone()));
            }
            // forceAliasCreation (moving an alias off another user) is not supported: refused.
            if alias_taken(pool, &attributes) {
                return Err(CognitoError::AliasExists(
                    "An account with the given email already exists.".into(),
                ));
            }
            let mut user = User::new(
                internal.clone(),
                sub.clone(),
                attributes.clone(),
                status,
                app.clock.now_f64(),
            );
            if let Some(secret) = secret {
                secret.apply(&mut user);
            }
            recs.push(user_record(&pool_id, &key, &user));
            pool.users.insert(key.clone(), user.clone());
            Ok((key, user))
        })
        .await?;
    tracing::info!(pool_id = %meta.id, username = %created.1.username, status, "user migrated by the UserMigration trigger");
    Ok(Some(created))
}
