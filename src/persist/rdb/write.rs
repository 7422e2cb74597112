//! Encoding values and keys into RDB bytes exactly as Redis 7.0 writes them: lengths in 6, 14,
//! 32 or 64 bits; strings of up to 11 bytes that are canonical 32-bit integers as int8/16/32;
//! strings over 20 bytes LZF-compressed when `rdbcompression` is on and it saves 4 bytes;
//! hashes and sorted sets as listpacks or as plain pairs by their encoding, sets as intsets or
//! members, lists as quicklist-2 nodes of listpacks, sorted sets with binary scores from the
//! highest to the lowest.
//!
//! Writes into a `Vec<u8>`; never fails.

use super::{kind, lzf, opcode, QUICKLIST_NODE_PACKED, QUICKLIST_NODE_PLAIN};
use crate::store::keyspace::{Entry, Lfu, NO_EXPIRE};
use crate::store::listpack::Listpack;
use crate::store::types::hash::HashValue;
use crate::store::types::list::ListValue;
use crate::store::types::set::SetValue;
use crate::store::types::zset::ZSetValue;
use crate::store::value::{StrValue, Value};

/// How values are written.
#[derive(Clone, Copy, Debug)]
pub struct WriteOpts {
    /// `rdbcompression`.
    pub compress: bool,
    /// `list-max-listpack-size`: how list elements are grouped into nodes.
    pub list_fill: i32,
    /// When set (an LRU `maxmemory-policy`), each key gets an IDLE opcode: seconds since its
    /// last access, measured from this unix time.
    pub idle_from_s: Option<u32>,
    /// When set (an LFU `maxmemory-policy`), each key gets a FREQ opcode: its counter decayed
    /// to this unix time in ms (Redis's `LFUDecrAndReturn`), with these settings.
    pub freq_at: Option<(Lfu, u64)>,
}

impl Default for WriteOpts {
    fn default() -> Self {
        WriteOpts { compress: true, list_fill: -2, idle_from_s: None, freq_at: None }
    }
}

impl WriteOpts {
    pub fn from_config(cfg: &crate::config::Config) -> Self {
        let lru = matches!(
            cfg.maxmemory_policy,
            crate::config::MaxmemoryPolicy::AllkeysLru | crate::config::MaxmemoryPolicy::VolatileLru
        );
        WriteOpts {
            compress: cfg.rdbcompression,
            list_fill: cfg.list_max_listpack_size,
            idle_from_s: lru.then(crate::store::keyspace::access_clock_now_s),
            freq_at: Lfu::of(cfg).map(|l| (l, crate::shard::unix_ms())),
        }
    }
}

