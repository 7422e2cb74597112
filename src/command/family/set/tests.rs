//! Unit tests of the set family, run through the shared data-command harness (a plain `Store`,
//! a fixed clock).
//! Replies are compared as raw RESP bytes, so shapes and error texts are checked exactly.
//! Expected replies were taken from redis-server 7.0.15.

use super::COMMANDS;
use crate::store::Value;

pub(super) use crate::testing::harness::NOW_MS;
pub(super) const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

pub(super) use crate::testing::harness::Harness;

/// Every set in db 0 passes its encoding invariants.
pub(super) fn check_sets(h: &Harness, keys: &[&str]) {
    for k in keys {
        if let Some(Value::Set(s)) = h.store.dbs[0].peek(k.as_bytes()).map(|e| &e.value) {
            assert!(!s.is_empty(), "empty set kept under {k}");
            s.assert_valid();
        }
    }
}

/// A RESP reply of bulk strings under `head` (`*n` / `~n`).
pub(super) fn bulks(head: char, items: &[&str]) -> String {
    let mut s = format!("{head}{}\r\n", items.len());
    for i in items {
        s.push_str(&format!("${}\r\n{}\r\n", i.len(), i));
    }
    s
}

/// The bulk strings of an array/set reply, sorted (for replies whose order is unspecified).
pub(super) fn members_sorted(reply: &str) -> Vec<String> {
    let mut v = members(reply);
    v.sort();
    v
}

pub(super) fn members(reply: &str) -> Vec<String> {
    let lines: Vec<&str> = reply.split("\r\n").collect();
    lines.iter().skip(1).filter(|l| !l.starts_with('$') && !l.is_empty()).map(|s| s.to_string()).collect()
}

#[test]
fn sadd_srem_scard_and_encodings() {
    let mut h = Harness::new();
    assert_eq!(h.run("SADD s 3 1 2"), ":3\r\n");
    assert_eq!(h.encoding("s"), "intset");
    assert_eq!(h.run("SMEMBERS s"), bulks('*', &["1", "2", "3"]));
    assert_eq!(h.run("SADD s 3 4"), ":1\r\n");
    assert_eq!(h.run("SADD s 5 a"), ":2\r\n");
    assert_eq!(h.encoding("s"), "hashtable");
    assert_eq!(h.run("SCARD s"), ":6\r\n");
    assert_eq!(h.run("SREM s a 1 nope"), ":2\r\n");
    // Never back to intset.
    assert_eq!(h.encoding("s"), "hashtable");
    assert_eq!(h.run("SREM s 2 3 4 5 6"), ":4\r\n");
    assert!(!h.exists("s"), "an emptied set is deleted");
    assert_eq!(h.run("SREM s 1"), ":0\r\n");
    assert_eq!(h.run("SCARD s"), ":0\r\n");
    // The first member decides the encoding of a new set.
    assert_eq!(h.run("SADD t x 1"), ":2\r\n");
    assert_eq!(h.encoding("t"), "hashtable");
    assert_eq!(h.run("SADD u 007"), ":1\r\n");
    assert_eq!(h.encoding("u"), "hashtable");
    assert_eq!(h.run("SADD v -0"), ":1\r\n");
    assert_eq!(h.encoding("v"), "hashtable");
    check_sets(&h, &["s", "t", "u", "v"]);
}

#[test]
fn intset_converts_past_max_entries() {
    let mut h = Harness::new();
    h.cfg.set_max_intset_entries = 4;
    assert_eq!(h.run("SADD s 1 2 3 4"), ":4\r\n");
    assert_eq!(h.encoding("s"), "intset");
    assert_eq!(h.run("SADD s 5"), ":1\r\n");
    assert_eq!(h.encoding("s"), "hashtable");
    h.cfg.set_max_intset_entries = 512;
    let mut args: Vec<Vec<u8>> = vec![b"SADD".to_vec(), b"big".to_vec()];
    args.extend((0..512).map(|i: i64| (i * 1000 - 70_000).to_string().into_bytes()));
    let argv: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
    assert_eq!(h.run_bytes(&argv), ":512\r\n");
    assert_eq!(h.encoding("big"), "intset");
    assert_eq!(h.run("SADD big 1"), ":1\r\n");
    assert_eq!(h.encoding("big"), "hashtable");
    assert_eq!(h.run("SCARD big"), ":513\r\n");
    check_sets(&h, &["s", "big"]);
}

