//! The function table: which local process answers for which function name, and how long it
//! may take. Built from `--lambda name=url[,timeout_s]` flags or a JSON file (phase 2 generates it
//! from `hippodrome.toml`'s `[[lambdas]]`), then asked to resolve any AWS `FunctionName` form.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::LambdaError;
use crate::name::FunctionRef;

/// AWS's default function timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);
/// AWS's longest function timeout (15 minutes).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(900);
/// moto's (and the AWS docs') account and region.
pub const DEFAULT_ACCOUNT: &str = "123456789012";
pub const DEFAULT_REGION: &str = "us-east-1";

/// One function: the process that runs it.
#[derive(Debug, Clone, PartialEq)]
pub struct LambdaTarget {
    /// The function name callers and state machines use.
    pub name: String,
    /// Base URL of a process speaking the RIE's invoke path.
    pub url: String,
    /// The function's timeout; the invocation is cut off after it, as AWS does.
    pub timeout: Duration,
    /// The `[[services]]` entry that runs the process, for error messages.
    pub service: Option<String>,
}

/// The JSON form of one entry (`timeout_s` as in `hippodrome.toml`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    pub name: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

/// The file: a bare array of entries, or `{"lambdas": [...]}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum TableFile {
    Bare(Vec<TargetSpec>),
    Wrapped { lambdas: Vec<TargetSpec> },
}

impl LambdaTarget {
    pub fn new(name: &str, url: &str, timeout: Duration) -> Result<LambdaTarget, LambdaError> {
        TargetSpec {
            name: name.to_owned(),
            url: url.to_owned(),
            timeout_s: Some(timeout.as_secs_f64()),
            service: None,
        }
        .try_into()
    }

    /// What to call this function in an error: `admin_lambda (service admin_lambda) at URL`.
    pub fn describe(&self) -> String {
        match &self.service {
            Some(s) => format!("function {} (service {s}) at {}", self.name, self.url),
            None => format!("function {} at {}", self.name, self.url),
        }
    }

    pub fn spec(&self) -> TargetSpec {
        TargetSpec {
            name: self.name.clone(),
            url: self.url.clone(),
            timeout_s: Some(self.timeout.as_secs_f64()),
            service: self.service.clone(),
        }
    }
}

impl TryFrom<TargetSpec> for LambdaTarget {
    type Error = LambdaError;

    fn try_from(spec: TargetSpec) -> Result<Self, LambdaError> {
        let parsed = FunctionRef::parse(&spec.name)
            .map_err(|e| LambdaError::Table(format!("name {:?}: {e}", spec.name)))?;
        if parsed.name != spec.name {
            return Err(LambdaError::Table(format!(
                "name {:?}: give the bare function name, not an ARN or a qualified name",
                spec.name
            )));
        }
        let url = reqwest::Url::parse(&spec.url).map_err(|e| {
            LambdaError::Table(format!("{}: bad URL {:?}: {e}", spec.name, spec.url))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(LambdaError::Table(format!(
                "{}: URL {:?} must be http:// or https://",
                spec.name, spec.url
            )));
        }
        let timeout = match spec.timeout_s {
            None => DEFAULT_TIMEOUT,
            Some(s) if s.is_finite() && s > 0.0 && s <= MAX_TIMEOUT.as_secs_f64() => {
                Duration::from_secs_f64(s)
            }
            Some(s) => {
                return Err(LambdaError::Table(format!(
                    "{}: timeout_s {s} must be above 0 and at most 900 (AWS's limit)",
                    spec.name
                )));
            }
        };
        Ok(LambdaTarget {
            name: spec.name,
            url: spec.url.trim_end_matches('/').to_owned(),
            timeout,
            service: spec.service,
        })
    }
}

/// `name=url[,timeout_s]`, the `--lambda` flag.
impl FromStr for LambdaTarget {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let usage = || format!("expected NAME=URL[,TIMEOUT_S], got {s:?}");
        let (name, rest) = s.split_once('=').ok_or_else(usage)?;
        let (url, timeout_s) = match rest.rsplit_once(',') {
            Some((url, t)) => {
                let t: f64 = t.trim().parse().map_err(|_| usage())?;
                (url, Some(t))
            }
            None => (rest, None),
        };
        TargetSpec {
            name: name.trim().to_owned(),
            url: url.trim().to_owned(),
            timeout_s,
            service: None,
        }
        .try_into()
        .map_err(|e: LambdaError| e.to_string())
    }
}

