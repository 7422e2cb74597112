//! The stream family: XADD XRANGE XREVRANGE XLEN XDEL XTRIM XREAD XSETID, consumer groups
//! (XGROUP CREATE|SETID|DESTROY|CREATECONSUMER|DELCONSUMER, XREADGROUP, XACK, XPENDING, XCLAIM,
//! XAUTOCLAIM) and XINFO STREAM|GROUPS|CONSUMERS.
//!
//! This file owns the table and what every command shares: stream ID parsing with Redis's
//! exact acceptance rules, typed lookups (keeping Redis's keyspace hit/miss counters), and the
//! reply shape of entries. The commands live in `stream/`: `write` (XADD XTRIM XDEL XSETID),
//! `read` (XRANGE XREVRANGE XLEN XREAD XREADGROUP and the non-blocking cores the blocking layer
//! calls), `groups` (XGROUP XACK XPENDING XCLAIM XAUTOCLAIM) and `info` (XINFO). The data
//! structure is `store::types::stream`.
//!
//! Every function here runs on the shard owning its keys (or a coordinator's scratch store)
//! and must never touch sockets, other shards or the clock: times are `ctx.now_ms`. Replies,
//! error texts, keyspace events and dirty counts are Redis 7.0.15's. Streams are never deleted
//! when they become empty.

mod groups;
mod info;
mod read;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_more;
mod write;

pub use read::{entries_after, rewrite_dollar_ids, xread_core, xreadgroup_core, OwnedEntry, ReadOutcome};

use crate::command::family::keys::access_clock_s;
use crate::command::spec::{flag, spec, CommandSpec, DataCtx, Exec, Split};
use crate::resp::Out;
use crate::store::types::stream::{EntryRef, StreamId, StreamValue};
use crate::store::{Entry, Value};

use flag::{BLOCKING, DENYOOM, FAST, LOADING, MOVABLEKEYS, READONLY, STALE, WRITE};

const ACL_READ_FAST: &[&str] = &["@read", "@stream", "@fast"];
const ACL_READ_SLOW: &[&str] = &["@read", "@stream", "@slow"];
const ACL_WRITE_FAST: &[&str] = &["@write", "@stream", "@fast"];
const ACL_WRITE_SLOW: &[&str] = &["@write", "@stream", "@slow"];
const ACL_HELP: &[&str] = &["@stream", "@slow"];
const ONE_KEY: (i32, i32, i32) = (1, 1, 1);
const SECOND_KEY: (i32, i32, i32) = (2, 2, 1);
const NO_KEYS: (i32, i32, i32) = (0, 0, 0);
const GROUP: &str = "stream";
const O1: &str = "O(1)";
const RANGE_CX: &str = "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).";

/// `spec` plus the complexity text `COMMAND DOCS` shows.
const fn doc(complexity: &'static str, s: CommandSpec) -> CommandSpec {
    CommandSpec { complexity, ..s }
}

/// `doc` plus the key-position function of XREAD/XREADGROUP.
const fn movable(complexity: &'static str, s: CommandSpec) -> CommandSpec {
    CommandSpec { complexity, getkeys: Some(xread_keys), ..s }
}

