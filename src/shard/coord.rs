//! Coordination of data commands whose keys live on several shards (standalone mode only:
//! cluster mode rejects them with -CROSSSLOT before they get here).
//!
//! - `SumInts` / `Mget`: each shard runs the command on its own keys; the coordinator merges
//!   the replies (DEL, EXISTS, TOUCH, UNLINK, MGET). Each shard's part is atomic.
//! - `Atomic`: the involved shards are frozen one by one in shard-id order (a global order, so
//!   two transactions can never wait on each other in a cycle), the keys are copied into a
//!   scratch store on the coordinator, the command runs there exactly as it would on one
//!   shard, the final state of every key is written back, and the shards are released. No
//!   other command observes the keys in between. No shard's loop ever blocks: a frozen shard
//!   keeps serving the mesh and only defers work that would touch its keyspace. Atomic
//!   commands that reach a coordinator while it runs one wait and run together as the next
//!   batch, under one freeze (`atomic`).

use futures::future::LocalBoxFuture;
use futures::FutureExt;
use smallvec::SmallVec;

use crate::cluster::slot::{key_slot, owner_shard};
use crate::command::family::sort;
use crate::command::spec::{CommandSpec, DataCtx, Split};
use crate::persist::aof::txlog::ShardSet;
use crate::resp::Out;
use crate::store::memory::{self, Carried};
use crate::store::{Entry, Store};

use super::exec::run_data_here;
use super::ShardState;

type Owned = Vec<Vec<u8>>;

pub fn multi_shard(
    st: &mut ShardState,
    spec: &'static CommandSpec,
    args: Owned,
    db: usize,
    resp3: bool,
    shards: SmallVec<[usize; 4]>,
) -> LocalBoxFuture<'static, Vec<u8>> {
    st.stats.cross_shard_txs += 1;
    // Only the atomic path runs a command off its shard and needs the settings with it.
    let cfg = matches!(spec.split, Split::Atomic | Split::None).then(|| st.cfg.clone());
    let fut = run_multi_shard(st.handle.clone(), spec, args, db, resp3, shards, cfg, st.store.dbs.len(), st.nshards);
    fut.boxed_local()
}

/// Runs a data command whose keys live on several shards; resolves to its reply bytes.
#[allow(clippy::too_many_arguments)]
pub async fn run_multi_shard(
    h: std::rc::Rc<super::handle::Handle>,
    spec: &'static CommandSpec,
    args: Owned,
    db: usize,
    resp3: bool,
    shards: SmallVec<[usize; 4]>,
    cfg: Option<crate::config::Config>,
    databases: usize,
    nshards: usize,
) -> Vec<u8> {
    match (spec.split, cfg) {
        (Split::SumInts | Split::Mget, _) => split(h, spec.split, args, db, resp3, shards, nshards).await,
        (_, cfg) => {
            let mut reply = atomic(h, spec, args, db, resp3, shards, cfg.unwrap_or_default(), databases, nshards).await;
            // A blocking command that found nothing answers as a client that may not block.
            if reply.is_empty() && spec.has(crate::command::spec::flag::BLOCKING) {
                super::exec::write_would_block_reply(spec, &mut Out::new(&mut reply, resp3));
            }
            reply
        }
    }
}

