//! The middleware every built-in service wraps its router with: it serves `/_fake/faults`, lets
//! `/healthz` through untouched, and applies the first firing rule to every other call. While no
//! rule is active a request costs one atomic load.

use std::sync::Arc;
use std::sync::LazyLock;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::CONTENT_LENGTH;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use tokio::sync::Notify;

use super::{Call, Classifier, Fault, FaultAction, Faults, api};

/// Largest body buffered to classify a call; bigger or unsized bodies are classified without it.
const BODY_LIMIT: u64 = 8 * 1024 * 1024;

/// Hangs end when the process shuts down, so a `timeout` rule never holds up the exit.
static RELEASE_HANGS: LazyLock<Notify> = LazyLock::new(Notify::new);

/// Drop every held (`timeout`) request now. [`crate::cli::cli_main`] calls it on SIGINT/SIGTERM.
pub fn release_hangs() {
    RELEASE_HANGS.notify_waiters();
}

/// The layer's state: the rules and the service's classifier.
pub struct Shared {
    faults: Faults,
    classifier: Box<dyn Classifier>,
}

/// The state [`handle`] takes, for a `from_fn_with_state` layer around a whole service
/// (`Router::layer`, as [`apply`] uses, wraps each route apart).
pub fn shared(faults: Faults, classifier: impl Classifier) -> Arc<Shared> {
    Arc::new(Shared {
        faults,
        classifier: Box::new(classifier),
    })
}

/// Wrap `router` with the rules API and the fault layer.
pub fn apply<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    faults: Faults,
    classifier: impl Classifier,
) -> Router<S> {
    router.layer(axum::middleware::from_fn_with_state(
        shared(faults, classifier),
        handle,
    ))
}

/// Whether a path is the rules API.
pub fn is_api_path(path: &str) -> bool {
    path == api::PATH
        || path
            .strip_prefix(api::PATH)
            .is_some_and(|r| r.starts_with('/'))
}

/// The fault middleware (see the module comment).
pub async fn handle(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if is_api_path(path) {
        return api::handle(&shared.faults, req).await;
    }
    if path == "/healthz" || !shared.faults.maybe_active() {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let (bytes, body) = if shared.classifier.needs_body(&parts) && sized(&parts) {
        match axum::body::to_bytes(body, BODY_LIMIT as usize).await {
            Ok(b) => (b.clone(), Body::from(b)),
            // The client lied about its length or went away: nothing left to answer.
            Err(_) => return dropped(),
        }
    } else {
        (Bytes::new(), body)
    };
    let call = shared.classifier.classify(&parts, &bytes);
    let Some(fault) = shared.faults.check(&call) else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    log(&fault, &call);
    if let Some(latency) = fault.latency {
        tokio::time::sleep(latency).await;
    }
    match fault.action {
        FaultAction::Proceed => next.run(Request::from_parts(parts, body)).await,
        FaultAction::Error(e) => shared.classifier.error_response(&parts, &call, &e),
        FaultAction::Drop => dropped(),
        FaultAction::Hang(d) => {
            let released = RELEASE_HANGS.notified();
            tokio::select! {
                _ = tokio::time::sleep(d) => {}
                _ = released => {}
            }
            dropped()
        }
    }
}

fn sized(parts: &Parts) -> bool {
    parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n <= BODY_LIMIT)
}

/// The one INFO line per injected fault, so nobody debugs it as a real failure.
pub fn log(fault: &Fault, call: &Call) {
    let action = match &fault.action {
        FaultAction::Proceed => "latency".to_owned(),
        FaultAction::Error(e) => format!("error {}", e.code),
        FaultAction::Drop => "drop".to_owned(),
        FaultAction::Hang(d) => format!("timeout {}ms", d.as_millis()),
    };
    tracing::info!(
        rule = %fault.rule_id,
        service = %call.service,
        operation = %call.operation,
        resource = call.resource.as_deref().unwrap_or("-"),
        latency_ms = fault.latency.map_or(0, |d| d.as_millis() as u64),
        %action,
        "fault injected"
    );
}

/// A response whose body fails before its first byte: hyper then closes the connection without
/// writing the status line, which a client sees as a dropped connection.
fn dropped() -> Response {
    let failing = futures::stream::once(async {
        Err::<Bytes, _>(std::io::Error::other("connection dropped by a fault rule"))
    });
    Response::new(Body::from_stream(failing))
}
