//! ZUNION, ZINTER, ZDIFF, their *STORE forms and ZINTERCARD: Redis's
//! `zunionInterDiffGenericCommand`. Inputs may be sorted sets or plain sets (whose members
//! count with score 1); WEIGHTS multiply (a NaN product counts as 0), AGGREGATE SUM|MIN|MAX
//! combines (a NaN sum counts as 0).
//!
//! Floating-point sums depend on their order, so the order is Redis's: for union and
//! intersection the inputs are sorted by cardinality (stably), then combined in that order;
//! ZDIFF keeps the first key first. Keys are type-checked before the options are parsed, as
//! Redis does. Must never change a source key, even when the destination is one of them.
//! A stored result raises `new` (when the destination was absent) then the command's event;
//! an empty result that deletes the destination raises `del`.

use super::{limits, parse_score, store_zset, word_is, DataCtx, ZSetValue};
use crate::command::args::parse_i64;
use crate::command::family::keymiss;
use crate::error;
use crate::resp::Out;
use crate::store::bytes::CompactBytes;
use crate::store::events::class;
use crate::store::types::set::{Member, SetValue};
use crate::store::types::zset::cmp_entry;
use crate::store::Value;
use std::borrow::Cow;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

pub fn zunion(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    generic(ctx, args, out, "zunion", None, Op::Union, false)
}
pub fn zinter(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    generic(ctx, args, out, "zinter", None, Op::Inter, false)
}
pub fn zdiff(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    generic(ctx, args, out, "zdiff", None, Op::Diff, false)
}
pub fn zunionstore(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    generic(ctx, args, out, "zunionstore", Some(args[1]), Op::Union, false)
}
pub fn zinterstore(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    generic(ctx, args, out, "zinterstore", Some(args[1]), Op::Inter, false)
}
pub fn zdiffstore(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    generic(ctx, args, out, "zdiffstore", Some(args[1]), Op::Diff, false)
}
pub fn zintercard(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    generic(ctx, args, out, "zintercard", None, Op::Inter, true)
}

