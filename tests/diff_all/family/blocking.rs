//! Blocking pops with data present or not: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN,
//! BZPOPMAX, BZMPOP. With no data they wait out a 10 ms timeout (nil on both servers); inside
//! MULTI they never block. A timeout of 0 (block forever) is never sent.

use crate::all::gen::{b, Cmd, Gen};
use crate::all::keyspace::Fam;

fn timeout(g: &mut Gen) -> Vec<u8> {
    b(g.pick(&["0.01", "0.01", "0.01", "0.02", "-1", "x", "1e300", "1e400"]))
}

pub fn gen(g: &mut Gen) -> Cmd {
    match g.range(0, 8) {
        0 | 1 => {
            let mut a = vec![b(g.pick(&["BLPOP", "BRPOP"]))];
            for _ in 0..g.range(1, 4) {
                a.push(g.write_key(Fam::List));
            }
            a.push(timeout(g));
            Cmd::new(a)
        }
        2 => {
            let (src, dst) = (g.write_key(Fam::List), g.write_key(Fam::List));
            let (from, to) = (b(g.pick(&["LEFT", "RIGHT"])), b(g.pick(&["LEFT", "RIGHT"])));
            Cmd::new(vec![b("BLMOVE"), src, dst, from, to, timeout(g)])
        }
        3 => {
            let (src, dst) = (g.write_key(Fam::List), g.write_key(Fam::List));
            Cmd::new(vec![b("BRPOPLPUSH"), src, dst, timeout(g)])
        }
        4 => {
            let n = g.range(1, 3);
            let mut a = vec![b("BLMPOP"), timeout(g), n.to_string().into_bytes()];
            for _ in 0..n {
                a.push(g.write_key(Fam::List));
            }
            a.push(b(g.pick(&["LEFT", "RIGHT"])));
            if g.chance(0.5) {
                a.extend([b("COUNT"), g.count()]);
            }
            Cmd::new(a)
        }
        5 | 6 => {
            let mut a = vec![b(g.pick(&["BZPOPMIN", "BZPOPMAX"]))];
            for _ in 0..g.range(1, 3) {
                a.push(if g.chance(0.2) { g.home(Fam::ZLex) } else { g.write_key(Fam::ZSet) });
            }
            a.push(timeout(g));
            Cmd::new(a)
        }
        _ => {
            let n = g.range(1, 3);
            let mut a = vec![b("BZMPOP"), timeout(g), n.to_string().into_bytes()];
            for _ in 0..n {
                a.push(g.write_key(Fam::ZSet));
            }
            a.push(b(g.pick(&["MIN", "MAX"])));
            if g.chance(0.5) {
                a.extend([b("COUNT"), g.count()]);
            }
            Cmd::new(a)
        }
    }
}

/// BLMOVE or BRPOPLPUSH, for inside MULTI (where an empty source answers nil at once).
pub fn moves_in_txn(g: &mut Gen) -> Cmd {
    let (s, d) = (g.write_key(Fam::List), g.write_key(Fam::List));
    if g.chance(0.5) {
        let (x, y) = (g.pick(&["LEFT", "RIGHT"]), g.pick(&["LEFT", "RIGHT", "UP"]));
        Cmd::new(vec![b("BLMOVE"), s, d, b(x), b(y), timeout(g)])
    } else {
        Cmd::new(vec![b("BRPOPLPUSH"), s, d, timeout(g)])
    }
}
