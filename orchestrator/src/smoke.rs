//! Smoke checks against a running stack, without starting or stopping anything: is every service
//! up, and is the seeded data where the manifest says — through the real protocols (the AWS SDK
//! against moto, Marqo's API against fake-cell, a Cognito login verified with the served JWKS).
//! `orchestrator smoke` prints them; the cross-service suite in `tests/` runs the same code.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::dashboard::StatusView;
use crate::stack_client::Dashboard;
use crate::supervisor::Status;

/// One check's outcome.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
    pub ms: f64,
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mark = if self.ok { "ok  " } else { "FAIL" };
        write!(
            f,
            "{mark} {:<22} {:>7.1} ms  {}",
            self.name, self.ms, self.detail
        )
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .no_proxy()
        .build()
        .unwrap_or_default()
}

async fn get(url: &str, api_key: Option<&str>) -> anyhow::Result<Value> {
    let mut req = http().get(url);
    if let Some(k) = api_key {
        req = req.header("x-api-key", k);
    }
    let res = req.send().await?;
    let status = res.status();
    let body: Value = res.json().await?;
    anyhow::ensure!(status.is_success(), "{url} answered {status}: {body}");
    Ok(body)
}

/// Run every check against the stack whose dashboard is at `dashboard_url`.
pub async fn run(dashboard_url: &str) -> Vec<Check> {
    let mut out = Vec::new();
    let dash = Dashboard::new(dashboard_url).with_timeout(Duration::from_secs(5));
    let started = Instant::now();
    let status = dash.status().await;
    let stack = dash.stack().await;
    out.push(timed(
        "dashboard",
        started,
        match (&status, &stack) {
            (Ok(s), Ok(_)) => services_up(s),
            (Err(e), _) | (_, Err(e)) => Err(anyhow::anyhow!("dashboard unreachable: {e}")),
        },
    ));
    let (Ok(status), Ok(stack)) = (status, stack) else {
        return out;
    };
    let t = Instant::now();
    let manifest = dash.seed_manifest().await;
    out.push(timed(
        "seed manifest",
        t,
        manifest
            .as_ref()
            .map(|m| format!("seed {}", m.seed))
            .map_err(|e| anyhow::anyhow!("{e}")),
    ));
    let Ok(manifest) = manifest else { return out };
    let running = |name: &str| {
        status
            .get(name)
            .is_some_and(|s| s.status == Status::Running)
    };

    if running("moto") {
        let t = Instant::now();
        out.push(timed("moto dynamodb", t, check_moto(&manifest).await));
    }
    if running("fake_cell") {
        let t = Instant::now();
        out.push(timed("fake_cell indexes", t, check_cell(&manifest).await));
    }
    if running("fake_cognito") {
        let t = Instant::now();
        out.push(timed(
            "fake_cognito login",
            t,
            check_cognito(&manifest).await,
        ));
    }
    if running("webhook_router") {
        let t = Instant::now();
        out.push(timed(
            "webhook_router routes",
            t,
            check_router(&stack.info.router_url).await,
        ));
    }
    out
}

/// Every blocking service running (or skipped on purpose).
fn services_up(services: &StatusView) -> anyhow::Result<String> {
    let bad: Vec<String> = services
        .iter()
        .filter(|(_, v)| !matches!(v.status, Status::Running | Status::Skipped) && v.blocking)
        .map(|(k, v)| format!("{k} is {}", v.status.as_str()))
        .collect();
    if bad.is_empty() {
        Ok(format!("{} services", services.len()))
    } else {
        Err(anyhow::anyhow!(bad.join(", ")))
    }
}

fn timed(name: &str, t: Instant, r: anyhow::Result<String>) -> Check {
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    match r {
        Ok(detail) => Check {
            name: name.into(),
            ok: true,
            detail,
            ms,
        },
        Err(e) => Check {
            name: name.into(),
            ok: false,
            detail: format!("{e:#}"),
            ms,
        },
    }
}

async fn check_moto(m: &seed::Manifest) -> anyhow::Result<String> {
    let url = m
        .services
        .moto_url
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("manifest has no moto_url"))?;
    let cfg = seed::moto::sdk_config(url, &m.region);
    let ddb = aws_sdk_dynamodb::Client::new(&cfg);
    let tables = ddb
        .list_tables()
        .send()
        .await?
        .table_names
        .unwrap_or_default();
    let wanted = &m.moto.tables;
    for t in wanted {
        let name = t.name.as_str();
        anyhow::ensure!(
            tables.iter().any(|n| n == name),
            "table {name} missing (have {tables:?})"
        );
        let want = t.items as i32;
        let count = ddb
            .scan()
            .table_name(name)
            .select(aws_sdk_dynamodb::types::Select::Count)
            .send()
            .await?
            .count;
        anyhow::ensure!(
            count >= want,
            "table {name} has {count} items, the seed wrote {want}"
        );
    }
    Ok(format!("{} tables with their seeded items", wanted.len()))
}

