//! Blocked clients (BLPOP and the other blocking pops).
//!
//! Two sides, possibly on two shards:
//! - **Owner side** (`Blocking`, on the shard owning the keys): the waiters of each key in the
//!   order they blocked. When a command writes a key somebody waits on, the key is marked
//!   ready; after the loop iteration (never while the shard is frozen by a cross-shard
//!   transaction) the waiters of ready keys are served first-come first-served by running
//!   their own command again, until one finds nothing. Serving, timing out and unblocking all
//!   happen here, so a waiter is answered exactly once and no element can be both handed to a
//!   client and reported as timed out.
//! - **Home side** (`Home`, on the shard holding the client's connection, kept in the
//!   `Handle` so the waiting future can reach it): the deadline of each blocked client. At the
//!   deadline (or on CLIENT UNBLOCK, or when the connection goes) the home asks the owner to
//!   cancel; the owner answers with the timeout reply unless it served the client first.
//!
//! When a command's keys span shards (standalone mode only: BLMOVE with source and
//! destination on different shards, BLPOP over keys of several shards), the client waits on
//! every involved shard for a *wake* instead; the first wake cancels the others and the home
//! retries the command atomically through the coordinator, waiting again if another client
//! took the element first. Such waiters are served in blocking order per shard, but a retry
//! can lose a race against a newer client's command, so FIFO is exact only within one shard.

use std::collections::{BTreeSet, HashMap, VecDeque};

use futures::future::LocalBoxFuture;
use futures::FutureExt;
use smallvec::SmallVec;

use crate::command::family::blocking as cmds;
use crate::command::spec::CommandSpec;
use crate::resp::Out;

use super::mesh::Responder;
use super::ShardState;
use crate::store::memory::{self, Carried};

/// What the owner answers a waiter with.
#[derive(Debug)]
pub enum Answer {
    /// The command ran and produced this reply.
    Served(Vec<u8>),
    /// A key of a multi-shard waiter was written: retry through the coordinator.
    Wake,
    /// Cancelled before being served; the reply to send (timeout reply or UNBLOCKED error),
    /// or None when the waiter only watched for a wake.
    Cancelled(Option<Vec<u8>>),
}

/// Why a waiter is cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cancel {
    Timeout,
    /// CLIENT UNBLOCK ... ERROR.
    Error,
    /// The connection closed.
    Gone,
}

struct Waiter {
    client_id: u64,
    db: usize,
    /// The keys of this shard the waiter waits on.
    keys: Vec<Vec<u8>>,
    args: Vec<Vec<u8>>,
    spec: &'static CommandSpec,
    resp3: bool,
    responder: Responder,
    /// Waits for a wake only (its command spans shards).
    wake_only: bool,
}

/// The owner side: waiters by key, in blocking order.
#[derive(Default)]
pub struct Blocking {
    waiters: slab::Slab<Waiter>,
    by_key: HashMap<(usize, Vec<u8>), VecDeque<usize>>,
    by_client: HashMap<u64, usize>,
    ready: Vec<(usize, Vec<u8>)>,
}

impl Blocking {
    pub fn is_empty(&self) -> bool {
        self.waiters.is_empty()
    }
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }
    /// Marks `key` ready if somebody waits on it (Redis's `signalKeyAsReady`).
    #[inline]
    pub fn signal(&mut self, db: usize, key: &[u8]) {
        if self.waiters.is_empty() {
            return;
        }
        let k = (db, key.to_vec());
        if self.by_key.contains_key(&k) && !self.ready.contains(&k) {
            self.ready.push(k);
        }
    }
    fn insert(&mut self, w: Waiter) {
        let (db, keys, client) = (w.db, w.keys.clone(), w.client_id);
        let id = self.waiters.insert(w);
        for k in keys {
            self.by_key.entry((db, k)).or_default().push_back(id);
        }
        self.by_client.insert(client, id);
    }
    fn remove(&mut self, id: usize) -> Option<Waiter> {
        let w = self.waiters.try_remove(id)?;
        for k in &w.keys {
            let key = (w.db, k.clone());
            if let Some(q) = self.by_key.get_mut(&key) {
                q.retain(|&x| x != id);
                if q.is_empty() {
                    self.by_key.remove(&key);
                }
            }
        }
        if self.by_client.get(&w.client_id) == Some(&id) {
            self.by_client.remove(&w.client_id);
        }
        Some(w)
    }
}

