//! The transaction family: MULTI, EXEC, DISCARD, WATCH, UNWATCH. The engine (queueing, watch
//! registry, atomic execution across shards) lives in `shard::txn`; this is the table.

use crate::command::spec::{flag, spec, CommandSpec, Exec, Split};
use crate::shard::txn;

const F: u32 = flag::NOSCRIPT | flag::LOADING | flag::STALE | flag::FAST | flag::ALLOW_BUSY;
const ACL_FAST: &[&str] = &["@fast", "@transaction"];

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    spec("multi", 1, F, (0, 0, 0), ACL_FAST, "transactions", "1.2.0",
        "Start a transaction block", Exec::Conn(txn::multi), Split::None),
    spec("exec", 1, flag::NOSCRIPT | flag::LOADING | flag::STALE | flag::SKIP_SLOWLOG, (0, 0, 0),
        &["@slow", "@transaction"], "transactions", "1.2.0",
        "Execute all commands issued after MULTI", Exec::Conn(txn::exec), Split::None),
    spec("discard", 1, F, (0, 0, 0), ACL_FAST, "transactions", "2.0.0",
        "Discard all commands issued after MULTI", Exec::Conn(txn::discard), Split::None),
    spec("watch", -2, F, (1, -1, 1), ACL_FAST, "transactions", "2.2.0",
        "Watch the given keys to determine execution of the MULTI/EXEC block", Exec::Conn(txn::watch), Split::None),
    spec("unwatch", 1, F, (0, 0, 0), ACL_FAST, "transactions", "2.2.0",
        "Forget about all watched keys", Exec::Conn(txn::unwatch), Split::None),
];
