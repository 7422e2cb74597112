//! Redis's listpack byte format, as RDB files and DUMP payloads carry it (hash, zset and list
//! nodes since Redis 7.0). Our in-memory small encodings are our own layouts; this module
//! converts to and from the wire format only.
//!
//! Layout: `total-bytes u32 LE | count u16 LE (65535 = unknown) | entries | 0xFF`. Each entry is
//! `encoding+data | backlen`, where backlen is the size of `encoding+data` in 1..=5 bytes, seven
//! bits per byte, written so it can be read from its last byte backwards. Encodings:
//! `0xxxxxxx` 7-bit uint, `10xxxxxx` string up to 63 bytes, `110xxxxx x` 13-bit int,
//! `1110xxxx x` string up to 4095 bytes, `0xF0 len32` string, `0xF1..0xF4` 16/24/32/64-bit int.
//!
//! The reader validates everything (sizes, backlens, count, terminator) and never panics.

/// Header size: total bytes and count.
pub const HEADER_BYTES: usize = 6;
/// The count field's "too many to count" value.
const COUNT_UNKNOWN: u16 = u16::MAX;
const END: u8 = 0xFF;

/// One listpack element: listpacks store integer-looking strings as integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl Item<'_> {
    /// The element's bytes (integers as decimal text).
    pub fn to_vec(self) -> Vec<u8> {
        match self {
            Item::Int(n) => n.to_string().into_bytes(),
            Item::Str(s) => s.to_vec(),
        }
    }
}

/// Bytes of the backlen field for an entry of `len` bytes.
fn backlen_size(len: usize) -> usize {
    match len {
        // Redis's bounds are strict (`l < 16383` ...): 16,383 already takes three bytes.
        0..=127 => 1,
        128..=16_382 => 2,
        16_383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    }
}

fn put_backlen(out: &mut Vec<u8>, len: usize) {
    let n = backlen_size(len);
    // Most significant group first and unflagged; each later group has the high bit set, so a
    // backward reader knows to continue to the left.
    for i in (0..n).rev() {
        let group = ((len >> (7 * i)) & 0x7f) as u8;
        out.push(if i + 1 == n { group } else { group | 0x80 });
    }
}

/// Bytes an integer entry takes (encoding + data + backlen).
fn int_entry_size(v: i64) -> usize {
    let body = match v {
        0..=127 => 1,
        -4096..=4095 => 2,
        -32_768..=32_767 => 3,
        -8_388_608..=8_388_607 => 4,
        v if i32::try_from(v).is_ok() => 5,
        _ => 9,
    };
    body + 1
}

/// Bytes a string entry of `len` bytes takes.
fn str_entry_size(len: usize) -> usize {
    let header = match len {
        0..=63 => 1,
        64..=4095 => 2,
        _ => 5,
    };
    header + len + backlen_size(header + len)
}

/// The integer a listpack stores `s` as, if any (Redis's `lpStringToInt64`: canonical decimal).
pub fn as_int(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    crate::resp::parse::parse_i64_strict(s)
}

/// Bytes `s` would take as a listpack entry (Redis's estimate for node sizes uses this).
pub fn entry_size(s: &[u8]) -> usize {
    match as_int(s) {
        Some(v) => int_entry_size(v),
        None => str_entry_size(s.len()),
    }
}

