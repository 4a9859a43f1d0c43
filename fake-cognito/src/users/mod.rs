//! Users: admin creation, passwords, attributes, enable/disable, deletion and listing, plus the
//! helpers every user operation shares. The flows confirmed by a code live in [`codes`]; the
//! schema and alias rules for attributes in [`attributes`].

pub mod attributes;
pub mod codes;
pub mod recovery;

pub use attributes::{alias_taken, check_attributes};

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::app::AppState;
use crate::auth::{password, srp};
use crate::error::{CognitoError, Result};
use crate::ids::random_string;
use crate::list_filter;
use crate::model::{PoolMeta, SrpVerifier, User};
use crate::paging::page;
use crate::params::Params;
use crate::persist::Record;
use crate::tokens;

/// Salted hash plus SRP verifier for a new password (computed outside any lock: the verifier is a
/// 3072-bit modular exponentiation).
pub struct NewPassword {
    hash: crate::model::PasswordHash,
    srp: SrpVerifier,
}

impl NewPassword {
    pub fn compute(meta_pool_name: &str, username: &str, pw: &str) -> Result<Self> {
        Ok(Self {
            hash: password::hash(pw)?,
            srp: srp::make_verifier(meta_pool_name, username, pw)?,
        })
    }

    pub fn apply(self, user: &mut User) {
        user.password = Some(self.hash);
        user.srp = Some(self.srp);
    }
}

pub fn user_record(pool_id: &str, key: &str, user: &User) -> Record {
    Record::PutUser {
        pool_id: pool_id.to_owned(),
        key: key.to_owned(),
        user: user.clone(),
    }
}

fn attributes_json(user: &User, only: Option<&[String]>) -> Vec<Value> {
    let mut out = vec![json!({"Name": "sub", "Value": user.sub})];
    out.extend(
        user.attributes
            .iter()
            .filter(|(k, _)| k.as_str() != "sub")
            .map(|(k, v)| json!({"Name": k, "Value": v})),
    );
    if let Some(only) = only {
        out.retain(|a| {
            a["Name"]
                .as_str()
                .is_some_and(|n| only.iter().any(|o| o == n))
        });
    }
    out
}

pub fn user_json(user: &User, attrs_key: &str, only: Option<&[String]>) -> Value {
    let mut out = json!({
        "Username": user.username,
        "UserCreateDate": user.created,
        "UserLastModifiedDate": user.modified,
        "Enabled": user.enabled,
        "UserStatus": user.status,
    });
    out[attrs_key] = Value::from(attributes_json(user, only));
    out
}

/// The internal username and attributes for a new user, honouring `UsernameAttributes`
/// (email/phone sign-in pools get a UUID username equal to the sub).
pub(crate) fn new_identity(
    ids: &crate::ids::Ids,
    meta: &PoolMeta,
    given: &str,
    attrs: &[(String, String)],
) -> Result<(String, String, BTreeMap<String, String>)> {
    let sub = ids.sub(&meta.id, given);
    let mut map: BTreeMap<String, String> = attrs.iter().cloned().collect();
    map.insert("sub".into(), sub.clone());
    if meta.username_attributes.is_empty() {
        if given.contains(char::is_whitespace) || given.len() > 128 {
            return Err(CognitoError::InvalidParameter(
                "1 validation error detected: Value at 'username' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+".into(),
            ));
        }
        return Ok((given.to_owned(), sub, map));
    }
    let is_email = given.contains('@');
    let is_phone = given.starts_with('+');
    if is_email && meta.username_attributes.iter().any(|a| a == "email") {
        map.insert("email".into(), given.to_owned());
    } else if is_phone && meta.username_attributes.iter().any(|a| a == "phone_number") {
        map.insert("phone_number".into(), given.to_owned());
    } else {
        return Err(CognitoError::InvalidParameter(
            if meta.username_attributes.iter().any(|a| a == "email") {
                "Username should be an email."
            } else {
                "Username should be a phone number."
            }
            .into(),
        ));
    }
    Ok((sub.clone(), sub, map))
}

