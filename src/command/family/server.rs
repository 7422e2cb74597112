//! The server family: TIME, INFO, CONFIG, COMMAND (in `server/command.rs`), DEBUG (in
//! `server/debug.rs`) and SHUTDOWN. These run on the shard holding the client's connection;
//! what needs every shard (INFO's counters, CONFIG SET, CONFIG RESETSTAT) fans out through
//! the mesh and answers when all shards have (`server/fanout.rs`).
//!
//! Replies and errors are Redis 7.0's. Nothing here touches another shard's state directly,
//! and nothing here writes to a socket: replies go to `Out`, connection closes are requested
//! through `ConnResult`.

mod aof;
mod command;
mod debug;
pub(crate) mod fanout;
mod reload;
mod save;
mod sha1;

#[cfg(test)]
mod tests;

use std::sync::atomic::Ordering;

use crate::command::args::eq_ic;
use crate::command::spec::{flag, spec, CommandSpec, ConnResult, Exec, Split};
use crate::config::RedisEnum;
use crate::error;
use crate::observe::info::{self, Sections, ShardPart, Snapshot};
use crate::observe::log;
use crate::resp::Out;
use crate::shard::ShardState;

use fanout::{fan_out, help};
pub(crate) use save::{cancel_running_bgsave, end_cancelled_bgsave_job, save_after_flushall};

const NS: u32 = flag::NOSCRIPT | flag::LOADING | flag::STALE;
const ADMIN_NS: u32 = flag::ADMIN | NS;
const ACL_ADMIN: &[&str] = &["@admin", "@slow", "@dangerous"];
const NONE: (i32, i32, i32) = (0, 0, 0);

#[allow(clippy::too_many_arguments)]
const fn server_cmd(
    name: &'static str,
    arity: i32,
    flags: u32,
    acl: &'static [&'static str],
    since: &'static str,
    summary: &'static str,
    complexity: &'static str,
    f: crate::command::spec::ConnFn,
) -> CommandSpec {
    CommandSpec {
        complexity,
        ..spec(name, arity, flags, NONE, acl, "server", since, summary, Exec::Conn(f), Split::None)
    }
}

const CX_CONFIG_N: &str = "O(N) when N is the number of configuration parameters provided";

pub static COMMANDS: &[CommandSpec] = &[
    server_cmd(
        "time",
        1,
        flag::LOADING | flag::STALE | flag::FAST,
        &["@fast"],
        "2.6.0",
        "Return the current server time",
        "O(1)",
        time,
    ),
    server_cmd(
        "info",
        -1,
        flag::LOADING | flag::STALE,
        &["@slow", "@dangerous"],
        "1.0.0",
        "Get information and statistics about the server",
        "O(1)",
        info_cmd,
    ),
    CommandSpec {
        complexity: "Depends on subcommand.",
        subcommands: &[
            server_cmd(
                "config|get",
                -3,
                ADMIN_NS,
                ACL_ADMIN,
                "2.0.0",
                "Get the values of configuration parameters",
                CX_CONFIG_N,
                config_get,
            ),
            server_cmd(
                "config|set",
                -4,
                ADMIN_NS,
                ACL_ADMIN,
                "2.0.0",
                "Set configuration parameters to the given values",
                CX_CONFIG_N,
                config_set,
            ),
            server_cmd(
                "config|resetstat",
                2,
                ADMIN_NS,
                ACL_ADMIN,
                "2.0.0",
                "Reset the stats returned by INFO",
                "O(1)",
                config_resetstat,
            ),
            server_cmd(
                "config|rewrite",
                2,
                ADMIN_NS,
                ACL_ADMIN,
                "2.8.0",
                "Rewrite the configuration file with the in memory configuration",
                "O(1)",
                config_rewrite,
            ),
            server_cmd(
                "config|help",
                2,
                flag::LOADING | flag::STALE,
                &["@slow"],
                "5.0.0",
                "Show helpful text about the different subcommands",
                "O(1)",
                config_help,
            ),
        ],
        ..spec(
            "config",
            -2,
            0,
            NONE,
            &["@slow"],
            "server",
            "2.0.0",
            "A container for server configuration commands",
            Exec::Container,
            Split::None,
        )
    },
    command::COMMAND,
    debug::DEBUG,
    server_cmd(
        "save",
        1,
        save::SAVE_FLAGS,
        ACL_ADMIN,
        "1.0.0",
        "Synchronously save the dataset to disk",
        "O(N) where N is the total number of keys in all databases",
        save::save,
    ),
    server_cmd(
        "bgsave",
        -1,
        save::BGSAVE_FLAGS,
        ACL_ADMIN,
        "1.0.0",
        "Asynchronously save the dataset to disk",
        "O(1)",
        save::bgsave,
    ),
    server_cmd(
        "bgrewriteaof",
        1,
        aof::BGREWRITEAOF_FLAGS,
        ACL_ADMIN,
        "1.0.0",
        "Asynchronously rewrite the append-only file",
        "O(1)",
        aof::bgrewriteaof,
    ),
    server_cmd(
        "lastsave",
        1,
        save::LASTSAVE_FLAGS,
        &["@admin", "@fast", "@dangerous"],
        "1.0.0",
        "Get the UNIX time stamp of the last successful save to disk",
        "O(1)",
        save::lastsave,
    ),
    server_cmd(
        "shutdown",
        -1,
        ADMIN_NS | flag::NO_MULTI | flag::ALLOW_BUSY,
        ACL_ADMIN,
        "1.0.0",
        "Synchronously save the dataset to disk and then shut down the server",
        "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
        shutdown,
    ),
];

