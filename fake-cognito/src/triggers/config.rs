//! A pool's `LambdaConfig`: checked member by member as botocore's `LambdaConfigType` describes it
//! (ARN length and pattern, the versioned sender and token-generation configs), normalised the way
//! Cognito echoes it, and read back when a trigger is about to run.

use serde_json::{Map, Value, json};

use crate::error::{CognitoError, Result};
use crate::model::PoolMeta;
use crate::triggers::Trigger;

/// The plain-ARN members (`ArnType`).
const ARN_MEMBERS: &[&str] = &[
    "PreSignUp",
    "CustomMessage",
    "PostConfirmation",
    "PreAuthentication",
    "PostAuthentication",
    "DefineAuthChallenge",
    "CreateAuthChallenge",
    "VerifyAuthChallengeResponse",
    "PreTokenGeneration",
    "UserMigration",
    "KMSKeyID",
];

/// The versioned members: `{LambdaVersion, LambdaArn}` and the versions each allows.
const VERSIONED: &[(&str, &[&str])] = &[
    ("PreTokenGenerationConfig", &["V1_0", "V2_0", "V3_0"]),
    ("CustomSMSSender", &["V1_0"]),
    ("CustomEmailSender", &["V1_0"]),
    ("InboundFederation", &["V1_0"]),
];

const ARN_PATTERN: &str = "arn:[\\w+=/,.@-]+:[\\w+=/,.@-]+:([\\w+=/,.@-]*)?:[0-9]+:[\\w+=/,.@-]+(:[\\w+=/,.@-]+)?(:[\\w+=/,.@-]+)?";

fn camel(name: &str) -> String {
    if name == "KMSKeyID" {
        return "kMSKeyID".into();
    }
    let mut c = name.chars();
    c.next()
        .map(|f| f.to_lowercase().chain(c).collect())
        .unwrap_or_default()
}

fn invalid(value: &str, at: &str, constraint: &str) -> CognitoError {
    CognitoError::InvalidParameter(format!(
        "1 validation error detected: Value '{value}' at '{at}' failed to satisfy constraint: {constraint}"
    ))
}

fn arn_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"_+=/,.@-".contains(&b)
}

/// `ArnType`'s pattern, by hand: `arn:P:S:[R]:ACCOUNT:RESOURCE[:X[:Y]]`.
fn arn_matches(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    if !(6..=8).contains(&parts.len()) || parts[0] != "arn" {
        return false;
    }
    let word = |p: &str| !p.is_empty() && p.bytes().all(arn_char);
    word(parts[1])
        && word(parts[2])
        && parts[3].bytes().all(arn_char)
        && !parts[4].is_empty()
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5..].iter().all(|p| word(p))
}

fn check_arn(value: &Value, at: &str) -> Result<String> {
    let s = value
        .as_str()
        .ok_or_else(|| CognitoError::Serialization(format!("Expected a string for {at}")))?;
    let len = s.chars().count();
    if len < 20 {
        return Err(invalid(
            s,
            at,
            "Member must have length greater than or equal to 20",
        ));
    }
    if len > 2048 {
        return Err(invalid(
            s,
            at,
            "Member must have length less than or equal to 2048",
        ));
    }
    if !arn_matches(s) {
        return Err(invalid(
            s,
            at,
            &format!("Member must satisfy regular expression pattern: {ARN_PATTERN}"),
        ));
    }
    Ok(s.to_owned())
}

fn check_versioned(value: &Value, member: &str, versions: &[&str]) -> Result<Value> {
    let at = format!("lambdaConfig.{}", camel(member));
    let obj = value
        .as_object()
        .ok_or_else(|| CognitoError::Serialization(format!("Expected an object for {member}")))?;
    let version = match obj.get("LambdaVersion") {
        None | Some(Value::Null) => {
            return Err(CognitoError::InvalidParameter(format!(
                "1 validation error detected: Value null at '{at}.lambdaVersion' failed to satisfy constraint: Member must not be null"
            )));
        }
        Some(v) => v.as_str().ok_or_else(|| {
            CognitoError::Serialization(format!("Expected a string for {member}.LambdaVersion"))
        })?,
    };
    if !versions.contains(&version) {
        return Err(invalid(
            version,
            &format!("{at}.lambdaVersion"),
            &format!(
                "Member must satisfy enum value set: [{}]",
                versions.join(", ")
            ),
        ));
    }
    let arn = match obj.get("LambdaArn") {
        None | Some(Value::Null) => {
            return Err(CognitoError::InvalidParameter(format!(
                "1 validation error detected: Value null at '{at}.lambdaArn' failed to satisfy constraint: Member must not be null"
            )));
        }
        Some(v) => check_arn(v, &format!("{at}.lambdaArn"))?,
    };
    Ok(json!({"LambdaVersion": version, "LambdaArn": arn}))
}

