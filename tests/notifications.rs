//! Keyspace notifications against redis-server 7.0: the same command script runs on a real
//! redis-server and on `tessera-server --shards 2`, both with `notify-keyspace-events` set, while
//! a subscriber on each does `PSUBSCRIBE __key*@*__:*`; the messages received must be the same.
//!
//! Keys sharing one hash tag live on one shard, whose events reach a subscriber in the order
//! the shard raised them, so those scripts are compared message by message. Keys spread over
//! both shards are published by two shards independently, so those are compared as multisets.
//! Nothing here expires a key by time: the order of `expired` events is not what is tested.

mod common;

use common::resp::{RawConn, Reply};
use common::{keys_on_shard, Server, Spec};
use std::time::{Duration, Instant};

/// How long the subscriber waits for one more message before deciding none is coming.
const IDLE: Duration = Duration::from_millis(400);
/// How long tessera's messages may take in all to reach the count redis-server sent.
const CATCH_UP: Duration = Duration::from_secs(15);

/// A message as `channel payload`.
type Msg = String;

struct Pair {
    redis: Server,
    tess: Server,
}

impl Pair {
    fn start(classes: &str) -> Pair {
        let flag = ["--notify-keyspace-events", classes];
        Pair { redis: Server::start(Spec::redis().args(&flag)), tess: Server::start(Spec::tessera(2).args(&flag)) }
    }
}

fn subscribe(server: &Server) -> RawConn {
    let mut sub = server.raw();
    let r = sub.cmd(&["PSUBSCRIBE", "__key*@*__:*"]);
    assert!(matches!(r, Reply::Array(_)), "PSUBSCRIBE answered {r:?}");
    sub
}

/// Runs `script` on a fresh connection and answers each reply (to show with a mismatch).
fn run_script(server: &Server, script: &[String]) -> Vec<String> {
    let mut c = server.raw();
    script
        .iter()
        .map(|line| {
            let args: Vec<&str> = line.split(' ').collect();
            format!("{line} -> {:?}", c.cmd(&args))
        })
        .collect()
}

/// Reads `pmessage` messages until none came for `IDLE` and, when `want` is given, at least
/// `want` arrived or `CATCH_UP` passed.
fn collect(sub: &mut RawConn, want: Option<usize>) -> Vec<Msg> {
    let _ = sub.stream.set_read_timeout(Some(IDLE));
    let start = Instant::now();
    let mut got = Vec::new();
    loop {
        match sub.read_reply() {
            Ok((_, reply)) => {
                let parts = reply.items().unwrap_or_default();
                let text = |i: usize| parts.get(i).and_then(|p| p.bytes()).map(String::from_utf8_lossy);
                match (text(0).as_deref(), text(2), text(3)) {
                    (Some("pmessage"), Some(ch), Some(payload)) => got.push(format!("{ch} {payload}")),
                    _ => panic!("not a pmessage: {reply:?}"),
                }
            }
            Err(_) => {
                let enough = want.is_none_or(|w| got.len() >= w);
                if enough || start.elapsed() > CATCH_UP {
                    return got;
                }
            }
        }
    }
}

/// Runs `script` on both servers and answers the messages each subscriber got, with the
/// replies of both (for failure messages).
fn run_both(pair: &Pair, script: &[String]) -> (Vec<Msg>, Vec<Msg>, String) {
    let mut redis_sub = subscribe(&pair.redis);
    let mut tess_sub = subscribe(&pair.tess);
    let redis_replies = run_script(&pair.redis, script);
    let want = collect(&mut redis_sub, None);
    let tess_replies = run_script(&pair.tess, script);
    let got = collect(&mut tess_sub, Some(want.len()));
    let mut replies = String::new();
    for (r, t) in redis_replies.iter().zip(&tess_replies) {
        let mark = if r == t { " " } else { "!" };
        replies.push_str(&format!("{mark} redis:   {r}\n{mark} tessera: {t}\n"));
    }
    (want, got, replies)
}

fn assert_same_order(pair: &Pair, script: &[String]) {
    let (want, got, replies) = run_both(pair, script);
    assert!(!want.is_empty(), "redis-server sent no events:\n{replies}");
    if want != got {
        let first = want.iter().zip(&got).position(|(a, b)| a != b).unwrap_or(want.len().min(got.len()));
        panic!(
            "messages differ at #{first} (redis {} messages, tessera {}):\nredis:   {:?}\ntessera: {:?}\n\nreplies:\n{replies}",
            want.len(),
            got.len(),
            want.get(first..(first + 6).min(want.len())),
            got.get(first..(first + 6).min(got.len())),
        );
    }
}

fn assert_same_multiset(pair: &Pair, script: &[String]) {
    let (mut want, mut got, replies) = run_both(pair, script);
    assert!(!want.is_empty(), "redis-server sent no events:\n{replies}");
    want.sort();
    got.sort();
    if want != got {
        let missing: Vec<&Msg> = want.iter().filter(|m| !got.contains(m)).collect();
        let extra: Vec<&Msg> = got.iter().filter(|m| !want.contains(m)).collect();
        panic!(
            "message multisets differ (redis {}, tessera {}):\nonly redis:   {missing:?}\nonly tessera: {extra:?}\n\nreplies:\n{replies}",
            want.len(),
            got.len()
        );
    }
}

