//! The HyperLogLog family: PFADD PFCOUNT PFMERGE, and the internal PFDEBUG and PFSELFTEST.
//!
//! A HyperLogLog is a string value holding Redis's byte layout (`store/types/hll.rs`), so
//! GET, SET, DUMP and RDB carry it unchanged. This file owns the table, the typed lookups that
//! tell a valid HyperLogLog string from any other string, and the commands' replies, dirty
//! counts and keyspace events, all as Redis 7.0.15 produces them. PFDEBUG and PFSELFTEST live
//! in `hyperloglog/debug.rs`.
//!
//! Every function here runs on the shard owning its keys (or a coordinator's scratch store)
//! and must never touch sockets, other shards or the clock: time comes from `ctx.now_ms`.
//! Stored values are client bytes (SET can store anything): they are checked, never trusted.

mod debug;
#[cfg(test)]
mod tests;

use crate::command::family::keys::access_clock_s;
use crate::command::family::{insert_key, lookup_read_as, lookup_write_as};
use crate::command::spec::{flag, spec, CommandSpec, DataCtx, Exec, Split};
use crate::resp::Out;
use crate::store::bytes::CompactBytes;
use crate::store::events::class;
use crate::store::keyspace::NO_EXPIRE;
use crate::store::types::hll::{self, Encoding, REGISTERS};
use crate::store::{Entry, StrValue, Value};

use flag::{ADMIN, DENYOOM, FAST, READONLY, WRITE};

const GROUP: &str = "hyperloglog";
const SINCE: &str = "2.8.9";
const ONE_KEY: (i32, i32, i32) = (1, 1, 1);
const ALL_KEYS: (i32, i32, i32) = (1, -1, 1);

/// A string that is not a HyperLogLog (Redis replies with the WRONGTYPE code here too).
pub const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
/// A HyperLogLog whose sparse runs do not add up.
pub const CORRUPT_HLL: &str = "INVALIDOBJ Corrupted HLL object detected";

/// `spec` plus the complexity text `COMMAND DOCS` shows.
const fn doc(complexity: &'static str, s: CommandSpec) -> CommandSpec {
    CommandSpec { complexity, ..s }
}

// One command per line reads as a table; rustfmt would spread each over a dozen lines.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    doc("O(1) to add every element.", spec("pfadd", -2, WRITE | DENYOOM | FAST, ONE_KEY, &["@write", "@hyperloglog", "@fast"], GROUP, SINCE, "Adds the specified elements to the specified HyperLogLog.", Exec::Data(pfadd), Split::None)),
    // Read-only in the table although a single-key call rewrites the cached cardinality (Redis
    // marks its key spec RW and counts that rewrite as a change).
    doc("O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.", spec("pfcount", -2, READONLY, ALL_KEYS, &["@read", "@hyperloglog", "@slow"], GROUP, SINCE, "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).", Exec::Data(pfcount), Split::Atomic)),
    doc("O(N) to merge N HyperLogLogs, but with high constant times.", spec("pfmerge", -2, WRITE | DENYOOM, ALL_KEYS, &["@write", "@hyperloglog", "@slow"], GROUP, SINCE, "Merge N different HyperLogLogs into a single one.", Exec::Data(pfmerge), Split::Atomic)),
    doc("N/A", spec("pfdebug", 3, WRITE | DENYOOM | ADMIN, (2, 2, 1), &["@write", "@hyperloglog", "@admin", "@slow", "@dangerous"], GROUP, SINCE, "Internal commands for debugging HyperLogLog values", Exec::Data(debug::pfdebug), Split::None)),
    doc("N/A", spec("pfselftest", 1, ADMIN, (0, 0, 0), &["@hyperloglog", "@admin", "@slow", "@dangerous"], GROUP, SINCE, "An internal command for testing HyperLogLog values", Exec::Data(debug::pfselftest), Split::None)),
];

