//! The ZRANGE family, all through Redis's `zrangeGenericCommand`: ZRANGE (BYSCORE, BYLEX,
//! REV, LIMIT, WITHSCORES), ZRANGESTORE, and the legacy ZREVRANGE, ZRANGEBYSCORE,
//! ZREVRANGEBYSCORE, ZRANGEBYLEX, ZREVRANGEBYLEX, which are the same parser with the range
//! type or direction fixed (so an option that would change a fixed one is a syntax error).
//!
//! Must never: look the key up before the arguments are fully validated (Redis reports
//! argument errors first), or copy members for a plain read.

use super::write::clamp_ranks;
use super::{
    limits, parse_lex_range, parse_score_range, read_zset, reply_members, store_zset, word_is, DataCtx, WrongType,
};
use crate::command::args::parse_i64;
use crate::error;
use crate::resp::Out;
use crate::store::events::class;
use crate::store::types::zset::{AddFlags, RangeSpec, ZSetValue};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum RangeType {
    Auto,
    Rank,
    Score,
    Lex,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Direction {
    Auto,
    Forward,
    Reverse,
}

pub fn zrange(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    zrange_generic(ctx, args, out, 1, false, RangeType::Auto, Direction::Auto)
}
pub fn zrangestore(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    zrange_generic(ctx, args, out, 2, true, RangeType::Auto, Direction::Auto)
}
pub fn zrevrange(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    zrange_generic(ctx, args, out, 1, false, RangeType::Rank, Direction::Reverse)
}
pub fn zrangebyscore(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    zrange_generic(ctx, args, out, 1, false, RangeType::Score, Direction::Forward)
}
pub fn zrevrangebyscore(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    zrange_generic(ctx, args, out, 1, false, RangeType::Score, Direction::Reverse)
}
pub fn zrangebylex(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    zrange_generic(ctx, args, out, 1, false, RangeType::Lex, Direction::Forward)
}
pub fn zrevrangebylex(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    zrange_generic(ctx, args, out, 1, false, RangeType::Lex, Direction::Reverse)
}

/// A parsed range, ready to run against a set.
enum Query {
    Rank(i64, i64),
    Score(crate::store::types::zset::ScoreRange),
    Lex(crate::store::types::zset::LexRange),
}

fn zrange_generic(
    ctx: &mut DataCtx,
    args: &[&[u8]],
    out: &mut Out,
    src_at: usize,
    store: bool,
    mut rtype: RangeType,
    mut dir: Direction,
) {
    let (mut minidx, mut maxidx) = (src_at + 1, src_at + 2);
    let mut withscores = false;
    let (mut offset, mut limit) = (0i64, -1i64);
    let mut j = src_at + 3;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = args[j];
        if !store && word_is(a, "withscores") {
            withscores = true;
        } else if word_is(a, "limit") && left >= 2 {
            match (parse_i64(args[j + 1]), parse_i64(args[j + 2])) {
                (Ok(o), Ok(l)) => (offset, limit) = (o, l),
                (Err(e), _) | (_, Err(e)) => return out.error(e),
            }
            j += 2;
        } else if dir == Direction::Auto && word_is(a, "rev") {
            dir = Direction::Reverse;
        } else if rtype == RangeType::Auto && word_is(a, "bylex") {
            rtype = RangeType::Lex;
        } else if rtype == RangeType::Auto && word_is(a, "byscore") {
            rtype = RangeType::Score;
        } else {
            return out.error(error::SYNTAX);
        }
        j += 1;
    }
    if dir == Direction::Auto {
        dir = Direction::Forward;
    }
    if rtype == RangeType::Auto {
        rtype = RangeType::Rank;
    }
    // Redis tests the limit value, so `LIMIT 0 -1` passes with a rank range.
    if limit != -1 && rtype == RangeType::Rank {
        return out.error("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
    }
    if withscores && rtype == RangeType::Lex {
        return out.error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    }
    let rev = dir == Direction::Reverse;
    if rev && rtype != RangeType::Rank {
        // Reverse score and lex ranges are written max first.
        std::mem::swap(&mut minidx, &mut maxidx);
    }
    let query = match rtype {
        RangeType::Auto | RangeType::Rank => match (parse_i64(args[minidx]), parse_i64(args[maxidx])) {
            (Ok(s), Ok(e)) => Query::Rank(s, e),
            (Err(e), _) | (_, Err(e)) => return out.error(e),
        },
        RangeType::Score => match parse_score_range(args[minidx], args[maxidx]) {
            Ok(r) => Query::Score(r),
            Err(e) => return out.error(e),
        },
        RangeType::Lex => match parse_lex_range(args[minidx], args[maxidx]) {
            Ok(r) => Query::Lex(r),
            Err(e) => return out.error(e),
        },
    };
    let src = args[src_at];
    let z = match read_zset(ctx, src) {
        Err(WrongType) => return out.error(error::WRONGTYPE),
        Ok(z) => z,
    };
    if !store {
        let items = match z {
            Some(z) => run_query(z, &query, rev, offset, limit),
            None => Vec::new(),
        };
        return reply_members(out, &items, withscores);
    }
    let owned: Vec<(Vec<u8>, f64)> = match z {
        Some(z) => run_query(z, &query, rev, offset, limit).into_iter().map(|(m, s)| (m.to_vec(), s)).collect(),
        None => Vec::new(),
    };
    // A rank query knows its length up front; score and lex queries do not.
    let known_len = matches!(query, Query::Rank(..)).then_some(owned.len());
    store_result(ctx, args[1], &owned, known_len, out);
}

/// Redis's `zrangeResultBeginStore` and `zrangeResultFinalizeStore`: the destination starts as
/// a skiplist when the known result length exceeds the listpack limit, else as a listpack; the
/// entries go in in emission order as `zsetAdd` adds them (so a listpack converts where Redis
/// converts, and turns `-0` into `0` until then); an empty result deletes the destination.
/// Events as Redis's: `new` (destination absent) then `zrangestore`, or `del` for a deletion.
fn store_result(ctx: &mut DataCtx, dst: &[u8], items: &[(Vec<u8>, f64)], known_len: Option<usize>, out: &mut Out) {
    if items.is_empty() {
        out.int(0);
        if ctx.db().remove(dst).is_some() {
            ctx.notify(class::GENERIC, "del", dst);
            ctx.dirty(1);
        }
        return;
    }
    let lim = limits(ctx);
    let mut z = match known_len {
        Some(n) if n > lim.max_entries => ZSetValue::Skiplist(Box::default()),
        _ => ZSetValue::new_listpack(),
    };
    for (m, s) in items {
        z.add(*s, m, AddFlags::default(), lim);
    }
    let n = z.len();
    store_zset(ctx, dst, z);
    ctx.notify(class::ZSET, "zrangestore", dst);
    ctx.dirty(1);
    out.int(n as i64);
}

fn run_query<'a>(z: &'a ZSetValue, q: &Query, rev: bool, offset: i64, limit: i64) -> Vec<(&'a [u8], f64)> {
    match q {
        Query::Rank(start, end) => by_rank(z, *start, *end, rev),
        Query::Score(r) => by_range(z, r, rev, offset, limit),
        Query::Lex(r) => by_range(z, r, rev, offset, limit),
    }
}

