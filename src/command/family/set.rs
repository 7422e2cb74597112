//! The set family: SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SPOP SRANDMEMBER SMOVE SINTER
//! SINTERCARD SUNION SDIFF SINTERSTORE SUNIONSTORE SDIFFSTORE SSCAN, exact to Redis 7.0.15.
//!
//! This file owns the table and the typed lookups every set command shares (read lookups that
//! count keyspace hits and misses as `lookupKeyRead`, write lookups that do not, both lazily
//! expiring the key and refreshing its access clock). The commands live in `set/`: `members`
//! (single-key reads and writes, SMOVE), `random` (SPOP, SRANDMEMBER), `algebra` (SINTER,
//! SUNION, SDIFF, their STORE forms and SINTERCARD) and `scan` (SSCAN). The data structure and
//! its encodings are in `store::types::set`.
//!
//! Every function here runs on the shard owning its keys (or a coordinator's scratch store for
//! multi-key commands spanning shards) and must never touch sockets, other shards or the clock:
//! time comes from `ctx.now_ms`. Redis never keeps an empty set: a command that empties one
//! deletes its key.

mod algebra;
mod members;
mod random;
mod scan;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_algebra;
#[cfg(test)]
mod tests_events;

pub use algebra::sintercard_keys;

use crate::command::family::keys::access_clock_s;
use crate::command::spec::{flag, spec, CommandSpec, DataCtx, Exec, Split};
use crate::resp::Out;
use crate::store::keyspace::NO_EXPIRE;
use crate::store::types::set::{Member, SetValue};
use crate::store::{Db, Entry, Value};

use flag::{DENYOOM, FAST, MOVABLEKEYS, READONLY, WRITE};

const ACL_READ_FAST: &[&str] = &["@read", "@set", "@fast"];
const ACL_READ_SLOW: &[&str] = &["@read", "@set", "@slow"];
const ACL_WRITE_FAST: &[&str] = &["@write", "@set", "@fast"];
const ACL_WRITE_SLOW: &[&str] = &["@write", "@set", "@slow"];
const ONE_KEY: (i32, i32, i32) = (1, 1, 1);
const ALL_KEYS: (i32, i32, i32) = (1, -1, 1);
const GROUP: &str = "set";
const O1: &str = "O(1)";
const INTER: &str = "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.";
const UNION: &str = "O(N) where N is the total number of elements in all given sets.";

/// `spec` plus the complexity text `COMMAND DOCS` shows.
const fn doc(complexity: &'static str, s: CommandSpec) -> CommandSpec {
    CommandSpec { complexity, ..s }
}

// One command per line reads as a table; rustfmt would spread each over a dozen lines.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    doc("O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", spec("sadd", -3, WRITE | DENYOOM | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "1.0.0", "Add one or more members to a set", Exec::Data(members::sadd), Split::None)),
    doc("O(N) where N is the number of members to be removed.", spec("srem", -3, WRITE | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "1.0.0", "Remove one or more members from a set", Exec::Data(members::srem), Split::None)),
    doc("O(N) where N is the set cardinality.", spec("smembers", 2, READONLY, ONE_KEY, ACL_READ_SLOW, GROUP, "1.0.0", "Get all the members in a set", Exec::Data(algebra::sinter), Split::None)),
    doc(O1, spec("sismember", 3, READONLY | FAST, ONE_KEY, ACL_READ_FAST, GROUP, "1.0.0", "Determine if a given value is a member of a set", Exec::Data(members::sismember), Split::None)),
    doc("O(N) where N is the number of elements being checked for membership", spec("smismember", -3, READONLY | FAST, ONE_KEY, ACL_READ_FAST, GROUP, "6.2.0", "Returns the membership associated with the given elements for a set", Exec::Data(members::smismember), Split::None)),
    doc(O1, spec("scard", 2, READONLY | FAST, ONE_KEY, ACL_READ_FAST, GROUP, "1.0.0", "Get the number of members in a set", Exec::Data(members::scard), Split::None)),
    doc("Without the count argument O(1), otherwise O(N) where N is the value of the passed count.", spec("spop", -2, WRITE | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "1.0.0", "Remove and return one or multiple random members from a set", Exec::Data(random::spop), Split::None)),
    doc("Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.", spec("srandmember", -2, READONLY, ONE_KEY, ACL_READ_SLOW, GROUP, "1.0.0", "Get one or multiple random members from a set", Exec::Data(random::srandmember), Split::None)),
    doc(O1, spec("smove", 4, WRITE | FAST, (1, 2, 1), ACL_WRITE_FAST, GROUP, "1.0.0", "Move a member from one set to another", Exec::Data(members::smove), Split::Atomic)),
    doc(INTER, spec("sinter", -2, READONLY, ALL_KEYS, ACL_READ_SLOW, GROUP, "1.0.0", "Intersect multiple sets", Exec::Data(algebra::sinter), Split::Atomic)),
    CommandSpec { getkeys: Some(sintercard_keys), ..doc(INTER, spec("sintercard", -3, READONLY | MOVABLEKEYS, (0, 0, 0), ACL_READ_SLOW, GROUP, "7.0.0", "Intersect multiple sets and return the cardinality of the result", Exec::Data(algebra::sintercard), Split::Atomic)) },
    doc(UNION, spec("sunion", -2, READONLY, ALL_KEYS, ACL_READ_SLOW, GROUP, "1.0.0", "Add multiple sets", Exec::Data(algebra::sunion), Split::Atomic)),
    doc(UNION, spec("sdiff", -2, READONLY, ALL_KEYS, ACL_READ_SLOW, GROUP, "1.0.0", "Subtract multiple sets", Exec::Data(algebra::sdiff), Split::Atomic)),
    doc(INTER, spec("sinterstore", -3, WRITE | DENYOOM, ALL_KEYS, ACL_WRITE_SLOW, GROUP, "1.0.0", "Intersect multiple sets and store the resulting set in a key", Exec::Data(algebra::sinterstore), Split::Atomic)),
    doc(UNION, spec("sunionstore", -3, WRITE | DENYOOM, ALL_KEYS, ACL_WRITE_SLOW, GROUP, "1.0.0", "Add multiple sets and store the resulting set in a key", Exec::Data(algebra::sunionstore), Split::Atomic)),
    doc(UNION, spec("sdiffstore", -3, WRITE | DENYOOM, ALL_KEYS, ACL_WRITE_SLOW, GROUP, "1.0.0", "Subtract multiple sets and store the resulting set in a key", Exec::Data(algebra::sdiffstore), Split::Atomic)),
    doc("O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..", spec("sscan", -3, READONLY, ONE_KEY, ACL_READ_SLOW, GROUP, "2.8.0", "Incrementally iterate Set elements", Exec::Data(scan::sscan), Split::None)),
];

