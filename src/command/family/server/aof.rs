//! BGREWRITEAOF: every shard starts a rewrite of its own AOF (`persist::aof::rewrite`).

use crate::command::spec::{flag, ConnResult};
use crate::resp::Out;
use crate::shard::ShardState;

use super::fanout::fan_out;

pub(super) const BGREWRITEAOF_FLAGS: u32 = flag::ADMIN | flag::NOSCRIPT | flag::NO_ASYNC_LOADING;

pub(super) fn bgrewriteaof(st: &mut ShardState, _ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    if st.aof.is_none() {
        // Redis with appendonly off writes a fresh AOF anyway; ours has nowhere to put it.
        out.error("ERR Background append only file rewriting is not possible: appendonly is off");
        return ConnResult::Done;
    }
    fan_out(st, out, crate::persist::aof::start_rewrite, |results: Vec<Result<bool, String>>, out: &mut Out| {
        if let Some(e) = results.iter().find_map(|r| r.as_ref().err()) {
            return out.error(&format!("ERR {e}"));
        }
        if results.iter().all(|r| matches!(r, Ok(true))) {
            out.simple("Background append only file rewriting started");
        } else {
            // A BGSAVE is running on some shard: Redis's words for a deferred rewrite.
            out.simple("Background append only file rewriting scheduled");
        }
    })
}
