//! One quicklist node: list elements packed back to back in one buffer, the way Redis packs
//! them into a listpack. Each element is framed as `[len varint][bytes][len varint, reversed]`
//! so the node can be walked from either end, and the buffer may keep free room before and
//! after the live bytes so pushes at either end are amortised O(1) instead of a memmove of the
//! whole node each time.
//!
//! This module owns the byte layout and nothing else: how big a node may grow is the list's
//! business (`super::ListValue`). It must never be handed client-chosen offsets: every offset
//! it reads was produced by its own walks, so a bad one is a bug here, caught by debug asserts.
//! Offsets are `u32` to keep a node at 32 bytes (most lists are one node), which bounds an
//! element to `super::MAX_ELEMENT_BYTES`; the list checks that before anything reaches here.

/// LEB128 bytes needed for `n`.
#[inline]
pub(super) fn varint_len(n: usize) -> usize {
    let mut len = 1;
    let mut rest = n >> 7;
    while rest != 0 {
        len += 1;
        rest >>= 7;
    }
    len
}

/// Bytes an element of `data_len` bytes takes in a node, framing included.
#[inline]
pub(super) fn framed_len(data_len: usize) -> usize {
    data_len + 2 * varint_len(data_len)
}

/// Writes the framed element `v` into `dst`, which is exactly `framed_len(v.len())` long.
fn encode_into(dst: &mut [u8], v: &[u8]) {
    let n = v.len();
    let k = varint_len(n);
    debug_assert_eq!(dst.len(), n + 2 * k, "frame size mismatch");
    let mut rest = n;
    for i in 0..k {
        let mut byte = (rest & 0x7f) as u8;
        rest >>= 7;
        if i + 1 < k {
            byte |= 0x80;
        }
        dst[i] = byte;
        // The trailer holds the same varint in reverse, so a backward walk reads it low
        // bits first exactly as a forward walk reads the header.
        dst[2 * k + n - 1 - i] = byte;
    }
    dst[k..k + n].copy_from_slice(v);
}

#[derive(Clone)]
pub(super) struct Node {
    buf: Box<[u8]>,
    /// Live bytes are `buf[start..end]`; the rest is free room for pushes.
    start: u32,
    end: u32,
    count: u32,
}

/// An offset or count as stored: a node holds at most one element of up to
/// `MAX_ELEMENT_BYTES` plus a node's worth of small ones, well under 4 GiB.
#[inline]
fn narrow(n: usize) -> u32 {
    debug_assert!(n <= u32::MAX as usize, "node offset past u32");
    n as u32
}

/// Buffer size for at least `min` live bytes: the allocator's next size class (jemalloc's:
/// 16-byte steps to 128, then four classes per doubling), so the free room a growing node
/// keeps costs nothing the allocator would not round up to anyway, and the next push
/// usually finds room. Exact for the rare node past 1 MiB (one huge element).
fn grown_cap(min: usize) -> usize {
    if min <= 8 {
        8
    } else if min <= 128 {
        min.next_multiple_of(16)
    } else if min <= 1 << 20 {
        // Four classes between each power of two and the next.
        let base = 1usize << (usize::BITS - 1 - (min - 1).leading_zeros());
        min.next_multiple_of(base / 4)
    } else {
        min
    }
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Node {{ count: {}, bytes: {}, cap: {} }}", self.count, self.end - self.start, self.buf.len())
    }
}

impl Node {
    /// A node holding just `v`, with no free room (most lists are short).
    pub fn with(v: &[u8]) -> Node {
        let mut buf = vec![0u8; framed_len(v.len())].into_boxed_slice();
        encode_into(&mut buf, v);
        let end = narrow(buf.len());
        Node { buf, start: 0, end, count: 1 }
    }

    /// A node holding the framed elements `live` (already encoded), with no free room.
    fn from_live(live: &[u8], count: usize) -> Node {
        Node { buf: live.into(), start: 0, end: narrow(live.len()), count: narrow(count) }
    }

    #[inline]
    pub fn count(&self) -> usize {
        self.count as usize
    }
    /// Live bytes (what Redis would count as the listpack's size, less its header).
    #[inline]
    pub fn bytes(&self) -> usize {
        (self.end - self.start) as usize
    }
    pub fn heap_size_bytes(&self) -> usize {
        self.buf.len()
    }
    #[inline]
    pub fn start(&self) -> usize {
        self.start as usize
    }
    #[inline]
    pub fn end(&self) -> usize {
        self.end as usize
    }