/// Mutate one user by pool id + name and journal the result.
async fn with_user<T>(
    app: &AppState,
    pool_id: &str,
    name: &str,
    f: impl FnOnce(&PoolMeta, &mut User) -> Result<T>,
) -> Result<T> {
    app.commit(|store, recs| {
        let pool = store.pool_mut(pool_id)?;
        let meta = pool.meta.clone();
        let (key, user) = pool.user_mut(name)?;
        let out = f(&meta, user)?;
        user.modified = app.clock.now_f64();
        recs.push(user_record(pool_id, &key, user));
        Ok(out)
    })
    .await
}

fn generated_password(meta: &PoolMeta) -> String {
    let len = meta.policy.minimum_length.clamp(8, 64) as usize;
    let mut pw = random_string(
        len.saturating_sub(4),
        b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789",
    );
    pw.push_str("aA1!");
    pw
}

pub async fn admin_create_user(app: &AppState, p: &Params) -> Result<Value> {
    let pool_id = p.str("UserPoolId")?.to_owned();
    let username = p.str("Username")?.to_owned();
    let attrs = p.attributes("UserAttributes")?;
    let meta = app.store.read().pool(&pool_id)?.meta.clone();
    check_attributes(&meta, &attrs)?;
    let temp = match p.opt_str("TemporaryPassword") {
        Some(t) => {
            password::check_policy(&meta.policy, t)?;
            t.to_owned()
        }
        None => generated_password(&meta),
    };
    let resend = p.opt_str("MessageAction") == Some("RESEND");
    if resend {
        let name = username.clone();
        return with_user(app, &pool_id, &name, |meta, user| {
            if user.status != "FORCE_CHANGE_PASSWORD" {
                return Err(CognitoError::UnsupportedOperation(
                    "Resend not possible. User status is not FORCE_CHANGE_PASSWORD".into(),
                ));
            }
            NewPassword::compute(meta.srp_pool_name(), &user.username, &temp)?.apply(user);
            Ok(json!({"User": user_json(user, "Attributes", None)}))
        })
        .await;
    }
    let (internal, sub, mut attributes) = new_identity(&app.ids, &meta, &username, &attrs)?;
    let invitation = invite(app, p, &meta, &internal, &sub, &mut attributes).await?;
    let secret = NewPassword::compute(meta.srp_pool_name(), &internal, &temp)?;
    app.commit(|store, recs| {
        let pool = store.pool_mut(&pool_id)?;
        let key = pool.meta.user_key(&internal);
        if pool.users.contains_key(&key) || alias_taken(pool, &attributes) {
            return Err(CognitoError::UsernameExists(
                "User account already exists".into(),
            ));
        }
        let mut user = User::new(
            internal.clone(),
            sub,
            attributes,
            "FORCE_CHANGE_PASSWORD",
            app.clock.now_f64(),
        );
        secret.apply(&mut user);
        if let Some(message) = &invitation {
            user.codes.push(message.clone());
        }
        let out = json!({"User": user_json(&user, "Attributes", None)});
        recs.push(user_record(&pool_id, &key, &user));
        pool.users.insert(key, user);
        Ok(out)
    })
    .await
}

/// AdminCreateUser's triggers: PreSignUp_AdminCreateUser (its autoVerify flags mark attributes
/// verified) and, unless the message is suppressed, CustomMessage_AdminCreateUser. The invitation
/// is kept as a code of kind `invitation` with the function's text; its `{####}` stays a
/// placeholder because the temporary password is never stored in clear.
async fn invite(
    app: &AppState,
    p: &Params,
    meta: &PoolMeta,
    internal: &str,
    sub: &str,
    attributes: &mut BTreeMap<String, String>,
) -> Result<Option<crate::model::Code>> {
    use crate::triggers::{event::NO_CLIENT, message, sign_up};
    let new_user = sign_up::NewUser {
        user_name: internal,
        client_id: NO_CLIENT,
        attributes,
        validation_data: &p.attributes("ValidationData")?,
    };
    let decision = sign_up::pre_sign_up(app, meta, &new_user, true).await?;
    decision.apply_verified(attributes);
    if p.opt_str("MessageAction") == Some("SUPPRESS") {
        return Ok(None);
    }
    let draft = User::new(
        internal.to_owned(),
        sub.to_owned(),
        attributes.clone(),
        "FORCE_CHANGE_PASSWORD",
        0.0,
    );
    let source = "CustomMessage_AdminCreateUser";
    let Some(text) = message::custom_message(app, meta, source, NO_CLIENT, &draft).await? else {
        return Ok(None);
    };
    let message = text.render(message::CODE_PARAMETER, internal);
    let attribute = ["email", "phone_number"]
        .into_iter()
        .find(|a| attributes.contains_key(*a))
        .map(str::to_owned);
    Ok(Some(crate::model::Code {
        kind: "invitation".into(),
        code: message::CODE_PARAMETER.into(),
        created_at: app.clock.now_f64(),
        attribute,
        message: Some(message),
    }))
}

