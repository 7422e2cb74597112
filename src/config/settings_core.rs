//! Table rows for the settings Tessera acts on, each backed by a typed `Config` field.
//!
//! Owns each setting's Redis name, alias, bounds, default and runtime mutability, copied from
//! Redis 7.0's `config.c` so CONFIG GET/SET behave the same. Where Tessera differs it says so
//! next to the row. It must never hold parsing or formatting logic beyond a row's string check.

use super::special;
use super::table::{
    checked_text, choice, field, flag, int, mem, special, text, Setting, Store, Value, IMMUTABLE, INT_MAX, INT_MIN,
    LONG_MAX, MULTI_ARG, MUTABLE, PROTECTED, SENSITIVE, UINT_MAX, ULLONG_MAX,
};
use super::types::{
    AppendFsync, EnableFlag, LogLevel, MaxmemoryPolicy, PreferredEndpointType, RedisEnum, ReplDisklessLoad,
};
use crate::limits::{CLIENT_QUERY_BUFFER_LIMIT_BYTES, DEFAULT_HZ, MAX_SHARDS, PROTO_MAX_BULK_LEN_BYTES};

const LLONG_MAX: i128 = LONG_MAX;
const MB: i128 = 1024 * 1024;

/// Redis `pathIsBaseName`.
fn is_base_name(value: &str) -> bool {
    !value.contains('/') && !value.contains('\\')
}

fn check_dbfilename(value: &str) -> Result<(), &'static str> {
    if is_base_name(value) {
        Ok(())
    } else {
        Err("dbfilename can't be a path, just a filename")
    }
}

fn check_appendfilename(value: &str) -> Result<(), &'static str> {
    if value.is_empty() {
        Err("appendfilename can't be empty")
    } else if !is_base_name(value) {
        Err("appendfilename can't be a path, just a filename")
    } else {
        Ok(())
    }
}

fn check_appenddirname(value: &str) -> Result<(), &'static str> {
    if value.is_empty() {
        Err("appenddirname can't be empty")
    } else if !is_base_name(value) {
        Err("appenddirname can't be a path, just a dirname")
    } else {
        Ok(())
    }
}

/// Redis `isValidAnnouncedHostname` (NET_HOST_STR_LEN is 256).
fn check_hostname(value: &str) -> Result<(), &'static str> {
    if value.len() >= 256 {
        return Err("Hostnames must be less than 256 characters");
    }
    if value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.') {
        Ok(())
    } else {
        Err("Hostnames may only contain alphanumeric characters, hyphens or dots")
    }
}

/// Redis accepts any `hz` in 0..=INT_MAX and then clamps it into 1..=500.
const HZ_STORE: Store = Store::Field {
    get: |c| Value::Int(i128::from(c.hz)),
    set: |c, v| {
        if let Value::Int(n) = v {
            c.hz = n.clamp(1, 500) as u32;
        }
    },
};