#[test]
fn membership() {
    let mut h = Harness::new();
    h.run("SADD i 10 -5 7");
    h.run("SADD h a b 7");
    assert_eq!(h.run("SISMEMBER i 7"), ":1\r\n");
    assert_eq!(h.run("SISMEMBER i 07"), ":0\r\n");
    assert_eq!(h.run("SISMEMBER h 7"), ":1\r\n");
    assert_eq!(h.run("SISMEMBER h c"), ":0\r\n");
    assert_eq!(h.run("SISMEMBER nokey a"), ":0\r\n");
    assert_eq!(h.run("SMISMEMBER i 7 8 10"), "*3\r\n:1\r\n:0\r\n:1\r\n");
    assert_eq!(h.run("SMISMEMBER nokey 1"), "*1\r\n:0\r\n");
    h.resp3 = true;
    assert_eq!(h.run("SMISMEMBER h a z"), "*2\r\n:1\r\n:0\r\n");
}

#[test]
fn wrong_type_and_arity() {
    let mut h = Harness::new();
    h.set_string("str", "x");
    for cmd in [
        "SADD str a",
        "SREM str a",
        "SCARD str",
        "SISMEMBER str a",
        "SMISMEMBER str a",
        "SMEMBERS str",
        "SPOP str",
        "SPOP str 0",
        "SRANDMEMBER str",
        "SRANDMEMBER str 0",
        "SSCAN str 0",
        "SSCAN str 0 COUNT 0",
        "SINTER nokey str",
        "SINTER str nokey",
        "SINTERSTORE d nokey str",
        "SINTERCARD 2 nokey str",
        "SUNION nokey str",
        "SDIFF nokey str",
        "SDIFFSTORE d nokey str",
    ] {
        assert_eq!(h.run(cmd), WRONGTYPE, "{cmd}");
    }
    assert_eq!(h.run("SADD s"), "-ERR wrong number of arguments for 'sadd' command\r\n");
    assert_eq!(h.run("SMOVE a b"), "-ERR wrong number of arguments for 'smove' command\r\n");
    assert_eq!(h.run("SINTERCARD 1"), "-ERR wrong number of arguments for 'sintercard' command\r\n");
    assert_eq!(h.run("SPOP nokey 1 2"), "-ERR syntax error\r\n");
    assert_eq!(h.run("SRANDMEMBER nokey 1 2"), "-ERR syntax error\r\n");
    assert!(!h.exists("d"));
}

#[test]
fn smove_rules() {
    let mut h = Harness::new();
    h.set_string("str", "x");
    h.run("SADD i 10 -5 7");
    assert_eq!(h.run("SMOVE nokey str 1"), ":0\r\n");
    assert_eq!(h.run("SMOVE i str 1"), WRONGTYPE);
    assert_eq!(h.run("SMOVE str i 1"), WRONGTYPE);
    assert_eq!(h.run("SMOVE i i 7"), ":1\r\n");
    assert_eq!(h.run("SMOVE i i 99"), ":0\r\n");
    assert_eq!(h.run("SMOVE i dst notthere"), ":0\r\n");
    assert!(!h.exists("dst"));
    assert_eq!(h.run("SMOVE i dst 7"), ":1\r\n");
    assert_eq!(h.encoding("dst"), "intset");
    assert_eq!(h.run("SMEMBERS i"), bulks('*', &["-5", "10"]));
    h.run("SADD h a");
    assert_eq!(h.run("SMOVE h dst a"), ":1\r\n");
    assert!(!h.exists("h"), "an emptied source is deleted");
    assert_eq!(h.encoding("dst"), "hashtable");
    // Moving a member the destination already has still removes it from the source.
    h.run("SADD i2 7");
    assert_eq!(h.run("SMOVE i2 dst 7"), ":1\r\n");
    assert!(!h.exists("i2"));
    assert_eq!(h.run("SCARD dst"), ":2\r\n");
    check_sets(&h, &["i", "dst"]);
}

