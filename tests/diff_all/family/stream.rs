//! Stream commands: XADD (NOMKSTREAM, MAXLEN/MINID with = or ~ and LIMIT), XRANGE, XREVRANGE,
//! XLEN, XDEL, XTRIM, XREAD (several streams, across shards), XSETID, consumer groups (XGROUP
//! CREATE|SETID|DESTROY|CREATECONSUMER|DELCONSUMER, XREADGROUP, XACK, XPENDING, XCLAIM,
//! XAUTOCLAIM) and XINFO STREAM [FULL]|GROUPS|CONSUMERS.
//!
//! IDs are explicit and mostly go forward (the generator learns the IDs redis-server gave); `*`
//! IDs only go to `AUTO`. Never generated: IDs whose sequence is the largest possible in XADD
//! or XSETID (after one, `ms-*` fails with an error text Redis 7.0 picks from a stale errno),
//! BLOCK, and idle thresholds near the test's runtime (only 0 or far beyond it). Times in
//! replies (idle, seen-time, delivery times) are masked.

use std::collections::VecDeque;

use crate::all::check::Check;
use crate::all::gen::{b, Cmd, Gen};
use crate::all::keyspace::{Fam, AUTO, STREAM};
use crate::common::Reply;

const GROUPS: &[&str] = &["g1", "g2", "G"];
const CONSUMERS: &[&str] = &["c1", "c2", "c3"];
const IDLES: &[&str] = &["0", "0", "100000000", "-5"];

/// A stream key index and its name (sometimes another key or a missing one).
fn stream(g: &mut Gen) -> (usize, Vec<u8>) {
    let i = g.range(0, STREAM.len() as i64) as usize;
    let key = if g.chance(0.08) { g.write_key(Fam::Stream) } else { b(STREAM[i]) };
    (i, key)
}

fn group(g: &mut Gen) -> Vec<u8> {
    if g.chance(0.05) {
        return b("nogroup");
    }
    b(g.pick(GROUPS))
}

fn consumer(g: &mut Gen) -> Vec<u8> {
    b(g.pick(CONSUMERS))
}

/// An ID near stream `k`'s recent IDs: mostly valid, sometimes special or malformed.
fn id_near(g: &mut Gen, k: usize, max_seq: bool) -> Vec<u8> {
    let top = g.stream_top[k];
    let known = g.stream_known[k].len();
    if known > 0 && g.chance(0.5) {
        let i = g.range(0, known as i64) as usize;
        return b(&g.stream_known[k][i].clone());
    }
    let s = match g.range(0, 100) {
        0..=59 => format!("{}-{}", top.saturating_sub(g.range(0, 40) as u64), g.range(0, 3)),
        60..=74 => format!("{}", top.saturating_sub(g.range(0, 40) as u64)),
        75..=79 => "0".into(),
        80..=84 => format!("{}-{}", top + g.range(0, 5) as u64, g.range(0, 3)),
        85..=87 if max_seq => "18446744073709551615-18446744073709551615".into(),
        88..=90 => g.pick(&["-", "+", "x", "1-x", "(", "", " 5", "-1", "1-2-3"]).into(),
        _ if max_seq => format!("{}-18446744073709551615", top.saturating_sub(g.range(0, 40) as u64)),
        _ => format!("{}-{}", top.saturating_sub(g.range(0, 40) as u64), g.range(0, 9)),
    };
    s.into_bytes()
}

fn range_id(g: &mut Gen, k: usize) -> Vec<u8> {
    match g.range(0, 10) {
        0 => b("-"),
        1 => b("+"),
        2 | 3 => [b"(".to_vec(), id_near(g, k, true)].concat(),
        _ => id_near(g, k, true),
    }
}

fn value(g: &mut Gen) -> Vec<u8> {
    match g.range(0, 100) {
        0..=44 => format!("v{}", g.range(0, 50)).into_bytes(),
        45..=64 => g.num(-200_000, 200_000),
        65..=69 => b(g.pick(&["", "-0", "007", "1e3", "9223372036854775808", "-9223372036854775808"])),
        70..=92 => vec![b'x'; g.range(20, 120) as usize],
        _ => vec![b'y'; g.range(200, 700) as usize],
    }
}

fn fields(g: &mut Gen, a: &mut Vec<Vec<u8>>) {
    // Often the same field names, so entries share their node's master fields.
    let same = g.chance(0.6);
    let n = if same { 2 } else { g.range(1, 4) };
    for i in 0..n {
        a.push(if same {
            b(["name", "n"][i as usize % 2])
        } else {
            b(g.pick(&["name", "n", "f", "long-field-name", "7"]))
        });
        a.push(value(g));
    }
}

