//! XRANGE XREVRANGE XLEN XREAD XREADGROUP.
//!
//! XREAD and XREADGROUP never block here. Their cores (`xread_core`, `xreadgroup_core`) serve
//! what is there and report `ReadOutcome::WouldBlock` when nothing was served and BLOCK was
//! given; the table's functions then write no reply. The blocking layer (`shard::blocking`)
//! parks the client and re-runs the command when a key is written, after `rewrite_dollar_ids`
//! has pinned every `$` to the ID it meant when the client blocked; every caller that may not
//! block (MULTI, the coordinator) writes the timeout reply, a null array.

use super::{
    cstr, nogroup_key_or_group, now_ms, parse_range_end, parse_range_start, parse_strict_id, read_stream, word_is,
    write_entry, write_id,
};
use crate::command::args::parse_i64;
use crate::command::spec::DataCtx;
use crate::error;
use crate::resp::Out;
use crate::store::events::class;
use crate::store::types::stream::StreamId;

fn range_generic(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out, rev: bool) {
    let (start_arg, end_arg) = if rev { (args[3], args[2]) } else { (args[2], args[3]) };
    let start = match parse_range_start(start_arg) {
        Ok(id) => id,
        Err(e) => return out.error(e),
    };
    let end = match parse_range_end(end_arg) {
        Ok(id) => id,
        Err(e) => return out.error(e),
    };
    let mut count: i64 = -1;
    let mut j = 4;
    while j < args.len() {
        if word_is(args[j], "count") && j + 1 < args.len() {
            match parse_i64(args[j + 1]) {
                Ok(n) => count = n.max(0),
                Err(e) => return out.error(e),
            }
            j += 2;
        } else {
            return out.error(error::SYNTAX);
        }
    }
    let s = match read_stream(ctx, args[1]) {
        Err(e) => return out.error(e),
        Ok(None) => return out.array(0),
        Ok(Some(s)) => s,
    };
    if count == 0 {
        return out.null_array();
    }
    let limit = if count < 0 { usize::MAX } else { count as usize };
    let entries: Vec<_> = s.range(start, end, rev).take(limit).collect();
    out.array(entries.len());
    for e in &entries {
        write_entry(out, e);
    }
}

/// XRANGE key start end [COUNT count]
pub(super) fn xrange(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    range_generic(ctx, args, out, false)
}

/// XREVRANGE key end start [COUNT count]
pub(super) fn xrevrange(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    range_generic(ctx, args, out, true)
}

/// XLEN key
pub(super) fn xlen(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    match read_stream(ctx, args[1]) {
        Err(e) => out.error(e),
        Ok(s) => out.int(s.map_or(0, |s| s.len() as i64)),
    }
}

/// What a read did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadOutcome {
    /// A reply was written (entries, an error, or a null array without BLOCK).
    Replied,
    /// Nothing to serve and BLOCK was given: no reply was written. The caller blocks the
    /// client or answers as a timeout does.
    WouldBlock,
}

/// Where a read starts for one stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Start {
    /// Entries after this ID (an explicit ID, or `$` resolved).
    After(StreamId),
    /// XREADGROUP `>`: entries never delivered to the group.
    New,
}

/// The parsed options of XREAD/XREADGROUP.
struct ReadArgs<'a> {
    block: bool,
    count: usize,
    group: Option<(&'a [u8], &'a [u8])>,
    noack: bool,
    streams_at: usize,
    nstreams: usize,
}

const ERR_UNBALANCED: &str =
    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.";

