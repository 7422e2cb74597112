//! String commands: SET with every option, GET, SETNX, SETEX, PSETEX, MGET, MSET, MSETNX,
//! GETSET, GETDEL, GETEX, APPEND, STRLEN, the INCR family, GETRANGE, SUBSTR, SETRANGE, LCS.
//! Values cross the int/embstr/raw encodings both ways. Commands that edit a string's bytes
//! never target HyperLogLog keys (see `keyspace.rs`).

use crate::all::check::Check;
use crate::all::gen::{args, b, Cmd, Gen};
use crate::all::keyspace::Fam;
use crate::all::vocab::{long_value, BAD_INTS};

pub fn gen(g: &mut Gen) -> Cmd {
    match g.range(0, 100) {
        0..=14 => set(g),
        15..=24 => Cmd::new(vec![b("GET"), g.key(Fam::Str)]),
        25..=27 => {
            let (k, v) = (g.write_key(Fam::Str), g.value());
            Cmd::new(vec![b("SETNX"), k, v])
        }
        28..=31 => setex(g),
        32..=35 => {
            let mut a = vec![b("MGET")];
            for _ in 0..g.range(1, 6) {
                a.push(g.key(Fam::Str));
            }
            Cmd::new(a)
        }
        36..=40 => mset(g),
        41..=42 => {
            let (k, v) = (g.write_key(Fam::Str), g.value());
            Cmd::new(vec![b("GETSET"), k, v])
        }
        43..=44 => Cmd::new(vec![b("GETDEL"), g.write_key(Fam::Str)]),
        45..=48 => getex(g),
        49..=53 => {
            let (k, v) = (g.write_key(Fam::Str), g.value());
            Cmd::new(vec![b("APPEND"), k, v])
        }
        54..=56 => Cmd::new(vec![b("STRLEN"), g.key(Fam::Str)]),
        57..=68 => incr(g),
        69..=74 => {
            let name = g.pick(&["GETRANGE", "SUBSTR", "GETRANGE"]);
            let (k, s, e) = (g.key(Fam::Str), range_index(g), range_index(g));
            Cmd::new(vec![b(name), k, s, e])
        }
        75..=79 => setrange(g),
        80..=83 => lcs(g),
        84..=90 => {
            // Integer values so INCR & co. mostly succeed; both sides of the shared range.
            let k = g.write_key(Fam::Str);
            let v = g.num(-1000, 100_000);
            Cmd::new(vec![b("SET"), k, v])
        }
        91..=93 => {
            let k = g.write_key(Fam::Str);
            let v = long_value(g.range(40, 50) as usize, g.range(0, 26) as u8);
            Cmd::new(vec![b("SET"), k, v])
        }
        _ => {
            let k = g.key(Fam::Str);
            let name = g.pick(&["gEt", "Strlen", "getrange"]);
            if name == "getrange" {
                Cmd::new(vec![b(name), k, b("0"), b("-1")])
            } else {
                Cmd::new(vec![b(name), k])
            }
        }
    }
}

/// Expiry option for SET / GETEX: (words, whether the deadline is short or past).
pub fn expiry_option(g: &mut Gen) -> (Vec<Vec<u8>>, bool) {
    let (name, val, short) = match g.range(0, 100) {
        0..=24 => ("EX", g.rel_s().to_string(), false),
        25..=39 => ("PX", g.rel_ms().to_string(), false),
        40..=49 => ("EXAT", g.abs_s().to_string(), false),
        50..=59 => ("PXAT", g.abs_ms().to_string(), false),
        60..=66 => ("PX", g.range(1, 4).to_string(), true),
        67..=69 => ("EXAT", g.range(1, 1000).to_string(), true),
        70..=72 => ("PXAT", "1".to_string(), true),
        73..=79 => ("EX", g.pick(&["0", "-1", "-100"]).to_string(), false),
        80..=84 => ("PX", g.pick(&["0", "-5"]).to_string(), false),
        85..=92 => (g.pick(&["EX", "PX", "EXAT", "PXAT"]), g.pick(BAD_INTS).to_string(), false),
        93..=96 => (g.pick(&["EX", "PX"]), "9223372036854775807".to_string(), false),
        _ => (
            g.pick(&["EXAT", "PXAT"]),
            g.pick(&["9223372036854775807", "9223372036854775", "92233720368547758"]).to_string(),
            false,
        ),
    };
    (vec![b(name), val.into_bytes()], short)
}

