//! `SlotTable`: the keys of one slot, as a dense vector of (key, entry) plus an index of
//! positions into it.
//!
//! Why not a plain hash map: a map's buckets are sized in powers of two and hold the whole
//! (key, entry) pair, so between growths a third of the table is empty pairs on average, and a
//! slot holding one key still pays for four buckets. Here the pairs sit in a vector grown one
//! jemalloc size class at a time, and only the index (4 bytes per bucket) is sized in powers
//! of two. A slot with at most [`SMALL_MAX_KEYS`] keys has no index at all and is searched
//! linearly: with 16,384 slots that is every slot of a keyspace of some tens of thousands of
//! keys.
//!
//! Removing swaps the last pair into the hole, so positions are not stable; nothing outside
//! this file sees them.

use super::bytes::CompactBytes;
use super::keyspace::Entry;
use hashbrown::DefaultHashBuilder;
use std::hash::BuildHasher;
use std::sync::OnceLock;

/// Up to this many keys a slot is searched linearly and has no hash index.
pub const SMALL_MAX_KEYS: usize = 8;

/// Fewest buckets of an index.
const INDEX_MIN_BUCKETS: usize = 16;

/// One hasher (random seed) for every slot table of the process, so a table does not carry
/// its own.
fn hasher() -> &'static DefaultHashBuilder {
    static HASHER: OnceLock<DefaultHashBuilder> = OnceLock::new();
    HASHER.get_or_init(DefaultHashBuilder::default)
}

#[inline]
fn hash_of(key: &[u8]) -> u64 {
    hasher().hash_one(key)
}

#[derive(Default)]
pub struct SlotTable {
    entries: Vec<(CompactBytes, Entry)>,
    /// Open-addressing index of positions in `entries` (linear probing, at most 3/4 full),
    /// empty while the slot is small. A bucket is 0 when free, else the position plus one in
    /// its low bits (as many as the bucket count has) and the top bits of the key's hash
    /// above them, so a probe only looks at a pair whose hash agrees on those bits. Held
    /// directly (not behind a box) so a lookup goes slot, bucket, pair.
    index: Box<[u32]>,
}

impl std::fmt::Debug for SlotTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// The bucket count for `len` keys: a power of two at most 3/4 full.
fn buckets_for(len: usize) -> usize {
    (len.saturating_mul(4) / 3 + 1).next_power_of_two().max(INDEX_MIN_BUCKETS)
}

/// Mask of the position bits of a bucket in an index of `buckets` buckets.
fn pos_mask(buckets: usize) -> u32 {
    let bits = buckets.trailing_zeros();
    if bits >= 32 {
        u32::MAX
    } else {
        (1u32 << bits) - 1
    }
}

/// Where a lookup of `hash` starts, and the hash bits its buckets carry.
#[inline]
fn probe_start(hash: u64, buckets: usize) -> (usize, u32) {
    let home = (hash as usize) & buckets.wrapping_sub(1);
    let tag = ((hash >> 32) as u32) & !pos_mask(buckets);
    (home, tag)
}

/// The capacity to give a vector of pairs that must hold `len`: as many pairs as fill the
/// allocator block holding `len`, so no bytes of the block go unused. Growing this way steps
/// through every size class (an eighth to a quarter more each time): the vector never
/// carries more slack than the allocator would round away anyway.
fn capacity_for(len: usize) -> usize {
    let pair_bytes = std::mem::size_of::<(CompactBytes, Entry)>();
    (crate::store::memory::size_class_bytes(len.max(1) * pair_bytes) / pair_bytes).max(len)
}

impl SlotTable {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    #[cfg(test)]
    fn has_index(&self) -> bool {
        self.entries.len() > SMALL_MAX_KEYS
    }

    /// The bucket holding `key` and the key's position, when present.
    #[inline]
    fn find(&self, key: &[u8]) -> Option<(usize, usize)> {
        let buckets = self.index.len();
        if buckets == 0 {
            return None;
        }
        let mask = buckets - 1;
        let (mut b, tag) = probe_start(hash_of(key), buckets);
        let low = pos_mask(buckets);
        loop {
            let v = *self.index.get(b)?;
            if v == 0 {
                return None;
            }
            if v & !low == tag {
                let pos = ((v & low) as usize).wrapping_sub(1);
                if self.entries.get(pos).is_some_and(|(k, _)| k.as_slice() == key) {
                    return Some((b, pos));
                }
            }
            b = (b + 1) & mask;
        }
    }

