//! The `skiplist` encoding of sorted sets, as Redis builds it: a skiplist whose links carry
//! spans (so rank lookups and rank ranges are O(log n)), plus a hash index from member to node.
//!
//! Nodes live in one arena and link to each other by `u32` index (no `unsafe`, no `Rc`). Each
//! member is stored once: the hash index is intrusive (a `chain` link in every node, buckets
//! holding node indexes), which is how Redis shares one `sds` between its dict and skiplist.
//! The index is a power-of-two chained table, so ZSCAN walks it with Redis's reverse-binary
//! cursor and keeps Redis's guarantee (every member present for the whole scan is returned)
//! however the table grows or shrinks between calls.
//!
//! Must never: hold a NaN score, link a member twice, or let the skiplist, the index and `len`
//! disagree (`check` verifies all three in tests).

use crate::store::bytes::CompactBytes;
use crate::store::cow_vec::CowVec;
use std::cmp::Ordering;
use std::hash::BuildHasher;

/// Redis's `ZSKIPLIST_MAXLEVEL`.
pub const MAX_LEVEL: usize = 32;
const NIL: u32 = u32::MAX;
/// Node 0 is the header: it has `MAX_LEVEL` levels and no member.
const HEAD: u32 = 0;
const MIN_BUCKETS: usize = 4;
/// Freed arena slots are reused; once they are at least this many and half the arena, the set
/// is rebuilt compactly so a set that shrank gives its memory back.
const COMPACT_MIN_FREE: usize = 64;
/// log2 of the nodes per arena chunk.
const ARENA_CHUNK_SHIFT: u32 = 12;

#[derive(Clone, Copy, Debug)]
struct Level {
    forward: u32,
    /// Nodes skipped by `forward` (1 for the next node); for a NIL link, the nodes up to the end.
    span: u32,
}

#[derive(Clone, Debug)]
struct Node {
    member: CompactBytes,
    score: f64,
    backward: u32,
    /// Next node in the same hash bucket.
    chain: u32,
    /// Empty for a free arena slot.
    levels: Box<[Level]>,
}

/// Redis's order of sorted-set entries: by score compared with `<` (so `-0` equals `0`), then
/// bytewise by member.
pub fn cmp_entry(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    if s1 < s2 {
        Ordering::Less
    } else if s1 > s2 {
        Ordering::Greater
    } else {
        m1.cmp(m2)
    }
}

/// The node arena. Named for what it holds for its readers: every member with its score.
#[derive(Clone, Debug)]
pub struct Entries {
    /// Chunked (`CowVec`) so a snapshot can share the nodes instead of serialising them all
    /// at once. Every lookup hops through nodes all over the arena: 4096-node chunks keep the
    /// chunk headers few enough to stay in cache (1024-node ones cost ZADD about 10% on a
    /// 300k-member set).
    nodes: CowVec<Node, ARENA_CHUNK_SHIFT>,
    free: Vec<u32>,
}

impl Entries {
    /// Every member with its score, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&CompactBytes, &f64)> {
        self.nodes.iter().skip(1).filter(|n| !n.levels.is_empty()).map(|n| (&n.member, &n.score))
    }
    /// How many members (arena slots minus the header and the free ones).
    pub fn len(&self) -> usize {
        self.nodes.len() - 1 - self.free.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The arena shared with a snapshot (`SortedSet::share_entries`): reads as it was when shared,
/// whatever happens to the set since.
pub struct SharedEntries {
    nodes: CowVec<Node, ARENA_CHUNK_SHIFT>,
    len: usize,
    tail: u32,
}

/// Where a walk of `SharedEntries` goes on: the node to visit next.
#[derive(Clone, Copy, Debug)]
pub struct WalkCursor(u32);

impl SharedEntries {
    /// Members in the set.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A cursor at the highest member (the order Redis writes skiplists in: loading then
    /// inserts every member at the head).
    pub fn highest(&self) -> WalkCursor {
        WalkCursor(self.tail)
    }

    /// Up to `count` members from `at` downwards, with their scores; `at` moves past them.
    pub fn walk_down<'a>(&'a self, at: &'a mut WalkCursor, count: usize) -> impl Iterator<Item = (&'a [u8], f64)> + 'a {
        let nodes = &self.nodes;
        std::iter::from_fn(move || {
            if at.0 == NIL {
                return None;
            }
            let n = &nodes[at.0 as usize];
            at.0 = n.backward;
            Some((n.member.as_slice(), n.score))
        })
        .take(count)
    }
}