async fn split(
    h: std::rc::Rc<super::handle::Handle>,
    kind: Split,
    args: Owned,
    db: usize,
    resp3: bool,
    shards: SmallVec<[usize; 4]>,
    nshards: usize,
) -> Vec<u8> {
    // Keys per shard, remembering each key's position for MGET.
    let mut parts: Vec<(usize, Vec<usize>)> = shards.iter().map(|&s| (s, Vec::new())).collect();
    for (i, k) in args.iter().enumerate().skip(1) {
        let s = owner_shard(key_slot(k), nshards);
        if let Some(p) = parts.iter_mut().find(|p| p.0 == s) {
            p.1.push(i);
        }
    }
    let futs: Vec<_> = parts
        .iter()
        .map(|(s, idx)| {
            let sub = Carried::pack(|| {
                let mut sub: Owned = Vec::with_capacity(idx.len() + 1);
                sub.push(args[0].clone());
                sub.extend(idx.iter().map(|&i| args[i].clone()));
                sub
            });
            h.call(*s, None, move |st: &mut ShardState| {
                let sub = sub.unpack();
                let argv: Vec<&[u8]> = sub.iter().map(|a| a.as_slice()).collect();
                let mut buf = Vec::new();
                run_data_here(st, db, &argv, &mut Out::new(&mut buf, resp3));
                Carried::vec(buf)
            })
        })
        .collect();
    let replies: Vec<Vec<u8>> = futures::future::join_all(futs).await.into_iter().map(Carried::unpack).collect();
    if let Some(err) = replies.iter().find(|r| r.first() == Some(&b'-')) {
        return err.clone();
    }
    let mut buf = Vec::new();
    let mut out = Out::new(&mut buf, resp3);
    if kind == Split::SumInts {
        let total: i64 = replies.iter().map(|r| parse_int_reply(r)).sum();
        out.int(total);
    } else {
        let mut slots: Vec<&[u8]> = vec![&[]; args.len() - 1];
        for ((_, idx), r) in parts.iter().zip(&replies) {
            for (&i, elem) in idx.iter().zip(split_array_reply(r)) {
                slots[i - 1] = elem;
            }
        }
        out.array(slots.len());
        for e in slots {
            out.raw(e);
        }
    }
    buf
}

/// The integer of a `:N` reply we produced ourselves.
fn parse_int_reply(r: &[u8]) -> i64 {
    let body = r.strip_prefix(b":").unwrap_or(r);
    let end = body.iter().position(|&c| c == b'\r').unwrap_or(body.len());
    crate::resp::parse::parse_i64_strict(&body[..end]).unwrap_or(0)
}

/// The elements of a flat array reply of bulks/nulls that we produced ourselves.
fn split_array_reply(r: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let Some(first_nl) = r.iter().position(|&c| c == b'\n') else { return out };
    let mut pos = first_nl + 1;
    while pos < r.len() {
        let start = pos;
        let Some(nl) = r[pos..].iter().position(|&c| c == b'\n') else { break };
        let line_end = pos + nl;
        if r[pos] == b'$' {
            let len = crate::resp::parse::parse_i64_strict(&r[pos + 1..line_end - 1]).unwrap_or(-1);
            pos = line_end + 1;
            if len >= 0 {
                pos += len as usize + 2;
            }
        } else {
            pos = line_end + 1;
        }
        out.push(&r[start..pos.min(r.len())]);
    }
    out
}

/// Key copies fetched from one shard: (db, key, entry) for every db holding the key.
type Fetched = Vec<(usize, Vec<u8>, Entry)>;
/// What one shard's keys became: (db, key, new entry or none when deleted).
type WriteBack = Vec<(usize, Vec<u8>, Option<Entry>)>;

/// Copies of `ks` in every db of this shard, for the coordinator.
fn fetch_here(st: &mut ShardState, ks: Vec<Vec<u8>>) -> Carried<Fetched> {
    let now = st.now_ms();
    let mut v = Vec::new();
    // Only the copies are carried: a lazy expiry inside `get` frees this shard's own memory,
    // which must stay off the count that leaves.
    let mut copies_n = 0;
    for (dbi, d) in st.store.dbs.iter_mut().enumerate().filter(|(_, d)| !d.is_empty()) {
        for k in &ks {
            if let Some(e) = d.get(k, now) {
                copies_n += memory::measure(|| v.push((dbi, k.clone(), e.clone()))).1;
            }
        }
    }
    Carried::new(v, copies_n)
}

