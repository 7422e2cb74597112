//! The string family: GET SET SETNX SETEX PSETEX MGET MSET MSETNX GETSET GETDEL GETEX APPEND
//! STRLEN INCR DECR INCRBY DECRBY INCRBYFLOAT GETRANGE SUBSTR SETRANGE LCS.
//!
//! This file owns the table and the helpers every string command shares (typed lookups that
//! keep Redis's hit/miss counters, SET/GETEX option parsing, expiry deadlines). The commands
//! live in `string/`: `get_set` (whole-value reads and writes), `numeric` (INCR family and
//! INCRBYFLOAT's `long double` bridge), `range` (APPEND, STRLEN, GETRANGE, SETRANGE) and `lcs`.
//!
//! Every function here runs on the shard owning its keys (or a coordinator's scratch store)
//! and must never touch sockets, other shards or the clock: time comes from `ctx.now_ms`.
//! Replies and error texts are Redis 7.0's, byte for byte.

mod get_set;
mod lcs;
mod numeric;
pub(crate) use numeric::{long_double_add, LdError};
mod range;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_events;
#[cfg(test)]
mod tests_more;

use crate::command::args::parse_i64;
use crate::command::family::keys::access_clock_s;
use crate::command::spec::{flag, spec, CommandSpec, DataCtx, Exec, Split};
use crate::error;
use crate::store::{Entry, StrValue, Value};

use flag::{DENYOOM, FAST, READONLY, WRITE};

const ACL_READ_FAST: &[&str] = &["@read", "@string", "@fast"];
const ACL_READ_SLOW: &[&str] = &["@read", "@string", "@slow"];
const ACL_WRITE_FAST: &[&str] = &["@write", "@string", "@fast"];
const ACL_WRITE_SLOW: &[&str] = &["@write", "@string", "@slow"];
const ONE_KEY: (i32, i32, i32) = (1, 1, 1);
const GROUP: &str = "string";
const O1: &str = "O(1)";
const RANGE_COMPLEXITY: &str = "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.";

/// `spec` plus the complexity text `COMMAND DOCS` shows.
const fn doc(complexity: &'static str, s: CommandSpec) -> CommandSpec {
    CommandSpec { complexity, ..s }
}

// One command per line reads as a table; rustfmt would spread each over a dozen lines.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    doc(O1, spec("get", 2, READONLY | FAST, ONE_KEY, ACL_READ_FAST, GROUP, "1.0.0", "Get the value of a key", Exec::Data(get_set::get), Split::None)),
    doc(O1, spec("set", -3, WRITE | DENYOOM, ONE_KEY, ACL_WRITE_SLOW, GROUP, "1.0.0", "Set the string value of a key", Exec::Data(get_set::set), Split::None)),
    doc(O1, spec("setnx", 3, WRITE | DENYOOM | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "1.0.0", "Set the value of a key, only if the key does not exist", Exec::Data(get_set::setnx), Split::None)),
    doc(O1, spec("setex", 4, WRITE | DENYOOM, ONE_KEY, ACL_WRITE_SLOW, GROUP, "2.0.0", "Set the value and expiration of a key", Exec::Data(get_set::setex), Split::None)),
    doc(O1, spec("psetex", 4, WRITE | DENYOOM, ONE_KEY, ACL_WRITE_SLOW, GROUP, "2.6.0", "Set the value and expiration in milliseconds of a key", Exec::Data(get_set::psetex), Split::None)),
    doc("O(N) where N is the number of keys to retrieve.", spec("mget", -2, READONLY | FAST, (1, -1, 1), ACL_READ_FAST, GROUP, "1.0.0", "Get the values of all the given keys", Exec::Data(get_set::mget), Split::Mget)),
    doc("O(N) where N is the number of keys to set.", spec("mset", -3, WRITE | DENYOOM, (1, -1, 2), ACL_WRITE_SLOW, GROUP, "1.0.1", "Set multiple keys to multiple values", Exec::Data(get_set::mset), Split::Atomic)),
    doc("O(N) where N is the number of keys to set.", spec("msetnx", -3, WRITE | DENYOOM, (1, -1, 2), ACL_WRITE_SLOW, GROUP, "1.0.1", "Set multiple keys to multiple values, only if none of the keys exist", Exec::Data(get_set::msetnx), Split::Atomic)),
    doc(O1, spec("getset", 3, WRITE | DENYOOM | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "1.0.0", "Set the string value of a key and return its old value", Exec::Data(get_set::getset), Split::None)),
    doc(O1, spec("getdel", 2, WRITE | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "6.2.0", "Get the value of a key and delete the key", Exec::Data(get_set::getdel), Split::None)),
    doc(O1, spec("getex", -2, WRITE | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "6.2.0", "Get the value of a key and optionally set its expiration", Exec::Data(get_set::getex), Split::None)),
    doc("O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.", spec("append", 3, WRITE | DENYOOM | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "2.0.0", "Append a value to a key", Exec::Data(range::append), Split::None)),
    doc(O1, spec("strlen", 2, READONLY | FAST, ONE_KEY, ACL_READ_FAST, GROUP, "2.2.0", "Get the length of the value stored in a key", Exec::Data(range::strlen), Split::None)),
    doc(O1, spec("incr", 2, WRITE | DENYOOM | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "1.0.0", "Increment the integer value of a key by one", Exec::Data(numeric::incr), Split::None)),
    doc(O1, spec("decr", 2, WRITE | DENYOOM | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "1.0.0", "Decrement the integer value of a key by one", Exec::Data(numeric::decr), Split::None)),
    doc(O1, spec("incrby", 3, WRITE | DENYOOM | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "1.0.0", "Increment the integer value of a key by the given amount", Exec::Data(numeric::incrby), Split::None)),
    doc(O1, spec("decrby", 3, WRITE | DENYOOM | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "1.0.0", "Decrement the integer value of a key by the given number", Exec::Data(numeric::decrby), Split::None)),
    doc(O1, spec("incrbyfloat", 3, WRITE | DENYOOM | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "2.6.0", "Increment the float value of a key by the given amount", Exec::Data(numeric::incrbyfloat), Split::None)),
    doc(RANGE_COMPLEXITY, spec("getrange", 4, READONLY, ONE_KEY, ACL_READ_SLOW, GROUP, "2.4.0", "Get a substring of the string stored at a key", Exec::Data(range::getrange), Split::None)),
    // SUBSTR is GETRANGE under its pre-2.4 name; Redis keeps it as a separate table entry.
    doc(RANGE_COMPLEXITY, spec("substr", 4, READONLY, ONE_KEY, ACL_READ_SLOW, GROUP, "1.0.0", "Get a substring of the string stored at a key", Exec::Data(range::getrange), Split::None)),
    doc("O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.", spec("setrange", 4, WRITE | DENYOOM, ONE_KEY, ACL_WRITE_SLOW, GROUP, "2.2.0", "Overwrite part of a string at key starting at the specified offset", Exec::Data(range::setrange), Split::None)),
    doc("O(N*M) where N and M are the lengths of s1 and s2, respectively", spec("lcs", -3, READONLY, (1, 2, 1), ACL_READ_SLOW, GROUP, "7.0.0", "Find longest common substring", Exec::Data(lcs::lcs), Split::Atomic)),
];