fn time(_st: &mut ShardState, _ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    let us = crate::shard::unix_us();
    out.array(2);
    out.bulk_int((us / 1_000_000) as i64);
    out.bulk_int((us % 1_000_000) as i64);
    ConnResult::Done
}

/// The node-wide part of INFO, read on the calling shard before the fan-out.
fn node_snapshot(st: &ShardState, sections: &Sections) -> Snapshot {
    let node = &st.node;
    let cfg = &st.cfg;
    let mut s = Snapshot {
        cluster_enabled: st.cluster.enabled,
        shards: st.nshards,
        pid: node.pid,
        run_id: node.run_id.clone(),
        tcp_port: node.tcp_port,
        now_us: crate::shard::unix_us(),
        uptime_s: node.started.elapsed().as_secs(),
        hz: cfg.hz as u64,
        executable: node.executable.clone(),
        config_file: node.config_file.clone(),
        connected_clients: node.connected_clients.load(Ordering::Relaxed) as u64,
        maxclients: cfg.maxclients as u64,
        maxmemory_bytes: cfg.maxmemory_bytes,
        maxmemory_policy: cfg.maxmemory_policy.as_str().to_string(),
        last_save_unix_s: node.started_unix_s,
        persist: crate::persist::status::info(),
        total_connections_received: node.total_connections_received.load(Ordering::Relaxed),
        rejected_connections: node.rejected_connections.load(Ordering::Relaxed),
        // No replication yet: a fixed id per process, distinct from run_id as in Redis.
        master_replid: node.run_id.chars().rev().collect(),
        repl_backlog_size_bytes: cfg.repl_backlog_size_bytes,
        ..Default::default()
    };
    // /proc reads and the jemalloc epoch only when the sections that show them are asked for.
    if sections.wants("memory") {
        s.rss_bytes = crate::store::memory::rss_bytes();
        s.allocator = info::allocator_stats();
        s.total_system_memory_bytes = info::total_system_memory_bytes();
    }
    if sections.wants("cpu") {
        s.cpu = info::cpu_times();
    }
    s
}

/// INFO [section ...]: a bulk string in RESP2, verbatim text in RESP3, as Redis 7.0.
fn info_cmd(st: &mut ShardState, _ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    let sections = Sections::parse(&args[1..]);
    let mut snap = node_snapshot(st, &sections);
    fan_out(
        st,
        out,
        |s: &mut ShardState| ShardPart::gather(s),
        move |parts, out| {
            snap.merge(&parts, crate::store::memory::other_used_bytes());
            out.verbatim(info::render(&sections, &snap).as_bytes());
        },
    )
}

fn config_get(st: &mut ShardState, _ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    let found = st.cfg.config_get(&args[2..]);
    out.map(found.len());
    for (name, value) in found {
        out.bulk(name.as_bytes());
        out.bulk(value.as_bytes());
    }
    ConnResult::Done
}

