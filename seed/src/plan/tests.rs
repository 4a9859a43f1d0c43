//! Unit tests of the seed plan: determinism, golden values, sizes, and the derived names.

use super::*;
use crate::manifest::Services;

fn input(seed: u64, sizes: Sizes) -> PlanInput<'static> {
    PlanInput {
        seed,
        sizes,
        table_prefix: "dev-test-",
        cell: "local",
        region: "us-east-1",
        encryption_secret: "1234567890ABCDEF",
        services: Services {
            cell_url: Some("http://127.0.0.1:9001".into()),
            cognito_url: None,
            moto_url: Some("http://127.0.0.1:9003".into()),
        },
    }
}

fn manifest(seed: u64, sizes: Sizes) -> Manifest {
    build(crate::fixtures::get().unwrap(), &input(seed, sizes))
}

fn ids(m: &Manifest) -> Vec<String> {
    let mut v = Vec::new();
    for a in &m.accounts {
        v.push(a.account_id.clone());
        v.push(a.system_account_id.clone());
        for k in &a.api_keys {
            v.push(k.key_id.clone());
            v.push(k.key.clone());
            v.push(k.encrypted.clone());
        }
        for ix in &a.indexes {
            v.extend(ix.sample_doc_ids.iter().cloned());
        }
    }
    for u in &m.cognito.users {
        v.push(u.username.clone());
        v.push(u.user_id.clone());
        v.push(u.password.clone());
    }
    v
}

#[test]
fn same_seed_gives_a_byte_identical_plan() {
    for seed in [0, 1, 42, u64::MAX] {
        let a = manifest(seed, Sizes::default()).to_json();
        let b = manifest(seed, Sizes::default()).to_json();
        assert_eq!(a, b, "seed {seed}");
    }
    let s = Sizes::standard();
    assert_eq!(manifest(7, s).to_json(), manifest(7, s).to_json());
}

#[test]
fn different_seeds_share_no_id() {
    // A property over many seed pairs rather than one example.
    for seed in 0..24u64 {
        let a = ids(&manifest(seed, Sizes::default()));
        let b: std::collections::BTreeSet<String> = ids(&manifest(seed + 1000, Sizes::default()))
            .into_iter()
            .collect();
        for id in &a {
            if id.contains('-') && id.len() > 20 || id.starts_with("key_") || id.starts_with("sku-")
            {
                assert!(!b.contains(id), "seed {seed}: {id} repeats");
            }
        }
        assert_ne!(
            manifest(seed, Sizes::default()).to_json(),
            manifest(seed + 1000, Sizes::default()).to_json()
        );
    }
}

#[test]
fn sizes_are_honoured_and_growing_one_size_keeps_the_rest() {
    let small = manifest(5, Sizes::default());
    assert_eq!(small.accounts.len(), 3);
    assert_eq!(small.cognito.users.len(), 12);
    assert_eq!(
        small
            .accounts
            .iter()
            .map(|a| a.indexes.len())
            .sum::<usize>(),
        2
    );
    let std_ = manifest(5, Sizes::standard());
    assert_eq!(std_.accounts.len(), 50);
    assert_eq!(std_.cognito.users.len(), 500);
    let indexes: Vec<_> = std_.accounts.iter().flat_map(|a| &a.indexes).collect();
    assert_eq!(indexes.len(), 5);
    assert!(
        indexes
            .iter()
            .all(|i| i.documents == 2000 && i.sample_doc_ids.len() == SAMPLE_IDS)
    );

    let more_users = manifest(
        5,
        Sizes {
            users_per_account: 6,
            ..Sizes::default()
        },
    );
    for (a, b) in small.accounts.iter().zip(&more_users.accounts) {
        assert_eq!(a.account_id, b.account_id);
        assert_eq!(a.api_keys, b.api_keys);
        assert_eq!(a.indexes, b.indexes);
    }
    let more_docs = manifest(
        5,
        Sizes {
            docs_per_index: 1000,
            ..Sizes::default()
        },
    );
    assert_eq!(small.cognito.users, more_docs.cognito.users);
    assert_eq!(
        small.accounts[0].indexes[0].sample_doc_ids,
        more_docs.accounts[0].indexes[0].sample_doc_ids
    );
}

#[test]
fn generated_values_are_valid_for_the_services() {
    let m = manifest(11, Sizes::standard());
    let mut names = std::collections::BTreeSet::new();
    for u in &m.cognito.users {
        let p = &u.password;
        assert!(p.len() >= 8, "{p}");
        assert!(p.chars().any(|c| c.is_ascii_uppercase()), "{p}");
        assert!(p.chars().any(|c| c.is_ascii_lowercase()), "{p}");
        assert!(p.chars().any(|c| c.is_ascii_digit()), "{p}");
        assert!(p.chars().any(|c| !c.is_ascii_alphanumeric()), "{p}");
        assert!(names.insert(u.username.clone()), "duplicate {}", u.username);
        assert!(u.email.contains('@'));
        assert!(m.accounts.iter().any(|a| a.account_id == u.account_id));
    }
    assert_eq!(m.cognito.users[0].groups, vec!["admin".to_owned()]);
    for a in &m.accounts {
        for k in &a.api_keys {
            let d = crate::keys::decode(&k.encrypted, "1234567890ABCDEF").unwrap();
            assert_eq!(d.system_account_id, a.system_account_id);
            assert_eq!(d.cell, "local");
            assert_eq!(d.token, k.key);
        }
        for ix in &a.indexes {
            let n = &ix.name;
            assert!(
                n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                    && !n.starts_with(|c: char| c.is_ascii_digit()),
                "{n}"
            );
        }
    }
    for b in &m.moto.buckets {
        assert!(
            b.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{b}"
        );
        assert!((3..=63).contains(&b.len()));
    }
    assert!(
        m.moto
            .secrets
            .contains(&"dev/api_key_encryption_key_secret".to_owned())
    );
    assert_eq!(m.skipped, vec!["cognito".to_owned()]);
}

