//! What a write command puts in the AOF: the command itself when replaying it gives the same
//! result, otherwise its effect, as Redis's propagation does. Relative times become absolute
//! (`PEXPIREAT`, `SET ... PXAT`, `RESTORE ... ABSTTL`), random or time-dependent commands
//! become what they did (`SPOP` -> `SREM`, `INCRBYFLOAT` -> `SET ... KEEPTTL`, `XADD *` -> the
//! generated ID, `XCLAIM`/`XAUTOCLAIM` -> an `XCLAIM` of the claimed IDs), and blocking
//! commands that were served become their non-blocking form on the key that served them.
//!
//! Inputs: the command's arguments, its reply bytes and the store after it ran. Called only
//! for commands that changed something (`dirty` moved).

use crate::store::keyspace::NO_EXPIRE;
use crate::store::Store;

/// A reply we produced ourselves, decoded just enough to read popped elements and IDs.
#[derive(Debug, PartialEq)]
pub enum Reply<'a> {
    Bulk(&'a [u8]),
    Int(i64),
    Simple(&'a [u8]),
    Null,
    Array(Vec<Reply<'a>>),
    Other,
}

impl<'a> Reply<'a> {
    pub fn bytes(&self) -> Option<&'a [u8]> {
        match self {
            Reply::Bulk(b) | Reply::Simple(b) => Some(b),
            _ => None,
        }
    }
    pub fn items(&self) -> &[Reply<'a>] {
        match self {
            Reply::Array(v) => v,
            _ => &[],
        }
    }
}

/// Decodes one reply from `b`; RESP2 and RESP3 (maps and pushes read as arrays).
pub fn decode_reply(b: &[u8]) -> Option<(Reply<'_>, usize)> {
    let nl = b.iter().position(|&c| c == b'\n')?;
    if nl < 1 || b[nl - 1] != b'\r' {
        return None;
    }
    let line = &b[1..nl - 1];
    let rest = nl + 1;
    let num = || crate::resp::parse::parse_i64_strict(line);
    match *b.first()? {
        b'$' | b'=' | b'!' => {
            let n = num()?;
            if n < 0 {
                return Some((Reply::Null, rest));
            }
            let end = rest.checked_add(n as usize)?;
            let body = b.get(rest..end)?;
            Some((Reply::Bulk(body), end + 2))
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = num()?;
            if n < 0 {
                return Some((Reply::Null, rest));
            }
            let count = if b[0] == b'%' || b[0] == b'|' { n as usize * 2 } else { n as usize };
            let mut items = Vec::with_capacity(count.min(1024));
            let mut pos = rest;
            for _ in 0..count {
                let (r, used) = decode_reply(b.get(pos..)?)?;
                items.push(r);
                pos += used;
            }
            if b[0] == b'|' {
                // An attribute precedes the real reply.
                return decode_reply(b.get(pos..)?).map(|(r, u)| (r, pos + u));
            }
            Some((Reply::Array(items), pos))
        }
        b':' => Some((Reply::Int(num()?), rest)),
        b'+' | b',' => Some((Reply::Simple(line), rest)),
        b'_' => Some((Reply::Null, rest)),
        b'-' | b'(' | b'#' => Some((Reply::Other, rest)),
        _ => None,
    }
}

/// The commands to log for one executed write: each is an argument vector.
pub type Logged = Vec<Vec<Vec<u8>>>;

fn cmd(parts: &[&[u8]]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.to_vec()).collect()
}

fn deadline_of(store: &Store, db: usize, key: &[u8], now_ms: u64) -> Option<u64> {
    let e = store.dbs.get(db)?.peek(key)?;
    (!e.is_expired(now_ms)).then_some(e.expire_at_ms)
}

/// The key's TTL state after a TTL command: gone, a deadline, or none.
fn ttl_state(store: &Store, db: usize, key: &[u8], now_ms: u64) -> Vec<Vec<u8>> {
    match deadline_of(store, db, key, now_ms) {
        None => cmd(&[b"DEL", key]),
        Some(NO_EXPIRE) => cmd(&[b"PERSIST", key]),
        Some(d) => cmd(&[b"PEXPIREAT", key, d.to_string().as_bytes()]),
    }
}

