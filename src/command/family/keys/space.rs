//! Keyless commands that must see every shard's keyspace: DBSIZE, KEYS, RANDOMKEY, FLUSHDB,
//! FLUSHALL, SWAPDB (SCAN, which visits one shard at a time, is in `scan.rs`). Each runs on the
//! shard holding the client's connection and fans out through the shard handle (`call` /
//! `call_all`); the work done on each shard is a plain function over its `Store` (`*_shard`),
//! so it is unit-tested without any mesh.
//!
//! Never reaches another shard's state except through a handle call; never blocks the loop.

use std::rc::Rc;

use futures::FutureExt;

use crate::command::args::{eq_ic, parse_i64};
use crate::command::family::server;
use crate::command::spec::ConnResult;
use crate::error;
use crate::glob::glob_match;
use crate::resp::Out;
use crate::shard::handle::Handle;
use crate::shard::ShardState;
use crate::store::{Db, Store};

/// A reply computed on other shards, written once the connection's protocol is known.
pub(super) type Reply = Box<dyn FnOnce(&mut Out) + Send>;

/// The database selected by the client (0 if the client is gone, which the caller checked).
pub(super) fn client_db(st: &ShardState, ci: usize) -> usize {
    st.clients.get(ci).map_or(0, |c| c.db)
}

/// Wraps a reply built later into the connection's reply bytes.
pub(super) fn reply_later(resp3: bool, fut: impl std::future::Future<Output = Reply> + 'static) -> ConnResult {
    ConnResult::Later(
        async move {
            let write = fut.await;
            let mut buf = Vec::new();
            write(&mut Out::new(&mut buf, resp3));
            buf
        }
        .boxed_local(),
    )
}

// ---------------------------------------------------------------------------------------
// DBSIZE

pub fn dbsize(st: &mut ShardState, ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    let db = client_db(st, ci);
    if st.nshards == 1 {
        out.int(dbsize_shard(&st.store, db) as i64);
        return ConnResult::Done;
    }
    let h = st.handle.clone();
    reply_later(out.resp3, async move {
        let sizes = h.call_all(None, move |s: &mut ShardState| dbsize_shard(&s.store, db)).await;
        let total: usize = sizes.iter().sum();
        Box::new(move |o: &mut Out| o.int(total as i64)) as Reply
    })
}

/// Keys in `db` on one shard, expired-but-not-yet-collected ones included (as Redis's
/// `dictSize`).
pub fn dbsize_shard(store: &Store, db: usize) -> usize {
    store.dbs.get(db).map_or(0, Db::len)
}

// ---------------------------------------------------------------------------------------
// KEYS

pub fn keys(st: &mut ShardState, ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    let db = client_db(st, ci);
    let resp3 = out.resp3;
    let now = st.now_ms();
    if st.nshards == 1 {
        let (n, bulks) = keys_shard(&st.store, db, args[1], now, resp3);
        out.array(n);
        out.raw(&bulks);
        return ConnResult::Done;
    }
    let pattern = args[1].to_vec();
    let h = st.handle.clone();
    reply_later(resp3, async move {
        let parts = h
            .call_all(None, move |s: &mut ShardState| {
                let now = s.now_ms();
                let (n, bulks) = keys_shard(&s.store, db, &pattern, now, resp3);
                (n, crate::store::memory::Carried::vec(bulks))
            })
            .await
            .into_iter()
            .map(|(n, bulks)| (n, bulks.unpack()))
            .collect::<Vec<_>>();
        Box::new(move |o: &mut Out| {
            o.array(parts.iter().map(|p| p.0).sum());
            for (_, bulks) in &parts {
                o.raw(bulks);
            }
        }) as Reply
    })
}

/// The live keys of `db` on one shard matching `pattern`, already encoded as bulk strings
/// (one buffer instead of one allocation per key). Like Redis's KEYS, expired keys are
/// skipped but not deleted.
pub fn keys_shard(store: &Store, db: usize, pattern: &[u8], now_ms: u64, resp3: bool) -> (usize, Vec<u8>) {
    let mut buf = Vec::new();
    let mut n = 0;
    let Some(d) = store.dbs.get(db) else { return (0, buf) };
    let all = pattern == b"*";
    let mut out = Out::new(&mut buf, resp3);
    for slot in d.nonempty_slots() {
        let Some(table) = d.slot_table(slot) else { continue };
        for (k, e) in table.iter() {
            if !e.is_expired(now_ms) && (all || glob_match(pattern, k, false)) {
                out.bulk(k);
                n += 1;
            }
        }
    }
    (n, buf)
}

