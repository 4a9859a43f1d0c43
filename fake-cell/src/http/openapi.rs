//! `GET /openapi.json`: an OpenAPI 3 description of the cell's routes (generated from one table, so
//! it stays short; request and response bodies follow Marqo's documented shapes).

use axum::Json;
use serde_json::{Map, Value, json};

const ROUTES: &[(&str, &str, &str, &str)] = &[
    ("get", "/", "data", "Welcome message and Marqo version"),
    (
        "get",
        "/healthz",
        "ops",
        "Service health (starting/ok/degraded)",
    ),
    ("get", "/health", "data", "Marqo health object"),
    ("get", "/indexes", "data", "List the caller's indexes"),
    (
        "post",
        "/indexes/{name}",
        "data",
        "Create an index (open-source style)",
    ),
    ("delete", "/indexes/{name}", "data", "Delete an index"),
    (
        "get",
        "/indexes/{name}/status",
        "data",
        "Index status (READY, CREATING, DELETED...)",
    ),
    ("get", "/indexes/{name}/settings", "data", "Index settings"),
    (
        "get",
        "/indexes/{name}/stats",
        "data",
        "Document and vector counts",
    ),
    ("get", "/indexes/{name}/health", "data", "Index health"),
    (
        "post",
        "/indexes/{name}/documents",
        "data",
        "Add or replace documents (1-128)",
    ),
    (
        "patch",
        "/indexes/{name}/documents",
        "data",
        "Partially update documents",
    ),
    (
        "get",
        "/indexes/{name}/documents",
        "data",
        "Get documents by ids (JSON array body)",
    ),
    (
        "get",
        "/indexes/{name}/documents/{id}",
        "data",
        "Get one document",
    ),
    (
        "post",
        "/indexes/{name}/documents/delete-batch",
        "data",
        "Delete documents by ids",
    ),
    (
        "delete",
        "/indexes/{name}/documents/delete-all",
        "data",
        "Delete every document (403 unless MARQO_ENABLE_BATCH_APIS=true)",
    ),
    (
        "post",
        "/indexes/{name}/search",
        "data",
        "LEXICAL, TENSOR or HYBRID search",
    ),
    (
        "post",
        "/indexes/{name}/recommend",
        "data",
        "Recommend from stored documents",
    ),
    (
        "post",
        "/indexes/{name}/embed",
        "data",
        "Embed content with the index model",
    ),
    (
        "post",
        "/indexes/{name}/suggestions",
        "data",
        "Typeahead: suggest completions of a partial query",
    ),
    (
        "post",
        "/indexes/{name}/suggestions/queries",
        "data",
        "Typeahead: index queries",
    ),
    (
        "get",
        "/indexes/{name}/suggestions/queries",
        "data",
        "Typeahead: get queries (JSON list body)",
    ),
    (
        "delete",
        "/indexes/{name}/suggestions/queries",
        "data",
        "Typeahead: delete queries (JSON list body)",
    ),
    (
        "delete",
        "/indexes/{name}/suggestions/queries/delete-all",
        "data",
        "Typeahead: delete every query (403 unless MARQO_ENABLE_BATCH_APIS=true)",
    ),
    (
        "get",
        "/indexes/{name}/suggestions/stats",
        "data",
        "Typeahead: count the indexed queries",
    ),
    ("get", "/models", "data", "Loaded models"),
    ("delete", "/models", "data", "Eject a model"),
    ("get", "/device/cpu", "data", "CPU info"),
    ("get", "/device/cuda", "data", "CUDA info"),
    (
        "post",
        "/batch/indexes/create",
        "data",
        "Create several indexes (403 unless MARQO_ENABLE_BATCH_APIS=true)",
    ),
    (
        "post",
        "/batch/indexes/delete",
        "data",
        "Delete several indexes (403 unless MARQO_ENABLE_BATCH_APIS=true)",
    ),
    (
        "get",
        "/memory",
        "data",
        "Marqo's debug API: always off (403)",
    ),
    (
        "post",
        "/validate/index/{name}",
        "data",
        "Marqo's ops API: always off (403)",
    ),
    (
        "post",
        "/upgrade",
        "data",
        "Marqo's upgrade API: always off (403)",
    ),
    (
        "post",
        "/rollback",
        "data",
        "Marqo's upgrade API: always off (403)",
    ),
    (
        "post",
        "/rollback-vespa",
        "data",
        "Nothing to roll back: the version",
    ),
    (
        "get",
        "/api/v2/indexes",
        "cloud",
        "List the caller's indexes with status and endpoint",
    ),
    ("post", "/api/v2/indexes/{name}", "cloud", "Create an index"),
    (
        "get",
        "/api/v2/indexes/{name}",
        "cloud",
        "Describe an index",
    ),
    (
        "put",
        "/api/v2/indexes/{name}",
        "cloud",
        "Update cloud options (shards, replicas, storage, inference)",
    ),
    (
        "delete",
        "/api/v2/indexes/{name}",
        "cloud",
        "Delete an index",
    ),
    (
        "get",
        "/api/v2/indexes/{name}/status",
        "cloud",
        "Index status",
    ),
    (
        "post",
        "/api/v2/indexes/{name}/fork",
        "cloud",
        "Fork an index into targetIndexName",
    ),
    ("get", "/api/v2/aliases", "cloud", "List aliases"),
    ("get", "/api/v2/aliases/{alias}", "cloud", "Get an alias"),
    (
        "put",
        "/api/v2/aliases/{alias}",
        "cloud",
        "Point an alias at indexName",
    ),
    (
        "delete",
        "/api/v2/aliases/{alias}",
        "cloud",
        "Remove an alias",
    ),
    (
        "get",
        "/api/v2/reindex",
        "cloud",
        "List reindex jobs (newest 100)",
    ),
    ("post", "/api/v2/reindex", "cloud", "Start a reindex job"),
    (
        "get",
        "/api/v2/reindex/{job_id}",
        "cloud",
        "Get a reindex job",
    ),
    (
        "get",
        "/api",
        "cloud",
        "Welcome message (cloud-mode clients)",
    ),
    (
        "get",
        "/api/health",
        "cloud",
        "Marqo health object (cloud-mode clients)",
    ),
    (
        "get",
        "/api/models",
        "cloud",
        "Loaded models (cloud-mode clients)",
    ),
    (
        "get",
        "/api/device/cpu",
        "cloud",
        "CPU info (cloud-mode clients)",
    ),
    (
        "get",
        "/api/device/cuda",
        "cloud",
        "CUDA info (cloud-mode clients)",
    ),
    ("get", "/_fake/accounts", "admin", "List accounts"),
    ("post", "/_fake/accounts", "admin", "Create an account"),
    (
        "get",
        "/_fake/accounts/{account_id}",
        "admin",
        "Get an account",
    ),
    (
        "get",
        "/_fake/accounts/{account_id}/keys",
        "admin",
        "List an account's API keys",
    ),
    (
        "post",
        "/_fake/accounts/{account_id}/keys",
        "admin",
        "Create an API key",
    ),
    (
        "post",
        "/_fake/keys/{key_id}/revoke",
        "admin",
        "Revoke an API key",
    ),
    (
        "post",
        "/_fake/keys/validate",
        "admin",
        "Validate an API key",
    ),
    ("get", "/_fake/state", "admin", "Dump all state"),
    ("post", "/_fake/reset", "admin", "Wipe all state"),
    (
        "post",
        "/_fake/indexes/{name}/stop-server",
        "admin",
        "Fault injection: stop an index server",
    ),
    ("get", "/openapi.json", "ops", "This document"),
];

pub async fn openapi() -> Json<Value> {
    let mut paths: Map<String, Value> = Map::new();
    for (method, path, tag, summary) in ROUTES {
        let params: Vec<Value> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|p| json!({"name": p, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        // Only index, control and batch routes check `x-api-key` (unless the cell runs `--open`).
        let secured = ["/indexes", "/api/v2/", "/batch/"]
            .iter()
            .any(|p| path.starts_with(p));
        let mut op = json!({
            "summary": summary, "tags": [tag], "parameters": params,
            "responses": {"200": {"description": "JSON"}, "default": {"description": "Marqo error {message, code, type, link, status}"}},
        });
        if !secured {
            op["security"] = json!([]);
        }
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        entry[*method] = op;
    }
    Json(json!({
        "openapi": "3.0.3",
        "info": {"title": "fake-cell (Marqo-compatible)", "version": env!("CARGO_PKG_VERSION")},
        "components": {"securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}}},
        "security": [{"apiKey": []}],
        "paths": paths,
    }))
}
