//! DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: saves `dbfilename` (unless NOSAVE), empties the
//! dataset (unless NOFLUSH) and loads the file back, as Redis 7.0's. Every shard is frozen
//! for the whole of it, as Redis blocks every client: the save (SAVE's jobs,
//! `persist::snapshot::begin_foreground`; a running AOF rewrite completes its base first and
//! goes on), the file read and checked once on the calling shard (`persist::load::open_dump`),
//! and each shard loading its own keys from the same bytes. A write acknowledged before the
//! reply is thus in the file or made after the load, never lost between the two. With AOF on
//! the file loaded is still the RDB, as in Redis.
//!
//! Differences, on purpose: where Redis would crash (a key both in memory and in the file
//! under NOFLUSH without MERGE, a corrupt file), the reply is an error and the server goes on;
//! the shards holding such a key keep their memory as it was.
//!
//! Must never: load another shard's keys, let a client see a shard reloaded while another is
//! not, or let a shard run another command between the save and the load.

use std::rc::Rc;
use std::sync::Arc;

use futures::FutureExt;

use crate::command::args::eq_ic;
use crate::command::spec::ConnResult;
use crate::config::Config;
use crate::observe::log;
use crate::persist::load::{self, DumpFile};
use crate::persist::rdb::file::LoadStats;
use crate::persist::snapshot::{self, Foreground, RewriteJobs};
use crate::resp::Out;
use crate::shard::handle::Handle;
use crate::shard::ShardState;
use crate::store::Store;

const ERR_OPTIONS: &str = "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.";
const ERR_LOAD: &str = "ERR Error trying to load the RDB dump";

/// What DEBUG RELOAD was asked to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ReloadOpts {
    /// Keys in both memory and the file take the file's value (MERGE).
    pub merge: bool,
    /// Empty the dataset before loading (not NOFLUSH).
    pub flush: bool,
    /// Save before loading (not NOSAVE).
    pub save: bool,
}

pub(super) fn parse_reload(opts: &[&[u8]]) -> Result<ReloadOpts, &'static str> {
    let mut r = ReloadOpts { merge: false, flush: true, save: true };
    for o in opts {
        if eq_ic(o, "merge") {
            r.merge = true;
        } else if eq_ic(o, "noflush") {
            r.flush = false;
        } else if eq_ic(o, "nosave") {
            r.save = false;
        } else {
            return Err(ERR_OPTIONS);
        }
    }
    Ok(r)
}

/// DEBUG RELOAD with its options in `args[2..]`.
pub(super) fn debug_reload(st: &mut ShardState, args: &[&[u8]], out: &mut Out) -> ConnResult {
    let opts = match parse_reload(&args[2..]) {
        Ok(o) => o,
        Err(e) => {
            out.error(e);
            return ConnResult::Done;
        }
    };
    let save = if opts.save {
        // The save ends a running BGSAVE (its jobs make way for the foreground one): that is
        // not a failed background save.
        super::save::cancel_running_bgsave();
        match snapshot::begin_foreground(st, RewriteJobs::Finish) {
            Ok(s) => Some(s),
            Err(_) => {
                out.error("ERR");
                return ConnResult::Done;
            }
        }
    } else {
        None
    };
    if st.nshards > 1 {
        let (h, cfg, resp3) = (st.handle.clone(), st.cfg.clone(), out.resp3);
        return ConnResult::Later(reload_all(h, cfg, opts, save, resp3).boxed_local());
    }
    // One shard: the save and the load run inline, so no other command runs in between.
    if let Some((save, part)) = save {
        part(st);
        if !saved(save) {
            out.error("ERR");
            return ConnResult::Done;
        }
    }
    match open(&st.cfg) {
        Some(dump) => {
            let r = reload_shard(st, &dump, opts);
            finish(&dump, vec![r], out);
        }
        None => {
            if opts.flush {
                empty_shard(st);
            }
            out.error(ERR_LOAD);
        }
    }
    ConnResult::Done
}

/// Whether a foreground save succeeded; a successful one is not counted in `rdb_saves`.
fn saved(save: Foreground) -> bool {
    let ok = save.finish().is_ok();
    if ok {
        super::save::uncount_save();
    }
    ok
}

