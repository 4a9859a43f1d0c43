//! Cognito-compatible user pools, OAuth2 endpoints and an RS256 JWT issuer.
//!
//! Layout:
//! - [`target`]: the AWS JSON 1.1 front door (`X-Amz-Target` dispatch); [`params`]: reading a
//!   call's members; [`paging`]: the List operations' tokens;
//! - [`error`]: the one error enum (`__type` JSON for the API, RFC 6749 JSON for OAuth2);
//! - [`pools`], [`clients`], [`users`] (+ [`list_filter`]), [`groups`]: the resources;
//! - [`auth`]: sign-in flows (`password`, `srp`, `challenges`, `refresh`/revocation);
//! - [`tokens`]: claim sets, signing, verification; [`keys`] (+ [`rsagen`]): signing keys, JWKS;
//! - [`triggers`]: the pools' Lambda triggers (LambdaConfig, AWS's events, invoking through
//!   `lambda-invoke`'s function table, applying the responses);
//! - [`hosted_ui`] (the sign-in pages), [`oauth`] (its JSON endpoints), [`wellknown`],
//!   [`validate`] (admin routes), [`openapi`];
//! - [`model`] (the in-memory data), [`persist`] (snapshot + journal), [`app`] (the running
//!   service's shared state: model, keys, sessions and the one write path);
//! - [`ids`] (assigned ids, seeded or random), [`clock`] (now, movable by tests through
//!   [`clock_api`], which also serves `/healthz`).

pub mod app;
pub mod auth;
pub mod clients;
pub mod clock;
pub mod clock_api;
pub mod constraints;
pub mod custom_attributes;
pub mod domains;
pub mod error;
pub mod faults;
pub mod groups;
pub mod hosted_ui;
pub mod identity_providers;
pub mod ids;
pub mod keys;
pub mod list_filter;
pub mod mfa;
pub mod model;
pub mod oauth;
pub mod openapi;
pub mod paging;
pub mod params;
pub mod persist;
pub mod pools;
pub mod resource_servers;
pub mod rsagen;
pub mod schema;
pub mod snapshot;
pub mod target;
pub mod tokens;
pub mod triggers;
pub mod users;
pub mod validate;
pub mod wellknown;

use std::ffi::OsString;
use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;

use axum::Router;
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use axum::routing::{get, post};
use clap::Parser;
use service_kit::HealthState;
use service_kit::cli::{BindArgs, RandomSeed, SEED_ENV, ServiceConfig};
use tokio::net::TcpListener;
use tower_http::cors::{Any, CorsLayer};

pub use app::{App, AppState};

pub const SERVICE: &str = "fake-cognito";

/// What `iss` looks like.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssuerMode {
    /// `{public-url}/{poolId}`: OIDC discovery and pycognito find the JWKS on this server.
    Local,
    /// `https://cognito-idp.{region}.amazonaws.com/{poolId}`, for code that builds the issuer itself.
    Aws,
}

/// Command-line configuration (also what `orchestrator serve fake-cognito ...` passes through).
#[derive(Parser, Debug, Clone)]
#[command(
    name = "fake-cognito",
    version,
    about = "Cognito-compatible user pools, OAuth2 endpoints and an RS256 JWT issuer."
)]
pub struct Config {
    #[command(flatten)]
    pub listen: BindArgs<9006>,
    /// Snapshot file; journal files live beside it.
    #[arg(
        long,
        env = "FAKE_COGNITO_STATE_FILE",
        default_value = "/tmp/fake_cognito_state.json"
    )]
    pub state_file: PathBuf,
    /// Region for new pool ids when a request carries no SigV4 credential scope.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Account id in ARNs when a request's SigV4 access key id is not itself 12 digits.
    #[arg(
        long,
        env = "FAKE_COGNITO_ACCOUNT_ID",
        default_value = "000000000000",
        value_parser = target::parse_account_id
    )]
    pub account_id: String,
    /// Issuer form minted into `iss` (and published as the discovery `issuer`).
    #[arg(long, value_enum, default_value_t = IssuerMode::Local)]
    pub issuer: IssuerMode,
    /// Base URL clients reach this server at (default `http://127.0.0.1:{port}`).
    #[arg(long)]
    pub public_url: Option<String>,
    /// Derive pool/client ids, subs and the signing keys from this number instead of at random.
    #[arg(
        long,
        env = SEED_ENV,
        value_name = "N",
        default_value = "",
        hide_default_value = true,
        value_parser = RandomSeed::parse
    )]
    pub random_seed: RandomSeed,
    /// A Lambda function `NAME=URL[,TIMEOUT_S]` (repeatable, as aws-gateway takes it): a user
    /// pool's `LambdaConfig` ARNs resolve to these by function name.
    #[arg(long = "lambda", value_name = "NAME=URL[,TIMEOUT_S]")]
    pub lambdas: Vec<lambda_invoke::LambdaTarget>,
    /// A JSON function table (`[{"name", "url", "timeout_s"?}]` or `{"lambdas": [...]}`), added
    /// to `--lambda`.
    #[arg(long, value_name = "FILE")]
    pub lambdas_file: Option<PathBuf>,
}

