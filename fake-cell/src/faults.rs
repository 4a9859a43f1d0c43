//! How fault rules see the cell: every call is service `fake-cell`, its operation is named after
//! py-marqo's method (`search`, `add_documents`, `create_index`…) and its resource is the index.
//! Injected errors come in Marqo's error shape (`{"message","code","type","link"}`), so py-marqo
//! raises `MarqoWebError` with the rule's status and code. One registry per process serves the main
//! port and every index server, so a rule on an index fires whichever port the client uses.

use std::sync::{Arc, OnceLock};

use axum::Json;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use service_kit::faults::{Call, Classifier, Faults, InjectedError};

use crate::state::Cell;

/// The process's rules: one cell per process, and every index server shares them.
static FAULTS: OnceLock<Faults> = OnceLock::new();

/// The fault layer's state for one of the cell's servers (main or index): the process's rules
/// and the cell's classifier, for `service_kit::faults::layer::handle`.
pub fn layer_state(cell: &Arc<Cell>) -> Arc<service_kit::faults::layer::Shared> {
    let faults = FAULTS
        .get_or_init(|| {
            let file = cell.cfg.state_file.with_extension("faults.json");
            Faults::with_file(crate::SERVICE, file)
        })
        .clone();
    cell.health.attach_faults(&faults);
    service_kit::faults::layer::shared(faults, Marqo)
}

struct Marqo;

impl Classifier for Marqo {
    fn classify(&self, parts: &Parts, _body: &[u8]) -> Call {
        let (operation, resource) = operation(&parts.method, parts.uri.path());
        Call {
            service: crate::SERVICE.into(),
            operation,
            resource,
        }
    }

    fn error_response(&self, _parts: &Parts, _call: &Call, e: &InjectedError) -> Response {
        let status = e
            .status
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or_else(|| default_status(&e.code));
        // Marqo's server errors are `internal`, everything else (timeouts too) `invalid_request`.
        let kind = if status.is_server_error() && status != StatusCode::GATEWAY_TIMEOUT {
            "internal"
        } else {
            "invalid_request"
        };
        let body = json!({"message": e.message, "code": e.code, "type": kind, "link": null});
        (status, Json(body)).into_response()
    }
}

/// Marqo's status for its error codes; an unknown code is a server error.
fn default_status(code: &str) -> StatusCode {
    match code {
        "too_many_requests" => StatusCode::TOO_MANY_REQUESTS,
        "service_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
        "vector_store_timeout" => StatusCode::GATEWAY_TIMEOUT,
        "invalid_argument"
        | "bad_request"
        | "invalid_field_name"
        | "invalid_document_id"
        | "illegal_requested_doc_count"
        | "doc_too_large"
        | "invalid_index_name" => StatusCode::BAD_REQUEST,
        "unauthorized" => StatusCode::UNAUTHORIZED,
        "forbidden" => StatusCode::FORBIDDEN,
        "index_not_found" | "document_not_found" | "model_not_in_cache" => StatusCode::NOT_FOUND,
        "index_already_exists" | "operation_conflict_error" => StatusCode::CONFLICT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// py-marqo's name for a route, and the index it is about.
fn operation(method: &Method, path: &str) -> (String, Option<String>) {
    let cloud = path.starts_with("/api/v2/");
    let rest = path
        .strip_prefix("/api/v2")
        .or_else(|| path.strip_prefix("/api"))
        .unwrap_or(path);
    let segs: Vec<&str> = rest.trim_matches('/').split('/').collect();
    let m = method.as_str();
    let name = match (m, segs.as_slice()) {
        ("GET", ["indexes"]) => "list_indexes",
        ("POST", ["indexes", _]) => "create_index",
        ("DELETE", ["indexes", _]) => "delete_index",
        ("GET", ["indexes", _]) => "get_index",
        ("GET", ["indexes", _, "settings"]) => "get_settings",
        ("GET", ["indexes", _, "stats"]) => "get_stats",
        ("GET", ["indexes", _, "health"]) => "index_health",
        ("GET", ["indexes", _, "status"]) => "index_status",
        ("POST", ["indexes", _, "fork"]) => "fork_index",
        ("POST", ["indexes", _, "documents"]) => "add_documents",
        ("PATCH", ["indexes", _, "documents"]) => "update_documents",
        ("GET", ["indexes", _, "documents"]) => "get_documents",
        ("GET", ["indexes", _, "documents", _]) => "get_document",
        ("POST", ["indexes", _, "documents", "delete-batch"]) => "delete_documents",
        ("DELETE", ["indexes", _, "documents", "delete-all"]) => "delete_all_documents",
        (_, ["indexes", _, "search"]) => "search",
        (_, ["indexes", _, "recommend"]) => "recommend",
        (_, ["indexes", _, "embed"]) => "embed",
        ("GET", ["models"]) => "get_models",
        ("DELETE", ["models"]) => "eject_model",
        (_, ["device", _]) => "get_device",
        (_, ["batch", "indexes", "create"]) => "batch_create_indexes",
        (_, ["batch", "indexes", "delete"]) => "batch_delete_indexes",
        (_, ["aliases", ..]) => "aliases",
        (_, ["reindex", ..]) => "reindex",
        (_, ["health"]) => "health",
        (_, [""]) => "root",
        (_, ["_fake", ..]) => "admin",
        _ => return (format!("{m} {path}"), None),
    };
    let index = match segs.as_slice() {
        ["indexes", name, ..] => Some((*name).to_owned()),
        _ => None,
    };
    let name = if cloud && name != "aliases" && name != "reindex" {
        format!("cloud.{name}")
    } else {
        name.to_owned()
    };
    (name, index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_named_like_py_marqo_methods() {
        let op = |m: Method, p: &str| operation(&m, p);
        assert_eq!(
            op(Method::POST, "/indexes/shoes/search"),
            ("search".into(), Some("shoes".into()))
        );
        assert_eq!(
            op(Method::POST, "/api/indexes/shoes/documents"),
            ("add_documents".into(), Some("shoes".into()))
        );
        assert_eq!(
            op(Method::POST, "/api/v2/indexes/shoes"),
            ("cloud.create_index".into(), Some("shoes".into()))
        );
        assert_eq!(op(Method::GET, "/indexes"), ("list_indexes".into(), None));
        assert_eq!(op(Method::GET, "/nope/x"), ("GET /nope/x".into(), None));
        assert_eq!(
            default_status("too_many_requests"),
            StatusCode::TOO_MANY_REQUESTS
        );
    }
}
