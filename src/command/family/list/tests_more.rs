//! More list tests: RESP3 shapes, counters (dirty, hits/misses), expiry, encodings, big lists
//! spanning many nodes, key positions, and the cores the blocking commands reuse.

use super::tests::{Harness, NOW_MS};
use super::{lmpop_keys, move_element, pop_first_nonempty, End};
use crate::command::spec::DataCtx;

#[test]
fn resp3_null_shapes() {
    let mut h = Harness::new();
    h.resp3 = true;
    assert_eq!(h.run("LPOP k"), "_\r\n");
    assert_eq!(h.run("LPOP k 2"), "_\r\n");
    assert_eq!(h.run("LPOP k 0"), "_\r\n");
    assert_eq!(h.run("LINDEX k 0"), "_\r\n");
    assert_eq!(h.run("LPOS k a"), "_\r\n");
    assert_eq!(h.run("LPOS k a COUNT 1"), "*0\r\n");
    assert_eq!(h.run("LMPOP 1 k LEFT"), "_\r\n");
    assert_eq!(h.run("LMOVE k d LEFT LEFT"), "_\r\n");
    assert_eq!(h.run("RPUSH k a"), ":1\r\n");
    assert_eq!(h.run("LPOP k 0"), "*0\r\n");
    assert_eq!(h.run("LINDEX k 3"), "_\r\n");
    assert_eq!(h.run("LMPOP 1 k LEFT"), "*2\r\n$1\r\nk\r\n*1\r\n$1\r\na\r\n");
}

#[test]
fn dirty_and_keyspace_counters() {
    let mut h = Harness::new();
    h.run("RPUSH k a b c d");
    assert_eq!(h.store.dirty, 4);
    h.run("LPOP k 2");
    assert_eq!(h.store.dirty, 6);
    h.run("LPOP k 0");
    h.run("LTRIM k 0 -1");
    h.run("LREM k 0 zz");
    h.run("LINSERT k before zz x");
    assert_eq!(h.store.dirty, 6, "no-op writes do not count");
    h.run("LTRIM k 1 1");
    assert_eq!(h.store.dirty, 7);
    h.run("LSET k 0 q");
    h.run("LMOVE k k LEFT RIGHT");
    assert_eq!(h.store.dirty, 9);
    let (hits, misses) = (h.store.keyspace_hits, h.store.keyspace_misses);
    h.run("LLEN k");
    h.run("LRANGE nokey 0 1");
    h.run("LPOS nokey a");
    assert_eq!((h.store.keyspace_hits, h.store.keyspace_misses), (hits + 1, misses + 2));
    h.run("LPUSH nokey a");
    h.run("LPOP other");
    assert_eq!((h.store.keyspace_hits, h.store.keyspace_misses), (hits + 1, misses + 2), "writes count nothing");
}

#[test]
fn expired_lists_are_gone() {
    let mut h = Harness::new();
    h.run("RPUSH k a b");
    assert_eq!(h.run("PEXPIRE k 100"), ":1\r\n");
    h.now_ms = NOW_MS + 100;
    assert_eq!(h.run("LLEN k"), ":0\r\n");
    assert_eq!(h.run("RPUSHX k a"), ":0\r\n");
    assert_eq!(h.run("LPUSH k z"), ":1\r\n");
    assert_eq!(h.run("PTTL k"), ":-1\r\n");
}

#[test]
fn ttl_survives_edits_and_moves_keep_no_ttl() {
    let mut h = Harness::new();
    h.run("RPUSH k a b c");
    h.run("PEXPIRE k 100000");
    h.run("LPOP k");
    h.run("LSET k 0 x");
    h.run("LMOVE k d LEFT LEFT");
    assert_eq!(h.run("PTTL k"), ":100000\r\n");
    assert_eq!(h.run("PTTL d"), ":-1\r\n");
}

#[test]
fn encoding_is_always_quicklist() {
    let mut h = Harness::new();
    h.run("RPUSH k a");
    assert_eq!(h.run("OBJECT ENCODING k"), "$9\r\nquicklist\r\n");
    assert_eq!(h.run("TYPE k"), "+list\r\n");
}

