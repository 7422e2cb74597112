//! Routing and execution of one parsed command on the shard holding the client: resolve the
//! spec, check auth and cluster ownership, then run inline, forward to the owning shard, or
//! hand a multi-shard command to the coordinator (`coord`).

use smallvec::SmallVec;

use crate::cluster::slot::{key_slot, owner_shard};
use crate::cluster::view::Route;
use crate::command::spec::{flag, CommandSpec, ConnResult, Exec, Split};
use crate::command::table;
use crate::error;
use crate::resp::Out;

use super::mesh::{ForwardBatch, ForwardReply};
use super::ShardState;

pub enum Dispatch {
    /// The reply is in `out`.
    Replied,
    /// Forwarded to another shard; the reply arrives with a `ForwardReply` for `seq`.
    Forwarded,
    /// The reply comes from a future; the connection reads nothing more until it does.
    Later(futures::future::LocalBoxFuture<'static, Vec<u8>>),
    /// The reply is in `out`; close the connection after sending it.
    Close,
}

/// Appends `args` as one RESP multibulk request.
pub fn encode_command(args: &[&[u8]], raw: &mut Vec<u8>) {
    let mut o = Out::new(raw, false);
    o.array(args.len());
    for a in args {
        o.bulk(a);
    }
}

pub fn dispatch(st: &mut ShardState, ci: usize, seq: u64, args: &[&[u8]], out: &mut Out) -> Dispatch {
    st.stats.total_commands_processed += 1;
    let in_multi = st.clients.get(ci).is_some_and(|c| c.multi.is_some());
    if args.first().and_then(|n| table::lookup(n)).is_none() {
        if in_multi {
            st.clients[ci].multi_error = true;
        }
        out.error_bytes(&error::unknown_command_bytes(args));
        return Dispatch::Replied;
    }
    let spec = match table::resolve(args) {
        Ok(s) => s,
        Err(e) => {
            if in_multi {
                st.clients[ci].multi_error = true;
            }
            out.error(&e);
            return Dispatch::Replied;
        }
    };
    if st.clients[ci].subscribed() && !out.resp3 && !crate::command::family::pubsub::allowed_when_subscribed(spec.name)
    {
        out.error(&format!(
            "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
            spec.name
        ));
        return Dispatch::Replied;
    }
    // Redis's `writeCommandsDeniedByDiskError`: after a failed background save, writes (and
    // PING) are refused while save points are set.
    if (spec.has(flag::WRITE) || spec.name == "ping") && crate::persist::status::writes_refused(&st.cfg) {
        if in_multi {
            st.clients[ci].multi_error = true;
        }
        out.error(crate::persist::status::MISCONF);
        return Dispatch::Replied;
    }
    // After a failed AOF write (everysec/no), writes are refused until a retry succeeds.
    if spec.has(flag::WRITE) {
        if let Some(e) = st.aof.as_deref().and_then(|a| a.write_error.as_deref()) {
            if in_multi {
                st.clients[ci].multi_error = true;
            }
            out.error(&format!("MISCONF Errors writing to the AOF file: {e}"));
            return Dispatch::Replied;
        }
    }
    if in_multi && !spec.has(flag::NO_MULTI) && !super::txn::runs_inside_multi(spec) {
        return super::txn::queue(st, ci, spec, args, out);
    }
    let Some(client) = st.clients.get_mut(ci) else {
        out.error("ERR client gone");
        return Dispatch::Replied;
    };
    client.last_cmd = spec.name;
    if !client.authenticated && !spec.has(flag::NO_AUTH) {
        out.error(error::NOAUTH);
        return Dispatch::Replied;
    }
    match spec.exec {
        Exec::Conn(f) => match f(st, ci, args, out) {
            ConnResult::Done => Dispatch::Replied,
            ConnResult::Later(fut) => Dispatch::Later(fut),
            ConnResult::Close => Dispatch::Close,
        },
        Exec::Data(f) => route_data(st, ci, seq, spec, f, args, out),
        Exec::Container => {
            debug_assert!(false, "resolve returns subcommands, never containers");
            out.error("ERR internal: container command");
            Dispatch::Replied
        }
    }
}

/// Where a data command's keys live, or the error to reply instead.
pub enum Placement {
    Shard(usize),
    Shards(SmallVec<[usize; 4]>),
    Error(String),
}

pub fn place(st: &ShardState, spec: &CommandSpec, args: &[&[u8]], asking: bool) -> Placement {
    let mut idx: SmallVec<[usize; 8]> = SmallVec::new();
    spec.key_indexes_of(args, &mut idx);
    let Some(&first) = idx.first() else {
        return Placement::Shard(st.id);
    };
    let slot0 = key_slot(args[first]);
    if st.cluster.enabled {
        // Redis's order: first key unbound, then CROSSSLOT, then cluster down, then MOVED.
        if matches!(st.cluster.route(slot0), Route::Unbound) {
            return Placement::Error(error::CLUSTERDOWN_UNBOUND.into());
        }
        for &i in &idx[1..] {
            if key_slot(args[i]) != slot0 {
                return Placement::Error(error::CROSSSLOT.into());
            }
        }
        if !st.cluster.state_ok {
            if !st.cfg.cluster_allow_reads_when_down {
                return Placement::Error("CLUSTERDOWN The cluster is down".into());
            }
            if spec.has(flag::WRITE) {
                return Placement::Error("CLUSTERDOWN The cluster is down and only accepts read commands".into());
            }
        }
        match st.cluster.route(slot0) {
            Route::Local => {}
            Route::Moved(n) if !asking => {
                return Placement::Error(error::moved(slot0, &format!("{}:{}", n.ip, n.port)))
            }
            Route::Moved(_) => {}
            Route::Unbound => return Placement::Error(error::CLUSTERDOWN_UNBOUND.into()),
        }
        return Placement::Shard(owner_shard(slot0, st.nshards));
    }
    let s0 = owner_shard(slot0, st.nshards);
    if st.nshards > 1 && spec.pattern_keys.is_some_and(|p| (p.uses)(args)) {
        // Keys named by patterns may live anywhere: the coordinator freezes every shard.
        return Placement::Shards((0..st.nshards).collect());
    }
    let mut shards: SmallVec<[usize; 4]> = SmallVec::new();
    shards.push(s0);
    for &i in &idx[1..] {
        let s = owner_shard(key_slot(args[i]), st.nshards);
        if !shards.contains(&s) {
            shards.push(s);
        }
    }
    if shards.len() == 1 {
        Placement::Shard(s0)
    } else {
        shards.sort_unstable();
        Placement::Shards(shards)
    }
}

fn route_data(
    st: &mut ShardState,
    ci: usize,
    seq: u64,
    spec: &'static CommandSpec,
    f: crate::command::spec::DataFn,
    args: &[&[u8]],
    out: &mut Out,
) -> Dispatch {
    let (db, conn, asking) = {
        let c = &mut st.clients[ci];
        let asking = std::mem::take(&mut c.asking);
        (c.db, c.conn, asking)
    };
    let placement = place(st, spec, args, asking);
    if spec.has(flag::BLOCKING) && !matches!(placement, Placement::Error(_)) && blocks(spec, args) {
        let owners: SmallVec<[usize; 2]> = match placement {
            Placement::Shard(s) => smallvec::smallvec![s],
            Placement::Shards(v) => v.into_iter().collect(),
            Placement::Error(_) => SmallVec::new(),
        };
        return Dispatch::Later(super::blocking::start(st, ci, spec, args, owners));
    }
    match placement {
        Placement::Error(e) => {
            out.error(&e);
            Dispatch::Replied
        }
        Placement::Shard(s) if s == st.id => {
            run_tracked(st, spec, f, db, args, out);
            Dispatch::Replied
        }
        Placement::Shard(dest) => {
            st.stats.forwarded_commands += 1;
            st.handle.forward(dest, conn, out.resp3, db as u8, seq, args);
            Dispatch::Forwarded
        }
        Placement::Shards(shards) => {
            let owned: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
            let fut = super::coord::multi_shard(st, spec, owned, db, out.resp3, shards);
            Dispatch::Later(fut)
        }
    }
}

/// Runs a forwarded batch on this (the owning) shard and builds the reply message.
pub fn run_forwarded(st: &mut ShardState, batch: ForwardBatch) -> ForwardReply {
    let mut data = Vec::with_capacity(batch.raw.len());
    let mut ends = Vec::with_capacity(batch.cmds.len());
    let mut seqs = Vec::with_capacity(batch.cmds.len());
    let mut pos = 0;
    let limits = crate::resp::ParseLimits::default();
    for &(db, seq) in &batch.cmds {
        let mut out = Out::new(&mut data, batch.resp3);
        match crate::resp::parse_command(&batch.raw[pos..], &limits) {
            crate::resp::Parsed::Multibulk { args, consumed } => {
                let base = &batch.raw[pos..pos + consumed];
                let argv: SmallVec<[&[u8]; 8]> = args.iter().map(|&(s, e)| &base[s as usize..e as usize]).collect();
                pos += consumed;
                run_data_here(st, db as usize, &argv, &mut out);
            }
            _ => {
                debug_assert!(false, "a forwarded batch holds well-formed commands");
                out.error("ERR internal: bad forwarded command");
            }
        }
        ends.push(data.len() as u32);
        seqs.push(seq);
    }
    ForwardReply { conn: batch.conn, seqs, ends, data }
}

/// Executes a data command on this shard's store (forwarded, or a part of a split command).
pub fn run_data_here(st: &mut ShardState, db: usize, argv: &[&[u8]], out: &mut Out) {
    match table::resolve(argv) {
        Ok(spec) => match spec.exec {
            Exec::Data(f) => run_tracked(st, spec, f, db, argv, out),
            _ => out.error("ERR internal: forwarded a non-data command"),
        },
        Err(e) => out.error(&e),
    }
}

pub fn split_of(spec: &CommandSpec) -> Split {
    spec.split
}

/// Whether this call of a BLOCKING-flagged command may wait (XREAD only with BLOCK).
fn blocks(spec: &CommandSpec, args: &[&[u8]]) -> bool {
    match spec.name {
        "xread" | "xreadgroup" => args.iter().any(|a| a.eq_ignore_ascii_case(b"block")),
        _ => true,
    }
}

/// The (db, key) that MOVE key db and COPY src dst DB n write besides their declared keys.
fn other_db_write<'a>(spec: &CommandSpec, args: &[&'a [u8]]) -> Option<(usize, &'a [u8])> {
    let parse = |a: &[u8]| crate::resp::parse::parse_i64_strict(a).and_then(|n| usize::try_from(n).ok());
    match spec.name {
        "move" => Some((parse(args.get(2)?)?, args[1])),
        "copy" => {
            let at = args.iter().position(|a| a.eq_ignore_ascii_case(b"db"))?;
            Some((parse(args.get(at + 1)?)?, args.get(2)?))
        }
        _ => None,
    }
}

