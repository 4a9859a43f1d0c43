//! The AWS JSON 1.1 front door: `POST /` routed by `X-Amz-Target` only (SigV4 signatures are
//! neither required nor checked), the request's region and account, and the operation table.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use crate::app::AppState;
use crate::error::{CognitoError, Result};
use crate::params::Params;
use crate::{
    auth, clients, domains, groups, identity_providers, mfa, pools, resource_servers, users,
};

const PREFIX: &str = "AWSCognitoIdentityProviderService.";

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

/// The access key id of a SigV4 credential scope.
fn access_key_id(headers: &HeaderMap) -> Option<&str> {
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    auth.split("Credential=").nth(1)?.split('/').next()
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// `--account-id`: exactly 12 digits, as AWS account ids are.
pub fn parse_account_id(s: &str) -> std::result::Result<String, String> {
    if is_account_id(s) {
        Ok(s.to_owned())
    } else {
        Err(format!("an AWS account id is 12 digits, not {s:?}"))
    }
}

/// The caller's account: a 12-digit access key id *is* the account id (LocalStack's
/// convention, so tests can act as several accounts); any other key gets `--account-id`.
fn account_from_auth(headers: &HeaderMap) -> Option<String> {
    access_key_id(headers)
        .filter(|k| is_account_id(k))
        .map(str::to_owned)
}

pub struct Call {
    pub params: Params,
    pub region: String,
    /// The AWS account id that goes into ARNs.
    pub account: String,
}

pub async fn handle(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let result =
        crate::triggers::event::with_caller(user_agent, &body, dispatch(&app, &headers, &body))
            .await;
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
        account: account_from_auth(headers).unwrap_or_else(|| app.config.account_id.clone()),
    };
    let p = &call.params;
    match op {
        "CreateUserPool" => pools::create(app, &call).await,
        "DescribeUserPool" => pools::describe(app, p),
        "ListUserPools" => pools::list(app, p),
        "UpdateUserPool" => pools::update(app, p).await,
        "DeleteUserPool" => pools::delete(app, p).await,
        "AddCustomAttributes" => crate::custom_attributes::add(app, p).await,
        "CreateUserPoolDomain" => domains::create(app, p).await,
        "DescribeUserPoolDomain" => domains::describe(app, p),
        "UpdateUserPoolDomain" => domains::update(app, p).await,
        "DeleteUserPoolDomain" => domains::delete(app, p).await,
        "CreateIdentityProvider" => identity_providers::create(app, p).await,
        "DescribeIdentityProvider" => identity_providers::describe(app, p),
        "ListIdentityProviders" => identity_providers::list(app, p),
        "UpdateIdentityProvider" => identity_providers::update(app, p).await,
        "DeleteIdentityProvider" => identity_providers::delete(app, p).await,
        "GetIdentityProviderByIdentifier" => identity_providers::by_identifier(app, p),
        "CreateResourceServer" => resource_servers::create(app, p).await,
        "DescribeResourceServer" => resource_servers::describe(app, p),
        "ListResourceServers" => resource_servers::list(app, p),
        "UpdateResourceServer" => resource_servers::update(app, p).await,
        "DeleteResourceServer" => resource_servers::delete(app, p).await,
        "CreateUserPoolClient" => clients::create(app, p).await,
        "DescribeUserPoolClient" => clients::describe(app, p),
        "ListUserPoolClients" => clients::list(app, p),
        "UpdateUserPoolClient" => clients::update(app, p).await,
        "DeleteUserPoolClient" => clients::delete(app, p).await,
        "SignUp" => users::codes::sign_up(app, p).await,
        "ConfirmSignUp" => users::codes::confirm_sign_up(app, p).await,
        "ResendConfirmationCode" => users::codes::resend_confirmation_code(app, p).await,
        "AdminConfirmSignUp" => users::codes::admin_confirm_sign_up(app, p).await,
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
        "ForgotPassword" => users::codes::forgot_password(app, p).await,
        "ConfirmForgotPassword" => users::codes::confirm_forgot_password(app, p).await,
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
        "SetUserPoolMfaConfig" => mfa::config::set(app, p).await,
        "GetUserPoolMfaConfig" => mfa::config::get(app, p),
        "AssociateSoftwareToken" => mfa::software::associate(app, p).await,
        "VerifySoftwareToken" => mfa::software::verify(app, p).await,
        "SetUserMFAPreference" => mfa::preference::set_own(app, p).await,
        "AdminSetUserMFAPreference" => mfa::preference::admin_set(app, p).await,
        "GlobalSignOut" => auth::refresh::global_sign_out(app, p).await,
        "AdminUserGlobalSignOut" => auth::refresh::admin_global_sign_out(app, p).await,
        "GetTokensFromRefreshToken" => auth::rotation::get_tokens_from_refresh_token(app, p).await,
        "RevokeToken" => auth::refresh::revoke_token(app, p).await,
        other => Err(CognitoError::UnknownOperation(format!(
            "The operation {other} is not supported by fake-cognito"
        ))),
    }
}
