//! User pools: create/describe/list/update/delete. Domains, resource servers and identity
//! providers live in their own modules.

use serde_json::{Map, Value, json};

use crate::app::AppState;
use crate::error::{CognitoError, Result};
use crate::ids::new_pool_id;
use crate::model::{PasswordPolicy, Pool, PoolMeta};
use crate::paging::page;
use crate::params::Params;
use crate::persist::Record;
use crate::schema;
use crate::target::Call;

pub use crate::schema::{STANDARD_ATTRIBUTES, is_standard};

fn policy_from(p: Option<&Value>, base: PasswordPolicy) -> PasswordPolicy {
    let Some(pp) = p.and_then(|v| v.get("PasswordPolicy")) else {
        return base;
    };
    let b = |k: &str, d: bool| pp.get(k).and_then(Value::as_bool).unwrap_or(d);
    let i = |k: &str, d: i64| pp.get(k).and_then(Value::as_i64).unwrap_or(d);
    PasswordPolicy {
        minimum_length: i("MinimumLength", base.minimum_length),
        require_uppercase: b("RequireUppercase", base.require_uppercase),
        require_lowercase: b("RequireLowercase", base.require_lowercase),
        require_numbers: b("RequireNumbers", base.require_numbers),
        require_symbols: b("RequireSymbols", base.require_symbols),
        temporary_password_validity_days: i(
            "TemporaryPasswordValidityDays",
            base.temporary_password_validity_days,
        ),
    }
}

const EXTRA_MEMBERS: &[&str] = &[
    "LambdaConfig",
    "AdminCreateUserConfig",
    "UserPoolTags",
    "VerificationMessageTemplate",
    "EmailConfiguration",
    "SmsConfiguration",
    "DeviceConfiguration",
    "AccountRecoverySetting",
    "UserAttributeUpdateSettings",
    "DeletionProtection",
    "UserPoolAddOns",
    "EmailVerificationMessage",
    "EmailVerificationSubject",
    "SmsAuthenticationMessage",
    "SmsVerificationMessage",
    "UserPoolTier",
];

/// `VerificationMessageTemplate` and the legacy top-level message members describe the same
/// texts: what a request sets in one form is filled into the other when that one is absent.
const MESSAGE_PAIRS: &[(&str, &str)] = &[
    ("SmsMessage", "SmsVerificationMessage"),
    ("EmailMessage", "EmailVerificationMessage"),
    ("EmailSubject", "EmailVerificationSubject"),
];

fn sync_verification_messages(p: &Params, extra: &mut Map<String, Value>) {
    let template = p
        .get("VerificationMessageTemplate")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (member, legacy) in MESSAGE_PAIRS {
        match (template.get(*member), p.get(legacy)) {
            (Some(v), None) => {
                extra.insert((*legacy).to_owned(), v.clone());
            }
            (None, Some(v)) => {
                if let Some(t) = extra
                    .entry("VerificationMessageTemplate")
                    .or_insert(json!({}))
                    .as_object_mut()
                {
                    t.insert((*member).to_owned(), v.clone());
                }
            }
            _ => {}
        }
    }
}

pub async fn create(app: &AppState, call: &Call) -> Result<Value> {
    let p = &call.params;
    let name = p.str("PoolName")?.to_owned();
    let now = app.clock.now_f64();
    let mut id = app.ids.pool_id(&call.region, &name);
    if app.store.read().pools.contains_key(&id) {
        // A second pool with the same name: derived ids would clash, so this one is random.
        id = new_pool_id(&call.region);
    }
    let mut extra = Map::new();
    for k in EXTRA_MEMBERS {
        if let Some(v) = p.get(k) {
            extra.insert((*k).to_owned(), v.clone());
        }
    }
    extra.insert(
        "LambdaConfig".into(),
        crate::triggers::config::validate(p.get("LambdaConfig"))?,
    );
    // What Cognito fills in when a pool is created without them.
    extra
        .entry("EmailConfiguration")
        .or_insert(json!({"EmailSendingAccount": "COGNITO_DEFAULT"}));
    extra
        .entry("VerificationMessageTemplate")
        .or_insert(json!({"DefaultEmailOption": "CONFIRM_WITH_CODE"}));
    sync_verification_messages(p, &mut extra);
    extra
        .entry("AdminCreateUserConfig")
        .or_insert(json!({"AllowAdminCreateUserOnly": false, "UnusedAccountValidityDays": 7}));
    let username_attributes = p.strings("UsernameAttributes");
    let alias_attributes = p.strings("AliasAttributes");
    if !username_attributes.is_empty() && !alias_attributes.is_empty() {
        return Err(CognitoError::InvalidParameter(
            "Only one of the aliasAttributes or usernameAttributes can be set in a User Pool"
                .into(),
        ));
    }
    if let Some(mfa) = p.opt_str("MfaConfiguration") {
        crate::mfa::config::check_mfa_configuration(mfa)?;
    }
    let meta = PoolMeta {
        arn: format!(
            "arn:aws:cognito-idp:{}:{}:userpool/{id}",
            call.region, call.account
        ),
        id: id.clone(),
        name,
        region: call.region.clone(),
        created: now,
        modified: now,
        policy: policy_from(p.get("Policies"), PasswordPolicy::default()),
        schema: schema::from_request(p.get("Schema"))?,
        username_attributes,
        alias_attributes,
        auto_verified_attributes: p.strings("AutoVerifiedAttributes"),
        case_sensitive: p
            .get("UsernameConfiguration")
            .and_then(|u| u.get("CaseSensitive"))
            .and_then(Value::as_bool)
            .unwrap_or(true),
        mfa: p.opt_str("MfaConfiguration").unwrap_or("OFF").to_owned(),
        extra,
        domain: None,
        custom_domain: None,
        domain_details: Default::default(),
        resource_servers: Default::default(),
        identity_providers: Default::default(),
        mfa_factors: Default::default(),
    };
    let out = pool_json(&meta, 0);
    app.commit(|store, recs| {
        recs.push(Record::PutPool { meta: meta.clone() });
        store.pools.insert(
            id,
            Pool {
                meta,
                clients: Default::default(),
                users: Default::default(),
                groups: Default::default(),
            },
        );
        Ok(())
    })
    .await?;
    Ok(json!({ "UserPool": out }))
}

