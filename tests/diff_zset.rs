//! Differential test of the sorted-set family: the same seeded stream of sorted-set commands
//! (valid and invalid: bad options, bad numbers, wrong arity, wrong types, expiring keys, small
//! and large sets so encodings convert both ways, OBJECT ENCODING checks) goes to a real
//! `redis-server` and to `tessera-server --shards 2`, and every reply must match byte for byte,
//! first over RESP2, then on a fresh connection after `HELLO 3`.
//!
//! Seeds: `TESSERA_SEED=<n>` runs that seed only; otherwise the fixed seeds below. Even seeds
//! run with tiny `zset-max-listpack-*` limits (8 entries, 16 bytes) so encodings convert often.
//! `TESSERA_ZSET_STEPS` changes the number of commands per pass.
//!
//! What is not compared byte for byte, and why: ZSCAN (cursors and the order within a skiplist
//! are each server's own hash table's; a full iteration's (member, score) pairs are compared as
//! a set), ZRANDMEMBER (random: the length, distinctness and membership are checked), TTL
//! (seconds may tick between the two servers: only its sign is compared). Lex-range commands
//! only target sets whose scores are all equal, or small listpack sets: over mixed scores in a
//! skiplist Redis's answer depends on its random node levels. This file must never weaken a
//! comparison to make tessera pass.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::diff::{self, call, Draw, Pass};
use common::resp::{escape, show_cmd};
use common::{RawConn, Reply, Server, Spec};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const DEFAULT_STEPS: usize = 2000;
const STEPS_VAR: &str = "TESSERA_ZSET_STEPS";
const FIXED_SEEDS: &[u64] = &[1, 2];

/// Keys any command may use (some share a hash tag, the others spread over both shards).
const GENERAL: &[&str] = &["za", "zb", "zc", "{g}1", "{g}2", "{g}3", "big1", "big2"];
/// Keys whose members all have score 0, for lex ranges.
const LEX: &[&str] = &["lex1", "lex2", "{g}lex"];
/// A small set with mixed scores (at most 8 short members: a listpack even with the tiny limits
/// of even seeds), for lex ranges.
const MIX: &str = "mix";
const STR: &str = "str";
/// A string key nothing ever overwrites (STORE commands may turn `str` into a sorted set).
const PLAIN: &str = "plainstr";
const SETS: &[&str] = &["s1", "s2"];

#[derive(Clone, Debug)]
enum Check {
    Exact,
    /// ZSCAN: iterate to the end on both servers and compare (member, score) sets.
    ScanAll,
    /// ZRANDMEMBER: count (None = no count) and WITHSCORES.
    Random(Option<i64>, bool),
    /// TTL: same sign.
    TtlSign,
    /// Wait this long after the command (PEXPIRE 1: let the key expire on both servers).
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
    sets: bool,
}

impl Gen {
    /// A key for a general command: mostly sorted sets, sometimes the string, a set or nothing.
    fn key(&mut self) -> String {
        match self.rng.gen_range(0..100) {
            0..=79 => self.rng.pick(GENERAL).to_string(),
            80..=86 => self.rng.pick(LEX).to_string(),
            87..=90 => MIX.to_string(),
            91..=94 => STR.to_string(),
            95..=96 if self.sets => self.rng.pick(SETS).to_string(),
            _ => "nokey".to_string(),
        }
    }

    /// A key a write may change freely (not a lex key, not `mix`).
    fn write_key(&mut self) -> String {
        if self.rng.chance(0.05) {
            return STR.to_string();
        }
        self.rng.pick(GENERAL).to_string()
    }

    fn member(&mut self) -> String {
        match self.rng.gen_range(0..100) {
            0..=84 => format!("m{}", self.rng.gen_range(0..60)),
            85..=94 => format!("{}", self.rng.gen_range(-5..40)),
            95..=97 => format!("{}{}", "L".repeat(70), self.rng.gen_range(0..3)),
            _ => format!("b{}", self.rng.gen_range(0..300)),
        }
    }

