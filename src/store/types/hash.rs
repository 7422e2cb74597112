//! Hash values, in Redis 7.0's two encodings:
//!
//! - `listpack`: [`PackedPairs`], field/value pairs packed into one exactly sized byte block in
//!   insertion order (HGETALL answers in that order, as Redis does; see `hash/packed.rs`),
//!   searched linearly, used while the hash has at most
//!   `hash-max-listpack-entries` fields and no field or value longer than
//!   `hash-max-listpack-value` bytes;
//! - `hashtable`: [`FieldTable`], a dense vector of pairs plus a hash index into it.
//!
//! Conversion is one way, small to large, exactly when Redis converts (`hashTypeTryConversion`
//! before a write with long arguments, `hashTypeSet` when a field or value is too long or the
//! entry count passes the limit); Redis never converts a hash back to a listpack.
//!
//! Why a dense vector under the table: HRANDFIELD picks uniformly by index in O(1), and HSCAN
//! gets a cursor that stays valid however the table changes (see [`FieldTable::scan`]), which a
//! plain hash map cannot give without exposing its buckets.
//!
//! This file owns the data structure only; it must never look at commands, replies or the
//! config (limits come in as [`HashLimits`]).

use crate::store::bytes::CompactBytes;
use crate::store::cow_vec::CowVec;
use hashbrown::{DefaultHashBuilder, HashTable};
pub use packed::PackedPairs;
use std::hash::BuildHasher;

mod packed;
mod pair;
pub use pair::PairBytes;

/// Redis's `LISTPACK_MAX_SAFETY_SIZE`: a listpack is converted before it could grow past this.
pub const LISTPACK_MAX_SAFETY_SIZE_BYTES: usize = 1 << 30;

/// Listpack header (total bytes + entry count) and end byte.
const LISTPACK_HEADER_BYTES: usize = 7;

/// Pairs returned by one scan step, and the cursor to continue from (0: done).
pub type ScanStep<'a> = (Vec<(&'a [u8], &'a [u8])>, u64);

/// The listpack limits in force (`hash-max-listpack-entries`, `hash-max-listpack-value`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashLimits {
    pub max_listpack_entries: usize,
    pub max_listpack_value_bytes: usize,
}

impl Default for HashLimits {
    /// Redis 7.0's defaults.
    fn default() -> Self {
        HashLimits { max_listpack_entries: 512, max_listpack_value_bytes: 64 }
    }
}

#[derive(Clone, Debug)]
pub enum HashValue {
    Listpack(PackedPairs),
    /// Boxed so a small hash (the common case) is only as large as its packed pairs' handle.
    Table(Box<FieldTable>),
}

impl Default for HashValue {
    fn default() -> Self {
        HashValue::Listpack(PackedPairs::default())
    }
}

/// The bytes of one listpack entry holding `b`: encoding header, data, back-length.
/// Integers are stored in at most 9 bytes, as Redis's listpack does.
fn listpack_entry_bytes(b: &[u8]) -> usize {
    if let Some(n) = (b.len() <= 20).then(|| crate::resp::parse::parse_i64_strict(b)).flatten() {
        // 1..9 bytes of integer encoding plus 1 back-length byte.
        return match n {
            0..=127 => 2,
            n if (-4096..4096).contains(&n) => 3,
            n if (-32768..32768).contains(&n) => 4,
            n if (-8_388_608..8_388_608).contains(&n) => 5,
            n if (i32::MIN as i64..=i32::MAX as i64).contains(&n) => 6,
            _ => 10,
        };
    }
    let header = match b.len() {
        0..=63 => 1,
        64..=4095 => 2,
        _ => 5,
    };
    let data = header + b.len();
    let backlen = match data {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        2_097_152..=268_435_455 => 4,
        _ => 5,
    };
    data + backlen
}

