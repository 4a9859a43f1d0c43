//! AWS mode (`orchestrator up --enable-events`) and `orchestrator events validate`.
//!
//! [`setup`] gives the local router a public URL (a `cloudflared` quick tunnel, or a URL the caller
//! already has) and creates, with the official SDK, the EventBridge connection, API destination,
//! rule (detail-type prefixes on the bus) and target that deliver matching events to
//! `<public URL>/webhook/eventbridge`; [`AwsModeHandle::teardown`] removes them and stops the
//! tunnel. [`validate`] checks that the buses, rules, API destinations with their connections,
//! and pipes a stack relies on exist, one [`Check`] per item.
//!
//! Also home of [`moto_sdk_config`]: the SDK configuration for moto (dummy credentials unless the
//! environment provides real ones).

use std::fmt;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_eventbridge::types::{
    ApiDestinationHttpMethod, ConnectionAuthorizationType, ConnectionState,
    CreateConnectionApiKeyAuthRequestParameters, CreateConnectionAuthRequestParameters, RuleState,
    Target,
};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::config::{DEFAULT_PIPES, PipeSpec};

/// SDK configuration pointing at `endpoint` (moto), with the environment's credentials when both
/// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` are set and dummy `testing`/`testing` otherwise.
pub async fn moto_sdk_config(endpoint: &str, region: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(env_or_dummy_credentials())
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_attempt_timeout(Duration::from_secs(5))
                .build(),
        )
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(2))
        .load()
        .await
}

fn env_or_dummy_credentials() -> Credentials {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
        (Some(id), Some(secret)) => {
            Credentials::new(id, secret, var("AWS_SESSION_TOKEN"), None, "environment")
        }
        _ => Credentials::new("testing", "testing", None, None, "hippodrome-dummy"),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AwsModeError {
    #[error(
        "cloudflared is not on PATH: --enable-events needs it to give AWS a public URL for the \
         webhook router. Install it (macOS: `brew install cloudflared`; Linux: the cloudflared \
         .deb/.rpm package from Cloudflare's downloads page), check with `cloudflared --version`, \
         or pass a public URL that already reaches port {port}"
    )]
    CloudflaredMissing { port: u16 },
    #[error("cloudflared tunnel: {0}")]
    Tunnel(String),
    #[error("EventBridge {step}: {message}")]
    Aws { step: &'static str, message: String },
}

