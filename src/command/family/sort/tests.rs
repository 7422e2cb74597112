//! Unit tests of SORT and SORT_RO, run through the real command table on a plain store.
//! Expected replies were taken from redis-server 7.0.15.

use super::{
    convert_source, keys_read_by_patterns, sort_keys, sort_ro_keys, source_converted, substitute, uses_key_patterns,
    PatternTarget,
};
use crate::store::events::class;
use crate::testing::harness::Harness;

const NIL: Option<&str> = None;
const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
const SYNTAX: &str = "-ERR syntax error\r\n";
const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";
const SCORES: &str = "-ERR One or more scores can't be converted into double\r\n";

/// An array of bulk strings.
fn bulks(items: &str) -> String {
    let words: Vec<&str> = items.split_whitespace().collect();
    let mut s = format!("*{}\r\n", words.len());
    for w in words {
        s.push_str(&format!("${}\r\n{w}\r\n", w.len()));
    }
    s
}

/// An array of bulk strings and nulls.
fn items(v: &[Option<&str>]) -> String {
    let mut s = format!("*{}\r\n", v.len());
    for i in v {
        match i {
            Some(w) => s.push_str(&format!("${}\r\n{w}\r\n", w.len())),
            None => s.push_str("$-1\r\n"),
        }
    }
    s
}

#[test]
fn lists_numeric_alpha_and_limit() {
    let mut h = Harness::new();
    h.run("rpush l 3 1 2 10 b");
    assert_eq!(h.run("sort l"), SCORES);
    assert_eq!(h.run("sort l alpha"), bulks("1 10 2 3 b"));
    assert_eq!(h.run("sort l limit 0 2 alpha"), bulks("1 10"));
    assert_eq!(h.run("sort l limit 2 9223372036854775807 alpha"), bulks("2 3 b"));
    assert_eq!(h.run("sort l limit 1 9223372036854775807 alpha"), bulks("10 2 3 b"));
    assert_eq!(h.run("sort l limit 9223372036854775807 2 alpha"), "*0\r\n");
    assert_eq!(h.run("sort l limit 9223372036854775807 9223372036854775807 alpha"), "*0\r\n");
    assert_eq!(h.run("sort l limit -9223372036854775808 3 alpha"), bulks("1 10 2"));
    assert_eq!(h.run("sort l limit -5 2 alpha"), bulks("1 10"));
    assert_eq!(h.run("sort l limit 1 -1 alpha desc"), bulks("3 2 10 1"));
    assert_eq!(h.run("sort l limit 2 0 alpha"), "*0\r\n");
    assert_eq!(h.run("sort l by nosort"), bulks("3 1 2 10 b"));
    assert_eq!(h.run("sort l by nosort desc"), bulks("b 10 2 1 3"));
    assert_eq!(h.run("sort l by nosort limit 1 2 desc"), bulks("10 2"));
    assert_eq!(h.run("sort l by nosort limit 1 2"), bulks("1 2"));
    assert_eq!(h.run("sort l by nosort limit 10 2"), "*0\r\n");
    assert_eq!(h.run("sort l by nosort limit 2 9223372036854775807"), bulks("2 10 b"));
    h.run("rpush n 5 -1 0x10 inf 2.5");
    assert_eq!(h.run("sort n"), bulks("-1 2.5 5 0x10 inf"));
    assert_eq!(h.run("sort n desc limit 0 2"), bulks("inf 0x10"));
    assert_eq!(h.run("sort_ro n alpha"), bulks("-1 0x10 2.5 5 inf"));
}

#[test]
fn option_errors_come_before_the_type_check() {
    let mut h = Harness::new();
    h.run("rpush l a");
    h.run("set str x");
    for (line, want) in [
        ("sort l limit 0", SYNTAX),
        ("sort l store", SYNTAX),
        ("sort_ro l store d", SYNTAX),
        ("sort l foo", SYNTAX),
        ("sort l limit a 1", NOT_INT),
        ("sort l limit 0 x alpha", NOT_INT),
        ("sort l get", SYNTAX),
        ("sort l by", SYNTAX),
        ("sort str limit 0", SYNTAX),
        ("sort str", WRONGTYPE),
        ("sort_ro str by nosort", WRONGTYPE),
        ("sort nokey", "*0\r\n"),
        ("sort_ro nokey get #", "*0\r\n"),
    ] {
        assert_eq!(h.run(line), want, "{line}");
    }
    h.run("hset hh a 1");
    assert_eq!(h.run("sort hh"), WRONGTYPE);
    assert_eq!(h.run("sort"), "-ERR wrong number of arguments for 'sort' command\r\n");
}