impl<'a> IntoIterator for &'a Entries {
    type Item = (&'a CompactBytes, &'a f64);
    type IntoIter = Box<dyn Iterator<Item = (&'a CompactBytes, &'a f64)> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

#[derive(Clone, Debug)]
pub struct SortedSet {
    pub scores: Entries,
    level: usize,
    len: usize,
    tail: u32,
    buckets: Vec<u32>,
    hasher: hashbrown::DefaultHashBuilder,
    /// xorshift state for node levels (levels are invisible to clients; any spread will do).
    rng: u64,
}

impl Default for SortedSet {
    fn default() -> Self {
        Self::new()
    }
}

impl SortedSet {
    pub fn new() -> Self {
        Self::with_state(hashbrown::DefaultHashBuilder::default(), 0x9E37_79B9_7F4A_7C15)
    }

    fn with_state(hasher: hashbrown::DefaultHashBuilder, rng: u64) -> Self {
        let head = Node {
            member: CompactBytes::new(b""),
            score: 0.0,
            backward: NIL,
            chain: NIL,
            levels: vec![Level { forward: NIL, span: 0 }; MAX_LEVEL].into_boxed_slice(),
        };
        SortedSet {
            scores: Entries {
                nodes: {
                    let mut nodes = CowVec::default();
                    nodes.push(head);
                    nodes
                },
                free: Vec::new(),
            },
            level: 1,
            len: 0,
            tail: NIL,
            buckets: vec![NIL; MIN_BUCKETS],
            hasher,
            rng: rng | 1,
        }
    }

    /// A set holding `items`, which must be sorted by `cmp_entry` with distinct members.
    pub fn from_sorted(items: impl IntoIterator<Item = (f64, CompactBytes)>) -> Self {
        let mut s = SortedSet::new();
        for (score, member) in items {
            s.insert(score, member);
        }
        s
    }

    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    fn n(&self, i: u32) -> &Node {
        &self.scores.nodes[i as usize]
    }
    #[inline]
    fn n_mut(&mut self, i: u32) -> &mut Node {
        &mut self.scores.nodes[i as usize]
    }
    #[inline]
    fn lv(&self, i: u32, l: usize) -> Level {
        self.n(i).levels[l]
    }
    #[inline]
    fn lv_mut(&mut self, i: u32, l: usize) -> &mut Level {
        &mut self.n_mut(i).levels[l]
    }

    /// The member and score of node `i` (an id from `first`, `next`, `at_rank`...).
    pub fn entry(&self, i: u32) -> (&[u8], f64) {
        let n = self.n(i);
        (n.member.as_slice(), n.score)
    }
    pub fn first(&self) -> Option<u32> {
        Some(self.lv(HEAD, 0).forward).filter(|&f| f != NIL)
    }
    pub fn last(&self) -> Option<u32> {
        Some(self.tail).filter(|&t| t != NIL)
    }
    pub fn next(&self, i: u32) -> Option<u32> {
        Some(self.lv(i, 0).forward).filter(|&f| f != NIL)
    }
    pub fn prev(&self, i: u32) -> Option<u32> {
        Some(self.n(i).backward).filter(|&b| b != NIL)
    }

    fn random_level(&mut self) -> usize {
        let mut level = 1;
        loop {
            self.rng ^= self.rng << 13;
            self.rng ^= self.rng >> 7;
            self.rng ^= self.rng << 17;
            // Redis's ZSKIPLIST_P = 0.25.
            if level < MAX_LEVEL && (self.rng & 0xFFFF) < 0x4000 {
                level += 1;
            } else {
                return level;
            }
        }
    }

    // ---- hash index ----

    fn bucket_of(&self, member: &[u8]) -> usize {
        (self.hasher.hash_one(member) as usize) & (self.buckets.len() - 1)
    }

    fn find(&self, member: &[u8]) -> Option<u32> {
        let mut i = self.buckets[self.bucket_of(member)];
        while i != NIL {
            let n = self.n(i);
            if n.member.as_slice() == member {
                return Some(i);
            }
            i = n.chain;
        }
        None
    }

    fn index_add(&mut self, x: u32) {
        if self.len > self.buckets.len() {
            // `x` is already linked in the skiplist, so the rehash picks it up.
            self.rehash(self.buckets.len() * 2);
            return;
        }
        let b = self.bucket_of(&self.n(x).member);
        let head = self.buckets[b];
        self.n_mut(x).chain = head;
        self.buckets[b] = x;
    }

