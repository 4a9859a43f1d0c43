//! The AWS gateway: one AWS endpoint for a local stack. Every request goes to moto unchanged,
//! except what moto cannot do without Docker, which the gateway owns: Lambda `Invoke` (run on
//! the team's local processes through [`lambda_invoke`]) and SQS event source mappings.
//! moto's Step Functions engine, started with `MOTO_PORT` pointing here, reaches the team's
//! Lambdas through the same path.
//!
//! Layout:
//! - [`config`]: the clap `Config` (`--moto-url`, `--lambda`, `--lambdas-file`, ...);
//! - [`proxy`]: the streaming forward to moto;
//! - [`invoke_api`]: `POST /2015-03-31/functions/{name}/invocations`;
//! - [`async_invoke`]: the bounded `Event` queue with AWS's retries; [`destinations`]: what
//!   happens after the last try (on-success/on-failure destinations, dead-letter queue);
//! - [`dead_letter`]: functions' `DeadLetterConfig`, which moto drops: learnt from the calls
//!   that set it, shown in the answers that read it;
//! - [`esm`]: SQS → Lambda event source mappings (discovery, pollers, the mapping calls);
//! - [`recent`]: each function's last invocations, behind `GET /_gateway/lambdas`;
//! - [`faults`]: how fault rules name AWS calls (service, operation, resource) and each
//!   protocol's error shape for injected ones;
//! - [`moto`]: the SDK clients the gateway itself uses against moto;
//! - [`restore_gate`]: holds every call back while a snapshot restore replays moto;
//! - [`error`]: the crate's error enum, answered in AWS's shape.

pub mod async_invoke;
pub mod config;
pub mod dead_letter;
pub mod destinations;
pub mod error;
pub mod esm;
pub mod faults;
pub mod invoke_api;
pub mod moto;
pub mod proxy;
pub mod recent;
pub mod restore_gate;

use std::ffi::OsString;
use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::serve::ListenerExt;
use axum::{Json, Router};
use lambda_invoke::{FunctionTable, Invoker};
use serde_json::{Value, json};
use service_kit::{HealthState, Shutdown};
use tokio::net::TcpListener;

pub use config::Config;

pub const SERVICE: &str = "aws-gateway";

/// Shared state. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    table: FunctionTable,
    invoker: Invoker,
    proxy: proxy::Proxy,
    moto: moto::MotoClients,
    events: async_invoke::EventQueue,
    dead_letters: dead_letter::DeadLetters,
    esm: esm::EsmState,
    recent: recent::Recent,
    health: HealthState,
    shutdown: Shutdown,
    faults: service_kit::faults::Faults,
    restore_gate: restore_gate::Gate,
}

impl AppState {
    pub async fn new(
        config: Config,
        health: HealthState,
        shutdown: Shutdown,
    ) -> anyhow::Result<Self> {
        let long_poll = Duration::from_secs(config.sqs_wait_s.max(0) as u64);
        Ok(AppState {
            inner: Arc::new(Inner {
                table: config.function_table()?,
                invoker: Invoker::new()?,
                proxy: proxy::Proxy::new(&config.moto_url, config.upstream_timeout())?,
                moto: moto::MotoClients::new(&config.moto_url, &config.region, long_poll).await,
                events: async_invoke::EventQueue::new(
                    config.event_queue_capacity,
                    config.event_concurrency,
                    config.event_retry_base(),
                ),
                dead_letters: dead_letter::DeadLetters::default(),
                esm: esm::EsmState::default(),
                recent: recent::Recent::new(config.invocations_kept),
                faults: faults::registry(&config, &health),
                restore_gate: restore_gate::Gate::default(),
                health,
                shutdown,
                config,
            }),
        })
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }
    pub fn table(&self) -> &FunctionTable {
        &self.inner.table
    }
    pub fn invoker(&self) -> &Invoker {
        &self.inner.invoker
    }
    pub fn proxy(&self) -> &proxy::Proxy {
        &self.inner.proxy
    }
    pub fn moto(&self) -> &moto::MotoClients {
        &self.inner.moto
    }
    pub fn events(&self) -> &async_invoke::EventQueue {
        &self.inner.events
    }
    pub fn dead_letters(&self) -> &dead_letter::DeadLetters {
        &self.inner.dead_letters
    }
    pub fn esm(&self) -> &esm::EsmState {
        &self.inner.esm
    }
    pub fn recent(&self) -> &recent::Recent {
        &self.inner.recent
    }
    pub fn health(&self) -> &HealthState {
        &self.inner.health
    }
    pub fn shutdown(&self) -> &Shutdown {
        &self.inner.shutdown
    }
    pub fn faults(&self) -> &service_kit::faults::Faults {
        &self.inner.faults
    }
    pub fn restore_gate(&self) -> &restore_gate::Gate {
        &self.inner.restore_gate
    }
}

