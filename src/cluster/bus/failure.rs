//! Failure detection: a PFAIL node becomes FAIL once a majority of the masters serving slots
//! reported it (each report valid for twice the node timeout), and the FAIL is broadcast; a
//! FAIL is cleared when the node answers again and it is a replica or a master without slots,
//! or a master whose slots nobody took over within twice the node timeout.
//!
//! Redis's `markNodeAsFailingIfNeeded` and `clearNodeFailureIfNeeded`; PFAIL itself is set by
//! `cron` and cleared by a PONG (`process`).

use super::{todo, Bus};
use crate::cluster::state::flag;
use crate::observe::log;

/// A FAIL on a master that still serves its slots is undone after this many node timeouts
/// (`CLUSTER_FAIL_UNDO_TIME_MULT`).
pub const FAIL_UNDO_TIME_MULT: u64 = 2;

impl Bus {
    pub(super) fn mark_failing_if_needed(&mut self, now_ms: u64, idx: usize) {
        let needed_quorum = self.state.size() / 2 + 1;
        let Some(n) = self.state.node(idx) else {
            return;
        };
        if !n.timed_out() || n.failed() {
            return;
        }
        let mut failures = self.state.failure_report_count(idx, now_ms);
        // Our own PFAIL counts as a report when we are a master.
        if self.state.myself().is_master() {
            failures += 1;
        }
        if failures < needed_quorum {
            return;
        }
        let n = &mut self.state.nodes_mut()[idx];
        n.flags = (n.flags & !flag::PFAIL) | flag::FAIL;
        n.fail_time_ms = now_ms;
        let id = n.id;
        self.state.log(log::NOTICE, &format!("Marking node {id} as failing (quorum reached)."));
        // Everyone we reach learns it now, even from a replica: the reports came from masters.
        self.send_fail(id);
        self.later(todo::UPDATE_STATE | todo::SAVE_CONFIG);
    }

    pub(super) fn clear_failure_if_needed(&mut self, now_ms: u64, idx: usize) {
        let timeout_ms = self.state.settings.node_timeout_ms;
        let slots = self.state.count_node_slots(idx);
        let Some(n) = self.state.node_mut(idx) else {
            return;
        };
        debug_assert!(n.failed(), "clearing FAIL of a node not failed");
        let why = if n.is_replica() || slots == 0 {
            if n.is_replica() {
                "replica is reachable again."
            } else {
                "master without slots is reachable again."
            }
        } else if n.is_master()
            && now_ms.saturating_sub(n.fail_time_ms) > timeout_ms.saturating_mul(FAIL_UNDO_TIME_MULT)
        {
            "is reachable again and nobody is serving its slots after some time."
        } else {
            return;
        };
        n.flags &= !flag::FAIL;
        let line = format!("Clear FAIL state for node {}: {why}", n.id);
        self.state.log(log::NOTICE, &line);
        self.later(todo::UPDATE_STATE | todo::SAVE_CONFIG);
    }
}
