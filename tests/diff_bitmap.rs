//! Differential test of the bitmap family: one seeded random sequence of SETBIT, GETBIT,
//! BITCOUNT, BITPOS, BITOP, BITFIELD and BITFIELD_RO (valid and invalid: bad offsets, bits,
//! types, overflow modes and range words, wrong arity, wrong types, integer-encoded strings,
//! strings grown to several KB, BITOP across shards, expiring keys, OBJECT ENCODING checks)
//! goes to a real `redis-server` and to `tessera-server --shards 2`, and every reply must match
//! byte for byte, over RESP2 and then over RESP3 after `HELLO 3`.
//!
//! Seeds: `TESSERA_SEED=<n>` runs just that seed, otherwise the fixed seeds below.
//! `TESSERA_DIFF_STEPS` sets the commands per pass. Every bitmap reply is deterministic, so
//! nothing here is compared loosely except TTL (only its sign); this file must never weaken a
//! comparison to make tessera pass.

mod common;

use common::diff::{self, Draw, Pass};
use common::resp::show_cmd;
use common::Server;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::time::Duration;

const FIXED_SEEDS: &[u64] = &[21, 22];
const DEFAULT_STEPS: usize = 2000;
const STEPS_VAR: &str = "TESSERA_DIFF_STEPS";

/// String keys: some spread over both shards, some sharing a hash tag.
const KEYS: &[&str] = &["b1", "b2", "b3", "{t}1", "{t}2", "{t}3", "big"];
/// A list, for WRONGTYPE, and a key that is never written.
const LIST_KEY: &str = "lst";
const NO_KEY: &str = "nokey";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Check {
    Exact,
    /// TTL: the same sign (seconds may tick between the two servers).
    TtlSign,
    /// Sleep after the command (a 1 ms PEXPIRE must have passed on both servers).
    ThenPause,
}

struct Step {
    args: Vec<Vec<u8>>,
    check: Check,
}

fn step(parts: Vec<String>) -> Step {
    Step { args: parts.into_iter().map(String::into_bytes).collect(), check: Check::Exact }
}

struct Gen {
    rng: SmallRng,
}

impl Gen {
    fn key(&mut self) -> String {
        match self.rng.gen_range(0..30) {
            0 => LIST_KEY.into(),
            1 => NO_KEY.into(),
            _ => self.rng.pick(KEYS).into(),
        }
    }

    /// A bit offset: mostly inside the first bytes, sometimes far, sometimes invalid. The
    /// largest valid offset only where it is read (a write there makes a 512 MB string).
    fn offset(&mut self, read: bool) -> String {
        match self.rng.gen_range(0..40) {
            0 => self.rng.pick(&["-1", "a", "4294967296", "#1", "1.5", "", "+3", "07"]).into(),
            1 if read => "4294967295".into(),
            2..=4 => format!("{}", self.rng.gen_range(200..40_000)),
            _ => format!("{}", self.rng.gen_range(0..200)),
        }
    }

    /// A range end for BITCOUNT/BITPOS.
    fn index(&mut self) -> String {
        match self.rng.gen_range(0..30) {
            0 => self.rng.pick(&["x", "9223372036854775807", "-9223372036854775808", "1e3"]).into(),
            1..=8 => format!("{}", self.rng.gen_range(-60..0)),
            _ => format!("{}", self.rng.gen_range(0..60)),
        }
    }

    fn unit(&mut self, v: &mut Vec<String>) {
        if self.rng.chance(0.6) {
            v.push(self.rng.pick(&["BIT", "BYTE", "bit", "byte", "BITS"]).into());
        }
    }

