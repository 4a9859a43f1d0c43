//! The AWS JSON 1.1 front door: `POST /` routed by `X-Amz-Target` only (SigV4 signatures are
//! neither required nor checked), request-member helpers, and the operation table.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use crate::app::AppState;
use crate::error::{CognitoError, Result};
use crate::{auth, clients, groups, pools, users};

const PREFIX: &str = "AWSCognitoIdentityProviderService.";

/// Request members of one call, with Cognito-style validation errors.
pub struct Params(pub Map<String, Value>);

fn camel(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

impl Params {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// A required, non-empty string member.
    pub fn str(&self, name: &str) -> Result<&str> {
        match self.get(name) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s),
            Some(Value::String(_)) => Err(CognitoError::InvalidParameter(format!(
                "1 validation error detected: Value at '{}' failed to satisfy constraint: Member must have length greater than or equal to 1",
                camel(name)
            ))),
            Some(_) => Err(CognitoError::Serialization(format!(
                "Expected a string for {name}"
            ))),
            None => Err(CognitoError::InvalidParameter(format!(
                "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
                camel(name)
            ))),
        }
    }

    pub fn opt_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        self.get(name).and_then(Value::as_bool)
    }

    pub fn i64(&self, name: &str) -> Option<i64> {
        self.get(name)
            .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
    }

    pub fn strings(&self, name: &str) -> Vec<String> {
        self.get(name)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `[{"Name": ..., "Value": ...}]` lists.
    pub fn attributes(&self, name: &str) -> Result<Vec<(String, String)>> {
        let Some(list) = self.get(name) else {
            return Ok(Vec::new());
        };
        let list = list
            .as_array()
            .ok_or_else(|| CognitoError::Serialization(format!("Expected a list for {name}")))?;
        list.iter()
            .map(|a| {
                let n = a.get("Name").and_then(Value::as_str).ok_or_else(|| {
                    CognitoError::InvalidParameter(format!(
                        "1 validation error detected: Value null at '{}.member.name' failed to satisfy constraint: Member must not be null",
                        camel(name)
                    ))
                })?;
                let v = a.get("Value").and_then(Value::as_str).unwrap_or_default();
                Ok((n.to_owned(), v.to_owned()))
            })
            .collect()
    }

    pub fn string_map(&self, name: &str) -> BTreeMap<String, String> {
        self.get(name)
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Region from a SigV4 credential scope (`Credential=AKID/date/region/service/aws4_request`).
fn region_from_auth(headers: &HeaderMap) -> Option<String> {
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let cred = auth.split("Credential=").nth(1)?;
    let region = cred.split('/').nth(2)?;
    (!region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
    .then(|| region.to_owned())
}

pub struct Call {
    pub params: Params,
    pub region: String,
}

pub async fn handle(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let result = dispatch(&app, &headers, &body).await;
    match result {
        Ok(v) => {
            let mut res = v.to_string().into_response();
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-amz-json-1.1"),
            );
            res
        }
        Err(e) => {
            if !matches!(e, CognitoError::Persistence(_)) {
                tracing::debug!(error_type = e.type_name(), "request rejected");
            }
            e.into_response()
        }
    }
}

async fn dispatch(app: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<Value> {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let op = target.strip_prefix(PREFIX).ok_or_else(|| {
        CognitoError::UnknownOperation(if target.is_empty() {
            "Missing X-Amz-Target header".to_owned()
        } else {
            format!("Unknown operation {target}")
        })
    })?;
    let params = if body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => m,
            Ok(_) => {
                return Err(CognitoError::Serialization(
                    "Request body must be a JSON object".into(),
                ));
            }
            Err(e) => {
                return Err(CognitoError::Serialization(format!(
                    "Request body is not valid JSON: {e}"
                )));
            }
        }
    };
    let call = Call {
        params: Params(params),
        region: region_from_auth(headers).unwrap_or_else(|| app.config.region.clone()),
    };
    let p = &call.params;
    match op {
        "CreateUserPool" => pools::create(app, &call).await,
        "DescribeUserPool" => pools::describe(app, p),
        "ListUserPools" => pools::list(app, p),
        "UpdateUserPool" => pools::update(app, p).await,
        "DeleteUserPool" => pools::delete(app, p).await,
        "CreateUserPoolDomain" => pools::create_domain(app, p).await,
        "DescribeUserPoolDomain" => pools::describe_domain(app, p),
        "CreateResourceServer" => pools::create_resource_server(app, p).await,
        "DescribeResourceServer" => pools::describe_resource_server(app, p),
        "ListResourceServers" => pools::list_resource_servers(app, p),
        "CreateUserPoolClient" => clients::create(app, p).await,
        "DescribeUserPoolClient" => clients::describe(app, p),
        "ListUserPoolClients" => clients::list(app, p),
        "UpdateUserPoolClient" => clients::update(app, p).await,
        "DeleteUserPoolClient" => clients::delete(app, p).await,
        "SignUp" => users::sign_up(app, p).await,
        "ConfirmSignUp" => users::confirm_sign_up(app, p).await,
        "ResendConfirmationCode" => users::resend_confirmation_code(app, p).await,
        "AdminConfirmSignUp" => users::admin_confirm_sign_up(app, p).await,
        "AdminCreateUser" => users::admin_create_user(app, p).await,
        "AdminSetUserPassword" => users::admin_set_user_password(app, p).await,
        "AdminGetUser" => users::admin_get_user(app, p),
        "GetUser" => users::get_user(app, p),
        "AdminDeleteUser" => users::admin_delete_user(app, p).await,
        "DeleteUser" => users::delete_user(app, p).await,
        "ListUsers" => users::list_users(app, p),
        "AdminUpdateUserAttributes" => users::admin_update_user_attributes(app, p).await,
        "UpdateUserAttributes" => users::update_user_attributes(app, p).await,
        "AdminDeleteUserAttributes" => users::admin_delete_user_attributes(app, p).await,
        "AdminDisableUser" => users::set_enabled(app, p, false).await,
        "AdminEnableUser" => users::set_enabled(app, p, true).await,
        "AdminResetUserPassword" => users::admin_reset_user_password(app, p).await,
        "ChangePassword" => users::change_password(app, p).await,
        "ForgotPassword" => users::forgot_password(app, p).await,
        "ConfirmForgotPassword" => users::confirm_forgot_password(app, p).await,
        "CreateGroup" => groups::create(app, p).await,
        "GetGroup" => groups::get(app, p),
        "ListGroups" => groups::list(app, p),
        "UpdateGroup" => groups::update(app, p).await,
        "DeleteGroup" => groups::delete(app, p).await,
        "AdminAddUserToGroup" => groups::add_user(app, p).await,
        "AdminRemoveUserFromGroup" => groups::remove_user(app, p).await,
        "AdminListGroupsForUser" => groups::groups_for_user(app, p),
        "ListUsersInGroup" => groups::users_in_group(app, p),
        "InitiateAuth" => auth::initiate_auth(app, p, false).await,
        "AdminInitiateAuth" => auth::initiate_auth(app, p, true).await,
        "RespondToAuthChallenge" | "AdminRespondToAuthChallenge" => {
            auth::challenges::respond(app, p).await
        }
        "GlobalSignOut" => auth::refresh::global_sign_out(app, p).await,
        "AdminUserGlobalSignOut" => auth::refresh::admin_global_sign_out(app, p).await,
        "RevokeToken" => auth::refresh::revoke_token(app, p).await,
        other => Err(CognitoError::UnknownOperation(format!(
            "The operation {other} is not supported by fake-cognito"
        ))),
    }
}

/// Cursor pagination over sorted keys: the token is the last key of the previous page.
pub fn page<'a, T>(
    items: impl Iterator<Item = (&'a String, T)>,
    after: Option<&str>,
    limit: usize,
) -> (Vec<T>, Option<String>) {
    let mut out = Vec::new();
    let mut last = None;
    let mut more = false;
    for (k, v) in items {
        if after.is_some_and(|a| k.as_str() <= a) {
            continue;
        }
        if out.len() == limit {
            more = true;
            break;
        }
        last = Some(k.clone());
        out.push(v);
    }
    (out, if more { last } else { None })
}