/// The account a pool belongs to: the one its ARN was minted with.
pub fn account_of(m: &PoolMeta) -> &str {
    m.arn.split(':').nth(4).unwrap_or_default()
}

pub fn pool_json(m: &PoolMeta, users: usize) -> Value {
    let mut schema: Vec<Value> = STANDARD_ATTRIBUTES
        .iter()
        .map(|(n, t)| {
            if let Some(o) = m
                .schema
                .iter()
                .find(|a| a.get("Name").and_then(Value::as_str) == Some(n))
            {
                return o.clone();
            }
            schema::standard_json(n, t)
        })
        .collect();
    schema.extend(
        m.schema
            .iter()
            .filter(|a| {
                a.get("Name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| !is_standard(n))
            })
            .cloned(),
    );
    let mut out = json!({
        "Id": m.id,
        "Name": m.name,
        "Arn": m.arn,
        "CreationDate": m.created,
        "LastModifiedDate": m.modified,
        "Policies": {"PasswordPolicy": {
            "MinimumLength": m.policy.minimum_length,
            "RequireUppercase": m.policy.require_uppercase,
            "RequireLowercase": m.policy.require_lowercase,
            "RequireNumbers": m.policy.require_numbers,
            "RequireSymbols": m.policy.require_symbols,
            "TemporaryPasswordValidityDays": m.policy.temporary_password_validity_days,
        }},
        "SchemaAttributes": schema,
        "AutoVerifiedAttributes": m.auto_verified_attributes,
        "MfaConfiguration": m.mfa,
        "EstimatedNumberOfUsers": users,
        "UsernameConfiguration": {"CaseSensitive": m.case_sensitive},
    });
    if !m.username_attributes.is_empty() {
        out["UsernameAttributes"] = json!(m.username_attributes);
    }
    if !m.alias_attributes.is_empty() {
        out["AliasAttributes"] = json!(m.alias_attributes);
    }
    if let Some(d) = &m.domain {
        out["Domain"] = json!(d);
    }
    if let Some(d) = &m.custom_domain {
        out["CustomDomain"] = json!(d);
    }
    if let Value::Object(o) = &mut out {
        for (k, v) in &m.extra {
            o.insert(k.clone(), v.clone());
        }
    }
    out
}

pub fn describe(app: &AppState, p: &Params) -> Result<Value> {
    let id = p.str("UserPoolId")?;
    let store = app.store.read();
    let pool = store.pool(id)?;
    Ok(json!({ "UserPool": pool_json(&pool.meta, pool.users.len()) }))
}

pub fn list(app: &AppState, p: &Params) -> Result<Value> {
    let max = p.i64("MaxResults").ok_or_else(|| {
        CognitoError::InvalidParameter(
            "1 validation error detected: Value null at 'maxResults' failed to satisfy constraint: Member must not be null".into(),
        )
    })?;
    if !(1..=60).contains(&max) {
        return Err(CognitoError::InvalidParameter(
            "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 60".into(),
        ));
    }
    let store = app.store.read();
    let (items, next) = page(
        store.pools.iter().map(|(k, pool)| {
            let m = &pool.meta;
            (
                k,
                json!({
                    "Id": m.id, "Name": m.name,
                    "LambdaConfig": m.extra.get("LambdaConfig").cloned().unwrap_or(json!({})),
                    "CreationDate": m.created, "LastModifiedDate": m.modified,
                }),
            )
        }),
        p.opt_str("NextToken"),
        max as usize,
    );
    Ok(crate::paging::answer("UserPools", items, next, "NextToken"))
}

pub async fn update(app: &AppState, p: &Params) -> Result<Value> {
    let id = p.str("UserPoolId")?.to_owned();
    // As on AWS, UpdateUserPool without LambdaConfig removes the triggers.
    let lambda_config = crate::triggers::config::validate(p.get("LambdaConfig"))?;
    app.commit(|store, recs| {
        let pool = store.pool_mut(&id)?;
        let m = &mut pool.meta;
        m.policy = policy_from(p.get("Policies"), m.policy.clone());
        if p.get("AutoVerifiedAttributes").is_some() {
            m.auto_verified_attributes = p.strings("AutoVerifiedAttributes");
        }
        if let Some(mfa) = p.opt_str("MfaConfiguration") {
            crate::mfa::config::check_mfa_configuration(mfa)?;
            m.mfa = mfa.to_owned();
        }
        for k in EXTRA_MEMBERS {
            if let Some(v) = p.get(k) {
                m.extra.insert((*k).to_owned(), v.clone());
            }
        }
        m.extra.insert("LambdaConfig".into(), lambda_config);
        sync_verification_messages(p, &mut m.extra);
        m.modified = app.clock.now_f64();
        recs.push(Record::PutPool { meta: m.clone() });
        Ok(json!({}))
    })
    .await
}

pub async fn delete(app: &AppState, p: &Params) -> Result<Value> {
    let id = p.str("UserPoolId")?.to_owned();
    app.commit(|store, recs| {
        store.pool(&id)?;
        store.pools.remove(&id);
        recs.push(Record::DeletePool { pool_id: id });
        Ok(json!({}))
    })
    .await
}
