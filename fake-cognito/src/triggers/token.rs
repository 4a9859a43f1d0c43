//! PreTokenGeneration: the V1_0 event (ID-token claims and groups) and the V2_0/V3_0 events
//! (`version` "2"/"3": ID and access token claims, scopes, groups), and the changes they return,
//! applied by `tokens::user_tokens_with`. Claims Cognito itself owns are never changed (as AWS:
//! a response naming them is ignored for them).

use serde_json::{Map, Value, json};

use super::{Trigger, config, event, run};
use crate::app::App;
use crate::error::{CognitoError, Result};
use crate::model::{Client, PoolMeta, User};

/// `triggerSource` values for the ways tokens are issued.
pub const AUTHENTICATION: &str = "TokenGeneration_Authentication";
pub const NEW_PASSWORD: &str = "TokenGeneration_NewPasswordChallenge";
pub const REFRESH: &str = "TokenGeneration_RefreshTokens";
pub const HOSTED_AUTH: &str = "TokenGeneration_HostedAuth";

/// Claims no response may add, change or suppress (both tokens).
const RESERVED: &[&str] = &[
    "acr",
    "amr",
    "aud",
    "at_hash",
    "auth_time",
    "azp",
    "cognito:username",
    "exp",
    "iat",
    "identities",
    "iss",
    "jti",
    "nbf",
    "nonce",
    "origin_jti",
    "sub",
    "token_use",
];
/// Reserved in the access token besides [`RESERVED`] (scopes change through scopesToAdd/Suppress).
const RESERVED_ACCESS: &[&str] = &["client_id", "scope", "username", "version", "event_id"];

/// One token's claim changes.
#[derive(Debug, Default, Clone)]
pub struct ClaimChanges {
    pub add: Map<String, Value>,
    pub suppress: Vec<String>,
}

/// Everything a PreTokenGeneration response changes.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub id: ClaimChanges,
    pub access: ClaimChanges,
    /// `groupOverrideDetails`: groups (both tokens), IAM roles and the preferred role (ID token).
    pub groups: Option<Vec<String>>,
    pub roles: Option<Vec<String>>,
    pub preferred_role: Option<String>,
    pub scopes_add: Vec<String>,
    pub scopes_suppress: Vec<String>,
}

impl Overrides {
    /// Apply to a token's claims (`access` picks the reserved list and the changes).
    pub fn apply(&self, claims: &mut Map<String, Value>, access: bool) {
        let changes = if access { &self.access } else { &self.id };
        let reserved = |k: &str| RESERVED.contains(&k) || (access && RESERVED_ACCESS.contains(&k));
        if let Some(groups) = &self.groups {
            if groups.is_empty() {
                claims.remove("cognito:groups");
            } else {
                claims.insert("cognito:groups".into(), json!(groups));
            }
        }
        if !access {
            if let Some(roles) = self.roles.as_ref().filter(|r| !r.is_empty()) {
                claims.insert("cognito:roles".into(), json!(roles));
            }
            if let Some(role) = &self.preferred_role {
                claims.insert("cognito:preferred_role".into(), json!(role));
            }
        }
        for name in &changes.suppress {
            if !reserved(name) {
                claims.remove(name);
            }
        }
        for (k, v) in &changes.add {
            if !reserved(k) {
                claims.insert(k.clone(), v.clone());
            }
        }
        if access && (!self.scopes_add.is_empty() || !self.scopes_suppress.is_empty()) {
            let current = claims
                .get("scope")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let mut scopes: Vec<String> = current
                .split_whitespace()
                .filter(|s| !self.scopes_suppress.iter().any(|x| x == s))
                .map(str::to_owned)
                .collect();
            for s in &self.scopes_add {
                if !scopes.contains(s) {
                    scopes.push(s.clone());
                }
            }
            claims.insert("scope".into(), json!(scopes.join(" ")));
        }
    }
}

/// The user's groups, their IAM roles and the preferred role (lowest precedence with a role).
fn group_configuration(app: &App, meta: &PoolMeta, user: &User) -> Value {
    let store = app.store.read();
    let Ok(pool) = store.pool(&meta.id) else {
        return json!({"groupsToOverride": [], "iamRolesToOverride": [], "preferredRole": null});
    };
    let mut groups: Vec<_> = user
        .groups
        .iter()
        .filter_map(|g| pool.groups.get(g))
        .collect();
    groups.sort_by_key(|g| g.precedence.unwrap_or(i64::MAX));
    let roles: Vec<&str> = groups
        .iter()
        .filter_map(|g| g.role_arn.as_deref())
        .collect();
    json!({
        "groupsToOverride": user.groups.iter().collect::<Vec<_>>(),
        "iamRolesToOverride": roles,
        "preferredRole": roles.first(),
    })
}