fn count(g: &mut Gen) -> Vec<u8> {
    match g.range(0, 12) {
        0 => b("0"),
        1 => b("-1"),
        2 => b("x"),
        _ => g.num(1, 12),
    }
}

pub fn gen(g: &mut Gen) -> Cmd {
    match g.range(0, 1000) {
        0..=259 => xadd(g),
        260..=274 => {
            let mut a = vec![b("XADD"), b(AUTO)];
            if g.chance(0.3) {
                // Exact trims only: entry sizes (hence node boundaries, hence `~`) depend on the
                // clock's IDs.
                a.extend([b("MAXLEN"), g.num(0, 30)]);
            }
            a.push(b("*"));
            fields(g, &mut a);
            Cmd::new(a).with(Check::AutoId)
        }
        275..=279 => Cmd::new(vec![b("XLEN"), b(AUTO)]),
        280..=349 => xrange(g),
        350..=369 => {
            let (_, key) = stream(g);
            Cmd::new(vec![b("XLEN"), key])
        }
        370..=399 => {
            let (k, key) = stream(g);
            let mut a = vec![b("XDEL"), key];
            for _ in 0..g.range(1, 5) {
                a.push(id_near(g, k, true));
            }
            Cmd::new(a)
        }
        400..=429 => xtrim(g),
        430..=469 => xread(g),
        470..=539 => xgroup(g),
        540..=609 => xreadgroup(g),
        610..=639 => {
            let (k, key) = stream(g);
            let mut a = vec![b("XACK"), key, group(g)];
            for _ in 0..g.range(1, 4) {
                a.push(id_near(g, k, true));
            }
            Cmd::new(a)
        }
        640..=679 => xpending(g),
        680..=724 => xclaim(g),
        725..=754 => {
            let (k, key) = stream(g);
            let mut a = vec![b("XAUTOCLAIM"), key, group(g), consumer(g), b(g.pick(IDLES)), range_id(g, k)];
            if g.chance(0.5) {
                a.extend([b("COUNT"), b(g.pick(&["1", "2", "5", "20", "0", "x"]))]);
            }
            if g.chance(0.3) {
                a.push(b("JUSTID"));
            }
            Cmd::new(a)
        }
        755..=814 => xinfo(g),
        815..=829 => xsetid(g),
        _ => {
            let (_, key) = stream(g);
            if g.chance(0.5) {
                Cmd::new(vec![b("OBJECT"), b("ENCODING"), key])
            } else {
                Cmd::new(vec![b("TYPE"), key])
            }
        }
    }
}

fn xadd(g: &mut Gen) -> Cmd {
    let k = g.range(0, STREAM.len() as i64) as usize;
    let key = if g.chance(0.05) { g.write_key(Fam::Stream) } else { b(STREAM[k]) };
    let mut a = vec![b("XADD"), key];
    if g.chance(0.05) {
        a.push(b("NOMKSTREAM"));
    }
    if g.chance(0.15) {
        let top = g.stream_top[k];
        let minid = g.chance(0.4);
        a.push(b(if minid { "MINID" } else { g.pick(&["MAXLEN", "maxlen"]) }));
        let approx = g.chance(0.5);
        if approx {
            a.push(b("~"));
        } else if g.chance(0.3) {
            a.push(b("="));
        }
        a.push(if minid { top.saturating_sub(g.range(0, 60) as u64).to_string().into_bytes() } else { g.num(0, 40) });
        if g.chance(if approx { 0.3 } else { 0.05 }) {
            a.extend([b("LIMIT"), b(g.pick(&["0", "3", "10", "100", "-1"]))]);
        }
    }
    let id = match g.range(0, 100) {
        0..=69 => {
            g.stream_top[k] += if g.chance(0.9) { g.range(1, 3) as u64 } else { 0 };
            let seq = g.range(0, 4);
            format!("{}-{}", g.stream_top[k], seq).into_bytes()
        }
        70..=84 => {
            g.stream_top[k] += g.range(0, 2) as u64;
            format!("{}-*", g.stream_top[k]).into_bytes()
        }
        85..=92 => {
            g.stream_top[k] += 1;
            g.stream_top[k].to_string().into_bytes()
        }
        _ => id_near(g, k, false),
    };
    a.push(id);
    fields(g, &mut a);
    if g.chance(0.02) {
        a.pop();
    }
    Cmd::new(a)
}