/// `genericZrangebyrankCommand`.
fn by_rank(z: &ZSetValue, start: i64, end: i64, rev: bool) -> Vec<(&[u8], f64)> {
    let len = z.len();
    let Some((s, e)) = clamp_ranks(start, end, len) else { return Vec::new() };
    let n = e - s + 1;
    let from = if rev { len - 1 - s } else { s };
    z.iter_from(from, rev).take(n).collect()
}

/// `genericZrangebyscoreCommand` / `genericZrangebylexCommand`: start at the first (or last,
/// reversed) entry in range, skip `offset` entries, then emit while in range, at most `limit`
/// (a negative limit is no limit; a negative offset walks off the end, so nothing).
fn by_range<'a>(z: &'a ZSetValue, r: &impl RangeSpec, rev: bool, offset: i64, limit: i64) -> Vec<(&'a [u8], f64)> {
    let len = z.len();
    if offset < 0 || (offset > 0 && offset as u64 >= len as u64) {
        return Vec::new();
    }
    let start = if rev { z.last_in_range(r) } else { z.first_in_range(r) };
    let Some(start) = start else { return Vec::new() };
    let offset = offset as usize;
    let from = if rev { start.checked_sub(offset) } else { start.checked_add(offset).filter(|&p| p < len) };
    let Some(from) = from else { return Vec::new() };
    let max = if limit < 0 { usize::MAX } else { limit as usize };
    z.iter_from(from, rev)
        .take_while(|(m, s)| if rev { r.gte_min(*s, m) } else { r.lte_max(*s, m) })
        .take(max)
        .collect()
}
