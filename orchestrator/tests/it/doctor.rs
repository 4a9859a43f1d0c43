//! Issue 12: `orchestrator doctor` against real situations it must catch — a port taken by this
//! test, a program missing from PATH, a directory that cannot be created, a broken
//! `hippodrome.toml`, a stale run file, a running stack — and TROUBLESHOOTING.md covering every
//! anchor the code points at.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::harness::*;

/// Run `doctor --json` against `root` at `offset` with extra args and env; (exit code, report).
pub fn doctor(
    root: &Path,
    offset: u16,
    args: &[&str],
    env: &[(&str, &str)],
) -> (i32, Value, Output) {
    let mut cmd = Command::new(BIN);
    cmd.arg("doctor")
        .arg("--json")
        .arg("--project-root")
        .arg(root)
        .arg("--port-offset")
        .arg(offset.to_string())
        .args(args);
    // moto's import takes seconds; only the test that is about the whole profile pays for it.
    if !args.contains(&"--profile") {
        cmd.args(["--profile", "core"]);
    }
    cmd.env("NO_COLOR", "1")
        .env_remove("HIPPODROME_PORT_OFFSET");
    for k in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "HIPPODROME_EVENTS_ENDPOINT_URL",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env_remove(k);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "doctor --json is not JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report, out)
}

/// Checks of `area` with `status`, as their messages.
pub fn lines(report: &Value, area: &str, status: &str) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"] == area && c["status"] == status)
        .map(|c| {
            format!(
                "{} → {}",
                c["message"].as_str().unwrap_or(""),
                c["fix"].as_str().unwrap_or("")
            )
        })
        .collect()
}

pub fn fails(report: &Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| c.to_string())
        .collect()
}

#[test]
fn a_clean_project_passes_and_json_parses() {
    let root = tempfile::tempdir().unwrap();
    let offset = free_offset();
    let (code, report, _) = doctor(root.path(), offset, &["--profile", "full"], &[]);
    assert_eq!(code, 0, "unexpected failures: {:#?}", fails(&report));
    assert!(
        !lines(&report, "moto", "ok").is_empty() || !lines(&report, "moto", "warn").is_empty(),
        "{report}"
    );
    assert_eq!(report["fail"], 0);
    assert_eq!(report["port_offset"], offset);
    let free = lines(&report, "ports", "ok").join("\n");
    assert!(
        free.contains(&format!("dashboard :{}", offset + 9000)),
        "{free}"
    );
    assert!(!lines(&report, "dirs", "ok").is_empty());
    assert!(!lines(&report, "disk", "ok").is_empty() || !lines(&report, "disk", "warn").is_empty());
    assert!(
        lines(&report, "prefix", "ok")
            .join("")
            .contains("dev-local-"),
        "{report}"
    );
    // Nothing was created in the project beyond what `up` creates (doctor removes its probe file).
    assert!(!root.path().join(".hippodrome").exists());

    // The human form says the same in lines.
    let out = Command::new(BIN)
        .args(["doctor", "--project-root"])
        .arg(root.path())
        .args(["--port-offset", &offset.to_string()])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().any(|l| l.starts_with("ok    ports")), "{text}");
    assert!(text.contains(" 0 fail"), "{text}");
}

#[test]
fn a_port_taken_by_this_test_fails_naming_our_pid() {
    let root = tempfile::tempdir().unwrap();
    let offset = free_offset();
    let port = offset + 9006; // fake_cognito
    let _listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let (code, report, _) = doctor(root.path(), offset, &[], &[]);
    assert_eq!(code, 1);
    let f = lines(&report, "ports", "fail").join("\n");
    assert!(
        f.contains(&format!(
            "port {port} (fake_cognito) is in use by pid {}",
            std::process::id()
        )),
        "{f}"
    );
    assert!(
        f.contains(&format!("kill {}", std::process::id())),
        "the fix names the command: {f}"
    );
    assert_eq!(
        report["fail"],
        1,
        "only the port fails: {:#?}",
        fails(&report)
    );
}