/// CONFIG SET name value [name value ...]: checked against this shard's copy first, so an
/// error changes nothing anywhere; then the same pairs are applied on every shard.
fn config_set(st: &mut ShardState, ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    if args.len() % 2 == 1 {
        out.error(error::SYNTAX);
        return ConnResult::Done;
    }
    let local = debug::is_local_addr(&st.clients[ci].addr);
    let pairs: Vec<(&[u8], &[u8])> = args[2..].chunks_exact(2).map(|p| (p[0], p[1])).collect();
    let mut checked = st.cfg.clone();
    if let Err(e) = checked.config_set_for(&pairs, local) {
        out.error(&e);
        return ConnResult::Done;
    }
    if checked.loglevel != st.cfg.loglevel {
        log::set_level(checked.loglevel.as_str());
    }
    let owned: Vec<(Vec<u8>, Vec<u8>)> = pairs.iter().map(|(n, v)| (n.to_vec(), v.to_vec())).collect();
    fan_out(
        st,
        out,
        move |s: &mut ShardState| {
            let pairs: Vec<(&[u8], &[u8])> = owned.iter().map(|(n, v)| (n.as_slice(), v.as_slice())).collect();
            s.cfg.config_set_for(&pairs, local)
        },
        |results, out| match results.into_iter().find_map(|r| r.err()) {
            // Every shard holds the same settings, so this cannot differ from the check above.
            Some(e) => out.error(&e),
            None => out.ok(),
        },
    )
}

/// Zeroes INFO's counters on every shard and the node's connection counters.
fn config_resetstat(st: &mut ShardState, _ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    st.node.total_connections_received.store(0, Ordering::Relaxed);
    st.node.rejected_connections.store(0, Ordering::Relaxed);
    fan_out(
        st,
        out,
        |s: &mut ShardState| {
            s.stats = Default::default();
            s.store.keyspace_hits = 0;
            s.store.keyspace_misses = 0;
            for db in s.store.dbs.iter_mut() {
                db.expired_keys = 0;
            }
        },
        |_, out| out.ok(),
    )
}

/// Writes `text` to `path` atomically: a temp file in the same directory, fsynced, renamed.
fn write_atomically(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp-{}", std::process::id()));
    let tmp = std::path::PathBuf::from(tmp);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// CONFIG REWRITE: the file given at startup is rewritten with every non-default setting, in
/// its own syntax (TOML for `.toml` files, redis.conf lines otherwise).
fn config_rewrite(st: &mut ShardState, _ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    let Some(path) = st.cfg.config_file.clone() else {
        out.error("ERR The server is running without a config file");
        return ConnResult::Done;
    };
    let toml = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    let text = if toml { st.cfg.rewrite_toml() } else { st.cfg.rewrite_text() };
    match write_atomically(&path, &text) {
        Ok(()) => {
            log::notice("CONFIG REWRITE executed with success.");
            out.ok();
        }
        Err(e) => {
            log::warning(&format!("CONFIG REWRITE failed: {e}"));
            out.error(&format!("ERR Rewriting config file: {e}"));
        }
    }
    ConnResult::Done
}

fn config_help(_st: &mut ShardState, _ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    help(
        out,
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    );
    ConnResult::Done
}

/// What SHUTDOWN was asked to do.
#[derive(Debug, Default, PartialEq, Eq)]
struct ShutdownFlags {
    nosave: bool,
    save: bool,
    now: bool,
    force: bool,
    abort: bool,
}

fn parse_shutdown(args: &[&[u8]]) -> Result<ShutdownFlags, &'static str> {
    let mut f = ShutdownFlags::default();
    for a in &args[1..] {
        if eq_ic(a, "nosave") {
            f.nosave = true;
        } else if eq_ic(a, "save") {
            f.save = true;
        } else if eq_ic(a, "now") {
            f.now = true;
        } else if eq_ic(a, "force") {
            f.force = true;
        } else if eq_ic(a, "abort") {
            f.abort = true;
        } else {
            return Err(error::SYNTAX);
        }
    }
    if (f.abort && (f.nosave || f.save || f.now || f.force)) || (f.nosave && f.save) {
        return Err(error::SYNTAX);
    }
    Ok(f)
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: saves first when asked or when save points
/// are set (see `save::shutdown_with_save`). As Redis, a successful SHUTDOWN sends no reply:
/// the connection just closes.
fn shutdown(st: &mut ShardState, _ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    let f = match parse_shutdown(args) {
        Ok(f) => f,
        Err(e) => {
            out.error(e);
            return ConnResult::Done;
        }
    };
    if f.abort {
        // Shutdowns are immediate here, so none is ever in progress.
        out.error("ERR No shutdown in progress.");
        return ConnResult::Done;
    }
    // The runtime logs "User requested shutdown..." and stops every shard.
    save::shutdown_with_save(st, out, f.save, f.nosave, f.force)
}
