//! Who is in the cluster: starting a handshake (CLUSTER MEET), forgetting a node and keeping
//! it out for a while (CLUSTER FORGET and its blacklist), masters and replicas, and the
//! failure reports other masters send about a node.
//!
//! State changes only, as Redis's `clusterStartHandshake`, `clusterBlacklist*`,
//! `clusterSetNodeAsMaster` and `clusterNode*FailureReport*`: the bus decides when to call
//! them; this file never builds messages or looks at links.

use super::node::{flag, ClusterNode, NodeId};
use super::ClusterState;

/// How long a forgotten node stays out of gossip (`CLUSTER_BLACKLIST_TTL`, 60 s).
pub const BLACKLIST_TTL_MS: u64 = 60_000;
/// A failure report counts for this many node timeouts (`CLUSTER_FAIL_REPORT_VALIDITY_MULT`).
pub const FAIL_REPORT_VALIDITY_MULT: u64 = 2;

/// Why CLUSTER MEET did not start a handshake.
#[derive(Debug, PartialEq, Eq)]
pub enum MeetError {
    /// Not an IPv4/IPv6 address, or a port outside 1..=65535 (`EINVAL`): an error reply.
    Invalid,
    /// A handshake with that address is already running (`EAGAIN`): Redis still says OK.
    InProgress,
}

/// The address in the normal form `inet_ntop` prints, or None when it is not an IP address.
pub fn normalize_ip(ip: &str) -> Option<String> {
    ip.parse::<std::net::IpAddr>().ok().map(|a| a.to_string())
}

impl ClusterState {
    /// CLUSTER MEET: adds a node named `id` (random: the real name arrives with its first
    /// PONG) in handshake, flagged MEET so the bus greets it with a MEET message.
    pub fn start_handshake(
        &mut self,
        ip: &str,
        port: i64,
        cport: i64,
        id: NodeId,
        now_ms: u64,
    ) -> Result<usize, MeetError> {
        let ip = normalize_ip(ip).ok_or(MeetError::Invalid)?;
        let valid = |p: i64| (1..=65535).contains(&p);
        if !valid(port) || !valid(cport) {
            return Err(MeetError::Invalid);
        }
        let (port, cport) = (port as u16, cport as u16);
        if self.handshake_in_progress(&ip, port, cport) {
            return Err(MeetError::InProgress);
        }
        let mut n = ClusterNode::new(id, flag::HANDSHAKE | flag::MEET);
        n.ip = ip;
        n.port = port;
        n.cport = cport;
        n.ctime_ms = now_ms;
        Ok(self.add_node(n))
    }

    /// A handshake with this exact address is already running (`clusterHandshakeInProgress`).
    pub fn handshake_in_progress(&self, ip: &str, port: u16, cport: u16) -> bool {
        self.nodes()
            .iter()
            .any(|n| n.in_handshake() && n.ip.eq_ignore_ascii_case(ip) && n.port == port && n.cport == cport)
    }

    /// Keeps `id` out of gossip until `expire_ms` (a later expiry wins).
    pub fn blacklist_add(&mut self, id: NodeId, expire_ms: u64) {
        let e = self.blacklist.entry(id).or_insert(0);
        *e = expire_ms;
    }

    /// Drops expired entries (`clusterBlacklistCleanup`).
    pub fn blacklist_cleanup(&mut self, now_ms: u64) {
        self.blacklist.retain(|_, &mut expire_ms| expire_ms >= now_ms);
    }

    pub fn blacklisted(&mut self, id: &NodeId, now_ms: u64) -> bool {
        self.blacklist_cleanup(now_ms);
        self.blacklist.contains_key(id)
    }

    /// CLUSTER FORGET's checks, in Redis's order, with its error texts; on success the node
    /// is blacklisted for a minute and removed.
    pub fn forget(&mut self, name: &[u8], now_ms: u64) -> Result<(), String> {
        let Some(idx) = NodeId::parse(name).and_then(|id| self.node_index(&id)) else {
            return Err(format!("ERR Unknown node {}", String::from_utf8_lossy(name)));
        };
        if idx == 0 {
            return Err("ERR I tried hard but I can't forget myself...".into());
        }
        let id = self.nodes()[idx].id;
        if self.myself().is_replica() && self.myself().master == Some(id) {
            return Err("ERR Can't forget my master!".into());
        }
        self.blacklist_cleanup(now_ms);
        self.blacklist_add(id, now_ms + BLACKLIST_TTL_MS);
        self.remove_node(idx);
        Ok(())
    }

    /// Makes node `idx` a master (`clusterSetNodeAsMaster`). Returns true when it was not.
    pub fn set_node_as_master(&mut self, idx: usize) -> bool {
        let Some(n) = self.node_mut(idx) else {
            return false;
        };
        if n.is_master() {
            return false;
        }
        if n.master.is_some() && !n.is_myself() {
            // A former replica is a target for replica migration (shown nowhere).
            n.flags |= flag::MIGRATE_TO;
        }
        n.flags = (n.flags & !flag::SLAVE) | flag::MASTER;
        n.master = None;
        true
    }

    /// Records that master `reporter` sees node `idx` as failing; true when it is a new report
    /// (`clusterNodeAddFailureReport`).
    pub fn add_failure_report(&mut self, idx: usize, reporter: NodeId, now_ms: u64) -> bool {
        let Some(n) = self.node_mut(idx) else {
            return false;
        };
        if let Some(r) = n.fail_reports.iter_mut().find(|(id, _)| *id == reporter) {
            r.1 = now_ms;
            return false;
        }
        n.fail_reports.push((reporter, now_ms));
        true
    }

    /// Drops the report of `reporter` about node `idx`; true when there was one.
    pub fn remove_failure_report(&mut self, idx: usize, reporter: &NodeId, now_ms: u64) -> bool {
        let max_age_ms = self.fail_report_validity_ms();
        let Some(n) = self.node_mut(idx) else {
            return false;
        };
        let before = n.fail_reports.len();
        n.fail_reports.retain(|(id, _)| id != reporter);
        let removed = n.fail_reports.len() != before;
        n.fail_reports.retain(|&(_, t)| now_ms.saturating_sub(t) <= max_age_ms);
        removed
    }

    /// Reports about node `idx` still valid (within twice the node timeout), after dropping
    /// the old ones (`clusterNodeFailureReportsCount`).
    pub fn failure_report_count(&mut self, idx: usize, now_ms: u64) -> usize {
        let max_age_ms = self.fail_report_validity_ms();
        let Some(n) = self.node_mut(idx) else {
            return 0;
        };
        n.fail_reports.retain(|&(_, t)| now_ms.saturating_sub(t) <= max_age_ms);
        n.fail_reports.len()
    }

    fn fail_report_validity_ms(&self) -> u64 {
        self.settings.node_timeout_ms.saturating_mul(FAIL_REPORT_VALIDITY_MULT)
    }
}
