//! `cluster-config-file` (nodes.conf) in Redis 7.0's format, and the CLUSTER NODES line it is
//! made of: one line per node, then `vars currentEpoch N lastVoteEpoch M`.
//!
//! ```text
//! <id> <ip>:<port>@<cport>[,<hostname>] <flags> <master|-> <ping-sent> <pong-recv> <config-epoch> <link-state> <slot|start-end>... [<slot>->-<id>] [<slot>-<-<id>]
//! ```
//!
//! The file is outside data: parsing never panics and reports the first bad line. Lines Redis
//! 7.2 writes (`,hostname,shard-id=...` aux fields) are accepted too. Myself's shard id is kept
//! as an extra `myShardId` variable on the vars line, which Redis 7.0 skips with a warning.
//! Owns only the text format and the atomic rewrite; it never decides what the state is.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use super::node::{flag, ClusterNode, NodeId};
use super::ClusterState;
use crate::cluster::view::UNASSIGNED;
use crate::limits::SLOT_COUNT;

/// One node's line as CLUSTER NODES prints it, without the newline
/// (`clusterGenNodeDescription`).
pub fn node_line(cs: &ClusterState, idx: usize) -> String {
    node_line_with(cs, idx, &cs.node_slot_ranges(idx))
}

fn node_line_with(cs: &ClusterState, idx: usize, ranges: &[(u16, u16)]) -> String {
    use std::fmt::Write as _;
    let Some(n) = cs.nodes().get(idx) else {
        return String::new();
    };
    let mut s = String::with_capacity(128);
    let _ = write!(s, "{} {}:{}@{}", n.id, n.ip, n.port, n.cport);
    if !n.hostname.is_empty() {
        let _ = write!(s, ",{}", n.hostname);
    }
    let _ = write!(s, " {} ", flag::describe(n.flags));
    match n.master {
        Some(m) => s.push_str(m.as_str()),
        None => s.push('-'),
    }
    // A replica shows its master's config epoch.
    let epoch = match n.master.filter(|_| n.is_replica()).and_then(|m| cs.node_index(&m)) {
        Some(m) => cs.nodes()[m].config_epoch,
        None => n.config_epoch,
    };
    let link = if n.link_connected || n.is_myself() { "connected" } else { "disconnected" };
    let _ = write!(s, " {} {} {} {}", n.ping_sent_ms, n.pong_received_ms, epoch, link);
    for &(a, b) in ranges {
        if a == b {
            let _ = write!(s, " {a}");
        } else {
            let _ = write!(s, " {a}-{b}");
        }
    }
    if n.is_myself() {
        // Open slots, in slot order; a slot both migrating and importing shows as migrating.
        let mut open: BTreeMap<u16, String> = BTreeMap::new();
        for (slot, id) in cs.importing_from.iter() {
            open.insert(*slot, format!(" [{slot}-<-{id}]"));
        }
        for (slot, id) in cs.migrating_to.iter() {
            open.insert(*slot, format!(" [{slot}->-{id}]"));
        }
        open.values().for_each(|v| s.push_str(v));
    }
    s
}

/// The CLUSTER NODES text: every node's line, each ending in `\n`; myself first.
pub fn nodes_text(cs: &ClusterState, skip_flags: u16) -> String {
    let mut s = String::new();
    // Every node's ranges in one pass over the slot table, not one pass per node.
    let ranges = cs.all_slot_ranges();
    for (i, n) in cs.nodes().iter().enumerate() {
        if n.flags & skip_flags != 0 {
            continue;
        }
        s.push_str(&node_line_with(cs, i, ranges.get(i).map_or(&[][..], |r| r.as_slice())));
        s.push('\n');
    }
    s
}

/// The whole file: nodes (not those still in handshake, as Redis) and the vars line.
pub fn render(cs: &ClusterState) -> String {
    let mut s = nodes_text(cs, flag::HANDSHAKE);
    s.push_str(&format!(
        "vars currentEpoch {} lastVoteEpoch {} myShardId {}\n",
        cs.current_epoch,
        cs.last_vote_epoch,
        cs.myself().shard_id
    ));
    s
}

/// What a file holds: nodes with myself first, slot owners (indexes into `nodes`), open
/// slots and epochs.
pub struct Parsed {
    pub nodes: Vec<ClusterNode>,
    pub slot_owner: Vec<u16>,
    pub migrating_to: BTreeMap<u16, NodeId>,
    pub importing_from: BTreeMap<u16, NodeId>,
    pub current_epoch: u64,
    pub last_vote_epoch: u64,
}

