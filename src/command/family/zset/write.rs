//! Sorted-set writes: ZADD and ZINCRBY (Redis's `zaddGenericCommand`), ZREM, the
//! ZREMRANGEBY* trio, and the pops (ZPOPMIN, ZPOPMAX, ZMPOP) whose core `generic_zpop` the
//! blocking forms (BZPOPMIN, BZPOPMAX, BZMPOP) call once a key is ready.
//!
//! Must never leave an empty sorted set behind, and must count `dirty` and raise keyspace
//! events as Redis does: the command's own event when something changed, then `del` when the
//! key was emptied (from `delete_if_empty`).

use super::{
    delete_if_empty, limits, parse_lex_range, parse_score, parse_score_range, store_zset, word_is, write_zset, DataCtx,
    WrongType, ERR_NOT_FLOAT,
};
use crate::command::args::parse_i64;
use crate::error;
use crate::resp::Out;
use crate::store::events::class;
use crate::store::types::zset::{AddFlags, AddOutcome, ZSetValue};

pub fn zadd(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    zadd_generic(ctx, args, out, false)
}

/// ZINCRBY is ZADD with INCR: it even parses ZADD's option words in the increment's place.
pub fn zincrby(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    zadd_generic(ctx, args, out, true)
}

fn zadd_generic(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out, incr_cmd: bool) {
    let key = args[1];
    let mut f = AddFlags { incr: incr_cmd, ..AddFlags::default() };
    let mut ch = false;
    let mut i = 2;
    while let Some(&o) = args.get(i) {
        if word_is(o, "nx") {
            f.nx = true;
        } else if word_is(o, "xx") {
            f.xx = true;
        } else if word_is(o, "ch") {
            ch = true;
        } else if word_is(o, "incr") {
            f.incr = true;
        } else if word_is(o, "gt") {
            f.gt = true;
        } else if word_is(o, "lt") {
            f.lt = true;
        } else {
            break;
        }
        i += 1;
    }
    let pairs = &args[i..];
    if pairs.is_empty() || !pairs.len().is_multiple_of(2) {
        return out.error(error::SYNTAX);
    }
    if f.nx && f.xx {
        return out.error("ERR XX and NX options at the same time are not compatible");
    }
    if (f.nx && (f.gt || f.lt)) || (f.gt && f.lt) {
        return out.error("ERR GT, LT, and/or NX options at the same time are not compatible");
    }
    if f.incr && pairs.len() > 2 {
        return out.error("ERR INCR option supports a single increment-element pair");
    }
    // Every score is checked before anything changes: the command applies fully or not at all.
    let mut scores = Vec::with_capacity(pairs.len() / 2);
    for p in pairs.chunks_exact(2) {
        match parse_score(p[0]) {
            Some(s) => scores.push(s),
            None => return out.error(ERR_NOT_FLOAT),
        }
    }
    let lim = limits(ctx);
    let (mut added, mut updated, mut processed) = (0i64, 0i64, 0i64);
    let mut last_score = 0.0;
    let mut nan = false;
    {
        let mut fresh = None;
        let z = match write_zset(ctx, key) {
            Err(WrongType) => return out.error(error::WRONGTYPE),
            Ok(Some(z)) => z,
            Ok(None) if f.xx => return reply_zadd(out, f.incr, false, 0.0, 0),
            Ok(None) => fresh.insert(ZSetValue::new_for_add(pairs[1].len(), lim)),
        };
        for (p, &score) in pairs.chunks_exact(2).zip(&scores) {
            match z.add(score, p[1], f, lim) {
                AddOutcome::Nan => {
                    nan = true;
                    break;
                }
                AddOutcome::Nop => {}
                AddOutcome::Added(s) => {
                    added += 1;
                    processed += 1;
                    last_score = s;
                }
                AddOutcome::Updated(s) => {
                    updated += 1;
                    processed += 1;
                    last_score = s;
                }
                AddOutcome::Same(s) => {
                    processed += 1;
                    last_score = s;
                }
            }
        }
        if let Some(z) = fresh {
            if !z.is_empty() {
                store_zset(ctx, key, z);
            }
        }
    }
    // A NaN result (INCR only, so a single pair) changed nothing: no event then.
    if added + updated > 0 {
        ctx.notify(class::ZSET, if f.incr { "zincr" } else { "zadd" }, key);
    }
    if nan {
        return out.error("ERR resulting score is not a number (NaN)");
    }
    ctx.dirty((added + updated) as u64);
    reply_zadd(out, f.incr, processed > 0, last_score, if ch { added + updated } else { added });
}