    fn next(&mut self) -> Step {
        match self.rng.gen_range(0..1000) {
            0..=199 => {
                let (k, o) = (self.key(), self.offset(false));
                let bit = if self.rng.chance(0.05) {
                    self.rng.pick(&["2", "-1", "x", ""])
                } else {
                    self.rng.pick(&["0", "1"])
                };
                step(vec!["SETBIT".into(), k, o, bit.into()])
            }
            200..=299 => {
                let (k, o) = (self.key(), self.offset(true));
                step(vec!["GETBIT".into(), k, o])
            }
            300..=399 => {
                let mut v = vec!["BITCOUNT".to_string(), self.key()];
                match self.rng.gen_range(0..10) {
                    0 => v.push(self.index()),
                    1..=3 => {}
                    _ => {
                        v.push(self.index());
                        v.push(self.index());
                        self.unit(&mut v);
                        if self.rng.chance(0.03) {
                            v.push("x".into());
                        }
                    }
                }
                step(v)
            }
            400..=519 => {
                let bit =
                    if self.rng.chance(0.05) { self.rng.pick(&["2", "x", "-1"]) } else { self.rng.pick(&["0", "1"]) };
                let mut v = vec!["BITPOS".to_string(), self.key(), bit.into()];
                match self.rng.gen_range(0..6) {
                    0 => {}
                    1 => v.push(self.index()),
                    _ => {
                        v.push(self.index());
                        v.push(self.index());
                        self.unit(&mut v);
                        if self.rng.chance(0.03) {
                            v.push("1".into());
                        }
                    }
                }
                step(v)
            }
            520..=619 => self.bitop(),
            620..=779 => self.bitfield(false),
            780..=819 => self.bitfield(true),
            820..=859 => self.set_value(),
            860..=899 => {
                let k = self.key();
                step(vec!["GET".into(), k])
            }
            900..=929 => {
                let k = self.key();
                step(vec!["OBJECT".into(), "ENCODING".into(), k])
            }
            930..=949 => self.keyspace(),
            950..=974 => self.wrong_arity(),
            _ => {
                let (k, o) = (self.key(), format!("{}", self.rng.gen_range(0..64)));
                step(vec!["SETRANGE".into(), k, o, "xyz".into()])
            }
        }
    }

    fn bitop(&mut self) -> Step {
        let op = if self.rng.chance(0.04) {
            self.rng.pick(&["nand", "", "andx"])
        } else {
            self.rng.pick(&["AND", "or", "XOR", "not"])
        };
        let mut v = vec!["BITOP".to_string(), op.into(), self.rng.pick(KEYS).into()];
        let n = if op.eq_ignore_ascii_case("not") && self.rng.chance(0.9) { 1 } else { self.rng.gen_range(1..4) };
        for _ in 0..n {
            v.push(self.key());
        }
        step(v)
    }

    fn field_type(&mut self) -> String {
        match self.rng.gen_range(0..40) {
            0 => self.rng.pick(&["i65", "u64", "I8", "i0", "u", "x8", "i08", "i-1"]).into(),
            1..=4 => self.rng.pick(&["i64", "u63", "i63", "u1", "i1"]).into(),
            _ => format!("{}{}", if self.rng.chance(0.5) { 'i' } else { 'u' }, self.rng.gen_range(1..33)),
        }
    }

    fn field_offset(&mut self) -> String {
        match self.rng.gen_range(0..20) {
            0 => self.rng.pick(&["-1", "#-1", "#", "x", "#9223372036854775807"]).into(),
            1..=5 => format!("#{}", self.rng.gen_range(0..10)),
            _ => format!("{}", self.rng.gen_range(0..120)),
        }
    }

    fn field_value(&mut self) -> String {
        match self.rng.gen_range(0..20) {
            0 => self.rng.pick(&["9223372036854775807", "-9223372036854775808", "x", "1.5"]).into(),
            1..=3 => format!("{}", self.rng.gen::<i64>()),
            4..=8 => format!("{}", self.rng.gen_range(-300..300)),
            _ => format!("{}", self.rng.gen_range(-5..5)),
        }
    }

    fn bitfield(&mut self, read_only: bool) -> Step {
        let mut v = vec![if read_only { "BITFIELD_RO" } else { "BITFIELD" }.to_string(), self.key()];
        for _ in 0..self.rng.gen_range(0..5) {
            let write = !read_only || self.rng.chance(0.05);
            match self.rng.gen_range(0..10) {
                0..=3 => {
                    v.push(self.rng.pick(&["GET", "get"]).into());
                    v.push(self.field_type());
                    v.push(self.field_offset());
                }
                4..=6 if write => {
                    v.push(self.rng.pick(&["SET", "INCRBY", "incrby"]).into());
                    v.push(self.field_type());
                    v.push(self.field_offset());
                    v.push(self.field_value());
                }
                7..=8 => {
                    v.push("OVERFLOW".into());
                    v.push(if self.rng.chance(0.05) { "BAD" } else { self.rng.pick(&["WRAP", "sat", "FAIL"]) }.into());
                }
                9 if self.rng.chance(0.2) => v.push(self.rng.pick(&["GET", "set", "FOO", "overflow"]).into()),
                _ => {}
            }
        }
        step(v)
    }