/// A parse error: 1-based line number and what is wrong with it.
pub type LineError = (usize, String);

pub fn parse(text: &[u8]) -> Result<Parsed, LineError> {
    let mut nodes: Vec<ClusterNode> = Vec::new();
    // Slots per node line (by node index) until myself is known and moved to index 0.
    let mut claims: Vec<(usize, u16, u16)> = Vec::new();
    let mut p = Parsed {
        nodes: Vec::new(),
        slot_owner: vec![UNASSIGNED; SLOT_COUNT],
        migrating_to: BTreeMap::new(),
        importing_from: BTreeMap::new(),
        current_epoch: 0,
        last_vote_epoch: 0,
    };
    let mut my_shard_id: Option<NodeId> = None;
    let mut myself: Option<(usize, usize)> = None;
    for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
        let lineno = i + 1;
        let line = std::str::from_utf8(raw).map_err(|_| (lineno, "not valid UTF-8".to_string()))?;
        let argv: Vec<&str> = line.split_ascii_whitespace().collect();
        let Some(&first) = argv.first() else { continue };
        if first.eq_ignore_ascii_case("vars") {
            if argv.len().is_multiple_of(2) {
                return Err((lineno, "the vars line needs name value pairs".into()));
            }
            for kv in argv[1..].chunks(2) {
                let (k, v) = (kv[0], kv[1]);
                if k.eq_ignore_ascii_case("currentEpoch") {
                    p.current_epoch = parse_u64(v).ok_or((lineno, format!("bad currentEpoch '{v}'")))?;
                } else if k.eq_ignore_ascii_case("lastVoteEpoch") {
                    p.last_vote_epoch = parse_u64(v).ok_or((lineno, format!("bad lastVoteEpoch '{v}'")))?;
                } else if k.eq_ignore_ascii_case("myShardId") {
                    my_shard_id = Some(NodeId::parse(v.as_bytes()).ok_or((lineno, format!("bad myShardId '{v}'")))?);
                }
                // Unknown variables are skipped, as Redis does (newer versions add some).
            }
            continue;
        }
        let err = |why: String| (lineno, why);
        if argv.len() < 8 {
            return Err(err(format!("a node line needs at least 8 fields, found {}", argv.len())));
        }
        let id = NodeId::parse(first.as_bytes()).ok_or_else(|| err(format!("invalid node id '{first}'")))?;
        if nodes.iter().any(|n| n.id == id) {
            return Err(err(format!("node {id} is listed twice")));
        }
        let mut n = ClusterNode::new(id, 0);
        parse_address(argv[1], &mut n).map_err(err)?;
        for name in argv[2].split(',') {
            let f = flag::from_name(name).ok_or_else(|| err(format!("unknown flag '{name}'")))?;
            n.flags |= f;
        }
        if argv[3] != "-" {
            n.master =
                Some(NodeId::parse(argv[3].as_bytes()).ok_or_else(|| err(format!("invalid master id '{}'", argv[3])))?);
        }
        n.ping_sent_ms = parse_u64(argv[4]).ok_or_else(|| err(format!("bad ping-sent '{}'", argv[4])))?;
        n.pong_received_ms = parse_u64(argv[5]).ok_or_else(|| err(format!("bad pong-recv '{}'", argv[5])))?;
        n.config_epoch = parse_u64(argv[6]).ok_or_else(|| err(format!("bad config epoch '{}'", argv[6])))?;
        if argv[7] != "connected" && argv[7] != "disconnected" {
            return Err(err(format!("bad link state '{}'", argv[7])));
        }
        let idx = nodes.len();
        if n.is_myself() {
            if myself.is_some() {
                return Err(err("a second node is flagged myself".into()));
            }
            myself = Some((idx, lineno));
            n.link_connected = true;
        }
        for arg in &argv[8..] {
            if let Some(open) = arg.strip_prefix('[') {
                let (slot, dir, other) = parse_open_slot(open).ok_or_else(|| err(format!("bad open slot '{arg}'")))?;
                if n.is_myself() {
                    match dir {
                        OpenDir::Migrating => p.migrating_to.insert(slot, other),
                        OpenDir::Importing => p.importing_from.insert(slot, other),
                    };
                }
                continue;
            }
            let (a, b) = parse_slot_range(arg).ok_or_else(|| err(format!("invalid slot or range '{arg}'")))?;
            claims.push((idx, a, b));
        }
        nodes.push(n);
    }
    let Some((me, me_line)) = myself else {
        let last = text
            .split(|&b| b == b'\n')
            .enumerate()
            .filter(|(_, l)| !l.trim_ascii().is_empty())
            .last()
            .map_or(1, |(i, _)| i + 1);
        return Err((last, "no node is flagged myself".into()));
    };
    if nodes[me].is_replica() && nodes[me].master.is_none() {
        return Err((me_line, "myself is a replica without a master".into()));
    }
    // Myself goes first; the other nodes keep their order.
    let me_node = nodes.remove(me);
    nodes.insert(0, me_node);
    let new_index = |old: usize| -> usize {
        match old.cmp(&me) {
            std::cmp::Ordering::Equal => 0,
            std::cmp::Ordering::Less => old + 1,
            std::cmp::Ordering::Greater => old,
        }
    };
    if nodes.len() >= UNASSIGNED as usize {
        return Err((me_line, "too many nodes".into()));
    }
    for (old, a, b) in claims {
        let owner = new_index(old) as u16;
        for slot in a..=b {
            // As Redis: the first line claiming a slot keeps it.
            if let Some(o) = p.slot_owner.get_mut(slot as usize) {
                if *o == UNASSIGNED {
                    *o = owner;
                }
            }
        }
    }
    if let Some(s) = my_shard_id {
        nodes[0].shard_id = s;
    }
    p.nodes = nodes;
    Ok(p)
}

