//! A DynamoDB stream record → the EventBridge envelope the production pipe produces (see the
//! reference, §4 "Locally we do not emulate pipe configuration"): detail-type
//! `<Name>.<eventName>`, source `marqo.dynamodb`, `detail` = the record in DynamoDB Streams JSON
//! plus `eventSourceARN`, `time` from `ApproximateCreationDateTime`, `resources` = `[stream ARN]`.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodbstreams::types::{AttributeValue, Record};
use aws_smithy_types::DateTime;
use serde_json::{Map, Number, Value, json};

use crate::envelope::{Event, rfc3339_seconds};

pub const SOURCE: &str = "marqo.dynamodb";

/// Build the envelope for one record of `stream_arn`, routed as `<detail_name>.<eventName>`.
pub fn to_event(
    record: &Record,
    stream_arn: &str,
    detail_name: &str,
    fallback_region: &str,
) -> Event {
    let event_name = record
        .event_name()
        .map(|n| n.as_str().to_owned())
        .unwrap_or_else(|| "UNKNOWN".to_owned());
    let (arn_region, account) = arn_region_account(stream_arn);
    let region = arn_region
        .or(record.aws_region())
        .unwrap_or(fallback_region)
        .to_owned();
    let created = record
        .dynamodb()
        .and_then(|d| d.approximate_creation_date_time())
        .copied()
        .unwrap_or_else(|| DateTime::from(std::time::SystemTime::now()));
    Event {
        version: "0".to_owned(),
        id: uuid::Uuid::new_v4().to_string(),
        detail_type: format!("{detail_name}.{event_name}"),
        source: SOURCE.to_owned(),
        account: account.unwrap_or("123456789012").to_owned(),
        time: rfc3339_seconds(&created),
        region,
        resources: vec![stream_arn.to_owned()],
        detail: record_json(record, stream_arn),
    }
}

/// `arn:aws:dynamodb:<region>:<account>:table/...` → (region, account).
fn arn_region_account(arn: &str) -> (Option<&str>, Option<&str>) {
    let mut parts = arn.splitn(6, ':');
    let region = parts.nth(3).filter(|s| !s.is_empty());
    let account = parts.next().filter(|s| !s.is_empty());
    (region, account)
}

