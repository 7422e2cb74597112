//! RDB files end to end on byte buffers: a file written by redis-server 7.0.15, round trips of
//! every type and encoding, the older encodings Redis 7.0 still loads, refusals with offsets,
//! and fuzzing (random bytes, truncations, bit flips) that must never panic.

use super::file::{check, load_shard, walk};
use super::read::{skip_value, LoadLimits};
use super::write::{put_db_header, put_header, put_len, put_string, Aux, WriteOpts};
use super::{crc64::crc64, kind, opcode, ziplist};
use crate::store::keyspace::Entry;
use crate::store::types::hash::HashLimits;
use crate::store::types::zset::{AddFlags, ListpackLimits, ZSetValue};
use crate::store::value::{StrValue, Value};
use crate::store::Store;
use proptest::prelude::*;

const FAR_MS: u64 = 4_102_444_800_000;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

/// `SAVE` of redis-server 7.0.15 after: SET s hello; PEXPIREAT s 4102444800000; SET n 12345;
/// SET big <50 x a>; RPUSH l a b 1; SELECT 2; HSET h f v; SADD si 1 2; ZADD z 1.5 m.
const REDIS_FILE: &str = "524544495330303130fa0972656469732d76657206372e302e3135fa0a72656469732d62697473c040fa05\
6374696d65c2ee27076bfa08757365642d6d656dc200e31500fa08616f662d62617365c000fe00fb04010003626967c3093201616\
1e0250001616100016ec1393012016c01020f0f00000003008161028162020101fffc00d8c32cbb0300000001730568656c6c6ffe\
02fb030011017a0f0f0000000200816d0283312e3504ff1001680d0d0000000200816602817602ff0b0273690c0200000002000000\
01000200ff2bac349431b1f76f";

/// A canonical, encoding-independent description of a value, to compare contents.
fn canon(v: &Value) -> (String, Vec<Vec<u8>>) {
    let mut items: Vec<Vec<u8>> = Vec::new();
    match v {
        Value::Str(s) => items.push(s.to_vec()),
        Value::List(l) => items.extend(l.iter().map(|e| e.to_vec())),
        Value::Set(s) => {
            s.for_each_member(|m| items.push(m.to_vec()));
            items.sort();
        }
        Value::ZSet(z) => {
            for (m, s) in z.iter() {
                items.push(m.to_vec());
                items.push(s.to_bits().to_le_bytes().to_vec());
            }
        }
        Value::Hash(h) => {
            let mut pairs: Vec<_> = h.iter().map(|(f, x)| [f.to_vec(), x.to_vec()].concat()).collect();
            pairs.sort();
            items = pairs;
        }
        Value::Stream(x) => {
            for e in x.entries() {
                items.push(format!("{}", e.id).into_bytes());
                let mut tmp = [0u8; 24];
                for (f, v) in e.fields() {
                    items.push(f.as_bytes(&mut tmp).to_vec());
                    items.push(v.as_bytes(&mut tmp).to_vec());
                }
            }
            for (name, g) in x.groups() {
                items.push(
                    format!(
                        "group {} {} {} {}",
                        String::from_utf8_lossy(name),
                        g.last_id,
                        g.entries_read,
                        g.pel().len()
                    )
                    .into_bytes(),
                );
                for (id, p) in g.pel() {
                    items.push(
                        format!(
                            "pel {id} {} {} {}",
                            String::from_utf8_lossy(&p.consumer),
                            p.delivery_time_ms,
                            p.delivery_count
                        )
                        .into_bytes(),
                    );
                }
            }
            items.push(
                format!(
                    "meta {} {} {} {} {}",
                    x.len(),
                    x.last_id(),
                    x.first_id(),
                    x.max_deleted_entry_id(),
                    x.entries_added()
                )
                .into_bytes(),
            );
        }
    }
    (format!("{}/{}", v.type_name(), v.encoding()), items)
}

fn load(buf: &[u8], lim: &LoadLimits) -> Store {
    let mut store = Store::new(16);
    check(buf, 16).expect("valid file");
    load_shard(buf, 0, 1, lim, 1_000, &mut store).expect("loads");
    store
}

