//! Smithy-style member constraints (length, pattern, list size) with AWS's "1 validation error
//! detected" wording, shared by the pool sub-resources (resource servers, identity providers,
//! domains) so each reports a bad member exactly as botocore's model declares it.

use serde_json::Value;

use crate::error::{CognitoError, Result};

/// `Value 'v' at 'path' failed to satisfy constraint: <what>`.
pub fn invalid(value: &str, path: &str, what: &str) -> CognitoError {
    CognitoError::InvalidParameter(format!(
        "1 validation error detected: Value '{value}' at '{path}' failed to satisfy constraint: {what}"
    ))
}

/// A string whose length (in characters, as AWS counts) lies in `min..=max`.
pub fn length(value: &str, path: &str, min: usize, max: usize) -> Result<()> {
    let n = value.chars().count();
    if n < min {
        return Err(invalid(
            value,
            path,
            &format!("Member must have length greater than or equal to {min}"),
        ));
    }
    if n > max {
        return Err(invalid(
            value,
            path,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    Ok(())
}

/// Every character satisfies `ok`; `pattern` is the model's regular expression, quoted back.
pub fn pattern(value: &str, path: &str, pattern: &str, ok: impl Fn(char) -> bool) -> Result<()> {
    if value.chars().all(ok) {
        Ok(())
    } else {
        Err(invalid(
            value,
            path,
            &format!("Member must satisfy regular expression pattern: {pattern}"),
        ))
    }
}

/// A list member (`member` as the request names it, `path` as AWS's message does) of
/// `min..=max` items.
pub fn list<'a>(
    v: &'a Value,
    member: &str,
    path: &str,
    min: usize,
    max: usize,
) -> Result<&'a [Value]> {
    let items = v
        .as_array()
        .ok_or_else(|| CognitoError::Serialization(format!("Expected a list for {member}")))?;
    let bound = if items.len() < min {
        format!("greater than or equal to {min}")
    } else if items.len() > max {
        format!("less than or equal to {max}")
    } else {
        return Ok(items);
    };
    Err(CognitoError::InvalidParameter(format!(
        "1 validation error detected: Value at '{path}' failed to satisfy constraint: Member must have length {bound}"
    )))
}

/// A required string member that must be a JSON string (non-strings are the caller's
/// serialization error, as AWS answers them).
pub fn string<'a>(v: Option<&'a Value>, path: &str) -> Result<&'a str> {
    match v {
        Some(Value::String(s)) => Ok(s),
        Some(Value::Null) | None => Err(CognitoError::InvalidParameter(format!(
            "1 validation error detected: Value null at '{path}' failed to satisfy constraint: Member must not be null"
        ))),
        Some(_) => Err(CognitoError::Serialization(format!(
            "Expected a string for {path}"
        ))),
    }
}

/// `MaxResults` of a List call: required or optional, between 1 and `max`.
pub fn max_results(v: Option<i64>, max: i64, required: bool) -> Result<usize> {
    match v {
        None if required => Err(CognitoError::InvalidParameter(
            "1 validation error detected: Value null at 'maxResults' failed to satisfy constraint: Member must not be null".into(),
        )),
        None => Ok(max as usize),
        Some(n) if (1..=max).contains(&n) => Ok(n as usize),
        Some(n) => Err(CognitoError::InvalidParameter(format!(
            "1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and {max}"
        ))),
    }
}