// One command per line reads as a table; rustfmt would spread each over a dozen lines.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    doc("O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.", spec("xadd", -5, WRITE | DENYOOM | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "5.0.0", "Appends a new entry to a stream", Exec::Data(write::xadd), Split::None)),
    doc(RANGE_CX, spec("xrange", -4, READONLY, ONE_KEY, ACL_READ_SLOW, GROUP, "5.0.0", "Return a range of elements in a stream, with IDs matching the specified IDs interval", Exec::Data(read::xrange), Split::None)),
    doc("O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).", spec("xrevrange", -4, READONLY, ONE_KEY, ACL_READ_SLOW, GROUP, "5.0.0", "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE", Exec::Data(read::xrevrange), Split::None)),
    doc(O1, spec("xlen", 2, READONLY | FAST, ONE_KEY, ACL_READ_FAST, GROUP, "5.0.0", "Return the number of entries in a stream", Exec::Data(read::xlen), Split::None)),
    doc("O(1) for each single item to delete in the stream, regardless of the stream size.", spec("xdel", -3, WRITE | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "5.0.0", "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.", Exec::Data(write::xdel), Split::None)),
    doc("O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.", spec("xtrim", -4, WRITE, ONE_KEY, ACL_WRITE_SLOW, GROUP, "5.0.0", "Trims the stream to (approximately if '~' is passed) a certain size", Exec::Data(write::xtrim), Split::None)),
    movable("For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.", spec("xread", -4, READONLY | BLOCKING | MOVABLEKEYS, NO_KEYS, &["@read", "@stream", "@slow", "@blocking"], GROUP, "5.0.0", "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.", Exec::Data(read::xread), Split::Atomic)),
    movable("For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.", spec("xreadgroup", -7, WRITE | BLOCKING | MOVABLEKEYS, NO_KEYS, &["@write", "@stream", "@slow", "@blocking"], GROUP, "5.0.0", "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.", Exec::Data(read::xreadgroup), Split::Atomic)),
    doc("O(1) for each message ID processed.", spec("xack", -4, WRITE | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "5.0.0", "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.", Exec::Data(groups::xack), Split::None)),
    doc("O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.", spec("xpending", -3, READONLY, ONE_KEY, ACL_READ_SLOW, GROUP, "5.0.0", "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.", Exec::Data(groups::xpending), Split::None)),
    doc("O(log N) with N being the number of messages in the PEL of the consumer group.", spec("xclaim", -6, WRITE | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "5.0.0", "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.", Exec::Data(groups::xclaim), Split::None)),
    doc("O(1) if COUNT is small.", spec("xautoclaim", -6, WRITE | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "6.2.0", "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.", Exec::Data(groups::xautoclaim), Split::None)),
    doc(O1, spec("xsetid", -3, WRITE | DENYOOM | FAST, ONE_KEY, ACL_WRITE_FAST, GROUP, "5.0.0", "An internal command for replicating stream values", Exec::Data(write::xsetid), Split::None)),
    CommandSpec {
        subcommands: XGROUP_SUBCOMMANDS,
        ..doc("Depends on subcommand.", spec("xgroup", -2, 0, NO_KEYS, &["@slow"], GROUP, "5.0.0", "A container for consumer groups commands", Exec::Container, Split::None))
    },
    CommandSpec {
        subcommands: XINFO_SUBCOMMANDS,
        ..doc("Depends on subcommand.", spec("xinfo", -2, 0, NO_KEYS, &["@slow"], GROUP, "5.0.0", "A container for stream introspection commands", Exec::Container, Split::None))
    },
];

#[rustfmt::skip]
static XGROUP_SUBCOMMANDS: &[CommandSpec] = &[
    doc(O1, spec("xgroup|create", -5, WRITE | DENYOOM, SECOND_KEY, ACL_WRITE_SLOW, GROUP, "5.0.0", "Create a consumer group.", Exec::Data(groups::xgroup), Split::None)),
    doc(O1, spec("xgroup|setid", -5, WRITE, SECOND_KEY, ACL_WRITE_SLOW, GROUP, "5.0.0", "Set a consumer group to an arbitrary last delivered ID value.", Exec::Data(groups::xgroup), Split::None)),
    doc("O(N) where N is the number of entries in the group's pending entries list (PEL).", spec("xgroup|destroy", 4, WRITE, SECOND_KEY, ACL_WRITE_SLOW, GROUP, "5.0.0", "Destroy a consumer group.", Exec::Data(groups::xgroup), Split::None)),
    doc(O1, spec("xgroup|createconsumer", 5, WRITE | DENYOOM, SECOND_KEY, ACL_WRITE_SLOW, GROUP, "6.2.0", "Create a consumer in a consumer group.", Exec::Data(groups::xgroup), Split::None)),
    doc(O1, spec("xgroup|delconsumer", 5, WRITE, SECOND_KEY, ACL_WRITE_SLOW, GROUP, "5.0.0", "Delete a consumer from a consumer group.", Exec::Data(groups::xgroup), Split::None)),
    doc(O1, spec("xgroup|help", 2, LOADING | STALE, NO_KEYS, ACL_HELP, GROUP, "5.0.0", "Show helpful text about the different subcommands", Exec::Data(info::xgroup_help), Split::None)),
];

#[rustfmt::skip]
static XINFO_SUBCOMMANDS: &[CommandSpec] = &[
    doc(O1, spec("xinfo|groups", 3, READONLY, SECOND_KEY, ACL_READ_SLOW, GROUP, "5.0.0", "List the consumer groups of a stream", Exec::Data(info::xinfo), Split::None)),
    doc(O1, spec("xinfo|consumers", 4, READONLY, SECOND_KEY, ACL_READ_SLOW, GROUP, "5.0.0", "List the consumers in a consumer group", Exec::Data(info::xinfo), Split::None)),
    doc(O1, spec("xinfo|stream", -3, READONLY, SECOND_KEY, ACL_READ_SLOW, GROUP, "5.0.0", "Get information about a stream", Exec::Data(info::xinfo), Split::None)),
    doc(O1, spec("xinfo|help", 2, LOADING | STALE, NO_KEYS, ACL_HELP, GROUP, "5.0.0", "Show helpful text about the different subcommands", Exec::Data(info::xinfo_help), Split::None)),
];

