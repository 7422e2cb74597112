//! The hash family: HSET HSETNX HGET HMGET HMSET HGETALL HDEL HEXISTS HLEN HSTRLEN HKEYS HVALS
//! HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN, exact to Redis 7.0.15.
//!
//! This file owns the table and the typed lookups every hash command shares (read lookups that
//! count keyspace hits and misses, write lookups that create the hash on demand as Redis's
//! `hashTypeLookupWriteOrCreate` does, and never leave an empty hash behind). The commands live
//! in `hash/`: `read` (field and whole-hash reads), `write` (HSET family, HDEL, HINCRBY*),
//! `random` (HRANDFIELD) and `scan` (HSCAN). The data structure and its encodings are in
//! `store::types::hash`.
//!
//! Every function here runs on the shard owning its key (or a coordinator's scratch store)
//! and must never touch sockets, other shards or the clock: time comes from `ctx.now_ms`.

mod random;
mod read;
mod scan;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_events;
mod write;

use crate::command::family::keys::access_clock_s;
use crate::command::spec::{flag, spec, CommandSpec, DataCtx, Exec, Split};
use crate::store::keyspace::NO_EXPIRE;
use crate::store::types::hash::{HashLimits, HashValue};
use crate::store::{Entry, Value};

use flag::{DENYOOM, FAST, READONLY, WRITE};

const ACL_READ_FAST: &[&str] = &["@read", "@hash", "@fast"];
const ACL_READ_SLOW: &[&str] = &["@read", "@hash", "@slow"];
const ACL_WRITE_FAST: &[&str] = &["@write", "@hash", "@fast"];
const ONE_KEY: (i32, i32, i32) = (1, 1, 1);
const GROUP: &str = "hash";
const O1: &str = "O(1)";
const ON_SIZE: &str = "O(N) where N is the size of the hash.";

/// `spec` plus the complexity text `COMMAND DOCS` shows.
const fn doc(complexity: &'static str, s: CommandSpec) -> CommandSpec {
    CommandSpec { complexity, ..s }
}

// One command per line reads as a table; rustfmt would spread each over a dozen lines.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    doc("O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.", spec("hset", -4, WRITE | DENYOOM | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "2.0.0", "Set the string value of a hash field", Exec::Data(write::hset), Split::None)),
    doc(O1, spec("hsetnx", 4, WRITE | DENYOOM | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "2.0.0", "Set the value of a hash field, only if the field does not exist", Exec::Data(write::hsetnx), Split::None)),
    doc(O1, spec("hget", 3, READONLY | FAST, ONE_KEY, ACL_READ_FAST, GROUP, "2.0.0", "Get the value of a hash field", Exec::Data(read::hget), Split::None)),
    doc("O(N) where N is the number of fields being requested.", spec("hmget", -3, READONLY | FAST, ONE_KEY, ACL_READ_FAST, GROUP, "2.0.0", "Get the values of all the given hash fields", Exec::Data(read::hmget), Split::None)),
    doc("O(N) where N is the number of fields being set.", spec("hmset", -4, WRITE | DENYOOM | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "2.0.0", "Set multiple hash fields to multiple values", Exec::Data(write::hmset), Split::None)),
    doc(ON_SIZE, spec("hgetall", 2, READONLY, ONE_KEY, ACL_READ_SLOW, GROUP, "2.0.0", "Get all the fields and values in a hash", Exec::Data(read::hgetall), Split::None)),
    doc("O(N) where N is the number of fields to be removed.", spec("hdel", -3, WRITE | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "2.0.0", "Delete one or more hash fields", Exec::Data(write::hdel), Split::None)),
    doc(O1, spec("hexists", 3, READONLY | FAST, ONE_KEY, ACL_READ_FAST, GROUP, "2.0.0", "Determine if a hash field exists", Exec::Data(read::hexists), Split::None)),
    doc(O1, spec("hlen", 2, READONLY | FAST, ONE_KEY, ACL_READ_FAST, GROUP, "2.0.0", "Get the number of fields in a hash", Exec::Data(read::hlen), Split::None)),
    doc(O1, spec("hstrlen", 3, READONLY | FAST, ONE_KEY, ACL_READ_FAST, GROUP, "3.2.0", "Get the length of the value of a hash field", Exec::Data(read::hstrlen), Split::None)),
    doc(ON_SIZE, spec("hkeys", 2, READONLY, ONE_KEY, ACL_READ_SLOW, GROUP, "2.0.0", "Get all the fields in a hash", Exec::Data(read::hkeys), Split::None)),
    doc(ON_SIZE, spec("hvals", 2, READONLY, ONE_KEY, ACL_READ_SLOW, GROUP, "2.0.0", "Get all the values in a hash", Exec::Data(read::hvals), Split::None)),
    doc(O1, spec("hincrby", 4, WRITE | DENYOOM | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "2.0.0", "Increment the integer value of a hash field by the given number", Exec::Data(write::hincrby), Split::None)),
    doc(O1, spec("hincrbyfloat", 4, WRITE | DENYOOM | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "2.6.0", "Increment the float value of a hash field by the given amount", Exec::Data(write::hincrbyfloat), Split::None)),
    doc("O(N) where N is the number of fields returned", spec("hrandfield", -2, READONLY, ONE_KEY, ACL_READ_SLOW, GROUP, "6.2.0", "Get one or multiple random fields from a hash", Exec::Data(random::hrandfield), Split::None)),
    doc("O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..", spec("hscan", -3, READONLY, ONE_KEY, ACL_READ_SLOW, GROUP, "2.8.0", "Incrementally iterate hash fields and associated values", Exec::Data(scan::hscan), Split::None)),
];

