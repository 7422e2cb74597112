//! The list family: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX LSET LINSERT LREM
//! LTRIM LPOS LMOVE RPOPLPUSH LMPOP.
//!
//! This file owns the table and the helpers every list command shares (typed lookups that keep
//! Redis's hit/miss counters, option words, index arithmetic). The commands live in `list/`:
//! `push_pop` (both ends, moves, LMPOP, and the non-blocking cores the blocking commands
//! reuse), `query` (LLEN LRANGE LINDEX LPOS) and `edit` (LSET LINSERT LREM LTRIM).
//!
//! Every function here runs on the shard owning its keys (or a coordinator's scratch store)
//! and must never touch sockets, other shards or the clock. A list is never left empty in the
//! keyspace: the command that empties it deletes the key, as Redis does. Replies and error
//! texts are Redis 7.0's, byte for byte.

mod edit;
mod push_pop;
mod query;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_events;
#[cfg(test)]
mod tests_more;

pub use crate::store::types::list::End;
pub use push_pop::{move_element, parse_mpop_args, pop_first_nonempty, pop_from, write_mpop_reply, MpopArgs, Popped};

use crate::command::family::keys::access_clock_s;
use crate::command::spec::{flag, spec, CommandSpec, DataCtx, Exec, Split};
use crate::error;
use crate::store::events::class;
use crate::store::types::list::ListValue;
use crate::store::{Entry, Value};

use flag::{DENYOOM, FAST, MOVABLEKEYS, READONLY, WRITE};

const ACL_READ_FAST: &[&str] = &["@read", "@list", "@fast"];
const ACL_READ_SLOW: &[&str] = &["@read", "@list", "@slow"];
const ACL_WRITE_FAST: &[&str] = &["@write", "@list", "@fast"];
const ACL_WRITE_SLOW: &[&str] = &["@write", "@list", "@slow"];
const ONE_KEY: (i32, i32, i32) = (1, 1, 1);
const GROUP: &str = "list";
const O1: &str = "O(1)";
const PUSH_COMPLEXITY: &str =
    "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.";
const POP_COMPLEXITY: &str = "O(N) where N is the number of elements returned";

/// `spec` plus the complexity text `COMMAND DOCS` shows.
const fn doc(complexity: &'static str, s: CommandSpec) -> CommandSpec {
    CommandSpec { complexity, ..s }
}

