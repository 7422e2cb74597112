//! MEMORY USAGE / DOCTOR / MALLOC-STATS / PURGE / STATS / HELP.
//!
//! USAGE runs on the shard owning the key and sums what the key really costs here: its table
//! bucket, the key bytes kept outside it, and the value's own allocations (each type reports
//! `heap_size_bytes`, which counts every element, so no sampling is needed and SAMPLES is
//! accepted for compatibility). STATS sums the shards' allocator counts under Redis's field
//! names.

use futures::FutureExt;

use crate::command::family::server::fanout::{help, subcommand_syntax_error};
use crate::command::spec::{flag, spec, CommandSpec, ConnResult, DataCtx, Exec, Split};
use crate::error;
use crate::resp::Out;
use crate::shard::ShardState;
use crate::store::slot_table::SlotTable;
use crate::store::{CompactBytes, Entry};

const ACL_SLOW: &[&str] = &["@slow"];

#[rustfmt::skip]
static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec { complexity: "O(N) where N is the number of samples.", ..spec("memory|usage", -3, flag::READONLY, (2, 2, 1), &["@read", "@slow"], "server", "4.0.0", "Estimate the memory usage of a key", Exec::Data(usage), Split::None) },
    CommandSpec { complexity: "O(1)", ..spec("memory|stats", 2, 0, (0, 0, 0), ACL_SLOW, "server", "4.0.0", "Show memory usage details", Exec::Conn(stats), Split::None) },
    CommandSpec { complexity: "O(1)", ..spec("memory|doctor", 2, 0, (0, 0, 0), ACL_SLOW, "server", "4.0.0", "Outputs memory problems report", Exec::Conn(doctor), Split::None) },
    CommandSpec { complexity: "Depends on how much memory is allocated, could be slow", ..spec("memory|purge", 2, 0, (0, 0, 0), ACL_SLOW, "server", "4.0.0", "Ask the allocator to release memory", Exec::Conn(purge), Split::None) },
    CommandSpec { complexity: "Depends on how much memory is allocated, could be slow", ..spec("memory|malloc-stats", 2, 0, (0, 0, 0), ACL_SLOW, "server", "4.0.0", "Show allocator internal stats", Exec::Conn(malloc_stats), Split::None) },
    CommandSpec { complexity: "O(1)", ..spec("memory|help", 2, flag::LOADING | flag::STALE, (0, 0, 0), ACL_SLOW, "server", "4.0.0", "Show helpful text about the different subcommands", Exec::Conn(memory_help), Split::None) },
];

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        subcommands: SUBCOMMANDS,
        complexity: "Depends on subcommand.",
        ..spec("memory", -2, 0, (0, 0, 0), ACL_SLOW, "server", "4.0.0", "A container for memory diagnostics commands", Exec::Container, Split::None)
    },
];

/// MEMORY USAGE's figure for one key: its share of its slot table (the table's pairs vector
/// and index divided by the keys in it), the key's bytes when too long to sit inline, and
/// everything the value allocates.
pub fn key_usage_bytes(key: &[u8], e: &Entry, table: Option<&SlotTable>) -> usize {
    let share = table
        .filter(|t| !t.is_empty())
        .map_or(std::mem::size_of::<(CompactBytes, Entry)>(), |t| t.heap_size_bytes().div_ceil(t.len()));
    share + CompactBytes::new(key).heap_size_bytes() + e.value.heap_size_bytes()
}

/// MEMORY USAGE key [SAMPLES count]: the options are checked as Redis does (a negative count
/// is a syntax error) before the key is looked up.
fn usage(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let mut j = 3;
    while j < args.len() {
        if args[j].eq_ignore_ascii_case(b"samples") && j + 1 < args.len() {
            match crate::command::args::parse_i64(args[j + 1]) {
                Ok(n) if n >= 0 => {}
                Ok(_) => return out.error(error::SYNTAX),
                Err(e) => return out.error(e),
            }
            j += 2;
        } else {
            return out.error(error::SYNTAX);
        }
    }
    let now = ctx.now_ms;
    if ctx.db().get(args[2], now).is_none() {
        return out.null();
    }
    let db = ctx.db();
    let table = db.slot_table(crate::cluster::slot::key_slot(args[2]));
    match table.and_then(|t| t.get(args[2])) {
        Some(e) => out.int(key_usage_bytes(args[2], e, table) as i64),
        None => out.null(),
    }
}

/// Allocator figures summed over shards: (used bytes, keys).
fn gather(s: &mut ShardState) -> (i64, u64) {
    (crate::store::memory::thread_used_bytes(), s.store.dbs.iter().map(|d| d.len() as u64).sum())
}

