//! Set commands: SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER, SCARD, SPOP, SRANDMEMBER, SMOVE,
//! SINTER, SINTERCARD, SUNION, SDIFF and their STORE forms, SSCAN. Members are mostly integers
//! (intsets), sometimes strings (hash tables), with batches past `set-max-intset-entries`.

use crate::all::check::Check;
use crate::all::gen::{b, Cmd, Gen};
use crate::all::keyspace::Fam;

fn member(g: &mut Gen) -> Vec<u8> {
    match g.range(0, 100) {
        0..=59 => g.num(0, 40),
        60..=64 => b(g.pick(&["-1", "9223372036854775807", "-9223372036854775808", "70000", "4294967296"])),
        65..=68 => b(g.pick(&["007", "1.0", " 1", "+1", ""])),
        69..=71 => vec![b'S'; 70],
        _ => format!("m{}", g.range(0, 20)).into_bytes(),
    }
}

fn keys(g: &mut Gen, a: &mut Vec<Vec<u8>>, min: i64, max: i64) {
    for _ in 0..g.range(min, max) {
        a.push(g.key(Fam::Set));
    }
}

pub fn gen(g: &mut Gen) -> Cmd {
    match g.range(0, 100) {
        0..=16 => {
            let mut a = vec![b("SADD"), g.write_key(Fam::Set)];
            for _ in 0..g.range(1, 5) {
                a.push(member(g));
            }
            Cmd::new(a)
        }
        17..=18 => {
            // A large batch of integers: crosses set-max-intset-entries.
            let mut a = vec![b("SADD"), g.write_key(Fam::Set)];
            let base = g.range(0, 1000);
            for i in 0..g.range(20, 600) {
                a.push((base + i * 3).to_string().into_bytes());
            }
            Cmd::new(a)
        }
        19..=25 => {
            let mut a = vec![b("SREM"), g.write_key(Fam::Set)];
            for _ in 0..g.range(1, 4) {
                a.push(member(g));
            }
            Cmd::new(a)
        }
        26..=32 => Cmd::new(vec![b("SMEMBERS"), g.key(Fam::Set)]).with(Check::UnorderedUnlessCompact(1)),
        33..=37 => {
            let (k, m) = (g.key(Fam::Set), member(g));
            Cmd::new(vec![b("SISMEMBER"), k, m])
        }
        38..=40 => {
            let mut a = vec![b("SMISMEMBER"), g.key(Fam::Set)];
            for _ in 0..g.range(1, 4) {
                a.push(member(g));
            }
            Cmd::new(a)
        }
        41..=43 => Cmd::new(vec![b("SCARD"), g.key(Fam::Set)]),
        44..=49 => {
            let mut a = vec![b("SPOP"), g.write_key(Fam::Set)];
            if g.chance(0.6) {
                // Counts that leave at most a fifth of the set behind take Redis's rebuild path
                // (the remaining members become a new set, an intset when all are integers).
                a.push(b(g.pick(&["1", "2", "3", "4", "5", "6", "8", "12", "0", "-1", "x", "100000"])));
            }
            Cmd::new(a).with(Check::Spop)
        }
        50..=55 => {
            let mut a = vec![b("SRANDMEMBER"), g.key(Fam::Set)];
            if g.chance(0.7) {
                a.push(b(g.pick(&["1", "2", "3", "5", "10", "0", "-1", "-5", "-20", "x", "1000"])));
            }
            Cmd::new(a).with(Check::RandMember)
        }
        56..=60 => {
            let (s, d, m) = (g.write_key(Fam::Set), g.write_key(Fam::Set), member(g));
            Cmd::new(vec![b("SMOVE"), s, d, m])
        }
        61..=72 => {
            let name = g.pick(&["SINTER", "SUNION", "SDIFF"]);
            let mut a = vec![b(name)];
            keys(g, &mut a, 1, 4);
            Cmd::new(a).with(Check::Unordered(1))
        }
        73..=76 => {
            let n = g.range(1, 4);
            let mut a = vec![b("SINTERCARD")];
            a.push(if g.chance(0.05) { b(g.pick(&["0", "-1", "x", "9"])) } else { n.to_string().into_bytes() });
            for _ in 0..n {
                a.push(g.key(Fam::Set));
            }
            if g.chance(0.5) {
                a.extend([b("LIMIT"), b(g.pick(&["0", "1", "3", "-1", "x"]))]);
            }
            Cmd::new(a)
        }
        77..=86 => {
            let name = g.pick(&["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]);
            let mut a = vec![b(name), g.write_key(Fam::Set)];
            keys(g, &mut a, 1, 4);
            Cmd::new(a)
        }
        87..=91 => {
            let mut a = vec![b("SSCAN"), g.key(Fam::Set), b("0")];
            if g.chance(0.5) {
                a.extend([b("COUNT"), g.num(1, 30)]);
            }
            if g.chance(0.4) {
                a.extend([b("MATCH"), b(g.pick(&["1*", "*", "m?", "[0-3]*", "S*"]))]);
            }
            Cmd::new(a).with(Check::Scan)
        }
        _ => Cmd::new(vec![b("OBJECT"), b("ENCODING"), g.key(Fam::Set)]),
    }
}
