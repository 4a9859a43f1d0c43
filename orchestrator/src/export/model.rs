//! The neutral description of a stack that every export is written from: the same plan `up`
//! builds ([`crate::settings::Resolved::plan`]: layers, ports with `--port-offset`, health
//! checks, environment, skip reasons), turned into containers.
//!
//! What changes on the way into containers, and only here: each service is reached by its
//! DNS name instead of 127.0.0.1 (every `127.0.0.1:PORT` of a planned port is rewritten to
//! `<host>:PORT`), built-ins bind 0.0.0.0 and keep their state under `/data` on a volume, moto
//! runs from its official image, and a team service runs from its `image` or is skipped.
//!
//! One pair shares a network namespace: moto's Step Functions engine sends a task's service
//! calls to `localhost:$MOTO_PORT`, which `up` points at the AWS gateway (so `lambda:invoke`
//! reaches the team's Lambda processes). In a container, localhost is the container itself, so
//! moto joins the gateway's namespace ([`Unit::netns`]: one pod in Kubernetes, `network_mode:
//! service:` in Compose) and every other service reaches moto at the gateway's DNS name.

use std::collections::BTreeMap;
use std::path::Path;

use crate::config::hippodrome_toml::HippodromeToml;
use crate::services::{Health, ServiceSpec};
use crate::settings::Resolved;

/// Where a container keeps its state (the built-ins' `--state-file` moves here).
pub const DATA_DIR: &str = "/data";

/// What the exports need beyond the stack's settings.
#[derive(Clone, Debug)]
pub struct Options {
    /// The Hippodrome image (this repository's Dockerfile), which serves every built-in.
    pub image: String,
    /// The seed number the seed job uses (`HIPPODROME_RANDOM_SEED`).
    pub seed: u64,
}

/// Memory a service needs, from BENCHMARKS.md (release builds, idle and right after a load).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Memory {
    pub request_mib: u32,
    pub limit_mib: u32,
}

/// One container of the stack.
#[derive(Clone, Debug)]
pub struct Unit {
    /// The plan's name (`fake_cell`), kept in labels.
    pub name: String,
    /// DNS-1123 name (`fake-cell`): the Compose service, the Kubernetes objects, the host others use.
    pub host: String,
    pub layer: u8,
    pub image: String,
    /// `None`: the image's own entrypoint (team images).
    pub command: Option<Vec<String>>,
    pub port: Option<u16>,
    /// Extra ports published as a range (the fake cell's index servers).
    pub port_range: Option<(u16, u16)>,
    /// The host whose network namespace this unit joins (moto → `aws-gateway`): it is reached
    /// at that host's name, has no Service or published ports of its own, and shares its pod.
    pub netns: Option<String>,
    /// The whole environment the service gets in `up`, rewritten for containers.
    pub env: BTreeMap<String, String>,
    pub health: Health,
    pub blocking: bool,
    /// The volume's name when the service keeps state in [`DATA_DIR`].
    pub volume: Option<String>,
    pub memory: Option<Memory>,
}

impl Unit {
    /// The DNS name other containers reach this unit at: its namespace owner's, or its own.
    pub fn address(&self) -> &str {
        self.netns.as_deref().unwrap_or(&self.host)
    }
}

/// The seed as a one-shot container: after layer 0 is healthy, before layer 1 starts.
#[derive(Clone, Debug)]
pub struct Seed {
    pub host: String,
    pub image: String,
    pub command: Vec<String>,
    pub env: BTreeMap<String, String>,
    /// Files mounted at [`super::team::DIR`] (file name → text): the team's `[[lambdas]]` and
    /// `[[state_machines]]` ([`super::team`]); empty when the toml declares none.
    pub team: BTreeMap<String, String>,
}

/// A planned service the export leaves out, and why (like a profile skip in `up`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub name: String,
    pub reason: String,
}

/// The stack, in `up`'s start order (layer, then the plan's order).
#[derive(Clone, Debug)]
pub struct Stack {
    pub units: Vec<Unit>,
    pub seed: Seed,
    pub skipped: Vec<Skipped>,
    pub port_offset: u16,
    /// The variables every service shares (the injected environment): the env ConfigMap.
    pub shared_env: BTreeMap<String, String>,
}

impl Stack {
    /// The layers that have at least one unit, ascending.
    pub fn layers(&self) -> Vec<u8> {
        let mut l: Vec<u8> = self.units.iter().map(|u| u.layer).collect();
        l.dedup();
        l
    }

