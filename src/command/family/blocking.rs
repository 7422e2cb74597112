//! The blocking pops: BLPOP BRPOP BRPOPLPUSH BLMOVE BLMPOP BZPOPMIN BZPOPMAX BZMPOP.
//!
//! Each is an ordinary data command with one extra rule: when it finds nothing to serve it
//! writes **no reply at all**. Whoever ran it decides what that means: the blocking layer
//! (`shard::blocking`) parks the client and runs the same command again each time one of its
//! keys is written; every other caller (MULTI/EXEC, a coordinator's scratch store) writes the
//! command's timeout reply at once (`write_timeout_reply`), as Redis does for clients that may
//! not block. Argument errors are replied immediately, in Redis's order of checks.
//!
//! This file parses and serves; it never parks anything or looks at the clock.

use crate::command::family::list::{self, End};
use crate::command::family::zset;
use crate::command::spec::{flag, spec, CommandSpec, DataCtx, Exec, Split};
use crate::error;
use crate::resp::Out;

use flag::{BLOCKING, DENYOOM, FAST, MOVABLEKEYS, NOSCRIPT, WRITE};

const ACL_LIST: &[&str] = &["@write", "@list", "@slow", "@blocking"];
const ACL_ZSET_FAST: &[&str] = &["@write", "@sortedset", "@fast", "@blocking"];
const ACL_ZSET_SLOW: &[&str] = &["@write", "@sortedset", "@slow", "@blocking"];
const KEYS_BUT_LAST: (i32, i32, i32) = (1, -2, 1);

const fn doc(complexity: &'static str, s: CommandSpec) -> CommandSpec {
    CommandSpec { complexity, ..s }
}

// One command per line reads as a table.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    doc("O(N) where N is the number of provided keys.", spec("blpop", -3, WRITE | NOSCRIPT | BLOCKING, KEYS_BUT_LAST, ACL_LIST, "list", "2.0.0", "Remove and get the first element in a list, or block until one is available", Exec::Data(blpop), Split::Atomic)),
    doc("O(N) where N is the number of provided keys.", spec("brpop", -3, WRITE | NOSCRIPT | BLOCKING, KEYS_BUT_LAST, ACL_LIST, "list", "2.0.0", "Remove and get the last element in a list, or block until one is available", Exec::Data(brpop), Split::Atomic)),
    doc("O(1)", spec("brpoplpush", 4, WRITE | DENYOOM | NOSCRIPT | BLOCKING, (1, 2, 1), ACL_LIST, "list", "2.2.0", "Pop an element from a list, push it to another list and return it; or block until one is available", Exec::Data(brpoplpush), Split::Atomic)),
    doc("O(1)", spec("blmove", 6, WRITE | DENYOOM | NOSCRIPT | BLOCKING, (1, 2, 1), ACL_LIST, "list", "6.2.0", "Pop an element from a list, push it to another list and return it; or block until one is available", Exec::Data(blmove), Split::Atomic)),
    CommandSpec {
        getkeys: Some(list::blmpop_keys),
        ..doc("O(N+M) where N is the number of provided keys and M is the number of elements returned.", spec("blmpop", -5, WRITE | BLOCKING | MOVABLEKEYS, (0, 0, 0), ACL_LIST, "list", "7.0.0", "Pop elements from a list, or block until one is available", Exec::Data(blmpop), Split::Atomic))
    },
    doc("O(log(N)) with N being the number of elements in the sorted set.", spec("bzpopmin", -3, WRITE | NOSCRIPT | BLOCKING | FAST, KEYS_BUT_LAST, ACL_ZSET_FAST, "sorted-set", "5.0.0", "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available", Exec::Data(bzpopmin), Split::Atomic)),
    doc("O(log(N)) with N being the number of elements in the sorted set.", spec("bzpopmax", -3, WRITE | NOSCRIPT | BLOCKING | FAST, KEYS_BUT_LAST, ACL_ZSET_FAST, "sorted-set", "5.0.0", "Remove and return the member with the highest score from one or more sorted sets, or block until one is available", Exec::Data(bzpopmax), Split::Atomic)),
    CommandSpec {
        getkeys: Some(list::blmpop_keys),
        ..doc("O(K) + O(N*log(M)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.", spec("bzmpop", -5, WRITE | BLOCKING | MOVABLEKEYS, (0, 0, 0), ACL_ZSET_SLOW, "sorted-set", "7.0.0", "Remove and return members with scores in a sorted set or block until one is available", Exec::Data(bzmpop), Split::Atomic))
    },
];

/// Parses a blocking timeout in seconds (decimals allowed) into milliseconds, 0 meaning
/// forever, with Redis's checks and texts: not a number, or negative (a value too large for a
/// signed 64-bit millisecond count also reads as negative, as Redis's conversion makes it).
/// A fraction of a millisecond rounds up, so a tiny timeout never means forever.
pub fn parse_timeout_ms(arg: &[u8]) -> Result<u64, &'static str> {
    // Redis reads a long double, so 1e400 is a number there (and then too large: negative).
    let secs = crate::command::args::parse_f64_opt(arg)
        .or_else(|| std::str::from_utf8(arg).ok()?.parse::<f64>().ok().filter(|v| v.is_infinite()))
        .filter(|v| !v.is_nan())
        .ok_or("ERR timeout is not a float or out of range")?;
    let ms = (secs * 1000.0).ceil();
    if !(0.0..9_223_372_036_854_775_808.0).contains(&ms) {
        return Err("ERR timeout is negative");
    }
    Ok(ms as u64)
}