impl HashValue {
    /// A listpack hash of `pairs`, whose fields the caller has checked are distinct.
    pub fn listpack_from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a [u8], &'a [u8])>) -> HashValue {
        let mut p = PackedPairs::default();
        for (f, x) in pairs {
            p.push_unique(f, x);
        }
        HashValue::Listpack(p)
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            HashValue::Listpack(_) => "listpack",
            HashValue::Table(_) => "hashtable",
        }
    }

    pub fn heap_size_bytes(&self) -> usize {
        match self {
            HashValue::Listpack(p) => p.heap_size_bytes(),
            HashValue::Table(t) => std::mem::size_of::<FieldTable>() + t.heap_size_bytes(),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            HashValue::Listpack(p) => p.len(),
            HashValue::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            HashValue::Listpack(p) => p.get(field),
            HashValue::Table(t) => t.get(field),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// The `i`th pair in iteration order (HRANDFIELD picks by index), or None past the end.
    /// O(i) for a listpack.
    pub fn pair_at(&self, i: usize) -> Option<(&[u8], &[u8])> {
        match self {
            HashValue::Listpack(p) => p.pair_at(i),
            HashValue::Table(t) => t.pair_at(i),
        }
    }

    /// Every pair, in listpack order or the table's order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        let (a, b) = match self {
            HashValue::Listpack(p) => (Some(p.iter()), None),
            HashValue::Table(t) => (None, Some(t.iter())),
        };
        a.into_iter().flatten().chain(b.into_iter().flatten())
    }

    /// Redis's `hashTypeConvert(o, OBJ_ENCODING_HT)`: the pairs move to a table, keeping their
    /// order. A table stays a table.
    pub fn convert_to_table(&mut self) {
        if let HashValue::Listpack(p) = self {
            let mut t = FieldTable::with_capacity(p.len());
            for (f, x) in p.iter() {
                let created = t.insert(f, x);
                debug_assert!(created, "a listpack hash held a field twice");
            }
            *self = HashValue::Table(Box::new(t));
        }
    }

    /// Redis's `hashTypeTryConversion` before a write whose fields and values are `args`:
    /// converts a listpack when any of them is longer than the value limit, or when adding
    /// them all could take the listpack past its safety size.
    pub fn convert_for_args(&mut self, args: &[&[u8]], lim: HashLimits) {
        let HashValue::Listpack(p) = self else { return };
        let mut sum_bytes = 0usize;
        for a in args {
            if a.len() > lim.max_listpack_value_bytes {
                self.convert_to_table();
                return;
            }
            sum_bytes = sum_bytes.saturating_add(a.len());
        }
        // Only worth measuring when the arguments alone come near the limit (values are
        // bounded by the value limit, so with sane limits this never runs).
        let bound = p.len().saturating_mul(2).saturating_mul(lim.max_listpack_value_bytes.saturating_add(11));
        if sum_bytes.saturating_add(bound).saturating_add(LISTPACK_HEADER_BYTES) > LISTPACK_MAX_SAFETY_SIZE_BYTES
            && self.listpack_bytes().saturating_add(sum_bytes) > LISTPACK_MAX_SAFETY_SIZE_BYTES
        {
            self.convert_to_table();
        }
    }

    /// About the size Redis's listpack would have for these pairs (0 for a table).
    pub fn listpack_bytes(&self) -> usize {
        match self {
            HashValue::Listpack(p) => {
                LISTPACK_HEADER_BYTES
                    + p.iter().map(|(f, x)| listpack_entry_bytes(f) + listpack_entry_bytes(x)).sum::<usize>()
            }
            HashValue::Table(_) => 0,
        }
    }

    /// Redis's `hashTypeSet`: sets `field` to `value` and returns true when the field is new.
    /// A listpack converts first when the field or value is too long, and after the write
    /// when it holds more than the entry limit.
    pub fn set(&mut self, field: &[u8], value: &[u8], lim: HashLimits) -> bool {
        if let HashValue::Listpack(_) = self {
            if field.len() > lim.max_listpack_value_bytes || value.len() > lim.max_listpack_value_bytes {
                self.convert_to_table();
            }
        }
        match self {
            HashValue::Listpack(p) => {
                let created = p.set(field, value);
                // Checked after an update too: a lowered limit converts on the next write.
                if p.len() > lim.max_listpack_entries {
                    self.convert_to_table();
                }
                created
            }
            HashValue::Table(t) => t.insert(field, value),
        }
    }

    /// `set` with a value the caller already built (HINCRBY*'s printed result).
    pub fn set_owned(&mut self, field: &[u8], value: CompactBytes, lim: HashLimits) -> bool {
        match self {
            HashValue::Table(t) => t.insert(field, &value),
            HashValue::Listpack(_) => self.set(field, &value, lim),
        }
    }

    /// Removes `field`; returns whether it was there. Listpack order is kept.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            HashValue::Listpack(p) => p.remove(field),
            HashValue::Table(t) => t.remove(field),
        }
    }

    /// One HSCAN step from `cursor`, looking at about `count` pairs: the pairs seen and the
    /// next cursor (0 when done). A listpack answers everything at once with cursor 0, as
    /// Redis does, whatever the cursor.
    pub fn scan(&self, cursor: u64, count: usize) -> ScanStep<'_> {
        match self {
            HashValue::Listpack(p) => (p.iter().collect(), 0),
            HashValue::Table(t) => t.scan(cursor, count),
        }
    }
}

