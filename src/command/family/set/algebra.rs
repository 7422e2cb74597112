//! Set algebra: SINTER (and SMEMBERS, which Redis 7.0 runs as SINTER of one key), SINTERCARD,
//! SUNION, SDIFF and the STORE forms.
//!
//! Results are built the way Redis builds them, because the order of a reply and the encoding
//! of a stored result depend on it: SINTER walks the smallest set and answers in its order;
//! SUNION and SDIFF collect into a fresh set that starts as an intset (so an all-integer
//! result of at most `set-max-intset-entries` members comes back sorted, and is stored as an
//! intset), and SDIFF picks between Redis's two algorithms with Redis's cost estimate (the
//! second one adds the first set whole before removing, which can leave a `hashtable`).

use super::{max_intset_entries, new_entry, peek_set, probe_sets, reply_member, word_is};
use crate::command::family::insert_key;
use crate::command::spec::DataCtx;
use crate::error;
use crate::resp::parse::parse_i64_strict;
use crate::resp::Out;
use crate::store::events::class;
use crate::store::types::set::{Member, SetValue};

const NUMKEYS_NOT_POSITIVE: &str = "ERR numkeys should be greater than 0";
const TOO_MANY_KEYS: &str = "ERR Number of keys can't be greater than number of args";
const LIMIT_NEGATIVE: &str = "ERR LIMIT can't be negative";

/// What an intersection does with its result.
#[derive(Clone, Copy)]
enum Inter<'a> {
    Reply,
    Store(&'a [u8]),
    /// SINTERCARD: count, stopping at the limit (0 = no limit).
    Card(u64),
}

pub(super) fn sinter(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    sinter_generic(ctx, &args[1..], Inter::Reply, out)
}

pub(super) fn sinterstore(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    sinter_generic(ctx, &args[2..], Inter::Store(args[1]), out)
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit], parsed in Redis's order: numkeys, then the
/// key count against the arguments, then the options, all before any key is looked up.
pub(super) fn sintercard(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let numkeys = match parse_i64_strict(args[1]) {
        Some(n) if n >= 1 => n as u64,
        _ => return out.error(NUMKEYS_NOT_POSITIVE),
    };
    let nargs = (args.len() - 2) as u64;
    if numkeys > nargs {
        return out.error(TOO_MANY_KEYS);
    }
    let keys_end = 2 + numkeys as usize;
    let mut limit = 0u64;
    let mut j = keys_end;
    while j < args.len() {
        if word_is(args[j], "limit") && j + 1 < args.len() {
            limit = match parse_i64_strict(args[j + 1]) {
                Some(n) if n >= 0 => n as u64,
                _ => return out.error(LIMIT_NEGATIVE),
            };
            j += 2;
        } else {
            return out.error(error::SYNTAX);
        }
    }
    sinter_generic(ctx, &args[2..keys_end], Inter::Card(limit), out)
}

/// Key positions of SINTERCARD for routing and COMMAND GETKEYS: `numkeys` keys from argument
/// 2; empty when numkeys is not a positive integer or exceeds the arguments.
pub fn sintercard_keys(args: &[&[u8]]) -> Vec<usize> {
    let Some(n) = args.get(1).and_then(|a| parse_i64_strict(a)) else { return Vec::new() };
    match usize::try_from(n) {
        Ok(n) if n >= 1 && n <= args.len().saturating_sub(2) => (2..2 + n).collect(),
        _ => Vec::new(),
    }
}