fn str_of_mut(v: &mut Value) -> Option<&mut StrValue> {
    match v {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

/// The bytes of a string Redis accepts as a HyperLogLog, with its encoding. Integer-encoded
/// strings never are (Redis checks for a byte-string encoding first).
fn hll_of(s: &StrValue) -> Option<(&[u8], Encoding)> {
    match s {
        StrValue::Bytes { data, .. } => hll::check(data).map(|e| (data.as_slice(), e)),
        StrValue::Int(_) => None,
    }
}

/// Moves the bytes out of a string value to edit them; `put_back` stores them again. A heap
/// value moves without copying.
fn take_bytes(s: &mut StrValue) -> Vec<u8> {
    match std::mem::replace(s, StrValue::Int(0)) {
        StrValue::Bytes { data: CompactBytes::Heap(b), .. } => b.into_vec(),
        other => other.to_vec(),
    }
}

/// Stores edited HyperLogLog bytes. Redis edits such values in a private (`raw`) copy, which
/// is what OBJECT ENCODING reports from then on.
fn put_back(s: &mut StrValue, bytes: Vec<u8>) {
    *s = StrValue::Bytes { data: CompactBytes::from_vec(bytes), raw: true };
}

/// Marks a string as edited in place without changing its bytes (Redis unshares the value
/// before it knows whether it will write).
fn mark_raw(s: &mut StrValue) {
    if let StrValue::Bytes { raw, .. } = s {
        *raw = true;
    }
}

fn new_entry(ctx: &DataCtx, bytes: Vec<u8>) -> Entry {
    Entry {
        value: Value::Str(StrValue::Bytes { data: CompactBytes::from_vec(bytes), raw: true }),
        expire_at_ms: NO_EXPIRE,
        access_s: access_clock_s(ctx.now_ms),
        lfu: crate::store::keyspace::LFU_INIT_VAL,
    }
}

/// Adds `elements` to `hll`, counting changed registers on top of `changes`. The cache is
/// marked stale only when something changed and no element hit a corrupt value, as in Redis.
fn add_all(
    hll: &mut Vec<u8>,
    elements: &[&[u8]],
    sparse_max_bytes: usize,
    mut changes: u64,
) -> Result<u64, &'static str> {
    for e in elements {
        if hll::add(hll, e, sparse_max_bytes).map_err(|_| CORRUPT_HLL)? {
            changes += 1;
        }
    }
    if changes > 0 {
        hll::invalidate_cache(hll);
    }
    Ok(changes)
}

/// PFADD key [element ...]: 1 when the key was created or a register grew, else 0.
fn pfadd(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let key = args[1];
    let elements = args.get(2..).unwrap_or_default();
    let sparse_max_bytes = ctx.cfg.hll_sparse_max_bytes;
    let changes = match lookup_write_as(ctx, key, str_of_mut) {
        Err(e) => Err(e),
        Ok(Some(s)) => {
            if hll_of(s).is_none() {
                Err(NOT_HLL)
            } else {
                let mut bytes = take_bytes(s);
                let r = add_all(&mut bytes, elements, sparse_max_bytes, 0);
                put_back(s, bytes);
                r
            }
        }
        Ok(None) => {
            // Creating the key counts as a change even with no elements.
            let mut bytes = hll::new_sparse();
            let r = add_all(&mut bytes, elements, sparse_max_bytes, 1);
            let entry = new_entry(ctx, bytes);
            insert_key(ctx, key, entry);
            r
        }
    };
    match changes {
        Err(e) => out.error(e),
        Ok(n) => {
            if n > 0 {
                ctx.dirty(n);
                ctx.notify(class::STRING, "pfadd", key);
            }
            out.int(i64::from(n > 0));
        }
    }
}

/// PFCOUNT key [key ...]: the estimated cardinality of one HyperLogLog (served from, or
/// written to, its cached cardinality) or of the union of several (never cached).
fn pfcount(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    if args.len() > 2 {
        let mut max = Box::new([0u8; REGISTERS]);
        match merge_keys(ctx, args.get(1..).unwrap_or_default(), &mut max) {
            Err(e) => out.error(e),
            Ok(_) => out.int(hll::count_registers(&max) as i64),
        }
        return;
    }
    let key = args[1];
    let counted = match lookup_read_as(ctx, key, str_of_mut) {
        Err(e) => Err(e),
        Ok(None) => Ok((0, false)),
        Ok(Some(s)) => match hll_of(s).map(|(bytes, _)| hll::cached_card(bytes)) {
            None => Err(NOT_HLL),
            Some(Some(card)) => {
                mark_raw(s);
                Ok((card, false))
            }
            Some(None) => {
                let mut bytes = take_bytes(s);
                let r = hll::count(&bytes).map_err(|_| CORRUPT_HLL);
                if let Ok(card) = r {
                    hll::set_cached_card(&mut bytes, card);
                }
                put_back(s, bytes);
                r.map(|card| (card, true))
            }
        },
    };
    match counted {
        Err(e) => out.error(e),
        Ok((card, recomputed)) => {
            // Redis counts the cache rewrite as a change so it reaches replicas and the AOF.
            if recomputed {
                ctx.dirty(1);
            }
            out.int(card as i64);
        }
    }
}

/// Folds the HyperLogLogs under `keys` into `max` (missing keys are empty). Returns whether
/// any of them is dense. Stops at the first key that is not a HyperLogLog or is corrupt.
fn merge_keys(ctx: &mut DataCtx, keys: &[&[u8]], max: &mut [u8; REGISTERS]) -> Result<bool, &'static str> {
    let mut any_dense = false;
    for key in keys {
        let Some(s) = lookup_read_as(ctx, key, str_of_mut)? else {
            continue;
        };
        let (bytes, encoding) = hll_of(s).ok_or(NOT_HLL)?;
        any_dense |= encoding == Encoding::Dense;
        hll::merge_into(max, bytes).map_err(|_| CORRUPT_HLL)?;
    }
    Ok(any_dense)
}

