//! Differential test of the stream family: the same seeded stream of stream commands (valid and
//! invalid: bad options and IDs, wrong arity, wrong types, expiring keys, small and large values
//! so nodes fill by bytes and by entries, approximate trims, consumer groups end to end, XINFO,
//! OBJECT ENCODING, DEBUG DIGEST-VALUE) goes to a real `redis-server` and to `tessera-server
//! --shards 2`, and every reply must match, first over RESP2, then on a fresh connection after
//! `HELLO 3`.
//!
//! Seeds: `TESSERA_SEED=<n>` runs that seed only; otherwise the fixed seeds below. Even seeds
//! run with small nodes (`stream-node-max-entries 5`, `stream-node-max-bytes 300`) so streams
//! span many nodes and `~` trims cut at node boundaries; odd seeds use Redis's defaults.
//! `TESSERA_STREAM_STEPS` changes the number of commands per pass; `TESSERA_STREAM_AUDIT=1`
//! compares every stream's full content after each command (slow; for debugging a seed).
//!
//! What is not compared byte for byte, and why: IDs made from the clock (`*`, only ever used on
//! the key `auto`: the reply must be an ID, both or neither; the key's length is compared
//! exactly), and times (XINFO CONSUMERS `idle`, XINFO STREAM FULL `seen-time` and delivery
//! times, XPENDING's idle column): those are masked before an otherwise exact comparison of the
//! parsed replies, which keeps every type and shape. Idle filters (XCLAIM, XAUTOCLAIM,
//! XPENDING IDLE) use 0 or thresholds far beyond the test's runtime, so their results do not
//! depend on timing. BLOCK is only given with 1 ms, so a read that finds nothing times out at
//! once on redis-server as on a server that answers a would-block read with the timeout
//! reply. This file must never weaken a comparison to make tessera pass.

mod common;
#[path = "diff_stream/gen.rs"]
mod gen;

use std::collections::VecDeque;
use std::time::Duration;

use common::diff::{self, Pass};
use common::resp::{escape, show_cmd};
use common::{RawConn, Reply, Server, Spec};
use gen::{Check, Cmd, Gen, STR, STREAMS};
use rand::rngs::SmallRng;
use rand::SeedableRng;

const DEFAULT_STEPS: usize = 2000;
const FIXED_SEEDS: &[u64] = &[1, 2];

fn audit() -> bool {
    diff::flag("TESSERA_STREAM_AUDIT")
}

fn is_key(r: &Reply, name: &str) -> bool {
    r.bytes() == Some(name.as_bytes())
}

/// Replaces the times in a reply by 0: values of `idle` and `seen-time`, and the time column
/// of pending rows (`[id, consumer, time, count]`, `[id, time, count]`).
fn mask(r: &Reply, pending_rows: bool) -> Reply {
    let zero = Reply::Int(0);
    let mask_row = |row: &Reply| match row {
        Reply::Array(v) if v.len() == 4 => {
            let mut v = v.clone();
            v[2] = Reply::Int(0);
            Reply::Array(v)
        }
        Reply::Array(v) if v.len() == 3 => {
            let mut v = v.clone();
            v[1] = Reply::Int(0);
            Reply::Array(v)
        }
        other => other.clone(),
    };
    if pending_rows {
        if let Reply::Array(rows) = r {
            return Reply::Array(rows.iter().map(mask_row).collect());
        }
        return r.clone();
    }
    let value = |k: &Reply, v: &Reply| -> Reply {
        if is_key(k, "idle") || is_key(k, "seen-time") {
            zero.clone()
        } else if is_key(k, "pending") && matches!(v, Reply::Array(_)) {
            match v {
                Reply::Array(rows) => Reply::Array(rows.iter().map(mask_row).collect()),
                _ => v.clone(),
            }
        } else {
            mask(v, false)
        }
    };
    match r {
        Reply::Map(pairs) => Reply::Map(pairs.iter().map(|(k, v)| (k.clone(), value(k, v))).collect()),
        Reply::Array(items) => {
            // RESP2 maps are flat arrays: mask the value after a time key.
            let mut out = Vec::with_capacity(items.len());
            let mut i = 0;
            while i < items.len() {
                let k = &items[i];
                if i + 1 < items.len()
                    && matches!(k, Reply::Bulk(_))
                    && (is_key(k, "idle") || is_key(k, "seen-time") || is_key(k, "pending"))
                {
                    out.push(k.clone());
                    out.push(value(k, &items[i + 1]));
                    i += 2;
                } else {
                    out.push(mask(k, false));
                    i += 1;
                }
            }
            Reply::Array(out)
        }
        other => other.clone(),
    }
}

