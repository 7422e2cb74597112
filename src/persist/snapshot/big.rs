//! Large collections in a snapshot: shared when their slot is written out, serialised later a
//! slice at a time.
//!
//! Serialising a slot is one step that nothing may interrupt (a write waits for it), and a
//! slot holding a hash, set, sorted set or list of a million elements took 20 to 70
//! milliseconds: every client of the shard waited that long. Hashes, sets and sorted sets keep
//! their elements in `CowVec` chunks (a sorted set its node arena), so the
//! tracker takes a share of them instead (one reference count per thousand elements), and
//! the walk writes them out in bounded slices. A write to the live value meanwhile copies only
//! the chunk it touches; the share still reads as of the snapshot's start. A list is copied
//! instead (a memcpy of its nodes, milliseconds), and regrouped into Redis's nodes a slice at
//! a time, which is the part that took long. A stream is copied too (its nodes are listpacks
//! already) and its nodes (RDB) or entries (RESP) written a slice at a time.
//!
//! A record must reach the sink whole (the writer interleaves shards' and databases' chunks),
//! so a deferred value is built aside and handed over once complete, as pieces of about a
//! megabyte that the sink writes one after the other: one buffer of tens of megabytes would be
//! copied whenever it grew, on the shard.

use std::time::Instant;

use super::cow::KeyFormat;
use crate::persist::aof::resp_base;
use crate::persist::rdb::stream::{put_stream_node, put_stream_tail};
use crate::persist::rdb::write::{put_key_head, put_len, put_string, ListPacker};
use crate::store::bytes::CompactBytes;
use crate::store::cow_vec::CowVec;
use crate::store::keyspace::Entry;
use crate::store::types::hash::{HashValue, PairBytes};
use crate::store::types::list::ListValue;
use crate::store::types::set::SetValue;
use crate::store::types::stream::{StreamId, StreamValue};
use crate::store::types::zset::{SharedEntries, WalkCursor, ZSetValue};
use crate::store::value::Value;

/// Values with fewer elements are serialised with their slot: at about 50 ns an element, this
/// many take some 0.2 ms.
pub const DEFER_MIN_ELEMENTS: usize = 4096;

/// How many elements a slice writes between two clock reads.
const ELEMENTS_PER_CHECK: usize = 256;
/// A record's pieces are closed once they hold this many bytes.
const PIECE_BYTES: usize = 1 << 20;

enum Elements {
    Pairs(CowVec<PairBytes>),
    Members(CowVec<CompactBytes>),
    /// A sorted set's arena, walked highest first as Redis writes skiplists (loading then
    /// inserts every member at the head: Redis loads a million members four times faster
    /// than in arena order). Positions are the members written.
    Scored(SharedEntries, WalkCursor),
    /// A list is copied (its nodes are memcpy'd, some milliseconds for a million elements), not
    /// shared: its elements must be regrouped into Redis's nodes, which is what takes long.
    /// RDB positions are the elements (packed into nodes), then the nodes (written out).
    List(Box<ListCopy>),
    /// A stream, copied (its nodes are listpacks already: a memcpy). Its positions are its
    /// nodes in RDB (its entries in RESP), then one for what follows them (metadata, groups).
    Stream(Box<StreamCopy>),
}

struct StreamCopy {
    stream: StreamValue,
    rdb: bool,
    /// The master ID of the last node written (RDB), or the ID of the last entry (RESP).
    last: Option<StreamId>,
}

struct ListCopy {
    list: ListValue,
    rdb: bool,
    packer: ListPacker,
    packed: bool,
}

impl Elements {
    /// Elements in the value.
    fn len(&self) -> usize {
        match self {
            Elements::Pairs(p) => p.len(),
            Elements::Members(m) => m.len(),
            Elements::Scored(z, _) => z.len(),
            Elements::List(l) => l.list.len(),
            Elements::Stream(s) => s.stream.len(),
        }
    }

    /// Positions to walk (a list in RDB: one more than its elements until it is packed).
    fn positions(&self) -> usize {
        match self {
            Elements::List(l) if l.rdb && !l.packed => l.list.len() + 1,
            Elements::List(l) if l.rdb => l.list.len() + l.packer.nodes(),
            Elements::Stream(s) if s.rdb => s.stream.node_count() + 1,
            Elements::Stream(s) => s.stream.len() + 1,
            _ => self.len(),
        }
    }

