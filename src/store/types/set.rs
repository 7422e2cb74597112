//! Set values: `intset` (a sorted vector of integers) while every member is an integer and
//! there are at most `set-max-intset-entries`, then `hashtable`.

use crate::store::bytes::CompactBytes;

#[derive(Clone, Debug)]
pub enum SetValue {
    Intset(Vec<i64>),
    Table(hashbrown::HashSet<CompactBytes>),
}

impl SetValue {
    pub fn encoding(&self) -> &'static str {
        match self {
            SetValue::Intset(_) => "intset",
            SetValue::Table(_) => "hashtable",
        }
    }
    pub fn heap_size_bytes(&self) -> usize {
        match self {
            SetValue::Intset(v) => v.capacity() * 8,
            SetValue::Table(s) => s.capacity() * 25 + s.iter().map(|m| m.heap_size_bytes()).sum::<usize>(),
        }
    }
}
