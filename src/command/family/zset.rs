//! The sorted-set family: ZADD ZINCRBY ZREM ZCARD ZCOUNT ZLEXCOUNT ZSCORE ZMSCORE ZRANK
//! ZREVRANK, the ZRANGE family (ZRANGE ZRANGESTORE ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX
//! ZREVRANGEBYLEX ZREVRANGE), ZPOPMIN ZPOPMAX ZMPOP ZRANDMEMBER, ZREMRANGEBYRANK|SCORE|LEX,
//! ZUNION ZINTER ZDIFF and their *STORE forms, ZINTERCARD and ZSCAN.
//!
//! This file owns the table and what every command shares: typed lookups (keeping Redis's
//! keyspace hit/miss counters), score and range parsing with Redis's exact acceptance rules,
//! and the reply shapes of member/score lists in RESP2 and RESP3. The commands live in
//! `zset/`: `write` (ZADD, ZREM, pops, ZREMRANGEBY*), `read` (single-key queries, ZRANDMEMBER,
//! ZSCAN), `range` (the ZRANGE family) and `setops` (ZUNION/ZINTER/ZDIFF...). The data
//! structures are in `store/types/zset.rs`.
//!
//! Every function here runs on the shard owning its keys (or a coordinator's scratch store)
//! and must never touch sockets, other shards or the clock. Replies and error texts are Redis
//! 7.0.15's, byte for byte, and so are the keyspace events each path raises, in Redis's order:
//! the shared helpers raise `keymiss` (read misses), `new` (a created key) and `del` (a key a
//! command emptied); each command raises its own event before `delete_if_empty`.

mod range;
mod read;
mod setops;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_events;
#[cfg(test)]
mod tests_more;
mod write;

/// ZADD's body, for GEOADD (which is a ZADD with computed scores).
pub(crate) use write::zadd;
pub use write::{generic_zpop, parse_mpop, ready_zset_key, MpopArgs};

use crate::command::args::parse_f64_opt;
use crate::command::family::keys::access_clock_s;
use crate::command::family::{insert_key, keymiss};
use crate::command::spec::{flag, spec, CommandSpec, DataCtx, Exec, Split};
use crate::resp::Out;
use crate::store::events::class;
use crate::store::types::zset::{LexBound, LexRange, ListpackLimits, ScoreRange, ZSetValue};
use crate::store::{Entry, Value};

use flag::{DENYOOM, FAST, MOVABLEKEYS, READONLY, WRITE};

const ACL_READ_FAST: &[&str] = &["@read", "@sortedset", "@fast"];
const ACL_READ_SLOW: &[&str] = &["@read", "@sortedset", "@slow"];
const ACL_WRITE_FAST: &[&str] = &["@write", "@sortedset", "@fast"];
const ACL_WRITE_SLOW: &[&str] = &["@write", "@sortedset", "@slow"];
const ONE_KEY: (i32, i32, i32) = (1, 1, 1);
const NO_KEYS: (i32, i32, i32) = (0, 0, 0);
const GROUP: &str = "sorted-set";

const O1: &str = "O(1)";
const LOGN: &str = "O(log(N))";
const RANGE_CX: &str =
    "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.";
const BYRANGE_CX: &str = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).";
const REMRANGE_CX: &str = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.";
const POP_CX: &str =
    "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.";
const UNION_CX: &str = "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.";
const INTER_CX: &str = "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.";
const DIFF_CX: &str = "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.";

/// `spec` plus the complexity text `COMMAND DOCS` shows.
const fn doc(complexity: &'static str, s: CommandSpec) -> CommandSpec {
    CommandSpec { complexity, ..s }
}

/// `doc` plus a key-position function for commands whose keys follow a `numkeys` argument.
const fn movable(complexity: &'static str, getkeys: fn(&[&[u8]]) -> Vec<usize>, s: CommandSpec) -> CommandSpec {
    CommandSpec { complexity, getkeys: Some(getkeys), ..s }
}