/// The string under `v`, or None when the key holds another type (WRONGTYPE).
// Only strings exist today; the catch-all arm is there for the types still to come.
#[allow(unreachable_patterns)]
fn str_of(v: &Value) -> Option<&StrValue> {
    match v {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

#[allow(unreachable_patterns)]
fn str_of_mut(v: &mut Value) -> Option<&mut StrValue> {
    match v {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

/// What a read lookup found.
enum Found<'a> {
    Missing,
    WrongType,
    Str(&'a StrValue),
}

/// Looks `key` up for reading, counting a keyspace hit or miss as Redis's `lookupKeyRead`
/// does (INFO `keyspace_hits`/`keyspace_misses`), a miss raising `keymiss`. Write lookups use `Db::get` directly: Redis
/// does not count those.
fn lookup_read<'a>(ctx: &'a mut DataCtx, key: &[u8]) -> Found<'a> {
    let now_ms = ctx.now_ms;
    let lfu = crate::store::keyspace::Lfu::of(ctx.cfg);
    let store = &mut *ctx.store;
    let Some(db) = store.dbs.get_mut(ctx.dbi) else {
        return Found::Missing;
    };
    match db.get(key, now_ms) {
        None => {
            store.keyspace_misses += 1;
            super::keymiss(&mut store.events, ctx.cfg.notify_keyspace_events, ctx.dbi, key);
            Found::Missing
        }
        Some(e) => {
            store.keyspace_hits += 1;
            e.touch(now_ms, lfu);
            match str_of(&e.value) {
                Some(s) => Found::Str(s),
                None => Found::WrongType,
            }
        }
    }
}

/// Looks `key` up for writing, as Redis's `lookupKeyWrite`: expires it lazily and refreshes
/// its access clock (OBJECT IDLETIME), but counts no keyspace hit or miss.
fn lookup_write<'a>(ctx: &'a mut DataCtx, key: &[u8]) -> Option<&'a mut Entry> {
    let now_ms = ctx.now_ms;
    let lfu = crate::store::keyspace::Lfu::of(ctx.cfg);
    let e = ctx.db().get(key, now_ms)?;
    e.touch(now_ms, lfu);
    Some(e)
}

/// A new entry holding `value`, stamped as accessed now.
fn new_entry(ctx: &DataCtx, value: Value, expire_at_ms: u64) -> Entry {
    Entry { value, expire_at_ms, access_s: access_clock_s(ctx.now_ms), lfu: crate::store::keyspace::LFU_INIT_VAL }
}

