//! Sorted-set commands: ZADD (NX XX GT LT CH INCR), ZINCRBY, ZREM, ZCARD, ZCOUNT, ZLEXCOUNT,
//! ZSCORE, ZMSCORE, ZRANK, ZREVRANK, ZRANGE (BYSCORE BYLEX REV LIMIT WITHSCORES), ZRANGESTORE,
//! the legacy range commands, ZPOPMIN, ZPOPMAX, ZMPOP, ZRANDMEMBER, ZREMRANGEBY*, ZUNION,
//! ZINTER, ZDIFF and their STORE forms (WEIGHTS, AGGREGATE), ZINTERCARD, ZSCAN.
//!
//! Lex ranges only ever read lex keys, whose scores are all 0: over mixed scores in a skiplist
//! Redis's answer follows its random node levels. A lex key is only written with score 0, and
//! a STORE only writes one from lex sources without weights.

use crate::all::check::Check;
use crate::all::gen::{b, Cmd, Gen};
use crate::all::keyspace::Fam;

pub fn member(g: &mut Gen) -> Vec<u8> {
    match g.range(0, 100) {
        0..=79 => format!("m{}", g.range(0, 40)).into_bytes(),
        80..=91 => g.num(-5, 30),
        92..=95 => format!("{}{}", "L".repeat(70), g.range(0, 3)).into_bytes(),
        _ => format!("b{}", g.range(0, 300)).into_bytes(),
    }
}

pub fn score(g: &mut Gen) -> Vec<u8> {
    match g.range(0, 100) {
        0..=59 => g.num(-20, 20),
        60..=74 => format!("{}", g.range(-40, 40) as f64 / 4.0).into_bytes(),
        75..=79 => b(g.pick(&["inf", "-inf", "+inf"])),
        80..=84 => b(g.pick(&["0.1", "0.2", "0.3", "1e10", "-0", "3e-5", "1.7976931348623157e308"])),
        85..=94 => g.num(0, 5),
        _ => b(g.pick(&["abc", "1x", "nan", "", "1e400", " 1"])),
    }
}

fn range_item(g: &mut Gen) -> Vec<u8> {
    let s = match g.range(0, 10) {
        0 => "-inf".to_string(),
        1 => "+inf".to_string(),
        2 => g.pick(&["x", "(", "", "(a", "nan"]).to_string(),
        _ => g.range(-20, 20).to_string(),
    };
    if g.chance(0.3) && !s.starts_with('(') {
        format!("({s}").into_bytes()
    } else {
        s.into_bytes()
    }
}

fn lex_item(g: &mut Gen) -> Vec<u8> {
    match g.range(0, 12) {
        0 => b("-"),
        1 => b("+"),
        2 => b(g.pick(&["m3", "", "+x", "-y"])),
        3..=7 => [b"[".to_vec(), member(g)].concat(),
        _ => [b"(".to_vec(), member(g)].concat(),
    }
}

/// A sorted-set key a write may change freely (never a lex key).
fn wkey(g: &mut Gen) -> Vec<u8> {
    g.write_key(Fam::ZSet)
}