/// Redis's option loop of `xreadCommand`, errors in its order.
fn parse_read_args<'a>(args: &[&'a [u8]], xreadgroup: bool) -> Result<ReadArgs<'a>, &'static str> {
    let mut r = ReadArgs { block: false, count: 0, group: None, noack: false, streams_at: 0, nstreams: 0 };
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - i - 1;
        let o = args[i];
        if word_is(o, "block") && more > 0 {
            i += 1;
            // Milliseconds: an integer, not negative (Redis's getTimeoutFromObjectOrReply).
            let t = parse_i64(args[i]).map_err(|_| "ERR timeout is not an integer or out of range")?;
            if t < 0 {
                return Err("ERR timeout is negative");
            }
            r.block = true;
        } else if word_is(o, "count") && more > 0 {
            i += 1;
            r.count = parse_i64(args[i])?.max(0) as usize;
        } else if word_is(o, "streams") && more > 0 {
            r.streams_at = i + 1;
            let n = args.len() - r.streams_at;
            if !n.is_multiple_of(2) {
                return Err(ERR_UNBALANCED);
            }
            r.nstreams = n / 2;
            break;
        } else if word_is(o, "group") && more >= 2 {
            if !xreadgroup {
                return Err("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
            }
            r.group = Some((args[i + 1], args[i + 2]));
            i += 2;
        } else if word_is(o, "noack") {
            if !xreadgroup {
                return Err("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
            }
            r.noack = true;
        } else {
            return Err(error::SYNTAX);
        }
        i += 1;
    }
    if r.streams_at == 0 {
        return Err(error::SYNTAX);
    }
    if xreadgroup && r.group.is_none() {
        return Err("ERR Missing GROUP option for XREADGROUP");
    }
    Ok(r)
}

/// Resolves each stream's start: checks types and groups, reads `$` and `>`, parses IDs, in
/// Redis's order (stream by stream). Errors are replies.
fn resolve_starts(ctx: &mut DataCtx, args: &[&[u8]], r: &ReadArgs) -> Result<Vec<Start>, String> {
    let mut starts = Vec::with_capacity(r.nstreams);
    for i in 0..r.nstreams {
        let key = args[r.streams_at + i];
        let arg = args[r.streams_at + r.nstreams + i];
        let s = read_stream(ctx, key)?;
        if let Some((group, _)) = r.group {
            if s.as_ref().is_none_or(|s| s.group(group).is_none()) {
                return Err(nogroup_key_or_group(key, group, " in XREADGROUP with GROUP option"));
            }
        }
        let a = cstr(arg);
        if a == b"$" {
            if r.group.is_some() {
                return Err("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.".into());
            }
            starts.push(Start::After(s.map_or(StreamId::MIN, |s| s.last_id())));
        } else if a == b">" {
            if r.group.is_none() {
                return Err("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.".into());
            }
            starts.push(Start::New);
        } else {
            let id = parse_strict_id(arg, 0)?;
            // The largest ID is how Redis marks `>` internally, so it reads as `>` too.
            starts.push(if r.group.is_some() && id == StreamId::MAX { Start::New } else { Start::After(id) });
        }
    }
    Ok(starts)
}

/// XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]
pub(super) fn xread(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    // Nothing to serve under BLOCK writes nothing: the blocking layer (`shard::blocking`)
    // parks the client, and any caller that may not block writes the timeout reply.
    let _ = xread_core(ctx, args, out);
}

/// XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key
/// [key ...] id [id ...]
pub(super) fn xreadgroup(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    // As XREAD: no reply when it would block.
    let _ = xreadgroup_core(ctx, args, out);
}

/// XREAD without blocking: serves every stream with entries after its ID. Writes the reply
/// unless nothing was served and BLOCK was given (`WouldBlock`).
pub fn xread_core(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) -> ReadOutcome {
    read_generic(ctx, args, out, false)
}

/// XREADGROUP without blocking, as `xread_core`.
pub fn xreadgroup_core(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) -> ReadOutcome {
    read_generic(ctx, args, out, true)
}

fn read_generic(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out, xreadgroup: bool) -> ReadOutcome {
    let r = match parse_read_args(args, xreadgroup) {
        Ok(r) => r,
        Err(e) => {
            out.error(e);
            return ReadOutcome::Replied;
        }
    };
    let starts = match resolve_starts(ctx, args, &r) {
        Ok(s) => s,
        Err(e) => {
            out.error(&e);
            return ReadOutcome::Replied;
        }
    };
    let mut body = Vec::new();
    let mut served = 0;
    {
        let mut w = Out::new(&mut body, out.resp3);
        for (i, &from) in starts.iter().enumerate() {
            let key = args[r.streams_at + i];
            if serve_stream(ctx, key, from, &r, &mut w) {
                served += 1;
            }
        }
    }
    if served > 0 {
        // RESP3 answers a map of key -> entries; RESP2 an array of [key, entries] pairs.
        if out.resp3 {
            out.map(served);
        } else {
            out.array(served);
        }
        out.raw(&body);
        return ReadOutcome::Replied;
    }
    if r.block {
        return ReadOutcome::WouldBlock;
    }
    out.null_array();
    ReadOutcome::Replied
}

/// Serves one stream into `w` as `[key, entries]` (a map entry in RESP3); false when Redis
/// would not serve it synchronously.
fn serve_stream(ctx: &mut DataCtx, key: &[u8], from: Start, r: &ReadArgs, w: &mut Out) -> bool {
    let now = now_ms(ctx);
    let Ok(Some(s)) = read_stream(ctx, key) else {
        return false;
    };
    let Some((group, consumer)) = r.group else {
        let Start::After(after) = from else { return false };
        if s.last_live_id().is_none_or(|top| top <= after) {
            return false;
        }
        let limit = if r.count == 0 { usize::MAX } else { r.count };
        let start = after.incr().unwrap_or(StreamId::MIN);
        let entries: Vec<_> = s.range(start, StreamId::MAX, false).take(limit).collect();
        if !w.resp3 {
            w.array(2);
        }
        w.bulk(key);
        w.array(entries.len());
        for e in &entries {
            write_entry(w, e);
        }
        return true;
    };
    // The group's new entries are served only when the stream has some past its last ID;
    // a history read is always served, even when empty.
    let serve = match from {
        Start::After(_) => true,
        Start::New => match (s.last_live_id(), s.group(group)) {
            (Some(top), Some(g)) => top > g.last_id,
            _ => false,
        },
    };
    if !serve {
        // Nothing to serve: Redis does not even look the consumer up (nor create it).
        return false;
    }
    let mut created = false;
    if let Some(g) = s.group_mut(group) {
        if !g.touch_consumer(consumer, now) {
            created = g.create_consumer(consumer, now);
        }
    }
    if created {
        ctx.dirty(1);
        ctx.notify(class::STREAM, "xgroup-createconsumer", key);
    }
    let Ok(Some(s)) = read_stream_quiet(ctx, key) else {
        return false;
    };
    if !w.resp3 {
        w.array(2);
    }
    w.bulk(key);
    let mut body = Vec::new();
    let n = {
        let mut b = Out::new(&mut body, w.resp3);
        match from {
            Start::New => s.read_group_new(group, consumer, r.count, r.noack, now, |e| write_entry(&mut b, e)),
            Start::After(after) => {
                let start = after.incr().unwrap_or(StreamId::MIN);
                s.read_group_history(group, consumer, start, r.count, now, |id, e| match e {
                    Some(e) => write_entry(&mut b, e),
                    None => {
                        b.array(2);
                        write_id(&mut b, id);
                        b.null_array();
                    }
                })
            }
        }
    };
    w.array(n);
    w.raw(&body);
    ctx.dirty(1);
    true
}

/// The stream at `key` without counting a keyspace hit (the command looked it up already).
fn read_stream_quiet<'a>(
    ctx: &'a mut DataCtx,
    key: &[u8],
) -> Result<Option<&'a mut crate::store::types::stream::StreamValue>, &'static str> {
    super::write_stream(ctx, key)
}