/// Redis compares option words as C strings, so an argument is read up to its first NUL byte
/// (`"nx\0junk"` is NX to Redis).
fn cstr(a: &[u8]) -> &[u8] {
    a.iter().position(|&b| b == 0).map_or(a, |n| &a[..n])
}

fn word_is(a: &[u8], w: &str) -> bool {
    cstr(a).eq_ignore_ascii_case(w.as_bytes())
}

/// Option flags of SET and GETEX, with Redis's bit meanings (`OBJ_SET_NX`...).
mod opt {
    pub const NX: u16 = 1;
    pub const XX: u16 = 1 << 1;
    pub const EX: u16 = 1 << 2;
    pub const PX: u16 = 1 << 3;
    pub const KEEPTTL: u16 = 1 << 4;
    pub const GET: u16 = 1 << 5;
    pub const EXAT: u16 = 1 << 6;
    pub const PXAT: u16 = 1 << 7;
    pub const PERSIST: u16 = 1 << 8;
    pub const ANY_EXPIRE: u16 = EX | PX | EXAT | PXAT;
}

/// Options of a SET or GETEX call: flags, and the raw expire argument when one was given.
struct ExtOpts<'a> {
    flags: u16,
    expire: Option<&'a [u8]>,
}

/// Redis's `parseExtendedStringArgumentsOrReply`: `opts` are the arguments after the value
/// (SET) or the key (GETEX). A repeated or conflicting option is a syntax error, with exactly
/// Redis's rules (NX with XX, one expiry kind, KEEPTTL/PERSIST with no expiry).
fn parse_ext_opts<'a>(opts: &[&'a [u8]], is_set: bool) -> Result<ExtOpts<'a>, &'static str> {
    use opt::*;
    let mut flags = 0u16;
    let mut expire = None;
    let mut j = 0;
    while j < opts.len() {
        let o = opts[j];
        let next = opts.get(j + 1).copied();
        let has = |f: u16| flags & f != 0;
        if word_is(o, "nx") && !has(XX) && is_set {
            flags |= NX;
        } else if word_is(o, "xx") && !has(NX) && is_set {
            flags |= XX;
        } else if word_is(o, "get") && is_set {
            flags |= GET;
        } else if word_is(o, "keepttl") && !has(PERSIST | ANY_EXPIRE) && is_set {
            flags |= KEEPTTL;
        } else if word_is(o, "persist") && !is_set && !has(ANY_EXPIRE | KEEPTTL) {
            flags |= PERSIST;
        } else if let (Some(kind), Some(v)) = (expire_kind(o), next) {
            // The same kind twice is allowed (the last value wins); two kinds conflict.
            if has(KEEPTTL | PERSIST) || has(ANY_EXPIRE & !kind) {
                return Err(error::SYNTAX);
            }
            flags |= kind;
            expire = Some(v);
            j += 1;
        } else {
            return Err(error::SYNTAX);
        }
        j += 1;
    }
    Ok(ExtOpts { flags, expire })
}

fn expire_kind(o: &[u8]) -> Option<u16> {
    if word_is(o, "ex") {
        Some(opt::EX)
    } else if word_is(o, "px") {
        Some(opt::PX)
    } else if word_is(o, "exat") {
        Some(opt::EXAT)
    } else if word_is(o, "pxat") {
        Some(opt::PXAT)
    } else {
        None
    }
}

/// Redis's `getExpireMillisecondsOrReply`: the absolute deadline in unix ms for an expire
/// argument of kind `flags` (EX/PX relative to `now_ms`, EXAT/PXAT absolute). Zero, negative
/// and overflowing values are `ERR invalid expire time in '<cmd>' command`.
fn expire_deadline_ms(raw: &[u8], flags: u16, now_ms: u64, cmd: &str) -> Result<u64, String> {
    let mut ms = parse_i64(raw).map_err(String::from)?;
    let seconds = flags & (opt::EX | opt::EXAT) != 0;
    if ms <= 0 || (seconds && ms > i64::MAX / 1000) {
        return Err(error::invalid_expire(cmd));
    }
    if seconds {
        ms *= 1000;
    }
    if flags & (opt::EX | opt::PX) != 0 {
        // Redis adds with wrap-around and rejects a non-positive result; an overflow of two
        // positive numbers is exactly that case.
        ms = i64::try_from(now_ms).ok().and_then(|now| ms.checked_add(now)).unwrap_or(-1);
    }
    if ms <= 0 {
        return Err(error::invalid_expire(cmd));
    }
    Ok(ms as u64)
}

/// Redis's `checkStringLength`: a string may not grow past `proto-max-bulk-len`.
fn check_string_length(ctx: &DataCtx, base: u64, add: u64) -> Result<(), &'static str> {
    let max = ctx.cfg.proto_max_bulk_len_bytes;
    match base.checked_add(add) {
        Some(total) if total <= max => Ok(()),
        _ => Err(error::STRING_TOO_LONG),
    }
}
