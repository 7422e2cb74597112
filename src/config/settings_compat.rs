//! Table rows for Redis 7.0 settings that Tessera accepts, validates and reports but does not
//! act on (TLS, defrag, syslog, process title ...), so existing redis.conf files load and
//! `CONFIG GET *` lists what tools such as redis_exporter expect.
//!
//! Owns the names, bounds and defaults of those settings, copied from Redis 7.0's `config.c`.
//! It must never hold a setting that Tessera reads: when a subsystem starts honouring one, the
//! row moves to `settings_core` with a typed field.

use super::special;
use super::table::{
    choice, flag, int, mem, special, text, NumFmt, Setting, Store, IMMUTABLE, INT_MAX, LONG_MAX, MULTI_ARG, MUTABLE,
    UINT_MAX,
};

const C: Store = Store::Compat;
const LLONG_MAX: i128 = LONG_MAX;
const YES_NO_LOCAL: &[&str] = &["no", "yes", "local"];

/// `maxmemory-clients`: bytes, or a percentage of `maxmemory` (stored negated).
const MAXMEMORY_CLIENTS: Setting = Setting {
    name: "maxmemory-clients",
    alias: None,
    flags: MUTABLE,
    kind: super::table::Kind::Int { min: -100, max: LONG_MAX, default: 0, fmt: NumFmt::MemoryOrPercent },
    store: C,
};

const UNIXSOCKETPERM: Setting = Setting {
    name: "unixsocketperm",
    alias: None,
    flags: IMMUTABLE,
    kind: super::table::Kind::Int { min: 0, max: 0o777, default: 0, fmt: NumFmt::Octal },
    store: C,
};

