//! Redis's listpack byte format, the one codec for it in the crate: stream nodes live in memory
//! as listpacks (byte for byte what Redis 7.0 builds, so `stream-node-max-bytes` fills a node
//! when it fills Redis's), and RDB files and DUMP payloads carry hashes, sorted sets and list
//! nodes as listpacks. This module owns the element encodings, the backlen, the header (total
//! bytes and count), forward and backward walks and validation of bytes from outside.
//!
//! Layout: `total-bytes u32 LE | count u16 LE (65535 = too many to count) | elements | 0xFF`.
//! An element is `encoding+data | backlen`; backlen is the size of `encoding+data` in 1..=5
//! bytes of seven bits, readable from its last byte backwards. Encodings: `0xxxxxxx` 7-bit
//! uint, `10xxxxxx` string < 64 bytes, `110xxxxx x` 13-bit int, `1110xxxx x` string < 4096
//! bytes, `0xF0 len32` string, `0xF1`..`0xF4` 16/24/32/64-bit ints (little endian). Strings
//! that are canonical 64-bit integers are stored as integers, as Redis's `lpAppend` does.
//!
//! It must never panic on bad bytes: [`for_each`] and [`Listpack::from_bytes`] check every
//! element and refuse what does not parse. Positions handed to [`Listpack`]'s methods are
//! element offsets it produced (`first`, `next`, `prev`, `last`); even a wrong one only gives
//! empty values and stops walks.

/// Header: total bytes and element count.
pub const HEADER_BYTES: usize = 6;
/// The count field's "too many to count" value.
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
    /// The element's bytes (integers as decimal text).
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

/// Size of a backlen field for an element body of `len` bytes. Redis's bounds are strict
/// (`l < 16383` ...): a 16,383-byte body already takes three bytes.
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

/// The integer a listpack stores `s` as, if any (Redis's `lpStringToInt64`: canonical decimal).
pub fn as_int(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    crate::resp::parse::parse_i64_strict(s)
}

/// The element a client string becomes: an integer when it is a canonical 64-bit integer.
pub fn classify(s: &[u8]) -> LpValue<'_> {
    match as_int(s) {
        Some(n) => LpValue::Int(n),
        None => LpValue::Str(s),
    }
}

/// Bytes an integer element takes (encoding + data + backlen).
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

/// Bytes a string element of `len` bytes takes.
fn str_entry_size(len: usize) -> usize {
    let header = match len {
        0..=63 => 1,
        64..=4095 => 2,
        _ => 5,
    };
    header + len + backlen_size(header + len)
}

/// Bytes `s` would take as an element (Redis's estimate for node sizes uses this).
pub fn entry_size(s: &[u8]) -> usize {
    match as_int(s) {
        Some(v) => int_entry_size(v),
        None => str_entry_size(s.len()),
    }
}

fn read_le(b: &[u8]) -> u64 {
    b.iter().rev().fold(0u64, |acc, &x| (acc << 8) | x as u64)
}

/// Size of the body (encoding + data) of the element at `p`; an error naming what is wrong
/// when the encoding is unknown or the body runs past the end of `lp`.
fn body_size(lp: &[u8], p: usize) -> Result<usize, &'static str> {
    let within = |size: Option<usize>, what: &'static str| match size {
        Some(n) if p.checked_add(n).is_some_and(|end| end <= lp.len()) => Ok(n),
        _ => Err(what),
    };
    let byte = |i: usize| lp.get(p.checked_add(i)?).copied();
    let Some(enc) = byte(0) else { return Err("missing terminator") };
    match enc {
        0x00..=0x7F => Ok(1),
        0x80..=0xBF => within(Some(1 + (enc & 0x3f) as usize), "string past the end"),
        0xC0..=0xDF => within(Some(2), "integer past the end"),
        0xE0..=0xEF => {
            let Some(lo) = byte(1) else { return Err("length past the end") };
            within(Some(2 + ((((enc & 0x0f) as usize) << 8) | lo as usize)), "string past the end")
        }
        0xF0 => {
            let Some(l) = p.checked_add(1).and_then(|from| lp.get(from..from.checked_add(4)?)) else {
                return Err("length past the end");
            };
            within((read_le(l) as usize).checked_add(5), "string past the end")
        }
        0xF1 => within(Some(3), "integer past the end"),
        0xF2 => within(Some(4), "integer past the end"),
        0xF3 => within(Some(5), "integer past the end"),
        0xF4 => within(Some(9), "integer past the end"),
        _ => Err("unknown entry encoding"),
    }
}

