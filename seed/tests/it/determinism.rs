//! Property tests of the seed's determinism (pure generation, no services): the same seed and sizes
//! give byte-identical manifests and documents; different seeds give different ids.

use proptest::prelude::*;
use seed::{SeedConfig, Sizes, catalogue, fixtures};

fn config(sizes: Sizes) -> SeedConfig {
    SeedConfig {
        sizes,
        cell_url: Some("http://127.0.0.1:1".into()),
        cognito_url: Some("http://127.0.0.1:2".into()),
        moto_url: Some("http://127.0.0.1:3".into()),
        ..SeedConfig::default()
    }
}

fn sizes() -> impl Strategy<Value = Sizes> {
    (0usize..4, 0usize..5, 0usize..4, 0usize..25).prop_map(|(a, u, i, d)| Sizes {
        accounts: a,
        users_per_account: u,
        indexes: i,
        docs_per_index: d,
    })
}

/// The manifest plus every index's documents, serialised: everything the seed would send.
fn generate(seed: u64, sizes: Sizes) -> (String, Vec<u8>) {
    let manifest = seed::plan(&config(sizes), seed).expect("embedded fixtures load");
    let f = fixtures::get().expect("embedded fixtures load");
    let mut docs = Vec::new();
    for account in &manifest.accounts {
        for ix in &account.indexes {
            let ids = catalogue::doc_ids(seed, &ix.name, ix.documents);
            let d = catalogue::documents(&f.catalogue, seed, &ix.name, &ix.category, &ids);
            docs.extend(serde_json::to_vec(&d).expect("documents serialise"));
        }
    }
    (manifest.to_json(), docs)
}

/// Every id the seed chooses itself (not the ones services assign).
fn ids(seed: u64, sizes: Sizes) -> Vec<String> {
    let m = seed::plan(&config(sizes), seed).expect("embedded fixtures load");
    let mut out = Vec::new();
    for a in &m.accounts {
        out.push(a.account_id.clone());
        out.push(a.system_account_id.clone());
        out.extend(a.api_keys.iter().map(|k| k.key_id.clone()));
        out.extend(a.api_keys.iter().map(|k| k.key.clone()));
        for ix in &a.indexes {
            out.extend(ix.sample_doc_ids.iter().cloned());
        }
    }
    out.extend(m.cognito.users.iter().map(|u| u.user_id.clone()));
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn same_seed_and_sizes_give_byte_identical_output(seed in any::<u64>(), sizes in sizes()) {
        let (m1, d1) = generate(seed, sizes);
        let (m2, d2) = generate(seed, sizes);
        prop_assert_eq!(m1, m2);
        prop_assert_eq!(d1, d2);
    }

    #[test]
    fn different_seeds_give_different_ids(
        a in any::<u64>(),
        b in any::<u64>(),
        accounts in 1usize..4,
        users in 0usize..4,
        indexes in 0usize..3,
    ) {
        prop_assume!(a != b);
        let sizes = Sizes { accounts, users_per_account: users, indexes, docs_per_index: 5 };
        let ia = ids(a, sizes);
        let ib = ids(b, sizes);
        prop_assert_eq!(ia.len(), ib.len());
        // Not one id in common: each is drawn from a 64-bit-seeded ChaCha stream.
        for id in &ia {
            prop_assert!(!ib.contains(id), "seeds {} and {} share the id {}", a, b, id);
        }
    }
}

#[test]
fn documents_depend_on_the_seed() {
    let sizes = Sizes {
        accounts: 1,
        users_per_account: 1,
        indexes: 1,
        docs_per_index: 3,
    };
    assert_ne!(generate(1, sizes).1, generate(2, sizes).1);
}
