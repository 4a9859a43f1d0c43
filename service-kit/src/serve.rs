//! Binding and serving: the caller binds (tests bind port 0), `serve` runs a router until the
//! shutdown future resolves, then drains in-flight requests.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};

use axum::Router;
use axum::serve::Listener;
use tokio::net::TcpListener;

#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error(
        "port {port} on {ip} is already in use; find the holder with `ss -ltnp 'sport = :{port}'` \
         or run `orchestrator doctor` (see TROUBLESHOOTING.md#port-already-in-use)"
    )]
    InUse { ip: IpAddr, port: u16 },
    #[error("cannot bind {ip}:{port}: {source}")]
    Other {
        ip: IpAddr,
        port: u16,
        source: std::io::Error,
    },
}

/// Bind a TCP listener, turning `EADDRINUSE` into a message that says what to do.
/// Warns when the address is not loopback, because every service is meant to be local-only.
pub async fn bind_listener(ip: IpAddr, port: u16) -> Result<TcpListener, BindError> {
    if !ip.is_loopback() {
        tracing::warn!(%ip, port, "binding a non-loopback address: this service is reachable from other machines");
    }
    match TcpListener::bind(SocketAddr::new(ip, port)).await {
        Ok(l) => Ok(l),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Err(BindError::InUse { ip, port }),
        Err(source) => Err(BindError::Other { ip, port, source }),
    }
}

/// Same as [`bind_listener`] for code that runs outside an async context (per-index servers bind
/// on their own thread before their runtime starts).
pub fn bind_std_listener(ip: IpAddr, port: u16) -> Result<std::net::TcpListener, BindError> {
    match std::net::TcpListener::bind(SocketAddr::new(ip, port)) {
        Ok(l) => {
            l.set_nonblocking(true)
                .map_err(|source| BindError::Other { ip, port, source })?;
            Ok(l)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Err(BindError::InUse { ip, port }),
        Err(source) => Err(BindError::Other { ip, port, source }),
    }
}

/// Serve `router` on `listener` until `shutdown` resolves, then finish in-flight requests.
pub async fn serve<L>(
    listener: L,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: Listener,
    L::Addr: std::fmt::Debug,
{
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// [`serve`] with response coalescing ([`crate::coalesce`]): for servers that take many
/// concurrent requests of real work (fake-cell's main port and per-index servers).
pub async fn serve_coalescing(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve(crate::coalesce::Coalescing(listener), router, shutdown).await
}
