//! Set values, in Redis 7.0's two encodings: `intset` (sorted integers, stored in the narrowest
//! of 16/32/64-bit widths that holds them all) while every member is a canonical integer and
//! there are at most `set-max-intset-entries`, then `hashtable`. Like Redis, a set never goes
//! back from `hashtable` to `intset`.
//!
//! The `hashtable` encoding is a vector of members plus a hash index of positions into it, so a
//! random member is O(1) (SPOP, SRANDMEMBER) and a position is a SCAN cursor that survives
//! inserts, removals and growth (see `MemberTable`).
//!
//! This file owns the data structures and their invariants only: no replies, no keyspace.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

use crate::resp::parse::parse_i64_strict;
use crate::resp::write::fmt_i64;
use crate::store::bytes::CompactBytes;
use crate::store::cow_vec::CowVec;

/// One member as a set yields it: intsets hold integers, hashtables hold bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Member<'a> {
    Int(i64),
    Bytes(&'a [u8]),
}

impl<'a> Member<'a> {
    /// The member's bytes (integers formatted as decimal text into `tmp`).
    pub fn as_bytes<'b>(&'b self, tmp: &'b mut [u8; 24]) -> &'b [u8] {
        match self {
            Member::Int(n) => fmt_i64(tmp, *n),
            Member::Bytes(b) => b,
        }
    }
    pub fn to_owned_member(self) -> OwnedMember {
        match self {
            Member::Int(n) => OwnedMember::Int(n),
            Member::Bytes(b) => OwnedMember::Bytes(CompactBytes::new(b)),
        }
    }
}

/// A member taken out of a set (SPOP).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OwnedMember {
    Int(i64),
    Bytes(CompactBytes),
}

impl OwnedMember {
    pub fn as_member(&self) -> Member<'_> {
        match self {
            OwnedMember::Int(n) => Member::Int(*n),
            OwnedMember::Bytes(b) => Member::Bytes(b.as_slice()),
        }
    }
}

/// Redis's `isSdsRepresentableAsLongLong`: only the canonical decimal form of an i64 (no sign
/// on zero, no leading zeros or spaces) is an integer member.
#[inline]
pub fn member_as_int(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    parse_i64_strict(b)
}

#[derive(Clone, Debug)]
pub enum SetValue {
    Intset(IntSet),
    /// Boxed so a small set (an intset) costs no more than its few words.
    Table(Box<MemberTable>),
}

impl SetValue {
    /// Redis's `setTypeCreate`: the encoding a new set gets for its first member.
    pub fn new_for(first: &[u8]) -> SetValue {
        if member_as_int(first).is_some() {
            SetValue::Intset(IntSet::new())
        } else {
            SetValue::Table(Box::new(MemberTable::with_capacity(0)))
        }
    }

