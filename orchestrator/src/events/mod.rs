//! AWS mode (`orchestrator up --enable-events`) and `orchestrator events validate`.
//!
//! [`setup`] gives the local router a public URL (a `cloudflared` quick tunnel, [`tunnel`], or a
//! URL the caller already has) and creates, with the official SDK, the EventBridge connection, API
//! destination, rule (detail-type prefixes on the bus) and target that deliver matching events to
//! `<public URL>/webhook/eventbridge` ([`resources`]); [`AwsModeHandle::teardown`] removes them
//! and stops the tunnel. [`validate()`] checks that the buses, rules, API destinations with their
//! connections, and pipes a stack relies on exist, one [`Check`] per item ([`validate`]).

pub mod resources;
pub mod tunnel;
pub mod validate;

use aws_config::SdkConfig;
use webhook_router::config::{DEFAULT_PIPES, PipeSpec};

pub use resources::event_pattern;
pub use tunnel::{TunnelProcess, TunnelSource, quick_tunnel_url};
pub use validate::{Check, CheckStatus, ValidateSpec, validate, validate_with};

use resources::{Created, Names};
use tunnel::Tunnel;

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

/// SDK configuration for `events`: moto (or another endpoint, see
/// [`webhook_router::pipe::moto_sdk_config`] for its credentials) when an endpoint is given, the
/// default AWS chain otherwise.
pub async fn sdk_config(endpoint_url: Option<&str>, region: &str) -> SdkConfig {
    match endpoint_url {
        Some(url) => webhook_router::pipe::moto_sdk_config(url, region).await,
        None => {
            aws_config::defaults(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new(region.to_owned()))
                .load()
                .await
        }
    }
}

/// What [`setup`] creates.
#[derive(Debug, Clone)]
pub struct AwsModeConfig {
    pub sdk_config: SdkConfig,
    pub router_port: u16,
    pub tunnel: TunnelSource,
    /// How a cloudflared tunnel runs and where its pid is recorded.
    pub tunnel_process: TunnelProcess,
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
    /// Defaults: cloudflared (recorded nowhere), bus `default`, names from the table prefix, the
    /// default routes' prefixes.
    pub fn new(sdk_config: SdkConfig, router_port: u16, table_prefix: &str) -> Self {
        AwsModeConfig {
            sdk_config,
            router_port,
            tunnel: TunnelSource::Cloudflared,
            tunnel_process: TunnelProcess::standalone(),
            event_bus: "default".to_owned(),
            name_prefix: resources::resource_name(&format!(
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
    tunnel: Option<Tunnel>,
}

/// Start the tunnel (if asked) and create connection, API destination, rule and target. On a
/// failure half-way, whatever was created is removed again and the tunnel stopped.
pub async fn setup(cfg: AwsModeConfig) -> Result<AwsModeHandle, AwsModeError> {
    let (public_url, tunnel) = match &cfg.tunnel {
        TunnelSource::PublicUrl(u) => (u.trim_end_matches('/').to_owned(), None),
        TunnelSource::Cloudflared => {
            let (url, tunnel) = Tunnel::start(cfg.router_port, &cfg.tunnel_process).await?;
            (url, Some(tunnel))
        }
    };
    let client = aws_sdk_eventbridge::Client::new(&cfg.sdk_config);
    let names = Names::new(&cfg);
    // Left over from a run that did not shut down cleanly: start from nothing.
    resources::remove_all(&client, &names).await;
    let endpoint = format!("{public_url}/webhook/eventbridge");
    let created = match resources::create_all(&client, &names, &endpoint, &cfg).await {
        Ok(c) => c,
        Err(e) => {
            resources::remove_all(&client, &names).await;
            if let Some(tunnel) = tunnel {
                tunnel.stop().await;
            }
            return Err(e);
        }
    };
    tracing::info!(%endpoint, rule = %names.rule, "EventBridge delivers to the local router");
    let Created {
        connection_arn,
        api_destination_arn,
        rule_arn,
    } = created;
    Ok(AwsModeHandle {
        client,
        names,
        public_url,
        endpoint,
        connection_arn,
        api_destination_arn,
        rule_arn,
        tunnel,
    })
}

impl AwsModeHandle {
    /// Remove the target, rule, API destination and connection, then stop the tunnel.
    pub async fn teardown(mut self) -> Result<(), AwsModeError> {
        let errors = resources::remove_all(&self.client, &self.names).await;
        if let Some(tunnel) = self.tunnel.take() {
            tunnel.stop().await;
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
