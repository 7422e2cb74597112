//! INFO: the text of Redis 7.0's INFO sections, with Redis's section names, field names,
//! order and number formats, so redis_exporter, Grafana dashboards and client libraries that
//! parse INFO keep working against Tessera.
//!
//! The node's numbers live on every shard (keys, memory, counters), so the INFO command fans
//! out, each shard fills a [`ShardPart`] on its own thread, and [`Snapshot::merge`] adds them
//! up; [`render`] is a pure function of the snapshot and the requested sections. Nothing here
//! touches sockets or another shard's state; fields Tessera does not measure yet (replication,
//! persistence, Lua) are reported with the values Redis shows when the feature is idle.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// The Redis version Tessera answers as (INFO, HELLO): clients gate features on it.
pub const REDIS_VERSION: &str = "7.0.15";

/// What one shard contributes, gathered on that shard's thread.
#[derive(Clone, Debug, Default)]
pub struct ShardPart {
    /// Net bytes allocated by the shard's thread (`memory::thread_used_bytes`).
    pub used_bytes: i64,
    /// (keys, keys with a TTL) per database.
    pub dbs: Vec<(u64, u64)>,
    pub expired_keys: u64,
    pub evicted_keys: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub dirty: u64,
    pub total_commands_processed: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    pub forwarded_commands: u64,
    pub cross_shard_txs: u64,
    /// Largest query / reply buffer among the shard's clients.
    pub max_qbuf_bytes: usize,
    pub max_obuf_bytes: usize,
    /// Clients of this shard's connections waiting in a blocking command.
    pub blocked_clients: u64,
    pub clients_in_timeout_table: u64,
}

impl ShardPart {
    /// Reads the shard's counters; call it on the shard's own thread (the memory count is
    /// per thread).
    pub fn gather(st: &crate::shard::ShardState) -> ShardPart {
        ShardPart {
            used_bytes: crate::store::memory::thread_used_bytes(),
            dbs: st.store.dbs.iter().map(|d| (d.len() as u64, d.expires_len() as u64)).collect(),
            expired_keys: st.store.expired_keys(),
            evicted_keys: st.stats.evicted_keys,
            keyspace_hits: st.store.keyspace_hits,
            keyspace_misses: st.store.keyspace_misses,
            dirty: st.store.dirty,
            total_commands_processed: st.stats.total_commands_processed,
            net_input_bytes: st.stats.net_input_bytes,
            net_output_bytes: st.stats.net_output_bytes,
            forwarded_commands: st.stats.forwarded_commands,
            cross_shard_txs: st.stats.cross_shard_txs,
            max_qbuf_bytes: st.clients.iter().map(|(_, c)| c.qbuf_bytes).max().unwrap_or(0),
            max_obuf_bytes: st.clients.iter().map(|(_, c)| c.obuf_bytes).max().unwrap_or(0),
            blocked_clients: st.handle.blocked.borrow().len() as u64,
            clients_in_timeout_table: st.handle.blocked.borrow().with_deadline() as u64,
        }
    }
}

/// jemalloc's own totals (`stats.allocated|active|resident`).
#[derive(Clone, Copy, Debug, Default)]
pub struct AllocatorStats {
    pub allocated_bytes: u64,
    pub active_bytes: u64,
    pub resident_bytes: u64,
}

/// CPU time in microseconds: the process, its children, and the thread answering INFO (Redis
/// calls its main thread's figures `*_main_thread`; a Tessera node has one loop per shard).
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuTimes {
    pub sys_us: u64,
    pub user_us: u64,
    pub children_sys_us: u64,
    pub children_user_us: u64,
    pub thread_sys_us: u64,
    pub thread_user_us: u64,
}

