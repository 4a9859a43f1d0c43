//! Server-sent events for the page: `GET /api/stream` pushes `/api/status` and `/api/stack` every
//! second; `GET /api/logs/{service}/stream` pushes a service's log tail, then its lines as they are
//! written.
//! Both streams end when the orchestrator shuts down, so they never hold up a graceful stop.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use super::AppState;
use super::api::{LogsQuery, stack_view, status_view, unknown_service};
use super::extract::{ApiPath, ApiQuery};

const TICK: Duration = Duration::from_secs(1);

fn snapshot_event(st: &AppState) -> Event {
    let data = json!({"status": status_view(st), "stack": stack_view(st)});
    Event::default().event("snapshot").data(data.to_string())
}

/// `GET /api/stream`: a `snapshot` event (`{status, stack}`) now and then every second.
pub async fn status_stream(
    State(st): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = futures::stream::unfold((st, true), |(st, first)| async move {
        if !first {
            tokio::select! {
                () = tokio::time::sleep(TICK) => {}
                () = st.shutdown.wait() => return None,
            }
        }
        if st.shutdown.is_triggered() {
            return None;
        }
        let ev = snapshot_event(&st);
        Some((Ok(ev), (st, false)))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// `GET /api/logs/{service}/stream?tail=N`: first a `tail` event (a JSON array of the last N
/// lines, 0 by default), then one `line` event per line written after them, so a viewer never
/// misses or repeats a line between loading the tail and following it; `lagged` (data: how many
/// lines were dropped) when the reader fell behind.
pub async fn log_stream(
    State(st): State<AppState>,
    ApiPath(service): ApiPath<String>,
    ApiQuery(q): ApiQuery<LogsQuery>,
) -> Response {
    let Some(s) = st.sup.get(&service) else {
        return unknown_service(&service);
    };
    let (tail, rx) = s.sink.follow(q.lines(0));
    let first = Event::default()
        .event("tail")
        .data(serde_json::Value::from(tail).to_string());
    let first = futures::stream::once(async move { Ok::<_, Infallible>(first) });
    let stream = futures::stream::unfold((st, rx), |(st, mut rx)| async move {
        let ev = tokio::select! {
            r = rx.recv() => match r {
                Ok(line) => Event::default().event("line").data(line.replace('\r', "")),
                Err(RecvError::Lagged(n)) => Event::default().event("lagged").data(n.to_string()),
                Err(RecvError::Closed) => return None,
            },
            () = st.shutdown.wait() => return None,
        };
        Some((Ok::<_, Infallible>(ev), (st, rx)))
    });
    Sse::new(first.chain(stream))
        .keep_alive(KeepAlive::default())
        .into_response()
}
