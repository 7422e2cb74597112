//! Unit tests of SINTER, SINTERCARD, SUNION, SDIFF and the STORE forms: replies, reply order
//! where Redis defines one (intsets), and the encoding of stored results. Expected replies were
//! taken from redis-server 7.0.15.

use super::tests::{bulks, check_sets, members_sorted, Harness, NOW_MS, WRONGTYPE};

#[test]
fn sinter_orders_and_empties() {
    let mut h = Harness::new();
    h.run("SADD i 10 -5 7");
    h.run("SADD i2 7 8 10 100");
    assert_eq!(h.run("SINTER i nokey"), "*0\r\n");
    assert_eq!(h.run("SINTER i i2"), bulks('*', &["7", "10"]));
    assert_eq!(h.run("SINTER i"), bulks('*', &["-5", "7", "10"]));
    assert_eq!(h.run("SINTER i i"), bulks('*', &["-5", "7", "10"]));
    h.resp3 = true;
    assert_eq!(h.run("SINTER i nokey"), "~0\r\n");
    assert_eq!(h.run("SMEMBERS nokey"), "~0\r\n");
    assert_eq!(h.run("SINTER i2 i"), bulks('~', &["7", "10"]));
    h.run("SADD h a 10 7 zz");
    assert_eq!(members_sorted(&h.run("SINTER h i")), ["10", "7"]);
}

#[test]
fn sinterstore_results() {
    let mut h = Harness::new();
    h.run("SADD i 10 -5 7");
    h.run("SADD i2 7 8 10 100");
    assert_eq!(h.run("SINTERSTORE d i i2"), ":2\r\n");
    assert_eq!(h.encoding("d"), "intset");
    assert_eq!(h.run("SMEMBERS d"), bulks('*', &["7", "10"]));
    // Empty result (or a missing source) deletes the destination, whatever it held.
    h.set_string("d2", "x");
    assert_eq!(h.run("SINTERSTORE d2 i nokey"), ":0\r\n");
    assert!(!h.exists("d2"));
    h.run("SADD x 1");
    h.run("SADD y 2");
    assert_eq!(h.run("SINTERSTORE d x y"), ":0\r\n");
    assert!(!h.exists("d"));
    // A string destination is replaced, and loses its TTL.
    h.set_string("d3", "x");
    h.store.dbs[0].set_expire(b"d3", NOW_MS + 100_000);
    h.run("SADD a 1 2 x");
    h.run("SADD b 2 x y");
    assert_eq!(h.run("SINTERSTORE d3 a b"), ":2\r\n");
    assert_eq!(h.encoding("d3"), "hashtable");
    assert_eq!(h.store.dbs[0].peek(b"d3").map(|e| e.expire_at_ms), Some(0));
    check_sets(&h, &["d", "d3"]);
}

#[test]
fn sintercard_parsing_and_limit() {
    let mut h = Harness::new();
    h.set_string("str", "x");
    h.run("SADD i 10 -5 7");
    h.run("SADD i2 7 8 10 100");
    assert_eq!(h.run("SINTERCARD 0 i"), "-ERR numkeys should be greater than 0\r\n");
    assert_eq!(h.run("SINTERCARD -1 i"), "-ERR numkeys should be greater than 0\r\n");
    assert_eq!(h.run("SINTERCARD x i"), "-ERR numkeys should be greater than 0\r\n");
    assert_eq!(h.run("SINTERCARD 99999999999999999999 i"), "-ERR numkeys should be greater than 0\r\n");
    assert_eq!(h.run("SINTERCARD 3 i i2"), "-ERR Number of keys can't be greater than number of args\r\n");
    assert_eq!(h.run("SINTERCARD 2 i i2 LIMIT -1"), "-ERR LIMIT can't be negative\r\n");
    assert_eq!(h.run("SINTERCARD 2 i i2 LIMIT x"), "-ERR LIMIT can't be negative\r\n");
    assert_eq!(h.run("SINTERCARD 1 str LIMIT -1"), "-ERR LIMIT can't be negative\r\n");
    assert_eq!(h.run("SINTERCARD 2 i i2 LIMIT"), "-ERR syntax error\r\n");
    assert_eq!(h.run("SINTERCARD 2 i i2 FOO 1"), "-ERR syntax error\r\n");
    assert_eq!(h.run("SINTERCARD 1 i i2"), "-ERR syntax error\r\n");
    assert_eq!(h.run("SINTERCARD 1 str"), WRONGTYPE);
    assert_eq!(h.run("SINTERCARD 1 nokey"), ":0\r\n");
    assert_eq!(h.run("SINTERCARD 2 i i2"), ":2\r\n");
    assert_eq!(h.run("SINTERCARD 2 i i2 LIMIT 1"), ":1\r\n");
    assert_eq!(h.run("SINTERCARD 2 i i2 limit 0"), ":2\r\n");
    assert_eq!(h.run("SINTERCARD 2 i i2 LIMIT 1 LIMIT 0"), ":2\r\n");
}