#[test]
fn loads_a_file_written_by_redis() {
    let buf = unhex(REDIS_FILE);
    let sum = check(&buf, 16).unwrap();
    assert_eq!(sum.version, 10);
    assert_eq!(sum.aux_str("redis-ver").as_deref(), Some("7.0.15"));
    let store = load(&buf, &LoadLimits::default());
    let db0 = &store.dbs[0];
    assert_eq!(db0.len(), 4);
    let get = |db: &crate::store::Db, k: &str| canon(&db.peek(k.as_bytes()).expect(k).value);
    assert_eq!(get(db0, "s"), ("string/embstr".into(), vec![b"hello".to_vec()]));
    assert_eq!(db0.peek(b"s").unwrap().expire_at_ms, FAR_MS);
    assert_eq!(get(db0, "n"), ("string/int".into(), vec![b"12345".to_vec()]));
    assert_eq!(get(db0, "big").1, vec![vec![b'a'; 50]]);
    assert_eq!(get(db0, "l").1, vec![b"a".to_vec(), b"b".to_vec(), b"1".to_vec()]);
    let db2 = &store.dbs[2];
    assert_eq!(get(db2, "h"), ("hash/listpack".into(), vec![b"fv".to_vec()]));
    assert_eq!(get(db2, "si"), ("set/intset".into(), vec![b"1".to_vec(), b"2".to_vec()]));
    assert_eq!(get(db2, "z").0, "zset/listpack");
    assert_eq!(db2.peek(b"z").unwrap().value_zscore(b"m"), Some(1.5));
}

trait ZScore {
    fn value_zscore(&self, m: &[u8]) -> Option<f64>;
}
impl ZScore for Entry {
    fn value_zscore(&self, m: &[u8]) -> Option<f64> {
        match &self.value {
            Value::ZSet(z) => z.score(m),
            _ => None,
        }
    }
}

/// Every type in every encoding, small and large, some with TTLs, across two databases.
fn sample_store() -> Store {
    let mut s = Store::new(16);
    let hl = HashLimits::default();
    let zl = ListpackLimits { max_entries: 128, max_value_bytes: 64 };
    let put = |s: &mut Store, db: usize, k: &str, v: Value, ttl: u64| {
        let mut e = Entry::new(v);
        e.expire_at_ms = ttl;
        s.dbs[db].insert(k.as_bytes(), e);
    };
    put(&mut s, 0, "str", Value::Str(StrValue::from_bytes(b"hello")), 0);
    put(&mut s, 0, "int", Value::Str(StrValue::Int(-1 << 40)), FAR_MS);
    put(&mut s, 0, "long", Value::Str(StrValue::from_bytes(&b"0123456789".repeat(30))), 0);
    put(&mut s, 0, "random", Value::Str(StrValue::from_bytes(&(0..=255u8).collect::<Vec<_>>())), 0);
    put(&mut s, 0, "", Value::Str(StrValue::from_bytes(b"")), 0);
    for (name, n) in [("list-small", 3usize), ("list-big", 5000)] {
        let mut l = crate::store::types::list::ListValue::new(-2);
        for i in 0..n {
            l.push_back(
                if i % 3 == 0 { i.to_string().into_bytes() } else { format!("elem-{i}").into_bytes() }.as_slice(),
            );
        }
        put(&mut s, 0, name, Value::List(Box::new(l)), 0);
    }
    for (name, n) in [("hash-small", 5usize), ("hash-big", 1000)] {
        let mut h = crate::store::types::hash::HashValue::default();
        for i in 0..n {
            h.set(format!("f{i}").as_bytes(), i.to_string().as_bytes(), hl);
        }
        put(&mut s, 1, name, Value::Hash(h), FAR_MS);
    }
    let mut set_int = crate::store::types::set::SetValue::new_intset();
    for v in [-5i64, 70000, 1 << 40] {
        set_int.add(v.to_string().as_bytes(), 512);
    }
    put(&mut s, 1, "set-int", Value::Set(set_int), 0);
    let mut set_str = crate::store::types::set::SetValue::new_intset();
    for i in 0..300 {
        set_str.add(format!("m{i}").as_bytes(), 512);
    }
    put(&mut s, 1, "set-str", Value::Set(set_str), 0);
    put(&mut s, 1, "stream", Value::Stream(Box::new(sample_stream())), 0);
    for (name, n) in [("zset-small", 4usize), ("zset-big", 700)] {
        let mut z = ZSetValue::new_listpack();
        for i in 0..n {
            let score = if i % 2 == 0 { i as f64 } else { i as f64 / 7.0 - 3.5 };
            z.add(score, format!("m{i}").as_bytes(), AddFlags::default(), zl);
        }
        z.add(f64::INFINITY, b"top", AddFlags::default(), zl);
        z.add(f64::NEG_INFINITY, b"bottom", AddFlags::default(), zl);
        put(&mut s, 0, name, Value::ZSet(z), 0);
    }
    s
}