/// The record in the wire shape of DynamoDB Streams JSON, as a pipe passes it on.
pub fn record_json(r: &Record, stream_arn: &str) -> Value {
    let mut m = Map::new();
    put_str(&mut m, "eventID", r.event_id());
    put_str(&mut m, "eventName", r.event_name().map(|n| n.as_str()));
    put_str(&mut m, "eventVersion", r.event_version());
    put_str(&mut m, "eventSource", r.event_source());
    put_str(&mut m, "awsRegion", r.aws_region());
    if let Some(d) = r.dynamodb() {
        let mut dm = Map::new();
        if let Some(t) = d.approximate_creation_date_time() {
            // AWS sends whole epoch seconds as a number; moto adds milliseconds.
            dm.insert("ApproximateCreationDateTime".into(), json!(t.secs()));
        }
        if let Some(k) = d.keys() {
            dm.insert("Keys".into(), attr_map(k));
        }
        if let Some(n) = d.new_image() {
            dm.insert("NewImage".into(), attr_map(n));
        }
        if let Some(o) = d.old_image() {
            dm.insert("OldImage".into(), attr_map(o));
        }
        put_str(&mut dm, "SequenceNumber", d.sequence_number());
        if let Some(s) = d.size_bytes() {
            dm.insert("SizeBytes".into(), json!(s));
        }
        put_str(
            &mut dm,
            "StreamViewType",
            d.stream_view_type().map(|v| v.as_str()),
        );
        m.insert("dynamodb".into(), Value::Object(dm));
    }
    if let Some(u) = r.user_identity() {
        let mut um = Map::new();
        put_str(&mut um, "type", u.r#type());
        put_str(&mut um, "principalId", u.principal_id());
        m.insert("userIdentity".into(), Value::Object(um));
    }
    m.insert("eventSourceARN".into(), json!(stream_arn));
    Value::Object(m)
}

fn put_str(m: &mut Map<String, Value>, k: &str, v: Option<&str>) {
    if let Some(v) = v {
        m.insert(k.to_owned(), Value::String(v.to_owned()));
    }
}

/// Attribute maps with keys sorted, so the same item always serialises the same way.
fn attr_map(m: &HashMap<String, AttributeValue>) -> Value {
    let sorted: BTreeMap<&String, &AttributeValue> = m.iter().collect();
    Value::Object(
        sorted
            .into_iter()
            .map(|(k, v)| (k.clone(), attr(v)))
            .collect(),
    )
}

/// One AttributeValue in DynamoDB JSON: `{"S": "x"}`, `{"N": "3"}`, `{"M": {...}}`...
pub fn attr(v: &AttributeValue) -> Value {
    let b64 = |b: &aws_smithy_types::Blob| aws_smithy_types::base64::encode(b.as_ref());
    match v {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::B(b) => json!({ "B": b64(b) }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(b) => json!({ "NULL": b }),
        AttributeValue::Ss(v) => json!({ "SS": v }),
        AttributeValue::Ns(v) => json!({ "NS": v }),
        AttributeValue::Bs(v) => json!({ "BS": v.iter().map(b64).collect::<Vec<_>>() }),
        AttributeValue::L(v) => json!({ "L": v.iter().map(attr).collect::<Vec<_>>() }),
        AttributeValue::M(m) => json!({ "M": attr_map(m) }),
        // A type newer than this SDK: say so rather than drop the attribute silently.
        _ => json!({ "UNKNOWN": Value::Number(Number::from(0)) }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodbstreams::types::{OperationType, StreamRecord, StreamViewType};

    const ARN: &str = "arn:aws:dynamodb:eu-west-1:111122223333:table/dev-x-EcomIndexSettingsTable/stream/2026-03-01T11:58:00.000";

    #[test]
    fn modify_record_becomes_the_production_envelope() {
        let rec = Record::builder()
            .event_id("e1")
            .event_name(OperationType::Modify)
            .event_version("1.0")
            .event_source("aws:dynamodb")
            .aws_region("eu-west-1")
            .dynamodb(
                StreamRecord::builder()
                    .approximate_creation_date_time(DateTime::from_secs_f64(1_772_366_405.347))
                    .keys("pk", AttributeValue::S("shop#1".into()))
                    .new_image("pk", AttributeValue::S("shop#1".into()))
                    .new_image("boost", AttributeValue::N("3".into()))
                    .new_image(
                        "tags",
                        AttributeValue::L(vec![
                            AttributeValue::Bool(true),
                            AttributeValue::Null(true),
                        ]),
                    )
                    .old_image("pk", AttributeValue::S("shop#1".into()))
                    .sequence_number("1100000000017454423010")
                    .size_bytes(353)
                    .stream_view_type(StreamViewType::NewAndOldImages)
                    .build(),
            )
            .build();
        let ev = to_event(&rec, ARN, "EcomIndexSettings", "us-east-1");
        assert_eq!(ev.detail_type, "EcomIndexSettings.MODIFY");
        assert_eq!(ev.source, "marqo.dynamodb");
        assert_eq!(ev.account, "111122223333");
        assert_eq!(ev.region, "eu-west-1");
        assert_eq!(ev.time, "2026-03-01T12:00:05Z");
        assert_eq!(ev.resources, vec![ARN.to_owned()]);
        let d = &ev.detail;
        assert_eq!(d["eventSourceARN"], ARN);
        assert_eq!(d["eventName"], "MODIFY");
        assert_eq!(d["dynamodb"]["Keys"]["pk"]["S"], "shop#1");
        assert_eq!(d["dynamodb"]["NewImage"]["boost"]["N"], "3");
        assert_eq!(d["dynamodb"]["NewImage"]["tags"]["L"][0]["BOOL"], true);
        assert_eq!(d["dynamodb"]["ApproximateCreationDateTime"], 1_772_366_405);
        assert_eq!(d["dynamodb"]["StreamViewType"], "NEW_AND_OLD_IMAGES");
        let v = serde_json::to_value(&ev).unwrap();
        assert_eq!(v["detail-type"], "EcomIndexSettings.MODIFY");
        assert_eq!(v["version"], "0");
    }
}