    /// A set of `members` with the encoding Redis would give it by adding them in order (an
    /// empty intset when there are none).
    pub fn from_members<'m>(members: impl IntoIterator<Item = &'m [u8]>, max_intset_entries: usize) -> SetValue {
        let mut it = members.into_iter().peekable();
        let mut set = match it.peek() {
            Some(first) => SetValue::new_for(first),
            None => SetValue::new_intset(),
        };
        for m in it {
            set.add(m, max_intset_entries);
        }
        set
    }

    /// An empty intset: the starting point of SINTERSTORE/SUNIONSTORE/SDIFFSTORE results.
    pub fn new_intset() -> SetValue {
        SetValue::Intset(IntSet::new())
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            SetValue::Intset(_) => "intset",
            SetValue::Table(_) => "hashtable",
        }
    }

    pub fn heap_size_bytes(&self) -> usize {
        match self {
            SetValue::Intset(s) => s.heap_size_bytes(),
            SetValue::Table(t) => std::mem::size_of::<MemberTable>() + t.heap_size_bytes(),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            SetValue::Intset(s) => s.len(),
            SetValue::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Redis's `setTypeAdd`: adds `m`, converting to `hashtable` when `m` is not an integer or
    /// the intset grows past `max_intset_entries`. Returns whether `m` was new.
    pub fn add(&mut self, m: &[u8], max_intset_entries: usize) -> bool {
        self.add_member(Member::Bytes(m), max_intset_entries)
    }

    /// `add` for a member that may already be an integer (from another intset).
    pub fn add_member(&mut self, m: Member<'_>, max_intset_entries: usize) -> bool {
        match self {
            SetValue::Intset(s) => {
                let as_int = match m {
                    Member::Int(n) => Some(n),
                    Member::Bytes(b) => member_as_int(b),
                };
                match as_int {
                    Some(n) => {
                        if !s.insert(n) {
                            return false;
                        }
                        if s.len() > max_intset_entries {
                            self.convert_to_table();
                        }
                        true
                    }
                    None => {
                        self.convert_to_table();
                        let mut tmp = [0u8; 24];
                        let added = self.table_mut().is_some_and(|t| t.insert(m.as_bytes(&mut tmp)));
                        debug_assert!(added, "a non-integer was already in a set converted from an intset");
                        added
                    }
                }
            }
            SetValue::Table(t) => {
                let mut tmp = [0u8; 24];
                t.insert(m.as_bytes(&mut tmp))
            }
        }
    }

    /// Redis's `setTypeRemove`. Returns whether `m` was there.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self {
            SetValue::Intset(s) => member_as_int(m).is_some_and(|n| s.remove(n)),
            SetValue::Table(t) => t.remove(m),
        }
    }

    /// `remove` for a member taken from another set (no formatting when both are intsets).
    pub fn remove_member(&mut self, m: Member<'_>) -> bool {
        match (self, m) {
            (SetValue::Intset(s), Member::Int(n)) => s.remove(n),
            (set, m) => {
                let mut tmp = [0u8; 24];
                set.remove(m.as_bytes(&mut tmp))
            }
        }
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        self.contains_member(Member::Bytes(m))
    }

    /// Membership of a member taken from another set (no formatting when both are intsets).
    pub fn contains_member(&self, m: Member<'_>) -> bool {
        match (self, m) {
            (SetValue::Intset(s), Member::Int(n)) => s.contains(n),
            (SetValue::Intset(s), Member::Bytes(b)) => member_as_int(b).is_some_and(|n| s.contains(n)),
            (SetValue::Table(t), m) => {
                let mut tmp = [0u8; 24];
                t.contains(m.as_bytes(&mut tmp))
            }
        }
    }

    /// The member at position `i` of the iteration order (ascending for intsets).
    pub fn get(&self, i: usize) -> Option<Member<'_>> {
        match self {
            SetValue::Intset(s) => s.get(i).map(Member::Int),
            SetValue::Table(t) => t.get(i).map(Member::Bytes),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = Member<'_>> + '_ {
        (0..self.len()).map_while(move |i| self.get(i))
    }

    /// Calls `f` on every member's bytes (integers as decimal text); returns the count.
    pub fn for_each_member(&self, mut f: impl FnMut(&[u8])) -> usize {
        let mut tmp = [0u8; 24];
        for m in self.iter() {
            f(m.as_bytes(&mut tmp));
        }
        self.len()
    }

    /// A uniformly chosen member, or None when empty.
    pub fn random(&self, rng: &mut impl rand::Rng) -> Option<Member<'_>> {
        if self.is_empty() {
            return None;
        }
        self.get(rng.gen_range(0..self.len()))
    }

    /// Removes and returns a uniformly chosen member.
    pub fn pop_random(&mut self, rng: &mut impl rand::Rng) -> Option<OwnedMember> {
        if self.is_empty() {
            return None;
        }
        let i = rng.gen_range(0..self.len());
        match self {
            SetValue::Intset(s) => s.remove_at(i).map(OwnedMember::Int),
            SetValue::Table(t) => t.remove_at(i).map(OwnedMember::Bytes),
        }
    }

    /// Redis's `setTypeConvert(set, OBJ_ENCODING_HT)`: a no-op on a hashtable.
    pub fn convert_to_table(&mut self) {
        if let SetValue::Intset(s) = self {
            let mut t = MemberTable::with_capacity(s.len());
            let mut tmp = [0u8; 24];
            for n in s.iter() {
                t.insert(fmt_i64(&mut tmp, n));
            }
            *self = SetValue::Table(Box::new(t));
        }
    }

    fn table_mut(&mut self) -> Option<&mut MemberTable> {
        match self {
            SetValue::Table(t) => Some(t),
            SetValue::Intset(_) => None,
        }
    }

    /// Checks the encoding invariants (tests and debug builds): an intset is strictly
    /// ascending in its width; a table's index names every position exactly once.
    pub fn assert_valid(&self) {
        match self {
            SetValue::Intset(s) => s.assert_valid(),
            SetValue::Table(t) => t.assert_valid(),
        }
    }
}