/// The `hashtable` encoding: pairs in a dense vector, found through a hash index of their
/// positions. Removing swaps the last pair into the hole, so pairs only ever move towards the
/// front; [`FieldTable::scan`] walks from the back and relies on that. The vector is chunked
/// (`CowVec`) so a snapshot can share the pairs instead of serialising them all at once.
#[derive(Clone)]
pub struct FieldTable {
    entries: CowVec<PairBytes>,
    /// Positions in `entries`, hashed by their field.
    index: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl std::fmt::Debug for FieldTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Default for FieldTable {
    fn default() -> Self {
        Self::with_capacity(0)
    }
}

/// Shrinks a table whose live pairs fill less than 1/`SHRINK_FILL_RATIO` of it (Redis resizes
/// a hash table below 10% fill).
const SHRINK_FILL_RATIO: usize = 10;
/// Tables at or below this capacity are never shrunk (Redis: DICT_HT_INITIAL_SIZE is 4; a
/// little more here saves reallocations).
const SHRINK_MIN_CAPACITY: usize = 64;

impl FieldTable {
    pub fn with_capacity(n: usize) -> Self {
        FieldTable {
            entries: CowVec::with_capacity(n),
            index: HashTable::with_capacity(n),
            hasher: DefaultHashBuilder::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn heap_size_bytes(&self) -> usize {
        self.entries.heap_size_bytes()
            + self.index.capacity() * (std::mem::size_of::<u32>() + 1)
            + self.entries.iter().map(PairBytes::heap_size_bytes).sum::<usize>()
    }

    fn hash_of(&self, field: &[u8]) -> u64 {
        self.hasher.hash_one(field)
    }

    fn position(&self, field: &[u8]) -> Option<usize> {
        let entries = &self.entries;
        self.index
            .find(self.hash_of(field), |&i| entries.get(i as usize).is_some_and(|p| p.field() == field))
            .map(|&i| i as usize)
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        let i = self.position(field)?;
        self.entries.get(i).map(PairBytes::value)
    }

    pub fn pair_at(&self, i: usize) -> Option<(&[u8], &[u8])> {
        self.entries.get(i).map(PairBytes::parts)
    }

    /// Every pair, in table order (`(field, value)` like a map's iterator).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.entries.iter().map(PairBytes::parts)
    }

    /// Sets `field` to `value`; returns true when the field is new.
    pub fn insert(&mut self, field: &[u8], value: &[u8]) -> bool {
        if let Some(i) = self.position(field) {
            if let Some(pair) = self.entries.get_mut(i) {
                pair.set_value(value);
            }
            return false;
        }
        let pos = self.entries.len();
        let pos_u32 = u32::try_from(pos).unwrap_or(u32::MAX);
        assert!(pos_u32 < u32::MAX, "a hash outgrew 2^32 fields");
        let hash = self.hash_of(field);
        self.entries.push(PairBytes::new(field, value));
        let (entries, hasher) = (&self.entries, &self.hasher);
        self.index.insert_unique(hash, pos_u32, |&i| entries.get(i as usize).map_or(0, |p| hasher.hash_one(p.field())));
        true
    }

    /// Removes `field`; the last pair takes its place. Returns whether it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        let hash = self.hash_of(field);
        let entries = &self.entries;
        let Ok(slot) = self.index.find_entry(hash, |&i| entries.get(i as usize).is_some_and(|p| p.field() == field))
        else {
            return false;
        };
        let (pos, _) = slot.remove();
        let pos = pos as usize;
        let last = self.entries.len() - 1;
        self.entries.swap_remove(pos);
        if pos != last {
            // The pair that was last now sits at `pos`: repoint its index entry.
            let moved_hash = self.entries.get(pos).map_or(0, |p| self.hasher.hash_one(p.field()));
            let from = last as u32;
            let to = pos as u32;
            match self.index.find_mut(moved_hash, |&i| i == from) {
                Some(i) => *i = to,
                None => debug_assert!(false, "hash index lost the moved pair"),
            }
        }
        self.maybe_shrink();
        true
    }

