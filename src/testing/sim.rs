//! Deterministic simulator of a cluster bus: many `Bus` state machines in one process, a fake
//! clock, and a seeded network that delays, drops, duplicates and partitions messages, and
//! crashes and restarts nodes (from the nodes.conf they last saved). One seed gives one run;
//! `TESSERA_SEED=N` replays it.
//!
//! The network is TCP-like: a connection is opened by the `Connect` action, accepted by the
//! target if it is up and reachable (refused when it is down, left hanging across a
//! partition), and carries each `Send` in order, cut into random chunks so the frame reader
//! is exercised. Faults apply to whole messages (a lost or doubled frame), never to parts of
//! one, as a real link would rather break than corrupt a frame. Properties are checked after
//! every event (`props`).
//!
//! Test-only; never used by the server.

use std::collections::BinaryHeap;

use hashbrown::HashMap;
use std::sync::Arc;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::cluster::bus::{Action, Bus, LinkId};
use crate::cluster::state::{nodes_conf, ClusterSettings, ClusterState, NodeId};
use crate::config::PreferredEndpointType;

mod props;
#[cfg(test)]
mod tests;

pub use props::Claims;

/// The bus cron period.
pub const TICK_MS: u64 = 100;
/// Every node listens on this client port and bus port, each on its own IP.
pub const PORT: u16 = 7000;
pub const BUS_PORT: u16 = 17000;

/// How the network misbehaves.
#[derive(Clone, Debug)]
pub struct NetConfig {
    pub min_delay_ms: u64,
    pub max_delay_ms: u64,
    /// Chance, per thousand messages, that one is lost or delivered twice.
    pub drop_per_mille: u32,
    pub dup_per_mille: u32,
}

impl NetConfig {
    pub fn reliable() -> NetConfig {
        NetConfig { min_delay_ms: 1, max_delay_ms: 5, drop_per_mille: 0, dup_per_mille: 0 }
    }
    pub fn lossy() -> NetConfig {
        NetConfig { min_delay_ms: 1, max_delay_ms: 40, drop_per_mille: 20, dup_per_mille: 20 }
    }
}

pub struct SimNode {
    /// None while the node is down.
    pub bus: Option<Bus>,
    pub ip: String,
    /// Bumped at every restart: events for an earlier life are dropped.
    pub incarnation: u32,
    /// The nodes.conf text the node last saved. Rendering the file at every `SaveConfig`
    /// would dominate a run, so it is rendered when needed (`conf_dirty`) from the state,
    /// which a save always reflects.
    pub saved_conf: Option<Vec<u8>>,
    pub conf_dirty: bool,
    pub saves: u64,
    pub views_published: u64,
    /// PUBLISH messages delivered to this node: (shard, channel, message).
    pub delivered: Vec<(bool, Vec<u8>, Vec<u8>)>,
    pub replicate_from: Option<NodeId>,
    pub lost_slots: Vec<u16>,
    /// The node's name, kept while it is down.
    pub id: NodeId,
}

impl SimNode {
    pub fn state(&self) -> Option<&ClusterState> {
        self.bus.as_ref().map(|b| b.state())
    }
}

/// One simulated TCP connection between an initiator `a` and an acceptor `b`.
struct Conn {
    a: Endpoint,
    /// Set once the SYN reached the target and it accepted.
    b: Option<Endpoint>,
    open: bool,
    /// Per direction (a->b, b->a): when the last bytes arrive, so a stream stays in order.
    last_arrival_ms: [u64; 2],
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
struct Endpoint {
    node: usize,
    incarnation: u32,
    link: LinkId,
}

#[derive(Debug)]
enum Event {
    Tick {
        node: usize,
        incarnation: u32,
    },
    /// The SYN of connection `conn` reaches its target.
    Syn {
        conn: usize,
        target: usize,
    },
    /// The initiator learns its connection is up.
    Established {
        conn: usize,
    },
    /// The initiator learns its connection was refused.
    Refused {
        conn: usize,
    },
    /// Bytes arrive at one end.
    Bytes {
        conn: usize,
        to_b: bool,
        bytes: Vec<u8>,
    },
    /// The peer closed (or crashed): the end learns it.
    Fin {
        conn: usize,
        to_b: bool,
    },
}

/// An event due at `at_ms`; `seq` keeps events due at the same time in scheduling order.
struct Scheduled {
    at_ms: u64,
    seq: u64,
    event: Event,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at_ms, self.seq) == (other.at_ms, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    /// Reversed, so the max-heap pops the earliest event first.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (other.at_ms, other.seq).cmp(&(self.at_ms, self.seq))
    }
}

