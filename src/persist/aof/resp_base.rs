//! An AOF base written as RESP commands (`aof-use-rdb-preamble no`), laid out as Redis 7.0's
//! `rewriteAppendOnlyFileRio` lays it out, so redis-server loads it and `redis-check-aof`
//! accepts it:
//! - `SELECT db` before a database's keys;
//! - per key the commands that rebuild it: SET for strings (HyperLogLogs included), RPUSH,
//!   SADD, ZADD (scores as `%.17g`), HMSET, at most `ITEMS_PER_CMD` elements (pairs) each;
//! - streams: XADD per entry (`XADD key MAXLEN 0 0-1 x y` for an empty one), XSETID with
//!   ENTRIESADDED and MAXDELETEDID, then per group XGROUP CREATE ... ENTRIESREAD, and per
//!   consumer either XGROUP CREATECONSUMER (nothing pending) or one
//!   `XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n JUSTID FORCE` per pending entry, which
//!   restores its delivery time and count;
//! - `PEXPIREAT key ms` after a key with a TTL.
//!
//! Loading replays these commands (`replay::load_base`). Writes into a `Vec<u8>`; never fails.

use crate::store::keyspace::{Entry, NO_EXPIRE};
use crate::store::types::stream::{EntryRef, StreamId, StreamValue};
use crate::store::types::zset::ZSetValue;
use crate::store::value::{StrValue, Value};

/// Redis's `AOF_REWRITE_ITEMS_PER_CMD`: elements (or pairs) per rebuilding command.
pub const ITEMS_PER_CMD: usize = 64;

