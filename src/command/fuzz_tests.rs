//! Argument fuzzing of every data command: random argument lists (keys of every type, numbers
//! at the edges, option words, raw bytes) run through the real table on a store holding one
//! key of each type. Nothing may panic, and every reply must be one well-formed RESP value (a
//! blocking command that would wait writes nothing, which is also allowed).

use proptest::prelude::*;

use crate::command::spec::{CommandSpec, Exec};
use crate::command::table;
use crate::testing::harness::Harness;

/// Words that steer parsers into their branches.
const WORDS: &[&str] = &[
    "k1",
    "k2",
    "str",
    "int",
    "list",
    "hash",
    "set",
    "iset",
    "zset",
    "geo",
    "hll",
    "stream",
    "nokey",
    "{t}a",
    "0",
    "1",
    "-1",
    "2",
    "3",
    "100",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
    "1.5",
    "-0.5",
    "inf",
    "-inf",
    "+inf",
    "nan",
    "1e400",
    "1e-400",
    "",
    " ",
    "EX",
    "PX",
    "EXAT",
    "PXAT",
    "NX",
    "XX",
    "GT",
    "LT",
    "CH",
    "INCR",
    "GET",
    "KEEPTTL",
    "PERSIST",
    "COUNT",
    "MATCH",
    "*",
    "TYPE",
    "LIMIT",
    "BYSCORE",
    "BYLEX",
    "REV",
    "WITHSCORES",
    "STORE",
    "STOREDIST",
    "BY",
    "#",
    "ASC",
    "DESC",
    "ALPHA",
    "LEFT",
    "RIGHT",
    "BEFORE",
    "AFTER",
    "MIN",
    "MAX",
    "RANK",
    "MAXLEN",
    "STREAMS",
    "GROUP",
    "BLOCK",
    "$",
    ">",
    "-",
    "+",
    "[a",
    "(1",
    "(a",
    "~",
    "=",
    "MINID",
    "IDLE",
    "TIME",
    "JUSTID",
    "FORCE",
    "LASTID",
    "RETRYCOUNT",
    "WEIGHTS",
    "AGGREGATE",
    "SUM",
    "BIT",
    "BYTE",
    "AND",
    "OR",
    "XOR",
    "NOT",
    "OVERFLOW",
    "WRAP",
    "SAT",
    "FAIL",
    "i8",
    "u4",
    "i64",
    "u63",
    "u64",
    "#1",
    "WITHCOORD",
    "WITHDIST",
    "WITHHASH",
    "ANY",
    "FROMLONLAT",
    "FROMMEMBER",
    "BYRADIUS",
    "BYBOX",
    "m",
    "km",
    "ft",
    "mi",
    "SAMPLES",
    "REPLACE",
    "ABSTTL",
    "IDLETIME",
    "FREQ",
    "MKSTREAM",
    "ENTRIESREAD",
    "NOACK",
    "FULL",
    "DB",
    "0-1",
    "1-0",
    "5-*",
    "ENCODING",
    "MEMBERS",
    "IDX",
    "LEN",
    "MINMATCHLEN",
    "WITHMATCHLEN",
    "NOMKSTREAM",
    "CREATE",
    "SETID",
];

/// Commands too slow for a fuzz loop.
fn skipped(name: &str) -> bool {
    matches!(name, "pfselftest")
}

fn data_commands() -> Vec<&'static CommandSpec> {
    let mut v: Vec<&'static CommandSpec> = Vec::new();
    for c in table::all() {
        match c.exec {
            Exec::Data(_) if !skipped(c.name) => v.push(c),
            Exec::Container => v.extend(c.subcommands.iter().filter(|s| matches!(s.exec, Exec::Data(_)))),
            _ => {}
        }
    }
    v.sort_by_key(|c| c.name);
    v
}

fn loaded() -> Harness {
    let mut h = Harness::new();
    for line in [
        "set str hello",
        "set int 12345",
        "rpush list a b c 1 2 3",
        "hset hash f1 v1 f2 2",
        "sadd set a b c",
        "sadd iset 1 2 3",
        "zadd zset 1 a 2 b 3 c",
        "geoadd geo 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
        "pfadd hll a b c",
        "xadd stream 1-1 f v",
        "xgroup create stream g 0",
    ] {
        h.run(line);
    }
    h
}

/// One complete RESP value at the start of `r`, covering all of it.
fn well_formed(r: &[u8]) -> bool {
    fn value(r: &[u8], mut pos: usize) -> Option<usize> {
        let kind = *r.get(pos)?;
        let nl = pos + r[pos..].windows(2).position(|w| w == b"\r\n")?;
        let head = std::str::from_utf8(&r[pos + 1..nl]).ok()?;
        pos = nl + 2;
        match kind {
            b'+' | b'-' | b':' | b',' | b'#' | b'_' | b'(' => Some(pos),
            b'$' | b'=' | b'!' => {
                let n: i64 = head.parse().ok()?;
                if n < 0 {
                    return Some(pos);
                }
                let end = pos + n as usize;
                (r.get(end..end + 2)? == b"\r\n").then_some(end + 2)
            }
            b'*' | b'~' | b'>' | b'%' => {
                let n: i64 = head.parse().ok()?;
                let items = if kind == b'%' { n * 2 } else { n };
                for _ in 0..items.max(0) {
                    pos = value(r, pos)?;
                }
                Some(pos)
            }
            _ => None,
        }
    }
    r.is_empty() || value(r, 0) == Some(r.len())
}

fn arg() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => proptest::sample::select(WORDS).prop_map(|w| w.as_bytes().to_vec()),
        1 => proptest::collection::vec(any::<u8>(), 0..12),
        1 => any::<i64>().prop_map(|n| n.to_string().into_bytes()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]
    #[test]
    fn data_commands_never_panic(pick in any::<prop::sample::Index>(), args in proptest::collection::vec(arg(), 0..9), resp3 in any::<bool>()) {
        let cmds = data_commands();
        let spec = cmds[pick.index(cmds.len())];
        let mut argv: Vec<Vec<u8>> = spec.name.split('|').map(|p| p.as_bytes().to_vec()).collect();
        argv.extend(args);
        let mut h = loaded();
        h.resp3 = resp3;
        let refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
        let reply = h.run_raw(&refs);
        prop_assert!(well_formed(&reply), "{:?} -> {:?}", argv.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect::<Vec<_>>(), String::from_utf8_lossy(&reply));
    }
}