#[test]
fn a_program_missing_from_path_fails_and_is_found_once_on_path() {
    let root = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    let tool = bin.path().join("hippodrome-doctor-tool");
    std::fs::write(&tool, "#!/bin/sh\nexit 0\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(
        root.path().join("hippodrome.toml"),
        "[[services]]\nname = \"tooled\"\nport = 9050\ncommand = [\"hippodrome-doctor-tool\", \"{port}\"]\nrequires = [\"hippodrome-doctor-tool\"]\n",
    )
    .unwrap();
    let offset = free_offset();
    let path = std::env::var("PATH").unwrap_or_default();

    let (code, report, _) = doctor(root.path(), offset, &[], &[("PATH", &path)]);
    assert_eq!(code, 1);
    let f = lines(&report, "programs", "fail").join("\n");
    assert!(
        f.contains("hippodrome-doctor-tool is not on PATH; needed by tooled"),
        "{f}"
    );
    // A service that will be skipped has no port to check.
    assert!(
        !lines(&report, "ports", "ok").join("").contains("tooled"),
        "{report}"
    );

    let with = format!("{}:{path}", bin.path().display());
    let (code, report, _) = doctor(root.path(), offset, &[], &[("PATH", &with)]);
    assert_eq!(code, 0, "{:#?}", fails(&report));
    let ok = lines(&report, "programs", "ok").join("\n");
    assert!(
        ok.contains(&format!("hippodrome-doctor-tool at {}", tool.display())),
        "{ok}"
    );
    assert!(
        lines(&report, "ports", "ok")
            .join("")
            .contains(&format!("tooled :{}", offset + 9050)),
        "{report}"
    );
}

#[test]
fn a_state_directory_that_cannot_be_created_fails() {
    // Root ignores permission bits, so make the path impossible instead: a regular file where the
    // state directory must go. `up` would fail with ENOTDIR here, for root too.
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join(".hippodrome")).unwrap();
    std::fs::write(
        root.path().join(".hippodrome").join("state"),
        "not a directory",
    )
    .unwrap();
    let (code, report, _) = doctor(root.path(), free_offset(), &[], &[]);
    assert_eq!(code, 1);
    let f = lines(&report, "dirs", "fail").join("\n");
    assert!(
        f.contains("state directory") && f.contains("is a file, not a directory"),
        "{f}"
    );
    assert!(
        lines(&report, "dirs", "ok")
            .join("")
            .contains("log directory"),
        "{report}"
    );
}

#[test]
fn a_broken_hippodrome_toml_fails_with_file_and_line() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(
        root.path().join("hippodrome.toml"),
        "[[services]]\nname = \"a\"\nport = 9050\ncommand = [\"x\"]\ncolour = \"red\"\n",
    )
    .unwrap();
    let (code, report, _) = doctor(root.path(), free_offset(), &[], &[]);
    assert_eq!(code, 1);
    let f = lines(&report, "config", "fail").join("\n");
    assert!(
        f.contains("hippodrome.toml:5:") && f.contains("colour"),
        "{f}"
    );
}

#[test]
fn a_stale_run_file_warns_with_kill() {
    let root = tempfile::tempdir().unwrap();
    let offset = free_offset();
    let mut gone = Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    std::fs::create_dir(root.path().join(".hippodrome")).unwrap();
    let run = serde_json::json!({
        "orchestrator_pid": pid, "started_at_ms": 0, "project_root": root.path(), "port_offset": offset,
        "dashboard_port": offset + 9000, "detached": false, "services": {}
    });
    std::fs::write(
        root.path().join(".hippodrome").join("run.json"),
        run.to_string(),
    )
    .unwrap();
    let (code, report, _) = doctor(root.path(), offset, &[], &[]);
    let w = lines(&report, "run-file", "warn").join("\n");
    assert!(
        w.contains(&format!("orchestrator pid {pid} is gone"))
            && w.contains("orchestrator -- kill"),
        "{w}"
    );
    assert_eq!(code, 0, "a warning is not a failure: {:#?}", fails(&report));
    assert!(
        lines(&report, "stack", "ok")
            .join("")
            .contains("no stack is running"),
        "{report}"
    );
}

