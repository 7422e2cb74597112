//! The cluster bus: Redis 7.0's binary message format (`wire`, `frame`) and the gossip
//! protocol that drives `ClusterState` with it. Sans-IO: bytes and times in, actions out.
//!
//! # How the event loop drives it (shard 0)
//!
//! One `Bus` owns the node's `ClusterState` (it derefs to it) and the link table. The event
//! loop owns the sockets: a listener on the bus port and one socket per `LinkId`. It calls:
//!
//! | when | call | then |
//! |---|---|---|
//! | every 100 ms | `tick(now_ms)` | run the actions |
//! | a peer connected to the bus port | `accept(now_ms, peer_ip, local_ip)` | map the returned `LinkId` to the socket |
//! | `Connect` finished | `connected(now_ms, link, local_ip)` | |
//! | `Connect` failed, or a socket closed or errored | `closed(now_ms, link)` | forget the socket |
//! | bytes arrived | `bytes_in(now_ms, link, bytes)` | |
//! | bytes of a `Send` were written | `written(link, n)` (only feeds CLUSTER LINKS) | |
//! | a client ran PUBLISH / SPUBLISH | `publish(now_ms, channel, message, shard)` | |
//!
//! Every call returns the `Action`s to carry out, in order:
//! - `Connect { link, ip, port }`: open a TCP connection to `ip:port` (the node's bus port);
//!   report the outcome with `connected` or `closed`. No connect timeout is needed: a link
//!   that stays silent is closed by the bus (a `Close` for a pending connect cancels it).
//! - `Send { link, bytes }`: write the bytes on the link, in order with earlier sends.
//! - `Close { link }`: close the socket. The bus has already forgotten the link; calling
//!   `closed` for it afterwards is harmless.
//! - `SaveConfig`: rewrite `cluster-config-file` (`ClusterState::save`).
//! - `PublishView`: send the new `ClusterView` to every shard.
//! - `Deliver { shard, channel, message }`: a PUBLISH (or SPUBLISH) from another node, for
//!   this node's subscribers; it must not be sent back to the bus.
//! - `DeleteKeysInSlots { slots }`: another master took these slots from us with a newer
//!   config; keys left in them are no longer ours (`delKeysInSlot`).
//! - `ReplicateFrom { master }`: we lost our last slot to `master` and are now its replica
//!   (`clusterSetMaster`); the replication layer starts syncing from it.
//!
//! `Send`s on a link that is still connecting are held by the bus and handed over after
//! `connected`, so every `Send` is for a connected socket.
//!
//! CLUSTER commands act on the `ClusterState` directly (MEET adds a handshake node, FORGET
//! removes one): the next `tick` connects to new nodes and closes links of removed ones.
//!
//! This module never opens sockets, reads the clock or touches files: times come in as
//! arguments and randomness from a seeded generator, so `testing::sim` can run many buses in
//! one process and replay a seed.

pub mod frame;
pub mod link;
pub mod wire;

mod conn;
mod cron;
mod failure;
mod gossip;
mod process;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use rand::rngs::SmallRng;
use rand::SeedableRng;

use crate::cluster::state::{ClusterState, NodeId};
pub use link::LinkId;
use wire::SlotBits;

/// What the event loop (or the simulator) must do for the bus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Connect { link: LinkId, node: NodeId, ip: String, port: u16 },
    Send { link: LinkId, bytes: Arc<[u8]> },
    Close { link: LinkId },
    SaveConfig,
    PublishView,
    Deliver { shard: bool, channel: Vec<u8>, message: Vec<u8> },
    DeleteKeysInSlots { slots: Vec<u16> },
    ReplicateFrom { master: NodeId },
}

/// Counters the bus keeps beyond the per-type message counts of `ClusterState`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BusStats {
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// Frames that were not valid messages; each closed its link.
    pub malformed_messages: u64,
}

/// Work left for the end of the current call (Redis's `clusterDoBeforeSleep` flags).
mod todo {
    pub const SAVE_CONFIG: u8 = 1;
    pub const UPDATE_STATE: u8 = 2;
    pub const PUBLISH_VIEW: u8 = 4;
}

pub struct Bus {
    state: ClusterState,
    rng: SmallRng,
    /// `tick` calls so far (`clusterCron`'s `iteration`).
    iteration: u64,
    out: Vec<Action>,
    todo: u8,
    /// Nodes in PFAIL at the last tick (`stats_pfail_nodes`): each PING gossips them all.
    pfail_nodes: usize,
    /// The slot bitmap our headers carry, cached by `ClusterState::slots_version` and owner.
    header_slots: (u64, usize, Box<SlotBits>),
    /// Claims found equal to our table: node -> (slots version, digest of its bitmap).
    same_claims: hashbrown::HashMap<NodeId, (u64, u64)>,
    /// Membership version at the last check for links that lost their node.
    links_checked_at: u64,
    pub stats: BusStats,
    /// Whether PINGs carry the forgotten-node extension for blacklisted nodes. Redis 7.0 does
    /// not know it and logs every one it receives (it ignores it otherwise).
    pub gossip_forgotten_nodes: bool,
}

