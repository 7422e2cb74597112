//! Differential test of the set family: the same seeded sequence of set commands goes to a real
//! `redis-server` (the reference) and to `tessera-server --shards 2`, over RESP2 and then over
//! RESP3 (after `HELLO 3`), and every reply is compared byte for byte, except where Redis leaves
//! something unspecified:
//!
//! - order of a `hashtable` set's members (SMEMBERS, SINTER, SUNION, SDIFF): compared as
//!   multisets. Where Redis defines the order (an intset answers ascending; SUNION/SDIFF build
//!   their result as an intset when they can, by Redis's algorithm choice), bytes are compared.
//! - SPOP and SRANDMEMBER: random; compared by shape, count, distinctness and membership. After
//!   an SPOP the subject is brought back to the reference's content (SADD/SREM on the subject
//!   only) so the two keyspaces stay equal.
//! - SSCAN: cursors are each server's own; a full iteration's member set is compared (an
//!   intset's single reply byte for byte).
//!
//! Commands cover small and large sets (intset → hashtable conversion past 512 entries),
//! integer widths, non-canonical integers, wrong types, wrong arity, bad numbers, OBJECT
//! ENCODING, keys on both shards (multi-key commands go through the cross-shard coordinator)
//! and lazily expired keys. `TESSERA_SEED=<n>` runs one seed; `TESSERA_SET_DIFF_STEPS` sets the
//! commands per pass. A mismatch prints the seed, the command, both replies and the commands
//! before it. This file must never weaken a comparison to make tessera pass.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::diff::{self, History};
use common::resp::{escape, show_cmd};
use common::{RawConn, Reply, Server};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const FIXED_SEEDS: &[u64] = &[11, 12];
const DEFAULT_STEPS: usize = 1000;
/// Redis's default `set-max-intset-entries`.
const MAX_INTSET: usize = 512;
const KEYS: &[&str] = &["s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "str", "gone"];

type Args = Vec<Vec<u8>>;
/// A reply's exact bytes and its parsed form.
type Raw = (Vec<u8>, Reply);

/// How a command's replies are compared.
enum Check {
    Exact,
    /// Exact, then OBJECT ENCODING of the destination compared too.
    Store(Vec<u8>),
    /// Ascending (exact) when the key is an intset, else as multisets.
    Members(Vec<u8>),
    /// Exact when every key is an intset or missing (the answer walks the smallest set).
    Inter(Vec<Vec<u8>>),
    /// Exact when Redis's result set is an intset (see `result_is_intset`).
    UnionDiff {
        diff: bool,
        keys: Vec<Vec<u8>>,
    },
    Spop(Vec<u8>),
    Srandmember,
    Sscan,
}

struct Gen {
    rng: SmallRng,
}

impl Gen {
    fn key(&mut self) -> Vec<u8> {
        // Mostly set keys; sometimes the string key or a key that is usually missing.
        let i = if self.rng.gen_bool(0.85) { self.rng.gen_range(0..8) } else { self.rng.gen_range(8..KEYS.len()) };
        KEYS[i].as_bytes().to_vec()
    }

    fn keys(&mut self, max: usize) -> Vec<Vec<u8>> {
        let n = self.rng.gen_range(1..=max);
        (0..n).map(|_| self.key()).collect()
    }

    fn member(&mut self) -> Vec<u8> {
        let r = self.rng.gen_range(0..100);
        let s = match r {
            0..=44 => self.rng.gen_range(-12i64..24).to_string(),
            45..=52 => (40_000 + self.rng.gen_range(0i64..6)).to_string(),
            53..=57 => (5_000_000_000 + self.rng.gen_range(0i64..4)).to_string(),
            58 => [i64::MIN, i64::MAX, -32768, 32767, 32768, -2147483649][self.rng.gen_range(0..6)].to_string(),
            59..=84 => ["a", "b", "c", "d", "e", "f", "g", "h"][self.rng.gen_range(0..8)].to_string(),
            85..=89 => ["007", "-0", "+5", " 1", "1.5", "", "9223372036854775808", "0x10"][self.rng.gen_range(0..8)]
                .to_string(),
            90..=94 => format!("long-member-{}-beyond-the-inline-limit", self.rng.gen_range(0..5)),
            _ => format!("m{}", self.rng.gen_range(0..40)),
        };
        s.into_bytes()
    }

    fn members(&mut self, max: usize) -> Vec<Vec<u8>> {
        let n = self.rng.gen_range(1..=max);
        (0..n).map(|_| self.member()).collect()
    }

    /// A count argument for SPOP/SRANDMEMBER, with invalid ones now and then.
    fn count(&mut self) -> Vec<u8> {
        let s = match self.rng.gen_range(0..20) {
            0 => "x".to_string(),
            1 => "-9223372036854775808".to_string(),
            2 => "9223372036854775808".to_string(),
            3 => "0".to_string(),
            4..=7 => (-self.rng.gen_range(1i64..8)).to_string(),
            8 => "600".to_string(),
            _ => self.rng.gen_range(1i64..8).to_string(),
        };
        s.into_bytes()
    }

    fn next(&mut self) -> (Args, Check) {
        let b = |s: &str| s.as_bytes().to_vec();
        let w = self.rng.gen_range(0..1000);
        match w {
            0..=199 => {
                let mut a = vec![b("SADD"), self.key()];
                a.extend(self.members(5));
                (a, Check::Exact)
            }
            200..=219 => {
                // A large batch of integers: crosses set-max-intset-entries.
                let mut a = vec![b("SADD"), self.key()];
                let n = self.rng.gen_range(100..600);
                let base = self.rng.gen_range(0..400);
                a.extend((0..n).map(|i| (base + i).to_string().into_bytes()));
                (a, Check::Exact)
            }
            220..=299 => {
                let mut a = vec![b("SREM"), self.key()];
                a.extend(self.members(4));
                (a, Check::Exact)
            }
            300..=349 => {
                let k = self.key();
                (vec![b("SMEMBERS"), k.clone()], Check::Members(k))
            }
            350..=389 => (vec![b("SISMEMBER"), self.key(), self.member()], Check::Exact),
            390..=419 => {
                let mut a = vec![b("SMISMEMBER"), self.key()];
                a.extend(self.members(4));
                (a, Check::Exact)
            }
            420..=459 => (vec![b("SCARD"), self.key()], Check::Exact),
            460..=509 => {
                let k = self.key();
                let mut a = vec![b("SPOP"), k.clone()];
                if self.rng.gen_bool(0.6) {
                    a.push(self.count());
                }
                (a, Check::Spop(k))
            }
            510..=559 => {
                let k = self.key();
                let mut a = vec![b("SRANDMEMBER"), k.clone()];
                if self.rng.gen_bool(0.7) {
                    a.push(self.count());
                }
                (a, Check::Srandmember)
            }
            560..=609 => (vec![b("SMOVE"), self.key(), self.key(), self.member()], Check::Exact),
            610..=649 => {
                let keys = self.keys(4);
                let mut a = vec![b("SINTER")];
                a.extend(keys.iter().cloned());
                (a, Check::Inter(keys))
            }
            650..=689 => (self.sintercard(), Check::Exact),
            690..=759 => {
                let diff = self.rng.gen_bool(0.5);
                let keys = self.keys(4);
                let mut a = vec![b(if diff { "SDIFF" } else { "SUNION" })];
                a.extend(keys.iter().cloned());
                (a, Check::UnionDiff { diff, keys })
            }
            760..=829 => {
                let name = ["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"][self.rng.gen_range(0..3)];
                let dst = self.key();
                let mut a = vec![b(name), dst.clone()];
                a.extend(self.keys(3));
                (a, Check::Store(dst))
            }
            830..=869 => {
                let mut a = vec![b("SSCAN"), self.key(), b("0")];
                if self.rng.gen_bool(0.4) {
                    a.extend([b("COUNT"), self.rng.gen_range(1..20).to_string().into_bytes()]);
                }
                if self.rng.gen_bool(0.3) {
                    a.extend([b("MATCH"), b(["*1*", "a", "?", "-*", "[a-d]", "m*"][self.rng.gen_range(0..6)])]);
                }
                (a, Check::Sscan)
            }
            870..=909 => (vec![b("OBJECT"), b("ENCODING"), self.key()], Check::Exact),
            910..=934 => (self.bad_arguments(), Check::Exact),
            935..=949 => (self.wrong_arity(), Check::Exact),
            950..=959 => (vec![b("TYPE"), self.key()], Check::Exact),
            960..=969 => (vec![b("DEL"), self.key()], Check::Exact),
            970..=979 => (vec![b("SET"), b("str"), b("x")], Check::Exact),
            980..=989 => (vec![b("EXPIRE"), self.key(), b("1000")], Check::Exact),
            // Expired keys: PEXPIRE 1 here, and the runner sleeps past it before going on.
            _ => (vec![b("PEXPIRE"), self.key(), b("1")], Check::Exact),
        }
    }

    fn sintercard(&mut self) -> Args {
        let b = |s: &str| s.as_bytes().to_vec();
        let keys = self.keys(3);
        let numkeys = match self.rng.gen_range(0..12) {
            0 => b("0"),
            1 => b("x"),
            2 => (keys.len() + 1).to_string().into_bytes(),
            _ => keys.len().to_string().into_bytes(),
        };
        let mut a = vec![b("SINTERCARD"), numkeys];
        a.extend(keys);
        match self.rng.gen_range(0..8) {
            0..=2 => a.extend([b("LIMIT"), self.rng.gen_range(0..4).to_string().into_bytes()]),
            3 => a.extend([b("LIMIT"), b("-1")]),
            4 => a.push(b("LIMIT")),
            5 => a.extend([b("FOO"), b("1")]),
            _ => {}
        }
        a
    }

    fn bad_arguments(&mut self) -> Args {
        let b = |s: &str| s.as_bytes().to_vec();
        let k = self.key();
        match self.rng.gen_range(0..7) {
            0 => vec![b("SSCAN"), k, b("x")],
            1 => vec![b("SSCAN"), k, b("0"), b("COUNT"), b("0")],
            2 => vec![b("SSCAN"), k, b("0"), b("COUNT"), b("x")],
            3 => vec![b("SSCAN"), k, b("0"), b("TYPE"), b("set")],
            4 => vec![b("SPOP"), k, b("1"), b("2")],
            5 => vec![b("SRANDMEMBER"), k, b("1"), b("2")],
            _ => vec![b("SSCAN"), k, b("0"), b("MATCH")],
        }
    }

    fn wrong_arity(&mut self) -> Args {
        let b = |s: &str| s.as_bytes().to_vec();
        let k = self.key();
        match self.rng.gen_range(0..8) {
            0 => vec![b("SADD"), k],
            1 => vec![b("SREM"), k],
            2 => vec![b("SMEMBERS")],
            3 => vec![b("SISMEMBER"), k],
            4 => vec![b("SMOVE"), k.clone(), k],
            5 => vec![b("SINTERCARD"), b("1")],
            6 => vec![b("SUNIONSTORE"), k],
            _ => vec![b("SCARD"), k.clone(), k],
        }
    }
}

/// The two servers' connections.
struct Duo {
    redis: RawConn,
    tess: RawConn,
}

impl Duo {
    fn redis(&mut self, args: &[Vec<u8>]) -> Result<Reply, String> {
        diff::call(&mut self.redis, args).map(|r| r.1).map_err(|e| format!("redis {}: {e}", show_cmd(args)))
    }
    fn tess(&mut self, args: &[Vec<u8>]) -> Result<Reply, String> {
        diff::call(&mut self.tess, args).map(|r| r.1).map_err(|e| format!("tessera {}: {e}", show_cmd(args)))
    }
    fn both(&mut self, args: &[Vec<u8>]) -> Result<(Raw, Raw), String> {
        diff::both(&mut self.redis, &mut self.tess, args, "")
    }
    fn redis_encoding(&mut self, key: &[u8]) -> Result<Vec<u8>, String> {
        let r = self.redis(&[b"OBJECT".to_vec(), b"ENCODING".to_vec(), key.to_vec()])?;
        Ok(r.bytes().map(|b| b.to_vec()).unwrap_or_default())
    }
}

fn exact(ra: &[u8], rb: &[u8]) -> Result<(), String> {
    if ra == rb {
        Ok(())
    } else {
        Err(format!("redis:   {}\ntessera: {}", escape(ra), escape(rb)))
    }
}

fn bulk_items(r: &Reply) -> Vec<Vec<u8>> {
    r.items().unwrap_or(&[]).iter().filter_map(|i| i.bytes().map(|b| b.to_vec())).collect()
}

/// Same reply type and the same elements in any order.
fn unordered(ra: &[u8], pa: &Reply, rb: &[u8], pb: &Reply) -> Result<(), String> {
    if pa.is_error() || pb.is_error() || ra.first() != rb.first() {
        return exact(ra, rb);
    }
    let (mut a, mut b) = (bulk_items(pa), bulk_items(pb));
    a.sort();
    b.sort();
    if a == b && pa.items().map(|i| i.len()) == pb.items().map(|i| i.len()) {
        Ok(())
    } else {
        Err(format!("(compared as multisets)\nredis:   {}\ntessera: {}", escape(ra), escape(rb)))
    }
}

fn is_canonical_int(b: &[u8]) -> bool {
    std::str::from_utf8(b).ok().and_then(|s| s.parse::<i64>().ok()).is_some_and(|n| n.to_string().as_bytes() == b)
}

/// Whether Redis built the SUNION/SDIFF result as an intset (so it answers in ascending
/// order): all members integers and at most 512, and for SDIFF's second algorithm (chosen by
/// Redis's cost estimate) the whole first set must have fitted an intset too.
fn result_is_intset(duo: &mut Duo, diff: bool, keys: &[Vec<u8>], result: &[Vec<u8>]) -> Result<bool, String> {
    if result.len() > MAX_INTSET || !result.iter().all(|m| is_canonical_int(m)) {
        return Ok(false);
    }
    if !diff {
        return Ok(true);
    }
    let mut cards = Vec::new();
    for k in keys {
        cards.push(duo.redis(&[b"SCARD".to_vec(), k.clone()])?.int().unwrap_or(0) as u64);
    }
    let first = cards.first().copied().unwrap_or(0);
    let present = cards.iter().filter(|&&c| c > 0).count() as u64;
    if present * first / 2 <= cards.iter().sum::<u64>() {
        return Ok(true);
    }
    let members = duo.redis(&[b"SMEMBERS".to_vec(), keys[0].clone()])?;
    let all = bulk_items(&members);
    Ok(all.len() <= MAX_INTSET && all.iter().all(|m| is_canonical_int(m)))
}

/// Every element is distinct.
fn distinct(items: &[Vec<u8>]) -> bool {
    items.iter().collect::<BTreeSet<_>>().len() == items.len()
}

/// Members of `items` that Redis's set under `key` does not hold.
fn not_in_redis(duo: &mut Duo, key: &[u8], items: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, String> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = vec![b"SMISMEMBER".to_vec(), key.to_vec()];
    args.extend(items.iter().cloned());
    let r = duo.redis(&args)?;
    let flags = r.items().ok_or_else(|| format!("SMISMEMBER answered {r:?}"))?;
    Ok(items.iter().zip(flags).filter(|(_, f)| f.int() != Some(1)).map(|(m, _)| m.clone()).collect())
}

/// SPOP: same shape and count, distinct members that were in the set; then the subject's set is
/// made equal to the reference's again.
fn check_spop(duo: &mut Duo, key: &[u8], ra: &[u8], pa: &Reply, rb: &[u8], pb: &Reply) -> Result<(), String> {
    let single = matches!(pa, Reply::Bulk(_));
    if pa.is_error() || pb.is_error() || pa.is_nil() || ra.first() != rb.first() {
        return exact(ra, rb);
    }
    let (a, b) = if single {
        (vec![pa.bytes().unwrap_or_default().to_vec()], vec![pb.bytes().unwrap_or_default().to_vec()])
    } else {
        (bulk_items(pa), bulk_items(pb))
    };
    if a.len() != b.len() || !distinct(&b) {
        return Err(format!("SPOP count or distinctness differ\nredis:   {}\ntessera: {}", escape(ra), escape(rb)));
    }
    let only_tess: Vec<Vec<u8>> = b.iter().filter(|m| !a.contains(m)).cloned().collect();
    let only_redis: Vec<Vec<u8>> = a.iter().filter(|m| !b.contains(m)).cloned().collect();
    // What tessera popped and Redis did not must still be in Redis's set.
    let strangers = not_in_redis(duo, key, &only_tess)?;
    if !strangers.is_empty() {
        return Err(format!(
            "tessera popped non-members {strangers:?}\nredis:   {}\ntessera: {}",
            escape(ra),
            escape(rb)
        ));
    }
    if !only_tess.is_empty() {
        let mut add = vec![b"SADD".to_vec(), key.to_vec()];
        add.extend(only_tess);
        duo.tess(&add)?;
        let mut rem = vec![b"SREM".to_vec(), key.to_vec()];
        rem.extend(only_redis);
        duo.tess(&rem)?;
    }
    Ok(())
}

/// SRANDMEMBER: same shape and count; members of the set; distinct for a positive count; the
/// whole set when the count reaches its size.
fn check_srandmember(
    duo: &mut Duo,
    args: &[Vec<u8>],
    (ra, pa): (&[u8], &Reply),
    (rb, pb): (&[u8], &Reply),
) -> Result<(), String> {
    if pa.is_error() || pb.is_error() || pa.is_nil() || ra.first() != rb.first() {
        return exact(ra, rb);
    }
    let key = &args[1];
    let (a, b) = match pa {
        Reply::Bulk(x) => (vec![x.clone()], vec![pb.bytes().unwrap_or_default().to_vec()]),
        _ => (bulk_items(pa), bulk_items(pb)),
    };
    if a.len() != b.len() {
        return Err(format!("SRANDMEMBER counts differ\nredis:   {}\ntessera: {}", escape(ra), escape(rb)));
    }
    let positive = args.get(2).is_some_and(|c| !c.starts_with(b"-"));
    if positive && !distinct(&b) {
        return Err(format!("SRANDMEMBER repeated a member: {}", escape(rb)));
    }
    let strangers = not_in_redis(duo, key, &b)?;
    if !strangers.is_empty() {
        return Err(format!("tessera returned non-members {strangers:?}: {}", escape(rb)));
    }
    Ok(())
}

/// A whole SSCAN iteration from the reply to the first call; returns the members seen.
fn sscan_all(conn: &mut RawConn, args: &[Vec<u8>], first: Reply) -> Result<BTreeSet<Vec<u8>>, String> {
    let mut seen = BTreeSet::new();
    let mut reply = first;
    for _ in 0..100_000 {
        let Some([cursor, batch]) = reply.items() else { return Err(format!("bad SSCAN reply {reply:?}")) };
        let (Some(cursor), Some(batch)) = (cursor.bytes(), batch.items()) else {
            return Err(format!("bad SSCAN reply {reply:?}"));
        };
        seen.extend(batch.iter().filter_map(|m| m.bytes().map(|b| b.to_vec())));
        if cursor == b"0" {
            return Ok(seen);
        }
        let mut next = args.to_vec();
        next[2] = cursor.to_vec();
        reply = diff::call(conn, &next)?.1;
    }
    Err("SSCAN did not end".into())
}

fn compare(duo: &mut Duo, args: &[Vec<u8>], check: &Check, a: Raw, b: Raw) -> Result<(), String> {
    let ((ra, pa), (rb, pb)) = (a, b);
    match check {
        Check::Exact => exact(&ra, &rb),
        Check::Store(dst) => {
            exact(&ra, &rb)?;
            let enc = vec![b"OBJECT".to_vec(), b"ENCODING".to_vec(), dst.clone()];
            let (ea, eb) = duo.both(&enc)?;
            exact(&ea.0, &eb.0).map_err(|e| format!("OBJECT ENCODING of the destination after it:\n{e}"))
        }
        Check::Members(key) => {
            if duo.redis_encoding(key)? == b"intset" {
                exact(&ra, &rb)
            } else {
                unordered(&ra, &pa, &rb, &pb)
            }
        }
        Check::Inter(keys) => {
            let mut all_intset = true;
            for k in keys {
                let enc = duo.redis_encoding(k)?;
                all_intset &= enc == b"intset" || enc.is_empty();
            }
            if all_intset {
                exact(&ra, &rb)
            } else {
                unordered(&ra, &pa, &rb, &pb)
            }
        }
        Check::UnionDiff { diff, keys } => {
            if !pa.is_error() && result_is_intset(duo, *diff, keys, &bulk_items(&pa))? {
                exact(&ra, &rb)
            } else {
                unordered(&ra, &pa, &rb, &pb)
            }
        }
        Check::Spop(key) => check_spop(duo, key, &ra, &pa, &rb, &pb),
        Check::Srandmember => check_srandmember(duo, args, (&ra, &pa), (&rb, &pb)),
        Check::Sscan => {
            if pa.is_error() || pb.is_error() {
                return exact(&ra, &rb);
            }
            if duo.redis_encoding(&args[1])? == b"intset" {
                return exact(&ra, &rb);
            }
            let sa = sscan_all(&mut duo.redis, args, pa)?;
            let sb = sscan_all(&mut duo.tess, args, pb)?;
            if sa == sb {
                Ok(())
            } else {
                let show = |s: &BTreeSet<Vec<u8>>| s.iter().map(|m| escape(m)).collect::<Vec<_>>().join(", ");
                Err(format!("(full SSCAN as sets)\nredis:   {{{}}}\ntessera: {{{}}}", show(&sa), show(&sb)))
            }
        }
    }
}

fn run_pass(redis: &Server, tess: &Server, seed: u64, resp3: bool) -> Result<usize, String> {
    let label = diff::label(seed, resp3);
    let (redis, tess) = diff::open(redis, tess, resp3, &label)?;
    let mut duo = Duo { redis, tess };
    diff::setup_ok(&mut duo.redis, &mut duo.tess, &label, &[&[b"SET", b"str", b"x"]])?;
    let mut gen = Gen { rng: SmallRng::seed_from_u64(seed.wrapping_mul(2).wrapping_add(resp3 as u64)) };
    let mut history = History::new(15);
    let mut sent = 0;
    for step in 0..diff::steps("TESSERA_SET_DIFF_STEPS", DEFAULT_STEPS) {
        let (args, check) = gen.next();
        let (a, b) = duo.both(&args).map_err(|e| format!("{label} step {step}: {} {e}", show_cmd(&args)))?;
        sent += 1;
        if let Err(diff) = compare(&mut duo, &args, &check, a, b) {
            return Err(format!(
                "{label} step {step}: mismatch on {}\n{diff}\nlast commands:\n  {}\nrerun with TESSERA_SEED={seed}",
                show_cmd(&args),
                history.join("\n  ")
            ));
        }
        if args[0] == b"PEXPIRE" {
            std::thread::sleep(Duration::from_millis(3));
        }
        history.push(show_cmd(&args).chars().take(200).collect());
    }
    Ok(sent)
}

#[test]
fn set_family_matches_redis() {
    let redis = Server::redis();
    let tess = Server::tessera(2);
    let mut total = 0;
    let mut failures = Vec::new();
    for seed in diff::seeds(FIXED_SEEDS) {
        for resp3 in diff::PROTOCOLS {
            match run_pass(&redis, &tess, seed, resp3) {
                Ok(n) => total += n,
                Err(e) => failures.push(e),
            }
        }
    }
    println!("diff_set: {total} commands compared");
    assert!(failures.is_empty(), "{} pass(es) failed:\n\n{}", failures.len(), failures.join("\n\n"));
}