fn reply(resp3: bool, f: impl FnOnce(&mut Out)) -> Vec<u8> {
    let mut buf = Vec::new();
    f(&mut Out::new(&mut buf, resp3));
    buf
}

/// Several shards: all are frozen first (in shard-id order, as `on_all_shards_atomically`
/// does), then save, empty and load, then released; a write on any shard lands either before
/// the save (and is in the file loaded back) or after the load, never in between.
async fn reload_all<P>(
    h: Rc<Handle>,
    cfg: Config,
    opts: ReloadOpts,
    save: Option<(Foreground, P)>,
    resp3: bool,
) -> Vec<u8>
where
    P: Fn(&mut ShardState) + Send + Clone + 'static,
{
    let tx = h.new_tx_id();
    for s in 0..h.nshards {
        h.call(s, Some(tx), move |st: &mut ShardState| st.freeze(tx)).await;
    }
    let answer = reload_frozen(&h, tx, &cfg, opts, save).await;
    h.call_all(Some(tx), move |st: &mut ShardState| st.release(tx)).await;
    reply(resp3, answer)
}

/// The steps of `reload_all` while every shard is frozen by `tx`; returns the reply to write.
async fn reload_frozen<P>(
    h: &Rc<Handle>,
    tx: u64,
    cfg: &Config,
    opts: ReloadOpts,
    save: Option<(Foreground, P)>,
) -> Box<dyn FnOnce(&mut Out)>
where
    P: Fn(&mut ShardState) + Send + Clone + 'static,
{
    if let Some((save, part)) = save {
        h.call_all(Some(tx), part).await;
        if !saved(save) {
            return Box::new(|o: &mut Out| o.error("ERR"));
        }
    }
    let Some(dump) = open(cfg) else {
        // Redis empties the dataset before it finds the file missing.
        if opts.flush {
            h.call_all(Some(tx), empty_shard).await;
        }
        return Box::new(|o: &mut Out| o.error(ERR_LOAD));
    };
    let dump = Arc::new(dump);
    let shared = dump.clone();
    let results = h.call_all(Some(tx), move |s: &mut ShardState| reload_shard(s, &shared, opts)).await;
    Box::new(move |o: &mut Out| finish(&dump, results, o))
}

/// Reads and checks `dbfilename`; None (logged) when it is missing or bad.
fn open(cfg: &Config) -> Option<DumpFile> {
    match load::open_dump(cfg) {
        Ok(Some(d)) => Some(d),
        Ok(None) => {
            log::warning("DEBUG RELOAD: there is no RDB file to load");
            None
        }
        Err(e) => {
            log::warning(&e);
            None
        }
    }
}

/// Empties every database of this shard without counting changes (Redis's `emptyData` in
/// DEBUG RELOAD does not touch `dirty`); WATCHes of existing keys break as on FLUSHALL.
fn empty_shard(s: &mut ShardState) {
    s.touch_all_watched(None, None);
    for d in s.store.dbs.iter_mut() {
        d.clear();
    }
}

/// This shard's part of a reload: empties it when asked, then loads its keys of `dump`.
fn reload_shard(s: &mut ShardState, dump: &DumpFile, opts: ReloadOpts) -> Result<LoadStats, String> {
    if opts.flush {
        empty_shard(s);
    } else {
        s.touch_all_watched(None, None);
    }
    if s.store.dbs.iter().all(|d| d.is_empty()) {
        return load::load_into(dump, s.id, s.nshards, &s.cfg, &mut s.store);
    }
    // Keys stay in memory: the file's keys are loaded aside first, so a conflict found
    // without MERGE leaves this shard as it was.
    let mut loaded = Store::new(s.store.dbs.len());
    let stats = load::load_into(dump, s.id, s.nshards, &s.cfg, &mut loaded)?;
    merge_into(&mut s.store, &loaded, opts.merge)?;
    Ok(stats)
}

