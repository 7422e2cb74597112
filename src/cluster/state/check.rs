//! Consistency checks of the cluster state, for tests and the simulator: they panic with a
//! message naming what is wrong. Never called on a request path.

use super::node::flag;
use super::ClusterState;
use crate::cluster::view::UNASSIGNED;

impl ClusterState {
    /// Checks the invariants every change must keep: myself first and only there, unique
    /// names, slot owners that are nodes, and links that point back at their nodes. With
    /// `slots` it also recounts the slot table (16,384 steps).
    pub fn check_invariants(&self, slots: bool) {
        let nodes = self.nodes();
        assert!(!nodes.is_empty() && nodes[0].is_myself(), "nodes[0] is not myself");
        let mut seen = std::collections::HashSet::new();
        for (i, n) in nodes.iter().enumerate() {
            assert!(i == 0 || n.flags & flag::MYSELF == 0, "node {i} ({}) flagged myself", n.id);
            assert!(seen.insert(n.id), "node {} listed twice", n.id);
            assert_eq!(self.node_index(&n.id), Some(i), "index of {}", n.id);
            assert!(n.flags & (flag::MASTER | flag::SLAVE) != flag::MASTER | flag::SLAVE, "{} both roles", n.id);
            if let Some(l) = n.link {
                let link = self.links.get(l).unwrap_or_else(|| panic!("{} points at a gone link {l:?}", n.id));
                assert!(!link.inbound && link.node == Some(n.id), "{}'s link {l:?} is not its own", n.id);
            }
            if let Some(l) = n.inbound_link {
                let link = self.links.get(l).unwrap_or_else(|| panic!("{} points at a gone link {l:?}", n.id));
                assert!(link.inbound && link.node == Some(n.id), "{}'s inbound link {l:?} is not its own", n.id);
            }
            assert!(n.fail_reports.iter().all(|(r, _)| *r != n.id), "{} reports itself", n.id);
        }
        if slots {
            let mut counts = vec![0usize; nodes.len()];
            for (s, &o) in self.slot_owners().iter().enumerate() {
                if o != UNASSIGNED {
                    assert!((o as usize) < nodes.len(), "slot {s} owned by missing node {o}");
                    counts[o as usize] += 1;
                }
            }
            for (i, &c) in counts.iter().enumerate() {
                assert_eq!(self.count_node_slots(i), c, "slot count of {}", nodes[i].id);
            }
        }
    }
}