/// The home side: blocked clients of this shard's connections and their deadlines.
#[derive(Default)]
pub struct Home {
    /// client id -> (owner shards, deadline in unix ms or 0 for none).
    clients: HashMap<u64, (SmallVec<[usize; 2]>, u64)>,
    /// Cancels asked for while a multi-shard waiter was between registrations: its next round
    /// reads this instead of registering (the owners may not have seen it yet).
    cancelled: HashMap<u64, Cancel>,
    deadlines: BTreeSet<(u64, u64)>,
}

impl Home {
    pub fn len(&self) -> usize {
        self.clients.len()
    }
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }
    /// Blocked clients with a timeout (INFO `clients_in_timeout_table`).
    pub fn with_deadline(&self) -> usize {
        self.deadlines.len()
    }
    pub fn contains(&self, client_id: u64) -> bool {
        self.clients.contains_key(&client_id)
    }
    fn add(&mut self, client_id: u64, owners: SmallVec<[usize; 2]>, deadline_ms: u64) {
        if deadline_ms != 0 {
            self.deadlines.insert((deadline_ms, client_id));
        }
        self.clients.insert(client_id, (owners, deadline_ms));
    }
    fn done(&mut self, client_id: u64) {
        if let Some((_, d)) = self.clients.remove(&client_id) {
            self.deadlines.remove(&(d, client_id));
        }
        self.cancelled.remove(&client_id);
    }
    fn cancel(&mut self, client_id: u64, why: Cancel) {
        if self.clients.contains_key(&client_id) {
            self.cancelled.entry(client_id).or_insert(why);
        }
    }
    fn take_cancel(&mut self, client_id: u64) -> Option<Cancel> {
        self.cancelled.remove(&client_id)
    }
    /// The earliest deadline, for the loop's timer.
    pub fn next_deadline_ms(&self) -> Option<u64> {
        self.deadlines.first().map(|&(d, _)| d)
    }
    /// Takes the clients whose deadline has passed, with their owner shards.
    fn take_expired(&mut self, now_ms: u64) -> Vec<(u64, SmallVec<[usize; 2]>)> {
        let mut out = Vec::new();
        while let Some(&(d, id)) = self.deadlines.first() {
            if d > now_ms {
                break;
            }
            self.deadlines.remove(&(d, id));
            if let Some((owners, _)) = self.clients.get(&id) {
                out.push((id, owners.clone()));
            }
        }
        out
    }
    fn owners_of(&self, client_id: u64) -> Option<SmallVec<[usize; 2]>> {
        self.clients.get(&client_id).map(|(o, _)| o.clone())
    }
}

/// Runs a blocking command once on this shard: its reply, or empty when it found nothing.
fn attempt(st: &mut ShardState, spec: &'static CommandSpec, db: usize, args: &[Vec<u8>], resp3: bool) -> Vec<u8> {
    let argv: SmallVec<[&[u8]; 8]> = args.iter().map(|a| a.as_slice()).collect();
    let mut buf = Vec::new();
    if let crate::command::spec::Exec::Data(f) = spec.exec {
        super::exec::run_tracked(st, spec, f, db, &argv, &mut Out::new(&mut buf, resp3));
    }
    if super::exec::is_would_block_reply(spec, resp3, &buf) {
        buf.clear();
    }
    buf
}

/// A blocked command, as the home sends it to an owner.
#[derive(Clone)]
pub struct Request {
    pub client_id: u64,
    pub db: usize,
    pub args: Vec<Vec<u8>>,
    pub spec: &'static CommandSpec,
    pub resp3: bool,
}

