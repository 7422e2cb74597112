//! One file per command family, each exporting its `COMMANDS` table.

pub mod cluster;
pub mod connection;
pub mod keys;
pub mod server;
pub mod string;
