//! Streams: entries keyed by (ms, seq) IDs, consumer groups with their pending entries lists.
//! Owns the data structure and its invariants only; command parsing lives in
//! `command::family::stream`.

/// A stream value. The contents arrive with the stream family.
#[derive(Clone, Debug, Default)]
pub struct StreamValue {}

impl StreamValue {
    pub fn new() -> StreamValue {
        StreamValue {}
    }
    /// Number of entries (XLEN).
    pub fn len(&self) -> usize {
        0
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Redis reports every stream as `stream`.
    pub fn encoding(&self) -> &'static str {
        "stream"
    }
    pub fn heap_size_bytes(&self) -> usize {
        0
    }
}
