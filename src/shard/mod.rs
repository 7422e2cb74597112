//! Shards: one thread, one io_uring loop, one keyspace each. This module holds the state a
//! shard owns (`ShardState`), the node-wide facts every shard reads (`NodeInfo`, immutable or
//! atomic counters only), startup (`runtime`), the mesh, routing and coordination.

pub mod batch;
pub mod blocking;
pub mod coord;
pub mod exec;
pub mod handle;
pub mod mesh;
pub mod notify;
pub mod pubsub;
pub mod runtime;
pub mod txn;

use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::Arc;
use std::time::Instant;

use crate::cluster::view::ClusterView;
use crate::config::Config;
use crate::net::client::Client;
use crate::store::Store;
use handle::Handle;

/// Facts about the node shared read-only by all shards, plus a few counters that are only
/// touched off the request path (accept, close, shutdown).
pub struct NodeInfo {
    pub run_id: String,
    pub started: Instant,
    pub started_unix_s: u64,
    pub nshards: usize,
    pub tcp_port: u16,
    pub pid: u32,
    pub executable: String,
    pub config_file: String,
    pub connected_clients: AtomicUsize,
    pub total_connections_received: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub next_client_id: AtomicU64,
    pub shutdown: AtomicBool,
    /// Published by each shard once per tick: its own `used_memory` share.
    pub shard_used_bytes: Vec<std::sync::atomic::AtomicI64>,
}

/// A WATCH of a key: the client id, and whether the key was live when watched.
pub type Watcher = (u64, bool);

/// Per-shard counters for INFO stats.
#[derive(Default, Clone, Debug)]
pub struct ShardStats {
    pub total_commands_processed: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    pub forwarded_commands: u64,
    pub cross_shard_txs: u64,
    pub rejected_calls: u64,
    /// Keys removed by `maxmemory` eviction (INFO `evicted_keys`).
    pub evicted_keys: u64,
}

pub struct ShardState {
    pub id: usize,
    pub nshards: usize,
    pub node: Arc<NodeInfo>,
    pub store: Store,
    pub cfg: Config,
    pub stats: ShardStats,
    pub handle: Rc<Handle>,
    pub rng: rand::rngs::SmallRng,
    pub cluster: Arc<ClusterView>,
    /// Clients whose connections this shard holds, indexed like the connections.
    pub clients: slab::Slab<Client>,
    /// The cross-shard transaction holding this shard frozen, if any, and how many nested
    /// steps of it hold the freeze (EXEC running FLUSHALL holds it twice).
    pub frozen_by: Option<u64>,
    pub freeze_depth: u32,
    /// Set by the step of a transaction that seals this shard's AOF part or releases it
    /// (`seal_tx_part`, `release`): in `appendfsync always` that step's answer waits for the
    /// fsync covering everything logged before it. A transaction's other steps answer at once
    /// (the shard is frozen, so nothing else is acknowledged meanwhile), so a transaction
    /// waits for one fsync per shard instead of one per step.
    pub tx_step_durable: bool,
    /// WATCHed keys of this shard: (db, key) -> (client id, whether the key was live then).
    pub watches: std::collections::HashMap<(usize, Vec<u8>), Vec<Watcher>>,
    /// Clients whose watched keys on this shard were modified since they watched them.
    pub watch_dirty: std::collections::HashSet<u64>,
    /// Subscriptions of this shard's clients, and messages waiting to be written to them.
    pub pubsub: pubsub::PubSub,
    /// Active expiry on/off (DEBUG SET-ACTIVE-EXPIRE).
    pub active_expire: bool,
    /// Client ids to disconnect (CLIENT KILL), picked up by the network loop.
    pub kill_requests: Vec<u64>,
    /// Clients waiting on this shard's keys (BLPOP...), by key in blocking order.
    pub blocking: blocking::Blocking,
    /// The node's authoritative cluster state: only on shard 0, only in cluster mode.
    pub cluster_state: Option<Box<crate::cluster::bus::Bus>>,
    /// Cluster bus actions produced outside the network loop's own bus calls (PUBLISH relay),
    /// carried out by the loop after the current iteration. Shard 0 only.
    pub bus_actions: Vec<crate::cluster::bus::Action>,
    /// This shard's append-only file when `appendonly` is on.
    pub aof: Option<Box<crate::persist::aof::ShardAof>>,
    /// Eviction candidates kept between rounds (`maxmemory` LRU/LFU policies).
    pub evict_pool: crate::store::evict::Pool,
    /// The snapshot job running on this shard (BGSAVE), advanced once per loop iteration.
    pub snapshot_job: Option<Box<crate::persist::snapshot::job::Job>>,
    /// This shard's own mesh entry, for a thread that must wake its loop (the snapshot job's
    /// pacer); None where no loop runs (unit tests).
    pub wake: Option<mesh::Peer>,
}

