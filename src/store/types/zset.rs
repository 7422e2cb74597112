//! Sorted set values: `listpack` (a vector sorted by score then member) while within
//! `zset-max-listpack-entries|value`, then `skiplist` (an ordered index plus a member map).

use crate::store::bytes::CompactBytes;

#[derive(Clone, Debug)]
pub enum ZSetValue {
    Listpack(Vec<(f64, CompactBytes)>),
    Skiplist(SortedSet),
}

/// Members ordered by (score, member), and each member's score.
#[derive(Clone, Debug, Default)]
pub struct SortedSet {
    pub by_score: std::collections::BTreeSet<(Score, CompactBytes)>,
    pub scores: hashbrown::HashMap<CompactBytes, f64>,
}

/// A score with the total order Redis uses (scores are never NaN).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score(pub f64);
impl Eq for Score {}
impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Score {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl ZSetValue {
    pub fn encoding(&self) -> &'static str {
        match self {
            ZSetValue::Listpack(_) => "listpack",
            ZSetValue::Skiplist(_) => "skiplist",
        }
    }
    pub fn heap_size_bytes(&self) -> usize {
        match self {
            ZSetValue::Listpack(v) => v.capacity() * 32 + v.iter().map(|(_, m)| m.heap_size_bytes()).sum::<usize>(),
            ZSetValue::Skiplist(s) => s.scores.capacity() * 33 + s.by_score.len() * 48 + s.scores.keys().map(|m| 2 * m.heap_size_bytes()).sum::<usize>(),
        }
    }
}
