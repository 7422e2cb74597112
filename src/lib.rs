//! Tessera: a Redis-compatible, thread-per-core, sharded cluster server.
//!
//! Module map (ARCHITECTURE.md says why each exists):
//! - `limits`   every hard limit, units in the name
//! - `error`    Redis-style error replies with Redis's exact texts
//! - `glob`     Redis's glob matcher (KEYS, SCAN MATCH, CONFIG GET, PSUBSCRIBE)
//! - `config`   settings under Redis's names: flags, files, CONFIG GET/SET
//! - `resp`     sans-IO RESP2/RESP3 parser and reply writer
//! - `command`  command metadata (one table), argument helpers, command families
//! - `net`      io_uring event loop, connections, client state
//! - `shard`    shard state, startup, mesh, routing, cross-shard coordination
//! - `store`    per-shard keyspace (per-slot tables), values, expiry, memory accounting
//! - `cluster`  hash slots, slot-map snapshots, cluster state and its config file
//! - `observe`  INFO, logging
//! - `persist`  RDB and AOF formats and files, DUMP/RESTORE payloads
//! - `testing`  fixtures shared by unit tests
#![deny(unsafe_code)]

pub mod cluster;
pub mod command;
pub mod config;
pub mod error;
pub mod glob;
pub mod limits;
pub mod net;
pub mod observe;
pub mod persist;
pub mod resp;
pub mod shard;
pub mod store;
pub mod testing;
