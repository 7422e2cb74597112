//! The `listpack` encoding of small sorted sets: entries packed back to back in one byte
//! vector, in (score, member) order, so a small set costs about what Redis's listpack costs
//! (a few bytes per entry) instead of a fixed-size slot per entry.
//!
//! Entry layout: `varint(member length) member score`, where the score is either one varint
//! `zigzag(n) << 1 | 1` for an integral value with |n| <= 2^53 (exact, usually one byte) or the
//! byte 0 followed by the 8 little-endian bytes of the f64. Like Redis's listpack, which stores
//! an integral score as an integer, this turns `-0` into `0`.
//!
//! Every operation is a linear scan, as Redis's are on a listpack. Must never: hold entries out
//! of order, or a NaN score; `check` verifies the layout in tests.

use super::skiplist::cmp_entry;
use crate::store::bytes::CompactBytes;
use std::cmp::Ordering;

/// 2^53: integers up to this magnitude are exact in an f64.
const MAX_EXACT_INT: f64 = 9_007_199_254_740_992.0;

#[derive(Clone, Debug, Default)]
pub struct Listpack {
    /// Exactly sized (a boxed slice keeps the handle small enough to sit inline in a value).
    buf: Box<[u8]>,
    len: u32,
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a varint at `pos` (data this module wrote); returns it and the position after it.
fn get_varint(buf: &[u8], mut pos: usize) -> (u64, usize) {
    let mut v = 0u64;
    let mut shift = 0;
    while let Some(&b) = buf.get(pos) {
        pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            break;
        }
        shift += 7;
    }
    (v, pos)
}

fn encode_entry(out: &mut Vec<u8>, score: f64, member: &[u8]) {
    debug_assert!(!score.is_nan(), "NaN score in a listpack");
    put_varint(out, member.len() as u64);
    out.extend_from_slice(member);
    if score.fract() == 0.0 && score.abs() <= MAX_EXACT_INT {
        let n = score as i64;
        let zigzag = ((n << 1) ^ (n >> 63)) as u64;
        put_varint(out, (zigzag << 1) | 1);
    } else {
        out.push(0);
        out.extend_from_slice(&score.to_le_bytes());
    }
}

/// The entry at byte `pos`: member, score and the position of the next entry.
fn decode_entry(buf: &[u8], pos: usize) -> (&[u8], f64, usize) {
    let (mlen, p) = get_varint(buf, pos);
    let end = (p + mlen as usize).min(buf.len());
    let member = &buf[p..end];
    let (h, q) = get_varint(buf, end);
    if h & 1 == 1 {
        let z = h >> 1;
        let n = ((z >> 1) as i64) ^ -((z & 1) as i64);
        (member, n as f64, q)
    } else {
        let mut b = [0u8; 8];
        if let Some(s) = buf.get(q..q + 8) {
            b.copy_from_slice(s);
        }
        (member, f64::from_le_bytes(b), q + 8)
    }
}

impl Listpack {
    pub fn new() -> Self {
        Listpack::default()
    }

