//! Micro-benchmarks of the request hot path, one shard, no sockets: RESP parse and reply
//! encode, the CRC16 slot of a key, and keyspace get/set/expire. Run with `cargo bench`.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use tessera::cluster::slot::key_slot;
use tessera::resp::{parse_command, Out, ParseLimits, Parsed};
use tessera::store::keyspace::{Db, Entry};
use tessera::store::{StrValue, Value};

fn resp(c: &mut Criterion) {
    let mut pipeline = Vec::new();
    for i in 0..16 {
        let k = format!("key:{i:012}");
        pipeline.extend_from_slice(
            format!("*3\r\n$3\r\nSET\r\n${}\r\n{}\r\n$16\r\nvvvvvvvvvvvvvvvv\r\n", k.len(), k).as_bytes(),
        );
    }
    let limits = ParseLimits::default();
    let mut g = c.benchmark_group("resp");
    g.throughput(Throughput::Elements(16));
    g.bench_function("parse 16 SET commands", |b| {
        b.iter(|| {
            let mut pos = 0;
            while pos < pipeline.len() {
                match parse_command(black_box(&pipeline[pos..]), &limits) {
                    Parsed::Multibulk { consumed, args } => {
                        black_box(args);
                        pos += consumed
                    }
                    _ => unreachable!("well-formed input"),
                }
            }
        })
    });
    let mut buf = Vec::with_capacity(4096);
    g.bench_function("encode 16 bulk replies", |b| {
        b.iter(|| {
            buf.clear();
            let mut out = Out::new(&mut buf, false);
            for _ in 0..16 {
                out.bulk(black_box(b"vvvvvvvvvvvvvvvv"));
            }
        })
    });
    g.finish();
}

fn slots(c: &mut Criterion) {
    c.bench_function("key_slot of a 16-byte key", |b| b.iter(|| key_slot(black_box(b"key:000000012345"))));
    c.bench_function("key_slot with a hash tag", |b| b.iter(|| key_slot(black_box(b"{user1000}.following"))));
}

fn keyspace(c: &mut Criterion) {
    let keys: Vec<Vec<u8>> = (0..100_000).map(|i| format!("key:{i:012}").into_bytes()).collect();
    let mut db = Db::new();
    for k in &keys {
        db.insert(k, Entry::new(Value::Str(StrValue::from_bytes(b"vvvvvvvvvvvvvvvv"))));
    }
    let mut i = 0usize;
    c.bench_function("keyspace get (100k keys)", |b| {
        b.iter(|| {
            i = (i + 7919) % keys.len();
            black_box(db.get(&keys[i], 1).is_some())
        })
    });
    c.bench_function("keyspace set overwrite (100k keys)", |b| {
        b.iter(|| {
            i = (i + 7919) % keys.len();
            db.insert(&keys[i], Entry::new(Value::Str(StrValue::from_bytes(b"wwwwwwwwwwwwwwww"))));
        })
    });
    c.bench_function("keyspace set_expire + persist (100k keys)", |b| {
        b.iter(|| {
            i = (i + 7919) % keys.len();
            db.set_expire(&keys[i], 4_000_000_000_000);
            db.set_expire(&keys[i], 0);
        })
    });
}

criterion_group!(benches, resp, slots, keyspace);
criterion_main!(benches);
