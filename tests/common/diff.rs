//! The machinery the per-family differential tests (`tests/diff_*.rs`) share: which seeds and how
//! many commands a run uses (the `TESSERA_SEED` and per-file step knobs), opening a pass's pair of
//! connections (flushed, switched to RESP3 with `HELLO 3` on the second pass), sending one command
//! to both servers, the bounded history of recent commands, and the mismatch report.
//!
//! It must never decide how two replies compare beyond the rules every family shares (byte for
//! byte, TTL sign): each test file keeps its own generator and its own special comparisons, and
//! nothing here may loosen them. Each test binary uses a different subset, hence `allow(dead_code)`.
#![allow(dead_code)]

use std::collections::VecDeque;

use super::resp::{escape, RawConn, Reply};
use super::Server;

/// The protocols every pass runs over, in order: RESP2, then RESP3 on fresh connections.
pub const PROTOCOLS: [bool; 2] = [false, true];

/// `TESSERA_SEED=<n>` runs that seed only; otherwise the file's fixed seeds.
pub fn seeds(fixed: &[u64]) -> Vec<u64> {
    match std::env::var("TESSERA_SEED") {
        Ok(s) => vec![s.trim().parse().unwrap_or_else(|_| panic!("TESSERA_SEED={s:?} is not an integer"))],
        Err(_) => fixed.to_vec(),
    }
}

/// Commands per pass: the environment variable `var` when it parses, else `default`.
pub fn steps(var: &str, default: usize) -> usize {
    std::env::var(var).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

/// Whether the environment variable `var` is exactly `1` (debugging switches such as audits).
pub fn flag(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| v == "1")
}

/// `seed=<n> RESP2` / `seed=<n> RESP3`: how a pass names itself in reports.
pub fn label(seed: u64, resp3: bool) -> String {
    format!("seed={seed} {}", if resp3 { "RESP3" } else { "RESP2" })
}

/// Sends one command and returns the reply's exact bytes and its parsed form.
pub fn call(conn: &mut RawConn, args: &[Vec<u8>]) -> Result<(Vec<u8>, Reply), String> {
    let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
    conn.call(&refs)
}

/// Fresh connections to both servers for one pass: both keyspaces flushed, and both switched to
/// RESP3 when `resp3`. Fails when either server answers with an error.
pub fn open(redis: &Server, tessera: &Server, resp3: bool, label: &str) -> Result<(RawConn, RawConn), String> {
    let mut a = redis.raw();
    let mut b = tessera.raw();
    let mut prologue: Vec<&[&[u8]]> = vec![&[b"FLUSHALL"]];
    if resp3 {
        prologue.push(&[b"HELLO", b"3"]);
    }
    for args in prologue {
        for (name, conn) in [("redis", &mut a), ("tessera", &mut b)] {
            let (raw, reply) = conn.call(args).map_err(|e| format!("{label}: {name} {}: {e}", show(args)))?;
            if reply.is_error() {
                return Err(format!("{label}: {name} {}: {}", show(args), escape(&raw)));
            }
        }
    }
    Ok((a, b))
}

/// Runs setup commands on both connections; each must answer `+OK`.
pub fn setup_ok(a: &mut RawConn, b: &mut RawConn, label: &str, commands: &[&[&[u8]]]) -> Result<(), String> {
    for args in commands {
        for (name, conn) in [("redis", &mut *a), ("tessera", &mut *b)] {
            let (raw, _) = conn.call(args).map_err(|e| format!("{label}: {name} setup: {e}"))?;
            if raw != b"+OK\r\n" {
                return Err(format!("{label}: {name} setup {}: {}", show(args), escape(&raw)));
            }
        }
    }
    Ok(())
}

/// The setup of the sorted-set-backed families (sorted sets, geo): a plain string at `plain`,
/// and listpack limits by seed, tiny on even seeds (8 entries, 16 bytes) so encodings convert
/// all the time, Redis's defaults on odd ones.
pub fn setup_zset(a: &mut RawConn, b: &mut RawConn, label: &str, seed: u64, plain: &str) -> Result<(), String> {
    let (entries, value) = if seed.is_multiple_of(2) { ("8", "16") } else { ("128", "64") };
    let commands: [&[&[u8]]; 3] = [
        &[b"SET", plain.as_bytes(), b"v"],
        &[b"CONFIG", b"SET", b"zset-max-listpack-entries", entries.as_bytes()],
        &[b"CONFIG", b"SET", b"zset-max-listpack-value", value.as_bytes()],
    ];
    setup_ok(a, b, label, &commands)
}

fn show(args: &[&[u8]]) -> String {
    super::resp::show_cmd(&args.iter().map(|a| a.to_vec()).collect::<Vec<_>>())
}

/// Both servers' replies to one command: (exact bytes, parsed) each. Errors name the server.
pub type Replies = ((Vec<u8>, Reply), (Vec<u8>, Reply));

