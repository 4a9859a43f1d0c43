//! `recencyParameters` (HYBRID): a decay factor from a timestamp field (epoch seconds) to the
//! query time or `center`, Marqo's four decay functions with `decayTo` as both the value at
//! `offset + scale` and the floor, optional growth for future timestamps, applied by
//! multiplication or, with `addToScoreWeight`, by addition.

use serde_json::{Map, Value};

use crate::engine::model::as_float;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decay {
    Exponential,
    Linear,
    Gaussian,
    Binary,
}

impl Decay {
    fn parse(v: Option<&Value>) -> Decay {
        match v.and_then(Value::as_str) {
            Some("linear") => Decay::Linear,
            Some("gaussian") => Decay::Gaussian,
            Some("binary") => Decay::Binary,
            _ => Decay::Exponential,
        }
    }

    /// The factor at distance `d` past the plateau: 1 at 0, `to` at `scale`, never below `to`.
    fn at(self, d: f64, scale: f64, to: f64) -> f64 {
        if d <= 0.0 {
            return 1.0;
        }
        let x = d / scale;
        let f = match self {
            Decay::Exponential => to.powf(x),
            Decay::Linear => 1.0 - (1.0 - to) * x,
            Decay::Gaussian => to.powf(x * x),
            Decay::Binary if x < 1.0 => 1.0,
            Decay::Binary => to,
        };
        f.max(to)
    }
}

/// `{number}{unit}` with unit `d` (days) or `h` (hours), as Marqo's duration parser reads it.
pub fn duration_seconds(v: &str) -> Result<f64, String> {
    let t = v.trim();
    let (num, unit) = t.split_at(t.len().saturating_sub(1));
    let per = match unit {
        "d" | "D" => 86_400.0,
        "h" | "H" => 3_600.0,
        _ => {
            return Err(format!(
                "Invalid duration '{v}'. Expected format: {{number}}{{unit}} where unit is 'd' (days) or 'h' (hours)"
            ));
        }
    };
    num.trim()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .map(|n| n * per)
        .ok_or_else(|| {
            format!(
                "Invalid duration '{v}'. Expected format: {{number}}{{unit}} where unit is 'd' (days) or 'h' (hours)"
            )
        })
}

struct Grow {
    from: f64,
    decay: Decay,
    scale: f64,
    offset: f64,
}

/// `applyInRankingPhase`: Marqo sends `should_apply_score = 0` to the rank profiles for
/// `only-global` and `apply_in_global_ranking_phase = false` to the searcher for `exclude-global`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    All,
    OnlyGlobal,
    ExcludeGlobal,
}

pub struct Recency {
    field: String,
    phase: Phase,
    /// `applyToSubqueries` (default both): which retrieval legs' rank profiles apply it.
    to_tensor: bool,
    to_lexical: bool,
    scale: f64,
    offset: f64,
    decay: Decay,
    decay_to: f64,
    add_weight: Option<f64>,
    center: Option<f64>,
    grow: Option<Grow>,
}

fn secs(o: &Map<String, Value>, key: &str, default: f64) -> f64 {
    o.get(key)
        .and_then(Value::as_str)
        .and_then(|s| duration_seconds(s).ok())
        .unwrap_or(default)
}

impl Recency {
    /// A body the model check accepted.
    pub fn parse(v: Option<&Value>) -> Option<Recency> {
        let o = v?.as_object()?;
        let grow = o.get("growFrom").and_then(as_float).map(|from| Grow {
            from,
            decay: Decay::parse(o.get("growFunction")),
            scale: secs(o, "growScale", 1.0),
            offset: secs(o, "growOffset", 0.0),
        });
        let phase = match o.get("applyInRankingPhase").and_then(Value::as_str) {
            Some("only-global") => Phase::OnlyGlobal,
            Some("exclude-global") => Phase::ExcludeGlobal,
            _ => Phase::All,
        };
        let legs: Option<Vec<&str>> = o
            .get("applyToSubqueries")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect());
        let leg = |name: &str| legs.as_ref().is_none_or(|l| l.contains(&name));
        Some(Recency {
            field: o.get("recencyField")?.as_str()?.trim().to_string(),
            phase,
            to_tensor: leg("tensor"),
            to_lexical: leg("lexical"),
            scale: secs(o, "scale", 7.0 * 86_400.0),
            offset: secs(o, "offset", 0.0),
            decay: Decay::parse(o.get("decayFunction")),
            decay_to: o.get("decayTo").and_then(as_float).unwrap_or(0.5),
            add_weight: o.get("addToScoreWeight").and_then(as_float),
            center: o.get("center").and_then(as_float),
            grow,
        })
    }

    /// Whether the rank profile of a retrieval leg applies it (HybridSearcher.createSubQuery:
    /// not for `only-global`, nor for a leg `applyToSubqueries` leaves out).
    pub fn in_leg(&self, tensor_leg: bool) -> bool {
        self.phase != Phase::OnlyGlobal
            && if tensor_leg {
                self.to_tensor
            } else {
                self.to_lexical
            }
    }

    /// Whether the searcher's global phase applies it (`postProcessResults`).
    pub fn in_global(&self) -> bool {
        self.phase != Phase::ExcludeGlobal
    }

    /// Whether the reference time is fixed (the same request ranks the same way later).
    pub fn has_center(&self) -> bool {
        self.center.is_some()
    }

    /// The reference time: `center`, else now.
    pub fn now(&self) -> f64 {
        self.center.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64())
        })
    }

    /// The factor of one document; without the field it is as old as can be (`decayTo`).
    pub fn factor(&self, doc: &Map<String, Value>, now: f64) -> f64 {
        let Some(t) = doc.get(&self.field).and_then(Value::as_f64) else {
            return self.decay_to;
        };
        if t > now {
            return match &self.grow {
                Some(g) => g.decay.at(t - now - g.offset, g.scale, g.from),
                None => 1.0,
            };
        }
        self.decay
            .at(now - t - self.offset, self.scale, self.decay_to)
    }

    pub fn apply(&self, score: f64, doc: &Map<String, Value>, now: f64) -> f64 {
        let f = self.factor(doc, now);
        match self.add_weight {
            Some(w) => score + f * w,
            None => score * f,
        }
    }
}