async fn check_cell(m: &seed::Manifest) -> anyhow::Result<String> {
    let url = m
        .services
        .cell_url
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("manifest has no cell_url"))?;
    let account = m
        .accounts
        .first()
        .ok_or_else(|| anyhow::anyhow!("manifest has no API key"))?;
    let key = account
        .api_keys
        .first()
        .map(|k| k.key.as_str())
        .ok_or_else(|| anyhow::anyhow!("manifest has no API key"))?;
    let list = get(&format!("{url}/api/v2/indexes"), Some(key)).await?;
    let names: Vec<&str> = list["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["indexName"].as_str())
        .collect();
    let mut docs = 0;
    for idx in &account.indexes {
        let name = idx.name.as_str();
        anyhow::ensure!(
            names.contains(&name),
            "index {name} not listed for its account (have {names:?})"
        );
        let stats = get(&format!("{url}/indexes/{name}/stats"), Some(key)).await?;
        let n = stats["numberOfDocuments"].as_u64().unwrap_or(0);
        let want = idx.documents as u64;
        anyhow::ensure!(
            n == want,
            "index {name} has {n} documents, the seed wrote {want}"
        );
        docs += n;
    }
    Ok(format!(
        "{} indexes, {docs} documents for account {}",
        names.len(),
        account.name
    ))
}

async fn check_cognito(m: &seed::Manifest) -> anyhow::Result<String> {
    let url = m
        .services
        .cognito_url
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("manifest has no cognito_url"))?;
    let c = &m.cognito;
    let pool = c
        .pool_id
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("manifest has no pool id"))?;
    let client_id = c.clients.public.client_id.as_deref().unwrap_or_default();
    let user = c
        .users
        .first()
        .ok_or_else(|| anyhow::anyhow!("manifest has no user"))?;
    let cfg = seed::moto::sdk_config(url, &c.region);
    let idp = aws_sdk_cognitoidentityprovider::Client::new(&cfg);
    let auth = idp
        .initiate_auth()
        .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::UserPasswordAuth)
        .client_id(client_id)
        .auth_parameters("USERNAME", &user.username)
        .auth_parameters("PASSWORD", &user.password)
        .send()
        .await?;
    let id_token = auth
        .authentication_result
        .and_then(|r| r.id_token)
        .ok_or_else(|| anyhow::anyhow!("no IdToken"))?;
    let discovery = get(
        &format!("{url}/{pool}/.well-known/openid-configuration"),
        None,
    )
    .await?;
    let issuer = discovery["issuer"].as_str().unwrap_or_default();
    let jwks_uri = discovery["jwks_uri"].as_str().unwrap_or_default();
    let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_value(get(jwks_uri, None).await?)?;
    let header = jsonwebtoken::decode_header(&id_token)?;
    let kid = header
        .kid
        .ok_or_else(|| anyhow::anyhow!("token has no kid"))?;
    let jwk = jwks
        .find(&kid)
        .ok_or_else(|| anyhow::anyhow!("kid {kid} not in the JWKS"))?;
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&[client_id]);
    v.set_issuer(&[issuer]);
    let claims =
        jsonwebtoken::decode::<Value>(&id_token, &jsonwebtoken::DecodingKey::from_jwk(jwk)?, &v)?
            .claims;
    anyhow::ensure!(
        claims["token_use"] == "id",
        "token_use is {}",
        claims["token_use"]
    );
    let sub = Value::from(user.sub.clone());
    anyhow::ensure!(
        claims["sub"] == sub,
        "sub {} is not the manifest's {sub}",
        claims["sub"]
    );
    Ok(format!(
        "{} logged in; ID token verified with the served JWKS",
        user.username
    ))
}

async fn check_router(url: &str) -> anyhow::Result<String> {
    let routes = get(&format!("{url}/routes"), None).await?;
    let prefixes: Vec<&str> = routes["routes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["prefix"].as_str())
        .collect();
    for p in ["EcomIndexSettings.", "Merchandising."] {
        anyhow::ensure!(
            prefixes.contains(&p),
            "route {p} missing (have {prefixes:?})"
        );
    }
    Ok(format!("{} routes", prefixes.len()))
}
