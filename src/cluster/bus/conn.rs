//! Link lifecycle inside the bus: opening a link to a node, greeting it once connected,
//! cutting received bytes into messages, queueing sends, and forgetting a link (ours to close,
//! or reported closed), with the node fields that point at links kept in step.
//!
//! Never decides what a message means (`process`) or when to connect (`cron`).

use std::sync::Arc;

use super::wire::{self, msg_type};
use super::{Action, Bus, LinkId};
use crate::cluster::state::flag;
use crate::observe::log;

impl Bus {
    /// Opens a link to node `idx` (`createClusterLink` + `connConnect`).
    pub(super) fn open_link(&mut self, now_ms: u64, idx: usize) {
        let Some(n) = self.state.node(idx) else {
            return;
        };
        let (id, ip, cport) = (n.id, n.ip.clone(), n.cport);
        let link = self.state.links.open(false, Some(id), now_ms, &ip, "");
        if let Some(n) = self.state.node_mut(idx) {
            n.link = Some(link);
            n.link_connected = true;
        }
        self.out.push(Action::Connect { link, node: id, ip, port: cport });
    }

    /// An outbound link connected: send what waited, then MEET or PING
    /// (`clusterLinkConnectHandler`).
    pub(super) fn link_connected(&mut self, now_ms: u64, link: LinkId, local_ip: &str) {
        let Some(l) = self.state.links.get_mut(link) else {
            return;
        };
        if l.inbound || l.connected {
            return;
        }
        l.connected = true;
        l.local_ip = local_ip.to_string();
        let node = l.node;
        for bytes in std::mem::take(&mut l.pending) {
            self.push_send(link, bytes);
        }
        let Some(idx) = node.and_then(|id| self.state.node_index(&id)) else {
            return;
        };
        let n = &self.state.nodes()[idx];
        let old_ping_sent_ms = n.ping_sent_ms;
        let meet = n.flags & flag::MEET != 0;
        self.send_ping(now_ms, link, if meet { msg_type::MEET } else { msg_type::PING });
        if let Some(n) = self.state.node_mut(idx) {
            // A ping that was waiting before the link dropped still counts from when it left.
            if old_ping_sent_ms != 0 {
                n.ping_sent_ms = old_ping_sent_ms;
            }
            // One MEET is enough: after its PONG the node knows us.
            n.flags &= !flag::MEET;
        }
    }

    /// The event loop reports the link gone.
    pub(super) fn drop_link(&mut self, now_ms: u64, link: LinkId) {
        let Some(l) = self.state.links.get(link) else {
            return;
        };
        if !l.inbound && !l.connected {
            // The connect failed. Redis counts a ping as sent when a connect fails at once, so
            // a node that refuses connections still times out into PFAIL.
            if let Some(n) = l.node.and_then(|id| self.state.node_by_id_mut(&id)) {
                if n.ping_sent_ms == 0 {
                    n.ping_sent_ms = now_ms;
                }
            }
        }
        self.forget_link(link);
    }

    /// Closes a link from our side (`freeClusterLink`).
    pub(super) fn close_link(&mut self, link: LinkId) {
        if self.state.links.get(link).is_some() {
            self.forget_link(link);
            self.out.push(Action::Close { link });
        }
    }

    fn forget_link(&mut self, link: LinkId) {
        let Some(l) = self.state.links.remove(link) else {
            return;
        };
        let Some(n) = l.node.and_then(|id| self.state.node_by_id_mut(&id)) else {
            return;
        };
        if n.link == Some(link) {
            n.link = None;
            n.link_connected = n.is_myself();
        }
        if n.inbound_link == Some(link) {
            n.inbound_link = None;
        }
    }

    /// Deletes node `idx` and closes its links (`clusterDelNode`).
    pub(super) fn delete_node(&mut self, idx: usize) {
        if idx == 0 {
            return;
        }
        let Some(n) = self.state.node(idx) else {
            return;
        };
        let links = [n.link, n.inbound_link];
        for l in links.into_iter().flatten() {
            self.close_link(l);
        }
        self.state.remove_node(idx);
    }

    /// Feeds bytes to a link's frame reader and processes each whole message. A framing or
    /// decoding error closes the link (and is counted).
    pub(super) fn receive(&mut self, now_ms: u64, link: LinkId, data: &[u8]) {
        let Some(l) = self.state.links.get_mut(link) else {
            return;
        };
        l.bytes_received += data.len() as u64;
        self.stats.bytes_received += data.len() as u64;
        let mut reader = std::mem::take(&mut l.reader);
        let mut rest = data;
        let mut direct = true;
        loop {
            let frame = if direct {
                match reader.split_direct(&mut rest) {
                    Ok(Some(frame)) => Ok(Some(frame)),
                    Ok(None) => {
                        direct = false;
                        reader.feed(rest);
                        continue;
                    }
                    Err(e) => Err(e),
                }
            } else {
                reader.next_frame()
            };
            let msg = match frame {
                Ok(None) => break,
                Ok(Some(frame)) => wire::decode(frame),
                Err(e) => Err(e),
            };
            match msg {
                Ok(m) => {
                    self.process(now_ms, link, &m);
                    if self.state.links.get(link).is_none() {
                        // Processing closed the link; what is left of its bytes goes with it.
                        return;
                    }
                }
                Err(e) => {
                    self.stats.malformed_messages += 1;
                    self.state.log(log::WARNING, &format!("Closing a cluster bus link: {e}"));
                    self.close_link(link);
                    return;
                }
            }
        }
        if let Some(l) = self.state.links.get_mut(link) {
            l.reader = reader;
        }
    }

    /// Sends an encoded message on a link, or queues it while the link connects
    /// (`clusterSendMessage`). Counts it by type for CLUSTER INFO.
    pub(super) fn send_bytes(&mut self, link: LinkId, bytes: Arc<[u8]>, t: u16) {
        let Some(l) = self.state.links.get_mut(link) else {
            return;
        };
        if let Some(c) = self.state.messages_sent.get_mut(t as usize) {
            *c += 1;
        }
        if l.connected {
            self.push_send(link, bytes);
        } else {
            l.pending.push(bytes);
        }
    }

    fn push_send(&mut self, link: LinkId, bytes: Arc<[u8]>) {
        if let Some(l) = self.state.links.get_mut(link) {
            l.bytes_sent += bytes.len() as u64;
            l.send_queued_bytes += bytes.len();
        }
        self.stats.bytes_sent += bytes.len() as u64;
        self.out.push(Action::Send { link, bytes });
    }

    /// Sends to every node we have a link to, except nodes in handshake
    /// (`clusterBroadcastMessage`).
    pub(super) fn broadcast(&mut self, bytes: Arc<[u8]>, t: u16) {
        let links: Vec<LinkId> = self
            .state
            .nodes()
            .iter()
            .filter(|n| n.flags & (flag::MYSELF | flag::HANDSHAKE) == 0)
            .filter_map(|n| n.link)
            .collect();
        for l in links {
            self.send_bytes(l, bytes.clone(), t);
        }
    }
}
