//! `CellError`: every failure the cell reports, rendered as Marqo's exception handlers do
//! (`tensor_search/api.py`): `{"message","code","type","link"}` with no `status` key, `link` null
//! for the invalid-request classes (raised without a link) and `""` for internal errors and for a
//! pydantic error raised inside the core (400 `invalid_argument`); a 422 is FastAPI's
//! `{"detail","code","type","link":""}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
pub enum CellError {
    #[error("{0}")]
    InvalidArgument(String),
    /// A pydantic model failing inside Marqo's core: 400 `invalid_argument` whose message is the
    /// JSON list of error items (`validation_exception_handler`, `link: ""`).
    #[error("{0}")]
    ModelArgument(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    InvalidFieldName(String),
    #[error("{0}")]
    InvalidDocumentId(String),
    #[error("{0}")]
    IllegalDocCount(String),
    #[error("malformed JSON body: {0}")]
    MalformedJson(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("Index {0} not found")]
    IndexNotFound(String),
    #[error("Document with ID {id} not found in index {index}")]
    DocumentNotFound { id: String, index: String },
    #[error("{0}")]
    NotFound(String),
    #[error("method not allowed on this route")]
    MethodNotAllowed,
    #[error("Index {0} already exists")]
    IndexExists(String),
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// Any other Marqo error class, with its own status and code.
    #[error("{message}")]
    Coded {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    #[error("request body too large (limit {0} bytes)")]
    TooLarge(usize),
    #[error("{message}")]
    Unprocessable { loc: Vec<String>, message: String },
    /// pydantic's error items, already in Marqo's shape (see `engine::model`).
    #[error("request validation failed: {0:?}")]
    Validation(Vec<Value>),
    #[error("state could not be persisted: {0}")]
    Persistence(String),
    /// One of Marqo's internal routes, off unless its environment variable (named here, as
    /// Marqo's message names it) is `true`: FastAPI's `HTTPException` answer, `{"detail": …}`.
    #[error("This API endpoint is disabled. Please set {0} to true to enable it.")]
    Disabled(&'static str),
    #[error("{0}")]
    Internal(String),
}

impl CellError {
    pub fn status(&self) -> StatusCode {
        use CellError::*;
        match self {
            InvalidArgument(_) | ModelArgument(_) | BadRequest(_) | InvalidFieldName(_)
            | InvalidDocumentId(_) | IllegalDocCount(_) | MalformedJson(_) => {
                StatusCode::BAD_REQUEST
            }
            Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Forbidden(_) | Disabled(_) => StatusCode::FORBIDDEN,
            IndexNotFound(_) | DocumentNotFound { .. } | NotFound(_) => StatusCode::NOT_FOUND,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            IndexExists(_) | Conflict { .. } => StatusCode::CONFLICT,
            Coded { status, .. } => *status,
            TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Unprocessable { .. } | Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Persistence(_) => StatusCode::SERVICE_UNAVAILABLE,
            Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        use CellError::*;
        match self {
            InvalidArgument(_) | ModelArgument(_) | MalformedJson(_) => "invalid_argument",
            BadRequest(_) => "bad_request",
            InvalidFieldName(_) => "invalid_field_name",
            InvalidDocumentId(_) => "invalid_document_id",
            IllegalDocCount(_) => "illegal_requested_doc_count",
            Unauthorized(_) => "unauthorized",
            Forbidden(_) | Disabled(_) => "forbidden",
            IndexNotFound(_) => "index_not_found",
            DocumentNotFound { .. } => "document_not_found",
            NotFound(_) => "not_found",
            MethodNotAllowed => "method_not_allowed",
            IndexExists(_) => "index_already_exists",
            Conflict { code, .. } | Coded { code, .. } => code,
            TooLarge(_) => "request_too_large",
            Unprocessable { .. } | Validation(_) => "unprocessable_entity",
            Persistence(_) => "persistence_unavailable",
            Internal(_) => "internal",
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            CellError::Internal(_) | CellError::Persistence(_) => "internal",
            _ => "invalid_request",
        }
    }

    pub fn unprocessable(loc: &[&str], message: impl Into<String>) -> Self {
        CellError::Unprocessable {
            loc: loc.iter().map(|s| s.to_string()).collect(),
            message: message.into(),
        }
    }

    /// The JSON body, also used for per-item errors.
    pub fn body(&self) -> Value {
        // Marqo's RequestValidationError handler answers `{detail, code, type, link}` only.
        match self {
            CellError::Unprocessable { loc, message } => json!({
                "detail": [{"loc": loc, "msg": message, "type": "value_error"}],
                "code": self.code(), "type": self.kind(), "link": "",
            }),
            CellError::Validation(items) => json!({
                "detail": items, "code": self.code(), "type": self.kind(), "link": "",
            }),
            CellError::Disabled(_) => json!({"detail": self.to_string()}),
            // `MarqoWebError`'s class default `link = ""` survives only where the subclass does
            // not overwrite it with the (absent) `link` argument: internal errors and
            // `InvalidArgError.link` read from the class by the pydantic handler.
            CellError::Internal(_) | CellError::Persistence(_) | CellError::ModelArgument(_) => {
                json!({
                    "message": self.to_string(), "code": self.code(), "type": self.kind(),
                    "link": "",
                })
            }
            _ => json!({
                "message": self.to_string(), "code": self.code(), "type": self.kind(),
                "link": null,
            }),
        }
    }
}

impl IntoResponse for CellError {
    fn into_response(self) -> Response {
        if matches!(self, CellError::Internal(_) | CellError::Persistence(_)) {
            tracing::error!(error = %self, "request failed");
        }
        (self.status(), Json(self.body())).into_response()
    }
}

impl From<service_kit::journal::JournalError> for CellError {
    fn from(e: service_kit::journal::JournalError) -> Self {
        CellError::Persistence(e.0)
    }
}

pub type CellResult<T> = Result<T, CellError>;

/// JSON 404 in Marqo's shape for unknown routes.
pub async fn route_not_found() -> Response {
    CellError::NotFound("no such route".into()).into_response()
}