    /// Positions a slice takes between two clock reads: packed list nodes are large units.
    fn step(&self, at: usize) -> usize {
        match self {
            Elements::List(l) if l.rdb && at >= l.list.len() => 4,
            Elements::Stream(s) if s.rdb => 16,
            _ => ELEMENTS_PER_CHECK,
        }
    }
}

/// One large value being written out.
pub struct Deferred {
    key: Vec<u8>,
    expire_at_ms: u64,
    elements: Elements,
    /// The next position to write.
    next: usize,
    /// The record so far: closed pieces, then the one being filled.
    pieces: Vec<Vec<u8>>,
    record: Vec<u8>,
}

impl Deferred {
    /// A share of `e`'s elements when `e` is large enough and keeps them in chunks; the
    /// record's head (TTL, idle time or frequency, type, key, length) is written now, as it
    /// stands at the snapshot.
    pub fn of(key: &[u8], e: &Entry, format: &KeyFormat) -> Option<Deferred> {
        let elements = match &e.value {
            Value::Hash(HashValue::Table(t)) if t.len() >= DEFER_MIN_ELEMENTS => Elements::Pairs(t.share_pairs()),
            Value::Set(SetValue::Table(t)) if t.len() >= DEFER_MIN_ELEMENTS => Elements::Members(t.share_members()),
            Value::ZSet(ZSetValue::Skiplist(z)) if z.len() >= DEFER_MIN_ELEMENTS => {
                let z = z.share_entries();
                let top = z.highest();
                Elements::Scored(z, top)
            }
            Value::List(l) if l.len() >= DEFER_MIN_ELEMENTS => {
                let (rdb, fill) = match format {
                    KeyFormat::Rdb(opts) => (true, opts.list_fill),
                    KeyFormat::Resp => (false, -2),
                };
                Elements::List(Box::new(ListCopy {
                    list: ListValue::clone(l),
                    rdb,
                    packer: ListPacker::new(fill),
                    packed: false,
                }))
            }
            Value::Stream(st) if st.len() >= DEFER_MIN_ELEMENTS => Elements::Stream(Box::new(StreamCopy {
                stream: StreamValue::clone(st),
                rdb: matches!(format, KeyFormat::Rdb(_)),
                last: None,
            })),
            _ => return None,
        };
        let mut record = Vec::new();
        if let KeyFormat::Rdb(opts) = format {
            put_key_head(&mut record, key, e, opts);
            match &elements {
                // A list's length is its node count, known once it is packed.
                Elements::List(_) => {}
                Elements::Stream(s) => put_len(&mut record, s.stream.node_count() as u64),
                _ => put_len(&mut record, elements.len() as u64),
            }
        }
        Some(Deferred {
            key: key.to_vec(),
            expire_at_ms: e.expire_at_ms,
            elements,
            next: 0,
            pieces: Vec::new(),
            record,
        })
    }

    /// Writes elements until the record grew by `budget_bytes` or `deadline` passed.
    /// Returns true once the record is complete (then `into_pieces`).
    pub fn write_some(&mut self, format: &KeyFormat, budget_bytes: usize, deadline: Instant) -> bool {
        let budget = budget_bytes.max(1);
        let mut written = 0usize;
        while self.next < self.elements.positions() {
            let end = (self.next + self.elements.step(self.next)).min(self.elements.positions());
            let before = self.record.len();
            self.write_range(format, end);
            written += self.record.len() - before;
            if self.record.len() >= PIECE_BYTES {
                let full = std::mem::replace(&mut self.record, Vec::with_capacity(PIECE_BYTES + PIECE_BYTES / 8));
                self.pieces.push(full);
            }
            if written >= budget || Instant::now() >= deadline {
                break;
            }
        }
        if self.next < self.elements.positions() {
            return false;
        }
        if let KeyFormat::Resp = format {
            resp_base::put_expire(&mut self.record, &self.key, self.expire_at_ms);
        }
        true
    }

