//! Federated identity providers (SAML, OIDC and the four social IdPs): CRUD, lookup by
//! `IdpIdentifiers`, and AWS's checks of `ProviderName` and of the `ProviderDetails` keys each
//! type needs. Stored in the pool's meta. Sign-in through a provider is simulated locally by the
//! hosted UI's stand-in (`crate::hosted_ui::federated`), which applies its `AttributeMapping`.

use serde_json::{Map, Value, json};

use crate::app::AppState;
use crate::constraints::{self, invalid, length};
use crate::error::{CognitoError, Result};
use crate::paging::{answer, page};
use crate::params::Params;
use crate::persist::Record;

/// botocore `IdpIdentifiersListType` max 50.
const MAX_IDENTIFIERS: usize = 50;

/// The types with the `ProviderDetails` keys AWS requires for each, and the default
/// `AttributeMapping` AWS adds (`username` from the IdP's subject claim).
fn required_details(kind: &str) -> Option<(&'static [&'static str], Option<&'static str>)> {
    const SOCIAL: &[&str] = &["client_id", "client_secret", "authorize_scopes"];
    Some(match kind {
        "Google" => (SOCIAL, Some("sub")),
        "Facebook" => (SOCIAL, Some("id")),
        "LoginWithAmazon" => (SOCIAL, Some("user_id")),
        "SignInWithApple" => (
            &[
                "client_id",
                "team_id",
                "key_id",
                "private_key",
                "authorize_scopes",
            ],
            Some("sub"),
        ),
        "OIDC" => (
            &[
                "client_id",
                "attributes_request_method",
                "oidc_issuer",
                "authorize_scopes",
            ],
            Some("sub"),
        ),
        // SAML needs exactly one of MetadataFile / MetadataURL, checked separately.
        "SAML" => (&[], None),
        _ => return None,
    })
}

const SOCIAL_TYPES: &[&str] = &["Google", "Facebook", "LoginWithAmazon", "SignInWithApple"];

fn check_type(kind: &str) -> Result<()> {
    if required_details(kind).is_none() {
        return Err(invalid(
            kind,
            "providerType",
            "Member must satisfy enum value set: [SAML, Facebook, Google, LoginWithAmazon, SignInWithApple, OIDC]",
        ));
    }
    Ok(())
}

/// `ProviderNameTypeV2`: 1–32 characters matching `[^_\p{Z}][\p{L}\p{M}\p{S}\p{N}\p{P}][^_\p{Z}]+`
/// (so at least three, no underscore or whitespace at the ends). Social IdPs must be named after
/// their type, and `Cognito` is the pool's own directory.
fn check_name(name: &str, kind: &str) -> Result<()> {
    length(name, "providerName", 1, 32)?;
    let chars: Vec<char> = name.chars().collect();
    let plain = |c: &char| *c != '_' && !c.is_whitespace();
    let ok = chars.len() >= 3
        && plain(&chars[0])
        && !chars[1].is_whitespace()
        && !chars[1].is_control()
        && chars[2..].iter().all(plain);
    if !ok {
        return Err(invalid(
            name,
            "providerName",
            r"Member must satisfy regular expression pattern: [^_\p{Z}][\p{L}\p{M}\p{S}\p{N}\p{P}][^_\p{Z}]+",
        ));
    }
    if SOCIAL_TYPES.contains(&kind) && name != kind {
        return Err(CognitoError::InvalidParameter(format!(
            "Provider name for {kind} must be {kind}."
        )));
    }
    if name.eq_ignore_ascii_case("cognito") {
        return Err(CognitoError::InvalidParameter(
            "Provider name Cognito is reserved.".into(),
        ));
    }
    Ok(())
}

/// A `{string: string}` map member (ProviderDetails, AttributeMapping).
fn string_map(v: Option<&Value>, name: &str) -> Result<Map<String, Value>> {
    let Some(v) = v else {
        return Ok(Map::new());
    };
    let m = v
        .as_object()
        .ok_or_else(|| CognitoError::Serialization(format!("Expected a map for {name}")))?;
    if m.values().any(|x| !x.is_string()) {
        return Err(CognitoError::Serialization(format!(
            "Expected string values in {name}"
        )));
    }
    Ok(m.clone())
}