    fn maybe_shrink(&mut self) {
        // Judged on the index: the pairs' chunks are freed as they empty, the index is not.
        let cap = self.index.capacity();
        if cap > SHRINK_MIN_CAPACITY && self.entries.len() * SHRINK_FILL_RATIO < cap {
            let target = (self.entries.len() * 2).max(SHRINK_MIN_CAPACITY);
            self.entries.shrink_last();
            let (entries, hasher) = (&self.entries, &self.hasher);
            self.index.shrink_to(target, |&i| entries.get(i as usize).map_or(0, |p| hasher.hash_one(p.field())));
        }
    }

    /// The pairs, shared with the table until either side changes them: what a snapshot
    /// serialises a slice at a time.
    pub fn share_pairs(&self) -> CowVec<PairBytes> {
        self.entries.share()
    }

    /// One scan step. The cursor is a position boundary: a step returns the pairs at
    /// positions `cursor-1, cursor-2, ...` (cursor 0 starts at the end) and answers the
    /// boundary it stopped at, or 0 when it reached the front.
    ///
    /// Why every pair present for the whole scan is returned: inserts append behind the
    /// boundary's already-visited side or ahead of it (both fine: new pairs may or may not be
    /// returned), and a removal only moves the last pair forward into the hole, so an unvisited
    /// pair (in front of the boundary) stays unvisited until the scan reaches it; a visited one
    /// may be returned twice, which SCAN allows. A cursor beyond the end (the table shrank, or
    /// a made-up cursor) restarts from the end.
    pub fn scan(&self, cursor: u64, count: usize) -> ScanStep<'_> {
        let len = self.entries.len();
        let start = if cursor == 0 { len } else { usize::try_from(cursor).map_or(len, |c| c.min(len)) };
        let stop = start.saturating_sub(count.max(1));
        let pairs = self.entries.range(stop, start).rev().map(PairBytes::parts).collect();
        (pairs, stop as u64)
    }

    /// Checks that the index and the vector agree (tests).
    #[cfg(test)]
    fn assert_consistent(&self) {
        assert_eq!(self.index.len(), self.entries.len());
        for (i, p) in self.entries.iter().enumerate() {
            assert_eq!(self.position(p.field()), Some(i), "field {:?}", p.field());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use std::collections::{BTreeMap, BTreeSet};

    fn lim(entries: usize, value: usize) -> HashLimits {
        HashLimits { max_listpack_entries: entries, max_listpack_value_bytes: value }
    }

    #[test]
    fn listpack_keeps_order_and_converts_on_count() {
        let mut h = HashValue::default();
        let l = lim(3, 64);
        assert!(h.set(b"b", b"1", l));
        assert!(h.set(b"a", b"2", l));
        assert!(!h.set(b"b", b"3", l));
        assert!(h.set(b"c", b"4", l));
        assert_eq!(h.encoding(), "listpack");
        let order: Vec<_> = h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
        assert_eq!(
            order,
            vec![(b"b".to_vec(), b"3".to_vec()), (b"a".to_vec(), b"2".to_vec()), (b"c".to_vec(), b"4".to_vec())]
        );
        assert!(h.set(b"d", b"5", l));
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 4);
        assert_eq!(h.get(b"b"), Some(&b"3"[..]));
        // Never back.
        assert!(h.remove(b"a") && h.remove(b"b") && h.remove(b"c"));
        assert_eq!(h.encoding(), "hashtable");
    }

    #[test]
    fn listpack_converts_on_long_field_or_value() {
        let l = lim(128, 4);
        let mut h = HashValue::default();
        h.set(b"abcd", b"abcd", l);
        assert_eq!(h.encoding(), "listpack");
        h.set(b"abcde", b"1", l);
        assert_eq!(h.encoding(), "hashtable");
        let mut h = HashValue::default();
        h.convert_for_args(&[b"a", b"12345"], l);
        assert_eq!(h.encoding(), "hashtable");
        let mut h = HashValue::default();
        h.convert_for_args(&[b"a", b"1234"], l);
        assert_eq!(h.encoding(), "listpack");
    }

    #[test]
    fn table_matches_a_model_under_random_edits() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(11);
        let mut t = FieldTable::default();
        let mut model = BTreeMap::new();
        for step in 0..20_000 {
            let k = format!("f{}", rng.gen_range(0..600)).into_bytes();
            if rng.gen_bool(0.55) {
                let v = format!("v{step}").into_bytes();
                let created = t.insert(&k, &v);
                assert_eq!(created, model.insert(k, v).is_none());
            } else {
                assert_eq!(t.remove(&k), model.remove(&k).is_some());
            }
            if step % 997 == 0 {
                t.assert_consistent();
            }
        }
        t.assert_consistent();
        assert_eq!(t.len(), model.len());
        for (k, v) in &model {
            assert_eq!(t.get(k), Some(&v[..]));
        }
    }

