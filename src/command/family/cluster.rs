//! The cluster family: CLUSTER and its subcommands, READONLY, READWRITE, ASKING.
//!
//! The cluster state lives on shard 0 (`ShardState::cluster_state`). Every subcommand that
//! reads or changes it runs there (`on_state`): a change is saved to `cluster-config-file`
//! and the new `ClusterView` is published to every shard (`publish_view`) before the reply
//! leaves shard 0, so the client that asked sees the new slot map on its next command. Key
//! counts come from the shard owning the slot. Nothing here routes data commands (that is
//! `shard::exec`) or knows the file format (`cluster::state::nodes_conf`).
//!
//! MEET and FORGET change the membership only (a handshake node, a removed node): the cluster
//! bus (`cluster::bus`) connects and gossips on its next tick.
//!
//! Every reply and error text is Redis 7.0's; CLUSTER MYSHARDID is Redis 7.2's. The slot
//! subcommands live in `cluster/slots.rs`.

mod slots;
#[cfg(test)]
mod tests;

use std::rc::Rc;
use std::sync::Arc;

use futures::FutureExt;

use crate::cluster::state::describe;
use crate::cluster::state::membership::MeetError;
use crate::cluster::state::{ClusterSettings, ClusterState};
use crate::command::args::{eq_ic, parse_i64};
use crate::command::spec::{flag, spec, CommandSpec, ConnResult, Exec, Split};
use crate::error;
use crate::resp::Out;
use crate::shard::ShardState;
use slots::{addslots, countkeysinslot, flushslots, getkeysinslot, keyslot};

const GROUP: &str = "cluster";
const ACL_SLOW: &[&str] = &["@slow"];
const ACL_ADMIN: &[&str] = &["@admin", "@slow", "@dangerous"];
const ACL_CONN_FAST: &[&str] = &["@fast", "@connection"];
const NONE: (i32, i32, i32) = (0, 0, 0);
const O1: &str = "O(1)";
const STALE: u32 = flag::STALE;
const ADMIN: u32 = flag::ADMIN | flag::STALE | flag::NO_ASYNC_LOADING;

#[allow(clippy::too_many_arguments)]
const fn sub(
    name: &'static str,
    arity: i32,
    flags: u32,
    acl: &'static [&'static str],
    since: &'static str,
    summary: &'static str,
    complexity: &'static str,
    f: crate::command::spec::ConnFn,
) -> CommandSpec {
    CommandSpec { complexity, ..spec(name, arity, flags, NONE, acl, GROUP, since, summary, Exec::Conn(f), Split::None) }
}

