//! HyperLogLog: PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST over string values in Redis's sparse/dense layout.

use crate::command::spec::CommandSpec;

pub static COMMANDS: &[CommandSpec] = &[];