    fn index_remove(&mut self, x: u32) {
        let b = self.bucket_of(&self.n(x).member);
        let next = self.n(x).chain;
        if self.buckets[b] == x {
            self.buckets[b] = next;
            return;
        }
        let mut i = self.buckets[b];
        while i != NIL {
            let c = self.n(i).chain;
            if c == x {
                self.n_mut(i).chain = next;
                return;
            }
            i = c;
        }
        debug_assert!(false, "zset node missing from its hash bucket");
    }

    /// Rebuilds the index with `size` buckets (a power of two), walking the skiplist.
    fn rehash(&mut self, size: usize) {
        debug_assert!(size.is_power_of_two());
        self.buckets = vec![NIL; size];
        let mut x = self.lv(HEAD, 0).forward;
        while x != NIL {
            let b = self.bucket_of(&self.n(x).member);
            let head = self.buckets[b];
            self.n_mut(x).chain = head;
            self.buckets[b] = x;
            x = self.lv(x, 0).forward;
        }
    }

    /// Redis shrinks a dict below 10% fill to the smallest power of two holding it.
    fn maybe_shrink(&mut self) {
        if self.buckets.len() > MIN_BUCKETS && self.len * 10 < self.buckets.len() {
            self.rehash(self.len.max(MIN_BUCKETS).next_power_of_two());
        }
    }

    // ---- skiplist ----

    /// Links node `x` (allocated, with its levels, not linked) at its place in the order.
    fn link(&mut self, x: u32) {
        let lvl = self.n(x).levels.len();
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0u32; MAX_LEVEL];
        {
            let (score, member) = (self.n(x).score, self.n(x).member.as_slice());
            let mut cur = HEAD;
            for i in (0..self.level).rev() {
                rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
                loop {
                    let l = self.lv(cur, i);
                    if l.forward == NIL {
                        break;
                    }
                    let f = self.n(l.forward);
                    if cmp_entry(f.score, &f.member, score, member) != Ordering::Less {
                        break;
                    }
                    rank[i] += l.span;
                    cur = l.forward;
                }
                update[i] = cur;
            }
        }
        if lvl > self.level {
            for i in self.level..lvl {
                rank[i] = 0;
                update[i] = HEAD;
                self.lv_mut(HEAD, i).span = self.len as u32;
            }
            self.level = lvl;
        }
        for i in 0..lvl {
            let u = self.lv(update[i], i);
            *self.lv_mut(x, i) = Level { forward: u.forward, span: u.span - (rank[0] - rank[i]) };
            *self.lv_mut(update[i], i) = Level { forward: x, span: (rank[0] - rank[i]) + 1 };
        }
        for (i, &u) in update.iter().enumerate().take(self.level).skip(lvl) {
            self.lv_mut(u, i).span += 1;
        }
        self.n_mut(x).backward = if update[0] == HEAD { NIL } else { update[0] };
        let f = self.lv(x, 0).forward;
        if f != NIL {
            self.n_mut(f).backward = x;
        } else {
            self.tail = x;
        }
        self.len += 1;
    }

