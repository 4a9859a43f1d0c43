//! App clients: ids and secrets in Cognito's shapes, auth-flow switches, token lifetimes, OAuth
//! settings. `ExplicitAuthFlows` here is what `auth` enforces.

use serde_json::{Value, json};

use crate::app::AppState;
use crate::error::{CognitoError, Result};
use crate::ids::new_client_id;
use crate::model::{Client, PoolMeta};
use crate::paging::page;
use crate::params::Params;
use crate::persist::Record;
use crate::users::attributes::known_attribute;

const DEFAULT_FLOWS: &[&str] = &[
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_CUSTOM_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
];

const KNOWN_FLOWS: &[&str] = &[
    "ADMIN_NO_SRP_AUTH",
    "CUSTOM_AUTH_FLOW_ONLY",
    "USER_PASSWORD_AUTH",
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ALLOW_CUSTOM_AUTH",
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
    "ALLOW_USER_AUTH",
];

/// Whether `client` permits `flow` (an `AuthFlow` value), honouring the legacy names.
pub fn allows(client: &Client, flow: &str) -> bool {
    let has = |f: &str| client.explicit_auth_flows.iter().any(|x| x == f);
    let legacy =
        has("ADMIN_NO_SRP_AUTH") || has("USER_PASSWORD_AUTH") || has("CUSTOM_AUTH_FLOW_ONLY");
    match flow {
        "USER_PASSWORD_AUTH" => has("ALLOW_USER_PASSWORD_AUTH") || has("USER_PASSWORD_AUTH"),
        "ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH" => {
            has("ALLOW_ADMIN_USER_PASSWORD_AUTH") || has("ADMIN_NO_SRP_AUTH")
        }
        "USER_SRP_AUTH" => has("ALLOW_USER_SRP_AUTH") || legacy,
        "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" => has("ALLOW_REFRESH_TOKEN_AUTH") || legacy,
        "CUSTOM_AUTH" => has("ALLOW_CUSTOM_AUTH") || has("CUSTOM_AUTH_FLOW_ONLY"),
        _ => false,
    }
}

fn unit(p: &Params, which: &str, default: &str) -> String {
    p.get("TokenValidityUnits")
        .and_then(|u| u.get(which))
        .and_then(Value::as_str)
        .unwrap_or(default)
        .to_owned()
}