/// For the blocking layer: the arguments of an XREAD call with every `$` replaced by the last
/// ID its stream has now (0-0 for a missing key), so running the command again later reads
/// exactly the entries added after the client blocked. Other arguments are copied unchanged;
/// a call that does not parse is returned as it is.
pub fn rewrite_dollar_ids(ctx: &mut DataCtx, args: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
    let Ok(r) = parse_read_args(args, false) else { return v };
    for i in 0..r.nstreams {
        let at = r.streams_at + r.nstreams + i;
        if cstr(args[at]) == b"$" {
            let last = match super::write_stream(ctx, args[r.streams_at + i]) {
                Ok(Some(s)) => s.last_id(),
                _ => StreamId::MIN,
            };
            v[at] = last.to_string().into_bytes();
        }
    }
    v
}

/// An entry copied out of a stream: its ID and its (field, value) pairs.
pub type OwnedEntry = (StreamId, Vec<(Vec<u8>, Vec<u8>)>);

/// For the blocking layer: the entries of the stream at `key` with IDs greater than `after`,
/// at most `count` (0 = all), as (ID, [(field, value)]). Empty when the key holds no stream.
pub fn entries_after(ctx: &mut DataCtx, key: &[u8], after: StreamId, count: usize) -> Vec<OwnedEntry> {
    let Ok(Some(s)) = super::write_stream(ctx, key) else { return Vec::new() };
    let Some(start) = after.incr() else { return Vec::new() };
    let limit = if count == 0 { usize::MAX } else { count };
    s.range(start, StreamId::MAX, false)
        .take(limit)
        .map(|e| (e.id, e.fields().map(|(f, v)| (f.to_vec(), v.to_vec())).collect()))
        .collect()
}