    /// The predecessors of `(score, member)` at every level (Redis's `update` vector).
    fn predecessors(&self, score: f64, member: &[u8]) -> [u32; MAX_LEVEL] {
        let mut update = [HEAD; MAX_LEVEL];
        let mut cur = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let f = self.lv(cur, i).forward;
                if f == NIL {
                    break;
                }
                let fnode = self.n(f);
                if cmp_entry(fnode.score, &fnode.member, score, member) != Ordering::Less {
                    break;
                }
                cur = f;
            }
            update[i] = cur;
        }
        update
    }

    /// Unlinks node `x` from the skiplist (not from the index); `update` from `predecessors`.
    fn unlink(&mut self, x: u32, update: &[u32; MAX_LEVEL]) {
        for (i, &u) in update.iter().enumerate().take(self.level) {
            let ul = self.lv(u, i);
            if ul.forward == x {
                let xl = self.lv(x, i);
                *self.lv_mut(u, i) = Level { forward: xl.forward, span: ul.span + xl.span - 1 };
            } else {
                self.lv_mut(u, i).span -= 1;
            }
        }
        let (f, b) = (self.lv(x, 0).forward, self.n(x).backward);
        if f != NIL {
            self.n_mut(f).backward = b;
        } else {
            self.tail = b;
        }
        while self.level > 1 && self.lv(HEAD, self.level - 1).forward == NIL {
            self.level -= 1;
        }
        self.len -= 1;
    }

    fn alloc(&mut self, score: f64, member: CompactBytes, levels: usize) -> u32 {
        let node = Node {
            member,
            score,
            backward: NIL,
            chain: NIL,
            levels: vec![Level { forward: NIL, span: 0 }; levels].into_boxed_slice(),
        };
        match self.scores.free.pop() {
            Some(i) => {
                self.scores.nodes[i as usize] = node;
                i
            }
            None => {
                assert!(self.scores.nodes.len() < NIL as usize, "sorted set arena full");
                self.scores.nodes.push(node);
                (self.scores.nodes.len() - 1) as u32
            }
        }
    }

    fn release(&mut self, x: u32) -> (CompactBytes, f64) {
        let n = self.n_mut(x);
        let member = std::mem::replace(&mut n.member, CompactBytes::new(b""));
        let score = n.score;
        n.levels = Box::new([]);
        n.chain = NIL;
        self.scores.free.push(x);
        (member, score)
    }

    /// Adds a member that is not in the set.
    pub fn insert(&mut self, score: f64, member: CompactBytes) {
        debug_assert!(!score.is_nan(), "NaN score");
        debug_assert!(self.find(&member).is_none(), "member inserted twice");
        let lvl = self.random_level();
        let x = self.alloc(score, member, lvl);
        self.link(x);
        self.index_add(x);
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.find(member).map(|i| self.n(i).score)
    }

    /// Changes the score of a member in the set (Redis's `zslUpdateScore`: in place when the
    /// order is unchanged, else unlinked and linked again). Returns false if it is absent.
    pub fn update_score(&mut self, member: &[u8], score: f64) -> bool {
        let Some(x) = self.find(member) else { return false };
        let cur = self.n(x).score;
        let (b, f) = (self.n(x).backward, self.lv(x, 0).forward);
        let before_ok = b == NIL || self.n(b).score < score;
        let after_ok = f == NIL || self.n(f).score > score;
        if before_ok && after_ok {
            self.n_mut(x).score = score;
            return true;
        }
        let update = self.predecessors(cur, member);
        self.unlink(x, &update);
        self.n_mut(x).score = score;
        self.link(x);
        true
    }

    /// Removes a member; returns its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let x = self.find(member)?;
        let update = self.predecessors(self.n(x).score, member);
        self.index_remove(x);
        self.unlink(x, &update);
        let (_, score) = self.release(x);
        self.after_removals();
        Some(score)
    }

    /// Removes the nodes of 0-based ranks `start..=end` (clamped by the caller); returns them
    /// in order when `keep` is set (pops), else an empty vector.
    pub fn remove_rank_range(&mut self, start: usize, end: usize, keep: bool) -> (usize, Vec<(CompactBytes, f64)>) {
        let mut kept = Vec::new();
        if start > end || start >= self.len {
            return (0, kept);
        }
        let mut update = [HEAD; MAX_LEVEL];
        let mut traversed = 0usize;
        let mut cur = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(cur, i);
                if l.forward == NIL || traversed + l.span as usize > start {
                    break;
                }
                traversed += l.span as usize;
                cur = l.forward;
            }
            update[i] = cur;
        }
        let mut x = self.lv(cur, 0).forward;
        let mut removed = 0;
        while x != NIL && traversed <= end {
            let next = self.lv(x, 0).forward;
            self.index_remove(x);
            self.unlink(x, &update);
            let e = self.release(x);
            if keep {
                kept.push(e);
            }
            removed += 1;
            traversed += 1;
            x = next;
        }
        self.after_removals();
        (removed, kept)
    }

    fn after_removals(&mut self) {
        self.maybe_shrink();
        let free = self.scores.free.len();
        if free >= COMPACT_MIN_FREE && free * 2 >= self.scores.nodes.len() {
            self.compact();
        }
    }

    /// Rebuilds the arena without free slots, keeping the hash seed (so ZSCAN cursors stay
    /// meaningful) and the level generator.
    fn compact(&mut self) {
        let mut fresh = SortedSet::with_state(self.hasher, self.rng);
        let mut x = self.lv(HEAD, 0).forward;
        while x != NIL {
            let next = self.lv(x, 0).forward;
            let n = self.n_mut(x);
            let member = std::mem::replace(&mut n.member, CompactBytes::new(b""));
            fresh.insert(n.score, member);
            x = next;
        }
        fresh.rehash(self.buckets.len().max(MIN_BUCKETS));
        *self = fresh;
    }

    /// 0-based rank of a member.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        let x = self.find(member)?;
        let score = self.n(x).score;
        let mut rank = 0usize;
        let mut cur = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(cur, i);
                if l.forward == NIL {
                    break;
                }
                let f = self.n(l.forward);
                if cmp_entry(f.score, &f.member, score, member) == Ordering::Greater {
                    break;
                }
                rank += l.span as usize;
                cur = l.forward;
            }
            if cur == x {
                return Some(rank - 1);
            }
        }
        debug_assert!(false, "indexed member missing from the skiplist");
        None
    }

    /// The node at 0-based rank `r`.
    pub fn at_rank(&self, r: usize) -> Option<u32> {
        if r >= self.len {
            return None;
        }
        let want = r + 1;
        let mut traversed = 0usize;
        let mut cur = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(cur, i);
                if l.forward == NIL || traversed + l.span as usize > want {
                    break;
                }
                traversed += l.span as usize;
                cur = l.forward;
            }
            if traversed == want {
                return Some(cur);
            }
        }
        None
    }

    /// How many entries, from the first, satisfy `pred` before the first that does not. Exact
    /// when `pred` holds on a prefix of the order (score and lex bounds on uniform scores).
    pub fn leading(&self, mut pred: impl FnMut(f64, &[u8]) -> bool) -> usize {
        let mut traversed = 0usize;
        let mut cur = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv(cur, i);
                if l.forward == NIL {
                    break;
                }
                let f = self.n(l.forward);
                if !pred(f.score, &f.member) {
                    break;
                }
                traversed += l.span as usize;
                cur = l.forward;
            }
        }
        traversed
    }

    /// One step of Redis's `dictScan` over the member index: emits the members of the bucket
    /// the cursor names and returns the next cursor (0 when done).
    pub fn scan<'a>(&'a self, cursor: u64, mut emit: impl FnMut(&'a [u8], f64)) -> u64 {
        if self.len == 0 {
            return 0;
        }
        let mask = (self.buckets.len() - 1) as u64;
        let mut i = self.buckets[(cursor & mask) as usize];
        while i != NIL {
            let n = self.n(i);
            emit(&n.member, n.score);
            i = n.chain;
        }
        // Increment the cursor's masked bits from the top, so the walk stays valid when the
        // table is resized between calls.
        let v = (cursor | !mask).reverse_bits().wrapping_add(1);
        v.reverse_bits()
    }

    /// The arena, shared until either side changes it: what a snapshot serialises a slice at
    /// a time, highest member first (`SharedEntries::walk_down`).
    pub fn share_entries(&self) -> SharedEntries {
        SharedEntries { nodes: self.scores.nodes.share(), len: self.len, tail: self.tail }
    }

    pub fn heap_size_bytes(&self) -> usize {
        let per_node = std::mem::size_of::<Node>();
        let mut levels = 0usize;
        let mut members = 0usize;
        for n in self.scores.nodes.iter() {
            levels += n.levels.len() * std::mem::size_of::<Level>();
            members += n.member.heap_size_bytes();
        }
        self.scores.nodes.capacity() * per_node
            + self.scores.free.capacity() * 4
            + self.buckets.capacity() * 4
            + levels
            + members
    }

    /// Verifies every invariant (tests).
    #[cfg(test)]
    pub fn check(&self) {
        let mut count = 0;
        let mut prev: Option<u32> = None;
        let mut x = self.lv(HEAD, 0).forward;
        while x != NIL {
            let n = self.n(x);
            assert!(!n.levels.is_empty());
            assert_eq!(n.backward, prev.unwrap_or(NIL));
            if let Some(p) = prev {
                let pn = self.n(p);
                assert_eq!(cmp_entry(pn.score, &pn.member, n.score, &n.member), Ordering::Less);
            }
            assert_eq!(self.find(&n.member), Some(x));
            assert_eq!(self.at_rank(count), Some(x));
            assert_eq!(self.rank(&n.member), Some(count));
            count += 1;
            prev = Some(x);
            x = n.levels[0].forward;
        }
        assert_eq!(count, self.len);
        assert_eq!(self.scores.len(), self.len);
        assert_eq!(self.tail, prev.unwrap_or(NIL));
        let indexed: usize = (0..self.buckets.len())
            .map(|b| {
                let mut c = 0;
                let mut i = self.buckets[b];
                while i != NIL {
                    c += 1;
                    i = self.n(i).chain;
                }
                c
            })
            .sum();
        assert_eq!(indexed, self.len);
        // Spans at every level add up to the distance they cover.
        for lvl in 0..self.level {
            let mut pos = 0usize;
            let mut cur = HEAD;
            loop {
                let l = self.lv(cur, lvl);
                if l.forward == NIL {
                    break;
                }
                pos += l.span as usize;
                assert_eq!(self.at_rank(pos - 1), Some(l.forward));
                cur = l.forward;
            }
        }
    }
}
