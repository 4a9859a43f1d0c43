//! The stack's services: which ones a stack runs, in which layer, with which command, environment
//! and health check — or why a service is skipped. Pure data; nothing here starts a process (the
//! `supervisor` does). Not to be confused with the `seed` crate's plan, which is the seed data.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::env::{self, Context};
use crate::config::hippodrome_toml::{HippodromeToml, ServiceSection};
use crate::config::lambdas::LambdaSection;
use crate::config::{Cell, Paths, Ports, Profile};

/// How the supervisor decides a service is healthy.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "path", rename_all = "lowercase")]
pub enum Health {
    /// GET this path on the service's port; 2xx is healthy.
    Http(String),
    /// A TCP connect to the port succeeds.
    Tcp,
    /// No port: healthy while the process lives.
    Process,
}

/// A command run once before the service when its marker is missing (venv, node_modules...).
#[derive(Clone, Debug)]
pub struct Setup {
    pub argv: Vec<String>,
    pub creates: PathBuf,
    /// What the step does, in words, for the terminal, the log and the dashboard (people see
    /// this, with the elapsed time, instead of a raw `sh -c …` line).
    pub description: String,
}

#[derive(Clone, Debug)]
pub struct ServiceSpec {
    pub name: String,
    pub port: Option<u16>,
    pub layer: u8,
    /// Program first. For built-ins the program is the orchestrator itself (`serve <crate>`).
    pub argv: Vec<String>,
    pub cwd: Option<PathBuf>,
    pub env: BTreeMap<String, String>,
    pub health: Health,
    pub blocking: bool,
    pub auto_restart: bool,
    pub setup: Option<Setup>,
    /// Why the service will not be started, if it will not.
    pub skip: Option<String>,
    pub builtin: bool,
}

/// What the list of services is built from.
pub struct ServicesInput<'a> {
    pub profile: Profile,
    pub cell: Cell,
    pub only: Option<&'a [String]>,
    pub ports: Ports,
    pub paths: &'a Paths,
    pub toml: &'a HippodromeToml,
    pub ctx: &'a Context,
    /// The orchestrator executable, re-executed as `serve <crate>` for built-ins.
    pub self_exe: &'a Path,
    /// The command that runs moto (program first) and the setup step that installs it.
    pub moto_argv: &'a [String],
    pub moto_setup: Option<Setup>,
}

/// Built-in services and the team's services, in start order (layer, then declaration order).
pub fn build(input: &ServicesInput<'_>) -> Result<Vec<ServiceSpec>, String> {
    let injected = env::injected(input.ctx);
    let mut out = builtins(input, &injected);
    for s in &input.toml.services {
        out.push(team_service(s, input, &injected)?);
    }
    let gateway = aws_gateway(input, &injected, &out)?;
    let lambdas = lambda_flags(input, &out)?;
    if let Some(cognito) = out.iter_mut().find(|s| s.name == "fake_cognito") {
        // A user pool's Lambda triggers invoke the same processes as the gateway's Invoke.
        cognito.argv.extend(lambdas);
    }
    out.push(gateway);
    for s in &mut out {
        // The gateway is moto's front door: `--only moto` brings it too.
        let wanted = selected(input.only, &s.name)
            || (s.name == "aws_gateway" && selected(input.only, "moto"));
        if s.skip.is_none() && !wanted {
            s.skip = Some("not in --only".to_owned());
        }
    }
    out.sort_by_key(|s| s.layer);
    Ok(out)
}

/// The built-ins, each the orchestrator itself re-executed as `serve <crate>` (moto aside): the
/// fake cell, fake Cognito and moto in layer 0, the webhook router in layer 1.
fn builtins(input: &ServicesInput<'_>, injected: &BTreeMap<String, String>) -> Vec<ServiceSpec> {
    let exe = input.self_exe.to_string_lossy().into_owned();
    let moto = moto(input, injected);
    let moto_runs = moto.skip.is_none() && selected(input.only, "moto");
    vec![
        fake_cell(input, injected, &exe),
        fake_cognito(input, injected, &exe),
        moto,
        webhook_router(input, injected, &exe, moto_runs),
    ]
}

