//! The read-only CLUSTER replies built from the state, in Redis 7.0's exact shapes: INFO text,
//! SLOTS, SHARDS and LINKS (NODES lines are in `nodes_conf`, shared with the config file).
//!
//! Runs on shard 0 next to the state; writes RESP through `Out` and must never change the
//! state.

use super::node::ClusterNode;
use super::{ClusterState, MESSAGE_TYPE_NAMES};
use crate::config::PreferredEndpointType;
use crate::resp::Out;

/// The CLUSTER INFO text (`genClusterInfoString`), each line ending in CRLF.
pub fn info_text(cs: &ClusterState) -> String {
    use std::fmt::Write as _;
    let (mut assigned, mut ok, mut pfail, mut fail) = (0, 0, 0, 0);
    for slot in 0..crate::limits::SLOT_COUNT as u16 {
        let Some(o) = cs.slot_owner(slot) else {
            continue;
        };
        assigned += 1;
        match cs.nodes().get(o) {
            Some(n) if n.failed() => fail += 1,
            Some(n) if n.flags & super::node::flag::PFAIL != 0 => pfail += 1,
            _ => ok += 1,
        }
    }
    let mut s = String::with_capacity(512);
    let _ = write!(
        s,
        "cluster_state:{}\r\ncluster_slots_assigned:{assigned}\r\ncluster_slots_ok:{ok}\r\ncluster_slots_pfail:{pfail}\r\ncluster_slots_fail:{fail}\r\ncluster_known_nodes:{}\r\ncluster_size:{}\r\ncluster_current_epoch:{}\r\ncluster_my_epoch:{}\r\n",
        if cs.state_ok() { "ok" } else { "fail" },
        cs.nodes().len(),
        cs.size(),
        cs.current_epoch,
        cs.my_epoch(),
    );
    for (dir, counts) in [("sent", &cs.messages_sent), ("received", &cs.messages_received)] {
        let mut total = 0u64;
        for (name, &n) in MESSAGE_TYPE_NAMES.iter().zip(counts.iter()) {
            if n != 0 {
                total += n;
                let _ = write!(s, "cluster_stats_messages_{name}_{dir}:{n}\r\n");
            }
        }
        let _ = write!(s, "cluster_stats_messages_{dir}:{total}\r\n");
    }
    let _ = write!(s, "total_cluster_links_buffer_limit_exceeded:{}\r\n", cs.links_buffer_limit_exceeded);
    s
}

/// Replicas of node `master` that CLUSTER SLOTS lists (not failed), in node order.
fn replicas_of<'a>(cs: &'a ClusterState, master: &'a ClusterNode) -> impl Iterator<Item = &'a ClusterNode> + 'a {
    cs.nodes().iter().filter(move |n| n.is_replica() && n.master == Some(master.id))
}

/// One node of a CLUSTER SLOTS range: endpoint, port, id, then the other known networking
/// metadata as a map (`addNodeToNodeReply`).
fn slots_node(cs: &ClusterState, n: &ClusterNode, out: &mut Out) {
    out.array(4);
    match cs.settings.preferred_endpoint {
        PreferredEndpointType::UnknownEndpoint => out.null(),
        _ => out.bulk_str(cs.preferred_endpoint(n)),
    }
    out.int(n.port as i64);
    out.bulk_str(n.id.as_str());
    let with_ip = cs.settings.preferred_endpoint != PreferredEndpointType::Ip;
    let with_hostname = cs.settings.preferred_endpoint != PreferredEndpointType::Hostname && !n.hostname.is_empty();
    out.map(with_ip as usize + with_hostname as usize);
    if with_ip {
        out.bulk_str("ip");
        out.bulk_str(&n.ip);
    }
    if with_hostname {
        out.bulk_str("hostname");
        out.bulk_str(&n.hostname);
    }
}

