//! API-key authentication for data and control routes, as axum extractors: a handler names the
//! scope it needs in its arguments (`Auth<Read>`, or `AuthJson<Write>` for routes with a JSON
//! body) and receives the [`Caller`]. Missing, unknown or revoked keys are 401; a key without the
//! needed scope is 403 (a key of another account than an index's owner is 403 too, checked in
//! `Cell::index_for`). `--open` skips all this.
//!
//! Order of checks, as before the extractors: a handler lists `Path` before `Auth`, so a bad
//! path is reported first; `AuthJson` reads the body before checking the key, so malformed JSON
//! is 400 whoever sends it.

use std::marker::PhantomData;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::HeaderValue;
use axum::http::request::Parts;
use serde_json::Value;

use crate::error::{CellError, CellResult};
use crate::http::body::read_json;
use crate::state::{Caller, Cell};

#[derive(Debug, Clone, Copy)]
pub enum Scope {
    /// list / describe / status / get / search / stats / settings / health
    Read,
    /// add / update / delete documents
    Write,
    /// create / update / delete indexes, aliases, forks, reindex jobs
    Admin,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }
}

/// A scope as a type, so a handler's signature says what it needs.
pub trait Needs: Send + Sync + 'static {
    const SCOPE: Scope;
}

/// Needs the `read` scope.
pub struct Read;
/// Needs the `write` scope.
pub struct Write;
/// Needs the `admin` scope.
pub struct Admin;

impl Needs for Read {
    const SCOPE: Scope = Scope::Read;
}
impl Needs for Write {
    const SCOPE: Scope = Scope::Write;
}
impl Needs for Admin {
    const SCOPE: Scope = Scope::Admin;
}

/// Name of the account that owns everything created in `--open` mode.
pub const OPEN_ACCOUNT: &str = "open";

/// The caller an `x-api-key` header (when the request has one) names, if it holds `scope`.
fn authorize(cell: &Cell, api_key: Option<&HeaderValue>, scope: Scope) -> CellResult<Caller> {
    if cell.cfg.open {
        return Ok(Caller {
            account_id: OPEN_ACCOUNT.into(),
            open: true,
        });
    }
    let secret = api_key
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| CellError::Unauthorized("missing x-api-key header".into()))?;
    let dir = cell.dir.read();
    let key = dir
        .lookup(secret)
        .ok_or_else(|| CellError::Unauthorized("unknown API key".into()))?;
    if key.revoked {
        return Err(CellError::Unauthorized("API key has been revoked".into()));
    }
    if !key.scopes.iter().any(|s| s == scope.as_str()) {
        return Err(CellError::Forbidden(format!(
            "API key lacks the '{}' scope",
            scope.as_str()
        )));
    }
    Ok(Caller {
        account_id: key.account_id.clone(),
        open: false,
    })
}

/// Extractor: the caller, holding scope `S`.
pub struct Auth<S>(pub Caller, pub PhantomData<S>);

impl<S: Needs> FromRequestParts<Arc<Cell>> for Auth<S> {
    type Rejection = CellError;

    async fn from_request_parts(parts: &mut Parts, cell: &Arc<Cell>) -> CellResult<Self> {
        let key = parts.headers.get("x-api-key");
        authorize(cell, key, S::SCOPE).map(|c| Auth(c, PhantomData))
    }
}

/// Extractor for routes with a JSON body: the body (read first, see [`JsonBody`]) and the
/// caller, holding scope `S`.
pub struct AuthJson<S>(pub Caller, pub Value, pub PhantomData<S>);

impl<S: Needs> FromRequest<Arc<Cell>> for AuthJson<S> {
    type Rejection = CellError;

    async fn from_request(req: Request, cell: &Arc<Cell>) -> CellResult<Self> {
        AuthJsonBytes::<S>::from_request(req, cell)
            .await
            .map(|AuthJsonBytes(caller, body, _, _)| AuthJson(caller, body, PhantomData))
    }
}

/// [`AuthJson`] with the bytes of the body (a search's result-cache key: the bytes are at
/// hand, where writing the parsed body out again cost 2% of a search).
pub struct AuthJsonBytes<S>(pub Caller, pub Value, pub Bytes, pub PhantomData<S>);

impl<S: Needs> FromRequest<Arc<Cell>> for AuthJsonBytes<S> {
    type Rejection = CellError;

    async fn from_request(req: Request, cell: &Arc<Cell>) -> CellResult<Self> {
        // The key only, not a copy of every header; the body is read first, so a bad body is
        // still answered before a bad key.
        let key = req.headers().get("x-api-key").cloned();
        let (body, bytes) = read_json(req).await?;
        let caller = authorize(cell, key.as_ref(), S::SCOPE)?;
        Ok(AuthJsonBytes(caller, body, bytes, PhantomData))
    }
}