fn set(g: &mut Gen) -> Cmd {
    let key = g.write_key(Fam::Str);
    let mut a = vec![b("SET"), key.clone(), g.value()];
    let mut short = false;
    for _ in 0..g.range(0, 4) {
        match g.range(0, 10) {
            0 => a.push(b("NX")),
            1 => a.push(b("XX")),
            2 | 3 => a.push(b("GET")),
            4 => a.push(b("KEEPTTL")),
            5 => a.push(b(g.pick(&["nx", "Get", "keepttl"]))),
            6 => a.push(b(g.pick(&["FOO", "EX", "", "XXX"]))),
            _ => {
                let (opt, s) = expiry_option(g);
                short |= s;
                a.extend(opt);
            }
        }
    }
    let c = Cmd::new(a);
    if short {
        c.expiring(key)
    } else {
        c
    }
}

fn setex(g: &mut Gen) -> Cmd {
    let key = g.write_key(Fam::Str);
    let ms = g.chance(0.5);
    let name = if ms { "PSETEX" } else { "SETEX" };
    let (t, short) = match g.range(0, 10) {
        0..=5 => (if ms { g.rel_ms() } else { g.rel_s() }.to_string(), false),
        6 if ms => (g.range(1, 4).to_string(), true),
        7 => (g.pick(&["0", "-1", "9223372036854775807"]).to_string(), false),
        _ => (g.pick(BAD_INTS).to_string(), false),
    };
    let v = g.value();
    let c = Cmd::new(vec![b(name), key.clone(), t.into_bytes(), v]);
    if short {
        c.expiring(key)
    } else {
        c
    }
}

fn mset(g: &mut Gen) -> Cmd {
    let name = g.pick(&["MSET", "MSET", "MSETNX"]);
    let mut a = vec![b(name)];
    for _ in 0..g.range(1, 5) {
        a.push(g.write_key(Fam::Str));
        a.push(g.value());
    }
    if g.chance(0.08) {
        a.pop();
    }
    Cmd::new(a)
}

fn getex(g: &mut Gen) -> Cmd {
    let key = g.write_key(Fam::Str);
    let mut a = vec![b("GETEX"), key.clone()];
    let mut short = false;
    match g.range(0, 10) {
        0 => {}
        1 => a.push(b("PERSIST")),
        2 => a.extend([b("PERSIST"), b("EX"), b("10")]),
        3 => a.push(b(g.pick(&["EX", "FOO", "PX", "KEEPTTL"]))),
        _ => {
            let (opt, s) = expiry_option(g);
            short |= s;
            a.extend(opt);
        }
    }
    let c = Cmd::new(a);
    if short {
        c.expiring(key)
    } else {
        c
    }
}

fn incr(g: &mut Gen) -> Cmd {
    let key = g.write_key(Fam::Str);
    match g.range(0, 6) {
        0 => Cmd::new(vec![b("INCR"), key]),
        1 => Cmd::new(vec![b("DECR"), key]),
        2 => {
            let n = g.int();
            Cmd::new(vec![b("INCRBY"), key, n])
        }
        3 => {
            let n = g.int();
            Cmd::new(vec![b("DECRBY"), key, n])
        }
        _ => {
            let f = g.float();
            Cmd::new(vec![b("INCRBYFLOAT"), key, f])
        }
    }
}

fn range_index(g: &mut Gen) -> Vec<u8> {
    match g.range(0, 10) {
        0 => b(g.pick(&["9223372036854775807", "-9223372036854775808", "abc", ""])),
        1..=3 => g.num(-100, 0),
        _ => g.num(0, 120),
    }
}

fn setrange(g: &mut Gen) -> Cmd {
    let key = g.write_key(Fam::Str);
    let (off, val) = match g.range(0, 10) {
        0 => (b("-1"), g.value()),
        1 => (b("536870912"), b("x")),
        // A huge offset with an empty value writes nothing (it must not allocate 512 MB).
        2 => (b(g.pick(&["536870911", "100000"])), Vec::new()),
        3 => (b(g.pick(&["abc", "1.5", ""])), b("x")),
        4 => (g.num(100, 3000), g.value()),
        _ => (g.num(0, 60), g.value()),
    };
    Cmd::new(vec![b("SETRANGE"), key, off, val])
}

fn lcs(g: &mut Gen) -> Cmd {
    let mut a = vec![b("LCS"), g.key(Fam::Str), g.key(Fam::Str)];
    for _ in 0..g.range(0, 4) {
        match g.range(0, 7) {
            0 => a.push(b("LEN")),
            1 | 2 => a.push(b("IDX")),
            3 => a.extend(args(&["MINMATCHLEN", g.pick(&["0", "1", "2", "4", "-1", "abc"])])),
            4 => a.push(b("WITHMATCHLEN")),
            5 => a.push(b(g.pick(&["MINMATCHLEN", "FOO", "len"]))),
            _ => a.push(b("idx")),
        }
    }
    Cmd::new(a).with(Check::Exact)
}
