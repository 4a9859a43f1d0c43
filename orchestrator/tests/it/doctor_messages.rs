//! Issue 22: doctor tells the whole truth — a program needed only by non-blocking services warns,
//! commands given with a path are checked, `wrangler dev` inspector ports must differ, a running
//! stack's failed seed is reported group by group — and `stop`/`kill` name the dashboard URL of
//! the project's own stack when none runs.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::doctor::{doctor, fails, lines};
use crate::harness::*;

fn write_exe(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_program_only_non_blocking_services_need_warns_and_doctor_passes() {
    let root = tempfile::tempdir().unwrap();
    // An empty PATH: no npm (nor anything else; nothing in profile core needs python3).
    let empty = tempfile::tempdir().unwrap();
    let path = empty.path().to_str().unwrap();
    let console = |blocking: bool| {
        format!(
            "[[services]]\nname = \"console\"\nport = 9050\nblocking = {blocking}\nlayer = 3\nrequires = [\"npm\"]\ncommand = [\"npm\", \"run\", \"dev\", \"--\", \"--port\", \"{{port}}\"]\n"
        )
    };
    std::fs::write(root.path().join("hippodrome.toml"), console(false)).unwrap();
    let offset = free_offset();
    let (code, report, _) = doctor(root.path(), offset, &[], &[("PATH", path)]);
    assert_eq!(
        code,
        0,
        "only a non-blocking service is affected: {:#?}",
        fails(&report)
    );
    let warn = lines(&report, "programs", "warn").join("\n");
    assert!(
        warn.contains("npm is not on PATH; needed by console (non-blocking")
            && warn.contains("install Node.js"),
        "{warn}"
    );

    // The same program for a blocking service is a failure.
    std::fs::write(root.path().join("hippodrome.toml"), console(true)).unwrap();
    let (code, report, _) = doctor(root.path(), offset, &[], &[("PATH", path)]);
    assert_eq!(code, 1);
    let fail = lines(&report, "programs", "fail").join("\n");
    assert!(
        fail.contains("npm is not on PATH; needed by console"),
        "{fail}"
    );
    assert!(!fail.contains("non-blocking"), "{fail}");
}

#[test]
fn commands_given_with_a_path_are_checked_relative_to_the_cwd() {
    let root = tempfile::tempdir().unwrap();
    let svc = root.path().join("svc");
    std::fs::create_dir(&svc).unwrap();
    let script = svc.join("run.sh");
    std::fs::write(&script, "#!/bin/sh\nexec sleep 1000\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(
        root.path().join("hippodrome.toml"),
        r#"
[[services]]
name = "runner"
cwd = "svc"
command = ["./run.sh"]

[[services]]
name = "venv_user"
cwd = "svc"
command = [".venv/bin/python", "-m", "app"]
setup = { command = ["sh", "-c", "true"], creates = ".venv" }

[[services]]
name = "optional"
cwd = "svc"
blocking = false
command = ["bin/missing-tool"]
"#,
    )
    .unwrap();
    let offset = free_offset();
    let (code, report, _) = doctor(root.path(), offset, &[], &[]);
    assert_eq!(code, 1);
    let fail = lines(&report, "commands", "fail").join("\n");
    assert!(
        fail.contains(&format!(
            "runner: command ./run.sh at {} is not executable",
            script.display()
        )) && fail.contains(&format!("chmod +x {}", script.display())),
        "{fail}"
    );
    assert_eq!(report["fail"], 1, "{:#?}", fails(&report));
    let ok = lines(&report, "commands", "ok").join("\n");
    assert!(
        ok.contains("venv_user: .venv/bin/python will be created by its setup step"),
        "{ok}"
    );
    let warn = lines(&report, "commands", "warn").join("\n");
    assert!(
        warn.contains(&format!(
            "optional: command bin/missing-tool does not exist at {}",
            svc.join("bin/missing-tool").display()
        )) && warn.contains("relative to the service's cwd"),
        "{warn}"
    );

    // Made executable, it passes; a venv whose python is missing fails with the way to redo setup.
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir(svc.join(".venv")).unwrap();
    let (code, report, _) = doctor(root.path(), offset, &[], &[]);
    assert_eq!(code, 1);
    let ok = lines(&report, "commands", "ok").join("\n");
    assert!(
        ok.contains("runner: command ./run.sh is executable"),
        "{ok}"
    );
    let fail = lines(&report, "commands", "fail").join("\n");
    assert!(
        fail.contains("venv_user: command .venv/bin/python does not exist")
            && fail.contains(&format!("rm -rf {}", svc.join(".venv").display())),
        "{fail}"
    );

    // With a working interpreter there, nothing fails.
    std::fs::create_dir(svc.join(".venv/bin")).unwrap();
    write_exe(&svc.join(".venv/bin/python"), "#!/bin/sh\nexit 0\n");
    let (code, report, _) = doctor(root.path(), offset, &[], &[]);
    assert_eq!(code, 0, "{:#?}", fails(&report));
}

/// Two worker directories with a wrangler in `node_modules/.bin` (so only the inspector ports
/// matter), and a stand-in `npx` on PATH.
fn workers(root: &Path, ports: [Option<u16>; 2]) -> String {
    let mut toml = String::new();
    for (n, p) in ports.iter().enumerate() {
        let dir = root.join(format!("worker{n}"));
        std::fs::create_dir_all(dir.join("node_modules/.bin")).unwrap();
        write_exe(&dir.join("node_modules/.bin/wrangler"), "#!/bin/sh\n");
        let inspector = p
            .map(|p| format!(", \"--inspector-port\", \"{p}\""))
            .unwrap_or_default();
        toml.push_str(&format!(
            "[[services]]\nname = \"worker{n}\"\nport = {}\ncwd = \"worker{n}\"\ncommand = [\"npx\", \"wrangler\", \"dev\", \"--port\", \"{{port}}\"{inspector}]\n\n",
            9050 + n
        ));
    }
    toml
}

#[test]
fn wrangler_workers_sharing_an_inspector_port_fail_with_the_fix() {
    let root = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    write_exe(&bin.path().join("npx"), "#!/bin/sh\necho 10.8.0\n");
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let env = [("PATH", path.as_str())];
    let offset = free_offset();

    std::fs::write(
        root.path().join("hippodrome.toml"),
        workers(root.path(), [None, None]),
    )
    .unwrap();
    let (code, report, _) = doctor(root.path(), offset, &[], &env);
    assert_eq!(code, 1);
    let fail = lines(&report, "conflicts", "fail").join("\n");
    assert!(
        fail.contains("worker0, worker1 run `wrangler dev` with the same inspector port 9229")
            && fail.contains("add \"--inspector-port\", \"9230\" to the command of worker1"),
        "{fail}"
    );
    assert_eq!(
        report["fail"],
        1,
        "only the clash fails: {:#?}",
        fails(&report)
    );

    // An explicit port equal to the other's default clashes just the same.
    std::fs::write(
        root.path().join("hippodrome.toml"),
        workers(root.path(), [None, Some(9229)]),
    )
    .unwrap();
    let (code, _, _) = doctor(root.path(), offset, &[], &env);
    assert_eq!(code, 1);

    std::fs::write(
        root.path().join("hippodrome.toml"),
        workers(root.path(), [None, Some(9231)]),
    )
    .unwrap();
    let (code, report, _) = doctor(root.path(), offset, &[], &env);
    assert_eq!(code, 0, "{:#?}", fails(&report));
    assert!(
        lines(&report, "conflicts", "ok")
            .join("")
            .contains("distinct: worker0 9229, worker1 9231"),
        "{report}"
    );
}

#[test]
fn the_example_toml_gives_each_worker_its_own_inspector_port() {
    let parent = tempfile::tempdir().unwrap();
    let root = parent.path().join("project");
    std::fs::create_dir(&root).unwrap();
    for d in ["search-proxy", "agentic-search"] {
        std::fs::create_dir(parent.path().join(d)).unwrap();
    }
    let example = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("fixtures/hippodrome.example.toml");
    std::fs::copy(example, root.join("hippodrome.toml")).unwrap();
    let (_, report, _) = doctor(
        &root,
        free_offset(),
        &["--profile", "full", "--only", "search_proxy,agentic_search"],
        &[],
    );
    assert!(lines(&report, "conflicts", "fail").is_empty(), "{report}");
    assert!(
        lines(&report, "conflicts", "ok")
            .join("")
            .contains("distinct: search_proxy 9229, agentic_search 9230"),
        "{report}"
    );
}

/// A stand-in moto: healthy on `/moto-api/`, and a 400 for every AWS call, so every moto seed
/// group fails.
const REFUSING_MOTO: &str = r#"#!/usr/bin/env python3
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port = int(sys.argv[sys.argv.index("-p") + 1])


class H(BaseHTTPRequestHandler):
    def answer(self):
        n = int(self.headers.get("content-length") or 0)
        if n:
            self.rfile.read(n)
        if self.path.startswith("/moto-api/"):
            code, body = 200, b"{}"
        else:
            code = 400
            body = b'{"__type":"ValidationException","message":"doctor test: this moto refuses everything"}'
        self.send_response(code)
        self.send_header("content-type", "application/x-amz-json-1.0")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = answer

    def log_message(self, *a):
        pass


ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
"#;

#[test]
fn doctor_reports_each_failed_seed_group_of_a_running_stack() {
    let root = tempfile::tempdir().unwrap();
    let moto = root.path().join("refusing-moto.py");
    write_exe(&moto, REFUSING_MOTO);
    let offset = free_offset();
    let child = Command::new(BIN)
        .arg("up")
        .arg("--project-root")
        .arg(root.path())
        .args(["--port-offset", &offset.to_string(), "--profile", "ecom"])
        .env("NO_COLOR", "1")
        .env("HIPPODROME_MOTO_SERVER", &moto)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stack = Stack {
        root,
        offset,
        child: Some(child),
    };
    let deadline = Instant::now() + patience();
    let seed = loop {
        let s = get_json(&stack.url("/api/stack")).unwrap_or(Value::Null);
        if s["seed"]["state"] == "failed" {
            break s["seed"].clone();
        }
        assert!(Instant::now() < deadline, "the seed did not fail: {s}");
        std::thread::sleep(Duration::from_millis(100));
    };
    // The status detail has one line per failed group, not just the first.
    let detail = seed["detail"].as_str().unwrap();
    assert!(detail.lines().count() >= 2, "{detail}");

    let (code, report, _) = doctor(stack.root(), offset, &["--profile", "ecom"], &[]);
    assert_eq!(code, 1);
    let fail = lines(&report, "seed", "fail");
    assert_eq!(fail.len(), detail.lines().count(), "{fail:#?}");
    let text = fail.join("\n");
    for group in ["moto-tables", "moto-buckets", "moto-queues"] {
        assert!(
            text.contains(&format!("the seed failed: {group}: ")),
            "{group} missing: {text}"
        );
    }
    assert!(
        text.contains("orchestrator -- seed") && text.contains("#seed-failed"),
        "{text}"
    );
    // The services themselves are fine: the seed is what doctor fails on.
    assert!(
        lines(&report, "stack", "ok")
            .join("")
            .contains("moto is running"),
        "{report}"
    );
}

#[test]
fn stop_and_kill_without_a_stack_name_this_projects_dashboard_url() {
    let root = tempfile::tempdir().unwrap();
    let offset = free_offset();
    let url = format!("http://127.0.0.1:{}", offset + 9000);
    let run = |cmd: &str, offset_arg: Option<u16>| {
        let mut c = Command::new(BIN);
        c.arg(cmd).arg("--project-root").arg(root.path());
        if let Some(o) = offset_arg {
            c.args(["--port-offset", &o.to_string()]);
        }
        let out = c
            .env("NO_COLOR", "1")
            .env_remove("HIPPODROME_PORT_OFFSET")
            .output()
            .unwrap();
        let text = combined(&out);
        (out.status.code(), text)
    };

    // No run.json: the offset given.
    let (code, text) = run("stop", Some(offset));
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("no Hippodrome stack is running") && text.contains(&url),
        "{text}"
    );
    let (code, text) = run("kill", Some(offset));
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("no Hippodrome stack was running")
            && text.contains(&format!("its dashboard would be {url}")),
        "{text}"
    );

    // A run.json left by a crashed stack: its offset, although none is given.
    let mut gone = Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    let write_run = || {
        std::fs::create_dir_all(root.path().join(".hippodrome")).unwrap();
        let run = serde_json::json!({
            "orchestrator_pid": pid, "started_at_ms": 0, "project_root": root.path(),
            "port_offset": offset, "dashboard_port": offset + 9000, "detached": false, "services": {}
        });
        std::fs::write(root.path().join(".hippodrome/run.json"), run.to_string()).unwrap();
    };
    write_run();
    let (code, text) = run("stop", None);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(&format!("(dashboard {url})"))
            && text.contains(&format!("orchestrator (pid {pid}) is gone")),
        "{text}"
    );
    assert!(!text.contains("127.0.0.1:9000)"), "{text}");
    assert!(!root.path().join(".hippodrome/run.json").exists());
    write_run();
    let (code, text) = run("kill", None);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(&format!("its dashboard would be {url}"))
            && text.contains("removed the stale .hippodrome/run.json"),
        "{text}"
    );
}
