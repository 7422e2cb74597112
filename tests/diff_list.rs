//! Differential test of the list family: one seeded random sequence of list commands (valid
//! and invalid: wrong arity, wrong types, bad numbers and option words, small and big lists
//! spanning many quicklist nodes, moves between keys on the same and on different shards,
//! expiring keys) goes to a real `redis-server` and to `tessera-server --shards 2`, and every
//! reply must match byte for byte, over RESP2 and then over RESP3 after `HELLO 3`.
//!
//! Seeds: `TESSERA_SEED=<n>` runs just that seed, otherwise the fixed seeds below.
//! `TESSERA_DIFF_STEPS` sets the commands per pass. List replies are all ordered, so nothing
//! here is compared as a set; this file must never weaken a comparison to make tessera pass.

mod common;

use common::diff::{self, Draw, Pass};
use common::resp::show_cmd;
use common::Server;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::time::Duration;

const FIXED_SEEDS: &[u64] = &[11, 12];
const DEFAULT_STEPS: usize = 1500;
const STEPS_VAR: &str = "TESSERA_DIFF_STEPS";

/// List keys: a mix that lands on both shards of a 2-shard tessera, plus a hash-tagged pair
/// that always shares a shard.
const LIST_KEYS: &[&str] = &["la", "lb", "lc", "ld", "{q}x", "{q}y"];
/// A string key for WRONGTYPE checks, and a key that is never written.
const STR_KEY: &str = "s";
const NO_KEY: &str = "nokey";

/// One generated command and what to do after sending it.
struct Step {
    args: Vec<Vec<u8>>,
    /// Sleep after the command on both servers (a 1 ms PEXPIRE must have passed before the
    /// next command, so both servers see the key gone).
    pause: bool,
}

struct Gen {
    rng: SmallRng,
}

impl Gen {
    fn key(&mut self) -> String {
        match self.rng.gen_range(0..20) {
            0 => STR_KEY.into(),
            1 => NO_KEY.into(),
            _ => self.rng.pick(LIST_KEYS).into(),
        }
    }

    fn elem(&mut self) -> String {
        match self.rng.gen_range(0..40) {
            0 => String::new(),
            1 => "x".repeat(self.rng.gen_range(30..300)),
            2 => format!("big{}", "y".repeat(self.rng.gen_range(5000..9000))),
            3 => format!("{}", self.rng.gen_range(-100000..100000)),
            _ => self.rng.pick(&["a", "b", "c", "d", "1", "2", "-3", "10", "hello"]).into(),
        }
    }

    fn elems(&mut self) -> Vec<String> {
        let n = match self.rng.gen_range(0..20) {
            0 => self.rng.gen_range(50..400),
            1..=4 => self.rng.gen_range(2..10),
            _ => 1,
        };
        (0..n).map(|_| self.elem()).collect()
    }

    fn index(&mut self) -> String {
        match self.rng.gen_range(0..30) {
            0 => "9223372036854775807".into(),
            1 => "-9223372036854775808".into(),
            2 => self.rng.pick(&["abc", "1.5", "", " 1", "+1", "-0", "01"]).into(),
            3..=8 => self.rng.gen_range(-400..400).to_string(),
            _ => self.rng.gen_range(-8..8).to_string(),
        }
    }

    fn count(&mut self) -> String {
        match self.rng.gen_range(0..25) {
            0 => "-1".into(),
            1 => "x".into(),
            2 => "9223372036854775807".into(),
            3 => "0".into(),
            4 => self.rng.gen_range(50..300).to_string(),
            _ => self.rng.gen_range(1..5).to_string(),
        }
    }

    fn end(&mut self) -> String {
        match self.rng.gen_range(0..30) {
            0 => "middle".into(),
            1 => "LEFTX".into(),
            _ => self.rng.pick(&["LEFT", "RIGHT", "left", "right", "Left"]).into(),
        }
    }

