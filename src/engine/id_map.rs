//! The maps of calls and requests by id. Ids only grow (the driver counts
//! its calls, the engine its requests), so the entries are kept in id order
//! in one vector: a lookup is a binary search, an insert a push at the end.
//! Each value is boxed: an engine with one call (every top-level call has
//! its own) holds one small vector and one exact-size block instead of a
//! hash table's buckets (or a ring buffer's four slots) of whole calls, and
//! taking a call out of thousands moves pointers, not calls. No hashing: the
//! wasm carries no hash table. The vector is [`Lean`]: one slot for an
//! engine's one call, none once its requests are done.

use super::lean::Lean;

/// A map from ids to values.
#[derive(Debug)]
pub(crate) struct IdMap<K, V> {
    entries: Vec<(K, Box<V>)>,
}

impl<K, V> Default for IdMap<K, V> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
        }
    }
}

impl<K: Ord + Copy, V> IdMap<K, V> {
    fn find(&self, id: &K) -> Result<usize, usize> {
        self.entries.binary_search_by(|(key, _)| key.cmp(id))
    }

    pub(crate) fn get(&self, id: &K) -> Option<&V> {
        let at = self.find(id).ok()?;
        Some(&self.entries[at].1)
    }

    pub(crate) fn get_mut(&mut self, id: &K) -> Option<&mut V> {
        let at = self.find(id).ok()?;
        Some(&mut self.entries[at].1)
    }

    pub(crate) fn contains_key(&self, id: &K) -> bool {
        self.find(id).is_ok()
    }

    /// Adds or replaces the value of `id`; returns the one it replaced.
    pub(crate) fn insert(&mut self, id: K, value: V) -> Option<V> {
        // New ids are the largest: the common case appends.
        self.entries.make_room();
        if self.entries.last().is_none_or(|(last, _)| *last < id) {
            self.entries.push((id, Box::new(value)));
            return None;
        }
        match self.find(&id) {
            Ok(at) => Some(*std::mem::replace(&mut self.entries[at].1, Box::new(value))),
            Err(at) => {
                self.entries.insert(at, (id, Box::new(value)));
                None
            }
        }
    }

    pub(crate) fn remove(&mut self, id: &K) -> Option<V> {
        let at = self.find(id).ok()?;
        let (_, value) = self.entries.remove(at);
        self.entries.release_if_empty();
        Some(*value)
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::IdMap;
    use crate::engine::ReqId;
    use std::collections::BTreeMap;

    #[test]
    fn an_id_map_agrees_with_a_btree_map_with_ids_in_and_out_of_order() {
        let mut map = IdMap::<ReqId, u64>::default();
        let mut model = BTreeMap::new();
        let mut seed = 7u64;
        let mut next = || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            seed >> 33
        };
        let mut newest = 0;
        for step in 0..20_000u64 {
            let op = next() % 10;
            // mostly growing ids, as the engine's; sometimes an older one
            let id = match op {
                0..=3 => {
                    newest += 1 + next() % 3;
                    newest
                }
                _ => next() % (newest + 1),
            };
            match op {
                0..=4 => {
                    assert_eq!(map.insert(ReqId(id), step), model.insert(id, step));
                }
                5..=7 => assert_eq!(map.remove(&ReqId(id)), model.remove(&id)),
                _ => {
                    if let Some(value) = map.get_mut(&ReqId(id)) {
                        *value += 1;
                    }
                    if let Some(value) = model.get_mut(&id) {
                        *value += 1;
                    }
                }
            }
            assert_eq!(map.len(), model.len());
            assert_eq!(map.contains_key(&ReqId(id)), model.contains_key(&id));
            assert_eq!(map.get(&ReqId(id)), model.get(&id));
        }
        let ids: Vec<u64> = map.entries.iter().map(|entry| entry.0 .0).collect();
        assert_eq!(ids, model.keys().copied().collect::<Vec<_>>(), "sorted");
    }
}
