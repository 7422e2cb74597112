//! DEBUG: the subset of Redis's debugging command that test suites and tools use (SLEEP,
//! OBJECT, SET-ACTIVE-EXPIRE, DIGEST, DIGEST-VALUE, RELOAD (in `reload.rs`), LOG, ERROR,
//! HELP), gated by `enable-debug-command` exactly as Redis 7.
//!
//! DEBUG is one command with arity -2, not a container, because Redis checks the gate before
//! looking at the subcommand and answers unknown subcommands and wrong argument counts with
//! one combined error. Subcommands that read keys run on the shard owning each key; those
//! that change server behaviour (SLEEP, SET-ACTIVE-EXPIRE) run on every shard.

use crate::cluster::slot::{key_slot, owner_shard};
use crate::command::args::eq_ic;
use crate::command::spec::{flag, spec, CommandSpec, ConnResult, Exec, Split};
use crate::config::{EnableFlag, MaxmemoryPolicy};
use crate::error;
use crate::resp::Out;
use crate::shard::ShardState;
use crate::store::keyspace::NO_EXPIRE;
use crate::store::types::{set::SetValue, zset::ZSetValue};
use crate::store::{Entry, StrValue, Value};

use super::fanout::{fan_out, help, on_shard, subcommand_syntax_error};
use super::sha1::{hex, sha1};

pub const DEBUG: CommandSpec = CommandSpec {
    complexity: "Depends on subcommand.",
    ..spec(
        "debug",
        -2,
        flag::ADMIN | flag::NOSCRIPT | flag::LOADING | flag::STALE,
        (0, 0, 0),
        &["@admin", "@slow", "@dangerous"],
        "server",
        "1.0.0",
        "A container for debugging commands",
        Exec::Conn(debug),
        Split::None,
    )
};

const NOT_ALLOWED: &str = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";

/// Redis's `islocalClient`: loopback peers (unix sockets are not served yet).
pub(crate) fn is_local_addr(addr: &str) -> bool {
    let ip = addr.rsplit_once(':').map_or(addr, |(ip, _)| ip);
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    ip == "127.0.0.1" || ip == "::1"
}

pub(crate) fn debug_allowed(setting: EnableFlag, peer_addr: &str) -> bool {
    match setting {
        EnableFlag::Yes => true,
        EnableFlag::Local => is_local_addr(peer_addr),
        EnableFlag::No => false,
    }
}

fn debug(st: &mut ShardState, ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    if !debug_allowed(st.cfg.enable_debug_command, &st.clients[ci].addr) {
        out.error(NOT_ALLOWED);
        return ConnResult::Done;
    }
    let sub = args[1];
    let n = args.len();
    let is = |name: &str| eq_ic(sub, name);
    if is("help") && n == 2 {
        debug_help(out);
        ConnResult::Done
    } else if is("sleep") && n == 3 {
        let d = sleep_duration(args[2]);
        fan_out(st, out, move |_: &mut ShardState| std::thread::sleep(d), |_, out| out.ok())
    } else if is("set-active-expire") && n == 3 {
        let on = atoi(args[2]) != 0;
        fan_out(st, out, move |s: &mut ShardState| s.active_expire = on, |_, out| out.ok())
    } else if is("object") && n == 3 {
        let db = st.clients[ci].db;
        let key = args[2].to_vec();
        let dest = owner_shard(key_slot(&key), st.nshards);
        on_shard(st, out, dest, move |s, out| object(s, db, &key, out))
    } else if is("digest-value") {
        let db = st.clients[ci].db;
        let keys: Vec<Vec<u8>> = args[2..].iter().map(|k| k.to_vec()).collect();
        let nkeys = keys.len();
        let part = move |s: &mut ShardState| -> Vec<(usize, [u8; 20])> {
            let Some(d) = s.store.dbs.get(db) else { return Vec::new() };
            keys.iter()
                .enumerate()
                .filter(|(_, k)| owner_shard(key_slot(k), s.nshards) == s.id)
                // peek: DEBUG sees logically expired keys, as Redis's dictFind does.
                .map(|(i, k)| (i, d.peek(k).map_or([0; 20], value_digest)))
                .collect()
        };
        fan_out(st, out, part, move |parts, out| {
            let mut digests = vec![[0u8; 20]; nkeys];
            for (i, d) in parts.into_iter().flatten() {
                if let Some(slot) = digests.get_mut(i) {
                    *slot = d;
                }
            }
            out.array(nkeys);
            for d in &digests {
                out.simple(&hex(d));
            }
        })
    } else if is("digest") && n == 2 {
        fan_out(st, out, shard_digest, |parts, out| out.simple(&hex(&combine_digests(&parts))))
    } else if is("reload") {
        super::reload::debug_reload(st, args, out)
    } else if is("log") && n == 3 {
        crate::observe::log::warning(&format!("DEBUG LOG: {}", String::from_utf8_lossy(args[2])));
        out.ok();
        ConnResult::Done
    } else if is("error") && n == 3 {
        // The message is the whole error, code included, as Redis sends it.
        out.error(&String::from_utf8_lossy(args[2]));
        ConnResult::Done
    } else {
        subcommand_syntax_error(out, args);
        ConnResult::Done
    }
}

