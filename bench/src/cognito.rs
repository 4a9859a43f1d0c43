//! fake-cognito against moto's cognito-idp and cognito-local: InitiateAuth (USER_PASSWORD_AUTH)
//! and JWKS at 1 and 16 clients, and the machine's RS256 signing ceiling.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::proc::{Proc, free_port, wait_ok};
use crate::report::Row;
use crate::wrk::{self, WrkResult};
use crate::{Ctx, aws_json};

pub const USERNAME: &str = "bench@example.com";
pub const PASSWORD: &str = "Bench-Passw0rd!";
const COGNITO_LOCAL_VERSION: &str = "5.3.0";

/// One Cognito JSON 1.1 call.
pub async fn call(
    http: &reqwest::Client,
    url: &str,
    op: &str,
    body: Value,
) -> anyhow::Result<Value> {
    aws_json::COGNITO.call(http, url, op, body).await
}

/// Creates a pool, a public client and a confirmed user; returns (pool id, client id).
pub async fn setup_user(http: &reqwest::Client, url: &str) -> anyhow::Result<(String, String)> {
    let pool = call(http, url, "CreateUserPool", json!({"PoolName": "bench"})).await?;
    let pool_id = pool["UserPool"]["Id"]
        .as_str()
        .context("no pool id")?
        .to_owned();
    let client = call(
        http,
        url,
        "CreateUserPoolClient",
        json!({"UserPoolId": pool_id, "ClientName": "bench", "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
    )
    .await?;
    let client_id = client["UserPoolClient"]["ClientId"]
        .as_str()
        .context("no client id")?
        .to_owned();
    call(
        http,
        url,
        "AdminCreateUser",
        json!({"UserPoolId": pool_id, "Username": USERNAME, "TemporaryPassword": "Temp-Passw0rd!", "MessageAction": "SUPPRESS",
               "UserAttributes": [{"Name": "email", "Value": USERNAME}, {"Name": "email_verified", "Value": "true"}]}),
    )
    .await?;
    call(
        http,
        url,
        "AdminSetUserPassword",
        json!({"UserPoolId": pool_id, "Username": USERNAME, "Password": PASSWORD, "Permanent": true}),
    )
    .await?;
    // One login by hand, so a broken setup fails here rather than as a page of wrk errors.
    let login = call(http, url, "InitiateAuth", login_body(&client_id)).await?;
    if login["AuthenticationResult"]["IdToken"].as_str().is_none() {
        bail!("InitiateAuth returned no tokens: {login:.300}");
    }
    Ok((pool_id, client_id))
}

fn login_body(client_id: &str) -> Value {
    json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client_id,
           "AuthParameters": {"USERNAME": USERNAME, "PASSWORD": PASSWORD}})
}

/// The wrk script for InitiateAuth against `client_id`.
pub fn login_script(client_id: &str) -> String {
    aws_json::COGNITO.script("InitiateAuth", &login_body(client_id))
}

/// Login and JWKS figures of one implementation.
struct Measured {
    login: [WrkResult; 2],
    jwks: [WrkResult; 2],
}

/// Measures InitiateAuth and JWKS at 1 and 16 clients against a running implementation.
async fn measure(ctx: &Ctx, name: &str, url: &str) -> anyhow::Result<Measured> {
    let (pool_id, client_id) = setup_user(&ctx.http, url)
        .await
        .with_context(|| format!("{name} setup"))?;
    let script = ctx.script(&format!("login-{name}"), &login_script(&client_id))?;
    let jwks = format!(
        "{}/{pool_id}/.well-known/jwks.json",
        url.trim_end_matches('/')
    );
    Ok(Measured {
        login: [
            wrk::run(url, 1, ctx.dur, Some(&script)).await?,
            wrk::run(url, 16, ctx.dur, Some(&script)).await?,
        ],
        jwks: [
            wrk::run(&jwks, 1, ctx.dur, None).await?,
            wrk::run(&jwks, 16, ctx.dur, None).await?,
        ],
    })
}

