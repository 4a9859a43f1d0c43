//! `doctor --target k8s|compose`: what `orchestrator export` needs from the plan — every planned
//! team service names an `image` (else the export leaves it out), no value points at a host path
//! a cluster or a container cannot mount, every state machine definition can be read (the
//! export ships it to the seed job), and every port and DNS name is unique. `[[seed.hooks]]`
//! run host commands: the exported seed job does not run them.

use std::collections::BTreeMap;

use super::{Check, Inputs};
use crate::cli::ExportTarget;
use crate::export::model::host_name;

const FIX: &str = "see TROUBLESHOOTING.md#export-target";
const CHECK: &str = "export";

pub fn check(i: &Inputs, target: ExportTarget) -> Vec<Check> {
    let mut out = images(i);
    out.extend(host_paths(i, target));
    out.extend(unique(i));
    out
}

/// A planned team service without `image` is skipped by the export.
fn images(i: &Inputs) -> Vec<Check> {
    let cfg = i.config();
    // A missing cwd or program does not matter in an image: only the selection skips.
    let missing: Vec<_> = i
        .plan
        .iter()
        .filter(|s| !s.builtin && !super::skipped_by_selection(s))
        .filter(|s| {
            cfg.services
                .iter()
                .find(|t| t.name == s.name)
                .is_none_or(|t| t.image.is_none())
        })
        .collect();
    if missing.is_empty() {
        return vec![Check::ok(CHECK, "every planned service has an image")];
    }
    let names: Vec<&str> = missing.iter().map(|s| s.name.as_str()).collect();
    vec![Check::affecting(
        CHECK,
        missing.iter().any(|s| s.blocking),
        format!(
            "no `image` for {} (the export skips them)",
            names.join(", ")
        ),
        format!("add image = \"registry/name:tag\" to their [[services]] entries; {FIX}"),
    )]
}

/// Absolute paths on this machine in a service's environment or a state machine definition:
/// they exist here, not in a pod or a container.
fn host_paths(i: &Inputs, target: ExportTarget) -> Vec<Check> {
    let root = i.paths.project_root.to_string_lossy().into_owned();
    let home = i.home.as_ref().map(|h| h.to_string_lossy().into_owned());
    let on_host = |v: &str| {
        v.starts_with(&root)
            || home.as_deref().is_some_and(|h| v.starts_with(h))
            || (v.starts_with('/') && std::path::Path::new(v).exists() && v != "/")
    };
    let mut found = Vec::new();
    for s in i.planned().filter(|s| !s.builtin) {
        for (k, v) in &s.env {
            if on_host(v) {
                found.push(format!("{} env {k}={v}", s.name));
            }
        }
    }
    // The export ships each definition's text to the seed job: only an unreadable one is lost.
    for m in &i.config().state_machines {
        let path = i.paths.project_root.join(&m.definition);
        if let Err(e) = std::fs::read_to_string(&path) {
            found.push(format!(
                "state machine {} cannot be shipped: {} ({e})",
                m.name,
                path.display()
            ));
        }
    }
    for h in &i.config().seed.hooks {
        found.push(format!(
            "seed hook {} runs on the host only (the seed job does not run it)",
            h.name
        ));
    }
    if found.is_empty() {
        return vec![Check::ok(
            CHECK,
            "no host paths in the services' environment",
        )];
    }
    let engine = match target {
        ExportTarget::K8s => "a cluster",
        ExportTarget::Compose => "a container",
    };
    vec![Check::warn(
        CHECK,
        format!("host paths {engine} cannot mount: {}", found.join("; ")),
        format!(
            "bake the files into the image or ship them in a ConfigMap/volume; run seed hooks as \
             your own Job or one-shot service after `seed`; {FIX}"
        ),
    )]
}

/// Two services on one port, or two names that become the same DNS name (`a_b`, `a-b`).
fn unique(i: &Inputs) -> Vec<Check> {
    let mut ports: BTreeMap<u16, Vec<&str>> = BTreeMap::new();
    let mut hosts: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for s in i.planned() {
        if let Some(p) = s.port {
            ports.entry(p).or_default().push(&s.name);
        }
        hosts.entry(host_name(&s.name)).or_default().push(&s.name);
    }
    let clashes: Vec<String> = ports
        .iter()
        .filter(|(_, n)| n.len() > 1)
        .map(|(p, n)| format!("port {p}: {}", n.join(", ")))
        .chain(
            hosts
                .iter()
                .filter(|(_, n)| n.len() > 1)
                .map(|(h, n)| format!("name {h}: {}", n.join(", "))),
        )
        .collect();
    if clashes.is_empty() {
        return vec![Check::ok(CHECK, "ports and service names are unique")];
    }
    vec![Check::fail(
        CHECK,
        format!("shared by two services: {}", clashes.join("; ")),
        format!("give each service its own port and name; {FIX}"),
    )]
}