    fn set_value(&mut self) -> Step {
        let k = self.rng.pick(KEYS).to_string();
        let value = match self.rng.gen_range(0..8) {
            0 => format!("{}", self.rng.gen::<i64>()),
            1 => format!("{}", self.rng.gen_range(-1000..1000)),
            2 => "x".repeat(self.rng.gen_range(20..80)),
            3 => String::new(),
            4 => "\u{ff}\u{0}\u{7f}".into(),
            _ => self.rng.pick(&["foobar", "a", "12", "ab\u{1}c", "0"]).into(),
        };
        if k == "big" && self.rng.chance(0.5) {
            // Grow a few KB so BITCOUNT/BITPOS/BITOP see long strings.
            return step(vec!["SETBIT".into(), k, format!("{}", self.rng.gen_range(8_000..80_000)), "1".into()]);
        }
        step(vec!["SET".into(), k, value])
    }

    fn keyspace(&mut self) -> Step {
        let k = self.key();
        match self.rng.gen_range(0..7) {
            0 => step(vec!["DEL".into(), k]),
            1 => step(vec!["EXPIRE".into(), k, "1000".into()]),
            2 => Step { args: vec![b"TTL".to_vec(), k.into_bytes()], check: Check::TtlSign },
            3 => step(vec!["RPUSH".into(), LIST_KEY.into(), "a".into()]),
            4 => step(vec!["STRLEN".into(), k]),
            5 => step(vec!["TYPE".into(), k]),
            _ => Step { args: vec![b"PEXPIRE".to_vec(), k.into_bytes(), b"1".to_vec()], check: Check::ThenPause },
        }
    }

    fn wrong_arity(&mut self) -> Step {
        let k = self.key();
        let v: Vec<&str> = match self.rng.gen_range(0..8) {
            0 => vec!["SETBIT", &k, "1"],
            1 => vec!["GETBIT", &k],
            2 => vec!["BITCOUNT"],
            3 => vec!["BITPOS", &k],
            4 => vec!["BITOP", "AND", &k],
            5 => vec!["BITFIELD"],
            6 => vec!["BITFIELD_RO"],
            _ => vec!["SETBIT", &k, "1", "1", "1"],
        };
        step(v.into_iter().map(String::from).collect())
    }
}

fn pass(seed: u64, resp3: bool, redis: &Server, tessera: &Server) -> Result<usize, String> {
    let mut pass = Pass::new(seed, resp3, 10);
    let label = &pass.label;
    let (mut a, mut b) = diff::open(redis, tessera, resp3, label)?;
    let mut gen = Gen { rng: SmallRng::seed_from_u64(seed.wrapping_mul(2).wrapping_add(resp3 as u64)) };
    let n = diff::steps(STEPS_VAR, DEFAULT_STEPS);
    let mut errors = 0;
    for i in 0..n {
        let st = gen.next();
        let ((ra, pa), (rb, pb)) = diff::both(&mut a, &mut b, &st.args, &format!("{label}: "))?;
        let same = match st.check {
            Check::Exact => ra == rb,
            Check::ThenPause => {
                std::thread::sleep(Duration::from_millis(3));
                ra == rb
            }
            Check::TtlSign => match (pa.int(), pb.int()) {
                (Some(x), Some(y)) => diff::same_ttl_sign(x, y),
                _ => ra == rb,
            },
        };
        errors += usize::from(ra.first() == Some(&b'-'));
        let shown = show_cmd(&st.args);
        if !same {
            return Err(pass.mismatch(i, &shown, "", (diff::short(&ra), diff::short(&rb)), ""));
        }
        pass.history.push(shown);
    }
    // The final keyspaces must hold the same strings.
    diff::same_replies(&mut a, &mut b, KEYS.iter().map(|k| diff::args(&["GET", k])), &format!("{label}: final "))?;
    println!("{label}: {n} commands, {errors} error replies");
    Ok(n)
}

#[test]
fn bitmap_commands_match_redis() {
    let redis = Server::redis();
    let tessera = Server::tessera(2);
    let total = diff::run_passes(FIXED_SEEDS, |seed, resp3| pass(seed, resp3, &redis, &tessera));
    println!("diff_bitmap: {total} commands matched");
    assert!(total >= 3000 || std::env::var(STEPS_VAR).is_ok(), "too few commands: {total}");
}
