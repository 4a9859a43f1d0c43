//! Replaying the start order an export implies, to compare it with `up`'s layers: Compose's
//! `depends_on` conditions, or the Kubernetes init containers named `wait-<service>` (which hold
//! back every container of the pod: moto starts with the gateway's pod). Each wave
//! starts everything whose dependencies are done (healthy, or completed for the seed); the
//! waves must equal `up`'s layers with the seed after layer 0. `tests/export/simulate.py` does
//! the same from the YAML files.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::model::host_name;
use crate::services::ServiceSpec;

/// Start waves: names that start together, in order.
pub type Waves = Vec<Vec<String>>;

/// `up`'s order for the services an export holds: each non-empty layer, the seed after layer 0.
pub fn up_waves(plan: &[ServiceSpec], exported: &BTreeSet<String>) -> Waves {
    let mut layers: BTreeMap<u8, Vec<String>> = BTreeMap::new();
    for s in plan.iter().filter(|s| s.skip.is_none()) {
        let host = host_name(&s.name);
        if exported.contains(&host) {
            layers.entry(s.layer).or_default().push(host);
        }
    }
    let mut out = Vec::new();
    for (layer, mut names) in layers {
        names.sort();
        out.push(names);
        if layer == 0 {
            out.push(vec!["seed".to_owned()]);
        }
    }
    out
}

/// The waves of a Compose document's `depends_on`.
pub fn compose_waves(doc: &Value) -> Result<Waves, String> {
    let services = doc["services"]
        .as_object()
        .ok_or("compose: no `services` map")?;
    let deps = services
        .iter()
        .map(|(name, s)| {
            let d = s["depends_on"]
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            (name.clone(), d)
        })
        .collect();
    replay(deps)
}

/// The waves of Kubernetes workloads' init containers (`wait-<name>`), per container: a pod's
/// containers start together once its init containers are done.
pub fn k8s_waves(docs: &[Value]) -> Result<Waves, String> {
    let mut deps = BTreeMap::new();
    for d in docs {
        let kind = d["kind"].as_str().unwrap_or_default();
        if !matches!(kind, "Deployment" | "StatefulSet" | "Job") {
            continue;
        }
        let name = d["metadata"]["name"]
            .as_str()
            .ok_or_else(|| format!("{kind} without a name"))?;
        let pod = &d["spec"]["template"]["spec"];
        let waits: BTreeSet<String> = pod["initContainers"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c["name"].as_str()?.strip_prefix("wait-"))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let containers = pod["containers"]
            .as_array()
            .ok_or_else(|| format!("{kind} {name} without containers"))?;
        for c in containers {
            let c = c["name"]
                .as_str()
                .ok_or_else(|| format!("{kind} {name}: a container without a name"))?;
            deps.insert(c.to_owned(), waits.clone());
        }
    }
    replay(deps)
}

/// Start in waves everything whose dependencies have all started in an earlier wave.
fn replay(deps: BTreeMap<String, BTreeSet<String>>) -> Result<Waves, String> {
    let mut done = BTreeSet::new();
    let mut waves = Vec::new();
    while done.len() < deps.len() {
        let wave: Vec<String> = deps
            .iter()
            .filter(|(n, d)| !done.contains(*n) && d.iter().all(|x| done.contains(x)))
            .map(|(n, _)| n.clone())
            .collect();
        if wave.is_empty() {
            let stuck: Vec<&String> = deps.keys().filter(|n| !done.contains(*n)).collect();
            return Err(format!(
                "never start (a cycle or a missing dependency): {stuck:?}"
            ));
        }
        done.extend(wave.iter().cloned());
        waves.push(wave);
    }
    Ok(waves)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cycle_or_a_missing_dependency_is_reported() {
        let deps = BTreeMap::from([
            ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
            ("b".to_owned(), BTreeSet::from(["a".to_owned()])),
        ]);
        assert!(replay(deps).is_err());
        let missing = BTreeMap::from([("a".to_owned(), BTreeSet::from(["gone".to_owned()]))]);
        assert!(replay(missing).is_err());
    }
}