/// PFMERGE destkey [sourcekey ...]: the register-wise maximum of every key (the destination
/// included) written to the destination, dense as soon as one input is dense.
fn pfmerge(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let key = args[1];
    let mut max = Box::new([0u8; REGISTERS]);
    let use_dense = match merge_keys(ctx, args.get(1..).unwrap_or_default(), &mut max) {
        Ok(d) => d,
        Err(e) => {
            out.error(e);
            return;
        }
    };
    let sparse_max_bytes = ctx.cfg.hll_sparse_max_bytes;
    let written = match lookup_write_as(ctx, key, str_of_mut) {
        Err(e) => Err(e),
        Ok(Some(s)) => {
            // The destination was checked as one of the inputs above.
            let mut bytes = take_bytes(s);
            let r = write_max(&mut bytes, &max, use_dense, sparse_max_bytes);
            put_back(s, bytes);
            r
        }
        Ok(None) => {
            let mut bytes = hll::new_sparse();
            let r = write_max(&mut bytes, &max, use_dense, sparse_max_bytes);
            let entry = new_entry(ctx, bytes);
            insert_key(ctx, key, entry);
            r
        }
    };
    match written {
        Err(e) => out.error(e),
        Ok(()) => {
            ctx.dirty(1);
            // Redis reports a merge as a PFADD: in effect it adds many elements at once.
            ctx.notify(class::STRING, "pfadd", key);
            out.ok();
        }
    }
}

/// Raises the registers of `hll` to `max`, register by register in index order (so a sparse
/// destination splits, merges and promotes exactly as Redis's), then marks the cache stale.
fn write_max(
    hll: &mut Vec<u8>,
    max: &[u8; REGISTERS],
    to_dense: bool,
    sparse_max_bytes: usize,
) -> Result<(), &'static str> {
    if to_dense {
        hll::to_dense(hll).map_err(|_| CORRUPT_HLL)?;
    }
    for (i, &m) in max.iter().enumerate() {
        if m != 0 {
            // Redis ignores a failure here: the inputs were validated while merging.
            let _ = hll::set_register(hll, i, m, sparse_max_bytes);
        }
    }
    hll::invalidate_cache(hll);
    Ok(())
}
