//! The bus links as the state machine sees them: an id the event loop maps to a socket, the
//! direction, the node at the other end, when it was created, whether it is connected, its
//! frame reader and what was queued on it. Redis keeps the same facts in `clusterLink`.
//!
//! Bookkeeping only: it never decides when a link opens or closes (that is `Bus`) and never
//! touches a socket.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::frame::FrameReader;
use crate::cluster::state::NodeId;

/// A bus link, named by the bus. The event loop keeps a map from it to its socket.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct LinkId(pub u64);

pub struct Link {
    pub id: LinkId,
    /// Accepted from a peer (`from` in CLUSTER LINKS) or opened by us (`to`).
    pub inbound: bool,
    /// The node at the other end: set when we open the link, or for an inbound link once a
    /// known node spoke on it.
    pub node: Option<NodeId>,
    pub create_time_ms: u64,
    /// Outbound links connect asynchronously; inbound ones are connected from the start.
    pub connected: bool,
    /// The peer's address and ours on this link (for a peer that does not announce its IP, and
    /// to learn our own address from a MEET).
    pub peer_ip: String,
    pub local_ip: String,
    pub(crate) reader: FrameReader,
    /// Messages queued while an outbound link is still connecting, sent once it connects.
    pub(crate) pending: Vec<Arc<[u8]>>,
    /// Bytes handed to the event loop that it has not reported written (`Bus::written`).
    pub send_queued_bytes: usize,
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

/// Every open link, in id order (so iteration is deterministic).
#[derive(Default)]
pub struct Links {
    map: BTreeMap<LinkId, Link>,
    next_id: u64,
}

impl Links {
    /// Creates a link and returns its id; ids are never reused.
    pub fn open(&mut self, inbound: bool, node: Option<NodeId>, now_ms: u64, peer_ip: &str, local_ip: &str) -> LinkId {
        self.next_id += 1;
        let id = LinkId(self.next_id);
        let link = Link {
            id,
            inbound,
            node,
            create_time_ms: now_ms,
            connected: inbound,
            peer_ip: peer_ip.to_string(),
            local_ip: local_ip.to_string(),
            reader: FrameReader::new(),
            pending: Vec::new(),
            send_queued_bytes: 0,
            bytes_sent: 0,
            bytes_received: 0,
        };
        self.map.insert(id, link);
        id
    }

    pub fn get(&self, id: LinkId) -> Option<&Link> {
        self.map.get(&id)
    }

    pub fn get_mut(&mut self, id: LinkId) -> Option<&mut Link> {
        self.map.get_mut(&id)
    }

    pub fn remove(&mut self, id: LinkId) -> Option<Link> {
        self.map.remove(&id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Link> {
        self.map.values()
    }

    pub fn ids(&self) -> Vec<LinkId> {
        self.map.keys().copied().collect()
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// What CLUSTER LINKS shows in `events`: `r` once the link reads, `w` while it has bytes
    /// to write (Redis's read and write handlers).
    pub fn events(&self, id: LinkId) -> &'static str {
        match self.map.get(&id) {
            Some(l) if !l.connected => "",
            Some(l) if l.send_queued_bytes > 0 => "rw",
            Some(_) => "r",
            None => "",
        }
    }
}
