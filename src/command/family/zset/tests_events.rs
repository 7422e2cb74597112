//! Keyspace events of the sorted-set commands: for each path, the events redis-server 7.0.15
//! raises with `notify-keyspace-events KEAn` (`new` included), in its order. The blocking pops
//! share `generic_zpop` with ZPOPMIN/ZPOPMAX/ZMPOP, so their immediate paths are covered too.

use crate::command::family::events_test::{ev, harness, harness_with, steps};

#[test]
fn add_and_incr() {
    let mut h = harness();
    steps(
        &mut h,
        &[
            ("zadd z 1 a", "new:z zadd:z"),
            ("zadd z 1 a", ""),
            ("zadd z 2 a", "zadd:z"),
            ("zadd z XX 3 q", ""),
            ("zadd z INCR 1 a", "zincr:z"),
            ("zincrby z 1 a", "zincr:z"),
            ("zincrby z2 1 a", "new:z2 zincr:z2"),
            ("zadd z nx 5 a", ""),
            ("zadd z ch 5 a", "zadd:z"),
            ("zadd z gt 1 a", ""),
            ("zadd z incr nx 1 a", ""),
            ("zadd z incr xx 1 nokey", ""),
            ("zadd nz xx 1 a", ""),
            ("zadd z incr +inf a", "zincr:z"),
            // inf + -inf is NaN: an error, and nothing changed.
            ("zadd z incr -inf a", ""),
            ("zadd z 1 a bad b", ""),
            ("set s v", "new:s set:s"),
            ("zadd s 1 a", ""),
            ("zincrby s 1 a", ""),
            ("zcard z", ""),
        ],
    );
}

#[test]
fn removals() {
    let mut h = harness();
    steps(
        &mut h,
        &[
            ("zadd z 1 a 2 b 3 c 4 d", "new:z zadd:z"),
            ("zrem z nope", ""),
            ("zrem z a", "zrem:z"),
            ("zrem nz a", ""),
            ("zrem z b c d", "zrem:z del:z"),
            ("zadd z 1 a 2 b 3 c 4 d 5 e", "new:z zadd:z"),
            ("zremrangebyscore z 1 1", "zremrangebyscore:z"),
            ("zremrangebyscore z 100 200", ""),
            ("zremrangebyrank z 0 0", "zremrangebyrank:z"),
            ("zremrangebyrank z 5 6", ""),
            ("zremrangebylex z [c [c", "zremrangebylex:z"),
            ("zremrangebylex z [x [y", ""),
            ("zremrangebyrank z 0 -1", "zremrangebyrank:z del:z"),
            ("zremrangebyrank z 0 -1", ""),
            ("zadd z 1 a", "new:z zadd:z"),
            ("zremrangebyscore z -inf +inf", "zremrangebyscore:z del:z"),
            ("zadd z 1 a", "new:z zadd:z"),
            ("zremrangebylex z - +", "zremrangebylex:z del:z"),
            ("set s v", "new:s set:s"),
            ("zrem s a", ""),
            ("zremrangebyrank s 0 -1", ""),
        ],
    );
}

#[test]
fn pops() {
    let mut h = harness();
    steps(
        &mut h,
        &[
            ("zadd z 1 a 2 b 3 c", "new:z zadd:z"),
            ("zpopmin z", "zpopmin:z"),
            ("zpopmin z 0", ""),
            ("zpopmax z 5", "zpopmax:z del:z"),
            ("zpopmax z", ""),
            ("zpopmin nz 3", ""),
            ("zadd z 1 a 2 b", "new:z zadd:z"),
            ("zmpop 2 noz z min count 1", "zpopmin:z"),
            ("zmpop 1 noz max", ""),
            ("zmpop 2 noz z max", "zpopmax:z del:z"),
            ("set s v", "new:s set:s"),
            ("zpopmin s", ""),
            ("zmpop 1 s min", ""),
        ],
    );
}

#[test]
fn stores() {
    let mut h = harness();
    steps(
        &mut h,
        &[
            ("zadd z1 1 x 2 y", "new:z1 zadd:z1"),
            ("zadd z3 1 y 2 w", "new:z3 zadd:z3"),
            ("sadd s1 y q", "new:s1 sadd:s1"),
            ("zunionstore dst 2 z1 z3", "new:dst zunionstore:dst"),
            ("zunionstore dst 2 z1 z3", "zunionstore:dst"),
            ("zinterstore dst 2 z1 z3", "zinterstore:dst"),
            ("zdiffstore dst 2 z1 z3", "zdiffstore:dst"),
            ("zinterstore dst 2 z1 noz", "del:dst"),
            ("zinterstore dst 2 z1 noz", ""),
            ("zunionstore dst2 2 z1 s1", "new:dst2 zunionstore:dst2"),
            ("zdiffstore dst2 2 z1 z1", "del:dst2"),
            ("zdiffstore dst2 1 noz", ""),
            ("zunionstore z1 2 z1 z3", "zunionstore:z1"),
            ("zunion 2 z1 z3", ""),
            ("zintercard 2 z1 z3", ""),
            ("zrangestore dst2 z1 0 -1", "new:dst2 zrangestore:dst2"),
            ("zrangestore dst2 z1 0 -1", "zrangestore:dst2"),
            ("zrangestore dst2 z1 5 6", "del:dst2"),
            ("zrangestore dst2 z1 5 6", ""),
            ("zrangestore dst2 noz 0 -1", ""),
            ("set dst2 v", "new:dst2 set:dst2"),
            ("zrangestore dst2 noz 0 -1", "del:dst2"),
            ("set dst2 v", "new:dst2 set:dst2"),
            ("zrangestore dst2 z1 0 0", "zrangestore:dst2"),
            ("set dst2 v", "set:dst2"),
            ("zunionstore dst2 1 z1", "zunionstore:dst2"),
        ],
    );
}

