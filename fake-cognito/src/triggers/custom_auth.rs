//! `CUSTOM_AUTH`: DefineAuthChallenge decides each round (issue tokens, fail, or the next
//! challenge), CreateAuthChallenge makes a `CUSTOM_CHALLENGE` (public parameters go to the
//! client, private ones stay in the session), VerifyAuthChallengeResponse judges the answer. The
//! sequence so far (`session`: challengeName, challengeResult, challengeMetadata) lives in the
//! bounded challenge-session map; every round answers with a new single-use Session.

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::{Trigger, config, event, flag, invoke};
use crate::app::{AppState, Session};
use crate::auth::{AuthParams, check_user_state, login_user, new_session_id, password, required};
use crate::error::{CognitoError, Result};
use crate::model::{Client, PoolMeta, User};

/// The longest challenge sequence one sign-in may run.
const MAX_ROUNDS: usize = 20;

/// A custom challenge sequence in flight.
#[derive(Debug, Clone)]
pub struct CustomSession {
    pub pool_id: String,
    pub client_id: String,
    /// `None` for an unknown user under PreventUserExistenceErrors (`userNotFound: true`).
    pub user_key: Option<String>,
    pub username: String,
    /// The ChallengeResult list the triggers see as `request.session`.
    pub results: Vec<Value>,
    pub private: Value,
    pub metadata: Value,
}

/// The three trigger ARNs, or Cognito's refusal when any is missing.
fn arns(meta: &PoolMeta) -> Result<[String; 3]> {
    let get = |t| config::arn(meta, t);
    match (
        get(Trigger::DefineAuthChallenge),
        get(Trigger::CreateAuthChallenge),
        get(Trigger::VerifyAuthChallengeResponse),
    ) {
        (Some(d), Some(c), Some(v)) => Ok([d, c, v]),
        _ => Err(CognitoError::InvalidParameter(
            "Custom auth lambda trigger is not configured for the user pool.".into(),
        )),
    }
}

fn attributes(user: Option<&User>) -> Value {
    user.map_or_else(|| json!({}), event::user_attributes)
}

/// InitiateAuth / AdminInitiateAuth with `CUSTOM_AUTH`.
pub async fn start(
    app: &AppState,
    meta: &PoolMeta,
    client: &Client,
    params: &AuthParams,
) -> Result<Value> {
    required(params, "USERNAME")?;
    if params.contains_key("SRP_A") {
        return Err(CognitoError::InvalidParameter(
            "CUSTOM_AUTH with SRP_A (a password step first) is not supported by fake-cognito"
                .into(),
        ));
    }
    arns(meta)?;
    let (username, found) = login_user(app, meta, client, params)?;
    let (user_key, user) = match found {
        Some((k, u)) => (Some(k), Some(u)),
        None if client.prevents_user_existence_errors() => (None, None),
        None => return Err(crate::auth::missing_user_error(client)),
    };
    if let Some(u) = &user {
        check_user_state(u)?;
        super::authentication::pre_authentication(app, meta, client, u).await?;
    }
    let state = CustomSession {
        pool_id: meta.id.clone(),
        client_id: client.id.clone(),
        user_key,
        username: user
            .as_ref()
            .map_or_else(|| username.to_owned(), |u| u.username.clone()),
        results: Vec::new(),
        private: Value::Null,
        metadata: Value::Null,
    };
    round(app, meta, client, state, user.as_ref()).await
}

/// RespondToAuthChallenge / AdminRespondToAuthChallenge with `CUSTOM_CHALLENGE`.
pub async fn respond(
    app: &AppState,
    meta: &PoolMeta,
    client: &Client,
    session: Option<&str>,
    r: &AuthParams,
) -> Result<Value> {
    let expired =
        || CognitoError::NotAuthorized("Invalid session for the user, session is expired.".into());
    let session = session
        .filter(|s| !s.is_empty())
        .ok_or_else(|| CognitoError::missing("Session"))?;
    let username = required(r, "USERNAME")?;
    let answer = required(r, "ANSWER")?;
    let Some(Session::Custom(mut state)) = app.sessions.peek(session) else {
        return Err(expired());
    };
    if state.pool_id != meta.id || state.client_id != client.id {
        return Err(expired());
    }
    password::check_secret_hash(
        client,
        r.get("SECRET_HASH").map(String::as_str),
        &[username, &state.username],
    )?;
    let [_, _, verify_arn] = arns(meta)?;
    if app.sessions.take(session).is_none() {
        return Err(expired());
    }
    let user = load(app, &state)?;
    if let Some(u) = &user {
        check_user_state(u)?;
    }
    let request = json!({
        "userAttributes": attributes(user.as_ref()),
        "privateChallengeParameters": state.private,
        "challengeAnswer": answer,
        "clientMetadata": event::client_metadata_or_empty(),
        "userNotFound": user.is_none(),
    });
    let ev = event::envelope(
        meta,
        "VerifyAuthChallengeResponse_Authentication",
        Some(&state.username),
        &client.id,
        request,
        json!({"answerCorrect": null}),
    );
    let out = invoke(app, Trigger::VerifyAuthChallengeResponse, &verify_arn, &ev).await?;
    let correct = flag(super::response(&out), "answerCorrect")?;
    state.results.push(json!({
        "challengeName": "CUSTOM_CHALLENGE",
        "challengeResult": correct,
        "challengeMetadata": state.metadata,
    }));
    round(app, meta, client, state, user.as_ref()).await
}

