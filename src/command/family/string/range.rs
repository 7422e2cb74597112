//! Byte-range string commands: APPEND, STRLEN, GETRANGE (and its old name SUBSTR), SETRANGE.
//! A string changed in place (APPEND to an existing key, SETRANGE) becomes `raw`, as in
//! Redis, whatever its length. Both keep the key's TTL.

use super::{check_string_length, lookup_read, lookup_write, new_entry, str_of_mut, Found};
use crate::command::args::parse_i64;
use crate::command::family::insert_key;
use crate::command::spec::DataCtx;
use crate::error;
use crate::resp::Out;
use crate::store::events::class;
use crate::store::keyspace::NO_EXPIRE;
use crate::store::{CompactBytes, StrValue, Value};

/// Takes the bytes out of `s` to be modified, without copying a heap buffer.
fn take_bytes(s: &mut StrValue) -> Vec<u8> {
    match std::mem::replace(s, StrValue::Int(0)) {
        StrValue::Int(n) => StrValue::Int(n).to_vec(),
        StrValue::Bytes { data: CompactBytes::Heap(b), .. } => b.into_vec(),
        StrValue::Bytes { data, .. } => data.to_vec(),
    }
}

pub fn append(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let (key, tail) = (args[1], args[2]);
    let now_ms = ctx.now_ms;
    let cur_len = match lookup_write(ctx, key) {
        None => None,
        Some(e) => match str_of_mut(&mut e.value) {
            None => return out.error(error::WRONGTYPE),
            Some(s) => Some(s.len()),
        },
    };
    let total = match cur_len {
        None => {
            // A new key is stored like SET stores it (int, embstr or raw).
            let e = new_entry(ctx, Value::Str(StrValue::from_bytes(tail)), NO_EXPIRE);
            insert_key(ctx, key, e);
            tail.len()
        }
        Some(cur_len) => {
            if let Err(e) = check_string_length(ctx, cur_len as u64, tail.len() as u64) {
                return out.error(e);
            }
            let Some(s) = ctx.db().get(key, now_ms).and_then(|e| str_of_mut(&mut e.value)) else {
                debug_assert!(false, "APPEND: key vanished between two lookups");
                return out.error(error::WRONGTYPE);
            };
            let mut v = take_bytes(s);
            // Exact growth: the boxed value has no spare capacity to keep, and jemalloc
            // grows a large block in place within its size class instead of copying.
            v.reserve_exact(tail.len());
            v.extend_from_slice(tail);
            let total = v.len();
            *s = StrValue::from_vec_raw(v);
            total
        }
    };
    ctx.notify(class::STRING, "append", key);
    ctx.dirty(1);
    out.int(total as i64);
}

pub fn strlen(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    match lookup_read(ctx, args[1]) {
        Found::Missing => out.int(0),
        Found::WrongType => out.error(error::WRONGTYPE),
        Found::Str(s) => out.int(s.len() as i64),
    }
}

/// The byte range `[start, end]` (negative = from the end, clamped) of a string of `len`
/// bytes, exactly as Redis's `getrangeCommand` computes it; None when empty.
fn clamp_range(mut start: i64, mut end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    if start < 0 && end < 0 && start > end {
        return None;
    }
    if start < 0 {
        start = len.saturating_add(start);
    }
    if end < 0 {
        end = len.saturating_add(end);
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        return None;
    }
    Some((start as usize, end as usize))
}

/// GETRANGE and SUBSTR. Both indexes are parsed before the key is looked up; a missing key
/// is an empty string, not a null.
pub fn getrange(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let (start, end) = match (parse_i64(args[2]), parse_i64(args[3])) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(e), _) | (_, Err(e)) => return out.error(e),
    };
    match lookup_read(ctx, args[1]) {
        Found::Missing => out.bulk(b""),
        Found::WrongType => out.error(error::WRONGTYPE),
        Found::Str(s) => {
            let mut tmp = [0u8; 24];
            let bytes = s.as_bytes(&mut tmp);
            match clamp_range(start, end, bytes.len()).and_then(|(a, b)| bytes.get(a..=b)) {
                Some(part) => out.bulk(part),
                None => out.bulk(b""),
            }
        }
    }
}

/// SETRANGE key offset value: writes `value` at `offset`, zero-padding as needed. An empty
/// value changes nothing (and creates no key) but still answers the length.
pub fn setrange(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let (key, value) = (args[1], args[3]);
    let offset = match parse_i64(args[2]) {
        Ok(o) if o < 0 => return out.error(error::OFFSET_OUT_OF_RANGE),
        Ok(o) => o as u64,
        Err(e) => return out.error(e),
    };
    let now_ms = ctx.now_ms;
    let cur_len = match lookup_write(ctx, key) {
        None => None,
        Some(e) => match str_of_mut(&mut e.value) {
            None => return out.error(error::WRONGTYPE),
            Some(s) => Some(s.len()),
        },
    };
    if value.is_empty() {
        return out.int(cur_len.unwrap_or(0) as i64);
    }
    if let Err(e) = check_string_length(ctx, offset, value.len() as u64) {
        return out.error(e);
    }
    // `check_string_length` bounds offset + len by proto-max-bulk-len, so this fits.
    let offset = offset as usize;
    let end = offset + value.len();
    let mut v = match ctx.db().get(key, now_ms).and_then(|e| str_of_mut(&mut e.value)) {
        Some(s) => take_bytes(s),
        None => Vec::new(),
    };
    if v.len() < end {
        v.resize(end, 0);
    }
    v[offset..end].copy_from_slice(value);
    let total = v.len();
    let new = StrValue::from_vec_raw(v);
    match ctx.db().get(key, now_ms).and_then(|e| str_of_mut(&mut e.value)) {
        Some(s) => *s = new,
        None => {
            let e = new_entry(ctx, Value::Str(new), NO_EXPIRE);
            insert_key(ctx, key, e);
        }
    }
    ctx.notify(class::STRING, "setrange", key);
    ctx.dirty(1);
    out.int(total as i64);
}
