//! Unit tests of the list family, run through the shared data-command harness (a plain
//! `Store`, a fixed clock).
//! Replies are compared as raw RESP bytes; the scripts below were recorded from
//! redis-server 7.0.15 (each starts from an empty server).

pub(super) use crate::testing::harness::{Harness, NOW_MS};

/// Runs `(command, expected reply)` pairs on a fresh store, in RESP2.
pub(super) fn run_script(steps: &[(&str, &str)]) {
    let mut h = Harness::new();
    for (cmd, want) in steps {
        assert_eq!(h.run(cmd), *want, "command: {cmd}");
    }
    for db in &h.store.dbs {
        for slot in db.nonempty_slots() {
            for e in db.slot_table(slot).into_iter().flat_map(|t| t.values()) {
                if let crate::store::Value::List(l) = &e.value {
                    assert!(!l.is_empty(), "an empty list was left in the keyspace");
                    l.assert_consistent();
                }
            }
        }
    }
}

#[test]
fn script_basic() {
    run_script(&[
        ("LPUSH l a b c", ":3\r\n"),
        ("RPUSH l d e", ":5\r\n"),
        ("LPUSHX nolist x", ":0\r\n"),
        ("RPUSHX nolist x", ":0\r\n"),
        ("LPUSHX l z", ":6\r\n"),
        ("RPUSHX l y y2", ":8\r\n"),
        ("LLEN l", ":8\r\n"),
        ("LLEN nolist", ":0\r\n"),
        (
            "LRANGE l 0 -1",
            "*8\r\n$1\r\nz\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\ny\r\n$2\r\ny2\r\n",
        ),
        ("LRANGE l -3 -1", "*3\r\n$1\r\ne\r\n$1\r\ny\r\n$2\r\ny2\r\n"),
        (
            "LRANGE l -100 100",
            "*8\r\n$1\r\nz\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\ny\r\n$2\r\ny2\r\n",
        ),
        ("LRANGE l 5 2", "*0\r\n"),
        ("LRANGE l 20 30", "*0\r\n"),
        (
            "LRANGE l -9223372036854775808 9223372036854775807",
            "*8\r\n$1\r\nz\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\ny\r\n$2\r\ny2\r\n",
        ),
        ("LRANGE nolist 0 -1", "*0\r\n"),
        ("LINDEX l 0", "$1\r\nz\r\n"),
        ("LINDEX l -1", "$2\r\ny2\r\n"),
        ("LINDEX l 100", "$-1\r\n"),
        ("LINDEX l -100", "$-1\r\n"),
        ("LINDEX nolist 0", "$-1\r\n"),
        ("LSET l 1 B", "+OK\r\n"),
        ("LSET l -1 Y", "+OK\r\n"),
        ("LSET l 100 x", "-ERR index out of range\r\n"),
        ("LSET l -100 x", "-ERR index out of range\r\n"),
        (
            "LRANGE l 0 -1",
            "*8\r\n$1\r\nz\r\n$1\r\nB\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\ny\r\n$1\r\nY\r\n",
        ),
        ("LPOP l", "$1\r\nz\r\n"),
        ("RPOP l", "$1\r\nY\r\n"),
        ("LPOP l 2", "*2\r\n$1\r\nB\r\n$1\r\nb\r\n"),
        ("RPOP l 2", "*2\r\n$1\r\ny\r\n$1\r\ne\r\n"),
        ("LPOP l 0", "*0\r\n"),
        ("LRANGE l 0 -1", "*2\r\n$1\r\na\r\n$1\r\nd\r\n"),
        ("RPOP l 100", "*2\r\n$1\r\nd\r\n$1\r\na\r\n"),
        ("EXISTS l", ":0\r\n"),
        ("LPOP l", "$-1\r\n"),
        ("LPOP l 1", "*-1\r\n"),
        ("RPOP nolist 0", "*-1\r\n"),
    ]);
}

