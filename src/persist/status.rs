//! The node's snapshot status: whether a background save runs, how the last one ended, when
//! the last successful save finished, and each shard's change counter at its last saved
//! snapshot (for `rdb_changes_since_last_save` and save points).
//!
//! Process-wide, behind one `Mutex`: it is touched by SAVE/BGSAVE/LASTSAVE/INFO, by each
//! shard's cron a few times a second to publish its change counter, and by the thread that
//! writes a snapshot file, never on a data command's path. When shard state grows a home for
//! node-wide facts this can move there; until then it lives here so no other module changes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Mirror of `SaveState::last_bgsave_ok == false`, readable without the lock: the write path
/// asks it before every write command (`stop-writes-on-bgsave-error`).
static BGSAVE_FAILED: AtomicBool = AtomicBool::new(false);

/// Redis's reply to writes refused after a failed background save.
pub const MISCONF: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist \
to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors \
during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details \
about the RDB error.";

/// Whether writes must be refused with [`MISCONF`]: the last background save failed, save
/// points are set and `stop-writes-on-bgsave-error` is on (Redis's `writeCommandsDeniedByDiskError`).
#[inline]
pub fn writes_refused(cfg: &crate::config::Config) -> bool {
    cfg.stop_writes_on_bgsave_error && !cfg.save.is_empty() && BGSAVE_FAILED.load(Ordering::Relaxed)
}

#[derive(Debug)]
pub struct SaveState {
    /// A background save is running (its writer thread has not finished).
    pub bgsave_in_progress: bool,
    pub bgsave_started: Option<Instant>,
    /// Bumped by every foreground save: a background save started under an older epoch must
    /// not replace the file afterwards.
    pub epoch: u64,
    /// `rdb_last_bgsave_status`.
    pub last_bgsave_ok: bool,
    pub last_bgsave_try_unix_s: u64,
    /// `rdb_last_bgsave_time_sec` (-1 before the first background save).
    pub last_bgsave_duration_s: i64,
    /// LASTSAVE: when the last successful save finished (startup time before any).
    pub last_save_unix_s: u64,
    /// `rdb_saves`.
    pub saves: u64,
    /// BGSAVE SCHEDULE asked for a save that could not start yet.
    pub bgsave_scheduled: bool,
    /// Each shard's change counter as last published by its cron.
    pub shard_dirty: Vec<u64>,
    /// Each shard's change counter when the last successful snapshot serialised it.
    pub saved_dirty: Vec<u64>,
    pub load_keys_loaded: u64,
    pub load_keys_expired: u64,
    /// The running background save was cancelled on purpose (FLUSHALL, as Redis kills the
    /// child with SIGUSR1): its failure leaves `rdb_last_bgsave_status` alone.
    pub bgsave_cancelled: bool,
}

impl SaveState {
    /// No save yet, none running (what a server starts with).
    const IDLE: SaveState = SaveState {
        bgsave_in_progress: false,
        bgsave_started: None,
        epoch: 0,
        last_bgsave_ok: true,
        last_bgsave_try_unix_s: 0,
        last_bgsave_duration_s: -1,
        last_save_unix_s: 0,
        saves: 0,
        bgsave_scheduled: false,
        shard_dirty: Vec::new(),
        saved_dirty: Vec::new(),
        load_keys_loaded: 0,
        load_keys_expired: 0,
        bgsave_cancelled: false,
    };
}

static STATE: Mutex<SaveState> = Mutex::new(SaveState::IDLE);

/// Runs `f` with the status locked. A panic while it was held leaves plain data behind, so
/// a poisoned lock is still used.
pub fn with<R>(f: impl FnOnce(&mut SaveState) -> R) -> R {
    let mut g = STATE.lock().unwrap_or_else(|e| e.into_inner());
    f(&mut g)
}

/// Sets the status up at startup: `nshards` counters, LASTSAVE = now (as Redis).
pub fn init(nshards: usize, now_unix_s: u64) {
    with(|s| {
        s.shard_dirty = vec![0; nshards];
        s.saved_dirty = vec![0; nshards];
        s.last_save_unix_s = now_unix_s;
    });
}

impl SaveState {
    /// Changes since the last successful save, from the published counters.
    pub fn changes_since_save(&self) -> u64 {
        let now: u64 = self.shard_dirty.iter().sum();
        let saved: u64 = self.saved_dirty.iter().sum();
        now.saturating_sub(saved)
    }

