//! The geo family: GEOADD GEODIST GEOHASH GEOPOS GEOSEARCH GEOSEARCHSTORE and the GEORADIUS
//! family (GEORADIUS, GEORADIUSBYMEMBER, their `_RO` forms), over sorted sets whose scores
//! are 52-bit geohashes.
//!
//! This file owns the table and what the commands share: coordinate, unit and distance
//! argument parsing with Redis 7.0's acceptance rules and error texts, and the two number
//! formats of geo replies (coordinates as `%.17Lf` with trailing zeros dropped, distances
//! rounded to 4 decimals). The pieces live in `geo/`: `geohash` (the 52-bit encoding and
//! neighbour cells), `distance` (haversine, shapes, bounding boxes), `order` (the sorts of
//! search results), `points` (GEOADD GEODIST
//! GEOHASH GEOPOS) and `search` (GEOSEARCH, GEOSEARCHSTORE, GEORADIUS*). The sorted sets
//! themselves are the zset family's (`store/types/zset.rs`, `family/zset.rs`).
//!
//! Every function runs on the shard owning its keys (or a coordinator's scratch store) and
//! must never touch sockets, other shards or the clock. Replies are Redis 7.0.15's, byte for
//! byte.

mod distance;
mod geohash;
mod order;
mod points;
mod search;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_search;

use crate::command::family::zset::{parse_score, word_is};
use crate::command::spec::{flag, spec, CommandSpec, Exec, Split};
use crate::resp::Out;

use flag::{DENYOOM, MOVABLEKEYS, READONLY, WRITE};

const ACL_READ: &[&str] = &["@read", "@geo", "@slow"];
const ACL_WRITE: &[&str] = &["@write", "@geo", "@slow"];
const ONE_KEY: (i32, i32, i32) = (1, 1, 1);
const GROUP: &str = "geo";

const SEARCH_CX: &str = "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape";
const RADIUS_CX: &str = "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.";

/// `spec` plus the complexity text `COMMAND DOCS` shows.
const fn doc(complexity: &'static str, s: CommandSpec) -> CommandSpec {
    CommandSpec { complexity, ..s }
}

/// `doc` plus a key-position function (GEORADIUS and GEORADIUSBYMEMBER: their STORE keys).
const fn movable(complexity: &'static str, getkeys: fn(&[&[u8]]) -> Vec<usize>, s: CommandSpec) -> CommandSpec {
    CommandSpec { complexity, getkeys: Some(getkeys), ..s }
}

// One command per line reads as a table; rustfmt would spread each over a dozen lines.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    doc("O(log(N)) for each item added, where N is the number of elements in the sorted set.", spec("geoadd", -5, WRITE | DENYOOM, ONE_KEY, ACL_WRITE, GROUP, "3.2.0", "Add one or more geospatial items in the geospatial index represented using a sorted set", Exec::Data(points::geoadd), Split::None)),
    doc("O(log(N))", spec("geodist", -4, READONLY, ONE_KEY, ACL_READ, GROUP, "3.2.0", "Returns the distance between two members of a geospatial index", Exec::Data(points::geodist), Split::None)),
    doc("O(log(N)) for each member requested, where N is the number of elements in the sorted set.", spec("geohash", -2, READONLY, ONE_KEY, ACL_READ, GROUP, "3.2.0", "Returns members of a geospatial index as standard geohash strings", Exec::Data(points::geohash), Split::None)),
    doc("O(N) where N is the number of members requested.", spec("geopos", -2, READONLY, ONE_KEY, ACL_READ, GROUP, "3.2.0", "Returns longitude and latitude of members of a geospatial index", Exec::Data(points::geopos), Split::None)),
    doc(SEARCH_CX, spec("geosearch", -7, READONLY, ONE_KEY, ACL_READ, GROUP, "6.2.0", "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.", Exec::Data(search::geosearch), Split::None)),
    doc(SEARCH_CX, spec("geosearchstore", -8, WRITE | DENYOOM, (1, 2, 1), ACL_WRITE, GROUP, "6.2.0", "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.", Exec::Data(search::geosearchstore), Split::Atomic)),
    movable(RADIUS_CX, georadius_keys, spec("georadius", -6, WRITE | DENYOOM | MOVABLEKEYS, ONE_KEY, ACL_WRITE, GROUP, "3.2.0", "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point", Exec::Data(search::georadius), Split::Atomic)),
    movable(RADIUS_CX, georadiusbymember_keys, spec("georadiusbymember", -5, WRITE | DENYOOM | MOVABLEKEYS, ONE_KEY, ACL_WRITE, GROUP, "3.2.0", "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member", Exec::Data(search::georadiusbymember), Split::Atomic)),
    doc(RADIUS_CX, spec("georadius_ro", -6, READONLY, ONE_KEY, ACL_READ, GROUP, "3.2.10", "A read-only variant for GEORADIUS", Exec::Data(search::georadius_ro), Split::None)),
    doc(RADIUS_CX, spec("georadiusbymember_ro", -5, READONLY, ONE_KEY, ACL_READ, GROUP, "3.2.10", "A read-only variant for GEORADIUSBYMEMBER", Exec::Data(search::georadiusbymember_ro), Split::None)),
];

