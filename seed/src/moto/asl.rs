//! The team's state machine files (`[[state_machines]]` in hippodrome.toml): reading one, filling
//! its `${...}` placeholders with the stack's ARNs and names, and checking that the result is a
//! States Language document. The seed creates machines from it; `doctor` runs the same check.
//!
//! Placeholders, so one file works in every stack (and reads like the team's real definitions):
//! `${lambda:NAME}` a `[[lambdas]]` function's ARN; `${table:NAME}`, `${queue:NAME}` (queue URL),
//! `${queue_arn:NAME}`, `${topic:NAME}` (topic ARN) with the stack's table prefix before NAME, as the
//! seed names its own resources; `${state_machine:NAME}` another machine's ARN; `${region}`,
//! `${account}`, `${prefix}`. Anything else in `${...}` is an error, so a typo never reaches moto.

use std::path::Path;

/// moto's default account: every ARN in a local stack lives in it.
pub const ACCOUNT: &str = "123456789012";

/// A function's unqualified ARN, as Lambda answers it.
pub fn lambda_arn(region: &str, name: &str) -> String {
    format!("arn:aws:lambda:{region}:{ACCOUNT}:function:{name}")
}

/// What placeholders resolve against.
pub struct Context<'a> {
    pub region: &'a str,
    pub table_prefix: &'a str,
    /// The `[[lambdas]]` names; `${lambda:x}` for any other name is an error.
    pub lambdas: &'a [String],
}

impl Context<'_> {
    fn resolve(&self, key: &str) -> Result<String, String> {
        let (region, prefix) = (self.region, self.table_prefix);
        let (kind, name) = match key.split_once(':') {
            Some((k, n)) if !n.is_empty() => (k, n),
            Some(_) => return Err(format!("${{{key}}} names nothing after ':'")),
            None => {
                return match key {
                    "region" => Ok(region.to_owned()),
                    "account" => Ok(ACCOUNT.to_owned()),
                    "prefix" => Ok(prefix.to_owned()),
                    _ => Err(unknown(key)),
                };
            }
        };
        Ok(match kind {
            "lambda" if self.lambdas.iter().any(|l| l == name) => lambda_arn(region, name),
            "lambda" => return Err(format!("${{{key}}}: {name:?} is not a [[lambdas]] entry")),
            "table" => format!("{prefix}{name}"),
            "queue" => format!("https://sqs.{region}.amazonaws.com/{ACCOUNT}/{prefix}{name}"),
            "queue_arn" => format!("arn:aws:sqs:{region}:{ACCOUNT}:{prefix}{name}"),
            "topic" => format!("arn:aws:sns:{region}:{ACCOUNT}:{prefix}{name}"),
            "state_machine" => format!("arn:aws:states:{region}:{ACCOUNT}:stateMachine:{name}"),
            _ => return Err(unknown(key)),
        })
    }
}

fn unknown(key: &str) -> String {
    format!(
        "${{{key}}} is not a placeholder (known: ${{lambda:NAME}}, ${{table:NAME}}, ${{queue:NAME}}, \
         ${{queue_arn:NAME}}, ${{topic:NAME}}, ${{state_machine:NAME}}, ${{region}}, ${{account}}, ${{prefix}})"
    )
}

/// Replace every `${...}` in `text`; the first unknown placeholder is the error.
pub fn substitute(text: &str, ctx: &Context<'_>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("an unclosed ${{ near {:?}", preview(&rest[start..])))?;
        out.push_str(&ctx.resolve(&after[..end])?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn preview(s: &str) -> String {
    s.chars().take(30).collect()
}

/// The definition after substitution, checked to be JSON with `StartAt` naming one of `States`.
/// Compact JSON: what the seed sends, and what it compares with moto's copy.
pub fn definition(text: &str, ctx: &Context<'_>) -> Result<String, String> {
    let filled = substitute(text, ctx)?;
    let doc: serde_json::Value =
        serde_json::from_str(&filled).map_err(|e| format!("not JSON: {e}"))?;
    let states = doc
        .get("States")
        .and_then(|s| s.as_object())
        .ok_or("no \"States\" object (not a States Language definition)")?;
    let start = doc
        .get("StartAt")
        .and_then(|s| s.as_str())
        .ok_or("no \"StartAt\" string (not a States Language definition)")?;
    if !states.contains_key(start) {
        return Err(format!("StartAt {start:?} is not one of its States"));
    }
    Ok(doc.to_string())
}

/// Read and check one file; errors name the file.
pub fn load(path: &Path, ctx: &Context<'_>) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    definition(&text, ctx).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(lambdas: &[String]) -> Context<'_> {
        Context {
            region: "eu-west-1",
            table_prefix: "e2e-",
            lambdas,
        }
    }

    #[test]
    fn placeholders_resolve_to_the_stacks_names() {
        let l = vec!["admin_lambda".to_owned()];
        let c = ctx(&l);
        let got = substitute(
            "${lambda:admin_lambda} ${table:orders} ${queue:jobs} ${queue_arn:jobs} ${topic:t} \
             ${state_machine:Flow} ${region}/${account}/${prefix}",
            &c,
        )
        .unwrap();
        assert_eq!(
            got,
            "arn:aws:lambda:eu-west-1:123456789012:function:admin_lambda e2e-orders \
             https://sqs.eu-west-1.amazonaws.com/123456789012/e2e-jobs \
             arn:aws:sqs:eu-west-1:123456789012:e2e-jobs arn:aws:sns:eu-west-1:123456789012:e2e-t \
             arn:aws:states:eu-west-1:123456789012:stateMachine:Flow eu-west-1/123456789012/e2e-"
        );
    }

    #[test]
    fn unknown_or_undeclared_placeholders_are_errors() {
        let c = ctx(&[]);
        assert!(
            substitute("${lambda:ghost}", &c)
                .unwrap_err()
                .contains("[[lambdas]]")
        );
        assert!(
            substitute("${bucket:x}", &c)
                .unwrap_err()
                .contains("not a placeholder")
        );
        assert!(
            substitute("${lambda:}", &c)
                .unwrap_err()
                .contains("names nothing")
        );
        assert!(
            substitute("abc ${region", &c)
                .unwrap_err()
                .contains("unclosed")
        );
        // JSONPath and intrinsic functions use `$.` and `States.`, never `${`: left alone.
        assert_eq!(
            substitute("{\"a.$\": \"$.x\"}", &c).unwrap(),
            "{\"a.$\": \"$.x\"}"
        );
    }

    #[test]
    fn definitions_must_be_states_language() {
        let c = ctx(&[]);
        assert!(definition("{", &c).unwrap_err().contains("not JSON"));
        assert!(
            definition("{\"StartAt\":\"A\"}", &c)
                .unwrap_err()
                .contains("States")
        );
        assert!(
            definition(
                "{\"StartAt\":\"B\",\"States\":{\"A\":{\"Type\":\"Succeed\"}}}",
                &c
            )
            .unwrap_err()
            .contains("\"B\"")
        );
        let ok = definition(
            "{\"StartAt\": \"A\",\n \"States\": {\"A\": {\"Type\": \"Succeed\"}}}",
            &c,
        )
        .unwrap();
        assert_eq!(
            ok,
            "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Succeed\"}}}"
        );
    }
}