    #[test]
    fn table_shrinks_after_mass_delete() {
        let mut t = FieldTable::default();
        for i in 0..10_000 {
            t.insert(format!("{i}").as_bytes(), b"x");
        }
        let big = t.heap_size_bytes();
        for i in 0..9_990 {
            assert!(t.remove(format!("{i}").as_bytes()));
        }
        t.assert_consistent();
        assert!(t.heap_size_bytes() * 10 < big, "{} vs {big}", t.heap_size_bytes());
    }

    /// The SCAN guarantee: a pair present from the start to the end of a scan is returned,
    /// however the table is edited between steps.
    #[test]
    fn scan_returns_every_pair_present_throughout() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(5);
        for round in 0..50 {
            let mut t = FieldTable::default();
            for i in 0..300 {
                t.insert(format!("k{i}").as_bytes(), b"v");
            }
            // Fields never touched during the scan.
            let stable: BTreeSet<Vec<u8>> = (0..300).step_by(3).map(|i| format!("k{i}").into_bytes()).collect();
            let mut seen = BTreeSet::new();
            let mut cursor = 0u64;
            let mut steps = 0;
            loop {
                let (pairs, next) = t.scan(cursor, 1 + round % 7);
                seen.extend(pairs.iter().map(|(f, _)| f.to_vec()));
                for _ in 0..rng.gen_range(0..6) {
                    let i = rng.gen_range(0..600);
                    if i % 3 == 0 && i < 300 {
                        continue;
                    }
                    let k = format!("k{i}").into_bytes();
                    if rng.gen_bool(0.5) {
                        t.remove(&k);
                    } else {
                        t.insert(&k, b"w");
                    }
                }
                steps += 1;
                assert!(steps < 10_000, "scan did not end");
                if next == 0 {
                    break;
                }
                cursor = next;
            }
            let missing: Vec<_> = stable.difference(&seen).collect();
            assert!(missing.is_empty(), "round {round}: missing {missing:?}");
        }
    }

    #[test]
    fn scan_cursor_past_the_end_and_listpack() {
        let mut t = FieldTable::default();
        for i in 0..5 {
            t.insert(&[b'a' + i], b"v");
        }
        let (p, c) = t.scan(0, 2);
        assert_eq!((p.len(), c), (2, 3));
        let (p, c) = t.scan(u64::MAX, 10);
        assert_eq!((p.len(), c), (5, 0));
        let mut h = HashValue::default();
        h.set(b"x", b"1", HashLimits::default());
        let (p, c) = h.scan(12345, 1);
        assert_eq!((p, c), (vec![(&b"x"[..], &b"1"[..])], 0));
    }

    #[test]
    fn listpack_size_estimate() {
        let mut h = HashValue::default();
        assert_eq!(h.listpack_bytes(), 7);
        h.set(b"a", b"1", HashLimits::default());
        // "a": 1 header + 1 data + 1 backlen; 1: 1 + 1.
        assert_eq!(h.listpack_bytes(), 7 + 3 + 2);
    }
}
