//! Differential test of the geo family: the same seeded stream of geo commands (GEOADD with
//! NX/XX/CH, GEOPOS, GEOHASH, GEODIST, GEOSEARCH and GEOSEARCHSTORE with every option, the
//! GEORADIUS family with STORE/STOREDIST) goes to a real `redis-server` and to
//! `tessera-server --shards 2`, and every reply must match byte for byte, first over RESP2,
//! then on a fresh connection after `HELLO 3`.
//!
//! Points cluster around a few centres (so searches find many, with equal distances for
//! points sharing a cell), sit on the edges (longitude ±180, latitude ±85.05112878, where
//! neighbour cells wrap), or are spread uniformly; some coordinates are invalid. Keys live on
//! both shards, so STORE destinations are often on the other shard than the source. Wrong
//! types, wrong arity, scores no GEOADD wrote, expiring keys and OBJECT ENCODING of stored
//! results (even seeds use tiny `zset-max-listpack-*` limits so encodings convert) are mixed in.
//!
//! Every reply is deterministic (search order is the scan order of Redis's cells, or its
//! stable sort), so everything is compared exactly except TTL (only its sign).
//! Seeds: `TESSERA_SEED=<n>` runs that seed only; otherwise the fixed seeds below.
//! `TESSERA_GEO_STEPS` changes the number of commands per pass. This file must never weaken a
//! comparison to make tessera pass.

mod common;

use std::time::Duration;

use common::diff::{self, Draw, Pass};
use common::resp::{escape, show_cmd};
use common::{keys_on_shard, RawConn, Server, Spec};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const DEFAULT_STEPS: usize = 1500;
const STEPS_VAR: &str = "TESSERA_GEO_STEPS";
const FIXED_SEEDS: &[u64] = &[1, 2];
const STR: &str = "str";
/// A string key nothing overwrites (a STORE into `str` turns it into a sorted set).
const PLAIN: &str = "plainstr";

/// Search centres points cluster around: Palermo, San Francisco, both sides of the
/// antimeridian, near both Mercator limits, Tokyo.
const CLUSTERS: &[(f64, f64)] =
    &[(13.36, 38.11), (-122.4, 37.7), (179.95, 0.5), (-179.95, -0.5), (10.0, 85.0), (-20.0, -84.9), (139.7, 35.7)];

enum Check {
    Exact,
    /// TTL: same sign.
    TtlSign,
    /// Let a PEXPIRE 1 key expire on both servers before the next command.
    ThenSleepMs(u64),
}

struct Cmd {
    args: Vec<Vec<u8>>,
    check: Check,
}

fn cmd(parts: Vec<String>) -> Cmd {
    Cmd { args: parts.into_iter().map(String::into_bytes).collect(), check: Check::Exact }
}

struct Gen {
    rng: SmallRng,
    /// Sorted sets of points, on both shards.
    geo: Vec<String>,
    /// Store destinations, on both shards.
    dst: Vec<String>,
}

impl Gen {
    fn new(seed: u64) -> Gen {
        let mut geo = Vec::new();
        let mut dst = Vec::new();
        for shard in 0..2 {
            geo.extend(keys_on_shard("geo", shard, 2, 2));
            geo.extend(keys_on_shard("big", shard, 2, 1));
            dst.extend(keys_on_shard("dst", shard, 2, 2));
        }
        Gen { rng: SmallRng::seed_from_u64(seed), geo, dst }
    }

    fn geo_key(&mut self) -> String {
        self.geo[self.rng.gen_range(0..self.geo.len())].clone()
    }

    fn dst_key(&mut self) -> String {
        self.dst[self.rng.gen_range(0..self.dst.len())].clone()
    }

    /// Mostly a geo key, sometimes a string, a destination or nothing.
    fn key(&mut self) -> String {
        match self.rng.gen_range(0..100) {
            0..=79 => self.geo_key(),
            80..=87 => self.dst_key(),
            88..=93 => self.rng.pick(&[STR, PLAIN]).to_string(),
            _ => "nokey".to_string(),
        }
    }

