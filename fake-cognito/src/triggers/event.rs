//! The parts every trigger event shares: `version`, `triggerSource`, `region`, `userPoolId`,
//! `userName`, `callerContext {awsSdkVersion, clientId}`, and a user's attributes as triggers see
//! them (with `sub` and `cognito:user_status`). The SDK version comes from the calling request's
//! `User-Agent`, carried to the trigger through a task-local set by the API's front door.

use std::future::Future;

use serde_json::{Map, Value, json};

use crate::model::{PoolMeta, User};

/// `callerContext.clientId` for admin operations that name no client.
pub const NO_CLIENT: &str = "CLIENT_ID_NOT_APPLICABLE";

/// What the API call that runs a trigger tells it: the SDK version and its `ClientMetadata`.
#[derive(Clone, Default)]
struct Caller {
    sdk_version: String,
    client_metadata: Option<Value>,
}

tokio::task_local! {
    static CALLER: Caller;
}

/// Run `f` (one API call) with the calling SDK's version (from `User-Agent`) and the request's
/// `ClientMetadata` (read from `body` only when it names it) visible to the triggers it runs.
pub async fn with_caller<F: Future>(user_agent: Option<&str>, body: &[u8], f: F) -> F::Output {
    let client_metadata = body
        .windows(b"ClientMetadata".len())
        .any(|w| w == b"ClientMetadata")
        .then(|| serde_json::from_slice::<Value>(body).ok())
        .flatten()
        .and_then(|v| v.get("ClientMetadata").cloned())
        .filter(Value::is_object);
    let caller = Caller {
        sdk_version: sdk_version(user_agent),
        client_metadata,
    };
    CALLER.scope(caller, f).await
}

/// The calling request's `ClientMetadata`, if it sent one.
pub fn client_metadata() -> Option<Value> {
    CALLER
        .try_with(|c| c.client_metadata.clone())
        .ok()
        .flatten()
}

/// `clientMetadata` for an event: the request's map, or `{}`.
pub fn client_metadata_or_empty() -> Value {
    client_metadata().unwrap_or_else(|| json!({}))
}

/// What Cognito puts in `awsSdkVersion`: `aws-sdk-<lang>-<version>` for the SDKs that name
/// themselves that way (`aws-sdk-js/3.x`, `aws-sdk-rust/1.x`, `aws-sdk-java/2.x`…), and
/// `aws-sdk-unknown-unknown` for the rest (boto3, curl).
pub fn sdk_version(user_agent: Option<&str>) -> String {
    user_agent
        .unwrap_or_default()
        .split_whitespace()
        .find_map(|token| {
            let (product, version) = token.split_once('/')?;
            let lang = product.strip_prefix("aws-sdk-")?;
            let version = version.split('#').next().unwrap_or(version);
            (!lang.is_empty() && !version.is_empty()).then(|| format!("aws-sdk-{lang}-{version}"))
        })
        .unwrap_or_else(|| "aws-sdk-unknown-unknown".to_owned())
}

fn caller_sdk() -> String {
    CALLER
        .try_with(|c| c.sdk_version.clone())
        .unwrap_or_else(|_| "aws-sdk-unknown-unknown".to_owned())
}

/// The common envelope of a version-1 event.
pub fn envelope(
    meta: &PoolMeta,
    trigger_source: &str,
    user_name: Option<&str>,
    client_id: &str,
    request: Value,
    response: Value,
) -> Value {
    versioned(
        meta,
        "1",
        trigger_source,
        user_name,
        client_id,
        request,
        response,
    )
}

/// The common envelope with an explicit `version` (pre token generation V2_0 sends "2").
pub fn versioned(
    meta: &PoolMeta,
    version: &str,
    trigger_source: &str,
    user_name: Option<&str>,
    client_id: &str,
    request: Value,
    response: Value,
) -> Value {
    let mut e = Map::new();
    e.insert("version".into(), json!(version));
    e.insert("triggerSource".into(), json!(trigger_source));
    e.insert("region".into(), json!(meta.region));
    e.insert("userPoolId".into(), json!(meta.id));
    if let Some(u) = user_name {
        e.insert("userName".into(), json!(u));
    }
    e.insert(
        "callerContext".into(),
        json!({"awsSdkVersion": caller_sdk(), "clientId": client_id}),
    );
    e.insert("request".into(), request);
    e.insert("response".into(), response);
    Value::Object(e)
}

/// An existing user's attributes as a trigger sees them: every attribute, `sub`, and
/// `cognito:user_status`.
pub fn user_attributes(user: &User) -> Value {
    let mut m: Map<String, Value> = user
        .attributes
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    m.insert("sub".into(), json!(user.sub));
    m.insert("cognito:user_status".into(), json!(user.status));
    Value::Object(m)
}

/// `ValidationData` is a list of `{Name, Value}`; triggers get it as a map.
pub fn attribute_list_map(list: &[(String, String)]) -> Value {
    Value::Object(list.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
}

#[cfg(test)]
mod tests {
    use super::sdk_version;

    #[test]
    fn sdk_versions_as_cognito_reports_them() {
        assert_eq!(
            sdk_version(Some("aws-sdk-js/3.540.0 ua/2.0 os/linux")),
            "aws-sdk-js-3.540.0"
        );
        assert_eq!(
            sdk_version(Some("aws-sdk-rust/1.3.0 os/linux lang/rust#1.80")),
            "aws-sdk-rust-1.3.0"
        );
        assert_eq!(
            sdk_version(Some("Boto3/1.34.0 md/Botocore#1.34.0 Python/3.12")),
            "aws-sdk-unknown-unknown"
        );
        assert_eq!(sdk_version(None), "aws-sdk-unknown-unknown");
    }
}
