//! The seeded command generator of the differential test: every command of issue 3, valid and
//! invalid, over a small key pool so commands collide, spread over both shards.
//!
//! It must never emit a command whose reply depends on timing or on server-internal choices
//! unless the step says how to compare it (`Check`). The rules that keep replies deterministic:
//! - every relative TTL is unique (`1000 s * u` with `u` strictly increasing), so NX/XX/GT/LT
//!   never compare two deadlines that only differ by the time between two commands;
//! - absolute deadlines sit half-way between the relative ones (`base + 1000 s * m + 500 s`);
//! - a deadline that is short or already past is always followed by a sleep and by a command
//!   that touches the key, so no expired key lingers for DBSIZE/RANDOMKEY/SCAN to see or not see;
//! - TTL/PTTL and friends are compared with a tolerance, except right after an absolute
//!   PEXPIREAT/EXPIREAT where EXPIRETIME/PEXPIRETIME must match exactly.

use std::collections::VecDeque;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::vocab::{long_value, value_pool, ARITY, BAD_FLOATS, BAD_INTS, FLOATS, INTS, KEY_POOL, PATTERNS};

/// How to compare the two servers' replies to one command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// Byte for byte.
    Exact,
    /// Same reply type, same elements in any order (KEYS).
    Unordered,
    /// Integers: negative values exactly, others within this distance.
    Tolerance(i64),
    /// RANDOMKEY: nil on both, or the subject's key exists on the reference.
    RandomKey,
    /// SCAN from cursor 0: errors exactly, else iterate each to the end and compare key sets.
    ScanAll,
}

#[derive(Clone, Debug)]
pub struct Cmd {
    pub args: Vec<Vec<u8>>,
    pub check: Check,
    /// Send as an inline command line instead of a multibulk.
    pub inline: bool,
}

#[derive(Clone, Debug)]
pub enum Step {
    Cmd(Cmd),
    SleepMs(u64),
}

pub struct Gen {
    rng: SmallRng,
    /// Next unique relative-TTL unit (strictly increasing).
    unique: u64,
    /// Unix seconds when the pass started: the origin of absolute deadlines.
    base_s: u64,
    fresh: u64,
    values: Vec<Vec<u8>>,
    queue: VecDeque<Step>,
}

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

impl Gen {
    pub fn new(seed: u64, base_s: u64) -> Gen {
        Gen {
            rng: SmallRng::seed_from_u64(seed),
            unique: 1,
            base_s,
            fresh: 0,
            values: value_pool(),
            queue: VecDeque::new(),
        }
    }

