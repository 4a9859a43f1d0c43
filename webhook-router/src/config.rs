//! The one clap `Config` and the small value types its repeatable flags parse into.

use std::str::FromStr;
use std::time::Duration;

use clap::Parser;
use service_kit::cli::{BindArgs, ServiceConfig};

/// Routes used when no `--route` is given: what the production rules deliver to each exporter.
pub const DEFAULT_ROUTES: &[&str] = &[
    "EcomIndexSettings.=ecom_settings_exporter@http://127.0.0.1:9010/",
    "Merchandising.=merchandising_exporter@http://127.0.0.1:9011/",
];

/// Tables the local pipe follows when no `--pipe` is given (table name = prefix + suffix).
pub const DEFAULT_PIPES: &[&str] = &[
    "EcomIndexSettingsTable=EcomIndexSettings",
    "MerchandisingTable=Merchandising",
];

/// Command-line configuration (also what `orchestrator serve webhook-router ...` passes through).
#[derive(Parser, Debug, Clone)]
#[command(
    name = "webhook-router",
    version,
    about = "EventBridge webhook router and the local DynamoDB-stream pipe."
)]
pub struct Config {
    #[command(flatten)]
    pub listen: BindArgs<9009>,
    /// A route `PREFIX=NAME@URL` (repeatable): events whose detail-type starts with PREFIX are
    /// POSTed to URL; NAME appears in errors and `/events`. Longest prefix wins. Without any,
    /// the two default exporter routes apply.
    #[arg(long = "route", value_name = "PREFIX=NAME@URL")]
    pub routes: Vec<RouteSpec>,
    /// Timeout for one forwarded request (connect + answer), in milliseconds.
    #[arg(long, default_value_t = 5000)]
    pub forward_timeout_ms: u64,
    /// moto's URL. Absent: the local pipe is off. Present: the pipe follows the tables' streams.
    #[arg(long, value_name = "URL")]
    pub moto_url: Option<String>,
    /// Table name prefix (the pipe follows `<prefix><suffix>`).
    #[arg(long, default_value = "dev-local-")]
    pub table_prefix: String,
    /// A followed table `TABLE_SUFFIX=DETAIL_NAME` (repeatable): records become events with
    /// detail-type `DETAIL_NAME.<INSERT|MODIFY|REMOVE>`. Without any, the two defaults apply.
    #[arg(long = "pipe", value_name = "TABLE_SUFFIX=DETAIL_NAME")]
    pub pipes: Vec<PipeSpec>,
    /// Pause between empty GetRecords polls, in milliseconds (moto keeps every iterator it
    /// hands out, so keep this modest).
    #[arg(long, default_value_t = 250)]
    pub pipe_poll_ms: u64,
    /// AWS region for the SDK clients.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// How many recent events `/events` keeps.
    #[arg(long, default_value_t = 500)]
    pub events_buffer: usize,
    /// Where fault rules marked `persist` are kept across restarts (none: such rules are refused).
    #[arg(long, value_name = "FILE")]
    pub faults_file: Option<std::path::PathBuf>,
}

impl ServiceConfig for Config {
    fn listen_addr(&self) -> std::net::SocketAddr {
        self.listen.addr()
    }
}

impl Config {
    /// A config with every default, as the binary would parse it with no flags.
    pub fn defaults() -> Self {
        Config::parse_from(["webhook-router"])
    }

    /// The routes in force: the flags, or the defaults when none was given.
    pub fn effective_routes(&self) -> Vec<RouteSpec> {
        if self.routes.is_empty() {
            DEFAULT_ROUTES
                .iter()
                .filter_map(|s| s.parse().ok())
                .collect()
        } else {
            self.routes.clone()
        }
    }

    /// The followed tables in force: the flags, or the defaults when none was given.
    pub fn effective_pipes(&self) -> Vec<PipeSpec> {
        if self.pipes.is_empty() {
            DEFAULT_PIPES
                .iter()
                .filter_map(|s| s.parse().ok())
                .collect()
        } else {
            self.pipes.clone()
        }
    }

    pub fn forward_timeout(&self) -> Duration {
        Duration::from_millis(self.forward_timeout_ms.max(1))
    }

    pub fn pipe_poll(&self) -> Duration {
        Duration::from_millis(self.pipe_poll_ms.max(10))
    }
}

/// `PREFIX=NAME@URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    pub prefix: String,
    pub target: String,
    pub url: String,
}

impl FromStr for RouteSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let usage = || format!("expected PREFIX=NAME@URL, got {s:?}");
        let (prefix, rest) = s.split_once('=').ok_or_else(usage)?;
        let (target, url) = rest.split_once('@').ok_or_else(usage)?;
        if prefix.is_empty() || target.is_empty() {
            return Err(usage());
        }
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("bad URL {url:?}: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!("URL {url:?} must be http:// or https://"));
        }
        Ok(RouteSpec {
            prefix: prefix.to_owned(),
            target: target.to_owned(),
            url: url.to_owned(),
        })
    }
}

/// `TABLE_SUFFIX=DETAIL_NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipeSpec {
    pub table_suffix: String,
    pub detail_name: String,
}

impl FromStr for PipeSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once('=') {
            Some((t, d)) if !t.is_empty() && !d.is_empty() => Ok(PipeSpec {
                table_suffix: t.to_owned(),
                detail_name: d.to_owned(),
            }),
            _ => Err(format!("expected TABLE_SUFFIX=DETAIL_NAME, got {s:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse() {
        let c = Config::defaults();
        assert_eq!(c.listen.port, 9009);
        let routes = c.effective_routes();
        assert_eq!(routes.len(), 2);
        assert_eq!(routes[0].prefix, "EcomIndexSettings.");
        assert_eq!(routes[0].target, "ecom_settings_exporter");
        assert_eq!(routes[0].url, "http://127.0.0.1:9010/");
        assert_eq!(c.effective_pipes()[1].table_suffix, "MerchandisingTable");
        assert!(c.moto_url.is_none());
    }

    #[test]
    fn route_flag_with_at_in_url_path_and_bad_forms() {
        let r: RouteSpec = "A.=a@http://h:1/x@y".parse().unwrap();
        assert_eq!(r.url, "http://h:1/x@y");
        assert!("A.".parse::<RouteSpec>().is_err());
        assert!("A.=a".parse::<RouteSpec>().is_err());
        assert!("A.=a@ftp://x".parse::<RouteSpec>().is_err());
        assert!("=a@http://x".parse::<RouteSpec>().is_err());
        assert!("T=".parse::<PipeSpec>().is_err());
    }
}