/// A built-in in layer 0, blocking and restarted automatically. Built-ins get the injected env
/// too (dummy AWS credentials for the router's SDK calls).
fn builtin(
    name: &str,
    port: u16,
    argv: Vec<String>,
    health: &str,
    injected: &BTreeMap<String, String>,
) -> ServiceSpec {
    ServiceSpec {
        name: name.to_owned(),
        port: Some(port),
        layer: 0,
        argv,
        cwd: None,
        env: injected.clone(),
        health: Health::Http(health.to_owned()),
        blocking: true,
        auto_restart: true,
        setup: None,
        skip: None,
        builtin: true,
    }
}

/// A built-in's state file, in the stack's state directory.
fn state_file(input: &ServicesInput<'_>, file: &str) -> String {
    input
        .paths
        .state_dir
        .join(file)
        .to_string_lossy()
        .into_owned()
}

/// Skipped when the stack uses a real cell.
fn fake_cell(
    input: &ServicesInput<'_>,
    injected: &BTreeMap<String, String>,
    exe: &str,
) -> ServiceSpec {
    let (lo, hi) = input.ports.index_range();
    let argv = vec![
        exe.to_owned(),
        "serve".into(),
        "fake-cell".into(),
        "--port".into(),
        input.ports.fake_cell().to_string(),
        "--state-file".into(),
        state_file(input, "fake_cell.json"),
        "--index-ports".into(),
        format!("{lo}-{hi}"),
    ];
    let mut cell = builtin(
        "fake_cell",
        input.ports.fake_cell(),
        argv,
        "/healthz",
        injected,
    );
    if input.cell != Cell::Local {
        cell.skip = Some(format!(
            "--cell {} uses the real cell at {}",
            input.cell.as_str(),
            input.ctx.cell_url
        ));
    }
    cell
}

fn fake_cognito(
    input: &ServicesInput<'_>,
    injected: &BTreeMap<String, String>,
    exe: &str,
) -> ServiceSpec {
    let argv = vec![
        exe.to_owned(),
        "serve".into(),
        "fake-cognito".into(),
        "--port".into(),
        input.ports.fake_cognito().to_string(),
        "--state-file".into(),
        state_file(input, "fake_cognito.json"),
    ];
    builtin(
        "fake_cognito",
        input.ports.fake_cognito(),
        argv,
        "/healthz",
        injected,
    )
}

/// moto from its pinned venv (installed by its setup step); only in the ecom and full profiles.
fn moto(input: &ServicesInput<'_>, injected: &BTreeMap<String, String>) -> ServiceSpec {
    let argv = input
        .moto_argv
        .iter()
        .cloned()
        .chain([
            "-H".into(),
            "127.0.0.1".into(),
            "-p".into(),
            input.ports.moto().to_string(),
        ])
        .collect();
    let mut moto = builtin("moto", input.ports.moto(), argv, "/moto-api/", injected);
    moto.setup = input.moto_setup.clone();
    // moto's Step Functions engine calls its service integrations (Lambda, DynamoDB…) at
    // localhost:$MOTO_PORT: the gateway, so a state machine's Lambda task reaches a local process.
    moto.env
        .insert("MOTO_PORT".into(), input.ports.aws_gateway().to_string());
    // Recorded so `snapshot save` can replay it (moto has no export).
    let recording = state_file(input, crate::snapshot::moto::RECORDING);
    crate::snapshot::moto::record_into(&mut moto, &recording);
    if !matches!(input.profile, Profile::Ecom | Profile::Full) {
        moto.skip = Some(format!("not in profile {}", input.profile.as_str()));
    }
    moto
}

/// Where a `[[lambdas]]` function is invoked: its `url`, or its `[[services]]` entry's port.
pub fn lambda_url(l: &LambdaSection, built: &[ServiceSpec]) -> Result<String, String> {
    match (&l.url, &l.service) {
        (Some(url), _) => Ok(url.clone()),
        (None, Some(service)) => built
            .iter()
            .find(|s| &s.name == service)
            .and_then(|s| s.port)
            .map(|port| format!("http://127.0.0.1:{port}"))
            .ok_or_else(|| format!("lambdas: {:?}: service {service:?} has no port", l.name)),
        (None, None) => Err(format!("lambdas: {:?} has no url", l.name)),
    }
}

/// `--lambda NAME=URL,TIMEOUT` for every `[[lambdas]]` function (the gateway's and fake-cognito's
/// function table).
fn lambda_flags(input: &ServicesInput<'_>, built: &[ServiceSpec]) -> Result<Vec<String>, String> {
    let mut argv = Vec::new();
    for l in &input.toml.lambdas {
        let url = lambda_url(l, built)?;
        argv.push("--lambda".into());
        argv.push(format!("{}={url},{}", l.name, l.timeout_s));
    }
    Ok(argv)
}

