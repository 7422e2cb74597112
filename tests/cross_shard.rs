//! Multi-key commands whose keys live on different shards (`--shards 2`): MSET/MGET/DEL/EXISTS/
//! MSETNX/RENAME/RENAMENX/COPY must give standalone Redis semantics, and MSETNX and RENAME must
//! stay atomic while other clients race them.
//!
//! MGET and EXISTS are split per shard (as in Redis Cluster), so a reader may legitimately see
//! one shard before and the other after a write: atomicity is checked through invariants that
//! hold only if no interleaving ever exposed half an operation (exactly one MSETNX winner whose
//! values are in both keys; tokens moved by RENAMENX neither lost nor duplicated).

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Barrier};

use common::{keys_on_shard, RawConn, Reply, Server};

fn bulk(s: &str) -> Reply {
    Reply::Bulk(s.as_bytes().to_vec())
}

fn ok() -> Reply {
    Reply::Simple(b"OK".to_vec())
}

/// One key on shard 0 and one on shard 1.
fn pair(prefix: &str) -> (String, String) {
    let a = keys_on_shard(&format!("{prefix}-a"), 0, 2, 1).remove(0);
    let b = keys_on_shard(&format!("{prefix}-b"), 1, 2, 1).remove(0);
    (a, b)
}

#[test]
fn multi_key_commands_span_shards() {
    let server = Server::tessera(2);
    let mut c = server.raw();
    let k0 = keys_on_shard("x", 0, 2, 5);
    let k1 = keys_on_shard("y", 1, 2, 5);
    let mut mset = vec!["MSET"];
    for (a, b) in k0.iter().zip(k1.iter()) {
        mset.extend([a.as_str(), "zero", b.as_str(), "one"]);
    }
    assert_eq!(c.cmd(&mset), ok());
    let all: Vec<&str> = k0.iter().chain(k1.iter()).map(|s| s.as_str()).collect();
    let mut mget = vec!["MGET"];
    mget.extend(all.iter().copied());
    mget.insert(3, "missing");
    let mut want: Vec<Reply> = k0.iter().map(|_| bulk("zero")).chain(k1.iter().map(|_| bulk("one"))).collect();
    want.insert(2, Reply::NilBulk);
    assert_eq!(c.cmd(&mget), Reply::Array(want));
    let mut exists = vec!["EXISTS"];
    exists.extend(all.iter().copied());
    exists.push(all[0]);
    exists.push("missing");
    assert_eq!(c.cmd(&exists), Reply::Int(11));
    let mut touch = vec!["TOUCH"];
    touch.extend(all.iter().copied());
    assert_eq!(c.cmd(&touch), Reply::Int(10));
    assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(10));
    let mut del = vec!["DEL", "missing"];
    del.extend(all[..3].iter().copied());
    del.extend(all[5..7].iter().copied());
    assert_eq!(c.cmd(&del), Reply::Int(5));
    let mut unlink = vec!["UNLINK"];
    unlink.extend(all.iter().copied());
    assert_eq!(c.cmd(&unlink), Reply::Int(5));
    assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(0));
}

#[test]
fn msetnx_rename_copy_across_shards() {
    let server = Server::tessera(2);
    let mut c = server.raw();
    let (a, b) = pair("m");
    let (x, y) = pair("n");
    assert_eq!(c.cmd(&["MSETNX", &a, "1", &b, "2"]), Reply::Int(1));
    // One existing key on the other shard blocks the whole MSETNX.
    assert_eq!(c.cmd(&["MSETNX", &x, "new", &b, "clobber"]), Reply::Int(0));
    assert_eq!(c.cmd(&["EXISTS", &x]), Reply::Int(0));
    assert_eq!(c.cmd(&["GET", &b]), bulk("2"));

    // RENAME moves value and TTL to the other shard.
    let far = "4102444800";
    assert_eq!(c.cmd(&["EXPIREAT", &a, far]), Reply::Int(1));
    assert_eq!(c.cmd(&["RENAME", &a, &y]), ok());
    assert_eq!(c.cmd(&["EXISTS", &a]), Reply::Int(0));
    assert_eq!(c.cmd(&["GET", &y]), bulk("1"));
    assert_eq!(c.cmd(&["EXPIRETIME", &y]), Reply::Int(4_102_444_800));
    assert_eq!(c.cmd(&["RENAMENX", &y, &b]), Reply::Int(0));
    assert_eq!(c.cmd(&["RENAMENX", &y, &a]), Reply::Int(1));
    assert_eq!(c.cmd(&["RENAME", "missing", &b]), Reply::Error(b"ERR no such key".to_vec()));

    // COPY across shards, with and without REPLACE, into another db.
    assert_eq!(c.cmd(&["COPY", &a, &x]), Reply::Int(1));
    assert_eq!(c.cmd(&["EXPIRETIME", &x]), Reply::Int(4_102_444_800));
    assert_eq!(c.cmd(&["COPY", &a, &b]), Reply::Int(0));
    assert_eq!(c.cmd(&["COPY", &a, &b, "REPLACE"]), Reply::Int(1));
    assert_eq!(c.cmd(&["GET", &b]), bulk("1"));
    assert_eq!(c.cmd(&["COPY", &a, &y, "DB", "3"]), Reply::Int(1));
    assert_eq!(c.cmd(&["SELECT", "3"]), ok());
    assert_eq!(c.cmd(&["GET", &y]), bulk("1"));
    assert_eq!(c.cmd(&["SELECT", "0"]), ok());
    assert_eq!(c.cmd(&["EXISTS", &y]), Reply::Int(0));
}

