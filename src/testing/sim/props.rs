//! Properties the simulator checks after every event, and the convergence checks tests call
//! at the end of a run. A failure panics with the seed so `TESSERA_SEED=N` replays it.
//!
//! Per event: the state's own invariants (`ClusterState::check_invariants`), and safety: no
//! two masters claim one slot with the same config epoch. Each node's claim (its own slots
//! and epoch) is cached by `slots_version` so the check costs a few comparisons per event.

use std::collections::BTreeMap;

use super::Sim;
use crate::cluster::bus::wire::{set_bit, SlotBits};
use crate::cluster::state::{flag, ClusterState, NodeId};

/// What each node claims for itself: (slots version, config epoch, is master, slots).
#[derive(Default)]
pub struct Claims {
    by_node: BTreeMap<usize, (u64, u64, bool, Box<SlotBits>)>,
}

impl Claims {
    pub fn forget(&mut self, node: usize) {
        self.by_node.remove(&node);
    }
}

fn own_slots(st: &ClusterState) -> Box<SlotBits> {
    let mut bits = Box::new([0u8; crate::limits::SLOT_COUNT / 8]);
    for (s, &o) in st.slot_owners().iter().enumerate() {
        if o == 0 {
            set_bit(&mut bits, s);
        }
    }
    bits
}

impl Sim {
    /// Checks node `node` after it handled an event.
    pub(super) fn check_node(&mut self, node: usize) {
        let seed = self.seed;
        let Some(st) = self.nodes[node].state() else {
            self.claims.forget(node);
            return;
        };
        let version = st.slots_version();
        let fresh = self.claims.by_node.get(&node).is_none_or(|c| c.0 != version);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| st.check_invariants(fresh)));
        if let Err(e) = result {
            panic!("seed {seed}: node {node} broke an invariant at {} ms: {e:?}", self.now_ms);
        }
        let me = st.myself();
        let (epoch, master) = (me.config_epoch, me.is_master());
        if fresh {
            let slots = own_slots(st);
            self.claims.by_node.insert(node, (version, epoch, master, slots));
        } else if let Some(c) = self.claims.by_node.get_mut(&node) {
            c.1 = epoch;
            c.2 = master;
        }
        let Some((_, epoch, master, bits)) = self.claims.by_node.get(&node) else {
            return;
        };
        if !*master {
            return;
        }
        for (&other, (_, e2, m2, bits2)) in self.claims.by_node.iter() {
            if other == node || !*m2 || e2 != epoch || self.nodes[other].bus.is_none() {
                continue;
            }
            if let Some(slot) = (0..bits.len()).find(|&i| bits[i] & bits2[i] != 0) {
                panic!(
                    "seed {seed}: nodes {node} and {other} both claim slots of byte {slot} with config epoch {epoch} at {} ms",
                    self.now_ms
                );
            }
        }
    }

    /// Every node that is up knows exactly the nodes that are up (none in handshake or
    /// flagged PFAIL/FAIL), and they agree on who owns every slot.
    pub fn converged(&self) -> Result<(), String> {
        let up = self.up();
        let ids: Vec<NodeId> = up.iter().map(|&i| self.id(i)).collect();
        for &i in &up {
            let st = self.state(i);
            if st.nodes().len() != ids.len() {
                return Err(format!("node {i} knows {} nodes, {} are up", st.nodes().len(), ids.len()));
            }
            if let Some(id) = ids.iter().find(|id| st.node_by_id(id).is_none()) {
                return Err(format!("node {i} does not know {id}"));
            }
            if let Some(n) = st.nodes().iter().find(|n| n.flags & (flag::HANDSHAKE | flag::PFAIL | flag::FAIL) != 0) {
                return Err(format!("node {i} sees {} as {}", n.id, flag::describe(n.flags)));
            }
        }
        let Some(&first) = up.first() else {
            return Ok(());
        };
        let reference = self.slot_map(first);
        for &i in &up[1..] {
            if self.slot_map(i) != reference {
                return Err(format!("node {i} and node {first} disagree on the slot map"));
            }
        }
        Ok(())
    }

    /// Slot owners as sim node numbers (comparable across nodes); `u16::MAX` for none or a
    /// node the simulator does not know.
    pub fn slot_map(&self, node: usize) -> Vec<u16> {
        let st = self.state(node);
        let global: Vec<u16> = st
            .nodes()
            .iter()
            .map(|n| self.nodes.iter().position(|s| s.id == n.id).map_or(u16::MAX, |p| p as u16))
            .collect();
        st.slot_owners().iter().map(|&o| global.get(o as usize).copied().unwrap_or(u16::MAX)).collect()
    }

    /// Whether node `observer` flags node `about` with `f`.
    pub fn sees(&self, observer: usize, about: usize, f: u16) -> bool {
        let id = self.id(about);
        self.nodes[observer].state().and_then(|st| st.node_by_id(&id)).is_some_and(|n| n.flags & f != 0)
    }

    /// All masters that are up have distinct config epochs.
    pub fn epochs_unique(&self) -> Result<(), String> {
        for &i in &self.up() {
            let st = self.state(i);
            let mut seen: BTreeMap<u64, NodeId> = BTreeMap::new();
            for n in st.nodes().iter().filter(|n| n.is_master()) {
                if let Some(other) = seen.insert(n.config_epoch, n.id) {
                    return Err(format!("node {i} sees {} and {other} with config epoch {}", n.id, n.config_epoch));
                }
            }
        }
        Ok(())
    }
}
