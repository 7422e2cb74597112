//! What a received message does to the cluster state (Redis's `clusterProcessPacket`):
//! epochs, handshakes completing or failing, addresses, master/replica roles, slot ownership
//! by the highest config epoch (`clusterUpdateSlotsConfigWith`), UPDATE messages for stale
//! senders, config epoch collisions, FAIL, UPDATE and PUBLISH.
//!
//! Messages come from outside: every name is checked before it is trusted, and a message that
//! claims to come from this node changes nothing about it.

use super::wire::{self, msg_type, Body, Header, Message};
use super::{todo, Action, Bus, LinkId};
use crate::cluster::state::{flag, ClusterNode, NodeId};
use crate::observe::log;

impl Bus {
    pub(super) fn process(&mut self, now_ms: u64, link: LinkId, msg: &Message) {
        let h = &msg.header;
        let t = h.msg_type;
        let Some(l) = self.state.links.get(link) else {
            return;
        };
        let (inbound, link_node, local_ip) = (l.inbound, l.node, l.local_ip.clone());
        if let Some(c) = self.state.messages_received.get_mut(t as usize) {
            *c += 1;
        }
        let known = if h.sender.is_valid() { self.state.node_index(&h.sender) } else { None };
        // A message naming us as its sender (a link to ourselves) teaches us nothing.
        let sender: Option<NodeId> = known.filter(|&i| i != 0).map(|_| h.sender);
        let mut sender_config_epoch = 0;
        if let Some(s) = sender {
            self.note_sender(now_ms, s, link, inbound, link_node);
            let n = self.state.node_by_id(&s);
            if n.is_some_and(|n| !n.in_handshake()) {
                sender_config_epoch = h.config_epoch;
                if h.current_epoch > self.state.current_epoch {
                    self.state.current_epoch = h.current_epoch;
                }
                if let Some(n) = self.state.node_by_id_mut(&s) {
                    if h.config_epoch > n.config_epoch {
                        n.config_epoch = h.config_epoch;
                        self.todo |= todo::SAVE_CONFIG;
                    }
                    n.repl_offset = h.offset;
                }
            }
        }
        let is_ping = matches!(t, msg_type::PING | msg_type::PONG | msg_type::MEET);
        if t == msg_type::PING || t == msg_type::MEET {
            self.answer_ping(now_ms, link, msg, known.is_some(), &local_ip);
        }
        if is_ping {
            if !inbound && !self.check_outbound_sender(link, link_node, h, known) {
                return;
            }
            self.process_ping(now_ms, link, inbound, h, &msg.body, sender, sender_config_epoch);
            return;
        }
        let Some(s) = sender else {
            if t == msg_type::FAIL {
                self.state.log(log::NOTICE, &format!("Ignoring FAIL message from unknown node {}", h.sender));
            }
            return;
        };
        match &msg.body {
            Body::Fail { node } => {
                let Some(idx) = self.state.node_index(node) else {
                    return;
                };
                let n = &mut self.state.nodes_mut()[idx];
                if n.flags & (flag::FAIL | flag::MYSELF) == 0 {
                    n.flags = (n.flags | flag::FAIL) & !flag::PFAIL;
                    n.fail_time_ms = now_ms;
                    self.state.log(log::NOTICE, &format!("FAIL message received from {s} about {node}"));
                    self.later(todo::SAVE_CONFIG | todo::UPDATE_STATE);
                }
            }
            Body::Publish { channel, message } => self.out.push(Action::Deliver {
                shard: t == msg_type::PUBLISHSHARD,
                channel: channel.clone(),
                message: message.clone(),
            }),
            Body::Update { config_epoch, node, slots } => {
                let Some(idx) = self.state.node_index(node).filter(|&i| i != 0) else {
                    return;
                };
                if self.state.nodes()[idx].config_epoch >= *config_epoch {
                    return;
                }
                self.state.set_node_as_master(idx);
                self.state.nodes_mut()[idx].config_epoch = *config_epoch;
                self.later(todo::SAVE_CONFIG | todo::UPDATE_STATE);
                self.update_slots_config_with(*node, *config_epoch, slots);
            }
            // Failover and module messages belong to later work; counting them is all for now.
            _ => {}
        }
    }