/// Key positions of XREAD and XREADGROUP (Redis's `xreadGetKeys`): the options are skipped up
/// to STREAMS, and the first half of what follows are the keys. Empty when STREAMS is missing
/// or the keys and IDs do not pair up (the command then reports the error).
pub fn xread_keys(args: &[&[u8]]) -> Vec<usize> {
    let mut streams_at = None;
    let mut i = 1;
    while i < args.len() {
        let a = args[i];
        if word_is(a, "block") || word_is(a, "count") {
            i += 1;
        } else if word_is(a, "group") {
            i += 2;
        } else if word_is(a, "noack") {
        } else if word_is(a, "streams") {
            streams_at = Some(i);
            break;
        } else {
            break;
        }
        i += 1;
    }
    let Some(at) = streams_at else { return Vec::new() };
    let n = args.len() - at - 1;
    if n == 0 || !n.is_multiple_of(2) {
        return Vec::new();
    }
    (at + 1..at + 1 + n / 2).collect()
}

// ---- errors ----

pub(crate) const ERR_INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";
pub(crate) const ERR_START_ID: &str = "ERR invalid start ID for the interval";
pub(crate) const ERR_END_ID: &str = "ERR invalid end ID for the interval";
pub(crate) const ERR_NO_SUCH_KEY: &str = "ERR no such key";

/// `-NOGROUP No such key '<key>' or consumer group '<group>'<suffix>`.
pub(crate) fn nogroup_key_or_group(key: &[u8], group: &[u8], suffix: &str) -> String {
    format!(
        "NOGROUP No such key '{}' or consumer group '{}'{suffix}",
        String::from_utf8_lossy(cstr(key)),
        String::from_utf8_lossy(cstr(group))
    )
}

/// `-NOGROUP No such consumer group '<group>' for key name '<key>'`.
pub(crate) fn nogroup_for_key(key: &[u8], group: &[u8]) -> String {
    format!(
        "NOGROUP No such consumer group '{}' for key name '{}'",
        String::from_utf8_lossy(cstr(group)),
        String::from_utf8_lossy(cstr(key))
    )
}

/// Redis's `addReplySubcommandSyntaxError`: the subcommand as typed, the command upper-cased.
pub(crate) fn subcommand_syntax_error(args: &[&[u8]]) -> String {
    let cmd = String::from_utf8_lossy(cstr(args.first().copied().unwrap_or(b""))).to_uppercase();
    let sub: Vec<u8> = cstr(args.get(1).copied().unwrap_or(b"")).iter().take(128).copied().collect();
    format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {cmd} HELP.",
        String::from_utf8_lossy(&sub)
    )
}

// ---- argument parsing ----

/// Redis reads option words and IDs as C strings: an argument ends at its first NUL byte.
pub(crate) fn cstr(a: &[u8]) -> &[u8] {
    a.iter().position(|&b| b == 0).map_or(a, |n| &a[..n])
}

pub(crate) fn word_is(a: &[u8], w: &str) -> bool {
    cstr(a).eq_ignore_ascii_case(w.as_bytes())
}

/// Redis's `string2ull`: a canonical 64-bit integer if it is not negative, otherwise what C's
/// `strtoull` accepts in base 10 over the whole string (leading spaces, a sign, digits; a
/// minus negates modulo 2^64; overflow is an error).
fn string2ull(s: &[u8]) -> Option<u64> {
    if let Some(n) = crate::resp::parse::parse_i64_strict(s) {
        return u64::try_from(n).ok();
    }
    let t = match s.iter().position(|c| !matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')) {
        Some(i) => &s[i..],
        None => return None,
    };
    let (neg, digits) = match t.first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// A parsed ID argument of XADD: the ID, and whether its sequence was given (`ms-*` leaves it
/// to the stream).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ParsedId {
    pub id: StreamId,
    pub seq_given: bool,
}

/// Redis's `streamGenericParseIDOrReply`: `ms-seq` or `ms` (the sequence is then
/// `missing_seq`); `-` and `+` are the smallest and largest IDs unless `strict`; `ms-*` only
/// when `allow_auto_seq` (XADD).
fn parse_id_generic(a: &[u8], missing_seq: u64, strict: bool, allow_auto_seq: bool) -> Result<ParsedId, &'static str> {
    if a.len() > 127 {
        return Err(ERR_INVALID_ID);
    }
    let s = cstr(a);
    if s == b"-" || s == b"+" {
        if strict {
            return Err(ERR_INVALID_ID);
        }
        let id = if s == b"-" { StreamId::MIN } else { StreamId::MAX };
        return Ok(ParsedId { id, seq_given: true });
    }
    match s.iter().position(|&b| b == b'-') {
        Some(dash) => {
            let ms = string2ull(&s[..dash]).ok_or(ERR_INVALID_ID)?;
            let rest = &s[dash + 1..];
            if allow_auto_seq && rest == b"*" {
                return Ok(ParsedId { id: StreamId::new(ms, 0), seq_given: false });
            }
            let seq = string2ull(rest).ok_or(ERR_INVALID_ID)?;
            Ok(ParsedId { id: StreamId::new(ms, seq), seq_given: true })
        }
        None => {
            let ms = string2ull(s).ok_or(ERR_INVALID_ID)?;
            Ok(ParsedId { id: StreamId::new(ms, missing_seq), seq_given: true })
        }
    }
}