/// One input: a sorted set, a set, or a missing key (an empty input).
#[derive(Clone, Copy)]
enum Src<'a> {
    Missing,
    Z(&'a ZSetValue),
    S(&'a SetValue),
}

impl<'a> Src<'a> {
    fn len(&self) -> usize {
        match self {
            Src::Missing => 0,
            Src::Z(z) => z.len(),
            Src::S(s) => s.len(),
        }
    }

    /// Every member with its score (1 for set members).
    fn entries(&self) -> Vec<(Cow<'a, [u8]>, f64)> {
        match *self {
            Src::Missing => Vec::new(),
            Src::Z(z) => z.iter().map(|(m, s)| (Cow::Borrowed(m), s)).collect(),
            Src::S(s) => s
                .iter()
                .map(|m| match m {
                    Member::Int(n) => (Cow::Owned(n.to_string().into_bytes()), 1.0),
                    Member::Bytes(b) => (Cow::Borrowed(b), 1.0),
                })
                .collect(),
        }
    }

    fn find(&self, m: &[u8]) -> Option<f64> {
        match self {
            Src::Missing => None,
            Src::Z(z) => z.score(m),
            Src::S(s) => s.contains(m).then_some(1.0),
        }
    }
}

fn aggregate(target: &mut f64, v: f64, how: Aggregate) {
    match how {
        Aggregate::Sum => {
            *target += v;
            // inf + -inf: Redis keeps 0 rather than NaN.
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if v < *target {
                *target = v;
            }
        }
        Aggregate::Max => {
            if v > *target {
                *target = v;
            }
        }
    }
}

fn weighted(score: f64, weight: f64) -> f64 {
    let v = score * weight;
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

/// Parsed options after the keys.
struct Opts {
    weights: Vec<f64>,
    how: Aggregate,
    withscores: bool,
    limit: u64,
}

fn parse_opts(rest: &[&[u8]], setnum: usize, op: Op, store: bool, card: bool) -> Result<Opts, &'static str> {
    let mut o = Opts { weights: vec![1.0; setnum], how: Aggregate::Sum, withscores: false, limit: 0 };
    let mut j = 0;
    while j < rest.len() {
        let remaining = rest.len() - j;
        let a = rest[j];
        if op != Op::Diff && !card && remaining > setnum && word_is(a, "weights") {
            for (i, w) in rest[j + 1..=j + setnum].iter().enumerate() {
                o.weights[i] = parse_score(w).ok_or("ERR weight value is not a float")?;
            }
            j += setnum + 1;
        } else if op != Op::Diff && !card && remaining >= 2 && word_is(a, "aggregate") {
            let v = rest[j + 1];
            o.how = if word_is(v, "sum") {
                Aggregate::Sum
            } else if word_is(v, "min") {
                Aggregate::Min
            } else if word_is(v, "max") {
                Aggregate::Max
            } else {
                return Err(error::SYNTAX);
            };
            j += 2;
        } else if !store && !card && word_is(a, "withscores") {
            o.withscores = true;
            j += 1;
        } else if card && remaining >= 2 && word_is(a, "limit") {
            match parse_i64(rest[j + 1]) {
                Ok(n) if n >= 0 => o.limit = n as u64,
                _ => return Err("ERR LIMIT can't be negative"),
            }
            j += 2;
        } else {
            return Err(error::SYNTAX);
        }
    }
    Ok(o)
}

fn generic(
    ctx: &mut DataCtx,
    args: &[&[u8]],
    out: &mut Out,
    name: &'static str,
    dst: Option<&[u8]>,
    op: Op,
    card: bool,
) {
    let nk = if dst.is_some() { 2 } else { 1 };
    let setnum = match parse_i64(args[nk]) {
        Ok(n) => n,
        Err(e) => return out.error(e),
    };
    if setnum < 1 {
        return out.error(&format!("ERR at least 1 input key is needed for '{name}' command"));
    }
    if setnum as u64 > (args.len() - (nk + 1)) as u64 {
        return out.error(error::SYNTAX);
    }
    let setnum = setnum as usize;
    let keys = &args[nk + 1..nk + 1 + setnum];
    // Lookups first (lazy expiry, hit/miss counting), failing on the first key of a wrong type.
    for k in keys {
        let now_ms = ctx.now_ms;
        let lfu = crate::store::keyspace::Lfu::of(ctx.cfg);
        let store = &mut *ctx.store;
        match store.dbs[ctx.dbi].get(k, now_ms) {
            None => {
                store.keyspace_misses += 1;
                keymiss(&mut store.events, ctx.cfg.notify_keyspace_events, ctx.dbi, k);
            }
            Some(e) => {
                store.keyspace_hits += 1;
                e.touch(now_ms, lfu);
                if !matches!(e.value, Value::ZSet(_) | Value::Set(_)) {
                    return out.error(error::WRONGTYPE);
                }
            }
        }
    }
    let opts = match parse_opts(&args[nk + 1 + setnum..], setnum, op, dst.is_some(), card) {
        Ok(o) => o,
        Err(e) => return out.error(e),
    };
    let db = &ctx.store.dbs[ctx.dbi];
    let mut srcs: Vec<(Src, f64)> = keys
        .iter()
        .zip(&opts.weights)
        .map(|(k, &w)| {
            let s = match db.peek(k).map(|e| &e.value) {
                Some(Value::ZSet(z)) => Src::Z(z),
                Some(Value::Set(s)) => Src::S(s),
                _ => Src::Missing,
            };
            (s, w)
        })
        .collect();
    if op != Op::Diff {
        // Smallest first, as Redis's qsort by cardinality (stable here, as glibc's merge sort).
        srcs.sort_by_key(|(s, _)| s.len());
    }
    let mut cardinality = 0u64;
    let mut result: Vec<(f64, CompactBytes)> = Vec::new();
    match op {
        Op::Inter => {
            if srcs[0].0.len() > 0 {
                let (first, w0) = srcs[0];
                for (m, s0) in first.entries() {
                    let mut score = weighted(s0, w0);
                    let mut everywhere = true;
                    for &(src, w) in &srcs[1..] {
                        match src.find(&m) {
                            Some(v) => aggregate(&mut score, v * w, opts.how),
                            None => {
                                everywhere = false;
                                break;
                            }
                        }
                    }
                    if !everywhere {
                        continue;
                    }
                    if card {
                        cardinality += 1;
                        if opts.limit != 0 && cardinality >= opts.limit {
                            break;
                        }
                    } else {
                        result.push((score, CompactBytes::new(&m)));
                    }
                }
            }
        }
        Op::Union => {
            let mut acc: hashbrown::HashMap<Cow<[u8]>, f64> = hashbrown::HashMap::new();
            for &(src, w) in &srcs {
                for (m, s) in src.entries() {
                    let score = weighted(s, w);
                    match acc.get_mut(m.as_ref()) {
                        Some(t) => aggregate(t, score, opts.how),
                        None => {
                            acc.insert(m, score);
                        }
                    }
                }
            }
            result = acc.into_iter().map(|(m, s)| (s, CompactBytes::new(&m))).collect();
        }
        Op::Diff => {
            let (first, _) = srcs[0];
            for (m, s) in first.entries() {
                if !srcs[1..].iter().any(|(src, _)| src.find(&m).is_some()) {
                    result.push((s, CompactBytes::new(&m)));
                }
            }
        }
    }
    if card {
        return out.int(cardinality as i64);
    }
    result.sort_by(|a, b| cmp_entry(a.0, &a.1, b.0, &b.1));
    let Some(dst) = dst else {
        let items: Vec<(&[u8], f64)> = result.iter().map(|(s, m)| (m.as_slice(), *s)).collect();
        return super::reply_members(out, &items, opts.withscores);
    };
    if result.is_empty() {
        out.int(0);
        if ctx.db().remove(dst).is_some() {
            ctx.notify(class::GENERIC, "del", dst);
            ctx.dirty(1);
        }
        return;
    }
    let n = result.len();
    let z = ZSetValue::from_sorted(result, limits(ctx));
    store_zset(ctx, dst, z);
    // `name` is the command's own name, which is Redis's event name for the stores.
    ctx.notify(class::ZSET, name, dst);
    ctx.dirty(1);
    out.int(n as i64);
}