pub fn gen(g: &mut Gen) -> Cmd {
    match g.range(0, 1000) {
        0..=139 => zadd(g),
        140..=169 => {
            let (k, s, m) = (wkey(g), score(g), member(g));
            Cmd::new(vec![b("ZINCRBY"), k, s, m])
        }
        170..=199 => {
            let mut a = vec![b("ZREM"), if g.chance(0.2) { g.home(Fam::ZLex) } else { wkey(g) }];
            for _ in 0..g.range(1, 4) {
                a.push(member(g));
            }
            Cmd::new(a)
        }
        200..=219 => Cmd::new(vec![b("ZCARD"), g.key(Fam::ZSet)]),
        220..=244 => {
            let (k, x, y) = (g.key(Fam::ZSet), range_item(g), range_item(g));
            Cmd::new(vec![b("ZCOUNT"), k, x, y])
        }
        245..=259 => {
            let (k, x, y) = (g.home(Fam::ZLex), lex_item(g), lex_item(g));
            Cmd::new(vec![b("ZLEXCOUNT"), k, x, y])
        }
        260..=289 => {
            let k = g.key(Fam::ZSet);
            if g.chance(0.5) {
                let m = member(g);
                Cmd::new(vec![b("ZSCORE"), k, m])
            } else {
                let mut a = vec![b("ZMSCORE"), k];
                for _ in 0..g.range(1, 4) {
                    a.push(member(g));
                }
                Cmd::new(a)
            }
        }
        290..=314 => {
            let name = g.pick(&["ZRANK", "ZREVRANK"]);
            let (k, m) = (g.key(Fam::ZSet), member(g));
            Cmd::new(vec![b(name), k, m])
        }
        315..=414 => Cmd::new(zrange(g)),
        415..=449 => legacy_range(g),
        450..=474 => {
            let mut a = zrange(g);
            let lex = a.iter().any(|x| x.eq_ignore_ascii_case(b"bylex"));
            a[0] = b("ZRANGESTORE");
            // A lex source only holds zeros: storing it into a lex key keeps that key's rule.
            let dst = if lex && g.chance(0.5) { g.home(Fam::ZLex) } else { wkey(g) };
            a.insert(1, dst);
            a.retain(|x| !x.eq_ignore_ascii_case(b"withscores") || g.chance(0.1));
            Cmd::new(a)
        }
        475..=514 => {
            let name = g.pick(&["ZPOPMIN", "ZPOPMAX"]);
            let k = if g.chance(0.15) { g.home(Fam::ZLex) } else { wkey(g) };
            let mut a = vec![b(name), k];
            if g.chance(0.6) {
                a.push(g.count());
            }
            Cmd::new(a)
        }
        515..=534 => zmpop(g),
        535..=564 => zrandmember(g),
        565..=604 => zremrange(g),
        605..=699 => setop(g),
        700..=729 => {
            let mut a = vec![b("ZSCAN"), g.key(Fam::ZSet), b("0")];
            if g.chance(0.4) {
                a.extend([b("MATCH"), b(g.pick(&["m1*", "*", "b*", "[0-9]*", "L*", "m?"]))]);
            }
            if g.chance(0.4) {
                a.extend([b("COUNT"), b(g.pick(&["1", "5", "100", "0", "x"]))]);
            }
            Cmd::new(a).with(Check::Scan)
        }
        730..=774 => Cmd::new(vec![b("OBJECT"), b("ENCODING"), g.key(Fam::ZSet)]),
        775..=799 => refill(g),
        _ => {
            // Lex keys: members at score 0 only.
            let mut a = vec![b("ZADD"), g.home(Fam::ZLex)];
            if g.chance(0.2) {
                a.push(b(g.pick(&["NX", "XX", "CH"])));
            }
            for _ in 0..g.range(1, 6) {
                a.push(b("0"));
                a.push(member(g));
            }
            Cmd::new(a)
        }
    }
}

fn zadd(g: &mut Gen) -> Cmd {
    let mut a = vec![b("ZADD"), wkey(g)];
    for opt in ["NX", "XX", "GT", "LT", "CH", "INCR"] {
        if g.chance(0.08) {
            a.push(if g.chance(0.5) { opt.to_lowercase().into_bytes() } else { b(opt) });
        }
    }
    let incr = a.iter().any(|x| x.eq_ignore_ascii_case(b"incr"));
    let pairs = if incr && g.chance(0.9) { 1 } else { g.range(1, 6) };
    for _ in 0..pairs {
        a.push(score(g));
        a.push(member(g));
    }
    if g.chance(0.03) {
        a.pop();
    }
    Cmd::new(a)
}

fn limit(g: &mut Gen, a: &mut Vec<Vec<u8>>) {
    a.push(b("LIMIT"));
    a.push(match g.range(0, 10) {
        0 => b("-1"),
        1 => b("x"),
        _ => g.num(0, 6),
    });
    a.push(match g.range(0, 10) {
        0 => b("-1"),
        1 => b("0"),
        _ => g.num(1, 8),
    });
}

fn zrange(g: &mut Gen) -> Vec<Vec<u8>> {
    let (k, x, y, by) = match g.range(0, 10) {
        0..=3 => (g.key(Fam::ZSet), g.index(), g.index(), None),
        4..=7 => (g.key(Fam::ZSet), range_item(g), range_item(g), Some("BYSCORE")),
        _ => (g.home(Fam::ZLex), lex_item(g), lex_item(g), Some("BYLEX")),
    };
    let mut opts: Vec<Vec<Vec<u8>>> = Vec::new();
    if let Some(by) = by {
        if g.chance(0.97) {
            opts.push(vec![b(by)]);
        }
    }
    if g.chance(0.4) {
        opts.push(vec![b("REV")]);
    }
    if g.chance(if by.is_some() { 0.4 } else { 0.05 }) {
        let mut l = Vec::new();
        limit(g, &mut l);
        opts.push(l);
    }
    if g.chance(if by == Some("BYLEX") { 0.05 } else { 0.4 }) {
        opts.push(vec![b("WITHSCORES")]);
    }
    if g.chance(0.02) {
        opts.push(vec![b("BOGUS")]);
    }
    for i in (1..opts.len()).rev() {
        let j = g.range(0, i as i64 + 1) as usize;
        opts.swap(i, j);
    }
    let mut a = vec![b("ZRANGE"), k, x, y];
    a.extend(opts.into_iter().flatten());
    a
}