/// `keymiss` (class `m`): raised by read lookups that find nothing, never by write lookups;
/// the set operations raise one per missing input, before any argument error.
#[test]
fn read_misses() {
    let mut h = harness_with("KEm");
    steps(
        &mut h,
        &[
            ("zcard n", "keymiss:n"),
            ("zcount n 0 1", "keymiss:n"),
            ("zlexcount n - +", "keymiss:n"),
            ("zscore n a", "keymiss:n"),
            ("zmscore n a b", "keymiss:n"),
            ("zrank n a", "keymiss:n"),
            ("zrevrank n a", "keymiss:n"),
            ("zrange n 0 -1", "keymiss:n"),
            ("zrange n 0 -1 byscore", "keymiss:n"),
            ("zrangebyscore n 0 1", "keymiss:n"),
            ("zrevrangebyscore n 1 0", "keymiss:n"),
            ("zrangebylex n - +", "keymiss:n"),
            ("zrevrangebylex n + -", "keymiss:n"),
            ("zrevrange n 0 1", "keymiss:n"),
            ("zrandmember n", "keymiss:n"),
            ("zrandmember n 0", "keymiss:n"),
            ("zrandmember n -3 withscores", "keymiss:n"),
            ("zscan n 0", "keymiss:n"),
            ("zrange n 0 -1 bad", ""),
            ("zadd z 1 a", ""),
            ("zscore z nope", ""),
            ("zrem n a", ""),
            ("zincrby n2 1 a", ""),
            ("zpopmin n", ""),
            ("zmpop 1 n min", ""),
            ("zremrangebyrank n 0 -1", ""),
            ("zunion 2 z noz", "keymiss:noz"),
            ("zinter 2 noz z", "keymiss:noz"),
            ("zdiff 2 noz noz2", "keymiss:noz keymiss:noz2"),
            ("zintercard 2 noz z", "keymiss:noz"),
            ("zinterstore dst 2 z noz", "keymiss:noz"),
            ("zunionstore dst3 1 nokey weights 2 bad", "keymiss:nokey"),
            ("zrangestore dst2 noz 0 -1", "keymiss:noz"),
            ("geodist n a b", "keymiss:n"),
            ("geohash n a", "keymiss:n"),
            ("geopos n a", "keymiss:n"),
            ("geosearch n fromlonlat 0 0 byradius 1 km", "keymiss:n"),
            ("georadius n 0 0 1 km", "keymiss:n"),
            ("geosearchstore d n fromlonlat 0 0 byradius 1 km", "keymiss:n"),
        ],
    );
}

/// GEOADD's events are ZADD's (raised once), and the geo stores raise `new` before their own.
#[test]
fn geo_through_zadd() {
    let mut h = harness();
    steps(
        &mut h,
        &[
            ("geoadd g 13.361389 38.115556 Palermo", "new:g zadd:g"),
            ("geoadd g 13.361389 38.115556 Palermo", ""),
            ("geoadd g xx ch 13.361 38.115556 Palermo", "zadd:g"),
        ],
    );
    // The store events' names are outside the classes `ev` knows, so they are read directly.
    let mut events = |line: &str| {
        h.run(line);
        h.store.collect_events();
        h.store.events.drain(..).map(|e| format!("{}:{}", e.event, String::from_utf8_lossy(&e.key))).collect::<Vec<_>>()
    };
    assert_eq!(events("georadius g 13 38 200 km store d"), ["new:d", "georadiusstore:d"]);
    assert_eq!(events("geosearchstore d g fromlonlat 0 0 byradius 1 km"), ["del:d"]);
    assert_eq!(events("geosearchstore d g frommember Palermo byradius 1 km"), ["new:d", "geosearchstore:d"]);
}

/// A key past its deadline counts as absent: a write over it raises `expired` (from the lazy
/// expiry) before `new`, while a store's deletion of it is a plain `del`.
#[test]
fn over_expired_keys() {
    let mut h = harness();
    for key in ["e", "d", "f"] {
        h.run(&format!("zadd {key} 1 a"));
        h.run(&format!("pexpire {key} 50"));
    }
    h.run("zadd z1 1 x");
    h.now_ms += 100;
    h.store.events.clear();
    assert_eq!(ev(&mut h, "zadd e 1 b"), "expired:e new:e zadd:e");
    assert_eq!(ev(&mut h, "zunionstore d 1 z1"), "expired:d new:d zunionstore:d");
    assert_eq!(ev(&mut h, "zinterstore f 2 z1 nokey"), "del:f");
}
