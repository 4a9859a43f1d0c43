//! Checks that look beyond this machine: a real cell (`--cell staging|prod`) and the real-AWS
//! credentials that `--enable-events` uses (services themselves always get moto's dummy ones).

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use service_kit::error::error_chain;

use super::{Check, Inputs};
use crate::config::Cell;

/// `--cell staging|prod`: configured, reachable, and (prod) a loud warning.
pub async fn cell(i: &Inputs) -> Vec<Check> {
    if i.cell == Cell::Local {
        return vec![Check::ok(
            "cell",
            format!("cell local: fake_cell at {}", i.ctx.cell_url),
        )];
    }
    let name = i.cell.as_str();
    let Some(section) = i.config().cells.get(name) else {
        return vec![Check::fail(
            "cell",
            format!("--cell {name} has no URL: hippodrome.toml has no [cells.{name}]"),
            format!(
                "add [cells.{name}] url = \"https://…\" to hippodrome.toml (see fixtures/hippodrome.example.toml)"
            ),
        )];
    };
    let mut out = Vec::new();
    if i.cell == Cell::Prod {
        out.push(Check::warn(
            "cell",
            format!("--cell prod points every service at the PRODUCTION cell {}", section.url),
            "use --cell staging or local unless you really mean production (`up` asks to type 'prod')",
        ));
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .connect_timeout(Duration::from_secs(3))
        .build()
        .unwrap_or_default();
    match client.get(&section.url).send().await {
        Ok(res) => out.push(Check::ok(
            "cell",
            format!(
                "cell {name} at {} is reachable (HTTP {})",
                section.url,
                res.status().as_u16()
            ),
        )),
        Err(e) => out.push(Check::fail(
            "cell",
            format!(
                "cell {name} at {} is unreachable: {}",
                section.url,
                error_chain(&e)
            ),
            "check the VPN / network and the URL in [cells.".to_owned()
                + name
                + "] of hippodrome.toml, or use --cell local",
        )),
    }
    out
}

/// What AWS the services and `--enable-events` really talk to. `--cell staging|prod` changes only
/// the Marqo cell: every service still gets moto's URL and the dummy `testing` credentials, so
/// real credentials are checked only for `--enable-events` (EventBridge in your account).
pub fn aws_credentials(i: &Inputs) -> Vec<Check> {
    let mut out = Vec::new();
    if i.cell != Cell::Local {
        out.push(services_aws(i));
    }
    if !i.enable_events {
        return out;
    }
    if let Ok(url) = std::env::var("HIPPODROME_EVENTS_ENDPOINT_URL")
        && !url.is_empty()
    {
        out.push(Check::ok(
            "aws",
            format!(
                "--enable-events talks to HIPPODROME_EVENTS_ENDPOINT_URL={url}, not to real AWS: no real credentials needed"
            ),
        ));
        return out;
    }
    let mut c = aws_check(i.home.as_deref(), now_unix());
    c.message = format!(
        "--enable-events (EventBridge in your AWS account): {}",
        c.message
    );
    out.push(c);
    out
}

/// The AWS endpoint and credentials the services get with a real cell.
fn services_aws(i: &Inputs) -> Check {
    let moto = if i.planned().any(|s| s.name == "moto") {
        format!("local moto at {}", i.ctx.moto_url)
    } else {
        format!(
            "{} (moto is not in profile {})",
            i.ctx.moto_url,
            i.profile.as_str()
        )
    };
    let own: Vec<&str> = i
        .planned()
        .filter(|s| {
            s.env
                .get("AWS_ENDPOINT_URL")
                .is_some_and(|u| *u != i.ctx.moto_url)
                || s.env
                    .get("AWS_ACCESS_KEY_ID")
                    .is_some_and(|k| k != "testing")
        })
        .map(|s| s.name.as_str())
        .collect();
    let except = if own.is_empty() {
        String::new()
    } else {
        format!(
            " (except {}, whose `env` in hippodrome.toml sets its own AWS_*)",
            own.join(", ")
        )
    };
    let events = if i.enable_events {
        "only --enable-events uses real AWS credentials (checked next)"
    } else {
        "no real AWS credentials are used, so none are checked (only --enable-events needs them)"
    };
    Check::ok(
        "aws",
        format!(
            "--cell {} changes only the Marqo cell: services still talk to {moto} with the dummy AWS credentials `testing`{except}; {events}",
            i.cell.as_str()
        ),
    )
}

fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

pub fn aws_check(home: Option<&Path>, now: i64) -> Check {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if env("AWS_ACCESS_KEY_ID").is_some() && env("AWS_SECRET_ACCESS_KEY").is_some() {
        if env("AWS_ACCESS_KEY_ID").as_deref() == Some("testing") {
            return Check::fail(
                "aws",
                "AWS_ACCESS_KEY_ID is the dummy `testing` (the local stack's value), not a real credential",
                "unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN, then `aws sso login` or `aws configure`",
            );
        }
        if let Some(exp) =
            env("AWS_CREDENTIAL_EXPIRATION").or_else(|| env("AWS_SESSION_EXPIRATION"))
            && let Some(t) = parse_time(&exp)
            && t <= now
        {
            return Check::fail(
                "aws",
                format!("AWS credentials from the environment expired at {exp}"),
                "get fresh credentials (`aws sso login`, or re-export them)",
            );
        }
        return Check::ok(
            "aws",
            "AWS credentials from the environment (AWS_ACCESS_KEY_ID)",
        );
    }
    let Some(home) = home else {
        return Check::fail(
            "aws",
            "no AWS credentials: no AWS_* variables and no HOME to find ~/.aws in",
            "export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or set HOME and `aws sso login`",
        );
    };
    let profile = env("AWS_PROFILE").unwrap_or_else(|| "default".into());
    let aws = home.join(".aws");
    let creds = std::fs::read_to_string(aws.join("credentials")).unwrap_or_default();
    if ini_section(&creds, &profile).is_some_and(|s| s.contains_key("aws_access_key_id")) {
        return Check::ok(
            "aws",
            format!(
                "AWS credentials for profile {profile} in {}",
                aws.join("credentials").display()
            ),
        );
    }
    // SSO: the tokens cached by `aws sso login`.
    let mut newest: Option<(i64, String)> = None;
    if let Ok(entries) = std::fs::read_dir(aws.join("sso").join("cache")) {
        for e in entries.flatten() {
            let Ok(text) = std::fs::read_to_string(e.path()) else {
                continue;
            };
            let Ok(v) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            if v.get("accessToken").is_none() {
                continue;
            }
            if let Some(exp) = v["expiresAt"].as_str()
                && let Some(t) = parse_time(exp)
                && newest.as_ref().is_none_or(|(n, _)| t > *n)
            {
                newest = Some((t, exp.to_owned()));
            }
        }
    }
    match newest {
        Some((t, exp)) if t > now => Check::ok("aws", format!("AWS SSO token valid until {exp}")),
        Some((_, exp)) => Check::fail(
            "aws",
            format!("the AWS SSO token expired at {exp}"),
            format!("aws sso login --profile {profile}"),
        ),
        None => {
            let config = std::fs::read_to_string(aws.join("config")).unwrap_or_default();
            if config.contains("sso_") {
                Check::fail(
                    "aws",
                    format!(
                        "AWS SSO is configured in {} but there is no SSO token",
                        aws.join("config").display()
                    ),
                    format!("aws sso login --profile {profile}"),
                )
            } else {
                Check::fail(
                    "aws",
                    "no AWS credentials (no AWS_* variables, no ~/.aws/credentials entry, no SSO token)",
                    "aws configure, or aws sso login",
                )
            }
        }
    }
}

/// Keys of `[name]` (or `[profile name]`) in an INI file.
fn ini_section(text: &str, name: &str) -> Option<std::collections::BTreeMap<String, String>> {
    let mut current: Option<String> = None;
    let mut found = None;
    for line in text.lines().map(str::trim) {
        if let Some(h) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let h = h.trim();
            current = Some(h.strip_prefix("profile ").unwrap_or(h).trim().to_owned());
            if current.as_deref() == Some(name) {
                found.get_or_insert_with(std::collections::BTreeMap::new);
            }
            continue;
        }
        if current.as_deref() == Some(name)
            && let Some((k, v)) = line.split_once('=')
            && let Some(map) = found.as_mut()
        {
            map.insert(k.trim().to_owned(), v.trim().to_owned());
        }
    }
    found
}

