//! Everything the seed creates in moto, with the official AWS SDK for Rust: tables (then their
//! records), buckets, queues, topics, secrets and state machines, as concurrent groups that each
//! report `ready:` or `failed:`.

pub mod asl;
pub mod buckets;
pub mod functions;
pub mod queues;
pub mod records;
pub mod secrets;
pub mod state_machines;
pub mod tables;
pub mod topics;

use std::time::Duration;

use aws_config::SdkConfig;

use crate::fixtures::Fixtures;
use crate::manifest::Manifest;
use crate::{GroupReport, Progress, SeedConfig, SeedError, timed};

/// The SDK pointed at moto (or the gateway in front of it). Seeding a large table is many calls,
/// each may take a while under load, so an attempt gets 30 s.
pub fn sdk_config(endpoint: &str, region: &str) -> SdkConfig {
    aws_local::sdk_config_now(endpoint, region, Duration::from_secs(30))
}

/// SDK errors nest their cause (the service's message, or the refused connection); every seed
/// message shows the whole chain.
pub use service_kit::error::error_chain as describe;

/// What moto assigned, in manifest order.
#[derive(Default)]
pub struct Assigned {
    pub queue_urls: Option<Vec<String>>,
    pub topic_arns: Option<Vec<String>>,
    pub state_machine_arns: Option<Vec<String>>,
    /// The team's `[[state_machines]]`, after the fixtures' own.
    pub team_state_machines: Vec<crate::manifest::Named>,
    pub functions: Vec<crate::manifest::Named>,
}

/// Create every moto resource group concurrently (the records wait for their tables).
pub async fn seed(
    cfg: &SeedConfig,
    url: &str,
    f: &Fixtures,
    plan: &Manifest,
    progress: &Progress<'_>,
) -> (Vec<GroupReport>, Assigned) {
    let sdk = sdk_config(url, &cfg.region);
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let sns = aws_sdk_sns::Client::new(&sdk);
    let sm = aws_sdk_secretsmanager::Client::new(&sdk);
    let sfn = aws_sdk_sfn::Client::new(&sdk);

    let prefix = cfg.table_prefix.as_str();
    let fill = |s: &str| {
        s.replace("{prefix}", prefix)
            .replace("{bucket_prefix}", &crate::plan::bucket_prefix(prefix))
            .replace("{encryption_secret}", &cfg.encryption_secret)
    };

    let tables_then_records = async {
        let tables = timed("moto-tables", progress, async {
            tables::ensure(&ddb, &f.tables, prefix)
                .await
                .map(|t| (t, ()))
        })
        .await;
        let records = if tables.1.is_some() {
            timed("moto-records", progress, async {
                let users = &plan.cognito.users;
                let items = records::items(f, &plan.accounts, users, &cfg.cell_name, plan.seed)
                    .into_iter()
                    .map(|(base, items)| (format!("{prefix}{base}"), items))
                    .collect();
                records::upload(&ddb, items).await.map(|t| (t, ()))
            })
            .await
            .0
        } else {
            let e = SeedError::new(
                "moto-records",
                "tables",
                "skipped: the tables failed".into(),
            );
            progress.failed(&e);
            GroupReport::failed("moto-records", e, Duration::ZERO)
        };
        vec![tables.0, records]
    };
    let buckets = timed("moto-buckets", progress, async {
        buckets::ensure(&s3, &plan.moto.buckets, &cfg.region)
            .await
            .map(|t| (t, ()))
    });
    let queue_defs: Vec<_> = f
        .moto
        .queues
        .iter()
        .map(|q| crate::fixtures::QueueDef {
            name: fill(&q.name),
            attributes: q.attributes.clone(),
        })
        .collect();
    let queues = timed("moto-queues", progress, queues::ensure(&sqs, &queue_defs));
    let topic_names: Vec<String> = plan.moto.topics.iter().map(|t| t.name.clone()).collect();
    let topics = timed("moto-topics", progress, topics::ensure(&sns, &topic_names));
    let secret_defs: Vec<secrets::Wanted> = f
        .moto
        .secrets
        .iter()
        .map(|s| secrets::Wanted {
            name: fill(&s.name),
            value: fill(&s.value),
            description: s.description.clone(),
        })
        .collect();
    let secrets = timed("moto-secrets", progress, async {
        secrets::ensure(&sm, &secret_defs).await.map(|t| (t, ()))
    });
    let machines = machines_group(cfg, url, f, &sfn, &fill, progress);
    let functions = functions_group(cfg, &sdk, progress);
    let (mut reports, b, q, t, s, m, fns) = tokio::join!(
        tables_then_records,
        buckets,
        queues,
        topics,
        secrets,
        machines,
        functions
    );
    reports.extend([b.0, q.0, t.0, s.0, m.0]);
    reports.extend(fns.0);
    let (state_machine_arns, team_state_machines) = split_team_machines(cfg, f, m.1);
    let functions = cfg
        .lambdas
        .iter()
        .map(|l| &l.name)
        .zip(fns.1.unwrap_or_default());
    (
        reports,
        Assigned {
            queue_urls: q.1,
            topic_arns: t.1,
            state_machine_arns,
            team_state_machines,
            functions: functions.map(named).collect(),
        },
    )
}

