//! The admin routes: `GET /routes` (the prefix table) and `GET /events?limit=N` (recent events,
//! newest first, plus the local pipe's counts and lag).

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::RouterError;

/// How many events `/events` returns without `limit`.
pub const DEFAULT_EVENTS_LIMIT: usize = 100;

pub async fn get_routes(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "routes": state.routes().routes() }))
}

pub async fn get_events(State(state): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let limit = match parse_limit(q.as_deref()) {
        Ok(l) => l,
        Err(e) => return e.into_response(),
    };
    let recent = state.recent();
    let events: Vec<Value> = recent
        .newest(limit.min(recent.capacity()))
        .iter()
        .map(|e| e.to_json())
        .collect();
    Json(json!({
        "events": events,
        "capacity": recent.capacity(),
        "total": recent.total(),
        "pipe": state.pipe().snapshot(),
    }))
    .into_response()
}

fn parse_limit(q: Option<&str>) -> Result<usize, RouterError> {
    let mut limit = DEFAULT_EVENTS_LIMIT;
    for pair in q.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k == "limit" {
            limit = v.parse().map_err(|_| {
                RouterError::BadRequest(format!(
                    "query parameter 'limit' must be a non-negative integer, got {v:?}"
                ))
            })?;
        }
    }
    Ok(limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_parsing() {
        assert_eq!(parse_limit(None).unwrap(), DEFAULT_EVENTS_LIMIT);
        assert_eq!(parse_limit(Some("limit=3")).unwrap(), 3);
        assert_eq!(parse_limit(Some("x=1&limit=0")).unwrap(), 0);
        assert!(parse_limit(Some("limit=-1")).is_err());
        assert!(parse_limit(Some("limit=abc")).is_err());
    }
}
