//! `GET /openapi.json`: an OpenAPI 3 description of every dashboard route, built from one table
//! (the unit test checks that every `.route(...)` in `mod.rs` is in it). Errors are the shared
//! JSON shape `{error, code, status}`; the two streaming routes answer `text/event-stream`.

use axum::Json;
use serde_json::{Map, Value, json};

/// What a route answers with on success.
#[derive(Clone, Copy)]
enum Body {
    Json,
    Html,
    EventStream,
}

struct Route {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    ok: Body,
    /// Query parameters: (name, schema).
    query: &'static [(&'static str, &'static str)],
    /// Error statuses this route can answer besides the 404/405 every route has.
    errors: &'static [(&'static str, &'static str)],
}

const INT: &str = r#"{"type":"integer","minimum":0}"#;
const STR: &str = r#"{"type":"string"}"#;
const ACTION: &str = r#"{"type":"string","enum":["restart","stop","start","shutdown"]}"#;

/// What the routes reading Step Functions through the AWS gateway can answer.
const AWS_ERRORS: &[(&str, &str)] = &[
    ("400", "malformed query or path"),
    ("502", "the AWS gateway or moto answered an error"),
    (
        "503",
        "the stack runs no AWS gateway, or it (or moto behind it) is unreachable",
    ),
    ("504", "the AWS gateway timed out"),
];

