//! User attributes against the pool: which names the schema knows (standard, or `custom:` ones
//! the pool declares), alias collisions, and how an update changes the `*_verified` flags. The
//! messages are Cognito's own wording.

use std::collections::BTreeMap;

use crate::error::{CognitoError, Result};
use crate::model::{Pool, PoolMeta, User};
use crate::pools::is_standard;

/// Whether the pool's schema has an attribute of this name.
pub fn known_attribute(meta: &PoolMeta, name: &str) -> bool {
    is_standard(name) || meta.custom_attribute_names().contains(name)
}

fn sub_is_immutable() -> CognitoError {
    CognitoError::InvalidParameter("Cannot modify the non-mutable attribute sub".into())
}

/// Validate attribute names being written (custom ones need `custom:` and must exist).
pub fn check_attributes(meta: &PoolMeta, attrs: &[(String, String)]) -> Result<()> {
    for (name, _) in attrs {
        if name == "sub" {
            return Err(sub_is_immutable());
        }
        if !known_attribute(meta, name) {
            return Err(CognitoError::InvalidParameter(format!(
                "Attributes did not conform to the schema: {name}: Attribute does not exist in the schema.\n"
            )));
        }
    }
    Ok(())
}

/// Validate attribute names being deleted: every unknown name is listed, and a required
/// attribute cannot go.
pub fn check_deletable(meta: &PoolMeta, names: &[String]) -> Result<()> {
    if names.iter().any(|n| n == "sub") {
        return Err(sub_is_immutable());
    }
    let unknown: Vec<String> = names
        .iter()
        .filter(|n| !known_attribute(meta, n))
        .map(|n| format!("user.{n}: Attribute does not exist in the schema.\n"))
        .collect();
    if !unknown.is_empty() {
        return Err(CognitoError::InvalidParameter(format!(
            "Invalid user attributes: {}",
            unknown.concat()
        )));
    }
    let required = meta.required_attributes();
    if let Some(n) = names.iter().find(|n| required.contains(n)) {
        return Err(CognitoError::InvalidParameter(format!(
            "Attributes did not conform to the schema: {n}: The attribute is required\n"
        )));
    }
    Ok(())
}

/// The pool's sign-in attributes (`UsernameAttributes` or `AliasAttributes`).
fn alias_attributes(pool: &Pool) -> impl Iterator<Item = &str> {
    pool.meta
        .username_attributes
        .iter()
        .chain(pool.meta.alias_attributes.iter())
        .map(String::as_str)
}

fn same_alias(attribute: &str, a: &str, b: &str) -> bool {
    // Email aliases match case-insensitively, as sign-in by email does.
    a == b || (attribute == "email" && a.eq_ignore_ascii_case(b))
}

/// The first sign-in attribute in `attrs` another user (not `except`) already has.
fn alias_owner<'a>(
    pool: &'a Pool,
    attrs: &BTreeMap<String, String>,
    except: Option<&str>,
) -> Option<&'a str> {
    alias_attributes(pool).find(|a| {
        attrs.get(*a).is_some_and(|v| {
            pool.users.iter().any(|(k, u)| {
                Some(k.as_str()) != except
                    && u.attributes.get(*a).is_some_and(|o| same_alias(a, o, v))
            })
        })
    })
}

/// Whether a new user's sign-in attributes are taken.
pub fn alias_taken(pool: &Pool, attrs: &BTreeMap<String, String>) -> bool {
    alias_owner(pool, attrs, None).is_some()
}

/// Changing an alias to one another user has: `AliasExistsException`.
pub fn check_alias_change(pool: &Pool, key: &str, attrs: &[(String, String)]) -> Result<()> {
    let map: BTreeMap<String, String> = attrs.iter().cloned().collect();
    match alias_owner(pool, &map, Some(key)) {
        Some(a) => Err(CognitoError::AliasExists(format!(
            "An account with the given {a} already exists."
        ))),
        None => Ok(()),
    }
}

/// Write attributes; a changed email or phone number is unverified unless the same call says
/// otherwise.
pub fn apply_attributes(user: &mut User, attrs: &[(String, String)]) {
    let sets_verified = attrs.iter().any(|(n, _)| n == "email_verified");
    let sets_phone_verified = attrs.iter().any(|(n, _)| n == "phone_number_verified");
    for (name, value) in attrs {
        let changed = user.attributes.get(name) != Some(value);
        if name == "email" && changed && !sets_verified {
            user.attributes
                .insert("email_verified".into(), "false".into());
        }
        if name == "phone_number" && changed && !sets_phone_verified {
            user.attributes
                .insert("phone_number_verified".into(), "false".into());
        }
        user.attributes.insert(name.clone(), value.clone());
    }
}
