//! Differential test of SORT and SORT_RO: one seeded random sequence over lists, sets (intset
//! and hashtable) and sorted sets, with BY and GET patterns (string weights, `->field` hash
//! lookups, `#`, missing and expiring pattern keys), ASC/DESC, ALPHA, LIMIT, STORE, option
//! errors and wrong types goes to a real `redis-server` and to tessera, and every reply is
//! compared; after a STORE the stored list is read back and compared too.
//!
//! Three configurations: `tessera-server --shards 2` with every key under one hash tag (the
//! sorted key, its pattern keys and the STORE target share a shard), `--shards 1` with plain
//! keys, and `--shards 2` with plain keys, where BY/GET pattern keys and the STORE target
//! live on either shard (the coordinator then freezes every shard and fetches them).
//!
//! What is compared loosely, and why: where Redis's own answer depends on its hash tables'
//! iteration order (a hashtable set sorted BY nosort without STORE; an ALPHA sort BY a pattern
//! over a set or sorted set, whose ties keep that order), the reply is compared as a multiset
//! of its element groups, or by length alone when a LIMIT picks a window out of that order.
//! Everything else, ties included, must match byte for byte. Seeds: `TESSERA_SEED=<n>`, else
//! the fixed ones; `TESSERA_DIFF_STEPS` sets the commands per pass.

mod common;

use common::diff::{self, Draw, Pass};
use common::resp::{escape, show_cmd};
use common::{Reply, Server};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::time::Duration;

// Seed 1 reaches SORT's conversion of a listpack sorted set on a scratch copy.
const FIXED_SEEDS: &[u64] = &[31, 1];
const DEFAULT_STEPS: usize = 800;
const STEPS_VAR: &str = "TESSERA_DIFF_STEPS";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Check {
    Exact,
    /// Compare as a multiset of groups of this many elements.
    Groups(usize),
    /// Same reply kind and length only.
    Length,
    /// Sleep after the command (a 1 ms PEXPIRE must have passed on both servers).
    ThenPause,
}

struct Step {
    args: Vec<Vec<u8>>,
    check: Check,
    /// A STORE target to read back afterwards, with the check its content needs.
    stored: Option<(String, Check)>,
}

fn step(parts: Vec<String>) -> Step {
    Step { args: parts.into_iter().map(String::into_bytes).collect(), check: Check::Exact, stored: None }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    List,
    /// A set holding integers only (intset: ordered the same on both servers).
    IntSet,
    /// A set holding strings (hashtable: each server's own order).
    StrSet,
    ZSet,
    Other,
}

struct Gen {
    rng: SmallRng,
    /// Prefix of every key (a hash tag, or nothing).
    tag: &'static str,
    /// Whether redis-server collates like `strcmp` (C or C.UTF-8 `LC_COLLATE`); if not, ALPHA
    /// replies without STORE follow the locale and are compared as multisets.
    c_collation: bool,
}

const ELEMS: &[&str] = &["1", "2", "3", "10", "-4", "2.5", "a", "b", "c", "B", "x1", "0x10", "", " 7", "1e3"];
const INTS: &[&str] = &["1", "2", "3", "10", "-4", "25", "100", "7", "0", "-1"];

impl Gen {
    fn k(&self, name: &str) -> String {
        format!("{}{name}", self.tag)
    }

    /// The key to sort and what it holds.
    fn source(&mut self) -> (String, Kind) {
        let (name, kind) = match self.rng.gen_range(0..20) {
            0..=5 => (self.rng.pick(&["l1", "l2"]), Kind::List),
            6..=8 => ("si", Kind::IntSet),
            9..=11 => ("ss", Kind::StrSet),
            12..=16 => (self.rng.pick(&["z1", "z2"]), Kind::ZSet),
            17 => ("str", Kind::Other),
            18 => ("hash", Kind::Other),
            _ => ("nokey", Kind::List),
        };
        (self.k(name), kind)
    }

    fn elem(&mut self) -> String {
        if self.rng.chance(0.1) {
            return format!("e{}", self.rng.gen_range(0..40));
        }
        self.rng.pick(ELEMS).into()
    }

