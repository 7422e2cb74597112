//! List commands: LPUSH, RPUSH, LPUSHX, RPUSHX, LPOP, RPOP (with counts), LLEN, LRANGE, LINDEX,
//! LSET, LINSERT, LREM, LTRIM, LPOS, LMOVE, RPOPLPUSH, LMPOP, with long pushes so lists span
//! many quicklist nodes and moves between keys on the same and on different shards.

use crate::all::gen::{b, Cmd, Gen};
use crate::all::keyspace::Fam;

pub fn element(g: &mut Gen) -> Vec<u8> {
    match g.range(0, 40) {
        0 => vec![b'L'; g.range(60, 80) as usize],
        1 => Vec::new(),
        2..=12 => g.num(0, 10),
        13..=22 => b(g.pick(&["a", "b", "c", "d", "e"])),
        23..=26 => b(g.pick(&["-1", "9223372036854775807", "1.5", "007"])),
        _ => format!("m{}", g.range(0, 12)).into_bytes(),
    }
}

pub fn gen(g: &mut Gen) -> Cmd {
    match g.range(0, 100) {
        0..=17 => {
            let name = g.pick(&["LPUSH", "RPUSH", "LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]);
            let mut a = vec![b(name), g.write_key(Fam::List)];
            for _ in 0..g.range(1, 5) {
                a.push(element(g));
            }
            Cmd::new(a)
        }
        18..=19 => {
            // A long push: many quicklist nodes.
            let mut a = vec![b(g.pick(&["RPUSH", "LPUSH"])), g.write_key(Fam::List)];
            for _ in 0..g.range(50, 300) {
                a.push(element(g));
            }
            Cmd::new(a)
        }
        20..=27 => {
            let mut a = vec![b(g.pick(&["LPOP", "RPOP"])), g.write_key(Fam::List)];
            if g.chance(0.5) {
                a.push(g.count());
            }
            Cmd::new(a)
        }
        28..=31 => Cmd::new(vec![b("LLEN"), g.key(Fam::List)]),
        32..=42 => {
            let (k, s, e) = (g.key(Fam::List), g.index(), g.index());
            Cmd::new(vec![b("LRANGE"), k, s, e])
        }
        43..=47 => {
            let (k, i) = (g.key(Fam::List), g.index());
            Cmd::new(vec![b("LINDEX"), k, i])
        }
        48..=51 => {
            let (k, i, v) = (g.write_key(Fam::List), g.index(), element(g));
            Cmd::new(vec![b("LSET"), k, i, v])
        }
        52..=56 => {
            let k = g.write_key(Fam::List);
            let w = b(g.pick(&["BEFORE", "AFTER", "before", "MIDDLE"]));
            let (p, v) = (element(g), element(g));
            Cmd::new(vec![b("LINSERT"), k, w, p, v])
        }
        57..=61 => {
            let k = g.write_key(Fam::List);
            let n = b(g.pick(&["0", "1", "-1", "2", "-2", "100", "x"]));
            let v = element(g);
            Cmd::new(vec![b("LREM"), k, n, v])
        }
        62..=65 => {
            let (k, s, e) = (g.write_key(Fam::List), g.index(), g.index());
            Cmd::new(vec![b("LTRIM"), k, s, e])
        }
        66..=72 => lpos(g),
        73..=81 => {
            let (src, dst) = (g.write_key(Fam::List), g.write_key(Fam::List));
            if g.chance(0.3) {
                Cmd::new(vec![b("RPOPLPUSH"), src, dst])
            } else {
                let (x, y) = (g.pick(&["LEFT", "RIGHT", "left", "UP"]), g.pick(&["LEFT", "RIGHT", "right"]));
                Cmd::new(vec![b("LMOVE"), src, dst, b(x), b(y)])
            }
        }
        82..=89 => lmpop(g),
        _ => Cmd::new(vec![b("OBJECT"), b("ENCODING"), g.key(Fam::List)]),
    }
}

fn lpos(g: &mut Gen) -> Cmd {
    let mut a = vec![b("LPOS"), g.key(Fam::List), element(g)];
    for _ in 0..g.range(0, 3) {
        match g.range(0, 4) {
            0 => a.extend([b("RANK"), b(g.pick(&["1", "-1", "2", "-3", "0", "x", "-9223372036854775808"]))]),
            1 => a.extend([b("COUNT"), b(g.pick(&["0", "1", "2", "5", "-1", "x"]))]),
            2 => a.extend([b("MAXLEN"), b(g.pick(&["0", "1", "3", "10", "-1"]))]),
            _ => a.push(b(g.pick(&["RANK", "FOO"]))),
        }
    }
    Cmd::new(a)
}

fn lmpop(g: &mut Gen) -> Cmd {
    let n = g.range(1, 4);
    let mut a = vec![b("LMPOP")];
    a.push(if g.chance(0.05) { b(g.pick(&["0", "-1", "x", "9"])) } else { n.to_string().into_bytes() });
    for _ in 0..n {
        a.push(g.write_key(Fam::List));
    }
    a.push(b(g.pick(&["LEFT", "RIGHT", "left", "MIDDLE"])));
    if g.chance(0.5) {
        a.extend([b("COUNT"), g.count()]);
    }
    Cmd::new(a)
}
