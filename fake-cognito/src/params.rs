//! The members of one API call, read with Cognito's own validation messages.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::{CognitoError, Result};

/// Request members of one call, with Cognito-style validation errors.
pub struct Params(pub Map<String, Value>);

fn camel(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

impl Params {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// A required, non-empty string member.
    pub fn str(&self, name: &str) -> Result<&str> {
        match self.get(name) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s),
            Some(Value::String(_)) => Err(CognitoError::InvalidParameter(format!(
                "1 validation error detected: Value at '{}' failed to satisfy constraint: Member must have length greater than or equal to 1",
                camel(name)
            ))),
            Some(_) => Err(CognitoError::Serialization(format!(
                "Expected a string for {name}"
            ))),
            None => Err(CognitoError::InvalidParameter(format!(
                "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
                camel(name)
            ))),
        }
    }

    pub fn opt_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        self.get(name).and_then(Value::as_bool)
    }

    pub fn i64(&self, name: &str) -> Option<i64> {
        self.get(name)
            .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
    }

    pub fn strings(&self, name: &str) -> Vec<String> {
        self.get(name)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `[{"Name": ..., "Value": ...}]` lists.
    pub fn attributes(&self, name: &str) -> Result<Vec<(String, String)>> {
        let Some(list) = self.get(name) else {
            return Ok(Vec::new());
        };
        let list = list
            .as_array()
            .ok_or_else(|| CognitoError::Serialization(format!("Expected a list for {name}")))?;
        list.iter()
            .map(|a| {
                let n = a.get("Name").and_then(Value::as_str).ok_or_else(|| {
                    CognitoError::InvalidParameter(format!(
                        "1 validation error detected: Value null at '{}.member.name' failed to satisfy constraint: Member must not be null",
                        camel(name)
                    ))
                })?;
                let v = a.get("Value").and_then(Value::as_str).unwrap_or_default();
                Ok((n.to_owned(), v.to_owned()))
            })
            .collect()
    }

    pub fn string_map(&self, name: &str) -> BTreeMap<String, String> {
        self.get(name)
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                    .collect()
            })
            .unwrap_or_default()
    }
}