pub(crate) static SETTINGS: &[Setting] = &[
    // Network and clients. Tessera cannot rebind its listeners, so `port` and `bind` are
    // immutable here while Redis 7.0 allows changing them.
    int("port", IMMUTABLE, 0, 65535, 6379, field!(int port)),
    special("bind", IMMUTABLE | MULTI_ARG, &special::BIND),
    flag("protected-mode", MUTABLE, true, field!(bool protected_mode)),
    int("tcp-backlog", IMMUTABLE, 0, INT_MAX, 511, field!(int tcp_backlog)),
    int("tcp-keepalive", MUTABLE, 0, INT_MAX, 300, field!(int tcp_keepalive_s)),
    int("timeout", MUTABLE, 0, INT_MAX, 0, field!(int timeout_s)),
    int("maxclients", MUTABLE, 1, UINT_MAX, 10000, field!(int maxclients)),
    text("unixsocket", IMMUTABLE, "", field!(str unixsocket)),
    // General.
    int("shards", IMMUTABLE, 0, MAX_SHARDS as i128, 0, field!(int shards)),
    int("databases", IMMUTABLE, 1, INT_MAX, 16, field!(int databases)),
    choice("loglevel", MUTABLE, LogLevel::NAMES, LogLevel::Notice as usize, field!(enum loglevel)),
    text("logfile", IMMUTABLE, "", field!(str logfile)),
    flag("daemonize", IMMUTABLE, false, field!(bool daemonize)),
    text("pidfile", IMMUTABLE, "", field!(str pidfile)),
    special("dir", PROTECTED, &special::DIR),
    int("hz", MUTABLE, 0, INT_MAX, DEFAULT_HZ as i128, HZ_STORE),
    text("requirepass", SENSITIVE, "", field!(str requirepass)),
    text("masteruser", SENSITIVE, "", field!(str masteruser)),
    text("masterauth", SENSITIVE, "", field!(str masterauth)),
    text("aclfile", IMMUTABLE, "", field!(str aclfile)),
    choice(
        "enable-debug-command",
        IMMUTABLE,
        EnableFlag::NAMES,
        EnableFlag::No as usize,
        field!(enum enable_debug_command),
    ),
    choice(
        "enable-protected-configs",
        IMMUTABLE,
        EnableFlag::NAMES,
        EnableFlag::No as usize,
        field!(enum enable_protected_configs),
    ),
    special("notify-keyspace-events", MUTABLE, &special::NOTIFY_KEYSPACE_EVENTS),
    // Snapshots.
    checked_text("dbfilename", PROTECTED, "dump.rdb", check_dbfilename, field!(str dbfilename)),
    special("save", MULTI_ARG, &special::SAVE),
    flag("rdbcompression", MUTABLE, true, field!(bool rdbcompression)),
    flag("rdbchecksum", IMMUTABLE, true, field!(bool rdbchecksum)),
    flag("stop-writes-on-bgsave-error", MUTABLE, true, field!(bool stop_writes_on_bgsave_error)),
    // Append-only file.
    flag("appendonly", MUTABLE, false, field!(bool appendonly)),
    checked_text("appendfilename", IMMUTABLE, "appendonly.aof", check_appendfilename, field!(str appendfilename)),
    checked_text("appenddirname", IMMUTABLE, "appendonlydir", check_appenddirname, field!(str appenddirname)),
    choice("appendfsync", MUTABLE, AppendFsync::NAMES, AppendFsync::Everysec as usize, field!(enum appendfsync)),
    flag("no-appendfsync-on-rewrite", MUTABLE, false, field!(bool no_appendfsync_on_rewrite)),
    flag("aof-load-truncated", MUTABLE, true, field!(bool aof_load_truncated)),
    flag("aof-use-rdb-preamble", MUTABLE, true, field!(bool aof_use_rdb_preamble)),
    int("auto-aof-rewrite-percentage", MUTABLE, 0, INT_MAX, 100, field!(int auto_aof_rewrite_percentage)),
    mem("auto-aof-rewrite-min-size", MUTABLE, 0, LLONG_MAX, 64 * MB, field!(int auto_aof_rewrite_min_size_bytes)),
    // Memory and eviction.
    mem("maxmemory", MUTABLE, 0, ULLONG_MAX, 0, field!(int maxmemory_bytes)),
    choice(
        "maxmemory-policy",
        MUTABLE,
        MaxmemoryPolicy::NAMES,
        MaxmemoryPolicy::Noeviction as usize,
        field!(enum maxmemory_policy),
    ),
    int("maxmemory-samples", MUTABLE, 1, INT_MAX, 5, field!(int maxmemory_samples)),
    int("maxmemory-eviction-tenacity", MUTABLE, 0, 100, 10, field!(int maxmemory_eviction_tenacity)),
    flag("lazyfree-lazy-eviction", MUTABLE, false, field!(bool lazyfree_lazy_eviction)),
    flag("lazyfree-lazy-expire", MUTABLE, false, field!(bool lazyfree_lazy_expire)),
    flag("lazyfree-lazy-server-del", MUTABLE, false, field!(bool lazyfree_lazy_server_del)),
    flag("lazyfree-lazy-user-del", MUTABLE, false, field!(bool lazyfree_lazy_user_del)),
    flag("lazyfree-lazy-user-flush", MUTABLE, false, field!(bool lazyfree_lazy_user_flush)),
    flag("replica-lazy-flush", MUTABLE, false, field!(bool replica_lazy_flush)).alias("slave-lazy-flush"),
    int("active-expire-effort", MUTABLE, 1, 10, 1, field!(int active_expire_effort)),
    flag("activerehashing", MUTABLE, true, field!(bool activerehashing)),
    int("lfu-log-factor", MUTABLE, 0, INT_MAX, 10, field!(int lfu_log_factor)),
    int("lfu-decay-time", MUTABLE, 0, INT_MAX, 1, field!(int lfu_decay_time_min)),
    // Protocol limits.
    mem(
        "proto-max-bulk-len",
        MUTABLE,
        MB,
        LONG_MAX,
        PROTO_MAX_BULK_LEN_BYTES as i128,
        field!(int proto_max_bulk_len_bytes),
    ),
    mem(
        "client-query-buffer-limit",
        MUTABLE,
        MB,
        LONG_MAX,
        CLIENT_QUERY_BUFFER_LIMIT_BYTES as i128,
        field!(int client_query_buffer_limit_bytes),
    ),
    special("client-output-buffer-limit", MULTI_ARG, &special::CLIENT_OUTPUT_BUFFER_LIMIT),
    // Cluster.
    flag("cluster-enabled", IMMUTABLE, false, field!(bool cluster_enabled)),
    text("cluster-config-file", IMMUTABLE, "nodes.conf", field!(str cluster_config_file)),
    int("cluster-node-timeout", MUTABLE, 0, LLONG_MAX, 15000, field!(int cluster_node_timeout_ms)),
    int("cluster-port", IMMUTABLE, 0, 65535, 0, field!(int cluster_port)),
    text("cluster-announce-ip", MUTABLE, "", field!(str cluster_announce_ip)),
    int("cluster-announce-port", MUTABLE, 0, 65535, 0, field!(int cluster_announce_port)),
    int("cluster-announce-bus-port", MUTABLE, 0, 65535, 0, field!(int cluster_announce_bus_port)),
    checked_text("cluster-announce-hostname", MUTABLE, "", check_hostname, field!(str cluster_announce_hostname)),
    flag("cluster-require-full-coverage", MUTABLE, true, field!(bool cluster_require_full_coverage)),
    int("cluster-replica-validity-factor", MUTABLE, 0, INT_MAX, 10, field!(int cluster_replica_validity_factor))
        .alias("cluster-slave-validity-factor"),
    int("cluster-migration-barrier", MUTABLE, 0, INT_MAX, 1, field!(int cluster_migration_barrier)),
    flag("cluster-allow-replica-migration", MUTABLE, true, field!(bool cluster_allow_replica_migration)),
    flag("cluster-replica-no-failover", MUTABLE, false, field!(bool cluster_replica_no_failover))
        .alias("cluster-slave-no-failover"),
    flag("cluster-allow-reads-when-down", MUTABLE, false, field!(bool cluster_allow_reads_when_down)),
    flag("cluster-allow-pubsubshard-when-down", MUTABLE, true, field!(bool cluster_allow_pubsubshard_when_down)),
    choice(
        "cluster-preferred-endpoint-type",
        MUTABLE,
        PreferredEndpointType::NAMES,
        PreferredEndpointType::Ip as usize,
        field!(enum cluster_preferred_endpoint_type),
    ),
    mem("cluster-link-sendbuf-limit", MUTABLE, 0, ULLONG_MAX, 0, field!(int cluster_link_sendbuf_limit_bytes)),
    // Replication. `replicaof` changes only through the REPLICAOF command, as in Redis.
    special("replicaof", IMMUTABLE | MULTI_ARG, &special::REPLICAOF).alias("slaveof"),
    flag("replica-read-only", MUTABLE, true, field!(bool replica_read_only)).alias("slave-read-only"),
    flag("replica-serve-stale-data", MUTABLE, true, field!(bool replica_serve_stale_data))
        .alias("slave-serve-stale-data"),
    int("replica-priority", MUTABLE, 0, INT_MAX, 100, field!(int replica_priority)).alias("slave-priority"),
    mem("repl-backlog-size", MUTABLE, 1, LLONG_MAX, MB, field!(int repl_backlog_size_bytes)),
    int("repl-backlog-ttl", MUTABLE, 0, LONG_MAX, 3600, field!(int repl_backlog_ttl_s)),
    int("repl-timeout", MUTABLE, 1, INT_MAX, 60, field!(int repl_timeout_s)),
    int("repl-ping-replica-period", MUTABLE, 1, INT_MAX, 10, field!(int repl_ping_replica_period_s))
        .alias("repl-ping-slave-period"),
    flag("repl-diskless-sync", MUTABLE, true, field!(bool repl_diskless_sync)),
    int("repl-diskless-sync-delay", MUTABLE, 0, INT_MAX, 5, field!(int repl_diskless_sync_delay_s)),
    choice(
        "repl-diskless-load",
        MUTABLE,
        ReplDisklessLoad::NAMES,
        ReplDisklessLoad::Disabled as usize,
        field!(enum repl_diskless_load),
    ),
    // Encodings. Redis 7.0 has no `set-max-listpack-*` (added in 7.2); Tessera takes the 7.2
    // names and defaults so one config serves both.
    int("list-max-listpack-size", MUTABLE, INT_MIN, INT_MAX, -2, field!(int list_max_listpack_size))
        .alias("list-max-ziplist-size"),
    int("list-compress-depth", MUTABLE, 0, INT_MAX, 0, field!(int list_compress_depth)),
    int("hash-max-listpack-entries", MUTABLE, 0, LONG_MAX, 512, field!(int hash_max_listpack_entries))
        .alias("hash-max-ziplist-entries"),
    mem("hash-max-listpack-value", MUTABLE, 0, LONG_MAX, 64, field!(int hash_max_listpack_value_bytes))
        .alias("hash-max-ziplist-value"),
    int("set-max-intset-entries", MUTABLE, 0, LONG_MAX, 512, field!(int set_max_intset_entries)),
    int("set-max-listpack-entries", MUTABLE, 0, LONG_MAX, 128, field!(int set_max_listpack_entries)),
    mem("set-max-listpack-value", MUTABLE, 0, LONG_MAX, 64, field!(int set_max_listpack_value_bytes)),
    int("zset-max-listpack-entries", MUTABLE, 0, LONG_MAX, 128, field!(int zset_max_listpack_entries))
        .alias("zset-max-ziplist-entries"),
    mem("zset-max-listpack-value", MUTABLE, 0, LONG_MAX, 64, field!(int zset_max_listpack_value_bytes))
        .alias("zset-max-ziplist-value"),
    mem("stream-node-max-bytes", MUTABLE, 0, LONG_MAX, 4096, field!(int stream_node_max_bytes)),
    int("stream-node-max-entries", MUTABLE, 0, LLONG_MAX, 100, field!(int stream_node_max_entries)),
    mem("hll-sparse-max-bytes", MUTABLE, 0, LONG_MAX, 3000, field!(int hll_sparse_max_bytes)),
    // Observability.
    int("slowlog-log-slower-than", MUTABLE, -1, LLONG_MAX, 10000, field!(int slowlog_log_slower_than_us)),
    int("slowlog-max-len", MUTABLE, 0, LONG_MAX, 128, field!(int slowlog_max_len)),
    int("latency-monitor-threshold", MUTABLE, 0, LLONG_MAX, 0, field!(int latency_monitor_threshold_ms)),
    flag("latency-tracking", MUTABLE, true, field!(bool latency_tracking)),
    special("latency-tracking-info-percentiles", MULTI_ARG, &special::LATENCY_PERCENTILES),
    int("acllog-max-len", MUTABLE, 0, LONG_MAX, 128, field!(int acllog_max_len)),
];
