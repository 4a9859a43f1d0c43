//! AWS mode against moto: `setup` with an injected public URL creates the connection, API
//! destination, rule and target; `validate` sees them (and the tables' pipes); `teardown`
//! removes them.

use webhook_router::aws_mode::{
    self, AwsModeConfig, AwsModeError, Check, CheckStatus, TunnelSource,
};

use crate::support::{Moto, unique_prefix};

fn find<'a>(checks: &'a [Check], item_part: &str) -> Vec<&'a Check> {
    checks
        .iter()
        .filter(|c| c.item.contains(item_part))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_validate_teardown_against_moto() {
    let moto = Moto::start().await;
    let sdk = moto.sdk().await;
    let prefix = unique_prefix("aws");

    // Nothing exists yet: rules, destinations and pipes are missing.
    let before = aws_mode::validate(&sdk, &prefix).await;
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
    let handle = aws_mode::setup(cfg).await.expect("setup against moto");
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
        let arn = crate::support::create_streamed_table(&ddb, &format!("{prefix}{suffix}")).await;
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

    let after = aws_mode::validate(&sdk, &prefix).await;
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
    let gone = aws_mode::validate(&sdk, &prefix).await;
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
    if aws_mode::find_on_path("cloudflared").is_some() {
        eprintln!("cloudflared is installed here; the missing-binary message is not testable");
        return;
    }
    let sdk = webhook_router::aws_mode::moto_sdk_config("http://127.0.0.1:9", "us-east-1").await;
    let err = aws_mode::setup(AwsModeConfig::new(sdk, 9009, "dev-local-"))
        .await
        .expect_err("no cloudflared");
    assert!(matches!(err, AwsModeError::CloudflaredMissing { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("cloudflared") && msg.contains("install"),
        "{msg}"
    );
}
