//! Logins with TOTP MFA: InitiateAuth (USER_PASSWORD_AUTH) then RespondToAuthChallenge
//! (SOFTWARE_TOKEN_MFA with a real RFC 6238 code) at 16 clients, fake-cognito against moto's
//! cognito-idp in the same run.
//!
//! A two-step login carries the `Session` from the first answer into the second, which a fixed wrk
//! body cannot, so the load is a tokio loop of 16 client tasks on the bench's reqwest client.
//! fake-cognito accepts a TOTP step once per user, so the load runs in rounds: every user logs in
//! once per round, and fake-cognito's clock (`POST /_fake/clock`) is moved 30 s before each round,
//! which gives every user a fresh step. moto checks nothing about reuse; it runs the same rounds with
//! its real clock (see README.md).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::Ctx;
use crate::cognito::{self, PASSWORD, call};
use crate::proc::free_port;
use crate::report::Row;
use crate::totp;
use crate::wrk::WrkResult;

/// Concurrent clients of the figure.
const CLIENTS: usize = 16;
/// Users with TOTP on; each logs in once per round.
const USERS: usize = 256;

/// One pool with `USERS` TOTP users on one implementation.
struct Pool {
    url: String,
    client_id: String,
    /// (username, TOTP key) per user.
    users: Vec<(String, Vec<u8>)>,
    /// fake-cognito: move its clock 30 s per round and compute codes at its now; moto: real time.
    fake_clock: bool,
}

/// What one load point measured: logins/s over the time spent in rounds, and per-login latency.
fn summarize(latencies: &mut [Duration], errors: u64, busy: Duration) -> WrkResult {
    latencies.sort_unstable();
    let pct = |p: usize| -> f64 {
        latencies
            .get((latencies.len() * p / 100).min(latencies.len().saturating_sub(1)))
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    };
    WrkResult {
        connections: CLIENTS as u32,
        requests: latencies.len() as u64,
        rps: latencies.len() as f64 / busy.as_secs_f64().max(1e-9),
        p50_ms: pct(50),
        p99_ms: pct(99),
        socket_errors: 0,
        non_2xx: errors,
    }
}

/// Creates the pool (OPTIONAL MFA with TOTP offered) and its users, each with a verified software
/// token that is on and preferred.
async fn setup(http: &reqwest::Client, url: &str, fake_clock: bool) -> anyhow::Result<Pool> {
    let (pool_id, client_id) = cognito::setup_user(http, url).await?;
    call(
        http,
        url,
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool_id, "MfaConfiguration": "OPTIONAL",
               "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
    )
    .await?;
    // Eight at a time: setup is not measured, and moto is single-threaded anyway.
    let users: Vec<anyhow::Result<(String, Vec<u8>)>> = futures::stream::iter(0..USERS)
        .map(|i| setup_one(http, url, &pool_id, &client_id, format!("mfa-user-{i}")))
        .buffer_unordered(8)
        .collect()
        .await;
    let users = users.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Pool {
        url: url.to_owned(),
        client_id,
        users,
        fake_clock,
    })
}

/// One user: created, password set, signed in, token associated and verified, TOTP preferred.
async fn setup_one(
    http: &reqwest::Client,
    url: &str,
    pool_id: &str,
    client_id: &str,
    username: String,
) -> anyhow::Result<(String, Vec<u8>)> {
    let email = format!("{username}@example.com");
    call(
        http,
        url,
        "AdminCreateUser",
        json!({"UserPoolId": pool_id, "Username": username, "TemporaryPassword": "Temp-Passw0rd!", "MessageAction": "SUPPRESS",
               "UserAttributes": [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}]}),
    )
    .await?;
    call(
        http,
        url,
        "AdminSetUserPassword",
        json!({"UserPoolId": pool_id, "Username": username, "Password": PASSWORD, "Permanent": true}),
    )
    .await?;
    let login = call(
        http,
        url,
        "InitiateAuth",
        password_auth(client_id, &username),
    )
    .await?;
    let access = login["AuthenticationResult"]["AccessToken"]
        .as_str()
        .with_context(|| format!("{username}: no access token before MFA: {login:.300}"))?;
    let assoc = call(
        http,
        url,
        "AssociateSoftwareToken",
        json!({"AccessToken": access}),
    )
    .await?;
    let secret = assoc["SecretCode"].as_str().context("no SecretCode")?;
    let key = totp::base32_decode(secret)?;
    // A second try: moto checks against its own clock with no window, so a code computed just
    // before a 30-s boundary can arrive just after it.
    let mut verified = Err(anyhow::anyhow!("not tried"));
    for _ in 0..2 {
        let code = totp::code_at(&key, clock_now(http, url).await?);
        let body = json!({"AccessToken": access, "UserCode": code, "FriendlyDeviceName": "bench"});
        verified = call(http, url, "VerifySoftwareToken", body).await;
        if verified.is_ok() {
            break;
        }
    }
    verified?;
    call(
        http,
        url,
        "AdminSetUserMFAPreference",
        json!({"UserPoolId": pool_id, "Username": username,
               "SoftwareTokenMfaSettings": {"Enabled": true, "PreferredMfa": true}}),
    )
    .await?;
    Ok((username, key))
}

fn password_auth(client_id: &str, username: &str) -> Value {
    json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client_id,
           "AuthParameters": {"USERNAME": username, "PASSWORD": PASSWORD}})
}

/// The implementation's now: fake-cognito's clock (which the rounds move) when it has one, else
/// the machine's (moto has no `/_fake/clock`; it answers 404 there).
async fn clock_now(http: &reqwest::Client, url: &str) -> anyhow::Result<u64> {
    let r = http.get(format!("{url}/_fake/clock")).send().await?;
    if !r.status().is_success() {
        return Ok(totp::unix_now());
    }
    let body: Value = r.json().await?;
    epoch_seconds(&body)
}

