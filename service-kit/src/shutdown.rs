//! One shutdown path: SIGINT or SIGTERM resolves [`shutdown_signal`]; [`Shutdown`] fans the news out
//! to background tasks and threads (index servers, watchdogs, pollers) without each of them
//! installing its own signal handler.

use std::future::Future;
use tokio::sync::watch;

/// Resolves on the first SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT received, shutting down"),
        _ = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}

/// A cloneable shutdown token. `trigger()` once; every clone's `wait()` resolves, and `is_triggered()`
/// can be polled from plain threads.
#[derive(Clone, Debug)]
pub struct Shutdown {
    tx: watch::Sender<bool>,
    rx: watch::Receiver<bool>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    pub fn new() -> Self {
        let (tx, rx) = watch::channel(false);
        Self { tx, rx }
    }

    pub fn trigger(&self) {
        let _ = self.tx.send(true);
    }

    pub fn is_triggered(&self) -> bool {
        *self.rx.borrow()
    }

    /// Resolves once `trigger()` has been called on any clone.
    pub fn wait(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.rx.clone();
        async move {
            while !*rx.borrow_and_update() {
                if rx.changed().await.is_err() {
                    return;
                }
            }
        }
    }

    /// Trigger this token when SIGINT or SIGTERM arrives (spawns a task on the current runtime).
    pub fn trigger_on_signal(&self) {
        let this = self.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            this.trigger();
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wait_resolves_after_trigger_on_any_clone() {
        let s = Shutdown::new();
        let waiter = s.clone().wait();
        assert!(!s.is_triggered());
        s.clone().trigger();
        tokio::time::timeout(std::time::Duration::from_secs(1), waiter)
            .await
            .expect("wait resolves");
        assert!(s.is_triggered());
    }
}
