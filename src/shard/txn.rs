//! MULTI/EXEC/WATCH: queueing, watch registration and the EXEC engine.
//!
//! Queued commands are checked when queued (unknown command, arity, cluster placement) as
//! Redis does; any rejection makes EXEC answer EXECABORT. WATCH registers a key on the shard
//! that owns it; writes there mark the watchers (`exec::run_tracked`), and EXEC checks the
//! marks and keys that expired since they were watched.
//!
//! EXEC runs the queued commands atomically:
//! - all on one shard with data commands only: one call on that shard, which runs them back
//!   to back (a shard runs one thing at a time);
//! - otherwise the shards involved (all of them when a connection command is queued, since
//!   FLUSHALL or DBSIZE may touch every shard) are frozen in shard-id order, the commands run
//!   one by one under the transaction, and the shards are released. Work a queued command
//!   fans out itself runs under the same transaction (`handle::WithTx`). Cross-shard EXECs
//!   of one shard's clients that arrive while one runs wait and run as the next batch, one
//!   after another under one freeze (`run_exec_batch`, `batch`).

use std::collections::BTreeSet;

use futures::FutureExt;
use smallvec::SmallVec;

use crate::command::spec::{flag, CommandSpec, ConnResult, Exec};
use crate::command::table;
use crate::persist::aof::txlog::{self, ShardSet};
use crate::resp::Out;
use crate::store::memory::{self, Carried};

use super::exec::{place, run_data_here, Dispatch, Placement};
use super::handle::WithTx;
use super::ShardState;

/// Commands that act at once inside MULTI instead of being queued (as Redis's processCommand).
pub fn runs_inside_multi(spec: &CommandSpec) -> bool {
    matches!(spec.name, "exec" | "discard" | "multi" | "watch" | "quit" | "reset")
}

pub fn queue(st: &mut ShardState, ci: usize, spec: &'static CommandSpec, args: &[&[u8]], out: &mut Out) -> Dispatch {
    let reject = |st: &mut ShardState, out: &mut Out, msg: &str| {
        st.clients[ci].multi_error = true;
        out.error(msg);
        Dispatch::Replied
    };
    if spec.has(flag::NO_MULTI) {
        return reject(st, out, "ERR Command not allowed inside a transaction");
    }
    if st.cluster.enabled {
        if let Exec::Data(_) = spec.exec {
            if let Placement::Error(e) = place(st, spec, args, false) {
                return reject(st, out, &e);
            }
            // Every key of the transaction must live in one slot (Redis's getNodeByQuery).
            let mut slots = BTreeSet::new();
            collect_slots(spec, args, &mut slots);
            for q in st.clients[ci].multi.iter().flatten() {
                let argv: Vec<&[u8]> = q.iter().map(|a| a.as_slice()).collect();
                if let Ok(s) = table::resolve(&argv) {
                    collect_slots(s, &argv, &mut slots);
                }
            }
            if slots.len() > 1 {
                return reject(st, out, crate::error::CROSSSLOT);
            }
        }
    }
    if let Some(q) = st.clients[ci].multi.as_mut() {
        q.push(args.iter().map(|a| a.to_vec()).collect());
    }
    out.simple("QUEUED");
    Dispatch::Replied
}

fn collect_slots(spec: &CommandSpec, args: &[&[u8]], slots: &mut BTreeSet<u16>) {
    let mut idx: SmallVec<[usize; 8]> = SmallVec::new();
    spec.key_indexes_of(args, &mut idx);
    slots.extend(idx.into_iter().map(|i| crate::cluster::slot::key_slot(args[i])));
}

/// Registers a WATCH of `key` (db) by client `id` on this, the owning, shard.
pub fn watch_here(st: &mut ShardState, id: u64, db: usize, key: Vec<u8>) {
    let now = st.now_ms();
    let live = st.store.dbs.get(db).and_then(|d| d.peek(&key)).is_some_and(|e| !e.is_expired(now));
    let ws = st.watches.entry((db, key)).or_default();
    if !ws.iter().any(|w| w.0 == id) {
        ws.push((id, live));
    }
}