impl ServiceConfig for Config {
    fn listen_addr(&self) -> std::net::SocketAddr {
        self.listen.addr()
    }
}

async fn request_id(mut res: Response) -> Response {
    if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        res.headers_mut().insert("x-amzn-RequestId", v);
    }
    res
}

/// The HTTP API.
pub fn router(app: AppState) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods(Any)
        .allow_headers(Any)
        .expose_headers([
            HeaderName::from_static("x-amzn-requestid"),
            HeaderName::from_static("x-amzn-errortype"),
            HeaderName::from_static("x-amzn-errormessage"),
        ]);
    let router = Router::new()
        .route("/", post(target::handle))
        .route("/{pool_id}/.well-known/jwks.json", get(wellknown::jwks))
        .route(
            "/{pool_id}/.well-known/openid-configuration",
            get(wellknown::openid_configuration),
        )
        .merge(hosted_ui::routes())
        .nest("/domain/{prefix}", hosted_ui::routes())
        .route("/_fake/validate", get(validate::validate))
        .route("/_fake/codes", get(validate::codes))
        .route("/_fake/state", get(validate::state))
        .route("/_fake/reset", post(validate::reset))
        .route(
            "/_fake/snapshot",
            get(snapshot::get_snapshot)
                .put(snapshot::put_snapshot)
                .layer(axum::extract::DefaultBodyLimit::max(1 << 30)),
        )
        .route("/_fake/snapshot/summary", get(snapshot::get_summary))
        .route(
            "/_fake/clock",
            get(clock_api::get_clock).post(clock_api::post_clock),
        )
        .route("/healthz", get(clock_api::healthz))
        .route("/openapi.json", get(openapi::spec))
        .with_state(app.clone())
        .fallback(service_kit::error::not_found)
        .method_not_allowed_fallback(service_kit::error::method_not_allowed);
    let router = snapshot::gate(router, &app);
    let router = faults::apply(router, &app)
        .layer(axum::middleware::map_response(request_id))
        .layer(cors);
    service_kit::telemetry::trace_requests(router)
}

/// Serve on an already bound listener until `shutdown` resolves.
pub async fn run(
    mut config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    config.listen.port = addr.port();
    if config.public_url.is_none() {
        let host = if addr.ip().is_unspecified() {
            "127.0.0.1".to_owned()
        } else {
            addr.ip().to_string()
        };
        config.public_url = Some(format!("http://{host}:{}", addr.port()));
    }
    let health = HealthState::new(SERVICE, env!("CARGO_PKG_VERSION"));
    let app = App::open(config, health.clone()).await?;
    health.set_ready();
    tracing::info!(%addr, issuer = %app.issuer("<poolId>"), kid_id = %app.keys.id.kid,
        kid_access = %app.keys.access.kid, "{SERVICE} ready");
    service_kit::serve(listener, router(app), shutdown).await?;
    Ok(())
}

/// Parse arguments, set up logging and a runtime, bind, and run until SIGINT or SIGTERM.
pub fn cli_main<I: IntoIterator<Item = OsString>>(args: I) -> ExitCode {
    service_kit::cli::cli_main(SERVICE, args, run)
}