/// A resolved invocation target.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub target: Arc<LambdaTarget>,
    /// The qualifier from the name or `?Qualifier=` (they must agree).
    pub qualifier: Option<String>,
}

impl Resolved {
    /// What `X-Amz-Executed-Version` says: a numeric qualifier is a version; anything else (no
    /// qualifier, `$LATEST`, an alias) runs the one local process, which is `$LATEST`.
    pub fn executed_version(&self) -> &str {
        match self.qualifier.as_deref() {
            Some(q) if !q.is_empty() && q.bytes().all(|b| b.is_ascii_digit()) => q,
            _ => "$LATEST",
        }
    }
}

/// Function name → target. Immutable once built; cheap to share behind an `Arc`.
#[derive(Debug, Clone)]
pub struct FunctionTable {
    by_name: HashMap<String, Arc<LambdaTarget>>,
    region: String,
    account: String,
}

impl FunctionTable {
    /// A table over `targets`; duplicate names are an error. ARNs use `region` and `account`.
    pub fn new(
        targets: Vec<LambdaTarget>,
        region: &str,
        account: &str,
    ) -> Result<FunctionTable, LambdaError> {
        let mut by_name = HashMap::with_capacity(targets.len());
        for t in targets {
            let name = t.name.clone();
            if by_name.insert(name.clone(), Arc::new(t)).is_some() {
                return Err(LambdaError::Table(format!(
                    "function {name:?} is declared twice"
                )));
            }
        }
        Ok(FunctionTable {
            by_name,
            region: region.to_owned(),
            account: account.to_owned(),
        })
    }