/// A stream over several nodes, with deleted entries and a consumer group with pending entries.
fn sample_stream() -> crate::store::types::stream::StreamValue {
    use crate::store::types::stream::{IdRequest, NodeLimits, StreamId, StreamValue};
    let mut x = StreamValue::new();
    let lim = NodeLimits { max_bytes: 4096, max_entries: 10 };
    for i in 0..95u64 {
        let v = (i * 3).to_string();
        let fields: Vec<&[u8]> =
            if i % 4 == 0 { vec![b"a", v.as_bytes(), b"b", b"x"] } else { vec![b"a", v.as_bytes()] };
        x.append(&fields, IdRequest::Exact(StreamId { ms: 1000 + i, seq: i % 3 }), 0, lim).unwrap();
    }
    x.delete_ids(&[StreamId { ms: 1003, seq: 0 }, StreamId { ms: 1050, seq: 2 }]);
    assert!(x.create_group(b"grp", StreamId { ms: 1010, seq: 1 }, 7));
    let g = x.group_mut(b"grp").unwrap();
    g.create_consumer(b"alice", 5);
    g.create_consumer(b"bob", 6);
    g.deliver(StreamId { ms: 1001, seq: 1 }, b"alice", 77);
    g.deliver(StreamId { ms: 1002, seq: 2 }, b"bob", 78);
    assert!(x.create_group(b"empty", StreamId::default(), -1));
    x
}

fn write_file(store: &Store, opts: &WriteOpts) -> Vec<u8> {
    let mut out = Vec::new();
    put_header(&mut out, &Aux { ctime_s: 1, used_mem_bytes: 1 << 33, aof_base: false });
    for (i, db) in store.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        let expires = db.expires_len() as u64;
        put_db_header(&mut out, i, db.len() as u64, expires);
        for slot in db.nonempty_slots() {
            crate::persist::snapshot::serialize_slot(db, slot, 0, opts, &mut out);
        }
    }
    out.push(opcode::EOF);
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

fn assert_same(a: &Store, b: &Store) {
    for (i, (da, db)) in a.dbs.iter().zip(&b.dbs).enumerate() {
        assert_eq!(da.len(), db.len(), "db {i}");
        for slot in da.nonempty_slots() {
            for (k, e) in da.slot_table(slot).unwrap().iter() {
                let other = db.peek(k).unwrap_or_else(|| panic!("missing {k:?}"));
                assert_eq!(canon(&e.value), canon(&other.value), "key {k:?}");
                assert_eq!(e.expire_at_ms, other.expire_at_ms, "ttl of {k:?}");
            }
        }
    }
}

#[test]
fn round_trip_every_type_and_encoding() {
    let store = sample_store();
    for compress in [true, false] {
        let opts = WriteOpts { compress, ..WriteOpts::default() };
        let buf = write_file(&store, &opts);
        let back = load(&buf, &LoadLimits::default());
        assert_same(&store, &back);
        // Writing what was loaded gives the same file.
        assert_eq!(write_file(&back, &opts).len(), buf.len());
    }
}

#[test]
fn sharded_load_routes_every_key_once() {
    let store = sample_store();
    let buf = write_file(&store, &WriteOpts::default());
    let n = 3;
    let mut total = 0;
    for shard in 0..n {
        let mut part = Store::new(16);
        let st = load_shard(&buf, shard, n, &LoadLimits::default(), 1_000, &mut part).unwrap();
        total += st.keys_loaded;
        for db in &part.dbs {
            for slot in db.nonempty_slots() {
                assert_eq!(crate::cluster::slot::owner_shard(slot, n), shard);
            }
        }
    }
    assert_eq!(total, store.dbs.iter().map(|d| d.len() as u64).sum::<u64>());
}

