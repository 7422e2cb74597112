//! Single-key sorted-set reads: ZCARD ZCOUNT ZLEXCOUNT ZSCORE ZMSCORE ZRANK ZREVRANK, plus
//! ZRANDMEMBER (Redis's cases: repeats allowed for a negative count, the whole set when the
//! count covers it, else distinct random members) and ZSCAN.
//!
//! Must never modify a set, and must validate arguments in Redis's order (some before the key
//! lookup, some after: ZSCAN options are only read once the key is known to exist).

use super::{parse_lex_range, parse_scan_cursor, parse_score_range, read_zset, word_is, DataCtx, WrongType};
use crate::command::args::parse_i64;
use crate::error;
use crate::glob::glob_match;
use crate::resp::write::fmt_double_17g;
use crate::resp::Out;
use crate::store::types::zset::ZSetValue;
use rand::Rng;

/// Runs `f` on the set under `key`, or writes `missing` / WRONGTYPE.
fn with_zset(
    ctx: &mut DataCtx,
    key: &[u8],
    out: &mut Out,
    missing: impl FnOnce(&mut Out),
    f: impl FnOnce(&ZSetValue, &mut Out),
) {
    match read_zset(ctx, key) {
        Err(WrongType) => out.error(error::WRONGTYPE),
        Ok(None) => missing(out),
        Ok(Some(z)) => f(z, out),
    }
}

pub fn zcard(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    with_zset(ctx, args[1], out, |o| o.int(0), |z, o| o.int(z.len() as i64));
}

pub fn zcount(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    match parse_score_range(args[2], args[3]) {
        Ok(r) => with_zset(ctx, args[1], out, |o| o.int(0), |z, o| o.int(z.count_in_range(&r) as i64)),
        Err(e) => out.error(e),
    }
}

pub fn zlexcount(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    match parse_lex_range(args[2], args[3]) {
        Ok(r) => with_zset(ctx, args[1], out, |o| o.int(0), |z, o| o.int(z.count_in_range(&r) as i64)),
        Err(e) => out.error(e),
    }
}

pub fn zscore(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let m = args[2];
    with_zset(
        ctx,
        args[1],
        out,
        |o| o.null(),
        |z, o| match z.score(m) {
            Some(s) => o.double(s),
            None => o.null(),
        },
    );
}

pub fn zmscore(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let members = &args[2..];
    let write_all = |z: Option<&ZSetValue>, o: &mut Out| {
        o.array(members.len());
        for m in members {
            match z.and_then(|z| z.score(m)) {
                Some(s) => o.double(s),
                None => o.null(),
            }
        }
    };
    with_zset(ctx, args[1], out, |o| write_all(None, o), |z, o| write_all(Some(z), o));
}

pub fn zrank(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    zrank_generic(ctx, args, out, false)
}

pub fn zrevrank(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    zrank_generic(ctx, args, out, true)
}

fn zrank_generic(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out, rev: bool) {
    let m = args[2];
    with_zset(
        ctx,
        args[1],
        out,
        |o| o.null(),
        |z, o| match z.rank(m) {
            Some(r) => o.int(if rev { z.len() - 1 - r } else { r } as i64),
            None => o.null(),
        },
    );
}

pub fn zrandmember(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    if args.len() >= 3 {
        let count = match parse_i64(args[2]) {
            Ok(i64::MIN) => {
                return out.error(
                    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
                )
            }
            Ok(n) => n,
            Err(e) => return out.error(e),
        };
        if args.len() > 4 || (args.len() == 4 && !word_is(args[3], "withscores")) {
            return out.error(error::SYNTAX);
        }
        let withscores = args.len() == 4;
        // Redis refuses counts whose reply length (two per member) would overflow.
        if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
            return out.error("ERR value is out of range");
        }
        return zrandmember_with_count(ctx, args[1], count, withscores, out);
    }
    let key = args[1];
    let size = match read_zset(ctx, key) {
        Err(WrongType) => return out.error(error::WRONGTYPE),
        Ok(None) => return out.null(),
        Ok(Some(z)) if !z.is_empty() => z.len(),
        Ok(_) => return out.null(),
    };
    let r = ctx.rng.gen_range(0..size);
    if let Some((m, _)) = peek_zset(&ctx.store.dbs[ctx.dbi], key).and_then(|z| z.at(r)) {
        out.bulk(m);
    }
}

/// The set under `key`, looked at a second time within one command (no hit counted again).
fn peek_zset<'a>(db: &'a crate::store::Db, key: &[u8]) -> Option<&'a ZSetValue> {
    match db.peek(key).map(|e| &e.value) {
        Some(crate::store::Value::ZSet(z)) => Some(z),
        _ => None,
    }
}

