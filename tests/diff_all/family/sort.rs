//! SORT and SORT_RO over lists, sets and sorted sets: numeric and ALPHA, ASC/DESC, LIMIT, BY
//! and GET patterns (`{t}w_*` strings, `{t}wh_*->f` hash fields, `#`, `nosort`), STORE; plus
//! the writes that give the pattern keys their weights.
//!
//! Patterns are only used on `{t}` sources: their keys then live on the sorted key's shard.
//! Where Redis's own order follows a hash table (BY without `*` over a set; ALPHA BY a pattern,
//! whose ties keep the input order; ALPHA under a collation that is not `strcmp`'s), the reply
//! is compared as a multiset, and neither LIMIT nor STORE is used (they would keep an arbitrary
//! part or order).

use crate::all::check::Check;
use crate::all::gen::{b, Cmd, Gen, Item};
use crate::all::keyspace::{Fam, WEIGHT_ELEMS};

const TAGGED_SOURCES: &[&str] = &["{t}l1", "{t}l2", "{t}set1", "{t}set2", "{t}z1", "{t}z2"];
/// A key no command writes (see `errno_reset`).
const ERRNO_KEY: &str = "diff_all:errno";
const TAGGED_TARGETS: &[&str] = &["{t}l1", "{t}l2", "{t}k", "{t}s1"];

pub fn gen(g: &mut Gen) -> Cmd {
    if g.chance(0.2) {
        return weight_write(g);
    }
    let tagged = g.chance(0.5);
    let src = if tagged {
        b(g.pick(TAGGED_SOURCES))
    } else {
        let fam = *[Fam::List, Fam::Set, Fam::ZSet].get(g.range(0, 3) as usize).unwrap_or(&Fam::List);
        g.key(fam)
    };
    let ro = g.chance(0.25);
    let mut by: Option<&str> = None;
    if tagged && g.chance(0.4) {
        by = Some(g.pick(&["{t}w_*", "{t}wh_*->f", "{t}w_*", "nosort", "{t}w_fixed"]));
    } else if g.chance(0.08) {
        by = Some("nosort");
    }
    let mut gets: Vec<&str> = Vec::new();
    if tagged && g.chance(0.3) {
        for _ in 0..g.range(1, 3) {
            gets.push(g.pick(&["#", "{t}w_*", "{t}wh_*->f"]));
        }
    } else if g.chance(0.1) {
        gets.push("#");
    }
    let alpha = g.chance(0.35);
    let dont_sort = by.is_some_and(|p| !p.contains('*'));
    let star_by = by.is_some_and(|p| p.contains('*'));
    let mut store = !ro && g.chance(0.25);
    let mut limit = g.chance(0.3);
    let hashed = dont_sort || (alpha && star_by) || (alpha && !g.c_collation && !store);
    if hashed {
        store = false;
        limit = false;
    }
    let mut opts: Vec<Vec<Vec<u8>>> = Vec::new();
    if let Some(p) = by {
        opts.push(vec![b("BY"), b(p)]);
    }
    if limit {
        let off = b(g.pick(&["0", "1", "2", "5", "-1", "x"]));
        let cnt = b(g.pick(&["1", "3", "10", "0", "-1"]));
        opts.push(vec![b("LIMIT"), off, cnt]);
    }
    for p in &gets {
        opts.push(vec![b("GET"), b(p)]);
    }
    if g.chance(0.4) {
        opts.push(vec![b(g.pick(&["ASC", "DESC", "desc"]))]);
    }
    if alpha {
        opts.push(vec![b("ALPHA")]);
    }
    if store {
        let dst = if tagged { b(g.pick(TAGGED_TARGETS)) } else { g.write_key(Fam::List) };
        opts.push(vec![b("STORE"), dst]);
    }
    for i in (1..opts.len()).rev() {
        let j = g.range(0, i as i64 + 1) as usize;
        opts.swap(i, j);
    }
    // A bad word goes last: BY, GET and LIMIT would take the words after them as arguments.
    if g.chance(0.02) {
        opts.push(vec![b(g.pick(&["BOGUS", "LIMIT", "GET", "BY"]))]);
    }
    // Redis quirk (not a tessera difference): SORT reads numbers with `strtod` and tests
    // `errno` without clearing it first, so an ERANGE left by an earlier command (a score like
    // "1e400") fails a sort of valid numbers. Every SORT below follows `errno_reset`.
    g.push(errno_reset());
    let mut a = vec![b(if ro { "SORT_RO" } else { "SORT" }), src];
    a.extend(opts.into_iter().flatten());
    let check = if hashed { Check::Unordered(gets.len().max(1)) } else { Check::Exact };
    Cmd::new(a).with(check)
}

/// A read that leaves redis-server's `errno` at 0: GEORADIUS_RO parses its coordinates with
/// errno cleared first, and its key is never written, so the reply is always empty.
fn errno_reset() -> Item {
    Item::Cmd(Cmd::new(vec![b("GEORADIUS_RO"), b(ERRNO_KEY), b("0"), b("0"), b("1"), b("m")]))
}

/// Gives a pattern key a weight (a number, sometimes not one), or removes it.
fn weight_write(g: &mut Gen) -> Cmd {
    let e = g.pick(WEIGHT_ELEMS);
    let v = match g.range(0, 10) {
        0 => b(g.pick(&["abc", "", "1e400", "inf"])),
        1 | 2 => format!("{}", g.range(-40, 40) as f64 / 4.0).into_bytes(),
        _ => g.num(-10, 10),
    };
    match g.range(0, 10) {
        0..=4 => Cmd::new(vec![b("SET"), format!("{{t}}w_{e}").into_bytes(), v]),
        5..=8 => Cmd::new(vec![b("HSET"), format!("{{t}}wh_{e}").into_bytes(), b("f"), v]),
        _ => Cmd::new(vec![b("DEL"), format!("{{t}}w_{e}").into_bytes()]),
    }
}
