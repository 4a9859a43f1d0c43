//! `[[seed.hooks]]` against the real binary and a real seed (fake_cell + fake_cognito, no moto):
//! hooks see the manifest's variables, a failing non-blocking hook is reported with its exit code
//! and output tail while the stack stays up, a hook past its timeout is killed with its process
//! group, `orchestrator seed` runs them again, and a failing blocking hook fails `up` and frees
//! every port.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::harness::*;

const SEEDED: &[&str] = &[
    "--profile",
    "core",
    "--only",
    "fake_cell,fake_cognito",
    "--seed-accounts",
    "1",
    "--seed-docs-per-index",
    "3",
];

fn env_lines(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn wait_ready(stack: &mut Stack) -> Value {
    let deadline = std::time::Instant::now() + patience();
    loop {
        if let Some(v) = get_json(&stack.url("/api/stack"))
            && v["ready"] == true
        {
            return v;
        }
        if let Some(c) = stack.child.as_mut()
            && let Ok(Some(code)) = c.try_wait()
        {
            panic!("up exited ({code}) before ready\n{}", stack.output());
        }
        if std::time::Instant::now() > deadline {
            panic!("stack not ready in time\n{}", stack.output());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

fn hook<'a>(seed: &'a Value, name: &str) -> &'a Value {
    seed["hooks"]
        .as_array()
        .and_then(|hs| hs.iter().find(|h| h["name"] == name))
        .unwrap_or_else(|| panic!("no hook {name} in {seed}"))
}

#[test]
fn hooks_get_the_manifest_env_failures_are_reported_and_rerun_with_seed() {
    let out = tempfile::tempdir().unwrap();
    let o = out.path().display();
    let toml = format!(
        r#"
[[seed.hooks]]
name = "dump-env"
command = ["sh", "-c", "env > \"$OUT/hook.env\"; echo wrote the env"]
env = {{ OUT = "{o}" }}

[[seed.hooks]]
name = "broken"
command = ["sh", "-c", "echo about to fail; echo oops >&2; exit 7"]

[[seed.hooks]]
name = "slow"
timeout_s = 1
command = ["sh", "-c", "sleep 60 & echo $! > \"{o}/sleeper\"; wait"]

[[seed.hooks]]
name = "after"
command = ["sh", "-c", "echo ran >> \"{o}/after\""]
"#
    );
    let mut stack = Stack::up(Some(&toml), SEEDED);
    let ready = wait_ready(&mut stack);
    assert_eq!(ready["seed"]["state"], "done", "{ready}");

    // The hook saw exactly the variables of .env.e2e (plus its own).
    let env_e2e = std::fs::read_to_string(stack.root().join(".hippodrome/.env.e2e")).unwrap();
    let expected = env_lines(&env_e2e);
    assert!(
        expected.contains_key("HIPPODROME_COGNITO_POOL_ID"),
        "{env_e2e}"
    );
    let seen = env_lines(&std::fs::read_to_string(out.path().join("hook.env")).unwrap());
    for (k, v) in &expected {
        assert_eq!(seen.get(k), Some(v), "hook env lacks {k}={v}");
    }
    assert_eq!(seen["HIPPODROME_SEED_HOOK"], "dump-env");
    assert!(
        Path::new(&seen["HIPPODROME_ENV_FILE"]).ends_with(".hippodrome/.env.e2e"),
        "{}",
        seen["HIPPODROME_ENV_FILE"]
    );

    // /api/seed reports every hook; the failure has its exit code and output tail.
    let seed = get_json(&stack.url("/api/seed")).unwrap();
    assert_eq!(hook(&seed, "dump-env")["state"], "ok");
    assert_eq!(hook(&seed, "dump-env")["exit_code"], 0);
    let broken = hook(&seed, "broken");
    assert_eq!(broken["state"], "failed", "{broken}");
    assert_eq!(broken["exit_code"], 7, "{broken}");
    let tail: Vec<&str> = broken["tail"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        tail.contains(&"about to fail") && tail.contains(&"oops"),
        "{broken}"
    );
    // The timed-out hook was killed with its whole group, and the next hook still ran.
    let slow = hook(&seed, "slow");
    assert_eq!(slow["state"], "timed-out", "{slow}");
    let sleeper: u32 = std::fs::read_to_string(out.path().join("sleeper"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    eventually("the timed-out hook's child is gone", || !pid_alive(sleeper));
    assert_eq!(hook(&seed, "after")["state"], "ok");

    // The stack stayed up.
    let status = stack.status().unwrap();
    assert_eq!(status["fake_cell"]["status"], "running", "{status}");
    assert!(stack.child.as_mut().unwrap().try_wait().unwrap().is_none());

    // `orchestrator seed` runs the hooks again (they append, so a second line proves it).
    std::fs::remove_file(out.path().join("hook.env")).unwrap();
    let rerun = stack.cmd(&["seed"]);
    let text = String::from_utf8_lossy(&rerun.stdout);
    assert!(
        rerun.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    assert!(
        text.contains("hook broken failed with exit code 7"),
        "{text}"
    );
    // It plans what `up` planned (`--seed-accounts 1`): nothing new in the cell. With the default
    // sizes it created other accounts, and an index name of `up`'s plan could fall to one of them
    // (a 403 "belongs to another account", depending on the stack's random seed).
    for group in ["cell-accounts", "cell-indexes", "cognito"] {
        assert!(
            text.contains(&format!("ready: {group} (0 created")),
            "{text}"
        );
    }
    assert!(out.path().join("hook.env").exists());
    let after = std::fs::read_to_string(out.path().join("after")).unwrap();
    assert_eq!(after.lines().count(), 2, "{after}");
}

#[test]
fn a_failing_blocking_hook_fails_up_and_frees_every_port() {
    let out = tempfile::tempdir().unwrap();
    let o = out.path().display();
    let toml = format!(
        r#"
[[seed.hooks]]
name = "must-pass"
blocking = true
command = ["sh", "-c", "echo cannot load fixtures; exit 4"]

[[seed.hooks]]
name = "never"
command = ["sh", "-c", "touch \"{o}/never\""]
"#
    );
    let mut stack = Stack::up(Some(&toml), SEEDED);
    let code = wait_exit(stack.child.as_mut().unwrap(), patience());
    let output = stack.output();
    assert_eq!(code, Some(1), "{output}");
    assert!(
        output.contains("blocking seed hook must-pass failed with exit code 4"),
        "{output}"
    );
    assert!(output.contains("cannot load fixtures"), "{output}");
    assert!(
        !out.path().join("never").exists(),
        "a hook after the failure ran"
    );
    for base in [9000, 9001, 9006] {
        let port = stack.port(base);
        eventually(&format!("port {port} free"), || port_free(port));
    }
    assert!(!stack.root().join(".hippodrome/run.json").exists());
}
