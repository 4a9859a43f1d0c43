//! API-key authentication for data and control routes: `x-api-key` → account and scopes.
//! Missing, unknown or revoked keys are 401; a key without the needed scope is 403 (a key of another
//! account than an index's owner is 403 too, checked in `Cell::index_for`). `--open` skips all this.

use axum::http::HeaderMap;

use crate::error::{CellError, CellResult};
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

/// Name of the account that owns everything created in `--open` mode.
pub const OPEN_ACCOUNT: &str = "open";

pub fn authorize(cell: &Cell, headers: &HeaderMap, scope: Scope) -> CellResult<Caller> {
    if cell.cfg.open {
        return Ok(Caller {
            account_id: OPEN_ACCOUNT.into(),
            open: true,
        });
    }
    let secret = headers
        .get("x-api-key")
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