fn stats(st: &mut ShardState, ci: usize, _args: &[&[u8]], _out: &mut Out) -> ConnResult {
    let resp3 = st.clients[ci].resp3;
    let h = st.handle.clone();
    let peak = st.node.shard_used_bytes.iter().map(|a| a.load(std::sync::atomic::Ordering::Relaxed)).sum::<i64>();
    ConnResult::Later(
        async move {
            let parts = h.call_all(None, gather).await;
            let used: i64 = parts.iter().map(|p| p.0).sum::<i64>().max(0);
            let keys: u64 = parts.iter().map(|p| p.1).sum();
            let peak = peak.max(used);
            let mut buf = Vec::new();
            let mut o = Out::new(&mut buf, resp3);
            let fields: [(&str, i64); 8] = [
                ("peak.allocated", peak),
                ("total.allocated", used),
                ("startup.allocated", 0),
                ("replication.backlog", 0),
                ("clients.slaves", 0),
                ("clients.normal", 0),
                ("keys.count", keys as i64),
                ("dataset.bytes", used),
            ];
            o.map(fields.len() + 1);
            for (k, v) in fields {
                o.bulk(k.as_bytes());
                o.int(v);
            }
            o.bulk(b"keys.bytes-per-key");
            o.int(if keys == 0 { 0 } else { used / keys as i64 });
            buf
        }
        .boxed_local(),
    )
}

fn doctor(_st: &mut ShardState, _ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    out.verbatim(
        b"Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.",
    );
    ConnResult::Done
}

fn purge(_st: &mut ShardState, _ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    out.ok();
    ConnResult::Done
}

fn malloc_stats(_st: &mut ShardState, _ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    out.verbatim(b"Stats not supported for the current allocator");
    ConnResult::Done
}

fn memory_help(_st: &mut ShardState, _ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    if args.len() != 2 {
        subcommand_syntax_error(out, args);
        return ConnResult::Done;
    }
    help(
        out,
        "MEMORY",
        &[
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    );
    ConnResult::Done
}

#[cfg(test)]
mod tests {
    use crate::testing::harness::Harness;

    #[test]
    fn usage_counts_key_and_value() {
        let mut h = Harness::new();
        assert_eq!(h.run("memory usage nokey"), "$-1\r\n");
        h.run("set k v");
        let small: i64 = h.run("memory usage k")[1..].trim().parse().unwrap_or(0);
        assert!((1..200).contains(&small), "{small}");
        h.run(&format!("set big {}", "x".repeat(1000)));
        let big: i64 = h.run("memory usage big")[1..].trim().parse().unwrap_or(0);
        assert!((1000..1200).contains(&big), "{big}");
        for i in 0..200 {
            h.run(&format!("rpush l element-{i}"));
        }
        let list: i64 = h.run("memory usage l samples 0")[1..].trim().parse().unwrap_or(0);
        assert!(list > 200 * 10, "{list}");
        assert_eq!(h.run("memory usage k samples"), "-ERR syntax error\r\n");
        assert_eq!(h.run("memory usage k samples -1"), "-ERR syntax error\r\n");
        assert_eq!(h.run("memory usage k samples x"), "-ERR value is not an integer or out of range\r\n");
        assert_eq!(h.run("memory usage k foo 1"), "-ERR syntax error\r\n");
    }
}

#[cfg(test)]
mod lfu_tests {
    use crate::config::MaxmemoryPolicy;
    use crate::testing::harness::Harness;

    /// The counter as Redis keeps it: 5 for a new key, +1 on the first read (certain at the
    /// initial value), decayed by one per `lfu-decay-time` minute; OBJECT FREQ is no access.
    #[test]
    fn object_freq_follows_reads_and_decay() {
        let mut h = Harness::new();
        h.run("set k v");
        assert!(h.run("object freq k").starts_with("-ERR An LFU maxmemory policy is not selected"));
        h.cfg.maxmemory_policy = MaxmemoryPolicy::AllkeysLfu;
        h.cfg.lfu_log_factor = 10;
        h.cfg.lfu_decay_time_min = 1;
        assert_eq!(h.run("object freq k"), ":5\r\n");
        h.run("get k");
        assert_eq!(h.run("object freq k"), ":6\r\n");
        assert_eq!(h.run("object freq k"), ":6\r\n");
        h.now_ms += 3 * 60_000;
        assert_eq!(h.run("object freq k"), ":3\r\n");
        h.cfg.lfu_log_factor = 0;
        for _ in 0..300 {
            h.run("get k");
        }
        assert_eq!(h.run("object freq k"), ":255\r\n");
    }
}
