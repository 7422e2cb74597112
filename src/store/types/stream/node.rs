//! One stream node: a listpack laid out as Redis 7.0 lays out a stream macro node, so its size,
//! and with it the moment a node is full, are Redis's to the byte.
//!
//! ```text
//! master entry: count | deleted | num-fields | field_1 .. field_N | 0
//! each entry:   flags | ms-delta | seq-delta | num-fields | f_1 | v_1 .. | lp-count
//!          or   flags | ms-delta | seq-delta | v_1 .. v_N | lp-count     (SAMEFIELDS)
//! ```
//! `count`/`deleted` are the live and tombstoned entries; IDs are deltas from the node's master
//! ID (its key in the stream's map), wrapping as Redis's unsigned arithmetic does; an entry
//! with the master entry's field names stores only its values; `lp-count` lets a walk go
//! backwards. Entries are never removed from a node, only flagged deleted: the node goes when
//! its last live entry does.
//!
//! This module owns the layout and nothing else; which node an entry goes to is the stream's
//! business. It must never panic on a node loaded from outside: every read is bounds-checked
//! by the listpack, and `Node::from_listpack` checks the layout before adoption.

use super::StreamId;
use crate::store::listpack::{Listpack, LpValue};

pub const FLAG_DELETED: i64 = 1;
pub const FLAG_SAMEFIELDS: i64 = 2;

#[derive(Clone, Debug, Default)]
pub struct Node {
    lp: Listpack,
}

/// One entry of a node, decoded: where it is and what it holds.
#[derive(Clone, Copy, Debug)]
pub struct RawEntry {
    /// Position of its flags element.
    pub pos: usize,
    pub flags: i64,
    pub id: StreamId,
    pub numfields: usize,
    /// Position of the first field (or of the first value for a SAMEFIELDS entry).
    pub data: Option<usize>,
    /// Position of the next entry's flags.
    pub next: Option<usize>,
}

impl RawEntry {
    pub fn deleted(&self) -> bool {
        self.flags & FLAG_DELETED != 0
    }
    fn same_fields(&self) -> bool {
        self.flags & FLAG_SAMEFIELDS != 0
    }
}

/// The fields of one entry, as (field, value) pairs.
pub struct FieldIter<'a> {
    lp: &'a Listpack,
    master_field: Option<usize>,
    data: Option<usize>,
    same_fields: bool,
    left: usize,
}

impl<'a> Iterator for FieldIter<'a> {
    type Item = (LpValue<'a>, LpValue<'a>);
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let lp = self.lp;
        let field = if self.same_fields {
            let p = self.master_field?;
            self.master_field = lp.next(p);
            lp.get(p)
        } else {
            let p = self.data?;
            self.data = lp.next(p);
            lp.get(p)
        };
        let p = self.data?;
        self.data = lp.next(p);
        Some((field, lp.get(p)))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.left))
    }
}

/// `(field, value)` pairs as flat client arguments: `f1 v1 f2 v2 ...`.
fn pairs<'a>(fields: &'a [&'a [u8]]) -> impl Iterator<Item = (&'a [u8], &'a [u8])> {
    fields.chunks_exact(2).map(|c| (c[0], c[1]))
}

fn lp_count_of(numfields: usize, same: bool) -> i64 {
    let n = numfields as i64;
    if same {
        n + 3
    } else {
        2 * n + 4
    }
}

impl Node {
    /// A node whose master entry takes the field names of its first entry, `id` (also the
    /// node's key), holding that entry. `fields` is `f1 v1 f2 v2 ...`.
    pub fn new(id: StreamId, fields: &[&[u8]]) -> Node {
        let n = fields.len() / 2;
        let mut lp = Listpack::new();
        lp.append_int(1);
        lp.append_int(0);
        lp.append_int(n as i64);
        for (f, _) in pairs(fields) {
            lp.append_str(f);
        }
        lp.append_int(0);
        let mut node = Node { lp };
        node.push_entry(id, id, fields, true);
        node
    }

