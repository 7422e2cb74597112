//! Comparisons that query the servers again after a reply: the encoding that decides whether
//! order matters (SMEMBERS, HGETALL...), full SCAN iterations, random picks checked against the
//! key's contents, SPOP (after which the subject's set is made equal to the reference's), and
//! DUMP followed by each server's RESTORE of the other server's payload.
//!
//! Only read commands go to the reference here; the only writes go to the subject, to undo a
//! random choice (SPOP), and RESTORE to both.

use std::collections::{BTreeMap, BTreeSet};

use crate::all::check::{same_multiset, show, Check};
use crate::all::gen::Cmd;
use crate::common::resp::escape;
use crate::common::{RawConn, Reply};

pub fn call(c: &mut RawConn, args: &[Vec<u8>]) -> Result<(Vec<u8>, Reply), String> {
    let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
    c.call(&refs)
}

fn owned(parts: &[&[u8]]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.to_vec()).collect()
}

fn same_kind(ra: &[u8], rb: &[u8]) -> bool {
    ra.first() == rb.first()
}

/// Runs the probe of `cmd.check`; `extra` counts the additional commands compared.
pub fn run(
    cmd: &Cmd,
    a: &mut RawConn,
    b: &mut RawConn,
    (ra, pa): (&[u8], &Reply),
    (rb, pb): (&[u8], &Reply),
    extra: &mut usize,
) -> Result<(), String> {
    let key = cmd.args.get(1).cloned().unwrap_or_default();
    match &cmd.check {
        Check::UnorderedUnlessCompact(n) => {
            if ra == rb {
                return Ok(());
            }
            let (_, enc) = call(a, &owned(&[b"OBJECT", b"ENCODING", &key]))?;
            let enc = enc.bytes().unwrap_or_default().to_vec();
            if matches!(enc.as_slice(), b"listpack" | b"intset" | b"ziplist") {
                return Err(format!("(the key is a {} on redis: the order must match too)", escape(&enc)));
            }
            if same_multiset(pa, pb, *n) {
                Ok(())
            } else {
                Err("(compared as multisets)".into())
            }
        }
        Check::RandomKey => match (pa, pb) {
            _ if ra == rb => Ok(()),
            (Reply::Bulk(_), Reply::Bulk(k)) => {
                let (_, exists) = call(a, &[b"EXISTS".to_vec(), k.clone()])?;
                if exists == Reply::Int(1) {
                    Ok(())
                } else {
                    Err(format!("tessera returned key {}, which does not exist on redis", escape(k)))
                }
            }
            _ => Err(String::new()),
        },
        Check::Scan => scan(cmd, a, b, (ra, pa), (rb, pb)),
        Check::RandMember => random(cmd, a, (ra, pa), (rb, pb)),
        Check::Spop => spop(cmd, a, b, (ra, pa), (rb, pb)),
        Check::Dump { dst, ttl, options } => dump(a, b, &key, (dst, ttl, options), (ra, pa), (rb, pb), extra),
        _ => {
            if ra == rb {
                Ok(())
            } else {
                Err(String::new())
            }
        }
    }
}

/// Every item a full SCAN/SSCAN/HSCAN/ZSCAN iteration returns, from the reply to the first call.
fn scan_all(
    c: &mut RawConn,
    first: &Reply,
    args: &[Vec<u8>],
    cursor_at: usize,
    group: usize,
) -> Result<BTreeSet<Vec<Reply>>, String> {
    let mut seen = BTreeSet::new();
    let mut reply = first.clone();
    for _ in 0..100_000 {
        let Some([cursor, batch]) = reply.items() else {
            return Err(format!("not [cursor, items]: {}", show(&reply)));
        };
        let (Some(cursor), Some(batch)) = (cursor.bytes(), batch.items()) else {
            return Err(format!("bad scan reply: {}", show(&reply)));
        };
        if batch.len() % group != 0 {
            return Err(format!("odd scan batch: {}", show(&reply)));
        }
        for g in batch.chunks(group) {
            seen.insert(g.to_vec());
        }
        if cursor == b"0" {
            return Ok(seen);
        }
        let mut next = args.to_vec();
        if let Some(slot) = next.get_mut(cursor_at) {
            *slot = cursor.to_vec();
        }
        reply = call(c, &next)?.1;
    }
    Err("the scan did not finish within 100000 calls".into())
}