/// Copies every key of `from` into `into`, the loaded value replacing the one in memory;
/// without `replace`, any key present in both is an error and nothing is copied.
fn merge_into(into: &mut Store, from: &Store, replace: bool) -> Result<(), String> {
    let now_ms = crate::shard::unix_ms();
    if !replace {
        for (i, d) in from.dbs.iter().enumerate() {
            let Some(target) = into.dbs.get(i) else { continue };
            for slot in d.nonempty_slots() {
                let Some(t) = d.slot_table(slot) else { continue };
                if let Some((k, _)) =
                    t.iter().find(|(k, _)| target.peek(k.as_slice()).is_some_and(|e| !e.is_expired(now_ms)))
                {
                    return Err(format!(
                        "Duplicated key '{}' found in DB {i} (use MERGE to replace it)",
                        String::from_utf8_lossy(k.as_slice())
                    ));
                }
            }
        }
    }
    for (i, d) in from.dbs.iter().enumerate() {
        let Some(target) = into.dbs.get_mut(i) else { continue };
        for slot in d.nonempty_slots() {
            let Some(t) = d.slot_table(slot) else { continue };
            for (k, e) in t.iter() {
                target.insert(k.as_slice(), e.clone());
            }
        }
    }
    Ok(())
}

/// Logs the outcome and answers: OK when every shard loaded its part.
fn finish(dump: &DumpFile, results: Vec<Result<LoadStats, String>>, out: &mut Out) {
    let mut stats = Vec::with_capacity(results.len());
    let mut failed = false;
    for r in results {
        match r {
            Ok(s) => stats.push(s),
            Err(e) => {
                log::warning(&format!("DEBUG RELOAD: {e}"));
                failed = true;
            }
        }
    }
    if failed {
        out.error(ERR_LOAD);
        return;
    }
    load::finish(dump, &stats);
    log::warning("DB reloaded by DEBUG RELOAD");
    out.ok();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::keyspace::Entry;
    use crate::store::{StrValue, Value};

    fn entry(v: &[u8]) -> Entry {
        Entry::new(Value::Str(StrValue::from_bytes(v)))
    }

    fn get(s: &mut Store, key: &[u8]) -> Option<Vec<u8>> {
        match &s.dbs[0].get(key, 0)?.value {
            Value::Str(v) => Some(v.to_vec()),
            _ => None,
        }
    }

    #[test]
    fn options_as_redis() {
        let p = |a: &[&str]| parse_reload(&a.iter().map(|x| x.as_bytes()).collect::<Vec<_>>());
        assert_eq!(p(&[]), Ok(ReloadOpts { merge: false, flush: true, save: true }));
        assert_eq!(p(&["nosave", "NOFLUSH", "Merge"]), Ok(ReloadOpts { merge: true, flush: false, save: false }));
        assert_eq!(p(&["nosave", "nosave"]), Ok(ReloadOpts { merge: false, flush: true, save: false }));
        assert_eq!(p(&["foo"]), Err(ERR_OPTIONS));
        assert_eq!(p(&["merge", "x"]), Err(ERR_OPTIONS));
    }

    #[test]
    fn merge_replaces_and_refuses_conflicts_without_it() {
        let mut mem = Store::new(2);
        mem.dbs[0].insert(b"both", entry(b"memory"));
        mem.dbs[0].insert(b"mem-only", entry(b"m"));
        let mut file = Store::new(2);
        file.dbs[0].insert(b"both", entry(b"file"));
        file.dbs[0].insert(b"file-only", entry(b"f"));
        let err = merge_into(&mut mem, &file, false).expect_err("conflict without MERGE");
        assert!(err.contains("'both'"), "{err}");
        assert_eq!(get(&mut mem, b"both").as_deref(), Some(&b"memory"[..]));
        assert_eq!(get(&mut mem, b"file-only"), None, "nothing copied after a conflict");
        merge_into(&mut mem, &file, true).expect("MERGE");
        assert_eq!(get(&mut mem, b"both").as_deref(), Some(&b"file"[..]));
        assert_eq!(get(&mut mem, b"file-only").as_deref(), Some(&b"f"[..]));
        assert_eq!(get(&mut mem, b"mem-only").as_deref(), Some(&b"m"[..]));
        assert_eq!(mem.dbs[0].len(), 3);
    }
}
