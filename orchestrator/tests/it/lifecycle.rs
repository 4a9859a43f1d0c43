//! Issue 3's lifecycle against fixture services declared in a temp `hippodrome.toml`: layering and
//! health gating, env injection, skip reasons, crash-looping, auto-restart, `stop` and `kill` from
//! another process, port conflicts, cells and bad configuration.

use std::time::Duration;

use nix::sys::signal::Signal;

use crate::harness::*;

fn py(args: &str) -> String {
    format!(
        r#"["python3", "{}", "{{port}}", {args}]"#,
        fixture("service.py").display()
    )
}

#[test]
fn layers_env_skips_crash_loop_restart_and_stop() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let toml = format!(
        r#"
[[services]]
name = "slow"
port = 9050
layer = 1
health_url = "/health"
command = {slow}
env = {{ MY_PREFIX = "{{table_prefix}}", MY_CELL = "{{cell_url}}" }}

[[services]]
name = "late"
port = 9051
layer = 2
health_url = "/health"
command = {late}

[[services]]
name = "crasher"
port = 9052
layer = 1
blocking = false
command = ["sh", "-c", "echo boom; exit 3"]

[[services]]
name = "nocwd"
port = 9053
cwd = "does-not-exist"
command = ["true"]

[[services]]
name = "noprog"
port = 9054
requires = ["definitely-missing-program-xyz"]
command = ["true"]

[[services]]
name = "worker"
layer = 3
command = ["sleep", "1000"]
"#,
        slow = py(&format!(
            r#""--delay", "0.7", "--stamp", "{d}/slow", "--env-out", "{d}/slow.env""#
        )),
        late = py(&format!(r#""--stamp", "{d}/late""#)),
    );
    let mut stack = Stack::up(
        Some(&toml),
        &[
            "--profile",
            "core",
            "--no-seed",
            "--health-interval-ms",
            "300",
        ],
    );
    let status = stack.wait_status("late and worker running, crasher crash-looping", |v| {
        v["late"]["status"] == "running"
            && v["worker"]["status"] == "running"
            && v["crasher"]["status"] == "crash-looping"
    });

    // Layering: `late` (layer 2) started only after `slow` (layer 1) was healthy.
    let slow = std::fs::read_to_string(dir.path().join("slow")).unwrap();
    let late = std::fs::read_to_string(dir.path().join("late")).unwrap();
    let t = |text: &str, key: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    assert!(
        t(&late, "start ") >= t(&slow, "ready "),
        "late started before slow was ready:\n{slow}\n{late}"
    );
    assert_eq!(status["slow"]["layer"], 1);
    assert_eq!(status["late"]["layer"], 2);

    // Crash-looping keeps its exit code and log tail; the rest of the stack is fine.
    assert_eq!(status["crasher"]["last_exit_code"], 3);
    assert!(
        status["crasher"]["reason"]
            .as_str()
            .unwrap()
            .contains("boom"),
        "{}",
        status["crasher"]
    );
    assert_eq!(status["fake_cell"]["status"], "running");

    // Skip reasons.
    assert_eq!(status["nocwd"]["status"], "skipped");
    assert!(
        status["nocwd"]["reason"]
            .as_str()
            .unwrap()
            .contains("does not exist")
    );
    assert_eq!(status["noprog"]["status"], "skipped");
    assert!(
        status["noprog"]["reason"]
            .as_str()
            .unwrap()
            .contains("definitely-missing-program-xyz")
    );

    // Env injection and templates; the temp root is not a git checkout, so the prefix is dev-local-.
    let env: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("slow.env")).unwrap())
            .unwrap();
    assert_eq!(env["MY_PREFIX"], "dev-local-");
    assert_eq!(
        env["MY_CELL"],
        format!("http://127.0.0.1:{}", stack.port(9001))
    );
    assert_eq!(env["AWS_ACCESS_KEY_ID"], "testing");
    assert_eq!(
        env["AWS_ENDPOINT_URL"],
        format!("http://127.0.0.1:{}", stack.port(9003))
    );
    assert_eq!(env["PORT"], stack.port(9050).to_string());
    assert_eq!(
        env["ECOM_INDEX_SETTINGS_TABLE"],
        "dev-local-EcomIndexSettingsTable"
    );
    assert!(env["DATA_PLANE_CELLS"].as_str().unwrap().contains("local"));

    // Auto-restart after a kill.
    let old_pid = status["slow"]["pid"].as_u64().unwrap() as i32;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(old_pid), Signal::SIGKILL).unwrap();
    let v = stack.wait_status("slow restarted", |v| {
        v["slow"]["status"] == "running"
            && v["slow"]["pid"].as_u64() != Some(old_pid as u64)
            && v["slow"]["restarts"].as_u64() >= Some(1)
    });
    assert_eq!(v["slow"]["last_exit_code"], -9);

    // `control restart` through the CLI.
    let before = v["late"]["pid"].clone();
    let out = stack.cmd(&["control", "restart", "late"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stack.wait_status("late restarted", |v| {
        v["late"]["status"] == "running" && v["late"]["pid"] != before
    });

    // `status` prints a table; `stop` from another process stops everything.
    let out = stack.cmd(&["status"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("crash-looping"));
    let pids: Vec<u32> = ["slow", "late", "worker", "fake_cell"]
        .iter()
        .map(|s| v[s]["pid"].as_u64().unwrap_or(0) as u32)
        .collect();
    let out = stack.cmd(&["stop"]);
    assert!(
        out.status.success(),
        "stop: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let code = wait_exit(stack.child.as_mut().unwrap(), patience());
    assert_eq!(code, Some(0));
    for pid in pids.into_iter().filter(|p| *p != 0) {
        eventually(&format!("pid {pid} gone"), || !pid_alive(pid));
    }
}

#[test]
fn stop_kills_a_group_that_ignores_sigterm_and_its_grandchildren() {
    let dir = tempfile::tempdir().unwrap();
    let gc_file = dir.path().join("gc.pid");
    let toml = format!(
        "[[services]]\nname = \"stubborn\"\nport = 9050\nlayer = 0\nhealth_url = \"/health\"\ncommand = {}\n",
        py(&format!(
            r#""--ignore-term", "--grandchild", "{}""#,
            gc_file.display()
        ))
    );
    let mut stack = Stack::up(
        Some(&toml),
        &["--profile", "core", "--no-seed", "--only", "stubborn"],
    );
    let v = stack.wait_status("stubborn running", |v| v["stubborn"]["status"] == "running");
    let pid = v["stubborn"]["pid"].as_u64().unwrap() as u32;
    eventually("grandchild pid written", || {
        std::fs::read_to_string(&gc_file).is_ok_and(|s| !s.is_empty())
    });
    let gc: u32 = std::fs::read_to_string(&gc_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(pid_alive(gc));
    let out = stack.cmd(&["stop"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        wait_exit(stack.child.as_mut().unwrap(), patience()),
        Some(0)
    );
    assert!(!pid_alive(pid), "service survived stop");
    assert!(!pid_alive(gc), "grandchild survived stop");
    let out = stack.output();
    assert!(out.contains("ignored SIGTERM"), "{out}");
}

#[test]
fn kill_cleans_up_after_the_orchestrator_was_killed_outright() {
    let mut stack = Stack::up(None, &["--profile", "core", "--no-seed", "--detach"]);
    let code = wait_exit(stack.child.as_mut().unwrap(), patience());
    assert_eq!(
        code,
        Some(0),
        "up --detach returns once ready: {}",
        stack.output()
    );
    let run: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(stack.root().join(".hippodrome/run.json")).unwrap(),
    )
    .unwrap();
    let orch = run["orchestrator_pid"].as_u64().unwrap() as i32;
    let cell = run["services"]["fake_cell"]["pid"].as_u64().unwrap() as u32;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(orch), Signal::SIGKILL).unwrap();
    eventually("orchestrator gone", || !pid_alive(orch as u32));
    // Detached services do not die with the orchestrator: `kill` must clean them up.
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        pid_alive(cell),
        "detached fake_cell survives the orchestrator"
    );
    let out = stack.cmd(&["kill"]);
    assert!(
        out.status.success(),
        "kill: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eventually("fake_cell gone", || !pid_alive(cell));
    for base in [9000, 9001, 9006, 9009] {
        eventually(&format!("port {base}+offset free"), || {
            port_free(stack.port(base))
        });
    }
}

#[test]
fn services_die_with_the_orchestrator_when_it_is_killed() {
    let mut stack = Stack::up(None, &["--profile", "core", "--no-seed"]);
    let v = stack.wait_status("running", |v| {
        v["fake_cell"]["status"] == "running" && v["webhook_router"]["status"] == "running"
    });
    let pids: Vec<u32> = ["fake_cell", "fake_cognito", "webhook_router"]
        .iter()
        .map(|s| v[s]["pid"].as_u64().unwrap() as u32)
        .collect();
    stack.signal_and_wait(Signal::SIGKILL);
    for pid in pids {
        eventually(&format!("pid {pid} died with its parent"), || {
            !pid_alive(pid)
        });
    }
    // A new `up` works at once after `kill` removes the stale run file.
    let out = stack.cmd(&["kill"]);
    assert!(out.status.success());
}

#[test]
fn a_taken_port_names_its_holder_and_stops_the_stack() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    // The stack's ports shift by its offset, so declare the service at the taken port minus it.
    let root = tempfile::tempdir().unwrap();
    let offset = free_offset();
    let toml = format!(
        "[[services]]\nname = \"victim\"\nport = {}\nlayer = 0\ncommand = [\"sleep\", \"100\"]\n",
        port.checked_sub(offset)
            .expect("test port above the offset")
    );
    std::fs::write(root.path().join("hippodrome.toml"), toml).unwrap();
    let out = std::process::Command::new(BIN)
        .args([
            "up",
            "--profile",
            "core",
            "--no-seed",
            "--port-offset",
            &offset.to_string(),
            "--project-root",
        ])
        .arg(root.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = combined(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("in use by pid {}", std::process::id())),
        "{text}"
    );
    assert!(text.contains("blocking service victim failed"), "{text}");
    drop(holder);
}

#[test]
fn cells_profiles_and_bad_configuration() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(
        root.path().join("hippodrome.toml"),
        "[[services]]\nname = \"x\"\nport = 1\ncommand = [\"true\"]\ncolour = 1\n",
    )
    .unwrap();
    let out = std::process::Command::new(BIN)
        .args(["up", "--project-root"])
        .arg(root.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.contains("hippodrome.toml:5") && err.contains("colour"),
        "{err}"
    );

    // --cell staging skips fake_cell and points services at the configured URL.
    let toml = "[cells.staging]\nurl = \"http://127.0.0.1:1\"\n";
    let mut stack = Stack::up(
        Some(toml),
        &["--profile", "core", "--no-seed", "--cell", "staging"],
    );
    let v = stack.wait_status("router running", |v| {
        v["webhook_router"]["status"] == "running"
    });
    assert_eq!(v["fake_cell"]["status"], "skipped");
    assert!(
        v["fake_cell"]["reason"]
            .as_str()
            .unwrap()
            .contains("staging")
    );
    let stack_info = get_json(&stack.url("/api/stack")).unwrap();
    assert_eq!(stack_info["info"]["cell_url"], "http://127.0.0.1:1");
    stack.signal_and_wait(Signal::SIGTERM);

    // --cell prod without a terminal refuses without --yes.
    std::fs::write(
        root.path().join("hippodrome.toml"),
        "[cells.prod]\nurl = \"http://127.0.0.1:1\"\n",
    )
    .unwrap();
    let out = std::process::Command::new(BIN)
        .args(["up", "--cell", "prod", "--project-root"])
        .arg(root.path())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--yes"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
