//! Minting and checking tokens: RS256 JWTs with Cognito's claim sets (ID, access, machine access)
//! and sealed refresh tokens. Signing uses the cached aws-lc-rs key pairs from `keys.rs`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::app::App;
use crate::error::{CognitoError, Result};
use crate::keys::SigningKey;
use crate::model::{Client, PoolMeta, User};
use crate::triggers::token::{Overrides, pre_token_generation};

pub const ADMIN_SCOPE: &str = "aws.cognito.signin.user.admin";

/// What ties the tokens of one sign-in together (and what a refresh token carries).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshPayload {
    #[serde(rename = "p")]
    pub pool_id: String,
    #[serde(rename = "c")]
    pub client_id: String,
    #[serde(rename = "u")]
    pub username: String,
    #[serde(rename = "s")]
    pub sub: String,
    /// The refresh-token family id, shared by every ID/access token minted from it.
    #[serde(rename = "o")]
    pub origin_jti: String,
    #[serde(rename = "a")]
    pub auth_time: i64,
    #[serde(rename = "e")]
    pub exp: i64,
    /// Rotation generation within the family (`auth/rotation.rs`); tokens sealed before
    /// rotation existed have none and are generation 0.
    #[serde(rename = "n", default)]
    pub generation: u32,
    /// The OAuth scopes a hosted-UI sign-in granted, kept across refreshes; `None` for an API
    /// sign-in, whose access token carries `aws.cognito.signin.user.admin` only.
    #[serde(rename = "sc", default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The authorize request's `nonce`: in the first ID token only, never sealed.
    #[serde(skip)]
    pub nonce: Option<String>,
}

pub fn encode_jwt(key: &SigningKey, claims: &Map<String, Value>) -> Result<String> {
    let header = json!({ "kid": key.kid, "alg": "RS256" });
    let mut out = URL_SAFE_NO_PAD.encode(header.to_string());
    out.push('.');
    out.push_str(&URL_SAFE_NO_PAD.encode(Value::Object(claims.clone()).to_string()));
    let sig = key
        .sign(out.as_bytes())
        .map_err(|_| CognitoError::Internal("token signing failed".into()))?;
    out.push('.');
    out.push_str(&URL_SAFE_NO_PAD.encode(sig));
    Ok(out)
}

fn attribute_claim(name: &str, value: &str) -> Value {
    match name {
        "email_verified" | "phone_number_verified" => Value::Bool(value == "true"),
        // A federated user's linked identities are stored as JSON text and claimed as JSON.
        "identities" => serde_json::from_str(value).unwrap_or_else(|_| Value::from(value)),
        "updated_at" => value
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::from(value)),
        _ => Value::from(value),
    }
}

fn groups_claim(user: &User) -> Option<Value> {
    (!user.groups.is_empty()).then(|| Value::from(user.groups.iter().cloned().collect::<Vec<_>>()))
}

/// ID + access (+ refresh) for a user sign-in, as `AuthenticationResult`, without running the
/// pool's PreTokenGeneration trigger (see [`issue_user_tokens`]).
pub fn user_tokens(
    app: &App,
    pool: &PoolMeta,
    client: &Client,
    user: &User,
    session: &RefreshPayload,
    new_refresh: bool,
) -> Result<Value> {
    user_tokens_with(
        app,
        pool,
        client,
        user,
        session,
        new_refresh,
        &Overrides::default(),
    )
}

/// Run the pool's PreTokenGeneration trigger (no lock is held across it), then mint the tokens
/// with its changes. Every path that issues user tokens goes through here.
pub async fn issue_user_tokens(
    app: &App,
    pool: &PoolMeta,
    client: &Client,
    user: &User,
    session: &RefreshPayload,
    new_refresh: bool,
    source: &str,
) -> Result<Value> {
    let scopes = session.scope.as_deref().unwrap_or(ADMIN_SCOPE);
    let overrides = pre_token_generation(app, pool, client, user, scopes, source).await?;
    user_tokens_with(app, pool, client, user, session, new_refresh, &overrides)
}

