//! What moto holds that its recording cannot bring back, read at save time and put right after a
//! full replay. Both come from ids moto draws at random, so a recorded call naming one replays
//! against nothing:
//! - SQS messages consumed before the snapshot: the recorded `DeleteMessage(Batch)` names a
//!   receipt handle of the first run, so the replayed `SendMessage` would bring the message back
//!   and a consumer (the gateway's poller: its Lambda) would get it a second time. The queue's
//!   count is saved; after the replay the surplus is received and deleted, oldest first (moto
//!   hands out a queue's messages in the order they were sent).
//! - SQS event source mappings deleted before the snapshot: the recorded delete names the first
//!   run's UUID, so the replayed create would leave a mapping the gateway starts polling. The
//!   saved (function, queue) pairs are kept; any mapping beyond them is deleted.
//! - SNS subscriptions removed before the snapshot: `Unsubscribe` names the first run's
//!   subscription ARN (a random UUID at its end), so the replayed `Subscribe` would leave a
//!   subscription that delivers again. The saved (topic, protocol, endpoint) triples are kept;
//!   any subscription beyond them is removed.
//!
//! What stays as the replay leaves it: a message in flight at save time comes back visible, and
//! the mappings and subscriptions kept have new ids.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context as _;
use aws_sdk_sqs::types::QueueAttributeName;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::recording::header;
use aws_local::sdk_error_text;

/// The part of a snapshot beside moto's recording.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Live {
    /// Region → queue name → messages held (visible, in flight and delayed).
    pub queues: BTreeMap<String, BTreeMap<String, u64>>,
    /// Region → one (function ARN, queue ARN) per SQS event source mapping.
    pub mappings: BTreeMap<String, Vec<(String, String)>>,
    /// Region → one (topic ARN, protocol, endpoint) per SNS subscription.
    #[serde(default)]
    pub subscriptions: BTreeMap<String, Vec<(String, String, String)>>,
}

/// How many of each a restore removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PutRight {
    pub messages: u64,
    pub mappings: u64,
    pub subscriptions: u64,
}

/// The regions `recording` made SQS queues or Lambda mappings in, from each call's SigV4
/// credential scope (`Credential=KEY/DATE/REGION/SERVICE/aws4_request`).
pub fn regions(recording: &str) -> BTreeSet<String> {
    recording
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|e| header(&e, "authorization").and_then(scope).map(|(r, _)| r))
        .collect()
}

fn scope(authorization: &str) -> Option<(String, String)> {
    let credential = authorization.split("Credential=").nth(1)?;
    let credential = credential.split([',', ' ']).next()?;
    let parts: Vec<&str> = credential.split('/').collect();
    match parts.as_slice() {
        [.., region, service, "aws4_request"] if matches!(*service, "sqs" | "lambda" | "sns") => {
            Some(((*region).to_owned(), (*service).to_owned()))
        }
        _ => None,
    }
}

struct Clients {
    sqs: aws_sdk_sqs::Client,
    lambda: aws_sdk_lambda::Client,
    sns: aws_sdk_sns::Client,
}

fn clients(base: &str, region: &str) -> Clients {
    let cfg = seed::moto::sdk_config(base, region);
    Clients {
        sqs: aws_sdk_sqs::Client::new(&cfg),
        lambda: aws_sdk_lambda::Client::new(&cfg),
        sns: aws_sdk_sns::Client::new(&cfg),
    }
}

/// moto's queues and SQS mappings now, in the regions `recording` used.
pub async fn read(base: &str, recording: &str) -> anyhow::Result<Live> {
    let mut live = Live::default();
    for region in regions(recording) {
        let c = clients(base, &region);
        let mut queues = BTreeMap::new();
        for url in queue_urls(&c.sqs).await? {
            queues.insert(name_of(&url).to_owned(), held(&c.sqs, &url).await?);
        }
        let mappings: Vec<(String, String)> = sqs_mappings(&c.lambda)
            .await?
            .into_iter()
            .map(|(_, pair)| pair)
            .collect();
        let subscriptions: Vec<(String, String, String)> = subscriptions(&c.sns)
            .await?
            .into_iter()
            .map(|(_, triple)| triple)
            .collect();
        if !queues.is_empty() {
            live.queues.insert(region.clone(), queues);
        }
        if !mappings.is_empty() {
            live.mappings.insert(region.clone(), mappings);
        }
        if !subscriptions.is_empty() {
            live.subscriptions.insert(region, subscriptions);
        }
    }
    Ok(live)
}

