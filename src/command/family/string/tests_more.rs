//! Unit tests of the counter, range and LCS commands (expected replies from redis-server
//! 7.0.15). The harness lives in `tests.rs`.

use super::tests::{bulk, Harness, NIL, NOT_INT, OK, SYNTAX};

const NOT_FLOAT: &str = "-ERR value is not a valid float\r\n";
const NAN_INF: &str = "-ERR increment would produce NaN or Infinity\r\n";
const OVERFLOW: &str = "-ERR increment or decrement would overflow\r\n";

#[test]
fn incr_family() {
    let mut h = Harness::new();
    assert_eq!(h.run("INCR n"), ":1\r\n");
    assert_eq!(h.encoding("n"), "int");
    assert_eq!(h.run("INCRBY n 41"), ":42\r\n");
    assert_eq!(h.run("DECR n"), ":41\r\n");
    assert_eq!(h.run("DECRBY n 50"), ":-9\r\n");
    assert_eq!(h.run("INCRBY n x"), NOT_INT);
    assert_eq!(h.run("DECRBY n -9223372036854775808"), "-ERR decrement would overflow\r\n");
    h.run("SET mx 9223372036854775807");
    assert_eq!(h.run("INCR mx"), OVERFLOW);
    h.run("SET mn -9223372036854775808");
    assert_eq!(h.run("DECR mn"), OVERFLOW);
    assert_eq!(h.run("INCRBY mn -1"), OVERFLOW);
    assert_eq!(h.run("INCRBY mn 9223372036854775807"), ":-1\r\n");
    h.run("SET s hello");
    assert_eq!(h.run("INCR s"), NOT_INT);
    h.run("SET z 007");
    assert_eq!(h.run("INCR z"), NOT_INT);
    // An integer stored as raw text (after APPEND) still counts, and comes back as int.
    h.run("SET r 5");
    h.run("APPEND r 6");
    assert_eq!(h.encoding("r"), "raw");
    assert_eq!(h.run("INCR r"), ":57\r\n");
    assert_eq!(h.encoding("r"), "int");
    // The TTL survives.
    h.run("SET t 1 EX 100");
    assert_eq!(h.run("INCR t"), ":2\r\n");
    assert_eq!(h.deadline_ms("t"), super::tests::NOW_MS + 100_000);
    assert_eq!(h.run("INCR"), "-ERR wrong number of arguments for 'incr' command\r\n");
}

#[test]
fn incrbyfloat_matches_long_double() {
    let mut h = Harness::new();
    h.run("SET f 10.5");
    assert_eq!(h.run("INCRBYFLOAT f 0.1"), bulk("10.6"));
    assert_eq!(h.encoding("f"), "embstr");
    assert_eq!(h.run("INCRBYFLOAT n 3"), bulk("3"));
    assert_eq!(h.encoding("n"), "embstr", "a float result is never int-encoded");
    assert_eq!(h.run("INCRBYFLOAT n 1e3"), bulk("1003"));
    assert_eq!(h.run("INCRBYFLOAT g 5.0e3"), bulk("5000"));
    assert_eq!(h.run("INCRBYFLOAT g -5000"), bulk("0"));
    assert_eq!(h.run("INCRBYFLOAT h 0.1"), bulk("0.1"));
    assert_eq!(h.run("INCRBYFLOAT h 0.2"), bulk("0.3"));
    assert_eq!(h.run("INCRBYFLOAT h -0.30000000000000004"), bulk("-0.00000000000000004"));
    assert_eq!(h.run("INCRBYFLOAT j 1e-20"), bulk("0"));
    assert_eq!(h.run("INCRBYFLOAT j -2e-20"), bulk("0"));
    assert_eq!(h.run("INCRBYFLOAT m 0x10"), bulk("16"));
    h.run("SET i 9223372036854775807");
    assert_eq!(h.run("INCRBYFLOAT i 1"), bulk("9223372036854775808"));
    assert_eq!(h.run("INCRBYFLOAT l 3.0000000000000000001"), bulk("3"));
    h.run("SET pp 1e10");
    assert_eq!(h.run("INCRBYFLOAT pp 1"), bulk("10000000001"));
    assert_eq!(h.run("INCRBYFLOAT q 1.23456789012345678901234"), bulk("1.23456789012345679"));
    assert_eq!(h.run("INCRBYFLOAT r -1.5"), bulk("-1.5"));
    assert_eq!(h.run("INCRBYFLOAT u 1e-4940"), bulk("0"));
    let big = "179769313486231569995921046774104434048386446944329178485314420765176628523124396354701868608387085564428793419425520689308708363451136055357897278026477617073498977686288394835618163294045594434929537447290627480669417384648879122776218333598953852832103282504751611691208117720159985926376802466863339536384";
    assert_eq!(h.run("INCRBYFLOAT big 1.7976931348623157e308"), bulk(big));
}