    fn weight(&mut self) -> String {
        match self.rng.gen_range(0..12) {
            0 => self.rng.pick(&["abc", "", "1x", "inf", "-inf", "0x1f"]).into(),
            1..=3 => format!("{}", self.rng.gen_range(-20..20) as f64 / 4.0),
            4..=6 => self.rng.pick(&["b", "a", "c", "A", "ab"]).into(),
            _ => format!("{}", self.rng.gen_range(-5..5)),
        }
    }

    fn by_pattern(&mut self) -> String {
        match self.rng.gen_range(0..10) {
            0..=3 => self.k("w_*"),
            4..=5 => self.k("h_*->f"),
            6 => self.k("h_*->g"),
            7 => self.rng.pick(&["nosort", "#"]).into(),
            8 => self.k("none_*"),
            _ => self.k("w_*->"),
        }
    }

    fn get_pattern(&mut self) -> String {
        match self.rng.gen_range(0..8) {
            0..=2 => "#".into(),
            3..=4 => self.k("w_*"),
            5 => self.k("h_*->g"),
            6 => self.k("h_*->f"),
            _ => self.rng.pick(&["nope", "#x"]).into(),
        }
    }

    fn next(&mut self) -> Step {
        match self.rng.gen_range(0..100) {
            0..=49 => self.sort(),
            50..=59 => self.fill(),
            60..=69 => {
                let e = self.elem();
                let w = self.weight();
                let key = self.k(&format!("w_{e}"));
                step(vec!["SET".into(), key, w])
            }
            70..=75 => {
                let e = self.elem();
                let (f, w) = (self.rng.pick(&["f", "g"]).to_string(), self.weight());
                step(vec!["HSET".into(), self.k(&format!("h_{e}")), f, w])
            }
            76..=79 => {
                let e = self.elem();
                let key = if self.rng.chance(0.5) { self.k(&format!("w_{e}")) } else { self.k(&format!("h_{e}")) };
                if self.rng.chance(0.5) {
                    step(vec!["DEL".into(), key])
                } else {
                    Step { check: Check::ThenPause, ..step(vec!["PEXPIRE".into(), key, "1".into()]) }
                }
            }
            80..=86 => {
                let (k, _) = self.source();
                step(vec!["OBJECT".into(), "ENCODING".into(), k])
            }
            87..=92 => self.bad_sort(),
            _ => {
                let (k, kind) = self.source();
                match kind {
                    Kind::List => step(vec!["LPOP".into(), k]),
                    Kind::ZSet => step(vec!["ZREM".into(), k, self.elem()]),
                    _ => step(vec!["EXISTS".into(), k]),
                }
            }
        }
    }

    /// Adds elements to a source (or rebuilds a small sorted set so SORT converts it again).
    fn fill(&mut self) -> Step {
        let (k, kind) = self.source();
        let n = if self.rng.chance(0.1) { self.rng.gen_range(20..70) } else { self.rng.gen_range(1..6) };
        let mut v: Vec<String> = match kind {
            Kind::List => vec![if self.rng.chance(0.5) { "RPUSH" } else { "LPUSH" }.into(), k],
            Kind::IntSet => vec!["SADD".into(), k],
            Kind::StrSet => vec!["SADD".into(), k],
            Kind::ZSet => vec!["ZADD".into(), k],
            Kind::Other => return step(vec!["HSET".into(), self.k("hash"), "a".into(), "1".into()]),
        };
        for _ in 0..n {
            match kind {
                Kind::IntSet => v.push(self.rng.pick(INTS).into()),
                Kind::ZSet => {
                    v.push(format!("{}", self.rng.gen_range(-3..4)));
                    v.push(self.elem());
                }
                _ => v.push(self.elem()),
            }
        }
        step(v)
    }

