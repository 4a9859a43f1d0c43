//! `orchestrator export compose|k8s` of the example `hippodrome.toml`: the output equals the
//! reviewed goldens in fixtures/export (`HIPPODROME_BLESS=1` rewrites them), a layering or health
//! change shows up in it, `--port-offset` moves every port, the start order the manifests imply
//! equals `up`'s layers, and `doctor --target` reports what an export leaves out. Also: moto
//! shares the gateway's network namespace (its Step Functions tasks reach the gateway on
//! localhost), the fake cell's index servers are reachable under the name it advertises, and
//! the seed job gets the team's `[[lambdas]]` / `[[state_machines]]`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use orchestrator::export::{compose, k8s, model, order};
use orchestrator::settings::{PortOffsetArg, StackArgs, resolve};

use crate::harness::BIN;

/// moto in the gateway's namespace, the cell's index servers, the team's seed files.
mod wiring;

const EXAMPLE: &str = include_str!("../../../fixtures/hippodrome.example.toml");

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/export")
}

/// The example's `[[state_machines]]` definition (`../workflows/index_export.asl.json`): a
/// placeholder the seed fills, which Compose must not interpolate.
const WORKFLOW: &str = "{\"StartAt\": \"Export\", \"States\": {\"Export\": {\"Type\": \"Task\", \"Resource\": \"arn:aws:states:::lambda:invoke\", \"Parameters\": {\"FunctionName\": \"${lambda:admin_lambda}\"}, \"End\": true}}}\n";

/// A project whose hippodrome.toml is `toml`, with the example's `cwd` folders and state
/// machine definition present (so `up`'s plan keeps the team services).
fn project(toml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("project");
    std::fs::create_dir_all(&root).expect("project dir");
    std::fs::write(root.join("hippodrome.toml"), toml).expect("write toml");
    for cwd in [
        "controller",
        "admin-server",
        "admin-lambda",
        "exporters",
        "ecom-indexer",
        "ecom-ingest",
        "search-proxy",
        "agentic-search",
        "console",
    ] {
        std::fs::create_dir_all(dir.path().join(cwd)).expect("cwd");
    }
    let workflows = dir.path().join("workflows");
    std::fs::create_dir_all(&workflows).expect("workflows dir");
    std::fs::write(workflows.join("index_export.asl.json"), WORKFLOW).expect("workflow");
    dir
}

/// Run `orchestrator <args>` for the project, without the environment that would change output.
fn orchestrator(dir: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::new(BIN)
        .args(args)
        .arg("--project-root")
        .arg(dir.join("project"))
        .args(["--table-prefix", "dev-example-", "--seed", "42"])
        .env_remove("HIPPODROME_RANDOM_SEED")
        .env_remove("HIPPODROME_ENCRYPTION_SECRET")
        .env_remove("HIPPODROME_PORT_OFFSET")
        .output()
        .expect("run orchestrator");
    assert!(
        out.status.success(),
        "orchestrator {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Every file under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .expect("under dir")
                    .to_string_lossy()
                    .into_owned();
                out.push((rel, std::fs::read_to_string(&p).expect("read file")));
            }
        }
    }
    out.sort();
    out
}

fn export_all(dir: &Path) -> Vec<(String, String)> {
    let out_dir = dir.join("out");
    let compose_file = out_dir.join("compose.yaml");
    orchestrator(
        dir,
        &[
            "export",
            "compose",
            "--out",
            compose_file.to_str().expect("utf-8 path"),
        ],
    );
    let k8s_dir = out_dir.join("k8s");
    orchestrator(
        dir,
        &[
            "export",
            "k8s",
            "--out",
            k8s_dir.to_str().expect("utf-8 path"),
            "--overlay",
            "pr-123",
        ],
    );
    tree(&out_dir)
}

#[test]
fn the_example_exports_equal_the_reviewed_goldens() {
    let dir = project(EXAMPLE);
    let mut got = export_all(dir.path());
    got.push(("up-order.json".into(), up_order_json(dir.path())));
    got.sort();
    let golden = golden_dir();
    if std::env::var_os("HIPPODROME_BLESS").is_some() {
        let _ = std::fs::remove_dir_all(&golden);
        for (rel, text) in &got {
            let path = golden.join(rel);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("golden dir");
            std::fs::write(path, text).expect("write golden");
        }
    }
    let want = tree(&golden);
    let names = |v: &[(String, String)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&got),
        names(&want),
        "files differ from fixtures/export (HIPPODROME_BLESS=1 rewrites them; review the diff)"
    );
    for ((name, g), (_, w)) in got.iter().zip(&want) {
        assert!(
            g == w,
            "{name} differs from fixtures/export/{name}; HIPPODROME_BLESS=1 rewrites it (review the diff)"
        );
    }
    // Exporting twice gives the same bytes.
    assert_eq!(export_all(dir.path()), tree(&dir.path().join("out")));
}

