//! `GET|POST /_fake/clock`: tests move fake-cognito's notion of now instead of sleeping, and
//! `/healthz`, which shows the offset while one is set (so a moved clock is never a surprise).
//!
//! `POST` takes exactly one of `{"advance_seconds": N}` (negative moves back),
//! `{"set": "2030-01-01T00:00:00Z" | <unix seconds>}` or `{"reset": true}`; anything else is a
//! JSON 400 in the house `{"error","code","status"}` shape (this is not a Cognito API).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use service_kit::error::json_error;

use crate::app::AppState;
use crate::clock::{Clock, format_rfc3339, parse_rfc3339};

/// What a clock request asks for.
#[derive(Debug, PartialEq)]
enum Move {
    Advance(i64),
    Set(i64),
    Reset,
}

/// Where the clock stands: now (text and unix seconds) and the offset from wall time.
fn view(clock: &Clock) -> Value {
    let now = clock.now_ms();
    json!({
        "now": format_rfc3339(now),
        "now_epoch_seconds": now as f64 / 1000.0,
        "offset_seconds": clock.offset_ms() as f64 / 1000.0,
    })
}

fn bad(message: impl Into<String>) -> Response {
    json_error(StatusCode::BAD_REQUEST, "bad_request", message)
}

/// Whole seconds (or a finite fraction) as milliseconds, refusing what an i64 cannot hold.
fn seconds_to_ms(v: &Value, member: &str) -> Result<i64, String> {
    let ms = if let Some(i) = v.as_i64() {
        i.checked_mul(1000)
    } else {
        v.as_f64()
            .filter(|f| f.is_finite() && f.abs() < 9.0e15)
            .map(|f| (f * 1000.0).round() as i64)
    };
    ms.ok_or_else(|| format!("`{member}` must be a number of seconds"))
}

fn parse(body: &[u8]) -> Result<Move, String> {
    let obj: Map<String, Value> = match serde_json::from_slice(body) {
        Ok(Value::Object(o)) => o,
        Ok(_) => return Err("the body must be a JSON object".into()),
        Err(e) => return Err(format!("the body is not valid JSON: {e}")),
    };
    if let Some(k) = obj
        .keys()
        .find(|k| !matches!(k.as_str(), "advance_seconds" | "set" | "reset"))
    {
        return Err(format!(
            "unknown member `{k}`: expected one of advance_seconds, set, reset"
        ));
    }
    if obj.len() != 1 {
        return Err("give exactly one of advance_seconds, set, reset".into());
    }
    if let Some(v) = obj.get("advance_seconds") {
        return seconds_to_ms(v, "advance_seconds").map(Move::Advance);
    }
    if let Some(v) = obj.get("set") {
        return match v {
            Value::String(s) => parse_rfc3339(s).map(Move::Set).ok_or_else(|| {
                format!("`set` must be an RFC 3339 time such as 2030-01-01T00:00:00Z, not {s:?}")
            }),
            _ => seconds_to_ms(v, "set").map(Move::Set),
        };
    }
    match obj.get("reset") {
        Some(Value::Bool(true)) => Ok(Move::Reset),
        _ => Err("`reset` must be true".into()),
    }
}

pub async fn get_clock(State(app): State<AppState>) -> Response {
    axum::Json(view(&app.clock)).into_response()
}

pub async fn post_clock(State(app): State<AppState>, body: Bytes) -> Response {
    let moved = match parse(&body) {
        Ok(Move::Advance(ms)) => app.clock.advance(ms),
        Ok(Move::Set(ms)) => app.clock.set(ms),
        Ok(Move::Reset) => {
            app.clock.reset();
            Ok(())
        }
        Err(e) => return bad(e),
    };
    if let Err(e) = moved {
        return bad(e);
    }
    let v = view(&app.clock);
    tracing::info!(now = %v["now"], offset_seconds = %v["offset_seconds"], "clock moved");
    axum::Json(v).into_response()
}

/// The service_kit `/healthz` report, plus `"clock"` while the clock is moved.
pub async fn healthz(State(app): State<AppState>) -> Response {
    let (code, mut body) = app.health.report();
    if app.clock.offset_ms() != 0 {
        body["clock"] = view(&app.clock);
    }
    (code, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_read_strictly() {
        assert_eq!(
            parse(br#"{"advance_seconds": 90}"#),
            Ok(Move::Advance(90_000))
        );
        assert_eq!(
            parse(br#"{"advance_seconds": -0.5}"#),
            Ok(Move::Advance(-500))
        );
        assert_eq!(
            parse(br#"{"set": 1893456000}"#),
            Ok(Move::Set(1_893_456_000_000))
        );
        assert_eq!(
            parse(br#"{"set": "2030-01-01T00:00:00Z"}"#),
            Ok(Move::Set(1_893_456_000_000))
        );
        assert_eq!(parse(br#"{"reset": true}"#), Ok(Move::Reset));
        for bad in [
            &b""[..],
            b"[]",
            b"{}",
            b"{\"advance_seconds\": \"60\"}",
            b"{\"advance_seconds\": 1e300}",
            b"{\"advance_seconds\": 9223372036854775807}",
            b"{\"set\": \"tomorrow\"}",
            b"{\"set\": true}",
            b"{\"reset\": false}",
            b"{\"advance\": 1}",
            b"{\"advance_seconds\": 1, \"reset\": true}",
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