/// The internal username of `name` in `pool_id` (for computing a verifier before locking).
fn internal_name(app: &AppState, pool_id: &str, name: &str) -> Result<String> {
    let store = app.store.read();
    Ok(store.pool(pool_id)?.user(name)?.username.clone())
}

pub async fn admin_set_user_password(app: &AppState, p: &Params) -> Result<Value> {
    let pool_id = p.str("UserPoolId")?;
    let name = p.str("Username")?;
    let pw = p.str("Password")?;
    let permanent = p.bool("Permanent").unwrap_or(false);
    let meta = app.store.read().pool(pool_id)?.meta.clone();
    let internal = internal_name(app, pool_id, name)?;
    password::check_policy(&meta.policy, pw)?;
    let secret = NewPassword::compute(meta.srp_pool_name(), &internal, pw)?;
    with_user(app, pool_id, name, |_, user| {
        secret.apply(user);
        user.status = if permanent {
            "CONFIRMED"
        } else {
            "FORCE_CHANGE_PASSWORD"
        }
        .into();
        Ok(json!({}))
    })
    .await
}

pub fn admin_get_user(app: &AppState, p: &Params) -> Result<Value> {
    let store = app.store.read();
    let user = store.pool(p.str("UserPoolId")?)?.user(p.str("Username")?)?;
    let mut out = user_json(user, "UserAttributes", None);
    crate::mfa::user_fields(user, &mut out);
    Ok(out)
}

pub fn get_user(app: &AppState, p: &Params) -> Result<Value> {
    let (pool_id, username) = tokens::verify_user_access(app, p.str("AccessToken")?)?;
    let store = app.store.read();
    let user = store.pool(&pool_id)?.user(&username)?;
    let mut out = json!({
        "Username": user.username,
        "UserAttributes": attributes_json(user, None),
    });
    crate::mfa::user_fields(user, &mut out);
    Ok(out)
}

async fn delete_by_name(app: &AppState, pool_id: &str, name: &str) -> Result<Value> {
    app.commit(|store, recs| {
        let pool = store.pool_mut(pool_id)?;
        let key = pool
            .find_user_key(name)
            .ok_or_else(CognitoError::user_not_found)?;
        pool.users.remove(&key);
        recs.push(Record::DeleteUser {
            pool_id: pool_id.to_owned(),
            key,
        });
        Ok(json!({}))
    })
    .await
}

pub async fn admin_delete_user(app: &AppState, p: &Params) -> Result<Value> {
    delete_by_name(app, p.str("UserPoolId")?, p.str("Username")?).await
}

pub async fn delete_user(app: &AppState, p: &Params) -> Result<Value> {
    let (pool_id, username) = tokens::verify_user_access(app, p.str("AccessToken")?)?;
    delete_by_name(app, &pool_id, &username).await
}

pub fn list_users(app: &AppState, p: &Params) -> Result<Value> {
    let filter = list_filter::parse(p.opt_str("Filter").unwrap_or_default())?;
    let limit = p.i64("Limit").unwrap_or(60);
    if !(0..=60).contains(&limit) {
        return Err(CognitoError::InvalidParameter(
            "1 validation error detected: Value at 'limit' failed to satisfy constraint: Member must have value less than or equal to 60".into(),
        ));
    }
    let limit = if limit == 0 { 60 } else { limit as usize };
    let only = p
        .get("AttributesToGet")
        .map(|_| p.strings("AttributesToGet"));
    let store = app.store.read();
    let pool = store.pool(p.str("UserPoolId")?)?;
    let (users, next) = page(
        pool.users
            .iter()
            .filter(|(_, u)| filter.as_ref().is_none_or(|f| f.matches(u))),
        p.opt_str("PaginationToken"),
        limit,
    );
    let users: Vec<Value> = users
        .into_iter()
        .map(|u| user_json(u, "Attributes", only.as_deref()))
        .collect();
    Ok(crate::paging::answer(
        "Users",
        users,
        next,
        "PaginationToken",
    ))
}

