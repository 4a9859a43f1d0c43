//! Per-index HTTP servers: one OS thread per index that owns the index's listener and its own
//! tokio runtime (`--index-workers` threads, default 2; 1 = a current-thread runtime on that one
//! thread), so load on one index never stalls the main API or another index. Each serves the
//! router the cell was built with (`Cell::index_router`: the data-plane routes), so this module
//! does not depend on the HTTP layer, and coalesces responses (`service_kit::coalesce`): under
//! load a worker answers its ready searches, then writes their responses together. Also the port
//! choice within `--index-ports`.

use std::collections::HashSet;
use std::net::TcpListener;
use std::sync::Arc;

use service_kit::Shutdown;

use crate::error::{CellError, CellResult};
use crate::state::{Cell, ServerHandle};

/// Ports already assigned to indexes (other than `except`).
fn assigned_ports(cell: &Cell, except: Option<&str>) -> HashSet<u16> {
    cell.indexes
        .read()
        .values()
        .filter(|i| Some(i.name.as_str()) != except)
        .map(|i| i.meta.read().port)
        .collect()
}

/// Bind `preferred` if given and free, else the first free port of the range not assigned to
/// another index. The OS arbitrates races between concurrent creations.
pub fn bind_port(
    cell: &Cell,
    preferred: Option<u16>,
    owner: Option<&str>,
) -> CellResult<(u16, TcpListener)> {
    let taken = assigned_ports(cell, owner);
    let ip = cell.cfg.listen.bind;
    if let Some(p) = preferred
        && let Ok(l) = service_kit::serve::bind_std_listener(ip, p)
    {
        return Ok((p, l));
    }
    for p in cell.cfg.index_ports.ports() {
        if taken.contains(&p) || Some(p) == preferred {
            continue;
        }
        if let Ok(l) = service_kit::serve::bind_std_listener(ip, p) {
            return Ok((p, l));
        }
    }
    Err(CellError::Conflict {
        code: "no_free_index_port",
        message: format!(
            "no free port left in the index port range {}-{}; delete an index or widen --index-ports",
            cell.cfg.index_ports.low, cell.cfg.index_ports.high
        ),
    })
}

/// Start `idx`'s server on `listener`, bound to `port`; when that is not the port the index
/// remembers (it was taken), the new one is persisted first so the next start finds it.
pub async fn start_on(
    cell: &Arc<Cell>,
    idx: &crate::state::Index,
    port: u16,
    listener: TcpListener,
) -> CellResult<()> {
    let remembered = idx.meta.read().port;
    if port != remembered {
        tracing::warn!(index = %idx.name, remembered, port, "remembered index port is taken; using another one");
        let ticket = {
            let mut meta = idx.meta.write();
            meta.port = port;
            cell.submit(&crate::persist::Record::Index { v: meta.clone() })
        };
        cell.commit(ticket).await?;
    }
    start(cell, &idx.name, port, listener)
}

/// Start serving `index` on an already bound listener (so it is accepting when this returns).
pub fn start(cell: &Arc<Cell>, index: &str, port: u16, listener: TcpListener) -> CellResult<()> {
    let shutdown = Shutdown::new();
    let router = (cell.index_router)(cell.clone());
    let wait = shutdown.wait();
    let name = index.to_string();
    let workers = usize::from(cell.cfg.index_workers);
    let thread = std::thread::Builder::new()
        .name(format!("index-{port}"))
        .spawn(move || {
            let built = if workers <= 1 {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
            } else {
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(workers)
                    .thread_name(format!("index-{port}-worker"))
                    .enable_all()
                    .build()
            };
            let rt = match built {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!(index = %name, error = %e, "cannot start index server runtime");
                    return;
                }
            };
            rt.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::error!(index = %name, error = %e, "cannot adopt index listener");
                        return;
                    }
                };
                if let Err(e) = service_kit::serve::serve_coalescing(listener, router, wait).await {
                    tracing::error!(index = %name, error = %e, "index server failed");
                }
            });
        })
        .map_err(|e| CellError::Internal(format!("cannot spawn index server thread: {e}")))?;
    let old = cell.servers.lock().insert(
        index.to_string(),
        ServerHandle {
            port,
            shutdown,
            thread: Some(thread),
        },
    );
    if let Some(old) = old {
        old.stop();
    }
    tracing::info!(index, port, "index server listening");
    Ok(())
}

/// Stop an index's server (delete, reset, shutdown).
pub fn stop(cell: &Cell, index: &str) {
    let handle = cell.servers.lock().remove(index);
    if let Some(h) = handle {
        h.stop();
    }
}

pub fn stop_all(cell: &Cell) {
    let all: Vec<ServerHandle> = cell.servers.lock().drain().map(|(_, h)| h).collect();
    for h in all {
        h.stop();
    }
}