    fn step(&mut self) -> Step {
        let mut pause = false;
        let mut a: Vec<String> = Vec::new();
        let r = self.rng.gen_range(0..100);
        match r {
            0..=11 => {
                a.push(self.rng.pick(&["LPUSH", "RPUSH"]).into());
                a.push(self.key());
                a.extend(self.elems());
            }
            12..=14 => {
                a.push(self.rng.pick(&["LPUSHX", "RPUSHX"]).into());
                a.push(self.key());
                a.extend(self.elems());
            }
            15..=22 => {
                a.push(self.rng.pick(&["LPOP", "RPOP"]).into());
                a.push(self.key());
                if self.rng.gen_bool(0.5) {
                    a.push(self.count());
                }
            }
            23..=25 => a.extend(["LLEN".into(), self.key()]),
            26..=33 => a.extend(["LRANGE".into(), self.key(), self.index(), self.index()]),
            34..=37 => a.extend(["LINDEX".into(), self.key(), self.index()]),
            38..=41 => a.extend(["LSET".into(), self.key(), self.index(), self.elem()]),
            42..=45 => {
                let w = match self.rng.gen_range(0..12) {
                    0 => "AROUND".to_string(),
                    _ => self.rng.pick(&["BEFORE", "AFTER", "before", "after"]).into(),
                };
                a.extend(["LINSERT".into(), self.key(), w, self.elem(), self.elem()]);
            }
            46..=50 => a.extend(["LREM".into(), self.key(), self.index(), self.elem()]),
            51..=54 => a.extend(["LTRIM".into(), self.key(), self.index(), self.index()]),
            55..=61 => {
                a.extend(["LPOS".into(), self.key(), self.elem()]);
                for _ in 0..self.rng.gen_range(0..3) {
                    match self.rng.gen_range(0..10) {
                        0 => a.push("NOPE".into()),
                        1..=3 => a.extend(["RANK".into(), self.index()]),
                        4..=6 => a.extend(["COUNT".into(), self.count()]),
                        7 => a.push("MAXLEN".into()),
                        _ => a.extend(["MAXLEN".into(), self.count()]),
                    }
                }
            }
            62..=69 => a.extend(["LMOVE".into(), self.key(), self.key(), self.end(), self.end()]),
            70..=73 => a.extend(["RPOPLPUSH".into(), self.key(), self.key()]),
            74..=81 => {
                let n = self.rng.gen_range(1..4);
                let numkeys = match self.rng.gen_range(0..15) {
                    0 => "0".into(),
                    1 => (n + 1).to_string(),
                    2 => "x".into(),
                    _ => n.to_string(),
                };
                a.extend(["LMPOP".into(), numkeys]);
                for _ in 0..n {
                    a.push(self.key());
                }
                a.push(self.end());
                match self.rng.gen_range(0..6) {
                    0 | 1 => a.extend(["COUNT".into(), self.count()]),
                    2 => a.push("COUNT".into()),
                    3 => a.extend(["COUNT".into(), "1".into(), "COUNT".into(), "2".into()]),
                    _ => {}
                }
            }
            82..=84 => {
                // Wrong arity for a random list command.
                let (name, keep) = *[
                    ("LPUSH", 2),
                    ("LPOP", 4),
                    ("LLEN", 1),
                    ("LLEN", 3),
                    ("LRANGE", 3),
                    ("LINDEX", 2),
                    ("LSET", 3),
                    ("LINSERT", 4),
                    ("LREM", 5),
                    ("LTRIM", 2),
                    ("LPOS", 2),
                    ("LMOVE", 4),
                    ("RPOPLPUSH", 2),
                    ("LMPOP", 3),
                ]
                .get(self.rng.gen_range(0..14))
                .unwrap_or(&("LLEN", 1));
                a.push(name.into());
                let filler = ["la", "1", "2", "3", "4"];
                a.extend(filler.iter().take(keep - 1).map(|s| s.to_string()));
            }
            85..=86 => a.extend(["SET".into(), STR_KEY.into(), "v".into()]),
            87..=88 => a.extend(["OBJECT".into(), "ENCODING".into(), self.key()]),
            89..=90 => a.extend(["TYPE".into(), self.key()]),
            91..=92 => a.extend(["DEL".into(), self.key()]),
            93 => {
                // Expire a list within the millisecond; both servers must see it gone next.
                a.extend(["PEXPIRE".into(), self.rng.pick(LIST_KEYS).into(), "1".into()]);
                pause = true;
            }
            94 => a.extend(["EXPIRE".into(), self.rng.pick(LIST_KEYS).into(), "1000".into()]),
            95 => a.extend(["EXISTS".into(), self.key(), self.key()]),
            _ => {
                // A push of many elements so lists span many nodes and LRANGE/LINDEX walk them.
                a.extend(["RPUSH".into(), self.rng.pick(LIST_KEYS).into()]);
                for i in 0..self.rng.gen_range(200..1200) {
                    a.push(format!("e{}", i % 37));
                }
            }
        }
        Step { args: a.into_iter().map(String::into_bytes).collect(), pause }
    }
}

