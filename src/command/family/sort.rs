//! SORT and SORT_RO over lists, sets and sorted sets.

use crate::command::spec::CommandSpec;

pub static COMMANDS: &[CommandSpec] = &[];
