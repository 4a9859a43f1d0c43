//! The self-service flows a code confirms: sign-up and its confirmation (and the admin shortcut),
//! resending the code, and forgot-password. Codes are logged and readable at `/_fake/codes`;
//! no mail or SMS is sent.

use serde_json::{Value, json};

use super::recovery;
use super::{
    NewPassword, alias_taken, check_attributes, internal_name, new_identity, user_record, with_user,
};
use crate::app::AppState;
use crate::auth::password;
use crate::error::{CognitoError, Result};
use crate::model::{Code, User};
use crate::params::Params;
use crate::triggers::event::NO_CLIENT;
use crate::triggers::{message, migration, sign_up};

pub const SIGNUP_CODE_TTL: f64 = 24.0 * 3600.0;
pub const RESET_CODE_TTL: f64 = 3600.0;

fn mask(v: &str) -> String {
    match v.split_once('@') {
        Some((local, domain)) => format!(
            "{}***@{}***",
            local.chars().next().unwrap_or('*'),
            domain.chars().next().unwrap_or('*')
        ),
        None => {
            // The last four characters, counted in chars: the attribute comes from the client and
            // a byte slice could split a multi-byte character and panic.
            let tail: String = v
                .chars()
                .rev()
                .take(4)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            format!("+*******{tail}")
        }
    }
}

/// `CodeDeliveryDetails` for a code sent to `attribute` (`email` by mail, `phone_number` by SMS).
pub fn code_delivery(user: &User, attribute: &str) -> Value {
    let medium = if attribute == "phone_number" {
        "SMS"
    } else {
        "EMAIL"
    };
    let value = user
        .attributes
        .get(attribute)
        .map(String::as_str)
        .unwrap_or_default();
    json!({"Destination": mask(value), "DeliveryMedium": medium, "AttributeName": attribute})
}

/// Where a sign-up code goes: an auto-verified attribute the user has. With both auto-verified,
/// Cognito verifies only the phone number; with none, no code is sent and the user waits for
/// `AdminConfirmSignUp`.
pub fn sign_up_target(auto_verified: &[String], user: &User) -> Option<&'static str> {
    ["phone_number", "email"]
        .into_iter()
        .find(|a| auto_verified.iter().any(|v| v == a) && user.attributes.contains_key(*a))
}

/// Replace the user's code of `kind` with a fresh one sent to `attribute`, and log it (no mail
/// is sent).
pub(crate) fn issue_code(
    pool_id: &str,
    user: &mut User,
    kind: &str,
    attribute: Option<&str>,
    now: f64,
) -> String {
    let code = crate::ids::new_code();
    user.codes.retain(|c| c.kind != kind);
    user.codes.push(Code {
        kind: kind.to_owned(),
        code: code.clone(),
        created_at: now,
        attribute: attribute.map(str::to_owned),
        message: None,
    });
    tracing::info!(pool_id, username = %user.username, kind, code = %code,
        "verification code issued (no message is sent; also at GET /_fake/codes)");
    code
}

/// Consume a matching, unexpired code; the attribute it was sent to.
fn check_code(
    user: &mut User,
    kind: &str,
    given: &str,
    ttl: f64,
    now: f64,
) -> Result<Option<String>> {
    let Some(pos) = user.codes.iter().position(|c| c.kind == kind) else {
        return Err(CognitoError::ExpiredCode(
            "Invalid code provided, please request a code again.".into(),
        ));
    };
    if now - user.codes[pos].created_at > ttl {
        user.codes.remove(pos);
        return Err(CognitoError::ExpiredCode(
            "Invalid code provided, please request a code again.".into(),
        ));
    }
    if user.codes[pos].code != given {
        return Err(CognitoError::CodeMismatch(
            "Invalid verification code provided, please try again.".into(),
        ));
    }
    Ok(user.codes.remove(pos).attribute)
}

