//! SCAN: a cursor over the keyspace of every shard, stable however the tables grow. Runs on the
//! shard holding the client's connection, visits this shard inline and others through one
//! handle call each; the per-shard step (`scan_shard`) is a plain function over a `Store`.
//!
//! ## Cursors
//! The keyspace is one table per slot, and slot `s` lives on shard `s % nshards`. A scan visits
//! slots in a fixed shard-major order: all slots of shard 0 in increasing order, then those of
//! shard 1, and so on. The cursor names the next slot to visit:
//!
//! ```text
//! cursor = shard * 16384 + slot        (0 = shard 0, slot 0 = the start)
//! ```
//!
//! One SCAN call returns whole slots from the cursor on, on one shard and then the next ones,
//! until it has examined at least COUNT keys; the reply cursor is the slot after the last one
//! visited, or 0 once every shard is done. Since slots are returned whole and slot tables never
//! move between shards, every key present for the whole scan is returned at least once (and,
//! unless it was deleted and written again, exactly once), however the tables grow. A cursor
//! past the last shard ends the scan (Redis answers a nonsense cursor the same way: "0").

use crate::command::args::{eq_ic, parse_i64};
use crate::command::spec::ConnResult;
use crate::error;
use crate::glob::glob_match;
use crate::limits::SLOT_COUNT;
use crate::resp::Out;
use crate::shard::ShardState;
use crate::store::Store;

use super::space::{client_db, reply_later, Reply};
use crate::store::memory::{self, Carried};

/// Parsed SCAN arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanArgs {
    pub cursor: u64,
    pub count: usize,
    /// None for no pattern or `*`.
    pub pattern: Option<Vec<u8>>,
    pub type_name: Option<Vec<u8>>,
}

pub use crate::command::args::parse_scan_cursor;

/// Redis's `scanGenericCommand` option parsing, in its order (the cursor first).
pub fn parse_scan_args(args: &[&[u8]]) -> Result<ScanArgs, &'static str> {
    let cursor = parse_scan_cursor(args[1]).ok_or("ERR invalid cursor")?;
    let mut a = ScanArgs { cursor, count: 10, pattern: None, type_name: None };
    let mut i = 2;
    while i < args.len() {
        let more = i + 1 < args.len();
        if eq_ic(args[i], "count") && more {
            let n = parse_i64(args[i + 1])?;
            if n < 1 {
                return Err(error::SYNTAX);
            }
            a.count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if eq_ic(args[i], "match") && more {
            let p = args[i + 1];
            a.pattern = if p == b"*" { None } else { Some(p.to_vec()) };
        } else if eq_ic(args[i], "type") && more {
            a.type_name = Some(args[i + 1].to_vec());
        } else {
            return Err(error::SYNTAX);
        }
        i += 2;
    }
    Ok(a)
}

/// One shard's answer to a SCAN step.
#[derive(Debug, Default)]
pub struct ScanPart {
    pub keys: Vec<Vec<u8>>,
    /// Keys looked at, before MATCH and TYPE filtering (what COUNT bounds).
    pub examined: usize,
    /// The next slot of this shard to visit, or None when the shard is done.
    pub next_slot: Option<u16>,
}

/// Where a SCAN step starts: the shard, the node's shard count, and the first slot to visit
/// (the shard's first owned slot at or after it).
#[derive(Clone, Copy, Debug)]
pub struct ScanPos {
    pub shard: usize,
    pub nshards: usize,
    pub slot: usize,
}

/// The first slot owned by `shard` at or after `from`.
fn first_owned_slot(from: usize, shard: usize, nshards: usize) -> usize {
    let rem = from % nshards;
    from + (shard + nshards - rem) % nshards
}

