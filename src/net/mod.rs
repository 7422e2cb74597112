//! Networking: each shard's io_uring loop (`uring`), its provided-buffer ring (`bufring`),
//! per-connection buffers and reply ordering (`conn`), client state (`client`) and listeners.

pub mod bufring;
pub mod client;
pub mod conn;
pub mod listen;
pub mod uring;
