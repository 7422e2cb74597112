//! Streams: entries keyed by (ms, seq) IDs, consumer groups with their pending entries lists.
//! Owns the data structure and its invariants only; command parsing and replies live in
//! `command::family::stream`.
//!
//! Layout, as Redis 7.0 has it: entries are packed into nodes, each a listpack in Redis's own
//! byte format (`node`), kept in a map ordered by the node's master ID (Redis's radix tree).
//! A new entry goes into the last node unless that node has reached `stream-node-max-bytes`
//! or `stream-node-max-entries` (deleted entries count, as in Redis), so nodes split where
//! Redis's do, and approximate trimming (`~`), which drops whole nodes only, removes what
//! Redis removes. Deleting an entry flags it; a node goes when its last live entry does.
//!
//! Metadata: `length` (live entries), `last_id` (the top ID ever generated or set),
//! `first_id` (first live entry, 0-0 when empty), `max_deleted_entry_id`, `entries_added`
//! (all entries ever added), and the consumer groups by name (`group`).
//!
//! Invariants: `length` is the sum of the nodes' live counters; node keys are their first
//! entry's ID; entry IDs increase across the whole stream and never exceed `last_id`. Checked
//! by `check` in tests. Nothing here reads a clock: times come from the caller.

mod deliver;
mod group;
mod node;
mod rax;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

pub use crate::store::listpack::{Listpack, LpValue};
pub use group::{Consumer, ConsumerGroup, CountUpdate, PendingEntry, INVALID_ENTRIES_READ};
pub use node::FieldIter;

use node::{Node, RawEntry};

/// A stream entry ID: milliseconds and a sequence number, ordered as a pair.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId { ms: u64::MAX, seq: u64::MAX };

    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }
    pub fn is_zero(self) -> bool {
        self == StreamId::MIN
    }
    /// The next ID, None past the maximum (Redis's `streamIncrID`).
    pub fn incr(self) -> Option<StreamId> {
        match self.seq.checked_add(1) {
            Some(seq) => Some(StreamId { ms: self.ms, seq }),
            None => self.ms.checked_add(1).map(|ms| StreamId { ms, seq: 0 }),
        }
    }
    /// The previous ID, None before 0-0 (Redis's `streamDecrID`).
    pub fn decr(self) -> Option<StreamId> {
        match self.seq.checked_sub(1) {
            Some(seq) => Some(StreamId { ms: self.ms, seq }),
            None => self.ms.checked_sub(1).map(|ms| StreamId { ms, seq: u64::MAX }),
        }
    }
    /// The 16-byte big-endian key Redis's radix tree and RDB files use.
    pub fn to_be_bytes(self) -> [u8; 16] {
        let mut k = [0u8; 16];
        k[..8].copy_from_slice(&self.ms.to_be_bytes());
        k[8..].copy_from_slice(&self.seq.to_be_bytes());
        k
    }
    pub fn from_be_bytes(k: [u8; 16]) -> StreamId {
        let mut ms = [0u8; 8];
        let mut seq = [0u8; 8];
        ms.copy_from_slice(&k[..8]);
        seq.copy_from_slice(&k[8..]);
        StreamId { ms: u64::from_be_bytes(ms), seq: u64::from_be_bytes(seq) }
    }
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// When a node is full (`stream-node-max-bytes`, `stream-node-max-entries`; 0 = no limit).
#[derive(Clone, Copy, Debug)]
pub struct NodeLimits {
    pub max_bytes: usize,
    pub max_entries: u64,
}

impl NodeLimits {
    pub fn from_config(cfg: &crate::config::Config) -> NodeLimits {
        NodeLimits { max_bytes: cfg.stream_node_max_bytes, max_entries: cfg.stream_node_max_entries }
    }
}

impl Default for NodeLimits {
    /// Redis 7.0's defaults.
    fn default() -> Self {
        NodeLimits { max_bytes: 4096, max_entries: 100 }
    }
}

/// Redis's `STREAM_LISTPACK_MAX_SIZE`: no node grows past this, whatever the setting.
const LISTPACK_MAX_BYTES: usize = 1 << 30;

/// How XADD asked for the new entry's ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdRequest {
    /// `*`: from the clock, or after the last ID.
    Auto,
    /// `ms-*`: this millisecond, the next free sequence.
    AutoSeq(u64),
    /// An explicit ID.
    Exact(StreamId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppendError {
    /// The ID is not greater than the stream's last ID.
    NotGreater,
    /// The fields and values exceed what one node can hold.
    TooLarge,
}

/// XTRIM's and XADD's trimming strategies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trim {
    MaxLen(u64),
    MinId(StreamId),
}

