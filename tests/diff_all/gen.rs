//! The seeded generator of the combined differential test: it turns a seed into a sequence of
//! commands over every enabled family, transactions and WATCH races, each with the way its
//! replies are compared. Given the seed and the reference server's replies (streams learn the
//! IDs redis-server gave), the sequence is always the same.
//!
//! Rules that keep Redis's own replies deterministic, enforced here and in the family modules:
//! - relative TTLs are long and unique (`1000 s * u`, `u` strictly increasing), absolute ones
//!   sit half-way between (`base + 1000 s * m + 500 s`), so NX/XX/GT/LT never compare two
//!   deadlines that differ only by the time between two commands; TTL replies are compared
//!   with a tolerance;
//! - a deadline that is short or already past is only set at the top level, and is followed by
//!   a sleep and a command touching the key, so no expired key lingers for DBSIZE/KEYS to count;
//! - the key rules of `keyspace.rs` (lex keys, HyperLogLog keys, the `*`-ID stream).

use std::collections::VecDeque;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::check::Check;
use super::family::{self, FamilyDef};
use super::keyspace::{self, Fam, MISSING};
use super::txn;
use super::vocab::{string_values, ARITY, BAD_FLOATS, BAD_INTS, FLOATS, INTS};
use crate::common::Reply;

/// Which connection a command goes to: the main one, or the second one (WATCH races).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conn {
    Main,
    Other,
}

#[derive(Clone, Debug)]
pub struct Cmd {
    pub args: Vec<Vec<u8>>,
    pub check: Check,
    pub conn: Conn,
    /// The command sets a short or past deadline on this key: top level only, followed by a
    /// sleep and a touch.
    pub short_ttl: Option<Vec<u8>>,
}

impl Cmd {
    pub fn new(args: Vec<Vec<u8>>) -> Cmd {
        Cmd { args, check: Check::Exact, conn: Conn::Main, short_ttl: None }
    }

    pub fn with(mut self, check: Check) -> Cmd {
        self.check = check;
        self
    }

    pub fn expiring(mut self, key: Vec<u8>) -> Cmd {
        self.short_ttl = Some(key);
        self
    }

    pub fn other(mut self) -> Cmd {
        self.conn = Conn::Other;
        self
    }

    /// Whether the command may sit inside MULTI: its reply inside EXEC can be compared without
    /// further queries, and it sets no short deadline.
    pub fn txn_safe(&self) -> bool {
        self.short_ttl.is_none() && self.check.txn_safe()
    }

    pub fn name(&self) -> String {
        self.args.first().map(|a| String::from_utf8_lossy(a).to_ascii_uppercase()).unwrap_or_default()
    }
}

#[derive(Clone, Debug)]
pub enum Item {
    Cmd(Cmd),
    SleepMs(u64),
    /// Start of a transaction block (for the mismatch report only).
    TxnStart(&'static str),
}

pub fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// Converts string parts into command arguments.
pub fn args(parts: &[&str]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| b(p)).collect()
}

pub struct Gen {
    pub rng: SmallRng,
    /// Next unique relative-TTL unit (strictly increasing).
    unique: u64,
    /// Unix seconds when the pass started: the origin of absolute deadlines.
    base_s: u64,
    values: Vec<Vec<u8>>,
    queue: VecDeque<Item>,
    families: Vec<&'static FamilyDef>,
    total_weight: u32,
    /// Whether redis-server collates like `strcmp` (SORT ALPHA is then compared exactly).
    pub c_collation: bool,
    /// Per stream key: a rough top millisecond, and IDs redis-server gave recent entries.
    pub stream_top: Vec<u64>,
    pub stream_known: Vec<VecDeque<String>>,
}