    fn member(&mut self) -> String {
        match self.rng.gen_range(0..100) {
            0..=84 => format!("m{}", self.rng.gen_range(0..40)),
            85..=92 => format!("{}", self.rng.gen_range(0..20)),
            93..=96 => format!("{}{}", "L".repeat(70), self.rng.gen_range(0..3)),
            _ => "nomember".to_string(),
        }
    }

    /// A number written as a client might: few or many digits.
    fn num(&mut self, v: f64) -> String {
        match self.rng.gen_range(0..4) {
            0 => format!("{v:.2}"),
            1 => format!("{v:.6}"),
            _ => format!("{v}"),
        }
    }

    /// A longitude/latitude pair, mostly valid.
    fn point(&mut self) -> (String, String) {
        match self.rng.gen_range(0..100) {
            0..=59 => {
                let (lon, lat) = CLUSTERS[self.rng.gen_range(0..CLUSTERS.len())];
                let spread = [0.0001, 0.01, 0.5, 3.0][self.rng.gen_range(0..4)];
                let lon = (lon + self.rng.gen_range(-spread..spread)).clamp(-180.0, 180.0);
                let lat = (lat + self.rng.gen_range(-spread..spread)).clamp(-85.05112878, 85.05112878);
                (self.num(lon), self.num(lat))
            }
            60..=79 => {
                let lon = self.rng.gen_range(-180.0..180.0);
                let lat = self.rng.gen_range(-85.05112878..85.05112878);
                (self.num(lon), self.num(lat))
            }
            80..=94 => {
                let lon = self.rng.pick(&["180", "-180", "179.9999999", "-179.9999999", "0", "-0", "180.0", "1e-300"]);
                let lat = self.rng.pick(&["85.05112878", "-85.05112878", "85.0511287", "-85.05", "0", "-0.0", "45"]);
                (lon.to_string(), lat.to_string())
            }
            _ => {
                let bad = self.rng.pick(&["180.0000001", "-181", "abc", "nan", "inf", "", "1e-400", " 1", "0x1p3"]);
                let good = self.num(12.5);
                if self.rng.chance(0.5) {
                    (bad.to_string(), good)
                } else {
                    let lat = self.rng.pick(&["85.05112879", "-90", "90", "abc", "-inf"]);
                    (good, if self.rng.chance(0.7) { lat.to_string() } else { bad.to_string() })
                }
            }
        }
    }

    fn unit(&mut self) -> String {
        self.rng.pick(&["m", "km", "KM", "ft", "mi", "Mi", "m", "km", "yd", ""]).to_string()
    }

    /// A search size for `unit`-less thinking: mostly metres to thousands of kilometres.
    fn size(&mut self) -> String {
        match self.rng.gen_range(0..100) {
            0..=4 => "0".into(),
            5..=34 => format!("{}", self.rng.gen_range(1..2000)),
            35..=74 => format!("{}", self.rng.gen_range(1..500000)),
            75..=89 => format!("{}", self.rng.gen_range(500_000..20_000_000)),
            90..=93 => {
                let v = self.rng.gen_range(0.0..100.0);
                self.num(v)
            }
            94..=95 => self.rng.pick(&["inf", "1e10", "0.5"]).into(),
            _ => self.rng.pick(&["-1", "abc", "", "nan"]).into(),
        }
    }

    fn geoadd(&mut self) -> Cmd {
        let k = if self.rng.chance(0.95) { self.geo_key() } else { self.key() };
        let mut v = vec!["GEOADD".to_string(), k];
        for opt in ["NX", "XX", "CH"] {
            if self.rng.chance(0.12) {
                v.push(if self.rng.chance(0.5) { opt.to_lowercase() } else { opt.to_string() });
            }
        }
        for _ in 0..self.rng.gen_range(1..6) {
            let (lon, lat) = self.point();
            v.push(lon);
            v.push(lat);
            v.push(self.member());
        }
        if self.rng.chance(0.03) {
            v.pop();
        }
        cmd(v)
    }

