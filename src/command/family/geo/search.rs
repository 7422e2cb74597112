//! GEOSEARCH, GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and the `_RO` forms: one parser
//! and one search, as Redis's `georadiusGeneric`.
//!
//! A search covers the shape with the cell holding its centre plus the eight around it, at a
//! step chosen from the shape's size (one step coarser when a neighbour does not reach the
//! bounding box; neighbours wholly outside it are dropped), and scans each cell's score range
//! in the order centre, N, S, E, W, NE, NW, SE, SW. That order, the per-cell ascending score
//! order, `COUNT n ANY` stopping early, and the sort (see `order.rs`: ties keep whatever order
//! the algorithm leaves) decide the reply, so all follow Redis.
//!
//! Must never write a key other than the STORE destination, nor leave it empty.

use super::distance::{estimate_steps, Extent, Shape};
use super::geohash::{
    decode, decode_score, encode, neighbours, score_range, Area, HashBits, Range, LAT_RANGE, LON_RANGE,
};
use super::order::{merge_sort, partial_sort, Cmp};
use super::{fmt_distance, parse_lonlat, parse_size, parse_unit, reply_coord, ERR_DECODE_MEMBER};
use crate::command::args::parse_i64;
use crate::command::family::zset::{limits, read_zset, store_zset, word_is, WrongType};
use crate::command::spec::DataCtx;
use crate::error;
use crate::resp::Out;
use crate::store::bytes::CompactBytes;
use crate::store::events::class;
use crate::store::types::zset::{cmp_entry, RangeSpec, ScoreRange, ZSetValue};
use crate::store::Value;

/// Which command is running (Redis's RADIUS_COORDS / RADIUS_MEMBER / NOSTORE / GEOSEARCH*
/// flags).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flavor {
    Radius { ro: bool },
    ByMember { ro: bool },
    Search,
    SearchStore,
}

impl Flavor {
    fn is_search(self) -> bool {
        matches!(self, Flavor::Search | Flavor::SearchStore)
    }
    /// GEORADIUS* accept STORE / STOREDIST <key>; the `_RO` forms and GEOSEARCH* do not.
    fn takes_store_key(self) -> bool {
        matches!(self, Flavor::Radius { ro: false } | Flavor::ByMember { ro: false })
    }
}

pub fn georadius(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    run(ctx, args, out, Flavor::Radius { ro: false })
}

pub fn georadius_ro(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    run(ctx, args, out, Flavor::Radius { ro: true })
}

pub fn georadiusbymember(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    run(ctx, args, out, Flavor::ByMember { ro: false })
}

pub fn georadiusbymember_ro(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    run(ctx, args, out, Flavor::ByMember { ro: true })
}

pub fn geosearch(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    run(ctx, args, out, Flavor::Search)
}

pub fn geosearchstore(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    run(ctx, args, out, Flavor::SearchStore)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// A parsed search. The centre or the extent may be missing only when the source key does
/// not exist (Redis then parses on without them and answers the empty result).
struct Query<'a> {
    centre: Option<(f64, f64)>,
    extent: Option<Extent>,
    conversion: f64,
    withdist: bool,
    withhash: bool,
    withcoord: bool,
    sort: Sort,
    count: u64,
    any: bool,
    store: Option<&'a [u8]>,
    storedist: bool,
}

/// The source set without side effects (the counted lookup was done first).
fn peek_zset<'a>(ctx: &'a DataCtx, key: &[u8]) -> Option<&'a ZSetValue> {
    match &ctx.store.dbs.get(ctx.dbi)?.peek(key)?.value {
        Value::ZSet(z) => Some(z),
        _ => None,
    }
}

fn member_lonlat(z: &ZSetValue, member: &[u8]) -> Result<(f64, f64), String> {
    z.score(member).map(decode_score).ok_or_else(|| ERR_DECODE_MEMBER.to_string())
}

/// `radius unit`: (radius in the unit, metres per unit).
fn parse_radius(r: &[u8], unit: &[u8]) -> Result<(f64, f64), String> {
    let radius = parse_size(r, "radius")?;
    if radius < 0.0 {
        return Err("ERR radius cannot be negative".into());
    }
    Ok((radius, parse_unit(unit)?))
}

