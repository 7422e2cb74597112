//! Sorted set values: `listpack` (entries packed in one byte vector, see `zset/listpack.rs`)
//! while within `zset-max-listpack-entries|value`, then `skiplist` (see `zset/skiplist.rs`: a
//! skiplist with spans plus a member index, so ranks are O(log n) and ZSCAN has a stable cursor).
//!
//! This file owns the operations every sorted-set command is built from, with Redis 7.0's
//! exact semantics: `zsetAdd` (NX/XX/GT/LT/INCR outcomes), range specs (`(`-exclusive scores,
//! `[`/`(`/`-`/`+` lex items) and the first/last-in-range searches (on a listpack they scan
//! linearly as Redis does, which matters for lex ranges over mixed scores), rank ranges, and
//! the encoding conversions (to `skiplist` on growth; back to `listpack` only where Redis
//! converts back: the results of ZUNIONSTORE and friends).
//!
//! Must never: hold a NaN score, keep `-0` in a listpack (Redis stores it as the integer 0),
//! or be left empty by a command (the command deletes the key).

mod listpack;
mod skiplist;

pub use listpack::Listpack;
pub use skiplist::{cmp_entry, SharedEntries, SortedSet, WalkCursor};

use crate::store::bytes::CompactBytes;
use std::cmp::Ordering;

#[derive(Clone, Debug)]
pub enum ZSetValue {
    /// Sorted by `cmp_entry`, members distinct, packed (see `zset/listpack.rs`).
    Listpack(Listpack),
    /// Boxed so a small set's value stays as small as its listpack header.
    Skiplist(Box<SortedSet>),
}

/// `zset-max-listpack-entries` and `zset-max-listpack-value`.
#[derive(Clone, Copy, Debug)]
pub struct ListpackLimits {
    pub max_entries: usize,
    pub max_value_bytes: usize,
}

impl ListpackLimits {
    pub fn from_config(cfg: &crate::config::Config) -> Self {
        ListpackLimits {
            max_entries: cfg.zset_max_listpack_entries,
            max_value_bytes: cfg.zset_max_listpack_value_bytes,
        }
    }
}

/// ZADD's option flags, as `zsetAdd` takes them.
#[derive(Clone, Copy, Debug, Default)]
pub struct AddFlags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
    pub incr: bool,
}

/// What `zsetAdd` did; the score is the member's score after the call.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AddOutcome {
    Added(f64),
    Updated(f64),
    /// Processed, but the score did not change.
    Same(f64),
    /// Not processed (NX on an existing member, XX on a new one, GT/LT refused).
    Nop,
    /// The score (or the incremented score) is NaN.
    Nan,
}

/// A min/max range over scores or members, with Redis's predicates (`zslValueGteMin`...).
pub trait RangeSpec {
    /// Ranges that can hold nothing whatever the set (`min > max`, or equal and exclusive).
    fn is_empty(&self) -> bool;
    fn gte_min(&self, score: f64, member: &[u8]) -> bool;
    fn lte_max(&self, score: f64, member: &[u8]) -> bool;
}

/// `zrangespec`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub minex: bool,
    pub maxex: bool,
}

impl RangeSpec for ScoreRange {
    fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.minex || self.maxex))
    }
    fn gte_min(&self, v: f64, _: &[u8]) -> bool {
        if self.minex {
            v > self.min
        } else {
            v >= self.min
        }
    }
    fn lte_max(&self, v: f64, _: &[u8]) -> bool {
        if self.maxex {
            v < self.max
        } else {
            v <= self.max
        }
    }
}

/// One end of a lex range: `-`, `+`, `[member` or `(member`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LexBound {
    NegInf,
    PosInf,
    Incl(Vec<u8>),
    Excl(Vec<u8>),
}

impl LexBound {
    /// `-` and `+` count as exclusive, as Redis sets `ex` for them.
    fn exclusive(&self) -> bool {
        !matches!(self, LexBound::Incl(_))
    }
}

/// `zlexrangespec`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
}