#[test]
fn msetnx_has_exactly_one_winner_per_group() {
    const THREADS: usize = 4;
    const GROUPS: usize = 300;
    let server = Server::tessera(2);
    let port = server.port;
    let groups: Arc<Vec<(String, String)>> = Arc::new((0..GROUPS).map(|g| pair(&format!("g{g}"))).collect());
    // The writers, the reader and this thread start together.
    let barrier = Arc::new(Barrier::new(THREADS + 2));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (groups, barrier) = (groups.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut c = RawConn::connect(port).expect("connect");
                let value = format!("writer-{t}-{}", "x".repeat(200));
                barrier.wait();
                let mut won = Vec::new();
                for (g, (a, b)) in groups.iter().enumerate() {
                    match c.cmd(&["MSETNX", a, &value, b, &value]) {
                        Reply::Int(1) => won.push(g),
                        Reply::Int(0) => {}
                        other => panic!("MSETNX replied {other:?}"),
                    }
                }
                (value, won)
            })
        })
        .collect();
    // A reader racing the writers: any value it sees must be some writer's whole value.
    let reader = {
        let (groups, barrier) = (groups.clone(), barrier.clone());
        std::thread::spawn(move || {
            let mut c = RawConn::connect(port).expect("connect");
            barrier.wait();
            for _round in 0..3 {
                for (a, b) in groups.iter() {
                    let r = c.cmd(&["MGET", a, b]);
                    for v in r.items().unwrap_or_else(|| panic!("MGET replied {r:?}")) {
                        match v {
                            Reply::NilBulk => {}
                            Reply::Bulk(v) => assert!(v.starts_with(b"writer-") && v.len() > 200, "torn value {v:?}"),
                            other => panic!("MGET element {other:?}"),
                        }
                    }
                }
            }
        })
    };
    barrier.wait();
    let results: Vec<(String, Vec<usize>)> = workers.into_iter().map(|w| w.join().expect("writer")).collect();
    reader.join().expect("reader");
    let mut winner_of: HashMap<usize, &str> = HashMap::new();
    for (value, won) in &results {
        for g in won {
            assert!(winner_of.insert(*g, value).is_none(), "group {g} has two MSETNX winners");
        }
    }
    let mut c = server.raw();
    for (g, (a, b)) in groups.iter().enumerate() {
        let winner = winner_of.get(&g).unwrap_or_else(|| panic!("group {g} has no MSETNX winner"));
        assert_eq!(
            c.cmd(&["MGET", a, b]),
            Reply::Array(vec![bulk(winner), bulk(winner)]),
            "group {g}: both keys must hold the winner's value"
        );
    }
}

