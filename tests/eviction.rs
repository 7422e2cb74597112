//! `maxmemory` and its policies against real Redis 7.0 where the outcome is deterministic:
//! `noeviction` answers the same -OOM to writes and still serves reads; the evicting policies
//! keep used memory near the limit while writes go on, count `evicted_keys`, raise `evicted`
//! keyspace events, and the volatile policies never evict a key without a TTL.

mod common;

use common::{Reply, Server, Spec};

fn info_u64(c: &mut common::RawConn, section: &str, field: &str) -> u64 {
    let r = c.cmd(&["INFO", section]);
    let text = String::from_utf8_lossy(r.bytes().expect("INFO bulk")).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")).and_then(|v| v.trim().parse().ok()))
        .unwrap_or_else(|| panic!("no {field} in INFO {section}"))
}

/// Writes `n` keys of 1 KiB through a pipeline of 100; returns the error replies seen.
fn fill(c: &mut common::RawConn, prefix: &str, n: usize, ttl: bool) -> Vec<Vec<u8>> {
    let value = vec![b'x'; 1024];
    let mut errors = Vec::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(100) {
        let mut out = Vec::new();
        for i in chunk {
            let key = format!("{prefix}{i}");
            if ttl {
                out.extend(common::resp::encode(&[b"SET", key.as_bytes(), &value, b"EX", b"10000"]));
            } else {
                out.extend(common::resp::encode(&[b"SET", key.as_bytes(), &value]));
            }
        }
        c.send_raw(&out).expect("send");
        for _ in chunk {
            let (raw, r) = c.read_reply().expect("reply");
            if r.is_error() {
                errors.push(raw);
            }
        }
    }
    errors
}

#[test]
fn noeviction_refuses_writes_as_redis_does() {
    for spec in [Spec::redis(), Spec::tessera(2)] {
        let s = Server::start(spec.args(&["--maxmemory", "8mb", "--maxmemory-policy", "noeviction"]));
        let mut c = s.raw();
        let errors = fill(&mut c, "k", 20_000, false);
        assert!(!errors.is_empty(), "{:?}: 20 MB into 8 MB without an error", s.kind);
        assert_eq!(errors[0], b"-OOM command not allowed when used memory > 'maxmemory'.\r\n");
        // Reads and deletes still work.
        assert!(matches!(c.cmd(&["GET", "k1"]), Reply::Bulk(_)));
        assert_eq!(c.cmd(&["DEL", "k1", "k2"]).int(), Some(2));
        assert_eq!(info_u64(&mut c, "stats", "evicted_keys"), 0);
    }
}

#[test]
fn evicting_policies_hold_memory_near_the_limit() {
    for policy in ["allkeys-lru", "allkeys-lfu", "allkeys-random"] {
        let s = Server::start(Spec::tessera(2).args(&["--maxmemory", "16mb", "--maxmemory-policy", policy]));
        let mut c = s.raw();
        let errors = fill(&mut c, "k", 40_000, false);
        assert!(errors.is_empty(), "{policy}: {:?}", errors.first().map(|e| String::from_utf8_lossy(e).into_owned()));
        let used = info_u64(&mut c, "memory", "used_memory");
        let evicted = info_u64(&mut c, "stats", "evicted_keys");
        let keys = c.cmd(&["DBSIZE"]).int().unwrap() as u64;
        assert!(used < 20 * 1024 * 1024, "{policy}: used_memory {used}");
        assert!(evicted > 10_000, "{policy}: evicted {evicted}");
        assert_eq!(keys + evicted, 40_000, "{policy}: every key is either there or evicted");
    }
}

#[test]
fn volatile_policies_spare_keys_without_ttl_and_raise_events() {
    for policy in ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"] {
        let s = Server::start(Spec::tessera(2).args(&[
            "--maxmemory",
            "16mb",
            "--maxmemory-policy",
            policy,
            "--notify-keyspace-events",
            "Ee",
        ]));
        let mut sub = s.raw();
        sub.cmd(&["SUBSCRIBE", "__keyevent@0__:evicted"]);
        let mut c = s.raw();
        assert!(fill(&mut c, "keep", 2_000, false).is_empty());
        let errors = fill(&mut c, "ttl", 30_000, true);
        assert!(errors.is_empty(), "{policy}: evictable keys remained");
        assert!(info_u64(&mut c, "stats", "evicted_keys") > 10_000, "{policy}");
        for i in (0..2_000).step_by(97) {
            assert_eq!(c.cmd(&["EXISTS", &format!("keep{i}")]).int(), Some(1), "{policy}: keep{i} evicted");
        }
        let (_, msg) = sub.read_reply().expect("an evicted event");
        let items = msg.items().expect("message");
        assert_eq!(items[0].bytes(), Some(&b"message"[..]));
        assert!(items[2].bytes().is_some_and(|k| k.starts_with(b"ttl")), "{policy}: {msg:?}");
        // Once only keys without a TTL are left, writes get -OOM.
        let errors = fill(&mut c, "more", 30_000, false);
        assert!(!errors.is_empty(), "{policy}: no OOM with nothing evictable");
    }
}