#[derive(Clone, Debug, Default)]
pub struct StreamValue {
    nodes: BTreeMap<StreamId, Node>,
    length: u64,
    last_id: StreamId,
    first_id: StreamId,
    max_deleted_entry_id: StreamId,
    entries_added: u64,
    groups: BTreeMap<Box<[u8]>, ConsumerGroup>,
}

/// One live entry, borrowed from its node.
#[derive(Clone, Copy)]
pub struct EntryRef<'a> {
    pub id: StreamId,
    node: &'a Node,
    raw: RawEntry,
}

impl<'a> EntryRef<'a> {
    pub fn field_count(&self) -> usize {
        self.raw.numfields
    }
    /// The (field, value) pairs in order.
    pub fn fields(&self) -> FieldIter<'a> {
        self.node.fields(&self.raw)
    }
}

/// Live entries with IDs in `start..=end`, ascending or descending.
pub struct RangeIter<'a> {
    nodes: std::collections::btree_map::Range<'a, StreamId, Node>,
    cur: Option<(StreamId, &'a Node, Option<usize>)>,
    start: StreamId,
    end: StreamId,
    rev: bool,
    done: bool,
}

impl<'a> Iterator for RangeIter<'a> {
    type Item = EntryRef<'a>;
    fn next(&mut self) -> Option<EntryRef<'a>> {
        while !self.done {
            let Some((master, node, pos)) = self.cur else {
                let next = if self.rev { self.nodes.next_back() } else { self.nodes.next() };
                match next {
                    Some((&m, n)) => {
                        let pos = if self.rev { n.last_entry() } else { n.first_entry() };
                        self.cur = Some((m, n, pos));
                    }
                    None => self.done = true,
                }
                continue;
            };
            let Some(raw) = pos.and_then(|p| node.entry(master, p)) else {
                self.cur = None;
                continue;
            };
            let after = if self.rev { node.prev_entry(raw.pos) } else { raw.next };
            self.cur = Some((master, node, after));
            if self.rev {
                if raw.id < self.start {
                    self.done = true;
                    continue;
                }
                if raw.id > self.end {
                    continue;
                }
            } else {
                if raw.id > self.end {
                    self.done = true;
                    continue;
                }
                if raw.id < self.start {
                    continue;
                }
            }
            if !raw.deleted() {
                return Some(EntryRef { id: raw.id, node, raw });
            }
        }
        None
    }
}

/// Live entries of `nodes` with IDs in `start..=end` (borrowing the nodes alone, so consumer
/// groups can change while entries are read).
fn range_in(nodes: &BTreeMap<StreamId, Node>, start: StreamId, end: StreamId, rev: bool) -> RangeIter<'_> {
    let empty = start > end;
    let nodes = if rev {
        nodes.range(..=end)
    } else {
        // Begin at the last node starting at or before `start`: it may hold `start`.
        let from = nodes.range(..=start).next_back().map_or(StreamId::MIN, |(&k, _)| k);
        nodes.range(from..)
    };
    RangeIter { nodes, cur: None, start, end, rev, done: empty }
}