/// Redis's `intset`: distinct integers in ascending order, all stored in the narrowest width
/// (2, 4 or 8 bytes) that holds every one of them; the width grows when a wider integer comes
/// in and never shrinks.
///
/// One byte string holds the width in its first byte, then the integers little-endian. It is
/// a `CompactBytes`, so an intset of up to 21 bytes (ten 16-bit integers) needs no allocation
/// at all and a larger one a single exactly sized block; `SetValue` stays three words.
#[derive(Clone, Debug, Default)]
pub struct IntSet {
    /// Empty for an empty set, else `[width, int0, int1, ...]`.
    bytes: CompactBytes,
}

/// The narrowest intset width that holds `n`.
fn width_for(n: i64) -> usize {
    if i16::try_from(n).is_ok() {
        2
    } else if i32::try_from(n).is_ok() {
        4
    } else {
        8
    }
}

fn encode_int(n: i64, width: usize) -> ([u8; 8], usize) {
    let mut buf = [0u8; 8];
    match width {
        2 => buf[..2].copy_from_slice(&(n as i16).to_le_bytes()),
        4 => buf[..4].copy_from_slice(&(n as i32).to_le_bytes()),
        _ => buf.copy_from_slice(&n.to_le_bytes()),
    }
    (buf, width.min(8))
}

impl IntSet {
    pub fn new() -> Self {
        IntSet::default()
    }

    pub fn width_bytes(&self) -> usize {
        match self.bytes.first() {
            Some(&w) => w as usize,
            None => 2,
        }
    }

    pub fn len(&self) -> usize {
        self.bytes.len().saturating_sub(1) / self.width_bytes()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn heap_size_bytes(&self) -> usize {
        self.bytes.heap_size_bytes()
    }

    pub fn get(&self, i: usize) -> Option<i64> {
        let w = self.width_bytes();
        let at = 1 + i.checked_mul(w)?;
        let b = self.bytes.get(at..at + w)?;
        Some(match *b {
            [x0, x1] => i16::from_le_bytes([x0, x1]).into(),
            [x0, x1, x2, x3] => i32::from_le_bytes([x0, x1, x2, x3]).into(),
            [x0, x1, x2, x3, x4, x5, x6, x7] => i64::from_le_bytes([x0, x1, x2, x3, x4, x5, x6, x7]),
            _ => return None,
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.len()).map_while(move |i| self.get(i))
    }

    /// `Ok(position)` of `n`, or `Err(position)` where it would go.
    fn search(&self, n: i64) -> Result<usize, usize> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.get(mid) {
                Some(x) if x < n => lo = mid + 1,
                Some(x) if x > n => hi = mid,
                Some(_) => return Ok(mid),
                None => break,
            }
        }
        Err(lo)
    }

    pub fn contains(&self, n: i64) -> bool {
        width_for(n) <= self.width_bytes() && self.search(n).is_ok()
    }

    /// Inserts `n` in order; returns false when it was already there.
    pub fn insert(&mut self, n: i64) -> bool {
        if self.bytes.is_empty() {
            self.bytes = CompactBytes::new(&[width_for(n) as u8]);
        } else if width_for(n) > self.width_bytes() {
            self.upgrade(width_for(n));
        }
        let Err(pos) = self.search(n) else { return false };
        let w = self.width_bytes();
        // Exact size, as Redis's `intsetResize`: an intset never carries slack.
        let mut bytes = Vec::with_capacity(self.bytes.len() + w);
        bytes.extend_from_slice(&self.bytes);
        let (buf, n_bytes) = encode_int(n, w);
        let at = 1 + pos * w;
        // Append, then rotate into place.
        bytes.extend_from_slice(&buf[..n_bytes]);
        if let Some(tail) = bytes.get_mut(at..) {
            tail.rotate_right(n_bytes);
        }
        self.bytes = CompactBytes::from_vec(bytes);
        true
    }