/// A string key's value and deadline as one `SET`, or `DEL` when the SET left nothing.
fn set_state(store: &Store, db: usize, key: &[u8], value: &[u8], now_ms: u64) -> Vec<Vec<u8>> {
    match deadline_of(store, db, key, now_ms) {
        None => cmd(&[b"DEL", key]),
        Some(NO_EXPIRE) => cmd(&[b"SET", key, value]),
        Some(d) => cmd(&[b"SET", key, value, b"PXAT", d.to_string().as_bytes()]),
    }
}

fn eq(a: &[u8], b: &str) -> bool {
    a.eq_ignore_ascii_case(b.as_bytes())
}

/// Position of XADD's ID argument (after NOMKSTREAM and the trim options).
fn xadd_id_index(args: &[&[u8]]) -> Option<usize> {
    let mut i = 2;
    loop {
        let a = args.get(i)?;
        if eq(a, "nomkstream") {
            i += 1;
        } else if eq(a, "maxlen") || eq(a, "minid") {
            i += 1;
            if args.get(i).is_some_and(|x| *x == b"=" || *x == b"~") {
                i += 1;
            }
            i += 1;
        } else if eq(a, "limit") {
            i += 2;
        } else {
            return Some(i);
        }
    }
}

/// IDs in an XCLAIM/XAUTOCLAIM list: bulk IDs (JUSTID) or entries `[id, fields]`.
fn claimed_ids<'a>(list: &[Reply<'a>]) -> Vec<&'a [u8]> {
    list.iter()
        .filter_map(|r| match r {
            Reply::Bulk(id) => Some(*id),
            Reply::Array(e) => e.first().and_then(|x| x.bytes()),
            _ => None,
        })
        .collect()
}

fn parse_stream_id(b: &[u8]) -> Option<crate::store::types::stream::StreamId> {
    let s = std::str::from_utf8(b).ok()?;
    let (ms, seq) = s.split_once('-')?;
    Some(crate::store::types::stream::StreamId::new(ms.parse().ok()?, seq.parse().ok()?))
}

/// A consumer group's state for `ids` after a read or claim, as Redis propagates it: the
/// consumer, one `XCLAIM ... TIME RETRYCOUNT FORCE JUSTID LASTID` per pending ID (so delivery
/// times and counts reload exactly), and the group's last ID and read counter.
fn group_effects(store: &Store, db: usize, key: &[u8], group: &[u8], consumer: &[u8], ids: &[&[u8]]) -> Logged {
    let Some(crate::store::Value::Stream(s)) = store.dbs.get(db).and_then(|d| d.peek(key)).map(|e| &e.value) else {
        return Vec::new();
    };
    let Some(g) = s.group(group) else { return Vec::new() };
    let last = g.last_id.to_string();
    let mut out = vec![cmd(&[b"XGROUP", b"CREATECONSUMER", key, group, consumer])];
    for id in ids {
        let Some(p) = parse_stream_id(id).and_then(|sid| g.pel().get(&sid)) else { continue };
        let (t, n) = (p.delivery_time_ms.to_string(), p.delivery_count.to_string());
        out.push(cmd(&[
            b"XCLAIM",
            key,
            group,
            &p.consumer,
            b"0",
            id,
            b"TIME",
            t.as_bytes(),
            b"RETRYCOUNT",
            n.as_bytes(),
            b"FORCE",
            b"JUSTID",
            b"LASTID",
            last.as_bytes(),
        ]));
    }
    let mut setid = cmd(&[b"XGROUP", b"SETID", key, group, last.as_bytes()]);
    if g.entries_read >= 0 {
        setid.push(b"ENTRIESREAD".to_vec());
        setid.push(g.entries_read.to_string().into_bytes());
    }
    out.push(setid);
    out
}