    fn score(&mut self) -> String {
        match self.rng.gen_range(0..100) {
            0..=59 => format!("{}", self.rng.gen_range(-20..20)),
            60..=74 => format!("{}", self.rng.gen_range(-40..40) as f64 / 4.0),
            75..=79 => self.rng.pick(&["inf", "-inf", "+inf"]).to_string(),
            80..=84 => {
                self.rng.pick(&["0.1", "0.2", "0.3", "1e10", "-0", "3e-5", "1.7976931348623157e308"]).to_string()
            }
            85..=94 => format!("{}", self.rng.gen_range(0..5)),
            _ => self.rng.pick(&["abc", "1x", "nan", "", "1e400", " 1"]).to_string(),
        }
    }

    fn range_item(&mut self) -> String {
        let s = match self.rng.gen_range(0..10) {
            0 => "-inf".to_string(),
            1 => "+inf".to_string(),
            2 => self.rng.pick(&["x", "(", "", "(a", "nan"]).to_string(),
            _ => format!("{}", self.rng.gen_range(-20..20)),
        };
        if self.rng.chance(0.3) && !s.starts_with('(') {
            format!("({s}")
        } else {
            s
        }
    }

    fn lex_item(&mut self) -> String {
        match self.rng.gen_range(0..12) {
            0 => "-".to_string(),
            1 => "+".to_string(),
            2 => self.rng.pick(&["m3", "", "+x", "-y"]).to_string(),
            3..=7 => format!("[{}", self.member()),
            _ => format!("({}", self.member()),
        }
    }

    fn rank(&mut self) -> String {
        match self.rng.gen_range(0..20) {
            0 => "9223372036854775807".to_string(),
            1 => "-9223372036854775808".to_string(),
            2 => "x".to_string(),
            _ => format!("{}", self.rng.gen_range(-12..12)),
        }
    }

    fn count(&mut self) -> String {
        match self.rng.gen_range(0..12) {
            0 => "-1".to_string(),
            1 => "abc".to_string(),
            2 => "0".to_string(),
            _ => format!("{}", self.rng.gen_range(1..8)),
        }
    }

    /// A key for lex commands: all-zero-score keys, the small mixed one, or an error path.
    fn lex_key(&mut self) -> String {
        match self.rng.gen_range(0..10) {
            0..=6 => self.rng.pick(LEX).to_string(),
            7..=8 => MIX.to_string(),
            _ => self.rng.pick(&[PLAIN, "nokey"]).to_string(),
        }
    }

    /// Source keys of a set operation (and the destination when storing), keeping lex keys
    /// all-zero: a lex destination only ever receives lex sources.
    fn setop_keys(&mut self, n: usize, lex: bool) -> Vec<String> {
        (0..n)
            .map(|_| {
                if lex {
                    self.rng.pick(LEX).to_string()
                } else if self.sets && self.rng.chance(0.15) {
                    self.rng.pick(SETS).to_string()
                } else {
                    self.key()
                }
            })
            .collect()
    }

