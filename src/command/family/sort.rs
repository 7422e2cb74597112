//! SORT and SORT_RO over lists, sets and sorted sets: numeric or ALPHA order, ASC/DESC, LIMIT,
//! BY patterns (external weights, `BY nosort` to skip sorting), GET patterns (`#` for the
//! element, `key*->field` for hash fields) and, for SORT only, STORE into a list.
//!
//! This file owns the table, the key positions (SORT's STORE target moves), option parsing
//! and pattern substitution. The sort itself is in `sort/run.rs`; `sort/pqsort.rs` is the
//! partial quicksort Redis uses for BY + LIMIT, kept step for step so ties come out in the
//! same order.
//!
//! Keys named by BY/GET patterns are not declared keys (they depend on the data), as in
//! Redis. The command reads them from the store it runs on: exact when they live on the
//! sorted key's shard (one shard, or a hash tag shared with the sorted key). Standalone
//! commands whose pattern keys sit on other shards need the coordinator's help;
//! `keys_read_by_patterns` lists them for that. In cluster mode Redis 7.0 refuses BY patterns
//! and GET outright, and so do we. Runs on the owning shard (or a scratch store) and must
//! never touch sockets or other shards.

mod pqsort;
mod run;
#[cfg(test)]
mod tests;

use crate::command::args::parse_i64;
use crate::command::spec::{flag, spec, CommandSpec, DataCtx, Exec, PatternKeys, Split};
use crate::error;
use crate::resp::Out;
use crate::store::types::zset::ZSetValue;
use crate::store::{Entry, Value};

use flag::{DENYOOM, MOVABLEKEYS, READONLY, WRITE};

const GROUP: &str = "generic";
const SORT_CX: &str = "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).";

/// `spec` plus the complexity text and the key-position function.
const fn movable(getkeys: fn(&[&[u8]]) -> Vec<usize>, s: CommandSpec) -> CommandSpec {
    CommandSpec {
        complexity: SORT_CX,
        getkeys: Some(getkeys),
        pattern_keys: Some(PatternKeys { uses: uses_key_patterns, read: keys_read_by_patterns }),
        ..s
    }
}

// One command per line reads as a table; rustfmt would spread each over a dozen lines.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    movable(sort_keys, spec("sort", -2, WRITE | DENYOOM | MOVABLEKEYS, (1, 1, 1), &["@write", "@set", "@sortedset", "@list", "@slow", "@dangerous"], GROUP, "1.0.0", "Sort the elements in a list, set or sorted set", Exec::Data(sort), Split::Atomic)),
    movable(sort_ro_keys, spec("sort_ro", -2, READONLY | MOVABLEKEYS, (1, 1, 1), &["@read", "@set", "@sortedset", "@list", "@slow", "@dangerous"], GROUP, "7.0.0", "Sort the elements in a list, set or sorted set. Read-only variant of SORT.", Exec::Data(sort_ro), Split::None)),
];

const ERR_BY_CLUSTER: &str = "ERR BY option of SORT denied in Cluster mode.";
const ERR_GET_CLUSTER: &str = "ERR GET option of SORT denied in Cluster mode.";

/// Redis compares option words as C strings, so an argument is read up to its first NUL byte.
fn cstr(a: &[u8]) -> &[u8] {
    a.iter().position(|&b| b == 0).map_or(a, |n| &a[..n])
}

fn word_is(a: &[u8], w: &str) -> bool {
    cstr(a).eq_ignore_ascii_case(w.as_bytes())
}

/// Keys of SORT as Redis's `sortGetKeys` finds them: the sorted key, plus the argument after
/// the last STORE. Option words are skipped with their arguments (LIMIT 2, GET and BY 1);
/// STORE's own argument is not skipped, exactly as Redis scans.
pub fn sort_keys(args: &[&[u8]]) -> Vec<usize> {
    if args.len() < 2 {
        return Vec::new();
    }
    let mut store = None;
    let mut i = 2;
    while let Some(&a) = args.get(i) {
        if word_is(a, "limit") {
            i += 2;
        } else if word_is(a, "store") && i + 1 < args.len() {
            store = Some(i + 1);
        } else if word_is(a, "get") || word_is(a, "by") {
            i += 1;
        }
        i += 1;
    }
    std::iter::once(1).chain(store).collect()
}