fn legacy_range(g: &mut Gen) -> Cmd {
    let mut a = match g.range(0, 5) {
        0 => vec![b("ZREVRANGE"), g.key(Fam::ZSet), g.index(), g.index()],
        1 => vec![b("ZRANGEBYSCORE"), g.key(Fam::ZSet), range_item(g), range_item(g)],
        2 => vec![b("ZREVRANGEBYSCORE"), g.key(Fam::ZSet), range_item(g), range_item(g)],
        3 => vec![b("ZRANGEBYLEX"), g.home(Fam::ZLex), lex_item(g), lex_item(g)],
        _ => vec![b("ZREVRANGEBYLEX"), g.home(Fam::ZLex), lex_item(g), lex_item(g)],
    };
    let lex = a[0].ends_with(b"LEX");
    if g.chance(0.4) && !lex {
        a.push(b("WITHSCORES"));
    }
    if g.chance(0.3) && a[0] != b"ZREVRANGE" {
        limit(g, &mut a);
    }
    if g.chance(0.03) {
        a.push(b(g.pick(&["REV", "BYSCORE", "WITHSCORES"])));
    }
    Cmd::new(a)
}

fn zmpop(g: &mut Gen) -> Cmd {
    let n = g.range(1, 4);
    let mut a = vec![b("ZMPOP")];
    a.push(if g.chance(0.05) { b(g.pick(&["0", "-1", "x", "9"])) } else { n.to_string().into_bytes() });
    for _ in 0..n {
        a.push(wkey(g));
    }
    a.push(b(g.pick(&["MIN", "max", "MAX", "min", "mid"])));
    if g.chance(0.5) {
        a.extend([b("COUNT"), g.count()]);
    }
    Cmd::new(a)
}

fn zrandmember(g: &mut Gen) -> Cmd {
    let mut a = vec![b("ZRANDMEMBER"), g.key(Fam::ZSet)];
    if g.chance(0.75) {
        a.push(b(g.pick(&["1", "2", "3", "5", "10", "0", "-1", "-5", "-20", "x", "1000"])));
        if g.chance(0.5) {
            a.push(b(if g.chance(0.95) { "WITHSCORES" } else { "WITHSCORESX" }));
        }
    }
    Cmd::new(a).with(Check::RandMember)
}

fn zremrange(g: &mut Gen) -> Cmd {
    match g.range(0, 3) {
        0 => {
            let (k, x, y) = (wkey(g), g.index(), g.index());
            Cmd::new(vec![b("ZREMRANGEBYRANK"), k, x, y])
        }
        1 => {
            let (k, x, y) = (wkey(g), range_item(g), range_item(g));
            Cmd::new(vec![b("ZREMRANGEBYSCORE"), k, x, y])
        }
        _ => {
            let (k, x, y) = (g.home(Fam::ZLex), lex_item(g), lex_item(g));
            Cmd::new(vec![b("ZREMRANGEBYLEX"), k, x, y])
        }
    }
}

fn setop(g: &mut Gen) -> Cmd {
    let op = g.pick(&["ZUNION", "ZINTER", "ZDIFF", "ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE", "ZINTERCARD"]);
    let store = op.ends_with("STORE");
    let lex = store && g.chance(0.15);
    let n = g.range(1, 4);
    let mut a = vec![b(op)];
    if store {
        a.push(if lex { g.home(Fam::ZLex) } else { wkey(g) });
    }
    a.push(if g.chance(0.04) { b(g.pick(&["0", "x", "5"])) } else { n.to_string().into_bytes() });
    for _ in 0..n {
        a.push(if lex {
            g.home(Fam::ZLex)
        } else if g.chance(0.12) {
            g.key(Fam::Set)
        } else {
            g.key(Fam::ZSet)
        });
    }
    if op == "ZINTERCARD" {
        if g.chance(0.5) {
            a.extend([b("LIMIT"), g.count()]);
        }
        return Cmd::new(a);
    }
    let diff = op.starts_with("ZDIFF");
    if !diff && !lex && g.chance(0.3) {
        a.push(b("WEIGHTS"));
        for _ in 0..n {
            a.push(b(g.pick(&["1", "2", "-1", "0.5", "0", "inf", "x", "3"])));
        }
    }
    if !diff && g.chance(0.3) {
        a.extend([b("AGGREGATE"), b(g.pick(&["SUM", "min", "MAX", "avg"]))]);
    }
    if !store && g.chance(0.5) {
        a.push(b("WITHSCORES"));
    }
    Cmd::new(a)
}

/// Fills a key with many members (or shrinks one with a store) so encodings convert both ways.
fn refill(g: &mut Gen) -> Cmd {
    let k = wkey(g);
    if g.chance(0.3) {
        let src = g.key(Fam::ZSet);
        return Cmd::new(vec![b("ZRANGESTORE"), k, src, b("0"), g.num(3, 12)]);
    }
    let mut a = vec![b("ZADD"), k];
    let base = g.range(0, 200);
    for i in 0..g.range(20, 180) {
        a.push(format!("{}", g.range(-50, 50) as f64 / 2.0).into_bytes());
        a.push(format!("b{}", base + i).into_bytes());
    }
    Cmd::new(a)
}
