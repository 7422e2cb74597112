//! Bitmaps: SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO over string values.
//!
//! This file owns the table and what the commands share: bit offsets parsed with Redis's
//! exact rules (`#n` offsets scaled by the field width, the `proto-max-bulk-len` bound), typed
//! string lookups, and growing a string in place. The commands live in `bitmap/`: `bits`
//! (single bits, counts, searches and BITOP) and `field` (BITFIELD and its overflow rules).
//!
//! Bitmaps are plain strings. An integer-encoded string is read as its decimal text. A string
//! a command writes into becomes `raw`, even when no bit changes, as Redis unshares it before
//! writing. Every function runs on the shard owning its keys (or a coordinator's scratch
//! store) and must never touch sockets, other shards or the clock.

mod bits;
mod field;
#[cfg(test)]
mod tests;

use crate::command::family::keys::access_clock_s;
use crate::command::spec::{flag, spec, CommandSpec, DataCtx, Exec, Split};
use crate::store::keyspace::NO_EXPIRE;
use crate::store::{CompactBytes, Entry, StrValue, Value};

use flag::{DENYOOM, FAST, READONLY, WRITE};

const ACL_READ_FAST: &[&str] = &["@read", "@bitmap", "@fast"];
const ACL_READ_SLOW: &[&str] = &["@read", "@bitmap", "@slow"];
const ACL_WRITE_SLOW: &[&str] = &["@write", "@bitmap", "@slow"];
const ONE_KEY: (i32, i32, i32) = (1, 1, 1);
const GROUP: &str = "bitmap";
const FIELD_CX: &str = "O(1) for each subcommand specified";

/// `spec` plus the complexity text `COMMAND DOCS` shows.
const fn doc(complexity: &'static str, s: CommandSpec) -> CommandSpec {
    CommandSpec { complexity, ..s }
}

// One command per line reads as a table; rustfmt would spread each over a dozen lines.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    doc("O(1)", spec("setbit", 4, WRITE | DENYOOM, ONE_KEY, ACL_WRITE_SLOW, GROUP, "2.2.0", "Sets or clears the bit at offset in the string value stored at key", Exec::Data(bits::setbit), Split::None)),
    doc("O(1)", spec("getbit", 3, READONLY | FAST, ONE_KEY, ACL_READ_FAST, GROUP, "2.2.0", "Returns the bit value at offset in the string value stored at key", Exec::Data(bits::getbit), Split::None)),
    doc("O(N)", spec("bitcount", -2, READONLY, ONE_KEY, ACL_READ_SLOW, GROUP, "2.6.0", "Count set bits in a string", Exec::Data(bits::bitcount), Split::None)),
    doc("O(N)", spec("bitpos", -3, READONLY, ONE_KEY, ACL_READ_SLOW, GROUP, "2.8.7", "Find first bit set or clear in a string", Exec::Data(bits::bitpos), Split::None)),
    doc("O(N)", spec("bitop", -4, WRITE | DENYOOM, (2, -1, 1), ACL_WRITE_SLOW, GROUP, "2.6.0", "Perform bitwise operations between strings", Exec::Data(bits::bitop), Split::Atomic)),
    doc(FIELD_CX, spec("bitfield", -2, WRITE | DENYOOM, ONE_KEY, ACL_WRITE_SLOW, GROUP, "3.2.0", "Perform arbitrary bitfield integer operations on strings", Exec::Data(field::bitfield), Split::None)),
    doc(FIELD_CX, spec("bitfield_ro", -2, READONLY | FAST, ONE_KEY, ACL_READ_FAST, GROUP, "6.0.0", "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD", Exec::Data(field::bitfield_ro), Split::None)),
];

pub(crate) const ERR_BIT_OFFSET: &str = "ERR bit offset is not an integer or out of range";

/// Redis compares option words as C strings, so an argument is read up to its first NUL byte.
fn cstr(a: &[u8]) -> &[u8] {
    a.iter().position(|&b| b == 0).map_or(a, |n| &a[..n])
}