pub struct Sim {
    pub seed: u64,
    pub now_ms: u64,
    pub nodes: Vec<SimNode>,
    pub net: NetConfig,
    pub settings: ClusterSettings,
    rng: SmallRng,
    queue: BinaryHeap<Scheduled>,
    next_seq: u64,
    conns: Vec<Conn>,
    by_endpoint: HashMap<Endpoint, usize>,
    /// Partition group of each node; nodes in different groups cannot talk.
    groups: Option<Vec<u8>>,
    /// Bytes each node sent (all incarnations), for bandwidth figures.
    pub bytes_sent: Vec<u64>,
    /// Checked after every event unless turned off (bandwidth runs at hundreds of nodes).
    pub check_props: bool,
    claims: Claims,
    pub events_run: u64,
}

/// Cluster settings for simulated nodes: `node_timeout_ms` as given, the rest Redis's
/// defaults. No file is ever written (`SaveConfig` keeps the text in memory).
pub fn sim_settings(node_timeout_ms: u64) -> ClusterSettings {
    ClusterSettings {
        config_path: std::path::PathBuf::from("/nonexistent/tessera-sim/nodes.conf"),
        port: PORT,
        cluster_port: BUS_PORT,
        announce_ip: String::new(),
        announce_port: 0,
        announce_bus_port: 0,
        announce_hostname: String::new(),
        require_full_coverage: true,
        preferred_endpoint: PreferredEndpointType::Ip,
        node_timeout_ms,
        allow_replica_migration: true,
        replica_no_failover: false,
    }
}

/// The seeds a simulation test runs: `TESSERA_SEED` alone when set, else `0..default_count`.
pub fn seeds(default_count: u64) -> Vec<u64> {
    match std::env::var("TESSERA_SEED").ok().and_then(|s| s.parse().ok()) {
        Some(s) => vec![s],
        None => (0..default_count).collect(),
    }
}

/// A start time far from zero, as a unix ms clock would be (gossip carries seconds).
const EPOCH_MS: u64 = 1_700_000_000_000;

impl Sim {
    /// `n` fresh nodes that know nobody, with ids and randomness from `seed`.
    pub fn new(seed: u64, n: usize, node_timeout_ms: u64, net: NetConfig) -> Sim {
        let mut rng = SmallRng::seed_from_u64(seed);
        let settings = sim_settings(node_timeout_ms);
        let mut sim = Sim {
            seed,
            now_ms: EPOCH_MS,
            nodes: Vec::with_capacity(n),
            net,
            settings: settings.clone(),
            rng: SmallRng::seed_from_u64(rng.gen()),
            queue: BinaryHeap::new(),
            next_seq: 0,
            conns: Vec::new(),
            by_endpoint: HashMap::new(),
            groups: None,
            bytes_sent: vec![0; n],
            check_props: true,
            claims: Claims::default(),
            events_run: 0,
        };
        for i in 0..n {
            let id = NodeId::random_with(&mut rng);
            let shard = NodeId::random_with(&mut rng);
            let mut st = ClusterState::with_ids(settings.clone(), id, shard);
            st.quiet_log = true;
            st.update_state(sim.now_ms);
            let bus = Bus::new(st, rng.gen());
            sim.nodes.push(SimNode {
                bus: Some(bus),
                ip: node_ip(i),
                incarnation: 0,
                saved_conf: None,
                conf_dirty: false,
                saves: 0,
                views_published: 0,
                delivered: Vec::new(),
                replicate_from: None,
                lost_slots: Vec::new(),
                id,
            });
            sim.schedule_first_tick(i);
        }
        sim
    }