    /// Units of layers below `layer`: what a unit of `layer` waits for.
    pub fn below(&self, layer: u8) -> impl Iterator<Item = &Unit> {
        self.units.iter().filter(move |u| u.layer < layer)
    }

    /// The units that join `owner`'s network namespace (moto for the gateway).
    pub fn partners<'a>(&'a self, owner: &'a Unit) -> impl Iterator<Item = &'a Unit> {
        self.units
            .iter()
            .filter(move |u| u.netns.as_deref() == Some(owner.host.as_str()))
    }
}

/// Build the stack from the settings `up` resolves (`resolved`), with its plan.
pub fn build(resolved: &Resolved, opts: &Options) -> Result<Stack, String> {
    let toml = resolved.checked_toml().map_err(|e| e.to_string())?;
    let mut plan = resolved.plan(Path::new("orchestrator"))?;
    for s in &mut plan {
        s.env
            .insert("HIPPODROME_RANDOM_SEED".into(), opts.seed.to_string());
    }
    // A missing `cwd` or host program does not matter to an image: only the selection
    // (profile, --only, --cell) skips a service here, so the export is the same on any machine.
    for s in &mut plan {
        if s.skip.is_some() && !crate::doctor::skipped_by_selection(s) {
            s.skip = None;
        }
        if s.skip.is_none() && !s.builtin && image_of(toml, &s.name).is_none() {
            s.skip = Some(NO_IMAGE.into());
        }
    }
    let owners = netns_owners(&plan);
    let hosts = port_hosts(&plan, resolved, &owners);
    let state_dir = resolved.paths.state_dir.to_string_lossy().into_owned();
    let mut units = Vec::new();
    let mut skipped = Vec::new();
    for s in &plan {
        if let Some(reason) = &s.skip {
            skipped.push(Skipped {
                name: s.name.clone(),
                reason: reason.clone(),
            });
            continue;
        }
        match unit(s, toml, opts, &state_dir, resolved) {
            Ok(mut u) => {
                u.netns = owners.get(&s.name).cloned();
                u.env = rewrite_env(&u.env, &hosts);
                // The image's HEALTHCHECK probes this (after the rewrite: its own loopback).
                if let (true, Some(port), Health::Http(path)) =
                    (s.builtin && u.image == opts.image, u.port, &u.health)
                {
                    u.env.insert(
                        "HIPPODROME_HEALTH_URL".into(),
                        format!("http://127.0.0.1:{port}{path}"),
                    );
                }
                // Its own wiring reaches a namespace partner on loopback (the gateway's
                // --moto-url): no trip through a Service to itself, and no wait on the pod's
                // readiness, which needs the gateway ready first.
                let own = local_hosts(&hosts, u.address(), &owners);
                u.command = u
                    .command
                    .map(|c| c.iter().map(|a| rewrite(a, &own)).collect());
                units.push(u);
            }
            Err(reason) => skipped.push(Skipped {
                name: s.name.clone(),
                reason,
            }),
        }
    }
    let mut shared = crate::config::env::injected(&resolved.ctx);
    shared.insert("HIPPODROME_RANDOM_SEED".into(), opts.seed.to_string());
    let shared_env = rewrite_env(&shared, &hosts);
    let mut seed = seed_unit(&units, opts, &shared_env);
    // Functions and state machines live in moto: without it the seed job creates neither.
    let (team, unreadable) = if units.iter().any(|u| u.name == "moto") {
        super::team::files(resolved, toml, &hosts)
    } else {
        Default::default()
    };
    if !team.is_empty() {
        seed.env
            .insert(super::team::ENV.into(), super::team::DIR.into());
    }
    seed.team = team;
    skipped.extend(unreadable);
    Ok(Stack {
        units,
        seed,
        skipped,
        port_offset: resolved.ports.offset,
        shared_env,
    })
}

/// Why a team service without `image` is left out.
pub const NO_IMAGE: &str = "no `image` in its [[services]] entry (an export needs one)";

/// A team service's `image`, if it has one.
fn image_of<'a>(toml: &'a HippodromeToml, name: &str) -> Option<&'a str> {
    toml.services
        .iter()
        .find(|t| t.name == name)
        .and_then(|t| t.image.as_deref())
}

/// A Kubernetes/DNS-1123 name from a plan name (`fake_cell` → `fake-cell`).
pub fn host_name(name: &str) -> String {
    let mut h: String = name
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '-' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '-',
        })
        .collect();
    h = h.trim_matches('-').to_owned();
    if h.is_empty() { "service".into() } else { h }
}

