//! An immutable snapshot of the cluster's slot map, published by the control task to every
//! shard. Shards route with their own copy; changing the map means publishing a new one.

use std::collections::BTreeMap;

use crate::limits::SLOT_COUNT;

#[derive(Clone, Debug)]
pub struct NodeAddr {
    pub id: String,
    pub ip: String,
    pub port: u16,
}

#[derive(Clone, Debug)]
pub struct ClusterView {
    pub enabled: bool,
    pub myself: NodeAddr,
    /// Owner of each slot: an index into `nodes`, or `u16::MAX` when unassigned.
    pub slot_owner: Vec<u16>,
    pub nodes: Vec<NodeAddr>,
    /// `cluster_state:ok`. When false, commands with keys get `-CLUSTERDOWN The cluster is down`.
    pub state_ok: bool,
    /// Open slots (CLUSTER SETSLOT): slot -> index into `nodes` of the node this node
    /// migrates it to, or imports it from. For `-ASK` redirections and ASKING.
    pub migrating: BTreeMap<u16, u16>,
    pub importing: BTreeMap<u16, u16>,
}

pub enum Route<'a> {
    Local,
    Moved(&'a NodeAddr),
    Unbound,
}

pub const UNASSIGNED: u16 = u16::MAX;

impl ClusterView {
    /// Standalone mode: every slot is ours.
    pub fn standalone() -> Self {
        ClusterView {
            enabled: false,
            myself: NodeAddr { id: String::new(), ip: String::new(), port: 0 },
            slot_owner: vec![0; SLOT_COUNT],
            nodes: Vec::new(),
            state_ok: true,
            migrating: BTreeMap::new(),
            importing: BTreeMap::new(),
        }
    }

    /// The node a slot we own is being migrated to, if any.
    pub fn migrating_to(&self, slot: u16) -> Option<&NodeAddr> {
        self.migrating.get(&slot).and_then(|&i| self.nodes.get(i as usize))
    }

    /// Whether we are importing the slot from another node.
    pub fn importing(&self, slot: u16) -> bool {
        self.importing.contains_key(&slot)
    }

    #[inline]
    pub fn route(&self, slot: u16) -> Route<'_> {
        if !self.enabled {
            return Route::Local;
        }
        match self.slot_owner[slot as usize] {
            UNASSIGNED => Route::Unbound,
            0 => Route::Local,
            i => match self.nodes.get(i as usize) {
                Some(n) => Route::Moved(n),
                None => Route::Unbound,
            },
        }
    }
}
