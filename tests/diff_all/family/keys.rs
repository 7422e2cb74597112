//! Generic key commands: DEL, UNLINK, EXISTS, TOUCH, TYPE, the EXPIRE and TTL families,
//! PERSIST, RENAME, RENAMENX, COPY (DB, REPLACE), MOVE, SWAPDB, KEYS, SCAN, RANDOMKEY, DBSIZE,
//! OBJECT, rare FLUSHDB/FLUSHALL, and DUMP followed by RESTORE of the other server's payload.
//!
//! Moves and copies follow `keyspace.rs`: a HyperLogLog only moves to a HyperLogLog key, and
//! nothing moves into a lex key except another lex key's all-zero sorted set.

use crate::all::check::Check;
use crate::all::gen::{b, Cmd, Gen};
use crate::all::keyspace::{self, Fam};
use crate::all::vocab::{BAD_INTS, PATTERNS};

pub fn gen(g: &mut Gen) -> Cmd {
    match g.range(0, 100) {
        0..=9 => {
            let name = g.pick(&["DEL", "UNLINK", "EXISTS", "TOUCH", "EXISTS"]);
            let mut a = vec![b(name)];
            for _ in 0..g.range(1, 5) {
                a.push(g.any_key());
            }
            Cmd::new(a)
        }
        10..=14 => Cmd::new(vec![b("TYPE"), g.any_key()]),
        15..=29 => expire(g),
        30..=36 => ttl(g),
        37..=41 => exact_deadline_probe(g),
        42..=44 => Cmd::new(vec![b("PERSIST"), g.any_key()]),
        45..=55 => rename_copy(g),
        56..=58 => {
            let db = g.pick(&["1", "1", "1", "0", "16", "x"]);
            Cmd::new(vec![b("MOVE"), g.any_key(), b(db)])
        }
        59..=62 => {
            let p = b(g.pick(PATTERNS));
            Cmd::new(vec![b("KEYS"), p]).with(Check::Unordered(1))
        }
        63..=66 => scan(g),
        67..=68 => Cmd::new(vec![b("RANDOMKEY")]).with(Check::RandomKey),
        69..=71 => Cmd::new(vec![b("DBSIZE")]),
        72..=85 => object(g),
        86 => {
            // Rare, so big values build up between flushes.
            if g.chance(0.1) {
                let name = g.pick(&["FLUSHDB", "FLUSHALL", "FLUSHDB"]);
                let mut a = vec![b(name)];
                if g.chance(0.5) {
                    a.push(b(g.pick(&["ASYNC", "SYNC", "async", "FOO"])));
                }
                Cmd::new(a)
            } else {
                Cmd::new(vec![b("DBSIZE")])
            }
        }
        87 => {
            if g.chance(0.7) {
                let (x, y) =
                    if g.chance(0.8) { ("0", "1") } else { (g.pick(&["1", "0", "x"]), g.pick(&["0", "16", "-1"])) };
                Cmd::new(vec![b("SWAPDB"), b(x), b(y)])
            } else {
                Cmd::new(vec![b("EXISTS"), g.any_key()])
            }
        }
        _ => {
            // Past deadlines delete at once; wait and touch anyway (gen.rs rules).
            let k = g.any_key();
            let (name, t) = match g.range(0, 4) {
                0 => ("EXPIRE", "0"),
                1 => ("PEXPIRE", "-5"),
                2 => ("EXPIREAT", "1"),
                _ => ("PEXPIREAT", "1000"),
            };
            Cmd::new(vec![b(name), k.clone(), b(t)]).expiring(k)
        }
    }
}

fn expire(g: &mut Gen) -> Cmd {
    let key = g.any_key();
    let name = g.pick(&["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"]);
    let relative = name == "EXPIRE" || name == "PEXPIRE";
    let mut short = false;
    let t = match g.range(0, 10) {
        0..=5 => match name {
            "EXPIRE" => g.rel_s().to_string(),
            "PEXPIRE" => g.rel_ms().to_string(),
            "EXPIREAT" => g.abs_s().to_string(),
            _ => g.abs_ms().to_string(),
        },
        6 => {
            short = true;
            match name {
                "PEXPIRE" => g.range(1, 4).to_string(),
                "PEXPIREAT" => (Gen::now_ms() + 2).to_string(),
                "EXPIREAT" => "1".to_string(),
                _ => "0".to_string(),
            }
        }
        7 => {
            short = true;
            g.pick(&["0", "-1", "-100"]).to_string()
        }
        // Relative forms only get values that overflow (errors): a valid huge relative TTL
        // would not be unique.
        8 if relative => g.pick(&["9223372036854775807", "9223372036854775806"]).to_string(),
        8 => g.pick(&["9223372036854775807", "9223372036854775", "92233720368547758"]).to_string(),
        _ => g.pick(BAD_INTS).to_string(),
    };
    let mut a = vec![b(name), key.clone(), t.into_bytes()];
    let nflags = match g.range(0, 10) {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    };
    for _ in 0..nflags {
        a.push(b(g.pick(&["NX", "XX", "GT", "LT", "nx", "gt", "FOO"])));
    }
    let c = Cmd::new(a);
    if short {
        c.expiring(key)
    } else {
        c
    }
}

fn ttl(g: &mut Gen) -> Cmd {
    let key = g.any_key();
    let (name, tol) = match g.range(0, 4) {
        0 => ("TTL", 3),
        1 => ("PTTL", 3000),
        2 => ("EXPIRETIME", 3),
        _ => ("PEXPIRETIME", 3000),
    };
    Cmd::new(vec![b(name), key]).with(Check::Tolerance(tol))
}