fn resolved(dir: &Path, offset: u16) -> orchestrator::settings::Resolved {
    resolve(
        Some(&dir.join("project")),
        &StackArgs {
            profile: orchestrator::config::Profile::Full,
            cell: orchestrator::config::Cell::Local,
            table_prefix: Some("dev-example-".into()),
            offset: PortOffsetArg {
                port_offset: offset,
            },
            only: None,
        },
    )
}

/// `up`'s waves for what the export holds, as JSON (the golden simulate.py compares with).
fn up_order_json(dir: &Path) -> String {
    let (waves, _, _) = orders(dir);
    let mut text = serde_json::to_string_pretty(&waves).expect("json");
    text.push('\n');
    text
}

/// `up`'s waves, and the waves replayed from the Compose file and from the Kubernetes manifests.
fn orders(dir: &Path) -> (order::Waves, order::Waves, order::Waves) {
    let r = resolved(dir, 0);
    let opts = model::Options {
        image: "hippodrome:latest".into(),
        seed: 42,
    };
    let stack = model::build(&r, &opts).expect("stack");
    let plan = r.plan(Path::new("orchestrator")).expect("plan");
    let exported: BTreeSet<String> = stack.units.iter().map(|u| u.host.clone()).collect();
    let up = order::up_waves(&plan, &exported);
    let from_compose = order::compose_waves(&compose::document(&stack)).expect("compose order");
    let docs: Vec<_> = k8s::documents(&stack, "hippodrome")
        .into_iter()
        .flat_map(|(_, d)| d)
        .collect();
    let from_k8s = order::k8s_waves(&docs).expect("k8s order");
    (up, from_compose, from_k8s)
}

#[test]
fn the_start_order_the_manifests_imply_is_ups_layer_order() {
    let dir = project(EXAMPLE);
    let (up, from_compose, from_k8s) = orders(dir.path());
    // The example: layer 0, the seed, layers 1, 2 and 3 — five waves, none empty.
    assert_eq!(up.len(), 5, "{up:?}");
    assert_eq!(up[1], vec!["seed".to_owned()]);
    assert!(up[0].contains(&"fake-cell".to_owned()) && up[0].contains(&"moto".to_owned()));
    assert_eq!(from_compose, up);
    assert_eq!(from_k8s, up);
}

#[test]
fn a_layer_or_health_change_shows_up_in_the_exports() {
    let before = project(EXAMPLE);
    let changed = EXAMPLE
        .replace("layer = 3\nhealth_url = \"/healthz\"\nprofiles = [\"ecom\", \"full\"]\nrequires = [\"node\"]", "layer = 2\nhealth_url = \"/ready\"\nprofiles = [\"ecom\", \"full\"]\nrequires = [\"node\"]");
    assert_ne!(
        changed, EXAMPLE,
        "the example's ecom_ingest entry moved; update this test"
    );
    let after = project(&changed);
    let a = export_all(before.path());
    let b = export_all(after.path());
    let file = |v: &[(String, String)], n: &str| {
        v.iter()
            .find(|(f, _)| f == n)
            .map(|(_, t)| t.clone())
            .expect(n)
    };
    let (ca, cb) = (file(&a, "compose.yaml"), file(&b, "compose.yaml"));
    assert!(
        ca.contains("http://127.0.0.1:9019/healthz") && cb.contains("http://127.0.0.1:9019/ready")
    );
    let (ka, kb) = (
        file(&a, "k8s/base/ecom-ingest.yaml"),
        file(&b, "k8s/base/ecom-ingest.yaml"),
    );
    // Layer 3 waited for admin-lambda (layer 2); in layer 2 it does not any more.
    assert!(
        ka.contains("\"wait-admin-lambda\"") && !kb.contains("\"wait-admin-lambda\""),
        "{kb}"
    );
    assert!(
        kb.contains("\"hippodrome.dev/layer\": \"2\"")
            || kb.contains("hippodrome.dev/layer: \"2\"")
    );
    assert!(kb.contains("path: \"/ready\""));
}