/// The reply of a blocking command that may not wait and found nothing.
pub fn write_would_block_reply(spec: &CommandSpec, out: &mut Out) {
    match spec.name {
        "xread" | "xreadgroup" => out.null_array(),
        name => crate::command::family::blocking::write_timeout_reply(name, out),
    }
}

/// Whether `reply` is the would-block reply: a served blocking command never answers a null
/// (pops and moves answer elements, reads answer entries), so this means "nothing yet".
pub fn is_would_block_reply(spec: &CommandSpec, resp3: bool, reply: &[u8]) -> bool {
    let mut nothing = Vec::new();
    write_would_block_reply(spec, &mut Out::new(&mut nothing, resp3));
    reply == nothing.as_slice()
}

/// Runs a data command on this shard's store and, when it changed something, marks the
/// watchers of its keys (Redis's `signalModifiedKey`) and the blocked clients waiting on them
/// (`signalKeyAsReady`). A blocking command that finds nothing gets its timeout reply here,
/// as for any client that may not block; the blocking layer recognises that reply
/// (`is_would_block_reply`) and parks the client instead.
pub fn run_tracked(
    st: &mut ShardState,
    spec: &CommandSpec,
    f: crate::command::spec::DataFn,
    db: usize,
    args: &[&[u8]],
    out: &mut Out,
) {
    let start = out.buf.len();
    if st.cfg.maxmemory_bytes > 0 && !st.enforce_maxmemory() && spec.has(flag::DENYOOM) {
        out.error(crate::error::OOM);
        return;
    }
    let before = st.store.dirty;
    // Keys the command's lookups expire are kept for the AOF from the first command on.
    st.store.sync_aof(st.aof.as_deref().is_some_and(|a| !a.closing));
    f(&mut st.data_ctx(db), args, out);
    if out.buf.len() == start && spec.has(flag::BLOCKING) {
        write_would_block_reply(spec, out);
    }
    if st.aof.is_some() {
        log_with_expired(st, spec, db, args, &out.buf[start..], st.store.dirty != before);
    }
    if st.store.dirty != before && (!st.watches.is_empty() || !st.blocking.is_empty()) {
        let mut idx: SmallVec<[usize; 8]> = SmallVec::new();
        spec.key_indexes_of(args, &mut idx);
        for i in idx {
            st.touch_watched(db, args[i]);
            st.blocking.signal(db, args[i]);
        }
        // MOVE and COPY ... DB n write the key in another db too.
        if let Some((target, key)) = other_db_write(spec, args) {
            st.touch_watched(target, key);
        }
    }
}

/// AOF logging of a data command: first the DELs of keys that expired (the command's own
/// lookups included), then the command if it changed the store. As Redis 7.0 does, a write
/// whose lookup expired keys is wrapped with those DELs in MULTI/EXEC (unless a transaction
/// already wraps it), so a load replays both or neither.
fn log_with_expired(st: &mut ShardState, spec: &CommandSpec, db: usize, args: &[&[u8]], reply: &[u8], changed: bool) {
    let wrap = changed && st.store.has_expired_pending() && st.aof.as_deref().is_some_and(|a| a.multi.is_none());
    if wrap {
        if let Some(aof) = st.aof.as_deref_mut() {
            aof.begin_multi();
        }
    }
    st.log_expired_to_aof();
    if let Some(aof) = st.aof.as_deref_mut() {
        if changed {
            let now = crate::shard::unix_ms();
            crate::persist::aof::log_command(aof, spec.name, args, reply, &st.store, db, now);
        }
        if wrap {
            aof.end_multi();
        }
    }
}