#[test]
fn incrbyfloat_errors() {
    let mut h = Harness::new();
    assert_eq!(h.run("INCRBYFLOAT k abc"), NOT_FLOAT);
    assert_eq!(h.run("GET k"), NIL);
    h.run("SET s abc");
    assert_eq!(h.run("INCRBYFLOAT s 1"), NOT_FLOAT);
    assert_eq!(h.run("INCRBYFLOAT m inf"), NAN_INF);
    assert_eq!(h.run_bytes(&[b"incrbyfloat", b"m", b" 1"]), NOT_FLOAT);
    assert_eq!(h.run_bytes(&[b"incrbyfloat", b"m", b"1 "]), NOT_FLOAT);
    assert_eq!(h.run_bytes(&[b"incrbyfloat", b"m", b"1\0"]), NOT_FLOAT);
    assert_eq!(h.run_bytes(&[b"incrbyfloat", b"m", b""]), NOT_FLOAT);
    assert_eq!(h.run("INCRBYFLOAT m nan"), NOT_FLOAT);
    assert_eq!(h.run("INCRBYFLOAT m 1e5000"), NOT_FLOAT);
    assert_eq!(h.run("INCRBYFLOAT u 1e-4960"), NOT_FLOAT);
    let long = format!("1{}", "0".repeat(5119));
    assert_eq!(h.run(&format!("INCRBYFLOAT m {long}")), NOT_FLOAT);
    h.run("SET inf inf");
    assert_eq!(h.run("INCRBYFLOAT inf 1"), NAN_INF);
    assert!(h.run("INCRBYFLOAT big 1.1e4932").starts_with("$4933\r\n1099999999999"));
    assert_eq!(h.run("INCRBYFLOAT big 1.1e4932"), NAN_INF);
    h.run("SET t 1 PX 5000");
    assert_eq!(h.run("INCRBYFLOAT t 1.5"), bulk("2.5"));
    assert_eq!(h.deadline_ms("t"), super::tests::NOW_MS + 5000);
}

#[test]
fn append_and_strlen() {
    let mut h = Harness::new();
    assert_eq!(h.run("APPEND z 123"), ":3\r\n");
    assert_eq!(h.encoding("z"), "int");
    assert_eq!(h.run("APPEND z "), ":3\r\n");
    assert_eq!(h.encoding("z"), "raw");
    assert_eq!(h.run("APPEND z 45"), ":5\r\n");
    assert_eq!(h.run("GET z"), bulk("12345"));
    assert_eq!(h.run("APPEND s hello"), ":5\r\n");
    assert_eq!(h.encoding("s"), "embstr");
    let long = "y".repeat(100);
    assert_eq!(h.run(&format!("APPEND s {long}")), ":105\r\n");
    assert_eq!(h.run("STRLEN s"), ":105\r\n");
    assert_eq!(h.run("STRLEN missing"), ":0\r\n");
    h.run("SET i -123");
    assert_eq!(h.run("STRLEN i"), ":4\r\n");
    h.run("SET t a EX 10");
    h.run("APPEND t b");
    assert_eq!(h.deadline_ms("t"), super::tests::NOW_MS + 10_000);
    h.cfg.proto_max_bulk_len_bytes = 10;
    assert_eq!(h.run("APPEND t 123456789"), "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n");
    assert_eq!(h.run("APPEND t 12345678"), ":10\r\n");
    // A new key is not checked (its size already passed the protocol limit).
    assert_eq!(h.run("APPEND new 12345678901"), ":11\r\n");
}

#[test]
fn getrange_and_substr() {
    let mut h = Harness::new();
    h.run_bytes(&[b"set", b"g", b"Hello World"]);
    let cases = [
        ("0 4", "Hello"),
        ("-5 -1", "World"),
        ("-1 -5", ""),
        ("5 2", ""),
        ("0 100", "Hello World"),
        ("-100 -50", "H"),
        ("-100 2", "Hel"),
        ("0 -100", "H"),
        ("20 30", ""),
        ("-9223372036854775808 9223372036854775807", "Hello World"),
    ];
    for (range, want) in cases {
        assert_eq!(h.run(&format!("GETRANGE g {range}")), bulk(want), "GETRANGE g {range}");
        assert_eq!(h.run(&format!("SUBSTR g {range}")), bulk(want), "SUBSTR g {range}");
    }
    assert_eq!(h.run("GETRANGE missing 0 1"), bulk(""));
    assert_eq!(h.run("GETRANGE g x 1"), NOT_INT);
    assert_eq!(h.run("GETRANGE missing 1 x"), NOT_INT);
    h.run("SET gi 12345");
    assert_eq!(h.run("GETRANGE gi 1 2"), bulk("23"));
    h.run("SET e x");
    h.run("SETRANGE e 0 ");
    assert_eq!(h.run("GETRANGE e 0 -1"), bulk("x"));
}

