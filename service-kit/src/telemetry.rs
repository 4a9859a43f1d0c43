//! Logging setup: `tracing` with an `EnvFilter` (`RUST_LOG` wins) writing plain lines to stdout, so
//! the orchestrator can prefix each line with `[service]` and copy it to the service's log file.
//! `HIPPODROME_LOG_FORMAT=json` switches to one JSON object per line for machines.
//! [`trace_requests`] adds one debug line per HTTP request (method, path, status, latency).

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use tower_http::LatencyUnit;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::{DefaultOnBodyChunk, DefaultOnEos, DefaultOnResponse, TraceLayer};
use tracing::{Level, Span};
use tracing_subscriber::EnvFilter;

/// Initialise tracing once per process; later calls are no-ops (tests call it freely).
pub fn init_tracing(default_filter: &str) {
    init(default_filter, std::io::stdout);
}

/// Like [`init_tracing`], but each formatted event is handed to `sink` instead of being written to
/// stdout: the orchestrator's terminal writer, which never blocks on or panics over a dead terminal.
pub fn init_tracing_to(default_filter: &str, sink: fn(&[u8])) {
    init(default_filter, move || SinkWriter {
        sink,
        buf: Vec::new(),
    });
}

fn init<W>(default_filter: &str, writer: W)
where
    W: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let json = std::env::var("HIPPODROME_LOG_FORMAT").is_ok_and(|v| v == "json");
    // The orchestrator pipes our stdout; colours there would end up in log files.
    let ansi = std::env::var_os("NO_COLOR").is_none()
        && std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(ansi)
        .with_writer(writer);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Collects one formatted event and hands it to the sink in one piece when dropped.
struct SinkWriter {
    sink: fn(&[u8]),
    buf: Vec<u8>,
}

impl std::io::Write for SinkWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for SinkWriter {
    fn drop(&mut self) {
        if !self.buf.is_empty() {
            (self.sink)(&self.buf);
        }
    }
}

/// Log every request `router` answers at debug level (`RUST_LOG=debug`): method and path (never
/// the query, which can carry codes and tokens) in the span, status and latency in the line.
pub fn trace_requests<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router.layer(trace_layer())
}

/// [`trace_requests`]'s layer, to wrap a whole service once (`Router::layer` wraps each route
/// apart).
pub type TraceRequests = TraceLayer<
    SharedClassifier<ServerErrorsAsFailures>,
    fn(&Request<Body>) -> Span,
    (),
    DefaultOnResponse,
    DefaultOnBodyChunk,
    DefaultOnEos,
    (),
>;

/// The layer [`trace_requests`] adds.
pub fn trace_layer() -> TraceRequests {
    TraceLayer::new_for_http()
        .make_span_with(request_span as fn(&Request<Body>) -> Span)
        .on_request(())
        .on_response(
            DefaultOnResponse::new()
                .level(Level::DEBUG)
                .latency_unit(LatencyUnit::Millis),
        )
        .on_failure(())
}

fn request_span(req: &Request<Body>) -> Span {
    tracing::debug_span!("request", method = %req.method(), path = %req.uri().path())
}
