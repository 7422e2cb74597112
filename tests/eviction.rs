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