// One command per line reads as a table; rustfmt would spread each over a dozen lines.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    doc("O(log(N)) for each item added, where N is the number of elements in the sorted set.", spec("zadd", -4, WRITE | DENYOOM | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "1.2.0", "Add one or more members to a sorted set, or update its score if it already exists", Exec::Data(write::zadd), Split::None)),
    doc("O(log(N)) where N is the number of elements in the sorted set.", spec("zincrby", 4, WRITE | DENYOOM | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "1.2.0", "Increment the score of a member in a sorted set", Exec::Data(write::zincrby), Split::None)),
    doc("O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.", spec("zrem", -3, WRITE | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "1.2.0", "Remove one or more members from a sorted set", Exec::Data(write::zrem), Split::None)),
    doc(O1, spec("zcard", 2, READONLY | FAST, ONE_KEY, ACL_READ_FAST, GROUP, "1.2.0", "Get the number of members in a sorted set", Exec::Data(read::zcard), Split::None)),
    doc("O(log(N)) with N being the number of elements in the sorted set.", spec("zcount", 4, READONLY | FAST, ONE_KEY, ACL_READ_FAST, GROUP, "2.0.0", "Count the members in a sorted set with scores within the given values", Exec::Data(read::zcount), Split::None)),
    doc("O(log(N)) with N being the number of elements in the sorted set.", spec("zlexcount", 4, READONLY | FAST, ONE_KEY, ACL_READ_FAST, GROUP, "2.8.9", "Count the number of members in a sorted set between a given lexicographical range", Exec::Data(read::zlexcount), Split::None)),
    doc(O1, spec("zscore", 3, READONLY | FAST, ONE_KEY, ACL_READ_FAST, GROUP, "1.2.0", "Get the score associated with the given member in a sorted set", Exec::Data(read::zscore), Split::None)),
    doc("O(N) where N is the number of members being requested.", spec("zmscore", -3, READONLY | FAST, ONE_KEY, ACL_READ_FAST, GROUP, "6.2.0", "Get the score associated with the given members in a sorted set", Exec::Data(read::zmscore), Split::None)),
    doc(LOGN, spec("zrank", 3, READONLY | FAST, ONE_KEY, ACL_READ_FAST, GROUP, "2.0.0", "Determine the index of a member in a sorted set", Exec::Data(read::zrank), Split::None)),
    doc(LOGN, spec("zrevrank", 3, READONLY | FAST, ONE_KEY, ACL_READ_FAST, GROUP, "2.0.0", "Determine the index of a member in a sorted set, with scores ordered from high to low", Exec::Data(read::zrevrank), Split::None)),
    doc(RANGE_CX, spec("zrange", -4, READONLY, ONE_KEY, ACL_READ_SLOW, GROUP, "1.2.0", "Return a range of members in a sorted set", Exec::Data(range::zrange), Split::None)),
    doc("O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.", spec("zrangestore", -5, WRITE | DENYOOM, (1, 2, 1), ACL_WRITE_SLOW, GROUP, "6.2.0", "Store a range of members from sorted set into another key", Exec::Data(range::zrangestore), Split::Atomic)),
    doc(BYRANGE_CX, spec("zrangebyscore", -4, READONLY, ONE_KEY, ACL_READ_SLOW, GROUP, "1.0.5", "Return a range of members in a sorted set, by score", Exec::Data(range::zrangebyscore), Split::None)),
    doc(BYRANGE_CX, spec("zrevrangebyscore", -4, READONLY, ONE_KEY, ACL_READ_SLOW, GROUP, "2.2.0", "Return a range of members in a sorted set, by score, with scores ordered from high to low", Exec::Data(range::zrevrangebyscore), Split::None)),
    doc(BYRANGE_CX, spec("zrangebylex", -4, READONLY, ONE_KEY, ACL_READ_SLOW, GROUP, "2.8.9", "Return a range of members in a sorted set, by lexicographical range", Exec::Data(range::zrangebylex), Split::None)),
    doc(BYRANGE_CX, spec("zrevrangebylex", -4, READONLY, ONE_KEY, ACL_READ_SLOW, GROUP, "2.8.9", "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.", Exec::Data(range::zrevrangebylex), Split::None)),
    doc(RANGE_CX, spec("zrevrange", -4, READONLY, ONE_KEY, ACL_READ_SLOW, GROUP, "1.2.0", "Return a range of members in a sorted set, by index, with scores ordered from high to low", Exec::Data(range::zrevrange), Split::None)),
    doc(POP_CX, spec("zpopmin", -2, WRITE | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "5.0.0", "Remove and return members with the lowest scores in a sorted set", Exec::Data(write::zpopmin), Split::None)),
    doc(POP_CX, spec("zpopmax", -2, WRITE | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "5.0.0", "Remove and return members with the highest scores in a sorted set", Exec::Data(write::zpopmax), Split::None)),
    movable("O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.", numkeys_at_1, spec("zmpop", -4, WRITE | MOVABLEKEYS, NO_KEYS, ACL_WRITE_SLOW, GROUP, "7.0.0", "Remove and return members with scores in a sorted set", Exec::Data(write::zmpop), Split::Atomic)),
    doc("O(N) where N is the number of elements returned", spec("zrandmember", -2, READONLY, ONE_KEY, ACL_READ_SLOW, GROUP, "6.2.0", "Get one or multiple random elements from a sorted set", Exec::Data(read::zrandmember), Split::None)),
    doc(REMRANGE_CX, spec("zremrangebyrank", 4, WRITE, ONE_KEY, ACL_WRITE_SLOW, GROUP, "2.0.0", "Remove all members in a sorted set within the given indexes", Exec::Data(write::zremrangebyrank), Split::None)),
    doc(REMRANGE_CX, spec("zremrangebyscore", 4, WRITE, ONE_KEY, ACL_WRITE_SLOW, GROUP, "1.2.0", "Remove all members in a sorted set within the given scores", Exec::Data(write::zremrangebyscore), Split::None)),
    doc(REMRANGE_CX, spec("zremrangebylex", 4, WRITE, ONE_KEY, ACL_WRITE_SLOW, GROUP, "2.8.9", "Remove all members in a sorted set between the given lexicographical range", Exec::Data(write::zremrangebylex), Split::None)),
    movable(UNION_CX, numkeys_at_1, spec("zunion", -3, READONLY | MOVABLEKEYS, NO_KEYS, ACL_READ_SLOW, GROUP, "6.2.0", "Add multiple sorted sets", Exec::Data(setops::zunion), Split::Atomic)),
    movable(INTER_CX, numkeys_at_1, spec("zinter", -3, READONLY | MOVABLEKEYS, NO_KEYS, ACL_READ_SLOW, GROUP, "6.2.0", "Intersect multiple sorted sets", Exec::Data(setops::zinter), Split::Atomic)),
    movable(DIFF_CX, numkeys_at_1, spec("zdiff", -3, READONLY | MOVABLEKEYS, NO_KEYS, ACL_READ_SLOW, GROUP, "6.2.0", "Subtract multiple sorted sets", Exec::Data(setops::zdiff), Split::Atomic)),
    movable("O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.", dest_and_numkeys_at_2, spec("zunionstore", -4, WRITE | DENYOOM | MOVABLEKEYS, ONE_KEY, ACL_WRITE_SLOW, GROUP, "2.0.0", "Add multiple sorted sets and store the resulting sorted set in a new key", Exec::Data(setops::zunionstore), Split::Atomic)),
    movable(INTER_CX, dest_and_numkeys_at_2, spec("zinterstore", -4, WRITE | DENYOOM | MOVABLEKEYS, ONE_KEY, ACL_WRITE_SLOW, GROUP, "2.0.0", "Intersect multiple sorted sets and store the resulting sorted set in a new key", Exec::Data(setops::zinterstore), Split::Atomic)),
    movable(DIFF_CX, dest_and_numkeys_at_2, spec("zdiffstore", -4, WRITE | DENYOOM | MOVABLEKEYS, ONE_KEY, ACL_WRITE_SLOW, GROUP, "6.2.0", "Subtract multiple sorted sets and store the resulting sorted set in a new key", Exec::Data(setops::zdiffstore), Split::Atomic)),
    movable("O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.", numkeys_at_1, spec("zintercard", -3, READONLY | MOVABLEKEYS, NO_KEYS, ACL_READ_SLOW, GROUP, "7.0.0", "Intersect multiple sorted sets and return the cardinality of the result", Exec::Data(setops::zintercard), Split::Atomic)),
    doc("O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..", spec("zscan", -3, READONLY, ONE_KEY, ACL_READ_SLOW, GROUP, "2.8.0", "Incrementally iterate sorted sets elements and associated scores", Exec::Data(read::zscan), Split::None)),
];

