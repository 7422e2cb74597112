//! List values. Redis 7.0 reports every list as `quicklist`; one double-ended queue serves.

use crate::store::bytes::CompactBytes;
use std::collections::VecDeque;

#[derive(Clone, Debug, Default)]
pub struct ListValue {
    pub items: VecDeque<CompactBytes>,
}

impl ListValue {
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }
    pub fn heap_size_bytes(&self) -> usize {
        self.items.capacity() * 24 + self.items.iter().map(|i| i.heap_size_bytes()).sum::<usize>()
    }
}
