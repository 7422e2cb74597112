//! Unit tests of the HyperLogLog family through the real command table. Expected replies,
//! cardinalities and value digests were taken from redis-server 7.0.15 fed the same commands.

use crate::store::types::hll;
use crate::store::Value;
use crate::testing::harness::Harness;

/// FNV-1a 64 of a value: the digests below were computed over Redis's GET replies.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

fn value_of(h: &Harness, key: &str) -> Vec<u8> {
    match h.store.dbs[0].peek(key.as_bytes()).map(|e| &e.value) {
        Some(Value::Str(s)) => s.to_vec(),
        other => panic!("{key} holds {other:?}"),
    }
}

/// PFADD of `e0`..`e{n-1}` in batches of 1000, as the reference script sent them.
fn fill(h: &mut Harness, key: &str, n: usize) {
    let names: Vec<String> = (0..n).map(|i| format!("e{i}")).collect();
    for batch in names.chunks(1000) {
        let mut args: Vec<&[u8]> = vec![b"pfadd", key.as_bytes()];
        args.extend(batch.iter().map(|s| s.as_bytes()));
        h.run_bytes(&args);
    }
}

/// (hll-sparse-max-bytes, elements, PFCOUNT, length, digest before PFCOUNT, digest after).
#[rustfmt::skip]
const VECTORS: &[(usize, usize, i64, usize, u64, u64)] = &[
    (3000, 1, 1, 21, 0xfffb6faeff77f7cd, 0x546d16fdfd2c805a),
    (3000, 10, 10, 48, 0x4afcb65d27f7d346, 0xd06c25fbeaa23420),
    (3000, 100, 100, 285, 0xb8de76dab4a4065e, 0x40dec5e3b1513cfa),
    (3000, 500, 506, 1068, 0xae6801a053be0586, 0x4785b546f1b4a8cb),
    (3000, 1000, 1008, 1906, 0x5935de0232806824, 0x4ded8ea0046b668d),
    (3000, 2000, 2000, 12304, 0x1b5576fa1f6b8092, 0xdd4d26f186b57d33),
    (3000, 5000, 4968, 12304, 0x805246753a1cdada, 0x9219c5a2921db657),
    (3000, 100000, 100853, 12304, 0xafbf1713dc5ba3c8, 0xfd1fc23694773e63),
    (0, 1, 1, 12304, 0x063e7d29f70d730a, 0x08e36f495aa4f8cb),
    (0, 10, 10, 12304, 0x0ca15bcad73ddf2e, 0xb5cf9d1f84b3495c),
    (0, 1000, 1008, 12304, 0xb663d6cdbb09d5a6, 0x2390895aa41243f7),
    (100, 10, 10, 48, 0x4afcb65d27f7d346, 0xd06c25fbeaa23420),
    (100, 100, 100, 12304, 0x193d1a0650f1c5bf, 0x019a893d5cd6cdb3),
    (10000, 2000, 2000, 3475, 0x8ec648af6b327e04, 0x5803d7ba34698517),
    (10000, 5000, 4968, 7116, 0x79062ba9afcf3929, 0x730c027419400030),
];

#[test]
fn counts_and_bytes_equal_redis() {
    for &(max_bytes, n, card, len, before, after) in VECTORS {
        let mut h = Harness::new();
        h.cfg.hll_sparse_max_bytes = max_bytes;
        fill(&mut h, "k", n);
        let v = value_of(&h, "k");
        assert_eq!((v.len(), fnv1a(&v)), (len, before), "max {max_bytes} n {n}: bytes before PFCOUNT");
        assert_eq!(h.run("pfcount k"), format!(":{card}\r\n"), "max {max_bytes} n {n}");
        assert_eq!(fnv1a(&value_of(&h, "k")), after, "max {max_bytes} n {n}: bytes after PFCOUNT");
    }
}