/// The key holds another type: the caller replies WRONGTYPE.
struct WrongType;

/// The listpack limits from the config in force.
fn limits(ctx: &DataCtx) -> HashLimits {
    HashLimits {
        max_listpack_entries: ctx.cfg.hash_max_listpack_entries,
        max_listpack_value_bytes: ctx.cfg.hash_max_listpack_value_bytes,
    }
}

fn hash_of(v: &Value) -> Option<&HashValue> {
    match v {
        Value::Hash(h) => Some(h),
        _ => None,
    }
}

fn hash_of_mut(v: &mut Value) -> Option<&mut HashValue> {
    match v {
        Value::Hash(h) => Some(h),
        _ => None,
    }
}

/// Redis's `lookupKeyRead` for a hash: lazy expiry, a keyspace hit or miss (INFO
/// `keyspace_hits`/`keyspace_misses`, a miss raising `keymiss`), the access clock refreshed,
/// and the type checked.
fn read_hash<'a>(ctx: &'a mut DataCtx, key: &[u8]) -> Result<Option<&'a HashValue>, WrongType> {
    let now_ms = ctx.now_ms;
    let lfu = crate::store::keyspace::Lfu::of(ctx.cfg);
    let store = &mut *ctx.store;
    let Some(db) = store.dbs.get_mut(ctx.dbi) else { return Ok(None) };
    match db.get(key, now_ms) {
        None => {
            store.keyspace_misses += 1;
            super::keymiss(&mut store.events, ctx.cfg.notify_keyspace_events, ctx.dbi, key);
            Ok(None)
        }
        Some(e) => {
            store.keyspace_hits += 1;
            e.touch(now_ms, lfu);
            hash_of(&e.value).map(Some).ok_or(WrongType)
        }
    }
}

/// Redis's `lookupKeyWrite` for a hash: lazy expiry and the access clock, no hit/miss counts.
fn write_hash<'a>(ctx: &'a mut DataCtx, key: &[u8]) -> Result<Option<&'a mut HashValue>, WrongType> {
    let now_ms = ctx.now_ms;
    let lfu = crate::store::keyspace::Lfu::of(ctx.cfg);
    match ctx.db().get(key, now_ms) {
        None => Ok(None),
        Some(e) => {
            e.touch(now_ms, lfu);
            hash_of_mut(&mut e.value).map(Some).ok_or(WrongType)
        }
    }
}

/// Redis's `hashTypeLookupWriteOrCreate`: runs `f` on the hash at `key`, or on a new empty
/// one when the key is missing. A new hash is stored only if `f` left something in it, so a
/// failed write never leaves an empty key (Redis's callers never fail after creating one).
fn with_hash_or_create<R>(ctx: &mut DataCtx, key: &[u8], f: impl FnOnce(&mut HashValue) -> R) -> Result<R, WrongType> {
    let now_ms = ctx.now_ms;
    let lfu = crate::store::keyspace::Lfu::of(ctx.cfg);
    let access_s = access_clock_s(now_ms);
    let db = ctx.db();
    if let Some(e) = db.get(key, now_ms) {
        e.touch(now_ms, lfu);
        return hash_of_mut(&mut e.value).map(f).ok_or(WrongType);
    }
    let mut h = HashValue::default();
    let r = f(&mut h);
    if !h.is_empty() {
        super::insert_key(
            ctx,
            key,
            Entry {
                value: Value::Hash(h),
                expire_at_ms: NO_EXPIRE,
                access_s,
                lfu: crate::store::keyspace::LFU_INIT_VAL,
            },
        );
    }
    Ok(r)
}

/// Redis compares option words as C strings, so an argument is read up to its first NUL byte.
fn word_is(a: &[u8], w: &str) -> bool {
    let a = a.iter().position(|&b| b == 0).map_or(a, |n| &a[..n]);
    a.eq_ignore_ascii_case(w.as_bytes())
}