/// Sends a blocked client's answer to its home shard, with the memory count of the reply it
/// holds (`memory::Carried`): the home shard frees it.
fn answer(st: &ShardState, responder: Responder, a: Answer) {
    let n = match &a {
        Answer::Served(b) | Answer::Cancelled(Some(b)) => memory::vec_bytes(b),
        Answer::Wake | Answer::Cancelled(None) => 0,
    };
    st.respond(responder, Carried::new(a, n));
}

impl Request {
    /// The request on its way to an owner shard, which keeps it while the client waits.
    fn carried(self) -> Carried<Request> {
        let n = memory::strings_bytes(&self.args);
        Carried::new(self, n)
    }
}

/// Owner side of a single-shard blocking command: serve it now, or park it.
fn serve_or_park(st: &mut ShardState, req: Request, responder: Responder) {
    let reply = attempt(st, req.spec, req.db, &req.args, req.resp3);
    if !reply.is_empty() {
        answer(st, responder, Answer::Served(reply));
        return;
    }
    let keys = key_args(req.spec, &req.args);
    let args = if is_stream_read(req.spec) {
        // `$` means "after the last entry when the client blocked": pin it now.
        let argv: SmallVec<[&[u8]; 8]> = req.args.iter().map(|a| a.as_slice()).collect();
        crate::command::family::stream::rewrite_dollar_ids(&mut st.data_ctx(req.db), &argv)
    } else {
        req.args
    };
    st.blocking.insert(Waiter {
        client_id: req.client_id,
        db: req.db,
        keys,
        args,
        spec: req.spec,
        resp3: req.resp3,
        responder,
        wake_only: false,
    });
}

/// Owner side of a multi-shard waiter: wake at once if one of its keys here holds something
/// of the right type, else park for a wake.
fn park_for_wake(st: &mut ShardState, req: Request, keys: Vec<Vec<u8>>, responder: Responder) {
    let now = st.now_ms();
    let ready = keys.iter().any(|k| key_has_data(st, req.spec, req.db, k, now));
    if ready {
        answer(st, responder, Answer::Wake);
        return;
    }
    st.blocking.insert(Waiter {
        client_id: req.client_id,
        db: req.db,
        keys,
        args: req.args,
        spec: req.spec,
        resp3: req.resp3,
        responder,
        wake_only: true,
    });
}

fn key_args(spec: &CommandSpec, args: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let argv: SmallVec<[&[u8]; 8]> = args.iter().map(|a| a.as_slice()).collect();
    let mut idx: SmallVec<[usize; 8]> = SmallVec::new();
    spec.key_indexes_of(&argv, &mut idx);
    let mut keys: Vec<Vec<u8>> = Vec::with_capacity(idx.len());
    for i in idx {
        // BLMOVE's destination is a key but nobody waits on it.
        if matches!(spec.name, "blmove" | "brpoplpush") && i == 2 {
            continue;
        }
        if !keys.iter().any(|k| k.as_slice() == argv[i]) {
            keys.push(argv[i].to_vec());
        }
    }
    keys
}

/// Whether `key` holds a value the waiter's command can take.
fn key_has_data(st: &mut ShardState, spec: &CommandSpec, db: usize, key: &[u8], now_ms: u64) -> bool {
    let Some(e) = st.store.dbs.get_mut(db).and_then(|d| d.get(key, now_ms)) else {
        return false;
    };
    if is_stream_read(spec) {
        matches!(e.value, crate::store::Value::Stream(_))
    } else if cmds::waits_for_zset(spec.name) {
        matches!(e.value, crate::store::Value::ZSet(_))
    } else {
        matches!(e.value, crate::store::Value::List(_))
    }
}

