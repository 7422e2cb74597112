//! Building the messages this node sends (the header every message starts with, PING/PONG/
//! MEET with their gossip sections and extensions, FAIL, UPDATE, PUBLISH) and reading the
//! gossip sections and extensions of the PINGs it receives.
//!
//! The gossip sample follows Redis's `clusterSendPing`: a tenth of the known nodes, at least
//! three, picked at random (nodes in handshake, without an address, or unreachable and
//! without slots are skipped), plus every node in PFAIL so failure reports travel fast. That
//! ratio keeps bytes per node per second linear in the cluster size.

use rand::Rng;

use super::wire::{self, mflag0, msg_type, Body, Gossip, Header, IpField, Message, PingExt, STATE_FAIL, STATE_OK};
use super::{todo, Bus, LinkId};
use crate::cluster::state::{flag, ClusterNode, NodeId};
use crate::observe::log;

/// A gossiped pong time may be this far in our future and still be taken (clock skew).
const PONG_FUTURE_TOLERANCE_MS: u64 = 500;

impl Bus {
    /// The header of every message we send (`clusterBuildMessageHdr`): a replica sends its
    /// master's slots and config epoch.
    pub(super) fn build_header(&mut self, t: u16) -> Header {
        let me = self.state.myself();
        let master = if me.is_replica() { me.master.and_then(|m| self.state.node_index(&m)).unwrap_or(0) } else { 0 };
        let version = self.state.slots_version();
        if self.header_slots.0 != version || self.header_slots.1 != master {
            self.header_slots = (version, master, self.state.node_slot_bitmap(master));
        }
        let me = self.state.myself();
        let (port, cport) = self.state.settings.announced_ports();
        let mut h = Header::new(t);
        h.port = port;
        h.pport = 0;
        h.cport = cport;
        h.current_epoch = self.state.current_epoch;
        h.config_epoch = self.state.nodes()[master].config_epoch;
        h.offset = me.repl_offset;
        h.sender = me.id;
        h.myslots.copy_from_slice(&self.header_slots.2[..]);
        h.slaveof = me.master.unwrap_or(NodeId::NULL);
        if !self.state.settings.announce_ip.is_empty() {
            h.myip = IpField::new(&self.state.settings.announce_ip);
        }
        h.flags = me.flags;
        h.state = if self.state.state_ok() { STATE_OK } else { STATE_FAIL };
        h
    }

    /// Sends a PING, PONG or MEET on `link` (`clusterSendPing`).
    pub(super) fn send_ping(&mut self, now_ms: u64, link: LinkId, t: u16) {
        let Some(l) = self.state.links.get(link) else {
            return;
        };
        let outbound_node = if l.inbound { None } else { l.node.and_then(|id| self.state.node_index(&id)) };
        let known = self.state.nodes().len();
        // Nodes we could gossip about at all: everyone but us and the receiver.
        let mut fresh = known as isize - 2;
        let mut wanted = (known / 10).max(3) as isize;
        if wanted > fresh {
            wanted = fresh;
        }
        let mut pfail_wanted = self.pfail_nodes;
        if t == msg_type::PING {
            if let Some(n) = outbound_node.and_then(|i| self.state.node_mut(i)) {
                n.ping_sent_ms = now_ms;
            }
        }
        let mut header = self.build_header(t);
        let mut gossip: Vec<Gossip> = Vec::with_capacity(wanted.max(0) as usize + pfail_wanted);
        let mut tries = wanted * 3;
        while fresh > 0 && (gossip.len() as isize) < wanted && tries > 0 {
            tries -= 1;
            let i = self.rng.gen_range(0..known);
            let n = &self.state.nodes()[i];
            // Not ourselves (the header is about us), and PFAIL nodes go in below.
            if i == 0 || n.flags & flag::PFAIL != 0 {
                continue;
            }
            if n.flags & (flag::HANDSHAKE | flag::NOADDR) != 0
                || (n.link.is_none() && self.state.count_node_slots(i) == 0)
            {
                fresh -= 1;
                continue;
            }
            if gossip.iter().any(|g| g.name == n.id) {
                continue;
            }
            gossip.push(gossip_entry(n));
            fresh -= 1;
        }
        for n in self.state.nodes().iter() {
            if pfail_wanted == 0 {
                break;
            }
            if n.flags & (flag::HANDSHAKE | flag::NOADDR) != 0 || n.flags & flag::PFAIL == 0 {
                continue;
            }
            gossip.push(gossip_entry(n));
            pfail_wanted -= 1;
        }
        let mut exts = Vec::new();
        let hostname = &self.state.myself().hostname;
        if !hostname.is_empty() {
            exts.push(PingExt::Hostname(hostname.as_bytes().to_vec()));
        }
        if self.gossip_forgotten_nodes {
            for (&name, &expire_ms) in self.state.blacklist.iter() {
                if expire_ms >= now_ms {
                    exts.push(PingExt::ForgottenNode { name, ttl_s: (expire_ms - now_ms) / 1000 });
                }
            }
        }
        if !exts.is_empty() {
            header.mflags[0] |= mflag0::EXT_DATA;
            header.extensions = exts.len() as u16;
        }
        let bytes = wire::encode(&Message { header, body: Body::Ping { gossip, exts } });
        self.send_bytes(link, bytes.into(), t);
    }