/// Drops client `id`'s watches of `keys` on this shard; returns whether any was broken:
/// the key was written since, or it was live when watched and has expired or vanished.
pub fn unwatch_here(st: &mut ShardState, id: u64, keys: &[(usize, Vec<u8>)]) -> bool {
    let mut dirty = st.watch_dirty.remove(&id);
    let now = st.now_ms();
    for (db, key) in keys {
        let k = (*db, key.clone());
        let Some(ws) = st.watches.get_mut(&k) else { continue };
        if let Some(pos) = ws.iter().position(|w| w.0 == id) {
            let (_, live) = ws.swap_remove(pos);
            if live {
                let gone = st.store.dbs.get(*db).and_then(|d| d.peek(key)).is_none_or(|e| e.is_expired(now));
                dirty |= gone;
            }
        }
        if ws.is_empty() {
            st.watches.remove(&k);
        }
    }
    dirty
}

/// Groups a client's watched keys by owner shard.
/// Watched keys of one shard: (db, key).
type ShardWatches = (usize, Vec<(usize, Vec<u8>)>);

/// One shard's watched keys on their way to it, with their memory count (`memory::Carried`).
fn carry_watches(keys: Vec<(usize, Vec<u8>)>) -> Carried<Vec<(usize, Vec<u8>)>> {
    let n = memory::vec_bytes(&keys) + keys.iter().map(|(_, k)| memory::vec_bytes(k)).sum::<i64>();
    Carried::new(keys, n)
}

fn by_shard(watched: &[(usize, usize, Vec<u8>)]) -> Vec<ShardWatches> {
    let mut out: Vec<ShardWatches> = Vec::new();
    for (s, db, k) in watched {
        match out.iter_mut().find(|(x, _)| x == s) {
            Some((_, v)) => v.push((*db, k.clone())),
            None => out.push((*s, vec![(*db, k.clone())])),
        }
    }
    out
}

/// Forgets every watch of client `ci` without waiting (UNWATCH, DISCARD, RESET, disconnect).
pub fn unwatch_all(st: &mut ShardState, ci: usize) {
    let Some(c) = st.clients.get_mut(ci) else { return };
    let id = c.id;
    let watched = std::mem::take(&mut c.watched);
    for (s, keys) in by_shard(&watched) {
        if s == st.id {
            unwatch_here(st, id, &keys);
        } else {
            // The answer is not needed; the call is sent when queued.
            let keys = carry_watches(keys);
            drop(st.handle.call(s, None, move |st: &mut ShardState| unwatch_here(st, id, &keys.unpack())));
        }
    }
}

/// Leaves MULTI state and drops watches (DISCARD, RESET, disconnect).
pub fn discard_state(st: &mut ShardState, ci: usize) {
    if let Some(c) = st.clients.get_mut(ci) {
        c.multi = None;
        c.multi_error = false;
    }
    unwatch_all(st, ci);
}

pub fn multi(st: &mut ShardState, ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    let c = &mut st.clients[ci];
    if c.multi.is_some() {
        out.error("ERR MULTI calls can not be nested");
    } else {
        c.multi = Some(Vec::new());
        c.multi_error = false;
        out.ok();
    }
    ConnResult::Done
}

pub fn discard(st: &mut ShardState, ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    if st.clients[ci].multi.is_none() {
        out.error("ERR DISCARD without MULTI");
    } else {
        discard_state(st, ci);
        out.ok();
    }
    ConnResult::Done
}

pub fn unwatch(st: &mut ShardState, ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    unwatch_all(st, ci);
    out.ok();
    ConnResult::Done
}

pub fn watch(st: &mut ShardState, ci: usize, args: &[&[u8]], out: &mut Out) -> ConnResult {
    if st.clients[ci].multi.is_some() {
        out.error("ERR WATCH inside MULTI is not allowed");
        return ConnResult::Done;
    }
    if st.cluster.enabled {
        if let Some(spec) = table::lookup(b"watch") {
            if let Placement::Error(e) = place(st, spec, args, false) {
                out.error(&e);
                return ConnResult::Done;
            }
        }
    }
    let (id, db) = (st.clients[ci].id, st.clients[ci].db);
    let mut remote = Vec::new();
    for k in &args[1..] {
        let s = crate::cluster::slot::owner_shard(crate::cluster::slot::key_slot(k), st.nshards);
        let c = &mut st.clients[ci];
        if c.watched.iter().any(|(ws, wdb, wk)| *ws == s && *wdb == db && wk.as_slice() == *k) {
            continue;
        }
        c.watched.push((s, db, k.to_vec()));
        if s == st.id {
            watch_here(st, id, db, k.to_vec());
        } else {
            // Kept in the other shard's watch table: its memory is counted there.
            let key = Carried::vec(k.to_vec());
            remote.push(st.handle.call(s, None, move |st: &mut ShardState| watch_here(st, id, db, key.unpack())));
        }
    }
    if remote.is_empty() {
        out.ok();
        return ConnResult::Done;
    }
    // Reply once every owner has registered the watch, so a write that follows the reply is
    // seen by it.
    ConnResult::Later(
        async move {
            futures::future::join_all(remote).await;
            b"+OK\r\n".to_vec()
        }
        .boxed_local(),
    )
}

