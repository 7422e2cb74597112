//! The RDB format as Redis 7.0 writes it (version 10) and every older version Redis 7.0 still
//! loads: primitives (`lzf`, `crc64`, `ziplist`, `intset`; listpacks are `store::listpack`), value encoding
//! (`write`, `stream`), value decoding with Redis's encoding choices on load (`read`), whole files
//! (`file`) and DUMP payloads (`dump`).
//!
//! Sans-IO: everything here works on byte buffers. Reading never trusts its input: a bad or
//! short file is an [`RdbError`] carrying the byte offset, never a panic.

pub mod crc64;
pub mod dump;
pub mod file;
pub mod intset;
pub mod lzf;
pub mod read;
pub mod stream;
pub mod write;
pub mod ziplist;

#[cfg(test)]
mod tests;

/// The version Redis 7.0 writes and the newest it (and we) load.
pub const RDB_VERSION: u16 = 10;

/// Value types (the byte before a key).
pub mod kind {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const MODULE_PRE_GA: u8 = 6;
    pub const MODULE_2: u8 = 7;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const STREAM_LISTPACKS_2: u8 = 19;
    /// Redis 7.2 (RDB 11) types, refused as Redis 7.0 refuses them.
    pub const SET_LISTPACK: u8 = 20;
    pub const STREAM_LISTPACKS_3: u8 = 21;
}

/// Opcodes between keys.
pub mod opcode {
    pub const FUNCTION2: u8 = 245;
    pub const FUNCTION_PRE_GA: u8 = 246;
    pub const MODULE_AUX: u8 = 247;
    pub const IDLE: u8 = 248;
    pub const FREQ: u8 = 249;
    pub const AUX: u8 = 250;
    pub const RESIZEDB: u8 = 251;
    pub const EXPIRETIME_MS: u8 = 252;
    pub const EXPIRETIME: u8 = 253;
    pub const SELECTDB: u8 = 254;
    pub const EOF: u8 = 255;
}

/// Quicklist 2 node containers.
pub const QUICKLIST_NODE_PLAIN: u64 = 1;
pub const QUICKLIST_NODE_PACKED: u64 = 2;

/// Why a file or payload could not be read, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RdbError {
    /// Byte offset in the file or payload where the bad data starts.
    pub offset: usize,
    pub message: String,
}

impl RdbError {
    pub fn new(offset: usize, message: impl Into<String>) -> Self {
        RdbError { offset, message: message.into() }
    }
}

impl std::fmt::Display for RdbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at byte offset {})", self.message, self.offset)
    }
}

impl std::error::Error for RdbError {}
