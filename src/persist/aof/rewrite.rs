//! BGREWRITEAOF on one shard: a new incremental file takes the commands from now on, the
//! shard's data as of now becomes a new base (an RDB file with the `aof-base` aux set, or,
//! with `aof-use-rdb-preamble no`, RESP commands: `resp_base`), and the manifest switches to
//! base + new incremental file only once the base is durable.
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

use std::io::Write;
use std::path::Path;
use std::sync::mpsc;

use super::manifest::{self, AofFile, FileKind, Manifest};
use super::ShardAof;
use crate::config::Config;
use crate::persist::rdb::write::{put_db_header, put_header, Aux, WriteOpts};
use crate::persist::snapshot::cow::KeyFormat;
use crate::persist::snapshot::{Output, Target};
use crate::shard::ShardState;
use crate::store::Store;

/// A rewrite in progress on a shard.
pub struct Rewrite {
    pub seq: u64,
    /// The base file being written.
    pub base: String,
    pub started: std::time::Instant,
    pub done: mpsc::Receiver<Result<u64, String>>,
}

fn target(dir: &Path, name: &str, cfg: &Config) -> Target {
    Target { dir: dir.to_path_buf(), path: dir.join(name), databases: cfg.databases.max(1), checksum: cfg.rdbchecksum }
}

/// The name of a new base file: the config decides its format.
pub fn base_name(names: &manifest::Names, seq: u64, cfg: &Config) -> String {
    names.base_file_as(seq, !cfg.aof_use_rdb_preamble)
}

fn aux() -> Aux {
    Aux { ctime_s: crate::shard::unix_ms() / 1000, used_mem_bytes: 0, aof_base: true }
}

/// Writes `store` as base file `name` in `dir` now, in one go (startup, before the shard
/// serves, and CONFIG SET appendonly yes): temp file, fsync, rename. Returns its size.
pub fn write_base(dir: &Path, name: &str, store: &Store, cfg: &Config) -> Result<u64, String> {
    let now = crate::shard::unix_ms();
    let mut out = Vec::new();
    if cfg.aof_use_rdb_preamble {
        let opts = WriteOpts::from_config(cfg);
        put_header(&mut out, &aux());
        for (i, db) in store.dbs.iter().enumerate() {
            if db.is_empty() {
                continue;
            }
            put_db_header(&mut out, i, db.len() as u64, db.expires_len() as u64);
            for slot in db.nonempty_slots() {
                crate::persist::snapshot::serialize_slot(db, slot, now, &opts, &mut out);
            }
        }
        out.push(crate::persist::rdb::opcode::EOF);
        let crc = if cfg.rdbchecksum { crate::persist::rdb::crc64::crc64(0, &out) } else { 0 };
        out.extend_from_slice(&crc.to_le_bytes());
    } else {
        for (i, db) in store.dbs.iter().enumerate() {
            if db.is_empty() {
                continue;
            }
            super::resp_base::put_select(&mut out, i);
            for slot in db.nonempty_slots() {
                crate::persist::snapshot::serialize_slot_as(db, slot, now, KeyFormat::Resp, &mut out);
            }
        }
    }
    let t = target(dir, name, cfg);
    let tmp = dir.join(format!("temp-{name}.{}", std::process::id()));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&out)?;
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("Can't write the AOF base {}: {e}", t.path.display()));
    }
    t.commit(&tmp)?;
    Ok(out.len() as u64)
}

/// Starts a rewrite on this shard (steps 1-3). While a snapshot job (BGSAVE) runs on the
/// shard the rewrite is scheduled instead and started by the cron when it ends. Errors
/// leave the AOF as it was.
pub fn start(st: &mut ShardState) -> Result<bool, String> {
    let Some(aof) = st.aof.as_deref_mut() else { return Err("appendonly is off".into()) };
    if aof.rewrite.is_some() {
        return Err("Background append only file rewriting already in progress".into());
    }
    // Not inside a cross-shard transaction either: the base would hold part of it, and the
    // new file the rest of its part without the MULTI.
    if st.snapshot_job.is_some() || st.frozen_by.is_some() {
        aof.rewrite_scheduled = true;
        return Ok(false);
    }
    aof.rewrite_scheduled = false;
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
    aof.put_horizon();
    // The job starts in this same call: the base is the data as of the switch.
    // The format is the config's now: CONFIG SET aof-use-rdb-preamble applies from the next
    // rewrite on.
    let base = base_name(&aof.names, seq, &st.cfg);
    let output = if st.cfg.aof_use_rdb_preamble { Output::Rdb } else { Output::Resp };
    let t = target(&aof.dir, &base, &st.cfg);
    let done = crate::persist::snapshot::start_shard_file(st, t, aux(), output)?;
    if let Some(aof) = st.aof.as_deref_mut() {
        aof.rewrite = Some(Rewrite { seq, base, started: std::time::Instant::now(), done });
    }
    Ok(true)
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
    let (seq, base_file) = (r.seq, r.base.clone());
    aof.rewrite = None;
    let base_size = match outcome {
        Ok(n) => n,
        Err(e) => return Some(Err(e)),
    };
    let old = aof.manifest.clone();
    let new_incr: Vec<AofFile> = old.incrs.iter().filter(|f| f.seq >= seq).cloned().collect();
    let base = AofFile { name: base_file.clone(), seq, kind: FileKind::Base };
    let m = Manifest { base: Some(base), incrs: new_incr, history: Vec::new() };
    if let Err(e) = manifest::write_durably(&aof.dir, &aof.dir.join(aof.names.manifest()), m.to_text().as_bytes()) {
        let _ = std::fs::remove_file(aof.dir.join(&base_file));
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
