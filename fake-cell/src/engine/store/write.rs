//! Writes to a [`Store`]: inserting or replacing a document, removing one, and keeping every
//! posting list exact without scanning it. Each entry a document adds (a term's `(slot, tf)` in
//! a lexical field, a chunk's `(chunk, weight)` in a dimension's list) has its position recorded
//! on the document or chunk; a removal swap-removes its entries by position and updates the
//! record of the entry moved into each gap, so a write costs O(its own entries), however large
//! the index.

use std::collections::HashMap;

use super::{ABSENT, Chunk, Prepared, Store, StoredDoc};
use crate::engine::linguistics;

/// A term's key in a document's posting records (32-bit FNV-1a: a record is 8 bytes). Two
/// terms of one field sharing a key are told apart by where their records point.
pub(super) fn term_hash(t: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in t.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// Swap-remove `owner`'s entry from a posting list: at the first `recorded` index that holds
/// it, else wherever a scan finds it (a wrong record costs time, never a wrong list). Returns
/// the index it was at and the owner of the entry moved there from the end of the list (whose
/// record said `list.len()` and must now say that index).
fn swap_out<T>(
    list: &mut Vec<(u32, T)>,
    owner: u32,
    mut recorded: impl Iterator<Item = usize>,
) -> Option<(usize, Option<u32>)> {
    let i = recorded
        .find(|i| list.get(*i).is_some_and(|e| e.0 == owner))
        .or_else(|| list.iter().position(|e| e.0 == owner))?;
    list.swap_remove(i);
    Some((i, list.get(i).map(|e| e.0)))
}

impl Store {
    /// Insert or replace a whole document. A replaced document's chunks leave the graph only
    /// after the new ones joined it, so an unchanged vector keeps its graph point (an update
    /// that re-sends the same text costs the graph nothing).
    pub fn put(&mut self, p: Prepared) {
        self.fields.record(&p);
        self.ann.configure(p.ann);
        let mut replaced = Vec::new();
        self.remove_doc(&p.rec.id, Some(&mut replaced));
        self.version += 1;
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(None);
                (self.slots.len() - 1) as u32
            }
        };
        let mut lex_fields = Vec::with_capacity(p.lex.len());
        let mut lex_pos = Vec::with_capacity(p.lex.len());
        for (field, tokens) in p.lex {
            let fl = self.lex.entry(field.clone()).or_default();
            if fl.len.len() <= slot as usize {
                fl.len.resize(slot as usize + 1, ABSENT);
            }
            fl.len[slot as usize] = tokens.len() as u32;
            fl.count += 1;
            fl.total += tokens.len() as u64;
            let mut tf: HashMap<String, u32> = HashMap::new();
            for t in tokens {
                *tf.entry(t).or_insert(0) += 1;
            }
            let mut at = Vec::with_capacity(tf.len());
            for (t, n) in tf {
                let h = term_hash(&t);
                let list = fl.postings.entry(t).or_default();
                at.push((h, list.len() as u32));
                list.push((slot, n));
            }
            at.sort_unstable();
            lex_fields.push(field);
            lex_pos.push(at);
        }
        let mut chunk_ids = Vec::with_capacity(p.chunks.len());
        for (field, text, vec) in p.chunks {
            let cid = match self.chunk_free.pop() {
                Some(c) => c,
                None => {
                    self.chunks.push(None);
                    (self.chunks.len() - 1) as u32
                }
            };
            let mut pos = Vec::with_capacity(vec.len());
            for (d, w) in &vec {
                let list = self.vpost.entry(*d).or_default();
                pos.push(list.len() as u32);
                list.push((cid, *w));
            }
            self.ann.add(cid, &vec);
            self.chunks[cid as usize] = Some(Chunk {
                slot,
                field,
                text,
                vec,
                pos,
            });
            chunk_ids.push(cid);
        }
        self.n_vectors += chunk_ids.len();
        self.ids.insert(p.rec.id.clone(), slot);
        self.slots[slot as usize] = Some(StoredDoc {
            rec: p.rec,
            chunks: chunk_ids,
            lex_fields,
            lex_pos,
        });
        self.release_chunks(replaced);
    }

    /// Remove a document; true if it existed.
    pub fn remove(&mut self, id: &str) -> bool {
        self.remove_doc(id, None)
    }

    /// Remove a document. Its chunk ids go to `keep` (for the caller to release with
    /// [`Store::release_chunks`]) or are released at once. Every posting entry is found by the
    /// position recorded when it was added and swap-removed; the entry moved into its place gets
    /// its owner's record updated. O(entries of the document), however long the lists.
    fn remove_doc(&mut self, id: &str, keep: Option<&mut Vec<u32>>) -> bool {
        let Some(slot) = self.ids.remove(id) else {
            return false;
        };
        self.version += 1;
        let Some(doc) = self.slots.get_mut(slot as usize).and_then(Option::take) else {
            return false;
        };
        for (k, field) in doc.lex_fields.iter().enumerate() {
            self.remove_lexical(slot, &doc, k, field);
        }
        for cid in &doc.chunks {
            if let Some(chunk) = self.chunks.get_mut(*cid as usize).and_then(Option::take) {
                self.remove_vectors(*cid, &chunk);
            }
        }
        self.n_vectors = self.n_vectors.saturating_sub(doc.chunks.len());
        self.free.push(slot);
        match keep {
            Some(k) => k.extend_from_slice(&doc.chunks),
            None => self.release_chunks(doc.chunks),
        }
        true
    }

    /// Take removed chunks out of the graph and make their ids reusable.
    fn release_chunks(&mut self, cids: Vec<u32>) {
        if cids.is_empty() {
            return;
        }
        for cid in cids {
            self.ann.remove(cid);
            self.chunk_free.push(cid);
        }
        if self.ann.needs_rebuild() {
            let live = self.chunks.iter().enumerate();
            self.ann
                .rebuild(live.filter_map(|(i, c)| c.as_ref().map(|c| (i as u32, &c.vec))));
        }
    }

    /// Drop the `k`-th lexical field of the document that was in `slot` from its postings.
    fn remove_lexical(&mut self, slot: u32, doc: &StoredDoc, k: usize, field: &str) {
        let Some(fl) = self.lex.get_mut(field) else {
            return;
        };
        if let Some(n) = fl.doc_len(slot) {
            fl.total = fl.total.saturating_sub(u64::from(n));
            fl.count = fl.count.saturating_sub(1);
            fl.len[slot as usize] = ABSENT;
        }
        let Some(text) = doc.lexical_text(field) else {
            return;
        };
        let mut terms = linguistics::terms(&text);
        terms.sort_unstable();
        terms.dedup();
        let own = doc.lex_pos.get(k).map_or(&[][..], Vec::as_slice);
        for t in terms {
            let h = term_hash(&t);
            let Some(list) = fl.postings.get_mut(&t) else {
                continue;
            };
            // Our record for `t` (a hash shared by two of our terms: the one pointing at us).
            let recorded = own
                .iter()
                .filter(|(oh, _)| *oh == h)
                .map(|(_, i)| *i as usize);
            let Some((i, moved)) = swap_out(list, slot, recorded) else {
                continue;
            };
            let last = list.len();
            if let Some(moved) = moved
                && let Some(o) = self.slots.get_mut(moved as usize).and_then(Option::as_mut)
                && let Some(f) = o.lex_fields.iter().position(|x| x == field)
                && let Some(e) = o.lex_pos.get_mut(f).and_then(|records| {
                    records
                        .iter_mut()
                        .find(|(oh, p)| *oh == h && *p as usize == last)
                })
            {
                e.1 = i as u32;
            }
            if list.is_empty() {
                fl.postings.remove(&t);
            }
        }
    }

    /// Drop a removed chunk's entries from the dimension lists (see [`Store::remove_lexical`]).
    fn remove_vectors(&mut self, cid: u32, chunk: &Chunk) {
        for (k, (d, _)) in chunk.vec.iter().enumerate() {
            let Some(list) = self.vpost.get_mut(d) else {
                continue;
            };
            let recorded = chunk.pos.get(k).map(|i| *i as usize);
            let Some((i, moved)) = swap_out(list, cid, recorded.into_iter()) else {
                continue;
            };
            if let Some(moved) = moved
                && let Some(c) = self.chunks.get_mut(moved as usize).and_then(Option::as_mut)
                && let Ok(j) = c.vec.binary_search_by_key(d, |f| f.0)
            {
                c.pos[j] = i as u32;
            }
            if list.is_empty() {
                self.vpost.remove(d);
            }
        }
    }
}
