//! Following one table's stream: discover the stream, list its shards, take an iterator per shard
//! (`TRIM_HORIZON` on first sight, `AFTER_SEQUENCE_NUMBER` past the cursor when resuming), poll
//! `GetRecords`, deliver each new record, and start over from discovery on any error — that is
//! how a moto restart (unknown iterator, then a new stream ARN) and a late table are survived.

use std::time::{Duration, Instant, SystemTime};

use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use bytes::Bytes;

use super::TableState;
use super::cursor::Cursors;
use super::discover::{CallError, Discovery, latest_stream_arn};
use super::to_event::to_event;
use crate::AppState;
use crate::envelope::EventMeta;
use crate::recent::{Outcome, Via};
use crate::webhook::{dispatch, record as record_event};

/// How often a following task re-checks `LatestStreamArn` and the shard list.
const REDISCOVER_EVERY: Duration = Duration::from_secs(3);
/// Pause while a table is missing or moto is down.
const WAIT_MIN: Duration = Duration::from_millis(500);
const WAIT_MAX: Duration = Duration::from_secs(3);
/// After this many empty polls in a row, poll `IDLE_SLOWDOWN` times less often.
const IDLE_AFTER_POLLS: u32 = 40;
const IDLE_SLOWDOWN: u32 = 4;

#[derive(Clone)]
pub struct Clients {
    ddb: aws_sdk_dynamodb::Client,
    streams: aws_sdk_dynamodbstreams::Client,
}

impl Clients {
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        Clients {
            ddb: aws_sdk_dynamodb::Client::new(sdk),
            streams: aws_sdk_dynamodbstreams::Client::new(sdk),
        }
    }
}

/// One followed table.
#[derive(Debug, Clone)]
pub struct Followed {
    pub table: String,
    pub detail_name: String,
    pub region: String,
    pub poll: Duration,
}

struct Shard {
    id: String,
    iterator: Option<String>,
    done: bool,
}

/// Run until the task is aborted (router shutdown).
pub async fn follow_table(clients: Clients, state: AppState, t: Followed) {
    let mut cursors = Cursors::default();
    let mut wait = WAIT_MIN;
    loop {
        let outcome = match latest_stream_arn(&clients.ddb, &t.table).await {
            Ok(Discovery::Stream(arn)) => {
                state.pipe().update(&t.table, |s| {
                    if s.stream_arn.as_deref() != Some(arn.as_str()) {
                        s.streams_seen += 1;
                    }
                    s.stream_arn = Some(arn.clone());
                    s.status = TableState::Following;
                    s.last_error = None;
                });
                wait = WAIT_MIN;
                follow_stream(&clients, &state, &t, &arn, &mut cursors).await
            }
            Ok(Discovery::NoTable) => Err(CallError {
                state: TableState::WaitingForTable,
                message: format!("table {} does not exist (yet)", t.table),
            }),
            Ok(Discovery::NoStream) => Err(CallError {
                state: TableState::NoStream,
                message: format!("table {} has no stream enabled", t.table),
            }),
            Err(e) => Err(e),
        };
        match outcome {
            // The stream ARN changed: discover again at once.
            Ok(()) => continue,
            Err(e) => {
                tracing::debug!(table = %t.table, error = %e.message, "local pipe waiting");
                state.pipe().update(&t.table, |s| {
                    s.status = e.state;
                    s.last_error = Some(e.message.clone());
                    if e.state != TableState::Error {
                        s.lag_ms = None;
                    }
                });
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(WAIT_MAX);
            }
        }
    }
}

/// Follow `arn` until it stops being the table's stream (Ok) or a call fails (Err).
async fn follow_stream(
    clients: &Clients,
    state: &AppState,
    t: &Followed,
    arn: &str,
    cursors: &mut Cursors,
) -> Result<(), CallError> {
    let mut shards: Vec<Shard> = Vec::new();
    let mut describe_due = true;
    let mut last_check = Instant::now();
    let mut idle_polls: u32 = 0;
    loop {
        if last_check.elapsed() >= REDISCOVER_EVERY {
            last_check = Instant::now();
            match latest_stream_arn(&clients.ddb, &t.table).await? {
                Discovery::Stream(a) if a == arn => describe_due = true,
                _ => return Ok(()),
            }
        }
        if describe_due {
            describe_due = false;
            add_new_shards(clients, arn, cursors, &mut shards).await?;
        }
        let mut got_records = false;
        for shard in shards.iter_mut().filter(|s| !s.done) {
            let Some(iterator) = shard.iterator.take() else {
                shard.done = true;
                continue;
            };
            let out = clients
                .streams
                .get_records()
                .shard_iterator(iterator)
                .limit(1000)
                .send()
                .await
                .map_err(|e| CallError::from_sdk("GetRecords", &e))?;
            for record in out.records() {
                got_records = true;
                handle_record(state, t, arn, &shard.id, record, cursors).await;
            }
            shard.iterator = out.next_shard_iterator().map(str::to_owned);
            if shard.iterator.is_none() {
                // A closed shard is drained: its children show up in DescribeStream.
                shard.done = true;
                describe_due = true;
            }
        }
        if got_records {
            idle_polls = 0;
        } else {
            state.pipe().update(&t.table, |s| {
                s.lag_ms = Some(0.0);
                s.status = TableState::Following;
            });
            // moto stores every iterator it hands out for the life of the process: once a table
            // has been quiet for a while, poll it less often.
            idle_polls = idle_polls.saturating_add(1);
            let pause = if idle_polls > IDLE_AFTER_POLLS {
                t.poll * IDLE_SLOWDOWN
            } else {
                t.poll
            };
            tokio::time::sleep(pause).await;
        }
    }
}