fn lines(script: &str) -> Vec<String> {
    script.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect()
}

/// Every write path of the string, generic, hash, list and set commands, on keys of one slot.
const ONE_SLOT_SCRIPT: &str = "
    set {t}k v
    set {t}k v2
    set {t}k v3 EX 1000
    set {t}k v4 KEEPTTL
    set {t}k v5 NX
    set {t}k v5 XX
    set {t}nk v XX
    set {t}k v6 GET
    set {t}k v7 GET EX 1000
    setnx {t}k v
    setnx {t}k9 v
    setex {t}k 1000 v
    psetex {t}k 1000000 v
    mset {t}a 1 {t}b 2
    msetnx {t}a 1 {t}c 2
    msetnx {t}c 1 {t}d 2
    getset {t}a 5
    getset {t}newg 5
    getdel {t}a
    getdel {t}a
    getex {t}b
    getex {t}b EX 1000
    getex {t}b PERSIST
    getex {t}b PXAT 1
    append {t}ap x
    append {t}ap y
    incr {t}i
    decr {t}i
    incrby {t}i 5
    decrby {t}i 5
    incrbyfloat {t}f 1.5
    incr {t}ap
    setrange {t}sr 2 ab
    setrange {t}sr 0 x
    del {t}k {t}nokey {t}k9
    unlink {t}c {t}d
    set {t}e 1
    expire {t}e 1000
    expire {t}e 1000 NX
    pexpire {t}e 1000000
    expireat {t}e 9999999999
    pexpireat {t}e 9999999999000
    persist {t}e
    persist {t}e
    expire {t}e -1
    set {t}e 1
    pexpireat {t}e 1
    set {t}r 1
    rename {t}r {t}r2
    rename {t}r2 {t}r2
    set {t}r 1
    renamenx {t}r {t}r2
    rename {t}r {t}r2
    copy {t}r2 {t}r3
    copy {t}r2 {t}r3
    copy {t}r2 {t}r3 REPLACE
    copy {t}r2 {t}r3 DB 1
    move {t}r3 1
    move {t}r2 2
    select 2
    del {t}r2
    select 0
    hset {t}h f v
    hset {t}h f v
    hmset {t}h g w
    hsetnx {t}h f v
    hsetnx {t}h z v
    hdel {t}h nofield
    hdel {t}h f g
    hincrby {t}hi f 1
    hincrbyfloat {t}hf f 1.5
    hdel {t}h z
    lpush {t}l a b
    rpush {t}l c
    lpushx {t}l d
    rpushx {t}nol e
    lpop {t}l
    rpop {t}l
    lpop {t}l 0
    lset {t}l 0 x
    linsert {t}l before x y
    lrem {t}l 1 y
    ltrim {t}l 0 -1
    rpush {t}l a b c
    lmove {t}l {t}d2 left right
    lmove {t}d2 {t}d2 left left
    rpoplpush {t}l {t}d2
    lmpop 2 {t}nol {t}l right count 5
    rpush {t}l a b
    blpop {t}l 1
    brpop {t}l 1
    rpush {t}l a b
    blmove {t}l {t}d2 left right 1
    blmpop 1 2 {t}l {t}d2 left count 10
    ltrim {t}d2 5 6
    sadd {t}s a b c
    sadd {t}s a
    srem {t}s a
    spop {t}s
    sadd {t}s 1 2 3
    spop {t}s 1
    spop {t}s 10
    sadd {t}s a b
    smove {t}s {t}s2 a
    smove {t}s {t}s2 b
    sadd {t}a1 1 2 3
    sadd {t}a2 2 3 4
    sinterstore {t}dst {t}a1 {t}a2
    sinterstore {t}dst {t}a1 {t}a2
    sunionstore {t}dst {t}a1 {t}a2
    sdiffstore {t}dst {t}a1 {t}a2
    sinterstore {t}dst {t}a1 {t}nokey
    sdiffstore {t}dst {t}a1 {t}a1
    flushdb
    set {t}k v
    flushall
";

#[test]
fn one_slot_events_match_redis_in_order() {
    let pair = Pair::start("KEA");
    assert_same_order(&pair, &lines(ONE_SLOT_SCRIPT));
}

/// The same script with the `n` class on: `new` events are raised where keys are created.
#[test]
fn one_slot_events_with_new_match_redis_in_order() {
    let pair = Pair::start("KEAn");
    assert_same_order(&pair, &lines(ONE_SLOT_SCRIPT));
}