    /// Sets `rdb_last_bgsave_status` (and its lock-free mirror). Only a background save's
    /// end reports a failure, so the failure of a cancelled one is dropped here.
    pub fn set_bgsave_ok(&mut self, ok: bool) {
        if !ok && std::mem::take(&mut self.bgsave_cancelled) {
            return;
        }
        self.last_bgsave_ok = ok;
        BGSAVE_FAILED.store(!ok, Ordering::Relaxed);
    }

    /// Marks the running background save, if any, as cancelled: a newer epoch keeps its file
    /// from replacing `dbfilename` even if it was already complete, and its failure is not
    /// reported as a failed save. It still counts in `rdb_saves`, which Redis bumps when a
    /// BGSAVE starts (a success is counted here when it ends, so a cancelled one is counted
    /// now). The caller ends the shards' jobs. Returns whether one ran.
    pub fn cancel_background(&mut self) -> bool {
        if !self.bgsave_in_progress {
            return false;
        }
        self.epoch += 1;
        if !self.bgsave_cancelled {
            self.saves += 1;
        }
        self.bgsave_cancelled = true;
        true
    }

    /// Records that shard `i` had `dirty` changes when a now-successful snapshot read it.
    pub fn mark_saved(&mut self, i: usize, dirty: u64) {
        if self.saved_dirty.len() <= i {
            self.saved_dirty.resize(i + 1, 0);
        }
        self.saved_dirty[i] = dirty;
    }

    pub fn publish_dirty(&mut self, i: usize, dirty: u64) {
        if self.shard_dirty.len() <= i {
            self.shard_dirty.resize(i + 1, 0);
        }
        self.shard_dirty[i] = dirty;
    }
}

/// What INFO persistence shows, read at once.
#[derive(Clone, Debug)]
pub struct PersistInfo {
    pub bgsave_in_progress: bool,
    pub last_save_unix_s: u64,
    pub last_bgsave_ok: bool,
    pub last_bgsave_duration_s: i64,
    pub current_bgsave_duration_s: i64,
    pub saves: u64,
    /// Sum over shards of their change counters at the last successful snapshot.
    pub saved_dirty_total: u64,
    pub load_keys_loaded: u64,
    pub load_keys_expired: u64,
}

impl Default for PersistInfo {
    /// An idle node that never saved, as Redis reports one.
    fn default() -> Self {
        PersistInfo {
            bgsave_in_progress: false,
            last_save_unix_s: 0,
            last_bgsave_ok: true,
            last_bgsave_duration_s: -1,
            current_bgsave_duration_s: -1,
            saves: 0,
            saved_dirty_total: 0,
            load_keys_loaded: 0,
            load_keys_expired: 0,
        }
    }
}

pub fn info() -> PersistInfo {
    with(|s| PersistInfo {
        bgsave_in_progress: s.bgsave_in_progress,
        last_save_unix_s: s.last_save_unix_s,
        last_bgsave_ok: s.last_bgsave_ok,
        last_bgsave_duration_s: s.last_bgsave_duration_s,
        current_bgsave_duration_s: match (s.bgsave_in_progress, s.bgsave_started) {
            (true, Some(t)) => t.elapsed().as_secs() as i64,
            _ => -1,
        },
        saves: s.saves,
        saved_dirty_total: s.saved_dirty.iter().sum(),
        load_keys_loaded: s.load_keys_loaded,
        load_keys_expired: s.load_keys_expired,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idle() -> SaveState {
        SaveState::IDLE
    }

    #[test]
    fn a_cancelled_background_save_is_not_a_failure() {
        let mut s = idle();
        assert!(!s.cancel_background(), "nothing to cancel");
        assert_eq!((s.epoch, s.saves), (0, 0));
        s.bgsave_in_progress = true;
        assert!(s.cancel_background());
        assert!(s.cancel_background(), "a second FLUSHALL before it ended");
        assert_eq!((s.epoch, s.saves), (2, 1), "a newer epoch each time, counted once");
        // Its writer ends with an error: dropped once.
        s.bgsave_in_progress = false;
        s.set_bgsave_ok(false);
        assert!(s.last_bgsave_ok);
        // The next real failure is reported.
        s.set_bgsave_ok(false);
        assert!(!s.last_bgsave_ok);
    }
}
