//! The node's authoritative cluster state: myself and the nodes it knows, epochs, slot owners,
//! migrating/importing marks and bus counters, with the settings that say what this node
//! advertises.
//!
//! Owned by shard 0 only (`ShardState::cluster_state`). Every change is saved to
//! `cluster-config-file` (`nodes_conf`) and published to all shards as a new immutable
//! `ClusterView` (`view()`); shards never read this struct. It is sans-IO except for loading
//! and saving its own file (`load_or_create` also reads the clock once): it must never touch
//! sockets or other shards, and times come in as arguments, so the gossip of issue 7 can drive
//! it from a simulator with a fake clock.

use std::collections::BTreeMap;

use hashbrown::HashMap;
use std::path::PathBuf;

use crate::cluster::view::{ClusterView, NodeAddr, UNASSIGNED};
use crate::config::PreferredEndpointType;
use crate::limits::SLOT_COUNT;

mod check;
pub mod describe;
pub mod membership;
pub mod node;
pub mod nodes_conf;

pub use node::{flag, ClusterNode, NodeId};

/// A master that starts (or restarts) stays `fail` this long after the first state update, so
/// peers can tell it about a newer configuration first (`CLUSTER_WRITABLE_DELAY`).
pub const WRITABLE_DELAY_MS: u64 = 2000;
/// Bounds of the delay before a master that was in a minority turns `ok` again
/// (`CLUSTER_MIN_REJOIN_DELAY`, `CLUSTER_MAX_REJOIN_DELAY`); in between it is the node timeout.
pub const MIN_REJOIN_DELAY_MS: u64 = 500;
pub const MAX_REJOIN_DELAY_MS: u64 = 5000;

/// Bus message types, indexed as Redis's `CLUSTERMSG_TYPE_*` (the wire values); the names are
/// those CLUSTER INFO prints in `cluster_stats_messages_<name>_sent`.
pub const MESSAGE_TYPE_NAMES: [&str; 11] =
    ["ping", "pong", "meet", "fail", "publish", "auth-req", "auth-ack", "update", "mfstart", "module", "publishshard"];

/// The settings the cluster state depends on, taken from `Config` (so tests can build one
/// without a whole config). `refresh` re-reads them after CONFIG SET.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterSettings {
    /// `cluster-config-file`, resolved against `dir`.
    pub config_path: PathBuf,
    pub port: u16,
    /// `cluster-port`; 0 means `port + 10000`.
    pub cluster_port: u16,
    pub announce_ip: String,
    pub announce_port: u16,
    pub announce_bus_port: u16,
    pub announce_hostname: String,
    pub require_full_coverage: bool,
    pub preferred_endpoint: PreferredEndpointType,
    /// `cluster-node-timeout`; also bounds the rejoin delay after a minority partition.
    pub node_timeout_ms: u64,
    /// `cluster-allow-replica-migration`: a master whose last slot went to another master
    /// becomes its replica.
    pub allow_replica_migration: bool,
    /// `cluster-replica-no-failover`: advertised as the NOFAILOVER flag.
    pub replica_no_failover: bool,
}

impl ClusterSettings {
    pub fn from_config(cfg: &crate::config::Config) -> ClusterSettings {
        let file = PathBuf::from(&cfg.cluster_config_file);
        let config_path = if file.is_absolute() { file } else { cfg.dir.join(file) };
        ClusterSettings {
            config_path,
            port: cfg.port,
            cluster_port: cfg.cluster_port,
            announce_ip: cfg.cluster_announce_ip.clone(),
            announce_port: cfg.cluster_announce_port,
            announce_bus_port: cfg.cluster_announce_bus_port,
            announce_hostname: cfg.cluster_announce_hostname.clone(),
            require_full_coverage: cfg.cluster_require_full_coverage,
            preferred_endpoint: cfg.cluster_preferred_endpoint_type,
            node_timeout_ms: cfg.cluster_node_timeout_ms,
            allow_replica_migration: cfg.cluster_allow_replica_migration,
            replica_no_failover: cfg.cluster_replica_no_failover,
        }
    }

