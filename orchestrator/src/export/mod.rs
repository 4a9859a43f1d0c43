//! `orchestrator export`: the stack `up` runs, written for other engines — a Compose file
//! ([`compose`]) and Kubernetes manifests with optional Kustomize overlays ([`k8s`],
//! [`kustomize`]) — from one neutral description ([`model`]) built from the same settings and
//! plan as `up`. Output is byte-stable (fixed key order, sorted maps) so golden files can hold it;
//! [`yaml`] writes the text, [`order`] replays the start order the manifests imply, [`team`]
//! ships the team's Lambda and state machine declarations to the seed job.

pub mod compose;
pub mod k8s;
pub mod kustomize;
pub mod model;
pub mod order;
pub mod team;
pub mod yaml;

use serde_json::{Map, Value, json};

use model::Unit;

/// The labels every object and container of the export carries (Compose and Kubernetes alike).
pub fn labels(host: &str, name: &str, layer: Option<u8>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("app.kubernetes.io/name".into(), json!(host));
    m.insert("app.kubernetes.io/part-of".into(), json!("hippodrome"));
    m.insert("app.kubernetes.io/managed-by".into(), json!("hippodrome"));
    m.insert("hippodrome.dev/service".into(), json!(name));
    if let Some(l) = layer {
        m.insert("hippodrome.dev/layer".into(), json!(l.to_string()));
    }
    m
}

/// A unit's labels.
pub fn unit_labels(u: &Unit) -> Map<String, Value> {
    labels(&u.host, &u.name, Some(u.layer))
}

/// Files an export writes: path relative to `--out`, and the text.
pub type Files = Vec<(String, String)>;
