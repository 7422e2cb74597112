//! The append-only file, one per shard (ARCHITECTURE §5).
//!
//! Each shard appends the write commands it executes to its own incremental file, in RESP,
//! after a `SELECT` whenever the database changes. Commands are first put in `buf` during a
//! loop iteration; at the end of the iteration the loop hands the whole buffer to io_uring as
//! one write at the file's end (`net/uring/aof_io.rs`). With `appendfsync always` an fsync is
//! linked after the write, and every reply produced while a logged write is not yet covered
//! by a completed fsync is held back (client output and mesh replies alike): one fsync covers
//! every write of the iterations that queued behind it (group commit). The steps of a
//! cross-shard transaction answer at once, but the step that seals or releases a shard waits
//! (`ShardState::tx_step_durable`). `everysec` fsyncs once a second from the cron, `no` never.
//!
//! - `manifest`: file names, per-shard manifests in Redis's format, layouts.
//! - `propagate`: what to log for a command (absolute times, effects of random commands).
//! - `replay`: loading at startup.
//! - `startup`: choosing, loading and (re)creating the files at startup.
//! - `rewrite`: BGREWRITEAOF, a new base per shard.
//! - `resp_base`: a base as RESP commands (`aof-use-rdb-preamble no`).
//! - `txlog`: cross-shard transactions whole or not at all across the shards' files.
//!
//! Must never: release a reply in `always` mode before the fsync that covers its write; let a
//! shard wait on the disk; leave a manifest naming a file that is not complete.

pub mod manifest;
pub mod propagate;
pub mod replay;
pub mod resp_base;
pub mod rewrite;
pub mod startup;
pub mod txlog;

use std::os::fd::{AsRawFd, RawFd};
use std::path::PathBuf;

use crate::config::AppendFsync;
use manifest::{Manifest, Names};

/// A shard's part of a cross-shard transaction in its AOF.
#[derive(Debug, Clone, Copy)]
pub struct TxPart {
    pub tx: u64,
    /// Its `MULTI` is logged (the shard wrote something).
    pub started: bool,
}

/// One shard's open AOF and what is in flight to it.
pub struct ShardAof {
    pub dir: PathBuf,
    pub names: Names,
    pub manifest: Manifest,
    pub file: std::fs::File,
    pub policy: AppendFsync,
    /// Appended this iteration (and any earlier ones still waiting for a write slot).
    pub buf: Vec<u8>,
    /// Bytes handed to the kernel by the write in flight (kept alive until it completes).
    pub inflight: Vec<u8>,
    pub inflight_done: usize,
    pub write_inflight: bool,
    pub fsync_inflight: bool,
    /// Byte positions in this shard's log, monotonic across files: appended to `buf`,
    /// written, fsynced. The current file starts at `file_start`.
    pub appended: u64,
    pub written: u64,
    pub synced: u64,
    pub file_start: u64,
    /// The file that takes over once `written` reaches its start position (a rewrite began).
    pub next_file: Option<(std::fs::File, u64)>,
    /// The position the fsync in flight will cover.
    pub fsync_target: u64,
    /// The database the file's last `SELECT` chose.
    pub sel_db: Option<usize>,
    /// Where a transaction's commands began in `buf` and how many were logged since.
    pub multi: Option<(usize, u32)>,
    /// This shard's part of the cross-shard transaction freezing it (`txlog`).
    pub tx_part: Option<TxPart>,
    pub last_fsync_ms: u64,
    pub write_error: Option<String>,
    /// Size of the base file and of the incremental files at the last rewrite (auto-rewrite).
    pub base_size: u64,
    /// Total size of the shard's earlier incremental files still named by the manifest.
    pub earlier_incr_size: u64,
    pub rewrite: Option<rewrite::Rewrite>,
    /// `appendonly` was turned off: nothing more is logged; the file closes once idle.
    pub closing: bool,
    /// BGREWRITEAOF waits for the shard's snapshot job (a BGSAVE) to end.
    pub rewrite_scheduled: bool,
}