#[test]
fn spop_rules_and_shapes() {
    let mut h = Harness::new();
    assert_eq!(h.run("SPOP nokey"), "$-1\r\n");
    assert_eq!(h.run("SPOP nokey 0"), "*0\r\n");
    assert_eq!(h.run("SPOP nokey -1"), "-ERR value is out of range, must be positive\r\n");
    assert_eq!(h.run("SPOP nokey x"), "-ERR value is out of range, must be positive\r\n");
    assert_eq!(h.run("SPOP nokey 9223372036854775808"), "-ERR value is out of range, must be positive\r\n");
    h.run("SADD s 1 2 3 4 5");
    assert_eq!(h.run("SPOP s 0"), "*0\r\n");
    let r = h.run("SPOP s 2");
    let popped = members(&r);
    assert!(r.starts_with("*2\r\n") && popped.len() == 2 && popped[0] != popped[1], "{r}");
    assert_eq!(h.run("SCARD s"), ":3\r\n");
    for p in &popped {
        assert_eq!(h.run(&format!("SISMEMBER s {p}")), ":0\r\n");
    }
    let one = h.run("SPOP s");
    assert!(one.starts_with("$1\r\n"), "{one}");
    // A count reaching the size pops everything (in intset order) and deletes the key.
    h.resp3 = true;
    let rest = h.run("SPOP s 100");
    assert!(rest.starts_with("~2\r\n"), "{rest}");
    let mut all = popped.clone();
    all.extend(members(&one));
    all.extend(members(&rest));
    all.sort();
    assert_eq!(all, ["1", "2", "3", "4", "5"]);
    assert!(!h.exists("s"));
    assert_eq!(h.run("SPOP s"), "_\r\n");
    assert_eq!(h.run("SPOP s 3"), "~0\r\n");
    h.run("SADD t a");
    assert_eq!(h.run("SPOP t"), "$1\r\na\r\n");
    assert!(!h.exists("t"));
}