/// Sends `args` to redis (`a`) first, then to tessera (`b`); `context` prefixes a failed call.
pub fn both(a: &mut RawConn, b: &mut RawConn, args: &[Vec<u8>], context: &str) -> Result<Replies, String> {
    let ra = call(a, args).map_err(|e| format!("{context}redis: {e}"))?;
    let rb = call(b, args).map_err(|e| format!("{context}tessera: {e}"))?;
    Ok((ra, rb))
}

/// Two TTL-like integers agree when their signs do, and negative ones (no key, no expiry) are
/// equal: the seconds left may tick between the two servers.
pub fn same_ttl_sign(x: i64, y: i64) -> bool {
    x.signum() == y.signum() && (x > 0 || x == y)
}

/// A reply's escaped bytes, cut after 2000 characters (with the full length) for long ones.
pub fn short(reply: &[u8]) -> String {
    let s = escape(reply);
    match s.get(..2000) {
        Some(head) if s.len() > 2000 => format!("{head}... ({} bytes)", reply.len()),
        _ => s,
    }
}

/// The last `cap` commands sent, oldest first, shown with a mismatch.
pub struct History {
    cap: usize,
    lines: VecDeque<String>,
}

impl History {
    pub fn new(cap: usize) -> History {
        History { cap, lines: VecDeque::new() }
    }

    pub fn push(&mut self, line: String) {
        self.lines.push_back(line);
        if self.lines.len() > self.cap {
            self.lines.pop_front();
        }
    }

    pub fn join(&self, sep: &str) -> String {
        self.lines.iter().cloned().collect::<Vec<_>>().join(sep)
    }
}

/// One pass's identity and recent history: what a mismatch report needs besides the replies.
pub struct Pass {
    pub seed: u64,
    pub label: String,
    pub history: History,
}

impl Pass {
    /// A pass named by [`label`], remembering the last `history_len` commands.
    pub fn new(seed: u64, resp3: bool, history_len: usize) -> Pass {
        Pass::named(seed, label(seed, resp3), history_len)
    }

    /// A pass with its own label (for files that run more than one pass per protocol).
    pub fn named(seed: u64, label: String, history_len: usize) -> Pass {
        Pass { seed, label, history: History::new(history_len) }
    }

    /// The report of a mismatch at `step` on `command`: why (may be empty), both replies as the
    /// caller shows them, notes gathered afterwards (may be empty), the recent commands, and how
    /// to rerun the seed.
    pub fn mismatch(&self, step: usize, command: &str, why: &str, replies: (String, String), notes: &str) -> String {
        let mut r = format!("{} step {step}: mismatch on {command}\n", self.label);
        if !why.is_empty() {
            r += &format!("  {why}\n");
        }
        r += &format!("  redis:   {}\n  tessera: {}\n", replies.0, replies.1);
        if !notes.is_empty() {
            r += &format!("  {notes}\n");
        }
        r += &format!("  last commands:\n    {}\n", self.history.join("\n    "));
        r + &format!("  rerun with TESSERA_SEED={}", self.seed)
    }
}

/// Sends each query to both servers and fails on the first whose replies differ by a byte
/// (content checks: audits after every command, final keyspaces); `context` prefixes the report.
pub fn same_replies(
    a: &mut RawConn,
    b: &mut RawConn,
    queries: impl IntoIterator<Item = Vec<Vec<u8>>>,
    context: &str,
) -> Result<(), String> {
    for q in queries {
        let ((ra, _), (rb, _)) = both(a, b, &q, context)?;
        if ra != rb {
            return Err(format!(
                "{context}{} differs:\n  redis:   {}\n  tessera: {}",
                super::resp::show_cmd(&q),
                escape(&ra),
                escape(&rb)
            ));
        }
    }
    Ok(())
}

/// The command `words` as arguments.
pub fn args(words: &[&str]) -> Vec<Vec<u8>> {
    words.iter().map(|w| w.as_bytes().to_vec()).collect()
}

/// Runs `pass(seed, resp3)` for every seed over RESP2 then RESP3 and returns the total number of
/// commands compared; the first failure panics with its report.
pub fn run_passes(fixed: &[u64], mut pass: impl FnMut(u64, bool) -> Result<usize, String>) -> usize {
    let mut total = 0;
    for seed in seeds(fixed) {
        for resp3 in PROTOCOLS {
            match pass(seed, resp3) {
                Ok(n) => total += n,
                Err(e) => panic!("{e}"),
            }
        }
    }
    total
}

/// The two draws every generator makes from its seeded rng. The exact calls matter: a seed must
/// keep producing the same commands, so `pick` is one `gen_range(0..len)` and `chance` one
/// `gen_bool`.
pub trait Draw {
    /// One of `v`, uniformly.
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str;
    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool;
}

impl<R: rand::Rng> Draw for R {
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.gen_range(0..v.len())]
    }

    fn chance(&mut self, p: f64) -> bool {
        self.gen_bool(p)
    }
}
