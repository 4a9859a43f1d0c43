//! Load and memory: each built-in service (fake-cell, fake-cognito, webhook-router and the
//! orchestrator's dashboard API) held at 256 connections for the load duration (60 s, a few
//! seconds with --quick): zero errors, and resident memory idle, right after the load and
//! after a short rest. moto's and cognito-local's memory (idle and after a login load) for contrast.

use std::time::Duration;

use orchestrator::config::ports::Ports;

use crate::proc::Proc;
use crate::report::Row;
use crate::wrk::{self, WrkResult};
use crate::{Ctx, cell, cognito, router, stack};

/// How long a service rests after a load before its memory is read again: long enough for idle
/// pooled connections to close (3 s in webhook-router, reaped on the next 3 s tick) and the allocator trim (every 2 s) to run.
const REST: Duration = Duration::from_secs(10);

/// Holds `url` at 256 connections and records errors and memory before, after and [`REST`] later.
async fn hold(
    ctx: &mut Ctx,
    proc: &mut Proc,
    service: &str,
    what: &str,
    url: &str,
    script: Option<&std::path::Path>,
) -> anyhow::Result<WrkResult> {
    let idle = proc.rss_mib()?;
    let r = wrk::run(url, 256, ctx.load_dur, script).await?;
    let after = proc.rss_mib()?;
    tokio::time::sleep(REST).await;
    let rested = proc.rss_mib()?;
    proc.check_alive()?;
    // The same load again (a quarter as long): memory the allocator merely kept from the first
    // burst is reused, so a service that holds rather than leaks ends where it ended before.
    let again = wrk::run(
        url,
        256,
        (ctx.load_dur / 4).max(Duration::from_secs(2)),
        script,
    )
    .await?;
    tokio::time::sleep(REST).await;
    let second = proc.rss_mib()?;
    proc.check_alive()?;
    let secs = ctx.load_dur.as_secs();
    ctx.report
        .push(Row::load("load", format!("{what} @256 for {secs} s"), &r).goal("errors 0"));
    ctx.report.push(Row::new(
        "memory",
        format!("{service} idle before {what}"),
        idle,
        "MiB",
    ));
    ctx.report.push(
        Row::new(
            "memory",
            format!("{service} right after {what}"),
            after,
            "MiB",
        )
        .vs("idle", idle),
    );
    ctx.report.push(
        Row::new(
            "memory",
            format!("{service} {} s after {what}", REST.as_secs()),
            rested,
            "MiB",
        )
        .vs("idle", idle)
        .goal("near idle"),
    );
    ctx.report.push(
        Row::load(
            "load",
            format!("{what} @256 again, a quarter as long"),
            &again,
        )
        .goal("errors 0"),
    );
    ctx.report.push(
        Row::new(
            "memory",
            format!(
                "{service} {} s after the second {what} load",
                REST.as_secs()
            ),
            second,
            "MiB",
        )
        .vs(format!("{} s after the first", REST.as_secs()), rested)
        .goal("near 1× (held, not growing)"),
    );
    Ok(r)
}

pub async fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    // fake-cell: a write load (bounded id space) and a search load on 10,000 documents.
    let mut c = cell::start(ctx, "load-cell", true).await?;
    let idle = c.proc.rss_mib()?;
    ctx.report
        .push(Row::new("memory", "fake-cell idle, empty", idle, "MiB"));
    let search = cell::create_index(ctx, &c, "load-search").await?;
    let write = cell::create_index(ctx, &c, "load-write").await?;
    cell::fill(ctx, &search, "load-search", 0, 10_000).await?;
    let add = ctx.script("load-add", &cell::add_script())?;
    let lexical = ctx.script("load-lexical", &cell::distinct_search_script("LEXICAL"))?;
    hold(
        ctx,
        &mut c.proc,
        "fake-cell",
        "add_documents",
        &format!("{write}/indexes/load-write/documents"),
        Some(&add),
    )
    .await?;
    hold(
        ctx,
        &mut c.proc,
        "fake-cell",
        "lexical search",
        &format!("{search}/indexes/load-search/search"),
        Some(&lexical),
    )
    .await?;
    drop(c);

    // fake-cognito: logins.
    let (mut p, url) = cognito::start_fake(ctx, "load-cognito").await?;
    ctx.report.push(Row::new(
        "memory",
        "fake-cognito idle, empty",
        p.rss_mib()?,
        "MiB",
    ));
    let (_, client_id) = cognito::setup_user(&ctx.http, &url).await?;
    let login = ctx.script("load-login", &cognito::login_script(&client_id))?;
    hold(
        ctx,
        &mut p,
        "fake-cognito",
        "InitiateAuth",
        &url,
        Some(&login),
    )
    .await?;
    drop(p);

    // webhook-router: events forwarded to the bench target.
    let target = router::start_target()?;
    let (mut p, url) = router::start_router(ctx, &target).await?;
    ctx.report.push(Row::new(
        "memory",
        "webhook-router idle",
        p.rss_mib()?,
        "MiB",
    ));
    let event = ctx.script("load-event", &wrk::post_script(router::EVENT, &[]))?;
    hold(
        ctx,
        &mut p,
        "webhook-router",
        "webhook events",
        &format!("{url}/webhook/eventbridge"),
        Some(&event),
    )
    .await?;
    drop(p);

    // The orchestrator's dashboard API (the core stack, no seed): status polled as a UI would.
    let root = ctx.dir("load-stack")?;
    let offset = stack::free_offset()?;
    let (mut orch, _, _) = stack::up(ctx, &root, offset, &["--no-seed"]).await?;
    ctx.report.push(Row::new(
        "memory",
        "orchestrator (supervisor + dashboard) idle",
        orch.rss_mib()?,
        "MiB",
    ));
    hold(
        ctx,
        &mut orch,
        "orchestrator",
        "dashboard /api/status",
        &format!(
            "http://127.0.0.1:{}/api/status",
            Ports::new(offset).dashboard()
        ),
        None,
    )
    .await?;
    stack::stop(ctx, &root)?;
    drop(orch);

    // moto and cognito-local, what a team would run instead: idle, and after one Cognito
    // pool/client/user and a short login load.
    let (mut moto, url, _) = cognito::start_moto(ctx).await?;
    idle_and_after_logins(ctx, "moto", &mut moto, &url).await?;
    drop(moto);
    let (mut local, url) = cognito::start_cognito_local(ctx, "load-cognito-local").await?;
    idle_and_after_logins(ctx, "cognito-local", &mut local, &url).await?;
    Ok(())
}

/// Memory of a Cognito alternative idle and after a short 16-client login load.
async fn idle_and_after_logins(
    ctx: &mut Ctx,
    name: &str,
    proc: &mut Proc,
    url: &str,
) -> anyhow::Result<()> {
    let idle = proc.rss_mib()?;
    ctx.report
        .push(Row::new("memory", format!("{name} idle"), idle, "MiB"));
    let (_, client_id) = cognito::setup_user(&ctx.http, url).await?;
    let login = ctx.script(
        &format!("load-{name}-login"),
        &cognito::login_script(&client_id),
    )?;
    let r = wrk::run(url, 16, ctx.load_dur.min(ctx.dur), Some(&login)).await?;
    proc.check_alive()?;
    ctx.report.push(
        Row::new(
            "memory",
            format!("{name} after {} logins", r.requests),
            proc.rss_mib()?,
            "MiB",
        )
        .vs("idle", idle),
    );
    Ok(())
}