/// Runs one pass; Err describes the first difference with the recent history.
fn pass(seed: u64, resp3: bool, redis: &Server, tessera: &Server) -> Result<usize, String> {
    let mut pass = Pass::new(seed, resp3, 8);
    let label = &pass.label;
    let (mut a, mut b) = diff::open(redis, tessera, resp3, label)?;
    let mut gen = Gen { rng: SmallRng::seed_from_u64(seed.wrapping_mul(2).wrapping_add(resp3 as u64)) };
    let mut stats = Stats::default();
    let n = diff::steps(STEPS_VAR, DEFAULT_STEPS);
    for i in 0..n {
        let step = gen.step();
        let ((ra, _), (rb, _)) = diff::both(&mut a, &mut b, &step.args, &format!("{label}: "))?;
        if step.pause {
            std::thread::sleep(Duration::from_millis(3));
        }
        let shown = show_cmd(&step.args);
        let shown = if shown.len() > 300 { format!("{}... ({} args)", &shown[..300], step.args.len()) } else { shown };
        if ra != rb {
            return Err(pass.mismatch(i, &shown, "", (diff::short(&ra), diff::short(&rb)), ""));
        }
        stats.count(&ra);
        pass.history.push(shown);
    }
    // The final keyspaces must hold the same lists.
    let queries = LIST_KEYS.iter().map(|k| diff::args(&["LRANGE", k, "0", "-1"]));
    diff::same_replies(&mut a, &mut b, queries, &format!("{label}: final "))?;
    println!("{label}: {stats:?}");
    Ok(n)
}

/// Reply kinds seen, printed so a run shows it exercised more than errors and nulls.
#[derive(Debug, Default)]
struct Stats {
    errors: usize,
    nulls: usize,
    ints: usize,
    bulks: usize,
    empty_arrays: usize,
    arrays: usize,
}

impl Stats {
    fn count(&mut self, r: &[u8]) {
        match r {
            [b'-', ..] => self.errors += 1,
            b"$-1\r\n" | b"*-1\r\n" | b"_\r\n" => self.nulls += 1,
            [b':', ..] => self.ints += 1,
            [b'$', ..] | [b'+', ..] => self.bulks += 1,
            b"*0\r\n" => self.empty_arrays += 1,
            _ => self.arrays += 1,
        }
    }
}

#[test]
fn list_commands_match_redis() {
    let redis = Server::redis();
    let tessera = Server::tessera(2);
    let total = diff::run_passes(FIXED_SEEDS, |seed, resp3| pass(seed, resp3, &redis, &tessera));
    println!("diff_list: {total} commands matched");
    assert!(total >= 3000 || std::env::var(STEPS_VAR).is_ok(), "too few commands: {total}");
}
