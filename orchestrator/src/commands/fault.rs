//! `fault add|list|clear`: fault rules through the dashboard's `/api/faults`, which routes each
//! rule to the service that owns it (fake-cell, fake-cognito, webhook-router, or the AWS gateway
//! for every AWS service and Lambda) and fans lists and clears out to all of them.

use std::path::Path;
use std::process::ExitCode;

use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::cli::{FaultAddArgs, FaultClearArgs, FaultCommand, FaultListArgs};
use crate::stack_client::{self, Located};

pub async fn run(root: Option<&Path>, cmd: FaultCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        FaultCommand::Add(a) => add(root, *a).await,
        FaultCommand::List(a) => list(root, a).await,
        FaultCommand::Clear(a) => clear(root, a).await,
    }
}

/// The rule `fault add`'s flags describe, as `POST /api/faults` takes it.
pub fn rule_body(a: &FaultAddArgs) -> Value {
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        if !v.is_null() && v != json!(false) {
            m.insert(k.to_owned(), v);
        }
    };
    put("service", json!(a.service));
    put("operation", json!(a.operation));
    put("resource", json!(a.resource));
    put("error", json!(a.error));
    put("status", json!(a.status));
    put("message", json!(a.message));
    put("latency_ms", json!(a.latency_ms));
    put("drop", json!(a.drop));
    put("timeout", json!(a.timeout));
    put("timeout_ms", json!(a.timeout_after));
    put("next", json!(a.next));
    put("every", json!(a.every));
    put("probability", json!(a.probability));
    put("seed", json!(a.seed));
    put("expires_in_ms", json!(a.expires_in));
    put("max_hits", json!(a.max_hits));
    put("persist", json!(a.persist));
    Value::Object(m)
}

async fn send(
    l: &Located,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Result<Value, ExitCode> {
    match l.dashboard().send_json(method, path, body).await {
        Ok((status, v)) if status.is_success() => Ok(v),
        Ok((status, v)) => {
            let why = v["error"]
                .as_str()
                .map_or_else(|| v.to_string(), str::to_owned);
            eprintln!("fault: the stack answered {status}: {why}");
            Err(ExitCode::FAILURE)
        }
        Err(e) if e.is_decode() => {
            eprintln!("fault: the dashboard's answer is not JSON: {e}");
            Err(ExitCode::FAILURE)
        }
        Err(_) => {
            eprintln!("{}", l.not_running());
            Err(ExitCode::FAILURE)
        }
    }
}

async fn add(root: Option<&Path>, a: FaultAddArgs) -> anyhow::Result<ExitCode> {
    let l = stack_client::locate(root, a.offset.port_offset);
    let body = rule_body(&a);
    let v = match send(&l, Method::POST, "/api/faults", Some(&body)).await {
        Ok(v) => v,
        Err(code) => return Ok(code),
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!(
            "added rule {} on {}: {}",
            v["rule"]["id"].as_str().unwrap_or("?"),
            v["service"].as_str().unwrap_or("?"),
            describe(&v["rule"])
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn list(root: Option<&Path>, a: FaultListArgs) -> anyhow::Result<ExitCode> {
    let l = stack_client::locate(root, a.offset.port_offset);
    let v = match send(&l, Method::GET, "/api/faults", None).await {
        Ok(v) => v,
        Err(code) => return Ok(code),
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    let services = v["services"].as_array().cloned().unwrap_or_default();
    let mut any = false;
    for s in &services {
        let name = s["service"].as_str().unwrap_or("?");
        if let Some(err) = s["error"].as_str() {
            println!("{name}: unreachable ({err})");
            continue;
        }
        for r in s["rules"].as_array().into_iter().flatten() {
            any = true;
            let state = r["ended"].as_str().unwrap_or("active");
            println!(
                "{name:<15} {:<5} {state:<9} hits {:<5} {}",
                r["id"].as_str().unwrap_or("?"),
                r["hits"],
                describe(r)
            );
        }
    }
    if !any {
        println!("no fault rules");
    }
    Ok(ExitCode::SUCCESS)
}

async fn clear(root: Option<&Path>, a: FaultClearArgs) -> anyhow::Result<ExitCode> {
    let l = stack_client::locate(root, a.offset.port_offset);
    let mut query = Vec::new();
    if let Some(s) = &a.service {
        query.push(format!("service={}", urlish(s)));
    }
    if let Some(id) = &a.id {
        query.push(format!("id={}", urlish(id)));
    }
    let path = if query.is_empty() {
        "/api/faults".to_owned()
    } else {
        format!("/api/faults?{}", query.join("&"))
    };
    let v = match send(&l, Method::DELETE, &path, None).await {
        Ok(v) => v,
        Err(code) => return Ok(code),
    };
    println!("cleared {} rule(s)", v["cleared"].as_u64().unwrap_or(0));
    Ok(ExitCode::SUCCESS)
}

/// Service names and rule ids are plain words; anything else is percent-encoded.
fn urlish(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One line for a rule: what it matches, what it does, how often, until when.
pub fn describe(r: &Value) -> String {
    let pick = |k: &str| r[k].as_str().unwrap_or("*").to_owned();
    let mut out = format!(
        "{} {} {}",
        pick("service"),
        pick("operation"),
        pick("resource")
    );
    if let Some(ms) = r["latency_ms"].as_u64() {
        out.push_str(&format!(" latency {ms}ms"));
    }
    if let Some(e) = r["error"].as_str() {
        out.push_str(&format!(" error {e}"));
        if let Some(s) = r["status"].as_u64() {
            out.push_str(&format!(" ({s})"));
        }
    }
    if r["drop"] == json!(true) {
        out.push_str(" drop");
    }
    if r["timeout"] == json!(true) {
        out.push_str(" timeout");
    }
    if let Some(n) = r["next"].as_u64() {
        out.push_str(&format!(" next {n}"));
    }
    if let Some(n) = r["every"].as_u64() {
        out.push_str(&format!(" every {n} calls"));
    }
    if let Some(p) = r["probability"].as_f64() {
        out.push_str(&format!(" p={p} seed {}", r["rng_seed"]));
    }
    if r["persist"] == json!(true) {
        out.push_str(" persisted");
    }
    out
}
