//! tessera-loadgen: a cluster-aware RESP load generator with coordinated-omission-corrected
//! latencies, for Tessera and any Redis-compatible server.
//!
//! Module map:
//! - `config`      validated run configuration and its limits
//! - `resp`        RESP writer, allocation-free reply scanner, control-path tree parser
//! - `sync_client` blocking client for setup, `CLUSTER SLOTS` and tests
//! - `cluster_map` key → slot hashing, slot → master map, `-MOVED`/`-ASK` parsing
//! - `keyspace`    key distributions (uniform, zipf, sequential) and key formatting
//! - `workload`    command templates, built-in workloads, the TOML workload file, generator
//! - `verify`      `--verify` values and the per-thread record of acknowledged writes
//! - `conn`        one non-blocking connection's buffers and in-flight queue
//! - `driver`      the per-thread event loop, phases, pacing and timers
//! - `dispatch`    routing, redirects, retries and completion of each request
//! - `timer`       timerfd for sub-millisecond wake-ups of the event loop
//! - `stats`       per-command counters and HdrHistograms, merging
//! - `report`      progress line, final table, JSON
//! - `run`         topology discovery, threads, signals, exit code

#![deny(unsafe_code)]

pub mod cluster_map;
pub mod config;
pub mod conn;
pub mod dispatch;
pub mod driver;
pub mod keyspace;
pub mod report;
pub mod resp;
pub mod run;
pub mod stats;
pub mod sync_client;
pub mod timer;
pub mod verify;
pub mod workload;
