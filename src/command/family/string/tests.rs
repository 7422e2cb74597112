//! Unit tests of the string family, run through `DataCtx` on a plain `Store` with a fixed
//! clock. Replies are compared as raw RESP bytes, so shapes and error texts are checked
//! exactly. Expected replies were taken from redis-server 7.0.15.

pub(super) use crate::testing::harness::{Harness, NOW_MS};

pub(super) fn bulk(s: &str) -> String {
    format!("${}\r\n{}\r\n", s.len(), s)
}

pub(super) const OK: &str = "+OK\r\n";
pub(super) const NIL: &str = "$-1\r\n";
pub(super) const SYNTAX: &str = "-ERR syntax error\r\n";
pub(super) const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";

#[test]
fn get_set_basics() {
    let mut h = Harness::new();
    assert_eq!(h.run("GET k"), NIL);
    assert_eq!(h.run("SET k hello"), OK);
    assert_eq!(h.run("GET k"), bulk("hello"));
    assert_eq!(h.store.dirty, 1);
    assert_eq!((h.store.keyspace_hits, h.store.keyspace_misses), (1, 1));
    assert_eq!(h.run("GET"), "-ERR wrong number of arguments for 'get' command\r\n");
    assert_eq!(h.run("SET k"), "-ERR wrong number of arguments for 'set' command\r\n");
    h.resp3 = true;
    assert_eq!(h.run("GET nope"), "_\r\n");
}

#[test]
fn set_encodings() {
    let mut h = Harness::new();
    h.run("SET i 12345");
    assert_eq!(h.encoding("i"), "int");
    h.run("SET z 012");
    assert_eq!(h.encoding("z"), "embstr");
    h.run("SET m -0");
    assert_eq!(h.encoding("m"), "embstr");
    h.run(&format!("SET e {}", "x".repeat(44)));
    assert_eq!(h.encoding("e"), "embstr");
    h.run(&format!("SET r {}", "x".repeat(45)));
    assert_eq!(h.encoding("r"), "raw");
    assert_eq!(h.run("GET i"), bulk("12345"));
}

#[test]
fn set_options() {
    let mut h = Harness::new();
    assert_eq!(h.run("SET k v NX"), OK);
    assert_eq!(h.run("SET k v2 NX"), NIL);
    assert_eq!(h.run("SET k v2 XX"), OK);
    assert_eq!(h.run("SET other v XX"), NIL);
    assert_eq!(h.run("GET other"), NIL);
    assert_eq!(h.run("SET k v3 GET"), bulk("v2"));
    assert_eq!(h.run("SET new v GET"), NIL);
    assert_eq!(h.run("SET new v4 NX GET"), bulk("v"));
    assert_eq!(h.run("GET new"), bulk("v"));
    assert_eq!(h.run("SET new2 x NX GET"), NIL);
    assert_eq!(h.run("GET new2"), bulk("x"));
    assert_eq!(h.run("SET k v nx xx"), SYNTAX);
    assert_eq!(h.run("SET k v xx nx"), SYNTAX);
    assert_eq!(h.run("SET k v EX 10 PX 100"), SYNTAX);
    assert_eq!(h.run("SET k v EX 10 KEEPTTL"), SYNTAX);
    assert_eq!(h.run("SET k v KEEPTTL EXAT 10"), SYNTAX);
    assert_eq!(h.run("SET k v PERSIST"), SYNTAX);
    assert_eq!(h.run("SET k v EX"), SYNTAX);
    assert_eq!(h.run("SET k v foo"), SYNTAX);
    assert_eq!(h.run("SET k v nx nx get get"), bulk("v3"));
    // The same expiry kind twice is accepted; the last value wins.
    assert_eq!(h.run("SET t v EX 10 EX 20"), OK);
    assert_eq!(h.deadline_ms("t"), NOW_MS + 20_000);
    // An option word is read as a C string: "nx\0junk" is NX.
    assert_eq!(h.run_bytes(&[b"set", b"k", b"v", b"nx\0junk"]), NIL);
}

#[test]
fn set_expiry() {
    let mut h = Harness::new();
    assert_eq!(h.run("SET k v EX 10"), OK);
    assert_eq!(h.deadline_ms("k"), NOW_MS + 10_000);
    assert_eq!(h.run("SET k v PX 1500"), OK);
    assert_eq!(h.deadline_ms("k"), NOW_MS + 1_500);
    assert_eq!(h.run("SET k v EXAT 1800000000"), OK);
    assert_eq!(h.deadline_ms("k"), 1_800_000_000_000);
    assert_eq!(h.run("SET k v PXAT 1800000000123"), OK);
    assert_eq!(h.deadline_ms("k"), 1_800_000_000_123);
    assert_eq!(h.run("SET k v2 KEEPTTL"), OK);
    assert_eq!(h.deadline_ms("k"), 1_800_000_000_123);
    assert_eq!(h.run("SET k v3"), OK);
    assert_eq!(h.deadline_ms("k"), 0);
    assert_eq!(h.store.dbs[0].expires_len(), 0);
    let bad = "-ERR invalid expire time in 'set' command\r\n";
    assert_eq!(h.run("SET k v EX 0"), bad);
    assert_eq!(h.run("SET k v PX -5"), bad);
    assert_eq!(h.run("SET k v EXAT 0"), bad);
    assert_eq!(h.run("SET k v EX 9223372036854776"), bad);
    assert_eq!(h.run("SET k v EX 9223372036854775"), bad);
    assert_eq!(h.run("SET k v PX 9223372036854775807"), bad);
    assert_eq!(h.run("SET k v PXAT 9223372036854775807"), OK);
    assert_eq!(h.run("SET k v EX abc"), NOT_INT);
    assert_eq!(h.run("SET k v EX 1.5"), NOT_INT);
    // Expiry errors come before GET's type check and reply.
    assert_eq!(h.run("SET k v GET EX 0"), bad);
    // A deadline in the past is accepted and the key is simply gone.
    assert_eq!(h.run("SET p v PXAT 1"), OK);
    assert_eq!(h.run("GET p"), NIL);
    h.now_ms += 20_000;
    assert_eq!(h.run("SET e v EX 5"), OK);
    h.now_ms += 5_000;
    assert_eq!(h.run("GET e"), NIL);
}