/// C `atoi`: optional spaces and sign, then digits up to the first other byte; 0 if none.
fn atoi(b: &[u8]) -> i64 {
    let s = String::from_utf8_lossy(b);
    let t = s.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut v: i64 = 0;
    for c in digits.bytes().take_while(u8::is_ascii_digit) {
        v = v.saturating_mul(10).saturating_add((c - b'0') as i64);
    }
    if neg {
        -v
    } else {
        v
    }
}

/// DEBUG SLEEP's seconds, read like C `strtod` on the longest numeric prefix; what is not a
/// finite positive number sleeps 0 (Redis's nanosleep fails on those and returns at once).
fn sleep_duration(b: &[u8]) -> std::time::Duration {
    let s = String::from_utf8_lossy(b);
    let t = s.trim_start();
    let secs =
        (0..=t.len()).rev().filter(|&i| t.is_char_boundary(i)).find_map(|i| t[..i].parse::<f64>().ok()).unwrap_or(0.0);
    if secs.is_finite() && secs > 0.0 {
        std::time::Duration::from_secs_f64(secs.min(1e9))
    } else {
        std::time::Duration::ZERO
    }
}

/// Redis's `rdbSaveLen` size for a length.
fn rdb_len_size(len: usize) -> usize {
    if len < 1 << 6 {
        1
    } else if len < 1 << 14 {
        2
    } else if len as u64 <= u32::MAX as u64 {
        5
    } else {
        9
    }
}

/// Size of an integer saved with RDB's int encodings (8, 16, 32 bits), if it fits one.
fn rdb_int_size(n: i64) -> Option<usize> {
    if i8::try_from(n).is_ok() {
        Some(2)
    } else if i16::try_from(n).is_ok() {
        Some(3)
    } else if i32::try_from(n).is_ok() {
        Some(5)
    } else {
        None
    }
}

/// Size of one string in an RDB file: an int encoding when it is a small canonical integer,
/// else length prefix plus bytes (Redis tries LZF on strings over 20 bytes when
/// `rdbcompression` is on; that is not modelled).
fn rdb_string_len(bytes: &[u8]) -> usize {
    if bytes.len() <= 11 {
        if let Some(size) = crate::resp::parse::parse_i64_strict(bytes).and_then(rdb_int_size) {
            return size;
        }
    }
    rdb_len_size(bytes.len()) + bytes.len()
}

/// `serializedlength` of DEBUG OBJECT: the value's size in an RDB file. Exact for strings;
/// aggregates are counted as a length prefix plus their elements as RDB strings (Redis saves
/// small ones as one listpack blob, so its figure differs).
fn serialized_len(v: &Value) -> usize {
    let mut tmp = [0u8; 24];
    match v {
        Value::Str(s) => rdb_string_len(s.as_bytes(&mut tmp)),
        Value::List(l) => rdb_len_size(l.len()) + l.iter().map(rdb_string_len).sum::<usize>(),
        Value::Hash(h) => {
            rdb_len_size(h.len()) + h.iter().map(|(f, v)| rdb_string_len(f) + rdb_string_len(v)).sum::<usize>()
        }
        Value::Set(s) => {
            let mut n = 0;
            let len = for_each_set_member(s, |m| n += rdb_string_len(m));
            rdb_len_size(len) + n
        }
        Value::ZSet(z) => {
            let mut n = 0;
            let len = for_each_zset_member(z, |m, _| n += rdb_string_len(m) + 8);
            rdb_len_size(len) + n
        }
        // Redis's RDB_TYPE_STREAM_LISTPACKS_2 layout: nodes (16-byte key, listpack), the
        // metadata, then each group with its PEL and consumers.
        Value::Stream(x) => {
            let len = |n: u64| rdb_len_size(n as usize);
            let id = |i: crate::store::types::stream::StreamId| len(i.ms) + len(i.seq);
            let mut n = len(x.node_count() as u64);
            for (_, lp) in x.nodes() {
                n += 1 + 16 + rdb_len_size(lp.len()) + lp.len();
            }
            n += len(x.len() as u64) + id(x.last_id()) + id(x.first_id()) + id(x.max_deleted_entry_id());
            n += len(x.entries_added()) + len(x.groups().len() as u64);
            for (name, g) in x.groups() {
                n += rdb_string_len(name) + id(g.last_id) + len(g.entries_read as u64);
                let pel: usize = g.pel().values().map(|p| 16 + 8 + len(p.delivery_count)).sum();
                n += len(g.pel().len() as u64) + pel;
                n += len(g.consumers().len() as u64);
                for (cname, c) in g.consumers() {
                    n += rdb_string_len(cname) + 8 + len(c.pending().len() as u64) + 16 * c.pending().len();
                }
            }
            n
        }
    }
}