/// Serves the waiters of ready keys, in blocking order per key. Runs after each loop
/// iteration on the owner shard, never while it is frozen.
pub fn serve_ready(st: &mut ShardState) {
    let mut rounds = 0;
    while let Some((db, key)) = st.blocking.ready.pop() {
        rounds += 1;
        if rounds > 100_000 {
            // A pathological chain of moves between waited keys: finish next iteration.
            st.blocking.ready.push((db, key));
            break;
        }
        let queue: Vec<usize> = match st.blocking.by_key.get(&(db, key.clone())) {
            Some(q) => q.iter().copied().collect(),
            None => continue,
        };
        for id in queue {
            let now = st.now_ms();
            let Some((spec, wake_only)) = st.blocking.waiters.get(id).map(|w| (w.spec, w.wake_only)) else {
                continue;
            };
            if !key_has_data(st, spec, db, &key, now) {
                // Nothing (left) of the right type: the remaining waiters keep waiting.
                break;
            }
            if wake_only {
                if let Some(w) = st.blocking.remove(id) {
                    answer(st, w.responder, Answer::Wake);
                }
                // The woken client retries through the coordinator; the next waiters wait
                // for its outcome (its write marks the key ready again if anything is left).
                break;
            }
            let (args, resp3) = match st.blocking.waiters.get(id) {
                Some(w) => (w.args.clone(), w.resp3),
                None => continue,
            };
            let reply = attempt(st, spec, db, &args, resp3);
            if !reply.is_empty() {
                if let Some(w) = st.blocking.remove(id) {
                    answer(st, w.responder, Answer::Served(reply));
                }
            }
        }
    }
}

/// Owner side of a cancel: answers the waiter of `client_id` if it still waits here.
fn cancel_here(st: &mut ShardState, client_id: u64, why: Cancel) {
    let Some(&id) = st.blocking.by_client.get(&client_id) else { return };
    let Some(w) = st.blocking.remove(id) else { return };
    let mut buf = Vec::new();
    let mut out = Out::new(&mut buf, w.resp3);
    let reply = match why {
        Cancel::Error => {
            out.error(UNBLOCKED);
            Some(buf)
        }
        // A wake-only waiter's home writes the timeout reply itself, after a last attempt.
        _ if w.wake_only => None,
        Cancel::Timeout | Cancel::Gone => {
            out.null_array();
            Some(buf)
        }
    };
    answer(st, w.responder, Answer::Cancelled(reply));
}

/// Home side: asks the owners of a blocked client to cancel it.
fn send_cancel(st: &ShardState, client_id: u64, owners: &[usize], why: Cancel) {
    for &o in owners {
        st.handle.post(o, true, move |s: &mut ShardState| cancel_here(s, client_id, why));
    }
}

/// Home side, from the loop: cancels the clients whose timeout passed.
pub fn expire_home(st: &mut ShardState, now_ms: u64) {
    let expired = st.handle.blocked.borrow_mut().take_expired(now_ms);
    for (id, owners) in expired {
        st.handle.blocked.borrow_mut().cancel(id, Cancel::Timeout);
        send_cancel(st, id, &owners, Cancel::Timeout);
    }
}

/// Home side: CLIENT UNBLOCK of a client of this shard. True when it was blocked.
pub fn unblock_here(st: &mut ShardState, client_id: u64, error: bool) -> bool {
    let owners = st.handle.blocked.borrow().owners_of(client_id);
    match owners {
        Some(owners) => {
            let why = if error { Cancel::Error } else { Cancel::Timeout };
            st.handle.blocked.borrow_mut().cancel(client_id, why);
            send_cancel(st, client_id, &owners, why);
            true
        }
        None => false,
    }
}

/// Home side: the connection of a blocked client closed.
pub fn forget_client(st: &mut ShardState, client_id: u64) {
    let owners = st.handle.blocked.borrow().owners_of(client_id);
    if let Some(owners) = owners {
        st.handle.blocked.borrow_mut().cancel(client_id, Cancel::Gone);
        send_cancel(st, client_id, &owners, Cancel::Gone);
    }
}

