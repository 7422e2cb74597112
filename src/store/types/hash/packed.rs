//! The `listpack` encoding of small hashes: field/value pairs packed back to back in one
//! exactly sized allocation, in insertion order, so a small hash costs what Redis's listpack
//! costs (a byte or two of framing per string) instead of a fixed-size slot per string.
//!
//! Layout: `varint(field length) field varint(value length) value`, repeated. The pair count
//! is kept beside the bytes (HLEN is O(1), as Redis's listpack header makes it). RDB and DUMP
//! still write Redis's listpack bytes (see `persist/rdb/write.rs`); this layout is only how
//! the pairs sit in memory.
//!
//! Every lookup is a linear scan, as Redis's are on a listpack. Must never: panic on its own
//! bytes being cut short (every read is checked), hold a field twice.

/// Pairs of one small hash.
#[derive(Clone, Default)]
pub struct PackedPairs {
    buf: Box<[u8]>,
    len: u32,
}

impl std::fmt::Debug for PackedPairs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(k, v)| (String::from_utf8_lossy(k), String::from_utf8_lossy(v))))
            .finish()
    }
}

fn varint_size(mut v: usize) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

fn put_varint(out: &mut Vec<u8>, mut v: usize) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a varint at `pos`; None when the bytes end first.
fn get_varint(buf: &[u8], mut pos: usize) -> Option<(usize, usize)> {
    let mut v = 0usize;
    let mut shift = 0u32;
    loop {
        let b = *buf.get(pos)?;
        pos += 1;
        v |= usize::from(b & 0x7f).checked_shl(shift)?;
        if b < 0x80 {
            return Some((v, pos));
        }
        shift += 7;
    }
}

/// A string at `pos`: its bytes and the position after it.
fn get_str(buf: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let (n, p) = get_varint(buf, pos)?;
    let end = p.checked_add(n)?;
    Some((buf.get(p..end)?, end))
}

fn encoded_size(s: &[u8]) -> usize {
    varint_size(s.len()) + s.len()
}

/// Where one pair sits: the pair's first byte, its value's first byte (the varint) and the
/// byte after it.
struct Found {
    start: usize,
    value_at: usize,
    end: usize,
}

impl PackedPairs {
    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes allocated for the pairs.
    pub fn heap_size_bytes(&self) -> usize {
        self.buf.len()
    }

    /// The pairs in insertion order.
    pub fn iter(&self) -> Iter<'_> {
        Iter { buf: &self.buf, pos: 0 }
    }

    fn find(&self, field: &[u8]) -> Option<Found> {
        let mut pos = 0;
        while pos < self.buf.len() {
            let (f, value_at) = get_str(&self.buf, pos)?;
            let (_, end) = get_str(&self.buf, value_at)?;
            if f == field {
                return Some(Found { start: pos, value_at, end });
            }
            pos = end;
        }
        None
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        let at = self.find(field)?;
        get_str(&self.buf, at.value_at).map(|(v, _)| v)
    }

    /// The `i`th pair in insertion order.
    pub fn pair_at(&self, i: usize) -> Option<(&[u8], &[u8])> {
        self.iter().nth(i)
    }

    /// Sets `field` to `value`; true when the field is new (appended at the end, keeping
    /// insertion order; an existing field keeps its place).
    pub fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        match self.find(field) {
            Some(at) => {
                let old_size = at.end - at.value_at;
                if old_size == encoded_size(value) {
                    // Same size (the length prefix too): overwrite in place, no allocation.
                    let data_at = at.end - value.len();
                    if let Some(dst) = self.buf.get_mut(data_at..at.end) {
                        dst.copy_from_slice(value);
                    }
                } else {
                    let new_len = self.buf.len() - old_size + encoded_size(value);
                    let mut out = Vec::with_capacity(new_len);
                    out.extend_from_slice(self.buf.get(..at.value_at).unwrap_or_default());
                    put_varint(&mut out, value.len());
                    out.extend_from_slice(value);
                    out.extend_from_slice(self.buf.get(at.end..).unwrap_or_default());
                    self.buf = out.into_boxed_slice();
                }
                false
            }
            None => {
                self.push_unique(field, value);
                true
            }
        }
    }

    /// Appends a pair whose field the caller knows is absent (loading a checked listpack).
    pub fn push_unique(&mut self, field: &[u8], value: &[u8]) {
        debug_assert!(self.find(field).is_none(), "a packed hash got a field twice");
        let mut out = std::mem::take(&mut self.buf).into_vec();
        out.reserve_exact(encoded_size(field) + encoded_size(value));
        put_varint(&mut out, field.len());
        out.extend_from_slice(field);
        put_varint(&mut out, value.len());
        out.extend_from_slice(value);
        self.buf = out.into_boxed_slice();
        self.len += 1;
    }

    /// Removes `field`; true when it was there. The other pairs keep their order.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        let Some(at) = self.find(field) else { return false };
        let mut out = Vec::with_capacity(self.buf.len() - (at.end - at.start));
        out.extend_from_slice(self.buf.get(..at.start).unwrap_or_default());
        out.extend_from_slice(self.buf.get(at.end..).unwrap_or_default());
        self.buf = out.into_boxed_slice();
        self.len -= 1;
        true
    }
}

/// The pairs in order; stops at the first pair that does not parse (none, for bytes this
/// module wrote).
pub struct Iter<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let parsed = get_str(self.buf, self.pos).and_then(|(f, p)| get_str(self.buf, p).map(|(v, end)| (f, v, end)));
        match parsed {
            Some((f, v, end)) => {
                self.pos = end;
                Some((f, v))
            }
            None => {
                self.pos = self.buf.len();
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any edit sequence leaves the pairs equal to a model kept in insertion order,
        /// including strings long enough for multi-byte lengths.
        #[test]
        fn behaves_like_an_ordered_map(ops in proptest::collection::vec(
            (0u8..3, 0u8..12, proptest::collection::vec(any::<u8>(), 0..200)), 0..200)) {
            let mut p = PackedPairs::default();
            let mut model: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
            for (op, f, v) in ops {
                let field = format!("f{f}").into_bytes();
                let pos = model.iter().position(|(k, _)| *k == field);
                match op {
                    0 | 1 => {
                        prop_assert_eq!(p.set(&field, &v), pos.is_none());
                        match pos {
                            Some(i) => model[i].1 = v,
                            None => model.push((field, v)),
                        }
                    }
                    _ => {
                        prop_assert_eq!(p.remove(&field), pos.is_some());
                        if let Some(i) = pos {
                            model.remove(i);
                        }
                    }
                }
                prop_assert_eq!(p.len(), model.len());
            }
            let got: Vec<(Vec<u8>, Vec<u8>)> = p.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
            prop_assert_eq!(&got, &model);
            for (i, (f, v)) in model.iter().enumerate() {
                prop_assert_eq!(p.get(f), Some(&v[..]));
                prop_assert_eq!(p.pair_at(i), Some((&f[..], &v[..])));
            }
            prop_assert_eq!(p.heap_size_bytes(), model.iter().map(|(f, v)| encoded_size(f) + encoded_size(v)).sum::<usize>());
        }
    }

    #[test]
    fn cut_bytes_read_as_fewer_pairs() {
        let mut p = PackedPairs::default();
        p.set(b"field", b"value");
        p.set(b"g", b"w");
        let cut = PackedPairs { buf: p.buf.get(..p.buf.len() - 1).unwrap_or_default().into(), len: 2 };
        assert_eq!(cut.iter().count(), 1);
        assert_eq!(cut.get(b"g"), None);
    }
}
