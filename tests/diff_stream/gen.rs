//! The command generator of `diff_stream.rs`: seeded, mostly valid stream commands with a
//! share of malformed ones, steered by redis-server's replies (`Gen::observe`) so that IDs
//! mostly go forward and reads, deletes and claims often name entries that exist.

use std::collections::VecDeque;

use rand::rngs::SmallRng;
use rand::Rng;

use super::common::diff::Draw;
use super::common::Reply;

/// Keys holding streams (two share a hash tag; all spread over both shards).
pub const STREAMS: &[&str] = &["s1", "s2", "{t}a", "{t}b"];
/// The only key `*` IDs go to.
pub const AUTO: &str = "auto";
pub const STR: &str = "str";
pub const GROUPS: &[&str] = &["g1", "g2", "G"];
pub const CONSUMERS: &[&str] = &["c1", "c2", "c3", "alice"];
/// Idle thresholds that never depend on timing: none, or far beyond the test's runtime.
pub const IDLES: &[&str] = &["0", "0", "100000000", "-5"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    Exact,
    /// Compare after masking times.
    Masked,
    /// XADD with `*`: both an ID, or both the same error.
    AutoId,
    /// Wait this long after the command (PEXPIRE 1: let the key expire on both servers).
    ThenSleepMs(u64),
}

pub struct Cmd {
    pub args: Vec<Vec<u8>>,
    pub check: Check,
}

fn cmd(parts: Vec<String>) -> Cmd {
    Cmd { args: parts.into_iter().map(String::into_bytes).collect(), check: Check::Exact }
}

fn masked(parts: Vec<String>) -> Cmd {
    Cmd { check: Check::Masked, ..cmd(parts) }
}

pub struct Gen {
    pub rng: SmallRng,
    /// A rough top millisecond per stream key, so most explicit IDs go forward.
    pub top: Vec<u64>,
    /// IDs redis-server gave recent entries, per stream key, so reads, deletes and claims
    /// often name entries that exist.
    pub known: Vec<VecDeque<String>>,
    /// A command that must come right after the one just generated.
    pub follow: Option<Cmd>,
}

impl Gen {
    fn stream_index(&mut self) -> usize {
        self.rng.gen_range(0..STREAMS.len())
    }
    /// A key: mostly streams, sometimes the string or a missing key. Never `auto`, whose IDs
    /// come from each server's clock.
    fn key(&mut self) -> String {
        match self.rng.gen_range(0..100) {
            0..=87 => self.rng.pick(STREAMS).to_string(),
            88..=94 => STR.to_string(),
            _ => "nokey".to_string(),
        }
    }
    /// A key for commands whose reply does not depend on entry IDs: `auto` too.
    fn any_key(&mut self) -> String {
        if self.rng.chance(0.1) {
            return AUTO.to_string();
        }
        self.key()
    }
    fn group(&mut self) -> String {
        if self.rng.chance(0.05) {
            return "nogroup".into();
        }
        self.rng.pick(GROUPS).to_string()
    }
    fn consumer(&mut self) -> String {
        self.rng.pick(CONSUMERS).to_string()
    }

    /// An ID near the stream's recent IDs: mostly valid, sometimes special or malformed.
    fn id_near(&mut self, k: usize) -> String {
        self.id_near_with(k, true)
    }

    /// Learns from redis-server's reply: the IDs of added entries, and how far each stream's
    /// top ID went (XADD, XSETID), so later IDs mostly go forward.
    pub fn observe(&mut self, args: &[Vec<u8>], reply: &Reply) {
        let name = args.first().map(|a| a.to_ascii_lowercase()).unwrap_or_default();
        let Some(k) = args.get(1).and_then(|key| STREAMS.iter().position(|s| s.as_bytes() == key.as_slice())) else {
            return;
        };
        let ms_of = |id: &[u8]| -> Option<u64> {
            let s = String::from_utf8_lossy(id);
            s.split('-').next().and_then(|ms| ms.parse().ok())
        };
        match (name.as_slice(), reply) {
            (b"xadd", Reply::Bulk(id)) => {
                if let Some(ms) = ms_of(id).filter(|&ms| ms < u64::MAX / 2) {
                    self.top[k] = self.top[k].max(ms);
                }
                let known = &mut self.known[k];
                known.push_back(String::from_utf8_lossy(id).into_owned());
                if known.len() > 40 {
                    known.pop_front();
                }
            }
            (b"xsetid", Reply::Simple(_)) => {
                if let Some(ms) = args.get(2).and_then(|id| ms_of(id)).filter(|&ms| ms < u64::MAX / 2) {
                    self.top[k] = self.top[k].max(ms);
                }
            }
            _ => {}
        }
    }