/// Builds a listpack in Redis's byte format.
pub struct Builder {
    buf: Vec<u8>,
    count: usize,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    pub fn new() -> Self {
        let mut buf = Vec::with_capacity(64);
        buf.extend_from_slice(&[0; HEADER_BYTES]);
        Builder { buf, count: 0 }
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Size the listpack would have if finished now.
    pub fn bytes(&self) -> usize {
        self.buf.len() + 1
    }

    /// Appends `s`, stored as an integer when it is one (as Redis's `lpAppend`).
    pub fn push(&mut self, s: &[u8]) {
        match as_int(s) {
            Some(v) => self.push_int(v),
            None => self.push_str(s),
        }
    }

    pub fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        let b = &mut self.buf;
        match v {
            0..=127 => b.push(v as u8),
            -4096..=4095 => {
                let u = (v as u64) & 0x1fff;
                b.push(0xC0 | (u >> 8) as u8);
                b.push(u as u8);
            }
            -32_768..=32_767 => {
                b.push(0xF1);
                b.extend_from_slice(&(v as i16).to_le_bytes());
            }
            -8_388_608..=8_388_607 => {
                b.push(0xF2);
                b.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            }
            v if i32::try_from(v).is_ok() => {
                b.push(0xF3);
                b.extend_from_slice(&(v as i32).to_le_bytes());
            }
            _ => {
                b.push(0xF4);
                b.extend_from_slice(&v.to_le_bytes());
            }
        }
        let len = self.buf.len() - start;
        put_backlen(&mut self.buf, len);
        self.count += 1;
    }

    /// Appends `s` as a string entry, whatever it looks like.
    pub fn push_str(&mut self, s: &[u8]) {
        let start = self.buf.len();
        let b = &mut self.buf;
        let n = s.len();
        if n <= 63 {
            b.push(0x80 | n as u8);
        } else if n <= 4095 {
            b.push(0xE0 | (n >> 8) as u8);
            b.push(n as u8);
        } else {
            b.push(0xF0);
            b.extend_from_slice(&(n as u32).to_le_bytes());
        }
        b.extend_from_slice(s);
        let len = self.buf.len() - start;
        put_backlen(&mut self.buf, len);
        self.count += 1;
    }

    /// The finished listpack.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(END);
        let total = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&total.to_le_bytes());
        let count = u16::try_from(self.count).unwrap_or(COUNT_UNKNOWN);
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

fn read_le(b: &[u8]) -> u64 {
    b.iter().rev().fold(0u64, |acc, &x| (acc << 8) | x as u64)
}

