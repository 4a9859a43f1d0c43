//! `AddCustomAttributes`: new `custom:` (or `dev:custom:`) attributes appended to a pool's
//! schema, validated exactly as `CreateUserPool`'s `Schema` (`schema.rs`). Cognito never removes
//! or changes a custom attribute, so this is append-only; a name already in the schema is refused
//! and a pool holds at most 50 custom attributes.

use serde_json::{Value, json};

use crate::app::AppState;
use crate::constraints;
use crate::error::{CognitoError, Result};
use crate::params::Params;
use crate::persist::Record;
use crate::schema;

/// Cognito's quota of custom attributes per user pool (not adjustable).
const MAX_CUSTOM_PER_POOL: usize = 50;
/// botocore's `CustomAttributesListType` bounds.
const MAX_PER_CALL: usize = 25;
/// botocore's `CustomAttributeNameType` maximum length.
const MAX_NAME_LEN: usize = 20;

fn name_of(a: &Value) -> &str {
    a.get("Name").and_then(Value::as_str).unwrap_or_default()
}

/// The request's list, with botocore's length checks before the schema validation.
fn requested(p: &Params) -> Result<Vec<Value>> {
    let list = p.get("CustomAttributes").ok_or_else(|| {
        CognitoError::InvalidParameter(
            "1 validation error detected: Value null at 'customAttributes' failed to satisfy constraint: Member must not be null".into(),
        )
    })?;
    let items = constraints::list(
        list,
        "CustomAttributes",
        "customAttributes",
        1,
        MAX_PER_CALL,
    )?;
    for (i, a) in items.iter().enumerate() {
        let n = a.get("Name").and_then(Value::as_str).unwrap_or_default();
        if n.chars().count() > MAX_NAME_LEN {
            return Err(CognitoError::InvalidParameter(format!(
                "1 validation error detected: Value '{n}' at 'customAttributes.{}.member.name' failed to satisfy constraint: Member must have length less than or equal to 20",
                i + 1
            )));
        }
    }
    schema::custom_from_request(Some(list))
}

pub async fn add(app: &AppState, p: &Params) -> Result<Value> {
    let id = p.str("UserPoolId")?.to_owned();
    let new = requested(p)?;
    app.commit(|store, recs| {
        let m = &mut store.pool_mut(&id)?.meta;
        let mut seen: Vec<String> = m.schema.iter().map(|a| name_of(a).to_owned()).collect();
        for a in &new {
            let full = name_of(a);
            if seen.iter().any(|n| n == full) {
                // Cognito names the attribute by its `custom:` form first, then the full name.
                let bare = full.rsplit(':').next().unwrap_or(full);
                return Err(CognitoError::InvalidParameter(format!(
                    "custom:{bare}: Existing attribute already has name {full}."
                )));
            }
            seen.push(full.to_owned());
        }
        let custom = seen.iter().filter(|n| n.contains("custom:")).count();
        if custom > MAX_CUSTOM_PER_POOL {
            return Err(CognitoError::LimitExceeded(format!(
                "A user pool can have at most {MAX_CUSTOM_PER_POOL} custom attributes."
            )));
        }
        m.schema.extend(new.iter().cloned());
        m.modified = app.clock.now_f64();
        recs.push(Record::PutPool { meta: m.clone() });
        Ok(json!({}))
    })
    .await
}
