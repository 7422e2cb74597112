//! Redis's listpack byte format, kept live in memory for stream nodes: a stream node *is* a
//! listpack, byte for byte what Redis 7.0 builds, so a node fills up exactly when Redis's does
//! (`stream-node-max-bytes` counts these bytes), memory per entry is Redis's, and the RDB writer
//! can copy nodes out as they are.
//!
//! Layout: `total-bytes u32 LE | count u16 LE (65535 = too many to count) | elements | 0xFF`.
//! An element is `encoding+data | backlen`; backlen is the size of `encoding+data` in 1..=5
//! bytes of seven bits, readable from its last byte backwards. Encodings: `0xxxxxxx` 7-bit
//! uint, `10xxxxxx` string < 64 bytes, `110xxxxx x` 13-bit int, `1110xxxx x` string < 4096
//! bytes, `0xF0 len32` string, `0xF1`..`0xF4` 16/24/32/64-bit ints (little endian). Strings
//! that are canonical 64-bit integers are stored as integers, as Redis's `lpAppend` does.
//!
//! Positions handed to the methods are element offsets this module produced (`first`, `next`,
//! `prev`). Bytes loaded from outside go through `Listpack::from_bytes`, which checks every
//! element; even so no method indexes out of bounds or panics on bad bytes: reads past the end
//! give empty values and walks stop.

/// Header: total bytes and element count.
pub const HEADER_BYTES: usize = 6;
const COUNT_UNKNOWN: u16 = u16::MAX;
const EOF: u8 = 0xFF;

/// One element: listpacks hold integer-looking strings as integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LpValue<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl<'a> LpValue<'a> {
    /// The element's bytes; integers are written as decimal text into `tmp`.
    pub fn as_bytes<'b>(&'b self, tmp: &'b mut [u8; 24]) -> &'b [u8]
    where
        'a: 'b,
    {
        match self {
            LpValue::Int(n) => crate::resp::write::fmt_i64(tmp, *n),
            LpValue::Str(s) => s,
        }
    }
    pub fn to_vec(&self) -> Vec<u8> {
        let mut tmp = [0u8; 24];
        self.as_bytes(&mut tmp).to_vec()
    }
    /// Whether the element equals the string `s` (as Redis compares a field with a master field).
    pub fn eq_bytes(&self, s: &[u8]) -> bool {
        let mut tmp = [0u8; 24];
        self.as_bytes(&mut tmp) == s
    }
    /// The element as an integer; strings that are not canonical integers read as 0 (stream
    /// metadata elements are always written as integers).
    pub fn int(&self) -> i64 {
        match self {
            LpValue::Int(n) => *n,
            LpValue::Str(s) => crate::resp::parse::parse_i64_strict(s).unwrap_or(0),
        }
    }
}

/// Size of a backlen field for an element body of `len` bytes (Redis's `lpEncodeBacklen`).
fn backlen_size(len: usize) -> usize {
    if len <= 127 {
        1
    } else if len < 16_383 {
        2
    } else if len < 2_097_151 {
        3
    } else if len < 268_435_455 {
        4
    } else {
        5
    }
}

fn push_backlen(out: &mut Vec<u8>, len: usize) {
    let n = backlen_size(len);
    // The most significant group comes first without the continuation bit; every later group
    // has it, so a reader starting from the last byte knows when to stop.
    for i in (0..n).rev() {
        let group = ((len >> (7 * i)) & 0x7f) as u8;
        out.push(if i + 1 == n { group } else { group | 0x80 });
    }
}

/// Appends the encoding of integer `v` (body only).
fn push_int_body(out: &mut Vec<u8>, v: i64) {
    if (0..=127).contains(&v) {
        out.push(v as u8);
    } else if (-4096..=4095).contains(&v) {
        let u = (v & 0x1fff) as u16;
        out.push(0xC0 | (u >> 8) as u8);
        out.push(u as u8);
    } else if (-32768..=32767).contains(&v) {
        out.push(0xF1);
        out.extend_from_slice(&(v as i16).to_le_bytes());
    } else if (-8_388_608..=8_388_607).contains(&v) {
        out.push(0xF2);
        out.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
    } else if (i32::MIN as i64..=i32::MAX as i64).contains(&v) {
        out.push(0xF3);
        out.extend_from_slice(&(v as i32).to_le_bytes());
    } else {
        out.push(0xF4);
        out.extend_from_slice(&v.to_le_bytes());
    }
}