    fn next(&mut self) -> Cmd {
        let r = self.rng.gen_range(0..1000);
        match r {
            0..=149 => self.zadd(),
            150..=189 => {
                let k = self.write_key();
                let (s, m) = (self.score(), self.member());
                cmd(vec!["ZINCRBY".into(), k, s, m])
            }
            190..=229 => {
                let k = self.write_key();
                let mut v = vec!["ZREM".into(), k];
                for _ in 0..self.rng.gen_range(1..4) {
                    v.push(self.member());
                }
                cmd(v)
            }
            230..=249 => cmd(vec!["ZCARD".into(), self.key()]),
            250..=279 => {
                let (k, a, b) = (self.key(), self.range_item(), self.range_item());
                cmd(vec!["ZCOUNT".into(), k, a, b])
            }
            280..=299 => {
                let (k, a, b) = (self.lex_key(), self.lex_item(), self.lex_item());
                cmd(vec!["ZLEXCOUNT".into(), k, a, b])
            }
            300..=329 => {
                let k = self.key();
                if self.rng.chance(0.5) {
                    let m = self.member();
                    cmd(vec!["ZSCORE".into(), k, m])
                } else {
                    let mut v = vec!["ZMSCORE".into(), k];
                    for _ in 0..self.rng.gen_range(1..4) {
                        v.push(self.member());
                    }
                    cmd(v)
                }
            }
            330..=359 => {
                let name = if self.rng.chance(0.5) { "ZRANK" } else { "ZREVRANK" };
                let (k, m) = (self.key(), self.member());
                cmd(vec![name.into(), k, m])
            }
            360..=459 => self.zrange(),
            460..=489 => self.legacy_range(),
            490..=509 => {
                let dst = self.write_key();
                let mut c = self.zrange();
                c.args[0] = b"ZRANGESTORE".to_vec();
                // A lex query reads a lex source; storing it into a general key is harmless.
                c.args.insert(1, dst.into_bytes());
                c.args.retain(|a| !a.eq_ignore_ascii_case(b"withscores") || self.rng.gen_bool(0.1));
                c
            }
            510..=549 => {
                let name = if self.rng.chance(0.5) { "ZPOPMIN" } else { "ZPOPMAX" };
                let mut v = vec![name.to_string(), self.write_key()];
                if self.rng.chance(0.6) {
                    v.push(self.count());
                }
                if self.rng.chance(0.03) {
                    v.push("1".into());
                }
                cmd(v)
            }
            550..=569 => self.zmpop(),
            570..=599 => self.zrandmember(),
            600..=639 => self.zremrange(),
            640..=729 => self.setop(),
            730..=759 => self.zscan(),
            760..=799 => cmd(vec!["OBJECT".into(), "ENCODING".into(), self.key()]),
            800..=819 => self.keyspace(),
            820..=839 => self.wrong_arity(),
            840..=849 => self.refill(),
            850..=869 => {
                let k = self.rng.pick(LEX).to_string();
                let mut v = vec!["ZADD".into(), k];
                for _ in 0..self.rng.gen_range(1..6) {
                    v.push("0".into());
                    v.push(self.member());
                }
                cmd(v)
            }
            870..=889 => {
                let mut v = vec!["ZADD".into(), MIX.into()];
                for _ in 0..self.rng.gen_range(1..4) {
                    v.push(format!("{}", self.rng.gen_range(-3..3)));
                    v.push(format!("m{}", self.rng.gen_range(0..8)));
                }
                cmd(v)
            }
            890..=899 if self.sets => {
                let k = self.rng.pick(SETS).to_string();
                let mut v = vec!["SADD".into(), k];
                for _ in 0..self.rng.gen_range(1..5) {
                    v.push(self.member());
                }
                cmd(v)
            }
            _ => self.zadd(),
        }
    }

    fn zadd(&mut self) -> Cmd {
        let mut v = vec!["ZADD".to_string(), self.write_key()];
        for opt in ["NX", "XX", "GT", "LT", "CH", "INCR"] {
            if self.rng.chance(0.1) {
                v.push(if self.rng.chance(0.5) { opt.to_lowercase() } else { opt.to_string() });
            }
        }
        let incr = v.iter().any(|a| a.eq_ignore_ascii_case("incr"));
        let pairs = if incr && self.rng.chance(0.9) { 1 } else { self.rng.gen_range(1..6) };
        for _ in 0..pairs {
            v.push(self.score());
            v.push(self.member());
        }
        if self.rng.chance(0.03) {
            v.pop();
        }
        cmd(v)
    }

    fn limit(&mut self, v: &mut Vec<String>) {
        v.push("LIMIT".into());
        v.push(match self.rng.gen_range(0..10) {
            0 => "-1".into(),
            1 => "x".into(),
            _ => format!("{}", self.rng.gen_range(0..6)),
        });
        v.push(match self.rng.gen_range(0..10) {
            0 => "-1".into(),
            1 => "0".into(),
            _ => format!("{}", self.rng.gen_range(1..8)),
        });
    }

    fn zrange(&mut self) -> Cmd {
        let kind = self.rng.gen_range(0..10);
        let (k, a, b, by) = match kind {
            0..=3 => (self.key(), self.rank(), self.rank(), None),
            4..=7 => (self.key(), self.range_item(), self.range_item(), Some("BYSCORE")),
            _ => (self.lex_key(), self.lex_item(), self.lex_item(), Some("BYLEX")),
        };
        let mut v = vec!["ZRANGE".to_string(), k, a, b];
        let mut opts: Vec<Vec<String>> = Vec::new();
        if let Some(by) = by {
            if self.rng.chance(0.97) {
                opts.push(vec![by.into()]);
            }
        }
        if self.rng.chance(0.4) {
            opts.push(vec!["REV".into()]);
        }
        if self.rng.chance(if by.is_some() { 0.4 } else { 0.05 }) {
            let mut l = Vec::new();
            self.limit(&mut l);
            opts.push(l);
        }
        if self.rng.chance(if by == Some("BYLEX") { 0.05 } else { 0.4 }) {
            opts.push(vec!["WITHSCORES".into()]);
        }
        if self.rng.chance(0.02) {
            opts.push(vec!["BOGUS".into()]);
        }
        // Options may come in any order.
        for i in (1..opts.len()).rev() {
            let j = self.rng.gen_range(0..=i);
            opts.swap(i, j);
        }
        v.extend(opts.into_iter().flatten());
        cmd(v)
    }