pub(crate) fn put_count(out: &mut Vec<u8>, n: usize) {
    out.push(b'*');
    out.extend_from_slice(n.to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
}

pub(crate) fn put_bulk(out: &mut Vec<u8>, b: &[u8]) {
    out.push(b'$');
    out.extend_from_slice(b.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
}

fn put_int(out: &mut Vec<u8>, n: i64) {
    let mut tmp = [0u8; 24];
    put_bulk(out, crate::resp::write::fmt_i64(&mut tmp, n));
}

fn put_id(out: &mut Vec<u8>, id: StreamId) {
    put_bulk(out, id.to_string().as_bytes());
}

/// `SELECT db`.
pub fn put_select(out: &mut Vec<u8>, db: usize) {
    put_count(out, 2);
    put_bulk(out, b"SELECT");
    put_bulk(out, db.to_string().as_bytes());
}

/// The commands that rebuild `key` (and its TTL).
pub fn put_entry(out: &mut Vec<u8>, key: &[u8], e: &Entry) {
    put_value(out, key, &e.value);
    put_expire(out, key, e.expire_at_ms);
}

/// PEXPIREAT for a key with a deadline; nothing for one without.
pub fn put_expire(out: &mut Vec<u8>, key: &[u8], expire_at_ms: u64) {
    if expire_at_ms != NO_EXPIRE {
        put_count(out, 3);
        put_bulk(out, b"PEXPIREAT");
        put_bulk(out, key);
        put_int(out, expire_at_ms as i64);
    }
}

/// Before item `index` (0-based) of `total` written by `cmd key item...` commands of at most
/// `ITEMS_PER_CMD` items: the next command's head when `index` starts one. The batches are
/// those `put_batched` makes, so a value written a slice at a time reads the same.
pub fn put_batch_head(out: &mut Vec<u8>, cmd: &[u8], key: &[u8], total: usize, args_per_item: usize, index: usize) {
    if index.is_multiple_of(ITEMS_PER_CMD) {
        put_count(out, 2 + (total - index).min(ITEMS_PER_CMD) * args_per_item);
        put_bulk(out, cmd);
        put_bulk(out, key);
    }
}

/// Writes `items` (`total` of them, each `args_per_item` arguments written by `put_item`) as
/// `cmd key item...` commands of at most `ITEMS_PER_CMD` items each.
fn put_batched<T>(
    out: &mut Vec<u8>,
    cmd: &[u8],
    key: &[u8],
    total: usize,
    args_per_item: usize,
    items: impl Iterator<Item = T>,
    mut put_item: impl FnMut(&mut Vec<u8>, T),
) {
    // Never more items than announced: a count that does not match would corrupt the file.
    for (index, item) in items.take(total).enumerate() {
        put_batch_head(out, cmd, key, total, args_per_item, index);
        put_item(out, item);
    }
}

fn put_value(out: &mut Vec<u8>, key: &[u8], v: &Value) {
    let mut tmp = [0u8; 24];
    match v {
        Value::Str(s) => {
            put_count(out, 3);
            put_bulk(out, b"SET");
            put_bulk(out, key);
            match s {
                StrValue::Int(n) => put_int(out, *n),
                StrValue::Bytes { data, .. } => put_bulk(out, data.as_slice()),
            }
        }
        Value::List(l) => put_batched(out, b"RPUSH", key, l.len(), 1, l.iter(), put_bulk),
        Value::Set(s) => put_batched(out, b"SADD", key, s.len(), 1, s.iter(), |o, m| put_bulk(o, m.as_bytes(&mut tmp))),
        Value::ZSet(z) => {
            // Listpacks in order, as Redis writes them; skiplists highest first, as in RDB
            // files (Redis walks its dict here): loading then inserts each member at the head.
            let from_top = matches!(z, ZSetValue::Skiplist(_));
            let members = z.iter_from(if from_top { z.len().saturating_sub(1) } else { 0 }, from_top);
            put_batched(out, b"ZADD", key, z.len(), 2, members, |o, (m, score)| {
                put_bulk(o, crate::resp::write::fmt_score(score).as_bytes());
                put_bulk(o, m);
            })
        }
        Value::Hash(h) => put_batched(out, b"HMSET", key, h.len(), 2, h.iter(), |o, (f, x)| {
            put_bulk(o, f);
            put_bulk(o, x);
        }),
        Value::Stream(s) => put_stream(out, key, s),
    }
}

fn put_stream(out: &mut Vec<u8>, key: &[u8], s: &StreamValue) {
    if s.is_empty() {
        // XADD refuses 0-0; trimming to nothing at once leaves an empty stream, and the
        // XSETID below puts its IDs and counters back.
        put_count(out, 7);
        for a in [&b"XADD"[..], key, b"MAXLEN", b"0", b"0-1", b"x", b"y"] {
            put_bulk(out, a);
        }
    } else {
        for entry in s.entries() {
            put_stream_entry(out, key, &entry);
        }
    }
    put_stream_tail(out, key, s);
}

/// One stream entry as `XADD key id field value ...`.
pub fn put_stream_entry(out: &mut Vec<u8>, key: &[u8], entry: &EntryRef<'_>) {
    let mut tmp = [0u8; 24];
    put_count(out, 3 + 2 * entry.field_count());
    put_bulk(out, b"XADD");
    put_bulk(out, key);
    put_id(out, entry.id);
    for (f, v) in entry.fields() {
        put_bulk(out, f.as_bytes(&mut tmp));
        put_bulk(out, v.as_bytes(&mut tmp));
    }
}

/// What follows a stream's entries: XSETID with its counters, then its groups and consumers.
pub fn put_stream_tail(out: &mut Vec<u8>, key: &[u8], s: &StreamValue) {
    put_count(out, 7);
    put_bulk(out, b"XSETID");
    put_bulk(out, key);
    put_id(out, s.last_id());
    put_bulk(out, b"ENTRIESADDED");
    put_int(out, s.entries_added() as i64);
    put_bulk(out, b"MAXDELETEDID");
    put_id(out, s.max_deleted_entry_id());
    for (group, g) in s.groups() {
        put_count(out, 7);
        for a in [&b"XGROUP"[..], b"CREATE", key, group] {
            put_bulk(out, a);
        }
        put_id(out, g.last_id);
        put_bulk(out, b"ENTRIESREAD");
        put_int(out, g.entries_read);
        for (consumer, c) in g.consumers() {
            if c.pending().is_empty() {
                put_count(out, 5);
                for a in [&b"XGROUP"[..], b"CREATECONSUMER", key, group, consumer] {
                    put_bulk(out, a);
                }
                continue;
            }
            for id in c.pending() {
                // The group's PEL holds the delivery data; a consumer's list only names IDs.
                let Some(p) = g.pel().get(id) else { continue };
                put_count(out, 12);
                for a in [&b"XCLAIM"[..], key, group, consumer, b"0"] {
                    put_bulk(out, a);
                }
                put_id(out, *id);
                put_bulk(out, b"TIME");
                put_int(out, p.delivery_time_ms);
                put_bulk(out, b"RETRYCOUNT");
                put_int(out, p.delivery_count as i64);
                put_bulk(out, b"JUSTID");
                put_bulk(out, b"FORCE");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::persist::aof::replay::replay_incr;
    use crate::store::Store;
    use std::path::Path;

    /// Splits RESP commands back into argument lists; panics on anything malformed.
    fn parse(mut b: &[u8]) -> Vec<Vec<Vec<u8>>> {
        fn line(b: &mut &[u8], prefix: u8) -> usize {
            assert_eq!(b.first(), Some(&prefix), "{}", String::from_utf8_lossy(b));
            let end = b.windows(2).position(|w| w == b"\r\n").expect("CRLF");
            let n = std::str::from_utf8(&b[1..end]).expect("digits").parse().expect("number");
            *b = &b[end + 2..];
            n
        }
        let mut cmds = Vec::new();
        while !b.is_empty() {
            let n = line(&mut b, b'*');
            let mut args = Vec::new();
            for _ in 0..n {
                let len = line(&mut b, b'$');
                args.push(b[..len].to_vec());
                assert_eq!(&b[len..len + 2], b"\r\n");
                b = &b[len + 2..];
            }
            cmds.push(args);
        }
        cmds
    }

    fn script(cmds: &[&[&str]]) -> Vec<u8> {
        let mut b = Vec::new();
        for c in cmds {
            put_count(&mut b, c.len());
            for a in *c {
                put_bulk(&mut b, a.as_bytes());
            }
        }
        b
    }

    fn load(store: &mut Store, bytes: &[u8]) {
        let cfg = Config::default();
        replay_incr(Path::new("base"), bytes, false, &cfg, store, &mut 0).expect("replays");
    }

    /// The whole store as a RESP base: SELECT, then every key.
    fn base_of(store: &Store) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, db) in store.dbs.iter().enumerate() {
            if db.is_empty() {
                continue;
            }
            put_select(&mut out, i);
            for slot in db.nonempty_slots() {
                for (k, e) in db.slot_table(slot).expect("non-empty").iter() {
                    put_entry(&mut out, k, e);
                }
            }
        }
        out
    }

    /// Everything a key holds, in an order that does not depend on how it was built
    /// (consumers' seen times excepted: a reload sets them to its own time, as Redis's does).
    fn canon(e: &Entry) -> String {
        let mut tmp = [0u8; 24];
        let v = match &e.value {
            Value::Str(s) => format!("str {:?}", s.as_bytes(&mut tmp)),
            Value::List(l) => format!("list {:?}", l.iter().collect::<Vec<_>>()),
            Value::Set(s) => {
                let mut m: Vec<Vec<u8>> = s.iter().map(|m| m.as_bytes(&mut tmp).to_vec()).collect();
                m.sort();
                format!("set {m:?}")
            }
            Value::ZSet(z) => format!("zset {:?}", z.iter().collect::<Vec<_>>()),
            Value::Hash(h) => {
                let mut p: Vec<_> = h.iter().collect();
                p.sort();
                format!("hash {p:?}")
            }
            Value::Stream(s) => {
                let entries: Vec<String> = s
                    .entries()
                    .map(|en| {
                        format!(
                            "{} {:?}",
                            en.id,
                            en.fields().map(|(f, v)| (f.to_vec(), v.to_vec())).collect::<Vec<_>>()
                        )
                    })
                    .collect();
                let groups: Vec<String> = s
                    .groups()
                    .iter()
                    .map(|(name, g)| {
                        let pel: Vec<String> = g
                            .pel()
                            .iter()
                            .map(|(id, p)| format!("{id}:{:?}:{}:{}", p.consumer, p.delivery_time_ms, p.delivery_count))
                            .collect();
                        let consumers: Vec<String> =
                            g.consumers().iter().map(|(n, c)| format!("{n:?}={:?}", c.pending())).collect();
                        format!("{name:?} {} {} {pel:?} {consumers:?}", g.last_id, g.entries_read)
                    })
                    .collect();
                format!(
                    "stream {entries:?} last {} added {} maxdel {} first {} {groups:?}",
                    s.last_id(),
                    s.entries_added(),
                    s.max_deleted_entry_id(),
                    s.first_id()
                )
            }
        };
        format!("{v} ttl {}", e.expire_at_ms)
    }

    fn canon_store(store: &Store) -> Vec<(usize, Vec<u8>, String)> {
        let mut all = Vec::new();
        for (i, db) in store.dbs.iter().enumerate() {
            for slot in db.nonempty_slots() {
                for (k, e) in db.slot_table(slot).expect("non-empty").iter() {
                    all.push((i, k.to_vec(), canon(e)));
                }
            }
        }
        all.sort();
        all
    }

    #[test]
    fn collections_go_in_commands_of_at_most_64_items() {
        let mut store = Store::new(16);
        let mut cmds: Vec<Vec<String>> = Vec::new();
        let mut l = vec!["RPUSH".to_string(), "l".into()];
        l.extend((0..130).map(|i| format!("e{i}")));
        cmds.push(l);
        let mut h = vec!["HSET".to_string(), "h".into()];
        h.extend((0..65).flat_map(|i| [format!("f{i}"), format!("v{i}")]));
        cmds.push(h);
        let mut z = vec!["ZADD".to_string(), "z".into()];
        z.extend((0..64).flat_map(|i| [format!("{}", i as f64 / 3.0), format!("m{i}")]));
        cmds.push(z);
        let mut s = vec!["SADD".to_string(), "s".into()];
        s.extend((0..200).map(|i| i.to_string()));
        cmds.push(s);
        let refs: Vec<Vec<&str>> = cmds.iter().map(|c| c.iter().map(String::as_str).collect()).collect();
        let slices: Vec<&[&str]> = refs.iter().map(Vec::as_slice).collect();
        load(&mut store, &script(&slices));
        let mut counts = std::collections::BTreeMap::<Vec<u8>, Vec<usize>>::new();
        for c in parse(&base_of(&store)) {
            assert!(c.len() <= 2 + 2 * ITEMS_PER_CMD, "{} arguments", c.len());
            if c[0] != b"SELECT" {
                counts.entry(c[0].clone()).or_default().push(c.len() - 2);
            }
        }
        assert_eq!(counts[&b"RPUSH".to_vec()], vec![64, 64, 2]);
        assert_eq!(counts[&b"HMSET".to_vec()], vec![128, 2], "pairs: 64 then 1");
        assert_eq!(counts[&b"ZADD".to_vec()], vec![128], "exactly 64 pairs fit one command");
        assert_eq!(counts[&b"SADD".to_vec()], vec![64, 64, 64, 8]);
    }

    #[test]
    fn scores_ttls_and_integers_are_written_as_redis_writes_them() {
        let mut store = Store::new(16);
        load(
            &mut store,
            &script(&[
                &["ZADD", "z", "0.1", "a", "-inf", "b", "inf", "c", "1e+300", "d", "3", "e"],
                &["SET", "n", "-42"],
                &["PEXPIREAT", "n", "99999999999999"],
            ]),
        );
        let cmds = parse(&base_of(&store));
        let zadd = cmds.iter().find(|c| c[0] == b"ZADD").expect("ZADD");
        let args: Vec<&str> = zadd.iter().map(|a| std::str::from_utf8(a).expect("utf8")).collect();
        assert_eq!(
            args[2..],
            ["-inf", "b", "0.10000000000000001", "a", "3", "e", "1.0000000000000001e+300", "d", "inf", "c"]
        );
        let set = cmds.iter().position(|c| c[0] == b"SET").expect("SET");
        assert_eq!(cmds[set], vec![b"SET".to_vec(), b"n".to_vec(), b"-42".to_vec()]);
        assert_eq!(
            cmds[set + 1],
            vec![b"PEXPIREAT".to_vec(), b"n".to_vec(), b"99999999999999".to_vec()],
            "TTL right after"
        );
    }

    #[test]
    fn every_type_round_trips_through_replay() {
        let mut store = Store::new(16);
        let mut big = vec!["RPUSH", "list"];
        let elems: Vec<String> = (0..300).map(|i| format!("x{i}")).collect();
        big.extend(elems.iter().map(String::as_str));
        load(
            &mut store,
            &script(&[
                &["SET", "s", "v"],
                &["SET", "i", "12345"],
                &["PFADD", "hll", "a", "b", "c"],
                &big,
                &["SADD", "set", "a", "b", "1"],
                &["SADD", "iset", "1", "2", "3"],
                &["ZADD", "z", "1.5", "a", "-2", "b"],
                &["HSET", "h", "f", "v", "g", "w"],
                &["PEXPIREAT", "h", "99999999999999"],
                &["SELECT", "3"],
                &["SET", "other-db", "1"],
                &["XADD", "st", "1-1", "a", "1", "b", "2"],
                &["XADD", "st", "2-0", "c", "3"],
                &["XADD", "st", "3-0", "a", "1", "b", "2"],
                &["XADD", "st", "4-0", "a", "1"],
                &["XDEL", "st", "2-0"],
                &["XGROUP", "CREATE", "st", "g1", "0", "ENTRIESREAD", "0"],
                &["XGROUP", "CREATE", "st", "g2", "$"],
                &["XGROUP", "CREATE", "st", "g3", "0", "ENTRIESREAD", "-1"],
                &["XGROUP", "CREATECONSUMER", "st", "g1", "idle"],
                &["XGROUP", "CREATECONSUMER", "st", "g1", "alice"],
                &["XGROUP", "CREATECONSUMER", "st", "g1", "bob"],
                &["XGROUP", "SETID", "st", "g1", "3-0", "ENTRIESREAD", "2"],
                &["XADD", "empty", "MAXLEN", "0", "7-7", "a", "b"],
                &["XADD", "gone", "5-0", "a", "b"],
                &["XDEL", "gone", "5-0"],
                &["XGROUP", "CREATE", "gone", "g", "$"],
            ]),
        );
        // Pending entries with their own delivery times and counts.
        let Some(Value::Stream(st)) = store.dbs[3].get(b"st", 0).map(|e| &mut e.value) else { panic!("stream") };
        let g = st.group_mut(b"g1").expect("g1");
        g.deliver(StreamId { ms: 1, seq: 1 }, b"alice", 1_000);
        g.deliver(StreamId { ms: 3, seq: 0 }, b"bob", 2_000);
        g.redeliver(StreamId { ms: 3, seq: 0 }, 3_000);
        g.redeliver(StreamId { ms: 3, seq: 0 }, 4_000);
        let before = canon_store(&store);
        let base = base_of(&store);
        let cmds = parse(&base);
        let claims: Vec<&Vec<Vec<u8>>> = cmds.iter().filter(|c| c[0] == b"XCLAIM").collect();
        assert_eq!(claims.len(), 2);
        let bob = std::str::from_utf8(&claims[1].concat()).expect("utf8").to_owned();
        assert_eq!(bob, "XCLAIMstg1bob03-0TIME4000RETRYCOUNT3JUSTIDFORCE");
        assert!(cmds.iter().any(|c| c[..2] == [b"XADD".to_vec(), b"empty".to_vec()] && c[2] == b"MAXLEN"));
        let mut again = Store::new(16);
        load(&mut again, &base);
        assert_eq!(before, canon_store(&again));
        // Written again from the reloaded store, the base is the same size (order may differ).
        assert_eq!(base_of(&again).len(), base.len());
    }
}