/// Blocked list pops served by a later push: the push's events, then the pop's, as Redis
/// raises them when it serves the blocked client.
#[test]
fn blocked_pops_served_later_match_redis_in_order() {
    let pair = Pair::start("KEAn");
    let cases: &[(&str, &str)] = &[
        ("blpop {t}b1 10", "rpush {t}b1 a"),
        ("blpop {t}b2 10", "rpush {t}b2 a b"),
        ("brpop {t}b3 10", "lpush {t}b3 a b c"),
        ("blmove {t}bs {t}bd right left 10", "rpush {t}bs a"),
        ("blmove {t}bs {t}bd left right 10", "rpush {t}bs a b"),
        ("blmpop 10 2 {t}x {t}b4 left count 5", "lpush {t}b4 a b"),
    ];
    let serve = |server: &Server| {
        let mut sub = subscribe(server);
        let mut blocked = server.raw();
        let mut pusher = server.raw();
        let mut replies = Vec::new();
        for (block, push) in cases {
            let args: Vec<&[u8]> = block.split(' ').map(str::as_bytes).collect();
            blocked.send(&args).expect("send the blocking command");
            // Give the server time to block the client before the push arrives.
            std::thread::sleep(Duration::from_millis(300));
            let push_reply = pusher.cmd(&push.split(' ').collect::<Vec<_>>());
            let (_, served) = blocked.read_reply().expect("the blocked client is served");
            replies.push(format!("{block} / {push} -> {served:?} / {push_reply:?}"));
        }
        (sub_collect(&mut sub), replies)
    };
    let (want, redis_replies) = serve(&pair.redis);
    let (got, tess_replies) = serve(&pair.tess);
    assert_eq!(tess_replies, redis_replies, "replies differ");
    assert!(!want.is_empty(), "redis-server sent no events");
    assert_eq!(got, want, "messages differ");
}

/// Everything the subscriber got until it went idle.
fn sub_collect(sub: &mut RawConn) -> Vec<Msg> {
    collect(sub, None)
}

/// Sorted-set writes: each event as Redis raises it, on keys of one slot.
#[test]
fn zset_events_match_redis_in_order() {
    let pair = Pair::start("KEAn");
    let script = "
        zadd {t}z 1 a
        zadd {t}z 1 a
        zadd {t}z 2 a
        zadd {t}z XX 3 q
        zadd {t}z INCR 1 a
        zincrby {t}z 1 a
        zincrby {t}z2 1 a
        zrem {t}z nope
        zrem {t}z a
        zadd {t}z 1 a 2 b 3 c 4 d
        zremrangebyscore {t}z 1 1
        zremrangebyrank {t}z 0 0
        zremrangebylex {t}z [c [c
        zremrangebyrank {t}z 0 -1
        zadd {t}z 1 a 2 b 3 c
        zpopmin {t}z
        zpopmax {t}z 5
        zadd {t}z 1 a 2 b
        zmpop 2 {t}noz {t}z min count 1
        bzpopmax {t}z 1
        zadd {t}z1 1 x 2 y
        zadd {t}z3 1 y 2 w
        zunionstore {t}dst 2 {t}z1 {t}z3
        zinterstore {t}dst 2 {t}z1 {t}z3
        zdiffstore {t}dst 2 {t}z1 {t}z3
        zinterstore {t}dst 2 {t}z1 {t}noz
        zrangestore {t}dst2 {t}z1 0 -1
        zrangestore {t}dst2 {t}z1 5 6
    ";
    assert_same_order(&pair, &lines(script));
}

/// Multi-key commands whose keys live on both shards (coordinated in standalone mode), and
/// single-key commands on either shard: the same messages, whatever their interleaving.
#[test]
fn events_across_shards_match_redis_as_multisets() {
    let pair = Pair::start("KEAn");
    let a = keys_on_shard("na", 0, 2, 4);
    let b = keys_on_shard("nb", 1, 2, 4);
    let script = format!(
        "
        mset {a0} 1 {b0} 2 {a1} 3 {b1} 4
        msetnx {a2} 1 {b2} 2
        msetnx {a2} 1 {b3} 2
        del {a0} {b0} {a3}
        rename {a1} {b3}
        renamenx {b3} {a1}
        copy {a1} {b0}
        copy {a1} {b0} REPLACE
        rpush {a0} x y z
        lmove {a0} {b1} left right
        del {b1}
        lmove {a0} {b1} left right
        rpoplpush {a0} {b1}
        lmpop 2 {a3} {b1} left count 5
        sadd {a3} 1 2 3
        sadd {b3} 2 3 4
        sunionstore {a2} {a3} {b3}
        sinterstore {b2} {a3} {b3}
        sdiffstore {b2} {a3} {a3}
        smove {a3} {b3} 1
        smove {a3} {b2} 2
        del {a1} {b2}
        hset {a1} f v
        hset {b2} f v
        hdel {a1} f
        incr {a0}
        incr {b0}
        unlink {a0} {b0} {a1} {b1} {a2} {b2} {a3} {b3}
        ",
        a0 = a[0],
        a1 = a[1],
        a2 = a[2],
        a3 = a[3],
        b0 = b[0],
        b1 = b[1],
        b2 = b[2],
        b3 = b[3],
    );
    assert_same_multiset(&pair, &lines(&script));
}
