//! `events validate`: do the buses, rules, API destinations with their connections, streams and
//! pipes a stack relies on exist? One [`Check`] per item, printed `[OK]`, `[MISSING]` or `[WARN]`;
//! a call that fails (credentials, network) is a WARN for that item, never an abort.
//!
//! Production's pipe and bus names are not known, so rules are matched by their pattern's content
//! and pipes by their source stream ARN rather than by name.

use std::collections::HashSet;
use std::fmt;
use std::future::Future;

use aws_config::SdkConfig;
use aws_sdk_eventbridge::types::{ApiDestination, Connection, ConnectionState, Rule, RuleState};
use aws_sdk_pipes::types::Pipe;
use webhook_router::config::{DEFAULT_PIPES, PipeSpec};
use webhook_router::pipe::discover::{self, Discovery, sdk_error_text};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckStatus {
    Ok,
    Missing,
    Warn,
}

impl CheckStatus {
    /// `Ok` when `good`, else `otherwise`.
    fn ok_if(good: bool, otherwise: CheckStatus) -> CheckStatus {
        if good { CheckStatus::Ok } else { otherwise }
    }
}

/// One validated item, printed as `[OK] item: detail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub item: String,
    pub status: CheckStatus,
    pub detail: String,
}

impl Check {
    fn new(item: impl Into<String>, status: CheckStatus, detail: impl Into<String>) -> Self {
        Check {
            item: item.into(),
            status,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.status {
            CheckStatus::Ok => "[OK]",
            CheckStatus::Missing => "[MISSING]",
            CheckStatus::Warn => "[WARN]",
        };
        write!(f, "{tag} {}: {}", self.item, self.detail)
    }
}

/// What [`validate_with`] looks for.
#[derive(Debug, Clone)]
pub struct ValidateSpec {
    pub table_prefix: String,
    /// Followed tables (suffix → detail name); rules are expected for `<detail name>.`.
    pub tables: Vec<PipeSpec>,
}

impl ValidateSpec {
    pub fn defaults(table_prefix: &str) -> Self {
        ValidateSpec {
            table_prefix: table_prefix.to_owned(),
            tables: DEFAULT_PIPES
                .iter()
                .filter_map(|s| s.parse().ok())
                .collect(),
        }
    }
}

/// Check the default tables' buses, rules, API destinations/connections and pipes.
pub async fn validate(sdk_config: &SdkConfig, table_prefix: &str) -> Vec<Check> {
    validate_with(sdk_config, &ValidateSpec::defaults(table_prefix)).await
}

/// Buses first (they say where to look for rules), then rules with their targets, then each
/// table's stream and the pipes reading it.
pub async fn validate_with(sdk_config: &SdkConfig, spec: &ValidateSpec) -> Vec<Check> {
    let eb = aws_sdk_eventbridge::Client::new(sdk_config);
    let pipes = aws_sdk_pipes::Client::new(sdk_config);
    let ddb = aws_sdk_dynamodb::Client::new(sdk_config);
    let (buses, mut checks) = check_buses(&eb, &spec.table_prefix).await;
    checks.extend(check_rules(&eb, spec, &buses).await);
    checks.extend(check_pipes(&ddb, &pipes, spec).await);
    checks
}

/// `default` plus any bus named with the table prefix: the buses rules are looked for on.
async fn check_buses(
    eb: &aws_sdk_eventbridge::Client,
    table_prefix: &str,
) -> (Vec<String>, Vec<Check>) {
    let mut buses = vec!["default".to_owned()];
    let names = match list_buses(eb).await {
        Ok(names) => names,
        Err(e) => {
            let warn = Check::new(
                "event buses",
                CheckStatus::Warn,
                format!("cannot list: {e}"),
            );
            return (buses, vec![warn]);
        }
    };
    let have_default = names.iter().any(|n| n == "default");
    let mut checks = vec![Check::new(
        "event bus default",
        CheckStatus::ok_if(have_default, CheckStatus::Missing),
        if have_default { "exists" } else { "not found" },
    )];
    let own: Vec<_> = names
        .into_iter()
        .filter(|n| n.starts_with(table_prefix))
        .collect();
    if own.is_empty() {
        checks.push(Check::new(
            format!("event bus {table_prefix}*"),
            CheckStatus::Warn,
            "none; rules are looked for on 'default' only",
        ));
    }
    for b in own {
        checks.push(Check::new(
            format!("event bus {b}"),
            CheckStatus::Ok,
            "exists",
        ));
        buses.push(b);
    }
    (buses, checks)
}

/// The account's API destinations and connections, listed once for every rule's targets.
struct Destinations {
    destinations: Result<Vec<ApiDestination>, String>,
    connections: Result<Vec<Connection>, String>,
}

/// A rule for each detail-type prefix, and each such rule's API-destination targets.
async fn check_rules(
    eb: &aws_sdk_eventbridge::Client,
    spec: &ValidateSpec,
    buses: &[String],
) -> Vec<Check> {
    let mut checks = Vec::new();
    let mut rules = Vec::new();
    for bus in buses {
        match list_rules(eb, bus).await {
            Ok(r) => rules.extend(r.into_iter().map(|r| (bus.clone(), r))),
            Err(e) => checks.push(Check::new(
                format!("rules on {bus}"),
                CheckStatus::Warn,
                format!("cannot list: {e}"),
            )),
        }
    }
    let known = Destinations {
        destinations: list_api_destinations(eb).await,
        connections: list_connections(eb).await,
    };
    let mut targets_checked = HashSet::new();
    for p in &spec.tables {
        let prefix = format!("{}.", p.detail_name);
        let matching: Vec<_> = rules
            .iter()
            .filter(|(_, r)| r.event_pattern().is_some_and(|pat| pat.contains(&prefix)))
            .collect();
        if matching.is_empty() {
            checks.push(Check::new(
                format!("rule for {prefix}*"),
                CheckStatus::Missing,
                format!(
                    "no rule on {} matches detail-type {prefix}*",
                    buses.join(", ")
                ),
            ));
            continue;
        }
        for (bus, rule) in matching {
            checks.push(rule_check(bus, &prefix, rule));
            // One rule often covers several prefixes: check its targets once.
            let name = rule.name().unwrap_or("?");
            if targets_checked.insert((bus.clone(), name.to_owned())) {
                checks.extend(check_rule_targets(eb, bus, name, &known).await);
            }
        }
    }
    checks
}

fn rule_check(bus: &str, prefix: &str, rule: &Rule) -> Check {
    let enabled = rule.state() == Some(&RuleState::Enabled);
    Check::new(
        format!("rule {} ({prefix}*)", rule.name().unwrap_or("?")),
        CheckStatus::ok_if(enabled, CheckStatus::Warn),
        format!(
            "on bus {bus}, state {}",
            rule.state().map(|s| s.as_str()).unwrap_or("?")
        ),
    )
}

async fn check_rule_targets(
    eb: &aws_sdk_eventbridge::Client,
    bus: &str,
    rule: &str,
    known: &Destinations,
) -> Vec<Check> {
    let listed = eb
        .list_targets_by_rule()
        .rule(rule)
        .event_bus_name(bus)
        .send()
        .await;
    let targets = match listed {
        Ok(t) => t.targets().to_vec(),
        Err(e) => {
            return vec![Check::new(
                format!("targets of {rule}"),
                CheckStatus::Warn,
                format!("cannot list: {}", sdk_error_text(&e)),
            )];
        }
    };
    let api_targets: Vec<_> = targets
        .iter()
        .filter(|t| t.arn().contains(":api-destination/"))
        .collect();
    if api_targets.is_empty() {
        return vec![Check::new(
            format!("API destination for {rule}"),
            CheckStatus::Missing,
            format!(
                "rule has {} target(s), none an API destination",
                targets.len()
            ),
        )];
    }
    api_targets
        .into_iter()
        .flat_map(|t| destination_checks(t.arn(), rule, known))
        .collect()
}

/// The API destination a target of `rule` points at, and that destination's connection.
fn destination_checks(target_arn: &str, rule: &str, known: &Destinations) -> Vec<Check> {
    let Ok(dests) = &known.destinations else {
        return vec![Check::new(
            format!("API destination {target_arn}"),
            CheckStatus::Warn,
            "cannot list API destinations",
        )];
    };
    // Rule targets may carry a trailing `/<uuid>` on the destination ARN: match on the prefix.
    let dest = dests.iter().find(|d| {
        d.api_destination_arn()
            .is_some_and(|a| target_arn.starts_with(a) || a.starts_with(target_arn))
    });
    let Some(dest) = dest else {
        return vec![Check::new(
            format!("API destination {target_arn}"),
            CheckStatus::Missing,
            format!("target of {rule} points at a destination that does not exist"),
        )];
    };
    let dname = dest.name().unwrap_or("?");
    let found = Check::new(
        format!("API destination {dname}"),
        CheckStatus::Ok,
        format!(
            "{} {}",
            dest.http_method().map(|m| m.as_str()).unwrap_or("?"),
            dest.invocation_endpoint().unwrap_or("?")
        ),
    );
    let conn_arn = dest.connection_arn().unwrap_or_default();
    vec![found, connection_check(dname, conn_arn, &known.connections)]
}

fn connection_check(
    dname: &str,
    conn_arn: &str,
    connections: &Result<Vec<Connection>, String>,
) -> Check {
    let conns = match connections {
        Ok(conns) => conns,
        Err(e) => {
            return Check::new(
                format!("connection of {dname}"),
                CheckStatus::Warn,
                format!("cannot list: {e}"),
            );
        }
    };
    match conns.iter().find(|c| c.connection_arn() == Some(conn_arn)) {
        Some(c) => {
            let state = c.connection_state();
            let authorized = matches!(state, Some(ConnectionState::Authorized));
            Check::new(
                format!("connection {}", c.name().unwrap_or("?")),
                CheckStatus::ok_if(authorized, CheckStatus::Warn),
                format!("state {}", state.map(|s| s.as_str()).unwrap_or("?")),
            )
        }
        None => Check::new(
            format!("connection of {dname}"),
            CheckStatus::Missing,
            format!("{conn_arn} not found"),
        ),
    }
}

/// Each table's current stream, and the pipes whose source is a stream of that table.
async fn check_pipes(
    ddb: &aws_sdk_dynamodb::Client,
    pipes: &aws_sdk_pipes::Client,
    spec: &ValidateSpec,
) -> Vec<Check> {
    let all_pipes = list_pipes(pipes).await;
    let mut checks = Vec::new();
    for p in &spec.tables {
        let table = format!("{}{}", spec.table_prefix, p.table_suffix);
        let (stream, current_arn) = stream_check(ddb, &table).await;
        checks.push(stream);
        match &all_pipes {
            Ok(all) => checks.extend(table_pipe_checks(&table, current_arn.as_deref(), all)),
            Err(e) => checks.push(Check::new(
                format!("pipe from {table}"),
                CheckStatus::Warn,
                format!("cannot list pipes: {e}"),
            )),
        }
    }
    checks
}

/// The table's stream check and, when it has one, the current stream ARN.
async fn stream_check(ddb: &aws_sdk_dynamodb::Client, table: &str) -> (Check, Option<String>) {
    let item = format!("table {table} stream");
    match discover::latest_stream_arn(ddb, table).await {
        Ok(Discovery::Stream(arn)) => (Check::new(item, CheckStatus::Ok, arn.clone()), Some(arn)),
        Ok(Discovery::NoStream) => (
            Check::new(item, CheckStatus::Missing, "table has no stream enabled"),
            None,
        ),
        Ok(Discovery::NoTable) => (
            Check::new(item, CheckStatus::Missing, "table not found"),
            None,
        ),
        Err(e) => (
            Check::new(
                item,
                CheckStatus::Warn,
                format!("cannot describe: {}", e.message),
            ),
            None,
        ),
    }
}

fn table_pipe_checks(table: &str, current_arn: Option<&str>, all: &[Pipe]) -> Vec<Check> {
    let needle = format!(":table/{table}/stream/");
    let from_table: Vec<Check> = all
        .iter()
        .filter(|pp| pp.source().is_some_and(|s| s.contains(&needle)))
        .map(|pp| pipe_check(pp, table, current_arn))
        .collect();
    if from_table.is_empty() {
        return vec![Check::new(
            format!("pipe from {table}"),
            CheckStatus::Missing,
            "no pipe reads this table's stream",
        )];
    }
    from_table
}

/// RUNNING on the current stream is OK; another state, or an older stream of the same table
/// (the table was re-created), is a WARN.
fn pipe_check(pp: &Pipe, table: &str, current_arn: Option<&str>) -> Check {
    let name = pp.name().unwrap_or("?");
    let state = pp.current_state().map(|s| s.as_str()).unwrap_or("?");
    let target = pp.target().unwrap_or("?");
    let stale = current_arn
        .zip(pp.source())
        .is_some_and(|(cur, src)| cur != src);
    let (status, detail) = if stale {
        (
            CheckStatus::Warn,
            format!(
                "state {state}, but it reads an old stream (table re-created?): {}",
                pp.source().unwrap_or("?")
            ),
        )
    } else if state == "RUNNING" {
        (CheckStatus::Ok, format!("state {state}, target {target}"))
    } else {
        (
            CheckStatus::Warn,
            format!("state {state} (not RUNNING), target {target}"),
        )
    };
    Check::new(format!("pipe {name} ({table})"), status, detail)
}

/// Every page of a `List*` call: `page(token)` gives one page's items and the next token.
async fn all_pages<T, F, Fut>(mut page: F) -> Result<Vec<T>, String>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), String>>,
{
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let (items, next) = page(token).await?;
        out.extend(items);
        token = next;
        if token.is_none() {
            return Ok(out);
        }
    }
}