    /// Fills a key with many points, so its encoding is a skiplist and searches return a lot.
    fn refill(&mut self) -> Cmd {
        let k = self.geo_key();
        let mut v = vec!["GEOADD".to_string(), k];
        let base = self.rng.gen_range(0..100);
        for i in 0..self.rng.gen_range(60..200) {
            let (lon, lat) = self.point();
            if lon.parse::<f64>().is_ok_and(|x| x.abs() <= 180.0)
                && lat.parse::<f64>().is_ok_and(|y| y.abs() <= 85.05112878)
                && !lon.starts_with(' ')
            {
                v.push(lon);
                v.push(lat);
                v.push(format!("p{}", base + i));
            }
        }
        cmd(v)
    }

    /// Search options in random order: WITH*, ASC/DESC, COUNT [ANY], sometimes wrong.
    fn options(&mut self, with: bool) -> Vec<String> {
        let mut opts: Vec<Vec<String>> = Vec::new();
        if with {
            for w in ["WITHCOORD", "WITHDIST", "WITHHASH"] {
                if self.rng.chance(0.3) {
                    opts.push(vec![if self.rng.chance(0.2) { w.to_lowercase() } else { w.to_string() }]);
                }
            }
        }
        if self.rng.chance(0.5) {
            opts.push(vec![self.rng.pick(&["ASC", "DESC", "asc", "desc"]).to_string()]);
        }
        if self.rng.chance(0.4) {
            let n = match self.rng.gen_range(0..20) {
                0 => "0".to_string(),
                1 => "-2".to_string(),
                2 => "x".to_string(),
                _ => format!("{}", self.rng.gen_range(1..12)),
            };
            let mut c = vec!["COUNT".to_string(), n];
            if self.rng.chance(0.3) {
                c.push("ANY".to_string());
            }
            opts.push(c);
        } else if self.rng.chance(0.03) {
            opts.push(vec!["ANY".to_string()]);
        }
        if self.rng.chance(0.02) {
            opts.push(vec![self.rng.pick(&["COUNT", "bogus", "STORE", "WITHDIST"]).to_string()]);
        }
        // Shuffle the groups (each group keeps its words together).
        for i in (1..opts.len()).rev() {
            let j = self.rng.gen_range(0..=i);
            opts.swap(i, j);
        }
        opts.into_iter().flatten().collect()
    }

    /// FROMMEMBER / FROMLONLAT and BYRADIUS / BYBOX, occasionally missing or doubled.
    fn centre_and_shape(&mut self) -> Vec<String> {
        let mut from = if self.rng.chance(0.5) {
            vec!["FROMMEMBER".to_string(), self.member()]
        } else {
            let (lon, lat) = self.point();
            vec!["FROMLONLAT".to_string(), lon, lat]
        };
        let mut by = if self.rng.chance(0.5) {
            vec!["BYRADIUS".to_string(), self.size(), self.unit()]
        } else {
            vec!["BYBOX".to_string(), self.size(), self.size(), self.unit()]
        };
        match self.rng.gen_range(0..40) {
            0 => from.clear(),
            1 => by.clear(),
            2 => by.extend(["BYRADIUS".to_string(), "10".to_string(), "km".to_string()]),
            3 => from.extend(["FROMMEMBER".to_string(), "m1".to_string()]),
            _ => {}
        }
        if self.rng.chance(0.3) {
            by.into_iter().chain(from).collect()
        } else {
            from.into_iter().chain(by).collect()
        }
    }

    fn geosearch(&mut self) -> Cmd {
        let mut v = vec!["GEOSEARCH".to_string(), self.key()];
        v.extend(self.centre_and_shape());
        v.extend(self.options(true));
        cmd(v)
    }

    fn geosearchstore(&mut self) -> Cmd {
        let d = self.store_target();
        let mut v = vec!["GEOSEARCHSTORE".to_string(), d, self.key()];
        v.extend(self.centre_and_shape());
        let with = self.rng.chance(0.05);
        v.extend(self.options(with));
        if self.rng.chance(0.4) {
            v.push("STOREDIST".into());
        }
        cmd(v)
    }