/// One command of an atomic batch: its spec, arguments, db and protocol.
pub struct AtomicCmd {
    pub spec: &'static CommandSpec,
    pub args: Owned,
    pub db: usize,
    pub resp3: bool,
}

/// A coordinator shard's atomic cross-shard commands waiting for a batch, with the shards
/// each touches (`atomic`).
pub type AtomicLane = super::batch::Lane<(AtomicCmd, SmallVec<[usize; 4]>), Vec<u8>>;

/// Runs one atomic cross-shard command. Commands started on one shard while it runs a batch
/// wait, and then run together as the next batch: one freeze of the shards they touch, one
/// copy of their keys, the commands one after another on that copy (each sees the ones before
/// it, exactly as if they had run one by one in that order), one write-back. Cross-shard
/// commands serialize on the freezes anyway, so a batch costs the rounds of one command
/// (`batch`). Commands nested in EXEC (whose transaction already holds the shards) and commands
/// that read keys through patterns (SORT BY/GET) run alone.
#[allow(clippy::too_many_arguments)]
async fn atomic(
    h: std::rc::Rc<super::handle::Handle>,
    spec: &'static CommandSpec,
    args: Owned,
    db: usize,
    resp3: bool,
    shards: SmallVec<[usize; 4]>,
    cfg: crate::config::Config,
    databases: usize,
    nshards: usize,
) -> Vec<u8> {
    let cmd = AtomicCmd { spec, args, db, resp3 };
    if h.ambient_tx().is_some() || spec.pattern_keys.is_some() {
        return atomic_batch(&h, &[cmd], &shards, &cfg, databases, nshards).await.pop().unwrap_or_default();
    }
    let max = crate::limits::ATOMIC_BATCH_MAX_COMMANDS;
    super::batch::run(&h.atomic_queue, (cmd, shards), max, |batch| {
        let (h, cfg) = (h.clone(), cfg.clone());
        async move {
            let mut all: SmallVec<[usize; 4]> = batch.iter().flat_map(|(_, s)| s.iter().copied()).collect();
            all.sort_unstable();
            all.dedup();
            let cmds: Vec<AtomicCmd> = batch.into_iter().map(|(c, _)| c).collect();
            atomic_batch(&h, &cmds, &all, &cfg, databases, nshards).await
        }
    })
    .await
}