fn word_is(a: &[u8], w: &str) -> bool {
    cstr(a).eq_ignore_ascii_case(w.as_bytes())
}

/// A bit offset as Redis's `getBitOffsetFromArgument` takes it: a strict integer, or with
/// `hash_bits` given, `#n` meaning `n` fields of that width (the product wraps as Redis's
/// does). Negative offsets and offsets whose byte reaches `max_bulk_bytes` are refused.
pub(crate) fn parse_bit_offset(arg: &[u8], hash_bits: Option<u32>, max_bulk_bytes: u64) -> Result<u64, &'static str> {
    let (digits, scale) = match (arg.first(), hash_bits) {
        (Some(b'#'), Some(bits)) => (&arg[1..], Some(bits)),
        _ => (arg, None),
    };
    let mut n = crate::resp::parse::parse_i64_strict(digits).ok_or(ERR_BIT_OFFSET)?;
    if let Some(bits) = scale {
        n = n.wrapping_mul(i64::from(bits));
    }
    if n < 0 || (n as u64 >> 3) >= max_bulk_bytes {
        return Err(ERR_BIT_OFFSET);
    }
    Ok(n as u64)
}

fn str_of(v: &mut Value) -> Option<&mut StrValue> {
    match v {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

/// `lookupKeyRead` of a string. Err is WRONGTYPE.
fn read_str<'a>(ctx: &'a mut DataCtx, key: &[u8]) -> Result<Option<&'a mut StrValue>, &'static str> {
    super::lookup_read_as(ctx, key, str_of)
}

/// The bytes of a string stored in place, for writing (empty for an integer, which callers
/// have turned into bytes first).
fn bytes_mut(s: &mut StrValue) -> &mut [u8] {
    match s {
        StrValue::Bytes { data: CompactBytes::Heap(b), .. } => b,
        StrValue::Bytes { data: CompactBytes::Inline { len, data }, .. } => {
            data.get_mut(..usize::from(*len)).unwrap_or_default()
        }
        StrValue::Int(_) => &mut [],
    }
}

/// Makes `s` a raw string of at least `min_len` bytes, zero-padding it (Redis's
/// `dbUnshareStringValue` + `sdsgrowzero`). Returns whether its length changed.
fn grow_raw(s: &mut StrValue, min_len: usize) -> bool {
    if let StrValue::Bytes { data, raw } = s {
        if data.len() >= min_len {
            *raw = true;
            return false;
        }
    }
    let mut v = match std::mem::replace(s, StrValue::Int(0)) {
        StrValue::Bytes { data: CompactBytes::Heap(b), .. } => b.into_vec(),
        other => other.to_vec(),
    };
    let old_len = v.len();
    if v.len() < min_len {
        // Exact growth: the boxed value keeps no spare capacity.
        v.reserve_exact(min_len - v.len());
        v.resize(min_len, 0);
    }
    *s = StrValue::from_vec_raw(v);
    old_len < min_len
}

/// Redis's `lookupStringForBitCommand`: the string at `key` made raw and at least `min_len`
/// bytes long, created zero-filled when missing. Returns its bytes and whether the key was
/// created or grown. Err is WRONGTYPE.
fn string_for_write<'a>(
    ctx: &'a mut DataCtx,
    key: &[u8],
    min_len: usize,
) -> Result<(&'a mut [u8], bool), &'static str> {
    let now_ms = ctx.now_ms;
    let exists = super::lookup_write_as(ctx, key, str_of)?.is_some();
    if !exists {
        let value = StrValue::from_vec_raw(vec![0; min_len]);
        let entry = Entry::with(Value::Str(value), NO_EXPIRE, access_clock_s(now_ms));
        // Redis's dbAdd: a `new` event.
        super::insert_key(ctx, key, entry);
    }
    let Some(s) = ctx.db().get(key, now_ms).and_then(|e| str_of(&mut e.value)) else {
        debug_assert!(false, "bitmap: string vanished between two lookups");
        return Err(crate::error::WRONGTYPE);
    };
    let grown = grow_raw(s, min_len);
    Ok((bytes_mut(s), grown || !exists))
}