fn looks_like_id(r: &Reply) -> bool {
    let Some(b) = r.bytes() else { return false };
    let s = String::from_utf8_lossy(b);
    let mut parts = s.split('-');
    matches!((parts.next(), parts.next(), parts.next()), (Some(a), Some(b), None) if a.parse::<u64>().is_ok() && b.parse::<u64>().is_ok())
}

fn audit_keys(a: &mut RawConn, b: &mut RawConn) -> Result<(), String> {
    let queries =
        STREAMS.iter().flat_map(|k| [diff::args(&["XRANGE", k, "-", "+"]), diff::args(&["XINFO", "GROUPS", k])]);
    diff::same_replies(a, b, queries, "(audit) afterwards ")
}

fn run_pass(seed: u64, resp3: bool, redis: &Server, tessera: &Server) -> Result<usize, String> {
    let mut pass = Pass::new(seed, resp3, 12);
    let label = &pass.label;
    let (mut a, mut b) = diff::open(redis, tessera, resp3, label)?;
    let (entries, bytes) = if seed.is_multiple_of(2) { ("5", "300") } else { ("100", "4096") };
    diff::setup_ok(
        &mut a,
        &mut b,
        label,
        &[
            &[b"SET", STR.as_bytes(), b"v"],
            &[b"CONFIG", b"SET", b"stream-node-max-entries", entries.as_bytes()],
            &[b"CONFIG", b"SET", b"stream-node-max-bytes", bytes.as_bytes()],
        ],
    )?;
    let mut gen = Gen {
        rng: SmallRng::seed_from_u64(seed),
        top: vec![1000; STREAMS.len()],
        known: vec![VecDeque::new(); STREAMS.len()],
        follow: None,
    };
    let steps = diff::steps("TESSERA_STREAM_STEPS", DEFAULT_STEPS);
    let mut queue: VecDeque<Cmd> = VecDeque::new();
    let mut sent = 0;
    // Per command name: replies that were errors, nulls or empty, and the rest.
    let mut stats: std::collections::BTreeMap<String, [usize; 3]> = std::collections::BTreeMap::new();
    while sent < steps {
        if queue.is_empty() {
            if sent % 150 == 0 {
                queue.extend(gen.refill());
            } else {
                queue.push_back(gen.next());
                queue.extend(gen.follow.take());
            }
        }
        let Some(c) = queue.pop_front() else { break };
        sent += 1;
        let shown = show_cmd(&c.args);
        pass.history.push(shown.clone());
        let ((ra, pa), (rb, pb)) = diff::both(&mut a, &mut b, &c.args, &format!("{label} step {sent}: {shown}: "))?;
        gen.observe(&c.args, &pa);
        let name = String::from_utf8_lossy(&c.args[0]).to_uppercase();
        let empty = pa.is_nil() || matches!(&pa, Reply::Array(v) if v.is_empty()) || pa.int() == Some(0);
        stats.entry(name).or_default()[if pa.is_error() {
            0
        } else if empty {
            1
        } else {
            2
        }] += 1;
        let pending_rows = c.args.first().is_some_and(|n| n.eq_ignore_ascii_case(b"xpending"));
        let verdict = match c.check {
            Check::Exact => ra == rb,
            Check::ThenSleepMs(ms) => {
                std::thread::sleep(Duration::from_millis(ms));
                ra == rb
            }
            Check::Masked => mask(&pa, pending_rows) == mask(&pb, pending_rows),
            Check::AutoId => ra == rb || (looks_like_id(&pa) && looks_like_id(&pb)),
        };
        let verdict = if verdict && audit() {
            audit_keys(&mut a, &mut b)
        } else if verdict {
            Ok(())
        } else {
            Err(String::new())
        };
        if let Err(why) = verdict {
            return Err(pass.mismatch(sent, &shown, &why, (escape(&ra), escape(&rb)), ""));
        }
    }
    if std::env::var("TESSERA_STREAM_STATS").is_ok_and(|v| v == "1") {
        println!("{label}: replies by command (errors, null/empty/zero, other):");
        for (name, [e, z, o]) in &stats {
            println!("  {name:<12} {e:>5} {z:>5} {o:>5}");
        }
    }
    Ok(sent)
}

#[test]
fn stream_family_matches_redis() {
    let redis = Server::start(Spec::redis().args(&["--enable-debug-command", "yes"]));
    let tessera = Server::start(Spec::tessera(2).args(&["--enable-debug-command", "yes"]));
    let total = diff::run_passes(FIXED_SEEDS, |seed, resp3| run_pass(seed, resp3, &redis, &tessera));
    println!("diff_stream: {total} commands compared");
    assert!(total >= 3000);
}
