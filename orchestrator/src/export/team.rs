//! The team's `[[lambdas]]` and `[[state_machines]]`, shipped to the exported seed job. In `up`
//! the seed reads them from hippodrome.toml and the definition files on the host; a container
//! has neither, so the export writes them as files — `team.json` (what to create) and one
//! `<machine>.asl.json` per state machine, its text as on disk (the seed fills the placeholders
//! at seed time, as in `up`) — mounted at [`DIR`] (a ConfigMap in Kubernetes, `configs:` in
//! Compose), and `seed-job` reads them when [`ENV`] names that directory ([`load`]).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::model::{Skipped, rewrite};
use crate::config::hippodrome_toml::HippodromeToml;
use crate::settings::Resolved;

/// Where the seed job finds the files.
pub const DIR: &str = "/etc/hippodrome/seed";
/// The seed job's variable naming [`DIR`]; unset when the toml declares neither section.
pub const ENV: &str = "HIPPODROME_SEED_TEAM";
/// The index file, beside the definitions.
pub const INDEX: &str = "team.json";

/// What the seed creates in moto for the team: `team.json`.
#[derive(Serialize, Deserialize, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Team {
    pub lambdas: Vec<Lambda>,
    pub state_machines: Vec<Machine>,
}

/// A `[[lambdas]]` entry as the seed needs it (the gateway's `--lambda` flags carry the rest).
#[derive(Serialize, Deserialize, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Lambda {
    pub name: String,
    pub timeout_s: u64,
    /// Where it is served (the function's description), container addresses.
    pub target: String,
}

/// A `[[state_machines]]` entry: its definition is `file`, beside `team.json`.
#[derive(Serialize, Deserialize, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Machine {
    pub name: String,
    pub file: String,
    #[serde(default)]
    pub role_arn: Option<String>,
}

/// The files to mount at [`DIR`] (empty when the toml declares neither section), and the
/// state machines left out because their definition cannot be read here (like a skip: the
/// export still works, and says so).
pub fn files(
    resolved: &Resolved,
    toml: &HippodromeToml,
    hosts: &BTreeMap<u16, String>,
) -> (BTreeMap<String, String>, Vec<Skipped>) {
    let mut out = BTreeMap::new();
    let mut skipped = Vec::new();
    if toml.lambdas.is_empty() && toml.state_machines.is_empty() {
        return (out, skipped);
    }
    // The same conversion `up`'s seed uses, so targets and paths cannot drift from it.
    let cfg = crate::seed_run::config(
        &resolved.ctx,
        &resolved.paths,
        toml,
        true,
        true,
        (None, None),
    );
    let lambdas = cfg
        .lambdas
        .into_iter()
        .map(|l| Lambda {
            name: l.name,
            timeout_s: l.timeout_s,
            target: rewrite(&l.target, hosts),
        })
        .collect();
    let mut state_machines = Vec::new();
    for m in cfg.state_machines {
        match std::fs::read_to_string(&m.definition) {
            Ok(text) => {
                // Names are 1-80 of [A-Za-z0-9_-] (checked when the toml loads): a valid
                // ConfigMap key and file name.
                let file = format!("{}.asl.json", m.name);
                out.insert(file.clone(), text);
                state_machines.push(Machine {
                    name: m.name,
                    file,
                    role_arn: m.role_arn,
                });
            }
            Err(e) => skipped.push(Skipped {
                name: format!("state machine {}", m.name),
                reason: format!("cannot read {}: {e}", m.definition.display()),
            }),
        }
    }
    let team = Team {
        lambdas,
        state_machines,
    };
    match serde_json::to_string_pretty(&team) {
        Ok(mut text) => {
            text.push('\n');
            out.insert(INDEX.into(), text);
        }
        // Strings and numbers only: cannot fail; say so rather than ship half a seed.
        Err(e) => skipped.push(Skipped {
            name: INDEX.into(),
            reason: e.to_string(),
        }),
    }
    (out, skipped)
}

/// What the seed job creates, from the files in `dir` (`seed-job` with [`ENV`] set).
pub fn load(
    dir: &Path,
) -> Result<
    (
        Vec<seed::moto::functions::Wanted>,
        Vec<seed::moto::state_machines::FromFile>,
    ),
    String,
> {
    let index = dir.join(INDEX);
    let text = std::fs::read_to_string(&index)
        .map_err(|e| format!("cannot read {}: {e}", index.display()))?;
    let team: Team = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a team seed file: {e}", index.display()))?;
    let mut machines = Vec::new();
    for m in team.state_machines {
        // Only a file beside team.json: the mount holds nothing else.
        let plain = !m.file.is_empty() && !m.file.starts_with('.') && !m.file.contains(['/', '\\']);
        if !plain {
            return Err(format!(
                "{}: state machine {} names {:?}, not a file beside it",
                index.display(),
                m.name,
                m.file
            ));
        }
        machines.push(seed::moto::state_machines::FromFile {
            name: m.name,
            definition: dir.join(&m.file),
            role_arn: m.role_arn,
        });
    }
    let lambdas = team
        .lambdas
        .into_iter()
        .map(|l| seed::moto::functions::Wanted {
            name: l.name,
            timeout_s: l.timeout_s,
            target: l.target,
        })
        .collect();
    Ok((lambdas, machines))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_reads_the_index_and_refuses_paths_outside_the_mount() {
        let dir = tempfile::tempdir().expect("temp dir");
        let good = r#"{"lambdas":[{"name":"f","timeout_s":30,"target":"service f"}],
            "state_machines":[{"name":"M","file":"M.asl.json"}]}"#;
        std::fs::write(dir.path().join(INDEX), good).expect("write");
        let (l, m) = load(dir.path()).expect("loads");
        assert_eq!((l[0].name.as_str(), l[0].timeout_s), ("f", 30));
        assert_eq!(m[0].definition, dir.path().join("M.asl.json"));
        let bad = r#"{"lambdas":[],"state_machines":[{"name":"M","file":"../etc/passwd"}]}"#;
        std::fs::write(dir.path().join(INDEX), bad).expect("write");
        let err = load(dir.path()).expect_err("a path outside the mount");
        assert!(err.contains("not a file beside it"), "{err}");
        std::fs::write(dir.path().join(INDEX), "{\"lambdas\":[]}").expect("write");
        assert!(load(dir.path()).is_err(), "state_machines is required");
    }
}
