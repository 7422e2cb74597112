//! Keyspace events of the string commands: for each path, the events redis-server 7.0.15
//! raises with `notify-keyspace-events KEAn` (`new` included), in its order.

use crate::command::family::events_test::{ev, harness, harness_with, steps};

#[test]
fn set_family() {
    let mut h = harness();
    steps(
        &mut h,
        &[
            ("set k v", "new:k set:k"),
            ("set k v2", "set:k"),
            ("set k v3 EX 100", "set:k expire:k"),
            ("set k v4 KEEPTTL", "set:k"),
            ("set k v5 NX", ""),
            ("set k v5 XX", "set:k"),
            ("set nk v XX", ""),
            ("set k v6 GET", "set:k"),
            ("set k v7 GET EX 10", "set:k expire:k"),
            ("set k2 v PX 100000 NX", "new:k2 set:k2 expire:k2"),
            ("set k2 v PX 100000 NX", ""),
            ("set k v EX 0", ""),
            ("setnx k v", ""),
            ("setnx k9 v", "new:k9 set:k9"),
            ("setex k 100 v", "set:k expire:k"),
            ("psetex k 100000 v", "set:k expire:k"),
            ("setex k 0 v", ""),
            ("psetex p1 100000 v", "new:p1 set:p1 expire:p1"),
            ("mset a 1 b 2", "new:a set:a new:b set:b"),
            ("mset a 1 a 2", "set:a set:a"),
            ("msetnx a 1 c 2", ""),
            ("msetnx c 1 d 2", "new:c set:c new:d set:d"),
            ("getset a 5", "set:a"),
            ("getset newg 5", "new:newg set:newg"),
        ],
    );
    h.run("hset h f v");
    h.store.events.clear();
    // A failed command raises nothing.
    assert_eq!(ev(&mut h, "set h v GET"), "");
    assert_eq!(ev(&mut h, "getset h v"), "");
}

#[test]
fn getdel_getex() {
    let mut h = harness();
    h.run("mset a 1 b 2");
    h.store.events.clear();
    steps(
        &mut h,
        &[
            ("getdel a", "del:a"),
            ("getdel a", ""),
            ("getex b", ""),
            ("getex b EX 100", "expire:b"),
            ("getex b PERSIST", "persist:b"),
            ("getex b PERSIST", ""),
            ("getex b PX 5000", "expire:b"),
            ("getex b EXAT 9999999999", "expire:b"),
            ("getex b PXAT 1", "del:b"),
            ("getex b EX 10", ""),
        ],
    );
}

#[test]
fn counters_and_ranges() {
    let mut h = harness();
    steps(
        &mut h,
        &[
            ("append ap x", "new:ap append:ap"),
            ("append ap y", "append:ap"),
            ("incr i", "new:i incrby:i"),
            ("incr i", "incrby:i"),
            ("decr i", "incrby:i"),
            ("incrby i 5", "incrby:i"),
            ("decrby i 5", "incrby:i"),
            ("decr nd", "new:nd incrby:nd"),
            ("incrbyfloat f 1.5", "new:f incrbyfloat:f"),
            ("incrbyfloat f 1.5", "incrbyfloat:f"),
            ("incr ap", ""),
            ("incrbyfloat ap 1", ""),
            ("incrby i x", ""),
            ("setrange sr 0 ", ""),
            ("setrange sr 2 ab", "new:sr setrange:sr"),
            ("setrange sr 0 x", "setrange:sr"),
            ("setrange sr 0 ", ""),
            ("setrange sr -1 x", ""),
            ("get sr", ""),
            ("strlen sr", ""),
            ("getrange sr 0 -1", ""),
        ],
    );
}

/// `keymiss` (class `m`): raised by read lookups that find nothing, never by write lookups.
#[test]
fn read_misses() {
    let mut h = harness_with("KEm");
    steps(
        &mut h,
        &[
            ("get nokey", "keymiss:nokey"),
            ("mget nokey nokey2", "keymiss:nokey keymiss:nokey2"),
            ("strlen nokey", "keymiss:nokey"),
            ("getrange nokey 0 1", "keymiss:nokey"),
            ("substr nokey 0 1", "keymiss:nokey"),
            ("lcs nokey nokey2", "keymiss:nokey keymiss:nokey2"),
            ("getex nokey", "keymiss:nokey"),
            ("getdel nokey", "keymiss:nokey"),
            ("getset nk v", "keymiss:nk"),
            ("set k v GET", "keymiss:k"),
            ("set k v GET", ""),
            ("get k", ""),
            ("incr newi", ""),
            ("append newa x", ""),
            ("setrange newr 1 x", ""),
            ("incrbyfloat newf 1", ""),
            ("mset a 1 b 2", ""),
            ("setnx k v", ""),
        ],
    );
}
