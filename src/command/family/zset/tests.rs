//! Unit tests of the sorted-set family, run through `DataCtx` on a plain `Store` with a fixed
//! clock. Replies are compared as raw RESP bytes, so shapes and error texts are checked
//! exactly. Expected replies were taken from redis-server 7.0.15.

use super::COMMANDS;
pub(super) use crate::testing::harness::{Harness, NOW_MS};

/// Option words, the order of argument checks, and CH.
#[test]
fn zadd_options_and_their_conflicts() {
    let mut h = Harness::new();
    assert_eq!(h.run("zadd k nx xx 1 a"), "-ERR XX and NX options at the same time are not compatible\r\n");
    assert_eq!(h.run("zadd k gt lt 1 a"), "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n");
    assert_eq!(h.run("zadd k gt nx 1 a"), "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n");
    assert_eq!(h.run("zadd k lt nx 1 a"), "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n");
    assert_eq!(h.run("zadd k incr 1 a 2 b"), "-ERR INCR option supports a single increment-element pair\r\n");
    assert_eq!(h.run("zadd k nx 1"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zadd k 1 a 2"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zadd k nx abc a"), "-ERR value is not a valid float\r\n");
    assert_eq!(h.run("zadd k ch"), "-ERR wrong number of arguments for 'zadd' command\r\n");
    assert_eq!(h.run("zadd k 1 a 2 b 3 c"), ":3\r\n");
    assert_eq!(h.run("zadd k ch 1 a 5 b 4 d"), ":2\r\n");
    assert_eq!(h.run("zadd k nx 9 a 9 e"), ":1\r\n");
    assert_eq!(h.run("zadd k xx 9 a 9 f"), ":0\r\n");
    assert_eq!(h.run("zadd k gt ch 1 a 10 b"), ":1\r\n");
    assert_eq!(h.run("zadd k lt ch 0 a 100 b"), ":1\r\n");
    assert_eq!(h.run("zadd k xx gt ch 50 b 1 c"), ":1\r\n");
    assert_eq!(h.run("zadd k NX Ch 3 g"), ":1\r\n");
    assert_eq!(h.run("zrange k 0 -1 withscores"), "*12\r\n$1\r\na\r\n$1\r\n0\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\ng\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n9\r\n$1\r\nb\r\n$2\r\n50\r\n");
    assert_eq!(h.run("zadd k 1e-400 a"), "-ERR value is not a valid float\r\n");
    assert_eq!(h.run("zadd k 1e400 a"), "-ERR value is not a valid float\r\n");
    assert_eq!(h.run("zadd k nan a"), "-ERR value is not a valid float\r\n");
    assert_eq!(h.run("zadd k 0x10 h"), ":1\r\n");
    assert_eq!(h.run("zadd k 1e-320 i"), ":1\r\n");
    assert_eq!(h.run("zscore k h"), "$2\r\n16\r\n");
    assert_eq!(h.run("zadd k -inf a +inf b"), ":0\r\n");
    assert_eq!(h.run("zrange k 0 -1 withscores"), "*16\r\n$1\r\na\r\n$4\r\n-inf\r\n$1\r\ni\r\n$23\r\n9.9998886718268301e-321\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\ng\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n9\r\n$1\r\nh\r\n$2\r\n16\r\n$1\r\nb\r\n$3\r\ninf\r\n");
    assert_eq!(h.run("zadd nokey xx 1 a"), ":0\r\n");
    assert_eq!(h.run("zadd nokey xx incr 1 a"), "$-1\r\n");
    assert_eq!(h.run("zcard nokey"), ":0\r\n");
}