/// Write attributes to one user: names against the schema, aliases against other users.
async fn update_attributes(
    app: &AppState,
    pool_id: &str,
    name: &str,
    attrs: &[(String, String)],
) -> Result<()> {
    app.commit(|store, recs| {
        let pool = store.pool_mut(pool_id)?;
        let key = pool
            .find_user_key(name)
            .ok_or_else(CognitoError::user_not_found)?;
        check_attributes(&pool.meta, attrs)?;
        attributes::check_alias_change(pool, &key, attrs)?;
        let user = pool
            .users
            .get_mut(&key)
            .ok_or_else(CognitoError::user_not_found)?;
        attributes::apply_attributes(user, attrs);
        user.modified = app.clock.now_f64();
        recs.push(user_record(pool_id, &key, user));
        Ok(())
    })
    .await
}

pub async fn admin_update_user_attributes(app: &AppState, p: &Params) -> Result<Value> {
    let attrs = p.attributes("UserAttributes")?;
    update_attributes(app, p.str("UserPoolId")?, p.str("Username")?, &attrs).await?;
    Ok(json!({}))
}

pub async fn update_user_attributes(app: &AppState, p: &Params) -> Result<Value> {
    let (pool_id, username) = tokens::verify_user_access(app, p.str("AccessToken")?)?;
    let attrs = p.attributes("UserAttributes")?;
    update_attributes(app, &pool_id, &username, &attrs).await?;
    Ok(json!({"CodeDeliveryDetailsList": []}))
}

pub async fn admin_delete_user_attributes(app: &AppState, p: &Params) -> Result<Value> {
    let names = p.strings("UserAttributeNames");
    with_user(
        app,
        p.str("UserPoolId")?,
        p.str("Username")?,
        |meta, user| {
            attributes::check_deletable(meta, &names)?;
            for n in &names {
                user.attributes.remove(n);
            }
            Ok(json!({}))
        },
    )
    .await
}

pub async fn set_enabled(app: &AppState, p: &Params, enabled: bool) -> Result<Value> {
    with_user(app, p.str("UserPoolId")?, p.str("Username")?, |_, user| {
        user.enabled = enabled;
        Ok(json!({}))
    })
    .await
}

pub async fn admin_reset_user_password(app: &AppState, p: &Params) -> Result<Value> {
    let pool_id = p.str("UserPoolId")?.to_owned();
    with_user(app, &pool_id, p.str("Username")?, |meta, user| {
        recovery::check_user(user)?;
        if user.status == "UNCONFIRMED" {
            return Err(CognitoError::NotAuthorized(
                "User password cannot be reset in the current state.".into(),
            ));
        }
        // The code goes to a verified channel when the pool allows one; an admin_only pool
        // sends none (the administrator sets the new password).
        let channel = match recovery::target(meta, user) {
            recovery::Recovery::Channel(a) => Some(a),
            recovery::Recovery::AdminOnly => None,
            recovery::Recovery::NoChannel => return Err(recovery::no_channel()),
        };
        user.status = "RESET_REQUIRED".into();
        if let Some(a) = channel {
            let now = app.clock.now_f64();
            codes::issue_code(&pool_id, user, "forgot_password", Some(a), now);
        }
        Ok(json!({}))
    })
    .await
}

pub async fn change_password(app: &AppState, p: &Params) -> Result<Value> {
    let (pool_id, username) = tokens::verify_user_access(app, p.str("AccessToken")?)?;
    let previous = p.str("PreviousPassword")?;
    let proposed = p.str("ProposedPassword")?;
    let (meta, stored) = {
        let store = app.store.read();
        let pool = store.pool(&pool_id)?;
        (pool.meta.clone(), pool.user(&username)?.password.clone())
    };
    if !stored.is_some_and(|h| password::verify(&h, previous)) {
        return Err(CognitoError::bad_credentials());
    }
    password::check_policy(&meta.policy, proposed)?;
    let secret = NewPassword::compute(meta.srp_pool_name(), &username, proposed)?;
    with_user(app, &pool_id, &username, |_, user| {
        secret.apply(user);
        Ok(json!({}))
    })
    .await
}