    /// `id_near`, optionally without IDs whose sequence is the largest possible. Those are
    /// kept away from XADD and XSETID: after them, `ms-*` on the same millisecond fails, and
    /// Redis 7.0 then picks its error text from a stale `errno` (either "equal or smaller" or
    /// "too large", depending on earlier system calls), which no other server can predict.
    fn id_near_with(&mut self, k: usize, max_seq: bool) -> String {
        let top = self.top[k];
        if self.rng.chance(0.5) && !self.known[k].is_empty() {
            let i = self.rng.gen_range(0..self.known[k].len());
            return self.known[k][i].clone();
        }
        match self.rng.gen_range(0..100) {
            0..=59 => format!("{}-{}", top.saturating_sub(self.rng.gen_range(0..40)), self.rng.gen_range(0..3)),
            60..=74 => format!("{}", top.saturating_sub(self.rng.gen_range(0..40))),
            75..=79 => "0".into(),
            80..=84 => format!("{}-{}", top + self.rng.gen_range(0..5), self.rng.gen_range(0..3)),
            85..=87 if max_seq || self.rng.chance(0.05) => "18446744073709551615-18446744073709551615".into(),
            88..=90 => self.rng.pick(&["-", "+", "x", "1-x", "(", "", " 5", "-1", "1-2-3"]).into(),
            _ if max_seq => format!("{}-18446744073709551615", top.saturating_sub(self.rng.gen_range(0..40))),
            _ => format!("{}-{}", top.saturating_sub(self.rng.gen_range(0..40)), self.rng.gen_range(0..9)),
        }
    }
    /// A range end: IDs, `-`, `+`, exclusive forms.
    fn range_id(&mut self, k: usize) -> String {
        match self.rng.gen_range(0..10) {
            0 => "-".into(),
            1 => "+".into(),
            2 | 3 => format!("({}", self.id_near(k)),
            _ => self.id_near(k),
        }
    }
    fn count(&mut self) -> String {
        match self.rng.gen_range(0..12) {
            0 => "0".into(),
            1 => "-1".into(),
            2 => "x".into(),
            _ => format!("{}", self.rng.gen_range(1..12)),
        }
    }
    fn value(&mut self) -> String {
        match self.rng.gen_range(0..100) {
            0..=39 => format!("v{}", self.rng.gen_range(0..50)),
            40..=59 => format!("{}", self.rng.gen_range(-200_000i64..200_000)),
            60..=64 => format!("{}", self.rng.gen_range(0..i64::MAX)),
            65..=69 => self.rng.pick(&["", "-0", "007", "1e3", "9223372036854775808", "-9223372036854775808"]).into(),
            70..=89 => "x".repeat(self.rng.gen_range(20..120)),
            _ => "y".repeat(self.rng.gen_range(200..700)),
        }
    }
    fn fields(&mut self, v: &mut Vec<String>) {
        // Often the same field names, so entries share the node's master fields.
        let same = self.rng.chance(0.6);
        let n = if same { 2 } else { self.rng.gen_range(1..4) };
        for i in 0..n {
            v.push(if same {
                ["name", "n"][i].to_string()
            } else {
                self.rng.pick(&["name", "n", "f", "field-with-long-name", "7"]).to_string()
            });
            v.push(self.value());
        }
    }