/// List the stream's shards and take an iterator for each one not seen yet.
async fn add_new_shards(
    clients: &Clients,
    arn: &str,
    cursors: &Cursors,
    shards: &mut Vec<Shard>,
) -> Result<(), CallError> {
    let mut start: Option<String> = None;
    loop {
        let out = clients
            .streams
            .describe_stream()
            .stream_arn(arn)
            .set_exclusive_start_shard_id(start.take())
            .send()
            .await
            .map_err(|e| CallError::from_sdk("DescribeStream", &e))?;
        let Some(desc) = out.stream_description() else {
            return Ok(());
        };
        for s in desc.shards() {
            let Some(id) = s.shard_id() else { continue };
            if shards.iter().any(|k| k.id == id) {
                continue;
            }
            let mut req = clients
                .streams
                .get_shard_iterator()
                .stream_arn(arn)
                .shard_id(id);
            req = match cursors.last(arn, id) {
                Some(seq) => req
                    .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                    .sequence_number(seq),
                None => req.shard_iterator_type(ShardIteratorType::TrimHorizon),
            };
            let it = req
                .send()
                .await
                .map_err(|e| CallError::from_sdk("GetShardIterator", &e))?;
            shards.push(Shard {
                id: id.to_owned(),
                iterator: it.shard_iterator().map(str::to_owned),
                done: false,
            });
        }
        match desc.last_evaluated_shard_id() {
            Some(last) => start = Some(last.to_owned()),
            None => return Ok(()),
        }
    }
}

/// Deliver one record unless the cursor says it was handled already, then move the cursor.
async fn handle_record(
    state: &AppState,
    t: &Followed,
    arn: &str,
    shard_id: &str,
    record: &Record,
    cursors: &mut Cursors,
) {
    let seq = record
        .dynamodb()
        .and_then(|d| d.sequence_number())
        .unwrap_or_default()
        .to_owned();
    if !seq.is_empty() && !cursors.is_new(arn, shard_id, &seq) {
        state.pipe().update(&t.table, |s| s.duplicates_skipped += 1);
        return;
    }
    // A snapshot restore replays moto's writes into new streams; they were delivered already.
    if state.hold().predates_restore(record).await {
        if !seq.is_empty() {
            cursors.mark(arn, shard_id, &seq);
        }
        state.pipe().update(&t.table, |s| s.duplicates_skipped += 1);
        return;
    }
    let event = to_event(record, arn, &t.detail_name, &t.region);
    let lag_ms = record
        .dynamodb()
        .and_then(|d| d.approximate_creation_date_time())
        .and_then(|c| c.to_millis().ok())
        .map(|created| {
            let now = aws_smithy_types::DateTime::from(SystemTime::now())
                .to_millis()
                .unwrap_or(created);
            (now - created).max(0) as f64
        });
    let meta = EventMeta {
        id: event.id.clone(),
        detail_type: event.detail_type.clone(),
        source: event.source.clone(),
    };
    let body = match serde_json::to_vec(&event) {
        Ok(b) => Bytes::from(b),
        Err(e) => {
            tracing::error!(error = %e, "cannot serialise a pipe event");
            return;
        }
    };
    let received_at = SystemTime::now();
    let started = Instant::now();
    // No retries: locally an exporter that is not running would stall the whole stream behind
    // one record. The failure is visible in /events and the counts.
    let dispatched = dispatch(state, &meta.detail_type, body).await;
    let outcome = record_event(
        state,
        &meta,
        Via::Pipe,
        Some(&t.table),
        &dispatched,
        started,
        received_at,
    );
    if !seq.is_empty() {
        cursors.mark(arn, shard_id, &seq);
    }
    state.pipe().update(&t.table, |s| {
        s.records_seen += 1;
        match outcome {
            Outcome::Delivered => s.delivered += 1,
            Outcome::Ignored => s.ignored += 1,
            Outcome::Failed => s.failed += 1,
        }
        if lag_ms.is_some() {
            s.lag_ms = lag_ms;
        }
        s.status = TableState::Following;
    });
}
