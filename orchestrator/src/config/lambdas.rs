//! `[[lambdas]]` in `hippodrome.toml`: which local process answers a Lambda function's Invoke.
//! The AWS gateway receives the table as `--lambda NAME=URL,TIMEOUT` flags (see `services.rs`).

use serde::Deserialize;

use super::hippodrome_toml::valid_name;

/// One function callers (and state machines) invoke by name.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LambdaSection {
    /// The function name, as AWS spells it (1-64 letters, digits, `-`, `_`).
    pub name: String,
    /// A process speaking the Lambda Runtime Interface Emulator's invoke path
    /// (`POST {url}/2015-03-31/functions/function/invocations`).
    pub url: Option<String>,
    /// Or a `[[services]]` entry: its port and that path.
    pub service: Option<String>,
    /// Seconds before the invocation fails with AWS's "Task timed out" (AWS's default: 3).
    #[serde(default = "default_timeout")]
    pub timeout_s: u64,
    /// SQS queues (names or ARNs) whose messages the gateway delivers to this function, as an
    /// event source mapping would.
    #[serde(default)]
    pub sqs: Vec<String>,
}

fn default_timeout() -> u64 {
    3
}

/// The first problem of the section, as (text to find for the line number, message).
pub fn validate(lambdas: &[LambdaSection], services: &[String]) -> Result<(), (String, String)> {
    let mut seen = std::collections::BTreeSet::new();
    for l in lambdas {
        let at = format!("\"{}\"", l.name);
        let problem = if l.name.len() > 64 || !valid_name(&l.name) {
            Some(format!(
                "{:?} is not a Lambda function name (1-64 letters, digits, '-' or '_')",
                l.name
            ))
        } else if !seen.insert(l.name.as_str()) {
            Some(format!("{:?} is declared twice", l.name))
        } else if l.url.is_some() == l.service.is_some() {
            Some(format!("{:?} needs exactly one of url or service", l.name))
        } else if let Some(url) = &l.url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            Some(format!("url {url:?} of {:?} is not an http(s) URL", l.name))
        } else if let Some(s) = &l.service
            && !services.iter().any(|n| n == s)
        {
            Some(format!(
                "service {s:?} of {:?} is not a [[services]] entry",
                l.name
            ))
        } else if l.timeout_s == 0 || l.timeout_s > 900 {
            Some(format!(
                "timeout_s {} of {:?} is outside 1-900 (AWS's limits)",
                l.timeout_s, l.name
            ))
        } else {
            None
        };
        if let Some(p) = problem {
            return Err((at, format!("lambdas: {p}")));
        }
    }
    Ok(())
}

/// A queue given by name or ARN, as an ARN in moto's account and the stack's region.
pub fn queue_arn(queue: &str, region: &str) -> String {
    if queue.starts_with("arn:") {
        queue.to_owned()
    } else {
        format!("arn:aws:sqs:{region}:123456789012:{queue}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(name: &str, url: Option<&str>, service: Option<&str>) -> LambdaSection {
        LambdaSection {
            name: name.into(),
            url: url.map(Into::into),
            service: service.map(Into::into),
            timeout_s: 3,
            sqs: Vec::new(),
        }
    }

    #[test]
    fn each_bad_declaration_names_its_problem() {
        let services = vec!["admin_lambda".to_owned()];
        let cases = [
            (section("bad name", Some("http://x"), None), "not a Lambda"),
            (section("f", None, None), "exactly one"),
            (
                section("f", Some("http://x"), Some("admin_lambda")),
                "exactly one",
            ),
            (section("f", Some("ftp://x"), None), "not an http"),
            (section("f", None, Some("nope")), "not a [[services]]"),
        ];
        for (l, want) in cases {
            let err = validate(&[l], &services).expect_err(want);
            assert!(err.1.contains(want), "{err:?}");
        }
        let mut slow = section("f", Some("http://x"), None);
        slow.timeout_s = 901;
        assert!(validate(&[slow], &services).is_err());
        let twice = [
            section("f", Some("http://x"), None),
            section("f", None, Some("admin_lambda")),
        ];
        assert!(validate(&twice, &services).unwrap_err().1.contains("twice"));
        assert!(validate(&[section("f", None, Some("admin_lambda"))], &services).is_ok());
    }

    #[test]
    fn queues_by_name_become_arns() {
        assert_eq!(
            queue_arn("jobs", "us-east-1"),
            "arn:aws:sqs:us-east-1:123456789012:jobs"
        );
        assert_eq!(
            queue_arn("arn:aws:sqs:x:1:q", "us-east-1"),
            "arn:aws:sqs:x:1:q"
        );
    }
}
