//! The blocking pops served without blocking: errors in Redis's order, the served replies,
//! and no reply at all when the client would have to wait.

use super::{parse_timeout_ms, write_timeout_reply};
use crate::resp::Out;
use crate::testing::harness::Harness;

#[test]
fn timeouts_parse_as_redis() {
    assert_eq!(parse_timeout_ms(b"0"), Ok(0));
    assert_eq!(parse_timeout_ms(b"1.5"), Ok(1500));
    // A fraction of a millisecond still waits one, never forever.
    assert_eq!(parse_timeout_ms(b"0.0001"), Ok(1));
    assert_eq!(parse_timeout_ms(b"abc"), Err("ERR timeout is not a float or out of range"));
    assert_eq!(parse_timeout_ms(b"nan"), Err("ERR timeout is not a float or out of range"));
    assert_eq!(parse_timeout_ms(b"-1"), Err("ERR timeout is negative"));
    assert_eq!(parse_timeout_ms(b"1e30"), Err("ERR timeout is negative"));
    assert_eq!(parse_timeout_ms(b"inf"), Err("ERR timeout is negative"));
    assert_eq!(parse_timeout_ms(b"1e400"), Err("ERR timeout is negative"));
    assert_eq!(parse_timeout_ms(b"9223372036854"), Ok(9_223_372_036_854_000));
    assert_eq!(parse_timeout_ms(b"9223372036854776"), Err("ERR timeout is negative"));
}

#[test]
fn pops_serve_or_write_nothing() {
    let mut h = Harness::new();
    assert_eq!(h.run("blpop a b 0"), "");
    assert_eq!(h.run("rpush b x y"), ":2\r\n");
    assert_eq!(h.run("blpop a b 0"), "*2\r\n$1\r\nb\r\n$1\r\nx\r\n");
    assert_eq!(h.run("brpop a b 0"), "*2\r\n$1\r\nb\r\n$1\r\ny\r\n");
    assert_eq!(h.run("exists b"), ":0\r\n");
    h.run("set s v");
    assert_eq!(h.run("blpop a s 0"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("blpop a s x"), "-ERR timeout is not a float or out of range\r\n");
}

#[test]
fn moves_check_arguments_first() {
    let mut h = Harness::new();
    assert_eq!(h.run("blmove a b up left 0"), "-ERR syntax error\r\n");
    assert_eq!(h.run("blmove a b left left x"), "-ERR timeout is not a float or out of range\r\n");
    assert_eq!(h.run("blmove a b left left 0"), "");
    h.run("rpush a 1 2");
    assert_eq!(h.run("blmove a b left right 0"), "$1\r\n1\r\n");
    assert_eq!(h.run("brpoplpush a b 0"), "$1\r\n2\r\n");
    assert_eq!(h.run("lrange b 0 -1"), "*2\r\n$1\r\n2\r\n$1\r\n1\r\n");
}

#[test]
fn mpops_check_numkeys_before_timeout() {
    let mut h = Harness::new();
    assert_eq!(h.run("blmpop x 0 k left"), "-ERR numkeys should be greater than 0\r\n");
    assert_eq!(h.run("blmpop x 1 k left"), "-ERR timeout is not a float or out of range\r\n");
    assert_eq!(h.run("blmpop 0 1 k up"), "-ERR syntax error\r\n");
    assert_eq!(h.run("blmpop 0 1 k left"), "");
    h.run("rpush k a b c");
    assert_eq!(h.run("blmpop 0 1 k right count 2"), "*2\r\n$1\r\nk\r\n*2\r\n$1\r\nc\r\n$1\r\nb\r\n");
    assert_eq!(h.run("bzmpop x 0 z min"), "-ERR numkeys should be greater than 0\r\n");
    assert_eq!(h.run("bzmpop 0 1 z min"), "");
    h.run("zadd z 1 a 2 b");
    assert_eq!(
        h.run("bzmpop 0 1 z max count 5"),
        "*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    );
}

#[test]
fn zset_pops_reply_key_member_score() {
    let mut h = Harness::new();
    assert_eq!(h.run("bzpopmin z1 z2 0"), "");
    h.run("zadd z2 1 a 2 b");
    assert_eq!(h.run("bzpopmin z1 z2 0"), "*3\r\n$2\r\nz2\r\n$1\r\na\r\n$1\r\n1\r\n");
    h.resp3 = true;
    assert_eq!(h.run("bzpopmax z1 z2 0"), "*3\r\n$2\r\nz2\r\n$1\r\nb\r\n,2\r\n");
    h.run("rpush l x");
    assert_eq!(h.run("bzpopmin l 0"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
}

#[test]
fn timeout_replies_by_command() {
    for (name, resp3, want) in [
        ("blpop", false, "*-1\r\n"),
        ("blpop", true, "_\r\n"),
        ("blmove", false, "$-1\r\n"),
        ("brpoplpush", true, "_\r\n"),
        ("bzmpop", false, "*-1\r\n"),
    ] {
        let mut buf = Vec::new();
        write_timeout_reply(name, &mut Out::new(&mut buf, resp3));
        assert_eq!(String::from_utf8_lossy(&buf), want, "{name} resp3={resp3}");
    }
}