// ---------------------------------------------------------------------------------------
// ---------------------------------------------------------------------------------------
// RANDOMKEY

/// Random picks that may land on expired keys before the shard purges all due keys at once.
const RANDOM_PICKS_BEFORE_PURGE: usize = 8;

/// A random live key of `db` on one shard, and the shard's key count afterwards (the weight of
/// its answer). Expired keys met on the way are deleted, as Redis's `dbRandomKey` does.
pub fn random_key_shard(
    store: &mut Store,
    db: usize,
    now_ms: u64,
    rng: &mut impl rand::Rng,
) -> (usize, Option<Vec<u8>>) {
    let Some(d) = store.dbs.get_mut(db) else { return (0, None) };
    for _ in 0..RANDOM_PICKS_BEFORE_PURGE {
        let Some(k) = d.random_key(rng).map(|k| k.to_vec()) else { return (0, None) };
        if d.get(&k, now_ms).is_some() {
            return (d.len(), Some(k));
        }
    }
    // Mostly expired keys: collect every due key through the TTL index, then any pick is live.
    while d.expire_due(now_ms, usize::MAX).1 {}
    let k = d.random_key(rng).map(|k| k.to_vec());
    (d.len(), k)
}

/// Picks among shard answers with a weight proportional to each shard's key count, from a
/// random number drawn by the caller.
pub fn pick_weighted(parts: Vec<(usize, Option<Vec<u8>>)>, r: u64) -> Option<Vec<u8>> {
    let total: u64 = parts.iter().filter(|p| p.1.is_some()).map(|p| p.0 as u64).sum();
    if total == 0 {
        return None;
    }
    let mut x = r % total;
    for (n, k) in parts {
        if k.is_none() {
            continue;
        }
        if x < n as u64 {
            return k;
        }
        x -= n as u64;
    }
    None
}

pub fn randomkey(st: &mut ShardState, ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    let db = client_db(st, ci);
    if st.nshards == 1 {
        let now = st.now_ms();
        let (_, k) = random_key_shard(&mut st.store, db, now, &mut st.rng);
        out.bulk_or_null(k.as_deref());
        return ConnResult::Done;
    }
    let r: u64 = rand::Rng::gen(&mut st.rng);
    let h = st.handle.clone();
    reply_later(out.resp3, async move {
        let parts = h
            .call_all(None, move |s: &mut ShardState| {
                let now = s.now_ms();
                random_key_shard(&mut s.store, db, now, &mut s.rng)
            })
            .await;
        let k = pick_weighted(parts, r);
        Box::new(move |o: &mut Out| o.bulk_or_null(k.as_deref())) as Reply
    })
}

// ---------------------------------------------------------------------------------------
// FLUSHDB, FLUSHALL, SWAPDB

/// Runs `f` on every shard as one step: shards are frozen one by one in shard-id order (the
/// global order cross-shard transactions use, so none can wait on another in a cycle), then
/// each runs `f` and is released. No command sees some shards changed and others not.
pub(crate) async fn on_all_shards_atomically<R, F>(h: Rc<Handle>, f: F) -> Vec<R>
where
    R: Send + 'static,
    F: Fn(&mut ShardState) -> R + Send + Clone + 'static,
{
    // The shards' AOF parts are sealed between the step and the release; inside EXEC the
    // transaction is EXEC's, which seals them itself.
    let seal =
        h.ambient_tx().is_none() && crate::persist::aof::info::ENABLED.load(std::sync::atomic::Ordering::Relaxed);
    let tx = h.new_tx_id();
    for s in 0..h.nshards {
        h.call(s, Some(tx), move |st: &mut ShardState| {
            st.freeze(tx);
        })
        .await;
    }
    let futs: Vec<_> = (0..h.nshards)
        .map(|s| {
            let f = f.clone();
            h.call(s, Some(tx), move |st: &mut ShardState| {
                let r = f(st);
                if !seal {
                    st.release(tx);
                }
                r
            })
        })
        .collect();
    let out = futures::future::join_all(futs).await;
    if seal {
        let all: Vec<usize> = (0..h.nshards).collect();
        crate::shard::txn::seal_aof_parts(&h, tx, &all, None).await;
        let releases = (0..h.nshards).map(|s| h.call(s, Some(tx), move |st: &mut ShardState| st.release(tx)));
        futures::future::join_all(releases).await;
    }
    out
}