    pub fn remove(&mut self, n: i64) -> bool {
        if width_for(n) > self.width_bytes() {
            return false;
        }
        match self.search(n) {
            Ok(pos) => self.remove_at(pos).is_some(),
            Err(_) => false,
        }
    }

    /// Removes the integer at position `i`.
    pub fn remove_at(&mut self, i: usize) -> Option<i64> {
        let n = self.get(i)?;
        let w = self.width_bytes();
        let at = 1 + i * w;
        // Exactly sized after removals too, as Redis's intset.
        let mut bytes = self.bytes.to_vec();
        bytes.drain(at..at + w);
        self.bytes = CompactBytes::from_vec(bytes);
        Some(n)
    }

    /// Rewrites every integer in `width` bytes, as `intsetUpgradeAndAdd` does.
    fn upgrade(&mut self, width: usize) {
        let mut bytes = Vec::with_capacity(1 + self.len() * width);
        bytes.push(width as u8);
        for n in self.iter() {
            let (buf, k) = encode_int(n, width);
            bytes.extend_from_slice(&buf[..k]);
        }
        self.bytes = CompactBytes::from_vec(bytes);
    }

    fn assert_valid(&self) {
        let w = self.width_bytes();
        assert!(matches!(w, 2 | 4 | 8), "intset width {w}");
        assert!(self.bytes.is_empty() || (self.bytes.len() - 1).is_multiple_of(w), "intset bytes not whole integers");
        let v: Vec<i64> = self.iter().collect();
        assert!(v.windows(2).all(|p| p[0] < p[1]), "intset not strictly ascending: {v:?}");
        assert!(v.iter().all(|&n| width_for(n) <= w), "intset holds an integer wider than its width");
    }
}

/// The `hashtable` encoding: members in a vector, found through a hash index of positions.
///
/// Removing a member moves the last one into its place (`swap_remove`), so positions stay
/// dense: a random member is a random position, and a scan that walks positions from the end
/// towards 0 sees every member that stays in the set at least once. A member only ever moves
/// from the end to a lower position, i.e. from the part already walked to the part still to
/// walk, never the other way; new members are appended behind the walk.
#[derive(Clone)]
pub struct MemberTable {
    /// Chunked (`CowVec`) so a snapshot can share the members instead of serialising them
    /// all at once.
    members: CowVec<CompactBytes>,
    /// Positions into `members`, hashed by the member they name.
    index: HashTable<usize>,
    hasher: DefaultHashBuilder,
}

impl std::fmt::Debug for MemberTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.members.iter()).finish()
    }
}