    /// `n` nodes that already know each other (as if loaded from their nodes.conf), the
    /// first `masters` of them each owning an equal share of the slots with distinct config
    /// epochs, and every pong time spread over the last half timeout so pings are staggered
    /// as in a cluster that has been running for a while.
    pub fn formed(seed: u64, n: usize, masters: usize, node_timeout_ms: u64, net: NetConfig) -> Sim {
        let mut sim = Sim::new(seed, n, node_timeout_ms, net);
        let ids: Vec<NodeId> = sim.nodes.iter().map(|s| s.id).collect();
        let per = crate::limits::SLOT_COUNT.div_ceil(masters.max(1));
        let now = sim.now_ms;
        for i in 0..n {
            let mut pongs = Vec::with_capacity(n);
            for _ in 0..n {
                pongs.push(now - sim.rng.gen_range(0..node_timeout_ms / 2));
            }
            let Some(bus) = sim.nodes[i].bus.as_mut() else { continue };
            let st = bus.state_mut();
            for (j, id) in ids.iter().enumerate() {
                let idx = if j == i {
                    0
                } else {
                    let mut node = crate::cluster::state::ClusterNode::new(*id, crate::cluster::state::flag::MASTER);
                    node.ip = node_ip(j);
                    node.port = PORT;
                    node.cport = BUS_PORT;
                    node.ctime_ms = now;
                    node.pong_received_ms = pongs[j];
                    st.add_node(node)
                };
                if j < masters {
                    if let Some(nd) = st.node_mut(idx) {
                        nd.config_epoch = j as u64 + 1;
                    }
                    let first = j * per;
                    for slot in first..(first + per).min(crate::limits::SLOT_COUNT) {
                        st.add_slot(slot as u16, idx);
                    }
                }
            }
            st.myself_mut().ip = node_ip(i);
            st.current_epoch = masters as u64;
            st.update_state(now);
        }
        sim
    }

    fn schedule_first_tick(&mut self, node: usize) {
        let phase = self.rng.gen_range(0..TICK_MS);
        let inc = self.nodes[node].incarnation;
        self.schedule(phase, Event::Tick { node, incarnation: inc });
    }

    fn schedule(&mut self, delay_ms: u64, e: Event) {
        self.schedule_at(self.now_ms + delay_ms, e);
    }