// One command per line reads as a table; rustfmt would spread each over a dozen lines.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    doc(PUSH_COMPLEXITY, spec("lpush", -3, WRITE | DENYOOM | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "1.0.0", "Prepend one or multiple elements to a list", Exec::Data(push_pop::lpush), Split::None)),
    doc(PUSH_COMPLEXITY, spec("rpush", -3, WRITE | DENYOOM | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "1.0.0", "Append one or multiple elements to a list", Exec::Data(push_pop::rpush), Split::None)),
    doc(PUSH_COMPLEXITY, spec("lpushx", -3, WRITE | DENYOOM | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "2.2.0", "Prepend an element to a list, only if the list exists", Exec::Data(push_pop::lpushx), Split::None)),
    doc(PUSH_COMPLEXITY, spec("rpushx", -3, WRITE | DENYOOM | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "2.2.0", "Append an element to a list, only if the list exists", Exec::Data(push_pop::rpushx), Split::None)),
    doc(POP_COMPLEXITY, spec("lpop", -2, WRITE | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "1.0.0", "Remove and get the first elements in a list", Exec::Data(push_pop::lpop), Split::None)),
    doc(POP_COMPLEXITY, spec("rpop", -2, WRITE | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "1.0.0", "Remove and get the last elements in a list", Exec::Data(push_pop::rpop), Split::None)),
    doc(O1, spec("llen", 2, READONLY | FAST, ONE_KEY, ACL_READ_FAST, GROUP, "1.0.0", "Get the length of a list", Exec::Data(query::llen), Split::None)),
    doc("O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.", spec("lrange", 4, READONLY, ONE_KEY, ACL_READ_SLOW, GROUP, "1.0.0", "Get a range of elements from a list", Exec::Data(query::lrange), Split::None)),
    doc("O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).", spec("lindex", 3, READONLY, ONE_KEY, ACL_READ_SLOW, GROUP, "1.0.0", "Get an element from a list by its index", Exec::Data(query::lindex), Split::None)),
    doc("O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).", spec("lset", 4, WRITE | DENYOOM, ONE_KEY, ACL_WRITE_SLOW, GROUP, "1.0.0", "Set the value of an element in a list by its index", Exec::Data(edit::lset), Split::None)),
    doc("O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).", spec("linsert", 5, WRITE | DENYOOM, ONE_KEY, ACL_WRITE_SLOW, GROUP, "2.2.0", "Insert an element before or after another element in a list", Exec::Data(edit::linsert), Split::None)),
    doc("O(N+M) where N is the length of the list and M is the number of elements removed.", spec("lrem", 4, WRITE, ONE_KEY, ACL_WRITE_SLOW, GROUP, "1.0.0", "Remove elements from a list", Exec::Data(edit::lrem), Split::None)),
    doc("O(N) where N is the number of elements to be removed by the operation.", spec("ltrim", 4, WRITE, ONE_KEY, ACL_WRITE_SLOW, GROUP, "1.0.0", "Trim a list to the specified range", Exec::Data(edit::ltrim), Split::None)),
    doc("O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.", spec("lpos", -3, READONLY, ONE_KEY, ACL_READ_SLOW, GROUP, "6.0.6", "Return the index of matching elements on a list", Exec::Data(query::lpos), Split::None)),
    doc(O1, spec("lmove", 5, WRITE | DENYOOM, (1, 2, 1), ACL_WRITE_SLOW, GROUP, "6.2.0", "Pop an element from a list, push it to another list and return it", Exec::Data(push_pop::lmove), Split::Atomic)),
    doc(O1, spec("rpoplpush", 3, WRITE | DENYOOM, (1, 2, 1), ACL_WRITE_SLOW, GROUP, "1.2.0", "Remove the last element in a list, prepend it to another list and return it", Exec::Data(push_pop::rpoplpush), Split::Atomic)),
    CommandSpec {
        getkeys: Some(lmpop_keys),
        ..doc("O(N+M) where N is the number of provided keys and M is the number of elements returned.", spec("lmpop", -4, WRITE | MOVABLEKEYS, (0, 0, 0), ACL_WRITE_SLOW, GROUP, "7.0.0", "Pop elements from a list", Exec::Data(push_pop::lmpop), Split::Atomic))
    },
];

/// Key positions of `LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT n]` (and, shifted by one,
/// of BLMPOP): empty when `numkeys` is not a positive integer or names more keys than there
/// are arguments, as Redis's key-spec walk rejects them.
pub fn lmpop_keys(args: &[&[u8]]) -> Vec<usize> {
    numkeys_keys(args, 1)
}

/// Key positions of `BLMPOP timeout numkeys key [key ...] ...`, for the blocking family.
pub fn blmpop_keys(args: &[&[u8]]) -> Vec<usize> {
    numkeys_keys(args, 2)
}

fn numkeys_keys(args: &[&[u8]], numkeys_at: usize) -> Vec<usize> {
    let Some(n) = args.get(numkeys_at).and_then(|a| crate::resp::parse::parse_i64_strict(a)) else {
        return Vec::new();
    };
    let first = numkeys_at + 1;
    if n < 1 || n as u64 > args.len().saturating_sub(first) as u64 {
        return Vec::new();
    }
    (first..first + n as usize).collect()
}

/// The list under `v`, or None when the key holds another type.
#[allow(unreachable_patterns)]
fn list_of(v: &mut Value) -> Option<&mut ListValue> {
    match v {
        Value::List(l) => Some(l),
        _ => None,
    }
}

/// `lookupKeyRead` of a list (see `family::lookup_read_as`).
fn list_read<'a>(ctx: &'a mut DataCtx, key: &[u8]) -> Result<Option<&'a mut ListValue>, &'static str> {
    super::lookup_read_as(ctx, key, list_of)
}