    pub fn next(&mut self) -> Cmd {
        match self.rng.gen_range(0..1000) {
            0..=219 => self.xadd(),
            220..=234 => self.xadd_auto(),
            235..=304 => self.xrange(),
            305..=324 => cmd(vec!["XLEN".into(), self.any_key()]),
            325..=364 => self.xdel(),
            365..=399 => self.xtrim(),
            400..=449 => self.xread(),
            450..=519 => self.xgroup(),
            520..=599 => self.xreadgroup(),
            600..=629 => self.xack(),
            630..=669 => self.xpending(),
            670..=714 => self.xclaim(),
            715..=749 => self.xautoclaim(),
            750..=809 => self.xinfo(),
            810..=824 => self.xsetid(),
            825..=849 => self.keyspace(),
            850..=874 => self.wrong_arity(),
            875..=899 => {
                // Content check of a whole stream. DEBUG looks keys up without expiring them
                // in tessera, so EXISTS first lets an expired key go on both servers.
                let k = self.key();
                self.follow = Some(cmd(vec!["DEBUG".into(), "DIGEST-VALUE".into(), k.clone()]));
                cmd(vec!["EXISTS".into(), k])
            }
            _ => self.xadd(),
        }
    }

    fn xadd(&mut self) -> Cmd {
        let k = self.stream_index();
        let key = if self.rng.chance(0.05) { self.key() } else { STREAMS[k].to_string() };
        let mut v = vec!["XADD".to_string(), key];
        if self.rng.chance(0.05) {
            v.push("NOMKSTREAM".into());
        }
        if self.rng.chance(0.15) {
            let top = self.top[k];
            let strategy = self.rng.pick(&["MAXLEN", "MINID", "maxlen"]).to_string();
            v.push(strategy.clone());
            let approx = self.rng.chance(0.5);
            if approx {
                v.push("~".into());
            } else if self.rng.chance(0.3) {
                v.push("=".into());
            }
            v.push(if strategy.eq_ignore_ascii_case("minid") {
                format!("{}", top.saturating_sub(self.rng.gen_range(0..60)))
            } else {
                format!("{}", self.rng.gen_range(0..40))
            });
            if self.rng.chance(if approx { 0.3 } else { 0.05 }) {
                v.push("LIMIT".into());
                v.push(self.rng.pick(&["0", "3", "10", "100", "-1"]).into());
            }
        }
        let id = match self.rng.gen_range(0..100) {
            0..=69 => {
                self.top[k] += if self.rng.chance(0.9) { self.rng.gen_range(1..3) } else { 0 };
                format!("{}-{}", self.top[k], self.rng.gen_range(0..4))
            }
            70..=84 => {
                self.top[k] += self.rng.gen_range(0..2);
                format!("{}-*", self.top[k])
            }
            85..=92 => {
                self.top[k] += 1;
                format!("{}", self.top[k])
            }
            _ => self.id_near_with(k, false),
        };
        v.push(id);
        self.fields(&mut v);
        if self.rng.chance(0.02) {
            v.pop();
        }
        cmd(v)
    }

    fn xadd_auto(&mut self) -> Cmd {
        let mut v = vec!["XADD".to_string(), AUTO.to_string()];
        if self.rng.chance(0.3) {
            v.extend(["MAXLEN".into(), "~".into(), format!("{}", self.rng.gen_range(0..30))]);
        }
        v.push("*".into());
        self.fields(&mut v);
        Cmd { args: v.into_iter().map(String::into_bytes).collect(), check: Check::AutoId }
    }

    fn xrange(&mut self) -> Cmd {
        let k = self.stream_index();
        let key = if self.rng.chance(0.1) { self.key() } else { STREAMS[k].to_string() };
        let rev = self.rng.chance(0.4);
        let (a, b) = (self.range_id(k), self.range_id(k));
        let mut v = vec![if rev { "XREVRANGE" } else { "XRANGE" }.to_string(), key];
        if rev {
            v.extend([b, a]);
        } else {
            v.extend([a, b]);
        }
        if self.rng.chance(0.2) {
            v.extend(["-".into(), "+".into()]);
            v.truncate(4);
            v[2] = if rev { "+".into() } else { "-".into() };
            v[3] = if rev { "-".into() } else { "+".into() };
        }
        if self.rng.chance(0.4) {
            v.push("COUNT".into());
            v.push(self.count());
        }
        if self.rng.chance(0.03) {
            v.push(self.rng.pick(&["COUNT", "foo"]).into());
        }
        cmd(v)
    }

