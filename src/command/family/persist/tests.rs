//! DUMP and RESTORE through the real command table: payloads byte for byte as redis-server
//! 7.0.15 produced them for the same values, round trips, and every error in Redis's order.

use crate::command::spec::DataCtx;
use crate::resp::Out;
use crate::testing::harness::{Harness, NOW_MS};

/// Runs `f` (a data command function) on the harness and returns the raw reply bytes.
fn raw(h: &mut Harness, f: crate::command::spec::DataFn, args: &[&[u8]]) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut out = Out::new(&mut buf, false);
    let mut ctx = DataCtx { store: &mut h.store, dbi: h.dbi, now_ms: h.now_ms, cfg: &h.cfg, rng: &mut h.rng };
    f(&mut ctx, args, &mut out);
    buf
}

fn dump(h: &mut Harness, key: &str) -> Option<Vec<u8>> {
    let r = raw(h, super::dump, &[b"dump", key.as_bytes()]);
    if r == b"$-1\r\n" {
        return None;
    }
    let text_end = r.iter().position(|&b| b == b'\r').expect("bulk header");
    Some(r[text_end + 2..r.len() - 2].to_vec())
}

fn restore(h: &mut Harness, args: &[&[u8]]) -> String {
    let mut full: Vec<&[u8]> = vec![b"restore"];
    full.extend_from_slice(args);
    String::from_utf8_lossy(&raw(h, super::restore, &full)).into_owned()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

/// (setup commands, key, DUMP from redis-server 7.0.15 after the same commands).
const REDIS_DUMPS: &[(&str, &str, &str)] = &[
    ("set str bar", "str", "00036261720a00e6be4960ee66fd17"),
    ("set int 12345", "int", "00c139300a009d94ea2793fc08b9"),
    ("rpush list a b 1", "list", "1201020f0f00000003008161028162020101ff0a00e01bab4a47ce5922"),
    ("hset hash f1 v1 f2 2", "hash", "10151500000004008266310382763103826632030201ff0a005c5ea813feec1ff5"),
    ("sadd iset 1 2 3", "iset", "0b0e02000000030000000100020003000a00a5025ce26d6e4d1b"),
    (
        "zadd zset 1 a 2.5 b -3 c",
        "zset",
        "111a1a0000000600816302dffd02816102010181620283322e3504ff0a00a68a1ab1a9f2dcc2",
    ),
];

#[test]
fn payloads_equal_redis() {
    let mut h = Harness::new();
    for (setup, key, want) in REDIS_DUMPS {
        h.run(setup);
        assert_eq!(dump(&mut h, key).map(|p| hex(&p)), Some(want.to_string()), "{setup}");
    }
    let big = "a".repeat(50);
    h.run(&format!("set big {big}"));
    assert_eq!(hex(&dump(&mut h, "big").unwrap()), "00c30932016161e025000161610a0009ac48b9ab15fbc9");
    let x = "x".repeat(70);
    h.run(&format!("zadd zbig 1 a 2.5 b 3 {x}"));
    assert_eq!(
        hex(&dump(&mut h, "zbig").unwrap()),
        "0503c3094046017878e039000178780000000000000840016200000000000004400161000000000000f03f0a0095821aaa58b3f7a5"
    );
    assert_eq!(dump(&mut h, "missing"), None);
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// XADD st 1-1 a 1 b 2; XADD st 2-0 a 3 b 4; XADD st 3-0 c 5; XGROUP CREATE st g1 0;
/// XREADGROUP GROUP g1 alice COUNT 2 STREAMS st >; XDEL st 2-0, DUMPed by redis-server 7.0.15.
const REDIS_STREAM: &str = "130110000000000000000100000000000000013e3e000000190002010101020181610281620200010201\
0001000101010201050103010101dfff0203010401050100010201dfff02010181630205010601ff0203000101020003010267310200\
020200000000000000010000000000000001c32d0a14a20100000100000000000000020000000000000000c32d0a14a2010000010105\
616c696365c32d0a14a20100000200000000000000010000000000000001000000000000000200000000000000000a0001d3f2f3964c\
0324";

#[test]
fn stream_payload_round_trips_byte_for_byte() {
    let mut h = Harness::new();
    let p = unhex(REDIS_STREAM);
    assert_eq!(restore(&mut h, &[b"st", b"0", &p]), "+OK\r\n");
    assert_eq!(h.encoding("st"), "stream");
    assert_eq!(dump(&mut h, "st").unwrap(), p);
    assert_eq!(h.run("xlen st"), ":2\r\n");
}

#[test]
fn redis_payloads_restore_with_their_encodings() {
    let mut h = Harness::new();
    for (_, key, payload) in REDIS_DUMPS {
        let p = unhex(payload);
        let k = format!("r-{key}");
        assert_eq!(restore(&mut h, &[k.as_bytes(), b"0", &p]), "+OK\r\n", "{key}");
    }
    assert_eq!(h.run("get r-str"), "$3\r\nbar\r\n");
    assert_eq!(h.encoding("r-int"), "int");
    assert_eq!(h.run("lrange r-list 0 -1"), "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\n1\r\n");
    assert_eq!(h.run("hget r-hash f2"), "$1\r\n2\r\n");
    assert_eq!(h.encoding("r-hash"), "listpack");
    assert_eq!(h.encoding("r-iset"), "intset");
    assert_eq!(h.run("zscore r-zset b"), "$3\r\n2.5\r\n");
    assert_eq!(h.run("zrange r-zset 0 -1"), "*3\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nb\r\n");
    assert_eq!(h.encoding("r-zset"), "listpack");
}

#[test]
fn round_trip_every_type_and_encoding() {
    let mut h = Harness::new();
    let long = "v".repeat(100);
    let setups = vec![
        "set s hello".to_string(),
        format!("set long {long}"),
        "rpush l 1 two 3".to_string(),
        "hset hs a 1 b 2".to_string(),
        format!("hset hl a {long}"),
        "sadd si 5 -7 100000".to_string(),
        "sadd st x y z".to_string(),
        "zadd zs 1 a 2 b".to_string(),
        format!("zadd zl 1 a 2 {long}"),
    ];
    for s in &setups {
        h.run(s);
    }
    for key in ["s", "long", "l", "hs", "hl", "si", "st", "zs", "zl"] {
        let p = dump(&mut h, key).unwrap();
        let copy = format!("{key}-copy");
        assert_eq!(restore(&mut h, &[copy.as_bytes(), b"0", &p]), "+OK\r\n");
        assert_eq!(h.encoding(key), h.encoding(&copy), "{key}");
        assert_eq!(dump(&mut h, &copy).unwrap(), p, "{key}");
    }
}

#[test]
fn errors_in_redis_order() {
    let mut h = Harness::new();
    h.run("set k v");
    let p = dump(&mut h, "k").unwrap();
    assert_eq!(restore(&mut h, &[b"k", b"0", &p]), "-BUSYKEY Target key name already exists.\r\n");
    // Options are checked before the key.
    assert_eq!(restore(&mut h, &[b"k", b"0", &p, b"bogus"]), "-ERR syntax error\r\n");
    assert_eq!(restore(&mut h, &[b"n", b"0", &p, b"idletime"]), "-ERR syntax error\r\n");
    assert_eq!(
        restore(&mut h, &[b"n", b"0", &p, b"idletime", b"x"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(restore(&mut h, &[b"n", b"0", &p, b"idletime", b"-1"]), "-ERR Invalid IDLETIME value, must be >= 0\r\n");
    assert_eq!(
        restore(&mut h, &[b"n", b"0", &p, b"freq", b"256"]),
        "-ERR Invalid FREQ value, must be >= 0 and <= 255\r\n"
    );
    assert_eq!(restore(&mut h, &[b"n", b"0", &p, b"idletime", b"1", b"freq", b"1"]), "-ERR syntax error\r\n");
    assert_eq!(restore(&mut h, &[b"n", b"-1", &p]), "-ERR Invalid TTL value, must be >= 0\r\n");
    assert_eq!(restore(&mut h, &[b"n", b"x", &p]), "-ERR value is not an integer or out of range\r\n");
    let mut bad = p.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert_eq!(restore(&mut h, &[b"n", b"0", &bad]), "-ERR DUMP payload version or checksum are wrong\r\n");
    assert_eq!(restore(&mut h, &[b"n", b"0", b"short"]), "-ERR DUMP payload version or checksum are wrong\r\n");
    // A valid footer around a body that is not a value.
    let mut junk = vec![0x63u8, 1, 2];
    junk.extend_from_slice(&10u16.to_le_bytes());
    let crc = crate::persist::rdb::crc64::crc64(0, &junk);
    junk.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(restore(&mut h, &[b"n", b"0", &junk]), "-ERR Bad data format\r\n");
    // Version 11 is refused even with a right checksum.
    let mut v11 = p[..p.len() - 10].to_vec();
    v11.extend_from_slice(&11u16.to_le_bytes());
    let crc = crate::persist::rdb::crc64::crc64(0, &v11);
    v11.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(restore(&mut h, &[b"n", b"0", &v11]), "-ERR DUMP payload version or checksum are wrong\r\n");
    assert_eq!(h.run("exists n"), ":0\r\n");
}

#[test]
fn ttl_replace_absttl_idletime() {
    let mut h = Harness::new();
    h.run("set k v");
    let p = dump(&mut h, "k").unwrap();
    assert_eq!(restore(&mut h, &[b"a", b"5000", &p]), "+OK\r\n");
    assert_eq!(h.deadline_ms("a"), NOW_MS + 5000);
    let abs = (NOW_MS + 9000).to_string();
    assert_eq!(restore(&mut h, &[b"b", abs.as_bytes(), &p, b"ABSTTL"]), "+OK\r\n");
    assert_eq!(h.deadline_ms("b"), NOW_MS + 9000);
    // An absolute TTL in the past: nothing created, a replaced key deleted.
    let past = (NOW_MS - 1).to_string();
    assert_eq!(restore(&mut h, &[b"c", past.as_bytes(), &p, b"absttl"]), "+OK\r\n");
    assert_eq!(h.run("exists c"), ":0\r\n");
    assert_eq!(restore(&mut h, &[b"k", past.as_bytes(), &p, b"absttl", b"replace"]), "+OK\r\n");
    assert_eq!(h.run("exists k"), ":0\r\n");
    // REPLACE over another type.
    h.run("rpush l x");
    assert_eq!(restore(&mut h, &[b"l", b"0", &p, b"REPLACE", b"IDLETIME", b"100"]), "+OK\r\n");
    let e = h.store.dbs[0].peek(b"l").unwrap();
    assert_eq!(e.access_s, (NOW_MS / 1000) as u32 - 100);
    assert_eq!(e.expire_at_ms, 0);
    assert_eq!(h.run("get l"), "$1\r\nv\r\n");
}

#[test]
fn restore_fires_its_event() {
    let mut h = Harness::new();
    h.cfg.notify_keyspace_events = crate::config::notify::GENERIC | crate::config::notify::KEYEVENT;
    h.run("set k v");
    let p = dump(&mut h, "k").unwrap();
    h.store.events.clear();
    restore(&mut h, &[b"n", b"0", &p]);
    let names: Vec<_> = h.store.events.iter().map(|e| e.event).collect();
    assert_eq!(names, ["restore"]);
}

/// Under an LFU policy RESTORE's IDLETIME is ignored, as Redis's objectSetLRUOrLFU ignores it:
/// the restored counter starts where FREQ (or the new-key value) puts it, undecayed. Under an
/// LRU policy IDLETIME sets the idle time.
#[test]
fn restore_idletime_is_ignored_under_lfu() {
    use crate::config::MaxmemoryPolicy;
    let mut h = Harness::new();
    h.run("set k v");
    let payload = dump(&mut h, "k").expect("payload");
    h.cfg.maxmemory_policy = MaxmemoryPolicy::AllkeysLfu;
    h.cfg.lfu_decay_time_min = 1;
    assert_eq!(restore(&mut h, &[b"lfu", b"0", &payload, b"IDLETIME", b"100000"]), "+OK\r\n");
    assert_eq!(h.run("object freq lfu"), ":5\r\n");
    assert_eq!(restore(&mut h, &[b"lfu2", b"0", &payload, b"FREQ", b"77"]), "+OK\r\n");
    assert_eq!(h.run("object freq lfu2"), ":77\r\n");
    h.cfg.maxmemory_policy = MaxmemoryPolicy::AllkeysLru;
    assert_eq!(restore(&mut h, &[b"lru", b"0", &payload, b"IDLETIME", b"1000"]), "+OK\r\n");
    let idle: i64 = h.run("object idletime lru")[1..].trim().parse().unwrap_or(-1);
    assert!((1000..1010).contains(&idle), "{idle}");
}
