//! The bus's periodic work, every 100 ms (Redis's `clusterCron`): connect to nodes without
//! a link, drop handshakes that never completed, ping one of five random nodes every second
//! and any node not heard from for half the node timeout, reconnect links that stopped
//! answering, and flag PFAIL the nodes silent for longer than the node timeout.
//!
//! Also tidies links that lost their node to a CLUSTER command (FORGET, RESET) since the last
//! tick. Never reads the clock: `now_ms` comes from the caller.

use rand::Rng;

use super::wire::msg_type;
use super::{todo, Bus, LinkId};
use crate::cluster::state::flag;
use crate::observe::log;

/// Ticks between two pings to a random node (`clusterCron` runs 10 times a second and pings
/// one random node every 10 runs).
const RANDOM_PING_EVERY_TICKS: u64 = 10;
/// Random nodes looked at for that ping; the one with the oldest pong wins.
const RANDOM_PING_CANDIDATES: usize = 5;
/// A handshake lasts at least this long even with a shorter node timeout.
const MIN_HANDSHAKE_TIMEOUT_MS: u64 = 1000;

impl Bus {
    pub(super) fn cron(&mut self, now_ms: u64) {
        self.iteration += 1;
        let timeout_ms = self.state.settings.node_timeout_ms;
        let handshake_timeout_ms = timeout_ms.max(MIN_HANDSHAKE_TIMEOUT_MS);
        self.state.blacklist_cleanup(now_ms);
        // Only CLUSTER commands (FORGET, RESET) remove nodes behind the bus's back.
        if self.links_checked_at != self.state.membership_version() {
            self.close_orphan_links();
            self.links_checked_at = self.state.membership_version();
        }

        self.pfail_nodes = 0;
        let mut i = 1;
        while i < self.state.nodes().len() {
            let n = &self.state.nodes()[i];
            if n.flags & flag::NOADDR != 0 {
                i += 1;
                continue;
            }
            if n.timed_out() {
                self.pfail_nodes += 1;
            }
            if n.in_handshake() && now_ms.saturating_sub(n.ctime_ms) > handshake_timeout_ms {
                self.state.log(log::VERBOSE, &format!("Handshake with {}:{} timed out", n.ip, n.cport));
                self.delete_node(i);
                self.later(todo::SAVE_CONFIG);
                continue;
            }
            if n.link.is_none() {
                self.open_link(now_ms, i);
            }
            i += 1;
        }

        if self.iteration.is_multiple_of(RANDOM_PING_EVERY_TICKS) {
            let mut best: Option<(u64, LinkId)> = None;
            for _ in 0..RANDOM_PING_CANDIDATES {
                let j = self.rng.gen_range(0..self.state.nodes().len());
                let n = &self.state.nodes()[j];
                let Some(link) = n.link else {
                    continue;
                };
                if n.ping_sent_ms != 0 || n.flags & (flag::MYSELF | flag::HANDSHAKE) != 0 {
                    continue;
                }
                if best.is_none_or(|(pong, _)| n.pong_received_ms < pong) {
                    best = Some((n.pong_received_ms, link));
                }
            }
            if let Some((_, link)) = best {
                self.send_ping(now_ms, link, msg_type::PING);
            }
        }

        let mut update_state = false;
        for i in 1..self.state.nodes().len() {
            let n = &self.state.nodes()[i];
            if n.flags & (flag::MYSELF | flag::NOADDR | flag::HANDSHAKE) != 0 {
                continue;
            }
            let ping_delay_ms = now_ms.saturating_sub(n.ping_sent_ms);
            let data_delay_ms = now_ms.saturating_sub(n.data_received_ms);
            // Waiting for a PONG for half the timeout with no traffic at all on a link older
            // than the timeout: maybe the connection is the problem, so make a new one.
            if let Some(link) = n.link {
                let age_ms = self.state.links.get(link).map_or(0, |l| now_ms.saturating_sub(l.create_time_ms));
                if age_ms > timeout_ms
                    && n.ping_sent_ms != 0
                    && ping_delay_ms > timeout_ms / 2
                    && data_delay_ms > timeout_ms / 2
                {
                    self.close_link(link);
                }
            }
            let n = &self.state.nodes()[i];
            // Everyone hears from us at least every half timeout.
            if let Some(link) = n.link {
                if n.ping_sent_ms == 0 && now_ms.saturating_sub(n.pong_received_ms) > timeout_ms / 2 {
                    self.send_ping(now_ms, link, msg_type::PING);
                    continue;
                }
            }
            if n.ping_sent_ms == 0 {
                continue;
            }
            // Any data on the link proves the node alive, as a PONG would.
            let node_delay_ms = ping_delay_ms.min(data_delay_ms);
            if node_delay_ms > timeout_ms && n.flags & (flag::PFAIL | flag::FAIL) == 0 {
                let id = n.id;
                self.state.nodes_mut()[i].flags |= flag::PFAIL;
                self.state.log(log::DEBUG, &format!("*** NODE {id} possibly failing"));
                update_state = true;
            }
        }
        if update_state || !self.state.state_ok() {
            self.later(todo::UPDATE_STATE);
        }
    }

    /// Closes links whose node went away (or got another link) without the bus closing them:
    /// CLUSTER FORGET and RESET change the state directly.
    fn close_orphan_links(&mut self) {
        let mut orphans = Vec::new();
        for l in self.state.links.iter() {
            let Some(id) = l.node else {
                continue;
            };
            let owned = self.state.node_by_id(&id).is_some_and(|n| {
                if l.inbound {
                    n.inbound_link == Some(l.id)
                } else {
                    n.link == Some(l.id)
                }
            });
            if !owned {
                orphans.push(l.id);
            }
        }
        for l in orphans {
            self.close_link(l);
        }
        // And the other way: a node pointing at a link that no longer exists.
        let links = &self.state.links;
        let stale: Vec<(usize, bool, bool)> = self
            .state
            .nodes()
            .iter()
            .enumerate()
            .filter_map(|(i, n)| {
                let out = n.link.is_some_and(|l| links.get(l).is_none());
                let inb = n.inbound_link.is_some_and(|l| links.get(l).is_none());
                (out || inb).then_some((i, out, inb))
            })
            .collect();
        for (i, out, inb) in stale {
            let n = &mut self.state.nodes_mut()[i];
            if out {
                n.link = None;
                n.link_connected = n.is_myself();
            }
            if inb {
                n.inbound_link = None;
            }
        }
    }
}