const ROUTES: &[Route] = &[
    Route {
        method: "get",
        path: "/",
        summary: "The dashboard page (self-contained HTML)",
        ok: Body::Html,
        query: &[],
        errors: &[],
    },
    Route {
        method: "get",
        path: "/healthz",
        summary: "Dashboard health: {status, service, pid}; 503 until the stack has started",
        ok: Body::Json,
        query: &[],
        errors: &[("503", "still starting")],
    },
    Route {
        method: "get",
        path: "/openapi.json",
        summary: "This document",
        ok: Body::Json,
        query: &[],
        errors: &[],
    },
    Route {
        method: "get",
        path: "/api/status",
        summary: "One entry per service (status, port, pid, restarts, last probe, last hot reload...), dashboard included",
        ok: Body::Json,
        query: &[],
        errors: &[],
    },
    Route {
        method: "get",
        path: "/api/stack",
        summary: "Profile, cell, table prefix, seed, readiness and why not",
        ok: Body::Json,
        query: &[],
        errors: &[],
    },
    Route {
        method: "get",
        path: "/api/health",
        summary: "The last health probes, or fresh ones with deep=1",
        ok: Body::Json,
        query: &[("deep", STR)],
        errors: &[("400", "malformed query")],
    },
    Route {
        method: "post",
        path: "/api/control/{action}",
        summary: "restart|stop|start one service (?service=NAME) or all; shutdown stops the stack",
        ok: Body::Json,
        query: &[("service", STR)],
        errors: &[
            ("400", "unknown_action or malformed query"),
            ("409", "control_failed (e.g. a skipped service)"),
        ],
    },
    Route {
        method: "get",
        path: "/api/stream",
        summary: "Server-sent events: `snapshot` {status, stack} now and every second",
        ok: Body::EventStream,
        query: &[],
        errors: &[],
    },
    Route {
        method: "get",
        path: "/api/logs/{service}",
        summary: "The last lines of a service's log: {service, log_file, lines}",
        ok: Body::Json,
        query: &[("tail", INT)],
        errors: &[("400", "malformed query or path")],
    },
    Route {
        method: "get",
        path: "/api/logs/{service}/stream",
        summary: "Server-sent events: a `tail` (JSON array of the last `tail` lines), then one `line` per later log line (`lagged` when behind)",
        ok: Body::EventStream,
        query: &[("tail", INT)],
        errors: &[("400", "malformed query or path")],
    },
    Route {
        method: "get",
        path: "/api/seed",
        summary: "The seed manifest plus `hooks`, the status, exit code and output tail of each `[[seed.hooks]]` (404 seed_not_ready until the seed has run)",
        ok: Body::Json,
        query: &[],
        errors: &[],
    },
    Route {
        method: "get",
        path: "/api/events",
        summary: "The webhook router's recent events (proxied)",
        ok: Body::Json,
        query: &[("limit", INT)],
        errors: &[
            ("400", "malformed query"),
            ("502", "the webhook router answered non-JSON"),
            ("503", "the webhook router is unreachable"),
            ("504", "the webhook router timed out"),
        ],
    },
    Route {
        method: "get",
        path: "/api/workflows",
        summary: "Recent Step Functions executions across every state machine, newest first (default 50, at most 200): {state_machines, limit, executions[{state_machine, state_machine_arn, execution_arn, name, status, start_date, stop_date, current_state}]}",
        ok: Body::Json,
        query: &[("limit", INT)],
        errors: AWS_ERRORS,
    },
    Route {
        method: "get",
        path: "/api/workflows/executions/{execution_arn}",
        summary: "One execution: DescribeExecution's fields, `states` (each state run with input, output, error, cause) and `events` (the history, oldest first); 404 execution_not_found",
        ok: Body::Json,
        query: &[],
        errors: AWS_ERRORS,
    },
    Route {
        method: "get",
        path: "/api/lambdas",
        summary: "The AWS gateway's Lambda table (proxied): {functions[{name, arn, url, service, timeout_s, invocations, errors, recent[]}], event_queue, event_source_mappings}",
        ok: Body::Json,
        query: &[],
        errors: &[
            ("502", "the AWS gateway answered an error or non-JSON"),
            ("503", "the stack runs no AWS gateway, or it is unreachable"),
            ("504", "the AWS gateway timed out"),
        ],
    },
    Route {
        method: "get",
        path: "/api/faults",
        summary: "Every running built-in service's fault rules (its /_fake/faults): {active, services[{service, port, seed, seed_source, active, rules[{id, service, operation, resource, error, status, latency_ms, drop, timeout, next, every, probability, expires_at_ms, max_hits, persist, matched, hits, rng_seed, ended}]} or {service, error}]}",
        ok: Body::Json,
        query: &[],
        errors: &[],
    },
    Route {
        method: "post",
        path: "/api/faults",
        summary: "Add a fault rule ({service, operation?, resource?, error?, status?, latency_ms?, drop?, timeout?, timeout_ms?, next? | every? | probability?, seed?, expires_in_ms?, max_hits?, persist?}) to the service that owns `service`: 201 {service, rule}",
        ok: Body::Json,
        query: &[],
        errors: &[
            ("400", "not a rule, or the service refused it (see `error`)"),
            ("503", "the owning service is not running or unreachable"),
            ("504", "the service timed out"),
        ],
    },
    Route {
        method: "delete",
        path: "/api/faults",
        summary: "Clear every service's rules, one service's (`service`), or one rule (`service` and `id`): {cleared, errors[]}",
        ok: Body::Json,
        query: &[("service", STR), ("id", STR)],
        errors: &[
            ("400", "`id` without `service`"),
            ("404", "no such rule"),
            ("503", "that service is not running"),
        ],
    },
    Route {
        method: "post",
        path: "/webhook/eventbridge",
        summary: "An EventBridge event, forwarded unchanged to the webhook router; its answer comes back",
        ok: Body::Json,
        query: &[],
        errors: &[
            ("400", "malformed body"),
            ("413", "body too large"),
            (
                "503",
                "the webhook router (or the route's target) is unreachable",
            ),
            ("504", "the webhook router timed out"),
        ],
    },
];

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    })
}

