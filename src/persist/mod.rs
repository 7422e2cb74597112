//! Persistence formats and files: Redis RDB (dump.rdb, DUMP payloads), and later the per-shard
//! AOF. Encoding and decoding are sans-IO over byte buffers; file handling sits beside them.