    fn legacy_range(&mut self) -> Cmd {
        let mut v = match self.rng.gen_range(0..5) {
            0 => vec!["ZREVRANGE".to_string(), self.key(), self.rank(), self.rank()],
            1 => vec!["ZRANGEBYSCORE".to_string(), self.key(), self.range_item(), self.range_item()],
            2 => vec!["ZREVRANGEBYSCORE".to_string(), self.key(), self.range_item(), self.range_item()],
            3 => vec!["ZRANGEBYLEX".to_string(), self.lex_key(), self.lex_item(), self.lex_item()],
            _ => vec!["ZREVRANGEBYLEX".to_string(), self.lex_key(), self.lex_item(), self.lex_item()],
        };
        if self.rng.chance(0.4) && !v[0].contains("LEX") {
            v.push("WITHSCORES".into());
        }
        if self.rng.chance(0.3) && v[0] != "ZREVRANGE" {
            self.limit(&mut v);
        }
        if self.rng.chance(0.03) {
            v.push(self.rng.pick(&["REV", "BYSCORE", "WITHSCORES"]).into());
        }
        cmd(v)
    }

    fn zmpop(&mut self) -> Cmd {
        let n = self.rng.gen_range(1..4);
        let mut v = vec!["ZMPOP".to_string()];
        v.push(if self.rng.chance(0.05) { self.rng.pick(&["0", "-1", "x", "9"]).into() } else { n.to_string() });
        for _ in 0..n {
            v.push(if self.rng.chance(0.2) { "nokey".into() } else { self.write_key() });
        }
        v.push(self.rng.pick(&["MIN", "max", "MAX", "min", "mid"]).into());
        if self.rng.chance(0.5) {
            v.push("COUNT".into());
            v.push(self.count());
        }
        cmd(v)
    }

    fn zrandmember(&mut self) -> Cmd {
        let k = self.key();
        match self.rng.gen_range(0..4) {
            0 => Cmd { args: vec![b"ZRANDMEMBER".to_vec(), k.into_bytes()], check: Check::Random(None, false) },
            _ => {
                let n: i64 = self.rng.gen_range(-12..12);
                let ws = self.rng.chance(0.5);
                let mut v = vec!["ZRANDMEMBER".to_string(), k, n.to_string()];
                if ws {
                    v.push("WITHSCORES".into());
                }
                let mut c = cmd(v);
                c.check = Check::Random(Some(n), ws);
                c
            }
        }
    }

    fn zremrange(&mut self) -> Cmd {
        let k = self.write_key();
        match self.rng.gen_range(0..3) {
            0 => cmd(vec!["ZREMRANGEBYRANK".into(), k, self.rank(), self.rank()]),
            1 => cmd(vec!["ZREMRANGEBYSCORE".into(), k, self.range_item(), self.range_item()]),
            _ => {
                // Lex removal only where lex order is meaningful.
                let k = self.rng.pick(LEX).to_string();
                cmd(vec!["ZREMRANGEBYLEX".into(), k, self.lex_item(), self.lex_item()])
            }
        }
    }

