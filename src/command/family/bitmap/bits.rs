//! Single bits and bit ranges: SETBIT, GETBIT, BITCOUNT, BITPOS, and BITOP, which combines
//! whole strings. Argument checks come in Redis's order (for BITCOUNT the key is looked up
//! before its range is parsed, for BITPOS after the bit but before the range), so the same
//! malformed call gets the same reply.

use super::{parse_bit_offset, read_str, string_for_write, word_is, ERR_BIT_OFFSET};
use crate::command::args::parse_i64;
use crate::command::family::keys::access_clock_s;
use crate::command::spec::DataCtx;
use crate::error;
use crate::resp::parse::parse_i64_strict;
use crate::resp::Out;
use crate::store::events::class;
use crate::store::keyspace::NO_EXPIRE;
use crate::store::{Entry, StrValue, Value};

const ERR_BIT_VALUE: &str = "ERR bit is not an integer or out of range";
const ERR_BITPOS_BIT: &str = "ERR The bit argument must be 1 or 0.";
const ERR_BITOP_NOT: &str = "ERR BITOP NOT must be called with a single source key.";

/// SETBIT key offset 0|1: replies the bit's old value. A call that neither creates, grows nor
/// flips anything still makes the string raw, but is no change (no dirty count, no event).
pub fn setbit(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let offset = match parse_bit_offset(args[2], None, ctx.cfg.proto_max_bulk_len_bytes) {
        Ok(o) => o,
        Err(e) => return out.error(e),
    };
    let on = match parse_i64_strict(args[3]) {
        Some(0) => false,
        Some(1) => true,
        _ => return out.error(ERR_BIT_VALUE),
    };
    // The offset's byte is below proto-max-bulk-len, which fits memory and so usize.
    let byte = (offset >> 3) as usize;
    let mask = 0x80u8 >> (offset & 7);
    let (bytes, grown) = match string_for_write(ctx, args[1], byte + 1) {
        Ok(found) => found,
        Err(e) => return out.error(e),
    };
    let Some(b) = bytes.get_mut(byte) else {
        debug_assert!(false, "SETBIT: string shorter than the offset it was grown to");
        return out.error(ERR_BIT_OFFSET);
    };
    let was = *b & mask != 0;
    if grown || was != on {
        if on {
            *b |= mask;
        } else {
            *b &= !mask;
        }
        ctx.notify(class::STRING, "setbit", args[1]);
        ctx.dirty(1);
    }
    out.int(i64::from(was));
}

/// GETBIT key offset: bits past the end of the string (or of a missing key) are 0.
pub fn getbit(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let offset = match parse_bit_offset(args[2], None, ctx.cfg.proto_max_bulk_len_bytes) {
        Ok(o) => o,
        Err(e) => return out.error(e),
    };
    let s = match read_str(ctx, args[1]) {
        Ok(Some(s)) => s,
        Ok(None) => return out.int(0),
        Err(e) => return out.error(e),
    };
    let mut tmp = [0u8; 24];
    let bytes = s.as_bytes(&mut tmp);
    let byte = usize::try_from(offset >> 3).unwrap_or(usize::MAX);
    let set = bytes.get(byte).is_some_and(|b| b & (0x80 >> (offset & 7)) != 0);
    out.int(i64::from(set));
}

/// A range argument pair resolved as BITCOUNT and BITPOS resolve it: negative indexes count
/// from the end, both ends are clamped into the string, and in BIT units the ends are bits.
/// Returns the inclusive bit range, or None when it is empty. `len_bytes` is the string's.
fn bit_range(mut start: i64, mut end: i64, len_bytes: usize, in_bits: bool) -> Option<(u64, u64)> {
    let unit_len = if in_bits { (len_bytes as i64).saturating_mul(8) } else { len_bytes as i64 };
    if start < 0 {
        start = unit_len.saturating_add(start);
    }
    if end < 0 {
        end = unit_len.saturating_add(end);
    }
    start = start.max(0);
    end = end.max(0);
    if end >= unit_len {
        end = unit_len - 1;
    }
    if start > end {
        return None;
    }
    let (start, end) = (start as u64, end as u64);
    Some(if in_bits { (start, end) } else { (start * 8, end * 8 + 7) })
}

