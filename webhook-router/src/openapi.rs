//! `GET /openapi.json`: an OpenAPI 3.0 description of the router's routes, for clients and for
//! schema-driven fuzzing.

use axum::Json;
use serde_json::{Value, json};

pub async fn get_openapi() -> Json<Value> {
    Json(document())
}

pub fn document() -> Value {
    let error = json!({"$ref": "#/components/schemas/Error"});
    let err =
        |d: &str| json!({"description": d, "content": {"application/json": {"schema": error}}});
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Hippodrome webhook router",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Routes EventBridge events by detail-type prefix to local services; the local pipe turns moto's DynamoDB stream records into the same events."
        },
        "paths": {
            "/webhook/eventbridge": {"post": {
                "summary": "Route one EventBridge event",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Event"}}}},
                "responses": {
                    "200": {"description": "The target's answer, or `{\"status\":\"ignored\"}` when no route matches", "content": {"application/json": {"schema": {"type": "object"}}}},
                    "400": err("Not a JSON object, or no `detail-type`"),
                    "413": err("Body too large"),
                    "502": err("The target answered with something unusable"),
                    "503": err("The target refused the connection or is unreachable"),
                    "504": err("The target did not answer in time")
                }
            }},
            "/routes": {"get": {
                "summary": "The route table",
                "responses": {"200": {"description": "Routes, longest prefix first", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["routes"],
                    "properties": {"routes": {"type": "array", "items": {"type": "object", "properties": {
                        "prefix": {"type": "string"}, "target": {"type": "string"}, "url": {"type": "string"}}}}}}}}}}
            }},
            "/events": {"get": {
                "summary": "Recent events (newest first) and the local pipe's status",
                "parameters": [{"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 0}}],
                "responses": {
                    "200": {"description": "Recent events", "content": {"application/json": {"schema": {"type": "object", "required": ["events", "pipe"],
                        "properties": {"events": {"type": "array", "items": {"$ref": "#/components/schemas/EventRecord"}}, "pipe": {"type": "object"}}}}}},
                    "400": err("Bad `limit`")
                }
            }},
            "/healthz": {"get": {
                "summary": "Health, with the pipe's status, lag and counts in `checks`",
                "responses": {
                    "200": {"description": "ok or degraded", "content": {"application/json": {"schema": {"type": "object"}}}},
                    "503": {"description": "starting", "content": {"application/json": {"schema": {"type": "object"}}}}
                }
            }},
            "/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.0", "content": {"application/json": {"schema": {"type": "object"}}}}}}}
        },
        "components": {"schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}, "code": {"type": "string"}, "status": {"type": "integer"}}},
            "Event": {"type": "object", "required": ["detail-type"], "properties": {
                "version": {"type": "string"}, "id": {"type": "string"}, "detail-type": {"type": "string"},
                "source": {"type": "string"}, "account": {"type": "string"}, "time": {"type": "string"},
                "region": {"type": "string"}, "resources": {"type": "array", "items": {"type": "string"}},
                "detail": {"type": "object"}}},
            "EventRecord": {"type": "object", "properties": {
                "id": {"type": "string"}, "detail_type": {"type": "string"}, "source": {"type": "string"},
                "via": {"type": "string", "enum": ["webhook", "pipe"]}, "route": {"type": "string", "nullable": true},
                "outcome": {"type": "string", "enum": ["delivered", "ignored", "failed"]},
                "status": {"type": "integer", "nullable": true}, "latency_ms": {"type": "number"},
                "received_at": {"type": "string", "format": "date-time"}, "error": {"type": "string"},
                "table": {"type": "string"}}}
        }}
    })
}