#[test]
fn renamenx_never_loses_or_duplicates_a_token() {
    const THREADS: usize = 3;
    const ROUNDS: usize = 1500;
    let server = Server::tessera(2);
    let port = server.port;
    let keys: Vec<String> = keys_on_shard("slot", 0, 2, 3).into_iter().chain(keys_on_shard("slot", 1, 2, 3)).collect();
    let tokens: Vec<String> = (0..3).map(|i| format!("token-{i}-{}", "t".repeat(1000))).collect();
    let mut c = server.raw();
    for (k, t) in keys.iter().zip(tokens.iter()) {
        assert_eq!(c.cmd(&["SET", k, t]), ok());
    }
    let keys = Arc::new(keys);
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let keys = keys.clone();
            std::thread::spawn(move || {
                use rand::{Rng, SeedableRng};
                let mut rng = rand::rngs::SmallRng::seed_from_u64(t as u64);
                let mut c = RawConn::connect(port).expect("connect");
                for _ in 0..ROUNDS {
                    let (i, j) = (rng.gen_range(0..keys.len()), rng.gen_range(0..keys.len()));
                    match c.cmd(&["RENAMENX", &keys[i], &keys[j]]) {
                        Reply::Int(_) => {}
                        Reply::Error(e) if e == b"ERR no such key" => {}
                        other => panic!("RENAMENX replied {other:?}"),
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker");
    }
    let mut found: Vec<String> = Vec::new();
    for k in keys.iter() {
        match c.cmd(&["GET", k]) {
            Reply::Bulk(v) => found.push(String::from_utf8(v).expect("utf8")),
            Reply::NilBulk => {}
            other => panic!("GET replied {other:?}"),
        }
    }
    found.sort();
    assert_eq!(found, tokens, "RENAMENX across shards must conserve the tokens");
    assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(3));
}

#[test]
fn rename_ping_pong_keeps_exactly_one_copy() {
    const ROUNDS: usize = 2000;
    let server = Server::tessera(2);
    let port = server.port;
    let (a, b) = pair("pp");
    let token = format!("token-{}", "p".repeat(5000));
    let mut c = server.raw();
    assert_eq!(c.cmd(&["SET", &a, &token]), ok());
    let spawn_mover = |from: String, to: String| {
        std::thread::spawn(move || {
            let mut c = RawConn::connect(port).expect("connect");
            let mut moved = 0usize;
            for _ in 0..ROUNDS {
                match c.cmd(&["RENAME", &from, &to]) {
                    Reply::Simple(s) if s == b"OK" => moved += 1,
                    Reply::Error(e) if e == b"ERR no such key" => {}
                    other => panic!("RENAME replied {other:?}"),
                }
            }
            moved
        })
    };
    let there = spawn_mover(a.clone(), b.clone());
    let back = spawn_mover(b.clone(), a.clone());
    let reader = {
        let (a, b, token) = (a.clone(), b.clone(), token.clone());
        std::thread::spawn(move || {
            let mut c = RawConn::connect(port).expect("connect");
            for _ in 0..ROUNDS {
                for k in [&a, &b] {
                    match c.cmd(&["GET", k]) {
                        Reply::NilBulk => {}
                        Reply::Bulk(v) => {
                            assert!(v == token.as_bytes(), "torn value of {} bytes", v.len())
                        }
                        other => panic!("GET replied {other:?}"),
                    }
                }
            }
        })
    };
    let (n1, n2) = (there.join().expect("mover"), back.join().expect("mover"));
    reader.join().expect("reader");
    assert!(n1 == n2 || n1 == n2 + 1, "successful renames must alternate: {n1} there, {n2} back");
    let ga = c.cmd(&["GET", &a]);
    let gb = c.cmd(&["GET", &b]);
    let copies = [&ga, &gb].iter().filter(|r| **r == &Reply::Bulk(token.as_bytes().to_vec())).count();
    assert_eq!(copies, 1, "exactly one of the two keys holds the token: {} / {}", ga.is_nil(), gb.is_nil());
    assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(1));
    let expected_home = if n1 == n2 { &a } else { &b };
    assert_eq!(c.cmd(&["EXISTS", expected_home]), Reply::Int(1));
}

#[test]
fn batched_smoves_agree_with_their_replies() {
    // 16 clients move members between a set on shard 0 and one on shard 1 with SMOVE (an
    // atomic cross-shard command): commands that arrive together run as one batch on a copy
    // of the keys, each after the one before. Every reply must match the state it left: the
    // members moved each way, counted from the replies, give the final sizes exactly.
    let server = Server::tessera(2);
    let (a, b) = pair("smove");
    let mut c = server.raw();
    let members: Vec<String> = (0..64).map(|i| format!("m{i}")).collect();
    let mut sadd = vec!["SADD", a.as_str()];
    sadd.extend(members.iter().map(|m| m.as_str()));
    assert_eq!(c.cmd(&sadd), Reply::Int(64));
    let port = server.port;
    let start = Arc::new(Barrier::new(16));
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let (a, b, start) = (a.clone(), b.clone(), start.clone());
            std::thread::spawn(move || {
                let mut c = RawConn::connect(port).expect("connect");
                start.wait();
                let mut net_to_b = 0i64;
                for i in 0..300usize {
                    let m = format!("m{}", (t * 7 + i * 13) % 64);
                    let to_b = (t + i) % 2 == 0;
                    let (src, dst) = if to_b { (&a, &b) } else { (&b, &a) };
                    match c.cmd(&["SMOVE", src, dst, &m]) {
                        Reply::Int(1) => net_to_b += if to_b { 1 } else { -1 },
                        Reply::Int(0) => {}
                        other => panic!("SMOVE: {other:?}"),
                    }
                }
                net_to_b
            })
        })
        .collect();
    let net: i64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let card_b = match c.cmd(&["SCARD", &b]) {
        Reply::Int(n) => n,
        other => panic!("{other:?}"),
    };
    assert_eq!(card_b, net, "members moved to b by the replies");
    assert_eq!(c.cmd(&["SCARD", &a]), Reply::Int(64 - net));
    assert_eq!(c.cmd(&["SINTERCARD", "2", &a, &b]), Reply::Int(0));
}