/// Plan name → the host whose network namespace it joins: moto joins the gateway when `up`
/// points moto's Step Functions engine at it (`MOTO_PORT` = the gateway's port).
fn netns_owners(plan: &[ServiceSpec]) -> BTreeMap<String, String> {
    let live = |n: &str| plan.iter().find(|s| s.name == n && s.skip.is_none());
    let mut out = BTreeMap::new();
    if let (Some(moto), Some(gw)) = (live("moto"), live("aws_gateway")) {
        let gw_port = gw.port.map(|p| p.to_string());
        // Same layer too: one pod has one set of init containers (one layer's waits).
        let to_gateway = gw_port.is_some() && moto.env.get("MOTO_PORT") == gw_port.as_ref();
        if to_gateway && moto.layer == gw.layer {
            out.insert(moto.name.clone(), host_name(&gw.name));
        }
    }
    out
}

/// The port map a unit at `address` uses for its own command: ports of its own network
/// namespace stay on loopback when the namespace holds more than one unit.
fn local_hosts(
    hosts: &BTreeMap<u16, String>,
    address: &str,
    owners: &BTreeMap<String, String>,
) -> BTreeMap<u16, String> {
    if !owners.values().any(|o| o == address) {
        return hosts.clone();
    }
    hosts
        .iter()
        .filter(|(_, h)| h.as_str() != address)
        .map(|(p, h)| (*p, h.clone()))
        .collect()
}

/// Which host answers on each port of the plan (the index range belongs to the fake cell; a
/// namespace partner's port to its owner).
fn port_hosts(
    plan: &[ServiceSpec],
    resolved: &Resolved,
    owners: &BTreeMap<String, String>,
) -> BTreeMap<u16, String> {
    let mut out = BTreeMap::new();
    for s in plan.iter().filter(|s| s.skip.is_none()) {
        if let Some(p) = s.port {
            let host = owners
                .get(&s.name)
                .cloned()
                .unwrap_or_else(|| host_name(&s.name));
            out.insert(p, host);
        }
        if s.name == "fake_cell" {
            let (lo, hi) = resolved.ports.index_range();
            for p in lo..=hi {
                out.insert(p, host_name(&s.name));
            }
        }
    }
    out
}

fn rewrite_env(
    env: &BTreeMap<String, String>,
    hosts: &BTreeMap<u16, String>,
) -> BTreeMap<String, String> {
    env.iter()
        .map(|(k, v)| (k.clone(), rewrite(v, hosts)))
        .collect()
}

/// Every `127.0.0.1:PORT` / `localhost:PORT` whose port a planned service owns becomes
/// `<host>:PORT`. Parsed port by port, so 9001 never matches inside 90010.
pub fn rewrite(text: &str, hosts: &BTreeMap<u16, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let next = ["127.0.0.1:", "localhost:"]
            .iter()
            .filter_map(|pat| rest.find(pat).map(|i| (i, pat.len())))
            .min();
        let Some((at, len)) = next else {
            out.push_str(rest);
            return out;
        };
        let after = &rest[at + len..];
        let digits = after.chars().take_while(char::is_ascii_digit).count();
        let host = after[..digits]
            .parse::<u16>()
            .ok()
            .and_then(|p| hosts.get(&p));
        out.push_str(&rest[..at]);
        match host {
            Some(h) => {
                out.push_str(h);
                out.push(':');
            }
            None => out.push_str(&rest[at..at + len]),
        }
        out.push_str(&after[..digits]);
        rest = &after[digits..];
    }
}

/// One planned service as a container, or why it cannot be one.
fn unit(
    s: &ServiceSpec,
    toml: &HippodromeToml,
    opts: &Options,
    state_dir: &str,
    resolved: &Resolved,
) -> Result<Unit, String> {
    let mut u = Unit {
        name: s.name.clone(),
        host: host_name(&s.name),
        layer: s.layer,
        image: opts.image.clone(),
        command: None,
        port: s.port,
        port_range: None,
        netns: None,
        env: s.env.clone(),
        health: s.health.clone(),
        blocking: s.blocking,
        volume: None,
        memory: memory(&s.name),
    };
    if s.name == "moto" {
        // Snapshots are a local-stack feature: a cluster's moto records nothing (its recording
        // path would be a host path, and the file would grow without bound).
        u.env.remove("MOTO_ENABLE_RECORDING");
        u.env.remove("MOTO_RECORDER_FILEPATH");
        u.image = format!("motoserver/moto:{}", crate::moto::VERSION);
        let port = s.port.map(|p| p.to_string()).unwrap_or_default();
        u.command = Some(vec![
            "moto_server".into(),
            "-H".into(),
            "0.0.0.0".into(),
            "-p".into(),
            port,
        ]);
        return Ok(u);
    }
    if !s.builtin {
        u.image = image_of(toml, &s.name).ok_or(NO_IMAGE)?.to_owned();
        return Ok(u);
    }
    let mut command = builtin_command(&s.argv, state_dir, &mut u);
    if s.name == "fake_cell" {
        u.port_range = Some(resolved.ports.index_range());
        // Each index's `marqoEndpoint` names this host (default 127.0.0.1, which in another
        // container is that container): py-marqo follows it to the index server's own port.
        command.push("--public-host".into());
        command.push(u.host.clone());
    }
    u.command = Some(command);
    Ok(u)
}