#[test]
fn encodings_follow_the_limits_on_load() {
    let buf = write_file(&sample_store(), &WriteOpts::default());
    let tight = LoadLimits {
        hash: HashLimits { max_listpack_entries: 2, max_listpack_value_bytes: 64 },
        zset: ListpackLimits { max_entries: 2, max_value_bytes: 64 },
        set_max_intset_entries: 2,
        list_fill: 16,
        lfu_policy: false,
    };
    let s = load(&buf, &tight);
    let enc = |db: usize, k: &str| s.dbs[db].peek(k.as_bytes()).unwrap().value.encoding();
    assert_eq!(enc(1, "hash-small"), "hashtable");
    assert_eq!(enc(1, "set-int"), "hashtable");
    assert_eq!(enc(0, "zset-small"), "skiplist");
    let roomy = LoadLimits {
        hash: HashLimits { max_listpack_entries: 5000, max_listpack_value_bytes: 64 },
        zset: ListpackLimits { max_entries: 5000, max_value_bytes: 64 },
        set_max_intset_entries: 512,
        list_fill: -2,
        lfu_policy: false,
    };
    let s = load(&buf, &roomy);
    let enc = |db: usize, k: &str| s.dbs[db].peek(k.as_bytes()).unwrap().value.encoding();
    // Pair-by-pair types start small when their count allows.
    assert_eq!(enc(1, "hash-big"), "listpack");
    assert_eq!(enc(0, "zset-big"), "listpack");
}

/// A version-`v` file body around `keys` (already encoded), without or with a checksum.
fn old_file(v: u16, keys: &[u8]) -> Vec<u8> {
    let mut out = format!("REDIS{v:04}").into_bytes();
    out.push(opcode::SELECTDB);
    put_len(&mut out, 0);
    out.extend_from_slice(keys);
    out.push(opcode::EOF);
    if v >= 5 {
        let crc = crc64(0, &out);
        out.extend_from_slice(&crc.to_le_bytes());
    }
    out
}

#[test]
fn older_encodings_load() {
    let mut k = Vec::new();
    // Ziplist list, ziplist hash, ziplist zset (type 10, 13, 12).
    k.push(kind::LIST_ZIPLIST);
    put_string(&mut k, b"zl", false);
    put_string(&mut k, &ziplist::build(&[b"x", b"7", b"-300"]), false);
    k.push(kind::HASH_ZIPLIST);
    put_string(&mut k, b"zh", false);
    put_string(&mut k, &ziplist::build(&[b"f", b"v", b"n", b"12"]), false);
    k.push(kind::ZSET_ZIPLIST);
    put_string(&mut k, b"zz", false);
    put_string(&mut k, &ziplist::build(&[b"a", b"1", b"b", b"2.5"]), false);
    // Quicklist of ziplists (type 14).
    k.push(kind::LIST_QUICKLIST);
    put_string(&mut k, b"ql", false);
    put_len(&mut k, 2);
    put_string(&mut k, &ziplist::build(&[b"1", b"2"]), false);
    put_string(&mut k, &ziplist::build(&[b"3"]), false);
    // Plain list, zset with text scores (type 1, 3), and an expiry in seconds.
    k.push(opcode::EXPIRETIME);
    k.extend_from_slice(&2_000_000_000u32.to_le_bytes());
    k.push(kind::LIST);
    put_string(&mut k, b"pl", false);
    put_len(&mut k, 2);
    put_string(&mut k, b"p", false);
    put_string(&mut k, b"q", false);
    k.push(kind::ZSET);
    put_string(&mut k, b"tz", false);
    put_len(&mut k, 3);
    for (m, s) in [(&b"a"[..], &b"1.5"[..]), (b"b", b""), (b"c", b"")] {
        put_string(&mut k, m, false);
        match m {
            b"b" => k.push(254),
            b"c" => k.push(255),
            _ => {
                k.push(s.len() as u8);
                k.extend_from_slice(s);
            }
        }
    }
    for v in [3u16, 6, 9] {
        let s = load(&old_file(v, &k), &LoadLimits::default());
        let db = &s.dbs[0];
        let c = |key: &str| canon(&db.peek(key.as_bytes()).unwrap().value);
        assert_eq!(c("zl").1, vec![b"x".to_vec(), b"7".to_vec(), b"-300".to_vec()]);
        assert_eq!(c("zh"), ("hash/listpack".into(), vec![b"fv".to_vec(), b"n12".to_vec()]));
        assert_eq!(db.peek(b"zz").unwrap().value_zscore(b"b"), Some(2.5));
        assert_eq!(c("ql").1, vec![b"1".to_vec(), b"2".to_vec(), b"3".to_vec()]);
        assert_eq!(db.peek(b"pl").unwrap().expire_at_ms, 2_000_000_000_000);
        assert_eq!(db.peek(b"tz").unwrap().value_zscore(b"c"), Some(f64::NEG_INFINITY));
    }
}