#[test]
fn sunion_sdiff_replies() {
    let mut h = Harness::new();
    h.set_string("str", "x");
    h.run("SADD i 10 -5 7");
    h.run("SADD i2 7 8 10 100");
    assert_eq!(h.run("SUNION i nokey"), bulks('*', &["-5", "7", "10"]));
    assert_eq!(h.run("SUNION i i2"), bulks('*', &["-5", "7", "8", "10", "100"]));
    assert_eq!(h.run("SDIFF i2 i"), bulks('*', &["8", "100"]));
    assert_eq!(h.run("SDIFF i i"), "*0\r\n");
    assert_eq!(h.run("SDIFF nokey i"), "*0\r\n");
    assert_eq!(h.run("SDIFF i str"), WRONGTYPE);
    assert_eq!(h.run("SUNION nokey str"), WRONGTYPE);
    // A hashtable holding only integers unions into an intset: sorted.
    h.run("SADD h a 3 1 2");
    h.run("SREM h a");
    assert_eq!(h.encoding("h"), "hashtable");
    assert_eq!(h.run("SUNION h"), bulks('*', &["1", "2", "3"]));
    h.resp3 = true;
    assert_eq!(h.run("SUNION nokey"), "~0\r\n");
    assert_eq!(h.run("SDIFF i"), bulks('~', &["-5", "7", "10"]));
    h.run("SADD s a b c");
    assert_eq!(members_sorted(&h.run("SDIFF s nokey")), ["a", "b", "c"]);
}

#[test]
fn store_encodings_follow_redis_algorithms() {
    let mut h = Harness::new();
    h.run("SADD a 1 2 x");
    h.run("SADD b 2 x y");
    h.set_string("d", "str");
    h.store.dbs[0].set_expire(b"d", NOW_MS + 100_000);
    assert_eq!(h.run("SUNIONSTORE d a b"), ":4\r\n");
    assert_eq!(h.encoding("d"), "hashtable");
    assert_eq!(h.store.dbs[0].peek(b"d").map(|e| e.expire_at_ms), Some(0));
    assert_eq!(h.run("SDIFFSTORE d3 a b"), ":1\r\n");
    assert_eq!(h.encoding("d3"), "intset");
    h.set_string("d4", "x");
    assert_eq!(h.run("SDIFFSTORE d4 nokey a"), ":0\r\n");
    assert!(!h.exists("d4"));
    // Algorithm 1 (small first set against big ones) adds only survivors: an intset.
    h.run("SADD f 1 2 x");
    h.run("SADD g x q r s t u v");
    assert_eq!(h.run("SDIFFSTORE r1 f g"), ":2\r\n");
    assert_eq!(h.encoding("r1"), "intset");
    // Algorithm 2 (big first set) adds the first set whole, so a non-integer member there
    // leaves a hashtable even when removed again.
    h.run("SADD big x 1 2 3 4 5 6 7 8 9");
    h.run("SADD small x");
    h.run("SADD small2 zz");
    assert_eq!(h.run("SDIFFSTORE r2 big small small2"), ":9\r\n");
    assert_eq!(h.encoding("r2"), "hashtable");
    // Union of more than set-max-intset-entries integers is a hashtable.
    h.cfg.set_max_intset_entries = 3;
    h.run("SADD n1 1 2");
    h.run("SADD n2 3 4");
    assert_eq!(h.run("SUNIONSTORE r3 n1 n2"), ":4\r\n");
    assert_eq!(h.encoding("r3"), "hashtable");
    check_sets(&h, &["d", "d3", "r1", "r2", "r3"]);
}

#[test]
fn store_destination_may_be_a_source() {
    let mut h = Harness::new();
    h.run("SADD a 1 2 3");
    h.run("SADD b 3 4");
    assert_eq!(h.run("SUNIONSTORE a a b"), ":4\r\n");
    assert_eq!(h.run("SMEMBERS a"), bulks('*', &["1", "2", "3", "4"]));
    assert_eq!(h.run("SDIFFSTORE a a b"), ":2\r\n");
    assert_eq!(h.run("SMEMBERS a"), bulks('*', &["1", "2"]));
    assert_eq!(h.run("SINTERSTORE a a b"), ":0\r\n");
    assert!(!h.exists("a"));
}