/// Counts the set bits of `bytes` within the inclusive bit range `[first, last]`.
fn count_bits(bytes: &[u8], first: u64, last: u64) -> u64 {
    let (b0, b1) = ((first >> 3) as usize, (last >> 3) as usize);
    let Some(span) = bytes.get(b0..=b1) else { return 0 };
    let mut n = popcount(span);
    // Take back the bits of the edge bytes that lie outside the range.
    let head = (first & 7) as u32;
    if let Some(&b) = span.first() {
        if head > 0 {
            n -= u64::from((b >> (8 - head)).count_ones());
        }
    }
    let tail = 7 - (last & 7) as u32;
    if let Some(&b) = span.last() {
        if tail > 0 {
            n -= u64::from((b & ((1u8 << tail) - 1)).count_ones());
        }
    }
    n
}

fn popcount(bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(8);
    let mut n: u64 = 0;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        n += u64::from(u64::from_ne_bytes(w).count_ones());
    }
    n + chunks.remainder().iter().map(|b| u64::from(b.count_ones())).sum::<u64>()
}

/// The first bit equal to `want` within the inclusive bit range `[first, last]` of `bytes`.
fn find_bit(bytes: &[u8], first: u64, last: u64, want: bool) -> Option<u64> {
    // Look at bytes as "bits equal to want are ones".
    let norm = |b: u8| if want { b } else { !b };
    let (b0, b1) = ((first >> 3) as usize, (last >> 3) as usize);
    let span = bytes.get(b0..=b1)?;
    let head_mask = 0xFFu8 >> (first & 7);
    let tail_mask = 0xFFu8 << (7 - (last & 7));
    let hit = |i: usize, m: u8| Some((b0 + i) as u64 * 8 + u64::from(m.leading_zeros()));
    if span.len() == 1 {
        let m = norm(span[0]) & head_mask & tail_mask;
        return if m != 0 { hit(0, m) } else { None };
    }
    let m = norm(span[0]) & head_mask;
    if m != 0 {
        return hit(0, m);
    }
    let inner = &span[1..span.len() - 1];
    let skip = if want { 0x00 } else { 0xFF };
    if let Some(i) = inner.iter().position(|&b| b != skip) {
        return hit(i + 1, norm(inner[i]));
    }
    let m = norm(span[span.len() - 1]) & tail_mask;
    if m != 0 {
        hit(span.len() - 1, m)
    } else {
        None
    }
}

/// BITCOUNT key [start end [BYTE|BIT]].
pub fn bitcount(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let s = match read_str(ctx, args[1]) {
        Ok(Some(s)) => s,
        Ok(None) => return out.int(0),
        Err(e) => return out.error(e),
    };
    let mut tmp = [0u8; 24];
    let bytes = s.as_bytes(&mut tmp);
    let range = match args.len() {
        2 => bit_range(0, -1, bytes.len(), false),
        4 | 5 => {
            let (start, end) = match (parse_i64(args[2]), parse_i64(args[3])) {
                (Ok(s), Ok(e)) => (s, e),
                (Err(e), _) | (_, Err(e)) => return out.error(e),
            };
            // Both ends negative and crossed: empty, before the unit word is even read.
            if start < 0 && end < 0 && start > end {
                return out.int(0);
            }
            let in_bits = match args.get(4) {
                None => false,
                Some(w) if word_is(w, "bit") => true,
                Some(w) if word_is(w, "byte") => false,
                Some(_) => return out.error(error::SYNTAX),
            };
            bit_range(start, end, bytes.len(), in_bits)
        }
        _ => return out.error(error::SYNTAX),
    };
    let n = range.map_or(0, |(first, last)| count_bits(bytes, first, last));
    out.int(n as i64);
}

