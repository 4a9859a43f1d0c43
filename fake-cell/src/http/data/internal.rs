//! Marqo's internal routes (`tensor_search/api.py`). `GET /memory` (debug), `POST
//! /validate/index/{n}` (ops), `POST /upgrade` and `POST /rollback` (upgrade) are each off unless
//! an environment variable says `true`, and answer Marqo's 403 while off. fake-cell keeps them
//! off: it has no memory profile, Vespa schema or upgrade to run. Their body models answer first
//! (a 422), as FastAPI validates before the switch is read. `POST /rollback-vespa` has no switch;
//! with no Vespa application to roll back, it answers what Marqo answers after one: the version.

use axum::Json;
use serde_json::{Value, json};

use crate::engine::model::{Errors, Field, Kind, body_object};
use crate::error::{CellError, CellResult};
use crate::http::body::JsonBody;
use crate::lifecycle::MARQO_VERSION;

/// `RollbackRequest` (a strict model: both versions required, nothing else).
const ROLLBACK: &[Field] = &[
    Field("from_version", Kind::Str, false),
    Field("to_version", Kind::Str, false),
];

pub async fn memory() -> CellResult<Json<Value>> {
    Err(CellError::Disabled("MARQO_ENABLE_DEBUG_API"))
}

/// `settings_object: dict`.
pub async fn validate(JsonBody(body): JsonBody) -> CellResult<Json<Value>> {
    body_object(&body)?;
    Err(CellError::Disabled("MARQO_ENABLE_OPS_API"))
}

pub async fn upgrade() -> CellResult<Json<Value>> {
    Err(CellError::Disabled("MARQO_ENABLE_UPGRADE_API"))
}

pub async fn rollback(JsonBody(body): JsonBody) -> CellResult<Json<Value>> {
    let mut errs = Errors::default();
    errs.check(
        body_object(&body)?,
        &["body"],
        ROLLBACK,
        &["from_version", "to_version"],
    );
    errs.into_result()?;
    Err(CellError::Disabled("MARQO_ENABLE_UPGRADE_API"))
}

pub async fn rollback_vespa() -> Json<Value> {
    Json(json!({"version": MARQO_VERSION}))
}