#[test]
fn a_running_stack_holds_its_ports_and_reports_health() {
    let toml = format!(
        "[[services]]\nname = \"never_ready\"\nport = 9050\nlayer = 3\nblocking = false\nhealth_url = \"/health\"\ncommand = [\"python3\", \"{}\", \"{{port}}\", \"--delay\", \"1000\"]\n",
        fixture("service.py").display()
    );
    let mut stack = Stack::up(
        Some(&toml),
        &[
            "--profile",
            "core",
            "--no-seed",
            "--health-interval-ms",
            "200",
            "--layer-timeout",
            "1",
        ],
    );
    stack.wait_status("built-ins running and a failed probe on never_ready", |v| {
        ["fake_cell", "fake_cognito", "webhook_router"]
            .iter()
            .all(|s| v[*s]["status"] == "running")
            && v["never_ready"]["last_probe"]["error_type"] == "http_error"
    });
    let (code, report, _) = doctor(stack.root(), stack.offset, &["--profile", "core"], &[]);
    assert_eq!(code, 0, "{:#?}", fails(&report));
    let ports = lines(&report, "ports", "ok").join("\n");
    assert!(
        ports.contains(&format!(
            "port {} (dashboard) is held by this project's running stack",
            stack.port(9000)
        )),
        "{ports}"
    );
    assert!(
        ports.contains(&format!("port {} (fake_cell)", stack.port(9001))) && ports.contains("ours"),
        "{ports}"
    );
    let health = lines(&report, "stack", "ok").join("\n");
    assert!(health.contains("fake_cell is running"), "{health}");
    let warn = lines(&report, "stack", "warn").join("\n");
    assert!(
        warn.contains("never_ready is")
            && ["http_error 503", "connection_refused", "timeout"]
                .iter()
                .any(|t| warn.contains(&format!("last probe: {t}"))),
        "{report}"
    );
    assert!(
        lines(&report, "run-file", "ok")
            .join("")
            .contains("a stack is running"),
        "{report}"
    );
}

