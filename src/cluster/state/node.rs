//! One cluster node as this node knows it: its 40-character id, advertised address, flags,
//! master, ping/pong times, config epoch and link state. Flag values are Redis's
//! `CLUSTER_NODE_*` (the cluster bus carries them as they are).
//!
//! Plain data: it must never know about slots (the state owns the slot table), files or
//! sockets.

use std::fmt;

use crate::cluster::bus::LinkId;

/// Redis's `CLUSTER_NODE_*` flags, with the values of the cluster bus wire format.
pub mod flag {
    pub const MASTER: u16 = 1;
    pub const SLAVE: u16 = 2;
    pub const PFAIL: u16 = 4;
    pub const FAIL: u16 = 8;
    pub const MYSELF: u16 = 16;
    pub const HANDSHAKE: u16 = 32;
    pub const NOADDR: u16 = 64;
    pub const MEET: u16 = 128;
    pub const MIGRATE_TO: u16 = 256;
    pub const NOFAILOVER: u16 = 512;

    /// Names as CLUSTER NODES and nodes.conf spell them, in Redis's order
    /// (`representClusterNodeFlags`). MEET and MIGRATE_TO are never shown.
    pub const NAMES: &[(u16, &str)] = &[
        (MYSELF, "myself"),
        (MASTER, "master"),
        (SLAVE, "slave"),
        (PFAIL, "fail?"),
        (FAIL, "fail"),
        (HANDSHAKE, "handshake"),
        (NOADDR, "noaddr"),
        (NOFAILOVER, "nofailover"),
    ];

    /// What we take from a peer about a node's flags (a gossip section, a header): the role
    /// and failure flags and NOFAILOVER, never the ones only the node itself or we may set
    /// (MYSELF, HANDSHAKE, MEET, ...), and one role only (master when a peer claims both).
    pub fn from_peer(flags: u16) -> u16 {
        let f = flags & (MASTER | SLAVE | PFAIL | FAIL | NOFAILOVER);
        if f & MASTER != 0 {
            f & !SLAVE
        } else {
            f
        }
    }

    /// `myself,master`, or `noflags` when none is set.
    pub fn describe(flags: u16) -> String {
        let names: Vec<&str> = NAMES.iter().filter(|(f, _)| flags & f != 0).map(|(_, n)| *n).collect();
        if names.is_empty() {
            "noflags".into()
        } else {
            names.join(",")
        }
    }

    /// The flag a name stands for in nodes.conf (`noflags` is 0).
    pub fn from_name(name: &str) -> Option<u16> {
        if name == "noflags" {
            return Some(0);
        }
        NAMES.iter().find(|(_, n)| *n == name).map(|(f, _)| *f)
    }
}

/// Length of a node name (`CLUSTER_NAMELEN`), also used for shard ids.
pub const NODE_ID_LEN: usize = 40;

/// A node name or shard id: 40 characters, lower-case hex when we make one. Names read from
/// outside follow Redis's `verifyClusterNodeId` (40 characters of `a-z` and `0-9`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub [u8; NODE_ID_LEN]);

impl NodeId {
    /// A fresh random id (Redis's `getRandomHexChars`).
    pub fn random() -> NodeId {
        Self::random_with(&mut rand::thread_rng())
    }