    fn position(&self, key: &[u8]) -> Option<usize> {
        if self.index.is_empty() {
            return self.entries.iter().position(|(k, _)| k.as_slice() == key);
        }
        self.find(key).map(|(_, pos)| pos)
    }

    pub fn get(&self, key: &[u8]) -> Option<&Entry> {
        let i = self.position(key)?;
        self.entries.get(i).map(|(_, e)| e)
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let i = self.position(key)?;
        self.entries.get_mut(i).map(|(_, e)| e)
    }

    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.position(key).is_some()
    }

    /// Stores `entry` under `key`; returns the entry it replaced.
    pub fn insert(&mut self, key: CompactBytes, entry: Entry) -> Option<Entry> {
        if let Some(i) = self.position(&key) {
            return self.entries.get_mut(i).map(|(_, e)| std::mem::replace(e, entry));
        }
        let pos = self.entries.len();
        // Positions must fit a bucket's low bits with room for the hash: a slot holds at
        // most the keys of one shard, far below 2^31.
        assert!(pos < (1usize << 31), "a slot outgrew 2^31 keys");
        if pos == self.entries.capacity() {
            self.entries.reserve_exact(capacity_for(pos + 1) - pos);
        }
        let hash = (!self.index.is_empty()).then(|| hash_of(&key));
        self.entries.push((key, entry));
        let len = self.entries.len();
        match hash {
            Some(h) if len * 4 <= self.index.len() * 3 => self.index_put(h, pos),
            _ if len > SMALL_MAX_KEYS => self.rebuild_index(),
            _ => {}
        }
        None
    }

    /// Puts position `pos` (of a key hashing to `hash`) in the first free bucket of its probe.
    fn index_put(&mut self, hash: u64, pos: usize) {
        let buckets = self.index.len();
        let (mut b, tag) = probe_start(hash, buckets);
        let value = tag | (pos as u32 + 1);
        while let Some(slot) = self.index.get_mut(b) {
            if *slot == 0 {
                *slot = value;
                return;
            }
            b = (b + 1) & buckets.wrapping_sub(1);
        }
    }

    /// Builds the index afresh for the current pairs (growing, shrinking, leaving small).
    fn rebuild_index(&mut self) {
        self.index = vec![0u32; buckets_for(self.entries.len())].into_boxed_slice();
        for pos in 0..self.entries.len() {
            let h = self.entries.get(pos).map_or(0, |(k, _)| hash_of(k));
            self.index_put(h, pos);
        }
    }

    /// Empties bucket `b` and moves later buckets of the same run back into the hole, so
    /// every remaining key stays reachable from its home bucket (backward-shift deletion).
    fn index_clear(&mut self, mut b: usize) {
        let buckets = self.index.len();
        let (mask, low) = (buckets.wrapping_sub(1), pos_mask(buckets));
        let mut j = b;
        loop {
            j = (j + 1) & mask;
            let v = self.index.get(j).copied().unwrap_or(0);
            if v == 0 {
                break;
            }
            let pos = ((v & low) as usize).wrapping_sub(1);
            let home = self.entries.get(pos).map_or(j, |(k, _)| probe_start(hash_of(k), buckets).0);
            // The key at `j` may fill the hole when the hole lies on its probe (between its
            // home bucket and `j`).
            if (j.wrapping_sub(home) & mask) >= (j.wrapping_sub(b) & mask) {
                if let Some(slot) = self.index.get_mut(b) {
                    *slot = v;
                }
                b = j;
            }
        }
        if let Some(slot) = self.index.get_mut(b) {
            *slot = 0;
        }
    }

    /// Removes `key`; the last pair takes its place. Returns the removed entry.
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let pos = if self.index.is_empty() {
            self.entries.iter().position(|(k, _)| k.as_slice() == key)?
        } else {
            let (b, pos) = self.find(key)?;
            self.index_clear(b);
            pos
        };
        let last = self.entries.len() - 1;
        if pos != last && !self.index.is_empty() {
            // The last pair moves to `pos`: repoint its bucket first, while it is still last.
            let moved = self.entries.get(last).map(|(k, _)| k.clone());
            if let Some((b, _)) = moved.and_then(|k| self.find(&k)) {
                let low = pos_mask(self.index.len());
                if let Some(slot) = self.index.get_mut(b) {
                    *slot = (*slot & !low) | (pos as u32 + 1);
                }
            } else {
                debug_assert!(false, "slot index lost the moved key");
            }
        }
        let (_, old) = self.entries.swap_remove(pos);
        let len = self.entries.len();
        if len <= SMALL_MAX_KEYS {
            // Small again: the index goes (its memory with it).
            self.index = Box::default();
        } else if self.index.len() > INDEX_MIN_BUCKETS && len * 8 < self.index.len() {
            self.rebuild_index();
        }
        if self.entries.capacity() > 2 * len + 1 {
            self.entries.shrink_to(capacity_for(len));
        }
        Some(old)
    }

    /// Every (key, entry), in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&CompactBytes, &Entry)> + '_ {
        self.entries.iter().map(|(k, e)| (k, e))
    }

    pub fn keys(&self) -> impl Iterator<Item = &CompactBytes> + '_ {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &Entry> + '_ {
        self.entries.iter().map(|(_, e)| e)
    }

    /// The `i`th key in table order (a random pick), or None past the end.
    pub fn key_at(&self, i: usize) -> Option<&CompactBytes> {
        self.entries.get(i).map(|(k, _)| k)
    }

    /// Bytes this table allocates (pairs' vector and index; not what the values hold).
    pub fn heap_size_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<(CompactBytes, Entry)>()
            + self.index.len() * std::mem::size_of::<u32>()
    }

    /// Checks that the index and the vector agree (tests).
    #[cfg(test)]
    pub fn assert_consistent(&self) {
        if self.index.is_empty() {
            assert!(!self.has_index(), "a slot of {} keys has no index", self.entries.len());
            return;
        }
        assert!(self.has_index(), "a small slot has an index");
        assert!(self.entries.len() * 4 <= self.index.len() * 3, "index over 3/4 full");
        assert_eq!(self.index.iter().filter(|&&v| v != 0).count(), self.entries.len());
        for (i, (k, _)) in self.entries.iter().enumerate() {
            assert_eq!(self.position(k), Some(i));
        }
    }
}