    /// A destination: mostly a dst key (often on the other shard), sometimes a source or `str`.
    fn store_target(&mut self) -> String {
        match self.rng.gen_range(0..10) {
            0 => self.geo_key(),
            1 => STR.to_string(),
            _ => self.dst_key(),
        }
    }

    fn georadius(&mut self) -> Cmd {
        let by_member = self.rng.chance(0.5);
        let ro = self.rng.chance(0.3);
        let name = match (by_member, ro) {
            (false, false) => "GEORADIUS",
            (false, true) => "GEORADIUS_RO",
            (true, false) => "GEORADIUSBYMEMBER",
            (true, true) => "GEORADIUSBYMEMBER_RO",
        };
        let mut v = vec![name.to_string(), self.key()];
        if by_member {
            v.push(self.member());
        } else {
            let (lon, lat) = self.point();
            v.push(lon);
            v.push(lat);
        }
        v.push(self.size());
        v.push(self.unit());
        let store = self.rng.chance(if ro { 0.05 } else { 0.4 });
        let with = !store || self.rng.chance(0.05);
        v.extend(self.options(with));
        if store {
            let kw = self.rng.pick(&["STORE", "STOREDIST", "store", "storedist"]).to_string();
            v.push(kw);
            v.push(self.store_target());
        }
        cmd(v)
    }

    fn next(&mut self) -> Cmd {
        match self.rng.gen_range(0..1000) {
            0..=199 => self.geoadd(),
            200..=259 => {
                let mut v = vec!["GEOPOS".to_string(), self.key()];
                for _ in 0..self.rng.gen_range(0..4) {
                    v.push(self.member());
                }
                cmd(v)
            }
            260..=309 => {
                let mut v = vec!["GEOHASH".to_string(), self.key()];
                for _ in 0..self.rng.gen_range(0..4) {
                    v.push(self.member());
                }
                cmd(v)
            }
            310..=369 => {
                let mut v = vec!["GEODIST".to_string(), self.key(), self.member(), self.member()];
                if self.rng.chance(0.6) {
                    v.push(self.unit());
                }
                if self.rng.chance(0.03) {
                    v.push("km".into());
                }
                cmd(v)
            }
            370..=579 => self.geosearch(),
            580..=679 => self.georadius(),
            680..=759 => self.geosearchstore(),
            760..=809 => {
                let k = self.dst_key();
                cmd(vec!["ZRANGE".into(), k, "0".into(), "-1".into(), "WITHSCORES".into()])
            }
            810..=839 => {
                let k = if self.rng.chance(0.5) { self.dst_key() } else { self.geo_key() };
                cmd(vec!["OBJECT".into(), "ENCODING".into(), k])
            }
            840..=859 => {
                // Scores no GEOADD writes: negative, fractional, past 52 bits, huge.
                let k = self.geo_key();
                let s = self.rng.pick(&["-1", "1.5", "1e300", "4503599627370496", "4503599627370495", "3.5e15", "0"]);
                cmd(vec!["ZADD".into(), k, s.into(), self.member()])
            }
            860..=879 => {
                let k = self.geo_key();
                let mut v = vec!["ZREM".to_string(), k];
                for _ in 0..self.rng.gen_range(1..4) {
                    v.push(self.member());
                }
                cmd(v)
            }
            880..=909 => self.keyspace(),
            910..=939 => self.wrong_arity(),
            940..=954 => self.refill(),
            _ => cmd(vec!["ZCARD".into(), self.key()]),
        }
    }

    fn keyspace(&mut self) -> Cmd {
        let k = if self.rng.chance(0.5) { self.geo_key() } else { self.dst_key() };
        match self.rng.gen_range(0..8) {
            0 => cmd(vec!["DEL".into(), k]),
            1 => cmd(vec!["EXPIRE".into(), k, "1000".into()]),
            2 => Cmd { args: vec![b"TTL".to_vec(), k.into_bytes()], check: Check::TtlSign },
            3 => cmd(vec!["PERSIST".into(), k]),
            4 | 5 => cmd(vec!["SET".into(), STR.into(), "v".into()]),
            _ => Cmd { args: vec![b"PEXPIRE".to_vec(), k.into_bytes(), b"1".to_vec()], check: Check::ThenSleepMs(3) },
        }
    }