impl Gen {
    pub fn new(seed: u64, base_s: u64, families: Vec<&'static FamilyDef>, c_collation: bool) -> Gen {
        let total_weight = families.iter().map(|f| f.weight).sum();
        Gen {
            rng: SmallRng::seed_from_u64(seed),
            unique: 1,
            base_s,
            values: string_values(),
            queue: VecDeque::new(),
            families,
            total_weight,
            c_collation,
            stream_top: vec![1; keyspace::STREAM.len()],
            stream_known: vec![VecDeque::new(); keyspace::STREAM.len()],
        }
    }

    pub fn next_item(&mut self) -> Item {
        while self.queue.is_empty() {
            self.generate();
        }
        self.queue.pop_front().unwrap_or(Item::SleepMs(0))
    }

    /// Items generated but not handed out yet (the rest of a transaction, a touch...).
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    pub fn push(&mut self, item: Item) {
        self.queue.push_back(item);
    }

    /// Pushes a top-level command; a short deadline is waited out and its key touched.
    pub fn push_top(&mut self, cmd: Cmd) {
        let short = cmd.short_ttl.clone();
        self.queue.push_back(Item::Cmd(cmd));
        if let Some(key) = short {
            self.queue.push_back(Item::SleepMs(self.rng.gen_range(5..8)));
            let name = self.pick(&["EXISTS", "TYPE", "PTTL", "DEL"]);
            let check = if name == "PTTL" { Check::Tolerance(3000) } else { Check::Exact };
            self.queue.push_back(Item::Cmd(Cmd::new(vec![b(name), key]).with(check)));
        }
    }

    fn generate(&mut self) {
        let r = self.rng.gen_range(0..1000);
        match r {
            0..=59 => txn::gen_block(self),
            60..=74 => txn::gen_watch_race(self),
            75..=79 => txn::gen_stray(self),
            80..=94 => {
                let c = self.wrong_arity();
                self.push_top(c)
            }
            _ => {
                let c = self.family_cmd();
                self.push_top(c)
            }
        }
    }

    /// One command of a family drawn by weight.
    pub fn family_cmd(&mut self) -> Cmd {
        let mut r = self.rng.gen_range(0..self.total_weight.max(1));
        let mut chosen = self.families.first().map(|f| f.gen);
        for f in &self.families {
            if r < f.weight {
                chosen = Some(f.gen);
                break;
            }
            r -= f.weight;
        }
        match chosen {
            Some(gen) => gen(self),
            None => Cmd::new(args(&["PING"])),
        }
    }

    /// A command that may sit inside MULTI (a few attempts, then a plain read).
    pub fn txn_cmd(&mut self) -> Cmd {
        for _ in 0..20 {
            let mut c = if self.chance(0.02) { self.wrong_arity() } else { self.family_cmd() };
            if c.txn_safe() {
                c.check = c.check.in_txn();
                return c;
            }
        }
        let k = self.any_key();
        Cmd::new(vec![b("TYPE"), k])
    }