/// The pinned venv's interpreter, where the orchestrator installs it.
pub fn moto_python() -> PathBuf {
    orchestrator::moto::venv_dir().join("bin").join("python")
}

/// Starts moto's server on a free port; returns it with its URL and its start-to-ready time.
pub async fn start_moto(ctx: &Ctx) -> anyhow::Result<(Proc, String, Duration)> {
    start_moto_at(ctx, free_port()?, &[]).await
}

/// Starts moto's server on `port` with extra environment (e.g. `MOTO_PORT`, where its Step
/// Functions engine sends service calls).
pub async fn start_moto_at(
    ctx: &Ctx,
    port: u16,
    env: &[(&str, String)],
) -> anyhow::Result<(Proc, String, Duration)> {
    let start = Instant::now();
    let proc = Proc::spawn(
        "moto",
        Command::new(moto_python())
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .envs(env.iter().map(|(k, v)| (k, v))),
        &ctx.logs(),
    )?;
    let url = format!("http://127.0.0.1:{port}");
    wait_ok(
        &ctx.http,
        &format!("{url}/moto-api/"),
        Duration::from_secs(30),
    )
    .await?;
    Ok((proc, url, start.elapsed()))
}

/// Installs cognito-local (once, into ~/.cache/hippodrome/cognito-local-<version>) and returns
/// the path of its start script.
fn cognito_local_script() -> anyhow::Result<PathBuf> {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/root"));
    let dir = home.join(format!(
        ".cache/hippodrome/cognito-local-{COGNITO_LOCAL_VERSION}"
    ));
    let script = dir.join("node_modules/cognito-local/lib/bin/start.js");
    if !script.is_file() {
        std::fs::create_dir_all(&dir)?;
        println!(
            "installing cognito-local@{COGNITO_LOCAL_VERSION} into {}",
            dir.display()
        );
        let ok = Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                &format!("cognito-local@{COGNITO_LOCAL_VERSION}"),
            ])
            .current_dir(&dir)
            .status()
            .context("running npm")?
            .success();
        if !ok || !script.is_file() {
            bail!("npm install cognito-local@{COGNITO_LOCAL_VERSION} failed");
        }
    }
    Ok(script)
}

/// Starts fake-cognito on a free port with a scratch state file.
pub async fn start_fake(ctx: &Ctx, name: &str) -> anyhow::Result<(Proc, String)> {
    let state = ctx.dir(name)?.join("cognito.json");
    ctx.start_service(name, "fake-cognito", &["--state-file".into(), state.into()])
        .await
}

/// Starts cognito-local with its state in a fresh scratch folder `name`.
pub async fn start_cognito_local(ctx: &Ctx, name: &str) -> anyhow::Result<(Proc, String)> {
    let script = cognito_local_script()?;
    let port = free_port()?;
    let dir = ctx.dir(name)?;
    let proc = Proc::spawn(
        "cognito-local",
        Command::new("node")
            .arg(&script)
            .current_dir(&dir)
            .env("PORT", port.to_string())
            .env("HOST", "127.0.0.1"),
        &ctx.logs(),
    )?;
    let url = format!("http://127.0.0.1:{port}");
    wait_answers(&ctx.http, &url, Duration::from_secs(30)).await?;
    Ok((proc, url))
}