    /// Bookkeeping for any message from a known node: liveness, and which node an inbound
    /// link belongs to (for CLUSTER LINKS).
    fn note_sender(&mut self, now_ms: u64, s: NodeId, link: LinkId, inbound: bool, link_node: Option<NodeId>) {
        let Some(n) = self.state.node_by_id_mut(&s) else {
            return;
        };
        n.data_received_ms = now_ms;
        if !inbound || link_node.is_some() || n.in_handshake() {
            return;
        }
        let old = n.inbound_link.replace(link);
        if let Some(l) = self.state.links.get_mut(link) {
            l.node = Some(s);
        }
        // A node has one inbound link; an older one is a leftover of a reconnect.
        if let Some(old) = old.filter(|&o| o != link) {
            self.close_link(old);
        }
    }

    /// PING and MEET: learn our own address, meet an unknown node, and answer with a PONG.
    fn answer_ping(&mut self, now_ms: u64, link: LinkId, msg: &Message, sender_known: bool, local_ip: &str) {
        let h = &msg.header;
        let t = h.msg_type;
        // Only other nodes MEET us, at the address they were told is ours: that is the one to
        // advertise, unless it is configured. A PING sets it only while we have none.
        if (t == msg_type::MEET || self.state.myself().ip.is_empty())
            && self.state.settings.announce_ip.is_empty()
            && !local_ip.is_empty()
            && self.state.myself().ip != local_ip
        {
            self.state.myself_mut().ip = local_ip.to_string();
            self.state.log(log::WARNING, &format!("IP address for this node updated to {local_ip}"));
            self.later(todo::SAVE_CONFIG);
        }
        if !sender_known && t == msg_type::MEET {
            // Its real name comes with the PONG to the PING we will send it.
            let id = self.random_free_id();
            let mut n = ClusterNode::new(id, flag::HANDSHAKE);
            n.ip = self.peer_address(link, h);
            n.port = h.port;
            n.pport = h.pport;
            n.cport = h.cport;
            n.ctime_ms = now_ms;
            self.state.add_node(n);
            self.later(todo::SAVE_CONFIG);
            // A MEET is trusted: what it says about other nodes we know is taken.
            if let Body::Ping { gossip, .. } = &msg.body {
                self.process_gossip(now_ms, None, gossip);
            }
        }
        self.send_ping(now_ms, link, msg_type::PONG);
    }

    /// On a link we opened, the answer must come from the node we meant. A handshake node
    /// learns its real name here, or goes away if that name is one we already know. Returns
    /// false when the message must not be processed further.
    fn check_outbound_sender(
        &mut self,
        link: LinkId,
        link_node: Option<NodeId>,
        h: &Header,
        known: Option<usize>,
    ) -> bool {
        let Some(idx) = link_node.and_then(|id| self.state.node_index(&id)) else {
            return false;
        };
        if self.state.nodes()[idx].in_handshake() {
            if let Some(k) = known {
                self.state.log(
                    log::VERBOSE,
                    &format!("Handshake: we already know node {}, updating the address if needed.", h.sender),
                );
                if self.update_address_if_needed(k, link, h) {
                    self.later(todo::SAVE_CONFIG | todo::UPDATE_STATE);
                }
                self.delete_node(idx);
                return false;
            }
            if !h.sender.is_valid() {
                // Redis would take any 40 bytes; a name we could not print or parse is refused.
                self.delete_node(idx);
                return false;
            }
            self.state.rename_node(idx, h.sender);
            if let Some(l) = self.state.links.get_mut(link) {
                l.node = Some(h.sender);
            }
            let n = &mut self.state.nodes_mut()[idx];
            n.flags = (n.flags & !flag::HANDSHAKE) | (flag::from_peer(h.flags) & (flag::MASTER | flag::SLAVE));
            self.state.log(log::VERBOSE, &format!("Handshake with node {} completed.", h.sender));
            self.later(todo::SAVE_CONFIG);
            return true;
        }
        if self.state.nodes()[idx].id != h.sender {
            // Someone else answers at that address now: forget the address, keep the node.
            let n = &mut self.state.nodes_mut()[idx];
            n.flags |= flag::NOADDR;
            n.ip.clear();
            n.port = 0;
            n.pport = 0;
            n.cport = 0;
            self.close_link(link);
            self.later(todo::SAVE_CONFIG);
            return false;
        }
        true
    }

