//! PreAuthentication and PostAuthentication (`*_Authentication`): the first runs once a sign-in
//! names a known, enabled user and before the password is checked (a failure refuses the
//! sign-in); the second after every step succeeded and before tokens are issued.

use serde_json::json;

use super::{Trigger, event, run};
use crate::app::App;
use crate::error::Result;
use crate::model::{Client, PoolMeta, User};

/// PreAuthentication: `validationData` is the sign-in's `ClientMetadata`, as AWS passes it.
pub async fn pre_authentication(
    app: &App,
    meta: &PoolMeta,
    client: &Client,
    user: &User,
) -> Result<()> {
    if super::config::arn(meta, Trigger::PreAuthentication).is_none() {
        return Ok(());
    }
    let request = json!({
        "userAttributes": event::user_attributes(user),
        "validationData": event::client_metadata_or_empty(),
        "userNotFound": false,
    });
    let ev = event::envelope(
        meta,
        "PreAuthentication_Authentication",
        Some(&user.username),
        &client.id,
        request,
        json!({}),
    );
    run(app, meta, Trigger::PreAuthentication, &ev).await?;
    Ok(())
}

/// PostAuthentication, just before a sign-in's tokens are minted.
pub async fn post_authentication(
    app: &App,
    meta: &PoolMeta,
    client: &Client,
    user: &User,
) -> Result<()> {
    if super::config::arn(meta, Trigger::PostAuthentication).is_none() {
        return Ok(());
    }
    let request = json!({
        "userAttributes": event::user_attributes(user),
        "newDeviceUsed": false,
        "clientMetadata": event::client_metadata_or_empty(),
    });
    let ev = event::envelope(
        meta,
        "PostAuthentication_Authentication",
        Some(&user.username),
        &client.id,
        request,
        json!({}),
    );
    run(app, meta, Trigger::PostAuthentication, &ev).await?;
    Ok(())
}