#[test]
fn old_stream_type_loads() {
    // Type 15 (Redis 5 and 6): no first ID, deleted-ID, entries-added or group read counter.
    let x = sample_stream();
    let mut k = vec![kind::STREAM_LISTPACKS];
    put_string(&mut k, b"old-stream", false);
    put_len(&mut k, x.node_count() as u64);
    for (master, lp) in x.nodes() {
        put_string(&mut k, &master.to_be_bytes(), false);
        put_string(&mut k, lp, false);
    }
    put_len(&mut k, x.len() as u64);
    put_len(&mut k, x.last_id().ms);
    put_len(&mut k, x.last_id().seq);
    put_len(&mut k, x.groups().len() as u64);
    for (name, g) in x.groups() {
        put_string(&mut k, name, false);
        put_len(&mut k, g.last_id.ms);
        put_len(&mut k, g.last_id.seq);
        put_len(&mut k, g.pel().len() as u64);
        for (id, p) in g.pel() {
            k.extend_from_slice(&id.to_be_bytes());
            k.extend_from_slice(&p.delivery_time_ms.to_le_bytes());
            put_len(&mut k, p.delivery_count);
        }
        put_len(&mut k, g.consumers().len() as u64);
        for (c, cons) in g.consumers() {
            put_string(&mut k, c, false);
            k.extend_from_slice(&cons.seen_time_ms.to_le_bytes());
            put_len(&mut k, cons.pending().len() as u64);
            for id in cons.pending() {
                k.extend_from_slice(&id.to_be_bytes());
            }
        }
    }
    let s = load(&old_file(9, &k), &LoadLimits::default());
    let Value::Stream(y) = &s.dbs[0].peek(b"old-stream").unwrap().value else { panic!("not a stream") };
    assert_eq!(y.first_id(), x.first_id());
    assert_eq!(y.len(), x.len());
    assert_eq!(y.entries().count(), x.entries().count());
    assert_eq!(y.group(b"grp").unwrap().pel(), x.group(b"grp").unwrap().pel());
}

fn err_of(buf: &[u8]) -> super::RdbError {
    let mut store = Store::new(16);
    check(buf, 16).and_then(|_| load_shard(buf, 0, 1, &LoadLimits::default(), 1_000, &mut store)).unwrap_err()
}