pub async fn sign_up(app: &AppState, p: &Params) -> Result<Value> {
    let client_id = p.str("ClientId")?.to_owned();
    let username = p.str("Username")?.to_owned();
    let pw = p.str("Password")?.to_owned();
    let attrs = p.attributes("UserAttributes")?;
    let (pool_id, meta) = {
        let store = app.store.read();
        let (pool, client) = store.client(&client_id)?;
        password::check_secret_hash(client, p.opt_str("SecretHash"), &[&username])?;
        (pool.meta.id.clone(), pool.meta.clone())
    };
    let admin_only = meta
        .extra
        .get("AdminCreateUserConfig")
        .and_then(|c| c.get("AllowAdminCreateUserOnly"))
        .and_then(Value::as_bool)
        == Some(true);
    if admin_only {
        return Err(CognitoError::NotAuthorized(
            "SignUp is not permitted for this user pool".into(),
        ));
    }
    check_attributes(&meta, &attrs)?;
    password::check_policy(&meta.policy, &pw)?;
    let (internal, sub, mut attributes) = new_identity(&app.ids, &meta, &username, &attrs)?;
    if app
        .store
        .read()
        .pool(&pool_id)?
        .users
        .contains_key(&meta.user_key(&internal))
    {
        return Err(CognitoError::UsernameExists("User already exists".into()));
    }
    let new_user = sign_up::NewUser {
        user_name: &internal,
        client_id: &client_id,
        attributes: &attributes,
        validation_data: &p.attributes("ValidationData")?,
    };
    let decision = sign_up::pre_sign_up(app, &meta, &new_user, false).await?;
    decision.apply_verified(&mut attributes);
    let status = if decision.auto_confirm {
        "CONFIRMED"
    } else {
        "UNCONFIRMED"
    };
    let draft = User::new(
        internal.clone(),
        sub.clone(),
        attributes.clone(),
        status,
        0.0,
    );
    let target =
        sign_up_target(&meta.auto_verified_attributes, &draft).filter(|_| !decision.auto_confirm);
    let text = match target {
        Some(_) => {
            message::custom_message(app, &meta, "CustomMessage_SignUp", &client_id, &draft).await?
        }
        None => None,
    };
    let secret = NewPassword::compute(meta.srp_pool_name(), &internal, &pw)?;
    let (out, user) = app
        .commit(|store, recs| {
            let pool = store.pool_mut(&pool_id)?;
            let key = pool.meta.user_key(&internal);
            if pool.users.contains_key(&key) {
                return Err(CognitoError::UsernameExists("User already exists".into()));
            }
            if alias_taken(pool, &attributes) {
                return Err(CognitoError::UsernameExists(
                    "An account with the given email already exists.".into(),
                ));
            }
            let mut user = User::new(
                internal.clone(),
                sub.clone(),
                attributes,
                status,
                app.clock.now_f64(),
            );
            secret.apply(&mut user);
            let mut out = json!({"UserConfirmed": decision.auto_confirm, "UserSub": sub});
            if let Some(target) = target {
                issue_code(
                    &pool_id,
                    &mut user,
                    "signup",
                    Some(target),
                    app.clock.now_f64(),
                );
                message::attach(&mut user, "signup", text.as_ref());
                out["CodeDeliveryDetails"] = code_delivery(&user, target);
            }
            recs.push(user_record(&pool_id, &key, &user));
            pool.users.insert(key, user.clone());
            Ok((out, user))
        })
        .await?;
    if decision.auto_confirm {
        sign_up::post_confirmation(app, &meta, &client_id, &user, false).await?;
    }
    Ok(out)
}

/// Resolve a client and check its SECRET_HASH for an unsigned user call.
fn client_pool(app: &AppState, p: &Params, username: &str) -> Result<(String, bool)> {
    let store = app.store.read();
    let (pool, client) = store.client(p.str("ClientId")?)?;
    let internal = pool.find_user_key(username);
    let internal_name = internal
        .as_ref()
        .and_then(|k| pool.users.get(k))
        .map(|u| u.username.as_str())
        .unwrap_or(username);
    password::check_secret_hash(client, p.opt_str("SecretHash"), &[username, internal_name])?;
    Ok((
        pool.meta.id.clone(),
        client.prevents_user_existence_errors(),
    ))
}

pub async fn confirm_sign_up(app: &AppState, p: &Params) -> Result<Value> {
    let username = p.str("Username")?.to_owned();
    let code = p.str("ConfirmationCode")?.to_owned();
    let (pool_id, _) = client_pool(app, p, &username)?;
    let client_id = p.str("ClientId")?;
    let (meta, user) = app
        .commit(|store, recs| {
            let pool = store.pool_mut(&pool_id)?;
            let meta = pool.meta.clone();
            let (key, user) = pool.user_mut(&username)?;
            if user.status != "UNCONFIRMED" {
                return Err(CognitoError::NotAuthorized(format!(
                    "User cannot be confirmed. Current status is {}",
                    user.status
                )));
            }
            let verified =
                match check_code(user, "signup", &code, SIGNUP_CODE_TTL, app.clock.now_f64()) {
                    Ok(attribute) => attribute,
                    Err(e) => {
                        recs.push(user_record(&pool_id, &key, user));
                        return Err(e);
                    }
                };
            user.status = "CONFIRMED".into();
            // The code proves the user reads the attribute it went to, and only that one.
            if let Some(attribute) = verified {
                user.attributes
                    .insert(format!("{attribute}_verified"), "true".into());
            }
            user.modified = app.clock.now_f64();
            recs.push(user_record(&pool_id, &key, user));
            Ok((meta, user.clone()))
        })
        .await?;
    sign_up::post_confirmation(app, &meta, client_id, &user, false).await?;
    Ok(json!({}))
}

