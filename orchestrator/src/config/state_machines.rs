//! `[[state_machines]]` in `hippodrome.toml`: the team's Step Functions definitions, which the seed
//! creates in moto (its execution engine on) after filling their `${lambda:NAME}`-style
//! placeholders (see `seed::moto::asl`). Files are read at seed time and checked by `doctor`, so an
//! edited definition needs no restart, only `orchestrator seed`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::hippodrome_toml::valid_name;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateMachineSection {
    /// The machine's name in Step Functions (1-80 letters, digits, `-`, `_`).
    pub name: String,
    /// The States Language file, relative to the project root.
    pub definition: PathBuf,
    /// Default: `arn:aws:iam::123456789012:role/hippodrome-states` (moto does not check it).
    pub role_arn: Option<String>,
}

impl StateMachineSection {
    /// What the seed needs: the definition's path made absolute against the project root.
    pub fn for_seed(&self, root: &Path) -> seed::moto::state_machines::FromFile {
        seed::moto::state_machines::FromFile {
            name: self.name.clone(),
            definition: root.join(&self.definition),
            role_arn: self.role_arn.clone(),
        }
    }
}

/// The first problem of the section, as (text to find for the line number, message).
pub fn validate(machines: &[StateMachineSection]) -> Result<(), (String, String)> {
    let mut seen = std::collections::BTreeSet::new();
    for m in machines {
        let at = format!("\"{}\"", m.name);
        let problem = if m.name.len() > 80 || !valid_name(&m.name) {
            Some(format!(
                "{:?} is not a state machine name (1-80 letters, digits, '-' or '_')",
                m.name
            ))
        } else if !seen.insert(m.name.as_str()) {
            Some(format!("{:?} is declared twice", m.name))
        } else if m.definition.as_os_str().is_empty() {
            Some(format!("definition of {:?} is empty", m.name))
        } else if let Some(role) = &m.role_arn
            && !role.starts_with("arn:aws:iam::")
        {
            Some(format!(
                "role_arn {role:?} of {:?} is not an IAM role ARN",
                m.name
            ))
        } else {
            None
        };
        if let Some(p) = problem {
            return Err((at, format!("state_machines: {p}")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(name: &str, definition: &str) -> StateMachineSection {
        StateMachineSection {
            name: name.into(),
            definition: definition.into(),
            role_arn: None,
        }
    }

    #[test]
    fn names_are_checked_and_unique() {
        assert!(validate(&[machine("OrderFlow", "sm/order.asl.json")]).is_ok());
        let (_, e) = validate(&[machine("has space", "x.json")]).unwrap_err();
        assert!(e.contains("not a state machine name"), "{e}");
        let (_, e) = validate(&[machine("A", "a.json"), machine("A", "b.json")]).unwrap_err();
        assert!(e.contains("twice"), "{e}");
        let (_, e) = validate(&[machine("A", "")]).unwrap_err();
        assert!(e.contains("empty"), "{e}");
        let mut bad_role = machine("A", "a.json");
        bad_role.role_arn = Some("role/x".into());
        assert!(validate(&[bad_role]).unwrap_err().1.contains("IAM role"));
    }

    #[test]
    fn definition_paths_are_relative_to_the_project_root() {
        let m = machine("A", "sm/a.asl.json").for_seed(Path::new("/proj"));
        assert_eq!(m.definition, Path::new("/proj/sm/a.asl.json"));
    }
}