/// `numkeys` as the key-position functions read it: a valid count that fits the arguments
/// after `at`, else None (the command itself will report the error).
fn numkeys(args: &[&[u8]], at: usize) -> Option<usize> {
    let n = crate::resp::parse::parse_i64_strict(args.get(at)?)?;
    let n = usize::try_from(n).ok().filter(|&n| n >= 1)?;
    (n <= args.len().saturating_sub(at + 1)).then_some(n)
}

/// Keys of ZUNION, ZINTER, ZDIFF, ZINTERCARD and ZMPOP: `numkeys` at 1, the keys after it.
pub fn numkeys_at_1(args: &[&[u8]]) -> Vec<usize> {
    numkeys(args, 1).map_or_else(Vec::new, |n| (2..2 + n).collect())
}

/// Keys of ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE: the destination, then `numkeys` at 2.
pub fn dest_and_numkeys_at_2(args: &[&[u8]]) -> Vec<usize> {
    numkeys(args, 2).map_or_else(Vec::new, |n| std::iter::once(1).chain(3..3 + n).collect())
}

// ---- errors ----

pub(crate) const ERR_NOT_FLOAT: &str = "ERR value is not a valid float";
pub(crate) const ERR_RANGE_NOT_FLOAT: &str = "ERR min or max is not a float";
pub(crate) const ERR_LEX_RANGE: &str = "ERR min or max not valid string range item";