fn next(token: Option<&str>) -> Option<String> {
    token.map(str::to_owned)
}

async fn list_buses(eb: &aws_sdk_eventbridge::Client) -> Result<Vec<String>, String> {
    all_pages(|token| async move {
        let r = eb.list_event_buses().set_next_token(token).send().await;
        let r = r.map_err(|e| sdk_error_text(&e))?;
        let names = r.event_buses().iter().filter_map(|b| b.name());
        Ok((names.map(str::to_owned).collect(), next(r.next_token())))
    })
    .await
}

async fn list_rules(eb: &aws_sdk_eventbridge::Client, bus: &str) -> Result<Vec<Rule>, String> {
    all_pages(|token| async move {
        let r = eb.list_rules().event_bus_name(bus).set_next_token(token);
        let r = r.send().await.map_err(|e| sdk_error_text(&e))?;
        Ok((r.rules().to_vec(), next(r.next_token())))
    })
    .await
}

async fn list_api_destinations(
    eb: &aws_sdk_eventbridge::Client,
) -> Result<Vec<ApiDestination>, String> {
    all_pages(|token| async move {
        let r = eb
            .list_api_destinations()
            .set_next_token(token)
            .send()
            .await;
        let r = r.map_err(|e| sdk_error_text(&e))?;
        Ok((r.api_destinations().to_vec(), next(r.next_token())))
    })
    .await
}

async fn list_connections(eb: &aws_sdk_eventbridge::Client) -> Result<Vec<Connection>, String> {
    all_pages(|token| async move {
        let r = eb.list_connections().set_next_token(token).send().await;
        let r = r.map_err(|e| sdk_error_text(&e))?;
        Ok((r.connections().to_vec(), next(r.next_token())))
    })
    .await
}

async fn list_pipes(pipes: &aws_sdk_pipes::Client) -> Result<Vec<Pipe>, String> {
    all_pages(|token| async move {
        let r = pipes.list_pipes().set_next_token(token).send().await;
        let r = r.map_err(|e| sdk_error_text(&e))?;
        Ok((r.pipes().to_vec(), next(r.next_token())))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_display() {
        let c = Check::new("rule r", CheckStatus::Missing, "not found");
        assert_eq!(c.to_string(), "[MISSING] rule r: not found");
        assert!(
            Check::new("a", CheckStatus::Ok, "b")
                .to_string()
                .starts_with("[OK] ")
        );
        assert!(
            Check::new("a", CheckStatus::Warn, "b")
                .to_string()
                .starts_with("[WARN] ")
        );
    }
}