pub async fn resend_confirmation_code(app: &AppState, p: &Params) -> Result<Value> {
    let username = p.str("Username")?.to_owned();
    let (pool_id, _) = client_pool(app, p, &username)?;
    let text = message::for_user(
        app,
        &pool_id,
        &username,
        "CustomMessage_ResendCode",
        p.str("ClientId")?,
    )
    .await?;
    app.commit(|store, recs| {
        let pool = store.pool_mut(&pool_id)?;
        let auto_verified = pool.meta.auto_verified_attributes.clone();
        let (key, user) = pool.user_mut(&username)?;
        if user.status != "UNCONFIRMED" {
            return Err(CognitoError::InvalidParameter(
                "User is already confirmed.".into(),
            ));
        }
        let Some(target) = sign_up_target(&auto_verified, user) else {
            return Err(CognitoError::InvalidParameter(
                "Cannot resend codes. Auto verification not turned on.".into(),
            ));
        };
        issue_code(&pool_id, user, "signup", Some(target), app.clock.now_f64());
        message::attach(user, "signup", text.as_ref());
        recs.push(user_record(&pool_id, &key, user));
        Ok(json!({"CodeDeliveryDetails": code_delivery(user, target)}))
    })
    .await
}

pub async fn admin_confirm_sign_up(app: &AppState, p: &Params) -> Result<Value> {
    let pool_id = p.str("UserPoolId")?;
    let (meta, user) = with_user(app, pool_id, p.str("Username")?, |meta, user| {
        if user.status != "UNCONFIRMED" {
            return Err(CognitoError::NotAuthorized(format!(
                "User cannot be confirmed. Current status is {}",
                user.status
            )));
        }
        user.status = "CONFIRMED".into();
        user.codes.retain(|c| c.kind != "signup");
        Ok((meta.clone(), user.clone()))
    })
    .await?;
    sign_up::post_confirmation(app, &meta, NO_CLIENT, &user, false).await?;
    Ok(json!({}))
}

pub async fn forgot_password(app: &AppState, p: &Params) -> Result<Value> {
    let username = p.str("Username")?.to_owned();
    let (pool_id, prevent) = client_pool(app, p, &username)?;
    let meta = app.store.read().pool(&pool_id)?.meta.clone();
    if app.store.read().pool(&pool_id)?.user(&username).is_err() {
        let client_id = p.str("ClientId")?;
        migration::on_forgot_password(app, &meta, client_id, &username).await?;
    }
    let source = "CustomMessage_ForgotPassword";
    let text = message::for_user(app, &pool_id, &username, source, p.str("ClientId")?).await?;
    let result = with_user(app, &pool_id, &username, |meta, user| {
        let channel = recovery::self_service(meta, user)?;
        issue_code(
            &pool_id,
            user,
            "forgot_password",
            Some(channel),
            app.clock.now_f64(),
        );
        message::attach(user, "forgot_password", text.as_ref());
        Ok(json!({"CodeDeliveryDetails": code_delivery(user, channel)}))
    })
    .await;
    match result {
        Err(CognitoError::UserNotFound(_)) if prevent => Ok(json!({"CodeDeliveryDetails": {
            "Destination": "u***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}})),
        other => other,
    }
}

pub async fn confirm_forgot_password(app: &AppState, p: &Params) -> Result<Value> {
    let username = p.str("Username")?.to_owned();
    let code = p.str("ConfirmationCode")?.to_owned();
    let pw = p.str("Password")?.to_owned();
    let (pool_id, _) = client_pool(app, p, &username)?;
    let meta = app.store.read().pool(&pool_id)?.meta.clone();
    let internal = internal_name(app, &pool_id, &username)?;
    password::check_policy(&meta.policy, &pw)?;
    let secret = NewPassword::compute(meta.srp_pool_name(), &internal, &pw)?;
    let user = app
        .commit(|store, recs| {
            let pool = store.pool_mut(&pool_id)?;
            let (key, user) = pool.user_mut(&username)?;
            let checked = check_code(
                user,
                "forgot_password",
                &code,
                RESET_CODE_TTL,
                app.clock.now_f64(),
            );
            if let Err(e) = checked {
                recs.push(user_record(&pool_id, &key, user));
                return Err(e);
            }
            secret.apply(user);
            if matches!(
                user.status.as_str(),
                "RESET_REQUIRED" | "FORCE_CHANGE_PASSWORD"
            ) {
                user.status = "CONFIRMED".into();
            }
            user.modified = app.clock.now_f64();
            recs.push(user_record(&pool_id, &key, user));
            Ok(user.clone())
        })
        .await?;
    sign_up::post_confirmation(app, &meta, p.str("ClientId")?, &user, true).await?;
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn a_phone_number_keeps_its_last_four_characters_even_when_they_are_not_ascii() {
        assert_eq!(mask("+15551234567"), "+*******4567");
        assert_eq!(mask("+1555ééé"), "+*******5ééé");
        assert_eq!(mask("a@b.c"), "a***@b***");
    }
}