#[test]
fn refusals_name_what_and_where() {
    let good = unhex(REDIS_FILE);
    let mut bad_crc = good.clone();
    let n = bad_crc.len();
    bad_crc[n - 1] ^= 0xff;
    assert!(err_of(&bad_crc).message.starts_with("Wrong RDB checksum"));
    let mut v11 = good.clone();
    v11[5..9].copy_from_slice(b"0011");
    assert_eq!(err_of(&v11).message, "Can't handle RDB format version 11");
    assert!(err_of(b"REDIX0010").message.contains("signature"));
    let module = old_file(10, &[kind::MODULE_2, 1, b'k']);
    let e = err_of(&module);
    assert!(e.message.contains("modules are not supported") && e.offset == 11, "{e}");
    let zipmap = old_file(10, &[kind::HASH_ZIPMAP, 1, b'k', 0]);
    assert!(err_of(&zipmap).message.contains("Zipmap"));
    let mut dup = Vec::new();
    for _ in 0..2 {
        dup.push(kind::STRING);
        put_string(&mut dup, b"k", false);
        put_string(&mut dup, b"v", false);
    }
    let e = err_of(&old_file(10, &dup));
    assert_eq!((e.message.as_str(), e.offset), ("Duplicated key 'k' found in DB 0", 16));
    let mut far_db = b"REDIS0010".to_vec();
    far_db.extend_from_slice(&[opcode::SELECTDB, 20, opcode::EOF, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert!(err_of(&far_db).message.contains("more than 16 databases"));
    // Truncated anywhere: an error, never a panic.
    for cut in 0..good.len() {
        let e = err_of(&good[..cut]);
        assert!(e.offset <= cut, "cut {cut}: {e}");
    }
}

#[test]
fn expired_and_empty_keys_are_skipped() {
    let mut k = Vec::new();
    k.push(opcode::EXPIRETIME_MS);
    k.extend_from_slice(&500u64.to_le_bytes());
    k.push(kind::STRING);
    put_string(&mut k, b"old", false);
    put_string(&mut k, b"v", false);
    k.push(kind::SET);
    put_string(&mut k, b"empty", false);
    put_len(&mut k, 0);
    let buf = old_file(10, &k);
    let mut store = Store::new(16);
    let st = load_shard(&buf, 0, 1, &LoadLimits::default(), 1_000, &mut store).unwrap();
    assert_eq!((st.keys_loaded, st.keys_expired, st.empty_keys_skipped), (0, 1, 1));
}

#[test]
fn functions_are_skipped_and_aux_kept() {
    let mut body = b"REDIS0010".to_vec();
    body.push(opcode::AUX);
    put_string(&mut body, b"lua", false);
    put_string(&mut body, b"whatever", false);
    body.push(opcode::FUNCTION2);
    put_string(&mut body, b"#!lua name=lib\nredis.register_function('f', function() return 1 end)", false);
    body.push(opcode::EOF);
    let crc = crc64(0, &body);
    body.extend_from_slice(&crc.to_le_bytes());
    let sum = check(&body, 16).unwrap();
    assert_eq!(sum.function_libraries_skipped, 1);
    assert_eq!(sum.aux_str("lua").as_deref(), Some("whatever"));
}

#[test]
fn idle_opcode_sets_the_access_clock() {
    let store = sample_store();
    let opts =
        WriteOpts { idle_from_s: Some(crate::store::keyspace::access_clock_now_s() + 100), ..Default::default() };
    let buf = write_file(&store, &opts);
    let back = load(&buf, &LoadLimits::default());
    let e = back.dbs[0].peek(b"str").unwrap();
    assert!(crate::store::keyspace::access_clock_now_s() - e.access_s >= 99);
}

#[test]
fn idle_opcode_is_ignored_under_an_lfu_policy() {
    let opts =
        WriteOpts { idle_from_s: Some(crate::store::keyspace::access_clock_now_s() + 1000), ..Default::default() };
    let buf = write_file(&sample_store(), &opts);
    let back = load(&buf, &LoadLimits { lfu_policy: true, ..LoadLimits::default() });
    let e = back.dbs[0].peek(b"str").unwrap();
    assert!(crate::store::keyspace::access_clock_now_s() - e.access_s < 5);
    assert_eq!(e.lfu, crate::store::keyspace::LFU_INIT_VAL);
}

/// A store whose keys have the LFU counters 0, 5 and 200, last decremented `idle_s` ago.
fn store_with_counters(idle_s: u32) -> Store {
    let mut store = Store::new(16);
    let then_s = crate::store::keyspace::access_clock_now_s() - idle_s;
    for (k, n) in [("cold", 0u8), ("new", 5), ("hot", 200)] {
        let value = Value::Str(StrValue::from_bytes(k.as_bytes()));
        let mut e = Entry::with(value, crate::store::keyspace::NO_EXPIRE, then_s);
        e.lfu = n;
        store.dbs[0].insert(k.as_bytes(), e);
    }
    store
}

fn counters(s: &Store) -> Vec<u8> {
    ["cold", "new", "hot"].iter().map(|k| s.dbs[0].peek(k.as_bytes()).unwrap().lfu).collect()
}

#[test]
fn freq_opcode_carries_the_decayed_lfu_counter() {
    use crate::store::keyspace::Lfu;
    let now_ms = crate::shard::unix_ms();
    let lfu = Lfu { log_factor: 10, decay_time_min: 1 };
    let opts = WriteOpts { freq_at: Some((lfu, now_ms)), ..Default::default() };
    // Three minutes since the last decrement: three periods of one minute are taken off.
    let buf = write_file(&store_with_counters(180), &opts);
    let lfu_limits = LoadLimits { lfu_policy: true, ..LoadLimits::default() };
    let back = load(&buf, &lfu_limits);
    assert_eq!(counters(&back), [0, 2, 197]);
    // The loaded counter decays from the load, not from the saved key's last access.
    let e = back.dbs[0].peek(b"hot").unwrap();
    assert_eq!(e.lfu_freq(now_ms, lfu), 197);
    // Under another policy the hint is read and dropped.
    let other = load(&buf, &LoadLimits::default());
    assert_eq!(counters(&other), [5, 5, 5]);
    // Without an LFU policy nothing is written.
    let plain = write_file(&store_with_counters(180), &WriteOpts::default());
    assert_eq!(counters(&load(&plain, &lfu_limits)), [5, 5, 5]);
    assert_eq!(plain.len() + 6, buf.len(), "two bytes per key");
}

/// Walks `buf` skipping every value (no checksum check), as the startup check does.
fn walk_only(buf: &[u8]) {
    let _ = walk(buf, 16, |h, r| skip_value(r, h.kind));
    let mut store = Store::new(16);
    let _ = load_shard(buf, 0, 1, &LoadLimits::default(), 1_000, &mut store);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut buf = b"REDIS0010".to_vec();
        buf.extend_from_slice(&tail);
        walk_only(&buf);
    }

    #[test]
    fn bit_flips_never_panic(flips in proptest::collection::vec((any::<usize>(), 0u8..8), 1..6)) {
        let mut buf = small_file().clone();
        let n = buf.len();
        for (pos, bit) in flips {
            buf[pos % n] ^= 1 << bit;
        }
        walk_only(&buf);
    }

    #[test]
    fn dump_payload_bit_flips_never_panic(flips in proptest::collection::vec((any::<usize>(), 0u8..8), 1..4)) {
        for p in small_payloads() {
            let mut p = p.clone();
            let n = p.len();
            for (pos, bit) in &flips {
                p[pos % n] ^= 1 << bit;
            }
            let _ = super::dump::decode_dump_payload(&p, &LoadLimits::default());
        }
    }
}

/// The file of `sample_store_small`, built once for all fuzz cases.
fn small_file() -> &'static Vec<u8> {
    static FILE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    FILE.get_or_init(|| write_file(&sample_store_small(), &WriteOpts::default()))
}