/// Check a request's `LambdaConfig` and return it as Cognito stores and echoes it: the known
/// members only, `PreTokenGeneration` and `PreTokenGenerationConfig.LambdaArn` kept in step.
pub fn validate(value: Option<&Value>) -> Result<Value> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(json!({}));
    };
    let obj = value
        .as_object()
        .ok_or_else(|| CognitoError::Serialization("Expected an object for LambdaConfig".into()))?;
    let mut out = Map::new();
    for member in ARN_MEMBERS {
        if let Some(v) = obj.get(*member).filter(|v| !v.is_null()) {
            let arn = check_arn(v, &format!("lambdaConfig.{}", camel(member)))?;
            out.insert((*member).to_owned(), Value::from(arn));
        }
    }
    for (member, versions) in VERSIONED {
        if let Some(v) = obj.get(*member).filter(|v| !v.is_null()) {
            out.insert((*member).to_owned(), check_versioned(v, member, versions)?);
        }
    }
    let senders = out.contains_key("CustomSMSSender") || out.contains_key("CustomEmailSender");
    if senders && !out.contains_key("KMSKeyID") {
        return Err(CognitoError::InvalidParameter(
            "KMSKeyID must be provided when a custom sender Lambda trigger is configured.".into(),
        ));
    }
    let config_arn = out
        .get("PreTokenGenerationConfig")
        .and_then(|c| c.get("LambdaArn"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    match (
        out.get("PreTokenGeneration").and_then(Value::as_str),
        config_arn,
    ) {
        (Some(a), Some(b)) if a != b => {
            return Err(CognitoError::InvalidParameter(
                "The PreTokenGeneration Lambda ARN and PreTokenGenerationConfig.LambdaArn must be the same."
                    .into(),
            ));
        }
        (None, Some(b)) => {
            out.insert("PreTokenGeneration".into(), Value::from(b));
        }
        (Some(a), None) => {
            let a = a.to_owned();
            out.insert(
                "PreTokenGenerationConfig".into(),
                json!({"LambdaVersion": "V1_0", "LambdaArn": a}),
            );
        }
        _ => {}
    }
    Ok(Value::Object(out))
}

/// The ARN configured for `trigger` in this pool, if any.
pub fn arn(meta: &PoolMeta, trigger: Trigger) -> Option<String> {
    let config = meta.extra.get("LambdaConfig")?;
    config
        .get(trigger.config_key())
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// The pre token generation event version configured (`V1_0` unless set).
pub fn token_version(meta: &PoolMeta) -> &str {
    meta.extra
        .get("LambdaConfig")
        .and_then(|c| c.get("PreTokenGenerationConfig"))
        .and_then(|c| c.get("LambdaVersion"))
        .and_then(Value::as_str)
        .unwrap_or("V1_0")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:pre";

    #[test]
    fn arns_follow_botocores_pattern() {
        assert!(arn_matches(ARN));
        assert!(arn_matches(
            "arn:aws:lambda:us-east-1:123456789012:function:pre:live"
        ));
        assert!(arn_matches("arn:aws:kms::123456789012:key/abc"));
        assert!(!arn_matches("arn:aws:lambda:us-east-1:acct:function:pre"));
        assert!(!arn_matches("not-an-arn-at-all-but-long"));
        let e = validate(Some(&json!({"PreSignUp": "short"}))).unwrap_err();
        assert!(e.to_string().contains("'lambdaConfig.preSignUp'"), "{e}");
        assert!(e.to_string().contains("greater than or equal to 20"), "{e}");
    }

    #[test]
    fn token_config_is_kept_in_step() {
        let v = validate(Some(&json!({"PreTokenGeneration": ARN}))).unwrap();
        assert_eq!(v["PreTokenGenerationConfig"]["LambdaVersion"], "V1_0");
        let v = validate(Some(
            &json!({"PreTokenGenerationConfig": {"LambdaVersion": "V2_0", "LambdaArn": ARN}}),
        ))
        .unwrap();
        assert_eq!(v["PreTokenGeneration"], ARN);
        let e = validate(Some(
            &json!({"PreTokenGenerationConfig": {"LambdaVersion": "V9", "LambdaArn": ARN}}),
        ))
        .unwrap_err();
        assert!(
            e.to_string().contains("enum value set: [V1_0, V2_0, V3_0]"),
            "{e}"
        );
        let e = validate(Some(
            &json!({"CustomSMSSender": {"LambdaVersion": "V1_0", "LambdaArn": ARN}}),
        ))
        .unwrap_err();
        assert!(e.to_string().contains("KMSKeyID"), "{e}");
    }
}