#[rustfmt::skip]
static SUBCOMMANDS: &[CommandSpec] = &[
    sub("cluster|addslots", -3, ADMIN, ACL_ADMIN, "3.0.0", "Assign new hash slots to receiving node",
        "O(N) where N is the total number of hash slot arguments", addslots),
    sub("cluster|addslotsrange", -4, ADMIN, ACL_ADMIN, "7.0.0", "Assign new hash slots to receiving node",
        "O(N) where N is the total number of the slots between the start slot and end slot arguments.", addslots),
    sub("cluster|bumpepoch", 2, ADMIN, ACL_ADMIN, "3.0.0", "Advance the cluster config epoch", O1, bumpepoch),
    sub("cluster|count-failure-reports", 3, flag::ADMIN | STALE, ACL_ADMIN, "3.0.0",
        "Return the number of failure reports active for a given node",
        "O(N) where N is the number of failure reports", count_failure_reports),
    sub("cluster|countkeysinslot", 3, STALE, ACL_SLOW, "3.0.0", "Return the number of local keys in the specified hash slot",
        O1, countkeysinslot),
    sub("cluster|delslots", -3, ADMIN, ACL_ADMIN, "3.0.0", "Set hash slots as unbound in receiving node",
        "O(N) where N is the total number of hash slot arguments", addslots),
    sub("cluster|delslotsrange", -4, ADMIN, ACL_ADMIN, "7.0.0", "Set hash slots as unbound in receiving node",
        "O(N) where N is the total number of the slots between the start slot and end slot arguments.", addslots),
    sub("cluster|flushslots", 2, ADMIN, ACL_ADMIN, "3.0.0", "Delete a node's own slots information", O1, flushslots),
    sub("cluster|forget", 3, ADMIN, ACL_ADMIN, "3.0.0", "Remove a node from the nodes table", O1, forget),
    sub("cluster|getkeysinslot", 4, STALE, ACL_SLOW, "3.0.0", "Return local key names in the specified hash slot",
        "O(log(N)) where N is the number of requested keys", getkeysinslot),
    sub("cluster|help", 2, flag::LOADING | STALE, ACL_SLOW, "5.0.0", "Show helpful text about the different subcommands",
        O1, help),
    sub("cluster|info", 2, STALE, ACL_SLOW, "3.0.0", "Provides info about Redis Cluster node state", O1, info),
    sub("cluster|keyslot", 3, STALE, ACL_SLOW, "3.0.0", "Returns the hash slot of the specified key",
        "O(N) where N is the number of bytes in the key", keyslot),
    sub("cluster|links", 2, STALE, ACL_SLOW, "7.0.0", "Returns a list of all TCP links to and from peer nodes in cluster",
        "O(N) where N is the total number of Cluster nodes", links),
    sub("cluster|meet", -4, ADMIN, ACL_ADMIN, "3.0.0", "Force a node cluster to handshake with another node", O1, meet),
    sub("cluster|myid", 2, STALE, ACL_SLOW, "3.0.0", "Return the node id", O1, myid),
    sub("cluster|myshardid", 2, STALE, ACL_SLOW, "7.2.0", "Returns the shard ID of a node", O1, myshardid),
    sub("cluster|nodes", 2, STALE, ACL_SLOW, "3.0.0", "Get Cluster config for the node",
        "O(N) where N is the total number of Cluster nodes", nodes),
    sub("cluster|replicas", 3, flag::ADMIN | STALE, ACL_ADMIN, "5.0.0", "List replica nodes of the specified master node", O1,
        replicas),
    sub("cluster|reset", -2, flag::ADMIN | flag::NOSCRIPT | STALE, ACL_ADMIN, "3.0.0", "Reset a Redis Cluster node",
        "O(N) where N is the number of known nodes. The command may execute a FLUSHALL as a side effect.", reset),
    sub("cluster|saveconfig", 2, ADMIN, ACL_ADMIN, "3.0.0", "Forces the node to save cluster state on disk", O1, saveconfig),
    sub("cluster|set-config-epoch", 3, ADMIN, ACL_ADMIN, "3.0.0", "Set the configuration epoch in a new node", O1,
        set_config_epoch),
    sub("cluster|shards", 2, STALE, ACL_SLOW, "7.0.0", "Get array of cluster slots to node mappings",
        "O(N) where N is the total number of cluster nodes", shards),
    sub("cluster|slaves", 3, flag::ADMIN | STALE, ACL_ADMIN, "3.0.0", "List replica nodes of the specified master node", O1,
        replicas),
    sub("cluster|slots", 2, STALE, ACL_SLOW, "3.0.0", "Get array of Cluster slot to node mappings",
        "O(N) where N is the total number of Cluster nodes", slots),
];

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        subcommands: SUBCOMMANDS,
        complexity: "Depends on subcommand.",
        ..spec("cluster", -2, 0, NONE, ACL_SLOW, GROUP, "3.0.0", "A container for cluster commands", Exec::Container, Split::None)
    },
    CommandSpec {
        complexity: O1,
        ..spec("readonly", 1, flag::FAST | flag::LOADING | STALE, NONE, ACL_CONN_FAST, GROUP, "3.0.0",
            "Enables read queries for a connection to a cluster replica node", Exec::Conn(readonly), Split::None)
    },
    CommandSpec {
        complexity: O1,
        ..spec("readwrite", 1, flag::FAST | flag::LOADING | STALE, NONE, ACL_CONN_FAST, GROUP, "3.0.0",
            "Disables read queries for a connection to a cluster replica node", Exec::Conn(readwrite), Split::None)
    },
    CommandSpec {
        complexity: O1,
        ..spec("asking", 1, flag::FAST, NONE, ACL_CONN_FAST, GROUP, "3.0.0", "Sent by cluster clients after an -ASK redirect",
            Exec::Conn(asking), Split::None)
    },
];