/// A built-in's argv in the image: `orchestrator serve <crate> --bind 0.0.0.0 …`, its state file
/// moved from the host's state directory to the volume.
fn builtin_command(argv: &[String], state_dir: &str, u: &mut Unit) -> Vec<String> {
    let mut out = Vec::with_capacity(argv.len() + 2);
    let mut skip_value = false;
    for (i, a) in argv.iter().enumerate() {
        // Persisted fault rules are for a local stack; in a cluster rules come and go through
        // `/_fake/faults`, and a state volume only for them would turn a stateless service
        // into a StatefulSet.
        if std::mem::take(&mut skip_value) {
            continue;
        }
        if a == "--faults-file" {
            skip_value = true;
            continue;
        }
        if let Some(file) = a.strip_prefix(state_dir) {
            out.push(format!("{DATA_DIR}/{}", file.trim_start_matches('/')));
            u.volume = Some(format!("{}-data", u.host));
        } else {
            out.push(a.clone());
        }
        // After `orchestrator serve <crate>`: listen beyond the container's loopback.
        if i == 2 {
            out.push("--bind".into());
            out.push("0.0.0.0".into());
        }
    }
    out
}

/// Requests sized from BENCHMARKS.md's memory rows (release builds): the request covers the
/// figure right after a load burst, the limit leaves room for growth (fake-cell: its 100,000-doc
/// run ended at 363 MiB). The gateway is not measured there; it is a streaming proxy like the
/// webhook router, so it gets the router's figures.
fn memory(name: &str) -> Option<Memory> {
    let (request_mib, limit_mib) = match name {
        "fake_cell" => (160, 512),   // idle 35.9 MiB, 138 MiB after add_documents
        "fake_cognito" => (32, 128), // idle 7.98 MiB, 19.9 MiB after InitiateAuth
        "webhook_router" | "aws_gateway" => (48, 128), // idle 9.86 MiB, 31.5 MiB after events
        "moto" => (128, 512),        // idle 52.3 MiB, 105 MiB after 3,251 logins
        _ => return None,
    };
    Some(Memory {
        request_mib,
        limit_mib,
    })
}

/// `orchestrator seed-job` in the Hippodrome image: the same seed `up` runs after layer 0, with
/// the services found through the shared environment (AWS_ENDPOINT_URL, MARQO_URL, COGNITO_URL).
fn seed_unit(units: &[Unit], opts: &Options, shared: &BTreeMap<String, String>) -> Seed {
    let mut command = vec![
        "orchestrator".to_owned(),
        "seed-job".to_owned(),
        "--out".to_owned(),
        format!("{DATA_DIR}/seed"),
    ];
    if !units.iter().any(|u| u.name == "moto") {
        command.push("--no-aws".into());
    }
    if !units.iter().any(|u| u.name == "fake_cell") {
        command.push("--no-cell".into());
    }
    Seed {
        host: "seed".into(),
        image: opts.image.clone(),
        command,
        env: shared.clone(),
        team: BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_ports_of_planned_services_are_rewritten() {
        let hosts = BTreeMap::from([(9001, "fake-cell".to_owned())]);
        assert_eq!(
            rewrite("http://127.0.0.1:9001/x,localhost:9001", &hosts),
            "http://fake-cell:9001/x,fake-cell:9001"
        );
        assert_eq!(rewrite("127.0.0.1:90010", &hosts), "127.0.0.1:90010");
        assert_eq!(rewrite("127.0.0.1:9002 end", &hosts), "127.0.0.1:9002 end");
        assert_eq!(rewrite("127.0.0.1:", &hosts), "127.0.0.1:");
    }

    #[test]
    fn host_names_are_dns_labels() {
        assert_eq!(host_name("fake_cell"), "fake-cell");
        assert_eq!(host_name("Admin_Server"), "admin-server");
        assert_eq!(host_name("__"), "service");
    }
}
