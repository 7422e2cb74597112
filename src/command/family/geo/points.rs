//! The point commands: GEOADD (a ZADD whose scores are computed from coordinates), GEODIST,
//! GEOHASH and GEOPOS.
//!
//! GEOADD validates every coordinate before changing anything, then runs the zset family's
//! ZADD with the same option words, so its reply, dirty count, encodings, errors (WRONGTYPE
//! included) and keyspace events (`new`, `zadd`) are ZADD's, as in Redis. It must never
//! change the key before every coordinate has been checked.

use super::distance::distance_m;
use super::geohash::{decode_score, encode_wgs84, geohash_string};
use super::{fmt_distance, parse_lonlat, parse_unit, reply_coord};
use crate::command::family::zset::{read_zset, word_is, zadd, WrongType};
use crate::command::spec::DataCtx;
use crate::error;
use crate::resp::Out;

pub fn geoadd(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let (mut nx, mut xx) = (false, false);
    let mut first = 2;
    while let Some(&o) = args.get(first) {
        if word_is(o, "nx") {
            nx = true;
        } else if word_is(o, "xx") {
            xx = true;
        } else if !word_is(o, "ch") {
            break;
        }
        first += 1;
    }
    let triples = &args[first..];
    if !triples.len().is_multiple_of(3) || (nx && xx) {
        return out.error(error::SYNTAX);
    }
    let mut scores = Vec::with_capacity(triples.len() / 3);
    for t in triples.chunks_exact(3) {
        match parse_lonlat(t[0], t[1]) {
            // Valid coordinates always encode; 0 stands for the impossible failure.
            Ok((lon, lat)) => scores.push(encode_wgs84(lon, lat).map_or(0, |h| h.align52()).to_string()),
            Err(e) => return out.error(&e),
        }
    }
    // ZADD key [NX|XX] [CH] score member ...: the option words pass through unchanged (ZADD
    // with no pairs left answers the syntax error, as Redis's does).
    let mut zargs: Vec<&[u8]> = Vec::with_capacity(first + scores.len() * 2);
    zargs.push(b"zadd");
    zargs.extend_from_slice(&args[1..first]);
    for (t, s) in triples.chunks_exact(3).zip(&scores) {
        zargs.push(s.as_bytes());
        zargs.push(t[2]);
    }
    // ZADD raises the events (`new`, then `zadd` when a member was added or updated).
    zadd(ctx, &zargs, out);
}

pub fn geodist(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let to_m = match args.get(4) {
        None => 1.0,
        Some(_) if args.len() > 5 => return out.error(error::SYNTAX),
        Some(u) => match parse_unit(u) {
            Ok(f) => f,
            Err(e) => return out.error(e),
        },
    };
    let z = match read_zset(ctx, args[1]) {
        Err(WrongType) => return out.error(error::WRONGTYPE),
        Ok(None) => return out.null(),
        Ok(Some(z)) => z,
    };
    let (Some(s1), Some(s2)) = (z.score(args[2]), z.score(args[3])) else {
        return out.null();
    };
    let (x1, y1) = decode_score(s1);
    let (x2, y2) = decode_score(s2);
    out.bulk(fmt_distance(distance_m(x1, y1, x2, y2) / to_m).as_bytes());
}

pub fn geohash(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let z = match read_zset(ctx, args[1]) {
        Err(WrongType) => return out.error(error::WRONGTYPE),
        Ok(z) => z,
    };
    out.array(args.len() - 2);
    for m in &args[2..] {
        match z.as_ref().and_then(|z| z.score(m)) {
            Some(score) => out.bulk(&geohash_string(score)),
            None => out.null(),
        }
    }
}

pub fn geopos(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let z = match read_zset(ctx, args[1]) {
        Err(WrongType) => return out.error(error::WRONGTYPE),
        Ok(z) => z,
    };
    out.array(args.len() - 2);
    for m in &args[2..] {
        match z.as_ref().and_then(|z| z.score(m)) {
            Some(score) => {
                let (lon, lat) = decode_score(score);
                out.array(2);
                reply_coord(out, lon);
                reply_coord(out, lat);
            }
            None => out.null_array(),
        }
    }
}
