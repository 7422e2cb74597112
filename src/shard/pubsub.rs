//! Pub/Sub registry of one shard: which of this shard's clients subscribe to which channels,
//! patterns and shard channels. PUBLISH fans out to every shard; each delivers to its own
//! subscribers by queueing the message in `outbox`, which the network loop moves into the
//! connections' reply buffers. A publisher's messages reach each shard in publish order
//! because mesh messages between two shards keep their order.

use std::collections::HashMap;

use crate::glob::glob_match;
use crate::resp::Out;

#[derive(Default)]
pub struct PubSub {
    pub channels: HashMap<Vec<u8>, Vec<usize>>,
    pub patterns: HashMap<Vec<u8>, Vec<usize>>,
    pub shard_channels: HashMap<Vec<u8>, Vec<usize>>,
    /// (client index, message bytes) to write to local subscribers.
    pub outbox: Vec<(usize, Vec<u8>)>,
}

/// Which of the three subscription spaces.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Space {
    Channel,
    Pattern,
    Shard,
}

impl PubSub {
    pub fn map(&mut self, space: Space) -> &mut HashMap<Vec<u8>, Vec<usize>> {
        match space {
            Space::Channel => &mut self.channels,
            Space::Pattern => &mut self.patterns,
            Space::Shard => &mut self.shard_channels,
        }
    }

    pub fn add(&mut self, space: Space, name: &[u8], ci: usize) {
        let v = self.map(space).entry(name.to_vec()).or_default();
        if !v.contains(&ci) {
            v.push(ci);
        }
    }

    pub fn remove(&mut self, space: Space, name: &[u8], ci: usize) {
        let m = self.map(space);
        if let Some(v) = m.get_mut(name) {
            v.retain(|&c| c != ci);
            if v.is_empty() {
                m.remove(name);
            }
        }
    }

    /// Delivers a message to this shard's subscribers; returns how many received it.
    /// `resp3_of(ci)` tells each subscriber's protocol.
    pub fn deliver(&mut self, shard: bool, channel: &[u8], payload: &[u8], resp3_of: impl Fn(usize) -> bool) -> usize {
        let mut n = 0;
        let mut out = Vec::new();
        if shard {
            if let Some(subs) = self.shard_channels.get(channel) {
                for &ci in subs {
                    out.push((ci, encode(resp3_of(ci), &[b"smessage", channel, payload])));
                }
            }
        } else {
            if let Some(subs) = self.channels.get(channel) {
                for &ci in subs {
                    out.push((ci, encode(resp3_of(ci), &[b"message", channel, payload])));
                }
            }
            for (pat, subs) in &self.patterns {
                if glob_match(pat, channel, false) {
                    for &ci in subs {
                        out.push((ci, encode(resp3_of(ci), &[b"pmessage", pat, channel, payload])));
                    }
                }
            }
        }
        n += out.len();
        self.outbox.extend(out);
        n
    }
}

/// A pub/sub push: `>n` in RESP3, an array in RESP2.
pub fn encode(resp3: bool, parts: &[&[u8]]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(32 + parts.iter().map(|p| p.len() + 8).sum::<usize>());
    let mut o = Out::new(&mut buf, resp3);
    o.push(parts.len());
    for p in parts {
        o.bulk(p);
    }
    buf
}