fn operation(r: &Route) -> Value {
    let mut params: Vec<Value> = r
        .path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| {
            if name == "action" {
                let schema: Value =
                    serde_json::from_str(ACTION).unwrap_or_else(|_| json!({"type": "string"}));
                json!({"name": name, "in": "path", "required": true, "schema": schema})
            } else if name == "execution_arn" {
                json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"},
                       "example": "arn:aws:states:us-east-1:123456789012:execution:example:run-1"})
            } else {
                // A service every profile runs, so generated requests also reach a real log.
                json!({"name": name, "in": "path", "required": true,
                       "schema": {"type": "string"}, "example": "fake_cognito"})
            }
        })
        .collect();
    for (name, schema) in r.query {
        let schema: Value = serde_json::from_str(schema).unwrap_or_else(|_| json!({}));
        params.push(json!({"name": name, "in": "query", "required": false, "schema": schema}));
    }
    let ok = match r.ok {
        Body::Json => {
            json!({"description": "JSON", "content": {"application/json": {"schema": {"type": "object"}}}})
        }
        Body::Html => {
            json!({"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}})
        }
        Body::EventStream => json!({"description": "server-sent events, until the stack stops",
            "content": {"text/event-stream": {"schema": {"type": "string"}}}}),
    };
    let mut responses = Map::new();
    responses.insert("200".into(), ok);
    responses.insert(
        "404".into(),
        error_response("unknown route, service or resource"),
    );
    responses.insert("405".into(), error_response("method not allowed"));
    for (code, description) in r.errors {
        responses.insert((*code).into(), error_response(description));
    }
    let mut op = json!({"summary": r.summary, "parameters": params, "responses": responses});
    if r.path == "/webhook/eventbridge" {
        op["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {
            "type": "object",
            "required": ["detail-type"],
            "properties": {
                "version": {"type": "string"},
                "id": {"type": "string"},
                "detail-type": {"type": "string"},
                "source": {"type": "string"},
                "account": {"type": "string"},
                "time": {"type": "string"},
                "region": {"type": "string"},
                "resources": {"type": "array", "items": {"type": "string"}},
                "detail": {"type": "object"},
            },
            "example": {"detail-type": "Dashboard.Example", "source": "fuzz", "detail": {}},
        }}}});
    }
    op
}

/// The document (also used by the unit test).
pub fn document() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for r in ROUTES {
        let entry = paths.entry(r.path.to_owned()).or_insert_with(|| json!({}));
        entry[r.method] = operation(r);
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Hippodrome dashboard API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The JSON API the CLI, the dashboard page and scripts use. Every error is {error, code, status}.",
        },
        "components": {"schemas": {"Error": {
            "type": "object",
            "required": ["error", "code", "status"],
            "properties": {
                "error": {"type": "string"},
                "code": {"type": "string"},
                "status": {"type": "integer"},
            },
        }}},
        "paths": paths,
    })
}

/// `GET /openapi.json`.
pub async fn spec() -> Json<Value> {
    Json(document())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `.route("PATH", METHOD(...))` registered in `mod.rs`, as (method, path).
    fn registered() -> Vec<(String, String)> {
        let src = include_str!("mod.rs");
        let mut out = Vec::new();
        // rustfmt breaks a long `.route(` call after the parenthesis.
        for chunk in src.split(".route(").skip(1) {
            let Some((path, rest)) = chunk
                .trim_start()
                .strip_prefix('"')
                .and_then(|c| c.split_once('"'))
            else {
                continue;
            };
            // `, get(handler)` or `, get(a).post(b)`: up to the closing `))`.
            let handlers = rest.split("))").next().unwrap_or_default();
            for method in ["get", "post", "put", "delete", "patch"] {
                if handlers.contains(&format!("{method}(")) {
                    out.push((method.to_owned(), path.to_owned()));
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    #[test]
    fn every_registered_route_is_described() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.0.3");
        let routes = registered();
        assert!(routes.len() >= 12, "parsed too few routes: {routes:?}");
        for (method, path) in &routes {
            let op = &doc["paths"][path][method];
            assert!(op.is_object(), "{method} {path} is not in /openapi.json");
            assert!(op["responses"]["200"].is_object(), "{method} {path}");
        }
        // And nothing is described that is not served.
        let described: usize = doc["paths"]
            .as_object()
            .map(|p| {
                p.values()
                    .filter_map(Value::as_object)
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0);
        assert_eq!(described, routes.len(), "{routes:?}");
    }

    #[test]
    fn streams_are_event_streams_and_errors_are_json() {
        let doc = document();
        for path in ["/api/stream", "/api/logs/{service}/stream"] {
            assert!(
                doc["paths"][path]["get"]["responses"]["200"]["content"]["text/event-stream"]
                    .is_object(),
                "{path}"
            );
        }
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                for (code, resp) in op["responses"].as_object().unwrap() {
                    if code.starts_with('4') || code.starts_with('5') {
                        assert!(
                            resp["content"]["application/json"].is_object(),
                            "{method} {path} {code}"
                        );
                    }
                }
            }
        }
    }
}