impl StreamValue {
    pub fn new() -> StreamValue {
        StreamValue::default()
    }
    /// Number of entries (XLEN).
    pub fn len(&self) -> usize {
        self.length as usize
    }
    /// Whether the stream has no entries. Unlike other types, an empty stream stays in the
    /// keyspace: its IDs and consumer groups still matter.
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }
    /// Redis reports every stream as `stream`.
    pub fn encoding(&self) -> &'static str {
        "stream"
    }
    pub fn heap_size_bytes(&self) -> usize {
        // A B-tree holds up to 11 keys and values per node; count each slot's share.
        const MAP_SLOT: usize = 16 + std::mem::size_of::<Node>() + 16;
        let nodes: usize = self.nodes.values().map(|n| n.listpack().capacity() + MAP_SLOT).sum();
        let groups: usize = self
            .groups
            .iter()
            .map(|(name, g)| name.len() + std::mem::size_of::<ConsumerGroup>() + 16 + g.heap_size_bytes())
            .sum();
        nodes + groups
    }

    pub fn last_id(&self) -> StreamId {
        self.last_id
    }
    pub fn first_id(&self) -> StreamId {
        self.first_id
    }
    pub fn max_deleted_entry_id(&self) -> StreamId {
        self.max_deleted_entry_id
    }
    pub fn entries_added(&self) -> u64 {
        self.entries_added
    }
    /// XSETID: the caller checked the new values against the entries.
    pub fn set_last_id(&mut self, id: StreamId) {
        self.last_id = id;
    }
    pub fn set_entries_added(&mut self, n: u64) {
        self.entries_added = n;
    }
    pub fn set_max_deleted_entry_id(&mut self, id: StreamId) {
        self.max_deleted_entry_id = id;
    }

    /// The ID the next entry gets for `req` at time `now_ms`, before checking it against
    /// `last_id` (Redis's `streamAppendItem` and `streamNextID`).
    fn next_id(&self, req: IdRequest, now_ms: u64) -> Result<StreamId, AppendError> {
        match req {
            IdRequest::Exact(id) => Ok(id),
            IdRequest::AutoSeq(ms) if ms == self.last_id.ms => {
                self.last_id.seq.checked_add(1).map(|seq| StreamId { ms, seq }).ok_or(AppendError::NotGreater)
            }
            IdRequest::AutoSeq(ms) => Ok(StreamId { ms, seq: 0 }),
            IdRequest::Auto if now_ms > self.last_id.ms => Ok(StreamId { ms: now_ms, seq: 0 }),
            IdRequest::Auto => self.last_id.incr().ok_or(AppendError::NotGreater),
        }
    }

    /// Appends an entry with `fields` (`f1 v1 f2 v2 ...`, at least one pair) and returns its ID.
    pub fn append(
        &mut self,
        fields: &[&[u8]],
        req: IdRequest,
        now_ms: u64,
        limits: NodeLimits,
    ) -> Result<StreamId, AppendError> {
        debug_assert!(fields.len() >= 2 && fields.len().is_multiple_of(2), "fields must come in pairs");
        let id = self.next_id(req, now_ms)?;
        if id <= self.last_id {
            return Err(AppendError::NotGreater);
        }
        let payload_bytes: usize = fields.iter().map(|f| f.len()).sum();
        if payload_bytes > LISTPACK_MAX_BYTES {
            return Err(AppendError::TooLarge);
        }
        let max_bytes = match limits.max_bytes {
            0 => LISTPACK_MAX_BYTES,
            n => n.min(LISTPACK_MAX_BYTES),
        };
        let mut appended = false;
        if let Some((&master, tail)) = self.nodes.iter_mut().next_back() {
            let total = (tail.live() + tail.deleted()) as u64;
            let full =
                tail.bytes() + payload_bytes >= max_bytes || (limits.max_entries != 0 && total >= limits.max_entries);
            if full {
                // The node is final: give back the room kept for growth.
                tail.shrink_to_fit();
            } else {
                tail.append(master, id, fields);
                appended = true;
            }
        }
        if !appended {
            self.nodes.insert(id, Node::new(id, fields));
        }
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
        Ok(id)
    }

    /// Live entries with IDs in `start..=end`, in ID order (or reversed).
    pub fn range(&self, start: StreamId, end: StreamId, rev: bool) -> RangeIter<'_> {
        range_in(&self.nodes, start, end, rev)
    }

    /// All live entries in ID order.
    pub fn entries(&self) -> RangeIter<'_> {
        self.range(StreamId::MIN, StreamId::MAX, false)
    }

    /// The live entry with this ID.
    pub fn get(&self, id: StreamId) -> Option<EntryRef<'_>> {
        self.range(id, id, false).next()
    }

    /// The first and last live entries' IDs (Redis's `streamGetEdgeID` skipping tombstones).
    pub fn first_live_id(&self) -> Option<StreamId> {
        self.entries().next().map(|e| e.id)
    }
    pub fn last_live_id(&self) -> Option<StreamId> {
        self.range(StreamId::MIN, StreamId::MAX, true).next().map(|e| e.id)
    }

    /// Flags the live entry `id` deleted, dropping its node when it was the last live one;
    /// false when there is no such live entry. Leaves `first_id` and `max_deleted_entry_id`
    /// to the caller (XDEL updates them, trimming does not touch the latter).
    fn delete_entry(&mut self, id: StreamId) -> bool {
        let Some((&master, node)) = self.nodes.range_mut(..=id).next_back() else {
            return false;
        };
        let mut pos = node.first_entry();
        let mut found = None;
        while let Some(e) = pos.and_then(|p| node.entry(master, p)) {
            if e.id >= id {
                if e.id == id && !e.deleted() {
                    found = Some(e.pos);
                }
                break;
            }
            pos = e.next;
        }
        let Some(p) = found else {
            return false;
        };
        if node.live() == 1 {
            self.nodes.remove(&master);
        } else {
            node.mark_deleted(p);
        }
        self.length -= 1;
        true
    }

    /// XDEL: deletes the given IDs; returns how many were live entries. Keeps `first_id`
    /// and `max_deleted_entry_id` as Redis's `xdelCommand` does.
    pub fn delete_ids(&mut self, ids: &[StreamId]) -> u64 {
        let mut deleted = 0;
        let mut first_deleted = false;
        for &id in ids {
            if self.delete_entry(id) {
                if id == self.first_id {
                    first_deleted = true;
                }
                if id > self.max_deleted_entry_id {
                    self.max_deleted_entry_id = id;
                }
                deleted += 1;
            }
        }
        if deleted > 0 {
            if self.length == 0 {
                self.first_id = StreamId::MIN;
            } else if first_deleted {
                self.first_id = self.first_live_id().unwrap_or(StreamId::MAX);
            }
        }
        deleted
    }

    /// Trims the stream (Redis's `streamTrim`): whole nodes from the head while they may all
    /// go, then, unless `approx`, entries of the next node one by one. `limit` (0 = none)
    /// caps the entries removed as whole nodes. Returns the number of entries removed.
    pub fn trim(&mut self, how: Trim, approx: bool, limit: u64) -> u64 {
        let mut deleted: u64 = 0;
        while let Some((&master, node)) = self.nodes.iter_mut().next() {
            if let Trim::MaxLen(max) = how {
                if self.length <= max {
                    break;
                }
            }
            let live = node.live().max(0) as u64;
            if limit != 0 && deleted + live > limit {
                break;
            }
            let whole = match how {
                Trim::MaxLen(max) => self.length - live >= max,
                Trim::MinId(min) => node.last_id(master).is_some_and(|last| last < min),
            };
            if whole {
                self.nodes.remove(&master);
                self.length -= live;
                deleted += live;
                continue;
            }
            if approx {
                break;
            }
            let mut pos = node.first_entry();
            while let Some(e) = pos.and_then(|p| node.entry(master, p)) {
                let stop = match how {
                    Trim::MaxLen(max) => self.length <= max,
                    Trim::MinId(min) => e.id >= min,
                };
                if stop {
                    break;
                }
                if !e.deleted() {
                    node.mark_deleted(e.pos);
                    self.length -= 1;
                    deleted += 1;
                }
                // Marking changes no element's size (flags stay one byte), so `next` holds.
                pos = e.next;
            }
            break;
        }
        self.first_id = if self.length == 0 { StreamId::MIN } else { self.first_live_id().unwrap_or(StreamId::MAX) };
        deleted
    }

    /// Whether a tombstone may lie in `start..=end` (Redis's `streamRangeHasTombstones`).
    pub fn range_has_tombstones(&self, start: StreamId, end: StreamId) -> bool {
        if self.length == 0 || self.max_deleted_entry_id.is_zero() || self.first_id > self.max_deleted_entry_id {
            return false;
        }
        start <= self.max_deleted_entry_id && self.max_deleted_entry_id <= end
    }

    /// The logical read counter of `id`, when it can be known (Redis's
    /// `streamEstimateDistanceFromFirstEverEntry`); None otherwise.
    pub fn estimate_distance(&self, id: StreamId) -> Option<i64> {
        let added = self.entries_added as i64;
        if self.entries_added == 0 {
            return Some(0);
        }
        if self.length == 0 && id <= self.last_id {
            return Some(added);
        }
        match id.cmp(&self.last_id) {
            std::cmp::Ordering::Equal => return Some(added),
            std::cmp::Ordering::Greater => return None,
            std::cmp::Ordering::Less => {}
        }
        if self.max_deleted_entry_id.is_zero() || self.max_deleted_entry_id < self.first_id {
            match id.cmp(&self.first_id) {
                std::cmp::Ordering::Less => return Some(added - self.length as i64),
                std::cmp::Ordering::Equal => return Some(added - self.length as i64 + 1),
                std::cmp::Ordering::Greater => {}
            }
        }
        None
    }

    /// A group's lag: entries not yet delivered to it, when it can be known
    /// (Redis's `streamReplyWithCGLag`).
    pub fn group_lag(&self, g: &ConsumerGroup) -> Option<i64> {
        let added = self.entries_added as i64;
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read != INVALID_ENTRIES_READ && !self.range_has_tombstones(g.last_id, StreamId::MAX) {
            return Some(added.wrapping_sub(g.entries_read));
        }
        self.estimate_distance(g.last_id).map(|read| added - read)
    }

    // ---- consumer groups ----

    pub fn groups(&self) -> &BTreeMap<Box<[u8]>, ConsumerGroup> {
        &self.groups
    }
    pub fn group(&self, name: &[u8]) -> Option<&ConsumerGroup> {
        self.groups.get(name)
    }
    pub fn group_mut(&mut self, name: &[u8]) -> Option<&mut ConsumerGroup> {
        self.groups.get_mut(name)
    }
    /// Creates a group; false when the name is taken.
    pub fn create_group(&mut self, name: &[u8], last_id: StreamId, entries_read: i64) -> bool {
        if self.groups.contains_key(name) {
            return false;
        }
        self.groups.insert(name.into(), ConsumerGroup::new(last_id, entries_read));
        true
    }
    pub fn destroy_group(&mut self, name: &[u8]) -> bool {
        self.groups.remove(name).is_some()
    }

    // ---- nodes: XINFO and persistence ----

    /// Number of nodes (XINFO's `radix-tree-keys`).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }
    /// Nodes of the radix tree Redis would use for these nodes (XINFO's `radix-tree-nodes`).
    pub fn rax_node_count(&self) -> usize {
        let keys: Vec<[u8; 16]> = self.nodes.keys().map(|k| k.to_be_bytes()).collect();
        rax::node_count(&keys)
    }
    /// Every node as (master ID, listpack bytes in Redis's format), in ID order: what an RDB
    /// file or a DUMP payload stores.
    pub fn nodes(&self) -> impl Iterator<Item = (StreamId, &[u8])> + '_ {
        self.nodes.iter().map(|(&k, n)| (k, n.listpack().as_bytes()))
    }

    /// The nodes whose master ID is above `after` (every node for None), as `nodes` gives
    /// them: where a snapshot writing a stream a slice at a time resumes.
    pub fn nodes_after(&self, after: Option<StreamId>) -> impl Iterator<Item = (StreamId, &[u8])> + '_ {
        use std::ops::Bound::{Excluded, Unbounded};
        let from = after.map_or(Unbounded, Excluded);
        self.nodes.range((from, Unbounded)).map(|(&k, n)| (k, n.listpack().as_bytes()))
    }

    /// Rebuilds a stream from persisted parts: nodes as (master ID, listpack bytes) and the
    /// metadata. Every node's layout is checked, and `length` must be the sum of the live
    /// counters. Consumer groups are added afterwards (`create_group`, `ConsumerGroup::load`).
    pub fn from_parts(
        nodes: Vec<(StreamId, Vec<u8>)>,
        length: u64,
        last_id: StreamId,
        first_id: StreamId,
        max_deleted_entry_id: StreamId,
        entries_added: u64,
    ) -> Result<StreamValue, &'static str> {
        let mut s = StreamValue { last_id, first_id, max_deleted_entry_id, entries_added, ..StreamValue::default() };
        let mut live: u64 = 0;
        for (master, bytes) in nodes {
            let node = Node::from_listpack(master, Listpack::from_bytes(bytes)?)?;
            if node.live() == 0 && node.deleted() == 0 {
                return Err("empty stream node");
            }
            if let Some((&prev, n)) = s.nodes.iter().next_back() {
                if master <= prev || n.last_id(prev).is_some_and(|l| l >= master) {
                    return Err("stream nodes out of order");
                }
            }
            live += node.live() as u64;
            s.nodes.insert(master, node);
        }
        if live != length {
            return Err("stream length mismatch");
        }
        if s.nodes.iter().next_back().and_then(|(&m, n)| n.last_id(m)).is_some_and(|l| l > last_id) {
            return Err("stream last ID below its entries");
        }
        s.length = length;
        Ok(s)
    }

    /// Checks the invariants (tests).
    #[cfg(test)]
    pub fn check(&self) {
        let mut live = 0u64;
        let mut prev: Option<StreamId> = None;
        for (&master, node) in &self.nodes {
            let mut pos = node.first_entry();
            assert_eq!(pos.and_then(|p| node.entry(master, p)).map(|e| e.id), Some(master), "node key");
            let (mut l, mut d) = (0, 0);
            while let Some(e) = pos.and_then(|p| node.entry(master, p)) {
                assert!(prev.is_none_or(|p| e.id > p), "IDs out of order");
                assert!(e.id <= self.last_id, "entry above last_id");
                prev = Some(e.id);
                if e.deleted() {
                    d += 1;
                } else {
                    l += 1;
                }
                pos = e.next;
            }
            assert_eq!((l, d), (node.live(), node.deleted()), "node counters");
            assert!(Listpack::from_bytes(node.listpack().as_bytes().to_vec()).is_ok(), "listpack bytes");
            live += l as u64;
        }
        assert_eq!(live, self.length, "length");
        assert_eq!(self.first_id, self.first_live_id().unwrap_or(StreamId::MIN), "first_id");
        for g in self.groups.values() {
            g.check();
        }
    }
}
