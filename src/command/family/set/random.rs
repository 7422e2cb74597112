//! SPOP and SRANDMEMBER. Replies are random, but their shapes and rules are Redis 7.0's: SPOP
//! with a count answers a set (`~` in RESP3) of distinct members, SRANDMEMBER with a count an
//! array (`*` in RESP3, even for a positive count), distinct for a positive count and with
//! repetitions for a negative one. Members are drawn uniformly with `ctx.rng`; Redis's choice
//! of sampling strategies by size ratio is not copied (the replies obey the same rules).

use super::{read_set, reply_member, set_of_mut};
use crate::command::spec::DataCtx;
use crate::error;
use crate::resp::Out;
use crate::store::events::class;
use crate::store::types::set::SetValue;

/// `getPositiveLongFromObjectOrReply` with no message: any failure, parse or sign, is this.
const NOT_POSITIVE: &str = "ERR value is out of range, must be positive";
/// `getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX)` without a message.
const NOT_IN_LONG_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";

/// Redis's `SPOP_MOVE_STRATEGY_MUL`: SPOP with a count rebuilds the set from what remains
/// when the remaining members times this are at most the count.
const SPOP_MOVE_STRATEGY_MUL: u64 = 5;

pub(super) fn spop(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    match args.len() {
        2 => spop_one(ctx, args[1], out),
        3 => spop_count(ctx, args, out),
        _ => out.error(error::SYNTAX),
    }
}

fn spop_one(ctx: &mut DataCtx, key: &[u8], out: &mut Out) {
    let rng = &mut *ctx.rng;
    let now_ms = ctx.now_ms;
    let lfu = crate::store::keyspace::Lfu::of(ctx.cfg);
    let db = &mut ctx.store.dbs[ctx.dbi];
    let Some(e) = db.get(key, now_ms) else { return out.null() };
    e.touch(now_ms, lfu);
    let Some(set) = set_of_mut(&mut e.value) else { return out.error(error::WRONGTYPE) };
    match set.pop_random(rng) {
        Some(m) => reply_member(out, m.as_member()),
        None => out.null(),
    }
    let emptied = set.is_empty();
    ctx.notify(class::SET, "spop", key);
    if emptied {
        ctx.db().remove(key);
        ctx.notify(class::GENERIC, "del", key);
    }
    ctx.dirty(1);
}

fn spop_count(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let key = args[1];
    let count = match crate::command::args::parse_i64(args[2]) {
        Ok(n) if n >= 0 => n as u64,
        _ => return out.error(NOT_POSITIVE),
    };
    let rng = &mut *ctx.rng;
    let now_ms = ctx.now_ms;
    let lfu = crate::store::keyspace::Lfu::of(ctx.cfg);
    let max_intset = ctx.cfg.set_max_intset_entries;
    let db = &mut ctx.store.dbs[ctx.dbi];
    let Some(e) = db.get(key, now_ms) else { return out.set(0) };
    e.touch(now_ms, lfu);
    let Some(set) = set_of_mut(&mut e.value) else { return out.error(error::WRONGTYPE) };
    if count == 0 {
        return out.set(0);
    }
    let size = set.len() as u64;
    if count >= size {
        // The whole set, and the key goes away.
        out.set(set.len());
        for m in set.iter() {
            reply_member(out, m);
        }
        db.remove(key);
        ctx.notify(class::SET, "spop", key);
        ctx.notify(class::GENERIC, "del", key);
    } else {
        out.set(count as usize);
        for _ in 0..count {
            match set.pop_random(rng) {
                Some(m) => reply_member(out, m.as_member()),
                None => debug_assert!(false, "SPOP ran out of members below the set size"),
            }
        }
        // Redis keeps the remaining members in a new set when they are few next to the count
        // (remaining * 5 <= count), built as adding them one by one would: an intset when they
        // are all integers, however the set was encoded before.
        if (size - count).saturating_mul(SPOP_MOVE_STRATEGY_MUL) <= count {
            let rest: Vec<Vec<u8>> = {
                let mut v = Vec::with_capacity(set.len());
                set.for_each_member(|m| v.push(m.to_vec()));
                v
            };
            *set = SetValue::from_members(rest.iter().map(|m| m.as_slice()), max_intset);
        }
        ctx.notify(class::SET, "spop", key);
    }
    // Redis counts the requested count plus one, whichever path it took.
    ctx.dirty(count.saturating_add(1));
}

pub(super) fn srandmember(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    match args.len() {
        2 => srandmember_one(ctx, args[1], out),
        3 => srandmember_count(ctx, args, out),
        _ => out.error(error::SYNTAX),
    }
}

fn srandmember_one(ctx: &mut DataCtx, key: &[u8], out: &mut Out) {
    let mut rng = ctx.rng.clone();
    let set = match read_set(ctx, key) {
        Err(e) => return out.error(e),
        Ok(None) => return out.null(),
        Ok(Some(s)) => s,
    };
    match set.random(&mut rng) {
        Some(m) => reply_member(out, m),
        None => out.null(),
    }
    *ctx.rng = rng;
}

fn srandmember_count(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let n = match crate::command::args::parse_i64(args[2]) {
        Err(e) => return out.error(e),
        Ok(i64::MIN) => return out.error(NOT_IN_LONG_RANGE),
        Ok(n) => n,
    };
    let mut rng = ctx.rng.clone();
    let set = match read_set(ctx, args[1]) {
        Err(e) => return out.error(e),
        Ok(None) => return out.array(0),
        Ok(Some(s)) => s,
    };
    let size = set.len();
    if n == 0 || size == 0 {
        out.array(0);
    } else if n < 0 {
        // Repetitions allowed: every draw samples the whole set.
        let count = n.unsigned_abs();
        out.array(count as usize);
        for _ in 0..count {
            if let Some(m) = set.random(&mut rng) {
                reply_member(out, m);
            }
        }
    } else if n as u64 >= size as u64 {
        out.array(size);
        for m in set.iter() {
            reply_member(out, m);
        }
    } else {
        let count = n as usize;
        out.array(count);
        for i in rand::seq::index::sample(&mut rng, size, count).iter() {
            if let Some(m) = set.get(i) {
                reply_member(out, m);
            }
        }
    }
    *ctx.rng = rng;
}