/// The keys `kind` needs are present and non-empty (SAML: exactly one metadata source).
fn check_details(kind: &str, d: &Map<String, Value>) -> Result<()> {
    let has = |k: &str| {
        d.get(k)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    };
    let (keys, _) = required_details(kind).unwrap_or((&[], None));
    if let Some(missing) = keys.iter().find(|k| !has(k)) {
        return Err(CognitoError::InvalidParameter(format!(
            "{missing} is required for a {kind} identity provider."
        )));
    }
    if kind == "SAML" && has("MetadataFile") == has("MetadataURL") {
        return Err(CognitoError::InvalidParameter(
            "Exactly one of MetadataFile or MetadataURL is required for a SAML identity provider."
                .into(),
        ));
    }
    if kind == "OIDC"
        && let Some(m) = d.get("attributes_request_method").and_then(Value::as_str)
        && m != "GET"
        && m != "POST"
    {
        return Err(CognitoError::InvalidParameter(format!(
            "attributes_request_method must be GET or POST, not {m}."
        )));
    }
    Ok(())
}

fn attribute_mapping(v: Option<&Value>) -> Result<Map<String, Value>> {
    let m = string_map(v, "AttributeMapping")?;
    for k in m.keys() {
        length(k, "attributeMapping", 1, 32)?;
    }
    Ok(m)
}

/// `IdpIdentifiers`: at most 50, each 1–40 characters of `[\w\s+=.@-]+`, no repeats.
fn identifiers(v: Option<&Value>) -> Result<Vec<String>> {
    let Some(v) = v else {
        return Ok(Vec::new());
    };
    let list = constraints::list(v, "IdpIdentifiers", "idpIdentifiers", 0, MAX_IDENTIFIERS)?;
    let mut out: Vec<String> = Vec::new();
    for (i, x) in list.iter().enumerate() {
        let path = format!("idpIdentifiers.{}.member", i + 1);
        let s = constraints::string(Some(x), &path)?;
        length(s, &path, 1, 40)?;
        constraints::pattern(s, &path, r"[\w\s+=.@-]+", |c| {
            c.is_alphanumeric() || c == '_' || c.is_whitespace() || "+=.@-".contains(c)
        })?;
        if out.iter().any(|o| o == s) {
            return Err(CognitoError::InvalidParameter(format!(
                "Duplicate identifier {s} in IdpIdentifiers."
            )));
        }
        out.push(s.to_owned());
    }
    Ok(out)
}