enum OpenDir {
    Migrating,
    Importing,
}

/// `5->-<id>]` or `5-<-<id>]` (the `[` already removed).
fn parse_open_slot(s: &str) -> Option<(u16, OpenDir, NodeId)> {
    let s = s.strip_suffix(']')?;
    let (slot, dir, id) = if let Some((slot, id)) = s.split_once("->-") {
        (slot, OpenDir::Migrating, id)
    } else {
        let (slot, id) = s.split_once("-<-")?;
        (slot, OpenDir::Importing, id)
    };
    Some((parse_slot(slot)?, dir, NodeId::parse(id.as_bytes())?))
}

fn parse_slot_range(s: &str) -> Option<(u16, u16)> {
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (parse_slot(a)?, parse_slot(b)?);
            (a <= b).then_some((a, b))
        }
        None => parse_slot(s).map(|a| (a, a)),
    }
}

fn parse_slot(s: &str) -> Option<u16> {
    let v = parse_u64(s)?;
    (v < SLOT_COUNT as u64).then_some(v as u16)
}

/// Decimal digits only (no sign, no spaces), fitting in a u64.
fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_port(s: &str) -> Option<u16> {
    let v = parse_u64(s)?;
    u16::try_from(v).ok()
}

/// `ip:port@cport[,hostname][,key=value...]`; the IP may be empty or IPv6 (the last `:`
/// splits). Without `@cport` (files older than Redis 4) the bus port is port + 10000.
fn parse_address(s: &str, n: &mut ClusterNode) -> Result<(), String> {
    let (addr, aux) = match s.split_once(',') {
        Some((a, rest)) => (a, Some(rest)),
        None => (s, None),
    };
    let (ip, ports) = addr.rsplit_once(':').ok_or_else(|| format!("address '{s}' has no port"))?;
    let (port, cport) = match ports.split_once('@') {
        Some((p, c)) => {
            let p = parse_port(p).ok_or_else(|| format!("bad port in address '{s}'"))?;
            (p, parse_port(c).ok_or_else(|| format!("bad bus port in address '{s}'"))?)
        }
        None => {
            let p = parse_port(ports).ok_or_else(|| format!("bad port in address '{s}'"))?;
            (p, p.checked_add(10_000).ok_or_else(|| format!("bad port in address '{s}'"))?)
        }
    };
    n.ip = ip.to_string();
    n.port = port;
    n.cport = cport;
    if let Some(aux) = aux {
        for (i, field) in aux.split(',').enumerate() {
            match field.split_once('=') {
                Some(("shard-id", v)) => {
                    n.shard_id = NodeId::parse(v.as_bytes()).ok_or_else(|| format!("bad shard-id in address '{s}'"))?
                }
                Some(("hostname", v)) => n.hostname = v.to_string(),
                // Other 7.2+ fields (tls-port, nodename...) are not ours to keep.
                Some(_) => {}
                None if i == 0 => n.hostname = field.to_string(),
                None => return Err(format!("bad field '{field}' in address '{s}'")),
            }
        }
    }
    Ok(())
}

/// Writes `data` to `path` so that a crash leaves either the old or the new file: a temp
/// file in the same directory, fsync, rename over `path`, fsync the directory.
pub fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "nodes.conf".into());
    let tmp = dir.join(format!("{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(&dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