/// A list many nodes long behaves like a deque under every command.
#[test]
fn big_lists_across_nodes() {
    let mut h = Harness::new();
    h.cfg.list_max_listpack_size = 3;
    let mut model: std::collections::VecDeque<String> = Default::default();
    for i in 0..200 {
        h.run(&format!("RPUSH k e{i}"));
        model.push_back(format!("e{i}"));
    }
    for i in 0..50 {
        h.run(&format!("LPUSH k f{i}"));
        model.push_front(format!("f{i}"));
    }
    let bulk = |s: &str| format!("${}\r\n{}\r\n", s.len(), s);
    assert_eq!(h.run("LINDEX k 125"), bulk(&model[125]));
    assert_eq!(h.run("LINDEX k -77"), bulk(&model[model.len() - 77]));
    assert_eq!(h.run("LSET k 130 mid"), "+OK\r\n");
    model[130] = "mid".into();
    assert_eq!(h.run("LINSERT k AFTER e100 ins"), ":251\r\n");
    let at = model.iter().position(|v| v == "e100").map_or(0, |p| p + 1);
    model.insert(at, "ins".into());
    let range = h.run("LRANGE k 100 140");
    let want: String = model.iter().skip(100).take(41).map(|s| bulk(s)).collect();
    assert_eq!(range, format!("*41\r\n{want}"));
    assert_eq!(h.run("LTRIM k 10 -10"), "+OK\r\n");
    model.drain(..10);
    model.truncate(model.len() - 9);
    assert_eq!(h.run("LLEN k"), format!(":{}\r\n", model.len()));
    assert_eq!(h.run("LPOS k mid"), format!(":{}\r\n", model.iter().position(|v| v == "mid").unwrap_or(0)));
    let all = h.run("LRANGE k 0 -1");
    let want: String = model.iter().map(|s| bulk(s)).collect();
    assert_eq!(all, format!("*{}\r\n{want}", model.len()));
}

#[test]
fn lmpop_key_positions() {
    fn a<'a>(v: &[&'a str]) -> Vec<&'a [u8]> {
        v.iter().map(|s| s.as_bytes()).collect()
    }
    assert_eq!(lmpop_keys(&a(&["lmpop", "2", "x", "y", "left"])), vec![2, 3]);
    assert_eq!(lmpop_keys(&a(&["lmpop", "2", "x", "y"])), vec![2, 3]);
    assert!(lmpop_keys(&a(&["lmpop", "3", "x", "left"])).is_empty());
    assert!(lmpop_keys(&a(&["lmpop", "0", "x", "left"])).is_empty());
    assert!(lmpop_keys(&a(&["lmpop", "-1", "x", "left"])).is_empty());
    assert!(lmpop_keys(&a(&["lmpop", "x", "x", "left"])).is_empty());
    assert_eq!(super::blmpop_keys(&a(&["blmpop", "0", "1", "x", "left"])), vec![3]);
}

#[test]
fn blocking_cores() {
    let mut h = Harness::new();
    h.run("RPUSH b 1 2 3");
    h.run("SET s v");
    let mut ctx = DataCtx { store: &mut h.store, dbi: 0, now_ms: h.now_ms, cfg: &h.cfg, rng: &mut h.rng };
    let keys: [&[u8]; 2] = [b"a", b"b"];
    let got = pop_first_nonempty(&mut ctx, &keys, End::Right, 2);
    assert_eq!(got, Ok(Some((1, vec![b"3".to_vec(), b"2".to_vec()]))));
    let keys: [&[u8]; 3] = [b"a", b"s", b"b"];
    assert!(pop_first_nonempty(&mut ctx, &keys, End::Left, 1).is_err());
    assert_eq!(move_element(&mut ctx, b"b", b"c", End::Left, End::Left), Ok(Some(b"1".to_vec())));
    assert_eq!(move_element(&mut ctx, b"b", b"c", End::Left, End::Left), Ok(None));
    assert!(move_element(&mut ctx, b"c", b"s", End::Left, End::Left).is_err());
    let keys: [&[u8]; 1] = [b"b"];
    assert_eq!(pop_first_nonempty(&mut ctx, &keys, End::Left, 1), Ok(None));
}

#[test]
fn option_words_stop_at_nul() {
    let mut h = Harness::new();
    h.run("RPUSH k a b");
    assert_eq!(h.run_bytes(&[b"LMOVE", b"k", b"d", b"left\0x", b"RIGHT"]), "$1\r\na\r\n");
    assert_eq!(h.run_bytes(&[b"LINSERT", b"k", b"before\0", b"b", b"z"]), ":2\r\n");
}

#[test]
fn arity_errors() {
    let mut h = Harness::new();
    for (cmd, name) in [
        ("LPUSH k", "lpush"),
        ("LLEN", "llen"),
        ("LRANGE k 0", "lrange"),
        ("LINSERT k before a", "linsert"),
        ("LPOS k", "lpos"),
        ("LMOVE a b left", "lmove"),
        ("RPOPLPUSH a", "rpoplpush"),
        ("LMPOP 1 a", "lmpop"),
        ("RPOP", "rpop"),
        ("RPOP a 1 2", "rpop"),
    ] {
        assert_eq!(h.run(cmd), format!("-ERR wrong number of arguments for '{name}' command\r\n"), "{cmd}");
    }
}
