//! `/openapi.json`: the HTTP routes that are not the Cognito JSON 1.1 API (admin, hosted UI,
//! OAuth2, well-known). The Cognito API itself is described by AWS's service model.

use axum::Json;
use serde_json::{Value, json};

pub async fn spec() -> Json<Value> {
    let reason = "expired|bad_signature|unknown_kid|wrong_pool|wrong_issuer|revoked|wrong_token_use|wrong_client|unknown_user|malformed|missing_token";
    Json(json!({
        "openapi": "3.0.3",
        "info": {"title": "fake-cognito", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Cognito user pools (AWS JSON 1.1 at POST / with X-Amz-Target), OAuth2 and JWKS."},
        "paths": {
            "/": {"post": {"summary": "Cognito API; operation chosen by X-Amz-Target: AWSCognitoIdentityProviderService.<Op>",
                "responses": {"200": {"description": "operation result"},
                              "400": {"description": "{\"__type\",\"message\"}"},
                              "503": {"description": "InternalErrorException: the write could not be persisted"}}}},
            "/{poolId}/.well-known/jwks.json": {"get": {"summary": "signing keys (RS256)",
                "parameters": [{"name": "poolId", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "{\"keys\":[JWK]}"}, "404": {"description": "unknown pool"}}}},
            "/{poolId}/.well-known/openid-configuration": {"get": {"summary": "OIDC discovery; issuer equals the minted iss",
                "parameters": [{"name": "poolId", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "discovery document"}, "404": {"description": "unknown pool"}}}},
            "/oauth2/authorize": {"get": {"summary": "hosted UI (HTML): checks client_id, redirect_uri, response_type=code|token, scope, PKCE, prompt, identity_provider|idp_identifier; then the session cookie, the IdP stand-in or /login. Also under /domain/{prefix}/",
                "responses": {"302": {"description": "to /login, /fake-idp/{provider}, or the redirect_uri with code|tokens|error and state"},
                              "400": {"description": "HTML error page (unknown client, redirect_mismatch)"}}}},
            "/login": {"get": {"summary": "hosted UI sign-in page (HTML)", "responses": {"200": {"description": "page"}}},
                       "post": {"summary": "sign-in form: password, new password, MFA code or factor choice",
                                "requestBody": {"content": {"application/x-www-form-urlencoded": {}}},
                                "responses": {"200": {"description": "the next page or the same with a message"}, "302": {"description": "to the redirect_uri"}}}},
            "/logout": {"get": {"summary": "clear the hosted-UI session: client_id + logout_uri, or client_id + redirect_uri + response_type",
                "responses": {"302": {"description": "to logout_uri or /login"}, "400": {"description": "HTML error page"}}}},
            "/fake-idp/{provider}": {"get": {"summary": "local stand-in sign-in page for a federated identity provider (HTML)",
                "parameters": [{"name": "provider", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "page"}}}},
            "/oauth2/idpresponse": {"post": {"summary": "the stand-in's answer: creates/updates <Provider>_<id> (EXTERNAL_PROVIDER)",
                "requestBody": {"content": {"application/x-www-form-urlencoded": {}}},
                "responses": {"302": {"description": "to the redirect_uri"}}}},
            "/oauth2/token": {"post": {"summary": "grant_type=authorization_code (PKCE)|refresh_token (rotating)|client_credentials; client auth by Basic or form",
                "requestBody": {"content": {"application/x-www-form-urlencoded": {}}},
                "responses": {"200": {"description": "{access_token, id_token?, refresh_token?, token_type, expires_in}"},
                              "400": {"description": "{\"error\": invalid_request|unauthorized_client|invalid_grant|invalid_scope|unsupported_grant_type}"},
                              "401": {"description": "{\"error\":\"invalid_client\"}"}}}},
            "/oauth2/userInfo": {"get": {"summary": "user attributes for a Bearer access token with the openid scope",
                "responses": {"200": {"description": "claims"}, "400": {"description": "invalid_request"}, "401": {"description": "invalid_token"}}}},
            "/oauth2/revoke": {"post": {"summary": "revoke a refresh token (token=..., client auth)",
                "responses": {"200": {"description": "{}"}, "400": {"description": "{\"error\": invalid_request|unsupported_token_type|unauthorized_client}"}}}},
            "/_fake/validate": {"get": {"summary": "validate a Bearer JWT",
                "parameters": [
                    {"name": "token_use", "in": "query", "schema": {"type": "string", "enum": ["id", "access"]}},
                    {"name": "client_id", "in": "query", "schema": {"type": "string"}},
                    {"name": "pool_id", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": {"description": "{\"valid\":true,\"claims\":{...}}"},
                              "401": {"description": format!("{{\"valid\":false,\"reason\":\"{reason}\"}}")}}}},
            "/_fake/codes": {"get": {"summary": "verification codes (kind signup|forgot_password)",
                "parameters": [{"name": "pool_id", "in": "query", "schema": {"type": "string"}},
                               {"name": "username", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": {"description": "{\"results\":[{pool_id,username,kind,code,created_at,attribute}]}"}}}},
            "/_fake/state": {"get": {"summary": "state dump without private keys or password material",
                "responses": {"200": {"description": "{state, kids}"}}}},
            "/_fake/reset": {"post": {"summary": "forget every pool (keys stay)",
                "responses": {"200": {"description": "{\"reset\":true}"}}}},
            "/_fake/clock": {
                "get": {"summary": "where fake-cognito's clock stands",
                    "responses": {"200": {"description": "{now, now_epoch_seconds, offset_seconds}"}}},
                "post": {"summary": "move the clock: exactly one of {\"advance_seconds\": N}, {\"set\": RFC 3339 | unix seconds}, {\"reset\": true}",
                    "requestBody": {"content": {"application/json": {}}},
                    "responses": {"200": {"description": "{now, now_epoch_seconds, offset_seconds}"},
                                  "400": {"description": "{\"error\",\"code\":\"bad_request\",\"status\":400}"}}}},
            "/healthz": {"get": {"summary": "service_kit health contract; `clock` {now, offset_seconds} while the clock is moved",
                "responses": {"200": {"description": "ok or degraded"}, "503": {"description": "starting"}}}}
        }
    }))
}