pub fn exec(st: &mut ShardState, ci: usize, _args: &[&[u8]], out: &mut Out) -> ConnResult {
    let c = &mut st.clients[ci];
    let Some(cmds) = c.multi.take() else {
        out.error("ERR EXEC without MULTI");
        return ConnResult::Done;
    };
    let aborted = std::mem::take(&mut c.multi_error);
    let (id, resp3, db) = (c.id, c.resp3, c.db);
    let watched = std::mem::take(&mut c.watched);
    if aborted {
        c.watched = watched;
        unwatch_all(st, ci);
        out.error("EXECABORT Transaction discarded because of previous errors.");
        return ConnResult::Done;
    }
    // Which shards the transaction touches.
    let mut shards: BTreeSet<usize> = watched.iter().map(|w| w.0).collect();
    let mut any_conn = false;
    for cmd in &cmds {
        let argv: Vec<&[u8]> = cmd.iter().map(|a| a.as_slice()).collect();
        let Ok(spec) = table::resolve(&argv) else { continue };
        match spec.exec {
            Exec::Data(_) => match place(st, spec, &argv, false) {
                Placement::Shard(s) => {
                    shards.insert(s);
                }
                Placement::Shards(v) => shards.extend(v),
                Placement::Error(_) => {}
            },
            _ => any_conn = true,
        }
    }
    let watches = by_shard(&watched);
    if !any_conn && shards.len() <= 1 {
        let s = shards.first().copied().unwrap_or(st.id);
        let run = move |st: &mut ShardState| -> Option<Vec<Vec<u8>>> {
            let keys = watches.into_iter().flat_map(|(_, k)| k).collect::<Vec<_>>();
            if unwatch_here(st, id, &keys) {
                return None;
            }
            if let Some(a) = st.aof.as_deref_mut() {
                a.begin_multi();
            }
            let replies = cmds
                .iter()
                .map(|cmd| {
                    let argv: Vec<&[u8]> = cmd.iter().map(|a| a.as_slice()).collect();
                    let mut buf = Vec::new();
                    run_data_here(st, db, &argv, &mut Out::new(&mut buf, resp3));
                    buf
                })
                .collect();
            if let Some(a) = st.aof.as_deref_mut() {
                a.end_multi();
            }
            Some(replies)
        };
        if s == st.id {
            write_exec_reply(out, run(st));
            return ConnResult::Done;
        }
        let fut = st.handle.call(s, None, run);
        return ConnResult::Later(
            async move {
                let mut buf = Vec::new();
                write_exec_reply(&mut Out::new(&mut buf, resp3), fut.await);
                buf
            }
            .boxed_local(),
        );
    }
    if any_conn {
        shards = (0..st.nshards).collect();
    }
    let job = ExecJob { ci, db, id, resp3, cmds, watches, shards };
    let h = st.handle.clone();
    let (me, cfg, databases, nshards) = (st.id, st.cfg.clone(), st.store.dbs.len(), st.nshards);
    ConnResult::Later(
        async move {
            let max = crate::limits::EXEC_BATCH_MAX_TRANSACTIONS;
            let replies = super::batch::run(&h.exec_queue, job, max, |jobs| {
                let (h, cfg) = (h.clone(), cfg.clone());
                async move {
                    let tx = h.new_tx_id();
                    let body = run_exec_batch(h.clone(), tx, me, jobs, cfg, databases, nshards);
                    WithTx { handle: h, tx, inner: Box::pin(body) }.await
                }
            })
            .await;
            let mut buf = Vec::new();
            write_exec_reply(&mut Out::new(&mut buf, resp3), replies);
            buf
        }
        .boxed_local(),
    )
}

/// A cross-shard EXEC waiting for its batch: the client, its queued commands, its watched
/// keys by shard and the shards it touches.
pub struct ExecJob {
    ci: usize,
    db: usize,
    id: u64,
    resp3: bool,
    cmds: Vec<Vec<Vec<u8>>>,
    watches: Vec<ShardWatches>,
    shards: BTreeSet<usize>,
}

