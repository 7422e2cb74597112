//! Commands: metadata (`spec`), the table, argument helpers, and one family file per group of
//! commands. Families implement `op_*` functions over a `DataCtx` (keyspace work, any shard)
//! or a shard plus client (connection and server commands).

pub mod args;
pub mod family;
#[cfg(test)]
mod fuzz_tests;
pub mod spec;
pub mod table;