/// The user a session names, re-read (it may have changed or gone since the last round).
fn load(app: &AppState, state: &CustomSession) -> Result<Option<User>> {
    let Some(key) = &state.user_key else {
        return Ok(None);
    };
    let store = app.store.read();
    store
        .pool(&state.pool_id)?
        .users
        .get(key)
        .cloned()
        .map(Some)
        .ok_or_else(CognitoError::bad_credentials)
}

/// One DefineAuthChallenge decision, then tokens, a refusal, or the next challenge.
async fn round(
    app: &AppState,
    meta: &PoolMeta,
    client: &Client,
    mut state: CustomSession,
    user: Option<&User>,
) -> Result<Value> {
    let [define_arn, create_arn, _] = arns(meta)?;
    if state.results.len() >= MAX_ROUNDS {
        return Err(CognitoError::NotAuthorized(
            "Incorrect username or password.".into(),
        ));
    }
    let request = json!({
        "userAttributes": attributes(user),
        "session": state.results,
        "clientMetadata": event::client_metadata_or_empty(),
        "userNotFound": user.is_none(),
    });
    let ev = event::envelope(
        meta,
        "DefineAuthChallenge_Authentication",
        Some(&state.username),
        &client.id,
        request,
        json!({"challengeName": null, "issueTokens": null, "failAuthentication": null}),
    );
    let out = invoke(app, Trigger::DefineAuthChallenge, &define_arn, &ev).await?;
    let response = super::response(&out);
    let fail = flag(response, "failAuthentication")?;
    let issue = flag(response, "issueTokens")?;
    if fail || (issue && user.is_none()) {
        return Err(CognitoError::NotAuthorized(
            "Incorrect username or password.".into(),
        ));
    }
    if let (true, Some(u)) = (issue, user) {
        let result = crate::auth::new_sign_in(app, meta, client, u).await?;
        return Ok(json!({"AuthenticationResult": result, "ChallengeParameters": {}}));
    }
    let name = match response.get("challengeName") {
        Some(Value::String(s)) => s.clone(),
        _ => {
            return Err(CognitoError::InvalidLambdaResponse(
                "Unrecognizable lambda output".into(),
            ));
        }
    };
    if name != "CUSTOM_CHALLENGE" {
        return Err(CognitoError::InvalidParameter(format!(
            "DefineAuthChallenge chose {name}; fake-cognito runs only CUSTOM_CHALLENGE in CUSTOM_AUTH"
        )));
    }
    let request = json!({
        "userAttributes": attributes(user),
        "challengeName": name,
        "session": state.results,
        "clientMetadata": event::client_metadata_or_empty(),
        "userNotFound": user.is_none(),
    });
    let ev = event::envelope(
        meta,
        "CreateAuthChallenge_Authentication",
        Some(&state.username),
        &client.id,
        request,
        json!({"publicChallengeParameters": null, "privateChallengeParameters": null,
               "challengeMetadata": null}),
    );
    let out = invoke(app, Trigger::CreateAuthChallenge, &create_arn, &ev).await?;
    let response = super::response(&out);
    let public = string_object(response.get("publicChallengeParameters"))?;
    state.private = Value::Object(string_object(response.get("privateChallengeParameters"))?);
    state.metadata = match response.get("challengeMetadata") {
        None | Some(Value::Null) => Value::Null,
        Some(v @ Value::String(_)) => v.clone(),
        Some(_) => {
            return Err(CognitoError::InvalidLambdaResponse(
                "Unrecognizable lambda output".into(),
            ));
        }
    };
    let mut parameters = public;
    parameters
        .entry("USERNAME")
        .or_insert_with(|| json!(state.username));
    let id = new_session_id()?;
    let ttl = Duration::from_secs(client.auth_session_validity.max(1) as u64 * 60);
    app.sessions.insert(id.clone(), ttl, Session::Custom(state));
    Ok(json!({
        "ChallengeName": name,
        "Session": id,
        "ChallengeParameters": parameters,
    }))
}

/// A `{"k": "v"}` map of strings (challenge parameters); null is empty.
fn string_object(v: Option<&Value>) -> Result<Map<String, Value>> {
    match v {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(o)) if o.values().all(Value::is_string) => Ok(o.clone()),
        Some(_) => Err(CognitoError::InvalidLambdaResponse(
            "Unrecognizable lambda output".into(),
        )),
    }
}