/// Redis's `sdscmplex` on two range ends.
fn cmp_lex_bounds(a: &LexBound, b: &LexBound) -> Ordering {
    use LexBound::*;
    match (a, b) {
        (NegInf, NegInf) | (PosInf, PosInf) => Ordering::Equal,
        (NegInf, _) | (_, PosInf) => Ordering::Less,
        (PosInf, _) | (_, NegInf) => Ordering::Greater,
        (Incl(x) | Excl(x), Incl(y) | Excl(y)) => x.cmp(y),
    }
}

impl RangeSpec for LexRange {
    fn is_empty(&self) -> bool {
        let c = cmp_lex_bounds(&self.min, &self.max);
        c == Ordering::Greater || (c == Ordering::Equal && (self.min.exclusive() || self.max.exclusive()))
    }
    fn gte_min(&self, _: f64, m: &[u8]) -> bool {
        match &self.min {
            LexBound::NegInf => true,
            LexBound::PosInf => false,
            LexBound::Incl(x) => m >= x.as_slice(),
            LexBound::Excl(x) => m > x.as_slice(),
        }
    }
    fn lte_max(&self, _: f64, m: &[u8]) -> bool {
        match &self.max {
            LexBound::PosInf => true,
            LexBound::NegInf => false,
            LexBound::Incl(x) => m <= x.as_slice(),
            LexBound::Excl(x) => m < x.as_slice(),
        }
    }
}

