//! Hash writes: HSET HMSET HSETNX HDEL HINCRBY HINCRBYFLOAT, with Redis 7.0's argument checks in
//! its order, its encoding conversions and its `server.dirty` counts. HINCRBYFLOAT adds in C
//! `long double` like Redis (through `src/native/longdouble.c`).
//!
//! Must never leave an empty hash stored: HDEL removes the key with its last field.

use super::{limits, with_hash_or_create, write_hash};
use crate::command::args::parse_i64;
use crate::command::family::string::{long_double_add as add_long_double, LdError};
use crate::command::spec::DataCtx;
use crate::error;
use crate::resp::parse::parse_i64_strict;
use crate::resp::Out;
use crate::store::events::class;
use crate::store::CompactBytes;

/// HSET and HMSET: `key field value [field value ...]`.
fn set_pairs(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) -> Option<i64> {
    // The table's arity is a minimum; an odd pair count is checked here, as Redis does.
    if args.len() % 2 == 1 {
        out.error(&error::wrong_arity(args[0]));
        return None;
    }
    let lim = limits(ctx);
    let pairs = args.get(2..).unwrap_or_default();
    let created = with_hash_or_create(ctx, args[1], |h| {
        h.convert_for_args(pairs, lim);
        pairs.chunks_exact(2).filter(|p| h.set(p[0], p[1], lim)).count() as i64
    });
    match created {
        Err(_) => {
            out.error(error::WRONGTYPE);
            None
        }
        Ok(n) => {
            // HMSET too: Redis raises `hset` even when no field changed.
            ctx.notify(class::HASH, "hset", args[1]);
            ctx.dirty((pairs.len() / 2) as u64);
            Some(n)
        }
    }
}

pub fn hset(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    if let Some(created) = set_pairs(ctx, args, out) {
        out.int(created);
    }
}

pub fn hmset(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    if set_pairs(ctx, args, out).is_some() {
        out.ok();
    }
}

pub fn hsetnx(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let lim = limits(ctx);
    let (field, value) = (args[2], args[3]);
    // Redis checks for the field before converting for long arguments: an HSETNX that sets
    // nothing leaves the encoding alone.
    let set = with_hash_or_create(ctx, args[1], |h| {
        if h.contains(field) {
            return false;
        }
        h.convert_for_args(&[field, value], lim);
        h.set(field, value, lim);
        true
    });
    match set {
        Err(_) => out.error(error::WRONGTYPE),
        Ok(set) => {
            if set {
                ctx.notify(class::HASH, "hset", args[1]);
                ctx.dirty(1);
            }
            out.int(set as i64);
        }
    }
}

pub fn hdel(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let key = args[1];
    let (deleted, emptied) = match write_hash(ctx, key) {
        Err(_) => return out.error(error::WRONGTYPE),
        Ok(None) => return out.int(0),
        Ok(Some(h)) => {
            let mut deleted = 0i64;
            for f in args.get(2..).unwrap_or_default() {
                if h.remove(f) {
                    deleted += 1;
                    if h.is_empty() {
                        break;
                    }
                }
            }
            (deleted, h.is_empty())
        }
    };
    if deleted > 0 {
        ctx.notify(class::HASH, "hdel", key);
    }
    if emptied {
        ctx.db().remove(key);
        ctx.notify(class::GENERIC, "del", key);
    }
    ctx.dirty(deleted as u64);
    out.int(deleted);
}

pub fn hincrby(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let incr = match parse_i64(args[3]) {
        Ok(n) => n,
        Err(e) => return out.error(e),
    };
    let lim = limits(ctx);
    let field = args[2];
    let res = with_hash_or_create(ctx, args[1], |h| {
        let old = match h.get(field) {
            None => 0,
            Some(v) => parse_i64_strict(v).ok_or("ERR hash value is not an integer")?,
        };
        let new = old.checked_add(incr).ok_or(error::OVERFLOW)?;
        let mut tmp = [0u8; 24];
        h.set_owned(field, CompactBytes::new(crate::resp::write::fmt_i64(&mut tmp, new)), lim);
        Ok::<i64, &'static str>(new)
    });
    match res {
        Err(_) => out.error(error::WRONGTYPE),
        Ok(Err(e)) => out.error(e),
        Ok(Ok(n)) => {
            ctx.notify(class::HASH, "hincrby", args[1]);
            ctx.dirty(1);
            out.int(n);
        }
    }
}

pub fn hincrbyfloat(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let incr = args[3];
    // Redis parses the increment on its own first (before the type check), and refuses an
    // infinite one with its own text; "0 + incr" runs exactly that check.
    match add_long_double(b"0", incr) {
        Ok(_) => {}
        Err(LdError::Nan) => return out.error("ERR value is NaN or Infinity"),
        Err(_) => return out.error(error::NOT_FLOAT),
    }
    let lim = limits(ctx);
    let field = args[2];
    let res = with_hash_or_create(ctx, args[1], |h| {
        let sum = add_long_double(h.get(field).unwrap_or(b"0"), incr).map_err(|e| match e {
            LdError::Nan => "ERR increment would produce NaN or Infinity",
            LdError::BadCurrent | LdError::BadIncrement => "ERR hash value is not a float",
        })?;
        h.set(field, &sum, lim);
        Ok::<Vec<u8>, &'static str>(sum)
    });
    match res {
        Err(_) => out.error(error::WRONGTYPE),
        Ok(Err(e)) => out.error(e),
        Ok(Ok(sum)) => {
            ctx.notify(class::HASH, "hincrbyfloat", args[1]);
            ctx.dirty(1);
            out.bulk(&sum);
        }
    }
}
