//! Blocking commands against the real binary with two shards: clients connected to either
//! shard waiting on keys of either shard, served once each in the order they blocked;
//! timeouts; CLIENT UNBLOCK; waits spanning shards (standalone mode); MULTI never blocks; a
//! client that leaves loses nothing. Error replies and the non-blocking shapes are compared
//! with redis-server.

mod common;

use std::time::{Duration, Instant};

use common::resp::{RawConn, Reply};
use common::{keys_on_shard, Server};

fn connect(s: &Server) -> RawConn {
    s.raw()
}

/// `n` connections; SO_REUSEPORT spreads them over both shards, so waiters and the key's
/// owner are on different shards for some of them.
fn conns(s: &Server, n: usize) -> Vec<RawConn> {
    (0..n).map(|_| connect(s)).collect()
}

fn send(c: &mut RawConn, args: &[&str]) {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    c.send(&a).expect("send");
}

fn bulk_items(r: &Reply) -> Vec<String> {
    r.items()
        .unwrap_or_else(|| panic!("array expected, got {r:?}"))
        .iter()
        .map(|x| String::from_utf8_lossy(x.bytes().expect("bulk")).into_owned())
        .collect()
}

fn blocked_clients(c: &mut RawConn) -> i64 {
    let Reply::Bulk(info) = c.cmd(&["INFO", "clients"]) else { panic!("INFO reply") };
    let text = String::from_utf8_lossy(&info).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("blocked_clients field")
}