fn xrange(g: &mut Gen) -> Cmd {
    let (k, key) = stream(g);
    let rev = g.chance(0.4);
    let (x, y) = (range_id(g, k), range_id(g, k));
    let mut a = vec![b(if rev { "XREVRANGE" } else { "XRANGE" }), key];
    if g.chance(0.2) {
        a.extend(if rev { [b("+"), b("-")] } else { [b("-"), b("+")] });
    } else {
        a.extend([x, y]);
    }
    if g.chance(0.4) {
        a.extend([b("COUNT"), count(g)]);
    }
    Cmd::new(a)
}

fn xtrim(g: &mut Gen) -> Cmd {
    let (k, key) = stream(g);
    let mut a = vec![b("XTRIM"), key];
    let minid = g.chance(0.4);
    a.push(b(if minid { "MINID" } else { "MAXLEN" }));
    let approx = g.chance(0.5);
    if approx {
        a.push(b("~"));
    } else if g.chance(0.2) {
        a.push(b("="));
    }
    let top = g.stream_top[k];
    a.push(if minid {
        top.saturating_sub(g.range(0, 80) as u64).to_string().into_bytes()
    } else {
        b(g.pick(&["0", "3", "10", "25", "60", "-1", "x"]))
    });
    if g.chance(0.2) {
        a.extend([b("LIMIT"), b(g.pick(&["0", "5", "20", "x"]))]);
    }
    Cmd::new(a)
}

fn xread(g: &mut Gen) -> Cmd {
    let mut a = vec![b("XREAD")];
    if g.chance(0.4) {
        a.extend([b("COUNT"), count(g)]);
    }
    if g.chance(0.02) {
        a.push(b(g.pick(&["NOACK", "GROUP", "foo"])));
    }
    a.push(b("STREAMS"));
    let n = g.range(1, 4);
    let picks: Vec<(usize, Vec<u8>)> = (0..n).map(|_| stream(g)).collect();
    for (_, key) in &picks {
        a.push(key.clone());
    }
    for (k, _) in &picks {
        a.push(if g.chance(0.15) { b("$") } else { id_near(g, *k, true) });
    }
    if g.chance(0.02) {
        a.pop();
    }
    Cmd::new(a)
}

fn xgroup(g: &mut Gen) -> Cmd {
    let (k, key) = stream(g);
    let grp = group(g);
    let mut a = vec![b("XGROUP")];
    match g.range(0, 10) {
        0..=3 => {
            a.extend([b("CREATE"), key, grp]);
            a.push(match g.range(0, 4) {
                0 => b("$"),
                1 => b("0"),
                _ => id_near(g, k, true),
            });
            if g.chance(0.3) {
                a.push(b("MKSTREAM"));
            }
            if g.chance(0.2) {
                a.extend([b("ENTRIESREAD"), b(g.pick(&["0", "3", "-1", "-2", "x", "100"]))]);
            }
        }
        4 | 5 => {
            a.extend([b("SETID"), key, grp]);
            a.push(if g.chance(0.3) { b("$") } else { id_near(g, k, true) });
            if g.chance(0.3) {
                a.extend([b("ENTRIESREAD"), b(g.pick(&["0", "2", "-1", "-2", "x"]))]);
            }
        }
        6 => a.extend([b("DESTROY"), key, grp]),
        7 => a.extend([b("CREATECONSUMER"), key, grp, consumer(g)]),
        8 => a.extend([b("DELCONSUMER"), key, grp, consumer(g)]),
        _ => a.push(b(g.pick(&["FOO", "CREATE"]))),
    }
    Cmd::new(a)
}

fn xreadgroup(g: &mut Gen) -> Cmd {
    let mut a = vec![b("XREADGROUP"), b("GROUP"), group(g), consumer(g)];
    if g.chance(0.4) {
        a.extend([b("COUNT"), count(g)]);
    }
    if g.chance(0.2) {
        a.push(b("NOACK"));
    }
    a.push(b("STREAMS"));
    let n = if g.chance(0.8) { 1 } else { 2 };
    let picks: Vec<(usize, Vec<u8>)> = (0..n).map(|_| stream(g)).collect();
    for (_, key) in &picks {
        a.push(key.clone());
    }
    for (k, _) in &picks {
        a.push(match g.range(0, 10) {
            0..=5 => b(">"),
            6 | 7 => b("0"),
            8 => id_near(g, *k, true),
            _ => b("$"),
        });
    }
    Cmd::new(a)
}