fn aws_err<E, R>(step: &'static str, e: &aws_sdk_eventbridge::error::SdkError<E, R>) -> AwsModeError
where
    E: std::error::Error + aws_sdk_eventbridge::error::ProvideErrorMetadata + 'static,
    R: fmt::Debug,
{
    AwsModeError::Aws {
        step,
        message: crate::pipe::discover::sdk_error_text(e),
    }
}

/// How the router gets a public URL.
#[derive(Debug, Clone)]
pub enum TunnelSource {
    /// Start `cloudflared tunnel --url http://127.0.0.1:<port>` and read its quick-tunnel URL.
    Cloudflared,
    /// Use this URL as is (an existing tunnel, or tests).
    PublicUrl(String),
}

/// What [`setup`] creates.
#[derive(Debug, Clone)]
pub struct AwsModeConfig {
    pub sdk_config: SdkConfig,
    pub router_port: u16,
    pub tunnel: TunnelSource,
    /// Bus the rule listens on (`default` unless the stack uses its own).
    pub event_bus: String,
    /// Resource names: `<name_prefix>-connection`, `-api-destination`, `-rule`.
    pub name_prefix: String,
    /// Detail-type prefixes the rule matches.
    pub detail_type_prefixes: Vec<String>,
    /// IAM role EventBridge assumes to call the API destination (real AWS needs one; moto does not).
    pub role_arn: Option<String>,
}

impl AwsModeConfig {
    /// Defaults: cloudflared, bus `default`, names from the table prefix, the default routes' prefixes.
    pub fn new(sdk_config: SdkConfig, router_port: u16, table_prefix: &str) -> Self {
        AwsModeConfig {
            sdk_config,
            router_port,
            tunnel: TunnelSource::Cloudflared,
            event_bus: "default".to_owned(),
            name_prefix: resource_name(&format!(
                "hippodrome-{}",
                table_prefix.trim_end_matches('-')
            )),
            detail_type_prefixes: default_detail_prefixes(),
            role_arn: std::env::var("HIPPODROME_EVENTS_ROLE_ARN")
                .ok()
                .filter(|v| !v.is_empty()),
        }
    }
}

fn default_detail_prefixes() -> Vec<String> {
    DEFAULT_PIPES
        .iter()
        .filter_map(|s| s.parse::<PipeSpec>().ok())
        .map(|p| format!("{}.", p.detail_name))
        .collect()
}

/// EventBridge names allow `[.\-_A-Za-z0-9]`, at most 64 characters.
fn resource_name(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect();
    out.truncate(40);
    out
}

/// The resources [`setup`] made; [`AwsModeHandle::teardown`] removes them.
#[derive(Debug)]
pub struct AwsModeHandle {
    client: aws_sdk_eventbridge::Client,
    names: Names,
    pub public_url: String,
    /// `<public_url>/webhook/eventbridge`: what the API destination calls.
    pub endpoint: String,
    pub connection_arn: String,
    pub api_destination_arn: String,
    pub rule_arn: String,
    tunnel: Option<Child>,
}

#[derive(Debug, Clone)]
struct Names {
    connection: String,
    api_destination: String,
    rule: String,
    target_id: String,
    bus: String,
}

impl Names {
    fn new(cfg: &AwsModeConfig) -> Self {
        Names {
            connection: format!("{}-connection", cfg.name_prefix),
            api_destination: format!("{}-api-destination", cfg.name_prefix),
            rule: format!("{}-rule", cfg.name_prefix),
            target_id: "hippodrome-webhook-router".to_owned(),
            bus: cfg.event_bus.clone(),
        }
    }
}

/// The rule's event pattern: any of the detail-type prefixes.
pub fn event_pattern(prefixes: &[String]) -> String {
    let alts: Vec<_> = prefixes
        .iter()
        .map(|p| serde_json::json!({ "prefix": p }))
        .collect();
    serde_json::json!({ "detail-type": alts }).to_string()
}

/// Start the tunnel (if asked) and create connection, API destination, rule and target. On a
/// failure half-way, whatever was created is removed again.
pub async fn setup(cfg: AwsModeConfig) -> Result<AwsModeHandle, AwsModeError> {
    let (public_url, tunnel) = match &cfg.tunnel {
        TunnelSource::PublicUrl(u) => (u.trim_end_matches('/').to_owned(), None),
        TunnelSource::Cloudflared => {
            let (url, child) = start_cloudflared(cfg.router_port).await?;
            (url, Some(child))
        }
    };
    let client = aws_sdk_eventbridge::Client::new(&cfg.sdk_config);
    let names = Names::new(&cfg);
    // Left over from a run that did not shut down cleanly: start from nothing.
    remove_all(&client, &names).await;
    let endpoint = format!("{public_url}/webhook/eventbridge");
    let mut handle = AwsModeHandle {
        client,
        names,
        public_url,
        endpoint,
        connection_arn: String::new(),
        api_destination_arn: String::new(),
        rule_arn: String::new(),
        tunnel,
    };
    match create_all(&mut handle, &cfg).await {
        Ok(()) => {
            tracing::info!(endpoint = %handle.endpoint, rule = %handle.names.rule, "EventBridge delivers to the local router");
            Ok(handle)
        }
        Err(e) => {
            let _ = handle.teardown().await;
            Err(e)
        }
    }
}

async fn create_all(h: &mut AwsModeHandle, cfg: &AwsModeConfig) -> Result<(), AwsModeError> {
    let c = &h.client;
    let auth = CreateConnectionAuthRequestParameters::builder()
        .api_key_auth_parameters(
            CreateConnectionApiKeyAuthRequestParameters::builder()
                .api_key_name("x-hippodrome-router")
                .api_key_value(uuid::Uuid::new_v4().to_string())
                .build()
                .map_err(|e| AwsModeError::Aws {
                    step: "CreateConnection",
                    message: e.to_string(),
                })?,
        )
        .build();
    let conn = c
        .create_connection()
        .name(&h.names.connection)
        .description("Hippodrome: local webhook router")
        .authorization_type(ConnectionAuthorizationType::ApiKey)
        .auth_parameters(auth)
        .send()
        .await
        .map_err(|e| aws_err("CreateConnection", &e))?;
    h.connection_arn = conn.connection_arn().unwrap_or_default().to_owned();
    let dest = c
        .create_api_destination()
        .name(&h.names.api_destination)
        .description("Hippodrome: local webhook router through a tunnel")
        .connection_arn(&h.connection_arn)
        .invocation_endpoint(&h.endpoint)
        .http_method(ApiDestinationHttpMethod::Post)
        .invocation_rate_limit_per_second(50)
        .send()
        .await
        .map_err(|e| aws_err("CreateApiDestination", &e))?;
    h.api_destination_arn = dest.api_destination_arn().unwrap_or_default().to_owned();
    let rule = c
        .put_rule()
        .name(&h.names.rule)
        .event_bus_name(&h.names.bus)
        .description("Hippodrome: exporter events to the local webhook router")
        .event_pattern(event_pattern(&cfg.detail_type_prefixes))
        .state(RuleState::Enabled)
        .send()
        .await
        .map_err(|e| aws_err("PutRule", &e))?;
    h.rule_arn = rule.rule_arn().unwrap_or_default().to_owned();
    let target = Target::builder()
        .id(&h.names.target_id)
        .arn(&h.api_destination_arn)
        .set_role_arn(cfg.role_arn.clone())
        .build()
        .map_err(|e| AwsModeError::Aws {
            step: "PutTargets",
            message: e.to_string(),
        })?;
    let out = c
        .put_targets()
        .rule(&h.names.rule)
        .event_bus_name(&h.names.bus)
        .targets(target)
        .send()
        .await
        .map_err(|e| aws_err("PutTargets", &e))?;
    if out.failed_entry_count() > 0 {
        let why: Vec<String> = out
            .failed_entries()
            .iter()
            .map(|f| {
                format!(
                    "{}: {}",
                    f.error_code().unwrap_or("?"),
                    f.error_message().unwrap_or("?")
                )
            })
            .collect();
        return Err(AwsModeError::Aws {
            step: "PutTargets",
            message: why.join("; "),
        });
    }
    Ok(())
}

/// Best-effort removal of everything named (each step may find nothing to remove).
async fn remove_all(c: &aws_sdk_eventbridge::Client, n: &Names) -> Vec<String> {
    let mut errors = Vec::new();
    let mut note = |step: &str, r: Result<(), String>| {
        if let Err(e) = r
            && !e.contains("ResourceNotFound")
        {
            errors.push(format!("{step}: {e}"));
        }
    };
    let r = c
        .remove_targets()
        .rule(&n.rule)
        .event_bus_name(&n.bus)
        .ids(&n.target_id)
        .send()
        .await;
    note(
        "RemoveTargets",
        r.map(|_| ())
            .map_err(|e| crate::pipe::discover::sdk_error_text(&e)),
    );
    let r = c
        .delete_rule()
        .name(&n.rule)
        .event_bus_name(&n.bus)
        .send()
        .await;
    note(
        "DeleteRule",
        r.map(|_| ())
            .map_err(|e| crate::pipe::discover::sdk_error_text(&e)),
    );
    let r = c
        .delete_api_destination()
        .name(&n.api_destination)
        .send()
        .await;
    note(
        "DeleteApiDestination",
        r.map(|_| ())
            .map_err(|e| crate::pipe::discover::sdk_error_text(&e)),
    );
    let r = c.delete_connection().name(&n.connection).send().await;
    note(
        "DeleteConnection",
        r.map(|_| ())
            .map_err(|e| crate::pipe::discover::sdk_error_text(&e)),
    );
    errors
}

impl AwsModeHandle {
    /// Remove the target, rule, API destination and connection, then stop the tunnel.
    pub async fn teardown(mut self) -> Result<(), AwsModeError> {
        let errors = remove_all(&self.client, &self.names).await;
        if let Some(mut child) = self.tunnel.take() {
            let _ = child.kill().await;
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(AwsModeError::Aws {
                step: "teardown",
                message: errors.join("; "),
            })
        }
    }

    pub fn rule_name(&self) -> &str {
        &self.names.rule
    }
}

/// Look for a program on PATH without running it.
pub fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

async fn start_cloudflared(port: u16) -> Result<(String, Child), AwsModeError> {
    let program = find_on_path("cloudflared").ok_or(AwsModeError::CloudflaredMissing { port })?;
    let mut child = Command::new(program)
        .args(["tunnel", "--no-autoupdate", "--url"])
        .arg(format!("http://127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| AwsModeError::Tunnel(format!("cannot start cloudflared: {e}")))?;
    let stderr = child
        .stderr
        .take()
        .ok_or_else(|| AwsModeError::Tunnel("no stderr from cloudflared".into()))?;
    let mut lines = BufReader::new(stderr).lines();
    let found = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(url) = quick_tunnel_url(&line) {
                return Some(url);
            }
        }
        None
    })
    .await;
    match found {
        Ok(Some(url)) => {
            // Keep reading so cloudflared never blocks on a full pipe.
            tokio::spawn(async move {
                while let Ok(Some(line)) = lines.next_line().await {
                    tracing::debug!(target: "cloudflared", "{line}");
                }
            });
            Ok((url, child))
        }
        Ok(None) => {
            let _ = child.kill().await;
            Err(AwsModeError::Tunnel(
                "cloudflared exited before printing a tunnel URL".into(),
            ))
        }
        Err(_) => {
            let _ = child.kill().await;
            Err(AwsModeError::Tunnel(
                "no *.trycloudflare.com URL from cloudflared within 30 s".into(),
            ))
        }
    }
}