    fn sort(&mut self) -> Step {
        let (key, kind) = self.source();
        let read_only = self.rng.chance(0.2);
        let mut opts: Vec<Vec<String>> = Vec::new();
        let mut by: Option<String> = None;
        if self.rng.chance(0.5) {
            let p = self.by_pattern();
            by = Some(p.clone());
            opts.push(vec!["BY".into(), p]);
        }
        let mut gets = 0;
        for _ in 0..self.rng.gen_range(0..3) {
            if self.rng.chance(0.4) {
                gets += 1;
                opts.push(vec!["GET".into(), self.get_pattern()]);
            }
        }
        let alpha = self.rng.chance(0.5);
        if alpha {
            opts.push(vec!["ALPHA".into()]);
        }
        if self.rng.chance(0.4) {
            opts.push(vec![self.rng.pick(&["DESC", "ASC", "desc"]).into()]);
        }
        let limit = self.rng.chance(0.35);
        if limit {
            let start = match self.rng.gen_range(0..10) {
                0 => "-3".to_string(),
                1 => "9223372036854775807".to_string(),
                _ => format!("{}", self.rng.gen_range(0..8)),
            };
            let count = match self.rng.gen_range(0..10) {
                0 => "-1".to_string(),
                1 => "9223372036854775807".to_string(),
                _ => format!("{}", self.rng.gen_range(0..8)),
            };
            opts.push(vec!["LIMIT".into(), start, count]);
        }
        let store = !read_only && self.rng.chance(0.3);
        let dest_name = self.rng.pick(&["d1", "d2"]);
        let dest = self.k(dest_name);
        if store {
            opts.push(vec!["STORE".into(), dest.clone()]);
        }
        for i in (1..opts.len()).rev() {
            let j = self.rng.gen_range(0..=i);
            opts.swap(i, j);
        }
        let mut v = vec![if read_only { "SORT_RO" } else { "SORT" }.to_string(), key];
        v.extend(opts.into_iter().flatten());
        let dont_sort = by.as_deref().is_some_and(|p| !p.contains('*'));
        let star_by = by.as_deref().is_some_and(|p| p.contains('*'));
        // Where Redis's answer follows its hash table order (see the file header).
        let hashed = match kind {
            Kind::StrSet => (dont_sort && !store) || (alpha && star_by && !dont_sort),
            Kind::ZSet => alpha && star_by && !dont_sort,
            _ => false,
        } || (alpha && !store && !dont_sort && !self.c_collation);
        let order_check = match (hashed, limit) {
            (false, _) => Check::Exact,
            (true, false) => Check::Groups(gets.max(1)),
            (true, true) => Check::Length,
        };
        // A stored reply is a count, always exact; the stored list gets the order check.
        let mut s = step(v);
        if store {
            s.stored = Some((dest, order_check));
        } else {
            s.check = order_check;
        }
        s
    }

    fn bad_sort(&mut self) -> Step {
        let (key, _) = self.source();
        let v: Vec<String> = match self.rng.gen_range(0..8) {
            0 => vec!["SORT".into(), key, "LIMIT".into(), "0".into()],
            1 => vec!["SORT".into(), key, "LIMIT".into(), "x".into(), "1".into()],
            2 => vec!["SORT".into(), key, "BOGUS".into()],
            3 => vec!["SORT_RO".into(), key, "STORE".into(), self.k("d1")],
            4 => vec!["SORT".into(), key, "GET".into()],
            5 => vec!["SORT".into()],
            6 => vec!["SORT".into(), key, "BY".into()],
            _ => vec!["SORT".into(), key, "STORE".into()],
        };
        step(v)
    }
}

/// Whether two replies agree under `check`.
fn agree(check: Check, (ra, pa): (&[u8], &Reply), (rb, pb): (&[u8], &Reply)) -> bool {
    match check {
        Check::Exact | Check::ThenPause => ra == rb,
        _ if pa.is_error() || pb.is_error() => ra == rb,
        Check::Length => match (pa.items(), pb.items()) {
            (Some(x), Some(y)) => x.len() == y.len(),
            _ => ra == rb,
        },
        Check::Groups(n) => match (pa.items(), pb.items()) {
            (Some(x), Some(y)) => {
                let groups = |v: &[Reply]| {
                    let mut g: Vec<Vec<Reply>> = v.chunks(n).map(<[Reply]>::to_vec).collect();
                    g.sort();
                    g
                };
                x.len() == y.len() && groups(x) == groups(y)
            }
            _ => ra == rb,
        },
    }
}