    fn setop(&mut self) -> Cmd {
        let ops = ["ZUNION", "ZINTER", "ZDIFF", "ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE", "ZINTERCARD"];
        let op = self.rng.pick(&ops);
        let store = op.ends_with("STORE");
        let lex = store && self.rng.chance(0.2);
        let n = self.rng.gen_range(1..4);
        let mut v = vec![op.to_string()];
        if store {
            v.push(if lex { self.rng.pick(LEX).to_string() } else { self.write_key() });
        }
        v.push(if self.rng.chance(0.04) { self.rng.pick(&["0", "x", "5"]).into() } else { n.to_string() });
        v.extend(self.setop_keys(n, lex));
        if op == "ZINTERCARD" {
            if self.rng.chance(0.5) {
                v.push("LIMIT".into());
                v.push(self.count());
            }
        } else {
            if op != "ZDIFF" && op != "ZDIFFSTORE" && self.rng.chance(0.3) {
                v.push("WEIGHTS".into());
                for _ in 0..n {
                    v.push(self.rng.pick(&["1", "2", "-1", "0.5", "0", "inf", "x", "3"]).into());
                }
            }
            if op != "ZDIFF" && op != "ZDIFFSTORE" && self.rng.chance(0.3) {
                v.push("AGGREGATE".into());
                v.push(self.rng.pick(&["SUM", "min", "MAX", "avg"]).into());
            }
            if !store && self.rng.chance(0.5) {
                v.push("WITHSCORES".into());
            }
        }
        cmd(v)
    }

    fn zscan(&mut self) -> Cmd {
        let mut v = vec!["ZSCAN".to_string(), self.key(), "0".into()];
        if self.rng.chance(0.4) {
            v.push("MATCH".into());
            v.push(self.rng.pick(&["m1*", "*", "b*", "[0-9]*", "L*", "m?"]).into());
        }
        if self.rng.chance(0.4) {
            v.push("COUNT".into());
            v.push(self.rng.pick(&["1", "5", "100", "0", "x"]).into());
        }
        Cmd { args: v.into_iter().map(String::into_bytes).collect(), check: Check::ScanAll }
    }

    fn keyspace(&mut self) -> Cmd {
        let k = self.key();
        match self.rng.gen_range(0..8) {
            0 => cmd(vec!["DEL".into(), k]),
            1 => cmd(vec!["EXISTS".into(), k]),
            2 => cmd(vec!["TYPE".into(), k]),
            3 => cmd(vec!["EXPIRE".into(), k, "1000".into()]),
            4 => Cmd { args: vec![b"TTL".to_vec(), k.into_bytes()], check: Check::TtlSign },
            5 => cmd(vec!["SET".into(), STR.into(), "v".into()]),
            _ => {
                // Expires on both servers before the next command: lazy expiry on access.
                let k = self.write_key();
                Cmd { args: vec![b"PEXPIRE".to_vec(), k.into_bytes(), b"1".to_vec()], check: Check::ThenSleepMs(3) }
            }
        }
    }

    fn wrong_arity(&mut self) -> Cmd {
        let k = self.key();
        let v: Vec<&str> = match self.rng.gen_range(0..10) {
            0 => vec!["ZADD", &k, "1"],
            1 => vec!["ZINCRBY", &k, "1"],
            2 => vec!["ZRANGE", &k, "0"],
            3 => vec!["ZRANGESTORE", "d", &k, "0"],
            4 => vec!["ZRANK", &k],
            5 => vec!["ZCOUNT", &k, "0", "1", "2"],
            6 => vec!["ZUNIONSTORE", "d", "1"],
            7 => vec!["ZMPOP", "1", &k],
            8 => vec!["ZSCAN", &k],
            _ => vec!["ZPOPMIN"],
        };
        cmd(v.into_iter().map(String::from).collect())
    }

    /// Fills a big key (or shrinks one with a store) so encodings convert both ways.
    fn refill(&mut self) -> Cmd {
        let k = self.rng.pick(&["big1", "big2", "za"]).to_string();
        if self.rng.chance(0.3) {
            return cmd(vec!["ZRANGESTORE".into(), k.clone(), k, "0".into(), "9".into()]);
        }
        let mut v = vec!["ZADD".to_string(), k];
        let base = self.rng.gen_range(0..200);
        for i in 0..self.rng.gen_range(100..180) {
            v.push(format!("{}", self.rng.gen_range(-50..50) as f64 / 2.0));
            v.push(format!("b{}", base + i));
        }
        cmd(v)
    }
}

/// Every (member, score) a full ZSCAN returns, starting from the reply to the first call.
/// (member, score) pairs.
type Pairs = BTreeSet<(Vec<u8>, Vec<u8>)>;