/// `now_epoch_seconds` of a `/_fake/clock` answer (fractional: milliseconds), whole seconds.
fn epoch_seconds(body: &Value) -> anyhow::Result<u64> {
    let secs = body["now_epoch_seconds"]
        .as_f64()
        .context("/_fake/clock: no now_epoch_seconds")?;
    Ok(secs.max(0.0) as u64)
}

/// Moves fake-cognito's clock one TOTP step and returns its new now.
async fn advance_clock(http: &reqwest::Client, url: &str) -> anyhow::Result<u64> {
    let body = json!({"advance_seconds": totp::STEP_SECONDS});
    let r = http
        .post(format!("{url}/_fake/clock"))
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await?;
    let status = r.status();
    let body: Value = r.json().await?;
    if !status.is_success() {
        bail!("POST /_fake/clock: {status} {body:.300}");
    }
    epoch_seconds(&body)
}

/// One MFA login; Ok(false) when the implementation refused a step (counted as an error).
async fn login(
    http: &reqwest::Client,
    pool: &Pool,
    user: &(String, Vec<u8>),
    now: Option<u64>,
) -> anyhow::Result<bool> {
    let (username, key) = user;
    let first = call(
        http,
        &pool.url,
        "InitiateAuth",
        password_auth(&pool.client_id, username),
    )
    .await;
    let Ok(first) = first else { return Ok(false) };
    if first["ChallengeName"] != "SOFTWARE_TOKEN_MFA" {
        bail!("{username}: expected SOFTWARE_TOKEN_MFA, got {first:.300}");
    }
    let session = first["Session"]
        .as_str()
        .context("challenge without Session")?;
    // The code is computed just before it is sent, as an authenticator app would.
    let code = totp::code_at(key, now.unwrap_or_else(totp::unix_now));
    let body = json!({"ChallengeName": "SOFTWARE_TOKEN_MFA", "ClientId": pool.client_id,
                      "Session": session,
                      "ChallengeResponses": {"USERNAME": username, "SOFTWARE_TOKEN_MFA_CODE": code}});
    let second = call(http, &pool.url, "RespondToAuthChallenge", body).await;
    Ok(matches!(second, Ok(v) if v["AuthenticationResult"]["IdToken"].is_string()))
}

/// Rounds of one login per user at `CLIENTS` clients until `dur` of rounds has passed.
async fn measure(http: &reqwest::Client, pool: &Pool, dur: Duration) -> anyhow::Result<WrkResult> {
    let (mut latencies, mut errors, mut busy) = (Vec::new(), 0u64, Duration::ZERO);
    while busy < dur {
        // Not timed: the clock move is the bench's bookkeeping, not part of a login.
        let now = if pool.fake_clock {
            Some(advance_clock(http, &pool.url).await?)
        } else {
            None
        };
        let next = AtomicUsize::new(0);
        let start = Instant::now();
        let clients = (0..CLIENTS).map(|_| async {
            let (mut lat, mut err) = (Vec::new(), 0u64);
            while let Some(user) = pool.users.get(next.fetch_add(1, Ordering::Relaxed)) {
                let t = Instant::now();
                if login(http, pool, user, now).await? {
                    lat.push(t.elapsed());
                } else {
                    err += 1;
                }
            }
            anyhow::Ok((lat, err))
        });
        for r in futures::future::join_all(clients).await {
            let (lat, err) = r?;
            latencies.extend(lat);
            errors += err;
        }
        busy += start.elapsed();
    }
    Ok(summarize(&mut latencies, errors, busy))
}

pub async fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let fake = {
        let (_proc, url) = cognito::start_fake(ctx, "fake-cognito-mfa").await?;
        let pool = setup(&ctx.http, &url, true)
            .await
            .context("fake-cognito setup")?;
        measure(&ctx.http, &pool, ctx.dur).await?
    };
    let label = format!("MFA login (InitiateAuth + SOFTWARE_TOKEN_MFA) @{CLIENTS}");
    ctx.report.push(logins(Row::load(
        "cognito-mfa",
        format!("fake-cognito {label}"),
        &fake,
    )));
    // moto checks TOTP codes only with this set; without it any non-empty code passes.
    let env = [("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true".to_owned())];
    let moto = async {
        let (_proc, url, _) = cognito::start_moto_at(ctx, free_port()?, &env).await?;
        let pool = setup(&ctx.http, &url, false).await.context("moto setup")?;
        measure(&ctx.http, &pool, ctx.dur).await
    }
    .await;
    match moto {
        Ok(m) => {
            ctx.report.push(logins(Row::load(
                "cognito-mfa",
                format!("moto {label}"),
                &m,
            )));
            ctx.report.push(logins(
                Row::load(
                    "cognito-mfa",
                    format!("fake-cognito {label} vs moto"),
                    &fake,
                )
                .vs_load("moto", &m),
            ));
        }
        Err(e) => ctx.report.fail("cognito-mfa/moto", format!("{e:#}")),
    }
    Ok(())
}

/// A load row counted in logins (two calls each), not requests.
fn logins(mut row: Row) -> Row {
    row.unit = "logins/s".to_owned();
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mfa_summary_percentiles_and_rate() {
        let mut lat: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        let r = summarize(&mut lat, 3, Duration::from_secs(2));
        assert_eq!(r.requests, 100);
        assert!((r.rps - 50.0).abs() < 1e-9);
        assert!((r.p50_ms - 51.0).abs() < 1e-9);
        assert!((r.p99_ms - 100.0).abs() < 1e-9);
        assert_eq!(r.errors(), 3);
        assert_eq!(summarize(&mut [], 0, Duration::ZERO).p99_ms, 0.0);
    }
}