/// Entries from a rank, ascending or descending.
pub enum ZIter<'a> {
    Listpack(listpack::Iter<'a>),
    ListpackRev(listpack::RevIter<'a>),
    Skiplist { s: &'a SortedSet, node: Option<u32>, rev: bool },
}

impl<'a> Iterator for ZIter<'a> {
    type Item = (&'a [u8], f64);
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            ZIter::Listpack(it) => it.next(),
            ZIter::ListpackRev(it) => it.next(),
            ZIter::Skiplist { s, node, rev } => {
                let x = (*node)?;
                *node = if *rev { s.prev(x) } else { s.next(x) };
                Some(s.entry(x))
            }
        }
    }
}

impl ZSetValue {
    /// The empty value ZADD creates for a new key: Redis checks only the first member's length.
    pub fn new_for_add(first_member_len: usize, lim: ListpackLimits) -> Self {
        if lim.max_entries == 0 || lim.max_value_bytes < first_member_len {
            ZSetValue::Skiplist(Box::default())
        } else {
            ZSetValue::Listpack(Listpack::new())
        }
    }

    /// An empty listpack-encoded set.
    pub fn new_listpack() -> Self {
        ZSetValue::Listpack(Listpack::new())
    }

    /// A set built from `items` (sorted by `cmp_entry`, members distinct) whose encoding is
    /// chosen as `zsetConvertToListpackIfNeeded` chooses for ZUNIONSTORE and friends.
    pub fn from_sorted(items: Vec<(f64, CompactBytes)>, lim: ListpackLimits) -> Self {
        let max_len = items.iter().map(|(_, m)| m.len()).max().unwrap_or(0);
        if items.len() <= lim.max_entries && max_len <= lim.max_value_bytes {
            ZSetValue::Listpack(Listpack::from_sorted(items.iter().map(|(s, m)| (*s, m.as_slice()))))
        } else {
            ZSetValue::Skiplist(Box::new(SortedSet::from_sorted(items)))
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            ZSetValue::Listpack(_) => "listpack",
            ZSetValue::Skiplist(_) => "skiplist",
        }
    }

    pub fn heap_size_bytes(&self) -> usize {
        match self {
            ZSetValue::Listpack(v) => v.heap_size_bytes(),
            ZSetValue::Skiplist(s) => std::mem::size_of::<SortedSet>() + s.heap_size_bytes(),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            ZSetValue::Listpack(v) => v.len(),
            ZSetValue::Skiplist(s) => s.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSetValue::Listpack(v) => v.score(member),
            ZSetValue::Skiplist(s) => s.score(member),
        }
    }

    /// 0-based ascending rank of a member.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match self {
            ZSetValue::Listpack(v) => v.rank(member),
            ZSetValue::Skiplist(s) => s.rank(member),
        }
    }

    /// The entry at 0-based ascending rank `r`.
    pub fn at(&self, r: usize) -> Option<(&[u8], f64)> {
        match self {
            ZSetValue::Listpack(v) => v.at(r),
            ZSetValue::Skiplist(s) => s.at_rank(r).map(|x| s.entry(x)),
        }
    }

    /// Entries from rank `r` on, ascending, or down to rank 0 when `rev`.
    pub fn iter_from(&self, r: usize, rev: bool) -> ZIter<'_> {
        match self {
            ZSetValue::Listpack(v) if rev => ZIter::ListpackRev(v.iter_back_from(r)),
            ZSetValue::Listpack(v) => ZIter::Listpack(v.iter_from(r)),
            ZSetValue::Skiplist(s) => ZIter::Skiplist { s, node: s.at_rank(r), rev },
        }
    }

    /// All entries in ascending order.
    pub fn iter(&self) -> ZIter<'_> {
        match self {
            ZSetValue::Listpack(v) => ZIter::Listpack(v.iter()),
            ZSetValue::Skiplist(s) => ZIter::Skiplist { s, node: s.first(), rev: false },
        }
    }

    /// Redis's `zzlIsInRange`/`zslIsInRange`: the range is not trivially empty, the last entry
    /// reaches the min and the first does not pass the max.
    fn may_intersect(&self, r: &impl RangeSpec) -> bool {
        if r.is_empty() || self.is_empty() {
            return false;
        }
        let last = self.at(self.len() - 1);
        let first = self.at(0);
        matches!(last, Some((m, s)) if r.gte_min(s, m)) && matches!(first, Some((m, s)) if r.lte_max(s, m))
    }

    /// Rank of the first entry in range (`zzlFirstInRange`, `zslFirstInLexRange`...): the first
    /// entry reaching the min, if it does not pass the max.
    pub fn first_in_range(&self, r: &impl RangeSpec) -> Option<usize> {
        if !self.may_intersect(r) {
            return None;
        }
        let i = match self {
            ZSetValue::Listpack(v) => v.iter().position(|(m, s)| r.gte_min(s, m))?,
            ZSetValue::Skiplist(s) => s.leading(|sc, m| !r.gte_min(sc, m)),
        };
        let (m, s) = self.at(i)?;
        r.lte_max(s, m).then_some(i)
    }

    /// Rank of the last entry in range: the last entry not passing the max, if it reaches the
    /// min.
    pub fn last_in_range(&self, r: &impl RangeSpec) -> Option<usize> {
        if !self.may_intersect(r) {
            return None;
        }
        let i = match self {
            // Redis scans from the tail for the first entry not passing the max: the
            // highest such rank.
            ZSetValue::Listpack(v) => {
                v.iter().enumerate().filter(|(_, (m, s))| r.lte_max(*s, m)).map(|(i, _)| i).last()?
            }
            ZSetValue::Skiplist(s) => s.leading(|sc, m| r.lte_max(sc, m)).checked_sub(1)?,
        };
        let (m, s) = self.at(i)?;
        r.gte_min(s, m).then_some(i)
    }

    /// ZCOUNT / ZLEXCOUNT: on a listpack the entries from the first in range while they do not
    /// pass the max; on a skiplist the rank difference of the first and last in range.
    pub fn count_in_range(&self, r: &impl RangeSpec) -> usize {
        let Some(first) = self.first_in_range(r) else { return 0 };
        match self {
            ZSetValue::Listpack(_) => self.iter_from(first, false).take_while(|(m, s)| r.lte_max(*s, m)).count(),
            ZSetValue::Skiplist(_) => {
                let len = self.len();
                let mut count = len - first;
                if let Some(last) = self.last_in_range(r) {
                    count = count.saturating_sub(len - (last + 1));
                }
                count
            }
        }
    }

    /// ZREMRANGEBYSCORE / ZREMRANGEBYLEX: removes the entries from the first in range while they
    /// do not pass the max. Returns how many.
    pub fn remove_in_range(&mut self, r: &impl RangeSpec) -> usize {
        let Some(first) = self.first_in_range(r) else { return 0 };
        let n = self.iter_from(first, false).take_while(|(m, s)| r.lte_max(*s, m)).count();
        if n == 0 {
            return 0;
        }
        self.remove_ranks(first, first + n - 1, false).0
    }

    /// Removes 0-based ranks `start..=end` (`end` clamped to the last rank); returns how many
    /// and, when `keep`, the removed entries in ascending order.
    pub fn remove_ranks(&mut self, start: usize, end: usize, keep: bool) -> (usize, Vec<(CompactBytes, f64)>) {
        let len = self.len();
        if start >= len || start > end {
            return (0, Vec::new());
        }
        let end = end.min(len - 1);
        match self {
            ZSetValue::Listpack(v) => v.remove_ranks(start, end, keep),
            ZSetValue::Skiplist(s) => s.remove_rank_range(start, end, keep),
        }
    }

    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            ZSetValue::Listpack(v) => v.remove(member),
            ZSetValue::Skiplist(s) => s.remove(member).is_some(),
        }
    }

    pub fn convert_to_skiplist(&mut self) {
        if let ZSetValue::Listpack(v) = self {
            let set = SortedSet::from_sorted(v.iter().map(|(m, s)| (s, CompactBytes::new(m))));
            *self = ZSetValue::Skiplist(Box::new(set));
        }
    }

    /// Inserts a member known to be absent, converting first when the listpack would outgrow
    /// its limits (`zsetAdd` checks before inserting).
    fn insert_new(&mut self, score: f64, member: &[u8], lim: ListpackLimits) {
        if let ZSetValue::Listpack(v) = self {
            if v.len() + 1 > lim.max_entries || member.len() > lim.max_value_bytes {
                self.convert_to_skiplist();
            }
        }
        match self {
            ZSetValue::Listpack(v) => v.insert(score, member),
            ZSetValue::Skiplist(s) => s.insert(score, CompactBytes::new(member)),
        }
    }

    fn set_score(&mut self, member: &[u8], score: f64) {
        match self {
            ZSetValue::Listpack(v) => {
                if v.remove(member) {
                    v.insert(score, member);
                }
            }
            ZSetValue::Skiplist(s) => {
                s.update_score(member, score);
            }
        }
    }

    /// Redis's `zsetAdd`.
    pub fn add(&mut self, score: f64, member: &[u8], f: AddFlags, lim: ListpackLimits) -> AddOutcome {
        if score.is_nan() {
            return AddOutcome::Nan;
        }
        match self.score(member) {
            Some(cur) => {
                if f.nx {
                    return AddOutcome::Nop;
                }
                let mut score = score;
                if f.incr {
                    score += cur;
                    if score.is_nan() {
                        return AddOutcome::Nan;
                    }
                }
                if (f.lt && score >= cur) || (f.gt && score <= cur) {
                    return AddOutcome::Nop;
                }
                if score != cur {
                    self.set_score(member, score);
                    AddOutcome::Updated(score)
                } else {
                    AddOutcome::Same(score)
                }
            }
            None if f.xx => AddOutcome::Nop,
            None => {
                self.insert_new(score, member, lim);
                AddOutcome::Added(score)
            }
        }
    }

    /// Removes and returns the lowest (or highest) entry.
    pub fn pop(&mut self, max: bool) -> Option<(CompactBytes, f64)> {
        let len = self.len();
        if len == 0 {
            return None;
        }
        let r = if max { len - 1 } else { 0 };
        self.remove_ranks(r, r, true).1.pop()
    }

    /// One ZSCAN step: a listpack returns everything with cursor 0; a skiplist walks its
    /// member index as Redis's `dictScan` does, until `count` entries or `20 * count` buckets
    /// (Redis counts members and scores, so its `10 * COUNT` budget is `20 * count` here).
    pub fn scan<'a>(&'a self, cursor: u64, count: usize, mut emit: impl FnMut(&'a [u8], f64)) -> u64 {
        match self {
            ZSetValue::Listpack(v) => {
                for (m, s) in v.iter() {
                    emit(m, s);
                }
                0
            }
            ZSetValue::Skiplist(s) => {
                let mut cursor = cursor;
                let mut found = 0usize;
                let mut budget = count.saturating_mul(20);
                loop {
                    cursor = s.scan(cursor, |m, sc| {
                        found += 1;
                        emit(m, sc)
                    });
                    if cursor == 0 || budget == 0 || found >= count {
                        return cursor;
                    }
                    budget -= 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
