//! The in-memory model: pools with their clients, users and groups, plus token revocations.
//! Everything here is plain data that serialises into the snapshot, with the lookups several
//! modules share; behaviour lives in the per-resource modules.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{CognitoError, Result};
use crate::ids::uuid_ms;

/// At most this many revoked refresh-token families are remembered (oldest expiry dropped first).
pub const MAX_REVOCATIONS: usize = 100_000;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Store {
    pub pools: BTreeMap<String, Pool>,
    /// Revoked refresh-token families: `origin_jti` -> expiry (unix seconds).
    #[serde(default)]
    pub revoked: BTreeMap<String, i64>,
    /// Rotated refresh-token families: `origin_jti` -> where the rotation stands.
    #[serde(default)]
    pub rotations: BTreeMap<String, crate::auth::rotation::Rotation>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pool {
    pub meta: PoolMeta,
    #[serde(default)]
    pub clients: BTreeMap<String, Client>,
    /// Keyed by [`PoolMeta::user_key`] of the internal username.
    #[serde(default)]
    pub users: BTreeMap<String, User>,
    #[serde(default)]
    pub groups: BTreeMap<String, Group>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PasswordPolicy {
    pub minimum_length: i64,
    pub require_uppercase: bool,
    pub require_lowercase: bool,
    pub require_numbers: bool,
    pub require_symbols: bool,
    pub temporary_password_validity_days: i64,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            minimum_length: 8,
            require_uppercase: true,
            require_lowercase: true,
            require_numbers: true,
            require_symbols: true,
            temporary_password_validity_days: 7,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PoolMeta {
    pub id: String,
    pub name: String,
    pub arn: String,
    pub region: String,
    pub created: f64,
    pub modified: f64,
    pub policy: PasswordPolicy,
    /// Custom schema attributes as sent (Name already prefixed `custom:`), plus overrides of
    /// standard attributes (e.g. `email` required).
    pub schema: Vec<Value>,
    pub username_attributes: Vec<String>,
    pub alias_attributes: Vec<String>,
    pub auto_verified_attributes: Vec<String>,
    pub case_sensitive: bool,
    pub mfa: String,
    /// Members stored and echoed but not interpreted (LambdaConfig, AdminCreateUserConfig, tags...).
    pub extra: Map<String, Value>,
    #[serde(default)]
    pub domain: Option<String>,
    /// A custom domain (`CreateUserPoolDomain` with `CustomDomainConfig`), beside the prefix `domain`.
    #[serde(default)]
    pub custom_domain: Option<String>,
    /// Per domain (prefix or custom): its `CustomDomainConfig`, `ManagedLoginVersion`, CloudFront name.
    #[serde(default)]
    pub domain_details: BTreeMap<String, Value>,
    #[serde(default)]
    pub resource_servers: BTreeMap<String, Value>,
    /// Federated identity providers by `ProviderName`, each as `DescribeIdentityProvider` shows it.
    #[serde(default)]
    pub identity_providers: BTreeMap<String, Value>,
    /// The factors `SetUserPoolMfaConfig` enabled (`mfa` above is OFF / ON / OPTIONAL).
    #[serde(default)]
    pub mfa_factors: crate::mfa::PoolFactors,
}

impl PoolMeta {
    /// The map key for a username (Cognito folds case for case-insensitive pools).
    pub fn user_key(&self, username: &str) -> String {
        if self.case_sensitive {
            username.to_owned()
        } else {
            username.to_lowercase()
        }
    }

    /// The part after the underscore: what SRP hashes as the "pool name".
    pub fn srp_pool_name(&self) -> &str {
        self.id.split_once('_').map(|(_, n)| n).unwrap_or(&self.id)
    }

    pub fn custom_attribute_names(&self) -> BTreeSet<String> {
        self.schema
            .iter()
            .filter_map(|a| a.get("Name").and_then(Value::as_str))
            .filter(|n| n.starts_with("custom:"))
            .map(str::to_owned)
            .collect()
    }

    pub fn required_attributes(&self) -> Vec<String> {
        self.schema
            .iter()
            .filter(|a| a.get("Required").and_then(Value::as_bool) == Some(true))
            .filter_map(|a| a.get("Name").and_then(Value::as_str))
            .map(str::to_owned)
            .collect()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Client {
    pub id: String,
    pub pool_id: String,
    pub name: String,
    pub secret: Option<String>,
    pub created: f64,
    pub modified: f64,
    pub explicit_auth_flows: Vec<String>,
    pub access_validity: i64,
    pub id_validity: i64,
    pub refresh_validity: i64,
    pub access_unit: String,
    pub id_unit: String,
    pub refresh_unit: String,
    pub prevent_user_existence_errors: String,
    pub enable_token_revocation: bool,
    pub auth_session_validity: i64,
    pub read_attributes: Vec<String>,
    pub write_attributes: Vec<String>,
    pub allowed_oauth_flows: Vec<String>,
    pub allowed_oauth_scopes: Vec<String>,
    pub allowed_oauth_flows_user_pool_client: bool,
    pub callback_urls: Vec<String>,
    pub logout_urls: Vec<String>,
    pub supported_identity_providers: Vec<String>,
    /// `RefreshTokenRotation`; absent in older state files.
    #[serde(default)]
    pub refresh_token_rotation: Option<crate::auth::rotation::RotationSetting>,
}

fn unit_seconds(unit: &str) -> i64 {
    match unit {
        "seconds" => 1,
        "minutes" => 60,
        "days" => 86_400,
        _ => 3_600,
    }
}

impl Client {
    pub fn access_ttl(&self) -> i64 {
        self.access_validity * unit_seconds(&self.access_unit)
    }
    pub fn id_ttl(&self) -> i64 {
        self.id_validity * unit_seconds(&self.id_unit)
    }
    pub fn refresh_ttl(&self) -> i64 {
        self.refresh_validity * unit_seconds(&self.refresh_unit)
    }
    pub fn prevents_user_existence_errors(&self) -> bool {
        self.prevent_user_existence_errors == "ENABLED"
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PasswordHash {
    pub salt: String,
    pub iterations: u32,
    pub hash: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SrpVerifier {
    /// Hex, no leading zero byte and top bit clear, so every client pads it the same way.
    pub salt: String,
    /// Hex of `g^x mod N`.
    pub verifier: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Code {
    pub kind: String,
    pub code: String,
    pub created_at: f64,
    /// The attribute the code went to (`email`, `phone_number`): what confirming it verifies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    /// The message a CustomMessage trigger made for this code (`emailSubject`, `emailMessage`,
    /// `smsMessage`, placeholders filled in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub username: String,
    pub sub: String,
    /// Every attribute including `sub`; values are strings as on the wire.
    pub attributes: BTreeMap<String, String>,
    pub status: String,
    pub enabled: bool,
    pub created: f64,
    pub modified: f64,
    pub password: Option<PasswordHash>,
    pub srp: Option<SrpVerifier>,
    #[serde(default)]
    pub groups: BTreeSet<String>,
    #[serde(default)]
    pub codes: Vec<Code>,
    /// Global sign-out time (unix ms): sessions that started at or before it are revoked.
    #[serde(default)]
    pub signed_out_ms: i64,
    #[serde(default)]
    pub mfa: crate::mfa::UserMfa,
}

impl User {
    /// A new, enabled user with no password yet, created and modified `now` (unix seconds).
    pub fn new(
        username: String,
        sub: String,
        attributes: BTreeMap<String, String>,
        status: &str,
        now: f64,
    ) -> Self {
        Self {
            username,
            sub,
            attributes,
            status: status.into(),
            enabled: true,
            created: now,
            modified: now,
            password: None,
            srp: None,
            groups: Default::default(),
            codes: Vec::new(),
            signed_out_ms: 0,
            mfa: Default::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Group {
    pub name: String,
    pub description: Option<String>,
    pub role_arn: Option<String>,
    pub precedence: Option<i64>,
    pub created: f64,
    pub modified: f64,
}

impl Store {
    pub fn pool(&self, id: &str) -> Result<&Pool> {
        self.pools
            .get(id)
            .ok_or_else(|| CognitoError::pool_not_found(id))
    }

    pub fn pool_mut(&mut self, id: &str) -> Result<&mut Pool> {
        self.pools
            .get_mut(id)
            .ok_or_else(|| CognitoError::pool_not_found(id))
    }

    /// Find the pool owning a client id (client ids are globally unique).
    pub fn client(&self, client_id: &str) -> Result<(&Pool, &Client)> {
        self.pools
            .values()
            .find_map(|p| p.clients.get(client_id).map(|c| (p, c)))
            .ok_or_else(|| CognitoError::client_not_found(client_id))
    }

    pub fn is_revoked(&self, user: &User, origin_jti: &str) -> bool {
        self.revoked.contains_key(origin_jti)
            || uuid_ms(origin_jti).is_some_and(|ms| ms <= user.signed_out_ms)
    }

    /// Remember a revoked family, keeping the map bounded (entries expired at `now`, unix
    /// seconds, go first).
    pub fn revoke(&mut self, origin_jti: &str, exp: i64, now: i64) {
        self.revoked.insert(origin_jti.to_owned(), exp);
        if self.revoked.len() > MAX_REVOCATIONS {
            self.revoked.retain(|_, e| *e > now);
            while self.revoked.len() > MAX_REVOCATIONS {
                let oldest = self
                    .revoked
                    .iter()
                    .min_by_key(|(_, e)| **e)
                    .map(|(k, _)| k.clone());
                match oldest {
                    Some(k) => {
                        self.revoked.remove(&k);
                    }
                    None => break,
                }
            }
        }
    }
}

impl Pool {
    /// Resolve a name a caller sent: the internal username, then a sign-in/alias attribute
    /// (email, phone_number, preferred_username), then the `sub`.
    pub fn find_user_key(&self, name: &str) -> Option<String> {
        let key = self.meta.user_key(name);
        if self.users.contains_key(&key) {
            return Some(key);
        }
        let alias_attrs: Vec<&str> = self
            .meta
            .username_attributes
            .iter()
            .chain(self.meta.alias_attributes.iter())
            .map(String::as_str)
            .collect();
        if !alias_attrs.is_empty() {
            let lowered = name.to_lowercase();
            if let Some((k, _)) = self.users.iter().find(|(_, u)| {
                alias_attrs.iter().any(|a| {
                    u.attributes.get(*a).is_some_and(|v| {
                        v == name || (*a == "email" && v.to_lowercase() == lowered)
                    })
                })
            }) {
                return Some(k.clone());
            }
        }
        self.users
            .iter()
            .find(|(_, u)| u.sub == name)
            .map(|(k, _)| k.clone())
    }

    pub fn user(&self, name: &str) -> Result<&User> {
        self.find_user_key(name)
            .and_then(|k| self.users.get(&k))
            .ok_or_else(CognitoError::user_not_found)
    }

    /// The user a name (username, alias or sub) finds, with its key, for a write.
    pub fn user_mut(&mut self, name: &str) -> Result<(String, &mut User)> {
        let key = self
            .find_user_key(name)
            .ok_or_else(CognitoError::user_not_found)?;
        let user = self
            .users
            .get_mut(&key)
            .ok_or_else(CognitoError::user_not_found)?;
        Ok((key, user))
    }

    pub fn client(&self, client_id: &str) -> Result<&Client> {
        self.clients
            .get(client_id)
            .ok_or_else(|| CognitoError::client_not_found(client_id))
    }
}