pub(crate) static SETTINGS: &[Setting] = &[
    // Process and logging.
    flag("always-show-logo", IMMUTABLE, false, C),
    flag("set-proc-title", IMMUTABLE, true, C),
    text("proc-title-template", MUTABLE, "{title} {listen-addr} {server-mode}", C),
    choice("supervised", IMMUTABLE, &["no", "upstart", "systemd", "auto"], 0, C),
    flag("syslog-enabled", IMMUTABLE, false, C),
    text("syslog-ident", IMMUTABLE, "redis", C),
    choice(
        "syslog-facility",
        IMMUTABLE,
        &["user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"],
        1,
        C,
    ),
    flag("crash-log-enabled", MUTABLE, true, C),
    flag("crash-memcheck-enabled", MUTABLE, true, C),
    text("ignore-warnings", MUTABLE, "", C),
    choice("enable-module-command", IMMUTABLE, YES_NO_LOCAL, 0, C),
    special("shutdown-on-sigint", MULTI_ARG, &special::SHUTDOWN_ON_SIGINT),
    special("shutdown-on-sigterm", MULTI_ARG, &special::SHUTDOWN_ON_SIGTERM),
    int("shutdown-timeout", MUTABLE, 0, INT_MAX, 10, C),
    choice("oom-score-adj", MUTABLE, &["no", "yes", "relative", "absolute"], 0, C),
    special("oom-score-adj-values", MULTI_ARG, &special::OOM_SCORE_ADJ_VALUES),
    flag("disable-thp", MUTABLE, true, C),
    flag("jemalloc-bg-thread", MUTABLE, true, C),
    text("server_cpulist", IMMUTABLE, "", C),
    text("bio_cpulist", IMMUTABLE, "", C),
    text("aof_rewrite_cpulist", IMMUTABLE, "", C),
    text("bgsave_cpulist", IMMUTABLE, "", C),
    int("io-threads", IMMUTABLE, 1, 128, 1, C),
    flag("io-threads-do-reads", IMMUTABLE, false, C),
    // Network.
    UNIXSOCKETPERM,
    text("bind-source-addr", MUTABLE, "", C),
    int("socket-mark-id", IMMUTABLE, 0, UINT_MAX, 0, C),
    // Memory, defrag, dynamic hz.
    MAXMEMORY_CLIENTS,
    flag("dynamic-hz", MUTABLE, true, C),
    flag("activedefrag", MUTABLE, false, C),
    mem("active-defrag-ignore-bytes", MUTABLE, 1, LLONG_MAX, 100 << 20, C),
    int("active-defrag-threshold-lower", MUTABLE, 0, 1000, 10, C),
    int("active-defrag-threshold-upper", MUTABLE, 0, 1000, 100, C),
    int("active-defrag-cycle-min", MUTABLE, 1, 99, 1, C),
    int("active-defrag-cycle-max", MUTABLE, 1, 99, 25, C),
    int("active-defrag-max-scan-fields", MUTABLE, 1, LONG_MAX, 1000, C),
    int("tracking-table-max-keys", MUTABLE, 0, LONG_MAX, 1_000_000, C),
    int("busy-reply-threshold", MUTABLE, 0, LONG_MAX, 5000, C).alias("lua-time-limit"),
    choice("sanitize-dump-payload", MUTABLE, &["no", "yes", "clients"], 0, C),
    choice("acl-pubsub-default", MUTABLE, &["allchannels", "resetchannels"], 1, C),
    // Persistence details.
    flag("rdb-del-sync-files", MUTABLE, false, C),
    flag("rdb-save-incremental-fsync", MUTABLE, true, C),
    flag("aof-rewrite-incremental-fsync", MUTABLE, true, C),
    flag("aof-timestamp-enabled", MUTABLE, false, C),
    flag("aof-disable-auto-gc", MUTABLE, false, C),
    // Replication details.
    flag("repl-disable-tcp-nodelay", MUTABLE, false, C),
    int("repl-diskless-sync-max-replicas", MUTABLE, 0, INT_MAX, 0, C),
    flag("replica-ignore-maxmemory", MUTABLE, true, C).alias("slave-ignore-maxmemory"),
    flag("replica-announced", MUTABLE, true, C),
    flag("replica-ignore-disk-write-errors", MUTABLE, false, C),
    text("replica-announce-ip", MUTABLE, "", C).alias("slave-announce-ip"),
    int("replica-announce-port", MUTABLE, 0, 65535, 0, C).alias("slave-announce-port"),
    int("min-replicas-to-write", MUTABLE, 0, INT_MAX, 0, C).alias("min-slaves-to-write"),
    int("min-replicas-max-lag", MUTABLE, 0, INT_MAX, 10, C).alias("min-slaves-max-lag"),
    choice("propagation-error-behavior", MUTABLE, &["ignore", "panic", "panic-on-replicas"], 0, C),
    int("cluster-announce-tls-port", MUTABLE, 0, 65535, 0, C),
    // TLS (Tessera's TLS listener is configured here once it exists).
    int("tls-port", MUTABLE, 0, 65535, 0, C),
    text("tls-cert-file", MUTABLE, "", C),
    text("tls-key-file", MUTABLE, "", C),
    text("tls-key-file-pass", MUTABLE, "", C),
    text("tls-client-cert-file", MUTABLE, "", C),
    text("tls-client-key-file", MUTABLE, "", C),
    text("tls-client-key-file-pass", MUTABLE, "", C),
    text("tls-dh-params-file", MUTABLE, "", C),
    text("tls-ca-cert-file", MUTABLE, "", C),
    text("tls-ca-cert-dir", MUTABLE, "", C),
    text("tls-protocols", MUTABLE, "", C),
    text("tls-ciphers", MUTABLE, "", C),
    text("tls-ciphersuites", MUTABLE, "", C),
    choice("tls-auth-clients", MUTABLE, &["no", "yes", "optional"], 1, C),
    flag("tls-cluster", MUTABLE, false, C),
    flag("tls-replication", MUTABLE, false, C),
    flag("tls-prefer-server-ciphers", MUTABLE, false, C),
    flag("tls-session-caching", MUTABLE, true, C),
    int("tls-session-cache-size", MUTABLE, 0, INT_MAX, 20 * 1024, C),
    int("tls-session-cache-timeout", MUTABLE, 0, INT_MAX, 300, C),
];
