//! Server configuration under Redis's own setting names: the typed `Config`, its defaults,
//! startup parsing (`tessera-server [FILE] [--name value ...]`), CONFIG GET/SET/REWRITE.
//!
//! Owns the one table of settings (`settings_core` + `settings_compat`) from which startup
//! parsing, CONFIG GET, CONFIG SET and CONFIG REWRITE all work, so a setting cannot behave
//! differently in a file, on the command line and at runtime. It must never apply a setting
//! to the running server (no sockets, no chdir, no shard messages): callers read the typed
//! fields, and after CONFIG SET they compare old and new values to act on changes.
//!
//! Module map:
//! - `types`: enums with Redis spellings, `save` points, output buffer limits, event classes.
//! - `parse`: Redis's low-level text rules (`string2ll`, `memtoull`, `sdssplitargs` ...).
//! - `table`: what a table row is, and the generic parse/store/format of one setting.
//! - `settings_core`: rows backed by typed fields that Tessera acts on.
//! - `settings_compat`: rows accepted and shown for drop-in compatibility only.
//! - `special`: hand-written settings (`save`, `bind`, `dir`, `notify-keyspace-events` ...).
//! - `load`: command line, redis.conf-style and TOML files.
//! - `runtime`: CONFIG GET, CONFIG SET, CONFIG REWRITE text.

mod load;
mod parse;
mod runtime;
mod settings_compat;
mod settings_core;
mod special;
mod table;
mod types;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::PathBuf;

pub use load::{early_action, from_args, EarlyAction};
pub use table::{all_settings, lookup, Setting};
pub use types::{
    notify, AppendFsync, ClientClass, EnableFlag, LogLevel, MaxmemoryPolicy, OutputBufferLimit, OutputBufferLimits,
    PreferredEndpointType, RedisEnum, ReplDisklessLoad, ReplicaOf, SavePoint,
};

use crate::limits::MAX_SHARDS;