/// `lookupKeyWrite` of a list (see `family::lookup_write_as`).
fn list_write<'a>(ctx: &'a mut DataCtx, key: &[u8]) -> Result<Option<&'a mut ListValue>, &'static str> {
    super::lookup_write_as(ctx, key, list_of)
}

/// Stores a new list under `key` (which must be missing), with nodes sized by the current
/// `list-max-listpack-size` as Redis's `createQuicklistObject` reads it.
fn insert_new(ctx: &mut DataCtx, key: &[u8], list: ListValue) {
    debug_assert!(!list.is_empty(), "an empty list must never be stored");
    let entry = Entry {
        value: Value::List(Box::new(list)),
        expire_at_ms: 0,
        access_s: access_clock_s(ctx.now_ms),
        lfu: crate::store::keyspace::LFU_INIT_VAL,
    };
    let old = super::insert_key(ctx, key, entry);
    debug_assert!(old.as_ref().is_none_or(|o| o.is_expired(ctx.now_ms)), "insert_new over a live key");
}

fn new_list(ctx: &DataCtx) -> ListValue {
    ListValue::new(ctx.cfg.list_max_listpack_size)
}

/// Deletes `key` when its list was emptied (Redis never keeps an empty list), with the `del`
/// event Redis raises after the command's own.
fn delete_if_empty(ctx: &mut DataCtx, key: &[u8], empty: bool) {
    if empty {
        ctx.db().remove(key);
        ctx.notify(class::GENERIC, "del", key);
    }
}

/// Redis's event names for a push onto, and a pop from, `end`.
fn push_event(end: End) -> &'static str {
    match end {
        End::Left => "lpush",
        End::Right => "rpush",
    }
}

fn pop_event(end: End) -> &'static str {
    match end {
        End::Left => "lpop",
        End::Right => "rpop",
    }
}

/// Redis 6.2's check, kept because elements are bounded (see `MAX_ELEMENT_BYTES`).
fn check_element_sizes(elems: &[&[u8]]) -> Result<(), &'static str> {
    if elems.iter().any(|e| e.len() > crate::store::types::list::MAX_ELEMENT_BYTES) {
        return Err("ERR Element too large");
    }
    Ok(())
}

/// Redis compares option words as C strings (`strcasecmp`), so an argument is read up to its
/// first NUL byte.
fn word_is(a: &[u8], w: &str) -> bool {
    let a = a.iter().position(|&b| b == 0).map_or(a, |n| &a[..n]);
    a.eq_ignore_ascii_case(w.as_bytes())
}

/// `LEFT` or `RIGHT` (Redis's `getListPositionFromObjectOrReply`).
fn parse_end(a: &[u8]) -> Result<End, &'static str> {
    if word_is(a, "left") {
        Ok(End::Left)
    } else if word_is(a, "right") {
        Ok(End::Right)
    } else {
        Err(error::SYNTAX)
    }
}

/// An integer >= `min`, replying `msg` both when it is not an integer and when it is too
/// small (Redis's `getRangeLongFromObjectOrReply` with a message).
fn parse_at_least(a: &[u8], min: i64, msg: &'static str) -> Result<i64, &'static str> {
    match crate::resp::parse::parse_i64_strict(a) {
        Some(n) if n >= min => Ok(n),
        _ => Err(msg),
    }
}

/// The inclusive element range `[start, end]` of a list of `len` elements as Redis's LRANGE
/// and LTRIM compute it from signed indexes, or None when it is empty.
fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let llen = len as i64;
    let mut start = if start < 0 { llen.saturating_add(start) } else { start };
    let mut end = if end < 0 { llen.saturating_add(end) } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        return None;
    }
    if end >= llen {
        end = llen - 1;
    }
    Some((start as usize, end as usize))
}

/// A signed Redis index (negative counts from the tail) as a position, if in range.
fn resolve_index(index: i64, len: usize) -> Option<usize> {
    let i = if index < 0 { (len as i64).saturating_add(index) } else { index };
    (0..len as i64).contains(&i).then_some(i as usize)
}
