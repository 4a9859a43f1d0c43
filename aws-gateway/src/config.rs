//! The one clap `Config` and the small value types its repeatable flags parse into.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::Parser;
use lambda_invoke::{DEFAULT_ACCOUNT, DEFAULT_REGION, FunctionTable, LambdaTarget};
use service_kit::cli::{BindArgs, ServiceConfig};

/// The gateway listens on the port the README has always given "AWS" (moto's old port), so a
/// team's existing `.env` files keep working; moto itself moves behind it.
pub const DEFAULT_PORT: u16 = 9003;

/// Command-line configuration (also what `orchestrator serve aws-gateway ...` passes through).
#[derive(Parser, Debug, Clone)]
#[command(
    name = "aws-gateway",
    version,
    about = "One AWS endpoint: forwards everything to moto, runs Lambda invokes on local processes."
)]
pub struct Config {
    #[command(flatten)]
    pub listen: BindArgs<DEFAULT_PORT>,
    /// moto's URL: every request the gateway does not own goes there unchanged.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:9014")]
    pub moto_url: String,
    /// A function `NAME=URL[,TIMEOUT_S]` (repeatable): Invoke of NAME POSTs to URL's RIE path.
    /// The timeout defaults to 3 s, as in AWS.
    #[arg(long = "lambda", value_name = "NAME=URL[,TIMEOUT_S]")]
    pub lambdas: Vec<LambdaTarget>,
    /// A JSON function table: `[{"name", "url", "timeout_s"?, "service"?}, ...]` or
    /// `{"lambdas": [...]}`. Adds to `--lambda`.
    #[arg(long, value_name = "FILE")]
    pub lambdas_file: Option<PathBuf>,
    /// An SQS → Lambda mapping `FUNCTION=QUEUE_ARN[,BATCH_SIZE][,report-failures]` (repeatable),
    /// polled like the mappings created in moto with CreateEventSourceMapping.
    #[arg(
        long = "sqs-mapping",
        value_name = "FUNCTION=QUEUE_ARN[,BATCH][,report-failures]"
    )]
    pub sqs_mappings: Vec<MappingSpec>,
    /// AWS region (for ARNs and the SDK clients talking to moto).
    #[arg(long, default_value = DEFAULT_REGION)]
    pub region: String,
    /// Where fault rules marked `persist` are kept across restarts (none: such rules are refused).
    #[arg(long, value_name = "FILE")]
    pub faults_file: Option<std::path::PathBuf>,
    /// AWS account id (for ARNs; moto's default).
    #[arg(long, default_value = DEFAULT_ACCOUNT)]
    pub account_id: String,
    /// How long moto may take to start answering a forwarded request, in seconds.
    #[arg(long, default_value_t = 60)]
    pub upstream_timeout_s: u64,
    /// First retry delay of a failed `Event` invocation, in milliseconds; the second retry waits
    /// twice as long. AWS waits about 1 minute, then 2 minutes: a local stack wants it faster.
    #[arg(long, default_value_t = 1000)]
    pub event_retry_base_ms: u64,
    /// How many `Event` invocations may wait (queued or between retries) at once; more get 429.
    #[arg(long, default_value_t = 1000)]
    pub event_queue_capacity: usize,
    /// How many `Event` invocations run at the same time.
    #[arg(long, default_value_t = 8)]
    pub event_concurrency: usize,
    /// How many recent invocations `/_gateway/lambdas` keeps per function.
    #[arg(long, default_value_t = 50)]
    pub invocations_kept: usize,
    /// How often the event source mappings are re-read from moto, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub esm_refresh_ms: u64,
    /// Long-poll wait of one SQS ReceiveMessage, in seconds (0-20).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i32).range(0..=20))]
    pub sqs_wait_s: i32,
}

impl ServiceConfig for Config {
    fn listen_addr(&self) -> std::net::SocketAddr {
        self.listen.addr()
    }
}

impl Config {
    /// A config with every default, as the binary would parse it with no flags.
    pub fn defaults() -> Self {
        Config::parse_from(["aws-gateway"])
    }

    /// The function table: `--lambda` flags plus the `--lambdas-file` entries.
    pub fn function_table(&self) -> anyhow::Result<FunctionTable> {
        let mut targets = self.lambdas.clone();
        if let Some(path) = &self.lambdas_file {
            targets.extend(FunctionTable::read_specs(path)?);
        }
        Ok(FunctionTable::new(targets, &self.region, &self.account_id)?)
    }

    pub fn upstream_timeout(&self) -> Duration {
        Duration::from_secs(self.upstream_timeout_s.max(1))
    }

    pub fn event_retry_base(&self) -> Duration {
        Duration::from_millis(self.event_retry_base_ms)
    }

    pub fn esm_refresh(&self) -> Duration {
        Duration::from_millis(self.esm_refresh_ms.max(50))
    }
}

/// `FUNCTION=QUEUE_ARN[,BATCH_SIZE][,report-failures]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingSpec {
    pub function: String,
    pub queue_arn: String,
    pub batch_size: i32,
    pub report_batch_item_failures: bool,
}

impl FromStr for MappingSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let usage =
            || format!("expected FUNCTION=QUEUE_ARN[,BATCH_SIZE][,report-failures], got {s:?}");
        let (function, rest) = s.split_once('=').ok_or_else(usage)?;
        let mut parts = rest.split(',');
        let queue_arn = parts.next().unwrap_or_default().trim().to_owned();
        if function.is_empty() || !queue_arn.starts_with("arn:") || !queue_arn.contains(":sqs:") {
            return Err(usage());
        }
        let mut spec = MappingSpec {
            function: function.trim().to_owned(),
            queue_arn,
            batch_size: 10,
            report_batch_item_failures: false,
        };
        for p in parts {
            match p.trim() {
                "report-failures" => spec.report_batch_item_failures = true,
                n => {
                    spec.batch_size = n
                        .parse()
                        .ok()
                        .filter(|b| (1..=10_000).contains(b))
                        .ok_or_else(usage)?;
                }
            }
        }
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_flags() {
        let c = Config::defaults();
        assert_eq!(c.listen.port, DEFAULT_PORT);
        assert_eq!(c.event_retry_base(), Duration::from_secs(1));
        assert!(c.function_table().unwrap().targets().is_empty());
        let c = Config::parse_from([
            "aws-gateway",
            "--lambda",
            "a=http://127.0.0.1:1,30",
            "--sqs-mapping",
            "a=arn:aws:sqs:us-east-1:123456789012:q,5,report-failures",
        ]);
        let t = c.function_table().unwrap();
        assert_eq!(t.get("a").unwrap().timeout, Duration::from_secs(30));
        assert_eq!(c.sqs_mappings[0].batch_size, 5);
        assert!(c.sqs_mappings[0].report_batch_item_failures);
        assert!(Config::try_parse_from(["aws-gateway", "--lambda", "a"]).is_err());
        assert!("a=q".parse::<MappingSpec>().is_err());
        assert!("a=arn:aws:sqs:r:1:q,0".parse::<MappingSpec>().is_err());
    }
}