/// The `https://<words>.trycloudflare.com` URL in one line of cloudflared's log, if any.
pub fn quick_tunnel_url(line: &str) -> Option<String> {
    let start = line.find("https://")?;
    let url: String = line[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '|' && *c != '"')
        .collect();
    url.contains(".trycloudflare.com").then_some(url)
}

// ---------------------------------------------------------------------------------------------
// validate

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckStatus {
    Ok,
    Missing,
    Warn,
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

pub async fn validate_with(sdk_config: &SdkConfig, spec: &ValidateSpec) -> Vec<Check> {
    let eb = aws_sdk_eventbridge::Client::new(sdk_config);
    let pipes = aws_sdk_pipes::Client::new(sdk_config);
    let ddb = aws_sdk_dynamodb::Client::new(sdk_config);
    let mut checks = Vec::new();

    // Buses: `default` plus any named with the table prefix.
    let mut buses = vec!["default".to_owned()];
    match list_buses(&eb).await {
        Ok(names) => {
            let have_default = names.iter().any(|n| n == "default");
            checks.push(Check::new(
                "event bus default",
                if have_default {
                    CheckStatus::Ok
                } else {
                    CheckStatus::Missing
                },
                if have_default { "exists" } else { "not found" },
            ));
            let own: Vec<_> = names
                .into_iter()
                .filter(|n| n.starts_with(&spec.table_prefix))
                .collect();
            if own.is_empty() {
                checks.push(Check::new(
                    format!("event bus {}*", spec.table_prefix),
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
        }
        Err(e) => checks.push(Check::new(
            "event buses",
            CheckStatus::Warn,
            format!("cannot list: {e}"),
        )),
    }

    // Rules for each detail-type prefix, and each rule's API destination target.
    let mut rules = Vec::new();
    for bus in &buses {
        match list_rules(&eb, bus).await {
            Ok(r) => rules.extend(r.into_iter().map(|r| (bus.clone(), r))),
            Err(e) => checks.push(Check::new(
                format!("rules on {bus}"),
                CheckStatus::Warn,
                format!("cannot list: {e}"),
            )),
        }
    }
    let destinations = list_api_destinations(&eb).await;
    let connections = list_connections(&eb).await;
    let mut targets_checked = std::collections::HashSet::new();
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
            let name = rule.name().unwrap_or("?");
            let enabled = rule.state() == Some(&RuleState::Enabled);
            checks.push(Check::new(
                format!("rule {name} ({prefix}*)"),
                if enabled {
                    CheckStatus::Ok
                } else {
                    CheckStatus::Warn
                },
                format!(
                    "on bus {bus}, state {}",
                    rule.state().map(|s| s.as_str()).unwrap_or("?")
                ),
            ));
            // One rule often covers several prefixes: check its targets once.
            if targets_checked.insert((bus.clone(), name.to_owned())) {
                checks
                    .extend(check_rule_targets(&eb, bus, name, &destinations, &connections).await);
            }
        }
    }

    // Pipes from each table's stream.
    let all_pipes = list_pipes(&pipes).await;
    for p in &spec.tables {
        let table = format!("{}{}", spec.table_prefix, p.table_suffix);
        let stream = crate::pipe::discover::latest_stream_arn(&ddb, &table).await;
        let current_arn = match &stream {
            Ok(crate::pipe::discover::Discovery::Stream(a)) => {
                checks.push(Check::new(
                    format!("table {table} stream"),
                    CheckStatus::Ok,
                    a.clone(),
                ));
                Some(a.clone())
            }
            Ok(crate::pipe::discover::Discovery::NoStream) => {
                checks.push(Check::new(
                    format!("table {table} stream"),
                    CheckStatus::Missing,
                    "table has no stream enabled",
                ));
                None
            }
            Ok(crate::pipe::discover::Discovery::NoTable) => {
                checks.push(Check::new(
                    format!("table {table} stream"),
                    CheckStatus::Missing,
                    "table not found",
                ));
                None
            }
            Err(e) => {
                checks.push(Check::new(
                    format!("table {table} stream"),
                    CheckStatus::Warn,
                    format!("cannot describe: {}", e.message),
                ));
                None
            }
        };
        let all_pipes = match &all_pipes {
            Ok(v) => v,
            Err(e) => {
                checks.push(Check::new(
                    format!("pipe from {table}"),
                    CheckStatus::Warn,
                    format!("cannot list pipes: {e}"),
                ));
                continue;
            }
        };
        let needle = format!(":table/{table}/stream/");
        let from_table: Vec<_> = all_pipes
            .iter()
            .filter(|pp| pp.source().is_some_and(|s| s.contains(&needle)))
            .collect();
        if from_table.is_empty() {
            checks.push(Check::new(
                format!("pipe from {table}"),
                CheckStatus::Missing,
                "no pipe reads this table's stream",
            ));
        }
        for pp in from_table {
            let name = pp.name().unwrap_or("?");
            let state = pp
                .current_state()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_else(|| "?".into());
            let stale = match (&current_arn, pp.source()) {
                (Some(cur), Some(src)) => cur != src,
                _ => false,
            };
            let (status, detail) = if stale {
                (
                    CheckStatus::Warn,
                    format!(
                        "state {state}, but it reads an old stream (table re-created?): {}",
                        pp.source().unwrap_or("?")
                    ),
                )
            } else if state == "RUNNING" {
                (
                    CheckStatus::Ok,
                    format!("state {state}, target {}", pp.target().unwrap_or("?")),
                )
            } else {
                (
                    CheckStatus::Warn,
                    format!(
                        "state {state} (not RUNNING), target {}",
                        pp.target().unwrap_or("?")
                    ),
                )
            };
            checks.push(Check::new(format!("pipe {name} ({table})"), status, detail));
        }
    }
    checks
}

async fn check_rule_targets(
    eb: &aws_sdk_eventbridge::Client,
    bus: &str,
    rule: &str,
    destinations: &Result<Vec<aws_sdk_eventbridge::types::ApiDestination>, String>,
    connections: &Result<Vec<aws_sdk_eventbridge::types::Connection>, String>,
) -> Vec<Check> {
    let mut out = Vec::new();
    let targets = match eb
        .list_targets_by_rule()
        .rule(rule)
        .event_bus_name(bus)
        .send()
        .await
    {
        Ok(t) => t.targets().to_vec(),
        Err(e) => {
            out.push(Check::new(
                format!("targets of {rule}"),
                CheckStatus::Warn,
                format!("cannot list: {}", crate::pipe::discover::sdk_error_text(&e)),
            ));
            return out;
        }
    };
    let api_targets: Vec<_> = targets
        .iter()
        .filter(|t| t.arn().contains(":api-destination/"))
        .collect();
    if api_targets.is_empty() {
        out.push(Check::new(
            format!("API destination for {rule}"),
            CheckStatus::Missing,
            format!(
                "rule has {} target(s), none an API destination",
                targets.len()
            ),
        ));
        return out;
    }
    for t in api_targets {
        let Ok(dests) = destinations else {
            out.push(Check::new(
                format!("API destination {}", t.arn()),
                CheckStatus::Warn,
                "cannot list API destinations",
            ));
            continue;
        };
        // Rule targets may carry a trailing `/<uuid>` on the destination ARN: match on the name.
        let dest = dests.iter().find(|d| {
            d.api_destination_arn()
                .is_some_and(|a| t.arn().starts_with(a) || a.starts_with(t.arn()))
        });
        let Some(dest) = dest else {
            out.push(Check::new(
                format!("API destination {}", t.arn()),
                CheckStatus::Missing,
                format!("target of {rule} points at a destination that does not exist"),
            ));
            continue;
        };
        let dname = dest.name().unwrap_or("?");
        out.push(Check::new(
            format!("API destination {dname}"),
            CheckStatus::Ok,
            format!(
                "{} {}",
                dest.http_method().map(|m| m.as_str()).unwrap_or("?"),
                dest.invocation_endpoint().unwrap_or("?")
            ),
        ));
        let conn_arn = dest.connection_arn().unwrap_or_default();
        match connections {
            Ok(conns) => match conns.iter().find(|c| c.connection_arn() == Some(conn_arn)) {
                Some(c) => {
                    let state = c.connection_state();
                    let ok = matches!(state, Some(ConnectionState::Authorized));
                    out.push(Check::new(
                        format!("connection {}", c.name().unwrap_or("?")),
                        if ok {
                            CheckStatus::Ok
                        } else {
                            CheckStatus::Warn
                        },
                        format!("state {}", state.map(|s| s.as_str()).unwrap_or("?")),
                    ));
                }
                None => out.push(Check::new(
                    format!("connection of {dname}"),
                    CheckStatus::Missing,
                    format!("{conn_arn} not found"),
                )),
            },
            Err(e) => out.push(Check::new(
                format!("connection of {dname}"),
                CheckStatus::Warn,
                format!("cannot list: {e}"),
            )),
        }
    }
    out
}

async fn list_buses(eb: &aws_sdk_eventbridge::Client) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let r = eb
            .list_event_buses()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| crate::pipe::discover::sdk_error_text(&e))?;
        out.extend(
            r.event_buses()
                .iter()
                .filter_map(|b| b.name().map(str::to_owned)),
        );
        token = r.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(out);
        }
    }
}

