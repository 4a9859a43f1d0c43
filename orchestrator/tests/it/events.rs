//! AWS mode against moto: `setup` with an injected public URL creates the connection, API
//! destination, rule and target; `validate` sees them (and the tables' pipes); `teardown`
//! removes them. Through the binary, with a stand-in `cloudflared` on PATH: `up --enable-events`
//! records the tunnel in run.json so `kill` stops it, and a stop tears the tunnel's group down.

use std::path::PathBuf;

use orchestrator::events::{self, AwsModeConfig, AwsModeError, Check, CheckStatus, TunnelSource};
use orchestrator::process::preflight;
use test_support::Moto;

use crate::harness::*;

/// A unique table prefix per test, so tests sharing nothing still never collide.
fn unique_prefix(tag: &str) -> String {
    format!("t{}-{tag}-", std::process::id())
}

async fn moto_sdk(moto: &Moto) -> aws_config::SdkConfig {
    events::sdk_config(Some(&moto.url), "us-east-1").await
}

/// The seed's fixture table `<prefix><suffix>` (a streamed one), created in moto; returns its
/// stream ARN.
async fn create_streamed_table(
    ddb: &aws_sdk_dynamodb::Client,
    prefix: &str,
    suffix: &str,
) -> String {
    let def = seed::fixtures::get()
        .unwrap()
        .tables
        .iter()
        .find(|t| t.base_name() == suffix)
        .expect("a fixture table")
        .clone();
    seed::moto::tables::ensure(ddb, &[def], prefix)
        .await
        .expect("CreateTable");
    let table = ddb
        .describe_table()
        .table_name(format!("{prefix}{suffix}"))
        .send()
        .await
        .expect("DescribeTable");
    table
        .table()
        .and_then(|t| t.latest_stream_arn())
        .expect("stream ARN")
        .to_owned()
}