#[test]
fn small_values_byte_for_byte() {
    let mut h = Harness::new();
    assert_eq!(h.run("pfadd h a b c"), ":1\r\n");
    let expect = b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x60\xf3\x80\x50\xb1\x84\x4b\xfb\x80\x42\x5a";
    assert_eq!(value_of(&h, "h"), expect.to_vec());
    assert_eq!(h.run("pfdebug decode h"), "$44\r\nZ:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603\r\n");
    assert_eq!(h.run("pfdebug encoding h"), "+sparse\r\n");
    assert_eq!(h.encoding("h"), "raw");
    // A new key with no elements: one XZERO run, cache marked stale.
    assert_eq!(h.run("pfadd e"), ":1\r\n");
    assert_eq!(value_of(&h, "e"), b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x7f\xff".to_vec());
    assert_eq!(h.run("pfadd e"), ":0\r\n");
    assert_eq!(h.run("pfcount e"), ":0\r\n");
    assert_eq!(value_of(&h, "e"), b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\0\x7f\xff".to_vec());
}

/// PFADD one element at a time until the value turns dense: the element that converts it and
/// the sparse length just before, per `hll-sparse-max-bytes`, as Redis answers.
#[test]
fn sparse_turns_dense_at_the_same_element() {
    for (max_bytes, converting_element, len_before) in [(50, 10, 48), (200, 65, 199), (3000, 1683, 3000)] {
        let mut h = Harness::new();
        h.cfg.hll_sparse_max_bytes = max_bytes;
        let mut prev_len = 0;
        let mut converted_at = None;
        for i in 0..5000 {
            h.run(&format!("pfadd b e{i}"));
            if h.run("pfdebug encoding b") == "+dense\r\n" {
                converted_at = Some(i);
                break;
            }
            prev_len = value_of(&h, "b").len();
        }
        assert_eq!((converted_at, prev_len), (Some(converting_element), len_before), "max {max_bytes}");
        assert_eq!(value_of(&h, "b").len(), hll::DENSE_SIZE_BYTES);
    }
}

#[test]
fn merge_of_sparse_and_dense() {
    let mut h = Harness::new();
    let add = |h: &mut Harness, key: &str, prefix: &str, n: usize| {
        let names: Vec<String> = (0..n).map(|i| format!("{prefix}{i}")).collect();
        let mut args: Vec<&[u8]> = vec![b"pfadd", key.as_bytes()];
        args.extend(names.iter().map(|s| s.as_bytes()));
        h.run_bytes(&args)
    };
    add(&mut h, "s", "s", 50);
    add(&mut h, "d", "d", 3000);
    assert_eq!(h.run("pfmerge s d"), "+OK\r\n");
    assert_eq!(h.run("pfdebug encoding s"), "+dense\r\n");
    assert_eq!(h.run("pfcount s"), ":3069\r\n");
    // Two sparse inputs stay sparse; the bytes are Redis's.
    add(&mut h, "s2", "s", 50);
    add(&mut h, "s3", "t", 60);
    assert_eq!(h.run("pfmerge s4 s2 s3"), "+OK\r\n");
    assert_eq!(h.run("pfdebug encoding s4"), "+sparse\r\n");
    let v = value_of(&h, "s4");
    assert_eq!((v.len(), &v[..24]), (306, &b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x40\x5c\x94\x43\x09\x80\x40\xb7"[..]));
    assert_eq!(h.run("pfcount s4"), ":110\r\n");
    assert_eq!(h.run("pfcount s2 s3"), ":110\r\n");
    assert_eq!(h.run("pfcount s2 s3 nokey"), ":110\r\n");
    // A missing destination with no sources is created empty.
    assert_eq!(h.run("pfmerge fresh"), "+OK\r\n");
    assert_eq!(value_of(&h, "fresh"), b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x7f\xff".to_vec());
}

#[test]
fn errors_and_wrong_types() {
    let mut h = Harness::new();
    h.run("set plain hello");
    h.run("set num 12345");
    h.run("set hdr HYLL");
    h.run("rpush l a");
    let not_hll = "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n";
    let wrongtype = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
    for cmd in ["pfadd plain a", "pfadd num", "pfadd hdr x", "pfcount plain", "pfcount nokey num", "pfmerge d plain"] {
        assert_eq!(h.run(cmd), not_hll, "{cmd}");
    }
    for cmd in ["pfadd l a", "pfcount l", "pfcount l plain", "pfmerge l", "pfdebug encoding l"] {
        assert_eq!(h.run(cmd), wrongtype, "{cmd}");
    }
    assert_eq!(h.store.dbs[0].peek(b"d").map(|_| ()), None, "a failed PFMERGE creates nothing");
    assert_eq!(h.run("pfadd"), "-ERR wrong number of arguments for 'pfadd' command\r\n");
    assert_eq!(h.run("pfdebug encoding"), "-ERR wrong number of arguments for 'pfdebug' command\r\n");
    assert_eq!(h.run("pfdebug foo nokey"), "-ERR The specified key does not exist\r\n");
    // A sparse value whose runs do not add up.
    h.run_bytes(&[b"set", b"bad", b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x7f\xfe"]);
    let corrupt = "-INVALIDOBJ Corrupted HLL object detected\r\n";
    assert_eq!(h.run("pfcount bad"), corrupt);
    assert_eq!(h.run("pfcount bad nokey"), corrupt);
    assert_eq!(h.run("pfmerge d bad"), corrupt);
    assert_eq!(h.run("pfdebug todense bad"), corrupt);
    assert_eq!(h.run("pfdebug decode bad"), "$7\r\nZ:16383\r\n");
    // The add lands in the runs that exist; Redis keeps the change but not the stale mark.
    assert_eq!(h.run("pfadd bad a"), ":1\r\n");
    // Valid cached cardinality on a value without any run: served from the cache.
    h.run_bytes(&[b"set", b"empty", b"HYLL\x01\0\0\0\x07\0\0\0\0\0\0\0"]);
    assert_eq!(h.run("pfcount empty"), ":7\r\n");
    assert_eq!(h.run("pfadd empty a"), corrupt);
    assert_eq!(h.encoding("empty"), "raw");
}

#[test]
fn pfdebug_subcommands() {
    let mut h = Harness::new();
    h.run("pfadd k a b c");
    h.run("set s abc");
    assert_eq!(h.run("pfdebug foo k"), "-ERR Unknown PFDEBUG subcommand 'foo'\r\n");
    assert_eq!(h.run_bytes(&[b"pfdebug", b"encoding\0x", b"k"]), "+sparse\r\n");
    assert_eq!(h.run_bytes(&[b"pfdebug", b"bad\0x", b"k"]), "-ERR Unknown PFDEBUG subcommand 'bad'\r\n");
    assert_eq!(h.run("pfdebug encoding s"), "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n");
    let dirty = h.store.dirty;
    let regs = h.run("pfdebug getreg k");
    assert!(regs.starts_with("*16384\r\n:0\r\n"), "{}", &regs[..40]);
    assert_eq!(regs.matches(":1\r\n").count() + regs.matches(":2\r\n").count(), 3);
    assert_eq!(h.store.dirty, dirty + 1, "GETREG converted the value");
    assert_eq!(h.run("pfdebug encoding k"), "+dense\r\n");
    assert_eq!(h.run("pfdebug decode k"), "-ERR HLL encoding is not sparse\r\n");
    assert_eq!(h.run("pfdebug todense k"), ":0\r\n");
    h.run("pfadd k2 x");
    assert_eq!(h.run("pfdebug TODENSE k2"), ":1\r\n");
    assert_eq!(h.store.dirty, dirty + 4, "PFADD k2 x counts 2, TODENSE 1");
}

/// server.dirty as Redis counts it: key creation plus each changed register for PFADD, one
/// for a recomputed PFCOUNT (none when cached), one per PFMERGE.
#[test]
fn dirty_counts_follow_redis() {
    let mut h = Harness::new();
    let step = |h: &mut Harness, cmd: &str, reply: &str, dirty: u64| {
        let before = h.store.dirty;
        assert_eq!(h.run(cmd), reply, "{cmd}");
        assert_eq!(h.store.dirty - before, dirty, "{cmd}");
    };
    step(&mut h, "pfadd dk a b c", ":1\r\n", 4);
    step(&mut h, "pfadd dk a d", ":1\r\n", 1);
    step(&mut h, "pfadd dk a", ":0\r\n", 0);
    step(&mut h, "pfcount dk", ":4\r\n", 1);
    step(&mut h, "pfcount dk", ":4\r\n", 0);
    step(&mut h, "pfmerge dk2 dk", "+OK\r\n", 1);
    step(&mut h, "pfcount dk dk2", ":4\r\n", 0);
}

/// Events as Redis 7.0.15 publishes them with `KEAn`: `new` from the key's creation, then
/// `pfadd` for PFADD and PFMERGE; nothing for PFCOUNT, PFDEBUG or a PFADD that changed nothing.
#[test]
fn keyspace_events_are_recorded() {
    use crate::command::family::events_test::{harness, steps};
    let mut h = harness();
    steps(
        &mut h,
        &[
            ("pfadd e1 a b", "new:e1 pfadd:e1"),
            ("pfadd e1 a", ""),
            ("pfadd e2", "new:e2 pfadd:e2"),
            ("pfcount e1", ""),
            ("pfcount e1 e2", ""),
            ("pfmerge e3 e1 e2", "new:e3 pfadd:e3"),
            ("pfmerge e3", "pfadd:e3"),
            ("pfdebug todense e1", ""),
            ("set g junk", "new:g set:g"),
            ("pfadd g a", ""),
            ("pfmerge e4 g", ""),
        ],
    );
}

#[test]
fn selftest_passes() {
    let mut rng = <rand::rngs::SmallRng as rand::SeedableRng>::seed_from_u64(3);
    // Fewer elements than PFSELFTEST's ten million keep the debug build quick; the checks at
    // each power of ten are the same.
    assert_eq!(super::debug::selftest(&mut rng, 0x1234_5678_9abc_def0, 3000, 100_000), Ok(()));
    assert_eq!(super::debug::selftest(&mut rng, 42, 0, 10_000), Ok(()));
}

mod corrupt_input {
    use super::*;
    use proptest::prelude::*;

    /// Random strings shaped like HyperLogLogs (right magic, either encoding, random runs).
    fn hll_like() -> impl Strategy<Value = Vec<u8>> {
        (0u8..3, proptest::collection::vec(any::<u8>(), 0..300), any::<bool>()).prop_map(|(enc, body, dense_len)| {
            let mut v = b"HYLL".to_vec();
            v.push(enc);
            v.extend_from_slice(&[0; 11]);
            if enc == 0 && dense_len {
                v.extend(body.iter().cycle().take(hll::DENSE_SIZE_BYTES - 16));
                v.resize(hll::DENSE_SIZE_BYTES, 0);
            } else {
                v.extend(body);
            }
            v
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
        #[test]
        fn never_panics(a in hll_like(), b in proptest::collection::vec(any::<u8>(), 0..40), max in 0usize..400) {
            let mut h = Harness::new();
            h.cfg.hll_sparse_max_bytes = max;
            h.run_bytes(&[b"set", b"a", &a]);
            h.run_bytes(&[b"set", b"b", &b]);
            h.run_bytes(&[b"set", b"c", &a]);
            for cmd in [
                &[&b"pfcount"[..], b"a"][..], &[b"pfadd", b"a", b"x", b"y", b"z"], &[b"pfcount", b"a", b"b"],
                &[b"pfmerge", b"m", b"c"], &[b"pfmerge", b"c", b"a"], &[b"pfadd", b"b", b"q"],
                &[b"pfdebug", b"decode", b"c"], &[b"pfdebug", b"getreg", b"a"], &[b"pfcount", b"c"],
                &[b"pfcount", b"m"], &[b"pfadd", b"c", &b],
            ] {
                let reply = h.run_bytes(cmd);
                prop_assert!(!reply.is_empty());
            }
        }
    }
}