#[test]
fn setnx_setex_psetex() {
    let mut h = Harness::new();
    assert_eq!(h.run("SETNX k 1"), ":1\r\n");
    assert_eq!(h.run("SETNX k 2"), ":0\r\n");
    assert_eq!(h.run("GET k"), bulk("1"));
    assert_eq!(h.run("SETEX k 100 v"), OK);
    assert_eq!(h.deadline_ms("k"), NOW_MS + 100_000);
    assert_eq!(h.run("PSETEX k 100 v"), OK);
    assert_eq!(h.deadline_ms("k"), NOW_MS + 100);
    assert_eq!(h.run("SETEX k 0 v"), "-ERR invalid expire time in 'setex' command\r\n");
    assert_eq!(h.run("PSETEX k -1 v"), "-ERR invalid expire time in 'psetex' command\r\n");
    assert_eq!(h.run("SETEX k x v"), NOT_INT);
    assert_eq!(h.run("SETEX k 1"), "-ERR wrong number of arguments for 'setex' command\r\n");
}

#[test]
fn getset_getdel() {
    let mut h = Harness::new();
    assert_eq!(h.run("GETSET k a"), NIL);
    assert_eq!(h.run("GETSET k b"), bulk("a"));
    h.run("SET t v EX 100");
    assert_eq!(h.run("GETSET t w"), bulk("v"));
    assert_eq!(h.deadline_ms("t"), 0);
    assert_eq!(h.run("GETDEL k"), bulk("b"));
    assert_eq!(h.run("GETDEL k"), NIL);
    assert_eq!(h.run("GET k"), NIL);
    let dirty = h.store.dirty;
    assert_eq!(h.run("GETDEL k"), NIL);
    assert_eq!(h.store.dirty, dirty);
}

#[test]
fn getex() {
    let mut h = Harness::new();
    assert_eq!(h.run("GETEX k"), NIL);
    assert_eq!(h.run("GETEX k EX junk"), NIL);
    assert_eq!(h.run("GETEX k FOO"), SYNTAX);
    h.run("SET k v");
    assert_eq!(h.run("GETEX k"), bulk("v"));
    assert_eq!(h.run("GETEX k EX 10"), bulk("v"));
    assert_eq!(h.deadline_ms("k"), NOW_MS + 10_000);
    assert_eq!(h.run("GETEX k PX 10"), bulk("v"));
    assert_eq!(h.deadline_ms("k"), NOW_MS + 10);
    assert_eq!(h.run("GETEX k PERSIST"), bulk("v"));
    assert_eq!(h.deadline_ms("k"), 0);
    let dirty = h.store.dirty;
    assert_eq!(h.run("GETEX k PERSIST"), bulk("v"));
    assert_eq!(h.store.dirty, dirty, "PERSIST without a TTL changes nothing");
    assert_eq!(h.run("GETEX k EXAT 1900000000"), bulk("v"));
    assert_eq!(h.deadline_ms("k"), 1_900_000_000_000);
    assert_eq!(h.run("GETEX k EX 0"), "-ERR invalid expire time in 'getex' command\r\n");
    assert_eq!(h.run("GETEX k EX abc"), NOT_INT);
    assert_eq!(h.run("GETEX k EX 1 PERSIST"), SYNTAX);
    assert_eq!(h.run("GETEX k PERSIST PX 1"), SYNTAX);
    assert_eq!(h.run("GETEX k KEEPTTL"), SYNTAX);
    assert_eq!(h.run("GETEX k GET"), SYNTAX);
    assert_eq!(h.run("GETEX k NX"), SYNTAX);
    // A past absolute deadline replies the value and deletes the key.
    assert_eq!(h.run("GETEX k PXAT 1"), bulk("v"));
    assert_eq!(h.run("GET k"), NIL);
}

#[test]
fn mget_mset_msetnx() {
    let mut h = Harness::new();
    assert_eq!(h.run("MSET a 1 b 2"), OK);
    assert_eq!(h.store.dirty, 2);
    assert_eq!(h.run("MGET a nope b"), format!("*3\r\n{}{}{}", bulk("1"), NIL, bulk("2")));
    h.resp3 = true;
    assert_eq!(h.run("MGET a nope"), format!("*2\r\n{}_\r\n", bulk("1")));
    h.resp3 = false;
    assert_eq!(h.run("MSET a 1 b"), "-ERR wrong number of arguments for 'mset' command\r\n");
    assert_eq!(h.run("MSETNX a 1 b"), "-ERR wrong number of arguments for 'msetnx' command\r\n");
    assert_eq!(h.run("MSETNX a 9 c 3"), ":0\r\n");
    assert_eq!(h.run("GET c"), NIL);
    assert_eq!(h.run("MSETNX c 3 d 4"), ":1\r\n");
    assert_eq!(h.run("MGET c d"), format!("*2\r\n{}{}", bulk("3"), bulk("4")));
    h.run("SET t v EX 100");
    assert_eq!(h.run("MSET t w"), OK);
    assert_eq!(h.deadline_ms("t"), 0);
    // The same key twice: the last value wins.
    assert_eq!(h.run("MSET x 1 x 2"), OK);
    assert_eq!(h.run("GET x"), bulk("2"));
}
