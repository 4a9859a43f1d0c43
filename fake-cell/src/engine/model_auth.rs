//! `modelAuth`: Marqo's `ModelAuth` model, on every body that takes one (search, add
//! documents, recommend, embed). Exactly one of `s3` (`aws_secret_access_key`,
//! `aws_access_key_id`, optional `aws_session_token`) or `hf` (`token`); other keys are ignored.
//! Its field errors are 422 items of the body; none or both given is the `InvalidArgError`
//! (400) its own checks raise. fake-cell downloads no models, so a valid one is then unused.

use serde_json::{Value, json};

use super::model::{Errors, Field, Kind, as_dict, given, not_a_dict};
use crate::error::{CellError, CellResult};

/// `ModelAuth(**value)`: the items (relative to the field) or the 400 it raises.
pub fn check(v: &Value) -> CellResult<Vec<Value>> {
    let Some(auth) = as_dict(v) else {
        return Ok(vec![not_a_dict(json!([]))]);
    };
    let mut items = Vec::new();
    let s3 = given(&auth, "s3");
    let s3_ok = s3.is_some_and(|s3| credentials(s3, "s3", S3, &mut items));
    let hf = given(&auth, "hf");
    // `hf`'s pre-validator sees `s3` only if it validated.
    if s3_ok && hf.is_some() {
        return Err(CellError::InvalidArgument(
            "More than one model authentication was provided. Only one model authentication object is allowed".into(),
        ));
    }
    if let Some(hf) = hf {
        credentials(hf, "hf", HF, &mut items);
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

/// `S3Auth`'s fields (`aws_session_token` is optional).
const S3: &[Field] = &[
    Field("aws_secret_access_key", Kind::Str, false),
    Field("aws_access_key_id", Kind::Str, false),
    Field("aws_session_token", Kind::Str, true),
];
/// `HfAuth`'s one field.
const HF: &[Field] = &[Field("token", Kind::Str, false)];

/// One credentials model (`S3Auth` / `HfAuth`; every non-null field is required, other keys are
/// ignored); whether it validated.
fn credentials(v: &Value, at: &str, fields: &[Field], items: &mut Vec<Value>) -> bool {
    let Some(m) = as_dict(v) else {
        items.push(not_a_dict(json!([at])));
        return false;
    };
    let required: Vec<&str> = fields.iter().filter(|f| !f.2).map(|f| f.0).collect();
    let mut errs = Errors::default();
    errs.check_fields(&m, &[at], fields, &required);
    let found = errs.into_items();
    let ok = found.is_empty();
    items.extend(found);
    ok
}

#[cfg(test)]
mod tests {
    use super::super::model::item;
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