    /// Read a JSON table file (a bare array or `{"lambdas": [...]}`).
    pub fn read_specs(path: &Path) -> Result<Vec<LambdaTarget>, LambdaError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| LambdaError::Table(format!("cannot read {}: {e}", path.display())))?;
        let file: TableFile = serde_json::from_str(&text).map_err(|e| {
            LambdaError::Table(format!(
                "{}: expected [{{\"name\", \"url\", \"timeout_s\"?, \"service\"?}}, ...] or \
                 {{\"lambdas\": [...]}}: {e}",
                path.display()
            ))
        })?;
        let specs = match file {
            TableFile::Bare(v) | TableFile::Wrapped { lambdas: v } => v,
        };
        specs.into_iter().map(LambdaTarget::try_from).collect()
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    pub fn get(&self, name: &str) -> Option<&Arc<LambdaTarget>> {
        self.by_name.get(name)
    }

    /// Every target, sorted by name.
    pub fn targets(&self) -> Vec<Arc<LambdaTarget>> {
        let mut v: Vec<_> = self.by_name.values().cloned().collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`.
    pub fn arn(&self, name: &str, qualifier: Option<&str>) -> String {
        let mut arn = format!(
            "arn:aws:lambda:{}:{}:function:{name}",
            self.region, self.account
        );
        if let Some(q) = qualifier {
            arn.push(':');
            arn.push_str(q);
        }
        arn
    }

    /// Resolve any `FunctionName` form plus the optional `?Qualifier=` parameter. The region and
    /// account of an ARN are not checked: moto's own account and region vary with how a team
    /// configures it, and a name is unique in one stack anyway.
    pub fn resolve(
        &self,
        function_name: &str,
        qualifier_param: Option<&str>,
    ) -> Result<Resolved, LambdaError> {
        let parsed = FunctionRef::parse(function_name)?;
        let qualifier_param = qualifier_param.filter(|q| !q.is_empty());
        if let Some(q) = qualifier_param {
            let ok = q.len() <= 128
                && q.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"$_-".contains(&b));
            if !ok {
                return Err(LambdaError::Validation(format!(
                    "1 validation error detected: Value '{q}' at 'qualifier' failed to satisfy \
                     constraint: Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)"
                )));
            }
        }
        let qualifier = match (parsed.qualifier, qualifier_param) {
            (Some(a), Some(b)) if a != b => {
                return Err(LambdaError::InvalidParameter(
                    "The derived qualifier from the function name does not match the specified \
                     qualifier."
                        .into(),
                ));
            }
            (Some(a), _) => Some(a),
            (None, b) => b.map(str::to_owned),
        };
        match self.by_name.get(&parsed.name) {
            Some(target) => Ok(Resolved {
                target: target.clone(),
                qualifier,
            }),
            None => Err(LambdaError::NotFound {
                arn: self.arn(&parsed.name, qualifier.as_deref()),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> FunctionTable {
        let t = |s: &str| s.parse::<LambdaTarget>().unwrap();
        FunctionTable::new(
            vec![
                t("admin_lambda=http://127.0.0.1:9301,30"),
                t("echo=http://127.0.0.1:1/"),
            ],
            DEFAULT_REGION,
            DEFAULT_ACCOUNT,
        )
        .unwrap()
    }

    #[test]
    fn flag_form_and_defaults() {
        let t: LambdaTarget = "f=http://h:1/,2.5".parse().unwrap();
        assert_eq!(t.url, "http://h:1");
        assert_eq!(t.timeout, Duration::from_millis(2500));
        let d: LambdaTarget = "f=http://h:1".parse().unwrap();
        assert_eq!(d.timeout, DEFAULT_TIMEOUT);
        for bad in [
            "f",
            "f=ftp://x",
            "=http://x",
            "f=http://x,abc",
            "f=http://x,0",
            "a:b=http://x",
            "f=http://x,901",
        ] {
            assert!(bad.parse::<LambdaTarget>().is_err(), "{bad}");
        }
    }

    #[test]
    fn resolves_every_form_and_says_what_aws_says() {
        let t = table();
        for name in [
            "admin_lambda",
            "admin_lambda:$LATEST",
            "123456789012:function:admin_lambda",
            "arn:aws:lambda:us-east-1:123456789012:function:admin_lambda",
        ] {
            assert_eq!(
                t.resolve(name, None).unwrap().target.name,
                "admin_lambda",
                "{name}"
            );
        }
        let r = t.resolve("admin_lambda", Some("7")).unwrap();
        assert_eq!(r.executed_version(), "7");
        assert_eq!(
            t.resolve("admin_lambda:live", None)
                .unwrap()
                .executed_version(),
            "$LATEST"
        );
        let e = t.resolve("nope", None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope"
        );
        assert_eq!(
            (e.aws_code(), e.http_status()),
            ("ResourceNotFoundException", 404)
        );
        let e = t.resolve("admin_lambda:1", Some("2")).unwrap_err();
        assert_eq!(e.aws_code(), "InvalidParameterValueException");
        assert!(t.resolve("admin_lambda:1", Some("1")).is_ok());
        let bad = t.resolve("admin_lambda", Some("a b")).unwrap_err();
        assert_eq!(bad.aws_code(), "ValidationException");
    }

    #[test]
    fn duplicate_names_and_files() {
        let t: LambdaTarget = "f=http://h:1".parse().unwrap();
        assert!(FunctionTable::new(vec![t.clone(), t], "r", "a").is_err());
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.json");
        std::fs::write(
            &p,
            r#"{"lambdas":[{"name":"a","url":"http://h:1","timeout_s":30,"service":"svc"}]}"#,
        )
        .unwrap();
        let v = FunctionTable::read_specs(&p).unwrap();
        assert_eq!(v[0].timeout, Duration::from_secs(30));
        assert_eq!(v[0].describe(), "function a (service svc) at http://h:1");
        std::fs::write(&p, r#"[{"name":"a","url":"http://h:1"}]"#).unwrap();
        assert_eq!(
            FunctionTable::read_specs(&p).unwrap()[0].timeout,
            DEFAULT_TIMEOUT
        );
        std::fs::write(&p, r#"[{"name":"a","uri":"http://h:1"}]"#).unwrap();
        assert!(FunctionTable::read_specs(&p).is_err());
    }
}