/// Where a blocking command's timeout argument is: last for the single-shape commands, first
/// for BLMPOP/BZMPOP. None for commands that are not blocking pops.
pub fn timeout_arg<'a>(name: &str, args: &[&'a [u8]]) -> Option<&'a [u8]> {
    match name {
        "blpop" | "brpop" | "brpoplpush" | "blmove" | "bzpopmin" | "bzpopmax" => args.last().copied(),
        "blmpop" | "bzmpop" => args.get(1).copied(),
        _ => None,
    }
}

/// The reply a blocking pop gives when it times out (or may not block): a null bulk for the
/// moves, a null array for the pops.
pub fn write_timeout_reply(name: &str, out: &mut Out) {
    match name {
        "brpoplpush" | "blmove" => out.null(),
        _ => out.null_array(),
    }
}

/// The type a blocked client waits for: a key of another type does not wake it.
pub fn waits_for_zset(name: &str) -> bool {
    matches!(name, "bzpopmin" | "bzpopmax" | "bzmpop")
}

fn blpop(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    pop_generic(ctx, args, out, End::Left)
}

fn brpop(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    pop_generic(ctx, args, out, End::Right)
}

/// BLPOP/BRPOP: the timeout is checked first, then the keys in order; the first list found
/// is popped and answered as `[key, element]`; a key of another type before it is an error.
fn pop_generic(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out, end: End) {
    let last = args.len() - 1;
    if let Err(e) = parse_timeout_ms(args[last]) {
        return out.error(e);
    }
    match list::pop_first_nonempty(ctx, &args[1..last], end, 1) {
        Err(e) => out.error(e),
        Ok(Some((i, popped))) => {
            if let Some(v) = popped.first() {
                out.array(2);
                out.bulk(args[1 + i]);
                out.bulk(v);
            }
        }
        Ok(None) => {}
    }
}

fn parse_end(a: &[u8]) -> Result<End, &'static str> {
    if a.eq_ignore_ascii_case(b"left") {
        Ok(End::Left)
    } else if a.eq_ignore_ascii_case(b"right") {
        Ok(End::Right)
    } else {
        Err(error::SYNTAX)
    }
}

fn brpoplpush(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    move_generic(ctx, args[1], args[2], End::Right, End::Left, args[3], out)
}

fn blmove(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let ends = parse_end(args[3]).and_then(|from| Ok((from, parse_end(args[4])?)));
    match ends {
        Ok((from, to)) => move_generic(ctx, args[1], args[2], from, to, args[5], out),
        Err(e) => out.error(e),
    }
}

/// BLMOVE/BRPOPLPUSH: timeout, then the source's type; an absent source blocks, a present one
/// moves as LMOVE does (the destination's type is checked by the move).
fn move_generic(ctx: &mut DataCtx, src: &[u8], dst: &[u8], from: End, to: End, timeout: &[u8], out: &mut Out) {
    if let Err(e) = parse_timeout_ms(timeout) {
        return out.error(e);
    }
    match list::move_element(ctx, src, dst, from, to) {
        Err(e) => out.error(e),
        Ok(Some(v)) => out.bulk(&v),
        Ok(None) => {}
    }
}

/// BLMPOP timeout numkeys key... LEFT|RIGHT [COUNT n]: the pop arguments are checked before
/// the timeout.
fn blmpop(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let parsed = match list::parse_mpop_args(&args[2..]) {
        Ok(p) => p,
        Err(e) => return out.error(e),
    };
    if let Err(e) = parse_timeout_ms(args[1]) {
        return out.error(e);
    }
    match list::pop_first_nonempty(ctx, parsed.keys, parsed.end, parsed.count) {
        Err(e) => out.error(e),
        Ok(Some((i, popped))) => list::write_mpop_reply(out, parsed.keys[i], &popped),
        Ok(None) => {}
    }
}

fn bzpopmin(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    zpop_generic(ctx, args, out, false)
}

fn bzpopmax(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    zpop_generic(ctx, args, out, true)
}

/// BZPOPMIN/BZPOPMAX: `[key, member, score]` from the first key holding a sorted set.
fn zpop_generic(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out, max: bool) {
    let last = args.len() - 1;
    if let Err(e) = parse_timeout_ms(args[last]) {
        return out.error(e);
    }
    serve_zpop(ctx, &args[1..last], max, -1, false, out)
}

/// BZMPOP timeout numkeys key... MIN|MAX [COUNT n].
fn bzmpop(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let parsed = match zset::parse_mpop(args, 2) {
        Ok(p) => p,
        Err(e) => return out.error(e),
    };
    if let Err(e) = parse_timeout_ms(args[1]) {
        return out.error(e);
    }
    serve_zpop(ctx, &args[parsed.keys.clone()], parsed.max, parsed.count, true, out)
}

/// Pops from the first key holding a sorted set, or writes nothing when none does.
fn serve_zpop(ctx: &mut DataCtx, keys: &[&[u8]], max: bool, count: i64, mpop: bool, out: &mut Out) {
    match zset::ready_zset_key(ctx, keys) {
        Err(e) => out.error(e),
        Ok(Some(i)) => {
            zset::generic_zpop(ctx, &keys[i..i + 1], max, true, count, mpop, mpop, out);
        }
        Ok(None) => {}
    }
}

#[cfg(test)]
mod tests;
