//! RESP2/RESP3, sans-IO: `parse` turns bytes of a query buffer into commands, `write` turns
//! replies into bytes. Nothing here knows about sockets, shards or commands.

pub mod parse;
pub mod write;

pub use parse::{parse_command, ParseLimits, Parsed};
pub use write::Out;
