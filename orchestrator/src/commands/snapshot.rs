//! `snapshot save|restore|list|delete|diff`: `list` and `delete` read `.hippodrome/snapshots`
//! directly; the others ask the running stack's dashboard (`/api/snapshots`), which reaches the
//! services and keeps its seed manifest in step.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::Value;

use crate::cli::{SnapshotCommand, SnapshotListArgs, SnapshotNameArgs};
use crate::config::{Paths, project};
use crate::snapshot::store;
use crate::stack_client;

pub async fn run(root: Option<&Path>, cmd: SnapshotCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        SnapshotCommand::List(args) => list(root, &args),
        SnapshotCommand::Delete(args) => {
            let paths = Paths::new(project::project_root(root));
            store::delete(&paths.hippodrome_dir, &args.name)?;
            println!("deleted snapshot {}", args.name);
            Ok(ExitCode::SUCCESS)
        }
        SnapshotCommand::Save(args) => {
            let body = serde_json::json!({ "name": args.name });
            call(
                root,
                &args,
                reqwest::Method::POST,
                "/api/snapshots".into(),
                Some(body),
            )
            .await
        }
        SnapshotCommand::Restore(args) => {
            let path = format!("/api/snapshots/{}/restore", args.name);
            call(root, &args, reqwest::Method::POST, path, None).await
        }
        SnapshotCommand::Diff(args) => {
            let path = format!("/api/snapshots/{}/diff", args.name);
            call(root, &args, reqwest::Method::GET, path, None).await
        }
    }
}

fn list(root: Option<&Path>, args: &SnapshotListArgs) -> anyhow::Result<ExitCode> {
    let paths = Paths::new(project::project_root(root));
    let all = store::list(&paths.hippodrome_dir)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&all)?);
        return Ok(ExitCode::SUCCESS);
    }
    if all.is_empty() {
        println!(
            "no snapshots in {}",
            store::root(&paths.hippodrome_dir).display()
        );
    }
    for e in all {
        let seed = e
            .random_seed
            .map(|s| format!("seed {s}"))
            .unwrap_or_default();
        println!(
            "{:<24} {:<26} {:>10} {:<10} {}",
            e.name,
            e.created_at.unwrap_or_default(),
            format!("{:.1} MB", e.bytes as f64 / 1e6),
            seed,
            e.problem
                .map(|p| format!("(unusable: {p})"))
                .unwrap_or_else(|| e.parts.join(","))
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn call(
    root: Option<&Path>,
    args: &SnapshotNameArgs,
    method: reqwest::Method,
    path: String,
    body: Option<Value>,
) -> anyhow::Result<ExitCode> {
    store::check_name(&args.name)?;
    let l = stack_client::locate(root, args.offset.port_offset);
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(1))
        .timeout(Duration::from_secs(900))
        .no_proxy()
        .build()?;
    let mut req = http.request(method, format!("{}{path}", l.dashboard_url));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let Ok(res) = req.send().await else {
        eprintln!("{}", l.not_running());
        return Ok(ExitCode::FAILURE);
    };
    let status = res.status();
    let v: Value = res.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        eprintln!("{}", v["error"].as_str().unwrap_or(&v.to_string()));
        return Ok(ExitCode::FAILURE);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print_summary(&v);
    }
    Ok(ExitCode::SUCCESS)
}

/// One line per service: what a save holds, what a restore put back, what changed since.
fn print_summary(v: &Value) {
    if let Some(m) = v.get("manifest") {
        let parts = m["services"]
            .as_object()
            .map(|p| p.keys().cloned().collect::<Vec<_>>());
        println!(
            "saved snapshot {} in {} ms: {}",
            v["name"].as_str().unwrap_or_default(),
            v["ms"],
            parts.unwrap_or_default().join(", ")
        );
    } else if let Some(parts) = v.get("parts").and_then(Value::as_object) {
        println!(
            "restored snapshot {} in {} ms",
            v["name"].as_str().unwrap_or_default(),
            v["ms"]
        );
        for (part, counts) in parts {
            println!("  {part:<16} {}", compact(counts));
        }
        for s in v["skipped"].as_array().into_iter().flatten() {
            println!(
                "  {:<16} skipped: this stack does not run it",
                s.as_str().unwrap_or_default()
            );
        }
    } else if let Some(services) = v.get("services").and_then(Value::as_object) {
        for (service, d) in services {
            let changed = d["changed"].as_object();
            match changed.filter(|c| !c.is_empty()) {
                None => println!("{service:<16} unchanged"),
                Some(c) => {
                    println!("{service:<16} {} changed", c.len());
                    for (k, x) in c {
                        println!("  {k:<40} {} -> {}", x["snapshot"], x["now"]);
                    }
                }
            }
        }
    }
}

/// `{"indexes": 5, "documents": 10000, "per_index": {...}}` → `indexes 5, documents 10000`;
/// a true flag by its name (`unchanged`).
fn compact(counts: &Value) -> String {
    counts
        .as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| match v {
                    Value::Bool(true) => Some(k.clone()),
                    v if v.is_u64() => Some(format!("{k} {v}")),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}