fn wait_blocked(c: &mut RawConn, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while blocked_clients(c) != n {
        assert!(Instant::now() < deadline, "expected {n} blocked clients, have {}", blocked_clients(c));
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Clients on both shards block on one key (on each shard in turn); elements pushed one at a
/// time reach them once each, in the order they blocked.
#[test]
fn waiters_are_served_once_in_blocking_order() {
    let s = Server::tessera(2);
    let mut ctl = connect(&s);
    for shard in 0..2 {
        let key = keys_on_shard("q", shard, 2, 1).remove(0);
        let mut waiters = conns(&s, 8);
        for (i, w) in waiters.iter_mut().enumerate() {
            send(w, &["BLPOP", &key, "5"]);
            wait_blocked(&mut ctl, i as i64 + 1);
        }
        for i in 0..8 {
            assert_eq!(ctl.cmd(&["RPUSH", &key, &format!("e{i}")]).int(), Some(1));
        }
        for (i, w) in waiters.iter_mut().enumerate() {
            let (_, r) = w.read_reply().expect("served");
            assert_eq!(bulk_items(&r), vec![key.clone(), format!("e{i}")], "waiter {i} on shard {shard}");
        }
        assert_eq!(ctl.cmd(&["LLEN", &key]).int(), Some(0));
        wait_blocked(&mut ctl, 0);
    }
}

/// One push of several elements serves several waiters; waiters on a zset and a list.
#[test]
fn one_push_serves_many_and_types_are_respected() {
    let s = Server::tessera(2);
    let mut ctl = connect(&s);
    let mut ws = conns(&s, 3);
    for (i, w) in ws.iter_mut().enumerate() {
        send(w, &["BRPOP", "l", "5"]);
        wait_blocked(&mut ctl, i as i64 + 1);
    }
    assert_eq!(ctl.cmd(&["RPUSH", "l", "a", "b", "c"]).int(), Some(3));
    let got: Vec<Vec<String>> = ws.iter_mut().map(|w| bulk_items(&w.read_reply().expect("served").1)).collect();
    assert_eq!(got, vec![vec!["l", "c"], vec!["l", "b"], vec!["l", "a"]]);
    // A zset waiter is not woken by a list under its key, nor a list waiter by a zset.
    let mut z = connect(&s);
    send(&mut z, &["BZPOPMIN", "z", "5"]);
    wait_blocked(&mut ctl, 1);
    ctl.cmd(&["RPUSH", "z2", "x"]);
    ctl.cmd(&["ZADD", "z", "2", "m"]);
    assert_eq!(bulk_items(&z.read_reply().expect("served").1), vec!["z", "m", "2"]);
}

#[test]
fn timeouts_fire_on_time() {
    let s = Server::tessera(2);
    let mut c = connect(&s);
    for (args, nil) in [
        (vec!["BLPOP", "none", "0.2"], &b"*-1\r\n"[..]),
        // A timed-out BLMOVE answers a null array, as Redis's timeout path does for every
        // blocking command (inside MULTI it answers a null bulk instead).
        (vec!["BLMOVE", "none", "x", "LEFT", "RIGHT", "0.2"], b"*-1\r\n"),
        (vec!["BZMPOP", "0.2", "1", "none", "MIN"], b"*-1\r\n"),
    ] {
        let start = Instant::now();
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        let (raw, _) = c.call(&a).expect("reply");
        let took = start.elapsed();
        assert_eq!(raw, nil, "{args:?}");
        assert!(took >= Duration::from_millis(195) && took < Duration::from_millis(600), "{args:?} took {took:?}");
    }
    let mut c3 = connect(&s);
    c3.cmd(&["HELLO", "3"]);
    let (raw, _) = c3.call(&[b"BLPOP", b"none", b"0.05"]).expect("reply");
    assert_eq!(raw, b"_\r\n");
    let mut ctl = connect(&s);
    wait_blocked(&mut ctl, 0);
}

#[test]
fn client_unblock_timeout_and_error() {
    let s = Server::tessera(2);
    let mut ctl = connect(&s);
    for (reason, want) in
        [("TIMEOUT", &b"*-1\r\n"[..]), ("ERROR", b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n")]
    {
        let mut w = connect(&s);
        let id = w.cmd(&["CLIENT", "ID"]).int().expect("id");
        send(&mut w, &["BLPOP", "k1", "k2", "0"]);
        wait_blocked(&mut ctl, 1);
        assert_eq!(ctl.cmd(&["CLIENT", "UNBLOCK", &id.to_string(), reason]).int(), Some(1));
        assert_eq!(w.read_reply().expect("unblocked").0, want);
        assert_eq!(ctl.cmd(&["CLIENT", "UNBLOCK", &id.to_string()]).int(), Some(0));
    }
}

/// Standalone mode: a wait over keys of both shards, and a move between shards.
#[test]
fn waits_spanning_shards() {
    let s = Server::tessera(2);
    let a = keys_on_shard("span:a", 0, 2, 1).remove(0);
    let b = keys_on_shard("span:b", 1, 2, 1).remove(0);
    let mut ctl = connect(&s);
    let mut w = connect(&s);
    send(&mut w, &["BLPOP", &a, &b, "5"]);
    wait_blocked(&mut ctl, 1);
    ctl.cmd(&["RPUSH", &b, "vb"]);
    assert_eq!(bulk_items(&w.read_reply().expect("served").1), vec![b.clone(), "vb".into()]);
    send(&mut w, &["BLMOVE", &a, &b, "LEFT", "RIGHT", "5"]);
    wait_blocked(&mut ctl, 1);
    ctl.cmd(&["RPUSH", &a, "moved"]);
    assert_eq!(w.read_reply().expect("moved").1.bytes(), Some(&b"moved"[..]));
    assert_eq!(bulk_items(&ctl.cmd(&["LRANGE", &b, "0", "-1"])), vec!["moved"]);
    assert_eq!(ctl.cmd(&["EXISTS", &a]).int(), Some(0));
    // Two spanning waiters and two elements: each gets one.
    let mut w2 = connect(&s);
    send(&mut w, &["BRPOPLPUSH", &a, &b, "5"]);
    wait_blocked(&mut ctl, 1);
    send(&mut w2, &["BRPOPLPUSH", &a, &b, "5"]);
    wait_blocked(&mut ctl, 2);
    ctl.cmd(&["RPUSH", &a, "x", "y"]);
    let mut got = vec![
        String::from_utf8_lossy(w.read_reply().expect("w").1.bytes().expect("bulk")).into_owned(),
        String::from_utf8_lossy(w2.read_reply().expect("w2").1.bytes().expect("bulk")).into_owned(),
    ];
    got.sort();
    assert_eq!(got, vec!["x", "y"]);
    // A spanning wait times out too.
    ctl.cmd(&["DEL", &a, &b]);
    let start = Instant::now();
    assert_eq!(w.call(&[b"BLPOP", a.as_bytes(), b.as_bytes(), b"0.2"]).expect("t").0, b"*-1\r\n");
    assert!(start.elapsed() >= Duration::from_millis(195));
}

/// A client that disconnects while blocked takes nothing with it.
#[test]
fn leaving_client_loses_nothing() {
    let s = Server::tessera(2);
    let mut ctl = connect(&s);
    {
        let mut w = connect(&s);
        send(&mut w, &["BLPOP", "gone", "0"]);
        wait_blocked(&mut ctl, 1);
    }
    wait_blocked(&mut ctl, 0);
    ctl.cmd(&["RPUSH", "gone", "kept"]);
    assert_eq!(bulk_items(&ctl.cmd(&["LRANGE", "gone", "0", "-1"])), vec!["kept"]);
}

/// MULTI/EXEC never blocks, and errors and immediate replies match redis-server.
#[test]
fn immediate_replies_match_redis() {
    let redis = Server::redis();
    let tess = Server::tessera(2);
    let script: &[&[&str]] = &[
        &["RPUSH", "l", "a", "b", "c"],
        &["ZADD", "z", "1", "x", "2", "y"],
        &["SET", "s", "v"],
        &["BLPOP", "l", "0"],
        &["BRPOP", "missing", "l", "0"],
        &["BLPOP", "s", "0"],
        &["BLPOP", "l", "abc"],
        &["BLPOP", "l", "-1"],
        &["BLMOVE", "l", "l2", "LEFT", "UP", "0"],
        &["BLMOVE", "l", "s", "LEFT", "LEFT", "0"],
        &["BLMOVE", "l", "l2", "LEFT", "LEFT", "0"],
        &["BLMPOP", "0", "0", "l", "LEFT"],
        &["BLMPOP", "x", "1", "l", "LEFT"],
        &["BLMPOP", "0", "2", "missing", "l2", "RIGHT", "COUNT", "9"],
        &["BZPOPMIN", "z", "0"],
        &["BZPOPMAX", "s", "0"],
        &["BZMPOP", "0", "1", "z", "MAX", "COUNT", "3"],
        &["BRPOPLPUSH", "nothing", "x", "-2"],
        &["MULTI"],
        &["BLPOP", "nothing", "0"],
        &["BLMOVE", "nothing", "x", "LEFT", "LEFT", "0"],
        &["BZPOPMIN", "nothing", "0"],
        &["EXEC"],
        &["CLIENT", "UNBLOCK", "99999"],
        &["CLIENT", "UNBLOCK", "99999", "foo"],
        &["CLIENT", "UNBLOCK", "x"],
    ];
    for resp3 in [false, true] {
        let mut r = connect(&redis);
        let mut t = connect(&tess);
        r.cmd(&["FLUSHALL"]);
        t.cmd(&["FLUSHALL"]);
        if resp3 {
            r.cmd(&["HELLO", "3"]);
            t.cmd(&["HELLO", "3"]);
        }
        for cmd in script {
            let a: Vec<&[u8]> = cmd.iter().map(|s| s.as_bytes()).collect();
            let want = r.call(&a).expect("redis").0;
            let got = t.call(&a).expect("tessera").0;
            assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&want), "{cmd:?} resp3={resp3}");
        }
    }
}

/// XREAD/XREADGROUP BLOCK: `$` means entries added after blocking, on either shard; a
/// consumer group reader gets each new entry once; the timeout is in milliseconds.
#[test]
fn stream_reads_block_until_entries_arrive() {
    let s = Server::tessera(2);
    let a = keys_on_shard("st:a", 0, 2, 1).remove(0);
    let b = keys_on_shard("st:b", 1, 2, 1).remove(0);
    let mut ctl = connect(&s);
    ctl.cmd(&["XADD", &a, "1-1", "f", "old"]);
    let mut w = connect(&s);
    send(&mut w, &["XREAD", "BLOCK", "5000", "STREAMS", &a, "$"]);
    wait_blocked(&mut ctl, 1);
    ctl.cmd(&["XADD", &a, "2-1", "f", "new"]);
    let (raw, _) = w.read_reply().expect("served");
    let text = String::from_utf8_lossy(&raw).into_owned();
    assert!(text.contains("2-1") && text.contains("new") && !text.contains("old"), "{text}");
    // Spanning both shards: a write to the second stream serves it.
    send(&mut w, &["XREAD", "BLOCK", "5000", "STREAMS", &a, &b, "$", "$"]);
    wait_blocked(&mut ctl, 1);
    ctl.cmd(&["XADD", &b, "7-1", "g", "hello"]);
    let (raw, _) = w.read_reply().expect("served");
    let text = String::from_utf8_lossy(&raw).into_owned();
    assert!(text.contains(&b) && text.contains("7-1") && !text.contains("2-1"), "{text}");
    // Consumer group: two readers, two entries, one each.
    ctl.cmd(&["XGROUP", "CREATE", &a, "g", "$"]);
    let mut w2 = connect(&s);
    send(&mut w, &["XREADGROUP", "GROUP", "g", "c1", "BLOCK", "5000", "STREAMS", &a, ">"]);
    wait_blocked(&mut ctl, 1);
    send(&mut w2, &["XREADGROUP", "GROUP", "g", "c2", "BLOCK", "5000", "STREAMS", &a, ">"]);
    wait_blocked(&mut ctl, 2);
    ctl.cmd(&["XADD", &a, "3-1", "f", "x"]);
    ctl.cmd(&["XADD", &a, "4-1", "f", "y"]);
    let r1 = String::from_utf8_lossy(&w.read_reply().expect("c1").0).into_owned();
    let r2 = String::from_utf8_lossy(&w2.read_reply().expect("c2").0).into_owned();
    assert!(r1.contains("3-1") && !r1.contains("4-1"), "{r1}");
    assert!(r2.contains("4-1") && !r2.contains("3-1"), "{r2}");
    // Timeout in milliseconds, and never blocking without BLOCK or inside MULTI.
    let start = Instant::now();
    assert_eq!(w.call(&[b"XREAD", b"BLOCK", b"150", b"STREAMS", a.as_bytes(), b"$"]).expect("t").0, b"*-1\r\n");
    assert!(start.elapsed() >= Duration::from_millis(145));
    assert_eq!(w.call(&[b"XREAD", b"STREAMS", a.as_bytes(), b"$"]).expect("nb").0, b"*-1\r\n");
    w.cmd(&["MULTI"]);
    w.cmd(&["XREAD", "BLOCK", "0", "STREAMS", &a, "$"]);
    assert_eq!(w.call(&[b"EXEC"]).expect("exec").0, b"*1\r\n*-1\r\n");
}
