//! How the two servers' replies to one command are compared, and the comparisons that need
//! nothing but the two replies (the ones that also work on an element of an EXEC reply). The
//! comparisons that query the servers again (encodings, random picks, SPOP, SCAN, DUMP) are the
//! runner's (`runner/probe.rs`).
//!
//! Every loose comparison here is loose for a reason Redis itself gives (hash-table order,
//! clocks); none may be loosened to let tessera pass.

use crate::common::Reply;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// Byte for byte.
    Exact,
    /// Same reply type and the same groups of `n` elements in any order (a map's pairs in any
    /// order): KEYS, SINTER/SUNION/SDIFF, SORT over a hash table's order.
    Unordered(usize),
    /// Exact when redis-server holds the key (`args[1]`) in a compact encoding (listpack,
    /// intset), else `Unordered(n)`: SMEMBERS, HGETALL, HKEYS, HVALS.
    UnorderedUnlessCompact(usize),
    /// Integers: negative values exactly, others within this distance (TTLs).
    Tolerance(i64),
    /// Stream replies with times (idle, seen-time, delivery times) masked.
    Masked,
    /// XADD with a `*` ID: an ID on both servers, or the same error.
    AutoId,
    /// EXEC: element by element with the checks of the queued commands.
    Exec,
    /// RANDOMKEY: nil on both, or the subject's key exists on the reference.
    RandomKey,
    /// SCAN/SSCAN/HSCAN/ZSCAN from cursor 0: iterate to the end on both, compare the sets.
    Scan,
    /// SRANDMEMBER/HRANDFIELD/ZRANDMEMBER: shape, count, distinctness, membership.
    RandMember,
    /// SPOP: like RandMember, then the subject's set is made equal to the reference's again.
    Spop,
    /// DUMP `args[1]`, then each server RESTOREs the other server's payload with these arguments
    /// (`dst ttl` first; the payload goes after them, options follow).
    Dump { dst: Vec<u8>, ttl: Vec<u8>, options: Vec<Vec<u8>> },
}

impl Check {
    /// Whether a reply compared this way can sit inside an EXEC reply.
    pub fn txn_safe(&self) -> bool {
        matches!(
            self,
            Check::Exact
                | Check::Unordered(_)
                | Check::UnorderedUnlessCompact(_)
                | Check::Tolerance(_)
                | Check::Masked
                | Check::AutoId
        )
    }

    /// The check inside EXEC, where the encoding cannot be asked for the moment of execution.
    pub fn in_txn(self) -> Check {
        match self {
            Check::UnorderedUnlessCompact(n) => Check::Unordered(n),
            other => other,
        }
    }

    /// Whether the runner must query the servers after the reply.
    pub fn needs_probe(&self) -> bool {
        matches!(
            self,
            Check::UnorderedUnlessCompact(_)
                | Check::RandomKey
                | Check::Scan
                | Check::RandMember
                | Check::Spop
                | Check::Dump { .. }
        )
    }
}

/// Compares two parsed replies under a check that needs no further queries.
pub fn agree(check: &Check, a: &Reply, b: &Reply) -> Result<(), String> {
    if a == b {
        return Ok(());
    }
    match check {
        Check::Unordered(n) | Check::UnorderedUnlessCompact(n) => {
            if same_multiset(a, b, *n) {
                Ok(())
            } else {
                Err("(compared as multisets)".into())
            }
        }
        Check::Tolerance(tol) => match (a.int(), b.int()) {
            (Some(x), Some(y)) if x >= 0 && y >= 0 && (x - y).abs() <= *tol => Ok(()),
            _ => Err(format!("(non-negative integers may differ by {tol})")),
        },
        Check::Masked => {
            if mask(a) == mask(b) {
                Ok(())
            } else {
                Err("(times masked)".into())
            }
        }
        Check::AutoId => {
            if looks_like_id(a) && looks_like_id(b) {
                Ok(())
            } else {
                Err("(both must be IDs or the same error)".into())
            }
        }
        _ => Err(String::new()),
    }
}

/// Elements of an aggregate reply as groups of `n` (a map's pairs as groups of 2).
pub fn groups(r: &Reply, n: usize) -> Option<Vec<Vec<Reply>>> {
    match r {
        Reply::Map(pairs) => Some(pairs.iter().map(|(k, v)| vec![k.clone(), v.clone()]).collect()),
        Reply::Array(v) | Reply::Set(v) | Reply::Push(v) => {
            let n = n.max(1);
            if v.len() % n != 0 {
                return None;
            }
            Some(v.chunks(n).map(|c| c.to_vec()).collect())
        }
        _ => None,
    }
}

fn kind(r: &Reply) -> std::mem::Discriminant<Reply> {
    std::mem::discriminant(r)
}

