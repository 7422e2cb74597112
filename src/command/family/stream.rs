//! Streams: XADD XRANGE XREVRANGE XLEN XDEL XTRIM XREAD, consumer groups, XINFO.

use crate::command::spec::CommandSpec;

pub static COMMANDS: &[CommandSpec] = &[];