#[test]
fn srandmember_rules_and_shapes() {
    let mut h = Harness::new();
    assert_eq!(h.run("SRANDMEMBER nokey"), "$-1\r\n");
    assert_eq!(h.run("SRANDMEMBER nokey 5"), "*0\r\n");
    assert_eq!(h.run("SRANDMEMBER nokey -5"), "*0\r\n");
    assert_eq!(h.run("SRANDMEMBER nokey x"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(
        h.run("SRANDMEMBER nokey -9223372036854775808"),
        "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"
    );
    h.run("SADD i 1 2 3");
    assert_eq!(h.run("SRANDMEMBER i 0"), "*0\r\n");
    assert_eq!(h.run("SRANDMEMBER i 10"), bulks('*', &["1", "2", "3"]));
    let r = h.run("SRANDMEMBER i 2");
    let m = members(&r);
    assert!(r.starts_with("*2\r\n") && m[0] != m[1], "{r}");
    let r = h.run("SRANDMEMBER i -7");
    assert!(r.starts_with("*7\r\n") && members(&r).iter().all(|x| ["1", "2", "3"].contains(&x.as_str())), "{r}");
    h.resp3 = true;
    // RESP3 still answers arrays: a negative count can repeat members.
    assert_eq!(h.run("SRANDMEMBER nokey 3"), "*0\r\n");
    assert_eq!(h.run("SRANDMEMBER nokey"), "_\r\n");
    assert!(h.run("SRANDMEMBER i 2").starts_with("*2\r\n"));
    assert_eq!(h.run("SCARD i"), ":3\r\n");
    // Distinct samples of a large table cover the set over many draws.
    let mut args: Vec<Vec<u8>> = vec![b"SADD".to_vec(), b"h".to_vec()];
    args.extend((0..50).map(|i| format!("m{i}").into_bytes()));
    let argv: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
    h.run_bytes(&argv);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..100 {
        let r = h.run("SRANDMEMBER h 10");
        let m = members(&r);
        let distinct: std::collections::BTreeSet<_> = m.iter().cloned().collect();
        assert_eq!(distinct.len(), 10, "{r}");
        seen.extend(distinct);
    }
    assert_eq!(seen.len(), 50);
}

#[test]
fn expired_keys_are_missing() {
    let mut h = Harness::new();
    h.run("SADD s 1 2");
    h.store.dbs[0].set_expire(b"s", NOW_MS + 10);
    assert_eq!(h.run("SCARD s"), ":2\r\n");
    h.now_ms = NOW_MS + 10;
    assert_eq!(h.run("SCARD s"), ":0\r\n");
    assert!(!h.exists("s"));
    h.run("SADD s 1");
    h.store.dbs[0].set_expire(b"s", NOW_MS + 20);
    h.now_ms = NOW_MS + 30;
    // A write lookup also expires first: SADD builds a fresh set.
    assert_eq!(h.run("SADD s 1 2"), ":2\r\n");
    assert_eq!(h.store.dbs[0].peek(b"s").map(|e| e.expire_at_ms), Some(0));
}

#[test]
fn keyspace_hits_and_misses_on_reads_only() {
    let mut h = Harness::new();
    h.run("SADD s 1");
    h.run("SREM nokey 1");
    h.run("SPOP nokey");
    assert_eq!((h.store.keyspace_hits, h.store.keyspace_misses), (0, 0));
    h.run("SCARD s");
    h.run("SISMEMBER nokey 1");
    h.run("SINTER s nokey");
    assert_eq!((h.store.keyspace_hits, h.store.keyspace_misses), (2, 2));
    // The STORE forms read their sources as the plain forms do (redis-server 7.0.15); SMOVE
    // looks both keys up for writing.
    h.run("SINTERSTORE d nokey s");
    h.run("SUNIONSTORE d nokey s");
    h.run("SDIFFSTORE d s nokey");
    h.run("SMOVE s nokey 1");
    assert_eq!((h.store.keyspace_hits, h.store.keyspace_misses), (5, 5));
}

#[test]
fn sscan_intset_and_options() {
    let mut h = Harness::new();
    h.run("SADD i 10 -5 7");
    let all = "*2\r\n$1\r\n0\r\n*3\r\n$2\r\n-5\r\n$1\r\n7\r\n$2\r\n10\r\n";
    assert_eq!(h.run("SSCAN i 0"), all);
    assert_eq!(h.run("SSCAN i -1"), all);
    assert_eq!(h.run("SSCAN i 18446744073709551615"), all);
    assert_eq!(h.run("SSCAN i 5 COUNT 1"), all);
    assert_eq!(h.run_bytes(&[b"SSCAN", b"i", b""]), all);
    assert_eq!(h.run("SSCAN i 18446744073709551616"), "-ERR invalid cursor\r\n");
    assert_eq!(h.run("SSCAN i x"), "-ERR invalid cursor\r\n");
    assert_eq!(h.run_bytes(&[b"SSCAN", b"i", b" 0"]), "-ERR invalid cursor\r\n");
    assert_eq!(h.run("SSCAN i 0 COUNT 0"), "-ERR syntax error\r\n");
    assert_eq!(h.run("SSCAN i 0 COUNT -1"), "-ERR syntax error\r\n");
    assert_eq!(h.run("SSCAN i 0 COUNT x"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(h.run("SSCAN i 0 MATCH"), "-ERR syntax error\r\n");
    assert_eq!(h.run("SSCAN i 0 TYPE set"), "-ERR syntax error\r\n");
    assert_eq!(h.run("SSCAN i 0 MATCH 1* MATCH -*"), "*2\r\n$1\r\n0\r\n*1\r\n$2\r\n-5\r\n");
    assert_eq!(h.run("SSCAN nokey 0 COUNT 0"), "*2\r\n$1\r\n0\r\n*0\r\n");
    assert_eq!(h.run("SSCAN nokey x"), "-ERR invalid cursor\r\n");
}

#[test]
fn sscan_table_visits_survivors_despite_changes() {
    let mut h = Harness::new();
    let mut args: Vec<Vec<u8>> = vec![b"SADD".to_vec(), b"h".to_vec()];
    args.extend((0..200).map(|i| format!("m{i}").into_bytes()));
    let argv: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
    h.run_bytes(&argv);
    let mut seen = std::collections::BTreeSet::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let r = h.run(&format!("SSCAN h {cursor} COUNT 7"));
        let parts = members(&r);
        cursor = parts[0].clone();
        seen.extend(parts[1..].iter().filter(|m| !m.starts_with('*')).cloned());
        // Churn between calls: remove low members (only ever m0..m99), add new ones.
        h.run(&format!("SREM h m{calls}"));
        h.run(&format!("SADD h new{calls}"));
        calls += 1;
        if cursor == "0" {
            break;
        }
        assert!(calls < 100, "scan does not end");
    }
    for i in 100..200 {
        assert!(seen.contains(&format!("m{i}")), "m{i} missed");
    }
    check_sets(&h, &["h"]);
}

#[test]
fn command_table_entries() {
    let find = |n: &str| COMMANDS.iter().find(|c| c.name == n).expect("spec");
    let sintercard = find("sintercard");
    let args: Vec<&[u8]> = vec![b"sintercard", b"2", b"a", b"b", b"LIMIT", b"1"];
    let mut keys = smallvec::SmallVec::<[usize; 8]>::new();
    sintercard.key_indexes_of(&args, &mut keys);
    assert_eq!(keys.as_slice(), &[2, 3]);
    assert_eq!(super::sintercard_keys(&[b"sintercard", b"3", b"a"]), Vec::<usize>::new());
    assert_eq!(super::sintercard_keys(&[b"sintercard", b"0", b"a"]), Vec::<usize>::new());
    assert_eq!(super::sintercard_keys(&[b"sintercard", b"x", b"a"]), Vec::<usize>::new());
    assert_eq!(COMMANDS.len(), 17);
    let smove = find("smove");
    assert_eq!((smove.first_key, smove.last_key, smove.step), (1, 2, 1));
}
