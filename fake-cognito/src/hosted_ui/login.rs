//! `/login`: the sign-in page and its steps. The password is checked as `InitiateAuth` checks it
//! (user state, PBKDF2 hash); a user in FORCE_CHANGE_PASSWORD gets the new-password form and an
//! MFA user the code form (SMS, e-mail, TOTP) or the factor choice, both answered through
//! `RespondToAuthChallenge`'s own code (`auth::challenges`, `mfa/`), so every rule of those flows
//! holds here too. The form also offers the pool's identity providers the client supports.

use std::collections::HashMap;

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::finish::signed_in;
use super::page::{self, banner, esc, form, input};
use super::request::{self, AuthorizeRequest};
use super::site::Site;
use super::steps;
use crate::app::AppState;
use crate::auth::{self, password};
use crate::error::CognitoError;
use crate::params::Params;

pub async fn page(
    State(app): State<AppState>,
    site: Site,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    match request::parse(&app, &site, &q) {
        Ok(req) => login_form(&site, &req, None, req.login_hint.as_deref().unwrap_or("")),
        Err(refusal) => refusal.into_response(),
    }
}

/// The sign-in form (when the client signs in with the pool's own users) and the client's
/// identity providers.
pub fn login_form(
    site: &Site,
    req: &AuthorizeRequest,
    error: Option<&str>,
    username: &str,
) -> Response {
    let providers: Vec<&String> = req
        .client
        .supported_identity_providers
        .iter()
        .filter(|p| req.meta.identity_providers.contains_key(*p))
        .collect();
    let cognito = req.client.supported_identity_providers.is_empty()
        || req
            .client
            .supported_identity_providers
            .iter()
            .any(|p| p == "COGNITO");
    let mut body = format!("<h1>Sign in</h1>{}", banner(error));
    if cognito {
        let fields = input(
            "username",
            "Username",
            "text",
            username,
            "autocomplete=\"username\" required",
        ) + &input(
            "password",
            "Password",
            "password",
            "",
            "autocomplete=\"current-password\" required",
        );
        body.push_str(&form(
            &format!("{}/login", site.base),
            &req.params,
            &fields,
            "Sign in",
        ));
    }
    if !providers.is_empty() {
        body.push_str("<hr><p class=\"note\">Or sign in with a federated identity provider:</p>");
        for p in providers {
            body.push_str(&format!(
                "<p class=\"idp\"><a href=\"{}\">Continue with {}</a></p>",
                esc(&super::federated::stand_in_url(site, p, req)),
                esc(p)
            ));
        }
    }
    page::html(StatusCode::OK, "Sign in", &body)
}

pub async fn submit(
    State(app): State<AppState>,
    site: Site,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let (req, f) = match request::parse_form(&app, &site, form) {
        Ok(parsed) => parsed,
        Err(res) => return *res,
    };
    if f.contains_key("challenge") {
        answer(&app, &site, &req, &f).await
    } else {
        sign_in(&app, &site, &req, &f).await
    }
}

/// The username + password step.
async fn sign_in(
    app: &AppState,
    site: &Site,
    req: &AuthorizeRequest,
    f: &HashMap<String, String>,
) -> Response {
    let username = f.get("username").map_or("", |s| s.trim());
    let pw = f.get("password").map_or("", String::as_str);
    if username.is_empty() || pw.is_empty() {
        return login_form(
            site,
            req,
            Some("Username and password are required."),
            username,
        );
    }
    let bad = || login_form(site, req, Some("Incorrect username or password."), username);
    let found = match auth::find_user(app, &req.meta, username) {
        Ok(found) => found,
        Err(e) => return page::from_error(&e),
    };
    let Some((key, user)) = found else {
        return bad();
    };
    if let Err(e) = auth::check_user_state(&user) {
        return login_form(site, req, Some(&e.to_string()), username);
    }
    // PreAuthentication runs before the password is checked, as in InitiateAuth.
    let pre =
        crate::triggers::authentication::pre_authentication(app, &req.meta, &req.client, &user);
    if let Err(e) = pre.await {
        return failed(site, req, &e, username);
    }
    let ok = user
        .password
        .as_ref()
        .is_some_and(|h| password::verify(h, pw));
    if !ok || user.status == "EXTERNAL_PROVIDER" {
        return bad();
    }
    let next = match user.status.as_str() {
        "RESET_REQUIRED" => {
            return login_form(
                site,
                req,
                Some("Password reset required for the user."),
                username,
            );
        }
        "FORCE_CHANGE_PASSWORD" => {
            auth::after_password(app, &req.meta, &req.client, &key, &user).await
        }
        _ => match crate::mfa::challenge::begin(app, &req.meta, &req.client, &key, &user).await {
            Ok(Some(challenge)) => Ok(challenge),
            Ok(None) => return signed_in(app, req, &key, &user, None).await,
            Err(e) => Err(e),
        },
    };
    match next {
        Ok(v) => advance(app, site, req, &v).await,
        Err(e) => failed(site, req, &e, username),
    }
}