/// The commands that reproduce what `args` (named `name`, as in the command table) did.
pub fn effects(name: &str, args: &[&[u8]], reply: &[u8], store: &Store, db: usize, now_ms: u64) -> Logged {
    let reply_val = || decode_reply(reply).map(|(r, _)| r).unwrap_or(Reply::Other);
    let key = args.get(1).copied().unwrap_or_default();
    match name {
        "expire" | "pexpire" | "expireat" | "pexpireat" | "persist" | "getex" => {
            vec![ttl_state(store, db, key, now_ms)]
        }
        "set" => vec![set_state(store, db, key, args.get(2).copied().unwrap_or_default(), now_ms)],
        "setex" | "psetex" => vec![set_state(store, db, key, args.get(3).copied().unwrap_or_default(), now_ms)],
        "incrbyfloat" => match reply_val().bytes() {
            Some(v) => vec![cmd(&[b"SET", key, v, b"KEEPTTL"])],
            None => Vec::new(),
        },
        "hincrbyfloat" => match (reply_val().bytes(), args.get(2)) {
            (Some(v), Some(f)) => vec![cmd(&[b"HSET", key, f, v])],
            _ => Vec::new(),
        },
        "spop" => {
            let r = reply_val();
            let members: Vec<&[u8]> = match &r {
                Reply::Bulk(m) => vec![m],
                Reply::Array(v) => v.iter().filter_map(|x| x.bytes()).collect(),
                _ => Vec::new(),
            };
            if members.is_empty() {
                return Vec::new();
            }
            let mut c = cmd(&[b"SREM", key]);
            c.extend(members.iter().map(|m| m.to_vec()));
            vec![c]
        }
        "blpop" | "brpop" => {
            let r = reply_val();
            match r.items().first().and_then(|k| k.bytes()) {
                Some(k) => vec![cmd(&[if name == "blpop" { b"LPOP" } else { b"RPOP" }, k])],
                None => Vec::new(),
            }
        }
        "brpoplpush" => vec![cmd(&[b"RPOPLPUSH", key, args.get(2).copied().unwrap_or_default()])],
        "blmove" => {
            let mut c = cmd(&[b"LMOVE"]);
            c.extend(args.iter().skip(1).take(4).map(|a| a.to_vec()));
            vec![c]
        }
        "blmpop" => {
            let r = reply_val();
            let items = r.items();
            let (Some(k), Some(popped)) = (items.first().and_then(|k| k.bytes()), items.get(1)) else {
                return Vec::new();
            };
            let left = args.iter().any(|a| eq(a, "left"));
            let n = popped.items().len().to_string();
            vec![cmd(&[if left { b"LPOP" } else { b"RPOP" }, k, n.as_bytes()])]
        }
        "bzpopmin" | "bzpopmax" => {
            let r = reply_val();
            let items = r.items();
            match (items.first().and_then(|k| k.bytes()), items.get(1).and_then(|m| m.bytes())) {
                (Some(k), Some(m)) => vec![cmd(&[b"ZREM", k, m])],
                _ => Vec::new(),
            }
        }
        "bzmpop" => {
            let r = reply_val();
            let items = r.items();
            let (Some(k), Some(popped)) = (items.first().and_then(|k| k.bytes()), items.get(1)) else {
                return Vec::new();
            };
            // RESP2: [[member, score], ...]; RESP3 may read as a flat map.
            let members: Vec<&[u8]> = match popped.items().first() {
                Some(Reply::Array(_)) => {
                    popped.items().iter().filter_map(|p| p.items().first().and_then(|m| m.bytes())).collect()
                }
                _ => popped.items().iter().step_by(2).filter_map(|m| m.bytes()).collect(),
            };
            let mut c = cmd(&[b"ZREM", k]);
            c.extend(members.iter().map(|m| m.to_vec()));
            vec![c]
        }
        "xadd" => {
            let r = reply_val();
            match (xadd_id_index(args), r.bytes()) {
                (Some(i), Some(id)) if i < args.len() => {
                    let mut c: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
                    c[i] = id.to_vec();
                    vec![c]
                }
                _ => vec![args.iter().map(|a| a.to_vec()).collect()],
            }
        }
        "xreadgroup" => {
            // XREADGROUP GROUP g c ... : the group state of every delivered ID.
            let (Some(g), Some(c)) = (args.get(2), args.get(3)) else { return Vec::new() };
            let r = reply_val();
            let items = r.items();
            // RESP2: [[key, entries], ...]; RESP3 (a map): [key, entries, key, entries].
            let pairs: Vec<(&[u8], &Reply)> = match items.first() {
                Some(Reply::Array(_)) => {
                    items.iter().filter_map(|p| Some((p.items().first()?.bytes()?, p.items().get(1)?))).collect()
                }
                _ => items.chunks(2).filter_map(|p| Some((p.first()?.bytes()?, p.get(1)?))).collect(),
            };
            let mut out = Vec::new();
            for (k, entries) in pairs {
                out.extend(group_effects(store, db, k, g, c, &claimed_ids(entries.items())));
            }
            out
        }
        "xclaim" | "xautoclaim" => {
            if args.len() < 4 {
                return Vec::new();
            }
            let r = reply_val();
            let ids = if name == "xclaim" {
                claimed_ids(r.items())
            } else {
                claimed_ids(r.items().get(1).map(|x| x.items()).unwrap_or(&[]))
            };
            let mut out = group_effects(store, db, key, args[2], args[3], &ids);
            // XAUTOCLAIM drops from the PEL the IDs whose entries were deleted.
            let deleted: Vec<&[u8]> =
                r.items().get(2).map(|d| d.items().iter().filter_map(|x| x.bytes()).collect()).unwrap_or_default();
            if name == "xautoclaim" && !deleted.is_empty() {
                let mut ack = cmd(&[b"XACK", key, args[2]]);
                ack.extend(deleted.iter().map(|d| d.to_vec()));
                out.push(ack);
            }
            out
        }
        "restore" | "restore-asking" => match (deadline_of(store, db, key, now_ms), args.get(3)) {
            (Some(d), Some(payload)) => {
                vec![cmd(&[b"RESTORE", key, d.to_string().as_bytes(), payload, b"REPLACE", b"ABSTTL"])]
            }
            _ => vec![cmd(&[b"DEL", key])],
        },
        _ => vec![args.iter().map(|a| a.to_vec()).collect()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Entry, StrValue, Value};

    const NOW: u64 = 1_700_000_000_000;

    fn strs(l: &Logged) -> Vec<String> {
        l.iter()
            .map(|c| c.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect::<Vec<_>>().join(" "))
            .collect()
    }

    fn store_with(key: &[u8], deadline: u64) -> Store {
        let mut s = Store::new(16);
        let mut e = Entry::new(Value::Str(StrValue::from_bytes(b"v")));
        e.expire_at_ms = deadline;
        s.dbs[0].insert(key, e);
        s
    }

    #[test]
    fn relative_times_become_absolute() {
        let s = store_with(b"k", NOW + 5000);
        let l = effects("expire", &[b"EXPIRE", b"k", b"5"], b":1\r\n", &s, 0, NOW);
        assert_eq!(strs(&l), vec![format!("PEXPIREAT k {}", NOW + 5000)]);
        let l = effects("set", &[b"SET", b"k", b"v", b"EX", b"5", b"GET"], b"$-1\r\n", &s, 0, NOW);
        assert_eq!(strs(&l), vec![format!("SET k v PXAT {}", NOW + 5000)]);
        let l = effects("setex", &[b"SETEX", b"k", b"5", b"v"], b"+OK\r\n", &s, 0, NOW);
        assert_eq!(strs(&l), vec![format!("SET k v PXAT {}", NOW + 5000)]);
        let gone = Store::new(16);
        let l = effects("expire", &[b"EXPIRE", b"k", b"-1"], b":1\r\n", &gone, 0, NOW);
        assert_eq!(strs(&l), vec!["DEL k"]);
        let kept = store_with(b"k", NO_EXPIRE);
        let l = effects("persist", &[b"PERSIST", b"k"], b":1\r\n", &kept, 0, NOW);
        assert_eq!(strs(&l), vec!["PERSIST k"]);
    }

    #[test]
    fn random_and_blocking_commands_log_their_effect() {
        let s = Store::new(16);
        let l = effects("spop", &[b"SPOP", b"s", b"2"], b"*2\r\n$1\r\na\r\n$1\r\nb\r\n", &s, 0, NOW);
        assert_eq!(strs(&l), vec!["SREM s a b"]);
        let l = effects("incrbyfloat", &[b"INCRBYFLOAT", b"f", b"1.5"], b"$3\r\n2.5\r\n", &s, 0, NOW);
        assert_eq!(strs(&l), vec!["SET f 2.5 KEEPTTL"]);
        let l = effects("blpop", &[b"BLPOP", b"a", b"b", b"0"], b"*2\r\n$1\r\nb\r\n$1\r\nx\r\n", &s, 0, NOW);
        assert_eq!(strs(&l), vec!["LPOP b"]);
        let l = effects(
            "blmpop",
            &[b"BLMPOP", b"0", b"1", b"l", b"RIGHT", b"COUNT", b"5"],
            b"*2\r\n$1\r\nl\r\n*2\r\n$1\r\nx\r\n$1\r\ny\r\n",
            &s,
            0,
            NOW,
        );
        assert_eq!(strs(&l), vec!["RPOP l 2"]);
        let l = effects("bzpopmin", &[b"BZPOPMIN", b"z", b"0"], b"*3\r\n$1\r\nz\r\n$1\r\nm\r\n$1\r\n1\r\n", &s, 0, NOW);
        assert_eq!(strs(&l), vec!["ZREM z m"]);
        let l = effects(
            "bzmpop",
            &[b"BZMPOP", b"0", b"1", b"z", b"MIN"],
            b"*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nm\r\n$1\r\n1\r\n",
            &s,
            0,
            NOW,
        );
        assert_eq!(strs(&l), vec!["ZREM z m"]);
        let l = effects(
            "xadd",
            &[b"XADD", b"x", b"MAXLEN", b"~", b"10", b"*", b"f", b"v"],
            b"$15\r\n1700000000000-0\r\n",
            &s,
            0,
            NOW,
        );
        assert_eq!(strs(&l), vec!["XADD x MAXLEN ~ 10 1700000000000-0 f v"]);
        // Consumer-group commands log the group's state; no stream here, nothing to log.
        let l = effects(
            "xreadgroup",
            &[b"XREADGROUP", b"GROUP", b"g", b"c", b"BLOCK", b"0", b"STREAMS", b"x", b">"],
            b"*0\r\n",
            &s,
            0,
            NOW,
        );
        assert!(l.is_empty());
    }

    #[test]
    fn deterministic_commands_are_logged_as_they_are() {
        let s = Store::new(16);
        let l = effects("lpush", &[b"LPUSH", b"l", b"a"], b":1\r\n", &s, 0, NOW);
        assert_eq!(strs(&l), vec!["LPUSH l a"]);
    }

    #[test]
    fn reply_decoder_reads_resp3_shapes() {
        let (r, n) = decode_reply(b"%1\r\n$1\r\na\r\n,1.5\r\n").expect("map");
        assert_eq!(n, 17);
        assert_eq!(r.items().len(), 2);
        assert!(decode_reply(b"$5\r\nab").is_none());
        assert!(decode_reply(b"").is_none());
    }

    #[test]
    fn group_reads_reload_with_their_delivery_times() {
        use crate::testing::harness::Harness;
        let setup = |h: &mut Harness| {
            for i in 1..=5 {
                h.run(&format!("XADD s {i}-0 f v"));
            }
            h.run("XGROUP CREATE s g 0");
        };
        let mut live = Harness::new();
        setup(&mut live);
        let args: [&[u8]; 8] = [b"XREADGROUP", b"GROUP", b"g", b"alice", b"COUNT", b"3", b"STREAMS", b"s"];
        let mut argv = args.to_vec();
        argv.push(b">");
        let reply = live.run_raw(&argv);
        let logged = effects("xreadgroup", &argv, &reply, &live.store, 0, NOW);
        assert!(strs(&logged).iter().any(|c| c.starts_with("XCLAIM s g alice 0 1-0 TIME")), "{:?}", strs(&logged));
        // Replayed an hour later, the PEL still says when the entries were delivered.
        let mut reload = Harness::new();
        setup(&mut reload);
        reload.now_ms = NOW + 3_600_000;
        for c in &logged {
            let v: Vec<&[u8]> = c.iter().map(|a| a.as_slice()).collect();
            assert!(!reload.run_bytes(&v).starts_with('-'), "{:?}", strs(&vec![c.clone()]));
        }
        live.now_ms = NOW + 3_600_000;
        assert_eq!(live.run("XPENDING s g - + 10"), reload.run("XPENDING s g - + 10"));
        assert_eq!(live.run("XINFO GROUPS s"), reload.run("XINFO GROUPS s"));
    }
}