/// Redis's `getFlushCommandFlags`: nothing, SYNC or ASYNC (freeing is synchronous here either
/// way; the reply is the same).
fn parse_flush_flags(args: &[&[u8]]) -> Result<(), &'static str> {
    match args.len() {
        1 => Ok(()),
        2 if eq_ic(args[1], "sync") || eq_ic(args[1], "async") => Ok(()),
        _ => Err(error::SYNTAX),
    }
}

/// Empties `db` (or every db) on one shard; returns the keys removed and counts them as
/// changes, as Redis's `emptyData` does.
pub fn flush_shard(store: &mut Store, db: Option<usize>) -> usize {
    let mut removed = 0;
    for (i, d) in store.dbs.iter_mut().enumerate() {
        if db.is_none_or(|x| x == i) {
            removed += d.len();
            d.clear();
        }
    }
    store.dirty += removed as u64;
    removed
}

/// FLUSHALL / FLUSHDB in this shard's AOF.
fn log_flush(st: &mut ShardState, db: Option<usize>) {
    match db {
        None => st.aof_log(0, &[b"FLUSHALL"]),
        Some(d) => st.aof_log(d, &[b"FLUSHDB"]),
    }
}

fn flush(st: &mut ShardState, args: &[&[u8]], out: &mut Out, db: Option<usize>) -> ConnResult {
    if let Err(e) = parse_flush_flags(args) {
        out.error(e);
        return ConnResult::Done;
    }
    // FLUSHALL also cancels a running BGSAVE and, with save points, saves the empty dataset
    // (Redis's `flushAllDataAndResetRDB`), so a restart does not bring the keys back.
    let cancel = db.is_none() && server::cancel_running_bgsave();
    let save = db.is_none() && !st.cfg.save.is_empty();
    if st.nshards == 1 {
        st.touch_all_watched(db, None);
        if cancel {
            server::end_cancelled_bgsave_job(st);
        }
        flush_shard(&mut st.store, db);
        log_flush(st, db);
        if save {
            return server::save_after_flushall(st, out);
        }
        out.ok();
        return ConnResult::Done;
    }
    // Set up now, started when first polled: after every shard has flushed.
    let saving = if save {
        let mut ignored = Vec::new();
        match server::save_after_flushall(st, &mut Out::new(&mut ignored, out.resp3)) {
            ConnResult::Later(f) => Some(f),
            // No save could start: FLUSHALL answers OK all the same.
            ConnResult::Done | ConnResult::Close => None,
        }
    } else {
        None
    };
    let h = st.handle.clone();
    let resp3 = out.resp3;
    ConnResult::Later(
        async move {
            on_all_shards_atomically(h, move |s: &mut ShardState| {
                s.touch_all_watched(db, None);
                if cancel {
                    server::end_cancelled_bgsave_job(s);
                }
                let n = flush_shard(&mut s.store, db);
                log_flush(s, db);
                n
            })
            .await;
            if let Some(f) = saving {
                return f.await;
            }
            let mut buf = Vec::new();
            Out::new(&mut buf, resp3).ok();
            buf
        }
        .boxed_local(),
    )
}

pub fn flushdb(st: &mut ShardState, ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    let db = client_db(st, ci);
    flush(st, args, out, Some(db))
}

pub fn flushall(st: &mut ShardState, _ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    flush(st, args, out, None)
}

