//! Key-to-slot hashing, the slot → master map built from `CLUSTER SLOTS`, and parsing of
//! `-MOVED` / `-ASK` redirects.
//!
//! The map is a plain value each driver thread owns a copy of; updating it never takes a
//! lock and never touches the network (the caller fetches `CLUSTER SLOTS`).

use crate::resp::Value;

pub const SLOT_COUNT: usize = 16384;

/// Redis Cluster's slot for a key: CRC16-XMODEM of the hash tag (the bytes between the first
/// `{` and the next `}`, if non-empty) or of the whole key, modulo 16384.
pub fn key_slot(key: &[u8]) -> u16 {
    let hashed = hash_tag(key).unwrap_or(key);
    (crc16::State::<crc16::XMODEM>::calculate(hashed) as usize % SLOT_COUNT) as u16
}

fn hash_tag(key: &[u8]) -> Option<&[u8]> {
    let open = key.iter().position(|&b| b == b'{')?;
    let rest = &key[open + 1..];
    let close = rest.iter().position(|&b| b == b'}')?;
    if close == 0 {
        None
    } else {
        Some(&rest[..close])
    }
}

/// Which master owns each slot. Node indices are stable for the life of the map: a node that
/// disappears from `CLUSTER SLOTS` keeps its index (its connections are still open) but owns
/// no slots.
#[derive(Debug, Clone)]
pub struct ClusterMap {
    owner: Vec<u16>,
    nodes: Vec<String>,
}

/// Marks a slot no known master serves (the cluster is partly down or mid-reconfiguration).
pub const NO_NODE: u16 = u16::MAX;

impl ClusterMap {
    /// A map where one node owns everything: standalone mode uses the same routing code.
    pub fn single(addr: &str) -> ClusterMap {
        ClusterMap { owner: vec![0; SLOT_COUNT], nodes: vec![addr.to_string()] }
    }

    /// Builds a map from a `CLUSTER SLOTS` reply. `seed_host` replaces an empty node IP, which
    /// Redis reports for a node that does not know its own address.
    pub fn from_cluster_slots(reply: &Value, seed_host: &str) -> Result<ClusterMap, String> {
        let mut map = ClusterMap { owner: vec![NO_NODE; SLOT_COUNT], nodes: Vec::new() };
        map.apply_cluster_slots(reply, seed_host)?;
        Ok(map)
    }

    /// Replaces every slot assignment with what a fresh `CLUSTER SLOTS` reply says, keeping
    /// existing node indices and appending new nodes.
    pub fn apply_cluster_slots(&mut self, reply: &Value, seed_host: &str) -> Result<(), String> {
        let Value::Array(ranges) = reply else {
            return Err(format!("CLUSTER SLOTS: expected an array, got {reply:?}"));
        };
        let mut owner = vec![NO_NODE; SLOT_COUNT];
        for range in ranges {
            let Value::Array(fields) = range else {
                return Err("CLUSTER SLOTS: range is not an array".into());
            };
            let (Some(Value::Integer(first)), Some(Value::Integer(last)), Some(master)) =
                (fields.first(), fields.get(1), fields.get(2))
            else {
                return Err("CLUSTER SLOTS: range lacks start, end or master".into());
            };
            let addr = node_addr(master, seed_host)?;
            let node = self.node_index(&addr);
            let first = slot_from(*first)?;
            let last = slot_from(*last)?;
            if first > last {
                return Err(format!("CLUSTER SLOTS: range {first}-{last} is inverted"));
            }
            for slot in first..=last {
                owner[usize::from(slot)] = node;
            }
        }
        self.owner = owner;
        Ok(())
    }

    pub fn owner(&self, slot: u16) -> u16 {
        self.owner.get(usize::from(slot)).copied().unwrap_or(NO_NODE)
    }

    /// Records a `-MOVED` answer without waiting for a full refresh; returns the node index.
    pub fn set_owner(&mut self, slot: u16, addr: &str) -> u16 {
        let node = self.node_index(addr);
        if let Some(entry) = self.owner.get_mut(usize::from(slot)) {
            *entry = node;
        }
        node
    }

    /// Index of `addr`, appending it if it is new.
    pub fn node_index(&mut self, addr: &str) -> u16 {
        if let Some(i) = self.nodes.iter().position(|n| n == addr) {
            return i as u16;
        }
        assert!(self.nodes.len() < usize::from(NO_NODE), "too many cluster nodes");
        self.nodes.push(addr.to_string());
        (self.nodes.len() - 1) as u16
    }

    pub fn nodes(&self) -> &[String] {
        &self.nodes
    }

    /// Number of slots with an owner; a full map has all 16384.
    pub fn covered_slots(&self) -> usize {
        self.owner.iter().filter(|&&n| n != NO_NODE).count()
    }
}

fn slot_from(value: i64) -> Result<u16, String> {
    u16::try_from(value)
        .ok()
        .filter(|&s| usize::from(s) < SLOT_COUNT)
        .ok_or_else(|| format!("CLUSTER SLOTS: slot {value} out of range"))
}

