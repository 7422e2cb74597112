//! Geo commands: GEOADD (NX XX CH), GEOPOS, GEOHASH, GEODIST, GEOSEARCH, GEOSEARCHSTORE
//! (STOREDIST) and the GEORADIUS family with STORE/STOREDIST. Points cluster around a few
//! centres (searches find many, some at equal distances), sit on the edges (longitude ±180,
//! the Mercator latitude limits), or are spread out; some coordinates are invalid.

use crate::all::gen::{b, Cmd, Gen};
use crate::all::keyspace::Fam;

const CLUSTERS: &[(f64, f64)] =
    &[(13.36, 38.11), (-122.4, 37.7), (179.95, 0.5), (-179.95, -0.5), (10.0, 85.0), (139.7, 35.7)];

fn member(g: &mut Gen) -> Vec<u8> {
    match g.range(0, 100) {
        0..=84 => format!("m{}", g.range(0, 40)).into_bytes(),
        85..=92 => g.num(0, 20),
        93..=96 => format!("{}{}", "L".repeat(70), g.range(0, 3)).into_bytes(),
        _ => b("nomember"),
    }
}

fn fmt(g: &mut Gen, v: f64) -> String {
    match g.range(0, 4) {
        0 => format!("{v:.2}"),
        1 => format!("{v:.6}"),
        _ => format!("{v}"),
    }
}

fn point(g: &mut Gen) -> (Vec<u8>, Vec<u8>) {
    let (lon, lat) = match g.range(0, 100) {
        0..=59 => {
            let (lon, lat) = CLUSTERS[g.range(0, CLUSTERS.len() as i64) as usize];
            let spread = *[0.0001, 0.01, 0.5, 3.0].get(g.range(0, 4) as usize).unwrap_or(&0.01);
            let lon = (lon + g.rng_f64(-spread, spread)).clamp(-180.0, 180.0);
            let lat = (lat + g.rng_f64(-spread, spread)).clamp(-85.05112878, 85.05112878);
            (fmt(g, lon), fmt(g, lat))
        }
        60..=79 => {
            let lon = g.rng_f64(-180.0, 180.0);
            let lat = g.rng_f64(-85.05112878, 85.05112878);
            (fmt(g, lon), fmt(g, lat))
        }
        80..=94 => {
            let lon = g.pick(&["180", "-180", "179.9999999", "-179.9999999", "0", "-0", "1e-300"]);
            let lat = g.pick(&["85.05112878", "-85.05112878", "85.0511287", "-85.05", "0", "-0.0", "45"]);
            (lon.to_string(), lat.to_string())
        }
        _ => {
            let bad = g.pick(&["180.0000001", "-181", "abc", "nan", "inf", "", " 1"]);
            if g.chance(0.5) {
                (bad.to_string(), "12.5".to_string())
            } else {
                ("12.5".to_string(), g.pick(&["85.05112879", "-90", "90", "abc"]).to_string())
            }
        }
    };
    (lon.into_bytes(), lat.into_bytes())
}

fn unit(g: &mut Gen) -> Vec<u8> {
    b(g.pick(&["m", "km", "KM", "ft", "mi", "m", "km", "yd"]))
}

fn size(g: &mut Gen) -> Vec<u8> {
    match g.range(0, 100) {
        0..=4 => b("0"),
        5..=34 => g.num(1, 2000),
        35..=74 => g.num(1, 500_000),
        75..=89 => g.num(500_000, 20_000_000),
        90..=95 => b(g.pick(&["0.5", "12.25", "1e3"])),
        _ => b(g.pick(&["-1", "abc", "", "nan"])),
    }
}

pub fn gen(g: &mut Gen) -> Cmd {
    match g.range(0, 100) {
        0..=24 => geoadd(g),
        25..=27 => refill(g),
        28..=35 => {
            let mut a = vec![b(g.pick(&["GEOPOS", "GEOHASH"])), g.key(Fam::Geo)];
            for _ in 0..g.range(0, 4) {
                a.push(member(g));
            }
            Cmd::new(a)
        }
        36..=45 => {
            let mut a = vec![b("GEODIST"), g.key(Fam::Geo), member(g), member(g)];
            if g.chance(0.6) {
                a.push(if g.chance(0.95) { unit(g) } else { b("parsec") });
            }
            Cmd::new(a)
        }
        46..=69 => {
            let mut a = vec![b("GEOSEARCH"), g.key(Fam::Geo)];
            a.extend(centre_and_shape(g));
            a.extend(options(g, true));
            Cmd::new(a)
        }
        70..=79 => {
            let mut a = vec![b("GEOSEARCHSTORE"), g.write_key(Fam::Geo), g.key(Fam::Geo)];
            a.extend(centre_and_shape(g));
            let with = g.chance(0.05);
            a.extend(options(g, with));
            if g.chance(0.4) {
                a.push(b("STOREDIST"));
            }
            Cmd::new(a)
        }
        _ => georadius(g),
    }
}