/// `width height unit`.
fn parse_box(w: &[u8], h: &[u8], unit: &[u8]) -> Result<(Extent, f64), String> {
    let width = parse_size(w, "width")?;
    let height = parse_size(h, "height")?;
    if height < 0.0 || width < 0.0 {
        return Err("ERR height or width cannot be negative".into());
    }
    Ok((Extent::Box { width, height }, parse_unit(unit)?))
}

/// Redis's argument walk: errors are reported in argument order, the first one wins.
fn parse<'a>(args: &[&'a [u8]], flavor: Flavor, z: Option<&ZSetValue>) -> Result<Query<'a>, String> {
    let mut q = Query {
        centre: None,
        extent: None,
        conversion: 1.0,
        withdist: false,
        withhash: false,
        withcoord: false,
        sort: Sort::None,
        count: 0,
        any: false,
        store: None,
        storedist: false,
    };
    let base = match flavor {
        Flavor::Radius { .. } => {
            q.centre = Some(parse_lonlat(args[2], args[3])?);
            let (r, conv) = parse_radius(args[4], args[5])?;
            q.extent = Some(Extent::Radius(r));
            q.conversion = conv;
            6
        }
        Flavor::ByMember { .. } => {
            // Without a source the member and radius are not even looked at.
            if let Some(z) = z {
                q.centre = Some(member_lonlat(z, args[2])?);
                let (r, conv) = parse_radius(args[3], args[4])?;
                q.extent = Some(Extent::Radius(r));
                q.conversion = conv;
            }
            5
        }
        Flavor::Search => 2,
        Flavor::SearchStore => {
            q.store = Some(args[1]);
            3
        }
    };
    let rest = args.get(base..).unwrap_or(&[]);
    let n = rest.len();
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let search = flavor.is_search();
    let mut i = 0;
    while i < n {
        let a = rest[i];
        if word_is(a, "withdist") {
            q.withdist = true;
        } else if word_is(a, "withhash") {
            q.withhash = true;
        } else if word_is(a, "withcoord") {
            q.withcoord = true;
        } else if word_is(a, "any") {
            q.any = true;
        } else if word_is(a, "asc") {
            q.sort = Sort::Asc;
        } else if word_is(a, "desc") {
            q.sort = Sort::Desc;
        } else if word_is(a, "count") && i + 1 < n {
            let c = parse_i64(rest[i + 1])?;
            if c <= 0 {
                return Err("ERR COUNT must be > 0".into());
            }
            q.count = c as u64;
            i += 1;
        } else if (word_is(a, "store") || word_is(a, "storedist")) && i + 1 < n && flavor.takes_store_key() {
            q.store = Some(rest[i + 1]);
            q.storedist = word_is(a, "storedist");
            i += 1;
        } else if word_is(a, "storedist") && flavor == Flavor::SearchStore {
            q.storedist = true;
        } else if word_is(a, "frommember") && i + 1 < n && search && !fromloc {
            if let Some(z) = z {
                q.centre = Some(member_lonlat(z, rest[i + 1])?);
            }
            frommember = true;
            i += 1;
        } else if word_is(a, "fromlonlat") && i + 2 < n && search && !frommember {
            q.centre = Some(parse_lonlat(rest[i + 1], rest[i + 2])?);
            fromloc = true;
            i += 2;
        } else if word_is(a, "byradius") && i + 2 < n && search && !bybox {
            let (r, conv) = parse_radius(rest[i + 1], rest[i + 2])?;
            q.extent = Some(Extent::Radius(r));
            q.conversion = conv;
            byradius = true;
            i += 2;
        } else if word_is(a, "bybox") && i + 3 < n && search && !byradius {
            let (extent, conv) = parse_box(rest[i + 1], rest[i + 2], rest[i + 3])?;
            q.extent = Some(extent);
            q.conversion = conv;
            bybox = true;
            i += 3;
        } else {
            return Err(error::SYNTAX.into());
        }
        i += 1;
    }
    if q.store.is_some() && (q.withdist || q.withhash || q.withcoord) {
        let who = if flavor == Flavor::SearchStore { "GEOSEARCHSTORE" } else { "STORE option in GEORADIUS" };
        return Err(format!("ERR {who} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"));
    }
    // The command name is quoted as the client typed it.
    let name = || String::from_utf8_lossy(args[0]).into_owned();
    if search && !(frommember || fromloc) {
        return Err(format!("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {}", name()));
    }
    if search && !(byradius || bybox) {
        return Err(format!("ERR exactly one of BYRADIUS and BYBOX can be specified for {}", name()));
    }
    if q.any && q.count == 0 {
        return Err("ERR the ANY argument requires COUNT argument".into());
    }
    Ok(q)
}

