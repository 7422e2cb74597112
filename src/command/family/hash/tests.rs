//! Unit tests of the hash family, run through the shared data-command harness (a plain
//! `Store`, a fixed clock).
//! Replies are compared as raw RESP bytes, so shapes and error texts are checked exactly.
//! Expected replies were taken from redis-server 7.0.15.

use super::COMMANDS;
use crate::testing::harness::{Harness, NOW_MS};
use std::collections::BTreeSet;

/// The bulk strings of a flat reply, in order.
fn bulks(reply: &str) -> Vec<String> {
    let lines: Vec<&str> = reply.split("\r\n").collect();
    let mut v = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].starts_with('$') && lines[i] != "$-1" {
            v.push(lines[i + 1].to_string());
            i += 2;
        } else {
            i += 1;
        }
    }
    v
}

#[test]
fn set_get_and_listpack_order() {
    let mut h = Harness::new();
    assert_eq!(h.run("HSET h b 1 a 2 b 3"), ":2\r\n");
    assert_eq!(h.run("HGETALL h"), "*4\r\n$1\r\nb\r\n$1\r\n3\r\n$1\r\na\r\n$1\r\n2\r\n");
    assert_eq!(h.run("HMSET h c 4"), "+OK\r\n");
    assert_eq!(h.run("HKEYS h"), "*3\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nc\r\n");
    assert_eq!(h.run("HVALS h"), "*3\r\n$1\r\n3\r\n$1\r\n2\r\n$1\r\n4\r\n");
    assert_eq!(h.run("HGET h a"), "$1\r\n2\r\n");
    assert_eq!(h.run("HGET h zz"), "$-1\r\n");
    assert_eq!(h.run("HGET nokey a"), "$-1\r\n");
    assert_eq!(h.run("HMGET h a zz c"), "*3\r\n$1\r\n2\r\n$-1\r\n$1\r\n4\r\n");
    assert_eq!(h.run("HMGET nokey a b"), "*2\r\n$-1\r\n$-1\r\n");
    assert_eq!(h.run("HLEN h"), ":3\r\n");
    assert_eq!(h.run("HLEN nokey"), ":0\r\n");
    assert_eq!(h.run("HEXISTS h a"), ":1\r\n");
    assert_eq!(h.run("HEXISTS h zz"), ":0\r\n");
    assert_eq!(h.run("HSET h a hello"), ":0\r\n");
    assert_eq!(h.run("HSTRLEN h a"), ":5\r\n");
    assert_eq!(h.run("HSTRLEN h zz"), ":0\r\n");
    assert_eq!(h.run("HSTRLEN nokey zz"), ":0\r\n");
    assert_eq!(h.run("HGETALL nokey"), "*0\r\n");
    assert_eq!(h.run("HKEYS nokey"), "*0\r\n");
    assert_eq!(h.encoding("h"), "listpack");
    h.resp3 = true;
    assert_eq!(h.run("HGETALL nokey"), "%0\r\n");
    assert_eq!(h.run("HGETALL h"), "%3\r\n$1\r\nb\r\n$1\r\n3\r\n$1\r\na\r\n$5\r\nhello\r\n$1\r\nc\r\n$1\r\n4\r\n");
    assert_eq!(h.run("HGET h zz"), "_\r\n");
    assert_eq!(h.run("HEXISTS h a"), ":1\r\n");
}