    /// A data command with too few or too many arguments (errors before execution, so inside
    /// MULTI they abort the transaction).
    pub fn wrong_arity(&mut self) -> Cmd {
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
                // No wrong arity exists for "at least 1": send a valid-arity garbage call.
                return Cmd::new(vec![b(name), b("x"), b("y"), b("z")]);
            }
            self.rng.gen_range(1..min)
        };
        let shown = if self.chance(0.2) { name.to_ascii_uppercase() } else { name.to_string() };
        let mut a = vec![b(&shown)];
        for _ in 1..argc {
            a.push(self.any_key());
        }
        Cmd::new(a)
    }

    // ---- random helpers ------------------------------------------------------------------

    pub fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.rng.gen_range(0..from.len())]
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.rng.gen_bool(p)
    }

    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        self.rng.gen_range(lo..hi)
    }

    pub fn rng_f64(&mut self, lo: f64, hi: f64) -> f64 {
        self.rng.gen_range(lo..hi)
    }

    pub fn num(&mut self, lo: i64, hi: i64) -> Vec<u8> {
        self.range(lo, hi).to_string().into_bytes()
    }

    /// A key of `fam`: mostly its own, sometimes any key (wrong types), sometimes missing.
    pub fn key(&mut self, fam: Fam) -> Vec<u8> {
        match self.rng.gen_range(0..100) {
            0..=84 => self.home(fam),
            85..=95 => self.any_key(),
            _ => b(self.pick(MISSING)),
        }
    }

    /// A key `fam`'s commands may write: like `key`, but never a lex key or a HyperLogLog key
    /// unless `fam` is theirs (see `keyspace.rs`).
    pub fn write_key(&mut self, fam: Fam) -> Vec<u8> {
        loop {
            let k = self.key(fam);
            if (keyspace::is_zlex(&k) && fam != Fam::ZLex) || (keyspace::is_hll(&k) && fam != Fam::Hll) {
                continue;
            }
            return k;
        }
    }

    pub fn home(&mut self, fam: Fam) -> Vec<u8> {
        b(self.pick(keyspace::home(fam)))
    }

    /// Any named key of any family (never `AUTO`).
    pub fn any_key(&mut self) -> Vec<u8> {
        let fam = keyspace::ALL_FAMS[self.rng.gen_range(0..keyspace::ALL_FAMS.len())];
        self.home(fam)
    }

    /// A key that any command may replace wholesale (not lex, not HyperLogLog).
    pub fn free_key(&mut self) -> Vec<u8> {
        loop {
            let k = if self.chance(0.1) { b(self.pick(MISSING)) } else { self.any_key() };
            if !keyspace::is_zlex(&k) && !keyspace::is_hll(&k) {
                return k;
            }
        }
    }

    pub fn value(&mut self) -> Vec<u8> {
        let i = self.rng.gen_range(0..self.values.len());
        self.values[i].clone()
    }

    pub fn int(&mut self) -> Vec<u8> {
        if self.chance(0.15) {
            b(self.pick(BAD_INTS))
        } else if self.chance(0.6) {
            self.num(-50, 50)
        } else {
            b(self.pick(INTS))
        }
    }

    pub fn float(&mut self) -> Vec<u8> {
        if self.chance(0.15) {
            b(self.pick(BAD_FLOATS))
        } else {
            b(self.pick(FLOATS))
        }
    }

    /// A count argument: mostly small, sometimes 0, negative or not a number.
    pub fn count(&mut self) -> Vec<u8> {
        match self.rng.gen_range(0..14) {
            0 => b("0"),
            1 => b("-1"),
            2 => b(self.pick(&["x", "", "1.5"])),
            _ => self.num(1, 8),
        }
    }

    /// A list/zset index: mostly small, sometimes negative, huge or not a number.
    pub fn index(&mut self) -> Vec<u8> {
        match self.rng.gen_range(0..20) {
            0 => b(self.pick(&["9223372036854775807", "-9223372036854775808", "x"])),
            1..=5 => self.num(-12, 0),
            _ => self.num(0, 14),
        }
    }

    /// A unique relative TTL in seconds (see the header).
    pub fn rel_s(&mut self) -> u64 {
        self.unique += self.rng.gen_range(1..4);
        1000 * self.unique
    }

    pub fn rel_ms(&mut self) -> u64 {
        self.rel_s() * 1000 + self.rng.gen_range(0..1000)
    }

    pub fn abs_s(&mut self) -> u64 {
        self.base_s + 1000 * self.rng.gen_range(1..300) + 500
    }

    pub fn abs_ms(&mut self) -> u64 {
        self.abs_s() * 1000 + self.rng.gen_range(0..1000)
    }

    pub fn now_ms() -> u64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
    }

    /// Learns from redis-server's reply to a command (stream IDs), so later IDs mostly go
    /// forward and name entries that exist.
    pub fn observe(&mut self, args: &[Vec<u8>], reply: &Reply) {
        family::stream::observe(self, args, reply);
    }
}
