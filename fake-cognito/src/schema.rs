//! A pool's attribute schema: the standard attributes with the defaults Cognito describes them
//! with, and `CreateUserPool`'s `Schema` validated and normalised as Cognito does it (data-type
//! enum, custom attributes typed and never required, standard attributes keeping their type,
//! developer-only attributes named `dev:custom:…`, constraints checked and kept only when they
//! match the type). Messages are Cognito's wording.

use serde_json::{Map, Value, json};

use crate::error::{CognitoError, Result};

/// Standard attributes every pool has, with their data types.
pub const STANDARD_ATTRIBUTES: &[(&str, &str)] = &[
    ("sub", "String"),
    ("name", "String"),
    ("given_name", "String"),
    ("family_name", "String"),
    ("middle_name", "String"),
    ("nickname", "String"),
    ("preferred_username", "String"),
    ("profile", "String"),
    ("picture", "String"),
    ("website", "String"),
    ("email", "String"),
    ("email_verified", "Boolean"),
    ("gender", "String"),
    ("birthdate", "String"),
    ("zoneinfo", "String"),
    ("locale", "String"),
    ("phone_number", "String"),
    ("phone_number_verified", "Boolean"),
    ("address", "String"),
    ("updated_at", "Number"),
    ("identities", "String"),
];

const DATA_TYPES: &[&str] = &["Boolean", "Number", "String", "DateTime"];

/// Longest string attribute Cognito allows.
const MAX_STRING: u64 = 2048;

pub fn is_standard(name: &str) -> bool {
    STANDARD_ATTRIBUTES.iter().any(|(n, _)| *n == name)
}

fn standard_type(name: &str) -> Option<&'static str> {
    STANDARD_ATTRIBUTES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
}

/// The constraints a standard attribute is described with when the pool does not override them.
fn standard_constraints(name: &str, data_type: &str) -> Option<(&'static str, Value)> {
    match (name, data_type) {
        ("sub", _) => Some((
            "StringAttributeConstraints",
            json!({"MinLength": "1", "MaxLength": "2048"}),
        )),
        ("birthdate", _) => Some((
            "StringAttributeConstraints",
            json!({"MinLength": "10", "MaxLength": "10"}),
        )),
        (_, "String") => Some((
            "StringAttributeConstraints",
            json!({"MinLength": "0", "MaxLength": "2048"}),
        )),
        (_, "Number") => Some(("NumberAttributeConstraints", json!({"MinValue": "0"}))),
        _ => None,
    }
}

/// A standard attribute as `DescribeUserPool` shows it by default.
pub fn standard_json(name: &str, data_type: &str) -> Value {
    let mut a = json!({
        "Name": name,
        "AttributeDataType": data_type,
        "DeveloperOnlyAttribute": false,
        "Mutable": name != "sub",
        "Required": name == "sub",
    });
    if let Some((key, c)) = standard_constraints(name, data_type) {
        a[key] = c;
    }
    a
}

fn invalid(msg: String) -> CognitoError {
    CognitoError::InvalidParameter(msg)
}

/// A non-negative whole number written as a string, as the constraint members are.
fn limit(c: &Map<String, Value>, key: &str, kind: &str, name: &str) -> Result<Option<u64>> {
    match c.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_str()
            .and_then(|s| s.parse::<u64>().ok())
            .map(Some)
            .ok_or_else(|| invalid(format!("Invalid {kind} for schema attribute {name}"))),
    }
}

/// The constraints member matching `data_type`, checked; others are dropped as Cognito does.
fn constraints(
    a: &Map<String, Value>,
    data_type: &str,
    name: &str,
) -> Result<Option<(String, Value)>> {
    let (key, lo, hi) = match data_type {
        "String" => ("StringAttributeConstraints", "MinLength", "MaxLength"),
        "Number" => ("NumberAttributeConstraints", "MinValue", "MaxValue"),
        _ => return Ok(None),
    };
    let Some(c) = a.get(key).and_then(Value::as_object) else {
        return Ok(None);
    };
    let min = limit(c, lo, key, name)?;
    let max = limit(c, hi, key, name)?;
    if data_type == "String" && (min > Some(MAX_STRING) || max > Some(MAX_STRING)) {
        return Err(invalid(format!(
            "user.{name}: String attributes cannot have a length of more than 2048"
        )));
    }
    if let (Some(min), Some(max)) = (min, max)
        && min > max
    {
        let what = if data_type == "String" {
            "Max length cannot be less than min length."
        } else {
            "Max value cannot be less than min value."
        };
        return Err(invalid(format!("user.{name}: {what}")));
    }
    let mut kept = Map::new();
    for k in [lo, hi] {
        if let Some(v) = c.get(k).filter(|v| !v.is_null()) {
            kept.insert(k.to_owned(), v.clone());
        }
    }
    Ok(Some((key.to_owned(), Value::Object(kept))))
}