/// Run the pool's PreTokenGeneration trigger, if any, for a user's tokens.
pub async fn pre_token_generation(
    app: &App,
    meta: &PoolMeta,
    client: &Client,
    user: &User,
    scopes: &str,
    source: &str,
) -> Result<Overrides> {
    if config::arn(meta, Trigger::PreTokenGeneration).is_none() {
        return Ok(Overrides::default());
    }
    let version = config::token_version(meta);
    let v1 = version == "V1_0";
    let mut request = json!({
        "userAttributes": event::user_attributes(user),
        "groupConfiguration": group_configuration(app, meta, user),
    });
    if !v1 {
        request["scopes"] = json!(scopes.split_whitespace().collect::<Vec<_>>());
    }
    if let Some(m) = event::client_metadata() {
        request["clientMetadata"] = m;
    }
    let (number, response) = match version {
        "V1_0" => ("1", json!({"claimsOverrideDetails": null})),
        "V3_0" => ("3", json!({"claimsAndScopeOverrideDetails": null})),
        _ => ("2", json!({"claimsAndScopeOverrideDetails": null})),
    };
    let ev = event::versioned(
        meta,
        number,
        source,
        Some(&user.username),
        &client.id,
        request,
        response,
    );
    let Some(answer) = run(app, meta, Trigger::PreTokenGeneration, &ev).await? else {
        return Ok(Overrides::default());
    };
    let response = super::response(&answer);
    if v1 {
        parse_v1(response.get("claimsOverrideDetails"))
    } else {
        parse_v2(response.get("claimsAndScopeOverrideDetails"))
    }
}

fn bad() -> CognitoError {
    CognitoError::InvalidLambdaResponse("Unrecognizable lambda output".into())
}

fn strings(v: Option<&Value>) -> Result<Vec<String>> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|s| s.as_str().map(str::to_owned).ok_or_else(bad))
            .collect(),
        Some(_) => Err(bad()),
    }
}

fn object(v: Option<&Value>) -> Result<Option<&Map<String, Value>>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(bad()),
    }
}

fn claim_changes(v: Option<&Value>, strings_only: bool) -> Result<ClaimChanges> {
    let Some(o) = object(v)? else {
        return Ok(ClaimChanges::default());
    };
    let add = object(o.get("claimsToAddOrOverride"))?
        .cloned()
        .unwrap_or_default();
    // V1_0 claims are strings only; V2_0 allows any JSON.
    if strings_only && add.values().any(|v| !v.is_string()) {
        return Err(bad());
    }
    Ok(ClaimChanges {
        add,
        suppress: strings(o.get("claimsToSuppress"))?,
    })
}

fn groups_into(v: Option<&Value>, out: &mut Overrides) -> Result<()> {
    let Some(g) = object(v)? else { return Ok(()) };
    if g.contains_key("groupsToOverride") {
        out.groups = Some(strings(g.get("groupsToOverride"))?);
    }
    if g.contains_key("iamRolesToOverride") {
        out.roles = Some(strings(g.get("iamRolesToOverride"))?);
    }
    out.preferred_role = match g.get("preferredRole") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(bad()),
    };
    Ok(())
}

fn parse_v1(details: Option<&Value>) -> Result<Overrides> {
    let mut out = Overrides {
        id: claim_changes(details, true)?,
        ..Overrides::default()
    };
    if let Some(d) = object(details)? {
        groups_into(d.get("groupOverrideDetails"), &mut out)?;
    }
    Ok(out)
}

fn parse_v2(details: Option<&Value>) -> Result<Overrides> {
    let Some(d) = object(details)? else {
        return Ok(Overrides::default());
    };
    let access = object(d.get("accessTokenGeneration"))?;
    let mut out = Overrides {
        id: claim_changes(d.get("idTokenGeneration"), false)?,
        access: claim_changes(d.get("accessTokenGeneration"), false)?,
        scopes_add: strings(access.and_then(|a| a.get("scopesToAdd")))?,
        scopes_suppress: strings(access.and_then(|a| a.get("scopesToSuppress")))?,
        ..Overrides::default()
    };
    groups_into(d.get("groupOverrideDetails"), &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::ADMIN_SCOPE;

    #[test]
    fn reserved_claims_stay_and_scopes_change() {
        let o = parse_v2(Some(&json!({
            "idTokenGeneration": {"claimsToAddOrOverride": {"tier": {"a": 1}, "sub": "x"},
                                  "claimsToSuppress": ["email", "iss"]},
            "accessTokenGeneration": {"claimsToAddOrOverride": {"role": "admin"},
                                      "scopesToAdd": ["api/read"],
                                      "scopesToSuppress": ["aws.cognito.signin.user.admin"]},
            "groupOverrideDetails": {"groupsToOverride": ["g1"]},
        })))
        .unwrap();
        let mut id = Map::new();
        id.insert("sub".into(), json!("s"));
        id.insert("iss".into(), json!("i"));
        id.insert("email".into(), json!("e"));
        o.apply(&mut id, false);
        assert_eq!(id["sub"], "s");
        assert_eq!(id["iss"], "i");
        assert!(id.get("email").is_none());
        assert_eq!(id["tier"], json!({"a": 1}));
        assert_eq!(id["cognito:groups"], json!(["g1"]));
        let mut access = Map::new();
        access.insert("scope".into(), json!(ADMIN_SCOPE));
        o.apply(&mut access, true);
        assert_eq!(access["scope"], "api/read");
        assert_eq!(access["role"], "admin");
        assert!(parse_v1(Some(&json!({"claimsToAddOrOverride": {"n": 1}}))).is_err());
    }
}