fn run(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out, flavor: Flavor) {
    let src = if flavor == Flavor::SearchStore { args[2] } else { args[1] };
    let exists = match read_zset(ctx, src) {
        Err(WrongType) => return out.error(error::WRONGTYPE),
        Ok(z) => z.is_some(),
    };
    let parsed = parse(args, flavor, peek_zset(ctx, src));
    let q = match parsed {
        Ok(q) => q,
        Err(e) => return out.error(&e),
    };
    let shape = match (exists, q.centre, q.extent) {
        (true, Some((lon, lat)), Some(extent)) => Shape { lon, lat, conversion: q.conversion, extent },
        _ => {
            // No source: the empty result (a STORE destination is deleted).
            return match q.store {
                Some(dst) => finish_store(ctx, out, flavor, dst, Vec::new()),
                None => out.array(0),
            };
        }
    };
    let limit = if q.any { q.count as usize } else { 0 };
    let mut points = match peek_zset(ctx, src) {
        Some(z) => collect(z, &cells_for(&shape), &shape, limit),
        None => Vec::new(),
    };
    if points.is_empty() && q.store.is_none() {
        return out.array(0);
    }
    let sort = if q.count != 0 && q.sort == Sort::None && !q.any { Sort::Asc } else { q.sort };
    let returned = if q.count == 0 { points.len() } else { points.len().min(q.count as usize) };
    let asc = |a: &Point, b: &Point| cmp_dist(a.dist, b.dist);
    let desc = |a: &Point, b: &Point| -cmp_dist(a.dist, b.dist);
    let cmp: Option<Cmp<Point>> = match sort {
        Sort::None => None,
        Sort::Asc => Some(&asc),
        Sort::Desc => Some(&desc),
    };
    // Redis sorts everything with qsort, or only the wanted ranks with its partial quicksort.
    match cmp {
        Some(cmp) if returned == points.len() => merge_sort(&mut points, cmp),
        Some(cmp) if returned > 0 => partial_sort(&mut points, cmp, 0, returned - 1),
        _ => {}
    }
    points.truncate(returned);
    for p in &mut points {
        p.dist /= shape.conversion;
    }
    match q.store {
        Some(dst) => {
            let items = points
                .into_iter()
                .map(|p| (if q.storedist { p.dist } else { p.score }, CompactBytes::from_vec(p.member)))
                .collect();
            finish_store(ctx, out, flavor, dst, items)
        }
        None => reply_points(out, &q, &points),
    }
}

fn reply_points(out: &mut Out, q: &Query, points: &[Point]) {
    let extra = usize::from(q.withdist) + usize::from(q.withhash) + usize::from(q.withcoord);
    out.array(points.len());
    for p in points {
        if extra > 0 {
            out.array(extra + 1);
        }
        out.bulk(&p.member);
        if q.withdist {
            out.bulk(fmt_distance(p.dist).as_bytes());
        }
        if q.withhash {
            out.int(p.score as i64);
        }
        if q.withcoord {
            out.array(2);
            reply_coord(out, p.lon);
            reply_coord(out, p.lat);
        }
    }
}

/// Stores the result under `dst` (replacing it and its TTL), or deletes `dst` when there is
/// none; replies with the number of members stored.
fn finish_store(ctx: &mut DataCtx, out: &mut Out, flavor: Flavor, dst: &[u8], items: Vec<(f64, CompactBytes)>) {
    let n = items.len();
    // A NaN distance cannot be a score (Redis would abort on it); such points are left out.
    let mut items: Vec<(f64, CompactBytes)> = items.into_iter().filter(|(s, _)| !s.is_nan()).collect();
    if items.is_empty() {
        if ctx.db().remove(dst).is_some() {
            ctx.notify(class::GENERIC, "del", dst);
            ctx.dirty(1);
        }
        return out.int(n as i64);
    }
    items.sort_by(|a, b| cmp_entry(a.0, a.1.as_slice(), b.0, b.1.as_slice()));
    let z = ZSetValue::from_sorted(items, limits(ctx));
    store_zset(ctx, dst, z);
    let event = if flavor.is_search() { "geosearchstore" } else { "georadiusstore" };
    ctx.notify(class::ZSET, event, dst);
    ctx.dirty(n as u64);
    out.int(n as i64);
}

