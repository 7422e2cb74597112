//! Keyspace events of the generic key commands: for each path, the events redis-server
//! 7.0.15 raises with `notify-keyspace-events KEAn` (`new` included), in its order.

use crate::command::family::events_test::{ev, harness, harness_with, steps};
use crate::store::{Entry, StrValue, Value};

#[test]
fn del_and_expire() {
    let mut h = harness();
    steps(
        &mut h,
        &[
            ("set a 1", "new:a set:a"),
            ("del a nokey", "del:a"),
            ("del a", ""),
            ("mset a 1 b 2", "new:a set:a new:b set:b"),
            ("unlink a b a", "del:a del:b"),
            ("set a 1", "new:a set:a"),
            ("expire a 100", "expire:a"),
            ("expire a 100 NX", ""),
            ("expire a 100 XX", "expire:a"),
            ("expire a 200 LT", ""),
            ("pexpire a 100000", "expire:a"),
            ("expireat a 9999999999", "expire:a"),
            ("pexpireat a 9999999999000", "expire:a"),
            ("expire a x", ""),
            ("expire nokey 100", ""),
            ("persist a", "persist:a"),
            ("persist a", ""),
            ("persist nokey", ""),
            ("expire a -1", "del:a"),
            ("set a 1", "new:a set:a"),
            ("pexpireat a 1", "del:a"),
            ("set a 1", "new:a set:a"),
            ("expireat a 0 NX", "del:a"),
            ("touch a", ""),
            ("exists a", ""),
            ("type a", ""),
            ("ttl a", ""),
        ],
    );
}

#[test]
fn del_of_an_expired_key_is_an_expired_event() {
    let mut h = harness();
    let mut e = Entry::new(Value::Str(StrValue::from_bytes(b"v")));
    e.expire_at_ms = h.now_ms - 1;
    h.store.dbs[0].insert(b"gone", e);
    h.run("set live 1");
    h.store.events.clear();
    // Redis raises `expired` for `gone` (from its lazy expiry) before `del` for `live`.
    let line = "del gone live";
    assert_eq!(ev(&mut h, line), "expired:gone del:live");
}

#[test]
fn rename_copy_move() {
    let mut h = harness();
    steps(
        &mut h,
        &[
            ("set a 1", "new:a set:a"),
            ("rename a b", "new:b rename_from:a rename_to:b"),
            ("set a 1", "new:a set:a"),
            ("rename a b", "new:b rename_from:a rename_to:b"),
            ("rename b b", ""),
            ("rename nokey b", ""),
            ("renamenx b b", ""),
            ("set a 1", "new:a set:a"),
            ("renamenx a b", ""),
            ("renamenx a c", "new:c rename_from:a rename_to:c"),
            ("set x 1 EX 100", "new:x set:x expire:x"),
            ("rename x y", "new:y rename_from:x rename_to:y"),
            ("copy c d", "new:d copy_to:d"),
            ("copy c d", ""),
            ("copy c d REPLACE", "new:d copy_to:d"),
            ("copy y z", "new:z copy_to:z"),
            ("copy nokey d", ""),
            ("copy c d DB 1", "new@1:d copy_to@1:d"),
            ("copy c d DB 1", ""),
            ("copy c d DB 1 REPLACE", "new@1:d copy_to@1:d"),
            ("copy c c DB 1 REPLACE", "new@1:c copy_to@1:c"),
            ("move c 1", ""),
            ("move nokey 1", ""),
            ("move d 2", "new@2:d move_from:d move_to@2:d"),
            ("move y 3", "new@3:y move_from:y move_to@3:y"),
        ],
    );
}

#[test]
fn events_name_the_selected_db() {
    let mut h = harness();
    h.dbi = 5; // select 5
    steps(
        &mut h,
        &[
            ("set a 1", "new:a set:a"),
            ("move a 0", "new@0:a move_from:a move_to@0:a"),
            ("copy nokey a DB 0", ""),
            ("set b 1", "new:b set:b"),
            ("copy b a DB 0 REPLACE", "new@0:a copy_to@0:a"),
            ("del b", "del:b"),
        ],
    );
}

/// `keymiss` (class `m`): raised by read lookups that find nothing, not by OBJECT (which
/// looks up without notifying) nor by write lookups.
#[test]
fn read_misses() {
    let mut h = harness_with("KEm");
    steps(
        &mut h,
        &[
            ("exists nokey nokey", "keymiss:nokey keymiss:nokey"),
            ("type nokey", "keymiss:nokey"),
            ("ttl nokey", "keymiss:nokey"),
            ("pttl nokey", "keymiss:nokey"),
            ("expiretime nokey", "keymiss:nokey"),
            ("touch nokey", "keymiss:nokey"),
            ("copy nokey d", "keymiss:nokey"),
            ("object encoding nokey", ""),
            ("object refcount nokey", ""),
            ("object idletime nokey", ""),
            ("object freq nokey", ""),
            ("rename nokey d", ""),
            ("expire nokey 10", ""),
            ("persist nokey", ""),
            ("move nokey 1", ""),
            ("del nokey", ""),
        ],
    );
}