/// Keys of SORT_RO: only the sorted key.
pub fn sort_ro_keys(args: &[&[u8]]) -> Vec<usize> {
    if args.len() < 2 {
        Vec::new()
    } else {
        vec![1]
    }
}

/// The options of one call, parsed as Redis's `sortCommandGeneric` does.
#[derive(Debug, Default)]
pub(crate) struct SortOptions<'a> {
    pub desc: bool,
    pub alpha: bool,
    pub limit_start: i64,
    pub limit_count: i64,
    pub store: Option<&'a [u8]>,
    /// The last BY pattern.
    pub by: Option<&'a [u8]>,
    /// Set by any BY argument without `*`, and never cleared by a later BY.
    pub dont_sort: bool,
    pub gets: Vec<&'a [u8]>,
}

pub(crate) fn parse_options<'a>(
    args: &[&'a [u8]],
    read_only: bool,
    cluster: bool,
) -> Result<SortOptions<'a>, &'static str> {
    let mut o = SortOptions { limit_count: -1, ..SortOptions::default() };
    let mut j = 2;
    while let Some(&a) = args.get(j) {
        let left = args.len() - j - 1;
        if word_is(a, "asc") {
            o.desc = false;
        } else if word_is(a, "desc") {
            o.desc = true;
        } else if word_is(a, "alpha") {
            o.alpha = true;
        } else if word_is(a, "limit") && left >= 2 {
            o.limit_start = parse_i64(args[j + 1])?;
            o.limit_count = parse_i64(args[j + 2])?;
            j += 2;
        } else if !read_only && word_is(a, "store") && left >= 1 {
            o.store = Some(args[j + 1]);
            j += 1;
        } else if word_is(a, "by") && left >= 1 {
            let pattern = args[j + 1];
            o.by = Some(pattern);
            if !cstr(pattern).contains(&b'*') {
                o.dont_sort = true;
            } else if cluster {
                return Err(ERR_BY_CLUSTER);
            }
            j += 1;
        } else if word_is(a, "get") && left >= 1 {
            if cluster {
                return Err(ERR_GET_CLUSTER);
            }
            o.gets.push(args[j + 1]);
            j += 1;
        } else {
            return Err(error::SYNTAX);
        }
        j += 1;
    }
    Ok(o)
}

pub fn sort(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    run::sort_generic(ctx, args, out, false);
}

pub fn sort_ro(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    run::sort_generic(ctx, args, out, true);
}

/// What a BY or GET pattern names for one element, as Redis's `lookupKeyByPattern` splits
/// it: the element itself (`#`), nothing (no `*`), or a key and maybe a hash field.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PatternTarget<'p> {
    Element,
    Nothing,
    Key { key: Vec<u8>, field: Option<&'p [u8]> },
}

/// Substitutes `elem` for the first `*` of `pattern`. The pattern is searched as a C string
/// (up to its first NUL) but its bytes are copied whole; `->field` after the `*` names a hash
/// field when at least one byte follows the arrow.
pub(crate) fn substitute<'p>(pattern: &'p [u8], elem: &[u8]) -> PatternTarget<'p> {
    if pattern.first() == Some(&b'#') && pattern.get(1).is_none_or(|&c| c == 0) {
        return PatternTarget::Element;
    }
    let searchable = cstr(pattern);
    let Some(star) = searchable.iter().position(|&c| c == b'*') else {
        return PatternTarget::Nothing;
    };
    let arrow = searchable[star + 1..].windows(2).position(|w| w == b"->").map(|i| star + 1 + i);
    let field_at = arrow.filter(|&f| pattern.get(f + 2).is_some_and(|&c| c != 0));
    let (postfix, field) = match field_at {
        Some(f) => (&pattern[star + 1..f], Some(&pattern[f + 2..])),
        None => (&pattern[star + 1..], None),
    };
    let mut key = Vec::with_capacity(star + elem.len() + postfix.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(postfix);
    PatternTarget::Key { key, field }
}

