//! Keyspace events of the set commands: for each path, the events redis-server 7.0.15 raises
//! with `notify-keyspace-events KEAn` (`new` included), in its order.

use crate::command::family::events_test::{harness, harness_with, steps};

#[test]
fn add_remove_pop() {
    let mut h = harness();
    steps(
        &mut h,
        &[
            ("sadd s a b", "new:s sadd:s"),
            ("sadd s a", ""),
            ("sadd s c", "sadd:s"),
            ("srem s zz", ""),
            ("srem s a", "srem:s"),
            ("srem s b c", "srem:s del:s"),
            ("srem s b", ""),
            ("sadd s a b c", "new:s sadd:s"),
            ("spop s", "spop:s"),
            ("spop s 0", ""),
            ("spop s 1", "spop:s"),
            ("spop s 5", "spop:s del:s"),
            ("spop s", ""),
            ("spop s 2", ""),
            ("sadd s 1 2 3 4 5", "new:s sadd:s"),
            ("spop s 10", "spop:s del:s"),
            ("sadd s 1", "new:s sadd:s"),
            ("spop s", "spop:s del:s"),
            ("set str v", "new:str set:str"),
            ("sadd str a", ""),
            ("spop str", ""),
            ("sadd s 1 2", "new:s sadd:s"),
            ("sismember s 1", ""),
            ("smembers s", ""),
            ("srandmember s 5", ""),
        ],
    );
}

#[test]
fn smove() {
    let mut h = harness();
    steps(
        &mut h,
        &[
            ("sadd s a b", "new:s sadd:s"),
            ("smove s d a", "srem:s new:d sadd:d"),
            ("smove s d zz", ""),
            ("smove s d b", "srem:s del:s sadd:d"),
            ("sadd s a", "new:s sadd:s"),
            ("smove s d a", "srem:s del:s"),
            ("sadd s x", "new:s sadd:s"),
            ("smove s s x", ""),
            ("smove s s zz", ""),
            ("smove nos d x", ""),
            ("set str v", "new:str set:str"),
            ("smove s str x", ""),
        ],
    );
}

#[test]
fn stores() {
    let mut h = harness();
    steps(
        &mut h,
        &[
            ("sadd a 1 2 3", "new:a sadd:a"),
            ("sadd b 2 3 4", "new:b sadd:b"),
            ("sinterstore dst a b", "new:dst sinterstore:dst"),
            ("sinterstore dst a b", "sinterstore:dst"),
            ("sinterstore dst a nokey", "del:dst"),
            ("sinterstore dst a nokey", ""),
            ("sunionstore dst a b", "new:dst sunionstore:dst"),
            ("sunionstore dst nokey nokey2", "del:dst"),
            ("sdiffstore dst a b", "new:dst sdiffstore:dst"),
            ("sdiffstore dst a a", "del:dst"),
            ("sdiffstore dst a a", ""),
            ("sadd x 1", "new:x sadd:x"),
            ("sinterstore x x b", "del:x"),
            ("sinterstore x a b", "new:x sinterstore:x"),
            ("sunionstore x x", "sunionstore:x"),
            ("set str v", "new:str set:str"),
            ("sunionstore str a", "sunionstore:str"),
            ("set str2 v", "new:str2 set:str2"),
            ("sdiffstore a2 str2", ""),
            ("sinterstore a2 a str2", ""),
            ("sinterstore dst a b", "new:dst sinterstore:dst"),
            ("sinterstore dst a nokey b", "del:dst"),
            ("sinter a b", ""),
            ("sintercard 2 a b", ""),
        ],
    );
}

/// `keymiss` (class `m`): raised by read lookups that find nothing, never by write lookups
/// (the STORE forms read their sources like the plain forms; SMOVE and SPOP write).
#[test]
fn read_misses() {
    let mut h = harness_with("KEm");
    steps(
        &mut h,
        &[
            ("smembers nokey", "keymiss:nokey"),
            ("sismember nokey a", "keymiss:nokey"),
            ("smismember nokey a b", "keymiss:nokey"),
            ("scard nokey", "keymiss:nokey"),
            ("srandmember nokey", "keymiss:nokey"),
            ("srandmember nokey 3", "keymiss:nokey"),
            ("sscan nokey 0", "keymiss:nokey"),
            ("sinter nokey nokey2", "keymiss:nokey keymiss:nokey2"),
            ("sintercard 2 nokey nokey2", "keymiss:nokey keymiss:nokey2"),
            ("sunion nokey nokey2", "keymiss:nokey keymiss:nokey2"),
            ("sdiff nokey nokey2", "keymiss:nokey keymiss:nokey2"),
            ("sinterstore d nokey nokey2", "keymiss:nokey keymiss:nokey2"),
            ("sunionstore d nokey nokey2", "keymiss:nokey keymiss:nokey2"),
            ("sdiffstore d nokey nokey2", "keymiss:nokey keymiss:nokey2"),
            ("spop nokey", ""),
            ("spop nokey 2", ""),
            ("srem nokey a", ""),
            ("smove nokey d a", ""),
        ],
    );
}
