//! Observability: INFO sections and the server log.

pub mod info;
pub mod log;