impl std::ops::Deref for Bus {
    type Target = ClusterState;
    fn deref(&self) -> &ClusterState {
        &self.state
    }
}

impl std::ops::DerefMut for Bus {
    fn deref_mut(&mut self) -> &mut ClusterState {
        &mut self.state
    }
}

impl Bus {
    /// A bus around a loaded state; `seed` drives every random choice (gossip targets,
    /// handshake names).
    pub fn new(state: ClusterState, seed: u64) -> Bus {
        Bus {
            state,
            rng: SmallRng::seed_from_u64(seed),
            iteration: 0,
            out: Vec::new(),
            todo: 0,
            pfail_nodes: 0,
            header_slots: (u64::MAX, usize::MAX, Box::new([0; crate::limits::SLOT_COUNT / 8])),
            same_claims: hashbrown::HashMap::new(),
            links_checked_at: u64::MAX,
            stats: BusStats::default(),
            gossip_forgotten_nodes: true,
        }
    }

    pub fn state(&self) -> &ClusterState {
        &self.state
    }

    pub fn state_mut(&mut self) -> &mut ClusterState {
        &mut self.state
    }

    pub fn into_state(self) -> ClusterState {
        self.state
    }

    /// A peer connected to our bus port. Returns the id of the new link.
    pub fn accept(&mut self, now_ms: u64, peer_ip: &str, local_ip: &str) -> LinkId {
        self.state.links.open(true, None, now_ms, peer_ip, local_ip)
    }

    /// An outbound `Connect` succeeded: greet the node with MEET (after CLUSTER MEET) or PING.
    pub fn connected(&mut self, now_ms: u64, link: LinkId, local_ip: &str) -> Vec<Action> {
        self.link_connected(now_ms, link, local_ip);
        self.finish(now_ms)
    }

    /// A link is gone (connect failed, peer closed, socket error).
    pub fn closed(&mut self, now_ms: u64, link: LinkId) -> Vec<Action> {
        self.drop_link(now_ms, link);
        self.finish(now_ms)
    }

    /// Bytes read from a link: every whole message in them is processed. A malformed message
    /// closes the link.
    pub fn bytes_in(&mut self, now_ms: u64, link: LinkId, data: &[u8]) -> Vec<Action> {
        self.receive(now_ms, link, data);
        self.finish(now_ms)
    }

    /// The event loop wrote `n` bytes of earlier `Send`s on `link`.
    pub fn written(&mut self, link: LinkId, n: usize) {
        if let Some(l) = self.state.links.get_mut(link) {
            l.send_queued_bytes = l.send_queued_bytes.saturating_sub(n);
        }
    }

    /// Periodic work, every 100 ms (`clusterCron`).
    pub fn tick(&mut self, now_ms: u64) -> Vec<Action> {
        self.cron(now_ms);
        self.finish(now_ms)
    }

    /// Relays a PUBLISH to every node (or an SPUBLISH to the nodes of our shard).
    pub fn publish(&mut self, now_ms: u64, channel: &[u8], message: &[u8], shard: bool) -> Vec<Action> {
        self.send_publish(now_ms, channel, message, shard);
        self.finish(now_ms)
    }

    /// CLUSTER MEET from inside (tests, the simulator): a handshake node with a name from our
    /// seeded generator.
    pub fn meet(&mut self, now_ms: u64, ip: &str, port: u16, cport: u16) -> bool {
        let id = NodeId::random_with(&mut self.rng);
        self.state.start_handshake(ip, port as i64, cport as i64, id, now_ms).is_ok()
    }

    /// Processes one decoded message as if it arrived on `link` (the simulator and tests use
    /// it to skip the byte layer).
    pub fn on_message(&mut self, now_ms: u64, link: LinkId, msg: &wire::Message) -> Vec<Action> {
        self.process(now_ms, link, msg);
        self.finish(now_ms)
    }

    /// Runs the work left for the end of the call and hands the actions over.
    fn finish(&mut self, now_ms: u64) -> Vec<Action> {
        let todo = std::mem::take(&mut self.todo);
        let mut view = todo & todo::PUBLISH_VIEW != 0;
        if todo & todo::UPDATE_STATE != 0 && self.state.update_state(now_ms) {
            view = true;
        }
        if todo & todo::SAVE_CONFIG != 0 {
            self.out.push(Action::SaveConfig);
            view = true;
        }
        if view {
            self.out.push(Action::PublishView);
        }
        std::mem::take(&mut self.out)
    }

    fn later(&mut self, what: u8) {
        self.todo |= what;
    }
}
