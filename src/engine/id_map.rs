//! The maps of calls and requests by id. Ids only grow, so the entries are
//! kept in id order in one vector (found by binary search, added at the end)
//! with each value boxed: a client with one call (every top-level call has
//! its own engine) holds one small vector and one exact-size block instead of
//! a hash table's four buckets, and taking a call out of thousands moves
//! pointers, not calls. (It replaced a `HashMap`: less memory per sleeping
//! wait, and no hash table in the wasm.)

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
        let i = self.find(id).ok()?;
        Some(&self.entries[i].1)
    }

    pub(crate) fn get_mut(&mut self, id: &K) -> Option<&mut V> {
        let i = self.find(id).ok()?;
        Some(&mut self.entries[i].1)
    }

    pub(crate) fn contains_key(&self, id: &K) -> bool {
        self.find(id).is_ok()
    }

    /// Adds or replaces the value of `id`; returns the one it replaced.
    pub(crate) fn insert(&mut self, id: K, value: V) -> Option<V> {
        // New ids are the largest: the common case appends.
        if self.entries.last().is_none_or(|(last, _)| *last < id) {
            self.entries.push((id, Box::new(value)));
            return None;
        }
        match self.find(&id) {
            Ok(i) => Some(*std::mem::replace(&mut self.entries[i].1, Box::new(value))),
            Err(i) => {
                self.entries.insert(i, (id, Box::new(value)));
                None
            }
        }
    }

    pub(crate) fn remove(&mut self, id: &K) -> Option<V> {
        let i = self.find(id).ok()?;
        Some(*self.entries.remove(i).1)
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

impl<K: Ord + Copy, V> std::ops::Index<&K> for IdMap<K, V> {
    type Output = V;

    /// # Panics
    /// When `id` is not in the map.
    fn index(&self, id: &K) -> &V {
        self.get(id).expect("no entry for this id")
    }
}

impl<'a, K, V> IntoIterator for &'a IdMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter =
        std::iter::Map<std::slice::Iter<'a, (K, Box<V>)>, fn(&'a (K, Box<V>)) -> (&'a K, &'a V)>;

    /// In id order.
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(id, value)| (id, &**value))
    }
}

#[cfg(test)]
mod tests {
    use super::IdMap;

    #[test]
    fn keeps_values_by_id_in_any_insertion_order() {
        let mut map = IdMap::default();
        for id in [5u64, 1, 9, 3] {
            assert_eq!(map.insert(id, id * 10), None);
        }
        assert_eq!(map.insert(3, 31), Some(30));
        assert_eq!(
            (map.get(&1), map.get(&3), map.get(&4)),
            (Some(&10), Some(&31), None)
        );
        *map.get_mut(&9).unwrap() += 1;
        assert_eq!(map.remove(&9), Some(91));
        assert_eq!(map.remove(&9), None);
        assert!(map.contains_key(&5) && !map.contains_key(&9));
        assert_eq!(map.len(), 3);
    }
}
