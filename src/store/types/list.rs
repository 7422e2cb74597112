//! List values: Redis 7.0's quicklist, a deque of packed nodes.
//!
//! Redis 7.0 reports every list as `quicklist`. Like Redis, elements are packed back to back
//! in nodes (see `node`) instead of one allocation and one pointer-sized slot per element, so
//! a list of short elements costs a few bytes over its data, as in Redis. A node grows until
//! `list-max-listpack-size` (read when the list is created, as Redis does) says it is full.
//!
//! This module owns the layout and every index computation on it. Indexes here are plain
//! in-range `usize`s: converting Redis's signed, possibly out-of-range indexes is the
//! command's business, and every method that takes an index checks it and reports a miss
//! instead of panicking.

mod node;

use node::{framed_len, Node};
use std::collections::VecDeque;

/// Redis's `SIZE_SAFETY_LIMIT`: a node bounded by a count is still kept under 8 KiB.
const SIZE_SAFETY_LIMIT_BYTES: usize = 8192;
/// Node sizes of `list-max-listpack-size` -1..-5 (Redis's `optimization_level`).
const NODE_LIMIT_BYTES: [usize; 5] = [4096, 8192, 16384, 32768, 65536];

/// Longest element a list holds: node offsets are `u32` so a node stays 32 bytes. Redis 7.0
/// has no such bound (it keeps elements over 1 GiB in "plain" nodes); reaching this one needs
/// `proto-max-bulk-len` raised past 2 GiB, and commands refuse such elements as Redis 6.2 did
/// ("Element too large") before they get here.
pub const MAX_ELEMENT_BYTES: usize = (1 << 31) - 1;

/// Which end of a list (Redis's `LIST_HEAD` / `LIST_TAIL`, `LEFT` / `RIGHT` in commands).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum End {
    Left,
    Right,
}

#[derive(Clone, Debug)]
pub struct ListValue {
    nodes: VecDeque<Node>,
    len: usize,
    /// `list-max-listpack-size` when the list was created.
    fill: i32,
}

impl Default for ListValue {
    fn default() -> Self {
        ListValue::new(-2)
    }
}