/// Everything INFO prints, node-wide.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub cluster_enabled: bool,
    pub shards: usize,
    pub pid: u32,
    pub run_id: String,
    pub tcp_port: u16,
    pub now_us: u64,
    pub uptime_s: u64,
    pub hz: u64,
    pub executable: String,
    pub config_file: String,
    pub connected_clients: u64,
    pub maxclients: u64,
    pub used_memory_bytes: u64,
    pub used_memory_peak_bytes: u64,
    pub rss_bytes: u64,
    pub allocator: AllocatorStats,
    pub total_system_memory_bytes: u64,
    pub maxmemory_bytes: u64,
    pub maxmemory_policy: String,
    pub last_save_unix_s: u64,
    /// Snapshot status (`persist::status`), read when INFO starts.
    pub persist: crate::persist::status::PersistInfo,
    pub total_connections_received: u64,
    pub rejected_connections: u64,
    pub master_replid: String,
    pub repl_backlog_size_bytes: u64,
    pub cpu: CpuTimes,
    /// The shards' parts added up (`dbs` summed per database).
    pub totals: ShardPart,
    /// Each shard's own count of bytes, in shard order (what it weighs against its share of
    /// `maxmemory`).
    pub shard_used_bytes: Vec<i64>,
}

/// Highest `used_memory` any INFO has seen (Redis: `used_memory_peak`).
static PEAK_USED_BYTES: AtomicU64 = AtomicU64::new(0);

impl Snapshot {
    /// Adds up the shards' parts into `totals` and the memory figures. `other_used_bytes` is
    /// what non-shard threads hold (`memory::other_used_bytes`).
    pub fn merge(&mut self, parts: &[ShardPart], other_used_bytes: i64) {
        let mut t = ShardPart::default();
        let mut used: i64 = other_used_bytes;
        self.shard_used_bytes = parts.iter().map(|p| p.used_bytes).collect();
        for p in parts {
            used += p.used_bytes;
            if t.dbs.len() < p.dbs.len() {
                t.dbs.resize(p.dbs.len(), (0, 0));
            }
            for (acc, d) in t.dbs.iter_mut().zip(&p.dbs) {
                acc.0 += d.0;
                acc.1 += d.1;
            }
            t.expired_keys += p.expired_keys;
            t.evicted_keys += p.evicted_keys;
            t.keyspace_hits += p.keyspace_hits;
            t.keyspace_misses += p.keyspace_misses;
            t.dirty += p.dirty;
            t.total_commands_processed += p.total_commands_processed;
            t.net_input_bytes += p.net_input_bytes;
            t.net_output_bytes += p.net_output_bytes;
            t.forwarded_commands += p.forwarded_commands;
            t.cross_shard_txs += p.cross_shard_txs;
            t.max_qbuf_bytes = t.max_qbuf_bytes.max(p.max_qbuf_bytes);
            t.max_obuf_bytes = t.max_obuf_bytes.max(p.max_obuf_bytes);
            t.blocked_clients += p.blocked_clients;
            t.clients_in_timeout_table += p.clients_in_timeout_table;
        }
        self.totals = t;
        // Frees on another thread than the allocating one move bytes between counts; the sum
        // is exact but a transient negative share is possible, never a negative total.
        self.used_memory_bytes = used.max(0) as u64;
        let peak = PEAK_USED_BYTES.fetch_max(self.used_memory_bytes, Ordering::Relaxed);
        self.used_memory_peak_bytes = peak.max(self.used_memory_bytes);
    }
}

/// Which sections a call asked for, as Redis 7.0's `genInfoSectionDict`.
#[derive(Clone, Debug, Default)]
pub struct Sections {
    pub all: bool,
    pub everything: bool,
    names: Vec<String>,
}

const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "module_list",
    "errorstats",
    "cluster",
    "keyspace",
];

impl Sections {
    /// From INFO's arguments (after the command name). No argument means `default`.
    pub fn parse(args: &[&[u8]]) -> Sections {
        let mut s = Sections::default();
        if args.is_empty() {
            s.names = DEFAULT_SECTIONS.iter().map(|n| n.to_string()).collect();
            return s;
        }
        for a in args {
            let name = String::from_utf8_lossy(a).to_ascii_lowercase();
            match name.as_str() {
                "default" => s.names.extend(DEFAULT_SECTIONS.iter().map(|n| n.to_string())),
                "all" => s.all = true,
                "everything" => {
                    s.all = true;
                    s.everything = true;
                }
                _ => s.names.push(name),
            }
        }
        s
    }