fn find<'a>(checks: &'a [Check], item_part: &str) -> Vec<&'a Check> {
    checks
        .iter()
        .filter(|c| c.item.contains(item_part))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_validate_teardown_against_moto() {
    let moto = Moto::require().await;
    let sdk = moto_sdk(&moto).await;
    let prefix = unique_prefix("aws");

    // Nothing exists yet: rules, destinations and pipes are missing.
    let before = events::validate(&sdk, &prefix).await;
    let text: Vec<String> = before.iter().map(ToString::to_string).collect();
    assert!(
        text.iter()
            .any(|l| l.starts_with("[MISSING] rule for EcomIndexSettings.*")),
        "{text:#?}"
    );
    assert!(
        text.iter().any(|l| l.starts_with("[MISSING] pipe from ")),
        "{text:#?}"
    );
    assert!(
        text.iter().any(|l| l.starts_with("[OK] event bus default")),
        "{text:#?}"
    );

    let mut cfg = AwsModeConfig::new(sdk.clone(), 9009, &prefix);
    cfg.tunnel = TunnelSource::PublicUrl("https://example-tunnel.trycloudflare.com/".into());
    let handle = events::setup(cfg).await.expect("setup against moto");
    assert_eq!(
        handle.endpoint,
        "https://example-tunnel.trycloudflare.com/webhook/eventbridge"
    );
    assert!(handle.api_destination_arn.contains(":api-destination/"));
    assert!(!handle.connection_arn.is_empty());

    // What setup created, as EventBridge reports it.
    let eb = aws_sdk_eventbridge::Client::new(&sdk);
    let rule = eb
        .describe_rule()
        .name(handle.rule_name())
        .send()
        .await
        .expect("DescribeRule");
    let pattern: serde_json::Value =
        serde_json::from_str(rule.event_pattern().unwrap_or("{}")).unwrap();
    assert_eq!(
        pattern["detail-type"],
        serde_json::json!([{"prefix": "EcomIndexSettings."}, {"prefix": "Merchandising."}])
    );
    let targets = eb
        .list_targets_by_rule()
        .rule(handle.rule_name())
        .send()
        .await
        .unwrap();
    assert_eq!(targets.targets()[0].arn(), handle.api_destination_arn);

    // Tables with streams and pipes reading them.
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let pipes = aws_sdk_pipes::Client::new(&sdk);
    for (suffix, name) in [
        ("EcomIndexSettingsTable", "settings"),
        ("MerchandisingTable", "merch"),
    ] {
        let arn = create_streamed_table(&ddb, &prefix, suffix).await;
        pipes
            .create_pipe()
            .name(format!("{prefix}{name}-pipe"))
            .role_arn("arn:aws:iam::123456789012:role/pipe")
            .source(arn)
            .target(&handle.api_destination_arn)
            .send()
            .await
            .expect("CreatePipe");
    }

    let after = events::validate(&sdk, &prefix).await;
    let text: Vec<String> = after.iter().map(ToString::to_string).collect();
    eprintln!("{}", text.join("\n"));
    for c in find(&after, "rule ") {
        assert_eq!(c.status, CheckStatus::Ok, "{text:#?}");
    }
    assert_eq!(find(&after, "rule ").len(), 2, "{text:#?}");
    let dests = find(&after, "API destination");
    assert!(
        !dests.is_empty() && dests.iter().all(|c| c.status == CheckStatus::Ok),
        "{text:#?}"
    );
    assert!(!find(&after, "connection ").is_empty(), "{text:#?}");
    let pipe_checks = find(&after, "pipe ");
    assert_eq!(pipe_checks.len(), 2, "{text:#?}");
    // moto leaves new pipes in CREATING: present, but not RUNNING → WARN rather than MISSING.
    assert!(
        pipe_checks.iter().all(|c| c.status != CheckStatus::Missing),
        "{text:#?}"
    );
    assert!(
        find(&after, "stream")
            .iter()
            .all(|c| c.status == CheckStatus::Ok),
        "{text:#?}"
    );

    handle.teardown().await.expect("teardown");
    let gone = events::validate(&sdk, &prefix).await;
    let text: Vec<String> = gone.iter().map(ToString::to_string).collect();
    assert!(
        text.iter()
            .any(|l| l.starts_with("[MISSING] rule for Merchandising.*")),
        "{text:#?}"
    );
    let conns = eb.list_connections().send().await.unwrap();
    assert!(conns.connections().is_empty(), "connection removed");
}