/// Replies the standalone-mode error and returns true when cluster mode is off.
fn disabled(st: &ShardState, out: &mut Out) -> bool {
    if st.cluster.enabled {
        return false;
    }
    out.error(error::CLUSTER_DISABLED);
    true
}

fn owned(args: &[&[u8]]) -> Vec<Vec<u8>> {
    args.iter().map(|a| a.to_vec()).collect()
}

/// Runs `f` on shard 0 (inline when the client is there) and replies with the bytes it makes.
fn on_shard0<F>(st: &mut ShardState, out: &mut Out, f: F) -> ConnResult
where
    F: FnOnce(&mut ShardState, bool) -> Vec<u8> + Send + 'static,
{
    let resp3 = out.resp3;
    if st.id == 0 {
        let reply = f(st, resp3);
        out.raw(&reply);
        return ConnResult::Done;
    }
    let h = st.handle.clone();
    ConnResult::Later(async move { h.call(0, None, move |s: &mut ShardState| f(s, resp3)).await }.boxed_local())
}

/// Runs `f` on the cluster state (shard 0). When `f` returns true (it changed the state),
/// or CONFIG SET changed what this node advertises, the state is saved and the new view
/// published before the reply goes out.
fn on_state<F>(st: &mut ShardState, out: &mut Out, f: F) -> ConnResult
where
    F: FnOnce(&mut ClusterState, &mut Out) -> bool + Send + 'static,
{
    on_shard0(st, out, move |s, resp3| run_on_state(s, resp3, f))
}

fn run_on_state<F>(s: &mut ShardState, resp3: bool, f: F) -> Vec<u8>
where
    F: FnOnce(&mut ClusterState, &mut Out) -> bool,
{
    let mut buf = Vec::new();
    let settings = ClusterSettings::from_config(&s.cfg);
    let Some(cs) = s.cluster_state.as_deref_mut() else {
        debug_assert!(false, "cluster mode without a cluster state on shard 0");
        Out::new(&mut buf, resp3).error(error::CLUSTER_DISABLED);
        return buf;
    };
    let refreshed = cs.refresh(settings);
    let changed = f(cs, &mut Out::new(&mut buf, resp3));
    let state_changed = (changed || refreshed) && cs.update_state(crate::shard::unix_ms());
    if changed || refreshed || state_changed {
        if let Err(e) = cs.save() {
            // Redis exits here; we keep serving and tell the client the change is not durable.
            crate::observe::log::warning(&e);
            buf.clear();
            Out::new(&mut buf, resp3).error(&format!("ERR {e}"));
        }
        publish_view(s);
    }
    buf
}

/// Shard 0's periodic cluster work (call it from the shard cron, `hz` times a second): takes
/// CONFIG SET changes of the announce and coverage settings, lets the `cluster_state` delays
/// run out, and publishes the view when either changed it. A no-op on other shards.
pub fn cron(st: &mut ShardState) {
    if st.cluster_state.is_none() {
        return;
    }
    let settings = ClusterSettings::from_config(&st.cfg);
    let Some(cs) = st.cluster_state.as_deref_mut() else {
        return;
    };
    let now_ms = crate::shard::unix_ms();
    let refreshed = cs.refresh(settings);
    if refreshed {
        cs.update_state(now_ms);
        if let Err(e) = cs.save() {
            crate::observe::log::warning(&e);
        }
    }
    if cs.cron(now_ms) || refreshed {
        publish_view(st);
    }
}

/// Publishes the cluster state's current view to every shard. Runs on shard 0; the calls to
/// the other shards are queued before anything else shard 0 sends them afterwards (replies
/// included), so shards see views in order and a client sees its own change.
pub fn publish_view(st: &mut ShardState) {
    let Some(cs) = st.cluster_state.as_deref() else {
        return;
    };
    let view = Arc::new(cs.view());
    st.cluster = view.clone();
    for dest in (0..st.nshards).filter(|&d| d != st.id) {
        let v = view.clone();
        // Fire and forget: the call is queued now; its empty answer is dropped on arrival.
        drop(st.handle.call(dest, None, move |s: &mut ShardState| s.cluster = v));
    }
}

/// Keys in db 0 of every shard (Redis's `dictSize(server.db[0].dict)` / `dbsize()`).
async fn total_keys(h: Rc<crate::shard::handle::Handle>) -> usize {
    let counts = h.call_all(None, |s: &mut ShardState| s.store.dbs.first().map_or(0, |d| d.len())).await;
    counts.into_iter().sum()
}