fn flag(a: &Map<String, Value>, key: &str, default: bool) -> bool {
    a.get(key).and_then(Value::as_bool).unwrap_or(default)
}

/// One `Schema` entry (1-based `index` for messages, `field` the list's member name in them) →
/// the attribute as the pool keeps it. `only_custom`: `AddCustomAttributes` names are always
/// custom, even `email` (it becomes `custom:email`).
fn attribute(
    field: &str,
    index: usize,
    a: &Map<String, Value>,
    only_custom: bool,
) -> Result<Value> {
    let name = a
        .get("Name")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("Schema attribute requires a Name".into()))?;
    let given_type = a.get("AttributeDataType").and_then(Value::as_str);
    if let Some(t) = given_type.filter(|t| !DATA_TYPES.contains(t)) {
        return Err(invalid(format!(
            "1 validation error detected: Value '{t}' at '{field}.{index}.member.attributeDataType' failed to satisfy constraint: Member must satisfy enum value set: [Boolean, Number, String, DateTime]"
        )));
    }
    let dev_only = flag(a, "DeveloperOnlyAttribute", false);
    let mut out = Map::new();
    let standard = if only_custom {
        None
    } else {
        standard_type(name)
    };
    let data_type = if let Some(std_type) = standard {
        if dev_only || given_type.is_some_and(|t| t != std_type) {
            return Err(invalid(format!(
                "You can not change AttributeDataType or set developerOnlyAttribute for standard schema attribute {name}"
            )));
        }
        out.insert("Name".into(), json!(name));
        out.insert("Mutable".into(), json!(flag(a, "Mutable", name != "sub")));
        out.insert("Required".into(), json!(flag(a, "Required", name == "sub")));
        std_type
    } else {
        let t = given_type.ok_or_else(|| {
            invalid(
                "Invalid AttributeDataType input, consider using the provided AttributeDataType enum."
                    .into(),
            )
        })?;
        if flag(a, "Required", false) {
            return Err(invalid(
                "Required custom attributes are not supported currently.".into(),
            ));
        }
        let bare = name.strip_prefix("custom:").unwrap_or(name);
        let full = if dev_only {
            format!("dev:custom:{bare}")
        } else {
            format!("custom:{bare}")
        };
        out.insert("Name".into(), json!(full));
        out.insert("Mutable".into(), json!(flag(a, "Mutable", true)));
        out.insert("Required".into(), json!(false));
        t
    };
    out.insert("AttributeDataType".into(), json!(data_type));
    out.insert("DeveloperOnlyAttribute".into(), json!(dev_only));
    let shown = out["Name"].as_str().unwrap_or(name).to_owned();
    match constraints(a, data_type, &shown)? {
        Some((key, c)) => {
            out.insert(key, c);
        }
        None if standard.is_some() => {
            if let Some((key, c)) = standard_constraints(name, data_type) {
                out.insert(key.into(), c);
            }
        }
        // A custom string without constraints is described with an empty object.
        None if data_type == "String" => {
            out.insert("StringAttributeConstraints".into(), json!({}));
        }
        None => {}
    }
    Ok(Value::Object(out))
}

/// `CreateUserPool`'s `Schema`, validated and normalised.
pub fn from_request(list: Option<&Value>) -> Result<Vec<Value>> {
    entries(list, "schema", false)
}

/// `AddCustomAttributes`' `CustomAttributes`, validated as `Schema` is but always custom.
pub fn custom_from_request(list: Option<&Value>) -> Result<Vec<Value>> {
    entries(list, "customAttributes", true)
}

fn entries(list: Option<&Value>, field: &str, only_custom: bool) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    for (i, a) in list
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let a = a
            .as_object()
            .ok_or_else(|| CognitoError::Serialization("Schema entries must be objects".into()))?;
        out.push(attribute(field, i + 1, a, only_custom)?);
    }
    Ok(out)
}