fn scan(
    cmd: &Cmd,
    a: &mut RawConn,
    b: &mut RawConn,
    (ra, pa): (&[u8], &Reply),
    (rb, pb): (&[u8], &Reply),
) -> Result<(), String> {
    if pa.is_error() || pb.is_error() || !same_kind(ra, rb) {
        return if ra == rb { Ok(()) } else { Err(String::new()) };
    }
    let name = cmd.name();
    let cursor_at = if name == "SCAN" { 1 } else { 2 };
    let group = if name == "HSCAN" || name == "ZSCAN" { 2 } else { 1 };
    let sa = scan_all(a, pa, &cmd.args, cursor_at, group).map_err(|e| format!("redis: {e}"))?;
    let sb = scan_all(b, pb, &cmd.args, cursor_at, group).map_err(|e| format!("tessera: {e}"))?;
    if sa == sb {
        return Ok(());
    }
    let only = |x: &BTreeSet<Vec<Reply>>, y: &BTreeSet<Vec<Reply>>| {
        x.difference(y)
            .take(10)
            .map(|g| g.iter().map(show).collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Err(format!("(full iteration as sets) only on redis: [{}]; only on tessera: [{}]", only(&sa, &sb), only(&sb, &sa)))
}

/// (member, value) pairs of a flat or paired reply.
fn pairs(items: &[Reply], with_values: bool) -> Result<Vec<(Reply, Option<Reply>)>, String> {
    if !with_values {
        return Ok(items.iter().map(|r| (r.clone(), None)).collect());
    }
    if items.iter().all(|r| matches!(r, Reply::Array(p) if p.len() == 2)) && !items.is_empty() {
        return Ok(items
            .iter()
            .filter_map(|r| match r {
                Reply::Array(p) => Some((p.first()?.clone(), Some(p.get(1)?.clone()))),
                _ => None,
            })
            .collect());
    }
    if !items.len().is_multiple_of(2) {
        return Err("odd flat reply with values".into());
    }
    Ok(items.chunks(2).map(|c| (c[0].clone(), Some(c[1].clone()))).collect())
}

/// The key's contents on the reference: member → value (hash value, zset score, nothing).
fn contents(a: &mut RawConn, name: &str, key: &[u8]) -> Result<BTreeMap<Reply, Option<Reply>>, String> {
    let (q, with): (Vec<Vec<u8>>, bool) = match name {
        "SRANDMEMBER" | "SPOP" => (owned(&[b"SMEMBERS", key]), false),
        "HRANDFIELD" => (owned(&[b"HGETALL", key]), true),
        _ => (owned(&[b"ZRANGE", key, b"0", b"-1", b"WITHSCORES"]), true),
    };
    let (_, r) = call(a, &q)?;
    let items: Vec<Reply> = match &r {
        Reply::Map(m) => m.iter().flat_map(|(k, v)| [k.clone(), v.clone()]).collect(),
        other => other.items().map(|v| v.to_vec()).unwrap_or_default(),
    };
    Ok(pairs(&items, with)?.into_iter().collect())
}

fn random(cmd: &Cmd, a: &mut RawConn, (ra, pa): (&[u8], &Reply), (rb, pb): (&[u8], &Reply)) -> Result<(), String> {
    if ra == rb {
        return Ok(());
    }
    if pa.is_error() || pb.is_error() || pa.is_nil() || pb.is_nil() || !same_kind(ra, rb) {
        return Err("(different reply kinds)".into());
    }
    let name = cmd.name();
    let key = cmd.args.get(1).cloned().unwrap_or_default();
    let all = contents(a, &name, &key)?;
    if cmd.args.len() == 2 {
        return if all.contains_key(pb) { Ok(()) } else { Err(format!("{} is not in the key", show(pb))) };
    }
    let count: i64 = cmd
        .args
        .get(2)
        .and_then(|c| String::from_utf8_lossy(c).parse().ok())
        .ok_or_else(|| "count is not a number".to_string())?;
    let with = cmd.args.len() >= 4;
    let (ia, ib) = (pa.items().unwrap_or(&[]), pb.items().unwrap_or(&[]));
    let (got_a, got) = (pairs(ia, with)?, pairs(ib, with)?);
    let want = if all.is_empty() {
        0
    } else if count >= 0 {
        (count as usize).min(all.len())
    } else {
        count.unsigned_abs() as usize
    };
    if got.len() != want || got_a.len() != want {
        return Err(format!("{} picks on tessera, {} on redis, want {want}", got.len(), got_a.len()));
    }
    for (m, v) in &got {
        match all.get(m) {
            None => return Err(format!("{} is not in the key", show(m))),
            Some(value) if with && value != v => {
                return Err(format!(
                    "{} comes with {:?}, the key holds {:?}",
                    show(m),
                    v.as_ref().map(show),
                    value.as_ref().map(show)
                ))
            }
            _ => {}
        }
    }
    if count > 0 {
        let distinct: BTreeSet<&Reply> = got.iter().map(|(m, _)| m).collect();
        if distinct.len() != got.len() {
            return Err("repeated picks for a positive count".into());
        }
    }
    Ok(())
}

fn members(r: &Reply) -> Vec<Reply> {
    match r {
        Reply::Bulk(_) => vec![r.clone()],
        other => other.items().map(|v| v.to_vec()).unwrap_or_default(),
    }
}

fn spop(
    cmd: &Cmd,
    a: &mut RawConn,
    b: &mut RawConn,
    (ra, pa): (&[u8], &Reply),
    (rb, pb): (&[u8], &Reply),
) -> Result<(), String> {
    if ra == rb {
        return Ok(());
    }
    if pa.is_error() || pb.is_error() || pa.is_nil() || pb.is_nil() || !same_kind(ra, rb) {
        return Err("(different reply kinds)".into());
    }
    let key = cmd.args.get(1).cloned().unwrap_or_default();
    let (popped_a, popped_b) = (members(pa), members(pb));
    let set_a: BTreeSet<Reply> = contents(a, "SPOP", &key)?.into_keys().collect();
    let set_b: BTreeSet<Reply> = contents(b, "SPOP", &key)?.into_keys().collect();
    let pop_a: BTreeSet<Reply> = popped_a.iter().cloned().collect();
    let pop_b: BTreeSet<Reply> = popped_b.iter().cloned().collect();
    if popped_a.len() != popped_b.len() || pop_b.len() != popped_b.len() {
        return Err(format!(
            "{} popped on tessera ({} distinct), {} on redis",
            popped_b.len(),
            pop_b.len(),
            popped_a.len()
        ));
    }
    if pop_b.iter().any(|m| set_b.contains(m)) {
        return Err("tessera popped members it still holds".into());
    }
    let before_a: BTreeSet<&Reply> = set_a.iter().chain(pop_a.iter()).collect();
    let before_b: BTreeSet<&Reply> = set_b.iter().chain(pop_b.iter()).collect();
    if before_a != before_b {
        return Err("the sets before the pop differ (popped plus remaining)".into());
    }
    // Undo the random choice: give tessera's set the reference's remaining members.
    let add: Vec<Vec<u8>> = pop_b.difference(&pop_a).filter_map(|m| m.bytes().map(|x| x.to_vec())).collect();
    let rem: Vec<Vec<u8>> = pop_a.difference(&pop_b).filter_map(|m| m.bytes().map(|x| x.to_vec())).collect();
    if !add.is_empty() {
        let mut q = vec![b"SADD".to_vec(), key.clone()];
        q.extend(add);
        call(b, &q)?;
    }
    if !rem.is_empty() {
        let mut q = vec![b"SREM".to_vec(), key];
        q.extend(rem);
        call(b, &q)?;
    }
    Ok(())
}

fn dump(
    a: &mut RawConn,
    b: &mut RawConn,
    src: &[u8],
    (dst, ttl, options): (&Vec<u8>, &Vec<u8>, &Vec<Vec<u8>>),
    (ra, pa): (&[u8], &Reply),
    (rb, pb): (&[u8], &Reply),
    extra: &mut usize,
) -> Result<(), String> {
    let (Reply::Bulk(payload_a), Reply::Bulk(payload_b)) = (pa, pb) else {
        return if ra == rb { Ok(()) } else { Err(String::new()) };
    };
    let (_, enc) = call(a, &owned(&[b"OBJECT", b"ENCODING", src]))?;
    let (_, typ) = call(a, &owned(&[b"TYPE", src]))?;
    let enc = enc.bytes().unwrap_or_default().to_vec();
    // known difference: tessera's LZF compressor (strings and listpacks over 20 bytes in a
    // payload) picks other back-references than Redis's, so payloads are not compared byte for
    // byte. Each server restores the *other* server's payload instead, which checks that both
    // read each other's format and rebuild the same value.
    // A hash-table hash small enough comes back as a listpack in the dump's (arbitrary) order.
    if enc == b"hashtable" && typ.bytes() == Some(b"hash") {
        return Ok(());
    }
    let restore = |payload: &[u8]| {
        let mut q = vec![b"RESTORE".to_vec(), dst.clone(), ttl.clone(), payload.to_vec()];
        q.extend(options.iter().cloned());
        q
    };
    let (xa, _) = call(a, &restore(payload_b))?;
    let (xb, _) = call(b, &restore(payload_a))?;
    *extra += 1;
    if xa != xb {
        return Err(format!(
            "RESTORE {} {} <the other server's payload> {} replied differently\nredis:   {}\ntessera: {}",
            escape(dst),
            escape(ttl),
            options.iter().map(|o| escape(o)).collect::<Vec<_>>().join(" "),
            escape(&xa),
            escape(&xb)
        ));
    }
    Ok(())
}