impl ShardAof {
    pub fn fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }

    /// Appends one command (arguments) for database `db`.
    pub fn feed(&mut self, db: usize, args: &[&[u8]]) {
        if self.closing {
            return;
        }
        if let Some(p) = self.tx_part.as_mut().filter(|p| !p.started) {
            p.started = true;
            self.put(&[b"MULTI"]);
        }
        if self.sel_db != Some(db) {
            let d = db.to_string();
            self.put(&[b"SELECT", d.as_bytes()]);
            self.sel_db = Some(db);
        }
        self.put(args);
        if let Some((_, n)) = self.multi.as_mut() {
            *n += 1;
        }
    }

    /// Appends owned arguments.
    pub fn feed_owned(&mut self, db: usize, args: &[Vec<u8>]) {
        let v: smallvec::SmallVec<[&[u8]; 8]> = args.iter().map(|a| a.as_slice()).collect();
        self.feed(db, &v);
    }

    fn put(&mut self, args: &[&[u8]]) {
        let before = self.buf.len();
        crate::shard::exec::encode_command(args, &mut self.buf);
        self.appended += (self.buf.len() - before) as u64;
    }

    /// Marks the start of a transaction's writes (MULTI/EXEC run on this shard).
    pub fn begin_multi(&mut self) {
        self.multi = Some((self.buf.len(), 0));
    }

    /// Ends a transaction: with two or more writes, wraps them in MULTI/EXEC so a load
    /// replays all or none of them.
    pub fn end_multi(&mut self) {
        let Some((at, n)) = self.multi.take() else { return };
        if n < 2 || at > self.buf.len() {
            return;
        }
        let mut head = Vec::new();
        crate::shard::exec::encode_command(&[b"MULTI"], &mut head);
        // A SELECT at the start of the transaction stays before MULTI; one inside is fine.
        self.buf.splice(at..at, head.iter().copied());
        self.appended += head.len() as u64;
        self.put(&[b"EXEC"]);
    }

    /// The shard was frozen by cross-shard transaction `tx`: its writes from now on are its
    /// part, logged between MULTI (at the first one) and EXEC (`seal_tx`).
    pub fn open_tx(&mut self, tx: u64) {
        debug_assert!(self.tx_part.is_none(), "a shard logs one transaction part at a time");
        self.tx_part = Some(TxPart { tx, started: false });
    }

    /// Whether this shard logged anything for transaction `tx`.
    pub fn tx_wrote(&self, tx: u64) -> bool {
        self.tx_part.as_ref().is_some_and(|p| p.tx == tx && p.started)
    }

    /// Ends this shard's part of transaction `tx`, with the commit record when several
    /// shards wrote (`commit`: its number and the writers). A shard named as a writer logs
    /// its part even when it is empty: the other writers' records count on it.
    pub fn seal_tx(&mut self, tx: u64, commit: Option<(u64, &[usize])>) {
        let Some(p) = self.tx_part.take_if(|p| p.tx == tx) else { return };
        if let Some((n, writers)) = commit {
            if !p.started {
                self.put(&[b"MULTI"]);
            }
            let rec = txlog::part_args(n, writers);
            self.put(&[&rec[0], &rec[1], &rec[2]]);
        } else if !p.started {
            return;
        }
        self.put(&[b"EXEC"]);
    }

    /// Opens an incremental file of a multi-shard layout: every transaction committed so far
    /// is in the data this file follows (`txlog`).
    pub fn put_horizon(&mut self) {
        if self.names.nshards > 1 {
            let n = txlog::last_commit().to_string();
            self.put(&[txlog::HORIZON, n.as_bytes()]);
        }
    }

    /// Starts appending to `f` from the next command on (the file takes over when the bytes
    /// before this point are written). The new file begins with its own SELECT.
    pub fn switch_to(&mut self, f: std::fs::File) {
        self.next_file = Some((f, self.appended));
        self.sel_db = None;
    }

    /// Whether a reply produced now must wait for an fsync before it leaves (`always`).
    #[inline]
    pub fn must_hold(&self) -> bool {
        self.policy == AppendFsync::Always && self.synced < self.appended
    }

    /// Total size of the AOF of this shard (base + incremental files), for INFO and rewrites.
    pub fn current_size(&self) -> u64 {
        self.base_size + self.earlier_incr_size + (self.appended - self.file_start)
    }

    /// Where the next write goes: the file and the offset in it, and at most how many of the
    /// buffered bytes belong to that file (the rest go to the next file).
    pub fn write_window(&mut self) -> (RawFd, u64, usize) {
        if let Some((_, start)) = &self.next_file {
            if self.written >= *start {
                let (f, start) = self.next_file.take().expect("checked above");
                self.earlier_incr_size += start - self.file_start;
                self.file = f;
                self.file_start = start;
            }
        }
        let limit = match &self.next_file {
            Some((_, start)) => (*start - self.written) as usize,
            None => usize::MAX,
        };
        (self.fd(), self.written - self.file_start, limit)
    }
}

/// Logs an executed write command (called when it changed the store).
pub fn log_command(
    aof: &mut ShardAof,
    name: &str,
    args: &[&[u8]],
    reply: &[u8],
    store: &crate::store::Store,
    db: usize,
    now_ms: u64,
) {
    for c in propagate::effects(name, args, reply, store, db, now_ms) {
        aof.feed_owned(db, &c);
    }
}

/// Logs the final state of a key written by a cross-shard command: its value as a RESTORE
/// payload with its absolute deadline, or DEL when it is gone.
pub fn log_key_state(
    aof: &mut ShardAof,
    db: usize,
    key: &[u8],
    entry: Option<&crate::store::Entry>,
    cfg: &crate::config::Config,
) {
    match entry {
        Some(e) => {
            let opts = crate::persist::rdb::write::WriteOpts::from_config(cfg);
            let payload = crate::persist::rdb::dump::encode_dump_payload(&e.value, &opts);
            let ttl = e.expire_at_ms.to_string();
            aof.feed(db, &[b"RESTORE", key, ttl.as_bytes(), &payload, b"REPLACE", b"ABSTTL"]);
        }
        None => aof.feed(db, &[b"DEL", key]),
    }
}