// Every slot of a sparse keyspace holds one of these: keep it one 48-byte block.
const _: () = assert!(std::mem::size_of::<SlotTable>() == 40);

impl<'a> IntoIterator for &'a SlotTable {
    type Item = (&'a CompactBytes, &'a Entry);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (CompactBytes, Entry)>,
        fn(&'a (CompactBytes, Entry)) -> (&'a CompactBytes, &'a Entry),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, e)| (k, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::size_class_bytes;
    use crate::store::value::{StrValue, Value};
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn entry(n: u64) -> Entry {
        Entry::with(Value::Str(StrValue::Int(n as i64)), 0, 0)
    }
    fn int_of(e: &Entry) -> i64 {
        match &e.value {
            Value::Str(StrValue::Int(n)) => *n,
            _ => -1,
        }
    }

    proptest! {
        /// Any sequence of inserts and removes leaves the table holding exactly what a
        /// reference map holds, across the small/indexed boundary both ways.
        #[test]
        fn behaves_like_a_map(ops in proptest::collection::vec((any::<bool>(), 0u8..24, any::<u64>()), 0..400)) {
            let mut t = SlotTable::default();
            let mut model: HashMap<Vec<u8>, i64> = HashMap::new();
            for (ins, k, v) in ops {
                let key = format!("key:{k}").into_bytes();
                if ins {
                    let old = t.insert(CompactBytes::new(&key), entry(v)).map(|e| int_of(&e));
                    prop_assert_eq!(old, model.insert(key, v as i64));
                } else {
                    let old = t.remove(&key).map(|e| int_of(&e));
                    prop_assert_eq!(old, model.remove(&key));
                }
                t.assert_consistent();
                prop_assert_eq!(t.len(), model.len());
            }
            for (k, v) in &model {
                prop_assert_eq!(t.get(k).map(int_of), Some(*v));
            }
            let mut seen: Vec<Vec<u8>> = t.keys().map(|k| k.to_vec()).collect();
            seen.sort();
            let mut want: Vec<Vec<u8>> = model.keys().cloned().collect();
            want.sort();
            prop_assert_eq!(seen, want);
        }
    }

    #[test]
    fn capacity_fills_the_size_class() {
        assert_eq!([16, 17, 128, 129, 144, 257, 4536].map(size_class_bytes), [16, 32, 128, 160, 160, 320, 5120]);
        let pair = std::mem::size_of::<(CompactBytes, Entry)>();
        for len in 1..2000 {
            let cap = capacity_for(len);
            assert!(cap >= len);
            assert_eq!(size_class_bytes(cap * pair), size_class_bytes(len * pair), "len {len}");
        }
    }

    /// Large tables: the index grows, shrinks, wraps around and shifts runs back on removal.
    #[test]
    fn large_random_edits_match_a_model() {
        let mut t = SlotTable::default();
        let mut model: HashMap<Vec<u8>, i64> = HashMap::new();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for step in 0..60_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Grow to a few thousand keys, then shrink back towards none.
            let span = if step < 30_000 { 3000 } else { 3000 - (step - 30_000) / 10 };
            let key = format!("k{}", x % span.max(1)).into_bytes();
            if !(x >> 40).is_multiple_of(3) && step < 30_000 {
                let old = t.insert(CompactBytes::new(&key), entry(step)).map(|e| int_of(&e));
                assert_eq!(old, model.insert(key, step as i64));
            } else {
                assert_eq!(t.remove(&key).map(|e| int_of(&e)), model.remove(&key));
            }
            if step % 1999 == 0 {
                t.assert_consistent();
            }
        }
        t.assert_consistent();
        assert_eq!(t.len(), model.len());
        for (k, v) in &model {
            assert_eq!(t.get(k).map(int_of), Some(*v));
        }
    }