impl ShardState {
    /// Freezes this shard for transaction `tx` (or nests inside its existing freeze).
    pub fn freeze(&mut self, tx: u64) {
        assert!(
            self.frozen_by.is_none() || self.frozen_by == Some(tx),
            "a shard is frozen by one transaction at a time"
        );
        self.frozen_by = Some(tx);
        self.freeze_depth += 1;
        if self.freeze_depth == 1 {
            if let Some(a) = self.aof.as_deref_mut() {
                a.open_tx(tx);
            }
        }
    }
    /// Releases one hold of `tx` on this shard.
    pub fn release(&mut self, tx: u64) {
        assert_eq!(self.frozen_by, Some(tx), "released by a transaction that does not hold it");
        self.freeze_depth -= 1;
        if self.freeze_depth == 0 {
            self.frozen_by = None;
            // A part the coordinator did not seal (it was the only writer) ends here.
            self.seal_tx_part(tx, None);
        }
    }
    /// Ends this shard's AOF part of transaction `tx` (`ShardAof::seal_tx`); the answer of the
    /// step doing it waits for the fsync that covers it (`tx_step_durable`).
    pub fn seal_tx_part(&mut self, tx: u64, commit: Option<(u64, &[usize])>) {
        self.tx_step_durable = true;
        if let Some(a) = self.aof.as_deref_mut() {
            a.seal_tx(tx, commit);
        }
    }
    /// Marks clients watching `key` in `db` as dirty (their EXEC will fail).
    pub fn touch_watched(&mut self, db: usize, key: &[u8]) {
        if let Some(ws) = self.watches.get(&(db, key.to_vec())) {
            for &(id, _) in ws {
                self.watch_dirty.insert(id);
            }
        }
    }
    /// Before FLUSHDB/FLUSHALL (`also` None) or SWAPDB (`also` the other db): marks the clients
    /// watching a key of `db` (or of any db) that exists there, or in `also`, as dirty (Redis's
    /// `touchAllWatchedKeysInDb`). Watchers of absent keys keep their transaction.
    pub fn touch_all_watched(&mut self, db: Option<usize>, also: Option<usize>) {
        let now = unix_ms();
        let mut dirty = Vec::new();
        for ((d, key), ws) in self.watches.iter() {
            if db.is_some_and(|x| x != *d) {
                continue;
            }
            let exists = |i: usize| self.store.dbs.get(i).and_then(|t| t.peek(key)).is_some_and(|e| !e.is_expired(now));
            if exists(*d) || also.is_some_and(exists) {
                dirty.extend(ws.iter().map(|w| w.0));
            }
        }
        self.watch_dirty.extend(dirty);
    }
    /// Keeps the node under `maxmemory` by evicting this shard's keys as the policy says while
    /// this shard holds more than its share (`maxmemory / shards`, ARCHITECTURE §3); each
    /// evicted key raises `evicted`, is logged as DEL in the AOF and breaks its WATCHes.
    /// Returns false when memory is still over (writes that may grow memory are then refused
    /// with -OOM).
    ///
    /// A shard over its share evicts only while the node as a whole is over `maxmemory`. Each
    /// thread counts what it allocates and frees, so the sum over threads is exact but one
    /// shard's count is not quite: memory built on one shard and freed on another moves bytes
    /// between the two counts unless it travels in a `memory::Carried` or is a mesh message
    /// (`mesh::Peer::send`), and not every path does. With the share alone, that difference
    /// grew until one shard evicted all its keys and answered -OOM with the node far under
    /// its limit. Since the counts add up to more than `maxmemory` only when some shard is
    /// over its share, some shard always evicts when the node is over. The other shards'
    /// counts are as they last published them (every loop iteration while `maxmemory` is set).
    pub fn enforce_maxmemory(&mut self) -> bool {
        let limit = self.cfg.maxmemory_bytes;
        if limit == 0 {
            return true;
        }
        let share = limit / self.nshards.max(1) as u64;
        let used = crate::store::memory::thread_used_bytes;
        if used() <= share as i64 {
            return true;
        }
        let others: i64 = self
            .node
            .shard_used_bytes
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != self.id)
            .map(|(_, a)| a.load(std::sync::atomic::Ordering::Relaxed))
            .sum();
        let node_room = (limit as i64).saturating_sub(others);
        if used() <= node_room {
            return true;
        }
        let keep = node_room.max(share as i64).max(0) as u64;
        let now = self.now_ms();
        let (gone, over) = crate::store::evict::evict(
            &mut self.store,
            &self.cfg,
            &mut self.evict_pool,
            &mut self.rng,
            now,
            keep,
            used,
        );
        let notify =
            crate::store::events::wanted(self.cfg.notify_keyspace_events, crate::store::events::class::EVICTED);
        for (db, key) in gone {
            self.stats.evicted_keys += 1;
            self.aof_log(db, &[b"DEL", &key]);
            if !self.watches.is_empty() {
                self.touch_watched(db, &key);
            }
            if notify {
                let class = crate::store::events::class::EVICTED;
                self.store.events.push(crate::store::events::KeyEvent { class, event: "evicted", db: db as u32, key });
            }
        }
        !over
    }

    /// Appends a command to this shard's AOF, if there is one. Keys that expired before it
    /// are logged first, so a load replays the deletions in the order they happened.
    pub fn aof_log(&mut self, db: usize, args: &[&[u8]]) {
        if self.aof.is_some() {
            self.log_expired_to_aof();
        }
        if let Some(a) = self.aof.as_deref_mut() {
            a.feed(db, args);
        }
    }

    /// Logs the keys removed by expiry (lazily by a lookup, or by the active cycle) since the
    /// last call as `DEL` in the AOF, or `UNLINK` under `lazyfree-lazy-expire`, as Redis
    /// propagates them; without this a load would bring back keys that already expired
    /// whenever their TTL was logged as a relative time or cleared later. Called after every
    /// data command, before its own entry (`exec::run_tracked`), before any other entry
    /// (`aof_log`) and once per loop iteration; also follows `appendonly` changes. Cheap
    /// when nothing expired.
    pub fn log_expired_to_aof(&mut self) {
        let on = self.aof.as_deref().is_some_and(|a| !a.closing);
        self.store.sync_aof(on);
        if !on {
            return;
        }
        let dels = self.store.take_expired_dels();
        if dels.is_empty() {
            return;
        }
        let cmd: &[u8] = if self.cfg.lazyfree_lazy_expire { b"UNLINK" } else { b"DEL" };
        if let Some(a) = self.aof.as_deref_mut() {
            for (db, key) in &dels {
                a.feed(*db, &[cmd, key]);
            }
        }
    }

    /// Wall-clock now in unix ms, as Redis's `mstime()`.
    pub fn now_ms(&self) -> u64 {
        unix_ms()
    }
    /// Data context for running a command on this shard's own store.
    pub fn data_ctx(&mut self, dbi: usize) -> crate::command::spec::DataCtx<'_> {
        crate::command::spec::DataCtx {
            store: &mut self.store,
            dbi,
            now_ms: unix_ms(),
            cfg: &self.cfg,
            rng: &mut self.rng,
        }
    }
    /// Answers a deferred call (`Handle::call_deferred`) made by shard `r.origin`.
    pub fn respond<R: Send + 'static>(&self, r: mesh::Responder, value: R) {
        self.handle.send(r.origin, mesh::MeshMsg::Reply { token: r.token, value: Box::new(value), wait_fsync: true });
    }
    pub fn owns_slot(&self, slot: u16) -> bool {
        crate::cluster::slot::owner_shard(slot, self.nshards) == self.id
    }
}

pub fn unix_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

pub fn unix_us() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}