/// A coordinator shard's cross-shard EXECs waiting for a batch; each answer is the replies
/// of the queued commands, or None when a watched key changed.
pub type ExecLane = super::batch::Lane<ExecJob, Option<Vec<Vec<u8>>>>;

/// Runs a batch of cross-shard transactions of this shard's clients under one freeze of the
/// shards they touch, as transaction `tx`: one after another, each checking its watches
/// first (so an earlier one's writes break a later one's WATCH, as if they had run one by
/// one), then one seal of the AOF parts and one release for all of them. In `appendfsync
/// always` the batch waits for one fsync per shard, not one per transaction.
async fn run_exec_batch(
    h: std::rc::Rc<super::handle::Handle>,
    tx: u64,
    me: usize,
    jobs: Vec<ExecJob>,
    cfg: crate::config::Config,
    databases: usize,
    nshards: usize,
) -> Vec<Option<Vec<Vec<u8>>>> {
    let shards: BTreeSet<usize> = jobs.iter().flat_map(|j| j.shards.iter().copied()).collect();
    for &s in &shards {
        h.call(s, Some(tx), move |st: &mut ShardState| st.freeze(tx)).await;
    }
    // Replies by transaction (None: a watched key changed) and position.
    let mut out: Vec<Option<Vec<Vec<u8>>>> = Vec::with_capacity(jobs.len());
    let mut segment = Segment::default();
    // Shards that logged part of the batch, as the segments report them; a command run alone
    // may write anywhere, so then the seal asks every shard.
    let mut seen = Wrote { shards: ShardSet::default(), known: true, tx };
    for (j, job) in jobs.into_iter().enumerate() {
        if !job.watches.is_empty() {
            // The transactions before this one have run (their writes mark watchers).
            run_segment(&h, std::mem::take(&mut segment), &mut out, &mut seen).await;
            let id = job.id;
            let checks: Vec<_> = job
                .watches
                .into_iter()
                .map(|(s, keys)| {
                    let keys = carry_watches(keys);
                    h.call(s, Some(tx), move |st: &mut ShardState| unwatch_here(st, id, &keys.unpack()))
                })
                .collect();
            if futures::future::join_all(checks).await.into_iter().any(|b| b) {
                out.push(None);
                continue;
            }
        }
        out.push(Some(vec![Vec::new(); job.cmds.len()]));
        let ctx = QueuedCtx { me, ci: job.ci, id: job.id, resp3: job.resp3, cfg: &cfg, databases, nshards };
        let mut db = job.db;
        for (pos, cmd) in job.cmds.into_iter().enumerate() {
            match single_owner(&cmd, &ctx) {
                Some(shard) => segment.push(shard, SegCmd { job: j, pos, db, resp3: job.resp3, cmd }),
                None => {
                    run_segment(&h, std::mem::take(&mut segment), &mut out, &mut seen).await;
                    seen.known = false;
                    let (reply, new_db) = run_queued(&h, &ctx, db, cmd).await;
                    db = new_db;
                    if let Some(Some(rs)) = out.get_mut(j) {
                        rs[pos] = reply;
                    }
                }
            }
        }
    }
    run_segment(&h, segment, &mut out, &mut seen).await;
    if out.iter().any(Option::is_some) {
        let list: Vec<usize> = shards.iter().copied().collect();
        seal_aof_parts(&h, tx, &list, seen.known.then_some(seen.shards)).await;
    }
    let releases = shards.iter().map(|&s| h.call(s, Some(tx), move |st: &mut ShardState| st.release(tx)));
    futures::future::join_all(releases).await;
    out
}

/// Which shards logged part of transaction `tx` so far, when every step that ran reported it.
struct Wrote {
    shards: ShardSet,
    known: bool,
    tx: u64,
}

/// One queued command in a segment: where its reply goes (transaction, position), the db
/// and protocol it runs with.
struct SegCmd {
    job: usize,
    pos: usize,
    db: usize,
    resp3: bool,
    cmd: Vec<Vec<u8>>,
}

/// Queued commands whose keys each live on one shard, gathered between two barriers (a
/// connection command such as SELECT, a command spanning shards, or a transaction's WATCH
/// check): such commands touch nothing another shard holds, so each shard runs its share in
/// one call, in queue order, and the shards run at once. A batch of transactions without
/// barriers costs one round, not a round per command.
#[derive(Default)]
struct Segment {
    by_shard: Vec<(usize, Vec<SegCmd>)>,
}