/// Decodes the backlen whose last byte is at `end` (Redis's `lpDecodeBacklen`: at most five
/// bytes, read until one without the continuation bit).
fn read_backlen(lp: &[u8], end: usize) -> Option<usize> {
    let mut value = 0usize;
    for i in 0..5 {
        let b = *lp.get(end.checked_sub(i)?)?;
        value |= ((b & 0x7f) as usize) << (7 * i);
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The element at `p`; reads past the end give empty strings or zero bytes.
fn decode(lp: &[u8], p: usize) -> LpValue<'_> {
    let Some(&b) = lp.get(p) else {
        return LpValue::Str(&[]);
    };
    let byte = |i: usize| *lp.get(p + i).unwrap_or(&0);
    let le = |n: usize| -> [u8; 8] {
        let mut v = [0u8; 8];
        for (i, x) in v.iter_mut().take(n).enumerate() {
            *x = byte(1 + i);
        }
        v
    };
    let string = |from: usize, len: usize| LpValue::Str(lp.get(p + from..p + from + len).unwrap_or(&[]));
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

/// Why a walk stopped: the bytes are bad, or the caller's function refused an element.
enum WalkError {
    Bad(&'static str),
    Refused(String),
}

/// Checks the header, every element's encoding and backlen, the terminator and the count,
/// calling `f` on every element in order; returns the number of elements.
fn walk<'a>(lp: &'a [u8], mut f: impl FnMut(LpValue<'a>) -> Result<(), String>) -> Result<usize, WalkError> {
    let bad = |what| Err(WalkError::Bad(what));
    let Some(header) = lp.get(..HEADER_BYTES) else { return bad("shorter than its header") };
    if read_le(&header[..4]) as usize != lp.len() {
        return bad("total size does not match its length");
    }
    let count = read_le(&header[4..6]) as u16;
    let mut pos = HEADER_BYTES;
    let mut seen = 0usize;
    while lp.get(pos) != Some(&EOF) {
        let body = body_size(lp, pos).map_err(WalkError::Bad)?;
        // The element's backlen must say its body's size, as Redis's `lpValidateNext` checks.
        let end = pos + body + backlen_size(body);
        if end >= lp.len() || read_backlen(lp, end - 1) != Some(body) {
            return bad("back-length does not match its entry");
        }
        f(decode(lp, pos)).map_err(WalkError::Refused)?;
        seen += 1;
        pos = end;
    }
    if pos + 1 != lp.len() {
        return bad("data after the terminator");
    }
    if count != COUNT_UNKNOWN && count as usize != seen {
        return bad("element count does not match");
    }
    Ok(seen)
}

/// Decodes and validates a whole listpack from outside (an RDB file, a DUMP payload), calling
/// `f` on every element in order; returns the number of elements. Errors from `f` come back
/// as they are.
pub fn for_each<'a>(lp: &'a [u8], f: impl FnMut(LpValue<'a>) -> Result<(), String>) -> Result<usize, String> {
    walk(lp, f).map_err(|e| match e {
        WalkError::Bad(what) => format!("corrupt listpack: {what}"),
        WalkError::Refused(msg) => msg,
    })
}

/// An owned listpack: built by appending (RDB writer, stream nodes) or adopted from outside
/// after validation.
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
        walk(&buf, |_| Ok(())).map_err(|_| "invalid listpack")?;
        Ok(Listpack { buf })
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }
    /// The finished bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
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

    fn header_count(&self) -> u16 {
        match self.buf.get(4..HEADER_BYTES) {
            Some(&[lo, hi]) => u16::from_le_bytes([lo, hi]),
            _ => 0,
        }
    }

    /// Number of elements: the header's count, or a walk when it is too many to count.
    pub fn len(&self) -> usize {
        let count = self.header_count();
        if count != COUNT_UNKNOWN {
            return count as usize;
        }
        std::iter::successors(self.first(), |&p| self.next(p)).count()
    }

    pub fn is_empty(&self) -> bool {
        self.first().is_none()
    }

    fn set_total(&mut self) {
        let total = (self.buf.len() as u32).to_le_bytes();
        self.buf[..4].copy_from_slice(&total);
    }

    fn bump_count(&mut self) {
        let count = self.header_count();
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

    /// Size of the whole element at `p` (body and backlen).
    fn element_size(&self, p: usize) -> Option<usize> {
        let body = body_size(&self.buf, p).ok()?;
        Some(body + backlen_size(body))
    }

    /// The start of the element whose backlen ends just before `end`.
    fn element_before(&self, end: usize) -> Option<usize> {
        if end <= HEADER_BYTES {
            return None;
        }
        let body = read_backlen(&self.buf, end - 1)?;
        let q = end.checked_sub(body.checked_add(backlen_size(body))?)?;
        (q >= HEADER_BYTES).then_some(q)
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
        self.element_before(p)
    }

    /// The last element, None when empty.
    pub fn last(&self) -> Option<usize> {
        self.element_before(self.buf.len().checked_sub(1)?)
    }

    /// The element at `p`.
    pub fn get(&self, p: usize) -> LpValue<'_> {
        decode(&self.buf, p)
    }

    /// The integer at `p` (stream metadata elements).
    pub fn int_at(&self, p: usize) -> i64 {
        self.get(p).int()
    }
}

#[cfg(test)]
mod tests;
