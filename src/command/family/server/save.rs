//! SAVE, BGSAVE [SCHEDULE], LASTSAVE, and the saving part of SHUTDOWN, over the snapshot
//! machinery in `persist::snapshot`. Replies and errors are Redis 7.0's.

use crate::command::args::eq_ic;
use crate::command::spec::{flag, ConnResult};
use crate::error;
use crate::observe::log;
use crate::persist::snapshot;
use crate::resp::Out;
use crate::shard::ShardState;

pub(super) const SAVE_FLAGS: u32 = flag::ADMIN | flag::NOSCRIPT | flag::NO_ASYNC_LOADING | flag::NO_MULTI;
pub(super) const BGSAVE_FLAGS: u32 = flag::ADMIN | flag::NOSCRIPT | flag::NO_ASYNC_LOADING;
pub(super) const LASTSAVE_FLAGS: u32 = flag::LOADING | flag::STALE | flag::FAST;

/// SAVE: a foreground save (this client waits; Redis blocks every client meanwhile).
pub(super) fn save(st: &mut ShardState, _ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    if crate::persist::status::with(|s| s.bgsave_in_progress) {
        out.error(snapshot::ERR_IN_PROGRESS);
        return ConnResult::Done;
    }
    snapshot::save_foreground(st, out, |r, out| match r {
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
    snapshot::save_foreground(st, out, move |r, out| match r {
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