impl Segment {
    fn push(&mut self, shard: usize, c: SegCmd) {
        match self.by_shard.iter_mut().find(|(s, _)| *s == shard) {
            Some((_, v)) => v.push(c),
            None => self.by_shard.push((shard, vec![c])),
        }
    }
}

/// What running a queued command needs besides the command: the coordinating shard, the
/// client and its protocol, and the node's shape.
struct QueuedCtx<'a> {
    me: usize,
    ci: usize,
    /// The client's id: `ci` is a slot that a later client may reuse.
    id: u64,
    resp3: bool,
    cfg: &'a crate::config::Config,
    databases: usize,
    nshards: usize,
}

/// The shard that runs `cmd` by itself: a data command whose keys (if any) all live on one
/// shard. None for commands that must run alone (connection commands, commands spanning
/// shards, unknown ones).
fn single_owner(cmd: &[Vec<u8>], ctx: &QueuedCtx<'_>) -> Option<usize> {
    let argv: Vec<&[u8]> = cmd.iter().map(|a| a.as_slice()).collect();
    let spec = table::resolve(&argv).ok()?;
    let Exec::Data(_) = spec.exec else { return None };
    match key_owners(spec, &argv, ctx.nshards)[..] {
        [] => Some(ctx.me),
        [s] => Some(s),
        _ => None,
    }
}

/// The shards owning the keys of a command, sorted, each once; every shard for a command
/// reading keys named by patterns (SORT BY/GET), which may live anywhere (as `exec::place`).
fn key_owners(spec: &CommandSpec, argv: &[&[u8]], nshards: usize) -> SmallVec<[usize; 4]> {
    if nshards > 1 && spec.pattern_keys.is_some_and(|p| (p.uses)(argv)) {
        return (0..nshards).collect();
    }
    let mut idx: SmallVec<[usize; 8]> = SmallVec::new();
    spec.key_indexes_of(argv, &mut idx);
    let mut owners: SmallVec<[usize; 4]> = idx
        .iter()
        .map(|&i| crate::cluster::slot::owner_shard(crate::cluster::slot::key_slot(argv[i]), nshards))
        .collect();
    owners.sort_unstable();
    owners.dedup();
    owners
}

/// Runs a segment: one call per shard with that shard's commands in order, all shards at
/// once; puts each reply in its place in `out`.
async fn run_segment(
    h: &std::rc::Rc<super::handle::Handle>,
    segment: Segment,
    out: &mut [Option<Vec<Vec<u8>>>],
    seen: &mut Wrote,
) {
    let tx = seen.tx;
    let calls = segment.by_shard.into_iter().map(|(s, cmds)| {
        let places: Vec<(usize, usize)> = cmds.iter().map(|c| (c.job, c.pos)).collect();
        let runs: Vec<(usize, bool, Vec<Vec<u8>>)> = cmds.into_iter().map(|c| (c.db, c.resp3, c.cmd)).collect();
        let n = memory::vec_bytes(&runs) + runs.iter().map(|(_, _, c)| memory::strings_bytes(c)).sum::<i64>();
        let runs = Carried::new(runs, n);
        let call = h.call(s, None, move |st: &mut ShardState| {
            let runs = runs.unpack();
            let replies: Vec<Vec<u8>> = runs
                .iter()
                .map(|(db, resp3, cmd)| {
                    let argv: Vec<&[u8]> = cmd.iter().map(|a| a.as_slice()).collect();
                    let mut buf = Vec::new();
                    run_data_here(st, *db, &argv, &mut Out::new(&mut buf, *resp3));
                    buf
                })
                .collect();
            // Only the replies travel (what the commands stored stays counted here).
            let n = memory::strings_bytes(&replies);
            (Carried::new(replies, n), st.aof.as_deref().is_some_and(|a| a.tx_wrote(tx)))
        });
        async move {
            let (replies, wrote) = call.await;
            (s, places, replies.unpack(), wrote)
        }
    });
    for (s, places, replies, wrote) in futures::future::join_all(calls).await {
        if wrote {
            seen.shards.insert(s);
        }
        for ((job, pos), r) in places.into_iter().zip(replies) {
            if let Some(Some(rs)) = out.get_mut(job) {
                rs[pos] = r;
            }
        }
    }
}