async fn list_rules(
    eb: &aws_sdk_eventbridge::Client,
    bus: &str,
) -> Result<Vec<aws_sdk_eventbridge::types::Rule>, String> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let r = eb
            .list_rules()
            .event_bus_name(bus)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| crate::pipe::discover::sdk_error_text(&e))?;
        out.extend(r.rules().iter().cloned());
        token = r.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(out);
        }
    }
}

async fn list_api_destinations(
    eb: &aws_sdk_eventbridge::Client,
) -> Result<Vec<aws_sdk_eventbridge::types::ApiDestination>, String> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let r = eb
            .list_api_destinations()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| crate::pipe::discover::sdk_error_text(&e))?;
        out.extend(r.api_destinations().iter().cloned());
        token = r.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(out);
        }
    }
}

async fn list_connections(
    eb: &aws_sdk_eventbridge::Client,
) -> Result<Vec<aws_sdk_eventbridge::types::Connection>, String> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let r = eb
            .list_connections()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| crate::pipe::discover::sdk_error_text(&e))?;
        out.extend(r.connections().iter().cloned());
        token = r.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(out);
        }
    }
}

async fn list_pipes(
    pipes: &aws_sdk_pipes::Client,
) -> Result<Vec<aws_sdk_pipes::types::Pipe>, String> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let r = pipes
            .list_pipes()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| crate::pipe::discover::sdk_error_text(&e))?;
        out.extend(r.pipes().iter().cloned());
        token = r.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tunnel_url_from_cloudflared_log() {
        let line = "2026-03-01T12:00:00Z INF |  https://quiet-river-1234.trycloudflare.com                                    |";
        assert_eq!(
            quick_tunnel_url(line).as_deref(),
            Some("https://quiet-river-1234.trycloudflare.com")
        );
        assert_eq!(
            quick_tunnel_url("INF see https://www.cloudflare.com/website-terms/"),
            None
        );
    }

    #[test]
    fn pattern_and_names() {
        let p = event_pattern(&["EcomIndexSettings.".into(), "Merchandising.".into()]);
        assert_eq!(
            p,
            r#"{"detail-type":[{"prefix":"EcomIndexSettings."},{"prefix":"Merchandising."}]}"#
        );
        assert_eq!(resource_name("hippodrome-dev/x y"), "hippodrome-dev-x-y");
    }

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
