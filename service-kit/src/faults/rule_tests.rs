//! The matcher and a rule's counters, expiry and seeded sequence.

use super::*;

#[test]
fn glob_matches_case_insensitively_with_stars() {
    assert!(glob("PutItem", "putitem"));
    assert!(glob("*", "anything"));
    assert!(glob("Get*", "GetItem"));
    assert!(glob("*Item", "BatchGetItem"));
    assert!(glob("a*c*e", "abcde"));
    assert!(!glob("Get*", "PutItem"));
    assert!(!glob("orders", "orders-2"));
    assert!(glob("orders*", "orders-2"));
}

#[test]
fn validation_names_the_problem() {
    let ok = RuleSpec {
        error: Some("ThrottlingException".into()),
        ..Default::default()
    };
    assert_eq!(ok.validate(), Ok(()));
    let none = RuleSpec::default();
    assert!(none.validate().unwrap_err().contains("needs an action"));
    let two = RuleSpec {
        drop: true,
        timeout: true,
        ..Default::default()
    };
    assert!(two.validate().unwrap_err().contains("one of error"));
    let freq = RuleSpec {
        next: Some(1),
        every: Some(2),
        ..ok.clone()
    };
    assert!(freq.validate().unwrap_err().contains("one of next"));
    let p = RuleSpec {
        probability: Some(1.5),
        ..ok.clone()
    };
    assert!(p.validate().unwrap_err().contains("probability"));
    let status = RuleSpec {
        status: Some(200),
        ..ok.clone()
    };
    assert!(status.validate().unwrap_err().contains("400-599"));
    let code = RuleSpec {
        error: Some("<x>".into()),
        ..Default::default()
    };
    assert!(code.validate().is_err());
}

fn rule(spec: RuleSpec) -> Rule {
    Rule::new("f1".into(), spec, 7, 1_000)
}

fn err() -> RuleSpec {
    RuleSpec {
        error: Some("X".into()),
        ..Default::default()
    }
}

#[test]
fn next_n_fires_n_times_then_ends() {
    let mut r = rule(RuleSpec {
        next: Some(2),
        ..err()
    });
    let fired: Vec<bool> = (0..5).map(|_| r.decide()).collect();
    assert_eq!(fired, [true, true, false, false, false]);
    assert_eq!(r.ended, Some(Ended::Exhausted));
    assert_eq!(r.hits, 2);
}

#[test]
fn every_nth_fires_on_multiples() {
    let mut r = rule(RuleSpec {
        every: Some(3),
        ..err()
    });
    let fired: Vec<bool> = (0..7).map(|_| r.decide()).collect();
    assert_eq!(fired, [false, false, true, false, false, true, false]);
    assert!(r.ended.is_none());
}

#[test]
fn max_hits_and_time_end_a_rule() {
    let mut r = rule(RuleSpec {
        max_hits: Some(1),
        expires_in_ms: Some(500),
        ..err()
    });
    assert!(r.decide());
    assert_eq!(r.ended, Some(Ended::Exhausted));
    let mut t = rule(RuleSpec {
        expires_in_ms: Some(500),
        ..err()
    });
    assert!(t.refresh(1_499));
    assert!(!t.refresh(1_500));
    assert_eq!(t.ended, Some(Ended::Expired));
}

#[test]
fn a_seeded_probability_replays_and_another_seed_differs() {
    let spec = RuleSpec {
        probability: Some(0.5),
        ..err()
    };
    let run = |seed: u64| {
        let mut r = Rule::new("f1".into(), spec.clone(), seed, 0);
        (0..64).map(|_| r.decide()).collect::<Vec<bool>>()
    };
    assert_eq!(run(42), run(42));
    assert_ne!(run(42), run(43));
    let hits = run(42).iter().filter(|b| **b).count();
    assert!((16..=48).contains(&hits), "{hits} of 64 at p=0.5");
}

#[test]
fn a_restored_rule_continues_its_sequence() {
    let spec = RuleSpec {
        probability: Some(0.5),
        ..err()
    };
    let mut whole = Rule::new("f1".into(), spec.clone(), 9, 0);
    let all: Vec<bool> = (0..20).map(|_| whole.decide()).collect();
    let mut first = Rule::new("f1".into(), spec, 9, 0);
    let mut seen: Vec<bool> = (0..8).map(|_| first.decide()).collect();
    let json = serde_json::to_string(&first).unwrap();
    let mut restored: Rule = serde_json::from_str(&json).unwrap();
    seen.extend((0..12).map(|_| restored.decide()));
    assert_eq!(seen, all);
}