fn geoadd(g: &mut Gen) -> Cmd {
    let mut a = vec![b("GEOADD"), g.write_key(Fam::Geo)];
    for opt in ["NX", "XX", "CH"] {
        if g.chance(0.12) {
            a.push(b(opt));
        }
    }
    for _ in 0..g.range(1, 6) {
        let (lon, lat) = point(g);
        a.extend([lon, lat, member(g)]);
    }
    if g.chance(0.03) {
        a.pop();
    }
    Cmd::new(a)
}

/// Many points at once, so the key becomes a skiplist and searches return a lot.
fn refill(g: &mut Gen) -> Cmd {
    let mut a = vec![b("GEOADD"), g.home(Fam::Geo)];
    let base = g.range(0, 100);
    for i in 0..g.range(60, 200) {
        let (lon, lat) = CLUSTERS[g.range(0, CLUSTERS.len() as i64) as usize];
        let lon = (lon + g.rng_f64(-2.0, 2.0)).clamp(-180.0, 180.0);
        let lat = (lat + g.rng_f64(-2.0, 2.0)).clamp(-85.05, 85.05);
        a.extend([fmt(g, lon).into_bytes(), fmt(g, lat).into_bytes(), format!("p{}", base + i).into_bytes()]);
    }
    Cmd::new(a)
}

/// Search options in random order: WITH*, ASC/DESC, COUNT [ANY], sometimes wrong.
fn options(g: &mut Gen, with: bool) -> Vec<Vec<u8>> {
    let mut opts: Vec<Vec<Vec<u8>>> = Vec::new();
    if with {
        for w in ["WITHCOORD", "WITHDIST", "WITHHASH"] {
            if g.chance(0.3) {
                opts.push(vec![b(w)]);
            }
        }
    }
    if g.chance(0.5) {
        opts.push(vec![b(g.pick(&["ASC", "DESC", "asc"]))]);
    }
    if g.chance(0.4) {
        let n = match g.range(0, 20) {
            0 => b("0"),
            1 => b("-2"),
            2 => b("x"),
            _ => g.num(1, 12),
        };
        let mut c = vec![b("COUNT"), n];
        if g.chance(0.3) {
            c.push(b("ANY"));
        }
        opts.push(c);
    } else if g.chance(0.03) {
        opts.push(vec![b("ANY")]);
    }
    if g.chance(0.02) {
        opts.push(vec![b(g.pick(&["COUNT", "bogus", "STORE", "WITHDIST"]))]);
    }
    for i in (1..opts.len()).rev() {
        let j = g.range(0, i as i64 + 1) as usize;
        opts.swap(i, j);
    }
    opts.into_iter().flatten().collect()
}

fn centre_and_shape(g: &mut Gen) -> Vec<Vec<u8>> {
    let mut from = if g.chance(0.5) {
        vec![b("FROMMEMBER"), member(g)]
    } else {
        let (lon, lat) = point(g);
        vec![b("FROMLONLAT"), lon, lat]
    };
    let mut by =
        if g.chance(0.5) { vec![b("BYRADIUS"), size(g), unit(g)] } else { vec![b("BYBOX"), size(g), size(g), unit(g)] };
    match g.range(0, 40) {
        0 => from.clear(),
        1 => by.clear(),
        2 => by.extend([b("BYRADIUS"), b("10"), b("km")]),
        _ => {}
    }
    if g.chance(0.3) {
        by.into_iter().chain(from).collect()
    } else {
        from.into_iter().chain(by).collect()
    }
}

fn georadius(g: &mut Gen) -> Cmd {
    let by_member = g.chance(0.5);
    let ro = g.chance(0.3);
    let name = match (by_member, ro) {
        (false, false) => "GEORADIUS",
        (false, true) => "GEORADIUS_RO",
        (true, false) => "GEORADIUSBYMEMBER",
        (true, true) => "GEORADIUSBYMEMBER_RO",
    };
    let mut a = vec![b(name), g.key(Fam::Geo)];
    if by_member {
        a.push(member(g));
    } else {
        let (lon, lat) = point(g);
        a.extend([lon, lat]);
    }
    a.push(size(g));
    a.push(unit(g));
    let store = g.chance(if ro { 0.05 } else { 0.4 });
    let with = !store || g.chance(0.05);
    a.extend(options(g, with));
    if store {
        a.push(b(if g.chance(0.5) { "STORE" } else { "STOREDIST" }));
        a.push(g.write_key(Fam::Geo));
    }
    Cmd::new(a)
}