/// The server configuration. Field names follow the Redis setting names with the unit last;
/// each field's doc names the setting. Build it with `Config::default()` or [`from_args`],
/// change it with [`Config::config_set`] so values stay validated.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    // Network and clients.
    /// `port`.
    pub port: u16,
    /// `bind`: addresses to listen on; a leading `-` means "skip if unavailable".
    pub bind: Vec<String>,
    /// `protected-mode`.
    pub protected_mode: bool,
    /// `tcp-backlog`.
    pub tcp_backlog: u32,
    /// `tcp-keepalive`.
    pub tcp_keepalive_s: u32,
    /// `timeout`: close a client idle this long; 0 never.
    pub timeout_s: u32,
    /// `maxclients`.
    pub maxclients: u32,
    /// `unixsocket` ("" none).
    pub unixsocket: String,

    // General.
    /// `shards` (Tessera): shard threads; 0 means one per CPU the process may run on.
    pub shards: usize,
    /// `databases`.
    pub databases: usize,
    /// `loglevel`.
    pub loglevel: LogLevel,
    /// `logfile` ("" stdout).
    pub logfile: String,
    /// `daemonize` (Tessera refuses `yes` at startup).
    pub daemonize: bool,
    /// `pidfile` ("" none).
    pub pidfile: String,
    /// `dir`: absolute working directory for RDB, AOF and nodes.conf.
    pub dir: PathBuf,
    /// `hz`: cron frequency, kept within 1..=500 as Redis does.
    pub hz: u32,
    /// `requirepass` ("" no password).
    pub requirepass: String,
    /// `masteruser`, `masterauth`: credentials for the master when replicating.
    pub masteruser: String,
    pub masterauth: String,
    /// `aclfile`.
    pub aclfile: String,
    /// `enable-debug-command`, `enable-protected-configs`.
    pub enable_debug_command: EnableFlag,
    pub enable_protected_configs: EnableFlag,
    /// `notify-keyspace-events` as a mask of [`notify`] bits.
    pub notify_keyspace_events: u32,

    // Snapshots.
    /// `dbfilename`.
    pub dbfilename: String,
    /// `save`: empty disables periodic snapshots.
    pub save: Vec<SavePoint>,
    /// `rdbcompression`, `rdbchecksum`, `stop-writes-on-bgsave-error`.
    pub rdbcompression: bool,
    pub rdbchecksum: bool,
    pub stop_writes_on_bgsave_error: bool,

    // Append-only file.
    /// `appendonly`.
    pub appendonly: bool,
    /// `appendfilename`: base name of the AOF files inside `appenddirname`.
    pub appendfilename: String,
    /// `appenddirname`.
    pub appenddirname: String,
    /// `appendfsync`.
    pub appendfsync: AppendFsync,
    /// `no-appendfsync-on-rewrite`.
    pub no_appendfsync_on_rewrite: bool,
    /// `aof-load-truncated`, `aof-use-rdb-preamble`.
    pub aof_load_truncated: bool,
    pub aof_use_rdb_preamble: bool,
    /// `auto-aof-rewrite-percentage`: growth over the last rewrite size; 0 disables.
    pub auto_aof_rewrite_percentage: u32,
    /// `auto-aof-rewrite-min-size`.
    pub auto_aof_rewrite_min_size_bytes: u64,

    // Memory and eviction.
    /// `maxmemory`: 0 no limit.
    pub maxmemory_bytes: u64,
    /// `maxmemory-policy`, `maxmemory-samples`, `maxmemory-eviction-tenacity`.
    pub maxmemory_policy: MaxmemoryPolicy,
    pub maxmemory_samples: u32,
    pub maxmemory_eviction_tenacity: u32,
    /// `lazyfree-lazy-*`, `replica-lazy-flush`.
    pub lazyfree_lazy_eviction: bool,
    pub lazyfree_lazy_expire: bool,
    pub lazyfree_lazy_server_del: bool,
    pub lazyfree_lazy_user_del: bool,
    pub lazyfree_lazy_user_flush: bool,
    pub replica_lazy_flush: bool,
    /// `active-expire-effort` (1..=10), `activerehashing`.
    pub active_expire_effort: u32,
    pub activerehashing: bool,
    /// `lfu-log-factor`, `lfu-decay-time` (minutes).
    pub lfu_log_factor: u32,
    pub lfu_decay_time_min: u32,

    // Protocol limits.
    /// `proto-max-bulk-len`.
    pub proto_max_bulk_len_bytes: u64,
    /// `client-query-buffer-limit`.
    pub client_query_buffer_limit_bytes: u64,
    /// `client-output-buffer-limit`.
    pub client_output_buffer_limit: OutputBufferLimits,

    // Cluster.
    /// `cluster-enabled`.
    pub cluster_enabled: bool,
    /// `cluster-config-file`: nodes.conf, relative to `dir`.
    pub cluster_config_file: String,
    /// `cluster-node-timeout`.
    pub cluster_node_timeout_ms: u64,
    /// `cluster-port`: 0 means `port + 10000`; see [`Config::cluster_bus_port`].
    pub cluster_port: u16,
    /// `cluster-announce-ip`, `-port`, `-bus-port`, `-hostname` ("" / 0: not announced).
    pub cluster_announce_ip: String,
    pub cluster_announce_port: u16,
    pub cluster_announce_bus_port: u16,
    pub cluster_announce_hostname: String,
    /// `cluster-require-full-coverage`.
    pub cluster_require_full_coverage: bool,
    /// `cluster-replica-validity-factor`.
    pub cluster_replica_validity_factor: u32,
    /// `cluster-migration-barrier`, `cluster-allow-replica-migration`.
    pub cluster_migration_barrier: u32,
    pub cluster_allow_replica_migration: bool,
    /// `cluster-replica-no-failover`.
    pub cluster_replica_no_failover: bool,
    /// `cluster-allow-reads-when-down`, `cluster-allow-pubsubshard-when-down`.
    pub cluster_allow_reads_when_down: bool,
    pub cluster_allow_pubsubshard_when_down: bool,
    /// `cluster-preferred-endpoint-type`.
    pub cluster_preferred_endpoint_type: PreferredEndpointType,
    /// `cluster-link-sendbuf-limit`: 0 no limit.
    pub cluster_link_sendbuf_limit_bytes: u64,

    // Replication.
    /// `replicaof` (`None` is `no one`).
    pub replicaof: Option<ReplicaOf>,
    /// `replica-read-only`, `replica-serve-stale-data`.
    pub replica_read_only: bool,
    pub replica_serve_stale_data: bool,
    /// `replica-priority`: 0 never promoted.
    pub replica_priority: u32,
    /// `repl-backlog-size`, `repl-backlog-ttl`.
    pub repl_backlog_size_bytes: u64,
    pub repl_backlog_ttl_s: u64,
    /// `repl-timeout`, `repl-ping-replica-period`.
    pub repl_timeout_s: u32,
    pub repl_ping_replica_period_s: u32,
    /// `repl-diskless-sync`, `repl-diskless-sync-delay`, `repl-diskless-load`.
    pub repl_diskless_sync: bool,
    pub repl_diskless_sync_delay_s: u32,
    pub repl_diskless_load: ReplDisklessLoad,

    // Encodings.
    /// `list-max-listpack-size`: positive is entries, -1..-5 is 4kb..64kb per node.
    pub list_max_listpack_size: i32,
    /// `list-compress-depth`.
    pub list_compress_depth: u32,
    /// `hash-max-listpack-entries`, `hash-max-listpack-value`.
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value_bytes: usize,
    /// `set-max-intset-entries`; `set-max-listpack-*` are the Redis 7.2 names.
    pub set_max_intset_entries: usize,
    pub set_max_listpack_entries: usize,
    pub set_max_listpack_value_bytes: usize,
    /// `zset-max-listpack-entries`, `zset-max-listpack-value`.
    pub zset_max_listpack_entries: usize,
    pub zset_max_listpack_value_bytes: usize,
    /// `stream-node-max-bytes`, `stream-node-max-entries`.
    pub stream_node_max_bytes: usize,
    pub stream_node_max_entries: u64,
    /// `hll-sparse-max-bytes`.
    pub hll_sparse_max_bytes: usize,

    // Observability.
    /// `slowlog-log-slower-than` (-1 disables), `slowlog-max-len`.
    pub slowlog_log_slower_than_us: i64,
    pub slowlog_max_len: u64,
    /// `latency-monitor-threshold`: 0 disables.
    pub latency_monitor_threshold_ms: u64,
    /// `latency-tracking`, `latency-tracking-info-percentiles`.
    pub latency_tracking: bool,
    pub latency_tracking_info_percentiles: Vec<f64>,
    /// `acllog-max-len`.
    pub acllog_max_len: u64,

    /// `rename-command` directives from the config file, in order (`""` disables the command).
    /// The command table checks the names; they are not settings, so CONFIG GET omits them.
    pub rename_commands: Vec<(String, String)>,
    /// The config file given at startup, absolute (INFO `config_file`, CONFIG REWRITE).
    pub config_file: Option<PathBuf>,
    /// Values of the compatibility-only settings that differ from their default, by name.
    pub(crate) compat: BTreeMap<&'static str, table::Value>,
}