    /// A listpack holding `items`, sorted by `cmp_entry` with distinct members.
    pub fn from_sorted<'m>(items: impl IntoIterator<Item = (f64, &'m [u8])>) -> Self {
        let (mut buf, mut len) = (Vec::new(), 0u32);
        for (s, m) in items {
            encode_entry(&mut buf, s, m);
            len += 1;
        }
        Listpack { buf: buf.into_boxed_slice(), len }
    }

    pub fn len(&self) -> usize {
        self.len as usize
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn heap_size_bytes(&self) -> usize {
        self.buf.len()
    }

    /// Entries in order, as (member, score).
    pub fn iter(&self) -> Iter<'_> {
        Iter { buf: &self.buf, pos: 0, left: self.len() }
    }

    /// Entries from 0-based rank `r` on, ascending.
    pub fn iter_from(&self, r: usize) -> Iter<'_> {
        match self.offset_of(r) {
            Some(pos) => Iter { buf: &self.buf, pos, left: self.len() - r },
            None => Iter { buf: &self.buf, pos: self.buf.len(), left: 0 },
        }
    }

    /// Entries from 0-based rank `r` down to rank 0.
    pub fn iter_back_from(&self, r: usize) -> RevIter<'_> {
        let upto = if r < self.len() { r + 1 } else { 0 };
        let mut offsets = Vec::with_capacity(upto);
        let mut pos = 0;
        for _ in 0..upto {
            offsets.push(pos);
            pos = decode_entry(&self.buf, pos).2;
        }
        RevIter { buf: &self.buf, offsets }
    }

    /// Byte offset of the entry at rank `r`.
    fn offset_of(&self, r: usize) -> Option<usize> {
        if r >= self.len() {
            return None;
        }
        let mut pos = 0;
        for _ in 0..r {
            pos = decode_entry(&self.buf, pos).2;
        }
        Some(pos)
    }

    pub fn at(&self, r: usize) -> Option<(&[u8], f64)> {
        let pos = self.offset_of(r)?;
        let (m, s, _) = decode_entry(&self.buf, pos);
        Some((m, s))
    }

    /// Rank, byte span and score of a member.
    fn find(&self, member: &[u8]) -> Option<(usize, usize, usize, f64)> {
        let mut pos = 0;
        for rank in 0..self.len() {
            let (m, s, next) = decode_entry(&self.buf, pos);
            if m == member {
                return Some((rank, pos, next, s));
            }
            pos = next;
        }
        None
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.find(member).map(|(_, _, _, s)| s)
    }

    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        self.find(member).map(|(r, _, _, _)| r)
    }

    /// Adds a member that is not in the set, at its place in the order.
    pub fn insert(&mut self, score: f64, member: &[u8]) {
        let mut pos = 0;
        for _ in 0..self.len() {
            let (m, s, next) = decode_entry(&self.buf, pos);
            if cmp_entry(s, m, score, member) == Ordering::Greater {
                break;
            }
            pos = next;
        }
        let mut entry = Vec::with_capacity(member.len() + 11);
        encode_entry(&mut entry, score, member);
        // Grow exactly, as Redis reallocs a listpack per insert: a small set keeps no slack.
        let mut buf = std::mem::take(&mut self.buf).into_vec();
        buf.reserve_exact(entry.len());
        buf.splice(pos..pos, entry);
        self.buf = buf.into_boxed_slice();
        self.len += 1;
    }

    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self.find(member) {
            Some((_, start, end, _)) => {
                self.cut(start, end);
                self.len -= 1;
                true
            }
            None => false,
        }
    }

    /// Removes ranks `start..=end` (both within the set); returns the entries when `keep`.
    pub fn remove_ranks(&mut self, start: usize, end: usize, keep: bool) -> (usize, Vec<(CompactBytes, f64)>) {
        let mut kept = Vec::new();
        let Some(from) = self.offset_of(start) else { return (0, kept) };
        let end = end.min(self.len() - 1);
        let mut pos = from;
        for _ in start..=end {
            let (m, s, next) = decode_entry(&self.buf, pos);
            if keep {
                kept.push((CompactBytes::new(m), s));
            }
            pos = next;
        }
        self.cut(from, pos);
        let n = end - start + 1;
        // n <= len, which is a u32.
        self.len -= n as u32;
        (n, kept)
    }

    /// Removes bytes `from..to`; the allocation shrinks with them (no slack is kept).
    fn cut(&mut self, from: usize, to: usize) {
        let mut buf = std::mem::take(&mut self.buf).into_vec();
        buf.drain(from..to);
        self.buf = buf.into_boxed_slice();
    }

    /// Verifies the layout (tests).
    #[cfg(test)]
    pub fn check(&self) {
        let mut pos = 0;
        let mut prev: Option<(Vec<u8>, f64)> = None;
        for _ in 0..self.len {
            let (m, s, next) = decode_entry(&self.buf, pos);
            assert!(!s.is_nan());
            if let Some((pm, ps)) = &prev {
                assert_eq!(cmp_entry(*ps, pm, s, m), Ordering::Less);
            }
            prev = Some((m.to_vec(), s));
            pos = next;
        }
        assert_eq!(pos, self.buf.len());
    }
}

/// Forward iteration over a listpack.
#[derive(Clone)]
pub struct Iter<'a> {
    buf: &'a [u8],
    pos: usize,
    left: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        let (m, s, next) = decode_entry(self.buf, self.pos);
        self.pos = next;
        self.left -= 1;
        Some((m, s))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

/// Backward iteration, over the offsets of the entries it will visit.
pub struct RevIter<'a> {
    buf: &'a [u8],
    offsets: Vec<usize>,
}

impl<'a> Iterator for RevIter<'a> {
    type Item = (&'a [u8], f64);
    fn next(&mut self) -> Option<Self::Item> {
        let pos = self.offsets.pop()?;
        let (m, s, _) = decode_entry(self.buf, pos);
        Some((m, s))
    }
}

/// A score yielded by `&Listpack`'s `IntoIterator` (read with `*score`).
#[derive(Clone, Copy, Debug)]
pub struct ScoreCell(pub f64);

impl std::ops::Deref for ScoreCell {
    type Target = f64;
    fn deref(&self) -> &f64 {
        &self.0
    }
}

/// A member yielded by `&Listpack`'s `IntoIterator`.
#[derive(Clone, Copy, Debug)]
pub struct MemberRef<'a>(pub &'a [u8]);

impl<'a> MemberRef<'a> {
    pub fn as_slice(&self) -> &'a [u8] {
        self.0
    }
}

/// `for (score, member) in &listpack`: the shape older callers iterate (prefer
/// `ZSetValue::iter`, which yields `(member, score)` for both encodings).
impl<'a> IntoIterator for &'a Listpack {
    type Item = (ScoreCell, MemberRef<'a>);
    type IntoIter = std::iter::Map<Iter<'a>, fn((&'a [u8], f64)) -> (ScoreCell, MemberRef<'a>)>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter().map(|(m, s)| (ScoreCell(s), MemberRef(m)))
    }
}
