//! Keyspace events raised by data commands (`notify-keyspace-events`). Commands record them on
//! the store as they run; the shard publishes them after the command, on the
//! `__keyspace@<db>__:<key>` and `__keyevent@<db>__:<event>` channels. Recording is cheap when
//! notifications are off: nothing is stored unless the class is enabled.

pub use crate::config::notify as class;

/// One event: what happened (`event`, Redis's name such as `set` or `lpush`) to which key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyEvent {
    pub class: u32,
    pub event: &'static str,
    pub db: u32,
    pub key: Vec<u8>,
}

/// Whether an event of `class` is published under the configured `flags`: its class must be
/// enabled and at least one of the keyspace (`K`) and keyevent (`E`) channels.
#[inline]
pub fn wanted(flags: u32, class: u32) -> bool {
    flags & class != 0 && flags & (class::KEYSPACE | class::KEYEVENT) != 0
}
