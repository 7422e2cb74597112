//! Placeholder until the family lands.
use crate::command::spec::CommandSpec;
pub static COMMANDS: &[CommandSpec] = &[];
