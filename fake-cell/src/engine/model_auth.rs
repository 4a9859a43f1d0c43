//! `modelAuth`: Marqo's `ModelAuth` model, on every body that takes one (search, add
//! documents, recommend, embed). Exactly one of `s3` (`aws_secret_access_key`,
//! `aws_access_key_id`, optional `aws_session_token`) or `hf` (`token`); other keys are ignored.
//! Its field errors are 422 items of the body; none or both given is the `InvalidArgError`
//! (400) its own checks raise. fake-cell downloads no models, so a valid one is then unused.

use serde_json::{Value, json};

use super::model::{as_dict, given, item, missing, not_a_dict, str_field};
use crate::error::{CellError, CellResult};

/// `ModelAuth(**value)`: the items (relative to the field) or the 400 it raises.
pub fn check(v: &Value) -> CellResult<Vec<Value>> {
    let Some(auth) = as_dict(v) else {
        return Ok(vec![not_a_dict(json!([]))]);
    };
    let mut items = Vec::new();
    let s3 = given(&auth, "s3");
    let s3_ok = s3.is_some_and(|s3| {
        credentials(
            s3,
            "s3",
            &["aws_secret_access_key", "aws_access_key_id"],
            &["aws_session_token"],
            &mut items,
        )
    });
    let hf = given(&auth, "hf");
    // `hf`'s pre-validator sees `s3` only if it validated.
    if s3_ok && hf.is_some() {
        return Err(CellError::InvalidArgument(
            "More than one model authentication was provided. Only one model authentication object is allowed".into(),
        ));
    }
    if let Some(hf) = hf {
        credentials(hf, "hf", &["token"], &[], &mut items);
    }
    if !items.is_empty() {
        return Ok(items);
    }
    if s3.is_none() && hf.is_none() {
        return Err(CellError::InvalidArgument(
            "Missing authentication object. An authentic object, for example `s3` or  `hf`, must be provided. ".into(),
        ));
    }
    Ok(items)
}

/// One credentials model (`S3Auth` / `HfAuth`): required and optional `str` fields; whether
/// it validated.
fn credentials(
    v: &Value,
    at: &str,
    required: &[&str],
    optional: &[&str],
    items: &mut Vec<Value>,
) -> bool {
    let Some(m) = as_dict(v) else {
        items.push(not_a_dict(json!([at])));
        return false;
    };
    let before = items.len();
    for key in required.iter().chain(optional) {
        match m.get(*key) {
            None if required.contains(key) => items.push(missing(json!([at, key]))),
            None | Some(Value::Null) if optional.contains(key) => {}
            None => {}
            Some(v) => {
                if let Err((msg, kind)) = str_field(v) {
                    items.push(item(json!([at, key]), msg, kind));
                }
            }
        }
    }
    items.len() == before
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_one_valid_authentication() {
        let s3 = json!({"aws_secret_access_key": "a", "aws_access_key_id": 1});
        assert!(check(&json!({"s3": s3})).unwrap().is_empty());
        assert!(
            check(&json!({"hf": {"token": "t", "other": 1}}))
                .unwrap()
                .is_empty()
        );
        let both = check(&json!({"s3": s3, "hf": {"token": "t"}})).unwrap_err();
        assert!(
            both.to_string()
                .starts_with("More than one model authentication")
        );
        let none = check(&json!({"bogus": 1})).unwrap_err();
        assert!(
            none.to_string()
                .starts_with("Missing authentication object.")
        );
        let items =
            check(&json!({"s3": {"aws_access_key_id": null}, "hf": {"token": "t"}})).unwrap();
        assert_eq!(
            items,
            vec![
                item(
                    json!(["s3", "aws_secret_access_key"]),
                    "field required",
                    "value_error.missing"
                ),
                item(
                    json!(["s3", "aws_access_key_id"]),
                    "none is not an allowed value",
                    "type_error.none.not_allowed"
                ),
            ]
        );
        assert_eq!(check(&json!(5)).unwrap().len(), 1);
    }
}