    /// The configuration part of PING, PONG and MEET.
    #[allow(clippy::too_many_arguments)]
    fn process_ping(
        &mut self,
        now_ms: u64,
        link: LinkId,
        inbound: bool,
        h: &Header,
        body: &Body,
        sender: Option<NodeId>,
        sender_config_epoch: u64,
    ) {
        let t = h.msg_type;
        if let Some(n) = sender.and_then(|s| self.state.node_by_id_mut(&s)) {
            // A dynamic flag: the sender's word is the latest.
            n.flags = (n.flags & !flag::NOFAILOVER) | (h.flags & flag::NOFAILOVER);
        }
        if t == msg_type::PING {
            if let Some(idx) = sender.and_then(|s| self.state.node_index(&s)) {
                if !self.state.nodes()[idx].in_handshake() && self.update_address_if_needed(idx, link, h) {
                    self.later(todo::SAVE_CONFIG | todo::UPDATE_STATE);
                }
            }
        }
        if !inbound && t == msg_type::PONG {
            self.pong_received(now_ms, link);
        }
        let Some(s) = sender else {
            return;
        };
        self.update_role(s, h);
        // Whether the sender (or its master) claims slots other than what we think it owns.
        let Some(idx) = self.state.node_index(&s) else {
            return;
        };
        let sender_is_master = self.state.nodes()[idx].is_master();
        let claimer = if sender_is_master {
            Some(idx)
        } else {
            self.state.nodes()[idx].master.and_then(|m| self.state.node_index(&m))
        };
        let dirty = match claimer {
            Some(c) => !self.owns_exactly(c, &h.myslots),
            None => false,
        };
        if sender_is_master && dirty {
            self.update_slots_config_with(s, sender_config_epoch, &h.myslots);
        }
        if dirty {
            // The sender claims slots we know a newer owner of: tell it (one UPDATE per
            // message, as Redis).
            let mut newer: Option<usize> = None;
            wire::for_each_bit(&h.myslots, |slot| {
                if newer.is_some() {
                    return;
                }
                if let Some(o) = self.state.slot_owner(slot as u16) {
                    if self.state.nodes()[o].id != s && self.state.nodes()[o].config_epoch > sender_config_epoch {
                        newer = Some(o);
                    }
                }
            });
            if let Some(o) = newer {
                self.state.log(
                    log::VERBOSE,
                    &format!(
                        "Node {s} has old slots configuration, sending an UPDATE message about {}",
                        self.state.nodes()[o].id
                    ),
                );
                let to = self.state.node_by_id(&s).and_then(|n| n.link);
                self.send_update(to, o);
            }
        }
        let me = self.state.myself();
        if me.is_master() && sender_is_master && sender_config_epoch == me.config_epoch {
            self.handle_config_epoch_collision(s);
        }
        if let Body::Ping { gossip, exts } = body {
            self.process_gossip(now_ms, Some(s), gossip);
            self.process_exts(now_ms, s, exts);
        }
    }

    /// A PONG on a link we opened: the node is alive (`pong_received`), and a PFAIL (or, when
    /// Redis would, a FAIL) goes away.
    fn pong_received(&mut self, now_ms: u64, link: LinkId) {
        let Some(idx) = self.state.links.get(link).and_then(|l| l.node).and_then(|id| self.state.node_index(&id))
        else {
            return;
        };
        let n = &mut self.state.nodes_mut()[idx];
        n.pong_received_ms = now_ms;
        n.ping_sent_ms = 0;
        if n.timed_out() {
            n.flags &= !flag::PFAIL;
            self.later(todo::SAVE_CONFIG | todo::UPDATE_STATE);
        } else if n.failed() {
            self.clear_failure_if_needed(now_ms, idx);
        }
    }

