//! AWS's `FunctionName` rules for Invoke, from botocore's Lambda model (`NamespacedFunctionName`,
//! max 256): a name (`my-function`), a name with a qualifier (`my-function:v1`), a partial ARN
//! (`123456789012:function:my-function`) or a full ARN
//! (`arn:aws:lambda:us-west-2:123456789012:function:my-function[:QUALIFIER]`).

use std::sync::LazyLock;

use regex_lite::Regex;

use crate::error::LambdaError;

/// botocore's `NamespacedFunctionName` pattern, as AWS quotes it in validation errors.
pub const AWS_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:|(((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?))(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?";

/// The same pattern, anchored (AWS matches the whole value), with named groups.
const ANCHORED: &str = concat!(
    r"^(?:arn:(?:aws[a-zA-Z-]*)?:lambda:(?P<arn_region>(?:eusc-)?[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):(?P<arn_account>\d{12}):",
    r"|(?:(?P<region>(?:eusc-)?[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):)?(?:(?P<account>\d{12}):)?)",
    r"(?:function:)?(?P<name>[a-zA-Z0-9_.\-]+)",
    r"(?::(?P<qualifier>\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9_\-]+))?$",
);

static PATTERN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(ANCHORED).expect("the FunctionName pattern compiles"));

/// Longest value AWS accepts (a full ARN with a qualifier).
pub const MAX_LEN: usize = 256;
/// Longest function name AWS accepts.
pub const MAX_NAME_LEN: usize = 64;

/// A parsed `FunctionName`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRef {
    pub name: String,
    pub qualifier: Option<String>,
    /// From a full or partial ARN, when given.
    pub region: Option<String>,
    pub account: Option<String>,
}

impl FunctionRef {
    /// Parse `value` as AWS does; a mismatch is AWS's `ValidationException` text.
    pub fn parse(value: &str) -> Result<FunctionRef, LambdaError> {
        if value.is_empty() || value.len() > MAX_LEN {
            return Err(LambdaError::Validation(format!(
                "1 validation error detected: Value '{value}' at 'functionName' failed to satisfy \
                 constraint: Member must have length {}",
                if value.is_empty() {
                    "greater than or equal to 1".to_owned()
                } else {
                    format!("less than or equal to {MAX_LEN}")
                }
            )));
        }
        let caps = PATTERN.captures(value).ok_or_else(|| {
            LambdaError::Validation(format!(
                "1 validation error detected: Value '{value}' at 'functionName' failed to satisfy \
                 constraint: Member must satisfy regular expression pattern: {AWS_PATTERN}"
            ))
        })?;
        let group = |n: &str| caps.name(n).map(|m| m.as_str().to_owned());
        let name = group("name").unwrap_or_default();
        if name.len() > MAX_NAME_LEN {
            return Err(LambdaError::Validation(format!(
                "1 validation error detected: Value '{name}' at 'functionName' failed to satisfy \
                 constraint: Member must have length less than or equal to {MAX_NAME_LEN}"
            )));
        }
        Ok(FunctionRef {
            name,
            qualifier: group("qualifier"),
            region: group("arn_region").or_else(|| group("region")),
            account: group("arn_account").or_else(|| group("account")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> FunctionRef {
        FunctionRef::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn every_documented_form() {
        let plain = parse("my-function");
        assert_eq!(
            (plain.name.as_str(), plain.qualifier),
            ("my-function", None)
        );
        let q = parse("my-function:v1");
        assert_eq!(q.name, "my-function");
        assert_eq!(q.qualifier.as_deref(), Some("v1"));
        let partial = parse("123456789012:function:my-function");
        assert_eq!(partial.name, "my-function");
        assert_eq!(partial.account.as_deref(), Some("123456789012"));
        let arn = parse("arn:aws:lambda:us-west-2:123456789012:function:my-function:$LATEST");
        assert_eq!(arn.name, "my-function");
        assert_eq!(arn.qualifier.as_deref(), Some("$LATEST"));
        assert_eq!(arn.region.as_deref(), Some("us-west-2"));
        assert_eq!(arn.account.as_deref(), Some("123456789012"));
        let gov = parse("arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f:7");
        assert_eq!(
            (gov.name.as_str(), gov.qualifier.as_deref()),
            ("f", Some("7"))
        );
        assert_eq!(
            parse("us-east-1:123456789012:function:f").region.as_deref(),
            Some("us-east-1")
        );
        // A name that looks like a region is still a name.
        assert_eq!(parse("us-east-1").name, "us-east-1");
        assert_eq!(parse("admin_lambda.v2").name, "admin_lambda.v2");
        assert_eq!(
            parse("f:$LATEST.PUBLISHED").qualifier.as_deref(),
            Some("$LATEST.PUBLISHED")
        );
    }

    #[test]
    fn what_aws_rejects() {
        for bad in [
            "",
            "has space",
            "f:a:b",
            "arn:aws:lambda:us-east-1:12345:function:f",
            "arn:aws:s3:us-east-1:123456789012:function:f",
            "f/../g",
            "f:$NOPE",
        ] {
            let e = FunctionRef::parse(bad).expect_err(bad);
            assert_eq!(e.aws_code(), "ValidationException", "{bad}");
        }
        let long = "a".repeat(65);
        assert!(
            FunctionRef::parse(&long)
                .unwrap_err()
                .to_string()
                .contains("64")
        );
        assert!(
            FunctionRef::parse(&"a".repeat(300))
                .unwrap_err()
                .to_string()
                .contains("256")
        );
    }
}
