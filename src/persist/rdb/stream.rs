//! Streams in RDB form, as Redis 7.0 writes them (type 19, STREAM_LISTPACKS_2) and as older
//! versions wrote them (type 15, read only):
//!
//! ```text
//! node count | (master ID as a 16-byte string, node listpack as a string) per node
//! length | last ID (ms, seq) | first ID | max deleted ID | entries added     (first three: 19 only)
//! group count | per group: name | last ID | entries read (19 only)
//!     | PEL: count | (raw 16-byte ID, delivery time 8 bytes LE, delivery count) per entry
//!     | consumers: count | per consumer: name | seen time 8 bytes LE | count | raw IDs
//! ```
//! Node listpacks are copied as they are: our stream nodes hold Redis's byte layout already.
//! Loading checks them through `StreamValue::from_parts` and the groups through
//! `ConsumerGroup::load`; any inconsistency is an error with the offset of the value.

use super::read::Reader;
use super::write::{put_len, put_string};
use super::{kind, RdbError};
use crate::store::types::stream::{StreamId, StreamValue, INVALID_ENTRIES_READ};

fn put_id_raw(out: &mut Vec<u8>, id: StreamId) {
    out.extend_from_slice(&id.to_be_bytes());
}

/// The body of a stream value (type 19).
pub fn put_stream(out: &mut Vec<u8>, s: &StreamValue, compress: bool) {
    put_len(out, s.node_count() as u64);
    for (master, lp) in s.nodes() {
        put_stream_node(out, master, lp, compress);
    }
    put_stream_tail(out, s, compress);
}

/// One node of a stream's body: its master ID and its listpack.
pub fn put_stream_node(out: &mut Vec<u8>, master: StreamId, lp: &[u8], compress: bool) {
    put_string(out, &master.to_be_bytes(), compress);
    put_string(out, lp, compress);
}

/// What follows a stream's nodes: length, IDs, counters, and the consumer groups.
pub fn put_stream_tail(out: &mut Vec<u8>, s: &StreamValue, compress: bool) {
    put_len(out, s.len() as u64);
    for id in [s.last_id(), s.first_id(), s.max_deleted_entry_id()] {
        put_len(out, id.ms);
        put_len(out, id.seq);
    }
    put_len(out, s.entries_added());
    put_len(out, s.groups().len() as u64);
    for (name, g) in s.groups() {
        put_string(out, name, compress);
        put_len(out, g.last_id.ms);
        put_len(out, g.last_id.seq);
        // Written as an unsigned length, so "unknown" (-1) takes the 64-bit form, as in Redis.
        put_len(out, g.entries_read as u64);
        put_len(out, g.pel().len() as u64);
        for (id, p) in g.pel() {
            put_id_raw(out, *id);
            out.extend_from_slice(&p.delivery_time_ms.to_le_bytes());
            put_len(out, p.delivery_count);
        }
        put_len(out, g.consumers().len() as u64);
        for (cname, c) in g.consumers() {
            put_string(out, cname, compress);
            out.extend_from_slice(&c.seen_time_ms.to_le_bytes());
            put_len(out, c.pending().len() as u64);
            for id in c.pending() {
                put_id_raw(out, *id);
            }
        }
    }
}

fn id_raw(r: &mut Reader<'_>) -> Result<StreamId, RdbError> {
    let b = r.bytes(16)?;
    let mut k = [0u8; 16];
    k.copy_from_slice(b);
    Ok(StreamId::from_be_bytes(k))
}

fn id_lens(r: &mut Reader<'_>) -> Result<StreamId, RdbError> {
    Ok(StreamId { ms: r.length()?, seq: r.length()? })
}

/// Reads a stream of type `k` (15 or 19); `at` is the value's offset, for errors.
pub fn read_stream(r: &mut Reader<'_>, k: u8, at: usize) -> Result<StreamValue, RdbError> {
    let v2 = k == kind::STREAM_LISTPACKS_2;
    let bad = |msg: &str| RdbError::new(at, format!("Bad stream value: {msg}"));
    let n = r.count()?;
    let mut nodes = Vec::new();
    for _ in 0..n {
        let key = r.string()?;
        let Ok(key) = <[u8; 16]>::try_from(&key[..]) else {
            return Err(bad("node key entry is not the size of a stream ID"));
        };
        let lp = r.string()?.into_owned();
        nodes.push((StreamId::from_be_bytes(key), lp));
    }
    let length = r.length()?;
    let last_id = id_lens(r)?;
    let (first_id, max_deleted, entries_added) =
        if v2 { (Some(id_lens(r)?), id_lens(r)?, r.length()?) } else { (None, StreamId::default(), length) };
    let mut s = match first_id {
        Some(first) => StreamValue::from_parts(nodes, length, last_id, first, max_deleted, entries_added),
        None => {
            // Older files do not store the first ID: it is the first live entry's.
            let probe =
                StreamValue::from_parts(nodes.clone(), length, last_id, StreamId::default(), max_deleted, length)
                    .map_err(&bad)?;
            let first = probe.first_live_id().unwrap_or_default();
            StreamValue::from_parts(nodes, length, last_id, first, max_deleted, entries_added)
        }
    }
    .map_err(&bad)?;
    let groups = r.count()?;
    for _ in 0..groups {
        let name = r.string()?.into_owned();
        let last = id_lens(r)?;
        let entries_read =
            if v2 { r.length()? as i64 } else { s.estimate_distance(last).unwrap_or(INVALID_ENTRIES_READ) };
        if !s.create_group(&name, last, entries_read) {
            return Err(bad("duplicated consumer group name"));
        }
        let mut pel = Vec::new();
        for _ in 0..r.count()? {
            let id = id_raw(r)?;
            let t = r.u64_le()? as i64;
            pel.push((id, t, r.length()?));
        }
        let mut consumers = Vec::new();
        for _ in 0..r.count()? {
            let cname = r.string()?.into_owned();
            let seen = r.u64_le()? as i64;
            let mut ids = Vec::new();
            for _ in 0..r.count()? {
                ids.push(id_raw(r)?);
            }
            consumers.push((cname, seen, ids));
        }
        let g = s.group_mut(&name).ok_or_else(|| bad("group vanished"))?;
        g.load(pel, consumers).map_err(&bad)?;
    }
    Ok(s)
}

/// Skips a stream value of type `k` without building it.
pub fn skip_stream(r: &mut Reader<'_>, k: u8) -> Result<(), RdbError> {
    let v2 = k == kind::STREAM_LISTPACKS_2;
    for _ in 0..r.count()? {
        r.skip_string()?;
        r.skip_string()?;
    }
    for _ in 0..(if v2 { 8 } else { 3 }) {
        r.length()?;
    }
    for _ in 0..r.count()? {
        r.skip_string()?;
        for _ in 0..(if v2 { 3 } else { 2 }) {
            r.length()?;
        }
        for _ in 0..r.count()? {
            r.bytes(16 + 8)?;
            r.length()?;
        }
        for _ in 0..r.count()? {
            r.skip_string()?;
            r.bytes(8)?;
            let ids = r.count()?;
            r.bytes(usize::try_from(ids).unwrap_or(usize::MAX).saturating_mul(16))?;
        }
    }
    Ok(())
}
