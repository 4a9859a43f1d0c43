//! The plan: which services a stack runs, in which layer, with which command, environment and
//! health check — or why a service is skipped. Pure data; nothing here starts a process.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::env::{self, Context};
use crate::config::hippodrome_toml::{HippodromeToml, ServiceSection};
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

/// What the plan is built from.
pub struct PlanInput<'a> {
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
pub fn build(input: &PlanInput<'_>) -> Result<Vec<ServiceSpec>, String> {
    let mut out = Vec::new();
    let injected = env::injected(input.ctx);
    let exe = input.self_exe.to_string_lossy().into_owned();
    let state = |f: &str| input.paths.state_dir.join(f).to_string_lossy().into_owned();
    let (lo, hi) = input.ports.index_range();
    let in_profile_ecom = matches!(input.profile, Profile::Ecom | Profile::Full);

    // Built-ins get the injected env too (dummy AWS credentials for the router's SDK calls).
    let builtin = |name: &str, port: u16, argv: Vec<String>, health: &str| ServiceSpec {
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
    };

    let mut cell = builtin(
        "fake_cell",
        input.ports.fake_cell(),
        vec![
            exe.clone(),
            "serve".into(),
            "fake-cell".into(),
            "--port".into(),
            input.ports.fake_cell().to_string(),
            "--state-file".into(),
            state("fake_cell.json"),
            "--index-ports".into(),
            format!("{lo}-{hi}"),
        ],
        "/healthz",
    );
    if input.cell != Cell::Local {
        cell.skip = Some(format!(
            "--cell {} uses the real cell at {}",
            input.cell.as_str(),
            input.ctx.cell_url
        ));
    }
    out.push(cell);

    out.push(builtin(
        "fake_cognito",
        input.ports.fake_cognito(),
        vec![
            exe.clone(),
            "serve".into(),
            "fake-cognito".into(),
            "--port".into(),
            input.ports.fake_cognito().to_string(),
            "--state-file".into(),
            state("fake_cognito.json"),
        ],
        "/healthz",
    ));

    let mut moto = builtin(
        "moto",
        input.ports.moto(),
        input
            .moto_argv
            .iter()
            .cloned()
            .chain([
                "-H".into(),
                "127.0.0.1".into(),
                "-p".into(),
                input.ports.moto().to_string(),
            ])
            .collect(),
        "/moto-api/",
    );
    moto.setup = input.moto_setup.clone();
    if !in_profile_ecom {
        moto.skip = Some(format!("not in profile {}", input.profile.as_str()));
    }
    let moto_runs = moto.skip.is_none() && selected(input.only, "moto");
    out.push(moto);

    let mut router_argv = vec![
        exe.clone(),
        "serve".into(),
        "webhook-router".into(),
        "--port".into(),
        input.ports.webhook_router().to_string(),
        "--table-prefix".into(),
        input.ctx.table_prefix.clone(),
    ];
    for (prefix, target, port, path) in routes(input) {
        router_argv.push("--route".into());
        router_argv.push(format!("{prefix}={target}@http://127.0.0.1:{port}{path}"));
    }
    if moto_runs {
        router_argv.push("--moto-url".into());
        router_argv.push(input.ctx.moto_url.clone());
    }
    let mut router = builtin(
        "webhook_router",
        input.ports.webhook_router(),
        router_argv,
        "/healthz",
    );
    // The router follows tables the seed creates after layer 0, so it starts one layer later.
    router.layer = 1;
    out.push(router);

    for s in &input.toml.services {
        out.push(team_service(s, input, &injected)?);
    }

    for s in &mut out {
        if s.skip.is_none() && !selected(input.only, &s.name) {
            s.skip = Some("not in --only".to_owned());
        }
    }
    out.sort_by_key(|s| s.layer);
    Ok(out)
}

fn selected(only: Option<&[String]>, name: &str) -> bool {
    only.is_none_or(|o| o.iter().any(|n| n == name))
}

/// Default routes plus `[[routes]]` from hippodrome.toml, as (prefix, target, port, path).
fn routes(input: &PlanInput<'_>) -> Vec<(String, String, u16, String)> {
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
    input: &PlanInput<'_>,
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
    let mut skip = None;
    if let Some(profiles) = &s.profiles
        && !profiles.contains(&input.profile)
    {
        skip = Some(format!("not in profile {}", input.profile.as_str()));
    }
    if skip.is_none()
        && let Some(dir) = &cwd
        && !dir.is_dir()
    {
        skip = Some(format!("cwd {} does not exist", dir.display()));
    }
    if skip.is_none()
        && let Some(missing) = s
            .requires
            .iter()
            .find(|p| crate::process::preflight::which(p).is_none())
    {
        skip = Some(format!(
            "requires `{missing}`, which is not on PATH ({})",
            crate::process::preflight::install_hint(missing)
        ));
    }
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