#[tokio::test]
async fn without_cloudflared_setup_says_how_to_install_it() {
    if preflight::which("cloudflared").is_some() {
        eprintln!("cloudflared is installed here; the missing-binary message is not testable");
        return;
    }
    let sdk = events::sdk_config(Some("http://127.0.0.1:9"), "us-east-1").await;
    let err = events::setup(AwsModeConfig::new(sdk, 9009, "dev-local-"))
        .await
        .expect_err("no cloudflared");
    assert!(matches!(err, AwsModeError::CloudflaredMissing { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("cloudflared") && msg.contains("install"),
        "{msg}"
    );
}

/// A stand-in `cloudflared` on PATH: it prints a quick-tunnel URL as the real one does and keeps
/// a grandchild (whose pid it writes down) in its process group until killed.
struct FakeCloudflared {
    dir: tempfile::TempDir,
}

impl FakeCloudflared {
    fn new() -> Self {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let script = format!(
            "#!/bin/sh\nsleep 1000 &\necho $! > '{}'\n\
             echo 'INF |  https://fake-tunnel.trycloudflare.com  |' >&2\nwait\n",
            dir.path().join("grandchild.pid").display()
        );
        let program = dir.path().join("cloudflared");
        std::fs::write(&program, script).unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        FakeCloudflared { dir }
    }

    /// `up --enable-events` (plus `extra`) of a stack that is ready at once, with PATH finding
    /// the stand-in and AWS mode pointed at `moto`.
    fn up(&self, moto: &Moto, extra: &[&str]) -> Stack {
        let mut args = vec!["--profile", "core", "--no-seed", "--only", "worker"];
        args.push("--enable-events");
        args.extend(extra);
        Stack::up_with_env(Some(WORKER), &args, &self.env(moto))
    }

    fn env(&self, moto: &Moto) -> Vec<(&'static str, String)> {
        let mut path = vec![self.dir.path().to_path_buf()];
        path.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        let path = std::env::join_paths(path).unwrap();
        vec![
            ("PATH", path.to_string_lossy().into_owned()),
            ("HIPPODROME_EVENTS_ENDPOINT_URL", moto.url.clone()),
        ]
    }

    /// The grandchild's pid, once the stand-in has started.
    fn grandchild(&self) -> u32 {
        let file = self.dir.path().join("grandchild.pid");
        let read = || std::fs::read_to_string(&file).ok()?.trim().parse().ok();
        eventually("the stand-in cloudflared started", || read().is_some());
        read().unwrap()
    }
}

/// One service that needs nothing, so `up` is ready at once and AWS mode follows.
const WORKER: &str = "[[services]]\nname = \"worker\"\ncommand = [\"sleep\", \"1000\"]\n";

/// The tunnel's process group as recorded in run.json, once it is there.
fn recorded_tunnel(root: &std::path::Path) -> u32 {
    let run_file: PathBuf = root.join(".hippodrome/run.json");
    let read = || -> Option<u32> {
        let run: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&run_file).ok()?).ok()?;
        let entry = &run["services"]["cloudflared"];
        let pgid = entry["pgid"].as_u64()? as u32;
        (entry["pid"].as_u64() == Some(u64::from(pgid))).then_some(pgid)
    };
    eventually("cloudflared recorded in run.json", || read().is_some());
    read().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_stops_the_tunnel_of_a_detached_stack_through_run_json() {
    let moto = Moto::require().await;
    let fake = FakeCloudflared::new();
    let mut stack = fake.up(&moto, &["--detach"]);
    let code = wait_exit(stack.child.as_mut().unwrap(), patience());
    assert_eq!(code, Some(0), "up --detach: {}", stack.output());
    let tunnel = recorded_tunnel(stack.root());
    let grandchild = fake.grandchild();
    assert!(pid_alive(tunnel) && pid_alive(grandchild));
    // Detached, the tunnel has no parent-death signal: only its run.json entry lets `kill` find it.
    let out = stack.cmd(&["kill"]);
    let text = combined(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!("killed cloudflared (process group {tunnel})")),
        "{text}"
    );
    eventually("the tunnel and its grandchild gone", || {
        !pid_alive(tunnel) && !pid_alive(grandchild)
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_stack_tears_down_the_tunnel_group_and_the_resources() {
    let moto = Moto::require().await;
    let fake = FakeCloudflared::new();
    let mut stack = fake.up(&moto, &[]);
    let tunnel = recorded_tunnel(stack.root());
    let grandchild = fake.grandchild();
    let out = stack.cmd(&["stop"]);
    assert!(out.status.success(), "{}", combined(&out));
    assert_eq!(
        wait_exit(stack.child.as_mut().unwrap(), patience()),
        Some(0)
    );
    let text = stack.output();
    assert!(
        text.contains("events: EventBridge delivers to https://fake-tunnel.trycloudflare.com/webhook/eventbridge"),
        "{text}"
    );
    assert!(
        text.contains("events: removed the EventBridge connection"),
        "{text}"
    );
    // The grandchild has no parent-death signal of its own: only a kill of the group reaches it.
    eventually("the tunnel and its grandchild gone", || {
        !pid_alive(tunnel) && !pid_alive(grandchild)
    });
    let eb = aws_sdk_eventbridge::Client::new(&moto_sdk(&moto).await);
    let conns = eb.list_connections().send().await.unwrap();
    assert!(conns.connections().is_empty(), "connection removed");
}