fn scan_all(c: &mut RawConn, first: Reply, args: &[Vec<u8>]) -> Result<Pairs, String> {
    let mut seen = BTreeSet::new();
    let mut reply = first;
    for _ in 0..100_000 {
        let Some([cursor, batch]) = reply.items() else { return Err(format!("not [cursor, items]: {reply:?}")) };
        let (Some(cursor), Some(batch)) = (cursor.bytes(), batch.items()) else {
            return Err(format!("bad ZSCAN reply: {reply:?}"));
        };
        for pair in batch.chunks(2) {
            match pair {
                [m, s] => seen.insert((m.bytes().unwrap_or_default().to_vec(), s.bytes().unwrap_or_default().to_vec())),
                _ => return Err(format!("odd ZSCAN batch: {batch:?}")),
            };
        }
        if cursor == b"0" {
            return Ok(seen);
        }
        let mut next = args.to_vec();
        next[2] = cursor.to_vec();
        reply = call(c, &next)?.1;
    }
    Err("ZSCAN did not finish".into())
}

/// ZRANDMEMBER checks: shape, length, distinctness, and membership (against redis's set).
fn check_random(
    a: &mut RawConn,
    key: &[u8],
    count: Option<i64>,
    withscores: bool,
    (ra, pa): (&[u8], &Reply),
    (rb, pb): (&[u8], &Reply),
) -> Result<(), String> {
    if pa.is_error() || pb.is_error() || pa.is_nil() || pb.is_nil() || ra.first() != rb.first() {
        return if ra == rb { Ok(()) } else { Err("different reply kinds".into()) };
    }
    let (_, all) = call(a, &[b"ZRANGE".to_vec(), key.to_vec(), b"0".to_vec(), b"-1".to_vec(), b"WITHSCORES".to_vec()])?;
    // RESP2 answers a flat list, RESP3 [member, score] pairs: flatten both.
    let flat: Vec<Vec<u8>> = all
        .items()
        .unwrap_or(&[])
        .iter()
        .flat_map(|r| r.items().map_or_else(|| vec![r], |v| v.iter().collect()))
        .map(|r| r.bytes().unwrap_or_default().to_vec())
        .collect();
    let pairs: Pairs = flat.chunks_exact(2).map(|c| (c[0].clone(), c[1].clone())).collect();
    let members: BTreeSet<Vec<u8>> = pairs.iter().map(|(m, _)| m.clone()).collect();
    let Some(count) = count else {
        let m = pb.bytes().unwrap_or_default();
        return if members.contains(m) { Ok(()) } else { Err(format!("{} is not a member", escape(m))) };
    };
    let (ia, ib) = (pa.items().unwrap_or(&[]), pb.items().unwrap_or(&[]));
    if ia.len() != ib.len() {
        return Err(format!("lengths differ: {} vs {}", ia.len(), ib.len()));
    }
    // Flatten RESP3 pairs and RESP2 flat lists alike into (member, score) pairs.
    let mut got: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let flat_b: Vec<&Reply> =
        ib.iter().flat_map(|r| r.items().map_or_else(|| vec![r], |v| v.iter().collect())).collect();
    if withscores {
        if !flat_b.len().is_multiple_of(2) {
            return Err("odd WITHSCORES reply".into());
        }
        for c in flat_b.chunks(2) {
            got.push((c[0].bytes().unwrap_or_default().to_vec(), c[1].bytes().unwrap_or_default().to_vec()));
        }
    } else {
        got.extend(flat_b.iter().map(|r| (r.bytes().unwrap_or_default().to_vec(), Vec::new())));
    }
    for (m, s) in &got {
        let ok = if withscores { pairs.contains(&(m.clone(), s.clone())) } else { members.contains(m) };
        if !ok {
            return Err(format!("{} (score {}) is not in the set", escape(m), escape(s)));
        }
    }
    if count > 0 {
        let distinct: BTreeSet<&Vec<u8>> = got.iter().map(|(m, _)| m).collect();
        if distinct.len() != got.len() {
            return Err("repeated members for a positive count".into());
        }
    }
    Ok(())
}

/// The first key argument of a command (for diagnostics).
fn c_args_key(args: &[Vec<u8>]) -> Vec<u8> {
    args.get(1).cloned().unwrap_or_default()
}

/// `TESSERA_ZSET_AUDIT=1`: after every command, compare the full content of every key, to find
/// the first command after which the servers' states differ (slow; for debugging a seed).
fn audit() -> bool {
    diff::flag("TESSERA_ZSET_AUDIT")
}