/// DUMP payloads of the values of `sample_store_small`, built once.
fn small_payloads() -> &'static Vec<Vec<u8>> {
    static PAYLOADS: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    PAYLOADS.get_or_init(|| {
        let s = sample_store_small();
        let mut out = Vec::new();
        for db in &s.dbs {
            for slot in db.nonempty_slots() {
                for (_, e) in db.slot_table(slot).unwrap().iter() {
                    out.push(super::dump::encode_dump_payload(&e.value, &WriteOpts::default()));
                }
            }
        }
        out
    })
}

/// A few keys of every encoding, small enough to fuzz quickly.
fn sample_store_small() -> Store {
    let mut s = Store::new(16);
    let big = sample_store();
    for k in ["str", "int", "long", "list-small", "zset-small"] {
        if let Some(e) = big.dbs[0].peek(k.as_bytes()) {
            s.dbs[0].insert(k.as_bytes(), e.clone());
        }
    }
    for k in ["hash-small", "set-int"] {
        if let Some(e) = big.dbs[1].peek(k.as_bytes()) {
            s.dbs[1].insert(k.as_bytes(), e.clone());
        }
    }
    let mut e = Entry::new(Value::Str(StrValue::from_bytes(b"x")));
    e.expire_at_ms = FAR_MS;
    s.dbs[3].insert(b"ttl", e);
    s
}