/// Counts the keys on all shards, then runs `f(cs, keys, out)` on the state.
fn with_key_count<F>(st: &mut ShardState, out: &mut Out, f: F) -> ConnResult
where
    F: FnOnce(&mut ClusterState, usize, &mut Out) -> bool + Send + 'static,
{
    let h = st.handle.clone();
    let resp3 = out.resp3;
    ConnResult::Later(
        async move {
            let keys = total_keys(h.clone()).await;
            h.call(0, None, move |s: &mut ShardState| run_on_state(s, resp3, move |cs, out| f(cs, keys, out))).await
        }
        .boxed_local(),
    )
}

fn reset(st: &mut ShardState, _ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    if disabled(st, out) {
        return ConnResult::Done;
    }
    let hard = match args.get(2) {
        _ if args.len() > 3 => {
            subcommand_syntax_error(args, out);
            return ConnResult::Done;
        }
        None => false,
        Some(a) if eq_ic(a, "hard") => true,
        Some(a) if eq_ic(a, "soft") => false,
        Some(_) => {
            out.error(error::SYNTAX);
            return ConnResult::Done;
        }
    };
    with_key_count(st, out, move |cs, keys, out| {
        if cs.myself().is_master() && keys != 0 {
            out.error("ERR CLUSTER RESET can't be called with master nodes containing keys");
            return false;
        }
        cs.reset(hard);
        out.ok();
        true
    })
}

fn set_config_epoch(st: &mut ShardState, _ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    if disabled(st, out) {
        return ConnResult::Done;
    }
    let epoch = match parse_i64(args[2]) {
        Ok(e) => e,
        Err(e) => {
            out.error(e);
            return ConnResult::Done;
        }
    };
    on_state(st, out, move |cs, out| match apply_config_epoch(cs, epoch) {
        Ok(()) => {
            out.ok();
            true
        }
        Err(e) => {
            out.error(&e);
            false
        }
    })
}

/// CLUSTER SET-CONFIG-EPOCH on the state, with Redis's checks in Redis's order.
pub fn apply_config_epoch(cs: &mut ClusterState, epoch: i64) -> Result<(), String> {
    if epoch < 0 {
        return Err(format!("ERR Invalid config epoch specified: {epoch}"));
    }
    if cs.nodes().len() > 1 {
        return Err("ERR The user can assign a config epoch only when the node does not know any other node.".into());
    }
    if cs.myself().config_epoch != 0 {
        return Err("ERR Node config epoch is already non-zero".into());
    }
    let epoch = epoch as u64;
    cs.myself_mut().config_epoch = epoch;
    crate::observe::log::warning(&format!("configEpoch set to {epoch} via CLUSTER SET-CONFIG-EPOCH"));
    cs.current_epoch = cs.current_epoch.max(epoch);
    Ok(())
}

fn bumpepoch(st: &mut ShardState, _ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    if disabled(st, out) {
        return ConnResult::Done;
    }
    on_state(st, out, |cs, out| {
        let bumped = cs.bump_epoch();
        out.simple(&format!("{} {}", if bumped { "BUMPED" } else { "STILL" }, cs.myself().config_epoch));
        bumped
    })
}

fn count_failure_reports(st: &mut ShardState, _ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    if disabled(st, out) {
        return ConnResult::Done;
    }
    let name = args[2].to_vec();
    on_state(st, out, move |cs, out| {
        let idx = crate::cluster::state::NodeId::parse(&name).and_then(|id| cs.node_index(&id));
        match idx {
            // Counting drops the reports older than their validity, as Redis's does.
            Some(i) => out.int(cs.failure_report_count(i, crate::shard::unix_ms()) as i64),
            None => out.error(&format!("ERR Unknown node {}", arg_text(&name))),
        }
        false
    })
}

/// An argument echoed in an error, as `addReplyErrorFormat` prints it (newlines as spaces).
fn arg_text(a: &[u8]) -> String {
    String::from_utf8_lossy(a).replace(['\r', '\n'], " ")
}