#[test]
fn a_real_cell_needs_reachability_and_fresh_aws_credentials() {
    // A tiny HTTP server standing in for the staging cell; prod points at a closed port.
    let cell = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let cell_port = cell.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut conn in cell.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let _ = conn
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let root = tempfile::tempdir().unwrap();
    std::fs::write(
        root.path().join("hippodrome.toml"),
        format!("[cells.staging]\nurl = \"http://127.0.0.1:{cell_port}/\"\n\n[cells.prod]\nurl = \"http://127.0.0.1:{closed}/\"\n"),
    )
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let cache = home.path().join(".aws").join("sso").join("cache");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::write(
        cache.join("old.json"),
        r#"{"accessToken":"t","expiresAt":"2021-03-04T05:06:07Z"}"#,
    )
    .unwrap();
    let home_s = home.path().to_str().unwrap();
    let offset = free_offset();

    // A real cell alone: services still get local moto and the dummy credentials, so the expired
    // token does not matter and doctor says why.
    let (code, report, _) = doctor(
        root.path(),
        offset,
        &["--cell", "staging"],
        &[("HOME", home_s)],
    );
    assert_eq!(code, 0, "{:#?}", fails(&report));
    assert!(
        lines(&report, "cell", "ok")
            .join("")
            .contains("reachable (HTTP 200)"),
        "{report}"
    );
    let aws = lines(&report, "aws", "ok").join("\n");
    assert!(
        aws.contains("--cell staging changes only the Marqo cell")
            && aws.contains(&format!("http://127.0.0.1:{}", offset + 9003))
            && aws.contains("dummy AWS credentials `testing`")
            && aws.contains("only --enable-events needs them"),
        "{aws}"
    );
    assert!(lines(&report, "aws", "fail").is_empty(), "{report}");
    // fake_cell is not started for a real cell, so its port is not checked.
    assert!(
        !lines(&report, "ports", "ok").join("").contains("fake_cell"),
        "{report}"
    );

    // --enable-events does use real credentials: now the expired token fails. A stand-in
    // cloudflared keeps the programs check out of it.
    let bin = tempfile::tempdir().unwrap();
    let cloudflared = bin.path().join("cloudflared");
    std::fs::write(&cloudflared, "#!/bin/sh\nexit 0\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&cloudflared, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let events = ["--cell", "staging", "--enable-events"];
    let env = [("HOME", home_s), ("PATH", path.as_str())];
    let (code, report, _) = doctor(root.path(), offset, &events, &env);
    assert_eq!(code, 1);
    let aws = lines(&report, "aws", "fail").join("\n");
    assert!(
        aws.contains("--enable-events (EventBridge in your AWS account)")
            && aws.contains("expired at 2021-03-04T05:06:07Z")
            && aws.contains("aws sso login"),
        "{aws}"
    );
    assert_eq!(report["fail"], 1, "{:#?}", fails(&report));

    std::fs::write(
        cache.join("new.json"),
        r#"{"accessToken":"t","expiresAt":"2999-01-01T00:00:00Z"}"#,
    )
    .unwrap();
    let (code, report, _) = doctor(root.path(), offset, &events, &env);
    assert_eq!(code, 0, "{:#?}", fails(&report));
    assert!(
        lines(&report, "aws", "ok")
            .join("")
            .contains("valid until 2999-01-01T00:00:00Z"),
        "{report}"
    );

    let (code, report, _) = doctor(
        root.path(),
        offset,
        &["--cell", "prod"],
        &[("HOME", home_s)],
    );
    assert_eq!(code, 1);
    assert!(
        lines(&report, "cell", "warn")
            .join("")
            .contains("PRODUCTION"),
        "{report}"
    );
    assert!(
        lines(&report, "cell", "fail")
            .join("")
            .contains("unreachable"),
        "{report}"
    );
}

/// GitHub's heading anchor: lowercase; letters, digits, `-` and `_` kept; spaces become `-`;
/// everything else dropped.
fn github_anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            if !matches!(
                name.as_str(),
                "target" | ".git" | "node_modules" | ".hippodrome"
            ) {
                rust_files(&p, out);
            }
        } else if name.ends_with(".rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_troubleshooting_anchor_in_the_code_exists() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let doc = std::fs::read_to_string(workspace.join("TROUBLESHOOTING.md"))
        .expect("TROUBLESHOOTING.md at the workspace root");
    let anchors: std::collections::BTreeSet<String> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("## ").or_else(|| l.strip_prefix("### ")))
        .map(github_anchor)
        .collect();
    let needle = ["TROUBLESHOOTING.md", "#"].concat();
    let mut files = Vec::new();
    rust_files(workspace, &mut files);
    let mut missing = Vec::new();
    let mut seen = 0;
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        for (at, _) in text.match_indices(&needle) {
            let anchor: String = text[at + needle.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            if anchor.is_empty() {
                continue;
            }
            seen += 1;
            if !anchors.contains(&anchor) {
                missing.push(format!("{}: #{anchor}", f.display()));
            }
        }
    }
    assert!(
        seen >= 5,
        "expected the code to point at TROUBLESHOOTING.md entries; found {seen}"
    );
    assert!(
        missing.is_empty(),
        "anchors with no heading in TROUBLESHOOTING.md:\n{}",
        missing.join("\n")
    );
    assert_eq!(github_anchor("Port already in use"), "port-already-in-use");
    assert_eq!(github_anchor("Bad Hippodrome TOML"), "bad-hippodrome-toml");

    // Links inside the document (`](#anchor)`) land on a heading of any level too.
    let all: std::collections::BTreeSet<String> = doc
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| github_anchor(l.trim_start_matches('#')))
        .collect();
    let broken: Vec<&str> = doc
        .match_indices("](#")
        .filter_map(|(at, _)| doc[at + 3..].split(')').next())
        .filter(|a| !all.contains(*a))
        .collect();
    assert!(
        broken.is_empty(),
        "TROUBLESHOOTING.md links to missing headings: {broken:?}"
    );
}