/// The AWS gateway in front of moto: every AWS call goes through it, and it runs Lambda Invoke on
/// the `[[lambdas]]` processes. It runs exactly when moto does.
fn aws_gateway(
    input: &ServicesInput<'_>,
    injected: &BTreeMap<String, String>,
    built: &[ServiceSpec],
) -> Result<ServiceSpec, String> {
    let mut argv = vec![
        input.self_exe.to_string_lossy().into_owned(),
        "serve".into(),
        "aws-gateway".into(),
        "--port".into(),
        input.ports.aws_gateway().to_string(),
        "--moto-url".into(),
        format!("http://127.0.0.1:{}", input.ports.moto()),
        "--region".into(),
        input.ctx.region.clone(),
        "--faults-file".into(),
        state_file(input, "aws_gateway_faults.json"),
    ];
    argv.extend(lambda_flags(input, built)?);
    for l in &input.toml.lambdas {
        for q in &l.sqs {
            argv.push("--sqs-mapping".into());
            argv.push(format!(
                "{}={}",
                l.name,
                crate::config::lambdas::queue_arn(q, &input.ctx.region)
            ));
        }
    }
    let mut gateway = builtin(
        "aws_gateway",
        input.ports.aws_gateway(),
        argv,
        "/healthz",
        injected,
    );
    if let Some(moto) = built.iter().find(|s| s.name == "moto") {
        gateway.skip = moto.skip.clone();
    }
    Ok(gateway)
}

/// The router with its routes, and moto's URL when moto runs (it follows moto's tables then).
fn webhook_router(
    input: &ServicesInput<'_>,
    injected: &BTreeMap<String, String>,
    exe: &str,
    moto_runs: bool,
) -> ServiceSpec {
    let mut argv = vec![
        exe.to_owned(),
        "serve".into(),
        "webhook-router".into(),
        "--port".into(),
        input.ports.webhook_router().to_string(),
        "--table-prefix".into(),
        input.ctx.table_prefix.clone(),
        "--faults-file".into(),
        state_file(input, "webhook_router_faults.json"),
    ];
    for (prefix, target, port, path) in routes(input) {
        argv.push("--route".into());
        argv.push(format!("{prefix}={target}@http://127.0.0.1:{port}{path}"));
    }
    if moto_runs {
        argv.push("--moto-url".into());
        argv.push(input.ctx.moto_url.clone());
    }
    let mut router = builtin(
        "webhook_router",
        input.ports.webhook_router(),
        argv,
        "/healthz",
        injected,
    );
    // The router follows tables the seed creates after layer 0, so it starts one layer later.
    router.layer = 1;
    router
}

fn selected(only: Option<&[String]>, name: &str) -> bool {
    only.is_none_or(|o| o.iter().any(|n| n == name))
}

/// Default routes plus `[[routes]]` from hippodrome.toml, as (prefix, target, port, path).
fn routes(input: &ServicesInput<'_>) -> Vec<(String, String, u16, String)> {
    let mut out = vec![
        (
            "EcomIndexSettings.".to_owned(),
            "ecom_settings_exporter".to_owned(),
            input.ports.ecom_settings_exporter(),
            "/".to_owned(),
        ),
        (
            "Merchandising.".to_owned(),
            "merchandising_exporter".to_owned(),
            input.ports.merchandising_exporter(),
            "/".to_owned(),
        ),
    ];
    for r in &input.toml.routes {
        let port = input
            .toml
            .services
            .iter()
            .find(|s| s.name == r.target)
            .and_then(|s| s.port)
            .map(|p| input.ports.shift(p))
            .or_else(|| input.ports.of(&r.target));
        if let Some(port) = port {
            out.push((r.prefix.clone(), r.target.clone(), port, r.path.clone()));
        }
    }
    // Team services may override where the default exporters live.
    for (_, target, port, _) in out.iter_mut() {
        if let Some(p) = input
            .toml
            .services
            .iter()
            .find(|s| &s.name == target)
            .and_then(|s| s.port)
        {
            *port = input.ports.shift(p);
        }
    }
    out
}

