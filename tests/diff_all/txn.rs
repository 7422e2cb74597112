//! Transactions in the generated sequence: MULTI blocks of 1–10 commands (queued errors that
//! abort EXEC, runtime errors that do not, nested MULTI, WATCH inside MULTI, DISCARD), WATCH
//! races where the second connection on each server changes (or only reads, or leaves alone)
//! a watched key between WATCH and EXEC, a watched key expiring on its own, and stray EXEC,
//! DISCARD, UNWATCH.
//!
//! The runner compares EXEC's reply element by element with the checks of the commands that
//! were queued; commands whose comparison needs further queries never go inside MULTI.

use super::check::Check;
use super::gen::{b, Cmd, Gen, Item};
use super::keyspace::{self, Fam};

fn push(g: &mut Gen, cmd: Cmd) {
    g.push(Item::Cmd(cmd));
}

/// The queued part of a transaction: `n` commands, sometimes with queue-time errors.
fn queue(g: &mut Gen, n: i64, focus: &[Vec<u8>]) {
    for _ in 0..n {
        let c = match g.range(0, 300) {
            0 => Cmd::new(vec![b("MULTI")]),
            1 => Cmd::new(vec![b("WATCH"), g.any_key()]),
            2 => Cmd::new(vec![b(g.pick(&["FOO", "GETT", "XGROUP FOO"]))]),
            3..=17 => {
                // An absolute deadline and the query that must echo it exactly.
                let k = g.any_key();
                let (set, get, t) = if g.chance(0.5) {
                    ("PEXPIREAT", "PEXPIRETIME", g.abs_ms())
                } else {
                    ("EXPIREAT", "EXPIRETIME", g.abs_s())
                };
                push(g, Cmd::new(vec![b(set), k.clone(), t.to_string().into_bytes()]));
                Cmd::new(vec![b(get), k])
            }
            18..=20 => super::family::blocking::moves_in_txn(g),
            21..=55 if !focus.is_empty() => {
                let k = focus[g.range(0, focus.len() as i64) as usize].clone();
                mutator(g, k)
            }
            _ => g.txn_cmd(),
        };
        push(g, c);
    }
}

/// MULTI ... EXEC|DISCARD, sometimes after a WATCH of keys the block may itself change.
pub fn gen_block(g: &mut Gen) {
    let mut watched = Vec::new();
    if g.chance(0.3) {
        let mut a = vec![b("WATCH")];
        for _ in 0..g.range(1, 3) {
            let k = g.any_key();
            watched.push(k.clone());
            a.push(k);
        }
        push(g, Cmd::new(a));
        if g.chance(0.3) {
            // The client's own write to a watched key aborts its EXEC too.
            let k = watched[0].clone();
            let c = mutator(g, k);
            push(g, c);
        }
    }
    g.push(Item::TxnStart("MULTI block"));
    let multi = if g.chance(0.1) { "multi" } else { "MULTI" };
    push(g, Cmd::new(vec![b(multi)]));
    let n = g.range(1, 11);
    queue(g, n, &watched);
    if g.chance(0.85) {
        push(g, Cmd::new(vec![b("EXEC")]).with(Check::Exec));
    } else {
        push(g, Cmd::new(vec![b("DISCARD")]));
    }
}

/// WATCH, then the second connection acts, then MULTI ... EXEC on the first.
pub fn gen_watch_race(g: &mut Gen) {
    if g.chance(0.02) {
        return expiring_watch(g);
    }
    let k = g.any_key();
    let mut a = vec![b("WATCH"), k.clone()];
    if g.chance(0.3) {
        a.push(g.any_key());
    }
    push(g, Cmd::new(a));
    if g.chance(0.3) {
        let read = g.pick(&["EXISTS", "TYPE"]);
        push(g, Cmd::new(vec![b(read), k.clone()]));
    }
    g.push(Item::TxnStart("WATCH race"));
    match g.range(0, 100) {
        0..=44 => {
            let c = mutator(g, k.clone()).other();
            push(g, c);
        }
        45..=54 => {
            let other = g.any_key();
            let c = mutator(g, other);
            let c = unrelated(g, c);
            push(g, c);
        }
        55..=64 => {
            let read = g.pick(&["EXISTS", "TYPE", "DUMPX"]);
            push(g, Cmd::new(vec![b(read), k.clone()]).other())
        }
        65..=69 => push(g, Cmd::new(vec![b("PERSIST"), k.clone()]).other()),
        70..=79 => {}
        // FLUSHDB and SWAPDB abort the EXEC only of clients whose watched keys existed (in
        // either database).
        80..=82 => push(g, Cmd::new(vec![b("FLUSHDB")]).other()),
        83..=84 => push(g, Cmd::new(vec![b("SWAPDB"), b("0"), b("1")]).other()),
        85..=86 => push(g, Cmd::new(vec![b("DBSIZE")]).other()),
        _ => {
            let c = g.txn_cmd();
            let c = unrelated(g, c);
            push(g, c);
        }
    }
    if g.chance(0.1) {
        push(g, Cmd::new(vec![b("UNWATCH")]));
    }
    push(g, Cmd::new(vec![b("MULTI")]));
    let n = g.range(1, 6);
    queue(g, n, &[k]);
    push(g, Cmd::new(vec![b("EXEC")]).with(Check::Exec));
}

