//! The limit: a bare axum hello server on its own runtime and thread.

use crate::Ctx;
use crate::report::Row;

/// Starts the hello server (once) on a 2-worker runtime in its own thread; returns its URL.
pub fn start_hello() -> anyhow::Result<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let url = format!("http://{}/", listener.local_addr()?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("hello".into())
        .spawn(move || {
            runtime.block_on(async move {
                let app = axum::Router::new()
                    .route("/", axum::routing::get(|| async { "Hello, World!" }));
                if let Ok(listener) = tokio::net::TcpListener::from_std(listener) {
                    let _ = axum::serve(listener, app).await;
                }
            })
        })?;
    Ok(url)
}

pub async fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    for conns in [64, 256] {
        let r = ctx.limit(conns).await?;
        ctx.report
            .push(Row::load("limit", format!("axum hello @{conns}"), &r));
    }
    Ok(())
}
