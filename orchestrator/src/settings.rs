//! A stack's settings, resolved once for `up`, `doctor` and `seed` from the command line, the
//! environment, `hippodrome.toml` and git: paths, ports (`--port-offset`), cell and its URL, table
//! prefix, seed, the services' environment [`Context`] and the plan built from them — so the three
//! commands can never disagree about which stack they mean.

use std::path::Path;

use clap::Args;

use crate::config::env::Context;
use crate::config::{Cell, HippodromeToml, Paths, Ports, Profile, TomlError, project};
use crate::services::{self, ServiceSpec, ServicesInput};

// No `///` on these structs: clap would take it as the subcommand's description.

// `--port-offset`, declared once; every command that starts, checks or finds a stack flattens it.
#[derive(Args, Debug, Clone, Default)]
pub struct PortOffsetArg {
    /// Port offset of the stack, used when .hippodrome/run.json is missing.
    #[arg(long, default_value_t = 0, env = "HIPPODROME_PORT_OFFSET")]
    pub port_offset: u16,
}

// What names a stack: the flags `up` and `doctor` share.
#[derive(Args, Debug, Clone)]
#[command(mut_arg("port_offset", |a| a.help("Shift every port by N, to run a second stack beside another")))]
pub struct StackArgs {
    /// Which services to run.
    #[arg(long, value_enum, default_value = "full")]
    pub profile: Profile,
    /// Which Marqo cell to use; staging and prod skip fake_cell and use the URL from hippodrome.toml.
    #[arg(long, value_enum, default_value = "local")]
    pub cell: Cell,
    /// DynamoDB table prefix. Default: dev-{git branch}- (sanitised).
    #[arg(long)]
    pub table_prefix: Option<String>,
    #[command(flatten)]
    pub offset: PortOffsetArg,
    /// Start only these services (comma-separated names).
    #[arg(long, value_delimiter = ',')]
    pub only: Option<Vec<String>>,
}

/// Everything about a stack that follows from [`StackArgs`] before anything starts.
pub struct Resolved {
    pub paths: Paths,
    /// The parsed `hippodrome.toml`, or why it does not parse (`doctor` reports that; `up` and
    /// `seed` stop on it through [`Resolved::checked_toml`]).
    pub toml: Result<HippodromeToml, TomlError>,
    pub profile: Profile,
    pub cell: Cell,
    pub only: Option<Vec<String>>,
    pub ports: Ports,
    /// What every service's environment and `{templates}` are built from. Its `seed` is 0 until
    /// [`Resolved::choose_seed`]; its `cell_url` is empty for a real cell `hippodrome.toml` lacks.
    pub ctx: Context,
}

/// Resolve a stack's settings without side effects (nothing is created, started or printed).
pub fn resolve(root: Option<&Path>, args: &StackArgs) -> Resolved {
    let paths = Paths::new(project::project_root(root));
    let toml = HippodromeToml::load(&paths.project_root);
    let ports = Ports::new(args.offset.port_offset);
    let url = |port: u16| format!("http://127.0.0.1:{port}");
    let cfg = HippodromeToml::or_empty(&toml);
    let cell_url = match args.cell {
        Cell::Local => url(ports.fake_cell()),
        real => cfg
            .cells
            .get(real.as_str())
            .map(|c| c.url.clone())
            .unwrap_or_default(),
    };
    let table_prefix = args
        .table_prefix
        .clone()
        .or_else(|| cfg.project.table_prefix.clone())
        .unwrap_or_else(|| {
            project::default_table_prefix(project::git_branch(&paths.project_root).as_deref())
        });
    let ctx = Context {
        port: None,
        cell: args.cell.as_str().to_owned(),
        cell_url,
        staging_cell_url: cfg.cells.get("staging").map(|c| c.url.clone()),
        // The AWS endpoint: the gateway, which forwards to moto all it does not own itself.
        moto_url: url(ports.aws_gateway()),
        cognito_url: url(ports.fake_cognito()),
        router_url: url(ports.webhook_router()),
        dashboard_url: url(ports.dashboard()),
        search_proxy_url: url(ports.search_proxy()),
        table_prefix,
        project_root: paths.project_root.to_string_lossy().into_owned(),
        seed: 0,
        encryption_secret: std::env::var("HIPPODROME_ENCRYPTION_SECRET")
            .unwrap_or_else(|_| "1234567890ABCDEF".into()),
        region: "us-east-1".into(),
        cognito_pool_id: None,
        cognito_client_id: None,
        tables: table_suffixes(),
    };
    Resolved {
        paths,
        toml,
        profile: args.profile,
        cell: args.cell,
        only: args.only.clone(),
        ports,
        ctx,
    }
}

/// The DynamoDB table suffixes the seed creates (one env var each for the services).
fn table_suffixes() -> Vec<String> {
    seed::fixtures::get()
        .map(|f| f.tables.iter().map(|t| t.base_name().to_owned()).collect())
        .unwrap_or_default()
}

impl Resolved {
    /// The configuration in effect: the parsed file, or an empty one when it does not parse.
    pub fn config(&self) -> &HippodromeToml {
        HippodromeToml::or_empty(&self.toml)
    }

    /// The parsed `hippodrome.toml`, or the error that stops `up` and `seed`.
    pub fn checked_toml(&self) -> anyhow::Result<&HippodromeToml> {
        self.toml.as_ref().map_err(|e| {
            anyhow::anyhow!("bad hippodrome.toml: {e} (see TROUBLESHOOTING.md#bad-hippodrome-toml)")
        })
    }

    /// The cell's URL; an error for a real cell that `hippodrome.toml` has no URL for.
    pub fn cell_url(&self) -> anyhow::Result<&str> {
        if self.cell != Cell::Local && !self.config().cells.contains_key(self.cell.as_str()) {
            anyhow::bail!(
                "--cell {} needs [cells.{}] url = \"...\" in hippodrome.toml",
                self.cell.as_str(),
                self.cell.as_str()
            );
        }
        Ok(&self.ctx.cell_url)
    }

    pub fn table_prefix(&self) -> &str {
        &self.ctx.table_prefix
    }

    pub fn seed(&self) -> u64 {
        self.ctx.seed
    }

    /// Fix the seed: `explicit`, else `HIPPODROME_RANDOM_SEED`, else a random one (then `true`,
    /// so the caller can say how to reproduce the run).
    pub fn choose_seed(&mut self, explicit: Option<u64>) -> bool {
        let (seed, chosen) = ::seed::resolve_seed(explicit);
        self.ctx.seed = seed;
        chosen
    }

    /// The plan `up` runs: built-ins re-executed from `self_exe`, moto from its venv, the team's
    /// services from `hippodrome.toml`.
    pub fn plan(&self, self_exe: &Path) -> Result<Vec<ServiceSpec>, String> {
        let moto_argv = crate::moto::server_argv();
        services::build(&ServicesInput {
            profile: self.profile,
            cell: self.cell,
            only: self.only.as_deref(),
            ports: self.ports,
            paths: &self.paths,
            toml: self.config(),
            ctx: &self.ctx,
            self_exe,
            moto_argv: &moto_argv,
            moto_setup: crate::moto::setup(),
        })
    }
}