// ---- the search ----

/// A point found inside the shape.
#[derive(Clone, Debug)]
struct Point {
    lon: f64,
    lat: f64,
    /// Metres from the centre (in the user's unit once the result is cut to COUNT).
    dist: f64,
    score: f64,
    member: Vec<u8>,
}

/// The bounds of a cell; NaN bounds (which compare false) for the impossible undecodable one.
fn cell_area(h: HashBits) -> Area {
    const NAN: Range = Range { min: f64::NAN, max: f64::NAN };
    decode(LON_RANGE, LAT_RANGE, h).unwrap_or(Area { lon: NAN, lat: NAN })
}

/// The cells to scan, in Redis's order: the centre's, then N, S, E, W, NE, NW, SE, SW (a
/// dropped neighbour is `HashBits::NONE`).
fn cells_for(shape: &Shape) -> [HashBits; 9] {
    let [min_lon, min_lat, max_lon, max_lat] = shape.bounding_box();
    let mut steps = estimate_steps(shape.reach_m(), shape.lat);
    let centre_cell = |steps: u8| {
        encode(LON_RANGE, LAT_RANGE, shape.lon, shape.lat, steps).unwrap_or(HashBits { bits: 0, step: steps })
    };
    let mut hash = centre_cell(steps);
    let mut nb = neighbours(hash);
    let decrease = cell_area(nb.north).lat.max < max_lat
        || cell_area(nb.south).lat.min > min_lat
        || cell_area(nb.east).lon.max < max_lon
        || cell_area(nb.west).lon.min > min_lon;
    if steps > 1 && decrease {
        steps -= 1;
        hash = centre_cell(steps);
        nb = neighbours(hash);
    }
    let area = cell_area(hash);
    if steps >= 2 {
        if area.lat.min < min_lat {
            nb.south = HashBits::NONE;
            nb.south_west = HashBits::NONE;
            nb.south_east = HashBits::NONE;
        }
        if area.lat.max > max_lat {
            nb.north = HashBits::NONE;
            nb.north_east = HashBits::NONE;
            nb.north_west = HashBits::NONE;
        }
        if area.lon.min < min_lon {
            nb.west = HashBits::NONE;
            nb.south_west = HashBits::NONE;
            nb.north_west = HashBits::NONE;
        }
        if area.lon.max > max_lon {
            nb.east = HashBits::NONE;
            nb.south_east = HashBits::NONE;
            nb.north_east = HashBits::NONE;
        }
    }
    [hash, nb.north, nb.south, nb.east, nb.west, nb.north_east, nb.north_west, nb.south_east, nb.south_west]
}

/// Scans the cells. With `limit` (COUNT n ANY) it stops once `limit` points are found.
fn collect(z: &ZSetValue, cells: &[HashBits; 9], shape: &Shape, limit: usize) -> Vec<Point> {
    let mut found = Vec::new();
    let full = |found: &Vec<Point>| limit > 0 && found.len() >= limit;
    // Huge shapes can make neighbours coincide: a cell equal to the last one scanned is
    // skipped. As in Redis, "the last one scanned" is never the centre cell (index 0).
    let mut last = 0usize;
    for (i, &cell) in cells.iter().enumerate() {
        if cell.is_none() || (last != 0 && cells[last] == cell) {
            continue;
        }
        if full(&found) {
            break;
        }
        let (min, max) = score_range(cell);
        let range = ScoreRange { min, max, minex: false, maxex: true };
        if let Some(first) = z.first_in_range(&range) {
            for (member, score) in z.iter_from(first, false) {
                if !range.lte_max(score, member) {
                    break;
                }
                let (lon, lat) = decode_score(score);
                if let Some(dist) = shape.distance_if_inside(lon, lat) {
                    found.push(Point { lon, lat, dist, score, member: member.to_vec() });
                }
                if full(&found) {
                    break;
                }
            }
        }
        last = i;
    }
    found
}

/// Redis's distance comparator (NaN compares as "less", as its `>`/`==` tests make it).
fn cmp_dist(a: f64, b: f64) -> i32 {
    if a > b {
        1
    } else if a == b {
        0
    } else {
        -1
    }
}