/// Runs `cmds` as one atomic step over `shards` (the union of their shards, sorted); returns
/// their replies in order.
async fn atomic_batch(
    h: &std::rc::Rc<super::handle::Handle>,
    cmds: &[AtomicCmd],
    shards: &[usize],
    cfg: &crate::config::Config,
    databases: usize,
    nshards: usize,
) -> Vec<Vec<u8>> {
    // Inside EXEC the transaction is EXEC's, which seals the AOF parts itself.
    let nested = h.ambient_tx().is_some();
    let tx = h.new_tx_id();
    let mut keys: Vec<Vec<u8>> = Vec::new();
    // The first command's first key, in argument order (SORT's source).
    let mut first_key = None;
    for c in cmds {
        let mut idx: SmallVec<[usize; 8]> = SmallVec::new();
        let argv: Vec<&[u8]> = c.args.iter().map(|a| a.as_slice()).collect();
        c.spec.key_indexes_of(&argv, &mut idx);
        if first_key.is_none() {
            first_key = idx.first().map(|&i| c.args[i].clone());
        }
        keys.extend(idx.iter().map(|&i| c.args[i].clone()));
    }
    keys.sort_unstable();
    keys.dedup();
    // Each key with its owner, hashed once.
    let owned: Vec<(usize, &Vec<u8>)> = keys.iter().map(|k| (owner_shard(key_slot(k), nshards), k)).collect();
    let by_shard =
        |s: usize| -> Vec<Vec<u8>> { owned.iter().filter(|(o, _)| *o == s).map(|(_, k)| (*k).clone()).collect() };
    // A command reading keys through patterns (SORT BY/GET) runs alone.
    let patterned = match cmds {
        [c] => c.spec.pattern_keys.map(|p| (p, c)),
        _ => None,
    };
    // Each shard is frozen in order and, unless keys are read through patterns (whose set is
    // known only once the shards are frozen), hands its keys over in the same call.
    let fetch_with_freeze = patterned.is_none();
    let mut fetched: Vec<Fetched> = Vec::with_capacity(shards.len());
    for &s in shards {
        if fetch_with_freeze {
            let ks = Carried::pack(|| by_shard(s));
            let got = h
                .call(s, Some(tx), move |st: &mut ShardState| {
                    st.freeze(tx);
                    fetch_here(st, ks.unpack())
                })
                .await;
            fetched.push(got.unpack());
        } else {
            h.call(s, Some(tx), move |st: &mut ShardState| st.freeze(tx)).await;
        }
    }
    // Keys read through patterns (SORT BY/GET) are fetched too but never written back. Every
    // shard is frozen for such a call (see `exec::place`), so the set cannot change under us.
    let mut read_only: Vec<Vec<u8>> = Vec::new();
    if let (Some((p, c)), Some(first)) = (patterned, first_key.clone()) {
        let a = Carried::pack(|| c.args.clone());
        let db = c.db;
        read_only = h
            .call(owner_shard(key_slot(&first), nshards), Some(tx), move |st: &mut ShardState| {
                let a = a.unpack();
                let argv: Vec<&[u8]> = a.iter().map(|x| x.as_slice()).collect();
                let keys = (p.read)(&mut st.data_ctx(db), &argv);
                let n = memory::strings_bytes(&keys);
                Carried::new(keys, n)
            })
            .await
            .unpack();
        read_only.retain(|k| !keys.contains(k));
        read_only.sort();
        read_only.dedup();
    }
    if !fetch_with_freeze {
        let fetches = shards.iter().map(|&s| {
            let ks = Carried::pack(|| {
                let mut ks = by_shard(s);
                ks.extend(read_only.iter().filter(|k| owner_shard(key_slot(k), nshards) == s).cloned());
                ks
            });
            h.call(s, Some(tx), move |st: &mut ShardState| fetch_here(st, ks.unpack()))
        });
        fetched = futures::future::join_all(fetches).await.into_iter().map(Carried::unpack).collect();
    }
    let mut scratch = Store::scratch(databases);
    // The dbs a write-back covers: where a key was found or is now (MOVE and COPY reach
    // another db; every other command stays in the client's).
    let mut dbs_touched = vec![false; databases];
    for (dbi, _, _) in fetched.iter().flatten() {
        dbs_touched[*dbi] = true;
    }
    for (dbi, k, e) in fetched.into_iter().flatten() {
        scratch.dbs[dbi].insert(&k, e);
    }
    let mut replies = Vec::with_capacity(cmds.len());
    let mut rng = <rand::rngs::SmallRng as rand::SeedableRng>::from_entropy();
    let now_ms = super::unix_ms();
    for c in cmds {
        let mut reply = Vec::new();
        let argv: Vec<&[u8]> = c.args.iter().map(|a| a.as_slice()).collect();
        let mut ctx = DataCtx { store: &mut scratch, dbi: c.db, now_ms, cfg, rng: &mut rng };
        if let crate::command::spec::Exec::Data(f) = c.spec.exec {
            f(&mut ctx, &argv, &mut Out::new(&mut reply, c.resp3));
        }
        replies.push(reply);
    }
    // The commands' keyspace events are published by this (the coordinating) shard.
    let events = std::mem::take(&mut scratch.events);
    if !events.is_empty() {
        h.post(h.shard_id, false, move |st: &mut ShardState| st.store.events.extend(events));
    }
    let dirty = scratch.dirty;
    // SORT leaves its sorted set a skiplist even when nothing is written back, as in Redis.
    let src = patterned.map(|(_, c)| c.db).zip(first_key.as_ref()).filter(|_| dirty == 0);
    if let Some((db, src)) = src.filter(|(db, k)| {
        scratch.dbs.get(*db).and_then(|d| d.peek(k)).is_some_and(|e| sort::source_converted(&e.value))
    }) {
        let k = Carried::pack(|| src.clone());
        h.call(owner_shard(key_slot(src), nshards), Some(tx), move |st: &mut ShardState| {
            sort::convert_source(&mut st.store, db, &k.unpack())
        })
        .await;
    }
    // Unless replies wait for fsyncs, each shard is released by the call that writes its
    // keys back: every shard stays frozen until its own keys hold the new states, so no
    // command can see one shard's new state and another's old one. In `appendfsync always`
    // the shards are released only once every part is durable (`txn::seal_aof_parts`).
    let logged = crate::persist::aof::info::ENABLED.load(std::sync::atomic::Ordering::Relaxed);
    let release_with_write = !(logged && cfg.appendfsync == crate::config::AppendFsync::Always);
    let mut released = false;
    if dirty > 0 {
        for (dbi, d) in scratch.dbs.iter().enumerate() {
            dbs_touched[dbi] |= !d.is_empty();
        }
        let dbs: Vec<usize> = (0..databases).filter(|&d| dbs_touched[d]).collect();
        // Every shard holding one of the keys gets their states back and logs a part; with
        // two or more, each part ends with the commit record (`persist::aof::txlog`).
        let mut writers = ShardSet::default();
        for &(s, _) in &owned {
            writers.insert(s);
        }
        let commit =
            (logged && !nested && writers.len() >= 2).then(|| (crate::persist::aof::txlog::next_commit(), writers));
        let writes: Vec<_> = shards
            .iter()
            .map(|&s| {
                let ks = by_shard(s);
                let state: Carried<WriteBack> = Carried::pack(|| {
                    dbs.iter()
                        .flat_map(|&dbi| ks.iter().map(move |k| (dbi, k.clone())))
                        .map(|(dbi, k)| {
                            let e = scratch.dbs[dbi].peek(&k).cloned();
                            (dbi, k, e)
                        })
                        .collect()
                });
                h.call(s, Some(tx), move |st: &mut ShardState| {
                    // Keys the fetch found expired are logged before the new states.
                    st.log_expired_to_aof();
                    for (dbi, k, e) in state.unpack() {
                        if !st.watches.is_empty() {
                            st.touch_watched(dbi, &k);
                        }
                        if e.is_some() {
                            st.blocking.signal(dbi, &k);
                        }
                        match e {
                            Some(e) => {
                                if let Some(aof) = st.aof.as_deref_mut() {
                                    crate::persist::aof::log_key_state(aof, dbi, &k, Some(&e), &st.cfg);
                                }
                                st.store.dbs[dbi].insert(&k, e);
                            }
                            None => {
                                if st.store.dbs[dbi].remove(&k).is_some() {
                                    st.aof_log(dbi, &[b"DEL", &k]);
                                }
                            }
                        }
                    }
                    st.store.dirty += dirty;
                    // Sealed with the write: in `appendfsync always` this answer waits for
                    // the fsync that covers the part (`ShardState::seal_tx_part`), so the
                    // release below follows every part's fsync (`txn::seal_aof_parts` has
                    // the reasons).
                    if let Some((n, w)) = commit.filter(|(_, w)| w.contains(s)) {
                        st.seal_tx_part(tx, Some((n, &w.list())));
                    }
                    if release_with_write {
                        st.release(tx);
                    }
                })
            })
            .collect();
        futures::future::join_all(writes).await;
        released = release_with_write;
    }
    if !released {
        let releases = shards.iter().map(|&s| h.call(s, Some(tx), move |st: &mut ShardState| st.release(tx)));
        futures::future::join_all(releases).await;
    }
    replies
}