#[test]
fn script_edit() {
    run_script(&[
        ("RPUSH l a b c a b c a", ":7\r\n"),
        ("LINSERT l BEFORE b X", ":8\r\n"),
        ("LINSERT l after c Y", ":9\r\n"),
        ("LINSERT l before nope Z", ":-1\r\n"),
        ("LINSERT nolist before a b", ":0\r\n"),
        ("LINSERT l middle a b", "-ERR syntax error\r\n"),
        (
            "LRANGE l 0 -1",
            "*9\r\n$1\r\na\r\n$1\r\nX\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nY\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n",
        ),
        ("LREM l 2 a", ":2\r\n"),
        ("LRANGE l 0 -1", "*7\r\n$1\r\nX\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nY\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n"),
        ("LREM l -1 c", ":1\r\n"),
        ("LRANGE l 0 -1", "*6\r\n$1\r\nX\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nY\r\n$1\r\nb\r\n$1\r\na\r\n"),
        ("LREM l 0 b", ":2\r\n"),
        ("LRANGE l 0 -1", "*4\r\n$1\r\nX\r\n$1\r\nc\r\n$1\r\nY\r\n$1\r\na\r\n"),
        ("LREM l 0 zz", ":0\r\n"),
        ("LREM nolist 0 a", ":0\r\n"),
        ("LREM l -9223372036854775808 X", ":1\r\n"),
        ("LTRIM l 1 -2", "+OK\r\n"),
        ("LRANGE l 0 -1", "*1\r\n$1\r\nY\r\n"),
        ("LTRIM l 0 0", "+OK\r\n"),
        ("LRANGE l 0 -1", "*1\r\n$1\r\nY\r\n"),
        ("LTRIM l 5 1", "+OK\r\n"),
        ("EXISTS l", ":0\r\n"),
        ("LTRIM nolist 0 1", "+OK\r\n"),
        ("RPUSH t 1 2 3 4 5", ":5\r\n"),
        ("LTRIM t -2 -1", "+OK\r\n"),
        ("LRANGE t 0 -1", "*2\r\n$1\r\n4\r\n$1\r\n5\r\n"),
        ("LTRIM t -100 100", "+OK\r\n"),
        ("LRANGE t 0 -1", "*2\r\n$1\r\n4\r\n$1\r\n5\r\n"),
        ("LREM t 1 5", ":1\r\n"),
        ("LREM t 1 4", ":1\r\n"),
        ("EXISTS t", ":0\r\n"),
    ]);
}

#[test]
fn script_pos() {
    run_script(&[
        ("RPUSH l a b c 1 2 3 c c", ":8\r\n"),
        ("LPOS l c", ":2\r\n"),
        ("LPOS l c RANK 2", ":6\r\n"),
        ("LPOS l c RANK -1", ":7\r\n"),
        ("LPOS l c RANK -2", ":6\r\n"),
        ("LPOS l c COUNT 0", "*3\r\n:2\r\n:6\r\n:7\r\n"),
        ("LPOS l c COUNT 2", "*2\r\n:2\r\n:6\r\n"),
        ("LPOS l c COUNT 0 RANK -1", "*3\r\n:7\r\n:6\r\n:2\r\n"),
        ("LPOS l c COUNT 0 RANK 2", "*2\r\n:6\r\n:7\r\n"),
        ("LPOS l c COUNT 1 RANK -2", "*1\r\n:6\r\n"),
        ("LPOS l c MAXLEN 3", ":2\r\n"),
        ("LPOS l c MAXLEN 2", "$-1\r\n"),
        ("LPOS l c MAXLEN 2 COUNT 0", "*0\r\n"),
        ("LPOS l c RANK -1 MAXLEN 1", ":7\r\n"),
        ("LPOS l c RANK -1 MAXLEN 4 COUNT 0", "*2\r\n:7\r\n:6\r\n"),
        ("LPOS l x", "$-1\r\n"),
        ("LPOS l x COUNT 5", "*0\r\n"),
        ("LPOS l c RANK 10", "$-1\r\n"),
        ("LPOS l c RANK -9223372036854775808", ":7\r\n"),
        ("LPOS l c RANK -9223372036854775808 COUNT 1", "*3\r\n:7\r\n:6\r\n:2\r\n"),
        ("LPOS l c rank 1 rank 3", ":7\r\n"),
        ("LPOS nolist c COUNT 3", "*0\r\n"),
        ("LPOS nolist c", "$-1\r\n"),
    ]);
}