fn named((name, arn): (&String, String)) -> crate::manifest::Named {
    crate::manifest::Named {
        name: name.clone(),
        arn: Some(arn),
    }
}

/// The fixtures' state machines, then the team's `[[state_machines]]` (read from their files,
/// placeholders filled), with moto's execution engine turned on first: machines live in the
/// engine's own backend, so one created before would not run.
async fn machines_group(
    cfg: &SeedConfig,
    url: &str,
    f: &Fixtures,
    sfn: &aws_sdk_sfn::Client,
    fill: &impl Fn(&str) -> String,
    progress: &Progress<'_>,
) -> (GroupReport, Option<Vec<String>>) {
    let lambdas: Vec<String> = cfg.lambdas.iter().map(|l| l.name.clone()).collect();
    let ctx = asl::Context {
        region: &cfg.region,
        table_prefix: &cfg.table_prefix,
        lambdas: &lambdas,
    };
    let fixture = f
        .moto
        .state_machines
        .iter()
        .map(|m| state_machines::Wanted {
            name: fill(&m.name),
            role_arn: fill(&m.role_arn),
            definition: m.definition.to_string(),
        });
    timed("moto-state-machines", progress, async {
        let mut defs: Vec<_> = fixture.collect();
        for m in &cfg.state_machines {
            defs.push(m.load(&ctx)?);
        }
        state_machines::enable_execution(url).await?;
        state_machines::ensure(sfn, &defs).await
    })
    .await
}

/// The `[[lambdas]]` functions; no group at all when none are declared.
async fn functions_group(
    cfg: &SeedConfig,
    sdk: &SdkConfig,
    progress: &Progress<'_>,
) -> (Option<GroupReport>, Option<Vec<String>>) {
    if cfg.lambdas.is_empty() {
        return (None, None);
    }
    let iam = aws_sdk_iam::Client::new(sdk);
    let lambda = aws_sdk_lambda::Client::new(sdk);
    let (report, arns) = timed(
        "moto-functions",
        progress,
        functions::ensure(&iam, &lambda, &cfg.lambdas),
    )
    .await;
    (Some(report), arns)
}

/// The state machine group's ARNs split into the fixtures' (matched to the manifest by position)
/// and the team's (named here, appended to the manifest).
fn split_team_machines(
    cfg: &SeedConfig,
    f: &Fixtures,
    arns: Option<Vec<String>>,
) -> (Option<Vec<String>>, Vec<crate::manifest::Named>) {
    let Some(mut arns) = arns else {
        return (None, Vec::new());
    };
    let team = arns.split_off(f.moto.state_machines.len().min(arns.len()));
    let team = cfg.state_machines.iter().map(|m| &m.name).zip(team);
    (Some(arns), team.map(named).collect())
}