#[test]
fn setrange() {
    let mut h = Harness::new();
    let too_big = "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n";
    assert_eq!(h.run("SETRANGE k 9223372036854775807 abc"), too_big);
    assert_eq!(h.run("SETRANGE k -1 abc"), "-ERR offset is out of range\r\n");
    assert_eq!(h.run("SETRANGE k x abc"), NOT_INT);
    assert_eq!(h.run("SETRANGE k 5 "), ":0\r\n");
    assert_eq!(h.store.dbs[0].len(), 0, "an empty SETRANGE creates no key");
    assert_eq!(h.run("SETRANGE k 536870912 a"), too_big);
    assert_eq!(h.run("SETRANGE k 2 ab"), ":4\r\n");
    assert_eq!(h.run("GET k"), bulk("\0\0ab"));
    assert_eq!(h.encoding("k"), "raw");
    h.run("SET s hello");
    assert_eq!(h.run("SETRANGE s 1 "), ":5\r\n");
    assert_eq!(h.run("SETRANGE s 999999999999 "), ":5\r\n");
    assert_eq!(h.encoding("s"), "embstr", "an empty SETRANGE leaves the value alone");
    assert_eq!(h.run("SETRANGE s 10 x"), ":11\r\n");
    assert_eq!(h.run("GET s"), bulk("hello\0\0\0\0\0x"));
    assert_eq!(h.run("SETRANGE s 0 J"), ":11\r\n");
    assert_eq!(h.run("GETRANGE s 0 4"), bulk("Jello"));
    h.run("SET i 1234");
    assert_eq!(h.run("SETRANGE i 1 9"), ":4\r\n");
    assert_eq!(h.run("GET i"), bulk("1934"));
    assert_eq!(h.encoding("i"), "raw");
    h.run("SET t abc PX 900");
    assert_eq!(h.run("SETRANGE t 0 x"), ":3\r\n");
    assert_eq!(h.deadline_ms("t"), super::tests::NOW_MS + 900);
}

#[test]
fn lcs_replies() {
    let mut h = Harness::new();
    h.run("MSET key1 ohmytext key2 mynewtext x1 ABCBDAB x2 BDCABA");
    assert_eq!(h.run("LCS key1 key2"), bulk("mytext"));
    assert_eq!(h.run("LCS key1 key2 LEN"), ":6\r\n");
    assert_eq!(h.run("LCS x1 x2"), bulk("BDAB"));
    let idx = "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n";
    assert_eq!(h.run("LCS key1 key2 IDX"), idx);
    assert_eq!(h.run("LCS key1 key2 IDX MINMATCHLEN -5"), idx);
    assert_eq!(
        h.run("LCS key1 key2 IDX MINMATCHLEN 4 WITHMATCHLEN"),
        "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n"
    );
    assert_eq!(
        h.run("LCS x1 x2 idx withmatchlen"),
        "*4\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:5\r\n:6\r\n*2\r\n:3\r\n:4\r\n:2\r\n*3\r\n*2\r\n:3\r\n:4\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:4\r\n"
    );
    assert_eq!(h.run("LCS key1 nokey"), bulk(""));
    assert_eq!(h.run("LCS key1 nokey idx"), "*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n");
    assert_eq!(
        h.run("LCS key1 key2 len idx"),
        "-ERR If you want both the length and indexes, please just use IDX.\r\n"
    );
    assert_eq!(h.run("LCS key1 key2 minmatchlen"), SYNTAX);
    assert_eq!(h.run("LCS key1 key2 minmatchlen x"), NOT_INT);
    assert_eq!(h.run("LCS a b foo"), SYNTAX);
    assert_eq!(h.run("LCS a"), "-ERR wrong number of arguments for 'lcs' command\r\n");
    h.resp3 = true;
    assert_eq!(
        h.run("LCS key1 key2 IDX WITHMATCHLEN"),
        "%2\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n*3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:6\r\n"
    );
    h.resp3 = false;
    h.cfg.proto_max_bulk_len_bytes = 100;
    assert_eq!(
        h.run("LCS key1 key2"),
        "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n"
    );
}

#[test]
fn read_stats_and_dirty() {
    let mut h = Harness::new();
    h.run("SET a 1");
    h.run("MGET a b c");
    assert_eq!((h.store.keyspace_hits, h.store.keyspace_misses), (1, 2));
    // Write lookups (INCR, SETRANGE, APPEND) do not count, as in Redis.
    h.run("INCR a");
    h.run("APPEND a 1");
    assert_eq!((h.store.keyspace_hits, h.store.keyspace_misses), (1, 2));
    assert_eq!(h.store.dirty, 3);
    assert_eq!(h.run("SET a 1 XX"), OK);
    assert_eq!(h.store.dirty, 4);
}

#[test]
fn lookups_refresh_the_access_clock() {
    let mut h = Harness::new();
    let at = |h: &Harness, k: &str| h.store.dbs[0].peek(k.as_bytes()).map(|e| e.access_s);
    let clock = |ms: u64| crate::command::family::keys::access_clock_s(ms);
    h.run("SET a 1");
    assert_eq!(at(&h, "a"), Some(clock(h.now_ms)));
    for cmd in ["GET a", "INCR a", "STRLEN a", "SET a 2", "APPEND a 3", "GETRANGE a 0 1", "MSETNX a 1"] {
        h.now_ms += 5_000;
        h.run(cmd);
        assert_eq!(at(&h, "a"), Some(clock(h.now_ms)), "{cmd} refreshes the access clock");
    }
}