    fn xdel(&mut self) -> Cmd {
        let k = self.stream_index();
        let key = if self.rng.chance(0.1) { self.key() } else { STREAMS[k].to_string() };
        let mut v = vec!["XDEL".to_string(), key];
        for _ in 0..self.rng.gen_range(1..5) {
            v.push(self.id_near(k));
        }
        cmd(v)
    }

    fn xtrim(&mut self) -> Cmd {
        let k = self.stream_index();
        let key = if self.rng.chance(0.1) { self.key() } else { STREAMS[k].to_string() };
        let mut v = vec!["XTRIM".to_string(), key];
        if self.rng.chance(0.97) {
            let minid = self.rng.chance(0.4);
            v.push(if minid { "MINID" } else { "MAXLEN" }.into());
            let approx = self.rng.chance(0.5);
            if approx {
                v.push("~".into());
            } else if self.rng.chance(0.2) {
                v.push("=".into());
            }
            let top = self.top[k];
            v.push(if minid {
                format!("{}", top.saturating_sub(self.rng.gen_range(0..80)))
            } else {
                self.rng.pick(&["0", "3", "10", "25", "60", "-1", "x"]).into()
            });
            if self.rng.chance(0.2) {
                v.push("LIMIT".into());
                v.push(self.rng.pick(&["0", "5", "20", "x"]).into());
            }
        } else {
            v.push(self.rng.pick(&["LIMIT", "foo", "NOMKSTREAM"]).into());
            v.push("1".into());
        }
        cmd(v)
    }

    fn xread(&mut self) -> Cmd {
        let mut v = vec!["XREAD".to_string()];
        if self.rng.chance(0.4) {
            v.push("COUNT".into());
            v.push(self.count());
        }
        if self.rng.chance(0.15) {
            v.push("BLOCK".into());
            v.push(self.rng.pick(&["1", "1", "x", "-1"]).into());
        }
        if self.rng.chance(0.02) {
            v.push(self.rng.pick(&["NOACK", "GROUP", "foo"]).into());
        }
        v.push("STREAMS".into());
        let n = self.rng.gen_range(1..4);
        let ks: Vec<usize> = (0..n).map(|_| self.stream_index()).collect();
        for &k in &ks {
            v.push(if self.rng.chance(0.05) { self.key() } else { STREAMS[k].to_string() });
        }
        for &k in &ks {
            v.push(if self.rng.chance(0.15) { "$".into() } else { self.id_near(k) });
        }
        if self.rng.chance(0.02) {
            v.pop();
        }
        cmd(v)
    }

    fn xgroup(&mut self) -> Cmd {
        let k = self.stream_index();
        let key = if self.rng.chance(0.1) { self.key() } else { STREAMS[k].to_string() };
        let g = self.group();
        let mut v = vec!["XGROUP".to_string()];
        match self.rng.gen_range(0..10) {
            0..=3 => {
                v.extend(["CREATE".into(), key, g]);
                v.push(match self.rng.gen_range(0..4) {
                    0 => "$".into(),
                    1 => "0".into(),
                    _ => self.id_near(k),
                });
                if self.rng.chance(0.3) {
                    v.push("MKSTREAM".into());
                }
                if self.rng.chance(0.2) {
                    v.push("ENTRIESREAD".into());
                    v.push(self.rng.pick(&["0", "3", "-1", "-2", "x", "100"]).into());
                }
            }
            4..=5 => {
                v.extend(["SETID".into(), key, g]);
                v.push(if self.rng.chance(0.3) { "$".into() } else { self.id_near(k) });
                if self.rng.chance(0.3) {
                    v.push("ENTRIESREAD".into());
                    v.push(self.rng.pick(&["0", "2", "-1", "-2", "x"]).into());
                }
            }
            6 => v.extend(["DESTROY".into(), key, g]),
            7 => {
                let c = self.consumer();
                v.extend(["CREATECONSUMER".into(), key, g, c]);
            }
            8 => {
                let c = self.consumer();
                v.extend(["DELCONSUMER".into(), key, g, c]);
            }
            _ => v.push(self.rng.pick(&["HELP", "help", "FOO"]).into()),
        }
        cmd(v)
    }

