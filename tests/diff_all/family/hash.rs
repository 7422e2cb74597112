//! Hash commands: HSET, HSETNX, HGET, HMSET, HMGET, HGETALL, HKEYS, HVALS, HDEL, HEXISTS, HLEN,
//! HSTRLEN, HINCRBY, HINCRBYFLOAT, HRANDFIELD, HSCAN, with fields and values long enough now and
//! then to turn a listpack into a hash table, and batches that pass the entry limit.

use crate::all::check::Check;
use crate::all::gen::{b, Cmd, Gen};
use crate::all::keyspace::Fam;

fn field(g: &mut Gen) -> Vec<u8> {
    match g.range(0, 60) {
        0 => Vec::new(),
        1 => vec![b'F'; 65],
        2..=4 => format!("n{}", g.range(0, 1000)).into_bytes(),
        5..=8 => g.num(-5, 100),
        _ => format!("f{}", g.range(0, 24)).into_bytes(),
    }
}

fn value(g: &mut Gen) -> Vec<u8> {
    let choices = [
        "0",
        "1",
        "42",
        "-7",
        "9223372036854775807",
        "-9223372036854775808",
        "1.5",
        "3.0e2",
        "abc",
        "",
        " 1",
        "0x10",
        "inf",
        "007",
    ];
    match g.range(0, 40) {
        0 => vec![b'v'; g.range(60, 70) as usize],
        1..=16 => b(g.pick(&choices)),
        _ => format!("v{}", g.range(0, 1000)).into_bytes(),
    }
}

pub fn gen(g: &mut Gen) -> Cmd {
    match g.range(0, 100) {
        0..=14 => {
            let mut a = vec![b(g.pick(&["HSET", "HSET", "HMSET"])), g.write_key(Fam::Hash)];
            for _ in 0..g.range(1, 4) {
                a.push(field(g));
                a.push(value(g));
            }
            if g.chance(0.03) {
                a.pop();
            }
            Cmd::new(a)
        }
        15..=16 => {
            // Grow a hash fast, towards and past the entry limit.
            let mut a = vec![b("HSET"), g.write_key(Fam::Hash)];
            let base = g.range(0, 800);
            for i in 0..g.range(20, 140) {
                a.push(format!("g{}", base + i).into_bytes());
                a.push(i.to_string().into_bytes());
            }
            Cmd::new(a)
        }
        17..=20 => {
            let (k, f, v) = (g.write_key(Fam::Hash), field(g), value(g));
            Cmd::new(vec![b("HSETNX"), k, f, v])
        }
        21..=29 => {
            let (k, f) = (g.key(Fam::Hash), field(g));
            Cmd::new(vec![b("HGET"), k, f])
        }
        30..=33 => {
            let mut a = vec![b("HMGET"), g.key(Fam::Hash)];
            for _ in 0..g.range(1, 5) {
                a.push(field(g));
            }
            Cmd::new(a)
        }
        34..=41 => {
            let mut a = vec![b("HDEL"), g.write_key(Fam::Hash)];
            for _ in 0..g.range(1, 4) {
                a.push(field(g));
            }
            if g.chance(0.1) {
                for i in 0..30 {
                    a.push(format!("f{i}").into_bytes());
                }
            }
            Cmd::new(a)
        }
        42..=44 => {
            let (k, f) = (g.key(Fam::Hash), field(g));
            Cmd::new(vec![b("HEXISTS"), k, f])
        }
        45..=47 => Cmd::new(vec![b("HLEN"), g.key(Fam::Hash)]),
        48..=50 => {
            let (k, f) = (g.key(Fam::Hash), field(g));
            Cmd::new(vec![b("HSTRLEN"), k, f])
        }
        51..=57 => {
            let (k, f, n) = (g.write_key(Fam::Hash), field(g), g.int());
            Cmd::new(vec![b("HINCRBY"), k, f, n])
        }
        58..=63 => {
            let (k, f, n) = (g.write_key(Fam::Hash), field(g), g.float());
            Cmd::new(vec![b("HINCRBYFLOAT"), k, f, n])
        }
        64..=73 => {
            let (name, n) =
                *[("HGETALL", 2), ("HKEYS", 1), ("HVALS", 1)].get(g.range(0, 3) as usize).unwrap_or(&("HGETALL", 2));
            Cmd::new(vec![b(name), g.key(Fam::Hash)]).with(Check::UnorderedUnlessCompact(n))
        }
        74..=81 => randfield(g),
        82..=86 => {
            let mut a = vec![b("HSCAN"), g.key(Fam::Hash), b("0")];
            if g.chance(0.5) {
                a.extend([b("COUNT"), g.num(1, 30)]);
            }
            if g.chance(0.4) {
                a.extend([b("MATCH"), b(g.pick(&["f1*", "*", "g?", "[fg]2*", "n*"]))]);
            }
            if g.chance(0.05) {
                a.push(b(g.pick(&["TYPE", "COUNT"])));
            }
            Cmd::new(a).with(Check::Scan)
        }
        _ => Cmd::new(vec![b("OBJECT"), b("ENCODING"), g.key(Fam::Hash)]),
    }
}

fn randfield(g: &mut Gen) -> Cmd {
    let mut a = vec![b("HRANDFIELD"), g.key(Fam::Hash)];
    match g.range(0, 10) {
        0 => {}
        1 => {
            // Huge counts: errors, or bounded by the hash's size. A huge negative count
            // without WITHVALUES is never sent: Redis would try to build the whole reply.
            a.push(b(g.pick(&["-9223372036854775808", "4611686018427387904", "x"])));
        }
        _ => a.push(g.num(-12, 40)),
    }
    if a.len() == 3 && g.chance(0.5) {
        a.push(b(if g.chance(0.9) { "WITHVALUES" } else { "withvaluesx" }));
    }
    Cmd::new(a).with(Check::RandMember)
}