fn reply_zadd(out: &mut Out, incr: bool, processed: bool, score: f64, n: i64) {
    if !incr {
        out.int(n);
    } else if processed {
        out.double(score);
    } else {
        out.null();
    }
}

pub fn zrem(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let key = args[1];
    let deleted = match write_zset(ctx, key) {
        Err(WrongType) => return out.error(error::WRONGTYPE),
        Ok(None) => return out.int(0),
        Ok(Some(z)) => {
            let mut n = 0;
            for m in &args[2..] {
                if z.remove(m) {
                    n += 1;
                    if z.is_empty() {
                        break;
                    }
                }
            }
            n
        }
    };
    if deleted > 0 {
        ctx.notify(class::ZSET, "zrem", key);
        delete_if_empty(ctx, key);
    }
    ctx.dirty(deleted);
    out.int(deleted as i64);
}

/// Which ZREMRANGEBY* command.
enum RemBy {
    Rank(i64, i64),
    Score(crate::store::types::zset::ScoreRange),
    Lex(crate::store::types::zset::LexRange),
}

impl RemBy {
    /// The keyspace event of the command.
    fn event(&self) -> &'static str {
        match self {
            RemBy::Rank(..) => "zremrangebyrank",
            RemBy::Score(_) => "zremrangebyscore",
            RemBy::Lex(_) => "zremrangebylex",
        }
    }
}

pub fn zremrangebyrank(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let (start, end) = match (parse_i64(args[2]), parse_i64(args[3])) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(e), _) | (_, Err(e)) => return out.error(e),
    };
    zremrange_generic(ctx, args[1], RemBy::Rank(start, end), out)
}

pub fn zremrangebyscore(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    match parse_score_range(args[2], args[3]) {
        Ok(r) => zremrange_generic(ctx, args[1], RemBy::Score(r), out),
        Err(e) => out.error(e),
    }
}

pub fn zremrangebylex(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    match parse_lex_range(args[2], args[3]) {
        Ok(r) => zremrange_generic(ctx, args[1], RemBy::Lex(r), out),
        Err(e) => out.error(e),
    }
}

/// Redis's `zremrangeGenericCommand` (the range is parsed before the key is looked up).
fn zremrange_generic(ctx: &mut DataCtx, key: &[u8], by: RemBy, out: &mut Out) {
    let event = by.event();
    let deleted = match write_zset(ctx, key) {
        Err(WrongType) => return out.error(error::WRONGTYPE),
        Ok(None) => return out.int(0),
        Ok(Some(z)) => match by {
            RemBy::Rank(start, end) => match clamp_ranks(start, end, z.len()) {
                Some((s, e)) => z.remove_ranks(s, e, false).0,
                None => return out.int(0),
            },
            RemBy::Score(r) => z.remove_in_range(&r),
            RemBy::Lex(r) => z.remove_in_range(&r),
        },
    };
    if deleted > 0 {
        ctx.notify(class::ZSET, event, key);
        delete_if_empty(ctx, key);
    }
    ctx.dirty(deleted as u64);
    out.int(deleted as i64);
}

/// Redis's rank sanitising (negative ranks count from the end; the range is empty when
/// `start > end` or `start >= len`). Returns 0-based inclusive ranks within the set.
pub(crate) fn clamp_ranks(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let llen = len as i64;
    let mut start = if start < 0 { llen + start } else { start };
    let end = if end < 0 { llen + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        return None;
    }
    let end = end.min(llen - 1);
    Some((start as usize, end as usize))
}

pub fn zpopmin(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    zpop_min_max(ctx, args, out, false)
}

pub fn zpopmax(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    zpop_min_max(ctx, args, out, true)
}

/// `zpopMinMaxCommand`: an optional positive count; RESP3 nests pairs only when a count is
/// given.
fn zpop_min_max(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out, max: bool) {
    if args.len() > 3 {
        return out.error(error::SYNTAX);
    }
    let count = match args.get(2) {
        None => -1,
        Some(c) => match parse_i64(c) {
            Ok(n) if n >= 0 => n,
            _ => return out.error("ERR value is out of range, must be positive"),
        },
    };
    let nested = out.resp3 && count != -1;
    generic_zpop(ctx, &args[1..2], max, false, count, nested, false, out);
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count].
pub fn zmpop(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    match parse_mpop(args, 1) {
        Ok(p) => {
            generic_zpop(ctx, &args[p.keys.clone()], p.max, true, p.count, true, true, out);
        }
        Err(e) => out.error(e),
    }
}

/// Parsed arguments of ZMPOP (and BZMPOP, whose `numkeys` is at 2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MpopArgs {
    pub keys: std::ops::Range<usize>,
    pub max: bool,
    pub count: i64,
}