/// INCR replies, NOP replies and the NaN error.
#[test]
fn zadd_incr_and_zincrby() {
    let mut h = Harness::new();
    assert_eq!(h.run("zadd k incr 1.5 a"), "$3\r\n1.5\r\n");
    assert_eq!(h.run("zadd k incr 1 a"), "$3\r\n2.5\r\n");
    assert_eq!(h.run("zadd k nx incr 1 a"), "$-1\r\n");
    assert_eq!(h.run("zadd k xx incr 1 b"), "$-1\r\n");
    assert_eq!(h.run("zadd k gt incr -1 a"), "$-1\r\n");
    assert_eq!(h.run("zadd k lt incr -1 a"), "$3\r\n1.5\r\n");
    assert_eq!(h.run("zincrby k 2 a"), "$3\r\n3.5\r\n");
    assert_eq!(h.run("zincrby k nx a"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zincrby k 1 nx"), "$1\r\n1\r\n");
    assert_eq!(h.run("zincrby k abc a"), "-ERR value is not a valid float\r\n");
    assert_eq!(h.run("zadd k inf a"), ":0\r\n");
    assert_eq!(h.run("zincrby k -inf a"), "-ERR resulting score is not a number (NaN)\r\n");
    assert_eq!(h.run("zadd k incr -inf a"), "-ERR resulting score is not a number (NaN)\r\n");
    assert_eq!(h.run("zscore k a"), "$3\r\ninf\r\n");
    assert_eq!(h.run("zincrby k 0.1 x"), "$19\r\n0.10000000000000001\r\n");
    assert_eq!(h.run("zincrby k 0.2 x"), "$19\r\n0.30000000000000004\r\n");
    assert_eq!(h.run("zadd k incr 0 new"), "$1\r\n0\r\n");
}

#[test]
fn zrem_and_zcard() {
    let mut h = Harness::new();
    assert_eq!(h.run("zadd k 1 a 2 b 3 c"), ":3\r\n");
    assert_eq!(h.run("zrem k a x"), ":1\r\n");
    assert_eq!(h.run("zcard k"), ":2\r\n");
    assert_eq!(h.run("zrem k b c d"), ":2\r\n");
    assert_eq!(h.run("zcard k"), ":0\r\n");
    assert_eq!(h.run("zrem k a"), ":0\r\n");
    assert_eq!(h.run("zrem nokey a"), ":0\r\n");
    assert_eq!(h.run("zcard nokey"), ":0\r\n");
}

#[test]
fn zscore_zmscore_resp2() {
    let mut h = Harness::new();
    assert_eq!(h.run("zadd k 1 a 2.5 b -3 c"), ":3\r\n");
    assert_eq!(h.run("zscore k b"), "$3\r\n2.5\r\n");
    assert_eq!(h.run("zscore k x"), "$-1\r\n");
    assert_eq!(h.run("zscore nokey a"), "$-1\r\n");
    assert_eq!(h.run("zmscore k a x b c"), "*4\r\n$1\r\n1\r\n$-1\r\n$3\r\n2.5\r\n$2\r\n-3\r\n");
    assert_eq!(h.run("zmscore nokey a b"), "*2\r\n$-1\r\n$-1\r\n");
}

#[test]
fn zscore_zmscore_resp3() {
    let mut h = Harness::new();
    h.resp3 = true;
    assert_eq!(h.run("zadd k 1 a 2.5 b -3 c 0.1 d"), ":4\r\n");
    assert_eq!(h.run("zscore k b"), ",2.5\r\n");
    assert_eq!(h.run("zscore k d"), ",0.10000000000000001\r\n");
    assert_eq!(h.run("zscore k x"), "_\r\n");
    assert_eq!(h.run("zscore nokey a"), "_\r\n");
    assert_eq!(h.run("zmscore k a x b c"), "*4\r\n,1\r\n_\r\n,2.5\r\n,-3\r\n");
    assert_eq!(h.run("zmscore nokey a b"), "*2\r\n_\r\n_\r\n");
    assert_eq!(h.run("zadd k inf e"), ":1\r\n");
    assert_eq!(h.run("zscore k e"), ",inf\r\n");
    assert_eq!(h.run("zincrby k 1 a"), ",2\r\n");
}

#[test]
fn zrank_and_zrevrank() {
    let mut h = Harness::new();
    assert_eq!(h.run("zadd k 1 a 2 b 3 c"), ":3\r\n");
    assert_eq!(h.run("zrank k a"), ":0\r\n");
    assert_eq!(h.run("zrank k c"), ":2\r\n");
    assert_eq!(h.run("zrevrank k a"), ":2\r\n");
    assert_eq!(h.run("zrevrank k c"), ":0\r\n");
    assert_eq!(h.run("zrank k x"), "$-1\r\n");
    assert_eq!(h.run("zrank nokey a"), "$-1\r\n");
    assert_eq!(h.run("zrevrank nokey a"), "$-1\r\n");
}

#[test]
fn zcount_and_zlexcount() {
    let mut h = Harness::new();
    assert_eq!(h.run("zadd k 1 a 2 b 3 c 4 d"), ":4\r\n");
    assert_eq!(h.run("zcount k -inf +inf"), ":4\r\n");
    assert_eq!(h.run("zcount k (1 3"), ":2\r\n");
    assert_eq!(h.run("zcount k 3 (3"), ":0\r\n");
    assert_eq!(h.run("zcount k 3 3"), ":1\r\n");
    assert_eq!(h.run("zcount k 5 1"), ":0\r\n");
    assert_eq!(h.run("zcount k a b"), "-ERR min or max is not a float\r\n");
    assert_eq!(h.run("zcount k (1.5 inf"), ":3\r\n");
    assert_eq!(h.run("zcount nokey 0 1"), ":0\r\n");
    assert_eq!(h.run("zadd l 0 a 0 b 0 c 0 d"), ":4\r\n");
    assert_eq!(h.run("zlexcount l - +"), ":4\r\n");
    assert_eq!(h.run("zlexcount l [b (d"), ":2\r\n");
    assert_eq!(h.run("zlexcount l (d (d"), ":0\r\n");
    assert_eq!(h.run("zlexcount l [d [d"), ":1\r\n");
    assert_eq!(h.run("zlexcount l + -"), ":0\r\n");
    assert_eq!(h.run("zlexcount l a b"), "-ERR min or max not valid string range item\r\n");
    assert_eq!(h.run("zlexcount l - +x"), "-ERR min or max not valid string range item\r\n");
    assert_eq!(h.run("zlexcount l [a [a"), ":1\r\n");
    assert_eq!(h.run("zlexcount nokey - +"), ":0\r\n");
}

/// Every command against a string key, including the checks that come first.
#[test]
fn wrong_type_everywhere() {
    let mut h = Harness::new();
    assert_eq!(h.run("set s v"), "+OK\r\n");
    assert_eq!(h.run("zadd s 1 a"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("zadd s abc a"), "-ERR value is not a valid float\r\n");
    assert_eq!(h.run("zincrby s 1 a"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("zrem s a"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("zcard s"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("zcount s 0 1"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("zcount s a 1"), "-ERR min or max is not a float\r\n");
    assert_eq!(h.run("zlexcount s - +"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("zscore s a"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("zmscore s a"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("zrank s a"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("zrevrank s a"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("zrange s 0 1"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("zrange s 0 1 foo"), "-ERR syntax error\r\n");
    assert_eq!(h.run("zrangebyscore s 0 1"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(
        h.run("zrevrangebyscore s 1 0"),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(h.run("zrangebylex s - +"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("zrevrangebylex s + -"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("zrevrange s 0 1"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("zrangestore d s 0 1"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("zpopmin s"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("zpopmax s 0"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("zpopmin s -1"), "-ERR value is out of range, must be positive\r\n");
    assert_eq!(h.run("zmpop 1 s min"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("zmpop 2 nokey s min"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("zrandmember s"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("zrandmember s 2"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("zrandmember s x"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(
        h.run("zremrangebyrank s 0 1"),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(
        h.run("zremrangebyscore s 0 1"),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(h.run("zremrangebylex s - +"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("zunion 1 s"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("zinter 2 nokey s"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("zdiff 1 s"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("zunionstore d 1 s"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("zintercard 1 s"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("zscan s 0"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("zscan s x"), "-ERR invalid cursor\r\n");
    assert_eq!(h.run("zadd k 1 a"), ":1\r\n");
    assert_eq!(h.run("zrangestore s k 0 -1"), ":1\r\n");
    assert_eq!(h.run("zrange s 0 -1"), "*1\r\n$1\r\na\r\n");
}

/// Seconds-resolution helper: a sorted set with `n` members `m0..`, scores 0..n.
fn fill(h: &mut Harness, key: &str, n: usize) {
    let mut line = format!("zadd {key}");
    for i in 0..n {
        line.push_str(&format!(" {i} m{i}"));
    }
    assert_eq!(h.run(&line), format!(":{n}\r\n"));
}

#[test]
fn encodings_convert_where_redis_converts() {
    let mut h = Harness::new();
    fill(&mut h, "k", 128);
    assert_eq!(h.encoding("k"), "listpack");
    h.run("zadd k 1000 extra");
    assert_eq!(h.encoding("k"), "skiplist");
    // Never back on shrink...
    h.run("zremrangebyrank k 0 -3");
    assert_eq!(h.encoding("k"), "skiplist");
    // ...except for the results of the store commands.
    h.run("zunionstore u 1 k");
    assert_eq!(h.encoding("u"), "listpack");
    h.run("zrangestore r k 0 -1");
    assert_eq!(h.encoding("r"), "listpack");
    let long = "x".repeat(65);
    h.run(&format!("zadd big 1 {long}"));
    assert_eq!(h.encoding("big"), "skiplist");
    h.run(&format!("zadd big2 1 a 2 {long}"));
    assert_eq!(h.encoding("big2"), "skiplist");
    h.run(&format!("zrem big2 {long}"));
    assert_eq!(h.encoding("big2"), "skiplist");
    h.run("zinterstore i 1 big2");
    assert_eq!(h.encoding("i"), "listpack");
    h.cfg.zset_max_listpack_entries = 0;
    h.run("zadd z0 1 a");
    assert_eq!(h.encoding("z0"), "skiplist");
    h.run("zrangestore z1 z0 0 -1");
    assert_eq!(h.encoding("z1"), "skiplist");
}

#[test]
fn negative_zero_only_survives_in_a_skiplist() {
    let mut h = Harness::new();
    assert_eq!(h.run("zadd lp -0 x"), ":1\r\n");
    assert_eq!(h.run("zscore lp x"), "$1\r\n0\r\n");
    assert_eq!(h.run("zadd lp incr -0 y"), "$2\r\n-0\r\n");
    assert_eq!(h.run("zscore lp y"), "$1\r\n0\r\n");
    h.cfg.zset_max_listpack_entries = 0;
    assert_eq!(h.run("zadd sk -0 x"), ":1\r\n");
    assert_eq!(h.run("zscore sk x"), "$2\r\n-0\r\n");
    assert_eq!(h.run("zadd sk 0 x"), ":0\r\n");
    assert_eq!(h.run("zscore sk x"), "$2\r\n-0\r\n");
    assert_eq!(h.run("zadd sk -1 y"), ":1\r\n");
    assert_eq!(h.run("zincrby sk 1 y"), "$1\r\n0\r\n");
    assert_eq!(h.run("zrange sk 0 -1 withscores"), "*4\r\n$1\r\nx\r\n$2\r\n-0\r\n$1\r\ny\r\n$1\r\n0\r\n");
}

#[test]
fn expired_keys_are_gone_and_counted_as_misses() {
    let mut h = Harness::new();
    h.run("zadd k 1 a");
    let deadline = NOW_MS - 1;
    h.store.dbs[0].set_expire(b"k", deadline);
    let misses = h.store.keyspace_misses;
    assert_eq!(h.run("zcard k"), ":0\r\n");
    assert_eq!(h.store.keyspace_misses, misses + 1);
    assert_eq!(h.encoding("k"), "none");
    // A write to an expired key starts a new set.
    h.run("zadd k2 1 a");
    h.store.dbs[0].set_expire(b"k2", deadline);
    assert_eq!(h.run("zadd k2 xx 5 a"), ":0\r\n");
    assert_eq!(h.run("zadd k2 5 b"), ":1\r\n");
    assert_eq!(h.run("zrange k2 0 -1"), "*1\r\n$1\r\nb\r\n");
    // A TTL survives in-place writes and is dropped by the store commands.
    h.store.dbs[0].set_expire(b"k2", NOW_MS + 10_000);
    h.run("zadd k2 6 c");
    assert_eq!(h.store.dbs[0].peek(b"k2").map(|e| e.expire_at_ms), Some(NOW_MS + 10_000));
    h.run("zunionstore k2 1 k2");
    assert_eq!(h.store.dbs[0].peek(b"k2").map(|e| e.expire_at_ms), Some(0));
}

#[test]
fn dirty_counts_like_redis() {
    let mut h = Harness::new();
    let d = |h: &Harness| h.store.dirty;
    h.run("zadd k 1 a 2 b 3 c");
    assert_eq!(d(&h), 3);
    h.run("zadd k 1 a 5 b");
    assert_eq!(d(&h), 4);
    h.run("zincrby k 0 a");
    assert_eq!(d(&h), 4);
    h.run("zrem k a x");
    assert_eq!(d(&h), 5);
    h.run("zpopmin k 5");
    assert_eq!(d(&h), 7);
    h.run("zunionstore d 1 nokey");
    assert_eq!(d(&h), 7);
    h.run("zadd k 1 a");
    h.run("zunionstore d 1 k");
    assert_eq!(d(&h), 9);
    h.run("zunionstore d 1 nokey");
    assert_eq!(d(&h), 10);
}

#[test]
fn zscan_of_a_skiplist_returns_every_member_once() {
    let mut h = Harness::new();
    fill(&mut h, "k", 1000);
    assert_eq!(h.encoding("k"), "skiplist");
    let mut seen = std::collections::BTreeMap::new();
    let mut cursor = "0".to_string();
    for _ in 0..10_000 {
        let r = h.run(&format!("zscan k {cursor} count 7"));
        let parts: Vec<&str> = r.split("\r\n").collect();
        cursor = parts[2].to_string();
        let items: Vec<&str> = parts[4..].iter().copied().filter(|p| !p.starts_with('$') && !p.is_empty()).collect();
        for pair in items.chunks(2) {
            *seen.entry(pair[0].to_string()).or_insert(0) += 1;
            assert_eq!(pair[0][1..], *pair[1], "score of {}", pair[0]);
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(cursor, "0");
    assert_eq!(seen.len(), 1000);
    assert!(seen.values().all(|&n| n == 1));
    // MATCH filters after collection, as Redis does.
    let r = h.run("zscan k 0 count 100000 match m99*");
    assert!(r.starts_with("*2\r\n$1\r\n0\r\n*22\r\n"), "{r}");
}

#[test]
fn zrandmember_properties() {
    let mut h = Harness::new();
    fill(&mut h, "small", 10);
    fill(&mut h, "big", 300);
    for key in ["small", "big"] {
        for (count, distinct, len) in [(5i64, true, 5usize), (-20, false, 20), (1000, true, 0)] {
            let r = h.run(&format!("zrandmember {key} {count}"));
            let members: Vec<&str> = r.split("\r\n").skip(1).filter(|p| p.starts_with('m')).collect();
            let full = if key == "small" { 10 } else { 300 };
            let want = if len == 0 { full } else { len };
            assert_eq!(members.len(), want, "{key} {count}: {r}");
            let set: std::collections::HashSet<_> = members.iter().collect();
            if distinct {
                assert_eq!(set.len(), want);
            }
        }
        let r = h.run(&format!("zrandmember {key} 3 withscores"));
        let parts: Vec<&str> = r.split("\r\n").collect();
        assert_eq!(parts[0], "*6");
        for i in 0..3 {
            assert_eq!(parts[2 + 4 * i][1..], *parts[4 + 4 * i]);
        }
    }
}

#[test]
fn sets_count_as_sorted_sets_with_score_one() {
    use crate::store::types::set::SetValue;
    use crate::store::{Entry, Value};
    let mut h = Harness::new();
    let ints = SetValue::from_members([&b"1"[..], b"2", b"3"], 512);
    let table = SetValue::from_members([&b"2"[..], b"x"], 512);
    assert_eq!((ints.encoding(), table.encoding()), ("intset", "hashtable"));
    h.store.dbs[0].insert(b"si", Entry::new(Value::Set(ints)));
    h.store.dbs[0].insert(b"st", Entry::new(Value::Set(table)));
    h.run("zadd z 5 2 7 x 9 q");
    assert_eq!(
        h.run("zunion 2 si st withscores"),
        "*8\r\n$1\r\n1\r\n$1\r\n1\r\n$1\r\n3\r\n$1\r\n1\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n2\r\n"
    );
    assert_eq!(h.run("zinter 3 si st z withscores"), "*2\r\n$1\r\n2\r\n$1\r\n7\r\n");
    assert_eq!(
        h.run("zinter 2 z st weights 2 10 aggregate max withscores"),
        "*4\r\n$1\r\n2\r\n$2\r\n10\r\n$1\r\nx\r\n$2\r\n14\r\n"
    );
    assert_eq!(h.run("zdiff 2 si z withscores"), "*4\r\n$1\r\n1\r\n$1\r\n1\r\n$1\r\n3\r\n$1\r\n1\r\n");
    assert_eq!(h.run("zdiff 2 z si"), "*2\r\n$1\r\nx\r\n$1\r\nq\r\n");
    assert_eq!(h.run("zintercard 2 si st"), ":1\r\n");
    assert_eq!(h.run("zunionstore d 1 si"), ":3\r\n");
    assert_eq!(h.encoding("d"), "listpack");
    // ZINTER with "02" must not find the intset member 2.
    assert_eq!(h.run("zadd z2 1 02"), ":1\r\n");
    assert_eq!(h.run("zinter 2 z2 si"), "*0\r\n");
}

#[test]
fn key_positions_of_numkeys_commands() {
    let args = |s: &str| s.split(' ').map(|a| a.as_bytes().to_vec()).collect::<Vec<_>>();
    let keys = |f: fn(&[&[u8]]) -> Vec<usize>, s: &str| {
        let a = args(s);
        let r: Vec<&[u8]> = a.iter().map(|x| x.as_slice()).collect();
        f(&r)
    };
    assert_eq!(keys(super::numkeys_at_1, "zunion 2 a b weights 1 2"), vec![2, 3]);
    assert_eq!(keys(super::numkeys_at_1, "zmpop 1 a min"), vec![2]);
    assert_eq!(keys(super::numkeys_at_1, "zunion 3 a b"), Vec::<usize>::new());
    assert_eq!(keys(super::numkeys_at_1, "zunion 0 a"), Vec::<usize>::new());
    assert_eq!(keys(super::numkeys_at_1, "zunion x a"), Vec::<usize>::new());
    assert_eq!(keys(super::dest_and_numkeys_at_2, "zunionstore d 2 a b"), vec![1, 3, 4]);
    assert_eq!(keys(super::dest_and_numkeys_at_2, "zunionstore d 3 a b"), Vec::<usize>::new());
    for c in COMMANDS {
        assert_eq!(c.getkeys.is_some(), c.has(crate::command::spec::flag::MOVABLEKEYS), "{}", c.name);
    }
}

#[test]
fn score_parsing_follows_strtod_and_redis() {
    use super::{parse_score, parse_score_range};
    assert_eq!(parse_score(b"1.5"), Some(1.5));
    assert_eq!(parse_score(b"0x10"), Some(16.0));
    assert_eq!(parse_score(b"-0"), Some(-0.0));
    assert_eq!(parse_score(b"0e-999"), Some(0.0));
    assert_eq!(parse_score(b"1e-400"), None);
    assert_eq!(parse_score(b"0x1p-5000"), None);
    assert_eq!(parse_score(b"1e400"), None);
    assert_eq!(parse_score(b" 1"), None);
    assert_eq!(parse_score(b""), None);
    let r = parse_score_range(b"(", b" 2").ok().map(|r| (r.min, r.minex, r.max, r.maxex));
    assert_eq!(r, Some((0.0, true, 2.0, false)));
    let r = parse_score_range(b"(1e999", b"-1e999").ok().map(|r| (r.min, r.max));
    assert_eq!(r, Some((f64::INFINITY, f64::NEG_INFINITY)));
    assert!(parse_score_range(b"  ", b"1").is_err());
    assert!(parse_score_range(b"nan", b"1").is_err());
    assert!(parse_score_range(b"1x", b"1").is_err());
}

#[test]
fn empty_arguments_as_redis_reads_them() {
    let mut h = Harness::new();
    h.run("zadd k 0 a 1 b");
    assert_eq!(h.run_bytes(&[b"zrangebyscore", b"k", b"", b""]), "*1\r\n$1\r\na\r\n");
    assert_eq!(h.run_bytes(&[b"zrangebylex", b"k", b"", b"+"]), "-ERR min or max not valid string range item\r\n");
    assert_eq!(h.run_bytes(&[b"zadd", b"k", b"", b"a"]), "-ERR value is not a valid float\r\n");
    assert_eq!(
        h.run_bytes(&[b"zscan", b"k", b""]),
        "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n0\r\n$1\r\nb\r\n$1\r\n1\r\n"
    );
    assert_eq!(h.run_bytes(&[b"zadd", b"k", b"2", b""]), ":1\r\n");
    assert_eq!(h.run_bytes(&[b"zscore", b"k", b""]), "$1\r\n2\r\n");
}