/// Calls `f` on every member of a set (integers as their decimal text); returns the count.
fn for_each_set_member(s: &SetValue, f: impl FnMut(&[u8])) -> usize {
    s.for_each_member(f)
}

/// Calls `f` on every (member, score) of a sorted set; returns the count.
fn for_each_zset_member(z: &ZSetValue, mut f: impl FnMut(&[u8], f64)) -> usize {
    match z {
        ZSetValue::Listpack(v) => {
            for (score, m) in v {
                f(m.as_slice(), *score);
            }
            v.len()
        }
        ZSetValue::Skiplist(s) => {
            for (m, score) in &s.scores {
                f(m.as_slice(), *score);
            }
            s.scores.len()
        }
    }
}

/// Redis shares the integer objects 0..10000 unless eviction needs per-object LRU/LFU data.
fn refcount(v: &Value, maxmemory_bytes: u64, policy: MaxmemoryPolicy) -> i64 {
    let lru_lfu = matches!(
        policy,
        MaxmemoryPolicy::VolatileLru
            | MaxmemoryPolicy::VolatileLfu
            | MaxmemoryPolicy::AllkeysLru
            | MaxmemoryPolicy::AllkeysLfu
    );
    match v {
        Value::Str(StrValue::Int(n)) if (0..10_000).contains(n) && (maxmemory_bytes == 0 || !lru_lfu) => {
            i32::MAX as i64
        }
        _ => 1,
    }
}

fn object(s: &mut ShardState, db: usize, key: &[u8], out: &mut Out) {
    let Some(e) = s.store.dbs.get(db).and_then(|d| d.peek(key)) else {
        out.error(error::NO_SUCH_KEY);
        return;
    };
    // `access_s` is the keys family's access clock (unix seconds); Redis's lru field is the
    // same clock cut to 24 bits.
    let now_s = crate::command::family::keys::access_clock_s(crate::shard::unix_ms());
    let idle_s = now_s.saturating_sub(e.access_s);
    let lru = e.access_s & ((1 << 24) - 1);
    out.simple(&format!(
        "Value at:{:p} refcount:{} encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
        e as *const Entry,
        refcount(&e.value, s.cfg.maxmemory_bytes, s.cfg.maxmemory_policy),
        e.value.encoding(),
        serialized_len(&e.value),
        lru,
        idle_s
    ));
}

fn xor_digest(d: &mut [u8; 20], data: &[u8]) {
    for (x, y) in d.iter_mut().zip(sha1(data)) {
        *x ^= y;
    }
}

fn mix_digest(d: &mut [u8; 20], data: &[u8]) {
    xor_digest(d, data);
    *d = sha1(&d[..]);
}