    /// The client port and bus port this node advertises (Redis's `deriveAnnouncedPorts`).
    pub fn announced_ports(&self) -> (u16, u16) {
        let port = if self.announce_port != 0 { self.announce_port } else { self.port };
        let cport = if self.announce_bus_port != 0 {
            self.announce_bus_port
        } else if self.cluster_port != 0 {
            self.cluster_port
        } else {
            // Redis adds 10000 in an int and would announce an out-of-range port; the config
            // layer rejects ports above 55535 in cluster mode, this only keeps us from panicking.
            self.port.saturating_add(10_000)
        };
        (port, cport)
    }
}

pub struct ClusterState {
    pub settings: ClusterSettings,
    /// Every known node; `nodes[0]` is always myself (the same order the view publishes).
    nodes: Vec<ClusterNode>,
    /// Where each node id is in `nodes`. A cache checked on every use: an entry that went
    /// stale (an id changed through `myself_mut`) falls back to a scan.
    index: HashMap<NodeId, usize>,
    /// Owner of each slot: an index into `nodes`, or `UNASSIGNED`.
    slot_owner: Vec<u16>,
    /// Slots each node owns, by node index (`numslots`), kept with `slot_owner`.
    slot_counts: Vec<u32>,
    /// Bumped on every change of `slot_owner`, so callers can cache what they derive from it.
    slots_version: u64,
    /// Bumped whenever a node is added, removed or renamed.
    membership_version: u64,
    /// Nodes removed by CLUSTER FORGET (or a peer's forgotten-node extension) that gossip must
    /// not add back, until the unix ms stored here (`nodes_black_list`).
    pub blacklist: BTreeMap<NodeId, u64>,
    /// The bus links, to and from peers (`bus::link`).
    pub links: crate::cluster::bus::link::Links,
    /// Slots this node is migrating to / importing from another node (CLUSTER SETSLOT).
    pub migrating_to: BTreeMap<u16, NodeId>,
    pub importing_from: BTreeMap<u16, NodeId>,
    pub current_epoch: u64,
    pub last_vote_epoch: u64,
    /// `cluster_state:ok`; recomputed by `update_state` after every change and by `cron`.
    state_ok: bool,
    /// First `update_state` call, and the last time we found ourselves in a minority
    /// (no reachable majority of the masters serving slots), unix ms.
    first_update_ms: Option<u64>,
    among_minority_ms: Option<u64>,
    /// Masters serving at least one slot (`cluster_size`).
    size: usize,
    pub messages_sent: [u64; MESSAGE_TYPE_NAMES.len()],
    pub messages_received: [u64; MESSAGE_TYPE_NAMES.len()],
    pub links_buffer_limit_exceeded: u64,
    /// Keeps this state (and its bus) out of the server log: the simulator runs hundreds of
    /// nodes in one process.
    pub quiet_log: bool,
}

impl ClusterState {
    /// A fresh node: new random id and shard id, master, no slots, epochs 0.
    pub fn new(settings: ClusterSettings) -> ClusterState {
        let mut me = ClusterNode::new(NodeId::random(), flag::MYSELF | flag::MASTER);
        me.shard_id = NodeId::random();
        me.link_connected = true;
        let mut cs = ClusterState {
            settings,
            nodes: vec![me],
            index: HashMap::new(),
            slot_owner: vec![UNASSIGNED; SLOT_COUNT],
            slot_counts: vec![0],
            slots_version: 0,
            membership_version: 0,
            blacklist: BTreeMap::new(),
            links: Default::default(),
            migrating_to: BTreeMap::new(),
            importing_from: BTreeMap::new(),
            current_epoch: 0,
            last_vote_epoch: 0,
            state_ok: false,
            first_update_ms: None,
            among_minority_ms: None,
            size: 0,
            messages_sent: [0; MESSAGE_TYPE_NAMES.len()],
            messages_received: [0; MESSAGE_TYPE_NAMES.len()],
            links_buffer_limit_exceeded: 0,
            quiet_log: false,
        };
        cs.apply_announced();
        cs.rebuild_derived();
        cs
    }

    /// A fresh node with the given ids (the simulator makes them from its seed).
    pub fn with_ids(settings: ClusterSettings, id: NodeId, shard_id: NodeId) -> ClusterState {
        let mut cs = ClusterState::new(settings);
        let me = cs.myself_mut();
        me.id = id;
        me.shard_id = shard_id;
        cs.rebuild_derived();
        cs
    }

