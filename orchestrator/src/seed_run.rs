//! A seed run: the `seed` crate run against the stack, automatically after layer 0 in `up`, and on
//! demand in `orchestrator seed` (whose command line lives in `commands/seed.rs`). Progress lines
//! go to the terminal as `[seed] …`; the manifest is kept for `GET /api/seed`, and the Cognito ids
//! it yields are injected into the later layers' environment.

use std::time::{Duration, Instant};

use crate::config::env::Context;
use crate::config::{HippodromeToml, Paths};
use crate::dashboard::{AppState, SeedStatus};

/// What the `seed` crate needs, from the services' context and `hippodrome.toml` (the functions
/// and state machines it creates in moto); `moto` and `cell`: whether those run.
pub fn config(
    ctx: &Context,
    paths: &Paths,
    toml: &HippodromeToml,
    moto: bool,
    cell: bool,
    sizes: (Option<usize>, Option<usize>),
) -> seed::SeedConfig {
    let mut s = seed::Sizes::default();
    if let Some(a) = sizes.0 {
        s.accounts = a;
    }
    if let Some(d) = sizes.1 {
        s.docs_per_index = d;
    }
    seed::SeedConfig {
        seed: Some(ctx.seed),
        cell_url: cell.then(|| ctx.cell_url.clone()),
        cognito_url: Some(ctx.cognito_url.clone()),
        moto_url: moto.then(|| ctx.moto_url.clone()),
        table_prefix: ctx.table_prefix.clone(),
        out_dir: paths.hippodrome_dir.clone(),
        sizes: s,
        encryption_secret: ctx.encryption_secret.clone(),
        region: ctx.region.clone(),
        cell_name: ctx.cell.clone(),
        wait_timeout: Duration::from_secs(30),
        lambdas: toml
            .lambdas
            .iter()
            .map(|l| seed::moto::functions::Wanted {
                name: l.name.clone(),
                timeout_s: l.timeout_s,
                target: match (&l.url, &l.service) {
                    (Some(url), _) => url.clone(),
                    (None, Some(service)) => format!("service {service}"),
                    (None, None) => String::new(),
                },
            })
            .collect(),
        state_machines: toml
            .state_machines
            .iter()
            .map(|m| m.for_seed(&paths.project_root))
            .collect(),
    }
}

/// `up`'s seed step, then the team's `[[seed.hooks]]`. A failed seed or a failed non-blocking
/// hook is reported (and a failed seed makes `wait` fail) but does not stop the stack; Err only
/// for a failed blocking hook.
pub async fn run_after_layer0(
    st: &AppState,
    ctx: &Context,
    paths: &Paths,
    toml: &HippodromeToml,
    sizes: (Option<usize>, Option<usize>),
) -> Result<(), String> {
    let running = |name: &str| st.sup.get(name).is_some_and(|s| s.spec.skip.is_none());
    let cfg = config(
        ctx,
        paths,
        toml,
        running("moto"),
        running("fake_cell"),
        sizes,
    );
    *st.seed.lock() = SeedStatus::Running;
    let started = Instant::now();
    println!("[seed] seeding with HIPPODROME_RANDOM_SEED={}", ctx.seed);
    // Every failed group, for the status detail (`/api/stack`, doctor): the error names only the first.
    let failures = parking_lot::Mutex::new(Vec::<String>::new());
    let progress = |line: &str| {
        if let Some(f) = line.strip_prefix("failed: ") {
            failures.lock().push(f.to_owned());
        }
        println!("[seed] {line}");
    };
    let result = seed::run(&cfg, progress).await;
    match result {
        Ok(manifest) => {
            if let Some(pool) = &manifest.cognito.pool_id {
                st.sup
                    .options
                    .late_env
                    .lock()
                    .insert("COGNITO_USER_POOL_ID".into(), pool.into());
            }
            if let Some(client) = &manifest.cognito.clients.public.client_id {
                st.sup
                    .options
                    .late_env
                    .lock()
                    .insert("COGNITO_CLIENT_ID".into(), client.into());
            }
            println!(
                "[seed] done in {:.2}s: {} accounts, {} users; manifest {}",
                started.elapsed().as_secs_f64(),
                manifest.accounts.len(),
                manifest.cognito.users.len(),
                paths.hippodrome_dir.join("seed.json").display()
            );
            *st.manifest.lock() = Some(manifest.clone());
            let hooks = run_hooks(st, &manifest, paths).await;
            *st.seed.lock() = match &hooks {
                Ok(()) => SeedStatus::Done,
                Err(e) => SeedStatus::Failed(e.clone()),
            };
            hooks
        }
        Err(e) => {
            eprintln!(
                "[seed] failed: {e:#} (see TROUBLESHOOTING.md#seed-failed; rerun with `orchestrator seed`)"
            );
            st.hooks.skip_all("not run: the seed failed");
            let groups = std::mem::take(&mut *failures.lock());
            let detail = if groups.is_empty() {
                format!("{e:#}")
            } else {
                groups.join("\n")
            };
            *st.seed.lock() = SeedStatus::Failed(detail);
            Ok(())
        }
    }
}

/// The `[[seed.hooks]]` after a successful seed, with one summary line per hook.
async fn run_hooks(st: &AppState, manifest: &seed::Manifest, paths: &Paths) -> Result<(), String> {
    if st.hooks.specs.is_empty() {
        return Ok(());
    }
    let env = crate::seed_hooks::manifest_env(manifest, &paths.hippodrome_dir);
    let result = st
        .hooks
        .run(&paths.project_root, &env, &st.sup.logs, st.sup.options.echo)
        .await;
    for r in st.hooks.snapshot() {
        println!("[seed] {}", crate::seed_hooks::summary(&r));
    }
    result
}