    fn wrong_arity(&mut self) -> Cmd {
        let k = self.key();
        let v: Vec<&str> = match self.rng.gen_range(0..10) {
            0 => vec!["GEOADD", &k, "1", "2"],
            1 => vec!["GEODIST", &k, "a"],
            2 => vec!["GEOHASH"],
            3 => vec!["GEOPOS"],
            4 => vec!["GEOSEARCH", &k, "FROMLONLAT", "1", "2"],
            5 => vec!["GEOSEARCHSTORE", "d", &k, "FROMLONLAT", "1", "2", "BYRADIUS"],
            6 => vec!["GEORADIUS", &k, "1", "2", "3"],
            7 => vec!["GEORADIUSBYMEMBER", &k, "m", "3"],
            8 => vec!["GEORADIUS_RO", &k, "1", "2", "3"],
            _ => vec!["GEORADIUSBYMEMBER_RO", &k, "m"],
        };
        cmd(v.into_iter().map(String::from).collect())
    }
}

/// `TESSERA_GEO_AUDIT=1`: after every command, compare the full content of every key, to find
/// the first command after which the servers' states differ (slow; for debugging a seed).
fn audit() -> bool {
    diff::flag("TESSERA_GEO_AUDIT")
}

fn audit_keys(gen: &Gen, a: &mut RawConn, b: &mut RawConn) -> Result<(), String> {
    let keys = gen.geo.iter().chain(&gen.dst).map(String::as_str).chain([STR]);
    diff::same_replies(a, b, keys.map(|k| diff::args(&["ZRANGE", k, "0", "-1", "WITHSCORES"])), "(audit) afterwards ")
}

/// Where two long replies part: the bytes around the first difference.
fn first_difference(a: &[u8], b: &[u8]) -> String {
    let at = a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
    let from = at.saturating_sub(120);
    let part = |r: &[u8]| escape(&r[from.min(r.len())..(at + 120).min(r.len())]);
    format!("first difference at byte {at}:\n    redis:   ...{}\n    tessera: ...{}", part(a), part(b))
}

fn run_pass(seed: u64, resp3: bool, redis: &Server, tessera: &Server) -> Result<usize, String> {
    let mut pass = Pass::new(seed, resp3, 10);
    let label = &pass.label;
    let (mut a, mut b) = diff::open(redis, tessera, resp3, label)?;
    diff::setup_zset(&mut a, &mut b, label, seed, PLAIN)?;
    let mut gen = Gen::new(seed);
    let steps = diff::steps(STEPS_VAR, DEFAULT_STEPS);
    for step in 0..steps {
        let c = if step < 6 { gen.refill() } else { gen.next() };
        let shown = show_cmd(&c.args);
        pass.history.push(shown.clone());
        let ((ra, pa), (rb, pb)) = diff::both(&mut a, &mut b, &c.args, &format!("{label} step {step}: {shown}: "))?;
        let same = match &c.check {
            Check::Exact => ra == rb,
            Check::ThenSleepMs(ms) => {
                std::thread::sleep(Duration::from_millis(*ms));
                ra == rb
            }
            Check::TtlSign => match (pa.int(), pb.int()) {
                (Some(x), Some(y)) => diff::same_ttl_sign(x, y),
                _ => false,
            },
        };
        let audited = if same && audit() { audit_keys(&gen, &mut a, &mut b).err() } else { None };
        if !same || audited.is_some() {
            let why = audited.unwrap_or_else(|| first_difference(&ra, &rb));
            return Err(pass.mismatch(step, &shown, &why, (escape(&ra), escape(&rb)), ""));
        }
    }
    Ok(steps)
}

#[test]
fn geo_family_matches_redis() {
    let redis = Server::redis();
    let tessera = Server::start(Spec::tessera(2));
    let total = diff::run_passes(FIXED_SEEDS, |seed, resp3| run_pass(seed, resp3, &redis, &tessera));
    println!("diff_geo: {total} commands compared");
    assert!(total >= 3000 || std::env::var(STEPS_VAR).is_ok());
}