/// One pipelining client on a two-shard node forwards half of its writes to the shard it is
/// not connected to. Overwriting a fixed set of keys does not grow the data, so with the limit
/// well above what the keys take nothing may be evicted or refused, however long it runs.
/// (Counting each shard against its own share failed this: forwarded batches are built on
/// one shard and freed on the other, which drifted the two counts apart until one shard had
/// evicted all its keys and answered -OOM.)
#[test]
fn forwarding_does_not_evict_when_the_node_is_under_its_limit() {
    let s = Server::start(Spec::tessera(2).args(&["--maxmemory-policy", "allkeys-lru"]));
    let mut c = s.raw();
    const KEYS: usize = 10_000;
    let send = |c: &mut common::RawConn, from: usize, n: usize| -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for i in from..from + n {
            out.extend(common::resp::encode(&[b"SET", format!("k{}", i % KEYS).as_bytes(), b"v"]));
        }
        c.send_raw(&out).expect("send");
        (0..n).filter_map(|_| c.read_reply().ok().filter(|(_, r)| r.is_error()).map(|(raw, _)| raw)).collect()
    };
    assert!(send(&mut c, 0, KEYS).is_empty());
    let used = info_u64(&mut c, "memory", "used_memory");
    let limit = used + 4 * 1024 * 1024;
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", &limit.to_string()]), Reply::Simple("OK".into()));
    let mut errors = Vec::new();
    for batch in 0..100_000 {
        errors.extend(send(&mut c, batch * 16, 16));
    }
    let evicted = info_u64(&mut c, "stats", "evicted_keys");
    let keys = c.cmd(&["DBSIZE"]).int().unwrap() as u64;
    assert!(errors.is_empty(), "{} errors, first {:?}", errors.len(), String::from_utf8_lossy(&errors[0]));
    assert_eq!((evicted, keys), (0, KEYS as u64), "used_memory {}", info_u64(&mut c, "memory", "used_memory"));
}

/// Each shard's own memory count (`tessera_used_memory_shards`) must not wander off while the
/// data stays the same size: cross-shard commands build values on one shard that another
/// keeps or frees (RENAME, SUNIONSTORE, MULTI, BLPOP over two shards), SCAN reads another
/// shard's keys, and keyspace events and PUBLISH send messages to every shard. Bytes that
/// moved without their count used to shift megabytes from one shard's count to the other's.
#[test]
fn cross_shard_traffic_leaves_each_shard_count_its_own() {
    let s = Server::start(Spec::tessera(2).args(&["--notify-keyspace-events", "KEA"]));
    let mut c = s.raw();
    let round = |c: &mut common::RawConn| {
        for batch in 0..100 {
            let mut out = Vec::new();
            for j in 0..32 {
                let i = (batch * 32 + j) % 50;
                let (a, b, d) = (format!("{{a}}x{i}"), format!("{{b}}y{i}"), format!("{{c}}s{i}"));
                out.extend(common::resp::encode(&[b"SET", a.as_bytes(), b"value"]));
                out.extend(common::resp::encode(&[b"RENAME", a.as_bytes(), b.as_bytes()]));
                out.extend(common::resp::encode(&[b"SUNIONSTORE", d.as_bytes(), b"{a}x1", b.as_bytes()]));
                out.extend(common::resp::encode(&[b"PUBLISH", b"events", b"payload"]));
                out.extend(common::resp::encode(&[b"SCAN", b"0", b"COUNT", b"20"]));
                out.extend(common::resp::encode(&[b"MULTI"]));
                out.extend(common::resp::encode(&[b"RPUSH", b"{b}q", b"job"]));
                out.extend(common::resp::encode(&[b"INCR", b"{a}n"]));
                out.extend(common::resp::encode(&[b"EXEC"]));
                out.extend(common::resp::encode(&[b"BLPOP", b"{a}q", b"{b}q", b"1"]));
            }
            c.send_raw(&out).expect("send");
            for _ in 0..32 * 10 {
                c.read_reply().expect("reply");
            }
        }
    };
    let shards = |c: &mut common::RawConn| -> Vec<i64> {
        let r = c.cmd(&["INFO", "memory"]);
        let text = String::from_utf8_lossy(r.bytes().expect("INFO bulk")).into_owned();
        let line = text.lines().find_map(|l| l.strip_prefix("tessera_used_memory_shards:")).expect("field").to_owned();
        line.split(',').map(|v| v.trim().parse().expect("number")).collect()
    };
    round(&mut c);
    let before = shards(&mut c);
    round(&mut c);
    round(&mut c);
    let after = shards(&mut c);
    assert_eq!(before.len(), 2);
    for (b, a) in before.iter().zip(&after) {
        assert!((a - b).abs() < 256 * 1024, "shard counts moved from {before:?} to {after:?}");
    }
}