/// The HTTP API: the routes the gateway owns, and everything else to moto.
pub fn router(state: AppState) -> Router {
    let health = state.health().clone();
    let router = Router::new()
        .route(
            "/2015-03-31/functions/{function_name}/invocations",
            post(invoke_api::invoke).fallback(forward),
        )
        .route("/2015-03-31/functions", any(dead_letter::functions))
        .route("/2015-03-31/functions/", any(dead_letter::functions))
        .route(
            "/2015-03-31/functions/{function_name}",
            any(dead_letter::function),
        )
        .route(
            "/2015-03-31/functions/{function_name}/configuration",
            any(dead_letter::configuration),
        )
        .route("/_gateway/lambdas", get(get_lambdas))
        .route(restore_gate::PATH, any(restore_gate::api))
        .fallback(forward)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            restore_gate::layer,
        ))
        .with_state(state.clone())
        .merge(service_kit::health_router(health));
    let router = faults::apply(router, &state);
    service_kit::telemetry::trace_requests(router)
}

/// Everything the gateway does not own: to moto, unchanged.
async fn forward(State(state): State<AppState>, req: Request<Body>) -> Response {
    let result = if esm::shadow::is_mapping_call(req.uri().path()) {
        esm::shadow::forward(&state, req).await
    } else {
        state.proxy().forward(req).await
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `GET /_gateway/lambdas`: the function table, each function's last invocations, the `Event`
/// queue and the event source mappings.
async fn get_lambdas(State(state): State<AppState>) -> Json<Value> {
    let functions: Vec<Value> = state
        .table()
        .targets()
        .iter()
        .map(|t| {
            let (counters, invocations) = state.recent().snapshot(&t.name);
            json!({
                "name": t.name,
                "arn": state.table().arn(&t.name, None),
                "url": t.url,
                "service": t.service,
                "timeout_s": t.timeout.as_secs_f64(),
                "dead_letter_target": state.dead_letters().target(&t.name),
                "invocations": counters.invocations,
                "errors": counters.errors,
                "recent": invocations,
            })
        })
        .collect();
    Json(json!({
        "moto_url": state.proxy().url(),
        "functions": functions,
        "event_queue": {
            "depth": state.events().depth(),
            "capacity": state.events().capacity(),
            "retry_base_ms": state.config().event_retry_base_ms,
        },
        "event_source_mappings": state.esm().statuses(),
    }))
}

/// Serve on an already bound listener until `shutdown` resolves; the mapping pollers run
/// beside the server and stop with it.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let health = HealthState::new(SERVICE, env!("CARGO_PKG_VERSION"));
    let token = Shutdown::new();
    let state = AppState::new(config, health.clone(), token.clone()).await?;
    for t in state.table().targets() {
        tracing::info!(function = %t.name, url = %t.url, timeout_s = t.timeout.as_secs_f64(), "lambda");
    }
    let manager = esm::spawn(state.clone());
    health.set_ready();
    tracing::info!(addr = %listener.local_addr()?, moto = %state.proxy().url(), "{SERVICE} ready");
    let trigger = token.clone();
    tokio::spawn(async move {
        shutdown.await;
        trigger.trigger();
    });
    // Graceful drain, but bounded: a long Invoke must not keep the process past its exit budget.
    let cutoff = {
        let token = token.clone();
        async move {
            token.wait().await;
            tokio::time::sleep(Duration::from_millis(700)).await;
        }
    };
    // TCP_NODELAY on accepted sockets: a streamed answer goes out as a header write then body
    // writes, and Nagle would hold the second until the client's delayed ACK (about 40 ms).
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY");
        }
    });
    let serve = axum::serve(listener, router(state)).with_graceful_shutdown(token.wait());
    tokio::select! {
        r = serve => r?,
        () = cutoff => tracing::warn!("shutdown: in-flight requests cut off after 700 ms"),
    }
    manager.abort();
    Ok(())
}

/// Parse arguments, set up logging and a runtime, bind, and run until SIGINT or SIGTERM.
pub fn cli_main<I: IntoIterator<Item = OsString>>(args: I) -> ExitCode {
    service_kit::cli::cli_main(SERVICE, args, run)
}