/// Before a cross-shard transaction releases its shards: ends each shard's AOF part, with a
/// commit record when two or more of `shards` wrote (`persist::aof::txlog`). In
/// `appendfsync always` a seal's answer waits for the fsync that covers it
/// (`ShardState::seal_tx_part`), so the shards are released only once the whole transaction
/// is durable and nothing after it is acknowledged before it. The transaction's earlier steps
/// answered without waiting; a shard's release waits likewise, so a shard that only served
/// reads is synced too. A transaction nested in another leaves this to the outer one.
/// `known_writers`: the shards that logged a part, when the caller knows them (one round
/// less); otherwise each of `shards` is asked.
pub(crate) async fn seal_aof_parts(
    h: &std::rc::Rc<super::handle::Handle>,
    tx: u64,
    shards: &[usize],
    known_writers: Option<ShardSet>,
) {
    if !crate::persist::aof::info::ENABLED.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let writers = match known_writers {
        Some(w) => w,
        None => {
            let asks = shards.iter().map(|&s| {
                h.call(s, Some(tx), move |st: &mut ShardState| st.aof.as_deref().is_some_and(|a| a.tx_wrote(tx)))
            });
            let wrote = futures::future::join_all(asks).await;
            let mut writers = ShardSet::default();
            for (&s, _) in shards.iter().zip(wrote).filter(|(_, w)| *w) {
                writers.insert(s);
            }
            writers
        }
    };
    if writers.len() < 2 {
        return;
    }
    let commit = txlog::next_commit();
    let seals = writers
        .list()
        .into_iter()
        .map(|s| h.call(s, Some(tx), move |st: &mut ShardState| st.seal_tx_part(tx, Some((commit, &writers.list())))));
    futures::future::join_all(seals).await;
}

fn write_exec_reply(out: &mut Out, replies: Option<Vec<Vec<u8>>>) {
    match replies {
        None => out.null_array(),
        Some(rs) => {
            out.array(rs.len());
            for r in rs {
                out.raw(&r);
            }
        }
    }
}

/// Runs one queued command inside a frozen transaction; returns its reply and the client's
/// db afterwards (SELECT may change it).
async fn run_queued(
    h: &std::rc::Rc<super::handle::Handle>,
    ctx: &QueuedCtx<'_>,
    db: usize,
    cmd: Vec<Vec<u8>>,
) -> (Vec<u8>, usize) {
    let QueuedCtx { me, ci, id, resp3, cfg, databases, nshards } = *ctx;
    let argv: Vec<&[u8]> = cmd.iter().map(|a| a.as_slice()).collect();
    let spec = match table::resolve(&argv) {
        Ok(s) => s,
        Err(e) => {
            let mut buf = Vec::new();
            Out::new(&mut buf, resp3).error(&e);
            return (buf, db);
        }
    };
    match spec.exec {
        Exec::Data(_) => {
            // Data commands on one shard run in segments (`run_segment`): only those
            // spanning shards come here.
            let owners = key_owners(spec, &argv, nshards);
            drop(argv);
            let owners = owners.into_iter().collect();
            let reply = super::coord::run_multi_shard(
                h.clone(),
                spec,
                cmd,
                db,
                resp3,
                owners,
                Some(cfg.clone()),
                databases,
                nshards,
            )
            .await;
            (reply, db)
        }
        Exec::Conn(f) => {
            drop(argv);
            let (buf, later, db) = h
                .call(me, None, move |st: &mut ShardState| {
                    let argv: Vec<&[u8]> = cmd.iter().map(|a| a.as_slice()).collect();
                    let mut buf = Vec::new();
                    // The client may have gone while its EXEC waited for a batch (and its slot
                    // been reused): its connection commands have no one to act on.
                    if st.clients.get(ci).is_none_or(|c| c.id != id) {
                        return (buf, false, db);
                    }
                    let r = f(st, ci, &argv, &mut Out::new(&mut buf, resp3));
                    let db = st.clients.get(ci).map_or(db, |c| c.db);
                    match r {
                        ConnResult::Done | ConnResult::Close => (buf, false, db),
                        ConnResult::Later(fut) => {
                            *st.handle.stash.borrow_mut() = Some(fut);
                            (buf, true, db)
                        }
                    }
                })
                .await;
            if later {
                let fut = h.stash.borrow_mut().take();
                if let Some(fut) = fut {
                    return (fut.await, db);
                }
            }
            (buf, db)
        }
        Exec::Container => (b"-ERR internal: container command\r\n".to_vec(), db),
    }
}
