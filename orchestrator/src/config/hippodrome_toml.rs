//! `hippodrome.toml`: the team's own services, extra webhook routes and real cell URLs.
//!
//! Parsing is strict (unknown keys are errors) and every error names the file, the line and the
//! field, because a typo here used to surface as a service that silently never started.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::Profile;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HippodromeToml {
    #[serde(default)]
    pub project: ProjectSection,
    /// Real cells by name (`staging`, `prod`): where `--cell staging|prod` points.
    #[serde(default)]
    pub cells: BTreeMap<String, CellSection>,
    /// Extra webhook-router routes: detail-type prefix → a service's port.
    #[serde(default)]
    pub routes: Vec<RouteSection>,
    #[serde(default)]
    pub services: Vec<ServiceSection>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectSection {
    /// Overrides the branch-derived table prefix (`--table-prefix` still wins).
    pub table_prefix: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellSection {
    pub url: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSection {
    /// detail-type prefix, e.g. `Orders.`
    pub prefix: String,
    /// name of the service (from `[[services]]` or a well-known port) that receives the events
    pub target: String,
    /// path on the target, default `/`
    #[serde(default = "default_route_path")]
    pub path: String,
}

fn default_route_path() -> String {
    "/".to_owned()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSection {
    pub name: String,
    /// Port before `--port-offset`; defaults to the well-known port of that name, if any. A service
    /// with no port (a worker) is healthy while its process lives.
    pub port: Option<u16>,
    /// argv; templates such as `{port}` are expanded.
    pub command: Vec<String>,
    /// Working directory, relative to the project root. Missing directory ⇒ the service is skipped.
    pub cwd: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default = "default_layer")]
    pub layer: u8,
    /// HTTP path probed for health; a TCP connect check when absent.
    pub health_url: Option<String>,
    /// Profiles that include the service; every profile when absent.
    pub profiles: Option<Vec<Profile>>,
    #[serde(default = "yes")]
    pub blocking: bool,
    #[serde(default = "yes")]
    pub auto_restart: bool,
    /// Programs that must be on PATH; a missing one ⇒ the service is skipped with the reason.
    #[serde(default)]
    pub requires: Vec<String>,
    pub setup: Option<SetupSection>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupSection {
    /// argv run in the service's cwd when `creates` does not exist yet.
    pub command: Vec<String>,
    /// Marker path (relative to the service's cwd), e.g. `.venv` or `node_modules`.
    pub creates: String,
}

fn default_layer() -> u8 {
    1
}
fn yes() -> bool {
    true
}

/// A bad `hippodrome.toml`, with where and what.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct TomlError {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

/// Built-in service names a `[[services]]` entry may not reuse.
const RESERVED: &[&str] = &[
    "dashboard",
    "fake_cell",
    "fake_cognito",
    "webhook_router",
    "moto",
];

impl HippodromeToml {
    /// Load `<root>/hippodrome.toml`; a missing file is an empty configuration.
    pub fn load(project_root: &Path) -> Result<Self, TomlError> {
        let file = project_root.join("hippodrome.toml");
        match std::fs::read_to_string(&file) {
            Ok(text) => Self::parse(&text, &file),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(TomlError {
                file,
                line: 0,
                message: format!("cannot read: {e}"),
            }),
        }
    }

    pub fn parse(text: &str, file: &Path) -> Result<Self, TomlError> {
        let parsed: Self = toml::from_str(text).map_err(|e| TomlError {
            file: file.to_path_buf(),
            line: e.span().map(|s| line_of(text, s.start)).unwrap_or(0),
            message: e.message().trim().to_owned(),
        })?;
        parsed.validate(text, file)?;
        Ok(parsed)
    }

    fn validate(&self, text: &str, file: &Path) -> Result<(), TomlError> {
        let err = |needle: &str, message: String| TomlError {
            file: file.to_path_buf(),
            line: text.find(needle).map(|i| line_of(text, i)).unwrap_or(0),
            message,
        };
        let mut seen = std::collections::BTreeSet::new();
        for s in &self.services {
            let at = format!("\"{}\"", s.name);
            if s.name.is_empty()
                || !s
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(err(
                    &at,
                    format!(
                        "services.name: {:?} must be letters, digits, '_' or '-'",
                        s.name
                    ),
                ));
            }
            if RESERVED.contains(&s.name.as_str()) {
                return Err(err(
                    &at,
                    format!("services.name: {:?} is a built-in service", s.name),
                ));
            }
            if !seen.insert(s.name.clone()) {
                return Err(err(
                    &at,
                    format!("services.name: {:?} is declared twice", s.name),
                ));
            }
            if s.layer > 3 {
                return Err(err(
                    &at,
                    format!(
                        "services.layer: {} for {:?} is outside 0-3",
                        s.layer, s.name
                    ),
                ));
            }
            if s.command.is_empty() {
                return Err(err(
                    &at,
                    format!("services.command: empty for {:?}", s.name),
                ));
            }
            if s.port.is_none()
                && s.health_url.is_some()
                && super::ports::DEFAULTS.iter().all(|(n, _)| *n != s.name)
            {
                return Err(err(
                    &at,
                    format!("services.health_url: {:?} has no port to probe", s.name),
                ));
            }
            if let Some(setup) = &s.setup
                && setup.command.is_empty()
            {
                return Err(err(
                    &at,
                    format!("services.setup.command: empty for {:?}", s.name),
                ));
            }
        }
        for r in &self.routes {
            if r.prefix.is_empty() {
                return Err(err("prefix", "routes.prefix: must not be empty".to_owned()));
            }
        }
        Ok(())
    }
}

fn line_of(text: &str, byte: usize) -> usize {
    text[..byte.min(text.len())]
        .bytes()
        .filter(|b| *b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<HippodromeToml, TomlError> {
        HippodromeToml::parse(s, Path::new("hippodrome.toml"))
    }

    #[test]
    fn example_fixture_parses() {
        let text = include_str!("../../../fixtures/hippodrome.example.toml");
        let cfg = parse(text).expect("example parses");
        assert!(
            cfg.services
                .iter()
                .any(|s| s.name == "controller" && s.layer == 1)
        );
        assert!(
            cfg.services
                .iter()
                .any(|s| s.name == "console" && !s.blocking)
        );
    }

    #[test]
    fn unknown_key_names_line_and_field() {
        let e =
            parse("[[services]]\nname = \"a\"\nport = 1\ncommand = [\"x\"]\ncolour = \"red\"\n")
                .unwrap_err();
        assert_eq!(e.line, 5, "{e}");
        assert!(e.message.contains("colour"), "{e}");
    }

    #[test]
    fn wrong_type_and_bad_layer_are_reported() {
        let e = parse("[[services]]\nname = \"a\"\nport = \"x\"\ncommand = [\"x\"]\n").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        let e = parse("[[services]]\nname = \"a\"\nport = 1\nlayer = 7\ncommand = [\"x\"]\n")
            .unwrap_err();
        assert!(e.message.contains("layer"), "{e}");
        assert_eq!(e.line, 2);
        let e = parse("[[services]]\nname = \"moto\"\nport = 1\ncommand = [\"x\"]\n").unwrap_err();
        assert!(e.message.contains("built-in"), "{e}");
    }
}