    /// Tells every node that `failing` is FAIL (`clusterSendFail`).
    pub(super) fn send_fail(&mut self, failing: NodeId) {
        let header = self.build_header(msg_type::FAIL);
        let bytes = wire::encode(&Message { header, body: Body::Fail { node: failing } });
        self.broadcast(bytes.into(), msg_type::FAIL);
    }

    /// Tells the node on `link` the config of node `about`, newer than what it claims
    /// (`clusterSendUpdate`).
    pub(super) fn send_update(&mut self, link: Option<LinkId>, about: usize) {
        let Some(link) = link else {
            return;
        };
        let Some(n) = self.state.node(about) else {
            return;
        };
        let (config_epoch, node) = (n.config_epoch, n.id);
        let slots = self.state.node_slot_bitmap(about);
        let header = self.build_header(msg_type::UPDATE);
        let bytes = wire::encode(&Message { header, body: Body::Update { config_epoch, node, slots } });
        self.send_bytes(link, bytes.into(), msg_type::UPDATE);
    }

    /// PUBLISH goes to every node; SPUBLISH to the other nodes of our shard
    /// (`clusterPropagatePublish`, `clusterPropagatePublishShard`).
    pub(super) fn send_publish(&mut self, _now_ms: u64, channel: &[u8], message: &[u8], shard: bool) {
        let t = if shard { msg_type::PUBLISHSHARD } else { msg_type::PUBLISH };
        let header = self.build_header(t);
        let body = Body::Publish { channel: channel.to_vec(), message: message.to_vec() };
        let bytes: std::sync::Arc<[u8]> = wire::encode(&Message { header, body }).into();
        if !shard {
            self.broadcast(bytes, t);
            return;
        }
        let me = self.state.myself();
        let master = if me.is_replica() { me.master } else { Some(me.id) };
        let Some(master) = master else {
            return;
        };
        let links: Vec<LinkId> = self
            .state
            .nodes()
            .iter()
            .skip(1)
            .filter(|n| n.id == master || (n.is_replica() && n.master == Some(master)))
            .filter_map(|n| n.link)
            .collect();
        for l in links {
            self.send_bytes(l, bytes.clone(), t);
        }
    }