/// An absolute deadline (half-way between relative ones, see `gen.rs`). `txn.rs` pairs one with
/// the EXPIRETIME query that must echo it exactly.
fn exact_deadline_probe(g: &mut Gen) -> Cmd {
    let key = g.any_key();
    let (name, t) = if g.chance(0.5) { ("PEXPIREAT", g.abs_ms()) } else { ("EXPIREAT", g.abs_s()) };
    Cmd::new(vec![b(name), key, t.to_string().into_bytes()])
}

/// A (source, destination) pair that keeps the key rules (see the module header).
pub fn move_pair(g: &mut Gen) -> (Vec<u8>, Vec<u8>) {
    let src = if g.chance(0.05) { b(g.pick(keyspace::MISSING)) } else { g.any_key() };
    let dst = if keyspace::is_hll(&src) {
        g.home(Fam::Hll)
    } else if keyspace::is_zlex(&src) && g.chance(0.5) {
        g.home(Fam::ZLex)
    } else if g.chance(0.03) {
        src.clone()
    } else {
        g.free_key()
    };
    (src, dst)
}

fn rename_copy(g: &mut Gen) -> Cmd {
    let (src, dst) = move_pair(g);
    match g.range(0, 5) {
        0 | 1 => Cmd::new(vec![b("RENAME"), src, dst]),
        2 => Cmd::new(vec![b("RENAMENX"), src, dst]),
        _ => {
            let mut a = vec![b("COPY"), src, dst];
            for _ in 0..g.range(0, 3) {
                match g.range(0, 6) {
                    0..=2 => a.push(b("REPLACE")),
                    3 | 4 => a.extend([b("DB"), b(g.pick(&["0", "1", "1", "16", "-1", "abc"]))]),
                    _ => a.push(b(g.pick(&["DB", "FOO", "replace"]))),
                }
            }
            Cmd::new(a)
        }
    }
}

fn scan(g: &mut Gen) -> Cmd {
    if g.chance(0.1) {
        let cursor = g.pick(&["abc", "18446744073709551616", "1.5", "0x1"]);
        return Cmd::new(vec![b("SCAN"), b(cursor)]);
    }
    let mut a = vec![b("SCAN"), b("0")];
    for _ in 0..g.range(0, 3) {
        match g.range(0, 7) {
            0 | 1 => a.extend([b("MATCH"), b(g.pick(PATTERNS))]),
            2 | 3 => a.extend([b("COUNT"), b(g.pick(&["1", "2", "5", "10", "100"]))]),
            4 => a.extend([b("COUNT"), b(g.pick(&["0", "-1", "abc"]))]),
            5 => {
                a.extend([b("TYPE"), b(g.pick(&["string", "list", "set", "zset", "hash", "stream", "foo", "STRING"]))])
            }
            _ => a.push(b(g.pick(&["MATCH", "COUNT", "TYPE", "FOO"]))),
        }
    }
    Cmd::new(a).with(Check::Scan)
}

fn object(g: &mut Gen) -> Cmd {
    let k = g.any_key();
    match g.range(0, 20) {
        0 => Cmd::new(vec![b("OBJECT"), b(g.pick(&["FOO", "ENCODINGX"])), k]),
        1 => Cmd::new(vec![b("OBJECT"), b("ENCODING")]),
        2 => Cmd::new(vec![b("OBJECT"), b("ENCODING"), k.clone(), k]),
        3 => Cmd::new(vec![b("OBJECT"), b("FREQ"), k]),
        // known difference: OBJECT REFCOUNT follows Redis's object sharing, which tessera only
        // imitates for plain SETs of small integers (a COPY of one is 1 on Redis, shared on
        // tessera; a value queued in MULTI is 2 on Redis, 1 on tessera). Not sent.
        4 => Cmd::new(vec![b("OBJECT"), b("ENCODING"), k]),
        _ => Cmd::new(vec![b("OBJECT"), b(g.pick(&["ENCODING", "encoding", "ENCODING"])), k]),
    }
}

/// DUMP of a key, then each server RESTOREs the other's payload (the runner sends it).
pub fn gen_dump(g: &mut Gen) -> Cmd {
    let (src, dst) = move_pair(g);
    let mut groups: Vec<Vec<Vec<u8>>> = Vec::new();
    let ttl = match g.range(0, 10) {
        0..=5 => b("0"),
        6 | 7 => g.rel_ms().to_string().into_bytes(),
        8 => {
            groups.push(vec![b("ABSTTL")]);
            g.abs_ms().to_string().into_bytes()
        }
        _ => b(g.pick(&["-1", "x"])),
    };
    if g.chance(0.6) {
        groups.push(vec![b("REPLACE")]);
    }
    if g.chance(0.1) {
        groups.push(vec![b("IDLETIME"), b(g.pick(&["10", "-1", "x"]))]);
    }
    if g.chance(0.05) {
        groups.push(vec![b("FREQ"), b("5")]);
    }
    for i in (1..groups.len()).rev() {
        let j = g.range(0, i as i64 + 1) as usize;
        groups.swap(i, j);
    }
    let options = groups.into_iter().flatten().collect();
    Cmd::new(vec![b("DUMP"), src]).with(Check::Dump { dst, ttl, options })
}