/// Keys of GEORADIUS: the source, then the keys its options may write (see `radius_keys`).
pub fn georadius_keys(args: &[&[u8]]) -> Vec<usize> {
    radius_keys(args, 6)
}

/// Keys of GEORADIUSBYMEMBER.
pub fn georadiusbymember_keys(args: &[&[u8]]) -> Vec<usize> {
    radius_keys(args, 5)
}

/// The source key, then, as Redis 7.0's key specs find them, the key after the first `STORE`
/// and after the first `STOREDIST` from argument `from` on; then the key the command really
/// writes (after the last STORE/STOREDIST of its option walk) if it is not listed yet, so a
/// cross-shard run always covers the destination.
fn radius_keys(args: &[&[u8]], from: usize) -> Vec<usize> {
    let mut keys = vec![1];
    for kw in ["store", "storedist"] {
        if let Some(i) = (from..args.len().saturating_sub(1)).find(|&i| word_is(args[i], kw)) {
            keys.push(i + 1);
        }
    }
    let mut written = None;
    let mut i = from;
    while i < args.len() {
        let takes_value = word_is(args[i], "count") || word_is(args[i], "store") || word_is(args[i], "storedist");
        if takes_value && i + 1 < args.len() {
            if !word_is(args[i], "count") {
                written = Some(i + 1);
            }
            i += 1;
        }
        i += 1;
    }
    if let Some(w) = written.filter(|w| !keys.contains(w)) {
        keys.push(w);
    }
    keys
}

// ---- argument parsing ----

const ERR_UNIT: &str = "ERR unsupported unit provided. please use M, KM, FT, MI";
pub(crate) const ERR_DECODE_MEMBER: &str = "ERR could not decode requested zset member";

/// A longitude/latitude pair: two floats (Redis's `getDoubleFromObject` rules), then the
/// Mercator limits, whose error prints both numbers as `%f`.
fn parse_lonlat(lon: &[u8], lat: &[u8]) -> Result<(f64, f64), String> {
    let (Some(lon), Some(lat)) = (parse_score(lon), parse_score(lat)) else {
        return Err(crate::error::NOT_FLOAT.to_string());
    };
    let lon_ok = (geohash::LON_MIN..=geohash::LON_MAX).contains(&lon);
    let lat_ok = (geohash::LAT_MIN..=geohash::LAT_MAX).contains(&lat);
    if !lon_ok || !lat_ok {
        return Err(format!("ERR invalid longitude,latitude pair {lon:.6},{lat:.6}"));
    }
    Ok((lon, lat))
}

/// Metres per unit: `m`, `km`, `ft` or `mi`, any case.
fn parse_unit(u: &[u8]) -> Result<f64, &'static str> {
    if word_is(u, "m") {
        Ok(1.0)
    } else if word_is(u, "km") {
        Ok(1000.0)
    } else if word_is(u, "ft") {
        Ok(0.3048)
    } else if word_is(u, "mi") {
        Ok(1609.34)
    } else {
        Err(ERR_UNIT)
    }
}

/// A non-negative size in the user's unit; `what` names it in the error (`radius`, `width`).
fn parse_size(b: &[u8], what: &'static str) -> Result<f64, String> {
    parse_score(b).ok_or_else(|| format!("ERR need numeric {what}"))
}

// ---- reply formats ----

/// A coordinate as Redis prints it: `%.17Lf` of the (exactly widened) double, trailing zeros
/// and a bare trailing dot dropped, `-0` shown as `0`.
pub(crate) fn fmt_coord(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let mut s = format!("{v:.17}");
    if s.contains('.') {
        let trimmed = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(trimmed);
    }
    if s == "-0" {
        s = "0".into();
    }
    s
}

/// A distance rounded to 4 decimals as Redis 7.0 does it: the value times 10^4 rounded to
/// the nearest integer (ties to even, as `llrint`), then printed in fixed point. A product
/// outside the 64-bit range (or NaN) gives `llrint`'s invalid result, the most negative one.
pub(crate) fn fmt_distance(d: f64) -> String {
    if d == 0.0 {
        return "0.0000".into();
    }
    let r = (d * 10000.0).round_ties_even();
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    let v: i64 = if r.is_nan() || !(-TWO_63..TWO_63).contains(&r) { i64::MIN } else { r as i64 };
    let mag = v.unsigned_abs();
    format!("{}{}.{:04}", if v < 0 { "-" } else { "" }, mag / 10000, mag % 10000)
}

/// A coordinate reply: a bulk string in RESP2, a double in RESP3 (Redis's
/// `addReplyHumanLongDouble`).
pub(crate) fn reply_coord(out: &mut Out, v: f64) {
    let s = fmt_coord(v);
    if out.resp3 {
        out.raw(b",");
        out.raw(s.as_bytes());
        out.raw(b"\r\n");
    } else {
        out.bulk(s.as_bytes());
    }
}
