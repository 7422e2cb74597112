//! Serialized values: DUMP and RESTORE in Redis's payload format.

use crate::command::spec::CommandSpec;

pub static COMMANDS: &[CommandSpec] = &[];