impl ListValue {
    /// An empty list whose nodes are bounded by `fill` (`list-max-listpack-size`).
    pub fn new(fill: i32) -> Self {
        // Redis clamps the setting the same way (`quicklistSetFill`).
        ListValue { nodes: VecDeque::new(), len: 0, fill: fill.clamp(-5, 1 << 15) }
    }

    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    pub fn heap_size_bytes(&self) -> usize {
        let nodes = &self.nodes;
        nodes.capacity() * std::mem::size_of::<Node>() + nodes.iter().map(Node::heap_size_bytes).sum::<usize>()
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether a node may hold `bytes` live bytes in `count` elements (Redis's
    /// `_quicklistNodeAllowInsert` rules).
    fn node_allows(&self, bytes: usize, count: usize) -> bool {
        if self.fill >= 0 {
            let max = if self.fill == 0 { 1 } else { self.fill as usize };
            bytes <= SIZE_SAFETY_LIMIT_BYTES && count <= max
        } else {
            let level = ((-(self.fill as i64)) - 1).clamp(0, 4) as usize;
            bytes <= NODE_LIMIT_BYTES[level]
        }
    }

    fn fits(&self, node: &Node, v: &[u8]) -> bool {
        self.node_allows(node.bytes() + framed_len(v.len()), node.count() + 1)
    }

    pub fn push(&mut self, end: End, v: &[u8]) {
        match end {
            End::Left => self.push_front(v),
            End::Right => self.push_back(v),
        }
    }

    pub fn push_back(&mut self, v: &[u8]) {
        assert!(v.len() <= MAX_ELEMENT_BYTES, "list element over MAX_ELEMENT_BYTES");
        let fits = self.nodes.back().is_some_and(|n| self.fits(n, v));
        let nodes = &mut self.nodes;
        match nodes.back_mut() {
            Some(last) if fits => last.push_back(v),
            last => {
                // The old tail is full: it will not grow again, so give back its free room.
                if let Some(last) = last {
                    last.shrink_to_fit();
                }
                if nodes.capacity() == 0 {
                    nodes.reserve_exact(1);
                }
                nodes.push_back(Node::with(v));
            }
        }
        self.len += 1;
    }

    pub fn push_front(&mut self, v: &[u8]) {
        assert!(v.len() <= MAX_ELEMENT_BYTES, "list element over MAX_ELEMENT_BYTES");
        let fits = self.nodes.front().is_some_and(|n| self.fits(n, v));
        let nodes = &mut self.nodes;
        match nodes.front_mut() {
            Some(first) if fits => first.push_front(v),
            first => {
                if let Some(first) = first {
                    first.shrink_to_fit();
                }
                if nodes.capacity() == 0 {
                    nodes.reserve_exact(1);
                }
                nodes.push_front(Node::with(v));
            }
        }
        self.len += 1;
    }

    /// The element at `end` without removing it.
    pub fn peek(&self, end: End) -> Option<&[u8]> {
        match end {
            End::Left => self.nodes.front().map(Node::front),
            End::Right => self.nodes.back().map(Node::back),
        }
    }

    /// Removes the element at `end`; `peek` first to read it without a copy.
    pub fn discard(&mut self, end: End) -> bool {
        let nodes = &mut self.nodes;
        let emptied = match end {
            End::Left => match nodes.front_mut() {
                Some(n) => {
                    n.drop_front();
                    n.count() == 0
                }
                None => return false,
            },
            End::Right => match nodes.back_mut() {
                Some(n) => {
                    n.drop_back();
                    n.count() == 0
                }
                None => return false,
            },
        };
        if emptied {
            match end {
                End::Left => nodes.pop_front(),
                End::Right => nodes.pop_back(),
            };
        }
        self.len -= 1;
        true
    }

    pub fn pop(&mut self, end: End) -> Option<Vec<u8>> {
        let v = self.peek(end)?.to_vec();
        self.discard(end);
        Some(v)
    }

    /// (node, element within the node) of element `index` (< len), walking from the nearer end.
    fn locate(&self, index: usize) -> Option<(usize, usize)> {
        if index >= self.len {
            return None;
        }
        let nodes = &self.nodes;
        if index < self.len / 2 {
            let mut i = index;
            for (ni, n) in nodes.iter().enumerate() {
                if i < n.count() {
                    return Some((ni, i));
                }
                i -= n.count();
            }
        } else {
            let mut from_end = self.len - index; // >= 1
            for (ni, n) in nodes.iter().enumerate().rev() {
                if from_end <= n.count() {
                    return Some((ni, n.count() - from_end));
                }
                from_end -= n.count();
            }
        }
        debug_assert!(false, "list length out of step with its nodes");
        None
    }

    pub fn get(&self, index: usize) -> Option<&[u8]> {
        let (ni, ei) = self.locate(index)?;
        Some(self.nodes[ni].get(ei))
    }

    /// Replaces element `index`; false when it is out of range.
    pub fn set(&mut self, index: usize, v: &[u8]) -> bool {
        assert!(v.len() <= MAX_ELEMENT_BYTES, "list element over MAX_ELEMENT_BYTES");
        let Some((ni, ei)) = self.locate(index) else {
            return false;
        };
        self.nodes[ni].replace(ei, v);
        self.split_if_over(ni);
        true
    }

    /// Inserts `v` so that it becomes element `index` (<= len); false when out of range.
    pub fn insert(&mut self, index: usize, v: &[u8]) -> bool {
        if index == 0 {
            self.push_front(v);
        } else if index == self.len {
            self.push_back(v);
        } else {
            assert!(v.len() <= MAX_ELEMENT_BYTES, "list element over MAX_ELEMENT_BYTES");
            let Some((ni, ei)) = self.locate(index) else {
                return false;
            };
            self.nodes[ni].insert(ei, v);
            self.len += 1;
            self.split_if_over(ni);
        }
        true
    }

    /// Splits node `ni` when an edit pushed it over the node limit, then merges the pieces
    /// with their outer neighbours when they fit together (as Redis's insert does).
    fn split_if_over(&mut self, ni: usize) {
        let pieces = self.split_rec(ni);
        if pieces > 1 {
            self.try_merge(ni + pieces - 1);
            if ni > 0 {
                self.try_merge(ni - 1);
            }
        }
    }

    /// Halves node `ni` until every piece is within the limit; returns the number of pieces.
    fn split_rec(&mut self, ni: usize) -> usize {
        let n = &self.nodes[ni];
        let count = n.count();
        if count < 2 || self.node_allows(n.bytes(), count) {
            return 1;
        }
        let right = self.nodes[ni].split_off(count / 2);
        self.nodes.insert(ni + 1, right);
        let right_pieces = self.split_rec(ni + 1);
        self.split_rec(ni) + right_pieces
    }

    /// Merges node `ni` with node `ni + 1` when both fit in one node.
    fn try_merge(&mut self, ni: usize) -> bool {
        let nodes = &self.nodes;
        let (Some(a), Some(b)) = (nodes.get(ni), nodes.get(ni + 1)) else {
            return false;
        };
        if !self.node_allows(a.bytes() + b.bytes(), a.count() + b.count()) {
            return false;
        }
        if let Some(b) = self.nodes.remove(ni + 1) {
            self.nodes[ni].append(&b);
        }
        true
    }

    /// Removes `front` elements from the front and `back` from the back (LTRIM, LPOP count).
    pub fn trim(&mut self, front: usize, back: usize) {
        let mut front = front.min(self.len);
        let mut back = back.min(self.len - front);
        self.len -= front + back;
        let nodes = &mut self.nodes;
        while front > 0 {
            let Some(n) = nodes.front_mut() else { break };
            if n.count() <= front {
                front -= n.count();
                nodes.pop_front();
            } else {
                n.drop_front_n(front);
                front = 0;
            }
        }
        while back > 0 {
            let Some(n) = nodes.back_mut() else { break };
            if n.count() <= back {
                back -= n.count();
                nodes.pop_back();
            } else {
                n.drop_back_n(back);
                back = 0;
            }
        }
        if nodes.capacity() > 2 * nodes.len() + 4 {
            nodes.shrink_to(nodes.len().max(1));
        }
    }

    /// Removes the elements at the ascending indexes `idx` (LREM), then merges nodes the
    /// removals left small.
    pub fn remove_sorted(&mut self, idx: &[usize]) {
        debug_assert!(idx.windows(2).all(|w| w[0] < w[1]), "indexes must ascend");
        let mut base = 0usize;
        let mut rest = idx;
        let mut removed = 0usize;
        for n in self.nodes.iter_mut() {
            let upto = base + n.count();
            let k = rest.iter().take_while(|&&i| i < upto).count();
            if k > 0 {
                let local: Vec<usize> = rest[..k].iter().map(|&i| i - base).collect();
                n.remove_sorted(&local);
                removed += k;
                rest = &rest[k..];
            }
            base = upto;
        }
        self.len -= removed;
        self.nodes.retain(|n| n.count() > 0);
        let mut ni = 0;
        while ni + 1 < self.nodes.len() {
            if !self.try_merge(ni) {
                ni += 1;
            }
        }
    }

    /// Elements from `index` towards the tail.
    pub fn iter_from(&self, index: usize) -> Iter<'_> {
        let nodes = &self.nodes;
        match self.locate(index) {
            Some((ni, ei)) => Iter { nodes, node: ni, off: nodes[ni].offset_of(ei), remaining: self.len - index },
            None => Iter { nodes, node: 0, off: 0, remaining: 0 },
        }
    }

    pub fn iter(&self) -> Iter<'_> {
        self.iter_from(0)
    }