    pub fn next_step(&mut self) -> Step {
        if self.queue.is_empty() {
            self.generate();
        }
        self.queue.pop_front().unwrap_or(Step::SleepMs(0))
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.rng.gen_range(0..from.len())]
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.gen_bool(p)
    }

    fn key(&mut self) -> Vec<u8> {
        let r = self.rng.gen_range(0..100);
        if r < 93 {
            b(self.pick(KEY_POOL))
        } else if r < 98 {
            self.fresh += 1;
            format!("rnd:{}", self.fresh % 7).into_bytes()
        } else if r < 99 {
            Vec::new()
        } else {
            b"bin\x00\r\nkey".to_vec()
        }
    }

    fn keys(&mut self, min: usize, max: usize) -> Vec<Vec<u8>> {
        let n = self.rng.gen_range(min..=max);
        (0..n).map(|_| self.key()).collect()
    }

    fn value(&mut self) -> Vec<u8> {
        let i = self.rng.gen_range(0..self.values.len());
        self.values[i].clone()
    }

    fn int(&mut self) -> Vec<u8> {
        if self.chance(0.2) {
            b(self.pick(BAD_INTS))
        } else if self.chance(0.5) {
            self.rng.gen_range(-50i64..50).to_string().into_bytes()
        } else {
            b(self.pick(INTS))
        }
    }

    /// A unique relative TTL in seconds (see the header).
    fn rel_s(&mut self) -> u64 {
        self.unique += self.rng.gen_range(1..4);
        1000 * self.unique
    }

    fn rel_ms(&mut self) -> u64 {
        self.rel_s() * 1000 + self.rng.gen_range(0..1000)
    }

    fn abs_s(&mut self) -> u64 {
        self.base_s + 1000 * self.rng.gen_range(1..300) + 500
    }

    fn abs_ms(&mut self) -> u64 {
        self.abs_s() * 1000 + self.rng.gen_range(0..1000)
    }

    fn now_ms() -> u64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
    }

    fn push(&mut self, args: Vec<Vec<u8>>, check: Check) {
        let inline = self.chance(0.03);
        self.queue.push_back(Step::Cmd(Cmd { args, check, inline }));
    }

    /// After a short or past deadline on `key`: wait it out, then touch the key so both servers
    /// delete it before anything can count it.
    fn expire_then_touch(&mut self, key: Vec<u8>, sleep: bool) {
        if sleep {
            self.queue.push_back(Step::SleepMs(self.rng.gen_range(6..10)));
        }
        let (name, check) = match self.rng.gen_range(0..7) {
            0 => ("GET", Check::Exact),
            1 => ("EXISTS", Check::Exact),
            2 => ("TTL", Check::Tolerance(3)),
            3 => ("PTTL", Check::Tolerance(3000)),
            4 => ("TYPE", Check::Exact),
            5 => ("STRLEN", Check::Exact),
            _ => ("PERSIST", Check::Exact),
        };
        self.push(vec![b(name), key], check);
    }

    /// Expiry option for SET / GETEX: (args, deadline is short or past).
    fn expiry_option(&mut self) -> (Vec<Vec<u8>>, bool) {
        let r = self.rng.gen_range(0..100);
        let (name, val, short) = match r {
            0..=19 => ("EX", self.rel_s().to_string(), false),
            20..=34 => ("PX", self.rel_ms().to_string(), false),
            35..=44 => ("EXAT", self.abs_s().to_string(), false),
            45..=54 => ("PXAT", self.abs_ms().to_string(), false),
            55..=64 => ("PX", self.rng.gen_range(1..4).to_string(), true),
            65..=69 => ("PXAT", (Self::now_ms() + 2).to_string(), true),
            70..=74 => ("EXAT", self.rng.gen_range(1..1000).to_string(), true),
            75..=79 => ("PXAT", "1".to_string(), true),
            80..=84 => ("EX", self.pick(&["0", "-1", "-100"]).to_string(), false),
            85..=89 => ("PX", self.pick(&["0", "-5"]).to_string(), false),
            90..=94 => (self.pick(&["EX", "PX", "EXAT", "PXAT"]), b_str(self.pick(BAD_INTS)), false),
            // Huge values: errors for the relative forms, far-future deadlines for the absolute.
            95..=97 => (self.pick(&["EX", "PX"]), "9223372036854775807".to_string(), false),
            _ => (
                self.pick(&["EXAT", "PXAT"]),
                self.pick(&["9223372036854775807", "9223372036854775", "92233720368547758"]).to_string(),
                false,
            ),
        };
        (vec![b(name), val.into_bytes()], short)
    }

    fn generate(&mut self) {
        let which = self.rng.gen_range(0..60);
        match which {
            0..=3 => self.gen_set(),
            4 => {
                let args = vec![b("GET"), self.key()];
                self.push(args, Check::Exact)
            }
            5 => {
                let (k, v) = (self.key(), self.value());
                self.push(vec![b("SETNX"), k, v], Check::Exact)
            }
            6 => self.gen_setex(),
            7 => {
                let mut args = vec![b("MGET")];
                args.extend(self.keys(1, 6));
                self.push(args, Check::Exact)
            }
            8 | 9 => self.gen_mset(),
            10 => {
                let (k, v) = (self.key(), self.value());
                self.push(vec![b("GETSET"), k, v], Check::Exact)
            }
            11 => {
                let k = self.key();
                self.push(vec![b("GETDEL"), k], Check::Exact)
            }
            12 => self.gen_getex(),
            13 => {
                let (k, v) = (self.key(), self.value());
                self.push(vec![b("APPEND"), k, v], Check::Exact)
            }
            14 => {
                let k = self.key();
                self.push(vec![b("STRLEN"), k], Check::Exact)
            }
            15..=17 => self.gen_incr(),
            18 => self.gen_range(),
            19 => self.gen_lcs(),
            20 | 21 => {
                let name = self.pick(&["DEL", "UNLINK", "EXISTS", "TOUCH"]);
                let mut args = vec![b(name)];
                args.extend(self.keys(1, 5));
                self.push(args, Check::Exact)
            }
            22 => {
                let k = self.key();
                self.push(vec![b("TYPE"), k], Check::Exact)
            }
            23..=25 => self.gen_expire(),
            26 | 27 => self.gen_ttl(),
            28 => {
                let k = self.key();
                self.push(vec![b("PERSIST"), k], Check::Exact)
            }
            29 | 30 => self.gen_rename_copy(),
            31 => {
                let p = b(self.pick(PATTERNS));
                self.push(vec![b("KEYS"), p], Check::Unordered)
            }
            32 => self.gen_scan(),
            33 => self.push(vec![b("RANDOMKEY")], Check::RandomKey),
            34 => self.push(vec![b("DBSIZE")], Check::Exact),
            35 => self.gen_flush(),
            36 => self.gen_object(),
            37 => self.gen_select(),
            38 => self.gen_server(),
            39 => self.gen_wrong_arity(),
            40 => self.gen_unknown(),
            41 => self.gen_short_expiry(),
            42 => self.gen_exact_deadline_probe(),
            43 => {
                let k = self.key();
                let v = self.value();
                let g = b(self.pick(&["GET", "GET", "NX", "XX", "KEEPTTL"]));
                self.push(vec![b("SET"), k, v, g], Check::Exact)
            }
            44 | 45 => {
                // Keep a few integer keys around so INCR & co. mostly succeed.
                let k = self.key();
                let v = self.rng.gen_range(-1000i64..100_000).to_string().into_bytes();
                self.push(vec![b("SET"), k, v], Check::Exact)
            }
            46 => {
                let k = self.key();
                let v = long_value(self.rng.gen_range(40..50), self.rng.gen());
                self.push(vec![b("SET"), k, v], Check::Exact)
            }
            _ => self.gen_mixed_case(),
        }
    }

    fn gen_set(&mut self) {
        let key = self.key();
        let mut args = vec![b("SET"), key.clone(), self.value()];
        let mut short = false;
        let nopts = self.rng.gen_range(0..4);
        for _ in 0..nopts {
            match self.rng.gen_range(0..10) {
                0 => args.push(b("NX")),
                1 => args.push(b("XX")),
                2 | 3 => args.push(b("GET")),
                4 => args.push(b("KEEPTTL")),
                5 => args.push(b(self.pick(&["nx", "Get", "keepttl", "px"]))),
                6 => args.push(b(self.pick(&["FOO", "EX", "", "XXX"]))),
                _ => {
                    let (opt, s) = self.expiry_option();
                    short |= s;
                    args.extend(opt);
                }
            }
        }
        self.push(args, Check::Exact);
        if short {
            self.expire_then_touch(key, true);
        }
    }

    fn gen_setex(&mut self) {
        let key = self.key();
        let ms = self.chance(0.5);
        let (name, t, short) = match self.rng.gen_range(0..10) {
            0..=5 => {
                if ms {
                    ("PSETEX", self.rel_ms().to_string(), false)
                } else {
                    ("SETEX", self.rel_s().to_string(), false)
                }
            }
            6 if ms => ("PSETEX", self.rng.gen_range(1..4).to_string(), true),
            7 => {
                (if ms { "PSETEX" } else { "SETEX" }, self.pick(&["0", "-1", "9223372036854775807"]).to_string(), false)
            }
            _ => (if ms { "PSETEX" } else { "SETEX" }, b_str(self.pick(BAD_INTS)), false),
        };
        let v = self.value();
        self.push(vec![b(name), key.clone(), t.into_bytes(), v], Check::Exact);
        if short {
            self.expire_then_touch(key, true);
        }
    }

    fn gen_mset(&mut self) {
        let name = self.pick(&["MSET", "MSET", "MSETNX"]);
        let mut args = vec![b(name)];
        let pairs = self.rng.gen_range(1..5);
        for _ in 0..pairs {
            args.push(self.key());
            args.push(self.value());
        }
        if self.chance(0.1) {
            args.pop();
        }
        self.push(args, Check::Exact)
    }

    fn gen_getex(&mut self) {
        let key = self.key();
        let mut args = vec![b("GETEX"), key.clone()];
        let mut short = false;
        match self.rng.gen_range(0..10) {
            0 => {}
            1 => args.push(b("PERSIST")),
            2 => args.extend([b("PERSIST"), b("EX"), b("10")]),
            3 => args.push(b(self.pick(&["EX", "FOO", "PX", "KEEPTTL"]))),
            4 => {
                let (opt, s) = self.expiry_option();
                short |= s;
                args.extend(opt);
                args.push(b("PERSIST"));
            }
            _ => {
                let (opt, s) = self.expiry_option();
                short |= s;
                args.extend(opt);
            }
        }
        self.push(args, Check::Exact);
        if short {
            self.expire_then_touch(key, true);
        }
    }

    fn gen_incr(&mut self) {
        let key = self.key();
        match self.rng.gen_range(0..6) {
            0 => self.push(vec![b("INCR"), key], Check::Exact),
            1 => self.push(vec![b("DECR"), key], Check::Exact),
            2 => {
                let n = self.int();
                self.push(vec![b("INCRBY"), key, n], Check::Exact)
            }
            3 => {
                let n = self.int();
                self.push(vec![b("DECRBY"), key, n], Check::Exact)
            }
            _ => {
                let f = if self.chance(0.25) { self.pick(BAD_FLOATS) } else { self.pick(FLOATS) };
                self.push(vec![b("INCRBYFLOAT"), key, b(f)], Check::Exact)
            }
        }
    }

    fn range_index(&mut self) -> Vec<u8> {
        match self.rng.gen_range(0..10) {
            0 => b(self.pick(&["9223372036854775807", "-9223372036854775808", "abc", "", "1.0"])),
            1..=3 => self.rng.gen_range(-100i64..0).to_string().into_bytes(),
            _ => self.rng.gen_range(0i64..120).to_string().into_bytes(),
        }
    }

    fn gen_range(&mut self) {
        let key = self.key();
        if self.chance(0.5) {
            let (s, e) = (self.range_index(), self.range_index());
            self.push(vec![b("GETRANGE"), key, s, e], Check::Exact);
            return;
        }
        let (off, val) = match self.rng.gen_range(0..10) {
            0 => (b("-1"), self.value()),
            1 => (b("536870912"), b("x")),
            2 => (b(self.pick(&["536870911", "100000"])), Vec::new()),
            3 => (b(self.pick(&["abc", "1.5", ""])), b("x")),
            4 => (self.rng.gen_range(100..3000).to_string().into_bytes(), self.value()),
            _ => (self.rng.gen_range(0..60).to_string().into_bytes(), self.value()),
        };
        self.push(vec![b("SETRANGE"), key, off, val], Check::Exact)
    }

    fn gen_lcs(&mut self) {
        let mut args = vec![b("LCS"), self.key(), self.key()];
        let n = self.rng.gen_range(0..4);
        for _ in 0..n {
            match self.rng.gen_range(0..7) {
                0 => args.push(b("LEN")),
                1 | 2 => args.push(b("IDX")),
                3 => args.extend([b("MINMATCHLEN"), b(self.pick(&["0", "1", "2", "4", "-1", "abc"]))]),
                4 => args.push(b("WITHMATCHLEN")),
                5 => args.push(b(self.pick(&["MINMATCHLEN", "FOO", "len"]))),
                _ => args.push(b("idx")),
            }
        }
        self.push(args, Check::Exact)
    }

    fn gen_expire(&mut self) {
        let key = self.key();
        let name = self.pick(&["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"]);
        let relative = name == "EXPIRE" || name == "PEXPIRE";
        // A deadline that is short or already past must be waited out and touched.
        let mut short = false;
        let t = match self.rng.gen_range(0..10) {
            0..=5 => match name {
                "EXPIRE" => self.rel_s().to_string(),
                "PEXPIRE" => self.rel_ms().to_string(),
                "EXPIREAT" => self.abs_s().to_string(),
                _ => self.abs_ms().to_string(),
            },
            6 => {
                short = true;
                match name {
                    "PEXPIRE" => self.rng.gen_range(1..4).to_string(),
                    "PEXPIREAT" => (Self::now_ms() + 2).to_string(),
                    // 1 s after the epoch: long past.
                    "EXPIREAT" => "1".to_string(),
                    // A real 1 s TTL would run out at a random point of the sequence.
                    _ => "0".to_string(),
                }
            }
            7 => {
                short = true;
                self.pick(&["0", "-1", "-100"]).to_string()
            }
            // Relative forms only get values that overflow (errors): a valid huge relative
            // TTL would not be unique (see the header).
            8 if relative => self.pick(&["9223372036854775807", "9223372036854775806"]).to_string(),
            8 => self.pick(&["9223372036854775807", "9223372036854775", "92233720368547758"]).to_string(),
            _ => b_str(self.pick(BAD_INTS)),
        };
        let mut args = vec![b(name), key.clone(), t.into_bytes()];
        let nflags = match self.rng.gen_range(0..10) {
            0..=4 => 0,
            5..=8 => 1,
            _ => 2,
        };
        for _ in 0..nflags {
            args.push(b(self.pick(&["NX", "XX", "GT", "LT", "nx", "gt", "FOO"])));
        }
        self.push(args, Check::Exact);
        if short {
            self.expire_then_touch(key, true);
        }
    }

    fn gen_ttl(&mut self) {
        let key = self.key();
        let (name, check) = match self.rng.gen_range(0..4) {
            0 => ("TTL", Check::Tolerance(3)),
            1 => ("PTTL", Check::Tolerance(3000)),
            2 => ("EXPIRETIME", Check::Tolerance(3)),
            _ => ("PEXPIRETIME", Check::Tolerance(3000)),
        };
        self.push(vec![b(name), key], check)
    }

    /// An absolute deadline followed at once by the query that must echo it exactly.
    fn gen_exact_deadline_probe(&mut self) {
        let key = self.key();
        if self.chance(0.5) {
            let t = self.abs_ms().to_string().into_bytes();
            self.push(vec![b("PEXPIREAT"), key.clone(), t], Check::Exact);
        } else {
            let t = self.abs_s().to_string().into_bytes();
            self.push(vec![b("EXPIREAT"), key.clone(), t], Check::Exact);
        }
        let q = self.pick(&["EXPIRETIME", "PEXPIRETIME"]);
        self.push(vec![b(q), key], Check::Exact)
    }

    fn gen_rename_copy(&mut self) {
        let (src, dst) = (self.key(), if self.chance(0.1) { b("a") } else { self.key() });
        match self.rng.gen_range(0..4) {
            0 => self.push(vec![b("RENAME"), src, dst], Check::Exact),
            1 => self.push(vec![b("RENAMENX"), src, dst], Check::Exact),
            _ => {
                let mut args = vec![b("COPY"), src, dst];
                let n = self.rng.gen_range(0..3);
                for _ in 0..n {
                    match self.rng.gen_range(0..5) {
                        0 | 1 => args.push(b("REPLACE")),
                        2 | 3 => args.extend([b("DB"), b(self.pick(&["0", "1", "2", "1", "16", "-1", "abc"]))]),
                        _ => args.push(b(self.pick(&["DB", "FOO", "replace"]))),
                    }
                }
                self.push(args, Check::Exact)
            }
        }
    }

    fn gen_scan(&mut self) {
        if self.chance(0.15) {
            let cursor = self.pick(&["abc", "18446744073709551616", "1.5", " 0", "0x1"]);
            return self.push(vec![b("SCAN"), b(cursor)], Check::Exact);
        }
        // Redis reads the cursor with strtoul: "" is cursor 0 too.
        let mut args = vec![b("SCAN"), b(if self.chance(0.05) { "" } else { "0" })];
        let n = self.rng.gen_range(0..3);
        for _ in 0..n {
            match self.rng.gen_range(0..8) {
                0 | 1 => args.extend([b("MATCH"), b(self.pick(PATTERNS))]),
                2 | 3 => args.extend([b("COUNT"), b(self.pick(&["1", "2", "5", "10", "100", "1000"]))]),
                4 => args.extend([b("COUNT"), b(self.pick(&["0", "-1", "abc"]))]),
                5 => args.extend([b("TYPE"), b(self.pick(&["string", "STRING", "list", "foo", "hash"]))]),
                6 => args.push(b(self.pick(&["MATCH", "COUNT", "TYPE", "FOO"]))),
                _ => args.extend([b("match"), b(self.pick(PATTERNS))]),
            }
        }
        self.push(args, Check::ScanAll)
    }

    fn gen_flush(&mut self) {
        // Rare, so the keyspace builds up between flushes.
        if !self.chance(0.3) {
            return self.push(vec![b("DBSIZE")], Check::Exact);
        }
        let mut args = vec![b(self.pick(&["FLUSHDB", "FLUSHALL"]))];
        if self.chance(0.5) {
            args.push(b(self.pick(&["ASYNC", "SYNC", "async", "FOO"])));
        }
        if self.chance(0.1) {
            args.push(b("SYNC"));
        }
        self.push(args, Check::Exact)
    }

    fn gen_object(&mut self) {
        let args = match self.rng.gen_range(0..10) {
            0 => vec![b("OBJECT"), b(self.pick(&["FOO", "ENCODINGX"])), self.key()],
            1 => vec![b("OBJECT"), b("ENCODING")],
            2 => vec![b("OBJECT"), b("ENCODING"), self.key(), self.key()],
            _ => vec![b("OBJECT"), b(self.pick(&["ENCODING", "encoding"])), self.key()],
        };
        self.push(args, Check::Exact)
    }

    fn gen_select(&mut self) {
        let db = match self.rng.gen_range(0..10) {
            0..=4 => "0",
            5 | 6 => "1",
            7 => "2",
            _ => self.pick(&["16", "-1", "abc", "15", "1.0", "9223372036854775808"]),
        };
        self.push(vec![b("SELECT"), b(db)], Check::Exact)
    }

    fn gen_server(&mut self) {
        let args = match self.rng.gen_range(0..8) {
            0 => vec![b("PING")],
            1 => vec![b("PING"), self.value()],
            2 => vec![b("PING"), b("a"), b("b")],
            3 => vec![b("ECHO"), self.value()],
            4 => vec![b("ECHO")],
            5 => vec![b("HELLO"), b(self.pick(&["4", "1", "abc", "0", "-1"]))],
            6 => vec![b("ECHO"), b("a"), b("b")],
            _ => vec![b("ping")],
        };
        self.push(args, Check::Exact)
    }

    fn gen_wrong_arity(&mut self) {
        let (name, arity) = ARITY[self.rng.gen_range(0..ARITY.len())];
        let argc = if arity > 0 {
            let a = arity as usize;
            let mut n = self.rng.gen_range(1..=a + 1);
            if n == a {
                n = a + 1;
            }
            n
        } else {
            let min = (-arity) as usize;
            if min <= 1 {
                return self.push(vec![b(name), b("x"), b("y"), b("z")], Check::Exact);
            }
            self.rng.gen_range(1..min)
        };
        let mut args = vec![b(name)];
        for _ in 1..argc {
            args.push(self.key());
        }
        self.push(args, Check::Exact)
    }

    fn gen_unknown(&mut self) {
        let name = match self.rng.gen_range(0..6) {
            0 => b("FOO"),
            1 => b("gett"),
            2 => b("set2"),
            3 => Vec::new(),
            4 => b("x\r\ny"),
            _ => b("CONFIGX"),
        };
        let mut args = vec![name];
        let n = self.rng.gen_range(0..4);
        for _ in 0..n {
            let a = match self.rng.gen_range(0..5) {
                0 => long_value(200, 5),
                1 => b"a\r\nb".to_vec(),
                2 => b"\xff\x01z\t".to_vec(),
                _ => self.key(),
            };
            args.push(a);
        }
        self.push(args, Check::Exact)
    }

    fn gen_short_expiry(&mut self) {
        let key = self.key();
        let v = self.value();
        let ms = self.rng.gen_range(1..4).to_string().into_bytes();
        let args = match self.rng.gen_range(0..5) {
            0 => vec![b("SET"), key.clone(), v, b("PX"), ms],
            1 => vec![b("PSETEX"), key.clone(), ms, v],
            2 => vec![b("PEXPIRE"), key.clone(), ms],
            3 => vec![b("GETEX"), key.clone(), b("PX"), ms],
            _ => vec![b("SET"), key.clone(), v, b("PXAT"), (Self::now_ms() + 2).to_string().into_bytes(), b("GET")],
        };
        self.push(args, Check::Exact);
        self.expire_then_touch(key, true);
    }

    fn gen_mixed_case(&mut self) {
        let key = self.key();
        let args = match self.rng.gen_range(0..4) {
            0 => vec![b("gEt"), key],
            1 => vec![b("Strlen"), key],
            2 => vec![b("eXiStS"), key],
            _ => vec![b("incrBY"), key, b("3")],
        };
        self.push(args, Check::Exact)
    }
}

fn b_str(s: &str) -> String {
    s.to_string()
}
