//! The scoring models of a search body as Marqo 2.23 checks them: `relevanceCutoff`
//! (`RelevanceCutoffModel`: method, `probeDepth`, the parameters each method needs) and
//! `recencyParameters` (`RecencyParameters`: durations, decay bounds, the grow parameters given
//! together or not at all). Used by [`super::params::check`].

use serde_json::{Map, Value};

use super::params::{At, ge};
use crate::engine::model::given;
use crate::engine::model::{Errors, Field, Kind, as_float};

const CUTOFF_METHODS: &[&str] = &["relative_max_score", "gap_detection", "mean_std_dev"];
const OPERANDS: &[&str] = &["or", "and", "weakAnd"];
const DECAYS: &[&str] = &["exponential", "linear", "gaussian", "binary"];
const PHASES: &[&str] = &["all", "only-global", "exclude-global"];

const CUTOFF: &[Field] = &[
    Field("method", Kind::Enum(CUTOFF_METHODS), false),
    Field("probeDepth", Kind::Int, false),
    Field("parameters", Kind::Dict, true),
    Field("affectFacets", Kind::Bool, false),
    Field(
        "overrideSortCandidatesWithRelevantCandidates",
        Kind::Bool,
        false,
    ),
    Field("lexicalOperand", Kind::Enum(OPERANDS), true),
];
const RECENCY: &[Field] = &[
    Field("recencyField", Kind::Str, false),
    Field("scale", Kind::Str, false),
    Field("offset", Kind::Str, false),
    Field("decayFunction", Kind::Enum(DECAYS), false),
    Field("decayTo", Kind::Float, false),
    Field("applyInRankingPhase", Kind::Enum(PHASES), false),
    Field("addToScoreWeight", Kind::Float, true),
    Field("center", Kind::Float, true),
    Field("applyToSubqueries", Kind::List, true),
    Field("growFrom", Kind::Float, true),
    Field("growFunction", Kind::Enum(DECAYS), true),
    Field("growScale", Kind::Str, true),
    Field("growOffset", Kind::Str, true),
];
pub(super) fn cutoff(errs: &mut Errors, at: &At, c: &Map<String, Value>) {
    errs.check(c, at.refs(), CUTOFF, &["method"]);
    ge(errs, at, c, "probeDepth", 1);
    let params = given(c, "parameters").and_then(Value::as_object);
    let relative = params.and_then(|p| given(p, "relativeScoreFactor"));
    let std_dev = params.and_then(|p| given(p, "stdDevFactor"));
    if let Some(p) = params {
        // The `Union[RelativeMaxScoreParameters, MeanStdParameters]`: one of the two models.
        let one_key = p.len() == 1 && (relative.is_some() || std_dev.is_some());
        if !one_key {
            let at = at.key("parameters");
            errs.push(
                at.loc("relativeScoreFactor"),
                "field required",
                "value_error.missing",
            );
            return;
        }
        if let Some(r) = relative {
            match as_float(r) {
                None => errs.push(
                    at.key("parameters").loc("relativeScoreFactor"),
                    "value is not a valid float",
                    "type_error.float",
                ),
                Some(x) if !(0.0..=1.0).contains(&x) => errs.push(
                    at.key("parameters").loc("relativeScoreFactor"),
                    if x < 0.0 {
                        "ensure this value is greater than or equal to 0"
                    } else {
                        "ensure this value is less than or equal to 1"
                    },
                    if x < 0.0 {
                        "value_error.number.not_ge"
                    } else {
                        "value_error.number.not_le"
                    },
                ),
                _ => {}
            }
        }
        if std_dev.is_some_and(|v| as_float(v).is_none()) {
            errs.push(
                at.key("parameters").loc("stdDevFactor"),
                "value is not a valid float",
                "type_error.float",
            );
        }
    }
    if !errs.is_empty() {
        return;
    }
    let method = given(c, "method").and_then(Value::as_str).unwrap_or("");
    let msg = match method {
        "relative_max_score" if relative.is_none() => Some(format!(
            "You must provide '['relativeScoreFactor']' as parameters for method '{method}'"
        )),
        "mean_std_dev" if std_dev.is_none() => Some(format!(
            "You must provide '['stdDevFactor']' as parameters for {method}"
        )),
        "gap_detection" if params.is_some() => Some(format!(
            "{method} does not require any parameters, but received {}",
            params_repr(relative, std_dev)
        )),
        _ => None,
    };
    if let Some(m) = msg {
        errs.root(at.refs(), m);
    }
}