impl Default for Config {
    /// Redis 7.0's built-in defaults (no config file), plus Tessera's own settings.
    fn default() -> Self {
        let mut config = Config::blank();
        for setting in all_settings() {
            setting.apply_default(&mut config);
        }
        config
    }
}

impl Config {
    /// Placeholder values only; every field is overwritten from the table by `default()`,
    /// which is the single place defaults are written down.
    fn blank() -> Config {
        let no_limit = OutputBufferLimit { hard_bytes: 0, soft_bytes: 0, soft_s: 0 };
        Config {
            port: 0,
            bind: Vec::new(),
            protected_mode: false,
            tcp_backlog: 0,
            tcp_keepalive_s: 0,
            timeout_s: 0,
            maxclients: 0,
            unixsocket: String::new(),
            shards: 0,
            databases: 0,
            loglevel: LogLevel::Notice,
            logfile: String::new(),
            daemonize: false,
            pidfile: String::new(),
            dir: PathBuf::new(),
            hz: 0,
            requirepass: String::new(),
            masteruser: String::new(),
            masterauth: String::new(),
            aclfile: String::new(),
            enable_debug_command: EnableFlag::No,
            enable_protected_configs: EnableFlag::No,
            notify_keyspace_events: 0,
            dbfilename: String::new(),
            save: Vec::new(),
            rdbcompression: false,
            rdbchecksum: false,
            stop_writes_on_bgsave_error: false,
            appendonly: false,
            appendfilename: String::new(),
            appenddirname: String::new(),
            appendfsync: AppendFsync::Everysec,
            no_appendfsync_on_rewrite: false,
            aof_load_truncated: false,
            aof_use_rdb_preamble: false,
            auto_aof_rewrite_percentage: 0,
            auto_aof_rewrite_min_size_bytes: 0,
            maxmemory_bytes: 0,
            maxmemory_policy: MaxmemoryPolicy::Noeviction,
            maxmemory_samples: 0,
            maxmemory_eviction_tenacity: 0,
            lazyfree_lazy_eviction: false,
            lazyfree_lazy_expire: false,
            lazyfree_lazy_server_del: false,
            lazyfree_lazy_user_del: false,
            lazyfree_lazy_user_flush: false,
            replica_lazy_flush: false,
            active_expire_effort: 0,
            activerehashing: false,
            lfu_log_factor: 0,
            lfu_decay_time_min: 0,
            proto_max_bulk_len_bytes: 0,
            client_query_buffer_limit_bytes: 0,
            client_output_buffer_limit: OutputBufferLimits { normal: no_limit, replica: no_limit, pubsub: no_limit },
            cluster_enabled: false,
            cluster_config_file: String::new(),
            cluster_node_timeout_ms: 0,
            cluster_port: 0,
            cluster_announce_ip: String::new(),
            cluster_announce_port: 0,
            cluster_announce_bus_port: 0,
            cluster_announce_hostname: String::new(),
            cluster_require_full_coverage: false,
            cluster_replica_validity_factor: 0,
            cluster_migration_barrier: 0,
            cluster_allow_replica_migration: false,
            cluster_replica_no_failover: false,
            cluster_allow_reads_when_down: false,
            cluster_allow_pubsubshard_when_down: false,
            cluster_preferred_endpoint_type: PreferredEndpointType::Ip,
            cluster_link_sendbuf_limit_bytes: 0,
            replicaof: None,
            replica_read_only: false,
            replica_serve_stale_data: false,
            replica_priority: 0,
            repl_backlog_size_bytes: 0,
            repl_backlog_ttl_s: 0,
            repl_timeout_s: 0,
            repl_ping_replica_period_s: 0,
            repl_diskless_sync: false,
            repl_diskless_sync_delay_s: 0,
            repl_diskless_load: ReplDisklessLoad::Disabled,
            list_max_listpack_size: 0,
            list_compress_depth: 0,
            hash_max_listpack_entries: 0,
            hash_max_listpack_value_bytes: 0,
            set_max_intset_entries: 0,
            set_max_listpack_entries: 0,
            set_max_listpack_value_bytes: 0,
            zset_max_listpack_entries: 0,
            zset_max_listpack_value_bytes: 0,
            stream_node_max_bytes: 0,
            stream_node_max_entries: 0,
            hll_sparse_max_bytes: 0,
            slowlog_log_slower_than_us: 0,
            slowlog_max_len: 0,
            latency_monitor_threshold_ms: 0,
            latency_tracking: false,
            latency_tracking_info_percentiles: Vec::new(),
            acllog_max_len: 0,
            rename_commands: Vec::new(),
            config_file: None,
            compat: BTreeMap::new(),
        }
    }