pub fn put_len(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.push(0x40 | (n >> 8) as u8);
        out.push(n as u8);
    } else if n <= u32::MAX as u64 {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// The int8/16/32 string encoding of `v`, if it fits one.
fn put_encoded_int(out: &mut Vec<u8>, v: i64) -> bool {
    if let Ok(b) = i8::try_from(v) {
        out.push(0xC0);
        out.push(b as u8);
    } else if let Ok(h) = i16::try_from(v) {
        out.push(0xC1);
        out.extend_from_slice(&h.to_le_bytes());
    } else if let Ok(w) = i32::try_from(v) {
        out.push(0xC2);
        out.extend_from_slice(&w.to_le_bytes());
    } else {
        return false;
    }
    true
}

/// A string, integer-encoded or compressed when Redis would do so.
pub fn put_string(out: &mut Vec<u8>, s: &[u8], compress: bool) {
    if s.len() <= 11 {
        if let Some(v) = crate::resp::parse::parse_i64_strict(s) {
            if put_encoded_int(out, v) {
                return;
            }
        }
    }
    if compress && s.len() > 20 {
        if let Some(c) = lzf::compress(s, s.len() - 4) {
            out.push(0xC3);
            put_len(out, c.len() as u64);
            put_len(out, s.len() as u64);
            out.extend_from_slice(&c);
            return;
        }
    }
    put_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// An integer string value (Redis's `rdbSaveLongLongAsStringObject`).
pub fn put_int_string(out: &mut Vec<u8>, v: i64) {
    if !put_encoded_int(out, v) {
        let digits = v.to_string();
        put_len(out, digits.len() as u64);
        out.extend_from_slice(digits.as_bytes());
    }
}

/// The RDB type byte `v` is written with.
pub fn value_kind(v: &Value) -> u8 {
    match v {
        Value::Str(_) => kind::STRING,
        Value::List(_) => kind::LIST_QUICKLIST_2,
        Value::Set(s) => match s {
            SetValue::Intset(_) => kind::SET_INTSET,
            SetValue::Table(_) => kind::SET,
        },
        Value::ZSet(z) => match z {
            ZSetValue::Listpack(_) => kind::ZSET_LISTPACK,
            ZSetValue::Skiplist(_) => kind::ZSET_2,
        },
        Value::Hash(h) => match h {
            HashValue::Listpack(_) => kind::HASH_LISTPACK,
            HashValue::Table(_) => kind::HASH,
        },
        Value::Stream(_) => kind::STREAM_LISTPACKS_2,
    }
}

/// The value's body (after its type byte and key).
pub fn put_value(out: &mut Vec<u8>, v: &Value, opts: &WriteOpts) {
    let c = opts.compress;
    match v {
        Value::Str(StrValue::Int(n)) => put_int_string(out, *n),
        Value::Str(StrValue::Bytes { data, .. }) => put_string(out, data, c),
        Value::List(l) => put_list(out, l, opts),
        Value::Set(s) => match s {
            SetValue::Intset(is) => put_string(out, &super::intset::encode(is), c),
            SetValue::Table(t) => {
                put_len(out, t.len() as u64);
                for m in t.iter() {
                    put_string(out, m, c);
                }
            }
        },
        Value::ZSet(z) => match z {
            ZSetValue::Listpack(lp) => {
                let mut b = Listpack::new();
                for (m, score) in lp.iter() {
                    b.append_str(m);
                    b.append_str(crate::resp::write::fmt_score(score).as_bytes());
                }
                put_string(out, &b.into_bytes(), c);
            }
            ZSetValue::Skiplist(_) => {
                put_len(out, z.len() as u64);
                // Highest first: loading then inserts every element at the head of the skiplist.
                for (m, score) in z.iter_from(z.len().saturating_sub(1), true) {
                    put_string(out, m, c);
                    out.extend_from_slice(&score.to_le_bytes());
                }
            }
        },
        Value::Hash(h) => match h {
            HashValue::Listpack(pairs) => {
                let mut b = Listpack::new();
                for (f, x) in pairs.iter() {
                    b.append_str(f);
                    b.append_str(x);
                }
                put_string(out, &b.into_bytes(), c);
            }
            HashValue::Table(t) => {
                put_len(out, t.len() as u64);
                for (f, x) in t.iter() {
                    put_string(out, f, c);
                    put_string(out, x, c);
                }
            }
        },
        Value::Stream(s) => super::stream::put_stream(out, s, c),
    }
}

/// Redis keeps elements of 1 GiB and more in nodes of their own ("plain" nodes).
const PLAIN_ELEMENT_BYTES: usize = 1 << 30;
/// Redis's allowance for an element's listpack overhead when deciding whether it fits a node
/// (checked against redis-server 7.0.15's node sizes).
const NODE_ESTIMATE_OVERHEAD_BYTES: usize = 8;
const SIZE_SAFETY_LIMIT_BYTES: usize = 8192;
const NODE_LIMIT_BYTES: [usize; 5] = [4096, 8192, 16384, 32768, 65536];

/// Whether a node of `bytes` bytes and `count` elements is over what `fill` allows.
fn node_exceeds(fill: i32, bytes: usize, count: usize) -> bool {
    if fill >= 0 {
        count > (fill.max(1) as usize) || bytes > SIZE_SAFETY_LIMIT_BYTES
    } else {
        let level = ((-(fill as i64)) - 1).clamp(0, 4) as usize;
        bytes > NODE_LIMIT_BYTES[level]
    }
}

/// A list as quicklist-2 nodes, grouped as Redis groups elements pushed at the tail.
fn put_list(out: &mut Vec<u8>, l: &ListValue, opts: &WriteOpts) {
    let mut p = ListPacker::new(opts.list_fill);
    for e in l.iter() {
        p.push(e);
    }
    p.finish();
    put_len(out, p.nodes() as u64);
    for i in 0..p.nodes() {
        p.put_node(out, i, opts.compress);
    }
}

enum PackedNode {
    Packed(Vec<u8>),
    Plain(Vec<u8>),
}

/// Groups a list's elements into quicklist-2 nodes the way Redis does, one element at a time
/// (so a snapshot can pack a large list over several slices), then writes them out.
pub struct ListPacker {
    fill: i32,
    cur: Listpack,
    nodes: Vec<PackedNode>,
}

impl ListPacker {
    pub fn new(fill: i32) -> ListPacker {
        ListPacker { fill, cur: Listpack::new(), nodes: Vec::new() }
    }

    pub fn push(&mut self, e: &[u8]) {
        if e.len() >= PLAIN_ELEMENT_BYTES {
            if !self.cur.is_empty() {
                self.nodes.push(PackedNode::Packed(std::mem::take(&mut self.cur).into_bytes()));
            }
            self.nodes.push(PackedNode::Plain(e.to_vec()));
            return;
        }
        let grown = self.cur.bytes() + e.len() + NODE_ESTIMATE_OVERHEAD_BYTES;
        if !self.cur.is_empty() && node_exceeds(self.fill, grown, self.cur.len() + 1) {
            self.nodes.push(PackedNode::Packed(std::mem::take(&mut self.cur).into_bytes()));
        }
        self.cur.append_str(e);
    }

    /// Closes the last node; call once, after the last `push`.
    pub fn finish(&mut self) {
        if !self.cur.is_empty() {
            self.nodes.push(PackedNode::Packed(std::mem::take(&mut self.cur).into_bytes()));
        }
    }

    /// Nodes made so far (all of them after `finish`): the length the value starts with.
    pub fn nodes(&self) -> usize {
        self.nodes.len()
    }

    /// Writes node `i` (container kind and listpack or plain element).
    pub fn put_node(&self, out: &mut Vec<u8>, i: usize, compress: bool) {
        match self.nodes.get(i) {
            Some(PackedNode::Packed(lp)) => {
                put_len(out, QUICKLIST_NODE_PACKED);
                put_string(out, lp, compress);
            }
            Some(PackedNode::Plain(e)) => {
                put_len(out, QUICKLIST_NODE_PLAIN);
                put_string(out, e, compress);
            }
            None => {}
        }
    }
}

/// One key: its expiry (if any), idle time and LFU counter (if asked), type, key and value.
pub fn put_entry(out: &mut Vec<u8>, key: &[u8], e: &Entry, opts: &WriteOpts) {
    put_key_head(out, key, e, opts);
    put_value(out, &e.value, opts);
}

/// A key record up to its value: EXPIRETIME_MS/IDLE/FREQ as the options ask, the type byte
/// and the key. `put_value` (or a value written a slice at a time) follows.
pub fn put_key_head(out: &mut Vec<u8>, key: &[u8], e: &Entry, opts: &WriteOpts) {
    let k = value_kind(&e.value);
    if e.expire_at_ms != NO_EXPIRE {
        out.push(opcode::EXPIRETIME_MS);
        out.extend_from_slice(&(e.expire_at_ms as i64).to_le_bytes());
    }
    if let Some(now_s) = opts.idle_from_s {
        out.push(opcode::IDLE);
        put_len(out, now_s.saturating_sub(e.access_s) as u64);
    }
    if let Some((l, now_ms)) = opts.freq_at {
        out.push(opcode::FREQ);
        out.push(e.lfu_freq(now_ms, l));
    }
    out.push(k);
    put_string(out, key, opts.compress);
}

/// What the file header says about the writer.
#[derive(Clone, Debug)]
pub struct Aux {
    pub ctime_s: u64,
    pub used_mem_bytes: u64,
    pub aof_base: bool,
}

fn put_aux(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.push(opcode::AUX);
    put_string(out, name.as_bytes(), false);
    put_string(out, value, false);
}

/// `REDIS0010` and the aux fields Redis 7.0 writes, plus our own version in a field of its own
/// (Redis logs and skips aux fields it does not know).
pub fn put_header(out: &mut Vec<u8>, aux: &Aux) {
    out.extend_from_slice(format!("REDIS{:04}", super::RDB_VERSION).as_bytes());
    put_aux(out, "redis-ver", crate::observe::info::REDIS_VERSION.as_bytes());
    put_aux(out, "redis-bits", b"64");
    put_aux(out, "ctime", aux.ctime_s.to_string().as_bytes());
    put_aux(out, "used-mem", aux.used_mem_bytes.to_string().as_bytes());
    put_aux(out, "aof-base", if aux.aof_base { b"1" } else { b"0" });
    put_aux(out, "tessera-ver", env!("CARGO_PKG_VERSION").as_bytes());
}

/// SELECTDB and RESIZEDB before a database's keys.
pub fn put_db_header(out: &mut Vec<u8>, db: usize, keys: u64, expires: u64) {
    out.push(opcode::SELECTDB);
    put_len(out, db as u64);
    out.push(opcode::RESIZEDB);
    put_len(out, keys);
    put_len(out, expires);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        put_string(&mut out, v, true);
        out
    }

    #[test]
    fn strings_as_redis_writes_them() {
        assert_eq!(s(b"hello"), b"\x05hello");
        assert_eq!(s(b"12345"), [0xC1, 0x39, 0x30]);
        assert_eq!(s(b"-1"), [0xC0, 0xFF]);
        assert_eq!(s(b"2147483647"), [0xC2, 0xFF, 0xFF, 0xFF, 0x7F]);
        assert_eq!(s(b"2147483648"), b"\x0a2147483648"); // past int32: plain
        assert_eq!(s(b"012"), b"\x03012"); // not canonical
        assert_eq!(s(&[b'a'; 50]), [0xC3, 0x09, 0x32, 0x01, 0x61, 0x61, 0xe0, 0x25, 0x00, 0x01, 0x61, 0x61]);
        let mut out = Vec::new();
        put_int_string(&mut out, 1 << 40);
        assert_eq!(out, b"\x0d1099511627776");
    }

    #[test]
    fn lengths() {
        for (n, want) in [
            (0u64, vec![0u8]),
            (63, vec![63]),
            (64, vec![0x40, 64]),
            (16383, vec![0x7f, 0xff]),
            (16384, vec![0x80, 0, 0, 0x40, 0]),
            (1 << 32, vec![0x81, 0, 0, 0, 1, 0, 0, 0, 0]),
        ] {
            let mut out = Vec::new();
            put_len(&mut out, n);
            assert_eq!(out, want, "{n}");
        }
    }
}