#[test]
fn by_and_get_patterns() {
    let mut h = Harness::new();
    h.run("rpush l 3 1 2 10 b");
    h.run("set w_3 30");
    h.run("set w_1 100");
    h.run("hset h_b f 5");
    let want = [
        Some("10"),
        NIL,
        NIL,
        Some("2"),
        NIL,
        NIL,
        Some("b"),
        NIL,
        Some("5"),
        Some("3"),
        Some("30"),
        NIL,
        Some("1"),
        Some("100"),
        NIL,
    ];
    assert_eq!(h.run("sort l by w_* get # get w_* get h_*->f"), items(&want));
    assert_eq!(h.run("sort l by h_*->f alpha"), bulks("3 1 2 10 b"));
    assert_eq!(h.run("sort l by w_*-> get w_*->"), items(&[NIL; 5]));
    assert_eq!(h.run("sort l by noexist get nope"), items(&[NIL; 5]));
    // The last BY names the pattern, but a `*`-less BY anywhere means no sorting.
    assert_eq!(h.run("sort l by nosort by w_*"), bulks("3 1 2 10 b"));
    assert_eq!(h.run("sort l by w_* desc limit 0 2"), bulks("1 3"));
    assert_eq!(h.run("sort l by w_* get #"), bulks("10 2 b 3 1"));
}

#[test]
fn store_writes_a_list() {
    let mut h = Harness::new();
    h.cfg.notify_keyspace_events = crate::config::notify::parse("KEA").unwrap_or(0);
    h.run("rpush l 3 1 2 10 b");
    h.run("set w_3 30");
    h.run("set w_1 100");
    h.run("set dst x");
    h.run("expire dst 100");
    h.store.events.clear();
    let dirty = h.store.dirty;
    assert_eq!(h.run("sort l by w_* store dst"), ":5\r\n");
    assert_eq!(h.store.dirty, dirty + 5);
    assert_eq!(h.run("lrange dst 0 -1"), bulks("10 2 b 3 1"));
    assert_eq!(h.encoding("dst"), "quicklist");
    assert_eq!(h.run("ttl dst"), ":-1\r\n");
    assert_eq!(h.run("sort l by w_* get w_* get # store dst"), ":10\r\n");
    assert_eq!(h.run_bytes(&[b"llen", b"dst"]), ":10\r\n");
    assert_eq!(h.run_bytes(&[b"lindex", b"dst", b"0"]), "$0\r\n\r\n");
    assert_eq!(h.run("sort nokey store dst"), ":0\r\n");
    assert_eq!(h.run("exists dst"), ":0\r\n");
    assert_eq!(h.run("sort nokey store dst"), ":0\r\n");
    let ev: Vec<_> = h.store.events.iter().filter(|e| e.key == b"dst").map(|e| (e.class, e.event)).collect();
    assert_eq!(ev, vec![(class::LIST, "sortstore"), (class::LIST, "sortstore"), (class::GENERIC, "del")]);
    // A failing sort stores nothing.
    h.run("rpush bad x");
    assert_eq!(h.run("sort bad store dst"), SCORES);
    assert_eq!(h.run("exists dst"), ":0\r\n");
}

#[test]
fn sets_and_sorted_sets() {
    let mut h = Harness::new();
    h.run("sadd s 5 3 1 10");
    assert_eq!(h.encoding("s"), "intset");
    assert_eq!(h.run("sort s by nosort"), bulks("1 3 5 10"));
    assert_eq!(h.run("sort s by nosort desc"), bulks("1 3 5 10"));
    assert_eq!(h.run("sort s by nosort limit 1 2"), bulks("3 5"));
    assert_eq!(h.run("sort s"), bulks("1 3 5 10"));
    // Into STORE, a set is sorted ALPHA by its bytes.
    assert_eq!(h.run("sort s by nosort store d"), ":4\r\n");
    assert_eq!(h.run("lrange d 0 -1"), bulks("1 10 3 5"));
    h.run("sadd t b a c");
    assert_eq!(h.run("sort t by nosort store d"), ":3\r\n");
    assert_eq!(h.run("lrange d 0 -1"), bulks("a b c"));
    assert_eq!(h.run("sort t by nosort desc store d"), ":3\r\n");
    assert_eq!(h.run("lrange d 0 -1"), bulks("c b a"));
    assert_eq!(h.run("sort t alpha desc"), bulks("c b a"));

    h.run("zadd z 3 c 1 a 2 b 0 x");
    assert_eq!(h.encoding("z"), "listpack");
    assert_eq!(h.run("sort z by nosort"), bulks("x a b c"));
    assert_eq!(h.encoding("z"), "skiplist");
    assert_eq!(h.run("sort z by nosort desc limit 1 2"), bulks("b a"));
    assert_eq!(h.run("sort z by nosort limit 1 2"), bulks("a b"));
    assert_eq!(h.run("sort z by nosort limit 1 -1 desc"), bulks("b a x"));
    assert_eq!(h.run("sort z alpha desc"), bulks("x c b a"));
    assert_eq!(h.run("sort z by nosort store d"), ":4\r\n");
    assert_eq!(h.run("lrange d 0 -1"), bulks("x a b c"));
    assert_eq!(h.run("sort z by nosort limit 9 2 desc"), "*0\r\n");
    assert_eq!(h.run("sort z by nosort limit 3 5 desc"), bulks("x"));
    // Even a sort that fails on a score converts the encoding; a syntax error does not.
    h.run("zadd y 1 a");
    assert_eq!(h.run("sort_ro y bogus"), SYNTAX);
    assert_eq!(h.encoding("y"), "listpack");
    assert_eq!(h.run("sort_ro y"), SCORES);
    assert_eq!(h.encoding("y"), "skiplist");
}

