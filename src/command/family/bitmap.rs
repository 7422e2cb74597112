//! Bitmaps: SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO over string values.

use crate::command::spec::CommandSpec;

pub static COMMANDS: &[CommandSpec] = &[];