    #[test]
    fn shrinks_after_removals() {
        let mut t = SlotTable::default();
        for i in 0..1000u64 {
            t.insert(CompactBytes::new(format!("k{i}").as_bytes()), entry(i));
        }
        let full = t.heap_size_bytes();
        for i in 0..990u64 {
            assert!(t.remove(format!("k{i}").as_bytes()).is_some());
        }
        t.assert_consistent();
        assert!(t.heap_size_bytes() * 10 < full, "{} vs {full}", t.heap_size_bytes());
        for i in 990..1000u64 {
            assert_eq!(t.get(format!("k{i}").as_bytes()).map(int_of), Some(i as i64));
        }
    }
}

#[cfg(test)]
mod bench {
    use super::*;
    use crate::store::value::{StrValue, Value};
    use std::time::Instant;

    /// Lookup and overwrite cost against the plain hash map this table replaced, on a keyspace
    /// of `keys` keys spread over 16,384 slots as the keyspace spreads them.
    /// `cargo test --release --lib slot_table::bench -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn against_a_hash_map() {
        for keys in [20_000usize, 100_000, 1_000_000] {
            let names: Vec<Vec<u8>> = (0..keys).map(|i| format!("key:{i:012}").into_bytes()).collect();
            let slot_of = |k: &[u8]| crate::cluster::slot::key_slot(k) as usize;
            let e = || Entry::with(Value::Str(StrValue::from_bytes(b"xxx")), 0, 0);
            let mut ours: Vec<SlotTable> = (0..16384).map(|_| SlotTable::default()).collect();
            let mut theirs: Vec<hashbrown::HashMap<CompactBytes, Entry>> =
                (0..16384).map(|_| hashbrown::HashMap::default()).collect();
            let mut order: Vec<usize> = (0..keys).collect();
            let mut x = 88172645463325252u64;
            for i in (1..order.len()).rev() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                order.swap(i, (x % (i as u64 + 1)) as usize);
            }
            for round in 0..2 {
                let t = Instant::now();
                for k in &names {
                    ours[slot_of(k)].insert(CompactBytes::new(k), e());
                }
                let ins_ours = t.elapsed().as_nanos() as f64 / keys as f64;
                let t = Instant::now();
                for k in &names {
                    theirs[slot_of(k)].insert(CompactBytes::new(k), e());
                }
                let ins_theirs = t.elapsed().as_nanos() as f64 / keys as f64;
                let t = Instant::now();
                let mut hits = 0usize;
                for &i in order.iter().chain(order.iter()) {
                    let k = &names[i];
                    hits += ours[slot_of(k)].get(k).is_some() as usize;
                }
                let get_ours = t.elapsed().as_nanos() as f64 / (2 * keys) as f64;
                let t = Instant::now();
                for &i in order.iter().chain(order.iter()) {
                    let k = &names[i];
                    hits += theirs[slot_of(k)].get(&k[..]).is_some() as usize;
                }
                let get_theirs = t.elapsed().as_nanos() as f64 / (2 * keys) as f64;
                assert_eq!(hits, 4 * keys);
                eprintln!(
                    "{keys} keys round {round}: insert/overwrite ns {ins_ours:.1} vs map {ins_theirs:.1}; get ns {get_ours:.1} vs map {get_theirs:.1}"
                );
            }
        }
    }
}