/// Bring moto, just replayed, back to `saved`'s message counts and mappings.
pub async fn put_right(base: &str, saved: &Live) -> anyhow::Result<PutRight> {
    let mut done = PutRight::default();
    let regions: BTreeSet<&String> = saved
        .queues
        .keys()
        .chain(saved.mappings.keys())
        .chain(saved.subscriptions.keys())
        .collect();
    for region in regions {
        let c = clients(base, region);
        for (name, want) in saved.queues.get(region).into_iter().flatten() {
            done.messages += trim_queue(&c.sqs, name, *want).await?;
        }
        let saved_mappings = saved.mappings.get(region).map(Vec::as_slice);
        for uuid in beyond(saved_mappings, sqs_mappings(&c.lambda).await?) {
            c.lambda
                .delete_event_source_mapping()
                .uuid(&uuid)
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("DeleteEventSourceMapping: {}", sdk_error_text(&e)))?;
            done.mappings += 1;
        }
        let saved_subs = saved.subscriptions.get(region).map(Vec::as_slice);
        for arn in beyond(saved_subs, subscriptions(&c.sns).await?) {
            c.sns
                .unsubscribe()
                .subscription_arn(&arn)
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("Unsubscribe: {}", sdk_error_text(&e)))?;
            done.subscriptions += 1;
        }
    }
    Ok(done)
}

/// The ids of `live` items beyond the `saved` multiset (by key), to remove.
fn beyond<K: Ord + Clone>(saved: Option<&[K]>, live: Vec<(String, K)>) -> Vec<String> {
    let mut kept: BTreeMap<K, usize> = BTreeMap::new();
    for k in saved.into_iter().flatten() {
        *kept.entry(k.clone()).or_default() += 1;
    }
    live.into_iter()
        .filter_map(|(id, k)| match kept.get_mut(&k) {
            Some(n) if *n > 0 => {
                *n -= 1;
                None
            }
            _ => Some(id),
        })
        .collect()
}

impl PutRight {
    pub fn to_json(&self) -> Value {
        json!({"messages_removed": self.messages, "mappings_removed": self.mappings,
               "subscriptions_removed": self.subscriptions})
    }
}

/// Receive and delete the oldest messages of queue `name` until it holds `want`; how many went.
async fn trim_queue(sqs: &aws_sdk_sqs::Client, name: &str, want: u64) -> anyhow::Result<u64> {
    let Ok(url) = sqs.get_queue_url().queue_name(name).send().await else {
        return Ok(0); // Not replayed (the create was refused): nothing to trim.
    };
    let Some(url) = url.queue_url else {
        return Ok(0);
    };
    let mut surplus = held(sqs, &url).await?.saturating_sub(want);
    let mut removed = 0;
    while surplus > 0 {
        let got = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(surplus.min(10) as i32)
            .wait_time_seconds(0)
            .visibility_timeout(30)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("ReceiveMessage on {name}: {}", sdk_error_text(&e)))?;
        let entries = aws_gateway::esm::poll::delete_entries(got.messages());
        // A delayed message cannot be received yet: the count stays as the replay left it.
        if entries.is_empty() {
            break;
        }
        let out = sqs
            .delete_message_batch()
            .queue_url(&url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("DeleteMessageBatch on {name}: {}", sdk_error_text(&e)))?;
        let n = out.successful().len() as u64;
        if n == 0 {
            break;
        }
        removed += n;
        surplus = surplus.saturating_sub(n);
    }
    Ok(removed)
}

async fn queue_urls(sqs: &aws_sdk_sqs::Client) -> anyhow::Result<Vec<String>> {
    let mut urls = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = sqs
            .list_queues()
            .max_results(1000)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("ListQueues: {}", sdk_error_text(&e)))?;
        urls.extend(page.queue_urls().iter().cloned());
        match page.next_token {
            Some(t) if !t.is_empty() => token = Some(t),
            _ => return Ok(urls),
        }
    }
}