    /// Recomputes the node index and per-node slot counts from `nodes` and `slot_owner`.
    fn rebuild_derived(&mut self) {
        self.index = self.nodes.iter().enumerate().map(|(i, n)| (n.id, i)).collect();
        self.slot_counts = vec![0; self.nodes.len()];
        for &o in &self.slot_owner {
            if let Some(c) = self.slot_counts.get_mut(o as usize) {
                *c += 1;
            }
        }
        self.slots_version += 1;
        self.membership_version += 1;
    }

    /// Startup: loads `cluster-config-file` or, when it is missing or empty, creates a new
    /// node and writes the file. A corrupt file is an error naming the file and the line.
    pub fn load_or_create(cfg: &crate::config::Config) -> Result<ClusterState, String> {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        Self::load_or_create_with(ClusterSettings::from_config(cfg), now_ms)
    }

    pub fn load_or_create_with(settings: ClusterSettings, now_ms: u64) -> Result<ClusterState, String> {
        let path = settings.config_path.clone();
        let text = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(format!("Could not read the cluster config file '{}': {e}", path.display())),
        };
        // Redis treats a zero-length file as a missing one (a node killed before its first save).
        if text.iter().all(|b| b.is_ascii_whitespace()) {
            let mut cs = ClusterState::new(settings);
            cs.update_state(now_ms);
            cs.save()?;
            crate::observe::log::notice(&format!("No cluster configuration found, I'm {}", cs.myself().id));
            return Ok(cs);
        }
        let cs = Self::from_conf_text(settings, &text, now_ms).map_err(|(line, why)| {
            format!("Unrecoverable error: corrupted cluster config file '{}' line {line}: {why}", path.display())
        })?;
        let rendered = nodes_conf::render(&cs);
        if rendered.as_bytes() != text.as_slice() {
            cs.save()?;
        }
        crate::observe::log::notice(&format!("Node configuration loaded, I'm {}", cs.myself().id));
        Ok(cs)
    }

    /// The state a nodes.conf text describes, without touching the disk (startup and the
    /// simulator's restarts). Nodes start disconnected; their handshake times are `now_ms`.
    pub fn from_conf_text(
        settings: ClusterSettings,
        text: &[u8],
        now_ms: u64,
    ) -> Result<ClusterState, nodes_conf::LineError> {
        let parsed = nodes_conf::parse(text)?;
        let mut cs = ClusterState::new(settings);
        cs.nodes = parsed.nodes;
        for n in cs.nodes.iter_mut() {
            n.ctime_ms = now_ms;
            n.link_connected = n.is_myself();
        }
        cs.slot_owner = parsed.slot_owner;
        cs.migrating_to = parsed.migrating_to;
        cs.importing_from = parsed.importing_from;
        cs.last_vote_epoch = parsed.last_vote_epoch;
        cs.rebuild_derived();
        // As Redis: the current epoch is at least every config epoch we know.
        cs.current_epoch = parsed.current_epoch.max(cs.max_config_epoch());
        cs.apply_announced();
        cs.update_state(now_ms);
        Ok(cs)
    }

    /// Rewrites `cluster-config-file` atomically: temp file in the same directory, fsync,
    /// rename over the old one, fsync the directory.
    pub fn save(&self) -> Result<(), String> {
        nodes_conf::write_atomic(&self.settings.config_path, nodes_conf::render(self).as_bytes())
            .map_err(|e| format!("error saving the cluster node config: {e}"))
    }

    /// Takes new settings (after CONFIG SET). Returns true when what this node advertises or
    /// how it routes changed, so the caller updates the state, saves and publishes a new view.
    pub fn refresh(&mut self, settings: ClusterSettings) -> bool {
        if settings == self.settings {
            return false;
        }
        let before = (
            self.myself().ip.clone(),
            self.myself().port,
            self.myself().cport,
            self.myself().hostname.clone(),
            self.myself().flags,
        );
        let coverage_changed = settings.require_full_coverage != self.settings.require_full_coverage;
        let endpoint_changed = settings.preferred_endpoint != self.settings.preferred_endpoint;
        // Clearing `cluster-announce-ip` forgets the announced IP so it is learned again.
        let unannounced = settings.announce_ip.is_empty() && !self.settings.announce_ip.is_empty();
        self.settings = settings;
        if unannounced {
            self.myself_mut().ip.clear();
        }
        self.apply_announced();
        let me = self.myself();
        before != (me.ip.clone(), me.port, me.cport, me.hostname.clone(), me.flags)
            || coverage_changed
            || endpoint_changed
    }

    /// Copies the announced address of myself from the settings. The IP stays what the file
    /// (or, with the bus, a peer) said unless `cluster-announce-ip` is set, as in Redis.
    fn apply_announced(&mut self) {
        let (port, cport) = self.settings.announced_ports();
        let ip = self.settings.announce_ip.clone();
        let hostname = self.settings.announce_hostname.clone();
        let nofailover = if self.settings.replica_no_failover { flag::NOFAILOVER } else { 0 };
        let me = self.myself_mut();
        // `clusterUpdateMyselfFlags`: the flag follows the setting.
        me.flags = (me.flags & !flag::NOFAILOVER) | nofailover;
        me.port = port;
        me.cport = cport;
        me.hostname = hostname;
        if !ip.is_empty() {
            me.ip = ip;
        }
    }

    pub fn myself(&self) -> &ClusterNode {
        &self.nodes[0]
    }
    pub fn myself_mut(&mut self) -> &mut ClusterNode {
        &mut self.nodes[0]
    }
    pub fn nodes(&self) -> &[ClusterNode] {
        &self.nodes
    }
    pub fn node_index(&self, id: &NodeId) -> Option<usize> {
        match self.index.get(id) {
            Some(&i) if self.nodes.get(i).is_some_and(|n| n.id == *id) => Some(i),
            // Only myself's name changes outside this struct's methods (`myself_mut`).
            _ => (self.nodes[0].id == *id).then_some(0),
        }
    }
    pub fn node(&self, idx: usize) -> Option<&ClusterNode> {
        self.nodes.get(idx)
    }
    pub fn node_mut(&mut self, idx: usize) -> Option<&mut ClusterNode> {
        self.nodes.get_mut(idx)
    }
    pub fn node_by_id(&self, id: &NodeId) -> Option<&ClusterNode> {
        self.node_index(id).map(|i| &self.nodes[i])
    }
    pub fn node_by_id_mut(&mut self, id: &NodeId) -> Option<&mut ClusterNode> {
        self.node_index(id).map(|i| &mut self.nodes[i])
    }
    /// Every node mutably, for the bus. Names must not change through it (`rename_node`
    /// keeps the index right).
    pub(crate) fn nodes_mut(&mut self) -> &mut [ClusterNode] {
        &mut self.nodes
    }
    /// Bumped whenever any slot changes owner.
    pub fn slots_version(&self) -> u64 {
        self.slots_version
    }
    /// Bumped whenever a node is added, removed or renamed.
    pub fn membership_version(&self) -> u64 {
        self.membership_version
    }
    /// Looks a node up by the name a client typed (40 characters of `a-z0-9`, as Redis's
    /// `clusterLookupNode`); anything else is unknown.
    pub fn lookup(&self, name: &[u8]) -> Option<&ClusterNode> {
        let id = NodeId::parse(name)?;
        self.nodes.iter().find(|n| n.id == id)
    }

    /// Index into `nodes` of the slot's owner, or None when unassigned.
    pub fn slot_owner(&self, slot: u16) -> Option<usize> {
        match self.slot_owner.get(slot as usize) {
            Some(&o) if o != UNASSIGNED => Some(o as usize),
            _ => None,
        }
    }
    pub fn slot_owners(&self) -> &[u16] {
        &self.slot_owner
    }

    /// Gives `slot` to node `idx` (Redis's `clusterAddSlot`). Returns false if it is taken.
    pub fn add_slot(&mut self, slot: u16, idx: usize) -> bool {
        assert!(idx < self.nodes.len(), "slot owner {idx} is not a known node");
        match self.slot_owner.get_mut(slot as usize) {
            Some(o) if *o == UNASSIGNED => {
                *o = idx as u16;
                self.slot_counts[idx] += 1;
                self.slots_version += 1;
                true
            }
            _ => false,
        }
    }

    /// Unassigns `slot` (Redis's `clusterDelSlot`). Returns false if it was unassigned.
    pub fn del_slot(&mut self, slot: u16) -> bool {
        match self.slot_owner.get_mut(slot as usize) {
            Some(o) if *o != UNASSIGNED => {
                let old = *o as usize;
                *o = UNASSIGNED;
                if let Some(c) = self.slot_counts.get_mut(old) {
                    *c -= 1;
                }
                self.slots_version += 1;
                true
            }
            _ => false,
        }
    }

    /// Unassigns every slot of node `idx`; returns how many.
    pub fn del_node_slots(&mut self, idx: usize) -> usize {
        if self.slot_counts.get(idx).is_none_or(|&c| c == 0) {
            return 0;
        }
        let mut n = 0;
        for o in self.slot_owner.iter_mut().filter(|o| **o as usize == idx && **o != UNASSIGNED) {
            *o = UNASSIGNED;
            n += 1;
        }
        self.slot_counts[idx] = 0;
        self.slots_version += 1;
        n
    }

    pub fn count_node_slots(&self, idx: usize) -> usize {
        self.slot_counts.get(idx).map_or(0, |&c| c as usize)
    }

    /// The slot ranges (inclusive) node `idx` owns, in slot order.
    pub fn node_slot_ranges(&self, idx: usize) -> Vec<(u16, u16)> {
        let mut ranges: Vec<(u16, u16)> = Vec::new();
        for (slot, &o) in self.slot_owner.iter().enumerate() {
            if o == UNASSIGNED || o as usize != idx {
                continue;
            }
            let slot = slot as u16;
            match ranges.last_mut() {
                Some(r) if r.1 + 1 == slot => r.1 = slot,
                _ => ranges.push((slot, slot)),
            }
        }
        ranges
    }

    /// The slot ranges of every node, by node index, from one pass over the table.
    pub fn all_slot_ranges(&self) -> Vec<Vec<(u16, u16)>> {
        let mut ranges: Vec<Vec<(u16, u16)>> = vec![Vec::new(); self.nodes.len()];
        for (start, end, owner) in self.slot_runs() {
            if let Some(r) = ranges.get_mut(owner) {
                r.push((start, end));
            }
        }
        ranges
    }

    /// The slots of node `idx` as the cluster bus carries them: 16,384 bits, bit `s % 8` of
    /// byte `s / 8` set when slot `s` is owned (Redis's `bitmapTestBit`).
    pub fn node_slot_bitmap(&self, idx: usize) -> Box<[u8; SLOT_COUNT / 8]> {
        let mut bits = Box::new([0u8; SLOT_COUNT / 8]);
        for (slot, &o) in self.slot_owner.iter().enumerate() {
            if o != UNASSIGNED && o as usize == idx {
                bits[slot / 8] |= 1 << (slot % 8);
            }
        }
        bits
    }

    /// Runs of consecutive slots with the same owner: (start, end, owner index), slot order.
    pub fn slot_runs(&self) -> Vec<(u16, u16, usize)> {
        let mut runs: Vec<(u16, u16, usize)> = Vec::new();
        for (slot, &o) in self.slot_owner.iter().enumerate() {
            if o == UNASSIGNED {
                continue;
            }
            let slot = slot as u16;
            match runs.last_mut() {
                Some(r) if r.2 == o as usize && r.1 + 1 == slot => r.1 = slot,
                _ => runs.push((slot, slot, o as usize)),
            }
        }
        runs
    }

    /// Highest config epoch known, or the current epoch if higher (`clusterGetMaxEpoch`).
    pub fn max_config_epoch(&self) -> u64 {
        self.nodes.iter().map(|n| n.config_epoch).max().unwrap_or(0).max(self.current_epoch)
    }

    /// The epoch CLUSTER INFO shows as `cluster_my_epoch`: a replica shows its master's.
    pub fn my_epoch(&self) -> u64 {
        let me = self.myself();
        if me.flags & flag::SLAVE != 0 {
            if let Some(m) = me.master.and_then(|m| self.node_index(&m)) {
                return self.nodes[m].config_epoch;
            }
        }
        me.config_epoch
    }

    /// CLUSTER BUMPEPOCH (`clusterBumpConfigEpochWithoutConsensus`): true when bumped.
    pub fn bump_epoch(&mut self) -> bool {
        let max = self.max_config_epoch();
        let mine = self.myself().config_epoch;
        if mine == 0 || mine != max {
            self.current_epoch += 1;
            let e = self.current_epoch;
            self.myself_mut().config_epoch = e;
            true
        } else {
            false
        }
    }

    /// CLUSTER RESET: forget other nodes and every slot; HARD also takes a new id and zeroes
    /// the epochs (`clusterReset`). The caller checked that a master holds no keys.
    pub fn reset(&mut self, hard: bool) {
        let me = self.myself_mut();
        if me.flags & flag::SLAVE != 0 {
            me.flags = (me.flags & !flag::SLAVE) | flag::MASTER;
            me.master = None;
        }
        self.migrating_to.clear();
        self.importing_from.clear();
        self.slot_owner.iter_mut().for_each(|o| *o = UNASSIGNED);
        self.nodes.truncate(1);
        self.blacklist.clear();
        if hard {
            self.current_epoch = 0;
            self.last_vote_epoch = 0;
            let me = self.myself_mut();
            me.config_epoch = 0;
            me.id = NodeId::random();
            crate::observe::log::notice(&format!("Node hard reset, now I'm {}", me.id));
        }
        self.rebuild_derived();
    }

    /// Adds a node learned from the bus (issue 7) and returns its index.
    pub fn add_node(&mut self, node: ClusterNode) -> usize {
        assert!(self.node_index(&node.id).is_none(), "node {} added twice", node.id);
        assert!(node.flags & flag::MYSELF == 0, "only nodes[0] is myself");
        self.index.insert(node.id, self.nodes.len());
        self.membership_version += 1;
        self.nodes.push(node);
        self.slot_counts.push(0);
        assert!(self.nodes.len() < UNASSIGNED as usize, "too many nodes for a u16 slot owner");
        self.nodes.len() - 1
    }

    /// Removes node `idx` (never myself) and everything that points at it: its slots, open
    /// slot marks, failure reports it made, its replicas' master (Redis's `clusterDelNode`).
    /// Links are the bus's to close. Returns the removed node.
    pub fn remove_node(&mut self, idx: usize) -> ClusterNode {
        assert!(idx != 0 && idx < self.nodes.len(), "remove_node({idx}) of {} nodes", self.nodes.len());
        let gone = self.nodes.remove(idx);
        self.slot_counts.remove(idx);
        let idx16 = idx as u16;
        for o in self.slot_owner.iter_mut() {
            if *o == UNASSIGNED {
                continue;
            }
            if *o == idx16 {
                *o = UNASSIGNED;
            } else if *o > idx16 {
                *o -= 1;
            }
        }
        self.migrating_to.retain(|_, id| *id != gone.id);
        self.importing_from.retain(|_, id| *id != gone.id);
        for n in self.nodes.iter_mut() {
            n.fail_reports.retain(|(r, _)| *r != gone.id);
            if n.master == Some(gone.id) {
                n.master = None;
            }
        }
        self.rebuild_derived();
        gone
    }

    /// Gives node `idx` a new name (a handshake learning the real one: `clusterRenameNode`).
    pub fn rename_node(&mut self, idx: usize, id: NodeId) {
        assert!(self.node_index(&id).is_none(), "rename to a known name {id}");
        let Some(n) = self.nodes.get_mut(idx) else {
            return;
        };
        let old = n.id;
        if n.shard_id == old {
            n.shard_id = id;
        }
        n.id = id;
        self.index.remove(&old);
        self.index.insert(id, idx);
        self.membership_version += 1;
    }

    /// Recomputes `cluster_size` and `cluster_state` (Redis's `clusterUpdateState`), with
    /// Redis's delays: a master stays `fail` for `WRITABLE_DELAY_MS` after its first update,
    /// and turns `ok` only once it has been out of a minority for the rejoin delay (so a node
    /// given all slots becomes `ok` up to 5 s later, exactly as redis-server does). Returns
    /// true when `cluster_state` changed.
    pub fn update_state(&mut self, now_ms: u64) -> bool {
        let first = *self.first_update_ms.get_or_insert(now_ms);
        let master = self.myself().is_master();
        if master && !self.state_ok && now_ms.saturating_sub(first) < WRITABLE_DELAY_MS {
            return false;
        }
        let mut ok = true;
        if self.settings.require_full_coverage {
            // Every slot is served by a node not in FAIL: the per-node counts say it without
            // a pass over the table.
            let served: usize = self
                .nodes
                .iter()
                .zip(&self.slot_counts)
                .filter(|(n, _)| n.flags & flag::FAIL == 0)
                .map(|(_, &c)| c as usize)
                .sum();
            ok = served == SLOT_COUNT;
        }
        let mut size = 0;
        let mut reachable = 0;
        for (n, &slots) in self.nodes.iter().zip(&self.slot_counts) {
            if n.flags & flag::MASTER != 0 && slots > 0 {
                size += 1;
                if n.flags & (flag::FAIL | flag::PFAIL) == 0 {
                    reachable += 1;
                }
            }
        }
        self.size = size;
        // A partition with a minority of the masters serving slots refuses queries.
        if reachable < size / 2 + 1 {
            ok = false;
            self.among_minority_ms = Some(now_ms);
        }
        if ok == self.state_ok {
            return false;
        }
        let rejoin_delay_ms = self.settings.node_timeout_ms.clamp(MIN_REJOIN_DELAY_MS, MAX_REJOIN_DELAY_MS);
        let since_minority_ms = self.among_minority_ms.map_or(u64::MAX, |t| now_ms.saturating_sub(t));
        if ok && master && since_minority_ms < rejoin_delay_ms {
            return false;
        }
        self.state_ok = ok;
        self.log(crate::observe::log::NOTICE, &format!("Cluster state changed: {}", if ok { "ok" } else { "fail" }));
        true
    }

    /// Periodic work on shard 0, `hz` times a second (Redis's `clusterCron`, minus the bus):
    /// while the state is `fail`, re-evaluate it so the delays above run out. Returns true
    /// when the view must be published again.
    pub fn cron(&mut self, now_ms: u64) -> bool {
        !self.state_ok && self.update_state(now_ms)
    }

    /// Writes to the server log unless `quiet_log` is set.
    pub fn log(&self, level: u8, msg: &str) {
        if !self.quiet_log {
            crate::observe::log::log(level, msg);
        }
    }

    pub fn state_ok(&self) -> bool {
        self.state_ok
    }
    pub fn size(&self) -> usize {
        self.size
    }

    /// The name a node is advertised by in MOVED and CLUSTER SLOTS/SHARDS `endpoint`
    /// (`getPreferredEndpoint`).
    pub fn preferred_endpoint<'a>(&self, n: &'a ClusterNode) -> &'a str {
        match self.settings.preferred_endpoint {
            PreferredEndpointType::Ip => &n.ip,
            PreferredEndpointType::Hostname if !n.hostname.is_empty() => &n.hostname,
            PreferredEndpointType::Hostname => "?",
            PreferredEndpointType::UnknownEndpoint => "",
        }
    }

    /// The routing snapshot every shard gets.
    pub fn view(&self) -> ClusterView {
        let nodes: Vec<NodeAddr> = self
            .nodes
            .iter()
            .map(|n| NodeAddr { id: n.id.to_string(), ip: self.preferred_endpoint(n).to_string(), port: n.port })
            .collect();
        let open = |marks: &BTreeMap<u16, NodeId>| -> BTreeMap<u16, u16> {
            marks.iter().filter_map(|(&slot, id)| Some((slot, self.node_index(id)? as u16))).collect()
        };
        ClusterView {
            enabled: true,
            myself: nodes[0].clone(),
            slot_owner: self.slot_owner.clone(),
            nodes,
            state_ok: self.state_ok,
            migrating: open(&self.migrating_to),
            importing: open(&self.importing_from),
        }
    }
}

#[cfg(test)]
mod tests;