    /// The complete record, in order.
    pub fn into_pieces(mut self) -> Vec<Vec<u8>> {
        if !self.record.is_empty() {
            self.pieces.push(self.record);
        }
        self.pieces
    }

    /// Writes positions `next..end` and moves `next` past what it wrote.
    fn write_range(&mut self, format: &KeyFormat, end: usize) {
        let (from, total) = (self.next, self.elements.len());
        let (out, key) = (&mut self.record, &self.key[..]);
        self.next = match (&mut self.elements, format) {
            (Elements::Pairs(p), KeyFormat::Rdb(opts)) => {
                for pair in p.range(from, end) {
                    let (f, v) = pair.parts();
                    put_string(out, f, opts.compress);
                    put_string(out, v, opts.compress);
                }
                end
            }
            (Elements::Members(m), KeyFormat::Rdb(opts)) => {
                for member in m.range(from, end) {
                    put_string(out, member.as_slice(), opts.compress);
                }
                end
            }
            (Elements::Scored(z, at), KeyFormat::Rdb(opts)) => {
                for (member, score) in z.walk_down(at, end - from) {
                    put_string(out, member, opts.compress);
                    out.extend_from_slice(&score.to_le_bytes());
                }
                end
            }
            (Elements::List(l), KeyFormat::Rdb(_)) if from < l.list.len() => {
                // Packing: the node count goes first, so nothing is written until the end.
                let n = l.list.len();
                let stop = end.min(n);
                for e in l.list.iter_from(from).take(stop - from) {
                    l.packer.push(e);
                }
                if stop == n {
                    l.packer.finish();
                    l.packed = true;
                    put_len(out, l.packer.nodes() as u64);
                }
                stop
            }
            (Elements::List(l), KeyFormat::Rdb(opts)) => {
                let n = l.list.len();
                for i in from - n..end - n {
                    l.packer.put_node(out, i, opts.compress);
                }
                end
            }
            (Elements::Stream(s), KeyFormat::Rdb(opts)) => {
                let nodes = s.stream.node_count();
                let mut last = s.last;
                for (master, lp) in s.stream.nodes_after(last).take(end.min(nodes).saturating_sub(from)) {
                    put_stream_node(out, master, lp, opts.compress);
                    last = Some(master);
                }
                s.last = last;
                if end > nodes {
                    put_stream_tail(out, &s.stream, opts.compress);
                }
                end
            }
            (Elements::Pairs(p), KeyFormat::Resp) => {
                for (i, pair) in (from..end).zip(p.range(from, end)) {
                    resp_base::put_batch_head(out, b"HMSET", key, total, 2, i);
                    let (f, v) = pair.parts();
                    resp_base::put_bulk(out, f);
                    resp_base::put_bulk(out, v);
                }
                end
            }
            (Elements::Members(m), KeyFormat::Resp) => {
                for (i, member) in (from..end).zip(m.range(from, end)) {
                    resp_base::put_batch_head(out, b"SADD", key, total, 1, i);
                    resp_base::put_bulk(out, member.as_slice());
                }
                end
            }
            (Elements::Scored(z, at), KeyFormat::Resp) => {
                for (i, (member, score)) in (from..end).zip(z.walk_down(at, end - from)) {
                    resp_base::put_batch_head(out, b"ZADD", key, total, 2, i);
                    resp_base::put_bulk(out, crate::resp::write::fmt_score(score).as_bytes());
                    resp_base::put_bulk(out, member);
                }
                end
            }
            (Elements::List(l), KeyFormat::Resp) => {
                for (i, e) in (from..end).zip(l.list.iter_from(from)) {
                    resp_base::put_batch_head(out, b"RPUSH", key, total, 1, i);
                    resp_base::put_bulk(out, e);
                }
                end
            }
            (Elements::Stream(s), KeyFormat::Resp) => {
                let n = s.stream.len();
                // Entries after the last one written (none left past StreamId::MAX).
                let start = s.last.map_or(Some(StreamId::MIN), StreamId::incr);
                let mut last = s.last;
                for e in start
                    .into_iter()
                    .flat_map(|id| s.stream.range(id, StreamId::MAX, false))
                    .take(end.min(n).saturating_sub(from))
                {
                    resp_base::put_stream_entry(out, key, &e);
                    last = Some(e.id);
                }
                s.last = last;
                if end > n {
                    resp_base::put_stream_tail(out, key, &s.stream);
                }
                end
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persist::rdb::write::WriteOpts;
    use crate::store::types::hash::HashLimits;

    /// Writes `d` out a slice of `budget` bytes at a time; returns the record and how many
    /// slices stopped short of its end.
    fn write_sliced(mut d: Deferred, format: &KeyFormat, budget: usize) -> (Vec<u8>, usize) {
        let far = Instant::now() + std::time::Duration::from_secs(60);
        let mut slices = 0;
        while !d.write_some(format, budget, far) {
            slices += 1;
        }
        (d.into_pieces().concat(), slices)
    }

    fn big_hash(n: usize) -> Entry {
        let mut h = HashValue::listpack_from_pairs(std::iter::empty());
        for i in 0..n {
            h.set(format!("field:{i}").as_bytes(), format!("value:{i}").as_bytes(), HashLimits::default());
        }
        Entry::new(Value::Hash(h))
    }

    fn big_set(n: usize) -> Entry {
        let s = SetValue::from_members(
            (0..n).map(|i| format!("m{i}").into_bytes()).collect::<Vec<_>>().iter().map(|m| &m[..]),
            512,
        );
        Entry::new(Value::Set(s))
    }

    /// Written a slice at a time, the record equals the one-step record of the value as it
    /// was when the share was taken, whatever happened to the live value since.
    fn same_as_whole(mut e: Entry, format: KeyFormat) {
        let mut whole = Vec::new();
        format.put(&mut whole, b"big", &e);
        let d = Deferred::of(b"big", &e, &format).expect("large enough to defer");
        // The live value changes under the share.
        match &mut e.value {
            Value::Hash(h) => {
                h.set(b"field:7", b"changed", HashLimits::default());
                h.remove(b"field:100");
                h.set(b"new-field", b"x", HashLimits::default());
            }
            Value::Set(s) => {
                s.remove(b"m7");
                s.add(b"new-member", 512);
            }
            Value::ZSet(z) => {
                let lim = crate::store::types::zset::ListpackLimits { max_entries: 128, max_value_bytes: 64 };
                z.remove(b"m1");
                z.add(99.0, b"after", Default::default(), lim);
                z.add(-5.0, b"m3", Default::default(), lim);
            }
            _ => unreachable!(),
        }
        let (record, slices) = write_sliced(d, &format, 4096);
        assert!(slices > 4, "written in slices: {slices}");
        assert!(record == whole, "{format:?}: the sliced record differs from the whole one");
    }

    fn big_zset(n: usize) -> Entry {
        let lim = crate::store::types::zset::ListpackLimits { max_entries: 128, max_value_bytes: 64 };
        let mut z = ZSetValue::Listpack(Default::default());
        for i in 0..n {
            // Scores out of insertion order, so arena order is not score order.
            z.add(((i * 7919) % n) as f64 * 0.5, format!("m{i}").as_bytes(), Default::default(), lim);
        }
        // Free arena slots and a reused one, as ZREM then ZADD leave them.
        for i in (0..n).step_by(5) {
            z.remove(format!("m{i}").as_bytes());
        }
        z.add(-1.0, b"late", Default::default(), lim);
        Entry::new(Value::ZSet(z))
    }

    #[test]
    fn sliced_sorted_sets_equal_whole_ones_highest_first() {
        for format in [KeyFormat::Rdb(WriteOpts::default()), KeyFormat::Resp] {
            same_as_whole(big_zset(DEFER_MIN_ELEMENTS * 2 + 3), format);
        }
        // Highest first, as Redis writes them.
        let e = big_zset(DEFER_MIN_ELEMENTS * 2);
        let format = KeyFormat::Rdb(WriteOpts::default());
        let d = Deferred::of(b"z", &e, &format).expect("large enough to defer");
        let (record, _) = write_sliced(d, &format, 2048);
        let Value::ZSet(z) = &e.value else { unreachable!() };
        let mut head = Vec::new();
        put_key_head(&mut head, b"z", &e, &WriteOpts::default());
        let mut r = crate::persist::rdb::read::Reader::new(&record[head.len()..]);
        assert_eq!(r.length().ok(), Some(z.len() as u64));
        let (top, _) = z.iter_from(z.len() - 1, true).next().expect("not empty");
        assert_eq!(r.string().as_deref().ok(), Some(top));
    }

    #[test]
    fn sliced_lists_equal_whole_ones() {
        for format in [KeyFormat::Rdb(WriteOpts::default()), KeyFormat::Resp] {
            let mut l = ListValue::new(-2);
            for i in 0..DEFER_MIN_ELEMENTS * 3 + 11 {
                // Some elements long enough to end nodes early.
                let e = if i % 997 == 0 { "y".repeat(3000) } else { format!("element:{i}") };
                l.push(crate::store::types::list::End::Right, e.as_bytes());
            }
            let mut e = Entry::new(Value::List(Box::new(l)));
            e.expire_at_ms = 1_900_000_000_000;
            let mut whole = Vec::new();
            format.put(&mut whole, b"biglist", &e);
            let d = Deferred::of(b"biglist", &e, &format).expect("large enough to defer");
            if let Value::List(l) = &mut e.value {
                l.push(crate::store::types::list::End::Left, b"after");
                l.pop(crate::store::types::list::End::Right);
            }
            let (record, slices) = write_sliced(d, &format, 2048);
            assert!(slices > 4, "written in slices: {slices}");
            assert!(record == whole, "{format:?}: the sliced list differs from the whole one");
        }
    }

    #[test]
    fn sliced_streams_equal_whole_ones() {
        use crate::store::types::stream::{IdRequest, NodeLimits};
        let mut st = StreamValue::new();
        for i in 0..DEFER_MIN_ELEMENTS * 2 + 7 {
            let v = format!("value-{i}");
            st.append(&[b"field", v.as_bytes()], IdRequest::Auto, 1_000 + i as u64, NodeLimits::default())
                .expect("append");
        }
        assert!(st.create_group(b"g", StreamId { ms: 1_500, seq: 0 }, -1));
        st.delete_ids(&[StreamId { ms: 1_010, seq: 0 }]);
        let mut e = Entry::new(Value::Stream(Box::new(st)));
        e.expire_at_ms = 1_900_000_000_000;
        for format in [KeyFormat::Rdb(WriteOpts::default()), KeyFormat::Resp] {
            let mut e = e.clone();
            let mut whole = Vec::new();
            format.put(&mut whole, b"bigstream", &e);
            let d = Deferred::of(b"bigstream", &e, &format).expect("large enough to defer");
            if let Value::Stream(st) = &mut e.value {
                st.append(&[b"f", b"after"], IdRequest::Auto, 99_999, NodeLimits::default()).expect("append");
                st.delete_ids(&[StreamId { ms: 1_020, seq: 0 }]);
            }
            let (record, slices) = write_sliced(d, &format, 2048);
            assert!(slices > 4, "written in slices: {slices}");
            assert!(record == whole, "{format:?}: the sliced stream differs from the whole one");
        }
    }

    #[test]
    fn sliced_records_equal_whole_ones_for_rdb_and_resp() {
        let mut e = big_hash(DEFER_MIN_ELEMENTS * 2 + 17);
        e.expire_at_ms = 1_900_000_000_000;
        same_as_whole(e, KeyFormat::Rdb(WriteOpts::default()));
        let mut e = big_hash(DEFER_MIN_ELEMENTS + 5);
        e.expire_at_ms = 1_900_000_000_000;
        same_as_whole(e, KeyFormat::Resp);
        same_as_whole(big_set(DEFER_MIN_ELEMENTS * 3), KeyFormat::Rdb(WriteOpts::default()));
        same_as_whole(big_set(DEFER_MIN_ELEMENTS + 65), KeyFormat::Resp);
        assert!(Deferred::of(b"small", &big_hash(DEFER_MIN_ELEMENTS - 1), &KeyFormat::Resp).is_none());
    }
}