/// Redis's `addReplySubcommandSyntaxError`: the names as the client typed them.
fn subcommand_syntax_error(args: &[&[u8]], out: &mut Out) {
    out.error(&format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        error::sanitize(args[1], 128),
        String::from_utf8_lossy(args[0]).to_uppercase()
    ));
}

/// CLUSTER MEET ip port [cport]: adds the node in handshake; the bus connects to it on its
/// next tick and greets it with a MEET.
fn meet(st: &mut ShardState, _ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    if disabled(st, out) {
        return ConnResult::Done;
    }
    if args.len() > 5 {
        subcommand_syntax_error(args, out);
        return ConnResult::Done;
    }
    let Ok(port) = parse_i64(args[3]) else {
        out.error(&format!("ERR Invalid TCP base port specified: {}", arg_text(args[3])));
        return ConnResult::Done;
    };
    let cport = match args.get(4) {
        Some(a) => match parse_i64(a) {
            Ok(c) => c,
            Err(_) => {
                out.error(&format!("ERR Invalid TCP bus port specified: {}", arg_text(a)));
                return ConnResult::Done;
            }
        },
        None => port.saturating_add(10_000),
    };
    let (ip, port_text) = (String::from_utf8_lossy(args[2]).into_owned(), arg_text(args[3]));
    on_state(st, out, move |cs, out| {
        let id = crate::cluster::state::NodeId::random();
        match cs.start_handshake(&ip, port, cport, id, crate::shard::unix_ms()) {
            Ok(_) => {
                out.ok();
                true
            }
            // A handshake with that address is already running: nothing to do, still OK.
            Err(MeetError::InProgress) => {
                out.ok();
                false
            }
            Err(MeetError::Invalid) => {
                out.error(&format!("ERR Invalid node address specified: {}:{port_text}", arg_text(ip.as_bytes())));
                false
            }
        }
    })
}

/// CLUSTER FORGET node-id: removes the node and keeps it out of gossip for a minute.
fn forget(st: &mut ShardState, _ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    if disabled(st, out) {
        return ConnResult::Done;
    }
    let name = args[2].to_vec();
    on_state(st, out, move |cs, out| match cs.forget(&name, crate::shard::unix_ms()) {
        Ok(()) => {
            out.ok();
            true
        }
        Err(e) => {
            out.error(&e.replace(['\r', '\n'], " "));
            false
        }
    })
}

fn saveconfig(st: &mut ShardState, _ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    if disabled(st, out) {
        return ConnResult::Done;
    }
    on_state(st, out, |cs, out| {
        match cs.save() {
            Ok(()) => out.ok(),
            Err(e) => out.error(&format!("ERR {}", strip_os_error(&e))),
        }
        false
    })
}

/// `Permission denied (os error 13)` -> `Permission denied`, as Redis prints `strerror`.
fn strip_os_error(e: &str) -> &str {
    match e.rfind(" (os error ") {
        Some(i) if e.ends_with(')') => &e[..i],
        _ => e,
    }
}

fn info(st: &mut ShardState, _ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    if disabled(st, out) {
        return ConnResult::Done;
    }
    on_state(st, out, |cs, out| {
        out.verbatim(describe::info_text(cs).as_bytes());
        false
    })
}

fn nodes(st: &mut ShardState, _ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    if disabled(st, out) {
        return ConnResult::Done;
    }
    on_state(st, out, |cs, out| {
        out.verbatim(crate::cluster::state::nodes_conf::nodes_text(cs, 0).as_bytes());
        false
    })
}

fn slots(st: &mut ShardState, _ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    if disabled(st, out) {
        return ConnResult::Done;
    }
    on_state(st, out, |cs, out| {
        describe::write_slots(cs, out);
        false
    })
}

fn shards(st: &mut ShardState, _ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    if disabled(st, out) {
        return ConnResult::Done;
    }
    on_state(st, out, |cs, out| {
        describe::write_shards(cs, out);
        false
    })
}

fn links(st: &mut ShardState, _ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    if disabled(st, out) {
        return ConnResult::Done;
    }
    on_state(st, out, |cs, out| {
        describe::write_links(cs, out);
        false
    })
}