/// Redis's object type numbers, hashed into digests.
fn rdb_type(v: &Value) -> u32 {
    match v {
        Value::Str(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
        Value::Stream(_) => 6,
    }
}

/// Redis's `xorObjectDigest` starting from `d`: type, value, and whether there is a TTL.
/// Ordered types mix their elements in order; unordered ones XOR one digest per element so
/// the result does not depend on iteration order.
fn object_digest(d: &mut [u8; 20], e: &Entry) {
    mix_digest(d, &rdb_type(&e.value).to_be_bytes());
    match &e.value {
        Value::Str(s) => {
            let mut tmp = [0u8; 24];
            mix_digest(d, s.as_bytes(&mut tmp));
        }
        Value::List(l) => {
            for item in l.iter() {
                mix_digest(d, item);
            }
        }
        Value::Set(s) => {
            for_each_set_member(s, |m| xor_digest(d, m));
        }
        Value::ZSet(z) => {
            for_each_zset_member(z, |m, score| {
                let mut ele = [0u8; 20];
                mix_digest(&mut ele, m);
                mix_digest(&mut ele, crate::resp::write::fmt_double_17g(score).as_bytes());
                xor_digest(d, &ele);
            });
        }
        Value::Hash(h) => {
            for (field, value) in h.iter() {
                let mut ele = [0u8; 20];
                mix_digest(&mut ele, field);
                mix_digest(&mut ele, value);
                xor_digest(d, &ele);
            }
        }
        // Entries in order: the ID as `ms.seq`, then each field and value (groups are not
        // part of the digest, as in Redis).
        Value::Stream(x) => {
            let mut tmp = [0u8; 24];
            for e in x.entries() {
                mix_digest(d, format!("{}.{}", e.id.ms, e.id.seq).as_bytes());
                for (f, v) in e.fields() {
                    mix_digest(d, f.as_bytes(&mut tmp));
                    mix_digest(d, v.as_bytes(&mut tmp));
                }
            }
        }
    }
    if e.expire_at_ms != NO_EXPIRE {
        xor_digest(d, b"!!expire!!");
    }
}

/// DEBUG DIGEST-VALUE of one entry.
fn value_digest(e: &Entry) -> [u8; 20] {
    let mut d = [0u8; 20];
    object_digest(&mut d, e);
    d
}

/// One shard's share of DEBUG DIGEST: per non-empty db, the XOR of its keys' digests. XOR
/// commutes, so shards can be combined in any order.
fn shard_digest(s: &mut ShardState) -> Vec<(usize, [u8; 20])> {
    let mut res = Vec::new();
    for (i, db) in s.store.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        let mut acc = [0u8; 20];
        for slot in db.nonempty_slots() {
            for (k, e) in db.slot_table(slot).into_iter().flatten() {
                let mut d = [0u8; 20];
                mix_digest(&mut d, k.as_slice());
                object_digest(&mut d, e);
                xor_digest(&mut acc, &d);
            }
        }
        res.push((i, acc));
    }
    res
}

/// Redis's `computeDatasetDigest` from the shards' per-db parts: for each non-empty db in
/// order, mix in the db number, then XOR in its keys.
fn combine_digests(parts: &[Vec<(usize, [u8; 20])>]) -> [u8; 20] {
    let mut per_db: std::collections::BTreeMap<usize, [u8; 20]> = Default::default();
    for (db, d) in parts.iter().flatten() {
        let acc = per_db.entry(*db).or_insert([0; 20]);
        for (x, y) in acc.iter_mut().zip(d) {
            *x ^= y;
        }
    }
    let mut fin = [0u8; 20];
    for (db, d) in per_db {
        mix_digest(&mut fin, &(db as u32).to_be_bytes());
        for (x, y) in fin.iter_mut().zip(d) {
            *x ^= y;
        }
    }
    fin
}

