//! Marqo's internal routes (`tensor_search/api.py`). `GET /memory` (debug), `POST
//! /validate/index/{n}` (ops), `POST /upgrade` and `POST /rollback` (upgrade) are each off unless
//! an environment variable says `true`, and answer Marqo's 403 while off. fake-cell keeps them
//! off, so their handlers only answer errors: it has no memory profile, Vespa schema or upgrade
//! to run. Their body models answer first (a 422), as FastAPI validates before the switch is
//! read. `POST /rollback-vespa` has no switch; with no Vespa application to roll back, it answers
//! what Marqo answers after one: the version.

use axum::Json;
use serde_json::{Value, json};

use crate::engine::model::{Errors, Field, Kind, body_object};
use crate::error::CellError;
use crate::http::body::JsonBody;
use crate::lifecycle::MARQO_VERSION;

/// `RollbackRequest` (a strict model: both versions required, nothing else).
const ROLLBACK: &[Field] = &[
    Field("from_version", Kind::Str, false),
    Field("to_version", Kind::Str, false),
];

pub async fn memory() -> CellError {
    CellError::Disabled("MARQO_ENABLE_DEBUG_API")
}

/// `settings_object: dict`.
pub async fn validate(JsonBody(mut body): JsonBody) -> CellError {
    body_object(&mut body).map_or_else(|e| e, |_| CellError::Disabled("MARQO_ENABLE_OPS_API"))
}

pub async fn upgrade() -> CellError {
    CellError::Disabled("MARQO_ENABLE_UPGRADE_API")
}

pub async fn rollback(JsonBody(mut body): JsonBody) -> CellError {
    let checked = body_object(&mut body).and_then(|o| {
        let mut errs = Errors::default();
        errs.check(o, &["body"], ROLLBACK, &["from_version", "to_version"]);
        errs.into_result()
    });
    checked.map_or_else(|e| e, |()| CellError::Disabled("MARQO_ENABLE_UPGRADE_API"))
}

pub async fn rollback_vespa() -> Json<Value> {
    Json(json!({"version": MARQO_VERSION}))
}