/// Starts a blocking command for client `ci` whose keys live on `owners` (one shard, or
/// several in standalone mode). The future resolves to the reply.
pub fn start(
    st: &mut ShardState,
    ci: usize,
    spec: &'static CommandSpec,
    args: &[&[u8]],
    owners: SmallVec<[usize; 2]>,
) -> LocalBoxFuture<'static, Vec<u8>> {
    let (client_id, db, resp3) = {
        let c = &st.clients[ci];
        (c.id, c.db, c.resp3)
    };
    let now = st.now_ms();
    let timeout_ms = if is_stream_read(spec) {
        stream_block_ms(args)
    } else {
        cmds::timeout_arg(spec.name, args).and_then(|t| cmds::parse_timeout_ms(t).ok()).unwrap_or(0)
    };
    let deadline_ms = if timeout_ms == 0 { 0 } else { now.saturating_add(timeout_ms) };
    let req = Request { client_id, db, args: args.iter().map(|a| a.to_vec()).collect(), spec, resp3 };
    let h = st.handle.clone();
    h.blocked.borrow_mut().add(client_id, owners.clone(), deadline_ms);
    if owners.len() == 1 {
        let owner = owners[0];
        let req = req.carried();
        let fut = h.call_deferred(owner, move |s: &mut ShardState, r| serve_or_park(s, req.unpack(), r));
        return async move {
            let answer: Answer = Carried::unpack(fut.await);
            h.blocked.borrow_mut().done(client_id);
            match answer {
                Answer::Served(b) | Answer::Cancelled(Some(b)) => b,
                Answer::Wake | Answer::Cancelled(None) => timeout_bytes(spec, resp3),
            }
        }
        .boxed_local();
    }
    let cfg = st.cfg.clone();
    let (databases, nshards) = (st.store.dbs.len(), st.nshards);
    async move {
        let reply = wait_multi(&h, req, owners, cfg, databases, nshards, deadline_ms).await;
        h.blocked.borrow_mut().done(client_id);
        reply
    }
    .boxed_local()
}

fn unblocked_error(resp3: bool) -> Vec<u8> {
    let mut buf = Vec::new();
    Out::new(&mut buf, resp3).error(UNBLOCKED);
    buf
}

const UNBLOCKED: &str = "UNBLOCKED client unblocked via CLIENT UNBLOCK";

/// What a blocked client gets when its timeout passes (or CLIENT UNBLOCK ... TIMEOUT): a null
/// array for every blocking command, BLMOVE and BRPOPLPUSH included, as Redis's
/// `replyToBlockedClientTimedOut` answers. (A client that may not block at all gets the
/// command's own empty reply instead, `write_timeout_reply`.)
fn timeout_bytes(_spec: &CommandSpec, resp3: bool) -> Vec<u8> {
    let mut buf = Vec::new();
    Out::new(&mut buf, resp3).null_array();
    buf
}