fn name_of(url: &str) -> &str {
    url.trim_end_matches('/').rsplit('/').next().unwrap_or(url)
}

/// Messages the queue holds in every state.
async fn held(sqs: &aws_sdk_sqs::Client, url: &str) -> anyhow::Result<u64> {
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("GetQueueAttributes on {url}: {}", sdk_error_text(&e)))
        .context("counting a queue's messages")?;
    Ok(attrs
        .attributes()
        .into_iter()
        .flat_map(|m| m.values())
        .filter_map(|v| v.parse::<u64>().ok())
        .sum())
}

/// Every SQS event source mapping as (UUID, (function ARN, queue ARN)).
async fn sqs_mappings(
    lambda: &aws_sdk_lambda::Client,
) -> anyhow::Result<Vec<(String, (String, String))>> {
    let all = aws_gateway::moto::sqs_mappings(lambda)
        .await
        .map_err(anyhow::Error::msg)?;
    Ok(all
        .iter()
        .filter_map(|m| {
            let (uuid, function, source) = (m.uuid()?, m.function_arn()?, m.event_source_arn()?);
            Some((uuid.to_owned(), (function.to_owned(), source.to_owned())))
        })
        .collect())
}

/// Every SNS subscription as (ARN, (topic ARN, protocol, endpoint)); one still pending
/// confirmation has no ARN to remove it by and is left out.
async fn subscriptions(
    sns: &aws_sdk_sns::Client,
) -> anyhow::Result<Vec<(String, (String, String, String))>> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = sns
            .list_subscriptions()
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("ListSubscriptions: {}", sdk_error_text(&e)))?;
        for s in page.subscriptions() {
            let (Some(arn), Some(topic)) = (s.subscription_arn(), s.topic_arn()) else {
                continue;
            };
            if !arn.starts_with("arn:") {
                continue;
            }
            let key = (
                topic.to_owned(),
                s.protocol().unwrap_or_default().to_owned(),
                s.endpoint().unwrap_or_default().to_owned(),
            );
            out.push((arn.to_owned(), key));
        }
        match page.next_token {
            Some(t) if !t.is_empty() => token = Some(t),
            _ => return Ok(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_come_from_the_sqs_and_lambda_calls_credential_scopes() {
        let line = |auth: &str| {
            json!({"method": "POST", "url": "http://127.0.0.1:1/", "body": "",
                   "headers": {"Authorization": auth}})
            .to_string()
        };
        let recording = [
            line("AWS4-HMAC-SHA256 Credential=testing/20261203/eu-west-1/sqs/aws4_request, SignedHeaders=host, Signature=x"),
            line("AWS4-HMAC-SHA256 Credential=testing/20261203/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=x"),
            line("AWS4-HMAC-SHA256 Credential=testing/20261203/ap-south-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x"),
            line("Bearer x"),
        ]
        .join("\n");
        assert_eq!(
            regions(&recording).into_iter().collect::<Vec<_>>(),
            ["eu-west-1", "us-east-1"]
        );
    }

    #[test]
    fn what_goes_is_what_the_saved_multiset_does_not_cover() {
        let k = |s: &str| (s.to_owned(), "q".to_owned());
        let live = vec![
            ("u1".to_owned(), k("f")),
            ("u2".to_owned(), k("f")),
            ("u3".to_owned(), k("g")),
            ("u4".to_owned(), k("h")),
        ];
        let saved = [k("f"), k("h"), k("x")];
        assert_eq!(beyond(Some(&saved), live.clone()), ["u2", "u3"]);
        assert_eq!(beyond(None, live).len(), 4);
    }

    #[test]
    fn a_queue_is_named_by_its_urls_last_part() {
        assert_eq!(name_of("http://127.0.0.1:9003/123456789012/jobs"), "jobs");
        assert_eq!(
            name_of("http://127.0.0.1:9003/123456789012/jobs.fifo/"),
            "jobs.fifo"
        );
    }
}