fn team_service(
    s: &ServiceSection,
    input: &ServicesInput<'_>,
    injected: &BTreeMap<String, String>,
) -> Result<ServiceSpec, String> {
    let port = s.port.or_else(|| {
        crate::config::ports::DEFAULTS
            .iter()
            .find(|(n, _)| *n == s.name)
            .map(|(_, p)| *p)
    });
    let port = port.map(|p| input.ports.shift(p));
    let ctx = Context {
        port,
        ..input.ctx.clone()
    };
    let expand = |v: &str| {
        env::expand(v, &ctx).map_err(|e| format!("hippodrome.toml: service {}: {e}", s.name))
    };
    let argv = s
        .command
        .iter()
        .map(|a| expand(a))
        .collect::<Result<Vec<_>, _>>()?;
    let mut env = injected.clone();
    if let Some(p) = port {
        env.insert("PORT".into(), p.to_string());
    }
    for (k, v) in &s.env {
        env.insert(k.clone(), expand(v)?);
    }
    let cwd = s.cwd.as_ref().map(|c| input.paths.project_root.join(c));
    let health = match (&s.health_url, port) {
        (Some(path), Some(_)) => Health::Http(path.clone()),
        (None, Some(_)) => Health::Tcp,
        _ => Health::Process,
    };
    let setup = match &s.setup {
        Some(setup) => {
            let argv = setup
                .command
                .iter()
                .map(|a| expand(a))
                .collect::<Result<Vec<_>, _>>()?;
            Some(Setup {
                description: describe_setup(&argv, &setup.creates),
                argv,
                creates: cwd
                    .clone()
                    .unwrap_or_else(|| input.paths.project_root.clone())
                    .join(&setup.creates),
            })
        }
        None => None,
    };
    let skip = team_skip_reason(s, input.profile, cwd.as_deref());
    Ok(ServiceSpec {
        name: s.name.clone(),
        port,
        layer: s.layer,
        argv,
        cwd,
        env,
        health,
        blocking: s.blocking,
        auto_restart: s.auto_restart,
        setup,
        skip,
        builtin: false,
    })
}

/// Why a team service will not start, checked in this order: not in the profile, its `cwd` is
/// missing, a program it `requires` is not on PATH.
fn team_skip_reason(s: &ServiceSection, profile: Profile, cwd: Option<&Path>) -> Option<String> {
    if let Some(profiles) = &s.profiles
        && !profiles.contains(&profile)
    {
        return Some(format!("not in profile {}", profile.as_str()));
    }
    if let Some(dir) = cwd
        && !dir.is_dir()
    {
        return Some(format!("cwd {} does not exist", dir.display()));
    }
    let missing = s
        .requires
        .iter()
        .find(|p| crate::process::preflight::which(p).is_none())?;
    Some(format!(
        "requires `{missing}`, which is not on PATH ({})",
        crate::process::preflight::install_hint(missing)
    ))
}

/// Words for a team service's setup step, guessed from its command.
fn describe_setup(argv: &[String], creates: &str) -> String {
    let text = argv.join(" ");
    let what = if text.contains("npm ci") {
        "installing npm packages (npm ci)".to_owned()
    } else if text.contains("npm install") {
        "installing npm packages (npm install)".to_owned()
    } else if text.contains("uv sync") {
        "installing Python packages (uv sync)".to_owned()
    } else if text.contains("venv") || text.contains("pip install") {
        "building the Python venv (pip install)".to_owned()
    } else {
        let program = argv.first().map_or("", |p| {
            Path::new(p)
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or(p)
        });
        format!("running its setup command ({program})")
    };
    format!("{what} into {creates} (only while {creates} is missing)")
}

#[cfg(test)]
mod setup_words {
    use super::describe_setup;

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn setup_steps_are_described_in_words() {
        assert_eq!(
            describe_setup(&argv(&["npm", "ci"]), "node_modules"),
            "installing npm packages (npm ci) into node_modules (only while node_modules is missing)"
        );
        let venv = argv(&[
            "sh",
            "-c",
            "python3 -m venv .venv && .venv/bin/pip install -r r.txt",
        ]);
        assert!(describe_setup(&venv, ".venv").starts_with("building the Python venv"));
        assert!(
            describe_setup(&argv(&["./bootstrap.sh"]), "x")
                .starts_with("running its setup command (bootstrap.sh)")
        );
    }
}