/// The multi-shard wait: park for a wake on every owner, cancel the rest at the first wake,
/// retry atomically, and wait again when the retry finds nothing.
async fn wait_multi(
    h: &std::rc::Rc<super::handle::Handle>,
    req: Request,
    owners: SmallVec<[usize; 2]>,
    cfg: crate::config::Config,
    databases: usize,
    nshards: usize,
    deadline_ms: u64,
) -> Vec<u8> {
    let all_keys = key_args(req.spec, &req.args);
    let mut req = req;
    if is_stream_read(req.spec) && req.args.iter().any(|a| a.as_slice() == b"$") {
        req.args = pin_dollar_ids(h, &req, &owners, nshards).await;
    }
    loop {
        // Try first (this also reports argument errors); wait only when it found nothing.
        let reply = super::coord::run_multi_shard(
            h.clone(),
            req.spec,
            req.args.clone(),
            req.db,
            req.resp3,
            owners.iter().copied().collect(),
            Some(cfg.clone()),
            databases,
            nshards,
        )
        .await;
        if !super::exec::is_would_block_reply(req.spec, req.resp3, &reply) {
            return reply;
        }
        if deadline_ms != 0 && super::unix_ms() >= deadline_ms {
            return timeout_bytes(req.spec, req.resp3);
        }
        // A cancel that came while nothing was registered: the owners never saw it.
        let cancelled = h.blocked.borrow_mut().take_cancel(req.client_id);
        match cancelled {
            Some(Cancel::Error) => return unblocked_error(req.resp3),
            Some(_) => return timeout_bytes(req.spec, req.resp3),
            None => {}
        }
        let futs: Vec<_> = owners
            .iter()
            .map(|&o| {
                let keys: Vec<Vec<u8>> = all_keys
                    .iter()
                    .filter(|k| crate::cluster::slot::owner_shard(crate::cluster::slot::key_slot(k), nshards) == o)
                    .cloned()
                    .collect();
                let keys_n = memory::strings_bytes(&keys);
                let (req, keys) = (req.clone().carried(), Carried::new(keys, keys_n));
                h.call_deferred(o, move |s: &mut ShardState, r| park_for_wake(s, req.unpack(), keys.unpack(), r))
                    .map(Carried::unpack)
                    .boxed_local()
            })
            .collect();
        let (first, _, rest): (Answer, _, _) = futures::future::select_all(futs).await;
        let mut woken = matches!(first, Answer::Wake);
        let error = match first {
            Answer::Cancelled(Some(b)) => Some(b),
            _ => None,
        };
        // Withdraw the other registrations; each answers exactly once either way.
        for &o in &owners {
            let id = req.client_id;
            h.post(o, true, move |s: &mut ShardState| cancel_here(s, id, Cancel::Gone));
        }
        for a in futures::future::join_all(rest).await {
            woken |= matches!(a, Answer::Wake);
        }
        if let Some(e) = error {
            return e;
        }
        // The cancel that ended this round has been answered; forget it.
        let cancelled = h.blocked.borrow_mut().take_cancel(req.client_id);
        if cancelled == Some(Cancel::Error) {
            return unblocked_error(req.resp3);
        }
        if !woken && (deadline_ms == 0 || super::unix_ms() < deadline_ms) {
            // Cancelled without a wake and before the deadline: CLIENT UNBLOCK ... TIMEOUT, or
            // the client left.
            return timeout_bytes(req.spec, req.resp3);
        }
    }
}

/// XREAD and XREADGROUP wait only when given BLOCK.
fn is_stream_read(spec: &CommandSpec) -> bool {
    matches!(spec.name, "xread" | "xreadgroup")
}

/// The BLOCK milliseconds of an XREAD/XREADGROUP call (0: forever). The command itself has
/// already rejected a bad value.
fn stream_block_ms(args: &[&[u8]]) -> u64 {
    let mut i = 1;
    while i + 1 < args.len() {
        if args[i].eq_ignore_ascii_case(b"streams") {
            break;
        }
        if args[i].eq_ignore_ascii_case(b"block") {
            return crate::resp::parse::parse_i64_strict(args[i + 1]).map_or(0, |n| n.max(0) as u64);
        }
        i += 1;
    }
    0
}

/// Pins every `$` of a multi-shard XREAD to its stream's last ID, asking each owner shard
/// about its own streams (an ID follows its key `nstreams` arguments later).
async fn pin_dollar_ids(
    h: &std::rc::Rc<super::handle::Handle>,
    req: &Request,
    owners: &[usize],
    nshards: usize,
) -> Vec<Vec<u8>> {
    let argv: SmallVec<[&[u8]; 8]> = req.args.iter().map(|a| a.as_slice()).collect();
    let mut idx: SmallVec<[usize; 8]> = SmallVec::new();
    req.spec.key_indexes_of(&argv, &mut idx);
    let nkeys = idx.len();
    let mut out = req.args.clone();
    for &o in owners {
        let (args, db) = (req.args.clone(), req.db);
        let pinned: Vec<Vec<u8>> = h
            .call(o, None, move |st: &mut ShardState| {
                let argv: SmallVec<[&[u8]; 8]> = args.iter().map(|a| a.as_slice()).collect();
                crate::command::family::stream::rewrite_dollar_ids(&mut st.data_ctx(db), &argv)
            })
            .await;
        for &ki in &idx {
            let mine = crate::cluster::slot::owner_shard(crate::cluster::slot::key_slot(&req.args[ki]), nshards) == o;
            if let (true, Some(p)) = (mine, pinned.get(ki + nkeys)) {
                if let Some(slot) = out.get_mut(ki + nkeys) {
                    *slot = p.clone();
                }
            }
        }
    }
    out
}