/// CLUSTER SLOTS: one entry per run of consecutive slots with the same master, in slot order
/// (`clusterReplyMultiBulkSlots`).
pub fn write_slots(cs: &ClusterState, out: &mut Out) {
    let runs = cs.slot_runs();
    out.array(runs.len());
    for (start, end, owner) in runs {
        let Some(master) = cs.nodes().get(owner) else {
            // Unreachable: owners are node indexes; keep the reply well-formed anyway.
            out.array(2);
            out.int(start as i64);
            out.int(end as i64);
            continue;
        };
        let replicas: Vec<&ClusterNode> = replicas_of(cs, master).filter(|r| !r.failed()).collect();
        out.array(3 + replicas.len());
        out.int(start as i64);
        out.int(end as i64);
        slots_node(cs, master, out);
        for r in replicas {
            slots_node(cs, r, out);
        }
    }
}

/// One node of a CLUSTER SHARDS entry (`addNodeDetailsToShardReply`).
fn shards_node(cs: &ClusterState, n: &ClusterNode, out: &mut Out) {
    let with_hostname = !n.hostname.is_empty();
    // Redis leaves the port out while it is unknown (0).
    let with_port = n.port != 0;
    out.map(6 + with_port as usize + with_hostname as usize);
    out.bulk_str("id");
    out.bulk_str(n.id.as_str());
    if with_port {
        out.bulk_str("port");
        out.int(n.port as i64);
    }
    out.bulk_str("ip");
    out.bulk_str(&n.ip);
    out.bulk_str("endpoint");
    out.bulk_str(cs.preferred_endpoint(n));
    if with_hostname {
        out.bulk_str("hostname");
        out.bulk_str(&n.hostname);
    }
    out.bulk_str("role");
    out.bulk_str(if n.is_replica() { "replica" } else { "master" });
    out.bulk_str("replication-offset");
    out.int(n.repl_offset as i64);
    out.bulk_str("health");
    out.bulk_str(if n.failed() {
        "fail"
    } else if n.is_replica() && n.repl_offset == 0 {
        "loading"
    } else {
        "online"
    });
}

/// CLUSTER SHARDS: per master, its slot ranges as a flat list of start/end integers and its
/// nodes (master first, then replicas).
pub fn write_shards(cs: &ClusterState, out: &mut Out) {
    let masters: Vec<(usize, &ClusterNode)> = cs.nodes().iter().enumerate().filter(|(_, n)| n.is_master()).collect();
    out.array(masters.len());
    for (idx, m) in masters {
        out.map(2);
        out.bulk_str("slots");
        let ranges = cs.node_slot_ranges(idx);
        out.array(ranges.len() * 2);
        for (a, b) in ranges {
            out.int(a as i64);
            out.int(b as i64);
        }
        out.bulk_str("nodes");
        let replicas: Vec<&ClusterNode> = replicas_of(cs, m).collect();
        out.array(1 + replicas.len());
        shards_node(cs, m, out);
        for r in replicas {
            shards_node(cs, r, out);
        }
    }
}

/// CLUSTER LINKS: one map per bus link that belongs to a node, node by node, our link to it
/// before its link to us (`addReplyClusterLinksDescription`).
pub fn write_links(cs: &ClusterState, out: &mut Out) {
    let mut links = Vec::new();
    for n in cs.nodes() {
        for l in [n.link, n.inbound_link].into_iter().flatten() {
            if let Some(link) = cs.links.get(l) {
                links.push((n, link));
            }
        }
    }
    out.array(links.len());
    for (n, link) in links {
        out.map(6);
        out.bulk_str("direction");
        out.bulk_str(if link.inbound { "from" } else { "to" });
        out.bulk_str("node");
        out.bulk_str(n.id.as_str());
        out.bulk_str("create-time");
        out.int(link.create_time_ms as i64);
        out.bulk_str("events");
        out.bulk_str(cs.links.events(link.id));
        // What the event loop has not reported written yet stands for Redis's send buffer.
        out.bulk_str("send-buffer-allocated");
        out.int(link.send_queued_bytes as i64);
        out.bulk_str("send-buffer-used");
        out.int(link.send_queued_bytes as i64);
    }
}