    /// Adopts a node loaded from outside after checking its layout: the master entry, every
    /// entry's shape and `lp-count`, IDs strictly increasing from `master`, and the counters.
    pub fn from_listpack(master: StreamId, lp: Listpack) -> Result<Node, &'static str> {
        const BAD: &str = "invalid stream node";
        let node = Node { lp };
        let (nmaster, _) = node.master_fields();
        if nmaster < 0 || node.live() < 0 || node.deleted() < 0 {
            return Err(BAD);
        }
        let (mut live, mut deleted) = (0i64, 0i64);
        let mut prev: Option<StreamId> = None;
        let mut pos = node.first_entry();
        while let Some(p) = pos {
            let e = node.entry(master, p).ok_or(BAD)?;
            if prev.is_some_and(|q| e.id <= q) || e.id < master || !(0..=3).contains(&e.flags) {
                return Err(BAD);
            }
            if e.same_fields() && e.numfields as i64 != nmaster {
                return Err(BAD);
            }
            // Walk the entry's elements to its lp-count and check it.
            let elems = if e.same_fields() { e.numfields } else { 2 * e.numfields + 1 };
            let mut q = node.lp.next(node.lp.next(p).ok_or(BAD)?).ok_or(BAD)?;
            for _ in 0..=elems {
                q = node.lp.next(q).ok_or(BAD)?;
            }
            if node.lp.int_at(q) != lp_count_of(e.numfields, e.same_fields()) {
                return Err(BAD);
            }
            if e.deleted() {
                deleted += 1;
            } else {
                live += 1;
            }
            prev = Some(e.id);
            pos = node.lp.next(q);
        }
        if live != node.live() || deleted != node.deleted() || prev.is_none() {
            return Err(BAD);
        }
        Ok(node)
    }

    pub fn listpack(&self) -> &Listpack {
        &self.lp
    }
    /// Bytes of the node's listpack (`lpBytes`).
    pub fn bytes(&self) -> usize {
        self.lp.bytes()
    }
    pub fn shrink_to_fit(&mut self) {
        self.lp.shrink_to_fit();
    }

    /// Live entries.
    pub fn live(&self) -> i64 {
        self.lp.first().map_or(0, |p| self.lp.int_at(p))
    }
    /// Entries flagged deleted.
    pub fn deleted(&self) -> i64 {
        self.lp.first().and_then(|p| self.lp.next(p)).map_or(0, |p| self.lp.int_at(p))
    }

    /// Number of master fields and the position of the first one.
    fn master_fields(&self) -> (i64, Option<usize>) {
        let Some(p) = self.lp.first().and_then(|p| self.lp.next(p)).and_then(|p| self.lp.next(p)) else {
            return (0, None);
        };
        (self.lp.int_at(p), self.lp.next(p))
    }

    /// The position of the first entry's flags, None when the node has no entries.
    pub fn first_entry(&self) -> Option<usize> {
        let (n, mut p) = self.master_fields();
        for _ in 0..n.max(0) {
            p = self.lp.next(p?);
        }
        // Skip the master entry's terminating zero.
        self.lp.next(p?)
    }

    /// The position of the last entry's flags, None when the node has no entries.
    pub fn last_entry(&self) -> Option<usize> {
        self.entry_before_lp_count(self.lp.last()?)
    }

    /// The entry before the one whose flags are at `pos`.
    pub fn prev_entry(&self, pos: usize) -> Option<usize> {
        self.entry_before_lp_count(self.lp.prev(pos)?)
    }

    /// Given the `lp-count` element ending an entry, the position of that entry's flags; None
    /// when the element is the master entry's terminating zero.
    fn entry_before_lp_count(&self, mut p: usize) -> Option<usize> {
        let n = self.lp.int_at(p);
        if n <= 0 {
            return None;
        }
        for _ in 0..n {
            p = self.lp.prev(p)?;
        }
        Some(p)
    }

    /// Decodes the entry whose flags are at `pos`; `master` is the node's key.
    pub fn entry(&self, master: StreamId, pos: usize) -> Option<RawEntry> {
        let lp = &self.lp;
        let flags = lp.int_at(pos);
        let p = lp.next(pos)?;
        let ms = master.ms.wrapping_add(lp.int_at(p) as u64);
        let p = lp.next(p)?;
        let seq = master.seq.wrapping_add(lp.int_at(p) as u64);
        let (numfields, data, elems) = if flags & FLAG_SAMEFIELDS != 0 {
            let n = self.master_fields().0.max(0) as usize;
            (n, lp.next(p), n)
        } else {
            let c = lp.next(p)?;
            let n = lp.int_at(c).max(0) as usize;
            (n, lp.next(c), 2 * n)
        };
        // Skip the fields to the lp-count, then step past it.
        let mut q = data;
        for _ in 0..elems {
            q = lp.next(q?);
        }
        let next = q.and_then(|q| lp.next(q));
        Some(RawEntry { pos, flags, id: StreamId { ms, seq }, numfields, data, next })
    }

    pub fn fields(&self, e: &RawEntry) -> FieldIter<'_> {
        FieldIter {
            lp: &self.lp,
            master_field: self.master_fields().1,
            data: e.data,
            same_fields: e.same_fields(),
            left: e.numfields,
        }
    }

    /// Whether an entry with `fields` may omit its field names (they equal the master's).
    fn has_master_fields(&self, fields: &[&[u8]]) -> bool {
        let (n, mut p) = self.master_fields();
        if n != (fields.len() / 2) as i64 {
            return false;
        }
        for (f, _) in pairs(fields) {
            let Some(q) = p else { return false };
            if !self.lp.get(q).eq_bytes(f) {
                return false;
            }
            p = self.lp.next(q);
        }
        true
    }

    /// Appends an entry (Redis's `streamAppendItem` into an existing node): the live counter
    /// first, then the entry, compressed when its field names are the master's.
    pub fn append(&mut self, master: StreamId, id: StreamId, fields: &[&[u8]]) {
        if let Some(p) = self.lp.first() {
            let live = self.lp.int_at(p);
            self.lp.replace_int(p, live + 1);
        }
        let same = self.has_master_fields(fields);
        self.push_entry(master, id, fields, same);
    }

    fn push_entry(&mut self, master: StreamId, id: StreamId, fields: &[&[u8]], same: bool) {
        let n = fields.len() / 2;
        self.lp.append_int(if same { FLAG_SAMEFIELDS } else { 0 });
        self.lp.append_int(id.ms.wrapping_sub(master.ms) as i64);
        self.lp.append_int(id.seq.wrapping_sub(master.seq) as i64);
        if !same {
            self.lp.append_int(n as i64);
        }
        for (f, v) in pairs(fields) {
            if !same {
                self.lp.append_str(f);
            }
            self.lp.append_str(v);
        }
        self.lp.append_int(lp_count_of(n, same));
    }

    /// Flags the entry at `pos` deleted and moves it from the live to the deleted counter.
    /// The caller drops the node instead when this was its last live entry.
    pub fn mark_deleted(&mut self, pos: usize) {
        let flags = self.lp.int_at(pos);
        debug_assert!(flags & FLAG_DELETED == 0, "entry deleted twice");
        self.lp.replace_int(pos, flags | FLAG_DELETED);
        if let Some(p) = self.lp.first() {
            let live = self.lp.int_at(p);
            self.lp.replace_int(p, live - 1);
            if let Some(q) = self.lp.next(p) {
                let deleted = self.lp.int_at(q);
                self.lp.replace_int(q, deleted + 1);
            }
        }
    }

    /// The ID of the last entry, deleted or not (Redis's `lpGetEdgeStreamID` from the end).
    pub fn last_id(&self, master: StreamId) -> Option<StreamId> {
        let p = self.last_entry()?;
        self.entry(master, p).map(|e| e.id)
    }
}
