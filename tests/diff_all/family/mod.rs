//! One generator module per command family, and the table that names them. A family is
//! switched on for a run when tessera's command table has its probe command (`COMMAND INFO`),
//! so a family that lands later joins the test without edits here; `TESSERA_DIFF_ALL_FAMILIES`
//! narrows a run to some families (for chasing a failure).
//!
//! Each generator returns one command with the way its replies are compared; they must follow
//! the key rules of `keyspace.rs` and the deadline rules of `gen.rs`.

pub mod bitmap;
pub mod blocking;
pub mod geo;
pub mod hash;
pub mod hll;
pub mod keys;
pub mod list;
pub mod set;
pub mod sort;
pub mod stream;
pub mod strings;
pub mod zset;

use super::gen::{Cmd, Gen};

pub struct FamilyDef {
    pub name: &'static str,
    /// A command whose presence in tessera's table switches the family on.
    pub probe: &'static str,
    /// Relative share of generated commands.
    pub weight: u32,
    pub gen: fn(&mut Gen) -> Cmd,
}

pub static FAMILIES: &[FamilyDef] = &[
    FamilyDef { name: "strings", probe: "get", weight: 100, gen: strings::gen },
    FamilyDef { name: "keys", probe: "copy", weight: 90, gen: keys::gen },
    FamilyDef { name: "dump", probe: "restore", weight: 10, gen: keys::gen_dump },
    FamilyDef { name: "hash", probe: "hset", weight: 85, gen: hash::gen },
    FamilyDef { name: "list", probe: "lpush", weight: 85, gen: list::gen },
    FamilyDef { name: "set", probe: "sadd", weight: 80, gen: set::gen },
    FamilyDef { name: "zset", probe: "zadd", weight: 100, gen: zset::gen },
    FamilyDef { name: "geo", probe: "geoadd", weight: 40, gen: geo::gen },
    FamilyDef { name: "hll", probe: "pfadd", weight: 30, gen: hll::gen },
    FamilyDef { name: "bitmap", probe: "bitfield", weight: 45, gen: bitmap::gen },
    FamilyDef { name: "stream", probe: "xadd", weight: 80, gen: stream::gen },
    FamilyDef { name: "sort", probe: "sort", weight: 25, gen: sort::gen },
    FamilyDef { name: "blocking", probe: "blmpop", weight: 5, gen: blocking::gen },
];