    /// Reads the gossip sections of a message (`clusterProcessGossipSection`). `sender` is
    /// None for a MEET from a node we do not know yet: its sections update what we know but
    /// add no node and count as no failure report.
    pub(super) fn process_gossip(&mut self, now_ms: u64, sender: Option<NodeId>, gossip: &[Gossip]) {
        let sender_is_master = sender.and_then(|s| self.state.node_by_id(&s)).is_some_and(|n| n.is_master());
        for g in gossip {
            if !g.name.is_valid() {
                continue;
            }
            let flags = g.flags;
            let down = flags & (flag::FAIL | flag::PFAIL) != 0;
            let Some(idx) = self.state.node_index(&g.name) else {
                // A node new to us. Only a known sender is trusted to introduce one: an address
                // alone might belong to another cluster.
                if sender.is_some()
                    && flags & flag::NOADDR == 0
                    && !self.state.blacklisted(&g.name, now_ms)
                    && !g.ip.is_empty()
                {
                    // The sender's view of the node's role and health.
                    let mut n = ClusterNode::new(g.name, flag::from_peer(flags));
                    n.ip = g.ip.as_str().to_string();
                    n.port = g.port;
                    n.pport = g.pport;
                    n.cport = g.cport;
                    n.ctime_ms = now_ms;
                    self.state.add_node(n);
                    self.later(todo::SAVE_CONFIG);
                }
                continue;
            };
            // Nothing a node says about us, or about itself (Redis never sends either), counts.
            if idx == 0 || Some(g.name) == sender {
                continue;
            }
            if let (Some(s), true) = (sender, sender_is_master) {
                if down {
                    if self.state.add_failure_report(idx, s, now_ms) {
                        self.state.log(log::VERBOSE, &format!("Node {s} reported node {} as not reachable.", g.name));
                    }
                    self.mark_failing_if_needed(now_ms, idx);
                } else if self.state.remove_failure_report(idx, &s, now_ms) {
                    self.state.log(log::VERBOSE, &format!("Node {s} reported node {} is back online.", g.name));
                }
            }
            // While we see the node up and wait for nothing from it, a newer pong someone else
            // got counts as ours: no need to ping it just to learn it is alive.
            let reports = self.state.failure_report_count(idx, now_ms);
            let Some(n) = self.state.node_mut(idx) else {
                continue;
            };
            if !down && n.ping_sent_ms == 0 && reports == 0 {
                let pong_ms = u64::from(g.pong_received_s) * 1000;
                if pong_ms <= now_ms + PONG_FUTURE_TOLERANCE_MS && pong_ms > n.pong_received_ms {
                    n.pong_received_ms = pong_ms;
                }
            }
            // A node we cannot reach, seen up elsewhere at another address: it moved.
            let moved = !n.ip.eq_ignore_ascii_case(g.ip.as_str()) || n.port != g.port || n.cport != g.cport;
            if n.flags & (flag::FAIL | flag::PFAIL) != 0 && flags & flag::NOADDR == 0 && !down && moved {
                n.ip = g.ip.as_str().to_string();
                n.port = g.port;
                n.pport = g.pport;
                n.cport = g.cport;
                n.flags &= !flag::NOADDR;
                if let Some(l) = n.link {
                    self.close_link(l);
                }
            }
        }
    }

    /// Reads the ping extensions of a known sender (`clusterProcessPingExt`). A sender that
    /// sends no hostname has none.
    pub(super) fn process_exts(&mut self, now_ms: u64, sender: NodeId, exts: &[PingExt]) {
        let mut hostname: &[u8] = b"";
        for e in exts {
            match e {
                PingExt::Hostname(h) => hostname = h,
                PingExt::ForgottenNode { name, ttl_s } => {
                    let Some(idx) = self.state.node_index(name) else {
                        continue;
                    };
                    let me = self.state.myself();
                    if idx == 0 || *name == sender || (me.is_replica() && me.master == Some(*name)) {
                        continue;
                    }
                    self.state.blacklist_add(*name, now_ms.saturating_add(ttl_s.saturating_mul(1000)));
                    self.delete_node(idx);
                    self.later(todo::SAVE_CONFIG | todo::UPDATE_STATE);
                }
                PingExt::ShardId(id) => {
                    if let Some(n) = self.state.node_by_id_mut(&sender) {
                        n.shard_id = *id;
                    }
                }
                PingExt::Unknown { ext_type, .. } => {
                    self.state.log(log::VERBOSE, &format!("Received unknown extension type {ext_type}"));
                }
            }
        }
        let hostname = String::from_utf8_lossy(hostname);
        if let Some(n) = self.state.node_by_id_mut(&sender) {
            if n.hostname != hostname {
                n.hostname = hostname.into_owned();
                self.later(todo::SAVE_CONFIG);
            }
        }
    }
}

/// What we tell others about node `n` (`clusterSetGossipEntry`): times in seconds.
fn gossip_entry(n: &ClusterNode) -> Gossip {
    Gossip {
        name: n.id,
        ping_sent_s: (n.ping_sent_ms / 1000) as u32,
        pong_received_s: (n.pong_received_ms / 1000) as u32,
        ip: IpField::new(&n.ip),
        port: n.port,
        cport: n.cport,
        flags: n.flags,
        pport: n.pport,
        reserved: 0,
    }
}