fn debug_help(out: &mut Out) {
    help(
        out,
        "DEBUG",
        &[
            "DIGEST",
            "    Output a hex signature representing the current DB content.",
            "DIGEST-VALUE <key> [<key> ...]",
            "    Output a hex signature of the values of all the specified keys.",
            "ERROR <string>",
            "    Return a Redis protocol error with <string> as message. Useful for clients",
            "    unit tests to simulate Redis errors.",
            "LOG <message>",
            "    Write <message> to the server log.",
            "OBJECT <key>",
            "    Show low level info about `key` and associated value.",
            "RELOAD [option ...]",
            "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
            "    * MERGE: conflicting keys will be loaded from RDB.",
            "    * NOFLUSH: the existing database will not be removed before load, but",
            "      conflicting keys will generate an exception and kill the server.",
            "    * NOSAVE: the database will be loaded from an existing RDB file.",
            "    Examples:",
            "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
            "      the database.",
            "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
            "      existing RDB file.",
            "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
            "      file to the database.",
            "SET-ACTIVE-EXPIRE <0|1>",
            "    Setting it to 0 disables expiring keys in background when they are not",
            "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
            "    default.",
            "SLEEP <seconds>",
            "    Stop the server for <seconds>. Decimals allowed.",
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(v: &[u8]) -> Entry {
        Entry::new(Value::Str(StrValue::from_bytes(v)))
    }

    #[test]
    fn digests_match_redis() {
        // From redis-server 7.0.15: SET k hello; SET n 123; DEBUG DIGEST-VALUE k n; DEBUG DIGEST.
        assert_eq!(hex(&value_digest(&entry(b"hello"))), "36b23a1456b2dce2c3ed252c456761301dba8060");
        assert_eq!(hex(&value_digest(&entry(b"123"))), "89f7f51b707418f666d5b45e053bd5bbbf82ac2b");
        let mut parts = Vec::new();
        for (k, v) in [(&b"k"[..], &b"hello"[..]), (b"n", b"123")] {
            let mut d = [0u8; 20];
            mix_digest(&mut d, k);
            object_digest(&mut d, &entry(v));
            let mut acc = [0u8; 20];
            xor_digest(&mut acc, &d);
            // One key per "shard": the combination must not depend on the split.
            parts.push(vec![(0, acc)]);
        }
        assert_eq!(hex(&combine_digests(&parts)), "2f656327f737ec33c360149b58539884505647be");
        assert_eq!(hex(&combine_digests(&[])), "0000000000000000000000000000000000000000");
    }

    #[test]
    fn aggregate_digests_match_redis() {
        use crate::store::types::{hash::HashValue, list::ListValue};
        use crate::store::CompactBytes;
        let b = |v: &str| CompactBytes::new(v.as_bytes());
        let digest = |v: Value| hex(&value_digest(&Entry::new(v)));
        // From redis-server 7.0.15: ZADD z 1.5 a 2 b 0.1 c; RPUSH l a 1 bb; SADD s 1 2 x;
        // HSET h f v g 12; then DEBUG DIGEST-VALUE of each.
        let zset = vec![(0.1, b("c")), (1.5, b("a")), (2.0, b("b"))];
        let lim = crate::store::types::zset::ListpackLimits { max_entries: 128, max_value_bytes: 64 };
        assert_eq!(digest(Value::ZSet(ZSetValue::from_sorted(zset, lim))), "2c385488a5eef8be43a6e3722a96af78cf880203");
        let mut list = ListValue::new(-2);
        for item in ["a", "1", "bb"] {
            list.push_back(item.as_bytes());
        }
        assert_eq!(digest(Value::List(Box::new(list))), "3e69a7772f4a0e2ac5ae9eb9043fe68db8295ad3");
        let set = SetValue::from_members([&b"1"[..], b"2", b"x"], 512);
        assert_eq!(digest(Value::Set(set)), "4c6eef6b7853d1b76391c849d71b0d35d3faf18f");
        let hash = HashValue::listpack_from_pairs([(&b"f"[..], &b"v"[..]), (b"g", b"12")]);
        assert_eq!(digest(Value::Hash(hash)), "8530acc75d5274eb0fc0da86f28ed5533274a6d4");
    }

    #[test]
    fn serialized_lengths_like_rdb() {
        assert_eq!(serialized_len(&entry(b"hello").value), 6);
        assert_eq!(serialized_len(&entry(b"123").value), 2);
        assert_eq!(serialized_len(&entry(b"1000").value), 3);
        assert_eq!(serialized_len(&entry(b"100000").value), 5);
        assert_eq!(serialized_len(&entry(b"10000000000").value), 12);
        assert_eq!(serialized_len(&entry(&[b'x'; 100]).value), 102);
    }

    #[test]
    fn c_number_parsing() {
        assert_eq!(atoi(b"1"), 1);
        assert_eq!(atoi(b" 12abc"), 12);
        assert_eq!(atoi(b"x"), 0);
        assert_eq!(atoi(b"-3"), -3);
        assert_eq!(sleep_duration(b"0.5"), std::time::Duration::from_millis(500));
        assert_eq!(sleep_duration(b"abc"), std::time::Duration::ZERO);
        assert_eq!(sleep_duration(b"-1"), std::time::Duration::ZERO);
        assert_eq!(sleep_duration(b"1e-2xyz"), std::time::Duration::from_millis(10));
        assert_eq!(sleep_duration(b"inf"), std::time::Duration::ZERO);
    }

    #[test]
    fn debug_gate() {
        assert!(debug_allowed(EnableFlag::Yes, "10.0.0.1:5000"));
        assert!(!debug_allowed(EnableFlag::No, "127.0.0.1:5000"));
        assert!(debug_allowed(EnableFlag::Local, "127.0.0.1:5000"));
        assert!(debug_allowed(EnableFlag::Local, "::1:5000"));
        assert!(debug_allowed(EnableFlag::Local, "[::1]:5000"));
        assert!(!debug_allowed(EnableFlag::Local, "10.0.0.1:5000"));
    }
}