/// [`user_tokens`] with a PreTokenGeneration response's changes applied to each token.
pub fn user_tokens_with(
    app: &App,
    pool: &PoolMeta,
    client: &Client,
    user: &User,
    session: &RefreshPayload,
    new_refresh: bool,
    overrides: &Overrides,
) -> Result<Value> {
    let now = app.clock.now_secs();
    let iss = app.issuer(&pool.id);
    let event_id = uuid::Uuid::new_v4().to_string();

    let mut id = Map::new();
    id.insert("sub".into(), Value::from(user.sub.clone()));
    if let Some(g) = groups_claim(user) {
        id.insert("cognito:groups".into(), g);
    }
    id.insert("iss".into(), Value::from(iss.clone()));
    id.insert(
        "cognito:username".into(),
        Value::from(user.username.clone()),
    );
    id.insert("origin_jti".into(), Value::from(session.origin_jti.clone()));
    id.insert("aud".into(), Value::from(client.id.clone()));
    id.insert("event_id".into(), Value::from(event_id.clone()));
    id.insert("token_use".into(), Value::from("id"));
    id.insert("auth_time".into(), Value::from(session.auth_time));
    if let Some(nonce) = &session.nonce {
        id.insert("nonce".into(), Value::from(nonce.clone()));
    }
    for (name, value) in &user.attributes {
        if name == "sub" {
            continue;
        }
        if !client.read_attributes.is_empty() && !client.read_attributes.contains(name) {
            continue;
        }
        id.insert(name.clone(), attribute_claim(name, value));
    }
    id.insert("exp".into(), Value::from(now + client.id_ttl()));
    id.insert("iat".into(), Value::from(now));
    id.insert("jti".into(), Value::from(uuid::Uuid::new_v4().to_string()));

    let mut access = Map::new();
    access.insert("sub".into(), Value::from(user.sub.clone()));
    if let Some(g) = groups_claim(user) {
        access.insert("cognito:groups".into(), g);
    }
    access.insert("iss".into(), Value::from(iss));
    access.insert("version".into(), Value::from(2));
    access.insert("client_id".into(), Value::from(client.id.clone()));
    access.insert("origin_jti".into(), Value::from(session.origin_jti.clone()));
    access.insert("event_id".into(), Value::from(event_id));
    access.insert("token_use".into(), Value::from("access"));
    let scope = session.scope.as_deref().unwrap_or(ADMIN_SCOPE);
    access.insert("scope".into(), Value::from(scope));
    access.insert("auth_time".into(), Value::from(session.auth_time));
    access.insert("exp".into(), Value::from(now + client.access_ttl()));
    access.insert("iat".into(), Value::from(now));
    access.insert("jti".into(), Value::from(uuid::Uuid::new_v4().to_string()));
    access.insert("username".into(), Value::from(user.username.clone()));

    overrides.apply(&mut id, false);
    overrides.apply(&mut access, true);
    let mut result = Map::new();
    result.insert(
        "AccessToken".into(),
        Value::from(encode_jwt(&app.keys.access, &access)?),
    );
    result.insert("ExpiresIn".into(), Value::from(client.access_ttl()));
    result.insert("TokenType".into(), Value::from("Bearer"));
    if new_refresh {
        result.insert(
            "RefreshToken".into(),
            Value::from(seal_refresh(app, session)?),
        );
    }
    result.insert(
        "IdToken".into(),
        Value::from(encode_jwt(&app.keys.id, &id)?),
    );
    Ok(Value::Object(result))
}

pub fn seal_refresh(app: &App, session: &RefreshPayload) -> Result<String> {
    let bytes = serde_json::to_vec(session)
        .map_err(|e| CognitoError::Internal(format!("cannot encode refresh token: {e}")))?;
    app.keys
        .seal(&bytes)
        .ok_or_else(|| CognitoError::Internal("cannot seal refresh token".into()))
}

pub fn open_refresh(app: &App, token: &str) -> Option<RefreshPayload> {
    serde_json::from_slice(&app.keys.open(token)?).ok()
}

/// A machine-to-machine access token (client_credentials).
pub fn client_token(app: &App, pool: &PoolMeta, client: &Client, scope: &str) -> Result<Value> {
    let now = app.clock.now_secs();
    let mut c = Map::new();
    c.insert("sub".into(), Value::from(client.id.clone()));
    c.insert("token_use".into(), Value::from("access"));
    c.insert("scope".into(), Value::from(scope));
    c.insert("auth_time".into(), Value::from(now));
    c.insert("iss".into(), Value::from(app.issuer(&pool.id)));
    c.insert("exp".into(), Value::from(now + client.access_ttl()));
    c.insert("iat".into(), Value::from(now));
    c.insert("version".into(), Value::from(2));
    c.insert("jti".into(), Value::from(uuid::Uuid::new_v4().to_string()));
    c.insert("client_id".into(), Value::from(client.id.clone()));
    let token = encode_jwt(&app.keys.access, &c)?;
    Ok(json!({
        "access_token": token,
        "expires_in": client.access_ttl(),
        "token_type": "Bearer",
    }))
}

/// Why a token was rejected (the `reason` of `/_fake/validate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    Malformed,
    BadSignature,
    UnknownKid,
    Expired,
    WrongPool,
    WrongIssuer,
    WrongTokenUse,
    WrongClient,
    Revoked,
    UnknownUser,
}