    /// Same as the free function [`from_args`]: process arguments without the program name.
    pub fn from_args(args: &[String]) -> Result<Config, String> {
        load::from_args(args)
    }

    /// Shard threads to start: `shards`, or when 0 the CPUs in the process's affinity mask
    /// (so `taskset` and container cpusets are honoured), always within 1..=MAX_SHARDS.
    pub fn shard_count(&self) -> usize {
        let wanted = if self.shards == 0 { allowed_cpu_count() } else { self.shards };
        wanted.clamp(1, MAX_SHARDS)
    }

    /// The cluster bus port: `cluster-port`, or `port + 10000` when that is 0. `None` when
    /// the sum does not fit (startup refuses that combination when cluster mode is on).
    pub fn cluster_bus_port(&self) -> Option<u16> {
        if self.cluster_port != 0 {
            Some(self.cluster_port)
        } else {
            self.port.checked_add(10_000)
        }
    }

    /// Is `setting` (canonical name or alias) currently at its default value?
    pub fn is_default(&self, name: &str) -> bool {
        match lookup(name) {
            Some((setting, _)) => {
                let default = Config::default();
                setting.format(self) == setting.format(&default)
            }
            None => false,
        }
    }
}

/// CPUs this process may run on, from `sched_getaffinity`; falls back to the standard
/// library's estimate when the mask cannot be read (e.g. more CPUs than `cpu_set_t` holds).
fn allowed_cpu_count() -> usize {
    affinity_cpu_count()
        .filter(|n| *n > 0)
        .or_else(|| std::thread::available_parallelism().ok().map(usize::from))
        .unwrap_or(1)
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn affinity_cpu_count() -> Option<usize> {
    // SAFETY: `cpu_set_t` is a plain bit array for which all-zero is a valid value;
    // `sched_getaffinity` writes at most `size_of::<cpu_set_t>()` bytes into it, the size we
    // pass, and `CPU_COUNT` only reads it.
    let count = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return None;
        }
        libc::CPU_COUNT(&set)
    };
    usize::try_from(count).ok()
}

#[cfg(not(target_os = "linux"))]
fn affinity_cpu_count() -> Option<usize> {
    None
}