    /// Master or replica, as the header says (the role-switch part of `clusterProcessPacket`).
    fn update_role(&mut self, s: NodeId, h: &Header) {
        let Some(idx) = self.state.node_index(&s) else {
            return;
        };
        if h.slaveof == NodeId::NULL {
            if self.state.set_node_as_master(idx) {
                self.later(todo::SAVE_CONFIG | todo::UPDATE_STATE);
            }
            return;
        }
        let master = Some(h.slaveof).filter(|m| m.is_valid() && self.state.node_index(m).is_some());
        if self.state.nodes()[idx].is_master() {
            // A master turned replica: its slots are not its own any more.
            self.state.del_node_slots(idx);
            let n = &mut self.state.nodes_mut()[idx];
            n.flags = (n.flags & !(flag::MASTER | flag::MIGRATE_TO)) | flag::SLAVE;
            self.later(todo::SAVE_CONFIG | todo::UPDATE_STATE);
        }
        if let Some(m) = master {
            let n = &mut self.state.nodes_mut()[idx];
            if n.master != Some(m) {
                n.master = Some(m);
                self.later(todo::SAVE_CONFIG);
            }
        }
    }

    /// Whether node `idx` owns exactly the slots of `bits` in our table (Redis compares the
    /// node's own bitmap). Every PING asks this, and the answer rarely changes: a digest of
    /// the claim already found equal under the same slot table skips the slot by slot check.
    fn owns_exactly(&mut self, idx: usize, bits: &wire::SlotBits) -> bool {
        let Some(id) = self.state.node(idx).map(|n| n.id) else {
            return false;
        };
        if wire::count_bits(bits) != self.state.count_node_slots(idx) {
            return false;
        }
        let digest = wire::digest(bits);
        let version = self.state.slots_version();
        if self.same_claims.get(&id) == Some(&(version, digest)) {
            return true;
        }
        let mut same = true;
        wire::for_each_bit(bits, |slot| {
            if same && self.state.slot_owner(slot as u16) != Some(idx) {
                same = false;
            }
        });
        if same {
            if self.same_claims.len() >= self.state.nodes().len() * 2 {
                self.same_claims.clear();
            }
            self.same_claims.insert(id, (version, digest));
        }
        same
    }

    /// When the node's address on this message differs from the one we have, take the new
    /// one and drop our link so it reconnects there (`nodeUpdateAddressIfNeeded`). The link
    /// the message came on is never the one dropped.
    fn update_address_if_needed(&mut self, idx: usize, link: LinkId, h: &Header) -> bool {
        if idx == 0 {
            return false;
        }
        let ip = self.peer_address(link, h);
        let n = &mut self.state.nodes_mut()[idx];
        if n.link == Some(link) {
            return false;
        }
        if n.port == h.port && n.cport == h.cport && n.pport == h.pport && n.ip == ip {
            return false;
        }
        n.ip = ip;
        n.port = h.port;
        n.pport = h.pport;
        n.cport = h.cport;
        n.flags &= !flag::NOADDR;
        let (id, old_link) = (n.id, n.link);
        let line = format!("Address updated for node {id}, now {}:{}", n.ip, n.port);
        if let Some(l) = old_link {
            self.close_link(l);
        }
        self.state.log(log::WARNING, &line);
        let me = self.state.myself();
        if me.is_replica() && me.master == Some(id) {
            self.out.push(Action::ReplicateFrom { master: id });
        }
        true
    }

    /// The sender's address: what it announces, else the address its link comes from
    /// (`nodeIp2String`).
    fn peer_address(&self, link: LinkId, h: &Header) -> String {
        if !h.myip.is_empty() {
            return h.myip.as_str().to_string();
        }
        self.state.links.get(link).map(|l| l.peer_ip.clone()).unwrap_or_default()
    }

