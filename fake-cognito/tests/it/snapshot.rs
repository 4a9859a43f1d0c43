//! `/_fake/snapshot` against the real binary with the AWS SDK: a restore brings users (with their
//! hashed passwords: the old password signs in again), groups and clients back in place and
//! across a restart; SDK writers (retries off) racing a restore see the old users or the
//! restored ones, never a mix, are delayed or refused with a 503 naming the restore, and nothing
//! acknowledged after the restore is lost.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::MessageActionType;

use crate::support::*;

/// The same client without the SDK's retries, so a refused write shows as one.
fn no_retries(c: &Client) -> Client {
    let conf = c
        .config()
        .to_builder()
        .retry_config(RetryConfig::disabled())
        .build();
    Client::from_conf(conf)
}

/// Every user name in the pool, the racing writers' (`w-…`) left out.
async fn users(c: &Client, pool: &str) -> Option<BTreeSet<String>> {
    let mut names = BTreeSet::new();
    let mut token = None;
    loop {
        let page = c
            .list_users()
            .user_pool_id(pool)
            .set_pagination_token(token)
            .send()
            .await
            .ok()?;
        for u in page.users() {
            let name = u.username().unwrap_or_default();
            if !name.starts_with("w-") {
                names.insert(name.to_owned());
            }
        }
        token = page.pagination_token().map(str::to_owned);
        if token.is_none() {
            return Some(names);
        }
    }
}

/// One write: `(user, sent, answered, outcome)`; the outcome is `Ok` or the error's code and
/// message.
type Write = (String, Instant, Instant, Result<(), String>);

async fn writer(c: Client, pool: String, tag: &'static str, stop: Arc<AtomicBool>) -> Vec<Write> {
    let mut out = Vec::new();
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        let name = format!("w-{tag}-{n}");
        let sent = Instant::now();
        let r = c
            .admin_create_user()
            .user_pool_id(&pool)
            .username(&name)
            .message_action(MessageActionType::Suppress)
            .send()
            .await;
        let outcome = r.map(|_| ()).map_err(|e| {
            format!(
                "{}: {}",
                e.code().unwrap_or("<none>"),
                e.message().unwrap_or_default()
            )
        });
        out.push((name, sent, Instant::now(), outcome));
    }
    out
}

async fn put_snapshot(s: &Server, doc: &[u8]) -> u16 {
    s.http()
        .put(format!("{}/_fake/snapshot", s.url))
        .timeout(Duration::from_secs(60))
        .body(doc.to_vec())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread")]
async fn snapshot_restore_racing_sdk_writers_shows_old_or_new_and_keeps_later_writes() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let mut s = Server::start_at(&state, &[], &[]);
    let c = s.sdk().await;
    let f = fixture(&c).await;
    for i in 0..5 {
        create_user(&c, &f.pool_id, &format!("kept-{i}")).await;
    }
    let doc = s
        .http()
        .get(format!("{}/_fake/snapshot", s.url))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let restored_users = users(&c, &f.pool_id).await.unwrap();
    // After the snapshot: alice's password changes, a user goes, another comes.
    c.admin_set_user_password()
        .user_pool_id(&f.pool_id)
        .username("alice")
        .password("Another-Horse-7!")
        .permanent(true)
        .send()
        .await
        .unwrap();
    c.admin_delete_user()
        .user_pool_id(&f.pool_id)
        .username("kept-0")
        .send()
        .await
        .unwrap();
    create_user(&c, &f.pool_id, "newcomer").await;
    let live_users = users(&c, &f.pool_id).await.unwrap();
    assert_ne!(live_users, restored_users);

    let stop = Arc::new(AtomicBool::new(false));
    let raw = no_retries(&c);
    let writers: Vec<_> = ["a", "b", "c"]
        .into_iter()
        .map(|tag| tokio::spawn(writer(raw.clone(), f.pool_id.clone(), tag, stop.clone())))
        .collect();
    let reader = {
        let (c, pool, stop) = (c.clone(), f.pool_id.clone(), stop.clone());
        tokio::spawn(async move {
            let mut seen = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                seen.extend(users(&c, &pool).await);
            }
            seen
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let put_sent = Instant::now();
    assert_eq!(put_snapshot(&s, &doc).await, 200);
    let restored_at = Instant::now();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    let mut writes = Vec::new();
    for w in writers {
        writes.extend(w.await.unwrap());
    }
    for seen in reader.await.unwrap() {
        assert!(
            seen == live_users || seen == restored_users,
            "a half-restored view: {seen:?}"
        );
    }
    check(&c, &f, &writes, put_sent, restored_at).await;

    // The restored state is what a restart loads.
    s.kill9();
    let s2 = Server::start_at(&state, &["--port", &s.port()], &[]);
    let c2 = s2.sdk().await;
    assert_eq!(users(&c2, &f.pool_id).await.unwrap(), restored_users);
    check(&c2, &f, &writes, put_sent, restored_at).await;
}

/// The snapshot's password signs in (hashes are data), every write sent after the restore
/// answered is there, every one acknowledged before it began is gone, refusals name the restore.
async fn check(c: &Client, f: &Fixture, writes: &[Write], put_sent: Instant, restored_at: Instant) {
    login(c, &f.client_id, "alice", PASSWORD).await;
    assert!(
        writes.iter().any(|w| w.1 > restored_at),
        "no write after it"
    );
    for (name, sent, answered, outcome) in writes {
        if let Err(e) = outcome {
            assert!(
                e.starts_with("InternalErrorException") && e.contains("restore"),
                "a write during a restore failed otherwise: {e}"
            );
            continue;
        }
        let found = c
            .admin_get_user()
            .user_pool_id(&f.pool_id)
            .username(name)
            .send()
            .await;
        if *sent > restored_at {
            assert!(
                found.is_ok(),
                "{name}, acknowledged after the restore, is missing"
            );
        } else if *answered < put_sent {
            assert_eq!(
                code(found),
                "UserNotFoundException",
                "{name} survived the restore"
            );
        }
    }
}