#[test]
fn script_move() {
    run_script(&[
        ("RPUSH a 1 2 3", ":3\r\n"),
        ("LMOVE a b LEFT RIGHT", "$1\r\n1\r\n"),
        ("LMOVE a b right left", "$1\r\n3\r\n"),
        ("LRANGE a 0 -1", "*1\r\n$1\r\n2\r\n"),
        ("LRANGE b 0 -1", "*2\r\n$1\r\n3\r\n$1\r\n1\r\n"),
        ("RPOPLPUSH a b", "$1\r\n2\r\n"),
        ("EXISTS a", ":0\r\n"),
        ("RPOPLPUSH a b", "$-1\r\n"),
        ("LMOVE a b LEFT LEFT", "$-1\r\n"),
        ("RPUSH r x y z", ":3\r\n"),
        ("LMOVE r r LEFT RIGHT", "$1\r\nx\r\n"),
        ("LRANGE r 0 -1", "*3\r\n$1\r\ny\r\n$1\r\nz\r\n$1\r\nx\r\n"),
        ("RPOPLPUSH r r", "$1\r\nx\r\n"),
        ("LRANGE r 0 -1", "*3\r\n$1\r\nx\r\n$1\r\ny\r\n$1\r\nz\r\n"),
        ("RPUSH one v", ":1\r\n"),
        ("LMOVE one one left left", "$1\r\nv\r\n"),
        ("LRANGE one 0 -1", "*1\r\n$1\r\nv\r\n"),
        ("SET s str", "+OK\r\n"),
        ("LMOVE r s LEFT LEFT", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        ("LRANGE r 0 -1", "*3\r\n$1\r\nx\r\n$1\r\ny\r\n$1\r\nz\r\n"),
        ("LMOVE s r LEFT LEFT", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        ("RPOPLPUSH nolist s", "$-1\r\n"),
        ("LMOVE r b LEFT up", "-ERR syntax error\r\n"),
    ]);
}

#[test]
fn script_mpop() {
    run_script(&[
        ("RPUSH a 1 2 3", ":3\r\n"),
        ("RPUSH b 4 5", ":2\r\n"),
        ("LMPOP 2 x a LEFT", "*2\r\n$1\r\na\r\n*1\r\n$1\r\n1\r\n"),
        ("LMPOP 2 x a RIGHT COUNT 10", "*2\r\n$1\r\na\r\n*2\r\n$1\r\n3\r\n$1\r\n2\r\n"),
        ("LMPOP 2 a b LEFT COUNT 1", "*2\r\n$1\r\nb\r\n*1\r\n$1\r\n4\r\n"),
        ("LMPOP 3 a x b right count 5", "*2\r\n$1\r\nb\r\n*1\r\n$1\r\n5\r\n"),
        ("LMPOP 1 b LEFT", "*-1\r\n"),
        ("EXISTS a b", ":0\r\n"),
        ("SET s v", "+OK\r\n"),
        ("RPUSH c 1", ":1\r\n"),
        ("LMPOP 2 s c LEFT", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        ("LMPOP 2 c s LEFT", "*2\r\n$1\r\nc\r\n*1\r\n$1\r\n1\r\n"),
        ("LMPOP 1 c LEFT count 1 count 2", "-ERR syntax error\r\n"),
        ("LMPOP 2 c LEFT", "-ERR syntax error\r\n"),
        ("LMPOP 1 c LEFT COUNT", "-ERR syntax error\r\n"),
        ("LMPOP 1 c LEFT COUNT 9223372036854775807", "*-1\r\n"),
        ("LMPOP 1 c LEFT COUNT -1", "-ERR count should be greater than 0\r\n"),
        ("LMPOP 0 c LEFT", "-ERR numkeys should be greater than 0\r\n"),
        ("LMPOP 9223372036854775807 c LEFT", "-ERR syntax error\r\n"),
    ]);
}

#[test]
fn script_err() {
    run_script(&[
        ("SET s v", "+OK\r\n"),
        ("LPUSH s a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        ("RPUSHX s a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        ("LLEN s", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        ("LRANGE s 0 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        ("LINDEX s x", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        ("LINDEX s 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        ("LSET s 0 x", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        ("LSET s x x", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        ("LINSERT s before a b", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        ("LREM s 0 a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        ("LTRIM s 0 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        ("LPOS s a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        ("LPOP s", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        ("RPOP s 2", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        ("LPOP s x", "-ERR value is out of range, must be positive\r\n"),
        ("LPOP s 1 2", "-ERR wrong number of arguments for 'lpop' command\r\n"),
        ("LPOP nolist -1", "-ERR value is out of range, must be positive\r\n"),
        ("LPOP nolist 9223372036854775807", "*-1\r\n"),
        ("RPUSH l a", ":1\r\n"),
        ("LPOP l 9223372036854775807", "*1\r\n$1\r\na\r\n"),
    ]);
}
