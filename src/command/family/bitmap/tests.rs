//! Unit tests of the bitmap family, run through the real command table on a plain store.
//! Expected replies were taken from redis-server 7.0.15.

use super::field::{get_field, signed_overflow, unsigned_overflow, write_bits, Overflow};
use crate::store::events::class;
use crate::testing::harness::Harness;

const TYPE_ERR: &str =
    "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n";
const OFFSET_ERR: &str = "-ERR bit offset is not an integer or out of range\r\n";

fn arr(items: &[&str]) -> String {
    let mut s = format!("*{}\r\n", items.len());
    for i in items {
        s.push_str(i);
    }
    s
}

#[test]
fn setbit_and_getbit() {
    let mut h = Harness::new();
    assert_eq!(h.run("setbit k 7 1"), ":0\r\n");
    assert_eq!(h.run("get k"), "$1\r\n\x01\r\n");
    assert_eq!(h.encoding("k"), "raw");
    assert_eq!(h.run("setbit k 7 1"), ":1\r\n");
    assert_eq!(h.run("setbit k 7 0"), ":1\r\n");
    assert_eq!(h.run("getbit k 7"), ":0\r\n");
    assert_eq!(h.run("setbit k 100 1"), ":0\r\n");
    assert_eq!(h.run("strlen k"), ":13\r\n");
    assert_eq!(h.run("getbit k 100"), ":1\r\n");
    assert_eq!(h.run("getbit k 99"), ":0\r\n");
    assert_eq!(h.run("getbit k 4294967295"), ":0\r\n");
    assert_eq!(h.run("getbit nokey 0"), ":0\r\n");
    assert_eq!(h.run("setbit x 4294967296 1"), OFFSET_ERR);
    assert_eq!(h.run("setbit x -1 1"), OFFSET_ERR);
    assert_eq!(h.run("setbit x a 2"), OFFSET_ERR);
    assert_eq!(h.run("getbit x #1"), OFFSET_ERR);
    assert_eq!(h.run("setbit x 0 2"), "-ERR bit is not an integer or out of range\r\n");
    assert_eq!(h.run("setbit x 0 -1"), "-ERR bit is not an integer or out of range\r\n");
    assert_eq!(h.run("setbit x 0 01"), "-ERR bit is not an integer or out of range\r\n");
    assert_eq!(h.run("exists x"), ":0\r\n");
    assert_eq!(h.run("setbit k"), "-ERR wrong number of arguments for 'setbit' command\r\n");
    h.run("rpush l a");
    assert_eq!(h.run("setbit l 0 1"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("getbit l 0"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    // The offset is checked before the type.
    assert_eq!(h.run("getbit l x"), OFFSET_ERR);
}

#[test]
fn setbit_on_an_integer_reads_its_text_and_makes_it_raw() {
    let mut h = Harness::new();
    h.run("set k 12");
    assert_eq!(h.encoding("k"), "int");
    assert_eq!(h.run("getbit k 2"), ":1\r\n");
    assert_eq!(h.encoding("k"), "int");
    // '1' is 0x31: bit 0 is already 0, nothing changes but the encoding.
    let dirty = h.store.dirty;
    assert_eq!(h.run("setbit k 0 0"), ":0\r\n");
    assert_eq!(h.encoding("k"), "raw");
    assert_eq!(h.store.dirty, dirty);
    assert_eq!(h.run("get k"), "$2\r\n12\r\n");
    assert_eq!(h.run("setbit k 0 1"), ":0\r\n");
    assert_eq!(h.store.dirty, dirty + 1);
    assert_eq!(h.run("get k"), "$2\r\n\u{fffd}2\r\n");
}

#[test]
fn setbit_keeps_the_ttl_and_records_events_only_on_change() {
    let mut h = Harness::new();
    h.cfg.notify_keyspace_events = crate::config::notify::parse("KEA").unwrap_or(0);
    h.run("set k ab");
    h.run("pexpire k 100000");
    h.store.events.clear();
    assert_eq!(h.run("setbit k 0 0"), ":0\r\n");
    assert!(h.store.events.is_empty());
    assert_eq!(h.run("setbit k 0 1"), ":0\r\n");
    assert_eq!(h.run("setbit k 30 0"), ":0\r\n");
    let names: Vec<_> = h.store.events.iter().map(|e| (e.class, e.event)).collect();
    assert_eq!(names, vec![(class::STRING, "setbit"), (class::STRING, "setbit")]);
    assert_ne!(h.deadline_ms("k"), 0);
}

#[test]
fn proto_max_bulk_len_bounds_offsets() {
    let mut h = Harness::new();
    h.cfg.proto_max_bulk_len_bytes = 1024 * 1024;
    assert_eq!(h.run("setbit z 8388608 1"), OFFSET_ERR);
    assert_eq!(h.run("setbit z 8388607 1"), ":0\r\n");
    assert_eq!(h.run("bitfield z get u8 #1048576"), OFFSET_ERR);
    assert_eq!(h.run("bitfield z get u8 #1048575"), arr(&[":1\r\n"]));
}

#[test]
fn bitcount_ranges() {
    let mut h = Harness::new();
    assert_eq!(h.run("bitcount nokey a b"), ":0\r\n");
    assert_eq!(h.run("bitcount nokey 0"), ":0\r\n");
    h.run("set k foobar");
    assert_eq!(h.run("bitcount k"), ":26\r\n");
    assert_eq!(h.run("bitcount k 0"), "-ERR syntax error\r\n");
    assert_eq!(h.run("bitcount k a 1"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(h.run("bitcount k 0 1 bad"), "-ERR syntax error\r\n");
    assert_eq!(h.run("bitcount k 1 x bad"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(h.run("bitcount k 0 1 2 3"), "-ERR syntax error\r\n");
    assert_eq!(h.run("bitcount k 1 1"), ":6\r\n");
    assert_eq!(h.run("bitcount k 1 1 BIT"), ":1\r\n");
    assert_eq!(h.run("bitcount k 5 30 bit"), ":17\r\n");
    assert_eq!(h.run("bitcount k -5 -30 bit"), ":0\r\n");
    assert_eq!(h.run("bitcount k -1 -5 bad"), ":0\r\n");
    assert_eq!(h.run("bitcount k -1 5 bad"), "-ERR syntax error\r\n");
    assert_eq!(h.run("bitcount k -30 -5 bit"), ":14\r\n");
    assert_eq!(h.run("bitcount k 0 -1 byte"), ":26\r\n");
    assert_eq!(h.run("bitcount k -100 100"), ":26\r\n");
    assert_eq!(h.run("bitcount k 4 2"), ":0\r\n");
    assert_eq!(h.run("bitcount k 9223372036854775807 -9223372036854775808 bit"), ":0\r\n");
    h.run_bytes(&[b"set", b"e", b""]);
    assert_eq!(h.run("bitcount e"), ":0\r\n");
    assert_eq!(h.run("bitcount e 0 -1 bit"), ":0\r\n");
    h.run("set i 255");
    assert_eq!(h.run("bitcount i"), ":11\r\n");
}

#[test]
fn bitpos_searches() {
    let mut h = Harness::new();
    assert_eq!(h.run("bitpos nokey 0"), ":0\r\n");
    assert_eq!(h.run("bitpos nokey 1"), ":-1\r\n");
    assert_eq!(h.run("bitpos nokey 2"), "-ERR The bit argument must be 1 or 0.\r\n");
    assert_eq!(h.run("bitpos nokey a"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(h.run("bitpos nokey 0 a"), ":0\r\n");
    h.run("set k foobar");
    assert_eq!(h.run("bitpos k 0 a"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(h.run("bitpos k 0 1 2 bad"), "-ERR syntax error\r\n");
    assert_eq!(h.run("bitpos k 0 1 x bad"), "-ERR syntax error\r\n");
    assert_eq!(h.run("bitpos k 0 x 1 bad"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(h.run("bitpos k 0 1 2 bit 4"), "-ERR syntax error\r\n");
    assert_eq!(h.run("bitpos k 1 2 -1 bit"), ":2\r\n");
    assert_eq!(h.run("bitpos k 0 0 -1 bit"), ":0\r\n");
    assert_eq!(h.run("bitpos k 1 7 7 bit"), ":-1\r\n");
    assert_eq!(h.run("bitpos k 0 7 7 bit"), ":7\r\n");
    assert_eq!(h.run("bitpos k 0 -3 -1 bit"), ":45\r\n");
    assert_eq!(h.run("bitpos k 1 -3 bit"), "-ERR value is not an integer or out of range\r\n");
    h.run_bytes(&[b"set", b"e", b""]);
    assert_eq!(h.run("bitpos e 0"), ":-1\r\n");
    assert_eq!(h.run("bitpos e 1"), ":-1\r\n");
    assert_eq!(h.run("bitpos e 0 0 -1"), ":-1\r\n");
    h.run_bytes(&[b"set", b"f", b"\xff\xff\x00"]);
    assert_eq!(h.run("bitpos f 0"), ":16\r\n");
    assert_eq!(h.run("bitpos f 1 2"), ":-1\r\n");
    h.run_bytes(&[b"set", b"f", b"\xff\xff"]);
    // No explicit end: the string counts as followed by zeros.
    assert_eq!(h.run("bitpos f 0"), ":16\r\n");
    assert_eq!(h.run("bitpos f 0 1"), ":16\r\n");
    assert_eq!(h.run("bitpos f 0 3 100 bit"), ":-1\r\n");
    assert_eq!(h.run("bitpos f 0 0 -1"), ":-1\r\n");
    assert_eq!(h.run("bitpos f 0 5 bit"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(h.run("bitpos f 1 9 bit 15"), "-ERR syntax error\r\n");
    assert_eq!(h.run("bitpos f 1 9 15 bit"), ":9\r\n");
    h.run_bytes(&[b"set", b"g", b"\x00\x00\x00\x01\x00"]);
    assert_eq!(h.run("bitpos g 1"), ":31\r\n");
    assert_eq!(h.run("bitpos g 1 3 3"), ":31\r\n");
    assert_eq!(h.run("bitpos g 1 0 30 bit"), ":-1\r\n");
    assert_eq!(h.run("bitpos g 1 31 31 bit"), ":31\r\n");
    assert_eq!(h.run("bitpos g 0 31 31 bit"), ":-1\r\n");
}

#[test]
fn bitop_combines_and_stores_raw() {
    let mut h = Harness::new();
    h.cfg.notify_keyspace_events = crate::config::notify::parse("KEA").unwrap_or(0);
    h.run("set k foobar");
    h.run("set n1 1");
    assert_eq!(h.run("bitop not d1 nokey"), ":0\r\n");
    assert_eq!(h.run("exists d1"), ":0\r\n");
    h.run("set d1 x");
    h.run("expire d1 100");
    h.store.events.clear();
    assert_eq!(h.run("bitop or d1 k"), ":6\r\n");
    assert_eq!(h.run("ttl d1"), ":-1\r\n");
    assert_eq!(h.encoding("d1"), "raw");
    assert_eq!(h.run("bitop nope d1 k"), "-ERR syntax error\r\n");
    assert_eq!(h.run("bitop not d1 k k"), "-ERR BITOP NOT must be called with a single source key.\r\n");
    assert_eq!(h.run("bitop and d2 n1 n1"), ":1\r\n");
    assert_eq!(h.encoding("d2"), "raw");
    assert_eq!(h.run("get d2"), "$1\r\n1\r\n");
    assert_eq!(h.run("bitop xor d3 k n1 nokey"), ":6\r\n");
    assert_eq!(h.run("get d3"), "$6\r\nWoobar\r\n");
    assert_eq!(h.run("bitop and d3 k nokey"), ":6\r\n");
    assert_eq!(h.run_bytes(&[b"get", b"d3"]).as_bytes(), b"$6\r\n\0\0\0\0\0\0\r\n");
    h.run_bytes(&[b"set", b"z", b"\x0f"]);
    assert_eq!(h.run_bytes(&[b"bitop", b"NOT", b"d4", b"z"]), ":1\r\n");
    assert_eq!(h.run_bytes(&[b"getbit", b"d4", b"0"]), ":1\r\n");
    assert_eq!(h.run_bytes(&[b"getbit", b"d4", b"7"]), ":0\r\n");
    // An empty result deletes the destination.
    assert_eq!(h.run("bitop and d3 nokey"), ":0\r\n");
    assert_eq!(h.run("exists d3"), ":0\r\n");
    h.run("rpush l a");
    assert_eq!(h.run("bitop and d l"), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    assert_eq!(h.run("bitop and l k"), ":6\r\n");
    assert_eq!(h.run("type l"), "+string\r\n");
    let mine = ["d1", "d2", "d3", "d4", "l"];
    let ev: Vec<_> = h
        .store
        .events
        .iter()
        .filter(|e| mine.contains(&String::from_utf8_lossy(&e.key).as_ref()) && e.event != "rpush")
        .map(|e| e.event)
        .collect();
    assert_eq!(ev, vec!["set", "set", "set", "set", "set", "del", "set"]);
    assert_eq!(h.run("bitop and d"), "-ERR wrong number of arguments for 'bitop' command\r\n");
}

#[test]
fn bitfield_reads_writes_and_overflows() {
    let mut h = Harness::new();
    assert_eq!(h.run("bitfield b set u8 0 1 get u8 0"), arr(&[":0\r\n", ":1\r\n"]));
    assert_eq!(h.run("bitfield b get u8 0"), arr(&[":1\r\n"]));
    assert_eq!(h.run("bitfield b incrby u8 0 300 overflow fail incrby u8 0 300"), arr(&[":45\r\n", "$-1\r\n"]));
    h.resp3 = true;
    assert_eq!(h.run("bitfield b overflow fail incrby u8 0 300"), arr(&["_\r\n"]));
    h.resp3 = false;
    let q = |h: &mut Harness, line: &str| h.run(&format!("bitfield q {line}"));
    assert_eq!(q(&mut h, "overflow sat set i8 0 -9223372036854775808 get i8 0"), arr(&[":0\r\n", ":127\r\n"]));
    assert_eq!(q(&mut h, "overflow sat set i8 0 9223372036854775807 get i8 0"), arr(&[":127\r\n", ":127\r\n"]));
    assert_eq!(q(&mut h, "overflow sat set u8 0 -1 get u8 0"), arr(&[":127\r\n", ":255\r\n"]));
    assert_eq!(q(&mut h, "overflow wrap set u8 0 -1 get u8 0"), arr(&[":255\r\n", ":255\r\n"]));
    assert_eq!(q(&mut h, "overflow fail set u8 0 -1 get u8 0"), arr(&["$-1\r\n", ":255\r\n"]));
    assert_eq!(
        q(&mut h, "overflow wrap set i64 0 -9223372036854775808 incrby i64 0 -1"),
        arr(&[":-72057594037927936\r\n", ":9223372036854775807\r\n"])
    );
    assert_eq!(
        q(&mut h, "overflow sat incrby i64 0 -1 incrby i64 0 -9223372036854775808 get i64 0"),
        arr(&[":9223372036854775806\r\n", ":-2\r\n", ":-2\r\n"])
    );
    assert_eq!(
        q(&mut h, "overflow sat set i64 0 5 incrby i64 0 9223372036854775807"),
        arr(&[":-2\r\n", ":9223372036854775807\r\n"])
    );
    assert_eq!(
        q(&mut h, "overflow wrap set u63 0 5 incrby u63 0 9223372036854775807 incrby u63 0 -9223372036854775808"),
        arr(&[":4611686018427387903\r\n", ":4\r\n", ":4\r\n"])
    );
    assert_eq!(
        q(&mut h, "overflow sat set u63 0 5 incrby u63 0 -9223372036854775808 set u63 0 -5"),
        arr(&[":4\r\n", ":0\r\n", ":0\r\n"])
    );
    assert_eq!(q(&mut h, "get i64 #1152921504606846976"), arr(&[":-1\r\n"]));
    assert_eq!(q(&mut h, "get i64 #9223372036854775807"), OFFSET_ERR);
    assert_eq!(h.run("bitfield q"), "*0\r\n");
}

#[test]
fn bitfield_argument_errors() {
    let mut h = Harness::new();
    for t in ["i65", "u64", "I8", "i0", "i08", "i+8", "x", "i", "u-1"] {
        assert_eq!(h.run(&format!("bitfield q get {t} 0")), TYPE_ERR, "{t}");
    }
    assert_eq!(h.run("bitfield q get i8 #1 get i8 #"), OFFSET_ERR);
    assert_eq!(h.run("bitfield q get i8 -1"), OFFSET_ERR);
    assert_eq!(h.run("bitfield q get i8 #-1"), OFFSET_ERR);
    assert_eq!(h.run("bitfield q get i8"), "-ERR syntax error\r\n");
    assert_eq!(h.run("bitfield q overflow"), "-ERR syntax error\r\n");
    assert_eq!(h.run("bitfield q overflow bad get i8 0"), "-ERR Invalid OVERFLOW type specified\r\n");
    assert_eq!(h.run("bitfield q set i8 0"), "-ERR syntax error\r\n");
    assert_eq!(h.run("bitfield q foo"), "-ERR syntax error\r\n");
    assert_eq!(h.run("bitfield q set i8 0 x"), "-ERR value is not an integer or out of range\r\n");
    assert_eq!(h.run("bitfield q set i8 x 1"), OFFSET_ERR);
    assert_eq!(h.run("bitfield q get i8 0 overflow sat"), arr(&[":0\r\n"]));
    assert_eq!(h.run("bitfield_ro q get i8 0 set i8 0 1"), "-ERR BITFIELD_RO only supports the GET subcommand\r\n");
    assert_eq!(h.run("bitfield_ro q set i8 0 1 get x 0"), TYPE_ERR);
    assert_eq!(h.run("bitfield_ro q"), "*0\r\n");
    assert_eq!(h.run("exists q"), ":0\r\n");
    h.run("rpush l a");
    let wrongtype = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
    assert_eq!(h.run("bitfield l get i8 0"), wrongtype);
    assert_eq!(h.run("bitfield l set i8 0 1"), wrongtype);
    assert_eq!(h.run("bitfield_ro l get i8 0"), wrongtype);
}

#[test]
fn bitfield_on_integers_and_events() {
    let mut h = Harness::new();
    h.cfg.notify_keyspace_events = crate::config::notify::parse("KEA").unwrap_or(0);
    h.run("set s 1234");
    assert_eq!(h.run("bitfield s get i16 0"), arr(&[":12594\r\n"]));
    assert_eq!(h.encoding("s"), "int");
    assert_eq!(h.run("bitfield_ro s get u8 8"), arr(&[":50\r\n"]));
    h.store.events.clear();
    let dirty = h.store.dirty;
    // A failed write still counts as a change, and creates nothing past its bytes.
    assert_eq!(h.run("bitfield s overflow fail incrby u8 0 300 get u8 0"), arr(&["$-1\r\n", ":49\r\n"]));
    assert_eq!(h.encoding("s"), "raw");
    assert_eq!(h.store.dirty, dirty + 1);
    assert_eq!(h.store.events.len(), 1);
    assert_eq!(h.run("bitfield new overflow fail incrby u8 100 300"), arr(&["$-1\r\n"]));
    assert_eq!(h.run("strlen new"), ":14\r\n");
    // GET after a write in the same call sees it; GET past the grown end reads zeros.
    assert_eq!(h.run("bitfield w set i4 4 -1 get u8 0 get u8 #9"), arr(&[":0\r\n", ":15\r\n", ":0\r\n"]));
    assert_eq!(h.run("strlen w"), ":1\r\n");
}

#[test]
fn overflow_rules() {
    assert_eq!(signed_overflow(127, 1, 8, Overflow::Wrap), (true, -128));
    assert_eq!(signed_overflow(-128, -1, 8, Overflow::Sat), (true, -128));
    assert_eq!(signed_overflow(100, 27, 8, Overflow::Sat), (false, 0));
    assert_eq!(signed_overflow(i64::MAX, 1, 64, Overflow::Wrap), (true, i64::MIN));
    assert_eq!(unsigned_overflow(255, 1, 8, Overflow::Wrap), (true, 0));
    assert_eq!(unsigned_overflow(0, -1, 8, Overflow::Sat), (true, 0));
    assert_eq!(unsigned_overflow(0, -1, 8, Overflow::Wrap), (true, 255));
    assert_eq!(unsigned_overflow(3, -3, 2, Overflow::Wrap), (false, 0));
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// A field written then read back gives the value truncated to its width (sign-extended
        /// when signed), and leaves every bit outside the field as it was.
        #[test]
        fn set_then_get_round_trips(
            signed in any::<bool>(),
            bits in 1u32..=64,
            offset in 0u64..200,
            value in any::<i64>(),
            background in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            let bits = if signed { bits } else { bits.min(63) };
            let mut bytes = background.clone();
            let need = ((offset + u64::from(bits) - 1) / 8 + 1) as usize;
            if bytes.len() < need {
                bytes.resize(need, 0);
            }
            let before = bytes.clone();
            write_bits(&mut bytes, offset, bits, value as u64);
            let mask = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
            let low = value as u64 & mask;
            let want = if signed && bits < 64 && low >> (bits - 1) == 1 { (low | !mask) as i64 } else { low as i64 };
            prop_assert_eq!(get_field(&bytes, offset, bits, signed), want);
            for bit in 0..(bytes.len() as u64 * 8) {
                if bit < offset || bit >= offset + u64::from(bits) {
                    let (i, m) = ((bit / 8) as usize, 0x80u8 >> (bit % 8));
                    prop_assert_eq!(bytes[i] & m, before[i] & m, "bit {} changed", bit);
                }
            }
        }

        /// Through the command: BITFIELD SET (WRAP) then GET returns the wrapped value, and
        /// a second SET returns it as the old value.
        #[test]
        fn bitfield_command_round_trips(
            signed in any::<bool>(),
            bits in 1u32..=64,
            offset in 0u64..100,
            value in any::<i64>(),
        ) {
            let bits = if signed { bits } else { bits.min(63) };
            let ty = format!("{}{}", if signed { 'i' } else { 'u' }, bits);
            let mut h = Harness::new();
            let mask = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
            let low = value as u64 & mask;
            let want = if signed && bits < 64 && low >> (bits - 1) == 1 { (low | !mask) as i64 } else { low as i64 };
            let reply = h.run(&format!("bitfield k set {ty} {offset} {value} get {ty} {offset} set {ty} {offset} 0"));
            prop_assert_eq!(reply, arr(&[":0\r\n", &format!(":{want}\r\n"), &format!(":{want}\r\n")]));
        }
    }
}
