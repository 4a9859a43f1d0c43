//! The smoke suite: bring up a whole stack (real moto included) at a free port offset, then check
//! every service through its real protocol with the seeded data — the same checks
//! `orchestrator smoke` runs against a user's stack.

use tests::Stack;

#[tokio::test(flavor = "multi_thread")]
async fn a_fresh_stack_passes_every_smoke_check_and_seeds_deterministically() {
    let stack = Stack::up(4242, &["--profile", "full"]).expect("stack up");
    let checks = orchestrator::smoke::run(&stack.dashboard_url()).await;
    let names: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
    for expected in [
        "dashboard",
        "seed manifest",
        "moto dynamodb",
        "fake_cell indexes",
        "fake_cognito login",
        "webhook_router routes",
    ] {
        assert!(
            names.contains(&expected),
            "check {expected} did not run: {names:?}"
        );
    }
    let failed: Vec<String> = checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| c.to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "smoke checks failed:\n{}",
        failed.join("\n")
    );

    // The CLI form prints one line per check and exits 0.
    let out = stack.cmd(&["smoke"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("fake_cognito login") && text.contains("0 failed"),
        "{text}"
    );

    // Seeding again with the same seed is a no-op and writes a byte-identical manifest.
    let before = std::fs::read(stack.root.path().join(".hippodrome/seed.json")).unwrap();
    let out = stack.cmd(&["seed"]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let after = std::fs::read(stack.root.path().join(".hippodrome/seed.json")).unwrap();
    assert!(
        before == after,
        "a second seed with the same number changed the manifest"
    );
    let m = stack.manifest().unwrap();
    assert_eq!(m["seed"], 4242);

    // `events validate` against the stack's moto, where no EventBridge resources were created:
    // every item is reported and the exit code says something is missing.
    let moto = m["services"]["moto_url"].as_str().unwrap().to_owned();
    let out = stack.cmd(&[
        "events",
        "validate",
        "--table-prefix",
        "smoke-",
        "--endpoint-url",
        &moto,
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("[MISSING]"), "{text}");

    // `wait` agrees the stack is ready.
    let out = stack.cmd(&["wait", "--timeout", "10"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Issue 7: the same seed gives a byte-identical manifest on a *fresh* stack too — ids the
/// services assign (Cognito pool, client ids, subs; index endpoints) included — and a different
/// seed gives different ids.
#[tokio::test(flavor = "multi_thread")]
async fn fresh_stacks_with_the_same_seed_write_identical_manifests() {
    let offset = tests::free_offset();
    let run = |seed: u64| {
        let root = tempfile::tempdir().unwrap();
        let out = std::process::Command::new(tests::orchestrator_bin())
            .args([
                "up",
                "--detach",
                "--profile",
                "core",
                "--table-prefix",
                "det-",
                "--port-offset",
                &offset.to_string(),
                "--project-root",
            ])
            .arg(root.path())
            .env("HIPPODROME_RANDOM_SEED", seed.to_string())
            .output()
            .unwrap();
        let manifest = std::fs::read(root.path().join(".hippodrome/seed.json"));
        let stop = std::process::Command::new(tests::orchestrator_bin())
            .arg("stop")
            .arg("--project-root")
            .arg(root.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stop.status.success());
        manifest.unwrap()
    };
    let (a, b, c) = (run(2024), run(2024), run(2025));
    assert!(
        a == b,
        "two fresh stacks seeded with 2024 wrote different manifests"
    );
    let (a, c): (serde_json::Value, serde_json::Value) = (
        serde_json::from_slice(&a).unwrap(),
        serde_json::from_slice(&c).unwrap(),
    );
    assert_ne!(
        a["accounts"][0]["account_id"],
        c["accounts"][0]["account_id"]
    );
    assert_ne!(
        a["cognito"]["users"][0]["username"],
        c["cognito"]["users"][0]["username"]
    );
}
