//! Persistence formats and files: Redis RDB (dump.rdb, DUMP payloads) and the per-shard AOF
//! (`aof`). Encoding and decoding are sans-IO over byte buffers (`rdb`); snapshot files and the
//! node's save status sit beside them (`snapshot`, `status`), as does loading at startup
//! (`load`).

pub mod aof;
pub mod load;
pub mod rdb;
pub mod snapshot;
pub mod status;
