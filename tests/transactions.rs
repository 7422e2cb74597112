//! MULTI/EXEC/WATCH against the real binary: byte-for-byte against redis-server for the
//! deterministic cases, and WATCH/atomicity properties across shards.

mod common;

use common::resp::RawConn;
use common::{keys_on_shard, Server};

fn cmd(c: &mut RawConn, args: &[&str]) -> Vec<u8> {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    c.send(&a).expect("send");
    c.read_reply().expect("reply").0
}

/// The same script against both servers, every reply compared byte for byte.
#[test]
fn transactions_match_redis() {
    let redis = Server::redis();
    let tess = Server::tessera(2);
    let a = keys_on_shard("t:a", 0, 2, 1).remove(0);
    let b = keys_on_shard("t:b", 1, 2, 1).remove(0);
    let script: Vec<Vec<String>> = [
        "MULTI",
        "MULTI",
        "SET A 1",
        "SET B 2",
        "WATCH A",
        "MGET A B",
        "EXEC",
        "EXEC",
        "DISCARD",
        "MULTI",
        "SET A",
        "EXEC",
        "MULTI",
        "INCR A",
        "SET B 2",
        "NOSUCH x",
        "EXEC",
        "SET A x",
        "MULTI",
        "INCR A",
        "SET B 1",
        "EXEC",
        "MULTI",
        "PING",
        "DBSIZE",
        "MSET A 1 B 2",
        "MSETNX A 1 B 2",
        "RENAME A C",
        "EXEC",
        "WATCH B",
        "SET B y",
        "MULTI",
        "GET B",
        "EXEC",
        "WATCH A B",
        "MULTI",
        "GET A",
        "EXEC",
        "MULTI",
        "FLUSHALL",
        "SET A 1",
        "DBSIZE",
        "SELECT 1",
        "SET A 2",
        "SELECT 0",
        "GET A",
        "EXEC",
        // Commands of both shards interleaved, in runs split by SELECT and by a command
        // spanning both shards: each reply in its place, each shard's in order.
        "MULTI",
        "SET A 1",
        "SET B 1",
        "INCR A",
        "INCRBY B 5",
        "APPEND A 0",
        "SELECT 1",
        "SET A x",
        "GET A",
        "SELECT 0",
        "GET A",
        "MGET A B",
        "INCR B",
        "GET B",
        "EXEC",
        // SORT BY reads weights on both shards, inside a transaction spanning them.
        "DEL A B",
        "RPUSH A 1 2 3",
        "MSET w_1 30 w_2 20 w_3 10",
        "MULTI",
        "SORT A BY w_*",
        "SORT A BY w_* GET w_*",
        "SET B 1",
        "EXEC",
        "DEL A B w_1 w_2 w_3",
        "MULTI",
        "INCR A",
        "LPUSH B x",
        "INCR B",
        "GET A",
        "SELECT 1",
        "GET A",
        "EXEC",
        "UNWATCH",
        "MULTI",
        "DISCARD",
        "GET A",
    ]
    .iter()
    // Only the words A and B stand for keys (DISCARD, DBSIZE and BY keep theirs).
    .map(|l| {
        l.split(' ')
            .map(|w| match w {
                "A" => a.clone(),
                "B" => b.clone(),
                _ => w.to_owned(),
            })
            .collect()
    })
    .collect();
    for resp3 in [false, true] {
        let mut r = redis.raw();
        let mut t = tess.raw();
        if resp3 {
            cmd(&mut r, &["HELLO", "3"]);
            cmd(&mut t, &["HELLO", "3"]);
        }
        cmd(&mut r, &["FLUSHALL"]);
        cmd(&mut t, &["FLUSHALL"]);
        for (i, line) in script.iter().enumerate() {
            let args: Vec<&str> = line.iter().map(|s| s.as_str()).collect();
            let want = cmd(&mut r, &args);
            let got = cmd(&mut t, &args);
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&want),
                "step {i} {line:?} (resp3={resp3})"
            );
        }
    }
}

/// A write from another connection between WATCH and EXEC aborts the EXEC; a write to an
/// unwatched key does not; a watched key that expires aborts it too.
#[test]
fn watch_sees_writes_from_other_shards_and_expiry() {
    let tess = Server::tessera(2);
    let k0 = keys_on_shard("w", 0, 2, 2);
    let k1 = keys_on_shard("w", 1, 2, 2);
    let mut c = tess.raw();
    let mut other = tess.raw();
    // Watch keys on both shards; write one of them from another connection.
    cmd(&mut c, &["SET", &k0[0], "1"]);
    cmd(&mut c, &["WATCH", &k0[0], &k1[0]]);
    cmd(&mut other, &["SET", &k1[0], "changed"]);
    cmd(&mut c, &["MULTI"]);
    cmd(&mut c, &["SET", &k0[0], "2"]);
    assert_eq!(cmd(&mut c, &["EXEC"]), b"*-1\r\n");
    assert_eq!(cmd(&mut c, &["GET", &k0[0]]), b"$1\r\n1\r\n");
    // Unwatched writes do not abort.
    cmd(&mut c, &["WATCH", &k0[0], &k1[0]]);
    cmd(&mut other, &["SET", &k0[1], "x"]);
    cmd(&mut other, &["SET", &k1[1], "x"]);
    cmd(&mut c, &["MULTI"]);
    cmd(&mut c, &["INCR", &k0[0]]);
    cmd(&mut c, &["GET", &k1[0]]);
    assert_eq!(cmd(&mut c, &["EXEC"]), b"*2\r\n:2\r\n$7\r\nchanged\r\n");
    // A write that changes nothing (SET NX on an existing key) does not abort, as in Redis.
    cmd(&mut c, &["WATCH", &k1[0]]);
    cmd(&mut other, &["SET", &k1[0], "y", "NX"]);
    cmd(&mut c, &["MULTI"]);
    cmd(&mut c, &["GET", &k1[0]]);
    assert_eq!(cmd(&mut c, &["EXEC"]), b"*1\r\n$7\r\nchanged\r\n");
    // Expiry of a watched key aborts.
    cmd(&mut c, &["SET", &k1[0], "v", "PX", "50"]);
    cmd(&mut c, &["WATCH", &k1[0]]);
    std::thread::sleep(std::time::Duration::from_millis(120));
    cmd(&mut c, &["MULTI"]);
    cmd(&mut c, &["SET", &k0[0], "z"]);
    assert_eq!(cmd(&mut c, &["EXEC"]), b"*-1\r\n");
}