    fn xreadgroup(&mut self) -> Cmd {
        let g = self.group();
        let c = self.consumer();
        let mut v = vec!["XREADGROUP".to_string(), "GROUP".into(), g, c];
        if self.rng.chance(0.4) {
            v.push("COUNT".into());
            v.push(self.count());
        }
        if self.rng.chance(0.2) {
            v.push("NOACK".into());
        }
        if self.rng.chance(0.1) {
            v.push("BLOCK".into());
            v.push("1".into());
        }
        v.push("STREAMS".into());
        let n = if self.rng.chance(0.8) { 1 } else { 2 };
        let ks: Vec<usize> = (0..n).map(|_| self.stream_index()).collect();
        for &k in &ks {
            v.push(if self.rng.chance(0.05) { self.key() } else { STREAMS[k].to_string() });
        }
        for &k in &ks {
            v.push(match self.rng.gen_range(0..10) {
                0..=5 => ">".into(),
                6 | 7 => "0".into(),
                8 => self.id_near(k),
                _ => "$".into(),
            });
        }
        cmd(v)
    }

    fn xack(&mut self) -> Cmd {
        let k = self.stream_index();
        let key = if self.rng.chance(0.1) { self.key() } else { STREAMS[k].to_string() };
        let mut v = vec!["XACK".to_string(), key, self.group()];
        for _ in 0..self.rng.gen_range(1..4) {
            v.push(self.id_near(k));
        }
        cmd(v)
    }

    fn xpending(&mut self) -> Cmd {
        let k = self.stream_index();
        let key = if self.rng.chance(0.1) { self.key() } else { STREAMS[k].to_string() };
        let mut v = vec!["XPENDING".to_string(), key, self.group()];
        if self.rng.chance(0.3) {
            return cmd(v);
        }
        if self.rng.chance(0.3) {
            v.push("IDLE".into());
            v.push(self.rng.pick(IDLES).into());
        }
        v.push(self.range_id(k));
        v.push(self.range_id(k));
        if self.rng.chance(0.95) {
            v.push(self.count());
        }
        if self.rng.chance(0.4) {
            v.push(self.consumer());
        }
        masked(v)
    }

    fn xclaim(&mut self) -> Cmd {
        let k = self.stream_index();
        let key = if self.rng.chance(0.1) { self.key() } else { STREAMS[k].to_string() };
        let mut v = vec!["XCLAIM".to_string(), key, self.group(), self.consumer(), self.rng.pick(IDLES).into()];
        for _ in 0..self.rng.gen_range(0..6) {
            v.push(self.id_near(k));
        }
        let opts = ["IDLE", "TIME", "RETRYCOUNT", "FORCE", "JUSTID", "LASTID"];
        for _ in 0..self.rng.gen_range(0..3) {
            let o = self.rng.pick(&opts);
            v.push(o.to_string());
            match o {
                "IDLE" => v.push(self.rng.pick(&["0", "5000", "-3", "x"]).into()),
                "TIME" => v.push(self.rng.pick(&["0", "12345", "99999999999999", "x"]).into()),
                "RETRYCOUNT" => v.push(self.rng.pick(&["0", "7", "-1", "x"]).into()),
                "LASTID" => v.push(self.id_near(k)),
                _ => {}
            }
        }
        if v.len() == 5 {
            v.push(self.id_near(k));
        }
        cmd(v)
    }

    fn xautoclaim(&mut self) -> Cmd {
        let k = self.stream_index();
        let key = if self.rng.chance(0.1) { self.key() } else { STREAMS[k].to_string() };
        let mut v = vec!["XAUTOCLAIM".to_string(), key, self.group(), self.consumer(), self.rng.pick(IDLES).into()];
        v.push(self.range_id(k));
        if self.rng.chance(0.5) {
            v.push("COUNT".into());
            v.push(self.rng.pick(&["1", "2", "5", "20", "0", "x"]).into());
        }
        if self.rng.chance(0.3) {
            v.push("JUSTID".into());
        }
        cmd(v)
    }

