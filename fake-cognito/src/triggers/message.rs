//! CustomMessage (`CustomMessage_SignUp`, `_ResendCode`, `_ForgotPassword`,
//! `_AdminCreateUser`): the function gets the placeholders `{####}` (and `{username}` for an
//! invitation) and returns the subject and bodies; with the real code and username filled in
//! they are stored with the code, which `/_fake/codes` shows (no mail or SMS is sent).

use serde_json::{Value, json};

use super::{Trigger, config, event, run};
use crate::app::App;
use crate::error::{CognitoError, Result};
use crate::model::{PoolMeta, User};

pub const CODE_PARAMETER: &str = "{####}";
pub const USERNAME_PARAMETER: &str = "{username}";
const LINK_PARAMETER: &str = "{##Click Here##}";

/// The texts a CustomMessage function returned (each may be absent: the default text stays).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CustomText {
    pub email_subject: Option<String>,
    pub email_message: Option<String>,
    pub sms_message: Option<String>,
}

impl CustomText {
    /// The message as delivered: placeholders replaced by the code and the username.
    pub fn render(&self, code: &str, username: &str) -> Value {
        let fill = |s: &Option<String>| {
            s.as_ref().map(|t| {
                t.replace(CODE_PARAMETER, code)
                    .replace(USERNAME_PARAMETER, username)
            })
        };
        json!({
            "emailSubject": fill(&self.email_subject),
            "emailMessage": fill(&self.email_message),
            "smsMessage": fill(&self.sms_message),
        })
    }
}

fn text(response: &Value, name: &str) -> Result<Option<String>> {
    match response.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(CognitoError::InvalidLambdaResponse(
            "Unrecognizable lambda output".into(),
        )),
    }
}

/// Run CustomMessage for `user` (as it will be once the code is sent); `None` when the pool has
/// no such trigger.
pub async fn custom_message(
    app: &App,
    meta: &PoolMeta,
    source: &str,
    client_id: &str,
    user: &User,
) -> Result<Option<CustomText>> {
    if config::arn(meta, Trigger::CustomMessage).is_none() {
        return Ok(None);
    }
    let invitation = source == "CustomMessage_AdminCreateUser";
    let request = json!({
        "userAttributes": event::user_attributes(user),
        "codeParameter": CODE_PARAMETER,
        "linkParameter": LINK_PARAMETER,
        "usernameParameter": if invitation { Some(USERNAME_PARAMETER) } else { None },
        "clientMetadata": event::client_metadata_or_empty(),
    });
    let ev = event::envelope(
        meta,
        source,
        Some(&user.username),
        client_id,
        request,
        json!({"smsMessage": null, "emailMessage": null, "emailSubject": null}),
    );
    let Some(answer) = run(app, meta, Trigger::CustomMessage, &ev).await? else {
        return Ok(None);
    };
    let response = super::response(&answer);
    Ok(Some(CustomText {
        email_subject: text(response, "emailSubject")?,
        email_message: text(response, "emailMessage")?,
        sms_message: text(response, "smsMessage")?,
    }))
}

/// Store the rendered message with the user's newest code of `kind`.
pub fn attach(user: &mut User, kind: &str, text: Option<&CustomText>) {
    let Some(text) = text else { return };
    let username = user.username.clone();
    if let Some(c) = user.codes.iter_mut().rev().find(|c| c.kind == kind) {
        c.message = Some(text.render(&c.code, &username));
    }
}

/// A CustomMessage for the code the user `username` names is about to get (`None` without the
/// trigger or the user: the call itself reports a missing user).
pub async fn for_user(
    app: &App,
    pool_id: &str,
    username: &str,
    source: &str,
    client_id: &str,
) -> Result<Option<CustomText>> {
    let (meta, user) = {
        let store = app.store.read();
        let pool = store.pool(pool_id)?;
        match pool.user(username) {
            Ok(u) => (pool.meta.clone(), u.clone()),
            Err(_) => return Ok(None),
        }
    };
    custom_message(app, &meta, source, client_id, &user).await
}