fn push_str_body(out: &mut Vec<u8>, s: &[u8]) {
    let n = s.len();
    if n < 64 {
        out.push(0x80 | n as u8);
    } else if n < 4096 {
        out.push(0xE0 | (n >> 8) as u8);
        out.push(n as u8);
    } else {
        out.push(0xF0);
        out.extend_from_slice(&(n as u32).to_le_bytes());
    }
    out.extend_from_slice(s);
}

/// Appends one whole element (body and backlen) holding `v`.
fn push_element(out: &mut Vec<u8>, v: LpValue) {
    let start = out.len();
    match v {
        LpValue::Int(n) => push_int_body(out, n),
        LpValue::Str(s) => push_str_body(out, s),
    }
    let body = out.len() - start;
    push_backlen(out, body);
}

/// The element a client string becomes: an integer when it is a canonical 64-bit integer.
pub fn classify(s: &[u8]) -> LpValue<'_> {
    match crate::resp::parse::parse_i64_strict(s) {
        Some(n) if s.len() <= 20 => LpValue::Int(n),
        _ => LpValue::Str(s),
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct Listpack {
    buf: Vec<u8>,
}

impl std::fmt::Debug for Listpack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Listpack({} bytes)", self.buf.len())
    }
}

impl Default for Listpack {
    fn default() -> Self {
        Self::new()
    }
}

impl Listpack {
    pub fn new() -> Listpack {
        let mut buf = Vec::with_capacity(64);
        buf.extend_from_slice(&[0u8; HEADER_BYTES]);
        buf.push(EOF);
        let mut lp = Listpack { buf };
        lp.set_total();
        lp
    }

