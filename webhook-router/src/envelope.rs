//! The EventBridge event envelope: what the webhook reads from a posted event (only the few
//! fields routing needs; the body itself is forwarded byte for byte) and what the local pipe
//! writes (the full envelope the production pipe produces).

use std::time::SystemTime;

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::RouterError;

/// The routing-relevant part of a posted event. Everything else is skipped without building a
/// tree, which keeps the forwarding path cheap.
#[derive(Debug, Default, Deserialize)]
pub struct EventHead {
    #[serde(rename = "detail-type")]
    pub detail_type: Option<Value>,
    pub source: Option<Value>,
    pub id: Option<Value>,
    #[serde(rename = "detailType")]
    pub camel: Option<serde::de::IgnoredAny>,
    #[serde(rename = "detail_type")]
    pub snake: Option<serde::de::IgnoredAny>,
}

/// What routing and `/events` need from a valid event.
#[derive(Debug, Clone)]
pub struct EventMeta {
    pub id: String,
    pub detail_type: String,
    pub source: String,
}

/// Validate a posted body: one JSON object with a string `detail-type`.
pub fn parse_head(body: &[u8]) -> Result<EventMeta, RouterError> {
    // serde would accept a JSON array for a struct; EventBridge events are objects only.
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err(RouterError::BadRequest(
            match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
                Ok(_) => "event must be a JSON object".to_owned(),
                Err(e) => format!("body is not valid JSON: {e}"),
            },
        ));
    }
    let head: EventHead = serde_json::from_slice(body)
        .map_err(|e| RouterError::BadRequest(format!("body is not valid JSON: {e}")))?;
    let detail_type = match head.detail_type {
        Some(Value::String(s)) if !s.is_empty() => s,
        Some(Value::String(_)) | Some(Value::Null) | None => {
            let hint = if head.camel.is_some() {
                Some("detailType")
            } else if head.snake.is_some() {
                Some("detail_type")
            } else {
                None
            };
            return Err(RouterError::MissingDetailType { hint });
        }
        Some(_) => {
            return Err(RouterError::BadRequest(
                "'detail-type' must be a string".to_owned(),
            ));
        }
    };
    Ok(EventMeta {
        id: text_or_empty(head.id),
        detail_type,
        source: text_or_empty(head.source),
    })
}

fn text_or_empty(v: Option<Value>) -> String {
    match v {
        Some(Value::String(s)) => s,
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// A full EventBridge event, as the local pipe emits it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Event {
    pub version: String,
    pub id: String,
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    pub source: String,
    pub account: String,
    pub time: String,
    pub region: String,
    pub resources: Vec<String>,
    pub detail: Value,
}

/// RFC 3339, UTC, second precision (`2026-03-01T12:00:05Z`), as EventBridge writes `time`.
pub fn rfc3339_seconds(t: &DateTime) -> String {
    DateTime::from_secs(t.secs())
        .fmt(Format::DateTime)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// RFC 3339 with milliseconds, for `/events` timestamps.
pub fn rfc3339_millis(t: SystemTime) -> String {
    let d = DateTime::from(t);
    let ms = DateTime::from_millis(d.to_millis().unwrap_or(0));
    ms.fmt(Format::DateTime)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_parsing_cases() {
        let ok = parse_head(br#"{"detail-type":"A.B","source":"s","id":"1","detail":{}}"#).unwrap();
        assert_eq!(ok.detail_type, "A.B");
        assert_eq!(ok.source, "s");
        assert!(matches!(
            parse_head(b"[1,2]"),
            Err(RouterError::BadRequest(m)) if m.contains("object")
        ));
        assert!(matches!(
            parse_head(b"{nope"),
            Err(RouterError::BadRequest(_))
        ));
        assert!(matches!(parse_head(b""), Err(RouterError::BadRequest(_))));
        assert!(matches!(
            parse_head(br#"{"detailType":"A"}"#),
            Err(RouterError::MissingDetailType {
                hint: Some("detailType")
            })
        ));
        assert!(matches!(
            parse_head(br#"{"detail_type":"A"}"#),
            Err(RouterError::MissingDetailType {
                hint: Some("detail_type")
            })
        ));
        assert!(matches!(
            parse_head(br#"{"detail-type":3}"#),
            Err(RouterError::BadRequest(_))
        ));
    }

    #[test]
    fn time_is_whole_seconds() {
        let t = DateTime::from_secs_f64(1_772_366_405.347);
        assert_eq!(rfc3339_seconds(&t), "2026-03-01T12:00:05Z");
    }
}