/// The key holds another type (reply `error::WRONGTYPE`).
pub(crate) struct WrongType;

// ---- argument parsing ----

/// Redis compares option words as C strings, so an argument is read up to its first NUL byte.
fn cstr(a: &[u8]) -> &[u8] {
    a.iter().position(|&b| b == 0).map_or(a, |n| &a[..n])
}

pub(crate) fn word_is(a: &[u8], w: &str) -> bool {
    cstr(a).eq_ignore_ascii_case(w.as_bytes())
}

/// A score or weight as Redis's `getDoubleFromObject` (`string2d`) takes it: the whole string
/// is a `strtod` number, no leading space, not NaN, and no overflow to infinity or underflow
/// to zero (`1e-400` is an error, `1e-320` is not).
pub(crate) fn parse_score(b: &[u8]) -> Option<f64> {
    let v = parse_f64_opt(b)?;
    if v == 0.0 && mantissa_is_nonzero(b) {
        return None;
    }
    Some(v)
}

/// Whether a number's digits before its exponent hold something other than zeros (a zero
/// result then means strtod underflowed).
fn mantissa_is_nonzero(b: &[u8]) -> bool {
    let s = match b.first() {
        Some(b'+' | b'-') => &b[1..],
        _ => b,
    };
    let hex = s.len() > 1 && s[0] == b'0' && (s[1] == b'x' || s[1] == b'X');
    let digits = if hex { &s[2..] } else { s };
    let end = digits
        .iter()
        .position(|&c| if hex { c == b'p' || c == b'P' } else { c == b'e' || c == b'E' })
        .unwrap_or(digits.len());
    digits[..end].iter().any(|&c| if hex { c.is_ascii_hexdigit() && c != b'0' } else { (b'1'..=b'9').contains(&c) })
}

/// A bare `strtod` that must consume everything (as `zslParseRange` checks `*eptr == '\0'`):
/// leading spaces are skipped, the empty string is 0, overflow gives infinity, NaN is refused.
fn strtod_whole(b: &[u8]) -> Option<f64> {
    let b = cstr(b);
    let t = match b.iter().position(|c| !matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')) {
        Some(i) => &b[i..],
        // Nothing to convert: strtod leaves the end pointer at the start of the string.
        None => return b.is_empty().then_some(0.0),
    };
    if let Some(v) = parse_f64_opt(t) {
        return Some(v);
    }
    // parse_f64_opt refuses what overflowed; strtod returns ±HUGE_VAL there and Redis keeps it.
    let s = std::str::from_utf8(t).ok()?;
    let v: f64 = s.parse().ok()?;
    v.is_infinite().then_some(v)
}

/// One end of a score range: `1.5`, `(1.5`, `-inf`, `+inf`.
fn parse_range_item(b: &[u8]) -> Option<(f64, bool)> {
    match b.first() {
        Some(b'(') => Some((strtod_whole(&b[1..])?, true)),
        _ => Some((strtod_whole(b)?, false)),
    }
}

/// Redis's `zslParseRange`.
pub(crate) fn parse_score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, &'static str> {
    match (parse_range_item(min), parse_range_item(max)) {
        (Some((min, minex)), Some((max, maxex))) => Ok(ScoreRange { min, max, minex, maxex }),
        _ => Err(ERR_RANGE_NOT_FLOAT),
    }
}

/// Redis's `zslParseLexRangeItem`: `-`, `+` (alone, as C strings), `[x` or `(x`.
fn parse_lex_item(b: &[u8]) -> Option<LexBound> {
    let alone = b.get(1).is_none_or(|&c| c == 0);
    match b.first()? {
        b'+' if alone => Some(LexBound::PosInf),
        b'-' if alone => Some(LexBound::NegInf),
        b'(' => Some(LexBound::Excl(b[1..].to_vec())),
        b'[' => Some(LexBound::Incl(b[1..].to_vec())),
        _ => None,
    }
}