/// Whether redis-server sorts ALPHA like `strcmp` (its LC_COLLATE comes from our environment).
fn redis_collates_like_strcmp(redis: &Server) -> bool {
    let mut c = redis.raw();
    let _ = c.cmd(&["DEL", "collation-probe"]);
    let _ = c.cmd(&["RPUSH", "collation-probe", "a", "B", " c", "_"]);
    let sorted = c.cmd(&["SORT", "collation-probe", "ALPHA"]);
    let _ = c.cmd(&["DEL", "collation-probe"]);
    let want = [" c", "B", "_", "a"].map(|w| Reply::Bulk(w.as_bytes().to_vec()));
    sorted.items() == Some(&want[..])
}

fn pass(seed: u64, resp3: bool, tag: &'static str, redis: &Server, tessera: &Server) -> Result<usize, String> {
    let mut pass = Pass::named(seed, format!("{} tag={tag:?}", diff::label(seed, resp3)), 10);
    let label = &pass.label;
    let (mut a, mut b) = diff::open(redis, tessera, resp3, label)?;
    let c_collation = redis_collates_like_strcmp(redis);
    let rng = SmallRng::seed_from_u64(seed.wrapping_mul(4).wrapping_add(resp3 as u64));
    let mut gen = Gen { rng, tag, c_collation };
    for setup in
        [vec!["SET".to_string(), gen.k("str"), "x".into()], vec!["HSET".into(), gen.k("hash"), "a".into(), "1".into()]]
    {
        let args: Vec<Vec<u8>> = setup.into_iter().map(String::into_bytes).collect();
        diff::both(&mut a, &mut b, &args, "")?;
    }
    let n = diff::steps(STEPS_VAR, DEFAULT_STEPS);
    let (mut done, mut errors, mut loose) = (0, 0, 0);
    for i in 0..n {
        let st = gen.next();
        let mut todo = vec![(st.args.clone(), st.check)];
        if let Some((dest, check)) = &st.stored {
            let read = vec![b"LRANGE".to_vec(), dest.as_bytes().to_vec(), b"0".to_vec(), b"-1".to_vec()];
            todo.push((read, *check));
        }
        for (args, check) in todo {
            let ((ra, pa), (rb, pb)) = diff::both(&mut a, &mut b, &args, &format!("{label}: "))?;
            if check == Check::ThenPause {
                std::thread::sleep(Duration::from_millis(3));
            }
            let shown = show_cmd(&args);
            if !agree(check, (&ra, &pa), (&rb, &pb)) {
                return Err(pass.mismatch(
                    i,
                    &shown,
                    &format!("replies differ ({check:?})"),
                    (escape(&ra), escape(&rb)),
                    "",
                ));
            }
            done += 1;
            errors += usize::from(pa.is_error());
            loose += usize::from(!matches!(check, Check::Exact | Check::ThenPause));
            pass.history.push(shown);
            // A failed STORE left the target as it was (maybe from an unordered sort).
            if pa.is_error() {
                break;
            }
        }
    }
    println!("{label}: {done} commands, {errors} error replies, {loose} compared loosely");
    Ok(done)
}

#[test]
fn sort_matches_redis() {
    let redis = Server::redis();
    let sharded = Server::tessera(2);
    let single = Server::tessera(1);
    let total = diff::run_passes(FIXED_SEEDS, |seed, resp3| {
        let mut done = 0;
        for (tag, tessera) in [("{s}", &sharded), ("", &single), ("", &sharded)] {
            done += pass(seed, resp3, tag, &redis, tessera)?;
        }
        Ok(done)
    });
    println!("diff_sort: {total} commands matched");
    assert!(total >= 1500 || std::env::var(STEPS_VAR).is_ok(), "too few commands: {total}");
}
