//! Keyspace events of the list commands: for each path, the events redis-server 7.0.15 raises
//! with `notify-keyspace-events KEAn` (`new` included), in its order. The blocking commands
//! share `pop_from` and `move_element` with these, so their immediate paths are covered too.

use crate::command::family::events_test::{harness, harness_with, steps};

#[test]
fn push_and_pop() {
    let mut h = harness();
    steps(
        &mut h,
        &[
            ("lpush l a b", "new:l lpush:l"),
            ("lpush l c", "lpush:l"),
            ("rpush l d", "rpush:l"),
            ("lpushx l e", "lpush:l"),
            ("rpushx l f", "rpush:l"),
            ("lpushx nol e", ""),
            ("rpushx nol e", ""),
            ("rpush r a", "new:r rpush:r"),
            ("lpop l", "lpop:l"),
            ("rpop l", "rpop:l"),
            ("lpop l 0", ""),
            ("lpop l x", ""),
            ("lpop l 2", "lpop:l"),
            ("rpop l 10", "rpop:l del:l"),
            ("lpop l", ""),
            ("lpop nol 2", ""),
            ("rpop r", "rpop:r del:r"),
            ("set s v", "new:s set:s"),
            ("lpush s a", ""),
            ("lpop s", ""),
            ("llen l", ""),
            ("lrange l 0 -1", ""),
        ],
    );
}

#[test]
fn edits() {
    let mut h = harness();
    steps(
        &mut h,
        &[
            ("rpush l a b c", "new:l rpush:l"),
            ("lset l 0 x", "lset:l"),
            ("lset l 9 x", ""),
            ("lset nol 0 x", ""),
            ("linsert l before b y", "linsert:l"),
            ("linsert l after zz y", ""),
            ("linsert nol after zz y", ""),
            ("lrem l 0 zz", ""),
            ("lrem l 1 y", "lrem:l"),
            ("lrem nol 1 y", ""),
            ("ltrim l 0 -1", "ltrim:l"),
            ("ltrim l 1 1", "ltrim:l"),
            ("ltrim l 5 6", "ltrim:l del:l"),
            ("ltrim l 5 6", ""),
            ("rpush l a b", "new:l rpush:l"),
            ("lrem l 0 a", "lrem:l"),
            ("lrem l 0 b", "lrem:l del:l"),
        ],
    );
}

#[test]
fn moves_and_mpop() {
    let mut h = harness();
    steps(
        &mut h,
        &[
            ("rpush s a b", "new:s rpush:s"),
            ("lmove s d left right", "new:d rpush:d lpop:s"),
            ("lmove s d left left", "lpush:d lpop:s del:s"),
            ("lmove d d left right", "rpush:d lpop:d"),
            ("lmove d d right left", "lpush:d rpop:d"),
            ("lmove nos d left right", ""),
            ("set str v", "new:str set:str"),
            ("lmove d str left right", ""),
            ("lmove str d left right", ""),
            ("rpush s a", "new:s rpush:s"),
            ("rpoplpush s s", "lpush:s rpop:s"),
            ("rpoplpush s d", "lpush:d rpop:s del:s"),
            ("rpoplpush nos d", ""),
            ("rpush s a b c", "new:s rpush:s"),
            ("lmpop 2 nos s left count 2", "lpop:s"),
            ("lmpop 2 nos s right count 2", "rpop:s del:s"),
            ("lmpop 2 nos s right", ""),
            ("lmpop 2 d s left", "lpop:d"),
            ("lmpop 1 d right count 9", "rpop:d del:d"),
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
            ("llen nokey", "keymiss:nokey"),
            ("lrange nokey 0 -1", "keymiss:nokey"),
            ("lindex nokey 0", "keymiss:nokey"),
            ("lpos nokey a", "keymiss:nokey"),
            ("lpop nokey", ""),
            ("rpop nokey 2", ""),
            ("lmove nokey d left right", ""),
            ("lmpop 1 nokey left", ""),
            ("lset nokey 0 a", ""),
            ("linsert nokey before a b", ""),
            ("lrem nokey 0 a", ""),
            ("ltrim nokey 0 1", ""),
            ("lpushx nokey a", ""),
        ],
    );
}