    /// The element whose frame starts at `off`: (data start, data length, next frame offset).
    #[inline]
    pub fn read_fwd(&self, off: usize) -> (usize, usize, usize) {
        debug_assert!(off >= self.start() && off < self.end(), "forward read outside the node");
        let mut n = 0usize;
        let mut shift = 0;
        let mut i = off;
        loop {
            let byte = self.buf[i];
            n |= ((byte & 0x7f) as usize) << shift;
            i += 1;
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        let k = i - off;
        (i, n, i + n + k)
    }

    /// The element whose frame ends at `end`: (data start, data length, its frame's offset).
    #[inline]
    pub fn read_back(&self, end: usize) -> (usize, usize, usize) {
        debug_assert!(end > self.start() && end <= self.end(), "backward read outside the node");
        let mut n = 0usize;
        let mut shift = 0;
        let mut i = end;
        loop {
            i -= 1;
            let byte = self.buf[i];
            n |= ((byte & 0x7f) as usize) << shift;
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        let k = end - i;
        let data_start = i - n;
        (data_start, n, data_start - k)
    }

    #[inline]
    pub fn slice(&self, data_start: usize, len: usize) -> &[u8] {
        &self.buf[data_start..data_start + len]
    }

    fn live(&self) -> &[u8] {
        &self.buf[self.start()..self.end()]
    }

    /// Frame offset of element `i` (< count), walking from the nearer end.
    pub fn offset_of(&self, i: usize) -> usize {
        let count = self.count();
        debug_assert!(i < count, "element index past the node");
        if i <= count / 2 {
            let mut off = self.start();
            for _ in 0..i {
                off = self.read_fwd(off).2;
            }
            off
        } else {
            let mut off = self.end();
            for _ in 0..count - i {
                off = self.read_back(off).2;
            }
            off
        }
    }

    pub fn get(&self, i: usize) -> &[u8] {
        let (ds, n, _) = self.read_fwd(self.offset_of(i));
        self.slice(ds, n)
    }

    pub fn front(&self) -> &[u8] {
        let (ds, n, _) = self.read_fwd(self.start());
        self.slice(ds, n)
    }

    pub fn back(&self) -> &[u8] {
        let (ds, n, _) = self.read_back(self.end());
        self.slice(ds, n)
    }

    pub fn push_back(&mut self, v: &[u8]) {
        let need = framed_len(v.len());
        if self.buf.len() - self.end() < need {
            let live = self.bytes();
            let mut nb = vec![0u8; grown_cap(live + need)].into_boxed_slice();
            nb[..live].copy_from_slice(self.live());
            self.buf = nb;
            self.start = 0;
            self.end = narrow(live);
        }
        let end = self.end();
        encode_into(&mut self.buf[end..end + need], v);
        self.end = narrow(end + need);
        self.count += 1;
    }

    pub fn push_front(&mut self, v: &[u8]) {
        let need = framed_len(v.len());
        if self.start() < need {
            let live = self.bytes();
            let cap = grown_cap(live + need);
            let room = cap - live;
            let mut nb = vec![0u8; cap].into_boxed_slice();
            nb[room..].copy_from_slice(self.live());
            self.buf = nb;
            self.start = narrow(room);
            self.end = narrow(cap);
        }
        let start = self.start() - need;
        encode_into(&mut self.buf[start..start + need], v);
        self.start = narrow(start);
        self.count += 1;
    }

    pub fn drop_front(&mut self) {
        self.start = narrow(self.read_fwd(self.start()).2);
        self.count -= 1;
    }

    pub fn drop_back(&mut self) {
        self.end = narrow(self.read_back(self.end()).2);
        self.count -= 1;
    }

    /// Drops `n` (<= count) elements from the front.
    pub fn drop_front_n(&mut self, n: usize) {
        if n >= self.count() {
            self.start = self.end;
            self.count = 0;
        } else {
            self.start = narrow(self.offset_of(n));
            self.count -= narrow(n);
        }
        self.shrink_if_wasteful();
    }

    /// Drops `n` (<= count) elements from the back.
    pub fn drop_back_n(&mut self, n: usize) {
        if n >= self.count() {
            self.end = self.start;
            self.count = 0;
        } else {
            self.end = narrow(self.offset_of(self.count() - n));
            self.count -= narrow(n);
        }
        self.shrink_if_wasteful();
    }

    /// Gives back free room (a node that will not grow any more).
    pub fn shrink_to_fit(&mut self) {
        if self.buf.len() != self.bytes() {
            *self = Node::from_live(self.live(), self.count());
        }
    }

    fn shrink_if_wasteful(&mut self) {
        if self.buf.len() > 64 && self.buf.len() > 2 * self.bytes() {
            self.shrink_to_fit();
        }
    }

    /// Replaces the bytes `[a, b)` of the live region with the framed `v` (or nothing), with
    /// `count` elements after. The node is rebuilt with no free room.
    fn splice(&mut self, a: usize, b: usize, v: Option<&[u8]>, count: usize) {
        let add = v.map_or(0, |v| framed_len(v.len()));
        let mut nb = vec![0u8; self.bytes() - (b - a) + add].into_boxed_slice();
        let head = a - self.start();
        nb[..head].copy_from_slice(&self.buf[self.start()..a]);
        if let Some(v) = v {
            encode_into(&mut nb[head..head + add], v);
        }
        nb[head + add..].copy_from_slice(&self.buf[b..self.end()]);
        self.end = narrow(nb.len());
        self.start = 0;
        self.buf = nb;
        self.count = narrow(count);
    }

    /// Inserts `v` so it becomes element `i` (<= count).
    pub fn insert(&mut self, i: usize, v: &[u8]) {
        if i == 0 {
            return self.push_front(v);
        }
        if i == self.count() {
            return self.push_back(v);
        }
        let off = self.offset_of(i);
        self.splice(off, off, Some(v), self.count() + 1);
    }

    /// Replaces element `i` (< count) with `v`.
    pub fn replace(&mut self, i: usize, v: &[u8]) {
        let off = self.offset_of(i);
        let next = self.read_fwd(off).2;
        if next - off == framed_len(v.len()) {
            encode_into(&mut self.buf[off..next], v);
        } else {
            self.splice(off, next, Some(v), self.count());
        }
    }

    /// Removes the elements at the node-local, ascending indexes `idx`.
    pub fn remove_sorted(&mut self, idx: &[usize]) {
        if idx.is_empty() {
            return;
        }
        let mut live = Vec::with_capacity(self.bytes());
        let mut off = self.start();
        let mut want = idx.iter().peekable();
        for i in 0..self.count() {
            let next = self.read_fwd(off).2;
            if want.peek() == Some(&&i) {
                want.next();
            } else {
                live.extend_from_slice(&self.buf[off..next]);
            }
            off = next;
        }
        debug_assert!(want.next().is_none(), "remove index past the node");
        *self = Node::from_live(&live, self.count() - idx.len());
    }

    /// Splits off the elements from `i` (0 < i < count) into a new node.
    pub fn split_off(&mut self, i: usize) -> Node {
        let off = self.offset_of(i);
        let right = Node::from_live(&self.buf[off..self.end()], self.count() - i);
        self.end = narrow(off);
        self.count = narrow(i);
        self.shrink_to_fit();
        right
    }

    /// Appends every element of `other` after this node's.
    pub fn append(&mut self, other: &Node) {
        let mut live = Vec::with_capacity(self.bytes() + other.bytes());
        live.extend_from_slice(self.live());
        live.extend_from_slice(other.live());
        *self = Node::from_live(&live, self.count() + other.count());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elems(n: &Node) -> Vec<Vec<u8>> {
        (0..n.count()).map(|i| n.get(i).to_vec()).collect()
    }

    #[test]
    fn frames_round_trip_both_ways() {
        for len in [0usize, 1, 127, 128, 300, 16383, 16384, 70000] {
            let v: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut n = Node::with(b"x");
            n.push_back(&v);
            n.push_front(&v);
            assert_eq!(n.count(), 3);
            assert_eq!(n.front(), &v[..]);
            assert_eq!(n.back(), &v[..]);
            assert_eq!(n.get(1), b"x");
            assert_eq!(n.bytes(), 2 * framed_len(len) + framed_len(1));
        }
    }

    #[test]
    fn buffers_grow_by_size_class() {
        let classes: Vec<usize> =
            [1, 9, 17, 128, 129, 160, 161, 257, 1300, 4097].iter().map(|&n| grown_cap(n)).collect();
        assert_eq!(classes, [8, 16, 32, 128, 160, 160, 192, 320, 1536, 5120]);
    }

    #[test]
    fn edits_keep_order() {
        let mut n = Node::with(b"c");
        n.push_front(b"b");
        n.push_front(b"a");
        n.push_back(b"d");
        n.insert(2, b"bb");
        assert_eq!(elems(&n), [&b"a"[..], b"b", b"bb", b"c", b"d"]);
        n.replace(2, b"B");
        n.replace(0, b"aaaaaaaaaaaaaaaa");
        assert_eq!(elems(&n), [&b"aaaaaaaaaaaaaaaa"[..], b"b", b"B", b"c", b"d"]);
        n.remove_sorted(&[0, 3]);
        assert_eq!(elems(&n), [&b"b"[..], b"B", b"d"]);
        let r = n.split_off(1);
        assert_eq!(elems(&n), [&b"b"[..]]);
        assert_eq!(elems(&r), [&b"B"[..], b"d"]);
        n.append(&r);
        n.drop_front_n(1);
        n.drop_back_n(1);
        assert_eq!(elems(&n), [&b"B"[..]]);
    }
}