/// Transfers between keys on two shards inside MULTI/EXEC from several connections at once
/// never lose or create units: the sum stays constant when read atomically.
#[test]
fn cross_shard_exec_is_atomic() {
    let tess = Server::tessera(2);
    let a = keys_on_shard("acct", 0, 2, 1).remove(0);
    let b = keys_on_shard("acct", 1, 2, 1).remove(0);
    let mut c = tess.raw();
    cmd(&mut c, &["MSET", &a, "1000", &b, "1000"]);
    let port = tess.port;
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let (a, b) = (a.clone(), b.clone());
            std::thread::spawn(move || {
                let mut c = RawConn::connect(port).expect("connect");
                for i in 0..300 {
                    let (from, to) = if (i + w) % 2 == 0 { (&a, &b) } else { (&b, &a) };
                    cmd(&mut c, &["MULTI"]);
                    cmd(&mut c, &["DECRBY", from, "7"]);
                    cmd(&mut c, &["INCRBY", to, "7"]);
                    let r = cmd(&mut c, &["EXEC"]);
                    assert!(r.starts_with(b"*2\r\n"), "{}", String::from_utf8_lossy(&r));
                }
            })
        })
        .collect();
    let mut reader = tess.raw();
    for _ in 0..300 {
        cmd(&mut reader, &["MULTI"]);
        cmd(&mut reader, &["GET", &a]);
        cmd(&mut reader, &["GET", &b]);
        let r = cmd(&mut reader, &["EXEC"]);
        let text = String::from_utf8_lossy(&r);
        let nums: Vec<i64> = text.split("\r\n").filter_map(|l| l.parse().ok()).filter(|n: &i64| n.abs() > 9).collect();
        assert_eq!(nums.iter().sum::<i64>(), 2000, "torn read: {text}");
    }
    for w in writers {
        w.join().expect("writer");
    }
}

/// Optimistic increments (WATCH, GET, MULTI, SET, SET, EXEC, retried when EXEC answers
/// nil) of a pair of keys on two shards from several connections at once: EXECs that run
/// in one batch still see each other's writes through WATCH, so no increment is lost and
/// none is applied twice.
#[test]
fn concurrent_watch_increments_across_shards_lose_nothing() {
    let tess = Server::tessera(2);
    let a = keys_on_shard("cas", 0, 2, 1).remove(0);
    let b = keys_on_shard("cas", 1, 2, 1).remove(0);
    let port = tess.port;
    let per_client = 150;
    let clients: Vec<_> = (0..6)
        .map(|_| {
            let (a, b) = (a.clone(), b.clone());
            std::thread::spawn(move || {
                let mut c = RawConn::connect(port).expect("connect");
                let mut retries = 0u32;
                for _ in 0..per_client {
                    loop {
                        cmd(&mut c, &["WATCH", &a, &b]);
                        let got = cmd(&mut c, &["GET", &a]);
                        let v: i64 =
                            String::from_utf8_lossy(&got).lines().nth(1).and_then(|l| l.parse().ok()).unwrap_or(0);
                        let next = (v + 1).to_string();
                        cmd(&mut c, &["MULTI"]);
                        cmd(&mut c, &["SET", &a, &next]);
                        cmd(&mut c, &["SET", &b, &next]);
                        let r = cmd(&mut c, &["EXEC"]);
                        if r.starts_with(b"*2\r\n") {
                            break;
                        }
                        assert!(r == b"*-1\r\n", "EXEC: {}", String::from_utf8_lossy(&r));
                        retries += 1;
                    }
                }
                retries
            })
        })
        .collect();
    let retries: u32 = clients.into_iter().map(|c| c.join().expect("client")).sum();
    let mut c = tess.raw();
    let want = format!("${}\r\n{}\r\n", (6 * per_client).to_string().len(), 6 * per_client);
    assert_eq!(String::from_utf8_lossy(&cmd(&mut c, &["GET", &a])), want);
    assert_eq!(String::from_utf8_lossy(&cmd(&mut c, &["GET", &b])), want);
    eprintln!("{} increments, {retries} EXECs aborted by WATCH and retried", 6 * per_client);
}