/// RFC 3339 (`2024-05-01T12:00:00Z`), also the older CLI form `2019-11-14T04:05:45UTC`.
fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    let fixed = s
        .strip_suffix("UTC")
        .map(|x| format!("{x}Z"))
        .unwrap_or_else(|| s.to_owned());
    time::OffsetDateTime::parse(&fixed, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sso_token_expiry_is_read() {
        let home = tempfile::tempdir().unwrap();
        let cache = home.path().join(".aws/sso/cache");
        std::fs::create_dir_all(&cache).unwrap();
        std::fs::write(
            cache.join("a.json"),
            r#"{"accessToken":"x","expiresAt":"2020-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        // Only meaningful when the environment carries no credentials of its own.
        if std::env::var_os("AWS_ACCESS_KEY_ID").is_some()
            || std::env::var_os("AWS_PROFILE").is_some()
        {
            return;
        }
        let now = parse_time("2024-01-01T00:00:00Z").unwrap();
        let c = aws_check(Some(home.path()), now);
        assert_eq!(c.status, super::super::Level::Fail, "{c:?}");
        assert!(c.fix.as_deref().unwrap().contains("aws sso login"));
        std::fs::write(
            cache.join("b.json"),
            r#"{"accessToken":"y","expiresAt":"2030-01-01T00:00:00UTC"}"#,
        )
        .unwrap();
        assert_eq!(
            aws_check(Some(home.path()), now).status,
            super::super::Level::Ok
        );
    }

    #[test]
    fn ini_profiles_are_found() {
        let t = "[default]\naws_access_key_id = A\n[profile dev]\nregion = x\n";
        assert!(
            ini_section(t, "default")
                .unwrap()
                .contains_key("aws_access_key_id")
        );
        assert!(ini_section(t, "dev").unwrap().contains_key("region"));
        assert!(ini_section(t, "nope").is_none());
    }
}