fn sinter_generic(ctx: &mut DataCtx, keys: &[&[u8]], mode: Inter<'_>, out: &mut Out) {
    let present = match probe_sets(ctx, keys) {
        Ok(p) => p,
        Err(e) => return out.error(e),
    };
    // An intersection with a missing (empty) set is empty.
    if present.iter().any(|&p| !p) {
        match mode {
            Inter::Store(dst) => {
                if ctx.db().remove(dst).is_some() {
                    ctx.notify(class::GENERIC, "del", dst);
                    ctx.dirty(1);
                }
                out.int(0)
            }
            Inter::Card(_) => out.int(0),
            Inter::Reply => out.set(0),
        }
        return;
    }
    let max = max_intset_entries(ctx);
    let db = &ctx.store.dbs[ctx.dbi];
    let mut sets: Vec<&SetValue> = keys.iter().filter_map(|k| peek_set(db, k)).collect();
    // Smallest first: its members are the candidates. A stable sort keeps the key order among
    // equal sizes, as glibc's (merge sort) qsort does.
    sets.sort_by_key(|s| s.len());
    let Some((&first, rest)) = sets.split_first() else {
        debug_assert!(false, "an intersection of no sets");
        return out.set(0);
    };
    let in_all = |m: Member<'_>| rest.iter().all(|&s| std::ptr::eq(s, first) || s.contains_member(m));
    match mode {
        Inter::Card(limit) => {
            let mut n = 0u64;
            for m in first.iter() {
                if in_all(m) {
                    n += 1;
                    if limit > 0 && n >= limit {
                        break;
                    }
                }
            }
            out.int(n as i64);
        }
        Inter::Reply => {
            let found: Vec<Member<'_>> = first.iter().filter(|&m| in_all(m)).collect();
            out.set(found.len());
            for m in found {
                reply_member(out, m);
            }
        }
        Inter::Store(dst) => {
            let mut result = SetValue::new_intset();
            for m in first.iter().filter(|&m| in_all(m)) {
                result.add_member(m, max);
            }
            store_result(ctx, dst, result, "sinterstore", out);
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Diff,
}

pub(super) fn sunion(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    sunion_diff_generic(ctx, &args[1..], None, Op::Union, out)
}

pub(super) fn sunionstore(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    sunion_diff_generic(ctx, &args[2..], Some(args[1]), Op::Union, out)
}

pub(super) fn sdiff(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    sunion_diff_generic(ctx, &args[1..], None, Op::Diff, out)
}

pub(super) fn sdiffstore(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    sunion_diff_generic(ctx, &args[2..], Some(args[1]), Op::Diff, out)
}

fn sunion_diff_generic(ctx: &mut DataCtx, keys: &[&[u8]], dst: Option<&[u8]>, op: Op, out: &mut Out) {
    if let Err(e) = probe_sets(ctx, keys) {
        return out.error(e);
    }
    let max = max_intset_entries(ctx);
    let db = &ctx.store.dbs[ctx.dbi];
    let sets: Vec<Option<&SetValue>> = keys.iter().map(|k| peek_set(db, k)).collect();
    let result = match op {
        Op::Union => union_of(&sets, max),
        Op::Diff => diff_of(&sets, max),
    };
    match dst {
        Some(dst) => {
            let event = match op {
                Op::Union => "sunionstore",
                Op::Diff => "sdiffstore",
            };
            store_result(ctx, dst, result, event, out)
        }
        None => {
            out.set(result.len());
            for m in result.iter() {
                reply_member(out, m);
            }
        }
    }
}

fn union_of(sets: &[Option<&SetValue>], max: usize) -> SetValue {
    let mut result = SetValue::new_intset();
    for s in sets.iter().flatten() {
        for m in s.iter() {
            result.add_member(m, max);
        }
    }
    result
}

fn diff_of(sets: &[Option<&SetValue>], max: usize) -> SetValue {
    let mut result = SetValue::new_intset();
    let Some(Some(first)) = sets.first().copied() else { return result };
    let others = || sets.iter().skip(1).flatten();
    // Redis's estimate: algorithm 1 costs |first| per set, halved for its better constants;
    // algorithm 2 costs the sum of the sizes.
    let present = sets.iter().flatten().count() as u64;
    let algo_one_work = present * first.len() as u64 / 2;
    let algo_two_work: u64 = sets.iter().flatten().map(|s| s.len() as u64).sum();
    if algo_one_work <= algo_two_work {
        // Algorithm 1: keep the members of the first set that no other set has.
        for m in first.iter() {
            if !others().any(|&s| std::ptr::eq(s, first) || s.contains_member(m)) {
                result.add_member(m, max);
            }
        }
    } else {
        // Algorithm 2: add the whole first set, then remove every member of the others.
        for m in first.iter() {
            result.add_member(m, max);
        }
        for s in others() {
            if result.is_empty() {
                break;
            }
            for m in s.iter() {
                result.remove_member(m);
            }
        }
    }
    result
}

/// Replaces `dst` with `result` (no TTL) and raises `event`, or deletes it when the result is
/// empty (raising `del` if there was a key), and answers the result's size. Replacing a live
/// key is an overwrite for Redis: no `new` event then.
fn store_result(ctx: &mut DataCtx, dst: &[u8], result: SetValue, event: &'static str, out: &mut Out) {
    let n = result.len();
    if n > 0 {
        let entry = new_entry(ctx, result);
        insert_key(ctx, dst, entry);
        ctx.notify(class::SET, event, dst);
        ctx.dirty(1);
    } else if ctx.db().remove(dst).is_some() {
        ctx.notify(class::GENERIC, "del", dst);
        ctx.dirty(1);
    }
    out.int(n as i64);
}