/// Starts a rewrite of this shard's AOF (BGREWRITEAOF, auto-rewrite). Returns whether it
/// started now (false: scheduled after the shard's running BGSAVE).
pub fn start_rewrite(st: &mut crate::shard::ShardState) -> Result<bool, String> {
    let r = rewrite::start(st);
    if let Some(aof) = st.aof.as_deref() {
        info::publish(st.id, aof);
    }
    match &r {
        Ok(true) => {
            crate::observe::log::notice(&format!("Background append only file rewriting started (shard {})", st.id))
        }
        Ok(false) => {
            crate::observe::log::notice(&format!("Background append only file rewriting scheduled (shard {})", st.id))
        }
        Err(e) => crate::observe::log::warning(&format!("Can't rewrite append only file in background: {e}")),
    }
    r
}

/// Per-shard AOF housekeeping from the cron: finishing rewrites, starting scheduled and
/// automatic ones, publishing the figures INFO shows.
pub fn cron(st: &mut crate::shard::ShardState) {
    let Some(aof) = st.aof.as_deref_mut() else { return };
    if let Some(r) = rewrite::poll(aof) {
        info::REWRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match r {
            Ok(()) => {
                info::LAST_REWRITE_FAILED[st.id].store(false, std::sync::atomic::Ordering::Relaxed);
                crate::observe::log::notice(&format!("Background AOF rewrite finished successfully (shard {})", st.id));
            }
            Err(e) => {
                info::LAST_REWRITE_FAILED[st.id].store(true, std::sync::atomic::Ordering::Relaxed);
                crate::observe::log::warning(&format!("Background AOF rewrite failed (shard {}): {e}", st.id));
            }
        }
    }
    info::publish(st.id, aof);
    let perc = st.cfg.auto_aof_rewrite_percentage as u64;
    let size = aof.current_size();
    let idle = aof.rewrite.is_none();
    let base = aof.base_size.max(1);
    let due = perc > 0 && size >= st.cfg.auto_aof_rewrite_min_size_bytes && size * 100 / base >= 100 + perc;
    // Never inside a cross-shard transaction (`rewrite::start`): try again at the next tick.
    if st.frozen_by.is_some() {
        return;
    }
    if idle && aof.rewrite_scheduled && st.snapshot_job.is_none() {
        let _ = start_rewrite(st);
    } else if idle && !aof.rewrite_scheduled && due {
        crate::observe::log::notice(&format!(
            "Starting automatic rewriting of AOF on {}% growth (shard {})",
            size * 100 / base - 100,
            st.id
        ));
        let _ = start_rewrite(st);
    }
}

/// Node-wide AOF figures for INFO persistence, summed over shards each cron tick.
pub mod info {
    use std::sync::atomic::{AtomicU64, Ordering};

    pub static CURRENT_SIZE: [AtomicU64; crate::limits::MAX_SHARDS] =
        [const { AtomicU64::new(0) }; crate::limits::MAX_SHARDS];
    pub static BASE_SIZE: [AtomicU64; crate::limits::MAX_SHARDS] =
        [const { AtomicU64::new(0) }; crate::limits::MAX_SHARDS];
    pub static PENDING_BYTES: [AtomicU64; crate::limits::MAX_SHARDS] =
        [const { AtomicU64::new(0) }; crate::limits::MAX_SHARDS];
    pub static ENABLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    pub static WRITE_ERRORS: AtomicU64 = AtomicU64::new(0);
    pub static REWRITES: AtomicU64 = AtomicU64::new(0);
    /// Per shard: its last rewrite failed (INFO says `err` while any shard's did).
    pub static LAST_REWRITE_FAILED: [std::sync::atomic::AtomicBool; crate::limits::MAX_SHARDS] =
        [const { std::sync::atomic::AtomicBool::new(false) }; crate::limits::MAX_SHARDS];
    pub static IN_PROGRESS: [std::sync::atomic::AtomicBool; crate::limits::MAX_SHARDS] =
        [const { std::sync::atomic::AtomicBool::new(false) }; crate::limits::MAX_SHARDS];
    pub static DELAYED_FSYNC: AtomicU64 = AtomicU64::new(0);

    pub fn publish(shard: usize, aof: &super::ShardAof) {
        if shard < crate::limits::MAX_SHARDS {
            CURRENT_SIZE[shard].store(aof.current_size(), Ordering::Relaxed);
            BASE_SIZE[shard].store(aof.base_size, Ordering::Relaxed);
            PENDING_BYTES[shard].store(aof.appended - aof.written, Ordering::Relaxed);
            IN_PROGRESS[shard].store(aof.rewrite.is_some() || aof.rewrite_scheduled, Ordering::Relaxed);
        }
    }

    pub fn sum(a: &[AtomicU64]) -> u64 {
        a.iter().map(|x| x.load(Ordering::Relaxed)).sum()
    }
}