/// Waits until `url` answers anything at all over HTTP.
async fn wait_answers(http: &reqwest::Client, url: &str, timeout: Duration) -> anyhow::Result<()> {
    let start = Instant::now();
    while http
        .get(url)
        .timeout(Duration::from_secs(1))
        .send()
        .await
        .is_err()
    {
        if start.elapsed() > timeout {
            bail!("{url} did not answer within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// RS256 signatures per second on one thread with a cached RSA-2048 key (aws-lc-rs).
pub fn signing_ceiling(dur: Duration) -> anyhow::Result<f64> {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::rsa::{KeyPair, KeySize};
    use aws_lc_rs::signature::RSA_PKCS1_SHA256;
    let key =
        KeyPair::generate(KeySize::Rsa2048).map_err(|e| anyhow::anyhow!("RSA keygen: {e}"))?;
    let rng = SystemRandom::new();
    let mut sig = vec![0u8; key.public_modulus_len()];
    let msg =
        b"eyJhbGciOiJSUzI1NiIsImtpZCI6ImJlbmNoIn0.eyJzdWIiOiJiZW5jaCIsInRva2VuX3VzZSI6ImlkIn0";
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < dur {
        key.sign(&RSA_PKCS1_SHA256, &rng, msg, &mut sig)
            .map_err(|e| anyhow::anyhow!("sign: {e}"))?;
        n += 1;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

pub async fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let ceiling = signing_ceiling(ctx.dur)?;
    ctx.report.push(Row::new(
        "cognito",
        "RS256 signing ceiling, 1 thread (aws-lc-rs, cached key)",
        ceiling,
        "sig/s",
    ));

    let (fake, jwks64) = {
        let (_proc, url) = start_fake(ctx, "fake-cognito").await?;
        let m = measure(ctx, "fake-cognito", &url).await?;
        let pool = call(&ctx.http, &url, "ListUserPools", json!({"MaxResults": 1})).await?;
        let pool_id = pool["UserPools"][0]["Id"]
            .as_str()
            .context("no pool")?
            .to_owned();
        let jwks = wrk::run(
            &format!("{url}/{pool_id}/.well-known/jwks.json"),
            64,
            ctx.dur,
            None,
        )
        .await?;
        (m, jwks)
    };
    for (i, clients) in [1, 16].into_iter().enumerate() {
        let mut row = Row::load(
            "cognito",
            format!("fake-cognito InitiateAuth @{clients}"),
            &fake.login[i],
        )
        .vs("signing ceiling / 2", ceiling / 2.0);
        if clients == 16 {
            row = row.goal("≥ 0.7×");
        }
        ctx.report.push(row);
    }
    for (i, clients) in [1, 16].into_iter().enumerate() {
        ctx.report.push(Row::load(
            "cognito",
            format!("fake-cognito JWKS @{clients}"),
            &fake.jwks[i],
        ));
    }
    let limit = ctx.limit(64).await?;
    ctx.report.push(
        Row::load("cognito", "fake-cognito JWKS @64", &jwks64)
            .vs_load("hello @64", &limit)
            .goal("near 1×"),
    );

    let peers: [(&str, anyhow::Result<Measured>); 2] = [
        (
            "moto",
            async {
                let (_proc, url, _) = start_moto(ctx).await?;
                measure(ctx, "moto", &url).await
            }
            .await,
        ),
        (
            "cognito-local",
            async {
                let (_proc, url) = start_cognito_local(ctx, "cognito-local").await?;
                measure(ctx, "cognito-local", &url).await
            }
            .await,
        ),
    ];
    for (peer, measured) in peers {
        let m = match measured {
            Ok(m) => m,
            Err(e) => {
                ctx.report
                    .fail(&format!("cognito/{peer}"), format!("{e:#}"));
                continue;
            }
        };
        let goal = if peer == "moto" { "≥ 3×" } else { "≥ 5×" };
        for (i, clients) in [1, 16].into_iter().enumerate() {
            ctx.report.push(Row::load(
                "cognito",
                format!("{peer} InitiateAuth @{clients}"),
                &m.login[i],
            ));
            ctx.report.push(
                Row::load(
                    "cognito",
                    format!("fake-cognito InitiateAuth @{clients} vs {peer}"),
                    &fake.login[i],
                )
                .vs_load(peer, &m.login[i])
                .goal(goal),
            );
        }
        for (i, clients) in [1, 16].into_iter().enumerate() {
            ctx.report.push(Row::load(
                "cognito",
                format!("{peer} JWKS @{clients}"),
                &m.jwks[i],
            ));
        }
    }
    Ok(())
}
