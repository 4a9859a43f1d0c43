//! The command line (clap). Each subcommand's work lives in `commands/<name>.rs`; the flags that
//! name a stack (`StackArgs`, `--port-offset`) live in `settings.rs`, beside the code that reads them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::settings::{PortOffsetArg, StackArgs};

#[derive(Parser, Debug)]
#[command(
    name = "orchestrator",
    version,
    about = "Hippodrome: the local fake-cloud stack (Marqo cell, Cognito, EventBridge router, moto) in one command",
    after_help = "Start with `orchestrator up`; `orchestrator status` and `orchestrator logs <service>` from another shell."
)]
pub struct Cli {
    /// Project root (where hippodrome.toml and .hippodrome/ live). Default: the git top level, else the current directory.
    #[arg(long, global = true, env = "HIPPODROME_PROJECT_ROOT")]
    pub project_root: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Start the stack in dependency layers, seed it, and supervise it until Ctrl+C.
    Up(UpArgs),
    /// Show every service's status (reads the dashboard API; never starts anything).
    Status(StatusArgs),
    /// Print a service's log from the newest run.
    Logs(LogsArgs),
    /// Stop the running stack from another terminal.
    Stop(PortOffsetArg),
    /// Kill every process and free every port of this project's stack, even after the orchestrator died.
    Kill(PortOffsetArg),
    /// Restart, stop or start one service (or all), or shut the stack down.
    Control(ControlArgs),
    /// Wait until the running stack is ready (every blocking service healthy, seed done); exit 1 with the reason otherwise.
    Wait(WaitArgs),
    /// Seed a running stack on demand (the same seed `up` runs after layer 0).
    Seed(SeedArgs),
    /// Encrypted API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Delete the stack's saved state (.hippodrome/state); asks first.
    Reset(ResetArgs),
    /// EventBridge resources behind the exporters.
    #[command(subcommand)]
    Events(EventsCommand),
    /// Check a running stack end to end (services up, seeded data present); exit 1 if anything fails.
    Smoke(PortOffsetArg),
    /// Find every known way the local stack goes wrong, each with its fix.
    Doctor(DoctorArgs),
    /// Write the stack as `up` runs it as a Compose file or Kubernetes manifests.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Seed once from the environment (the exports' seed job; no dashboard needed).
    #[command(hide = true)]
    SeedJob(SeedJobArgs),
    /// Inject faults into the built-in services (errors, latency, dropped connections, timeouts).
    #[command(subcommand)]
    Fault(FaultCommand),
    /// Save, restore, list, delete and diff snapshots of the whole stack's state.
    #[command(subcommand)]
    Snapshot(SnapshotCommand),
    /// Run one built-in service in this process (how `up` starts them; also handy for debugging).
    #[command(hide = true)]
    Serve(ServeArgs),
}

#[derive(Args, Debug, Clone)]
pub struct UpArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// Do not seed after layer 0.
    #[arg(long)]
    pub no_seed: bool,
    /// Return once the stack is ready and leave it running in the background.
    #[arg(long)]
    pub detach: bool,
    /// AWS mode: tunnel the webhook router with cloudflared and create the EventBridge connection,
    /// API destination, rule and target pointing at it (removed again on shutdown).
    #[arg(long)]
    pub enable_events: bool,
    /// Start from empty state (deletes .hippodrome/state first).
    #[arg(long)]
    pub fresh: bool,
    /// Start already restored to snapshot NAME (`.hippodrome/snapshots/NAME`) instead of seeding.
    #[arg(long, value_name = "NAME")]
    pub from_snapshot: Option<String>,
    /// Answer yes to confirmations (needed for --cell prod without a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Seconds a layer may take to become healthy before the next layer starts anyway.
    #[arg(long, default_value_t = 60)]
    pub layer_timeout: u64,
    /// Milliseconds between liveness probes of a running service.
    #[arg(long, default_value_t = 10_000)]
    pub health_interval_ms: u64,
    /// Seed size: accounts.
    #[arg(long)]
    pub seed_accounts: Option<usize>,
    /// Seed size: documents per index.
    #[arg(long)]
    pub seed_docs_per_index: Option<usize>,
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    pub offset: PortOffsetArg,
    /// Print the raw JSON of /api/status.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct LogsArgs {
    /// Service name (e.g. fake_cell).
    pub service: String,
    /// Keep printing new lines as they are written.
    #[arg(short, long)]
    pub follow: bool,
    /// How many lines from the end to print first.
    #[arg(long, default_value_t = 100)]
    pub tail: usize,
}

#[derive(Args, Debug)]
pub struct ControlArgs {
    #[arg(value_parser = ["restart", "stop", "start", "shutdown"])]
    pub action: String,
    /// One service; the whole stack when absent.
    pub service: Option<String>,
    #[command(flatten)]
    pub offset: PortOffsetArg,
}

#[derive(Args, Debug)]
pub struct WaitArgs {
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
    #[command(flatten)]
    pub offset: PortOffsetArg,
}

