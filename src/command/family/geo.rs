//! Geo: GEOADD GEODIST GEOHASH GEOPOS GEOSEARCH GEOSEARCHSTORE and the GEORADIUS family, over sorted sets.

use crate::command::spec::CommandSpec;

pub static COMMANDS: &[CommandSpec] = &[];