    pub fn parse(s: &[u8]) -> Option<NodeId> {
        let arr: [u8; NODE_ID_LEN] = s.try_into().ok()?;
        if arr.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()) {
            Some(NodeId(arr))
        } else {
            None
        }
    }

    /// All zero bytes: "no node" on the wire (`CLUSTER_NODE_NULL_NAME`).
    pub const NULL: NodeId = NodeId([0; NODE_ID_LEN]);

    /// A name as Redis accepts it (`verifyClusterNodeId`): 40 characters of `a-z0-9`.
    pub fn is_valid(&self) -> bool {
        self.0.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    }

    /// A fresh random id from the given generator (deterministic in the simulator).
    pub fn random_with(rng: &mut impl rand::Rng) -> NodeId {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut id = [0u8; NODE_ID_LEN];
        for c in id.iter_mut() {
            *c = HEX[rng.gen_range(0..16)];
        }
        NodeId(id)
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII ever gets in (`random`, `parse`).
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeId({})", self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterNode {
    pub id: NodeId,
    /// Shard id (CLUSTER MYSHARDID): shared by a master and its replicas.
    pub shard_id: NodeId,
    /// Advertised IP; empty until announced or learned from a peer, as in Redis.
    pub ip: String,
    /// Advertised client port and cluster bus port.
    pub port: u16,
    pub cport: u16,
    /// `cluster-announce-hostname` (empty: none).
    pub hostname: String,
    pub flags: u16,
    /// The master of a replica.
    pub master: Option<NodeId>,
    /// When we last sent a PING not yet answered, and last got a PONG (unix ms, 0 = never).
    pub ping_sent_ms: u64,
    pub pong_received_ms: u64,
    pub config_epoch: u64,
    /// Whether the bus link to the node is up (myself always counts as connected).
    pub link_connected: bool,
    /// Replication offset the node last reported (CLUSTER SHARDS `replication-offset`).
    pub repl_offset: u64,
    /// Failure reports from other masters: (reporter, unix ms of the report).
    pub fail_reports: Vec<(NodeId, u64)>,
    /// Plain-text client port when the client port is TLS (0: none).
    pub pport: u16,
    /// When we learned of the node (unix ms): a handshake expires by it.
    pub ctime_ms: u64,
    /// When we flagged it FAIL, and when any bus data last came from it (unix ms).
    pub fail_time_ms: u64,
    pub data_received_ms: u64,
    /// Our bus link to the node, and the node's link to us once it said who it is.
    pub link: Option<LinkId>,
    pub inbound_link: Option<LinkId>,
}

impl ClusterNode {
    pub fn new(id: NodeId, flags: u16) -> ClusterNode {
        ClusterNode {
            id,
            shard_id: id,
            ip: String::new(),
            port: 0,
            cport: 0,
            hostname: String::new(),
            flags,
            master: None,
            ping_sent_ms: 0,
            pong_received_ms: 0,
            config_epoch: 0,
            link_connected: false,
            repl_offset: 0,
            fail_reports: Vec::new(),
            pport: 0,
            ctime_ms: 0,
            fail_time_ms: 0,
            data_received_ms: 0,
            link: None,
            inbound_link: None,
        }
    }

    pub fn is_master(&self) -> bool {
        self.flags & flag::MASTER != 0
    }
    pub fn is_replica(&self) -> bool {
        self.flags & flag::SLAVE != 0
    }
    pub fn is_myself(&self) -> bool {
        self.flags & flag::MYSELF != 0
    }
    pub fn failed(&self) -> bool {
        self.flags & flag::FAIL != 0
    }
    /// PFAIL: we have had no answer within the node timeout (`nodeTimedOut`).
    pub fn timed_out(&self) -> bool {
        self.flags & flag::PFAIL != 0
    }
    pub fn in_handshake(&self) -> bool {
        self.flags & flag::HANDSHAKE != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_flags() {
        let a = NodeId::random();
        assert_eq!(a.as_str().len(), 40);
        assert!(a.as_str().bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, NodeId::random());
        assert_eq!(NodeId::parse(a.as_str().as_bytes()), Some(a));
        assert_eq!(NodeId::parse(b"abc"), None);
        assert_eq!(NodeId::parse(&[b'A'; 40]), None);
        assert_eq!(flag::describe(flag::MYSELF | flag::MASTER), "myself,master");
        assert_eq!(flag::describe(flag::SLAVE | flag::PFAIL | flag::MEET), "slave,fail?");
        assert_eq!(flag::describe(0), "noflags");
        assert_eq!(flag::from_name("fail?"), Some(flag::PFAIL));
        assert_eq!(flag::from_name("noflags"), Some(0));
        assert_eq!(flag::from_name("bogus"), None);
    }
}
