//! The `ListUsers` filter language: `attribute op "value"`, one condition, `=` (exact) or `^=`
//! (prefix). An empty filter selects every user.

use crate::error::CognitoError;
use crate::model::User;

pub const FILTERABLE: &[&str] = &[
    "username",
    "email",
    "phone_number",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
    "cognito:user_status",
    "status",
    "sub",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Equals,
    Prefix,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub attribute: String,
    pub op: Op,
    pub value: String,
}

fn invalid() -> CognitoError {
    CognitoError::InvalidParameter("Error while parsing filter.".into())
}

/// Parse a filter; `Ok(None)` for an empty one.
pub fn parse(input: &str) -> Result<Option<Filter>, CognitoError> {
    let s = input.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let name_end = s
        .find(|c: char| c.is_whitespace() || c == '=' || c == '^')
        .ok_or_else(invalid)?;
    let attribute = &s[..name_end];
    let rest = s[name_end..].trim_start();
    let (op, rest) = if let Some(r) = rest.strip_prefix("^=") {
        (Op::Prefix, r)
    } else if let Some(r) = rest.strip_prefix('=') {
        (Op::Equals, r)
    } else {
        return Err(invalid());
    };
    let rest = rest.trim_start();
    let body = rest.strip_prefix('"').ok_or_else(invalid)?;
    let mut value = String::new();
    let mut chars = body.chars();
    let mut closed = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => value.push(chars.next().ok_or_else(invalid)?),
            '"' => {
                closed = true;
                break;
            }
            c => value.push(c),
        }
    }
    if !closed || !chars.as_str().trim().is_empty() {
        return Err(invalid());
    }
    if attribute.is_empty() {
        return Err(invalid());
    }
    if !FILTERABLE.contains(&attribute) {
        return Err(CognitoError::InvalidParameter(format!(
            "Invalid search attribute: {attribute}"
        )));
    }
    Ok(Some(Filter {
        attribute: attribute.to_owned(),
        op,
        value,
    }))
}

impl Filter {
    pub fn matches(&self, user: &User) -> bool {
        let (candidate, fold) = match self.attribute.as_str() {
            "username" => (Some(user.username.clone()), true),
            "cognito:user_status" => (Some(user.status.clone()), true),
            "status" => (
                Some(if user.enabled { "Enabled" } else { "Disabled" }.to_owned()),
                true,
            ),
            "sub" => (Some(user.sub.clone()), false),
            a => (user.attributes.get(a).cloned(), a == "email"),
        };
        let Some(c) = candidate else { return false };
        let (c, v) = if fold {
            (c.to_lowercase(), self.value.to_lowercase())
        } else {
            (c, self.value.clone())
        };
        match self.op {
            Op::Equals => c == v,
            Op::Prefix => c.starts_with(&v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        let f = parse(r#"email ^= "alice""#).unwrap().unwrap();
        assert_eq!(f.attribute, "email");
        assert_eq!(f.op, Op::Prefix);
        assert_eq!(f.value, "alice");
        let f = parse(r#"cognito:user_status="CONFIRMED""#)
            .unwrap()
            .unwrap();
        assert_eq!(f.op, Op::Equals);
        assert!(parse("").unwrap().is_none());
        assert!(parse(r#"email = alice"#).is_err());
        assert!(parse(r#"custom:x = "1""#).is_err());
        assert!(parse(r#"email = "a" extra"#).is_err());
    }
}