fn node_addr(master: &Value, seed_host: &str) -> Result<String, String> {
    let Value::Array(parts) = master else {
        return Err("CLUSTER SLOTS: node is not an array".into());
    };
    let host = parts.first().and_then(Value::as_text).ok_or("CLUSTER SLOTS: node lacks a host")?;
    let Some(Value::Integer(port)) = parts.get(1) else {
        return Err("CLUSTER SLOTS: node lacks a port".into());
    };
    let host = if host.is_empty() || host == "?" { seed_host.to_string() } else { host };
    Ok(join_host_port(&host, *port))
}

/// "host:port", bracketing IPv6 literals so the result parses as a socket address.
pub fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// A redirect or retryable condition parsed from an error reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redirect<'a> {
    Moved { slot: u16, addr: &'a str },
    Ask { slot: u16, addr: &'a str },
    TryAgain,
    ClusterDown,
}

/// Classifies an error reply's text (without the leading `-`). Anything that is not a
/// well-formed redirect or retryable error returns `None` and is counted as a final error.
pub fn parse_redirect(text: &[u8]) -> Option<Redirect<'_>> {
    let word_end = text.iter().position(|&b| b == b' ').unwrap_or(text.len());
    let (word, rest) = text.split_at(word_end);
    match word {
        b"MOVED" | b"ASK" => {
            let rest = std::str::from_utf8(rest).ok()?.trim();
            let (slot, addr) = rest.split_once(' ')?;
            let slot: u16 = slot.parse().ok().filter(|&s| usize::from(s) < SLOT_COUNT)?;
            let addr = addr.trim();
            if addr.is_empty() {
                return None;
            }
            Some(if word == b"MOVED" { Redirect::Moved { slot, addr } } else { Redirect::Ask { slot, addr } })
        }
        b"TRYAGAIN" => Some(Redirect::TryAgain),
        b"CLUSTERDOWN" => Some(Redirect::ClusterDown),
        _ => None,
    }
}

/// The error's first word (`ERR`, `WRONGTYPE`, `MOVED` ...), used as its kind in reports.
pub fn error_kind(text: &[u8]) -> &[u8] {
    let end = text.iter().position(|&b| b == b' ').unwrap_or(text.len());
    &text[..end.min(32)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_match_redis() {
        // Values from the Redis Cluster specification and `CLUSTER KEYSLOT`.
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
        assert_eq!(key_slot(b"123456789"), 12739);
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(key_slot(b"foo{}{bar}"), key_slot(b"foo{}{bar}"));
        assert_ne!(key_slot(b"foo{}{bar}"), key_slot(b"bar"));
        assert_eq!(key_slot(b"foo{{bar}}zap"), key_slot(b"{bar"));
    }

    fn node(host: &str, port: i64) -> Value {
        Value::Array(vec![Value::Bulk(host.as_bytes().to_vec()), Value::Integer(port), Value::Bulk(b"id".to_vec())])
    }

    #[test]
    fn builds_and_updates_a_map() {
        let reply = Value::Array(vec![
            Value::Array(vec![Value::Integer(0), Value::Integer(8191), node("127.0.0.1", 7000)]),
            Value::Array(vec![Value::Integer(8192), Value::Integer(16383), node("", 7001)]),
        ]);
        let mut map = ClusterMap::from_cluster_slots(&reply, "10.0.0.9").unwrap();
        assert_eq!(map.covered_slots(), SLOT_COUNT);
        assert_eq!(map.nodes(), ["127.0.0.1:7000", "10.0.0.9:7001"]);
        assert_eq!(map.owner(8191), 0);
        assert_eq!(map.owner(8192), 1);
        let moved_to = map.set_owner(5, "127.0.0.1:7002");
        assert_eq!(moved_to, 2);
        assert_eq!(map.owner(5), 2);
        assert_eq!(map.set_owner(6, "127.0.0.1:7000"), 0);
    }

    #[test]
    fn rejects_malformed_slots() {
        let bad = Value::Array(vec![Value::Array(vec![Value::Integer(0), Value::Integer(20000), node("h", 1)])]);
        assert!(ClusterMap::from_cluster_slots(&bad, "h").is_err());
        assert!(ClusterMap::from_cluster_slots(&Value::Null, "h").is_err());
    }

    #[test]
    fn parses_redirects() {
        assert_eq!(
            parse_redirect(b"MOVED 3999 127.0.0.1:6381"),
            Some(Redirect::Moved { slot: 3999, addr: "127.0.0.1:6381" })
        );
        assert_eq!(parse_redirect(b"ASK 1 [::1]:7000"), Some(Redirect::Ask { slot: 1, addr: "[::1]:7000" }));
        assert_eq!(
            parse_redirect(b"TRYAGAIN Multiple keys request during rehashing of slot"),
            Some(Redirect::TryAgain)
        );
        assert_eq!(parse_redirect(b"CLUSTERDOWN The cluster is down"), Some(Redirect::ClusterDown));
        assert_eq!(parse_redirect(b"MOVED 99999 h:1"), None);
        assert_eq!(parse_redirect(b"MOVED"), None);
        assert_eq!(parse_redirect(b"ERR unknown"), None);
        assert_eq!(error_kind(b"WRONGTYPE Operation"), b"WRONGTYPE");
    }
}