impl Rejection {
    pub fn reason(self) -> &'static str {
        match self {
            Rejection::Malformed => "malformed",
            Rejection::BadSignature => "bad_signature",
            Rejection::UnknownKid => "unknown_kid",
            Rejection::Expired => "expired",
            Rejection::WrongPool => "wrong_pool",
            Rejection::WrongIssuer => "wrong_issuer",
            Rejection::WrongTokenUse => "wrong_token_use",
            Rejection::WrongClient => "wrong_client",
            Rejection::Revoked => "revoked",
            Rejection::UnknownUser => "unknown_user",
        }
    }

    /// How the Cognito API phrases it for an access token.
    pub fn as_api_error(self) -> CognitoError {
        match self {
            Rejection::Expired => CognitoError::NotAuthorized("Access Token has expired".into()),
            Rejection::Revoked => {
                CognitoError::NotAuthorized("Access Token has been revoked".into())
            }
            Rejection::UnknownUser => CognitoError::user_not_found(),
            _ => CognitoError::NotAuthorized("Invalid Access Token".into()),
        }
    }
}

#[derive(Default)]
pub struct Expect<'a> {
    pub token_use: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub pool_id: Option<&'a str>,
}

pub struct Verified {
    pub pool_id: String,
    /// Internal username (absent for machine tokens).
    pub username: Option<String>,
    pub claims: Map<String, Value>,
}

/// Full check of a JWT we minted: structure, `alg` (RS256 only, so no `none` or HS256 tricks),
/// `kid`, signature, issuer/pool, expiry, token use, client, and revocation.
pub fn verify(app: &App, token: &str, expect: &Expect) -> std::result::Result<Verified, Rejection> {
    let mut parts = token.trim().split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Rejection::Malformed);
    };
    let decode = |x: &str| {
        URL_SAFE_NO_PAD
            .decode(x.trim_end_matches('='))
            .map_err(|_| Rejection::Malformed)
    };
    let header: Value = serde_json::from_slice(&decode(h)?).map_err(|_| Rejection::Malformed)?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(Rejection::BadSignature);
    }
    let kid = header
        .get("kid")
        .and_then(Value::as_str)
        .ok_or(Rejection::UnknownKid)?;
    let key = app.keys.by_kid(kid).ok_or(Rejection::UnknownKid)?;
    let signing_input = &token.trim()[..h.len() + 1 + p.len()];
    if !key.verify(signing_input.as_bytes(), &decode(s)?) {
        return Err(Rejection::BadSignature);
    }
    let claims: Map<String, Value> =
        serde_json::from_slice(&decode(p)?).map_err(|_| Rejection::Malformed)?;
    let str_claim = |n: &str| claims.get(n).and_then(Value::as_str);
    let iss = str_claim("iss").ok_or(Rejection::Malformed)?;
    let pool_id = iss.rsplit('/').next().unwrap_or_default().to_owned();
    if expect.pool_id.is_some_and(|p| p != pool_id) {
        return Err(Rejection::WrongPool);
    }
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or(Rejection::Malformed)?;
    let token_use = str_claim("token_use").ok_or(Rejection::Malformed)?;
    if !matches!(token_use, "id" | "access") || expect.token_use.is_some_and(|t| t != token_use) {
        return Err(Rejection::WrongTokenUse);
    }
    let client = if token_use == "id" {
        str_claim("aud")
    } else {
        str_claim("client_id")
    };
    let store = app.store.read();
    let pool = store.pools.get(&pool_id).ok_or(Rejection::WrongPool)?;
    if app.issuer(&pool_id) != iss {
        return Err(Rejection::WrongIssuer);
    }
    if exp <= app.clock.now_secs() {
        return Err(Rejection::Expired);
    }
    if let Some(want) = expect.client_id
        && client != Some(want)
    {
        return Err(Rejection::WrongClient);
    }
    let username = match token_use {
        "id" => str_claim("cognito:username"),
        _ => str_claim("username"),
    };
    if let Some(name) = username {
        let user = pool
            .users
            .get(&pool.meta.user_key(name))
            .filter(|u| Some(u.sub.as_str()) == str_claim("sub"))
            .ok_or(Rejection::UnknownUser)?;
        if let Some(origin) = str_claim("origin_jti")
            && store.is_revoked(user, origin)
        {
            return Err(Rejection::Revoked);
        }
    } else if client.is_none_or(|c| !pool.clients.contains_key(c)) {
        return Err(Rejection::WrongClient);
    }
    let username = username.map(str::to_owned);
    drop(store);
    Ok(Verified {
        pool_id,
        username,
        claims,
    })
}

/// Check an access token for a self-service API call (GetUser, GlobalSignOut...).
pub fn verify_user_access(app: &App, token: &str) -> Result<(String, String)> {
    let v = verify(
        app,
        token,
        &Expect {
            token_use: Some("access"),
            ..Default::default()
        },
    )
    .map_err(Rejection::as_api_error)?;
    let has_scope = v
        .claims
        .get("scope")
        .and_then(Value::as_str)
        .is_some_and(|s| s.split(' ').any(|x| x == ADMIN_SCOPE));
    if !has_scope {
        return Err(CognitoError::NotAuthorized(
            "Access Token does not have required scopes".into(),
        ));
    }
    let username = v
        .username
        .ok_or_else(|| CognitoError::NotAuthorized("Invalid Access Token".into()))?;
    Ok((v.pool_id, username))
}