/// An ID where `-` and `+` are allowed (XRANGE ends, XGROUP SETID).
pub(crate) fn parse_id(a: &[u8], missing_seq: u64) -> Result<StreamId, &'static str> {
    parse_id_generic(a, missing_seq, false, false).map(|p| p.id)
}

/// An ID where `-` and `+` are not allowed (Redis's `streamParseStrictIDOrReply`).
pub(crate) fn parse_strict_id(a: &[u8], missing_seq: u64) -> Result<StreamId, &'static str> {
    parse_id_generic(a, missing_seq, true, false).map(|p| p.id)
}

/// XADD's ID argument: strict, with `ms-*` allowed.
pub(crate) fn parse_xadd_id(a: &[u8]) -> Result<ParsedId, &'static str> {
    parse_id_generic(a, 0, true, true)
}

/// One end of a range (Redis's `streamParseIntervalIDOrReply`): `(id` is exclusive and must be
/// a strict ID; anything else is a plain ID. Returns the ID and whether it is exclusive.
pub(crate) fn parse_interval_id(a: &[u8], missing_seq: u64) -> Result<(StreamId, bool), &'static str> {
    if a.len() > 1 && a[0] == b'(' {
        return parse_strict_id(&a[1..], missing_seq).map(|id| (id, true));
    }
    parse_id(a, missing_seq).map(|id| (id, false))
}

/// The start of a range, moved past an exclusive ID.
pub(crate) fn parse_range_start(a: &[u8]) -> Result<StreamId, &'static str> {
    let (id, excl) = parse_interval_id(a, 0)?;
    if excl {
        return id.incr().ok_or(ERR_START_ID);
    }
    Ok(id)
}

/// The end of a range, moved before an exclusive ID.
pub(crate) fn parse_range_end(a: &[u8]) -> Result<StreamId, &'static str> {
    let (id, excl) = parse_interval_id(a, u64::MAX)?;
    if excl {
        return id.decr().ok_or(ERR_END_ID);
    }
    Ok(id)
}

// ---- lookups ----

fn pick_stream(v: &mut Value) -> Option<&mut StreamValue> {
    match v {
        Value::Stream(s) => Some(&mut **s),
        _ => None,
    }
}

/// Looks `key` up for reading (Redis's `lookupKeyRead`: hit/miss counted). Err is WRONGTYPE.
pub(crate) fn read_stream<'a>(ctx: &'a mut DataCtx, key: &[u8]) -> Result<Option<&'a mut StreamValue>, &'static str> {
    super::lookup_read_as(ctx, key, pick_stream)
}

/// Looks `key` up for writing (Redis's `lookupKeyWrite`). Err is WRONGTYPE.
pub(crate) fn write_stream<'a>(ctx: &'a mut DataCtx, key: &[u8]) -> Result<Option<&'a mut StreamValue>, &'static str> {
    super::lookup_write_as(ctx, key, pick_stream)
}

/// Stores a new empty stream under `key` (the key was checked to be absent).
pub(crate) fn create_stream(ctx: &mut DataCtx, key: &[u8]) {
    let entry = Entry::with(Value::Stream(Box::default()), 0, access_clock_s(ctx.now_ms));
    // Redis's dbAdd: a `new` event.
    super::insert_key(ctx, key, entry);
}

// ---- replies ----

pub(crate) fn write_id(out: &mut Out, id: StreamId) {
    out.bulk(id.to_string().as_bytes());
}

/// One entry: `[id, [field, value, ...]]`.
pub(crate) fn write_entry(out: &mut Out, e: &EntryRef) {
    out.array(2);
    write_id(out, e.id);
    out.array(2 * e.field_count());
    let mut tmp = [0u8; 24];
    for (f, v) in e.fields() {
        out.bulk(f.as_bytes(&mut tmp));
        out.bulk(v.as_bytes(&mut tmp));
    }
}

/// The time a command runs at, as Redis's millisecond clock (a signed count).
pub(crate) fn now_ms(ctx: &DataCtx) -> i64 {
    ctx.now_ms.min(i64::MAX as u64) as i64
}