/// An identifier another provider of the pool (not `except`) already uses.
fn taken_identifier<'a>(
    providers: &'a std::collections::BTreeMap<String, Value>,
    ids: &[String],
    except: &str,
) -> Option<&'a str> {
    providers
        .iter()
        .filter(|(n, _)| n.as_str() != except)
        .flat_map(|(_, p)| p["IdpIdentifiers"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .find(|s| ids.iter().any(|i| i == s))
}

/// A client's `SupportedIdentityProviders`: `COGNITO` or a provider of its pool.
pub fn check_supported(meta: &crate::model::PoolMeta, names: &[String]) -> Result<()> {
    match names
        .iter()
        .find(|n| n.as_str() != "COGNITO" && !meta.identity_providers.contains_key(n.as_str()))
    {
        Some(n) => Err(CognitoError::InvalidParameter(format!(
            "The provider {n} does not exist for User Pool {}",
            meta.id
        ))),
        None => Ok(()),
    }
}

fn not_found(name: &str) -> CognitoError {
    CognitoError::ResourceNotFound(format!("Identity provider {name} does not exist."))
}

pub async fn create(app: &AppState, p: &Params) -> Result<Value> {
    let pool_id = p.str("UserPoolId")?.to_owned();
    let name = p.str("ProviderName")?.to_owned();
    let kind = p.str("ProviderType")?.to_owned();
    check_type(&kind)?;
    check_name(&name, &kind)?;
    let details = match p.get("ProviderDetails") {
        Some(v) => string_map(Some(v), "ProviderDetails")?,
        None => return Err(CognitoError::InvalidParameter(
            "1 validation error detected: Value null at 'providerDetails' failed to satisfy constraint: Member must not be null".into(),
        )),
    };
    check_details(&kind, &details)?;
    let mut mapping = attribute_mapping(p.get("AttributeMapping"))?;
    if let Some((_, Some(subject))) = required_details(&kind) {
        mapping
            .entry("username")
            .or_insert_with(|| Value::from(subject));
    }
    let ids = identifiers(p.get("IdpIdentifiers"))?;
    let now = app.clock.now_f64();
    let provider = json!({
        "UserPoolId": pool_id, "ProviderName": name, "ProviderType": kind,
        "ProviderDetails": details, "AttributeMapping": mapping, "IdpIdentifiers": ids,
        "LastModifiedDate": now, "CreationDate": now,
    });
    app.commit(|store, recs| {
        let m = &mut store.pool_mut(&pool_id)?.meta;
        if m.identity_providers.contains_key(&name) {
            return Err(CognitoError::DuplicateProvider(format!(
                "A provider with the name {name} already exists in this user pool."
            )));
        }
        if let Some(s) = taken_identifier(&m.identity_providers, &ids, &name) {
            return Err(CognitoError::DuplicateProvider(format!(
                "The identifier {s} is already used by another provider in this user pool."
            )));
        }
        m.identity_providers.insert(name, provider.clone());
        recs.push(Record::PutPool { meta: m.clone() });
        Ok(json!({ "IdentityProvider": provider }))
    })
    .await
}

/// `UpdateIdentityProvider`: members sent replace the stored ones; the result is checked
/// against the provider's type as a create would be.
pub async fn update(app: &AppState, p: &Params) -> Result<Value> {
    let pool_id = p.str("UserPoolId")?.to_owned();
    let name = p.str("ProviderName")?.to_owned();
    let details = p
        .get("ProviderDetails")
        .map(|v| string_map(Some(v), "ProviderDetails"))
        .transpose()?;
    let mapping = p
        .get("AttributeMapping")
        .map(|v| attribute_mapping(Some(v)))
        .transpose()?;
    let ids = p
        .get("IdpIdentifiers")
        .map(|v| identifiers(Some(v)))
        .transpose()?;
    let now = app.clock.now_f64();
    app.commit(|store, recs| {
        let m = &mut store.pool_mut(&pool_id)?.meta;
        if let Some(ids) = &ids
            && let Some(s) = taken_identifier(&m.identity_providers, ids, &name)
        {
            return Err(CognitoError::InvalidParameter(format!(
                "The identifier {s} is already used by another provider in this user pool."
            )));
        }
        let provider = m
            .identity_providers
            .get_mut(&name)
            .ok_or_else(|| not_found(&name))?;
        let kind = provider["ProviderType"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if let Some(d) = details {
            check_details(&kind, &d)?;
            provider["ProviderDetails"] = Value::Object(d);
        }
        if let Some(mut mp) = mapping {
            if let Some((_, Some(subject))) = required_details(&kind) {
                mp.entry("username").or_insert_with(|| Value::from(subject));
            }
            provider["AttributeMapping"] = Value::Object(mp);
        }
        if let Some(ids) = ids {
            provider["IdpIdentifiers"] = json!(ids);
        }
        provider["LastModifiedDate"] = json!(now);
        let out = json!({ "IdentityProvider": provider.clone() });
        recs.push(Record::PutPool { meta: m.clone() });
        Ok(out)
    })
    .await
}

pub fn describe(app: &AppState, p: &Params) -> Result<Value> {
    let pool_id = p.str("UserPoolId")?;
    let name = p.str("ProviderName")?;
    let store = app.store.read();
    let provider = store
        .pool(pool_id)?
        .meta
        .identity_providers
        .get(name)
        .ok_or_else(|| not_found(name))?;
    Ok(json!({ "IdentityProvider": provider }))
}

pub fn by_identifier(app: &AppState, p: &Params) -> Result<Value> {
    let pool_id = p.str("UserPoolId")?;
    let id = p.str("IdpIdentifier")?;
    let store = app.store.read();
    let provider = store
        .pool(pool_id)?
        .meta
        .identity_providers
        .values()
        .find(|v| {
            v["IdpIdentifiers"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == id))
        })
        .ok_or_else(|| {
            CognitoError::ResourceNotFound(format!(
                "Identity provider with identifier {id} does not exist."
            ))
        })?;
    Ok(json!({ "IdentityProvider": provider }))
}

/// `ListIdentityProviders`: `MaxResults` 0–60 (0 or absent: 60), `NextToken` paging, summaries.
pub fn list(app: &AppState, p: &Params) -> Result<Value> {
    let pool_id = p.str("UserPoolId")?;
    let max = match p.i64("MaxResults") {
        Some(0) | None => 60,
        Some(n) => constraints::max_results(Some(n), 60, false)?,
    };
    let store = app.store.read();
    let pool = store.pool(pool_id)?;
    let (items, next) = page(
        pool.meta.identity_providers.iter().map(|(k, v)| {
            (
                k,
                json!({
                    "ProviderName": v["ProviderName"], "ProviderType": v["ProviderType"],
                    "LastModifiedDate": v["LastModifiedDate"], "CreationDate": v["CreationDate"],
                }),
            )
        }),
        p.opt_str("NextToken"),
        max,
    );
    Ok(answer("Providers", items, next, "NextToken"))
}

pub async fn delete(app: &AppState, p: &Params) -> Result<Value> {
    let pool_id = p.str("UserPoolId")?.to_owned();
    let name = p.str("ProviderName")?.to_owned();
    app.commit(|store, recs| {
        let m = &mut store.pool_mut(&pool_id)?.meta;
        if m.identity_providers.remove(&name).is_none() {
            return Err(not_found(&name));
        }
        recs.push(Record::PutPool { meta: m.clone() });
        Ok(json!({}))
    })
    .await
}