/// A watched key that expires on its own before EXEC: EXEC must fail.
fn expiring_watch(g: &mut Gen) {
    let k = g.free_key();
    push(g, Cmd::new(vec![b("SET"), k.clone(), b("v"), b("PX"), b("300")]));
    g.push(Item::TxnStart("WATCH of an expiring key"));
    push(g, Cmd::new(vec![b("WATCH"), k.clone()]));
    push(g, Cmd::new(vec![b("MULTI")]));
    push(g, Cmd::new(vec![b("GET"), k.clone()]));
    g.push(Item::SleepMs(350));
    push(g, Cmd::new(vec![b("EXEC")]).with(Check::Exec));
    push(g, Cmd::new(vec![b("EXISTS"), k]));
}

/// EXEC or DISCARD without MULTI, UNWATCH, empty transactions.
pub fn gen_stray(g: &mut Gen) {
    match g.range(0, 5) {
        0 => push(g, Cmd::new(vec![b("EXEC")]).with(Check::Exec)),
        1 => push(g, Cmd::new(vec![b("DISCARD")])),
        2 => push(g, Cmd::new(vec![b("UNWATCH")])),
        3 => {
            g.push(Item::TxnStart("empty MULTI"));
            push(g, Cmd::new(vec![b("MULTI")]));
            push(g, Cmd::new(vec![b("EXEC")]).with(Check::Exec));
        }
        _ => {
            let k = g.any_key();
            push(g, Cmd::new(vec![b("WATCH"), k.clone()]));
            push(g, Cmd::new(vec![b("UNWATCH")]));
            let c = mutator(g, k).other();
            push(g, c);
            g.push(Item::TxnStart("MULTI after UNWATCH"));
            push(g, Cmd::new(vec![b("MULTI")]));
            push(g, Cmd::new(vec![b("PING")]));
            push(g, Cmd::new(vec![b("EXEC")]).with(Check::Exec));
        }
    }
}

/// A command for the second connection that may not name the watched keys (a MOVE or COPY
/// only aborts the watchers of the keys it writes).
fn unrelated(_g: &mut Gen, c: Cmd) -> Cmd {
    c.other()
}

/// A write to `k` that keeps the key rules of `keyspace.rs`; some leave the key as it was
/// (Redis does not count those as changes for WATCH).
fn mutator(g: &mut Gen, k: Vec<u8>) -> Cmd {
    if keyspace::is_zlex(&k) {
        return match g.range(0, 4) {
            0 => Cmd::new(vec![b("ZADD"), k, b("0"), format!("m{}", g.range(0, 40)).into_bytes()]),
            1 => Cmd::new(vec![b("ZREM"), k, format!("m{}", g.range(0, 40)).into_bytes()]),
            2 => Cmd::new(vec![b("EXPIRE"), k, g.rel_s().to_string().into_bytes()]),
            _ => Cmd::new(vec![b("DEL"), k]),
        };
    }
    if keyspace::is_hll(&k) {
        return match g.range(0, 3) {
            0 => Cmd::new(vec![b("PFADD"), k, format!("e{}", g.range(0, 3000)).into_bytes()]),
            1 => Cmd::new(vec![b("EXPIRE"), k, g.rel_s().to_string().into_bytes()]),
            _ => Cmd::new(vec![b("DEL"), k]),
        };
    }
    match g.range(0, 14) {
        0 => Cmd::new(vec![b("SET"), k, g.value()]),
        1 => Cmd::new(vec![b("DEL"), k]),
        2 => Cmd::new(vec![b("INCR"), k]),
        3 => Cmd::new(vec![b("LPUSH"), k, b("x")]),
        4 => Cmd::new(vec![b("SADD"), k, g.num(0, 10)]),
        5 => Cmd::new(vec![b("HSET"), k, b("f1"), g.num(0, 3)]),
        6 => Cmd::new(vec![b("EXPIRE"), k, g.rel_s().to_string().into_bytes()]),
        7 => Cmd::new(vec![b("APPEND"), k, b("x")]),
        8 => Cmd::new(vec![b("ZADD"), k, g.num(0, 3), b("m1")]),
        9 => Cmd::new(vec![b("SREM"), k, g.num(0, 10)]),
        10 => Cmd::new(vec![b("XADD"), k, b("1-1"), b("f"), b("v")]),
        11 => Cmd::new(vec![b("SETBIT"), k, g.num(0, 30), b("1")]),
        12 => {
            let src = g.home(Fam::Misc);
            Cmd::new(vec![b("COPY"), src, k, b("REPLACE")])
        }
        _ => Cmd::new(vec![b("LPOP"), k]),
    }
}