#[test]
fn arity_and_wrong_type() {
    let mut h = Harness::new();
    assert_eq!(h.run("HSET h a"), "-ERR wrong number of arguments for 'hset' command\r\n");
    assert_eq!(h.run("HSET h a 1 b"), "-ERR wrong number of arguments for 'hset' command\r\n");
    assert_eq!(h.run("hmset h a 1 b"), "-ERR wrong number of arguments for 'hmset' command\r\n");
    assert_eq!(h.run("HMSET h a"), "-ERR wrong number of arguments for 'hmset' command\r\n");
    assert!(h.store.dbs[0].is_empty());
    h.set_string("s", "x");
    let wt = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
    for cmd in [
        "HSET s a 1",
        "HMSET s a 1",
        "HSETNX s a 1",
        "HGET s a",
        "HMGET s a",
        "HGETALL s",
        "HDEL s a",
        "HEXISTS s a",
        "HLEN s",
        "HSTRLEN s a",
        "HKEYS s",
        "HVALS s",
        "HINCRBY s a 1",
        "HINCRBYFLOAT s a 1",
        "HRANDFIELD s",
        "HRANDFIELD s 2",
        "HRANDFIELD s -2 WITHVALUES",
        "HSCAN s 0",
    ] {
        assert_eq!(h.run(cmd), wt, "{cmd}");
    }
    // Argument errors that Redis finds before looking at the key.
    assert_eq!(h.run("HINCRBY s a x"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(h.run("HINCRBYFLOAT s a x"), "-ERR value is not a valid float\r\n");
    assert_eq!(h.run("HINCRBYFLOAT s a inf"), "-ERR value is NaN or Infinity\r\n");
    assert_eq!(h.run("HRANDFIELD s x"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(h.run("HRANDFIELD s 1 foo"), "-ERR syntax error\r\n");
    assert_eq!(h.run("HSCAN s x"), "-ERR invalid cursor\r\n");
    // ...and one found after: options of HSCAN.
    assert_eq!(h.run("HSCAN s 0 COUNT 0"), wt);
}

#[test]
fn hsetnx_and_dirty_counts() {
    let mut h = Harness::new();
    assert_eq!(h.run("HSETNX h a 1"), ":1\r\n");
    assert_eq!(h.store.dirty, 1);
    assert_eq!(h.run("HSETNX h a 2"), ":0\r\n");
    assert_eq!(h.store.dirty, 1);
    assert_eq!(h.run("HGET h a"), "$1\r\n1\r\n");
    assert_eq!(h.run("HSET h a 1 a 1 b 2"), ":1\r\n");
    assert_eq!(h.store.dirty, 4);
    assert_eq!(h.run("HDEL h zz"), ":0\r\n");
    assert_eq!(h.store.dirty, 4);
    assert_eq!(h.run("HDEL h a zz a b"), ":2\r\n");
    assert_eq!(h.store.dirty, 6);
    assert_eq!(h.run("HLEN h"), ":0\r\n");
    assert!(h.store.dbs[0].is_empty(), "an emptied hash is deleted");
    assert_eq!(h.run("HDEL nokey a"), ":0\r\n");
}

#[test]
fn encodings_convert_like_redis() {
    let mut h = Harness::new();
    h.cfg.hash_max_listpack_entries = 2;
    h.cfg.hash_max_listpack_value_bytes = 4;
    h.run("HSET h a 1 b 2");
    assert_eq!(h.encoding("h"), "listpack");
    h.run("HSET h c 3");
    assert_eq!(h.encoding("h"), "hashtable");
    h.run("HDEL h a b");
    assert_eq!(h.encoding("h"), "hashtable", "never back to listpack");

    // A long value converts before the write, even for a field that exists.
    h.run("HSET v a 1");
    h.run("HSET v a 12345");
    assert_eq!(h.encoding("v"), "hashtable");
    // HSETNX that sets nothing leaves the encoding alone.
    h.run("HSET n a 1");
    assert_eq!(h.run("HSETNX n a 12345"), ":0\r\n");
    assert_eq!(h.encoding("n"), "listpack");
    assert_eq!(h.run("HSETNX n b 12345"), ":1\r\n");
    assert_eq!(h.encoding("n"), "hashtable");
    // HINCRBY* convert for a long field or a long result.
    h.run("HSET i a 1");
    h.run("HINCRBY i abcde 1");
    assert_eq!(h.encoding("i"), "hashtable");
    h.run("HSET f a 1");
    assert_eq!(h.run("HINCRBYFLOAT f a 0.25"), "$4\r\n1.25\r\n");
    assert_eq!(h.encoding("f"), "listpack");
    assert_eq!(h.run("HINCRBYFLOAT f a 0.125"), "$5\r\n1.375\r\n");
    assert_eq!(h.encoding("f"), "hashtable");

    // Entry limit 0: every hash is a table.
    h.cfg.hash_max_listpack_entries = 0;
    h.cfg.hash_max_listpack_value_bytes = 64;
    h.run("HSET z a 1");
    assert_eq!(h.encoding("z"), "hashtable");
    // Value limit 0: empty strings still fit.
    h.cfg.hash_max_listpack_entries = 512;
    h.cfg.hash_max_listpack_value_bytes = 0;
    h.run_bytes(&[b"HSET", b"e", b"", b""]);
    assert_eq!(h.encoding("e"), "listpack");
    h.run_bytes(&[b"HSET", b"e", b"a", b""]);
    assert_eq!(h.encoding("e"), "hashtable");
}

#[test]
fn table_reads_match_contents() {
    let mut h = Harness::new();
    let mut want = BTreeSet::new();
    for i in 0..600 {
        h.run(&format!("HSET big f{i} v{i}"));
        want.insert((format!("f{i}"), format!("v{i}")));
    }
    assert_eq!(h.encoding("big"), "hashtable");
    assert_eq!(h.run("HLEN big"), ":600\r\n");
    let all = bulks(&h.run("HGETALL big"));
    let got: BTreeSet<_> = all.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect();
    assert_eq!(got, want);
    // HKEYS and HVALS walk the same order.
    let keys = bulks(&h.run("HKEYS big"));
    let vals = bulks(&h.run("HVALS big"));
    assert!(keys.iter().zip(&vals).all(|(k, v)| k[1..] == v[1..]));
}

#[test]
fn hincrby_like_redis() {
    let mut h = Harness::new();
    assert_eq!(h.run("HINCRBY h a 5"), ":5\r\n");
    assert_eq!(h.run("HINCRBY h a -7"), ":-2\r\n");
    h.run("HSET h f 1.5 big 9223372036854775807 neg -9223372036854775808 sp 01");
    assert_eq!(h.run("HINCRBY h f 1"), "-ERR hash value is not an integer\r\n");
    assert_eq!(h.run("HINCRBY h sp 1"), "-ERR hash value is not an integer\r\n");
    assert_eq!(h.run("HINCRBY h big 1"), "-ERR increment or decrement would overflow\r\n");
    assert_eq!(h.run("HINCRBY h big -1"), ":9223372036854775806\r\n");
    assert_eq!(h.run("HINCRBY h neg -1"), "-ERR increment or decrement would overflow\r\n");
    assert_eq!(h.run("HINCRBY h a 9223372036854775808"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(h.run("HINCRBY h a +1"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(h.run("HINCRBY n a x"), "-ERR value is not an integer or out of range\r\n");
    assert!(h.store.dbs[0].peek(b"n").is_none());
}

#[test]
fn hincrbyfloat_like_redis() {
    let mut h = Harness::new();
    assert_eq!(h.run("HINCRBYFLOAT h a 10.5"), "$4\r\n10.5\r\n");
    assert_eq!(h.run("HINCRBYFLOAT h a 0.1"), "$4\r\n10.6\r\n");
    assert_eq!(h.run("HINCRBYFLOAT h a -10.6"), "$1\r\n0\r\n");
    assert_eq!(h.run("HINCRBYFLOAT h b 1e-400"), "$1\r\n0\r\n");
    assert_eq!(h.run("HINCRBYFLOAT h c 0x10"), "$2\r\n16\r\n");
    assert_eq!(h.run("HINCRBYFLOAT h c 1.0000000000000000000000001"), "$2\r\n17\r\n");
    assert_eq!(h.run("HINCRBYFLOAT h c 5e3"), "$4\r\n5017\r\n");
    h.run("HSET h s abc");
    assert_eq!(h.run("HINCRBYFLOAT h s 1"), "-ERR hash value is not a float\r\n");
    assert_eq!(h.run("HINCRBYFLOAT h c -inf"), "-ERR value is NaN or Infinity\r\n");
    assert_eq!(h.run("HINCRBYFLOAT h c nan"), "-ERR value is not a valid float\r\n");
    assert_eq!(h.run_bytes(&[b"HINCRBYFLOAT", b"h", b"c", b" 1"]), "-ERR value is not a valid float\r\n");
    h.run("HSET h m 1e4932");
    assert_eq!(h.run("HINCRBYFLOAT h m 1e4932"), "-ERR increment would produce NaN or Infinity\r\n");
    assert_eq!(h.run("HINCRBYFLOAT n a x"), "-ERR value is not a valid float\r\n");
    assert!(h.store.dbs[0].peek(b"n").is_none());
    let dirty = h.store.dirty;
    h.run("HINCRBYFLOAT h a 1");
    assert_eq!(h.store.dirty, dirty + 1);
}

#[test]
fn hrandfield_shapes_and_errors() {
    let mut h = Harness::new();
    assert_eq!(h.run("HRANDFIELD nokey"), "$-1\r\n");
    assert_eq!(h.run("HRANDFIELD nokey 5"), "*0\r\n");
    assert_eq!(h.run("HRANDFIELD nokey 0 WITHVALUES"), "*0\r\n");
    assert_eq!(h.run("HRANDFIELD nokey 0 withvaluesx"), "-ERR syntax error\r\n");
    assert_eq!(h.run("HRANDFIELD nokey 1 WITHVALUES x"), "-ERR syntax error\r\n");
    assert_eq!(
        h.run("HRANDFIELD nokey -9223372036854775808"),
        "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"
    );
    assert_eq!(h.run("HRANDFIELD nokey 4611686018427387904 WITHVALUES"), "-ERR value is out of range\r\n");
    assert_eq!(h.run("HRANDFIELD nokey -4611686018427387904 WITHVALUES"), "-ERR value is out of range\r\n");
    assert_eq!(h.run("HRANDFIELD nokey 4611686018427387903 WITHVALUES"), "*0\r\n");
    h.run("HSET h a 1 b 2 c 3");
    assert_eq!(h.run("HRANDFIELD h 0"), "*0\r\n");
    // Whole hash, in listpack order.
    assert_eq!(h.run("HRANDFIELD h 3"), "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
    assert_eq!(
        h.run("HRANDFIELD h 10 WITHVALUES"),
        "*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n"
    );
    h.resp3 = true;
    assert_eq!(
        h.run("HRANDFIELD h 10 WITHVALUES"),
        "*3\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n"
    );
    assert_eq!(h.run("HRANDFIELD nokey"), "_\r\n");
    let r = h.run("HRANDFIELD h -5 WITHVALUES");
    assert!(r.starts_with("*5\r\n*2\r\n"), "{r}");
    h.resp3 = false;
    for _ in 0..20 {
        let one = bulks(&h.run("HRANDFIELD h"));
        assert!(["a", "b", "c"].contains(&one[0].as_str()));
        let two = bulks(&h.run("HRANDFIELD h 2"));
        assert_eq!(two.len(), 2);
        assert!(two[0] < two[1], "distinct picks from a listpack come in listpack order: {two:?}");
        let rep = bulks(&h.run("HRANDFIELD h -10 WITHVALUES"));
        assert_eq!(rep.len(), 20);
        let value_of = |f: &str| match f {
            "a" => "1",
            "b" => "2",
            "c" => "3",
            _ => "?",
        };
        assert!(rep.chunks(2).all(|p| p[1] == value_of(&p[0])), "{rep:?}");
    }
    assert_eq!(h.run("HRANDFIELD h -16777217"), "-ERR value is out of range\r\n");
}

#[test]
fn hrandfield_on_a_table_is_uniform_enough() {
    let mut h = Harness::new();
    for i in 0..1000 {
        h.run(&format!("HSET t f{i} {i}"));
    }
    assert_eq!(h.encoding("t"), "hashtable");
    for count in [5, 400, 999] {
        let picks = bulks(&h.run(&format!("HRANDFIELD t {count} WITHVALUES")));
        assert_eq!(picks.len(), count * 2);
        let distinct: BTreeSet<_> = picks.chunks(2).map(|p| p[0].clone()).collect();
        assert_eq!(distinct.len(), count);
        assert!(picks.chunks(2).all(|p| p[0][1..] == p[1]));
    }
    let all: BTreeSet<_> = (0..200).flat_map(|_| bulks(&h.run("HRANDFIELD t -50"))).collect();
    assert!(all.len() > 900, "10,000 picks of 1,000 fields should see most of them: {}", all.len());
}

#[test]
fn hscan_listpack_and_table() {
    let mut h = Harness::new();
    assert_eq!(h.run("HSCAN nokey 0 COUNT 0"), "*2\r\n$1\r\n0\r\n*0\r\n");
    h.run("HSET h a 1 b 2 c 3");
    let all = "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n";
    assert_eq!(h.run("HSCAN h 0"), all);
    assert_eq!(h.run("HSCAN h 5 COUNT 1"), all);
    assert_eq!(h.run("HSCAN h -1"), all);
    assert_eq!(h.run_bytes(&[b"HSCAN", b"h", b""]), all);
    assert_eq!(
        h.run("HSCAN h 0 MATCH [ab] count 2"),
        "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    assert_eq!(h.run("HSCAN h 0 COUNT 0"), "-ERR syntax error\r\n");
    assert_eq!(h.run("HSCAN h 0 COUNT x"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(h.run("HSCAN h 0 MATCH"), "-ERR syntax error\r\n");
    assert_eq!(h.run("HSCAN h 0 TYPE string"), "-ERR syntax error\r\n");
    assert_eq!(h.run("HSCAN h 18446744073709551616"), "-ERR invalid cursor\r\n");

    for i in 0..700 {
        h.run(&format!("HSET t f{i} v{i}"));
    }
    let mut seen = BTreeSet::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let r = h.run(&format!("HSCAN t {cursor} COUNT 50 MATCH f1*"));
        let b = bulks(&r);
        cursor = b[0].clone();
        for p in b[1..].chunks(2) {
            assert!(p[0].starts_with("f1") && p[0][1..] == p[1][1..]);
            seen.insert(p[0].clone());
        }
        calls += 1;
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(calls, 14);
    assert_eq!(seen.len(), 111);
}

#[test]
fn expired_hash_is_gone_and_hits_are_counted() {
    let mut h = Harness::new();
    h.run("HSET h a 1");
    assert!(h.store.dbs[0].set_expire(b"h", NOW_MS - 1));
    let (hits, misses) = (h.store.keyspace_hits, h.store.keyspace_misses);
    assert_eq!(h.run("HGET h a"), "$-1\r\n");
    assert_eq!((h.store.keyspace_hits, h.store.keyspace_misses), (hits, misses + 1));
    assert_eq!(h.store.dbs[0].expired_keys, 1);
    // A write to an expired key starts a new hash without the old TTL.
    h.run("HSET e a 1");
    h.store.dbs[0].set_expire(b"e", NOW_MS - 1);
    assert_eq!(h.run("HINCRBY e b 1"), ":1\r\n");
    assert_eq!(h.run("HGETALL e"), "*2\r\n$1\r\nb\r\n$1\r\n1\r\n");
    assert_eq!(h.store.dbs[0].peek(b"e").map(|e| e.expire_at_ms), Some(0));
    // Writes count no hit or miss; reads do.
    let (hits, misses) = (h.store.keyspace_hits, h.store.keyspace_misses);
    h.run("HSET e c 1");
    h.run("HDEL e c");
    assert_eq!((h.store.keyspace_hits, h.store.keyspace_misses), (hits, misses));
    h.run("HLEN e");
    h.run("HLEN nokey");
    assert_eq!((h.store.keyspace_hits, h.store.keyspace_misses), (hits + 1, misses + 1));
}

#[test]
fn table_entries_match_redis_command_info() {
    let names: Vec<_> = COMMANDS.iter().map(|c| c.name).collect();
    assert_eq!(names.len(), 16);
    let hscan = COMMANDS.iter().find(|c| c.name == "hscan").expect("hscan");
    assert_eq!((hscan.arity, hscan.first_key, hscan.last_key, hscan.step), (-3, 1, 1, 1));
    assert_eq!(hscan.acl, &["@read", "@hash", "@slow"]);
    let hdel = COMMANDS.iter().find(|c| c.name == "hdel").expect("hdel");
    assert!(!hdel.has(crate::command::spec::flag::DENYOOM));
}