fn replicas(st: &mut ShardState, _ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    if disabled(st, out) {
        return ConnResult::Done;
    }
    let name = args[2].to_vec();
    on_state(st, out, move |cs, out| {
        match cs.lookup(&name) {
            None => out.error(&format!("ERR Unknown node {}", String::from_utf8_lossy(&name))),
            Some(n) if n.is_replica() => out.error("ERR The specified node is not a master"),
            Some(n) => {
                let master = n.id;
                let lines: Vec<String> = (0..cs.nodes().len())
                    .filter(|&i| cs.nodes()[i].is_replica() && cs.nodes()[i].master == Some(master))
                    .map(|i| crate::cluster::state::nodes_conf::node_line(cs, i))
                    .collect();
                out.array(lines.len());
                lines.iter().for_each(|l| out.bulk_str(l));
            }
        }
        false
    })
}

fn myid(st: &mut ShardState, _ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    if !disabled(st, out) {
        out.bulk_str(&st.cluster.myself.id);
    }
    ConnResult::Done
}

fn myshardid(st: &mut ShardState, _ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    if disabled(st, out) {
        return ConnResult::Done;
    }
    on_state(st, out, |cs, out| {
        out.bulk_str(cs.myself().shard_id.as_str());
        false
    })
}

#[rustfmt::skip]
const HELP: &[&str] = &[
    "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ADDSLOTS <slot> [<slot> ...]",
    "    Assign slots to current node.",
    "ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
    "    Assign slots which are between <start-slot> and <end-slot> to current node.",
    "BUMPEPOCH",
    "    Advance the cluster config epoch.",
    "COUNT-FAILURE-REPORTS <node-id>",
    "    Return number of failure reports for <node-id>.",
    "COUNTKEYSINSLOT <slot>",
    "    Return the number of keys in <slot>.",
    "DELSLOTS <slot> [<slot> ...]",
    "    Delete slots information from current node.",
    "DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
    "    Delete slots information which are between <start-slot> and <end-slot> from current node.",
    "FAILOVER [FORCE|TAKEOVER]",
    "    Promote current replica node to being a master.",
    "FORGET <node-id>",
    "    Remove a node from the cluster.",
    "GETKEYSINSLOT <slot> <count>",
    "    Return key names stored by current node in a slot.",
    "FLUSHSLOTS",
    "    Delete current node own slots information.",
    "INFO",
    "    Return information about the cluster.",
    "KEYSLOT <key>",
    "    Return the hash slot for <key>.",
    "MEET <ip> <port> [<bus-port>]",
    "    Connect nodes into a working cluster.",
    "MYID",
    "    Return the node id.",
    "NODES",
    "    Return cluster configuration seen by node. Output format:",
    "    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
    "REPLICATE <node-id>",
    "    Configure current node as replica to <node-id>.",
    "RESET [HARD|SOFT]",
    "    Reset current node (default: soft).",
    "SET-CONFIG-EPOCH <epoch>",
    "    Set config epoch of current node.",
    "SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)",
    "    Set slot state.",
    "REPLICAS <node-id>",
    "    Return <node-id> replicas.",
    "SAVECONFIG",
    "    Force saving cluster configuration on disk.",
    "SLOTS",
    "    Return information about slots range mappings. Each range is made of:",
    "    start, end, master and replicas IP addresses, ports and ids",
    "SHARDS",
    "    Return information about slot range mappings and the nodes associated with them.",
    "LINKS",
    "    Return information about all network links between this node and its peers.",
    "    Output format is an array where each array element is a map containing attributes of a link",
    "HELP",
    "    Prints this help.",
];

fn help(st: &mut ShardState, _ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    if !disabled(st, out) {
        out.array(HELP.len());
        HELP.iter().for_each(|l| out.simple(l));
    }
    ConnResult::Done
}

fn readonly(st: &mut ShardState, ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    set_client_flag(st, ci, out, |c| c.readonly = true)
}

fn readwrite(st: &mut ShardState, ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    set_client_flag(st, ci, out, |c| c.readonly = false)
}

fn asking(st: &mut ShardState, ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    set_client_flag(st, ci, out, |c| c.asking = true)
}

fn set_client_flag(
    st: &mut ShardState,
    ci: usize,
    out: &mut Out,
    f: fn(&mut crate::net::client::Client),
) -> ConnResult {
    if !disabled(st, out) {
        if let Some(c) = st.clients.get_mut(ci) {
            f(c);
        }
        out.ok();
    }
    ConnResult::Done
}
