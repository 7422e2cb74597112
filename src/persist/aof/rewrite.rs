//! BGREWRITEAOF on one shard: a new incremental file takes the commands from now on, the
//! shard's data as of now becomes a new base (an RDB file, `aof-base` aux set), and the
//! manifest switches to base + new incremental file only once the base is durable.
//!
//! Order of durable steps, so a crash anywhere leaves a loadable AOF:
//! 1. the new (empty) incremental file is created and added to the manifest (old base, old
//!    incremental files, new incremental file);
//! 2. appends move to the new file (after the bytes already queued for the old one);
//! 3. the base is written to a temp file on a writer thread, fsynced and renamed;
//! 4. the manifest becomes new base + new incremental file; the old files are deleted.
//!
//! The shard's data is serialised on the shard at step 2 (the same slot walk as a snapshot);
//! the file IO of step 3 happens off the shard.

use std::path::Path;
use std::sync::mpsc;

use super::manifest::{self, AofFile, FileKind, Manifest};
use super::ShardAof;
use crate::config::Config;
use crate::persist::rdb::write::{Aux, WriteOpts};
use crate::persist::snapshot::{DbChunk, ShardShare, Target};
use crate::store::Store;

/// A rewrite in progress on a shard.
pub struct Rewrite {
    pub seq: u64,
    pub started: std::time::Instant,
    pub done: mpsc::Receiver<Result<u64, String>>,
}

/// Serialises `store` into one snapshot share (every db, slot by slot).
pub fn share_of(store: &Store, cfg: &Config, now_ms: u64) -> ShardShare {
    let opts = WriteOpts::from_config(cfg);
    let mut chunks = Vec::new();
    for (i, db) in store.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        let mut c = DbChunk { db: i, keys: 0, expires: 0, bytes: Vec::new() };
        for slot in db.nonempty_slots() {
            let (k, e) = crate::persist::snapshot::serialize_slot(db, slot, now_ms, &opts, &mut c.bytes);
            c.keys += k;
            c.expires += e;
        }
        if c.keys > 0 {
            chunks.push(c);
        }
    }
    ShardShare { shard: 0, dirty: 0, chunks }
}

fn target(dir: &Path, name: &str, cfg: &Config) -> Target {
    Target { dir: dir.to_path_buf(), path: dir.join(name), databases: cfg.databases.max(1), checksum: cfg.rdbchecksum }
}

fn aux() -> Aux {
    Aux { ctime_s: crate::shard::unix_ms() / 1000, used_mem_bytes: 0, aof_base: true }
}

/// Writes a share as base file `name` in `dir` (temp file, fsync, rename); returns its size.
pub fn write_share(dir: &Path, name: &str, share: ShardShare, cfg: &Config) -> Result<u64, String> {
    let t = target(dir, name, cfg);
    let tmp = crate::persist::snapshot::write_temp_file(&t, &aux(), &[share])?;
    t.commit(&tmp)?;
    Ok(std::fs::metadata(&t.path).map(|m| m.len()).unwrap_or(0))
}

/// Writes `store` as base file `name` now (startup, before the shard serves).
pub fn write_base(dir: &Path, name: &str, store: &Store, cfg: &Config) -> Result<u64, String> {
    write_share(dir, name, share_of(store, cfg, crate::shard::unix_ms()), cfg)
}

/// Starts a rewrite on this shard (steps 1-3). Errors leave the AOF as it was.
pub fn start(aof: &mut ShardAof, store: &Store, cfg: &Config) -> Result<(), String> {
    if aof.rewrite.is_some() {
        return Err("Background append only file rewriting already in progress".into());
    }
    let seq = aof.manifest.max_seq() + 1;
    let incr = AofFile { name: aof.names.incr_file(seq), seq, kind: FileKind::Incr };
    let path = aof.dir.join(&incr.name);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(&path)
        .map_err(|e| format!("Can't open the append-only file {}: {e}", path.display()))?;
    let mut m = aof.manifest.clone();
    m.incrs.push(incr);
    manifest::write_durably(&aof.dir, &aof.dir.join(aof.names.manifest()), m.to_text().as_bytes())
        .map_err(|e| format!("Can't persist the AOF manifest: {e}"))?;
    aof.manifest = m;
    aof.switch_to(file);
    let share = share_of(store, cfg, crate::shard::unix_ms());
    let (tx, rx) = mpsc::channel();
    let (dir, name, cfg2) = (aof.dir.clone(), aof.names.base_file(seq), cfg.clone());
    std::thread::Builder::new()
        .name("aof-rewrite".into())
        .spawn(move || {
            let _ = tx.send(write_share(&dir, &name, share, &cfg2));
        })
        .map_err(|e| format!("Can't start the AOF rewrite writer: {e}"))?;
    aof.rewrite = Some(Rewrite { seq, started: std::time::Instant::now(), done: rx });
    Ok(())
}

/// Step 4, from the cron once the base is written. Returns `Some(result)` when the rewrite
/// ended (successfully or not).
pub fn poll(aof: &mut ShardAof) -> Option<Result<(), String>> {
    let r = aof.rewrite.as_ref()?;
    let outcome = match r.done.try_recv() {
        Ok(x) => x,
        Err(mpsc::TryRecvError::Empty) => return None,
        Err(mpsc::TryRecvError::Disconnected) => Err("the AOF rewrite writer stopped".into()),
    };
    let seq = r.seq;
    aof.rewrite = None;
    let base_size = match outcome {
        Ok(n) => n,
        Err(e) => return Some(Err(e)),
    };
    let old = aof.manifest.clone();
    let new_incr: Vec<AofFile> = old.incrs.iter().filter(|f| f.seq >= seq).cloned().collect();
    let base = AofFile { name: aof.names.base_file(seq), seq, kind: FileKind::Base };
    let m = Manifest { base: Some(base), incrs: new_incr, history: Vec::new() };
    if let Err(e) = manifest::write_durably(&aof.dir, &aof.dir.join(aof.names.manifest()), m.to_text().as_bytes()) {
        let _ = std::fs::remove_file(aof.dir.join(aof.names.base_file(seq)));
        return Some(Err(format!("Can't persist the AOF manifest: {e}")));
    }
    for f in old.base.iter().chain(&old.history).chain(old.incrs.iter().filter(|f| f.seq < seq)) {
        let _ = std::fs::remove_file(aof.dir.join(&f.name));
    }
    aof.manifest = m;
    aof.base_size = base_size;
    // The files before the switch are gone; the switch itself may still be pending.
    aof.earlier_incr_size = 0;
    Some(Ok(()))
}