    /// Adopts listpack bytes from outside (an RDB file, a DUMP payload) after checking the
    /// header, every element's encoding and backlen, the count and the terminator.
    pub fn from_bytes(buf: Vec<u8>) -> Result<Listpack, &'static str> {
        const BAD: &str = "invalid listpack";
        if buf.len() < HEADER_BYTES + 1 || buf.last() != Some(&EOF) {
            return Err(BAD);
        }
        let total = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        if total != buf.len() {
            return Err(BAD);
        }
        let count = u16::from_le_bytes([buf[4], buf[5]]);
        let lp = Listpack { buf };
        let mut p = HEADER_BYTES;
        let mut n: usize = 0;
        while lp.buf.get(p).is_some_and(|&b| b != EOF) {
            let body = lp.body_size(p).ok_or(BAD)?;
            let end = p.checked_add(body).ok_or(BAD)?;
            let bl = backlen_size(body);
            if end + bl >= lp.buf.len() || lp.read_backlen_ending_at(end + bl - 1) != Some(body) {
                return Err(BAD);
            }
            p = end + bl;
            n += 1;
        }
        if p + 1 != lp.buf.len() || (count != COUNT_UNKNOWN && count as usize != n) {
            return Err(BAD);
        }
        Ok(lp)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }
    /// Total size in bytes (Redis's `lpBytes`).
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }
    pub fn shrink_to_fit(&mut self) {
        self.buf.shrink_to_fit();
    }

    fn set_total(&mut self) {
        let total = (self.buf.len() as u32).to_le_bytes();
        self.buf[..4].copy_from_slice(&total);
    }

    fn bump_count(&mut self) {
        let count = u16::from_le_bytes([self.buf[4], self.buf[5]]);
        if count != COUNT_UNKNOWN {
            self.buf[4..6].copy_from_slice(&(count + 1).to_le_bytes());
        }
    }

    fn append(&mut self, v: LpValue) {
        debug_assert_eq!(self.buf.last(), Some(&EOF), "listpack without terminator");
        self.buf.pop();
        push_element(&mut self.buf, v);
        self.buf.push(EOF);
        self.set_total();
        self.bump_count();
    }

    pub fn append_int(&mut self, v: i64) {
        self.append(LpValue::Int(v));
    }

    /// Appends a client string (stored as an integer when it is one, as `lpAppend` does).
    pub fn append_str(&mut self, s: &[u8]) {
        self.append(classify(s));
    }

    /// Replaces the element at `p` with the integer `v` (Redis's `lpReplaceInteger`): the
    /// bytes after it move when the encoding changes size.
    pub fn replace_int(&mut self, p: usize, v: i64) {
        let Some(old) = self.element_size(p) else {
            debug_assert!(false, "replace at a bad position");
            return;
        };
        let mut enc = Vec::with_capacity(12);
        push_element(&mut enc, LpValue::Int(v));
        self.buf.splice(p..p + old, enc);
        self.set_total();
    }

    /// Size of the body (encoding + data) of the element at `p`, None past the end or on a
    /// bad encoding.
    fn body_size(&self, p: usize) -> Option<usize> {
        let b = *self.buf.get(p)?;
        let size = if b & 0x80 == 0 {
            1
        } else if b & 0xC0 == 0x80 {
            1 + (b & 0x3f) as usize
        } else if b & 0xE0 == 0xC0 {
            2
        } else if b & 0xF0 == 0xE0 {
            2 + (((b & 0x0f) as usize) << 8 | *self.buf.get(p + 1)? as usize)
        } else {
            match b {
                0xF0 => {
                    let l = self.buf.get(p + 1..p + 5)?;
                    5 + u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize
                }
                0xF1 => 3,
                0xF2 => 4,
                0xF3 => 5,
                0xF4 => 9,
                _ => return None,
            }
        };
        (p + size <= self.buf.len()).then_some(size)
    }

    /// Size of the whole element at `p` (body and backlen).
    fn element_size(&self, p: usize) -> Option<usize> {
        let body = self.body_size(p)?;
        Some(body + backlen_size(body))
    }

    /// Decodes the backlen whose last byte is at `end` (Redis's `lpDecodeBacklen`).
    fn read_backlen_ending_at(&self, end: usize) -> Option<usize> {
        let mut val = 0usize;
        let mut shift = 0;
        let mut i = end;
        loop {
            let b = *self.buf.get(i)?;
            val |= ((b & 0x7f) as usize) << shift;
            if b & 0x80 == 0 {
                return Some(val);
            }
            shift += 7;
            if shift > 28 {
                return None;
            }
            i = i.checked_sub(1)?;
        }
    }

    /// The first element, None when empty.
    pub fn first(&self) -> Option<usize> {
        self.buf.get(HEADER_BYTES).is_some_and(|&b| b != EOF).then_some(HEADER_BYTES)
    }

    /// The element after `p`, None at the end.
    pub fn next(&self, p: usize) -> Option<usize> {
        let q = p + self.element_size(p)?;
        self.buf.get(q).is_some_and(|&b| b != EOF).then_some(q)
    }

    /// The element before `p`, None at the start.
    pub fn prev(&self, p: usize) -> Option<usize> {
        if p <= HEADER_BYTES {
            return None;
        }
        let body = self.read_backlen_ending_at(p - 1)?;
        let q = p.checked_sub(body + backlen_size(body))?;
        (q >= HEADER_BYTES).then_some(q)
    }

    /// The last element, None when empty.
    pub fn last(&self) -> Option<usize> {
        let end = self.buf.len().checked_sub(1)?;
        if end <= HEADER_BYTES {
            return None;
        }
        let body = self.read_backlen_ending_at(end - 1)?;
        let q = end.checked_sub(body + backlen_size(body))?;
        (q >= HEADER_BYTES).then_some(q)
    }

    /// The element at `p`.
    pub fn get(&self, p: usize) -> LpValue<'_> {
        let Some(&b) = self.buf.get(p) else {
            return LpValue::Str(&[]);
        };
        let byte = |i: usize| *self.buf.get(p + i).unwrap_or(&0);
        let le = |n: usize| -> [u8; 8] {
            let mut v = [0u8; 8];
            for (i, x) in v.iter_mut().take(n).enumerate() {
                *x = byte(1 + i);
            }
            v
        };
        let string = |from: usize, len: usize| LpValue::Str(self.buf.get(p + from..p + from + len).unwrap_or(&[]));
        if b & 0x80 == 0 {
            LpValue::Int((b & 0x7f) as i64)
        } else if b & 0xC0 == 0x80 {
            string(1, (b & 0x3f) as usize)
        } else if b & 0xE0 == 0xC0 {
            let u = ((b & 0x1f) as i64) << 8 | byte(1) as i64;
            LpValue::Int(if u >= 1 << 12 { u - (1 << 13) } else { u })
        } else if b & 0xF0 == 0xE0 {
            string(2, ((b & 0x0f) as usize) << 8 | byte(1) as usize)
        } else {
            match b {
                0xF0 => {
                    let l = le(4);
                    string(5, u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize)
                }
                0xF1 => {
                    let l = le(2);
                    LpValue::Int(i16::from_le_bytes([l[0], l[1]]) as i64)
                }
                0xF2 => {
                    let l = le(3);
                    // Sign-extend the 24-bit value.
                    LpValue::Int((i32::from_le_bytes([0, l[0], l[1], l[2]]) >> 8) as i64)
                }
                0xF3 => {
                    let l = le(4);
                    LpValue::Int(i32::from_le_bytes([l[0], l[1], l[2], l[3]]) as i64)
                }
                0xF4 => LpValue::Int(i64::from_le_bytes(le(8))),
                _ => LpValue::Str(&[]),
            }
        }
    }

    /// The integer at `p` (stream metadata elements).
    pub fn int_at(&self, p: usize) -> i64 {
        self.get(p).int()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_round_trip_at_every_width() {
        let vals = [
            0,
            1,
            127,
            128,
            -1,
            -4096,
            4095,
            4096,
            -4097,
            32767,
            -32768,
            32768,
            8_388_607,
            -8_388_608,
            8_388_608,
            i32::MAX as i64,
            i32::MIN as i64,
            i32::MAX as i64 + 1,
            i64::MAX,
            i64::MIN,
        ];
        let mut lp = Listpack::new();
        for v in vals {
            lp.append_int(v);
        }
        let mut p = lp.first();
        let mut got = Vec::new();
        while let Some(q) = p {
            got.push(lp.int_at(q));
            p = lp.next(q);
        }
        assert_eq!(got, vals);
        // Backwards too.
        let mut p = lp.last();
        let mut back = Vec::new();
        while let Some(q) = p {
            back.push(lp.int_at(q));
            p = lp.prev(q);
        }
        back.reverse();
        assert_eq!(back, vals);
        assert!(Listpack::from_bytes(lp.as_bytes().to_vec()).is_ok());
    }

    #[test]
    fn strings_and_integer_looking_strings() {
        let mut lp = Listpack::new();
        let long = vec![b'x'; 5000];
        let mid = vec![b'y'; 300];
        for s in [&b"abc"[..], b"123", b"-0", b"007", b"", &mid, &long, b"9223372036854775808"] {
            lp.append_str(s);
        }
        let mut p = lp.first();
        let mut got = Vec::new();
        while let Some(q) = p {
            got.push(lp.get(q));
            p = lp.next(q);
        }
        assert_eq!(got[0], LpValue::Str(b"abc"));
        assert_eq!(got[1], LpValue::Int(123));
        assert_eq!(got[2], LpValue::Str(b"-0"));
        assert_eq!(got[3], LpValue::Str(b"007"));
        assert_eq!(got[4], LpValue::Str(b""));
        assert_eq!(got[5], LpValue::Str(&mid));
        assert_eq!(got[6], LpValue::Str(&long));
        assert_eq!(got[7], LpValue::Str(b"9223372036854775808"));
        assert_eq!(lp.bytes(), lp.as_bytes().len());
        assert!(Listpack::from_bytes(lp.as_bytes().to_vec()).is_ok());
    }

    #[test]
    fn backlen_sizes_follow_redis_boundaries() {
        assert_eq!(backlen_size(127), 1);
        assert_eq!(backlen_size(128), 2);
        assert_eq!(backlen_size(16_382), 2);
        assert_eq!(backlen_size(16_383), 3);
        // An element whose body is exactly 16383 bytes walks both ways.
        let mut lp = Listpack::new();
        lp.append_str(&vec![b'z'; 16_383 - 5]);
        lp.append_int(1);
        let first = lp.first().unwrap();
        let second = lp.next(first).unwrap();
        assert_eq!(lp.prev(second), Some(first));
        assert_eq!(second - first, 16_383 + 3);
    }

    #[test]
    fn replace_changes_width_and_keeps_neighbours() {
        let mut lp = Listpack::new();
        lp.append_int(1);
        lp.append_str(b"field");
        let p = lp.first().unwrap();
        lp.replace_int(p, 200);
        lp.replace_int(p, 70_000);
        assert_eq!(lp.int_at(p), 70_000);
        assert_eq!(lp.get(lp.next(p).unwrap()), LpValue::Str(b"field"));
        lp.replace_int(p, 3);
        assert_eq!(lp.bytes(), 6 + 2 + 7 + 1);
        assert!(Listpack::from_bytes(lp.as_bytes().to_vec()).is_ok());
    }

    #[test]
    fn bad_bytes_are_refused_not_panicked_on() {
        assert!(Listpack::from_bytes(vec![]).is_err());
        assert!(Listpack::from_bytes(vec![7, 0, 0, 0, 0, 0, 0xFF]).is_ok());
        assert!(Listpack::from_bytes(vec![8, 0, 0, 0, 1, 0, 0xF4, 0xFF]).is_err());
        assert!(Listpack::from_bytes(vec![9, 0, 0, 0, 1, 0, 5, 2, 0xFF]).is_err());
        assert!(Listpack::from_bytes(vec![9, 0, 0, 0, 2, 0, 5, 1, 0xFF]).is_err());
    }
}