    /// A random name no node has (for a node met by MEET).
    fn random_free_id(&mut self) -> NodeId {
        loop {
            let id = NodeId::random_with(&mut self.rng);
            if self.state.node_index(&id).is_none() {
                return id;
            }
        }
    }

    /// Takes the slots a master claims with `epoch` wherever that epoch beats the owner we know
    /// (or there is none), except slots we are importing (`clusterUpdateSlotsConfigWith`).
    /// Losing slots with keys asks for their keys to be deleted; losing our last slot to the
    /// sender makes us its replica.
    pub(super) fn update_slots_config_with(&mut self, sender: NodeId, epoch: u64, bits: &wire::SlotBits) {
        let Some(s) = self.state.node_index(&sender) else {
            return;
        };
        if s == 0 {
            self.state.log(log::WARNING, "Discarding UPDATE message about myself.");
            return;
        }
        let me = self.state.myself();
        let cur_master = if me.is_master() { Some(0) } else { me.master.and_then(|m| self.state.node_index(&m)) };
        let (mut sender_slots, mut migrated_ours, mut new_master) = (0usize, 0usize, false);
        let mut lost: Vec<u16> = Vec::new();
        let mut taken: Vec<u16> = Vec::new();
        wire::for_each_bit(bits, |slot| {
            let slot = slot as u16;
            sender_slots += 1;
            let owner = self.state.slot_owner(slot);
            if owner == Some(s) || self.state.importing_from.contains_key(&slot) {
                return;
            }
            if owner.is_none_or(|o| self.state.nodes()[o].config_epoch < epoch) {
                if owner == Some(0) {
                    lost.push(slot);
                }
                if owner.is_some() && owner == cur_master {
                    new_master = true;
                    migrated_ours += 1;
                }
                taken.push(slot);
            }
        });
        if !taken.is_empty() {
            for &slot in &taken {
                self.state.del_slot(slot);
                self.state.add_slot(slot, s);
            }
            self.later(todo::SAVE_CONFIG | todo::UPDATE_STATE);
        }
        let cur_master_empty = cur_master.is_some_and(|m| self.state.count_node_slots(m) == 0);
        if new_master
            && cur_master_empty
            && (self.state.settings.allow_replica_migration || sender_slots == migrated_ours)
        {
            self.state.log(
                log::WARNING,
                &format!("Configuration change detected. Reconfiguring myself as a replica of {sender}"),
            );
            self.set_my_master(sender);
            self.later(todo::SAVE_CONFIG | todo::UPDATE_STATE);
        } else if !lost.is_empty() {
            self.out.push(Action::DeleteKeysInSlots { slots: lost });
        }
    }

    /// Makes this node a replica of `master` (`clusterSetMaster`, minus the replication
    /// itself, which `Action::ReplicateFrom` asks for).
    fn set_my_master(&mut self, master: NodeId) {
        let me = self.state.myself_mut();
        if me.is_master() {
            me.flags = (me.flags & !(flag::MASTER | flag::MIGRATE_TO)) | flag::SLAVE;
            self.state.migrating_to.clear();
            self.state.importing_from.clear();
        }
        self.state.myself_mut().master = Some(master);
        self.out.push(Action::ReplicateFrom { master });
    }

    /// Two masters with the same config epoch: the one with the smaller name takes a new
    /// epoch, so every master ends up with its own (`clusterHandleConfigEpochCollision`).
    fn handle_config_epoch_collision(&mut self, sender: NodeId) {
        let Some(n) = self.state.node_by_id(&sender) else {
            return;
        };
        let me = self.state.myself();
        if n.config_epoch != me.config_epoch || !n.is_master() || !me.is_master() {
            return;
        }
        if sender.0 <= me.id.0 {
            return;
        }
        self.state.current_epoch += 1;
        let e = self.state.current_epoch;
        self.state.myself_mut().config_epoch = e;
        self.state
            .log(log::VERBOSE, &format!("WARNING: configEpoch collision with node {sender}. configEpoch set to {e}"));
        self.later(todo::SAVE_CONFIG);
    }
}