fn xpending(g: &mut Gen) -> Cmd {
    let (k, key) = stream(g);
    let mut a = vec![b("XPENDING"), key, group(g)];
    if g.chance(0.3) {
        return Cmd::new(a);
    }
    if g.chance(0.3) {
        a.extend([b("IDLE"), b(g.pick(IDLES))]);
    }
    a.push(range_id(g, k));
    a.push(range_id(g, k));
    if g.chance(0.95) {
        a.push(count(g));
    }
    if g.chance(0.4) {
        a.push(consumer(g));
    }
    Cmd::new(a).with(Check::Masked)
}

fn xclaim(g: &mut Gen) -> Cmd {
    let (k, key) = stream(g);
    let mut a = vec![b("XCLAIM"), key, group(g), consumer(g), b(g.pick(IDLES))];
    for _ in 0..g.range(1, 6) {
        a.push(id_near(g, k, true));
    }
    for _ in 0..g.range(0, 3) {
        let o = g.pick(&["IDLE", "TIME", "RETRYCOUNT", "FORCE", "JUSTID", "LASTID"]);
        a.push(b(o));
        match o {
            "IDLE" => a.push(b(g.pick(&["0", "5000", "-3", "x"]))),
            "TIME" => a.push(b(g.pick(&["0", "12345", "99999999999999", "x"]))),
            "RETRYCOUNT" => a.push(b(g.pick(&["0", "7", "-1", "x"]))),
            "LASTID" => a.push(id_near(g, k, true)),
            _ => {}
        }
    }
    Cmd::new(a)
}

fn xinfo(g: &mut Gen) -> Cmd {
    let (_, key) = stream(g);
    match g.range(0, 10) {
        0..=2 => Cmd::new(vec![b("XINFO"), b("STREAM"), key]),
        3 | 4 => {
            let mut a = vec![b("XINFO"), b("STREAM"), key, b("FULL")];
            if g.chance(0.5) {
                a.extend([b("COUNT"), b(g.pick(&["0", "1", "3", "-1", "x"]))]);
            }
            Cmd::new(a).with(Check::Masked)
        }
        5 | 6 => Cmd::new(vec![b("XINFO"), b("GROUPS"), key]),
        7 | 8 => Cmd::new(vec![b("XINFO"), b("CONSUMERS"), key, group(g)]).with(Check::Masked),
        _ => Cmd::new(vec![b("XINFO"), b("FOO")]),
    }
}

fn xsetid(g: &mut Gen) -> Cmd {
    let (k, key) = stream(g);
    let top = g.stream_top[k];
    let mut a = vec![b("XSETID"), key];
    a.push(match g.range(0, 4) {
        0 => id_near(g, k, false),
        _ => format!("{}-{}", top + g.range(0, 3) as u64, g.range(0, 3)).into_bytes(),
    });
    if g.chance(0.3) {
        a.extend([b("ENTRIESADDED"), b(g.pick(&["0", "5", "1000", "-1", "x"]))]);
    }
    if g.chance(0.3) {
        a.extend([b("MAXDELETEDID"), id_near(g, k, true)]);
    }
    Cmd::new(a)
}

/// Learns from redis-server's reply: the IDs of added entries and how far each stream's top
/// went (XADD, XSETID), so later IDs mostly go forward and name entries that exist.
pub fn observe(g: &mut Gen, args: &[Vec<u8>], reply: &Reply) {
    let name = args.first().map(|a| a.to_ascii_lowercase()).unwrap_or_default();
    let Some(k) = args.get(1).and_then(|key| STREAM.iter().position(|s| s.as_bytes() == key.as_slice())) else {
        return;
    };
    let ms_of = |id: &[u8]| -> Option<u64> {
        let s = String::from_utf8_lossy(id);
        s.split('-').next().and_then(|ms| ms.parse().ok()).filter(|&ms: &u64| ms < u64::MAX / 2)
    };
    match (name.as_slice(), reply) {
        (b"xadd", Reply::Bulk(id)) => {
            if let Some(ms) = ms_of(id) {
                g.stream_top[k] = g.stream_top[k].max(ms);
            }
            let known: &mut VecDeque<String> = &mut g.stream_known[k];
            known.push_back(String::from_utf8_lossy(id).into_owned());
            if known.len() > 40 {
                known.pop_front();
            }
        }
        (b"xsetid", Reply::Simple(_)) => {
            if let Some(ms) = args.get(2).and_then(|id| ms_of(id)) {
                g.stream_top[k] = g.stream_top[k].max(ms);
            }
        }
        _ => {}
    }
}
