//! Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS (BYTE|BIT), BITOP (across shards),
//! BITFIELD (GET SET INCRBY, OVERFLOW WRAP|SAT|FAIL) and BITFIELD_RO, over strings of a few
//! bytes to a few KB. Offsets stay below 100 000 bits: a write far out would build a string of
//! hundreds of MB. HyperLogLog keys are never written nor BITOP sources (see `keyspace.rs`).

use crate::all::gen::{b, Cmd, Gen};
use crate::all::keyspace::{self, Fam};

fn offset(g: &mut Gen) -> Vec<u8> {
    match g.range(0, 40) {
        0 => b(g.pick(&["-1", "x", "4294967296", "1.5", ""])),
        1..=3 => g.num(1000, 70_000),
        _ => g.num(0, 400),
    }
}

fn range_end(g: &mut Gen) -> Vec<u8> {
    match g.range(0, 12) {
        0 => b(g.pick(&["x", "9223372036854775807", "-9223372036854775808"])),
        1..=3 => g.num(-20, 0),
        _ => g.num(0, 60),
    }
}

fn bf_type(g: &mut Gen) -> Vec<u8> {
    match g.range(0, 20) {
        0 => b(g.pick(&["i0", "u64", "i65", "x8", "u", "I8"])),
        1..=9 => format!("u{}", g.range(1, 64)).into_bytes(),
        _ => format!("i{}", g.range(1, 65)).into_bytes(),
    }
}

fn bf_offset(g: &mut Gen) -> Vec<u8> {
    match g.range(0, 12) {
        0 => b(g.pick(&["-1", "x", "#-1", "4294967296"])),
        1..=3 => format!("#{}", g.range(0, 20)).into_bytes(),
        _ => g.num(0, 300),
    }
}

fn bf_value(g: &mut Gen) -> Vec<u8> {
    match g.range(0, 10) {
        0 => b(g.pick(&["9223372036854775807", "-9223372036854775808", "x", "1.5"])),
        1..=3 => g.num(-300, 300),
        _ => g.num(-10, 10),
    }
}

/// A key a bitmap command may read without copying a HyperLogLog elsewhere.
fn src_key(g: &mut Gen) -> Vec<u8> {
    loop {
        let k = g.key(Fam::Bitmap);
        if !keyspace::is_hll(&k) {
            return k;
        }
    }
}

pub fn gen(g: &mut Gen) -> Cmd {
    match g.range(0, 100) {
        0..=19 => {
            let (k, o) = (g.write_key(Fam::Bitmap), offset(g));
            let bit = b(g.pick(&["1", "0", "1", "2", "x"]));
            Cmd::new(vec![b("SETBIT"), k, o, bit])
        }
        20..=29 => {
            let (k, o) = (g.key(Fam::Bitmap), offset(g));
            Cmd::new(vec![b("GETBIT"), k, o])
        }
        30..=41 => {
            let mut a = vec![b("BITCOUNT"), g.key(Fam::Bitmap)];
            if g.chance(0.7) {
                a.extend([range_end(g), range_end(g)]);
                if g.chance(0.4) {
                    a.push(b(g.pick(&["BYTE", "BIT", "bit", "WORD"])));
                }
            } else if g.chance(0.1) {
                a.push(range_end(g));
            }
            Cmd::new(a)
        }
        42..=53 => {
            let mut a = vec![b("BITPOS"), g.key(Fam::Bitmap), b(g.pick(&["0", "1", "1", "2"]))];
            if g.chance(0.6) {
                a.push(range_end(g));
                if g.chance(0.6) {
                    a.push(range_end(g));
                    if g.chance(0.4) {
                        a.push(b(g.pick(&["BYTE", "BIT", "byte", "WORD"])));
                    }
                }
            }
            Cmd::new(a)
        }
        54..=65 => {
            let op = g.pick(&["AND", "OR", "XOR", "NOT", "and", "NAND"]);
            let mut a = vec![b("BITOP"), b(op), g.write_key(Fam::Bitmap)];
            let n = if op.eq_ignore_ascii_case("not") && g.chance(0.9) { 1 } else { g.range(1, 4) };
            for _ in 0..n {
                a.push(src_key(g));
            }
            Cmd::new(a)
        }
        66..=83 => bitfield(g, false),
        84..=91 => bitfield(g, true),
        92..=95 => {
            // Grow a few KB so BITCOUNT/BITPOS/BITOP see long strings.
            let (k, o) = (g.write_key(Fam::Bitmap), g.num(8000, 40_000));
            Cmd::new(vec![b("SETBIT"), k, o, b("1")])
        }
        _ => Cmd::new(vec![b("OBJECT"), b("ENCODING"), g.key(Fam::Bitmap)]),
    }
}

fn bitfield(g: &mut Gen, read_only: bool) -> Cmd {
    let key = if read_only { g.key(Fam::Bitmap) } else { g.write_key(Fam::Bitmap) };
    let mut a = vec![b(if read_only { "BITFIELD_RO" } else { "BITFIELD" }), key];
    for _ in 0..g.range(0, 4) {
        let op = if read_only {
            if g.chance(0.95) {
                "GET"
            } else {
                g.pick(&["SET", "INCRBY", "OVERFLOW"])
            }
        } else {
            g.pick(&["GET", "SET", "INCRBY", "OVERFLOW", "SET", "INCRBY"])
        };
        match op {
            "GET" => a.extend([b("GET"), bf_type(g), bf_offset(g)]),
            "SET" => a.extend([b("SET"), bf_type(g), bf_offset(g), bf_value(g)]),
            "INCRBY" => a.extend([b("INCRBY"), bf_type(g), bf_offset(g), bf_value(g)]),
            _ => a.extend([b("OVERFLOW"), b(g.pick(&["WRAP", "SAT", "FAIL", "sat", "BOGUS"]))]),
        }
    }
    if g.chance(0.03) {
        a.push(b(g.pick(&["GET", "FOO"])));
    }
    Cmd::new(a)
}