fn audit_keys(a: &mut RawConn, b: &mut RawConn) -> Result<(), String> {
    for k in GENERAL.iter().chain(LEX).chain([MIX, STR].iter()) {
        let q = [b"ZRANGE".to_vec(), k.as_bytes().to_vec(), b"0".to_vec(), b"-1".to_vec(), b"WITHSCORES".to_vec()];
        let (ra, pa) = call(a, &q)?;
        let (rb, pb) = call(b, &q)?;
        if ra != rb {
            let (ia, ib) = (pa.items().unwrap_or(&[]), pb.items().unwrap_or(&[]));
            let at = ia.iter().zip(ib).position(|(x, y)| x != y).unwrap_or(ia.len().min(ib.len()));
            return Err(format!(
                "(audit) {k} differs afterwards, from element {at}: {:?} vs {:?}",
                ia.get(at..(at + 6).min(ia.len())),
                ib.get(at..(at + 6).min(ib.len()))
            ));
        }
    }
    Ok(())
}

fn run_pass(seed: u64, resp3: bool, redis: &Server, tessera: &Server, sets: bool) -> Result<usize, String> {
    let mut pass = Pass::new(seed, resp3, 12);
    let label = &pass.label;
    let (mut a, mut b) = diff::open(redis, tessera, resp3, label)?;
    diff::setup_zset(&mut a, &mut b, label, seed, PLAIN)?;
    let mut gen = Gen { rng: SmallRng::seed_from_u64(seed), sets };
    let steps = diff::steps(STEPS_VAR, DEFAULT_STEPS);
    for step in 0..steps {
        let c = if step < 4 { gen.refill() } else { gen.next() };
        let shown = show_cmd(&c.args);
        pass.history.push(shown.clone());
        let ((ra, pa), (rb, pb)) = diff::both(&mut a, &mut b, &c.args, &format!("{label} step {step}: {shown}: "))?;
        let verdict = match &c.check {
            Check::Exact => (ra == rb).then_some(()).ok_or_else(String::new),
            Check::ThenSleepMs(ms) => {
                std::thread::sleep(Duration::from_millis(*ms));
                (ra == rb).then_some(()).ok_or_else(String::new)
            }
            Check::TtlSign => match (pa.int(), pb.int()) {
                (Some(x), Some(y)) if diff::same_ttl_sign(x, y) => Ok(()),
                _ => Err(String::new()),
            },
            Check::ScanAll => {
                if pa.is_error() || pb.is_error() {
                    (ra == rb).then_some(()).ok_or_else(String::new)
                } else {
                    let sa = scan_all(&mut a, pa.clone(), &c.args)?;
                    let sb = scan_all(&mut b, pb.clone(), &c.args)?;
                    (sa == sb).then_some(()).ok_or_else(|| format!("full ZSCAN differs: {sa:?} vs {sb:?}"))
                }
            }
            Check::Random(count, ws) => check_random(&mut a, &c.args[1], *count, *ws, (&ra, &pa), (&rb, &pb)),
        };
        let verdict = verdict.and_then(|()| if audit() { audit_keys(&mut a, &mut b) } else { Ok(()) });
        if let Err(why) = verdict {
            let key = c_args_key(&c.args);
            let enc = |conn: &mut RawConn| {
                call(conn, &[b"OBJECT".to_vec(), b"ENCODING".to_vec(), key.clone()])
                    .map(|r| escape(&r.0))
                    .unwrap_or_default()
            };
            let (ea, eb) = (enc(&mut a), enc(&mut b));
            return Err(pass.mismatch(
                step,
                &shown,
                &why,
                (escape(&ra), escape(&rb)),
                &format!("encoding of the first key afterwards: redis {ea}, tessera {eb}"),
            ));
        }
    }
    Ok(steps)
}

#[test]
fn zset_family_matches_redis() {
    let redis = Server::redis();
    let tessera = Server::start(Spec::tessera(2));
    // Sets as inputs of ZUNION & co. only once tessera has a set family.
    let sets = !tessera.raw().cmd(&["SADD", "probe", "1"]).is_error();
    let _ = tessera.raw().cmd(&["DEL", "probe"]);
    let total = diff::run_passes(FIXED_SEEDS, |seed, resp3| run_pass(seed, resp3, &redis, &tessera, sets));
    println!("diff_zset: {total} commands compared (set inputs: {sets})");
    assert!(total >= 3000);
}
