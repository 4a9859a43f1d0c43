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
    #[serde(default)]
    pub seed: SeedSection,
    /// `[[lambdas]]`: the local processes the AWS gateway invokes for each function name.
    #[serde(default)]
    pub lambdas: Vec<super::lambdas::LambdaSection>,
    /// `[[state_machines]]`: definitions the seed creates in moto, placeholders filled.
    #[serde(default)]
    pub state_machines: Vec<super::state_machines::StateMachineSection>,
    /// `[snapshot]`: `[[snapshot.hooks]]`, the team's own state in `orchestrator snapshot`.
    #[serde(default)]
    pub snapshot: crate::snapshot::hooks::SnapshotSection,
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
    /// Hot reload: glob patterns, relative to the service's cwd, whose changes restart it.
    #[serde(default)]
    pub watch: Vec<String>,
    /// Glob patterns `watch` leaves alone (generated files, caches); needs `watch`.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Container image for `orchestrator export` (compose, k8s); without one the export skips it.
    pub image: Option<String>,
}

/// `[seed]`: what runs after Hippodrome's own seed.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedSection {
    /// `[[seed.hooks]]`, run in order after every seed (`up` and `orchestrator seed`).
    #[serde(default)]
    pub hooks: Vec<HookSection>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HookSection {
    pub name: String,
    /// argv, run with the seed manifest's variables (those of `.hippodrome/.env.e2e`) in its env.
    pub command: Vec<String>,
    /// Working directory, relative to the project root (default: the project root).
    pub cwd: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// A failing blocking hook fails `up` and stops the stack; others are only reported.
    #[serde(default)]
    pub blocking: bool,
    /// Seconds before the hook's process group is killed and the hook reported as timed out.
    #[serde(default = "default_hook_timeout")]
    pub timeout_s: u64,
}

fn default_hook_timeout() -> u64 {
    300
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
    "aws_gateway",
];

impl HippodromeToml {
    /// The configuration in effect after [`HippodromeToml::load`]: the parsed file, or an empty
    /// one when it does not parse (what `doctor` checks against while it reports the error).
    pub fn or_empty(loaded: &Result<Self, TomlError>) -> &Self {
        static EMPTY: std::sync::OnceLock<HippodromeToml> = std::sync::OnceLock::new();
        loaded
            .as_ref()
            .unwrap_or_else(|_| EMPTY.get_or_init(HippodromeToml::default))
    }

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
            if !valid_name(&s.name) {
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
        for s in &self.services {
            validate_watch(s).map_err(|(needle, message)| err(&needle, message))?;
        }
        self.validate_hooks()
            .map_err(|(needle, message)| err(&needle, message))?;
        (self.snapshot.validate()).map_err(|(needle, message)| err(&needle, message))?;
        let services: Vec<String> = self.services.iter().map(|s| s.name.clone()).collect();
        super::lambdas::validate(&self.lambdas, &services)
            .map_err(|(needle, message)| err(&needle, message))?;
        super::state_machines::validate(&self.state_machines)
            .map_err(|(needle, message)| err(&needle, message))
    }

    fn validate_hooks(&self) -> Result<(), (String, String)> {
        let mut seen = std::collections::BTreeSet::new();
        for h in &self.seed.hooks {
            let at = format!("\"{}\"", h.name);
            let problem = if !valid_name(&h.name) {
                Some(format!("{:?} must be letters, digits, '_' or '-'", h.name))
            } else if !seen.insert(h.name.as_str()) {
                Some(format!("{:?} is declared twice", h.name))
            } else if h.command.is_empty() {
                Some(format!("command is empty for {:?}", h.name))
            } else if h.timeout_s == 0 || h.timeout_s > 86_400 {
                Some(format!(
                    "timeout_s {} for {:?} is outside 1-86400",
                    h.timeout_s, h.name
                ))
            } else {
                None
            };
            if let Some(p) = problem {
                return Err((at, format!("seed.hooks: {p}")));
            }
        }
        Ok(())
    }
}

/// Letters, digits, '-' and '_': what service, Lambda and state machine names share.
pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `watch` / `ignore` globs must compile and stay inside the service's cwd. Err is (text to find
/// for the line number, message).
fn validate_watch(s: &ServiceSection) -> Result<(), (String, String)> {
    if s.watch.is_empty() && !s.ignore.is_empty() {
        return Err((
            format!("\"{}\"", s.name),
            format!("services.ignore: {:?} has ignore but no watch", s.name),
        ));
    }
    for (key, pattern) in s
        .watch
        .iter()
        .map(|p| ("watch", p))
        .chain(s.ignore.iter().map(|p| ("ignore", p)))
    {
        if let Err(e) = crate::watch::glob(pattern) {
            return Err((
                pattern.clone(),
                format!("services.{key}: {pattern:?} for {:?}: {e}", s.name),
            ));
        }
    }
    Ok(())
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
        assert!(
            cfg.lambdas
                .iter()
                .any(|l| l.name == "admin_lambda" && l.service.as_deref() == Some("admin_lambda"))
        );
        assert!(
            cfg.state_machines
                .iter()
                .any(|m| m.name == "IndexExportFlow" && m.role_arn.is_none())
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

    #[test]
    fn bad_watch_globs_name_their_line() {
        let svc = "[[services]]\nname = \"a\"\nport = 1\ncommand = [\"x\"]\n";
        let e = parse(&format!("{svc}watch = [\"src/**/*.py\",\n  \"src/[x\"]\n")).unwrap_err();
        assert_eq!(e.line, 6, "{e}");
        assert!(e.message.contains("services.watch"), "{e}");
        let e = parse(&format!("{svc}watch = [\"../other/*.py\"]\n")).unwrap_err();
        assert!(e.message.contains("cwd"), "{e}");
        let e = parse(&format!("{svc}ignore = [\"x\"]\n")).unwrap_err();
        assert!(e.message.contains("no watch"), "{e}");
        let ok = parse(&format!(
            "{svc}watch = [\"src/**/*.py\"]\nignore = [\"src/gen\"]\n"
        ))
        .unwrap();
        assert_eq!(ok.services[0].watch, ["src/**/*.py"]);
    }

    #[test]
    fn seed_hooks_parse_strictly() {
        let ok = parse(
            "[[seed.hooks]]\nname = \"orders\"\ncommand = [\"sh\", \"x.sh\"]\n\n[[seed.hooks]]\nname = \"b\"\ncommand = [\"y\"]\nblocking = true\ntimeout_s = 5\n",
        )
        .unwrap();
        let h = &ok.seed.hooks;
        assert_eq!(
            (h[0].name.as_str(), h[0].blocking, h[0].timeout_s),
            ("orders", false, 300)
        );
        assert_eq!((h[1].blocking, h[1].timeout_s), (true, 5));
        let e =
            parse("[[seed.hooks]]\nname = \"a\"\ncommand = [\"x\"]\nretries = 2\n").unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        let e = parse("[[seed.hooks]]\nname = \"a\"\ncommand = []\n").unwrap_err();
        assert!(e.message.contains("seed.hooks: command is empty"), "{e}");
        assert_eq!(e.line, 2, "{e}");
        let e =
            parse("[[seed.hooks]]\nname = \"a\"\ncommand = [\"x\"]\ntimeout_s = 0\n").unwrap_err();
        assert!(e.message.contains("timeout_s"), "{e}");
    }
}
