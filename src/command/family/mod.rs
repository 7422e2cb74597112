//! One file per command family, each exporting its `COMMANDS` table.

pub mod cluster;
pub mod connection;
pub mod hash;
pub mod keys;
pub mod list;
pub mod pubsub;
pub mod server;
pub mod set;
pub mod string;
pub mod transaction;
pub mod zset;
