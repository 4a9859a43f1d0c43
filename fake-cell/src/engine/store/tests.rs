//! Posting lists stay exact under interleaved inserts, updates and deletes (every entry is
//! found by its recorded position), and an update that keeps a vector keeps its graph point.

use super::write::term_hash;
use super::*;
use crate::engine::settings;

fn settings() -> Settings {
    settings::derive(&serde_json::json!({"type": "unstructured", "model": "hf/e5-base-v2"}))
}

fn doc(id: &str, title: &str, body: &str) -> DocRecord {
    let fields = serde_json::json!({"title": title, "body": body});
    DocRecord {
        id: id.into(),
        fields: fields.as_object().cloned().unwrap_or_default(),
        tensor_fields: vec!["title".into()],
        mappings: None,
        chunk_prefix: None,
    }
}

/// Every posting entry belongs to a live document holding the term, once; every recorded
/// position points at its own entry; the same for the dimension lists and chunks.
fn check(st: &Store) {
    let mut expected_lex = 0usize;
    for (slot, d) in st.iter() {
        for (k, field) in d.lex_fields.iter().enumerate() {
            let fl = &st.lex[field];
            let text = d.lexical_text(field).unwrap_or_default();
            let mut terms = linguistics::terms(&text);
            terms.sort_unstable();
            terms.dedup();
            assert_eq!(terms.len(), d.lex_pos[k].len());
            expected_lex += terms.len();
            for t in &terms {
                let list = &fl.postings[t];
                assert_eq!(list.iter().filter(|e| e.0 == slot).count(), 1, "{t}");
                let h = term_hash(t);
                assert!(
                    d.lex_pos[k]
                        .iter()
                        .any(|(oh, i)| *oh == h && list[*i as usize].0 == slot),
                    "position of {t} in slot {slot}"
                );
            }
        }
        for cid in &d.chunks {
            let c = st.chunks[*cid as usize].as_ref().expect("live chunk");
            assert_eq!(c.slot, slot);
            for (k, (dim, _)) in c.vec.iter().enumerate() {
                assert_eq!(st.vpost[dim][c.pos[k] as usize].0, *cid);
            }
        }
    }
    let lex_entries: usize = st
        .lex
        .values()
        .flat_map(|fl| fl.postings.values())
        .map(Vec::len)
        .sum();
    assert_eq!(
        lex_entries, expected_lex,
        "no entry of a removed document is left"
    );
    let live_nnz: usize = st.chunks.iter().flatten().map(|c| c.vec.len()).sum();
    let vec_entries: usize = st.vpost.values().map(Vec::len).sum();
    assert_eq!(vec_entries, live_nnz);
    assert!(st.vpost.values().all(|l| !l.is_empty()));
}

#[test]
fn postings_stay_exact_under_interleaved_writes() {
    let s = settings();
    let words = [
        "red", "blue", "shoe", "boot", "lamp", "chair", "warm", "soft",
    ];
    let mut st = Store::default();
    let mut rng: u64 = 0x1234_5678;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for step in 0..600 {
        let id = format!("d{}", next() % 40);
        if next() % 4 == 0 {
            st.remove(&id);
        } else {
            let pick = |r: u64| words[(r % words.len() as u64) as usize];
            let title = format!("{} {} {}", pick(next()), pick(next()), pick(next()));
            let body = format!("{} text {} item {step}", pick(next()), pick(next()));
            st.put(prepare(doc(&id, &title, &body), &s));
        }
        check(&st);
    }
    assert!(!st.is_empty());
}

#[test]
fn an_update_with_the_same_vector_keeps_its_graph_point() {
    let s = settings();
    let mut st = Store::default();
    for i in 0..50 {
        st.put(prepare(
            doc(&format!("d{i}"), &format!("title {i}"), "a"),
            &s,
        ));
    }
    let before = st.ann.counts();
    for round in 0..3 {
        for i in 0..50 {
            let body = format!("changed body {round}");
            st.put(prepare(
                doc(&format!("d{i}"), &format!("title {i}"), &body),
                &s,
            ));
        }
    }
    assert_eq!(st.ann.counts(), before, "no new point, no tombstone");
    st.put(prepare(doc("d0", "another title", "b"), &s));
    assert_eq!(st.ann.counts(), (before.0 + 1, before.1 + 1));
    check(&st);
}

#[test]
fn a_wrong_position_record_costs_a_scan_never_a_wrong_list() {
    let s = settings();
    let mut st = Store::default();
    for i in 0..30 {
        let title = format!("red shoe {}", i % 3);
        st.put(prepare(doc(&format!("d{i}"), &title, "same body"), &s));
    }
    // Point every record of d7 and of its first chunk somewhere else.
    let slot = st.slot_of("d7").expect("d7");
    let d7 = st.slots[slot as usize].as_mut().expect("live");
    d7.lex_pos.iter_mut().flatten().for_each(|r| r.1 = 0);
    let cid = d7.chunks[0];
    let chunk = st.chunks[cid as usize].as_mut().expect("chunk");
    chunk.pos.iter_mut().for_each(|p| *p = 0);
    assert!(st.remove("d7"));
    check(&st);
    assert!(st.get("d7").is_none());
}
