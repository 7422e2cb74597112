//! SAVE, BGSAVE [SCHEDULE], LASTSAVE, and the saving parts of SHUTDOWN and FLUSHALL, over the
//! snapshot machinery in `persist::snapshot`. Replies and errors are Redis 7.0's.

use crate::command::args::eq_ic;
use crate::command::spec::{flag, ConnResult};
use crate::error;
use crate::observe::log;
use crate::persist::snapshot::{self, RewriteJobs};
use crate::resp::Out;
use crate::shard::ShardState;

pub(super) const SAVE_FLAGS: u32 = flag::ADMIN | flag::NOSCRIPT | flag::NO_ASYNC_LOADING | flag::NO_MULTI;
pub(super) const BGSAVE_FLAGS: u32 = flag::ADMIN | flag::NOSCRIPT | flag::NO_ASYNC_LOADING;
pub(super) const LASTSAVE_FLAGS: u32 = flag::LOADING | flag::STALE | flag::FAST;

/// SAVE: a foreground save (this client waits; Redis blocks every client meanwhile). A running
/// AOF rewrite goes on: each shard first completes the rewrite's base, then saves.
pub(super) fn save(st: &mut ShardState, _ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    if crate::persist::status::with(|s| s.bgsave_in_progress) {
        out.error(snapshot::ERR_IN_PROGRESS);
        return ConnResult::Done;
    }
    snapshot::save_foreground(st, out, RewriteJobs::Finish, |r, out| match r {
        Ok(()) => out.ok(),
        Err(_) => out.error("ERR"),
    })
}

/// BGSAVE [SCHEDULE]: starts a background save. With SCHEDULE, Redis only defers when
/// another kind of background job runs; there is none here, so it starts at once as well.
pub(super) fn bgsave(st: &mut ShardState, _ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    match args.get(1) {
        None => {}
        Some(a) if args.len() == 2 && eq_ic(a, "schedule") => {}
        Some(_) => {
            out.error(error::SYNTAX);
            return ConnResult::Done;
        }
    }
    match snapshot::start_background(st) {
        Ok(()) => out.simple("Background saving started"),
        Err(e) => out.error(e),
    }
    ConnResult::Done
}

/// LASTSAVE: unix time of the last successful save (startup time before any).
pub(super) fn lastsave(_st: &mut ShardState, _ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    out.int(crate::persist::status::with(|s| s.last_save_unix_s) as i64);
    ConnResult::Done
}

/// SHUTDOWN's save step: saves when asked (SAVE) or when save points are set and NOSAVE was
/// not given, then stops the node. A failed save stops nothing unless FORCE, and answers
/// Redis's error. A successful SHUTDOWN sends no reply: the connection closes with the node.
pub(super) fn shutdown_with_save(
    st: &mut ShardState,
    out: &mut Out,
    save: bool,
    nosave: bool,
    force: bool,
) -> ConnResult {
    let wants_save = save || (!nosave && !st.cfg.save.is_empty());
    if !wants_save {
        crate::shard::runtime::request_shutdown();
        return ConnResult::Close;
    }
    log::notice("Saving the final RDB snapshot before exiting.");
    snapshot::save_foreground(st, out, RewriteJobs::Cancel, move |r, out| match r {
        Ok(()) => crate::shard::runtime::request_shutdown(),
        Err(_) if force => {
            log::warning("Error trying to save the DB: exiting anyway (FORCE).");
            crate::shard::runtime::request_shutdown();
        }
        Err(_) => {
            log::warning("Error trying to save the DB, can't exit.");
            out.error("ERR Errors trying to SHUTDOWN. Check logs.");
        }
    })
}

/// FLUSHALL's first step (Redis's `flushAllDataAndResetRDB` kills a running BGSAVE child), and
/// DEBUG RELOAD's, whose save ends the background jobs: marks the running background save, if
/// any, as cancelled; then every shard ends its share (`end_cancelled_bgsave_job`, or the
/// foreground save's own start). The cancelled save neither replaces the file
/// nor reports a failed save. Returns whether a background save was running.
pub(crate) fn cancel_running_bgsave() -> bool {
    crate::persist::status::with(|s| s.cancel_background())
}

/// One shard's part of a cancelled background save: its snapshot job ends, unless the job is
/// this shard's AOF rewrite (FLUSHALL leaves rewrites alone, as Redis kills only an RDB child).
pub(crate) fn end_cancelled_bgsave_job(st: &mut ShardState) {
    if snapshot::job::running(st) == Some(snapshot::job::Purpose::Dump) {
        snapshot::job::cancel(st, "cancelled by FLUSHALL");
    }
}

/// FLUSHALL's last step: with save points set, the (now empty) dataset is saved at once, as
/// Redis's synchronous `rdbSave`, so a restart does not bring the flushed keys back; LASTSAVE
/// and `rdb_changes_since_last_save` follow the save, `rdb_saves` does not count it (Redis
/// counts SAVE and BGSAVE only). The reply is OK whatever the save's outcome, as Redis's.
/// A running AOF rewrite completes its base first on each shard and goes on.
/// With several shards the save starts when the returned future is first polled, so the
/// caller may create it before the flush and await it after.
pub(crate) fn save_after_flushall(st: &mut ShardState, out: &mut Out) -> ConnResult {
    if st.cfg.save.is_empty() {
        out.ok();
        return ConnResult::Done;
    }
    snapshot::save_foreground(st, out, RewriteJobs::Finish, |r, out| {
        if r.is_ok() {
            uncount_save();
        }
        out.ok();
    })
}

/// Takes a successful foreground save back out of `rdb_saves`: Redis counts the saves of SAVE
/// and BGSAVE there, not the ones FLUSHALL and DEBUG RELOAD make by calling `rdbSave`.
pub(super) fn uncount_save() {
    crate::persist::status::with(|s| s.saves = s.saves.saturating_sub(1));
}