#[test]
fn numbers_are_read_like_strtod() {
    let cases: &[(&[u8], bool)] = &[
        (b"1e-320", false),
        (b"1e-400", false),
        (b"1e400", false),
        (b" 1", true),
        (b"1 ", false),
        (b"", true),
        (b"0x10", true),
        (b"inf", true),
        (b"-Infinity", true),
        (b"nan", false),
        (b"2.2250738585072014e-308", true),
        (b"2.2250738585072011e-308", false),
        (b"4e-324", false),
        (b"1.8e308", false),
        (b"\t5", true),
        (b"0x1p-1074", true),
        (b"7\0junk", true),
    ];
    for (v, ok) in cases {
        let mut h = Harness::new();
        h.run_bytes(&[b"rpush", b"l", b"3", v]);
        let reply = h.run("sort l");
        assert_eq!(!reply.starts_with('-'), *ok, "{:?} gave {reply}", String::from_utf8_lossy(v));
    }
}

#[test]
fn alpha_by_with_limit_orders_ties_as_redis() {
    let mut h = Harness::new();
    for i in 0..60 {
        h.run(&format!("rpush big e{i}"));
        if i % 3 != 0 {
            h.run(&format!("set wt_e{i} {}", (i * 7) % 4));
        }
    }
    let cases = [
        ("limit 5 10", "e21 e0 e24 e42 e27 e30 e33 e36 e54 e6"),
        ("limit 0 20 desc", "e41 e1 e25 e13 e49 e37 e53 e17 e29 e5 e2 e22 e58 e50 e46 e10 e38 e14 e34 e26"),
        (
            "limit 30 25",
            "e23 e7 e11 e19 e31 e35 e43 e47 e55 e59 e26 e2 e22 e46 e14 e50 e10 e58 e34 e38 e49 e41 e25 e13 e29",
        ),
        ("limit 50 10 desc", "e18 e54 e33 e3 e36 e15 e12 e39 e9 e42"),
    ];
    for (opts, want) in cases {
        assert_eq!(h.run(&format!("sort big by wt_* alpha {opts}")), bulks(want), "{opts}");
    }
}

#[test]
fn cluster_mode_refuses_patterns() {
    let mut h = Harness::new();
    h.cfg.cluster_enabled = true;
    h.run("rpush l 1 2");
    assert_eq!(h.run("sort l by w_*"), "-ERR BY option of SORT denied in Cluster mode.\r\n");
    assert_eq!(h.run("sort l by {l}w_*"), "-ERR BY option of SORT denied in Cluster mode.\r\n");
    assert_eq!(h.run("sort l get #"), "-ERR GET option of SORT denied in Cluster mode.\r\n");
    assert_eq!(h.run("sort l get w"), "-ERR GET option of SORT denied in Cluster mode.\r\n");
    assert_eq!(h.run("sort l by nosort"), bulks("1 2"));
    assert_eq!(h.run("sort l desc"), bulks("2 1"));
}