    /// Is section `name` part of the reply?
    pub fn wants(&self, name: &str) -> bool {
        self.all || self.names.iter().any(|n| n == name)
    }
}

/// `bytesToHuman` of Redis: B, K, M, G, T, P with two decimals.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [(u64, &str); 5] = [(1 << 10, "K"), (1 << 20, "M"), (1 << 30, "G"), (1 << 40, "T"), (1 << 50, "P")];
    if n < 1024 {
        return format!("{n}B");
    }
    for (i, &(div, unit)) in UNITS.iter().enumerate() {
        let next = UNITS.get(i + 1).map_or(1u64 << 60, |u| u.0);
        if n < next {
            return format!("{:.2}{unit}", n as f64 / div as f64);
        }
    }
    format!("{n}B")
}

fn secs_us(us: u64) -> String {
    format!("{}.{:06}", us / 1_000_000, us % 1_000_000)
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// The kernel name, release and machine as `uname -srm` prints them.
fn os_line() -> String {
    let read = |p: &str| std::fs::read_to_string(p).map(|s| s.trim().to_string()).unwrap_or_default();
    format!("{} {} {}", read("/proc/sys/kernel/ostype"), read("/proc/sys/kernel/osrelease"), std::env::consts::ARCH)
}

/// Appends `name:value\r\n` lines; `w!` keeps the field lists readable.
macro_rules! w {
    ($s:expr, $($arg:tt)*) => {{
        let _ = write!($s, $($arg)*);
        $s.push_str("\r\n");
    }};
}

fn server(o: &mut String, s: &Snapshot) {
    o.push_str("# Server\r\n");
    w!(o, "redis_version:{REDIS_VERSION}");
    w!(o, "redis_git_sha1:00000000");
    w!(o, "redis_git_dirty:0");
    w!(o, "redis_build_id:0000000000000000");
    w!(o, "redis_mode:{}", if s.cluster_enabled { "cluster" } else { "standalone" });
    w!(o, "os:{}", os_line());
    w!(o, "arch_bits:{}", usize::BITS);
    w!(o, "monotonic_clock:POSIX clock_gettime");
    w!(o, "multiplexing_api:io_uring");
    w!(o, "atomicvar_api:c11-builtin");
    w!(o, "gcc_version:0.0.0");
    w!(o, "process_id:{}", s.pid);
    w!(o, "process_supervised:no");
    w!(o, "run_id:{}", s.run_id);
    w!(o, "tcp_port:{}", s.tcp_port);
    w!(o, "server_time_usec:{}", s.now_us);
    w!(o, "uptime_in_seconds:{}", s.uptime_s);
    w!(o, "uptime_in_days:{}", s.uptime_s / 86_400);
    w!(o, "hz:{}", s.hz);
    w!(o, "configured_hz:{}", s.hz);
    // Redis's LRU clock: seconds, 24 bits.
    w!(o, "lru_clock:{}", (s.now_us / 1_000_000) & ((1 << 24) - 1));
    w!(o, "executable:{}", s.executable);
    w!(o, "config_file:{}", s.config_file);
    w!(o, "io_threads_active:0");
    w!(o, "tessera_version:{}", env!("CARGO_PKG_VERSION"));
    w!(o, "tessera_shards:{}", s.shards);
}

fn clients(o: &mut String, s: &Snapshot) {
    o.push_str("# Clients\r\n");
    w!(o, "connected_clients:{}", s.connected_clients);
    w!(o, "cluster_connections:0");
    w!(o, "maxclients:{}", s.maxclients);
    w!(o, "client_recent_max_input_buffer:{}", s.totals.max_qbuf_bytes);
    w!(o, "client_recent_max_output_buffer:{}", s.totals.max_obuf_bytes);
    w!(o, "blocked_clients:{}", s.totals.blocked_clients);
    w!(o, "tracking_clients:0");
    w!(o, "clients_in_timeout_table:{}", s.totals.clients_in_timeout_table);
}

fn memory(o: &mut String, s: &Snapshot) {
    let used = s.used_memory_bytes;
    let peak = s.used_memory_peak_bytes.max(used);
    let rss = s.rss_bytes;
    let a = s.allocator;
    o.push_str("# Memory\r\n");
    w!(o, "used_memory:{used}");
    w!(o, "used_memory_human:{}", human_bytes(used));
    w!(o, "used_memory_rss:{rss}");
    w!(o, "used_memory_rss_human:{}", human_bytes(rss));
    w!(o, "used_memory_peak:{peak}");
    w!(o, "used_memory_peak_human:{}", human_bytes(peak));
    w!(o, "used_memory_peak_perc:{:.2}%", ratio(used, peak) * 100.0);
    // Tessera does not split its own overhead from the dataset yet: all of it is dataset.
    w!(o, "used_memory_overhead:0");
    w!(o, "used_memory_startup:0");
    w!(o, "used_memory_dataset:{used}");
    w!(o, "used_memory_dataset_perc:{:.2}%", if used == 0 { 0.0 } else { 100.0 });
    w!(o, "allocator_allocated:{}", a.allocated_bytes);
    w!(o, "allocator_active:{}", a.active_bytes);
    w!(o, "allocator_resident:{}", a.resident_bytes);
    w!(o, "total_system_memory:{}", s.total_system_memory_bytes);
    w!(o, "total_system_memory_human:{}", human_bytes(s.total_system_memory_bytes));
    w!(o, "used_memory_lua:0");
    w!(o, "used_memory_vm_eval:0");
    w!(o, "used_memory_lua_human:0B");
    w!(o, "used_memory_scripts_eval:0");
    w!(o, "number_of_cached_scripts:0");
    w!(o, "number_of_functions:0");
    w!(o, "number_of_libraries:0");
    w!(o, "used_memory_vm_functions:0");
    w!(o, "used_memory_vm_total:0");
    w!(o, "used_memory_vm_total_human:0B");
    w!(o, "used_memory_functions:0");
    w!(o, "used_memory_scripts:0");
    w!(o, "used_memory_scripts_human:0B");
    w!(o, "maxmemory:{}", s.maxmemory_bytes);
    w!(o, "maxmemory_human:{}", human_bytes(s.maxmemory_bytes));
    w!(o, "maxmemory_policy:{}", s.maxmemory_policy);
    w!(o, "allocator_frag_ratio:{:.2}", ratio(a.active_bytes, a.allocated_bytes));
    w!(o, "allocator_frag_bytes:{}", a.active_bytes as i64 - a.allocated_bytes as i64);
    w!(o, "allocator_rss_ratio:{:.2}", ratio(a.resident_bytes, a.active_bytes));
    w!(o, "allocator_rss_bytes:{}", a.resident_bytes as i64 - a.active_bytes as i64);
    w!(o, "rss_overhead_ratio:{:.2}", ratio(rss, a.resident_bytes));
    w!(o, "rss_overhead_bytes:{}", rss as i64 - a.resident_bytes as i64);
    w!(o, "mem_fragmentation_ratio:{:.2}", ratio(rss, used));
    w!(o, "mem_fragmentation_bytes:{}", rss as i64 - used as i64);
    w!(o, "mem_not_counted_for_evict:0");
    w!(o, "mem_replication_backlog:0");
    w!(o, "mem_total_replication_buffers:0");
    w!(o, "mem_clients_slaves:0");
    w!(o, "mem_clients_normal:0");
    w!(o, "mem_cluster_links:0");
    w!(o, "mem_aof_buffer:0");
    w!(o, "mem_allocator:jemalloc-5.3.0");
    w!(o, "active_defrag_running:0");
    w!(o, "lazyfree_pending_objects:0");
    w!(o, "lazyfreed_objects:0");
    let shares: Vec<String> = s.shard_used_bytes.iter().map(|b| b.to_string()).collect();
    w!(o, "tessera_used_memory_shards:{}", shares.join(","));
}

fn persistence(o: &mut String, s: &Snapshot) {
    let p = &s.persist;
    o.push_str("# Persistence\r\n");
    w!(o, "loading:0");
    w!(o, "async_loading:0");
    w!(o, "current_cow_peak:0");
    w!(o, "current_cow_size:0");
    w!(o, "current_cow_size_age:0");
    w!(o, "current_fork_perc:0.00");
    w!(o, "current_save_keys_processed:0");
    w!(o, "current_save_keys_total:0");
    w!(o, "rdb_changes_since_last_save:{}", s.totals.dirty.saturating_sub(p.saved_dirty_total));
    w!(o, "rdb_bgsave_in_progress:{}", u8::from(p.bgsave_in_progress));
    // Before persistence is set up (unit tests), the node's start time, as Redis reports.
    let last_save = if p.last_save_unix_s == 0 { s.last_save_unix_s } else { p.last_save_unix_s };
    w!(o, "rdb_last_save_time:{last_save}");
    w!(o, "rdb_last_bgsave_status:{}", if p.last_bgsave_ok { "ok" } else { "err" });
    w!(o, "rdb_last_bgsave_time_sec:{}", p.last_bgsave_duration_s);
    w!(o, "rdb_current_bgsave_time_sec:{}", p.current_bgsave_duration_s);
    w!(o, "rdb_saves:{}", p.saves);
    w!(o, "rdb_last_cow_size:0");
    w!(o, "rdb_last_load_keys_expired:{}", p.load_keys_expired);
    w!(o, "rdb_last_load_keys_loaded:{}", p.load_keys_loaded);
    use crate::persist::aof::info as aof;
    use std::sync::atomic::Ordering::Relaxed;
    let enabled = aof::ENABLED.load(Relaxed);
    let rewriting = aof::IN_PROGRESS.iter().any(|x| x.load(Relaxed));
    w!(o, "aof_enabled:{}", u8::from(enabled));
    w!(o, "aof_rewrite_in_progress:{}", u8::from(rewriting));
    w!(o, "aof_rewrite_scheduled:0");
    w!(o, "aof_last_rewrite_time_sec:-1");
    w!(o, "aof_current_rewrite_time_sec:-1");
    w!(
        o,
        "aof_last_bgrewrite_status:{}",
        if aof::LAST_REWRITE_FAILED.iter().any(|x| x.load(Relaxed)) { "err" } else { "ok" }
    );
    w!(o, "aof_rewrites:{}", aof::REWRITES.load(Relaxed));
    w!(o, "aof_rewrites_consecutive_failures:0");
    w!(o, "aof_last_write_status:{}", if aof::WRITE_ERRORS.load(Relaxed) == 0 { "ok" } else { "err" });
    w!(o, "aof_last_cow_size:0");
    w!(o, "module_fork_in_progress:0");
    w!(o, "module_fork_last_cow_size:0");
    if enabled {
        w!(o, "aof_current_size:{}", aof::sum(&aof::CURRENT_SIZE));
        w!(o, "aof_base_size:{}", aof::sum(&aof::BASE_SIZE));
        w!(o, "aof_pending_rewrite:0");
        w!(o, "aof_buffer_length:{}", aof::sum(&aof::PENDING_BYTES));
        w!(o, "aof_pending_bio_fsync:0");
        w!(o, "aof_delayed_fsync:{}", aof::DELAYED_FSYNC.load(Relaxed));
    }
}

fn stats(o: &mut String, s: &Snapshot) {
    let t = &s.totals;
    o.push_str("# Stats\r\n");
    w!(o, "total_connections_received:{}", s.total_connections_received);
    w!(o, "total_commands_processed:{}", t.total_commands_processed);
    w!(o, "instantaneous_ops_per_sec:0");
    w!(o, "total_net_input_bytes:{}", t.net_input_bytes);
    w!(o, "total_net_output_bytes:{}", t.net_output_bytes);
    w!(o, "total_net_repl_input_bytes:0");
    w!(o, "total_net_repl_output_bytes:0");
    w!(o, "instantaneous_input_kbps:0.00");
    w!(o, "instantaneous_output_kbps:0.00");
    w!(o, "instantaneous_input_repl_kbps:0.00");
    w!(o, "instantaneous_output_repl_kbps:0.00");
    w!(o, "rejected_connections:{}", s.rejected_connections);
    w!(o, "sync_full:0");
    w!(o, "sync_partial_ok:0");
    w!(o, "sync_partial_err:0");
    w!(o, "expired_keys:{}", t.expired_keys);
    w!(o, "expired_stale_perc:0.00");
    w!(o, "expired_time_cap_reached_count:0");
    w!(o, "expire_cycle_cpu_milliseconds:0");
    w!(o, "evicted_keys:{}", t.evicted_keys);
    w!(o, "evicted_clients:0");
    w!(o, "total_eviction_exceeded_time:0");
    w!(o, "current_eviction_exceeded_time:0");
    w!(o, "keyspace_hits:{}", t.keyspace_hits);
    w!(o, "keyspace_misses:{}", t.keyspace_misses);
    w!(o, "pubsub_channels:0");
    w!(o, "pubsub_patterns:0");
    w!(o, "pubsubshard_channels:0");
    w!(o, "latest_fork_usec:0");
    w!(o, "total_forks:0");
    w!(o, "migrate_cached_sockets:0");
    w!(o, "slave_expires_tracked_keys:0");
    w!(o, "active_defrag_hits:0");
    w!(o, "active_defrag_misses:0");
    w!(o, "active_defrag_key_hits:0");
    w!(o, "active_defrag_key_misses:0");
    w!(o, "total_active_defrag_time:0");
    w!(o, "current_active_defrag_time:0");
    w!(o, "tracking_total_keys:0");
    w!(o, "tracking_total_items:0");
    w!(o, "tracking_total_prefixes:0");
    w!(o, "unexpected_error_replies:0");
    w!(o, "total_error_replies:0");
    w!(o, "dump_payload_sanitizations:0");
    w!(o, "total_reads_processed:0");
    w!(o, "total_writes_processed:0");
    w!(o, "io_threaded_reads_processed:0");
    w!(o, "io_threaded_writes_processed:0");
    w!(o, "reply_buffer_shrinks:0");
    w!(o, "reply_buffer_expands:0");
    w!(o, "tessera_forwarded_commands:{}", t.forwarded_commands);
    w!(o, "tessera_cross_shard_commands:{}", t.cross_shard_txs);
}

fn replication(o: &mut String, s: &Snapshot) {
    o.push_str("# Replication\r\n");
    w!(o, "role:master");
    w!(o, "connected_slaves:0");
    w!(o, "master_failover_state:no-failover");
    w!(o, "master_replid:{}", s.master_replid);
    w!(o, "master_replid2:0000000000000000000000000000000000000000");
    w!(o, "master_repl_offset:0");
    w!(o, "second_repl_offset:-1");
    w!(o, "repl_backlog_active:0");
    w!(o, "repl_backlog_size:{}", s.repl_backlog_size_bytes);
    w!(o, "repl_backlog_first_byte_offset:0");
    w!(o, "repl_backlog_histlen:0");
}

fn cpu(o: &mut String, s: &Snapshot) {
    let c = s.cpu;
    o.push_str("# CPU\r\n");
    w!(o, "used_cpu_sys:{}", secs_us(c.sys_us));
    w!(o, "used_cpu_user:{}", secs_us(c.user_us));
    w!(o, "used_cpu_sys_children:{}", secs_us(c.children_sys_us));
    w!(o, "used_cpu_user_children:{}", secs_us(c.children_user_us));
    w!(o, "used_cpu_sys_main_thread:{}", secs_us(c.thread_sys_us));
    w!(o, "used_cpu_user_main_thread:{}", secs_us(c.thread_user_us));
}

fn keyspace(o: &mut String, s: &Snapshot) {
    o.push_str("# Keyspace\r\n");
    for (i, &(keys, expires)) in s.totals.dbs.iter().enumerate() {
        if keys > 0 {
            // avg_ttl is an estimate Redis refines in its expire cycle; not sampled here yet.
            w!(o, "db{i}:keys={keys},expires={expires},avg_ttl=0");
        }
    }
}

/// The INFO text for `sections`, sections separated by an empty line as Redis does.
pub fn render(sections: &Sections, s: &Snapshot) -> String {
    type Section = fn(&mut String, &Snapshot);
    fn sep(o: &mut String, n: &mut usize) {
        if *n > 0 {
            o.push_str("\r\n");
        }
        *n += 1;
    }
    let mut o = String::with_capacity(4096);
    let mut n = 0;
    let plain: [(&str, Section); 7] = [
        ("server", server),
        ("clients", clients),
        ("memory", memory),
        ("persistence", persistence),
        ("stats", stats),
        ("replication", replication),
        ("cpu", cpu),
    ];
    for (name, f) in plain {
        if sections.wants(name) {
            sep(&mut o, &mut n);
            f(&mut o, s);
        }
    }
    if sections.wants("module_list") || sections.wants("modules") {
        sep(&mut o, &mut n);
        o.push_str("# Modules\r\n");
    }
    // Per-command and per-error counters are not kept yet: the sections are present, empty.
    for (name, title) in [
        ("commandstats", "# Commandstats\r\n"),
        ("errorstats", "# Errorstats\r\n"),
        ("latencystats", "# Latencystats\r\n"),
    ] {
        if sections.wants(name) {
            sep(&mut o, &mut n);
            o.push_str(title);
        }
    }
    if sections.wants("cluster") {
        sep(&mut o, &mut n);
        o.push_str("# Cluster\r\n");
        w!(o, "cluster_enabled:{}", s.cluster_enabled as u8);
    }
    if sections.wants("keyspace") {
        sep(&mut o, &mut n);
        keyspace(&mut o, s);
    }
    o
}

/// CPU times from `getrusage` (self, children, calling thread).
pub fn cpu_times() -> CpuTimes {
    fn usage(who: libc::c_int) -> (u64, u64) {
        // SAFETY: rusage is plain data; getrusage only writes into the struct we pass.
        #[allow(unsafe_code)]
        let ru = unsafe {
            let mut ru: libc::rusage = std::mem::zeroed();
            if libc::getrusage(who, &mut ru) != 0 {
                return (0, 0);
            }
            ru
        };
        let us = |t: libc::timeval| t.tv_sec.max(0) as u64 * 1_000_000 + t.tv_usec.max(0) as u64;
        (us(ru.ru_stime), us(ru.ru_utime))
    }
    let (sys_us, user_us) = usage(libc::RUSAGE_SELF);
    let (children_sys_us, children_user_us) = usage(libc::RUSAGE_CHILDREN);
    let (thread_sys_us, thread_user_us) = usage(libc::RUSAGE_THREAD);
    CpuTimes { sys_us, user_us, children_sys_us, children_user_us, thread_sys_us, thread_user_us }
}

/// jemalloc's totals after refreshing its statistics epoch. Read through raw `mallctl` names
/// so this builds without tikv-jemalloc-ctl's `stats` feature; zeros when jemalloc was built
/// without statistics.
pub fn allocator_stats() -> AllocatorStats {
    use tikv_jemalloc_ctl::{epoch, raw};
    let _ = epoch::advance();
    // SAFETY: each name is a NUL-terminated jemalloc statistic of type size_t.
    #[allow(unsafe_code)]
    let read = |name: &[u8]| unsafe { raw::read::<usize>(name) }.unwrap_or(0) as u64;
    AllocatorStats {
        allocated_bytes: read(b"stats.allocated\0"),
        active_bytes: read(b"stats.active\0"),
        resident_bytes: read(b"stats.resident\0"),
    }
}

/// `MemTotal` from /proc/meminfo, in bytes.
pub fn total_system_memory_bytes() -> u64 {
    let Ok(s) = std::fs::read_to_string("/proc/meminfo") else { return 0 };
    s.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap() -> Snapshot {
        let mut s = Snapshot { run_id: "r".repeat(40), tcp_port: 7000, shards: 2, ..Default::default() };
        let a = ShardPart { used_bytes: 1000, dbs: vec![(2, 1), (0, 0)], dirty: 3, ..Default::default() };
        let b =
            ShardPart { used_bytes: 500, dbs: vec![(1, 0), (4, 4)], total_commands_processed: 7, ..Default::default() };
        s.merge(&[a, b], 24);
        s
    }

    #[test]
    fn human_like_redis() {
        assert_eq!(human_bytes(0), "0B");
        assert_eq!(human_bytes(1023), "1023B");
        assert_eq!(human_bytes(1_039_776), "1015.41K");
        assert_eq!(human_bytes(12_419_072), "11.84M");
        assert_eq!(human_bytes(25_276_502_016), "23.54G");
        assert_eq!(human_bytes(1152), "1.12K");
    }

    #[test]
    fn merge_adds_shards() {
        let s = snap();
        assert_eq!(s.used_memory_bytes, 1524);
        assert_eq!(s.totals.dbs, vec![(3, 1), (4, 4)]);
        assert_eq!(s.totals.dirty, 3);
        assert_eq!(s.totals.total_commands_processed, 7);
    }

    #[test]
    fn keyspace_and_cluster_sections() {
        let s = snap();
        let text = render(&Sections::parse(&[b"cluster", b"KEYSPACE"]), &s);
        assert_eq!(
            text,
            "# Cluster\r\ncluster_enabled:0\r\n\r\n# Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=0\r\ndb1:keys=4,expires=4,avg_ttl=0\r\n"
        );
        assert_eq!(render(&Sections::parse(&[b"nosuch"]), &s), "");
    }

    #[test]
    fn default_and_everything_section_lists() {
        let s = snap();
        let headers = |t: String| t.lines().filter(|l| l.starts_with('#')).map(String::from).collect::<Vec<_>>();
        let default = headers(render(&Sections::parse(&[]), &s));
        assert_eq!(
            default,
            [
                "# Server",
                "# Clients",
                "# Memory",
                "# Persistence",
                "# Stats",
                "# Replication",
                "# CPU",
                "# Modules",
                "# Errorstats",
                "# Cluster",
                "# Keyspace"
            ]
        );
        assert_eq!(headers(render(&Sections::parse(&[b"default"]), &s)), default);
        let all = headers(render(&Sections::parse(&[b"all"]), &s));
        assert_eq!(all.len(), 13);
        assert_eq!(all[8], "# Commandstats");
        assert_eq!(all[10], "# Latencystats");
        assert_eq!(headers(render(&Sections::parse(&[b"everything"]), &s)), all);
    }

    #[test]
    fn every_line_is_a_field_or_header() {
        let text = render(&Sections::parse(&[b"everything"]), &snap());
        assert!(text.ends_with("\r\n"));
        for line in text.split("\r\n") {
            assert!(line.is_empty() || line.starts_with("# ") || line.contains(':'), "bad line {line:?}");
        }
        assert!(text.contains("redis_version:7.0.15\r\n"));
        assert!(text.contains("tessera_shards:2\r\n"));
        assert!(text.contains("rdb_changes_since_last_save:3\r\n"));
        assert!(text.contains("used_memory:1524\r\nused_memory_human:1.49K\r\n"));
        assert!(text.contains("mem_allocator:jemalloc-5.3.0\r\n"));
    }

    #[test]
    fn cpu_is_formatted_as_seconds() {
        assert_eq!(secs_us(11_071), "0.011071");
        assert_eq!(secs_us(3_000_001), "3.000001");
    }
}