/// BITPOS key bit [start [end [BYTE|BIT]]]. A missing key is all zeros. Without an explicit
/// end the string counts as followed by zeros, so a search for 0 through all-ones bytes
/// answers the first bit past the string; with an end it answers -1.
pub fn bitpos(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let want = match parse_i64(args[2]) {
        Ok(0) => false,
        Ok(1) => true,
        Ok(_) => return out.error(ERR_BITPOS_BIT),
        Err(e) => return out.error(e),
    };
    let s = match read_str(ctx, args[1]) {
        Ok(Some(s)) => s,
        Ok(None) => return out.int(if want { -1 } else { 0 }),
        Err(e) => return out.error(e),
    };
    let mut tmp = [0u8; 24];
    let bytes = s.as_bytes(&mut tmp);
    let (range, end_given) = match args.len() {
        3 => (bit_range(0, -1, bytes.len(), false), false),
        4..=6 => {
            let start = match parse_i64(args[3]) {
                Ok(v) => v,
                Err(e) => return out.error(e),
            };
            let in_bits = match args.get(5) {
                None => false,
                Some(w) if word_is(w, "bit") => true,
                Some(w) if word_is(w, "byte") => false,
                Some(_) => return out.error(error::SYNTAX),
            };
            let end = match args.get(4).map(|a| parse_i64(a)) {
                None => -1,
                Some(Ok(v)) => v,
                Some(Err(e)) => return out.error(e),
            };
            (bit_range(start, end, bytes.len(), in_bits), args.len() >= 5)
        }
        _ => return out.error(error::SYNTAX),
    };
    let Some((first, last)) = range else { return out.int(-1) };
    let pos = match find_bit(bytes, first, last, want) {
        Some(p) => p as i64,
        None if want || end_given => -1,
        // The first bit after the last byte searched: zero padding.
        None => ((last >> 3) as i64 + 1) * 8,
    };
    out.int(pos);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// BITOP AND|OR|XOR|NOT destkey key [key ...]: missing sources are empty strings and shorter
/// ones are zero-padded. An empty result deletes the destination. The result is stored raw,
/// without a TTL, and its length is the reply.
pub fn bitop(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let op = match args[1] {
        w if word_is(w, "and") => BitOp::And,
        w if word_is(w, "or") => BitOp::Or,
        w if word_is(w, "xor") => BitOp::Xor,
        w if word_is(w, "not") => BitOp::Not,
        _ => return out.error(error::SYNTAX),
    };
    if op == BitOp::Not && args.len() != 4 {
        return out.error(ERR_BITOP_NOT);
    }
    let (dest, sources) = (args[2], &args[3..]);
    // First pass: Redis's lookups, in order (expiry, hit/miss counts, the first WRONGTYPE).
    for key in sources {
        if let Err(e) = read_str(ctx, key) {
            return out.error(e);
        }
    }
    let result = {
        let db = ctx.db();
        let mut ints: Vec<Vec<u8>> = Vec::new();
        let mut srcs: Vec<Option<&[u8]>> = Vec::with_capacity(sources.len());
        let values: Vec<Option<&StrValue>> = sources
            .iter()
            .map(|k| match db.peek(k).map(|e| &e.value) {
                Some(Value::Str(s)) => Some(s),
                _ => None,
            })
            .collect();
        for v in &values {
            if let Some(StrValue::Int(n)) = v {
                ints.push(StrValue::Int(*n).to_vec());
            }
        }
        let mut next_int = ints.iter();
        for v in &values {
            srcs.push(match v {
                None => None,
                Some(StrValue::Int(_)) => next_int.next().map(|b| b.as_slice()),
                Some(StrValue::Bytes { data, .. }) => Some(data.as_slice()),
            });
        }
        combine(op, &srcs)
    };
    let len = result.len();
    if len > 0 {
        let entry = Entry::with(Value::Str(StrValue::from_vec_raw(result)), NO_EXPIRE, access_clock_s(ctx.now_ms));
        // Redis's setKey: a `new` event when the destination did not exist.
        crate::command::family::insert_key(ctx, dest, entry);
        ctx.notify(class::STRING, "set", dest);
        ctx.dirty(1);
    } else if ctx.db().remove(dest).is_some() {
        ctx.notify(class::GENERIC, "del", dest);
        ctx.dirty(1);
    }
    out.int(len as i64);
}

/// The bytes of `op` over `srcs` (None = missing key), as long as the longest source.
fn combine(op: BitOp, srcs: &[Option<&[u8]>]) -> Vec<u8> {
    let max_len = srcs.iter().map(|s| s.map_or(0, <[u8]>::len)).max().unwrap_or(0);
    let byte_at = |s: &Option<&[u8]>, i: usize| s.and_then(|b| b.get(i).copied()).unwrap_or(0);
    let mut res = Vec::with_capacity(max_len);
    let Some((first, rest)) = srcs.split_first() else { return res };
    res.extend((0..max_len).map(|i| byte_at(first, i)));
    match op {
        BitOp::Not => res.iter_mut().for_each(|b| *b = !*b),
        _ => {
            for s in rest {
                for (i, r) in res.iter_mut().enumerate() {
                    let b = byte_at(s, i);
                    match op {
                        BitOp::And => *r &= b,
                        BitOp::Or => *r |= b,
                        _ => *r ^= b,
                    }
                }
            }
        }
    }
    res
}