/// Reads the backlen that ends just before `end`; returns the entry length it encodes and the
/// backlen's size.
fn read_backlen(lp: &[u8], end: usize) -> Option<(usize, usize)> {
    let mut value = 0usize;
    for i in 0..5 {
        let b = *lp.get(end.checked_sub(i + 1)?)?;
        value |= ((b & 0x7f) as usize) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// Decodes and validates a whole listpack, calling `f` on every element in order.
pub fn for_each<'a>(lp: &'a [u8], mut f: impl FnMut(Item<'a>) -> Result<(), String>) -> Result<usize, String> {
    let bad = |what: &str| Err(format!("corrupt listpack: {what}"));
    let Some(header) = lp.get(..HEADER_BYTES) else { return bad("shorter than its header") };
    let total = read_le(&header[..4]) as usize;
    if total != lp.len() {
        return bad("total size does not match its length");
    }
    let count = read_le(&header[4..6]) as u16;
    let mut pos = HEADER_BYTES;
    let mut seen = 0usize;
    loop {
        let Some(&enc) = lp.get(pos) else { return bad("missing terminator") };
        if enc == END {
            break;
        }
        let take = |from: usize, n: usize| lp.get(from..from.checked_add(n)?);
        let (item, body) = match enc {
            0x00..=0x7F => (Item::Int(enc as i64), 1),
            0x80..=0xBF => {
                let n = (enc & 0x3f) as usize;
                let Some(s) = take(pos + 1, n) else { return bad("string past the end") };
                (Item::Str(s), 1 + n)
            }
            0xC0..=0xDF => {
                let Some(lo) = lp.get(pos + 1) else { return bad("integer past the end") };
                let u = (((enc & 0x1f) as i64) << 8) | *lo as i64;
                (Item::Int(if u >= 1 << 12 { u - (1 << 13) } else { u }), 2)
            }
            0xE0..=0xEF => {
                let Some(lo) = lp.get(pos + 1) else { return bad("length past the end") };
                let n = (((enc & 0x0f) as usize) << 8) | *lo as usize;
                let Some(s) = take(pos + 2, n) else { return bad("string past the end") };
                (Item::Str(s), 2 + n)
            }
            0xF0 => {
                let Some(l) = take(pos + 1, 4) else { return bad("length past the end") };
                let n = read_le(l) as usize;
                let Some(s) = take(pos + 5, n) else { return bad("string past the end") };
                (Item::Str(s), 5 + n)
            }
            0xF1..=0xF4 => {
                let width = match enc {
                    0xF1 => 2,
                    0xF2 => 3,
                    0xF3 => 4,
                    _ => 8,
                };
                let Some(d) = take(pos + 1, width) else { return bad("integer past the end") };
                let raw = read_le(d);
                let shift = 64 - 8 * width as u32;
                // Sign-extend from the stored width.
                let v = ((raw << shift) as i64) >> shift;
                (Item::Int(v), 1 + width)
            }
            _ => return bad("unknown entry encoding"),
        };
        let bl = backlen_size(body);
        let entry_end = pos + body + bl;
        match read_backlen(lp, entry_end) {
            Some((len, size)) if len == body && size == bl && entry_end < lp.len() => {}
            _ => return bad("back-length does not match its entry"),
        }
        f(item)?;
        seen += 1;
        pos = entry_end;
    }
    if pos + 1 != lp.len() {
        return bad("data after the terminator");
    }
    if count != COUNT_UNKNOWN && count as usize != seen {
        return bad("element count does not match");
    }
    Ok(seen)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn same_bytes_as_redis() {
        // `RPUSH l a b 1` saved by redis-server 7.0.15: one quicklist node.
        let mut b = Builder::new();
        for s in [&b"a"[..], b"b", b"1"] {
            b.push(s);
        }
        let want = [0x0f, 0, 0, 0, 3, 0, 0x81, b'a', 2, 0x81, b'b', 2, 0x01, 0x01, 0xff];
        assert_eq!(b.finish(), want);
    }

    #[test]
    fn every_encoding_round_trips() {
        let ints = [0i64, 127, 128, -1, -4096, 4095, 4096, -32768, 32767, 40000, -8_388_608, 8_388_607, 1 << 30];
        let ints2 = [i32::MIN as i64, i32::MAX as i64, i64::MIN, i64::MAX, 1 << 40];
        let strs: Vec<Vec<u8>> = [0usize, 1, 63, 64, 127, 128, 4095, 4096, 20000]
            .iter()
            .map(|&n| (0..n).map(|i| b'a' + (i % 26) as u8).collect())
            .collect();
        let mut b = Builder::new();
        for v in ints.iter().chain(&ints2) {
            b.push_int(*v);
        }
        for s in &strs {
            b.push_str(s);
        }
        let lp = b.finish();
        let mut got = Vec::new();
        for_each(&lp, |it| {
            got.push(it.to_vec());
            Ok(())
        })
        .unwrap();
        let want: Vec<Vec<u8>> =
            ints.iter().chain(&ints2).map(|v| v.to_string().into_bytes()).chain(strs.iter().cloned()).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn estimate_matches_encoding() {
        for s in [&b"0"[..], b"-5000", b"123456789012", b"abc", &[b'x'; 200]] {
            let mut b = Builder::new();
            b.push(s);
            assert_eq!(b.bytes(), HEADER_BYTES + 1 + entry_size(s), "{s:?}");
        }
    }

    proptest! {
        #[test]
        fn decoding_never_panics(data in proptest::collection::vec(any::<u8>(), 0..100)) {
            let _ = for_each(&data, |_| Ok(()));
        }

        #[test]
        fn flipped_bytes_never_panic(pos in 0usize..40, byte in any::<u8>()) {
            let mut b = Builder::new();
            for s in [&b"hello"[..], b"12", b"-7000", b"world!"] {
                b.push(s);
            }
            let mut lp = b.finish();
            if let Some(x) = lp.get_mut(pos) {
                *x = byte;
            }
            let _ = for_each(&lp, |_| Ok(()));
        }
    }
}