#[derive(Args, Debug)]
pub struct SeedArgs {
    #[command(flatten)]
    pub offset: PortOffsetArg,
    /// Seed number (default: HIPPODROME_RANDOM_SEED, else the running stack's seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// The standard benchmark data set (50 accounts, 500 users, 5 indexes × 2,000 documents).
    #[arg(long)]
    pub standard: bool,
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Print the system_account_id, cell and token inside an encrypted API key.
    Decode {
        key: String,
        /// Secret the key was encrypted with.
        #[arg(
            long,
            env = "HIPPODROME_ENCRYPTION_SECRET",
            default_value = "1234567890ABCDEF"
        )]
        secret: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum EventsCommand {
    /// Check that the buses, rules, API destinations and pipes exist: [OK], [MISSING] or [WARN] per item.
    Validate {
        /// Table prefix whose pipes to look for.
        #[arg(long)]
        table_prefix: String,
        /// Talk to this endpoint (e.g. moto) with dummy credentials instead of real AWS.
        #[arg(long, env = "HIPPODROME_EVENTS_ENDPOINT_URL")]
        endpoint_url: Option<String>,
        #[arg(long, default_value = "us-east-1")]
        region: String,
    },
}

#[derive(Args, Debug)]
pub struct ResetArgs {
    /// Do not ask.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// fake-cell, fake-cognito, webhook-router or aws-gateway.
    #[arg(value_parser = ["fake-cell", "fake-cognito", "webhook-router", "aws-gateway"])]
    pub service: String,
    /// The service's own flags.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<std::ffi::OsString>,
}

// The same flags as `up`, worded for checking.
#[derive(Args, Debug)]
#[command(
    mut_arg("profile", |a| a.help("The profile whose ports, programs and setup steps to check (as for `up`)")),
    mut_arg("cell", |a| a.help("The cell to check; staging and prod also check the cell URL and AWS credentials")),
    mut_arg("table_prefix", |a| a.help("The table prefix `up` would be given (checked for characters DynamoDB refuses)")),
    mut_arg("port_offset", |a| a.help("Check the ports of a stack shifted by N (as for `up`)")),
    mut_arg("only", |a| a.help("Check only these services (comma-separated names), as for `up --only`")),
)]
pub struct DoctorArgs {
    /// Print the checks as JSON (`{"ok":N,"warn":N,"fail":N,"checks":[{check,status,message,fix}]}`).
    #[arg(long)]
    pub json: bool,
    /// Also check what `orchestrator export k8s|compose` needs (images, host paths, unique ports).
    #[arg(long, value_enum)]
    pub target: Option<ExportTarget>,
    #[command(flatten)]
    pub stack: StackArgs,
    /// Also check what real events need (cloudflared for the public tunnel).
    #[arg(long)]
    pub enable_events: bool,
}

#[derive(Subcommand, Debug)]
pub enum ExportCommand {
    /// A Compose file: one service per stack service, depends_on reproducing the layers, the seed as a one-shot service.
    Compose(ExportComposeArgs),
    /// Kubernetes manifests (base/ with a kustomization.yaml; overlays/<NS>/ per --overlay).
    K8s(ExportK8sArgs),
}

#[derive(Args, Debug)]
pub struct ExportImageArgs {
    /// The Hippodrome image (built from this repository's Dockerfile) that runs the built-ins and the seed.
    #[arg(long, default_value = "hippodrome:latest")]
    pub image: String,
    /// Seed number of the seed job.
    #[arg(long, env = "HIPPODROME_RANDOM_SEED", default_value_t = 1)]
    pub seed: u64,
}

#[derive(Args, Debug)]
pub struct ExportComposeArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    #[command(flatten)]
    pub image: ExportImageArgs,
    /// Write here instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ExportK8sArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    #[command(flatten)]
    pub image: ExportImageArgs,
    /// Directory for base/ and overlays/ (files an earlier export wrote in base/ are replaced).
    #[arg(long, default_value = "k8s")]
    pub out: PathBuf,
    /// Namespace of the base manifests.
    #[arg(long, default_value = "hippodrome")]
    pub namespace: String,
    /// Also write a Kustomize overlay moving the stack into this namespace (repeatable, e.g. one per pull request).
    #[arg(long)]
    pub overlay: Vec<String>,
}

#[derive(Args, Debug)]
pub struct SeedJobArgs {
    /// Where seed.json and .env.e2e go.
    #[arg(long, default_value = "/data/seed")]
    pub out: PathBuf,
    /// The stack has no moto (profile core): seed no AWS resources.
    #[arg(long)]
    pub no_aws: bool,
    /// The stack uses a real cell: seed none of the cell.
    #[arg(long)]
    pub no_cell: bool,
}

/// What `doctor --target` checks an export for.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportTarget {
    K8s,
    Compose,
}