    fn schedule_at(&mut self, at_ms: u64, e: Event) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.queue.push(Scheduled { at_ms, seq, event: e });
    }

    fn delay(&mut self) -> u64 {
        self.rng.gen_range(self.net.min_delay_ms..=self.net.max_delay_ms.max(self.net.min_delay_ms))
    }

    fn reachable(&self, a: usize, b: usize) -> bool {
        match &self.groups {
            Some(g) => g.get(a) == g.get(b),
            None => true,
        }
    }

    fn alive(&self, node: usize, incarnation: u32) -> bool {
        let n = &self.nodes[node];
        n.bus.is_some() && n.incarnation == incarnation
    }

    /// Node `a` runs CLUSTER MEET with node `b`'s address.
    pub fn meet(&mut self, a: usize, b: usize) {
        let ip = self.nodes[b].ip.clone();
        let now = self.now_ms;
        if let Some(bus) = self.nodes[a].bus.as_mut() {
            bus.meet(now, &ip, PORT, BUS_PORT);
        }
    }

    /// CLUSTER ADDSLOTS on node `node`.
    pub fn add_slots(&mut self, node: usize, slots: std::ops::Range<usize>) {
        let now = self.now_ms;
        if let Some(bus) = self.nodes[node].bus.as_mut() {
            for s in slots {
                bus.state_mut().add_slot(s as u16, 0);
            }
            bus.state_mut().update_state(now);
        }
    }

    /// Splits the nodes into groups that cannot reach each other.
    pub fn partition(&mut self, groups: &[&[usize]]) {
        let mut g = vec![u8::MAX; self.nodes.len()];
        for (k, members) in groups.iter().enumerate() {
            for &m in members.iter() {
                g[m] = k as u8;
            }
        }
        self.groups = Some(g);
    }

    pub fn heal(&mut self) {
        self.groups = None;
    }

    /// Kills a node (kill -9): its peers see its connections reset.
    pub fn crash(&mut self, node: usize) {
        self.render_conf(node);
        if self.nodes[node].bus.take().is_none() {
            return;
        }
        for c in 0..self.conns.len() {
            let conn = &self.conns[c];
            if !conn.open {
                continue;
            }
            let a_here = conn.a.node == node;
            let b_here = conn.b.is_some_and(|b| b.node == node);
            if a_here || b_here {
                self.conns[c].open = false;
                let d = self.delay();
                // The end that survives learns of it.
                if a_here && self.conns[c].b.is_some() {
                    self.schedule(d, Event::Fin { conn: c, to_b: true });
                } else if b_here {
                    self.schedule(d, Event::Fin { conn: c, to_b: false });
                }
            }
        }
    }

    /// Restarts a crashed node from its last saved nodes.conf (or as a new node without one).
    pub fn restart(&mut self, node: usize) {
        if self.nodes[node].bus.is_some() {
            return;
        }
        let now = self.now_ms;
        let mut st = match &self.nodes[node].saved_conf {
            Some(text) => ClusterState::from_conf_text(self.settings.clone(), text, now)
                .unwrap_or_else(|e| panic!("seed {}: node {node} saved an unreadable nodes.conf: {e:?}", self.seed)),
            None => {
                let id = NodeId::random_with(&mut self.rng);
                ClusterState::with_ids(self.settings.clone(), id, id)
            }
        };
        st.quiet_log = true;
        self.nodes[node].id = st.myself().id;
        self.nodes[node].incarnation += 1;
        self.nodes[node].bus = Some(Bus::new(st, self.rng.gen()));
        self.claims.forget(node);
        self.schedule_first_tick(node);
    }

    /// Runs events until the clock passes `until_ms`.
    pub fn run_until(&mut self, until_ms: u64) {
        while self.queue.peek().is_some_and(|s| s.at_ms <= until_ms) {
            let Some(s) = self.queue.pop() else { break };
            self.now_ms = self.now_ms.max(s.at_ms);
            self.run_event(s.event);
        }
        self.now_ms = self.now_ms.max(until_ms);
    }

    pub fn run_for(&mut self, ms: u64) {
        self.run_until(self.now_ms + ms);
    }

    /// Runs until `done` holds (checked every tick period) or `limit_ms` passes; returns the
    /// time it took, or None.
    pub fn run_until_true(&mut self, limit_ms: u64, mut done: impl FnMut(&Sim) -> bool) -> Option<u64> {
        let start = self.now_ms;
        while self.now_ms - start <= limit_ms {
            if done(self) {
                return Some(self.now_ms - start);
            }
            self.run_for(TICK_MS);
        }
        None
    }

    fn run_event(&mut self, e: Event) {
        self.events_run += 1;
        match e {
            Event::Tick { node, incarnation } => {
                if !self.alive(node, incarnation) {
                    return;
                }
                self.schedule(TICK_MS, Event::Tick { node, incarnation });
                let now = self.now_ms;
                let actions = self.nodes[node].bus.as_mut().map(|b| b.tick(now)).unwrap_or_default();
                self.apply(node, actions);
            }
            Event::Syn { conn, target } => {
                let a = self.conns[conn].a;
                if !self.conns[conn].open || !self.alive(a.node, a.incarnation) {
                    return;
                }
                if !self.reachable(a.node, target) {
                    // Lost across the partition: the connect hangs until the bus gives up.
                    return;
                }
                if self.nodes[target].bus.is_none() {
                    let d = self.delay();
                    self.schedule(d, Event::Refused { conn });
                    return;
                }
                let (peer_ip, local_ip) = (self.nodes[a.node].ip.clone(), self.nodes[target].ip.clone());
                let now = self.now_ms;
                let Some(bus) = self.nodes[target].bus.as_mut() else { return };
                let link = bus.accept(now, &peer_ip, &local_ip);
                let b = Endpoint { node: target, incarnation: self.nodes[target].incarnation, link };
                self.conns[conn].b = Some(b);
                self.by_endpoint.insert(b, conn);
                let d = self.delay();
                self.schedule(d, Event::Established { conn });
            }
            Event::Established { conn } => {
                let a = self.conns[conn].a;
                if !self.conns[conn].open || !self.alive(a.node, a.incarnation) {
                    return;
                }
                let (now, ip) = (self.now_ms, self.nodes[a.node].ip.clone());
                let actions =
                    self.nodes[a.node].bus.as_mut().map(|b| b.connected(now, a.link, &ip)).unwrap_or_default();
                self.apply(a.node, actions);
            }
            Event::Refused { conn } => {
                self.conns[conn].open = false;
                let a = self.conns[conn].a;
                self.end_closed(a);
            }
            Event::Bytes { conn, to_b, bytes } => {
                let c = &self.conns[conn];
                let Some(dest) = (if to_b { c.b } else { Some(c.a) }) else { return };
                if !c.open || !self.alive(dest.node, dest.incarnation) {
                    return;
                }
                let now = self.now_ms;
                let actions =
                    self.nodes[dest.node].bus.as_mut().map(|b| b.bytes_in(now, dest.link, &bytes)).unwrap_or_default();
                self.apply(dest.node, actions);
            }
            Event::Fin { conn, to_b } => {
                let c = &self.conns[conn];
                if let Some(dest) = if to_b { c.b } else { Some(c.a) } {
                    self.end_closed(dest);
                }
            }
        }
    }

    fn end_closed(&mut self, e: Endpoint) {
        if !self.alive(e.node, e.incarnation) {
            return;
        }
        let now = self.now_ms;
        let actions = self.nodes[e.node].bus.as_mut().map(|b| b.closed(now, e.link)).unwrap_or_default();
        self.apply(e.node, actions);
    }

    /// Carries out a node's actions, then checks the properties.
    fn apply(&mut self, node: usize, actions: Vec<Action>) {
        let inc = self.nodes[node].incarnation;
        for a in actions {
            match a {
                Action::Connect { link, ip, port, .. } => {
                    let me = Endpoint { node, incarnation: inc, link };
                    let c = self.conns.len();
                    self.conns.push(Conn { a: me, b: None, open: true, last_arrival_ms: [0; 2] });
                    self.by_endpoint.insert(me, c);
                    match (port == BUS_PORT).then(|| self.node_at(&ip)).flatten() {
                        Some(target) => {
                            let d = self.delay();
                            self.schedule(d, Event::Syn { conn: c, target });
                        }
                        None => {
                            let d = self.delay();
                            self.schedule(d, Event::Refused { conn: c });
                        }
                    }
                }
                Action::Send { link, bytes } => self.send(Endpoint { node, incarnation: inc, link }, bytes),
                Action::Close { link } => {
                    let me = Endpoint { node, incarnation: inc, link };
                    if let Some(&c) = self.by_endpoint.get(&me) {
                        if self.conns[c].open {
                            self.conns[c].open = false;
                            let to_b = self.conns[c].a == me;
                            if !to_b || self.conns[c].b.is_some() {
                                let d = self.delay();
                                self.schedule(d, Event::Fin { conn: c, to_b });
                            }
                        }
                    }
                }
                Action::SaveConfig => {
                    self.nodes[node].conf_dirty = true;
                    self.nodes[node].saves += 1;
                }
                Action::PublishView => self.nodes[node].views_published += 1,
                Action::Deliver { shard, channel, message } => {
                    self.nodes[node].delivered.push((shard, channel, message))
                }
                Action::DeleteKeysInSlots { slots } => self.nodes[node].lost_slots.extend(slots),
                Action::ReplicateFrom { master } => self.nodes[node].replicate_from = Some(master),
            }
        }
        if self.check_props {
            self.check_node(node);
        }
    }

    /// Brings `saved_conf` up to date with the last save.
    pub fn render_conf(&mut self, node: usize) {
        let n = &mut self.nodes[node];
        if !n.conf_dirty {
            return;
        }
        if let Some(st) = n.bus.as_ref().map(|b| b.state()) {
            n.saved_conf = Some(nodes_conf::render(st).into_bytes());
        }
        n.conf_dirty = false;
    }

    fn node_at(&self, ip: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.ip == ip)
    }

    fn send(&mut self, from: Endpoint, bytes: Arc<[u8]>) {
        self.bytes_sent[from.node] += bytes.len() as u64;
        let Some(&c) = self.by_endpoint.get(&from) else { return };
        let conn = &self.conns[c];
        let Some(b) = conn.b else { return };
        if !conn.open {
            return;
        }
        let to_b = conn.a == from;
        let dest = if to_b { b.node } else { conn.a.node };
        if !self.reachable(from.node, dest) {
            return;
        }
        let roll = self.rng.gen_range(0..1000);
        if roll < self.net.drop_per_mille {
            return;
        }
        let copies = if roll < self.net.drop_per_mille + self.net.dup_per_mille { 2 } else { 1 };
        for _ in 0..copies {
            let d = self.delay();
            let dir = usize::from(!to_b);
            let at = (self.now_ms + d).max(self.conns[c].last_arrival_ms[dir]);
            self.conns[c].last_arrival_ms[dir] = at;
            // Cut into up to three chunks, as reads from a socket would.
            let mut cuts = vec![0, bytes.len()];
            for _ in 0..self.rng.gen_range(0..3) {
                cuts.push(self.rng.gen_range(0..=bytes.len()));
            }
            cuts.sort_unstable();
            for w in cuts.windows(2) {
                if w[0] < w[1] {
                    self.schedule_at(at, Event::Bytes { conn: c, to_b, bytes: bytes[w[0]..w[1]].to_vec() });
                }
            }
        }
    }

    /// Ids of the nodes that are up.
    pub fn up(&self) -> Vec<usize> {
        (0..self.nodes.len()).filter(|&i| self.nodes[i].bus.is_some()).collect()
    }

    /// The name of node `node` (its last one while it is down).
    pub fn id(&self, node: usize) -> NodeId {
        self.nodes[node].id
    }

    /// Every node's table as CLUSTER NODES prints it, for failure messages.
    pub fn dump(&self) -> String {
        let mut s = String::new();
        for (i, n) in self.nodes.iter().enumerate() {
            match n.state() {
                Some(st) => s.push_str(&format!("node {i}:\n{}", nodes_conf::nodes_text(st, 0))),
                None => s.push_str(&format!("node {i}: down\n")),
            }
        }
        s
    }

    pub fn state(&self, node: usize) -> &ClusterState {
        self.nodes[node].state().unwrap_or_else(|| panic!("seed {}: node {node} is down", self.seed))
    }

    /// Total bytes sent so far by all nodes.
    pub fn total_bytes_sent(&self) -> u64 {
        self.bytes_sent.iter().sum()
    }
}

/// The IP of node `i`: 10.x.y.z.
pub fn node_ip(i: usize) -> String {
    format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255)
}