/// How pydantic v1 prints the parameters model (`str(model)`).
fn params_repr(relative: Option<&Value>, std_dev: Option<&Value>) -> String {
    let num = |v: &Value| as_float(v).map_or_else(|| v.to_string(), |f| format!("{f:?}"));
    match (relative, std_dev) {
        (Some(r), _) => format!("relative_score_factor={}", num(r)),
        (_, Some(s)) => format!("std_dev_factor={}", num(s)),
        _ => String::new(),
    }
}

pub(super) fn recency(errs: &mut Errors, at: &At, r: &Map<String, Value>) {
    errs.check(r, at.refs(), RECENCY, &["recencyField"]);
    if given(r, "recencyField")
        .and_then(Value::as_str)
        .is_some_and(|f| f.trim().is_empty())
    {
        errs.value(at.refs(), "recencyField", "recency_field cannot be empty");
    }
    for (key, name, positive) in [
        ("scale", "scale", true),
        ("offset", "offset", false),
        ("growScale", "grow_scale", true),
        ("growOffset", "grow_offset", false),
    ] {
        let Some(v) = given(r, key).and_then(Value::as_str) else {
            continue;
        };
        match super::recency::duration_seconds(v) {
            Err(e) => errs.value(at.refs(), key, format!("Invalid {name} format: {e}")),
            Ok(s) if positive && s <= 0.0 => errs.value(
                at.refs(),
                key,
                format!("{name} must be greater than 0, got: {v} ({s} seconds)"),
            ),
            Ok(s) if s < 0.0 => errs.value(
                at.refs(),
                key,
                format!("{name} must be greater than or equal to 0, got: {v} ({s} seconds)"),
            ),
            Ok(_) => {}
        }
    }
    bounded(errs, at, r, "decayTo");
    bounded(errs, at, r, "growFrom");
    if given(r, "addToScoreWeight")
        .and_then(as_float)
        .is_some_and(|w| w <= 0.0)
    {
        errs.push(
            at.loc("addToScoreWeight"),
            "ensure this value is greater than 0",
            "value_error.number.not_gt",
        );
    }
    if given(r, "center")
        .and_then(as_float)
        .is_some_and(|c| c < 0.0)
    {
        errs.push(
            at.loc("center"),
            "ensure this value is greater than or equal to 0",
            "value_error.number.not_ge",
        );
    }
    if let Some(list) = given(r, "applyToSubqueries").and_then(Value::as_array) {
        for (i, v) in list.iter().enumerate() {
            if !matches!(v.as_str(), Some("tensor" | "lexical")) {
                let loc = at.key("applyToSubqueries").index(i).path();
                errs.push(
                    loc,
                    "unexpected value; permitted: 'tensor', 'lexical'",
                    "value_error.const",
                );
            }
        }
    }
    if !errs.is_empty() {
        return;
    }
    let grow = [
        ("growFrom", "growFrom"),
        ("growFunction", "growFunction"),
        ("growScale", "growScale"),
        ("growOffset", "growOffset"),
    ];
    let (mut provided, mut missing): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
    for (key, label) in grow {
        if given(r, key).is_some() {
            provided.push(label);
        } else {
            missing.push(label);
        }
    }
    if !provided.is_empty() && !missing.is_empty() {
        provided.sort_unstable();
        missing.sort_unstable();
        errs.root(
            at.refs(),
            format!(
                "Grow parameters must be either all provided or all omitted. Provided: [{}]. Missing: [{}].",
                provided.join(", "),
                missing.join(", ")
            ),
        );
    }
}

/// A float in (0, 1] (`gt=0, le=1`).
fn bounded(errs: &mut Errors, at: &At, r: &Map<String, Value>, key: &str) {
    match given(r, key).and_then(as_float) {
        Some(x) if x <= 0.0 => errs.push(
            at.loc(key),
            "ensure this value is greater than 0",
            "value_error.number.not_gt",
        ),
        Some(x) if x > 1.0 => errs.push(
            at.loc(key),
            "ensure this value is less than or equal to 1",
            "value_error.number.not_le",
        ),
        _ => {}
    }
}