/// Build a client from request members (create, and update which resets unspecified settings as
/// Cognito does).
fn from_params(
    p: &Params,
    id: String,
    pool_id: String,
    secret: Option<String>,
    created: f64,
    now: f64,
) -> Result<Client> {
    let flows = p.strings("ExplicitAuthFlows");
    if let Some(bad) = flows.iter().find(|f| !KNOWN_FLOWS.contains(&f.as_str())) {
        return Err(CognitoError::InvalidParameter(format!(
            "1 validation error detected: Value '[{bad}]' at 'explicitAuthFlows' failed to satisfy constraint: Member must satisfy enum value set"
        )));
    }
    let (access_validity, access_unit) = match p.i64("AccessTokenValidity") {
        Some(v) => (v, unit(p, "AccessToken", "hours")),
        None => (60, "minutes".to_owned()),
    };
    let (id_validity, id_unit) = match p.i64("IdTokenValidity") {
        Some(v) => (v, unit(p, "IdToken", "hours")),
        None => (60, "minutes".to_owned()),
    };
    let (refresh_validity, refresh_unit) = match p.i64("RefreshTokenValidity") {
        Some(v) => (v, unit(p, "RefreshToken", "days")),
        None => (30, "days".to_owned()),
    };
    let pue = p
        .opt_str("PreventUserExistenceErrors")
        .unwrap_or("LEGACY")
        .to_owned();
    if !matches!(pue.as_str(), "LEGACY" | "ENABLED") {
        return Err(CognitoError::InvalidParameter(
            "PreventUserExistenceErrors must be LEGACY or ENABLED".into(),
        ));
    }
    let c = Client {
        id,
        pool_id,
        name: p.str("ClientName")?.to_owned(),
        secret,
        created,
        modified: now,
        explicit_auth_flows: if p.get("ExplicitAuthFlows").is_some() {
            flows
        } else {
            DEFAULT_FLOWS.iter().map(|s| (*s).to_owned()).collect()
        },
        access_validity,
        id_validity,
        refresh_validity,
        access_unit,
        id_unit,
        refresh_unit,
        prevent_user_existence_errors: pue,
        enable_token_revocation: p.bool("EnableTokenRevocation").unwrap_or(true),
        auth_session_validity: p.i64("AuthSessionValidity").unwrap_or(3).clamp(3, 15),
        read_attributes: p.strings("ReadAttributes"),
        write_attributes: p.strings("WriteAttributes"),
        allowed_oauth_flows: p.strings("AllowedOAuthFlows"),
        allowed_oauth_scopes: p.strings("AllowedOAuthScopes"),
        allowed_oauth_flows_user_pool_client: p
            .bool("AllowedOAuthFlowsUserPoolClient")
            .unwrap_or(false),
        callback_urls: p.strings("CallbackURLs"),
        logout_urls: p.strings("LogoutURLs"),
        supported_identity_providers: p.strings("SupportedIdentityProviders"),
        refresh_token_rotation: crate::auth::rotation::setting_from(p)?,
    };
    let ttl_ok = |secs: i64, lo: i64, hi: i64| (lo..=hi).contains(&secs);
    if !ttl_ok(c.access_ttl(), 300, 86_400) || !ttl_ok(c.id_ttl(), 300, 86_400) {
        return Err(CognitoError::InvalidParameter(
            "Access and ID token validity must be between 5 minutes and 1 day.".into(),
        ));
    }
    if !ttl_ok(c.refresh_ttl(), 3_600, 315_360_000) {
        return Err(CognitoError::InvalidParameter(
            "Refresh token validity must be between 60 minutes and 10 years.".into(),
        ));
    }
    Ok(c)
}

pub fn client_json(c: &Client) -> Value {
    let mut out = json!({
        "UserPoolId": c.pool_id,
        "ClientName": c.name,
        "ClientId": c.id,
        "LastModifiedDate": c.modified,
        "CreationDate": c.created,
        "RefreshTokenValidity": c.refresh_validity,
        "AccessTokenValidity": c.access_validity,
        "IdTokenValidity": c.id_validity,
        "TokenValidityUnits": {
            "AccessToken": c.access_unit, "IdToken": c.id_unit, "RefreshToken": c.refresh_unit,
        },
        "ExplicitAuthFlows": c.explicit_auth_flows,
        "AllowedOAuthFlowsUserPoolClient": c.allowed_oauth_flows_user_pool_client,
        "PreventUserExistenceErrors": c.prevent_user_existence_errors,
        "EnableTokenRevocation": c.enable_token_revocation,
        "EnablePropagateAdditionalUserContextData": false,
        "AuthSessionValidity": c.auth_session_validity,
    });
    if let Some(s) = &c.secret {
        out["ClientSecret"] = json!(s);
    }
    if let Some(r) = &c.refresh_token_rotation {
        out["RefreshTokenRotation"] = crate::auth::rotation::setting_json(r);
    }
    for (k, v) in [
        ("ReadAttributes", &c.read_attributes),
        ("WriteAttributes", &c.write_attributes),
        ("AllowedOAuthFlows", &c.allowed_oauth_flows),
        ("AllowedOAuthScopes", &c.allowed_oauth_scopes),
        ("CallbackURLs", &c.callback_urls),
        ("LogoutURLs", &c.logout_urls),
        (
            "SupportedIdentityProviders",
            &c.supported_identity_providers,
        ),
    ] {
        if !v.is_empty() {
            out[k] = json!(v);
        }
    }
    out
}