/// A SWAPDB index: `getIntFromObjectOrReply` with Redis's custom message.
fn parse_swap_index(b: &[u8], msg: &'static str) -> Result<i64, &'static str> {
    match parse_i64(b) {
        Ok(n) if (i32::MIN as i64..=i32::MAX as i64).contains(&n) => Ok(n),
        _ => Err(msg),
    }
}

/// Checks SWAPDB's arguments in Redis's order; returns the two db indexes.
pub fn parse_swapdb(args: &[&[u8]], cluster: bool, databases: usize) -> Result<(usize, usize), &'static str> {
    if cluster {
        return Err("ERR SWAPDB is not allowed in cluster mode");
    }
    let a = parse_swap_index(args[1], "ERR invalid first DB index")?;
    let b = parse_swap_index(args[2], "ERR invalid second DB index")?;
    let ok = |n: i64| n >= 0 && (n as usize) < databases;
    if !ok(a) || !ok(b) {
        return Err(error::DB_INDEX_OUT_OF_RANGE);
    }
    Ok((a as usize, b as usize))
}

pub fn swapdb_shard(store: &mut Store, a: usize, b: usize) {
    if a != b && a < store.dbs.len() && b < store.dbs.len() {
        store.dbs.swap(a, b);
    }
}

fn log_swapdb(st: &mut ShardState, a: usize, b: usize) {
    let (a, b) = (a.to_string(), b.to_string());
    let db = st.aof.as_ref().and_then(|x| x.sel_db).unwrap_or(0);
    st.aof_log(db, &[b"SWAPDB", a.as_bytes(), b.as_bytes()]);
}