#[test]
fn key_positions() {
    let keys = |line: &str| {
        let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        sort_keys(&args)
    };
    assert_eq!(keys("sort k"), vec![1]);
    assert_eq!(keys("sort k store d get x store e limit 0 1"), vec![1, 7]);
    assert_eq!(keys("sort k store"), vec![1]);
    assert_eq!(keys("sort k get store d"), vec![1]);
    assert_eq!(keys("sort k limit store d x"), vec![1]);
    assert_eq!(keys("sort k STORE get"), vec![1, 3]);
    assert_eq!(sort_ro_keys(&[b"sort_ro", b"k", b"store", b"d"]), vec![1]);
}

#[test]
fn pattern_substitution() {
    let key = |k: &str, f: Option<&'static [u8]>| PatternTarget::Key { key: k.as_bytes().to_vec(), field: f };
    assert_eq!(substitute(b"#", b"e"), PatternTarget::Element);
    assert_eq!(substitute(b"#\0x", b"e"), PatternTarget::Element);
    assert_eq!(substitute(b"##", b"e"), PatternTarget::Nothing);
    assert_eq!(substitute(b"w", b"e"), PatternTarget::Nothing);
    assert_eq!(substitute(b"w\0*", b"e"), PatternTarget::Nothing);
    assert_eq!(substitute(b"w_*", b"e"), key("w_e", None));
    assert_eq!(substitute(b"w_*_*", b"e"), key("w_e_*", None));
    assert_eq!(substitute(b"h_*->f", b"e"), key("h_e", Some(b"f")));
    assert_eq!(substitute(b"h_*x->f->g", b"e"), key("h_ex", Some(b"f->g")));
    assert_eq!(substitute(b"h_*->", b"e"), key("h_e->", None));
    assert_eq!(substitute(b"h->_*", b"e"), key("h->_e", None));
}

#[test]
fn keys_named_by_patterns() {
    let args = |line: &'static str| line.split(' ').map(str::as_bytes).collect::<Vec<&[u8]>>();
    assert!(uses_key_patterns(&args("sort l by w_*")));
    assert!(uses_key_patterns(&args("sort_ro l get h_*->f")));
    assert!(uses_key_patterns(&args("sort l by nosort get # get w_*")));
    assert!(!uses_key_patterns(&args("sort l by nosort by w_*")));
    assert!(!uses_key_patterns(&args("sort l by w get # get x alpha")));
    assert!(!uses_key_patterns(&args("sort l limit 0 1 desc store d")));
    assert!(!uses_key_patterns(&args("sort l by w_* bogus")));

    let mut h = Harness::new();
    h.run("rpush l b a b");
    h.run("sadd s x");
    let mut keys = |line: &'static str| {
        let mut ctx = crate::command::spec::DataCtx {
            store: &mut h.store,
            dbi: 0,
            now_ms: h.now_ms,
            cfg: &h.cfg,
            rng: &mut h.rng,
        };
        keys_read_by_patterns(&mut ctx, &args(line))
    };
    let strs = |v: Vec<Vec<u8>>| v.into_iter().map(|k| String::from_utf8_lossy(&k).into_owned()).collect::<Vec<_>>();
    assert_eq!(strs(keys("sort l by w_* get h_*->f get #")), ["h_a", "h_b", "w_a", "w_b"]);
    assert_eq!(strs(keys("sort_ro l by nosort get v_*")), ["v_a", "v_b"]);
    assert_eq!(strs(keys("sort s by w_* by nosort store d")), Vec::<String>::new());
    assert_eq!(strs(keys("sort nokey by w_*")), Vec::<String>::new());
    assert_eq!(strs(keys("sort l by w_* limit")), Vec::<String>::new());
}

#[test]
fn a_copy_sorted_elsewhere_converts_the_source() {
    let mut h = Harness::new();
    h.run("zadd z 1 a 2 b");
    h.run("zadd other 1 a");
    h.run("set s x");
    let zset_of = |h: &Harness, k: &str| h.store.dbs[0].peek(k.as_bytes()).map(|e| source_converted(&e.value));
    assert_eq!(zset_of(&h, "z"), Some(false));
    let dirty = h.store.dirty;
    convert_source(&mut h.store, 0, b"z");
    assert_eq!(h.encoding("z"), "skiplist");
    assert_eq!(zset_of(&h, "z"), Some(true));
    assert_eq!(h.store.dirty, dirty, "the conversion is not a write");
    assert_eq!(h.run("zrange z 0 -1 withscores"), bulks("a 1 b 2"));
    // Other keys, types and databases are left alone.
    assert_eq!(h.encoding("other"), "listpack");
    convert_source(&mut h.store, 0, b"s");
    convert_source(&mut h.store, 0, b"missing");
    convert_source(&mut h.store, 99, b"z");
    assert_eq!(zset_of(&h, "s"), Some(false));
}