#[test]
fn port_offset_moves_every_published_port_and_url() {
    let dir = project(EXAMPLE);
    let out = Command::new(BIN)
        .args([
            "export",
            "compose",
            "--port-offset",
            "100",
            "--table-prefix",
            "t-",
            "--seed",
            "1",
            "--project-root",
        ])
        .arg(dir.path().join("project"))
        .env_remove("HIPPODROME_PORT_OFFSET")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\"127.0.0.1:9101:9101\""), "fake-cell's port");
    assert!(
        text.contains("\"127.0.0.1:9200-9299:9200-9299\""),
        "the index range"
    );
    assert!(
        text.contains("\"http://aws-gateway:9103\""),
        "AWS_ENDPOINT_URL"
    );
    assert!(!text.contains("\"127.0.0.1:9001:9001\""));
    // The skips go to stderr, with the reason.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("skipped console: no `image`"), "{err}");
}

#[test]
fn doctor_target_names_what_the_export_leaves_out() {
    let dir = project(EXAMPLE);
    let out = Command::new(BIN)
        .args(["doctor", "--json", "--target", "k8s", "--project-root"])
        .arg(dir.path().join("project"))
        .output()
        .expect("run doctor");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("doctor JSON");
    let export: Vec<&serde_json::Value> = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["check"] == "export")
        .collect();
    let text = serde_json::to_string(&export).expect("json");
    assert!(
        text.contains("no `image` for search_proxy, agentic_search, console"),
        "{text}"
    );
    // The definition is readable, so the export ships it: no warning about it; the hook
    // runs on the host only.
    assert!(!text.contains("state machine IndexExportFlow"), "{text}");
    assert!(
        text.contains("seed hook orders-fixtures runs on the host only"),
        "{text}"
    );
    assert!(
        text.contains("ports and service names are unique"),
        "{text}"
    );
}

#[test]
fn doctor_target_fails_on_two_services_sharing_a_port() {
    let toml = "[[services]]\nname = \"a\"\nport = 9500\nimage = \"x:1\"\ncommand = [\"true\"]\n\n[[services]]\nname = \"b\"\nport = 9500\nimage = \"y:1\"\ncommand = [\"true\"]\n";
    let dir = project(toml);
    let out = Command::new(BIN)
        .args(["doctor", "--json", "--target", "compose", "--project-root"])
        .arg(dir.path().join("project"))
        .output()
        .expect("run doctor");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("doctor JSON");
    let clash = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["check"] == "export" && c["status"] == "fail")
        .expect("a failing export check");
    assert!(
        clash["message"]
            .as_str()
            .is_some_and(|m| m.contains("port 9500: a, b")),
        "{clash}"
    );
    assert!(!out.status.success());
}

#[test]
fn a_bad_namespace_is_refused_with_the_rule() {
    let dir = project(EXAMPLE);
    let out = Command::new(BIN)
        .args(["export", "k8s", "--namespace", "PR_12", "--out"])
        .arg(dir.path().join("k"))
        .arg("--project-root")
        .arg(dir.path().join("project"))
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot name a namespace"));
    assert!(!dir.path().join("k").exists(), "nothing written");
}

#[test]
fn profile_core_leaves_moto_out_and_the_seed_skips_aws() {
    let dir = project(EXAMPLE);
    let out = Command::new(BIN)
        .args([
            "export",
            "compose",
            "--profile",
            "core",
            "--table-prefix",
            "t-",
            "--project-root",
        ])
        .arg(dir.path().join("project"))
        .env_remove("HIPPODROME_PORT_OFFSET")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("skipped moto: not in profile core"), "{err}");
    assert!(
        err.contains("skipped aws_gateway: not in profile core"),
        "{err}"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("\n  moto:\n") && text.contains("\"--no-aws\""));
    // Nothing for moto to hold: no team files shipped to the seed job.
    assert!(!text.contains("HIPPODROME_SEED_TEAM") && !text.contains("\nconfigs:\n"));
    assert!(
        text.contains("\n  controller:\n"),
        "controller is in profile core"
    );
}

#[test]
fn the_seed_job_names_the_variable_it_is_missing() {
    let dir = project(EXAMPLE);
    let out = Command::new(BIN)
        .args(["seed-job", "--out"])
        .arg(dir.path().join("seed-out"))
        .arg("--project-root")
        .arg(dir.path().join("project"))
        .env_remove("COGNITO_URL")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("COGNITO_URL is not set"), "{err}");
}

/// The file `name` of an export (`export_all`'s list).
fn file_of(files: &[(String, String)], name: &str) -> String {
    files
        .iter()
        .find(|(f, _)| f == name)
        .map(|(_, t)| t.clone())
        .unwrap_or_else(|| panic!("no {name} in the export"))
}