impl MemberTable {
    pub fn with_capacity(n: usize) -> Self {
        MemberTable {
            members: CowVec::with_capacity(n),
            index: HashTable::with_capacity(n),
            hasher: DefaultHashBuilder::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<&[u8]> {
        self.members.get(i).map(|m| m.as_slice())
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.members.iter().map(|m| m.as_slice())
    }

    /// The members, shared with the table until either side changes them: what a snapshot
    /// serialises a slice at a time.
    pub fn share_members(&self) -> CowVec<CompactBytes> {
        self.members.share()
    }

    fn hash_of(&self, m: &[u8]) -> u64 {
        self.hasher.hash_one(m)
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        let members = &self.members;
        self.index.find(self.hash_of(m), |&i| members.get(i).is_some_and(|x| x.as_slice() == m)).is_some()
    }

    /// Adds `m`; returns false when it was already there.
    pub fn insert(&mut self, m: &[u8]) -> bool {
        let hash = self.hash_of(m);
        let members = &self.members;
        if self.index.find(hash, |&i| members.get(i).is_some_and(|x| x.as_slice() == m)).is_some() {
            return false;
        }
        let pos = self.members.len();
        self.members.push(CompactBytes::new(m));
        let (members, hasher) = (&self.members, &self.hasher);
        self.index.insert_unique(hash, pos, |&i| members.get(i).map_or(0, |x| hasher.hash_one(x.as_slice())));
        true
    }

    pub fn remove(&mut self, m: &[u8]) -> bool {
        let hash = self.hash_of(m);
        let members = &self.members;
        let Ok(entry) = self.index.find_entry(hash, |&i| members.get(i).is_some_and(|x| x.as_slice() == m)) else {
            return false;
        };
        let (pos, _) = entry.remove();
        self.fill_hole(pos);
        true
    }

    /// Removes the member at position `pos`.
    pub fn remove_at(&mut self, pos: usize) -> Option<CompactBytes> {
        let hash = self.hash_of(self.members.get(pos)?.as_slice());
        let entry = self.index.find_entry(hash, |&i| i == pos).ok()?;
        entry.remove();
        self.fill_hole(pos)
    }

    /// Takes the member at `pos` (already out of the index) out of the vector, moving the last
    /// member into its place and re-pointing that member's index entry.
    fn fill_hole(&mut self, pos: usize) -> Option<CompactBytes> {
        let last = self.members.len().checked_sub(1)?;
        let removed = self.members.swap_remove(pos)?;
        if pos != last {
            let moved_hash = self.hash_of(self.members.get(pos)?.as_slice());
            match self.index.find_mut(moved_hash, |&i| i == last) {
                Some(slot) => *slot = pos,
                None => debug_assert!(false, "moved member missing from the index"),
            }
        }
        self.shrink_if_sparse();
        Some(removed)
    }

    /// Gives memory back when a set shrank to under a quarter of its capacity (Redis resizes
    /// its dict when it is under 10% full).
    fn shrink_if_sparse(&mut self) {
        // Judged on the index: the members' chunks are freed as they empty, the index is not.
        let len = self.members.len();
        if self.index.capacity() > 16 && len * 4 < self.index.capacity() {
            self.members.shrink_last();
            let (members, hasher) = (&self.members, &self.hasher);
            self.index.shrink_to(len * 2, |&i| members.get(i).map_or(0, |x| hasher.hash_one(x.as_slice())));
        }
    }

    pub fn heap_size_bytes(&self) -> usize {
        let member_bytes: usize = self.members.iter().map(|m| m.heap_size_bytes()).sum();
        self.members.heap_size_bytes() + self.index.capacity() * (std::mem::size_of::<usize>() + 1) + member_bytes
    }

    fn assert_valid(&self) {
        assert_eq!(self.index.len(), self.members.len(), "set index and members out of step");
        let mut seen = vec![false; self.members.len()];
        for &i in self.index.iter() {
            let Some(flag) = seen.get_mut(i) else { panic!("set index points past the members: {i}") };
            assert!(!*flag, "set index names position {i} twice");
            *flag = true;
        }
        for (i, m) in self.members.iter().enumerate() {
            let members = &self.members;
            let found = self.index.find(self.hash_of(m), |&j| members.get(j).is_some_and(|x| x == m));
            assert_eq!(found, Some(&i), "member at {i} not found at its position");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn small_sets_stay_small() {
        // A small set costs its `SetValue` (three words), and one allocation of packed
        // integers once they no longer fit inline.
        assert_eq!(std::mem::size_of::<SetValue>(), 24);
        let s = SetValue::from_members([&b"1"[..], b"2", b"3"], 512);
        assert_eq!(s.heap_size_bytes(), 0);
        let s = SetValue::from_members([&b"1"[..], b"2", b"3", b"4", b"5", b"6", b"7", b"8", b"9", b"10"], 512);
        assert_eq!(s.heap_size_bytes(), 0);
        let s = SetValue::from_members([&b"1"[..], b"2", b"3", b"4", b"5", b"6", b"7", b"8", b"9", b"10", b"11"], 512);
        assert_eq!(s.heap_size_bytes(), 1 + 11 * 2);
        let members: Vec<String> = (0..400).rev().map(|i| i.to_string()).collect();
        let s = SetValue::from_members(members.iter().map(|m| m.as_bytes()), 512);
        assert_eq!(s.heap_size_bytes(), 1 + 400 * 2);
    }

    #[test]
    fn intset_widths_and_order() {
        let mut s = IntSet::new();
        for n in [5, -3, 5, 100] {
            s.insert(n);
        }
        assert_eq!(s.width_bytes(), 2);
        assert!(s.insert(70_000));
        assert_eq!(s.width_bytes(), 4);
        assert!(s.insert(i64::MIN));
        assert_eq!(s.width_bytes(), 8);
        assert!(s.remove(i64::MIN));
        // Redis never narrows an intset.
        assert_eq!(s.width_bytes(), 8);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![-3, 5, 100, 70_000]);
        assert!(s.contains(70_000) && !s.contains(70_001) && !s.contains(i64::MAX));
        s.assert_valid();
    }

    #[test]
    fn intset_matches_a_model() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(9);
        let mut s = IntSet::new();
        let mut model = std::collections::BTreeSet::new();
        for step in 0..4000u32 {
            // Mostly narrow values, widening over time.
            let n: i64 = match rand::Rng::gen_range(&mut rng, 0..10) {
                0 if step > 1000 => rand::Rng::gen_range(&mut rng, -3_000_000_000i64..3_000_000_000),
                1 | 2 if step > 500 => rand::Rng::gen_range(&mut rng, -100_000i64..100_000),
                _ => rand::Rng::gen_range(&mut rng, -300i64..300),
            };
            if rand::Rng::gen_bool(&mut rng, 0.6) {
                assert_eq!(s.insert(n), model.insert(n));
            } else {
                assert_eq!(s.remove(n), model.remove(&n));
            }
            assert_eq!(s.contains(n), model.contains(&n));
        }
        s.assert_valid();
        assert_eq!(s.iter().collect::<Vec<_>>(), model.into_iter().collect::<Vec<_>>());
        assert_eq!(s.width_bytes(), 8);
    }

    #[test]
    fn members_as_int_are_canonical() {
        assert_eq!(member_as_int(b"12"), Some(12));
        assert_eq!(member_as_int(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [&b"012"[..], b"-0", b"+1", b" 1", b"1 ", b"", b"9223372036854775808", b"1.0"] {
            assert_eq!(member_as_int(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn conversion_rules() {
        let mut s = SetValue::new_for(b"1");
        assert_eq!(s.encoding(), "intset");
        for i in 0..4 {
            assert!(s.add(i.to_string().as_bytes(), 4));
        }
        assert_eq!(s.encoding(), "intset");
        assert!(s.add(b"4", 4));
        assert_eq!(s.encoding(), "hashtable");
        assert_eq!(s.len(), 5);
        let mut s = SetValue::new_for(b"1");
        s.add(b"1", 512);
        assert!(s.add(b"x", 512));
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains(b"1") && s.contains(b"x"));
        assert!(s.remove(b"x"));
        assert_eq!(s.encoding(), "hashtable");
        assert_eq!(SetValue::new_for(b"01").encoding(), "hashtable");
        s.assert_valid();
    }

    #[test]
    fn table_insert_remove_random_keep_index() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(3);
        let mut s = SetValue::new_for(b"a");
        let mut model = std::collections::BTreeSet::new();
        for step in 0..5000u32 {
            let m = format!("m{}", rand::Rng::gen_range(&mut rng, 0..300));
            match step % 4 {
                0 | 1 => assert_eq!(s.add(m.as_bytes(), 512), model.insert(m.clone())),
                2 => assert_eq!(s.remove(m.as_bytes()), model.remove(&m)),
                _ => {
                    if let Some(OwnedMember::Bytes(b)) = s.pop_random(&mut rng) {
                        assert!(model.remove(&String::from_utf8_lossy(&b).into_owned()));
                    }
                }
            }
            assert_eq!(s.len(), model.len());
        }
        s.assert_valid();
        let mut seen = std::collections::BTreeSet::new();
        s.for_each_member(|m| {
            seen.insert(String::from_utf8_lossy(m).into_owned());
        });
        assert_eq!(seen, model);
    }
}