    fn xinfo(&mut self) -> Cmd {
        let key = self.key();
        match self.rng.gen_range(0..10) {
            0..=2 => cmd(vec!["XINFO".into(), "STREAM".into(), key]),
            3 | 4 => {
                let mut v = vec!["XINFO".into(), "STREAM".into(), key, "FULL".into()];
                if self.rng.chance(0.5) {
                    v.push("COUNT".into());
                    v.push(self.rng.pick(&["0", "1", "3", "-1", "x"]).into());
                }
                masked(v)
            }
            5 | 6 => cmd(vec!["XINFO".into(), "GROUPS".into(), key]),
            7 | 8 => masked(vec!["XINFO".into(), "CONSUMERS".into(), key, self.group()]),
            _ => cmd(vec!["XINFO".into(), self.rng.pick(&["HELP", "FOO"]).into()]),
        }
    }

    fn xsetid(&mut self) -> Cmd {
        let k = self.stream_index();
        let key = if self.rng.chance(0.1) { self.key() } else { STREAMS[k].to_string() };
        let top = self.top[k];
        let mut v = vec!["XSETID".to_string(), key];
        v.push(match self.rng.gen_range(0..4) {
            0 => self.id_near_with(k, false),
            _ => format!("{}-{}", top + self.rng.gen_range(0..3), self.rng.gen_range(0..3)),
        });
        if self.rng.chance(0.3) {
            v.push("ENTRIESADDED".into());
            v.push(self.rng.pick(&["0", "5", "1000", "-1", "x"]).into());
        }
        if self.rng.chance(0.3) {
            v.push("MAXDELETEDID".into());
            v.push(self.id_near(k));
        }
        cmd(v)
    }

    fn keyspace(&mut self) -> Cmd {
        let k = self.any_key();
        match self.rng.gen_range(0..9) {
            0 => cmd(vec!["OBJECT".into(), "ENCODING".into(), k]),
            1 => cmd(vec!["TYPE".into(), k]),
            2 => cmd(vec!["EXISTS".into(), k]),
            3 => cmd(vec!["SET".into(), STR.into(), "v".into()]),
            4 => cmd(vec!["DEL".into(), self.rng.pick(STREAMS).into()]),
            5 => cmd(vec!["XLEN".into(), AUTO.into()]),
            6 => cmd(vec!["EXPIRE".into(), k, "1000".into()]),
            _ => {
                let k = self.rng.pick(STREAMS).to_string();
                Cmd { args: vec![b"PEXPIRE".to_vec(), k.into_bytes(), b"1".to_vec()], check: Check::ThenSleepMs(3) }
            }
        }
    }

    fn wrong_arity(&mut self) -> Cmd {
        let k = self.key();
        let v: Vec<&str> = match self.rng.gen_range(0..12) {
            0 => vec!["XADD", &k, "1-1"],
            1 => vec!["XRANGE", &k, "-"],
            2 => vec!["XLEN"],
            3 => vec!["XDEL", &k],
            4 => vec!["XTRIM", &k, "MAXLEN"],
            5 => vec!["XREAD", "STREAMS", &k],
            6 => vec!["XREADGROUP", "GROUP", "g1", "STREAMS", &k, ">"],
            7 => vec!["XACK", &k, "g1"],
            8 => vec!["XCLAIM", &k, "g1", "c1", "0"],
            9 => vec!["XGROUP", "CREATE", &k, "g1"],
            10 => vec!["XINFO", "CONSUMERS", &k],
            _ => vec!["XSETID", &k],
        };
        cmd(v.into_iter().map(String::from).collect())
    }

    /// Fills a stream with many entries so it spans several nodes, and gives it groups.
    pub fn refill(&mut self) -> Vec<Cmd> {
        let k = self.stream_index();
        let key = STREAMS[k].to_string();
        let mut v: Vec<Cmd> = Vec::new();
        for s in STREAMS {
            for g in GROUPS {
                v.push(cmd(vec![
                    "XGROUP".into(),
                    "CREATE".into(),
                    s.to_string(),
                    g.to_string(),
                    "0".into(),
                    "MKSTREAM".into(),
                ]));
            }
        }
        for _ in 0..self.rng.gen_range(20..60) {
            self.top[k] += 1;
            let mut a = vec!["XADD".to_string(), key.clone(), format!("{}-0", self.top[k])];
            self.fields(&mut a);
            v.push(cmd(a));
        }
        v
    }
}