/// The set under `v`, or None when the key holds another type.
fn set_of(v: &Value) -> Option<&SetValue> {
    match v {
        Value::Set(s) => Some(s),
        _ => None,
    }
}

fn set_of_mut(v: &mut Value) -> Option<&mut SetValue> {
    match v {
        Value::Set(s) => Some(s),
        _ => None,
    }
}

/// `lookupKeyRead` of a set (see `family::lookup_read_as`).
fn read_set<'a>(ctx: &'a mut DataCtx, key: &[u8]) -> Result<Option<&'a mut SetValue>, &'static str> {
    super::lookup_read_as(ctx, key, set_of_mut)
}

/// `lookupKeyWrite` of a set (see `family::lookup_write_as`).
fn write_set<'a>(ctx: &'a mut DataCtx, key: &[u8]) -> Result<Option<&'a mut SetValue>, &'static str> {
    super::lookup_write_as(ctx, key, set_of_mut)
}

/// Looks up every key in order, stopping at the first that holds another type, as Redis's
/// multi-set commands do. Redis 7.0 reads the sources with `lookupKeyRead` in the STORE forms
/// too, so each counts a hit or a miss (and a miss raises `keymiss`). Returns which keys
/// exist; afterwards `peek_set` sees exactly the live ones (the expired ones were just deleted).
fn probe_sets(ctx: &mut DataCtx, keys: &[&[u8]]) -> Result<Vec<bool>, &'static str> {
    let mut present = Vec::with_capacity(keys.len());
    for k in keys {
        present.push(read_set(ctx, k)?.is_some());
    }
    Ok(present)
}

/// The set under `key` without touching expiry or counters (after `probe_sets`).
fn peek_set<'a>(db: &'a Db, key: &[u8]) -> Option<&'a SetValue> {
    db.peek(key).and_then(|e| set_of(&e.value))
}

/// A new key holding `set`, stamped as accessed now, with no TTL.
fn new_entry(ctx: &DataCtx, set: SetValue) -> Entry {
    Entry {
        value: Value::Set(set),
        expire_at_ms: NO_EXPIRE,
        access_s: access_clock_s(ctx.now_ms),
        lfu: crate::store::keyspace::LFU_INIT_VAL,
    }
}

fn max_intset_entries(ctx: &DataCtx) -> usize {
    ctx.cfg.set_max_intset_entries
}

fn reply_member(out: &mut Out, m: Member<'_>) {
    match m {
        Member::Int(n) => out.bulk_int(n),
        Member::Bytes(b) => out.bulk(b),
    }
}

/// Redis compares option words as C strings (`strcasecmp`), so an argument is read up to its
/// first NUL byte.
fn word_is(a: &[u8], w: &str) -> bool {
    let a = a.iter().position(|&b| b == 0).map_or(a, |n| &a[..n]);
    a.eq_ignore_ascii_case(w.as_bytes())
}
