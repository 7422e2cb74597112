//! Hash values: `listpack` (a small vector of field/value pairs, in insertion order) while
//! within `hash-max-listpack-entries|value`, then `hashtable`.

use crate::store::bytes::CompactBytes;

#[derive(Clone, Debug)]
pub enum HashValue {
    Listpack(Vec<(CompactBytes, CompactBytes)>),
    Table(hashbrown::HashMap<CompactBytes, CompactBytes>),
}

impl HashValue {
    pub fn encoding(&self) -> &'static str {
        match self {
            HashValue::Listpack(_) => "listpack",
            HashValue::Table(_) => "hashtable",
        }
    }
    pub fn heap_size_bytes(&self) -> usize {
        match self {
            HashValue::Listpack(v) => v.capacity() * 48 + v.iter().map(|(f, x)| f.heap_size_bytes() + x.heap_size_bytes()).sum::<usize>(),
            HashValue::Table(m) => m.capacity() * 49 + m.iter().map(|(f, x)| f.heap_size_bytes() + x.heap_size_bytes()).sum::<usize>(),
        }
    }
}