/// Redis's `zslParseLexRange`.
pub(crate) fn parse_lex_range(min: &[u8], max: &[u8]) -> Result<LexRange, &'static str> {
    match (parse_lex_item(min), parse_lex_item(max)) {
        (Some(min), Some(max)) => Ok(LexRange { min, max }),
        _ => Err(ERR_LEX_RANGE),
    }
}

pub(crate) use crate::command::args::parse_scan_cursor;

// ---- lookups ----

pub(crate) fn limits(ctx: &DataCtx) -> ListpackLimits {
    ListpackLimits::from_config(ctx.cfg)
}

/// Looks `key` up for reading as Redis's `lookupKeyRead`: lazy expiry, a keyspace hit or miss
/// (a miss raises `keymiss`), the access clock refreshed.
pub(crate) fn read_zset<'a>(ctx: &'a mut DataCtx, key: &[u8]) -> Result<Option<&'a mut ZSetValue>, WrongType> {
    let now_ms = ctx.now_ms;
    let lfu = crate::store::keyspace::Lfu::of(ctx.cfg);
    let store = &mut *ctx.store;
    match store.dbs[ctx.dbi].get(key, now_ms) {
        None => {
            store.keyspace_misses += 1;
            keymiss(&mut store.events, ctx.cfg.notify_keyspace_events, ctx.dbi, key);
            Ok(None)
        }
        Some(e) => {
            store.keyspace_hits += 1;
            e.touch(now_ms, lfu);
            match &mut e.value {
                Value::ZSet(z) => Ok(Some(z)),
                _ => Err(WrongType),
            }
        }
    }
}

/// Looks `key` up for writing as Redis's `lookupKeyWrite`: no hit/miss counted.
pub(crate) fn write_zset<'a>(ctx: &'a mut DataCtx, key: &[u8]) -> Result<Option<&'a mut ZSetValue>, WrongType> {
    let now_ms = ctx.now_ms;
    let lfu = crate::store::keyspace::Lfu::of(ctx.cfg);
    match ctx.db().get(key, now_ms) {
        None => Ok(None),
        Some(e) => {
            e.touch(now_ms, lfu);
            match &mut e.value {
                Value::ZSet(z) => Ok(Some(z)),
                _ => Err(WrongType),
            }
        }
    }
}

/// Stores a new sorted set under `key` (Redis's `setKey`/`dbAdd`: any old value and TTL go),
/// raising `new` when no live key was there.
pub(crate) fn store_zset(ctx: &mut DataCtx, key: &[u8], z: ZSetValue) {
    // Redis's `setKey` looks the key up for writing first, so a key past its deadline is
    // expired (counted, and its `expired` event raised) before `new`.
    let now_ms = ctx.now_ms;
    ctx.db().get(key, now_ms);
    ctx.store.collect_events();
    let entry = Entry {
        value: Value::ZSet(z),
        expire_at_ms: 0,
        access_s: access_clock_s(ctx.now_ms),
        lfu: crate::store::keyspace::LFU_INIT_VAL,
    };
    insert_key(ctx, key, entry);
}

/// Deletes `key` once a command has emptied its sorted set, raising `del` (after the
/// command's own event, which the caller raises first, as Redis orders them).
pub(crate) fn delete_if_empty(ctx: &mut DataCtx, key: &[u8]) -> bool {
    let empty = matches!(ctx.db().peek(key).map(|e| &e.value), Some(Value::ZSet(z)) if z.is_empty());
    if empty {
        ctx.db().remove(key);
        ctx.notify(class::GENERIC, "del", key);
    }
    empty
}

// ---- replies ----

/// A list of members, optionally with scores: flat in RESP2, `[member, score]` pairs in RESP3
/// (Redis's zrange result handler, ZUNION, ZRANDMEMBER, ZPOPMIN with a count).
pub(crate) fn reply_members(out: &mut Out, items: &[(&[u8], f64)], withscores: bool) {
    let pairs = withscores && out.resp3;
    out.array(if withscores && !pairs { items.len() * 2 } else { items.len() });
    for &(m, s) in items {
        if pairs {
            out.array(2);
        }
        out.bulk(m);
        if withscores {
            out.double(s);
        }
    }
}