/// `ReadAttributes`/`WriteAttributes` may name only attributes the pool's schema has; scopes and
/// identity providers must exist in the pool.
fn check_client_attributes(meta: &PoolMeta, c: &Client, action: &str) -> Result<()> {
    for (kind, names) in [("read", &c.read_attributes), ("write", &c.write_attributes)] {
        if names.iter().any(|n| !known_attribute(meta, n)) {
            return Err(CognitoError::InvalidParameter(format!(
                "Invalid {kind} attributes specified while {action} a client"
            )));
        }
    }
    crate::identity_providers::check_supported(meta, &c.supported_identity_providers)?;
    crate::resource_servers::check_client_scopes(meta, &c.allowed_oauth_scopes)
}

pub async fn create(app: &AppState, p: &Params) -> Result<Value> {
    let pool_id = p.str("UserPoolId")?.to_owned();
    let mut id = app
        .ids
        .client_id(&pool_id, p.str("ClientName").unwrap_or_default());
    if app
        .store
        .read()
        .pools
        .get(&pool_id)
        .is_some_and(|pool| pool.clients.contains_key(&id))
    {
        // A second client with the same name: derived ids would clash, so this one is random.
        id = new_client_id();
    }
    let secret = p
        .bool("GenerateSecret")
        .unwrap_or(false)
        .then(|| app.ids.client_secret(&pool_id, &id));
    let now = app.clock.now_f64();
    let client = from_params(p, id, pool_id.clone(), secret, now, now)?;
    app.commit(|store, recs| {
        let pool = store.pool_mut(&pool_id)?;
        check_client_attributes(&pool.meta, &client, "creating")?;
        pool.clients.insert(client.id.clone(), client.clone());
        recs.push(Record::PutClient {
            client: client.clone(),
        });
        Ok(json!({ "UserPoolClient": client_json(&client) }))
    })
    .await
}

pub fn describe(app: &AppState, p: &Params) -> Result<Value> {
    let store = app.store.read();
    let pool = store.pool(p.str("UserPoolId")?)?;
    let c = pool.client(p.str("ClientId")?)?;
    Ok(json!({ "UserPoolClient": client_json(c) }))
}

pub fn list(app: &AppState, p: &Params) -> Result<Value> {
    let store = app.store.read();
    let pool = store.pool(p.str("UserPoolId")?)?;
    let limit = p.i64("MaxResults").unwrap_or(60).clamp(1, 60) as usize;
    let (items, next) = page(
        pool.clients.iter().map(|(k, c)| {
            (
                k,
                json!({"ClientId": c.id, "UserPoolId": c.pool_id, "ClientName": c.name}),
            )
        }),
        p.opt_str("NextToken"),
        limit,
    );
    Ok(crate::paging::answer(
        "UserPoolClients",
        items,
        next,
        "NextToken",
    ))
}

pub async fn update(app: &AppState, p: &Params) -> Result<Value> {
    let pool_id = p.str("UserPoolId")?.to_owned();
    let client_id = p.str("ClientId")?.to_owned();
    app.commit(|store, recs| {
        let pool = store.pool_mut(&pool_id)?;
        let old = pool.client(&client_id)?.clone();
        let mut members = p.0.clone();
        members
            .entry("ClientName")
            .or_insert(Value::from(old.name.clone()));
        let client = from_params(
            &Params(members),
            old.id.clone(),
            pool_id.clone(),
            old.secret.clone(),
            old.created,
            app.clock.now_f64(),
        )?;
        check_client_attributes(&pool.meta, &client, "updating")?;
        pool.clients.insert(client.id.clone(), client.clone());
        recs.push(Record::PutClient {
            client: client.clone(),
        });
        Ok(json!({ "UserPoolClient": client_json(&client) }))
    })
    .await
}

pub async fn delete(app: &AppState, p: &Params) -> Result<Value> {
    let pool_id = p.str("UserPoolId")?.to_owned();
    let client_id = p.str("ClientId")?.to_owned();
    app.commit(|store, recs| {
        let pool = store.pool_mut(&pool_id)?;
        pool.client(&client_id)?;
        pool.clients.remove(&client_id);
        recs.push(Record::DeleteClient { pool_id, client_id });
        Ok(json!({}))
    })
    .await
}
