//! Property tests for the ListUsers filter parser: well-formed filters round-trip, anything else
//! is an InvalidParameterException, never a panic.

use fake_cognito::list_filter::{FILTERABLE, Op, parse};
use proptest::prelude::*;

fn quote(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"")
}

proptest! {
    #[test]
    fn well_formed_filters_round_trip(
        attr in proptest::sample::select(FILTERABLE.to_vec()),
        prefix in any::<bool>(),
        value in "\\PC{0,40}",
        pre in " {0,3}", mid1 in " {0,3}", mid2 in " {0,3}", post in " {0,3}",
    ) {
        let op = if prefix { "^=" } else { "=" };
        let text = format!("{pre}{attr}{mid1}{op}{mid2}\"{}\"{post}", quote(&value));
        let f = parse(&text).unwrap().unwrap();
        prop_assert_eq!(f.attribute, attr);
        prop_assert_eq!(f.op, if prefix { Op::Prefix } else { Op::Equals });
        prop_assert_eq!(f.value, value);
    }

    #[test]
    fn arbitrary_input_never_panics(text in "\\PC{0,80}") {
        let _ = parse(&text);
    }

    #[test]
    fn unknown_attributes_are_rejected(attr in "custom:[a-z]{1,10}", value in "[a-z]{0,10}") {
        let text = format!("{attr} = \"{value}\"");
        prop_assert!(parse(&text).is_err());
    }
}