pub fn swapdb(st: &mut ShardState, _ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    let (a, b) = match parse_swapdb(args, st.cluster.enabled, st.store.dbs.len()) {
        Ok(x) => x,
        Err(e) => {
            out.error(e);
            return ConnResult::Done;
        }
    };
    // One change, even when a == b (Redis's dirty++ after a successful swap).
    st.store.dirty += 1;
    if st.nshards == 1 || a == b {
        st.touch_all_watched(Some(a), Some(b));
        st.touch_all_watched(Some(b), Some(a));
        swapdb_shard(&mut st.store, a, b);
        log_swapdb(st, a, b);
        out.ok();
        return ConnResult::Done;
    }
    let h = st.handle.clone();
    reply_later(out.resp3, async move {
        on_all_shards_atomically(h, move |s: &mut ShardState| {
            s.touch_all_watched(Some(a), Some(b));
            s.touch_all_watched(Some(b), Some(a));
            swapdb_shard(&mut s.store, a, b);
            log_swapdb(s, a, b);
        })
        .await;
        Box::new(|o: &mut Out| o.ok()) as Reply
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Entry, StrValue, Value};

    const NOW: u64 = 1_700_000_000_000;

    fn put(store: &mut Store, db: usize, key: &[u8], deadline_ms: u64) {
        let mut e = Entry::new(Value::Str(StrValue::from_bytes(b"v")));
        e.expire_at_ms = deadline_ms;
        store.dbs[db].insert(key, e);
    }

    #[test]
    fn keys_skips_expired_without_deleting() {
        let mut store = Store::new(16);
        put(&mut store, 0, b"foo", 0);
        put(&mut store, 0, b"foobar", NOW);
        put(&mut store, 0, b"bar", 0);
        put(&mut store, 1, b"fox", 0);
        let (n, bulks) = keys_shard(&store, 0, b"fo*", NOW, false);
        assert_eq!((n, bulks.as_slice()), (1, &b"$3\r\nfoo\r\n"[..]));
        assert_eq!(keys_shard(&store, 0, b"*", NOW, false).0, 2);
        assert_eq!(keys_shard(&store, 0, b"*", NOW - 1, false).0, 3);
        assert_eq!(keys_shard(&store, 99, b"*", NOW, false).0, 0);
        assert_eq!(store.dbs[0].len(), 3);
        assert_eq!(dbsize_shard(&store, 0), 3);
        assert_eq!(dbsize_shard(&store, 1), 1);
        assert_eq!(dbsize_shard(&store, 99), 0);
    }

    #[test]
    fn random_key_is_live_and_weighted() {
        let mut rng = <rand::rngs::SmallRng as rand::SeedableRng>::seed_from_u64(1);
        let mut store = Store::new(16);
        assert_eq!(random_key_shard(&mut store, 0, NOW, &mut rng), (0, None));
        for i in 0..200 {
            put(&mut store, 0, format!("dead{i}").as_bytes(), NOW - 1);
        }
        put(&mut store, 0, b"live", 0);
        let (n, k) = random_key_shard(&mut store, 0, NOW, &mut rng);
        assert_eq!(k.as_deref(), Some(&b"live"[..]));
        assert_eq!(n, 1);
        assert_eq!(store.dbs[0].expired_keys, 200);
        for i in 0..10 {
            put(&mut store, 0, format!("dead{i}").as_bytes(), NOW - 1);
        }
        let (n, k) = random_key_shard(&mut store, 0, NOW, &mut rng);
        assert!(k.is_some());
        assert!(n >= 1);
        let parts = vec![(3, Some(b"a".to_vec())), (0, None), (1, Some(b"b".to_vec()))];
        assert_eq!(pick_weighted(parts.clone(), 0).as_deref(), Some(&b"a"[..]));
        assert_eq!(pick_weighted(parts.clone(), 2).as_deref(), Some(&b"a"[..]));
        assert_eq!(pick_weighted(parts.clone(), 3).as_deref(), Some(&b"b"[..]));
        assert_eq!(pick_weighted(parts, 4).as_deref(), Some(&b"a"[..]));
        assert_eq!(pick_weighted(vec![(0, None), (0, None)], 9), None);
    }

    #[test]
    fn flush_and_swap() {
        let mut store = Store::new(16);
        put(&mut store, 0, b"a", 0);
        put(&mut store, 0, b"b", NOW + 10);
        put(&mut store, 1, b"c", 0);
        swapdb_shard(&mut store, 0, 1);
        assert_eq!((store.dbs[0].len(), store.dbs[1].len()), (1, 2));
        assert_eq!(store.dbs[1].expires_len(), 1);
        swapdb_shard(&mut store, 0, 99);
        assert_eq!(flush_shard(&mut store, Some(1)), 2);
        assert_eq!(store.dirty, 2);
        assert_eq!(store.dbs[1].expires_len(), 0);
        assert_eq!(store.dbs[0].len(), 1);
        put(&mut store, 5, b"d", 0);
        assert_eq!(flush_shard(&mut store, None), 2);
        assert!(store.dbs.iter().all(|d| d.is_empty()));
        let argv = |v: &[&'static str]| v.iter().map(|s| s.as_bytes()).collect::<Vec<&[u8]>>();
        assert_eq!(parse_flush_flags(&argv(&["flushall"])), Ok(()));
        assert_eq!(parse_flush_flags(&argv(&["flushall", "ASYNC"])), Ok(()));
        assert_eq!(parse_flush_flags(&argv(&["flushall", "sync"])), Ok(()));
        assert_eq!(parse_flush_flags(&argv(&["flushall", "x"])), Err(error::SYNTAX));
        assert_eq!(parse_flush_flags(&argv(&["flushall", "sync", "async"])), Err(error::SYNTAX));
        assert_eq!(parse_swapdb(&argv(&["swapdb", "0", "1"]), false, 16), Ok((0, 1)));
        assert_eq!(parse_swapdb(&argv(&["swapdb", "a", "b"]), false, 16), Err("ERR invalid first DB index"));
        assert_eq!(parse_swapdb(&argv(&["swapdb", "0", "b"]), false, 16), Err("ERR invalid second DB index"));
        assert_eq!(parse_swapdb(&argv(&["swapdb", "0", "16"]), false, 16), Err(error::DB_INDEX_OUT_OF_RANGE));
        assert_eq!(parse_swapdb(&argv(&["swapdb", "-1", "0"]), false, 16), Err(error::DB_INDEX_OUT_OF_RANGE));
        assert_eq!(parse_swapdb(&argv(&["swapdb", "0", "4294967296"]), false, 16), Err("ERR invalid second DB index"));
        assert_eq!(
            parse_swapdb(&argv(&["swapdb", "0", "1"]), true, 16),
            Err("ERR SWAPDB is not allowed in cluster mode")
        );
    }
}