/// Redis's `lookupKeyByPattern`: the string value (or hash field) a pattern names for one
/// element, with a read lookup of the key (expiry, hit/miss counts). None when the key is
/// missing or of another type, or the field is missing.
pub(crate) fn lookup_by_pattern(ctx: &mut DataCtx, pattern: &[u8], elem: &[u8]) -> Option<Vec<u8>> {
    let (key, field) = match substitute(pattern, elem) {
        PatternTarget::Element => return Some(elem.to_vec()),
        PatternTarget::Nothing => return None,
        PatternTarget::Key { key, field } => (key, field),
    };
    let value = super::lookup_read_as(ctx, &key, any_value).ok().flatten()?;
    match (value, field) {
        (Value::Hash(h), Some(f)) => h.get(f).map(<[u8]>::to_vec),
        (Value::Str(s), None) => Some(s.to_vec()),
        _ => None,
    }
}

/// Whether a SORT or SORT_RO call may read keys through its BY or GET patterns (judged from
/// its arguments alone: a BY that sorts, or a GET, whose pattern names keys). A call without
/// such patterns only touches its declared keys.
pub fn uses_key_patterns(args: &[&[u8]]) -> bool {
    let read_only = args.first().is_some_and(|n| word_is(n, "sort_ro"));
    let Ok(o) = parse_options(args, read_only, false) else { return false };
    let names_keys = |p: &[u8]| matches!(substitute(p, b""), PatternTarget::Key { .. });
    o.by.filter(|_| !o.dont_sort).is_some_and(names_keys) || o.gets.iter().any(|p| names_keys(p))
}

/// The keys a SORT or SORT_RO call would read through its BY and GET patterns, given the
/// current content of the sorted key (read without side effects: no expiry, no hit counts).
/// For a coordinator that must gather those keys from other shards before running the
/// command on a scratch store; empty when the call has no key patterns or would fail.
pub fn keys_read_by_patterns(ctx: &mut DataCtx, args: &[&[u8]]) -> Vec<Vec<u8>> {
    let read_only = args.first().is_some_and(|n| word_is(n, "sort_ro"));
    let (Ok(o), Some(&key)) = (parse_options(args, read_only, false), args.get(1)) else {
        return Vec::new();
    };
    // BY is only read when sorting (a set sorted BY nosort into STORE sorts without it).
    let by = o.by.filter(|_| !o.dont_sort);
    let patterns: Vec<&[u8]> = by.into_iter().chain(o.gets.iter().copied()).collect();
    if patterns.is_empty() {
        return Vec::new();
    }
    let Some(entry) = ctx.db().peek(key) else { return Vec::new() };
    let elems = run::elements_of(&entry.value);
    let mut keys: Vec<Vec<u8>> = Vec::new();
    for e in &elems {
        for p in &patterns {
            if let PatternTarget::Key { key, .. } = substitute(p, e) {
                keys.push(key);
            }
        }
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Whether `v`, a copy of a SORT's sorted key after the command ran on it, carries the side
/// effect every SORT and SORT_RO has on its key: a sorted set left in its skiplist encoding.
pub fn source_converted(v: &Value) -> bool {
    matches!(v, Value::ZSet(ZSetValue::Skiplist(_)))
}

/// Gives the sorted key `key` of database `db` the skiplist encoding a SORT run on a copy of
/// it gave the copy, for a coordinator that writes nothing else back. Neither an access nor a
/// write: no expiry, no access time, no dirty count, as the conversion is in Redis.
pub fn convert_source(store: &mut crate::store::Store, db: usize, key: &[u8]) {
    let Some(d) = store.dbs.get_mut(db) else { return };
    if !d.peek(key).is_some_and(|e| matches!(e.value, Value::ZSet(ZSetValue::Listpack(_)))) {
        return;
    }
    // `get` tells a snapshot in progress that the slot changes; at time 0 it expires nothing.
    if let Some(Entry { value: Value::ZSet(z), .. }) = d.get(key, 0) {
        z.convert_to_skiplist();
    }
}

fn any_value(v: &mut Value) -> Option<&mut Value> {
    Some(v)
}