/// `orchestrator snapshot ...` (see README.md "Snapshots").
#[derive(Subcommand, Debug)]
pub enum SnapshotCommand {
    /// Save the running stack's state as snapshot NAME (replacing one of that name).
    Save(SnapshotNameArgs),
    /// Restore snapshot NAME into the running stack, in place (no restart, same ports).
    Restore(SnapshotNameArgs),
    /// List the project's snapshots.
    List(SnapshotListArgs),
    /// Delete snapshot NAME.
    Delete(SnapshotNameArgs),
    /// What changed since snapshot NAME, per service (counts).
    Diff(SnapshotNameArgs),
}

#[derive(Args, Debug)]
pub struct SnapshotNameArgs {
    pub name: String,
    #[command(flatten)]
    pub offset: PortOffsetArg,
    /// Print the JSON answer instead of a summary.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct SnapshotListArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum FaultCommand {
    /// Add a rule to the service that owns `--service` (see README.md "Fault injection").
    Add(Box<FaultAddArgs>),
    /// List every service's rules with their hit counters.
    List(FaultListArgs),
    /// Remove rules: all of them, one service's, or one rule (`--service S --id ID`).
    Clear(FaultClearArgs),
}

#[derive(Args, Debug, Clone)]
#[command(group(clap::ArgGroup::new("action").required(true).multiple(true).args(["error", "latency_ms", "drop", "timeout"])))]
#[command(group(clap::ArgGroup::new("how_often").args(["next", "every", "probability"])))]
#[command(group(clap::ArgGroup::new("kind").args(["error", "drop", "timeout"])))]
pub struct FaultAddArgs {
    #[command(flatten)]
    pub offset: PortOffsetArg,
    /// The service: fake-cell (marqo), fake-cognito (cognito-idp), webhook-router, or an AWS
    /// service behind the gateway (dynamodb, sqs, sns, s3, lambda, states, …).
    #[arg(long)]
    pub service: String,
    /// The operation (PutItem, InitiateAuth, search, Invoke…); `*` is a wildcard.
    #[arg(long)]
    pub operation: Option<String>,
    /// The resource (table, queue, topic, bucket, Lambda function, Marqo index…); `*` is a wildcard.
    #[arg(long)]
    pub resource: Option<String>,
    /// Answer with this error code, in the service's own error shape.
    #[arg(long, value_name = "CODE")]
    pub error: Option<String>,
    /// The error's HTTP status (default: the service's status for the code).
    #[arg(long, value_name = "N", requires = "error")]
    pub status: Option<u16>,
    /// The error's message.
    #[arg(long, requires = "error")]
    pub message: Option<String>,
    /// Delay matching calls by N milliseconds (alone, or before the error/drop/timeout).
    #[arg(long, value_name = "N")]
    pub latency_ms: Option<u64>,
    /// Close the connection without an answer.
    #[arg(long)]
    pub drop: bool,
    /// Never answer (the request is held, then dropped after `--timeout-after`).
    #[arg(long)]
    pub timeout: bool,
    /// How long a `--timeout` holds the request (default 60s).
    #[arg(long, value_name = "DURATION", requires = "timeout", value_parser = parse_duration_ms)]
    pub timeout_after: Option<u64>,
    /// Fire on the next N matching calls only.
    #[arg(long, value_name = "N")]
    pub next: Option<u64>,
    /// Fire on every Nth matching call.
    #[arg(long, value_name = "N")]
    pub every: Option<u64>,
    /// Fire with this probability (0-1), drawn from an RNG seeded by HIPPODROME_RANDOM_SEED.
    #[arg(long, value_name = "P")]
    pub probability: Option<f64>,
    /// Seed of this rule's RNG instead of the stack's.
    #[arg(long, value_name = "N", requires = "probability")]
    pub seed: Option<u64>,
    /// Remove the rule after this long (e.g. 30s, 500ms, 5m).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_ms)]
    pub expires_in: Option<u64>,
    /// Remove the rule after it fired N times.
    #[arg(long, value_name = "N")]
    pub max_hits: Option<u64>,
    /// Keep the rule across a restart of the service.
    #[arg(long)]
    pub persist: bool,
    /// Print the rule as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug, Clone)]
pub struct FaultListArgs {
    #[command(flatten)]
    pub offset: PortOffsetArg,
    /// Print the dashboard's `/api/faults` answer as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug, Clone)]
pub struct FaultClearArgs {
    #[command(flatten)]
    pub offset: PortOffsetArg,
    /// Only this service's rules (any name `--service` of `fault add` takes).
    #[arg(long)]
    pub service: Option<String>,
    /// Only this rule (needs `--service`).
    #[arg(long, requires = "service")]
    pub id: Option<String>,
}

/// `30s`, `500ms`, `5m`, `1h` or plain milliseconds, as milliseconds.
pub fn parse_duration_ms(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("expected a duration such as 30s, 500ms or 5m, got {s:?}"))?;
    let factor = match unit {
        "" | "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(format!("unknown unit {unit:?} in {s:?} (ms, s, m, h)")),
    };
    n.checked_mul(factor)
        .ok_or_else(|| format!("duration {s:?} is too long"))
}