/// A failure shown on the sign-in form (or as a page when it is ours, e.g. a failed write).
fn failed(site: &Site, req: &AuthorizeRequest, e: &CognitoError, username: &str) -> Response {
    match e {
        CognitoError::Persistence(_) | CognitoError::Internal(_) => page::from_error(e),
        _ => login_form(site, req, Some(&e.to_string()), username),
    }
}

/// After a step: the next challenge's page, or the redirect with a code once signed in.
async fn advance(app: &AppState, site: &Site, req: &AuthorizeRequest, v: &Value) -> Response {
    if let Some(result) = v.get("AuthenticationResult") {
        // The chain ended: its last step named the user (tokens are minted at the token
        // endpoint, once, with the sign-in triggers; see `auth::for_hosted_ui`).
        let found = result[auth::HOSTED_USER]
            .as_str()
            .and_then(|name| auth::find_user(app, &req.meta, name).ok().flatten());
        return match found {
            Some((key, user)) => signed_in(app, req, &key, &user, None).await,
            None => login_form(site, req, Some("User does not exist."), ""),
        };
    }
    let challenge = v["ChallengeName"].as_str().unwrap_or_default();
    let session = v["Session"].as_str().unwrap_or_default();
    let params = &v["ChallengeParameters"];
    let username = params["USER_ID_FOR_SRP"].as_str().unwrap_or_default();
    if challenge == "MFA_SETUP" {
        return match super::setup::begin(app, session, params).await {
            Ok((next, page)) => {
                steps::challenge_page(site, req, challenge, &next, username, &page, None)
            }
            Err(e) => failed(site, req, &e, username),
        };
    }
    steps::challenge_page(site, req, challenge, session, username, params, None)
}

/// The answer to a challenge page, through `RespondToAuthChallenge`'s code.
async fn answer(
    app: &AppState,
    site: &Site,
    req: &AuthorizeRequest,
    f: &HashMap<String, String>,
) -> Response {
    let get = |n: &str| f.get(n).map_or("", String::as_str);
    let (challenge, session, username) = (get("challenge"), get("session"), get("username"));
    let params: Value = serde_json::from_str(get("challenge_params")).unwrap_or_else(|_| json!({}));
    let retry = |e: CognitoError| match e {
        CognitoError::Persistence(_) | CognitoError::Internal(_) => page::from_error(&e),
        // A wrong answer keeps the session: show the same step again with the message.
        _ if app.sessions.peek(session).is_some() => {
            let msg = e.to_string();
            steps::challenge_page(site, req, challenge, session, username, &params, Some(&msg))
        }
        _ => login_form(site, req, Some(&e.to_string()), username),
    };
    // MFA_SETUP: the app's first code proves the new authenticator, then the challenge is answered.
    let session = if challenge == "MFA_SETUP" {
        match super::setup::verify(app, session, get("code").trim()).await {
            Ok(next) => next,
            Err(e) => return retry(e),
        }
    } else {
        session.to_owned()
    };
    let mut responses = Map::new();
    responses.insert("USERNAME".into(), json!(username));
    for (field, key) in steps::response_fields(challenge) {
        responses.insert((*key).into(), json!(get(field).trim()));
    }
    if challenge == "NEW_PASSWORD_REQUIRED" {
        for (k, v) in f.iter().filter(|(k, _)| k.starts_with("userAttributes.")) {
            responses.insert(k.clone(), json!(v));
        }
    }
    if let Some(secret) = &req.client.secret {
        let hash = password::secret_hash(secret, username, &req.client.id);
        responses.insert("SECRET_HASH".into(), json!(hash));
    }
    let call = json!({
        "ClientId": req.client.id, "ChallengeName": challenge, "Session": session,
        "ChallengeResponses": responses,
    });
    let Value::Object(call) = call else {
        return page::error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Bad challenge answer.",
        );
    };
    match auth::for_hosted_ui(auth::challenges::respond(app, &Params(call))).await {
        Ok(v) => advance(app, site, req, &v).await,
        Err(e) => retry(e),
    }
}