    /// Elements from `index` towards the head.
    pub fn iter_rev_from(&self, index: usize) -> RevIter<'_> {
        let nodes = &self.nodes;
        match self.locate(index) {
            Some((ni, ei)) => {
                let n = &nodes[ni];
                let off = n.read_fwd(n.offset_of(ei)).2;
                RevIter { nodes, node: ni, off, remaining: index + 1 }
            }
            None => RevIter { nodes, node: 0, off: 0, remaining: 0 },
        }
    }

    /// Checks the pair invariants (length, node limits, no empty node); for tests.
    #[cfg(test)]
    pub fn assert_consistent(&self) {
        let nodes = &self.nodes;
        assert_eq!(nodes.iter().map(Node::count).sum::<usize>(), self.len, "length out of step");
        assert!(nodes.iter().all(|n| n.count() > 0), "empty node kept");
        for n in nodes {
            assert!(n.count() == 1 || self.node_allows(n.bytes(), n.count()), "node over its limit: {n:?}");
        }
        assert_eq!(self.iter().count(), self.len);
    }

    #[cfg(test)]
    fn node_count(&self) -> usize {
        self.nodes.len()
    }
}

/// Front-to-back iterator over a list's elements.
pub struct Iter<'a> {
    nodes: &'a VecDeque<Node>,
    node: usize,
    off: usize,
    remaining: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];
    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.remaining == 0 {
            return None;
        }
        loop {
            let n = self.nodes.get(self.node)?;
            if self.off < n.end() {
                let (ds, len, next) = n.read_fwd(self.off);
                self.off = next;
                self.remaining -= 1;
                return Some(n.slice(ds, len));
            }
            self.node += 1;
            self.off = self.nodes.get(self.node)?.start();
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

/// Back-to-front iterator over a list's elements.
pub struct RevIter<'a> {
    nodes: &'a VecDeque<Node>,
    node: usize,
    /// End of the next element's frame.
    off: usize,
    remaining: usize,
}

impl<'a> Iterator for RevIter<'a> {
    type Item = &'a [u8];
    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.remaining == 0 {
            return None;
        }
        loop {
            let n = self.nodes.get(self.node)?;
            if self.off > n.start() {
                let (ds, len, prev) = n.read_back(self.off);
                self.off = prev;
                self.remaining -= 1;
                return Some(n.slice(ds, len));
            }
            self.node = self.node.checked_sub(1)?;
            self.off = self.nodes.get(self.node)?.end();
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

#[cfg(test)]
mod tests;