/// Redis's `zmpopGenericCommand` argument parsing, `numkeys` at `numkeys_at`.
pub fn parse_mpop(args: &[&[u8]], numkeys_at: usize) -> Result<MpopArgs, &'static str> {
    let numkeys = match args.get(numkeys_at).map(|a| parse_i64(a)) {
        Some(Ok(n)) if n >= 1 => n as u64,
        _ => return Err("ERR numkeys should be greater than 0"),
    };
    let where_at = (numkeys_at as u64).saturating_add(numkeys).saturating_add(1);
    let Some(&w) = usize::try_from(where_at).ok().and_then(|i| args.get(i)) else {
        return Err(error::SYNTAX);
    };
    let where_at = where_at as usize;
    let max = if word_is(w, "min") {
        false
    } else if word_is(w, "max") {
        true
    } else {
        return Err(error::SYNTAX);
    };
    let mut count = -1;
    let mut j = where_at + 1;
    while j < args.len() {
        if count == -1 && word_is(args[j], "count") && j + 1 < args.len() {
            j += 1;
            match parse_i64(args[j]) {
                Ok(n) if n >= 1 => count = n,
                _ => return Err("ERR count should be greater than 0"),
            }
        } else {
            return Err(error::SYNTAX);
        }
        j += 1;
    }
    Ok(MpopArgs { keys: numkeys_at + 1..where_at, max, count: if count == -1 { 1 } else { count } })
}

/// For the blocking pops (BZPOPMIN, BZPOPMAX, BZMPOP): the index of the first key holding a
/// sorted set (which is never empty), or None when the client must block; a key of another
/// type before it is an error (WRONGTYPE), as in Redis's `blockingGenericZpopCommand`.
pub fn ready_zset_key(ctx: &mut DataCtx, keys: &[&[u8]]) -> Result<Option<usize>, &'static str> {
    for (i, &k) in keys.iter().enumerate() {
        match write_zset(ctx, k) {
            Err(WrongType) => return Err(error::WRONGTYPE),
            Ok(Some(_)) => return Ok(Some(i)),
            Ok(None) => {}
        }
    }
    Ok(None)
}

/// Redis's `genericZpopCommand`: pops from the first key that holds a sorted set (a key of
/// another type is an error, stopping the search). `count` -1 means one element with the
/// single-pop reply shape. `emitkey` prefixes the key (BZPOP*, ZMPOP); `nested` sends
/// `[member, score]` pairs; `nil_when_empty` answers a null array when no key has elements.
/// Returns whether something was popped (blocking callers keep waiting otherwise).
#[allow(clippy::too_many_arguments)]
pub fn generic_zpop(
    ctx: &mut DataCtx,
    keys: &[&[u8]],
    max: bool,
    emitkey: bool,
    count: i64,
    nested: bool,
    nil_when_empty: bool,
    out: &mut Out,
) -> bool {
    let mut found = None;
    for &k in keys {
        match write_zset(ctx, k) {
            Err(WrongType) => {
                out.error(error::WRONGTYPE);
                return false;
            }
            Ok(None) => continue,
            Ok(Some(_)) => {
                found = Some(k);
                break;
            }
        }
    }
    let Some(key) = found else {
        if nil_when_empty {
            out.null_array();
        } else {
            out.array(0);
        }
        return false;
    };
    if count == 0 {
        out.array(0);
        return false;
    }
    let want = if count < 0 { 1 } else { count as u64 };
    let popped = match write_zset(ctx, key) {
        Ok(Some(z)) => {
            let n = (want.min(z.len() as u64)) as usize;
            let (_, items) = if n == 0 {
                (0, Vec::new())
            } else if max {
                let len = z.len();
                let (c, mut v) = z.remove_ranks(len - n, len - 1, true);
                v.reverse();
                (c, v)
            } else {
                z.remove_ranks(0, n - 1, true)
            };
            items
        }
        _ => Vec::new(),
    };
    match (nested, emitkey) {
        (false, false) => out.array(popped.len() * 2),
        (true, false) => out.array(popped.len()),
        (false, true) => {
            out.array(popped.len() * 2 + 1);
            out.bulk(key);
        }
        (true, true) => {
            out.array(2);
            out.bulk(key);
            out.array(popped.len());
        }
    }
    for (m, s) in &popped {
        if nested {
            out.array(2);
        }
        out.bulk(m);
        out.double(*s);
    }
    if !popped.is_empty() {
        ctx.notify(class::ZSET, if max { "zpopmax" } else { "zpopmin" }, key);
        delete_if_empty(ctx, key);
    }
    ctx.dirty(popped.len() as u64);
    !popped.is_empty()
}