/// Redis's `zrandmemberWithCountCommand`.
fn zrandmember_with_count(ctx: &mut DataCtx, key: &[u8], l: i64, withscores: bool, out: &mut Out) {
    let size = match read_zset(ctx, key) {
        Err(WrongType) => return out.error(error::WRONGTYPE),
        Ok(None) => return out.array(0),
        Ok(Some(z)) => z.len(),
    };
    if size == 0 {
        return out.array(0);
    }
    let (count, uniq) = if l >= 0 { (l as u64, true) } else { (l.unsigned_abs(), false) };
    if count == 0 {
        return out.array(0);
    }
    let pairs = withscores && out.resp3;
    let header = |out: &mut Out, n: u64| {
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        out.array(if withscores && !pairs { n.saturating_mul(2) } else { n })
    };
    // Ranks to emit: with repeats, the whole set, or a distinct sample.
    let ranks: Vec<usize> = if !uniq || count == 1 {
        // Case 1: `count` independent picks. Streamed: the count is the client's.
        header(out, count);
        let rng = &mut *ctx.rng;
        let Some(z) = peek_zset(&ctx.store.dbs[ctx.dbi], key) else { return };
        for _ in 0..count {
            let r = rng.gen_range(0..size);
            emit_member(out, z, r, withscores, pairs);
        }
        return;
    } else if count >= size as u64 {
        // Case 2: the whole set.
        (0..size).collect()
    } else if count * 3 > size as u64 {
        // Case 3: most of the set: shuffle the ranks partially and keep `count` of them.
        let mut all: Vec<usize> = (0..size).collect();
        let n = count as usize;
        for i in 0..n {
            let j = ctx.rng.gen_range(i..size);
            all.swap(i, j);
        }
        all.truncate(n);
        all
    } else {
        // Case 4: few members of a large set: draw ranks until `count` distinct ones.
        let n = count as usize;
        let mut seen = hashbrown::HashSet::with_capacity(n);
        let mut picked = Vec::with_capacity(n);
        while picked.len() < n {
            let r = ctx.rng.gen_range(0..size);
            if seen.insert(r) {
                picked.push(r);
            }
        }
        picked
    };
    header(out, ranks.len() as u64);
    let Some(z) = peek_zset(&ctx.store.dbs[ctx.dbi], key) else { return };
    if ranks.len() == size {
        for (m, s) in z.iter() {
            write_member(out, m, s, withscores, pairs);
        }
    } else {
        for r in ranks {
            emit_member(out, z, r, withscores, pairs);
        }
    }
}

fn emit_member(out: &mut Out, z: &ZSetValue, rank: usize, withscores: bool, pairs: bool) {
    if let Some((m, s)) = z.at(rank) {
        write_member(out, m, s, withscores, pairs);
    }
}

fn write_member(out: &mut Out, m: &[u8], s: f64, withscores: bool, pairs: bool) {
    if pairs {
        out.array(2);
    }
    out.bulk(m);
    if withscores {
        out.double(s);
    }
}

/// ZSCAN key cursor [MATCH pattern] [COUNT count].
pub fn zscan(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let Some(cursor) = parse_scan_cursor(args[2]) else {
        return out.error("ERR invalid cursor");
    };
    let z = match read_zset(ctx, args[1]) {
        Err(WrongType) => return out.error(error::WRONGTYPE),
        Ok(None) => {
            out.array(2);
            out.bulk(b"0");
            return out.array(0);
        }
        Ok(Some(z)) => &*z,
    };
    let mut count = 10usize;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 3;
    while i < args.len() {
        let more = i + 1 < args.len();
        if word_is(args[i], "count") && more {
            match parse_i64(args[i + 1]) {
                Ok(n) if n >= 1 => count = usize::try_from(n).unwrap_or(usize::MAX),
                Ok(_) => return out.error(error::SYNTAX),
                Err(e) => return out.error(e),
            }
        } else if word_is(args[i], "match") && more {
            let p = args[i + 1];
            pattern = if p == b"*" { None } else { Some(p) };
        } else {
            return out.error(error::SYNTAX);
        }
        i += 2;
    }
    let mut found: Vec<(&[u8], f64)> = Vec::new();
    let next = z.scan(cursor, count, |m, s| found.push((m, s)));
    if let Some(p) = pattern {
        found.retain(|(m, _)| glob_match(p, m, false));
    }
    out.array(2);
    out.bulk(next.to_string().as_bytes());
    out.array(found.len() * 2);
    for (m, s) in found {
        out.bulk(m);
        out.bulk(fmt_double_17g(s).as_bytes());
    }
}