/// Visits whole slots of `db` on shard `shard` from slot `from_slot` until `count` keys were
/// examined or the shard's last slot was visited. MATCH, TYPE and expiry are applied in
/// Redis's order: a key that fails MATCH is left alone; a key examined for TYPE counts as a
/// keyspace hit or miss; an expired key is deleted (counted in `expired_keys`) and skipped.
pub fn scan_shard(store: &mut Store, db: usize, at: ScanPos, count: usize, a: &ScanArgs, now_ms: u64) -> ScanPart {
    let mut part = ScanPart::default();
    let Some(d) = store.dbs.get_mut(db) else { return part };
    let nshards = at.nshards;
    let mut slot = first_owned_slot(at.slot, at.shard, nshards);
    // Candidates of one slot: (key, expired, type name), collected before any deletion.
    let mut cands: Vec<(Vec<u8>, bool, &'static str)> = Vec::new();
    let (mut hits, mut misses) = (0u64, 0u64);
    while slot < SLOT_COUNT {
        cands.clear();
        if let Some(table) = d.slot_table(slot as u16) {
            for (k, e) in table.iter() {
                part.examined += 1;
                if a.pattern.as_deref().is_some_and(|p| !glob_match(p, k, false)) {
                    continue;
                }
                cands.push((k.to_vec(), e.is_expired(now_ms), e.value.type_name()));
            }
        }
        for (k, expired, type_name) in cands.drain(..) {
            if expired {
                if a.type_name.is_some() {
                    misses += 1;
                }
                // Deletes it and counts it as expired.
                let gone = d.get(&k, now_ms).is_none();
                debug_assert!(gone, "an expired key was found live");
                continue;
            }
            if let Some(t) = &a.type_name {
                hits += 1;
                if !t.eq_ignore_ascii_case(type_name.as_bytes()) {
                    continue;
                }
            }
            part.keys.push(k);
        }
        slot += nshards;
        if part.examined >= count {
            break;
        }
    }
    part.next_slot = (slot < SLOT_COUNT).then_some(slot as u16);
    store.keyspace_hits += hits;
    store.keyspace_misses += misses;
    part
}

/// Where a scan stands: the shard and slot to visit next, or the end.
fn decode_cursor(cursor: u64, nshards: usize) -> Option<(usize, usize)> {
    let shard = usize::try_from(cursor / SLOT_COUNT as u64).ok()?;
    (shard < nshards).then_some((shard, (cursor % SLOT_COUNT as u64) as usize))
}

fn encode_cursor(shard: usize, slot: usize) -> u64 {
    (shard * SLOT_COUNT + slot) as u64
}

/// Folds one shard's part into the running answer; returns the cursor when the call is over.
fn scan_step(
    keys: &mut Vec<Vec<u8>>,
    examined: &mut usize,
    count: usize,
    shard: usize,
    nshards: usize,
    part: ScanPart,
) -> Option<u64> {
    keys.extend(part.keys);
    *examined += part.examined;
    match part.next_slot {
        Some(s) => Some(encode_cursor(shard, s as usize)),
        None if shard + 1 >= nshards => Some(0),
        None if *examined >= count => Some(encode_cursor(shard + 1, 0)),
        None => None,
    }
}

fn write_scan_reply(out: &mut Out, cursor: u64, keys: &[Vec<u8>]) {
    out.array(2);
    out.bulk(cursor.to_string().as_bytes());
    out.array(keys.len());
    for k in keys {
        out.bulk(k);
    }
}

pub fn scan(st: &mut ShardState, ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    let a = match parse_scan_args(args) {
        Ok(a) => a,
        Err(e) => {
            out.error(e);
            return ConnResult::Done;
        }
    };
    let db = client_db(st, ci);
    let nshards = st.nshards;
    let Some((mut shard, mut slot)) = decode_cursor(a.cursor, nshards) else {
        write_scan_reply(out, 0, &[]);
        return ConnResult::Done;
    };
    let mut keys = Vec::new();
    let mut examined = 0;
    // Steps on this shard run inline; the first step on another shard goes through the mesh.
    while shard == st.id {
        let now = st.now_ms();
        let part = scan_shard(&mut st.store, db, ScanPos { shard, nshards, slot }, a.count - examined, &a, now);
        if let Some(cursor) = scan_step(&mut keys, &mut examined, a.count, shard, nshards, part) {
            write_scan_reply(out, cursor, &keys);
            return ConnResult::Done;
        }
        (shard, slot) = (shard + 1, 0);
    }
    let h = st.handle.clone();
    reply_later(out.resp3, async move {
        let cursor = loop {
            // The arguments are freed on the scanned shard and the keys found on this one:
            // both carry their memory count across (`memory::Carried`).
            let (args, remaining) = (Carried::pack(|| a.clone()), a.count - examined);
            let part = h
                .call(shard, None, move |s: &mut ShardState| {
                    let now = s.now_ms();
                    let at = ScanPos { shard, nshards: s.nshards, slot };
                    let part = scan_shard(&mut s.store, db, at, remaining, &args.unpack(), now);
                    let n = memory::strings_bytes(&part.keys);
                    Carried::new(part, n)
                })
                .await
                .unpack();
            if let Some(c) = scan_step(&mut keys, &mut examined, a.count, shard, nshards, part) {
                break c;
            }
            (shard, slot) = (shard + 1, 0);
        };
        Box::new(move |o: &mut Out| write_scan_reply(o, cursor, &keys)) as Reply
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::slot::{key_slot, owner_shard};
    use crate::store::{Entry, StrValue, Value};
    use std::collections::BTreeSet;

    const NOW: u64 = 1_700_000_000_000;
    const ONE: ScanPos = ScanPos { shard: 0, nshards: 1, slot: 0 };

    fn put(store: &mut Store, db: usize, key: &[u8], deadline_ms: u64) {
        let mut e = Entry::new(Value::Str(StrValue::from_bytes(b"v")));
        e.expire_at_ms = deadline_ms;
        store.dbs[db].insert(key, e);
    }

    /// `nshards` stores, each holding the keys whose slot it owns, as the shards would.
    fn sharded(nshards: usize, keys: &[Vec<u8>]) -> Vec<Store> {
        let mut stores: Vec<Store> = (0..nshards).map(|_| Store::new(16)).collect();
        for k in keys {
            put(&mut stores[owner_shard(key_slot(k), nshards)], 0, k, 0);
        }
        stores
    }

    /// A whole SCAN iteration the way `scan` drives it, over plain stores.
    fn full_scan(stores: &mut [Store], a: &ScanArgs) -> (Vec<Vec<u8>>, usize) {
        let n = stores.len();
        let mut all = Vec::new();
        let mut cursor = 0u64;
        let mut calls = 0;
        loop {
            calls += 1;
            let (mut shard, mut slot) = decode_cursor(cursor, n).expect("valid cursor");
            let (mut keys, mut examined) = (Vec::new(), 0);
            cursor = loop {
                let part =
                    scan_shard(&mut stores[shard], 0, ScanPos { shard, nshards: n, slot }, a.count - examined, a, NOW);
                if let Some(c) = scan_step(&mut keys, &mut examined, a.count, shard, n, part) {
                    break c;
                }
                (shard, slot) = (shard + 1, 0);
            };
            all.extend(keys);
            if cursor == 0 {
                return (all, calls);
            }
        }
    }

    fn args(v: &[&str]) -> Vec<Vec<u8>> {
        v.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    fn parse(v: &[&str]) -> Result<ScanArgs, &'static str> {
        let owned = args(v);
        let argv: Vec<&[u8]> = owned.iter().map(|a| a.as_slice()).collect();
        parse_scan_args(&argv)
    }

    #[test]
    fn scan_cursor_parsing_like_strtoul() {
        assert_eq!(parse_scan_cursor(b"0"), Some(0));
        assert_eq!(parse_scan_cursor(b""), Some(0));
        assert_eq!(parse_scan_cursor(b"+7"), Some(7));
        assert_eq!(parse_scan_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_scan_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_scan_cursor(b"18446744073709551616"), None);
        assert_eq!(parse_scan_cursor(b" 1"), None);
        assert_eq!(parse_scan_cursor(b"1x"), None);
        assert_eq!(parse_scan_cursor(b"-"), None);
        assert_eq!(parse(&["scan", "abc", "count", "0"]), Err("ERR invalid cursor"));
        assert_eq!(parse(&["scan", "0", "count", "0"]), Err(error::SYNTAX));
        assert_eq!(parse(&["scan", "0", "count", "x"]), Err(error::NOT_INTEGER));
        assert_eq!(parse(&["scan", "0", "match"]), Err(error::SYNTAX));
        assert_eq!(parse(&["scan", "0", "type", "string", "type"]), Err(error::SYNTAX));
        let a = parse(&["scan", "5", "MATCH", "*", "Count", "3", "TYPE", "String"]).unwrap();
        assert_eq!(a, ScanArgs { cursor: 5, count: 3, pattern: None, type_name: Some(b"String".to_vec()) });
    }

    #[test]
    fn full_scan_returns_every_key_once() {
        let keys: Vec<Vec<u8>> = (0..1000).map(|i| format!("key:{i}").into_bytes()).collect();
        for nshards in [1, 2, 3, 7] {
            for count in [1, 10, 100, 5000] {
                let mut stores = sharded(nshards, &keys);
                let a = ScanArgs { cursor: 0, count, pattern: None, type_name: None };
                let (got, calls) = full_scan(&mut stores, &a);
                assert_eq!(got.len(), keys.len(), "nshards {nshards} count {count}");
                let set: BTreeSet<_> = got.into_iter().collect();
                assert_eq!(set, keys.iter().cloned().collect(), "nshards {nshards} count {count}");
                if count == 5000 {
                    assert_eq!(calls, 1);
                }
            }
        }
    }

    #[test]
    fn scan_survives_writes_between_calls() {
        let keys: Vec<Vec<u8>> = (0..300).map(|i| format!("k{i}").into_bytes()).collect();
        let mut stores = sharded(2, &keys);
        let a = ScanArgs { cursor: 0, count: 20, pattern: None, type_name: None };
        let mut seen = BTreeSet::new();
        let mut cursor = 0u64;
        let mut round = 0;
        loop {
            let (shard, slot) = decode_cursor(cursor, 2).unwrap();
            let part = scan_shard(&mut stores[shard], 0, ScanPos { shard, nshards: 2, slot }, a.count, &a, NOW);
            seen.extend(part.keys.iter().cloned());
            cursor = match part.next_slot {
                Some(s) => encode_cursor(shard, s as usize),
                None if shard == 1 => 0,
                None => encode_cursor(1, 0),
            };
            // Keys added mid-scan may or may not show up; the original ones always do.
            round += 1;
            let extra = format!("new{round}").into_bytes();
            put(&mut stores[owner_shard(key_slot(&extra), 2)], 0, &extra, 0);
            if cursor == 0 {
                break;
            }
        }
        for k in &keys {
            assert!(seen.contains(k));
        }
    }

    #[test]
    fn scan_filters_in_redis_order() {
        let mut store = Store::new(16);
        put(&mut store, 0, b"a1", 0);
        put(&mut store, 0, b"a2", NOW - 1);
        put(&mut store, 0, b"b1", NOW - 1);
        let a = ScanArgs { cursor: 0, count: 10_000, pattern: Some(b"a*".to_vec()), type_name: None };
        let part = scan_shard(&mut store, 0, ONE, a.count, &a, NOW);
        assert_eq!(part.keys, vec![b"a1".to_vec()]);
        assert_eq!(part.examined, 3);
        assert_eq!(part.next_slot, None);
        // The expired key matching MATCH was deleted; the other one was left alone.
        assert_eq!(store.dbs[0].expired_keys, 1);
        assert!(store.dbs[0].peek(b"b1").is_some());
        let t = ScanArgs { cursor: 0, count: 10_000, pattern: None, type_name: Some(b"STRING".to_vec()) };
        let part = scan_shard(&mut store, 0, ONE, t.count, &t, NOW);
        assert_eq!(part.keys, vec![b"a1".to_vec()]);
        assert_eq!((store.keyspace_hits, store.keyspace_misses), (1, 1));
        let t = ScanArgs { cursor: 0, count: 10, pattern: None, type_name: Some(b"list".to_vec()) };
        assert!(scan_shard(&mut store, 0, ONE, t.count, &t, NOW).keys.is_empty());
    }

    #[test]
    fn scan_cursor_layout() {
        assert_eq!(decode_cursor(0, 2), Some((0, 0)));
        assert_eq!(decode_cursor(encode_cursor(1, 5), 2), Some((1, 5)));
        assert_eq!(decode_cursor(encode_cursor(2, 0), 2), None);
        assert_eq!(decode_cursor(u64::MAX, 2), None);
        assert_eq!(first_owned_slot(0, 1, 2), 1);
        assert_eq!(first_owned_slot(5, 1, 2), 5);
        assert_eq!(first_owned_slot(6, 1, 2), 7);
        assert_eq!(first_owned_slot(6, 0, 3), 6);
        assert_eq!(first_owned_slot(7, 0, 3), 9);
    }
}