pub fn same_multiset(a: &Reply, b: &Reply, n: usize) -> bool {
    if kind(a) != kind(b) {
        return false;
    }
    match (groups(a, n), groups(b, n)) {
        (Some(mut x), Some(mut y)) => {
            x.sort();
            y.sort();
            x == y
        }
        _ => false,
    }
}

fn is_key(r: &Reply, name: &str) -> bool {
    matches!(r, Reply::Bulk(b) | Reply::Simple(b) if b == name.as_bytes())
}

fn is_time_key(r: &Reply) -> bool {
    is_key(r, "idle") || is_key(r, "seen-time") || is_key(r, "active-time") || is_key(r, "inactive")
}

/// Replaces the times in a stream reply by 0: values after `idle`/`seen-time` keys (maps, and
/// RESP2's flat maps), the time column of pending rows (`[id, consumer, time, count]` and
/// `[id, time, count]`).
pub fn mask(r: &Reply) -> Reply {
    let zero = Reply::Int(0);
    match r {
        Reply::Map(pairs) => Reply::Map(
            pairs.iter().map(|(k, v)| (k.clone(), if is_time_key(k) { zero.clone() } else { mask(v) })).collect(),
        ),
        Reply::Array(items) => {
            let is_id = |x: &Reply| looks_like_id(x);
            match items.as_slice() {
                [id, consumer, Reply::Int(_), Reply::Int(c)] if is_id(id) && matches!(consumer, Reply::Bulk(_)) => {
                    return Reply::Array(vec![id.clone(), consumer.clone(), zero, Reply::Int(*c)]);
                }
                [id, Reply::Int(_), Reply::Int(c)] if is_id(id) => {
                    return Reply::Array(vec![id.clone(), zero, Reply::Int(*c)]);
                }
                _ => {}
            }
            let mut out = Vec::with_capacity(items.len());
            let mut i = 0;
            while i < items.len() {
                let k = &items[i];
                if i + 1 < items.len() && is_time_key(k) && matches!(items[i + 1], Reply::Int(_)) {
                    out.push(k.clone());
                    out.push(zero.clone());
                    i += 2;
                } else {
                    out.push(mask(k));
                    i += 1;
                }
            }
            Reply::Array(out)
        }
        other => other.clone(),
    }
}

pub fn looks_like_id(r: &Reply) -> bool {
    let Some(b) = r.bytes() else { return false };
    let s = String::from_utf8_lossy(b);
    let mut parts = s.split('-');
    matches!((parts.next(), parts.next(), parts.next()),
        (Some(a), Some(b), None) if a.parse::<u64>().is_ok() && b.parse::<u64>().is_ok())
}

/// A reply written back as RESP text, for failure messages about elements of a reply.
pub fn show(r: &Reply) -> String {
    let mut out = Vec::new();
    write(r, &mut out);
    crate::common::resp::escape(&out)
}

fn write(r: &Reply, out: &mut Vec<u8>) {
    let line = |out: &mut Vec<u8>, t: u8, body: &[u8]| {
        out.push(t);
        out.extend_from_slice(body);
        out.extend_from_slice(b"\r\n");
    };
    let blob = |out: &mut Vec<u8>, t: u8, body: &[u8]| {
        line(out, t, body.len().to_string().as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\r\n");
    };
    match r {
        Reply::Simple(b) => line(out, b'+', b),
        Reply::Error(b) => line(out, b'-', b),
        Reply::Int(i) => line(out, b':', i.to_string().as_bytes()),
        Reply::NilBulk => line(out, b'$', b"-1"),
        Reply::Bulk(b) => blob(out, b'$', b),
        Reply::NilArray => line(out, b'*', b"-1"),
        Reply::Null => line(out, b'_', b""),
        Reply::Double(b) => line(out, b',', b),
        Reply::Bool(t) => line(out, b'#', if *t { b"t" } else { b"f" }),
        Reply::BigNum(b) => line(out, b'(', b),
        Reply::BlobError(b) => blob(out, b'!', b),
        Reply::Verbatim(b) => blob(out, b'=', b),
        Reply::Array(v) | Reply::Set(v) | Reply::Push(v) => {
            let t = match r {
                Reply::Array(_) => b'*',
                Reply::Set(_) => b'~',
                _ => b'>',
            };
            line(out, t, v.len().to_string().as_bytes());
            for x in v {
                write(x, out);
            }
        }
        Reply::Map(pairs) | Reply::Attr(pairs, _) => {
            line(out, if matches!(r, Reply::Map(_)) { b'%' } else { b'|' }, pairs.len().to_string().as_bytes());
            for (k, v) in pairs {
                write(k, out);
                write(v, out);
            }
            if let Reply::Attr(_, inner) = r {
                write(inner, out);
            }
        }
    }
}