#[test]
fn records_carry_every_key_attribute_their_table_declares() {
    let f = crate::fixtures::get().unwrap();
    let m = manifest(3, Sizes::standard());
    let items = crate::moto::records::items(f, &m.accounts, &m.cognito.users, "local", 3);
    for t in &f.tables {
        let (_, list) = items.iter().find(|(n, _)| n == t.base_name()).unwrap();
        assert!(!list.is_empty(), "{}", t.base_name());
        let mut keys: Vec<&str> = t.key_attributes();
        for g in &t.global_secondary_indexes {
            keys.extend(g.key_schema.iter().map(|k| k.attribute_name.as_str()));
        }
        let mut primary = std::collections::BTreeSet::new();
        for item in list {
            for k in &keys {
                assert!(
                    item.get(*k).is_some_and(|v| v.is_s()),
                    "{}: {k}",
                    t.base_name()
                );
            }
            let pk: Vec<String> = t
                .key_attributes()
                .iter()
                .map(|k| format!("{:?}", item.get(*k)))
                .collect();
            assert!(
                primary.insert(pk),
                "{}: duplicate primary key",
                t.base_name()
            );
        }
        let table = m
            .moto
            .tables
            .iter()
            .find(|x| x.name == t.name_with("dev-test-"))
            .unwrap();
        assert_eq!(table.items, list.len());
    }
}

#[test]
fn golden_values_never_change() {
    // Pins the RNG, the stream derivation, the fixtures and the cipher: the same seed must give
    // the same data on every machine and every release. Change these only on purpose.
    let m = manifest(42, Sizes::default());
    assert_eq!(
        m.accounts[0].account_id,
        "0bcd9df4-b07a-4895-81c9-b7d90dbcae6c"
    );
    assert_eq!(m.accounts[0].system_account_id, "5sg4mc1ryyo8");
    assert_eq!(m.accounts[0].name, "Starling Co");
    assert_eq!(
        m.accounts[0].api_keys[0].key,
        "mB2r52F3ZqISrQIJuhbXMofDb1sS1XOe4LrBQHqW"
    );
    assert_eq!(
        m.accounts[0].api_keys[0].encrypted,
        "hk1.jer-DMwGXtgK_EkreKpJH5uXqC113ZInNiwrLLV2Fad4DepzLIKUHVDN9GoNoh-CEI8romNaYFEzGhCVSDBPGSE8MNA-BONOO2gZacyfisR6Clr7nBu0TlTgdi5RIKENuzP1DURPoGSdOREq4EB-dcZUn5otBmHO35lmBNc0s9XAdA"
    );
    assert_eq!(m.accounts[0].indexes[0].name, "starling-home-0");
    assert_eq!(
        m.accounts[0].indexes[0].sample_doc_ids[0],
        "sku-7wz38jqiwjyb"
    );
    assert_eq!(m.cognito.users[0].username, "leila.white.kz59");
    assert_eq!(m.cognito.users[0].password, "Hazel-cedar-1194");
}

#[test]
fn env_file_names_everything_suites_need() {
    let m = manifest(8, Sizes::default());
    let env = m.env_file(std::path::Path::new("/p/.hippodrome/seed.json"));
    for key in [
        "ENVIRONMENT=hippodrome",
        "HIPPODROME_RANDOM_SEED=8",
        "HIPPODROME_CELL_URL=http://127.0.0.1:9001",
        "# HIPPODROME_COGNITO_URL is unset: its service was not seeded",
        "AWS_ACCESS_KEY_ID=testing",
        "AWS_SECRET_ACCESS_KEY=testing",
        "AWS_DEFAULT_REGION=us-east-1",
        "AWS_ENDPOINT_URL=http://127.0.0.1:9003",
        "HIPPODROME_TABLE_PREFIX=dev-test-",
        "HIPPODROME_SEED_MANIFEST=/p/.hippodrome/seed.json",
    ] {
        assert!(env.lines().any(|l| l == key), "{key} missing in\n{env}");
    }
    let key_line = format!("HIPPODROME_CELL_API_KEY={}", m.accounts[0].api_keys[0].key);
    assert!(env.contains(&key_line));
    let user_line = format!("HIPPODROME_E2E_USERNAME={}", m.cognito.users[0].username);
    assert!(env.contains(&user_line));
    for line in env.lines().filter(|l| !l.starts_with('#')) {
        let (_, v) = line.split_once('=').unwrap();
        assert!(
            !v.contains([' ', '"', '\'', '$', '`', '\\']),
            "needs quoting: {line}"
        );
    }
}
