//! webhook-router: latency it adds over calling the same target directly.

use crate::proc::Proc;
use crate::report::Row;
use crate::{Ctx, wrk};

/// The event every request posts; its detail-type routes to the bench target.
pub const EVENT: &str = r#"{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":"Bench.Ping","source":"bench","account":"000000000000","time":"2026-01-01T00:00:00Z","region":"us-east-1","resources":[],"detail":{"n":1}}"#;

/// Starts a tiny axum target (POST / → 200 JSON) on its own runtime and thread; returns its URL.
pub fn start_target() -> anyhow::Result<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let url = format!("http://{}/", listener.local_addr()?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("target".into())
        .spawn(move || {
            runtime.block_on(async move {
                let app = axum::Router::new().route(
                    "/",
                    axum::routing::post(|_body: axum::body::Bytes| async {
                        axum::Json(serde_json::json!({"status": "ok"}))
                    }),
                );
                if let Ok(listener) = tokio::net::TcpListener::from_std(listener) {
                    let _ = axum::serve(listener, app).await;
                }
            })
        })?;
    Ok(url)
}

/// Starts webhook-router routing `Bench.` to `target`; returns it with its URL.
pub async fn start_router(ctx: &Ctx, target: &str) -> anyhow::Result<(Proc, String)> {
    let route = format!("Bench.=bench@{target}");
    ctx.start_service(
        "webhook-router",
        "webhook-router",
        &["--route".into(), route.into()],
    )
    .await
}

pub async fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let target = start_target()?;
    let (_router, url) = start_router(ctx, &target).await?;
    let script = ctx.script("router-event", &wrk::post_script(EVENT, &[]))?;
    let hook = format!("{url}/webhook/eventbridge");
    for conns in [1, 16] {
        let direct = wrk::run(&target, conns, ctx.dur, Some(&script)).await?;
        let routed = wrk::run(&hook, conns, ctx.dur, Some(&script)).await?;
        ctx.report.push(Row::load(
            "router",
            format!("target called directly @{conns}"),
            &direct,
        ));
        ctx.report.push(
            Row::load(
                "router",
                format!("through webhook-router @{conns}"),
                &routed,
            )
            .vs_load("direct", &direct),
        );
        ctx.report.push(Row::new(
            "router",
            format!("added p50 @{conns}"),
            routed.p50_ms - direct.p50_ms,
            "ms",
        ));
        ctx.report.push(
            Row::new(
                "router",
                format!("added p99 @{conns}"),
                routed.p99_ms - direct.p99_ms,
                "ms",
            )
            .goal("≤ 1 ms"),
        );
    }
    Ok(())
}
