//! Hash reads: HGET HMGET HEXISTS HLEN HSTRLEN and the whole-hash replies HGETALL HKEYS HVALS.
//! A listpack answers in insertion order, as Redis does; a table in its own order (Redis's
//! is unspecified too). Must never write: reads only count hits and refresh the access clock.

use super::read_hash;
use crate::command::spec::DataCtx;
use crate::error;
use crate::resp::Out;

pub fn hget(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    match read_hash(ctx, args[1]) {
        Err(_) => out.error(error::WRONGTYPE),
        Ok(h) => out.bulk_or_null(h.and_then(|h| h.get(args[2]))),
    }
}

pub fn hmget(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    match read_hash(ctx, args[1]) {
        Err(_) => out.error(error::WRONGTYPE),
        Ok(h) => {
            let fields = args.get(2..).unwrap_or_default();
            out.array(fields.len());
            for f in fields {
                out.bulk_or_null(h.and_then(|h| h.get(f)));
            }
        }
    }
}

/// HEXISTS answers an integer in RESP3 too (Redis's `shared.cone`/`czero`).
pub fn hexists(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    match read_hash(ctx, args[1]) {
        Err(_) => out.error(error::WRONGTYPE),
        Ok(h) => out.int(h.is_some_and(|h| h.contains(args[2])) as i64),
    }
}

pub fn hlen(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    match read_hash(ctx, args[1]) {
        Err(_) => out.error(error::WRONGTYPE),
        Ok(h) => out.int(h.map_or(0, |h| h.len()) as i64),
    }
}

pub fn hstrlen(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    match read_hash(ctx, args[1]) {
        Err(_) => out.error(error::WRONGTYPE),
        Ok(h) => out.int(h.and_then(|h| h.get(args[2])).map_or(0, |v| v.len()) as i64),
    }
}

/// A map in RESP3 (`%`), a flat array in RESP2; a missing key is the empty map.
pub fn hgetall(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    match read_hash(ctx, args[1]) {
        Err(_) => out.error(error::WRONGTYPE),
        Ok(None) => out.map(0),
        Ok(Some(h)) => {
            out.map(h.len());
            for (f, v) in h.iter() {
                out.bulk(f);
                out.bulk(v);
            }
        }
    }
}

pub fn hkeys(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    match read_hash(ctx, args[1]) {
        Err(_) => out.error(error::WRONGTYPE),
        Ok(None) => out.array(0),
        Ok(Some(h)) => {
            out.array(h.len());
            for (f, _) in h.iter() {
                out.bulk(f);
            }
        }
    }
}

pub fn hvals(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    match read_hash(ctx, args[1]) {
        Err(_) => out.error(error::WRONGTYPE),
        Ok(None) => out.array(0),
        Ok(Some(h)) => {
            out.array(h.len());
            for (_, v) in h.iter() {
                out.bulk(v);
            }
        }
    }
}
